//! Examples of embedding graphsync: see the `[[example]]` entries of this
//! package (`cargo run -p graphsync-examples --example start_job -- …`).
//! The tests run each one that needs a service against `sync-emulator`.

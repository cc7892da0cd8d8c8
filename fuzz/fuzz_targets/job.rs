//! Jobs, pages of jobs, schemas and templates from arbitrary bytes.
#![no_main]

use graph_model::{Page, SynchronizationJob, SynchronizationSchema, SynchronizationTemplate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(job) = serde_json::from_slice::<SynchronizationJob>(data) {
        // What parses must serialise and parse again.
        let text = serde_json::to_vec(&job).unwrap();
        let _ = serde_json::from_slice::<SynchronizationJob>(&text).unwrap();
    }
    let _ = serde_json::from_slice::<Page<SynchronizationJob>>(data);
    let _ = serde_json::from_slice::<SynchronizationSchema>(data);
    let _ = serde_json::from_slice::<SynchronizationTemplate>(data);
});

//! Durations, restart scopes, timestamps and ids from arbitrary text.
#![no_main]

use graph_model::{IsoDuration, JobRef, RestartScope, parse_timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(d) = text.parse::<IsoDuration>() {
        assert_eq!(d.as_str(), text.as_ref(), "durations keep their text");
    }
    let scope = text.parse::<RestartScope>().unwrap_or_default();
    let again: RestartScope = scope.to_string().parse().unwrap_or_default();
    assert_eq!(scope, again, "restart scopes round-trip");
    let _ = parse_timestamp(&text);
    let (a, b) = text.split_at(text.floor_char_boundary(text.len() / 2));
    if let Ok(job) = JobRef::service_principal_app_id(a, b) {
        let path = job.path();
        assert!(!path.contains(['?', '#']), "{path}");
    }
});

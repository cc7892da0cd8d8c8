//! The JSON-in-string answer of provisionOnDemand.
#![no_main]

use graph_model::{ProvisionOnDemandResult, StringKeyStringValuePair};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pair) = serde_json::from_slice::<StringKeyStringValuePair>(data) {
        let _ = ProvisionOnDemandResult::from_pair(pair);
    }
    let text = String::from_utf8_lossy(data);
    let (key, value) = text.split_at(text.len() / 2);
    let _ = ProvisionOnDemandResult::from_pair(StringKeyStringValuePair::new(key, value));
});

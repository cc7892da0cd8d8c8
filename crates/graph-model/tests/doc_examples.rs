//! The generated models against JSON shaped like the Graph documentation's
//! examples (fixtures in `tests/fixtures`, one per documented answer).

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use graph_model::{
    GraphErrorResponse, Page, SynchronizationJob, SynchronizationMetadata,
    SynchronizationScheduleState, SynchronizationSchema, SynchronizationStatusCode,
    SynchronizationTaskExecutionResult, SynchronizationTemplate,
};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn list_page_with_an_empty_status_object() {
    let page: Page<SynchronizationJob> = serde_json::from_str(&fixture("list_jobs.json")).unwrap();
    assert_eq!(page.value.len(), 1);
    let job = &page.value[0];
    assert_eq!(job.schedule.interval.as_ref().unwrap().as_str(), "PT20M");
    assert_eq!(job.status.code, None);
    assert_eq!(
        job.synchronization_job_settings[0].value.as_deref(),
        Some("500")
    );
    assert!(page.next_link.is_none());
}

#[test]
fn created_job_is_disabled_and_not_configured() {
    let job: SynchronizationJob = serde_json::from_str(&fixture("create_job.json")).unwrap();
    assert_eq!(
        job.status.code,
        Some(SynchronizationStatusCode::NotConfigured)
    );
    assert_eq!(
        job.schedule.state,
        Some(SynchronizationScheduleState::Disabled)
    );
    assert_eq!(job.status.steady_state_reached(), None);
    assert!(job.status.quarantine.is_none());
}

#[test]
fn running_job_with_counts_progress_and_seven_digit_fractions() {
    let job: SynchronizationJob = serde_json::from_str(&fixture("get_job_running.json")).unwrap();
    let last = job.status.last_execution.as_ref().unwrap();
    assert_eq!(
        last.state,
        Some(SynchronizationTaskExecutionResult::EntryLevelErrors)
    );
    assert_eq!((last.count_exported, last.count_escrowed), (118, 2));
    assert_eq!(last.time_began.unwrap().nanosecond(), 123_456_700);
    assert_eq!(job.status.progress[0].completed_units, 60);
    assert_eq!(job.status.synchronized_entry_count_by_type[0].value, 118);
    assert!(job.status.steady_state_reached().is_some());
}

#[test]
fn error_envelopes_keep_ids_and_inner_codes() {
    let e: GraphErrorResponse = serde_json::from_str(&fixture("error_403.json")).unwrap();
    assert_eq!(e.error.code, "Authorization_RequestDenied");
    assert_eq!(
        e.error.request_id(),
        Some("19318138-3b82-410c-acff-821f07925027")
    );
    let e: GraphErrorResponse = serde_json::from_str(&fixture("error_429.json")).unwrap();
    assert_eq!(e.error.code, "TooManyRequests");
    assert_eq!(
        e.error.client_request_id(),
        Some("6d8b2e3c-1f0a-4b5c-9d7e-8f9a0b1c2d3f")
    );
}

#[test]
fn beta_templates_with_camel_case_and_unknown_metadata_keys() {
    let page: Page<SynchronizationTemplate> =
        serde_json::from_str(&fixture("list_templates.json")).unwrap();
    let t = &page.value[0];
    assert!(t.default && t.discoverable);
    let keys: Vec<_> = t.metadata.iter().map(|m| m.key.clone().unwrap()).collect();
    assert_eq!(
        keys[0],
        SynchronizationMetadata::GalleryApplicationIdentifier
    );
    assert_eq!(keys[0].beta_name(), "galleryApplicationIdentifier");
    assert_eq!(
        keys[2],
        SynchronizationMetadata::Other("someFutureKey".into())
    );
}

#[test]
fn schema_round_trips_without_losing_unmodelled_parts() {
    let text = fixture("get_schema.json");
    let schema: SynchronizationSchema = serde_json::from_str(&text).unwrap();
    assert_eq!(schema.synchronization_rules[0].priority, 1);
    let back = serde_json::to_value(&schema).unwrap();
    let mut original: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Everything but the context (which is metadata, not schema) survives.
    assert_eq!(back["directories"], original["directories"]);
    assert_eq!(
        back["synchronizationRules"][0]["objectMappings"],
        original["synchronizationRules"][0]["objectMappings"]
    );
    original.as_object_mut().unwrap().remove("@odata.context");
    let mut back = back;
    back.as_object_mut().unwrap().remove("@odata.context");
    assert_eq!(back, original);
}

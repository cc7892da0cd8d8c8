//! Hand-written additions to the generated types (`generated/types.rs`):
//! constructors for values users build, and helpers for reading jobs.

use time::OffsetDateTime;

use crate::generated::enums::*;
use crate::generated::types::*;

impl SynchronizationJob {
    /// A job with the given id and default (empty) state, for building values
    /// in tests and emulators.
    pub fn new(id: impl Into<String>) -> Self {
        SynchronizationJob {
            id: id.into(),
            ..Self::default()
        }
    }
}

impl SynchronizationStatus {
    /// When the job last reached steady state, or `None` if it never has
    /// (absent, or the `0001-01-01` placeholder).
    pub fn steady_state_reached(&self) -> Option<OffsetDateTime> {
        self.steady_state_last_achieved_time
            .filter(|t| t.year() > 1)
    }
}

impl StringKeyLongValuePair {
    /// A pair.
    pub fn new(key: impl Into<String>, value: i64) -> Self {
        StringKeyLongValuePair {
            key: key.into(),
            value,
        }
    }
}

impl StringKeyStringValuePair {
    /// A pair.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        StringKeyStringValuePair {
            key: Some(key.into()),
            value: Some(value.into()),
        }
    }
}

impl KeyValuePair {
    /// A setting.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        KeyValuePair {
            name: name.into(),
            value: Some(value.into()),
        }
    }
}

impl SynchronizationSecretKeyStringValuePair {
    /// A secret.
    pub fn new(key: SynchronizationSecret, value: impl Into<String>) -> Self {
        SynchronizationSecretKeyStringValuePair {
            key,
            value: Some(value.into()),
        }
    }
}

impl SynchronizationJobApplicationParameters {
    /// Parameters for one rule.
    pub fn new(rule_id: impl Into<String>, subjects: Vec<SynchronizationJobSubject>) -> Self {
        SynchronizationJobApplicationParameters {
            rule_id: Some(rule_id.into()),
            subjects,
        }
    }
}

impl SynchronizationJobSubject {
    /// A subject without links.
    pub fn new(object_id: impl Into<String>, object_type_name: impl Into<String>) -> Self {
        SynchronizationJobSubject {
            links: None,
            object_id: Some(object_id.into()),
            object_type_name: Some(object_type_name.into()),
        }
    }
}

impl ValidateCredentialsBody {
    /// Checks the credentials already saved on the owner
    /// (`useSavedCredentials: true`).
    pub fn saved() -> Self {
        ValidateCredentialsBody {
            use_saved_credentials: Some(true),
            ..Self::default()
        }
    }

    /// Checks `credentials`.
    pub fn with_credentials(credentials: Vec<SynchronizationSecretKeyStringValuePair>) -> Self {
        ValidateCredentialsBody {
            credentials,
            ..Self::default()
        }
    }

    /// For the template `template_id`.
    pub fn template_id(mut self, template_id: impl Into<String>) -> Self {
        self.template_id = Some(template_id.into());
        self
    }

    /// For the application `application_identifier`.
    pub fn application_identifier(mut self, application_identifier: impl Into<String>) -> Self {
        self.application_identifier = Some(application_identifier.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IsoDuration;

    /// The GET example of the v1.0 docs, with its sloppy quarantine values.
    const DOC_GET_EXAMPLE: &str = r#"{
        "id": "SfSandboxOutDelta.e4bbf44533ea4eabb17027f3a92e92aa",
        "templateId": "SfSandboxOutDelta",
        "schedule": {
            "expiration": null,
            "interval": "P10675199DT2H48M5.4775807S",
            "state": "Disabled"
        },
        "status": {
            "countSuccessiveCompleteFailures": 0,
            "escrowsPruned": false,
            "synchronizedEntryCountByType": [],
            "code": "Paused",
            "lastExecution": null,
            "progress": [],
            "quarantine": {
                "currentBegan": "",
                "nextAttempt": "",
                "reason": "",
                "seriesBegan": "",
                "seriesCount": 0,
                "error": {
                    "code": "SalesforceInvalidCredentials",
                    "message": "Invalid credentials",
                    "tenantActionable": true
                }
            },
            "steadyStateFirstAchievedTime": "0001-01-01T00:00:00Z",
            "steadyStateLastAchievedTime": "0001-01-01T00:00:00Z",
            "troubleshootingUrl": ""
        }
    }"#;

    #[test]
    fn doc_example_parses_with_sloppy_fields_as_absent() {
        let job: SynchronizationJob = serde_json::from_str(DOC_GET_EXAMPLE).unwrap();
        assert_eq!(job.id, "SfSandboxOutDelta.e4bbf44533ea4eabb17027f3a92e92aa");
        assert_eq!(
            job.schedule.state,
            Some(SynchronizationScheduleState::Disabled)
        );
        assert_eq!(
            job.schedule.interval.as_ref().map(IsoDuration::as_str),
            Some("P10675199DT2H48M5.4775807S")
        );
        assert_eq!(job.status.code, Some(SynchronizationStatusCode::Paused));
        let q = job.status.quarantine.as_ref().unwrap();
        assert_eq!(q.current_began, None);
        assert_eq!(q.reason, None);
        assert_eq!(
            q.error.as_ref().and_then(|e| e.code.as_deref()),
            Some("SalesforceInvalidCredentials")
        );
        assert_eq!(job.status.steady_state_reached(), None);
    }

    #[test]
    fn empty_status_object_and_nulls_default() {
        let job: SynchronizationJob = serde_json::from_str(
            r#"{"id":"x","status":{},"schedule":null,"synchronizationJobSettings":null}"#,
        )
        .unwrap();
        assert_eq!(job.status, SynchronizationStatus::default());
        assert_eq!(job.schedule, SynchronizationSchedule::default());
        assert!(job.synchronization_job_settings.is_empty());
    }

    #[test]
    fn int64_counters_accept_numbers_strings_and_large_values() {
        let ex: SynchronizationTaskExecution = serde_json::from_str(
            r#"{"countImported": 9007199254740993, "countExported": "9223372036854775807",
                "countEscrowed": null, "state": "EntryLevelErrors"}"#,
        )
        .unwrap();
        assert_eq!(ex.count_imported, 9_007_199_254_740_993);
        assert_eq!(ex.count_exported, i64::MAX);
        assert_eq!(ex.count_escrowed, 0);
        assert_eq!(
            ex.state,
            Some(SynchronizationTaskExecutionResult::EntryLevelErrors)
        );
    }

    #[test]
    fn malformed_present_values_are_errors_not_silently_dropped() {
        let err = serde_json::from_str::<SynchronizationJob>(
            r#"{"id":"x","schedule":{"interval":"twenty minutes"}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("twenty minutes"), "{err}");
        let err = serde_json::from_str::<SynchronizationQuarantine>(r#"{"currentBegan":"soon"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("soon"), "{err}");
    }

    #[test]
    fn job_round_trips_through_json() {
        let job: SynchronizationJob = serde_json::from_str(DOC_GET_EXAMPLE).unwrap();
        let json = serde_json::to_value(&job).unwrap();
        assert_eq!(json["schedule"]["interval"], "P10675199DT2H48M5.4775807S");
        assert_eq!(
            json["status"]["steadyStateLastAchievedTime"],
            "0001-01-01T00:00:00Z"
        );
        let back: SynchronizationJob = serde_json::from_value(json).unwrap();
        assert_eq!(back, job);
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let s = SynchronizationSecretKeyStringValuePair::new(
            SynchronizationSecret::SecretToken,
            "hunter2",
        );
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("SecretToken"));
    }
}

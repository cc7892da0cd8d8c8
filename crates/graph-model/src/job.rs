//! `synchronizationJob` and everything nested in it.
//!
//! Field names follow the CSDL exactly (camelCase on the wire). Where the CSDL
//! says a value cannot be null but the service has been seen to omit it or to
//! send `""` (the GET example sends `""` for quarantine timestamps and reason;
//! the overview example sends `"status": {}`), the Rust type is an `Option`
//! (timestamps, enum members) or a defaulting value (counters, flags,
//! collections), so one sloppy field never fails a whole response.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::duration::{self, IsoDuration};
use crate::enums::*;
use crate::lenient::{boolean, int64, null_default, opt_enum, opt_timestamp};

/// A provisioning job of an application or service principal.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SynchronizationJob {
    /// The job id, `{templateId}.{32 hex digits}`.
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    /// The id of the template the job was created from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// When and how often the job runs.
    #[serde(default, deserialize_with = "null_default")]
    pub schedule: SynchronizationSchedule,
    /// The job's state and the outcome of its runs.
    #[serde(default, deserialize_with = "null_default")]
    pub status: SynchronizationStatus,
    /// Settings of the job, some inherited from its template.
    #[serde(default, deserialize_with = "null_default")]
    pub synchronization_job_settings: Vec<KeyValuePair>,
}

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

/// When a job runs (`synchronizationSchedule`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SynchronizationSchedule {
    /// When the schedule stops, if ever.
    #[serde(default, with = "opt_timestamp")]
    pub expiration: Option<OffsetDateTime>,
    /// The time between runs.
    #[serde(default, with = "duration::opt")]
    pub interval: Option<IsoDuration>,
    /// Whether the schedule is active, disabled or paused.
    #[serde(default, with = "opt_enum")]
    pub state: Option<SynchronizationScheduleState>,
}

/// A job's state and the outcome of its runs (`synchronizationStatus`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SynchronizationStatus {
    /// The state of the job; `None` when the service sent none.
    #[serde(default, with = "opt_enum")]
    pub code: Option<SynchronizationStatusCode>,
    /// Consecutive runs that failed completely.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub count_successive_complete_failures: i64,
    /// Whether object-level errors were pruned during the initial cycle
    /// instead of quarantining the job.
    #[serde(default, deserialize_with = "boolean::deserialize")]
    pub escrows_pruned: bool,
    /// The most recent run.
    #[serde(default)]
    pub last_execution: Option<SynchronizationTaskExecution>,
    /// The most recent successful run.
    #[serde(default)]
    pub last_successful_execution: Option<SynchronizationTaskExecution>,
    /// The most recent successful run that exported objects to the target.
    #[serde(default)]
    pub last_successful_execution_with_exports: Option<SynchronizationTaskExecution>,
    /// Progress of the current run, per unit of work.
    #[serde(default, deserialize_with = "null_default")]
    pub progress: Vec<SynchronizationProgress>,
    /// Set while the job is in quarantine.
    #[serde(default)]
    pub quarantine: Option<SynchronizationQuarantine>,
    /// When the job first reached steady state; Graph writes
    /// `0001-01-01T00:00:00Z` for "never".
    #[serde(default, with = "opt_timestamp")]
    pub steady_state_first_achieved_time: Option<OffsetDateTime>,
    /// When the job last reached steady state; `0001-01-01T00:00:00Z` for "never".
    #[serde(default, with = "opt_timestamp")]
    pub steady_state_last_achieved_time: Option<OffsetDateTime>,
    /// Objects synchronized so far, per source-to-target type mapping.
    #[serde(default, deserialize_with = "null_default")]
    pub synchronized_entry_count_by_type: Vec<StringKeyLongValuePair>,
    /// Where to read about the job's current problem.
    #[serde(default)]
    pub troubleshooting_url: Option<String>,
}

impl SynchronizationStatus {
    /// When the job last reached steady state, or `None` if it never has
    /// (absent, or the `0001-01-01` placeholder).
    pub fn steady_state_reached(&self) -> Option<OffsetDateTime> {
        self.steady_state_last_achieved_time
            .filter(|t| t.year() > 1)
    }
}

/// Why and since when a job is quarantined (`synchronizationQuarantine`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SynchronizationQuarantine {
    /// When the quarantine was last evaluated and imposed.
    #[serde(default, with = "opt_timestamp")]
    pub current_began: Option<OffsetDateTime>,
    /// The error that caused the quarantine.
    #[serde(default)]
    pub error: Option<SynchronizationError>,
    /// When the quarantine will next be re-evaluated.
    #[serde(default, with = "opt_timestamp")]
    pub next_attempt: Option<OffsetDateTime>,
    /// Why the job is quarantined.
    #[serde(default, with = "opt_enum")]
    pub reason: Option<QuarantineReason>,
    /// When the current series of quarantines began.
    #[serde(default, with = "opt_timestamp")]
    pub series_began: Option<OffsetDateTime>,
    /// How many times the quarantine was re-evaluated and kept in this series.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub series_count: i64,
}

/// One run of a job (`synchronizationTaskExecution`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SynchronizationTaskExecution {
    /// The id of the run.
    #[serde(default)]
    pub activity_identifier: Option<String>,
    /// Processed entries assigned to the application.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub count_entitled: i64,
    /// Processed entries assigned for provisioning.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub count_entitled_for_provisioning: i64,
    /// Entries escrowed because of errors.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub count_escrowed: i64,
    /// Escrowed entries, including system-generated escrows.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub count_escrowed_raw: i64,
    /// Entries exported to the target.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub count_exported: i64,
    /// Entries that were expected to be exported.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub count_exports: i64,
    /// Entries imported from the source.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub count_imported: i64,
    /// Delta changes imported from the source.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub count_imported_deltas: i64,
    /// Reference delta changes imported from the source.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub count_imported_reference_deltas: i64,
    /// Set when the run hit an error.
    #[serde(default)]
    pub error: Option<SynchronizationError>,
    /// How the run ended.
    #[serde(default, with = "opt_enum")]
    pub state: Option<SynchronizationTaskExecutionResult>,
    /// When the run began.
    #[serde(default, with = "opt_timestamp")]
    pub time_began: Option<OffsetDateTime>,
    /// When the run ended.
    #[serde(default, with = "opt_timestamp")]
    pub time_ended: Option<OffsetDateTime>,
}

/// An error the provisioning service met (`synchronizationError`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SynchronizationError {
    /// The error code, e.g. `SalesforceInvalidCredentials`.
    #[serde(default)]
    pub code: Option<String>,
    /// What went wrong.
    #[serde(default)]
    pub message: Option<String>,
    /// Whether the tenant can fix it (as opposed to the service).
    #[serde(default, deserialize_with = "boolean::deserialize")]
    pub tenant_actionable: bool,
}

/// Progress of a run in one unit of work (`synchronizationProgress`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SynchronizationProgress {
    /// Units completed.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub completed_units: i64,
    /// When this progress was observed.
    #[serde(default, with = "opt_timestamp")]
    pub progress_observation_date_time: Option<OffsetDateTime>,
    /// Units in total.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub total_units: i64,
    /// What a unit is.
    #[serde(default)]
    pub units: Option<String>,
}

/// A string key with a 64-bit count (`stringKeyLongValuePair`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StringKeyLongValuePair {
    /// The key, e.g. `"User to User"`.
    #[serde(default, deserialize_with = "null_default")]
    pub key: String,
    /// The count.
    #[serde(default, deserialize_with = "int64::deserialize")]
    pub value: i64,
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

/// A string key with a string value (`stringKeyStringValuePair`).
///
/// `provisionOnDemand` answers with one whose key and value are themselves
/// JSON documents encoded as strings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StringKeyStringValuePair {
    /// The key.
    #[serde(default)]
    pub key: Option<String>,
    /// The value.
    #[serde(default)]
    pub value: Option<String>,
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

/// A named setting (`keyValuePair`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct KeyValuePair {
    /// The setting's name, e.g. `QuarantineTooManyDeletesThreshold`.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// The setting's value.
    #[serde(default)]
    pub value: Option<String>,
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

/// A connection secret (`synchronizationSecretKeyStringValuePair`).
///
/// `Debug` does not print the value: these are credentials.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SynchronizationSecretKeyStringValuePair {
    /// Which secret this is.
    pub key: SynchronizationSecret,
    /// The secret's value.
    #[serde(default)]
    pub value: Option<String>,
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

impl std::fmt::Debug for SynchronizationSecretKeyStringValuePair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SynchronizationSecretKeyStringValuePair")
            .field("key", &self.key)
            .field("value", &self.value.as_ref().map(|_| "****"))
            .finish()
    }
}

/// Which objects to act on, per synchronization rule
/// (`synchronizationJobApplicationParameters`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SynchronizationJobApplicationParameters {
    /// The id of a synchronization rule of the job's schema.
    #[serde(default)]
    pub rule_id: Option<String>,
    /// The objects.
    #[serde(default, deserialize_with = "null_default")]
    pub subjects: Vec<SynchronizationJobSubject>,
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

/// An object to provision (`synchronizationJobSubject`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SynchronizationJobSubject {
    /// Linked objects (for a group: its members).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Box<SynchronizationLinkedObjects>>,
    /// The object's id in the source: an Entra object id, an on-premises
    /// distinguished name, a Workday worker id…
    #[serde(default)]
    pub object_id: Option<String>,
    /// The object's type in the source (`User`, `user`, `Group`, `Worker`).
    #[serde(default)]
    pub object_type_name: Option<String>,
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

/// Objects linked to a subject (`synchronizationLinkedObjects`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SynchronizationLinkedObjects {
    /// The subject's manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<SynchronizationJobSubject>,
    /// A group's members.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub members: Vec<SynchronizationJobSubject>,
    /// A group's owners.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub owners: Vec<SynchronizationJobSubject>,
}

#[cfg(test)]
mod tests {
    use super::*;

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

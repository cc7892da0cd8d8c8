//! A typed view of what `provisionOnDemand` returns.
//!
//! The service answers with a `stringKeyStringValuePair` whose `key` and
//! `value` are JSON documents encoded as strings: `key` holds the outcome
//! (`{"result":"Success","details":{…}}`) and `value` a provisioning-log
//! record (steps, modified properties, source and target identities). The
//! raw pair is kept too, so nothing the service sent is lost.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::generated::types::StringKeyStringValuePair;

/// The outcome of a `provisionOnDemand` call, decoded from the
/// JSON-in-string answer.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ProvisionOnDemandResult {
    /// The outcome (the decoded `key`).
    pub outcome: ProvisionOutcome,
    /// What the service did, step by step (the decoded `value`); empty for
    /// answers without a record, such as groups (`"{}"`).
    pub record: ProvisioningRecord,
    /// The pair as the service sent it.
    pub raw: StringKeyStringValuePair,
}

impl ProvisionOnDemandResult {
    /// Decodes the pair the service returned.
    ///
    /// # Errors
    /// When `key` or `value` is present but not the JSON document it should
    /// be; the error says which.
    pub fn from_pair(raw: StringKeyStringValuePair) -> Result<Self, ProvisionDecodeError> {
        let outcome = match raw.key.as_deref().map(str::trim) {
            None | Some("") => ProvisionOutcome::default(),
            Some(text) => serde_json::from_str(text).map_err(|e| ProvisionDecodeError {
                part: "key",
                message: e.to_string(),
            })?,
        };
        let record = match raw.value.as_deref().map(str::trim) {
            None | Some("") => ProvisioningRecord::default(),
            Some(text) => serde_json::from_str(text).map_err(|e| ProvisionDecodeError {
                part: "value",
                message: e.to_string(),
            })?,
        };
        Ok(ProvisionOnDemandResult {
            outcome,
            record,
            raw,
        })
    }

    /// The result name (`Success`, `Skipped`, `Failure`…), if the service
    /// gave one.
    pub fn result(&self) -> Option<&str> {
        self.outcome.result.as_deref()
    }
}

/// The `key` or `value` of a provisionOnDemand answer is not valid JSON of
/// the expected shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the provisionOnDemand {part} is not the JSON document it should be: {message}")]
#[non_exhaustive]
pub struct ProvisionDecodeError {
    /// `key` or `value`.
    pub part: &'static str,
    /// What is wrong.
    pub message: String,
}

/// The decoded `key`: the outcome and its details.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProvisionOutcome {
    /// `Success`, `Skipped`, `Failure`…
    #[serde(default)]
    pub result: Option<String>,
    /// Details such as `errorCode` and `errorMessage`.
    #[serde(default)]
    pub details: Map<String, Value>,
}

/// The decoded `value`: a provisioning-log record of what happened.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProvisioningRecord {
    /// What was done to the target object (`Create`, `Update`, `Other`…).
    #[serde(default)]
    pub action: Option<String>,
    /// The id of the change.
    #[serde(default)]
    pub change_id: Option<String>,
    /// When processing started.
    #[serde(default)]
    pub start_time: Option<String>,
    /// When processing ended.
    #[serde(default)]
    pub end_time: Option<String>,
    /// The object's readable identifier, e.g. its user principal name.
    #[serde(default)]
    pub reportable_identifier: Option<String>,
    /// Properties changed on the target.
    #[serde(default)]
    pub modified_properties: Vec<ModifiedProperty>,
    /// The steps the service went through.
    #[serde(default)]
    pub provisioning_steps: Vec<ProvisioningStep>,
    /// The overall status and any error.
    #[serde(default)]
    pub status_info: Option<Map<String, Value>>,
    /// The object in the source system.
    #[serde(default)]
    pub source_identity: Option<Map<String, Value>>,
    /// The source system.
    #[serde(default)]
    pub source_system: Option<Map<String, Value>>,
    /// The object in the target system.
    #[serde(default)]
    pub target_identity: Option<Map<String, Value>>,
    /// The target system.
    #[serde(default)]
    pub target_system: Option<Map<String, Value>>,
    /// Anything else the record holds.
    #[serde(flatten)]
    pub additional_properties: Map<String, Value>,
}

impl ProvisioningRecord {
    /// The overall status (`Success`, `Skipped`, `Failure`…) from `statusInfo`.
    pub fn status(&self) -> Option<&str> {
        self.status_info.as_ref()?.get("status")?.as_str()
    }
}

/// A property changed on the target.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ModifiedProperty {
    /// The property.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Its value before.
    #[serde(default)]
    pub old_value: Option<String>,
    /// Its value after.
    #[serde(default)]
    pub new_value: Option<String>,
}

/// One step of provisioning (import, matching, scoping, export…).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProvisioningStep {
    /// The step's name, e.g. `EntryImport`.
    #[serde(default)]
    pub name: Option<String>,
    /// The kind of step: `Import`, `Matching`, `Scoping`, `Export`…
    #[serde(default, rename = "type")]
    pub step_type: Option<String>,
    /// `Success`, `Skipped`, `Failure`…
    #[serde(default)]
    pub status: Option<String>,
    /// What happened, in words.
    #[serde(default)]
    pub description: Option<String>,
    /// When.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Attribute values seen in the step.
    #[serde(default)]
    pub details: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like the documented Entra-to-SCIM example, shortened.
    fn doc_example() -> StringKeyStringValuePair {
        let body = r#"{
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.stringKeyStringValuePair",
            "key": "{\"result\":\"Skipped\",\"details\":{\"errorCode\":\"RedundantExport\",\"errorMessage\":\"The state of the user in both the source and target systems already match.\"}}",
            "value": "{\"action\":\"Other\",\"changeId\":\"g8ba3be8-1d7f-4a60-ae31-a8980da0a389\",\"endTime\":\"2020-06-26T13:58:24.7682084Z\",\"modifiedProperties\":[{\"displayName\":\"accountEnabled\",\"oldValue\":null,\"newValue\":\"True\"}],\"provisioningSteps\":[{\"name\":\"EntryImport\",\"type\":\"Import\",\"status\":\"Success\",\"description\":\"Retrieved User\",\"timestamp\":\"2020-06-26T13:58:24.5494971Z\",\"details\":{\"objectId\":\"52cf7b7a\"}},{\"name\":\"EntrySynchronizationSkip\",\"type\":\"Export\",\"status\":\"Skipped\",\"description\":\"Already match\",\"timestamp\":\"2020-06-26T13:58:24.7682084Z\",\"details\":{\"SkipReason\":\"RedundantExport\"}}],\"reportableIdentifier\":\"BillBob@contoso.com\",\"startTime\":\"2020-06-26T13:58:24.5494971Z\",\"statusInfo\":{\"status\":\"Skipped\",\"errorCode\":null},\"sourceIdentity\":{\"id\":\"62cf7b7a\",\"type\":\"User\",\"displayName\":null,\"details\":null},\"sourceSystem\":{\"id\":null,\"name\":\"Azure Active Directory\",\"details\":null},\"targetIdentity\":{\"id\":\"52507a19\",\"type\":\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"},\"targetSystem\":{\"id\":null,\"name\":\"customappsso\",\"details\":null}}"
        }"#;
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn documented_answer_decodes_into_outcome_and_steps() {
        let r = ProvisionOnDemandResult::from_pair(doc_example()).unwrap();
        assert_eq!(r.result(), Some("Skipped"));
        assert_eq!(r.outcome.details["errorCode"], "RedundantExport");
        assert_eq!(r.record.action.as_deref(), Some("Other"));
        assert_eq!(r.record.provisioning_steps.len(), 2);
        assert_eq!(
            r.record.provisioning_steps[1].step_type.as_deref(),
            Some("Export")
        );
        assert_eq!(r.record.modified_properties[0].old_value, None);
        assert_eq!(r.record.status(), Some("Skipped"));
        assert_eq!(
            r.record.reportable_identifier.as_deref(),
            Some("BillBob@contoso.com")
        );
    }

    #[test]
    fn group_answer_with_empty_record_and_bad_json_is_typed() {
        let pair = StringKeyStringValuePair::new(r#"{"result":"Success","details":{}}"#, "{}");
        let r = ProvisionOnDemandResult::from_pair(pair).unwrap();
        assert_eq!(r.result(), Some("Success"));
        assert!(r.record.provisioning_steps.is_empty());
        let bad = StringKeyStringValuePair::new("not json", "{}");
        let e = ProvisionOnDemandResult::from_pair(bad).unwrap_err();
        assert_eq!(e.part, "key");
    }
}

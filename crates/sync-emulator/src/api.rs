//! The handlers of the synchronization API, one per generated operation.
//! By the time a call gets here it is authenticated and authorised, and its
//! owner exists.

use bytes::Bytes;
use graph_model::operations as ops;
use graph_model::{
    AcquireAccessTokenBody, ApiVersion, JobOwner, Operation, ProvisionOnDemandBody, RestartBody,
    SynchronizationJobApplicationParameters, SynchronizationMetadata, SynchronizationMetadataEntry,
    SynchronizationSecret, SynchronizationSecretKeyStringValuePair, SynchronizationStatusCode,
    SynchronizationTemplate, ValidateCredentialsBody, format_timestamp,
};
use http::{HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::job::JobState;
use crate::route::Route;
use crate::service::{Ids, Reply, graph_error, json_reply, no_content};
use crate::state::{ActionRecord, State};

/// One authorised call.
pub(crate) struct Call<'a> {
    pub(crate) ids: &'a Ids,
    pub(crate) base_url: &'a str,
    pub(crate) route: &'a Route,
    pub(crate) operation: &'static Operation,
    pub(crate) client_id: String,
    pub(crate) sp_index: usize,
    pub(crate) query: &'a str,
    pub(crate) content_type: &'a str,
    pub(crate) body: &'a Bytes,
}

impl Call<'_> {
    fn error(&self, status: StatusCode, code: &str, message: &str) -> Reply {
        graph_error(status, code, message, self.ids)
    }

    fn bad_request(&self, message: &str) -> Reply {
        self.error(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// `{base}/{version}/$metadata#…`
    fn context(&self, fragment: &str) -> String {
        format!(
            "{}/{}/$metadata#{fragment}",
            self.base_url, self.route.version
        )
    }

    /// The path of the owner's synchronization, as the caller addressed it.
    fn synchronization_url(&self) -> String {
        format!(
            "{}/{}{}/synchronization",
            self.base_url,
            self.route.version,
            self.route.owner.path()
        )
    }

    /// The body as JSON of type `T`; an empty body is `T::default()`.
    fn json_body<T: for<'de> Deserialize<'de> + Default>(&self) -> Result<T, Box<Reply>> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(T::default());
        }
        serde_json::from_slice(self.body).map_err(|e| {
            Box::new(self.bad_request(&format!(
                "The request body is not valid for '{}': {e}",
                self.operation.name
            )))
        })
    }
}

/// Serves `call`; the second value is a warning to log.
pub(crate) fn dispatch(state: &mut State, call: &Call<'_>) -> (Reply, Option<String>) {
    let op = call.operation;
    let reply = if std::ptr::eq(op, &ops::LIST_JOBS) {
        list_jobs(state, call)
    } else if std::ptr::eq(op, &ops::CREATE_JOB) {
        create_job(state, call)
    } else if std::ptr::eq(op, &ops::REPLACE_SECRETS) {
        replace_secrets(state, call)
    } else if std::ptr::eq(op, &ops::VALIDATE_CREDENTIALS) {
        validate_credentials(state, call, None)
    } else if std::ptr::eq(op, &ops::LIST_TEMPLATES) {
        list_templates(state, call)
    } else if std::ptr::eq(op, &ops::GET_TEMPLATE) {
        get_template(state, call)
    } else if std::ptr::eq(op, &ops::ACQUIRE_ACCESS_TOKEN) {
        acquire_access_token(state, call)
    } else if std::ptr::eq(op, &ops::PING) {
        // What the service answers is not documented; the emulator says
        // where the call landed.
        let body = json!({
            "@odata.context": call.context("Edm.String"),
            "value": format!("synchronization of {} is reachable", call.route.owner),
        });
        json_reply(StatusCode::OK, call.ids, &body)
    } else {
        return job_operation(state, call);
    };
    (reply, None)
}

fn record(
    state: &mut State,
    call: &Call<'_>,
    job_id: &str,
    before: Option<&SynchronizationStatusCode>,
    after: Option<&SynchronizationStatusCode>,
    detail: Option<String>,
    warning: Option<String>,
) {
    let addressed_as = match call.route.owner {
        JobOwner::ServicePrincipal(_) => "servicePrincipals",
        JobOwner::ServicePrincipalAppId(_) => "servicePrincipals(appId)",
        _ => "applications",
    };
    let sp_id = state.service_principals[call.sp_index].id.clone();
    let text =
        |c: Option<&SynchronizationStatusCode>| c.map(ToString::to_string).unwrap_or_default();
    state.record(ActionRecord {
        sequence: 0,
        time: format_timestamp(&call.ids.now),
        action: call.operation.name.to_owned(),
        api_version: call.route.version.to_string(),
        service_principal_id: sp_id,
        addressed_as: addressed_as.to_owned(),
        job_id: job_id.to_owned(),
        client_id: call.client_id.clone(),
        status_before: text(before),
        status_after: text(after),
        detail,
        warning,
        request_id: call.ids.request_id.clone(),
        client_request_id: call.ids.client_request_id.clone(),
    });
}

// ---------------------------------------------------------------- paging

/// The offset a `$skiptoken` names (the emulator's tokens are offsets).
fn skip(call: &Call<'_>) -> Result<usize, Box<Reply>> {
    for pair in call.query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_encoding::percent_decode_str(key).decode_utf8_lossy();
        if key.eq_ignore_ascii_case("$skiptoken") {
            return value.parse().map_err(|_| {
                Box::new(call.bad_request(&format!("The $skiptoken '{value}' is not valid.")))
            });
        }
    }
    Ok(0)
}

fn page(state: &State, call: &Call<'_>, items: Vec<Value>, collection: &str) -> Reply {
    let offset = match skip(call) {
        Ok(o) => o,
        Err(reply) => return *reply,
    };
    let size = state.timings.page_size.max(1);
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(offset).take(size).collect();
    let sp_id = &state.service_principals[call.sp_index].id;
    let mut body = json!({
        "@odata.context": call.context(&format!("servicePrincipals('{sp_id}')/synchronization/{collection}")),
        "value": value,
    });
    if offset + size < total {
        body["@odata.nextLink"] = json!(format!(
            "{}/{collection}?$skiptoken={}",
            call.synchronization_url(),
            offset + size
        ));
    }
    json_reply(StatusCode::OK, call.ids, &body)
}

fn with_context(mut value: Value, context: String) -> Value {
    if let Some(map) = value.as_object_mut() {
        let mut out = serde_json::Map::with_capacity(map.len() + 1);
        out.insert("@odata.context".into(), json!(context));
        out.append(map);
        return Value::Object(out);
    }
    value
}

// ---------------------------------------------------------------- jobs

fn list_jobs(state: &State, call: &Call<'_>) -> Reply {
    let items = state.service_principals[call.sp_index]
        .jobs
        .iter()
        .map(|j| serde_json::to_value(&j.job).unwrap_or(Value::Null))
        .collect();
    page(state, call, items, "jobs")
}

fn create_job(state: &mut State, call: &Call<'_>) -> Reply {
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        #[serde(default)]
        template_id: Option<String>,
    }
    let body: Body = match call.json_body() {
        Ok(b) => b,
        Err(reply) => return *reply,
    };
    let Some(template_id) = body.template_id.filter(|t| !t.trim().is_empty()) else {
        return call
            .bad_request("The property 'templateId' is required to create a synchronization job.");
    };
    let sp = &mut state.service_principals[call.sp_index];
    let Some(template) = sp
        .templates
        .iter()
        .find(|t| t.eq_ignore_ascii_case(&template_id))
        .cloned()
    else {
        return call.bad_request(&format!(
            "The template '{template_id}' is not a synchronization template of this application. Templates: {}.",
            sp.templates.join(", ")
        ));
    };
    let id = format!("{template}.{}", uuid::Uuid::new_v4().simple());
    let job = JobState::created(id.clone(), &template);
    let value = serde_json::to_value(&job.job).unwrap_or(Value::Null);
    sp.jobs.push(job);
    let sp_id = sp.id.clone();
    record(
        state,
        call,
        &id,
        None,
        Some(&SynchronizationStatusCode::NotConfigured),
        Some(format!("created from template {template}")),
        None,
    );
    let body = with_context(
        value,
        call.context(&format!(
            "servicePrincipals('{sp_id}')/synchronization/jobs/$entity"
        )),
    );
    let mut reply = json_reply(StatusCode::CREATED, call.ids, &body);
    if let Ok(v) = HeaderValue::from_str(&format!("{}/jobs/{id}", call.synchronization_url())) {
        reply.headers_mut().insert(http::header::LOCATION, v);
    }
    reply
}

fn job_operation(state: &mut State, call: &Call<'_>) -> (Reply, Option<String>) {
    let job_id = call.route.job_id().unwrap_or_default();
    let sp = &state.service_principals[call.sp_index];
    let Some(index) = sp
        .jobs
        .iter()
        .position(|j| j.job.id.eq_ignore_ascii_case(job_id))
    else {
        return (
            call.error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                &format!("The synchronization job '{job_id}' was not found."),
            ),
            None,
        );
    };
    let job_id = sp.jobs[index].job.id.clone();
    let sp_id = sp.id.clone();
    let op = call.operation;
    let now = call.ids.now;
    let timings = state.timings.clone();

    if std::ptr::eq(op, &ops::GET_JOB) {
        let job = &state.service_principals[call.sp_index].jobs[index].job;
        let value = with_context(
            serde_json::to_value(job).unwrap_or(Value::Null),
            call.context(&format!(
                "servicePrincipals('{sp_id}')/synchronization/jobs/$entity"
            )),
        );
        return (json_reply(StatusCode::OK, call.ids, &value), None);
    }
    if std::ptr::eq(op, &ops::GET_JOB_SCHEMA) {
        let schema = state.service_principals[call.sp_index].jobs[index]
            .schema
            .clone();
        let value = with_context(
            schema,
            call.context(&format!(
                "servicePrincipals('{sp_id}')/synchronization/jobs('{job_id}')/schema/$entity"
            )),
        );
        return (json_reply(StatusCode::OK, call.ids, &value), None);
    }
    if std::ptr::eq(op, &ops::DELETE_JOB) {
        let removed = state.service_principals[call.sp_index].jobs.remove(index);
        record(
            state,
            call,
            &job_id,
            Some(&removed.code()),
            None,
            Some("deleted with all its state".into()),
            None,
        );
        return (no_content(call.ids, None), None);
    }
    if std::ptr::eq(op, &ops::REPLACE_JOB_SCHEMA) {
        let mut schema: Value = match serde_json::from_slice(call.body) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return (call.bad_request("The schema must be a JSON object."), None),
            Err(e) => {
                return (
                    call.bad_request(&format!("The schema is not valid JSON: {e}")),
                    None,
                );
            }
        };
        if let Some(map) = schema.as_object_mut() {
            map.retain(|k, _| !k.starts_with("@odata."));
        }
        let rules = schema["synchronizationRules"]
            .as_array()
            .map_or(0, Vec::len);
        let job = &mut state.service_principals[call.sp_index].jobs[index];
        job.schema = schema;
        let code = job.code();
        record(
            state,
            call,
            &job_id,
            Some(&code),
            Some(&code),
            Some(format!("schema replaced ({rules} rules)")),
            None,
        );
        return (no_content(call.ids, None), None);
    }
    if std::ptr::eq(op, &ops::VALIDATE_JOB_CREDENTIALS) {
        return (validate_credentials(state, call, Some(index)), None);
    }
    if std::ptr::eq(op, &ops::PROVISION_ON_DEMAND) {
        return (provision_on_demand(state, call, index), None);
    }

    // start, pause, restart
    let effect = if std::ptr::eq(op, &ops::START) {
        if let Err(message) = check_start_body(call.route.version, call.body) {
            return (call.bad_request(&message), None);
        }
        state.service_principals[call.sp_index].jobs[index].start(now, &timings)
    } else if std::ptr::eq(op, &ops::PAUSE) {
        if let Err(message) = check_empty_body(call.body, "pause") {
            return (call.bad_request(&message), None);
        }
        state.service_principals[call.sp_index].jobs[index].pause(now)
    } else if std::ptr::eq(op, &ops::RESTART) {
        let body: RestartBody = match call.json_body() {
            Ok(b) => b,
            Err(reply) => return (*reply, None),
        };
        let scope = body.criteria.and_then(|c| c.reset_scope);
        if let Some(unknown) = scope.as_ref().and_then(|s| s.unknown_members().first()) {
            return (
                call.bad_request(&format!(
                    "The value '{unknown}' is not a member of synchronizationJobRestartScope."
                )),
                None,
            );
        }
        state.service_principals[call.sp_index].jobs[index].restart(now, &timings, scope.as_ref())
    } else {
        return (
            call.error(
                StatusCode::NOT_IMPLEMENTED,
                "NotImplemented",
                &format!("The emulator does not implement '{}'.", op.name),
            ),
            None,
        );
    };
    record(
        state,
        call,
        &job_id,
        Some(&effect.before),
        Some(&effect.after),
        effect.detail,
        effect.warning.clone(),
    );
    (
        no_content(call.ids, effect.warning.as_deref()),
        effect.warning,
    )
}

/// v1.0 start takes no body; beta accepts the draft's `parameters`.
fn check_start_body(version: ApiVersion, body: &[u8]) -> Result<(), String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| format!("The request body is not valid JSON: {e}"))?;
    let Some(map) = value.as_object() else {
        return Err("The request body must be a JSON object.".into());
    };
    for (key, v) in map {
        if version == ApiVersion::Beta && key == "parameters" {
            serde_json::from_value::<Vec<SynchronizationJobApplicationParameters>>(v.clone())
                .map_err(|e| format!("The parameter 'parameters' is not valid: {e}"))?;
        } else {
            return Err(format!(
                "The parameter '{key}' in the request payload is not a valid parameter for the operation 'start'."
            ));
        }
    }
    Ok(())
}

/// An action without parameters takes no body (or an empty object).
fn check_empty_body(body: &[u8], action: &str) -> Result<(), String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) if map.is_empty() => Ok(()),
        Ok(Value::Object(map)) => Err(format!(
            "The parameter '{}' in the request payload is not a valid parameter for the operation '{action}'.",
            map.keys().next().map(String::as_str).unwrap_or_default()
        )),
        _ => Err(format!("The operation '{action}' takes no request body.")),
    }
}

fn provision_on_demand(state: &mut State, call: &Call<'_>, index: usize) -> Reply {
    let media = call.content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return call.error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "provisionOnDemand requires Content-Type: application/json.",
        );
    }
    let body: ProvisionOnDemandBody = match call.json_body() {
        Ok(b) => b,
        Err(reply) => return *reply,
    };
    if body.parameters.is_empty() {
        return call
            .bad_request("The parameter 'parameters' must name at least one rule and subject.");
    }
    let job = &state.service_principals[call.sp_index].jobs[index];
    let rules = job.rule_ids();
    for p in &body.parameters {
        let rule = p.rule_id.as_deref().unwrap_or("");
        if !rules.iter().any(|r| r.eq_ignore_ascii_case(rule)) {
            return call.bad_request(&format!(
                "The rule '{rule}' is not a synchronization rule of this job's schema (rules: {}).",
                rules.join(", ")
            ));
        }
        if p.subjects.is_empty() {
            return call.bad_request(&format!("The rule '{rule}' names no subjects."));
        }
        if p.subjects.iter().any(|s| {
            s.object_id.as_deref().is_none_or(str::is_empty)
                || s.object_type_name.as_deref().is_none_or(str::is_empty)
        }) {
            return call.bad_request("Every subject needs an objectId and an objectTypeName.");
        }
    }
    let job = &mut state.service_principals[call.sp_index].jobs[index];
    if let Err(wait) = job.admit_provision_on_demand(call.ids.now) {
        let mut reply = call.error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "provisionOnDemand is limited to 5 requests per 10 seconds per job. Retry after the time the Retry-After header gives.",
        );
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            reply.headers_mut().insert(http::header::RETRY_AFTER, v);
        }
        return reply;
    }
    let code = job.code();
    let job_id = job.job.id.clone();
    let template = job.job.template_id.clone().unwrap_or_default();
    let subject = &body.parameters[0].subjects[0];
    let object_id = subject.object_id.clone().unwrap_or_default();
    let type_name = subject.object_type_name.clone().unwrap_or_default();
    let subjects: usize = body.parameters.iter().map(|p| p.subjects.len()).sum();
    let now = format_timestamp(&call.ids.now);
    let (key, value) = if type_name.eq_ignore_ascii_case("group") {
        (json!({"result": "Success", "details": {}}), json!({}))
    } else {
        (
            json!({"result": "Success", "details": {}}),
            json!({
                "action": "Create",
                "changeId": uuid::Uuid::new_v4().hyphenated().to_string(),
                "startTime": now,
                "endTime": now,
                "reportableIdentifier": object_id,
                "modifiedProperties": [
                    {"displayName": "objectId", "oldValue": null, "newValue": object_id}
                ],
                "provisioningSteps": [
                    {"name": "EntryImport", "type": "Import", "status": "Success",
                     "description": format!("Retrieved {type_name} '{object_id}' from the source"),
                     "timestamp": now, "details": {"objectId": object_id}},
                    {"name": "EntrySynchronizationScoping", "type": "Scoping", "status": "Success",
                     "description": format!("{type_name} is in scope"), "timestamp": now, "details": {}},
                    {"name": "EntryExportAdd", "type": "Export", "status": "Success",
                     "description": format!("{type_name} '{object_id}' was created in {template}"),
                     "timestamp": now, "details": {}}
                ],
                "statusInfo": {"status": "Success", "errorCode": null},
                "sourceIdentity": {"id": object_id, "type": type_name, "displayName": null, "details": null},
                "sourceSystem": {"id": null, "name": "Azure Active Directory", "details": null},
                "targetIdentity": {"id": crate::job::stable_uuid(&object_id).to_string(), "type": type_name, "displayName": null, "details": null},
                "targetSystem": {"id": null, "name": template, "details": null}
            }),
        )
    };
    record(
        state,
        call,
        &job_id,
        Some(&code),
        Some(&code),
        Some(format!("{subjects} subject(s) provisioned")),
        None,
    );
    let body = json!({
        "@odata.context": call.context("microsoft.graph.stringKeyStringValuePair"),
        "key": key.to_string(),
        "value": value.to_string(),
    });
    json_reply(StatusCode::OK, call.ids, &body)
}

/// Credentials "reach" the target when they name an http(s) `BaseAddress`
/// and a non-empty `SecretToken`: the emulator has no target system to try.
fn check_credentials(
    credentials: &[SynchronizationSecretKeyStringValuePair],
) -> Result<(), String> {
    let get = |key: SynchronizationSecret| {
        credentials
            .iter()
            .find(|c| c.key == key)
            .and_then(|c| c.value.as_deref())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    match get(SynchronizationSecret::BaseAddress) {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {}
        Some(url) => return Err(format!("The BaseAddress '{url}' is not an http(s) URL.")),
        None => {
            return Err("No BaseAddress was given; the target system cannot be reached.".into());
        }
    }
    if get(SynchronizationSecret::SecretToken).is_none() {
        return Err("No SecretToken was given; the target system refused the connection.".into());
    }
    Ok(())
}

fn validate_credentials(state: &mut State, call: &Call<'_>, job: Option<usize>) -> Reply {
    let body: ValidateCredentialsBody = match call.json_body() {
        Ok(b) => b,
        Err(reply) => return *reply,
    };
    let sp = &state.service_principals[call.sp_index];
    let credentials = if body.use_saved_credentials == Some(true) {
        sp.secrets.clone()
    } else {
        body.credentials.clone()
    };
    let (job_id, code) = match job {
        Some(i) => (sp.jobs[i].job.id.clone(), Some(sp.jobs[i].code())),
        None => (String::new(), None),
    };
    let outcome = check_credentials(&credentials);
    let detail = match &outcome {
        Ok(()) => "credentials valid".to_owned(),
        Err(why) => format!("credentials refused: {why}"),
    };
    record(
        state,
        call,
        &job_id,
        code.as_ref(),
        code.as_ref(),
        Some(detail),
        None,
    );
    match outcome {
        Ok(()) => no_content(call.ids, None),
        Err(why) => call.error(StatusCode::BAD_REQUEST, "CredentialValidationFailed", &why),
    }
}

// ---------------------------------------------------------------- secrets, templates

fn replace_secrets(state: &mut State, call: &Call<'_>) -> Reply {
    #[derive(Deserialize, Default)]
    struct Body {
        value: Option<Vec<SynchronizationSecretKeyStringValuePair>>,
    }
    let body: Body = match call.json_body() {
        Ok(b) => b,
        Err(reply) => return *reply,
    };
    let Some(secrets) = body.value else {
        return call.bad_request("The property 'value' (a collection of secrets) is required.");
    };
    let keys: Vec<String> = secrets.iter().map(|s| s.key.to_string()).collect();
    state.service_principals[call.sp_index].secrets = secrets;
    // The record names the keys only: values are credentials.
    record(
        state,
        call,
        "",
        None,
        None,
        Some(format!("secrets replaced: {}", keys.join(", "))),
        None,
    );
    no_content(call.ids, None)
}

fn template_value(state: &State, call: &Call<'_>, template_id: &str, first: bool) -> Value {
    let sp = &state.service_principals[call.sp_index];
    let mut t = SynchronizationTemplate::default();
    t.id = template_id.to_owned();
    t.application_id = sp.app_id.clone();
    t.default = first;
    t.discoverable = true;
    t.factory_tag = Some(template_id.to_ascii_lowercase());
    t.description = Some(format!("Provisioning to {template_id}"));
    let mut entry = SynchronizationMetadataEntry::default();
    entry.key = Some(SynchronizationMetadata::GalleryApplicationIdentifier);
    entry.value = Some(sp.app_id.clone());
    t.metadata = vec![entry];
    let mut value = serde_json::to_value(&t).unwrap_or(Value::Null);
    // Beta writes metadata keys in its own casing.
    if call.route.version == ApiVersion::Beta
        && let Some(entries) = value["metadata"].as_array_mut()
    {
        for e in entries {
            if let Some(key) = e["key"].as_str() {
                let member: SynchronizationMetadata = key.parse().unwrap_or_else(|e| match e {});
                e["key"] = json!(member.beta_name());
            }
        }
    }
    value
}

fn list_templates(state: &State, call: &Call<'_>) -> Reply {
    let templates = &state.service_principals[call.sp_index].templates;
    let items = templates
        .iter()
        .enumerate()
        .map(|(i, t)| template_value(state, call, t, i == 0))
        .collect();
    page(state, call, items, "templates")
}

fn get_template(state: &State, call: &Call<'_>) -> Reply {
    let crate::route::Resource::Template(wanted) = &call.route.resource else {
        return call.bad_request("No template id.");
    };
    let templates = &state.service_principals[call.sp_index].templates;
    let Some(index) = templates
        .iter()
        .position(|t| t.eq_ignore_ascii_case(wanted))
    else {
        return call.error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("The synchronization template '{wanted}' was not found."),
        );
    };
    let sp_id = &state.service_principals[call.sp_index].id;
    let value = with_context(
        template_value(state, call, &templates[index], index == 0),
        call.context(&format!(
            "servicePrincipals('{sp_id}')/synchronization/templates/$entity"
        )),
    );
    json_reply(StatusCode::OK, call.ids, &value)
}

/// The emulator has no target to get a token from: credentials that name a
/// `BaseAddress` and a `SecretToken` succeed and are saved.
fn acquire_access_token(state: &mut State, call: &Call<'_>) -> Reply {
    let body: AcquireAccessTokenBody = match call.json_body() {
        Ok(b) => b,
        Err(reply) => return *reply,
    };
    if let Err(why) = check_credentials(&body.credentials) {
        return call.error(StatusCode::BAD_REQUEST, "CredentialValidationFailed", &why);
    }
    state.service_principals[call.sp_index].secrets = body.credentials;
    record(
        state,
        call,
        "",
        None,
        None,
        Some("access token acquired".into()),
        None,
    );
    no_content(call.ids, None)
}

//! Graph paths of the synchronization API, parsed into what they name, and
//! matched to the generated operation descriptors of `graph-model`, so the
//! emulator serves exactly the operations the client layer builds.

use graph_model::operations as ops;
use graph_model::{ApiVersion, JobOwner, Operation};
use http::Method;
use percent_encoding::percent_decode_str;

/// What a path names below `{owner}/synchronization`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Resource {
    /// `/secrets`
    Secrets,
    /// `/jobs`
    Jobs,
    /// `/jobs/validateCredentials`
    JobsValidateCredentials,
    /// `/jobs/{id}`
    Job(String),
    /// `/jobs/{id}/{action}` (start, pause, restart…)
    JobAction(String, &'static str),
    /// `/jobs/{id}/schema`
    JobSchema(String),
    /// `/templates`
    Templates,
    /// `/templates/{id}`
    Template(String),
    /// `/acquireAccessToken`
    AcquireAccessToken,
    /// `/Ping()` (beta only)
    Ping,
}

/// A parsed Graph path.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) version: ApiVersion,
    pub(crate) owner: JobOwner,
    pub(crate) resource: Resource,
}

const JOB_ACTIONS: &[&str] = &[
    "start",
    "pause",
    "restart",
    "provisionOnDemand",
    "validateCredentials",
];

impl Route {
    /// The operations this resource answers, by method.
    pub(crate) fn operations(&self) -> Vec<&'static Operation> {
        match &self.resource {
            Resource::Secrets => vec![&ops::REPLACE_SECRETS],
            Resource::Jobs => vec![&ops::LIST_JOBS, &ops::CREATE_JOB],
            Resource::JobsValidateCredentials => vec![&ops::VALIDATE_CREDENTIALS],
            Resource::Job(_) => vec![&ops::GET_JOB, &ops::DELETE_JOB],
            Resource::JobAction(_, action) => match *action {
                "start" => vec![&ops::START],
                "pause" => vec![&ops::PAUSE],
                "restart" => vec![&ops::RESTART],
                "provisionOnDemand" => vec![&ops::PROVISION_ON_DEMAND],
                _ => vec![&ops::VALIDATE_JOB_CREDENTIALS],
            },
            Resource::JobSchema(_) => vec![&ops::GET_JOB_SCHEMA, &ops::REPLACE_JOB_SCHEMA],
            Resource::Templates => vec![&ops::LIST_TEMPLATES],
            Resource::Template(_) => vec![&ops::GET_TEMPLATE],
            Resource::AcquireAccessToken => vec![&ops::ACQUIRE_ACCESS_TOKEN],
            Resource::Ping => vec![&ops::PING],
        }
    }

    /// The operation `method` invokes here, or the methods allowed instead.
    pub(crate) fn operation(&self, method: &Method) -> Result<&'static Operation, String> {
        let candidates = self.operations();
        candidates
            .iter()
            .find(|op| op.method == *method)
            .copied()
            .ok_or_else(|| {
                candidates
                    .iter()
                    .map(|op| op.method.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
    }

    /// The job id, for resources under one job.
    pub(crate) fn job_id(&self) -> Option<&str> {
        match &self.resource {
            Resource::Job(id) | Resource::JobAction(id, _) | Resource::JobSchema(id) => Some(id),
            _ => None,
        }
    }
}

pub(crate) fn decode(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// Parses `/{version}/{owner}/synchronization/…`. Segment names match
/// case-insensitively, as Graph's do.
pub(crate) fn parse(path: &str) -> Result<Route, String> {
    let mut segments = path.trim_start_matches('/').split('/').map(decode);
    let version = match segments.next().as_deref() {
        Some("v1.0") => ApiVersion::V1,
        Some("beta") => ApiVersion::Beta,
        other => return Err(format!("Invalid version: {}", other.unwrap_or(""))),
    };
    let not_found = |s: &str| format!("Resource not found for the segment '{s}'.");
    let unsupported = || format!("The route {path} is not supported by this emulator.");
    let first = segments.next().unwrap_or_default();
    let owner = if first.eq_ignore_ascii_case("servicePrincipals") {
        JobOwner::ServicePrincipal(segments.next().ok_or_else(|| not_found(&first))?)
    } else if first.eq_ignore_ascii_case("applications") {
        JobOwner::Application(segments.next().ok_or_else(|| not_found(&first))?)
    } else if let Some(app_id) = parse_app_id_key(&first) {
        JobOwner::ServicePrincipalAppId(app_id)
    } else {
        return Err(not_found(&first));
    };
    if owner.id().is_empty() {
        return Err(not_found(&first));
    }
    match segments.next() {
        Some(s) if s.eq_ignore_ascii_case("synchronization") => {}
        Some(s) => return Err(not_found(&s)),
        None => return Err(unsupported()),
    }
    let rest: Vec<String> = segments.collect();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let is = |s: &str, name: &str| s.eq_ignore_ascii_case(name);
    let nonempty = |s: &str| -> Result<String, String> {
        if s.is_empty() {
            Err(unsupported())
        } else {
            Ok(s.to_owned())
        }
    };
    let resource = match rest.as_slice() {
        [s] if is(s, "secrets") => Resource::Secrets,
        [s] if is(s, "jobs") => Resource::Jobs,
        [s] if is(s, "templates") => Resource::Templates,
        [s] if is(s, "acquireAccessToken") => Resource::AcquireAccessToken,
        [s] if is(s, "Ping()") => Resource::Ping,
        [j, v] if is(j, "jobs") && is(v, "validateCredentials") => {
            Resource::JobsValidateCredentials
        }
        [j, id] if is(j, "jobs") => Resource::Job(nonempty(id)?),
        [t, id] if is(t, "templates") => Resource::Template(nonempty(id)?),
        [j, id, s] if is(j, "jobs") && is(s, "schema") => Resource::JobSchema(nonempty(id)?),
        [j, id, a] if is(j, "jobs") => match JOB_ACTIONS.iter().find(|name| is(a, name)) {
            Some(action) => Resource::JobAction(nonempty(id)?, action),
            None => return Err(not_found(a)),
        },
        [] => return Err(unsupported()),
        [s, ..] if !is(s, "jobs") && !is(s, "templates") => {
            return Err(not_found(s));
        }
        [_, _, _, extra, ..] | [_, _, extra] => return Err(not_found(extra)),
        _ => return Err(unsupported()),
    };
    let route = Route {
        version,
        owner,
        resource,
    };
    // An operation only the other version has does not exist here.
    if !route.operations().iter().any(|op| op.is_in(version)) {
        return Err(not_found(rest.last().copied().unwrap_or_default()));
    }
    Ok(route)
}

/// `servicePrincipals(appId='…')`, with `''` as an escaped quote.
fn parse_app_id_key(segment: &str) -> Option<String> {
    let open = segment.find('(')?;
    let (name, rest) = segment.split_at(open);
    if !name.eq_ignore_ascii_case("servicePrincipals") {
        return None;
    }
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    let (key, value) = inner.split_once('=')?;
    if !key.trim().eq_ignore_ascii_case("appId") {
        return None;
    }
    let literal = value.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    // A lone quote inside the literal is malformed.
    if literal.replace("''", "").contains('\'') {
        return None;
    }
    Some(literal.replace("''", "'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_client_request_path_routes_to_its_own_operation() {
        let owner = JobOwner::service_principal_app_id("a'b").unwrap();
        let job = graph_model::JobRef::new(owner.clone(), "scim.1").unwrap();
        let v = ApiVersion::Beta;
        let body = graph_model::ValidateCredentialsBody::default();
        use graph_model::requests as r;
        let requests = vec![
            r::list_jobs(&owner, v),
            r::create_job(&owner, v, "scim").unwrap(),
            r::get_job(&job, v),
            r::delete_job(&job, v),
            r::start(&job, v, &[]).unwrap(),
            r::pause(&job, v),
            r::restart(&job, v, None).unwrap(),
            r::provision_on_demand(&job, v, &[]).unwrap(),
            r::validate_job_credentials(&job, v, &body).unwrap(),
            r::validate_credentials(&owner, v, &body).unwrap(),
            r::get_job_schema(&job, v),
            r::replace_job_schema(&job, v, &Default::default()).unwrap(),
            r::replace_secrets(&owner, v, &[]).unwrap(),
            r::list_templates(&owner, v),
            r::get_template(&owner, v, "scim").unwrap(),
            graph_model::Request::for_owner(&ops::ACQUIRE_ACCESS_TOKEN, v, &owner),
            r::ping(&owner, v).unwrap(),
        ];
        assert_eq!(requests.len(), graph_model::operations::ALL.len());
        for req in requests {
            let route = parse(&format!("/beta{}", req.path)).unwrap();
            assert_eq!(route.owner, owner);
            let op = route.operation(req.method()).unwrap();
            assert_eq!(op, req.operation, "{}", req.path);
        }
    }

    #[test]
    fn bad_paths_name_the_segment_and_wrong_methods_list_the_allowed() {
        let e = parse("/v1.0/servicePrincipals/sp/synchronization/jobs/j/explode").unwrap_err();
        assert!(e.contains("'explode'"), "{e}");
        let e = parse("/v1.0/users/sp/synchronization/jobs").unwrap_err();
        assert!(e.contains("'users'"), "{e}");
        assert!(parse("/v2/servicePrincipals/sp/synchronization/jobs").is_err());
        let route = parse("/v1.0/servicePrincipals/sp/synchronization/jobs/j").unwrap();
        assert_eq!(route.operation(&Method::PATCH).unwrap_err(), "GET, DELETE");
        let e = parse("/v1.0/servicePrincipals/sp/synchronization/Ping()").unwrap_err();
        assert!(e.contains("'Ping()'"), "beta only: {e}");
        let route = parse("/v1.0/applications/app/SYNCHRONIZATION/Jobs/j/Start").unwrap();
        assert_eq!(route.resource, Resource::JobAction("j".into(), "start"));
    }
}

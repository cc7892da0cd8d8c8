//! How failures reach the person at the terminal: the error, its causes,
//! the ids to quote in a support case, and a hint when one is known.

use std::error::Error as StdError;
use std::fmt::Write as _;

use graph_transport::GraphServiceError;

/// The full report of `err`: the message, each cause on its own line, and
/// for Graph errors the ids and a hint.
pub(crate) fn render(err: &(dyn StdError + 'static), action: &str) -> String {
    let mut out = format!("error: {err}\n");
    let mut source = err.source();
    let mut service = find_service_error(err);
    while let Some(cause) = source {
        let _ = writeln!(out, "  caused by: {cause}");
        service = service.or_else(|| cause.downcast_ref::<GraphServiceError>());
        source = cause.source();
    }
    if let Some(e) = service {
        if let Some(id) = &e.client_request_id {
            let _ = writeln!(out, "  client-request-id: {id}");
        }
        if let Some(date) = &e.date {
            let _ = writeln!(out, "  date: {date}");
        }
        if let Some(wait) = e.retry_after {
            let _ = writeln!(out, "  retry-after: {:.3} s", wait.as_secs_f64());
        }
        if let Some(body) = &e.body_excerpt {
            let _ = writeln!(out, "  body: {body}");
        }
        let names_permissions = matches!(
            err.downcast_ref::<sync_jobs::Error>(),
            Some(sync_jobs::Error::PermissionDenied { .. })
        );
        if let Some(hint) =
            hint(e.status.as_u16(), action).filter(|_| !(names_permissions && e.status == 403))
        {
            let _ = writeln!(out, "hint: {hint}");
        }
    }
    if is_ambiguous(err) {
        let _ = writeln!(
            out,
            "hint: the request may have been applied; read the job (graphsync get) before sending it again"
        );
    }
    out
}

fn is_ambiguous(err: &(dyn StdError + 'static)) -> bool {
    match err.downcast_ref::<sync_jobs::Error>() {
        Some(sync_jobs::Error::Graph(e)) => e.is_ambiguous(),
        _ => err
            .downcast_ref::<graph_transport::Error>()
            .is_some_and(graph_transport::Error::is_ambiguous),
    }
}

fn find_service_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a GraphServiceError> {
    if let Some(e) = err.downcast_ref::<sync_jobs::Error>() {
        return e.service_error();
    }
    if let Some(e) = err.downcast_ref::<graph_transport::Error>() {
        return e.service_error();
    }
    err.downcast_ref::<GraphServiceError>()
}

fn hint(status: u16, action: &str) -> Option<String> {
    let write = !matches!(action, "get" | "list" | "schema" | "templates");
    Some(match status {
        401 => "the token was refused: check AZURE_TENANT_ID and that the app is registered in the cloud GRAPH_CLOUD names".into(),
        403 if write => format!(
            "{action} needs the application permission Synchronization.ReadWrite.All, or Application.ReadWrite.OwnedBy on an application the caller owns (with delegated sign-in the user also needs a role such as Application Administrator)"
        ),
        403 => "reading jobs needs Synchronization.Read.All, Synchronization.ReadWrite.All, or Application.ReadWrite.OwnedBy on an owned application".into(),
        404 => "check the ids: --service-principal takes the service principal's object id, --application the application's object id, --app-id the appId (client id)".into(),
        429 if action == "provision" => "provisionOnDemand allows 5 calls per 10 seconds per job; wait as long as Retry-After says".into(),
        411 => "the request had no Content-Length; graphsync always sends one, so a proxy may have removed it".into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use graph_transport::HttpResponse;
    use http::{HeaderMap, HeaderValue, StatusCode};

    #[test]
    fn service_errors_show_ids_and_a_permission_hint() {
        let mut h = HeaderMap::new();
        h.insert("request-id", HeaderValue::from_static("r-1"));
        h.insert("client-request-id", HeaderValue::from_static("c-1"));
        let resp = HttpResponse::new(
            StatusCode::FORBIDDEN,
            h,
            Bytes::from_static(
                br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2026-01-01T00:00:00"}}}"#,
            ),
        );
        let err = sync_jobs::Error::Graph(graph_transport::Error::Service(Box::new(
            GraphServiceError::from_response(&resp, None),
        )));
        let text = render(&err, "start");
        assert!(text.starts_with("error: Graph answered 403 Forbidden: Authorization_RequestDenied: Insufficient privileges to complete the operation. (request-id r-1)\n"), "{text}");
        assert!(text.contains("  client-request-id: c-1\n"), "{text}");
        assert!(text.contains("  date: 2026-01-01T00:00:00\n"), "{text}");
        assert!(text.contains("Synchronization.ReadWrite.All"), "{text}");
    }
}

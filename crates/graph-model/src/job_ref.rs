//! Naming a job: which object owns it, and its id.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Bytes left as they are in a path segment: RFC 3986 "unreserved".
/// Everything else, including `/`, `?`, `#`, `%` and `'`, is escaped so an id
/// can never change the shape of the path.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The object a synchronization job belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobOwner {
    /// A service principal by object id: `/servicePrincipals/{id}`.
    ServicePrincipal(String),
    /// A service principal by its application's appId (client id):
    /// `/servicePrincipals(appId='{appId}')`.
    ServicePrincipalAppId(String),
    /// An application by object id: `/applications/{id}`.
    Application(String),
}

/// An id that cannot name a Graph object.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidIdError {
    /// The id is empty (or only whitespace).
    #[error("the {what} is empty")]
    Empty {
        /// Which id.
        what: &'static str,
    },
    /// `.` and `..` would be read as path navigation by every URL parser,
    /// escaped or not, so they can never reach the service intact.
    #[error("the {what} {id:?} cannot be used in a URL path")]
    DotSegment {
        /// Which id.
        what: &'static str,
        /// The id.
        id: String,
    },
}

fn check(what: &'static str, id: String) -> Result<String, InvalidIdError> {
    check_id(what, &id)?;
    Ok(id)
}

/// Refuses ids that cannot be one path segment: empty ones and `.`/`..`.
pub(crate) fn check_id(what: &'static str, id: &str) -> Result<(), InvalidIdError> {
    if id.trim().is_empty() {
        return Err(InvalidIdError::Empty { what });
    }
    // Also `%2e`, `.%2E`…: whoever wrote them meant dots, and a server that
    // decodes before normalising would collapse them as path navigation.
    let decoded = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
    if matches!(decoded.as_ref(), "." | "..") {
        return Err(InvalidIdError::DotSegment {
            what,
            id: id.to_owned(),
        });
    }
    Ok(())
}

/// Appends `id` to `out` as one percent-encoded path segment.
pub fn push_segment(out: &mut String, id: &str) {
    out.extend(utf8_percent_encode(id, SEGMENT));
}

impl JobOwner {
    /// A service principal by object id.
    ///
    /// # Errors
    /// When the id is empty, `.` or `..`.
    pub fn service_principal(id: impl Into<String>) -> Result<Self, InvalidIdError> {
        Ok(JobOwner::ServicePrincipal(check(
            "service principal id",
            id.into(),
        )?))
    }

    /// A service principal by its application's appId (client id).
    ///
    /// # Errors
    /// When the appId is empty, `.` or `..`.
    pub fn service_principal_app_id(app_id: impl Into<String>) -> Result<Self, InvalidIdError> {
        Ok(JobOwner::ServicePrincipalAppId(check(
            "appId",
            app_id.into(),
        )?))
    }

    /// An application by object id.
    ///
    /// # Errors
    /// When the id is empty, `.` or `..`.
    pub fn application(id: impl Into<String>) -> Result<Self, InvalidIdError> {
        Ok(JobOwner::Application(check("application id", id.into())?))
    }

    /// The id as given (an object id or an appId).
    pub fn id(&self) -> &str {
        match self {
            JobOwner::ServicePrincipal(id)
            | JobOwner::ServicePrincipalAppId(id)
            | JobOwner::Application(id) => id,
        }
    }

    /// Writes the owner's path (`/servicePrincipals/{id}` …) to `out`.
    pub fn write_path(&self, out: &mut String) {
        match self {
            JobOwner::ServicePrincipal(id) => {
                out.push_str("/servicePrincipals/");
                push_segment(out, id);
            }
            JobOwner::Application(id) => {
                out.push_str("/applications/");
                push_segment(out, id);
            }
            JobOwner::ServicePrincipalAppId(app_id) => {
                // An OData string literal doubles its single quotes; the
                // doubled quotes are then escaped like any other byte.
                out.push_str("/servicePrincipals(appId='");
                push_segment(out, &app_id.replace('\'', "''"));
                out.push_str("')");
            }
        }
    }

    /// The owner's path, e.g. `/servicePrincipals/{id}`.
    pub fn path(&self) -> String {
        let mut out = String::with_capacity(32 + self.id().len());
        self.write_path(&mut out);
        out
    }
}

impl fmt::Display for JobOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobOwner::ServicePrincipal(id) => write!(f, "service principal {id}"),
            JobOwner::ServicePrincipalAppId(id) => write!(f, "service principal with appId {id}"),
            JobOwner::Application(id) => write!(f, "application {id}"),
        }
    }
}

/// A synchronization job: its owner and its id.
///
/// ```
/// use graph_model::JobRef;
/// let job = JobRef::service_principal("3f1e…", "scim.e4bbf44533ea4eabb17027f3a92e92aa")?;
/// assert_eq!(
///     job.path(),
///     "/servicePrincipals/3f1e%E2%80%A6/synchronization/jobs/scim.e4bbf44533ea4eabb17027f3a92e92aa"
/// );
/// # Ok::<(), graph_model::InvalidIdError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JobRef {
    owner: JobOwner,
    job_id: String,
}

impl JobRef {
    /// A job of the given owner.
    ///
    /// # Errors
    /// When the job id is empty, `.` or `..`.
    pub fn new(owner: JobOwner, job_id: impl Into<String>) -> Result<Self, InvalidIdError> {
        Ok(JobRef {
            owner,
            job_id: check("job id", job_id.into())?,
        })
    }

    /// A job of a service principal named by object id.
    ///
    /// # Errors
    /// When either id is empty, `.` or `..`.
    pub fn service_principal(
        id: impl Into<String>,
        job_id: impl Into<String>,
    ) -> Result<Self, InvalidIdError> {
        JobRef::new(JobOwner::service_principal(id)?, job_id)
    }

    /// A job of a service principal named by its application's appId.
    ///
    /// # Errors
    /// When either id is empty, `.` or `..`.
    pub fn service_principal_app_id(
        app_id: impl Into<String>,
        job_id: impl Into<String>,
    ) -> Result<Self, InvalidIdError> {
        JobRef::new(JobOwner::service_principal_app_id(app_id)?, job_id)
    }

    /// A job of an application named by object id.
    ///
    /// # Errors
    /// When either id is empty, `.` or `..`.
    pub fn application(
        id: impl Into<String>,
        job_id: impl Into<String>,
    ) -> Result<Self, InvalidIdError> {
        JobRef::new(JobOwner::application(id)?, job_id)
    }

    /// The owner.
    pub fn owner(&self) -> &JobOwner {
        &self.owner
    }

    /// The job id.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// The job's path relative to the version root, every id percent-encoded
    /// as one segment.
    pub fn path(&self) -> String {
        self.path_with_suffix("")
    }

    /// The job's path followed by `suffix` (e.g. `/start`), which is written
    /// as is.
    pub fn path_with_suffix(&self, suffix: &str) -> String {
        let mut out =
            String::with_capacity(64 + self.owner.id().len() + self.job_id.len() + suffix.len());
        self.owner.write_path(&mut out);
        out.push_str("/synchronization/jobs/");
        push_segment(&mut out, &self.job_id);
        out.push_str(suffix);
        out
    }
}

impl fmt::Display for JobRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {} of {}", self.job_id, self.owner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ids_stay_one_segment() {
        let cases = [
            ("a/b", "a%2Fb"),
            ("../x", "..%2Fx"),
            ("a?b#c", "a%3Fb%23c"),
            ("ü", "%C3%BC"),
            ("100%", "100%25"),
            ("a b+c", "a%20b%2Bc"),
            ("Scim.0a1B-_~", "Scim.0a1B-_~"),
        ];
        for (id, encoded) in cases {
            let job = JobRef::service_principal(id, id).unwrap();
            assert_eq!(
                job.path(),
                format!("/servicePrincipals/{encoded}/synchronization/jobs/{encoded}"),
                "{id}"
            );
        }
    }

    #[test]
    fn app_id_form_escapes_quotes_as_odata_then_percent() {
        let job = JobRef::service_principal_app_id("o'brien/1", "j").unwrap();
        assert_eq!(
            job.path(),
            "/servicePrincipals(appId='o%27%27brien%2F1')/synchronization/jobs/j"
        );
    }

    #[test]
    fn dot_segments_and_empty_ids_are_refused() {
        assert!(matches!(
            JobRef::service_principal("..", "j"),
            Err(InvalidIdError::DotSegment { .. })
        ));
        assert!(matches!(
            JobRef::application("a", "."),
            Err(InvalidIdError::DotSegment { .. })
        ));
        assert!(matches!(
            JobRef::application(" ", "j"),
            Err(InvalidIdError::Empty { .. })
        ));
    }
}

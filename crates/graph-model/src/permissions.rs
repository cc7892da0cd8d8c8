//! Which permissions each operation needs (the Graph documentation's
//! tables), so a 403 can say what to grant.

use crate::request::Operation;

/// The permissions an operation accepts, least privileged first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Permissions {
    /// Application permissions (app-only sign-in).
    pub application: &'static [&'static str],
    /// Delegated permissions (a user signed in).
    pub delegated: &'static [&'static str],
    /// The Entra roles a signed-in user also needs, least privileged first.
    pub delegated_roles: &'static [&'static str],
}

const OWNED_BY: &str = "Application.ReadWrite.OwnedBy";
const READ_ALL: &str = "Synchronization.Read.All";
const READ_WRITE_ALL: &str = "Synchronization.ReadWrite.All";
const CSA_READ: &str = "CustomSecAttributeProvisioning.Read.All";
const CSA_READ_WRITE: &str = "CustomSecAttributeProvisioning.ReadWrite.All";
const ROLES: &[&str] = &[
    "Application Administrator",
    "Cloud Application Administrator",
    "Hybrid Identity Administrator",
];

impl Permissions {
    /// What `operation` needs. `Application.ReadWrite.OwnedBy` covers only
    /// applications the caller owns.
    pub fn of(operation: &Operation) -> Permissions {
        let read = operation.method == http::Method::GET;
        let schema = operation.suffix.ends_with("/schema");
        let (application, delegated): (&[&str], &[&str]) = match (schema, read) {
            (true, true) => (
                &[CSA_READ, OWNED_BY, CSA_READ_WRITE, READ_ALL, READ_WRITE_ALL],
                &[READ_ALL, READ_WRITE_ALL, CSA_READ, CSA_READ_WRITE],
            ),
            (true, false) => (
                &[OWNED_BY, CSA_READ_WRITE, READ_WRITE_ALL],
                &[READ_WRITE_ALL, CSA_READ_WRITE],
            ),
            (false, true) => (
                &[OWNED_BY, READ_ALL, READ_WRITE_ALL],
                &[READ_ALL, READ_WRITE_ALL],
            ),
            (false, false) => (&[OWNED_BY, READ_WRITE_ALL], &[READ_WRITE_ALL]),
        };
        Permissions {
            application,
            delegated,
            delegated_roles: ROLES,
        }
    }
}

impl std::fmt::Display for Permissions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "application permission {}",
            self.application.join(" or ")
        )?;
        if self.application.contains(&OWNED_BY) {
            write!(f, " ({OWNED_BY} only for applications the caller owns)")?;
        }
        write!(
            f,
            "; with a signed-in user, delegated {} and a role such as {}",
            self.delegated.join(" or "),
            self.delegated_roles.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations;

    #[test]
    fn the_documented_table() {
        let start = Permissions::of(&operations::START);
        assert_eq!(start.application, [OWNED_BY, READ_WRITE_ALL]);
        assert_eq!(start.delegated, [READ_WRITE_ALL]);
        let get = Permissions::of(&operations::GET_JOB);
        assert_eq!(get.application, [OWNED_BY, READ_ALL, READ_WRITE_ALL]);
        let schema = Permissions::of(&operations::GET_JOB_SCHEMA);
        assert_eq!(schema.application[0], CSA_READ);
        let put_schema = Permissions::of(&operations::REPLACE_JOB_SCHEMA);
        assert!(put_schema.application.contains(&CSA_READ_WRITE));
        assert!(start.to_string().contains("Synchronization.ReadWrite.All"));
        assert!(start.to_string().contains("Application Administrator"));
    }
}

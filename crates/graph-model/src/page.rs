//! One page of a Graph collection: `{"value": [...], "@odata.nextLink": "..."}`.

use serde::{Deserialize, Serialize};

use crate::lenient::null_default;

/// One page of a collection the service returns a page at a time.
///
/// `next_link` is the absolute URL of the next page, to be followed verbatim;
/// `None` on the last page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page.
    #[serde(default = "Vec::new", deserialize_with = "null_default")]
    pub value: Vec<T>,
    /// Where the next page is; absent on the last one.
    #[serde(
        rename = "@odata.nextLink",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_link: Option<String>,
}

impl<T> Page<T> {
    /// A page holding `value`, followed by the page at `next_link` if any.
    pub fn new(value: Vec<T>, next_link: Option<String>) -> Self {
        Page { value, next_link }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SynchronizationJob;

    #[test]
    fn pages_parse_with_and_without_a_next_link() {
        let page: Page<SynchronizationJob> = serde_json::from_str(
            r#"{"@odata.context":"x","value":[{"id":"a"},{"id":"b"}],
                "@odata.nextLink":"https://graph.microsoft.com/v1.0/servicePrincipals/s/synchronization/jobs?$skiptoken=2"}"#,
        )
        .unwrap();
        assert_eq!(page.value.len(), 2);
        assert!(page.next_link.unwrap().ends_with("$skiptoken=2"));
        let last: Page<SynchronizationJob> = serde_json::from_str(r#"{"value":null}"#).unwrap();
        assert!(last.value.is_empty() && last.next_link.is_none());
    }
}

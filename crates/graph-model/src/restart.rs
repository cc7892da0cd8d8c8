//! `synchronizationJobRestartScope`, a flags enum: on the wire a
//! comma-separated list of member names (`"Watermark, Escrows, QuarantineState"`).

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::generated::enums::SYNCHRONIZATION_JOB_RESTART_SCOPE_MEMBERS;
use crate::generated::types::SynchronizationJobRestartCriteria;

/// What a restart clears (`synchronizationJobRestartScope`).
///
/// `Full` is `ConnectorDataStore | Escrows | Watermark | QuarantineState`
/// (15) and does **not** include `ForceDeletes` (32). Names the service
/// adds later are kept and written back.
///
/// ```
/// use graph_model::RestartScope;
/// let scope: RestartScope = "Watermark, Escrows, QuarantineState".parse().unwrap();
/// assert!(scope.contains(RestartScope::ESCROWS));
/// assert!(!scope.contains(RestartScope::CONNECTOR_DATA_STORE));
/// assert_eq!(scope.to_string(), "Escrows, Watermark, QuarantineState");
/// assert_eq!((RestartScope::FULL | RestartScope::FORCE_DELETES).to_string(), "Full, ForceDeletes");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RestartScope {
    bits: u8,
    unknown: Vec<String>,
}

/// The single-flag members (`None` and the `Full` combination left out), in
/// the spec's order.
fn single_flags() -> impl Iterator<Item = &'static (&'static str, u8)> {
    SYNCHRONIZATION_JOB_RESTART_SCOPE_MEMBERS
        .iter()
        .filter(|(_, bit)| bit.is_power_of_two())
}

/// The value of `Full` as the spec gives it.
fn full_bits() -> u8 {
    SYNCHRONIZATION_JOB_RESTART_SCOPE_MEMBERS
        .iter()
        .find(|(name, _)| *name == "Full")
        .map_or(15, |(_, bits)| *bits)
}

impl RestartScope {
    /// `None` (0): restart without clearing anything; the docs say to use
    /// start instead.
    pub const NONE: RestartScope = RestartScope::from_bits(0);
    /// Clears the connector's cache for all objects. Use only when
    /// Microsoft Support asks.
    pub const CONNECTOR_DATA_STORE: RestartScope = RestartScope::from_bits(1);
    /// Clears escrows (failures kept for retry); they stop being retried.
    pub const ESCROWS: RestartScope = RestartScope::from_bits(2);
    /// Clears the watermark, so every object is evaluated again.
    pub const WATERMARK: RestartScope = RestartScope::from_bits(4);
    /// Lifts the quarantine.
    pub const QUARANTINE_STATE: RestartScope = RestartScope::from_bits(8);
    /// All of the above (15); not `ForceDeletes`.
    pub const FULL: RestartScope = RestartScope::from_bits(15);
    /// Lets deletions held back by accidental-deletion prevention go ahead.
    pub const FORCE_DELETES: RestartScope = RestartScope::from_bits(32);

    const fn from_bits(bits: u8) -> Self {
        RestartScope {
            bits,
            unknown: Vec::new(),
        }
    }

    /// The numeric value of the known members (as in the CSDL).
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Whether every member of `other` is set.
    pub fn contains(&self, other: RestartScope) -> bool {
        self.bits & other.bits == other.bits
            && other.unknown.iter().all(|u| self.unknown.contains(u))
    }

    /// Whether nothing is set (`None`).
    pub fn is_none(&self) -> bool {
        self.bits == 0 && self.unknown.is_empty()
    }

    /// Member names this version does not know, as received.
    pub fn unknown_members(&self) -> &[String] {
        &self.unknown
    }
}

impl BitOr for RestartScope {
    type Output = RestartScope;
    fn bitor(mut self, rhs: RestartScope) -> RestartScope {
        self |= rhs;
        self
    }
}

impl BitOrAssign for RestartScope {
    fn bitor_assign(&mut self, rhs: RestartScope) {
        self.bits |= rhs.bits;
        for u in rhs.unknown {
            if !self.unknown.contains(&u) {
                self.unknown.push(u);
            }
        }
    }
}

impl fmt::Display for RestartScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("None");
        }
        let mut names: Vec<&str> = Vec::new();
        let mut rest = self.bits;
        let full = full_bits();
        if rest & full == full {
            names.push("Full");
            rest &= !full;
        }
        names.extend(
            single_flags()
                .filter(|(_, bit)| rest & bit != 0)
                .map(|(name, _)| *name),
        );
        names.extend(self.unknown.iter().map(String::as_str));
        f.write_str(&names.join(", "))
    }
}

impl FromStr for RestartScope {
    type Err = std::convert::Infallible;

    /// Parses member names separated by commas, case-insensitively. An
    /// empty string is `None`. Unknown names are kept.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut scope = RestartScope::NONE;
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name.eq_ignore_ascii_case("None") {
                continue;
            }
            if name.eq_ignore_ascii_case("Full") {
                scope.bits |= full_bits();
            } else if let Some((_, bit)) =
                single_flags().find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                scope.bits |= bit;
            } else if !scope.unknown.iter().any(|u| u == name) {
                scope.unknown.push(name.to_owned());
            }
        }
        Ok(scope)
    }
}

impl Serialize for RestartScope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RestartScope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(s.parse().unwrap_or_default())
    }
}

impl SynchronizationJobRestartCriteria {
    /// Criteria that clear `scope`.
    pub fn new(scope: RestartScope) -> Self {
        SynchronizationJobRestartCriteria {
            reset_scope: Some(scope),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example_round_trips_through_json() {
        let criteria: SynchronizationJobRestartCriteria =
            serde_json::from_str(r#"{"resetScope":"Watermark, Escrows, QuarantineState"}"#)
                .unwrap();
        let scope = criteria.reset_scope.clone().unwrap();
        assert_eq!(scope.bits(), 2 | 4 | 8);
        assert_eq!(
            serde_json::to_string(&criteria).unwrap(),
            r#"{"resetScope":"Escrows, Watermark, QuarantineState"}"#
        );
    }

    #[test]
    fn full_does_not_include_force_deletes() {
        let full: RestartScope = "Full".parse().unwrap();
        assert_eq!(full, RestartScope::FULL);
        assert!(!full.contains(RestartScope::FORCE_DELETES));
        assert!(full.contains(RestartScope::QUARANTINE_STATE | RestartScope::CONNECTOR_DATA_STORE));
        let all = RestartScope::FULL | RestartScope::FORCE_DELETES;
        assert_eq!(all.bits(), 47);
        assert_eq!(all.to_string(), "Full, ForceDeletes");
    }

    #[test]
    fn none_empty_case_and_unknown_members() {
        assert_eq!("None".parse::<RestartScope>().unwrap(), RestartScope::NONE);
        assert_eq!("".parse::<RestartScope>().unwrap(), RestartScope::NONE);
        assert_eq!(RestartScope::NONE.to_string(), "None");
        let odd: RestartScope = "watermark,  ,Tombstones".parse().unwrap();
        assert!(odd.contains(RestartScope::WATERMARK));
        assert_eq!(odd.unknown_members(), ["Tombstones"]);
        assert_eq!(odd.to_string(), "Watermark, Tombstones");
        let back: RestartScope = odd.to_string().parse().unwrap();
        assert_eq!(back, odd);
    }
}

//! Serde helpers for the places where the service is sloppier than its
//! metadata: `""` where a timestamp or enum member belongs, `null` where a
//! non-nullable value belongs, and 64-bit numbers sent as strings (which Graph
//! does when asked for `IEEE754Compatible=true`).
//!
//! Everything here is lenient about *absence* only. A value that is present
//! but malformed (`"yesterday"` as a timestamp) is still an error: quietly
//! dropping it would lose data.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serializer};
use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Enums that parse from their wire name; implemented by the enum macro.
pub(crate) trait WireName: Sized {
    fn from_wire_name(s: &str) -> Self;
}

/// `null` becomes `T::default()`.
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// An optional enum where `""` and `null` both mean "absent".
pub(crate) mod opt_enum {
    use super::*;

    pub(crate) fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: WireName,
    {
        let s = Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(match s.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => Some(T::from_wire_name(name)),
        })
    }

    pub(crate) fn serialize<S, T>(value: &Option<T>, serializer: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        T: serde::Serialize,
    {
        match value {
            Some(v) => v.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }
}

/// Parses a Graph timestamp: RFC 3339, or the offset-less form that some
/// payloads carry (`2022-05-26T01:12:14`), which is UTC.
///
/// # Errors
/// When `s` is neither form; the error is RFC 3339's.
pub fn parse_timestamp(s: &str) -> Result<OffsetDateTime, time::error::Parse> {
    match OffsetDateTime::parse(s, &Rfc3339) {
        Ok(t) => Ok(t),
        Err(first) => {
            let with_zone = format!("{s}Z");
            OffsetDateTime::parse(&with_zone, &Rfc3339).map_err(|_| first)
        }
    }
}

/// Formats a timestamp as RFC 3339 in UTC, as Graph writes them.
pub fn format_timestamp(t: &OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        // Rfc3339 only refuses years outside 0..=9999, which `parse_timestamp`
        // can never produce; fall back to the Debug form rather than panic.
        .unwrap_or_else(|_| format!("{t}"))
}

/// An optional timestamp where `""` and `null` both mean "absent".
pub(crate) mod opt_timestamp {
    use super::*;

    pub(crate) fn deserialize<'de, D>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error>
    where
        D: Deserializer<'de>,
    {
        let s = Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        match s.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => parse_timestamp(text)
                .map(Some)
                .map_err(|e| de::Error::custom(format_args!("invalid timestamp {text:?}: {e}"))),
        }
    }

    pub(crate) fn serialize<S>(
        value: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
    {
        match value {
            Some(t) => serializer.serialize_str(&format_timestamp(t)),
            None => serializer.serialize_none(),
        }
    }
}

/// An `Edm.Int64`: a JSON number, a numeric string, or `null` (as 0).
pub(crate) mod int64 {
    use super::*;

    pub(crate) fn deserialize<'de, D>(deserializer: D) -> Result<i64, D::Error>
    where
        D: Deserializer<'de>,
    {
        struct Int64;
        impl<'de> Visitor<'de> for Int64 {
            type Value = i64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 64-bit integer or a string holding one")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
                Ok(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
                i64::try_from(v).map_err(|_| E::custom(format_args!("{v} does not fit in Int64")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
                // Some serialisers write whole numbers as `12.0`.
                if v.fract() == 0.0 && v >= i64::MIN as f64 && v <= i64::MAX as f64 {
                    Ok(v as i64)
                } else {
                    Err(E::custom(format_args!("{v} is not an Int64")))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
                v.trim()
                    .parse()
                    .map_err(|_| E::custom(format_args!("{v:?} is not an Int64")))
            }
            fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
                Ok(0)
            }
            fn visit_none<E: de::Error>(self) -> Result<i64, E> {
                Ok(0)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<i64, D::Error> {
                d.deserialize_any(self)
            }
        }
        deserializer.deserialize_any(Int64)
    }
}

/// A `Boolean` that may arrive as `null` (read as `false`).
pub(crate) mod boolean {
    use super::*;

    pub(crate) fn deserialize<'de, D>(deserializer: D) -> Result<bool, D::Error>
    where
        D: Deserializer<'de>,
    {
        Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_and_without_zone() {
        let a = parse_timestamp("2022-05-26T01:12:14").unwrap();
        let b = parse_timestamp("2022-05-26T01:12:14Z").unwrap();
        assert_eq!(a, b);
        let c = parse_timestamp("2017-02-04T18:50:49.4373767+01:00").unwrap();
        assert_eq!(format_timestamp(&c), "2017-02-04T17:50:49.4373767Z");
        let never = parse_timestamp("0001-01-01T00:00:00Z").unwrap();
        assert_eq!(format_timestamp(&never), "0001-01-01T00:00:00Z");
        assert!(parse_timestamp("yesterday").is_err());
    }
}

//! `Edm.Duration`: an ISO-8601 duration kept exactly as the service wrote it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO-8601 duration (`PT20M`, `P1DT2H`, `P10675199DT2H48M5.4775807S`).
///
/// The original text is kept, so a value read from Graph is written back
/// byte for byte: `P10675199DT2H48M5.4775807S` (the "never" interval of a
/// disabled job, .NET's `TimeSpan.MaxValue`) does not become `PT922337203685.4775807S`.
/// The parsed components are available through [`IsoDuration::to_std`] and
/// the accessors.
///
/// ```
/// use graph_model::IsoDuration;
/// let never: IsoDuration = "P10675199DT2H48M5.4775807S".parse()?;
/// assert_eq!(never.to_string(), "P10675199DT2H48M5.4775807S");
/// assert_eq!(never.to_std().unwrap().as_secs(), 922_337_203_685);
/// let every_20_min: IsoDuration = "PT20M".parse()?;
/// assert_eq!(every_20_min.to_std(), Some(std::time::Duration::from_secs(1200)));
/// # Ok::<(), graph_model::DurationParseError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IsoDuration {
    text: String,
    parts: Parts,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Parts {
    negative: bool,
    years: u64,
    months: u64,
    weeks: u64,
    days: u64,
    hours: u64,
    minutes: u64,
    seconds: u64,
    nanos: u32,
}

/// Why a string is not an ISO-8601 duration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an ISO-8601 duration: {reason}")]
pub struct DurationParseError {
    text: String,
    reason: &'static str,
}

impl IsoDuration {
    /// Builds the canonical form of a [`std::time::Duration`]
    /// (`PT{seconds}S`, with up to nine fractional digits).
    pub fn from_std(d: Duration) -> Self {
        let (secs, nanos) = (d.as_secs(), d.subsec_nanos());
        let text = if nanos == 0 {
            format!("PT{secs}S")
        } else {
            let frac = format!("{nanos:09}");
            format!("PT{secs}.{}S", frac.trim_end_matches('0'))
        };
        let parts = Parts {
            seconds: secs,
            nanos,
            ..Parts::default()
        };
        IsoDuration { text, parts }
    }

    /// The text as read (or as built).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The duration as a [`std::time::Duration`], or `None` when it cannot be
    /// one: negative, or with years or months (whose length depends on a date),
    /// or too large.
    pub fn to_std(&self) -> Option<Duration> {
        let p = &self.parts;
        if p.negative || p.years != 0 || p.months != 0 {
            return None;
        }
        let secs = p
            .weeks
            .checked_mul(7 * 86_400)?
            .checked_add(p.days.checked_mul(86_400)?)?
            .checked_add(p.hours.checked_mul(3_600)?)?
            .checked_add(p.minutes.checked_mul(60)?)?
            .checked_add(p.seconds)?;
        Some(Duration::new(secs, p.nanos))
    }

    /// Whether the duration is negative (`-P1D`).
    pub fn is_negative(&self) -> bool {
        self.parts.negative
    }

    /// The year component.
    pub fn years(&self) -> u64 {
        self.parts.years
    }

    /// The month component.
    pub fn months(&self) -> u64 {
        self.parts.months
    }

    /// The day component (weeks are reported separately by [`IsoDuration::weeks`]).
    pub fn days(&self) -> u64 {
        self.parts.days
    }

    /// The week component.
    pub fn weeks(&self) -> u64 {
        self.parts.weeks
    }
}

impl FromStr for IsoDuration {
    type Err = DurationParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| DurationParseError {
            text: s.to_owned(),
            reason,
        };
        let mut p = Parts::default();
        let mut rest = s;
        if let Some(r) = rest.strip_prefix('-') {
            p.negative = true;
            rest = r;
        }
        rest = rest
            .strip_prefix('P')
            .ok_or_else(|| err("must start with 'P'"))?;
        let (date, time) = match rest.split_once('T') {
            Some((d, t)) => {
                if t.is_empty() {
                    return Err(err("'T' must be followed by a time component"));
                }
                (d, Some(t))
            }
            None => (rest, None),
        };
        let mut any = false;

        // Designators must appear in this order, each at most once.
        let mut order = 0;
        for (value, unit) in Components::new(date) {
            let value = value.map_err(err)?;
            let rank = match unit {
                'Y' => 1,
                'M' => 2,
                'W' => 3,
                'D' => 4,
                _ => return Err(err("unknown date designator")),
            };
            if rank <= order {
                return Err(err("date designators out of order or repeated"));
            }
            order = rank;
            if value.1.is_some() {
                return Err(err("only seconds may have a fraction"));
            }
            let slot = match unit {
                'Y' => &mut p.years,
                'M' => &mut p.months,
                'W' => &mut p.weeks,
                _ => &mut p.days,
            };
            *slot = value.0;
            any = true;
        }
        if let Some(time) = time {
            let mut order = 0;
            for (value, unit) in Components::new(time) {
                let value = value.map_err(err)?;
                let rank = match unit {
                    'H' => 1,
                    'M' => 2,
                    'S' => 3,
                    _ => return Err(err("unknown time designator")),
                };
                if rank <= order {
                    return Err(err("time designators out of order or repeated"));
                }
                order = rank;
                match unit {
                    'H' | 'M' if value.1.is_some() => {
                        return Err(err("only seconds may have a fraction"));
                    }
                    'H' => p.hours = value.0,
                    'M' => p.minutes = value.0,
                    _ => {
                        p.seconds = value.0;
                        p.nanos = value.1.unwrap_or(0);
                    }
                }
                any = true;
            }
        }
        if !any {
            return Err(err("no components"));
        }
        Ok(IsoDuration {
            text: s.to_owned(),
            parts: p,
        })
    }
}

/// Iterates `<number>[.<fraction>]<designator>` groups.
struct Components<'a> {
    rest: &'a str,
}

type Component = Result<(u64, Option<u32>), &'static str>;

impl<'a> Components<'a> {
    fn new(s: &'a str) -> Self {
        Components { rest: s }
    }
}

impl Iterator for Components<'_> {
    type Item = (Component, char);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(end) = self.rest.find(|c: char| c.is_ascii_alphabetic()) else {
            self.rest = "";
            return Some((Err("number without a designator"), '?'));
        };
        let (number, tail) = self.rest.split_at(end);
        let mut chars = tail.chars();
        let unit = chars.next().unwrap_or('?');
        self.rest = chars.as_str();
        Some((parse_number(number), unit))
    }
}

fn parse_number(s: &str) -> Component {
    let (whole, frac) = match s.split_once(['.', ',']) {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a component must start with digits");
    }
    let whole: u64 = whole.parse().map_err(|_| "component too large")?;
    let nanos = match frac {
        None => None,
        Some(f) if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) => {
            return Err("a fraction must have 1 to 9 digits");
        }
        Some(f) => {
            let digits: u32 = f.parse().map_err(|_| "invalid fraction")?;
            Some(digits * 10u32.pow(9 - f.len() as u32))
        }
    };
    Ok((whole, nanos))
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for IsoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for IsoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An optional duration where `""` and `null` mean "absent".
pub(crate) mod opt {
    use super::IsoDuration;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn deserialize<'de, D>(deserializer: D) -> Result<Option<IsoDuration>, D::Error>
    where
        D: Deserializer<'de>,
    {
        let s = Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        match s.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
        }
    }

    pub(crate) fn serialize<S>(
        value: &Option<IsoDuration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
    {
        value.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespan_max_round_trips_and_converts() {
        let d: IsoDuration = "P10675199DT2H48M5.4775807S".parse().unwrap();
        assert_eq!(d.as_str(), "P10675199DT2H48M5.4775807S");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, "\"P10675199DT2H48M5.4775807S\"");
        let std = d.to_std().unwrap();
        assert_eq!(std.as_secs(), 10_675_199 * 86_400 + 2 * 3_600 + 48 * 60 + 5);
        assert_eq!(std.subsec_nanos(), 477_580_700);
    }

    #[test]
    fn common_forms() {
        let cases = [
            ("PT20M", Some(1200)),
            ("PT40M", Some(2400)),
            ("P1D", Some(86_400)),
            ("P2W", Some(14 * 86_400)),
            ("PT0S", Some(0)),
            ("P1M", None),
            ("P1Y", None),
            ("-PT5S", None),
        ];
        for (text, secs) in cases {
            let d: IsoDuration = text.parse().unwrap();
            assert_eq!(d.to_std().map(|d| d.as_secs()), secs, "{text}");
            assert_eq!(d.to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "P",
            "PT",
            "20M",
            "PT1.5M",
            "P1S",
            "PT1H1H",
            "PT1M1H",
            "P1DT",
            "PTxS",
            "PT1.S",
            "PT1.0000000001S",
            "P99999999999999999999D",
        ] {
            assert!(bad.parse::<IsoDuration>().is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn from_std_is_canonical() {
        assert_eq!(
            IsoDuration::from_std(Duration::from_secs(1200)).as_str(),
            "PT1200S"
        );
        assert_eq!(
            IsoDuration::from_std(Duration::from_millis(1500)).as_str(),
            "PT1.5S"
        );
        let back: IsoDuration = "PT1.5S".parse().unwrap();
        assert_eq!(back.to_std(), Some(Duration::from_millis(1500)));
    }
}

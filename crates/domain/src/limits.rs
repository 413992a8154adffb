//! What a user may do: send rights, priority, per-day limits, report language, inbound format.

use crate::closed_set::closed_set;

/// How far a user may send. Ordered: a user may send to a number whose class is at most his
/// right (DESIGN.md §4): `none < internal < local < national < international`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rights {
    None,
    Internal,
    Local,
    National,
    International,
}

closed_set!(
    Rights,
    case_insensitive = true,
    [
        (None, "none"),
        (Internal, "internal"),
        (Local, "local"),
        (National, "national"),
        (International, "international"),
    ]
);

impl Rights {
    /// Whether these rights allow sending to a number of `class` (DESIGN.md §4): the class must
    /// be at most the right. `none` permits nothing, `international` everything.
    pub fn permits(self, class: crate::NumberClass) -> bool {
        self >= class.required_rights()
    }
}

/// Message priority, ordered `low < normal < high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    Low,
    Normal,
    High,
}

closed_set!(
    Priority,
    case_insensitive = true,
    [(Low, "low"), (Normal, "normal"), (High, "high")]
);

/// The seven languages of reports and inbound mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    De,
    En,
    Fr,
    It,
    Es,
    Pt,
    Nl,
}

closed_set!(
    Language,
    case_insensitive = true,
    [
        (De, "de"),
        (En, "en"),
        (Fr, "fr"),
        (It, "it"),
        (Es, "es"),
        (Pt, "pt"),
        (Nl, "nl"),
    ]
);

/// How an inbound fax is attached to its mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InboundFax {
    Pdf,
    Tif,
    PdfAndTif,
}

closed_set!(
    InboundFax,
    case_insensitive = true,
    [(Pdf, "pdf"), (Tif, "tif"), (PdfAndTif, "pdf+tif")]
);

/// A per-day limit: the instance's `system_per_day`, no limit, or a number of jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PerDay {
    System,
    Unlimited,
    Limit(u32),
}

impl std::str::FromStr for PerDay {
    type Err = crate::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("system") {
            Ok(PerDay::System)
        } else if s.eq_ignore_ascii_case("unlimited") {
            Ok(PerDay::Unlimited)
        } else {
            // Digits only: `u32::from_str` would also take `+5`, which is no spelling of ours.
            s.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| s.parse::<u32>().ok())
                .flatten()
                .map(PerDay::Limit)
                .ok_or_else(|| crate::UnknownValue {
                    value: s.to_owned(),
                    expected: &["system", "unlimited", "a number of jobs"],
                })
        }
    }
}

impl std::fmt::Display for PerDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PerDay::System => f.write_str("system"),
            PerDay::Unlimited => f.write_str("unlimited"),
            PerDay::Limit(n) => write!(f, "{n}"),
        }
    }
}

impl serde::Serialize for PerDay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PerDay {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Accepts `"system"`, `"unlimited"`, `"5"` and the bare integer `5`.
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PerDay;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"system\", \"unlimited\" or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PerDay, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PerDay, E> {
                u32::try_from(v)
                    .map(PerDay::Limit)
                    .map_err(|_| E::custom("per-day limit out of range"))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PerDay, E> {
                u32::try_from(v)
                    .map(PerDay::Limit)
                    .map_err(|_| E::custom("per-day limit out of range"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::{InboundFax, PerDay, Rights};

    #[test]
    fn rights_are_ordered_as_the_contract_says() {
        assert!(Rights::None < Rights::Internal);
        assert!(Rights::Internal < Rights::Local);
        assert!(Rights::Local < Rights::National);
        assert!(Rights::National < Rights::International);
    }

    #[test]
    fn per_day_round_trips() {
        for s in ["system", "unlimited", "0", "5"] {
            let v: PerDay = s.parse().unwrap_or(PerDay::System);
            assert_eq!(v.to_string(), s);
        }
        assert!("five".parse::<PerDay>().is_err());
        assert!("+5".parse::<PerDay>().is_err());
        assert!(" 5".parse::<PerDay>().is_err());
        assert!("4294967296".parse::<PerDay>().is_err());
        assert_eq!("pdf+tif".parse::<InboundFax>(), Ok(InboundFax::PdfAndTif));
    }
}

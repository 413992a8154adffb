//! The error shared by every closed set: the value read and the spellings that are allowed.

use std::fmt;

/// A value that is not one of a closed set's spellings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// What was read.
    pub value: String,
    /// The accepted spellings, for the message.
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not one of: {}",
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}

/// Implements `FromStr`, `Display` and string serde for a fieldless enum from one table of
/// `(variant, spelling)` pairs, so that parse and print can never disagree.
macro_rules! closed_set {
    ($ty:ident, case_insensitive = $ci:expr, [$(($variant:ident, $text:literal)),+ $(,)?]) => {
        impl $ty {
            /// Every spelling, in declaration order.
            pub const SPELLINGS: &'static [&'static str] = &[$($text),+];

            /// The canonical spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::closed_set::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $(
                    if (if $ci { s.eq_ignore_ascii_case($text) } else { s == $text }) {
                        return Ok($ty::$variant);
                    }
                )+
                Err($crate::closed_set::UnknownValue { value: s.to_owned(), expected: Self::SPELLINGS })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use closed_set;

//! Telephone numbers: the site's number plan, normalisation to E.164, classes, spaced form.
//!
//! A [`SitePlan`] is the `[site]` table of DESIGN.md §3, validated once at load time. It turns
//! whatever a user typed into a mail address (`+49 (30) 123-456`, `0891234567`, `123`) into a
//! [`PhoneNumber`] that holds E.164 digits, classifies that number for the send-rights check
//! ([`NumberClass`], [`Rights::permits`](crate::Rights::permits)), and prints the *spaced
//! canonical form* (`+49 8142 4799123`) that the directory is searched with.
//!
//! # Implementation summary
//! [`SitePlan::normalise`] applies DESIGN.md §4 in this order, and the first rule that
//! matches wins:
//! 1. remove the formatting characters `( ) - / .` and white space;
//! 2. `+…` is already E.164: only digits may follow the `+`;
//! 3. any other character than a digit is an error;
//! 4. if `outside_line` is set and the number starts with it, remove it once;
//! 5. `international_prefix…` → `+…`;
//! 6. `national_prefix…` → `+country…`;
//! 7. at most `extension_digits` digits → `+country area subscriber ext` (an extension);
//! 8. anything else is a local number → `+country area …`.
//!
//! The result must have between [`PhoneNumber::MIN_DIGITS`] and [`PhoneNumber::MAX_DIGITS`]
//! (E.164: 15) digits and must not start with `0` (no country code does).
//!
//! Rule 7 is applied after the outside line was removed, exactly as the contract reads: with
//! `outside_line = "0"`, `0123` is the extension 123, not the local number 123. Local numbers
//! that short do not exist in practice, and the literal reading is the one a PBX administrator
//! can predict from the configuration.
//!
//! [`SitePlan::classify`] compares digit prefixes: `country area subscriber` → internal,
//! `country area` → local, `country` → national, anything else → international. An empty
//! `area_code` (countries without area codes) makes every national number local; an empty
//! `subscriber` makes every local number internal.
//!
//! The spaced form ([`SitePlan::spaced`]) of a number inside the site's area is
//! `+country area rest` (`+49 8142 4799123`, `+49 8142 123456`). Other numbers, and every
//! number of a site without an area code, use the
//! international format of libphonenumber's metadata (the `phonenumber` crate: `+33 1 42 68 53
//! 00`, `+1 212 555 1234` with the hyphens turned into spaces), and `+country rest` when
//! libphonenumber cannot parse the number. Whatever the route, removing the spaces from the
//! spaced form gives back [`PhoneNumber::e164`]; that is what lets the inbound lookup search for
//! both spellings (`${UMS}` and `${UMS}_wHTSPC`).
//!
//! XXX The `phonenumber` crate costs about 15 s of a clean debug build on two cores (regex,
//! quick-xml, postcard, strum; its metadata is compiled in, no I/O) and about 0.5 s (debug) or
//! 70 ms (release) to load its metadata the first time a foreign number is formatted. Without
//! it, `+49 30 123456` and `+33 1 42 68 53 00` would print as `+49 30123456` and
//! `+33 142685300`, which rarely match how administrators store numbers in the directory. It is
//! used for presentation only: normalisation and classification follow the site plan alone, so
//! a number libphonenumber considers invalid is still accepted and dialled.

use std::fmt;
use std::str::FromStr;

use crate::Rights;
use crate::closed_set::closed_set;

/// The characters users may put between digits; they are removed before anything else.
const FORMATTING: &[char] = &['(', ')', '-', '/', '.'];

/// Inputs longer than this are rejected before they are looked at any further.
const MAX_INPUT_CHARS: usize = 64;

/// Why a number could not be normalised or parsed.
///
/// The reasons are a closed set with no lower-level cause, so they are a public enum rather
/// than an opaque kind; callers turn them into the error report for the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NumberError {
    /// Nothing is left once the formatting characters (and the outside line) are removed.
    Empty,
    /// A character that is neither a digit nor a formatting character, at this char index of
    /// the input with the formatting removed.
    InvalidCharacter { character: char, position: usize },
    /// The E.164 form would have fewer digits than [`PhoneNumber::MIN_DIGITS`].
    TooShort { digits: usize },
    /// The E.164 form would have more digits than [`PhoneNumber::MAX_DIGITS`], or the input
    /// is unreasonably long.
    TooLong { digits: usize },
    /// The E.164 form would start with `0`, which no country code does (e.g. `000…` after an
    /// international prefix `00`).
    InvalidCountryCode,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberError::Empty => f.write_str("the number is empty"),
            NumberError::InvalidCharacter {
                character,
                position,
            } => {
                write!(
                    f,
                    "the number contains {character:?} at position {position}"
                )
            }
            NumberError::TooShort { digits } => write!(
                f,
                "the number has {digits} digits, at least {} are needed",
                PhoneNumber::MIN_DIGITS
            ),
            NumberError::TooLong { digits } => write!(
                f,
                "the number has {digits} digits, at most {} are allowed",
                PhoneNumber::MAX_DIGITS
            ),
            NumberError::InvalidCountryCode => f.write_str("the number has no valid country code"),
        }
    }
}

impl std::error::Error for NumberError {}

/// A telephone number in E.164 form: a country code and national number, at most 15 digits.
///
/// It holds the digits without the `+`; [`PhoneNumber::e164`] and `Display` print it with the
/// `+`. Build one with [`SitePlan::normalise`] (anything a user types) or
/// [`PhoneNumber::from_e164`] (a number that must already be international).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    digits: String,
}

impl PhoneNumber {
    /// The fewest digits accepted. The shortest numbers in service (Niue, Tokelau, St Helena)
    /// have a 3-digit country code and 4 digits.
    pub const MIN_DIGITS: usize = 7;
    /// The most digits E.164 allows.
    pub const MAX_DIGITS: usize = 15;

    /// Parses a number that is already international: `+` and digits, with the formatting
    /// characters `( ) - / .` and white space allowed (`+49 (30) 123-456`).
    pub fn from_e164(input: &str) -> Result<PhoneNumber, NumberError> {
        let cleaned = strip_formatting(input)?;
        match cleaned.strip_prefix('+') {
            Some(rest) => {
                check_digits(rest, 1)?;
                PhoneNumber::from_digits(rest.to_owned())
            }
            None => match cleaned.chars().next() {
                None => Err(NumberError::Empty),
                Some(character) => Err(NumberError::InvalidCharacter {
                    character,
                    position: 0,
                }),
            },
        }
    }

    /// Checks length and the leading digit of an all-digit string.
    fn from_digits(digits: String) -> Result<PhoneNumber, NumberError> {
        if digits.is_empty() {
            return Err(NumberError::Empty);
        }
        if digits.len() > PhoneNumber::MAX_DIGITS {
            return Err(NumberError::TooLong {
                digits: digits.len(),
            });
        }
        if digits.starts_with('0') {
            return Err(NumberError::InvalidCountryCode);
        }
        if digits.len() < PhoneNumber::MIN_DIGITS {
            return Err(NumberError::TooShort {
                digits: digits.len(),
            });
        }
        Ok(PhoneNumber { digits })
    }

    /// The digits, without the `+`: `4981424799123`.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The E.164 form with the `+`: `+4981424799123`.
    pub fn e164(&self) -> String {
        format!("+{}", self.digits)
    }
}

impl fmt::Display for PhoneNumber {
    /// The E.164 form, `+4981424799123`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.digits)
    }
}

impl FromStr for PhoneNumber {
    type Err = NumberError;
    /// Same as [`PhoneNumber::from_e164`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PhoneNumber::from_e164(s)
    }
}

impl serde::Serialize for PhoneNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for PhoneNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        PhoneNumber::from_e164(&s).map_err(serde::de::Error::custom)
    }
}

/// The class of a number as seen from the site, ordered like the rights that permit it:
/// `internal < local < national < international`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NumberClass {
    /// Starts with `country area subscriber`: the site's own PBX.
    Internal,
    /// Starts with `country area`.
    Local,
    /// Starts with `country`.
    National,
    /// Anything else.
    International,
}

closed_set!(
    NumberClass,
    case_insensitive = true,
    [
        (Internal, "internal"),
        (Local, "local"),
        (National, "national"),
        (International, "international"),
    ]
);

impl NumberClass {
    /// The least right that permits sending to a number of this class.
    pub fn required_rights(self) -> Rights {
        match self {
            NumberClass::Internal => Rights::Internal,
            NumberClass::Local => Rights::Local,
            NumberClass::National => Rights::National,
            NumberClass::International => Rights::International,
        }
    }
}

/// The `[site]` table as read from the configuration, before validation.
///
/// `SitePlan` deserialises through this type, so a configuration loader may use `SitePlan`
/// directly in its serde structs; this struct is public for loaders that build it by hand.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SitePlanFields {
    pub country_code: String,
    pub area_code: String,
    pub subscriber: String,
    pub extension_digits: u8,
    #[serde(default = "default_international_prefix")]
    pub international_prefix: String,
    #[serde(default = "default_national_prefix")]
    pub national_prefix: String,
    #[serde(default)]
    pub outside_line: String,
}

fn default_international_prefix() -> String {
    "00".to_owned()
}

fn default_national_prefix() -> String {
    "0".to_owned()
}

/// A `[site]` value that is not valid; names the configuration key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SitePlanError {
    field: &'static str,
    value: String,
    reason: &'static str,
}

impl SitePlanError {
    /// The key of `[site]` that is wrong, e.g. `"area_code"`.
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The value that was read.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for SitePlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "site.{} = {:?}: {}", self.field, self.value, self.reason)
    }
}

impl std::error::Error for SitePlanError {}

/// The site's number plan, validated (see the module documentation for the rules).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "SitePlanFields")]
pub struct SitePlan {
    fields: SitePlanFields,
}

impl TryFrom<SitePlanFields> for SitePlan {
    type Error = SitePlanError;
    fn try_from(fields: SitePlanFields) -> Result<Self, Self::Error> {
        SitePlan::new(fields)
    }
}

impl SitePlan {
    /// The most extension digits accepted.
    pub const MAX_EXTENSION_DIGITS: u8 = 8;

    /// Validates the `[site]` values.
    ///
    /// - `country_code`: 1 to 3 digits, not starting with `0`;
    /// - `area_code`: 0 to 8 digits (empty for countries without area codes);
    /// - `subscriber`: 0 to 12 digits;
    /// - `extension_digits`: 0 to [`SitePlan::MAX_EXTENSION_DIGITS`], and country, area,
    ///   subscriber and extension together at most 15 digits;
    /// - `international_prefix`: 1 to 4 digits;
    /// - `national_prefix`: 0 to 4 digits, not equal to the international prefix;
    /// - `outside_line`: 0 to 2 digits.
    pub fn new(fields: SitePlanFields) -> Result<SitePlan, SitePlanError> {
        let err = |field: &'static str, value: &str, reason: &'static str| SitePlanError {
            field,
            value: value.to_owned(),
            reason,
        };
        let digits = |field: &'static str, value: &str, min: usize, max: usize| {
            if !value.bytes().all(|b| b.is_ascii_digit()) {
                Err(err(field, value, "only the digits 0-9 are allowed"))
            } else if value.len() < min || value.len() > max {
                Err(err(field, value, "wrong number of digits"))
            } else {
                Ok(())
            }
        };
        digits("country_code", &fields.country_code, 1, 3)?;
        if fields.country_code.starts_with('0') {
            return Err(err(
                "country_code",
                &fields.country_code,
                "must not start with 0",
            ));
        }
        digits("area_code", &fields.area_code, 0, 8)?;
        digits("subscriber", &fields.subscriber, 0, 12)?;
        let ext = fields.extension_digits;
        if ext > SitePlan::MAX_EXTENSION_DIGITS {
            return Err(err(
                "extension_digits",
                &ext.to_string(),
                "at most 8 digits are allowed",
            ));
        }
        let total = fields.country_code.len()
            + fields.area_code.len()
            + fields.subscriber.len()
            + usize::from(ext);
        if total > PhoneNumber::MAX_DIGITS {
            return Err(err(
                "extension_digits",
                &ext.to_string(),
                "country, area, subscriber and extension exceed 15 digits",
            ));
        }
        digits("international_prefix", &fields.international_prefix, 1, 4)?;
        digits("national_prefix", &fields.national_prefix, 0, 4)?;
        if fields.national_prefix == fields.international_prefix {
            return Err(err(
                "national_prefix",
                &fields.national_prefix,
                "must differ from international_prefix",
            ));
        }
        digits("outside_line", &fields.outside_line, 0, 2)?;
        Ok(SitePlan { fields })
    }

    /// The values this plan was built from.
    pub fn fields(&self) -> &SitePlanFields {
        &self.fields
    }

    /// `country_code`, e.g. `49`.
    pub fn country_code(&self) -> &str {
        &self.fields.country_code
    }

    /// `area_code`, e.g. `8142`; may be empty.
    pub fn area_code(&self) -> &str {
        &self.fields.area_code
    }

    /// `subscriber`, the PBX main number, e.g. `4799`; may be empty.
    pub fn subscriber(&self) -> &str {
        &self.fields.subscriber
    }

    /// `extension_digits`.
    pub fn extension_digits(&self) -> u8 {
        self.fields.extension_digits
    }

    /// Turns a number as typed into its E.164 form (DESIGN.md §4; rules in the module docs).
    pub fn normalise(&self, input: &str) -> Result<PhoneNumber, NumberError> {
        let cleaned = strip_formatting(input)?;
        if let Some(rest) = cleaned.strip_prefix('+') {
            check_digits(rest, 1)?;
            return PhoneNumber::from_digits(rest.to_owned());
        }
        check_digits(&cleaned, 0)?;
        let f = &self.fields;
        let mut dialled = cleaned.as_str();
        if !f.outside_line.is_empty() {
            dialled = dialled
                .strip_prefix(f.outside_line.as_str())
                .unwrap_or(dialled);
        }
        if dialled.is_empty() {
            return Err(NumberError::Empty);
        }
        let e164 = if let Some(rest) = dialled.strip_prefix(f.international_prefix.as_str()) {
            rest.to_owned()
        } else if let Some(rest) = dialled
            .strip_prefix(f.national_prefix.as_str())
            .filter(|_| !f.national_prefix.is_empty())
        {
            if rest.is_empty() {
                return Err(NumberError::Empty);
            }
            format!("{}{rest}", f.country_code)
        } else if dialled.len() <= usize::from(f.extension_digits) {
            format!("{}{}{}{dialled}", f.country_code, f.area_code, f.subscriber)
        } else {
            format!("{}{}{dialled}", f.country_code, f.area_code)
        };
        PhoneNumber::from_digits(e164)
    }

    /// A number of the site's own lines from a user's setting (`fax.sender`, DESIGN.md §5):
    /// the setting is an **extension**, combined with the site's number (`123` →
    /// `+49 8142 4799123`, whatever its length: `5555` → `+49 8142 47995555`), unless it is
    /// already a full number — `+…`, or the international or national prefix followed by
    /// more digits than an extension has (`0049 8142 4799 123`, `08142 4799 123`) — which is
    /// read as [`SitePlan::normalise`] reads it. The outside line is never removed: the
    /// number is not dialled, it is the site's own. The result must be a valid E.164 number
    /// (at most 15 digits).
    pub fn own_number(&self, setting: &str) -> Result<PhoneNumber, NumberError> {
        let cleaned = strip_formatting(setting)?;
        if cleaned.starts_with('+') {
            return self.normalise(&cleaned);
        }
        check_digits(&cleaned, 0)?;
        let f = &self.fields;
        let prefixed = |prefix: &str| {
            !prefix.is_empty()
                && cleaned.starts_with(prefix)
                && cleaned.len() > usize::from(f.extension_digits)
        };
        if prefixed(&f.international_prefix) {
            let rest = &cleaned[f.international_prefix.len()..];
            return PhoneNumber::from_digits(rest.to_owned());
        }
        if prefixed(&f.national_prefix) {
            let rest = &cleaned[f.national_prefix.len()..];
            return PhoneNumber::from_digits(format!("{}{rest}", f.country_code));
        }
        PhoneNumber::from_digits(format!(
            "{}{}{}{cleaned}",
            f.country_code, f.area_code, f.subscriber
        ))
    }

    /// The class of `number` seen from this site.
    pub fn classify(&self, number: &PhoneNumber) -> NumberClass {
        let f = &self.fields;
        let Some(national) = number.digits.strip_prefix(f.country_code.as_str()) else {
            return NumberClass::International;
        };
        let Some(local) = national.strip_prefix(f.area_code.as_str()) else {
            return NumberClass::National;
        };
        if local.starts_with(f.subscriber.as_str()) {
            NumberClass::Internal
        } else {
            NumberClass::Local
        }
    }

    /// The spaced canonical form used to search the directory: `+49 8142 4799123`.
    ///
    /// Numbers in the site's area (when it has an area code): `+country area rest`; others:
    /// libphonenumber's international format, else `+country rest`. Removing the spaces always
    /// gives [`PhoneNumber::e164`].
    pub fn spaced(&self, number: &PhoneNumber) -> String {
        let f = &self.fields;
        let in_area = number
            .digits
            .strip_prefix(f.country_code.as_str())
            .filter(|_| !f.area_code.is_empty())
            .and_then(|national| national.strip_prefix(f.area_code.as_str()));
        match in_area {
            Some("") => return format!("+{} {}", f.country_code, f.area_code),
            Some(rest) => return format!("+{} {} {rest}", f.country_code, f.area_code),
            None => {}
        }
        international_format(number).unwrap_or_else(|| fallback_format(number))
    }
}

/// Removes the formatting characters and white space; rejects absurdly long input.
fn strip_formatting(input: &str) -> Result<String, NumberError> {
    if input.chars().count() > MAX_INPUT_CHARS {
        return Err(NumberError::TooLong {
            digits: input.chars().filter(char::is_ascii_digit).count(),
        });
    }
    let cleaned: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && !FORMATTING.contains(c))
        .collect();
    if cleaned.is_empty() {
        Err(NumberError::Empty)
    } else {
        Ok(cleaned)
    }
}

/// Fails on the first non-digit; `offset` is added to the reported position (1 after a `+`).
fn check_digits(s: &str, offset: usize) -> Result<(), NumberError> {
    match s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, character)) => Err(NumberError::InvalidCharacter {
            character,
            position: i + offset,
        }),
        None => Ok(()),
    }
}

/// libphonenumber's international format with its separators turned into single spaces, if
/// it parses and still spells the same digits.
fn international_format(number: &PhoneNumber) -> Option<String> {
    let parsed = phonenumber::parse(None, number.e164()).ok()?;
    let formatted = parsed
        .format()
        .mode(phonenumber::Mode::International)
        .to_string();
    let mut out = String::with_capacity(formatted.len());
    for c in formatted.chars() {
        if c.is_ascii_digit() || (c == '+' && out.is_empty()) {
            out.push(c);
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    let out = out.trim_end().to_owned();
    let same_digits = out
        .strip_prefix('+')
        .is_some_and(|d| d.replace(' ', "") == number.digits);
    same_digits.then_some(out)
}

/// `+country rest`, with the country code's length taken from libphonenumber's table; the
/// bare E.164 form when no country code is known.
fn fallback_format(number: &PhoneNumber) -> String {
    let digits = number.digits();
    for len in 1..=3 {
        let Some(code) = digits.get(..len) else { break };
        let known = code
            .parse::<u16>()
            .ok()
            .is_some_and(|c| phonenumber::metadata::DATABASE.by_code(&c).is_some());
        if known {
            return format!("+{code} {}", &digits[len..]);
        }
    }
    number.e164()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::{NumberClass, NumberError, PhoneNumber, SitePlan, SitePlanFields};
    use crate::Rights;

    fn fields(outside_line: &str) -> SitePlanFields {
        SitePlanFields {
            country_code: "49".into(),
            area_code: "8142".into(),
            subscriber: "4799".into(),
            extension_digits: 3,
            international_prefix: "00".into(),
            national_prefix: "0".into(),
            outside_line: outside_line.into(),
        }
    }

    fn site(outside_line: &str) -> SitePlan {
        SitePlan::new(fields(outside_line)).unwrap()
    }

    use NumberClass::{Internal, International, Local, National};

    #[test]
    fn own_number_combines_an_extension_with_the_site_number() {
        // The outside line plays no part: the number is the site's own, not dialled.
        for outside in ["", "0"] {
            let plan = site(outside);
            for (setting, e164) in [
                // an extension, of any length
                ("123", "+4981424799123"),
                ("1 23", "+4981424799123"),
                ("0", "+4981424799 0"),
                ("5555", "+4981424799 5555"),
                ("012", "+4981424799 012"),
                // already a full number
                ("+49 8142 4799 0", "+49814247990"),
                ("+49 (30) 123-456", "+4930123456"),
                ("0049 8142 4799 123", "+4981424799123"),
                ("08142 4799 123", "+4981424799123"),
                ("030 123456", "+4930123456"),
            ] {
                let n = plan
                    .own_number(setting)
                    .unwrap_or_else(|e| panic!("{setting:?} ({outside:?}): {e}"));
                assert_eq!(n.e164(), e164.replace(' ', ""), "{setting:?} ({outside:?})");
            }
            assert_eq!(
                plan.spaced(&plan.own_number("123").unwrap()),
                "+49 8142 4799123"
            );
        }
        let plan = site("");
        assert_eq!(plan.own_number(""), Err(NumberError::Empty));
        assert_eq!(plan.own_number(" - "), Err(NumberError::Empty));
        assert!(matches!(
            plan.own_number("12a"),
            Err(NumberError::InvalidCharacter { character: 'a', .. })
        ));
        // 4981424799 + 6 digits = 16 digits: too long for E.164.
        assert_eq!(
            plan.own_number("123456"),
            Err(NumberError::TooLong { digits: 16 })
        );
        assert_eq!(
            plan.own_number("0000 1234567"),
            Err(NumberError::InvalidCountryCode)
        );
        // A site without a subscriber number: the setting follows the area code.
        let mut no_subscriber = fields("");
        no_subscriber.subscriber = String::new();
        let plan = SitePlan::new(no_subscriber).unwrap();
        assert_eq!(plan.own_number("4799123").unwrap().e164(), "+4981424799123");
    }

    /// (outside_line, input, E.164, class, spaced form)
    const CASES: &[(&str, &str, &str, NumberClass, &str)] = &[
        // extension: at most 3 digits
        ("", "123", "+4981424799123", Internal, "+49 8142 4799123"),
        ("", "1", "+49814247991", Internal, "+49 8142 47991"),
        ("", "12 3", "+4981424799123", Internal, "+49 8142 4799123"),
        // local: more digits than an extension, no prefix
        ("", "4799 0", "+49814247990", Internal, "+49 8142 47990"),
        ("", "1234", "+4981421234", Local, "+49 8142 1234"),
        ("", "123456", "+498142123456", Local, "+49 8142 123456"),
        // national prefix
        (
            "",
            "08142 4799 0",
            "+49814247990",
            Internal,
            "+49 8142 47990",
        ),
        (
            "",
            "08142/123456",
            "+498142123456",
            Local,
            "+49 8142 123456",
        ),
        ("", "0891234567", "+49891234567", National, "+49 89 1234567"),
        (
            "",
            "(030) 123-456",
            "+4930123456",
            National,
            "+49 30 123456",
        ),
        // international prefix
        (
            "",
            "0033142685300",
            "+33142685300",
            International,
            "+33 1 42 68 53 00",
        ),
        (
            "",
            "0049 8142 4799123",
            "+4981424799123",
            Internal,
            "+49 8142 4799123",
        ),
        (
            "",
            "001 212 555 1234",
            "+12125551234",
            International,
            "+1 212 555 1234",
        ),
        // already E.164
        (
            "",
            "+49 (30) 123-456",
            "+4930123456",
            National,
            "+49 30 123456",
        ),
        (
            "",
            "+4981424799123",
            "+4981424799123",
            Internal,
            "+49 8142 4799123",
        ),
        (
            "",
            "+33.1.42.68.53.00",
            "+33142685300",
            International,
            "+33 1 42 68 53 00",
        ),
        (
            "",
            "\u{a0}+44 20 7946 0000\t",
            "+442079460000",
            International,
            "+44 20 7946 0000",
        ),
        // outside line 0: removed once, then the same rules
        (
            "0",
            "0 00 33 142685300",
            "+33142685300",
            International,
            "+33 1 42 68 53 00",
        ),
        (
            "0",
            "0 0891234567",
            "+49891234567",
            National,
            "+49 89 1234567",
        ),
        ("0", "0 123456", "+498142123456", Local, "+49 8142 123456"),
        ("0", "0123", "+4981424799123", Internal, "+49 8142 4799123"),
        ("0", "123", "+4981424799123", Internal, "+49 8142 4799123"),
        ("0", "+4930123456", "+4930123456", National, "+49 30 123456"),
        // without the outside line digit, a leading 0 is taken as the outside line
        (
            "0",
            "0891234567",
            "+498142891234567",
            Local,
            "+49 8142 891234567",
        ),
        // an outside line other than 0 leaves the prefixes alone when absent
        (
            "9",
            "9 0891234567",
            "+49891234567",
            National,
            "+49 89 1234567",
        ),
        (
            "9",
            "0891234567",
            "+49891234567",
            National,
            "+49 89 1234567",
        ),
        ("9", "9 123", "+4981424799123", Internal, "+49 8142 4799123"),
    ];

    #[test]
    fn normalises_classifies_and_spaces_by_the_site_plan() {
        for &(outside, input, e164, class, spaced) in CASES {
            let plan = site(outside);
            let n = plan
                .normalise(input)
                .unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(n.e164(), e164, "{input:?} with outside line {outside:?}");
            assert_eq!(plan.classify(&n), class, "{input:?}");
            assert_eq!(plan.spaced(&n), spaced, "{input:?}");
            assert_eq!(n.to_string(), e164);
        }
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        let cases: &[(&str, &str, NumberError)] = &[
            ("", "", NumberError::Empty),
            ("", " ( ) - / . ", NumberError::Empty),
            ("", "+", NumberError::Empty),
            ("", "0", NumberError::Empty),
            ("0", "0", NumberError::Empty),
            (
                "",
                "12a4",
                NumberError::InvalidCharacter {
                    character: 'a',
                    position: 2,
                },
            ),
            (
                "",
                "+49+30",
                NumberError::InvalidCharacter {
                    character: '+',
                    position: 3,
                },
            ),
            (
                "",
                "49+30",
                NumberError::InvalidCharacter {
                    character: '+',
                    position: 2,
                },
            ),
            (
                "",
                "١٢٣",
                NumberError::InvalidCharacter {
                    character: '١',
                    position: 0,
                },
            ),
            ("", "+123456", NumberError::TooShort { digits: 6 }),
            ("", "0012345", NumberError::TooShort { digits: 5 }),
            ("", "+1234567890123456", NumberError::TooLong { digits: 16 }),
            (
                "",
                "0049123456789012345",
                NumberError::TooLong { digits: 17 },
            ),
            ("", "000123456789", NumberError::InvalidCountryCode),
            ("", "+0123456789", NumberError::InvalidCountryCode),
            ("", &"1".repeat(65), NumberError::TooLong { digits: 65 }),
        ];
        for (outside, input, want) in cases {
            assert_eq!(
                site(outside).normalise(input).as_ref(),
                Err(want),
                "{input:?}"
            );
        }
    }

    #[test]
    fn from_e164_needs_the_plus() {
        assert_eq!(
            PhoneNumber::from_e164("+49 8142 4799123").unwrap().digits(),
            "4981424799123"
        );
        assert_eq!(
            "08142".parse::<PhoneNumber>(),
            Err(NumberError::InvalidCharacter {
                character: '0',
                position: 0
            })
        );
        assert_eq!(PhoneNumber::from_e164(""), Err(NumberError::Empty));
    }

    #[test]
    fn serde_uses_the_e164_string() {
        let n = PhoneNumber::from_e164("+4930123456").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), r#""+4930123456""#);
        assert_eq!(
            serde_json::from_str::<PhoneNumber>(r#""+49 30 123456""#).unwrap(),
            n
        );
        assert!(serde_json::from_str::<PhoneNumber>(r#""030 123456""#).is_err());
        let plan: SitePlan = serde_json::from_str(
            r#"{"country_code":"49","area_code":"8142","subscriber":"4799","extension_digits":3}"#,
        )
        .unwrap();
        assert_eq!(plan, site(""));
        let err = serde_json::from_str::<SitePlan>(
            r#"{"country_code":"49","area_code":"81x","subscriber":"4799","extension_digits":3}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("site.area_code"), "{err}");
        assert!(serde_json::from_str::<SitePlan>(r#"{"country_code":"49","area_code":"8142","subscriber":"4799","extension_digits":3,"x":1}"#).is_err());
    }

    #[test]
    fn classes_without_area_or_subscriber() {
        let plan = SitePlan::new(SitePlanFields {
            country_code: "45".into(),
            area_code: String::new(),
            subscriber: String::new(),
            extension_digits: 0,
            international_prefix: "00".into(),
            national_prefix: String::new(),
            outside_line: String::new(),
        })
        .unwrap();
        let n = plan.normalise("33 12 34 56").unwrap();
        assert_eq!(n.e164(), "+4533123456");
        assert_eq!(plan.classify(&n), Internal);
        assert_eq!(plan.spaced(&n), "+45 33 12 34 56");
        let n = plan.normalise("0049 30 123456").unwrap();
        assert_eq!(plan.classify(&n), International);
    }

    #[test]
    fn site_plan_errors_name_the_field() {
        type Edit = fn(&mut SitePlanFields);
        let cases: &[(Edit, &str)] = &[
            (|f| f.country_code = String::new(), "country_code"),
            (|f| f.country_code = "049".into(), "country_code"),
            (|f| f.country_code = "4a".into(), "country_code"),
            (|f| f.area_code = "81 42".into(), "area_code"),
            (|f| f.subscriber = "-1".into(), "subscriber"),
            (|f| f.extension_digits = 9, "extension_digits"),
            (|f| f.subscriber = "4799999".into(), "extension_digits"),
            (
                |f| f.international_prefix = String::new(),
                "international_prefix",
            ),
            (|f| f.national_prefix = "00".into(), "national_prefix"),
            (|f| f.national_prefix = "x".into(), "national_prefix"),
            (|f| f.outside_line = "000".into(), "outside_line"),
        ];
        for (edit, field) in cases {
            let mut f = fields("");
            edit(&mut f);
            let err = SitePlan::new(f).unwrap_err();
            assert_eq!(err.field(), *field, "{err}");
            assert!(
                err.to_string().starts_with(&format!("site.{field} = ")),
                "{err}"
            );
        }
    }

    #[test]
    fn rights_permit_classes_up_to_their_level() {
        let classes = [Internal, Local, National, International];
        for rights in [
            Rights::None,
            Rights::Internal,
            Rights::Local,
            Rights::National,
            Rights::International,
        ] {
            for class in classes {
                let want = rights != Rights::None && rights >= class.required_rights();
                assert_eq!(rights.permits(class), want, "{rights} {class}");
            }
        }
        assert!(!Rights::None.permits(Internal));
        assert!(Rights::Local.permits(Internal));
        assert!(!Rights::Local.permits(National));
        assert!(Rights::International.permits(International));
        assert_eq!("LOCAL".parse::<NumberClass>(), Ok(Local));
    }

    #[test]
    fn spaced_form_falls_back_for_unknown_country_codes() {
        let plan = site("");
        // +999 is not assigned.
        let n = PhoneNumber::from_e164("+9991234567").unwrap();
        assert_eq!(plan.spaced(&n).replace(' ', ""), n.e164());
        let n = PhoneNumber::from_e164("+3312").unwrap_err();
        assert_eq!(n, NumberError::TooShort { digits: 4 });
        let n = PhoneNumber::from_e164("+331234").unwrap_err();
        assert_eq!(n, NumberError::TooShort { digits: 6 });
    }

    proptest! {
        #[test]
        fn normalise_never_panics(input in "\\PC{0,40}") {
            let _ = site("0").normalise(&input);
            let _ = site("").normalise(&input);
        }

        #[test]
        fn results_are_e164_and_spaced_form_keeps_the_digits(
            input in "[+]?[0-9 ()/.-]{1,24}",
            outside in "[0-9]{0,1}",
        ) {
            let plan = site(&outside);
            if let Ok(n) = plan.normalise(&input) {
                prop_assert!(n.digits().len() >= PhoneNumber::MIN_DIGITS);
                prop_assert!(n.digits().len() <= PhoneNumber::MAX_DIGITS);
                prop_assert!(!n.digits().starts_with('0'));
                prop_assert_eq!(PhoneNumber::from_e164(&n.e164()), Ok(n.clone()));
                let spaced = plan.spaced(&n);
                prop_assert_eq!(spaced.replace(' ', ""), n.e164());
                prop_assert_eq!(plan.normalise(&spaced), Ok(n.clone()));
            }
        }

        #[test]
        fn spaced_form_of_any_e164_number_keeps_the_digits(digits in "[1-9][0-9]{6,14}") {
            let plan = site("");
            let n = PhoneNumber::from_e164(&format!("+{digits}")).unwrap();
            let spaced = plan.spaced(&n);
            prop_assert_eq!(spaced.replace(' ', ""), n.e164());
            prop_assert!(!spaced.contains("  "));
        }
    }
}

//! The UMS user settings: the `ums1;key=value;…` directory attribute of DESIGN.md §5.
//!
//! [`UserSettings::parse`] reads the attribute into typed [`Setting`]s, keeping keys this
//! version does not know; [`UserSettings::to_attribute`] writes it back. Accessors return
//! `Option<T>`, where `None` means "absent: use the instance default" (`[instance.defaults]`).
//!
//! # Contract for callers
//! A malformed attribute is rejected as a whole: `parse` returns an error and no partial
//! settings. The caller then grants the user **only the instance defaults** and logs the error
//! together with the user's DN. Reading only the pairs before a broken one could grant a right
//! that a later pair was meant to take away, so there is no "best effort" mode.
//!
//! There is deliberately no serde implementation: a configuration or file directory that holds
//! the attribute keeps it as a string and calls `parse` per user, so that one user's broken
//! attribute does not stop the whole directory from loading.
//!
//! # Format (implementation summary)
//! - The attribute starts with `ums1` (any case); `ums2…` and other versions are refused as
//!   unsupported. `ums1` alone is valid and empty.
//! - Pairs follow, each `;key=value`. Empty pairs (`;;`, a trailing `;`) are skipped.
//! - A key is 1 to [`UserSettings::MAX_KEY_LEN`] characters of `A-Z a-z 0-9 . _ -`. Known keys
//!   ([`Key`]) match in any case and are written back in lower case; other keys are kept with
//!   their spelling, in their place, and written back unchanged.
//! - A value runs from the first `=` to the next `;`. `%XX` (hex, either case) is decoded as a
//!   byte and the bytes must form UTF-8; a `%` not followed by two hex digits is an error. On
//!   writing, `%`, `;`, `=` and control characters are encoded as `%XX` (upper case hex, one
//!   per UTF-8 byte); everything else, including spaces, is written as it is. A bare `=` inside
//!   a value is accepted on reading, since the first `=` already ended the key.
//! - Values of known keys must be valid (table below); free-text values may be anything,
//!   including empty.
//! - **Duplicate keys are an error** (compared case-insensitively). With "last wins", an
//!   administrator who appends `fax.rights=none` to revoke a right could be overridden by a
//!   forgotten earlier pair, or the reverse, without anyone noticing; an error makes the
//!   conflict visible in the log and grants only the defaults meanwhile.
//! - Limits: at most [`UserSettings::MAX_LEN`] bytes as written and
//!   [`UserSettings::MAX_KEYS`] pairs. They hold for parsing and for every setter, so a value
//!   that parsed can always be written back.
//!
//! | key | type | accessor |
//! |---|---|---|
//! | `vip`, `cover.force`, `report.delete` | `0` / `1` | `bool` |
//! | `origin`, `fax.sender` | a dial string: digits, `+`, `( ) - / .`, spaces, ≤ 32 chars | `&str` |
//! | `billing`, `cover`, `fax.headline` | free text | `&str` |
//! | `report.lang` | [`Language`] | |
//! | `priority` | [`Priority`] | |
//! | `fax.rights`, `sms.rights`, `voice.rights` | [`Rights`] | [`UserSettings::rights`] |
//! | `fax.max_pages` | a number; `0` = system default and reads as `None` | `NonZeroU32` |
//! | `fax.per_day`, `sms.per_day`, `voice.per_day` | [`PerDay`] | [`UserSettings::per_day`] |
//! | `fax.inbound` | [`InboundFax`] | |

use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use crate::closed_set::closed_set;
use crate::{InboundFax, Language, PerDay, Priority, Rights, Service, UnknownValue};

/// The version tag every attribute starts with.
const PREFIX: &str = "ums1";

/// The longest dial string accepted for `origin` and `fax.sender`.
const MAX_DIAL_LEN: usize = 32;

/// A key of the §5 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Vip,
    Origin,
    Billing,
    Cover,
    CoverForce,
    ReportLang,
    ReportDelete,
    Priority,
    FaxSender,
    FaxHeadline,
    FaxRights,
    SmsRights,
    VoiceRights,
    FaxMaxPages,
    FaxPerDay,
    SmsPerDay,
    VoicePerDay,
    FaxInbound,
}

closed_set!(
    Key,
    case_insensitive = true,
    [
        (Vip, "vip"),
        (Origin, "origin"),
        (Billing, "billing"),
        (Cover, "cover"),
        (CoverForce, "cover.force"),
        (ReportLang, "report.lang"),
        (ReportDelete, "report.delete"),
        (Priority, "priority"),
        (FaxSender, "fax.sender"),
        (FaxHeadline, "fax.headline"),
        (FaxRights, "fax.rights"),
        (SmsRights, "sms.rights"),
        (VoiceRights, "voice.rights"),
        (FaxMaxPages, "fax.max_pages"),
        (FaxPerDay, "fax.per_day"),
        (SmsPerDay, "sms.per_day"),
        (VoicePerDay, "voice.per_day"),
        (FaxInbound, "fax.inbound"),
    ]
);

impl Key {
    /// `fax.rights`, `sms.rights` or `voice.rights`.
    pub fn rights(service: Service) -> Key {
        match service {
            Service::Fax => Key::FaxRights,
            Service::Sms => Key::SmsRights,
            Service::Voice => Key::VoiceRights,
        }
    }

    /// `fax.per_day`, `sms.per_day` or `voice.per_day`.
    pub fn per_day(service: Service) -> Key {
        match service {
            Service::Fax => Key::FaxPerDay,
            Service::Sms => Key::SmsPerDay,
            Service::Voice => Key::VoicePerDay,
        }
    }
}

/// One known setting with its typed value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Setting {
    /// `vip`: may send in emergency mode.
    Vip(bool),
    /// `origin`: the originating number signalled for this user, as written.
    Origin(String),
    /// `billing`: billing code, free text.
    Billing(String),
    /// `cover`: cover page name, free text.
    Cover(String),
    /// `cover.force`: always add a cover page.
    CoverForce(bool),
    /// `report.lang`.
    ReportLang(Language),
    /// `report.delete`: no delivery reports (error reports still come).
    ReportDelete(bool),
    /// `priority`: the highest priority allowed.
    Priority(Priority),
    /// `fax.sender`: fax sender number (extension), as written.
    FaxSender(String),
    /// `fax.headline`: fax header line, free text.
    FaxHeadline(String),
    /// `fax.rights`, `sms.rights`, `voice.rights`.
    Rights(Service, Rights),
    /// `fax.max_pages`: `0` = system default.
    FaxMaxPages(u32),
    /// `fax.per_day`, `sms.per_day`, `voice.per_day`.
    PerDay(Service, PerDay),
    /// `fax.inbound`.
    FaxInbound(InboundFax),
}

impl Setting {
    /// The key this setting is stored under.
    pub fn key(&self) -> Key {
        match self {
            Setting::Vip(_) => Key::Vip,
            Setting::Origin(_) => Key::Origin,
            Setting::Billing(_) => Key::Billing,
            Setting::Cover(_) => Key::Cover,
            Setting::CoverForce(_) => Key::CoverForce,
            Setting::ReportLang(_) => Key::ReportLang,
            Setting::ReportDelete(_) => Key::ReportDelete,
            Setting::Priority(_) => Key::Priority,
            Setting::FaxSender(_) => Key::FaxSender,
            Setting::FaxHeadline(_) => Key::FaxHeadline,
            Setting::Rights(service, _) => Key::rights(*service),
            Setting::FaxMaxPages(_) => Key::FaxMaxPages,
            Setting::PerDay(service, _) => Key::per_day(*service),
            Setting::FaxInbound(_) => Key::FaxInbound,
        }
    }

    /// Reads the (already decoded) value of `key`.
    pub fn parse(key: Key, value: &str) -> Result<Setting, SettingsError> {
        let invalid = |source: UnknownValue| SettingsError::InvalidValue { key, source };
        let flag = || match value {
            "0" => Ok(false),
            "1" => Ok(true),
            _ => Err(invalid(UnknownValue {
                value: value.to_owned(),
                expected: &["0", "1"],
            })),
        };
        let dial = || {
            let ok = !value.is_empty()
                && value.chars().count() <= MAX_DIAL_LEN
                && value.bytes().any(|b| b.is_ascii_digit())
                && value
                    .chars()
                    .all(|c| c.is_ascii_digit() || "+()-/. ".contains(c));
            if ok {
                Ok(value.to_owned())
            } else {
                Err(invalid(UnknownValue {
                    value: value.to_owned(),
                    expected: &["a number of up to 32 characters: digits, + ( ) - / . and spaces"],
                }))
            }
        };
        Ok(match key {
            Key::Vip => Setting::Vip(flag()?),
            Key::Origin => Setting::Origin(dial()?),
            Key::Billing => Setting::Billing(value.to_owned()),
            Key::Cover => Setting::Cover(value.to_owned()),
            Key::CoverForce => Setting::CoverForce(flag()?),
            Key::ReportLang => Setting::ReportLang(value.parse().map_err(invalid)?),
            Key::ReportDelete => Setting::ReportDelete(flag()?),
            Key::Priority => Setting::Priority(value.parse().map_err(invalid)?),
            Key::FaxSender => Setting::FaxSender(dial()?),
            Key::FaxHeadline => Setting::FaxHeadline(value.to_owned()),
            Key::FaxRights => Setting::Rights(Service::Fax, value.parse().map_err(invalid)?),
            Key::SmsRights => Setting::Rights(Service::Sms, value.parse().map_err(invalid)?),
            Key::VoiceRights => Setting::Rights(Service::Voice, value.parse().map_err(invalid)?),
            Key::FaxMaxPages => {
                let pages = value
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| value.parse::<u32>().ok())
                    .flatten()
                    .ok_or_else(|| {
                        invalid(UnknownValue {
                            value: value.to_owned(),
                            expected: &["0 (system default)", "a number of pages"],
                        })
                    })?;
                Setting::FaxMaxPages(pages)
            }
            Key::FaxPerDay => Setting::PerDay(Service::Fax, value.parse().map_err(invalid)?),
            Key::SmsPerDay => Setting::PerDay(Service::Sms, value.parse().map_err(invalid)?),
            Key::VoicePerDay => Setting::PerDay(Service::Voice, value.parse().map_err(invalid)?),
            Key::FaxInbound => Setting::FaxInbound(value.parse().map_err(invalid)?),
        })
    }

    /// The value as text, not yet percent-encoded (`international`, `1`, `Firma; Marketing`).
    pub fn value(&self) -> Cow<'_, str> {
        let flag = |b: bool| Cow::Borrowed(if b { "1" } else { "0" });
        match self {
            Setting::Vip(b) | Setting::CoverForce(b) | Setting::ReportDelete(b) => flag(*b),
            Setting::Origin(s)
            | Setting::Billing(s)
            | Setting::Cover(s)
            | Setting::FaxSender(s)
            | Setting::FaxHeadline(s) => Cow::Borrowed(s),
            Setting::ReportLang(l) => Cow::Borrowed(l.as_str()),
            Setting::Priority(p) => Cow::Borrowed(p.as_str()),
            Setting::Rights(_, r) => Cow::Borrowed(r.as_str()),
            Setting::FaxMaxPages(n) => Cow::Owned(n.to_string()),
            Setting::PerDay(_, p) => Cow::Owned(p.to_string()),
            Setting::FaxInbound(i) => Cow::Borrowed(i.as_str()),
        }
    }
}

/// Why an attribute could not be read, or a setting not stored.
///
/// The reasons are a closed, documented set, so they are a public enum; the only lower-level
/// cause, a bad value of a known key, is chained through `source()`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingsError {
    /// The attribute does not start with `ums1`.
    MissingPrefix,
    /// The attribute starts with another version tag, e.g. `ums2`.
    UnsupportedVersion { version: String },
    /// The attribute (as written) would be longer than [`UserSettings::MAX_LEN`] bytes.
    TooLong { len: usize },
    /// More than [`UserSettings::MAX_KEYS`] pairs.
    TooManyKeys,
    /// A pair without `=`; `pair` counts the pairs after `ums1` from 1.
    MissingEquals { pair: usize },
    /// A key that is empty, too long, or has characters other than `A-Za-z0-9._-`.
    InvalidKey { key: String },
    /// A key that occurs twice.
    DuplicateKey { key: String },
    /// A `%` not followed by two hex digits, at this byte offset of the encoded value.
    InvalidEscape { key: String, offset: usize },
    /// The decoded bytes of a value are not UTF-8.
    InvalidUtf8 { key: String },
    /// A value that is not valid for its known key.
    InvalidValue { key: Key, source: UnknownValue },
    /// [`UserSettings::set`] was given a key that is not in the §5 table.
    UnknownKey { key: String },
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::MissingPrefix => {
                write!(f, "the attribute does not start with `{PREFIX}`")
            }
            SettingsError::UnsupportedVersion { version } => {
                write!(
                    f,
                    "settings format `{version}` is not supported, only `{PREFIX}`"
                )
            }
            SettingsError::TooLong { len } => {
                write!(
                    f,
                    "the attribute has {len} bytes, at most {} are allowed",
                    UserSettings::MAX_LEN
                )
            }
            SettingsError::TooManyKeys => {
                write!(
                    f,
                    "the attribute has more than {} keys",
                    UserSettings::MAX_KEYS
                )
            }
            SettingsError::MissingEquals { pair } => write!(f, "pair {pair} has no `=`"),
            SettingsError::InvalidKey { key } => write!(
                f,
                "`{key}` is not a valid key (1 to {} characters of A-Z a-z 0-9 . _ -)",
                UserSettings::MAX_KEY_LEN
            ),
            SettingsError::DuplicateKey { key } => write!(f, "key `{key}` occurs more than once"),
            SettingsError::InvalidEscape { key, offset } => {
                write!(
                    f,
                    "the value of `{key}` has an invalid %-escape at byte {offset}"
                )
            }
            SettingsError::InvalidUtf8 { key } => {
                write!(f, "the value of `{key}` is not UTF-8 once decoded")
            }
            SettingsError::InvalidValue { key, source } => {
                write!(f, "invalid value for `{key}`: {source}")
            }
            SettingsError::UnknownKey { key } => {
                write!(
                    f,
                    "`{key}` is not a known setting (one of: {})",
                    Key::SPELLINGS.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for SettingsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SettingsError::InvalidValue { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// One pair, in the attribute's order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Known(Setting),
    /// A key this version does not know: spelling and decoded value, written back as read.
    Unknown {
        key: String,
        value: String,
    },
}

impl Entry {
    fn key(&self) -> &str {
        match self {
            Entry::Known(s) => s.key().as_str(),
            Entry::Unknown { key, .. } => key,
        }
    }

    fn value(&self) -> Cow<'_, str> {
        match self {
            Entry::Known(s) => s.value(),
            Entry::Unknown { value, .. } => Cow::Borrowed(value),
        }
    }
}

/// A user's UMS settings, in the order of the attribute (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserSettings {
    entries: Vec<Entry>,
}

impl UserSettings {
    /// The longest attribute accepted or written, in bytes.
    pub const MAX_LEN: usize = 8 * 1024;
    /// The most pairs accepted or written.
    pub const MAX_KEYS: usize = 64;
    /// The longest key accepted.
    pub const MAX_KEY_LEN: usize = 64;

    /// No settings: every value is the instance default. Written as `ums1`.
    pub fn new() -> UserSettings {
        UserSettings::default()
    }

    /// Reads the attribute. On error the caller grants only the instance defaults and logs
    /// the error with the user's DN (module documentation).
    pub fn parse(attribute: &str) -> Result<UserSettings, SettingsError> {
        if attribute.len() > UserSettings::MAX_LEN {
            return Err(SettingsError::TooLong {
                len: attribute.len(),
            });
        }
        let mut pairs = attribute.split(';');
        let version = pairs.next().unwrap_or_default();
        if !version.eq_ignore_ascii_case(PREFIX) {
            let is_version = version.len() > 3
                && version
                    .get(..3)
                    .is_some_and(|p| p.eq_ignore_ascii_case("ums"))
                && version.bytes().skip(3).all(|b| b.is_ascii_digit());
            return Err(if is_version {
                SettingsError::UnsupportedVersion {
                    version: version.to_owned(),
                }
            } else {
                SettingsError::MissingPrefix
            });
        }
        let mut settings = UserSettings::new();
        for (index, pair) in pairs.enumerate() {
            if pair.is_empty() {
                continue;
            }
            let (key, encoded) = pair
                .split_once('=')
                .ok_or(SettingsError::MissingEquals { pair: index + 1 })?;
            check_key(key)?;
            let value = decode(key, encoded)?;
            let entry = match Key::from_str(key) {
                Ok(known) => Entry::Known(Setting::parse(known, &value)?),
                Err(_) => Entry::Unknown {
                    key: key.to_owned(),
                    value,
                },
            };
            if settings.position(entry.key()).is_some() {
                return Err(SettingsError::DuplicateKey {
                    key: key.to_owned(),
                });
            }
            if settings.entries.len() == UserSettings::MAX_KEYS {
                return Err(SettingsError::TooManyKeys);
            }
            settings.entries.push(entry);
        }
        // Re-encoding may lengthen a value (a bare `=`, a raw control character), and what
        // parsed must stay writable.
        let len = settings.to_attribute().len();
        if len > UserSettings::MAX_LEN {
            return Err(SettingsError::TooLong { len });
        }
        Ok(settings)
    }

    /// Writes the attribute: `ums1`, then `;key=value` per pair in order, values
    /// percent-encoded. Parsing the result gives back an equal `UserSettings`.
    pub fn to_attribute(&self) -> String {
        let mut out = String::from(PREFIX);
        for entry in &self.entries {
            out.push(';');
            out.push_str(entry.key());
            out.push('=');
            encode_into(&entry.value(), &mut out);
        }
        out
    }

    /// Sets a known key from its text value (not percent-encoded), replacing it in place if
    /// present, appending it otherwise. Keys outside the §5 table are refused, so that a typo
    /// is not stored as an unknown key; the value is validated as when parsing.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SettingsError> {
        let known = Key::from_str(key).map_err(|_| SettingsError::UnknownKey {
            key: key.to_owned(),
        })?;
        self.put(Setting::parse(known, value)?)
    }

    /// Stores a typed setting, replacing the same key in place if present, appending it
    /// otherwise. Validated like [`UserSettings::set`] (a dial string, the limits).
    pub fn put(&mut self, setting: Setting) -> Result<(), SettingsError> {
        let setting = Setting::parse(setting.key(), &setting.value())?;
        let entry = Entry::Known(setting);
        let mut next = self.clone();
        match next.position(entry.key()) {
            Some(i) => next.entries[i] = entry,
            None if next.entries.len() == UserSettings::MAX_KEYS => {
                return Err(SettingsError::TooManyKeys);
            }
            None => next.entries.push(entry),
        }
        let len = next.to_attribute().len();
        if len > UserSettings::MAX_LEN {
            return Err(SettingsError::TooLong { len });
        }
        *self = next;
        Ok(())
    }

    /// Removes a key, known or not (any case); returns whether it was present. Afterwards the
    /// instance default applies.
    pub fn remove(&mut self, key: &str) -> bool {
        match self.position(key) {
            Some(i) => {
                self.entries.remove(i);
                true
            }
            None => false,
        }
    }

    /// Every pair in order, as key spelling and text value (not percent-encoded); unknown
    /// keys included. For display (`umsgate user show`).
    pub fn iter(&self) -> impl Iterator<Item = (&str, Cow<'_, str>)> {
        self.entries.iter().map(|e| (e.key(), e.value()))
    }

    /// The pairs whose keys this version does not know, in order.
    pub fn unknown(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Unknown { key, value } => Some((key.as_str(), value.as_str())),
            Entry::Known(_) => None,
        })
    }

    /// The number of pairs, unknown keys included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no pairs at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The setting stored under `key`, if any.
    pub fn get(&self, key: Key) -> Option<&Setting> {
        self.entries.iter().find_map(|e| match e {
            Entry::Known(s) if s.key() == key => Some(s),
            _ => None,
        })
    }

    /// `vip`.
    pub fn vip(&self) -> Option<bool> {
        match self.get(Key::Vip)? {
            Setting::Vip(b) => Some(*b),
            _ => None,
        }
    }

    /// `origin`, as written (normalise it with the site plan).
    pub fn origin(&self) -> Option<&str> {
        match self.get(Key::Origin)? {
            Setting::Origin(s) => Some(s),
            _ => None,
        }
    }

    /// `billing`.
    pub fn billing(&self) -> Option<&str> {
        match self.get(Key::Billing)? {
            Setting::Billing(s) => Some(s),
            _ => None,
        }
    }

    /// `cover`; `Some("")` is an explicitly empty cover page name.
    pub fn cover(&self) -> Option<&str> {
        match self.get(Key::Cover)? {
            Setting::Cover(s) => Some(s),
            _ => None,
        }
    }

    /// `cover.force`.
    pub fn cover_force(&self) -> Option<bool> {
        match self.get(Key::CoverForce)? {
            Setting::CoverForce(b) => Some(*b),
            _ => None,
        }
    }

    /// `report.lang`.
    pub fn report_lang(&self) -> Option<Language> {
        match self.get(Key::ReportLang)? {
            Setting::ReportLang(l) => Some(*l),
            _ => None,
        }
    }

    /// `report.delete`.
    pub fn report_delete(&self) -> Option<bool> {
        match self.get(Key::ReportDelete)? {
            Setting::ReportDelete(b) => Some(*b),
            _ => None,
        }
    }

    /// `priority`: the highest priority allowed.
    pub fn priority(&self) -> Option<Priority> {
        match self.get(Key::Priority)? {
            Setting::Priority(p) => Some(*p),
            _ => None,
        }
    }

    /// `fax.sender`, as written.
    pub fn fax_sender(&self) -> Option<&str> {
        match self.get(Key::FaxSender)? {
            Setting::FaxSender(s) => Some(s),
            _ => None,
        }
    }

    /// `fax.headline`.
    pub fn fax_headline(&self) -> Option<&str> {
        match self.get(Key::FaxHeadline)? {
            Setting::FaxHeadline(s) => Some(s),
            _ => None,
        }
    }

    /// `fax.rights`, `sms.rights` or `voice.rights`.
    pub fn rights(&self, service: Service) -> Option<Rights> {
        match self.get(Key::rights(service))? {
            Setting::Rights(_, r) => Some(*r),
            _ => None,
        }
    }

    /// `fax.rights`.
    pub fn fax_rights(&self) -> Option<Rights> {
        self.rights(Service::Fax)
    }

    /// `sms.rights`.
    pub fn sms_rights(&self) -> Option<Rights> {
        self.rights(Service::Sms)
    }

    /// `voice.rights`.
    pub fn voice_rights(&self) -> Option<Rights> {
        self.rights(Service::Voice)
    }

    /// `fax.max_pages`; `0` means the system default and reads as `None`, like an absent key.
    pub fn fax_max_pages(&self) -> Option<NonZeroU32> {
        match self.get(Key::FaxMaxPages)? {
            Setting::FaxMaxPages(n) => NonZeroU32::new(*n),
            _ => None,
        }
    }

    /// `fax.per_day`, `sms.per_day` or `voice.per_day`.
    pub fn per_day(&self, service: Service) -> Option<PerDay> {
        match self.get(Key::per_day(service))? {
            Setting::PerDay(_, p) => Some(*p),
            _ => None,
        }
    }

    /// `fax.per_day`.
    pub fn fax_per_day(&self) -> Option<PerDay> {
        self.per_day(Service::Fax)
    }

    /// `sms.per_day`.
    pub fn sms_per_day(&self) -> Option<PerDay> {
        self.per_day(Service::Sms)
    }

    /// `voice.per_day`.
    pub fn voice_per_day(&self) -> Option<PerDay> {
        self.per_day(Service::Voice)
    }

    /// `fax.inbound`.
    pub fn fax_inbound(&self) -> Option<InboundFax> {
        match self.get(Key::FaxInbound)? {
            Setting::FaxInbound(i) => Some(*i),
            _ => None,
        }
    }

    /// Where `key` (any case) is stored.
    fn position(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.key().eq_ignore_ascii_case(key))
    }
}

impl fmt::Display for UserSettings {
    /// The attribute, as [`UserSettings::to_attribute`] writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_attribute())
    }
}

impl FromStr for UserSettings {
    type Err = SettingsError;
    /// Same as [`UserSettings::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UserSettings::parse(s)
    }
}

fn check_key(key: &str) -> Result<(), SettingsError> {
    let ok = !key.is_empty()
        && key.len() <= UserSettings::MAX_KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(SettingsError::InvalidKey {
            key: key.to_owned(),
        })
    }
}

/// Decodes `%XX` escapes of a value; everything else is taken as it is.
fn decode(key: &str, encoded: &str) -> Result<String, SettingsError> {
    if !encoded.contains('%') {
        return Ok(encoded.to_owned());
    }
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|&h| char::from(h).to_digit(16));
            let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
                return Err(SettingsError::InvalidEscape {
                    key: key.to_owned(),
                    offset: i,
                });
            };
            // Two hex digits are at most 0xFF, so the conversion cannot fail.
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(u8::MAX));
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| SettingsError::InvalidUtf8 {
        key: key.to_owned(),
    })
}

/// Appends `value` with `%`, `;`, `=` and control characters as upper-case `%XX` per byte.
fn encode_into(value: &str, out: &mut String) {
    for c in value.chars() {
        if matches!(c, '%' | ';' | '=') || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::num::NonZeroU32;

    use proptest::prelude::*;

    use super::{Entry, Key, Setting, SettingsError, UserSettings};
    use crate::{InboundFax, Language, PerDay, Priority, Rights, Service};

    const EXAMPLE: &str = "ums1;fax.rights=international;fax.max_pages=60;sms.rights=national;\
                           sms.per_day=5;fax.headline=Firma%3B Marketing";

    #[test]
    fn reads_the_design_example() {
        let s = UserSettings::parse(EXAMPLE).unwrap();
        assert_eq!(s.fax_rights(), Some(Rights::International));
        assert_eq!(s.fax_max_pages(), NonZeroU32::new(60));
        assert_eq!(s.sms_rights(), Some(Rights::National));
        assert_eq!(s.sms_per_day(), Some(PerDay::Limit(5)));
        assert_eq!(s.fax_headline(), Some("Firma; Marketing"));
        assert_eq!(s.voice_rights(), None);
        assert_eq!(s.vip(), None);
        assert_eq!(s.to_attribute(), EXAMPLE);
    }

    #[test]
    fn every_key_has_a_typed_accessor() {
        let attr = "ums1;vip=1;origin=+49 8142 4799 0;billing=K-17%25;cover=Standard;cover.force=0;\
                    report.lang=DE;report.delete=1;priority=high;fax.sender=123;fax.headline=Example;\
                    fax.rights=local;sms.rights=none;voice.rights=internal;fax.max_pages=0;\
                    fax.per_day=system;sms.per_day=unlimited;voice.per_day=3;fax.inbound=pdf+tif";
        let s = UserSettings::parse(attr).unwrap();
        assert_eq!(s.len(), Key::SPELLINGS.len());
        assert_eq!(s.vip(), Some(true));
        assert_eq!(s.origin(), Some("+49 8142 4799 0"));
        assert_eq!(s.billing(), Some("K-17%"));
        assert_eq!(s.cover(), Some("Standard"));
        assert_eq!(s.cover_force(), Some(false));
        assert_eq!(s.report_lang(), Some(Language::De));
        assert_eq!(s.report_delete(), Some(true));
        assert_eq!(s.priority(), Some(Priority::High));
        assert_eq!(s.fax_sender(), Some("123"));
        assert_eq!(s.fax_headline(), Some("Example"));
        assert_eq!(s.fax_rights(), Some(Rights::Local));
        assert_eq!(s.sms_rights(), Some(Rights::None));
        assert_eq!(s.voice_rights(), Some(Rights::Internal));
        assert_eq!(s.fax_max_pages(), None, "0 is the system default");
        assert_eq!(s.get(Key::FaxMaxPages), Some(&Setting::FaxMaxPages(0)));
        assert_eq!(s.fax_per_day(), Some(PerDay::System));
        assert_eq!(s.sms_per_day(), Some(PerDay::Unlimited));
        assert_eq!(s.voice_per_day(), Some(PerDay::Limit(3)));
        assert_eq!(s.fax_inbound(), Some(InboundFax::PdfAndTif));
        // Known keys are written back in canonical spelling.
        assert!(s.to_attribute().contains(";report.lang=de;"));
        assert!(s.to_attribute().contains(";billing=K-17%25;"));
        assert_eq!(UserSettings::parse(&s.to_attribute()).unwrap(), s);
    }

    #[test]
    fn empty_and_tolerated_forms() {
        for attr in ["ums1", "UMS1", "ums1;", "ums1;;;"] {
            assert!(UserSettings::parse(attr).unwrap().is_empty(), "{attr}");
        }
        assert_eq!(UserSettings::new().to_attribute(), "ums1");
        let s = UserSettings::parse("ums1;FAX.Rights=NONE;;fax.headline=a=b;").unwrap();
        assert_eq!(s.fax_rights(), Some(Rights::None));
        assert_eq!(
            s.fax_headline(),
            Some("a=b"),
            "a bare = in a value is accepted"
        );
        assert_eq!(s.to_attribute(), "ums1;fax.rights=none;fax.headline=a%3Db");
        let s = UserSettings::parse("ums1;cover=;fax.headline=%e4%C3%a4").unwrap_err();
        assert_eq!(
            s,
            SettingsError::InvalidUtf8 {
                key: "fax.headline".into()
            }
        );
        let s = UserSettings::parse("ums1;cover=;fax.headline=%c3%a4").unwrap();
        assert_eq!(s.cover(), Some(""));
        assert_eq!(s.fax_headline(), Some("ä"));
    }

    #[test]
    fn unknown_keys_are_kept_in_place() {
        let attr = "ums1;x.future=a%3Bb;fax.rights=local;Zeta_2=%0Aline;sms.rights=none";
        let mut s = UserSettings::parse(attr).unwrap();
        assert_eq!(
            s.unknown().collect::<Vec<_>>(),
            [("x.future", "a;b"), ("Zeta_2", "\nline")]
        );
        s.set("fax.rights", "national").unwrap();
        s.set("voice.rights", "internal").unwrap();
        assert_eq!(
            s.to_attribute(),
            "ums1;x.future=a%3Bb;fax.rights=national;Zeta_2=%0Aline;sms.rights=none;voice.rights=internal"
        );
        assert!(s.remove("ZETA_2"));
        assert!(!s.remove("zeta_2"));
        assert!(s.remove("SMS.RIGHTS"));
        assert_eq!(
            s.to_attribute(),
            "ums1;x.future=a%3Bb;fax.rights=national;voice.rights=internal"
        );
        let shown: Vec<_> = s.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            shown,
            [
                "x.future=a;b",
                "fax.rights=national",
                "voice.rights=internal"
            ]
        );
    }

    #[test]
    fn malformed_attributes_are_errors() {
        let invalid = |key, value: &str| SettingsError::InvalidValue {
            key,
            source: Setting::parse(key, value)
                .map(|_| ())
                .unwrap_err()
                .source_value(),
        };
        let cases: Vec<(&str, SettingsError)> = vec![
            ("", SettingsError::MissingPrefix),
            ("fax.rights=none", SettingsError::MissingPrefix),
            ("ums;fax.rights=none", SettingsError::MissingPrefix),
            ("ums1 ;fax.rights=none", SettingsError::MissingPrefix),
            (
                "ums2;fax.rights=none",
                SettingsError::UnsupportedVersion {
                    version: "ums2".into(),
                },
            ),
            ("ums1;fax.rights", SettingsError::MissingEquals { pair: 1 }),
            ("ums1;;vip=1;junk", SettingsError::MissingEquals { pair: 3 }),
            ("ums1;=1", SettingsError::InvalidKey { key: String::new() }),
            (
                "ums1; vip=1",
                SettingsError::InvalidKey { key: " vip".into() },
            ),
            (
                "ums1;v ip=1",
                SettingsError::InvalidKey { key: "v ip".into() },
            ),
            (
                "ums1;vip=1;VIP=0",
                SettingsError::DuplicateKey { key: "VIP".into() },
            ),
            (
                "ums1;x=1;X=1",
                SettingsError::DuplicateKey { key: "X".into() },
            ),
            (
                "ums1;billing=50%",
                SettingsError::InvalidEscape {
                    key: "billing".into(),
                    offset: 2,
                },
            ),
            (
                "ums1;billing=%4",
                SettingsError::InvalidEscape {
                    key: "billing".into(),
                    offset: 0,
                },
            ),
            (
                "ums1;billing=%G0",
                SettingsError::InvalidEscape {
                    key: "billing".into(),
                    offset: 0,
                },
            ),
            (
                "ums1;other=%ff",
                SettingsError::InvalidUtf8 {
                    key: "other".into(),
                },
            ),
            ("ums1;vip=yes", invalid(Key::Vip, "yes")),
            ("ums1;vip=", invalid(Key::Vip, "")),
            ("ums1;cover.force=2", invalid(Key::CoverForce, "2")),
            ("ums1;report.lang=ru", invalid(Key::ReportLang, "ru")),
            ("ums1;priority=urgent", invalid(Key::Priority, "urgent")),
            ("ums1;fax.rights=world", invalid(Key::FaxRights, "world")),
            ("ums1;sms.rights= none", invalid(Key::SmsRights, " none")),
            ("ums1;fax.max_pages=-1", invalid(Key::FaxMaxPages, "-1")),
            ("ums1;fax.max_pages=+5", invalid(Key::FaxMaxPages, "+5")),
            (
                "ums1;fax.max_pages=99999999999",
                invalid(Key::FaxMaxPages, "99999999999"),
            ),
            ("ums1;voice.per_day=many", invalid(Key::VoicePerDay, "many")),
            ("ums1;sms.per_day=+5", invalid(Key::SmsPerDay, "+5")),
            ("ums1;fax.inbound=doc", invalid(Key::FaxInbound, "doc")),
            ("ums1;origin=abc", invalid(Key::Origin, "abc")),
            ("ums1;fax.sender=", invalid(Key::FaxSender, "")),
            ("ums1;fax.sender=()", invalid(Key::FaxSender, "()")),
        ];
        for (attr, want) in cases {
            assert_eq!(UserSettings::parse(attr), Err(want), "{attr:?}");
        }
    }

    impl SettingsError {
        fn source_value(self) -> crate::UnknownValue {
            match self {
                SettingsError::InvalidValue { source, .. } => source,
                other => panic!("not a value error: {other}"),
            }
        }
    }

    #[test]
    fn limits_hold_for_parsing_and_setting() {
        let too_long = format!("ums1;billing={}", "x".repeat(UserSettings::MAX_LEN));
        assert!(matches!(
            UserSettings::parse(&too_long),
            Err(SettingsError::TooLong { .. })
        ));
        let many: String = (0..=UserSettings::MAX_KEYS)
            .map(|i| format!(";k{i}=1"))
            .collect();
        assert_eq!(
            UserSettings::parse(&format!("ums1{many}")),
            Err(SettingsError::TooManyKeys)
        );
        let long_key = format!("ums1;{}=1", "k".repeat(UserSettings::MAX_KEY_LEN + 1));
        assert!(matches!(
            UserSettings::parse(&long_key),
            Err(SettingsError::InvalidKey { .. })
        ));

        let mut s = UserSettings::new();
        // Each ';' encodes to three bytes: this fits raw but not encoded.
        let err = s
            .set("billing", &";".repeat(UserSettings::MAX_LEN / 2))
            .unwrap_err();
        assert!(matches!(err, SettingsError::TooLong { .. }), "{err}");
        assert!(s.is_empty(), "a refused set leaves the settings unchanged");
        let full: String = (0..UserSettings::MAX_KEYS)
            .map(|i| format!(";k{i}=1"))
            .collect();
        let mut s = UserSettings::parse(&format!("ums1{full}")).unwrap();
        assert_eq!(s.set("vip", "1"), Err(SettingsError::TooManyKeys));
    }

    #[test]
    fn setters_validate() {
        let mut s = UserSettings::new();
        s.set("Fax.Headline", "Firma; Marketing = 100%\u{7}")
            .unwrap();
        assert_eq!(
            s.to_attribute(),
            "ums1;fax.headline=Firma%3B Marketing %3D 100%25%07"
        );
        let err = s.set("fax.right", "local").unwrap_err();
        assert_eq!(
            err,
            SettingsError::UnknownKey {
                key: "fax.right".into()
            }
        );
        assert!(err.to_string().contains("fax.rights"));
        let err = s.set("sms.rights", "everywhere").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value for `sms.rights`: `everywhere` is not one of: none, internal, local, national, international"
        );
        assert!(std::error::Error::source(&err).is_some());
        assert_eq!(
            s.put(Setting::Origin("not a number".into())),
            Err(SettingsError::InvalidValue {
                key: Key::Origin,
                source: Setting::parse(Key::Origin, "x")
                    .unwrap_err()
                    .source_value()
                    .with("not a number"),
            })
        );
        s.put(Setting::Rights(Service::Voice, Rights::National))
            .unwrap();
        s.put(Setting::PerDay(Service::Sms, PerDay::Limit(7)))
            .unwrap();
        s.put(Setting::Rights(Service::Voice, Rights::Local))
            .unwrap();
        assert_eq!(s.rights(Service::Voice), Some(Rights::Local));
        assert_eq!(s.per_day(Service::Sms), Some(PerDay::Limit(7)));
        assert_eq!(s.len(), 3);
    }

    impl crate::UnknownValue {
        fn with(mut self, value: &str) -> Self {
            value.clone_into(&mut self.value);
            self
        }
    }

    #[test]
    fn errors_read_well() {
        let msg = |a: &str| UserSettings::parse(a).unwrap_err().to_string();
        assert_eq!(msg("x"), "the attribute does not start with `ums1`");
        assert_eq!(
            msg("ums9;"),
            "settings format `ums9` is not supported, only `ums1`"
        );
        assert_eq!(msg("ums1;a=1;a=2"), "key `a` occurs more than once");
        assert_eq!(
            msg("ums1;vip=2"),
            "invalid value for `vip`: `2` is not one of: 0, 1"
        );
    }

    // ---- property tests ----

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(any::<char>(), 0..24).prop_map(String::from_iter)
    }

    fn setting() -> impl Strategy<Value = Setting> {
        let service = prop::sample::select(Service::ALL.to_vec());
        let rights = prop::sample::select(vec![
            Rights::None,
            Rights::Internal,
            Rights::Local,
            Rights::National,
            Rights::International,
        ]);
        let per_day = prop_oneof![
            Just(PerDay::System),
            Just(PerDay::Unlimited),
            any::<u32>().prop_map(PerDay::Limit)
        ];
        let lang =
            prop::sample::select(Language::SPELLINGS.to_vec()).prop_map(|l| l.parse().unwrap());
        let prio =
            prop::sample::select(Priority::SPELLINGS.to_vec()).prop_map(|p| p.parse().unwrap());
        let inbound =
            prop::sample::select(InboundFax::SPELLINGS.to_vec()).prop_map(|i| i.parse().unwrap());
        let dial = "[+]?[0-9][0-9 ()/.-]{0,20}";
        prop_oneof![
            any::<bool>().prop_map(Setting::Vip),
            dial.prop_map(Setting::Origin),
            text().prop_map(Setting::Billing),
            text().prop_map(Setting::Cover),
            any::<bool>().prop_map(Setting::CoverForce),
            lang.prop_map(Setting::ReportLang),
            any::<bool>().prop_map(Setting::ReportDelete),
            prio.prop_map(Setting::Priority),
            dial.prop_map(Setting::FaxSender),
            text().prop_map(Setting::FaxHeadline),
            (service.clone(), rights).prop_map(|(s, r)| Setting::Rights(s, r)),
            any::<u32>().prop_map(Setting::FaxMaxPages),
            (service, per_day).prop_map(|(s, p)| Setting::PerDay(s, p)),
            inbound.prop_map(Setting::FaxInbound),
        ]
    }

    fn entry() -> impl Strategy<Value = Entry> {
        prop_oneof![
            3 => setting().prop_map(Entry::Known),
            1 => ("[A-Za-z0-9._-]{1,12}", text())
                .prop_filter("a known key", |(k, _)| k.parse::<Key>().is_err())
                .prop_map(|(key, value)| Entry::Unknown { key, value }),
        ]
    }

    fn settings() -> impl Strategy<Value = UserSettings> {
        prop::collection::vec(entry(), 0..24).prop_map(|entries| {
            let mut s = UserSettings::new();
            for e in entries {
                if s.position(e.key()).is_none() {
                    s.entries.push(e);
                }
            }
            s
        })
    }

    proptest! {
        #[test]
        fn round_trips(s in settings()) {
            let attr = s.to_attribute();
            prop_assert!(attr.len() <= UserSettings::MAX_LEN);
            prop_assert!(!attr.chars().any(char::is_control), "{attr:?}");
            prop_assert_eq!(UserSettings::parse(&attr), Ok(s));
        }

        #[test]
        fn set_then_parse_agrees(s in settings(), e in setting()) {
            let mut s = s;
            s.put(e.clone()).unwrap();
            prop_assert_eq!(s.get(e.key()), Some(&e));
            prop_assert_eq!(UserSettings::parse(&s.to_attribute()), Ok(s));
        }

        #[test]
        fn arbitrary_strings_never_panic(input in "\\PC*", tail in ".*") {
            let _ = UserSettings::parse(&input);
            let _ = UserSettings::parse(&format!("ums1;{tail}"));
        }

        #[test]
        fn whatever_parses_is_written_back_identically(
            pairs in prop::collection::vec(("[a-z.]{1,8}|vip|fax.rights|billing", "[a-z0-9%;=A-F]{0,8}"), 0..8)
        ) {
            let attr: String = pairs.iter().map(|(k, v)| format!(";{k}={v}")).collect();
            if let Ok(s) = UserSettings::parse(&format!("ums1{attr}")) {
                prop_assert_eq!(UserSettings::parse(&s.to_attribute()), Ok(s));
            }
        }
    }
}

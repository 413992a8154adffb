//! The sidecar: a queued mail's envelope and retry state, `<id>.json` beside `<id>.eml`.
//!
//! Contract: the sidecar is the file an administrator may read and a tool may write; it is
//! versioned (`"v": 1`), and `size` is the exact length of the `.eml`, which is how a torn or
//! truncated pair is recognised on start-up. Unknown fields are ignored on read, so that an
//! older umsgate can requeue what a newer one wrote. In memory its fields are typed (a
//! [`QueueId`], an [`InstanceId`], [`SystemTime`]s); on disk they are the strings they always
//! were: the id and instance as written, times in RFC 3339 UTC to the whole second
//! (`2026-11-26T10:00:00Z`). A sidecar whose id, instance or times do not read as such is
//! unreadable ([`SidecarError`]), like one that is not JSON, and goes to `corrupt/`.
//!
//! Implementation summary: serde derives the layout; the typed fields go through the small
//! adapters in [`wire`] (`serde(with = …)`), which write exactly the strings the untyped
//! sidecar held and refuse on read what those types refuse.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use umsgate_config::units::InstanceId;

use super::QueueId;

/// Current sidecar format version.
pub const VERSION: u32 = 1;

/// Envelope and state of one queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    pub v: u32,
    #[serde(with = "wire::queue_id")]
    pub id: QueueId,
    #[serde(with = "wire::instance")]
    pub instance: InstanceId,
    /// When the message was accepted (or, dropped in by hand, last modified). Stored to the
    /// whole second.
    #[serde(with = "wire::time")]
    pub received_at: SystemTime,
    /// Where the message came from: `smtp` (the listener), `local` (umsgate itself), `file`
    /// (an `.eml` dropped into a queue folder by hand).
    pub origin: Origin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helo: Option<String>,
    #[serde(default)]
    pub tls: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// Envelope sender; empty for the null sender `<>`.
    pub mail_from: String,
    pub rcpts: Vec<Recipient>,
    /// Length of the `.eml` in bytes.
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Delivery attempts made so far.
    #[serde(default)]
    pub attempts: u32,
    /// Time of the next attempt (stored to the whole second); none = as soon as possible.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "wire::optional_time"
    )]
    pub next_attempt: Option<SystemTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Where a queued message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Smtp,
    Local,
    File,
}

/// One envelope recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub address: String,
    /// ORCPT, xtext-decoded, without the `rfc822;` type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orcpt: Option<String>,
    /// The recipient's number within the message, given when the message is queued and never
    /// changed: a job for this recipient is `<queue id>-<key>` however many of the other
    /// recipients are done, so that a retry never reuses another recipient's job id. Sidecars
    /// written without keys (by umsgate before keys existed) get them when read, from
    /// [`LEGACY_KEY_BASE`] on by position.
    #[serde(default = "unset_key")]
    pub key: u32,
    /// What has become of this recipient; none while it is still to be handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RecipientOutcome>,
}

/// What has become of one recipient of a message in `smtp-in/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientOutcome {
    /// The job was handed to the engine (its delivery report follows).
    Submitted,
    /// The job was refused (rights, limits, bad number, engine refusal); the sender was told.
    Refused,
}

const UNSET_KEY: u32 = u32::MAX;

/// Where the keys of recipients read without one start. umsgate numbered jobs by position
/// among the recipients still to do before keys were kept, and removed those handled from the
/// sidecar: numbering the rest from 0 again could give one of them the job id of a job already
/// handed over, which the engine would take for a duplicate. No message has this many
/// recipients, so these keys never meet a job id of that numbering.
pub const LEGACY_KEY_BASE: u32 = 100_000;

fn unset_key() -> u32 {
    UNSET_KEY
}

impl Recipient {
    /// A recipient still to be handled, numbered `key` within its message.
    pub fn new(address: String, orcpt: Option<String>, key: u32) -> Recipient {
        Recipient {
            address,
            orcpt,
            key,
            outcome: None,
        }
    }

    /// Still to be handled.
    pub fn is_pending(&self) -> bool {
        self.outcome.is_none()
    }
}

impl Sidecar {
    /// The envelope of a mail umsgate writes itself (a report, a received message as mail):
    /// from `mail_from` to one recipient, not yet tried. `message_id` without `<>`.
    pub fn local(
        id: &QueueId,
        instance: &InstanceId,
        received_at: SystemTime,
        mail_from: &str,
        to: &str,
        message_id: &str,
    ) -> Sidecar {
        Sidecar {
            v: VERSION,
            id: id.clone(),
            instance: instance.clone(),
            received_at,
            origin: Origin::Local,
            client: None,
            helo: None,
            tls: false,
            auth: None,
            mail_from: mail_from.to_owned(),
            rcpts: vec![Recipient::new(to.to_owned(), None, 0)],
            size: 0,
            message_id: Some(format!("<{message_id}>")),
            attempts: 0,
            next_attempt: None,
            last_error: None,
        }
    }

    /// Serialises for disk, pretty so that administrators can read it.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Cannot fail: every field is a string, a number, a bool or a list of them.
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Parses a sidecar; not JSON, a field missing or unreadable (an id, an instance, a
    /// time), or a version other than [`VERSION`] is an error.
    pub fn from_bytes(b: &[u8]) -> Result<Sidecar, SidecarError> {
        let mut s: Sidecar = serde_json::from_slice(b).map_err(SidecarError::Unreadable)?;
        if s.v != VERSION {
            return Err(SidecarError::Version(s.v));
        }
        s.number_recipients();
        Ok(s)
    }

    /// Gives every recipient without a key one (see [`LEGACY_KEY_BASE`]), skipping the keys
    /// in use.
    fn number_recipients(&mut self) {
        let used: std::collections::BTreeSet<u32> = self
            .rcpts
            .iter()
            .map(|r| r.key)
            .filter(|&k| k != UNSET_KEY)
            .collect();
        let mut free = (LEGACY_KEY_BASE..).filter(|k| !used.contains(k));
        for r in self.rcpts.iter_mut().filter(|r| r.key == UNSET_KEY) {
            r.key = free.next().unwrap_or(UNSET_KEY - 1);
        }
    }
}

/// Why a sidecar cannot be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum SidecarError {
    /// Not JSON, or a field missing or of the wrong form (an id, an instance, a time).
    Unreadable(serde_json::Error),
    /// A format version this umsgate does not know.
    Version(u32),
}

impl std::fmt::Display for SidecarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SidecarError::Unreadable(e) => write!(f, "unreadable sidecar: {e}"),
            SidecarError::Version(v) => {
                write!(
                    f,
                    "sidecar version {v} is not supported (expected {VERSION})"
                )
            }
        }
    }
}

impl std::error::Error for SidecarError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SidecarError::Unreadable(e) => Some(e),
            SidecarError::Version(_) => None,
        }
    }
}

/// The sidecar's typed fields as the strings on disk (`serde(with = …)` adapters).
mod wire {

    /// A [`super::QueueId`], refused on read unless a spool file name can hold it.
    pub(super) mod queue_id {
        use std::borrow::Cow;

        use serde::de::Error as _;
        use serde::{Deserialize, Deserializer, Serializer};

        use crate::QueueId;

        pub(crate) fn serialize<S: Serializer>(id: &QueueId, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(id.as_str())
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<QueueId, D::Error> {
            let s = Cow::<'de, str>::deserialize(d)?;
            QueueId::parse(&s).ok_or_else(|| D::Error::custom(format!("`{s}` is not a queue id")))
        }
    }

    /// An [`umsgate_config::units::InstanceId`], checked on read as the configuration checks it.
    pub(super) mod instance {
        use serde::{Deserialize, Deserializer, Serializer};
        use umsgate_config::units::InstanceId;

        pub(crate) fn serialize<S: Serializer>(id: &InstanceId, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(id.as_str())
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<InstanceId, D::Error> {
            InstanceId::deserialize(d)
        }
    }

    /// A time as RFC 3339 UTC, whole seconds (`umsgate_domain::clock`'s one form).
    pub(super) mod time {
        use std::borrow::Cow;
        use std::time::SystemTime;

        use serde::{Deserialize, Deserializer, Serializer};
        use umsgate_domain::clock;

        pub(crate) fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&clock::rfc3339(*t))
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
            parse::<D::Error>(&Cow::<'de, str>::deserialize(d)?)
        }

        pub(super) fn parse<E: serde::de::Error>(s: &str) -> Result<SystemTime, E> {
            clock::parse_rfc3339(s).ok_or_else(|| {
                E::custom(format!(
                    "`{s}` is not a time in the form 2026-11-26T10:00:00Z"
                ))
            })
        }
    }

    /// An optional time, as [`time`]; absent or `null` is none.
    pub(super) mod optional_time {
        use std::borrow::Cow;
        use std::time::SystemTime;

        use serde::{Deserialize, Deserializer, Serializer};

        pub(crate) fn serialize<S: Serializer>(
            t: &Option<SystemTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::time::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<SystemTime>, D::Error> {
            Option::<Cow<'de, str>>::deserialize(d)?
                .map(|s| super::time::parse::<D::Error>(&s))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::{Duration, UNIX_EPOCH};

    use proptest::prelude::*;

    use super::*;

    /// A sidecar as umsgate wrote it before its fields were typed: every field set, times as
    /// RFC 3339 strings.
    const WRITTEN_BEFORE: &str = r#"{
  "v": 1,
  "id": "0001969A2B3C4D5E",
  "instance": "it",
  "received_at": "2026-11-26T10:00:00Z",
  "origin": "smtp",
  "client": "192.0.2.7:40123",
  "helo": "mx.example.com",
  "tls": true,
  "auth": "relay",
  "mail_from": "jane@example.com",
  "rcpts": [
    {
      "address": "+4930123456@fax.example.com",
      "orcpt": "rfc822-less@example.com",
      "key": 0,
      "outcome": "submitted"
    },
    {
      "address": "+4930654321@fax.example.com",
      "key": 1
    }
  ],
  "size": 1234,
  "message_id": "<m1@example.com>",
  "attempts": 2,
  "next_attempt": "2026-11-26T10:05:00Z",
  "last_error": "451 4.3.0 try later"
}
"#;

    /// What the previous version wrote reads back, and is written again byte for byte.
    #[test]
    fn a_sidecar_written_before_reads_back_and_is_written_the_same() {
        let s = Sidecar::from_bytes(WRITTEN_BEFORE.as_bytes()).unwrap();
        let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
        let expected = Sidecar {
            v: 1,
            id: QueueId::parse("0001969A2B3C4D5E").unwrap(),
            instance: "it".parse().unwrap(),
            received_at: at(1_795_687_200),
            origin: Origin::Smtp,
            client: Some("192.0.2.7:40123".into()),
            helo: Some("mx.example.com".into()),
            tls: true,
            auth: Some("relay".into()),
            mail_from: "jane@example.com".into(),
            rcpts: vec![
                Recipient {
                    address: "+4930123456@fax.example.com".into(),
                    orcpt: Some("rfc822-less@example.com".into()),
                    key: 0,
                    outcome: Some(RecipientOutcome::Submitted),
                },
                Recipient::new("+4930654321@fax.example.com".into(), None, 1),
            ],
            size: 1234,
            message_id: Some("<m1@example.com>".into()),
            attempts: 2,
            next_attempt: Some(at(1_795_687_500)),
            last_error: Some("451 4.3.0 try later".into()),
        };
        assert_eq!(s, expected);
        assert_eq!(String::from_utf8(s.to_bytes()).unwrap(), WRITTEN_BEFORE);
    }

    /// The oldest sidecars: no recipient keys, only the fields every sidecar has, an explicit
    /// `null` for the next attempt.
    #[test]
    fn a_minimal_sidecar_without_keys_reads() {
        let old = br#"{"v":1,"id":"A1","instance":"t","received_at":"1970-01-01T00:00:00Z",
            "origin":"file","mail_from":"","rcpts":[{"address":"a@x"},{"address":"b@x"}],
            "size":0,"next_attempt":null}"#;
        let s = Sidecar::from_bytes(old).unwrap();
        assert_eq!(s.received_at, UNIX_EPOCH);
        assert_eq!(s.next_attempt, None);
        assert_eq!(s.origin, Origin::File);
        // Not from 0: the jobs of such a message were numbered by position among the
        // recipients left, and a retry must not reuse one of those ids.
        assert_eq!(
            s.rcpts.iter().map(|r| r.key).collect::<Vec<_>>(),
            [LEGACY_KEY_BASE, LEGACY_KEY_BASE + 1]
        );
    }

    /// A time, an id or an instance that does not read makes the whole sidecar unreadable
    /// (it goes to `corrupt/`), as bad JSON and a wrong version do.
    #[test]
    fn unreadable_fields_make_the_sidecar_unreadable() {
        let good = String::from_utf8(WRITTEN_BEFORE.into()).unwrap();
        for (from, to) in [
            ("\"2026-11-26T10:00:00Z\"", "\"yesterday\""),
            ("\"2026-11-26T10:05:00Z\"", "\"2026-02-30T10:05:00Z\""),
            ("\"2026-11-26T10:05:00Z\"", "\"2026-11-26T10:05:00+01:00\""),
            ("\"2026-11-26T10:05:00Z\"", "1795687500"),
            ("\"0001969A2B3C4D5E\"", "\"../etc/passwd\""),
            ("\"it\"", "\"../it\""),
        ] {
            let bad = good.replacen(from, to, 1);
            assert_ne!(bad, good);
            let e = Sidecar::from_bytes(bad.as_bytes()).unwrap_err();
            assert!(matches!(e, SidecarError::Unreadable(_)), "{to}: {e}");
            assert!(std::error::Error::source(&e).is_some());
        }
        let e =
            Sidecar::from_bytes(good.replacen("\"v\": 1", "\"v\": 2", 1).as_bytes()).unwrap_err();
        assert!(matches!(e, SidecarError::Version(2)));
        assert_eq!(
            e.to_string(),
            "sidecar version 2 is not supported (expected 1)"
        );
    }

    fn text() -> impl Strategy<Value = String> {
        any::<String>()
    }

    fn recipient() -> impl Strategy<Value = Recipient> {
        (
            text(),
            proptest::option::of(text()),
            0..UNSET_KEY,
            proptest::option::of(prop_oneof![
                Just(RecipientOutcome::Submitted),
                Just(RecipientOutcome::Refused)
            ]),
        )
            .prop_map(|(address, orcpt, key, outcome)| Recipient {
                address,
                orcpt,
                key,
                outcome,
            })
    }

    /// Whole seconds from the epoch to the last second of the year 9999: what the disk holds.
    fn time() -> impl Strategy<Value = SystemTime> {
        (0u64..=253_402_300_799).prop_map(|s| UNIX_EPOCH + Duration::from_secs(s))
    }

    fn sidecar() -> impl Strategy<Value = Sidecar> {
        let envelope = (
            "[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}".prop_map(|s| QueueId::parse(&s).unwrap()),
            "[A-Za-z0-9_-]{1,64}".prop_map(|s| s.parse::<InstanceId>().unwrap()),
            time(),
            prop_oneof![Just(Origin::Smtp), Just(Origin::Local), Just(Origin::File)],
            proptest::option::of(text()),
            proptest::option::of(text()),
            any::<bool>(),
            proptest::option::of(text()),
            text(),
        );
        let state = (
            proptest::collection::vec(recipient(), 0..4),
            any::<u64>(),
            proptest::option::of(text()),
            any::<u32>(),
            proptest::option::of(time()),
            proptest::option::of(text()),
        );
        (envelope, state).prop_map(
            |(
                (id, instance, received_at, origin, client, helo, tls, auth, mail_from),
                (rcpts, size, message_id, attempts, next_attempt, last_error),
            )| Sidecar {
                v: VERSION,
                id,
                instance,
                received_at,
                origin,
                client,
                helo,
                tls,
                auth,
                mail_from,
                rcpts,
                size,
                message_id,
                attempts,
                next_attempt,
                last_error,
            },
        )
    }

    proptest! {
        /// Whatever umsgate writes, it reads back as it was.
        #[test]
        fn any_sidecar_round_trips(s in sidecar()) {
            prop_assert_eq!(Sidecar::from_bytes(&s.to_bytes()).unwrap(), s);
        }
    }
}

//! The sidecar: a queued mail's envelope and retry state, `<id>.json` beside `<id>.eml`.
//!
//! Contract: the sidecar is the file an administrator may read and a tool may write; it is
//! versioned (`"v": 1`), and `size` is the exact length of the `.eml`, which is how a torn or
//! truncated pair is recognised on start-up. Unknown fields are ignored on read, so that an
//! older umsgate can requeue what a newer one wrote.

use serde::{Deserialize, Serialize};

/// Current sidecar format version.
pub const VERSION: u32 = 1;

/// Envelope and state of one queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    pub v: u32,
    pub id: String,
    pub instance: String,
    /// RFC 3339, UTC.
    pub received_at: String,
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
    /// RFC 3339 time of the next attempt; none = as soon as possible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<String>,
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
    /// written without keys get them by position when read.
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
        id: &str,
        instance: &str,
        received_at: String,
        mail_from: &str,
        to: &str,
        message_id: &str,
    ) -> Sidecar {
        Sidecar {
            v: VERSION,
            id: id.to_owned(),
            instance: instance.to_owned(),
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
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Parses a sidecar; a wrong version is an error.
    pub fn from_bytes(b: &[u8]) -> Result<Sidecar, String> {
        let mut s: Sidecar =
            serde_json::from_slice(b).map_err(|e| format!("unreadable sidecar: {e}"))?;
        if s.v != VERSION {
            return Err(format!(
                "sidecar version {} is not supported (expected {VERSION})",
                s.v
            ));
        }
        s.number_recipients();
        Ok(s)
    }

    /// Gives every recipient without a key one, by position, skipping the keys in use.
    fn number_recipients(&mut self) {
        let used: std::collections::BTreeSet<u32> = self
            .rcpts
            .iter()
            .map(|r| r.key)
            .filter(|&k| k != UNSET_KEY)
            .collect();
        let mut free = (0..).filter(|k| !used.contains(k));
        for r in self.rcpts.iter_mut().filter(|r| r.key == UNSET_KEY) {
            r.key = free.next().unwrap_or(UNSET_KEY - 1);
        }
    }
}

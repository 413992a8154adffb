//! Adopting an `.eml` dropped into a queue folder by hand (`smtp-in/` or `smtp-out/`): its
//! envelope, read from its headers. The one reader of such files, for both directions.
//!
//! Contract: `From:` gives the sender (the first address; none = the null sender), `To:`,
//! `Cc:` and `Bcc:` the recipients, in that order, each address once (compared
//! case-insensitively), whatever the length of the header (headers are read by mail-parser,
//! folded lines and encoded words included). The message itself is not changed (its length
//! is recorded in the sidecar); a `Bcc:` header is passed on as written.

use std::time::SystemTime;

use mail_parser::{Address, MessageParser};
use umsgate_config::units::InstanceId;

use super::QueueId;
use super::sidecar::{self, Origin, Recipient, Sidecar};

/// Envelope and Message-ID read from a message's headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderEnvelope {
    pub mail_from: String,
    pub rcpts: Vec<String>,
    pub message_id: Option<String>,
}

/// A file dropped in is taken once it has not been modified for this long, so that one still
/// being copied in is never read half.
pub const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// When the `.eml` at `path` was last modified, if it has settled by `now` ([`SETTLE`]);
/// `Ok(None)` while it may still be being written.
pub fn settled(path: &std::path::Path, now: SystemTime) -> std::io::Result<Option<SystemTime>> {
    let modified = std::fs::metadata(path)?
        .modified()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    Ok((modified + SETTLE <= now).then_some(modified))
}

/// The sidecar of a message dropped in by hand as `id`: envelope from its headers, received
/// when the file was last modified, not yet tried.
pub fn sidecar(
    id: &QueueId,
    instance: &InstanceId,
    received_at: SystemTime,
    eml: &[u8],
) -> Sidecar {
    let env = envelope(eml);
    Sidecar {
        v: sidecar::VERSION,
        id: id.clone(),
        instance: instance.clone(),
        received_at,
        origin: Origin::File,
        client: None,
        helo: None,
        tls: false,
        auth: None,
        mail_from: env.mail_from,
        rcpts: env
            .rcpts
            .into_iter()
            .zip(0..)
            .map(|(address, key)| Recipient::new(address, None, key))
            .collect(),
        size: eml.len() as u64,
        message_id: env.message_id,
        attempts: 0,
        next_attempt: None,
        last_error: None,
    }
}

/// The envelope in a message's headers.
pub fn envelope(eml: &[u8]) -> HeaderEnvelope {
    let Some(m) = MessageParser::new().parse_headers(eml) else {
        return HeaderEnvelope {
            mail_from: String::new(),
            rcpts: Vec::new(),
            message_id: None,
        };
    };
    let mail_from = m
        .from()
        .and_then(|a| addresses(a).next())
        .unwrap_or_default();
    let mut rcpts: Vec<String> = Vec::new();
    for field in [m.to(), m.cc(), m.bcc()].into_iter().flatten() {
        for a in addresses(field) {
            if !rcpts.iter().any(|r| r.eq_ignore_ascii_case(&a)) {
                rcpts.push(a);
            }
        }
    }
    HeaderEnvelope {
        mail_from,
        rcpts,
        message_id: m.message_id().map(str::to_owned),
    }
}

/// The Message-ID of a message, if it has one.
pub fn message_id(eml: &[u8]) -> Option<String> {
    MessageParser::new()
        .parse_headers(eml)
        .and_then(|m| m.message_id().map(str::to_owned))
}

fn addresses<'a>(a: &'a Address<'_>) -> impl Iterator<Item = String> + 'a {
    a.iter()
        .filter_map(|addr| addr.address())
        .map(str::trim)
        .filter(|s| s.contains('@'))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn envelope_from_headers() {
        let eml = b"From: \"Jane\" <jane@example.com>\r\nTo: a@example.com, B <b@example.com>\r\n\
Cc: A@example.com\r\nBcc: undisclosed:; , c@example.com\r\nMessage-ID: <x1@example.com>\r\n\
Subject: hi\r\n\r\nbody\r\n";
        let e = envelope(eml);
        assert_eq!(e.mail_from, "jane@example.com");
        assert_eq!(e.rcpts, ["a@example.com", "b@example.com", "c@example.com"]);
        assert_eq!(e.message_id.as_deref(), Some("x1@example.com"));
    }

    /// A `To:` longer than a header line may be (folded, as mailers write it) loses nobody.
    #[test]
    fn a_long_folded_to_keeps_every_recipient() {
        let rcpts: Vec<String> = (0..120)
            .map(|i| format!("+49301234{i:03}@fax.example.com"))
            .collect();
        let eml = format!(
            "From: jane@example.com\r\nTo: {}\r\nSubject: many\r\n\r\nbody\r\n",
            rcpts.join(",\r\n ")
        );
        assert!(eml.len() > 3000);
        let sc = sidecar(
            &QueueId::parse("A1").unwrap(),
            &"it".parse().unwrap(),
            SystemTime::UNIX_EPOCH,
            eml.as_bytes(),
        );
        let got: Vec<&str> = sc.rcpts.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(got, rcpts);
        assert!(sc.rcpts.iter().zip(0..).all(|(r, k)| r.key == k));
        assert_eq!(sc.size, eml.len() as u64);
        assert_eq!(sc.origin, Origin::File);
    }

    #[test]
    fn no_headers_no_envelope() {
        let e = envelope(b"just text\r\n");
        assert!(e.rcpts.is_empty());
        assert_eq!(e.mail_from, "");
    }
}

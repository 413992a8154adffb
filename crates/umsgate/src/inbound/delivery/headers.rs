//! The envelope of an `.eml` dropped into `smtp-out/` by hand, from its headers.
//!
//! `From:` gives the sender (the first address; none = the null sender), `To:`, `Cc:` and
//! `Bcc:` the recipients, in that order, each address once (compared case-insensitively).
//! The message itself is not changed (its length is recorded in the sidecar); a `Bcc:` header
//! is passed on as written.

use mail_parser::{Address, MessageParser};

/// Envelope and Message-ID read from a message's headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderEnvelope {
    pub(crate) mail_from: String,
    pub(crate) rcpts: Vec<String>,
    pub(crate) message_id: Option<String>,
}

pub(crate) fn envelope(eml: &[u8]) -> HeaderEnvelope {
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
pub(crate) fn message_id(eml: &[u8]) -> Option<String> {
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

    #[test]
    fn no_headers_no_envelope() {
        let e = envelope(b"just text\r\n");
        assert!(e.rcpts.is_empty());
        assert_eq!(e.mail_from, "");
    }
}

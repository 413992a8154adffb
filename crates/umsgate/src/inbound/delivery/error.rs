//! Why one recipient (or a whole attempt) was not delivered: temporary or permanent, as a type.

use std::fmt;

/// A failed delivery to one recipient.
///
/// Temporary failures (4xx replies, connection refused, timeouts, TLS failures, local I/O
/// errors) are retried on the schedule; permanent ones (5xx replies, a recipient address that
/// cannot be used) go to Badmail at once. Anything not known to be permanent is temporary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    kind: Kind,
    reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
enum Kind {
    Temporary,
    Permanent,
}

impl DeliveryError {
    pub(crate) fn temporary(reason: impl Into<String>) -> DeliveryError {
        DeliveryError {
            kind: Kind::Temporary,
            reason: reason.into(),
        }
    }

    pub(crate) fn permanent(reason: impl Into<String>) -> DeliveryError {
        DeliveryError {
            kind: Kind::Permanent,
            reason: reason.into(),
        }
    }

    /// From lettre's SMTP error: a 5xx reply is permanent, everything else (4xx, network,
    /// timeout, TLS, a client-side refusal) temporary.
    pub(crate) fn from_smtp(e: &lettre::transport::smtp::Error) -> DeliveryError {
        let reason = smtp_reason(e);
        if e.is_permanent() {
            DeliveryError::permanent(reason)
        } else {
            DeliveryError::temporary(reason)
        }
    }

    pub fn is_temporary(&self) -> bool {
        self.kind == Kind::Temporary
    }

    pub fn is_permanent(&self) -> bool {
        self.kind == Kind::Permanent
    }

    /// The reason as written to the sidecar's `last_error` and `smtp.log`.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for DeliveryError {}

/// The server's reply as it sent it (`550 5.1.1 <x@example.com>: user unknown`), or lettre's
/// message with its causes (`Connection error: Connection refused (os error 111)`).
fn smtp_reason(e: &lettre::transport::smtp::Error) -> String {
    if let (Some(code), Some(text)) = (e.status(), std::error::Error::source(e)) {
        return one_line(&format!("{code} {text}"));
    }
    let mut out = e.to_string();
    let mut cause = std::error::Error::source(e).and_then(std::error::Error::source);
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    one_line(&out)
}

/// Collapses line breaks so that one reason stays one log line and one JSON string.
pub(crate) fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

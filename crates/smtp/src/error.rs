//! Why one recipient (or a whole attempt) was not delivered: temporary or permanent, as a type.

use std::fmt;

/// A failed delivery to one recipient.
///
/// Temporary failures (4xx replies, connection refused, timeouts, TLS failures, local I/O
/// errors, and a refused greeting or AUTH whatever its code) are retried on the schedule;
/// permanent ones (a 5xx reply to MAIL, RCPT or DATA, a recipient address that cannot be used)
/// go to Badmail at once. Anything not known to be permanent is temporary.
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
    pub fn temporary(reason: impl Into<String>) -> DeliveryError {
        DeliveryError {
            kind: Kind::Temporary,
            reason: reason.into(),
        }
    }

    pub fn permanent(reason: impl Into<String>) -> DeliveryError {
        DeliveryError {
            kind: Kind::Permanent,
            reason: reason.into(),
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

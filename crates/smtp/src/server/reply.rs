//! The one table from session outcomes to SMTP replies (code, enhanced status, text).
//!
//! Contract: handlers return an [`Outcome`]; nothing else in the listener writes reply
//! text. Enhanced status codes follow RFC 3463 and the registry of RFC 5248. A text built
//! from client data (an address, a parameter) has CR, LF and other control characters
//! removed, so a reply is always one line per `\r\n`.

use std::borrow::Cow;

/// Everything the listener can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Greeting {
        host: String,
    },
    Closing,
    HeloOk {
        host: String,
        client: String,
    },
    Ok,
    Reset,
    SenderOk,
    RecipientOk,
    Queued {
        id: String,
    },
    CannotVrfy,
    Help,
    StartData,
    ReadyForTls,
    AuthOk,
    AuthChallenge(&'static str),
    TooManyConnections,
    Timeout,
    TooManyErrors,
    ShuttingDown,
    QueueWriteError,
    /// No memory left for the message (the listener's budget): try again later.
    InsufficientStorage,
    TooManyRecipients {
        max: u32,
    },
    AuthRateLimited,
    /// Every password check slot stayed busy for the command timeout.
    AuthBusy,
    TlsUnavailable,
    LineTooLong,
    UnknownCommand,
    Syntax(&'static str),
    InvalidParameter(&'static str),
    UnsupportedParameter(String),
    NotImplemented(&'static str),
    BadSequence(&'static str),
    AuthMechanismUnsupported,
    AuthCancelled,
    AuthRequired,
    EncryptionRequired,
    AuthFailed,
    RecipientRefused {
        address: String,
        reason: String,
    },
    BadSenderAddress,
    BadRecipientAddress,
    SizeLimit {
        max: u64,
    },
    BareLineEnding,
    NulInMessage,
    DataLineTooLong {
        max: usize,
    },
    AccessDenied,
    /// Something this instance needs to take mail is away (the shared state store).
    Unavailable,
}

/// A reply ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub enhanced: Option<&'static str>,
    pub text: Cow<'static, str>,
}

impl Outcome {
    /// The name under which this outcome counts as refused mail (the `reason` label of
    /// `umsgate_smtp_mail_refused_total`), or `None` when it refuses no mail.
    pub fn refusal(&self) -> Option<&'static str> {
        use Outcome as O;
        Some(match self {
            O::TooManyConnections => "too_many_connections",
            O::AccessDenied => "access_denied",
            O::QueueWriteError => "queue_write_error",
            O::InsufficientStorage => "insufficient_storage",
            O::TooManyRecipients { .. } => "too_many_recipients",
            O::AuthRequired => "auth_required",
            O::EncryptionRequired => "encryption_required",
            O::RecipientRefused { .. } => "recipient_refused",
            O::BadSenderAddress => "bad_sender_address",
            O::BadRecipientAddress => "bad_recipient_address",
            O::SizeLimit { .. } => "size_limit",
            O::BareLineEnding => "bare_line_ending",
            O::NulInMessage => "nul_in_message",
            O::DataLineTooLong { .. } => "data_line_too_long",
            O::Timeout => "timeout",
            O::ShuttingDown => "shutting_down",
            O::Unavailable => "unavailable",
            _ => return None,
        })
    }

    /// The table.
    pub fn reply(&self) -> Reply {
        use Outcome as O;
        let (code, enhanced, text): (u16, Option<&'static str>, Cow<'static, str>) = match self {
            O::Greeting { host } => (
                220,
                None,
                format!("{} ESMTP umsgate ready", clean(host)).into(),
            ),
            O::Closing => (221, Some("2.0.0"), "Bye".into()),
            O::HeloOk { host, client } => (
                250,
                None,
                format!("{} Hello {}", clean(host), clean(client)).into(),
            ),
            O::Ok => (250, Some("2.0.0"), "Ok".into()),
            O::Reset => (250, Some("2.0.0"), "Reset".into()),
            O::SenderOk => (250, Some("2.1.0"), "Sender ok".into()),
            O::RecipientOk => (250, Some("2.1.5"), "Recipient ok".into()),
            O::Queued { id } => (
                250,
                Some("2.0.0"),
                format!("Ok: queued as {}", clean(id)).into(),
            ),
            O::CannotVrfy => (
                252,
                Some("2.5.2"),
                "Cannot VRFY; send some mail and I will try my best".into(),
            ),
            O::Help => (
                214,
                Some("2.0.0"),
                "umsgate accepts mail for fax, SMS and voice addresses".into(),
            ),
            O::StartData => (354, None, "End data with <CR><LF>.<CR><LF>".into()),
            O::ReadyForTls => (220, Some("2.0.0"), "Ready to start TLS".into()),
            O::AuthOk => (235, Some("2.7.0"), "Authentication successful".into()),
            O::AuthChallenge(t) => (334, None, Cow::Borrowed(*t)),
            O::TooManyConnections => (
                421,
                Some("4.7.0"),
                "Too many connections, try again later".into(),
            ),
            O::Timeout => (421, Some("4.4.2"), "Timeout, closing connection".into()),
            O::TooManyErrors => (
                421,
                Some("4.7.0"),
                "Too many errors, closing connection".into(),
            ),
            O::ShuttingDown => (
                421,
                Some("4.3.2"),
                "Service shutting down, try again later".into(),
            ),
            O::QueueWriteError => (
                451,
                Some("4.3.0"),
                "Queue write error, try again later".into(),
            ),
            O::InsufficientStorage => (
                452,
                Some("4.3.1"),
                "Insufficient system storage, try again later".into(),
            ),
            O::TooManyRecipients { max } => (
                452,
                Some("4.5.3"),
                format!("Too many recipients (at most {max})").into(),
            ),
            O::AuthRateLimited => (
                454,
                Some("4.7.0"),
                "Too many failed authentications, try again later".into(),
            ),
            O::AuthBusy => (
                454,
                Some("4.7.0"),
                "Temporary authentication failure, try again later".into(),
            ),
            O::TlsUnavailable => (454, Some("4.7.0"), "TLS not available".into()),
            O::LineTooLong => (500, Some("5.5.2"), "Line too long".into()),
            O::UnknownCommand => (500, Some("5.5.2"), "Command not recognised".into()),
            O::Syntax(s) => (501, Some("5.5.4"), format!("Syntax: {s}").into()),
            O::InvalidParameter(p) => (501, Some("5.5.4"), format!("Invalid {p} parameter").into()),
            O::UnsupportedParameter(p) => (
                555,
                Some("5.5.4"),
                format!("Unsupported parameter {}", clean(p)).into(),
            ),
            O::NotImplemented(c) => (502, Some("5.5.1"), format!("{c} not implemented").into()),
            O::BadSequence(t) => (503, Some("5.5.1"), Cow::Borrowed(*t)),
            O::AuthMechanismUnsupported => (
                504,
                Some("5.5.4"),
                "Mechanism not supported; use PLAIN or LOGIN".into(),
            ),
            O::AuthCancelled => (501, Some("5.0.0"), "Authentication cancelled".into()),
            O::AuthRequired => (530, Some("5.7.0"), "Authentication required".into()),
            O::EncryptionRequired => (
                538,
                Some("5.7.11"),
                "Encryption required; use STARTTLS first".into(),
            ),
            O::AuthFailed => (
                535,
                Some("5.7.8"),
                "Authentication credentials invalid".into(),
            ),
            O::RecipientRefused { address, reason } => (
                550,
                Some("5.1.1"),
                format!("<{}>: {}", clean(address), clean(reason)).into(),
            ),
            O::Unavailable => (
                451,
                Some("4.3.0"),
                "State store unavailable, try again later".into(),
            ),
            O::BadSenderAddress => (553, Some("5.1.7"), "Bad sender address syntax".into()),
            O::BadRecipientAddress => (553, Some("5.1.3"), "Bad recipient address syntax".into()),
            O::SizeLimit { max } => (
                552,
                Some("5.3.4"),
                format!("Message size exceeds the limit of {max} bytes").into(),
            ),
            O::BareLineEnding => (
                554,
                Some("5.6.0"),
                "Message refused: bare CR or LF; lines must end with CRLF".into(),
            ),
            O::NulInMessage => (
                554,
                Some("5.6.0"),
                "Message refused: it contains NUL characters".into(),
            ),
            O::DataLineTooLong { max } => (
                554,
                Some("5.6.0"),
                format!("Message refused: a line is longer than {max} bytes").into(),
            ),
            O::AccessDenied => (
                554,
                Some("5.7.1"),
                "Access denied: this client may not connect".into(),
            ),
        };
        Reply {
            code,
            enhanced,
            text,
        }
    }

    /// Whether the session ends after this reply.
    pub fn closes(&self) -> bool {
        matches!(
            self,
            Outcome::Closing
                | Outcome::TooManyConnections
                | Outcome::Timeout
                | Outcome::TooManyErrors
                | Outcome::ShuttingDown
                | Outcome::AccessDenied
        )
    }
}

impl Reply {
    /// Writes `code SP [enhanced SP] text CRLF`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.code.to_string().as_bytes());
        out.push(b' ');
        if let Some(e) = self.enhanced {
            out.extend_from_slice(e.as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(self.text.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// Client data in a reply: control characters dropped, length bounded.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_one_line_and_carry_enhanced_codes() {
        let evil = Outcome::RecipientRefused {
            address: "a\r\n250 ok".into(),
            reason: "x\ny".into(),
        };
        let mut out = Vec::new();
        evil.reply().write_to(&mut out);
        assert_eq!(out, b"550 5.1.1 <a250 ok>: xy\r\n");
        let mut out = Vec::new();
        Outcome::StartData.reply().write_to(&mut out);
        assert_eq!(out, b"354 End data with <CR><LF>.<CR><LF>\r\n");
    }

    #[test]
    fn every_class_matches_its_enhanced_code() {
        let all = [
            Outcome::Ok,
            Outcome::QueueWriteError,
            Outcome::InsufficientStorage,
            Outcome::AuthFailed,
            Outcome::SizeLimit { max: 1 },
            Outcome::TooManyRecipients { max: 1 },
            Outcome::BareLineEnding,
            Outcome::AccessDenied,
            Outcome::Timeout,
        ];
        for o in all {
            let r = o.reply();
            if let Some(e) = r.enhanced {
                assert_eq!(e.as_bytes()[0], r.code.to_string().as_bytes()[0], "{o:?}");
            }
        }
    }

    #[test]
    fn refusals_are_the_replies_that_refuse_mail() {
        let refused = [
            Outcome::TooManyConnections,
            Outcome::AccessDenied,
            Outcome::QueueWriteError,
            Outcome::InsufficientStorage,
            Outcome::RecipientRefused {
                address: "x@y".into(),
                reason: "no".into(),
            },
            Outcome::SizeLimit { max: 1 },
            Outcome::BareLineEnding,
        ];
        let mut names = std::collections::HashSet::new();
        for o in &refused {
            let name = o.refusal().unwrap_or_else(|| panic!("{o:?} not counted"));
            assert!(o.reply().code >= 400, "{o:?}");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
            assert!(names.insert(name), "{name} twice");
        }
        for o in [
            Outcome::Queued { id: "1".into() },
            Outcome::UnknownCommand,
            Outcome::BadSequence("x"),
            Outcome::RecipientOk,
        ] {
            assert_eq!(o.refusal(), None, "{o:?}");
        }
    }
}

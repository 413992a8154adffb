//! Why an outbound job is refused: the closed set that policy and job building produce and
//! that error reports explain to the sender in his language.
//!
//! Contract: every refusal is permanent for the job (the sender gets an error report, the
//! mail is not retried); conditions that may clear by themselves (directory unreachable,
//! gateway down) are not refusals but temporary errors and never appear here.

use crate::{NumberClass, Rights, Service};
use serde::Serialize;

/// One reason a job is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// The sender is not in the directory and the instance does not send for unknown senders.
    UnknownSender { sender: String },
    /// The sender's right for the service does not reach the number's class.
    NoRight {
        service: Service,
        class: NumberClass,
        right: Rights,
    },
    /// Emergency mode: only VIP users may send.
    EmergencyMode,
    /// The per-day limit of the service is used up.
    DailyLimit { service: Service, limit: u32 },
    /// More fax pages than the sender may send.
    TooManyPages { pages: u32, max: u32 },
    /// An attachment that cannot be turned into fax pages (or voice).
    UnsupportedAttachment {
        name: Option<String>,
        content_type: String,
    },
    /// Nothing to send: no text and no usable attachment.
    EmptyMessage,
    /// The SMS text needs more segments than allowed.
    SmsTooLong { segments: u32, max: u32 },
    /// A voice job without a WAV attachment or text to speak.
    NoVoiceContent,
    /// The number cannot be normalised with the site's number plan.
    BadNumber { number: String, detail: String },
    /// The message cannot be read, or exceeds a limit (depth, parts, size).
    Malformed { detail: String },
}

impl Refusal {
    /// A stable, short identifier (for logs and the `reason` key of reports).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::UnknownSender { .. } => "unknown_sender",
            Refusal::NoRight { .. } => "no_right",
            Refusal::EmergencyMode => "emergency_mode",
            Refusal::DailyLimit { .. } => "daily_limit",
            Refusal::TooManyPages { .. } => "too_many_pages",
            Refusal::UnsupportedAttachment { .. } => "unsupported_attachment",
            Refusal::EmptyMessage => "empty_message",
            Refusal::SmsTooLong { .. } => "sms_too_long",
            Refusal::NoVoiceContent => "no_voice_content",
            Refusal::BadNumber { .. } => "bad_number",
            Refusal::Malformed { .. } => "malformed",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::UnknownSender { sender } => {
                write!(f, "sender {sender} is not in the directory")
            }
            Refusal::NoRight {
                service,
                class,
                right,
            } => {
                write!(
                    f,
                    "{service} right `{right}` does not allow {class} numbers"
                )
            }
            Refusal::EmergencyMode => f.write_str("emergency mode: only VIP users may send"),
            Refusal::DailyLimit { service, limit } => {
                write!(f, "daily {service} limit of {limit} reached")
            }
            Refusal::TooManyPages { pages, max } => {
                write!(f, "{pages} pages, at most {max} allowed")
            }
            Refusal::UnsupportedAttachment { name, content_type } => {
                write!(
                    f,
                    "attachment {} ({content_type}) cannot be sent",
                    name.as_deref().unwrap_or("without name")
                )
            }
            Refusal::EmptyMessage => f.write_str("nothing to send"),
            Refusal::SmsTooLong { segments, max } => {
                write!(f, "SMS needs {segments} segments, at most {max} allowed")
            }
            Refusal::NoVoiceContent => f.write_str("no WAV attachment and no text to speak"),
            Refusal::BadNumber { number, detail } => write!(f, "number {number}: {detail}"),
            Refusal::Malformed { detail } => write!(f, "message cannot be read: {detail}"),
        }
    }
}

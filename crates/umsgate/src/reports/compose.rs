//! A rendered report as an RFC 5322 message.
//!
//! Contract: the output is a complete message with CRLF line ends and only deterministic
//! parts (the `Date:` is [`MailParts::date`], the MIME boundary is derived from the
//! Message-ID). Header values are checked, not cleaned: CR, LF or NUL in any of them is
//! [`ReportError::is_header_injection`]; an address or Message-ID that is not well-formed is
//! an error too. The exceptions are the two values that come from the user's mail: its
//! subject never gets here unusable (rendering leaves it out), and an unusable original
//! Message-ID only leaves out `In-Reply-To`/`References` (logged) — a report is never lost
//! for them. Non-ASCII subjects and display names are RFC 2047-encoded by `mail-builder`.

use std::time::SystemTime;

use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;

use super::error::ReportError;
use super::{Rendered, ReportInput};

/// The envelope-independent header values of a report mail.
#[derive(Debug, Clone, Copy)]
pub struct MailParts<'a> {
    /// `[instance.mail] report_sender`.
    pub from_address: &'a str,
    /// `[instance.mail] report_display_name`, else `display_name` (may be empty):
    /// [`umsgate_config::MailConfig::report_from_name`].
    pub from_name: &'a str,
    /// The sender of the user's mail.
    pub to: &'a str,
    /// Without `<>`.
    pub message_id: &'a str,
    pub date: SystemTime,
}

/// RFC 5322 mail, CRLF: multipart/alternative (text + HTML) or text/plain; Subject and names
/// RFC 2047-encoded as needed; `In-Reply-To`/`References` to the original Message-ID (left
/// out if that is not a usable Message-ID); `Auto-Submitted: auto-replied` (RFC 3834). Any
/// other value that would put CR, LF or NUL into a header is refused with an error (never
/// stripped silently).
pub fn compose(
    parts: &MailParts<'_>,
    rendered: &Rendered,
    input: &ReportInput,
) -> Result<Vec<u8>, ReportError> {
    single_line("from_address", parts.from_address)?;
    single_line("from_name", parts.from_name)?;
    single_line("to", parts.to)?;
    single_line("message_id", parts.message_id)?;
    single_line("subject", &rendered.subject)?;
    address("from_address", parts.from_address)?;
    address("to", parts.to)?;
    let message_id = message_id("message_id", parts.message_id)?;
    // The user's Message-ID came from outside: one that is not a Message-ID only costs the
    // threading, never the report.
    let original = input.original_message_id.as_deref().and_then(|id| {
        let usable = single_line("original_message_id", id)
            .and_then(|()| message_id_of("original_message_id", id));
        if let Err(e) = &usable {
            tracing::warn!(event = "report.threading_left_out", job_id = %input.job_id, error = %e, "the report is sent without In-Reply-To and References");
        }
        usable.ok()
    });

    let text = crlf(&rendered.text);
    let html = rendered.html.as_deref().map(crlf);
    let plain = |body: String| {
        MimePart::new(
            ContentType::new("text/plain").attribute("charset", "utf-8"),
            body,
        )
    };
    let body = match html {
        Some(html) => {
            let boundary = boundary(message_id, &[&text, &html]);
            MimePart::new(
                ContentType::new("multipart/alternative").attribute("boundary", boundary),
                vec![
                    plain(text),
                    MimePart::new(
                        ContentType::new("text/html").attribute("charset", "utf-8"),
                        html,
                    ),
                ],
            )
        }
        None => plain(text),
    };

    let mut builder = MessageBuilder::new();
    builder = if parts.from_name.trim().is_empty() {
        builder.from(parts.from_address)
    } else {
        builder.from((parts.from_name, parts.from_address))
    };
    builder = builder
        .to(parts.to)
        .subject(rendered.subject.as_str())
        .header("Date", Raw::new(crate::clock::rfc5322(parts.date)))
        .message_id(message_id);
    if let Some(original) = original {
        builder = builder.in_reply_to(original).references(original);
    }
    builder = builder
        .header("Auto-Submitted", Raw::new("auto-replied"))
        // Exchange and Outlook: no out-of-office or other automatic answers to a report.
        .header("X-Auto-Response-Suppress", Raw::new("All"))
        .header("MIME-Version", Raw::new("1.0"))
        .body(body);
    builder.write_to_vec().map_err(ReportError::compose)
}

/// CR, LF and NUL would end the header or the header block: refused, not removed.
fn single_line(field: &'static str, value: &str) -> Result<(), ReportError> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(ReportError::header_injection(field));
    }
    Ok(())
}

/// A bare `local@domain` (no display name, no comments, no quoted local part).
fn address(field: &'static str, value: &str) -> Result<(), ReportError> {
    let bad = |c: char| c.is_whitespace() || c.is_control() || "<>,;:\"()[]\\".contains(c);
    match value.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            if value.contains(bad) {
                Err(ReportError::invalid_header(
                    field,
                    format!("`{value}` is not a plain mail address"),
                ))
            } else {
                Ok(())
            }
        }
        _ => Err(ReportError::invalid_header(
            field,
            format!("`{value}` is not a mail address"),
        )),
    }
}

/// A Message-ID that MailParts carries without `<>`.
fn message_id<'a>(field: &'static str, value: &'a str) -> Result<&'a str, ReportError> {
    if value.starts_with('<') || value.ends_with('>') {
        return Err(ReportError::invalid_header(
            field,
            "give the Message-ID without <>",
        ));
    }
    message_id_of(field, value)
}

/// A Message-ID with or without one pair of `<>`, returned without them.
fn message_id_of<'a>(field: &'static str, value: &'a str) -> Result<&'a str, ReportError> {
    let id = value
        .strip_prefix('<')
        .and_then(|v| v.strip_suffix('>'))
        .unwrap_or(value);
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '<' && c != '>');
    if ok {
        Ok(id)
    } else {
        Err(ReportError::invalid_header(
            field,
            format!("`{value}` is not a Message-ID"),
        ))
    }
}

/// LF or lone CR → CRLF.
fn crlf(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 32);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\r\n");
            }
            '\n' => out.push_str("\r\n"),
            c => out.push(c),
        }
    }
    out
}

/// `=_umsgate_<hash of the Message-ID>`, made longer until no body contains it. `=_` cannot
/// occur in quoted-printable or base64 output, so only a 7-bit body could clash. (The
/// inbound mails use it too.)
pub(crate) fn boundary(message_id: &str, bodies: &[&str]) -> String {
    // FNV-1a, 64 bit: stable across Rust versions, unlike `DefaultHasher`.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in message_id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut boundary = format!("=_umsgate_{hash:016x}");
    let mut n = 0u32;
    while bodies.iter().any(|b| b.contains(boundary.as_str())) {
        n += 1;
        boundary = format!("=_umsgate_{hash:016x}_{n}");
    }
    boundary
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn line_ends_become_crlf() {
        assert_eq!(crlf("a\nb\r\nc\rd"), "a\r\nb\r\nc\r\nd");
    }

    #[test]
    fn boundary_is_stable_and_avoids_the_bodies() {
        let a = boundary("x@example.com", &[]);
        assert_eq!(a, boundary("x@example.com", &["hello"]));
        assert_ne!(a, boundary("y@example.com", &[]));
        let clash = format!("text\r\n--{a}\r\n");
        let b = boundary("x@example.com", &[&clash]);
        assert_ne!(a, b);
        assert!(!clash.contains(&b));
    }

    #[test]
    fn addresses_and_ids() {
        assert!(address("to", "jane@example.com").is_ok());
        assert!(address("to", "Jane <jane@example.com>").is_err());
        assert!(address("to", "jane").is_err());
        assert!(address("to", "@example.com").is_err());
        assert!(address("to", "a@b, c@d").is_err());
        assert_eq!(message_id_of("m", "<a@b>").unwrap(), "a@b");
        assert_eq!(message_id_of("m", "a@b").unwrap(), "a@b");
        assert!(message_id_of("m", "a b@c").is_err());
        assert!(message_id_of("m", "").is_err());
        assert!(message_id("m", "<a@b>").is_err());
    }
}

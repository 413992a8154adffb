//! Composing the mail of a received fax, SMS or voice message.
//!
//! Contract: every header value built from data (caller number, names, addresses, subject) is
//! checked first; a CR, LF or NUL in any of them refuses the whole mail with
//! [`HeaderInjection`] — nothing is stripped silently, the caller keeps the message and logs
//! why. Attachments get generated names (`fax.pdf`, `fax.tif`, `voice.wav`).
//!
//! With an HTML body ([`InboundMail::html`]) the mail is `multipart/alternative` (text, then
//! HTML); inline images (a fax's page previews) make the HTML a `multipart/related` whose
//! parts carry the `Content-ID`s the HTML's `cid:` URLs name; attachments wrap it all in
//! `multipart/mixed`. Without HTML the mail is the text alone or `multipart/mixed` (text and
//! attachments), as before.
//!
//! The output is deterministic: the `Date:` is [`InboundMail::date`], and the MIME boundaries
//! are derived from the Message-ID (as the reports' are), so the same message composes to
//! the same bytes.

use std::time::SystemTime;

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::mime::{BodyPart, MimePart};

use crate::clock;

/// A header value that would have broken the header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderInjection {
    pub header: &'static str,
}

impl std::fmt::Display for HeaderInjection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the {} header would contain CR, LF or NUL", self.header)
    }
}

impl std::error::Error for HeaderInjection {}

/// One attachment.
#[derive(Debug, Clone)]
pub struct Part {
    pub content_type: &'static str,
    pub filename: &'static str,
    pub data: Vec<u8>,
}

/// An image the HTML body shows, sent in the mail (`multipart/related`).
#[derive(Debug, Clone)]
pub struct Inline {
    /// Without `<>`; the HTML refers to it as `cid:<content_id>`.
    pub content_id: String,
    pub content_type: &'static str,
    pub data: Vec<u8>,
}

/// The HTML alternative of the text and the images it shows.
#[derive(Debug, Clone)]
pub struct HtmlBody<'a> {
    pub html: &'a str,
    pub inline: Vec<Inline>,
}

/// Everything the mail says.
#[derive(Debug, Clone)]
pub struct InboundMail<'a> {
    pub from_address: &'a str,
    pub from_name: &'a str,
    pub reply_to: Option<&'a str>,
    pub to: &'a str,
    pub to_name: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    /// The HTML alternative (the recipient's `reports.html`), or none: text only.
    pub html: Option<HtmlBody<'a>>,
    /// Without `<>`.
    pub message_id: &'a str,
    pub date: SystemTime,
    pub attachments: Vec<Part>,
}

fn check(header: &'static str, v: &str) -> Result<(), HeaderInjection> {
    if v.contains(['\r', '\n', '\0']) {
        Err(HeaderInjection { header })
    } else {
        Ok(())
    }
}

/// The RFC 5322 message, CRLF line ends.
pub fn compose(m: &InboundMail<'_>) -> Result<Vec<u8>, HeaderInjection> {
    check("From", m.from_address)?;
    check("From", m.from_name)?;
    check("To", m.to)?;
    check("To", m.to_name)?;
    check("Subject", m.subject)?;
    check("Message-ID", m.message_id)?;
    if let Some(r) = m.reply_to {
        check("Reply-To", r)?;
    }
    let from: Address<'_> = if m.from_name.is_empty() {
        m.from_address.into()
    } else {
        (m.from_name, m.from_address).into()
    };
    let to: Address<'_> = if m.to_name.is_empty() {
        m.to.into()
    } else {
        (m.to_name, m.to).into()
    };
    let mut b = MessageBuilder::new()
        .from(from)
        .to(to)
        .subject(m.subject)
        .message_id(m.message_id)
        .date(Date::new(
            i64::try_from(clock::unix_seconds(m.date)).unwrap_or(0),
        ))
        .header(
            "Auto-Submitted",
            mail_builder::headers::raw::Raw::new("auto-generated"),
        );
    if let Some(r) = m.reply_to {
        b = b.reply_to(r);
    }
    b = b.body(body(m)?);
    b.write_to_vec()
        .map_err(|_| HeaderInjection { header: "body" })
}

/// The MIME tree: what `text_body`, `html_body`, `inline` and `attachment` build, with the
/// boundaries set instead of random.
fn body<'a>(m: &'a InboundMail<'_>) -> Result<MimePart<'a>, HeaderInjection> {
    let html = m.html.as_ref().map_or("", |h| h.html);
    let boundary = crate::reports::boundary(m.message_id, &[m.text, html]);
    let multipart = |kind: &'static str, suffix: &str, parts: Vec<MimePart<'a>>| {
        MimePart::new(
            ContentType::new(kind).attribute("boundary", format!("{boundary}{suffix}")),
            parts,
        )
    };
    let text = MimePart::new("text/plain", BodyPart::Text(m.text.into()));
    let content = match &m.html {
        None => text,
        Some(h) => {
            let html_part = MimePart::new("text/html", BodyPart::Text(h.html.into()));
            let html_part = if h.inline.is_empty() {
                html_part
            } else {
                let mut parts = vec![html_part];
                for i in &h.inline {
                    check("Content-ID", &i.content_id)?;
                    parts.push(
                        MimePart::new(i.content_type, i.data.as_slice())
                            .inline()
                            .cid(i.content_id.as_str()),
                    );
                }
                multipart("multipart/related", "_related", parts)
            };
            multipart(
                "multipart/alternative",
                "_alternative",
                vec![text, html_part],
            )
        }
    };
    if m.attachments.is_empty() {
        return Ok(content);
    }
    let mut parts = vec![content];
    parts.extend(
        m.attachments
            .iter()
            .map(|a| MimePart::new(a.content_type, a.data.as_slice()).attachment(a.filename)),
    );
    Ok(multipart("multipart/mixed", "", parts))
}

/// Print-unread's hook: asks for a read receipt (RFC 8098) to be sent to `to`, by putting
/// `Disposition-Notification-To: <to>` in front of the header block `compose` wrote.
pub fn with_receipt_request(eml: Vec<u8>, to: &str) -> Result<Vec<u8>, HeaderInjection> {
    check("Disposition-Notification-To", to)?;
    if to.contains(['<', '>']) {
        return Err(HeaderInjection {
            header: "Disposition-Notification-To",
        });
    }
    let mut out = format!("Disposition-Notification-To: <{to}>\r\n").into_bytes();
    out.extend_from_slice(&eml);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn mail<'a>(subject: &'a str, from_name: &'a str) -> InboundMail<'a> {
        InboundMail {
            from_address: "+4930987654320@fax.example.com",
            from_name,
            reply_to: None,
            to: "jane@example.com",
            to_name: "Jane Doe",
            subject,
            text: "Fax from +49 30 9876543 20\n",
            html: None,
            message_id: "abc@umsgate.test",
            date: std::time::UNIX_EPOCH,
            attachments: vec![Part {
                content_type: "application/pdf",
                filename: "fax.pdf",
                data: b"%PDF-1.4".to_vec(),
            }],
        }
    }

    #[test]
    fn the_receipt_request_is_one_header_line_before_the_others() {
        let eml = compose(&mail("Fax", "")).unwrap();
        let asked =
            String::from_utf8(with_receipt_request(eml, "ums@example.com").unwrap()).unwrap();
        assert!(
            asked.starts_with("Disposition-Notification-To: <ums@example.com>\r\nFrom: "),
            "{asked}"
        );
        let parsed = mail_parser::MessageParser::default()
            .parse(asked.as_bytes())
            .unwrap();
        assert_eq!(parsed.message_id(), Some("abc@umsgate.test"));
        for bad in ["a@b\r\nBcc: x@y", "<a@b>"] {
            assert!(with_receipt_request(Vec::new(), bad).is_err());
        }
    }

    #[test]
    fn composes_with_attachment_and_refuses_injection() {
        let out = String::from_utf8(compose(&mail("Fax from +49 30", "")).unwrap()).unwrap();
        assert!(
            out.contains("From: <+4930987654320@fax.example.com>"),
            "{out}"
        );
        assert!(out.contains("Message-ID: <abc@umsgate.test>"));
        assert!(out.contains("fax.pdf"));
        assert!(out.contains("Auto-Submitted: auto-generated"));
        for bad in ["x\r\nBcc: evil@example.com", "a\nb", "nul\0"] {
            assert_eq!(compose(&mail(bad, "")).unwrap_err().header, "Subject");
            assert_eq!(compose(&mail("ok", bad)).unwrap_err().header, "From");
        }
    }

    #[test]
    fn html_with_images_is_alternative_with_related_and_refuses_a_bad_content_id() {
        let mut m = mail("Fax", "");
        m.html = Some(HtmlBody {
            html: "<img src=\"cid:page1.abc@umsgate.test\">",
            inline: vec![Inline {
                content_id: "page1.abc@umsgate.test".into(),
                content_type: "image/png",
                data: b"\x89PNG\r\n\x1a\n".to_vec(),
            }],
        });
        let out = String::from_utf8(compose(&m).unwrap()).unwrap();
        let order = [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "multipart/related",
            "text/html",
            "Content-ID: <page1.abc@umsgate.test>",
            "application/pdf",
        ];
        let mut at = 0;
        for what in order {
            at += out[at..]
                .find(what)
                .unwrap_or_else(|| panic!("{what} missing or out of order:\n{out}"));
        }
        if let Some(h) = m.html.as_mut() {
            h.inline[0].content_id = "x\r\nBcc: evil@example.com".into();
        }
        assert_eq!(compose(&m).unwrap_err().header, "Content-ID");
    }
}

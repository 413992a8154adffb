//! MIME → job content: reads an outbound mail into [`MessageContent`] ([`parse`]) and turns
//! that into the payload of a fax, SMS or voice job ([`build`]). Pure: no I/O, no clock, no
//! logging; the same bytes always give the same result.
//!
//! Contract: both functions take untrusted input, never panic, and end in either a value or
//! a [`Refusal`] that the sender can be told about. Memory and time are bounded by
//! [`Limits`] whatever the message declares (see "Hostile input" below).
//!
//! # What the sender gets
//!
//! | Service | Payload | Refused when |
//! |---|---|---|
//! | fax | PDF and TIFF attachments (pages counted by `umsgate_fax`), plain-text attachments and the body as text pages (`body.txt` first) | an attachment that is neither PDF, TIFF nor plain text ([`Refusal::UnsupportedAttachment`]), a broken PDF/TIFF ([`Refusal::Malformed`]), nothing at all ([`Refusal::EmptyMessage`]) |
//! | sms | the body text; GSM 03.38 7-bit when every character is in the basic or extension table, else UCS-2 | more than `sms_max_segments` segments ([`Refusal::SmsTooLong`]); no text ([`Refusal::EmptyMessage`], or [`Refusal::UnsupportedAttachment`] when only attachments came) |
//! | voice | the first WAV attachment (RIFF/WAVE checked), else the body text for text-to-speech | a second WAV (which one to play would be a guess), a broken WAV, nothing to play ([`Refusal::NoVoiceContent`], or [`Refusal::UnsupportedAttachment`] when only other attachments came) |
//!
//! Decisions a user can see:
//! - The subject is *not* part of the SMS or voice text (it is in [`MessageContent::subject`]
//!   for cover pages and reports).
//! - On an SMS or a voice job that has text (or a WAV), other attachments are ignored: phones
//!   cannot show them, and refusing a short message because of a signature logo would
//!   surprise more than it helps. With no text they are refused by name, never dropped.
//! - On a fax, nothing is dropped: every attachment becomes pages or the job is refused.
//!   Images embedded in an HTML body (a `Content-ID` referenced by a `cid:` URL) belong to the
//!   body and are not attachments; as the fax carries the body as text, they are left out.
//! - Text: `text/plain` is preferred; an HTML-only body is converted to text (tags stripped,
//!   entities decoded, block elements become line breaks, `<head>`, `<script>`, `<style>`
//!   dropped). `format=flowed` is unwrapped. Line endings become `\n`, control characters
//!   (other than tab) are removed, trailing blanks at line ends and blank lines at the start
//!   and end are trimmed, runs of more than two blank lines are shortened to two. The
//!   signature is kept: it is what the sender wrote.
//! - Tabs become spaces in SMS (GSM 03.38 has no tab) and NBSP becomes a space everywhere.
//! - Attachment names are display metadata only ([`Document::original_name`], cleaned of
//!   control characters and path parts); files are always named by us (`body.txt`, `1.pdf`,
//!   `2.tif`, `3.txt`, `voice.wav`).
//! - A part whose transfer encoding cannot be decoded (broken base64) makes the whole message
//!   [`Refusal::Malformed`]: sending garbage pages or a half attachment is worse than an
//!   error report.
//!
//! # Hostile input
//!
//! `mail-parser` (0.11) parses iteratively, but its memory use grows with the number of parts
//! and header fields (tens of bytes of structures per byte of a crafted message), and it
//! parses base64- or QP-encoded `message/rfc822` parts as nested messages. So before the
//! parser sees a byte, a linear pre-scan (`prescan.rs`) refuses a message that is larger than
//! the raw limit ([`Limits::max_raw_size`]), whose header block is over `max_header_size`, that
//! may hold far more parts than `max_parts` (counted from the boundary delimiters the parser
//! could match), whose possible header blocks together exceed sixteen times
//! `max_header_size`, or that has an encoded `message/*` part (RFC 2046 allows only 7bit, 8bit
//! or binary there). After parsing, the exact limits are checked on the tree: nesting depth,
//! part count, each header block, total decoded size.
//!
//! Implementation summary: `prescan` (bomb shield) → `mail_parser` → `extract` (tree walk,
//! limits, body text, attachments) → [`MessageContent`]; [`build`] dispatches on the
//! [`Service`] to `payload.rs`; `html.rs`, `text.rs` and `sms.rs` are the pure helpers.

mod extract;
mod html;
mod payload;
mod prescan;
mod sms;
mod text;

use serde::Serialize;
use umsgate_domain::{Priority, Service};

use crate::outbound::refusal::Refusal;

/// Bounds applied to one message. The defaults suit a mail connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of multiparts and attached messages (the top part is depth 0).
    pub max_depth: usize,
    /// Most MIME parts, containers and attached messages' parts included.
    pub max_parts: usize,
    /// Most bytes of all decoded part contents together.
    pub max_decoded_size: u64,
    /// Largest header block of one part, in raw bytes.
    pub max_header_size: usize,
    /// Most segments of one SMS.
    pub sms_max_segments: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 20,
            max_parts: 500,
            max_decoded_size: 50 << 20,
            max_header_size: 64 << 10,
            sms_max_segments: 10,
        }
    }
}

impl Limits {
    /// Largest raw message read at all: base64 with line breaks needs 1.37 bytes per decoded
    /// byte, so 1.4 × `max_decoded_size` plus room for the header blocks.
    pub fn max_raw_size(&self) -> u64 {
        let headers = (self.max_header_size as u64).saturating_mul(16);
        (self.max_decoded_size / 5)
            .saturating_mul(7)
            .saturating_add(headers)
    }
}

/// What an outbound mail says, independent of the service it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageContent {
    /// `Message-ID:` without the angle brackets.
    pub message_id: Option<String>,
    /// `Subject:`, RFC 2047 decoded.
    pub subject: Option<String>,
    /// The addr-spec of the first `From:` address.
    pub from: Option<String>,
    /// From `X-Priority`, `Importance` or `Priority`, the first one present that is understood.
    pub priority: Option<Priority>,
    /// The body as plain text, normalised (see the module documentation); may be empty.
    pub text: String,
    /// The body as HTML when the mail has no plain-text body (its `cid:` images inlined as
    /// `data:` URLs); the fax renders it as the sender saw it.
    pub html: Option<String>,
    /// `From`, `To`, `Cc`, `Date`, `Subject` for display, cleaned: what a forwarded mail shows
    /// above its body.
    pub forward_headers: Vec<(String, String)>,
    /// Display names of the `To:` and `Cc:` addresses, by lowercase address (a cover page
    /// greets the recipient by name).
    pub display_names: std::collections::BTreeMap<String, String>,
    /// Attachments in message order (body parts and embedded images excluded).
    pub attachments: Vec<Attachment>,
    /// The addr-spec of `Disposition-Notification-To:` (the sender wants a read receipt).
    pub disposition_notification_to: Option<String>,
}

/// One attachment of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name the sender gave, for display only (never a path: cleaned of path parts
    /// and control characters).
    pub name: Option<String>,
    /// `type/subtype`, lowercase (`text/plain` when the part declares none).
    pub content_type: String,
    /// What the bytes are, by magic bytes first, then declared type, then file name suffix.
    pub kind: AttachmentKind,
    /// The decoded bytes; for [`AttachmentKind::Text`] the text as UTF-8, charset decoded.
    pub data: Vec<u8>,
}

/// The attachment kinds job building distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    /// A PDF document (`%PDF-`, `application/pdf`, `*.pdf`).
    Pdf,
    /// A TIFF image (`II*\0`/`MM\0*`, `image/tiff`, `*.tif`).
    Tiff,
    /// A WAV sound (`RIFF….WAVE`, `audio/wav`, `*.wav`).
    Wav,
    /// A text attachment (`text/*` but HTML), charset decoded best-effort.
    Text,
    /// An HTML attachment.
    Html,
    /// A PNG, JPEG, GIF, BMP or WebP image.
    Image,
    /// An Office or OpenDocument file (docx, xlsx, pptx, doc, xls, ppt, rtf, odt, ods, odp).
    Office,
    /// An attached mail (`message/rfc822`): rendered as a forwarded mail.
    Message,
    /// Anything else.
    Other,
}

/// The content of one job, by service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "service", rename_all = "snake_case")]
pub enum Payload {
    /// Pages to fax.
    Fax(FaxPayload),
    /// A short message.
    Sms(SmsPayload),
    /// A call that plays a sound or speaks a text.
    Voice(VoicePayload),
}

/// What a fax job is made of, in page order: the body, then every attachment (an attached
/// mail flattened into its headers and body, then its own attachments). The renderer turns
/// these into pages; page counts come from the rendered document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxPayload {
    pub parts: Vec<umsgate_render::Part>,
}

impl Serialize for FaxPayload {
    /// A summary for logs and golden tests: name, type, how it is rendered, size.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeSeq, SerializeStruct};
        use umsgate_render::Content;
        #[derive(Serialize)]
        struct Summary<'a> {
            name: &'a Option<String>,
            content_type: &'a str,
            render: &'static str,
            size: usize,
        }
        struct Parts<'a>(&'a [umsgate_render::Part]);
        impl Serialize for Parts<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for p in self.0 {
                    let (render, size) = match &p.content {
                        Content::Text(t) => ("text", t.len()),
                        Content::Html { html, .. } => ("html", html.len()),
                        Content::Image(d) => ("image", d.len()),
                        Content::Pdf(d) => ("pdf", d.len()),
                        Content::Tiff(d) => ("tiff", d.len()),
                        Content::Office { data, .. } => ("office", data.len()),
                    };
                    seq.serialize_element(&Summary {
                        name: &p.name,
                        content_type: &p.content_type,
                        render,
                        size,
                    })?;
                }
                seq.end()
            }
        }
        let mut st = s.serialize_struct("FaxPayload", 1)?;
        st.serialize_field("parts", &Parts(&self.parts))?;
        st.end()
    }
}

/// One file handed to a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// A name we generate (`voice.wav`), safe as a file name.
    pub name: String,
    /// The name the sender gave, cleaned for display.
    pub original_name: Option<String>,
    /// What the data is.
    pub kind: DocumentKind,
    /// The bytes.
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// The document kinds a gateway receives besides the rendered fax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// A RIFF/WAVE sound.
    Wav,
}

/// The text of an SMS and what it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsPayload {
    /// The text to send.
    pub text: String,
    /// The coding the text needs.
    pub encoding: SmsEncoding,
    /// Segments (1 when the text fits one SMS).
    pub segments: u32,
    /// Characters (Unicode scalar values) of the text.
    pub characters: u32,
}

/// SMS data coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsEncoding {
    /// GSM 03.38 default alphabet with the extension table: 160 septets, 153 per part.
    Gsm7,
    /// UCS-2 (UTF-16 units): 70 units, 67 per part.
    Ucs2,
}

/// What a voice call plays: a WAV file, or else a text to speak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoicePayload {
    /// The sound to play ([`DocumentKind::Wav`]).
    pub wav: Option<Document>,
    /// The text for text-to-speech, when there is no sound.
    pub text: Option<String>,
}

/// Reads a raw message (`.eml` bytes, LF or CRLF) into its content.
///
/// Refuses with [`Refusal::Malformed`] when the bytes are not a mail, exceed a [`Limits`]
/// value, or contain a part that cannot be decoded.
pub fn parse(eml: &[u8], limits: &Limits) -> Result<MessageContent, Refusal> {
    prescan::check(eml, limits).map_err(|detail| Refusal::Malformed { detail })?;
    let message = mail_parser::MessageParser::default()
        .parse(eml)
        .ok_or_else(|| Refusal::Malformed {
            detail: "no header found".to_owned(),
        })?;
    extract::content(&message, limits).map_err(|detail| Refusal::Malformed { detail })
}

/// An SMS with the cover folder's header text in front (`header` = `None`: unchanged),
/// measured again; refused when it no longer fits [`Limits::sms_max_segments`].
pub fn with_sms_header(
    sms: SmsPayload,
    header: Option<&str>,
    limits: &Limits,
) -> Result<SmsPayload, Refusal> {
    let Some(header) = header.map(str::trim_end).filter(|h| !h.is_empty()) else {
        return Ok(sms);
    };
    let text = format!("{header}\n{}", sms.text);
    let (encoding, segments) = sms::measure(&text);
    if segments > limits.sms_max_segments {
        return Err(Refusal::SmsTooLong {
            segments,
            max: limits.sms_max_segments,
        });
    }
    Ok(SmsPayload {
        characters: u32::try_from(text.chars().count()).unwrap_or(u32::MAX),
        text,
        encoding,
        segments,
    })
}

/// Builds the payload of a job for `service` from a parsed message.
pub fn build(
    content: &MessageContent,
    service: Service,
    limits: &Limits,
) -> Result<Payload, Refusal> {
    match service {
        Service::Fax => payload::fax(content, limits).map(Payload::Fax),
        Service::Sms => payload::sms(content, limits).map(Payload::Sms),
        Service::Voice => payload::voice(content).map(Payload::Voice),
    }
}

#[cfg(test)]
mod tests;

//! [`MessageContent`] → the payload of one service (the rules are in the module docs).

use umsgate_render::office::OfficeFormat;
use umsgate_render::{Content, Part};

use super::{
    Attachment, AttachmentKind, Document, DocumentKind, FaxPayload, Limits, MessageContent,
    SmsPayload, VoicePayload, extract, html, sms,
};
use crate::outbound::refusal::Refusal;

fn unsupported(a: &Attachment) -> Refusal {
    Refusal::UnsupportedAttachment {
        name: a.name.clone(),
        content_type: a.content_type.clone(),
    }
}

fn display(a: &Attachment) -> String {
    match &a.name {
        Some(n) => format!("attachment \"{n}\" ({})", a.content_type),
        None => format!("attachment without name ({})", a.content_type),
    }
}

/// Attached mails are flattened at most this deep (the MIME limits bound it already; this
/// keeps the recursion explicit).
const MAX_FORWARD_DEPTH: usize = 8;

/// The body, then every attachment, as parts to render; anything that cannot become pages
/// is refused by name.
pub(super) fn fax(content: &MessageContent, limits: &Limits) -> Result<FaxPayload, Refusal> {
    let mut parts = Vec::new();
    push_message(content, limits, 0, &mut parts)?;
    if parts.is_empty() {
        return Err(Refusal::EmptyMessage);
    }
    Ok(FaxPayload { parts })
}

fn push_message(
    content: &MessageContent,
    limits: &Limits,
    depth: usize,
    parts: &mut Vec<Part>,
) -> Result<(), Refusal> {
    // Refuse what cannot be faxed before anything is rendered.
    if let Some(a) = content
        .attachments
        .iter()
        .find(|a| matches!(a.kind, AttachmentKind::Wav | AttachmentKind::Other))
    {
        return Err(unsupported(a));
    }
    if depth > 0 {
        // An attached mail: its header block, then its body, as the recipient would read it.
        let mut text = String::new();
        for (name, value) in &content.forward_headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        text.push('\n');
        text.push_str(&content.text);
        parts.push(Part {
            name: content.subject.clone(),
            content_type: "message/rfc822".to_owned(),
            content: Content::Text(text),
        });
    } else if let Some(html) = &content.html {
        parts.push(Part {
            name: None,
            content_type: "text/html".to_owned(),
            content: Content::Html {
                html: html.clone(),
                text: content.text.clone(),
            },
        });
    } else if !content.text.is_empty() {
        parts.push(Part {
            name: None,
            content_type: "text/plain".to_owned(),
            content: Content::Text(content.text.clone()),
        });
    }
    for a in &content.attachments {
        let part = |content: Content| Part {
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            content,
        };
        match a.kind {
            AttachmentKind::Pdf | AttachmentKind::Tiff => parts.push(part(fax_document(a)?)),
            AttachmentKind::Text => parts.push(part(Content::Text(
                String::from_utf8_lossy(&a.data).into_owned(),
            ))),
            AttachmentKind::Html => {
                let html = String::from_utf8_lossy(&a.data).into_owned();
                let text = super::text::normalise(&html::to_text(&html));
                parts.push(part(Content::Html { html, text }));
            }
            AttachmentKind::Image => parts.push(part(Content::Image(a.data.clone()))),
            AttachmentKind::Office => {
                let format = OfficeFormat::detect(&a.data, &a.content_type, a.name.as_deref())
                    .ok_or_else(|| unsupported(a))?;
                parts.push(part(Content::Office {
                    data: a.data.clone(),
                    format,
                }));
            }
            AttachmentKind::Message => {
                if depth >= MAX_FORWARD_DEPTH {
                    return Err(Refusal::Malformed {
                        detail: format!("mails are attached more than {MAX_FORWARD_DEPTH} deep"),
                    });
                }
                let nested = super::parse(&a.data, limits)?;
                push_message(&nested, limits, depth + 1, parts)?;
            }
            AttachmentKind::Wav | AttachmentKind::Other => return Err(unsupported(a)),
        }
    }
    Ok(())
}

/// A PDF or TIFF attachment; the kind comes from the bytes, not the label.
fn fax_document(a: &Attachment) -> Result<Content, Refusal> {
    match umsgate_fax::detect(&a.data) {
        Some(umsgate_fax::DocumentKind::Pdf) => Ok(Content::Pdf(a.data.clone())),
        Some(umsgate_fax::DocumentKind::Tiff) => Ok(Content::Tiff(a.data.clone())),
        None => {
            let expected = if a.kind == AttachmentKind::Pdf {
                "PDF"
            } else {
                "TIFF"
            };
            Err(Refusal::Malformed {
                detail: format!("{} is not a {expected} file", display(a)),
            })
        }
    }
}

/// The body text, measured; attachments are ignored when there is text.
pub(super) fn sms(content: &MessageContent, limits: &Limits) -> Result<SmsPayload, Refusal> {
    let sms_text = content.text.replace('\t', " ");
    if sms_text.trim().is_empty() {
        return Err(content
            .attachments
            .first()
            .map_or(Refusal::EmptyMessage, unsupported));
    }
    let (encoding, segments) = sms::measure(&sms_text);
    if segments > limits.sms_max_segments {
        return Err(Refusal::SmsTooLong {
            segments,
            max: limits.sms_max_segments,
        });
    }
    let characters = u32::try_from(sms_text.chars().count()).unwrap_or(u32::MAX);
    Ok(SmsPayload {
        text: sms_text,
        encoding,
        segments,
        characters,
    })
}

/// The first WAV, else the text; a second WAV is refused (which one to play would be a guess).
pub(super) fn voice(content: &MessageContent) -> Result<VoicePayload, Refusal> {
    let mut wavs = content
        .attachments
        .iter()
        .filter(|a| a.kind == AttachmentKind::Wav);
    if let Some(first) = wavs.next() {
        if let Some(second) = wavs.next() {
            return Err(unsupported(second));
        }
        if !extract::is_wav(&first.data) {
            return Err(Refusal::Malformed {
                detail: format!("{} is not a RIFF/WAVE file", display(first)),
            });
        }
        return Ok(VoicePayload {
            wav: Some(Document {
                name: "voice.wav".to_owned(),
                original_name: first.name.clone(),
                kind: DocumentKind::Wav,
                data: first.data.clone(),
            }),
            text: None,
        });
    }
    if !content.text.trim().is_empty() {
        return Ok(VoicePayload {
            wav: None,
            text: Some(content.text.clone()),
        });
    }
    Err(content
        .attachments
        .first()
        .map_or(Refusal::NoVoiceContent, unsupported))
}

//! [`MessageContent`] → the payload of one service (the rules are in the module docs).

use super::{
    Attachment, AttachmentKind, Document, DocumentKind, FaxPayload, Limits, MessageContent,
    SmsPayload, VoicePayload, extract, sms, text,
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

/// Body page first, then every attachment as pages; anything else is refused.
pub(super) fn fax(content: &MessageContent, limits: &Limits) -> Result<FaxPayload, Refusal> {
    // Refuse what cannot be faxed before counting pages of the rest.
    if let Some(a) = content
        .attachments
        .iter()
        .find(|a| matches!(a.kind, AttachmentKind::Wav | AttachmentKind::Other))
    {
        return Err(unsupported(a));
    }
    let mut documents = Vec::new();
    if !content.text.is_empty() {
        documents.push(text_document(
            "body.txt".to_owned(),
            None,
            &content.text,
            limits,
        ));
    }
    for (index, a) in content.attachments.iter().enumerate() {
        let n = index + 1;
        let doc = match a.kind {
            AttachmentKind::Pdf | AttachmentKind::Tiff => fax_document(n, a)?,
            AttachmentKind::Text => {
                let t = String::from_utf8_lossy(&a.data);
                text_document(format!("{n}.txt"), a.name.clone(), &t, limits)
            }
            AttachmentKind::Wav | AttachmentKind::Other => return Err(unsupported(a)),
        };
        documents.push(doc);
    }
    if documents.is_empty() {
        return Err(Refusal::EmptyMessage);
    }
    let pages = documents
        .iter()
        .fold(0u32, |sum, d| sum.saturating_add(d.pages));
    Ok(FaxPayload { documents, pages })
}

fn text_document(name: String, original: Option<String>, t: &str, limits: &Limits) -> Document {
    Document {
        name,
        original_name: original,
        kind: DocumentKind::TextPage,
        pages: text::page_count(t, limits.text_page_columns, limits.text_page_lines),
        data: t.as_bytes().to_vec(),
    }
}

/// A PDF or TIFF attachment with its pages; the kind comes from the bytes, not the label.
fn fax_document(n: usize, a: &Attachment) -> Result<Document, Refusal> {
    let kind = match umsgate_fax::detect(&a.data) {
        Some(umsgate_fax::DocumentKind::Pdf) => DocumentKind::Pdf,
        Some(umsgate_fax::DocumentKind::Tiff) => DocumentKind::Tiff,
        None => {
            let expected = if a.kind == AttachmentKind::Pdf {
                "PDF"
            } else {
                "TIFF"
            };
            return Err(Refusal::Malformed {
                detail: format!("{} is not a {expected} file", display(a)),
            });
        }
    };
    let pages = umsgate_fax::page_count(&a.data).map_err(|e| {
        if e.kind() == umsgate_fax::ErrorKind::Unsupported {
            unsupported(a)
        } else {
            Refusal::Malformed {
                detail: format!("{}: {e}", display(a)),
            }
        }
    })?;
    if pages == 0 {
        return Err(Refusal::Malformed {
            detail: format!("{} has no pages", display(a)),
        });
    }
    let suffix = if kind == DocumentKind::Pdf {
        "pdf"
    } else {
        "tif"
    };
    Ok(Document {
        name: format!("{n}.{suffix}"),
        original_name: a.name.clone(),
        kind,
        pages,
        data: a.data.clone(),
    })
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
                pages: 0,
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

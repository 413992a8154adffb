//! From the parsed tree to [`MessageContent`]: the exact limits, the body text, the
//! attachments and the header fields job building needs.
//!
//! Which parts are the body follows `mail-parser`'s own choice (`text_body`: in a
//! `multipart/alternative` the plain-text alternative when there is one, else the HTML one);
//! every other leaf part is an attachment, except images an HTML part references by `cid:`.

use std::collections::HashSet;

use mail_parser::{HeaderName, Message, MessagePart, MimeHeaders, PartType};
use umsgate_domain::Priority;

use umsgate_render::ImageKind;
use umsgate_render::office::OfficeFormat;

use super::{Attachment, AttachmentKind, Limits, MessageContent, html, text};

/// Reads the content; `Err` is the detail of a `Malformed` refusal.
pub(super) fn content(message: &Message<'_>, limits: &Limits) -> Result<MessageContent, String> {
    let has_field = message.parts.first().is_some_and(|root| {
        root.headers.iter().any(|h| {
            let name = h.name();
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
        })
    });
    if !has_field {
        return Err("no header field found".to_owned());
    }
    check_tree(message, limits)?;

    let mut body_ids = HashSet::new();
    let mut pieces = Vec::new();
    let mut html_pieces = Vec::new();
    let mut all_html = true;
    for &id in &message.text_body {
        let Some(part) = message.parts.get(id as usize) else {
            continue;
        };
        match &part.body {
            PartType::Text(t) => {
                body_ids.insert(id);
                pieces.push(plain_text(part, t));
                all_html = false;
            }
            PartType::Html(h) => {
                body_ids.insert(id);
                pieces.push(html::to_text(h));
                html_pieces.push(h.as_ref());
            }
            _ => {}
        }
    }
    for &id in &message.html_body {
        if message
            .parts
            .get(id as usize)
            .is_some_and(|p| matches!(p.body, PartType::Html(_) | PartType::Text(_)))
        {
            body_ids.insert(id);
        }
    }
    let body = text::normalise(&pieces.join("\n"));
    // An HTML-only body is kept as HTML too (with its `cid:` images inlined), so that the fax
    // can show it as the sender saw it.
    let html_body = (all_html && !html_pieces.is_empty() && !body.is_empty())
        .then(|| inline_images(message, &html_pieces.join("\n").replace("\r\n", "\n")));

    let cids = referenced_cids(message);
    let mut attachments = Vec::new();
    for &id in &message.attachments {
        if body_ids.contains(&id) {
            continue;
        }
        let Some(part) = message.parts.get(id as usize) else {
            continue;
        };
        if part
            .content_id()
            .is_some_and(|cid| cids.contains(cid.trim()))
        {
            continue;
        }
        if let Some(attachment) = attachment(message, part)? {
            attachments.push(attachment);
        }
    }

    Ok(MessageContent {
        message_id: message
            .message_id()
            .map(text::clean_line)
            .filter(|s| !s.is_empty()),
        subject: message
            .subject()
            .map(text::clean_line)
            .filter(|s| !s.is_empty()),
        from: message
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address.as_deref())
            .map(text::clean_line)
            .filter(|s| !s.is_empty()),
        priority: priority(message),
        text: body,
        html: html_body,
        forward_headers: forward_headers(message),
        display_names: display_names(message),
        attachments,
        disposition_notification_to: message
            .header(HeaderName::DispositionNotificationTo)
            .and_then(|v| match v.as_address() {
                Some(a) => a
                    .first()
                    .and_then(|a| a.address.as_deref())
                    .map(str::to_owned),
                None => v.as_text().and_then(addr_spec),
            })
            .map(|s| text::clean_line(&s))
            .filter(|s| !s.is_empty()),
    })
}

/// Depth, part count, header block sizes and decoded size, over the whole tree including
/// attached messages. Iterative; stops as soon as a limit is passed.
fn check_tree(message: &Message<'_>, limits: &Limits) -> Result<(), String> {
    let mut parts = 0usize;
    let mut decoded = 0u64;
    let mut stack: Vec<(&Message<'_>, u32, usize)> = vec![(message, 0, 0)];
    let mut messages: Vec<&Message<'_>> = vec![message];
    while let Some((msg, id, depth)) = stack.pop() {
        if depth > limits.max_depth {
            return Err(format!(
                "MIME parts are nested more than {} deep",
                limits.max_depth
            ));
        }
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        match &part.body {
            PartType::Multipart(children) => {
                for &child in children.iter().rev() {
                    if child != id {
                        stack.push((msg, child, depth + 1));
                    }
                }
            }
            PartType::Message(nested) => {
                messages.push(nested);
                if messages.len() > limits.max_parts {
                    return Err(format!("more than {} MIME parts", limits.max_parts));
                }
                stack.push((nested, 0, depth + 1));
            }
            _ => {}
        }
    }
    for msg in messages {
        parts = parts.saturating_add(msg.parts.len());
        if parts > limits.max_parts {
            return Err(format!(
                "message has more than {} MIME parts",
                limits.max_parts
            ));
        }
        for part in &msg.parts {
            let header = part.offset_body.saturating_sub(part.offset_header) as usize;
            if header > limits.max_header_size {
                return Err(format!(
                    "a header block is {header} bytes, at most {} are allowed",
                    limits.max_header_size
                ));
            }
            let size = match &part.body {
                PartType::Text(t) | PartType::Html(t) => t.len(),
                PartType::Binary(b) | PartType::InlineBinary(b) => b.len(),
                PartType::Message(_) | PartType::Multipart(_) => 0,
            };
            decoded = decoded.saturating_add(size as u64);
        }
        if decoded > limits.max_decoded_size {
            return Err(format!(
                "decoded content is over {} bytes",
                limits.max_decoded_size
            ));
        }
    }
    Ok(())
}

/// A text/plain body part as text: `format=flowed` unwrapped (RFC 3676).
fn plain_text(part: &MessagePart<'_>, t: &str) -> String {
    let ct = part.content_type();
    if ct.is_some_and(|c| {
        c.subtype().is_some_and(|s| {
            s.eq_ignore_ascii_case("enriched") || s.eq_ignore_ascii_case("richtext")
        })
    }) {
        return text::unenrich(t);
    }
    let flowed = ct
        .and_then(|c| c.attribute("format"))
        .is_some_and(|f| f.eq_ignore_ascii_case("flowed"));
    if flowed {
        let delsp = ct
            .and_then(|c| c.attribute("delsp"))
            .is_some_and(|d| d.eq_ignore_ascii_case("yes"));
        text::unflow(t, delsp)
    } else {
        t.to_owned()
    }
}

/// Every `cid:` reference of the message's HTML parts (its own parts, not attached messages).
fn referenced_cids(message: &Message<'_>) -> HashSet<String> {
    let mut cids = HashSet::new();
    for part in &message.parts {
        if let PartType::Html(h) = &part.body {
            html::cid_references(h, &mut cids);
        }
    }
    cids
}

/// One attachment, or `None` for a part that is a container.
fn attachment(message: &Message<'_>, part: &MessagePart<'_>) -> Result<Option<Attachment>, String> {
    let name = part.attachment_name().and_then(text::clean_name);
    let content_type = match &part.body {
        PartType::Message(_) => "message/rfc822".to_owned(),
        _ => part.content_type().map_or_else(
            || "text/plain".to_owned(),
            |ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                None => ct.ctype().to_ascii_lowercase(),
            },
        ),
    };
    // A part declared as text whose end or encoding could not be found is recovered by the
    // parser as text: a readable best effort. Anything else that cannot be decoded (a PDF
    // in broken base64 comes back as text too) is refused.
    let is_text_part = matches!(part.body, PartType::Text(_) | PartType::Html(_))
        && content_type.starts_with("text/");
    if part.is_encoding_problem && !is_text_part {
        return Err(match &name {
            Some(n) => format!("attachment \"{n}\" ({content_type}) cannot be decoded"),
            None => format!("attachment without name ({content_type}) cannot be decoded"),
        });
    }
    let (data, is_text): (Vec<u8>, bool) = match &part.body {
        PartType::Text(t) if content_type == "text/enriched" || content_type == "text/richtext" => {
            (text::normalise(&text::unenrich(t)).into_bytes(), true)
        }
        PartType::Text(t) => (text::normalise(t).into_bytes(), true),
        PartType::Html(t) => (t.replace("\r\n", "\n").into_bytes(), true),
        PartType::Binary(b) | PartType::InlineBinary(b) => (b.to_vec(), false),
        PartType::Message(_) => {
            let raw = message
                .raw_message
                .get(part.offset_body as usize..part.offset_end as usize)
                .unwrap_or_default();
            (raw.to_vec(), false)
        }
        PartType::Multipart(_) => return Ok(None),
    };
    let kind = kind_of(&data, &content_type, name.as_deref(), is_text);
    Ok(Some(Attachment {
        name,
        content_type,
        kind,
        data,
    }))
}

/// Magic bytes first, then the declared type, then the name's suffix.
fn kind_of(data: &[u8], content_type: &str, name: Option<&str>, is_text: bool) -> AttachmentKind {
    if content_type == "message/rfc822" || content_type == "message/global" {
        return AttachmentKind::Message;
    }
    if is_text {
        return if content_type == "text/html" {
            AttachmentKind::Html
        } else {
            AttachmentKind::Text
        };
    }
    match umsgate_fax::detect(data) {
        Some(umsgate_fax::DocumentKind::Pdf) => return AttachmentKind::Pdf,
        Some(umsgate_fax::DocumentKind::Tiff) => return AttachmentKind::Tiff,
        None => {}
    }
    if is_wav(data) {
        return AttachmentKind::Wav;
    }
    if ImageKind::detect(data).is_some() {
        return AttachmentKind::Image;
    }
    if OfficeFormat::detect(data, content_type, name).is_some() {
        return AttachmentKind::Office;
    }
    match content_type {
        "application/pdf" | "application/x-pdf" => return AttachmentKind::Pdf,
        "image/tiff" | "image/tif" | "image/x-tiff" => return AttachmentKind::Tiff,
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => {
            return AttachmentKind::Wav;
        }
        "text/plain" => return AttachmentKind::Text,
        _ => {}
    }
    let suffix = name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, s)| s.to_ascii_lowercase());
    match suffix.as_deref() {
        Some("pdf") => AttachmentKind::Pdf,
        Some("tif" | "tiff") => AttachmentKind::Tiff,
        Some("wav") => AttachmentKind::Wav,
        Some("txt") => AttachmentKind::Text,
        _ => AttachmentKind::Other,
    }
}

/// `To:` and `Cc:` display names by lowercase address.
fn display_names(message: &Message<'_>) -> std::collections::BTreeMap<String, String> {
    let mut names = std::collections::BTreeMap::new();
    for list in [message.to(), message.cc()].into_iter().flatten() {
        for a in list.iter() {
            if let (Some(name), Some(addr)) = (&a.name, &a.address) {
                let name = text::clean_line(name);
                if !name.is_empty() {
                    names.insert(addr.to_ascii_lowercase(), name);
                }
            }
        }
    }
    names
}

/// The header fields a forwarded mail shows above its body, cleaned for display.
fn forward_headers(message: &Message<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let list = |a: Option<&mail_parser::Address<'_>>| {
        a.map(|a| {
            a.iter()
                .map(|x| match (&x.name, &x.address) {
                    (Some(n), Some(addr)) => format!("{n} <{addr}>"),
                    (None, Some(addr)) => addr.to_string(),
                    (Some(n), None) => n.to_string(),
                    (None, None) => String::new(),
                })
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    for (label, value) in [
        ("From", list(message.from())),
        ("To", list(message.to())),
        ("Cc", list(message.cc())),
        ("Date", message.date().map(|d| d.to_rfc822())),
        ("Subject", message.subject().map(str::to_owned)),
    ] {
        if let Some(v) = value
            .map(|v| text::clean_line(&v))
            .filter(|v| !v.is_empty())
        {
            out.push((label.to_owned(), v));
        }
    }
    out
}

/// The HTML with every `cid:` reference to an image part of the message replaced by a
/// `data:` URL, so that the page renders with no access to anything outside it.
fn inline_images(message: &Message<'_>, html: &str) -> String {
    use base64::Engine as _;
    let mut cids = HashSet::new();
    html::cid_references(html, &mut cids);
    let mut out = html.to_owned();
    for part in &message.parts {
        let Some(cid) = part.content_id().map(str::trim) else {
            continue;
        };
        if !cids.contains(cid) {
            continue;
        }
        let (PartType::Binary(data) | PartType::InlineBinary(data)) = &part.body else {
            continue;
        };
        let Some(kind) = ImageKind::detect(data) else {
            continue;
        };
        let mime = match kind {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Gif => "image/gif",
            ImageKind::Bmp => "image/bmp",
            ImageKind::WebP => "image/webp",
        };
        let url = format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(data)
        );
        out = out.replace(&format!("cid:{cid}"), &url);
    }
    out
}

/// The addr-spec of a raw address field (the parser keeps `Disposition-Notification-To` raw):
/// what is inside the first `<…>`, else the first comma-separated entry.
fn addr_spec(raw: &str) -> Option<String> {
    let spec = match raw.split_once('<') {
        Some((_, rest)) => rest.split('>').next().unwrap_or_default(),
        None => raw.split(',').next().unwrap_or_default(),
    };
    let spec = spec.trim();
    spec.contains('@').then(|| spec.to_owned())
}

/// `RIFF` … `WAVE` at the start.
pub(super) fn is_wav(data: &[u8]) -> bool {
    data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WAVE"
}

/// `X-Priority`, `Importance`, `Priority`: the first one present that is understood.
fn priority(message: &Message<'_>) -> Option<Priority> {
    let value = |name: &str| {
        message
            .headers()
            .iter()
            .find(|h| h.name().eq_ignore_ascii_case(name))
            .and_then(|h| h.value().as_text())
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let x_priority = value("X-Priority").and_then(|v| match v.chars().next() {
        Some('1' | '2') => Some(Priority::High),
        Some('3') => Some(Priority::Normal),
        Some('4' | '5') => Some(Priority::Low),
        _ => None,
    });
    let importance = || {
        value("Importance").and_then(|v| match v.as_str() {
            "high" => Some(Priority::High),
            "normal" => Some(Priority::Normal),
            "low" => Some(Priority::Low),
            _ => None,
        })
    };
    let priority = || {
        value("Priority").and_then(|v| match v.as_str() {
            "urgent" => Some(Priority::High),
            "normal" => Some(Priority::Normal),
            "non-urgent" => Some(Priority::Low),
            _ => None,
        })
    };
    x_priority.or_else(importance).or_else(priority)
}

//! The bomb shield: a linear scan of the raw message that refuses what would make the MIME
//! parser use far more memory or time than the message is worth, before the parser runs.
//!
//! The counts are upper bounds of what `mail-parser` 0.11 can build from the bytes, derived
//! from how it reads (checked against its source):
//! - a part starts only after `--boundary` (anywhere, not only at a line start) or where an
//!   attached `message/*` begins; a match needs a run of at least two `-`, and with a boundary
//!   that has a character other than `-`, one run holds at most one match;
//! - a part's header block starts right after the delimiter (or after the parent part's
//!   header block for an attached message) and ends at the first empty line.
//!
//! When a boundary cannot be read plainly (RFC 2231 `boundary*`, quoting with backslashes,
//! comments, encoded words, or a boundary of only `-`), every pair of `-` counts as a
//! possible delimiter: more conservative, and such messages are rare.
//!
//! XXX: the shield refuses a message that *could* hold a bomb. Factors (8 × `max_parts`,
//! 16 × `max_header_size`) keep ordinary mail far below the bounds; the exact limits are
//! checked on the parsed tree afterwards (`extract.rs`).

use std::collections::HashSet;

use super::Limits;

/// How much more than `max_parts` the upper bound may reach before the parser is skipped.
const PART_FACTOR: usize = 8;
/// How many `max_header_size` all possible header blocks together may use.
const HEADER_BUDGET_FACTOR: usize = 16;
/// Bytes of a header field value kept for looking at its media type or encoding.
const FIELD_KEEP: usize = 512;

/// Checks the raw message; `Err` carries the detail of a [`super::Refusal::Malformed`].
pub(crate) fn check(raw: &[u8], limits: &Limits) -> Result<(), String> {
    let max_raw = limits.max_raw_size();
    if raw.len() as u64 > max_raw {
        return Err(format!(
            "message is {} bytes, at most {max_raw} are read",
            raw.len()
        ));
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err("message is empty".to_owned());
    }
    let boundaries = declared_boundaries(raw, limits)?;
    let paragraphs = scan_paragraphs(raw, limits)?;
    let delimiters = scan_delimiters(raw, &boundaries, limits)?;

    let parts_bound = delimiters
        .matches
        .saturating_add(paragraphs.message_parts)
        .saturating_add(1);
    let max_bound = limits.max_parts.saturating_mul(PART_FACTOR);
    if parts_bound > max_bound {
        return Err(format!(
            "message may hold {parts_bound} MIME parts, at most {} are allowed",
            limits.max_parts
        ));
    }
    let header_bytes = delimiters
        .header_bytes
        .saturating_add(paragraphs.header_bytes);
    let header_budget = limits.max_header_size.saturating_mul(HEADER_BUDGET_FACTOR);
    if header_bytes > header_budget {
        return Err(format!(
            "header blocks take {header_bytes} bytes, at most {header_budget} are read"
        ));
    }
    Ok(())
}

/// The boundaries the message declares, or `None` when one of them cannot be read plainly
/// (then every pair of `-` is a possible delimiter).
fn declared_boundaries(raw: &[u8], limits: &Limits) -> Result<Option<HashSet<Vec<u8>>>, String> {
    const KEY: &[u8] = b"boundary";
    let mut set = HashSet::new();
    let mut plain = true;
    let mut declarations = 0usize;
    let mut i = 0;
    while let Some(offset) = find_ci(&raw[i..], KEY) {
        let mut p = i + offset + KEY.len();
        i = p;
        while raw.get(p).is_some_and(|&c| c == b' ' || c == b'\t') {
            p += 1;
        }
        match raw.get(p) {
            Some(b'*') | Some(b'(') => {
                plain = false;
                declarations += 1;
            }
            Some(b'=') => {
                declarations += 1;
                p += 1;
                while raw.get(p).is_some_and(|&c| c == b' ' || c == b'\t') {
                    p += 1;
                }
                let value = if raw.get(p) == Some(&b'"') {
                    let rest = &raw[p + 1..];
                    let end = rest
                        .iter()
                        .position(|&c| c == b'"' || c == b'\n')
                        .unwrap_or(rest.len());
                    &rest[..end]
                } else {
                    let rest = &raw[p..];
                    let end = rest
                        .iter()
                        .position(|&c| c == b';' || c.is_ascii_whitespace())
                        .unwrap_or(rest.len());
                    &rest[..end]
                };
                let odd = value.is_empty()
                    || value.iter().all(|&c| c == b'-')
                    || value.iter().any(|&c| c == b'\\' || c == b'(')
                    || value.windows(2).any(|w| w == b"=?");
                if odd {
                    plain = false;
                } else {
                    set.insert(value.to_vec());
                }
            }
            _ => {}
        }
        if declarations > limits.max_parts {
            return Err(format!(
                "message declares more than {} multipart boundaries",
                limits.max_parts
            ));
        }
    }
    Ok(plain.then_some(set))
}

/// Case-insensitive search of an ASCII needle.
fn find_ci(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle.first()?;
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        let c = haystack[i];
        if c.eq_ignore_ascii_case(first)
            && haystack[i..i + needle.len()].eq_ignore_ascii_case(needle)
        {
            return Some(i);
        }
        i += 1;
    }
    None
}

struct Delimiters {
    /// Upper bound of delimiter matches.
    matches: usize,
    /// Bytes of the header blocks that may follow them.
    header_bytes: usize,
}

/// Counts possible delimiters and measures the header block each may open.
fn scan_delimiters(
    raw: &[u8],
    boundaries: &Option<HashSet<Vec<u8>>>,
    limits: &Limits,
) -> Result<Delimiters, String> {
    // Boundaries split into (leading dashes, rest); rest is never empty for plain ones.
    let plain: Option<Vec<(usize, &[u8])>> = boundaries.as_ref().map(|set| {
        set.iter()
            .map(|b| {
                let dashes = b.iter().take_while(|&&c| c == b'-').count();
                (dashes, &b[dashes..])
            })
            .collect()
    });
    let mut out = Delimiters {
        matches: 0,
        header_bytes: 0,
    };
    let mut blank_after = Blanks::default();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'-' {
            i += 1;
            continue;
        }
        let start = i;
        while i < raw.len() && raw[i] == b'-' {
            i += 1;
        }
        let run = i - start;
        if run < 2 {
            continue;
        }
        let header_start = match &plain {
            None => {
                out.matches = out.matches.saturating_add(run / 2);
                Some(i)
            }
            Some(list) => list
                .iter()
                .find(|(dashes, rest)| run >= dashes + 2 && raw[i..].starts_with(rest))
                .map(|(_, rest)| i + rest.len()),
        };
        if let Some(p) = header_start {
            if plain.is_some() {
                out.matches = out.matches.saturating_add(1);
            }
            let size = blank_after.next_from(raw, p) - p;
            if size > limits.max_header_size {
                return Err(format!(
                    "a part's header block is over {} bytes",
                    limits.max_header_size
                ));
            }
            out.header_bytes = out.header_bytes.saturating_add(size);
        }
    }
    Ok(out)
}

/// Finds the next empty line at or after a position; positions asked for only grow, so the
/// total work is linear.
#[derive(Default)]
struct Blanks {
    /// End of the last empty line found and the position the search started from.
    found: Option<(usize, usize)>,
}

impl Blanks {
    /// Offset where the header block starting at `from` ends (the empty line, or the end).
    fn next_from(&mut self, raw: &[u8], from: usize) -> usize {
        if let Some((end, searched_from)) = self.found
            && searched_from <= from
            && from <= end
        {
            return end;
        }
        let end = next_blank(raw, from);
        self.found = Some((end, from));
        end
    }
}

/// Offset of the first empty line (`\n\n` or `\n\r\n`) at or after `from`, or the end.
fn next_blank(raw: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < raw.len() {
        if raw[i] == b'\n' {
            match raw.get(i + 1) {
                Some(b'\n') => return i + 1,
                Some(b'\r') if raw.get(i + 2) == Some(&b'\n') => return i + 1,
                _ => {}
            }
        }
        i += 1;
    }
    raw.len()
}

struct Paragraphs {
    /// `message/*` content types seen (each may open an attached message).
    message_parts: usize,
    /// Bytes of the top header block and of the blocks that may start attached messages.
    header_bytes: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    ContentType,
    TransferEncoding,
}

/// What one paragraph (lines up to an empty line) says about MIME.
#[derive(Default)]
struct Paragraph {
    start: usize,
    has_content_type: bool,
    message_type: bool,
    encoded: bool,
}

/// Walks the paragraphs: top header size, attached-message header blocks, encoded
/// `message/*` parts (which the parser would parse again after decoding, unseen by this
/// scan).
fn scan_paragraphs(raw: &[u8], limits: &Limits) -> Result<Paragraphs, String> {
    let mut out = Paragraphs {
        message_parts: 0,
        header_bytes: 0,
    };
    let mut para = Paragraph::default();
    let mut index = 0usize;
    let mut prev_message = false;
    let mut digest = false;
    let mut field: Option<(FieldKind, Vec<u8>)> = None;
    let mut pos = 0usize;

    while pos <= raw.len() {
        let line_end = raw[pos..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(raw.len(), |p| pos + p);
        let mut line = &raw[pos..line_end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let at_end = line_end >= raw.len();
        if line.is_empty() || at_end {
            if !line.is_empty() {
                add_line(line, &mut field);
            }
            finish_field(&mut field, &mut para, &mut digest, &mut out.message_parts);
            let size = line_end - para.start;
            if index == 0 || prev_message {
                if size > limits.max_header_size {
                    let which = if index == 0 {
                        "the"
                    } else {
                        "an attached message's"
                    };
                    return Err(format!(
                        "{which} header block is {size} bytes, at most {} are allowed",
                        limits.max_header_size
                    ));
                }
                out.header_bytes = out.header_bytes.saturating_add(size);
            }
            if para.encoded && (para.message_type || (digest && !para.has_content_type)) {
                return Err(
                    "an attached message is base64 or quoted-printable encoded (RFC 2046 allows 7bit, 8bit or binary only)"
                        .to_owned(),
                );
            }
            prev_message = para.message_type;
            index += 1;
            para = Paragraph {
                start: line_end + 1,
                ..Paragraph::default()
            };
            if at_end {
                break;
            }
        } else {
            if !(line[0] == b' ' || line[0] == b'\t') {
                finish_field(&mut field, &mut para, &mut digest, &mut out.message_parts);
            }
            add_line(line, &mut field);
        }
        pos = line_end + 1;
    }
    Ok(out)
}

/// Closes the open field and records what it says about the paragraph.
fn finish_field(
    field: &mut Option<(FieldKind, Vec<u8>)>,
    para: &mut Paragraph,
    digest: &mut bool,
    message_parts: &mut usize,
) {
    let Some((kind, value)) = field.take() else {
        return;
    };
    match kind {
        FieldKind::ContentType => {
            para.has_content_type = true;
            let media = media_type(&value);
            if media.starts_with(b"message") {
                para.message_type = true;
                *message_parts = message_parts.saturating_add(1);
            }
            if media == b"multipart/digest" {
                *digest = true;
            }
        }
        FieldKind::TransferEncoding => {
            let v = squeeze(&value);
            if !matches!(v.as_slice(), b"" | b"7bit" | b"8bit" | b"binary") {
                para.encoded = true;
            }
        }
    }
}

/// Feeds one non-empty line: a continuation extends the open field; any line with a colon
/// may also start a field (the parser skips leading blanks of a name, so a folded line can
/// be read as a new field; treating it as both is the safe side).
fn add_line(line: &[u8], field: &mut Option<(FieldKind, Vec<u8>)>) {
    let folded = line[0] == b' ' || line[0] == b'\t';
    if folded && let Some((_, value)) = field.as_mut() {
        let room = FIELD_KEEP.saturating_sub(value.len());
        value.extend_from_slice(&line[..line.len().min(room)]);
    }
    let Some(colon) = line.iter().position(|&c| c == b':') else {
        return;
    };
    let name: Vec<u8> = line[..colon]
        .iter()
        .filter(|c| !c.is_ascii_whitespace())
        .map(u8::to_ascii_lowercase)
        .collect();
    let kind = match name.as_slice() {
        b"content-type" => FieldKind::ContentType,
        b"content-transfer-encoding" => FieldKind::TransferEncoding,
        _ => {
            if !folded {
                *field = None;
            }
            return;
        }
    };
    let value = &line[colon + 1..];
    let value = value[..value.len().min(FIELD_KEEP)].to_vec();
    if folded {
        // Judge the folded reading on its own without losing the open field's kind: a
        // second opinion is enough when it is the more dangerous one.
        if field.as_ref().is_none_or(|(k, _)| *k != kind) {
            *field = Some((kind, value));
        }
    } else {
        *field = Some((kind, value));
    }
}

/// `type/subtype` of a Content-Type value: before the first `;`, comments and blanks removed,
/// lowercase.
fn media_type(value: &[u8]) -> Vec<u8> {
    let head = value.split(|&c| c == b';').next().unwrap_or_default();
    squeeze(head)
}

/// Lowercase, without blanks and `(comments)`.
fn squeeze(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut depth = 0usize;
    for &c in value {
        match c {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            _ if depth > 0 || c.is_ascii_whitespace() => {}
            _ => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn plain_message_passes() {
        let eml = b"From: a@b\r\nContent-Type: multipart/mixed; boundary=\"xy\"\r\n\r\n--xy\r\nContent-Type: text/plain\r\n\r\nhi\r\n------------\r\n--xy--\r\n";
        assert_eq!(check(eml, &limits()), Ok(()));
    }

    #[test]
    fn dash_lines_do_not_count_with_plain_boundaries() {
        let mut eml = b"From: a@b\nContent-Type: multipart/mixed; boundary=xy\n\n--xy\n\n".to_vec();
        for _ in 0..10_000 {
            eml.extend_from_slice(b"-----------------------------------\n");
        }
        eml.extend_from_slice(b"--xy--\n");
        assert_eq!(check(&eml, &limits()), Ok(()));
    }

    #[test]
    fn all_dash_boundary_counts_pairs() {
        let mut eml = b"From: a@b\nContent-Type: multipart/mixed; boundary=\"-\"\n\n".to_vec();
        for _ in 0..10_000 {
            eml.extend_from_slice(b"---\n\n");
        }
        assert!(check(&eml, &limits()).is_err());
    }

    #[test]
    fn encoded_attached_message_is_refused() {
        let eml = b"From: a@b\nContent-Type: multipart/mixed; boundary=xy\n\n--xy\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nRnJvbTogYUBi\n--xy--\n";
        let err = check(eml, &limits()).unwrap_err();
        assert!(err.contains("encoded"), "{err}");
    }

    #[test]
    fn boundary_named_message_is_not_an_attached_message() {
        let eml = b"From: a@b\nContent-Type: multipart/mixed; boundary=\"message_1\"\nContent-Transfer-Encoding: base64\n\n--message_1--\n";
        assert_eq!(check(eml, &limits()), Ok(()));
    }

    #[test]
    fn big_top_header_is_refused() {
        let mut eml = b"From: a@b\n".to_vec();
        for _ in 0..5_000 {
            eml.extend_from_slice(b"X-Filler: 0123456789\n");
        }
        eml.extend_from_slice(b"\nbody\n");
        assert!(check(&eml, &limits()).is_err());
    }

    #[test]
    fn blanks_cursor_is_linear_and_right() {
        let raw = b"a\nb\n\nc\n\nd";
        let mut b = Blanks::default();
        assert_eq!(b.next_from(raw, 0), 4);
        assert_eq!(b.next_from(raw, 2), 4);
        assert_eq!(b.next_from(raw, 5), 7);
        assert_eq!(b.next_from(raw, 8), raw.len());
    }
}

//! HTML → readable plain text, for HTML-only mail bodies. Not a browser: a single linear
//! pass that drops tags, keeps text, turns block elements into line breaks and decodes
//! character references. `<head>`, `<script>`, `<style>` and comments are dropped; `<pre>`
//! keeps its spacing; table cells are separated by a tab, list items start with `- `.

use std::collections::HashSet;

/// What a tag does to the text flow.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// Inline: nothing.
    Inline,
    /// A line break (`br`, `tr`, `div`, `li` …).
    Line,
    /// A paragraph break (`p`, headings, `table` …).
    Paragraph,
    /// A cell separator.
    Cell,
}

fn flow(name: &str) -> Flow {
    match name {
        "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "ul" | "ol" | "dl"
        | "blockquote" | "pre" | "hr" | "address" | "figure" | "section" | "article" | "header"
        | "footer" => Flow::Paragraph,
        "br" | "div" | "tr" | "li" | "dt" | "dd" | "center" | "form" | "fieldset" | "nav"
        | "main" | "aside" | "caption" | "thead" | "tbody" | "tfoot" | "body" | "html" => {
            Flow::Line
        }
        "td" | "th" => Flow::Cell,
        _ => Flow::Inline,
    }
}

/// Converts an HTML document or fragment to text (not yet normalised; see `text::normalise`).
pub(super) fn to_text(html: &str) -> String {
    let mut out = Out::default();
    let mut rest = html;
    let mut pre = 0usize;
    while let Some(lt) = rest.find('<') {
        out.text(&rest[..lt], pre > 0);
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        let Some(tag) = Tag::read(rest) else {
            out.text("<", pre > 0);
            rest = &rest[1..];
            continue;
        };
        rest = &rest[tag.len..];
        let name = tag.name.as_str();
        if !tag.closing && matches!(name, "script" | "style" | "head" | "title") {
            rest = skip_until_close(rest, name);
            if name == "head" {
                out.line();
            }
            continue;
        }
        if name == "pre" {
            pre = if tag.closing {
                pre.saturating_sub(1)
            } else {
                pre + 1
            };
        }
        match flow(name) {
            Flow::Inline => {}
            Flow::Line => out.line(),
            Flow::Paragraph => out.paragraph(),
            Flow::Cell => {
                if !tag.closing {
                    out.cell();
                }
            }
        }
        if name == "li" && !tag.closing {
            out.push_raw("- ");
        }
    }
    out.text(rest, pre > 0);
    out.buf
}

/// Collects the targets of `cid:` URLs (`src="cid:logo@x"`), without quotes or brackets.
pub(super) fn cid_references(html: &str, into: &mut HashSet<String>) {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("cid:") {
        let start = from + i + 4;
        let end = html[start..]
            .find(|c: char| c == '"' || c == '\'' || c == ')' || c == '>' || c.is_whitespace())
            .map_or(html.len(), |e| start + e);
        let cid = html[start..end].trim_matches(['<', '>']);
        if !cid.is_empty() {
            into.insert(decode_percent(cid));
        }
        from = end.max(start);
    }
}

/// `%xx` decoding for cid URLs (RFC 2392); invalid sequences are kept.
fn decode_percent(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Skips to after `</name …>` (case-insensitive), or to the end.
fn skip_until_close<'a>(rest: &'a str, name: &str) -> &'a str {
    let needle = format!("</{name}");
    match find_ascii_ci(rest, &needle) {
        Some(i) => {
            let after = &rest[i..];
            after.find('>').map_or("", |e| &after[e + 1..])
        }
        None => "",
    }
}

/// Byte offset of an ASCII needle, ignoring ASCII case, without copying the haystack.
fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let (hay, needle) = (haystack.as_bytes(), needle.as_bytes());
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// A tag at the start of the input.
struct Tag {
    name: String,
    closing: bool,
    /// Bytes the tag takes, `>` included.
    len: usize,
}

impl Tag {
    fn read(input: &str) -> Option<Tag> {
        let body = input.strip_prefix('<')?;
        let (closing, body) = match body.strip_prefix('/') {
            Some(b) => (true, b),
            None => (false, body),
        };
        let first = body.chars().next()?;
        if !(first.is_ascii_alphabetic() || first == '!' || first == '?') {
            return None;
        }
        let name: String = body
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        // Find the closing '>' outside quoted attribute values.
        let mut quote: Option<char> = None;
        for (i, c) in input.char_indices().skip(1) {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '>') => {
                    return Some(Tag {
                        name,
                        closing,
                        len: i + 1,
                    });
                }
                _ => {}
            }
        }
        Some(Tag {
            name,
            closing,
            len: input.len(),
        })
    }
}

/// The text being built, with HTML whitespace rules.
#[derive(Default)]
struct Out {
    buf: String,
    /// A space is owed before the next word.
    space: bool,
}

impl Out {
    fn text(&mut self, raw: &str, pre: bool) {
        let decoded = decode_entities(raw);
        if pre {
            self.buf.push_str(&decoded);
            self.space = false;
            return;
        }
        for c in decoded.chars() {
            if c.is_whitespace() && c != '\u{a0}' {
                self.space = true;
            } else {
                if self.space && !self.buf.is_empty() && !self.buf.ends_with(['\n', '\t', ' ']) {
                    self.buf.push(' ');
                }
                self.space = false;
                self.buf.push(c);
            }
        }
    }

    fn push_raw(&mut self, s: &str) {
        self.buf.push_str(s);
        self.space = false;
    }

    fn line(&mut self) {
        self.space = false;
        if !self.buf.is_empty() && !self.buf.ends_with('\n') {
            self.buf.push('\n');
        }
    }

    fn paragraph(&mut self) {
        self.space = false;
        if self.buf.is_empty() {
            return;
        }
        while !self.buf.ends_with("\n\n") {
            self.buf.push('\n');
        }
    }

    fn cell(&mut self) {
        self.space = false;
        if !self.buf.is_empty() && !self.buf.ends_with(['\n', '\t']) {
            self.buf.push('\t');
        }
    }
}

/// Decodes `&name;`, `&#NN;` and `&#xHH;`; unknown references stay as written.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..]
            .char_indices()
            .take(32)
            .find(|&(_, c)| c == ';' || !(c.is_ascii_alphanumeric() || c == '#'))
            .map(|(i, c)| (i + 1, c == ';'));
        let decoded = match end {
            Some((semi, true)) => reference(&rest[1..semi]).map(|c| (c, semi + 1)),
            _ => None,
        };
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character a reference (without `&` and `;`) stands for.
fn reference(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let value = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        return Some(match value {
            0 => '\u{fffd}',
            // Windows-1252 numbers that HTML maps (e.g. &#128; is €).
            0x80 => '€',
            0x85 => '…',
            0x91 => '‘',
            0x92 => '’',
            0x93 => '“',
            0x94 => '”',
            0x96 => '–',
            0x97 => '—',
            v => char::from_u32(v).unwrap_or('\u{fffd}'),
        });
    }
    let c = match name {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "shy" => '\u{ad}',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "sect" => '§',
        "para" => '¶',
        "deg" => '°',
        "plusmn" => '±',
        "times" => '×',
        "divide" => '÷',
        "middot" => '·',
        "bull" => '•',
        "hellip" => '…',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "laquo" => '«',
        "raquo" => '»',
        "iexcl" => '¡',
        "iquest" => '¿',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "Auml" => 'Ä',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        "szlig" => 'ß',
        "agrave" => 'à',
        "aacute" => 'á',
        "acirc" => 'â',
        "atilde" => 'ã',
        "aring" => 'å',
        "aelig" => 'æ',
        "ccedil" => 'ç',
        "egrave" => 'è',
        "eacute" => 'é',
        "ecirc" => 'ê',
        "euml" => 'ë',
        "igrave" => 'ì',
        "iacute" => 'í',
        "icirc" => 'î',
        "iuml" => 'ï',
        "ntilde" => 'ñ',
        "ograve" => 'ò',
        "oacute" => 'ó',
        "ocirc" => 'ô',
        "otilde" => 'õ',
        "oslash" => 'ø',
        "ugrave" => 'ù',
        "uacute" => 'ú',
        "ucirc" => 'û',
        "yacute" => 'ý',
        "yuml" => 'ÿ',
        "Agrave" => 'À',
        "Aacute" => 'Á',
        "Acirc" => 'Â',
        "Aring" => 'Å',
        "AElig" => 'Æ',
        "Ccedil" => 'Ç',
        "Egrave" => 'È',
        "Eacute" => 'É',
        "Ecirc" => 'Ê',
        "Ntilde" => 'Ñ',
        "Oslash" => 'Ø',
        "Ugrave" => 'Ù',
        "Uacute" => 'Ú',
        "ensp" | "emsp" | "thinsp" => ' ',
        "zwnj" | "zwj" | "lrm" | "rlm" => return None,
        _ => return None,
    };
    Some(c)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn blocks_entities_and_dropped_elements() {
        let html = "<!DOCTYPE html><html><head><title>T</title><style>p{x:1}</style></head>\
            <body><p>Sehr geehrter Herr&nbsp;Schmidt,</p><p>anbei <b>das</b>\n  Angebot &amp; mehr &euro; &#8364; &#x20AC; &bogus;</p>\
            <script>alert('<p>')</script><table><tr><td>a</td><td>b</td></tr></table>\
            <ul><li>eins<li>zwei</ul>x<br>y<!-- hidden --></body></html>";
        assert_eq!(
            to_text(html),
            "Sehr geehrter Herr\u{a0}Schmidt,\n\nanbei das Angebot & mehr € € € &bogus;\n\na\tb\n\n- eins\n- zwei\n\nx\ny\n"
        );
    }

    #[test]
    fn pre_keeps_spacing_and_broken_tags_are_text() {
        assert_eq!(to_text("<pre>a  b\n c</pre>"), "a  b\n c\n\n");
        assert_eq!(to_text("1 < 2 <3"), "1 < 2 <3");
        assert_eq!(to_text("<a href=\"x>y\">link</a>"), "link");
        assert_eq!(to_text("<p"), "");
    }

    #[test]
    fn cid_references_are_found() {
        let mut set = HashSet::new();
        cid_references(
            "<img src=\"cid:logo.7f3a@example.com\"><img src='CID:a%40b'>url(cid:c)",
            &mut set,
        );
        let mut v: Vec<_> = set.into_iter().collect();
        v.sort();
        assert_eq!(v, ["a@b", "c", "logo.7f3a@example.com"]);
    }
}

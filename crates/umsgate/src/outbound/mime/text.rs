//! Plain-text helpers: normalising a body, unwrapping `format=flowed`, reading `text/enriched`,
//! cleaning names and header values for display.

use umsgate_domain::text::clean_char;

/// Normalises a body: `\n` line endings, no control characters but tab, NBSP as space, no
/// BOM, no blanks at line ends (the `-- ` signature separator keeps its space), no blank lines
/// at the start or end, at most two blank lines in a row.
pub(super) fn normalise(input: &str) -> String {
    let unified = input.replace("\r\n", "\n").replace('\r', "\n");
    let mut lines: Vec<std::borrow::Cow<'_, str>> = Vec::new();
    for raw_line in unified.split('\n') {
        // Plain printable ASCII (most lines) needs no cleaning and no copy.
        let plain = raw_line
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b));
        let cleaned: std::borrow::Cow<'_, str> = if plain {
            raw_line.into()
        } else {
            raw_line
                .chars()
                .filter_map(clean_char)
                .collect::<String>()
                .into()
        };
        let line = if cleaned == "-- " {
            cleaned
        } else {
            match cleaned {
                std::borrow::Cow::Borrowed(b) => b.trim_end().into(),
                std::borrow::Cow::Owned(o) => o.trim_end().to_owned().into(),
            }
        };
        lines.push(line);
    }
    let first = lines.iter().position(|l| !l.is_empty());
    let last = lines.iter().rposition(|l| !l.is_empty());
    let (Some(first), Some(last)) = (first, last) else {
        return String::new();
    };
    let mut out = String::new();
    let mut blanks = 0;
    for line in &lines[first..=last] {
        if line.is_empty() {
            blanks += 1;
            if blanks > 2 {
                continue;
            }
        } else {
            blanks = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.pop();
    out
}

/// Unwraps RFC 3676 `format=flowed` text: a line ending in a space continues on the next
/// line of the same quote depth; space-stuffing is removed; with `delsp=yes` the soft-break
/// space is removed too. The signature separator `-- ` is never joined.
pub(super) fn unflow(input: &str, delsp: bool) -> String {
    let unified = input.replace("\r\n", "\n");
    let mut out = String::with_capacity(unified.len());
    let mut open: Option<usize> = None; // quote depth of a paragraph being joined
    for line in unified.split('\n') {
        let depth = line.chars().take_while(|&c| c == '>').count();
        let mut content = &line[depth..];
        if let Some(stripped) = content.strip_prefix(' ') {
            content = stripped;
        }
        match open {
            Some(d) if d == depth => {}
            Some(_) => out.push('\n'),
            None => {}
        }
        if open != Some(depth) {
            out.push_str(&">".repeat(depth));
            if depth > 0 {
                out.push(' ');
            }
        }
        let soft = content.ends_with(' ') && content != "-- ";
        if soft {
            let kept = if delsp {
                &content[..content.len() - 1]
            } else {
                content
            };
            out.push_str(kept);
            open = Some(depth);
        } else {
            out.push_str(content);
            out.push('\n');
            open = None;
        }
    }
    if open.is_none() {
        out.pop();
    }
    out
}

/// `text/enriched` (RFC 1896) as plain text: formatting commands dropped, `<<` is `<`,
/// a single line break is a space and `n` breaks are `n - 1` line breaks; `<nofill>` text
/// keeps its breaks; `<param>` contents are dropped.
pub(super) fn unenrich(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut nofill = 0usize;
    let mut param = 0usize;
    let mut rest = input;
    let mut newlines = 0usize;
    let flush = |out: &mut String, newlines: &mut usize, nofill: usize| {
        if *newlines > 0 {
            if nofill > 0 {
                out.extend(std::iter::repeat_n('\n', *newlines));
            } else if *newlines == 1 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', *newlines - 1));
            }
            *newlines = 0;
        }
    };
    while let Some(c) = rest.chars().next() {
        if c == '\n' {
            newlines += 1;
            rest = &rest[1..];
            continue;
        }
        if c == '\r' {
            rest = &rest[1..];
            continue;
        }
        flush(&mut out, &mut newlines, nofill);
        if let Some(after) = rest.strip_prefix("<<") {
            if param == 0 {
                out.push('<');
            }
            rest = after;
        } else if let (true, Some(end)) = (c == '<', rest.find('>')) {
            match rest[1..end].to_ascii_lowercase().as_str() {
                "nofill" => nofill += 1,
                "/nofill" => nofill = nofill.saturating_sub(1),
                "param" => param += 1,
                "/param" => param = param.saturating_sub(1),
                _ => {}
            }
            rest = &rest[end + 1..];
        } else {
            if param == 0 {
                out.push(c);
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    flush(&mut out, &mut newlines, nofill);
    out
}

/// A header value for display: control characters become spaces, runs of blanks one space,
/// trimmed.
pub(super) fn clean_line(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out
}

/// An attachment name for display only: the last path component, without control or
/// bidirectional-override characters, at most 255 characters; `None` when nothing is left.
pub(super) fn clean_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|&c| {
            !c.is_control()
                && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
        })
        .take(255)
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." {
        None
    } else {
        Some(trimmed.to_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each line cleaned character by character, as the contract says, with no shortcut.
    fn normalise_reference(input: &str) -> String {
        let unified = input.replace("\r\n", "\n").replace('\r', "\n");
        let lines: Vec<String> = unified
            .split('\n')
            .map(|raw| {
                let cleaned: String = raw.chars().filter_map(clean_char).collect();
                if cleaned == "-- " {
                    cleaned
                } else {
                    cleaned.trim_end().to_owned()
                }
            })
            .collect();
        let (Some(first), Some(last)) = (
            lines.iter().position(|l| !l.is_empty()),
            lines.iter().rposition(|l| !l.is_empty()),
        ) else {
            return String::new();
        };
        let mut out = String::new();
        let mut blanks = 0;
        for line in &lines[first..=last] {
            blanks = if line.is_empty() { blanks + 1 } else { 0 };
            if blanks > 2 {
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
        out.pop();
        out
    }

    proptest! {
        #[test]
        fn normalise_matches_the_character_by_character_reading(
            text in proptest::collection::vec(
                prop_oneof![
                    4 => proptest::char::range(' ', '~'),
                    1 => prop::sample::select(vec!['\r', '\n', '\t', '\u{0}', '\u{7f}', '\u{a0}', '\u{feff}', 'ä', '-', ' ']),
                ],
                0..200,
            ).prop_map(|cs| cs.into_iter().collect::<String>())
        ) {
            prop_assert_eq!(normalise(&text), normalise_reference(&text));
        }
    }

    #[test]
    fn normalise_line_endings_and_blanks() {
        assert_eq!(
            normalise("\r\n\r\nHallo  \r\nWelt\r\n\r\n\r\n\r\n\r\nEnde\r\n-- \r\nJane\r\n\r\n"),
            "Hallo\nWelt\n\n\nEnde\n-- \nJane"
        );
        assert_eq!(normalise("a\rb\u{0}c\u{a0}d\u{feff}"), "a\nbc d");
        assert_eq!(normalise(" \n\t\n"), "");
    }

    #[test]
    fn unflow_joins_soft_breaks() {
        assert_eq!(unflow("Hallo \r\nWelt\r\n", false), "Hallo Welt\n");
        assert_eq!(unflow("Hal\r\nlo", false), "Hal\nlo");
        assert_eq!(unflow("ab \r\ncd", true), "abcd");
        assert_eq!(unflow("-- \r\nJane", false), "-- \nJane");
        assert_eq!(unflow("> a \r\n> b\r\nc", false), "> a b\nc");
        assert_eq!(unflow(" From x", false), "From x");
    }

    #[test]
    fn enriched_text_loses_its_commands_and_keeps_its_words() {
        let t = "<bold>Hello</bold> <<world>\nsame line\n\nnew paragraph<param>x</param>\n<nofill>a\nb</nofill> <";
        assert_eq!(unenrich(t), "Hello <world> same line\nnew paragraph a\nb <");
    }

    #[test]
    fn names_are_display_only() {
        assert_eq!(clean_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_name("C:\\Users\\a\\b.pdf").as_deref(), Some("b.pdf"));
        assert_eq!(clean_name("a\u{202e}fdp.exe").as_deref(), Some("afdp.exe"));
        assert_eq!(clean_name("x/.."), None);
        assert_eq!(clean_name("\u{7}"), None);
        assert_eq!(clean_line(" a\r\n\tb  c "), "a b c");
    }
}

//! Plain text → pages of lines, for a fixed-width font: what the body, a text attachment or a
//! forwarded mail looks like on fax pages. Pure; the PDF writer (`text_pdf`) and the TIFF
//! rasteriser ([`crate::tiff`]) both draw these pages, so both outputs break lines and pages
//! identically.
//!
//! Rules: lines end at `\n` (a `\r` before it is dropped); a form feed (`\x0c`) starts a new
//! page; tabs advance to the next multiple of 8 columns; other control characters are
//! dropped; a line longer than [`Geometry::columns`] wraps at the last blank that fits, or
//! hard at the column when the word alone is longer; blanks at a wrap point are dropped.
//! Empty text gives one empty page, so a job always has a page to show.

/// Characters per line and lines per page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Characters on one line (at least 1).
    pub columns: usize,
    /// Lines on one page (at least 1).
    pub lines: usize,
}

impl Default for Geometry {
    /// 80 × 60: DejaVu Sans Mono at 10 pt on A4 with margins of 2 cm and a 12 pt line pitch.
    fn default() -> Self {
        Geometry {
            columns: 80,
            lines: 60,
        }
    }
}

/// One page: its lines, each at most [`Geometry::columns`] characters, no control characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub lines: Vec<String>,
}

/// Lays `text` out on pages.
pub fn paginate(text: &str, geometry: Geometry) -> Vec<Page> {
    let columns = geometry.columns.max(1);
    let per_page = geometry.lines.max(1);
    let mut pages = vec![Page::default()];
    for (i, sheet) in text.split('\x0c').enumerate() {
        if i > 0 {
            pages.push(Page::default());
        }
        let sheet = sheet.strip_suffix('\n').unwrap_or(sheet);
        if sheet.is_empty() && i > 0 {
            continue;
        }
        for line in sheet.split('\n') {
            for row in wrap(&expand(line), columns) {
                let page = match pages.last_mut() {
                    Some(p) if p.lines.len() < per_page => p,
                    _ => {
                        pages.push(Page::default());
                        let last = pages.len() - 1;
                        &mut pages[last]
                    }
                };
                page.lines.push(row);
            }
        }
    }
    pages
}

/// Tabs to spaces (stops every 8 columns); control characters dropped; trailing blanks cut.
fn expand(line: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '\t' => {
                let next = (out.len() / 8 + 1) * 8;
                out.resize(next, ' ');
            }
            c if c.is_control() => {}
            '\u{a0}' => out.push(' '),
            c => out.push(c),
        }
    }
    while out.last() == Some(&' ') {
        out.pop();
    }
    out
}

/// Splits one line into rows of at most `columns` characters, at blanks where possible.
fn wrap(chars: &[char], columns: usize) -> Vec<String> {
    let mut rows = Vec::new();
    let mut rest = chars;
    loop {
        if rest.len() <= columns {
            rows.push(rest.iter().collect());
            return rows;
        }
        // The last blank at or before the column: the row ends before it.
        let cut = rest[..=columns]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|&p| rest[..p].iter().any(|c| *c != ' '));
        let (row, next) = match cut {
            Some(p) => (&rest[..p], &rest[p..]),
            None => (&rest[..columns], &rest[columns..]),
        };
        let mut row: String = row.iter().collect();
        row.truncate(row.trim_end_matches(' ').len());
        rows.push(row);
        let skip = next.iter().take_while(|c| **c == ' ').count();
        rest = &next[skip..];
        if rest.is_empty() {
            return rows;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn g(columns: usize, lines: usize) -> Geometry {
        Geometry { columns, lines }
    }

    #[test]
    fn short_text_is_one_page_of_its_lines() {
        let pages = paginate("Hello\r\n\tworld\n", g(80, 60));
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].lines, vec!["Hello", "        world"]);
    }

    #[test]
    fn empty_text_is_one_empty_page() {
        assert_eq!(
            paginate("", g(80, 60)),
            vec![Page {
                lines: vec![String::new()]
            }]
        );
    }

    #[test]
    fn long_lines_wrap_at_blanks_and_hard_when_a_word_is_longer() {
        let pages = paginate("aaa bbb ccc", g(7, 60));
        assert_eq!(pages[0].lines, vec!["aaa bbb", "ccc"]);
        let pages = paginate("abcdefghij", g(4, 60));
        assert_eq!(pages[0].lines, vec!["abcd", "efgh", "ij"]);
        let pages = paginate("ab    cd", g(3, 60));
        assert_eq!(pages[0].lines, vec!["ab", "cd"]);
    }

    #[test]
    fn pages_break_after_the_line_count_and_at_form_feeds() {
        let text = "1\n2\n3\n4\n5";
        let pages = paginate(text, g(80, 2));
        assert_eq!(pages.len(), 3);
        assert_eq!(pages[2].lines, vec!["5"]);
        let pages = paginate("a\x0cb\n\x0c", g(80, 60));
        assert_eq!(pages.len(), 3);
        assert_eq!(pages[1].lines, vec!["b"]);
    }

    proptest! {
        #[test]
        fn no_row_is_wider_than_the_page_and_no_word_is_lost(
            text in "[a-zé€ \t\n\x0c\r\x01]{0,400}", columns in 1usize..30, lines in 1usize..10,
        ) {
            let pages = paginate(&text, g(columns, lines));
            prop_assert!(!pages.is_empty());
            let mut words = Vec::new();
            for p in &pages {
                prop_assert!(p.lines.len() <= lines);
                for l in &p.lines {
                    prop_assert!(l.chars().count() <= columns);
                    prop_assert!(!l.chars().any(char::is_control));
                    words.extend(l.split(' ').filter(|w| !w.is_empty()).map(str::to_owned));
                }
            }
            let joined: String = words.concat();
            let expected: String = text.chars().filter(|c| !c.is_control() && *c != ' ').collect();
            prop_assert_eq!(joined, expected);
        }
    }
}

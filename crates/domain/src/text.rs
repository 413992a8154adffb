//! The rule for one character of text that umsgate passes on: a mail body turned into a fax
//! page or an SMS, and the text of a received SMS or the engine's values put into a mail.
//!
//! Contract: [`clean_char`] keeps tab, turns a no-break space into a space, and drops the
//! byte-order mark and every other control character (CR and LF among them: line structure is
//! the caller's, so that no CR or LF from outside ever reaches a header or an SMTP stream by
//! accident). Both directions use it, so they agree on what "clean text" is.

/// One character as kept; `None` = dropped. See the module contract.
pub fn clean_char(c: char) -> Option<char> {
    match c {
        '\t' => Some('\t'),
        '\u{a0}' => Some(' '),
        '\u{feff}' => None,
        c if c.is_control() => None,
        c => Some(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_go_tab_stays_nbsp_is_a_space() {
        let cleaned: String = "a\tb\u{a0}c\r\n\u{0}\u{feff}\u{1b}d\u{85}é"
            .chars()
            .filter_map(clean_char)
            .collect();
        assert_eq!(cleaned, "a\tb cdé");
    }
}

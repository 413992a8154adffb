//! GSM 03.38 (3GPP TS 23.038) character sets and SMS segment counting.
//!
//! A text is GSM 7-bit when every character is in the default alphabet or its extension
//! table (extension characters take two septets: escape + code); otherwise it is UCS-2,
//! counted in UTF-16 units. One SMS holds 160 septets or 70 units; a concatenated SMS spends
//! a user data header, leaving 153 septets or 67 units per segment. A two-septet character or
//! a surrogate pair is never split across segments (phones do not split them either), so a
//! segment may carry one unit less than the maximum.

use super::SmsEncoding;

/// The default alphabet (escape 0x1B excluded: it is not a character).
#[cfg(test)]
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table (reached with escape; two septets each).
#[cfg(test)]
const EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets a character takes in GSM 7-bit, or `None` if it has no GSM 7-bit code. A `match`
/// (compiled to a jump table or binary search), so long texts are measured fast; the tables
/// above are the reference the tests check it against.
pub(super) fn gsm_septets(c: char) -> Option<u32> {
    match c {
        'A'..='Z' | 'a'..='z' | '0'..='9' => Some(1),
        '\n' | '\r' | ' ' | '!' | '"' | '#' | '$' | '%' | '&' | '\'' | '(' | ')' | '*' | '+'
        | ',' | '-' | '.' | '/' | ':' | ';' | '<' | '=' | '>' | '?' | '@' | '_' => Some(1),
        '£' | '¥' | 'è' | 'é' | 'ù' | 'ì' | 'ò' | 'Ç' | 'Ø' | 'ø' | 'Å' | 'å' | 'Δ' | 'Φ' | 'Γ'
        | 'Λ' | 'Ω' | 'Π' | 'Ψ' | 'Σ' | 'Θ' | 'Ξ' | 'Æ' | 'æ' | 'ß' | 'É' | '¤' | '¡' | 'Ä'
        | 'Ö' | 'Ñ' | 'Ü' | '§' | '¿' | 'ä' | 'ö' | 'ñ' | 'ü' | 'à' => Some(1),
        '\u{c}' | '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '€' => Some(2),
        _ => None,
    }
}

/// Encoding and segment count of a text.
pub(super) fn measure(text: &str) -> (SmsEncoding, u32) {
    if text.chars().all(|c| gsm_septets(c).is_some()) {
        let units = text.chars().map(|c| gsm_septets(c).unwrap_or(1));
        (SmsEncoding::Gsm7, segments(units, 160, 153))
    } else {
        let units = text.chars().map(|c| c.len_utf16() as u32);
        (SmsEncoding::Ucs2, segments(units, 70, 67))
    }
}

/// Segments for characters of the given unit sizes: one if all fit `single`, else packed
/// greedily into parts of `part` units without splitting a character.
fn segments(units: impl Iterator<Item = u32> + Clone, single: u32, part: u32) -> u32 {
    let total: u64 = units.clone().map(u64::from).sum();
    if total <= u64::from(single) {
        return 1;
    }
    let mut count = 1u32;
    let mut used = 0u32;
    for u in units {
        if used + u > part {
            count = count.saturating_add(1);
            used = 0;
        }
        used += u;
    }
    count
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_the_standard_sizes_and_match_the_lookup() {
        assert_eq!(BASIC.chars().count(), 127);
        assert_eq!(EXTENSION.chars().count(), 10);
        for c in BASIC.chars() {
            assert_eq!(gsm_septets(c), Some(1), "{c:?}");
        }
        for c in EXTENSION.chars() {
            assert_eq!(gsm_septets(c), Some(2), "{c:?}");
        }
        for c in (0..0x3000u32).filter_map(char::from_u32) {
            if !BASIC.contains(c) && !EXTENSION.contains(c) {
                assert_eq!(gsm_septets(c), None, "{c:?}");
            }
        }
    }

    #[test]
    fn umlauts_are_gsm_and_polish_l_is_not() {
        assert_eq!(
            measure("Grüße aus München, Ärger, Öl"),
            (SmsEncoding::Gsm7, 1)
        );
        assert_eq!(measure("Łódź").0, SmsEncoding::Ucs2);
        assert_eq!(measure("ok 👍").0, SmsEncoding::Ucs2);
        assert_eq!(measure("Preis: 5 €").0, SmsEncoding::Gsm7);
    }

    #[test]
    fn segment_boundaries() {
        assert_eq!(measure(&"a".repeat(160)).1, 1);
        assert_eq!(measure(&"a".repeat(161)).1, 2);
        assert_eq!(measure(&"a".repeat(306)).1, 2);
        assert_eq!(measure(&"a".repeat(307)).1, 3);
        assert_eq!(measure(&"€".repeat(80)).1, 1);
        assert_eq!(measure(&"€".repeat(81)).1, 2);
        // 152 septets then a two-septet character: it moves to the next part.
        assert_eq!(
            measure(&format!("{}€{}", "a".repeat(152), "a".repeat(10))).1,
            2
        );
        assert_eq!(
            measure(&format!("{}€{}", "a".repeat(152), "a".repeat(152))).1,
            3
        );
        assert_eq!(measure(&"ł".repeat(70)).1, 1);
        assert_eq!(measure(&"ł".repeat(71)).1, 2);
        assert_eq!(measure(&"ł".repeat(134)).1, 2);
        assert_eq!(measure(&"ł".repeat(135)).1, 3);
        assert_eq!(measure(&"👍".repeat(35)).1, 1);
        assert_eq!(measure(&"👍".repeat(36)).1, 2);
    }
}

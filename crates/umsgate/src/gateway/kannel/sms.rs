//! SMS text coding: which alphabet a text needs and how many parts it takes.
//!
//! Contract: [`Encoded::of`] is pure and total. A text whose every character is in the GSM 03.38
//! default alphabet or its extension table is sent as GSM 7-bit (`coding=0`); any other
//! character makes the whole text UCS-2 (`coding=2`, 16-bit units, characters outside the BMP
//! take two). Sizes count what the air interface carries: septets for GSM (an extension
//! character is an escape plus one, two septets), UTF-16 units for UCS-2. One SMS holds 160
//! septets or 70 units; a concatenated one 153 septets or 67 units per part (the 6-byte UDH),
//! and an escape pair or a surrogate pair is never split across parts.

/// `coding` of Kannel's sendsms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// GSM 03.38 7-bit, `coding=0`.
    Gsm7,
    /// UCS-2 (UTF-16BE), `coding=2`.
    Ucs2,
}

impl Coding {
    /// The `coding` value Kannel expects.
    pub fn kannel_value(self) -> u8 {
        match self {
            Coding::Gsm7 => 0,
            Coding::Ucs2 => 2,
        }
    }
}

/// The GSM 03.38 default alphabet (without the escape code).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: each takes an escape septet plus one.
const GSM_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// Septets a character takes in GSM 7-bit, or `None` when it has none.
pub fn gsm_septets(c: char) -> Option<usize> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// How a text goes over the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoded {
    pub coding: Coding,
    /// Septets (GSM) or UTF-16 units (UCS-2).
    pub units: usize,
    /// SMS parts; an empty text is one part.
    pub parts: usize,
}

impl Encoded {
    pub fn of(text: &str) -> Encoded {
        let gsm: Option<Vec<usize>> = text.chars().map(gsm_septets).collect();
        let (coding, sizes, single, per_part) = match gsm {
            Some(sizes) => (Coding::Gsm7, sizes, 160, 153),
            None => (
                Coding::Ucs2,
                text.chars().map(char::len_utf16).collect(),
                70,
                67,
            ),
        };
        let units: usize = sizes.iter().sum();
        let parts = if units <= single {
            1
        } else {
            // Fill parts without splitting a character's units.
            let (mut parts, mut used) = (1, 0);
            for s in sizes {
                if used + s > per_part {
                    parts += 1;
                    used = 0;
                }
                used += s;
            }
            parts
        };
        Encoded {
            coding,
            units,
            parts,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn german_text_with_umlauts_and_euro_is_gsm() {
        let e = Encoded::of("Grüße aus München: 5 € für Äpfel & Öl");
        assert_eq!(e.coding, Coding::Gsm7);
        // 37 characters, the euro sign an escape pair.
        assert_eq!((e.units, e.parts), (38, 1));
    }

    #[test]
    fn any_character_outside_the_alphabet_makes_it_ucs2() {
        for t in ["Łódź", "naïve", "dash – here", "✓", "😀", "ç"] {
            assert_eq!(Encoded::of(t).coding, Coding::Ucs2, "{t}");
        }
        // Ç (capital) is in the default alphabet, ç is not.
        assert_eq!(Encoded::of("Ç").coding, Coding::Gsm7);
        let e = Encoded::of("Grüße – 5 € 😀");
        assert_eq!((e.coding, e.units, e.parts), (Coding::Ucs2, 14, 1));
    }

    #[test]
    fn part_boundaries() {
        let cases = [
            ("a".repeat(160), 1),
            ("a".repeat(161), 2),
            ("a".repeat(306), 2),
            ("a".repeat(307), 3),
            ("€".repeat(80), 1),
            ("€".repeat(81), 2),
            ("ł".repeat(70), 1),
            ("ł".repeat(71), 2),
            ("ł".repeat(134), 2),
            ("ł".repeat(135), 3),
            (String::new(), 1),
        ];
        for (t, parts) in cases {
            assert_eq!(
                Encoded::of(&t).parts,
                parts,
                "{} × {:?}",
                t.chars().count(),
                t.chars().next()
            );
        }
        // 152 septets then an escape pair: the pair goes whole into the second part.
        let t = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        assert_eq!(Encoded::of(&t).parts, 2);
        let t = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(Encoded::of(&t).parts, 3);
    }

    proptest! {
        #[test]
        fn gsm_iff_every_char_has_septets(t in "\\PC{0,400}") {
            let e = Encoded::of(&t);
            let all = t.chars().all(|c| gsm_septets(c).is_some());
            prop_assert_eq!(e.coding == Coding::Gsm7, all);
            let (single, per) = if all { (160, 153) } else { (70, 67) };
            if e.units <= single {
                prop_assert_eq!(e.parts, 1);
            } else {
                prop_assert!(e.parts >= e.units.div_ceil(per));
                prop_assert!(e.parts <= e.units.div_ceil(per - 1));
            }
        }

        #[test]
        fn gsm_alphabet_texts_stay_gsm(t in "[A-Za-z0-9 äöüÄÖÜß€@£$.,!?{}\\[\\]]{0,400}") {
            prop_assert_eq!(Encoded::of(&t).coding, Coding::Gsm7);
        }
    }
}

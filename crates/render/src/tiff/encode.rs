//! 1-bit page bitmaps → CCITT strips: T.6 (G4) and T.4 one-dimensional (MH), both written
//! here over the `fax` crate's code tables.
//!
//! Contract: input rows are packed, most significant bit first, 1 = black (what TIFF calls
//! `PhotometricInterpretation` 0 with `FillOrder` 1 once coded). [`g4`] codes every row
//! against the one above (an all-white row above the first) and ends the strip with an
//! EOFB; [`mh`] starts every row with an EOL whose end falls on a byte boundary (TIFF
//! `T4Options` bit 2, fill bits) and writes no RTC, as TIFF class F asks.
//!
//! Implementation summary: both encoders work on the changing elements of a row (the
//! positions where the colour changes), found a 64-bit word at a time, and write codes from
//! the `fax` crate's public tables (`fax::maps::{white, black}`, ITU-T T.4 tables 2 and 3;
//! the seven T.6 mode codes are constants here, checked against `fax::maps::mode`).
//! - G4: the `fax` crate (0.3) has a G4 encoder, but it takes a row as one `Color` per pixel
//!   and walks every pixel, and writes byte by byte: with it `text_to_tiff` made 148–167
//!   pages/s of the 21-page bench text (`examples/text_tiff.rs`, release build, in one
//!   process), with the encoder here 505–695 pages/s on the same machine. The mode decisions
//!   are T.6's, in the order libtiff's `Fax3Encode2DRow` takes them; a row equal to the one
//!   above (common inside a line of text) is all V0 codes and is written as such.
//! - MH: the `fax` crate has no MH encoder (its run writer is private).

use fax::maps::{black, white};
use fax::{Bits, Color};

/// One page as a G4 strip, ended by an EOFB.
pub(crate) fn g4(bits: &[u8], width: u32, stride: usize) -> Vec<u8> {
    let mut out = Counting::with_capacity(bits.len() / 8);
    // The first row is coded against an imaginary all-white row: no changes.
    let mut reference = vec![width; SENTINELS];
    let mut current = Vec::new();
    let mut above: &[u8] = &[];
    for row in bits.chunks_exact(stride) {
        // A row equal to the one above (common inside a line of text, and in margins): every
        // change sits right under its twin, one V0 (a single 1 bit) per change and one for
        // the end of the row; the row above stays the reference.
        if row == above || (above.is_empty() && row.iter().all(|b| *b == 0)) {
            let mut ones = reference.len() - SENTINELS + 1;
            while ones > 0 {
                let n = ones.min(16);
                out.put(Bits {
                    data: u16::MAX,
                    len: n as u8,
                });
                ones -= n;
            }
        } else {
            changes(row, width, &mut current);
            current.extend_from_slice(&[width; SENTINELS]);
            g4_row(&mut out, &current, &reference, width);
            std::mem::swap(&mut reference, &mut current);
        }
        above = row;
    }
    // EOFB: two EOLs.
    out.put(Bits { data: 1, len: 12 });
    out.put(Bits { data: 1, len: 12 });
    out.finish()
}

/// `width` entries after the changes of a row, so that looking past the last change (b2 after
/// the last b1, a2 after the last a1) needs no test.
const SENTINELS: usize = 3;

/// Codes one row, given the changing elements of it and of the row above (T.6 § 2.2): the
/// positions where the colour changes, the first one (index 0) a change to black, followed
/// by [`SENTINELS`] × `width`.
fn g4_row(out: &mut Counting, current: &[u32], reference: &[u32], width: u32) {
    // Changes are looked for at or after `from`: a0 + 1, or 0 for the imaginary white pixel
    // a0 starts as.
    let mut from = 0u32;
    let mut color = Color::White;
    let (mut ci, mut rj) = (0usize, 0usize);
    loop {
        // a1: the next change on this row right of a0 (always to the colour opposite a0's);
        // `ci` moves with a0 below, so it is always current[ci].
        let a1 = current[ci];
        // b1: the first change on the row above right of a0 to the colour opposite a0's
        // (even indexes are changes to black); b2 the change after it.
        while reference[rj] < from {
            rj += 1;
        }
        let j = rj + usize::from((rj % 2 == 0) != (color == Color::White));
        let (b1, b2) = (reference[j], reference[j + 1]);
        let a0 = from.saturating_sub(1);
        let next = if b2 < a1 {
            out.put(PASS);
            b2
        } else if a1.abs_diff(b1) <= 3 {
            out.put(VERTICAL[(a1 + 3 - b1) as usize]);
            color = !color;
            ci += 1;
            a1
        } else {
            let a2 = current[ci + 1];
            out.put(HORIZONTAL);
            run(out, color, a1 - if from == 0 { 0 } else { a0 });
            run(out, !color, a2 - a1);
            ci += 2;
            a2
        };
        if next >= width {
            return;
        }
        from = next + 1;
    }
}

/// T.6 mode codes: pass, horizontal, vertical a1 − b1 = −3 … +3.
const PASS: Bits = Bits {
    data: 0b0001,
    len: 4,
};
const HORIZONTAL: Bits = Bits {
    data: 0b001,
    len: 3,
};
const VERTICAL: [Bits; 7] = [
    Bits {
        data: 0b0000010,
        len: 7,
    },
    Bits {
        data: 0b000010,
        len: 6,
    },
    Bits {
        data: 0b010,
        len: 3,
    },
    Bits { data: 0b1, len: 1 },
    Bits {
        data: 0b011,
        len: 3,
    },
    Bits {
        data: 0b000011,
        len: 6,
    },
    Bits {
        data: 0b0000011,
        len: 7,
    },
];

/// One page as a G3 one-dimensional (MH) strip, EOL before every row, fill bits before EOLs.
pub(crate) fn mh(bits: &[u8], width: u32, stride: usize) -> Vec<u8> {
    let mut out = Counting::with_capacity(bits.len() / 4);
    let mut current = Vec::new();
    for row in bits.chunks_exact(stride) {
        // Fill so that the 12-bit EOL ends on a byte boundary.
        let fill = (4 + 8 - out.bits() % 8) % 8;
        if fill > 0 {
            out.put(Bits {
                data: 0,
                len: fill as u8,
            });
        }
        out.put(Bits { data: 1, len: 12 });
        changes(row, width, &mut current);
        let mut color = Color::White;
        let mut x = 0u32;
        for &change in current.iter().chain(std::iter::once(&width)) {
            run(&mut out, color, change - x);
            x = change;
            color = !color;
        }
    }
    out.finish()
}

/// The changing elements of a packed row: positions where the colour differs from the pixel
/// before (the pixel before the row being white), in order. Found a 64-bit word at a time:
/// a word XORed with itself shifted by one pixel has a bit set at each change.
fn changes(row: &[u8], width: u32, out: &mut Vec<u32>) {
    out.clear();
    let mut previous = 0u64; // the last pixel of the word before, as bit 63
    let mut base = 0u32;
    let mut words = row.chunks_exact(8);
    let tail = words.remainder();
    let mut last = [0u8; 8];
    last[..tail.len()].copy_from_slice(tail);
    for chunk in words.by_ref().map(Some).chain(std::iter::once(None)) {
        let word = match chunk {
            Some(c) => u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
            None if tail.is_empty() => break,
            None => u64::from_be_bytes(last),
        };
        let mut t = word ^ ((word >> 1) | previous);
        while t != 0 {
            let lz = t.leading_zeros();
            let at = base + lz;
            if at >= width {
                return;
            }
            out.push(at);
            t ^= 1u64 << (63 - lz);
        }
        previous = word << 63;
        base += 64;
    }
}

/// Writes one run: make-up codes for the multiples of 64, then a terminating code.
fn run(out: &mut Counting, color: Color, mut n: u32) {
    let table = match color {
        Color::White => &white::ENTRIES,
        Color::Black => &black::ENTRIES,
    };
    // ENTRIES: 0..=63 terminating, then make-up codes 64, 128, …, 2560 at 63 + n / 64.
    while n >= 2560 {
        out.put(table[103].1);
        n -= 2560;
    }
    if n >= 64 {
        out.put(table[63 + n as usize / 64].1);
        n %= 64;
    }
    out.put(table[n as usize].1);
}

/// A bit writer: codes gathered most significant bit first in a 64-bit word, flushed 32
/// bits at a time (the `fax` crate's `VecWriter` flushes byte by byte and took a sixth of
/// the encoding time).
struct Counting {
    out: Vec<u8>,
    acc: u64,
    pending: u32,
}

impl Counting {
    fn with_capacity(bytes: usize) -> Counting {
        Counting {
            out: Vec::with_capacity(bytes),
            acc: 0,
            pending: 0,
        }
    }

    /// Bits written so far.
    fn bits(&self) -> usize {
        self.out.len() * 8 + self.pending as usize
    }

    fn put(&mut self, bits: Bits) {
        let len = u32::from(bits.len);
        if len == 0 || len > 16 {
            return;
        }
        // pending < 32 before, codes are at most 16 bits: the shift stays within the word.
        let code = u64::from(bits.data) & ((1u64 << len) - 1);
        self.acc |= code << (64 - self.pending - len);
        self.pending += len;
        if self.pending >= 32 {
            self.out
                .extend_from_slice(&((self.acc >> 32) as u32).to_be_bytes());
            self.acc <<= 32;
            self.pending -= 32;
        }
    }

    /// The bytes, the last one padded with zero bits.
    fn finish(mut self) -> Vec<u8> {
        while self.pending > 0 {
            self.out.push((self.acc >> 56) as u8);
            self.acc <<= 8;
            self.pending = self.pending.saturating_sub(8);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use fax::maps::{Mode, mode};

    use super::*;

    #[test]
    fn mode_codes_are_the_fax_crates() {
        assert_eq!(mode::encode(Mode::Pass), Some(PASS));
        assert_eq!(mode::encode(Mode::Horizontal), Some(HORIZONTAL));
        for (i, code) in VERTICAL.iter().enumerate() {
            assert_eq!(
                mode::encode(Mode::Vertical(i as i8 - 3)),
                Some(*code),
                "{i}"
            );
        }
    }

    #[test]
    fn changes_are_found_across_words_and_stop_at_the_width() {
        let mut out = Vec::new();
        let mut row = vec![0u8; 10];
        changes(&row, 80, &mut out);
        assert!(out.is_empty());
        row[0] = 0x80; // pixel 0
        row[7] = 0x01; // pixel 63
        row[8] = 0xff; // pixels 64..72
        row[9] = 0xff; // pixels 72..80: black to the end
        changes(&row, 80, &mut out);
        assert_eq!(out, [0, 1, 63]);
        changes(&row[..9], 70, &mut out);
        assert_eq!(out, [0, 1, 63]);
        row[9] = 0x0f;
        changes(&row, 78, &mut out);
        assert_eq!(out, [0, 1, 63, 72, 76]);
    }
}

//! 1-bit page bitmaps → CCITT strips: T.6 (G4) and T.4 one-dimensional (MH), both written
//! here over the `fax` crate's code tables.
//!
//! Contract: input rows are packed, most significant bit first, 1 = black (what TIFF calls
//! `PhotometricInterpretation` 0 with `FillOrder` 1 once coded). [`g4`] codes every row
//! against the one above (an all-white row above the first) and ends the strip with an
//! EOFB; [`mh`] starts every row with an EOL whose end falls on a byte boundary (TIFF
//! `T4Options` bit 2, fill bits) and writes no RTC, as TIFF class F asks.
//!
//! Implementation summary: both encoders walk the changing elements of a row, found a byte
//! at a time (a text page is mostly white bytes), and write codes from the `fax` crate's
//! public tables (`fax::maps::{mode, white, black}`, ITU-T T.4 tables 2 and 3, T.6 table 1).
//! - G4: the `fax` crate (0.3) has a G4 encoder, but it takes a row as one `Color` per pixel
//!   and walks every pixel: with it `text_to_tiff` made 148–167 pages/s of the 21-page bench
//!   text (`examples/text_tiff.rs`, release build), with this one 290–330 pages/s (same
//!   machine, same load). The mode decisions are T.6's, in the order libtiff's
//!   `Fax3Encode2DRow` takes them; the changing elements of a row are found eight bytes at a
//!   time.
//! - MH: the `fax` crate has no MH encoder (its run writer is private).

use std::convert::Infallible;

use fax::maps::{Mode, black, white};
use fax::{BitWriter, Bits, Color, VecWriter};

/// One page as a G4 strip, ended by an EOFB.
pub(crate) fn g4(bits: &[u8], width: u32, stride: usize) -> Vec<u8> {
    let mut out = Counting {
        writer: VecWriter::with_capacity(bits.len() / 8),
        bits: 0,
    };
    // The first row is coded against an imaginary all-white row: no changes.
    let mut reference = Vec::new();
    let mut current = Vec::new();
    for row in bits.chunks_exact(stride) {
        changes(row, width, &mut current);
        g4_row(&mut out, &current, &reference, width);
        std::mem::swap(&mut reference, &mut current);
    }
    // EOFB: two EOLs.
    out.put(Bits { data: 1, len: 12 });
    out.put(Bits { data: 1, len: 12 });
    out.writer.finish()
}

/// Codes one row, given the changing elements of it and of the row above (T.6 § 2.2): the
/// positions where the colour changes, the first one (index 0) a change to black.
fn g4_row(out: &mut Counting, current: &[u32], reference: &[u32], width: u32) {
    let at = |list: &[u32], i: usize| list.get(i).copied().unwrap_or(width);
    // a0 starts as an imaginary white pixel before the row.
    let mut a0: i64 = -1;
    let mut color = Color::White;
    let (mut ci, mut rj) = (0usize, 0usize);
    loop {
        // a1: the next change on this row right of a0 (always to the colour opposite a0's).
        while ci < current.len() && i64::from(current[ci]) <= a0 {
            ci += 1;
        }
        let a1 = at(current, ci);
        // b1: the first change on the row above right of a0 to the colour opposite a0's
        // (even indexes are changes to black); b2 the change after it.
        while rj < reference.len() && i64::from(reference[rj]) <= a0 {
            rj += 1;
        }
        let to_black = color == Color::White;
        let j = if (rj % 2 == 0) == to_black {
            rj
        } else {
            rj + 1
        };
        let (b1, b2) = (at(reference, j), at(reference, j + 1));
        let start = a0.max(0) as u32;
        if b2 < a1 {
            out.put(mode(Mode::Pass));
            a0 = i64::from(b2);
        } else if a1.abs_diff(b1) <= 3 {
            // Fits: the difference is at most 3.
            out.put(mode(Mode::Vertical((i64::from(a1) - i64::from(b1)) as i8)));
            a0 = i64::from(a1);
            color = !color;
        } else {
            let a2 = at(current, ci + 1);
            out.put(mode(Mode::Horizontal));
            run(out, color, a1 - start);
            run(out, !color, a2 - a1);
            a0 = i64::from(a2);
        }
        if a0 >= i64::from(width) {
            return;
        }
    }
}

fn mode(m: Mode) -> Bits {
    // Every mode a G4 encoder writes has a code.
    fax::maps::mode::encode(m).unwrap_or(Bits { data: 1, len: 1 })
}

/// One page as a G3 one-dimensional (MH) strip, EOL before every row, fill bits before EOLs.
pub(crate) fn mh(bits: &[u8], width: u32, stride: usize) -> Vec<u8> {
    let mut out = Counting {
        writer: VecWriter::with_capacity(bits.len() / 4),
        bits: 0,
    };
    let mut current = Vec::new();
    for row in bits.chunks_exact(stride) {
        // Fill so that the 12-bit EOL ends on a byte boundary.
        let fill = (4 + 8 - out.bits % 8) % 8;
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
    out.writer.finish()
}

/// The changing elements of a packed row: positions where the colour differs from the pixel
/// before (the pixel before the row being white), in order.
fn changes(row: &[u8], width: u32, out: &mut Vec<u32>) {
    out.clear();
    let mut color = Color::White;
    let mut x = 0u32;
    loop {
        x = next_change(row, x, width, color);
        if x >= width {
            return;
        }
        out.push(x);
        color = !color;
    }
}

/// The first pixel at or after `x` that is not `color` (or `width`): eight bytes at a time,
/// the answer from the leading zeros of the first word that holds one.
fn next_change(row: &[u8], mut x: u32, width: u32, color: Color) -> u32 {
    // Flipped so that the pixel looked for is always a 1 bit.
    let flip = if color == Color::Black { u64::MAX } else { 0 };
    while x < width {
        let i = x as usize / 8;
        let (word, span) = match row.get(i..i + 8) {
            Some(w) => (
                u64::from_be_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]),
                64,
            ),
            None => match row.get(i) {
                Some(b) => (u64::from(*b) << 56, 8),
                None => return width,
            },
        };
        let mask = if span == 64 { u64::MAX } else { 0xff << 56 };
        let found = ((word ^ flip) & mask) << (x % 8);
        if found != 0 {
            return (x + found.leading_zeros()).min(width);
        }
        x = (i as u32) * 8 + span;
    }
    width
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

/// A bit writer that knows how many bits it wrote (for the fill before an EOL).
struct Counting {
    writer: VecWriter,
    bits: usize,
}

impl Counting {
    fn put(&mut self, bits: Bits) {
        self.bits += usize::from(bits.len);
        ok(self.writer.write(bits));
    }
}

fn ok<T>(r: Result<T, Infallible>) -> T {
    match r {
        Ok(v) => v,
        Err(never) => match never {},
    }
}

//! CCITT (ITU-T T.4 / T.6) decoding of fax strips into runs, for previews and re-encoding.
//!
//! Contract: [`decode`] reads one strip of already MSB-first data (callers bit-reverse
//! FillOrder=2 strips first) and calls `row` once per row with the row's *changing
//! elements*: the sorted pixel positions `< width` where the colour flips, starting white.
//! It never panics, reads only the given slice, keeps at most two rows of changing elements
//! (each bounded by `2 * width + 4`) and stops after `rows` rows, so its time is bounded by the
//! strip size plus the image size.
//!
//! Implementation summary:
//! - One-dimensional rows (modified Huffman, T.4 §4.1) and two-dimensional rows (modified
//!   READ, T.4 §4.2, the same coding T.6 uses) share one bit reader and one table lookup.
//! - [`Scheme::Group3TwoD`] is the MR decoder: after each EOL a tag bit says whether the row is
//!   1-D (tag 1) or 2-D (tag 0), and 2-D rows refer to the previous row, whichever way that
//!   one was coded. [`Scheme::Group4`] is the same with no EOLs and every row 2-D.
//! - Fill bits before an EOL are skipped. An RTC/EOFB, or the end of the data, before the
//!   last row ends the strip early: the remaining rows are white, as libtiff does (a
//!   transmission that stopped early still shows what arrived). An invalid code, a row
//!   running past the page width or uncompressed-mode extension codes are errors.

mod tables;

use std::sync::OnceLock;

use crate::Error;

/// The coding of a strip, as far as the decoder is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// TIFF compression 2: MH rows, no EOLs, every row starts on a byte boundary.
    Rle,
    /// T.4 one-dimensional: MH rows, each preceded by an EOL (possibly after fill bits).
    Group3OneD,
    /// T.4 two-dimensional: EOL, tag bit, then an MH or MR row.
    Group3TwoD,
    /// T.6: MR rows against an all-white first reference row, no EOLs.
    Group4,
}

/// MSB-first bit reader that yields zeros past the end of the data.
struct Bits<'a> {
    data: &'a [u8],
    pos: u64,
}

impl Bits<'_> {
    /// The next `n` (1..=24) bits, right-aligned.
    fn peek(&self, n: u32) -> u32 {
        let byte = (self.pos >> 3) as usize;
        let mut v = 0u32;
        for i in 0..4 {
            v = (v << 8)
                | u32::from(
                    byte.checked_add(i)
                        .and_then(|b| self.data.get(b))
                        .copied()
                        .unwrap_or(0),
                );
        }
        (v << (self.pos & 7)) >> (32 - n)
    }

    fn consume(&mut self, n: u32) {
        self.pos += u64::from(n);
    }

    fn at_end(&self) -> bool {
        self.pos >= self.data.len() as u64 * 8
    }

    fn align(&mut self) {
        self.pos = self.pos.div_ceil(8) * 8;
    }
}

/// One entry of a run-length lookup table: run length and code length (0 = no such code).
#[derive(Clone, Copy, Default)]
struct RunCode {
    run: u16,
    len: u8,
}

const LOOKUP_BITS: u32 = 13;

struct RunTables {
    white: Vec<RunCode>,
    black: Vec<RunCode>,
}

fn build(codes: &[(u16, u8, u16)]) -> Vec<RunCode> {
    let mut t = vec![RunCode::default(); 1 << LOOKUP_BITS];
    for &(code, len, run) in codes {
        let shift = LOOKUP_BITS - u32::from(len);
        let first = usize::from(code) << shift;
        for e in &mut t[first..first + (1 << shift)] {
            *e = RunCode { run, len };
        }
    }
    t
}

fn run_tables() -> &'static RunTables {
    static TABLES: OnceLock<RunTables> = OnceLock::new();
    TABLES.get_or_init(|| RunTables {
        white: build(&tables::WHITE),
        black: build(&tables::BLACK),
    })
}

/// Reads one complete run (make-up codes plus a terminating code) of the given colour.
fn read_run(bits: &mut Bits<'_>, black: bool, width: u32) -> Result<u32, Error> {
    let t = run_tables();
    let table = if black { &t.black } else { &t.white };
    let mut total = 0u32;
    loop {
        let e = table[bits.peek(LOOKUP_BITS) as usize];
        if e.len == 0 {
            return Err(Error::malformed(format!(
                "invalid {} run code at bit {}",
                if black { "black" } else { "white" },
                bits.pos
            )));
        }
        bits.consume(u32::from(e.len));
        total += u32::from(e.run);
        if total > width {
            return Err(Error::malformed(format!(
                "run of {total} pixels exceeds the width {width}"
            )));
        }
        if e.run < 64 {
            return Ok(total);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Pass,
    Horizontal,
    Vertical(i8),
}

fn read_mode(bits: &mut Bits<'_>) -> Result<Mode, Error> {
    let v = bits.peek(7);
    let (mode, len) = if v >= 0b100_0000 {
        (Mode::Vertical(0), 1)
    } else if v >> 4 == 0b011 {
        (Mode::Vertical(1), 3)
    } else if v >> 4 == 0b010 {
        (Mode::Vertical(-1), 3)
    } else if v >> 4 == 0b001 {
        (Mode::Horizontal, 3)
    } else if v >> 3 == 0b0001 {
        (Mode::Pass, 4)
    } else if v >> 1 == 0b000011 {
        (Mode::Vertical(2), 6)
    } else if v >> 1 == 0b000010 {
        (Mode::Vertical(-2), 6)
    } else if v == 0b0000011 {
        (Mode::Vertical(3), 7)
    } else if v == 0b0000010 {
        (Mode::Vertical(-3), 7)
    } else if v == 0b0000001 {
        return Err(Error::unsupported(
            "uncompressed mode extension in ccitt data",
        ));
    } else {
        return Err(Error::malformed(format!(
            "invalid mode code at bit {}",
            bits.pos
        )));
    };
    bits.consume(len);
    Ok(mode)
}

fn push(cur: &mut Vec<u32>, pos: u32, width: u32) -> Result<(), Error> {
    if pos < width {
        if cur.len() as u64 > 2 * u64::from(width) + 4 {
            return Err(Error::malformed("too many changing elements in a row"));
        }
        cur.push(pos);
    }
    Ok(())
}

fn decode_1d(bits: &mut Bits<'_>, width: u32, cur: &mut Vec<u32>) -> Result<(), Error> {
    cur.clear();
    let mut a0 = 0u32;
    let mut black = false;
    while a0 < width {
        let run = read_run(bits, black, width)?;
        a0 += run;
        if a0 > width {
            return Err(Error::malformed(format!(
                "row of {a0} pixels exceeds the width {width}"
            )));
        }
        push(cur, a0, width)?;
        black = !black;
    }
    Ok(())
}

fn decode_2d(
    bits: &mut Bits<'_>,
    width: u32,
    reference: &[u32],
    cur: &mut Vec<u32>,
) -> Result<(), Error> {
    cur.clear();
    let w = i64::from(width);
    let mut a0: i64 = -1;
    let mut black = false;
    // First index of `reference` with a position > a0 (a0 never decreases).
    let mut k = 0usize;
    let at = |i: usize| reference.get(i).map_or(w, |&p| i64::from(p));
    while a0 < w {
        while k < reference.len() && at(k) <= a0 {
            k += 1;
        }
        // Even indices are changes to black: a white a0 looks for one, a black a0 for an odd one.
        let j = if (k % 2 == 1) != black { k + 1 } else { k };
        let b1 = at(j);
        let b2 = at(j + 1);
        match read_mode(bits)? {
            Mode::Pass => {
                a0 = b2;
            }
            Mode::Horizontal => {
                let start = a0.max(0);
                let r1 = i64::from(read_run(bits, black, width)?);
                let r2 = i64::from(read_run(bits, !black, width)?);
                let a1 = start + r1;
                let a2 = a1 + r2;
                if a2 > w {
                    return Err(Error::malformed(format!(
                        "row of {a2} pixels exceeds the width {width}"
                    )));
                }
                // Both fit in u32: 0 <= a1 <= a2 <= width.
                push(cur, a1 as u32, width)?;
                push(cur, a2 as u32, width)?;
                a0 = a2;
            }
            Mode::Vertical(d) => {
                let a1 = b1 + i64::from(d);
                if a1 < a0.max(0) || a1 > w {
                    return Err(Error::malformed(format!(
                        "vertical code moves to pixel {a1}, outside the row"
                    )));
                }
                push(cur, a1 as u32, width)?;
                a0 = a1;
                black = !black;
            }
        }
    }
    Ok(())
}

/// Skips fill bits and one EOL, if present. Returns false when the data ended.
fn skip_eol(bits: &mut Bits<'_>) -> bool {
    while bits.peek(12) == 0 {
        if bits.at_end() {
            return false;
        }
        bits.consume(1);
    }
    if bits.peek(12) == 1 {
        bits.consume(12);
    }
    true
}

/// Decodes `rows` rows of one strip; see the module documentation.
pub(crate) fn decode(
    data: &[u8],
    scheme: Scheme,
    width: u32,
    rows: u32,
    mut row: impl FnMut(&[u32]) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut bits = Bits { data, pos: 0 };
    let mut reference: Vec<u32> = Vec::new();
    let mut cur: Vec<u32> = Vec::new();
    let mut ended = false;
    for y in 0..rows {
        if !ended {
            let two_d = match scheme {
                Scheme::Rle => {
                    if y > 0 {
                        bits.align();
                    }
                    false
                }
                Scheme::Group3OneD => {
                    ended = !skip_eol(&mut bits);
                    false
                }
                Scheme::Group3TwoD => {
                    ended = !skip_eol(&mut bits);
                    let tag = bits.peek(1);
                    bits.consume(1);
                    tag == 0
                }
                Scheme::Group4 => false,
            };
            // An EOL/EOFB (12 bits of at most one 1) where a row should start, or no data at
            // all, ends the strip.
            ended = ended || bits.at_end() || bits.peek(12) <= 1;
            if !ended {
                if two_d || scheme == Scheme::Group4 {
                    decode_2d(&mut bits, width, &reference, &mut cur)?;
                } else {
                    decode_1d(&mut bits, width, &mut cur)?;
                }
            }
        }
        if ended {
            cur.clear();
        }
        row(&cur)?;
        std::mem::swap(&mut reference, &mut cur);
    }
    Ok(())
}

/// Sets the bits of `row` (MSB first, 1 = a pixel of the second colour, i.e. CCITT black)
/// from a row's changing elements.
pub(crate) fn fill_row(row: &mut [u8], changes: &[u32], width: u32) {
    row.fill(0);
    let mut i = 0;
    while i < changes.len() {
        let start = changes[i];
        let end = changes.get(i + 1).copied().unwrap_or(width).min(width);
        set_bits(row, start, end);
        i += 2;
    }
}

fn set_bits(row: &mut [u8], start: u32, end: u32) {
    let (mut s, e) = (start as usize, end as usize);
    while s < e {
        let byte = s / 8;
        let bit = s % 8;
        let Some(b) = row.get_mut(byte) else { return };
        if bit == 0 && e - s >= 8 {
            *b = 0xff;
            s += 8;
        } else {
            let n = (8 - bit).min(e - s);
            let mask = ((0xffu16 << (8 - n)) as u8) >> bit;
            *b |= mask;
            s += n;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tables_hold_known_codes() {
        let t = run_tables();
        // White 0 = 00110101, black 0 = 0000110111, white 1728 make-up = 010011011.
        let look =
            |tab: &[RunCode], code: u32, len: u32| tab[(code << (LOOKUP_BITS - len)) as usize];
        let e = look(&t.white, 0b0011_0101, 8);
        assert_eq!((e.run, e.len), (0, 8));
        let e = look(&t.black, 0b00_0011_0111, 10);
        assert_eq!((e.run, e.len), (0, 10));
        let e = look(&t.white, 0b0_1001_1011, 9);
        assert_eq!((e.run, e.len), (1728, 9));
        // Every code of both tables is found again, i.e. no code shadows another.
        for (tab, codes) in [
            (&t.white, &tables::WHITE[..]),
            (&t.black, &tables::BLACK[..]),
        ] {
            for &(code, len, run) in codes {
                let e = look(tab, code.into(), len.into());
                assert_eq!((e.run, e.len), (run, len));
            }
        }
    }

    #[test]
    fn set_bits_spans_bytes() {
        let mut row = [0u8; 3];
        fill_row(&mut row, &[3, 13, 20], 24);
        assert_eq!(row, [0b0001_1111, 0b1111_1000, 0b0000_1111]);
    }

    #[test]
    fn g4_matches_the_fax_crate_on_its_own_encoding() {
        // Encode a pattern with the fax crate's G4 encoder, decode it here, compare.
        let width = 97u32;
        let rows: Vec<Vec<bool>> = (0..40)
            .map(|y| {
                (0..width)
                    .map(|x| ((x * 7 + y * 3) % 11 < 4) ^ (x > 50 && y % 5 == 0))
                    .collect()
            })
            .collect();
        let mut enc = fax::encoder::Encoder::new(fax::VecWriter::new());
        for r in &rows {
            enc.encode_line(
                r.iter().map(|&b| {
                    if b {
                        fax::Color::Black
                    } else {
                        fax::Color::White
                    }
                }),
                width,
            )
            .unwrap();
        }
        let data = enc.finish().unwrap().finish();
        let mut got = Vec::new();
        decode(&data, Scheme::Group4, width, rows.len() as u32, |c| {
            let mut row = vec![0u8; 13];
            fill_row(&mut row, c, width);
            got.push(
                (0..width)
                    .map(|x| row[x as usize / 8] & (0x80 >> (x % 8)) != 0)
                    .collect::<Vec<_>>(),
            );
            Ok(())
        })
        .unwrap();
        assert_eq!(got, rows);
    }

    #[test]
    fn garbage_is_an_error_or_white_never_a_panic() {
        for seed in 0u32..200 {
            let data: Vec<u8> = (0..64u32)
                .map(|i| (i.wrapping_mul(2654435761).wrapping_add(seed * 97) >> 13) as u8)
                .collect();
            for scheme in [
                Scheme::Rle,
                Scheme::Group3OneD,
                Scheme::Group3TwoD,
                Scheme::Group4,
            ] {
                let _ = decode(&data, scheme, 1728, 50, |_| Ok(()));
            }
        }
    }
}

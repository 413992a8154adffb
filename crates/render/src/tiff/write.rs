//! Writing a multi-page bilevel TIFF (class F) from coded strips.
//!
//! Contract: [`write`] lays out a little-endian TIFF: for each page its strips, then its IFD
//! (tags in ascending order, as TIFF 6.0 requires) with `NewSubfileType` 2 (one page of a
//! multi-page document) and `PageNumber` (index, total). The strips are copied, never
//! re-coded. Offsets are 32-bit: a document past 4 GiB is [`TooLarge`].
//!
//! The `tiff` crate's encoder writes uncompressed, LZW, Deflate and PackBits images only (no
//! CCITT, no pre-coded strips), so this writer is the few tags class F needs.

use super::TiffError;

/// The `Compression` of a page and its options tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// Compression 3 with `T4Options`.
    G3 { t4_options: u32 },
    /// Compression 4 with `T6Options`.
    G4 { t6_options: u32 },
}

/// One page to write.
#[derive(Debug, Clone)]
pub(crate) struct PageOut<'a> {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) scheme: Scheme,
    /// `FillOrder`: 1 or 2.
    pub(crate) fill_order: u16,
    /// `PhotometricInterpretation`: 0 or 1.
    pub(crate) photometric: u16,
    /// `XResolution`, `YResolution` (numerator, denominator) and `ResolutionUnit`.
    pub(crate) x_res: (u32, u32),
    pub(crate) y_res: (u32, u32),
    pub(crate) res_unit: u16,
    pub(crate) rows_per_strip: u32,
    pub(crate) strips: Vec<&'a [u8]>,
}

/// Marker for a document larger than 32-bit offsets allow.
pub(crate) struct TooLarge;

impl From<TooLarge> for TiffError {
    fn from(_: TooLarge) -> Self {
        TiffError::TooLarge
    }
}

const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;

/// Writes `pages` as one TIFF.
pub(crate) fn write(pages: &[PageOut<'_>]) -> Result<Vec<u8>, TooLarge> {
    let total = u16::try_from(pages.len()).map_err(|_| TooLarge)?;
    let size: usize = pages
        .iter()
        .map(|p| p.strips.iter().map(|s| s.len() + 1).sum::<usize>() + 512)
        .sum();
    let mut out = Vec::with_capacity(size + 8);
    out.extend_from_slice(b"II*\0");
    // Offset of the first IFD, patched below; `link` is where the next IFD's offset goes.
    out.extend_from_slice(&[0; 4]);
    let mut link = 4usize;
    for (index, page) in pages.iter().enumerate() {
        let mut offsets = Vec::with_capacity(page.strips.len());
        for strip in &page.strips {
            offsets.push(pos(&out)?);
            out.extend_from_slice(strip);
        }
        if out.len() % 2 == 1 {
            out.push(0);
        }
        let counts: Vec<u32> = page
            .strips
            .iter()
            .map(|s| u32::try_from(s.len()).map_err(|_| TooLarge))
            .collect::<Result<_, _>>()?;
        let (compression, options_tag, options) = match page.scheme {
            Scheme::G3 { t4_options } => (3u16, 292u16, t4_options),
            Scheme::G4 { t6_options } => (4, 293, t6_options),
        };
        let mut ifd = Ifd::default();
        ifd.long(254, 2);
        ifd.long(256, page.width);
        ifd.long(257, page.height);
        ifd.short(258, 1);
        ifd.short(259, compression);
        ifd.short(262, page.photometric);
        ifd.short(266, page.fill_order);
        ifd.longs(273, offsets);
        ifd.short(277, 1);
        ifd.long(278, page.rows_per_strip);
        ifd.longs(279, counts);
        ifd.rational(282, page.x_res);
        ifd.rational(283, page.y_res);
        ifd.short(284, 1);
        ifd.long(options_tag, options);
        ifd.short(296, page.res_unit);
        // Index fits: `total` is a u16 and index < total.
        ifd.shorts(297, vec![index as u16, total]);
        // CleanFaxData 0: no line was damaged.
        ifd.short(327, 0);
        let at = pos(&out)?;
        out[link..link + 4].copy_from_slice(&at.to_le_bytes());
        link = ifd.write(&mut out)?;
    }
    if pages.is_empty() {
        return Err(TooLarge);
    }
    Ok(out)
}

fn pos(out: &[u8]) -> Result<u32, TooLarge> {
    u32::try_from(out.len()).map_err(|_| TooLarge)
}

enum Value {
    Shorts(Vec<u16>),
    Longs(Vec<u32>),
    Rational(u32, u32),
}

#[derive(Default)]
struct Ifd {
    entries: Vec<(u16, Value)>,
}

impl Ifd {
    fn short(&mut self, tag: u16, v: u16) {
        self.entries.push((tag, Value::Shorts(vec![v])));
    }
    fn shorts(&mut self, tag: u16, v: Vec<u16>) {
        self.entries.push((tag, Value::Shorts(v)));
    }
    fn long(&mut self, tag: u16, v: u32) {
        self.entries.push((tag, Value::Longs(vec![v])));
    }
    fn longs(&mut self, tag: u16, v: Vec<u32>) {
        self.entries.push((tag, Value::Longs(v)));
    }
    fn rational(&mut self, tag: u16, (n, d): (u32, u32)) {
        self.entries.push((tag, Value::Rational(n, d)));
    }

    /// Appends the IFD (and the values that do not fit in an entry, after it); returns the
    /// position of its next-IFD link (left 0).
    fn write(mut self, out: &mut Vec<u8>) -> Result<usize, TooLarge> {
        self.entries.sort_by_key(|(tag, _)| *tag);
        let start = out.len();
        let n = self.entries.len();
        let extra_start = start + 2 + n * 12 + 4;
        let mut extra: Vec<u8> = Vec::new();
        out.extend_from_slice(&(n as u16).to_le_bytes());
        for (tag, value) in &self.entries {
            let (kind, count, bytes) = match value {
                Value::Shorts(v) => (
                    SHORT,
                    v.len(),
                    v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>(),
                ),
                Value::Longs(v) => (
                    LONG,
                    v.len(),
                    v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                ),
                Value::Rational(a, b) => (
                    RATIONAL,
                    1,
                    a.to_le_bytes().into_iter().chain(b.to_le_bytes()).collect(),
                ),
            };
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&u32::try_from(count).map_err(|_| TooLarge)?.to_le_bytes());
            if bytes.len() <= 4 {
                let mut field = [0u8; 4];
                field[..bytes.len()].copy_from_slice(&bytes);
                out.extend_from_slice(&field);
            } else {
                let at = u32::try_from(extra_start + extra.len()).map_err(|_| TooLarge)?;
                out.extend_from_slice(&at.to_le_bytes());
                extra.extend_from_slice(&bytes);
                if extra.len() % 2 == 1 {
                    extra.push(0);
                }
            }
        }
        let link = out.len();
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&extra);
        pos(out)?;
        Ok(link)
    }
}

//! A small, bounded reader for bilevel (fax) TIFF files.
//!
//! Contract: [`read`] takes untrusted bytes and either returns every page of the file, with
//! borrowed slices of its raw strips, or an [`Error`]; it never panics, never reads outside
//! the buffer and allocates only what [`Limits`] allows. Both byte orders are read. The IFD
//! chain is followed with a visited set, so cyclic chains are an error, not a loop.
//!
//! Implementation summary:
//! - Only the tags a fax page needs are interpreted: size, bits and samples per pixel,
//!   compression, photometric interpretation, fill order, strips, resolution, T4/T6 options,
//!   planar configuration, tiles (rejected) and NewSubfileType (reduced-resolution images,
//!   i.e. thumbnails, are skipped and not counted as pages).
//! - Strip offsets and byte counts must describe ranges inside the file and there must be at
//!   least `ceil(height / rows_per_strip)` of them; extra ones are ignored (as libtiff does).
//! - Values we do not understand in tags we do not need are ignored.
//! - BigTIFF, tiles, more than one bit per pixel and compression schemes other than none,
//!   CCITT RLE, Group 3 and Group 4 are [`ErrorKind::Unsupported`](crate::ErrorKind).

use std::collections::HashSet;

use crate::{Error, Limits};

/// How the strips of a page are coded (TIFF `Compression` plus `T4Options`/`T6Options`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Coding {
    /// Compression 1: uncompressed, one bit per pixel, rows padded to whole bytes.
    Uncompressed,
    /// Compression 2: CCITT modified Huffman, no EOL codes, each row starts on a byte.
    CcittRle,
    /// Compression 3: ITU-T T.4 (Group 3) with EOL codes.
    Group3 {
        /// T4Options bit 0: rows may be coded two-dimensionally (MR); otherwise 1-D (MH).
        two_d: bool,
        /// T4Options bit 1: uncompressed mode may occur in the data.
        uncompressed_mode: bool,
        /// T4Options bit 2: fill bits put every EOL's end on a byte boundary.
        fill_bits: bool,
    },
    /// Compression 4: ITU-T T.6 (Group 4, MMR).
    Group4 {
        /// T6Options bit 1: uncompressed mode may occur in the data.
        uncompressed_mode: bool,
    },
}

/// TIFF `FillOrder`: the bit order inside each byte of the strips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FillOrder {
    /// 1: the first pixel (or code bit) is the most significant bit.
    MsbFirst,
    /// 2: the first pixel (or code bit) is the least significant bit.
    LsbFirst,
}

/// TIFF `PhotometricInterpretation` for bilevel data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Photometric {
    /// 0: a pixel value of 0 (a CCITT white run) is white.
    MinIsWhite,
    /// 1: a pixel value of 0 (a CCITT white run) is black.
    MinIsBlack,
}

/// TIFF `ResolutionUnit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResolutionUnit {
    /// 1: no absolute unit (only the aspect ratio is known).
    None,
    /// 2: dots per inch.
    Inch,
    /// 3: dots per centimetre.
    Centimeter,
}

/// The resolution of a page as declared in the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    /// `XResolution`, if present and positive.
    pub x: Option<f64>,
    /// `YResolution`, if present and positive.
    pub y: Option<f64>,
    /// `ResolutionUnit` (default inch).
    pub unit: ResolutionUnit,
}

impl Resolution {
    /// The resolution in dots per inch used to size the page: the declared one converted to
    /// inches, or fax defaults when it is missing or has no unit (204 dpi across; 196 or 98
    /// down, chosen from the page's proportions, or the declared aspect ratio when known).
    pub fn dpi(&self, width: u32, height: u32) -> (f64, f64) {
        const FAX_X: f64 = 204.0;
        let scale = match self.unit {
            ResolutionUnit::Inch => Some(1.0),
            ResolutionUnit::Centimeter => Some(2.54),
            ResolutionUnit::None => None,
        };
        let sane = |v: f64| v.is_finite() && (1.0..=100_000.0).contains(&v);
        match (self.x, self.y, scale) {
            (Some(x), Some(y), Some(s)) if sane(x * s) && sane(y * s) => (x * s, y * s),
            (Some(x), Some(y), None) if sane(x) && sane(y) => (FAX_X, FAX_X * y / x),
            _ => {
                // Fax "fine" pages are taller than wide in pixels, "normal" ones are not.
                let y = if height > width { 196.0 } else { 98.0 };
                (FAX_X, y)
            }
        }
    }
}

/// One page (one full-resolution IFD) of a fax TIFF, borrowing its strips from the file.
#[derive(Debug, Clone)]
pub(crate) struct Page<'a> {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) coding: Coding,
    pub(crate) fill_order: FillOrder,
    pub(crate) photometric: Photometric,
    pub(crate) resolution: Resolution,
    pub(crate) rows_per_strip: u32,
    /// Exactly `ceil(height / rows_per_strip)` strips, none empty.
    pub(crate) strips: Vec<&'a [u8]>,
}

impl Page<'_> {
    /// Rows held by strip `index` (the last one may be short).
    pub(crate) fn strip_rows(&self, index: usize) -> u32 {
        let start = u64::from(self.rows_per_strip) * index as u64;
        let left = u64::from(self.height).saturating_sub(start);
        // Fits: bounded by rows_per_strip, a u32.
        left.min(u64::from(self.rows_per_strip)) as u32
    }
}

#[derive(Clone, Copy)]
enum ByteOrder {
    Little,
    Big,
}

struct Reader<'a> {
    data: &'a [u8],
    order: ByteOrder,
}

impl<'a> Reader<'a> {
    fn bytes(&self, offset: u64, len: u64) -> Result<&'a [u8], Error> {
        let end = offset
            .checked_add(len)
            .ok_or_else(|| Error::malformed("offset overflow"))?;
        if end > self.data.len() as u64 {
            return Err(Error::truncated(format!(
                "{len} bytes at offset {offset} exceed the file ({} bytes)",
                self.data.len()
            )));
        }
        // Both fit in usize: end <= data.len().
        Ok(&self.data[offset as usize..end as usize])
    }

    fn u16_at(&self, offset: u64) -> Result<u16, Error> {
        let b = self.bytes(offset, 2)?;
        let a = [b[0], b[1]];
        Ok(match self.order {
            ByteOrder::Little => u16::from_le_bytes(a),
            ByteOrder::Big => u16::from_be_bytes(a),
        })
    }

    fn u32_at(&self, offset: u64) -> Result<u32, Error> {
        let b = self.bytes(offset, 4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Ok(match self.order {
            ByteOrder::Little => u32::from_le_bytes(a),
            ByteOrder::Big => u32::from_be_bytes(a),
        })
    }
}

/// One IFD entry, values not yet read.
#[derive(Clone, Copy)]
struct Entry {
    tag: u16,
    typ: u16,
    count: u32,
    /// File offset of the 4-byte value/offset field.
    field: u64,
}

const TYPE_BYTE: u16 = 1;
const TYPE_SHORT: u16 = 3;
const TYPE_LONG: u16 = 4;
const TYPE_RATIONAL: u16 = 5;

fn type_size(typ: u16) -> Option<u64> {
    Some(match typ {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 => 8,
        _ => return None,
    })
}

impl Reader<'_> {
    /// Offset of the entry's values (inline in the field when they fit in 4 bytes).
    fn value_offset(&self, e: &Entry) -> Result<u64, Error> {
        let size = type_size(e.typ)
            .ok_or_else(|| Error::malformed(format!("tag {} has unknown type {}", e.tag, e.typ)))?;
        let total = size * u64::from(e.count);
        if total <= 4 {
            Ok(e.field)
        } else {
            Ok(u64::from(self.u32_at(e.field)?))
        }
    }

    /// The first `n` unsigned integer values (BYTE, SHORT or LONG) of an entry.
    fn uints(&self, e: &Entry, n: u32) -> Result<Vec<u32>, Error> {
        if n > e.count {
            return Err(Error::malformed(format!(
                "tag {} has {} values, need {n}",
                e.tag, e.count
            )));
        }
        let size = match e.typ {
            TYPE_BYTE => 1,
            TYPE_SHORT => 2,
            TYPE_LONG => 4,
            t => {
                return Err(Error::malformed(format!(
                    "tag {} has type {t}, expected an integer",
                    e.tag
                )));
            }
        };
        let base = self.value_offset(e)?;
        // Check the whole range once, so a bad offset fails before allocating.
        let raw = self.bytes(base, size * u64::from(n))?;
        let mut out = Vec::with_capacity(n as usize);
        for c in raw.chunks_exact(size as usize) {
            out.push(match (c, self.order) {
                ([b], _) => u32::from(*b),
                ([a, b], ByteOrder::Little) => u32::from(u16::from_le_bytes([*a, *b])),
                ([a, b], ByteOrder::Big) => u32::from(u16::from_be_bytes([*a, *b])),
                ([a, b, c, d], ByteOrder::Little) => u32::from_le_bytes([*a, *b, *c, *d]),
                ([a, b, c, d], ByteOrder::Big) => u32::from_be_bytes([*a, *b, *c, *d]),
                _ => return Err(Error::malformed("bad value size")),
            });
        }
        Ok(out)
    }

    /// The first value of an integer entry (a count above 1 on a scalar tag is tolerated).
    fn uint(&self, e: &Entry) -> Result<u32, Error> {
        if e.count == 0 {
            return Err(Error::malformed(format!("tag {} has no value", e.tag)));
        }
        self.uints(e, 1)?
            .first()
            .copied()
            .ok_or_else(|| Error::malformed(format!("tag {} has no value", e.tag)))
    }

    fn rational(&self, e: &Entry) -> Result<Option<f64>, Error> {
        match e.typ {
            TYPE_RATIONAL if e.count >= 1 => {
                let at = self.value_offset(e)?;
                let n = self.u32_at(at)?;
                let d = self.u32_at(at + 4)?;
                Ok((n != 0 && d != 0).then(|| f64::from(n) / f64::from(d)))
            }
            TYPE_SHORT | TYPE_LONG => {
                let v = self.uint(e)?;
                Ok((v != 0).then_some(f64::from(v)))
            }
            _ => Ok(None),
        }
    }
}

/// A parsed TIFF: its pages in file order.
#[derive(Debug)]
pub(crate) struct Tiff<'a> {
    pub(crate) pages: Vec<Page<'a>>,
}

/// True when `data` starts with a TIFF header (either byte order, classic or BigTIFF; the
/// latter is recognised only to be reported as unsupported).
pub(crate) fn is_tiff(data: &[u8]) -> bool {
    [b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"]
        .iter()
        .any(|m| data.starts_with(*m))
}

/// Reads every page of a TIFF file. `pages_before` pages of earlier inputs count towards
/// `limits.max_pages`.
pub(crate) fn read<'a>(
    data: &'a [u8],
    limits: &Limits,
    pages_before: u32,
) -> Result<Tiff<'a>, Error> {
    if data.len() > limits.max_input_bytes {
        return Err(Error::limit(
            "input size",
            data.len() as u64,
            limits.max_input_bytes as u64,
        ));
    }
    if data.len() < 8 {
        return Err(Error::truncated("tiff header"));
    }
    let order = match &data[..4] {
        b"II*\0" => ByteOrder::Little,
        b"MM\0*" => ByteOrder::Big,
        [b'I', b'I', 43, 0] | [b'M', b'M', 0, 43] => return Err(Error::unsupported("bigtiff")),
        _ => {
            return Err(Error::new(
                crate::ErrorKind::UnknownFormat,
                "not a tiff file",
            ));
        }
    };
    let r = Reader { data, order };
    let mut next = u64::from(r.u32_at(4)?);
    if next == 0 {
        return Err(Error::malformed("no image file directory"));
    }
    let mut seen = HashSet::new();
    let mut pages = Vec::new();
    let mut ifd_index = 0u32;
    while next != 0 {
        if !seen.insert(next) {
            return Err(Error::malformed(format!(
                "ifd chain loops back to offset {next}"
            )));
        }
        // Every IFD (also skipped thumbnails) counts, so the walk is bounded.
        if seen.len() as u64 > u64::from(limits.max_pages) * 2 + 2 {
            return Err(Error::limit(
                "image file directories",
                seen.len() as u64,
                u64::from(limits.max_pages) * 2 + 2,
            ));
        }
        let (page, after) =
            read_ifd(&r, next, limits).map_err(|e| e.context(format!("ifd {ifd_index}")))?;
        if let Some(page) = page {
            let total = u64::from(pages_before) + pages.len() as u64 + 1;
            if total > u64::from(limits.max_pages) {
                return Err(Error::limit("pages", total, limits.max_pages.into()));
            }
            pages.push(page);
        }
        next = after;
        ifd_index += 1;
    }
    if pages.is_empty() {
        return Err(Error::malformed("no full-resolution page"));
    }
    Ok(Tiff { pages })
}

/// Reads the IFD at `offset`; returns the page (None for a reduced-resolution image) and the
/// offset of the next IFD.
fn read_ifd<'a>(
    r: &Reader<'a>,
    offset: u64,
    limits: &Limits,
) -> Result<(Option<Page<'a>>, u64), Error> {
    let count = r.u16_at(offset)?;
    if count > limits.max_ifd_entries {
        return Err(Error::limit(
            "ifd entries",
            count.into(),
            limits.max_ifd_entries.into(),
        ));
    }
    let entries_at = offset + 2;
    r.bytes(entries_at, u64::from(count) * 12 + 4)?;
    let mut entries = Vec::with_capacity(count.into());
    for i in 0..u64::from(count) {
        let at = entries_at + i * 12;
        entries.push(Entry {
            tag: r.u16_at(at)?,
            typ: r.u16_at(at + 2)?,
            count: r.u32_at(at + 4)?,
            field: at + 8,
        });
    }
    let next = u64::from(r.u32_at(entries_at + u64::from(count) * 12)?);
    let find = |tag: u16| entries.iter().find(|e| e.tag == tag);
    let uint = |tag: u16| find(tag).map(|e| r.uint(e)).transpose();

    if uint(254)?.is_some_and(|kind| kind & 1 != 0) {
        return Ok((None, next));
    }
    if find(322).is_some() || find(324).is_some() {
        return Err(Error::unsupported("tiled image"));
    }
    let width = uint(256)?.ok_or_else(|| Error::malformed("no image width"))?;
    let height = uint(257)?.ok_or_else(|| Error::malformed("no image length"))?;
    if width == 0 || height == 0 {
        return Err(Error::malformed(format!("empty image {width}x{height}")));
    }
    if width > limits.max_width {
        return Err(Error::limit(
            "image width",
            width.into(),
            limits.max_width.into(),
        ));
    }
    if height > limits.max_height {
        return Err(Error::limit(
            "image height",
            height.into(),
            limits.max_height.into(),
        ));
    }
    let bps = uint(258)?.unwrap_or(1);
    let spp = uint(277)?.unwrap_or(1);
    if bps != 1 || spp != 1 {
        return Err(Error::unsupported(format!(
            "{spp} samples of {bps} bits per pixel, not a bilevel image"
        )));
    }
    let compression = uint(259)?.unwrap_or(1);
    let t4 = uint(292)?.unwrap_or(0);
    let t6 = uint(293)?.unwrap_or(0);
    let coding = match compression {
        1 => Coding::Uncompressed,
        2 => Coding::CcittRle,
        3 => Coding::Group3 {
            two_d: t4 & 1 != 0,
            uncompressed_mode: t4 & 2 != 0,
            fill_bits: t4 & 4 != 0,
        },
        4 => Coding::Group4 {
            uncompressed_mode: t6 & 2 != 0,
        },
        c => return Err(Error::unsupported(format!("compression {c}"))),
    };
    let photometric = match uint(262)? {
        None | Some(0) => Photometric::MinIsWhite,
        Some(1) => Photometric::MinIsBlack,
        Some(p) => {
            return Err(Error::unsupported(format!(
                "photometric interpretation {p}"
            )));
        }
    };
    let fill_order = match uint(266)? {
        None | Some(1) => FillOrder::MsbFirst,
        Some(2) => FillOrder::LsbFirst,
        Some(f) => return Err(Error::malformed(format!("fill order {f}"))),
    };
    match uint(284)? {
        None | Some(1) | Some(2) => {} // one sample per pixel: planar configuration is moot
        Some(p) => return Err(Error::malformed(format!("planar configuration {p}"))),
    }
    let unit = match uint(296)? {
        Some(1) => ResolutionUnit::None,
        None | Some(2) => ResolutionUnit::Inch,
        Some(3) => ResolutionUnit::Centimeter,
        Some(u) => return Err(Error::malformed(format!("resolution unit {u}"))),
    };
    let x = find(282).map(|e| r.rational(e)).transpose()?.flatten();
    let y = find(283).map(|e| r.rational(e)).transpose()?.flatten();
    let resolution = Resolution { x, y, unit };

    let rows_per_strip = match uint(278)? {
        None | Some(0) => height,
        Some(n) => n.min(height),
    };
    let strip_count = height.div_ceil(rows_per_strip);
    if strip_count > limits.max_strips_per_page {
        return Err(Error::limit(
            "strips per page",
            strip_count.into(),
            limits.max_strips_per_page.into(),
        ));
    }
    let offsets_e = find(273).ok_or_else(|| Error::malformed("no strip offsets"))?;
    let counts_e = find(279).ok_or_else(|| Error::malformed("no strip byte counts"))?;
    // Extra entries are ignored; only what the page needs is read.
    let offsets = r.uints(offsets_e, strip_count)?;
    let counts = r.uints(counts_e, strip_count)?;
    let mut strips = Vec::with_capacity(strip_count as usize);
    for (i, (&off, &len)) in offsets.iter().zip(&counts).enumerate() {
        if len == 0 {
            return Err(Error::malformed(format!("strip {i} is empty")));
        }
        if len as usize > limits.max_strip_bytes {
            return Err(Error::limit(
                "strip size",
                len.into(),
                limits.max_strip_bytes as u64,
            ));
        }
        strips.push(
            r.bytes(off.into(), len.into())
                .map_err(|e| e.context(format!("strip {i}")))?,
        );
    }
    if coding == Coding::Uncompressed {
        let stride = u64::from(width.div_ceil(8));
        for (i, s) in strips.iter().enumerate() {
            let rows = u64::from(rows_per_strip.min(height - (i as u32) * rows_per_strip));
            if (s.len() as u64) < stride * rows {
                return Err(Error::truncated(format!("uncompressed strip {i} is short")));
            }
        }
    }
    Ok((
        Some(Page {
            width,
            height,
            coding,
            fill_order,
            photometric,
            resolution,
            rows_per_strip,
            strips,
        }),
        next,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_to_dpi() {
        let r = |x, y, unit| Resolution { x, y, unit };
        assert_eq!(
            r(Some(204.0), Some(196.0), ResolutionUnit::Inch).dpi(1728, 2292),
            (204.0, 196.0)
        );
        let (x, y) = r(Some(80.0), Some(38.5), ResolutionUnit::Centimeter).dpi(1728, 1143);
        assert!((x - 203.2).abs() < 1e-9 && (y - 97.79).abs() < 1e-9);
        // No unit: the aspect ratio is kept, 204 dpi across.
        assert_eq!(
            r(Some(2.0), Some(1.0), ResolutionUnit::None).dpi(1728, 1143),
            (204.0, 102.0)
        );
        // Missing or absurd: fax fine or normal, from the page's proportions.
        assert_eq!(
            r(None, None, ResolutionUnit::Inch).dpi(1728, 2292),
            (204.0, 196.0)
        );
        assert_eq!(
            r(None, Some(98.0), ResolutionUnit::Inch).dpi(1728, 1146),
            (204.0, 98.0)
        );
        assert_eq!(
            r(Some(1e12), Some(196.0), ResolutionUnit::Inch).dpi(1728, 2292),
            (204.0, 196.0)
        );
    }
}

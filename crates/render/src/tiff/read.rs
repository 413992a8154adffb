//! Reading the pages of a class F TIFF back as coded strips, for [`super::join`].
//!
//! Contract: [`pages`] takes untrusted bytes that `umsgate_fax::tiff_pages` has already
//! accepted (so sizes, strip ranges and the IFD chain are sane) and returns every
//! full-resolution page with its strips borrowed from the input, or a [`Bad`] saying what is
//! not a class F page. It never panics and never reads outside the input; the IFD chain is
//! followed with a visited set and at most `max_pages` pages.
//!
//! `umsgate_fax` reads the same files but keeps its parsed pages private (it converts, it
//! does not copy), so this reader takes only what a copy needs: the tags of
//! [`super::write::PageOut`].

use std::collections::HashSet;

use super::write::{PageOut, Scheme};

/// What is wrong with a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bad(pub(crate) String);

#[derive(Clone, Copy)]
struct Order(bool);

impl Order {
    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let s: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(if self.0 {
            u16::from_le_bytes(s)
        } else {
            u16::from_be_bytes(s)
        })
    }
    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.0 {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
    }
}

/// One IFD entry's values, read as unsigned integers (SHORT, LONG) or a rational.
fn values(b: &[u8], o: Order, entry: usize) -> Option<Vec<u32>> {
    let kind = o.u16(b, entry + 2)?;
    let count = o.u32(b, entry + 4)? as usize;
    let size = match kind {
        3 => 2,
        4 => 4,
        5 => 8,
        _ => return Some(Vec::new()),
    };
    let len = count.checked_mul(size)?;
    if len > b.len() {
        return None;
    }
    let at = if len <= 4 {
        entry + 8
    } else {
        o.u32(b, entry + 8)? as usize
    };
    let data = b.get(at..at.checked_add(len)?)?;
    let mut out = Vec::with_capacity(count.saturating_mul(if kind == 5 { 2 } else { 1 }));
    for i in 0..count {
        match kind {
            3 => out.push(u32::from(o.u16(data, i * 2)?)),
            4 => out.push(o.u32(data, i * 4)?),
            _ => {
                out.push(o.u32(data, i * 8)?);
                out.push(o.u32(data, i * 8 + 4)?);
            }
        }
    }
    Some(out)
}

/// Every full-resolution page of `b`.
pub(crate) fn pages(b: &[u8], max_pages: usize) -> Result<Vec<PageOut<'_>>, Bad> {
    let bad = |what: &str| Bad(what.to_owned());
    let order = match b.get(..4) {
        Some(b"II*\0") => Order(true),
        Some(b"MM\0*") => Order(false),
        _ => return Err(bad("not a TIFF file")),
    };
    let mut next = order.u32(b, 4).ok_or_else(|| bad("truncated header"))? as usize;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    while next != 0 {
        if !seen.insert(next) {
            return Err(bad("the IFD chain loops"));
        }
        if seen.len() > max_pages.saturating_mul(2).saturating_add(2) {
            return Err(bad("too many IFDs"));
        }
        let n = order
            .u16(b, next)
            .ok_or_else(|| bad("IFD outside the file"))? as usize;
        let mut tags = std::collections::HashMap::new();
        for i in 0..n {
            let entry = next + 2 + i * 12;
            let tag = order
                .u16(b, entry)
                .ok_or_else(|| bad("IFD entry outside the file"))?;
            if matches!(
                tag,
                254 | 256 | 257 | 259 | 262 | 266 | 273 | 278 | 279 | 282 | 283 | 292 | 293 | 296
            ) {
                let v = values(b, order, entry).ok_or_else(|| bad("tag value outside the file"))?;
                tags.insert(tag, v);
            }
        }
        next = order
            .u32(b, next + 2 + n * 12)
            .ok_or_else(|| bad("IFD link outside the file"))? as usize;
        let one = |tag: u16| tags.get(&tag).and_then(|v| v.first().copied());
        if one(254).unwrap_or(0) & 1 == 1 {
            continue; // a reduced-resolution image (thumbnail), not a page
        }
        if out.len() >= max_pages {
            return Err(bad("too many pages"));
        }
        let width = one(256).ok_or_else(|| bad("no ImageWidth"))?;
        let height = one(257).ok_or_else(|| bad("no ImageLength"))?;
        let scheme = match one(259) {
            Some(3) => Scheme::G3 {
                t4_options: one(292).unwrap_or(0),
            },
            Some(4) => Scheme::G4 {
                t6_options: one(293).unwrap_or(0),
            },
            _ => return Err(bad("a page is neither G3 nor G4 coded")),
        };
        let rational = |tag: u16| match tags.get(&tag).map(Vec::as_slice) {
            Some([n, d]) if *d != 0 => Some((*n, *d)),
            _ => None,
        };
        let offsets = tags.get(&273).ok_or_else(|| bad("no StripOffsets"))?;
        let counts = tags.get(&279).ok_or_else(|| bad("no StripByteCounts"))?;
        let rows_per_strip = one(278).unwrap_or(height).clamp(1, height.max(1));
        let strips_needed = height.div_ceil(rows_per_strip) as usize;
        if offsets.len() < strips_needed || counts.len() < strips_needed {
            return Err(bad("fewer strips than rows need"));
        }
        let strips = offsets
            .iter()
            .zip(counts)
            .take(strips_needed)
            .map(|(&at, &len)| {
                let at = at as usize;
                b.get(at..at.checked_add(len as usize)?)
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("a strip lies outside the file"))?;
        out.push(PageOut {
            width,
            height,
            scheme,
            fill_order: one(266).unwrap_or(1) as u16,
            photometric: one(262).unwrap_or(0) as u16,
            x_res: rational(282).unwrap_or((204, 1)),
            y_res: rational(283).unwrap_or((196, 1)),
            res_unit: one(296).unwrap_or(2) as u16,
            rows_per_strip,
            strips,
        });
    }
    Ok(out)
}

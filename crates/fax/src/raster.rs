//! Decoding a fax page into a 1-bit bitmap.
//!
//! Contract: [`decode_page`] turns one parsed TIFF page into a [`Bitmap`] whose set bits are
//! *black as displayed* (photometric interpretation already applied), or fails. It checks
//! `width * height` against [`Limits::max_pixels`] before allocating.

use std::borrow::Cow;

use crate::ccitt::{self, Scheme};
use crate::tiff::{Coding, FillOrder, Page, Photometric};
use crate::{Error, Limits};

/// A decoded page: `height` rows of `ceil(width / 8)` bytes, first pixel in the most
/// significant bit, a set bit is a black pixel. Padding bits at the end of a row are zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    stride: usize,
    data: Vec<u8>,
}

impl Bitmap {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes per row.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Row `y` (packed, 1 = black), or `None` past the last row.
    pub fn row(&self, y: u32) -> Option<&[u8]> {
        let start = (y as usize).checked_mul(self.stride)?;
        self.data.get(start..start.checked_add(self.stride)?)
    }

    /// Whether pixel (`x`, `y`) is black; pixels outside the bitmap are white.
    pub fn is_black(&self, x: u32, y: u32) -> bool {
        if x >= self.width {
            return false;
        }
        self.row(y)
            .and_then(|r| r.get(x as usize / 8))
            .is_some_and(|b| b & (0x80 >> (x % 8)) != 0)
    }

    /// All rows, packed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// A bitmap from packed rows (`ceil(width / 8)` bytes each), for tests of its users.
    #[cfg(test)]
    pub(crate) fn from_packed(width: u32, height: u32, data: Vec<u8>) -> Option<Bitmap> {
        let stride = (width as usize).div_ceil(8);
        (data.len() == stride * height as usize).then_some(Bitmap {
            width,
            height,
            stride,
            data,
        })
    }

    /// Number of black pixels.
    pub fn black_pixels(&self) -> u64 {
        self.data.iter().map(|b| u64::from(b.count_ones())).sum()
    }
}

/// Reverses the bit order of every byte (TIFF FillOrder=2 to MSB-first).
pub(crate) fn reverse_bits(data: &[u8]) -> Vec<u8> {
    data.iter().map(|b| b.reverse_bits()).collect()
}

/// The strip as MSB-first bytes, copied only when the fill order requires it.
pub(crate) fn msb_first<'a>(strip: &'a [u8], order: FillOrder) -> Cow<'a, [u8]> {
    match order {
        FillOrder::MsbFirst => Cow::Borrowed(strip),
        FillOrder::LsbFirst => Cow::Owned(reverse_bits(strip)),
    }
}

pub(crate) fn decode_page(page: &Page<'_>, limits: &Limits) -> Result<Bitmap, Error> {
    let pixels = u64::from(page.width) * u64::from(page.height);
    if pixels > limits.max_pixels {
        return Err(Error::limit("decoded pixels", pixels, limits.max_pixels));
    }
    let width = page.width;
    let stride = width.div_ceil(8) as usize;
    let mut data = vec![0u8; stride * page.height as usize];
    let scheme = match page.coding {
        Coding::Uncompressed => None,
        Coding::CcittRle => Some(Scheme::Rle),
        Coding::Group3 { two_d: false, .. } => Some(Scheme::Group3OneD),
        Coding::Group3 { two_d: true, .. } => Some(Scheme::Group3TwoD),
        Coding::Group4 { .. } => Some(Scheme::Group4),
    };
    let mut y0 = 0usize;
    for (i, strip) in page.strips.iter().enumerate() {
        let rows = page.strip_rows(i) as usize;
        let bytes = msb_first(strip, page.fill_order);
        let out = data
            .get_mut(y0 * stride..(y0 + rows) * stride)
            .ok_or_else(|| Error::malformed("strip rows exceed the image"))?;
        match scheme {
            None => {
                let src = bytes
                    .get(..rows * stride)
                    .ok_or_else(|| Error::truncated(format!("uncompressed strip {i} is short")))?;
                out.copy_from_slice(src);
            }
            Some(scheme) => {
                let mut rows_out = out.chunks_exact_mut(stride);
                ccitt::decode(&bytes, scheme, width, rows as u32, |changes| {
                    if let Some(row) = rows_out.next() {
                        ccitt::fill_row(row, changes, width);
                    }
                    Ok(())
                })
                .map_err(|e| e.context(format!("strip {i}")))?;
            }
        }
        y0 += rows;
    }
    if page.photometric == Photometric::MinIsBlack {
        for b in &mut data {
            *b = !*b;
        }
    }
    // Clear the padding bits so that every representation of a page compares equal.
    let pad = (stride * 8) as u32 - width;
    if pad > 0 {
        let mask = 0xffu8 << pad;
        for row in data.chunks_exact_mut(stride) {
            if let Some(last) = row.last_mut() {
                *last &= mask;
            }
        }
    }
    Ok(Bitmap {
        width,
        height: page.height,
        stride,
        data,
    })
}

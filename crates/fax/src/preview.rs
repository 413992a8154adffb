//! Preview images: a fax page as a 1-bit grayscale PNG, or scaled down for a mail.
//!
//! Contract: [`png_from_bitmap`] writes a valid PNG (bit depth 1, 0 = black, 1 = white) with a
//! `pHYs` chunk carrying the page resolution. When the vertical resolution is about half
//! (or a third, a quarter) of the horizontal one, as for "normal" fax pages at 204 x 98 dpi,
//! each row is repeated so the preview has square pixels and is not squashed.
//!
//! [`scaled_png`] reduces a page to about [`PREVIEW_DPI`] in both directions (square pixels
//! whatever the fax resolution): each output pixel is the share of black in its box of
//! source pixels (2 x 2 for a "fine" page at 204 x 196 dpi, 2 x 1 for "normal"), written as
//! a 4-bit grayscale PNG with its `pHYs`. A fine A4 page becomes 864 x 1146 pixels, about
//! the width of a mail window, and the grey levels keep small print readable where
//! dropping every other pixel (1-bit) breaks strokes.
//!
//! Measured (`cargo run --release -p umsgate-fax --example preview_sizes`, the samples of
//! `testdata/samples`, a busy 2-core machine): a page preview is 14 KB, against 13.8 KB for
//! the full-size 1-bit page and 5 KB for a 1-bit page halved by decimation; three pages take
//! 20–28 ms (load-dependent), of a page's 7–9 ms about 1–2 ms are decoding, 2 ms scaling
//! (a table per byte when the box width divides 8) and 4 ms DEFLATE. Level 3 without PNG
//! row filters: level 9 with adaptive filters saves 7% of the bytes (13 KB) for twice the
//! time, level 1 takes about 2 ms less per page for twice the bytes (28 KB), the fastest
//! setting (`fdeflate`) six times the bytes (87 KB).

use crate::raster::Bitmap;
use crate::{Error, ErrorKind, Limits};

pub(crate) fn png_from_bitmap(
    bitmap: &Bitmap,
    dpi: (f64, f64),
    limits: &Limits,
) -> Result<Vec<u8>, Error> {
    let (xdpi, ydpi) = dpi;
    let repeat = (xdpi / ydpi).round().clamp(1.0, 4.0) as u32;
    let height = bitmap.height().saturating_mul(repeat);
    let pixels = u64::from(bitmap.width()) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(Error::limit("preview pixels", pixels, limits.max_pixels));
    }
    let png_err = |e: png::EncodingError| Error::with_source(ErrorKind::Png, "", Box::new(e));
    let mut out = Vec::with_capacity(bitmap.as_bytes().len() / 8 + 1024);
    let mut enc = png::Encoder::new(&mut out, bitmap.width(), height);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::One);
    let per_meter = |dpi: f64| (dpi / 0.0254).round().clamp(1.0, f64::from(u32::MAX)) as u32;
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: per_meter(xdpi),
        yppu: per_meter(ydpi * f64::from(repeat)),
        unit: png::Unit::Meter,
    }));
    let mut writer = enc.write_header().map_err(png_err)?;
    let mut data = Vec::with_capacity(bitmap.stride() * height as usize);
    for y in 0..bitmap.height() {
        let row = bitmap
            .row(y)
            .ok_or_else(|| Error::malformed("bitmap row missing"))?;
        for _ in 0..repeat {
            // PNG grayscale: 0 is black, so invert (padding bits become 1, which PNG ignores).
            data.extend(row.iter().map(|b| !b));
        }
    }
    writer.write_image_data(&data).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    Ok(out)
}

/// The resolution [`scaled_png`] aims for, in dots per inch.
pub const PREVIEW_DPI: f64 = 102.0;

/// A page scaled down for a mail: the PNG and its size in pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Preview {
    /// A 4-bit grayscale PNG.
    pub png: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Box factor that takes `dpi` to about [`PREVIEW_DPI`] (at least 1, at most 8).
fn factor(dpi: f64) -> u32 {
    (dpi / PREVIEW_DPI).round().clamp(1.0, 8.0) as u32
}

pub(crate) fn scaled_png(
    bitmap: &Bitmap,
    dpi: (f64, f64),
    limits: &Limits,
) -> Result<Preview, Error> {
    let (xdpi, ydpi) = dpi;
    let (fx, fy) = (factor(xdpi), factor(ydpi));
    let width = bitmap.width().div_ceil(fx).max(1);
    let height = bitmap.height().div_ceil(fy).max(1);
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(Error::limit("preview pixels", pixels, limits.max_pixels));
    }
    let png_err = |e: png::EncodingError| Error::with_source(ErrorKind::Png, "", Box::new(e));
    let stride = (width as usize).div_ceil(2);
    // White paper: a row without black stays all 15s.
    let mut data = vec![0xffu8; stride * height as usize];
    // Grey level by black pixels in a box (15 = white, 0 = black). Boxes at the right and
    // bottom edges may be cut short; they count as full boxes (the rest is white paper).
    let area = fx * fy;
    let levels: Vec<u8> = (0..=area)
        .map(|b| (15 - (15 * b + area / 2) / area) as u8)
        .collect();
    // Black pixels per output column of the current output row.
    let mut black = vec![0u32; width as usize];
    // For a box width of 1, 2, 4 or 8: boxes per source byte, and per byte value the black
    // pixels in each of those boxes (the box loop below then touches each byte once).
    let spans: Option<(usize, Vec<[u8; 8]>)> = (8 % fx == 0).then(|| {
        let per_byte = (8 / fx) as usize;
        let table = (0..=255u8)
            .map(|byte| {
                let mut counts = [0u8; 8];
                for bit in 0..8u32 {
                    if byte & (0x80 >> bit) != 0 {
                        counts[(bit / fx) as usize] += 1;
                    }
                }
                counts
            })
            .collect();
        (per_byte, table)
    });
    for (oy, out_row) in data.chunks_exact_mut(stride).enumerate() {
        let y0 = oy as u32 * fy;
        let rows = fy.min(bitmap.height().saturating_sub(y0));
        let mut any = false;
        for y in y0..y0 + rows {
            let row = bitmap
                .row(y)
                .ok_or_else(|| Error::malformed("bitmap row missing"))?;
            for (i, &byte) in row.iter().enumerate() {
                if byte == 0 {
                    continue;
                }
                any = true;
                match &spans {
                    // The box width divides 8: a table gives the black pixels of each box
                    // the byte covers.
                    Some((per_byte, table)) => {
                        let first = i * per_byte;
                        let counts = &table[usize::from(byte)];
                        for (b, &c) in black
                            .iter_mut()
                            .skip(first)
                            .zip(counts.iter().take(*per_byte))
                        {
                            *b += u32::from(c);
                        }
                    }
                    None => {
                        let mut bits = byte;
                        while bits != 0 {
                            let bit = bits.leading_zeros();
                            bits &= !(0x80 >> bit);
                            let x = i as u32 * 8 + bit;
                            if let Some(b) = black.get_mut((x / fx) as usize) {
                                *b += 1;
                            }
                        }
                    }
                }
            }
        }
        if !any {
            continue;
        }
        for (ox, b) in black.iter_mut().enumerate() {
            if *b == 0 {
                continue;
            }
            let level = levels.get(*b as usize).copied().unwrap_or(0);
            *b = 0;
            let byte = &mut out_row[ox / 2];
            *byte = if ox % 2 == 0 {
                (*byte & 0x0f) | (level << 4)
            } else {
                (*byte & 0xf0) | level
            };
        }
    }
    let mut out = Vec::with_capacity(data.len() / 4 + 1024);
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Four);
    enc.set_deflate_compression(png::DeflateCompression::Level(3));
    enc.set_filter(png::Filter::NoFilter);
    let per_meter = |dpi: f64| (dpi / 0.0254).round().clamp(1.0, f64::from(u32::MAX)) as u32;
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: per_meter(xdpi / f64::from(fx)),
        yppu: per_meter(ydpi / f64::from(fy)),
        unit: png::Unit::Meter,
    }));
    let mut writer = enc.write_header().map_err(png_err)?;
    writer.write_image_data(&data).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    Ok(Preview {
        png: out,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The 4-bit values of a preview PNG, one per pixel, and its size.
    fn pixels(p: &Preview) -> Vec<u8> {
        let mut reader = png::Decoder::new(std::io::Cursor::new(&p.png))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        let mut out = Vec::new();
        for y in 0..p.height as usize {
            for x in 0..p.width as usize {
                let b = buf[y * frame.line_size + x / 2];
                out.push(if x % 2 == 0 { b >> 4 } else { b & 0x0f });
            }
        }
        out
    }

    #[test]
    fn a_normal_page_keeps_its_rows_and_halves_its_columns() {
        // 5 x 2 pixels at 204 x 98 dpi: row 0 = B B W B W, row 1 all white.
        let bitmap = Bitmap::from_packed(5, 2, vec![0b1101_0000, 0]).unwrap();
        let p = scaled_png(&bitmap, (204.0, 98.0), &Limits::default()).unwrap();
        assert_eq!((p.width, p.height), (3, 2));
        // Boxes of 2 x 1: two black → 0, one of two → half grey (7.5 rounds to 7), the last
        // box is cut short and counts as a full box with white paper.
        assert_eq!(pixels(&p), vec![0, 7, 15, 15, 15, 15]);
    }

    #[test]
    fn a_box_width_that_does_not_divide_a_byte_counts_pixel_by_pixel() {
        // 306 x 306 dpi: 3 x 3 boxes. Rows: B B B B W W W W W, then two white rows.
        let bitmap = Bitmap::from_packed(9, 3, vec![0b1111_0000, 0, 0, 0, 0, 0]).unwrap();
        let p = scaled_png(&bitmap, (306.0, 306.0), &Limits::default()).unwrap();
        assert_eq!((p.width, p.height), (3, 1));
        // 3 of 9 black → 15 - 5 = 10; 1 of 9 → 15 - 2 = 13 (rounded); none → 15.
        assert_eq!(pixels(&p), vec![10, 13, 15]);
    }

    #[test]
    fn a_preview_larger_than_the_pixel_limit_is_refused() {
        let bitmap = Bitmap::from_packed(16, 16, vec![0; 32]).unwrap();
        let limits = Limits {
            max_pixels: 10,
            ..Limits::default()
        };
        let e = scaled_png(&bitmap, (204.0, 196.0), &limits).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::LimitExceeded);
        let limits = Limits {
            max_pixels: 64,
            ..Limits::default()
        };
        assert_eq!(
            scaled_png(&bitmap, (204.0, 196.0), &limits).unwrap().width,
            8
        );
    }
}

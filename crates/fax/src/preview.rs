//! Preview images: a fax page as a 1-bit grayscale PNG.
//!
//! Contract: [`png_from_bitmap`] writes a valid PNG (bit depth 1, 0 = black, 1 = white) with a
//! `pHYs` chunk carrying the page resolution. When the vertical resolution is about half
//! (or a third, a quarter) of the horizontal one, as for "normal" fax pages at 204 x 98 dpi,
//! each row is repeated so the preview has square pixels and is not squashed.

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

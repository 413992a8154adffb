//! Image attachments (PNG, JPEG, GIF, BMP, WebP) → one PDF page each, the image scaled to fit
//! inside the page margins and centred at the top, never enlarged past its natural size
//! (taken at 150 dpi when the file says nothing better).
//!
//! Contract: untrusted bytes; the dimensions are read from the header and checked against
//! [`Limits::max_image_pixels`] / [`Limits::max_image_side`] **before** anything is decoded,
//! and the decoder runs with the same limits (a decompression bomb is refused, never
//! allocated). Animated GIFs give their first frame. Pure and deterministic.
//!
//! Implementation summary: a baseline JPEG in grey or RGB is embedded unchanged
//! (`DCTDecode`), as a fax engine rasterises it anyway; everything else is decoded with the
//! `image` crate, converted to 8-bit grey (fax is black and white; grey keeps the engine's
//! dithering, and costs a third of RGB) and stored Flate-compressed. Transparency is composed
//! on white.

use std::io::Cursor;

use image::{ImageFormat, ImageReader};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref};

use crate::page::{HEIGHT_PT, WIDTH_PT};
use crate::text_pdf::deflate;
use crate::{Limits, RenderErrorKind};

/// Margin around an image, in points.
const MARGIN: f32 = 28.35;
/// Resolution assumed for an image whose natural size is unknown.
const NATURAL_DPI: f32 = 150.0;

/// The image formats taken, by magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
    Gif,
    Bmp,
    WebP,
}

impl ImageKind {
    /// The format by its first bytes.
    pub fn detect(data: &[u8]) -> Option<ImageKind> {
        match data {
            [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, ..] => Some(ImageKind::Png),
            [0xff, 0xd8, 0xff, ..] => Some(ImageKind::Jpeg),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(ImageKind::Gif),
            [b'B', b'M', ..] if data.len() > 26 => Some(ImageKind::Bmp),
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => Some(ImageKind::WebP),
            _ => None,
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            ImageKind::Png => ImageFormat::Png,
            ImageKind::Jpeg => ImageFormat::Jpeg,
            ImageKind::Gif => ImageFormat::Gif,
            ImageKind::Bmp => ImageFormat::Bmp,
            ImageKind::WebP => ImageFormat::WebP,
        }
    }
}

/// Pixels ready for the PDF.
struct Raster {
    width: u32,
    height: u32,
    /// Stream data and its filter.
    data: Vec<u8>,
    filter: Filter,
    /// Colour components per pixel (1 grey, 3 RGB).
    components: u8,
}

/// Renders one image as a one-page PDF.
pub(crate) fn to_pdf(data: &[u8], limits: &Limits) -> Result<Vec<u8>, RenderErrorKind> {
    let kind = ImageKind::detect(data).ok_or_else(|| {
        RenderErrorKind::Malformed("not a PNG, JPEG, GIF, BMP or WebP image".into())
    })?;
    let reader = ImageReader::with_format(Cursor::new(data), kind.format());
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| RenderErrorKind::Malformed(e.to_string()))?;
    check_size(width, height, limits)?;
    let raster = match (kind, jpeg_components(data)) {
        (ImageKind::Jpeg, Some(components @ (1 | 3))) => Raster {
            width,
            height,
            data: data.to_vec(),
            filter: Filter::DctDecode,
            components,
        },
        _ => decode_grey(data, kind, width, height, limits)?,
    };
    Ok(write(&raster))
}

fn check_size(width: u32, height: u32, limits: &Limits) -> Result<(), RenderErrorKind> {
    let too_large = width == 0
        || height == 0
        || width > limits.max_image_side
        || height > limits.max_image_side
        || u64::from(width) * u64::from(height) > limits.max_image_pixels;
    if too_large {
        return Err(RenderErrorKind::ImageTooLarge { width, height });
    }
    Ok(())
}

fn decode_grey(
    data: &[u8],
    kind: ImageKind,
    width: u32,
    height: u32,
    limits: &Limits,
) -> Result<Raster, RenderErrorKind> {
    let mut reader = ImageReader::with_format(Cursor::new(data), kind.format());
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_image_side);
    decoder_limits.max_image_height = Some(limits.max_image_side);
    // RGBA8 of the largest image allowed, plus the decoder's own buffers.
    decoder_limits.max_alloc = Some(limits.max_image_pixels.saturating_mul(8));
    reader.limits(decoder_limits);
    let image = reader
        .decode()
        .map_err(|e| RenderErrorKind::Malformed(e.to_string()))?;
    let rgba = image.to_rgba8();
    let mut grey = Vec::with_capacity(width as usize * height as usize);
    for p in rgba.pixels() {
        let [r, g, b, a] = p.0;
        // ITU-R BT.601 luma, composed on white.
        let y = (299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b)) / 1000;
        let a = u32::from(a);
        let on_white = (y * a + 255 * (255 - a)) / 255;
        grey.push(u8::try_from(on_white).unwrap_or(u8::MAX));
    }
    Ok(Raster {
        width: rgba.width(),
        height: rgba.height(),
        data: deflate(&grey),
        filter: Filter::FlateDecode,
        components: 1,
    })
}

/// Components of a baseline or progressive JPEG, from its SOF marker; `None` when the
/// markers cannot be followed (then the image is decoded instead).
fn jpeg_components(data: &[u8]) -> Option<u8> {
    let mut i = 2;
    while i + 4 <= data.len() {
        if data[i] != 0xff {
            return None;
        }
        let marker = data[i + 1];
        let len = usize::from(u16::from_be_bytes([data[i + 2], data[i + 3]]));
        // SOF0..SOF2 (baseline, extended, progressive Huffman): what every reader decodes.
        if matches!(marker, 0xc0..=0xc2) {
            return data.get(i + 9).copied();
        }
        if marker == 0xda || len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

fn write(raster: &Raster) -> Vec<u8> {
    let mut alloc = Ref::new(1);
    let catalog_id = alloc.bump();
    let tree_id = alloc.bump();
    let page_id = alloc.bump();
    let content_id = alloc.bump();
    let image_id = alloc.bump();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id).kids([page_id]).count(1);

    let mut image = pdf.image_xobject(image_id, &raster.data);
    image.filter(raster.filter);
    image.width(i32::try_from(raster.width).unwrap_or(i32::MAX));
    image.height(i32::try_from(raster.height).unwrap_or(i32::MAX));
    if raster.components == 3 {
        image.color_space().device_rgb();
    } else {
        image.color_space().device_gray();
    }
    image.bits_per_component(8);
    image.finish();

    let (w, h) = placed_size(raster.width, raster.height);
    let x = (WIDTH_PT - w) / 2.0;
    let y = HEIGHT_PT - MARGIN - h;
    let mut content = Content::new();
    content.save_state();
    content.transform([w, 0.0, 0.0, h, x, y]);
    content.x_object(Name(b"Im1"));
    content.restore_state();
    pdf.stream(content_id, &deflate(&content.finish().into_vec()))
        .filter(Filter::FlateDecode);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, WIDTH_PT, HEIGHT_PT))
        .parent(tree_id)
        .contents(content_id);
    page.resources().x_objects().pair(Name(b"Im1"), image_id);
    page.finish();
    pdf.finish()
}

/// Size on the page in points: natural size at [`NATURAL_DPI`], shrunk to fit the margins.
fn placed_size(width: u32, height: u32) -> (f32, f32) {
    let natural_w = width as f32 * 72.0 / NATURAL_DPI;
    let natural_h = height as f32 * 72.0 / NATURAL_DPI;
    let fit = ((WIDTH_PT - 2.0 * MARGIN) / natural_w)
        .min((HEIGHT_PT - 2.0 * MARGIN) / natural_h)
        .min(1.0);
    (natural_w * fit, natural_h * fit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let img = image::GrayImage::from_fn(width, height, |x, _| image::Luma([(x % 256) as u8]));
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("encode");
        out
    }

    #[test]
    fn a_png_becomes_one_page() {
        let pdf = to_pdf(&png(300, 200), &Limits::default()).expect("pdf");
        assert_eq!(umsgate_fax::page_count(&pdf).expect("count"), 1);
    }

    #[test]
    fn a_large_image_is_shrunk_to_the_page_and_a_small_one_kept() {
        let (w, h) = placed_size(6000, 4000);
        assert!(w <= WIDTH_PT - 2.0 * MARGIN + 0.01 && h <= HEIGHT_PT);
        let (w, h) = placed_size(150, 75);
        assert!((w - 72.0).abs() < 0.01 && (h - 36.0).abs() < 0.01);
    }

    #[test]
    fn dimensions_over_the_limit_are_refused_before_decoding() {
        let limits = Limits {
            max_image_pixels: 100,
            ..Limits::default()
        };
        assert_eq!(
            to_pdf(&png(20, 20), &limits),
            Err(RenderErrorKind::ImageTooLarge {
                width: 20,
                height: 20
            })
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let mut data = png(10, 10);
        data.truncate(40);
        assert!(matches!(
            to_pdf(&data, &Limits::default()),
            Err(RenderErrorKind::Malformed(_))
        ));
        assert!(matches!(
            to_pdf(b"hello", &Limits::default()),
            Err(RenderErrorKind::Malformed(_))
        ));
    }
}

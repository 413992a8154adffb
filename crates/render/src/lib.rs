//! umsgate's fax renderer: turns what a user sent (body text, HTML, images, PDF, TIFF, Office
//! and OpenDocument files, forwarded mails already flattened by the caller) into **one**
//! fax-ready document: a PDF, or on request a TIFF class F (G4 or G3, 204×196 dpi) for
//! engines that want TIFF. Engines never render.
//!
//! Contract:
//! - Input is untrusted. Nothing here panics on it; every part ends in pages or in a
//!   [`RenderError`] that names the part (its display name and content type) and says
//!   whether trying again later can help ([`RenderError::is_temporary`]: a converter that is
//!   down or restarting) or not (a broken or unsupported document).
//! - Limits per document ([`Limits`]): pages, time, image dimensions (decompression bombs).
//!   External converters (LibreOffice, Chromium, Ghostscript) run without network, in a
//!   temporary folder of their own, killed at the time limit.
//! - Page counts come from the rendered document, so `fax.max_pages` counts real pages.
//!
//! | module | does |
//! |---|---|
//! | [`layout`] | plain text → pages of lines (fixed width, wrapping, page breaks) |
//! | `text_pdf` | laid-out pages → PDF with an embedded monospaced font |
//! | `image` | PNG, JPEG, GIF, BMP, WebP → one PDF page each, scaled to fit at fax resolution |
//! | `merge` | concatenates PDFs, counts pages |
//! | [`office`] | Office / OpenDocument → PDF through a resident (warm) LibreOffice |
//! | [`browser`] | HTML → PDF through headless Chromium |
//! | [`cover`] | cover-page templates an administrator edits (SVG with placeholders) → PDF |
//! | [`tiff`] | text pages straight to TIFF class F (G4 or G3); any PDF → TIFF through Ghostscript; TIFFs joined without re-coding |
#![forbid(unsafe_code)]

pub mod browser;
pub mod cover;
mod document;
mod error;
pub mod fonts;
mod image;
pub mod layout;
mod merge;
pub mod office;
mod text_pdf;
pub mod tiff;

use std::time::Duration;

pub use document::{Body, Content, Part, Renderer};
pub use error::{ConvertError, RenderError, RenderErrorKind};
pub use image::ImageKind;

/// Bounds on one rendered document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most pages one part (and the whole job) may become.
    pub max_pages: u32,
    /// Longest an external converter may take on one part.
    pub timeout: Duration,
    /// Most pixels (width × height) of one image attachment.
    pub max_image_pixels: u64,
    /// Longest side of one image attachment, in pixels.
    pub max_image_side: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pages: 200,
            timeout: Duration::from_secs(60),
            max_image_pixels: 50_000_000,
            max_image_side: 20_000,
        }
    }
}

/// The fax page: A4 at the fax resolution engines transmit (204 × 196 dpi, 1728 pixels wide).
pub mod page {
    /// A4 width in PDF points (1/72 inch).
    pub const WIDTH_PT: f32 = 595.276;
    /// A4 height in PDF points.
    pub const HEIGHT_PT: f32 = 841.89;
    /// Horizontal fax resolution (fine), dots per inch.
    pub const DPI_X: u32 = 204;
    /// Vertical fax resolution (fine), lines per inch.
    pub const DPI_Y: u32 = 196;
    /// Pixels in a fax scan line (ITU-T T.4, A4).
    pub const WIDTH_PX: u32 = 1728;
    /// Scan lines of an A4 page at 196 lpi.
    pub const HEIGHT_PX: u32 = 2292;
}

//! TIFF class F output for engines that want TIFF: text pages rasterised straight to G4 at
//! 204 × 196 dpi (no PostScript round trip), any PDF rasterised through Ghostscript, and
//! several such TIFFs joined into one.
//!
//! Contract: output is a multi-page TIFF class F (one IFD per page, 1728 pixels wide,
//! `XResolution` 204, `YResolution` 196 per inch, `FillOrder` 1, `PhotometricInterpretation`
//! 0, `Compression` 4 for G4 or 3 for G3 one-dimensional with fill bits) that `umsgate_fax`
//! and libtiff read back.
//!
//! | function | does |
//! |---|---|
//! | [`text_to_tiff`] | [`layout`](crate::layout) pages → TIFF, one page each, drawn like the PDF text pages ([`TextFrame`]) |
//! | [`pdf_to_tiff`] | any PDF → TIFF through Ghostscript, in its own folder, killed at the time limit |
//! | [`join`] | several TIFFs → one, strips copied as they are (no re-coding) |
//!
//! Implementation summary:
//! - `raster`: glyphs of the embedded DejaVu Sans Mono rasterised once (`ab_glyph`, separate
//!   x and y scales for the non-square fax pixels), ORed into packed page rows.
//! - `encode`: G4 with the `fax` crate's encoder, MH written here over the `fax` crate's code
//!   tables (it has no MH encoder).
//! - `write`: the TIFF itself (the `tiff` crate cannot write CCITT strips).
//! - `read`: the strips of an existing class F TIFF, for [`join`].
//! - `gs`: Ghostscript's `tiffg4`/`tiffg3` devices at `-r204x196 -g1728x2292`, HylaFAX's
//!   own settings.

mod encode;
mod gs;
mod raster;
mod read;
mod write;

use std::fmt;

pub use gs::pdf_to_tiff;
pub use raster::{TextFrame, TextRaster};

use crate::layout::Page;
use crate::page::{DPI_X, DPI_Y, HEIGHT_PX, WIDTH_PX};
use raster::STRIDE;
use write::{PageOut, Scheme};

/// The TIFF codings an engine may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TiffCoding {
    /// ITU-T T.6 (Group 4): the smallest, what HylaFAX stores.
    #[default]
    G4,
    /// ITU-T T.4 one-dimensional (Group 3, MH): for old engines.
    G3,
}

/// Why a TIFF could not be made or joined.
#[derive(Debug)]
#[non_exhaustive]
pub enum TiffError {
    /// Nothing to write: no pages, or no input to join.
    Empty,
    /// The embedded font could not be read (a broken build).
    Font,
    /// Input `input` (0-based) of [`join`] is not a fax TIFF.
    Unreadable {
        input: usize,
        source: umsgate_fax::Error,
    },
    /// Input `input` (0-based) of [`join`] has a page that is not class F (for example not
    /// CCITT coded).
    NotClassF { input: usize, reason: String },
    /// More than 65535 pages or 4 GiB: past what a TIFF can address.
    TooLarge,
}

impl fmt::Display for TiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TiffError::Empty => f.write_str("no pages to write"),
            TiffError::Font => f.write_str("the embedded text font cannot be read"),
            TiffError::Unreadable { input, .. } => {
                write!(f, "input {} is not a readable fax tiff", input + 1)
            }
            TiffError::NotClassF { input, reason } => {
                write!(f, "input {} is not a class F tiff: {reason}", input + 1)
            }
            TiffError::TooLarge => f.write_str("more pages or bytes than a tiff can hold"),
        }
    }
}

impl std::error::Error for TiffError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TiffError::Unreadable { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `XResolution` 204/1, `YResolution` 196/1, per inch.
fn fine(width: u32, height: u32, scheme: Scheme, strip: &[u8]) -> PageOut<'_> {
    PageOut {
        width,
        height,
        scheme,
        fill_order: 1,
        photometric: 0,
        x_res: (DPI_X, 1),
        y_res: (DPI_Y, 1),
        res_unit: 2,
        rows_per_strip: height,
        strips: vec![strip],
    }
}

/// Most threads one [`text_to_tiff`] call uses.
const MAX_THREADS: usize = 4;
/// Fewest pages worth a thread of their own.
const PAGES_PER_THREAD: usize = 4;

/// Draws text pages (from [`crate::layout::paginate`]) and codes them as one TIFF class F.
/// Long documents are drawn by up to [`MAX_THREADS`] threads, [`PAGES_PER_THREAD`] pages or
/// more each; the result does not depend on how many.
pub fn text_to_tiff(pages: &[Page], coding: TiffCoding) -> Result<Vec<u8>, TiffError> {
    if pages.is_empty() {
        return Err(TiffError::Empty);
    }
    if pages.len() > usize::from(u16::MAX) {
        return Err(TiffError::TooLarge);
    }
    // Pages are independent: a few threads draw and code consecutive runs of them.
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_THREADS)
        .min(pages.len().div_ceil(PAGES_PER_THREAD));
    let chunk = pages.len().div_ceil(threads);
    let code = |pages: &[Page]| -> Result<Vec<Vec<u8>>, TiffError> {
        let mut raster = TextRaster::new().ok_or(TiffError::Font)?;
        Ok(pages
            .iter()
            .map(|page| {
                let bits = raster.page(page);
                match coding {
                    TiffCoding::G4 => encode::g4(&bits, WIDTH_PX, STRIDE),
                    TiffCoding::G3 => encode::mh(&bits, WIDTH_PX, STRIDE),
                }
            })
            .collect())
    };
    let strips: Vec<Vec<u8>> = if threads <= 1 {
        code(pages)?
    } else {
        let parts: Vec<Result<Vec<Vec<u8>>, TiffError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = pages
                .chunks(chunk)
                .map(|part| scope.spawn(move || code(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(Err(TiffError::Font)))
                .collect()
        });
        let mut strips = Vec::with_capacity(pages.len());
        for part in parts {
            strips.extend(part?);
        }
        strips
    };
    let scheme = match coding {
        TiffCoding::G4 => Scheme::G4 { t6_options: 0 },
        TiffCoding::G3 => Scheme::G3 { t4_options: 4 },
    };
    let out: Vec<PageOut<'_>> = strips
        .iter()
        .map(|s| fine(WIDTH_PX, HEIGHT_PX, scheme, s))
        .collect();
    Ok(write::write(&out)?)
}

/// Joins fax TIFFs (text pages, Ghostscript pages, received faxes) into one multi-page TIFF,
/// pages in input order, every strip copied unchanged. Each input is checked with
/// `umsgate_fax` first; pages must be G3 or G4 coded.
pub fn join(tiffs: &[&[u8]]) -> Result<Vec<u8>, TiffError> {
    let limits = umsgate_fax::Limits::default();
    let mut pages = Vec::new();
    for (input, tiff) in tiffs.iter().enumerate() {
        let checked = umsgate_fax::tiff_pages(tiff, &limits)
            .map_err(|source| TiffError::Unreadable { input, source })?;
        let read = read::pages(tiff, limits.max_pages as usize)
            .map_err(|read::Bad(reason)| TiffError::NotClassF { input, reason })?;
        if read.len() != checked.len() {
            return Err(TiffError::NotClassF {
                input,
                reason: format!(
                    "{} pages where the fax reader sees {}",
                    read.len(),
                    checked.len()
                ),
            });
        }
        pages.extend(read);
    }
    if pages.is_empty() {
        return Err(TiffError::Empty);
    }
    if pages.len() > usize::from(u16::MAX) {
        return Err(TiffError::TooLarge);
    }
    Ok(write::write(&pages)?)
}

#[cfg(test)]
mod tests;

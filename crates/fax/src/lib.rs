//! Fax documents for umsgate: TIFF (G3 1-D, G3 2-D, G4) to PDF without re-encoding, page
//! counts of TIFF and PDF files, and PNG previews.
//!
//! Contract: every function takes untrusted bytes and a [`Limits`] value, never panics on
//! them, and returns either its result or an [`Error`] whose [`ErrorKind`] says what was
//! wrong. Nothing here does I/O; callers read the files and, on a server, run the
//! conversion on a blocking thread (its cost is linear in the input and bounded by `Limits`).
//!
//! | Function | Does |
//! |---|---|
//! | [`tiff_to_pdf`] | concatenates the pages of one or more fax TIFFs into one PDF, CCITT data passed through |
//! | [`page_count`] / [`page_count_with`] | pages of a PDF or TIFF (detected by magic bytes) |
//! | [`tiff_pages`] | per-page facts of a TIFF (size, coding, resolution, strips) |
//! | [`decode_page`] | one TIFF page as a 1-bit [`Bitmap`] |
//! | [`first_page_png`] | the first page as a 1-bit PNG |
//! | [`previews`] | the first pages scaled down (about 100 dpi, grey levels) for a mail, and the page count |
//!
//! ```
//! # fn main() -> Result<(), umsgate_fax::Error> {
//! let tiff = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/samples/fax_3p_g4.tif"))
//!     .expect("sample");
//! let limits = umsgate_fax::Limits::default();
//! let pdf = umsgate_fax::tiff_to_pdf(&[&tiff], &limits)?;
//! assert_eq!(umsgate_fax::page_count(&pdf)?, 3);
//! assert_eq!(umsgate_fax::page_count(&tiff)?, 3);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod ccitt;
mod count;
mod error;
mod limits;
mod pdf;
mod preview;
mod raster;
mod tiff;

pub use error::{Error, ErrorKind};
pub use limits::Limits;
pub use preview::{PREVIEW_DPI, Preview};
pub use raster::Bitmap;
pub use tiff::{Coding, FillOrder, Photometric, Resolution, ResolutionUnit};

/// The kinds of document [`page_count`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// A TIFF file (`II*\0` or `MM\0*`).
    Tiff,
    /// A PDF file (`%PDF-` within the first 1024 bytes).
    Pdf,
}

/// Detects the document kind from its first bytes.
pub fn detect(bytes: &[u8]) -> Option<DocumentKind> {
    if tiff::is_tiff(bytes) {
        Some(DocumentKind::Tiff)
    } else if count::is_pdf(bytes) {
        Some(DocumentKind::Pdf)
    } else {
        None
    }
}

/// Facts about one page of a fax TIFF.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PageInfo {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// How the strips are coded.
    pub coding: Coding,
    /// Bit order of the strips.
    pub fill_order: FillOrder,
    /// Which pixel value is white.
    pub photometric: Photometric,
    /// Resolution as declared.
    pub resolution: Resolution,
    /// Number of strips.
    pub strips: u32,
    /// Rows in each strip but the last.
    pub rows_per_strip: u32,
    /// Compressed size of all strips, in bytes.
    pub bytes: u64,
}

impl PageInfo {
    /// Resolution used for the page size, in dots per inch (see [`Resolution::dpi`]).
    pub fn dpi(&self) -> (f64, f64) {
        self.resolution.dpi(self.width, self.height)
    }

    /// Page size in PDF points (1/72 inch), as [`tiff_to_pdf`] writes it.
    pub fn size_points(&self) -> (f64, f64) {
        let (x, y) = self.dpi();
        (
            f64::from(self.width) / x * 72.0,
            f64::from(self.height) / y * 72.0,
        )
    }
}

/// Converts one or more fax TIFFs into one PDF, pages in input order.
///
/// CCITT G3 (1-D and 2-D) and G4 strips are embedded unchanged (bit-reversed for
/// FillOrder=2); only uncompressed or CCITT RLE pages are decoded and re-encoded as G4.
/// `limits.max_pages` and `limits.max_total_bytes` apply to all inputs together.
pub fn tiff_to_pdf(inputs: &[&[u8]], limits: &Limits) -> Result<Vec<u8>, Error> {
    if inputs.is_empty() {
        return Err(Error::new(ErrorKind::InvalidArgument, "no input"));
    }
    let mut pages = Vec::new();
    let mut bytes = 0usize;
    for (i, input) in inputs.iter().enumerate() {
        let ctx = |e: Error| {
            if inputs.len() > 1 {
                e.context(format!("input {}", i + 1))
            } else {
                e
            }
        };
        let doc = tiff::read(input, limits, pages.len() as u32).map_err(ctx)?;
        bytes = bytes.saturating_add(input.len());
        if bytes > limits.max_total_bytes {
            return Err(ctx(Error::limit(
                "total input size",
                bytes as u64,
                limits.max_total_bytes as u64,
            )));
        }
        pages.extend(doc.pages);
    }
    pdf::write(&pages, limits)
}

/// Facts about every page of a fax TIFF.
pub fn tiff_pages(tiff: &[u8], limits: &Limits) -> Result<Vec<PageInfo>, Error> {
    let doc = tiff::read(tiff, limits, 0)?;
    Ok(doc
        .pages
        .iter()
        .map(|p| PageInfo {
            width: p.width,
            height: p.height,
            coding: p.coding,
            fill_order: p.fill_order,
            photometric: p.photometric,
            resolution: p.resolution,
            strips: p.strips.len() as u32,
            rows_per_strip: p.rows_per_strip,
            bytes: p.strips.iter().map(|s| s.len() as u64).sum(),
        })
        .collect())
}

/// Number of pages of a PDF or TIFF file (detected by its magic bytes), with default limits.
pub fn page_count(bytes: &[u8]) -> Result<u32, Error> {
    page_count_with(bytes, &Limits::default())
}

/// Number of pages of a PDF or TIFF file, with the given limits. A TIFF is fully checked
/// (every page must be one [`tiff_to_pdf`] accepts), so the count is the number of pages a
/// conversion would produce.
pub fn page_count_with(bytes: &[u8], limits: &Limits) -> Result<u32, Error> {
    match detect(bytes) {
        Some(DocumentKind::Tiff) => Ok(tiff::read(bytes, limits, 0)?.pages.len() as u32),
        Some(DocumentKind::Pdf) => count::pdf_pages(bytes, limits),
        None => Err(Error::new(ErrorKind::UnknownFormat, "neither tiff nor pdf")),
    }
}

/// Decodes page `index` (0-based) of a fax TIFF into a bitmap, 1 = black as displayed.
pub fn decode_page(tiff: &[u8], index: u32, limits: &Limits) -> Result<Bitmap, Error> {
    let doc = tiff::read(tiff, limits, 0)?;
    let page = doc.pages.get(index as usize).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("no page {index}, the file has {}", doc.pages.len()),
        )
    })?;
    raster::decode_page(page, limits).map_err(|e| e.context(format!("page {}", index + 1)))
}

/// The first page of a fax TIFF as a 1-bit grayscale PNG (see the `preview` module docs for
/// how "normal" resolution pages are stretched to square pixels).
pub fn first_page_png(tiff: &[u8], limits: &Limits) -> Result<Vec<u8>, Error> {
    let doc = tiff::read(tiff, limits, 0)?;
    let page = doc
        .pages
        .first()
        .ok_or_else(|| Error::malformed("no page"))?;
    let bitmap = raster::decode_page(page, limits).map_err(|e| e.context("page 1"))?;
    preview::png_from_bitmap(
        &bitmap,
        page.resolution.dpi(page.width, page.height),
        limits,
    )
}

/// Previews of a fax TIFF for a mail: its first `max_pages` pages scaled down to about
/// [`PREVIEW_DPI`] with grey levels (see the `preview` module docs), and its page count.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Previews {
    /// The first pages, in order (at most `max_pages`).
    pub pages: Vec<Preview>,
    /// Pages of the whole file.
    pub total_pages: u32,
}

/// The first `max_pages` pages of a fax TIFF scaled down for a mail, and how many pages it
/// has. Fails if the file cannot be read or one of those pages cannot be decoded (a G3 2-D
/// page the decoder rejects, for example): the caller sends the fax without a preview.
pub fn previews(tiff: &[u8], max_pages: u32, limits: &Limits) -> Result<Previews, Error> {
    let doc = tiff::read(tiff, limits, 0)?;
    let mut pages = Vec::new();
    for (i, page) in doc.pages.iter().take(max_pages as usize).enumerate() {
        let bitmap =
            raster::decode_page(page, limits).map_err(|e| e.context(format!("page {}", i + 1)))?;
        pages.push(preview::scaled_png(
            &bitmap,
            page.resolution.dpi(page.width, page.height),
            limits,
        )?);
    }
    Ok(Previews {
        pages,
        total_pages: doc.pages.len() as u32,
    })
}

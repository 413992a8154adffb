//! Resource limits applied while reading untrusted fax documents.
//!
//! Contract: every size or count taken from a file is checked against a [`Limits`] value
//! *before* memory is allocated or work is done for it, so the memory and time used by any
//! function of this crate is bounded by the limits (roughly linear in `max_input_bytes` plus,
//! for decoding, `max_pixels`), whatever the input declares.

/// Bounds on what a fax document may declare. Build it with [`Limits::default`] and adjust
/// the fields; the defaults are generous for faxes (A3 superfine, long multi-page jobs).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest accepted input file, in bytes (each input of [`crate::tiff_to_pdf`]).
    pub max_input_bytes: usize,
    /// Most pages in one conversion or count (summed over all inputs).
    pub max_pages: u32,
    /// Widest accepted page, in pixels.
    pub max_width: u32,
    /// Tallest accepted page, in pixels.
    pub max_height: u32,
    /// Most strips on one page.
    pub max_strips_per_page: u32,
    /// Largest single strip, in bytes.
    pub max_strip_bytes: usize,
    /// Most strip bytes in one conversion (summed over all pages and inputs); bounds the PDF size.
    pub max_total_bytes: usize,
    /// Most entries in one TIFF IFD.
    pub max_ifd_entries: u16,
    /// Most pixels of a page that is decoded (preview, re-encoding).
    pub max_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 256 << 20,
            max_pages: 2_000,
            max_width: 10_000,
            max_height: 65_000,
            max_strips_per_page: 65_000,
            max_strip_bytes: 64 << 20,
            max_total_bytes: 512 << 20,
            max_ifd_entries: 1_000,
            max_pixels: 200_000_000,
        }
    }
}

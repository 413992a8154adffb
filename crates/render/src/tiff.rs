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

//! Fuzz target for the fax TIFF reader and everything behind it: page counting, PDF
//! conversion (passthrough and re-encoding), page decoding and the PNG preview.
//!
//! Contract: for any input, no entry point may panic, and memory stays within the (reduced)
//! limits below. Run with `cargo +nightly fuzz run tiff_reader` from this directory; seed the
//! corpus with `testdata/samples/*.tif`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use umsgate_fax::{Limits, decode_page, first_page_png, page_count_with, tiff_pages, tiff_to_pdf};

fuzz_target!(|data: &[u8]| {
    let mut limits = Limits::default();
    limits.max_pixels = 4_000_000;
    limits.max_pages = 64;
    if let Ok(n) = page_count_with(data, &limits) {
        let pages = tiff_pages(data, &limits).map(|p| p.len()).unwrap_or(0);
        assert!(pages == 0 || pages as u32 == n, "page count disagrees with tiff_pages");
    }
    let _ = tiff_to_pdf(&[data], &limits);
    let _ = first_page_png(data, &limits);
    let _ = decode_page(data, 1, &limits);
});

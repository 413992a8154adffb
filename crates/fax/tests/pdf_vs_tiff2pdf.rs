//! The PDF of every sample fax, checked with poppler and against libtiff's `tiff2pdf`:
//! page count and size (`pdfinfo`), CCITT passthrough (`pdfimages -list`, and the image
//! streams equal the TIFF strips), and renderings (`pdftoppm`) that match `tiff2pdf`'s for the
//! same TIFF (at most 0.1 % of pixels differ). Variants made with libtiff tools cover
//! multi-strip pages, min-is-black, uncompressed input and several inputs in one PDF.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{
    Scratch, diff_fraction, image_encodings, pdfinfo, read_sample, render, run, s, sample,
};
use umsgate_fax::{Limits, page_count, tiff_pages, tiff_to_pdf};

const RENDER_DPI: u32 = 100;
const MAX_DIFF: f64 = 0.001;

/// Converts `tif` with umsgate and with tiff2pdf, and compares the results.
fn check(tif: &Path, pages: u32, dir: &Scratch) -> Vec<u8> {
    let bytes = std::fs::read(tif).unwrap();
    let ours = dir.path("ours.pdf");
    let pdf = tiff_to_pdf(&[&bytes], &Limits::default()).unwrap();
    std::fs::write(&ours, &pdf).unwrap();
    let reference = dir.path("tiff2pdf.pdf");
    run("tiff2pdf", &["-o", s(&reference), s(tif)]);

    let (n, size) = pdfinfo(&ours);
    assert_eq!(n, pages, "{}: page count", tif.display());
    let (ref_n, ref_size) = pdfinfo(&reference);
    assert_eq!(ref_n, pages, "tiff2pdf page count");
    assert_eq!(
        size,
        ref_size,
        "{}: page size differs from tiff2pdf's",
        tif.display()
    );
    assert_eq!(page_count(&pdf).unwrap(), pages);
    assert_eq!(
        page_count(&std::fs::read(&reference).unwrap()).unwrap(),
        pages,
        "count of tiff2pdf's pdf"
    );
    assert_eq!(page_count(&bytes).unwrap(), pages, "count of the tiff");

    let enc = image_encodings(&ours);
    assert_eq!(enc.len(), pages as usize, "one image per page");
    assert!(
        enc.iter().all(|e| e == "ccitt"),
        "{}: images are not all ccitt: {enc:?}",
        tif.display()
    );

    let a = render(&ours, dir, "ours", RENDER_DPI);
    let b = render(&reference, dir, "ref", RENDER_DPI);
    assert_eq!(a.len(), pages as usize);
    assert_eq!(b.len(), pages as usize);
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        let d = diff_fraction(x, y);
        assert!(
            d <= MAX_DIFF,
            "{} page {}: {:.4} % of pixels differ from tiff2pdf",
            tif.display(),
            i + 1,
            d * 100.0
        );
        // A blank rendering would trivially match a blank one: make sure there is ink.
        assert!(
            x.pixels.iter().filter(|&&p| p < 128).count() > 1000,
            "page {} is blank",
            i + 1
        );
    }
    pdf
}

/// The image streams of a PDF in page order, read with lopdf.
fn image_streams(pdf: &[u8]) -> Vec<Vec<u8>> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let mut out = Vec::new();
    for (_, page_id) in doc.get_pages() {
        for (_, obj) in doc
            .get_page_resources(page_id)
            .unwrap()
            .0
            .unwrap()
            .get(b"XObject")
            .unwrap()
            .as_dict()
            .unwrap()
        {
            let stream = doc
                .get_object(obj.as_reference().unwrap())
                .unwrap()
                .as_stream()
                .unwrap();
            out.push(stream.content.clone());
        }
    }
    out
}

fn sample_test(name: &str, pages: u32) {
    let dir = Scratch::new(name);
    let pdf = check(&sample(name), pages, &dir);
    assert_eq!(
        pdfinfo(&dir.path("ours.pdf")).1,
        "609.882 x 841.959 pts",
        "A4 at 204 x 196 dpi"
    );
    // Passthrough: each image stream is the page's strip (bit-reversed for FillOrder=2).
    let tif = read_sample(name);
    let infos = tiff_pages(&tif, &Limits::default()).unwrap();
    let streams = image_streams(&pdf);
    assert_eq!(streams.len(), infos.len());
    for (stream, info) in streams.iter().zip(&infos) {
        assert_eq!(
            stream.len() as u64,
            info.bytes,
            "{name}: image stream is not the strip"
        );
    }
    // Byte-exact check of the first page against the file: find the strip in the TIFF.
    let first = &streams[0];
    let needle: Vec<u8> = match infos[0].fill_order {
        umsgate_fax::FillOrder::MsbFirst => first.clone(),
        _ => first.iter().map(|b| b.reverse_bits()).collect(),
    };
    assert!(
        tif.windows(needle.len()).any(|w| w == needle.as_slice()),
        "{name}: strip bytes changed"
    );
}

#[test]
fn g3_1d_one_page() {
    sample_test("fax_1p_g3_1d", 1);
}

#[test]
fn g3_2d_lsb_three_pages() {
    sample_test("fax_3p_g3_2d", 3);
}

#[test]
fn g4_three_pages() {
    sample_test("fax_3p_g4", 3);
}

#[test]
fn g4_twenty_pages() {
    sample_test("fax_20p_g4_perf", 20);
}

#[test]
fn multi_strip_pages() {
    for (name, pages) in [("fax_3p_g3_2d", 3), ("fax_3p_g4", 3), ("fax_1p_g3_1d", 1)] {
        let dir = Scratch::new("strips");
        let tif = dir.path("strips.tif");
        run("tiffcp", &["-r", "500", s(&sample(name)), s(&tif)]);
        let info = tiff_pages(&std::fs::read(&tif).unwrap(), &Limits::default()).unwrap();
        assert_eq!(info[0].strips, 5, "tiffcp made 5 strips per page");
        check(&tif, pages, &dir);
    }
}

#[test]
fn min_is_black_page() {
    for name in ["fax_3p_g4", "fax_1p_g3_1d"] {
        let dir = Scratch::new("minisblack");
        let tif = dir.path("black.tif");
        std::fs::copy(sample(name), &tif).unwrap();
        // PhotometricInterpretation = min-is-black on the first page: an inverted image.
        run("tiffset", &["-d", "0", "-s", "262", "1", s(&tif)]);
        let pages = if name == "fax_3p_g4" { 3 } else { 1 };
        check(&tif, pages, &dir);
    }
}

#[test]
fn uncompressed_input_is_reencoded_as_g4() {
    let dir = Scratch::new("none");
    let tif = dir.path("none.tif");
    run(
        "tiffcp",
        &["-c", "none", s(&sample("fax_3p_g3_2d")), s(&tif)],
    );
    let pdf = check(&tif, 3, &dir);
    // G4 output is far smaller than the raw bitmap.
    assert!(pdf.len() < 200_000, "re-encoded pdf is {} bytes", pdf.len());
}

#[test]
fn several_inputs_make_one_pdf() {
    let dir = Scratch::new("concat");
    let a = read_sample("fax_1p_g3_1d");
    let b = read_sample("fax_3p_g4");
    let pdf = tiff_to_pdf(&[&a, &b], &Limits::default()).unwrap();
    let out = dir.path("both.pdf");
    std::fs::write(&out, &pdf).unwrap();
    assert_eq!(pdfinfo(&out).0, 4);
    assert_eq!(image_encodings(&out), vec!["ccitt"; 4]);
    // The page limit applies to all inputs together.
    let mut limits = Limits::default();
    limits.max_pages = 3;
    let err = tiff_to_pdf(&[&a, &b], &limits).unwrap_err();
    assert!(err.is_limit(), "{err}");
    assert!(tiff_to_pdf(&[], &Limits::default()).is_err());
}

#[test]
fn output_is_deterministic_and_not_larger_than_tiff2pdf_for_g4() {
    for name in ["fax_3p_g4", "fax_20p_g4_perf"] {
        let dir = Scratch::new("size");
        let tif = read_sample(name);
        let a = tiff_to_pdf(&[&tif], &Limits::default()).unwrap();
        let b = tiff_to_pdf(&[&tif], &Limits::default()).unwrap();
        assert_eq!(a, b);
        let reference = dir.path("ref.pdf");
        run("tiff2pdf", &["-o", s(&reference), s(&sample(name))]);
        let ref_len = std::fs::metadata(&reference).unwrap().len();
        assert!(
            a.len() as u64 <= ref_len,
            "{name}: {} bytes, tiff2pdf {ref_len}",
            a.len()
        );
    }
}

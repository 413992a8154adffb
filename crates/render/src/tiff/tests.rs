#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use umsgate_fax::{Coding, FillOrder, Limits, Photometric};

use super::*;
use crate::layout::{Geometry, paginate};

fn page(lines: &[&str]) -> Page {
    Page {
        lines: lines.iter().map(|l| (*l).to_owned()).collect(),
    }
}

#[test]
fn text_pages_read_back_as_class_f_in_both_codings() {
    let pages = vec![page(&["Hello, fax"]), page(&["page two"]), page(&[])];
    for (coding, want) in [
        (
            TiffCoding::G4,
            Coding::Group4 {
                uncompressed_mode: false,
            },
        ),
        (
            TiffCoding::G3,
            Coding::Group3 {
                two_d: false,
                uncompressed_mode: false,
                fill_bits: true,
            },
        ),
    ] {
        let tiff = text_to_tiff(&pages, coding).unwrap();
        let info = umsgate_fax::tiff_pages(&tiff, &Limits::default()).unwrap();
        assert_eq!(info.len(), 3, "{coding:?}");
        for p in &info {
            assert_eq!((p.width, p.height), (1728, 2292));
            assert_eq!(p.coding, want);
            assert_eq!(p.fill_order, FillOrder::MsbFirst);
            assert_eq!(p.photometric, Photometric::MinIsWhite);
            assert_eq!(p.dpi(), (204.0, 196.0));
            let (w, h) = p.size_points();
            assert!((h - 842.0).abs() < 1.0, "A4 height, got {h}");
            assert!((w - 610.0).abs() < 1.0, "a 1728-pixel fax line, got {w}");
        }
    }
}

#[test]
fn the_decoded_page_is_the_rasterised_page_bit_for_bit() {
    let p = page(&[
        "The quick brown fox jumps over the lazy dog. 0123456789 {}[]()<>&\"'",
        "",
        "Grüße aus München — € 12,50 · naïve façade",
        "                                                                              ZZ",
    ]);
    let mut raster = TextRaster::new().unwrap();
    let drawn = raster.page(&p);
    assert!(drawn.iter().any(|b| *b != 0));
    for coding in [TiffCoding::G4, TiffCoding::G3] {
        let tiff = text_to_tiff(std::slice::from_ref(&p), coding).unwrap();
        let decoded = umsgate_fax::decode_page(&tiff, 0, &Limits::default()).unwrap();
        assert_eq!(decoded.stride(), STRIDE);
        assert!(decoded.as_bytes() == drawn.as_slice(), "{coding:?}");
    }
}

/// The bounding box of the black pixels of a drawn page.
fn ink(bits: &[u8]) -> Option<(usize, usize, usize, usize)> {
    let mut bbox: Option<(usize, usize, usize, usize)> = None;
    for (y, row) in bits.chunks_exact(STRIDE).enumerate() {
        for x in 0..WIDTH_PX as usize {
            if row[x / 8] & (0x80 >> (x % 8)) != 0 {
                let b = bbox.get_or_insert((x, y, x, y));
                *b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
            }
        }
    }
    bbox
}

#[test]
fn glyphs_sit_in_their_cell_where_layout_puts_them() {
    let mut raster = TextRaster::new().unwrap();
    let frame = TextFrame::A4;
    let px_x = |pt: f32| pt * 204.0 / 72.0;
    let px_y = |pt: f32| pt * 196.0 / 72.0;
    for (line, col) in [(0usize, 0usize), (0, 79), (59, 0), (59, 79), (30, 40)] {
        let mut lines = vec![String::new(); line + 1];
        lines[line] = format!("{}H", " ".repeat(col));
        let (x0, y0, x1, y1) = ink(&raster.page(&Page { lines })).unwrap();
        // The A4 page is centred on the 1728-pixel line; a cell is 6.02 pt wide.
        let left = (1728.0 - px_x(595.276)) / 2.0 + px_x(frame.left + 6.02 * col as f32);
        assert!((x0 as f32) >= left - 1.0 && (x1 as f32) <= left + px_x(6.02) + 1.0);
        // Capital H: from the baseline up to the cap height (0.73 em), nothing below it.
        let base = px_y(frame.baseline(line));
        assert!(
            (y1 as f32 - base).abs() <= 1.5,
            "line {line}: {y1} vs {base}"
        );
        assert!(
            (base - y0 as f32 - px_y(7.3)).abs() <= 2.0,
            "line {line}: top {y0}"
        );
    }
    // The last cell of the last line stays inside the 2 cm margins.
    let bottom = px_y(841.89 - 56.693);
    assert!(px_y(frame.baseline(59)) < bottom);
    assert!(raster.column_x(80) as f32 <= (1728.0 + px_x(595.276)) / 2.0 - px_x(56.0));
}

#[test]
fn join_copies_every_page_in_order() {
    let a = text_to_tiff(&[page(&["one"]), page(&["two"])], TiffCoding::G4).unwrap();
    let b = text_to_tiff(&[page(&["three"])], TiffCoding::G3).unwrap();
    let joined = join(&[&a, &b]).unwrap();
    let info = umsgate_fax::tiff_pages(&joined, &Limits::default()).unwrap();
    assert_eq!(info.len(), 3);
    assert!(matches!(info[2].coding, Coding::Group3 { .. }));
    let l = Limits::default();
    for (doc, i, j) in [(&a, 0, 0), (&a, 1, 1), (&b, 0, 2)] {
        assert_eq!(
            umsgate_fax::decode_page(doc, i, &l).unwrap(),
            umsgate_fax::decode_page(&joined, j, &l).unwrap()
        );
    }
    // A joined file joins again.
    let again = join(&[&joined, &b]).unwrap();
    assert_eq!(umsgate_fax::page_count(&again).unwrap(), 4);
}

#[test]
fn join_names_the_input_that_is_not_a_fax_tiff() {
    let a = text_to_tiff(&[page(&["one"])], TiffCoding::G4).unwrap();
    let broken = &a[..a.len() / 2];
    match join(&[&a, broken]) {
        Err(TiffError::Unreadable { input: 1, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(join(&[]), Err(TiffError::Empty)));
    assert!(matches!(
        text_to_tiff(&[], TiffCoding::G4),
        Err(TiffError::Empty)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn any_text_gives_a_valid_tiff_with_one_page_per_layout_page(
        text in "([a-zA-Z0-9äöü€ .,;:!?<>&\\t]{0,120}\n){0,150}(\x0c)?[a-z ]{0,20}",
        g3 in any::<bool>(),
    ) {
        let pages = paginate(&text, Geometry::default());
        let coding = if g3 { TiffCoding::G3 } else { TiffCoding::G4 };
        let tiff = text_to_tiff(&pages, coding).unwrap();
        let info = umsgate_fax::tiff_pages(&tiff, &Limits::default()).unwrap();
        prop_assert_eq!(info.len(), pages.len());
        let last = pages.len() as u32 - 1;
        let mut raster = TextRaster::new().unwrap();
        let decoded = umsgate_fax::decode_page(&tiff, last, &Limits::default()).unwrap();
        prop_assert!(decoded.as_bytes() == raster.page(&pages[last as usize]).as_slice());
    }
}

#[test]
fn long_documents_drawn_by_several_threads_keep_their_page_order() {
    let text: String = (0..30 * 60)
        .map(|i| format!("line {i} of page {}\n", i / 60 + 1))
        .collect();
    let pages = paginate(&text, Geometry::default());
    assert_eq!(pages.len(), 30);
    let tiff = text_to_tiff(&pages, TiffCoding::G4).unwrap();
    let mut raster = TextRaster::new().unwrap();
    for (i, page) in pages.iter().enumerate() {
        let decoded = umsgate_fax::decode_page(&tiff, i as u32, &Limits::default()).unwrap();
        assert!(
            decoded.as_bytes() == raster.page(page).as_slice(),
            "page {i}"
        );
    }
}

/// The text pages' two outputs agree: the PDF text page (`text_pdf`) rasterised by
/// Ghostscript puts the ink where `text_to_tiff` draws it. Needs `ghostscript`.
#[tokio::test]
async fn text_pages_sit_where_the_pdf_text_pages_do() {
    let lines: Vec<String> = (0..60)
        .map(|i| match i {
            0 => "X".repeat(80),
            59 => format!("{:>80}", "last line"),
            _ if i % 7 == 0 => format!("line {i}: the quick brown fox"),
            _ => String::new(),
        })
        .collect();
    let page = Page { lines };
    let pdf = crate::text_pdf::write(std::slice::from_ref(&page)).unwrap();
    let work = std::env::temp_dir().join(format!("umsgate-tiff-geometry-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let gs = pdf_to_tiff(&pdf, TiffCoding::G4, &crate::Limits::default(), &work).await;
    let _ = std::fs::remove_dir_all(&work);
    let gs = gs.unwrap_or_else(|e| panic!("{e} (apt-get install ghostscript)"));
    let theirs = umsgate_fax::decode_page(&gs, 0, &Limits::default()).unwrap();
    let ours = TextRaster::new().unwrap().page(&page);
    let (a, b) = (ink(theirs.as_bytes()).unwrap(), ink(&ours).unwrap());
    for (x, y) in [(a.0, b.0), (a.1, b.1), (a.2, b.2), (a.3, b.3)] {
        assert!(x.abs_diff(y) <= 3, "ghostscript {a:?}, text_to_tiff {b:?}");
    }
}

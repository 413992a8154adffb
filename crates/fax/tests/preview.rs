//! Previews for mail: the first pages of a fax scaled to about 100 dpi with grey levels.
//! Every output pixel is checked against the decoded page (the share of black in its box),
//! so the scaling cannot drift; sizes stay within what a mail can carry.
#![allow(clippy::unwrap_used)]

mod common;

use common::read_sample;
use umsgate_fax::{ErrorKind, Limits, decode_page, previews};

/// The pixels of a 4-bit grayscale PNG, one value (0..=15) per pixel, and its `pHYs`.
fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>, (u32, u32)) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert_eq!(info.bit_depth, png::BitDepth::Four);
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let phys = info.pixel_dims.unwrap();
    let (w, h) = (info.width, info.height);
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    let mut px = Vec::with_capacity((w * h) as usize);
    for y in 0..h as usize {
        let row = &buf[y * frame.line_size..(y + 1) * frame.line_size];
        for x in 0..w as usize {
            let b = row[x / 2];
            px.push(if x % 2 == 0 { b >> 4 } else { b & 0x0f });
        }
    }
    (w, h, px, (phys.xppu, phys.yppu))
}

#[test]
fn a_fine_page_becomes_a_box_filtered_half_size_grey_image() {
    let limits = Limits::default();
    for name in ["fax_3p_g4", "fax_3p_g3_2d", "fax_1p_g3_1d"] {
        let tif = read_sample(name);
        let p = previews(&tif, 2, &limits).unwrap();
        let expected_pages = if name == "fax_1p_g3_1d" { 1 } else { 3 };
        assert_eq!(p.total_pages, expected_pages, "{name}");
        assert_eq!(p.pages.len(), expected_pages.min(2) as usize, "{name}");
        for (i, preview) in p.pages.iter().enumerate() {
            let (w, h, px, phys) = decode(&preview.png);
            // 1728 x 2292 at 204 x 196 dpi: 2 x 2 boxes, 102 x 98 dpi.
            assert_eq!((w, h), (864, 1146), "{name}");
            assert_eq!((preview.width, preview.height), (w, h));
            assert_eq!(
                phys,
                (4016, 3858),
                "{name}: 102 x 98 dpi in pixels per metre"
            );
            let page = decode_page(&tif, i as u32, &limits).unwrap();
            let mut greys = 0;
            for y in 0..h {
                for x in 0..w {
                    let black = [(0, 0), (1, 0), (0, 1), (1, 1)]
                        .iter()
                        .filter(|(dx, dy)| page.is_black(2 * x + dx, 2 * y + dy))
                        .count() as u32;
                    let want = (15 - (15 * black + 2) / 4) as u8;
                    let got = px[(y * w + x) as usize];
                    assert_eq!(got, want, "{name} page {} pixel {x},{y}", i + 1);
                    greys += u32::from(got != 0 && got != 15);
                }
            }
            assert!(greys > 1000, "{name}: edges are grey, {greys} grey pixels");
            // A mail carries up to three of these.
            assert!(
                preview.png.len() < 120_000,
                "{name} page {}: {} bytes",
                i + 1,
                preview.png.len()
            );
        }
    }
}

#[test]
fn asking_for_more_pages_than_the_fax_has_gives_them_all() {
    let tif = read_sample("fax_3p_g4");
    let p = previews(&tif, 10, &Limits::default()).unwrap();
    assert_eq!((p.pages.len(), p.total_pages), (3, 3));
    let none = previews(&tif, 0, &Limits::default()).unwrap();
    assert_eq!((none.pages.len(), none.total_pages), (0, 3));
}

#[test]
fn broken_input_and_limits_are_errors() {
    let tif = read_sample("fax_3p_g4");
    for cut in [0, 8, 200, tif.len() / 2] {
        assert!(
            previews(&tif[..cut], 3, &Limits::default()).is_err(),
            "cut at {cut}"
        );
    }
    let mut limits = Limits::default();
    limits.max_pixels = 100_000;
    let e = previews(&tif, 1, &limits).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitExceeded);
}

//! Sizes and time of the mail previews against the alternatives, for the samples:
//! `cargo run --release -p umsgate-fax --example preview_sizes`.
//!
//! Prints, per page, the bytes of the 1-bit full-size PNG (`first_page_png`'s format), of a
//! 1-bit PNG halved by keeping every other pixel, and of the 4-bit box-filtered preview
//! (`previews`), and the time `previews` takes for the first three pages.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use umsgate_fax::{Limits, decode_page, first_page_png, previews};

fn halved_one_bit(tif: &[u8], page: u32) -> usize {
    let b = decode_page(tif, page, &Limits::default()).unwrap();
    let (w, h) = (b.width().div_ceil(2), b.height().div_ceil(2));
    let stride = (w as usize).div_ceil(8);
    let mut data = vec![0u8; stride * h as usize];
    for y in 0..h {
        for x in 0..w {
            if !b.is_black(2 * x, 2 * y) {
                data[y as usize * stride + x as usize / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::One);
    enc.set_compression(png::Compression::High);
    let mut wr = enc.write_header().unwrap();
    wr.write_image_data(&data).unwrap();
    wr.finish().unwrap();
    out.len()
}

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/samples");
    for name in [
        "fax_3p_g4",
        "fax_3p_g3_2d",
        "fax_1p_g3_1d",
        "fax_20p_g4_perf",
    ] {
        let tif = std::fs::read(format!("{dir}/{name}.tif")).unwrap();
        let limits = Limits::default();
        let p = previews(&tif, 3, &limits).unwrap();
        let runs = 20;
        let t = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(previews(&tif, 3, &limits).unwrap());
        }
        let per = t.elapsed() / runs;
        let t = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(decode_page(&tif, 0, &limits).unwrap());
        }
        let decode = t.elapsed() / runs;
        let t = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(first_page_png(&tif, &limits).unwrap());
        }
        let one_bit = t.elapsed() / runs;
        println!("{name}: decode page 1 {decode:?}, one-bit png of page 1 {one_bit:?}");
        let full = first_page_png(&tif, &limits).unwrap().len();
        let previews: Vec<usize> = p.pages.iter().map(|p| p.png.len()).collect();
        let halved: Vec<usize> = (0..p.pages.len() as u32)
            .map(|i| halved_one_bit(&tif, i))
            .collect();
        println!(
            "{name}: tiff {} B; page 1 one-bit full {full} B; one-bit halved {halved:?} B; \
             grey preview {previews:?} B ({}x{}); previews of {} pages in {per:?}",
            tif.len(),
            p.pages[0].width,
            p.pages[0].height,
            p.pages.len()
        );
    }
}

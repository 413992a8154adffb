//! The CCITT decoder (G3 1-D, G3 2-D with LSB fill order, G4) checked bit for bit against
//! libtiff: every page of every sample is decompressed with `tiffcp -c none` and compared with
//! [`umsgate_fax::decode_page`]. The uncompressed files are read here with a minimal,
//! independent TIFF reader, so the comparison does not go through the crate's own reader.
//! Also checks the PNG preview of the first page.
#![allow(clippy::unwrap_used)]

mod common;

use common::{SAMPLES, Scratch, read_sample, run, s, sample};
use umsgate_fax::{Limits, decode_page, first_page_png};

/// One uncompressed bilevel page: width, height, rows of packed bits as libtiff wrote them.
struct RawPage {
    width: u32,
    height: u32,
    photometric: u32,
    data: Vec<u8>,
}

/// Reads the pages of a little- or big-endian uncompressed TIFF written by `tiffcp -c none`
/// (strips in any number; only what that output uses).
fn read_uncompressed(file: &[u8]) -> Vec<RawPage> {
    let le = &file[..2] == b"II";
    let u16_at = |o: usize| {
        let b = [file[o], file[o + 1]];
        if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    };
    let u32_at = |o: usize| {
        let b = [file[o], file[o + 1], file[o + 2], file[o + 3]];
        if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let mut pages = Vec::new();
    let mut ifd = u32_at(4) as usize;
    while ifd != 0 {
        let n = u16_at(ifd) as usize;
        let mut tags = std::collections::HashMap::new();
        for i in 0..n {
            let e = ifd + 2 + i * 12;
            let (tag, typ, count) = (u16_at(e), u16_at(e + 2), u32_at(e + 4) as usize);
            if typ != 3 && typ != 4 {
                continue; // only SHORT/LONG tags are needed here
            }
            let size = if typ == 3 { 2 } else { 4 };
            let at = if size * count <= 4 {
                e + 8
            } else {
                u32_at(e + 8) as usize
            };
            let vals: Vec<u32> = (0..count)
                .map(|k| {
                    if typ == 3 {
                        u32::from(u16_at(at + k * 2))
                    } else {
                        u32_at(at + k * 4)
                    }
                })
                .collect();
            tags.insert(tag, vals);
        }
        assert_eq!(tags[&259][0], 1, "not uncompressed");
        let mut data = Vec::new();
        for (off, len) in tags[&273].iter().zip(&tags[&279]) {
            data.extend_from_slice(&file[*off as usize..(*off + *len) as usize]);
        }
        pages.push(RawPage {
            width: tags[&256][0],
            height: tags[&257][0],
            photometric: tags[&262][0],
            data,
        });
        ifd = u32_at(ifd + 2 + n * 12) as usize;
    }
    pages
}

fn compare(name: &str, tif: &[u8], raw: &[RawPage]) {
    let limits = Limits::default();
    for (i, page) in raw.iter().enumerate() {
        let bitmap = decode_page(tif, i as u32, &limits).unwrap();
        assert_eq!((bitmap.width(), bitmap.height()), (page.width, page.height));
        let stride = page.width.div_ceil(8) as usize;
        let mut wrong = 0u64;
        for y in 0..page.height {
            let ours = bitmap.row(y).unwrap();
            let theirs = &page.data[y as usize * stride..(y as usize + 1) * stride];
            for (x, (a, b)) in ours.iter().zip(theirs).enumerate() {
                // libtiff: 1 = black for min-is-white; ours: 1 = black always.
                let b = if page.photometric == 1 { !b } else { *b };
                let pad = if x == stride - 1 {
                    0xffu8 << (stride as u32 * 8 - page.width)
                } else {
                    0xff
                };
                wrong += u64::from(((a ^ b) & pad).count_ones());
            }
        }
        assert_eq!(
            wrong,
            0,
            "{name} page {}: {wrong} pixels differ from libtiff",
            i + 1
        );
        assert!(
            bitmap.black_pixels() > 10_000,
            "{name} page {} is blank",
            i + 1
        );
    }
}

#[test]
fn every_sample_page_decodes_like_libtiff() {
    for name in SAMPLES {
        let dir = Scratch::new("decode");
        let raw = dir.path("raw.tif");
        run(
            "tiffcp",
            &["-c", "none", "-f", "msb2lsb", s(&sample(name)), s(&raw)],
        );
        let pages = read_uncompressed(&std::fs::read(&raw).unwrap());
        assert!(!pages.is_empty());
        compare(name, &read_sample(name), &pages);
    }
}

#[test]
fn multi_strip_and_big_endian_files_decode_like_libtiff() {
    let dir = Scratch::new("decode-strips");
    for (name, opts) in [
        ("fax_3p_g3_2d", &["-r", "333"][..]),
        ("fax_3p_g4", &["-B", "-r", "100"][..]),
    ] {
        let tif = dir.path("variant.tif");
        let raw = dir.path("variant-raw.tif");
        let mut args = opts.to_vec();
        let input = sample(name);
        args.extend([s(&input), s(&tif)]);
        run("tiffcp", &args);
        run("tiffcp", &["-c", "none", "-f", "msb2lsb", s(&tif), s(&raw)]);
        let pages = read_uncompressed(&std::fs::read(&raw).unwrap());
        compare(name, &std::fs::read(&tif).unwrap(), &pages);
    }
}

#[test]
fn first_page_png_is_the_first_page_in_one_bit() {
    let limits = Limits::default();
    for name in ["fax_3p_g3_2d", "fax_1p_g3_1d", "fax_3p_g4"] {
        let tif = read_sample(name);
        let png_bytes = first_page_png(&tif, &limits).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (1728, 2292));
        assert_eq!(info.bit_depth, png::BitDepth::One);
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        let phys = info.pixel_dims.unwrap();
        assert_eq!(
            (phys.xppu, phys.yppu),
            (8031, 7717),
            "204 x 196 dpi in pixels per metre"
        );
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        let bitmap = decode_page(&tif, 0, &limits).unwrap();
        for y in 0..bitmap.height() {
            let row = &buf[y as usize * frame.line_size..(y as usize + 1) * frame.line_size];
            for x in 0..bitmap.width() {
                let white = row[x as usize / 8] & (0x80 >> (x % 8)) != 0;
                assert_eq!(white, !bitmap.is_black(x, y), "{name} pixel {x},{y}");
            }
        }
        // Compressed 1-bit preview of a fax page stays small.
        assert!(
            png_bytes.len() < 150_000,
            "{name}: {} bytes",
            png_bytes.len()
        );
    }
}

//! Writing fax pages as a PDF whose images are the TIFF's CCITT strips, unchanged.
//!
//! Contract: [`write`] produces a complete PDF 1.7 file with one page per fax page. The
//! output is deterministic (no dates, no random IDs): the same input gives the same bytes.
//!
//! Implementation summary:
//! - Page size: `pixels / dpi * 72` points on each axis, from the TIFF resolution
//!   ([`crate::Resolution::dpi`]), so a 204 x 196 dpi fax keeps its proportions.
//! - A single-strip page (what fax software writes) becomes one image XObject with
//!   `/Filter /CCITTFaxDecode` and the strip bytes, unchanged, as its stream (bit-reversed
//!   when FillOrder=2) covering the page.
//! - DecodeParms: `/K` -1 (G4), 0 (G3 1-D) or 4 / 2 (G3 2-D, fine / normal resolution; readers
//!   only look at its sign and follow the tag bits); `/Columns` and `/Rows` from the image
//!   and strip; `/EndOfBlock false`, so readers stop after `/Rows` rows whether or not the
//!   strip ends with RTC/EOFB; for G3 `/EndOfLine false` and `/EncodedByteAlign false`. TIFF G3
//!   rows do start with EOLs, and with T4Options bit 2 fill bits (zeros) put each EOL's end on
//!   a byte boundary; CCITT decoders always accept EOLs and skip zeros before them, so these
//!   values decode the data exactly. `/EndOfLine true` would make readers *require* the
//!   stream to begin with an EOL (mupdf warns about the fill bits before the first one), and
//!   readers disagree on where `/EncodedByteAlign true` aligns around EOLs (checked: poppler
//!   and mupdf render these values exactly like tiff2pdf's output);
//!   `/BlackIs1 true` for min-is-black pages (CCITT "black" runs are then displayed white).
//! - Pages that cannot be passed through are decoded and re-encoded as one G4 image:
//!   uncompressed and CCITT RLE pages, data that may use the uncompressed-mode extension, and
//!   pages of several strips.
//!
//! XXX Multi-strip pages could be passed through as one image XObject per strip placed at its
//! row offset (strips are coded independently, so each is a valid CCITT stream). That was
//! tried: the strip edges land on fractional device pixels (`72 / 196` pt per row has no exact
//! decimal form), so renderers resample every strip and the page no longer renders like the
//! single image (poppler: 3-5 % of pixels differ from tiff2pdf's rendering, at any
//! resolution). Re-encoding gives one image that renders exactly; it costs a decode and an
//! encode, only for files that fax software rarely writes.

use std::borrow::Cow;

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Settings};

use crate::raster::{self, Bitmap};
use crate::tiff::{Coding, Page, Photometric};
use crate::{Error, Limits};

/// One image to place on a page.
struct Image<'a> {
    data: Cow<'a, [u8]>,
    rows: u32,
    k: i32,
    black_is_1: bool,
}

/// Whether the page's strips can be embedded as they are.
fn page_is_passthrough(page: &Page<'_>) -> bool {
    page.strips.len() == 1
        && matches!(
            page.coding,
            Coding::Group4 {
                uncompressed_mode: false
            } | Coding::Group3 {
                uncompressed_mode: false,
                ..
            }
        )
}

fn images<'a>(page: &Page<'a>, limits: &Limits) -> Result<Vec<Image<'a>>, Error> {
    if !page_is_passthrough(page) {
        let bitmap = raster::decode_page(page, limits)?;
        // The bitmap is black-is-1 already, so the re-encoded image needs no /BlackIs1.
        return Ok(vec![Image {
            data: Cow::Owned(encode_g4(&bitmap)),
            rows: page.height,
            k: -1,
            black_is_1: false,
        }]);
    }
    let k = match page.coding {
        Coding::Group3 { two_d: false, .. } => 0,
        Coding::Group3 { two_d: true, .. } => {
            let (_, ydpi) = page.resolution.dpi(page.width, page.height);
            if ydpi > 150.0 { 4 } else { 2 }
        }
        _ => -1,
    };
    let black_is_1 = page.photometric == Photometric::MinIsBlack;
    Ok(page
        .strips
        .iter()
        .enumerate()
        .map(|(i, strip)| {
            let data = raster::msb_first(strip, page.fill_order);
            Image {
                data,
                rows: page.strip_rows(i),
                k,
                black_is_1,
            }
        })
        .collect())
}

/// Encodes a bitmap (1 = black) as G4 with the `fax` crate's encoder.
pub(crate) fn encode_g4(bitmap: &Bitmap) -> Vec<u8> {
    let mut enc = fax::encoder::Encoder::new(fax::VecWriter::new());
    let width = bitmap.width();
    for y in 0..bitmap.height() {
        let row = bitmap.row(y).unwrap_or_default();
        let pels = (0..width).map(|x| {
            let black = row
                .get(x as usize / 8)
                .is_some_and(|b| b & (0x80 >> (x % 8)) != 0);
            if black {
                fax::Color::Black
            } else {
                fax::Color::White
            }
        });
        // VecWriter's error type is Infallible.
        let Ok(()) = enc.encode_line(pels, width);
    }
    let Ok(writer) = enc.finish();
    writer.finish()
}

fn to_i32(v: impl TryInto<i32>, what: &str) -> Result<i32, Error> {
    v.try_into().map_err(|_| {
        Error::new(
            crate::ErrorKind::LimitExceeded,
            format!("{what} too large for pdf"),
        )
    })
}

/// Writes all pages into one PDF.
pub(crate) fn write(pages: &[Page<'_>], limits: &Limits) -> Result<Vec<u8>, Error> {
    let total: usize = pages
        .iter()
        .flat_map(|p| p.strips.iter())
        .map(|s| s.len())
        .sum();
    if total > limits.max_total_bytes {
        return Err(Error::limit(
            "total strip bytes",
            total as u64,
            limits.max_total_bytes as u64,
        ));
    }
    let mut pdf = Pdf::with_settings_and_capacity(
        Settings { pretty: false },
        total + 1024 + pages.len() * 600,
    );
    let mut next = 1i32;
    let mut alloc = || {
        let r = Ref::new(next);
        next = next.saturating_add(1);
        r
    };
    let catalog_id = alloc();
    let tree_id = alloc();
    let info_id = alloc();
    let mut page_ids = Vec::with_capacity(pages.len());
    for (n, page) in pages.iter().enumerate() {
        let imgs = images(page, limits).map_err(|e| e.context(format!("page {}", n + 1)))?;
        let page_id = alloc();
        let content_id = alloc();
        page_ids.push(page_id);
        let (xdpi, ydpi) = page.resolution.dpi(page.width, page.height);
        let w_pt = (f64::from(page.width) / xdpi * 72.0) as f32;
        let h_pt = (f64::from(page.height) / ydpi * 72.0) as f32;
        let row_pt = h_pt / page.height as f32;
        let names: Vec<String> = (0..imgs.len()).map(|i| format!("Im{i}")).collect();
        let ids: Vec<Ref> = imgs.iter().map(|_| alloc()).collect();

        let mut content = Content::new();
        let mut y0 = 0u32;
        for (img, name) in imgs.iter().zip(&names) {
            let top = h_pt - y0 as f32 * row_pt;
            let h = img.rows as f32 * row_pt;
            content.save_state();
            content.transform([w_pt, 0.0, 0.0, h, 0.0, top - h]);
            content.x_object(Name(name.as_bytes()));
            content.restore_state();
            y0 += img.rows;
        }
        let content = content.finish();

        let mut p = pdf.page(page_id);
        p.media_box(Rect::new(0.0, 0.0, w_pt, h_pt));
        p.parent(tree_id);
        p.contents(content_id);
        {
            let mut res = p.resources();
            let mut xo = res.x_objects();
            for (name, id) in names.iter().zip(&ids) {
                xo.pair(Name(name.as_bytes()), *id);
            }
            xo.finish();
        }
        p.finish();
        pdf.stream(content_id, content.as_slice());

        let columns = to_i32(page.width, "width")?;
        for (img, id) in imgs.iter().zip(&ids) {
            to_i32(img.data.len(), "strip")?;
            let rows = to_i32(img.rows, "rows")?;
            let mut x = pdf.image_xobject(*id, &img.data);
            x.filter(Filter::CcittFaxDecode);
            x.width(columns);
            x.height(rows);
            x.color_space().device_gray();
            x.bits_per_component(1);
            let mut parms = x.decode_parms();
            parms.k(img.k);
            parms.columns(columns);
            parms.rows(rows);
            parms.end_of_block(false);
            if img.k >= 0 {
                parms.end_of_line(false);
                parms.encoded_byte_align(false);
            }
            if img.black_is_1 {
                parms.black_is_1(true);
            }
            parms.finish();
            x.finish();
        }
    }
    pdf.catalog(catalog_id).pages(tree_id);
    let count = to_i32(page_ids.len(), "page count")?;
    pdf.pages(tree_id)
        .kids(page_ids.iter().copied())
        .count(count);
    pdf.document_info(info_id)
        .producer(pdf_writer::TextStr("umsgate"));
    Ok(pdf.finish())
}

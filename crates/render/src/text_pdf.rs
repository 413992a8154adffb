//! Laid-out text pages ([`crate::layout`]) → a PDF in DejaVu Sans Mono, the font subset and
//! embedded, with a `ToUnicode` map so that the text can be searched and extracted
//! (`pdftotext` finds what the sender wrote).
//!
//! Contract: pure and deterministic (no dates, no random ids); every character either has a
//! glyph in the font or is drawn as U+FFFD's glyph (a character the font lacks is visible as
//! such, never silently dropped); output is A4 portrait, text 10 pt on a 12 pt pitch from the
//! top-left margin, the geometry [`Geometry::default`](crate::layout::Geometry) assumes.
//!
//! Implementation summary: glyphs are looked up with `ttf-parser`; the used glyphs are
//! subset with `subsetter` (a 2-page letter embeds ~15 KB of font instead of 340 KB) and
//! written as a Type 0 font (CIDFontType2, Identity-H, CIDs = subset glyph ids); content
//! and font streams are Flate-compressed.

use std::collections::BTreeMap;
use std::io::Write;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

use crate::fonts;
use crate::layout::Page;
use crate::page::{HEIGHT_PT, WIDTH_PT};

/// Font size of text pages, in points.
pub(crate) const FONT_SIZE: f32 = 10.0;
/// Distance between baselines, in points.
pub(crate) const LINE_PITCH: f32 = 12.0;
/// Left margin, in points (2 cm).
pub(crate) const MARGIN_LEFT: f32 = 56.7;
/// Top margin to the first baseline, in points.
pub(crate) const MARGIN_TOP: f32 = 60.0;

/// Why the text could not be written (the embedded font failed to load or subset: a build
/// defect, reported rather than panicking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FontError(pub(crate) String);

impl std::fmt::Display for FontError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "embedded font: {}", self.0)
    }
}

pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Writes `pages` as a PDF.
pub(crate) fn write(pages: &[Page]) -> Result<Vec<u8>, FontError> {
    let face = ttf_parser::Face::parse(fonts::MONO, 0).map_err(|e| FontError(e.to_string()))?;
    let fallback = face
        .glyph_index('\u{fffd}')
        .or_else(|| face.glyph_index('?'))
        .map_or(0, |g| g.0);
    let units = f32::from(face.units_per_em());
    let advance = face
        .glyph_hor_advance(face.glyph_index('M').unwrap_or(ttf_parser::GlyphId(0)))
        .map_or(600.0, |a| f32::from(a) * 1000.0 / units);

    // Map every character to a subset glyph id; remember one character per glyph for ToUnicode.
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut to_unicode: BTreeMap<u16, char> = BTreeMap::new();
    let mut encoded: Vec<Vec<Vec<u8>>> = Vec::with_capacity(pages.len());
    for page in pages {
        let mut lines = Vec::with_capacity(page.lines.len());
        for line in &page.lines {
            let mut bytes = Vec::with_capacity(line.len() * 2);
            for c in line.chars() {
                let old = face.glyph_index(c).map_or(fallback, |g| g.0);
                let new = remapper.remap(old);
                to_unicode.entry(new).or_insert(c);
                bytes.extend_from_slice(&new.to_be_bytes());
            }
            lines.push(bytes);
        }
        encoded.push(lines);
    }
    let subset = subsetter::subset(fonts::MONO, 0, &remapper)
        .map_err(|e| FontError(format!("subset: {e:?}")))?;

    let mut alloc = Ref::new(1);
    let mut next = || alloc.bump();
    let catalog_id = next();
    let tree_id = next();
    let font_id = next();
    let cid_font_id = next();
    let descriptor_id = next();
    let font_file_id = next();
    let cmap_id = next();
    let font_name = Name(b"UMSGAT+DejaVuSansMono");

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    let page_ids: Vec<(Ref, Ref)> = encoded.iter().map(|_| (next(), next())).collect();
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));

    pdf.type0_font(font_id)
        .base_font(font_name)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_font_id)
        .to_unicode(cmap_id);
    let mut cid = pdf.cid_font(cid_font_id);
    cid.subtype(CidFontType::Type2)
        .base_font(font_name)
        .system_info(SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        })
        .font_descriptor(descriptor_id)
        .default_width(advance.round());
    cid.cid_to_gid_map_predefined(Name(b"Identity"));
    cid.finish();

    let scale = |v: i16| f32::from(v) * 1000.0 / units;
    let bbox = face.global_bounding_box();
    pdf.font_descriptor(descriptor_id)
        .name(font_name)
        .flags(FontFlags::FIXED_PITCH | FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            scale(bbox.x_min),
            scale(bbox.y_min),
            scale(bbox.x_max),
            scale(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(scale(face.ascender()))
        .descent(scale(face.descender()))
        .cap_height(scale(face.capital_height().unwrap_or(face.ascender())))
        .stem_v(80.0)
        .font_file2(font_file_id);
    let font_data = deflate(&subset);
    pdf.stream(font_file_id, &font_data)
        .filter(Filter::FlateDecode)
        .pair(
            Name(b"Length1"),
            i32::try_from(subset.len()).unwrap_or(i32::MAX),
        );

    let mut cmap = UnicodeCmap::new(
        Name(b"Custom"),
        SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"UCS"),
            supplement: 0,
        },
    );
    for (gid, c) in &to_unicode {
        cmap.pair(*gid, *c);
    }
    pdf.cmap(cmap_id, &cmap.finish());

    for ((page_id, content_id), lines) in page_ids.iter().zip(&encoded) {
        let mut content = Content::new();
        content.begin_text();
        content.set_font(Name(b"F1"), FONT_SIZE);
        content.set_leading(LINE_PITCH);
        content.next_line(MARGIN_LEFT, HEIGHT_PT - MARGIN_TOP);
        for line in lines {
            if !line.is_empty() {
                content.show(Str(line));
            }
            content.next_line_using_leading();
        }
        content.end_text();
        let data = deflate(&content.finish().into_vec());
        pdf.stream(*content_id, &data).filter(Filter::FlateDecode);
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, WIDTH_PT, HEIGHT_PT))
            .parent(tree_id)
            .contents(*content_id);
        page.resources().fonts().pair(Name(b"F1"), font_id);
        page.finish();
    }
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Geometry, paginate};

    #[test]
    fn pages_of_the_layout_are_pages_of_the_pdf() {
        let text = (1..=130)
            .map(|i| format!("line {i} Grüße €\n"))
            .collect::<String>();
        let pages = paginate(&text, Geometry::default());
        let pdf = write(&pages).expect("pdf");
        assert_eq!(umsgate_fax::page_count(&pdf).expect("count"), 3);
        let doc = lopdf::Document::load_mem(&pdf).expect("lopdf reads it");
        assert_eq!(doc.get_pages().len(), 3);
    }

    #[test]
    fn the_same_text_gives_the_same_bytes() {
        let pages = paginate("a\nb", Geometry::default());
        assert_eq!(write(&pages).expect("pdf"), write(&pages).expect("pdf"));
    }
}

//! Text pages → 1-bit page bitmaps at 204 × 196 dpi, drawn with the embedded DejaVu Sans Mono.
//!
//! Contract: [`TextRaster::page`] draws one [`Page`] on a blank A4 fax page (1728 pixels wide,
//! 2292 rows, packed rows of 216 bytes, first pixel in the most significant bit, 1 = black),
//! each character at the column and line [`crate::layout`] gave it, where [`TextFrame`] puts
//! the PDF text pages' characters. It never fails once built: characters the font lacks draw
//! its `.notdef` box, as in the PDF.
//!
//! Implementation summary:
//! - `ab_glyph` rather than `fontdue`: fax pixels are not square (204 dpi across, 196 down),
//!   and `ab_glyph` scales a glyph with separate x and y factors (`PxScale { x, y }`), where
//!   `fontdue` takes one size and would need a resampling pass after it.
//! - Each glyph is rasterised once (pen on a whole pixel, coverage ≥ ½ = black) into rows of
//!   at most 64 pixels; printable ASCII is rasterised once per process, other characters once
//!   per [`TextRaster`]. Drawing a character is then one shifted OR per glyph row.
//! - Pen positions are rounded to whole pixels, so every occurrence of a character looks the
//!   same (at most half a pixel, 0.09 mm, from its exact place).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use ab_glyph::{Font, FontRef, PxScale, point};

use crate::layout::Page;
use crate::page::{DPI_X, DPI_Y, HEIGHT_PX, WIDTH_PT, WIDTH_PX};
use crate::{fonts, text_pdf};

/// Where text pages put their characters, in PDF points from the top left corner of the A4
/// page: the figures of the PDF text pages (`text_pdf`), so both outputs set a page alike.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextFrame {
    /// Left margin: where column 0 starts.
    pub left: f32,
    /// Baseline of line 0, from the top of the page.
    pub first_baseline: f32,
    /// Font size (em), points.
    pub font_size: f32,
    /// Distance between the baselines of two lines, points.
    pub pitch: f32,
}

impl TextFrame {
    /// DejaVu Sans Mono 10 pt, 12 pt line pitch, 2 cm left margin: 80 columns × 60 lines on
    /// A4.
    pub const A4: TextFrame = TextFrame {
        left: text_pdf::MARGIN_LEFT,
        first_baseline: text_pdf::MARGIN_TOP,
        font_size: text_pdf::FONT_SIZE,
        pitch: text_pdf::LINE_PITCH,
    };

    /// Baseline of line `line` (0-based), points from the top of the page.
    pub fn baseline(&self, line: usize) -> f32 {
        self.first_baseline + self.pitch * line as f32
    }
}

/// Bytes in one packed row of a fax page.
pub(crate) const STRIDE: usize = (WIDTH_PX as usize).div_ceil(8);

/// A rasterised glyph: rows of at most 64 pixels, most significant bit leftmost, placed
/// relative to the pen (on the baseline).
#[derive(Debug, Clone)]
struct GlyphBits {
    left: i32,
    top: i32,
    rows: Vec<u64>,
}

/// The font, its scale at fax resolution and the glyphs rasterised so far.
struct Face {
    font: FontRef<'static>,
    scale: PxScale,
    /// Horizontal advance of one character cell, pixels (not rounded).
    advance_px: f32,
    /// Printable ASCII (0x20..0x7f), rasterised when the face is built.
    ascii: Vec<Option<GlyphBits>>,
}

/// One process-wide face: the font is embedded, so it is the same for every job.
static FACE: LazyLock<Option<Arc<Face>>> = LazyLock::new(|| Face::new(TextFrame::A4).map(Arc::new));

impl Face {
    fn new(frame: TextFrame) -> Option<Face> {
        let font = FontRef::try_from_slice(fonts::MONO).ok()?;
        let units = font.units_per_em()?;
        // PxScale is the pixel height of ascent − descent, not of the em.
        let height_per_em = font.height_unscaled() / units;
        let em_x = frame.font_size * DPI_X as f32 / 72.0;
        let em_y = frame.font_size * DPI_Y as f32 / 72.0;
        let scale = PxScale {
            x: em_x * height_per_em,
            y: em_y * height_per_em,
        };
        let advance_px = font.h_advance_unscaled(font.glyph_id('0')) / units * em_x;
        let mut face = Face {
            font,
            scale,
            advance_px,
            ascii: Vec::new(),
        };
        face.ascii = (0x20u8..0x7f)
            .map(|b| face.rasterise(char::from(b)))
            .collect();
        Some(face)
    }

    fn rasterise(&self, c: char) -> Option<GlyphBits> {
        let glyph = self
            .font
            .glyph_id(c)
            .with_scale_and_position(self.scale, point(0.0, 0.0));
        let outlined = self.font.outline_glyph(glyph)?;
        let bounds = outlined.px_bounds();
        let height = bounds.height().max(0.0) as usize;
        let mut rows = vec![0u64; height];
        outlined.draw(|x, y, coverage| {
            if coverage >= 0.5
                && x < 64
                && let Some(row) = rows.get_mut(y as usize)
            {
                *row |= 1u64 << (63 - x);
            }
        });
        Some(GlyphBits {
            left: bounds.min.x as i32,
            top: bounds.min.y as i32,
            rows,
        })
    }
}

/// A text page rasteriser: the shared face plus a cache of the non-ASCII glyphs it met.
pub struct TextRaster {
    face: Arc<Face>,
    frame: TextFrame,
    other: HashMap<char, Option<GlyphBits>>,
}

impl TextRaster {
    /// The rasteriser for [`TextFrame::A4`]; `None` only if the embedded font cannot be read.
    pub fn new() -> Option<TextRaster> {
        let face = FACE.as_ref()?.clone();
        Some(TextRaster {
            face,
            frame: TextFrame::A4,
            other: HashMap::new(),
        })
    }

    /// Horizontal pixel where column `col` starts (the A4 page centred on the 1728-pixel line).
    pub fn column_x(&self, col: usize) -> i32 {
        let offset = (WIDTH_PX as f32 - WIDTH_PT * DPI_X as f32 / 72.0) / 2.0;
        (offset + self.frame.left * DPI_X as f32 / 72.0 + col as f32 * self.face.advance_px).round()
            as i32
    }

    /// Pixel row of the baseline of line `line`.
    pub fn baseline_y(&self, line: usize) -> i32 {
        (self.frame.baseline(line) * DPI_Y as f32 / 72.0).round() as i32
    }

    /// Draws `page` on a blank fax page: `HEIGHT_PX` rows of [`STRIDE`] bytes.
    pub fn page(&mut self, page: &Page) -> Vec<u8> {
        let mut bits = vec![0u8; STRIDE * HEIGHT_PX as usize];
        for (n, line) in page.lines.iter().enumerate() {
            let y = self.baseline_y(n);
            for (col, c) in line.chars().enumerate() {
                if c == ' ' {
                    continue;
                }
                let x = self.column_x(col);
                let glyph = match u32::from(c) {
                    0x20..0x7f => self
                        .face
                        .ascii
                        .get(c as usize - 0x20)
                        .and_then(Option::as_ref),
                    _ => {
                        let face = &self.face;
                        self.other
                            .entry(c)
                            .or_insert_with(|| face.rasterise(c))
                            .as_ref()
                    }
                };
                if let Some(g) = glyph {
                    blit(&mut bits, g, x, y);
                }
            }
        }
        bits
    }
}

/// ORs `glyph` into the page with its pen at (`x`, `y`); what falls outside is clipped.
fn blit(bits: &mut [u8], glyph: &GlyphBits, x: i32, y: i32) {
    let x0 = x + glyph.left;
    for (i, &row) in glyph.rows.iter().enumerate() {
        let Ok(py) = usize::try_from(y + glyph.top + i as i32) else {
            continue;
        };
        if row == 0 || py >= HEIGHT_PX as usize {
            continue;
        }
        let (mask, start) = if x0 < 0 {
            (row.checked_shl(x0.unsigned_abs()).unwrap_or(0), 0usize)
        } else {
            (row, x0 as usize)
        };
        let wide = (u128::from(mask) << 64) >> (start % 8);
        let line = &mut bits[py * STRIDE..(py + 1) * STRIDE];
        for (k, b) in wide.to_be_bytes().iter().take(9).enumerate() {
            if let Some(dst) = line.get_mut(start / 8 + k) {
                *dst |= b;
            }
        }
    }
}

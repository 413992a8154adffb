//! The fonts the renderer embeds, shipped in the binary so that rendering never depends on
//! what a host has installed: DejaVu Sans Mono for text pages, DejaVu Sans (regular, bold) for
//! cover pages. Licence: `fonts/LICENSE-DejaVu.txt` (Bitstream Vera / public domain).

/// DejaVu Sans Mono: text pages (body, text attachments, forwarded mails).
pub static MONO: &[u8] = include_bytes!("../fonts/DejaVuSansMono.ttf");
/// DejaVu Sans: cover pages.
pub static SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold: cover pages.
pub static SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

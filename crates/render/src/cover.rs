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

//! The directory: who a sender is, who owns a called number, and what each may do.
//!
//! Contract: a closed set of backends behind one type ([`Directory`]), dispatched here. A
//! lookup either answers (found / not found) or fails with [`DirectoryError`], which is always
//! *temporary*: the directory could not be asked. Callers keep the message and retry (or
//! apply `ldap_error` inbound); a lookup failure never becomes "unknown sender".
//! Numbers are compared in E.164 after normalisation with the site's number plan.
#![forbid(unsafe_code)]

pub mod admin;
mod file;
pub mod ldap;

use std::collections::BTreeMap;

pub use file::FileDirectory;
pub use ldap::LdapDirectory;
use umsgate_domain::PhoneNumber;

/// A directory entry as umsgate needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The entry's identity for logs: the DN in LDAP, the mail address in the file directory.
    pub id: String,
    /// Primary mail address: where inbound mail and reports go.
    pub mail: String,
    pub name: String,
    /// The raw UMS settings attribute (DESIGN.md §5), parsed by the caller.
    pub ums: Option<String>,
    /// Other attributes by name (cover-page fields are read through the attribute mapping).
    pub attributes: BTreeMap<String, String>,
}

impl User {
    /// An attribute by name, case-insensitively (LDAP attribute names are); `""` = unmapped.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        if name.is_empty() {
            return None;
        }
        self.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The directory could not be asked; always temporary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryError {
    pub detail: String,
}

impl std::fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "directory unavailable: {}", self.detail)
    }
}

impl std::error::Error for DirectoryError {}

/// The configured backend.
#[derive(Debug)]
pub enum Directory {
    File(FileDirectory),
    Ldap(Box<LdapDirectory>),
}

impl Directory {
    /// The user who sends from `address` (primary address or alias, case-insensitive).
    pub async fn by_sender(&self, address: &str) -> Result<Option<User>, DirectoryError> {
        match self {
            Directory::File(d) => d.by_sender(address),
            Directory::Ldap(d) => d.by_sender(address).await,
        }
    }

    /// Every user whose numbers include `number`.
    pub async fn by_number(&self, number: &PhoneNumber) -> Result<Vec<User>, DirectoryError> {
        match self {
            Directory::File(d) => d.by_number(number),
            Directory::Ldap(d) => d.by_number(number).await,
        }
    }
}

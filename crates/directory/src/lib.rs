//! The directory: who a sender is, who owns a called number, and what each may do.
//!
//! Contract: a closed set of backends behind one type ([`Directory`]), dispatched here. A
//! lookup either answers (found / not found) or fails with [`DirectoryError`]: the directory
//! could not be asked, or refused to answer. Callers keep the message and retry (or apply
//! `ldap_error` inbound) whatever its kind; a lookup failure never becomes "unknown sender".
//! The kind ([`DirectoryError::is_temporary`]) tells logs and `umsgate check` whether an
//! administrator has to act.
//! Numbers are compared in E.164 after normalisation with the site's number plan.
#![forbid(unsafe_code)]

pub mod admin;
mod error;
mod file;
pub mod ldap;

use std::collections::BTreeMap;

pub use error::{DirectoryError, ErrorKind};
pub use file::FileDirectory;
pub use ldap::LdapDirectory;
use umsgate_domain::{PhoneNumber, SitePlan};

/// A number to look up: the number, and the spaced form a filter's `${UMS}` stands for
/// (`${UMS}_wHTSPC` is always [`PhoneNumber::e164`]).
///
/// Contract: the spaced form spells exactly the number's digits; [`NumberQuery::as_signalled`]
/// refuses one that does not, so `${UMS}` and `${UMS}_wHTSPC` always name the same number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberQuery {
    number: PhoneNumber,
    spaced: String,
}

impl NumberQuery {
    /// Spaced by this site's plan ([`SitePlan::spaced`]).
    pub fn by_plan(plan: &SitePlan, number: PhoneNumber) -> NumberQuery {
        NumberQuery {
            spaced: plan.spaced(&number),
            number,
        }
    }

    /// Spaced as given (a number another site's plan spaced); `None` if `spaced` does not
    /// spell `number`.
    pub fn as_signalled(number: PhoneNumber, spaced: &str) -> Option<NumberQuery> {
        (spaced.replace(' ', "") == number.e164()).then(|| NumberQuery {
            spaced: spaced.to_owned(),
            number,
        })
    }

    pub fn number(&self) -> &PhoneNumber {
        &self.number
    }

    /// What `${UMS}` stands for.
    pub fn spaced(&self) -> &str {
        &self.spaced
    }
}

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

    /// Every user whose numbers include the query's number (LDAP: the number filter filled
    /// with the query's spaced and compact forms).
    pub async fn by_number(&self, query: &NumberQuery) -> Result<Vec<User>, DirectoryError> {
        match self {
            Directory::File(d) => d.by_number(query.number()),
            Directory::Ldap(d) => d.by_query(query).await,
        }
    }
}

//! The one error type of the directory: why a lookup, a write or opening a directory failed.
//!
//! Contract: every fallible function of the crate returns [`DirectoryError`]. It is opaque:
//! callers decide on [`DirectoryError::kind`] (a closed, `#[non_exhaustive]` set) or on the
//! predicates, and show the `Display` text, which is lowercase, has no trailing period and
//! never contains a password. The error of the library underneath (`ldap3`, `std::io`,
//! `rustls`, the configuration's own errors) is kept as [`std::error::Error::source`].
//!
//! Implementation summary: a lookup that fails is still never "not found": the outbound worker
//! keeps the message whatever the kind, the inbound worker applies `ldap_error`. The kind says
//! whether waiting can help ([`DirectoryError::is_temporary`]: nothing answered, or not in
//! time) or whether an administrator has to act (a refused bind or search, a broken users
//! file, a CA file that cannot be read).

use std::fmt;

/// What went wrong, as a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No server could be reached, or the connection broke (I/O, busy, unavailable).
    Unreachable,
    /// A server did not answer within `connect_timeout` / `timeout`.
    Timeout,
    /// A server answered, and refused: a bind, a search or a modify result code.
    Refused,
    /// The entry changed while it was being rewritten.
    Conflict,
    /// The entry to change is not in the directory.
    NotFound,
    /// The change asked for cannot be applied to the entry's settings.
    Edit,
    /// What was asked for is neither a mail address nor a number.
    Target,
    /// Data the directory holds cannot be used (users file, a UMS attribute).
    BadData,
    /// The configuration cannot work (LDAP settings, CA file, TLS, number plan).
    Config,
    /// A lock of the directory was poisoned by a panic.
    Internal,
}

impl ErrorKind {
    /// The `Display` prefix; `None` where the detail says it all.
    fn prefix(self) -> Option<&'static str> {
        match self {
            ErrorKind::Unreachable | ErrorKind::Timeout | ErrorKind::Internal => {
                Some("directory unavailable")
            }
            ErrorKind::Refused
            | ErrorKind::Conflict
            | ErrorKind::NotFound
            | ErrorKind::Edit
            | ErrorKind::Target
            | ErrorKind::BadData
            | ErrorKind::Config => None,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Unreachable => "directory unreachable",
            ErrorKind::Timeout => "directory timeout",
            ErrorKind::Refused => "refused by the directory",
            ErrorKind::Conflict => "entry changed concurrently",
            ErrorKind::NotFound => "no such directory entry",
            ErrorKind::Edit => "change refused",
            ErrorKind::Target => "neither an address nor a number",
            ErrorKind::BadData => "unusable directory data",
            ErrorKind::Config => "directory configuration",
            ErrorKind::Internal => "directory internal error",
        })
    }
}

pub(crate) type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A directory that could not answer or be changed; see the module contract.
pub struct DirectoryError {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    detail: String,
    source: Option<Source>,
}

impl DirectoryError {
    pub(crate) fn new(kind: ErrorKind, detail: impl Into<String>) -> DirectoryError {
        DirectoryError {
            inner: Box::new(Inner {
                kind,
                detail: detail.into(),
                source: None,
            }),
        }
    }

    pub(crate) fn with_source(
        kind: ErrorKind,
        detail: impl Into<String>,
        source: impl Into<Source>,
    ) -> DirectoryError {
        DirectoryError {
            inner: Box::new(Inner {
                kind,
                detail: detail.into(),
                source: Some(source.into()),
            }),
        }
    }

    /// Prefixes the detail with where it happened (`search on ldap://…`, `number_filter`).
    pub(crate) fn context(mut self, ctx: impl fmt::Display) -> DirectoryError {
        self.inner.detail = format!("{ctx}: {}", self.inner.detail);
        self
    }

    /// The text without the kind's prefix, for a line that gathers several errors.
    pub(crate) fn detail(&self) -> &str {
        &self.inner.detail
    }

    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The directory could not be asked (unreachable, no answer in time): the same request
    /// may succeed later without anyone acting.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::Unreachable | ErrorKind::Timeout | ErrorKind::Conflict
        )
    }

    /// A server did not answer in time.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// The configuration (or the users file) must be fixed before this can work.
    pub fn is_config(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Config | ErrorKind::BadData)
    }
}

impl fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.inner.kind.prefix() {
            write!(f, "{p}: ")?;
        }
        f.write_str(&self.inner.detail)
    }
}

impl fmt::Debug for DirectoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectoryError")
            .field("kind", &self.inner.kind)
            .field("detail", &self.inner.detail)
            .field("source", &self.inner.source)
            .finish()
    }
}

impl std::error::Error for DirectoryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_decide_the_predicates_and_the_text() {
        let e = DirectoryError::new(ErrorKind::Unreachable, "no LDAP server answered");
        assert!(e.is_temporary() && !e.is_config() && !e.is_timeout());
        assert_eq!(
            e.to_string(),
            "directory unavailable: no LDAP server answered"
        );
        let e = DirectoryError::new(ErrorKind::Timeout, "no answer within 5s").context("search");
        assert!(e.is_temporary() && e.is_timeout());
        assert_eq!(
            e.to_string(),
            "directory unavailable: search: no answer within 5s"
        );
        let e = DirectoryError::new(ErrorKind::Refused, "bind as cn=x: result 49");
        assert!(!e.is_temporary() && !e.is_config());
        assert_eq!(e.to_string(), "bind as cn=x: result 49");
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = DirectoryError::with_source(ErrorKind::Config, "cannot read ca.pem: gone", io);
        assert!(e.is_config() && !e.is_temporary());
        assert!(std::error::Error::source(&e).is_some());
        assert!(!e.to_string().ends_with('.'));
    }
}

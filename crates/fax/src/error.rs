//! The one error type of `umsgate-fax`.
//!
//! Contract: every fallible function of the crate returns [`Error`]. It is opaque: callers
//! match on [`Error::kind`] (a closed, `#[non_exhaustive]` set) and show the `Display` text,
//! which is lowercase, has no trailing period and never contains document bytes. Errors from
//! libraries the crate uses (PDF parser, PNG encoder) are kept as [`std::error::Error::source`].

use std::fmt;

/// What went wrong, as a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes are neither a TIFF nor a PDF file.
    UnknownFormat,
    /// The file ends before a structure it declares (header, IFD, value, strip).
    Truncated,
    /// The file is structurally invalid (bad offsets, cycles, inconsistent tags, bad codes).
    Malformed,
    /// A valid file uses a feature this crate does not handle (colour, tiles, JPEG, BigTIFF…).
    Unsupported,
    /// A configured [`Limits`](crate::Limits) value was exceeded.
    LimitExceeded,
    /// The PDF parser rejected the document (page counting).
    Pdf,
    /// The PNG encoder failed (preview).
    Png,
    /// The caller asked for something that does not exist (e.g. no input, page out of range).
    InvalidArgument,
}

impl ErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::UnknownFormat => "unknown document format",
            Self::Truncated => "truncated file",
            Self::Malformed => "malformed file",
            Self::Unsupported => "unsupported feature",
            Self::LimitExceeded => "limit exceeded",
            Self::Pdf => "invalid pdf",
            Self::Png => "png encoding failed",
            Self::InvalidArgument => "invalid argument",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error from reading, converting or counting a fax document.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    detail: String,
    source: Option<Source>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                detail: detail.into(),
                source: None,
            }),
        }
    }

    pub(crate) fn with_source(kind: ErrorKind, detail: impl Into<String>, source: Source) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                detail: detail.into(),
                source: Some(source),
            }),
        }
    }

    pub(crate) fn truncated(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Truncated, detail)
    }

    pub(crate) fn malformed(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Malformed, detail)
    }

    pub(crate) fn unsupported(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, detail)
    }

    pub(crate) fn limit(what: &str, value: u64, limit: u64) -> Self {
        Self::new(
            ErrorKind::LimitExceeded,
            format!("{what} is {value}, limit {limit}"),
        )
    }

    /// Prefixes the detail with the position of the input (e.g. `input 2`, `page 5`).
    pub(crate) fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.inner.detail = if self.inner.detail.is_empty() {
            ctx.to_string()
        } else {
            format!("{ctx}: {}", self.inner.detail)
        };
        self
    }

    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// True when the input itself is bad (truncated, malformed, not a fax document); retrying
    /// with the same bytes cannot succeed.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::UnknownFormat | ErrorKind::Truncated | ErrorKind::Malformed | ErrorKind::Pdf
        )
    }

    /// True when a configured limit was exceeded.
    pub fn is_limit(&self) -> bool {
        self.inner.kind == ErrorKind::LimitExceeded
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.inner.kind.as_str())?;
        if !self.inner.detail.is_empty() {
            write!(f, ": {}", self.inner.detail)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("detail", &self.inner.detail)
            .field("source", &self.inner.source)
            .finish()
    }
}

impl std::error::Error for Error {
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
    fn display_is_lowercase_without_period() {
        let e = Error::truncated("strip 3 ends at 900, file has 800 bytes").context("page 2");
        let s = e.to_string();
        assert_eq!(
            s,
            "truncated file: page 2: strip 3 ends at 900, file has 800 bytes"
        );
        assert!(!s.ends_with('.'));
        assert!(e.is_bad_input());
        assert!(!e.is_limit());
        assert!(Error::limit("pages", 10, 5).is_limit());
    }
}

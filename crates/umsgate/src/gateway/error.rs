//! Why a gateway could not be opened, a received message not read, a report file not used.
//!
//! Contract: each is a typed error with a lowercase `Display` that names the file, and the
//! I/O or JSON error underneath as [`std::error::Error::source`]. Submitting a job fails with
//! [`GatewayError`](super::GatewayError), which says temporary or permanent.
//!
//! Implementation summary: [`OpenError`] ends the start of an instance (the administrator
//! acts); [`ReadError`] sets a received message aside in `received/error/`; a
//! [`ReportFileError`] sets a report file aside as `<name>.bad`. None of them is retried.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::GatewayKind;

/// The gateway of an instance could not be opened.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// A folder or journal of the gateway could not be created, read or written.
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// This release has no backend of that kind.
    Unavailable(GatewayKind),
    /// The engine's callback listener could not be bound.
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// The engine's HTTP client could not be built.
    Http(reqwest::Error),
}

impl OpenError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        OpenError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Io {
                action,
                path,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            OpenError::Unavailable(kind) => write!(f, "gateway kind {kind:?} is not available"),
            OpenError::Listen { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            OpenError::Http(e) => write!(f, "cannot build the HTTP client: {e}"),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpenError::Io { source, .. } => Some(source),
            OpenError::Unavailable(_) => None,
            OpenError::Listen { source, .. } => Some(source),
            OpenError::Http(e) => Some(e),
        }
    }
}

/// A received message (`message.json`) that cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be read.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is larger than any message umsgate accepts.
    TooLarge { path: PathBuf, len: u64 },
    /// The file is not the JSON of DESIGN.md §6.
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// A document's file name is not a plain name.
    FileName(String),
    /// The SMS text is longer than 64 KiB.
    TextTooLong,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ReadError::TooLarge { path, len } => write!(f, "{} is {len} bytes", path.display()),
            ReadError::Json { path, source } => write!(f, "{}: {source}", path.display()),
            ReadError::FileName(name) => write!(f, "file name `{name}` is not a plain name"),
            ReadError::TextTooLong => f.write_str("text longer than 64 KiB"),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io { source, .. } => Some(source),
            ReadError::Json { source, .. } => Some(source),
            ReadError::TooLarge { .. } | ReadError::FileName(_) | ReadError::TextTooLong => None,
        }
    }
}

/// A report file (`reports/<job-id>.json`) that cannot be used. Cheap to clone: the error
/// underneath is shared.
#[derive(Debug, Clone)]
pub struct ReportFileError {
    source: Arc<dyn std::error::Error + Send + Sync + 'static>,
}

impl ReportFileError {
    pub(crate) fn new(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        ReportFileError {
            source: Arc::new(source),
        }
    }
}

impl fmt::Display for ReportFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.source.fmt(f)
    }
}

impl std::error::Error for ReportFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn texts_name_the_file_and_keep_the_cause() {
        let e = OpenError::io(
            "create",
            "/var/lib/umsgate/i1/gateway/outbox",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert_eq!(
            e.to_string(),
            "cannot create /var/lib/umsgate/i1/gateway/outbox: permission denied"
        );
        assert!(e.source().is_some());
        let e = OpenError::Unavailable(GatewayKind::Hylafax);
        assert_eq!(e.to_string(), "gateway kind Hylafax is not available");
        assert!(e.source().is_none());
        let e = ReportFileError::new(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(e.to_string(), "entity not found");
        assert!(e.clone().source().is_some());
    }
}

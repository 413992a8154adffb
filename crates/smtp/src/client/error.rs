//! Why the client towards the mail server could not be set up, or its check failed.
//!
//! Contract: [`ClientError`] is opaque; callers decide on [`ClientError::is_config`] (fix
//! `[instance.mail]`: `tls.ca`, the TLS setup, a server name no certificate can carry) and
//! [`ClientError::is_temporary`] (the server could not be reached, or deferred), and show the
//! `Display` text: lowercase, no trailing period, naming the file or the server. The rustls,
//! PEM or I/O error underneath is kept as [`std::error::Error::source`]. Delivering a message
//! fails per recipient with [`DeliveryError`](crate::DeliveryError) instead.

use std::fmt;

/// What went wrong, as a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientErrorKind {
    /// `[instance.mail]` cannot work: `tls.ca`, the TLS setup, the server's name.
    Config,
    /// No answer could be had: network, TLS handshake, a broken reply.
    Unreachable,
    /// Nothing answered in time.
    Timeout,
    /// The server answered and refused (a reply), or offers nothing this client can use.
    Refused,
    /// The server refused for now (a 4xx reply, or a refused greeting or AUTH).
    Deferred,
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The mail server cannot be used as configured; see the module contract.
pub struct ClientError {
    inner: Box<Inner>,
}

struct Inner {
    kind: ClientErrorKind,
    detail: String,
    source: Option<Source>,
}

impl ClientError {
    pub(crate) fn new(kind: ClientErrorKind, detail: impl Into<String>) -> ClientError {
        ClientError {
            inner: Box::new(Inner {
                kind,
                detail: detail.into(),
                source: None,
            }),
        }
    }

    pub(crate) fn with_source(
        kind: ClientErrorKind,
        detail: impl Into<String>,
        source: impl Into<Source>,
    ) -> ClientError {
        ClientError {
            inner: Box::new(Inner {
                kind,
                detail: detail.into(),
                source: Some(source.into()),
            }),
        }
    }

    /// A configuration error; its text is `what: source`.
    pub(crate) fn config(what: impl fmt::Display, source: impl Into<Source>) -> ClientError {
        let source = source.into();
        ClientError {
            inner: Box::new(Inner {
                kind: ClientErrorKind::Config,
                detail: format!("{what}: {source}"),
                source: Some(source),
            }),
        }
    }

    /// The class of the error.
    pub fn kind(&self) -> ClientErrorKind {
        self.inner.kind
    }

    /// `[instance.mail]` must be fixed before mail can go out.
    pub fn is_config(&self) -> bool {
        self.inner.kind == ClientErrorKind::Config
    }

    /// The same attempt may succeed later without anyone acting.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self.inner.kind,
            ClientErrorKind::Unreachable | ClientErrorKind::Timeout | ClientErrorKind::Deferred
        )
    }

    /// Nothing answered in time.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ClientErrorKind::Timeout
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.detail)
    }
}

impl fmt::Debug for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientError")
            .field("kind", &self.inner.kind)
            .field("detail", &self.inner.detail)
            .field("source", &self.inner.source)
            .finish()
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

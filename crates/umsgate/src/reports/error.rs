//! The error of the report module: opaque, with predicates; `Display` names the file, the
//! template or the header field that is at fault.

use std::fmt;
use std::path::PathBuf;

/// Why loading, rendering or composing a report failed.
#[derive(Debug)]
pub struct ReportError {
    kind: Kind,
}

/// Where a template or string file came from (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Compiled into the binary; the name says which file (`templates/reports/…`,
    /// `templates/inbound/…`, `<lang>/reports.ftl`, `<lang>/inbound.ftl`).
    Embedded(String),
    /// A file of the override folder.
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Embedded(name) => write!(f, "embedded {name}"),
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

#[derive(Debug)]
enum Kind {
    /// A file or folder of the override folder cannot be read.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file in the override folder that umsgate does not know (a misspelt name).
    UnknownOverride { path: PathBuf },
    /// A string file (`.ftl`) does not parse or clashes with itself.
    Strings { origin: Origin, detail: String },
    /// A template does not compile, or fails when rendered with sample data at load time.
    Template { origin: Origin, detail: String },
    /// Rendering failed (a template error or a string that cannot be formatted).
    Render { detail: String },
    /// A string id that no bundle (not even English) has, or whose formatting failed.
    Message { id: String, detail: String },
    /// A header value with CR, LF or NUL.
    HeaderInjection { field: &'static str },
    /// A header value that is not well-formed (address, Message-ID).
    InvalidHeader { field: &'static str, detail: String },
    /// The MIME writer failed.
    Compose { source: std::io::Error },
}

impl ReportError {
    pub(crate) fn io(path: PathBuf, source: std::io::Error) -> ReportError {
        ReportError {
            kind: Kind::Io { path, source },
        }
    }

    pub(crate) fn unknown_override(path: PathBuf) -> ReportError {
        ReportError {
            kind: Kind::UnknownOverride { path },
        }
    }

    pub(crate) fn strings(origin: Origin, detail: impl Into<String>) -> ReportError {
        ReportError {
            kind: Kind::Strings {
                origin,
                detail: detail.into(),
            },
        }
    }

    pub(crate) fn template(origin: Origin, detail: impl Into<String>) -> ReportError {
        ReportError {
            kind: Kind::Template {
                origin,
                detail: detail.into(),
            },
        }
    }

    pub(crate) fn render(detail: impl Into<String>) -> ReportError {
        ReportError {
            kind: Kind::Render {
                detail: detail.into(),
            },
        }
    }

    pub(crate) fn message(id: &str, detail: impl Into<String>) -> ReportError {
        ReportError {
            kind: Kind::Message {
                id: id.to_owned(),
                detail: detail.into(),
            },
        }
    }

    pub(crate) fn header_injection(field: &'static str) -> ReportError {
        ReportError {
            kind: Kind::HeaderInjection { field },
        }
    }

    pub(crate) fn invalid_header(field: &'static str, detail: impl Into<String>) -> ReportError {
        ReportError {
            kind: Kind::InvalidHeader {
                field,
                detail: detail.into(),
            },
        }
    }

    pub(crate) fn compose(source: std::io::Error) -> ReportError {
        ReportError {
            kind: Kind::Compose { source },
        }
    }

    /// A header value contained CR, LF or NUL and was refused.
    pub fn is_header_injection(&self) -> bool {
        matches!(self.kind, Kind::HeaderInjection { .. })
    }

    /// The error happened while loading templates or strings (a configuration problem the
    /// administrator must fix), as opposed to rendering or composing one report.
    pub fn is_load_error(&self) -> bool {
        matches!(
            self.kind,
            Kind::Io { .. }
                | Kind::UnknownOverride { .. }
                | Kind::Strings { .. }
                | Kind::Template { .. }
        )
    }

    /// The header field at fault, for header errors.
    pub fn header_field(&self) -> Option<&'static str> {
        match self.kind {
            Kind::HeaderInjection { field } | Kind::InvalidHeader { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Io { path, .. } => write!(f, "cannot read {}", path.display()),
            Kind::UnknownOverride { path } => write!(
                f,
                "{}: not a template or string file umsgate knows",
                path.display()
            ),
            Kind::Strings { origin, detail } => write!(f, "{origin}: {detail}"),
            Kind::Template { origin, detail } => write!(f, "{origin}: {detail}"),
            Kind::Render { detail } => write!(f, "cannot render report: {detail}"),
            Kind::Message { id, detail } => write!(f, "report string `{id}`: {detail}"),
            Kind::HeaderInjection { field } => write!(
                f,
                "{field} contains a line break or NUL and cannot go into a mail header"
            ),
            Kind::InvalidHeader { field, detail } => write!(f, "{field}: {detail}"),
            Kind::Compose { .. } => f.write_str("cannot write the report mail"),
        }
    }
}

impl std::error::Error for ReportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Io { source, .. } | Kind::Compose { source } => Some(source),
            _ => None,
        }
    }
}

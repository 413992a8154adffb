//! Why the outbound worker could not finish a message now.
//!
//! Contract: every [`WorkError`] is temporary — the message stays queued, its sidecar records
//! the reason and the time of the next attempt, and the recipients already handled are marked
//! so that they are not handled twice. What is permanent for a job (rights, limits, a number
//! that cannot be dialled, an engine that refuses) is not an error but a refusal
//! ([`super::refusal::Refusal`]) reported to the sender.

use std::fmt;
use std::io;

use crate::delivery::SubmitError;
use crate::directory::DirectoryError;
use crate::gateway::GatewayError;
use crate::reports::ReportError;
use crate::store::StoreError;

/// A condition that may clear by itself; see the module contract.
#[derive(Debug)]
#[non_exhaustive]
pub enum WorkError {
    /// The queued message could not be read.
    Read(io::Error),
    /// The directory could not be asked who the sender is.
    Directory(DirectoryError),
    /// The per-day counters could not be read or written.
    Store(StoreError),
    /// The job record could not be made durable.
    JobRecord(super::jobs::JobRecordError),
    /// The engine could not take the job now.
    Gateway(GatewayError),
    /// A report could not be rendered (a broken template override).
    Report(ReportError),
    /// A report could be neither delivered nor spooled in `smtp-out/`.
    Mail(SubmitError),
    /// The queue itself (a sidecar rewrite, a move, a removal).
    Spool(io::Error),
    /// A converter the fax renderer needs (LibreOffice, Ghostscript) is down or restarting.
    Render(umsgate_render::RenderError),
    /// A read receipt for umsgate's own address could not be looked up in the state store.
    Receipt(StoreError),
    /// A delivery report could not be kept in the message journal (`store = "journal"`).
    Journal(crate::message_journal::JournalError),
}

impl fmt::Display for WorkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkError::Read(e) => write!(f, "cannot read the message: {e}"),
            WorkError::Directory(e) => write!(f, "sender lookup: {e}"),
            WorkError::Store(e) => write!(f, "per-day counters: {e}"),
            WorkError::JobRecord(e) => write!(f, "job record: {e}"),
            WorkError::Gateway(e) => write!(f, "{e}"),
            WorkError::Report(e) => write!(f, "report: {e}"),
            WorkError::Mail(e) => write!(f, "report mail: {e}"),
            WorkError::Spool(e) => write!(f, "queue: {e}"),
            WorkError::Render(e) => write!(f, "fax rendering: {e}"),
            WorkError::Receipt(e) => write!(f, "read receipt: {e}"),
            WorkError::Journal(e) => write!(f, "report: {e}"),
        }
    }
}

impl std::error::Error for WorkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WorkError::Read(e) | WorkError::Spool(e) => Some(e),
            WorkError::JobRecord(e) => Some(e),
            WorkError::Directory(e) => Some(e),
            WorkError::Store(e) | WorkError::Receipt(e) => Some(e),
            WorkError::Gateway(e) => Some(e),
            WorkError::Report(e) => Some(e),
            WorkError::Mail(e) => Some(e),
            WorkError::Render(e) => Some(e),
            WorkError::Journal(e) => Some(e),
        }
    }
}

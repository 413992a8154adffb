//! The printer: IPP `Print-Job`, `Get-Job-Attributes` and `Get-Printer-Attributes` through the
//! `ipp` crate (requests over reqwest with rustls on the process's ring provider).
//!
//! Contract: every call is bounded by [`REQUEST_TIMEOUT`] and ends in a typed answer or a
//! [`PrintError`]; an IPP status that is not a success is an error carrying that status, and
//! [`PrintError::is_transient`] says whether trying again later may help. `Print-Job` sends
//! the PDF with `document-format = application/pdf`, the job name given and
//! `requesting-user-name = umsgate`, and returns the printer's job id and job state.

use std::io::Cursor;
use std::time::Duration;

use ipp::operation::IppOperation;
use ipp::prelude::*;

/// The longest one IPP request may take, connection and answer included; well inside the
/// store's lease on a fax being printed ([`crate::store::PRINT_LEASE`]).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const USER: &str = "umsgate";

/// Why the printer did not take or answer a request.
#[derive(Debug)]
#[non_exhaustive]
pub enum PrintError {
    /// The printer URI is not one the client can use.
    Uri(String),
    /// The printer could not be reached, or its HTTP answer was an error.
    Transport(IppError),
    /// The printer answered with an IPP status that is not a success.
    Status(StatusCode),
    /// The answer lacked the job id.
    NoJobId,
}

impl PrintError {
    /// Whether trying again later may help (always, except for a URI that cannot work and
    /// a document the printer refuses as such).
    pub fn is_transient(&self) -> bool {
        match self {
            PrintError::Uri(_) => false,
            PrintError::Status(s) => !matches!(
                s,
                StatusCode::ClientErrorDocumentFormatNotSupported
                    | StatusCode::ClientErrorDocumentFormatError
                    | StatusCode::ClientErrorRequestEntityTooLong
            ),
            PrintError::Transport(_) | PrintError::NoJobId => true,
        }
    }
}

impl std::fmt::Display for PrintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrintError::Uri(why) => write!(f, "printer URI: {why}"),
            PrintError::Transport(e) => write!(f, "printer not reached: {e}"),
            PrintError::Status(s) => write!(f, "printer answered {s:?} (0x{:04x})", *s as u16),
            PrintError::NoJobId => f.write_str("printer answered without a job id"),
        }
    }
}

impl std::error::Error for PrintError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PrintError::Transport(e) => Some(e),
            _ => None,
        }
    }
}

/// A job's state as IPP names it (RFC 8011 §5.3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Pending,
    Held,
    Processing,
    Stopped,
    Canceled,
    Aborted,
    Completed,
    Unknown(i32),
}

impl JobStatus {
    fn from_enum(v: i32) -> JobStatus {
        match JobState::from_i32(v) {
            Some(JobState::Pending) => JobStatus::Pending,
            Some(JobState::PendingHeld) => JobStatus::Held,
            Some(JobState::Processing) => JobStatus::Processing,
            Some(JobState::ProcessingStopped) => JobStatus::Stopped,
            Some(JobState::Canceled) => JobStatus::Canceled,
            Some(JobState::Aborted) => JobStatus::Aborted,
            Some(JobState::Completed) => JobStatus::Completed,
            None => JobStatus::Unknown(v),
        }
    }

    /// The IPP keyword (`pending`, `processing-stopped`, `completed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Held => "pending-held",
            JobStatus::Processing => "processing",
            JobStatus::Stopped => "processing-stopped",
            JobStatus::Canceled => "canceled",
            JobStatus::Aborted => "aborted",
            JobStatus::Completed => "completed",
            JobStatus::Unknown(_) => "unknown",
        }
    }

    /// Completed, canceled or aborted: the job will not change any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::Canceled | JobStatus::Aborted
        )
    }
}

/// The printer's answer about one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobAnswer {
    pub job_id: i32,
    pub status: JobStatus,
    /// `job-state-reasons`, as the printer gave them.
    pub reasons: String,
}

/// The printer's own state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterAnswer {
    /// `idle`, `processing` or `stopped`.
    pub state: &'static str,
    pub accepting: bool,
    pub reasons: String,
}

/// One printer, by its `ipp://` or `ipps://` URI.
pub struct Printer {
    uri: Uri,
    client: AsyncIppClient,
}

impl Printer {
    pub fn new(uri: &str) -> Result<Printer, PrintError> {
        let uri: Uri = uri
            .parse()
            .map_err(|e| PrintError::Uri(IppError::from(e).to_string()))?;
        let client = AsyncIppClient::builder(uri.clone())
            .request_timeout(REQUEST_TIMEOUT)
            .build();
        Ok(Printer { uri, client })
    }

    async fn send(&self, op: impl IppOperation) -> Result<IppRequestResponse, PrintError> {
        let resp = self.client.send(op).await.map_err(PrintError::Transport)?;
        let status = resp.header().status_code();
        if status.is_success() {
            Ok(resp)
        } else {
            Err(PrintError::Status(status))
        }
    }

    /// `Print-Job` with `pdf`.
    pub async fn print(&self, pdf: Vec<u8>, job_name: &str) -> Result<JobAnswer, PrintError> {
        let op =
            IppOperationBuilder::print_job(self.uri.clone(), IppPayload::new(Cursor::new(pdf)))
                .user_name(USER)
                .job_title(job_name)
                .document_format("application/pdf")
                .build()
                .map_err(|e| PrintError::Transport(e.into()))?;
        job_answer(&self.send(op).await?)
    }

    /// `Get-Job-Attributes` of a job this printer took.
    pub async fn job(&self, job_id: i32) -> Result<JobAnswer, PrintError> {
        let op = IppOperationBuilder::get_job_attributes(self.uri.clone(), job_id)
            .user_name(USER)
            .build()
            .map_err(|e| PrintError::Transport(e.into()))?;
        job_answer(&self.send(op).await?)
    }

    /// `Get-Printer-Attributes`: state, whether it accepts jobs, and why not.
    pub async fn status(&self) -> Result<PrinterAnswer, PrintError> {
        let op = IppOperationBuilder::get_printer_attributes(self.uri.clone())
            .attributes([
                "printer-state",
                "printer-is-accepting-jobs",
                "printer-state-reasons",
            ])
            .build()
            .map_err(|e| PrintError::Transport(e.into()))?;
        let resp = self.send(op).await?;
        let attr = |name: &str| find(&resp, DelimiterTag::PrinterAttributes, name);
        let state = match attr("printer-state") {
            Some(IppValue::Enum(3)) => "idle",
            Some(IppValue::Enum(4)) => "processing",
            Some(IppValue::Enum(5)) => "stopped",
            _ => "unknown",
        };
        Ok(PrinterAnswer {
            state,
            accepting: matches!(
                attr("printer-is-accepting-jobs"),
                Some(IppValue::Boolean(true))
            ),
            reasons: attr("printer-state-reasons").map_or_else(String::new, |v| v.to_string()),
        })
    }
}

fn find<'a>(resp: &'a IppRequestResponse, tag: DelimiterTag, name: &str) -> Option<&'a IppValue> {
    resp.attributes()
        .groups_of(tag)
        .find_map(|g| g.get(name))
        .map(IppAttribute::value)
}

fn job_answer(resp: &IppRequestResponse) -> Result<JobAnswer, PrintError> {
    let attr = |name: &str| find(resp, DelimiterTag::JobAttributes, name);
    let Some(IppValue::Integer(job_id)) = attr("job-id") else {
        return Err(PrintError::NoJobId);
    };
    let status = match attr("job-state") {
        Some(IppValue::Enum(v)) => JobStatus::from_enum(*v),
        _ => JobStatus::Unknown(0),
    };
    Ok(JobAnswer {
        job_id: *job_id,
        status,
        reasons: attr("job-state-reasons").map_or_else(String::new, |v| v.to_string()),
    })
}

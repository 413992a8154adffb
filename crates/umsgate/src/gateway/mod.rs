//! Gateways: the fax / SMS / voice engines behind umsgate (DESIGN.md §6).
//!
//! Contract: [`Gateway::submit`] returns `Ok` only when the engine has the job durably (a line
//! fsynced in `sent.jsonl` for the simulator, a published folder in `outbox/` for the spool
//! interface). Submission is idempotent per job id — the outbound worker may submit a job
//! again after a crash, and the engine sees it once. A failure says whether it is temporary
//! (keep the mail and retry) or permanent (refuse the job). Delivery reports come from
//! [`Gateway::reports`]; the report collector mails each and then calls
//! [`Gateway::report_done`] (or [`Gateway::set_aside`] for one it cannot use), so a report is
//! forgotten by the engine only after its mail was handed over. The spool interface reads
//! them from `reports/<job-id>.json` files (written by the engine with a `.tmp` name and
//! renamed); the simulator hands them over from memory.
//!
//! A received message is a folder in `received/` ([`received`], DESIGN.md §6): what every
//! engine delivers and the inbound worker reads.
//!
//! The backends are a closed set dispatched here; a site-specific engine plugs in through the
//! documented spool interface (`docs/gateway-spool.md`).

mod error;
pub mod hylafax;
pub mod kannel;
pub mod received;
mod sim;
mod spool;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use umsgate_domain::{Priority, Service, SitePlan};

pub use error::{OpenError, ReadError, ReportFileError};
pub use hylafax::HylafaxGateway;
pub use kannel::KannelGateway;
pub use sim::SimGateway;
pub use spool::SpoolGateway;

use crate::config::{GatewayConfig, GatewayKind};

/// One job for the engine: one service, one number.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub job_id: String,
    pub service: Service,
    /// Spaced canonical form, as directories write it: `+49 30 123456`.
    pub number: String,
    /// `+4930123456`.
    pub e164: String,
    /// The sender's mail address.
    pub sender: String,
    pub priority: Priority,
    /// Fax pages without the cover page; `None` for SMS and voice.
    pub pages: Option<u32>,
    /// Cover page name; `None` = no cover page.
    pub cover: Option<String>,
    pub headline: Option<String>,
    /// ISDN originating number: the user's `origin` as written, else [`Job::fax_sender`].
    pub origin: Option<String>,
    pub billing: Option<String>,
    /// SMS text, or text to speak for voice.
    pub text: Option<String>,
    /// File names of the documents, in order (generated names, never the sender's).
    pub attachments: Vec<String>,
    /// Fax sender number (TSI) for the header line, in full and spaced (`+49 8142 4799123`):
    /// the user's `fax.sender` extension combined with the site's number
    /// ([`SitePlan::own_number`](umsgate_domain::SitePlan::own_number)).
    pub fax_sender: Option<String>,
    /// Cover-page sender fields (company, street, zip, city, …) read from the directory.
    pub cover_fields: BTreeMap<String, String>,
    /// SMS sender number (`+4917012345`): the user's mobile number (the directory attribute
    /// `gateway.kannel.sender_attribute`), else the site's number; `None` for fax and voice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_sender: Option<String>,
    pub subject: Option<String>,
    /// The documents, by name.
    #[serde(skip)]
    pub files: Vec<(String, Vec<u8>)>,
}

/// The engine could not take a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    pub temporary: bool,
    pub detail: String,
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.temporary {
            "temporary"
        } else {
            "permanent"
        };
        write!(f, "gateway ({kind}): {}", self.detail)
    }
}

impl std::error::Error for GatewayError {}

impl GatewayError {
    fn io(what: &str, e: &std::io::Error) -> GatewayError {
        GatewayError {
            temporary: true,
            detail: format!("{what}: {e}"),
        }
    }
}

/// Outcome of a finished job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Sent,
    Failed,
}

/// A delivery report, `reports/<job-id>.json` (DESIGN.md §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReport {
    pub job_id: String,
    pub status: DeliveryStatus,
    #[serde(default)]
    pub pages: Option<u32>,
    #[serde(default)]
    pub duration_s: Option<u64>,
    #[serde(default)]
    pub attempts: Option<u32>,
    #[serde(default)]
    pub remote_id: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// RFC 3339.
    pub finished_at: String,
}

/// A delivery report as the engine offers it.
#[derive(Debug, Clone)]
pub struct IncomingReport {
    /// Names the report in logs and retries: the file path, or the job id.
    pub key: String,
    /// The report, or why its file could not be read.
    pub report: Result<DeliveryReport, ReportFileError>,
    /// The file it came from (spool interface).
    file: Option<PathBuf>,
}

/// Hand-overs in flight for an engine on this machine ([`Gateway::max_in_flight`]).
pub const LOCAL_IN_FLIGHT: usize = 8;
/// Hand-overs in flight for an engine reached over the network ([`Gateway::max_in_flight`]).
pub const NETWORK_IN_FLIGHT: usize = 32;

/// The configured engine.
#[derive(Debug)]
pub enum Gateway {
    Sim(Box<SimGateway>),
    Spool(SpoolGateway),
    Hylafax(Box<HylafaxGateway>),
    Kannel(Box<KannelGateway>),
}

impl Gateway {
    /// Opens the backend of an instance; `state_gateway` is `<state>/<instance>/gateway/`;
    /// `plan` makes HylaFAX's dial strings and reads the numbers Kannel gives.
    pub fn open(
        cfg: &GatewayConfig,
        plan: &SitePlan,
        state_gateway: &Path,
    ) -> Result<Gateway, OpenError> {
        match cfg.kind {
            GatewayKind::Sim => {
                SimGateway::open(&state_gateway.join("sim"), cfg.delay, &cfg.fail_numbers)
                    .map(|g| Gateway::Sim(Box::new(g)))
            }
            GatewayKind::Spool => {
                SpoolGateway::open(cfg.dir.as_deref().unwrap_or(state_gateway)).map(Gateway::Spool)
            }
            GatewayKind::Hylafax => {
                HylafaxGateway::open(&state_gateway.join("hylafax"), &cfg.hylafax, plan)
                    .map(|g| Gateway::Hylafax(Box::new(g)))
            }
            GatewayKind::Kannel => {
                KannelGateway::open(&state_gateway.join("kannel"), &cfg.kannel, plan)
                    .map(|g| Gateway::Kannel(Box::new(g)))
            }
        }
    }

    /// How many hand-overs the outbound worker keeps in flight at once. A local engine (the
    /// simulator, the spool folder) costs only fsyncs, which eight messages at once already
    /// overlap; a network engine holds a slot for its round trip too (Kannel's sendsms answers
    /// after smsbox has queued the SMS), so it needs more slots to keep the engine busy —
    /// with eight, umsgate handed SMS to Kannel at 0.2× the rate of a plain sendsms client
    /// (bench/README.md). HylaFAX keeps eight: its hand-overs queue for its own few control
    /// connections anyway.
    pub fn max_in_flight(&self) -> usize {
        match self {
            Gateway::Sim(_) | Gateway::Spool(_) | Gateway::Hylafax(_) => LOCAL_IN_FLIGHT,
            Gateway::Kannel(_) => NETWORK_IN_FLIGHT,
        }
    }

    pub async fn submit(&self, job: &Job) -> Result<(), GatewayError> {
        match self {
            Gateway::Sim(g) => g.submit(job).await,
            Gateway::Spool(g) => g.submit(job).await,
            Gateway::Hylafax(g) => g.submit(job).await,
            Gateway::Kannel(g) => g.submit(job).await,
        }
    }

    /// Delivery reports waiting to be mailed (blocking reads for the spool interface).
    pub async fn reports(&self) -> Vec<IncomingReport> {
        match self {
            Gateway::Sim(g) => g
                .reports()
                .into_iter()
                .map(|r| IncomingReport {
                    key: r.job_id.clone(),
                    report: Ok(r),
                    file: None,
                })
                .collect(),
            Gateway::Spool(g) => {
                let dir = g.reports_dir();
                tokio::task::spawn_blocking(move || spool::read_reports(&dir))
                    .await
                    .unwrap_or_default()
            }
            Gateway::Hylafax(g) => g
                .reports()
                .into_iter()
                .map(|r| IncomingReport {
                    key: r.job_id.clone(),
                    report: Ok(r),
                    file: None,
                })
                .collect(),
            Gateway::Kannel(g) => g.reports().await,
        }
    }

    /// The report's mail has been handed over: the engine forgets the report.
    pub async fn report_done(&self, r: &IncomingReport) -> Result<(), GatewayError> {
        match (self, &r.file, &r.report) {
            (Gateway::Sim(g), _, Ok(report)) => g.report_done(&report.job_id).await,
            (Gateway::Hylafax(g), _, Ok(report)) => g.report_done(&report.job_id).await,
            (Gateway::Kannel(g), None, Ok(report)) => g.report_done(&report.job_id).await,
            (_, Some(path), _) => match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(GatewayError::io("report", &e))
                }
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// A report that cannot become a mail (unreadable, or for a job umsgate does not know):
    /// a report file is renamed to `<name>.<suffix>` and kept for the administrator.
    pub async fn set_aside(&self, r: &IncomingReport, suffix: &str) {
        match &r.file {
            Some(path) => {
                let _ = std::fs::rename(path, path.with_extension(suffix));
            }
            None => {
                let _ = self.report_done(r).await;
            }
        }
    }

    /// Runs the backend's own background work until shutdown: the simulator completes jobs;
    /// the spool interface moves received messages from `inbox/` into `received/` (waking
    /// the inbound worker through `wake`).
    pub async fn run(
        &self,
        shutdown: tokio::sync::watch::Receiver<bool>,
        received: PathBuf,
        wake: std::sync::Arc<tokio::sync::Notify>,
    ) {
        match self {
            Gateway::Sim(g) => g.run(shutdown).await,
            Gateway::Spool(g) => g.run(shutdown, &received, &wake).await,
            // Received faxes arrive through `umsgate hylafax-received`.
            Gateway::Hylafax(g) => g.run(shutdown).await,
            Gateway::Kannel(g) => g.run(shutdown, received, wake).await,
        }
    }
}

//! The Kannel engine (`kind = "kannel"`): SMS out through Kannel's HTTP `sendsms`, delivery
//! reports and received SMS back through Kannel's calls to umsgate's listener
//! (`gateway.kannel.listen`; `docs/engines.md`).
//!
//! Contract: [`KannelGateway::submit`] takes SMS jobs only; a fax or voice job is refused
//! permanently with a reason naming the engine. Before sendsms is called, the job is recorded
//! in the pending journal `<state>/<inst>/gateway/kannel/pending.jsonl` and on disk (hand-overs
//! waiting at the same moment share one fsync: [`store`]); Kannel's acceptance (2xx) is appended
//! as a mark without an fsync (a process crash keeps it, a power loss at worst causes the SMS to
//! be sent again) and makes `submit` return `Ok`. A job recorded as accepted, or already
//! finished, is not sent again (idempotent per job id); a job whose record was left unaccepted
//! by a crash is sent again (at-least-once: Kannel may have it). A refusal or a transport
//! failure forgets the record (durably). Each SMS carries `dlr-mask` and a `dlr-url` back to
//! umsgate with the job id and the callback secret. A final delivery report (delivered,
//! undelivered, SMSC nack) becomes the job's report in the same journal, on disk before Kannel
//! gets its 200 (DLRs arriving together share one fsync); reports are then offered, mailed and
//! forgotten ([`KannelGateway::report_done`]). A job without a final
//! report within `dlr_timeout` gets a **failed** report saying Kannel accepted the SMS but
//! never confirmed it (it may have arrived: the sender is told to check rather than being
//! told it was sent). Received SMS are written to `received/` before Kannel gets its 200
//! ([`listener`]).
//!
//! Implementation summary: one reqwest client (time-outs from the config), the callback
//! listener bound when the gateway opens (so a taken port stops the instance at start), and a
//! sweep for overdue jobs every `min(dlr_timeout / 4, 60s)`, which also compacts the pending
//! journal. Finishing a job (from a DLR or the sweep) holds one lock, so a job gets one report.

pub mod callback;
mod listener;
pub mod sendsms;
pub mod sms;
mod store;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use umsgate_domain::{Service, SitePlan};

pub use callback::{CallbackError, DlrType};
pub use sms::{Coding, Encoded};
pub use store::PendingRecord;
use store::{Known, Store};

use super::{DeliveryReport, DeliveryStatus, GatewayError, IncomingReport, Job, OpenError};
use crate::clock;
use crate::config::KannelConfig;

/// The report for a job Kannel never confirmed.
fn unconfirmed(r: &PendingRecord, timeout: Duration, now: std::time::SystemTime) -> DeliveryReport {
    let what = if r.accepted {
        "Kannel accepted the SMS"
    } else {
        "the SMS was handed to Kannel (its answer was not recorded)"
    };
    DeliveryReport {
        job_id: r.job_id.clone(),
        status: DeliveryStatus::Failed,
        pages: None,
        duration_s: None,
        attempts: None,
        remote_id: None,
        reason: Some(format!(
            "{what}, but no delivery report came within {}; it may have arrived",
            humantime(timeout)
        )),
        finished_at: clock::rfc3339(now),
    }
}

/// Now, as `received_at` says it.
fn received_at() -> String {
    clock::rfc3339(clock::now())
}

/// `2d`, `5h`, `90s`: the largest whole unit.
fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}min", s / 60),
        s => format!("{s}s"),
    }
}

/// The Kannel gateway of an instance.
#[derive(Debug)]
pub struct KannelGateway {
    cfg: KannelConfig,
    plan: SitePlan,
    store: Store,
    client: reqwest::Client,
    /// Bound at open, served by [`KannelGateway::run`].
    listener: Mutex<Option<std::net::TcpListener>>,
    /// The address it is bound to (`listen` with port 0 gets one).
    bound: std::net::SocketAddr,
}

impl KannelGateway {
    /// Creates `dir` (`<state>/<inst>/gateway/kannel/`) and binds the callback listener.
    pub fn open(
        dir: &Path,
        cfg: &KannelConfig,
        plan: &SitePlan,
    ) -> Result<KannelGateway, OpenError> {
        let store = Store::open(dir)?;
        let listener = std::net::TcpListener::bind(cfg.listen)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|source| OpenError::Listen {
                addr: cfg.listen,
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| OpenError::Listen {
            addr: cfg.listen,
            source,
        })?;
        Ok(KannelGateway {
            cfg: cfg.clone(),
            plan: plan.clone(),
            store,
            client: client(cfg)?,
            listener: Mutex::new(Some(listener)),
            bound,
        })
    }

    /// The callback listener's address.
    pub fn listen_addr(&self) -> std::net::SocketAddr {
        self.bound
    }

    /// Where report files of earlier versions wait: `reports/`.
    pub fn reports_dir(&self) -> PathBuf {
        self.store.reports()
    }

    /// The `dlr-url` for a job.
    fn dlr_url(&self, job_id: &str) -> String {
        let key = self
            .cfg
            .callback_key
            .as_ref()
            .map_or_else(String::new, |k| format!("key={}&", k.expose()));
        format!(
            "{}/dlr?{key}job={job_id}&type=%d&status=%A&smscid=%F&ts=%T",
            self.cfg.callback_base()
        )
    }

    pub async fn submit(&self, job: &Job) -> Result<(), GatewayError> {
        if job.service != Service::Sms {
            return Err(GatewayError {
                temporary: false,
                detail: format!(
                    "this umsgate instance sends through Kannel, which carries SMS only; a {} job needs an instance with a {} engine",
                    job.service, job.service
                ),
            });
        }
        if !super::received::safe_name(&job.job_id) {
            return Err(GatewayError {
                temporary: false,
                detail: format!("job id `{}` cannot be used in a URL", job.job_id),
            });
        }
        let text = job.text.clone().unwrap_or_default();
        let enc = Encoded::of(&text);
        let store = self.store.clone();
        let job_id = job.job_id.clone();
        let known = blocking(move || Ok(store.known(&job_id))).await?;
        match known {
            Known::Accepted | Known::Finished => {
                tracing::info!(event = "kannel.duplicate", job_id = %job.job_id, "Kannel has this job already; not sent twice");
                return Ok(());
            }
            Known::Sending => {
                tracing::warn!(event = "kannel.resend", job_id = %job.job_id, "an earlier hand-over was not answered; sent again");
            }
            Known::Unknown => {}
        }
        let record = PendingRecord {
            job_id: job.job_id.clone(),
            to: job.e164.clone(),
            coding: match enc.coding {
                Coding::Gsm7 => "gsm7".into(),
                Coding::Ucs2 => "ucs2".into(),
            },
            parts: enc.parts,
            since: clock::unix_seconds(clock::now()),
            accepted: false,
        };
        let (store, r) = (self.store.clone(), record.clone());
        blocking(move || store.record(&r)).await?;
        let dlr_url = self.dlr_url(&job.job_id);
        let sms = sendsms::SendSms {
            to: &job.e164,
            from: job.sms_sender.as_deref(),
            text: &text,
            coding: enc.coding,
            dlr_url: &dlr_url,
        };
        let answer = self.send(&sms).await;
        if let Err(e) = &answer {
            let (store, id) = (self.store.clone(), job.job_id.clone());
            if let Err(io) = blocking(move || store.drop_pending(&id)).await {
                tracing::error!(event = "kannel.pending_remove_failed", job_id = %job.job_id, error = %io);
            }
            if e.detail.contains("HTTP 403") {
                tracing::error!(event = "kannel.refused_account", job_id = %job.job_id, error = %e.detail);
            }
            return answer;
        }
        tracing::info!(event = "kannel.accepted", job_id = %job.job_id, to = %job.e164, coding = %record.coding, parts = enc.parts);
        let (store, id, since) = (
            self.store.clone(),
            job.job_id.clone(),
            clock::unix_seconds(clock::now()),
        );
        // Not fsynced: a process crash keeps it (the page cache survives); a power loss may
        // take the mark back to "sent, unanswered", and the job is then sent again if the
        // outbound worker had not yet recorded the hand-over itself.
        if let Err(e) = blocking(move || store.mark_accepted(&id, since)).await {
            // The unaccepted record stays: the DLR still finds the job, the sweep still ends it.
            tracing::error!(event = "kannel.pending_write_failed", job_id = %job.job_id, error = %e.detail);
        }
        Ok(())
    }

    async fn send(&self, sms: &sendsms::SendSms<'_>) -> Result<(), GatewayError> {
        let (method, url, headers, body) = sendsms::request(&self.cfg, sms)?;
        let resp = self
            .client
            .request(method, url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(sendsms::transport)?;
        let status = resp.status().as_u16();
        // Only the start of Kannel's answer is used (its reason); the rest is not read.
        let text = read_capped(resp, MAX_ANSWER).await.unwrap_or_default();
        sendsms::outcome(status, &text)
    }

    /// Serves Kannel's callbacks and ends overdue jobs until shutdown.
    pub async fn run(
        &self,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
        received: PathBuf,
        wake: Arc<tokio::sync::Notify>,
    ) {
        let std_listener = self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let mut stop = shutdown.clone();
        let server = async move {
            let Some(l) = std_listener else { return };
            let listener = match tokio::net::TcpListener::from_std(l) {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(event = "kannel.listen_failed", listen = %self.cfg.listen, error = %e, "Kannel's callbacks cannot be received");
                    return;
                }
            };
            let shared = Arc::new(listener::Shared::new(
                &self.cfg,
                self.plan.clone(),
                self.store.clone(),
                received,
                wake,
            ));
            let served = axum::serve(
                listener,
                listener::router(shared)
                    .into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
            if let Err(e) = served {
                tracing::error!(event = "kannel.listen_failed", listen = %self.cfg.listen, error = %e);
            }
        };
        let timeout = self.cfg.dlr_timeout;
        let period = (timeout / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
        let sweep = async {
            loop {
                self.sweep().await;
                tokio::select! {
                    _ = tokio::time::sleep(period) => {}
                    _ = shutdown.wait_for(|s| *s) => return,
                }
            }
        };
        tokio::join!(server, sweep);
    }

    /// Ends the jobs whose final DLR is overdue.
    async fn sweep(&self) {
        let (store, timeout) = (self.store.clone(), self.cfg.dlr_timeout);
        let done = tokio::task::spawn_blocking(move || {
            let now = clock::now();
            let mut n = 0;
            for r in store.overdue(clock::unix_seconds(now), timeout) {
                match store.finish(&unconfirmed(&r, timeout, now)) {
                    Ok(true) => {
                        tracing::warn!(event = "kannel.unconfirmed", job_id = %r.job_id, "no delivery report within dlr_timeout; reported as failed");
                        n += 1;
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::error!(event = "kannel.report_write_failed", job_id = %r.job_id, error = %e);
                    }
                }
            }
            if let Err(e) = store.compact_if_due() {
                tracing::error!(event = "kannel.compact_failed", error = %e);
            }
            n
        })
        .await;
        if let Err(e) = done {
            tracing::error!(event = "kannel.sweep_failed", error = %e);
        }
    }

    /// The reports waiting to be mailed: those of the journal, then report files left by
    /// earlier versions in `reports/`.
    pub async fn reports(&self) -> Vec<IncomingReport> {
        let mut out: Vec<IncomingReport> = self
            .store
            .waiting_reports()
            .into_iter()
            .map(|r| IncomingReport {
                key: r.job_id.clone(),
                report: Ok(r),
                file: None,
            })
            .collect();
        let dir = self.reports_dir();
        out.extend(
            tokio::task::spawn_blocking(move || super::spool::read_reports(&dir))
                .await
                .unwrap_or_default(),
        );
        out
    }

    /// A report's mail is handed over: the journal forgets it.
    pub async fn report_done(&self, job_id: &str) -> Result<(), GatewayError> {
        let (store, id) = (self.store.clone(), job_id.to_owned());
        blocking(move || store.mailed(&id)).await
    }
}

/// The sendsms client: time-outs from the config, no redirects (a redirect would carry the
/// password elsewhere).
fn client(cfg: &KannelConfig) -> Result<reqwest::Client, OpenError> {
    // reqwest is built without a default TLS provider; the process installs ring (main.rs).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(cfg.timeout)
        .connect_timeout(cfg.connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| OpenError::Http(e.without_url()))
}

/// Runs file work off the runtime; an I/O failure is temporary.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, GatewayError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(GatewayError::io("kannel state", &e)),
        Err(e) => Err(GatewayError {
            temporary: true,
            detail: e.to_string(),
        }),
    }
}

/// Most bytes read of sendsms's answer.
const MAX_ANSWER: usize = 4 * 1024;
/// Most bytes read of the status page (a few hundred per SMSC connection).
const MAX_STATUS: usize = 1024 * 1024;

/// The body of `resp` up to `max` bytes (the rest is not read), as text.
async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<String, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = max.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= max {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Why `umsgate check` finds Kannel unusable.
#[derive(Debug)]
pub enum CheckError {
    /// The HTTP client could not be built.
    Client(OpenError),
    /// `status_url` is not a URL.
    StatusUrl(Box<dyn std::error::Error + Send + Sync>),
    /// No answer (connection, time-out); without the URL, which may hold a password.
    Request {
        what: &'static str,
        source: reqwest::Error,
    },
    /// An HTTP status that says no.
    Status { what: &'static str, status: u16 },
    /// The status page is not Kannel's `status.xml`.
    NotKannel,
    /// Kannel runs, but no SMSC connection is online.
    NoSmscOnline { total: usize },
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckError::Client(e) => write!(f, "{e}"),
            CheckError::StatusUrl(e) => write!(f, "status_url: {e}"),
            CheckError::Request { what, source } => write!(f, "{what}: {source}"),
            CheckError::Status { what, status: 403 } => {
                write!(f, "{what} answered HTTP 403 (password?)")
            }
            CheckError::Status { what, status } => write!(f, "{what} answered HTTP {status}"),
            CheckError::NotKannel => f.write_str("the status page is not Kannel's status.xml"),
            CheckError::NoSmscOnline { total } => write!(
                f,
                "Kannel runs, but none of its {total} SMSC connections is online"
            ),
        }
    }
}

impl std::error::Error for CheckError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckError::Client(e) => Some(e),
            CheckError::StatusUrl(e) => Some(e.as_ref()),
            CheckError::Request { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Fetches Kannel's status page (`status_url`, with `status_password` as `password=`) or,
/// without one, checks that the sendsms URL answers at all; says what it saw.
pub async fn check(cfg: &KannelConfig) -> Result<String, CheckError> {
    let client = client(cfg).map_err(CheckError::Client)?;
    let request = |what| {
        move |e: reqwest::Error| CheckError::Request {
            what,
            source: e.without_url(),
        }
    };
    match &cfg.status_url {
        Some(u) => {
            let mut url = reqwest::Url::parse(u).map_err(|e| CheckError::StatusUrl(Box::new(e)))?;
            if let Some(p) = &cfg.status_secret {
                url.query_pairs_mut().append_pair("password", p.expose());
            }
            let resp = client
                .get(url)
                .send()
                .await
                .map_err(request("status page"))?;
            let status = resp.status().as_u16();
            if !resp.status().is_success() {
                return Err(CheckError::Status {
                    what: "status page",
                    status,
                });
            }
            let body = read_capped(resp, MAX_STATUS)
                .await
                .map_err(request("status page"))?;
            match status_smscs(&body) {
                Some((0, total)) => Err(CheckError::NoSmscOnline { total }),
                Some((online, total)) => {
                    Ok(format!("Kannel runs, {online} of {total} SMSC online"))
                }
                None => Err(CheckError::NotKannel),
            }
        }
        None => {
            // An unauthenticated request: Kannel answers 4xx, proving smsbox is there.
            let resp = client
                .get(&cfg.sendsms_url)
                .send()
                .await
                .map_err(request("sendsms"))?;
            match resp.status().as_u16() {
                s @ (400..=499 | 200..=299) => Ok(format!("sendsms answers (HTTP {s})")),
                status => Err(CheckError::Status {
                    what: "sendsms",
                    status,
                }),
            }
        }
    }
}

/// `(online, total)` SMSC connections from Kannel's `status.xml`.
fn status_smscs(body: &str) -> Option<(usize, usize)> {
    if !body.contains("<gateway>") {
        return None;
    }
    let total = body.matches("<smsc>").count();
    let online = body.matches("<status>online").count();
    Some((online, total))
}

#[cfg(test)]
mod tests;

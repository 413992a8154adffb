//! Prometheus metrics: what umsgate counts, and `/metrics` to read it.
//!
//! Contract: [`install`] sets the process's one recorder (the `metrics` facade with
//! `metrics-exporter-prometheus`) and may be called again: every call answers the same
//! [`Exporter`]. Until it runs, every count below is a no-op, so commands other than `run`
//! and the library's tests pay nothing. [`router`] answers `GET /metrics` in the Prometheus
//! text format (0.0.4); the web console mounts it too. [`serve`] runs it on
//! `[service] metrics.listen` until shutdown. Label values are the configured instance id or
//! names from closed sets (enums here, `Outcome::refusal` in the listener) — never text from
//! mail, clients or engines, so the number of series is bounded.
//!
//! What is counted (names in [`names`] and `umsgate_smtp::server::metrics`):
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `umsgate_smtp_mail_accepted_total` | counter | instance |
//! | `umsgate_smtp_mail_refused_total` | counter | instance, reason |
//! | `umsgate_smtp_intake_seconds` | histogram (end of DATA → 250) | instance |
//! | `umsgate_jobs_total` | counter | instance, service, outcome (`submitted` `refused` `sent` `failed`) |
//! | `umsgate_reports_mailed_total` | counter | instance, kind (`sent` `failed` `refused`) |
//! | `umsgate_deliveries_total` | counter, per recipient | instance, outcome (`delivered` `deferred` `failed`) |
//! | `umsgate_delivery_seconds` | histogram (one attempt at the mail server) | instance |
//! | `umsgate_retries_total` | counter (a delivery put off to its next interval) | instance |
//! | `umsgate_badmail_total` | counter (mail moved to `smtp-out/badmail/`) | instance |
//! | `umsgate_directory_lookup_seconds` | histogram | instance, query (`sender` `number`) |
//! | `umsgate_queue_messages` | gauge | instance, state (`incoming` `outgoing` `deferred` `badmail` `error`) |
//! | `umsgate_jobs_handed_over` | gauge (jobs the engine has, whose report has not come) | instance |
//!
//! Implementation summary: the exporter is built without its HTTP listener (no default
//! features); the handle's `render()` is served by a small axum router. Queue depths are not
//! counted as mail moves (the folders are shared with administrators and `queue` commands,
//! which move files behind the process's back): a scrape counts the folders as `queue list`
//! does — listing them, reading sidecars only in `smtp-out/` where they tell `outgoing` from
//! `deferred` — at most once every [`QUEUE_REFRESH`], and serves the cached counts in between.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::Config;
use crate::outbound::jobs::JobRecords;
use crate::spool::layout::{InstanceDirs, QueueState};
use crate::spool::{INTAKE_DIR, QueueId, intake, list_dir};
use umsgate_domain::Service;

/// The metric and label names the application uses.
pub mod names {
    pub const JOBS: &str = "umsgate_jobs_total";
    pub const REPORTS_MAILED: &str = "umsgate_reports_mailed_total";
    pub const DELIVERIES: &str = "umsgate_deliveries_total";
    pub const DELIVERY_SECONDS: &str = "umsgate_delivery_seconds";
    pub const RETRIES: &str = "umsgate_retries_total";
    pub const BADMAIL: &str = "umsgate_badmail_total";
    pub const DIRECTORY_SECONDS: &str = "umsgate_directory_lookup_seconds";
    pub const QUEUE_MESSAGES: &str = "umsgate_queue_messages";
    pub const JOBS_HANDED_OVER: &str = "umsgate_jobs_handed_over";

    pub const INSTANCE: &str = "instance";
    pub const SERVICE: &str = "service";
    pub const OUTCOME: &str = "outcome";
    pub const KIND: &str = "kind";
    pub const QUERY: &str = "query";
    pub const STATE: &str = "state";
}

/// How often a scrape may read the queue folders; scrapes in between get the last counts.
pub const QUEUE_REFRESH: Duration = Duration::from_secs(5);

/// Bucket bounds of the latency histograms, in seconds (1 ms … 60 s).
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// What became of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// Handed to the engine.
    Submitted,
    /// Not sent: refused by umsgate's rules or by the engine at hand-over.
    Refused,
    /// The engine reported it sent.
    Sent,
    /// The engine reported it failed.
    Failed,
}

impl JobOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Submitted => "submitted",
            JobOutcome::Refused => "refused",
            JobOutcome::Sent => "sent",
            JobOutcome::Failed => "failed",
        }
    }
}

/// What one delivery attempt did for one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    /// A temporary failure: tried again later (or Badmail when the retries are used up).
    Deferred,
    /// A permanent failure: Badmail.
    Failed,
}

impl DeliveryOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Deferred => "deferred",
            DeliveryOutcome::Failed => "failed",
        }
    }
}

/// What a directory lookup looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The sender of an outbound mail, by address.
    Sender,
    /// The owner of a called number (inbound).
    Number,
}

impl Lookup {
    pub fn as_str(self) -> &'static str {
        match self {
            Lookup::Sender => "sender",
            Lookup::Number => "number",
        }
    }
}

pub fn job(instance: &str, service: Service, outcome: JobOutcome) {
    metrics::counter!(names::JOBS, names::INSTANCE => instance.to_owned(), names::SERVICE => service.as_str(), names::OUTCOME => outcome.as_str())
        .increment(1);
}

/// A report mailed (handed to delivery); `kind` is the report's template stem.
pub fn report_mailed(instance: &str, kind: &'static str) {
    metrics::counter!(names::REPORTS_MAILED, names::INSTANCE => instance.to_owned(), names::KIND => kind)
        .increment(1);
}

pub fn delivery(instance: &str, outcome: DeliveryOutcome, recipients: usize) {
    metrics::counter!(names::DELIVERIES, names::INSTANCE => instance.to_owned(), names::OUTCOME => outcome.as_str())
        .increment(recipients as u64);
}

pub fn delivery_time(instance: &str, took: Duration) {
    metrics::histogram!(names::DELIVERY_SECONDS, names::INSTANCE => instance.to_owned())
        .record(took.as_secs_f64());
}

pub fn retry(instance: &str) {
    metrics::counter!(names::RETRIES, names::INSTANCE => instance.to_owned()).increment(1);
}

pub fn badmail(instance: &str) {
    metrics::counter!(names::BADMAIL, names::INSTANCE => instance.to_owned()).increment(1);
}

pub fn lookup_time(instance: &str, lookup: Lookup, took: Duration) {
    metrics::histogram!(names::DIRECTORY_SECONDS, names::INSTANCE => instance.to_owned(), names::QUERY => lookup.as_str())
        .record(took.as_secs_f64());
}

/// The job records of each running instance, counted at every scrape (an in-memory count).
static HANDED_OVER: Mutex<BTreeMap<String, JobRecords>> = Mutex::new(BTreeMap::new());

/// Counts `jobs` as instance `instance`'s jobs handed over (replacing those of an instance
/// restarted by a reload).
pub fn track_jobs(instance: &str, jobs: JobRecords) {
    if let Ok(mut m) = HANDED_OVER.lock() {
        m.insert(instance.to_owned(), jobs);
    }
}

/// Stops counting instance `instance`'s jobs (it stopped); its gauge reads 0.
pub fn untrack_jobs(instance: &str) {
    if let Ok(mut m) = HANDED_OVER.lock() {
        m.remove(instance);
    }
    metrics::gauge!(names::JOBS_HANDED_OVER, names::INSTANCE => instance.to_owned()).set(0.0);
}

/// Why the exporter could not be set up.
#[derive(Debug)]
pub enum MetricsError {
    /// Another recorder was installed first (not one of ours).
    Recorder(metrics::SetRecorderError<metrics_exporter_prometheus::PrometheusRecorder>),
    /// A histogram's buckets were refused.
    Build(metrics_exporter_prometheus::BuildError),
    /// `metrics.listen` cannot be bound.
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl std::fmt::Display for MetricsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricsError::Recorder(_) => write!(f, "another metrics recorder is installed"),
            MetricsError::Build(_) => write!(f, "cannot build the Prometheus recorder"),
            MetricsError::Listen { addr, .. } => write!(f, "cannot listen on {addr} (metrics)"),
        }
    }
}

impl std::error::Error for MetricsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MetricsError::Recorder(e) => Some(e),
            MetricsError::Build(e) => Some(e),
            MetricsError::Listen { source, .. } => Some(source),
        }
    }
}

/// The installed recorder's handle and the queue counts it serves.
pub struct Exporter {
    handle: PrometheusHandle,
    queues: QueueGauges,
}

static EXPORTER: OnceLock<Arc<Exporter>> = OnceLock::new();

/// Installs the recorder (once per process) and answers the exporter.
pub fn install() -> Result<Arc<Exporter>, MetricsError> {
    if let Some(e) = EXPORTER.get() {
        return Ok(Arc::clone(e));
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &LATENCY_BUCKETS)
        .map_err(MetricsError::Build)?
        .install_recorder()
        .map_err(|e| match e {
            metrics_exporter_prometheus::BuildError::FailedToSetGlobalRecorder(r) => {
                MetricsError::Recorder(r)
            }
            other => MetricsError::Build(other),
        })?;
    let exporter = Arc::new(Exporter {
        handle,
        queues: QueueGauges::default(),
    });
    // Two first calls at once: the second recorder is refused above (an error), so the one
    // stored here is the one installed.
    Ok(Arc::clone(EXPORTER.get_or_init(|| exporter)))
}

impl Exporter {
    /// The configuration whose instances' queues are counted (again after a reload).
    pub fn watch_config(&self, config: Arc<Config>) {
        if let Ok(mut c) = self.queues.config.write() {
            *c = Some(config);
        }
        if let Ok(mut at) = self.queues.refreshed.lock() {
            *at = None;
        }
    }

    /// The exposition text: queue depths refreshed when due, then everything recorded.
    pub async fn render(&self) -> String {
        self.queues.refresh().await;
        if let Ok(m) = HANDED_OVER.lock() {
            for (id, jobs) in m.iter() {
                if let Some(n) = jobs.local_len() {
                    metrics::gauge!(names::JOBS_HANDED_OVER, names::INSTANCE => id.clone())
                        .set(n as f64);
                }
            }
        }
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// The queue-depth gauges and when they were last read.
#[derive(Default)]
struct QueueGauges {
    config: RwLock<Option<Arc<Config>>>,
    /// `None`: never, or the configuration changed since.
    refreshed: Mutex<Option<Instant>>,
    /// The instances last reported, so that one removed by a reload drops to zero.
    reported: Mutex<BTreeSet<String>>,
}

impl QueueGauges {
    async fn refresh(&self) {
        {
            let Ok(mut at) = self.refreshed.lock() else {
                return;
            };
            if at.is_some_and(|t| t.elapsed() < QUEUE_REFRESH) {
                return;
            }
            *at = Some(Instant::now());
        }
        let Some(config) = self.config.read().ok().and_then(|c| c.clone()) else {
            return;
        };
        let listed = tokio::task::spawn_blocking(move || (count_depths(&config), config)).await;
        let Ok((depths, config)) = listed else {
            return;
        };
        let depths = match depths {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(event = "metrics.queue_count_failed", error = %e, "queue depths not refreshed");
                return;
            }
        };
        let ids: BTreeSet<String> = config
            .instances
            .iter()
            .map(|i| i.id.get_ref().to_string())
            .collect();
        if let Ok(mut reported) = self.reported.lock() {
            for gone in reported.difference(&ids) {
                for state in QueueState::ALL {
                    set_depth(gone, state, 0);
                }
                metrics::gauge!(names::JOBS_HANDED_OVER, names::INSTANCE => gone.clone()).set(0.0);
            }
            reported.clone_from(&ids);
        }
        for (id, state, n) in depths {
            set_depth(&id, state, n);
        }
    }
}

/// Every instance's depth per state, counted as `queue list` counts them: a message is its
/// `.eml` (with a queue id for a name); in `smtp-out/` its sidecar says whether it was tried
/// (`deferred`) or not (`outgoing`); `incoming` adds the live messages of the intake log.
/// Only `smtp-out/` has its sidecars read; the other folders are only listed.
fn count_depths(config: &Config) -> std::io::Result<Vec<(String, QueueState, usize)>> {
    let mut out = Vec::new();
    for inst in &config.instances {
        let id = inst.id.get_ref();
        let dirs = InstanceDirs::new(&config.instance_state_dir(id));
        let intake = match intake::count_live(&dirs.smtp_in.join(INTAKE_DIR)) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        let (mut outgoing, mut deferred) = (0, 0);
        for e in or_empty(list_dir(&dirs.smtp_out))? {
            if e.sidecar.as_ref().is_some_and(|s| s.attempts > 0) {
                deferred += 1;
            } else {
                outgoing += 1;
            }
        }
        let id = id.to_string();
        out.push((
            id.clone(),
            QueueState::Incoming,
            count_eml(&dirs.smtp_in)? + intake,
        ));
        out.push((id.clone(), QueueState::Outgoing, outgoing));
        out.push((id.clone(), QueueState::Deferred, deferred));
        out.push((id.clone(), QueueState::Badmail, count_eml(&dirs.badmail)?));
        out.push((id, QueueState::Error, count_eml(&dirs.smtp_in_error)?));
    }
    Ok(out)
}

fn or_empty<T>(r: std::io::Result<Vec<T>>) -> std::io::Result<Vec<T>> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        other => other,
    }
}

/// The messages in a queue folder: files `<queue id>.eml` (what `list_dir` lists).
fn count_eml(dir: &std::path::Path) -> std::io::Result<usize> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut n = 0;
    for entry in rd {
        let entry = entry?;
        let name = entry.file_name();
        let is_message = name
            .to_str()
            .and_then(|n| n.strip_suffix(".eml"))
            .is_some_and(|stem| QueueId::parse(stem).is_some());
        if is_message && entry.file_type().is_ok_and(|t| t.is_file()) {
            n += 1;
        }
    }
    Ok(n)
}

fn set_depth(instance: &str, state: QueueState, n: usize) {
    metrics::gauge!(names::QUEUE_MESSAGES, names::INSTANCE => instance.to_owned(), names::STATE => state.as_str())
        .set(n as f64);
}

/// `GET /metrics`, in the Prometheus text format.
pub fn router(exporter: Arc<Exporter>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(exporter)
}

async fn scrape(State(exporter): State<Arc<Exporter>>) -> Response {
    let body = exporter.render().await;
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Binds `metrics.listen` (before the instances start, so that a taken port stops `run`).
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, MetricsError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| MetricsError::Listen { addr, source })
}

/// Serves [`router`] on `listener` until `shutdown` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    exporter: Arc<Exporter>,
    mut shutdown: watch::Receiver<bool>,
) {
    let addr = listener.local_addr().ok();
    tracing::info!(event = "metrics.listening", addr = ?addr);
    let stop = async move {
        while !*shutdown.borrow() {
            if shutdown.changed().await.is_err() {
                return;
            }
        }
    };
    if let Err(e) = axum::serve(listener, router(exporter))
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!(event = "metrics.failed", error = %e);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::spool::admin;

    fn badmail_pair(folder: &std::path::Path, n: u32) {
        pair(folder, n, 5);
    }

    fn pair(folder: &std::path::Path, n: u32, attempts: u32) {
        std::fs::create_dir_all(folder).unwrap();
        let id = format!("{n:016X}");
        let eml = b"From: <a@example.com>\r\nSubject: t\r\n\r\nx\r\n";
        std::fs::write(folder.join(format!("{id}.eml")), eml).unwrap();
        let sidecar = serde_json::json!({
            "v": 1, "id": id, "instance": "q", "received_at": "2026-12-04T10:00:00Z",
            "origin": "local", "mail_from": "a@example.com",
            "rcpts": [{"address": "b@example.com", "key": 0}], "size": eml.len(),
            "attempts": attempts,
        });
        std::fs::write(folder.join(format!("{id}.json")), sidecar.to_string()).unwrap();
    }

    fn badmail_depth(body: &str) -> Option<String> {
        body.lines()
            .find(|l| {
                l.starts_with("umsgate_queue_messages{")
                    && l.contains("instance=\"q\"")
                    && l.contains("state=\"badmail\"")
            })
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_owned)
    }

    #[test]
    fn depths_are_what_queue_list_counts() {
        let dir = std::env::temp_dir().join(format!(
            "umsgate-depths-{}-{}",
            std::process::id(),
            crate::spool::QueueId::generate()
        ));
        let text = "[service]\nstate_dir = \"state\"\n[[instance]]\nid = \"d\"\n[instance.smtp_in]\nlisten = [\"127.0.0.1:0\"]\n[instance.mail]\ndomain = \"example.com\"\ndefault_recipient = \"postmaster@example.com\"\nreport_sender = \"ums@example.com\"\n";
        let config = Config::parse(text, &dir.join("umsgate.toml")).unwrap();
        let dirs = InstanceDirs::new(&config.instance_state_dir(config.instances[0].id.get_ref()));
        pair(&dirs.smtp_in, 1, 0);
        pair(&dirs.smtp_in, 2, 0);
        pair(&dirs.smtp_out, 3, 0);
        pair(&dirs.smtp_out, 4, 1);
        pair(&dirs.smtp_out, 5, 3);
        pair(&dirs.badmail, 6, 5);
        pair(&dirs.smtp_in_error, 7, 0);
        // A hand-dropped mail counts (its name is a queue id); not messages: another file, a
        // name that is no queue id, a folder.
        std::fs::write(dirs.badmail.join("dropped-by-hand.eml"), "x").unwrap();
        std::fs::write(dirs.badmail.join("notes.eml.txt"), "x").unwrap();
        std::fs::write(dirs.badmail.join(".hidden.eml"), "x").unwrap();
        std::fs::write(dirs.badmail.join("a b.eml"), "x").unwrap();
        std::fs::create_dir_all(dirs.badmail.join("0000000000000009.eml")).unwrap();

        let listed = admin::list(&config, None, None).unwrap();
        let counted = count_depths(&config).unwrap();
        for state in QueueState::ALL {
            let want = listed.iter().filter(|i| i.state == state).count();
            let got = counted
                .iter()
                .find(|(_, s, _)| *s == state)
                .map(|(_, _, n)| *n);
            assert_eq!(got, Some(want), "{state:?}");
        }
        let total: usize = counted.iter().map(|(_, _, n)| n).sum();
        assert_eq!(total, 8, "{counted:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(start_paused = true)]
    async fn queue_depths_are_read_at_most_once_per_interval() {
        let dir = std::env::temp_dir().join(format!(
            "umsgate-metrics-{}-{}",
            std::process::id(),
            crate::spool::QueueId::generate()
        ));
        let text = "[service]\nstate_dir = \"state\"\n[[instance]]\nid = \"q\"\n[instance.smtp_in]\nlisten = [\"127.0.0.1:0\"]\n[instance.mail]\ndomain = \"example.com\"\ndefault_recipient = \"postmaster@example.com\"\nreport_sender = \"ums@example.com\"\n";
        let config = Config::parse(text, &dir.join("umsgate.toml")).unwrap();
        let badmail = dir.join("state/q/smtp-out/badmail");
        std::fs::create_dir_all(&badmail).unwrap();
        badmail_pair(&badmail, 1);

        let exporter = install().unwrap();
        exporter.watch_config(Arc::new(config));
        assert_eq!(
            badmail_depth(&exporter.render().await).as_deref(),
            Some("1")
        );
        // Within the interval the cached count is served, whatever the folder holds now.
        badmail_pair(&badmail, 2);
        tokio::time::advance(QUEUE_REFRESH - Duration::from_millis(1)).await;
        assert_eq!(
            badmail_depth(&exporter.render().await).as_deref(),
            Some("1")
        );
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(
            badmail_depth(&exporter.render().await).as_deref(),
            Some("2")
        );
        // A second install is the same exporter.
        assert!(Arc::ptr_eq(&exporter, &install().unwrap()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

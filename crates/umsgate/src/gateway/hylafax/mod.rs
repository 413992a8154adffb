//! The HylaFAX engine (`kind = "hylafax"`): fax jobs go to hfaxd over its client protocol
//! ([`protocol`]), their outcome comes back by polling `LIST doneq`, received faxes arrive
//! through `umsgate hylafax-received` ([`received`]) run by HylaFAX's `FaxRcvdCmd`.
//!
//! Contract: [`HylafaxGateway::submit`] takes fax jobs only (an SMS or voice job is refused
//! permanently: this engine carries fax). Before anything is sent to hfaxd the job's record
//! `jobs/<job-id>.json` is written and fsynced under `<state>/<instance>/gateway/hylafax/`;
//! once hfaxd has accepted the job (`JSUBM`) the record is rewritten with HylaFAX's job id
//! (without fsync: a record that lost it is handled as one that never had it).
//! A job whose record already has a HylaFAX id is not sent again; one whose record has none
//! (umsgate stopped between the two writes) is looked for in `sendq` and `doneq` by its tag
//! (`JOBINFO` = umsgate's job id) before it is submitted — so a job is never submitted twice.
//! Finished jobs (`doneq` state `D` or `F`) become [`DeliveryReport`]s with the pages sent,
//! the attempts and HylaFAX's status text; a report is offered by
//! [`HylafaxGateway::reports`] until [`HylafaxGateway::report_done`] removes the record
//! (fsynced), so after a restart every unreported job is found again and reported once.
//! Requeued jobs (busy, no answer) are logged, not reported. Errors: connection failures,
//! time-outs and hfaxd's 4xx replies are temporary; a 5xx reply to a job parameter or to
//! `JSUBM` (a document or number hfaxd refuses), and values that cannot be sent, are
//! permanent.
//!
//! Implementation summary: up to [`SESSIONS`] control connections, each behind an async mutex
//! and taken by whichever submission or poll finds it free (hfaxd serves each connection in a
//! process of its own, and its reply to an upload waits on its disk: parallel sessions overlap
//! those waits), each opened on demand and again after a failure with a growing pause (1 s up to
//! 60 s). `JSUBM` follows only when `JNEW`, every parameter and `DOCUMENT` were accepted. The job parameters are quoted by [`protocol::quote`]. Dial strings come from the
//! site's number plan through `dial_template`.

pub mod protocol;
pub mod received;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use umsgate_domain::{PhoneNumber, Priority, Service, SitePlan};

use self::protocol::{JOB_FORMAT, JobLine, LoginParams, ProtoError, Reply, Session, quote};
use super::{DeliveryReport, DeliveryStatus, GatewayError, Job, OpenError};
use crate::clock;
use crate::config::HylafaxConfig;

/// Control connections kept to hfaxd at most.
pub const SESSIONS: usize = 4;
/// Longest pause between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Most unreported jobs kept; a submission beyond it waits (temporary error).
const MAX_PENDING: usize = 100_000;

/// What umsgate keeps of a job handed to HylaFAX (`jobs/<job-id>.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    job_id: String,
    /// HylaFAX's job id; `None` while the submission is under way.
    #[serde(default)]
    hylafax_id: Option<String>,
    e164: String,
}

#[derive(Debug)]
struct Connection {
    session: Option<Session>,
    /// No new attempt before this instant.
    next_try: Option<Instant>,
    pause: Duration,
}

/// The HylaFAX backend of one instance.
#[derive(Debug)]
pub struct HylafaxGateway {
    cfg: HylafaxConfig,
    plan: SitePlan,
    jobs_dir: PathBuf,
    conns: Vec<tokio::sync::Mutex<Connection>>,
    /// Which connection a caller waits for when none is free.
    next_conn: std::sync::atomic::AtomicUsize,
    /// Unreported jobs by umsgate job id.
    records: Mutex<BTreeMap<String, Record>>,
    /// Finished jobs whose report has not been mailed yet.
    finished: Mutex<BTreeMap<String, DeliveryReport>>,
    /// Dials seen per job, to log each requeue once.
    requeues: Mutex<HashMap<String, u32>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl From<ProtoError> for GatewayError {
    fn from(e: ProtoError) -> Self {
        GatewayError {
            temporary: e.temporary(),
            detail: e.to_string(),
        }
    }
}

impl HylafaxGateway {
    /// Opens the job records in `dir` (`<state>/<instance>/gateway/hylafax/`); does not
    /// connect.
    pub fn open(dir: &Path, cfg: &HylafaxConfig, plan: &SitePlan) -> Result<Self, OpenError> {
        let jobs_dir = dir.join("jobs");
        std::fs::create_dir_all(&jobs_dir).map_err(|e| OpenError::io("create", &jobs_dir, e))?;
        let mut records = BTreeMap::new();
        let entries =
            std::fs::read_dir(&jobs_dir).map_err(|e| OpenError::io("read", &jobs_dir, e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                // An unfinished rewrite: the record it replaces is still there.
                let _ = std::fs::remove_file(&path);
                continue;
            }
            if !name.ends_with(".json") {
                continue;
            }
            let read = std::fs::read(&path).map_err(|e| OpenError::io("read", &path, e))?;
            match serde_json::from_slice::<Record>(&read) {
                Ok(r) => {
                    records.insert(r.job_id.clone(), r);
                }
                Err(e) => {
                    tracing::error!(event = "gateway.hylafax.bad_record", path = %path.display(), error = %e, "set aside as .bad");
                    let _ = std::fs::rename(&path, path.with_extension("bad"));
                }
            }
        }
        tracing::info!(event = "gateway.hylafax.opened", unreported = records.len(), host = %cfg.host, port = cfg.port);
        Ok(HylafaxGateway {
            cfg: cfg.clone(),
            plan: plan.clone(),
            jobs_dir,
            conns: (0..SESSIONS)
                .map(|_| {
                    tokio::sync::Mutex::new(Connection {
                        session: None,
                        next_try: None,
                        pause: Duration::from_secs(1),
                    })
                })
                .collect(),
            next_conn: std::sync::atomic::AtomicUsize::new(0),
            records: Mutex::new(records),
            finished: Mutex::new(BTreeMap::new()),
            requeues: Mutex::new(HashMap::new()),
        })
    }

    fn login_params(&self) -> LoginParams {
        login_params(&self.cfg)
    }

    /// Runs `f` on the logged-in session, connecting first when needed; a failure that breaks
    /// the connection drops it and delays the next attempt.
    async fn with_session<T>(
        &self,
        f: impl AsyncFnOnce(&mut Session) -> Result<T, ProtoError>,
    ) -> Result<T, ProtoError> {
        let free = self.conns.iter().find_map(|c| c.try_lock().ok());
        let mut conn = match free {
            Some(c) => c,
            None => {
                let i = self
                    .next_conn
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.conns[i % self.conns.len()].lock().await
            }
        };
        if conn.session.is_none() {
            if let Some(at) = conn.next_try
                && Instant::now() < at
            {
                return Err(ProtoError::Io {
                    what: "connect",
                    source: std::io::Error::other("waiting before the next connection attempt"),
                });
            }
            match Session::login(&self.login_params()).await {
                Ok(mut s) => match s.ok(&format!("JOBFMT {}", quote_fmt())).await {
                    Ok(_) => {
                        tracing::info!(event = "gateway.hylafax.connected", host = %self.cfg.host, port = self.cfg.port);
                        conn.session = Some(s);
                        conn.next_try = None;
                        conn.pause = Duration::from_secs(1);
                    }
                    Err(e) => return Err(self.failed(&mut conn, e)),
                },
                Err(e) => return Err(self.failed(&mut conn, e)),
            }
        }
        let Some(session) = conn.session.as_mut() else {
            return Err(ProtoError::Closed);
        };
        match f(session).await {
            Ok(v) => Ok(v),
            Err(e) if e.breaks_session() => Err(self.failed(&mut conn, e)),
            Err(e) => Err(e),
        }
    }

    fn failed(&self, conn: &mut Connection, e: ProtoError) -> ProtoError {
        tracing::warn!(event = "gateway.hylafax.connection_failed", host = %self.cfg.host, port = self.cfg.port, error = %e, retry_in_s = conn.pause.as_secs());
        conn.session = None;
        conn.next_try = Some(Instant::now() + conn.pause);
        conn.pause = (conn.pause * 2).min(MAX_BACKOFF);
        e
    }

    /// Hands a fax job to HylaFAX (see the module contract).
    pub async fn submit(&self, job: &Job) -> Result<(), GatewayError> {
        let permanent = |detail: String| GatewayError {
            temporary: false,
            detail,
        };
        if job.service != Service::Fax {
            return Err(permanent(format!(
                "this instance's engine is HylaFAX, which carries fax only; {} jobs are not sent here",
                job.service
            )));
        }
        if !super::received::safe_name(&job.job_id) || job.job_id.contains('|') {
            return Err(permanent(format!(
                "job id `{}` is not a plain name",
                job.job_id
            )));
        }
        let [(_, document)] = job.files.as_slice() else {
            return Err(permanent(format!(
                "HylaFAX takes one rendered document per job, this job has {}",
                job.files.len()
            )));
        };
        let params = job_params(&self.cfg, &self.plan, job).map_err(GatewayError::from)?;
        let known = lock(&self.records).get(&job.job_id).cloned();
        if let Some(Record {
            hylafax_id: Some(id),
            ..
        }) = &known
        {
            tracing::info!(event = "gateway.duplicate", job_id = %job.job_id, hylafax_id = %id, "job already with HylaFAX; not sent twice");
            return Ok(());
        }
        if known.is_none() {
            if lock(&self.records).len() >= MAX_PENDING {
                return Err(GatewayError {
                    temporary: true,
                    detail: format!("{MAX_PENDING} jobs wait for their outcome"),
                });
            }
            let record = Record {
                job_id: job.job_id.clone(),
                hylafax_id: None,
                e164: job.e164.clone(),
            };
            self.write_record(&record, true).await?;
            lock(&self.records).insert(job.job_id.clone(), record);
        }
        let job_id = job.job_id.clone();
        let look_first = known.is_some();
        let result = self
            .with_session(async |s| {
                if look_first {
                    for q in ["sendq", "doneq"] {
                        if let Some(l) = s
                            .list(q)
                            .await?
                            .iter()
                            .filter_map(|l| JobLine::parse(l))
                            .find(|l| l.tag == job_id)
                        {
                            return Ok((l.id, true));
                        }
                    }
                }
                submit_on(s, document, &params).await.map(|id| (id, false))
            })
            .await;
        match result {
            Ok((id, found)) => {
                let record = Record {
                    job_id: job.job_id.clone(),
                    hylafax_id: Some(id.clone()),
                    e164: job.e164.clone(),
                };
                self.write_record(&record, false).await?;
                lock(&self.records).insert(job.job_id.clone(), record);
                if found {
                    tracing::info!(event = "gateway.duplicate", job_id = %job.job_id, hylafax_id = %id, "job found with HylaFAX; not sent twice");
                } else {
                    tracing::info!(event = "gateway.hylafax.submitted", job_id = %job.job_id, hylafax_id = %id, dialstring = %params.dialstring);
                }
                Ok(())
            }
            Err(e) => {
                if !e.temporary() {
                    // Refused: HylaFAX keeps nothing of it (hfaxd drops an unsubmitted job
                    // with the session), so neither does umsgate.
                    self.remove_record(&job.job_id).await;
                }
                Err(e.into())
            }
        }
    }

    /// Writes a job record; `durable`: fsynced, with its folder. The record with HylaFAX's id
    /// need not be: without it the job is looked up by its tag.
    async fn write_record(&self, r: &Record, durable: bool) -> Result<(), GatewayError> {
        let bytes = serde_json::to_vec(r).map_err(|e| GatewayError {
            temporary: false,
            detail: e.to_string(),
        })?;
        let dir = self.jobs_dir.clone();
        let name = format!("{}.json", r.job_id);
        tokio::task::spawn_blocking(move || replace_file(&dir, &name, &bytes, durable))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
            .map_err(|e| GatewayError::io("job record", &e))
    }

    async fn remove_record(&self, job_id: &str) -> bool {
        let path = self.jobs_dir.join(format!("{job_id}.json"));
        let dir = self.jobs_dir.clone();
        let removed = tokio::task::spawn_blocking(move || {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            crate::spool::sync_dir(&dir)
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        match removed {
            Ok(()) => {
                lock(&self.records).remove(job_id);
                true
            }
            Err(e) => {
                tracing::error!(event = "gateway.hylafax.record_remove_failed", job_id, error = %e);
                false
            }
        }
    }

    /// The reports of finished jobs not yet mailed.
    pub fn reports(&self) -> Vec<DeliveryReport> {
        lock(&self.finished).values().cloned().collect()
    }

    /// The report of `job_id` has been mailed: its record goes (and, with `delete_done`,
    /// the job leaves HylaFAX's `doneq`).
    pub async fn report_done(&self, job_id: &str) -> Result<(), GatewayError> {
        let hylafax_id = lock(&self.records)
            .get(job_id)
            .and_then(|r| r.hylafax_id.clone());
        if !self.remove_record(job_id).await {
            return Err(GatewayError {
                temporary: true,
                detail: format!("cannot remove the record of job {job_id}"),
            });
        }
        lock(&self.finished).remove(job_id);
        lock(&self.requeues).remove(job_id);
        if self.cfg.delete_done
            && let Some(id) = hylafax_id
        {
            let deleted = self
                .with_session(async |s| {
                    s.ok(&format!("JOB {id}")).await?;
                    s.ok("JDELE").await
                })
                .await;
            if let Err(e) = deleted {
                tracing::warn!(event = "gateway.hylafax.delete_failed", job_id, hylafax_id = %id, error = %e);
            }
        }
        Ok(())
    }

    /// One look at HylaFAX's queues: finished jobs become reports, requeues are logged, and a
    /// record without HylaFAX id gets it when the job is found.
    pub async fn poll(&self) -> Result<(), ProtoError> {
        if lock(&self.records).is_empty() {
            return Ok(());
        }
        let (send, done) = self
            .with_session(async |s| Ok((s.list("sendq").await?, s.list("doneq").await?)))
            .await?;
        let user = self.cfg.user.as_str();
        let lines = |v: &[String]| -> Vec<JobLine> {
            v.iter()
                .filter_map(|l| JobLine::parse(l))
                .filter(|l| l.owner == user)
                .collect()
        };
        let (send, done) = (lines(&send), lines(&done));
        let records: BTreeMap<String, Record> = lock(&self.records).clone();
        let mut learned = Vec::new();
        for l in send.iter().chain(&done) {
            if let Some(r) = records.get(&l.tag)
                && r.hylafax_id.is_none()
            {
                learned.push(Record {
                    hylafax_id: Some(l.id.clone()),
                    ..r.clone()
                });
            }
        }
        for r in learned {
            if self.write_record(&r, false).await.is_ok() {
                lock(&self.records).insert(r.job_id.clone(), r);
            }
        }
        for l in &send {
            let Some(r) = records.get(&l.tag) else {
                continue;
            };
            if l.state == 'S' && !l.status.is_empty() {
                let mut seen = lock(&self.requeues);
                if seen.get(&r.job_id) != Some(&l.dials) {
                    seen.insert(r.job_id.clone(), l.dials);
                    tracing::info!(event = "gateway.hylafax.requeued", job_id = %r.job_id, hylafax_id = %l.id, dials = l.dials, tries = l.tries, status = %l.status);
                }
            }
        }
        let now = clock::rfc3339(clock::now());
        for l in &done {
            let Some(r) = records.get(&l.tag) else {
                continue;
            };
            if r.hylafax_id.as_deref().is_some_and(|id| id != l.id) {
                continue;
            }
            let status = match l.state {
                'D' => DeliveryStatus::Sent,
                'F' => DeliveryStatus::Failed,
                _ => continue,
            };
            let mut finished = lock(&self.finished);
            if finished.contains_key(&r.job_id) {
                continue;
            }
            let reason = match (status, l.status.is_empty()) {
                (_, false) => Some(l.status.clone()),
                (DeliveryStatus::Failed, true) => Some("HylaFAX gave the job up".to_owned()),
                (DeliveryStatus::Sent, true) => None,
            };
            tracing::info!(event = "gateway.hylafax.finished", job_id = %r.job_id, hylafax_id = %l.id, status = ?status, pages = l.pages_done, total = l.pages_total, tries = l.tries, dials = l.dials, reason = reason.as_deref().unwrap_or(""));
            finished.insert(
                r.job_id.clone(),
                DeliveryReport {
                    job_id: r.job_id.clone(),
                    status,
                    pages: Some(l.pages_done),
                    duration_s: None,
                    attempts: Some(l.tries.max(l.dials)),
                    remote_id: Some(l.id.clone()),
                    reason,
                    finished_at: now.clone(),
                },
            );
        }
        Ok(())
    }

    /// Polls every `poll_interval` until shutdown.
    pub async fn run(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.poll().await {
                tracing::warn!(event = "gateway.hylafax.poll_failed", error = %e);
            }
            tokio::select! {
                _ = tokio::time::sleep(self.cfg.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// Login parameters of a configuration (for `umsgate check` too).
pub fn login_params(cfg: &HylafaxConfig) -> LoginParams {
    LoginParams {
        host: cfg.host.clone(),
        port: cfg.port,
        user: cfg.user.clone(),
        password: cfg.secret.as_ref().map(|s| s.expose().to_owned()),
        reply_timeout: cfg.reply_timeout,
        transfer_timeout: cfg.transfer_timeout,
        passive: cfg.passive,
    }
}

/// Logs in and out: what `umsgate check` asks.
pub async fn check_login(cfg: &HylafaxConfig) -> Result<(), ProtoError> {
    let mut s = Session::login(&login_params(cfg)).await?;
    s.ok("NOOP").await?;
    let _ = s.command("QUIT").await;
    Ok(())
}

fn quote_fmt() -> String {
    format!("\"{JOB_FORMAT}\"")
}

/// The parameters of one job, checked and quoted.
#[derive(Debug, Clone)]
struct JobParams {
    dialstring: String,
    /// `JPARM` lines, without the `DOCUMENT`.
    lines: Vec<String>,
}

/// The dial string of `e164` per the site's plan: the outside line, then the national
/// prefix for numbers of the site's country, else the international prefix.
pub fn dialled_number(plan: &SitePlan, e164: &str) -> Option<String> {
    let number = PhoneNumber::from_e164(e164).ok()?;
    let f = plan.fields();
    let digits = number.digits();
    Some(match digits.strip_prefix(plan.country_code()) {
        Some(national) => format!("{}{}{national}", f.outside_line, f.national_prefix),
        None => format!("{}{}{digits}", f.outside_line, f.international_prefix),
    })
}

/// `dial_template` with its placeholders filled.
pub fn dial_string(template: &str, plan: &SitePlan, e164: &str) -> Option<String> {
    let number = PhoneNumber::from_e164(e164).ok()?;
    Some(
        template
            .replace("$(number)", &dialled_number(plan, e164)?)
            .replace("$(e164)", &number.e164())
            .replace("$(digits)", number.digits()),
    )
}

/// `SCHEDPRI`: lower is sooner (HylaFAX's default 127; above 190 is bulk).
pub fn sched_pri(p: Priority) -> u8 {
    match p {
        Priority::High => 64,
        Priority::Normal => 127,
        Priority::Low => 191,
    }
}

/// `LASTTIME`: `DDHHMM` from now.
pub fn last_time(d: Duration) -> String {
    let m = d.as_secs() / 60;
    format!("{:02}{:02}{:02}", (m / 1440).min(99), m / 60 % 24, m % 60)
}

/// A tag line: `%` doubled twice (strftime, then HylaFAX's own escapes), `|` (its field
/// separator) replaced.
fn tagline(headline: &str) -> String {
    headline.replace('%', "%%%%").replace('|', "/")
}

fn job_params(cfg: &HylafaxConfig, plan: &SitePlan, job: &Job) -> Result<JobParams, ProtoError> {
    let dialstring =
        dial_string(&cfg.dial_template, plan, &job.e164).ok_or_else(|| ProtoError::Refused {
            command: "DIALSTRING".into(),
            code: 501,
            text: format!("`{}` is not a number umsgate can dial", job.e164),
        })?;
    let (width, length) = cfg.page_size.millimetres();
    let mut lines = vec![
        format!("FROMUSER {}", quote("the sender", &job.sender)?),
        format!("DIALSTRING {}", quote("the dial string", &dialstring)?),
        format!("EXTERNAL {}", quote("the number", &job.number)?),
        "NOTIFY none".to_owned(),
        format!("JOBINFO {}", quote("the job id", &job.job_id)?),
        format!("SCHEDPRI {}", sched_pri(job.priority)),
        format!("MAXDIALS {}", cfg.max_dials),
        format!("MAXTRIES {}", cfg.max_tries),
        format!("LASTTIME {}", last_time(cfg.kill_after)),
        format!("VRES {}", cfg.resolution.lines_per_inch()),
        format!("PAGEWIDTH {width}"),
        format!("PAGELENGTH {length}"),
    ];
    if let Some(h) = job.headline.as_deref().filter(|h| !h.is_empty()) {
        lines.push(format!("TAGLINE {}", quote("the headline", &tagline(h))?));
        lines.push("USETAGLINE YES".to_owned());
    }
    if let Some(tsi) = job.fax_sender.as_deref().filter(|t| !t.is_empty()) {
        lines.push(format!("TSI {}", quote("the fax sender number", tsi)?));
    }
    Ok(JobParams { dialstring, lines })
}

/// Upload, then `JNEW`, the parameters and `DOCUMENT`, then — only when hfaxd took every one
/// of them — `JSUBM`; returns HylaFAX's job id.
async fn submit_on(
    s: &mut Session,
    document: &[u8],
    params: &JobParams,
) -> Result<String, ProtoError> {
    let file = s.store_temp(document).await?;
    // hfaxd's own name for the upload (`/tmp/doc5.ps`): sent as it came, checked plain.
    if file.is_empty() || !file.bytes().all(|b| b.is_ascii_graphic() && b != b'"') {
        return Err(ProtoError::Malformed(format!("upload name `{file}`")));
    }
    let mut lines = Vec::with_capacity(params.lines.len() + 2);
    lines.push("JNEW".to_owned());
    lines.extend(params.lines.iter().map(|l| format!("JPARM {l}")));
    lines.push(format!("JPARM DOCUMENT {file}"));
    // One command at a time: hfaxd's replies to a batch are held by Nagle on its side until
    // our delayed ACKs come (~40 ms per batch, measured); a command each carries them at once.
    let mut replies = Vec::with_capacity(lines.len());
    for l in &lines {
        replies.push(s.ok(l).await?);
    }
    let created = replies.first().map_or("", Reply::text);
    let id = created
        .split_once("jobid: ")
        .map(|(_, rest)| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ProtoError::Malformed(format!("JNEW reply `{created}`")))?;
    s.ok("JSUBM").await?;
    Ok(id)
}

/// Writes `dir/name` through `.name.tmp`, renamed; `durable`: the file fsynced before, the
/// folder after.
fn replace_file(dir: &Path, name: &str, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    use std::io::Write as _;
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    if durable {
        f.sync_all()?;
    }
    drop(f);
    std::fs::rename(&tmp, dir.join(name))?;
    if durable {
        crate::spool::sync_dir(dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;

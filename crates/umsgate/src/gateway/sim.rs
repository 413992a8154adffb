//! The simulated engine (`kind = "sim"`), for the demo, tests and benchmarks.
//!
//! Contract: [`SimGateway::submit`] returns once the job's line (keys of DESIGN.md §6) is in
//! `sent.jsonl` and fsynced; concurrent submissions share one fsync (group commit). A job id
//! already in `sent.jsonl` is not taken twice. `delay` after its submission a job is
//! complete: its report is `failed` with reason "busy" for numbers matching `fail_numbers`
//! (`*` stands for any digits), `sent` otherwise. Reports are handed to the report collector
//! through [`SimGateway::reports`]; once it has mailed one it calls
//! [`SimGateway::report_done`], which appends the job id to `done.jsonl` (fsynced). After a
//! restart the jobs of `sent.jsonl` not in `done.jsonl` are completed again, so no report is
//! lost; one mailed just before a crash may be mailed twice.
//!
//! The documents of a job (the rendered fax, a voice job's WAV) are kept as
//! `docs/<job-id>.<ext>`, so that the demo and tests can look at what was faxed. They are
//! written (temporary name, then renamed) before the job's line, without an fsync of their
//! own: the simulator transmits nothing, and `sent.jsonl` is the record that must survive.
//!
//! Implementation summary: waiting and completed jobs are kept in memory; besides its
//! documents the simulator creates no file per job. Journal writes run on blocking threads. The `pending/` and
//! `reports/` folders of earlier versions are read once and removed.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::{DeliveryReport, DeliveryStatus, GatewayError, Job, OpenError};
use crate::clock;
use crate::spool::journal::{self, Journal};

#[derive(Debug)]
pub struct SimGateway {
    delay: Duration,
    fail_numbers: Vec<String>,
    sent: Arc<Journal>,
    done: Arc<Journal>,
    /// `docs/`: the documents each job was handed.
    docs: std::path::PathBuf,
    /// Ids of every job in `sent.jsonl`.
    taken: Mutex<HashSet<String>>,
    /// Jobs handed over and not yet complete, oldest first (= due first).
    pending: Mutex<VecDeque<Pending>>,
    /// Complete jobs whose report has not been mailed yet, by job id.
    completed: Mutex<BTreeMap<String, DeliveryReport>>,
    wake: Notify,
}

/// What completing a job needs: the fields of its `sent.jsonl` line that matter here.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    job_id: String,
    e164: String,
    pages: Option<u32>,
    #[serde(skip)]
    due: Option<SystemTime>,
}

/// `*` matches any run of characters; everything else literally. Compared on the digits of
/// the E.164 form with and without `+`.
fn matches(pattern: &str, number: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some((b'*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let digits = number.trim_start_matches('+');
    go(pattern.as_bytes(), number.as_bytes())
        || go(
            pattern.trim_start_matches('+').as_bytes(),
            digits.as_bytes(),
        )
}

impl SimGateway {
    pub fn open(
        dir: &Path,
        delay: Duration,
        fail_numbers: &[String],
    ) -> Result<SimGateway, OpenError> {
        std::fs::create_dir_all(dir).map_err(|e| OpenError::io("create", dir, e))?;
        let read_err = |p: &Path, e: std::io::Error| OpenError::io("read", p, e);
        let sent_path = dir.join("sent.jsonl");
        let done_path = dir.join("done.jsonl");
        let mut taken = HashSet::new();
        let mut jobs = Vec::new();
        for line in journal::read_lines(&sent_path).map_err(|e| read_err(&sent_path, e))? {
            let Ok(p) = serde_json::from_str::<Pending>(&line) else {
                continue;
            };
            if taken.insert(p.job_id.clone()) {
                jobs.push(p);
            }
        }
        let mut done: HashSet<String> = journal::read_lines(&done_path)
            .map_err(|e| read_err(&done_path, e))?
            .iter()
            .filter_map(|l| serde_json::from_str::<String>(l).ok())
            .collect();
        let open_err = |p: &Path, e: std::io::Error| OpenError::io("open", p, e);
        let done_journal = Journal::open(&done_path).map_err(|e| open_err(&done_path, e))?;
        // Earlier versions kept waiting jobs in `pending/` and wrote reports into
        // `reports/`: every other job of `sent.jsonl` is done, and the reports not yet
        // collected are simply made again.
        let legacy = dir.join("pending");
        if legacy.is_dir() {
            let waiting: HashSet<String> = std::fs::read_dir(&legacy)
                .map_err(|e| read_err(&legacy, e))?
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    name.strip_suffix(".json").map(str::to_owned)
                })
                .collect();
            let reports = dir.join("reports");
            let uncollected: HashSet<String> = std::fs::read_dir(&reports)
                .map(|d| {
                    d.flatten()
                        .filter_map(|e| {
                            let name = e.file_name().into_string().ok()?;
                            name.strip_suffix(".json").map(str::to_owned)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut lines = Vec::new();
            for j in &jobs {
                let open = waiting.contains(&j.job_id) || uncollected.contains(&j.job_id);
                if !open && done.insert(j.job_id.clone()) {
                    lines.extend(done_line(&j.job_id));
                }
            }
            done_journal
                .append_durably(&lines)
                .map_err(|e| OpenError::io("write", &done_path, e))?;
            let _ = std::fs::remove_dir_all(&legacy);
            let _ = std::fs::remove_dir_all(&reports);
        }
        let now = clock::now();
        let pending: VecDeque<Pending> = jobs
            .into_iter()
            .filter(|j| !done.contains(&j.job_id))
            .map(|mut j| {
                j.due = Some(now + delay);
                j
            })
            .collect();
        let docs = dir.join("docs");
        std::fs::create_dir_all(&docs).map_err(|e| OpenError::io("create", &docs, e))?;
        Ok(SimGateway {
            docs,
            delay,
            fail_numbers: fail_numbers.to_vec(),
            sent: Arc::new(Journal::open(&sent_path).map_err(|e| open_err(&sent_path, e))?),
            done: Arc::new(done_journal),
            taken: Mutex::new(taken),
            pending: Mutex::new(pending),
            completed: Mutex::new(BTreeMap::new()),
            wake: Notify::new(),
        })
    }

    pub async fn submit(&self, job: &Job) -> Result<(), GatewayError> {
        let mut line = serde_json::to_vec(job).map_err(|e| GatewayError {
            temporary: false,
            detail: e.to_string(),
        })?;
        line.push(b'\n');
        if !self.lock_taken().insert(job.job_id.clone()) {
            tracing::info!(event = "gateway.duplicate", job_id = %job.job_id, "job already taken; not sent twice");
            return Ok(());
        }
        let sent = Arc::clone(&self.sent);
        let docs = self.docs.clone();
        let files: Vec<(std::path::PathBuf, Vec<u8>)> = job
            .files
            .iter()
            .map(|(name, data)| {
                // Names are generated (`fax.pdf`, `voice.wav`): only their suffix is kept.
                let ext = Path::new(name)
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("bin");
                (docs.join(format!("{}.{ext}", job.job_id)), data.clone())
            })
            .collect();
        let durable = tokio::task::spawn_blocking(move || {
            for (path, data) in &files {
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, data)?;
                std::fs::rename(&tmp, path)?;
            }
            sent.append_durably(&line)
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        if let Err(e) = durable {
            // Not handed over: the job may be submitted again.
            self.lock_taken().remove(&job.job_id);
            return Err(GatewayError::io("sent.jsonl", &e));
        }
        for (name, _) in &job.files {
            let ext = Path::new(name)
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("bin");
            let path = self.docs.join(format!("{}.{ext}", job.job_id));
            tracing::info!(event = "gateway.sim.document", job_id = %job.job_id, path = %path.display(), pages = ?job.pages);
        }
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(Pending {
                job_id: job.job_id.clone(),
                e164: job.e164.clone(),
                pages: job.pages,
                due: Some(clock::now() + self.delay),
            });
        self.wake.notify_one();
        Ok(())
    }

    /// The reports of complete jobs not yet mailed.
    pub fn reports(&self) -> Vec<DeliveryReport> {
        self.completed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// The report of `job_id` has been mailed: forgotten, and recorded in `done.jsonl`.
    pub async fn report_done(&self, job_id: &str) -> Result<(), GatewayError> {
        let done = Arc::clone(&self.done);
        let line = done_line(job_id);
        tokio::task::spawn_blocking(move || done.append_durably(&line))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
            .map_err(|e| GatewayError::io("done.jsonl", &e))?;
        self.completed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(job_id);
        Ok(())
    }

    /// Completes due jobs until shutdown.
    pub async fn run(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            let next = self.complete_due();
            let wait = next.map_or(Duration::from_secs(60), |t| {
                t.duration_since(clock::now()).unwrap_or(Duration::ZERO)
            });
            tokio::select! {
                _ = tokio::time::sleep(wait.max(Duration::from_millis(10))) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// Moves the due jobs to the completed ones; returns when the next one is due.
    pub(crate) fn complete_due(&self) -> Option<SystemTime> {
        let now = clock::now();
        let mut due = Vec::new();
        let next = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            while pending
                .front()
                .is_some_and(|p| p.due.is_none_or(|t| t <= now))
            {
                if let Some(p) = pending.pop_front() {
                    due.push(p);
                }
            }
            pending.front().and_then(|p| p.due)
        };
        if !due.is_empty() {
            let mut completed = self
                .completed
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for p in due {
                let report = self.report_for(&p, now);
                completed.insert(p.job_id, report);
            }
        }
        next
    }

    fn report_for(&self, p: &Pending, now: SystemTime) -> DeliveryReport {
        let busy = self.fail_numbers.iter().any(|pat| matches(pat, &p.e164));
        DeliveryReport {
            job_id: p.job_id.clone(),
            status: if busy {
                DeliveryStatus::Failed
            } else {
                DeliveryStatus::Sent
            },
            pages: if busy { Some(0) } else { p.pages },
            duration_s: Some(if busy {
                0
            } else {
                u64::from(p.pages.unwrap_or(1)) * 20
            }),
            attempts: Some(if busy { 3 } else { 1 }),
            remote_id: (!busy).then(|| format!("SIM-{}", p.job_id)),
            reason: busy.then(|| "busy".to_owned()),
            finished_at: clock::rfc3339(now),
        }
    }

    fn lock_taken(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.taken.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `"<job-id>"\n`: a JSON string per line.
fn done_line(job_id: &str) -> Vec<u8> {
    let mut l = serde_json::to_vec(job_id).unwrap_or_default();
    l.push(b'\n');
    l
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::BTreeMap;
    use umsgate_domain::{Priority, Service};

    fn job(id: &str, e164: &str) -> Job {
        Job {
            job_id: id.into(),
            service: Service::Fax,
            number: e164.into(),
            e164: e164.into(),
            sender: "jane@example.com".into(),
            priority: Priority::Normal,
            pages: Some(2),
            cover: None,
            headline: None,
            origin: None,
            billing: None,
            text: None,
            attachments: vec!["doc-1.pdf".into()],
            fax_sender: None,
            cover_fields: BTreeMap::new(),
            sms_sender: None,
            subject: None,
            files: Vec::new(),
        }
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("umsgate-sim-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn ids(reports: &[DeliveryReport]) -> Vec<&str> {
        reports.iter().map(|r| r.job_id.as_str()).collect()
    }

    #[tokio::test]
    async fn reports_not_mailed_before_a_restart_come_again_and_mailed_ones_do_not() {
        let d = scratch("restart");
        let busy = vec!["*666".to_owned()];
        let g = SimGateway::open(&d, Duration::ZERO, &busy).unwrap();
        g.submit(&job("A-0", "+4930123456")).await.unwrap();
        g.submit(&job("B-0", "+4930666")).await.unwrap();
        // The same job again is not taken twice.
        g.submit(&job("A-0", "+4930123456")).await.unwrap();
        assert_eq!(journal::read_lines(&d.join("sent.jsonl")).unwrap().len(), 2);
        g.complete_due();
        let reports = g.reports();
        assert_eq!(ids(&reports), ["A-0", "B-0"]);
        assert_eq!(reports[0].status, DeliveryStatus::Sent);
        assert_eq!(reports[1].status, DeliveryStatus::Failed);
        assert_eq!(reports[1].reason.as_deref(), Some("busy"));
        g.report_done("A-0").await.unwrap();
        assert_eq!(ids(&g.reports()), ["B-0"]);
        drop(g);

        let g = SimGateway::open(&d, Duration::ZERO, &busy).unwrap();
        g.complete_due();
        assert_eq!(ids(&g.reports()), ["B-0"]);
        g.submit(&job("A-0", "+4930123456")).await.unwrap();
        g.complete_due();
        assert_eq!(
            ids(&g.reports()),
            ["B-0"],
            "a job of sent.jsonl is not taken again"
        );
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn the_pending_folder_of_earlier_versions_is_taken_over() {
        let d = scratch("legacy");
        std::fs::create_dir_all(d.join("pending")).unwrap();
        std::fs::create_dir_all(d.join("reports")).unwrap();
        let line = |j: &Job| format!("{}\n", serde_json::to_string(j).unwrap());
        let sent: String = ["OLD-0", "WAIT-0", "UNREAD-0"]
            .iter()
            .map(|id| line(&job(id, "+4930123456")))
            .collect();
        std::fs::write(d.join("sent.jsonl"), sent).unwrap();
        std::fs::write(d.join("pending/WAIT-0.json"), "{}").unwrap();
        std::fs::write(d.join("reports/UNREAD-0.json"), "{}").unwrap();
        let g = SimGateway::open(&d, Duration::ZERO, &[]).unwrap();
        g.complete_due();
        assert_eq!(ids(&g.reports()), ["UNREAD-0", "WAIT-0"]);
        assert!(!d.join("pending").exists() && !d.join("reports").exists());
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn fail_patterns() {
        assert!(matches("*666", "+4930666"));
        assert!(matches("+49*", "+4930666"));
        assert!(matches("4930666", "+4930666"));
        assert!(!matches("*666", "+49306661"));
        assert!(!matches("*777", "+4930666"));
    }
}

//! The simulated engine (`kind = "sim"`), for the demo and tests.
//!
//! Implementation summary: `submit` appends one JSON line per job to `sent.jsonl` (keys of
//! DESIGN.md §6) and fsyncs it, then records the job in `pending/` with the time it is due.
//! [`SimGateway::run`] completes due jobs by writing `reports/<job-id>.json`: `failed` with
//! reason "busy" for numbers matching `fail_numbers` (`*` stands for any digits), `sent`
//! otherwise. Pending jobs survive a restart. A job id already in `sent.jsonl` (its ids are
//! read once at start) is not taken twice.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::{DeliveryReport, DeliveryStatus, GatewayError, Job, write_file_durably};
use crate::clock;

#[derive(Debug)]
pub struct SimGateway {
    dir: PathBuf,
    delay: Duration,
    fail_numbers: Vec<String>,
    /// Ids of every job in `sent.jsonl`, loaded at open; the lock also serialises appends.
    journal: Mutex<HashSet<String>>,
    wake: Notify,
}

#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    job_id: String,
    e164: String,
    pages: Option<u32>,
    due_at: String,
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
    ) -> Result<SimGateway, String> {
        for d in ["pending", "reports"] {
            std::fs::create_dir_all(dir.join(d))
                .map_err(|e| format!("cannot create {}: {e}", dir.join(d).display()))?;
        }
        let journal = dir.join("sent.jsonl");
        let taken = match std::fs::read_to_string(&journal) {
            Ok(text) => text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| v.get("job_id").and_then(|j| j.as_str()).map(str::to_owned))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashSet::new(),
            Err(e) => return Err(format!("cannot read {}: {e}", journal.display())),
        };
        Ok(SimGateway {
            dir: dir.to_owned(),
            delay,
            fail_numbers: fail_numbers.to_vec(),
            journal: Mutex::new(taken),
            wake: Notify::new(),
        })
    }

    pub fn reports_dir(&self) -> PathBuf {
        self.dir.join("reports")
    }

    pub async fn submit(&self, job: &Job) -> Result<(), GatewayError> {
        let mut line = serde_json::to_vec(job).map_err(|e| GatewayError {
            temporary: false,
            detail: e.to_string(),
        })?;
        line.push(b'\n');
        {
            let mut taken = self.journal.lock().map_err(|_| GatewayError {
                temporary: true,
                detail: "sim journal lock".into(),
            })?;
            if taken.contains(&job.job_id) {
                tracing::info!(event = "gateway.duplicate", job_id = %job.job_id, "job already taken; not sent twice");
                return Ok(());
            }
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join("sent.jsonl"))
                .map_err(|e| GatewayError::io("sent.jsonl", &e))?;
            f.write_all(&line)
                .and_then(|()| f.sync_all())
                .map_err(|e| GatewayError::io("sent.jsonl", &e))?;
            taken.insert(job.job_id.clone());
        }
        let pending = Pending {
            job_id: job.job_id.clone(),
            e164: job.e164.clone(),
            pages: job.pages,
            due_at: clock::rfc3339(clock::now() + self.delay),
        };
        let bytes = serde_json::to_vec(&pending).map_err(|e| GatewayError {
            temporary: false,
            detail: e.to_string(),
        })?;
        write_file_durably(
            &self.dir.join("pending"),
            &format!("{}.json", job.job_id),
            &bytes,
        )
        .map_err(|e| GatewayError::io("pending", &e))?;
        self.wake.notify_one();
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

    /// Writes reports for due jobs; returns when the next one is due.
    fn complete_due(&self) -> Option<SystemTime> {
        let pending_dir = self.dir.join("pending");
        let now = clock::now();
        let mut next: Option<SystemTime> = None;
        let Ok(entries) = std::fs::read_dir(&pending_dir) else {
            return None;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json")
                || entry.file_name().to_string_lossy().starts_with('.')
            {
                continue;
            }
            let Ok(p) = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Pending>(&b).map_err(|e| e.to_string()))
            else {
                tracing::error!(event = "gateway.sim_bad_pending", path = %path.display());
                continue;
            };
            let due = clock::parse_rfc3339(&p.due_at).unwrap_or(now);
            if due > now {
                next = Some(next.map_or(due, |n| n.min(due)));
                continue;
            }
            let busy = self.fail_numbers.iter().any(|pat| matches(pat, &p.e164));
            let report = DeliveryReport {
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
            };
            let written = serde_json::to_vec_pretty(&report)
                .map_err(std::io::Error::other)
                .and_then(|b| {
                    write_file_durably(&self.reports_dir(), &format!("{}.json", p.job_id), &b)
                })
                .and_then(|()| std::fs::remove_file(&path));
            if let Err(e) = written {
                tracing::error!(event = "gateway.sim_report_failed", job_id = %p.job_id, error = %e);
            }
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn fail_patterns() {
        assert!(matches("*666", "+4930666"));
        assert!(matches("+49*", "+4930666"));
        assert!(matches("4930666", "+4930666"));
        assert!(!matches("*666", "+49306661"));
        assert!(!matches("*777", "+4930666"));
    }
}

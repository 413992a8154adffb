//! What the Kannel engine keeps of its jobs: one journal, `pending.jsonl`, holding the SMS
//! handed to Kannel and waiting for their final delivery report, and the reports waiting to be
//! mailed.
//!
//! Contract: [`Store::record`] returns once the job's record is on disk (the journal's group
//! commit: writers waiting at the same moment share one `fdatasync`), so a record is durable
//! before sendsms is called. [`Store::mark_accepted`] appends Kannel's acceptance without an
//! fsync of its own (a process crash keeps it; a power loss may take the mark back to "sent,
//! unanswered", and that job is then sent again). [`Store::drop_pending`] (refused, or no
//! answer) forgets a job durably. [`Store::finish`] turns a pending job into its report, on
//! disk when it returns (the DLR is answered only then); the report is offered by
//! [`Store::waiting_reports`] until [`Store::mailed`] forgets it (also durably, so that a
//! report is mailed once, or twice only when umsgate stops between the mail and that line).
//! [`Store::known`] says whether a job id is unknown, sent, accepted or finished; a job is
//! finished once, under one lock. After a restart the journal is read back (a last line cut
//! by a crash was never synced, so nothing was acted on for it) and written anew holding only
//! the pending jobs and the waiting reports. Pending records of earlier versions
//! (`pending/<job-id>.json`, one file each) are taken into the journal once and their folder
//! removed; their report files (`reports/`) are still offered and removed by the caller. When the
//! journal is poisoned (an fsync failed) it is written anew from memory, which holds the
//! complete state, before the next line.
//!
//! Implementation summary: pending jobs and waiting reports live in two maps behind one mutex;
//! lines are appended under it (so that a compaction, which writes the journal anew from the
//! maps, never drops a line appended after its snapshot) and synced outside it. Compaction
//! happens at open and, in the overdue sweep, once more lines are dead than [`COMPACT_AT`] and
//! than are live.
//!
//! Why a journal: with one fsynced file per SMS and per report (file, rename, folder fsync)
//! each hand-over and each DLR waited for its own fsync cycles; see `bench/README.md` for the
//! measurements.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::super::{DeliveryReport, OpenError};
use crate::spool::journal::{self, Journal};

/// A job handed to Kannel and not finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRecord {
    pub job_id: String,
    /// `+4930123456`.
    pub to: String,
    /// `gsm7` or `ucs2`.
    pub coding: String,
    pub parts: usize,
    /// Unix seconds: when it was sent (and, once accepted, when Kannel accepted it).
    pub since: u64,
    /// Kannel answered 2xx.
    pub accepted: bool,
}

/// What umsgate knows of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Known {
    Unknown,
    Sending,
    Accepted,
    Finished,
}

/// One line of `pending.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Line {
    /// Recorded before sendsms (or, in a compacted journal, as it stands).
    Sent(PendingRecord),
    /// Kannel answered 2xx at `since`.
    Accepted { job_id: String, since: u64 },
    /// Dropped (refused, or not answered): no longer pending.
    Gone { job_id: String },
    /// Finished: its report waits to be mailed.
    Done(DeliveryReport),
    /// The report was mailed.
    Mailed { job_id: String },
}

/// Dead lines after which the sweep writes the journal anew (when also more than pending).
pub(super) const COMPACT_AT: usize = 4096;

/// The pending jobs, the reports waiting to be mailed, and how many journal lines no longer
/// describe either.
#[derive(Debug, Default)]
struct State {
    pending: HashMap<String, PendingRecord>,
    reports: HashMap<String, DeliveryReport>,
    dead: usize,
}

impl State {
    /// Applies one line.
    fn apply(&mut self, line: &Line) {
        match line {
            Line::Sent(r) => {
                if self.pending.insert(r.job_id.clone(), r.clone()).is_some() {
                    self.dead += 1;
                }
            }
            Line::Accepted { job_id, since } => {
                if let Some(r) = self.pending.get_mut(job_id) {
                    r.accepted = true;
                    r.since = *since;
                }
                self.dead += 1;
            }
            Line::Gone { job_id } => {
                if self.pending.remove(job_id).is_some() {
                    self.dead += 1;
                }
                self.dead += 1;
            }
            Line::Done(report) => {
                if self.pending.remove(&report.job_id).is_some() {
                    self.dead += 1;
                }
                self.reports.insert(report.job_id.clone(), report.clone());
            }
            Line::Mailed { job_id } => {
                if self.reports.remove(job_id).is_some() {
                    self.dead += 1;
                }
                self.dead += 1;
            }
        }
    }

    /// The journal content that holds exactly this state.
    fn snapshot(&self) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        for r in self.pending.values() {
            out.extend(encode(&Line::Sent(r.clone()))?);
        }
        for r in self.reports.values() {
            out.extend(encode(&Line::Done(r.clone()))?);
        }
        Ok(out)
    }
}

/// The files under `gateway/kannel/`; see the module contract. Clones share everything.
#[derive(Debug, Clone)]
pub(super) struct Store {
    dir: PathBuf,
    journal: Arc<Journal>,
    state: Arc<Mutex<State>>,
    /// Held while a job is finished, so that it gets one report.
    finishing: Arc<Mutex<()>>,
}

fn encode(line: &Line) -> std::io::Result<Vec<u8>> {
    let mut b = serde_json::to_vec(line).map_err(std::io::Error::other)?;
    b.push(b'\n');
    Ok(b)
}

impl Store {
    /// Opens `dir`: creates `reports/`, reads `pending.jsonl` (and the `pending/` files of
    /// earlier versions) and writes the journal anew with the pending jobs.
    pub(super) fn open(dir: &Path) -> Result<Store, OpenError> {
        let reports = dir.join("reports");
        std::fs::create_dir_all(&reports).map_err(|e| OpenError::io("create", &reports, e))?;
        let path = dir.join("pending.jsonl");
        let mut state = State::default();
        let lines = journal::read_lines(&path).map_err(|e| OpenError::io("read", &path, e))?;
        for l in lines {
            match serde_json::from_str::<Line>(&l) {
                Ok(line) => state.apply(&line),
                Err(e) => {
                    tracing::warn!(event = "kannel.pending_unreadable", path = %path.display(), error = %e, "a line of the pending journal is skipped");
                }
            }
        }
        let legacy = dir.join("pending");
        if legacy.is_dir() {
            legacy_records(&legacy, &mut state.pending)
                .map_err(|e| OpenError::io("read", &legacy, e))?;
            // A report file of an earlier version finished its job.
            state
                .pending
                .retain(|id, _| !reports.join(format!("{id}.json")).exists());
        }
        state.dead = 0;
        let journal = Journal::open(&path).map_err(|e| OpenError::io("open", &path, e))?;
        let content = state
            .snapshot()
            .map_err(|e| OpenError::io("write", &path, e))?;
        journal
            .replace(&content)
            .map_err(|e| OpenError::io("write", &path, e))?;
        if legacy.is_dir() {
            std::fs::remove_dir_all(&legacy).map_err(|e| OpenError::io("remove", &legacy, e))?;
        }
        Ok(Store {
            dir: dir.to_owned(),
            journal: Arc::new(journal),
            state: Arc::new(Mutex::new(state)),
            finishing: Arc::new(Mutex::new(())),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `reports/`: report files of earlier versions, still to be mailed.
    pub(super) fn reports(&self) -> PathBuf {
        self.dir.join("reports")
    }

    pub(super) fn known(&self, job_id: &str) -> Known {
        {
            let st = self.state();
            if let Some(r) = st.pending.get(job_id) {
                return if r.accepted {
                    Known::Accepted
                } else {
                    Known::Sending
                };
            }
            if st.reports.contains_key(job_id) {
                return Known::Finished;
            }
        }
        if self.reports().join(format!("{job_id}.json")).exists() {
            Known::Finished
        } else {
            Known::Unknown
        }
    }

    /// Appends `line` and applies it to the maps under one lock; returns the ticket.
    fn append(&self, line: &Line) -> std::io::Result<u64> {
        let bytes = encode(line)?;
        let mut st = self.state();
        let ticket = self.journal.append(&bytes)?;
        st.apply(line);
        Ok(ticket)
    }

    /// Appends `line` and waits until it is on disk; a poisoned journal is first written anew
    /// from memory (the complete state).
    fn append_durably(&self, line: &Line) -> std::io::Result<()> {
        let once = |s: &Store| s.append(line).and_then(|t| s.journal.sync_to(t));
        match once(self) {
            Err(e) if journal::is_poisoned(&e) => {
                self.compact()?;
                once(self)
            }
            other => other,
        }
    }

    /// Records a job before sendsms is called: on disk when this returns.
    pub(super) fn record(&self, r: &PendingRecord) -> std::io::Result<()> {
        let before = self.state().pending.get(&r.job_id).cloned();
        let done = self.append_durably(&Line::Sent(r.clone()));
        if done.is_err() {
            // Not durable: not recorded either (sendsms is not called).
            let mut st = self.state();
            match before {
                Some(old) => st.pending.insert(r.job_id.clone(), old),
                None => st.pending.remove(&r.job_id),
            };
        }
        done
    }

    /// Notes Kannel's acceptance (not fsynced; see the module contract).
    pub(super) fn mark_accepted(&self, job_id: &str, since: u64) -> std::io::Result<()> {
        self.append(&Line::Accepted {
            job_id: job_id.to_owned(),
            since,
        })
        .map(drop)
    }

    /// Forgets a job Kannel refused or did not answer.
    pub(super) fn drop_pending(&self, job_id: &str) -> std::io::Result<()> {
        if !self.state().pending.contains_key(job_id) {
            return Ok(());
        }
        self.append_durably(&Line::Gone {
            job_id: job_id.to_owned(),
        })
    }

    /// Turns a pending job into its report, on disk when this returns; `false` when the job
    /// was not pending (unknown, or finished before).
    pub(super) fn finish(&self, report: &DeliveryReport) -> std::io::Result<bool> {
        let _one = self
            .finishing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let before = self.state().pending.get(&report.job_id).cloned();
        let Some(before) = before else {
            return Ok(false);
        };
        let done = self.append_durably(&Line::Done(report.clone()));
        if done.is_err() {
            // Not durable: the job stays pending (the DLR is answered 500 and comes again).
            let mut st = self.state();
            st.reports.remove(&report.job_id);
            st.pending.insert(report.job_id.clone(), before);
        }
        done.map(|()| true)
    }

    /// The reports waiting to be mailed, oldest job id first.
    pub(super) fn waiting_reports(&self) -> Vec<DeliveryReport> {
        let mut out: Vec<DeliveryReport> = self.state().reports.values().cloned().collect();
        out.sort_by(|a, b| a.job_id.cmp(&b.job_id));
        out
    }

    /// Forgets a report once its mail is handed over.
    pub(super) fn mailed(&self, job_id: &str) -> std::io::Result<()> {
        if !self.state().reports.contains_key(job_id) {
            return Ok(());
        }
        self.append_durably(&Line::Mailed {
            job_id: job_id.to_owned(),
        })
    }

    /// Pending jobs older than `timeout` at `now` (unix seconds).
    pub(super) fn overdue(&self, now: u64, timeout: Duration) -> Vec<PendingRecord> {
        self.state()
            .pending
            .values()
            .filter(|r| now.saturating_sub(r.since) >= timeout.as_secs())
            .cloned()
            .collect()
    }

    /// Writes the journal anew from the pending jobs when enough of it is dead.
    pub(super) fn compact_if_due(&self) -> std::io::Result<()> {
        let due = {
            let st = self.state();
            st.dead > COMPACT_AT && st.dead > st.pending.len() + st.reports.len()
        };
        if due { self.compact() } else { Ok(()) }
    }

    fn compact(&self) -> std::io::Result<()> {
        let mut st = self.state();
        self.journal.replace(&st.snapshot()?)?;
        st.dead = 0;
        Ok(())
    }
}

/// Reads the `pending/<job-id>.json` records of earlier versions into `pending`. One that
/// cannot be read (cut short by a power loss) counts as handed over, named by its file and aged
/// by its modification time.
fn legacy_records(dir: &Path, pending: &mut HashMap<String, PendingRecord>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)?.flatten() {
        let name = e.file_name();
        let Some(job_id) = name
            .to_str()
            .filter(|n| !n.starts_with('.'))
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        let r = std::fs::read(e.path())
            .ok()
            .and_then(|b| serde_json::from_slice::<PendingRecord>(&b).ok())
            .unwrap_or_else(|| PendingRecord {
                job_id: job_id.to_owned(),
                to: String::new(),
                coding: String::new(),
                parts: 0,
                since: e
                    .metadata()
                    .and_then(|m| m.modified())
                    .map_or(0, crate::clock::unix_seconds),
                accepted: false,
            });
        pending.insert(job_id.to_owned(), r);
    }
    Ok(())
}

//! What the Kannel engine keeps of its jobs: the pending journal (`pending.jsonl`, SMS handed
//! to Kannel and waiting for their final delivery report) and the reports (`reports/`).
//!
//! Contract: [`Store::record`] returns once the job's record is on disk (the journal's group
//! commit: hand-overs waiting at the same moment share one `fdatasync`), so a record is durable
//! before sendsms is called. [`Store::mark_accepted`] appends Kannel's acceptance without an
//! fsync of its own (a process crash keeps it; a power loss may take the mark back to "sent,
//! unanswered", and that job is then sent again). [`Store::drop_pending`] (refused, or no
//! answer) and [`Store::finish`] (the report written, fsynced, renamed and its folder fsynced
//! first) forget a job durably, so that after a restart no overdue sweep reports a job twice.
//! [`Store::known`] says whether a job id is unknown, sent, accepted or finished; a job is
//! finished once, under one lock. After a restart the journal is read back (a last line cut
//! by a crash was never synced, so sendsms was not called for it) and written anew holding only
//! the pending jobs; a job whose report is already in `reports/` is not pending. Pending records
//! of earlier versions (`pending/<job-id>.json`, one file each) are taken into the journal once
//! and their folder removed. When the journal is poisoned (an fsync failed) it is written anew
//! from the pending jobs in memory, which are the complete state, before the next record.
//!
//! Implementation summary: the pending jobs live in a map behind one mutex; lines are appended
//! under it (so that a compaction, which writes the journal anew from the map, never drops a
//! line appended after its snapshot) and synced outside it. Compaction happens at open and, in
//! the overdue sweep, once more lines are dead than [`COMPACT_AT`] and than jobs are pending.
//!
//! Why a journal: with one fsynced file per SMS (file, rename, folder fsync) each hand-over
//! waited for its own fsync cycle; see `bench/README.md` for the measurements.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::super::{DeliveryReport, OpenError};
use crate::spool::journal::{self, Journal};
use crate::spool::{sync_dir, write_synced};

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
    /// Finished or dropped: no longer pending.
    Gone { job_id: String },
}

/// Dead lines after which the sweep writes the journal anew (when also more than pending).
pub(super) const COMPACT_AT: usize = 4096;

/// The pending jobs and how many journal lines no longer describe one.
#[derive(Debug, Default)]
struct State {
    pending: HashMap<String, PendingRecord>,
    dead: usize,
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

/// Writes `dir/name` whole or not at all (`.name.tmp`, rename), fsyncing the file before and
/// the folder after the rename.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    write_synced(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}

fn encode(line: &Line) -> std::io::Result<Vec<u8>> {
    let mut b = serde_json::to_vec(line).map_err(std::io::Error::other)?;
    b.push(b'\n');
    Ok(b)
}

/// The journal content that holds exactly `pending`.
fn snapshot(pending: &HashMap<String, PendingRecord>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    for r in pending.values() {
        out.extend(encode(&Line::Sent(r.clone()))?);
    }
    Ok(out)
}

impl Store {
    /// Opens `dir`: creates `reports/`, reads `pending.jsonl` (and the `pending/` files of
    /// earlier versions) and writes the journal anew with the pending jobs.
    pub(super) fn open(dir: &Path) -> Result<Store, OpenError> {
        let reports = dir.join("reports");
        std::fs::create_dir_all(&reports).map_err(|e| OpenError::io("create", &reports, e))?;
        let path = dir.join("pending.jsonl");
        let mut pending: HashMap<String, PendingRecord> = HashMap::new();
        let lines = journal::read_lines(&path).map_err(|e| OpenError::io("read", &path, e))?;
        for l in lines {
            match serde_json::from_str::<Line>(&l) {
                Ok(Line::Sent(r)) => {
                    pending.insert(r.job_id.clone(), r);
                }
                Ok(Line::Accepted { job_id, since }) => {
                    if let Some(r) = pending.get_mut(&job_id) {
                        r.accepted = true;
                        r.since = since;
                    }
                }
                Ok(Line::Gone { job_id }) => {
                    pending.remove(&job_id);
                }
                Err(e) => {
                    tracing::warn!(event = "kannel.pending_unreadable", path = %path.display(), error = %e, "a line of the pending journal is skipped");
                }
            }
        }
        let legacy = dir.join("pending");
        if legacy.is_dir() {
            legacy_records(&legacy, &mut pending).map_err(|e| OpenError::io("read", &legacy, e))?;
        }
        pending.retain(|id, _| !reports.join(format!("{id}.json")).exists());
        let journal = Journal::open(&path).map_err(|e| OpenError::io("open", &path, e))?;
        let content = snapshot(&pending).map_err(|e| OpenError::io("write", &path, e))?;
        journal
            .replace(&content)
            .map_err(|e| OpenError::io("write", &path, e))?;
        if legacy.is_dir() {
            std::fs::remove_dir_all(&legacy).map_err(|e| OpenError::io("remove", &legacy, e))?;
        }
        Ok(Store {
            dir: dir.to_owned(),
            journal: Arc::new(journal),
            state: Arc::new(Mutex::new(State { pending, dead: 0 })),
            finishing: Arc::new(Mutex::new(())),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn reports(&self) -> PathBuf {
        self.dir.join("reports")
    }

    pub(super) fn known(&self, job_id: &str) -> Known {
        if let Some(r) = self.state().pending.get(job_id) {
            return if r.accepted {
                Known::Accepted
            } else {
                Known::Sending
            };
        }
        if self.reports().join(format!("{job_id}.json")).exists() {
            Known::Finished
        } else {
            Known::Unknown
        }
    }

    /// Appends `line` and applies it to the pending map under one lock; returns the ticket.
    fn append(&self, line: &Line) -> std::io::Result<u64> {
        let bytes = encode(line)?;
        let mut st = self.state();
        let ticket = self.journal.append(&bytes)?;
        match line {
            Line::Sent(r) => {
                if st.pending.insert(r.job_id.clone(), r.clone()).is_some() {
                    st.dead += 1;
                }
            }
            Line::Accepted { job_id, since } => {
                if let Some(r) = st.pending.get_mut(job_id) {
                    r.accepted = true;
                    r.since = *since;
                }
                st.dead += 1;
            }
            Line::Gone { job_id } => {
                if st.pending.remove(job_id).is_some() {
                    st.dead += 2;
                }
            }
        }
        Ok(ticket)
    }

    /// Appends `line` and waits until it is on disk; a poisoned journal is first written anew
    /// from the pending map (the complete state).
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

    /// Writes the job's report and forgets it; `false` when the job was not pending (unknown,
    /// or finished before).
    pub(super) fn finish(&self, report: &DeliveryReport) -> std::io::Result<bool> {
        let _one = self
            .finishing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !self.state().pending.contains_key(&report.job_id) {
            return Ok(false);
        }
        let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
        write_atomic(&self.reports(), &format!("{}.json", report.job_id), &json)?;
        self.append_durably(&Line::Gone {
            job_id: report.job_id.clone(),
        })?;
        Ok(true)
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
            st.dead > COMPACT_AT && st.dead > st.pending.len()
        };
        if due { self.compact() } else { Ok(()) }
    }

    fn compact(&self) -> std::io::Result<()> {
        let mut st = self.state();
        self.journal.replace(&snapshot(&st.pending)?)?;
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

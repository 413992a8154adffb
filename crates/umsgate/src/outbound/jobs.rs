//! Job records: what umsgate must remember about a job handed to the gateway until its
//! delivery report has been mailed — one journal per instance, `jobs/records.jsonl`, or, when
//! the state store is PostgreSQL, rows of the shared store, so that the report of a job one
//! node submitted can be mailed by another.
//!
//! Contract: [`JobRecords::write`] returns once the record is durable — on disk, or committed
//! in the shared store (it is written *before* the job is submitted, so a report that arrives
//! after a restart, or at another node, still finds who to tell, in which language). An error
//! from any method is temporary for the caller (the job or the report is tried again);
//! [`JobRecords::read`] answers `None` only when no record is kept. [`JobRecords::remove`]
//! forgets a record whose report was mailed; in the journal its line is not fsynced on its own
//! — a removal lost to a power failure only leaves a record that no report will ask for
//! again. Job ids are `<queue-id>-<recipient key>`, the
//! key staying with its recipient for the life of the message: deterministic, so a
//! resubmission after a crash or a retry carries the same id and the gateway recognises it.
//!
//! Implementation summary: a single node keeps the journal (one append and a shared fsync
//! per record is cheaper than a SQLite transaction made durable, and it was the format of
//! earlier releases); with PostgreSQL the record is one JSON row of `job_record` in the store
//! (`Store::job_put`). The journal holds `{"put": record}` and `{"del": "job-id"}` lines;
//! the live records are kept in memory. It is compacted (only the live records rewritten) when
//! opened and when removed lines outnumber live ones (and `COMPACT_AT`). Records of earlier
//! versions, one `jobs/<job-id>.json` file each, are taken into the journal when it opens.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use umsgate_domain::{Language, Service};

use crate::spool::journal::{self, Journal};
use crate::store::{Store, StoreError};

/// Removed lines beyond this (and beyond the live count) trigger a compaction.
const COMPACT_AT: usize = 10_000;

/// Everything the delivery report needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job_id: String,
    pub service: Service,
    pub e164: String,
    /// The address the user wrote (`+4930123456@fax.example.com`).
    pub rcpt_address: String,
    /// Where reports go; `None` for the null sender.
    pub report_to: Option<String>,
    /// The directory entry whose limits were charged.
    pub user: String,
    pub language: Language,
    pub html: bool,
    /// The user chose "no delivery reports".
    pub report_delete: bool,
    pub subject: Option<String>,
    pub original_message_id: Option<String>,
    pub pages: Option<u32>,
    pub queued_at: String,
}

/// One journal line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Line {
    Put(JobRecord),
    Del(String),
}

/// A job record could not be written, read or removed; temporary for the caller.
#[derive(Debug)]
#[non_exhaustive]
pub enum JobRecordError {
    /// The local journal.
    Journal(std::io::Error),
    /// The shared store.
    Store(StoreError),
    /// A record in the shared store that this release cannot read.
    Unreadable {
        job_id: String,
        source: serde_json::Error,
    },
}

impl std::fmt::Display for JobRecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobRecordError::Journal(e) => write!(f, "job journal: {e}"),
            JobRecordError::Store(e) => write!(f, "{e}"),
            JobRecordError::Unreadable { job_id, source } => {
                write!(f, "job record {job_id} is unreadable: {source}")
            }
        }
    }
}

impl std::error::Error for JobRecordError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JobRecordError::Journal(e) => Some(e),
            JobRecordError::Store(e) => Some(e),
            JobRecordError::Unreadable { source, .. } => Some(source),
        }
    }
}

/// The job records of one instance; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct JobRecords {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Journal(Journaled),
    Shared { store: Store, instance: String },
}

impl JobRecords {
    /// The local journal in `dir` (see [`Journaled::open`]).
    pub fn open(dir: &Path) -> std::io::Result<JobRecords> {
        Ok(JobRecords {
            backend: Backend::Journal(Journaled::open(dir)?),
        })
    }

    /// The records of `instance` in the shared store.
    pub fn shared(store: Store, instance: &str) -> JobRecords {
        JobRecords {
            backend: Backend::Shared {
                store,
                instance: instance.to_owned(),
            },
        }
    }

    /// How many records the local journal keeps; `None` for the shared store, whose count
    /// belongs to every node (a per-node gauge of it would be counted once per node).
    pub fn local_len(&self) -> Option<usize> {
        match &self.backend {
            Backend::Journal(j) => Some(j.len()),
            Backend::Shared { .. } => None,
        }
    }

    /// Whether the records are in the shared store (then [`crate::store::Store::reserve_job`]
    /// checks for a record and reserves in one statement).
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Shared { .. })
    }

    /// Records a job durably (see the module contract).
    pub async fn write(&self, r: &JobRecord) -> Result<(), JobRecordError> {
        match &self.backend {
            Backend::Journal(j) => {
                let (j, r) = (j.clone(), r.clone());
                tokio::task::spawn_blocking(move || j.write(&r))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
                    .map_err(JobRecordError::Journal)
            }
            Backend::Shared { store, instance } => {
                let json =
                    serde_json::to_string(r).map_err(|source| JobRecordError::Unreadable {
                        job_id: r.job_id.clone(),
                        source,
                    })?;
                store
                    .job_put(instance, &r.job_id, &json)
                    .await
                    .map_err(JobRecordError::Store)
            }
        }
    }

    /// The record of `job_id`, if one is kept.
    pub async fn read(&self, job_id: &str) -> Result<Option<JobRecord>, JobRecordError> {
        match &self.backend {
            Backend::Journal(j) => Ok(j.read(job_id).ok()),
            Backend::Shared { store, instance } => {
                let Some(json) = store
                    .job_get(instance, job_id)
                    .await
                    .map_err(JobRecordError::Store)?
                else {
                    return Ok(None);
                };
                serde_json::from_str(&json)
                    .map(Some)
                    .map_err(|source| JobRecordError::Unreadable {
                        job_id: job_id.to_owned(),
                        source,
                    })
            }
        }
    }

    /// Whether a record of `job_id` is kept (written and not yet removed).
    pub async fn contains(&self, job_id: &str) -> Result<bool, JobRecordError> {
        match &self.backend {
            Backend::Journal(j) => Ok(j.contains(job_id)),
            Backend::Shared { store, instance } => store
                .job_get(instance, job_id)
                .await
                .map(|r| r.is_some())
                .map_err(JobRecordError::Store),
        }
    }

    /// Forgets a record; see the module contract.
    pub async fn remove(&self, job_id: &str) -> Result<(), JobRecordError> {
        match &self.backend {
            Backend::Journal(j) => {
                let (j, id) = (j.clone(), job_id.to_owned());
                tokio::task::spawn_blocking(move || j.remove(&id))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
                    .map_err(JobRecordError::Journal)
            }
            Backend::Shared { store, instance } => store
                .job_remove(instance, job_id)
                .await
                .map(|_| ())
                .map_err(JobRecordError::Store),
        }
    }
}

/// The local journal of one instance's job records; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Journaled {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    journal: Journal,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    live: HashMap<String, JobRecord>,
    /// Lines in the journal that no longer count (removals and the puts they undid).
    dead: usize,
}

impl Journaled {
    /// Opens `dir/records.jsonl` (creating the folder), takes in old per-job files, compacts.
    pub fn open(dir: &Path) -> std::io::Result<Journaled> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("records.jsonl");
        let mut live = HashMap::new();
        for line in journal::read_lines(&path)? {
            match serde_json::from_str::<Line>(&line) {
                Ok(Line::Put(r)) => {
                    live.insert(r.job_id.clone(), r);
                }
                Ok(Line::Del(id)) => {
                    live.remove(&id);
                }
                Err(e) => {
                    tracing::warn!(event = "jobs.bad_line", path = %path.display(), error = %e, "skipped")
                }
            }
        }
        let mut legacy = Vec::new();
        for entry in std::fs::read_dir(dir)?.flatten() {
            let p = entry.path();
            let is_record = p.extension().is_some_and(|e| e == "json")
                && !entry.file_name().to_string_lossy().starts_with('.');
            if !is_record {
                continue;
            }
            match std::fs::read(&p)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<JobRecord>(&b).map_err(|e| e.to_string()))
            {
                Ok(r) => {
                    live.insert(r.job_id.clone(), r);
                    legacy.push(p);
                }
                Err(e) => {
                    tracing::warn!(event = "jobs.bad_record", path = %p.display(), error = %e, "left in place")
                }
            }
        }
        let journal = Journal::open(&path)?;
        journal.replace(&snapshot(&live))?;
        for p in legacy {
            let _ = std::fs::remove_file(p);
        }
        Ok(Journaled {
            inner: Arc::new(Inner {
                journal,
                state: Mutex::new(State { live, dead: 0 }),
            }),
        })
    }

    /// Records a job durably (blocking: an fsync, shared with concurrent writers). When the
    /// journal is poisoned (an earlier fsync failed, so what it holds on disk is not known),
    /// it is first written anew from the live records, which are the complete state; only if
    /// that fails too does the error reach the caller (and the job waits for a later try).
    pub fn write(&self, r: &JobRecord) -> std::io::Result<()> {
        match self.try_write(r) {
            Err(e) if journal::is_poisoned(&e) => {
                self.rewrite()?;
                self.try_write(r)
            }
            other => other,
        }
    }

    fn try_write(&self, r: &JobRecord) -> std::io::Result<()> {
        let line = encode(&Line::Put(r.clone()))?;
        // Appended under the state lock, so that a compaction (which rewrites the journal from
        // the live records) never drops a line appended after its snapshot; synced outside it.
        let (ticket, before) = {
            let mut st = self.state();
            let ticket = self.inner.journal.append(&line)?;
            let before = st.live.insert(r.job_id.clone(), r.clone());
            if before.is_some() {
                st.dead += 1;
            }
            (ticket, before)
        };
        let synced = self.inner.journal.sync_to(ticket);
        if synced.is_err() {
            // Not durable: the caller is told so and must not find it recorded.
            let mut st = self.state();
            match before {
                Some(old) => st.live.insert(r.job_id.clone(), old),
                None => st.live.remove(&r.job_id),
            };
        }
        synced
    }

    /// Writes the journal anew from the live records (see [`JobRecords::write`]).
    fn rewrite(&self) -> std::io::Result<()> {
        let mut st = self.state();
        self.inner.journal.replace(&snapshot(&st.live))?;
        st.dead = 0;
        Ok(())
    }

    /// How many jobs are handed to the engine and wait for its report.
    pub fn len(&self) -> usize {
        self.state().live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a record of `job_id` is kept (written and not yet removed).
    pub fn contains(&self, job_id: &str) -> bool {
        self.state().live.contains_key(job_id)
    }

    pub fn read(&self, job_id: &str) -> std::io::Result<JobRecord> {
        self.state().live.get(job_id).cloned().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no job record {job_id}"),
            )
        })
    }

    /// Forgets a record; see the module contract.
    pub fn remove(&self, job_id: &str) -> std::io::Result<()> {
        let line = encode(&Line::Del(job_id.to_owned()))?;
        let mut st = self.state();
        if st.live.remove(job_id).is_none() {
            return Ok(());
        }
        st.dead += 2;
        self.inner.journal.append(&line)?;
        if st.dead > COMPACT_AT && st.dead > st.live.len() {
            self.inner.journal.replace(&snapshot(&st.live))?;
            st.dead = 0;
        }
        Ok(())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn encode(line: &Line) -> std::io::Result<Vec<u8>> {
    let mut b = serde_json::to_vec(line).map_err(std::io::Error::other)?;
    b.push(b'\n');
    Ok(b)
}

/// The journal content that holds exactly `live`.
fn snapshot(live: &HashMap<String, JobRecord>) -> Vec<u8> {
    let mut records: Vec<&JobRecord> = live.values().collect();
    records.sort_by(|a, b| a.job_id.cmp(&b.job_id));
    records
        .into_iter()
        .filter_map(|r| encode(&Line::Put(r.clone())).ok())
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(id: &str) -> JobRecord {
        JobRecord {
            job_id: id.into(),
            service: Service::Fax,
            e164: "+4930123456".into(),
            rcpt_address: "+4930123456@fax.example.com".into(),
            report_to: Some("jane@example.com".into()),
            user: "jane@example.com".into(),
            language: Language::De,
            html: false,
            report_delete: false,
            subject: Some("Offer".into()),
            original_message_id: None,
            pages: Some(3),
            queued_at: "2026-11-26T10:00:00Z".into(),
        }
    }

    #[test]
    fn records_survive_a_reopen_and_removals_stay_removed() {
        let d = std::env::temp_dir().join(format!("umsgate-jobs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        // A record file of an earlier version is taken in.
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("OLD-0.json"),
            serde_json::to_vec(&record("OLD-0")).unwrap(),
        )
        .unwrap();
        let jobs = Journaled::open(&d).unwrap();
        jobs.write(&record("A-0")).unwrap();
        jobs.write(&record("A-1")).unwrap();
        jobs.remove("A-0").unwrap();
        drop(jobs);
        let jobs = Journaled::open(&d).unwrap();
        assert_eq!(jobs.read("A-1").unwrap(), record("A-1"));
        assert_eq!(jobs.read("OLD-0").unwrap(), record("OLD-0"));
        assert_eq!(
            jobs.read("A-0").unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
        assert!(!d.join("OLD-0.json").exists());
        // Compacted when opened: one line per live record.
        assert_eq!(
            journal::read_lines(&d.join("records.jsonl")).unwrap().len(),
            2
        );
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn many_removals_compact_the_journal() {
        let d = std::env::temp_dir().join(format!("umsgate-jobs-c-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let jobs = Journaled::open(&d).unwrap();
        jobs.write(&record("KEEP-0")).unwrap();
        for i in 0..(COMPACT_AT / 2 + 10) {
            let id = format!("J{i}-0");
            jobs.write(&record(&id)).unwrap();
            jobs.remove(&id).unwrap();
        }
        let lines = journal::read_lines(&d.join("records.jsonl")).unwrap();
        assert!(lines.len() < 100, "{} lines", lines.len());
        drop(jobs);
        let jobs = Journaled::open(&d).unwrap();
        assert!(jobs.read("KEEP-0").is_ok());
        let _ = std::fs::remove_dir_all(d);
    }
}

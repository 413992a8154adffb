//! Append-only journal files with group commit, for state that changes once per job
//! (job records, the simulated engine's hand-overs) without a new file per job.
//!
//! Contract: [`Journal::append`] writes whole lines in one `write` and returns a ticket;
//! [`Journal::sync_to`] returns once everything up to that ticket is on disk. Callers that
//! append while an fsync runs are covered by the next one, so N concurrent writers cost about
//! one fsync each round, not N. [`Journal::replace`] swaps in a rewritten file (compaction):
//! the new content is written to a temporary file, fsynced, renamed over the journal and the
//! folder fsynced, while appends and syncs wait. A line cut short by a crash is the reader's
//! to skip (it never ends in a newline).
//!
//! Failures:
//! - A failed append (disk full, a short write) leaves nothing behind: the file is cut back
//!   to the length it had before the write, so the next record starts a line of its own.
//!   Cutting back is preferred to starting the next append with a newline: no reader ever sees
//!   the half record (as a damaged line of its own), and the state to remember is the length,
//!   which the journal knows anyway (it is the only writer, and appends are serialised).
//! - A journal whose state on disk is no longer known is *poisoned*: every later
//!   [`Journal::append`] and [`Journal::sync_to`] (for a ticket not yet on disk) fails with
//!   [`Poisoned`] until the journal is opened again (which closes a half line with a newline,
//!   see [`Journal::open`]) or its whole content is written anew with [`Journal::replace`] —
//!   a fresh file, fsynced and renamed into place, owes nothing to the one whose state was
//!   lost, so a caller that holds the complete state (the job records do) recovers without a
//!   restart. That happens when
//!   - an fdatasync fails: Linux reports a writeback error once, and the pages it could not
//!     write may be dropped; a later fdatasync that returns `Ok` proves nothing about them;
//!   - cutting a failed append back fails (the half line might stay and be glued to);
//!   - compaction renamed the new file into place but could not open it or fsync the folder:
//!     appending to the old, unlinked file would lose every line.
//!
//! Implementation summary: one mutex holds the open file, its length and the poison; appends
//! write under it, with `O_APPEND`. A second mutex is held while an fdatasync runs, so that
//! callers arriving meanwhile wait and are usually covered by that one or the next. Lock
//! order everywhere: `sync`, then `file`.
//!
//! Why journals: on ext4 without a journal, creating and deleting a file per job costs more
//! than its fsync — every new inode is found by scanning past the recently deleted ones.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{sync_dir, write_synced};

/// One append-only file; see the module contract.
pub struct Journal {
    path: PathBuf,
    /// The current file; the lock also serialises appends.
    file: Mutex<Current>,
    /// Lines appended, and lines known to be on disk.
    written: AtomicU64,
    synced: AtomicU64,
    /// Held while an fsync runs.
    sync: Mutex<()>,
    faults: Option<FaultHook>,
}

/// The file appended to and what is known of it.
struct Current {
    file: Arc<File>,
    /// Its length: where the next append starts.
    len: u64,
    /// Set when the state on disk is no longer known; see the module contract.
    poisoned: Option<Poisoned>,
}

/// What made a journal refuse writes; see the module contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoisonCause {
    /// An fdatasync failed.
    Sync,
    /// A failed append could not be cut off again.
    Truncate,
    /// After compaction the new file could not be opened.
    Reopen,
    /// After compaction the folder could not be fsynced.
    SyncDir,
}

impl PoisonCause {
    fn name(self) -> &'static str {
        match self {
            PoisonCause::Sync => "fdatasync",
            PoisonCause::Truncate => "cutting off a failed append",
            PoisonCause::Reopen => "opening the compacted file",
            PoisonCause::SyncDir => "folder fsync after compaction",
        }
    }
}

/// The error of every write to a poisoned journal; its `source()` is the failure that
/// poisoned it.
#[derive(Debug, Clone)]
pub struct Poisoned {
    path: PathBuf,
    cause: PoisonCause,
    source: Arc<io::Error>,
}

impl Poisoned {
    pub fn cause(&self) -> PoisonCause {
        self.cause
    }

    fn to_io(&self) -> io::Error {
        io::Error::new(self.source.kind(), self.clone())
    }
}

impl std::fmt::Display for Poisoned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "journal {} refuses writes until it is reopened: {} failed",
            self.path.display(),
            self.cause.name()
        )
    }
}

impl std::error::Error for Poisoned {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// The steps of a journal that can fail, for [`Journal::open_with_faults`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// An append's write. A fault here stands for a write cut short: half of the bytes are
    /// written, then the error is returned.
    Write,
    /// Cutting a failed append's bytes off again.
    Truncate,
    /// The fdatasync of [`Journal::sync_to`].
    Sync,
    /// Opening the journal again after [`Journal::replace`] renamed the new file into place.
    Reopen,
}

/// A hook consulted before each [`Step`]: an `Err` stands for that step failing.
pub type FaultHook = Arc<dyn Fn(Step) -> io::Result<()> + Send + Sync>;

fn fault(hook: Option<&FaultHook>, step: Step) -> io::Result<()> {
    hook.map_or(Ok(()), |h| h(step))
}

impl Journal {
    /// Opens (creating) the journal at `path` for appending. A last line cut by a crash (or by
    /// a failed append that could not be cut back) is closed with a newline first, so that it
    /// stays one unreadable line of its own instead of swallowing the next record.
    pub fn open(path: &Path) -> io::Result<Journal> {
        Journal::open_with_faults(path, None)
    }

    /// As [`Journal::open`], with a hook that makes steps fail; for tests of the failure paths.
    pub fn open_with_faults(path: &Path, faults: Option<FaultHook>) -> io::Result<Journal> {
        let file = open_append(path)?;
        let mut len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            std::os::unix::fs::FileExt::read_at(&std::fs::File::open(path)?, &mut last, len - 1)?;
            if last[0] != b'\n' {
                (&file).write_all(b"\n")?;
                file.sync_data()?;
                len += 1;
            }
        }
        Ok(Journal {
            path: path.to_owned(),
            file: Mutex::new(Current {
                file: Arc::new(file),
                len,
                poisoned: None,
            }),
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            sync: Mutex::new(()),
            faults,
        })
    }

    fn current(&self) -> MutexGuard<'_, Current> {
        self.file.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn poison(&self, cur: &mut Current, cause: PoisonCause, source: io::Error) -> io::Error {
        tracing::error!(event = "journal.poisoned", path = %self.path.display(), cause = cause.name(), error = %source, "journal refuses writes until it is reopened");
        let p = cur.poisoned.get_or_insert(Poisoned {
            path: self.path.clone(),
            cause,
            source: Arc::new(source),
        });
        p.to_io()
    }

    /// Appends `bytes` (whole lines) in one write; returns the ticket for [`Journal::sync_to`].
    /// On failure nothing of `bytes` stays in the file (see the module contract).
    pub fn append(&self, bytes: &[u8]) -> io::Result<u64> {
        let mut cur = self.current();
        if let Some(p) = &cur.poisoned {
            return Err(p.to_io());
        }
        let written = match fault(self.faults.as_ref(), Step::Write) {
            Ok(()) => (&*cur.file).write_all(bytes),
            Err(e) => {
                // Stands for a write cut short: part of the bytes reach the file.
                let _ = (&*cur.file).write_all(&bytes[..bytes.len() / 2]);
                Err(e)
            }
        };
        if let Err(e) = written {
            let cut = fault(self.faults.as_ref(), Step::Truncate)
                .and_then(|()| cur.file.set_len(cur.len));
            if let Err(cut) = cut {
                tracing::error!(event = "journal.write_failed", path = %self.path.display(), error = %e, "append failed");
                return Err(self.poison(&mut cur, PoisonCause::Truncate, cut));
            }
            tracing::warn!(event = "journal.write_failed", path = %self.path.display(), error = %e, "append failed and cut off again");
            return Err(e);
        }
        cur.len += bytes.len() as u64;
        Ok(self.written.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// Returns when everything up to `ticket` is on disk.
    pub fn sync_to(&self, ticket: u64) -> io::Result<()> {
        let _g = self.sync.lock().unwrap_or_else(PoisonError::into_inner);
        if self.synced.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        let upto = self.written.load(Ordering::SeqCst);
        let file = {
            let cur = self.current();
            if let Some(p) = &cur.poisoned {
                return Err(p.to_io());
            }
            Arc::clone(&cur.file)
        };
        if let Err(e) = fault(self.faults.as_ref(), Step::Sync).and_then(|()| file.sync_data()) {
            let mut cur = self.current();
            return Err(self.poison(&mut cur, PoisonCause::Sync, e));
        }
        self.synced.fetch_max(upto, Ordering::SeqCst);
        Ok(())
    }

    /// [`Journal::append`] then [`Journal::sync_to`].
    pub fn append_durably(&self, bytes: &[u8]) -> io::Result<()> {
        let ticket = self.append(bytes)?;
        self.sync_to(ticket)
    }

    /// Replaces the whole journal by `content` (compaction, or recovery of a poisoned journal
    /// from the complete state); see the module contract. A failure before the rename leaves
    /// the journal as it was; one after it poisons it.
    pub fn replace(&self, content: &[u8]) -> io::Result<()> {
        // Lock order everywhere: `sync`, then `file`.
        let _g = self.sync.lock().unwrap_or_else(PoisonError::into_inner);
        let mut cur = self.current();
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .map_or_else(|| "journal".into(), |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!(".{name}.compact"));
        let _ = std::fs::remove_file(&tmp);
        if let Err(e) = write_synced(&tmp, content).and_then(|()| std::fs::rename(&tmp, &self.path))
        {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        // From here the journal's name is the new file: the old handle must not be used.
        let file = match fault(self.faults.as_ref(), Step::Reopen)
            .and_then(|()| open_append(&self.path))
        {
            Ok(f) => f,
            Err(e) => return Err(self.poison(&mut cur, PoisonCause::Reopen, e)),
        };
        cur.file = Arc::new(file);
        cur.len = content.len() as u64;
        if let Err(e) = sync_dir(dir) {
            return Err(self.poison(&mut cur, PoisonCause::SyncDir, e));
        }
        if cur.poisoned.take().is_some() {
            tracing::warn!(event = "journal.recovered", path = %self.path.display(), "written anew from the complete state; writes are taken again");
        }
        let written = self.written.load(Ordering::SeqCst);
        self.synced.fetch_max(written, Ordering::SeqCst);
        Ok(())
    }
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("faults", &self.faults.is_some())
            .finish_non_exhaustive()
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// Whether `e` is the error of a poisoned journal ([`Poisoned`]).
pub fn is_poisoned(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Poisoned>())
}

/// The complete lines of a journal file (a last line without newline — cut by a crash — is
/// left out); a missing file has none.
pub fn read_lines(path: &Path) -> io::Result<Vec<String>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let complete = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(&bytes[..0], |i| &bytes[..=i]);
    Ok(complete
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("umsgate-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn appends_from_many_threads_are_whole_lines_and_synced() {
        let d = scratch("threads");
        let j = Arc::new(Journal::open(&d.join("j.jsonl")).unwrap());
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let j = Arc::clone(&j);
                std::thread::spawn(move || {
                    for i in 0..50 {
                        j.append_durably(format!("{t}-{i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let lines = read_lines(&d.join("j.jsonl")).unwrap();
        assert_eq!(lines.len(), 400);
        assert!(j.synced.load(Ordering::SeqCst) >= 400);
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn replace_keeps_appending_to_the_new_file_and_cut_lines_are_skipped() {
        let d = scratch("replace");
        let p = d.join("j.jsonl");
        let j = Journal::open(&p).unwrap();
        j.append_durably(b"a\nb\n").unwrap();
        j.replace(b"b\n").unwrap();
        j.append_durably(b"c\n").unwrap();
        assert_eq!(read_lines(&p).unwrap(), ["b", "c"]);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"half")
            .unwrap();
        assert_eq!(read_lines(&p).unwrap(), ["b", "c"]);
        // Reopened after that crash: the cut line stays apart from the next record.
        let j = Journal::open(&p).unwrap();
        j.append_durably(b"d\n").unwrap();
        assert_eq!(read_lines(&p).unwrap(), ["b", "c", "half", "d"]);
        assert!(read_lines(&d.join("none")).unwrap().is_empty());
        let _ = std::fs::remove_dir_all(d);
    }

    /// A hook failing `step` while armed.
    fn failing(step: Step) -> (FaultHook, Arc<std::sync::atomic::AtomicBool>) {
        let armed = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let a = Arc::clone(&armed);
        let hook: FaultHook = Arc::new(move |s| {
            if s == step && a.load(Ordering::SeqCst) {
                return Err(io::Error::from_raw_os_error(28));
            }
            Ok(())
        });
        (hook, armed)
    }

    /// A write cut short (a full disk): the half line is cut off again, so the next record is
    /// a line of its own and nothing is glued to it.
    #[test]
    fn a_failed_write_leaves_no_partial_line_behind() {
        let d = scratch("short-write");
        let p = d.join("j.jsonl");
        let (hook, armed) = failing(Step::Write);
        armed.store(false, Ordering::SeqCst);
        let j = Journal::open_with_faults(&p, Some(hook)).unwrap();
        j.append_durably(b"first\n").unwrap();
        armed.store(true, Ordering::SeqCst);
        assert!(j.append(b"lost-record\n").is_err());
        armed.store(false, Ordering::SeqCst);
        j.append_durably(b"next\n").unwrap();
        assert_eq!(read_lines(&p).unwrap(), ["first", "next"]);
        let _ = std::fs::remove_dir_all(d);
    }

    /// When even cutting the half line off fails, the journal takes nothing more until it is
    /// opened again; opening closes the half line, so the next record stays whole.
    #[test]
    fn a_failed_cut_poisons_the_journal_until_it_is_reopened() {
        let d = scratch("failed-cut");
        let p = d.join("j.jsonl");
        let (write, write_armed) = failing(Step::Write);
        let (cut, cut_armed) = failing(Step::Truncate);
        let hook: FaultHook = Arc::new(move |s| write(s).and_then(|()| cut(s)));
        let j = Journal::open_with_faults(&p, Some(hook)).unwrap();
        assert!(j.append(b"lost-record\n").is_err());
        write_armed.store(false, Ordering::SeqCst);
        cut_armed.store(false, Ordering::SeqCst);
        assert!(j.append(b"refused\n").is_err());
        assert!(j.append_durably(b"refused\n").is_err());
        drop(j);
        let j = Journal::open(&p).unwrap();
        j.append_durably(b"after\n").unwrap();
        let lines = read_lines(&p).unwrap();
        assert_eq!(lines.last().map(String::as_str), Some("after"), "{lines:?}");
        assert!(!lines.iter().any(|l| l.contains("refused")), "{lines:?}");
        let _ = std::fs::remove_dir_all(d);
    }

    /// A failed fdatasync poisons the journal: Linux reports a writeback error once, so a
    /// later fdatasync that succeeds proves nothing about the lines written before it.
    #[test]
    fn a_failed_fsync_poisons_the_journal_until_it_is_reopened() {
        let d = scratch("failed-sync");
        let p = d.join("j.jsonl");
        let (hook, armed) = failing(Step::Sync);
        let j = Journal::open_with_faults(&p, Some(hook)).unwrap();
        let ticket = j.append(b"a\n").unwrap();
        assert!(j.sync_to(ticket).is_err());
        armed.store(false, Ordering::SeqCst);
        assert!(j.sync_to(ticket).is_err(), "a later fsync proves nothing");
        assert!(j.append(b"b\n").is_err());
        let err = j.append_durably(b"c\n").unwrap_err();
        assert!(err.to_string().contains("reopen"), "{err}");
        drop(j);
        let j = Journal::open(&p).unwrap();
        j.append_durably(b"d\n").unwrap();
        assert_eq!(read_lines(&p).unwrap(), ["a", "d"]);
        let _ = std::fs::remove_dir_all(d);
    }

    /// A poisoned journal written anew with its complete content takes writes again.
    #[test]
    fn replace_with_the_whole_state_recovers_a_poisoned_journal() {
        let d = scratch("recover");
        let p = d.join("j.jsonl");
        let (hook, armed) = failing(Step::Sync);
        let j = Journal::open_with_faults(&p, Some(hook)).unwrap();
        j.append_durably(b"a\n").unwrap_err();
        armed.store(false, Ordering::SeqCst);
        assert!(j.append_durably(b"b\n").is_err(), "poisoned");
        j.replace(b"a\n").unwrap();
        j.append_durably(b"c\n").unwrap();
        assert_eq!(read_lines(&p).unwrap(), ["a", "c"]);
        let _ = std::fs::remove_dir_all(d);
    }

    /// Compaction renamed the new file into place but could not open it: appends are refused
    /// instead of going to the old, unlinked file (where they would be lost).
    #[test]
    fn a_failed_reopen_after_replace_refuses_appends() {
        let d = scratch("failed-reopen");
        let p = d.join("j.jsonl");
        let (hook, armed) = failing(Step::Reopen);
        let j = Journal::open_with_faults(&p, Some(hook)).unwrap();
        j.append_durably(b"a\nb\n").unwrap();
        assert!(j.replace(b"b\n").is_err());
        armed.store(false, Ordering::SeqCst);
        assert!(j.append_durably(b"c\n").is_err());
        assert_eq!(read_lines(&p).unwrap(), ["b"]);
        let _ = std::fs::remove_dir_all(d);
    }
}

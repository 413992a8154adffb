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
//! Why journals: on ext4 without a journal, creating and deleting a file per job costs more
//! than its fsync — every new inode is found by scanning past the recently deleted ones.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::{sync_dir, write_synced};

/// One append-only file; see the module contract.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// The current file; the lock also serialises appends.
    file: Mutex<Arc<File>>,
    /// Lines appended, and lines known to be on disk.
    written: AtomicU64,
    synced: AtomicU64,
    /// Held while an fsync runs.
    sync: Mutex<()>,
}

impl Journal {
    /// Opens (creating) the journal at `path` for appending. A last line cut by a crash is
    /// closed with a newline first, so that it stays one unreadable line of its own instead of
    /// swallowing the next record.
    pub fn open(path: &Path) -> io::Result<Journal> {
        let file = open_append(path)?;
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            std::os::unix::fs::FileExt::read_at(&std::fs::File::open(path)?, &mut last, len - 1)?;
            if last[0] != b'\n' {
                (&file).write_all(b"\n")?;
                file.sync_data()?;
            }
        }
        Ok(Journal {
            path: path.to_owned(),
            file: Mutex::new(Arc::new(file)),
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            sync: Mutex::new(()),
        })
    }

    /// Appends `bytes` (whole lines) in one write; returns the ticket for [`Journal::sync_to`].
    pub fn append(&self, bytes: &[u8]) -> io::Result<u64> {
        let file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        (&**file).write_all(bytes)?;
        Ok(self.written.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// Returns when everything up to `ticket` is on disk.
    pub fn sync_to(&self, ticket: u64) -> io::Result<()> {
        let _g = self.sync.lock().unwrap_or_else(PoisonError::into_inner);
        if self.synced.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        let upto = self.written.load(Ordering::SeqCst);
        let file = Arc::clone(&self.file.lock().unwrap_or_else(PoisonError::into_inner));
        file.sync_data()?;
        self.synced.fetch_max(upto, Ordering::SeqCst);
        Ok(())
    }

    /// [`Journal::append`] then [`Journal::sync_to`].
    pub fn append_durably(&self, bytes: &[u8]) -> io::Result<()> {
        let ticket = self.append(bytes)?;
        self.sync_to(ticket)
    }

    /// Replaces the whole journal by `content` (compaction); see the module contract.
    pub fn replace(&self, content: &[u8]) -> io::Result<()> {
        // Lock order everywhere: `sync`, then `file`.
        let _g = self.sync.lock().unwrap_or_else(PoisonError::into_inner);
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .map_or_else(|| "journal".into(), |n| n.to_string_lossy().into_owned());
        let tmp = dir.join(format!(".{name}.compact"));
        let _ = std::fs::remove_file(&tmp);
        write_synced(&tmp, content)?;
        std::fs::rename(&tmp, &self.path)?;
        sync_dir(dir)?;
        *file = Arc::new(open_append(&self.path)?);
        let written = self.written.load(Ordering::SeqCst);
        self.synced.fetch_max(written, Ordering::SeqCst);
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
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
}

//! The console's index of the queue folders, so that a page of a queue costs a page, not a
//! scan of the folder.
//!
//! Contract: [`QueueIndex::snapshot`] answers the messages of one queue folder, oldest
//! first, as the folder stood at most a moment ago: when the folder's modification time is
//! the one of the last scan (and that scan began more than [`SETTLE`] after it — the "racy
//! timestamp" rule, for changes within the file system's clock tick), the last answer is
//! served as it is; otherwise the folder is listed again, and only sidecars not seen before
//! are read. A sidecar is recognised by its name and inode: the spool replaces a sidecar by
//! renaming a new file over it, which gives it a new inode. Scans of one folder never run
//! twice at once (a second request waits for the first's result).
//!
//! Implementation summary: the spool's own listing (`list_dir`) reads every sidecar, which
//! for 100 000 messages takes seconds; here a listing reads the names and inodes only
//! (`readdir` gives both), about 30 ms for 100 000 pairs, and an unchanged folder costs one
//! `stat`. Filtering and paging then run over the in-memory vector.

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::spool::layout::QueueState;
use crate::spool::{QueueId, Sidecar};
use umsgate_domain::clock;

/// A folder changed less than this before a scan may change again unseen (same mtime).
pub const SETTLE: Duration = Duration::from_secs(1);

/// One message as the queue page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub id: String,
    pub state: QueueState,
    pub size: u64,
    pub received_at: Option<String>,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub attempts: u32,
    pub next_attempt: Option<String>,
    pub last_error: Option<String>,
    /// Lower-case id, sender and recipients, for the search box.
    #[serde(skip)]
    haystack: String,
}

impl Summary {
    fn new(id: &str, folder: QueueState, size: u64, s: Option<&Sidecar>) -> Summary {
        let state = match (folder, s) {
            (QueueState::Outgoing | QueueState::Deferred, Some(s)) if s.attempts > 0 => {
                QueueState::Deferred
            }
            (QueueState::Outgoing | QueueState::Deferred, _) => QueueState::Outgoing,
            (other, _) => other,
        };
        let from = s.map(|s| s.mail_from.clone());
        let to: Vec<String> = s
            .map(|s| s.rcpts.iter().map(|r| r.address.clone()).collect())
            .unwrap_or_default();
        let mut haystack = id.to_ascii_lowercase();
        for part in from.iter().chain(to.iter()) {
            haystack.push(' ');
            haystack.push_str(&part.to_lowercase());
        }
        Summary {
            id: id.to_owned(),
            state,
            size: s.map_or(size, |s| s.size),
            received_at: s.map(|s| clock::rfc3339(s.received_at)),
            from,
            to,
            attempts: s.map_or(0, |s| s.attempts),
            next_attempt: s.and_then(|s| s.next_attempt.map(clock::rfc3339)),
            last_error: s.and_then(|s| s.last_error.clone()),
            haystack,
        }
    }

    /// Whether the search `q` matches this message.
    pub fn matches(&self, q: &Search) -> bool {
        let hay = self.haystack.as_bytes();
        q.text.is_empty()
            || q.text_finder.find(hay).is_some()
            || q.digits.as_ref().is_some_and(|d| d.find(hay).is_some())
    }
}

/// A search, prepared once for every message it is matched against.
///
/// The finders are built once (memchr's `memmem`): building a searcher per message cost more
/// than the search itself over 100 000 messages.
#[derive(Debug, Clone)]
pub struct Search {
    /// Lower-case.
    text: String,
    text_finder: memchr::memmem::Finder<'static>,
    /// The digits of a query that is mostly a number (`+49 8142 4799-123`), compared without
    /// its separators.
    digits: Option<memchr::memmem::Finder<'static>>,
}

impl Search {
    pub fn new(q: &str) -> Search {
        let text = q.trim().to_lowercase();
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let digits = (digits.len() >= 3 && digits.len() * 2 >= text.len())
            .then(|| memchr::memmem::Finder::new(digits.as_bytes()).into_owned());
        Search {
            text_finder: memchr::memmem::Finder::new(text.as_bytes()).into_owned(),
            text,
            digits,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

#[derive(Default)]
struct Folder {
    mtime: Option<SystemTime>,
    scanned_at: Option<SystemTime>,
    /// (sidecar inode) by id; 0 = no sidecar.
    known: HashMap<String, (u64, Arc<Summary>)>,
    items: Arc<Vec<Arc<Summary>>>,
}

/// The index of every queue folder the console has shown.
#[derive(Default, Clone)]
pub struct QueueIndex {
    folders: Arc<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<Folder>>>>>,
}

impl std::fmt::Debug for QueueIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QueueIndex")
    }
}

impl QueueIndex {
    /// The messages of `dir` (a folder holding messages of `state`), oldest first.
    pub async fn snapshot(
        &self,
        dir: &Path,
        state: QueueState,
    ) -> io::Result<Arc<Vec<Arc<Summary>>>> {
        let folder = {
            let mut map = self.folders.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(map.entry(dir.to_owned()).or_default())
        };
        let mut guard = folder.lock().await;
        let mtime = match std::fs::metadata(dir) {
            Ok(m) => m.modified()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Arc::new(Vec::new())),
            Err(e) => return Err(e),
        };
        let settled = guard
            .scanned_at
            .and_then(|s| s.duration_since(mtime).ok())
            .is_some_and(|d| d >= SETTLE);
        if guard.mtime == Some(mtime) && settled {
            return Ok(Arc::clone(&guard.items));
        }
        let old = std::mem::take(&mut guard.known);
        let dir_owned = dir.to_owned();
        let scanned_at = clock::now();
        let (known, items) = tokio::task::spawn_blocking(move || scan(&dir_owned, state, old))
            .await
            .map_err(io::Error::other)??;
        guard.known = known;
        guard.items = Arc::new(items);
        guard.mtime = Some(mtime);
        guard.scanned_at = Some(scanned_at);
        Ok(Arc::clone(&guard.items))
    }
}

type Scanned = (HashMap<String, (u64, Arc<Summary>)>, Vec<Arc<Summary>>);

fn scan(
    dir: &Path,
    state: QueueState,
    mut old: HashMap<String, (u64, Arc<Summary>)>,
) -> io::Result<Scanned> {
    let mut emls: Vec<String> = Vec::new();
    let mut sidecars: HashMap<String, u64> = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".eml") {
            if QueueId::parse(stem).is_some() {
                emls.push(stem.to_owned());
            }
        } else if let Some(stem) = name.strip_suffix(".json") {
            sidecars.insert(stem.to_owned(), entry.ino());
        }
    }
    emls.sort();
    let mut known = HashMap::with_capacity(emls.len());
    let mut items = Vec::with_capacity(emls.len());
    for id in emls {
        let ino = sidecars.get(&id).copied().unwrap_or(0);
        let summary = match old.remove(&id) {
            Some((i, s)) if i == ino && ino != 0 => s,
            _ => {
                let sidecar = if ino == 0 {
                    None
                } else {
                    std::fs::read(dir.join(format!("{id}.json")))
                        .ok()
                        .and_then(|b| Sidecar::from_bytes(&b).ok())
                };
                let size = if sidecar.is_none() {
                    match std::fs::metadata(dir.join(format!("{id}.eml"))) {
                        Ok(m) => m.len(),
                        // Moved away since the listing.
                        Err(_) => continue,
                    }
                } else {
                    0
                };
                Arc::new(Summary::new(&id, state, size, sidecar.as_ref()))
            }
        };
        known.insert(id, (ino, Arc::clone(&summary)));
        items.push(summary);
    }
    Ok((known, items))
}

/// Messages of the intake log (`smtp-in/`'s, being processed), as summaries.
pub fn intake_summaries(smtp_in: &Path) -> io::Result<Vec<Arc<Summary>>> {
    let live = crate::spool::intake::live_messages(&smtp_in.join(crate::spool::INTAKE_DIR))?;
    Ok(live
        .iter()
        .map(|m| {
            Arc::new(Summary::new(
                m.id.as_str(),
                QueueState::Incoming,
                m.size,
                m.sidecar.as_ref(),
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn write_pair(dir: &Path, id: &str, rcpt: &str, attempts: u32) {
        let mut s = crate::web::testing::sidecar(id, "sender@example.com", rcpt);
        s.attempts = attempts;
        std::fs::write(dir.join(format!("{id}.eml")), b"Subject: x\r\n\r\nbody\r\n").unwrap();
        let tmp = dir.join("tmp.json");
        std::fs::write(&tmp, s.to_bytes()).unwrap();
        std::fs::rename(&tmp, dir.join(format!("{id}.json"))).unwrap();
    }

    #[tokio::test]
    async fn lists_searches_and_sees_changes() {
        let dir = crate::web::testing::temp_dir("index");
        let index = QueueIndex::default();
        let a = QueueId::generate();
        let b = QueueId::generate();
        write_pair(&dir, a.as_str(), "+4981424799123@fax.example.com", 0);
        write_pair(&dir, b.as_str(), "bob@example.com", 2);
        let items = index.snapshot(&dir, QueueState::Outgoing).await.unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].id, a.as_str(), "oldest first");
        assert_eq!(items[0].state, QueueState::Outgoing);
        assert_eq!(items[1].state, QueueState::Deferred);
        assert!(items[0].matches(&Search::new("4799123")));
        assert!(items[0].matches(&Search::new("+49 8142 4799-123")));
        assert!(!items[1].matches(&Search::new("4799123")));
        assert!(items[1].matches(&Search::new("BOB@")));
        assert!(items[1].matches(&Search::new("")));
        assert!(
            !items[1].matches(&Search::new("a 1 b 2 c 3 d")),
            "not mostly a number"
        );
        // A sidecar replaced by rename (new inode) is read again; a removed message goes.
        write_pair(&dir, a.as_str(), "+4981424799123@fax.example.com", 3);
        std::fs::remove_file(dir.join(format!("{}.eml", b.as_str()))).unwrap();
        // The folder changed within the settle time of the last scan: listed again.
        let items = index.snapshot(&dir, QueueState::Outgoing).await.unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].attempts, 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The in-memory spool ([`Spool::in_memory`]): the queue folders a worker sees, kept in a map
//! instead of files, so that the workers are tested without a file system under their queue.
//!
//! Contract: every operation of [`Spool`] a worker uses — `store`, `list`, `read`, and the
//! transitions `rewrite`, `retire`, `move_to`, `put`, `quarantine` — behaves as on disk
//! (an entry's folder is its `.eml` path's parent, its name `<id>.eml`; `size` is set to the
//! message's length; a numbered `put` takes the first free `<id>-<n>`), except that nothing is
//! durable: it is for tests, never for mail. [`Spool::held`] shows what a folder holds.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::{CORRUPT_DIR, Entry, Naming, QueueId, Sidecar};

/// One message held: its sidecar (none for one "dropped in by hand") and bytes.
#[derive(Debug, Clone)]
struct Held {
    sidecar: Option<Sidecar>,
    eml: Arc<Vec<u8>>,
}

/// The folders, by path, and the messages in each, by id.
#[derive(Debug, Default)]
pub(super) struct Memory {
    folders: Mutex<BTreeMap<PathBuf, BTreeMap<QueueId, Held>>>,
}

fn gone(id: &QueueId) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{id} is not in the queue"))
}

fn folder_of(entry: &Entry) -> PathBuf {
    entry.eml.parent().map(Path::to_owned).unwrap_or_default()
}

impl Memory {
    fn folders(&self) -> std::sync::MutexGuard<'_, BTreeMap<PathBuf, BTreeMap<QueueId, Held>>> {
        self.folders.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn store(&self, dir: &Path, sidecar: Option<Sidecar>, eml: Vec<u8>) -> QueueId {
        let id = sidecar
            .as_ref()
            .map_or_else(QueueId::generate, |s| s.id.clone());
        let held = Held {
            sidecar: sidecar.map(|mut s| {
                s.size = eml.len() as u64;
                s
            }),
            eml: Arc::new(eml),
        };
        self.folders()
            .entry(dir.to_owned())
            .or_default()
            .insert(id.clone(), held);
        id
    }

    pub(super) fn list(&self, dir: &Path) -> Vec<Entry> {
        self.folders().get(dir).map_or_else(Vec::new, |f| {
            f.iter()
                .map(|(id, h)| Entry {
                    id: id.clone(),
                    eml: dir.join(format!("{id}.eml")),
                    sidecar: h.sidecar.clone(),
                    size: h.eml.len() as u64,
                    logged: None,
                })
                .collect()
        })
    }

    pub(super) fn read(&self, entry: &Entry) -> io::Result<Vec<u8>> {
        self.folders()
            .get(&folder_of(entry))
            .and_then(|f| f.get(&entry.id))
            .map(|h| h.eml.as_ref().clone())
            .ok_or_else(|| gone(&entry.id))
    }

    pub(super) fn rewrite(&self, entry: &Entry, sidecar: &Sidecar) -> io::Result<()> {
        let mut folders = self.folders();
        let held = folders
            .get_mut(&folder_of(entry))
            .and_then(|f| f.get_mut(&entry.id))
            .ok_or_else(|| gone(&entry.id))?;
        let mut sc = sidecar.clone();
        sc.size = held.eml.len() as u64;
        held.sidecar = Some(sc);
        Ok(())
    }

    /// Takes a message out of its folder (nothing when it has gone already).
    pub(super) fn retire(&self, entry: &Entry) -> Option<Arc<Vec<u8>>> {
        self.folders()
            .get_mut(&folder_of(entry))
            .and_then(|f| f.remove(&entry.id))
            .map(|h| h.eml)
    }

    pub(super) fn move_to(
        &self,
        entry: &Entry,
        sidecar: &Sidecar,
        target: &Path,
    ) -> io::Result<()> {
        let eml = self.retire(entry).ok_or_else(|| gone(&entry.id))?;
        let mut sc = sidecar.clone();
        sc.size = eml.len() as u64;
        self.folders().entry(target.to_owned()).or_default().insert(
            entry.id.clone(),
            Held {
                sidecar: Some(sc),
                eml,
            },
        );
        Ok(())
    }

    pub(super) fn put(
        &self,
        target: &Path,
        sidecar: &Sidecar,
        eml: &[u8],
        naming: Naming,
    ) -> io::Result<QueueId> {
        let mut folders = self.folders();
        let folder = folders.entry(target.to_owned()).or_default();
        let id = match naming {
            Naming::Same => sidecar.id.clone(),
            Naming::Numbered => (1..super::transitions::MAX_NUMBER)
                .filter_map(|n| QueueId::parse(&format!("{}-{n}", sidecar.id)))
                .find(|c| !folder.contains_key(c))
                .ok_or_else(|| io::Error::other(format!("no free name for {}", sidecar.id)))?,
        };
        let mut sc = sidecar.clone();
        sc.id = id.clone();
        sc.size = eml.len() as u64;
        folder.insert(
            id.clone(),
            Held {
                sidecar: Some(sc),
                eml: Arc::new(eml.to_vec()),
            },
        );
        Ok(id)
    }

    pub(super) fn quarantine(&self, entry: &Entry) -> io::Result<String> {
        let dir = folder_of(entry);
        let mut folders = self.folders();
        let held = folders
            .get_mut(&dir)
            .and_then(|f| f.remove(&entry.id))
            .ok_or_else(|| gone(&entry.id))?;
        folders
            .entry(dir.join(CORRUPT_DIR))
            .or_default()
            .insert(entry.id.clone(), held);
        Ok(entry.id.to_string())
    }
}

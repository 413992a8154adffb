//! The message journal (`[instance.mail] store = "journal"`): received messages and the
//! delivery reports of outbound jobs, kept as the mails they would have been, in
//! `<instance>/journal/<id>.eml`, each indexed by one row of the state store
//! ([`crate::store::JournalEntry`]).
//!
//! Contract: [`MessageJournal::keep`] returns `Ok` only once the `.eml` is durable (written
//! to a temporary name, fsynced, renamed into `journal/`, the folder fsynced) **and** its
//! index row is committed, so a caller may then forget what the mail is about (the received
//! message's folder, the job's record). An entry kept again under the same id replaces the
//! first (a mail composed again after a crash). [`MessageJournal::read`] answers an entry
//! with its mail only when both exist, and refuses a file larger than [`MAX_ENTRY_BYTES`].
//! [`MessageJournal::remove`] forgets the index row first, then the file: a crash between
//! leaves a file nobody lists, never a listed entry without its mail.
//!
//! Implementation summary: ids are [`QueueId`]s (checked, so a name from a URL never leaves
//! the folder); keeping a mail writes and fsyncs on a blocking thread; reading and removing one
//! file is short and done in place. A mail whose index row cannot be written is removed again
//! (the caller keeps it anew).

use std::path::{Path, PathBuf};

use crate::spool::{QueueId, sync_dir, write_synced};
use crate::store::{JournalEntry, Store, StoreError};

/// The largest `.eml` the journal reads back (a received fax is a few MB).
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;
/// Characters of a subject kept in the index.
const SUBJECT_MAX: usize = 300;

/// Why the journal could not keep, read or remove an entry.
#[derive(Debug)]
#[non_exhaustive]
pub enum JournalError {
    /// The `.eml` could not be written, read or removed.
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The index in the state store failed.
    Index(StoreError),
    /// The `.eml` is larger than [`MAX_ENTRY_BYTES`].
    TooLarge { path: PathBuf, size: u64 },
}

impl std::fmt::Display for JournalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JournalError::File { path, source } => {
                write!(f, "journal file {}: {source}", path.display())
            }
            JournalError::Index(e) => write!(f, "journal index: {e}"),
            JournalError::TooLarge { path, size } => write!(
                f,
                "journal file {} has {size} bytes, more than {MAX_ENTRY_BYTES}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for JournalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JournalError::File { source, .. } => Some(source),
            JournalError::Index(e) => Some(e),
            JournalError::TooLarge { .. } => None,
        }
    }
}

/// One instance's journal: its folder and the shared index.
#[derive(Debug, Clone)]
pub struct MessageJournal {
    instance: String,
    dir: PathBuf,
    store: Store,
}

impl MessageJournal {
    pub fn new(instance: &str, dir: &Path, store: Store) -> MessageJournal {
        MessageJournal {
            instance: instance.to_owned(),
            dir: dir.to_owned(),
            store,
        }
    }

    /// Where the mail of `id` is kept.
    pub fn path(&self, id: &QueueId) -> PathBuf {
        self.dir.join(format!("{id}.eml"))
    }

    /// Keeps `eml` under `entry.id` (a [`QueueId`]) and indexes it; see the module contract.
    /// `entry.instance` and `entry.size` are set here.
    pub async fn keep(&self, entry: &JournalEntry, eml: &[u8]) -> Result<(), JournalError> {
        let Some(id) = QueueId::parse(&entry.id) else {
            return Err(JournalError::File {
                path: self.dir.join(&entry.id),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a queue id"),
            });
        };
        let path = self.path(&id);
        let tmp = self.dir.join(format!(".{id}.eml.tmp"));
        let file_err = |source| JournalError::File {
            path: path.clone(),
            source,
        };
        // Two fsyncs: on a blocking thread, not on the runtime's.
        let (dir, target, bytes) = (self.dir.clone(), path.clone(), eml.to_vec());
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let _ = std::fs::remove_file(&tmp);
            write_synced(&tmp, &bytes)
                .and_then(|()| std::fs::rename(&tmp, &target))
                .and_then(|()| sync_dir(&dir))
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
        .map_err(file_err)?;
        let entry = JournalEntry {
            instance: self.instance.clone(),
            size: eml.len() as u64,
            ..entry.clone()
        };
        match self.store.journal_add(&entry).await {
            Ok(()) => Ok(()),
            Err(e) => {
                // Not indexed, not listed: the caller keeps it again (under a new id), so
                // this copy would only take space.
                let _ = std::fs::remove_file(&path);
                Err(JournalError::Index(e))
            }
        }
    }

    /// The entry `id` and its mail; `None` when either is missing.
    pub async fn read(&self, id: &str) -> Result<Option<(JournalEntry, Vec<u8>)>, JournalError> {
        let Some(qid) = QueueId::parse(id) else {
            return Ok(None);
        };
        let Some(entry) = self
            .store
            .journal_get(&self.instance, qid.as_str())
            .await
            .map_err(JournalError::Index)?
        else {
            return Ok(None);
        };
        let path = self.path(&qid);
        let read = read_bounded(&path);
        match read {
            Ok(bytes) => Ok(Some((entry, bytes))),
            Err(JournalError::File { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Forgets the entry `id` (index first, then its file); returns whether it was indexed.
    pub async fn remove(&self, id: &str) -> Result<bool, JournalError> {
        let Some(qid) = QueueId::parse(id) else {
            return Ok(false);
        };
        let indexed = self
            .store
            .journal_remove(&self.instance, qid.as_str())
            .await
            .map_err(JournalError::Index)?;
        let path = self.path(&qid);
        match std::fs::remove_file(&path) {
            Ok(()) => sync_dir(&self.dir).map_err(|source| JournalError::File { path, source })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(JournalError::File { path, source }),
        }
        Ok(indexed)
    }
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, JournalError> {
    use std::io::Read;
    let file_err = |source| JournalError::File {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(file_err)?;
    let size = file.metadata().map_err(file_err)?.len();
    if size > MAX_ENTRY_BYTES {
        return Err(JournalError::TooLarge {
            path: path.to_owned(),
            size,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(MAX_ENTRY_BYTES)
        .read_to_end(&mut bytes)
        .map_err(file_err)?;
    Ok(bytes)
}

/// The (decoded) subject of a mail, for the index: at most 300 characters, one line.
pub fn subject_of(eml: &[u8]) -> String {
    mail_parser::MessageParser::default()
        .parse_headers(eml)
        .and_then(|m| m.subject().map(str::to_owned))
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(SUBJECT_MAX)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::JournalKind;
    use umsgate_domain::Service;

    #[tokio::test]
    async fn kept_entries_are_durable_indexed_replaced_read_and_removed() {
        let dir = std::env::temp_dir().join(format!("umsgate-mjournal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("umsgate.db")).await.unwrap();
        let journal = MessageJournal::new("i", &dir.join("journal"), store.clone());
        let id = QueueId::generate();
        let eml = b"Subject: =?utf-8?q?Fax_f=C3=BCr_Jane?=\r\nTo: jane@example.com\r\n\r\nbody\r\n";
        let entry = JournalEntry {
            instance: String::new(),
            id: id.to_string(),
            kind: JournalKind::Report,
            service: Service::Fax,
            calling: String::new(),
            called: "+4930123".into(),
            recipient: "jane@example.com".into(),
            received_at: "2026-12-04T10:00:00Z".into(),
            subject: subject_of(eml),
            size: 0,
        };
        assert_eq!(entry.subject, "Fax für Jane");
        journal.keep(&entry, b"first").await.unwrap();
        journal.keep(&entry, eml).await.unwrap();
        let (kept, bytes) = journal.read(id.as_str()).await.unwrap().unwrap();
        assert_eq!(bytes, eml);
        assert_eq!((kept.instance.as_str(), kept.size), ("i", eml.len() as u64));
        assert!(journal.read("../umsgate.db").await.unwrap().is_none());
        // Another instance's journal does not see it.
        let other = MessageJournal::new("j", &dir.join("journal"), store);
        assert!(other.read(id.as_str()).await.unwrap().is_none());
        assert!(journal.remove(id.as_str()).await.unwrap());
        assert!(!journal.path(&id).exists());
        assert!(journal.read(id.as_str()).await.unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

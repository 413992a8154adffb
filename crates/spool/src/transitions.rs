//! What may happen to a queued message after it was stored: the spool's only ways to change
//! its files, for the workers of both directions.
//!
//! Contract: a worker that has taken a message ([`Spool::list`] or [`Spool::take_logged`])
//! ends its turn with exactly one of
//! - [`Spool::rewrite`]: the message stays queued with a new sidecar (recipients handled,
//!   the next attempt scheduled); a logged message is written out as a pair for that;
//! - [`Spool::retire`]: the message is done and leaves the queue;
//! - [`Spool::move_to`]: the message goes, with its sidecar, to another folder (the archive
//!   `smtp-in/error/`, Badmail);
//!
//! or none of them, when it is to be tried again as it is. Every rewrite and move is durable
//! when it returns (written, fsynced, renamed, folder fsynced; the sidecar published before
//! the `.eml`). Retirements of files are made durable in batches ([`Spool::sync_removals`]):
//! a removal undone by a power loss only makes the worker handle the message again, and every
//! step after the queue (job hand-over, delivery) is idempotent per message and recipient.
//! No other module renames, removes or fsyncs a queue file.

use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::{Entry, Sidecar, Spool, TMP_DIR, sync_dir, write_pair, write_synced};

/// Removals from the queue folder made durable together, with one folder fsync.
const REMOVAL_BATCH: usize = 64;

impl Spool {
    /// Replaces the sidecar of a queued message; see the module contract. `sidecar.size` is
    /// set here (an adopted message gets its first sidecar this way).
    pub fn rewrite(&self, entry: &Entry, sidecar: &Sidecar) -> io::Result<()> {
        if entry.logged.is_some() {
            return self.write_out(entry, sidecar, &self.inner.dir);
        }
        let mut sc = sidecar.clone();
        sc.size = std::fs::metadata(&entry.eml)?.len();
        let dir = &self.inner.dir;
        let tmp = dir.join(TMP_DIR).join(format!("{}.json.rewrite", entry.id));
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        write_synced(&tmp, &sc.to_bytes())?;
        std::fs::rename(&tmp, dir.join(format!("{}.json", entry.id)))?;
        sync_dir(dir)
    }

    /// The message is done: it leaves the queue (see the module contract on durability).
    pub fn retire(&self, entry: &Entry) -> io::Result<()> {
        if let Some(l) = &entry.logged {
            if let Some((log, _)) = &self.inner.log {
                log.retire(l);
            }
            return Ok(());
        }
        std::fs::remove_file(&entry.eml)?;
        match std::fs::remove_file(entry.eml.with_extension("json")) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        if self.inner.removed_unsynced.fetch_add(1, Ordering::SeqCst) + 1 >= REMOVAL_BATCH {
            self.sync_removals()?;
        }
        Ok(())
    }

    /// Makes the retirements since the last call durable (one folder fsync).
    pub fn sync_removals(&self) -> io::Result<()> {
        if self.inner.removed_unsynced.swap(0, Ordering::SeqCst) > 0 {
            sync_dir(&self.inner.dir)?;
        }
        Ok(())
    }

    /// Moves the message with `sidecar` into `target` (created if missing), durably; it
    /// leaves this queue. An earlier message of the same id there is replaced.
    pub fn move_to(&self, entry: &Entry, sidecar: &Sidecar, target: &Path) -> io::Result<()> {
        std::fs::create_dir_all(target)?;
        if entry.logged.is_some() {
            return self.write_out(entry, sidecar, target);
        }
        let eml = std::fs::read(&entry.eml)?;
        let mut sc = sidecar.clone();
        sc.size = eml.len() as u64;
        // Written anew (not renamed) so that the sidecar always matches the message and a
        // folder on another file system works too; the copy is durable before the original
        // goes.
        write_pair(
            target,
            &self.inner.tmp,
            &entry.id,
            Some(&sc.to_bytes()),
            &eml,
        )?;
        sync_dir(target)?;
        std::fs::remove_file(&entry.eml)?;
        match std::fs::remove_file(entry.eml.with_extension("json")) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        sync_dir(&self.inner.dir)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::{QueueId, adopt};
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("umsgate-spool-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    const EML: &[u8] = b"From: a@example.com\r\nTo: +4930@fax.example.com\r\n\r\nbody\r\n";

    fn stored(dir: &Path) -> (Spool, Entry) {
        let (spool, _) = Spool::open(dir).unwrap();
        let id = QueueId::generate();
        let sc = adopt::sidecar(
            &id,
            &"t".parse().unwrap(),
            umsgate_domain::clock::now(),
            EML,
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(spool.store(sc, EML.to_vec())).unwrap();
        let entry = spool.list().unwrap().remove(0);
        (spool, entry)
    }

    #[test]
    fn rewrite_keeps_the_message_and_replaces_its_sidecar() {
        let d = scratch("tr-rewrite");
        let (spool, entry) = stored(&d);
        let mut sc = entry.sidecar.clone().unwrap();
        sc.attempts = 3;
        sc.last_error = Some("directory down".into());
        spool.rewrite(&entry, &sc).unwrap();
        let again = spool.list().unwrap().remove(0);
        let got = again.sidecar.unwrap();
        assert_eq!(got.attempts, 3);
        assert_eq!(got.size, entry.size);
        assert!(
            std::fs::read_dir(d.join(TMP_DIR)).unwrap().all(|e| e
                .unwrap()
                .file_type()
                .unwrap()
                .is_dir())
        );
    }

    #[test]
    fn retire_and_move_to_take_the_pair_out_of_the_queue() {
        let d = scratch("tr-retire");
        let (spool, entry) = stored(&d);
        spool.retire(&entry).unwrap();
        spool.sync_removals().unwrap();
        assert!(spool.list().unwrap().is_empty());
        assert!(!entry.eml.with_extension("json").exists());

        let d = scratch("tr-move");
        let (spool, entry) = stored(&d);
        let archive = d.join("error");
        let mut sc = entry.sidecar.clone().unwrap();
        sc.last_error = Some("unknown sender".into());
        spool.move_to(&entry, &sc, &archive).unwrap();
        assert!(spool.list().unwrap().is_empty());
        let moved = super::super::list_dir(&archive).unwrap().remove(0);
        assert_eq!(
            moved.sidecar.unwrap().last_error.as_deref(),
            Some("unknown sender")
        );
        assert_eq!(std::fs::read(moved.eml).unwrap(), EML);
    }
}

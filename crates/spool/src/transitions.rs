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
//! - [`Spool::quarantine`]: its sidecar cannot be read, and the pair goes to `corrupt/` as
//!   [`Spool::open`] moves such pairs (never sent or processed with a guessed envelope);
//!
//! or none of them, when it is to be tried again as it is. Besides, [`Spool::put`] writes a
//! pair into another folder without taking anything from the queue: a part of a message
//! (the recipients that failed for good, into Badmail, under its own id or as `<id>-<n>`
//! beside an earlier pair), or a message that was never queued here (one its writer held in
//! memory).
//!
//! Every rewrite, move, put and quarantine is durable when it returns (written, fsynced,
//! renamed, folder fsynced; the sidecar published before the `.eml`; a moved pair is in its
//! new folder, durably, before it leaves the queue). Retirements of files are made durable in
//! batches ([`Spool::sync_removals`]): a removal undone by a power loss only makes the worker
//! handle the message again, and every step after the queue (job hand-over, delivery) is
//! idempotent per message and recipient; a worker for which handling again costs more (a
//! mail delivered twice) calls [`Spool::sync_removals`] at once. No other module renames,
//! removes or fsyncs a queue file.
//!
//! Implementation summary: files are written under `.tmp/` and renamed into place
//! (`write_pair`), the folder fsynced after; a move writes the pair anew in its target
//! (another file system works too) and removes the original after the target's fsync; a
//! quarantine renames through [`move_to_corrupt`], which never replaces a file there. On an
//! in-memory spool ([`Spool::in_memory`], for tests) each transition changes its map instead,
//! with the same outcome and no durability.

use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::{
    CORRUPT_DIR, Entry, NoFreeName, QueueId, Sidecar, Spool, TMP_DIR, move_to_corrupt, sync_dir,
    write_pair, write_synced, write_tmp,
};

/// Removals from the queue folder made durable together, with one folder fsync.
const REMOVAL_BATCH: usize = 64;

/// Most numbered pairs of one message in one folder ([`Naming::Numbered`]); past it a put
/// fails (and is retried) instead of looking further.
pub(super) const MAX_NUMBER: u32 = 100_000;

/// How [`Spool::put`] names a pair in the folder it writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// Under the sidecar's id; an earlier pair of that id there is replaced.
    Same,
    /// Under `<id>-<n>`, with the smallest `n` from 1 for which neither file exists there: a
    /// further pair of one message beside the earlier ones.
    Numbered,
}

impl Spool {
    /// Replaces the sidecar of a queued message; see the module contract. `sidecar.size` is
    /// set here (an adopted message gets its first sidecar this way).
    pub fn rewrite(&self, entry: &Entry, sidecar: &Sidecar) -> io::Result<()> {
        if let Some(m) = &self.inner.memory {
            return m.rewrite(entry, sidecar);
        }
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
    /// One removed meanwhile (`queue delete`) has left already.
    pub fn retire(&self, entry: &Entry) -> io::Result<()> {
        if let Some(m) = &self.inner.memory {
            m.retire(entry);
            return Ok(());
        }
        if let Some(l) = &entry.logged {
            if let Some((log, _)) = &self.inner.log {
                log.retire(l);
            }
            return Ok(());
        }
        // The `.eml` first: it is what publishes a message.
        for path in [entry.eml.clone(), entry.eml.with_extension("json")] {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
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
        if let Some(m) = &self.inner.memory {
            return m.move_to(entry, sidecar, target);
        }
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

    /// Writes `eml` with `sidecar` into `target` (created if missing) as a pair named by
    /// `naming`, durably; returns the id it has there (the sidecar's `id` and `size` are set
    /// to match). Nothing leaves this queue; see the module contract.
    pub fn put(
        &self,
        target: &Path,
        sidecar: &Sidecar,
        eml: &[u8],
        naming: Naming,
    ) -> io::Result<QueueId> {
        if let Some(m) = &self.inner.memory {
            return m.put(target, sidecar, eml, naming);
        }
        std::fs::create_dir_all(target)?;
        let id = match naming {
            Naming::Same => sidecar.id.clone(),
            Naming::Numbered => free_number(target, &sidecar.id)?,
        };
        let mut sc = sidecar.clone();
        sc.id = id.clone();
        sc.size = eml.len() as u64;
        let json = write_tmp(&self.inner.tmp, &id, "json", &sc.to_bytes())?;
        let published = write_tmp(&self.inner.tmp, &id, "eml", eml).and_then(|tmp_eml| {
            std::fs::rename(&json, target.join(format!("{id}.json")))?;
            std::fs::rename(&tmp_eml, target.join(format!("{id}.eml")))?;
            sync_dir(target)
        });
        if let Err(e) = published {
            // No sidecar of ours left behind without its message (a numbered name is ours
            // alone; under the same name, a sidecar without `.eml` would be an orphan).
            let _ = std::fs::remove_file(&json);
            if !target.join(format!("{id}.eml")).exists() {
                let _ = std::fs::remove_file(target.join(format!("{id}.json")));
            }
            return Err(e);
        }
        Ok(id)
    }

    /// Moves a pair whose sidecar cannot be read (or a sidecar of no `.eml`, with its
    /// message gone) into this queue's `corrupt/`, durably; see [`move_to_corrupt`]. Returns
    /// the name it is kept under there.
    pub fn quarantine(&self, entry: &Entry) -> io::Result<String> {
        if let Some(m) = &self.inner.memory {
            return m.quarantine(entry);
        }
        let json = entry.eml.with_extension("json");
        let mut files = Vec::new();
        if json.exists() {
            files.push((json.as_path(), "json"));
        }
        if entry.eml.exists() {
            files.push((entry.eml.as_path(), "eml"));
        }
        let corrupt = self.inner.dir.join(CORRUPT_DIR);
        let kept = move_to_corrupt(&corrupt, entry.id.as_str(), &files)?;
        sync_dir(&self.inner.dir)?;
        Ok(kept)
    }
}

/// `<id>-<n>` with the smallest `n` from 1 for which neither file of the pair is in `dir`.
fn free_number(dir: &Path, id: &QueueId) -> io::Result<QueueId> {
    (1..MAX_NUMBER)
        .filter_map(|n| QueueId::parse(&format!("{id}-{n}")))
        .find(|c| {
            ["eml", "json"]
                .iter()
                .all(|ext| dir.join(format!("{c}.{ext}")).symlink_metadata().is_err())
        })
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                NoFreeName {
                    folder: dir.to_owned(),
                    stem: id.to_string(),
                },
            )
        })
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

    /// A put writes a pair into another folder and leaves the message queued: under its own
    /// id, then numbered beside it, each sidecar naming its own id and size.
    #[test]
    fn put_writes_pairs_beside_each_other_and_keeps_the_message() {
        let d = scratch("tr-put");
        let (spool, entry) = stored(&d);
        let badmail = d.join("badmail");
        let mut sc = entry.sidecar.clone().unwrap();
        sc.last_error = Some("550 no such user".into());
        let first = spool.put(&badmail, &sc, EML, Naming::Same).unwrap();
        assert_eq!(first, entry.id);
        let numbered: Vec<QueueId> = (0..2)
            .map(|_| spool.put(&badmail, &sc, b"part", Naming::Numbered).unwrap())
            .collect();
        assert_eq!(
            numbered.iter().map(QueueId::as_str).collect::<Vec<_>>(),
            [format!("{}-1", entry.id), format!("{}-2", entry.id)]
        );
        let listed = super::super::list_dir(&badmail).unwrap();
        assert_eq!(listed.len(), 3);
        for e in &listed {
            let s = e.sidecar.as_ref().unwrap();
            assert_eq!(s.id, e.id);
            assert_eq!(s.size, e.size);
            assert_eq!(s.last_error.as_deref(), Some("550 no such user"));
        }
        assert_eq!(spool.list().unwrap().len(), 1, "the message stays queued");
    }

    /// A pair whose sidecar does not read goes to `corrupt/`, never over an earlier one.
    #[test]
    fn quarantine_moves_an_unreadable_pair_to_corrupt() {
        let d = scratch("tr-quarantine");
        let (spool, entry) = stored(&d);
        let json = entry.eml.with_extension("json");
        for round in 0..2 {
            std::fs::write(
                &json,
                format!("{{\"v\": 1, \"next_attempt\": \"soon {round}\""),
            )
            .unwrap();
            std::fs::write(&entry.eml, EML).unwrap();
            let listed = spool.list().unwrap().remove(0);
            assert!(listed.sidecar.is_none());
            let kept = spool.quarantine(&listed).unwrap();
            let stem = if round == 0 {
                entry.id.to_string()
            } else {
                format!("{}-1", entry.id)
            };
            assert_eq!(kept, stem);
            let corrupt = d.join(CORRUPT_DIR);
            assert_eq!(
                std::fs::read(corrupt.join(format!("{stem}.eml"))).unwrap(),
                EML
            );
            assert!(corrupt.join(format!("{stem}.json")).exists());
            assert!(spool.list().unwrap().is_empty());
        }
    }

    /// A message removed meanwhile (`queue delete`) has left already: retiring it is no error.
    #[test]
    fn retiring_a_message_removed_meanwhile_succeeds() {
        let d = scratch("tr-retire-gone");
        let (spool, entry) = stored(&d);
        std::fs::remove_file(&entry.eml).unwrap();
        spool.retire(&entry).unwrap();
        spool.sync_removals().unwrap();
        assert!(!entry.eml.with_extension("json").exists());
    }
}

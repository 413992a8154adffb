//! The durable spool: queue folders of `.eml` + `.json` pairs (DESIGN.md §7).
//!
//! Contract: [`Spool::store`] returns `Ok` only when both files of a message are written,
//! fsynced, renamed into the queue folder and the folder itself fsynced; the SMTP listener
//! answers 250 on nothing else (Postfix's `mail_stream_finish_file` rule). The `.eml`
//! appearing in the queue folder is what publishes a message: its sidecar is renamed first,
//! so a reader that sees an `.eml` sees its sidecar too, and a sidecar without its `.eml` is
//! the trace of a commit that never finished (never acknowledged) and is removed at start.
//! An `.eml` without a sidecar was dropped in by hand and takes its envelope from its headers.
//!
//! On [`Spool::open`], leftovers in `.tmp/` are removed, and pairs that cannot be read (bad
//! JSON, wrong version, `.eml` length not the recorded `size`) are moved to `corrupt/` with a
//! log line — never dropped silently. Nothing in `corrupt/` is ever replaced: a name already
//! taken there gets a suffix (`<id>-1.json`, `0000000000000007-1.seg`), see
//! [`move_to_corrupt`].
//!
//! A spool opened with [`Spool::open_logged`] (`smtp-in/`) keeps messages of up to 1 MiB in
//! its intake log instead ([`intake`]: many messages per fdatasync, no file per message). They
//! are handed to the worker from memory ([`Spool::take_logged`]); what the worker cannot finish
//! at once is written out as an ordinary pair ([`Spool::write_out`]), and at open every message
//! still live in the log is written out as a pair before anything else runs.
#![forbid(unsafe_code)]

pub mod admin;
pub mod adopt;
mod commit;
pub mod intake;
pub mod journal;
pub mod layout;
mod memory;
pub mod rounds;
pub mod sidecar;
mod transitions;

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Notify, oneshot};

pub use commit::sync_dir;
pub use sidecar::{Origin, Recipient, RecipientOutcome, Sidecar, SidecarError};
pub use transitions::Naming;

use umsgate_domain::clock;

/// Name of the internal folder where files are written before they are published.
pub const TMP_DIR: &str = ".tmp";
/// Sessions write into `.tmp/<0..TMP_SHARDS>/`, chosen by the queue id, so that concurrent
/// sessions do not all wait for the lock of one folder to create their files.
const TMP_SHARDS: u32 = 8;

/// The `.tmp/` subfolder a message is written in.
fn tmp_shard(id: &QueueId) -> String {
    let last = id.0.bytes().last().map_or(0, u32::from);
    (last % TMP_SHARDS).to_string()
}

/// Name of the folder that holds unreadable entries.
pub const CORRUPT_DIR: &str = "corrupt";

/// Name of the archive folder inside `smtp-in/` (`smtp-in/error/`).
pub const ARCHIVE_DIR: &str = "error";

/// Name of the intake log's folder inside a logged spool.
pub const INTAKE_DIR: &str = ".intake";

/// How much mail may wait in memory for the worker before intake gives way.
///
/// A burst is accepted at the speed of the disk and processed behind it. When the worker
/// falls this far behind for good, intake slows down (as Postfix's `in_flow_delay` does), so
/// that sustained overload hands the CPU to processing instead of growing the queue; and
/// beyond a second mark new mail is written as files, so that memory stays bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    /// From this many messages not yet processed, each new one waits `delay` before it is
    /// taken.
    pub slow_from: usize,
    pub delay: std::time::Duration,
    /// From this many messages not yet processed, new ones are written as files.
    pub files_from: usize,
}

impl Default for Backlog {
    fn default() -> Backlog {
        Backlog {
            slow_from: 10_000,
            delay: std::time::Duration::from_secs(1),
            files_from: 20_000,
        }
    }
}

/// A queue id: unique within a spool, sortable by arrival, safe as a file name
/// (`[0-9A-F]`, 16 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueId(String);

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

impl QueueId {
    /// A new id: microseconds since the epoch (13 hex digits) and a per-process sequence.
    pub fn generate() -> QueueId {
        let micros = clock::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0);
        let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed) & 0xfff;
        QueueId(format!("{:013X}{:03X}", micros & 0x1F_FFFF_FFFF_FFFF, seq))
    }

    /// Accepts an id typed by an administrator; only characters a spool file name can hold.
    pub fn parse(s: &str) -> Option<QueueId> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        (ok && !s.starts_with('.')).then(|| QueueId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for QueueId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a message could not be made durable. Always temporary for the client (4xx).
#[derive(Debug)]
pub struct SpoolError {
    step: &'static str,
    source: io::Error,
}

impl std::fmt::Display for SpoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "spool {} failed: {}", self.step, self.source)
    }
}

impl std::error::Error for SpoolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// What [`Spool::open`] found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Files removed from `.tmp/`.
    pub tmp_removed: usize,
    /// Sidecars whose `.eml` never appeared (unfinished commits), removed.
    pub orphans_removed: usize,
    /// Entries moved to `corrupt/`, with the reason.
    pub corrupt: Vec<(String, String)>,
    /// Complete messages waiting.
    pub queued: usize,
    /// Of those, messages written out from the intake log.
    pub from_log: usize,
}

/// One queued message as found on disk.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: QueueId,
    pub eml: PathBuf,
    /// `None` for an `.eml` dropped in by hand.
    pub sidecar: Option<Sidecar>,
    pub size: u64,
    /// Set for a message held in the intake log (then no file exists at `eml`).
    pub logged: Option<Arc<intake::Logged>>,
}

/// One queue folder with durable publication.
#[derive(Debug, Clone)]
pub struct Spool {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    tmp: PathBuf,
    committer: commit::Committer,
    faults: Option<FaultHook>,
    log: Option<(intake::Log, Backlog)>,
    waiting: Arc<Waiting>,
    /// Files retired since the folder was last fsynced ([`Spool::sync_removals`]).
    removed_unsynced: std::sync::atomic::AtomicUsize,
    /// Set for [`Spool::in_memory`]: the folders are kept here, not on disk.
    memory: Option<memory::Memory>,
}

/// What the worker is woken for: logged messages not yet taken (oldest first), and a wake-up
/// after each store.
#[derive(Default)]
struct Waiting {
    queue: Mutex<VecDeque<Entry>>,
    notify: Notify,
    /// Logged messages not yet retired: waiting here or being worked on (the backlog that
    /// [`Backlog`]'s marks are measured against).
    live: std::sync::atomic::AtomicUsize,
    /// When a message was last stored (tokio's clock, so that tests can pause it).
    last_store: Mutex<Option<tokio::time::Instant>>,
}

impl Waiting {
    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A message was stored: noted, and the worker woken.
    fn stored(&self) {
        *self
            .last_store
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(tokio::time::Instant::now());
        self.notify.notify_one();
    }
}

impl Spool {
    /// Opens (creating) the queue folder `dir` and recovers it after a crash.
    pub fn open(dir: &Path) -> io::Result<(Spool, Recovery)> {
        Spool::open_with_faults(dir, None)
    }

    /// As [`Spool::open`], with a hook consulted before every durable step: an `Err` from it
    /// stands for that step failing (disk full, I/O error). For tests of the failure paths.
    pub fn open_with_faults(
        dir: &Path,
        faults: Option<FaultHook>,
    ) -> io::Result<(Spool, Recovery)> {
        Spool::open_inner(dir, faults, None)
    }

    /// As [`Spool::open_with_faults`], with an intake log (see the module contract).
    pub fn open_logged(dir: &Path, faults: Option<FaultHook>) -> io::Result<(Spool, Recovery)> {
        Spool::open_logged_with(dir, faults, Backlog::default())
    }

    /// As [`Spool::open_logged`], with other backlog marks.
    pub fn open_logged_with(
        dir: &Path,
        faults: Option<FaultHook>,
        backlog: Backlog,
    ) -> io::Result<(Spool, Recovery)> {
        Spool::open_inner(dir, faults, Some(backlog))
    }

    fn open_inner(
        dir: &Path,
        faults: Option<FaultHook>,
        logged: Option<Backlog>,
    ) -> io::Result<(Spool, Recovery)> {
        let tmp = dir.join(TMP_DIR);
        for shard in 0..TMP_SHARDS {
            std::fs::create_dir_all(tmp.join(shard.to_string()))?;
        }
        let mut recovery = recover(dir, &tmp)?;
        // Whatever the log still holds (a spool opened without it, too) becomes files first.
        let log_dir = dir.join(INTAKE_DIR);
        let corrupt = dir.join(CORRUPT_DIR);
        let replayed = intake::replay(&log_dir, |p| {
            let name = format!("{}.eml", p.id);
            // Written out before the crash and not yet retired: the pair (perhaps rewritten
            // since, or archived) is the newer state.
            if dir.join(&name).exists() || dir.join(ARCHIVE_DIR).join(&name).exists() {
                return Ok(());
            }
            match Sidecar::from_bytes(&p.sidecar) {
                Ok(mut sidecar) => {
                    sidecar.size = p.eml.len() as u64;
                    write_pair(dir, &tmp, &p.id, Some(&sidecar.to_bytes()), &p.eml)?;
                    recovery.from_log += 1;
                }
                Err(reason) => {
                    // Without its envelope the message must not be guessed from its headers.
                    let json = write_tmp(&tmp, &p.id, "json", &p.sidecar)?;
                    let eml = write_tmp(&tmp, &p.id, "eml", &p.eml)?;
                    let stem = move_to_corrupt(
                        &corrupt,
                        p.id.as_str(),
                        &[(&json, "json"), (&eml, "eml")],
                    )?;
                    tracing::error!(event = "spool.corrupt", dir = %dir.display(), id = %p.id, reason = %reason, kept_as = %stem, "sidecar in the intake log unreadable; moved to corrupt/");
                    recovery
                        .corrupt
                        .push((p.id.to_string(), reason.to_string()));
                }
            }
            Ok(())
        })?;
        if !replayed.segments.is_empty() || !replayed.damaged.is_empty() {
            sync_dir(dir)?;
            for seg in &replayed.segments {
                std::fs::remove_file(seg)?;
            }
            for seg in &replayed.damaged {
                // Segment numbers start again each run: the name may be taken in corrupt/.
                let stem = seg
                    .file_stem()
                    .map_or_else(|| "segment".into(), |n| n.to_string_lossy().into_owned());
                let stem = move_to_corrupt(&corrupt, &stem, &[(seg, intake::EXT)])?;
                let name = format!("{stem}.{}", intake::EXT);
                tracing::error!(event = "spool.corrupt", dir = %dir.display(), segment = %seg.display(), kept_as = %name, "intake log segment damaged before whole records; moved to corrupt/");
                recovery.corrupt.push((
                    name,
                    "intake log segment damaged before whole records".to_owned(),
                ));
            }
            sync_dir(&log_dir)?;
            recovery.queued += recovery.from_log;
        }
        let waiting = Arc::new(Waiting::default());
        let log = match logged {
            Some(backlog) => Some((
                intake::Log::start(
                    log_dir,
                    dir.to_owned(),
                    faults.clone(),
                    Arc::clone(&waiting),
                )?,
                backlog,
            )),
            None => None,
        };
        let committer = commit::Committer::start(dir.to_owned(), faults.clone())?;
        let inner = Inner {
            dir: dir.to_owned(),
            tmp,
            committer,
            faults,
            log,
            waiting,
            removed_unsynced: std::sync::atomic::AtomicUsize::new(0),
            memory: None,
        };
        Ok((
            Spool {
                inner: Arc::new(inner),
            },
            recovery,
        ))
    }

    /// A spool whose folders are kept in memory (see [`memory`]): for tests of the workers,
    /// which then run with no file under their queue. `dir` only names the queue folder;
    /// nothing is created there. Nothing it holds is durable.
    pub fn in_memory(dir: &Path) -> io::Result<Spool> {
        Ok(Spool {
            inner: Arc::new(Inner {
                dir: dir.to_owned(),
                tmp: dir.join(TMP_DIR),
                committer: commit::Committer::start(dir.to_owned(), None)?,
                faults: None,
                log: None,
                waiting: Arc::new(Waiting::default()),
                removed_unsynced: std::sync::atomic::AtomicUsize::new(0),
                memory: Some(memory::Memory::default()),
            }),
        })
    }

    /// Puts a message into an in-memory spool's queue without a sidecar, as an `.eml` dropped
    /// in by hand would be; `None` for a spool on disk (drop a file there instead).
    pub fn drop_in(&self, eml: Vec<u8>) -> Option<QueueId> {
        let m = self.inner.memory.as_ref()?;
        let id = m.store(&self.inner.dir, None, eml);
        self.inner.waiting.stored();
        Some(id)
    }

    /// What an in-memory spool holds in `folder` (the queue folder, or one a message was
    /// moved or put into); empty for a spool on disk (whose folders can be listed).
    pub fn held(&self, folder: &Path) -> Vec<Entry> {
        self.inner
            .memory
            .as_ref()
            .map_or_else(Vec::new, |m| m.list(folder))
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Makes a message durable; see the module contract. `sidecar.size` is set here.
    pub async fn store(&self, mut sidecar: Sidecar, eml: Vec<u8>) -> Result<QueueId, SpoolError> {
        if let Some(m) = &self.inner.memory {
            let id = m.store(&self.inner.dir, Some(sidecar), eml);
            self.inner.waiting.stored();
            return Ok(id);
        }
        let id = sidecar.id.clone();
        sidecar.size = eml.len() as u64;
        let mut log = None;
        if let Some((l, backlog)) = &self.inner.log {
            let unprocessed = self.inner.waiting.live.load(Ordering::SeqCst);
            if unprocessed >= backlog.slow_from {
                tokio::time::sleep(backlog.delay).await;
            }
            if eml.len() <= intake::MAX_MESSAGE && unprocessed < backlog.files_from {
                log = Some(l);
            }
        }
        if let Some(log) = log {
            log.append(sidecar, eml)
                .await
                .map_err(|source| SpoolError {
                    step: "intake log",
                    source,
                })?;
            return Ok(id);
        }
        let shard = self.inner.tmp.join(tmp_shard(&id));
        let tmp_eml = shard.join(format!("{id}.eml"));
        let tmp_json = shard.join(format!("{id}.json"));
        let (a, b) = (tmp_eml.clone(), tmp_json.clone());
        let json = sidecar.to_bytes();
        let faults = self.inner.faults.clone();
        let written = tokio::task::spawn_blocking(move || -> Result<(), SpoolError> {
            write_steps(
                &a,
                &eml,
                faults.as_ref(),
                Step::WriteMessage,
                Step::SyncMessage,
            )?;
            write_steps(
                &b,
                &json,
                faults.as_ref(),
                Step::WriteSidecar,
                Step::SyncSidecar,
            )
        })
        .await
        .map_err(|e| SpoolError {
            step: "write",
            source: io::Error::other(e.to_string()),
        })
        .and_then(|r| r);
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp_eml);
            let _ = std::fs::remove_file(&tmp_json);
            return Err(e);
        }
        let (done, wait) = oneshot::channel();
        let req = commit::Request {
            tmp_eml,
            tmp_json,
            eml: self.inner.dir.join(format!("{id}.eml")),
            json: self.inner.dir.join(format!("{id}.json")),
            done,
        };
        if let Err(req) = self.inner.committer.submit(req) {
            let _ = std::fs::remove_file(&req.tmp_eml);
            let _ = std::fs::remove_file(&req.tmp_json);
            return Err(SpoolError {
                step: "commit",
                source: io::Error::other("committer stopped"),
            });
        }
        match wait.await {
            Ok(Ok(())) => {
                self.inner.waiting.stored();
                Ok(id)
            }
            Ok(Err(source)) => Err(SpoolError {
                step: "rename/fsync",
                source,
            }),
            Err(_) => Err(SpoolError {
                step: "commit",
                source: io::Error::other("committer stopped"),
            }),
        }
    }

    /// Wakes when a message has been stored (for the worker that processes this folder).
    pub async fn stored(&self) {
        self.inner.waiting.notify.notified().await;
    }

    /// Returns once intake pauses: no message stored for `quiet` — or at the latest after
    /// `at_most`, or at once when the backlog has reached [`Backlog::slow_from`]. The worker
    /// waits for this before a round, so that a burst of mail is taken at the speed of the
    /// disk, with no processing writing and syncing beside it, and processed right after;
    /// under steady load processing still runs every `at_most`.
    pub async fn lull(&self, quiet: std::time::Duration, at_most: std::time::Duration) {
        let end = tokio::time::Instant::now() + at_most;
        loop {
            let last = *self
                .inner
                .waiting
                .last_store
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let now = tokio::time::Instant::now();
            let behind = self.inner.log.as_ref().is_some_and(|(_, b)| {
                self.inner.waiting.live.load(Ordering::SeqCst) >= b.slow_from
            });
            match last {
                Some(last) if now < end && now < last + quiet && !behind => {
                    tokio::time::sleep_until((last + quiet).min(end)).await;
                }
                _ => return,
            }
        }
    }

    /// The messages waiting as files (or in memory, [`Spool::in_memory`]), oldest first.
    pub fn list(&self) -> io::Result<Vec<Entry>> {
        match &self.inner.memory {
            Some(m) => Ok(m.list(&self.inner.dir)),
            None => list_dir(&self.inner.dir),
        }
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        self.inner.waiting.queue()
    }

    /// Takes the logged messages waiting in memory, oldest first. Each must end in
    /// [`Spool::retire`] or [`Spool::write_out`]; one dropped without either is written out
    /// at the next start.
    pub fn take_logged(&self) -> Vec<Entry> {
        self.waiting().drain(..).collect()
    }

    /// Gives back a logged message taken by [`Spool::take_logged`] and not settled (neither
    /// retired nor written out): it waits in memory again. Nothing for files or settled ones.
    pub fn release(&self, entry: &Entry) {
        if entry.logged.as_ref().is_some_and(|l| !l.is_settled()) {
            self.waiting().push_front(entry.clone());
        }
    }

    /// The message's bytes, from its file or from the intake log.
    pub fn read(&self, entry: &Entry) -> io::Result<Vec<u8>> {
        match (&entry.logged, &self.inner.memory) {
            (Some(l), _) => l.read(),
            (None, Some(m)) => m.read(entry),
            (None, None) => std::fs::read(&entry.eml),
        }
    }

    /// Writes a logged message out as a pair in `target` (the queue folder itself, for a
    /// retry, or an archive folder), durably, with `sidecar`; then it leaves the log.
    pub fn write_out(&self, entry: &Entry, sidecar: &Sidecar, target: &Path) -> io::Result<()> {
        let Some(l) = &entry.logged else {
            return Err(io::Error::other("not a logged message"));
        };
        if l.is_settled() {
            return Ok(());
        }
        let eml = l.read()?;
        let mut sc = sidecar.clone();
        sc.size = eml.len() as u64;
        if let Err(e) = write_pair(
            target,
            &self.inner.tmp,
            &entry.id,
            Some(&sc.to_bytes()),
            &eml,
        )
        .and_then(|()| sync_dir(target))
        {
            // The message stays in the log only: no half-published copy to be taken as well.
            for ext in ["eml", "json"] {
                let _ = std::fs::remove_file(target.join(format!("{}.{ext}", entry.id)));
            }
            return Err(e);
        }
        if let Some((log, _)) = &self.inner.log {
            log.retire(l);
        }
        Ok(())
    }
}

/// Writes `id.eml` (and `id.json` when given) into `dir` through `.tmp/`: written, fsynced,
/// renamed, sidecar first. The caller fsyncs `dir`. An existing pair of that id is replaced.
fn write_pair(
    dir: &Path,
    tmp: &Path,
    id: &QueueId,
    json: Option<&[u8]>,
    eml: &[u8],
) -> io::Result<()> {
    let put = |ext: &str, bytes: &[u8]| -> io::Result<()> {
        let t = write_tmp(tmp, id, ext, bytes)?;
        std::fs::rename(&t, dir.join(format!("{id}.{ext}")))
    };
    if let Some(json) = json {
        put("json", json)?;
    }
    put("eml", eml)
}

/// Writes `bytes` to `.tmp/<shard>/<id>.<ext>.out` and fsyncs it; returns its path.
fn write_tmp(tmp: &Path, id: &QueueId, ext: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let shard = tmp.join(tmp_shard(id));
    let t = shard.join(format!("{id}.{ext}.out"));
    let _ = std::fs::remove_file(&t);
    write_synced(&t, bytes).or_else(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            std::fs::create_dir_all(&shard)?;
            write_synced(&t, bytes)
        } else {
            Err(e)
        }
    })?;
    Ok(t)
}

/// Moves `files` (each a path and the extension it gets) into the folder `corrupt` as
/// `<stem>.<ext>`, or `<stem>-<n>.<ext>` with the smallest `n` for which none of those names
/// exists yet: nothing already in `corrupt/` is ever replaced (the names there are not unique
/// over time: segment numbers start again each run, a pair can be moved there twice), and the
/// files of a pair keep one stem. Each move is a rename that refuses to replace
/// (`RENAME_NOREPLACE`); `corrupt` is created if needed and fsynced. The caller fsyncs the
/// folders the files came from. Returns the stem used.
pub fn move_to_corrupt(corrupt: &Path, stem: &str, files: &[(&Path, &str)]) -> io::Result<String> {
    /// More than any administrator lets pile up; past it the move fails (and is retried at
    /// the next start) instead of looking further.
    const MAX_SUFFIX: u32 = 100_000;
    std::fs::create_dir_all(corrupt)?;
    'names: for n in 0..MAX_SUFFIX {
        let candidate = if n == 0 {
            stem.to_owned()
        } else {
            format!("{stem}-{n}")
        };
        let target = |ext: &str| corrupt.join(format!("{candidate}.{ext}"));
        if files
            .iter()
            .any(|(_, ext)| target(ext).symlink_metadata().is_ok())
        {
            continue;
        }
        for (i, (from, ext)) in files.iter().enumerate() {
            match rename_noreplace(from, &target(ext)) {
                Ok(()) => {}
                // Taken meanwhile: the files moved so far go back, and the next name is tried.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    for (back, ext) in &files[..i] {
                        rename_noreplace(&target(ext), back)?;
                    }
                    continue 'names;
                }
                Err(e) => return Err(e),
            }
        }
        sync_dir(corrupt)?;
        return Ok(candidate);
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        NoFreeName {
            folder: corrupt.to_owned(),
            stem: stem.to_owned(),
        },
    ))
}

/// [`move_to_corrupt`] found every name for a stem taken.
#[derive(Debug)]
pub struct NoFreeName {
    folder: PathBuf,
    stem: String,
}

impl std::fmt::Display for NoFreeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no free name for {} in {}",
            self.stem,
            self.folder.display()
        )
    }
}

impl std::error::Error for NoFreeName {}

/// `rename` that fails with `AlreadyExists` instead of replacing `to`. Where the file system
/// cannot rename so (`EINVAL`), a hard link (which never replaces) and an unlink do it.
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(e) if e == Errno::INVAL || e == Errno::NOSYS || e == Errno::OPNOTSUPP => {
            std::fs::hard_link(from, to)?;
            std::fs::remove_file(from)
        }
        Err(e) => Err(e.into()),
    }
}

/// The durable steps of [`Spool::store`], in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    WriteMessage,
    SyncMessage,
    WriteSidecar,
    SyncSidecar,
    Rename,
    SyncDir,
    /// Intake log: the group's write, and its fdatasync.
    LogWrite,
    LogSync,
}

impl Step {
    /// The steps of a message stored as files.
    pub const FILES: [Step; 6] = [
        Step::WriteMessage,
        Step::SyncMessage,
        Step::WriteSidecar,
        Step::SyncSidecar,
        Step::Rename,
        Step::SyncDir,
    ];
    /// The steps of a message stored in the intake log.
    pub const LOG: [Step; 2] = [Step::LogWrite, Step::LogSync];

    fn name(self) -> &'static str {
        match self {
            Step::WriteMessage => "message write",
            Step::SyncMessage => "message fsync",
            Step::WriteSidecar => "sidecar write",
            Step::SyncSidecar => "sidecar fsync",
            Step::Rename => "rename",
            Step::SyncDir => "folder fsync",
            Step::LogWrite => "log write",
            Step::LogSync => "log fsync",
        }
    }
}

/// See [`Spool::open_with_faults`].
pub type FaultHook = std::sync::Arc<dyn Fn(Step) -> io::Result<()> + Send + Sync>;

fn fault(hook: Option<&FaultHook>, step: Step) -> io::Result<()> {
    hook.map_or(Ok(()), |h| h(step))
}

/// Create, write, fsync — each step reported under its own name.
fn write_steps(
    path: &Path,
    bytes: &[u8],
    hook: Option<&FaultHook>,
    write: Step,
    sync: Step,
) -> Result<(), SpoolError> {
    let err = |step: Step| {
        move |source| SpoolError {
            step: step.name(),
            source,
        }
    };
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f: File = match opts.open(path) {
        // The folder was removed under a running spool: made again, once.
        Err(e) if e.kind() == io::ErrorKind::NotFound => path
            .parent()
            .map_or(Err(e), std::fs::create_dir_all)
            .and_then(|()| opts.open(path)),
        other => other,
    }
    .map_err(err(write))?;
    fault(hook, write)
        .and_then(|()| f.write_all(bytes))
        .map_err(err(write))?;
    fault(hook, sync)
        .and_then(|()| f.sync_all())
        .map_err(err(sync))
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("dir", &self.dir)
            .field("faults", &self.faults.is_some())
            .finish()
    }
}

/// Creates `path` (which must not exist), writes `bytes` and fsyncs it.
pub fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f: File = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Lists the messages of a queue folder, oldest first (by id, then name).
pub fn list_dir(dir: &Path) -> io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_suffix(".eml") else {
            continue;
        };
        let Some(id) = QueueId::parse(stem) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let sidecar = std::fs::read(dir.join(format!("{stem}.json")))
            .ok()
            .and_then(|b| Sidecar::from_bytes(&b).ok());
        out.push(Entry {
            id,
            eml: entry.path(),
            sidecar,
            size: meta.len(),
            logged: None,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

fn recover(dir: &Path, tmp: &Path) -> io::Result<Recovery> {
    let mut r = Recovery::default();
    for entry in std::fs::read_dir(tmp)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_file() {
            std::fs::remove_file(entry.path())?;
            r.tmp_removed += 1;
        } else if kind.is_dir() {
            for inner in std::fs::read_dir(entry.path())? {
                let inner = inner?;
                if inner.file_type()?.is_file() {
                    std::fs::remove_file(inner.path())?;
                    r.tmp_removed += 1;
                }
            }
        }
    }
    let corrupt = dir.join(CORRUPT_DIR);
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        if !entry.file_type()?.is_file() {
            continue;
        }
        let eml = dir.join(format!("{stem}.eml"));
        let problem = match std::fs::metadata(&eml) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::remove_file(entry.path())?;
                r.orphans_removed += 1;
                tracing::warn!(event = "spool.orphan_removed", dir = %dir.display(), id = stem, "sidecar of an unfinished commit removed");
                continue;
            }
            Err(e) => Some(format!("cannot stat message: {e}")),
            Ok(meta) => match std::fs::read(entry.path())
                .map_err(|e| e.to_string())
                .and_then(|b| Sidecar::from_bytes(&b).map_err(|e| e.to_string()))
            {
                Err(e) => Some(e),
                Ok(s) if s.size != meta.len() => Some(format!(
                    "message is {} bytes, sidecar records {}",
                    meta.len(),
                    s.size
                )),
                Ok(_) => None,
            },
        };
        match problem {
            None => r.queued += 1,
            Some(reason) => {
                let json = entry.path();
                let mut files = vec![(json.as_path(), "json")];
                if eml.exists() {
                    files.push((eml.as_path(), "eml"));
                }
                let kept = move_to_corrupt(&corrupt, stem, &files)?;
                tracing::error!(event = "spool.corrupt", dir = %dir.display(), id = stem, reason = %reason, kept_as = %kept, "moved to corrupt/");
                r.corrupt.push((stem.to_owned(), reason));
            }
        }
    }
    sync_dir(dir)?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sidecar(id: &QueueId) -> Sidecar {
        Sidecar {
            v: sidecar::VERSION,
            id: id.clone(),
            instance: "t".parse().unwrap(),
            received_at: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_687_200),
            origin: Origin::Smtp,
            client: None,
            helo: None,
            tls: false,
            auth: None,
            mail_from: "a@example.com".into(),
            rcpts: vec![Recipient::new("+4930@fax.example.com".into(), None, 0)],
            size: 0,
            message_id: None,
            attempts: 0,
            next_attempt: None,
            last_error: None,
        }
    }

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("umsgate-spool-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// The worker's wait before a round: none when nothing was stored, a quiet spell after
    /// the last store, at most `at_most` while stores keep coming. On tokio's paused clock.
    #[tokio::test(start_paused = true)]
    async fn lull_waits_for_a_quiet_spell_but_not_for_ever() {
        use std::time::Duration;
        use tokio::time::Instant;
        let (quiet, at_most) = (Duration::from_millis(100), Duration::from_secs(5));
        let dir = temp("lull");
        let (spool, _) = Spool::open(&dir).unwrap();
        let t = Instant::now();
        spool.lull(quiet, at_most).await;
        assert_eq!(t.elapsed(), Duration::ZERO, "nothing stored yet");

        spool.inner.waiting.stored();
        let t = Instant::now();
        spool.lull(quiet, at_most).await;
        assert_eq!(t.elapsed(), quiet);

        let feeder = {
            let spool = spool.clone();
            tokio::spawn(async move {
                loop {
                    spool.inner.waiting.stored();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        };
        tokio::task::yield_now().await;
        let t = Instant::now();
        spool.lull(quiet, at_most).await;
        assert_eq!(t.elapsed(), at_most, "stores every 50 ms: no quiet spell");
        feeder.abort();
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn concurrent_stores_are_all_durable_and_listed() {
        let dir = temp("store");
        let (spool, rec) = Spool::open(&dir).unwrap();
        assert_eq!(rec, Recovery::default());
        let mut tasks = Vec::new();
        for i in 0..50 {
            let spool = spool.clone();
            tasks.push(tokio::spawn(async move {
                let id = QueueId::generate();
                spool
                    .store(
                        sidecar(&id),
                        format!("Subject: {i}\r\n\r\nbody\r\n").into_bytes(),
                    )
                    .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let entries = spool.list().unwrap();
        assert_eq!(entries.len(), 50);
        assert!(
            entries
                .iter()
                .all(|e| e.sidecar.as_ref().is_some_and(|s| s.size == e.size))
        );
        for shard in std::fs::read_dir(dir.join(TMP_DIR)).unwrap() {
            let shard = shard.unwrap().path();
            assert_eq!(std::fs::read_dir(&shard).unwrap().count(), 0, "{shard:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn recovery_removes_leftovers_and_moves_corrupt_pairs_aside() {
        let dir = temp("recover");
        std::fs::create_dir_all(dir.join(TMP_DIR)).unwrap();
        std::fs::write(dir.join(TMP_DIR).join("X.eml"), "half").unwrap();
        // an unfinished commit: sidecar without message
        std::fs::write(
            dir.join("ORPHAN.json"),
            sidecar(&QueueId("ORPHAN".into())).to_bytes(),
        )
        .unwrap();
        // a torn message: size differs
        let mut s = sidecar(&QueueId("TORN".into()));
        s.size = 100;
        std::fs::write(dir.join("TORN.json"), s.to_bytes()).unwrap();
        std::fs::write(dir.join("TORN.eml"), "short").unwrap();
        // unreadable sidecar
        std::fs::write(dir.join("BAD.json"), "{not json").unwrap();
        std::fs::write(dir.join("BAD.eml"), "x").unwrap();
        // a good pair and a bare .eml dropped by hand
        let mut g = sidecar(&QueueId("GOOD".into()));
        g.size = 4;
        std::fs::write(dir.join("GOOD.json"), g.to_bytes()).unwrap();
        std::fs::write(dir.join("GOOD.eml"), "good").unwrap();
        std::fs::write(dir.join("HAND.eml"), "Subject: x\r\n\r\n").unwrap();

        let (spool, rec) = Spool::open(&dir).unwrap();
        assert_eq!(rec.tmp_removed, 1);
        assert_eq!(rec.orphans_removed, 1);
        let mut corrupt: Vec<_> = rec.corrupt.iter().map(|c| c.0.as_str()).collect();
        corrupt.sort();
        assert_eq!(corrupt, ["BAD", "TORN"]);
        assert!(dir.join("corrupt/TORN.eml").exists() && dir.join("corrupt/BAD.json").exists());
        let ids: Vec<_> = spool
            .list()
            .unwrap()
            .into_iter()
            .map(|e| (e.id.0, e.sidecar.is_some()))
            .collect();
        assert_eq!(ids, [("GOOD".to_owned(), true), ("HAND".to_owned(), false)]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A fault hook that fails `failing` with ENOSPC (a full disk) while armed, and counts
    /// the failures.
    fn full_disk_at(
        failing: Step,
    ) -> (
        FaultHook,
        Arc<std::sync::atomic::AtomicBool>,
        Arc<std::sync::atomic::AtomicUsize>,
    ) {
        let armed = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (a, h) = (Arc::clone(&armed), Arc::clone(&hits));
        let hook: FaultHook = Arc::new(move |step| {
            if step == failing && a.load(Ordering::SeqCst) {
                h.fetch_add(1, Ordering::SeqCst);
                return Err(io::Error::from_raw_os_error(28));
            }
            Ok(())
        });
        (hook, armed, hits)
    }

    /// Every durable step failing (ENOSPC, as with a full disk): the store fails naming the
    /// step, no file is left behind (neither published nor in `.tmp/`), and the next store
    /// succeeds once the step works again.
    #[tokio::test]
    async fn a_failed_step_never_acknowledges_and_leaves_nothing_behind() {
        for failing in Step::FILES {
            let dir = temp(&format!("fault-{failing:?}"));
            let (hook, armed, hits) = full_disk_at(failing);
            let (spool, _) = Spool::open_with_faults(&dir, Some(hook)).unwrap();
            let id = QueueId::generate();
            let err = spool
                .store(sidecar(&id), b"Subject: x\r\n\r\nbody\r\n".to_vec())
                .await
                .unwrap_err();
            assert_eq!(
                hits.load(Ordering::SeqCst),
                1,
                "{failing:?} was not reached"
            );
            assert!(
                err.to_string().contains(failing.name())
                    || failing == Step::Rename
                    || failing == Step::SyncDir,
                "{failing:?}: {err}"
            );
            let files = |d: &Path| {
                std::fs::read_dir(d)
                    .unwrap()
                    .flatten()
                    .filter(|e| e.file_type().unwrap().is_file())
                    .count()
            };
            assert_eq!(files(&dir), 0, "{failing:?} left a published file");
            assert_eq!(
                files(&dir.join(TMP_DIR)),
                0,
                "{failing:?} left a temporary file"
            );
            armed.store(false, Ordering::SeqCst);
            spool
                .store(
                    sidecar(&QueueId::generate()),
                    b"Subject: y\r\n\r\n".to_vec(),
                )
                .await
                .unwrap();
            assert_eq!(spool.list().unwrap().len(), 1);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    /// Waits until the intake log of `dir` holds `n` live messages (retirements are written
    /// by the log's own thread).
    fn wait_live(dir: &Path, n: usize) {
        let log = dir.join(INTAKE_DIR);
        for _ in 0..500 {
            if intake::count_live(&log).unwrap() == n {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("intake log never reached {n} live messages");
    }

    /// Logged messages: handed over from memory with their bytes; one retired, one written
    /// out with a new sidecar, one left live as by a crash. At the next open the live one
    /// is written out as a pair, the retired one is gone, and the log is empty.
    #[tokio::test]
    async fn logged_messages_are_handed_over_and_the_live_ones_survive_a_restart() {
        let dir = temp("logged");
        let (spool, _) = Spool::open_logged(&dir, None).unwrap();
        let ids: Vec<QueueId> = (0..3).map(|_| QueueId::generate()).collect();
        for (i, id) in ids.iter().enumerate() {
            let body = format!("Subject: {i}\r\n\r\nbody {i}\r\n").into_bytes();
            spool.store(sidecar(id), body).await.unwrap();
        }
        assert!(
            spool.list().unwrap().is_empty(),
            "no file for a logged message"
        );
        let taken = spool.take_logged();
        assert_eq!(
            taken.iter().map(|e| &e.id).collect::<Vec<_>>(),
            ids.iter().collect::<Vec<_>>()
        );
        assert!(spool.take_logged().is_empty(), "taken once");
        assert_eq!(
            spool.read(&taken[1]).unwrap(),
            b"Subject: 1\r\n\r\nbody 1\r\n".to_vec()
        );
        spool.retire(&taken[0]).unwrap();
        let mut rewritten = taken[1].sidecar.clone().unwrap();
        rewritten.mail_from = "other@example.com".into();
        spool.write_out(&taken[1], &rewritten, &dir).unwrap();
        wait_live(&dir, 1);
        let listed = spool.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, ids[1]);
        assert_eq!(
            listed[0].sidecar.as_ref().unwrap().mail_from,
            "other@example.com"
        );
        assert_eq!(
            std::fs::read(&listed[0].eml).unwrap(),
            b"Subject: 1\r\n\r\nbody 1\r\n"
        );
        drop((spool, taken));

        let (spool, recovery) = Spool::open_logged(&dir, None).unwrap();
        assert_eq!(recovery.from_log, 1);
        assert_eq!(recovery.queued, 2);
        let listed: Vec<QueueId> = spool.list().unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(listed, [ids[1].clone(), ids[2].clone()]);
        assert_eq!(
            std::fs::read(dir.join(format!("{}.eml", ids[2]))).unwrap(),
            b"Subject: 2\r\n\r\nbody 2\r\n"
        );
        assert!(spool.take_logged().is_empty());
        assert_eq!(intake::count_live(&dir.join(INTAKE_DIR)).unwrap(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A failed write or fdatasync of the log: the store fails naming the step, nothing is
    /// live (nothing comes back at the next open), and the next store succeeds.
    #[tokio::test]
    async fn a_failed_log_step_never_acknowledges_and_nothing_comes_back() {
        for failing in Step::LOG {
            let dir = temp(&format!("logfault-{failing:?}"));
            let (hook, armed, _) = full_disk_at(failing);
            let (spool, _) = Spool::open_logged(&dir, Some(hook)).unwrap();
            let err = spool
                .store(
                    sidecar(&QueueId::generate()),
                    b"Subject: x\r\n\r\n".to_vec(),
                )
                .await
                .unwrap_err();
            assert!(
                err.to_string().contains(failing.name()),
                "{failing:?}: {err}"
            );
            assert!(spool.take_logged().is_empty());
            armed.store(false, Ordering::SeqCst);
            let good = QueueId::generate();
            spool
                .store(sidecar(&good), b"Subject: y\r\n\r\n".to_vec())
                .await
                .unwrap();
            assert_eq!(spool.take_logged().len(), 1);
            drop(spool);
            let (spool, recovery) = Spool::open_logged(&dir, None).unwrap();
            assert_eq!(recovery.from_log, 1, "{failing:?}");
            let listed: Vec<QueueId> = spool.list().unwrap().into_iter().map(|e| e.id).collect();
            assert_eq!(listed, [good], "{failing:?}");
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    /// A segment whose last record was cut short by a crash: the whole records before it are
    /// written out, the cut one (never acknowledged) is dropped.
    #[tokio::test]
    async fn a_record_cut_short_is_dropped_at_open() {
        let dir = temp("torn");
        let (spool, _) = Spool::open_logged(&dir, None).unwrap();
        let kept = QueueId::generate();
        spool
            .store(sidecar(&kept), b"Subject: k\r\n\r\n".to_vec())
            .await
            .unwrap();
        spool
            .store(
                sidecar(&QueueId::generate()),
                b"Subject: cut\r\n\r\n".to_vec(),
            )
            .await
            .unwrap();
        drop(spool);
        let seg = segment_files(&dir).remove(0);
        // The written end (the segment is zeroed room after it), cut by 3 bytes.
        let bytes = std::fs::read(&seg).unwrap();
        let written = bytes.len() - bytes.iter().rev().take_while(|&&b| b == 0).count();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&seg)
            .unwrap()
            .set_len(written as u64 - 3)
            .unwrap();
        let (spool, recovery) = Spool::open_logged(&dir, None).unwrap();
        assert_eq!(recovery.from_log, 1);
        let listed: Vec<QueueId> = spool.list().unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(listed, [kept]);
        assert!(segment_files(&dir).is_empty(), "segments removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The `.seg` files of `dir`'s intake log, in order.
    fn segment_files(dir: &Path) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(dir.join(INTAKE_DIR))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "seg"))
            .collect();
        out.sort();
        out
    }

    /// Every segment is filled with real zeros and fsynced before a message goes into it, so
    /// that the fdatasync of a group commit only overwrites written blocks. An unwritten
    /// extent (as `fallocate` leaves) reads as a hole; none may be left, in the first segment
    /// nor in the next one (taken when the first is full).
    #[tokio::test]
    async fn intake_segments_are_zero_filled_before_use() {
        let dir = temp("zeroed");
        let (spool, _) = Spool::open_logged(&dir, None).unwrap();
        let mut big = b"Subject: big\r\n\r\n".to_vec();
        big.resize(intake::MAX_MESSAGE, b'x');
        let mut seen = 0;
        for _ in 0..9 {
            spool
                .store(sidecar(&QueueId::generate()), big.clone())
                .await
                .unwrap();
            let segments = segment_files(&dir);
            for seg in &segments[seen..] {
                let f = File::open(seg).unwrap();
                let len = f.metadata().unwrap().len();
                assert!(len >= intake::SEGMENT_BYTES, "{seg:?}: {len}");
                let hole = rustix::fs::seek(&f, rustix::fs::SeekFrom::Hole(0)).unwrap();
                assert_eq!(hole, len, "{seg:?}: unwritten room from {hole}");
            }
            seen = segments.len();
        }
        assert_eq!(
            seen, 2,
            "nine messages of 1 MiB fill more than one 8 MiB segment"
        );
        // The next segment is already being zeroed, off the commit path.
        assert!(dir.join(INTAKE_DIR).join("0000000000000003.spare").exists());
        drop(spool);
        // Spares left by a run that stopped are removed at the next start, unread, also when
        // that start keeps no log (a held spool).
        std::fs::write(
            dir.join(INTAKE_DIR).join("0000000000000009.spare"),
            b"anything",
        )
        .unwrap();
        let (_spool, recovery) = Spool::open(&dir).unwrap();
        assert_eq!(recovery.from_log, 9);
        let left: Vec<_> = std::fs::read_dir(dir.join(INTAKE_DIR))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "{left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A session that goes away while its message is being committed (its client never hears
    /// 250) does not strand the message: the log hands it to the worker all the same.
    #[tokio::test]
    async fn a_message_whose_session_went_away_is_still_handed_over() {
        let dir = temp("gone");
        let (spool, _) = Spool::open_logged(&dir, None).unwrap();
        let id = QueueId::generate();
        let store = spool.store(sidecar(&id), b"Subject: gone\r\n\r\n".to_vec());
        // One poll sends the message to the log's thread (whose fdatasync takes far longer
        // than this poll); then the session is dropped.
        let _ = tokio::time::timeout(std::time::Duration::ZERO, store).await;
        let mut taken = Vec::new();
        for _ in 0..500 {
            taken = spool.take_logged();
            if !taken.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].id, id);
        assert_eq!(spool.read(&taken[0]).unwrap(), b"Subject: gone\r\n\r\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Writes a segment by hand into `dir`'s intake log.
    fn segment(dir: &Path, records: &[(&QueueId, &[u8], &[u8])], garbage_after_first: bool) {
        let mut buf = Vec::new();
        for (i, (id, json, eml)) in records.iter().enumerate() {
            intake::encode(&mut buf, intake::KIND_MESSAGE, id, json, eml);
            if i == 0 && garbage_after_first {
                buf.extend_from_slice(b"UMSQ\x01 damaged by the disk");
            }
        }
        let log = dir.join(INTAKE_DIR);
        std::fs::create_dir_all(&log).unwrap();
        std::fs::write(log.join("0000000000000007.seg"), buf).unwrap();
    }

    /// At open: a pair already written out (its retirement lost in a crash) is the newer
    /// state and stays; a message whose sidecar cannot be read goes to `corrupt/` instead of
    /// being guessed from its headers; damage between whole records loses none of them and
    /// keeps the segment in `corrupt/`.
    #[tokio::test]
    async fn replay_keeps_newer_pairs_refuses_to_guess_and_reads_past_damage() {
        let dir = temp("replay-cases");
        std::fs::create_dir_all(&dir).unwrap();
        let (written, unreadable, first, second) = (
            QueueId::generate(),
            QueueId::generate(),
            QueueId::generate(),
            QueueId::generate(),
        );
        let json = sidecar(&written).to_bytes();
        segment(
            &dir,
            &[
                (&written, &json, b"Subject: old\r\n\r\n"),
                (&unreadable, b"{not json", b"Subject: u\r\n\r\n"),
            ],
            false,
        );
        let mut newer = sidecar(&written);
        newer.mail_from = "rewritten@example.com".into();
        newer.size = 18;
        std::fs::write(dir.join(format!("{written}.json")), newer.to_bytes()).unwrap();
        std::fs::write(
            dir.join(format!("{written}.eml")),
            b"Subject: newer\r\n\r\n",
        )
        .unwrap();
        let (spool, recovery) = Spool::open_logged(&dir, None).unwrap();
        assert_eq!(recovery.from_log, 0);
        let listed = spool.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0].sidecar.as_ref().unwrap().mail_from,
            "rewritten@example.com"
        );
        assert_eq!(recovery.corrupt.len(), 1, "{:?}", recovery.corrupt);
        assert!(
            dir.join(CORRUPT_DIR)
                .join(format!("{unreadable}.eml"))
                .exists()
        );
        drop(spool);

        let (j1, j2) = (sidecar(&first).to_bytes(), sidecar(&second).to_bytes());
        segment(
            &dir,
            &[
                (&first, &j1, b"Subject: 1\r\n\r\n"),
                (&second, &j2, b"Subject: 2\r\n\r\n"),
            ],
            true,
        );
        let (spool, recovery) = Spool::open_logged(&dir, None).unwrap();
        assert_eq!(recovery.from_log, 2);
        let ids: Vec<QueueId> = spool.list().unwrap().into_iter().map(|e| e.id).collect();
        assert!(ids.contains(&first) && ids.contains(&second), "{ids:?}");
        assert!(dir.join(CORRUPT_DIR).join("0000000000000007.seg").exists());
        assert!(
            recovery
                .corrupt
                .iter()
                .any(|(n, _)| n == "0000000000000007.seg")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Segment numbers start again each run, and a pair's id can come back: two runs that
    /// each move a damaged segment of the same name, and a damaged pair of the same id, into
    /// `corrupt/` keep both of each, every pair still together.
    #[tokio::test]
    async fn corrupt_never_overwrites_an_earlier_file() {
        let dir = temp("corrupt-twice");
        std::fs::create_dir_all(&dir).unwrap();
        let mut segments = Vec::new();
        for round in 0..2 {
            let (a, b) = (QueueId::generate(), QueueId::generate());
            let (ja, jb) = (sidecar(&a).to_bytes(), sidecar(&b).to_bytes());
            segment(
                &dir,
                &[
                    (&a, &ja, b"Subject: 1\r\n\r\n"),
                    (&b, &jb, b"Subject: 2\r\n\r\n"),
                ],
                true,
            );
            segments
                .push(std::fs::read(dir.join(INTAKE_DIR).join("0000000000000007.seg")).unwrap());
            std::fs::write(dir.join("BAD.json"), format!("{{not json {round}")).unwrap();
            std::fs::write(dir.join("BAD.eml"), format!("message {round}")).unwrap();
            let (spool, recovery) = Spool::open_logged(&dir, None).unwrap();
            assert_eq!(recovery.corrupt.len(), 2, "{:?}", recovery.corrupt);
            drop(spool);
        }
        let corrupt = dir.join(CORRUPT_DIR);
        let mut kept_segments = Vec::new();
        let mut pairs = Vec::new();
        for e in std::fs::read_dir(&corrupt).unwrap() {
            let path = e.unwrap().path();
            match path.extension().and_then(|x| x.to_str()) {
                Some("seg") => kept_segments.push(std::fs::read(&path).unwrap()),
                Some("json") => pairs.push((
                    std::fs::read_to_string(&path).unwrap(),
                    std::fs::read_to_string(path.with_extension("eml")).unwrap(),
                )),
                _ => {}
            }
        }
        kept_segments.sort();
        segments.sort();
        assert_eq!(kept_segments.len(), 2, "both damaged segments kept");
        assert!(kept_segments == segments, "each kept as it was");
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("{not json 0".to_owned(), "message 0".to_owned()),
                ("{not json 1".to_owned(), "message 1".to_owned())
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Far behind, intake gives way: from `slow_from` messages not yet processed each new one
    /// waits `delay` (measured on tokio's paused clock), from `files_from` it is written as
    /// files; processed messages no longer count.
    #[tokio::test(start_paused = true)]
    async fn a_long_backlog_slows_intake_then_moves_it_to_files() {
        let dir = temp("backlog");
        let backlog = Backlog {
            slow_from: 1,
            delay: std::time::Duration::from_secs(7),
            files_from: 2,
        };
        let (spool, _) = Spool::open_logged_with(&dir, None, backlog).unwrap();
        let body = || b"Subject: b\r\n\r\n".to_vec();
        let t0 = tokio::time::Instant::now();
        spool
            .store(sidecar(&QueueId::generate()), body())
            .await
            .unwrap();
        assert!(t0.elapsed() < backlog.delay, "nothing waiting: no delay");
        let t1 = tokio::time::Instant::now();
        spool
            .store(sidecar(&QueueId::generate()), body())
            .await
            .unwrap();
        assert!(t1.elapsed() >= backlog.delay, "one waiting: delayed");
        assert!(spool.list().unwrap().is_empty());
        spool
            .store(sidecar(&QueueId::generate()), body())
            .await
            .unwrap();
        assert_eq!(
            spool.list().unwrap().len(),
            1,
            "two waiting: written as files"
        );
        // Taken by the worker they still count; once processed they do not.
        let taken = spool.take_logged();
        assert_eq!(taken.len(), 2);
        for e in &taken {
            spool.retire(e).unwrap();
        }
        for _ in 0..500 {
            if spool.inner.waiting.live.load(Ordering::SeqCst) == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let t2 = tokio::time::Instant::now();
        spool
            .store(sidecar(&QueueId::generate()), body())
            .await
            .unwrap();
        assert!(t2.elapsed() < backlog.delay, "all processed: no delay");
        assert_eq!(spool.take_logged().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A message over the log's limit is stored as files, as without a log.
    #[tokio::test]
    async fn a_large_message_bypasses_the_log() {
        let dir = temp("large");
        let (spool, _) = Spool::open_logged(&dir, None).unwrap();
        let mut big = b"Subject: big\r\n\r\n".to_vec();
        big.resize(intake::MAX_MESSAGE + 1, b'x');
        spool
            .store(sidecar(&QueueId::generate()), big)
            .await
            .unwrap();
        assert!(spool.take_logged().is_empty());
        assert_eq!(spool.list().unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ids_are_unique_and_file_safe() {
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| QueueId::generate()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(QueueId::parse("../etc/passwd").is_none());
        assert!(QueueId::parse(".tmp").is_none());
    }
}

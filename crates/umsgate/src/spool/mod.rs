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
//! log line — never dropped silently.

pub mod admin;
mod commit;
pub mod journal;
pub mod layout;
pub mod sidecar;

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::sync::{Notify, oneshot};

pub use commit::sync_dir;
pub use sidecar::{Origin, Recipient, Sidecar};

use crate::clock;

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
}

/// One queued message as found on disk.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: QueueId,
    pub eml: PathBuf,
    /// `None` for an `.eml` dropped in by hand.
    pub sidecar: Option<Sidecar>,
    pub size: u64,
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
    notify: Notify,
    faults: Option<FaultHook>,
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
        let tmp = dir.join(TMP_DIR);
        for shard in 0..TMP_SHARDS {
            std::fs::create_dir_all(tmp.join(shard.to_string()))?;
        }
        let recovery = recover(dir, &tmp)?;
        let committer = commit::Committer::start(dir.to_owned(), faults.clone())?;
        let inner = Inner {
            dir: dir.to_owned(),
            tmp,
            committer,
            notify: Notify::new(),
            faults,
        };
        Ok((
            Spool {
                inner: Arc::new(inner),
            },
            recovery,
        ))
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Makes a message durable; see the module contract. `sidecar.size` is set here.
    pub async fn store(&self, mut sidecar: Sidecar, eml: Vec<u8>) -> Result<QueueId, SpoolError> {
        let id = QueueId(sidecar.id.clone());
        sidecar.size = eml.len() as u64;
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
                self.inner.notify.notify_one();
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
        self.inner.notify.notified().await;
    }

    /// The messages waiting, oldest first.
    pub fn list(&self) -> io::Result<Vec<Entry>> {
        list_dir(&self.inner.dir)
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
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::WriteMessage,
        Step::SyncMessage,
        Step::WriteSidecar,
        Step::SyncSidecar,
        Step::Rename,
        Step::SyncDir,
    ];

    fn name(self) -> &'static str {
        match self {
            Step::WriteMessage => "message write",
            Step::SyncMessage => "message fsync",
            Step::WriteSidecar => "sidecar write",
            Step::SyncSidecar => "sidecar fsync",
            Step::Rename => "rename",
            Step::SyncDir => "folder fsync",
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
                .and_then(|b| Sidecar::from_bytes(&b))
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
                std::fs::create_dir_all(&corrupt)?;
                std::fs::rename(entry.path(), corrupt.join(name))?;
                if eml.exists() {
                    std::fs::rename(&eml, corrupt.join(format!("{stem}.eml")))?;
                }
                tracing::error!(event = "spool.corrupt", dir = %dir.display(), id = stem, reason = %reason, "moved to corrupt/");
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
            id: id.to_string(),
            instance: "t".into(),
            received_at: "2026-11-26T10:00:00Z".into(),
            origin: Origin::Smtp,
            client: None,
            helo: None,
            tls: false,
            auth: None,
            mail_from: "a@example.com".into(),
            rcpts: vec![Recipient {
                address: "+4930@fax.example.com".into(),
                orcpt: None,
            }],
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

    /// Every durable step failing (ENOSPC, as with a full disk): the store fails naming the
    /// step, no file is left behind (neither published nor in `.tmp/`), and the next store
    /// succeeds once the step works again.
    #[tokio::test]
    async fn a_failed_step_never_acknowledges_and_leaves_nothing_behind() {
        use std::sync::atomic::{AtomicBool, AtomicUsize};
        for failing in Step::ALL {
            let dir = temp(&format!("fault-{failing:?}"));
            let armed = std::sync::Arc::new(AtomicBool::new(true));
            let hits = std::sync::Arc::new(AtomicUsize::new(0));
            let (a, h) = (std::sync::Arc::clone(&armed), std::sync::Arc::clone(&hits));
            let hook: FaultHook = std::sync::Arc::new(move |step| {
                if step == failing && a.load(Ordering::SeqCst) {
                    h.fetch_add(1, Ordering::SeqCst);
                    return Err(io::Error::from_raw_os_error(28));
                }
                Ok(())
            });
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

    #[test]
    fn ids_are_unique_and_file_safe() {
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| QueueId::generate()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(QueueId::parse("../etc/passwd").is_none());
        assert!(QueueId::parse(".tmp").is_none());
    }
}

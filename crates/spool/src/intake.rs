//! The intake log: accepted messages appended to segment files, many messages per fsync.
//!
//! Contract: [`Log::append`] returns `Ok` only when the message and its sidecar are written
//! into the current segment and the segment is fdatasynced; the SMTP listener answers 250 on
//! nothing else. Every message made durable is put into the spool's waiting queue for the
//! worker by the log itself, before any session is answered, so that a session that goes
//! away meanwhile cannot strand it. From then on the message is *live* until it is retired
//! ([`Log::retire`]: processed, archived, or written out as an ordinary `.eml` + `.json` pair
//! in the queue folder by the spool). A retirement is a small record appended to the message's
//! segment, with an fdatasync per segment and committer round. A segment is removed when it
//! is no longer written and holds no live message. A segment where a write may have left a torn
//! record gets nothing more appended: its later retirements are lost (the messages come back
//! once at the next start, never lost).
//!
//! A group whose write or fdatasync fails is answered 4xx and cut off the segment again; if
//! even that fails, a retirement of each of its messages is written after it, so that the
//! messages refused to the client do not come back at the next start. Either way the segment
//! takes no more messages (the next group goes into a fresh, zeroed one).
//!
//! At open ([`replay`]), every live message of every segment is written out as a pair in the
//! queue folder, durably, and only then are the segments removed: after a restart the queue
//! folder alone holds what is waiting, and the administrator's tools see it there. A record cut
//! short by a crash (bad length or checksum at the end of a segment, nothing whole after it)
//! was never acknowledged: it is dropped with a log line. Damage followed by whole records is
//! not a crash: every whole record is still read, and the segment is kept in `corrupt/` for
//! the administrator. A pair already in the queue folder (or its archive) under a message's id
//! is the newer state (written out before the crash) and is left as it is.
//!
//! Segments are made ahead of need, filled with real zeros. Each is created as `<seq>.spare`,
//! written with zeros over its whole 8 MiB and fsynced with its folder by a thread of its own;
//! when the committer needs a segment it takes the spare (waiting if it is still being
//! zeroed), renames it to `<seq>.seg`, fsyncs the folder and starts the next spare. This is
//! what PostgreSQL does for its WAL segments (`wal_init_zero`): blocks reserved with
//! `fallocate` are *unwritten extents*, and the fdatasync of a write into them must also make
//! their conversion to written durable — which not every file system does reliably; after a
//! power loss acknowledged records could read back as zeros. Into zeroed blocks, every group
//! commit only overwrites allocated, written blocks, and its fdatasync carries no metadata but
//! the file size when a group runs past the 8 MiB. Segments are not recycled, as PostgreSQL
//! recycles its files: an old segment's records would read back as valid ones. A spare left by
//! a run that stopped was never written to and is removed at start ([`replay`]).
//!
//! Measured (`python3 bench/intake/segment.py`, `/tmp` on ext4 without a journal, five runs of
//! 20 segments each, load average 10 from other builds; figures in `bench/README.md`): making
//! a segment took p50 15–28 ms with zeros against 8–10.5 ms with `fallocate`; group commits
//! (`pwrite` + `fdatasync`) into it p50 4.0 ms either way. With the spare the 6–20 ms more
//! are off the acknowledgement path; they are on it only for the first segment after start if
//! a message arrives before the spare is ready, when a segment fills before its successor is
//! zeroed (8 MiB in less than ~30 ms), or when a spare could not be made (logged; the segment
//! is then made when it is needed).
//!
//! Why: on ext4 without a journal, creating, renaming and deleting two files per message cost
//! far more than their fsync (every new inode is found by scanning past the recently deleted
//! ones), and each message crossed three threads. Here a message costs one buffer copy and a
//! share of one fdatasync, on one thread.
//!
//! Record layout (little endian): `UMSQ` · kind `u8` (1 message, 2 retired) · id length `u8` ·
//! id · sidecar length `u32` · message length `u64` · sidecar · message · CRC-32 of everything
//! before it. A retired record has empty sidecar and message.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, IoSlice};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use tokio::sync::oneshot;

use super::{Entry, FaultHook, QueueId, Sidecar, Step, Waiting, fault, sync_dir};

const MAGIC: &[u8; 4] = b"UMSQ";
pub(super) const KIND_MESSAGE: u8 = 1;
const KIND_RETIRED: u8 = 2;
/// Fixed part of a record: magic, kind, id length, sidecar length, message length, CRC.
const OVERHEAD: usize = 4 + 1 + 1 + 4 + 8 + 4;
/// A segment is closed for writing once it is this large.
pub(super) const SEGMENT_BYTES: u64 = 8 << 20;
/// Messages larger than this are not logged; the spool writes them as files.
pub const MAX_MESSAGE: usize = 1 << 20;
/// At most this many bytes of messages go into one group commit.
const BATCH_BYTES: usize = 16 << 20;
/// Extension of segment files.
pub(super) const EXT: &str = "seg";
/// Extension of a segment being zeroed, not yet in use.
const SPARE_EXT: &str = "spare";

/// One segment file, shared by the committer (writes) and readers of its messages.
#[derive(Debug)]
pub(super) struct Segment {
    seq: u64,
    path: PathBuf,
    file: File,
}

/// Where a live message's bytes are, and whether it has been retired.
#[derive(Debug)]
pub struct Logged {
    segment: Arc<Segment>,
    id: QueueId,
    offset: u64,
    len: u64,
    settled: AtomicBool,
}

impl Logged {
    /// Reads the message back (from the page cache, normally).
    pub(super) fn read(&self) -> io::Result<Vec<u8>> {
        let len = usize::try_from(self.len).map_err(io::Error::other)?;
        let mut buf = vec![0; len];
        self.segment.file.read_exact_at(&mut buf, self.offset)?;
        Ok(buf)
    }

    /// Marks the message settled; `true` the first time.
    pub(super) fn settle(&self) -> bool {
        !self.settled.swap(true, Ordering::SeqCst)
    }

    pub(super) fn is_settled(&self) -> bool {
        self.settled.load(Ordering::SeqCst)
    }
}

enum Cmd {
    Append {
        sidecar: Box<Sidecar>,
        frame: Frame,
        eml: Vec<u8>,
        done: AppendDone,
    },
    Retire(Arc<Logged>),
}

type AppendDone = oneshot::Sender<io::Result<()>>;

/// A message of the group being committed.
struct Pending {
    id: QueueId,
    sidecar: Sidecar,
    frame: Frame,
    eml: Vec<u8>,
    done: AppendDone,
}

/// The handle the spool uses; see the module contract.
#[derive(Debug, Clone)]
pub(super) struct Log {
    tx: mpsc::Sender<Cmd>,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cmd::Append { sidecar, .. } => write!(f, "Append({})", sidecar.id),
            Cmd::Retire(l) => write!(f, "Retire({})", l.id),
        }
    }
}

impl Log {
    /// Starts the committer thread for the segments in `dir` (which [`replay`] has emptied).
    /// `queue_dir` is the spool's folder (where a message would be written out); `waiting`
    /// receives every message made durable.
    pub(super) fn start(
        dir: PathBuf,
        queue_dir: PathBuf,
        faults: Option<FaultHook>,
        waiting: Arc<Waiting>,
    ) -> io::Result<Log> {
        std::fs::create_dir_all(&dir)?;
        sync_dir(&queue_dir)?;
        let (tx, rx) = mpsc::channel::<Cmd>();
        // `replay` has emptied the folder: numbering starts again.
        let mut committer = Committer {
            dir,
            queue_dir,
            faults,
            waiting,
            current: None,
            next: 1,
            spare: None,
            segs: HashMap::new(),
        };
        // The first segment is zeroed before the first message arrives.
        committer.prepare_spare();
        std::thread::Builder::new()
            .name("umsgate-intake".into())
            .spawn(move || committer.run(&rx))?;
        Ok(Log { tx })
    }

    /// Logs one message (its sidecar's `size` already set); see the module contract.
    pub(super) async fn append(&self, sidecar: Sidecar, eml: Vec<u8>) -> io::Result<()> {
        let (done, wait) = oneshot::channel();
        // Framed here, in the session, so that the committer only writes.
        let frame = Frame::new(KIND_MESSAGE, &sidecar.id, &sidecar.to_bytes(), &eml);
        self.tx
            .send(Cmd::Append {
                sidecar: Box::new(sidecar),
                frame,
                eml,
                done,
            })
            .map_err(|_| io::Error::other("intake log stopped"))?;
        wait.await
            .map_err(|_| io::Error::other("intake log stopped"))?
    }

    /// Retires a live message (once; later calls do nothing).
    pub(super) fn retire(&self, logged: &Arc<Logged>) {
        if logged.settle() {
            // A stopped committer means the process is going down: the message is then
            // written out again at the next start (at worst processed twice, never lost).
            let _ = self.tx.send(Cmd::Retire(Arc::clone(logged)));
        }
    }
}

/// What the committer knows of each segment that still exists.
struct SegState {
    seg: Arc<Segment>,
    /// Messages appended and not yet retired.
    live: usize,
    /// Bytes written (the offset of the next record).
    len: u64,
    /// A write may have left a torn record: nothing more is appended.
    broken: bool,
}

/// The one writer of the segments.
struct Committer {
    dir: PathBuf,
    queue_dir: PathBuf,
    faults: Option<FaultHook>,
    waiting: Arc<Waiting>,
    /// The segment being appended to.
    current: Option<u64>,
    next: u64,
    /// The segment to take next, being zeroed.
    spare: Option<Spare>,
    segs: HashMap<u64, SegState>,
}

/// A segment file (named `<seq>.spare` until it is taken) being filled with zeros and
/// fsynced, with its folder, by a thread of its own.
struct Spare {
    seq: u64,
    path: PathBuf,
    ready: mpsc::Receiver<io::Result<File>>,
}

impl Committer {
    fn run(&mut self, rx: &mpsc::Receiver<Cmd>) {
        while let Ok(first) = rx.recv() {
            let mut appends = Vec::new();
            let mut retires = Vec::new();
            let mut bytes = 0;
            let mut take = |cmd: Cmd, bytes: &mut usize| match cmd {
                Cmd::Append {
                    sidecar,
                    frame,
                    eml,
                    done,
                } => {
                    *bytes += eml.len() + frame.head.len();
                    appends.push(Pending {
                        id: sidecar.id.clone(),
                        sidecar: *sidecar,
                        frame,
                        eml,
                        done,
                    });
                }
                Cmd::Retire(l) => retires.push(l),
            };
            take(first, &mut bytes);
            while bytes < BATCH_BYTES {
                match rx.try_recv() {
                    Ok(cmd) => take(cmd, &mut bytes),
                    Err(_) => break,
                }
            }
            let ids: Vec<(u64, QueueId)> = retires
                .iter()
                .map(|l| (l.segment.seq, l.id.clone()))
                .collect();
            self.retire(&ids);
            if !appends.is_empty() {
                self.append(appends);
            }
        }
    }

    /// Writes retirement records, one write and one fdatasync per segment, and removes the
    /// segments left without live messages.
    fn retire(&mut self, ids: &[(u64, QueueId)]) {
        let mut by_segment: HashMap<u64, (Vec<u8>, usize)> = HashMap::new();
        for (seq, id) in ids {
            let slot = by_segment.entry(*seq).or_default();
            encode(&mut slot.0, KIND_RETIRED, id, &[], &[]);
            slot.1 += 1;
        }
        for (seq, (buf, count)) in by_segment {
            let _ = self
                .waiting
                .live
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    Some(n.saturating_sub(count))
                });
            let Some(st) = self.segs.get_mut(&seq) else {
                continue;
            };
            if !st.broken {
                match st
                    .seg
                    .file
                    .write_all_at(&buf, st.len)
                    .and_then(|()| st.seg.file.sync_data())
                {
                    Ok(()) => st.len += buf.len() as u64,
                    Err(e) => {
                        // The messages are settled in memory; after a crash they would be
                        // written out once more at the next start.
                        tracing::warn!(event = "spool.intake_retire_failed", segment = %st.seg.path.display(), error = %e);
                        st.broken = true;
                    }
                }
            }
            st.live = st.live.saturating_sub(count);
            if st.broken && self.current == Some(seq) {
                self.current = None;
            }
            self.remove_if_done(seq);
        }
    }

    /// Appends a group of messages to the current segment with one fdatasync, hands them to
    /// the waiting queue and answers each session.
    fn append(&mut self, appends: Vec<Pending>) {
        let (seq, start) = match self.current_segment() {
            Ok(c) => c,
            Err(e) => {
                for p in appends {
                    let _ = p.done.send(Err(io::Error::new(e.kind(), e.to_string())));
                }
                return;
            }
        };
        let Some(segment) = self.segs.get(&seq).map(|st| Arc::clone(&st.seg)) else {
            return;
        };
        // The group in one vectored write: each record's head, its message, its CRC.
        let mut slices = Vec::with_capacity(appends.len() * 3);
        let mut offsets = Vec::with_capacity(appends.len());
        let mut at = start;
        for p in &appends {
            offsets.push(at + p.frame.head.len() as u64);
            at += (p.frame.head.len() + p.eml.len() + p.frame.crc.len()) as u64;
            slices.extend([
                IoSlice::new(&p.frame.head),
                IoSlice::new(&p.eml),
                IoSlice::new(&p.frame.crc),
            ]);
        }
        let end = at;
        let written = fault(self.faults.as_ref(), Step::LogWrite)
            .and_then(|()| write_all_vectored_at(&segment.file, &mut slices, start))
            .map_err(|e| (Step::LogWrite, e))
            .and_then(|()| {
                fault(self.faults.as_ref(), Step::LogSync)
                    .and_then(|()| segment.file.sync_data())
                    .map_err(|e| (Step::LogSync, e))
            });
        drop(slices);
        let (step, e) = match written {
            Ok(()) => {
                if let Some(st) = self.segs.get_mut(&seq) {
                    st.len = end;
                    st.live += appends.len();
                }
                let mut dones = Vec::with_capacity(appends.len());
                {
                    let mut queue = self.waiting.queue();
                    for (p, offset) in appends.into_iter().zip(offsets) {
                        let len = p.eml.len() as u64;
                        queue.push_back(Entry {
                            eml: self.queue_dir.join(format!("{}.eml", p.id)),
                            logged: Some(Arc::new(Logged {
                                segment: Arc::clone(&segment),
                                id: p.id.clone(),
                                offset,
                                len,
                                settled: AtomicBool::new(false),
                            })),
                            id: p.id,
                            sidecar: Some(p.sidecar),
                            size: len,
                        });
                        dones.push(p.done);
                    }
                }
                self.waiting.live.fetch_add(dones.len(), Ordering::SeqCst);
                self.waiting.stored();
                for done in dones {
                    // A session gone meanwhile never answers 250; the message is processed
                    // all the same (at least once, as with a file committed at that moment).
                    let _ = done.send(Ok(()));
                }
                if end >= SEGMENT_BYTES {
                    self.close_current();
                }
                return;
            }
            Err(failed) => failed,
        };
        tracing::error!(event = "spool.intake_failed", step = step.name(), segment = %segment.path.display(), error = %e);
        // What was written must not come back after a restart: cut it off again.
        if segment
            .file
            .set_len(start)
            .and_then(|()| segment.file.sync_data())
            .is_err()
        {
            // The group may be whole on disk (a failed fdatasync): cancel each message after
            // it.
            let mut cancel = Vec::new();
            for p in &appends {
                encode(&mut cancel, KIND_RETIRED, &p.id, &[], &[]);
            }
            let cancelled = step == Step::LogSync
                && segment
                    .file
                    .write_all_at(&cancel, end)
                    .and_then(|()| segment.file.sync_data())
                    .is_ok();
            if !cancelled {
                let ids: Vec<&str> = appends.iter().map(|p| p.id.as_str()).collect();
                tracing::error!(event = "spool.intake_uncancelled", segment = %segment.path.display(), ids = ?ids, "refused to the client (4xx) but possibly whole on disk: these may be processed after the next start");
            }
            if let Some(st) = self.segs.get_mut(&seq) {
                st.broken = true;
            }
        }
        // Cut back or not, the segment takes no more messages: cutting it back also cut off
        // its zeroed room, and later groups must only ever overwrite written blocks.
        self.close_current();
        for p in appends {
            let _ = p.done.send(Err(io::Error::new(
                e.kind(),
                format!("{}: {e}", step.name()),
            )));
        }
    }

    /// The segment being written and its length; the spare (waited for if it is still being
    /// zeroed, made now if there is none) renamed to a segment when there is none, and the
    /// next spare started.
    fn current_segment(&mut self) -> io::Result<(u64, u64)> {
        if let Some(seq) = self.current
            && let Some(st) = self.segs.get(&seq)
        {
            return Ok((seq, st.len));
        }
        let spare = match self.spare.take() {
            Some(spare) => spare,
            None => self.new_spare()?,
        };
        let (seq, path, file) = self.take(spare)?;
        self.prepare_spare();
        let seg = Arc::new(Segment { seq, path, file });
        self.segs.insert(
            seq,
            SegState {
                seg,
                live: 0,
                len: 0,
                broken: false,
            },
        );
        self.current = Some(seq);
        Ok((seq, 0))
    }

    /// Starts zeroing the next spare; a failure is logged (the next segment is then made
    /// when it is needed, on the commit path).
    fn prepare_spare(&mut self) {
        match self.new_spare() {
            Ok(spare) => self.spare = Some(spare),
            Err(e) => {
                tracing::warn!(event = "spool.intake_spare_failed", dir = %self.dir.display(), error = %e, "the next segment is made when it is needed");
            }
        }
    }

    /// Creates the next spare's file (here, so that no thread but this one adds names to the
    /// folder) and a thread that fills it with zeros and fsyncs it and the folder.
    fn new_spare(&mut self) -> io::Result<Spare> {
        let seq = self.next;
        let path = self.dir.join(format!("{seq:016}.{SPARE_EXT}"));
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create_new(true);
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let file = match opts.open(&path) {
            // The folder was removed under a running spool: made again (and made durable).
            Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir_all(&self.dir)
                .and_then(|()| sync_dir(&self.queue_dir))
                .and_then(|()| opts.open(&path)),
            other => other,
        }?;
        self.next += 1;
        let (tx, ready) = mpsc::sync_channel(1);
        let dir = self.dir.clone();
        let spawned = std::thread::Builder::new()
            .name("umsgate-intake-zero".into())
            .spawn(move || {
                let zeroed = zero_fill(&file, SEGMENT_BYTES)
                    .and_then(|()| sync_dir(&dir))
                    .map(|()| file);
                // The committer gone (shutting down): the file is removed at the next start.
                let _ = tx.send(zeroed);
            });
        if let Err(e) = spawned {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(Spare { seq, path, ready })
    }

    /// Waits for `spare` to be zeroed, then renames it to a segment and fsyncs the folder.
    fn take(&self, spare: Spare) -> io::Result<(u64, PathBuf, File)> {
        let path = self.dir.join(format!("{:016}.{EXT}", spare.seq));
        let taken = spare
            .ready
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("intake segment zeroing thread failed")))
            .and_then(|file| {
                std::fs::rename(&spare.path, &path)?;
                sync_dir(&self.dir)?;
                Ok(file)
            });
        match taken {
            Ok(file) => Ok((spare.seq, path, file)),
            Err(e) => {
                tracing::error!(event = "spool.intake_segment_failed", segment = %spare.path.display(), error = %e);
                let _ = std::fs::remove_file(&spare.path);
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    }

    fn close_current(&mut self) {
        if let Some(seq) = self.current.take() {
            self.remove_if_done(seq);
        }
    }

    /// Removes a segment that is not being written and holds no live message.
    fn remove_if_done(&mut self, seq: u64) {
        if self.current == Some(seq) || self.segs.get(&seq).is_none_or(|st| st.live > 0) {
            return;
        }
        if let Some(st) = self.segs.remove(&seq)
            && let Err(e) = std::fs::remove_file(&st.seg.path).and_then(|()| sync_dir(&self.dir))
        {
            tracing::warn!(event = "spool.intake_remove_failed", segment = %st.seg.path.display(), error = %e);
        }
    }
}

/// A record around its message, which is never copied: what comes before the message
/// (magic … sidecar) and the CRC after it.
struct Frame {
    head: Vec<u8>,
    crc: [u8; 4],
}

impl Frame {
    fn new(kind: u8, id: &QueueId, sidecar: &[u8], eml: &[u8]) -> Frame {
        let id = id.as_str().as_bytes();
        let mut head = Vec::with_capacity(OVERHEAD + id.len() + sidecar.len());
        head.extend_from_slice(MAGIC);
        head.push(kind);
        // Queue ids are at most 128 bytes (QueueId::parse), so the length fits.
        head.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
        head.extend_from_slice(&id[..id.len().min(usize::from(u8::MAX))]);
        head.extend_from_slice(
            &u32::try_from(sidecar.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        head.extend_from_slice(&(eml.len() as u64).to_le_bytes());
        head.extend_from_slice(sidecar);
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head);
        crc.update(eml);
        Frame {
            head,
            crc: crc.finalize().to_le_bytes(),
        }
    }
}

/// Appends one record to `buf`; returns the offset of its message bytes within `buf`.
pub(super) fn encode(
    buf: &mut Vec<u8>,
    kind: u8,
    id: &QueueId,
    sidecar: &[u8],
    eml: &[u8],
) -> usize {
    let frame = Frame::new(kind, id, sidecar, eml);
    buf.extend_from_slice(&frame.head);
    let at = buf.len();
    buf.extend_from_slice(eml);
    buf.extend_from_slice(&frame.crc);
    at
}

/// Writes all of `slices` at `offset` (`pwritev`, again after a short write).
fn write_all_vectored_at(
    file: &File,
    mut slices: &mut [IoSlice<'_>],
    mut offset: u64,
) -> io::Result<()> {
    while !slices.is_empty() {
        let n = rustix::io::pwritev(file, slices, offset)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        offset += n as u64;
        IoSlice::advance_slices(&mut slices, n);
    }
    Ok(())
}

/// Writes `len` zeros into `file` from its start, then fsyncs it.
fn zero_fill(file: &File, len: u64) -> io::Result<()> {
    const CHUNK: usize = 1 << 20;
    let zeros = vec![0u8; CHUNK];
    let mut at = 0;
    while at < len {
        let n = usize::try_from(len - at).map_or(CHUNK, |rest| rest.min(CHUNK));
        file.write_all_at(&zeros[..n], at)?;
        at += n as u64;
    }
    file.sync_all()
}

/// Removes spares left by an earlier run (being zeroed when it stopped; never written to).
fn remove_spares(dir: &Path) -> io::Result<()> {
    let mut removed = false;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == SPARE_EXT) {
            std::fs::remove_file(&path)?;
            removed = true;
        }
    }
    if removed {
        sync_dir(dir)?;
    }
    Ok(())
}

/// One record read back from a segment.
#[derive(Debug, PartialEq, Eq)]
pub enum Record<'a> {
    Message {
        id: &'a str,
        sidecar: &'a [u8],
        eml: &'a [u8],
    },
    Retired {
        id: &'a str,
    },
}

/// Reads the records of a segment's bytes in order. Returns them and the number of bytes at
/// the end that do not form a whole, intact record (a write cut short by a crash). Zeros at
/// the end are the segment's zeroed room, not a torn write, and are not counted.
pub fn decode(bytes: &[u8]) -> (Vec<Record<'_>>, usize) {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some((record, used)) = decode_one(rest) {
        out.push(record);
        rest = &rest[used..];
    }
    let room = rest.iter().rev().take_while(|&&b| b == 0).count();
    (out, rest.len() - room)
}

fn decode_one(b: &[u8]) -> Option<(Record<'_>, usize)> {
    let take = |from: usize, n: usize| b.get(from..from.checked_add(n)?);
    if take(0, 4)? != MAGIC {
        return None;
    }
    let kind = *b.get(4)?;
    let id_len = usize::from(*b.get(5)?);
    let id = std::str::from_utf8(take(6, id_len)?).ok()?;
    let mut at = 6 + id_len;
    let sidecar_len = usize::try_from(u32::from_le_bytes(take(at, 4)?.try_into().ok()?)).ok()?;
    at += 4;
    let eml_len = usize::try_from(u64::from_le_bytes(take(at, 8)?.try_into().ok()?)).ok()?;
    at += 8;
    let sidecar = take(at, sidecar_len)?;
    at += sidecar_len;
    let eml = take(at, eml_len)?;
    at += eml_len;
    let crc = u32::from_le_bytes(take(at, 4)?.try_into().ok()?);
    if crc32fast::hash(&b[..at]) != crc {
        return None;
    }
    let record = match kind {
        KIND_MESSAGE => Record::Message { id, sidecar, eml },
        KIND_RETIRED => Record::Retired { id },
        _ => return None,
    };
    Some((record, at + 4))
}

/// A live message found in the segments at open.
pub(super) struct Found {
    pub(super) id: QueueId,
    pub(super) sidecar: Vec<u8>,
    pub(super) eml: Vec<u8>,
}

/// What [`replay`] found.
#[derive(Debug, Default)]
pub(super) struct Replayed {
    /// Segments read, to be removed once what was written out is durable.
    pub(super) segments: Vec<PathBuf>,
    /// Segments with damage before whole records, to be kept in `corrupt/` instead.
    pub(super) damaged: Vec<PathBuf>,
}

/// Removes spares left in `dir` by a run that stopped, reads every segment there and calls
/// `write_out` with the live messages, oldest first.
pub(super) fn replay(
    dir: &Path,
    mut write_out: impl FnMut(Found) -> io::Result<()>,
) -> io::Result<Replayed> {
    let mut out = Replayed::default();
    if !dir.exists() {
        return Ok(out);
    }
    // Whether the log is started after this or not (a held spool): no spare stays behind.
    remove_spares(dir)?;
    let mut segments = segment_paths(dir)?;
    segments.sort();
    for path in segments {
        let bytes = std::fs::read(&path)?;
        let (records, damaged, torn) = decode_resync(&bytes);
        if damaged > 0 {
            tracing::error!(event = "spool.intake_damaged", segment = %path.display(), bytes = damaged, "unreadable bytes between whole records: every whole message is written out, the segment is kept in corrupt/");
        }
        if torn > 0 {
            tracing::warn!(event = "spool.intake_torn", segment = %path.display(), bytes = torn, "end of a write cut short by a crash dropped; it was never acknowledged");
        }
        for (id, sidecar, eml) in live(&records) {
            write_out(Found {
                id,
                sidecar: sidecar.to_vec(),
                eml: eml.to_vec(),
            })?;
        }
        if damaged > 0 {
            out.damaged.push(path);
        } else {
            out.segments.push(path);
        }
    }
    Ok(out)
}

/// The messages of a segment's records that are not retired: id, sidecar, message.
fn live<'a>(records: &'a [Record<'a>]) -> impl Iterator<Item = (QueueId, &'a [u8], &'a [u8])> {
    let retired: std::collections::HashSet<&str> = records
        .iter()
        .filter_map(|r| match r {
            Record::Retired { id } => Some(*id),
            Record::Message { .. } => None,
        })
        .collect();
    records.iter().filter_map(move |r| match r {
        Record::Message { id, sidecar, eml } if !retired.contains(id) => {
            Some((QueueId::parse(id)?, *sidecar, *eml))
        }
        _ => None,
    })
}

/// Where the next whole record starts after `from` (past the first byte there), if anywhere.
fn next_whole_record(bytes: &[u8], from: usize) -> Option<usize> {
    (from + 1..bytes.len().saturating_sub(OVERHEAD - 1))
        .find(|&p| bytes[p..].starts_with(MAGIC) && decode_one(&bytes[p..]).is_some())
}

/// As [`decode`], reading on past damage: the whole records, the number of unreadable bytes
/// followed by whole records (damage), and the number at the end (a torn last write).
fn decode_resync(bytes: &[u8]) -> (Vec<Record<'_>>, usize, usize) {
    let mut records = Vec::new();
    let (mut pos, mut damaged) = (0, 0);
    loop {
        let (mut found, rest) = decode(&bytes[pos..]);
        records.append(&mut found);
        if rest == 0 {
            return (records, damaged, 0);
        }
        let room = bytes.iter().rev().take_while(|&&b| b == 0).count();
        let bad = bytes.len() - room - rest;
        match next_whole_record(bytes, bad) {
            Some(next) => {
                damaged += next - bad;
                pos = next;
            }
            None => return (records, damaged, rest),
        }
    }
}

/// A live message as the administrator's tools see it, read from the segments on disk.
#[derive(Debug, Clone)]
pub struct LiveMessage {
    pub id: QueueId,
    /// `None` if the recorded sidecar cannot be read.
    pub sidecar: Option<super::Sidecar>,
    pub size: u64,
    pub segment: PathBuf,
}

/// The live messages in the segments of `dir`, oldest first. A running umsgate may retire
/// any of them at any moment; this is a snapshot.
pub fn live_messages(dir: &Path) -> io::Result<Vec<LiveMessage>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    let mut segments = segment_paths(dir)?;
    segments.sort();
    for path in segments {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            // Removed by the running umsgate between listing and reading.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                tracing::warn!(event = "spool.intake_unreadable", segment = %path.display(), error = %e, "not listed");
                continue;
            }
        };
        let (records, _, _) = decode_resync(&bytes);
        for (id, sidecar, eml) in live(&records) {
            out.push(LiveMessage {
                id,
                sidecar: super::Sidecar::from_bytes(sidecar).ok(),
                size: eml.len() as u64,
                segment: path.clone(),
            });
        }
    }
    Ok(out)
}

/// Number of live messages in the segments of `dir`.
pub fn count_live(dir: &Path) -> io::Result<usize> {
    Ok(live_messages(dir)?.len())
}

/// The bytes of message `id` in `segment`, if it is there.
pub fn read_message(segment: &Path, id: &QueueId) -> io::Result<Option<Vec<u8>>> {
    let bytes = std::fs::read(segment)?;
    Ok(decode(&bytes).0.into_iter().find_map(|r| match r {
        Record::Message { id: i, eml, .. } if i == id.as_str() => Some(eml.to_vec()),
        _ => None,
    }))
}

fn segment_paths(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == EXT) && path.is_file() {
            out.push(path);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn id(s: &str) -> QueueId {
        QueueId::parse(s).unwrap()
    }

    #[test]
    fn records_read_back_and_a_torn_end_is_reported() {
        let mut buf = Vec::new();
        let at = encode(
            &mut buf,
            KIND_MESSAGE,
            &id("A1"),
            b"{}",
            b"Subject: x\r\n\r\n",
        );
        assert_eq!(&buf[at..at + 14], b"Subject: x\r\n\r\n".as_slice());
        encode(&mut buf, KIND_RETIRED, &id("A1"), &[], &[]);
        let whole = buf.len();
        encode(&mut buf, KIND_MESSAGE, &id("B2"), b"{}", b"body");
        let (records, torn) = decode(&buf[..whole]);
        assert_eq!(torn, 0);
        assert_eq!(
            records,
            [
                Record::Message {
                    id: "A1",
                    sidecar: b"{}",
                    eml: b"Subject: x\r\n\r\n"
                },
                Record::Retired { id: "A1" }
            ]
        );
        // Every cut inside the last record leaves the first two intact and reports the rest
        // (zeros at the very end are the segment's zeroed room, not counted).
        for cut in whole..buf.len() {
            let (records, torn) = decode(&buf[..cut]);
            assert_eq!(records.len(), 2);
            let tail = &buf[whole..cut];
            let expected = tail.len() - tail.iter().rev().take_while(|&&b| b == 0).count();
            assert_eq!(torn, expected);
            assert_eq!(decode_resync(&buf[..cut]), (records, 0, expected));
        }
        // Zeroed room after whole records is a clean end.
        let mut roomy = buf[..whole].to_vec();
        roomy.resize(whole + 4096, 0);
        assert_eq!(decode(&roomy).1, 0);
        assert_eq!(decode_resync(&roomy).2, 0);
        // A flipped byte is caught by the checksum.
        let mut bad = buf.clone();
        let last = bad.len() - 6;
        bad[last] ^= 0x20;
        assert_eq!(decode(&bad).0.len(), 2);
        // Damage in the first record, whole records after it: not a torn end; reading on
        // past it finds the two records behind it.
        let mut bad = buf.clone();
        bad[at] ^= 0x20;
        let (records, torn) = decode(&bad);
        assert!(records.is_empty() && torn == bad.len());
        let (records, damaged, torn) = decode_resync(&bad);
        assert_eq!(damaged, at + 14 + 4);
        assert_eq!(torn, 0);
        assert_eq!(
            records,
            [
                Record::Retired { id: "A1" },
                Record::Message {
                    id: "B2",
                    sidecar: b"{}",
                    eml: b"body"
                }
            ]
        );
    }

    proptest! {
        /// Any bytes: decoding never panics and never claims more than it was given.
        #[test]
        fn decode_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let (records, torn) = decode(&bytes);
            prop_assert!(torn <= bytes.len());
            prop_assert!(records.is_empty() || torn < bytes.len());
        }

        /// What is encoded is decoded, whatever the content.
        #[test]
        fn encode_then_decode(
            msgs in proptest::collection::vec(
                ("[A-Z0-9]{1,20}", proptest::collection::vec(any::<u8>(), 0..64),
                 proptest::collection::vec(any::<u8>(), 0..256)), 1..8)
        ) {
            let mut buf = Vec::new();
            for (i, s, m) in &msgs {
                encode(&mut buf, KIND_MESSAGE, &id(i), s, m);
            }
            let (records, torn) = decode(&buf);
            prop_assert_eq!(torn, 0);
            prop_assert_eq!(records.len(), msgs.len());
            for (r, (i, s, m)) in records.iter().zip(&msgs) {
                prop_assert_eq!(r, &Record::Message { id: i, sidecar: s, eml: m });
            }
        }
    }
}

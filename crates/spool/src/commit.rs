//! Group commit: publishing many fsynced files with one directory fsync.
//!
//! Contract: a [`Committer`] receives pairs that are already written and fsynced under the
//! spool's `.tmp/` folder. It renames each sidecar, then each `.eml`, into the queue folder
//! (the `.eml` appearing is what publishes a message) and fsyncs the queue folder once for
//! everything it took in that round. Only then does each waiting session learn that its
//! message is durable. A failure of a rename removes that pair; a failure of the folder
//! fsync removes every pair of the round, so a client that is told 4xx finds no copy
//! left behind to be processed twice.
//!
//! Implementation summary: one OS thread per spool folder; requests arrive on a channel;
//! the thread blocks for the first request, then drains whatever else is waiting (the
//! sessions that wrote while the last fsync ran), which is the whole batching policy.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use tokio::sync::oneshot;

/// One message to publish.
pub(super) struct Request {
    pub(super) tmp_eml: PathBuf,
    pub(super) tmp_json: PathBuf,
    pub(super) eml: PathBuf,
    pub(super) json: PathBuf,
    pub(super) done: oneshot::Sender<io::Result<()>>,
}

/// The handle sessions use.
#[derive(Clone, Debug)]
pub(super) struct Committer {
    tx: mpsc::Sender<Request>,
}

impl Committer {
    pub(super) fn start(dir: PathBuf, faults: Option<super::FaultHook>) -> io::Result<Committer> {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("umsgate-commit".into())
            .spawn(move || run(&dir, &rx, faults.as_ref()))?;
        Ok(Committer { tx })
    }

    pub(super) fn submit(&self, req: Request) -> Result<(), Request> {
        self.tx.send(req).map_err(|e| e.0)
    }
}

fn run(dir: &Path, rx: &mpsc::Receiver<Request>, faults: Option<&super::FaultHook>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        let mut published = Vec::with_capacity(batch.len());
        for req in batch {
            match super::fault(faults, super::Step::Rename).and_then(|()| publish(&req)) {
                Ok(()) => published.push(req),
                Err(e) => {
                    discard(&req);
                    let _ = req.done.send(Err(e));
                }
            }
        }
        if published.is_empty() {
            continue;
        }
        match super::fault(faults, super::Step::SyncDir).and_then(|()| sync_dir(dir)) {
            Ok(()) => {
                for req in published {
                    let _ = req.done.send(Ok(()));
                }
            }
            Err(e) => {
                for req in published {
                    let _ = std::fs::remove_file(&req.eml);
                    let _ = std::fs::remove_file(&req.json);
                    let _ = req.done.send(Err(io::Error::new(e.kind(), e.to_string())));
                }
                let _ = sync_dir(dir);
            }
        }
    }
}

fn publish(req: &Request) -> io::Result<()> {
    std::fs::rename(&req.tmp_json, &req.json)?;
    if let Err(e) = std::fs::rename(&req.tmp_eml, &req.eml) {
        let _ = std::fs::remove_file(&req.json);
        return Err(e);
    }
    Ok(())
}

fn discard(req: &Request) {
    for p in [&req.tmp_eml, &req.tmp_json] {
        let _ = std::fs::remove_file(p);
    }
}

/// fsyncs a folder, so that renames into it survive a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

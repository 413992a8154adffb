//! Administrator actions on queued mail: `umsgate queue list|show|requeue|delete`.
//!
//! These work on the folders directly, so they need no running daemon and are safe beside
//! one: a move publishes the sidecar before the `.eml` (the order the spool itself uses),
//! and every rewrite goes through a temporary file, fsync and rename.
//!
//! Mail still in `smtp-in/`'s intake log (accepted moments ago, being processed by the
//! running daemon, or left by one that was killed) is listed and shown, marked
//! `in_intake_log`, but not changed: only the daemon writes the log, and at start it writes
//! whatever is left in it out as files.

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::layout::{InstanceDirs, QueueState};
use super::{
    Entry, INTAKE_DIR, QueueId, Sidecar, TMP_DIR, intake, list_dir, sync_dir, write_synced,
};
use umsgate_config::Config;
use umsgate_config::units::InstanceId;
use umsgate_domain::clock;

/// One line of `queue list`.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub instance: String,
    pub state: QueueState,
    pub id: String,
    pub size: u64,
    pub received_at: Option<String>,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub attempts: u32,
    pub next_attempt: Option<String>,
    pub last_error: Option<String>,
    /// The `.eml`, or for a message in the intake log the log segment that holds it.
    pub path: PathBuf,
    pub in_intake_log: bool,
}

impl QueueItem {
    fn new(
        instance: &InstanceId,
        state: QueueState,
        id: &QueueId,
        size: u64,
        s: Option<&Sidecar>,
        path: PathBuf,
    ) -> QueueItem {
        QueueItem {
            instance: instance.to_string(),
            state,
            id: id.to_string(),
            size,
            received_at: s.map(|s| clock::rfc3339(s.received_at)),
            from: s.map(|s| s.mail_from.clone()),
            to: s
                .map(|s| s.rcpts.iter().map(|r| r.address.clone()).collect())
                .unwrap_or_default(),
            attempts: s.map_or(0, |s| s.attempts),
            next_attempt: s.and_then(|s| s.next_attempt.map(clock::rfc3339)),
            last_error: s.and_then(|s| s.last_error.clone()),
            path,
            in_intake_log: false,
        }
    }
}

fn instances<'a>(
    config: &'a Config,
    only: Option<&'a InstanceId>,
) -> impl Iterator<Item = (&'a InstanceId, InstanceDirs)> + 'a {
    config
        .instances
        .iter()
        .map(|i| i.id.get_ref())
        .filter(move |id| only.is_none_or(|o| o == *id))
        .map(|id| (id, InstanceDirs::new(&config.instance_state_dir(id))))
}

fn state_of(folder_state: QueueState, e: &Entry) -> QueueState {
    match (folder_state, &e.sidecar) {
        (QueueState::Outgoing | QueueState::Deferred, Some(s)) if s.attempts > 0 => {
            QueueState::Deferred
        }
        (QueueState::Outgoing | QueueState::Deferred, _) => QueueState::Outgoing,
        (other, _) => other,
    }
}

const FOLDERS: [QueueState; 4] = [
    QueueState::Incoming,
    QueueState::Outgoing,
    QueueState::Badmail,
    QueueState::Error,
];

/// Everything waiting, optionally for one instance and one state.
pub fn list(
    config: &Config,
    instance: Option<&InstanceId>,
    state: Option<QueueState>,
) -> io::Result<Vec<QueueItem>> {
    let mut out = Vec::new();
    for (id, dirs) in instances(config, instance) {
        for folder in FOLDERS {
            let entries = match list_dir(dirs.folder(folder)) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for e in entries {
                let st = state_of(folder, &e);
                if state.is_some_and(|s| s != st) {
                    continue;
                }
                out.push(QueueItem::new(
                    id,
                    st,
                    &e.id,
                    e.size,
                    e.sidecar.as_ref(),
                    e.eml,
                ));
            }
        }
        if state.is_none_or(|s| s == QueueState::Incoming) {
            for m in intake::live_messages(&dirs.smtp_in.join(INTAKE_DIR))? {
                let item = QueueItem::new(
                    id,
                    QueueState::Incoming,
                    &m.id,
                    m.size,
                    m.sidecar.as_ref(),
                    m.segment,
                );
                out.push(QueueItem {
                    in_intake_log: true,
                    ..item
                });
            }
        }
    }
    Ok(out)
}

/// The message's bytes, from its file or from the intake log.
pub fn message_bytes(item: &QueueItem) -> io::Result<Vec<u8>> {
    if item.in_intake_log {
        let id = QueueId::parse(&item.id).ok_or_else(|| io::Error::other("bad queue id"))?;
        intake::read_message(&item.path, &id)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no longer in the intake log"))
    } else {
        std::fs::read(&item.path)
    }
}

/// Refuses to change a message only the running daemon may touch.
fn changeable(item: &QueueItem) -> io::Result<()> {
    if item.in_intake_log {
        return Err(io::Error::other(format!(
            "{} is in smtp-in/'s intake log, which only umsgate itself changes: a running \
             umsgate is processing it; otherwise umsgate writes it to smtp-in/ when it next \
             starts, and it can be changed there",
            item.id
        )));
    }
    Ok(())
}

/// Finds a queued message by id in every folder of every instance.
///
/// Looks up `<id>.eml` in each folder (one `stat` per folder, not a listing, so that it costs
/// the same beside 100 000 queued messages as beside none); then the intake logs.
pub fn find(config: &Config, id: &QueueId) -> io::Result<Option<(QueueItem, InstanceDirs)>> {
    for (inst, dirs) in instances(config, None) {
        for folder in FOLDERS {
            let dir = dirs.folder(folder);
            let eml = dir.join(format!("{}.eml", id.as_str()));
            let meta = match std::fs::metadata(&eml) {
                Ok(m) if m.is_file() => m,
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let sidecar = std::fs::read(json_of(&eml))
                .ok()
                .and_then(|b| Sidecar::from_bytes(&b).ok());
            let e = Entry {
                id: id.clone(),
                eml,
                sidecar,
                size: meta.len(),
                logged: None,
            };
            let item = QueueItem::new(
                inst,
                state_of(folder, &e),
                &e.id,
                e.size,
                e.sidecar.as_ref(),
                e.eml,
            );
            return Ok(Some((item, dirs)));
        }
    }
    for (inst, dirs) in instances(config, None) {
        for m in intake::live_messages(&dirs.smtp_in.join(INTAKE_DIR))? {
            if m.id == *id {
                let item = QueueItem::new(
                    inst,
                    QueueState::Incoming,
                    &m.id,
                    m.size,
                    m.sidecar.as_ref(),
                    m.segment,
                );
                return Ok(Some((
                    QueueItem {
                        in_intake_log: true,
                        ..item
                    },
                    dirs,
                )));
            }
        }
    }
    Ok(None)
}

fn json_of(eml: &Path) -> PathBuf {
    eml.with_extension("json")
}

/// Moves a pair into `to`, resetting its retry state; sidecar first, `.eml` last.
fn move_pair(eml: &Path, to: &Path) -> io::Result<PathBuf> {
    let name = eml
        .file_name()
        .ok_or_else(|| io::Error::other("queue file without a name"))?;
    let target_eml = to.join(name);
    let json = json_of(eml);
    if let Ok(bytes) = std::fs::read(&json) {
        let target_json = json_of(&target_eml);
        match Sidecar::from_bytes(&bytes) {
            Ok(mut s) => {
                s.attempts = 0;
                s.next_attempt = None;
                s.last_error = None;
                let tmp_dir = to.join(TMP_DIR);
                std::fs::create_dir_all(&tmp_dir)?;
                let tmp = tmp_dir.join(json.file_name().unwrap_or(name));
                let _ = std::fs::remove_file(&tmp);
                write_synced(&tmp, &s.to_bytes())?;
                std::fs::rename(&tmp, &target_json)?;
                std::fs::remove_file(&json)?;
            }
            Err(_) => std::fs::rename(&json, &target_json)?,
        }
    }
    std::fs::rename(eml, &target_eml)?;
    sync_dir(to)?;
    if let Some(from) = eml.parent() {
        sync_dir(from)?;
    }
    Ok(target_eml)
}

/// Sends a message again: Badmail → `smtp-out/`, error → `smtp-in/`, deferred → now.
pub fn requeue(config: &Config, id: &QueueId) -> io::Result<Option<QueueItem>> {
    let Some((item, dirs)) = find(config, id)? else {
        return Ok(None);
    };
    changeable(&item)?;
    let target = match item.state {
        QueueState::Badmail | QueueState::Deferred | QueueState::Outgoing => dirs.smtp_out.clone(),
        QueueState::Error | QueueState::Incoming => dirs.smtp_in.clone(),
    };
    let path = if item.path.parent() == Some(target.as_path()) {
        // Already in its queue: reset the retry state in place.
        reset_in_place(&item.path)?;
        item.path.clone()
    } else {
        move_pair(&item.path, &target)?
    };
    Ok(Some(QueueItem {
        path,
        attempts: 0,
        next_attempt: None,
        last_error: None,
        ..item
    }))
}

fn reset_in_place(eml: &Path) -> io::Result<()> {
    let json = json_of(eml);
    let Ok(bytes) = std::fs::read(&json) else {
        return Ok(());
    };
    let Ok(mut s) = Sidecar::from_bytes(&bytes) else {
        return Ok(());
    };
    s.attempts = 0;
    s.next_attempt = None;
    let dir = eml
        .parent()
        .ok_or_else(|| io::Error::other("queue file without a folder"))?;
    let tmp_dir = dir.join(TMP_DIR);
    std::fs::create_dir_all(&tmp_dir)?;
    let tmp = tmp_dir.join(format!("{}.requeue", s.id));
    let _ = std::fs::remove_file(&tmp);
    write_synced(&tmp, &s.to_bytes())?;
    std::fs::rename(&tmp, &json)?;
    sync_dir(dir)
}

/// Every Badmail id of the configuration (for `requeue --all-badmail`).
pub fn all_badmail(config: &Config) -> io::Result<Vec<QueueId>> {
    Ok(list(config, None, Some(QueueState::Badmail))?
        .into_iter()
        .filter_map(|i| QueueId::parse(&i.id))
        .collect())
}

/// Puts a new message into the queue folder `dir` (e.g. `smtp-out/`, to be sent): its sidecar
/// and `.eml` are written under the folder's temporary folder and fsynced, renamed in
/// (sidecar first, the order the spool uses), and the folder is fsynced. The sidecar's size
/// is set to the message's. The running daemon takes it at its next scan of the folder.
pub fn enqueue(dir: &Path, sidecar: &Sidecar, eml: &[u8]) -> io::Result<()> {
    let tmp = dir.join(TMP_DIR);
    std::fs::create_dir_all(&tmp)?;
    let id = &sidecar.id;
    let mut sc = sidecar.clone();
    sc.size = eml.len() as u64;
    let (tmp_json, tmp_eml) = (
        tmp.join(format!("{id}.json.enqueue")),
        tmp.join(format!("{id}.eml.enqueue")),
    );
    let _ = std::fs::remove_file(&tmp_json);
    let _ = std::fs::remove_file(&tmp_eml);
    write_synced(&tmp_json, &sc.to_bytes())?;
    write_synced(&tmp_eml, eml)?;
    std::fs::rename(&tmp_json, dir.join(format!("{id}.json")))?;
    std::fs::rename(&tmp_eml, dir.join(format!("{id}.eml")))?;
    sync_dir(dir)
}

/// Removes a queued message for good.
pub fn delete(config: &Config, id: &QueueId) -> io::Result<Option<QueueItem>> {
    let Some((item, _)) = find(config, id)? else {
        return Ok(None);
    };
    changeable(&item)?;
    std::fs::remove_file(&item.path)?;
    match std::fs::remove_file(json_of(&item.path)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    if let Some(dir) = item.path.parent() {
        sync_dir(dir)?;
    }
    Ok(Some(item))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn enqueue_publishes_a_pair_the_queue_lists_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("umsgate-enqueue-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let id = QueueId::generate();
        let sc = Sidecar::local(
            &id,
            &"inst1".parse().unwrap(),
            clock::now(),
            "ums@example.com",
            "jane@example.com",
            "m1@umsgate.test",
        );
        let eml = b"Subject: again\r\n\r\nbody\r\n";
        enqueue(&dir, &sc, eml).unwrap();
        let listed = list_dir(&dir).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, id);
        assert_eq!(std::fs::read(dir.join(format!("{id}.eml"))).unwrap(), eml);
        let kept =
            Sidecar::from_bytes(&std::fs::read(dir.join(format!("{id}.json"))).unwrap()).unwrap();
        assert_eq!(kept.size, eml.len() as u64);
        assert_eq!(kept.rcpts[0].address, "jane@example.com");
        assert_eq!(std::fs::read_dir(dir.join(TMP_DIR)).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

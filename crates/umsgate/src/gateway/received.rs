//! Received messages: the `received/` folder (DESIGN.md §6), written before the engine is
//! acknowledged and read by the inbound worker.
//!
//! Contract: a received message is a folder `received/<id>/` with `message.json` and its
//! files, published by renaming `received/.<id>.tmp/` after every file and the folder were
//! fsynced — a reader sees it whole or not at all. File names in `files` are plain names
//! inside that folder (no separators, no `..`); anything else is refused when read.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use umsgate_domain::Service;

use super::ReadError;
use crate::spool::{QueueId, sync_dir, write_synced};

/// `message.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedMessage {
    pub service: Service,
    /// The caller, as signalled; may be empty (anonymous).
    #[serde(default)]
    pub calling: String,
    pub called: String,
    /// RFC 3339.
    pub received_at: String,
    #[serde(default)]
    pub pages: Option<u32>,
    #[serde(default)]
    pub csid: Option<String>,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub duration_s: Option<u64>,
}

/// Longest `message.json` read.
const MAX_MESSAGE_JSON: u64 = 1 << 20;
/// Longest SMS text accepted from an engine.
const MAX_TEXT: usize = 64 * 1024;

/// A file name that is safe inside the message folder.
pub fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl ReceivedMessage {
    /// Reads and checks `dir/message.json`.
    pub fn read(dir: &Path) -> Result<ReceivedMessage, ReadError> {
        let path = dir.join("message.json");
        let io = |source| ReadError::Io {
            path: path.clone(),
            source,
        };
        let len = std::fs::metadata(&path).map_err(io)?.len();
        if len > MAX_MESSAGE_JSON {
            return Err(ReadError::TooLarge { path, len });
        }
        let bytes = std::fs::read(&path).map_err(io)?;
        let m: ReceivedMessage =
            serde_json::from_slice(&bytes).map_err(|source| ReadError::Json {
                path: path.clone(),
                source,
            })?;
        if let Some(bad) = m.files.iter().find(|f| !safe_name(f)) {
            return Err(ReadError::FileName(bad.clone()));
        }
        if m.text.as_ref().is_some_and(|t| t.len() > MAX_TEXT) {
            return Err(ReadError::TextTooLong);
        }
        Ok(m)
    }
}

/// Writes a received message durably into `received/` and returns its id.
pub fn write(
    received: &Path,
    msg: &ReceivedMessage,
    files: &[(String, Vec<u8>)],
) -> std::io::Result<String> {
    let id = QueueId::generate().to_string();
    let tmp: PathBuf = received.join(format!(".{id}.tmp"));
    std::fs::create_dir_all(&tmp)?;
    for (name, data) in files {
        if !safe_name(name) {
            return Err(std::io::Error::other(format!(
                "file name `{name}` is not a plain name"
            )));
        }
        write_synced(&tmp.join(name), data)?;
    }
    let json = serde_json::to_vec_pretty(msg).map_err(std::io::Error::other)?;
    write_synced(&tmp.join("message.json"), &json)?;
    sync_dir(&tmp)?;
    std::fs::rename(&tmp, received.join(&id))?;
    sync_dir(received)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_with_paths_are_refused() {
        assert!(safe_name("fax.tif"));
        for bad in ["../x", "/etc/passwd", "a/b", ".hidden", "", "x\0y"] {
            assert!(!safe_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn write_then_read() {
        let dir = std::env::temp_dir().join(format!("umsgate-received-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let m = ReceivedMessage {
            service: Service::Sms,
            calling: "+4915112345".into(),
            called: "+49 8142 4799123".into(),
            received_at: "2026-11-26T10:15:00Z".into(),
            pages: None,
            csid: None,
            files: vec![],
            text: Some("Hallo".into()),
            duration_s: None,
        };
        let id = write(&dir, &m, &[]).unwrap();
        assert_eq!(ReceivedMessage::read(&dir.join(&id)).unwrap(), m);
        assert!(write(&dir, &m, &[("../evil".into(), vec![])]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unusable_messages_say_why_and_keep_the_cause() {
        use std::error::Error as _;
        let dir = std::env::temp_dir().join(format!("umsgate-received-bad-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("message.json");
        let e = ReceivedMessage::read(&dir).unwrap_err();
        assert!(matches!(e, ReadError::Io { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with(&format!("{}: ", path.display())),
            "{e}"
        );
        assert!(e.source().is_some());
        std::fs::write(&path, b"{\"service\": 5}").unwrap();
        let e = ReceivedMessage::read(&dir).unwrap_err();
        assert!(matches!(e, ReadError::Json { .. }), "{e:?}");
        assert!(e.source().is_some());
        std::fs::write(
            &path,
            br#"{"service":"fax","calling":"1","called":"2","received_at":"x","files":["../x"]}"#,
        )
        .unwrap();
        let e = ReceivedMessage::read(&dir).unwrap_err();
        assert_eq!(e.to_string(), "file name `../x` is not a plain name");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

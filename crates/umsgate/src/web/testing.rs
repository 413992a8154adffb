//! Helpers of the web module's unit tests.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::spool::{Origin, QueueId, Recipient, Sidecar};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty folder under the system's temporary folder.
pub(crate) fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "umsgate-web-{what}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A sidecar of one message from `from` to `to`.
pub(crate) fn sidecar(id: &str, from: &str, to: &str) -> Sidecar {
    Sidecar {
        v: crate::spool::sidecar::VERSION,
        id: QueueId::parse(id).unwrap(),
        instance: "inst1".parse().unwrap(),
        received_at: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_764_000_000),
        origin: Origin::Smtp,
        client: None,
        helo: None,
        tls: false,
        auth: None,
        mail_from: from.to_owned(),
        rcpts: vec![Recipient::new(to.to_owned(), None, 0)],
        size: 22,
        message_id: None,
        attempts: 0,
        next_attempt: None,
        last_error: None,
    }
}

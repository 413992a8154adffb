//! `maildir = <path>`: delivery into `<maildir>/<recipient address>/new/` instead of SMTP
//! (the demo and tests).
//!
//! Implementation summary: each recipient's copy is written to `<maildir>/<rcpt>/tmp/<unique>`
//! with CRLF line ends only (a bare LF or CR becomes CRLF, as the SMTP client sends it),
//! fsynced, renamed into `new/`, and `new/` is fsynced (the Maildir protocol; a reader never
//! sees a partial file). The recipient address becomes a folder name, so it is checked first:
//! an empty address, one without `@`, one starting with `.`, or one holding `/`, `\`, `..`,
//! NUL or another control character is a permanent failure, never a path.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::DeliveryError;
use crate::clock;
use crate::spool::{sync_dir, write_synced};

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

/// A Maildir root holding one Maildir per recipient address.
#[derive(Debug, Clone)]
pub(crate) struct MaildirTarget {
    root: PathBuf,
}

impl MaildirTarget {
    pub(crate) fn new(root: PathBuf) -> MaildirTarget {
        MaildirTarget { root }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the root and proves it writable.
    pub(crate) fn check(&self) -> io::Result<()> {
        let probe = self
            .root
            .join(format!(".umsgate-check-{}", std::process::id()));
        std::fs::create_dir_all(&self.root)
            .and_then(|()| std::fs::write(&probe, b"check"))
            .and_then(|()| std::fs::remove_file(&probe))
    }

    /// Stores one copy per recipient; one outcome per recipient, in order. Blocking.
    pub(crate) fn deliver(
        &self,
        id: &str,
        rcpts: &[String],
        eml: &[u8],
    ) -> Vec<Result<String, DeliveryError>> {
        rcpts
            .iter()
            .map(|r| {
                check_address(r)?;
                self.store(id, r, eml)
                    .map_err(|e| DeliveryError::temporary(format!("maildir <{r}>: {e}")))
            })
            .collect()
    }

    fn store(&self, id: &str, rcpt: &str, eml: &[u8]) -> io::Result<String> {
        let base = self.root.join(rcpt);
        let (tmp, new) = (base.join("tmp"), base.join("new"));
        for d in [&tmp, &new, &base.join("cur")] {
            std::fs::create_dir_all(d)?;
        }
        let now = clock::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let name = format!(
            "{}.M{}P{}Q{}.{id}.umsgate",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let tmp_file = tmp.join(&name);
        if let Err(e) = write_synced(&tmp_file, &umsgate_smtp::line_ends::crlf(eml)) {
            let _ = std::fs::remove_file(&tmp_file);
            return Err(e);
        }
        let target = new.join(&name);
        std::fs::rename(&tmp_file, &target)?;
        sync_dir(&new)?;
        Ok(format!("stored as {}", target.display()))
    }
}

/// Whether a recipient address may name a folder under the Maildir root.
pub(crate) fn check_address(rcpt: &str) -> Result<(), DeliveryError> {
    let bad = rcpt.is_empty()
        || rcpt.len() > 255
        || !rcpt.contains('@')
        || rcpt.starts_with('.')
        || rcpt.contains("..")
        || rcpt
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        Err(DeliveryError::permanent(format!(
            "recipient <{}> cannot be a Maildir folder name",
            rcpt.escape_debug()
        )))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn addresses_cannot_escape_the_root() {
        for bad in [
            "",
            "../x@example.com",
            "a/b@example.com",
            "a\\b@example.com",
            "a\0@example.com",
            "..@example.com",
            ".hidden@example.com",
            "no-at-sign",
            "a@example..com",
        ] {
            assert!(check_address(bad).unwrap_err().is_permanent(), "{bad:?}");
        }
        for good in ["jane@example.com", "+4930123@fax.example.com", "o'neil@x.y"] {
            assert!(check_address(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn each_recipient_gets_a_complete_file_in_new() {
        let root = std::env::temp_dir().join(format!("umsgate-maildir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let t = MaildirTarget::new(root.clone());
        let out = t.deliver(
            "ID1",
            &["a@example.com".into(), "../b@example.com".into()],
            b"Subject: x\r\n\r\nbody\r\n",
        );
        assert!(out[0].is_ok());
        assert!(out[1].as_ref().unwrap_err().is_permanent());
        let new: Vec<_> = std::fs::read_dir(root.join("a@example.com/new"))
            .unwrap()
            .collect();
        assert_eq!(new.len(), 1);
        let file = new[0].as_ref().unwrap().path();
        assert_eq!(std::fs::read(file).unwrap(), b"Subject: x\r\n\r\nbody\r\n");
        assert_eq!(
            std::fs::read_dir(root.join("a@example.com/tmp"))
                .unwrap()
                .count(),
            0
        );
        assert!(!root.join("b@example.com").exists());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn stored_mail_has_crlf_line_ends_only() {
        let root =
            std::env::temp_dir().join(format!("umsgate-maildir-crlf-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let t = MaildirTarget::new(root.clone());
        let out = t.deliver(
            "ID2",
            &["a@example.com".into()],
            b"Subject: x\n\nline\rx\r.\r\nend\n",
        );
        assert!(out[0].is_ok(), "{out:?}");
        let new: Vec<_> = std::fs::read_dir(root.join("a@example.com/new"))
            .unwrap()
            .collect();
        let stored = std::fs::read(new[0].as_ref().unwrap().path()).unwrap();
        assert_eq!(
            stored,
            b"Subject: x\r\n\r\nline\r\nx\r\n.\r\nend\r\n".to_vec()
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}

//! Size-rotated, line-oriented category log files.
//!
//! Implementation summary: a file is opened for append; before a line is written that would
//! take it past `size`, the file is rotated: `smtp.log.(keep-1)` → `smtp.log.keep`, …,
//! `smtp.log` → `smtp.log.1`, and the oldest beyond `keep` is deleted. Rotation happens only
//! at line boundaries, so no record is ever split across files. `size = 0` never rotates.
//! Each line is `<RFC 3339 time> <text>`. Writes are not fsynced: these are diagnostics, the
//! spool is the record. A write error is reported once through `tracing` and never stops mail.
//!
//! XXX: file-rotate (named in the stack list) cuts files at an exact byte count, which splits
//! records, and pulls chrono and flate2; this is the fifty lines we need instead.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use umsgate_config::LogRotate;
use umsgate_config::logs::{CategoryLogSettings, LogCategory, LogsConfig};
use umsgate_domain::clock;

/// One category file.
#[derive(Debug)]
pub struct CategoryLog {
    path: PathBuf,
    rotate: LogRotate,
    /// `None`: the category is switched off.
    state: Option<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    file: Option<File>,
    size: u64,
    failed: bool,
}

impl CategoryLog {
    /// Opens (creating folders as needed) the file at `path`.
    pub fn open(path: PathBuf, rotate: LogRotate) -> io::Result<CategoryLog> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let size = file.metadata()?.len();
        Ok(CategoryLog {
            path,
            rotate,
            state: Some(Mutex::new(State {
                file: Some(file),
                size,
                failed: false,
            })),
        })
    }

    /// Opens the file at `path` when `settings` enable it; otherwise a log that writes
    /// nothing and creates no file.
    pub fn with_settings(path: PathBuf, settings: CategoryLogSettings) -> io::Result<CategoryLog> {
        if settings.enabled {
            CategoryLog::open(path, settings.rotate)
        } else {
            Ok(CategoryLog {
                path,
                rotate: settings.rotate,
                state: None,
            })
        }
    }

    /// Whether lines are written.
    pub fn is_enabled(&self) -> bool {
        self.state.is_some()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line; CR and LF inside `text` are replaced so one event stays one line.
    pub fn line(&self, text: &str) {
        let mut line = clock::rfc3339(clock::now());
        line.push(' ');
        line.extend(
            text.chars()
                .map(|c| if c == '\r' || c == '\n' { ' ' } else { c }),
        );
        line.push('\n');
        let Some(state) = &self.state else {
            return;
        };
        let Ok(mut st) = state.lock() else {
            return;
        };
        if let Err(e) = self.write(&mut st, line.as_bytes()) {
            if !st.failed {
                tracing::error!(event = "log.write_failed", path = %self.path.display(), error = %e);
                st.failed = true;
            }
        } else {
            st.failed = false;
        }
    }

    fn write(&self, st: &mut State, bytes: &[u8]) -> io::Result<()> {
        let limit = self.rotate.size.0;
        if limit > 0 && st.size > 0 && st.size + bytes.len() as u64 > limit {
            st.file = None;
            self.rotate_files()?;
            st.size = 0;
        }
        if st.file.is_none() {
            st.file = Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?,
            );
        }
        if let Some(f) = st.file.as_mut() {
            f.write_all(bytes)?;
            st.size += bytes.len() as u64;
        }
        Ok(())
    }

    fn rotated(&self, n: u32) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    }

    fn rotate_files(&self) -> io::Result<()> {
        let keep = self.rotate.keep;
        let last = if keep == 0 {
            // Every old file stays: the move starts at the highest number there is.
            let mut n = 0;
            while n < u32::MAX && self.rotated(n + 1).exists() {
                n += 1;
            }
            n + 1
        } else {
            std::fs::remove_file(self.rotated(keep)).or_else(ignore_missing)?;
            keep
        };
        for n in (1..last).rev() {
            std::fs::rename(self.rotated(n), self.rotated(n + 1)).or_else(ignore_missing)?;
        }
        std::fs::rename(&self.path, self.rotated(1)).or_else(ignore_missing)
    }
}

fn ignore_missing(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}

/// The three category files of one instance.
#[derive(Debug)]
pub struct InstanceLogs {
    pub smtp: CategoryLog,
    pub ldap: CategoryLog,
    pub msgid: CategoryLog,
    /// Print-unread: rule matches, read receipts, print submissions and the printer's answers.
    pub print: CategoryLog,
}

impl InstanceLogs {
    /// Opens `smtp.log`, `ldap.log`, `msgid.log` and `print.log` in `dir`, all of them on and
    /// rotated by `rotate`.
    pub fn open(dir: &Path, rotate: LogRotate) -> io::Result<InstanceLogs> {
        InstanceLogs::open_with(dir, &LogsConfig::default(), rotate)
    }

    /// Opens the category files in `dir`, each with its `[service.logs.<category>]`
    /// settings over `default` (`service.log_rotate`); a category switched off gets no file.
    pub fn open_with(
        dir: &Path,
        logs: &LogsConfig,
        default: LogRotate,
    ) -> io::Result<InstanceLogs> {
        let open = |c: LogCategory| {
            CategoryLog::with_settings(dir.join(c.file_name()), logs.settings(c, default))
        };
        Ok(InstanceLogs {
            smtp: open(LogCategory::Smtp)?,
            ldap: open(LogCategory::Ldap)?,
            msgid: open(LogCategory::Msgid)?,
            print: open(LogCategory::Print)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use umsgate_config::units::ByteSize;

    #[test]
    fn rotates_at_line_boundaries_and_keeps_n_files() {
        let dir = std::env::temp_dir().join(format!("umsgate-log-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let log = CategoryLog::open(
            dir.join("smtp.log"),
            LogRotate {
                size: ByteSize(100),
                keep: 2,
            },
        )
        .unwrap();
        for i in 0..20 {
            log.line(&format!("line {i:02} with\r\nsome text"));
        }
        let main = std::fs::read_to_string(dir.join("smtp.log")).unwrap();
        assert!(main.len() <= 100);
        assert!(main.ends_with("line 19 with  some text\n"), "{main}");
        for f in ["smtp.log.1", "smtp.log.2"] {
            let t = std::fs::read_to_string(dir.join(f)).unwrap();
            assert!(
                t.lines()
                    .all(|l| l.contains(" line ") && l.ends_with("some text")),
                "{t}"
            );
        }
        assert!(!dir.join("smtp.log.3").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn fresh_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("umsgate-log-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn keep_zero_deletes_no_old_file_and_keeps_their_order() {
        let dir = fresh_dir("keep0");
        let log = CategoryLog::open(
            dir.join("ldap.log"),
            LogRotate {
                size: ByteSize(100),
                keep: 0,
            },
        )
        .unwrap();
        for i in 0..20 {
            log.line(&format!("search {i:02}"));
        }
        let mut files = 0;
        while dir.join(format!("ldap.log.{}", files + 1)).exists() {
            files += 1;
        }
        assert!(files >= 5, "only {files} old files");
        // Oldest (highest number) first, then the current file: every line once, in order.
        let mut all = String::new();
        for n in (1..=files).rev() {
            all += &std::fs::read_to_string(dir.join(format!("ldap.log.{n}"))).unwrap();
        }
        all += &std::fs::read_to_string(dir.join("ldap.log")).unwrap();
        let got: Vec<&str> = all.lines().map(|l| l.split_once(' ').unwrap().1).collect();
        let want: Vec<String> = (0..20).map(|i| format!("search {i:02}")).collect();
        assert_eq!(got, want);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_category_switched_off_creates_and_writes_no_file() {
        let dir = fresh_dir("off");
        let mut logs_config = LogsConfig::default();
        logs_config.smtp.enabled = false;
        logs_config.msgid.keep = Some(1);
        let logs = InstanceLogs::open_with(&dir, &logs_config, LogRotate::default()).unwrap();
        logs.smtp.line("connected");
        logs.ldap.line("search");
        assert!(!logs.smtp.is_enabled());
        assert!(!dir.join("smtp.log").exists());
        assert!(
            std::fs::read_to_string(dir.join("ldap.log"))
                .unwrap()
                .ends_with(" search\n")
        );
        assert!(dir.join("msgid.log").exists() && dir.join("print.log").exists());
        assert_eq!(logs.msgid.rotate.keep, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

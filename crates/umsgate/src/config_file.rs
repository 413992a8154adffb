//! Edits of the configuration file that keep everything else as the administrator wrote it:
//! `umsgate instance new|delete|enable|disable` and the console's Instances page.
//!
//! Contract: the file is changed only when the result is a valid configuration, checked by
//! the loader `umsgate run` uses ([`Config::parse`]) before anything is written
//! ([`EditError::Invalid`] otherwise, nothing changed). It is replaced atomically
//! ([`replace`]: a temporary file in the same folder, fsynced, with the file's permissions,
//! renamed, the folder fsynced). Outside the edited `[[instance]]` everything stays byte for
//! byte, comments included; [`set_enabled`] changes one value inside the entry and keeps the
//! comment after it. [`entry_text`] is the entry as written (its header, keys, subtables and
//! the comments between them), for showing one instance's configuration.
//!
//! Implementation summary: `toml_edit`'s spans find an entry's extent (its header, keys,
//! values and subtables); [`without_entry`] cuts those lines, with the comment lines directly
//! above the header and the blank lines before them, out of the text, since `toml_edit`'s
//! own rendering would move comments that sit between two tables to whichever table
//! follows. [`set_enabled`] edits the `enabled` value through `toml_edit::DocumentMut`, whose
//! rendering keeps every untouched item's text.

use std::fmt;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::config::{Config, ConfigErrors};

/// Why an edit was not made.
#[derive(Debug)]
pub enum EditError {
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file has no `[[instance]]` table with this id (an instance written another way,
    /// e.g. as an inline table, must be edited by hand).
    NoEntry { path: PathBuf, id: String },
    /// The result would not be a valid configuration; nothing changed.
    Invalid(ConfigErrors),
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::Read { path, .. } => write!(f, "cannot read {}", path.display()),
            EditError::NoEntry { path, id } => write!(
                f,
                "{}: no [[instance]] table with id = \"{id}\" (instances written another way must be edited by hand)",
                path.display()
            ),
            EditError::Invalid(e) => write!(
                f,
                "the result would not be a valid configuration; nothing changed:\n{e}"
            ),
            EditError::Write { path, .. } => write!(f, "cannot write {}", path.display()),
        }
    }
}

impl std::error::Error for EditError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EditError::Read { source, .. } | EditError::Write { source, .. } => Some(source),
            EditError::Invalid(e) => Some(e),
            EditError::NoEntry { .. } => None,
        }
    }
}

impl EditError {
    /// Whether the file or the request is at fault (else the machine).
    pub fn is_config(&self) -> bool {
        matches!(self, EditError::NoEntry { .. } | EditError::Invalid(_))
    }
}

/// The configuration `text` would be at `path`.
pub fn validate(text: &str, path: &Path) -> Result<Config, EditError> {
    Config::parse(text, path).map_err(EditError::Invalid)
}

/// Reads the file at `path`.
pub fn read(path: &Path) -> Result<String, EditError> {
    std::fs::read_to_string(path).map_err(|source| EditError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Validates `text` and replaces `path` by it; answers the new configuration.
pub fn write_checked(path: &Path, text: &str) -> Result<Config, EditError> {
    let config = validate(text, path)?;
    replace(path, text).map_err(|source| EditError::Write {
        path: path.to_owned(),
        source,
    })?;
    Ok(config)
}

/// Replaces `path` by `text`: temporary file, fsync, same permissions, rename, folder fsync.
pub fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "umsgate.toml".into());
    // A name of its own per write: two writers never share (and truncate) one temporary file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// What [`set_enabled`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggled {
    Changed,
    /// The entry said so already; the file was not written.
    AlreadySo,
}

/// Sets `enabled` of the `[[instance]]` entry `id` in the file at `path` (see the module
/// contract).
pub fn set_enabled(path: &Path, id: &str, enabled: bool) -> Result<Toggled, EditError> {
    // Read, edit and write one at a time in this process, so that two edits at once (two
    // administrators on the Instances page) both land, one after the other.
    static EDITS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = EDITS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let text = read(path)?;
    let no_entry = || EditError::NoEntry {
        path: path.to_owned(),
        id: id.to_owned(),
    };
    let Some(out) = with_enabled(&text, id, enabled) else {
        return Err(no_entry());
    };
    if out == text {
        return Ok(Toggled::AlreadySo);
    }
    write_checked(path, &out)?;
    Ok(Toggled::Changed)
}

/// `text` with `enabled` of entry `id` set; `None` when there is no such entry.
pub fn with_enabled(text: &str, id: &str, enabled: bool) -> Option<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().ok()?;
    let array = doc.get_mut("instance")?.as_array_of_tables_mut()?;
    let entry = array.iter_mut().find(|t| {
        t.get("id")
            .and_then(toml_edit::Item::as_str)
            .is_some_and(|s| s == id)
    })?;
    match entry
        .get_mut("enabled")
        .and_then(toml_edit::Item::as_value_mut)
    {
        Some(v) if v.as_bool() == Some(enabled) => return Some(text.to_owned()),
        Some(v) => {
            let decor = v.decor().clone();
            *v = toml_edit::Value::from(enabled);
            *v.decor_mut() = decor;
        }
        None => {
            entry.insert("enabled", toml_edit::value(enabled));
        }
    }
    Some(doc.to_string())
}

/// The text of entry `id` as the file has it (whole lines), or `None`.
pub fn entry_text(text: &str, id: &str) -> Option<String> {
    let r = entry_lines(text, id)?;
    text.get(r).map(str::to_owned)
}

/// The lines of entry `id`: from the start of its header's line to the end of its last one.
fn entry_lines(text: &str, id: &str) -> Option<Range<usize>> {
    let doc = toml_edit::Document::parse(text.to_owned()).ok()?;
    let array = doc.get("instance")?.as_array_of_tables()?;
    let entry = array.iter().find(|t| {
        t.get("id")
            .and_then(toml_edit::Item::as_str)
            .is_some_and(|s| s == id)
    })?;
    let (mut lo, mut hi) = (usize::MAX, 0usize);
    spans_of_table(entry, &mut lo, &mut hi);
    if lo >= hi || hi > text.len() {
        return None;
    }
    let start = text.get(..lo)?.rfind('\n').map_or(0, |i| i + 1);
    let end = text
        .get(hi..)?
        .find('\n')
        .map_or(text.len(), |i| hi + i + 1);
    Some(start..end)
}

/// `text` without the `[[instance]]` entry `id`: its header, keys and subtables, the
/// comment lines directly above its header and the blank lines before those. Everything
/// else stays byte for byte. `None` when there is no such entry.
pub fn without_entry(text: &str, id: &str) -> Option<String> {
    let Range { mut start, end } = entry_lines(text, id)?;
    // The comment block attached to the header, then the blank lines that set it apart.
    let mut comments = true;
    while start > 0 {
        let prev_start = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = text[prev_start..start].trim();
        let take = if line.is_empty() {
            comments = false;
            true
        } else {
            comments && line.starts_with('#')
        };
        if !take {
            break;
        }
        start = prev_start;
    }
    Some(format!("{}{}", &text[..start], &text[end..]))
}

fn spans_of_table(t: &toml_edit::Table, lo: &mut usize, hi: &mut usize) {
    fn add(r: Option<Range<usize>>, lo: &mut usize, hi: &mut usize) {
        if let Some(r) = r {
            *lo = (*lo).min(r.start);
            *hi = (*hi).max(r.end);
        }
    }
    add(t.span(), lo, hi);
    for (key, item) in t.iter() {
        add(t.key(key).and_then(toml_edit::Key::span), lo, hi);
        match item {
            toml_edit::Item::Table(sub) => spans_of_table(sub, lo, hi),
            toml_edit::Item::ArrayOfTables(a) => {
                for sub in a.iter() {
                    spans_of_table(sub, lo, hi);
                }
            }
            other => add(other.span(), lo, hi),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const TEXT: &str = "# head\n[service]\nstate_dir = \"s\"\n\n# about x\n[[instance]]\nid = \"x\"\nlisten = [\n  \"127.0.0.1:1\",\n]\n[instance.mail]\ndomain = \"d\" # inline\n[[instance.print_unread]]\nname = \"r\"\n\n# about the site\n[site]\ncountry_code = \"49\"\n\n[[instance]]\nid = \"y\"\nenabled = true # on since May\n";

    #[test]
    fn an_entry_goes_with_its_subtables_and_own_comments_only() {
        let out = without_entry(TEXT, "x").unwrap_or_default();
        assert_eq!(
            out,
            "# head\n[service]\nstate_dir = \"s\"\n\n# about the site\n[site]\ncountry_code = \"49\"\n\n[[instance]]\nid = \"y\"\nenabled = true # on since May\n"
        );
        let out = without_entry(TEXT, "y").unwrap_or_default();
        let tail = "\n[[instance]]\nid = \"y\"\nenabled = true # on since May\n";
        assert_eq!(out, &TEXT[..TEXT.len() - tail.len()]);
        assert_eq!(without_entry(TEXT, "z"), None);
    }

    #[test]
    fn enabling_changes_one_value_and_keeps_every_comment() {
        let off = with_enabled(TEXT, "y", false).unwrap();
        assert_eq!(
            off,
            TEXT.replace("enabled = true # on", "enabled = false # on")
        );
        assert_eq!(with_enabled(&off, "y", true).unwrap(), TEXT);
        // An entry without the key gets it, and nothing else moves.
        let x_off = with_enabled(TEXT, "x", false).unwrap();
        assert!(x_off.contains("# head\n") && x_off.contains("# about x\n"));
        assert!(x_off.contains("domain = \"d\" # inline\n"));
        let doc: toml::Table = x_off.parse().unwrap();
        let x = &doc["instance"].as_array().unwrap()[0];
        assert_eq!(x["enabled"].as_bool(), Some(false));
        assert_eq!(with_enabled(TEXT, "z", true), None);
        assert_eq!(with_enabled(TEXT, "y", true).unwrap(), TEXT);
    }

    #[test]
    fn an_entry_is_shown_as_written() {
        let x = entry_text(TEXT, "x").unwrap();
        assert!(x.starts_with("[[instance]]\nid = \"x\"\n"), "{x}");
        assert!(x.ends_with("name = \"r\"\n"), "{x}");
        assert!(!x.contains("[site]"));
        assert_eq!(entry_text(TEXT, "z"), None);
    }

    #[test]
    fn an_invalid_result_is_not_written() {
        let dir = std::env::temp_dir().join(format!("umsgate-config-file-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("umsgate.toml");
        std::fs::write(&path, "[[instance]]\nid = \"a\"\nbogus_key = 1\n").unwrap();
        let e = set_enabled(&path, "a", false).unwrap_err();
        assert!(matches!(e, EditError::Invalid(_)), "{e:?}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[[instance]]\nid = \"a\"\nbogus_key = 1\n"
        );
        let e = set_enabled(&path, "b", false).unwrap_err();
        assert!(matches!(e, EditError::NoEntry { .. }), "{e:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

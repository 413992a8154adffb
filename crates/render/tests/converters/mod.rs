//! What the converter tests share: the peer check, poppler's view of a PDF, the processes a
//! converter runs, a port that counts connections, a stored ZIP.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Fails unless the test peers are wanted (`UMSGATE_TEST_PEERS=1`) and every program is
/// installed (an absolute path, or a name on `PATH`).
pub fn peers(programs: &[&str]) {
    let hint = "these tests need LibreOffice (libreoffice-writer/calc/impress-nogui), \
                python3-uno, chromium and poppler-utils: run .ci/run, or install them and \
                export UMSGATE_TEST_PEERS=1";
    assert_eq!(
        std::env::var("UMSGATE_TEST_PEERS").as_deref(),
        Ok("1"),
        "UMSGATE_TEST_PEERS=1 is not set: {hint}"
    );
    for p in programs {
        let found = if p.starts_with('/') {
            Path::new(p).exists()
        } else {
            std::env::var_os("PATH")
                .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).exists()))
        };
        assert!(found, "{p} is not installed: {hint}");
    }
}

/// The repository's `testdata/` (or `UMSGATE_TESTDATA`).
pub fn testdata() -> PathBuf {
    match std::env::var_os("UMSGATE_TESTDATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata"),
    }
}

fn with_pdf_file<T>(pdf: &[u8], f: impl FnOnce(&Path) -> T) -> T {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    f(&path)
}

/// Page count by `pdfinfo`.
pub fn pdf_pages(pdf: &[u8]) -> u32 {
    with_pdf_file(pdf, |path| {
        let out = Command::new("pdfinfo").arg(path).output().unwrap();
        assert!(
            out.status.success(),
            "pdfinfo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no page count in {text}"))
    })
}

/// Page size in points by `pdfinfo` (of the first page).
pub fn pdf_page_size(pdf: &[u8]) -> (f64, f64) {
    with_pdf_file(pdf, |path| {
        let out = Command::new("pdfinfo").arg(path).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("Page size:"))
            .unwrap();
        let mut words = line.split_whitespace();
        let w = words.next().unwrap().parse().unwrap();
        let _x = words.next();
        let h = words.next().unwrap().parse().unwrap();
        (w, h)
    })
}

/// Text by `pdftotext`, of one page or of all.
pub fn pdf_text(pdf: &[u8], page: Option<u32>) -> String {
    with_pdf_file(pdf, |path| {
        let mut cmd = Command::new("pdftotext");
        if let Some(n) = page {
            cmd.args(["-f", &n.to_string(), "-l", &n.to_string()]);
        }
        let out = cmd.arg(path).arg("-").output().unwrap();
        assert!(
            out.status.success(),
            "pdftotext: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
}

/// Every process below `pid` (children, their children, …).
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(c);
                todo.push(c);
            }
        }
    }
    found
}

/// The process below `pid` whose command name is `name`.
pub fn find_program(pid: u32, name: &str) -> Option<u32> {
    descendants(pid).into_iter().find(|d| {
        std::fs::read_to_string(format!("/proc/{d}/comm")).is_ok_and(|c| c.trim() == name)
    })
}

/// Whether `pid` has ended (gone, or a zombie no one reaped yet), waiting up to 10 s.
pub fn gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
        let dead = match state {
            None => true,
            Some(s) => s
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        };
        if dead {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn kill9(pid: u32) {
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -9 {pid}");
}

pub fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// The network namespace of a process (`self` or a pid).
pub fn net_ns(pid: &str) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap()
}

/// A port on 127.0.0.1 that counts the connections it receives.
pub async fn listen_and_count() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, hits)
}

/// A ZIP of stored (uncompressed) entries, as an OpenDocument package wants `mimetype`.
pub fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, body) in entries {
        let offset = out.len() as u32;
        let crc = crc32(body);
        let mut common = Vec::new();
        common.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x21, 0]); // flags, stored, time, date
        common.extend_from_slice(&crc.to_le_bytes());
        common.extend_from_slice(&(body.len() as u32).to_le_bytes());
        common.extend_from_slice(&(body.len() as u32).to_le_bytes());
        common.extend_from_slice(&(name.len() as u16).to_le_bytes());
        common.extend_from_slice(&[0, 0]);
        out.extend_from_slice(b"PK\x03\x04\x14\x00");
        out.extend_from_slice(&common);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(body);
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00");
        central.extend_from_slice(&common);
        central.extend_from_slice(&[0; 10]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

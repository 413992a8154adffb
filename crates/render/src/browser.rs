//! HTML → PDF through headless Chromium's print to PDF, for mails whose body is HTML only.
//!
//! Contract: the page is loaded with no network at all (remote images, fonts and scripts
//! never load; `cid:` images are inlined by the caller as `data:` URLs), in a profile and
//! temporary folder of its own under `work_dir`, killed at `timeout`. Pages are A4. Inputs
//! above `max_input_bytes`, results above `max_output_bytes` or `max_pages` answer
//! [`ConvertError::TooLarge`]. When Chromium is not installed the conversion answers
//! [`ConvertError::Unavailable`] and the caller falls back to the HTML's text.
//!
//! Implementation summary: one cold `chromium --headless --print-to-pdf` per document (about
//! a second; HTML-only mails are rare enough that a resident browser is not worth its
//! memory). Before the document's own markup, [`prepare`] puts a `<head>` prelude: a UTF-8
//! charset (the caller hands decoded text), a Content-Security-Policy that lets only inline
//! styles and `data:` images and fonts load (no script runs, nothing remote is asked for),
//! and `@page { size: A4 }`. Chromium itself runs in its own network namespace where
//! `unshare --net` works (see `office/sandbox.rs`), behind a dead proxy
//! (`127.0.0.1:9`, loopback included) and a resolver that finds no host, with background
//! networking, extensions, sync and first-run tasks off, and `--no-sandbox` only as root
//! (its sandbox cannot start there). The whole process group is killed at the time limit.

use std::path::PathBuf;
use std::time::Duration;

use crate::ConvertError;
use crate::office::{read_pdf, sandbox};

/// Where and how Chromium runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserConfig {
    /// The `chromium` program.
    pub program: PathBuf,
    /// Profiles and temporary files (created, owned by umsgate).
    pub work_dir: PathBuf,
    /// Longest one conversion may take.
    pub timeout: Duration,
    /// Largest HTML document accepted, in bytes.
    pub max_input_bytes: u64,
    /// Largest PDF accepted from Chromium, in bytes.
    pub max_output_bytes: u64,
    /// Most pages one document may become.
    pub max_pages: u32,
}

impl BrowserConfig {
    /// `program` with `work_dir` and the default limits: 60 s, 20 MB of HTML, 200 MB of PDF,
    /// 200 pages.
    pub fn new(program: impl Into<PathBuf>, work_dir: impl Into<PathBuf>) -> BrowserConfig {
        BrowserConfig {
            program: program.into(),
            work_dir: work_dir.into(),
            timeout: Duration::from_secs(60),
            max_input_bytes: 20_000_000,
            max_output_bytes: 200_000_000,
            max_pages: 200,
        }
    }
}

/// Headless Chromium as an HTML → PDF converter.
#[derive(Debug)]
pub struct HtmlConverter {
    config: BrowserConfig,
}

impl HtmlConverter {
    pub fn new(config: BrowserConfig) -> HtmlConverter {
        HtmlConverter { config }
    }

    /// Renders a complete HTML document to A4 PDF pages.
    pub async fn to_pdf(&self, html: &str) -> Result<Vec<u8>, ConvertError> {
        let cfg = &self.config;
        if html.len() as u64 > cfg.max_input_bytes {
            return Err(ConvertError::TooLarge(format!(
                "HTML of {} bytes (limit {})",
                html.len(),
                cfg.max_input_bytes
            )));
        }
        if !sandbox::installed(&cfg.program) {
            return Err(ConvertError::Unavailable(format!(
                "{} is not installed",
                cfg.program.display()
            )));
        }
        let jobs = cfg.work_dir.join("html");
        let job = crate::office::make_job_dir(&jobs).await?;
        let input = job.path().join("in.html");
        let output = job.path().join("out.pdf");
        tokio::fs::write(&input, prepare(html))
            .await
            .map_err(|e| ConvertError::Unavailable(format!("cannot write the page: {e}")))?;
        let url = crate::office::file_url(&input)?;

        // Chromium puts its singleton socket under TMPDIR: a Unix socket path has at most 107
        // bytes, so a deep work folder (`/var/lib/umsgate/render/browser/html/…`) makes it
        // abort. Its home and temporary files go in a short fresh folder of the system's.
        let short = tempfile::Builder::new()
            .prefix("umsgate-html-")
            .tempdir()
            .map_err(|e| {
                ConvertError::Unavailable(format!("cannot create a temporary folder: {e}"))
            })?;
        let isolate = sandbox::network_namespace().await;
        let mut cmd = sandbox::command(&cfg.program, isolate, short.path());
        cmd.args([
            "--headless",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--mute-audio",
        ]);
        if sandbox::is_root() {
            cmd.arg("--no-sandbox");
        }
        cmd.arg(format!(
            "--user-data-dir={}",
            job.path().join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", output.display()))
        .arg(&url);
        let mut child = cmd.spawn().map_err(|e| {
            ConvertError::Unavailable(format!("cannot start {}: {e}", cfg.program.display()))
        })?;
        let leader = child.id();
        let status = tokio::time::timeout(cfg.timeout, child.wait()).await;
        // whatever Chromium left running (renderers, zygote) goes with its group
        if let Some(pid) = leader {
            sandbox::kill_group(pid);
        }
        match status {
            Err(_) => {
                tracing::warn!(
                    event = "render.browser.timeout",
                    timeout_ms = cfg.timeout.as_millis() as u64,
                    "killed chromium"
                );
                let _ = child.wait().await;
                return Err(ConvertError::Timeout);
            }
            Ok(Err(e)) => {
                return Err(ConvertError::Unavailable(format!("chromium: {e}")));
            }
            Ok(Ok(s)) if !s.success() => {
                return Err(ConvertError::Failed(format!("chromium exited with {s}")));
            }
            Ok(Ok(_)) => {}
        }
        read_pdf(&output, cfg.max_output_bytes, cfg.max_pages).await
    }
}

/// What goes before the document's own markup (see the module documentation).
const PRELUDE: &str = "<meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
style-src 'unsafe-inline' data:; img-src data:; font-src data:\">\
<style>@page { size: A4; margin: 15mm }</style>";

/// The document with [`PRELUDE`] at the start of its `<head>`: after `<head …>` if it has
/// one, else as a new head after `<html …>`, else after the doctype, else at the very start
/// (where an HTML parser opens the head anyway).
fn prepare(html: &str) -> String {
    let head = format!("<head>{PRELUDE}</head>");
    let (at, insert) = if let Some(end) = tag_end(html, "head") {
        (end, PRELUDE)
    } else if let Some(end) = tag_end(html, "html") {
        (end, head.as_str())
    } else if let Some(end) = doctype_end(html) {
        (end, head.as_str())
    } else {
        (0, head.as_str())
    };
    let mut out = String::with_capacity(html.len() + insert.len());
    out.push_str(&html[..at]);
    out.push_str(insert);
    out.push_str(&html[at..]);
    out
}

/// The byte after the `>` of the first `<name` start tag (`<head>`, `<head lang=…>`, not
/// `<header>`).
fn tag_end(html: &str, name: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut from = 0;
    while let Some(i) = bytes.get(from..)?.iter().position(|&b| b == b'<') {
        let start = from + i + 1;
        let after = start + name.len();
        let matches = bytes
            .get(start..after)
            .is_some_and(|t| t.eq_ignore_ascii_case(name.as_bytes()));
        let delimited = matches!(
            bytes.get(after),
            Some(b'>' | b'/') | Some(b' ' | b'\t' | b'\r' | b'\n')
        );
        if matches && delimited {
            return Some(after + bytes.get(after..)?.iter().position(|&b| b == b'>')? + 1);
        }
        from = start;
    }
    None
}

/// The byte after a leading `<!doctype …>`.
fn doctype_end(html: &str) -> Option<usize> {
    let trimmed = html.trim_start();
    let skipped = html.len() - trimmed.len();
    let head = trimmed.get(..9)?;
    if !head.eq_ignore_ascii_case("<!doctype") {
        return None;
    }
    Some(skipped + trimmed.find('>')? + 1)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_prelude_goes_first_into_the_head() {
        assert_eq!(
            prepare(
                "<!DOCTYPE html><html lang=de><HEAD><title>x</title></head><body>b</body></html>"
            ),
            format!(
                "<!DOCTYPE html><html lang=de><HEAD>{PRELUDE}<title>x</title></head><body>b</body></html>"
            )
        );
        assert_eq!(
            prepare("<html><header>h</header></html>"),
            format!("<html><head>{PRELUDE}</head><header>h</header></html>")
        );
        assert_eq!(
            prepare(" <!doctype html><p>hi"),
            format!(" <!doctype html><head>{PRELUDE}</head><p>hi")
        );
        assert_eq!(prepare("<p>hi"), format!("<head>{PRELUDE}</head><p>hi"));
        assert_eq!(prepare(""), format!("<head>{PRELUDE}</head>"));
        // an unterminated tag is no head: the prelude still comes first
        assert_eq!(prepare("<head"), format!("<head>{PRELUDE}</head><head"));
    }

    proptest! {
        #[test]
        fn the_document_is_kept_whole(html in ".{0,200}") {
            let out = prepare(&html);
            prop_assert!(out.contains(PRELUDE));
            prop_assert_eq!(out.replacen(&format!("<head>{PRELUDE}</head>"), "", 1).replacen(PRELUDE, "", 1), html);
        }
    }
}

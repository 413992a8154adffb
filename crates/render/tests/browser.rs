//! HTML → PDF through the real headless Chromium: A4 pages checked with `pdfinfo` and
//! `pdftotext`, no network (a port of this host that counts connections stays untouched, no
//! script runs), the time limit, and the limits on size.
//!
//! Needs `chromium` and `poppler-utils`, and `UMSGATE_TEST_PEERS=1` (what `.ci/run`
//! exports); fails with a clear message without them.
#![allow(clippy::unwrap_used)]

mod converters;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use converters::{pdf_page_size, pdf_pages, pdf_text, peers};
use umsgate_render::ConvertError;
use umsgate_render::browser::{BrowserConfig, HtmlConverter};

fn converter(work: &Path) -> HtmlConverter {
    peers(&["chromium", "pdftotext", "pdfinfo"]);
    HtmlConverter::new(BrowserConfig::new("chromium", work))
}

/// Processes whose command line names `dir` (the converter's folders).
fn processes_in(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(&needle) {
            found.push(cmdline);
        }
    }
    found
}

#[tokio::test]
async fn html_becomes_a4_pages() {
    let work = tempfile::tempdir().unwrap();
    let conv = converter(work.path());
    // a charset declared for bytes the caller already decoded must not garble the text
    let html = "<!DOCTYPE html><html><head><meta charset=\"iso-8859-1\"><title>t</title></head>\
                <body><h1>Umsgate HTML phrase 1 – Grüße</h1>\
                <p style=\"page-break-before: always\">Umsgate HTML phrase 2</p></body></html>";
    let pdf = conv.to_pdf(html).await.unwrap();
    assert_eq!(pdf_pages(&pdf), 2);
    let (w, h) = pdf_page_size(&pdf);
    assert!(
        (w - 595.0).abs() < 2.0 && (h - 842.0).abs() < 2.0,
        "not A4: {w} x {h}"
    );
    assert!(pdf_text(&pdf, Some(1)).contains("Umsgate HTML phrase 1 – Grüße"));
    assert!(pdf_text(&pdf, Some(2)).contains("Umsgate HTML phrase 2"));
    assert!(
        processes_in(work.path()).is_empty(),
        "chromium left processes behind"
    );
    conv.check().await.unwrap();
}

/// A page asking for stylesheets, scripts, images and a frame from a port of this host and
/// from the Internet, and running an inline script.
fn hostile_page(port: u16) -> String {
    format!(
        "<html><head><link rel=stylesheet href=\"http://127.0.0.1:{port}/a.css\">\
         <script src=\"http://127.0.0.1:{port}/s.js\"></script></head><body>\
         <p>Umsgate remote phrase</p>\
         <img src=\"http://127.0.0.1:{port}/x.png\"><img src=\"https://192.0.2.1/y.png\">\
         <img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\">\
         <iframe src=\"http://localhost:{port}/frame\"></iframe>\
         <p id=s>no script</p><script>document.getElementById('s').textContent='script ran'</script>\
         </body></html>"
    )
}

async fn renders_without_network(network_namespace: bool) {
    let work = tempfile::tempdir().unwrap();
    peers(&["chromium", "pdftotext", "pdfinfo"]);
    let mut cfg = BrowserConfig::new("chromium", work.path());
    // far longer than a conversion takes; a page waiting on the network would hit it
    cfg.timeout = Duration::from_secs(60);
    cfg.network_namespace = network_namespace;
    let conv = HtmlConverter::new(cfg);
    let (port, hits) = converters::listen_and_count().await;
    let pdf = conv.to_pdf(&hostile_page(port)).await.unwrap();
    let text = pdf_text(&pdf, None);
    assert!(text.contains("Umsgate remote phrase"), "{text}");
    assert!(
        text.contains("no script") && !text.contains("script ran"),
        "{text}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "chromium reached the host");
}

#[tokio::test]
async fn remote_content_never_loads_and_no_script_runs() {
    renders_without_network(true).await;
}

/// Where `unshare` is not allowed: the proxy, resolver and CSP settings alone.
#[tokio::test]
async fn without_a_network_namespace_nothing_remote_loads_either() {
    renders_without_network(false).await;
}

#[tokio::test]
async fn a_conversion_past_the_time_limit_is_killed() {
    let work = tempfile::tempdir().unwrap();
    peers(&["chromium", "pdfinfo"]);
    let mut cfg = BrowserConfig::new("chromium", work.path());
    cfg.timeout = Duration::from_millis(100);
    let err = HtmlConverter::new(cfg)
        .to_pdf("<p>slow</p>")
        .await
        .unwrap_err();
    assert_eq!(err, ConvertError::Timeout);
    // Killed processes take a moment to leave /proc; a survivor is still there after 5 s.
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while !processes_in(work.path()).is_empty() && std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        processes_in(work.path()).is_empty(),
        "chromium left processes behind: {:?}",
        processes_in(work.path())
    );
    // the next conversion, with time enough, works
    let pdf = converter(work.path())
        .to_pdf("<p>Umsgate next phrase</p>")
        .await
        .unwrap();
    assert_eq!(pdf_pages(&pdf), 1);
}

#[tokio::test]
async fn limits_and_a_missing_chromium() {
    let work = tempfile::tempdir().unwrap();
    peers(&["chromium"]);
    let mut cfg = BrowserConfig::new("chromium", work.path());
    cfg.max_input_bytes = 100;
    let err = HtmlConverter::new(cfg)
        .to_pdf(&"x".repeat(101))
        .await
        .unwrap_err();
    assert!(matches!(err, ConvertError::TooLarge(_)), "{err:?}");

    let mut cfg = BrowserConfig::new("chromium", work.path());
    cfg.max_pages = 2;
    let three = "<p>1</p><p style=\"page-break-before: always\">2</p>\
                 <p style=\"page-break-before: always\">3</p>";
    let err = HtmlConverter::new(cfg).to_pdf(three).await.unwrap_err();
    assert!(matches!(err, ConvertError::TooLarge(_)), "{err:?}");

    let cfg = BrowserConfig::new("/nonexistent/chromium", work.path());
    let err = HtmlConverter::new(cfg)
        .to_pdf("<p>x</p>")
        .await
        .unwrap_err();
    assert!(matches!(&err, ConvertError::Unavailable(_)), "{err:?}");
}

/// A caller that gives up on a conversion (drops it) leaves no Chromium process behind.
#[tokio::test]
async fn an_abandoned_conversion_leaves_nothing_running() {
    let work = tempfile::tempdir().unwrap();
    let conv = converter(work.path());
    let abandoned =
        tokio::time::timeout(Duration::from_millis(300), conv.to_pdf("<p>abandoned</p>")).await;
    assert!(abandoned.is_err(), "chromium finished in 0.3 s");
    // the kill is immediate; processes may take a moment to be gone
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !processes_in(work.path()).is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(processes_in(work.path()), Vec::<String>::new());
}

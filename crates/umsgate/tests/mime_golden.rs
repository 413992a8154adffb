//! Golden tests of `outbound::mime`: every `tests/fixtures/mime/NNN.eml` is read in LF and in
//! CRLF form, parsed and built for the service of its recipient address (all three services
//! when no recipient names one); the JSON result must equal `NNN.json` for both forms. On a
//! mismatch the actual JSON is written to `NNN.failed` (or `NNN.crlf.failed`) and the test
//! fails. `UMSGATE_BLESS=1` rewrites the `.json` files instead (review the diff!).
//!
//! `malformed/*.eml` and the bombs generated here must be refused as malformed (never a panic; the pre-scan
//! stops bombs before the parser builds anything).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use serde_json::{Value, json};
use umsgate::outbound::mime::{self, Limits, MessageContent};
use umsgate::outbound::refusal::Refusal;
use umsgate_domain::Service;

fn fixtures() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/fixtures/mime")
}

fn to_lf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\r' && raw.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

fn to_crlf(raw: &[u8]) -> Vec<u8> {
    let lf = to_lf(raw);
    let mut out = Vec::with_capacity(lf.len() + lf.len() / 40);
    for &b in &lf {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// The services named by the recipients' domains (`…@fax.example.com`).
fn services(raw: &[u8]) -> Vec<Service> {
    let Some(message) = mail_parser::MessageParser::default().parse(raw) else {
        return Service::ALL.to_vec();
    };
    let found = message
        .to()
        .into_iter()
        .chain(message.cc())
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address.as_deref())
        .filter_map(|addr| addr.rsplit_once('@'))
        .find_map(|(_, domain)| domain.split('.').next()?.parse::<Service>().ok());
    match found {
        Some(s) => vec![s],
        None => Service::ALL.to_vec(),
    }
}

fn content_json(c: &MessageContent) -> Value {
    json!({
        "message_id": c.message_id,
        "subject": c.subject,
        "from": c.from,
        "priority": c.priority,
        "disposition_notification_to": c.disposition_notification_to,
        "text": c.text,
        "attachments": c.attachments.iter().map(|a| json!({
            "name": a.name,
            "content_type": a.content_type,
            "kind": a.kind,
            // Raw (7bit/8bit) parts keep the message's line endings: count them as LF so
            // that the LF and CRLF forms agree.
            "size": to_lf(&a.data).len(),
        })).collect::<Vec<_>>(),
    })
}

fn result_json(raw: &[u8], services: &[Service]) -> Value {
    let limits = Limits::default();
    let content = match mime::parse(raw, &limits) {
        Ok(c) => c,
        Err(refusal) => return json!({ "refusal": refusal }),
    };
    let mut jobs = serde_json::Map::new();
    for &service in services {
        let job = match mime::build(&content, service, &limits) {
            Ok(payload) => json!({ "payload": payload }),
            Err(refusal) => json!({ "refusal": refusal }),
        };
        jobs.insert(service.to_string(), job);
    }
    json!({ "content": content_json(&content), "jobs": jobs })
}

#[test]
fn golden_fixtures() {
    let bless = std::env::var_os("UMSGATE_BLESS").is_some();
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    let mut run = 0;
    let mut failed = Vec::new();
    for eml in &files {
        let raw = std::fs::read(eml).unwrap();
        let services = services(&raw);
        let expected_path = eml.with_extension("json");
        for (form, bytes) in [("lf", to_lf(&raw)), ("crlf", to_crlf(&raw))] {
            run += 1;
            let actual =
                serde_json::to_string_pretty(&result_json(&bytes, &services)).unwrap() + "\n";
            let failed_path = if form == "lf" {
                eml.with_extension("failed")
            } else {
                eml.with_extension("crlf.failed")
            };
            if bless && form == "lf" {
                std::fs::write(&expected_path, &actual).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
            if expected == actual {
                let _ = std::fs::remove_file(&failed_path);
            } else {
                std::fs::write(&failed_path, &actual).unwrap();
                failed.push(format!("{} ({form})", eml.display()));
            }
        }
    }
    assert!(run > 0, "no fixtures found in {}", fixtures().display());
    assert!(failed.is_empty(), "golden mismatches: {failed:#?}");
    eprintln!("{run} fixture runs ({} messages, LF and CRLF)", files.len());
}

fn assert_malformed(name: &str, raw: &[u8], limits: &Limits) {
    match mime::parse(raw, limits) {
        Err(Refusal::Malformed { detail }) => {
            assert!(!detail.is_empty(), "{name}: empty detail");
        }
        Err(other) => panic!("{name}: expected a malformed refusal, got {other:?}"),
        Ok(content) => panic!(
            "{name}: expected a malformed refusal, got a message with {} attachments",
            content.attachments.len()
        ),
    }
}

#[test]
fn malformed_corpus_is_refused() {
    let dir = fixtures().join("malformed");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "malformed corpus has {} files",
        files.len()
    );
    for path in &files {
        let raw = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        assert_malformed(&name, &to_lf(&raw), &Limits::default());
        assert_malformed(&name, &to_crlf(&raw), &Limits::default());
    }
}

const HEAD: &str = "From: a@example.com\r\nTo: +4930123456@fax.example.com\r\nSubject: bomb\r\n";

#[test]
fn nesting_bomb_10000_levels() {
    let mut s = String::from(HEAD);
    for i in 0..10_000 {
        s.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    s.push_str("Content-Type: text/plain\r\n\r\nhi\r\n");
    for i in (0..10_000).rev() {
        s.push_str(&format!("--b{i}--\r\n"));
    }
    assert_malformed("nesting 10000", s.as_bytes(), &Limits::default());
}

#[test]
fn attached_message_bomb_10000_levels() {
    let mut s = String::from(HEAD);
    for _ in 0..10_000 {
        s.push_str("Content-Type: message/rfc822\r\n\r\nFrom: x@example.com\r\n");
    }
    s.push_str("\r\nhi\r\n");
    assert_malformed("message/rfc822 10000", s.as_bytes(), &Limits::default());
}

#[test]
fn parts_bomb_100000() {
    let mut s = String::from(HEAD);
    s.push_str("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
    for _ in 0..100_000 {
        s.push_str("--b\r\n\r\n");
    }
    s.push_str("--b--\r\n");
    assert_malformed("parts 100000", s.as_bytes(), &Limits::default());

    // The same with delimiters in the middle of lines (the parser matches them anywhere).
    let mut s = String::from(HEAD);
    s.push_str("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
    for _ in 0..100_000 {
        s.push_str("x--b\r\n\r\n");
    }
    assert_malformed("parts mid-line 100000", s.as_bytes(), &Limits::default());

    // And with an RFC 2231 boundary the scan cannot read plainly.
    let mut s = String::from(HEAD);
    s.push_str("Content-Type: multipart/mixed; boundary*0=\"-\"\r\n\r\n");
    for _ in 0..100_000 {
        s.push_str("---\r\n\r\n");
    }
    assert_malformed("parts rfc2231 100000", s.as_bytes(), &Limits::default());
}

#[test]
fn header_bombs() {
    // One million header fields in the top block.
    let mut s = String::from(HEAD);
    s.push_str(&"X:1\r\n".repeat(1_000_000));
    s.push_str("\r\nbody\r\n");
    assert_malformed("fields 1e6", s.as_bytes(), &Limits::default());

    // A Content-Type with a million parameters inside a part.
    let mut s = String::from(HEAD);
    s.push_str(
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain",
    );
    s.push_str(&";a=b".repeat(1_000_000));
    s.push_str("\r\n\r\nx\r\n--b--\r\n");
    assert_malformed("parameters 1e6", s.as_bytes(), &Limits::default());
}

#[test]
fn huge_base64() {
    // Over the raw size limit: refused before decoding.
    let line = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n";
    let limits = Limits::default();
    let lines = (limits.max_raw_size() as usize / line.len()) + 10;
    let mut s = String::from(HEAD);
    s.push_str("Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    s.reserve(lines * line.len());
    for _ in 0..lines {
        s.push_str(line);
    }
    assert_malformed("base64 over raw limit", s.as_bytes(), &limits);

    // Under the raw limit but over the decoded limit (small limits to keep the test fast).
    let small = Limits {
        max_decoded_size: 1 << 20,
        ..Limits::default()
    };
    let mut s = String::from(HEAD);
    s.push_str("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
    for _ in 0..2 {
        s.push_str(
            "--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        );
        for _ in 0..12_000 {
            s.push_str(line);
        }
    }
    s.push_str("--b--\r\n");
    assert!((s.len() as u64) < small.max_raw_size());
    assert_malformed("base64 over decoded limit", s.as_bytes(), &small);
}

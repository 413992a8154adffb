//! umsgate behind a real Postfix (scripts/mail/start.sh): Postfix relays
//! `fax|sms|voice.example.com` to `127.0.0.1:$MAIL_GATEWAY_PORT`, where these tests run
//! umsgate. Needs `UMSGATE_TEST_PEERS=1` and the `MAIL_*` variables; fails without them.
//!
//! Only one process may listen on the gateway port: every test here holds
//! [`support::lock_port`] while its umsgate runs.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::{DEADLINE, Daemon, Smtp, Work, config_text, free_addr, peer_env, wait_in_spool};

struct Peers {
    smtp: String,
    gateway: SocketAddr,
    log: String,
}

fn peers() -> Peers {
    let host = peer_env("MAIL_SMTP_HOST");
    let port = peer_env("MAIL_SMTP_PORT");
    let gw: u16 = peer_env("MAIL_GATEWAY_PORT")
        .parse()
        .expect("MAIL_GATEWAY_PORT is a port number");
    Peers {
        smtp: format!("{host}:{port}"),
        gateway: SocketAddr::from(([127, 0, 0, 1], gw)),
        log: peer_env("MAIL_LOG"),
    }
}

/// Sends one message into Postfix and returns Postfix's queue id.
fn submit(p: &Peers, from: &str, to: &str, message: &[u8]) -> String {
    let (mut c, greeting) = Smtp::connect(p.smtp.as_str())
        .unwrap_or_else(|e| panic!("cannot reach Postfix at {}: {e}", p.smtp));
    assert_eq!(greeting.code, 220, "{greeting:?}");
    c.ehlo("client.example.com").unwrap();
    let r = c
        .send(from, &[to], message)
        .unwrap()
        .unwrap_or_else(|r| panic!("Postfix refused the mail to {to}: {r:?}"));
    c.quit();
    r.queue_id()
        .unwrap_or_else(|| panic!("no queue id in {r:?}"))
}

/// Polls `path` until a line contains every needle; returns that line.
fn wait_for_line(path: &str, needles: &[&str], what: &str) -> String {
    let end = Instant::now() + DEADLINE;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| needles.iter().all(|n| l.contains(n))) {
            return l.to_owned();
        }
        assert!(
            Instant::now() < end,
            "{what}: no line with {needles:?} in {path} within {DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// umsgate on the gateway port, with the port lock held as long as it runs.
struct Gateway {
    daemon: Daemon,
    _lock: std::fs::File,
}

fn start_gateway(work: &Work, p: &Peers) -> Gateway {
    let lock = support::lock_port(p.gateway.port());
    work.write_config(&config_text(p.gateway, ""));
    let mut daemon = Daemon::run(work, p.gateway);
    daemon.wait_ready();
    Gateway {
        daemon,
        _lock: lock,
    }
}

#[test]
fn fax_and_sms_mail_relayed_by_postfix_is_spooled_with_envelope_and_trace_headers() {
    let p = peers();
    let work = Work::new("postfix-relay");
    let mut gw = start_gateway(&work, &p);
    let run = support::nonce();
    let from = "jane@example.com";

    for (kind, rcpt) in [
        ("fax", "+4930123456@fax.example.com"),
        ("sms", "+491511234567@sms.example.com"),
    ] {
        let marker = format!("relay-{kind}-{run}");
        let pf_id = submit(&p, from, rcpt, &support::message(from, rcpt, &marker));
        let q = wait_in_spool(
            &work.smtp_in(),
            &marker,
            &format!("{kind} mail via Postfix"),
        );

        let s = q.sidecar();
        assert_eq!(s["mail_from"], from, "{s}");
        assert_eq!(s["origin"], "smtp", "{s}");
        assert_eq!(s["size"], q.eml.len() as u64, "{s}");
        assert_eq!(s["message_id"], format!("<{marker}@umsgate.test>"), "{s}");
        let rcpts = s["rcpts"].as_array().unwrap();
        assert_eq!(rcpts.len(), 1, "{s}");
        assert_eq!(rcpts[0]["address"], rcpt, "{s}");
        // Postfix sends ORCPT only to a server that offers DSN; when it does, umsgate must
        // store it xtext-decoded (`+2B49…` → `+49…`).
        if let Some(orcpt) = rcpts[0].get("orcpt") {
            assert_eq!(orcpt, rcpt, "ORCPT not decoded: {s}");
        }
        let client = s["client"].as_str().unwrap();
        assert!(client.starts_with("127.0.0.1:"), "{s}");

        // umsgate's trace header on top, Postfix's below it, then the message as sent.
        let headers = q.headers();
        let ours = headers
            .find("Received: from ")
            .unwrap_or_else(|| panic!("no Received: in {headers}"));
        assert_eq!(
            ours, 0,
            "umsgate's Received: is not the first header:\n{headers}"
        );
        let first_end = headers[1..].find("\r\nReceived: ").map(|i| i + 3);
        let first = &headers[..first_end.unwrap_or(headers.len())];
        assert!(
            first.contains("(umsgate) with ESMTP id ") && first.contains(&q.id),
            "umsgate's Received: {first:?}"
        );
        assert!(
            first.contains(&format!("for <{rcpt}>")),
            "umsgate's Received: {first:?}"
        );
        let postfix =
            &headers[first_end.unwrap_or_else(|| panic!("no Postfix Received:\n{headers}"))..];
        assert!(
            postfix.starts_with("Received: from ")
                && postfix.contains("(Postfix) with ESMTP id ")
                && postfix.contains(&pf_id),
            "Postfix's Received: (queue id {pf_id}) missing:\n{headers}"
        );
        assert!(
            q.contains(&format!("\r\n\r\nbody marker {marker}\r\n")),
            "body missing:\n{}",
            String::from_utf8_lossy(&q.eml)
        );
        assert!(
            q.contains("\r\n.a line that starts with a dot\r\nend\r\n"),
            "dot-stuffing not undone:\n{}",
            String::from_utf8_lossy(&q.eml)
        );
        // Postfix logged the delivery to umsgate with umsgate's queue id.
        wait_for_line(
            &p.log,
            &[&pf_id, "status=sent", &format!("queued as {}", q.id)],
            "Postfix log of the relay",
        );
    }
    assert!(gw.daemon.sigterm().success(), "{}", gw.daemon.output());
}

#[test]
fn non_template_address_is_refused_at_rcpt_and_bounced_by_postfix() {
    let p = peers();
    let work = Work::new("postfix-refuse");
    let mut gw = start_gateway(&work, &p);
    let run = support::nonce();
    // The null sender: Postfix logs the bounce but sends no notification, so no mailbox
    // that other tests read receives one.
    let from = "";
    // Letters are not a number: not a fax address under the template.
    let rcpt = format!("nofax-{run}@fax.example.com");
    let marker = format!("refused-{run}");
    let pf_id = submit(
        &p,
        from,
        &rcpt,
        &support::message("jane@example.com", &rcpt, &marker),
    );

    // Postfix reports umsgate's 550 5.1.1 to RCPT and bounces.
    let line = wait_for_line(
        &p.log,
        &[&pf_id, &format!("to=<{rcpt}>"), "status=bounced"],
        "Postfix bounce",
    );
    assert!(
        line.contains(&format!("said: 550 5.1.1 <{rcpt}>")) && line.contains("RCPT TO"),
        "the bounce does not carry umsgate's RCPT reply: {line}"
    );
    assert!(
        line.contains(&format!("relay=127.0.0.1[127.0.0.1]:{}", p.gateway.port())),
        "not refused by the umsgate on the gateway port: {line}"
    );
    // umsgate logged the refusal, and nothing was queued.
    let smtp_log = work.log("smtp").display().to_string();
    wait_for_line(
        &smtp_log,
        &["rcpt_refused", &format!("rcpt=<{rcpt}>")],
        "umsgate smtp.log",
    );
    assert!(
        support::read_spool(&work.smtp_in())
            .iter()
            .all(|q| !q.contains(&marker)),
        "a refused mail was queued"
    );
    assert!(gw.daemon.sigterm().success(), "{}", gw.daemon.output());
}

/// The ORCPT form Postfix uses towards DSN servers (`rfc822;` + xtext), sent directly to
/// umsgate on a free port: the sidecar holds it decoded. Needs no peers.
#[test]
fn xtext_orcpt_is_stored_decoded() {
    let work = Work::new("orcpt");
    let addr = free_addr();
    work.write_config(&config_text(addr, ""));
    let mut d = Daemon::run(&work, addr);
    d.wait_ready();
    let (mut c, _) = Smtp::connect(addr).unwrap();
    c.ehlo("relay.test").unwrap();
    assert_eq!(c.command("MAIL FROM:<jane@example.com>").unwrap().code, 250);
    let r = c
        .command("RCPT TO:<+4930123456@fax.example.com> ORCPT=rfc822;+2B4930123456@fax.example.com")
        .unwrap();
    assert_eq!(r.code, 250, "{r:?}");
    assert_eq!(c.command("DATA").unwrap().code, 354);
    let marker = format!("orcpt-{}", support::nonce());
    c.send_data(&support::message(
        "jane@example.com",
        "+4930123456@fax.example.com",
        &marker,
    ))
    .unwrap();
    let r = c.read_reply().unwrap();
    assert_eq!(r.code, 250, "{r:?}");
    c.quit();
    let q = wait_in_spool(&work.smtp_in(), &marker, "ORCPT mail");
    let s = q.sidecar();
    assert_eq!(
        s["rcpts"],
        serde_json::json!([{ "address": "+4930123456@fax.example.com", "orcpt": "+4930123456@fax.example.com", "key": 0 }]),
        "{s}"
    );
    assert!(d.sigterm().success(), "{}", d.output());
}

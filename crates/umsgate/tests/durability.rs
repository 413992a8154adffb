//! The spool's promise, from outside: a message answered 250 survives SIGKILL of the process.
//!
//! Several concurrent SMTP sessions stream messages, each with a unique body marker and
//! Message-ID; every 250 and its queue id is recorded. After enough 250s the process is
//! SIGKILLed mid-stream and started again on the same state. Every acknowledged message must
//! then be in `smtp-in/` byte for byte, its sidecar valid JSON with the right size, nothing
//! left in `.tmp/`, nothing in `corrupt/`, and `umsgate queue list --json` must list it.
//!
//! Twice: with `hold = true` (messages stored as files), and with processing on, where
//! messages go through the intake log; there the directory is unreachable, so the worker
//! writes each message out to `smtp-in/` for a later try, and what is still live in the log
//! at the kill is written out at the restart.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{DEADLINE, Daemon, Smtp, Work, config_text, describe, free_addr, names, read_spool};

const SESSIONS: usize = 8;
const PER_SESSION: usize = 100;
/// SIGKILL once this many messages were acknowledged.
const KILL_AFTER: usize = 100;
const FROM: &str = "jane@example.com";

/// One acknowledged message.
#[derive(Debug, Clone)]
struct Acked {
    marker: String,
    rcpt: String,
    message: Vec<u8>,
}

#[derive(Default)]
struct Record {
    /// Queue id → message, for every 250.
    acked: Mutex<BTreeMap<String, Acked>>,
    /// Every message whose DATA was sent (acknowledged or not), by marker.
    sent: Mutex<BTreeMap<String, Vec<u8>>>,
    count: AtomicUsize,
    /// A session saw the connection fail (the kill).
    failed: AtomicBool,
}

fn sender(addr: SocketAddr, session: usize, run: String, rec: Arc<Record>) {
    let Ok((mut c, greeting)) = Smtp::connect(addr) else {
        rec.failed.store(true, Ordering::SeqCst);
        return;
    };
    assert_eq!(greeting.code, 220, "{greeting:?}");
    if c.ehlo("durability.test").is_err() {
        rec.failed.store(true, Ordering::SeqCst);
        return;
    }
    for i in 0..PER_SESSION {
        let marker = format!("{run}-s{session}-m{i}");
        let rcpt = format!("+4930{:03}{:04}@fax.example.com", session, i);
        // A body of a few KB, different per message, with dot-stuffed lines.
        let mut message = support::message(FROM, &rcpt, &marker);
        for l in 0..(i % 7) * 20 {
            message.extend_from_slice(format!("{marker} line {l} ").as_bytes());
            message.extend_from_slice(&b"x".repeat(l % 60));
            message.extend_from_slice(if l % 5 == 0 { b"\r\n.\r\n" } else { b"\r\n" });
        }
        rec.sent
            .lock()
            .unwrap()
            .insert(marker.clone(), message.clone());
        match c.send(FROM, &[&rcpt], &message) {
            Ok(Ok(reply)) => {
                let id = reply
                    .queue_id()
                    .unwrap_or_else(|| panic!("250 without a queue id: {reply:?}"));
                let prev = rec.acked.lock().unwrap().insert(
                    id.clone(),
                    Acked {
                        marker,
                        rcpt,
                        message,
                    },
                );
                assert!(prev.is_none(), "queue id {id} given twice");
                rec.count.fetch_add(1, Ordering::SeqCst);
            }
            Ok(Err(reply)) => panic!("refused while running: {reply:?}"),
            Err(_) => {
                rec.failed.store(true, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// The marker of a stored message (`body marker X` line).
fn marker_of(eml: &[u8]) -> Option<String> {
    let at = support::find(eml, b"\r\nbody marker ")? + 14;
    let len = support::find(&eml[at..], b"\r\n")?;
    Some(String::from_utf8_lossy(&eml[at..at + len]).into_owned())
}

/// The whole scenario; `first` decides how the first process is started.
/// How the first process runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Intake {
    /// `hold = true`: every message is stored as files.
    Files,
    /// Processing on, directory unreachable: messages go through the intake log.
    Log,
}

fn sigkill_mid_stream(name: &str, intake: Intake, first: impl FnOnce(&Work, SocketAddr) -> Daemon) {
    let work = Work::new(name);
    let addr = free_addr();
    let held = config_text(addr, "max_connections_per_client = 100");
    match intake {
        Intake::Files => {
            work.write_config(&held);
        }
        Intake::Log => {
            let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let dead_port = dead.local_addr().unwrap().port();
            drop(dead);
            let text = held.replace("hold = true\n", "").replace(
                "kind = \"file\"\npath = \"users.toml\"",
                &format!(
                    "kind = \"ldap\"\nservers = [\"ldap://127.0.0.1:{dead_port}\"]\n\
                     base_dns = [\"dc=example,dc=com\"]\nconnect_timeout = \"1s\""
                ),
            );
            assert!(text.contains("kind = \"ldap\"") && !text.contains("hold = true"));
            work.write_config(&text);
        }
    }
    let mut d = first(&work, addr);
    d.wait_ready();

    let rec = Arc::new(Record::default());
    let run = support::nonce();
    let threads: Vec<_> = (0..SESSIONS)
        .map(|s| {
            let rec = Arc::clone(&rec);
            let run = run.clone();
            std::thread::spawn(move || sender(addr, s, run, rec))
        })
        .collect();
    let end = Instant::now() + DEADLINE * 5;
    while rec.count.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            Instant::now() < end,
            "only {} messages acknowledged; stuck?\n{}",
            rec.count.load(Ordering::SeqCst),
            d.output()
        );
        assert!(
            !threads.iter().all(std::thread::JoinHandle::is_finished),
            "all sessions ended before {KILL_AFTER} acknowledgements\n{}",
            d.output()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = d.sigkill();
    assert!(!status.success(), "SIGKILL did not kill: {status}");
    for t in threads {
        t.join().unwrap();
    }
    let acked = rec.acked.lock().unwrap().clone();
    let sent = rec.sent.lock().unwrap().clone();
    assert!(
        rec.failed.load(Ordering::SeqCst) && acked.len() < SESSIONS * PER_SESSION,
        "the kill was not mid-stream ({} of {} acknowledged)",
        acked.len(),
        SESSIONS * PER_SESSION
    );
    let dir = work.smtp_in();
    eprintln!(
        "{name}: {} acknowledged, {} sent before SIGKILL; on disk: {} published, {} in .tmp/",
        acked.len(),
        sent.len(),
        read_spool(&dir).len(),
        support::files_below(&dir.join(".tmp")).len()
    );
    if intake == Intake::Log {
        // The restart writes out what the log still holds; held, nothing is taken away.
        work.write_config(&held);
        let mut d = Daemon::run(&work, addr);
        d.wait_ready();
        assert!(d.sigterm().success(), "{}", d.output());
        let log = support::files_below(&dir.join(".intake"));
        assert!(log.is_empty(), "intake log not emptied at restart: {log:?}");
    }

    // On disk after the kill: every acknowledged message, whole.
    let spool = read_spool(&dir);
    let by_id: BTreeMap<&str, &support::Queued> =
        spool.iter().map(|q| (q.id.as_str(), q)).collect();
    let mut missing = Vec::new();
    for (id, a) in &acked {
        let Some(q) = by_id.get(id.as_str()) else {
            missing.push(format!("{id} ({})", a.marker));
            continue;
        };
        // The .eml is umsgate's Received: header followed by exactly what was sent.
        assert!(
            q.eml.ends_with(&a.message),
            "{id}: the stored message is not the one sent ({} bytes stored, {} sent)",
            q.eml.len(),
            a.message.len()
        );
        let head = String::from_utf8_lossy(&q.eml[..q.eml.len() - a.message.len()]).into_owned();
        assert!(
            head.starts_with("Received: from durability.test ([127.0.0.1])")
                && head.contains(&format!(" id {id}"))
                && head.ends_with("\r\n")
                && head.matches("Received:").count() == 1,
            "{id}: unexpected text before the message: {head:?}"
        );
        let s = q.sidecar();
        assert_eq!(s["v"], 1, "{id}: {s}");
        assert_eq!(s["id"], id.as_str(), "{id}: {s}");
        assert_eq!(s["size"], q.eml.len() as u64, "{id}: size: {s}");
        assert_eq!(s["mail_from"], FROM, "{id}: {s}");
        assert_eq!(s["origin"], "smtp", "{id}: {s}");
        assert_eq!(
            s["rcpts"],
            serde_json::json!([{ "address": a.rcpt, "key": 0 }]),
            "{id}: {s}"
        );
        assert_eq!(
            s["message_id"],
            format!("<{}@umsgate.test>", a.marker),
            "{id}: {s}"
        );
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages are not in {} after SIGKILL: {missing:?}",
        missing.len(),
        acked.len(),
        dir.display()
    );

    // Nothing else: every published message is one that was sent (acknowledged or in flight,
    // whole), each once; no torn leftovers.
    let mut seen = BTreeSet::new();
    for q in &spool {
        let marker = marker_of(&q.eml)
            .unwrap_or_else(|| panic!("{}: no body marker in {:?}", q.id, q.headers()));
        let message = sent
            .get(&marker)
            .unwrap_or_else(|| panic!("{}: {marker} was never sent", q.id));
        assert!(
            q.eml.ends_with(message),
            "{}: {marker} is not stored whole",
            q.id
        );
        assert!(seen.insert(marker.clone()), "{marker} is queued twice");
        assert_eq!(
            q.sidecar()["size"],
            q.eml.len() as u64,
            "{}: sidecar size",
            q.id
        );
    }
    let unacked = spool.len() - acked.len();
    assert!(
        unacked <= SESSIONS,
        "{unacked} unacknowledged messages queued; at most one per session can be in flight"
    );

    // Restart on the same state; recovery runs before the listener binds. It must keep
    // every complete message as it is and only clear what was never published.
    let mut d = Daemon::run(&work, addr);
    d.wait_ready();
    let after = read_spool(&dir);
    let before: Vec<(&str, &[u8])> = spool.iter().map(|q| (q.id.as_str(), &q.eml[..])).collect();
    let now: Vec<(&str, &[u8])> = after.iter().map(|q| (q.id.as_str(), &q.eml[..])).collect();
    assert!(
        before == now,
        "recovery changed smtp-in/: {} messages before the restart, {} after",
        before.len(),
        now.len()
    );
    let tmp = support::files_below(&dir.join(".tmp"));
    assert!(tmp.is_empty(), ".tmp/ not cleaned at restart: {tmp:?}");
    let corrupt = names(&dir.join("corrupt"));
    assert!(
        corrupt.is_empty(),
        "torn messages after SIGKILL: {corrupt:?}"
    );
    let stray: Vec<String> = names(&dir)
        .into_iter()
        .filter(|n| {
            !(n == ".tmp"
                || n == ".intake"
                || n == "error"
                || n.strip_suffix(".eml")
                    .or_else(|| n.strip_suffix(".json"))
                    .is_some_and(|id| by_id.contains_key(id)))
        })
        .collect();
    assert!(stray.is_empty(), "stray files in smtp-in/: {stray:?}");

    // The administrator sees them.
    let out = work.umsgate(&["queue", "list", "--json", "--state", "incoming"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let listed: BTreeMap<String, serde_json::Value> = listed
        .into_iter()
        .map(|v| (v["id"].as_str().unwrap().to_owned(), v))
        .collect();
    for (id, a) in &acked {
        let item = listed
            .get(id)
            .unwrap_or_else(|| panic!("queue list does not show {id}"));
        assert_eq!(item["state"], "incoming", "{item}");
        assert_eq!(item["to"], serde_json::json!([a.rcpt]), "{item}");
        assert_eq!(item["size"], by_id[id.as_str()].eml.len() as u64, "{item}");
    }
    assert_eq!(listed.len(), spool.len(), "queue list and smtp-in/ differ");

    // The restarted process takes mail again.
    let (mut c, _) = Smtp::connect(addr).unwrap();
    c.ehlo("durability.test").unwrap();
    let marker = format!("{run}-after");
    let r = c
        .send(
            FROM,
            &["+4930123456@fax.example.com"],
            &support::message(FROM, "+4930123456@fax.example.com", &marker),
        )
        .unwrap()
        .unwrap_or_else(|r| panic!("refused after restart: {r:?}"));
    c.quit();
    let id = r.queue_id().unwrap();
    assert!(dir.join(format!("{id}.eml")).exists());
    assert!(
        !acked.contains_key(&id),
        "queue id {id} reused after restart"
    );
    assert!(d.sigterm().success(), "{}", d.output());
}

#[test]
fn sigkill_mid_stream_loses_no_acknowledged_message() {
    sigkill_mid_stream("sigkill", Intake::Files, Daemon::run);
}

#[test]
fn sigkill_mid_stream_through_the_intake_log_loses_no_acknowledged_message() {
    sigkill_mid_stream("sigkill-log", Intake::Log, Daemon::run);
}

/// The same with the open-files limit lifted to the hard limit (`ulimit -n`), so that the
/// result does not depend on the limit the test runner happens to inherit.
#[test]
fn sigkill_mid_stream_loses_no_acknowledged_message_without_fd_limit() {
    sigkill_mid_stream("sigkill-nofile", Intake::Files, |work, addr| {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(r#"ulimit -n "$(ulimit -H -n)" && exec "$0" "$@""#)
            .arg(support::bin())
            .arg("--config")
            .arg(work.config_path())
            .arg("run");
        Daemon::spawn(cmd, &work.dir, addr)
    });
}

/// Graceful stop (DESIGN.md §2 `run`: stop accepting, finish sessions, keep the spool): a
/// message whose DATA is under way when SIGTERM arrives is still taken (250, durable), an
/// idle session is told 421, and the process exits 0.
#[test]
fn sigterm_during_data_finishes_the_message_and_exits_0() {
    let work = Work::new("sigterm-data");
    let addr = free_addr();
    work.write_config(&config_text(addr, ""));
    let mut d = Daemon::run(&work, addr);
    d.wait_ready();

    let (mut idle, _) = Smtp::connect(addr).unwrap();
    idle.ehlo("idle.test").unwrap();
    let (mut c, _) = Smtp::connect(addr).unwrap();
    c.ehlo("busy.test").unwrap();
    let rcpt = "+4930123456@fax.example.com";
    assert_eq!(c.command(&format!("MAIL FROM:<{FROM}>")).unwrap().code, 250);
    assert_eq!(c.command(&format!("RCPT TO:<{rcpt}>")).unwrap().code, 250);
    assert_eq!(c.command("DATA").unwrap().code, 354);
    let marker = format!("graceful-{}", support::nonce());
    let message = support::message(FROM, rcpt, &marker);
    let stuffed = support::dot_stuff(&message);
    let (first, rest) = stuffed.split_at(stuffed.len() / 2);
    c.write_raw(first).unwrap();

    Command::new("kill")
        .arg("-TERM")
        .arg(d.pid().to_string())
        .status()
        .unwrap();
    // Shutdown has begun once the listener no longer accepts.
    let end = Instant::now() + DEADLINE;
    while std::net::TcpStream::connect(addr).is_ok() {
        assert!(
            Instant::now() < end,
            "still accepting after SIGTERM\n{}",
            d.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = idle.read_reply().unwrap();
    assert_eq!(r.code, 421, "idle session: {r:?}");

    c.write_raw(rest).unwrap();
    let r = c.read_reply().unwrap();
    assert_eq!(r.code, 250, "message under way at SIGTERM: {r:?}");
    let id = r.queue_id().unwrap();
    let st = d.wait_exit();
    assert_eq!(
        st.code(),
        Some(0),
        "exit after SIGTERM: {st}\n{}",
        d.output()
    );
    let q = read_spool(&work.smtp_in())
        .into_iter()
        .find(|q| q.id == id)
        .unwrap_or_else(|| panic!("{id} not in smtp-in/ after the graceful stop"));
    assert!(q.eml.ends_with(&message));
    assert_eq!(q.sidecar()["size"], q.eml.len() as u64);
}

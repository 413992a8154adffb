//! Inbound durability from outside: received messages become mails, and SIGKILL while they are
//! being delivered loses none of them (at-least-once: a duplicate is allowed, a loss is not).
//!
//! 300 received SMS are written into `received/` (the engine's hand-over format), umsgate
//! delivers them into Maildirs, and is SIGKILLed once some have arrived; after a restart on
//! the same state every message must have arrived at least once, and `received/` and
//! `smtp-out/` must be empty.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{DEADLINE, Daemon, TestConfig, Work, free_addr};
use umsgate::gateway::received::{self, ReceivedMessage};
use umsgate_domain::Service;

const MESSAGES: usize = 300;

fn config(listen: std::net::SocketAddr) -> String {
    TestConfig::new(listen)
        .site()
        .id("d")
        .no_hostname()
        .no_gateway()
        .render()
}

/// The markers of every message found in a Maildir, with how often each was seen.
fn delivered(maildir: &Path) -> (BTreeSet<usize>, usize) {
    let mut seen = BTreeSet::new();
    let mut files = 0;
    let Ok(entries) = std::fs::read_dir(maildir) else {
        return (seen, 0);
    };
    for e in entries.flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        files += 1;
        if let Some(n) = text
            .split("durability-msg-")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            && let Ok(n) = n.parse()
        {
            seen.insert(n);
        }
    }
    (seen, files)
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn sigkill_while_delivering_loses_no_received_message() {
    let work = Work::new("delivery-kill");
    let listen = free_addr();
    std::fs::write(work.dir.join("umsgate.toml"), config(listen)).unwrap();
    std::fs::write(
        work.dir.join("users.toml"),
        "[[user]]\nmail = \"jane@example.com\"\nnumbers = [\"+49 8142 4799123\"]\n",
    )
    .unwrap();
    let received_dir = work.dir.join("state/d/received");
    std::fs::create_dir_all(&received_dir).unwrap();
    for i in 0..MESSAGES {
        let msg = ReceivedMessage {
            service: Service::Sms,
            calling: "+4915112345678".into(),
            called: "+49 8142 4799123".into(),
            received_at: "2026-11-26T10:15:00Z".into(),
            pages: None,
            csid: None,
            files: vec![],
            text: Some(format!("durability-msg-{i} end")),
            duration_s: None,
        };
        received::write(&received_dir, &msg, &[]).unwrap();
    }
    let maildir = work.dir.join("maildir/jane@example.com/new");

    let mut d = Daemon::run(&work, listen);
    d.wait_ready();
    let end = Instant::now() + DEADLINE;
    while delivered(&maildir).1 < 30 {
        assert!(
            Instant::now() < end,
            "nothing delivered before the kill\n{}",
            d.output()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    d.sigkill();
    let (before, _) = delivered(&maildir);
    assert!(
        before.len() < MESSAGES,
        "everything was delivered before the kill; the test proves nothing"
    );

    let mut d = Daemon::run(&work, listen);
    d.wait_ready();
    let end = Instant::now() + DEADLINE;
    loop {
        let (seen, _) = delivered(&maildir);
        let pending = count_files(&work.dir.join("state/d/smtp-out"))
            + std::fs::read_dir(&received_dir)
                .map(|r| r.flatten().filter(|e| e.file_name() != "error").count())
                .unwrap_or(0);
        if seen.len() == MESSAGES && pending == 0 {
            break;
        }
        assert!(
            Instant::now() < end,
            "{} of {MESSAGES} messages delivered, {pending} still pending after the restart\n{}",
            seen.len(),
            d.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (seen, files) = delivered(&maildir);
    assert_eq!(seen, (0..MESSAGES).collect::<BTreeSet<_>>());
    println!(
        "{MESSAGES} received, {files} mails delivered ({} duplicates after SIGKILL)",
        files - MESSAGES
    );
    assert_eq!(count_files(&work.dir.join("state/d/smtp-out/badmail")), 0);
    // A message cut off while it was being removed is not mistaken for a broken one.
    let set_aside = std::fs::read_dir(received_dir.join("error"))
        .map(|r| r.count())
        .unwrap_or(0);
    assert_eq!(set_aside, 0, "messages set aside in received/error/");
    d.sigterm();
}

//! `umsgate demo` as a first-time user runs it: it writes the demo folder, listens, takes a
//! fax job from the real `swaks` (the command the demo itself prints), hands it to the
//! simulated engine, mails the delivery report into the demo's Maildir, and stops cleanly
//! (exit 0) on SIGTERM. `send-test` through the running demo ends in its Maildir. A second
//! run reuses the folder.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use support::{Daemon, Work, describe, free_addr};

fn start_demo(work: &Work, demo_dir: &Path, listen: SocketAddr) -> Daemon {
    let mut cmd = Command::new(support::bin());
    cmd.arg("demo")
        .arg("--dir")
        .arg(demo_dir)
        .arg("--listen")
        .arg(listen.to_string())
        .arg("--web-listen")
        .arg(free_addr().to_string());
    let mut d = Daemon::spawn(cmd, &work.dir, listen);
    d.wait_ready();
    // The banner comes after the listener is bound; wait for it rather than race it.
    d.wait_stdout("umsgate demo is running");
    d
}

fn swaks(listen: SocketAddr, to: &str, marker: &str) -> std::process::Output {
    let out = Command::new("swaks")
        .env("POSIXLY_CORRECT", "1")
        .args(["--server", &listen.to_string()])
        .args(["--from", "jane@example.com"])
        .args(["--to", to])
        .args(["--header", &format!("Subject: demo {marker}")])
        .args(["--body", &format!("demo body {marker}")])
        .output();
    match out {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "swaks is not installed (apt-get install swaks; .ci/run installs it): this test needs the real tool"
        ),
        Err(e) => panic!("cannot run swaks: {e}"),
    }
}

#[test]
fn demo_accepts_a_fax_job_from_swaks_and_stops_cleanly_on_sigterm() {
    let work = Work::new("demo");
    let listen = free_addr();
    // Relative --dir, resolved against the working folder like a user's `umsgate demo`.
    let demo = work.dir.join("umsgate-demo");
    let mut d = start_demo(&work, Path::new("umsgate-demo"), listen);
    assert!(
        demo.join("umsgate.toml").is_file() && demo.join("users.toml").is_file(),
        "demo folder not written: {:?}",
        support::names(&demo)
    );
    let banner = d.stdout();
    assert!(
        banner.contains("wrote a new demo into umsgate-demo/")
            && banner.contains(&format!("SMTP on {listen}")),
        "{}",
        d.output()
    );

    let marker = format!("demo-{}", support::nonce());
    let out = swaks(listen, "+4930123456@fax.example.com", &marker);
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "swaks failed: {}",
        describe(&out)
    );
    let queued = transcript
        .lines()
        .find(|l| l.starts_with("<-  250 2.0.0 Ok: queued as "))
        .unwrap_or_else(|| panic!("no 250 for the message in swaks' transcript:\n{transcript}"));
    let id = queued.rsplit(' ').next().unwrap().to_owned();

    // The job reaches the simulated engine with the sender's settings (users.toml of the
    // demo: jane has the headline "Example Corp").
    let sent = demo.join("state/demo/gateway/sim/sent.jsonl");
    let job_id = format!("{id}-0");
    let line = support::wait_for(&format!("job {job_id} in {}", sent.display()), || {
        std::fs::read_to_string(&sent)
            .ok()?
            .lines()
            .find(|l| l.contains(&format!("\"job_id\":\"{job_id}\"")))
            .map(str::to_owned)
    });
    let job: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(job["service"], "fax", "{job}");
    assert_eq!(job["e164"], "+4930123456", "{job}");
    assert_eq!(job["sender"], "jane@example.com", "{job}");
    assert_eq!(job["priority"], "normal", "{job}");
    assert_eq!(job["pages"], 1, "{job}");
    assert_eq!(job["headline"], "Example Corp", "{job}");
    assert_eq!(job["subject"], format!("demo {marker}"), "{job}");
    // The rendered fax, where the banner says it is, with the pages the job says.
    assert!(banner.contains("gateway/sim/docs/<job-id>.pdf"), "{banner}");
    let doc = demo.join(format!("state/demo/gateway/sim/docs/{job_id}.pdf"));
    let doc = std::fs::read(&doc).unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
    assert_eq!(
        serde_json::Value::from(umsgate_fax::page_count(&doc).unwrap()),
        job["pages"],
        "{job}"
    );

    // The delivery report, in jane's language (German), lands in her Maildir.
    let inbox = demo.join("maildir/jane@example.com/new");
    let report = support::wait_for("the delivery report in jane's Maildir", || {
        std::fs::read_dir(&inbox).ok()?.flatten().find_map(|e| {
            let t = std::fs::read_to_string(e.path()).ok()?;
            (t.contains("gesendet") && t.contains(&job_id)).then_some(t)
        })
    });
    assert!(report.contains("From: <ums@example.com>"), "{report}");

    // `send-test` through the running demo ends as a mail in the demo's Maildir.
    let out = support::run_cli(
        &[
            "--config",
            demo.join("umsgate.toml").to_str().unwrap(),
            "send-test",
            "--instance",
            "demo",
            "--type",
            "sms",
            "--calling",
            "+4915112345678",
            "--called",
            "+49 8142 4799123",
            "--text",
            &format!("demo sms {marker}"),
        ],
        None,
        &work.dir,
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let sms = support::wait_for("the send-test SMS in jane's Maildir", || {
        std::fs::read_dir(&inbox).ok()?.flatten().find_map(|e| {
            let t = std::fs::read_to_string(e.path()).ok()?;
            t.contains(&format!("demo sms {marker}")).then_some(t)
        })
    });
    assert!(
        sms.contains("From: <+4915112345678@sms.example.com>"),
        "{sms}"
    );

    // A non-fax address is refused at RCPT, as the banner says.
    let out = swaks(listen, "jane@example.com", &marker);
    assert_ne!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("<** 550 5.1.1 <jane@example.com>"),
        "{}",
        describe(&out)
    );

    let st = d.sigterm();
    assert_eq!(
        st.code(),
        Some(0),
        "demo did not exit 0 on SIGTERM: {st}\n{}",
        d.output()
    );

    // Again: the folder is reused and the mail is still queued.
    let mut d = start_demo(&work, Path::new("umsgate-demo"), listen);
    assert!(
        d.stdout()
            .contains("using the existing demo in umsgate-demo/"),
        "{}",
        d.output()
    );
    let st = d.sigterm();
    assert_eq!(st.code(), Some(0), "second run: {st}\n{}", d.output());
}

//! The spool engine interface (`docs/gateway-spool.md`) from outside, playing the engine: a
//! fax job appears complete in `outbox/<job-id>/`, a report written to `reports/` becomes the
//! sender's delivery report, and a message published in `inbox/` reaches its owner's mailbox.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use support::{Daemon, Smtp, TestConfig, Work, free_addr};

fn config(listen: std::net::SocketAddr) -> String {
    TestConfig::new(listen)
        .site()
        .id("s")
        .no_hostname()
        .gateway("kind = \"spool\"")
        .render()
}

/// The first mail in a Maildir whose text contains `needle`.
fn mail_with(dir: &Path, needle: &str) -> Option<String> {
    std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
        let t = std::fs::read_to_string(e.path()).ok()?;
        t.contains(needle).then_some(t)
    })
}

#[test]
fn the_engine_side_of_the_spool_interface() {
    let work = Work::new("spool-gateway");
    let listen = free_addr();
    std::fs::write(work.dir.join("umsgate.toml"), config(listen)).unwrap();
    std::fs::write(
        work.dir.join("users.toml"),
        "[[user]]\nmail = \"jane@example.com\"\nnumbers = [\"+49 8142 4799123\"]\nums = \"ums1;report.lang=en\"\n",
    )
    .unwrap();
    let mut d = Daemon::run(&work, listen);
    d.wait_ready();
    let gw = work.dir.join("state/s/gateway");

    // A fax job: complete in outbox/, with job.json and its documents.
    let (mut c, _) = Smtp::connect(listen).unwrap();
    c.ehlo("test").unwrap();
    let msg = b"From: <jane@example.com>\r\nTo: <+4930123456@fax.example.com>\r\nSubject: Offer\r\nMessage-ID: <spool-1@example.com>\r\n\r\nPlease find our offer.\r\n";
    let id = c
        .send("jane@example.com", &["+4930123456@fax.example.com"], msg)
        .unwrap()
        .unwrap()
        .queue_id()
        .unwrap();
    c.quit();
    let job_dir = gw.join("outbox").join(format!("{id}-0"));
    let job: serde_json::Value = support::wait_for("the job in outbox/", || {
        serde_json::from_slice(&std::fs::read(job_dir.join("job.json")).ok()?).ok()
    });
    assert_eq!(job["e164"], "+4930123456", "{job}");
    assert_eq!(job["sender"], "jane@example.com", "{job}");
    for f in job["attachments"].as_array().unwrap() {
        assert!(
            job_dir.join(f.as_str().unwrap()).is_file(),
            "{f} missing in {}",
            job_dir.display()
        );
    }

    // The engine reports: the sender gets the delivery report.
    let report = format!(
        r#"{{"job_id":"{id}-0","status":"sent","pages":1,"duration_s":42,"attempts":1,"remote_id":"+49 30 123456","reason":null,"finished_at":"2026-11-26T10:15:00Z"}}"#
    );
    std::fs::write(gw.join("reports/.r.tmp"), report).unwrap();
    std::fs::rename(
        gw.join("reports/.r.tmp"),
        gw.join(format!("reports/{id}-0.json")),
    )
    .unwrap();
    let jane = work.dir.join("maildir/jane@example.com/new");
    let mail = support::wait_for("the delivery report", || {
        mail_with(&jane, "<spool-1@example.com>")
    });
    assert!(mail.contains("From: <ums@example.com>"), "{mail}");
    support::wait_for("the report file taken", || {
        (!gw.join(format!("reports/{id}-0.json")).exists()).then_some(())
    });

    // A received SMS published in inbox/ reaches jane.
    let tmp = gw.join("inbox/.m1.tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(
        tmp.join("message.json"),
        r#"{"service":"sms","calling":"+4915112345678","called":"+49 8142 4799123","received_at":"2026-11-26T10:15:00Z","pages":null,"csid":null,"files":[],"text":"spool inbox hello","duration_s":null}"#,
    )
    .unwrap();
    std::fs::rename(&tmp, gw.join("inbox/m1")).unwrap();
    let sms = support::wait_for("the received SMS in jane's Maildir", || {
        mail_with(&jane, "spool inbox hello")
    });
    assert!(
        sms.contains("From: <+4915112345678@sms.example.com>"),
        "{sms}"
    );
    assert!(
        !gw.join("inbox/m1").exists(),
        "the inbox message was not taken"
    );
    d.sigterm();
}

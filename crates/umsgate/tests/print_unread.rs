//! Print unread end to end, black box, against a real CUPS: the project's private cupsd
//! (`scripts/cups/start.sh`, started by `.ci/run`), where each test adds queues of its own
//! whose device is a file (`scripts/cups/queue.sh`), so a printed fax is a PDF on disk whose
//! pages `pdfinfo` counts. umsgate runs as the real binary with Maildir delivery; faxes come
//! in through `umsgate send-test`, receipts through its SMTP listener.
//!
//! Every test needs `UMSGATE_TEST_PEERS=1` and `CUPS_STATE_DIR` and fails without them.
//! Waits end at the harness deadline; no test asserts how long anything takes. That a fax is
//! *not* printed is shown without waiting on the clock: a later fax to the same printer is,
//! and the print log never names the first.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{
    Daemon, INSTANCE, Smtp, TestConfig, Work, describe, free_addr, nonce, pdf_pages, peer_env,
};

const JANE: &str = "+49 8142 4799123";

/// A queue of the private cupsd whose device is `out`.
struct Queue {
    name: String,
    uri: String,
    out: PathBuf,
}

fn cups_state() -> PathBuf {
    PathBuf::from(peer_env("CUPS_STATE_DIR"))
}

fn cups_server() -> String {
    peer_env("CUPS_SERVER")
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/cups")
        .join(name)
}

fn queue(tag: &str) -> Queue {
    let name: String = format!("t-{tag}-{}", nonce())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let state = cups_state();
    let out = Command::new("bash")
        .arg(script("queue.sh"))
        .arg(&state)
        .arg(&name)
        .output()
        .unwrap();
    assert!(out.status.success(), "queue.sh {name}: {}", describe(&out));
    let uri = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    Queue {
        out: state.join("out").join(format!("{name}.pdf")),
        name,
        uri,
    }
}

/// `cupsdisable`, `cupsenable`, `cupsreject` or `cupsaccept` on a queue.
fn cups(tool: &str, q: &Queue) {
    let out = Command::new(tool)
        .args(["-h", &cups_server(), &q.name])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{tool} {}: {}",
        q.name,
        describe(&out)
    );
}

fn sample(name: &str) -> String {
    let dir = std::env::var("UMSGATE_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata"));
    dir.join("samples").join(name).to_str().unwrap().to_owned()
}

/// A running umsgate with print-unread `rules` (TOML of `[[instance.print_unread]]` tables).
struct Gate {
    work: Work,
    daemon: Daemon,
    listen: SocketAddr,
}

fn config(listen: SocketAddr, rules: &str, retry: &str) -> String {
    TestConfig::new(listen)
        .title("umsgate print-unread test")
        .site()
        .mail(&format!("retry = {retry}"))
        .tail(&format!("\n{rules}"))
        .render()
}

fn rule(name: &str, numbers: &str, queue_time: &str, printer: &str) -> String {
    format!(
        "[[instance.print_unread]]\nname = \"{name}\"\nnumbers = {numbers}\nqueue_time = \"{queue_time}\"\nprinter = \"{printer}\"\n"
    )
}

impl Gate {
    fn start(name: &str, rules: &str, retry: &str) -> Gate {
        let work = Work::new(name);
        let listen = free_addr();
        work.write_config(&config(listen, rules, retry));
        let mut daemon = Daemon::run(&work, listen);
        daemon.wait_ready();
        Gate {
            work,
            daemon,
            listen,
        }
    }

    fn restart(&mut self) {
        let st = self.daemon.sigterm();
        assert!(
            st.success(),
            "umsgate stopped with {st}\n{}",
            self.daemon.output()
        );
        self.daemon = Daemon::run(&self.work, self.listen);
        self.daemon.wait_ready();
    }

    fn fax(&self, calling: &str, called: &str, file: &str) {
        let f = sample(file);
        let out = self.work.umsgate(&[
            "send-test",
            "--instance",
            INSTANCE,
            "--type",
            "fax",
            "--calling",
            calling,
            "--called",
            called,
            "--file",
            &f,
        ]);
        assert!(out.status.success(), "send-test: {}", describe(&out));
    }

    fn print_log(&self) -> String {
        std::fs::read_to_string(self.work.log("print")).unwrap_or_default()
    }

    /// Waits for a `print.log` line with every one of `needles`; returns it.
    fn wait_log(&self, needles: &[&str]) -> String {
        support::wait_for(&format!("print.log line with {needles:?}"), || {
            self.print_log()
                .lines()
                .find(|l| needles.iter().all(|n| l.contains(n)))
                .map(str::to_owned)
        })
    }

    /// The fax id print-unread gave the fax from `calling` (its `match` line).
    fn fax_id(&self, calling: &str) -> String {
        let line = self.wait_log(&["match fax=", &format!("calling={calling} ")]);
        field(&line, "fax=")
    }

    /// Waits until the fax is printed (its job completed) and returns the job id.
    fn wait_printed(&self, fax: &str) -> String {
        let line = self.wait_log(&[&format!("printed fax={fax} ")]);
        field(&line, "job-id=")
    }

    /// The mails in `maildir/<to>/new/`.
    fn mails(&self, to: &str) -> Vec<Vec<u8>> {
        let dir = self.work.dir.join("maildir").join(to).join("new");
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|e| std::fs::read(e.path()).unwrap())
            .collect()
    }

    /// Waits for a mail to `to` that contains `needle`.
    fn wait_mail(&self, to: &str, needle: &str) -> String {
        support::wait_for(&format!("a mail to {to} with {needle:?}"), || {
            self.mails(to)
                .into_iter()
                .map(|m| String::from_utf8_lossy(&m).into_owned())
                .find(|m| m.contains(needle))
        })
    }

    /// Sends `message` to umsgate's own address over SMTP.
    fn send_to_umsgate(&self, message: &[u8]) {
        let (mut c, _) = Smtp::connect(self.listen).unwrap();
        c.ehlo("client.example.com").unwrap();
        let r = c
            .send("jane@example.com", &["ums@example.com"], message)
            .unwrap();
        assert!(r.is_ok(), "receipt refused: {r:?}");
        c.quit();
    }
}

fn field(line: &str, name: &str) -> String {
    line.split(name)
        .nth(1)
        .and_then(|v| v.split(' ').next())
        .unwrap()
        .to_owned()
}

/// The header value of `name` in a mail.
fn header(mail: &str, name: &str) -> Option<String> {
    let head = mail.split("\r\n\r\n").next()?;
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::to_owned)
}

fn mdn(original: &str, disposition: &str) -> Vec<u8> {
    format!(
        "From: Jane Doe <jane@example.com>\r\nTo: ums@example.com\r\nSubject: Read: Fax\r\n\
         Message-ID: <mdn-{}@example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=disposition-notification; boundary=\"m\"\r\n\r\n\
         --m\r\nContent-Type: text/plain\r\n\r\nThe fax was {disposition}.\r\n\
         --m\r\nContent-Type: message/disposition-notification\r\n\r\n\
         Reporting-UA: client.example.com; test\r\nFinal-Recipient: rfc822;jane@example.com\r\n\
         Original-Message-ID: {original}\r\n\
         Disposition: manual-action/MDN-sent-manually; {disposition}\r\n\r\n--m--\r\n",
        nonce()
    )
    .into_bytes()
}

#[test]
fn an_unread_fax_is_printed_after_its_queue_time_with_all_its_pages() {
    let q = queue("unread");
    let gate = Gate::start(
        "print-unread",
        &rule("Reception", &format!("[\"{JANE}\"]"), "3s", &q.uri),
        "[\"1s\"]",
    );
    gate.fax("+49 30 1234567", JANE, "fax_3p_g4.tif");
    let fax = gate.fax_id("+49 30 1234567");

    // Jane's mail asks for a read receipt to umsgate's own address.
    let mail = gate.wait_mail("jane@example.com", "Disposition-Notification-To");
    assert_eq!(
        header(&mail, "Disposition-Notification-To").as_deref(),
        Some("<ums@example.com>"),
        "{mail}"
    );
    let message_id = header(&mail, "Message-ID").unwrap();
    gate.wait_log(&[
        "receipt-requested",
        &format!("fax={fax} "),
        &format!("message-id={message_id}"),
    ]);

    let job = gate.wait_printed(&fax);
    assert_eq!(pdf_pages(&q.out), 3, "every page of the fax is printed");
    let submitted = gate.wait_log(&["submitted", &format!("fax={fax} ")]);
    assert!(submitted.contains(&format!("job-id={job} ")), "{submitted}");
    assert!(
        submitted.contains("job-name=\"Fax +49 30 1234567 "),
        "the job name carries the calling number and the time: {submitted}"
    );
    // The PDF kept for printing is gone once printed, and nothing is pending any more.
    let kept = gate
        .work
        .dir
        .join("state")
        .join(INSTANCE)
        .join("print")
        .join(format!("{fax}.pdf"));
    assert!(!kept.exists(), "{} still there", kept.display());
    let out = gate.work.umsgate(&["queue", "list", "--state", "print"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no pending prints"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_receipt_in_time_means_no_print_and_other_dispositions_do_not_count() {
    let q = queue("mdn");
    let gate = Gate::start(
        "print-mdn",
        &rule("All", "[\"*\"]", "8s", &q.uri),
        "[\"1s\"]",
    );
    gate.fax("+49 30 1111111", JANE, "fax_1p_g3_1d.tif");
    let read = gate.fax_id("+49 30 1111111");
    let mail = gate.wait_mail("jane@example.com", "+49 30 1111111");
    let message_id = header(&mail, "Message-ID").unwrap();

    // Pending, with its deadline.
    let out = gate
        .work
        .umsgate(&["queue", "list", "--state", "print", "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let item = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["fax"] == read.as_str())
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(item["state"], "waiting");
    assert!(
        item["deadline_at"].as_str().unwrap().ends_with('Z'),
        "{item}"
    );

    // "deleted" does not count as read; "displayed" does.
    gate.send_to_umsgate(&mdn(&message_id, "deleted"));
    gate.wait_log(&["receipt", "disposition=deleted", "effect=none"]);
    gate.send_to_umsgate(&mdn(&message_id, "displayed"));
    gate.wait_log(&["receipt", &format!("fax={read} "), "effect=cleared"]);

    // A later fax to the same printer is printed; the one read never is.
    gate.fax("+49 30 2222222", JANE, "fax_3p_g4.tif");
    let unread = gate.fax_id("+49 30 2222222");
    gate.wait_printed(&unread);
    assert_eq!(pdf_pages(&q.out), 3);
    let log = gate.print_log();
    assert!(
        !log.lines()
            .any(|l| l.contains("submitted") && l.contains(&format!("fax={read} "))),
        "the fax that was read was sent to the printer:\n{log}"
    );
    // The receipt is no outbound job and is not kept as mail for the administrator.
    let error_dir = gate
        .work
        .dir
        .join("state")
        .join(INSTANCE)
        .join("smtp-in")
        .join("error");
    let kept = std::fs::read_dir(&error_dir)
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(kept, 0, "receipts kept in {}", error_dir.display());
}

#[test]
fn rules_are_tried_top_down_and_the_star_rule_catches_the_rest() {
    let (exact, range, rest) = (queue("exact"), queue("range"), queue("rest"));
    let rules = [
        rule("Jane", &format!("[\"{JANE}\"]"), "1s", &exact.uri),
        rule(
            "Range",
            "[\"+49 8142 4799100-+49 8142 4799199\"]",
            "1s",
            &range.uri,
        ),
        rule("Rest", "[\"*\"]", "1s", &rest.uri),
    ]
    .join("\n");
    let gate = Gate::start("print-rules", &rules, "[\"1s\"]");
    // Jane's number is in the range too: the first rule that matches wins.
    gate.fax("+49 30 3000001", JANE, "fax_3p_g4.tif");
    gate.fax("+49 30 3000002", "+49 8142 4799150", "fax_1p_g3_1d.tif");
    gate.fax("+49 30 3000003", "+49 40 5551234", "fax_3p_g3_2d.tif");
    for (calling, rule_name, q, pages) in [
        ("+49 30 3000001", "Jane", &exact, 3),
        ("+49 30 3000002", "Range", &range, 1),
        ("+49 30 3000003", "Rest", &rest, 3),
    ] {
        let fax = gate.fax_id(calling);
        let matched = gate.wait_log(&["match", &format!("fax={fax} ")]);
        assert!(
            matched.contains(&format!("rule=\"{rule_name}\"")),
            "{matched}"
        );
        gate.wait_printed(&fax);
        let submitted = gate.wait_log(&["submitted", &format!("fax={fax} ")]);
        assert!(
            submitted.contains(&format!("printer={} ", q.uri)),
            "{submitted}"
        );
        assert_eq!(pdf_pages(&q.out), pages, "{}", q.name);
    }
}

#[test]
fn a_restart_between_the_receipt_request_and_the_deadline_still_prints() {
    let q = queue("restart");
    let mut gate = Gate::start(
        "print-restart",
        &rule("Reception", "[\"*\"]", "6s", &q.uri),
        "[\"1s\"]",
    );
    gate.fax("+49 30 4444444", JANE, "fax_3p_g4.tif");
    let fax = gate.fax_id("+49 30 4444444");
    gate.wait_log(&["receipt-requested", &format!("fax={fax} ")]);
    let printed_before = gate.print_log().contains(&format!("printed fax={fax} "));
    assert!(!printed_before, "printed before its deadline");
    gate.restart();
    gate.wait_printed(&fax);
    assert_eq!(pdf_pages(&q.out), 3);
    let submissions = gate
        .print_log()
        .lines()
        .filter(|l| l.contains("submitted") && l.contains(&format!("fax={fax} ")))
        .count();
    assert_eq!(submissions, 1, "printed once:\n{}", gate.print_log());
}

#[test]
fn a_stopped_printer_prints_late_but_prints() {
    let q = queue("stopped");
    cups("cupsreject", &q);
    cups("cupsdisable", &q);
    let gate = Gate::start(
        "print-stopped",
        &rule("Reception", "[\"*\"]", "1s", &q.uri),
        "[\"2s\", \"2s\", \"5s\", \"10s\", \"30s\"]",
    );
    gate.fax("+49 30 5555555", JANE, "fax_3p_g4.tif");
    let fax = gate.fax_id("+49 30 5555555");
    // Refused while the queue rejects jobs: tried again on the schedule.
    gate.wait_log(&["deferred", &format!("fax={fax} "), "attempt=1"]);
    // Accepting but stopped: the printer holds the job, umsgate follows it.
    cups("cupsaccept", &q);
    gate.wait_log(&["submitted", &format!("fax={fax} ")]);
    assert!(
        !gate.print_log().contains(&format!("printed fax={fax} ")),
        "printed on a stopped printer"
    );
    cups("cupsenable", &q);
    gate.wait_printed(&fax);
    assert_eq!(pdf_pages(&q.out), 3);
}

#[test]
fn a_printer_that_stays_away_is_reported_to_the_default_recipient_with_the_fax() {
    let missing = format!(
        "ipp://{}/printers/no-such-queue-{}",
        cups_server(),
        std::process::id()
    );
    let gate = Gate::start(
        "print-report",
        &rule("Reception", "[\"*\"]", "1s", &missing),
        "[\"1s\"]",
    );
    gate.fax("+49 30 6666666", JANE, "fax_1p_g3_1d.tif");
    let fax = gate.fax_id("+49 30 6666666");
    gate.wait_log(&["deferred", &format!("fax={fax} ")]);
    gate.wait_log(&[
        "reported",
        &format!("fax={fax} "),
        "to=<postmaster@example.com>",
    ]);
    let report = gate.wait_mail("postmaster@example.com", "could not be printed");
    let parsed = mail_parser::MessageParser::default()
        .parse(report.as_bytes())
        .unwrap();
    let pdf = parsed.attachment(0).expect("the fax is attached");
    assert!(pdf.contents().starts_with(b"%PDF"), "attachment is no PDF");
    assert!(parsed.body_text(0).unwrap().contains("+49 30 6666666"));
}

#[test]
fn check_asks_every_printer_and_fails_on_one_it_cannot_use() {
    let q = queue("check");
    let missing = format!(
        "ipp://{}/printers/no-such-queue-{}",
        cups_server(),
        std::process::id()
    );
    let work = Work::new("print-check");
    let rules = [
        rule("Here", "[\"+49 8142 4799100\"]", "1m", &q.uri),
        rule("Gone", "[\"*\"]", "1m", &missing),
    ]
    .join("\n");
    work.write_config(&config(free_addr(), &rules, "[\"1s\"]"));
    let out = work.umsgate(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        text.lines().any(|l| l.contains("rule `Here`")
            && l.contains(": ok: ")
            && l.contains("accepting jobs")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("rule `Gone`") && l.contains("FAILED")),
        "{text}"
    );
    // A queue that rejects jobs fails the check too.
    cups("cupsreject", &q);
    let out = work.umsgate(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.lines().any(|l| l.contains("rule `Here`")
            && l.contains("FAILED")
            && l.contains("not accepting")),
        "{text}"
    );
}

#[test]
fn a_reply_naming_the_mail_counts_as_read_an_absence_notice_does_not() {
    let q = queue("reply");
    let gate = Gate::start(
        "print-reply",
        &rule("All", "[\"*\"]", "8s", &q.uri),
        "[\"1s\"]",
    );
    gate.fax("+49 30 7777777", JANE, "fax_1p_g3_1d.tif");
    let read = gate.fax_id("+49 30 7777777");
    let mail = gate.wait_mail("jane@example.com", "+49 30 7777777");
    let message_id = header(&mail, "Message-ID").unwrap();

    // An absence notice is no receipt: kept for the administrator, the fax still waits.
    let absent = format!(
        "From: jane@example.com\r\nTo: ums@example.com\r\nSubject: Out of office\r\n\
         Auto-Submitted: auto-replied\r\nIn-Reply-To: {message_id}\r\n\r\nI am away.\r\n"
    );
    gate.send_to_umsgate(absent.as_bytes());
    let error_dir = gate
        .work
        .dir
        .join("state")
        .join(INSTANCE)
        .join("smtp-in")
        .join("error");
    support::wait_for("the absence notice in smtp-in/error/", || {
        support::read_spool(&error_dir)
            .into_iter()
            .find(|m| m.contains("Out of office"))
    });
    assert!(
        !gate.print_log().contains("effect=cleared"),
        "{}",
        gate.print_log()
    );

    // A person's reply that names the mail clears it.
    let reply = format!(
        "From: jane@example.com\r\nTo: ums@example.com\r\nSubject: Re: Fax\r\n\
         In-Reply-To: {message_id}\r\nReferences: {message_id}\r\n\r\nGot it.\r\n"
    );
    gate.send_to_umsgate(reply.as_bytes());
    gate.wait_log(&[
        "receipt",
        "kind=reply",
        &format!("fax={read} "),
        "effect=cleared",
    ]);

    gate.fax("+49 30 8888888", JANE, "fax_3p_g4.tif");
    let unread = gate.fax_id("+49 30 8888888");
    gate.wait_printed(&unread);
    let log = gate.print_log();
    assert!(
        !log.lines()
            .any(|l| l.contains("submitted") && l.contains(&format!("fax={read} "))),
        "the fax that was answered was sent to the printer:\n{log}"
    );
}

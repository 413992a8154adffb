//! Outbound end to end, black box: the `umsgate` binary with a file directory (`users.toml`
//! written here), the simulated engine and Maildir delivery. Mail goes in over SMTP; what
//! comes out is read where a user or engine would see it: `gateway/sim/sent.jsonl`, the
//! sender's Maildir (`maildir/<address>/new/`), `smtp-in/error/` and `log/<instance>/msgid.log`.
//!
//! Needs no test peers. Every test runs its own umsgate on a free port in its own folder.
//! Nothing here asserts how long anything takes; waits end at the harness deadline.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use mail_parser::MessageParser;
use serde_json::Value;
use support::{Daemon, INSTANCE, Smtp, TestConfig, Work, free_addr, nonce};

// ------------------------------------------------------------------------------------------
// A running umsgate

struct Gate {
    work: Work,
    daemon: Daemon,
    addr: SocketAddr,
}

/// Writes `users.toml` and `umsgate.toml` (instance [`INSTANCE`], no `hold`) and starts
/// `umsgate run`. `instance_extra` goes into `[[instance]]`, `defaults` into
/// `[instance.defaults]`.
fn start(name: &str, users: &str, instance_extra: &str, defaults: &str) -> Gate {
    let work = Work::new(name);
    let addr = free_addr();
    write_config(&work, addr, users, instance_extra, defaults, SIM);
    let mut daemon = Daemon::run(&work, addr);
    daemon.wait_ready();
    Gate { work, daemon, addr }
}

const SIM: &str = "kind = \"sim\"\ndelay = \"100ms\"";

/// Writes `users.toml` and `umsgate.toml` with `gateway` as `[instance.gateway]`.
fn write_config(
    work: &Work,
    addr: SocketAddr,
    users: &str,
    instance_extra: &str,
    defaults: &str,
    gateway: &str,
) {
    std::fs::write(work.dir.join("users.toml"), users).unwrap();
    let config = TestConfig::new(addr)
        .title("umsgate outbound end-to-end test")
        .site()
        .name("umsgate outbound e2e")
        .instance(instance_extra)
        .mail("retry = [\"1s\"]")
        .defaults(defaults)
        .gateway(gateway)
        .render();
    std::fs::write(work.config_path(), config).unwrap();
}

impl Gate {
    fn state(&self) -> PathBuf {
        self.work.dir.join("state").join(INSTANCE)
    }

    fn sent_jsonl(&self) -> PathBuf {
        self.state().join("gateway/sim/sent.jsonl")
    }

    /// Every job the simulated engine took so far.
    fn jobs(&self) -> Vec<Value> {
        std::fs::read_to_string(self.sent_jsonl())
            .unwrap_or_default()
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("sent.jsonl line is not JSON ({e}): {l}"))
            })
            .collect()
    }

    /// The jobs made of the mail queued as `qid` (job ids `<qid>-<n>`).
    fn jobs_of(&self, qid: &str) -> Vec<Value> {
        let prefix = format!("{qid}-");
        self.jobs()
            .into_iter()
            .filter(|j| {
                j["job_id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with(&prefix))
            })
            .collect()
    }

    fn wait_job(&self, job_id: &str) -> Value {
        support::wait_for(&format!("job {job_id} in sent.jsonl"), || {
            self.jobs().into_iter().find(|j| j["job_id"] == job_id)
        })
    }

    fn maildir(&self, rcpt: &str) -> PathBuf {
        self.work.dir.join("maildir").join(rcpt).join("new")
    }

    /// Waits for a mail to `rcpt` in reply to `original` (Message-ID with `<>`) that
    /// satisfies `pred`.
    fn wait_reply(&self, rcpt: &str, original: &str, pred: impl Fn(&Mail) -> bool) -> Mail {
        let dir = self.maildir(rcpt);
        support::wait_for(
            &format!("a report in reply to {original} in {}", dir.display()),
            || {
                read_maildir(&dir)
                    .into_iter()
                    .find(|m| m.header("In-Reply-To").as_deref() == Some(original) && pred(m))
            },
        )
    }

    fn msgid_log(&self) -> String {
        std::fs::read_to_string(self.work.log("msgid")).unwrap_or_default()
    }

    fn stop(mut self) {
        let st = self.daemon.sigterm();
        assert!(st.success(), "umsgate exit {st}\n{}", self.daemon.output());
    }
}

// ------------------------------------------------------------------------------------------
// Mail in

/// One SMTP transaction; returns umsgate's queue id (panics on any refusal).
fn submit(addr: SocketAddr, from: &str, rcpts: &[&str], message: &[u8]) -> String {
    let (mut c, greeting) = Smtp::connect(addr).unwrap();
    assert_eq!(greeting.code, 220, "{greeting:?}");
    c.ehlo("client.e2e.test").unwrap();
    let r = c
        .send(from, rcpts, message)
        .unwrap()
        .unwrap_or_else(|r| panic!("umsgate refused the mail to {rcpts:?}: {r:?}"));
    c.quit();
    r.queue_id()
        .unwrap_or_else(|| panic!("no queue id in {r:?}"))
}

/// A text mail with Message-ID `<marker@e2e.test>`; `extra` are further header lines.
fn text_mail(from: &str, to: &str, marker: &str, extra: &[&str], body: &str) -> Vec<u8> {
    let mut m = format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: e2e {marker}\r\nMessage-ID: <{marker}@e2e.test>\r\n\
         Date: Thu, 26 Nov 2026 10:15:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
    );
    for h in extra {
        m.push_str(h);
        m.push_str("\r\n");
    }
    m.push_str("\r\n");
    m.push_str(&body.replace('\n', "\r\n"));
    m.push_str("\r\n");
    m.into_bytes()
}

/// A fax mail whose only attachment is a sound (`ansage.wav`), which cannot be faxed.
fn wav_mail(from: &str, to: &str, marker: &str) -> Vec<u8> {
    let wav = std::fs::read(testdata("voice_message_8k.wav")).unwrap();
    support::multipart_mail(
        &format!(
            "From: <{from}>\r\nTo: <{to}>\r\nSubject: e2e {marker}\r\nMessage-ID: <{marker}@e2e.test>\r\n"
        ),
        "",
        &[("audio/wav", "ansage.wav", wav)],
    )
}

fn testdata(name: &str) -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../testdata/samples")
    .join(name)
}

/// A sample mail of `testdata/samples/` with its From and Message-ID replaced (Message-ID
/// `<marker@e2e.test>`) and `extra` header lines added.
fn sample(name: &str, from: &str, marker: &str, extra: &[&str]) -> Vec<u8> {
    let text = std::fs::read_to_string(testdata(name)).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut out = format!("From: <{from}>\r\nMessage-ID: <{marker}@e2e.test>\r\n");
    for h in extra {
        out.push_str(h);
        out.push_str("\r\n");
    }
    for line in head.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if ["from:", "message-id:", "return-path:"]
            .iter()
            .any(|p| lower.starts_with(p))
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

// ------------------------------------------------------------------------------------------
// Mail out

/// A delivered mail, decoded.
#[derive(Debug)]
struct Mail {
    path: PathBuf,
    raw: String,
    subject: String,
    /// The text/plain body, transfer encoding undone.
    text: String,
}

impl Mail {
    fn parse(path: PathBuf, bytes: &[u8]) -> Option<Mail> {
        let m = MessageParser::default().parse(bytes)?;
        Some(Mail {
            raw: String::from_utf8_lossy(bytes).into_owned(),
            subject: m.subject().unwrap_or_default().to_owned(),
            text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            path,
        })
    }

    /// The unfolded value of the first header `name` (case-insensitive).
    fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or("");
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    v.push(' ');
                    v.push_str(line.trim());
                    continue;
                }
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_owned());
            }
        }
        value
    }
}

/// Every readable mail of a Maildir `new/` folder.
fn read_maildir(dir: &Path) -> Vec<Mail> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| {
            let bytes = std::fs::read(e.path()).ok()?;
            Mail::parse(e.path(), &bytes)
        })
        .collect()
}

/// `.eml` files of a spool folder.
fn emls(dir: &Path) -> Vec<String> {
    support::names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".eml"))
        .collect()
}

// ------------------------------------------------------------------------------------------
// The tests

/// jane may ask for high priority, max is capped at normal; both send the 2-page PDF sample
/// with an HTML body and `X-Priority: 1`.
#[test]
fn fax_job_has_number_sender_priority_pages_headline_and_generated_file_names() {
    let users = r#"
[[user]]
mail = "jane@example.com"
name = "Jane Doe"
numbers = ["+49 8142 4799123"]
ums = "ums1;fax.rights=international;priority=high;fax.headline=Example Corp%3B Marketing"

[[user]]
mail = "max@example.com"
name = "Max Mustermann"
ums = "ums1;fax.rights=international;priority=normal;fax.headline=Max Headline"
"#;
    let g = start("out-fax", users, "", "");
    let run = nonce();

    // Formatting characters in the address: the number is normalised.
    let rcpt = "+49-8142-555.1234@fax.example.com";
    let m_jane = format!("fax-jane-{run}");
    let q_jane = submit(
        g.addr,
        "jane@example.com",
        &[rcpt],
        &sample(
            "fax_html_pdf.eml",
            "jane@example.com",
            &m_jane,
            &["X-Priority: 1 (Highest)"],
        ),
    );
    let m_max = format!("fax-max-{run}");
    let q_max = submit(
        g.addr,
        "max@example.com",
        &[rcpt],
        &sample(
            "fax_html_pdf.eml",
            "max@example.com",
            &m_max,
            &["X-Priority: 1 (Highest)"],
        ),
    );

    let job = g.wait_job(&format!("{q_jane}-0"));
    assert_eq!(job["service"], "fax", "{job}");
    assert_eq!(job["number"], "+49 8142 5551234", "{job}");
    assert_eq!(job["e164"], "+4981425551234", "{job}");
    assert_eq!(job["sender"], "jane@example.com", "{job}");
    assert_eq!(
        job["priority"], "high",
        "X-Priority 1 from a high user: {job}"
    );
    assert_eq!(job["pages"], 3, "body page + 2-page PDF: {job}");
    assert_eq!(job["headline"], "Example Corp; Marketing", "{job}");
    assert_eq!(job["subject"], "Angebot 2024-0815 für Sie", "{job}");
    let names: Vec<&str> = job["attachments"]
        .as_array()
        .unwrap_or_else(|| panic!("attachments is not a list: {job}"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["fax.pdf"],
        "one rendered document, never the sender's file name: {job}"
    );
    // The simulator keeps the rendered fax: the body's text, then the PDF's pages.
    let doc = g.state().join(format!("gateway/sim/docs/{q_jane}-0.pdf"));
    let doc = std::fs::read(&doc).unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
    assert_eq!(umsgate_fax::page_count(&doc).unwrap(), 3);

    let job = g.wait_job(&format!("{q_max}-0"));
    assert_eq!(job["sender"], "max@example.com", "{job}");
    assert_eq!(
        job["priority"], "normal",
        "X-Priority 1 capped at normal: {job}"
    );
    assert_eq!(job["pages"], 3, "{job}");
    assert_eq!(job["headline"], "Max Headline", "{job}");

    // The delivery report reaches jane (default language English).
    let report = g.wait_reply("jane@example.com", &format!("<{m_jane}@e2e.test>"), |_| {
        true
    });
    assert!(
        report.subject.contains("sent"),
        "{}: {}",
        report.path.display(),
        report.raw
    );
    g.stop();
}

#[test]
fn refused_jobs_get_an_error_report_in_the_senders_language_and_no_job() {
    let users = r#"
[[user]]
mail = "pierre@example.com"
name = "Pierre Martin"
ums = "ums1;fax.rights=local;report.lang=fr"

[[user]]
mail = "max.mustermann@example.com"
name = "Max Mustermann"
ums = "ums1;fax.rights=international;report.lang=fr"
"#;
    let g = start("out-refused", users, "", "");
    let run = nonce();

    // A national number with a local right.
    let m_right = format!("right-{run}");
    let q_right = submit(
        g.addr,
        "pierre@example.com",
        &["+4930123456@fax.example.com"],
        &text_mail(
            "pierre@example.com",
            "+4930123456@fax.example.com",
            &m_right,
            &[],
            "Bonjour",
        ),
    );
    // A sound cannot be faxed.
    let m_wav = format!("wav-{run}");
    let q_wav = submit(
        g.addr,
        "max.mustermann@example.com",
        &["+4930987654330@fax.example.com"],
        &wav_mail(
            "max.mustermann@example.com",
            "+4930987654330@fax.example.com",
            &m_wav,
        ),
    );
    // A Word file is faxed: rendered through LibreOffice (the sample's own sender is in the
    // directory).
    let m_docx = format!("docx-{run}");
    let q_docx = submit(
        g.addr,
        "max.mustermann@example.com",
        &["+4930987654330@fax.example.com"],
        &sample(
            "fax_docx_attachment.eml",
            "max.mustermann@example.com",
            &m_docx,
            &[],
        ),
    );

    let r = g.wait_reply(
        "pierre@example.com",
        &format!("<{m_right}@e2e.test>"),
        |_| true,
    );
    assert!(
        r.subject.contains("refusé") && r.subject.contains("+4930123456"),
        "not a French refusal subject: {:?}\n{}",
        r.subject,
        r.raw
    );
    assert!(
        r.text.contains("Vos droits ne couvrent pas ce numéro")
            && r.text.contains("« local »")
            && r.text.contains("« national »"),
        "not the French no-right text:\n{}",
        r.text
    );
    assert_eq!(
        r.header("References").as_deref(),
        Some(format!("<{m_right}@e2e.test>").as_str())
    );
    assert_eq!(
        r.header("From").as_deref(),
        Some("<ums@example.com>"),
        "{}",
        r.raw
    );

    let r = g.wait_reply(
        "max.mustermann@example.com",
        &format!("<{m_wav}@e2e.test>"),
        |_| true,
    );
    assert!(r.subject.contains("refusé"), "{:?}", r.subject);
    assert!(
        r.text.contains("ne peut pas être convertie") && r.text.contains("ansage.wav"),
        "not the French unsupported-attachment text:\n{}",
        r.text
    );
    // The first Office document starts LibreOffice: give it time on a busy machine.
    let docx_job = format!("{q_docx}-0");
    let job = support::wait_for_within(
        &format!("job {docx_job} in sent.jsonl"),
        std::time::Duration::from_secs(300),
        || {
            g.jobs()
                .into_iter()
                .find(|j| j["job_id"] == docx_job.as_str())
        },
    );
    let doc = g.state().join(format!("gateway/sim/docs/{q_docx}-0.pdf"));
    let doc = std::fs::read(&doc).unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
    assert_eq!(
        serde_json::Value::from(umsgate_fax::page_count(&doc).unwrap()),
        job["pages"],
        "body page and the document's pages: {job}"
    );
    assert!(job["pages"].as_u64().unwrap() >= 2, "{job}");

    // Reported, so done: neither refusal reached the engine.
    assert!(g.jobs_of(&q_right).is_empty(), "{:?}", g.jobs_of(&q_right));
    assert!(g.jobs_of(&q_wav).is_empty(), "{:?}", g.jobs_of(&q_wav));
    g.stop();
}

#[test]
fn sixth_fax_of_the_day_is_refused_with_a_daily_limit_report() {
    let users = r#"
[[user]]
mail = "limited@example.com"
ums = "ums1;fax.rights=international;fax.per_day=5"
"#;
    let g = start("out-perday", users, "", "");
    let run = nonce();
    let rcpt = "+4930123456@fax.example.com";
    let mut queued = Vec::new();
    for n in 1..=5 {
        let marker = format!("day{n}-{run}");
        queued.push(submit(
            g.addr,
            "limited@example.com",
            &[rcpt],
            &text_mail("limited@example.com", rcpt, &marker, &[], "fax"),
        ));
    }
    for q in &queued {
        let job = g.wait_job(&format!("{q}-0"));
        assert_eq!(job["sender"], "limited@example.com", "{job}");
    }

    let marker = format!("day6-{run}");
    let q6 = submit(
        g.addr,
        "limited@example.com",
        &[rcpt],
        &text_mail("limited@example.com", rcpt, &marker, &[], "fax"),
    );
    let r = g.wait_reply(
        "limited@example.com",
        &format!("<{marker}@e2e.test>"),
        |_| true,
    );
    assert!(r.subject.contains("refused"), "{:?}\n{}", r.subject, r.raw);
    assert!(
        r.text
            .contains("You have reached your daily limit for faxes (5)"),
        "not the daily-limit text:\n{}",
        r.text
    );
    assert!(g.jobs_of(&q6).is_empty(), "{:?}", g.jobs_of(&q6));
    let mine = g
        .jobs()
        .into_iter()
        .filter(|j| j["sender"] == "limited@example.com")
        .count();
    assert_eq!(mine, 5, "{:?}", g.jobs());
    g.stop();
}

const JANE: &str = r#"
[[user]]
mail = "jane@example.com"
name = "Jane Doe"
numbers = ["+49 8142 4799123"]
ums = "ums1;fax.rights=international;fax.headline=Jane Headline;report.lang=de"
"#;

#[test]
fn unknown_sender_notify_reports_to_the_default_recipient_and_archives_the_mail() {
    let g = start(
        "out-unknown-notify",
        JANE,
        "",
        r#"unknown_sender = { action = "notify", archive = true }"#,
    );
    let marker = format!("stranger-{}", nonce());
    let q = submit(
        g.addr,
        "stranger@example.org",
        &["+4930123456@fax.example.com"],
        &text_mail(
            "stranger@example.org",
            "+4930123456@fax.example.com",
            &marker,
            &[],
            "who am I",
        ),
    );
    let r = g.wait_reply(
        "postmaster@example.com",
        &format!("<{marker}@e2e.test>"),
        |_| true,
    );
    assert!(
        r.text.contains("stranger@example.org") && r.text.contains("is not registered"),
        "the default recipient's report does not name the sender:\n{}",
        r.text
    );
    let archive = g.state().join("smtp-in/error");
    let kept = support::wait_for("the mail in smtp-in/error/", || {
        support::read_spool(&archive)
            .into_iter()
            .find(|m| m.contains(&marker))
    });
    assert_eq!(kept.id, q, "archived under another id");
    assert!(g.jobs_of(&q).is_empty(), "{:?}", g.jobs_of(&q));
    // The only report went to the default recipient (smtp-out/ first: a report still
    // waiting there, or already delivered, is seen).
    assert!(
        emls(&g.state().join("smtp-out")).is_empty(),
        "{:?}",
        emls(&g.state().join("smtp-out"))
    );
    assert!(
        read_maildir(&g.maildir("stranger@example.org")).is_empty(),
        "the unknown sender got mail"
    );
    g.stop();
}

#[test]
fn unknown_sender_send_as_uses_the_named_users_settings_and_reports_to_the_sender() {
    let g = start(
        "out-unknown-sendas",
        JANE,
        "",
        r#"unknown_sender = { action = "send_as", send_as = "jane@example.com", archive = false }"#,
    );
    let marker = format!("sendas-{}", nonce());
    let q = submit(
        g.addr,
        "stranger@example.org",
        &["+4930123456@fax.example.com"],
        &text_mail(
            "stranger@example.org",
            "+4930123456@fax.example.com",
            &marker,
            &[],
            "please fax",
        ),
    );
    let job = g.wait_job(&format!("{q}-0"));
    assert_eq!(job["sender"], "jane@example.com", "{job}");
    assert_eq!(job["headline"], "Jane Headline", "jane's settings: {job}");
    assert_eq!(job["e164"], "+4930123456", "{job}");

    // The delivery report goes to the original sender, in jane's language (German).
    let r = g.wait_reply(
        "stranger@example.org",
        &format!("<{marker}@e2e.test>"),
        |_| true,
    );
    assert!(r.subject.contains("gesendet"), "{:?}\n{}", r.subject, r.raw);
    assert!(
        read_maildir(&g.maildir("jane@example.com")).is_empty(),
        "the send_as user got the report"
    );
    g.stop();
}

#[test]
fn msgid_log_records_every_mail_in_and_every_report_out() {
    let users = r#"
[[user]]
mail = "jane@example.com"
ums = "ums1;fax.rights=local"
"#;
    let g = start("out-msgid", users, "", "");
    let run = nonce();
    // One that goes out (delivery report) and one that is refused (error report).
    let m_ok = format!("ok-{run}");
    let q_ok = submit(
        g.addr,
        "jane@example.com",
        &["+4981425551234@fax.example.com"],
        &text_mail(
            "jane@example.com",
            "+4981425551234@fax.example.com",
            &m_ok,
            &[],
            "local fax",
        ),
    );
    let m_no = format!("no-{run}");
    let q_no = submit(
        g.addr,
        "jane@example.com",
        &["+4930123456@fax.example.com"],
        &text_mail(
            "jane@example.com",
            "+4930123456@fax.example.com",
            &m_no,
            &[],
            "national fax",
        ),
    );
    let sent = g.wait_reply("jane@example.com", &format!("<{m_ok}@e2e.test>"), |_| true);
    let refused = g.wait_reply("jane@example.com", &format!("<{m_no}@e2e.test>"), |_| true);

    let log = g.msgid_log();
    for (q, m) in [(&q_ok, &m_ok), (&q_no, &m_no)] {
        assert!(
            log.lines().any(|l| l.contains(&format!("in id={q} "))
                && l.contains(&format!("message-id=<{m}@e2e.test>"))),
            "no `in id={q} message-id=<{m}@e2e.test>` in msgid.log:\n{log}"
        );
    }
    for (q, report) in [(&q_ok, &sent), (&q_no, &refused)] {
        let id = report
            .header("Message-ID")
            .unwrap_or_else(|| panic!("report without Message-ID:\n{}", report.raw));
        assert!(
            log.lines().any(|l| l.contains("out id=")
                && l.contains(&format!("message-id={id}"))
                && l.contains(&format!("job={q}-0"))),
            "no `out id=… message-id={id} … job={q}-0` in msgid.log:\n{log}"
        );
    }
    g.stop();
}

#[test]
fn mail_to_a_fax_and_an_sms_address_makes_two_jobs() {
    let users = r#"
[[user]]
mail = "jane@example.com"
ums = "ums1;fax.rights=international;sms.rights=national"
"#;
    let g = start("out-multi", users, "", "");
    let marker = format!("multi-{}", nonce());
    let fax = "+4930123456@fax.example.com";
    let sms = "+491511234567@sms.example.com";
    let body = format!("Bitte zurückrufen {marker}");
    let q = submit(
        g.addr,
        "jane@example.com",
        &[fax, sms],
        &text_mail("jane@example.com", fax, &marker, &[], &body),
    );
    let f = g.wait_job(&format!("{q}-0"));
    let s = g.wait_job(&format!("{q}-1"));
    assert_eq!(f["service"], "fax", "{f}");
    assert_eq!(f["e164"], "+4930123456", "{f}");
    assert_eq!(f["pages"], 1, "{f}");
    assert_eq!(s["service"], "sms", "{s}");
    assert_eq!(s["e164"], "+491511234567", "{s}");
    assert!(
        s["text"].as_str().is_some_and(|t| t.contains(&body)),
        "SMS text: {s}"
    );
    assert!(
        s["attachments"].as_array().is_some_and(Vec::is_empty),
        "{s}"
    );
    assert_eq!(g.jobs_of(&q).len(), 2, "{:?}", g.jobs_of(&q));
    g.stop();
}

#[test]
fn emergency_mode_lets_only_vip_users_send() {
    let users = r#"
[[user]]
mail = "boss@example.com"
ums = "ums1;vip=1;fax.rights=international"

[[user]]
mail = "staff@example.com"
ums = "ums1;fax.rights=international"
"#;
    let g = start("out-emergency", users, "emergency_mode = true", "");
    let run = nonce();
    let rcpt = "+4930123456@fax.example.com";
    let m_staff = format!("staff-{run}");
    let q_staff = submit(
        g.addr,
        "staff@example.com",
        &[rcpt],
        &text_mail("staff@example.com", rcpt, &m_staff, &[], "fax"),
    );
    let m_boss = format!("boss-{run}");
    let q_boss = submit(
        g.addr,
        "boss@example.com",
        &[rcpt],
        &text_mail("boss@example.com", rcpt, &m_boss, &[], "fax"),
    );

    let job = g.wait_job(&format!("{q_boss}-0"));
    assert_eq!(job["sender"], "boss@example.com", "{job}");
    let r = g.wait_reply(
        "staff@example.com",
        &format!("<{m_staff}@e2e.test>"),
        |_| true,
    );
    assert!(r.subject.contains("refused"), "{:?}", r.subject);
    assert!(
        r.text.contains("emergency mode"),
        "not the emergency-mode text:\n{}",
        r.text
    );
    assert!(g.jobs_of(&q_staff).is_empty(), "{:?}", g.jobs_of(&q_staff));
    g.stop();
}

/// A message to two numbers whose second job fails for a while after the first was handed
/// over: the retry hands over the second job under its own job id. (Were the job ids numbered
/// by position among the recipients still to do, the retry would reuse the first job's id, the
/// engine would take it for a duplicate, and the second fax would never be sent.)
#[test]
fn a_retry_after_a_partial_hand_over_sends_the_remaining_job_under_its_own_id() {
    let users = r#"
[[user]]
mail = "jane@example.com"
name = "Jane Doe"
ums = "ums1;fax.rights=international"
"#;
    let gateway = "kind = \"spool\"\ndir = \"engine\"";
    let work = Work::new("out-partial");
    let addr = free_addr();
    let outbox = work.dir.join("engine/outbox");
    // Held: the message waits in smtp-in/ while the engine is made to fail.
    write_config(&work, addr, users, "hold = true", "", gateway);
    let mut daemon = Daemon::run(&work, addr);
    daemon.wait_ready();
    let run = nonce();
    let qid = submit(
        addr,
        "jane@example.com",
        &["+4930111111@fax.example.com", "+4930222222@fax.example.com"],
        &text_mail(
            "jane@example.com",
            "+4930111111@fax.example.com",
            &format!("partial-{run}"),
            &[],
            "two faxes",
        ),
    );
    assert!(daemon.sigterm().success(), "{}", daemon.output());

    // The second job's temporary folder is blocked by a file: its hand-over fails, temporarily.
    std::fs::create_dir_all(&outbox).unwrap();
    let blocker = outbox.join(format!(".{qid}-1.tmp"));
    std::fs::write(&blocker, b"in the way").unwrap();
    write_config(&work, addr, users, "", "", gateway);
    let mut daemon = Daemon::run(&work, addr);
    daemon.wait_ready();
    daemon.wait_stdout("outbound.deferred");
    assert!(daemon.sigterm().success(), "{}", daemon.output());
    assert!(
        outbox.join(format!("{qid}-0")).is_dir(),
        "first job handed over"
    );
    assert!(
        work.smtp_in().join(format!("{qid}.eml")).exists(),
        "the message waits for its second job"
    );

    // The engine recovers; the message is tried again at once.
    std::fs::remove_file(&blocker).unwrap();
    let requeued = work.umsgate(&["queue", "requeue", &qid]);
    assert!(
        requeued.status.success(),
        "{}",
        support::describe(&requeued)
    );
    let mut daemon = Daemon::run(&work, addr);
    daemon.wait_ready();
    support::wait_for("the message processed", || {
        (!work.smtp_in().join(format!("{qid}.eml")).exists()).then_some(())
    });
    assert!(daemon.sigterm().success(), "{}", daemon.output());

    let job = |id: String| -> Value {
        let path = outbox.join(&id).join("job.json");
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("job {id} not in the engine's outbox ({e})"));
        serde_json::from_slice(&bytes).unwrap()
    };
    assert_eq!(job(format!("{qid}-0"))["e164"], "+4930111111");
    assert_eq!(job(format!("{qid}-1"))["e164"], "+4930222222");
    let jobs = std::fs::read_dir(&outbox)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .count();
    assert_eq!(jobs, 2, "one job per number, none twice");
}

#[test]
fn a_cover_page_shows_the_directory_fields_and_a_short_message_goes_on_it() {
    let users = r#"
[[user]]
mail = "jane@example.com"
name = "Jane Doe"
ums = "ums1;fax.rights=international;cover=standard"
attributes = { o = "Example Corp", street = "Hauptstr. 1", postalCode = "82319", l = "Starnberg", telephoneNumber = "+49 8142 4799 0" }

[[user]]
mail = "max@example.com"
name = "Max Mustermann"
ums = "ums1;fax.rights=international;cover.force=1"
attributes = { o = "Muster GmbH", l = "Berlin" }
"#;
    let g = start("out-cover", users, "", "");
    let run = nonce();

    // A short text: one page, the cover, with the directory fields and the message on it.
    let m_short = format!("cover-short-{run}");
    let q_short = submit(
        g.addr,
        "jane@example.com",
        &["+4930123456@fax.example.com"],
        &text_mail(
            "jane@example.com",
            "+4930123456@fax.example.com",
            &m_short,
            &["To: Bob Builder <+4930123456@fax.example.com>"],
            "Please call me back about the delivery date.",
        ),
    );
    // A mail with a document and a forced default cover: cover page in front of its pages.
    let m_doc = format!("cover-doc-{run}");
    let q_doc = submit(
        g.addr,
        "max@example.com",
        &["+4930123457@fax.example.com"],
        &sample("fax_html_pdf.eml", "max@example.com", &m_doc, &[]),
    );

    let job = g.wait_job(&format!("{q_short}-0"));
    assert_eq!(job["cover"], "standard", "{job}");
    assert_eq!(job["pages"], 1, "the message is on the cover: {job}");
    let text = support::pdf_text(&g.state().join(format!("gateway/sim/docs/{q_short}-0.pdf")));
    for field in [
        "Example Corp",
        "Hauptstr. 1",
        "82319",
        "Starnberg",
        "Jane Doe",
        "+49 30 123456",
        "Please call me back about the delivery date.",
    ] {
        assert!(text.contains(field), "{field:?} not on the cover: {text}");
    }

    let job = g.wait_job(&format!("{q_doc}-0"));
    assert_eq!(job["cover"], "standard", "{job}");
    assert_eq!(job["pages"], 4, "cover, body page, 2-page PDF: {job}");
    let doc = g.state().join(format!("gateway/sim/docs/{q_doc}-0.pdf"));
    let text = support::pdf_text(&doc);
    let cover_at = text
        .find("Muster GmbH")
        .unwrap_or_else(|| panic!("no cover: {text}"));
    let body_at = text
        .find("Sehr geehrter Herr Schmidt")
        .unwrap_or_else(|| panic!("no body: {text}"));
    assert!(cover_at < body_at, "the cover comes first: {text}");
    g.stop();
}

//! The HylaFAX engine end to end, black box, against a real faxq + hfaxd: the project's
//! modem-less peer (`scripts/hylafax/start.sh`, started by `.ci/run`) whose fake SendFaxCmd
//! decides by the number's last digit (8 busy, 9 failed, else sent). umsgate runs as the real
//! binary with a file directory and Maildir delivery; mail goes in over SMTP. What HylaFAX got
//! is read from its queue files (`sendq/q<id>`, `doneq/q<id>`); received faxes go in through
//! `scripts/hylafax/inject.sh` with `umsgate hylafax-received` as FaxRcvdCmd, run as uucp.
//!
//! Every test needs `UMSGATE_TEST_PEERS=1` and `HYLAFAX_PORT`/`HYLAFAX_SPOOL`/
//! `HYLAFAX_STATE_DIR` and fails without them. Waits end at the harness deadline; no test
//! asserts how long anything takes.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Daemon, INSTANCE, Smtp, TestConfig, Work, describe, free_addr, nonce, peer_env};

const USERS: &str = r#"
[[user]]
mail = "jane@example.com"
name = "Jane Doe"
numbers = ["+49 8142 4799123"]
ums = "ums1;fax.rights=international;sms.rights=international;priority=high;fax.headline=Jane \"J\" Headline 100%25;fax.sender=123"
"#;

struct Gate {
    work: Work,
    daemon: Daemon,
    addr: SocketAddr,
}

fn config(addr: SocketAddr, extra: &str) -> String {
    let port = peer_env("HYLAFAX_PORT");
    TestConfig::new(addr)
        .title("umsgate HylaFAX test")
        .site()
        .mail("retry = [\"1s\"]")
        .gateway(&format!(
            r#"kind = "hylafax"

[instance.gateway.hylafax]
host = "127.0.0.1"
port = {port}
user = "umsgate"
poll_interval = "250ms"
max_dials = 2
remove_received = true
{extra}"#
        ))
        .render()
}

impl Gate {
    fn start(name: &str, extra: &str) -> Gate {
        let work = Work::new(name);
        let addr = free_addr();
        std::fs::write(work.dir.join("users.toml"), USERS).unwrap();
        std::fs::write(work.config_path(), config(addr, extra)).unwrap();
        let mut daemon = Daemon::run(&work, addr);
        daemon.wait_ready();
        Gate { work, daemon, addr }
    }

    fn restart(&mut self) {
        self.daemon = Daemon::run(&self.work, self.addr);
        self.daemon.wait_ready();
    }

    fn state(&self) -> PathBuf {
        self.work.dir.join("state").join(INSTANCE)
    }

    fn records(&self) -> PathBuf {
        self.state().join("gateway/hylafax/jobs")
    }

    /// The HylaFAX job id umsgate recorded for `job_id`, once it has one.
    fn wait_hylafax_id(&self, job_id: &str) -> String {
        let path = self.records().join(format!("{job_id}.json"));
        support::wait_for(&format!("HylaFAX id in {}", path.display()), || {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
            v["hylafax_id"].as_str().map(str::to_owned)
        })
    }

    fn mails(&self, to: &str) -> Vec<String> {
        let dir = self.work.dir.join("maildir").join(to).join("new");
        let Ok(rd) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        rd.flatten()
            .map(|e| String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()).into_owned())
            .collect()
    }

    fn wait_mail(&self, to: &str, needles: &[&str]) -> String {
        support::wait_for(&format!("a mail to {to} with {needles:?}"), || {
            self.mails(to)
                .into_iter()
                .find(|m| needles.iter().all(|n| m.contains(n)))
        })
    }

    fn submit(&self, to: &str, marker: &str) -> String {
        self.submit_with(to, marker, "")
    }

    /// `extra`: header lines, each ending in CRLF.
    fn submit_with(&self, to: &str, marker: &str, extra: &str) -> String {
        let (mut c, greeting) = Smtp::connect(self.addr).unwrap();
        assert_eq!(greeting.code, 220, "{greeting:?}");
        c.ehlo("client.e2e.test").unwrap();
        let mail = format!(
            "From: <jane@example.com>\r\nTo: <{to}>\r\nSubject: e2e {marker}\r\n\
             Message-ID: <{marker}@e2e.test>\r\n{extra}MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nHello HylaFAX {marker}\r\n"
        );
        let r = c
            .send("jane@example.com", &[to], mail.as_bytes())
            .unwrap()
            .unwrap_or_else(|r| panic!("umsgate refused the mail: {r:?}"));
        c.quit();
        format!("{}-0", r.queue_id().unwrap())
    }

    fn stop(mut self) {
        let st = self.daemon.sigterm();
        assert!(st.success(), "umsgate exit {st}\n{}", self.daemon.output());
    }
}

fn spool() -> PathBuf {
    PathBuf::from(peer_env("HYLAFAX_SPOOL"))
}

/// The queue file of HylaFAX job `id` (sendq or doneq), once it is `done`-state or any.
fn qfile(id: &str) -> String {
    support::wait_for(&format!("qfile of HylaFAX job {id}"), || {
        ["sendq", "doneq"]
            .iter()
            .find_map(|q| std::fs::read_to_string(spool().join(q).join(format!("q{id}"))).ok())
    })
}

fn field(qfile: &str, name: &str) -> Option<String> {
    qfile
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(str::to_owned)
}

/// How many HylaFAX jobs carry `tag`: qfile names in `sendq/` and `doneq/` (a job faxq is
/// moving counts once), read again until two reads agree, as faxq rewrites qfiles in place.
fn jobs_tagged(tag: &str) -> usize {
    let once = || {
        ["sendq", "doneq"]
            .iter()
            .flat_map(|q| {
                std::fs::read_dir(spool().join(q))
                    .into_iter()
                    .flatten()
                    .flatten()
            })
            .filter(|e| e.file_name().to_string_lossy().starts_with('q'))
            .filter_map(|e| {
                let q = std::fs::read_to_string(e.path()).ok()?;
                (field(&q, "jobtag").as_deref() == Some(tag)).then(|| e.file_name())
            })
            .collect::<std::collections::BTreeSet<_>>()
    };
    support::wait_for("two reads of HylaFAX's queues that agree", || {
        let first = once();
        (first == once()).then_some(first.len())
    })
}

#[test]
fn a_fax_mail_becomes_a_hylafax_job_and_its_sender_gets_the_sent_report() {
    let g = Gate::start("hfx-sent", "");
    let marker = format!("sent-{}", nonce());
    let job = g.submit_with(
        "+4930123456@fax.example.com",
        &marker,
        "X-Priority: 1 (Highest)\r\n",
    );
    let id = g.wait_hylafax_id(&job);
    let q = qfile(&id);
    // National number of the site's country: national prefix, no country code.
    assert_eq!(field(&q, "number").as_deref(), Some("030123456"), "{q}");
    assert_eq!(
        field(&q, "external").as_deref(),
        Some("+49 30 123456"),
        "{q}"
    );
    assert_eq!(field(&q, "jobtag").as_deref(), Some(job.as_str()), "{q}");
    // priority=high → SCHEDPRI 64; the headline's quote kept, its % doubled for strftime
    // and HylaFAX's own escapes.
    assert_eq!(field(&q, "schedpri").as_deref(), Some("64"), "{q}");
    assert_eq!(
        field(&q, "tagline").as_deref(),
        Some("Jane \"J\" Headline 100%%%%"),
        "{q}"
    );
    assert_eq!(field(&q, "tsi").as_deref(), Some("+49 8142 4799123"), "{q}");
    assert_eq!(
        field(&q, "sender").as_deref(),
        Some("jane@example.com"),
        "{q}"
    );
    assert_eq!(field(&q, "notify").as_deref(), Some("none"), "{q}");
    assert_eq!(field(&q, "maxdials").as_deref(), Some("2"), "{q}");

    let report = g.wait_mail(
        "jane@example.com",
        &[&format!("<{marker}@e2e.test>"), "Pages:"],
    );
    assert!(report.contains("sent"), "{report}");
    assert!(report.contains("1 page"), "the page count: {report}");
    // Reported: the record is gone, and HylaFAX has the job once.
    support::wait_for("the job record removed", || {
        (!g.records().join(format!("{job}.json")).exists()).then_some(())
    });
    assert_eq!(jobs_tagged(&job), 1);
    g.stop();
}

#[test]
fn a_failed_fax_gets_the_error_report_with_hylafax_status_text() {
    let g = Gate::start("hfx-failed", "");
    let marker = format!("failed-{}", nonce());
    let job = g.submit("+4930123459@fax.example.com", &marker);
    g.wait_hylafax_id(&job);
    let report = g.wait_mail(
        "jane@example.com",
        &[
            &format!("<{marker}@e2e.test>"),
            "Fake failure (number ends in 9)",
        ],
    );
    assert!(!report.contains("Subject: Fax sent"), "{report}");
    g.stop();
}

#[test]
fn an_sms_on_a_hylafax_instance_is_refused_with_a_report() {
    let g = Gate::start("hfx-sms", "");
    let marker = format!("sms-{}", nonce());
    let job = g.submit("+491701234567@sms.example.com", &marker);
    let report = g.wait_mail(
        "jane@example.com",
        &[
            &format!("<{marker}@e2e.test>"),
            "HylaFAX, which carries fax only",
        ],
    );
    assert!(
        !g.records().join(format!("{job}.json")).exists(),
        "{report}"
    );
    assert_eq!(jobs_tagged(&job), 0);
    g.stop();
}

#[test]
fn umsgate_killed_between_submission_and_completion_submits_and_reports_once() {
    let mut g = Gate::start("hfx-crash", "");
    let marker = format!("crash-{}", nonce());
    // Busy: requeued (logged), then given up after max_dials = 2.
    let job = g.submit("+4930123458@fax.example.com", &marker);
    let id = g.wait_hylafax_id(&job);
    g.daemon.sigkill();
    let q = qfile(&id);
    assert_eq!(field(&q, "jobtag").as_deref(), Some(job.as_str()));
    g.restart();
    g.daemon.wait_stdout("gateway.hylafax.requeued");
    let report = g.wait_mail(
        "jane@example.com",
        &[&format!("<{marker}@e2e.test>"), "Pages:"],
    );
    assert!(
        report.contains("Busy") || report.contains("Too many attempts"),
        "{report}"
    );
    support::wait_for("the job record removed", || {
        (!g.records().join(format!("{job}.json")).exists()).then_some(())
    });
    // One job in HylaFAX, one report: a later mail's report arrives, and still only one
    // for the first.
    let marker2 = format!("after-{}", nonce());
    g.submit("+4930123457@fax.example.com", &marker2);
    g.wait_mail("jane@example.com", &[&format!("<{marker2}@e2e.test>")]);
    let reports = g
        .mails("jane@example.com")
        .into_iter()
        .filter(|m| m.contains(&format!("<{marker}@e2e.test>")))
        .count();
    assert_eq!(reports, 1, "reports of the killed job");
    assert_eq!(jobs_tagged(&job), 1, "HylaFAX jobs of the killed job");
    g.stop();
}

#[test]
fn a_fax_received_through_faxrcvd_reaches_its_owner_as_mail() {
    let g = Gate::start("hfx-recv", "");
    // faxrcvd runs as uucp: it must reach the config and write into received/.
    let received = g.state().join("received");
    let mut p: &Path = &received;
    Command::new("chmod")
        .args(["0777", received.to_str().unwrap()])
        .status()
        .unwrap();
    while let Some(parent) = p.parent() {
        let _ = Command::new("chmod")
            .args(["o+x", parent.to_str().unwrap()])
            .status();
        p = parent;
    }
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/samples/fax_3p_g4.tif");
    let tif = g.work.dir.join("in.tif");
    std::fs::copy(&sample, &tif).unwrap();
    let st = Command::new("tiffset")
        .args(["-s", "270", "+49 30 9999999", tif.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success(), "tiffset (libtiff-tools)");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/hylafax/inject.sh");
    let cmd = format!(
        "{} --config {} hylafax-received",
        support::bin(),
        g.work.config_path().display()
    );
    let out = Command::new("bash")
        .arg(&script)
        .arg(peer_env("HYLAFAX_STATE_DIR"))
        .arg(&tif)
        .arg("+49301112223")
        .arg("+4981424799123")
        .env("FAXRCVD_CMD", cmd)
        .output()
        .unwrap();
    assert!(out.status.success(), "inject.sh: {}", describe(&out));
    let recvq = String::from_utf8_lossy(&out.stdout);
    let recvq = recvq.lines().last().unwrap().trim();
    assert!(!Path::new(recvq).exists(), "removed from recvq: {recvq}");
    g.wait_mail(
        "jane@example.com",
        &[
            "Subject: Fax from +49 30 1112223 (3 pages)",
            "To: +4981424799123",
        ],
    );
    g.stop();
}

/// The peer must be there when asked for: no silent skip.
#[test]
fn the_peer_is_configured() {
    let port: u16 = peer_env("HYLAFAX_PORT").parse().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
}

#[test]
fn check_logs_in_to_hfaxd_and_names_what_fails() {
    let g = Gate::start("hfx-check", "");
    let out = g.work.umsgate(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("gateway: ok: hylafax: logged in to hfaxd 127.0.0.1:"),
        "{}",
        describe(&out)
    );
    // A port where nobody listens: the gateway line fails, and so does the check.
    let closed = free_addr().port();
    let wrong = std::fs::read_to_string(g.work.config_path())
        .unwrap()
        .replace(
            &format!("port = {}\n", peer_env("HYLAFAX_PORT")),
            &format!("port = {closed}\n"),
        );
    std::fs::write(g.work.dir.join("wrong.toml"), wrong).unwrap();
    let out = support::run_cli(
        &[
            "--config",
            g.work.dir.join("wrong.toml").to_str().unwrap(),
            "check",
        ],
        None,
        &g.work.dir,
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        text.contains(&format!(
            "gateway: FAILED: hylafax: 127.0.0.1:{closed} as umsgate: hfaxd connect"
        )),
        "{}",
        describe(&out)
    );
    g.stop();
}

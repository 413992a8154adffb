//! Running umsgate as a service, through the real binary: `/metrics` after mail went through
//! (read by a parser of the Prometheus text format), SIGHUP reloads (a changed instance
//! restarts while the other's open session carries on; an invalid file is refused and
//! logged), `umsgate instance list|new|delete` on a commented file, and `umsgate check`
//! telling a taken listen address from one the running service holds.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use support::{Daemon, Smtp, Work, describe, free_addr, message, wait_for};

/// One instance's table: `id` on `listen`, users file, simulated gateway, Maildir delivery.
fn instance_text(id: &str, listen: SocketAddr, extra: &str) -> String {
    format!(
        r#"
# instance {id}: kept by the administrator
[[instance]]
id = "{id}"
name = "Instance {id}"

[instance.smtp_in]
listen = ["{listen}"]
allow_from = ["127.0.0.0/8"]
hostname = "umsgate.test"
{extra}

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
maildir = "maildir/"

[instance.directory]
kind = "file"
path = "users.toml"

[instance.gateway]
kind = "sim"
delay = "0s"
"#
    )
}

/// Waits until `addr` greets with umsgate's 220.
fn wait_greeting(addr: SocketAddr) {
    wait_for(&format!("umsgate greets on {addr}"), || {
        let (c, greeting) = Smtp::connect(addr).ok()?;
        c.quit();
        (greeting.code == 220).then_some(())
    });
}

fn service_text(metrics: Option<SocketAddr>) -> String {
    let m = metrics.map_or_else(String::new, |a| format!("metrics.listen = \"{a}\"\n"));
    format!(
        "# umsgate service test — comments must survive every edit\n[service]\nstate_dir = \"state\"\nlog_dir = \"log\"\n{m}\n[service.render]\nconverter = \"none\"\nhtml = \"none\"\n"
    )
}

// ------------------------------------------------------------------------------------------
// The Prometheus text format (exposition format 0.0.4), read strictly enough to fail on
// anything malformed: `# HELP`/`# TYPE` lines, and samples `name{label="value",…} number`.

#[derive(Debug, Default)]
struct Exposition {
    types: BTreeMap<String, String>,
    /// (name, sorted labels) → value.
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

fn is_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b':')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
}

fn parse_exposition(text: &str) -> Result<Exposition, String> {
    let mut out = Exposition::default();
    for (n, line) in text.lines().enumerate() {
        let bad = |why: &str| Err(format!("line {}: {why}: {line:?}", n + 1));
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let (Some(name), Some(kind), None) = (parts.next(), parts.next(), parts.next()) else {
                return bad("TYPE needs a name and a type");
            };
            if !is_name(name)
                || !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
            {
                return bad("bad TYPE");
            }
            out.types.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name_end, labels, rest) = match line.find('{') {
            Some(open) => {
                let mut labels = BTreeMap::new();
                let mut s = &line[open + 1..];
                loop {
                    if let Some(r) = s.strip_prefix('}') {
                        s = r;
                        break;
                    }
                    let Some(eq) = s.find("=\"") else {
                        return bad("label without =\"");
                    };
                    let key = &s[..eq];
                    if !is_name(key) {
                        return bad("bad label name");
                    }
                    let mut value = String::new();
                    let mut chars = s[eq + 2..].char_indices();
                    let mut end = None;
                    while let Some((i, c)) = chars.next() {
                        match c {
                            '\\' => match chars.next() {
                                Some((_, 'n')) => value.push('\n'),
                                Some((_, c @ ('\\' | '"'))) => value.push(c),
                                _ => return bad("bad escape"),
                            },
                            '"' => {
                                end = Some(eq + 2 + i + 1);
                                break;
                            }
                            c => value.push(c),
                        }
                    }
                    let Some(end) = end else {
                        return bad("unterminated label value");
                    };
                    labels.insert(key.to_owned(), value);
                    s = &s[end..];
                    s = s.strip_prefix(',').unwrap_or(s);
                }
                (open, labels, s)
            }
            None => {
                let sp = line.find(' ').unwrap_or(line.len());
                (sp, BTreeMap::new(), &line[sp..])
            }
        };
        let name = &line[..name_end];
        if !is_name(name) {
            return bad("bad metric name");
        }
        let mut fields = rest.split_whitespace();
        let Some(value) = fields.next() else {
            return bad("no value");
        };
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => match v.parse() {
                Ok(v) => v,
                Err(_) => return bad("value is not a number"),
            },
        };
        if fields.next().is_some_and(|t| t.parse::<i64>().is_err()) || fields.next().is_some() {
            return bad("trailing garbage");
        }
        let family = ["_bucket", "_sum", "_count", "_total"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| out.types.contains_key(*f)))
            .unwrap_or(name);
        if !out.types.contains_key(family) && !out.types.contains_key(name) {
            return bad("sample without a TYPE");
        }
        out.samples.push((name.to_owned(), labels, value));
    }
    Ok(out)
}

impl Exposition {
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(v))
            })
            .map(|s| s.2)
    }
}

/// `GET /metrics` over plain HTTP/1.1; the status line and the body.
fn scrape(addr: SocketAddr) -> (String, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: umsgate\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.lines().next().unwrap_or("").to_owned();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    (status, body.to_owned())
}

#[test]
fn the_exposition_parser_refuses_malformed_lines() {
    assert!(parse_exposition("# TYPE a counter\na_total{x=\"1\"} 2\n").is_ok());
    assert!(parse_exposition("a 1\n").is_err(), "sample without TYPE");
    assert!(parse_exposition("# TYPE a gauge\na{x=1} 2\n").is_err());
    assert!(parse_exposition("# TYPE a gauge\na{x=\"1} 2\n").is_err());
    assert!(parse_exposition("# TYPE a gauge\na two\n").is_err());
}

#[test]
fn metrics_count_what_the_real_binary_did() {
    let work = Work::new("metrics");
    let smtp = free_addr();
    let metrics = free_addr();
    work.write_config(&format!(
        "{}{}",
        service_text(Some(metrics)),
        instance_text("m", smtp, "")
    ));
    let mut d = Daemon::run(&work, smtp);
    d.wait_ready();

    // Before any mail: the queue depths are there, every state, zero; no mail counted.
    // The depths are first taken just after start: scraped until they are there.
    let (status, body) = wait_for("the queue depths in /metrics", || {
        let (status, body) = scrape(metrics);
        body.contains("umsgate_queue_messages{")
            .then_some((status, body))
    });
    assert!(status.contains(" 200 "), "{status}");
    let before = parse_exposition(&body).unwrap_or_else(|e| panic!("{e}\n{body}"));
    for state in ["incoming", "outgoing", "deferred", "badmail", "error"] {
        assert_eq!(
            before.value(
                "umsgate_queue_messages",
                &[("instance", "m"), ("state", state)]
            ),
            Some(0.0),
            "{state}\n{body}"
        );
    }
    assert_eq!(
        before.value("umsgate_smtp_mail_accepted_total", &[("instance", "m")]),
        None
    );
    assert_eq!(
        before.value("umsgate_jobs_handed_over", &[("instance", "m")]),
        Some(0.0),
        "{body}"
    );

    let (mut c, _) = Smtp::connect(smtp).unwrap();
    c.ehlo("client.test").unwrap();
    for n in 0..2 {
        let to = "+4930123456@fax.example.com";
        let r = c
            .send(
                "jane@example.com",
                &[to],
                &message("jane@example.com", to, &format!("m{n}")),
            )
            .unwrap();
        assert!(r.is_ok(), "{r:?}");
    }
    let refused = c
        .send("jane@example.com", &["nobody@elsewhere.test"], b"x\r\n")
        .unwrap();
    assert_eq!(refused.unwrap_err().code, 550);
    c.quit();

    // The jobs reach the simulated engine and its reports are mailed: wait for the counts.
    let after = wait_for("jobs and reports counted", || {
        let (_, body) = scrape(metrics);
        let e = parse_exposition(&body).unwrap_or_else(|e| panic!("{e}\n{body}"));
        let reports = e.value(
            "umsgate_reports_mailed_total",
            &[("instance", "m"), ("kind", "sent")],
        );
        // Reported jobs are no longer with the engine.
        let with_engine = e.value("umsgate_jobs_handed_over", &[("instance", "m")]);
        (reports == Some(2.0) && with_engine == Some(0.0)).then_some((e, body))
    });
    let (e, body) = after;
    assert_eq!(
        e.types
            .get("umsgate_smtp_mail_accepted_total")
            .map(String::as_str),
        Some("counter")
    );
    assert_eq!(
        e.value("umsgate_smtp_mail_accepted_total", &[("instance", "m")]),
        Some(2.0),
        "{body}"
    );
    assert_eq!(
        e.value(
            "umsgate_smtp_mail_refused_total",
            &[("instance", "m"), ("reason", "recipient_refused")]
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        e.types
            .get("umsgate_smtp_intake_seconds")
            .map(String::as_str),
        Some("histogram")
    );
    assert_eq!(
        e.value(
            "umsgate_smtp_intake_seconds_bucket",
            &[("instance", "m"), ("le", "+Inf")]
        ),
        Some(2.0),
        "{body}"
    );
    assert_eq!(
        e.value(
            "umsgate_jobs_total",
            &[
                ("instance", "m"),
                ("service", "fax"),
                ("outcome", "submitted")
            ]
        ),
        Some(2.0),
        "{body}"
    );
    assert_eq!(
        e.value(
            "umsgate_jobs_total",
            &[("instance", "m"), ("service", "fax"), ("outcome", "sent")]
        ),
        Some(2.0),
        "{body}"
    );
    // The reports went to the Maildir: delivered, one attempt each, timed.
    assert_eq!(
        e.value(
            "umsgate_deliveries_total",
            &[("instance", "m"), ("outcome", "delivered")]
        ),
        Some(2.0),
        "{body}"
    );
    assert_eq!(
        e.value("umsgate_delivery_seconds_count", &[("instance", "m")]),
        Some(2.0),
        "{body}"
    );
    assert!(
        e.value(
            "umsgate_directory_lookup_seconds_count",
            &[("instance", "m"), ("query", "sender")]
        )
        .is_some_and(|n| n >= 2.0),
        "{body}"
    );
    d.sigterm();
}

// ------------------------------------------------------------------------------------------
// SIGHUP

fn sighup(d: &Daemon) {
    let st = std::process::Command::new("kill")
        .arg("-HUP")
        .arg(d.pid().to_string())
        .status()
        .unwrap();
    assert!(st.success());
}

/// How many times `needle` occurs in the daemon's stdout.
fn count(d: &Daemon, needle: &str) -> usize {
    d.stdout().matches(needle).count()
}

#[test]
fn sighup_restarts_the_changed_instance_and_keeps_the_others_sessions() {
    let work = Work::new("reload");
    let (a, b) = (free_addr(), free_addr());
    let service = service_text(None);
    let original = format!(
        "{service}{}{}",
        instance_text("a", a, ""),
        instance_text("b", b, "")
    );
    work.write_config(&original);
    let mut d = Daemon::run(&work, a);
    d.wait_ready();
    wait_greeting(b);

    // Comments and layout are no change: nothing restarts.
    std::fs::write(
        work.config_path(),
        original.replace("[[instance]]", "# moved\n\n[[instance]]"),
    )
    .unwrap();
    sighup(&d);
    let out = d.wait_stdout("reload.done");
    let done = out.lines().find(|l| l.contains("reload.done")).unwrap();
    assert!(done.contains("unchanged=[\"a\", \"b\"]"), "{done}");
    assert!(done.contains("restarted=[]"), "{done}");

    // b: a session open before the reload, mid-transaction.
    let (mut kept, _) = Smtp::connect(b).unwrap();
    kept.ehlo("kept.test").unwrap();
    assert_eq!(
        kept.command("MAIL FROM:<jane@example.com>").unwrap().code,
        250
    );
    // a: a session in a transaction too; a restarts, so it may finish its mail, then ends.
    let (mut ending, _) = Smtp::connect(a).unwrap();
    ending.ehlo("ending.test").unwrap();
    assert_eq!(
        ending.command("MAIL FROM:<jane@example.com>").unwrap().code,
        250
    );
    let to = "+4930123456@fax.example.com";
    assert_eq!(
        ending.command(&format!("RCPT TO:<{to}>")).unwrap().code,
        250
    );

    // Change a only: it moves to another port and takes at most 5 recipients.
    let a2 = free_addr();
    let changed = format!(
        "{service}{}{}",
        instance_text("a", a2, "max_recipients = 5"),
        instance_text("b", b, "")
    );
    std::fs::write(work.config_path(), &changed).unwrap();
    let started_before = count(&d, "reload.started");
    sighup(&d);
    wait_for("the reload starts", || {
        (count(&d, "reload.started") > started_before).then_some(())
    });
    // a's transaction still completes; then a's session is told the service is going.
    assert_eq!(ending.command("DATA").unwrap().code, 354);
    ending
        .send_data(&message("jane@example.com", to, "ending"))
        .unwrap();
    assert_eq!(ending.read_reply().unwrap().code, 250);
    assert_eq!(ending.read_reply().unwrap().code, 421);
    wait_for("the reload is done", || {
        (count(&d, "reload.done") == 2).then_some(())
    });
    let out = d.stdout();
    let done = out
        .lines()
        .filter(|l| l.contains("reload.done"))
        .nth(1)
        .unwrap();
    assert!(done.contains("restarted=[\"a\"]"), "{done}");
    assert!(done.contains("unchanged=[\"b\"]"), "{done}");
    wait_greeting(a2);
    assert!(
        TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_err(),
        "a still listens on its old address"
    );

    // b's session lived through it: the same connection sends its mail.
    assert_eq!(kept.command(&format!("RCPT TO:<{to}>")).unwrap().code, 250);
    assert_eq!(kept.command("DATA").unwrap().code, 354);
    kept.send_data(&message("jane@example.com", to, "kept"))
        .unwrap();
    assert_eq!(kept.read_reply().unwrap().code, 250);
    kept.quit();

    // An invalid file: refused with its error (file, line, key), everything keeps running.
    let broken = changed.replace("max_recipients = 5", "max_recipients = \"many\"");
    std::fs::write(work.config_path(), &broken).unwrap();
    let invalid_before = count(&d, "reload.invalid");
    sighup(&d);
    wait_for("the invalid file is logged", || {
        (count(&d, "reload.invalid") > invalid_before).then_some(())
    });
    let out = d.stdout();
    let line = out.lines().find(|l| l.contains("reload.invalid")).unwrap();
    assert!(line.contains("instance.smtp_in.max_recipients"), "{line}");
    assert!(line.contains("umsgate.toml:"), "{line}");
    wait_greeting(a2);
    wait_greeting(b);
    assert_eq!(count(&d, "reload.done"), 2, "{}", d.output());

    // The next valid file applies: b is removed, a is untouched; a change of [service] is
    // logged as needing a restart, not applied.
    assert_eq!(count(&d, "reload.service_not_applied"), 0);
    let service_changed = service.replace("log_dir = \"log\"", "log_dir = \"log2\"");
    std::fs::write(
        work.config_path(),
        format!(
            "{service_changed}{}",
            instance_text("a", a2, "max_recipients = 5")
        ),
    )
    .unwrap();
    sighup(&d);
    wait_for("the last reload", || {
        (count(&d, "reload.done") == 3).then_some(())
    });
    let out = d.stdout();
    let done = out
        .lines()
        .filter(|l| l.contains("reload.done"))
        .nth(2)
        .unwrap();
    assert!(done.contains("stopped=[\"b\"]"), "{done}");
    assert!(done.contains("unchanged=[\"a\"]"), "{done}");
    assert_eq!(count(&d, "reload.service_not_applied"), 1, "{}", d.output());
    assert!(!work.dir.join("log2").exists(), "[service] was applied");
    wait_for("b stops listening", || {
        TcpStream::connect_timeout(&b, Duration::from_secs(2))
            .is_err()
            .then_some(())
    });
    assert!(d.sigterm().success(), "{}", d.output());
}

// ------------------------------------------------------------------------------------------
// instance enable | disable

#[test]
fn instance_disable_and_enable_change_one_value_of_their_entry() {
    let work = Work::new("instance-toggle");
    let (a, b) = (free_addr(), free_addr());
    let head = service_text(None);
    let a_text = instance_text("a", a, "");
    let b_text = instance_text("b", b, "");
    let original = format!("{head}{a_text}{b_text}\n# trailing comment of the file\n");
    let path = work.write_config(&original);
    let enabled = |work: &Work| -> Vec<(String, bool)> {
        let listed = work.umsgate(&["instance", "list", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["id"].as_str().unwrap().to_owned(),
                    i["enabled"].as_bool().unwrap(),
                )
            })
            .collect()
    };

    let out = work.umsgate(&["instance", "disable", "b"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let b_off = b_text.replace(
        "name = \"Instance b\"\n",
        "name = \"Instance b\"\nenabled = false\n",
    );
    let off = format!("{head}{a_text}{b_off}\n# trailing comment of the file\n");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), off);
    assert_eq!(
        enabled(&work),
        [("a".to_owned(), true), ("b".to_owned(), false)]
    );
    // Once more: nothing to do, nothing written.
    let out = work.umsgate(&["instance", "disable", "b"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("already"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), off);

    let out = work.umsgate(&["instance", "enable", "b"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        off.replace("enabled = false", "enabled = true")
    );
    assert_eq!(
        enabled(&work),
        [("a".to_owned(), true), ("b".to_owned(), true)]
    );

    let out = work.umsgate(&["instance", "disable", "nope"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
}

// ------------------------------------------------------------------------------------------
// instance list | new | delete

#[test]
fn instance_new_and_delete_edit_only_their_entry() {
    let work = Work::new("instances");
    let (a, b) = (free_addr(), free_addr());
    let head = service_text(None);
    let a_text = instance_text("a", a, "");
    let b_text = instance_text("b", b, "");
    let original = format!("{head}{a_text}{b_text}\n# trailing comment of the file\n");
    let path = work.write_config(&original);

    let listed = work.umsgate(&["instance", "list", "--json"]);
    assert_eq!(listed.status.code(), Some(0), "{}", describe(&listed));
    let v: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b"]);

    // new: appended after everything else, which stays byte for byte.
    let out = work.umsgate(&["instance", "new", "c"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let with_c = std::fs::read_to_string(&path).unwrap();
    assert!(
        with_c.starts_with(&original),
        "the file changed before the new entry:\n{with_c}"
    );
    let loaded = work.umsgate(&["instance", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&loaded.stdout).unwrap();
    let c = v
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "c")
        .unwrap();
    assert_eq!(c["enabled"], false, "{c}");
    let c_listen: SocketAddr = c["listen"][0].as_str().unwrap().parse().unwrap();
    assert!(
        c_listen.port() != a.port() && c_listen.port() != b.port(),
        "{c}"
    );
    assert!(
        TcpListener::bind(c_listen).is_ok(),
        "{c_listen} is not free"
    );
    assert!(work.dir.join("state/c/smtp-in").is_dir());

    // An existing id, or one that is no id: refused, file unchanged.
    for bad in ["c", "a", "no/slash", ""] {
        let out = work.umsgate(&["instance", "new", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad}: {}", describe(&out));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), with_c, "{bad}");
    }
    let out = work.umsgate(&["instance", "new", "d", "--listen", &a.to_string()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a taken listen address: {}",
        describe(&out)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), with_c);

    // c again: removes exactly what new added (and its folders).
    let out = work.umsgate(&["instance", "delete", "c"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
    assert!(!work.dir.join("state/c").exists());

    // b has a received message waiting: refused without a flag.
    let sent = work.umsgate(&[
        "send-test",
        "--instance",
        "b",
        "--type",
        "sms",
        "--calling",
        "+4930111",
        "--called",
        "+49 8142 4799123",
        "--text",
        "hello",
    ]);
    assert_eq!(sent.status.code(), Some(0), "{}", describe(&sent));
    let out = work.umsgate(&["instance", "delete", "b"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wait"),
        "{}",
        describe(&out)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
    let out = work.umsgate(&["instance", "delete", "b", "--keep-queued", "--force"]);
    assert_eq!(out.status.code(), Some(2), "the flags exclude each other");

    // --keep-queued: the entry (with its own comment block) goes, its folders stay.
    let out = work.umsgate(&["instance", "delete", "b", "--keep-queued"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let expected = format!("{head}{a_text}\n# trailing comment of the file\n");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    assert!(work.dir.join("state/b/received").is_dir());

    let out = work.umsgate(&["instance", "delete", "b"]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    // The last instance cannot go: the result would be no valid configuration.
    let out = work.umsgate(&["instance", "delete", "a"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
}

// ------------------------------------------------------------------------------------------
// check

#[test]
fn check_names_a_taken_listen_address_and_the_services_own() {
    let work = Work::new("check-binds");
    let smtp = free_addr();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap();
    work.write_config(&format!(
        "{}{}",
        service_text(Some(taken_addr)),
        instance_text("k", smtp, "")
    ));
    let out = work.umsgate(&["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stdout.contains(&format!(
            "service: metrics.listen: FAILED: {taken_addr}: in use"
        )),
        "{}",
        describe(&out)
    );
    assert!(
        stdout.contains(&format!("instance k: smtp_in.listen: ok: {smtp}: free")),
        "{}",
        describe(&out)
    );
    drop(taken);

    // With the service running, its own listeners are its own, not a conflict.
    let metrics = free_addr();
    work.write_config(&format!(
        "{}{}",
        service_text(Some(metrics)),
        instance_text("k", smtp, "")
    ));
    let mut d = Daemon::run(&work, smtp);
    d.wait_ready();
    let out = work.umsgate(&["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let held = format!("held by the running umsgate (pid {})", d.pid());
    assert!(
        stdout.contains(&format!("instance k: smtp_in.listen: ok: {smtp}: {held}")),
        "{}",
        describe(&out)
    );
    assert!(
        stdout.contains(&format!("service: metrics.listen: ok: {metrics}: {held}")),
        "{}",
        describe(&out)
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    d.sigterm();
    assert!(
        !work.dir.join("state/umsgate.pid").exists(),
        "pid file left behind"
    );
}

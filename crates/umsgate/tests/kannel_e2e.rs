//! SMS through a real Kannel, end to end, black box: the project's private bearerbox + smsbox
//! (`scripts/kannel/start.sh`, started by `.ci/run`), the `umsgate` binary with
//! `gateway.kind = "kannel"`, and the test peers' Postfix delivering into Maildirs. The test
//! itself is Kannel's SMS centre: it connects to the fake SMSC port, reads the MT lines Kannel
//! sends (`FROM TO text|ucs-2 TEXT`) and writes MO lines. Kannel calls umsgate back on
//! `KANNEL_CALLBACK_PORT` with the secret its configuration holds.
//!
//! Every test needs `UMSGATE_TEST_PEERS=1`, the `KANNEL_*` and `MAIL_*` variables, and fails
//! without them. The fake SMSC takes one client and the callback port is one: the tests hold
//! a lock on that port. Waits end at the harness deadline.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{
    DEADLINE, Daemon, Delivery, Smtp, TestConfig, Work, describe, free_addr, nonce, peer_env,
};

/// jane's mobile number in the directory: the SMS sender.
const JANE_MOBILE: &str = "+491701234567";

/// The test peers: Kannel and Postfix.
struct Peers {
    sendsms: String,
    user: String,
    password: String,
    status_url: String,
    status_password: String,
    smsc: SocketAddr,
    callback_port: u16,
    secret: String,
    smtp_host: String,
    smtp_port: String,
    maildirs: PathBuf,
}

fn peers() -> Peers {
    let port = |name: &str| -> u16 {
        peer_env(name)
            .parse()
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    Peers {
        sendsms: peer_env("KANNEL_SENDSMS_URL"),
        user: peer_env("KANNEL_USER"),
        password: peer_env("KANNEL_PASSWORD"),
        status_url: peer_env("KANNEL_STATUS_URL"),
        status_password: peer_env("KANNEL_STATUS_PASSWORD"),
        smsc: SocketAddr::from(([127, 0, 0, 1], port("KANNEL_SMSC_PORT"))),
        callback_port: port("KANNEL_CALLBACK_PORT"),
        secret: peer_env("KANNEL_CALLBACK_SECRET"),
        smtp_host: peer_env("MAIL_SMTP_HOST"),
        smtp_port: peer_env("MAIL_SMTP_PORT"),
        maildirs: PathBuf::from(peer_env("MAIL_MAILDIR_BASE")),
    }
}

const USERS: &str = r#"
[[user]]
mail = "jane@example.com"
name = "Jane Doe"
numbers = ["+49 8142 4799123"]
ums = "ums1;fax.rights=international;sms.rights=international"
attributes = { mobile = "0170 1234567" }
"#;

fn config(listen: SocketAddr, p: &Peers, method: &str) -> String {
    TestConfig::new(listen)
        .title("umsgate Kannel end-to-end test")
        .site()
        .name("umsgate kannel e2e")
        .delivery(Delivery::Smtp(
            p.smtp_host.clone(),
            p.smtp_port.parse().expect("MAIL_SMTP_PORT is a port"),
        ))
        .mail("retry = [\"1s\"]")
        .gateway(&format!(
            r#"kind = "kannel"

[instance.gateway.kannel]
sendsms_url = "{sendsms}"
method = "{method}"
user = "{user}"
password = "{password}"
listen = "127.0.0.1:{cb}"
callback_secret = "{secret}"
allow_from = ["127.0.0.0/8"]
status_url = "{status}"
status_password = "{status_password}""#,
            sendsms = p.sendsms,
            user = p.user,
            password = p.password,
            cb = p.callback_port,
            secret = p.secret,
            status = p.status_url,
            status_password = p.status_password,
        ))
        .render()
}

/// umsgate on the callback port (held locked while it runs) in front of Kannel and Postfix.
struct Gate {
    work: Work,
    daemon: Daemon,
    smtp: SocketAddr,
    _lock: std::fs::File,
}

fn start(name: &str, p: &Peers, method: &str) -> Gate {
    let lock = support::lock_port(p.callback_port);
    let work = Work::new(name);
    let smtp = free_addr();
    std::fs::write(work.dir.join("users.toml"), USERS).unwrap();
    std::fs::write(work.config_path(), config(smtp, p, method)).unwrap();
    let mut daemon = Daemon::run(&work, smtp);
    daemon.wait_ready();
    Gate {
        work,
        daemon,
        smtp,
        _lock: lock,
    }
}

impl Gate {
    fn mail(&self, to: &str, subject: &str, body: &str) {
        let m = format!(
            "From: Jane Doe <jane@example.com>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\
             Message-ID: <{}@e2e.test>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
            nonce()
        );
        let (mut c, greeting) = Smtp::connect(self.smtp).unwrap();
        assert_eq!(greeting.code, 220, "{greeting:?}");
        c.ehlo("client.e2e.test").unwrap();
        c.send("jane@example.com", &[to], m.as_bytes())
            .unwrap()
            .unwrap_or_else(|r| panic!("umsgate refused the mail to {to}: {r:?}"));
        c.quit();
    }

    fn stop(mut self) {
        let st = self.daemon.sigterm();
        assert!(st.success(), "umsgate exit {st}\n{}", self.daemon.output());
    }
}

/// The test as Kannel's SMS centre.
struct Smsc {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Smsc {
    fn connect(addr: SocketAddr) -> Smsc {
        let s = support::wait_for("the fake SMSC port", || TcpStream::connect(addr).ok());
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        Smsc {
            writer: s.try_clone().unwrap(),
            reader: BufReader::new(s),
        }
    }

    /// Sends an SMS to Kannel, as a phone would (`FROM TO text TEXT`).
    fn mo(&mut self, from: &str, to: &str, text: &str) {
        self.writer
            .write_all(format!("{from} {to} text {text}\n").as_bytes())
            .unwrap();
    }

    /// The next MT line whose decoded text contains `needle`: `(from, to, type, text)`.
    fn wait_mt(&mut self, needle: &str) -> (String, String, String, String) {
        let end = Instant::now() + DEADLINE;
        let mut seen = Vec::new();
        let mut line = Vec::new();
        while Instant::now() < end {
            match self.reader.read_until(b'\n', &mut line) {
                Ok(0) => panic!("Kannel closed the SMSC connection; seen: {seen:?}"),
                Ok(_) if line.ends_with(b"\n") => {
                    let l = String::from_utf8_lossy(&line).trim_end().to_owned();
                    line.clear();
                    if let Some(mt) = parse_mt(&l)
                        && mt.3.contains(needle)
                    {
                        return mt;
                    }
                    seen.push(l);
                }
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("reading from Kannel: {e}"),
            }
        }
        panic!("no MT with {needle:?} within {DEADLINE:?}; seen: {seen:?}")
    }
}

/// `+` is a space, `%XX` a byte.
fn url_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// A fake-SMSC MT line: `FROM TO text TEXT` or `FROM TO ucs-2 URLENCODED-UTF16BE`.
fn parse_mt(l: &str) -> Option<(String, String, String, String)> {
    let mut it = l.splitn(4, ' ');
    let (from, to, kind, rest) = (it.next()?, it.next()?, it.next()?, it.next().unwrap_or(""));
    let text = match kind {
        "text" => rest.to_owned(),
        "ucs-2" => {
            let bytes = url_decode(rest);
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()?
        }
        _ => return None,
    };
    Some((from.into(), to.into(), kind.into(), text))
}

/// Waits for a mail in `dir` containing every one of `needles`; returns its text.
fn wait_mail(dir: &Path, needles: &[&str]) -> String {
    support::wait_for(
        &format!("mail with {needles:?} in {}", dir.display()),
        || {
            std::fs::read_dir(dir)
                .ok()?
                .flatten()
                .filter_map(|e| std::fs::read(e.path()).ok())
                .map(|b| decoded(&String::from_utf8_lossy(&b)))
                .find(|m| needles.iter().all(|n| m.contains(n)))
        },
    )
}

/// A mail with its quoted-printable and base64 text parts decoded, for searching.
fn decoded(raw: &str) -> String {
    let msg = mail_parser::MessageParser::default().parse(raw.as_bytes());
    let mut s = raw.to_owned();
    if let Some(m) = msg {
        for i in 0..m.text_body_count() {
            if let Some(t) = m.body_text(i) {
                s.push_str(&t);
            }
        }
        if let Some(subj) = m.subject() {
            s.push_str(subj);
        }
    }
    s
}

#[test]
fn mail_to_sms_reaches_the_sms_centre_in_its_coding_and_the_dlr_becomes_a_report() {
    let p = peers();
    let g = start("kannel-out", &p, "get");
    let mut smsc = Smsc::connect(p.smsc);
    let inbox = p.maildirs.join("jane").join("new");

    // Umlauts and € are in the GSM alphabet; the dash is not: the whole SMS goes as UCS-2.
    let m1 = nonce();
    g.mail(
        "+4930123456@sms.example.com",
        &format!("sms {m1}"),
        &format!("Grüße aus Köln – 5 € {m1}"),
    );
    let (from, to, kind, text) = smsc.wait_mt(&m1);
    assert_eq!(
        (from.as_str(), to.as_str(), kind.as_str()),
        (JANE_MOBILE, "+4930123456", "ucs-2")
    );
    assert!(
        text.contains(&format!("Grüße aus Köln – 5 € {m1}")),
        "{text}"
    );

    // GSM-only text (umlauts, €): 7-bit.
    let m2 = nonce();
    g.mail(
        "+4930123456@sms.example.com",
        &format!("sms {m2}"),
        &format!("Grüße 5 € {m2}"),
    );
    let (_, _, kind, text) = smsc.wait_mt(&m2);
    assert_eq!(kind, "text", "{text}");
    assert!(text.contains(&format!("Grüße 5 € {m2}")), "{text}");

    // Kannel's fake SMSC confirms delivery: the DLR becomes jane's delivery report.
    wait_mail(&inbox, &[&m1, "SMS to +4930123456: sent"]);
    wait_mail(&inbox, &[&m2, "SMS to +4930123456: sent"]);

    // A fax job on an SMS-only engine is refused with a report naming the reason.
    let m3 = nonce();
    g.mail(
        "+4930123456@fax.example.com",
        &format!("fax {m3}"),
        &format!("Bitte faxen {m3}"),
    );
    wait_mail(&inbox, &[&m3, "not delivered", "SMS only"]);

    // umsgate check reads Kannel's status page: its SMSC (this test) is online.
    let out = g.work.umsgate(&["check"]);
    let text = describe(&out);
    assert!(
        text.contains("kannel: Kannel runs, 1 of 1 SMSC online"),
        "{text}"
    );
    drop(smsc);
    g.stop();
}

#[test]
fn an_sms_from_the_sms_centre_reaches_its_owners_mailbox() {
    let p = peers();
    let g = start("kannel-in", &p, "get");
    let mut smsc = Smsc::connect(p.smsc);
    let marker = nonce();
    // The SMS centre gives the called number in national form; umsgate reads it with the
    // site's plan and finds jane by +49 8142 4799123.
    smsc.mo(
        "+4915112345678",
        "081424799123",
        &format!("Bitte zurückrufen € {marker}"),
    );
    let inbox = p.maildirs.join("jane").join("new");
    wait_mail(
        &inbox,
        &[
            "SMS from +49 1511 2345678",
            &format!("Bitte zurückrufen € {marker}"),
        ],
    );
    drop(smsc);
    g.stop();
}

#[test]
fn with_post_the_text_travels_as_the_body() {
    let p = peers();
    let g = start("kannel-post", &p, "post");
    let mut smsc = Smsc::connect(p.smsc);
    let m = nonce();
    g.mail(
        "+4930123456@sms.example.com",
        &format!("sms {m}"),
        &format!("Grüße – über POST {m}"),
    );
    let (from, to, kind, text) = smsc.wait_mt(&m);
    assert_eq!(
        (from.as_str(), to.as_str(), kind.as_str()),
        (JANE_MOBILE, "+4930123456", "ucs-2")
    );
    assert!(text.contains(&format!("Grüße – über POST {m}")), "{text}");
    let inbox = p.maildirs.join("jane").join("new");
    wait_mail(&inbox, &[&m, "SMS to +4930123456: sent"]);
    drop(smsc);
    g.stop();
}

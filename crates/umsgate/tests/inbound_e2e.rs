//! Inbound end to end, black box: `umsgate send-test` puts a received fax or SMS into the
//! running binary's `received/`; the mail that comes out is read where its owner would read
//! it — umsgate's own Maildir delivery, or the real Postfix of the test peers
//! (scripts/mail/start.sh), which delivers example.com into
//! `$MAIL_MAILDIR_BASE/<localpart>/new/` and relays fax/sms/voice.example.com back to umsgate
//! on `$MAIL_GATEWAY_PORT`.
//!
//! Tests that use Postfix need `UMSGATE_TEST_PEERS=1` and the `MAIL_*` variables and fail
//! with a clear message without them. Every test that listens on the gateway port holds
//! [`support::lock_port`] while its umsgate runs. Nothing here asserts how long anything
//! takes; waits end at the harness deadline.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use mail_parser::{MessageParser, MimeHeaders};
use support::{
    Daemon, Delivery, INSTANCE, Smtp, TestConfig, Work, describe, free_addr, nonce, peer_env,
};

// ------------------------------------------------------------------------------------------
// A running umsgate

/// Where umsgate delivers mail for the mail server.
enum MailServer {
    /// `maildir = "maildir/"` in the work folder.
    Maildir,
    /// SMTP to this host and port, without TLS.
    Smtp(String, String),
}

struct Gate {
    work: Work,
    daemon: Daemon,
    _lock: Option<std::fs::File>,
}

fn config_text(listen: SocketAddr, mail: &MailServer) -> String {
    let delivery = match mail {
        MailServer::Maildir => Delivery::Maildir,
        MailServer::Smtp(host, port) => Delivery::Smtp(
            host.clone(),
            port.parse().expect("MAIL_SMTP_PORT is a port"),
        ),
    };
    TestConfig::new(listen)
        .title("umsgate inbound end-to-end test")
        .site()
        .name("umsgate inbound e2e")
        .delivery(delivery)
        .mail("retry = [\"1s\"]")
        .gateway("kind = \"sim\"\ndelay = \"100ms\"")
        .render()
}

/// Writes the configuration and `users.toml` into a new work folder.
fn prepare(name: &str, users: &str, listen: SocketAddr, mail: &MailServer) -> Work {
    let work = Work::new(name);
    std::fs::write(work.dir.join("users.toml"), users).unwrap();
    std::fs::write(work.config_path(), config_text(listen, mail)).unwrap();
    work
}

/// umsgate with Maildir delivery on a free port.
fn start_maildir(name: &str, users: &str) -> Gate {
    let listen = free_addr();
    let work = prepare(name, users, listen, &MailServer::Maildir);
    let mut daemon = Daemon::run(&work, listen);
    daemon.wait_ready();
    Gate {
        work,
        daemon,
        _lock: None,
    }
}

/// The test peers' Postfix.
struct Postfix {
    host: String,
    port: String,
    gateway: SocketAddr,
    maildirs: PathBuf,
}

fn postfix() -> Postfix {
    let gateway: u16 = peer_env("MAIL_GATEWAY_PORT")
        .parse()
        .expect("MAIL_GATEWAY_PORT is a port number");
    Postfix {
        host: peer_env("MAIL_SMTP_HOST"),
        port: peer_env("MAIL_SMTP_PORT"),
        gateway: SocketAddr::from(([127, 0, 0, 1], gateway)),
        maildirs: PathBuf::from(peer_env("MAIL_MAILDIR_BASE")),
    }
}

impl Postfix {
    /// `$MAIL_MAILDIR_BASE/<localpart>/new/`.
    fn inbox(&self, localpart: &str) -> PathBuf {
        self.maildirs.join(localpart).join("new")
    }
}

/// umsgate delivering to Postfix and listening on the gateway port Postfix relays to; the
/// port lock is held as long as it runs.
fn start_behind_postfix(name: &str, users: &str, p: &Postfix) -> Gate {
    let lock = support::lock_port(p.gateway.port());
    let work = prepare(
        name,
        users,
        p.gateway,
        &MailServer::Smtp(p.host.clone(), p.port.clone()),
    );
    let mut daemon = Daemon::run(&work, p.gateway);
    daemon.wait_ready();
    Gate {
        work,
        daemon,
        _lock: Some(lock),
    }
}

impl Gate {
    /// `umsgate send-test --instance it ARGS…`, which must succeed.
    fn send_test(&self, args: &[&str]) {
        let mut full = vec!["send-test", "--instance", INSTANCE];
        full.extend_from_slice(args);
        let out = self.work.umsgate(&full);
        assert!(
            out.status.success(),
            "send-test {args:?}: {}",
            describe(&out)
        );
    }

    /// The Message-ID (with `<>`) umsgate gave the mail of a received message to `to`, from
    /// its `msgid.log` (`out id=… message-id=<…> to=<…> kind=<service> … calling=…`).
    fn wait_message_id(&self, to: &str, kind: &str, calling: &str) -> String {
        let path = self.work.log("msgid");
        support::wait_for(&format!("msgid.log line for the {kind} to {to}"), || {
            std::fs::read_to_string(&path)
                .unwrap_or_default()
                .lines()
                .find(|l| {
                    l.contains(" out id=")
                        && l.contains(&format!(" to=<{to}> "))
                        && l.contains(&format!(" kind={kind} "))
                        && l.contains(&format!(" calling={calling} called="))
                })
                .and_then(|l| {
                    let v = l.split(" message-id=").nth(1)?;
                    Some(v.split(' ').next()?.to_owned())
                })
        })
    }

    fn sent_jobs(&self) -> Vec<serde_json::Value> {
        let p = self
            .work
            .dir
            .join("state")
            .join(INSTANCE)
            .join("gateway/sim/sent.jsonl");
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn stop(mut self) {
        let st = self.daemon.sigterm();
        assert!(st.success(), "umsgate exit {st}\n{}", self.daemon.output());
    }
}

// ------------------------------------------------------------------------------------------
// Mail

/// A delivered mail file.
#[derive(Debug)]
struct Mail {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Mail {
    fn raw(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The unfolded value of the first header `name` (case-insensitive).
    fn header(&self, name: &str) -> Option<String> {
        let raw = self.raw();
        let head = raw.split("\r\n\r\n").next().unwrap_or("");
        let mut value: Option<String> = None;
        for line in head.split('\n').map(|l| l.trim_end_matches('\r')) {
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

fn read_maildir(dir: &Path) -> Vec<Mail> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| {
            Some(Mail {
                bytes: std::fs::read(e.path()).ok()?,
                path: e.path(),
            })
        })
        .collect()
}

/// Waits for the mail with Message-ID `id` (with `<>`) in a Maildir `new/` folder.
fn wait_mail(dir: &Path, id: &str) -> Mail {
    support::wait_for(&format!("mail {id} in {}", dir.display()), || {
        read_maildir(dir)
            .into_iter()
            .find(|m| m.header("Message-ID").as_deref() == Some(id))
    })
}

fn testdata(name: &str) -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../testdata/samples")
    .join(name)
}

/// The PDF attachment of a fax mail, base64 decoded: checked with `pdfinfo`, returns its
/// page count.
fn pdf_pages(mail: &Mail, scratch: &Path) -> u32 {
    let m = MessageParser::default()
        .parse(&mail.bytes)
        .unwrap_or_else(|| panic!("not a mail: {}", mail.path.display()));
    let pdf = m
        .attachments()
        .find(|a| {
            a.content_type()
                .is_some_and(|c| c.ctype() == "application" && c.subtype() == Some("pdf"))
        })
        .unwrap_or_else(|| panic!("no application/pdf part:\n{}", mail.raw()));
    assert_eq!(
        pdf.content_transfer_encoding()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("base64"),
        "{}",
        mail.raw()
    );
    assert_eq!(pdf.attachment_name(), Some("fax.pdf"), "{}", mail.raw());
    let data = pdf.contents();
    assert!(
        data.starts_with(b"%PDF-"),
        "not a PDF after base64 decoding"
    );
    let file = scratch.join(format!("fax-{}.pdf", nonce()));
    std::fs::write(&file, data).unwrap();
    support::pdf_pages(&file)
}

/// The HTML part of a mail (there must be one) and the images it names by `cid:`, each
/// checked to be a PNG part of the mail with that Content-ID, 864 pixels wide: returns how
/// many.
fn html_previews(mail: &Mail) -> usize {
    let m = MessageParser::default().parse(&mail.bytes).unwrap();
    let html_part = m
        .html_body
        .first()
        .and_then(|id| m.part(*id))
        .unwrap_or_else(|| panic!("no HTML part:\n{}", mail.raw()));
    let ct = html_part.content_type().unwrap();
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("text", Some("html")),
        "{}",
        mail.raw()
    );
    let html = m.body_html(0).unwrap().into_owned();
    let mut n = 0;
    for rest in html.split("src=\"cid:").skip(1) {
        let cid = rest.split('"').next().unwrap();
        let part = m
            .parts
            .iter()
            .find(|p| p.content_id() == Some(cid))
            .unwrap_or_else(|| panic!("no part <{cid}>:\n{}", mail.raw()));
        let ct = part.content_type().unwrap();
        assert_eq!((ct.ctype(), ct.subtype()), ("image", Some("png")));
        let png = png::Decoder::new(std::io::Cursor::new(part.contents()))
            .read_info()
            .unwrap_or_else(|e| panic!("<{cid}> is not a PNG: {e}"));
        assert_eq!(png.info().width, 864, "<{cid}>");
        n += 1;
    }
    n
}

/// Sends one message into Postfix.
fn submit(p: &Postfix, from: &str, to: &str, message: &[u8]) {
    let addr = format!("{}:{}", p.host, p.port);
    let (mut c, greeting) = Smtp::connect(addr.as_str())
        .unwrap_or_else(|e| panic!("cannot reach Postfix at {addr}: {e}"));
    assert_eq!(greeting.code, 220, "{greeting:?}");
    c.ehlo("client.example.com").unwrap();
    c.send(from, &[to], message)
        .unwrap()
        .unwrap_or_else(|r| panic!("Postfix refused the mail to {to}: {r:?}"));
    c.quit();
}

// ------------------------------------------------------------------------------------------
// The tests

const JANE: &str = r#"
[[user]]
mail = "jane@example.com"
name = "Jane Doe"
numbers = ["+49 8142 4799123"]
ums = "ums1;fax.rights=international;sms.rights=national"
"#;

#[test]
fn sms_from_send_test_lands_in_the_owners_maildir_as_utf8_text() {
    let g = start_maildir("in-sms", JANE);
    let marker = format!("sms-{}", nonce());
    let text = format!("Grüße aus München 👋 Rückruf bitte – {marker}");
    g.send_test(&[
        "--type",
        "sms",
        "--calling",
        "+49 170 1234567",
        "--called",
        "+49 8142 4799123",
        "--text",
        &text,
    ]);

    let inbox = g.work.dir.join("maildir/jane@example.com/new");
    let mail = support::wait_for(&format!("the SMS in {}", inbox.display()), || {
        read_maildir(&inbox).into_iter().find(|m| {
            MessageParser::default()
                .parse(&m.bytes)
                .and_then(|p| p.body_text(0).map(|t| t.contains(&marker)))
                .unwrap_or(false)
        })
    });
    let parsed = MessageParser::default().parse(&mail.bytes).unwrap();
    let body = parsed.body_text(0).unwrap();
    assert!(
        body.contains(&text),
        "the SMS text is not intact (umlauts, emoji):\n{body}\n--- raw\n{}",
        mail.raw()
    );
    let part = parsed
        .text_bodies()
        .next()
        .unwrap_or_else(|| panic!("no text body:\n{}", mail.raw()));
    let ct = part
        .content_type()
        .unwrap_or_else(|| panic!("text body without Content-Type:\n{}", mail.raw()));
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("text", Some("plain")),
        "{}",
        mail.raw()
    );
    assert!(
        ct.attribute("charset")
            .is_some_and(|c| c.eq_ignore_ascii_case("utf-8")),
        "charset is not utf-8: {ct:?}\n{}",
        mail.raw()
    );
    assert_eq!(
        parsed.attachment_count(),
        0,
        "an SMS mail has no attachment"
    );
    // The HTML alternative carries the text too, and no image.
    assert_eq!(html_previews(&mail), 0);
    assert!(
        parsed
            .body_html(0)
            .is_some_and(|h| h.contains("Grüße aus München 👋 Rückruf bitte")),
        "{}",
        mail.raw()
    );
    assert_eq!(
        mail.header("From").as_deref(),
        Some("<+491701234567@sms.example.com>"),
        "{}",
        mail.raw()
    );
    assert!(
        mail.header("To")
            .is_some_and(|t| t.contains("<jane@example.com>")),
        "{}",
        mail.raw()
    );
    g.stop();
}

/// An SMS may hold a bare CR (the GSM alphabet has one). This one tries to end the mail after
/// a bare CR and smuggle a second one in: it must reach Postfix as one mail, its text intact
/// as text, and no bare CR left in it.
#[test]
fn a_hostile_sms_reaches_postfix_as_one_mail_without_a_bare_cr() {
    let p = postfix();
    let g = start_behind_postfix("in-sms-cr", POSTFIX_USERS, &p);
    let marker = format!("smuggle-{}", nonce());
    let text = format!(
        "x\r.\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<postmaster@example.com>\r\n\
         DATA\r\nSubject: forged {marker}\r\n\r\nforged\r\n.\r\nend {marker}\rlast"
    );
    g.send_test(&[
        "--type",
        "sms",
        "--calling",
        "+49 170 1234567",
        "--called",
        "+49 8142 4799123",
        "--text",
        &text,
    ]);
    let id = g.wait_message_id("jane@example.com", "sms", "+49 170 1234567");
    let mail = wait_mail(&p.inbox("jane"), &id);
    let raw = mail.raw();
    assert!(
        !raw.replace("\r\n", "\n").contains('\r'),
        "a bare CR reached the mailbox:\n{raw:?}"
    );
    let parsed = MessageParser::default().parse(&mail.bytes).unwrap();
    let body = parsed.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(
        body.contains(&format!(
            "x\n.\nMAIL FROM:<evil@example.net>\nRCPT TO:<postmaster@example.com>\nDATA\n\
             Subject: forged {marker}\n\nforged\n.\nend {marker}\nlast"
        )),
        "{body}"
    );
    g.stop();
    let forged = std::fs::read_dir(p.inbox("postmaster"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path())
                .is_ok_and(|m| m.contains(&format!("Subject: forged {marker}")))
        })
        .count();
    assert_eq!(forged, 0, "a second mail was smuggled through");
}

const POSTFIX_USERS: &str = r#"
[[user]]
mail = "jane@example.com"
name = "Jane Doe"
numbers = ["+49 8142 4799123"]
ums = "ums1;fax.rights=international"

[[user]]
mail = "erika.musterfrau@example.com"
name = "Erika Musterfrau"
numbers = ["+49 8142 4799177"]

[[user]]
mail = "thomas.huber@example.com"
name = "Thomas Huber"
numbers = ["+49 8142 4799177"]
"#;

#[test]
fn received_faxes_reach_their_owners_through_postfix() {
    let p = postfix();
    let g = start_behind_postfix("in-postfix", POSTFIX_USERS, &p);
    let tif = testdata("fax_3p_g4.tif");
    let tif = tif.to_str().unwrap();

    // A 3-page fax for jane.
    g.send_test(&[
        "--type",
        "fax",
        "--file",
        tif,
        "--calling",
        "+49 30 9876543 20",
        "--called",
        "+49 8142 4799123",
    ]);
    // A number nobody owns: the default recipient.
    g.send_test(&[
        "--type",
        "fax",
        "--calling",
        "+49 30 9876543 21",
        "--called",
        "+49 8142 4799555",
    ]);
    // A number two users share: both.
    g.send_test(&[
        "--type",
        "fax",
        "--calling",
        "+49 30 9876543 22",
        "--called",
        "+49 8142 4799177",
    ]);

    let id = g.wait_message_id("jane@example.com", "fax", "+49 30 9876543 20");
    let mail = wait_mail(&p.inbox("jane"), &id);
    assert_eq!(
        mail.header("From").as_deref(),
        Some("<+4930987654320@fax.example.com>"),
        "{}",
        mail.raw()
    );
    assert!(
        mail.header("Received")
            .is_some_and(|r| r.contains("(Postfix)")),
        "not delivered by Postfix:\n{}",
        mail.raw()
    );
    assert_eq!(pdf_pages(&mail, &g.work.dir), 3, "{}", mail.path.display());
    // The HTML part shows the first page (`reports.preview_pages` = 1 by default), through
    // Postfix.
    assert_eq!(html_previews(&mail), 1, "{}", mail.path.display());

    let id = g.wait_message_id("postmaster@example.com", "fax", "+49 30 9876543 21");
    let mail = wait_mail(&p.inbox("postmaster"), &id);
    assert_eq!(
        mail.header("From").as_deref(),
        Some("<+4930987654321@fax.example.com>"),
        "{}",
        mail.raw()
    );
    assert_eq!(pdf_pages(&mail, &g.work.dir), 1);

    for (address, localpart) in [
        ("erika.musterfrau@example.com", "erika.musterfrau"),
        ("thomas.huber@example.com", "thomas.huber"),
    ] {
        let id = g.wait_message_id(address, "fax", "+49 30 9876543 22");
        let mail = wait_mail(&p.inbox(localpart), &id);
        assert!(
            mail.header("To").is_some_and(|t| t.contains(address)),
            "{}",
            mail.raw()
        );
        assert_eq!(
            mail.header("From").as_deref(),
            Some("<+4930987654322@fax.example.com>")
        );
    }
    g.stop();
}

#[test]
fn reply_to_a_received_fax_goes_back_through_postfix_as_a_fax_job() {
    let p = postfix();
    let g = start_behind_postfix("in-reply", POSTFIX_USERS, &p);
    let tif = testdata("fax_3p_g4.tif");
    g.send_test(&[
        "--type",
        "fax",
        "--file",
        tif.to_str().unwrap(),
        "--calling",
        "+49 30 9876543 20",
        "--called",
        "+49 8142 4799123",
    ]);
    let id = g.wait_message_id("jane@example.com", "fax", "+49 30 9876543 20");
    let fax = wait_mail(&p.inbox("jane"), &id);
    let from = fax.header("From").unwrap();
    let to = from.trim_start_matches('<').trim_end_matches('>');
    assert_eq!(to, "+4930987654320@fax.example.com", "{}", fax.raw());

    // jane answers the fax mail; her mail server relays the answer to umsgate.
    let marker = format!("reply-{}", nonce());
    let reply = format!(
        "From: Jane Doe <jane@example.com>\r\nTo: {from}\r\nSubject: Re: fax {marker}\r\n\
         Message-ID: <{marker}@example.com>\r\nIn-Reply-To: {id}\r\nReferences: {id}\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Danke, Auftrag bestätigt. {marker}\r\n"
    );
    submit(&p, "jane@example.com", to, reply.as_bytes());

    let job = support::wait_for("the reply as a job in sent.jsonl", || {
        g.sent_jobs()
            .into_iter()
            .find(|j| j["subject"].as_str().is_some_and(|s| s.contains(&marker)))
    });
    assert_eq!(job["service"], "fax", "{job}");
    assert_eq!(job["e164"], "+4930987654320", "{job}");
    assert_eq!(job["sender"], "jane@example.com", "{job}");
    assert_eq!(job["pages"], 1, "{job}");
    g.stop();
}

/// `umsgate check` on a configuration whose mail server is the running Postfix says that
/// the mail server answers; with nothing listening on the configured port it fails (exit 1).
#[test]
fn check_reports_whether_the_mail_server_answers() {
    let p = postfix();
    let work = prepare(
        "in-check",
        JANE,
        free_addr(),
        &MailServer::Smtp(p.host.clone(), p.port.clone()),
    );
    let out = work.umsgate(&["check"]);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("configuration is valid"),
        "{}",
        describe(&out)
    );
    let line = stdout
        .lines()
        .find(|l| l.contains("mail server"))
        .unwrap_or_else(|| {
            panic!(
                "check says nothing about the mail server:\n{}",
                describe(&out)
            )
        });
    assert!(
        line.contains("mail server: ok")
            && line.contains(&format!("{}:{}", p.host, p.port))
            && line.contains("connected"),
        "the mail server line does not say that Postfix answers: {line}"
    );

    // Nothing listens on a port that was just free: the check fails and says where.
    let closed = free_addr();
    let work = prepare(
        "in-check-closed",
        JANE,
        free_addr(),
        &MailServer::Smtp(closed.ip().to_string(), closed.port().to_string()),
    );
    let out = work.umsgate(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("mail server: FAILED") && l.contains(&closed.port().to_string())),
        "{}",
        describe(&out)
    );
}

/// A fax whose first page does not decode (its coded data overwritten; the PDF passes the
/// data through) is still mailed: the PDF attached, the HTML without a preview.
#[test]
fn a_fax_whose_pages_cannot_be_decoded_is_mailed_without_a_preview() {
    let g = start_maildir("in-nopreview", JANE);
    let mut tif = std::fs::read(testdata("fax_3p_g4.tif")).unwrap();
    // Page 1's only strip is bytes 8..37814 (tiffinfo -s).
    for b in &mut tif[200..20_000] {
        *b = 0;
    }
    let file = g.work.dir.join("undecodable.tif");
    std::fs::write(&file, &tif).unwrap();
    g.send_test(&[
        "--type",
        "fax",
        "--file",
        file.to_str().unwrap(),
        "--calling",
        "+49 30 9876543 29",
        "--called",
        "+49 8142 4799123",
    ]);
    let id = g.wait_message_id("jane@example.com", "fax", "+49 30 9876543 29");
    let mail = wait_mail(&g.work.dir.join("maildir/jane@example.com/new"), &id);
    assert_eq!(pdf_pages(&mail, &g.work.dir), 3, "{}", mail.raw());
    assert_eq!(html_previews(&mail), 0);
    let parsed = MessageParser::default().parse(&mail.bytes).unwrap();
    assert!(
        parsed
            .body_html(0)
            .is_some_and(|h| h.contains("No preview of this fax can be shown.")),
        "{}",
        mail.raw()
    );
    g.stop();
}

/// An administrator's files in `service.templates_dir` change what an inbound mail says: the
/// template `inbound/sms.txt.j2` replaces the embedded one, and `en/inbound.ftl` replaces
/// the English strings it defines (here the subject) and keeps the others.
#[test]
fn an_override_template_in_templates_dir_changes_the_inbound_mail() {
    let listen = free_addr();
    let work = prepare("in-override", JANE, listen, &MailServer::Maildir);
    let config = config_text(listen, &MailServer::Maildir).replace(
        "log_dir = \"log\"\n",
        "log_dir = \"log\"\ntemplates_dir = \"templates\"\n",
    );
    std::fs::write(work.config_path(), config).unwrap();
    let templates = work.dir.join("templates");
    std::fs::create_dir_all(templates.join("inbound")).unwrap();
    std::fs::create_dir_all(templates.join("en")).unwrap();
    std::fs::write(
        templates.join("inbound/sms.txt.j2"),
        "Text message for {{ called }}, sent by {{ caller }} ({{ service_name }}):\n\n\
         {{ text }}\n\n-- \nYour switchboard\n",
    )
    .unwrap();
    std::fs::write(
        templates.join("en/inbound.ftl"),
        "subject = Text message from { $caller }\n",
    )
    .unwrap();
    let mut daemon = Daemon::run(&work, listen);
    daemon.wait_ready();
    let g = Gate {
        work,
        daemon,
        _lock: None,
    };

    let marker = format!("override-{}", nonce());
    g.send_test(&[
        "--type",
        "sms",
        "--calling",
        "+49 170 1234567",
        "--called",
        "+49 8142 4799123",
        "--text",
        &marker,
    ]);
    let id = g.wait_message_id("jane@example.com", "sms", "+49 170 1234567");
    let mail = wait_mail(&g.work.dir.join("maildir/jane@example.com/new"), &id);
    let parsed = MessageParser::default().parse(&mail.bytes).unwrap();
    let body = parsed.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(
        body,
        format!(
            "Text message for +49 8142 4799123, sent by +49 170 1234567 (SMS):\n\n\
             {marker}\n\n-- \nYour switchboard\n"
        ),
        "{}",
        mail.raw()
    );
    assert_eq!(
        parsed.subject(),
        Some("Text message from +49 170 1234567"),
        "{}",
        mail.raw()
    );
    g.stop();
}

/// A template that fails only on some messages (it passed the check at start-up): such a
/// message is kept in `received/error/` with the reason, and the next one is mailed.
#[test]
fn a_message_whose_text_cannot_be_rendered_is_kept_in_received_error() {
    let listen = free_addr();
    let work = prepare("in-render-error", JANE, listen, &MailServer::Maildir);
    let config = config_text(listen, &MailServer::Maildir).replace(
        "log_dir = \"log\"\n",
        "log_dir = \"log\"\ntemplates_dir = \"templates\"\n",
    );
    std::fs::write(work.config_path(), config).unwrap();
    std::fs::create_dir_all(work.dir.join("templates/inbound")).unwrap();
    std::fs::write(
        work.dir.join("templates/inbound/sms.txt.j2"),
        "{% if text == \"boom\" %}{{ nowhere }}{% endif %}SMS: {{ text }}\n",
    )
    .unwrap();
    let mut daemon = Daemon::run(&work, listen);
    daemon.wait_ready();
    let g = Gate {
        work,
        daemon,
        _lock: None,
    };
    let sms = |text: &str| {
        g.send_test(&[
            "--type",
            "sms",
            "--calling",
            "+49 170 1234567",
            "--called",
            "+49 8142 4799123",
            "--text",
            text,
        ]);
    };
    sms("boom");
    let errors = g
        .work
        .dir
        .join("state")
        .join(INSTANCE)
        .join("received/error");
    let reason = support::wait_for("a message in received/error/", || {
        std::fs::read_dir(&errors)
            .ok()?
            .flatten()
            .find_map(|e| std::fs::read_to_string(e.path().join("reason.txt")).ok())
    });
    assert!(
        reason.contains("cannot write the mail text") && reason.contains("nowhere"),
        "{reason}"
    );

    let marker = format!("fine-{}", nonce());
    sms(&marker);
    let inbox = g.work.dir.join("maildir/jane@example.com/new");
    let mail = support::wait_for("the second SMS", || {
        read_maildir(&inbox)
            .into_iter()
            .find(|m| m.raw().contains(&marker))
    });
    let parsed = MessageParser::default().parse(&mail.bytes).unwrap();
    assert_eq!(
        parsed.body_text(0).unwrap().replace("\r\n", "\n"),
        format!("SMS: {marker}\n")
    );
    assert_eq!(read_maildir(&inbox).len(), 1, "the broken SMS was mailed");
    g.stop();
}

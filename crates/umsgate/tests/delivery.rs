//! Delivery of `smtp-out/` to the mail server, driven in-process: the real Postfix of the test
//! peers (`UMSGATE_TEST_PEERS=1`, `MAIL_*`), a closed port, and a scripted in-test SMTP server
//! for the 4xx/5xx matrix. Deadlines only keep a broken run from hanging; nothing asserts how
//! long anything takes.
#![allow(clippy::unwrap_used, unreachable_pub)]

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::watch;

use support::{DEADLINE, Work, free_addr, nonce, peer_env};
use umsgate::config::{Config, MailConfig};
use umsgate::delivery::{Delivery, check_mail_server};
use umsgate::logs::InstanceLogs;
use umsgate::spool::layout::InstanceDirs;
use umsgate::spool::{Origin, QueueId, Recipient, Sidecar, Spool, sidecar};

const INSTANCE: &str = "dl";

// ------------------------------------------------------------------------------------------
// Harness

/// One instance's folders, config and a running delivery worker.
struct Rig {
    work: Work,
    config: Config,
    dirs: InstanceDirs,
    spool: Spool,
    delivery: Arc<Delivery>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// `[instance.mail]` lines for an SMTP server without TLS.
fn smtp_mail(addr: SocketAddr, retry: &str) -> String {
    format!(
        "server = \"{}\"\nport = {}\nretry = {retry}\ntls = {{ mode = \"none\" }}\n",
        addr.ip(),
        addr.port()
    )
}

impl Rig {
    /// Parses a configuration with `mail_extra` in `[instance.mail]` and starts delivery.
    async fn start(name: &str, mail_extra: &str) -> Rig {
        let work = Work::new(&format!("delivery-{name}"));
        let text = format!(
            r#"[service]
state_dir = "state"
log_dir = "log"

[[instance]]
id = "{INSTANCE}"

[instance.smtp_in]
listen = ["{listen}"]

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
{mail_extra}

[instance.directory]
kind = "file"
path = "users.toml"

[instance.gateway]
kind = "sim"
"#,
            listen = free_addr()
        );
        let path = work.write_config(&text);
        let config = Config::parse(&text, &path).unwrap_or_else(|e| panic!("{e}"));
        let inst = &config.instances[0];
        let dirs = InstanceDirs::new(&config.instance_state_dir(inst.id.get_ref()));
        dirs.create().unwrap();
        let logs = Arc::new(
            InstanceLogs::open(
                &config.instance_log_dir(inst.id.get_ref()),
                config.service.log_rotate,
            )
            .unwrap(),
        );
        let (spool, _) = Spool::open(&dirs.smtp_out).unwrap();
        let (delivery, stop, task) = run(&inst.mail, &spool, &dirs, &logs);
        Rig {
            work,
            config,
            dirs,
            spool,
            delivery,
            stop,
            task,
        }
    }

    fn mail(&self) -> &MailConfig {
        &self.config.instances[0].mail
    }

    /// Stores a message in `smtp-out/` as umsgate itself does.
    async fn queue(&self, from: &str, rcpts: &[&str], eml: Vec<u8>) -> String {
        let s = local_sidecar(from, rcpts);
        self.spool.store(s, eml).await.unwrap().to_string()
    }

    fn out(&self, id: &str, ext: &str) -> PathBuf {
        self.dirs.smtp_out.join(format!("{id}.{ext}"))
    }

    /// Waits until the pair `id` in `smtp-out/` records its first failed attempt; its sidecar.
    async fn first_deferral(&self, id: &str) -> serde_json::Value {
        wait_for("deferred sidecar", || {
            let v = sidecar_of(&self.out(id, "json"));
            (v["attempts"] == 1).then_some(v)
        })
        .await
    }

    fn bad(&self, id: &str, ext: &str) -> PathBuf {
        self.dirs.badmail.join(format!("{id}.{ext}"))
    }

    fn log(&self, category: &str) -> String {
        let p = self
            .work
            .dir
            .join("log")
            .join(INSTANCE)
            .join(format!("{category}.log"));
        std::fs::read_to_string(p).unwrap_or_default()
    }

    async fn stop(self) -> Work {
        self.stop.send(true).unwrap();
        tokio::time::timeout(DEADLINE, self.task)
            .await
            .expect("delivery did not stop")
            .unwrap();
        self.work
    }
}

/// The sidecar umsgate writes for a mail of its own, with a new id.
fn local_sidecar(from: &str, rcpts: &[&str]) -> Sidecar {
    Sidecar {
        v: sidecar::VERSION,
        id: QueueId::generate(),
        instance: INSTANCE.parse().unwrap(),
        received_at: std::time::UNIX_EPOCH + Duration::from_secs(1_795_687_200),
        origin: Origin::Local,
        client: None,
        helo: None,
        tls: false,
        auth: None,
        mail_from: from.into(),
        rcpts: rcpts
            .iter()
            .zip(0..)
            .map(|(r, key)| Recipient::new((*r).into(), None, key))
            .collect(),
        size: 0,
        message_id: None,
        attempts: 0,
        next_attempt: None,
        last_error: None,
    }
}

fn run(
    mail: &MailConfig,
    spool: &Spool,
    dirs: &InstanceDirs,
    logs: &Arc<InstanceLogs>,
) -> (
    Arc<Delivery>,
    watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let delivery = Arc::new(
        Delivery::new(
            INSTANCE.parse().unwrap(),
            mail,
            spool.clone(),
            dirs.badmail.clone(),
            Arc::clone(logs),
        )
        .unwrap(),
    );
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(Arc::clone(&delivery).run(rx));
    (delivery, stop, task)
}

fn message(from: &str, to: &str, marker: &str) -> Vec<u8> {
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: delivery test {marker}\r\n\
         Message-ID: <{marker}@umsgate.test>\r\nX-Umsgate-Test: {marker}\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         body of {marker}\r\n.leading dot line\r\n"
    )
    .into_bytes()
}

fn sidecar_of(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Polls `f` until it returns `Some`, or panics with `what` after [`DEADLINE`].
async fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the instance's `category` log contains `needle`; returns the whole log.
async fn wait_log(rig: &Rig, category: &str, needle: &str) -> String {
    wait_for(&format!("{needle:?} in {category}.log"), || {
        let t = rig.log(category);
        t.contains(needle).then_some(t)
    })
    .await
}

fn rcpts_of(v: &serde_json::Value) -> Vec<String> {
    v["rcpts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap().to_owned())
        .collect()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.is_file());
    v.sort();
    v
}

// ------------------------------------------------------------------------------------------
// A scripted SMTP server

/// One message the fake server accepted.
#[derive(Debug, Clone)]
struct Received {
    from: String,
    rcpts: Vec<String>,
    data: String,
    /// It came over TLS.
    tls: bool,
}

/// What the fake server offers besides plain SMTP.
#[derive(Clone, Default)]
struct Offer {
    pipelining: bool,
    /// STARTTLS with this certificate; nothing but EHLO and STARTTLS before it.
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// Drops the connection, without a word, after each message it took.
    hang_up_after_message: bool,
    /// Takes the message and drops the connection before the final reply.
    hang_up_before_final_reply: bool,
    /// Greets with this (CRLF included) instead of `220`, and then answers `503` to anything.
    greeting: Option<&'static str>,
}

/// Answers 250 to everything except the `RCPT TO` addresses scripted in `rcpt_replies`.
struct FakeSmtp {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeSmtp {
    async fn start(rcpt_replies: &[(&str, &str)]) -> FakeSmtp {
        FakeSmtp::start_with(rcpt_replies, Offer::default()).await
    }

    async fn start_with(rcpt_replies: &[(&str, &str)], offer: Offer) -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        FakeSmtp::serve(listener, rcpt_replies, offer)
    }

    fn serve(listener: TcpListener, rcpt_replies: &[(&str, &str)], offer: Offer) -> FakeSmtp {
        let addr = listener.local_addr().unwrap();
        let replies: Arc<HashMap<String, String>> = Arc::new(
            rcpt_replies
                .iter()
                .map(|(a, r)| (a.to_lowercase(), (*r).to_owned()))
                .collect(),
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let rec = Arc::clone(&received);
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let (replies, rec, offer) = (Arc::clone(&replies), Arc::clone(&rec), offer.clone());
                tokio::spawn(async move {
                    let _ = connection(sock, offer, &replies, &rec).await;
                });
            }
        });
        FakeSmtp {
            addr,
            received,
            task,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn angle(arg: &str) -> String {
    let s = arg.find('<').map_or("", |i| &arg[i + 1..]);
    s.split('>').next().unwrap_or("").to_owned()
}

/// Greets; with STARTTLS offered, takes only EHLO and STARTTLS in clear text, then goes on
/// over TLS.
async fn connection(
    sock: tokio::net::TcpStream,
    offer: Offer,
    replies: &HashMap<String, String>,
    received: &Mutex<Vec<Received>>,
) -> std::io::Result<()> {
    let mut r = BufReader::new(sock);
    if let Some(greeting) = offer.greeting {
        // Like Postfix with smtpd_delay_open_until_valid_rcpt off and a 554 greeting.
        r.get_mut().write_all(greeting.as_bytes()).await?;
        let mut line = String::new();
        while r.read_line(&mut line).await? > 0 {
            line.clear();
            r.get_mut()
                .write_all(b"503 5.5.0 Error: service not available\r\n")
                .await?;
        }
        return Ok(());
    }
    r.get_mut().write_all(b"220 fake.test ESMTP\r\n").await?;
    let Some(acceptor) = offer.tls.clone() else {
        return session(r, &offer, false, replies, received).await;
    };
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if verb.starts_with("EHLO") {
            b"250-fake.test\r\n250 STARTTLS\r\n"
        } else if verb == "STARTTLS" {
            r.get_mut().write_all(b"220 2.0.0 ready\r\n").await?;
            break;
        } else if verb == "QUIT" {
            return Ok(());
        } else {
            b"530 5.7.0 Must issue a STARTTLS command first\r\n"
        };
        r.get_mut().write_all(reply).await?;
    }
    let tls = acceptor.accept(r.into_inner()).await?;
    session(BufReader::new(tls), &offer, true, replies, received).await
}

async fn session<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut r: BufReader<S>,
    offer: &Offer,
    tls: bool,
    replies: &HashMap<String, String>,
    received: &Mutex<Vec<Received>>,
) -> std::io::Result<()> {
    let mut tx: Option<Received> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let verb = cmd
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" if offer.pipelining => {
                "250-fake.test\r\n250-PIPELINING\r\n250 8BITMIME".to_owned()
            }
            "EHLO" => "250-fake.test\r\n250 8BITMIME".to_owned(),
            "MAIL" => {
                tx = Some(Received {
                    from: angle(&cmd),
                    rcpts: Vec::new(),
                    data: String::new(),
                    tls,
                });
                "250 2.1.0 ok".to_owned()
            }
            "RCPT" => {
                let a = angle(&cmd);
                match replies.get(&a.to_lowercase()) {
                    Some(r) => r.clone(),
                    None => {
                        if let Some(t) = tx.as_mut() {
                            t.rcpts.push(a);
                        }
                        "250 2.1.5 ok".to_owned()
                    }
                }
            }
            "DATA" if tx.as_ref().is_none_or(|t| t.rcpts.is_empty()) => {
                "554 5.5.1 Error: no valid recipients".to_owned()
            }
            "DATA" => {
                r.get_mut().write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                if let Some(mut t) = tx.take() {
                    t.data = data;
                    received.lock().unwrap().push(t);
                }
                if offer.hang_up_before_final_reply {
                    return Ok(());
                }
                if offer.hang_up_after_message {
                    r.get_mut()
                        .write_all(b"250 2.0.0 queued as FAKE1\r\n")
                        .await?;
                    return Ok(());
                }
                "250 2.0.0 queued as FAKE1".to_owned()
            }
            "RSET" => {
                tx = None;
                "250 2.0.0 ok".to_owned()
            }
            "QUIT" => {
                r.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => "250 2.0.0 ok".to_owned(),
        };
        r.get_mut()
            .write_all(format!("{reply}\r\n").as_bytes())
            .await?;
    }
}

/// A certificate for 127.0.0.1 signed by a fresh CA: (acceptor, CA certificate PEM file).
fn tls_server(dir: &Path) -> (tokio_rustls::TlsAcceptor, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let ca_path = dir.join("mail-ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(cert.der().to_vec())],
        PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
    )
    .unwrap();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca_path)
}

// ------------------------------------------------------------------------------------------
// The real Postfix

fn postfix() -> (SocketAddr, PathBuf) {
    let host = peer_env("MAIL_SMTP_HOST");
    let port = peer_env("MAIL_SMTP_PORT");
    let base = PathBuf::from(peer_env("MAIL_MAILDIR_BASE"));
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .unwrap_or_else(|e| panic!("MAIL_SMTP_HOST/PORT {host}:{port}: {e}"));
    (addr, base)
}

/// The file in `<base>/<user>/new/` that contains `marker`.
async fn wait_in_maildir(base: &Path, user: &str, marker: &str) -> String {
    let dir = base.join(user).join("new");
    wait_for(&format!("{marker} in {}", dir.display()), || {
        files_in(&dir).into_iter().find_map(|p| {
            let t = std::fs::read_to_string(&p).ok()?;
            t.contains(marker).then_some(t)
        })
    })
    .await
}

#[tokio::test]
async fn postfix_receives_queued_mail_with_headers_intact() {
    let (addr, base) = postfix();
    let rig = Rig::start("postfix", &smtp_mail(addr, r#"["1s", "2s"]"#)).await;
    let marker = format!("pf-{}", nonce());
    let id = rig
        .queue(
            "ums@example.com",
            &["jane@example.com"],
            message("+4930123@fax.example.com", "jane@example.com", &marker),
        )
        .await;
    let got = wait_in_maildir(&base, "jane", &marker).await;
    for h in [
        format!("Subject: delivery test {marker}"),
        format!("X-Umsgate-Test: {marker}"),
        format!("Message-ID: <{marker}@umsgate.test>"),
        "From: <+4930123@fax.example.com>".to_owned(),
        "To: <jane@example.com>".to_owned(),
    ] {
        assert!(got.contains(&h), "missing {h:?} in\n{got}");
    }
    assert!(got.contains("\n.leading dot line"), "dot-stuffing undone");
    wait_for("the pair removed", || {
        (!rig.out(&id, "eml").exists() && !rig.out(&id, "json").exists()).then_some(())
    })
    .await;
    wait_log(
        &rig,
        "smtp",
        &format!("out delivered id={id} to=<jane@example.com> server={addr} reply=250"),
    )
    .await;
    let msgid = wait_log(&rig, "msgid", &format!("out delivered id={id}")).await;
    assert!(
        msgid.contains(&format!(
            "out delivered id={id} message-id=<{marker}@umsgate.test>"
        )),
        "{msgid}"
    );
    rig.stop().await;
}

#[tokio::test]
async fn postfix_rejects_one_of_two_recipients_and_the_other_is_delivered() {
    let (addr, base) = postfix();
    let rig = Rig::start("postfix-mixed", &smtp_mail(addr, r#"["1s", "2s"]"#)).await;
    let marker = format!("pfm-{}", nonce());
    let unknown = format!("nobody-{marker}@example.com");
    let id = rig
        .queue(
            "ums@example.com",
            &[&unknown, "jane@example.com"],
            message("ums@example.com", "jane@example.com", &marker),
        )
        .await;
    wait_in_maildir(&base, "jane", &marker).await;
    let bad = wait_for("badmail sidecar", || {
        (rig.bad(&id, "eml").exists()).then(|| sidecar_of(&rig.bad(&id, "json")))
    })
    .await;
    assert_eq!(rcpts_of(&bad), [unknown.as_str()]);
    let err = bad["last_error"].as_str().unwrap();
    assert!(err.contains("550"), "{err}");
    assert!(!rig.out(&id, "eml").exists());
    wait_log(
        &rig,
        "smtp",
        &format!("out badmail id={id} reason=550 5.1.1 <{unknown}>"),
    )
    .await;
    rig.stop().await;
}

#[tokio::test]
async fn postfix_receives_a_bare_eml_by_its_headers() {
    let (addr, base) = postfix();
    let rig = Rig::start("postfix-bare", &smtp_mail(addr, r#"["1s", "2s"]"#)).await;
    let marker = format!("pfb-{}", nonce());
    let eml = message("ums@example.com", "jane@example.com", &marker);
    // Written elsewhere and renamed in, as an administrator's `mv` would.
    let tmp = rig.work.dir.join("HAND1.eml");
    std::fs::write(&tmp, &eml).unwrap();
    std::fs::rename(&tmp, rig.out("HAND1", "eml")).unwrap();
    let got = wait_in_maildir(&base, "jane", &marker).await;
    assert!(got.contains(&format!("X-Umsgate-Test: {marker}")));
    wait_for("the pair removed", || {
        (!rig.out("HAND1", "eml").exists()).then_some(())
    })
    .await;
    assert!(rig.log("smtp").contains("out adopted id=HAND1"));
    rig.stop().await;
}

// ------------------------------------------------------------------------------------------
// Retry schedule, Badmail and requeue

#[tokio::test]
async fn server_down_defers_on_schedule_then_badmail_then_requeue_delivers() {
    // A port nobody listens on (bound, read, released).
    let down = free_addr();
    let rig = Rig::start("down", &smtp_mail(down, r#"["1s", "2s"]"#)).await;
    let id = rig
        .queue(
            "ums@example.com",
            &["jane@example.com"],
            message("ums@example.com", "jane@example.com", "down"),
        )
        .await;

    // Watch the sidecar go through attempts 1 and 2, each with a next_attempt.
    let mut seen: Vec<(u64, String)> = Vec::new();
    wait_for("badmail", || {
        if let Some(v) = std::fs::read(rig.out(&id, "json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        {
            let n = v["attempts"].as_u64().unwrap_or(0);
            if n > 0 && seen.last().is_none_or(|(m, _)| *m != n) {
                seen.push((n, v["next_attempt"].as_str().unwrap_or("").to_owned()));
            }
        }
        rig.bad(&id, "eml").exists().then_some(())
    })
    .await;
    assert_eq!(
        seen.iter().map(|s| s.0).collect::<Vec<_>>(),
        [1, 2],
        "{seen:?}"
    );
    assert!(seen.iter().all(|(_, next)| next.ends_with('Z')), "{seen:?}");
    let bad = sidecar_of(&rig.bad(&id, "json"));
    assert_eq!(bad["attempts"], 3);
    let err = bad["last_error"].as_str().unwrap();
    assert!(
        err.starts_with("retries exhausted after 3 attempts: "),
        "{err}"
    );

    let smtp = wait_log(&rig, "smtp", &format!("out badmail id={id} ")).await;
    assert!(!rig.out(&id, "eml").exists() && !rig.out(&id, "json").exists());
    let order: Vec<&str> = smtp
        .lines()
        .filter(|l| l.contains(&format!("id={id} ")))
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert_eq!(
        order,
        [
            "attempt", "deferred", "attempt", "deferred", "attempt", "badmail"
        ],
        "{smtp}"
    );
    assert!(smtp.contains(&format!("out deferred id={id} attempt=1 next=")));
    assert!(smtp.contains(&format!("out deferred id={id} attempt=2 next=")));
    assert!(smtp.contains(&format!("out badmail id={id} reason=retries exhausted")));

    // The server comes up on that port; `queue requeue` moves the pair back and resets it.
    let server = FakeSmtp::serve(
        TcpListener::bind(down).await.unwrap(),
        &[],
        Offer::default(),
    );
    let item = umsgate::spool::admin::requeue(&rig.config, &QueueId::parse(&id).unwrap())
        .unwrap()
        .expect("requeue finds the Badmail id");
    assert_eq!(item.attempts, 0);
    let got = wait_for("delivery after requeue", || {
        server.received().into_iter().next()
    })
    .await;
    assert_eq!(got.rcpts, ["jane@example.com"]);
    assert_eq!(got.from, "ums@example.com");
    assert!(got.data.contains("Subject: delivery test down"));
    wait_for("the pair removed", || {
        (!rig.out(&id, "eml").exists() && !rig.bad(&id, "eml").exists()).then_some(())
    })
    .await;
    assert_eq!(server.received().len(), 1);
    rig.stop().await;
}

#[tokio::test]
async fn moving_a_badmail_file_back_by_hand_sends_it_again() {
    let server = FakeSmtp::start(&[]).await;
    let rig = Rig::start("byhand", &smtp_mail(server.addr, r#"["1s"]"#)).await;
    // A Badmail pair with exhausted retries, moved back the way the manual describes: copy
    // both files into smtp-out/ (sidecar first).
    let id = "BYHAND1";
    let eml = message("ums@example.com", "jane@example.com", "byhand");
    let s = serde_json::json!({
        "v": 1, "id": id, "instance": INSTANCE, "received_at": "2026-11-26T10:00:00Z",
        "origin": "local", "mail_from": "ums@example.com",
        "rcpts": [{"address": "jane@example.com"}], "size": eml.len(),
        "attempts": 2, "next_attempt": "2026-01-01T00:00:00Z",
        "last_error": "retries exhausted after 2 attempts: network error"
    });
    std::fs::write(rig.out(id, "json"), serde_json::to_vec(&s).unwrap()).unwrap();
    std::fs::write(rig.out(id, "eml"), &eml).unwrap();
    let got = wait_for("delivery", || server.received().into_iter().next()).await;
    assert_eq!(got.rcpts, ["jane@example.com"]);
    wait_for("the pair removed", || {
        (!rig.out(id, "eml").exists()).then_some(())
    })
    .await;
    rig.stop().await;
}

// ------------------------------------------------------------------------------------------
// The 4xx/5xx matrix with the scripted server

#[tokio::test]
async fn permanent_failure_for_one_recipient_the_other_is_delivered() {
    let server = FakeSmtp::start(&[(
        "bad@example.com",
        "550 5.1.1 <bad@example.com>: no such user",
    )])
    .await;
    let rig = Rig::start("perm", &smtp_mail(server.addr, r#"["1s", "2s"]"#)).await;
    let id = rig
        .queue(
            "ums@example.com",
            &["bad@example.com", "good@example.com"],
            message("ums@example.com", "good@example.com", "perm"),
        )
        .await;
    wait_for("badmail", || rig.bad(&id, "eml").exists().then_some(())).await;
    let bad = sidecar_of(&rig.bad(&id, "json"));
    assert_eq!(rcpts_of(&bad), ["bad@example.com"]);
    let err = bad["last_error"].as_str().unwrap();
    assert_eq!(err, "550 5.1.1 <bad@example.com>: no such user");
    let got = server.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].rcpts, ["good@example.com"]);
    let smtp = wait_log(
        &rig,
        "smtp",
        &format!("out badmail id={id} reason=550 5.1.1 <bad@example.com>: no such user"),
    )
    .await;
    assert!(smtp.contains(&format!(
        "out delivered id={id} to=<good@example.com> server={} reply=250 2.0.0 queued as FAKE1",
        server.addr
    )));
    assert!(!smtp.contains("body of perm"), "bodies are never logged");
    assert!(!rig.out(&id, "eml").exists() && !rig.out(&id, "json").exists());
    rig.stop().await;
}

#[tokio::test]
async fn mixed_outcomes_split_the_message() {
    mixed_outcomes(false).await;
}

#[tokio::test]
async fn mixed_outcomes_split_a_pipelined_message() {
    mixed_outcomes(true).await;
}

/// A refused, a deferred and an accepted recipient in one transaction (the refused one
/// first, so that it cannot hold back the others), with or without PIPELINING.
async fn mixed_outcomes(pipelining: bool) {
    let offer = Offer {
        pipelining,
        ..Offer::default()
    };
    let server = FakeSmtp::start_with(
        &[
            ("bad@example.com", "550 5.1.1 no such user"),
            ("later@example.com", "451 4.3.0 try again later"),
        ],
        offer,
    )
    .await;
    let name = if pipelining {
        "mixed-pipelined"
    } else {
        "mixed"
    };
    let rig = Rig::start(name, &smtp_mail(server.addr, r#"["1h"]"#)).await;
    let id = rig
        .queue(
            "ums@example.com",
            &["bad@example.com", "good@example.com", "later@example.com"],
            message("ums@example.com", "good@example.com", "mixed"),
        )
        .await;
    // The temporary recipient stays, deferred; the permanent one gets a Badmail copy.
    let out = rig.first_deferral(&id).await;
    assert_eq!(rcpts_of(&out), ["later@example.com"]);
    assert!(out["next_attempt"].as_str().is_some());
    assert!(
        out["last_error"]
            .as_str()
            .unwrap()
            .contains("451 4.3.0 try again later")
    );
    let copy = format!("{id}-1");
    let bad = wait_for("badmail copy", || {
        rig.bad(&copy, "eml")
            .exists()
            .then(|| sidecar_of(&rig.bad(&copy, "json")))
    })
    .await;
    assert_eq!(rcpts_of(&bad), ["bad@example.com"]);
    assert_eq!(bad["id"], copy.as_str());
    assert_eq!(
        std::fs::read(rig.bad(&copy, "eml")).unwrap(),
        std::fs::read(rig.out(&id, "eml")).unwrap()
    );
    let got = server.received();
    assert_eq!(got.len(), 1, "one transaction: {got:?}");
    assert_eq!(got[0].rcpts, ["good@example.com"]);
    let smtp = wait_log(
        &rig,
        "smtp",
        &format!("out deferred id={id} attempt=1 next="),
    )
    .await;
    assert!(smtp.contains(&format!(
        "out badmail id={id} badmail-id={copy} reason=550 5.1.1 no such user"
    )));
    rig.stop().await;
}

#[tokio::test]
async fn temporary_reply_is_retried_and_then_badmail() {
    let server = FakeSmtp::start(&[("full@example.com", "452 4.2.2 mailbox full")]).await;
    let rig = Rig::start("temp", &smtp_mail(server.addr, r#"["1s"]"#)).await;
    let id = rig
        .queue(
            "",
            &["full@example.com"],
            message("ums@example.com", "full@example.com", "temp"),
        )
        .await;
    wait_for("badmail", || rig.bad(&id, "eml").exists().then_some(())).await;
    let bad = sidecar_of(&rig.bad(&id, "json"));
    assert_eq!(bad["attempts"], 2);
    let err = bad["last_error"].as_str().unwrap();
    assert!(
        err.starts_with("retries exhausted after 2 attempts: ") && err.contains("452"),
        "{err}"
    );
    assert!(server.received().is_empty());
    rig.stop().await;
}

#[tokio::test]
async fn bare_eml_is_sent_to_its_header_recipients() {
    let server = FakeSmtp::start(&[]).await;
    let rig = Rig::start("bare", &smtp_mail(server.addr, r#"["1s"]"#)).await;
    let eml = b"From: Sender <sender@example.com>\r\nTo: a@example.com, B <b@example.com>\r\n\
Cc: c@example.com\r\nBcc: d@example.com\r\nSubject: dropped in\r\n\r\nhello\r\n"
        .to_vec();
    let tmp = rig.work.dir.join("DROP1.eml");
    std::fs::write(&tmp, &eml).unwrap();
    std::fs::rename(&tmp, rig.out("DROP1", "eml")).unwrap();
    let got = wait_for("delivery", || server.received().into_iter().next()).await;
    assert_eq!(got.from, "sender@example.com");
    assert_eq!(
        got.rcpts,
        [
            "a@example.com",
            "b@example.com",
            "c@example.com",
            "d@example.com"
        ]
    );
    assert!(got.data.contains("Subject: dropped in"));
    wait_for("the pair removed", || {
        (!rig.out("DROP1", "eml").exists() && !rig.out("DROP1", "json").exists()).then_some(())
    })
    .await;
    rig.stop().await;
}

#[tokio::test]
async fn bare_eml_without_recipients_goes_to_badmail() {
    let server = FakeSmtp::start(&[]).await;
    let rig = Rig::start("bare-none", &smtp_mail(server.addr, r#"["1s"]"#)).await;
    std::fs::write(
        rig.out("NORCPT", "eml"),
        b"From: a@example.com\r\nSubject: nobody\r\n\r\nx\r\n",
    )
    .unwrap();
    wait_for("badmail", || {
        rig.bad("NORCPT", "eml").exists().then_some(())
    })
    .await;
    let bad = sidecar_of(&rig.bad("NORCPT", "json"));
    assert_eq!(bad["origin"], "file");
    assert!(bad["last_error"].as_str().unwrap().contains("no recipient"));
    assert!(server.received().is_empty());
    rig.stop().await;
}

// ------------------------------------------------------------------------------------------
// Maildir mode and the check

#[tokio::test]
async fn maildir_mode_writes_into_the_recipients_new_folder() {
    let rig = Rig::start("maildir", "maildir = \"maildir/\"\nretry = [\"1s\"]\n").await;
    let root = rig.work.dir.join("maildir");
    let id = rig
        .queue(
            "ums@example.com",
            &["jane@example.com", "../escape@example.com"],
            message("ums@example.com", "jane@example.com", "md"),
        )
        .await;
    wait_for("badmail", || rig.bad(&id, "eml").exists().then_some(())).await;
    let new = files_in(&root.join("jane@example.com").join("new"));
    assert_eq!(new.len(), 1);
    assert_eq!(
        std::fs::read(&new[0]).unwrap(),
        message("ums@example.com", "jane@example.com", "md")
    );
    assert!(files_in(&root.join("jane@example.com").join("tmp")).is_empty());
    let bad = sidecar_of(&rig.bad(&id, "json"));
    assert_eq!(rcpts_of(&bad), ["../escape@example.com"]);
    assert!(
        bad["last_error"]
            .as_str()
            .unwrap()
            .contains("cannot be a Maildir folder name")
    );
    assert!(!rig.work.dir.join("escape@example.com").exists());
    assert!(!rig.out(&id, "eml").exists());
    rig.stop().await;
}

#[tokio::test]
async fn check_reports_reachable_and_unreachable_servers() {
    let server = FakeSmtp::start(&[]).await;
    let rig = Rig::start("check", &smtp_mail(server.addr, r#"["1s"]"#)).await;
    let ok = check_mail_server(rig.mail()).await.unwrap();
    assert!(ok.contains(&server.addr.to_string()), "{ok}");
    let down = Rig::start("check-down", &smtp_mail(free_addr(), r#"["1s"]"#)).await;
    let err = check_mail_server(down.mail()).await.unwrap_err();
    assert!(
        !err.is_config(),
        "a server that does not answer is no configuration error"
    );
    let err = err.to_string();
    assert!(err.contains("network") || err.contains("onnect"), "{err}");
    let md = Rig::start("check-md", "maildir = \"maildir/\"\n").await;
    assert!(
        check_mail_server(md.mail())
            .await
            .unwrap()
            .contains("maildir")
    );
    for r in [rig, down, md] {
        r.stop().await;
    }
}

// ------------------------------------------------------------------------------------------
// TLS, PIPELINING and new mail handed over with `submit`

/// `[instance.mail]` lines for STARTTLS, trusting `ca` when given.
fn starttls_mail(addr: SocketAddr, ca: Option<&Path>) -> String {
    let ca = ca.map_or_else(String::new, |p| format!(", ca = \"{}\"", p.display()));
    format!(
        "server = \"{}\"\nport = {}\nretry = [\"1h\"]\ntls = {{ mode = \"starttls\"{ca} }}\n",
        addr.ip(),
        addr.port()
    )
}

#[tokio::test]
async fn starttls_with_the_configured_ca_carries_the_message() {
    let certs = Work::new("delivery-tls-certs");
    let (acceptor, ca) = tls_server(&certs.dir);
    let offer = Offer {
        pipelining: true,
        tls: Some(acceptor),
        ..Offer::default()
    };
    let server = FakeSmtp::start_with(&[], offer).await;
    let rig = Rig::start("tls", &starttls_mail(server.addr, Some(&ca))).await;
    let id = rig
        .queue(
            "ums@example.com",
            &["jane@example.com"],
            message("ums@example.com", "jane@example.com", "tls"),
        )
        .await;
    let got = wait_for("delivery over TLS", || server.received().into_iter().next()).await;
    assert!(got.tls, "the message must not travel in clear text");
    assert_eq!(got.rcpts, ["jane@example.com"]);
    assert!(got.data.contains("X-Umsgate-Test: tls"));
    assert!(
        got.data.contains("\r\n.leading dot line\r\n"),
        "dot-stuffing undone by the server"
    );
    wait_for("the pair removed", || {
        (!rig.out(&id, "eml").exists()).then_some(())
    })
    .await;
    let check = check_mail_server(rig.mail()).await.unwrap();
    assert!(check.contains("STARTTLS"), "{check}");
    rig.stop().await;
}

#[tokio::test]
async fn starttls_with_an_untrusted_certificate_sends_nothing_and_defers() {
    let certs = Work::new("delivery-tls-untrusted");
    let (acceptor, _ca) = tls_server(&certs.dir);
    let offer = Offer {
        tls: Some(acceptor),
        ..Offer::default()
    };
    let server = FakeSmtp::start_with(&[], offer).await;
    let rig = Rig::start("tls-untrusted", &starttls_mail(server.addr, None)).await;
    let id = rig
        .queue(
            "ums@example.com",
            &["jane@example.com"],
            message("ums@example.com", "jane@example.com", "untrusted"),
        )
        .await;
    let sc = rig.first_deferral(&id).await;
    let why = sc["last_error"].as_str().unwrap();
    assert!(why.contains("TLS"), "{why}");
    assert!(server.received().is_empty());
    assert!(check_mail_server(rig.mail()).await.is_err());
    rig.stop().await;
}

#[tokio::test]
async fn required_starttls_that_the_server_does_not_offer_sends_nothing() {
    let server = FakeSmtp::start(&[]).await;
    let rig = Rig::start("tls-missing", &starttls_mail(server.addr, None)).await;
    let id = rig
        .queue(
            "ums@example.com",
            &["jane@example.com"],
            message("ums@example.com", "jane@example.com", "clear"),
        )
        .await;
    let sc = rig.first_deferral(&id).await;
    let why = sc["last_error"].as_str().unwrap();
    assert!(why.contains("does not offer STARTTLS"), "{why}");
    assert!(server.received().is_empty());
    rig.stop().await;
}

#[tokio::test]
async fn all_recipients_refused_in_a_pipeline_sends_no_data() {
    let offer = Offer {
        pipelining: true,
        ..Offer::default()
    };
    let server =
        FakeSmtp::start_with(&[("bad@example.com", "550 5.1.1 no such user")], offer).await;
    let rig = Rig::start("pipelined-none", &smtp_mail(server.addr, r#"["1h"]"#)).await;
    let id = rig
        .queue(
            "ums@example.com",
            &["bad@example.com"],
            message("ums@example.com", "bad@example.com", "none"),
        )
        .await;
    wait_for("badmail", || rig.bad(&id, "eml").exists().then_some(())).await;
    assert_eq!(
        sidecar_of(&rig.bad(&id, "json"))["last_error"],
        "550 5.1.1 no such user"
    );
    assert!(server.received().is_empty());
    // The connection is still usable: the next message goes through it.
    let next = rig
        .queue(
            "ums@example.com",
            &["good@example.com"],
            message("ums@example.com", "good@example.com", "next"),
        )
        .await;
    wait_for("next delivered", || {
        (!rig.out(&next, "eml").exists()).then_some(())
    })
    .await;
    assert_eq!(server.received().len(), 1);
    rig.stop().await;
}

#[tokio::test]
async fn submit_delivers_at_once_without_touching_the_spool() {
    let server = FakeSmtp::start(&[]).await;
    let rig = Rig::start("submit", &smtp_mail(server.addr, r#"["1h"]"#)).await;
    let sc = local_sidecar("ums@example.com", &["jane@example.com"]);
    let id = sc.id.to_string();
    rig.delivery
        .submit(sc, message("ums@example.com", "jane@example.com", "submit"))
        .await
        .unwrap();
    // Delivered when submit returns; nothing was ever written to smtp-out/.
    assert_eq!(server.received().len(), 1);
    assert!(files_in(&rig.dirs.smtp_out).is_empty());
    assert!(files_in(&rig.dirs.smtp_out.join(".tmp")).is_empty());
    let smtp = rig.log("smtp");
    assert!(
        smtp.contains(&format!("out delivered id={id} to=<jane@example.com>")),
        "{smtp}"
    );
    assert!(rig.log("msgid").contains(&format!(
        "out delivered id={id} message-id=<submit@umsgate.test>"
    )));
    rig.stop().await;
}

#[tokio::test]
async fn submit_spools_on_schedule_when_the_server_is_down_and_then_stops_trying() {
    let rig = Rig::start("submit-down", &smtp_mail(free_addr(), r#"["1h", "2h"]"#)).await;
    let first = local_sidecar("ums@example.com", &["jane@example.com"]);
    let second = local_sidecar("ums@example.com", &["joe@example.com"]);
    let (a, b) = (first.id.to_string(), second.id.to_string());
    rig.delivery
        .submit(
            first,
            message("ums@example.com", "jane@example.com", "down1"),
        )
        .await
        .unwrap();
    // Durable in smtp-out/ when submit returns, with the attempt counted.
    let sa = sidecar_of(&rig.out(&a, "json"));
    assert_eq!(sa["attempts"], 1);
    assert!(sa["next_attempt"].as_str().is_some());
    assert!(
        sa["last_error"].as_str().unwrap().contains("connect"),
        "{sa}"
    );
    assert!(rig.out(&a, "eml").exists());
    // The next mail is spooled without another attempt against a server known to be down.
    rig.delivery
        .submit(
            second,
            message("ums@example.com", "joe@example.com", "down2"),
        )
        .await
        .unwrap();
    let sb = sidecar_of(&rig.out(&b, "json"));
    assert_eq!(sb["attempts"], 0);
    let smtp = rig.log("smtp");
    assert_eq!(smtp.matches("out attempt ").count(), 1, "{smtp}");
    assert!(smtp.contains(&format!("out deferred id={a} attempt=1 next=")));
    rig.stop().await;
}

#[tokio::test]
async fn a_5xx_greeting_defers_on_schedule_instead_of_badmail() {
    let offer = Offer {
        greeting: Some("554 5.3.2 fake.test overloaded\r\n"),
        ..Offer::default()
    };
    let server = FakeSmtp::start_with(&[], offer).await;
    let rig = Rig::start("greeting-554", &smtp_mail(server.addr, r#"["1h"]"#)).await;
    let sc = local_sidecar("ums@example.com", &["jane@example.com", "joe@example.com"]);
    let id = sc.id.to_string();
    rig.delivery
        .submit(sc, message("ums@example.com", "jane@example.com", "greet"))
        .await
        .unwrap();
    let s = sidecar_of(&rig.out(&id, "json"));
    assert_eq!(s["attempts"], 1);
    assert!(s["next_attempt"].as_str().is_some(), "{s}");
    assert_eq!(rcpts_of(&s), ["jane@example.com", "joe@example.com"]);
    let reason = s["last_error"].as_str().unwrap();
    assert!(
        reason.contains("greeting refused: 554 5.3.2 fake.test overloaded"),
        "{reason}"
    );
    assert!(!rig.bad(&id, "json").exists());
    assert!(server.received().is_empty());
    assert!(
        rig.log("smtp")
            .contains(&format!("out deferred id={id} attempt=1 next="))
    );
    rig.stop().await;
}

#[tokio::test]
async fn submit_puts_a_permanent_refusal_in_badmail() {
    let server = FakeSmtp::start(&[("bad@example.com", "550 5.1.1 no such user")]).await;
    let rig = Rig::start("submit-bad", &smtp_mail(server.addr, r#"["1h"]"#)).await;
    let sc = local_sidecar("ums@example.com", &["bad@example.com"]);
    let id = sc.id.to_string();
    rig.delivery
        .submit(sc, message("ums@example.com", "bad@example.com", "bad"))
        .await
        .unwrap();
    let bad = sidecar_of(&rig.bad(&id, "json"));
    assert_eq!(bad["last_error"], "550 5.1.1 no such user");
    assert_eq!(bad["attempts"], 1);
    assert!(rig.bad(&id, "eml").exists());
    assert!(files_in(&rig.dirs.smtp_out).is_empty());
    assert!(rig.log("smtp").contains(&format!(
        "out badmail id={id} reason=550 5.1.1 no such user"
    )));
    rig.stop().await;
}

#[tokio::test]
async fn a_pooled_connection_the_server_dropped_is_replaced_without_sending_twice() {
    let offer = Offer {
        pipelining: true,
        hang_up_after_message: true,
        ..Offer::default()
    };
    let server = FakeSmtp::start_with(&[], offer).await;
    let rig = Rig::start("hangup", &smtp_mail(server.addr, r#"["1h"]"#)).await;
    for n in 1..=3 {
        let sc = local_sidecar("ums@example.com", &["jane@example.com"]);
        rig.delivery
            .submit(
                sc,
                message("ums@example.com", "jane@example.com", &format!("hangup{n}")),
            )
            .await
            .unwrap();
        // Give the client's side time to see the connection closed.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = server.received();
    assert_eq!(got.len(), 3, "each message exactly once: {got:?}");
    let smtp = rig.log("smtp");
    assert_eq!(smtp.matches("out delivered ").count(), 3, "{smtp}");
    assert!(!smtp.contains("out deferred"), "{smtp}");
    assert!(files_in(&rig.dirs.smtp_out).is_empty());
    rig.stop().await;
}

#[tokio::test]
async fn a_connection_lost_after_the_message_is_not_retried_at_once() {
    let offer = Offer {
        pipelining: true,
        hang_up_before_final_reply: true,
        ..Offer::default()
    };
    let server = FakeSmtp::start_with(&[], offer).await;
    let rig = Rig::start("lost-reply", &smtp_mail(server.addr, r#"["1h"]"#)).await;
    let sc = local_sidecar("ums@example.com", &["jane@example.com"]);
    let id = sc.id.to_string();
    rig.delivery
        .submit(sc, message("ums@example.com", "jane@example.com", "lost"))
        .await
        .unwrap();
    // The server may have the message: it is not sent again on another connection at once,
    // but kept for the retry schedule (at least once, never silently twice in a row).
    assert_eq!(server.received().len(), 1);
    let sidecar = sidecar_of(&rig.out(&id, "json"));
    assert_eq!(sidecar["attempts"], 1);
    assert!(
        sidecar["last_error"]
            .as_str()
            .unwrap()
            .contains("closed the connection"),
        "{sidecar}"
    );
    rig.stop().await;
}

/// A pair whose sidecar holds a time that does not read is never sent on a guess: it goes,
/// both files, to `smtp-out/corrupt/`, with the reason in the log.
#[tokio::test]
async fn a_sidecar_with_an_unreadable_time_goes_to_corrupt_unsent() {
    let server = FakeSmtp::start(&[]).await;
    let rig = Rig::start("badtime", &smtp_mail(server.addr, r#"["1s"]"#)).await;
    let id = "BADTIME1";
    let eml = message("ums@example.com", "jane@example.com", "badtime");
    let s = serde_json::json!({
        "v": 1, "id": id, "instance": INSTANCE, "received_at": "2026-11-26T10:00:00Z",
        "origin": "local", "mail_from": "ums@example.com",
        "rcpts": [{"address": "jane@example.com"}], "size": eml.len(),
        "attempts": 1, "next_attempt": "tomorrow at noon"
    });
    std::fs::write(rig.out(id, "json"), serde_json::to_vec(&s).unwrap()).unwrap();
    std::fs::write(rig.out(id, "eml"), &eml).unwrap();
    let corrupt = rig.dirs.smtp_out.join("corrupt");
    wait_for("the pair sent or set aside", || {
        (corrupt.join(format!("{id}.json")).exists() || !server.received().is_empty()).then_some(())
    })
    .await;
    assert!(server.received().is_empty(), "sent on a guessed schedule");
    assert_eq!(
        std::fs::read(corrupt.join(format!("{id}.eml"))).unwrap(),
        eml
    );
    assert!(!rig.out(id, "eml").exists() && !rig.out(id, "json").exists());
    wait_log(&rig, "smtp", &format!("out corrupt id={id}")).await;
    rig.stop().await;
}

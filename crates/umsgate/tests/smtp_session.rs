//! The SMTP listener driven in memory: every verb, every reply path, the spool behind it.
//!
//! Implementation summary: each test builds its own instance from configuration text (state
//! and logs in a fresh temporary folder), then runs `smtp_server::serve` over one end of a
//! `tokio::io::duplex` pipe while the test speaks SMTP on the other end — no sockets. The
//! harness follows Stalwart's `TestSession`: `cmd("EHLO x", "250")` sends a line and checks
//! the reply, `send_raw` writes bytes exactly as given, `expect` reads one (multi-line)
//! reply, `data` runs a whole DATA exchange, and `TestServer::queued` lists what the spool
//! holds. STARTTLS upgrades the same pipe with a certificate made by `rcgen` at test time.
//!
//! Expected codes are prefixes of the reply line, so `"550 5.1.1"` checks the enhanced
//! status too. Waits are bounded by `PATIENCE` only so that a hung session fails the test
//! instead of hanging it; nothing here asserts how long anything takes.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use umsgate::config::Config;
use umsgate::logs::InstanceLogs;
use umsgate::outbound::smtp_server::{SessionContext, serve};
use umsgate::spool::layout::InstanceDirs;
use umsgate::spool::{Entry, Origin, Spool};

/// Upper bound on any single wait; a safety net against hangs, not a timing assertion.
const PATIENCE: Duration = Duration::from_secs(30);
/// The name the listener greets with, and the name in the test certificate.
const HOSTNAME: &str = "mx.umsgate.test";
/// The client address sessions come from unless a test says otherwise.
const PEER: &str = "192.0.2.10:40001";
const FAX: &str = "+4930123456@fax.example.com";
const USER: &str = "mx";
const PASSWORD: &str = "correct horse battery staple";

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// A folder removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "umsgate-smtp-session-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The argon2 hash of [`PASSWORD`], computed once per test binary.
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"umsgate-session-test").unwrap();
        argon2::Argon2::default()
            .hash_password(PASSWORD.as_bytes(), &salt)
            .unwrap()
            .to_string()
    })
}

fn plain(user: &str, password: &str) -> String {
    BASE64.encode(format!("\0{user}\0{password}"))
}

fn b64(s: &str) -> String {
    BASE64.encode(s)
}

/// Builds the configuration text of one test instance.
struct Builder {
    smtp_in: Vec<String>,
    tls: bool,
    /// A durable spool step that fails (ENOSPC) in every store.
    fault: Option<umsgate::spool::Step>,
    logged: bool,
}

fn server() -> Builder {
    Builder {
        smtp_in: Vec::new(),
        tls: false,
        fault: None,
        logged: false,
    }
}

impl Builder {
    /// Adds one `key = value` line to `[instance.smtp_in]`.
    fn set(mut self, line: &str) -> Builder {
        self.smtp_in.push(line.to_owned());
        self
    }

    /// Configures `tls.cert`/`tls.key` with a certificate made for this test.
    fn tls(mut self) -> Builder {
        self.tls = true;
        self
    }

    /// Makes `step` of every spool commit fail as on a full disk.
    fn failing(mut self, step: umsgate::spool::Step) -> Builder {
        self.fault = Some(step);
        self
    }

    /// The spool keeps messages in its intake log, as `smtp-in/` does in an instance.
    fn logged(mut self) -> Builder {
        self.logged = true;
        self
    }

    /// One account, `mx` with [`PASSWORD`]; `extra` goes into the `auth` table.
    fn auth(self, require_tls: bool, extra: &str) -> Builder {
        let line = format!(
            r#"auth = {{ users = [{{ name = "{USER}", password_hash = "{}" }}], require_tls = {require_tls}{}{extra} }}"#,
            password_hash(),
            if extra.is_empty() { "" } else { ", " },
        );
        self.set(&line)
    }

    fn start(self) -> TestServer {
        let dir = TempDir::new();
        let mut smtp_in = self.smtp_in;
        let ca = self.tls.then(|| {
            let (ca, cert, key) = make_certificates(&dir.0);
            smtp_in.push(format!(
                r#"tls = {{ cert = "{}", key = "{}" }}"#,
                cert.display(),
                key.display()
            ));
            ca
        });
        let text = format!(
            r#"
[service]
state_dir = "{root}/state"
log_dir = "{root}/log"

[[instance]]
id = "t1"

[instance.smtp_in]
listen = ["127.0.0.1:0"]
hostname = "{HOSTNAME}"
max_message_size = "64KB"
max_recipients = 3
{extra}

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
"#,
            root = dir.0.display(),
            extra = smtp_in.join("\n"),
        );
        let config = Config::parse(&text, &dir.0.join("umsgate.toml"))
            .unwrap_or_else(|e| panic!("test configuration refused:\n{e}\n{text}"));
        let inst = &config.instances[0];
        let dirs = InstanceDirs::new(&config.instance_state_dir(inst.id.get_ref()));
        dirs.create().unwrap();
        let log_dir = config.instance_log_dir(inst.id.get_ref());
        std::fs::create_dir_all(&log_dir).unwrap();
        let logs = Arc::new(InstanceLogs::open(&log_dir, config.service.log_rotate).unwrap());
        let hook: Option<umsgate::spool::FaultHook> = self.fault.map(|failing| {
            Arc::new(move |step| {
                if step == failing {
                    Err(std::io::Error::from_raw_os_error(28))
                } else {
                    Ok(())
                }
            }) as umsgate::spool::FaultHook
        });
        let (spool, _) = if self.logged {
            Spool::open_logged(&dirs.smtp_in, hook).unwrap()
        } else {
            Spool::open_with_faults(&dirs.smtp_in, hook).unwrap()
        };
        let (shutdown, rx) = watch::channel(false);
        let ctx = SessionContext::new(inst, spool.clone(), logs, rx).unwrap();
        TestServer {
            max_size: inst.smtp_in.max_message_size.0,
            smtp_in: dirs.smtp_in.clone(),
            log_dir,
            ctx: Arc::new(ctx),
            spool,
            shutdown,
            ca,
            _dir: dir,
        }
    }
}

/// A CA, and a certificate for [`HOSTNAME`] it signed, written as PEM files into `dir`.
fn make_certificates(dir: &Path) -> (CertificateDer<'static>, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![HOSTNAME.to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (ca.der().clone(), cert_path, key_path)
}

/// One instance's session context, spool and logs.
struct TestServer {
    ctx: Arc<SessionContext>,
    spool: Spool,
    smtp_in: PathBuf,
    log_dir: PathBuf,
    max_size: u64,
    shutdown: watch::Sender<bool>,
    ca: Option<CertificateDer<'static>>,
    _dir: TempDir,
}

impl TestServer {
    fn connect(&self) -> Client<DuplexStream> {
        self.connect_from(PEER)
    }

    /// Starts a session as if `peer` had connected.
    fn connect_from(&self, peer: &str) -> Client<DuplexStream> {
        let peer: SocketAddr = peer.parse().unwrap();
        let (client, server) = tokio::io::duplex(64 * 1024);
        let session = tokio::spawn(serve(Arc::clone(&self.ctx), server, peer));
        Client {
            stream: client,
            buf: Vec::new(),
            session: Some(session),
        }
    }

    /// Connects and reads the greeting.
    async fn greeted(&self) -> Client<DuplexStream> {
        let mut c = self.connect();
        c.expect(&format!("220 {HOSTNAME} ESMTP")).await;
        c
    }

    /// What the spool holds, oldest first.
    fn queued(&self) -> Vec<Entry> {
        let listed = self.spool.list().unwrap();
        assert_eq!(
            listed.len(),
            umsgate::spool::list_dir(&self.smtp_in).unwrap().len()
        );
        listed
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.log_dir.join(name)).unwrap_or_default()
    }

    fn tls_connector(&self) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.ca.clone().expect("server built without .tls()"))
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }
}

/// One reply: its lines without CRLF.
#[derive(Debug)]
struct Reply {
    lines: Vec<String>,
}

impl Reply {
    fn last(&self) -> &str {
        self.lines.last().map_or("", String::as_str)
    }

    /// The EHLO keywords (every line after the first, without the code).
    fn extensions(&self) -> Vec<&str> {
        self.lines.iter().skip(1).map(|l| &l[4..]).collect()
    }

    fn has_extension(&self, ext: &str) -> bool {
        self.extensions().contains(&ext)
    }

    /// The id of a `250 2.0.0 Ok: queued as <ID>` reply.
    fn queue_id(&self) -> String {
        self.last()
            .strip_prefix("250 2.0.0 Ok: queued as ")
            .unwrap_or_else(|| panic!("not a queued reply: {self:?}"))
            .to_owned()
    }
}

/// The client end of a session.
struct Client<S> {
    stream: S,
    buf: Vec<u8>,
    session: Option<JoinHandle<()>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes()).await;
    }

    /// Reads one more chunk; `false` at the end of the stream.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout(PATIENCE, self.stream.read(&mut chunk)).await {
            Err(_) => panic!(
                "no reply from the session; unread: {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
            Ok(Ok(0)) => false,
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            // A TLS peer that drops the connection without close_notify.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => false,
            Ok(Err(e)) => panic!("read failed: {e}"),
        }
    }

    /// Reads one complete reply, checking its form (`ddd-text` … `ddd text`, CRLF).
    async fn read_reply(&mut self) -> Reply {
        let mut lines: Vec<String> = Vec::new();
        loop {
            let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") else {
                if !self.fill().await {
                    panic!(
                        "connection closed inside a reply; got {lines:?} and {:?}",
                        String::from_utf8_lossy(&self.buf)
                    );
                }
                continue;
            };
            let line: Vec<u8> = self.buf.drain(..pos + 2).collect();
            let line = String::from_utf8(line[..pos].to_vec()).unwrap();
            let b = line.as_bytes();
            assert!(
                b.len() >= 4
                    && b[..3].iter().all(u8::is_ascii_digit)
                    && matches!(b[3], b' ' | b'-'),
                "malformed reply line {line:?}"
            );
            assert!(!line.contains('\r') && !line.contains('\n'));
            if let Some(first) = lines.first() {
                assert_eq!(first[..3], line[..3], "code changed inside a reply");
            }
            let done = b[3] == b' ';
            lines.push(line);
            if done {
                return Reply { lines };
            }
        }
    }

    /// Reads one reply and checks that its last line starts with `code` (e.g. `"250"` or
    /// `"550 5.1.1"`).
    async fn expect(&mut self, code: &str) -> Reply {
        let r = self.read_reply().await;
        assert!(
            r.last().starts_with(code),
            "expected {code:?}, got {:?}",
            r.lines
        );
        r
    }

    async fn cmd(&mut self, line: &str, code: &str) -> Reply {
        self.send(line).await;
        self.expect(code).await
    }

    async fn ehlo(&mut self) -> Reply {
        self.cmd("EHLO client.example.com", "250").await
    }

    /// DATA → 354, then `msg` (already CRLF and dot-stuffed) and the end marker.
    async fn data(&mut self, msg: &str, code: &str) -> Reply {
        self.cmd("DATA", "354").await;
        let mut raw = msg.as_bytes().to_vec();
        if !raw.ends_with(b"\r\n") {
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b".\r\n");
        self.send_raw(&raw).await;
        self.expect(code).await
    }

    /// MAIL + one RCPT + DATA.
    async fn send_message(&mut self, msg: &str, code: &str) -> Reply {
        self.cmd("MAIL FROM:<sender@example.com>", "250 2.1.0")
            .await;
        self.cmd(&format!("RCPT TO:<{FAX}>"), "250 2.1.5").await;
        self.data(msg, code).await
    }

    /// The session ends with nothing more said, and its task finishes.
    async fn expect_closed(&mut self) {
        assert!(
            self.buf.is_empty(),
            "unread reply bytes: {:?}",
            String::from_utf8_lossy(&self.buf)
        );
        if self.fill().await {
            panic!(
                "expected the session to close, got {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        }
        if let Some(h) = self.session.take() {
            tokio::time::timeout(PATIENCE, h).await.unwrap().unwrap();
        }
    }

    async fn quit(&mut self) {
        self.cmd("QUIT", "221 2.0.0").await;
        self.expect_closed().await;
    }

    /// After a `220` to STARTTLS: the TLS handshake on the same stream. Nothing may have
    /// been said after the 220.
    async fn starttls(self, connector: &TlsConnector) -> Client<TlsStream<S>> {
        assert!(
            self.buf.is_empty(),
            "plain-text bytes after the 220 to STARTTLS: {:?}",
            String::from_utf8_lossy(&self.buf)
        );
        let name = ServerName::try_from(HOSTNAME).unwrap();
        let tls = tokio::time::timeout(PATIENCE, connector.connect(name, self.stream))
            .await
            .unwrap()
            .unwrap();
        Client {
            stream: tls,
            buf: Vec::new(),
            session: self.session,
        }
    }
}

const MESSAGE: &str = "From: sender@example.com\r\nTo: +4930123456@fax.example.com\r\nSubject: test\r\nMessage-ID: <t1.0001@example.com>\r\n\r\nHello\r\n";

// ---------------------------------------------------------------------------------------
// Greeting, EHLO, HELO and the simple verbs
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn greeting_and_ehlo_extensions_without_tls_or_auth() {
    let srv = server().start();
    let mut c = srv.connect();
    let greeting = c.expect("220").await;
    assert_eq!(
        greeting.lines,
        [format!("220 {HOSTNAME} ESMTP umsgate ready")]
    );
    let r = c.ehlo().await;
    assert_eq!(
        r.lines[0],
        format!("250-{HOSTNAME} Hello client.example.com")
    );
    assert_eq!(
        r.extensions(),
        [
            "PIPELINING".to_owned(),
            format!("SIZE {}", srv.max_size),
            "8BITMIME".to_owned(),
            "SMTPUTF8".to_owned(),
            "ENHANCEDSTATUSCODES".to_owned(),
        ]
    );
    assert_eq!(srv.max_size, 64 * 1024);
    c.cmd("STARTTLS", "454 4.7.0").await;
    c.cmd("AUTH PLAIN", "502 5.5.1").await;
    c.quit().await;
}

#[tokio::test]
async fn ehlo_offers_starttls_only_before_tls() {
    let srv = server().tls().start();
    let mut c = srv.greeted().await;
    let r = c.ehlo().await;
    assert!(r.has_extension("STARTTLS"), "{r:?}");
    assert!(!r.has_extension("AUTH PLAIN LOGIN"), "{r:?}");
    c.cmd("STARTTLS", "220 2.0.0").await;
    let mut c = c.starttls(&srv.tls_connector()).await;
    let r = c.ehlo().await;
    assert!(!r.has_extension("STARTTLS"), "{r:?}");
    assert!(!r.has_extension("AUTH PLAIN LOGIN"), "{r:?}");
    assert!(r.has_extension("PIPELINING") && r.has_extension("ENHANCEDSTATUSCODES"));
    c.cmd("STARTTLS", "503 5.5.1").await;
    c.quit().await;
}

#[tokio::test]
async fn ehlo_offers_auth_without_tls_when_tls_is_not_required() {
    let srv = server().auth(false, "").start();
    let mut c = srv.greeted().await;
    let r = c.ehlo().await;
    assert!(r.has_extension("AUTH PLAIN LOGIN"), "{r:?}");
    assert!(!r.has_extension("STARTTLS"), "{r:?}");
    c.quit().await;
}

#[tokio::test]
async fn helo_answers_one_line_and_allows_mail() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    c.cmd("HELO", "501 5.5.4").await;
    let r = c.cmd("HELO client.example.com", "250").await;
    assert_eq!(
        r.lines,
        [format!("250 {HOSTNAME} Hello client.example.com")]
    );
    let r = c.send_message(MESSAGE, "250 2.0.0").await;
    let id = r.queue_id();
    let q = srv.queued();
    assert_eq!(q.len(), 1);
    let eml = std::fs::read_to_string(&q[0].eml).unwrap();
    assert!(
        eml.starts_with("Received: from client.example.com ([192.0.2.10])"),
        "{eml}"
    );
    assert!(eml.contains(&format!("with SMTP id {id}")), "{eml}");
    c.quit().await;
}

#[tokio::test]
async fn simple_verbs() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    c.cmd("NOOP", "250 2.0.0 Ok").await;
    c.cmd("NOOP anything at all", "250 2.0.0 Ok").await;
    c.cmd("VRFY jane@example.com", "252 2.5.2").await;
    c.cmd("EXPN staff", "502 5.5.1").await;
    c.cmd("ETRN example.com", "502 5.5.1").await;
    c.cmd("BDAT 0 LAST", "502 5.5.1").await;
    c.cmd("LHLO client.example.com", "502 5.5.1").await;
    c.cmd("HELP", "214 2.0.0").await;
    c.cmd("HELP MAIL", "214 2.0.0").await;
    c.cmd("FROBNICATE", "500 5.5.2").await;
    c.cmd("", "500").await;
    // Still usable after all of that.
    c.ehlo().await;
    c.cmd("MAIL FROM:<sender@example.com>", "250 2.1.0").await;
    c.quit().await;
}

#[tokio::test]
async fn commands_out_of_sequence_get_503() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    c.cmd("MAIL FROM:<sender@example.com>", "503 5.5.1").await;
    c.cmd(&format!("RCPT TO:<{FAX}>"), "503 5.5.1").await;
    c.cmd("DATA", "503 5.5.1").await;
    // RSET before any greeting does not count as one.
    c.cmd("RSET", "250 2.0.0 Reset").await;
    c.cmd("MAIL FROM:<sender@example.com>", "503 5.5.1").await;
    c.ehlo().await;
    c.cmd(&format!("RCPT TO:<{FAX}>"), "503 5.5.1").await;
    c.cmd("DATA", "503 5.5.1").await;
    c.cmd("MAIL FROM:<sender@example.com>", "250 2.1.0").await;
    c.cmd("MAIL FROM:<other@example.com>", "503 5.5.1").await;
    c.cmd("DATA", "503 5.5.1").await;
    // The transaction survived the errors …
    c.cmd(&format!("RCPT TO:<{FAX}>"), "250 2.1.5").await;
    // … and RSET ends it.
    c.cmd("RSET", "250 2.0.0 Reset").await;
    c.cmd(&format!("RCPT TO:<{FAX}>"), "503 5.5.1").await;
    c.cmd("DATA", "503 5.5.1").await;
    // A new EHLO ends a transaction too.
    c.cmd("MAIL FROM:<sender@example.com>", "250 2.1.0").await;
    c.ehlo().await;
    c.cmd(&format!("RCPT TO:<{FAX}>"), "503 5.5.1").await;
    assert!(srv.queued().is_empty());
    c.quit().await;
}

#[tokio::test]
async fn too_many_errors_close_with_421() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    for _ in 0..19 {
        c.cmd("FROBNICATE", "500 5.5.2").await;
    }
    c.cmd("FROBNICATE", "500 5.5.2").await;
    c.expect("421 4.7.0").await;
    c.expect_closed().await;
}

// ---------------------------------------------------------------------------------------
// MAIL
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn mail_parameters_size_and_body() {
    let srv = server().start();
    let max = srv.max_size;
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd(
        &format!("MAIL FROM:<sender@example.com> SIZE={}", max + 1),
        "552 5.3.4",
    )
    .await;
    c.cmd(
        "MAIL FROM:<sender@example.com> BODY=BINARYMIME",
        "555 5.5.4",
    )
    .await;
    c.cmd("MAIL FROM:<sender@example.com> FROBNICATE=1", "555")
        .await;
    c.cmd(
        &format!("MAIL FROM:<sender@example.com> SIZE={max} BODY=8BITMIME"),
        "250 2.1.0",
    )
    .await;
    c.cmd("RSET", "250").await;
    c.cmd("MAIL FROM:<>", "250 2.1.0").await;
    c.cmd(&format!("RCPT TO:<{FAX}>"), "250").await;
    c.data(MESSAGE, "250 2.0.0").await;
    assert_eq!(srv.queued()[0].sidecar.as_ref().unwrap().mail_from, "");
    c.quit().await;
}

/// A message body of exactly `len` bytes (CRLF lines, no dots at line starts).
fn body_of(len: usize) -> String {
    let header = "Subject: size\r\n\r\n";
    let mut s = String::from(header);
    while s.len() < len {
        let room = len - s.len();
        let line = room.min(100);
        if line < 3 {
            // Too short for text plus CRLF: widen the last line instead.
            let cut = s.len() - 2;
            s.truncate(cut);
            s.push_str(&"y".repeat(room));
            s.push_str("\r\n");
        } else {
            s.push_str(&"x".repeat(line - 2));
            s.push_str("\r\n");
        }
    }
    assert_eq!(s.len(), len);
    s
}

#[tokio::test]
async fn message_size_limit_is_enforced_on_the_data_itself() {
    let srv = server().start();
    let max = usize::try_from(srv.max_size).unwrap();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    // One byte over: refused, nothing kept, and the session goes on.
    c.send_message(&body_of(max + 1), "552 5.3.4").await;
    assert!(srv.queued().is_empty());
    // Far over (the client lied about SIZE): the same.
    c.cmd("MAIL FROM:<sender@example.com> SIZE=1000", "250")
        .await;
    c.cmd(&format!("RCPT TO:<{FAX}>"), "250").await;
    c.data(&body_of(4 * max), "552 5.3.4").await;
    assert!(srv.queued().is_empty());
    // Exactly the limit: accepted, with the Received header on top.
    c.send_message(&body_of(max), "250 2.0.0").await;
    let q = srv.queued();
    assert_eq!(q.len(), 1);
    assert!(q[0].size > srv.max_size);
    assert!(srv.log("smtp.log").contains("over limit"));
    c.quit().await;
}

/// Waits until the listener holds at least `bytes` of message data for its sessions.
async fn until_held(srv: &TestServer, bytes: usize) {
    tokio::time::timeout(PATIENCE, async {
        while srv.ctx.data_budget.in_use() < bytes {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("held {} bytes", srv.ctx.data_budget.in_use()));
}

#[tokio::test]
async fn data_beyond_the_memory_budget_is_read_to_its_end_and_deferred_with_452() {
    let srv = server().set(r#"max_data_memory = "100KB""#).start();
    let body = body_of(60_000);
    // A is in the middle of its message: 60 000 bytes held, the end not sent yet.
    let mut a = srv.greeted().await;
    a.ehlo().await;
    a.cmd("MAIL FROM:<sender@example.com>", "250").await;
    a.cmd(&format!("RCPT TO:<{FAX}>"), "250").await;
    a.cmd("DATA", "354").await;
    a.send_raw(body.as_bytes()).await;
    until_held(&srv, 60_000).await;
    // B's message does not fit beside it: read to its real end, then 452, never 250; the
    // session goes on.
    let mut b = srv.greeted().await;
    b.ehlo().await;
    b.send_message(&body, "452 4.3.1").await;
    b.cmd("NOOP", "250").await;
    assert!(srv.queued().is_empty());
    assert!(srv.log("smtp.log").contains("memory"));
    // A ends its message and is accepted; what it held is given back …
    a.send_raw(b".\r\n").await;
    a.expect("250 2.0.0").await;
    assert_eq!(srv.ctx.data_budget.in_use(), 0);
    // … so B's retry fits, and afterwards nothing is held.
    b.send_message(&body, "250 2.0.0").await;
    assert_eq!(srv.queued().len(), 2);
    assert_eq!(srv.ctx.data_budget.in_use(), 0);
    a.quit().await;
    b.quit().await;
}

#[tokio::test]
async fn refused_messages_give_their_memory_back() {
    let srv = server().set(r#"max_data_memory = "100KB""#).start();
    let max = usize::try_from(srv.max_size).unwrap();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.send_message(&body_of(max + 1), "552 5.3.4").await;
    assert_eq!(srv.ctx.data_budget.in_use(), 0);
    c.send_message("Subject: x\r\n\r\nbare\nLF\r\n", "554 5.6.0")
        .await;
    assert_eq!(srv.ctx.data_budget.in_use(), 0);
    c.send_message(&body_of(max), "250 2.0.0").await;
    assert_eq!(srv.ctx.data_budget.in_use(), 0);
    c.quit().await;
}

// ---------------------------------------------------------------------------------------
// RCPT
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn recipients_are_read_through_the_address_template() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd("MAIL FROM:<sender@example.com>", "250").await;
    c.cmd(&format!("RCPT TO:<{FAX}>"), "250 2.1.5").await;
    c.cmd("RCPT TO:<+491511234567@SMS.example.com>", "250 2.1.5")
        .await;
    c.cmd("RCPT TO:<jane@example.com>", "550 5.1.1").await;
    let r = c
        .cmd("RCPT TO:<+4930@telex.example.com>", "550 5.1.1")
        .await;
    assert!(r.last().contains("telex"), "{r:?}");
    let r = c.cmd("RCPT TO:<abc@fax.example.com>", "550 5.1.1").await;
    assert!(r.last().contains("abc"), "{r:?}");
    c.cmd("RCPT TO:<+4930123456@fax.example.org>", "550 5.1.1")
        .await;
    // umsgate's own mailbox is a recipient too.
    c.cmd("RCPT TO:<ums@example.com>", "250 2.1.5").await;
    // max_recipients = 3.
    c.cmd("RCPT TO:<+4930999@voice.example.com>", "452 4.5.3")
        .await;
    c.data(MESSAGE, "250 2.0.0").await;
    let q = srv.queued();
    let sc = q[0].sidecar.as_ref().unwrap();
    let rcpts: Vec<&str> = sc.rcpts.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        rcpts,
        [FAX, "+491511234567@SMS.example.com", "ums@example.com"]
    );
    assert!(srv.log("smtp.log").contains("rcpt_refused"));
    c.quit().await;
}

/// RFC 5321 §4.5.3.1.10: the client sends the message to the recipients taken and retries
/// the rest later. Refusing the surplus must not count as client errors, or a large enough
/// list would end the session with 421 every time and the message would never get in.
#[tokio::test]
async fn recipients_over_the_limit_are_deferred_without_ending_the_session() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    let mut group = String::from("MAIL FROM:<sender@example.com>\r\n");
    for n in 0..40 {
        group.push_str(&format!("RCPT TO:<+49301234{n:02}@fax.example.com>\r\n"));
    }
    group.push_str("DATA\r\n");
    c.send_raw(group.as_bytes()).await;
    c.expect("250 2.1.0").await;
    for _ in 0..3 {
        c.expect("250 2.1.5").await;
    }
    for _ in 3..40 {
        c.expect("452 4.5.3").await;
    }
    c.expect("354").await;
    c.send_raw(format!("{MESSAGE}.\r\n").as_bytes()).await;
    c.expect("250 2.0.0").await;
    let q = srv.queued();
    let sc = q[0].sidecar.as_ref().unwrap();
    assert_eq!(sc.rcpts.len(), 3);
    assert_eq!(sc.rcpts[2].address, "+4930123402@fax.example.com");
    c.quit().await;
}

#[tokio::test]
async fn orcpt_is_stored_xtext_decoded() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd("MAIL FROM:<sender@example.com>", "250").await;
    c.cmd(
        &format!("RCPT TO:<{FAX}> ORCPT=rfc822;+2B4930123456@fax.example.com"),
        "250 2.1.5",
    )
    .await;
    c.cmd("RCPT TO:<+491511234567@sms.example.com>", "250 2.1.5")
        .await;
    c.data(MESSAGE, "250").await;
    let q = srv.queued();
    let sc = q[0].sidecar.as_ref().unwrap();
    assert_eq!(sc.rcpts[0].address, FAX);
    assert_eq!(sc.rcpts[0].orcpt.as_deref(), Some(FAX));
    assert_eq!(sc.rcpts[1].orcpt, None);
    let json = std::fs::read_to_string(q[0].eml.with_extension("json")).unwrap();
    assert!(
        json.contains(r#""orcpt": "+4930123456@fax.example.com""#),
        "{json}"
    );
    c.quit().await;
}

// ---------------------------------------------------------------------------------------
// DATA
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn accepted_message_is_spooled_with_sidecar_received_and_msgid_log() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    let body = "From: sender@example.com\r\nTo: +4930123456@fax.example.com\r\nSubject: test\r\nMessage-ID: <t1.0001@example.com>\r\n\r\nHello\r\n.leading dot\r\n..two dots\r\n.\r\nend\r\n";
    let stuffed = body.replace("\r\n.", "\r\n..");
    let r = c.send_message(&stuffed, "250 2.0.0 Ok: queued as ").await;
    let id = r.queue_id();
    assert!(
        id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F')),
        "{id}"
    );
    let eml_path = srv.smtp_in.join(format!("{id}.eml"));
    let json_path = srv.smtp_in.join(format!("{id}.json"));
    assert!(eml_path.is_file() && json_path.is_file());
    assert!(
        support::files_below(&srv.smtp_in.join(".tmp")).is_empty(),
        "temporary files left after the commit"
    );

    let eml = std::fs::read(&eml_path).unwrap();
    assert!(eml.len() > body.len());
    let (received, rest) = eml.split_at(eml.len() - body.len());
    assert_eq!(rest, body.as_bytes(), "body changed on the way in");
    let received = String::from_utf8(received.to_vec()).unwrap();
    assert!(
        received.starts_with(&format!(
            "Received: from client.example.com ([192.0.2.10])\r\n\tby {HOSTNAME} (umsgate) with ESMTP id {id}\r\n\tfor <{FAX}>;\r\n\t"
        )),
        "{received}"
    );
    assert!(received.ends_with("\r\n") && received.matches("\r\n").count() == 4);

    let q = srv.queued();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].id.as_str(), id);
    let sc = q[0].sidecar.as_ref().unwrap();
    assert_eq!(sc.id.as_str(), id);
    assert_eq!(sc.instance.as_str(), "t1");
    assert_eq!(sc.origin, Origin::Smtp);
    assert_eq!(sc.client.as_deref(), Some(PEER));
    assert_eq!(sc.helo.as_deref(), Some("client.example.com"));
    assert!(!sc.tls);
    assert_eq!(sc.auth, None);
    assert_eq!(sc.mail_from, "sender@example.com");
    assert_eq!(sc.rcpts.len(), 1);
    assert_eq!(sc.rcpts[0].address, FAX);
    assert_eq!(sc.size, eml.len() as u64);
    assert_eq!(sc.message_id.as_deref(), Some("<t1.0001@example.com>"));

    let msgid = srv.log("msgid.log");
    assert!(
        msgid.lines().any(|l| l.ends_with(&format!(
            "in id={id} message-id=<t1.0001@example.com> from=<sender@example.com> to=<{FAX}> size={}",
            eml.len()
        ))),
        "{msgid}"
    );

    // The session is ready for the next transaction; each message gets its own id.
    let second = c.send_message(MESSAGE, "250 2.0.0").await.queue_id();
    assert_ne!(second, id);
    assert_eq!(srv.queued().len(), 2);
    c.quit().await;
}

/// Fault injection at every durable step of the spool (write, fsync, rename, folder fsync;
/// ENOSPC as on a full disk): the client is told 451 4.3.0, never 250, and no file is left
/// in the queue folder or its `.tmp/`.
#[tokio::test]
async fn every_failed_durable_step_answers_451_and_leaves_no_file() {
    for step in umsgate::spool::Step::FILES {
        let srv = server().failing(step).start();
        let mut c = srv.greeted().await;
        c.ehlo().await;
        c.send_message(MESSAGE, "451 4.3.0").await;
        assert!(srv.queued().is_empty(), "{step:?}");
        let files = |d: &Path| {
            std::fs::read_dir(d)
                .unwrap()
                .flatten()
                .filter(|e| e.file_type().unwrap().is_file())
                .count()
        };
        assert_eq!(files(&srv.smtp_in), 0, "{step:?} left a queue file");
        assert_eq!(
            support::files_below(&srv.smtp_in.join(".tmp")),
            Vec::<String>::new(),
            "{step:?} left a temporary file"
        );
        assert!(srv.log("msgid.log").is_empty(), "{step:?}");
        c.quit().await;
    }
}

/// The same with the intake log: a failed write or fdatasync of the group answers 451, and
/// nothing of the message is live in the log (so nothing comes back after a restart); the
/// next message, once the step works, is taken.
#[tokio::test]
async fn every_failed_intake_log_step_answers_451_and_leaves_nothing_live() {
    for step in umsgate::spool::Step::LOG {
        let srv = server().logged().failing(step).start();
        let mut c = srv.greeted().await;
        c.ehlo().await;
        c.send_message(MESSAGE, "451 4.3.0").await;
        assert!(srv.spool.take_logged().is_empty(), "{step:?}");
        assert!(srv.queued().is_empty(), "{step:?}");
        let log = srv.smtp_in.join(umsgate::spool::INTAKE_DIR);
        assert_eq!(
            umsgate::spool::intake::count_live(&log).unwrap(),
            0,
            "{step:?}"
        );
        assert!(srv.log("msgid.log").is_empty(), "{step:?}");
        c.quit().await;
    }
    // Without a fault the message is in the log, handed over from memory.
    let srv = server().logged().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    let id = c.send_message(MESSAGE, "250 2.0.0").await.queue_id();
    let taken = srv.spool.take_logged();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].id.as_str(), id);
    assert!(srv.queued().is_empty());
    c.quit().await;
}

#[tokio::test]
async fn spool_failure_answers_451_and_never_250() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    // With a plain file where its .tmp folder belongs the spool cannot write.
    std::fs::remove_dir_all(srv.smtp_in.join(".tmp")).unwrap();
    std::fs::write(srv.smtp_in.join(".tmp"), "in the way").unwrap();
    c.send_message(MESSAGE, "451 4.3.0").await;
    assert!(srv.queued().is_empty());
    assert!(srv.log("smtp.log").contains("queue_failed"));
    assert!(srv.log("msgid.log").is_empty());
    // The transaction is over; the session is not.
    c.cmd(&format!("RCPT TO:<{FAX}>"), "503").await;
    // Once the obstacle is gone the spool makes its folder again by itself.
    std::fs::remove_file(srv.smtp_in.join(".tmp")).unwrap();
    c.send_message(MESSAGE, "250 2.0.0").await;
    c.quit().await;
}

#[tokio::test]
async fn lines_over_the_data_line_limit_are_refused() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    let long = format!("Subject: long\r\n\r\n{}\r\n", "x".repeat(3000));
    c.send_message(&long, "554 5.6.0").await;
    assert!(srv.queued().is_empty());
    c.quit().await;
}

/// The SMTP smuggling end markers: none of them may end a message.
const SMUGGLING_MARKERS: [&[u8]; 5] = [
    b"\n.\n",
    b"\n.\r\n",
    b"\r.\r\n",
    b"\r\n.\r",
    b"\r\n\x00.\r\n",
];

fn smuggling_payload(marker: &[u8]) -> Vec<u8> {
    let mut p = b"From: sender@example.com\r\nSubject: first\r\n\r\nfirst body".to_vec();
    p.extend_from_slice(marker);
    p.extend_from_slice(
        b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<+4930666666@fax.example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled body",
    );
    p.extend_from_slice(b"\r\n.\r\n");
    p
}

/// After a refused smuggling attempt: no transaction is open (so the smuggled MAIL was not
/// executed), nothing was spooled, and nothing else was said.
async fn assert_nothing_smuggled<S: AsyncRead + AsyncWrite + Unpin>(
    srv: &TestServer,
    c: &mut Client<S>,
    marker: &[u8],
) {
    let r = c.cmd(&format!("RCPT TO:<{FAX}>"), "503").await;
    assert!(r.last().contains("MAIL"), "{marker:?}: {r:?}");
    assert!(srv.queued().is_empty(), "{marker:?} spooled something");
}

#[tokio::test]
async fn smuggling_markers_in_one_write_are_refused() {
    for marker in SMUGGLING_MARKERS {
        let srv = server().start();
        let mut c = srv.greeted().await;
        c.ehlo().await;
        let mut all =
            format!("MAIL FROM:<sender@example.com>\r\nRCPT TO:<{FAX}>\r\nDATA\r\n").into_bytes();
        all.extend_from_slice(&smuggling_payload(marker));
        c.send_raw(&all).await;
        c.expect("250 2.1.0").await;
        c.expect("250 2.1.5").await;
        c.expect("354").await;
        c.expect("554 5.6.0").await;
        assert_nothing_smuggled(&srv, &mut c, marker).await;
        c.quit().await;
        assert!(srv.log("smtp.log").contains("data_refused"));
        assert!(srv.log("msgid.log").is_empty());
    }
}

#[tokio::test]
async fn smuggling_markers_split_across_writes_are_refused() {
    for marker in SMUGGLING_MARKERS {
        let srv = server().start();
        let mut c = srv.greeted().await;
        c.ehlo().await;
        c.cmd("MAIL FROM:<sender@example.com>", "250").await;
        c.cmd(&format!("RCPT TO:<{FAX}>"), "250").await;
        c.cmd("DATA", "354").await;
        let payload = smuggling_payload(marker);
        let start = payload
            .windows(b"first body".len())
            .position(|w| w == b"first body")
            .unwrap()
            + b"first body".len();
        c.send_raw(&payload[..start]).await;
        // Every byte from the marker on in a write of its own, with the session given the
        // chance to read each one before the next.
        for b in &payload[start..] {
            c.send_raw(std::slice::from_ref(b)).await;
            tokio::task::yield_now().await;
        }
        c.expect("554 5.6.0").await;
        assert_nothing_smuggled(&srv, &mut c, marker).await;
        c.quit().await;
    }
}

// ---------------------------------------------------------------------------------------
// PIPELINING
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn pipelined_commands_are_answered_in_order_in_one_write() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.send_raw(
        format!(
            "MAIL FROM:<sender@example.com>\r\nRCPT TO:<{FAX}>\r\nRCPT TO:<jane@example.com>\r\nRCPT TO:<+491511234567@sms.example.com>\r\nDATA\r\n"
        )
        .as_bytes(),
    )
    .await;
    // The whole group's replies arrive together (RFC 2920).
    assert!(c.fill().await);
    let text = String::from_utf8(c.buf.clone()).unwrap();
    let codes: Vec<&str> = text.lines().map(|l| &l[..3]).collect();
    assert_eq!(codes, ["250", "250", "550", "250", "354"], "{text}");
    c.expect("250 2.1.0").await;
    c.expect("250 2.1.5").await;
    c.expect("550 5.1.1").await;
    c.expect("250 2.1.5").await;
    c.expect("354").await;
    c.send_raw(format!("{MESSAGE}.\r\nNOOP\r\nQUIT\r\n").as_bytes())
        .await;
    c.expect("250 2.0.0 Ok: queued as").await;
    c.expect("250 2.0.0 Ok").await;
    c.expect("221").await;
    c.expect_closed().await;
    let q = srv.queued();
    assert_eq!(q[0].sidecar.as_ref().unwrap().rcpts.len(), 2);
}

// ---------------------------------------------------------------------------------------
// STARTTLS
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn starttls_then_auth_then_mail() {
    let srv = server().tls().auth(true, "").start();
    let mut c = srv.greeted().await;
    let r = c.ehlo().await;
    assert!(r.has_extension("STARTTLS") && !r.has_extension("AUTH PLAIN LOGIN"));
    c.cmd("STARTTLS", "220 2.0.0").await;
    let mut c = c.starttls(&srv.tls_connector()).await;
    let r = c.ehlo().await;
    assert!(!r.has_extension("STARTTLS"), "{r:?}");
    assert!(r.has_extension("AUTH PLAIN LOGIN"), "{r:?}");
    c.cmd(
        &format!("AUTH PLAIN {}", plain(USER, PASSWORD)),
        "235 2.7.0",
    )
    .await;
    let id = c.send_message(MESSAGE, "250 2.0.0").await.queue_id();
    let q = srv.queued();
    let sc = q[0].sidecar.as_ref().unwrap();
    assert!(sc.tls);
    assert_eq!(sc.auth.as_deref(), Some(USER));
    let eml = std::fs::read_to_string(&q[0].eml).unwrap();
    assert!(eml.contains(&format!("with ESMTPSA id {id}")), "{eml}");
    c.quit().await;
}

#[tokio::test]
async fn starttls_injected_commands_are_never_answered() {
    let srv = server().tls().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.send_raw(b"STARTTLS\r\nRSET\r\n").await;
    c.expect("220 2.0.0").await;
    // `starttls` checks that nothing followed the 220 in plain text.
    let mut c = c.starttls(&srv.tls_connector()).await;
    // The first reply over TLS answers the first command sent over TLS.
    c.send("NOOP").await;
    let r = c.read_reply().await;
    assert_eq!(r.lines, ["250 2.0.0 Ok"], "got the injected RSET's reply");
    c.quit().await;
    assert!(srv.log("smtp.log").contains("starttls_discarded"));
}

#[tokio::test]
async fn starttls_injected_mail_does_not_open_a_transaction() {
    let srv = server().tls().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.send_raw(b"STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
        .await;
    c.expect("220 2.0.0").await;
    let mut c = c.starttls(&srv.tls_connector()).await;
    c.ehlo().await;
    c.cmd(&format!("RCPT TO:<{FAX}>"), "503 5.5.1").await;
    c.quit().await;
    assert!(srv.queued().is_empty());
}

#[tokio::test]
async fn starttls_resets_the_session() {
    let srv = server().tls().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd("MAIL FROM:<sender@example.com>", "250").await;
    // Not in the middle of a transaction …
    c.cmd("STARTTLS", "503 5.5.1").await;
    c.cmd(&format!("RCPT TO:<{FAX}>"), "250").await;
    c.cmd("RSET", "250").await;
    c.cmd("MAIL FROM:<sender@example.com>", "250").await;
    c.cmd("RSET", "250").await;
    c.cmd("STARTTLS", "220").await;
    let mut c = c.starttls(&srv.tls_connector()).await;
    // … and after it, the greeting is forgotten too.
    c.cmd("MAIL FROM:<sender@example.com>", "503 5.5.1").await;
    c.ehlo().await;
    c.cmd(&format!("RCPT TO:<{FAX}>"), "503 5.5.1").await;
    c.quit().await;
}

#[tokio::test]
async fn starttls_forgets_authentication() {
    let srv = server().tls().auth(false, "").start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd(&format!("AUTH PLAIN {}", plain(USER, PASSWORD)), "235")
        .await;
    c.cmd("STARTTLS", "220").await;
    let mut c = c.starttls(&srv.tls_connector()).await;
    c.ehlo().await;
    c.cmd("MAIL FROM:<sender@example.com>", "530 5.7.0").await;
    c.cmd(&format!("AUTH PLAIN {}", plain(USER, PASSWORD)), "235")
        .await;
    c.cmd("MAIL FROM:<sender@example.com>", "250").await;
    c.quit().await;
}

#[tokio::test]
async fn a_failed_tls_handshake_ends_the_session() {
    let srv = server().tls().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd("STARTTLS", "220").await;
    // Plain text where a ClientHello should be: the answer is a TLS alert record
    // (content type 21), never an SMTP reply, and then the end of the session.
    c.send_raw(b"EHLO client.example.com\r\n").await;
    while c.fill().await {}
    assert_eq!(c.buf.first(), Some(&21u8), "{:?}", c.buf);
    assert!(!c.buf.windows(3).any(|w| w == b"250"));
    c.buf.clear();
    c.expect_closed().await;
    assert!(srv.log("smtp.log").contains("tls_failed"));
}

// ---------------------------------------------------------------------------------------
// AUTH
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn auth_requires_tls_when_configured() {
    let srv = server().tls().auth(true, "").start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd(
        &format!("AUTH PLAIN {}", plain(USER, PASSWORD)),
        "538 5.7.11",
    )
    .await;
    c.cmd("AUTH LOGIN", "538 5.7.11").await;
    c.cmd("MAIL FROM:<sender@example.com>", "530 5.7.0").await;
    assert!(srv.queued().is_empty());
    c.quit().await;
}

#[tokio::test]
async fn auth_plain_and_login_succeed_with_the_right_password() {
    let srv = server().auth(false, "").start();

    // PLAIN with an initial response.
    let mut c = srv.greeted().await;
    c.cmd(
        &format!("AUTH PLAIN {}", plain(USER, PASSWORD)),
        "503 5.5.1",
    )
    .await;
    c.ehlo().await;
    c.cmd("MAIL FROM:<sender@example.com>", "530 5.7.0").await;
    c.cmd(
        &format!("AUTH PLAIN {}", plain(USER, PASSWORD)),
        "235 2.7.0",
    )
    .await;
    c.cmd(
        &format!("AUTH PLAIN {}", plain(USER, PASSWORD)),
        "503 5.5.1",
    )
    .await;
    let id = c.send_message(MESSAGE, "250 2.0.0").await.queue_id();
    let eml = std::fs::read_to_string(srv.smtp_in.join(format!("{id}.eml"))).unwrap();
    assert!(eml.contains(&format!("with ESMTPA id {id}")), "{eml}");
    c.quit().await;

    // PLAIN after a 334 continuation.
    let mut c = srv.greeted().await;
    c.ehlo().await;
    let r = c.cmd("AUTH PLAIN", "334").await;
    assert_eq!(r.lines, ["334 "]);
    c.cmd(&plain(USER, PASSWORD), "235 2.7.0").await;
    c.cmd("MAIL FROM:<sender@example.com>", "250").await;
    c.quit().await;

    // LOGIN, both prompts.
    let mut c = srv.greeted().await;
    c.ehlo().await;
    let r = c.cmd("AUTH LOGIN", "334").await;
    assert_eq!(r.lines, ["334 VXNlcm5hbWU6"]);
    let r = c.cmd(&b64(USER), "334").await;
    assert_eq!(r.lines, ["334 UGFzc3dvcmQ6"]);
    c.cmd(&b64(PASSWORD), "235 2.7.0").await;
    c.cmd("MAIL FROM:<sender@example.com>", "250").await;
    c.quit().await;

    // LOGIN with the user name as the initial response.
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd(&format!("AUTH LOGIN {}", b64(USER)), "334 UGFzc3dvcmQ6")
        .await;
    c.cmd(&b64(PASSWORD), "235 2.7.0").await;
    c.quit().await;

    let sessions = srv.log("smtp.log").matches("auth_ok").count();
    assert_eq!(sessions, 4);
}

#[tokio::test]
async fn auth_failures_cancel_and_bad_input() {
    let srv = server().auth(false, "max_failures = 100").start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd(&format!("AUTH PLAIN {}", plain(USER, "wrong")), "535 5.7.8")
        .await;
    c.cmd(
        &format!("AUTH PLAIN {}", plain("nobody", PASSWORD)),
        "535 5.7.8",
    )
    .await;
    c.cmd("MAIL FROM:<sender@example.com>", "530 5.7.0").await;
    // Cancelling and malformed responses are not failed checks.
    c.cmd("AUTH PLAIN", "334").await;
    c.cmd("*", "501 5.0.0").await;
    c.cmd("AUTH LOGIN", "334").await;
    c.cmd(&b64(USER), "334").await;
    c.cmd("*", "501 5.0.0").await;
    c.cmd("AUTH PLAIN", "334").await;
    c.cmd("not base64!", "501 5.5.4").await;
    c.cmd(&format!("AUTH PLAIN {}", b64("no separators")), "501 5.5.4")
        .await;
    c.cmd("AUTH CRAM-MD5", "504 5.5.4").await;
    // An empty password never succeeds.
    c.cmd(&format!("AUTH PLAIN {}", plain(USER, "")), "535 5.7.8")
        .await;
    // That was the third failed check in this session: it is closed.
    c.expect("421 4.7.0").await;
    c.expect_closed().await;
    // A fresh session still authenticates with the right password.
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd(&format!("AUTH PLAIN {}", plain(USER, PASSWORD)), "235")
        .await;
    c.quit().await;
    let log = srv.log("smtp.log");
    assert!(!log.contains(PASSWORD) && !log.contains("wrong"), "{log}");
}

#[tokio::test]
async fn auth_failures_are_rate_limited_per_client_address() {
    let srv = server()
        .auth(false, r#"max_failures = 2, failure_window = "1h""#)
        .start();
    let mut a = srv.greeted().await;
    a.ehlo().await;
    a.cmd(&format!("AUTH PLAIN {}", plain(USER, "wrong")), "535 5.7.8")
        .await;
    a.cmd(&format!("AUTH PLAIN {}", plain(USER, "wrong")), "535 5.7.8")
        .await;
    a.cmd(
        &format!("AUTH PLAIN {}", plain(USER, PASSWORD)),
        "454 4.7.0",
    )
    .await;
    a.cmd("AUTH LOGIN", "454 4.7.0").await;
    a.quit().await;

    // A new session from the same address is still refused …
    let mut a = srv.greeted().await;
    a.ehlo().await;
    a.cmd(
        &format!("AUTH PLAIN {}", plain(USER, PASSWORD)),
        "454 4.7.0",
    )
    .await;
    a.cmd("MAIL FROM:<sender@example.com>", "530").await;
    a.quit().await;

    // … while another address is not affected.
    let mut b = srv.connect_from("192.0.2.77:40002");
    b.expect("220").await;
    b.ehlo().await;
    b.cmd(
        &format!("AUTH PLAIN {}", plain(USER, PASSWORD)),
        "235 2.7.0",
    )
    .await;
    b.quit().await;
    assert!(srv.log("smtp.log").contains("auth_blocked"));
}

#[tokio::test]
async fn concurrent_auth_attempts_count_before_their_check_ends() {
    let srv = server()
        .auth(false, r#"max_failures = 2, failure_window = "1h""#)
        .start();
    // Five sessions from one address each send a guess before any check has ended.
    let mut clients = Vec::new();
    for _ in 0..5 {
        let mut c = srv.greeted().await;
        c.ehlo().await;
        clients.push(c);
    }
    for c in &mut clients {
        c.send(&format!("AUTH PLAIN {}", plain(USER, "guess")))
            .await;
    }
    let mut codes = Vec::new();
    for c in &mut clients {
        codes.push(c.read_reply().await.last()[..3].to_owned());
    }
    codes.sort();
    assert_eq!(codes, ["454", "454", "454", "535", "535"]);
    // The limit holds for the right password too, from a neighbour in the same /64.
    let mut n = srv.connect_from("[2001:db8::1]:40003");
    n.expect("220").await;
    n.ehlo().await;
    for guess in ["a", "b"] {
        n.cmd(&format!("AUTH PLAIN {}", plain(USER, guess)), "535")
            .await;
    }
    n.quit().await;
    let mut m = srv.connect_from("[2001:db8::2]:40004");
    m.expect("220").await;
    m.ehlo().await;
    m.cmd(
        &format!("AUTH PLAIN {}", plain(USER, PASSWORD)),
        "454 4.7.0",
    )
    .await;
    m.quit().await;
    // Another /64 is not affected.
    let mut o = srv.connect_from("[2001:db8:0:1::2]:40005");
    o.expect("220").await;
    o.ehlo().await;
    o.cmd(
        &format!("AUTH PLAIN {}", plain(USER, PASSWORD)),
        "235 2.7.0",
    )
    .await;
    o.quit().await;
    for c in &mut clients {
        c.quit().await;
    }
}

// ---------------------------------------------------------------------------------------
// Access, limits, timeouts, shutdown
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn clients_outside_allow_from_are_refused_at_connect() {
    let srv = server()
        .set(r#"allow_from = ["10.0.0.0/8", "2001:db8::/32"]"#)
        .start();
    let mut c = srv.connect();
    let r = c.expect("554 5.7.1").await;
    assert_eq!(r.lines.len(), 1);
    c.expect_closed().await;
    assert!(srv.log("smtp.log").contains("reason=not in allow_from"));

    for inside in ["10.1.2.3:40000", "[2001:db8::25]:40000"] {
        let mut c = srv.connect_from(inside);
        c.expect("220").await;
        c.quit().await;
    }
}

#[tokio::test]
async fn overlong_command_lines_are_refused_and_the_session_continues() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    // 2048 bytes including CRLF is the longest line.
    let fits = format!("NOOP {}", "x".repeat(2048 - 7));
    assert_eq!(fits.len() + 2, 2048);
    c.cmd(&fits, "250 2.0.0").await;
    c.cmd(&format!("{fits}x"), "500 5.5.2").await;
    c.cmd(&format!("NOOP {}", "x".repeat(3000)), "500 5.5.2")
        .await;
    // Longer than anything the session reads at once.
    c.cmd(&format!("NOOP {}", "x".repeat(100_000)), "500 5.5.2")
        .await;
    c.ehlo().await;
    c.cmd("MAIL FROM:<sender@example.com>", "250").await;
    c.quit().await;
}

#[tokio::test]
async fn idle_client_gets_421_after_the_command_timeout() {
    let srv = server().set(r#"command_timeout = "200ms""#).start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.expect("421 4.4.2").await;
    c.expect_closed().await;
}

#[tokio::test]
async fn stalled_data_gets_421_and_nothing_is_spooled() {
    let srv = server().set(r#"data_timeout = "200ms""#).start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd("MAIL FROM:<sender@example.com>", "250").await;
    c.cmd(&format!("RCPT TO:<{FAX}>"), "250").await;
    c.cmd("DATA", "354").await;
    c.send_raw(b"Subject: half a message\r\n\r\nand then").await;
    c.expect("421 4.4.2").await;
    c.expect_closed().await;
    assert!(srv.queued().is_empty());
    assert!(srv.log("smtp.log").contains("timeout during DATA"));
}

#[tokio::test]
async fn shutdown_tells_an_idle_session_421() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    srv.shutdown.send(true).unwrap();
    // Whether the session says it at once or when the next command arrives, the next
    // thing the client hears is 421 (the write fails only if it already hung up).
    let _ = c.stream.write_all(b"NOOP\r\n").await;
    c.expect("421 4.3.2").await;
    c.expect_closed().await;
    // A session that starts now is told the same right after the greeting.
    let mut c = srv.greeted().await;
    c.expect("421 4.3.2").await;
    c.expect_closed().await;
}

#[tokio::test]
async fn shutdown_lets_a_message_in_transfer_finish() {
    let srv = server().start();
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd("MAIL FROM:<sender@example.com>", "250").await;
    c.cmd(&format!("RCPT TO:<{FAX}>"), "250").await;
    c.cmd("DATA", "354").await;
    c.send_raw(b"Subject: in transfer\r\n\r\nfirst half,").await;
    tokio::task::yield_now().await;
    srv.shutdown.send(true).unwrap();
    c.send_raw(b" second half\r\n.\r\n").await;
    c.expect("250 2.0.0 Ok: queued as").await;
    c.expect("421 4.3.2").await;
    c.expect_closed().await;
    assert_eq!(srv.queued().len(), 1);
}

#[tokio::test]
async fn shutdown_lets_an_open_transaction_finish() {
    let srv = server().start();
    let (mut a, mut b, mut idle) = (
        srv.greeted().await,
        srv.greeted().await,
        srv.greeted().await,
    );
    for c in [&mut a, &mut b, &mut idle] {
        c.ehlo().await;
    }
    a.cmd("MAIL FROM:<sender@example.com>", "250").await;
    a.cmd(&format!("RCPT TO:<{FAX}>"), "250").await;
    b.cmd("MAIL FROM:<sender@example.com>", "250").await;
    srv.shutdown.send(true).unwrap();
    // The idle session is told at once.
    idle.expect("421 4.3.2").await;
    idle.expect_closed().await;
    // A transaction is not cut off between RCPT and DATA …
    a.cmd("RCPT TO:<+491511234567@sms.example.com>", "250 2.1.5")
        .await;
    a.data(MESSAGE, "250 2.0.0 Ok: queued as").await;
    // … and the session is told as soon as it is over,
    a.expect("421 4.3.2").await;
    a.expect_closed().await;
    assert_eq!(srv.queued().len(), 1);
    // as it is when the client ends the transaction with RSET.
    b.cmd("RSET", "250 2.0.0 Reset").await;
    b.expect("421 4.3.2").await;
    b.expect_closed().await;
}

#[tokio::test]
async fn rcpt_is_deferred_while_the_state_store_is_unavailable() {
    use std::sync::atomic::Ordering;
    let srv = server().start();
    srv.ctx.unavailable.store(true, Ordering::Relaxed);
    let mut c = srv.greeted().await;
    c.ehlo().await;
    c.cmd("MAIL FROM:<sender@example.com>", "250 2.1.0").await;
    let r = c
        .cmd("RCPT TO:<+4930123456@fax.example.com>", "451 4.3.0")
        .await;
    assert!(r.lines[0].contains("try again later"), "{r:?}");
    c.cmd("DATA", "503 5.5.1").await;
    assert!(srv.log("smtp.log").contains("rcpt_deferred"));
    assert!(srv.queued().is_empty());
    // Back: the same session takes the mail.
    srv.ctx.unavailable.store(false, Ordering::Relaxed);
    c.cmd("RCPT TO:<+4930123456@fax.example.com>", "250 2.1.5")
        .await;
}

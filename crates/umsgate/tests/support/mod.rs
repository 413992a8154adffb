//! Shared harness for process-level tests of the `umsgate` binary.
//!
//! * [`Work`]: a private folder per test with a `umsgate.toml` (state and logs below it); kept
//!   on disk when the test panics, so a failure can be inspected.
//! * [`Daemon`]: `umsgate --config … run` (or any other command) as a child process, with its
//!   stdout/stderr in files of the work folder; [`Daemon::wait_ready`] waits until the
//!   listener greets with umsgate's 220; SIGKILL/SIGTERM helpers.
//! * [`TestConfig`]: the `umsgate.toml` of a test, built from the parts it changes.
//! * [`Smtp`]: a small blocking SMTP client (dot-stuffing, multi-line replies).
//! * Spool readers for `<state_dir>/<instance>/smtp-in/`.
//! * Peer environment (`MAIL_*`) that fails with a clear message when missing, and a
//!   cross-process lock for the one fixed port Postfix relays to.
//!
//! Deadlines below only keep a broken run from hanging; no test asserts how long anything takes.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

pub mod browser;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

mod config;
#[allow(unused_imports)] // each test binary uses a part
pub use config::{Delivery, TestConfig};

/// Generous upper bound for anything a test waits for.
pub const DEADLINE: Duration = Duration::from_secs(60);
/// The instance id of [`config_text`].
pub const INSTANCE: &str = "it";

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_umsgate")
}

/// A string unique to this test process and call (pid, counter, random bits).
pub fn nonce() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let mut r = [0u8; 4];
    if let Ok(mut f) = File::open("/dev/urandom") {
        let _ = f.read_exact(&mut r);
    }
    format!(
        "{}-{}-{:08x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        u32::from_le_bytes(r)
    )
}

/// Polls `probe` until it yields; fails after [`DEADLINE`].
pub fn wait_for<T>(what: &str, probe: impl FnMut() -> Option<T>) -> T {
    wait_for_within(what, DEADLINE, probe)
}

/// [`wait_for`] with its own deadline: for work that starts a converter first (LibreOffice
/// takes seconds to start, far more on a busy CI machine).
pub fn wait_for_within<T>(
    what: &str,
    deadline: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let end = Instant::now() + deadline;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            Instant::now() < end,
            "{what}: not there within {deadline:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap()
}

// ------------------------------------------------------------------------------------------
// Work folder and configuration

/// A test's own folder; removed on success, kept (and printed) on failure.
pub struct Work {
    pub dir: PathBuf,
}

impl Work {
    pub fn new(name: &str) -> Work {
        let dir = std::env::temp_dir().join(format!("umsgate-it-{name}-{}", nonce()));
        std::fs::create_dir_all(&dir).unwrap();
        Work { dir }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.join("umsgate.toml")
    }

    /// Writes `umsgate.toml` (and the file directory it names).
    pub fn write_config(&self, text: &str) -> PathBuf {
        std::fs::write(self.dir.join("users.toml"), USERS).unwrap();
        let p = self.config_path();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `state/<instance>/smtp-in/` of [`config_text`].
    pub fn smtp_in(&self) -> PathBuf {
        self.dir.join("state").join(INSTANCE).join("smtp-in")
    }

    /// `log/<instance>/<category>.log` of [`config_text`].
    pub fn log(&self, category: &str) -> PathBuf {
        self.dir
            .join("log")
            .join(INSTANCE)
            .join(format!("{category}.log"))
    }

    /// Runs `umsgate --config <this config> ARGS…` to its end.
    pub fn umsgate(&self, args: &[&str]) -> Output {
        let config = self.config_path();
        let mut full = vec!["--config", config.to_str().unwrap()];
        full.extend_from_slice(args);
        run_cli(&full, None, &self.dir)
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test folder kept for inspection: {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

const USERS: &str = r#"[[user]]
mail = "jane@example.com"
name = "Jane Doe"
numbers = ["+49 8142 4799123"]
ums = "ums1;fax.rights=international;sms.rights=national"
"#;

/// A minimal valid configuration: one instance `it` listening on `listen`, state and logs in
/// the config's folder, file directory, simulated gateway, and `hold = true`: mail is accepted
/// but kept in `smtp-in/` (these tests look at `smtp-in/` itself; the outbound worker taking
/// messages out of it would race them). `smtp_in_extra` is appended to `[instance.smtp_in]`.
pub fn config_text(listen: SocketAddr, smtp_in_extra: &str) -> String {
    TestConfig::new(listen)
        .name("umsgate integration test")
        .instance("hold = true")
        .smtp_in(smtp_in_extra)
        .render()
}

/// The 1-based line of the first line of `text` that contains `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in the config"))
        + 1
}

/// Runs the binary to its end with `args`, optional stdin, in `cwd`.
pub fn run_cli(args: &[&str], stdin: Option<&str>, cwd: &Path) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("UMSGATE_CONFIG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn umsgate");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// `stdout`, `stderr` and exit code of an [`Output`], for assertion messages.
pub fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

// ------------------------------------------------------------------------------------------
// The daemon

/// A running umsgate process; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub addr: SocketAddr,
    stdout: PathBuf,
    stderr: PathBuf,
}

static DAEMONS: AtomicU32 = AtomicU32::new(0);

impl Daemon {
    /// `umsgate --config <work>/umsgate.toml run`, listening on `addr`.
    pub fn run(work: &Work, addr: SocketAddr) -> Daemon {
        let mut cmd = Command::new(bin());
        cmd.arg("--config").arg(work.config_path()).arg("run");
        Daemon::spawn(cmd, &work.dir, addr)
    }

    /// Starts `cmd` (cwd `dir`, output into files in `dir`); does not wait.
    pub fn spawn(mut cmd: Command, dir: &Path, addr: SocketAddr) -> Daemon {
        let n = DAEMONS.fetch_add(1, Ordering::Relaxed);
        let stdout = dir.join(format!("daemon-{n}.stdout"));
        let stderr = dir.join(format!("daemon-{n}.stderr"));
        let child = cmd
            .current_dir(dir)
            .env_remove("UMSGATE_CONFIG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).unwrap())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .expect("spawn umsgate");
        Daemon {
            child,
            addr,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process printed so far.
    pub fn output(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// Waits until `addr` answers with umsgate's greeting; panics (with the process output)
    /// when the process exits first or nothing greets before the deadline.
    pub fn wait_ready(&mut self) {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!(
                    "umsgate exited ({st}) before listening on {}\n{}",
                    self.addr,
                    self.output()
                );
            }
            if let Ok((mut c, greeting)) = Smtp::connect(self.addr) {
                let _ = c.command("QUIT");
                // Something else on the port must not pass for umsgate.
                assert!(
                    greeting.code == 220 && greeting.text.contains("ESMTP umsgate"),
                    "{} greets with {greeting:?}, not umsgate's 220",
                    self.addr
                );
                assert!(
                    self.child.try_wait().unwrap().is_none(),
                    "umsgate exited right after greeting\n{}",
                    self.output()
                );
                return;
            }
            assert!(
                Instant::now() < end,
                "umsgate did not listen on {} within {DEADLINE:?}\n{}",
                self.addr,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the process has printed `needle` on stdout.
    pub fn wait_stdout(&mut self, needle: &str) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let out = self.stdout();
            if out.contains(needle) {
                return out;
            }
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!(
                    "umsgate exited ({st}) before printing {needle:?}\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < end,
                "umsgate did not print {needle:?} within {DEADLINE:?}\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, then reap.
    pub fn sigkill(&mut self) -> ExitStatus {
        self.child.kill().unwrap();
        self.child.wait().unwrap()
    }

    /// SIGTERM, then wait for the exit (a hang fails the test).
    pub fn sigterm(&mut self) -> ExitStatus {
        let st = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .expect("run kill(1)");
        assert!(st.success(), "kill -TERM {} failed", self.pid());
        self.wait_exit()
    }

    /// Waits for the process to end on its own.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "umsgate did not exit within {DEADLINE:?}; killed\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("umsgate pid {} output:\n{}", self.pid(), self.output());
        }
    }
}

// ------------------------------------------------------------------------------------------
// SMTP client

/// One SMTP reply; `text` holds every line's text joined with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    /// The id of a `250 … queued as ID` reply.
    pub fn queue_id(&self) -> Option<String> {
        let i = self.text.find("queued as ")?;
        let id: String = self.text[i + 10..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        (!id.is_empty()).then_some(id)
    }
}

/// A blocking SMTP client.
pub struct Smtp {
    reader: BufReader<TcpStream>,
    stream: TcpStream,
}

impl Smtp {
    /// Connects and reads the greeting.
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<(Smtp, Reply)> {
        let addr = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::other("no address"))?;
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        stream.set_write_timeout(Some(Duration::from_secs(120)))?;
        let mut c = Smtp {
            reader: BufReader::new(stream.try_clone()?),
            stream,
        };
        let greeting = c.read_reply()?;
        Ok((c, greeting))
    }

    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let mut text = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed",
                ));
            }
            let line = line.trim_end_matches(['\r', '\n']);
            let code: u16 = line
                .get(..3)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| io::Error::other(format!("not a reply: {line:?}")))?;
            text.push(line.get(4..).unwrap_or("").to_owned());
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(Reply {
                    code,
                    text: text.join("\n"),
                });
            }
        }
    }

    /// Sends one command line and reads its reply.
    pub fn command(&mut self, line: &str) -> io::Result<Reply> {
        self.stream.write_all(format!("{line}\r\n").as_bytes())?;
        self.read_reply()
    }

    /// EHLO, expecting 250.
    pub fn ehlo(&mut self, name: &str) -> io::Result<Reply> {
        let r = self.command(&format!("EHLO {name}"))?;
        if r.code != 250 {
            return Err(io::Error::other(format!("EHLO: {r:?}")));
        }
        Ok(r)
    }

    /// One transaction: MAIL, RCPT…, DATA, message. `Ok(Ok(reply))` is the final 2xx;
    /// `Ok(Err(reply))` the first refusal (the transaction is reset); `Err` an I/O failure.
    pub fn send(
        &mut self,
        from: &str,
        rcpts: &[&str],
        message: &[u8],
    ) -> io::Result<Result<Reply, Reply>> {
        let r = self.command(&format!("MAIL FROM:<{from}>"))?;
        if r.code != 250 {
            return Ok(Err(r));
        }
        for to in rcpts {
            let r = self.command(&format!("RCPT TO:<{to}>"))?;
            if r.code != 250 {
                let _ = self.command("RSET")?;
                return Ok(Err(r));
            }
        }
        let r = self.command("DATA")?;
        if r.code != 354 {
            return Ok(Err(r));
        }
        self.stream.write_all(&dot_stuff(message))?;
        let r = self.read_reply()?;
        Ok(if r.code == 250 { Ok(r) } else { Err(r) })
    }

    /// Writes raw bytes (part of a command or message).
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Writes a message after a 354 (dot-stuffed, with the end marker); read the reply next.
    pub fn send_data(&mut self, message: &[u8]) -> io::Result<()> {
        self.stream.write_all(&dot_stuff(message))
    }

    pub fn quit(mut self) {
        let _ = self.command("QUIT");
    }
}

/// A message as sent after DATA: CRLF line ends, leading dots doubled, `.` line at the end.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 8);
    let mut at_line_start = true;
    for &b in message {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// A simple RFC 5322 message with a Message-ID and a body line that identifies it.
pub fn message(from: &str, to: &str, marker: &str) -> Vec<u8> {
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: umsgate test {marker}\r\nMessage-ID: <{marker}@umsgate.test>\r\n\r\nbody marker {marker}\r\n.a line that starts with a dot\r\nend\r\n"
    )
    .into_bytes()
}

// ------------------------------------------------------------------------------------------
// Spool

/// One queued pair of a spool folder.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: String,
    pub eml: Vec<u8>,
    /// The raw sidecar text (`None` if missing).
    pub json: Option<String>,
}

impl Queued {
    /// The sidecar parsed; panics with the text if it is not JSON.
    pub fn sidecar(&self) -> serde_json::Value {
        let t = self
            .json
            .as_deref()
            .unwrap_or_else(|| panic!("{}.eml has no sidecar", self.id));
        serde_json::from_str(t)
            .unwrap_or_else(|e| panic!("sidecar of {} is not JSON ({e}): {t}", self.id))
    }

    pub fn contains(&self, needle: &str) -> bool {
        find(&self.eml, needle.as_bytes()).is_some()
    }

    /// The header block (up to the first empty line).
    pub fn headers(&self) -> String {
        let end = find(&self.eml, b"\r\n\r\n").unwrap_or(self.eml.len());
        String::from_utf8_lossy(&self.eml[..end]).into_owned()
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Every `*.eml` of a spool folder with its sidecar, by id.
pub fn read_spool(dir: &Path) -> Vec<Queued> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_suffix(".eml") else {
            continue;
        };
        let Ok(eml) = std::fs::read(e.path()) else {
            continue; // moved away meanwhile
        };
        out.push(Queued {
            id: id.to_owned(),
            eml,
            json: std::fs::read_to_string(dir.join(format!("{id}.json"))).ok(),
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Polls `dir` until a queued message contains `marker`.
pub fn wait_in_spool(dir: &Path, marker: &str, what: &str) -> Queued {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(q) = read_spool(dir).into_iter().find(|q| q.contains(marker)) {
            return q;
        }
        assert!(
            Instant::now() < end,
            "{what}: no message with `{marker}` in {} within {DEADLINE:?}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Names of the entries of a folder (empty if it does not exist).
/// Paths (relative to `dir`) of the files under `dir`, in its subfolders too, sorted.
pub fn files_below(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.display().to_string());
            }
        }
    }
    out.sort();
    out
}

pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

// ------------------------------------------------------------------------------------------
// Test peers

/// A variable the test peers export; panics with how to start them when it is missing.
pub fn peer_env(name: &str) -> String {
    let hint = "this test needs the test peers (a real Postfix): run `.ci/run`, or \
                `UMSGATE_CI_PEERS_ONLY=1 UMSGATE_CI_KEEP_PEERS=1 bash .ci/run` and source the \
                printed env files with UMSGATE_TEST_PEERS=1";
    match std::env::var("UMSGATE_TEST_PEERS") {
        Ok(v) if v == "1" => {}
        _ => panic!("UMSGATE_TEST_PEERS=1 is not set: {hint}"),
    }
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!("{name} is not set: {hint}"),
    }
}

/// Serialises every user of the fixed gateway port, across threads and test processes:
/// an exclusive lock on a file named after the port, held while the guard lives.
pub fn lock_port(port: u16) -> File {
    let path = std::env::temp_dir().join(format!("umsgate-it-port-{port}.lock"));
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap();
    f.lock().unwrap();
    f
}

/// `pdfinfo`'s report of a PDF (poppler-utils; .ci/run installs it).
pub fn pdf_info(pdf: &Path) -> String {
    let out = Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .expect("pdfinfo (poppler-utils) must be installed");
    assert!(
        out.status.success(),
        "pdfinfo {}: {}",
        pdf.display(),
        describe(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Pages of a PDF, as `pdfinfo` counts them.
pub fn pdf_pages(pdf: &Path) -> u32 {
    let info = pdf_info(pdf);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count for {}: {info}", pdf.display()))
}

/// The text of a PDF as `pdftotext` reads it, every run of blanks one space (it spaces
/// words by their position, so blanks are not exact).
pub fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed");
    assert!(out.status.success(), "pdftotext: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `multipart/mixed` mail: `head` (header lines, CRLF-ended, without MIME-Version and
/// Content-Type), an 8bit UTF-8 text body (none when empty) and attachments given as
/// (content type, file name, bytes), each in base64.
pub fn multipart_mail(head: &str, body: &str, attachments: &[(&str, &str, Vec<u8>)]) -> Vec<u8> {
    use base64::Engine as _;
    let mut m = format!(
        "{head}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n"
    );
    if !body.is_empty() {
        m.push_str(
            "--b0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        );
        m.push_str(body);
        m.push_str("\r\n");
    }
    for (ct, name, data) in attachments {
        m.push_str(&format!(
            "--b0\r\nContent-Type: {ct}; name=\"{name}\"\r\nContent-Disposition: attachment; \
             filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ));
        let b64 = base64::engine::general_purpose::STANDARD.encode(data);
        for line in b64.as_bytes().chunks(76) {
            m.push_str(&String::from_utf8_lossy(line));
            m.push_str("\r\n");
        }
    }
    m.push_str("--b0--\r\n");
    m.into_bytes()
}

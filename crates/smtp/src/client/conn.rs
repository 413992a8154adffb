//! One SMTP client connection to the mail server: greeting, EHLO, STARTTLS, AUTH, and mail
//! transactions with PIPELINING (RFC 2920) when the server offers it.
//!
//! Contract:
//! - [`Conn::open`] connects (TCP with `TCP_NODELAY`, implicit TLS when asked), reads the
//!   greeting, says EHLO, upgrades with STARTTLS when asked — refusing to go on in clear
//!   text if the server does not offer it — discards anything read before the upgrade, says
//!   EHLO again, then AUTH PLAIN (or LOGIN) when credentials are set. Every read and write
//!   has a deadline ([`Limits`]).
//! - [`Conn::transaction`] sends one message and returns one outcome per recipient, in
//!   order: the final reply for each accepted recipient, the RCPT reply for each refused one.
//!   With PIPELINING, `MAIL`, every `RCPT` and `DATA` go out in one write (RFC 2920 §3.1);
//!   without it, each command waits for its reply and `DATA` is not sent when no recipient
//!   was accepted. The message goes out with CRLF line ends only (a bare LF or CR is sent
//!   as CRLF), dot-stuffed, ended by `CRLF.CRLF`, in one write.
//! - A refused greeting, EHLO, STARTTLS or AUTH (any code, 5xx included) is
//!   [`Failure::Deferred`]: temporary, never a reason to give up on the mail (see
//!   [`SoftStep`]); only a 5xx to `MAIL`, `RCPT` or `DATA` says something about the mail.
//! - A connection that failed mid-way is marked broken and never reused; a refused
//!   transaction is followed by `RSET` so the next one starts clean.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::reply::{Capabilities, Reply, read_reply};

/// How the connection is protected (from `[instance.mail] tls.mode`).
#[derive(Clone)]
pub(crate) enum Security {
    None,
    /// STARTTLS, required.
    StartTls(TlsConnector),
    /// TLS from the first byte (port 465).
    Implicit(TlsConnector),
}

/// Deadlines of one connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Connecting, and every command's reply.
    pub command: Duration,
    /// Writing the message and reading the reply after it.
    pub data: Duration,
}

/// Where and how to connect. No `Debug`: it holds the password.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub host: String,
    pub port: u16,
    pub hello: String,
    pub security: Security,
    pub tls_name: rustls_pki_types::ServerName<'static>,
    /// (user, password) for AUTH.
    pub credentials: Option<(String, String)>,
    pub limits: Limits,
}

/// A step of opening a connection where even a 5xx only defers the mail: the mail server
/// refusing everybody for now (a 5xx greeting: overload, maintenance) or refusing umsgate's
/// credentials says nothing about the mail, so, like Postfix with `smtp_skip_5xx_greeting`
/// and `smtp_sasl_auth_soft_bounce`, it waits for the next retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SoftStep {
    Greeting,
    Ehlo,
    StartTls,
    Auth,
}

impl std::fmt::Display for SoftStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SoftStep::Greeting => "greeting",
            SoftStep::Ehlo => "EHLO",
            SoftStep::StartTls => "STARTTLS",
            SoftStep::Auth => "AUTH",
        })
    }
}

/// Why a connection or a transaction failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The server answered with this reply.
    Reply(Reply),
    /// The server refused the greeting or AUTH with this reply: temporary, whatever its code.
    Deferred(SoftStep, Reply),
    /// No answer could be had (network, timeout, TLS, a broken reply), with the step.
    Io(IoFailure),
    /// Something this client will not do (no STARTTLS offered, no AUTH mechanism in common).
    Refused(String),
}

/// No answer: what was tried, and the I/O error (none for a timeout). Cheap to clone: one
/// failed transaction fails every recipient of it.
#[derive(Debug, Clone)]
pub(crate) struct IoFailure {
    what: String,
    source: Option<Arc<io::Error>>,
}

impl IoFailure {
    pub(crate) fn source(&self) -> Option<Arc<io::Error>> {
        self.source.clone()
    }
}

impl Failure {
    /// `what: e`.
    fn io(what: impl std::fmt::Display, e: io::Error) -> Failure {
        Failure::Io(IoFailure {
            what: format!("{what}: {e}"),
            source: Some(Arc::new(e)),
        })
    }

    /// `what: how long` (nothing answered in time).
    fn timeout(what: impl std::fmt::Display, how: impl std::fmt::Display) -> Failure {
        Failure::Io(IoFailure {
            what: format!("{what}: {how}"),
            source: None,
        })
    }

    pub(crate) fn reason(&self) -> String {
        match self {
            Failure::Reply(r) => r.one_line(),
            Failure::Deferred(step, r) => format!("{step} refused: {}", r.one_line()),
            Failure::Io(f) => f.what.clone(),
            Failure::Refused(s) => s.clone(),
        }
    }

    /// The same failure for another recipient of the transaction: a permanent reply stays
    /// one, anything else is no answer.
    pub(crate) fn for_each_recipient(&self) -> Failure {
        match self {
            Failure::Reply(r) if r.is_permanent() => Failure::Reply(r.clone()),
            Failure::Io(f) => Failure::Io(f.clone()),
            other => Failure::Io(IoFailure {
                what: other.reason(),
                source: None,
            }),
        }
    }

    pub(crate) fn is_permanent(&self) -> bool {
        matches!(self, Failure::Reply(r) if r.is_permanent())
    }
}

/// The outcome for one recipient: the final reply (2xx) or why not.
pub(crate) type RcptOutcome = Result<Reply, Failure>;

/// Plain or TLS stream, one type for the buffered reader.
enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// One open, greeted (and, as configured, encrypted and authenticated) connection.
pub(crate) struct Conn {
    stream: BufReader<Io>,
    caps: Capabilities,
    limits: Limits,
    broken: bool,
    /// Replies read in the current transaction.
    answered: usize,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("caps", &self.caps)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl Conn {
    /// Connects and gets ready for transactions; see the module contract.
    pub(crate) async fn open(ep: &Endpoint) -> Result<Conn, Failure> {
        let addr = format!("{}:{}", ep.host, ep.port);
        let tcp = tokio::time::timeout(ep.limits.command, TcpStream::connect(&addr))
            .await
            .map_err(|_| Failure::timeout(format_args!("connect to {addr}"), "timed out"))?
            .map_err(|e| Failure::io(format_args!("connect to {addr}"), e))?;
        // Commands and the message's last bytes are small writes: never wait for an ACK.
        tcp.set_nodelay(true)
            .map_err(|e| Failure::io(format_args!("connect to {addr}"), e))?;
        let io = match &ep.security {
            Security::Implicit(tls) => Io::Tls(Box::new(handshake(tls, ep, tcp).await?)),
            Security::None | Security::StartTls(_) => Io::Plain(tcp),
        };
        let mut conn = Conn {
            stream: BufReader::new(io),
            caps: Capabilities::default(),
            limits: ep.limits,
            broken: false,
            answered: 0,
        };
        let greeting = conn.read(ep.limits.command).await?;
        if greeting.code != 220 {
            return Err(Failure::Deferred(SoftStep::Greeting, greeting));
        }
        conn.ehlo(&ep.hello).await?;
        if let Security::StartTls(tls) = &ep.security {
            if !conn.caps.starttls {
                return Err(Failure::Refused(format!(
                    "{addr} does not offer STARTTLS (tls.mode = \"starttls\" requires it)"
                )));
            }
            let r = conn.command("STARTTLS\r\n").await?;
            if r.code != 220 {
                return Err(Failure::Deferred(SoftStep::StartTls, r));
            }
            // Whatever the server sent after its 220 is not trusted (RFC 3207 §6): the
            // buffered reader is dropped with it.
            let tcp = match conn.stream.into_inner() {
                Io::Plain(tcp) => tcp,
                Io::Tls(_) => return Err(Failure::Refused("STARTTLS inside TLS".into())),
            };
            conn = Conn {
                stream: BufReader::new(Io::Tls(Box::new(handshake(tls, ep, tcp).await?))),
                caps: Capabilities::default(),
                limits: ep.limits,
                broken: false,
                answered: 0,
            };
            conn.ehlo(&ep.hello).await?;
        }
        if let Some((user, password)) = &ep.credentials {
            conn.auth(user, password).await?;
        }
        Ok(conn)
    }

    pub(crate) fn is_broken(&self) -> bool {
        self.broken
    }

    /// The last transaction broke before the server answered anything: nothing of it can
    /// have been delivered (a pooled connection the server had closed).
    pub(crate) fn broke_unanswered(&self) -> bool {
        self.broken && self.answered == 0
    }

    async fn ehlo(&mut self, hello: &str) -> Result<(), Failure> {
        let r = self.command(&format!("EHLO {hello}\r\n")).await?;
        if !r.is_positive() {
            return Err(Failure::Deferred(SoftStep::Ehlo, r));
        }
        self.caps = Capabilities::from_ehlo(&r);
        Ok(())
    }

    async fn auth(&mut self, user: &str, password: &str) -> Result<(), Failure> {
        let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
        let r = if self.caps.auth_plain {
            let token = b64(format!("\0{user}\0{password}").as_bytes());
            self.command(&format!("AUTH PLAIN {token}\r\n")).await?
        } else if self.caps.auth_login {
            let r = self.command("AUTH LOGIN\r\n").await?;
            if r.code != 334 {
                return Err(Failure::Deferred(SoftStep::Auth, r));
            }
            let r = self
                .command(&format!("{}\r\n", b64(user.as_bytes())))
                .await?;
            if r.code != 334 {
                return Err(Failure::Deferred(SoftStep::Auth, r));
            }
            self.command(&format!("{}\r\n", b64(password.as_bytes())))
                .await?
        } else {
            return Err(Failure::Refused(
                "the server offers neither AUTH PLAIN nor AUTH LOGIN (auth.user is set)".into(),
            ));
        };
        if r.code == 235 {
            Ok(())
        } else {
            Err(Failure::Deferred(SoftStep::Auth, r))
        }
    }

    /// `NOOP`, for `umsgate check`.
    pub(crate) async fn noop(&mut self) -> Result<Reply, Failure> {
        let r = self.command("NOOP\r\n").await?;
        if r.is_positive() {
            Ok(r)
        } else {
            Err(Failure::Reply(r))
        }
    }

    /// `QUIT`, best effort.
    pub(crate) async fn quit(mut self) {
        let _ = self.command("QUIT\r\n").await;
    }

    /// Sends one message; see the module contract. `from` empty = the null sender.
    pub(crate) async fn transaction(
        &mut self,
        from: &str,
        rcpts: &[String],
        eml: &[u8],
    ) -> Vec<RcptOutcome> {
        let mut mail = format!("MAIL FROM:<{from}>");
        if self.caps.size > 0 {
            mail.push_str(&format!(" SIZE={}", eml.len()));
        }
        if self.caps.eight_bit_mime && !eml.is_ascii() {
            mail.push_str(" BODY=8BITMIME");
        }
        if self.caps.smtputf8 && !(from.is_ascii() && rcpts.iter().all(|r| r.is_ascii())) {
            mail.push_str(" SMTPUTF8");
        }
        mail.push_str("\r\n");
        self.answered = 0;
        let result = if self.caps.pipelining {
            self.pipelined(&mail, rcpts, eml).await
        } else {
            self.step_by_step(&mail, rcpts, eml).await
        };
        match result {
            Ok((outcomes, clean)) => {
                if !clean && !self.broken {
                    // A refused transaction: start the next one clean.
                    if !matches!(self.command("RSET\r\n").await, Ok(r) if r.is_positive()) {
                        self.broken = true;
                    }
                }
                outcomes
            }
            Err(f) => {
                self.broken = true;
                let f = match f {
                    Failure::Io(io) => Failure::Io(io),
                    other => Failure::Io(IoFailure {
                        what: other.reason(),
                        source: None,
                    }),
                };
                rcpts.iter().map(|_| Err(f.for_each_recipient())).collect()
            }
        }
    }

    /// MAIL, RCPT…, DATA in one write, then the replies in order.
    async fn pipelined(
        &mut self,
        mail: &str,
        rcpts: &[String],
        eml: &[u8],
    ) -> Result<(Vec<RcptOutcome>, bool), Failure> {
        let mut batch = String::with_capacity(mail.len() + rcpts.len() * 40 + 6);
        batch.push_str(mail);
        for r in rcpts {
            batch.push_str(&format!("RCPT TO:<{r}>\r\n"));
        }
        batch.push_str("DATA\r\n");
        self.write(batch.as_bytes(), self.limits.command).await?;
        let mail_reply = self.read(self.limits.command).await?;
        let mut rcpt_replies = Vec::with_capacity(rcpts.len());
        for _ in rcpts {
            rcpt_replies.push(self.read(self.limits.command).await?);
        }
        let data_reply = self.read(self.limits.command).await?;
        if data_reply.code == 354 {
            let accepted = mail_reply.is_positive() && rcpt_replies.iter().any(Reply::is_positive);
            if !accepted {
                // RFC 2920 §3.1: the server took DATA though nobody was accepted; end it
                // with an empty message that will be refused.
                self.write(b".\r\n", self.limits.command).await?;
                let _ = self.read(self.limits.data).await?;
                return Ok((refused(&mail_reply, rcpt_replies), false));
            }
            return self.send_data(eml, rcpt_replies).await;
        }
        if !mail_reply.is_positive() {
            return Ok((refused(&mail_reply, rcpt_replies), false));
        }
        Ok((data_refused(&data_reply, rcpt_replies), false))
    }

    /// Without PIPELINING: each command waits for its reply.
    async fn step_by_step(
        &mut self,
        mail: &str,
        rcpts: &[String],
        eml: &[u8],
    ) -> Result<(Vec<RcptOutcome>, bool), Failure> {
        let mail_reply = self.command(mail).await?;
        if !mail_reply.is_positive() {
            let all = rcpts.iter().map(|_| mail_reply.clone()).collect();
            return Ok((refused(&mail_reply, all), false));
        }
        let mut rcpt_replies = Vec::with_capacity(rcpts.len());
        for r in rcpts {
            rcpt_replies.push(self.command(&format!("RCPT TO:<{r}>\r\n")).await?);
        }
        if !rcpt_replies.iter().any(Reply::is_positive) {
            return Ok((refused(&mail_reply, rcpt_replies), false));
        }
        let data_reply = self.command("DATA\r\n").await?;
        if data_reply.code != 354 {
            return Ok((data_refused(&data_reply, rcpt_replies), false));
        }
        self.send_data(eml, rcpt_replies).await
    }

    /// After 354: the message, then the final reply for every accepted recipient.
    async fn send_data(
        &mut self,
        eml: &[u8],
        rcpt_replies: Vec<Reply>,
    ) -> Result<(Vec<RcptOutcome>, bool), Failure> {
        let data = encode_data(eml);
        self.write(&data, self.limits.data).await?;
        let last = self.read(self.limits.data).await?;
        let clean = last.is_positive();
        let outcomes = rcpt_replies
            .into_iter()
            .map(|r| match (r.is_positive(), clean) {
                (true, true) => Ok(last.clone()),
                (true, false) => Err(Failure::Reply(last.clone())),
                (false, _) => Err(Failure::Reply(r)),
            })
            .collect();
        Ok((outcomes, clean))
    }

    async fn command(&mut self, line: &str) -> Result<Reply, Failure> {
        self.write(line.as_bytes(), self.limits.command).await?;
        self.read(self.limits.command).await
    }

    async fn write(&mut self, bytes: &[u8], limit: Duration) -> Result<(), Failure> {
        let io = self.stream.get_mut();
        let done = tokio::time::timeout(limit, async {
            io.write_all(bytes).await?;
            io.flush().await
        })
        .await;
        match done {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                self.broken = true;
                Err(Failure::io("write", e))
            }
            Err(_) => {
                self.broken = true;
                Err(Failure::timeout(
                    "write",
                    format_args!("no progress within {limit:?}"),
                ))
            }
        }
    }

    async fn read(&mut self, limit: Duration) -> Result<Reply, Failure> {
        match tokio::time::timeout(limit, read_reply(&mut self.stream)).await {
            Ok(Ok(r)) => {
                self.answered += 1;
                Ok(r)
            }
            Ok(Err(e)) => {
                self.broken = true;
                Err(Failure::io("read", e))
            }
            Err(_) => {
                self.broken = true;
                Err(Failure::timeout(
                    "read",
                    format_args!("no reply within {limit:?}"),
                ))
            }
        }
    }
}

async fn handshake(
    tls: &TlsConnector,
    ep: &Endpoint,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, Failure> {
    tokio::time::timeout(ep.limits.command, tls.connect(ep.tls_name.clone(), tcp))
        .await
        .map_err(|_| Failure::timeout(format_args!("TLS with {}", ep.host), "timed out"))?
        .map_err(|e| Failure::io(format_args!("TLS with {}", ep.host), e))
}

/// Every recipient refused: by the MAIL reply if that failed, else by its RCPT reply.
fn refused(mail: &Reply, rcpt_replies: Vec<Reply>) -> Vec<RcptOutcome> {
    rcpt_replies
        .into_iter()
        .map(|r| {
            Err(Failure::Reply(if mail.is_positive() {
                r
            } else {
                mail.clone()
            }))
        })
        .collect()
}

/// DATA refused: each accepted recipient gets that reply, each refused one its RCPT reply.
fn data_refused(data: &Reply, rcpt_replies: Vec<Reply>) -> Vec<RcptOutcome> {
    rcpt_replies
        .into_iter()
        .map(|r| {
            Err(Failure::Reply(if r.is_positive() {
                data.clone()
            } else {
                r
            }))
        })
        .collect()
}

/// The message as sent after 354: every line end CRLF (a bare LF or a bare CR becomes CRLF,
/// so the stuffing sees every line start a lenient server would see), lines starting with
/// `.` get another `.`, and `CRLF.CRLF` ends it (a missing last line break is added).
pub(crate) fn encode_data(eml: &[u8]) -> Vec<u8> {
    let eml = crate::line_ends::crlf(eml);
    let mut out = Vec::with_capacity(eml.len() + eml.len() / 64 + 8);
    let mut line_start = true;
    for &b in eml.iter() {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = b == b'\n';
    }
    if !line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// A TLS connector for `config`.
pub(crate) fn connector(config: Arc<rustls::ClientConfig>) -> TlsConnector {
    TlsConnector::from(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn data_is_dot_stuffed_and_ends_with_crlf_dot_crlf() {
        assert_eq!(encode_data(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(encode_data(b".\r\n"), b"..\r\n.\r\n");
        assert_eq!(encode_data(b"a\nb"), b"a\r\nb\r\n.\r\n");
        assert_eq!(encode_data(b""), b".\r\n");
    }

    #[test]
    fn a_bare_cr_ends_a_line_so_a_dot_after_it_is_stuffed() {
        assert_eq!(
            encode_data(b"x\r.\r\nMAIL FROM:<e@x>\r\n"),
            b"x\r\n..\r\nMAIL FROM:<e@x>\r\n.\r\n"
        );
        assert_eq!(encode_data(b"a\rb"), b"a\r\nb\r\n.\r\n");
        assert_eq!(encode_data(b"a\r"), b"a\r\n.\r\n");
        assert_eq!(encode_data(b"a\r\r\nb\n\r"), b"a\r\n\r\nb\r\n\r\n.\r\n");
        assert_eq!(encode_data(b"\r.\r"), b"\r\n..\r\n.\r\n");
        assert_eq!(encode_data(b"\n.\n"), b"\r\n..\r\n.\r\n");
    }

    /// What a server does with DATA: undo the stuffing up to the terminator.
    fn decode(data: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for line in data.split_inclusive(|&b| b == b'\n') {
            if line == b".\r\n" {
                return Some(out);
            }
            out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        }
        None
    }

    /// Bytes with many line ends, dots and CRs, so that every combination is met.
    fn arbitrary_mail() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                Just(b'\r'),
                Just(b'\n'),
                Just(b'.'),
                any::<u8>(),
                Just(b'a')
            ],
            0..400,
        )
    }

    /// The reference line-end rule: CRLF stays, a bare CR or a bare LF becomes CRLF.
    fn crlf_lines(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    out.extend_from_slice(b"\r\n");
                    i += 1;
                }
                b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
                b => out.push(b),
            }
            i += 1;
        }
        out
    }

    proptest! {
        #[test]
        fn any_crlf_message_survives_stuffing(lines in proptest::collection::vec("[.a-z ]{0,12}", 0..20)) {
            let eml: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\r\n").into_bytes()).collect();
            let sent = encode_data(&eml);
            prop_assert!(sent.ends_with(b"\r\n.\r\n") || sent == b".\r\n");
            prop_assert_eq!(decode(&sent), Some(eml));
        }

        #[test]
        fn no_bare_cr_or_lf_and_one_terminator(bytes in arbitrary_mail()) {
            let sent = encode_data(&bytes);
            for (i, &b) in sent.iter().enumerate() {
                if b == b'\n' {
                    prop_assert!(i > 0 && sent[i - 1] == b'\r', "bare LF at {}", i);
                }
                if b == b'\r' {
                    prop_assert_eq!(sent.get(i + 1), Some(&b'\n'), "bare CR at {}", i);
                }
            }
            prop_assert!(sent.ends_with(b".\r\n"));
            let body = &sent[..sent.len() - 3];
            prop_assert!(body.is_empty() || body.ends_with(b"\r\n"));
            // No line of the body is a lone `.`: the terminator is the only one.
            prop_assert!(!body.windows(5).any(|w| w == b"\r\n.\r\n"));
            prop_assert!(!body.starts_with(b".\r\n"));
            // Nor does a lenient reader (LF or CR as line end) find an earlier end.
            prop_assert!(!body.windows(3).any(|w| w == b"\r.\r" || w == b"\n.\r" || w == b"\n.\n"));
        }

        #[test]
        fn stuffing_round_trips_to_the_crlf_form(bytes in arbitrary_mail()) {
            let sent = encode_data(&bytes);
            let mut expected = crlf_lines(&bytes);
            if !expected.is_empty() && !expected.ends_with(b"\r\n") {
                expected.extend_from_slice(b"\r\n");
            }
            prop_assert_eq!(decode(&sent), Some(expected));
        }
    }
}

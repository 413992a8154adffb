//! One SMTP session: the state machine and the command loop.
//!
//! Contract: the phase decides which commands are legal — a `match` on [`Phase`], not flags.
//! `Connected` (no EHLO yet) → `Ready` (EHLO/HELO given) → `Transaction` (MAIL given;
//! RCPTs collected) → back to `Ready` after DATA, RSET or EHLO. STARTTLS ends the session
//! value: the caller performs the handshake and starts a new session in `Connected`, so no
//! envelope, AUTH state or buffered input survives the upgrade.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use smtp_proto::{Error as ParseError, Request};
use tokio::io::{AsyncRead, AsyncWrite};

use super::SessionContext;
use super::conn::{Conn, ReadError};
use super::reply::Outcome;
use umsgate_spool::Recipient;

/// Longest command line; AUTH responses have their own limit.
pub(super) const MAX_COMMAND_LINE: usize = 2048;
/// Errors after which the session is closed.
const MAX_ERRORS: u32 = 20;

/// Where the session is.
#[derive(Debug)]
pub(super) enum Phase {
    Connected,
    Ready,
    Transaction(Transaction),
}

/// The envelope being collected.
#[derive(Debug)]
pub(super) struct Transaction {
    pub(super) from: String,
    pub(super) rcpts: Vec<Recipient>,
}

/// What the loop does next.
pub(super) enum Flow {
    Continue,
    Close,
    StartTls,
}

/// How a session ended.
enum End<S> {
    Closed,
    StartTls(Conn<S>),
}

pub(super) struct Session<'c, S> {
    pub(super) ctx: &'c SessionContext,
    pub(super) conn: Conn<S>,
    pub(super) peer: SocketAddr,
    pub(super) id: u64,
    pub(super) tls: bool,
    pub(super) phase: Phase,
    pub(super) helo: Option<(String, bool)>,
    pub(super) auth_user: Option<String>,
    pub(super) auth_failures: u32,
    errors: u32,
}

static SESSION_IDS: AtomicU64 = AtomicU64::new(1);

/// Serves one connection to its end: access check, greeting, commands, STARTTLS upgrade.
pub async fn serve<S>(ctx: Arc<SessionContext>, stream: S, peer: SocketAddr)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let id = SESSION_IDS.fetch_add(1, Ordering::Relaxed);
    if !ctx.allowed(peer.ip()) {
        ctx.logs.smtp.line(&format!(
            "in refused session={id} client={peer} reason=not in allow_from"
        ));
        tracing::warn!(event = "smtp.access_denied", instance = %ctx.instance, session = id, client = %peer);
        super::metrics::answered(&ctx.instance, &Outcome::AccessDenied);
        super::refuse(stream, &Outcome::AccessDenied).await;
        return;
    }
    ctx.logs
        .smtp
        .line(&format!("in connect session={id} client={peer}"));
    let mut session = Session::new(&ctx, Conn::new(stream), peer, id, false);
    session.conn.reply(&Outcome::Greeting {
        host: ctx.hostname.clone(),
    });
    let end = session.run().await;
    if let End::StartTls(conn) = end {
        let Some(acceptor) = ctx.tls.clone() else {
            return;
        };
        let handshake =
            tokio::time::timeout(ctx.smtp.command_timeout, acceptor.accept(conn.into_inner()))
                .await;
        match handshake {
            Ok(Ok(tls)) => {
                let s = Session::new(&ctx, Conn::new(tls), peer, id, true);
                // The client speaks first after the handshake; a plain session can't return
                // StartTls again, so the result is always Closed.
                let _ = s.run().await;
            }
            Ok(Err(e)) => {
                ctx.logs.smtp.line(&format!(
                    "in tls_failed session={id} client={peer} error={e}"
                ));
            }
            Err(_) => {
                ctx.logs
                    .smtp
                    .line(&format!("in tls_timeout session={id} client={peer}"));
            }
        }
    }
    ctx.logs
        .smtp
        .line(&format!("in disconnect session={id} client={peer}"));
}

impl<'c, S: AsyncRead + AsyncWrite + Unpin + Send> Session<'c, S> {
    fn new(ctx: &'c SessionContext, conn: Conn<S>, peer: SocketAddr, id: u64, tls: bool) -> Self {
        Session {
            ctx,
            conn,
            peer,
            id,
            tls,
            phase: Phase::Connected,
            helo: None,
            auth_user: None,
            auth_failures: 0,
            errors: 0,
        }
    }

    async fn run(mut self) -> End<S> {
        let mut shutdown = self.ctx.shutdown.clone();
        // False once the sender is gone: `changed()` would then be ready at once, forever.
        let mut watching = true;
        loop {
            // Shutdown: an idle session is told at once; one in the middle of a transaction
            // may finish it (the listener's grace period bounds how long) and is told after.
            let in_transaction = matches!(self.phase, Phase::Transaction(_));
            if *shutdown.borrow() && !in_transaction {
                self.conn.reply(&Outcome::ShuttingDown);
                let _ = self.conn.flush().await;
                return End::Closed;
            }
            let timeout = self.ctx.smtp.command_timeout;
            let line = tokio::select! {
                l = self.conn.read_line(MAX_COMMAND_LINE, timeout) => l,
                // The read is cancel-safe (`Conn::fill`); the loop top then says 421.
                changed = shutdown.changed(), if watching && !in_transaction => {
                    watching = changed.is_ok();
                    continue;
                }
            };
            let flow = match line {
                // Read together with the shutdown: not started; the loop top says 421.
                Ok(_) if !in_transaction && *shutdown.borrow() => continue,
                Ok(line) => self.command(&line).await,
                Err(ReadError::TooLong) => self.fail(Outcome::LineTooLong),
                Err(ReadError::Timeout) => {
                    self.conn.reply(&Outcome::Timeout);
                    Flow::Close
                }
                Err(ReadError::Eof | ReadError::Io) => return End::Closed,
            };
            match flow {
                Flow::Continue => {}
                Flow::Close => {
                    let _ = self.conn.flush().await;
                    return End::Closed;
                }
                Flow::StartTls => {
                    let _ = self.conn.flush().await;
                    let dropped = self.conn.discard_input();
                    if dropped > 0 {
                        self.ctx.logs.smtp.line(&format!(
                            "in starttls_discarded session={} client={} bytes={dropped}",
                            self.id, self.peer
                        ));
                    }
                    return End::StartTls(self.conn);
                }
            }
        }
    }

    /// Counts an error reply; too many close the session.
    pub(super) fn fail(&mut self, o: Outcome) -> Flow {
        super::metrics::answered(&self.ctx.instance, &o);
        self.errors += 1;
        if o.closes() {
            self.conn.reply(&o);
            return Flow::Close;
        }
        self.conn.reply(&o);
        if self.errors >= MAX_ERRORS {
            self.conn.reply(&Outcome::TooManyErrors);
            return Flow::Close;
        }
        Flow::Continue
    }

    pub(super) fn ok(&mut self, o: Outcome) -> Flow {
        let close = o.closes();
        self.conn.reply(&o);
        if close { Flow::Close } else { Flow::Continue }
    }

    async fn command(&mut self, line: &[u8]) -> Flow {
        let request = match Request::parse(&mut line.iter()) {
            Ok(r) => r.into_owned(),
            Err(e) => return self.fail(parse_error(e)),
        };
        match request {
            Request::Ehlo { host } => self.ehlo(host, true),
            Request::Helo { host } => self.ehlo(host, false),
            Request::Lhlo { .. } => self.fail(Outcome::NotImplemented("LHLO")),
            Request::StartTls => self.starttls(),
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, initial_response).await,
            Request::Mail { from } => self.mail(from),
            Request::Rcpt { to } => self.rcpt(to),
            Request::Data => self.data().await,
            Request::Bdat { .. } => self.fail(Outcome::NotImplemented("BDAT")),
            Request::Rset => {
                if !matches!(self.phase, Phase::Connected) {
                    self.phase = Phase::Ready;
                }
                self.ok(Outcome::Reset)
            }
            Request::Noop { .. } => self.ok(Outcome::Ok),
            Request::Quit => self.ok(Outcome::Closing),
            Request::Vrfy { .. } => self.ok(Outcome::CannotVrfy),
            Request::Help { .. } => self.ok(Outcome::Help),
            Request::Expn { .. } => self.fail(Outcome::NotImplemented("EXPN")),
            Request::Etrn { .. } => self.fail(Outcome::NotImplemented("ETRN")),
            Request::Atrn { .. } => self.fail(Outcome::NotImplemented("ATRN")),
            Request::Burl { .. } => self.fail(Outcome::NotImplemented("BURL")),
        }
    }
}

fn parse_error(e: ParseError) -> Outcome {
    match e {
        ParseError::UnknownCommand => Outcome::UnknownCommand,
        ParseError::InvalidSenderAddress => Outcome::BadSenderAddress,
        ParseError::InvalidRecipientAddress => Outcome::BadRecipientAddress,
        ParseError::SyntaxError { syntax } => Outcome::Syntax(syntax),
        ParseError::InvalidParameter { param } => Outcome::InvalidParameter(param),
        ParseError::UnsupportedParameter { param } => Outcome::UnsupportedParameter(param),
        ParseError::ResponseTooLong => Outcome::LineTooLong,
        ParseError::NeedsMoreData { .. } | ParseError::InvalidResponse { .. } => {
            Outcome::Syntax("command line")
        }
    }
}

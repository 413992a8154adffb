//! The SMTP listener of one instance: the mail server relays outbound fax, SMS and voice mail
//! here (DESIGN.md §1, outbound step 1).
//!
//! Implementation summary: one accept loop per listen address; each connection is checked
//! against `allow_from` (554 at connect) and the connection limits (421), then runs a
//! [`session`] — an explicit state machine with one file per group of verbs — over a
//! buffered, pipelining-aware [`conn`]. STARTTLS replaces the stream and starts a fresh
//! session with everything buffered before the handshake discarded. A message is answered
//! 250 only after the spool has made it durable. All replies come from [`reply`]'s table.
//! Message data held by all sessions together stays within one [`budget`] (452 beyond it),
//! and password checks share a bounded pool ([`AuthLimiter`]).
//! Shutdown: the accept loops stop, idle sessions are told 421 at once, and sessions in the
//! middle of a transaction may finish it (within a grace period) and are told 421 after.

mod accept;
mod auth;
pub mod budget;
mod conn;
pub mod data;
mod ehlo;
mod envelope;
pub mod metrics;
pub mod reply;
mod session;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

pub use accept::header_value;
pub use auth::AuthLimiter;
pub use budget::MemoryBudget;
pub use session::serve;

use reply::Outcome;
use umsgate_config::address::AddressTemplate;
use umsgate_config::units::InstanceId;
use umsgate_config::{InstanceConfig, SmtpInConfig, TlsFiles, TlsFilesError};
use umsgate_logs::InstanceLogs;
use umsgate_spool::Spool;

/// Everything a session needs, shared by all sessions of one instance.
pub struct SessionContext {
    pub instance: InstanceId,
    pub hostname: String,
    pub smtp: SmtpInConfig,
    /// `$(maildomain)`.
    pub domain: String,
    /// How RCPT addresses are read.
    pub template: AddressTemplate,
    /// umsgate's own address (reports, read receipts); accepted as a recipient too.
    pub system_mailbox: String,
    pub tls: Option<TlsAcceptor>,
    pub spool: Spool,
    pub logs: Arc<InstanceLogs>,
    pub auth_limiter: AuthLimiter,
    /// Room for message data, shared by every session of the listener.
    pub data_budget: Arc<MemoryBudget>,
    /// Set while something the instance needs to take mail is away (a shared PostgreSQL
    /// store that does not answer): RCPT is answered `451 4.3.0` and the mail server keeps
    /// the mail until it is back.
    pub unavailable: Arc<AtomicBool>,
    pub shutdown: watch::Receiver<bool>,
}

impl SessionContext {
    /// Builds the context of an instance from its configuration.
    pub fn new(
        inst: &InstanceConfig,
        spool: Spool,
        logs: Arc<InstanceLogs>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<SessionContext, TlsFilesError> {
        let tls = match &inst.smtp_in.tls {
            Some(files) => Some(load_tls(files)?),
            None => None,
        };
        Ok(SessionContext {
            instance: inst.id.get_ref().clone(),
            hostname: inst.smtp_in.hostname.clone().unwrap_or_else(host_name),
            smtp: inst.smtp_in.clone(),
            domain: inst.mail.domain.clone(),
            template: inst.mail.sender_template.clone(),
            system_mailbox: inst.mail.report_sender.clone(),
            tls,
            spool,
            logs,
            auth_limiter: AuthLimiter::new(
                inst.smtp_in.auth.max_failures,
                inst.smtp_in.auth.failure_window,
            ),
            data_budget: MemoryBudget::new(
                usize::try_from(inst.smtp_in.max_data_memory.get_ref().0).unwrap_or(usize::MAX),
            ),
            unavailable: Arc::new(AtomicBool::new(false)),
            shutdown,
        })
    }

    fn allowed(&self, ip: IpAddr) -> bool {
        self.smtp.allow_from.is_empty() || self.smtp.allow_from.iter().any(|c| c.contains(ip))
    }
}

/// This machine's name, for the greeting.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Loads a PEM certificate chain and key into a TLS acceptor.
/// The listener's TLS, from the files the configuration names (checked the same way when the
/// configuration is loaded, so `check` refuses what `run` would).
pub fn load_tls(files: &TlsFiles) -> Result<TlsAcceptor, TlsFilesError> {
    files.server_config().map(TlsAcceptor::from)
}

/// Bound sockets of one instance.
pub struct Listener {
    ctx: Arc<SessionContext>,
    sockets: Vec<TcpListener>,
}

/// Counts sessions per client address; the guard gives the slot back.
#[derive(Default)]
struct PerClient {
    counts: Mutex<HashMap<IpAddr, u32>>,
}

struct ClientSlot {
    table: Arc<PerClient>,
    ip: IpAddr,
}

impl PerClient {
    fn acquire(self: &Arc<Self>, ip: IpAddr, max: u32) -> Option<ClientSlot> {
        let mut m = self.counts.lock().ok()?;
        let n = m.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            table: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.table.counts.lock()
            && let Some(n) = m.get_mut(&self.ip)
        {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// How long sessions may take to finish after shutdown was asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

impl Listener {
    /// Binds every `listen` address of the instance.
    pub async fn bind(ctx: Arc<SessionContext>) -> io::Result<Listener> {
        let mut sockets = Vec::new();
        for addr in ctx.smtp.listen.get_ref() {
            let s = TcpListener::bind(addr)
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
            sockets.push(s);
        }
        Ok(Listener { ctx, sockets })
    }

    /// The bound addresses (useful when a port 0 was configured).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.sockets
            .iter()
            .filter_map(|s| s.local_addr().ok())
            .collect()
    }

    /// Accepts until shutdown, then waits for sessions to end.
    pub async fn run(self) {
        let max = self.ctx.smtp.max_connections;
        let sessions = Arc::new(Semaphore::new(max as usize));
        let per_client = Arc::new(PerClient::default());
        let mut loops = Vec::new();
        for socket in self.sockets {
            let ctx = Arc::clone(&self.ctx);
            let sessions = Arc::clone(&sessions);
            let per_client = Arc::clone(&per_client);
            loops.push(tokio::spawn(accept_loop(socket, ctx, sessions, per_client)));
        }
        for l in loops {
            let _ = l.await;
        }
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, sessions.acquire_many(max)).await;
        if drained.is_err() {
            tracing::warn!(event = "smtp.shutdown_timeout", instance = %self.ctx.instance, "sessions still open after the grace period; unacknowledged messages will be resent by the client");
        }
    }
}

async fn accept_loop(
    socket: TcpListener,
    ctx: Arc<SessionContext>,
    sessions: Arc<Semaphore>,
    per_client: Arc<PerClient>,
) {
    let mut shutdown = ctx.shutdown.clone();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let accepted = tokio::select! {
            a = socket.accept() => a,
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::error!(event = "smtp.accept_failed", instance = %ctx.instance, error = %e);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let ctx = Arc::clone(&ctx);
        let permit = Arc::clone(&sessions).try_acquire_owned().ok();
        let slot = per_client.acquire(peer.ip(), ctx.smtp.max_connections_per_client);
        tokio::spawn(async move {
            match (permit, slot) {
                (Some(_permit), Some(_slot)) => serve(ctx, stream, peer).await,
                _ => {
                    ctx.logs.smtp.line(&format!(
                        "in refused client={peer} reason=too many connections"
                    ));
                    metrics::answered(&ctx.instance, &Outcome::TooManyConnections);
                    refuse(stream, &Outcome::TooManyConnections).await;
                }
            }
        });
    }
}

/// Writes one reply and closes.
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, o: &Outcome) {
    let mut out = Vec::new();
    o.reply().write_to(&mut out);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let _ = stream.write_all(&out).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

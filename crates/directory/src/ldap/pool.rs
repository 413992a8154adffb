//! Connections to the LDAP servers: one bound, multiplexed connection at a time, failover in
//! the configured order, and a return to the first server after `failback`.
//!
//! Implementation summary: LDAP multiplexes operations over one connection (message IDs), so
//! the pool keeps a single bound connection and hands out cheap clones of its handle; every
//! lookup of the instance shares it. A lookup that finds no live connection takes the
//! `connecting` lock and tries the servers: the one it was using first (a dropped idle
//! connection is usually not an outage), then the next ones in order, wrapping around. Each
//! attempt is bounded by `connect_timeout` (TCP and TLS) plus `timeout` (StartTLS and bind).
//! A connection on any server but the first is a *failover*: after `failback` one lookup tries
//! the first server again (the others go on using the current connection meanwhile); success
//! moves every later lookup back, failure waits another `failback`. With `failback =
//! "never"` no lookup goes back: the pool stays on the server it failed over to until that
//! connection breaks (then the servers are tried from that one on, in order) or umsgate
//! restarts.
//!
//! XXX: a single connection serialises nothing (requests are pipelined), but a server that
//! handles one connection's operations on one thread caps throughput; `slapd` and AD do not.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError};

use super::config::{Credentials, LdapSettings, ServerUrl, Transport};
use super::log::LdapLog;
use crate::{DirectoryError, ErrorKind};

/// An error of the LDAP client on an operation: a timeout, or a connection that is unusable.
pub(crate) fn client_error(what: impl fmt::Display, e: LdapError) -> DirectoryError {
    let kind = match e {
        LdapError::Timeout { .. } => ErrorKind::Timeout,
        _ => ErrorKind::Unreachable,
    };
    DirectoryError::with_source(kind, format!("{what}: {e}"), e)
}

/// A connection handle and where it leads.
#[derive(Clone)]
pub(crate) struct Lease {
    pub ldap: Ldap,
    pub server: usize,
    generation: u64,
}

struct Current {
    ldap: Ldap,
    server: usize,
    generation: u64,
    /// When the next attempt to go back to the first server is due (failover only).
    failback_at: Option<Instant>,
}

pub(crate) struct Pool {
    settings: Arc<LdapSettings>,
    tls: Option<Arc<rustls::ClientConfig>>,
    current: Mutex<Option<Current>>,
    connecting: tokio::sync::Mutex<()>,
    generation: Mutex<u64>,
    /// The server of the latest connection: the first one tried after it broke.
    last: AtomicUsize,
    log: LdapLog,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("servers", &self.settings.servers)
            .finish_non_exhaustive()
    }
}

/// The TLS client configuration for `ldaps://` and StartTLS: the configured CA file, else
/// the LDAP client's default (the system's roots).
pub(crate) fn tls_config(
    s: &LdapSettings,
) -> Result<Option<Arc<rustls::ClientConfig>>, DirectoryError> {
    let Some(ca) = &s.ca else {
        return Ok(None);
    };
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let config_error = |what: String, e: Box<dyn std::error::Error + Send + Sync>| {
        DirectoryError::with_source(ErrorKind::Config, format!("{what}: {e}"), e)
    };
    let certs = CertificateDer::pem_file_iter(ca)
        .map_err(|e| config_error(format!("cannot read CA file {}", ca.display()), e.into()))?;
    for c in certs {
        let c = c.map_err(|e| config_error(format!("CA file {}", ca.display()), e.into()))?;
        roots
            .add(c)
            .map_err(|e| config_error(format!("CA file {}", ca.display()), e.into()))?;
    }
    if roots.is_empty() {
        return Err(DirectoryError::new(
            ErrorKind::Config,
            format!("CA file {} holds no certificate", ca.display()),
        ));
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| config_error("TLS".to_owned(), e.into()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Some(Arc::new(config)))
}

/// Opens and binds one connection; `what` is logged on failure by the caller.
pub(crate) async fn connect(
    server: &ServerUrl,
    creds: &Credentials,
    tls: Option<&Arc<rustls::ClientConfig>>,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<Ldap, DirectoryError> {
    let mut settings = LdapConnSettings::new()
        .set_conn_timeout(connect_timeout)
        .set_starttls(server.transport == Transport::StartTls);
    if let Some(c) = tls {
        settings = settings.set_config(Arc::clone(c));
    }
    let url = server.client_url();
    // StartTLS happens inside the connect; bound it like the bind.
    let (conn, mut ldap) = tokio::time::timeout(
        connect_timeout + timeout,
        LdapConnAsync::with_settings(settings, &url),
    )
    .await
    .map_err(|_| {
        DirectoryError::new(
            ErrorKind::Timeout,
            format!("connect: no answer within {connect_timeout:?}"),
        )
    })?
    .map_err(|e| client_error("connect", e))?;
    tokio::spawn(async move {
        // The driver ends when the connection closes; the next lookup notices and reconnects.
        let _ = conn.drive().await;
    });
    if !creds.dn.is_empty() {
        let pw = creds.password.as_ref().map_or("", |s| s.expose());
        let r = ldap
            .with_timeout(timeout)
            .simple_bind(&creds.dn, pw)
            .await
            .map_err(|e| client_error(format_args!("bind as {}", creds.dn), e))?;
        if r.rc != 0 {
            // busy, unavailable, unwilling: another server (or a later try) may do better
            let kind = match r.rc {
                51..=53 => ErrorKind::Unreachable,
                _ => ErrorKind::Refused,
            };
            return Err(DirectoryError::new(
                kind,
                format!("bind as {}: result {} {}", creds.dn, r.rc, r.text.trim()),
            ));
        }
    }
    Ok(ldap)
}

impl Pool {
    pub(crate) fn new(settings: Arc<LdapSettings>, log: LdapLog) -> Result<Pool, DirectoryError> {
        let tls = tls_config(&settings)?;
        Ok(Pool {
            settings,
            tls,
            current: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            generation: Mutex::new(0),
            last: AtomicUsize::new(0),
            log,
        })
    }

    pub(crate) fn tls(&self) -> Option<&Arc<rustls::ClientConfig>> {
        self.tls.as_ref()
    }

    /// A live connection: the current one, or a new one after failover.
    pub(crate) async fn get(&self) -> Result<Lease, DirectoryError> {
        let mut try_failback = false;
        if let Ok(mut cur) = self.current.lock()
            && let Some(c) = cur.as_mut()
        {
            let mut ldap = c.ldap.clone();
            if !ldap.is_closed() {
                if c.failback_at.is_some_and(|t| Instant::now() >= t) {
                    // This lookup tries the first server; the others keep the current one.
                    c.failback_at = self
                        .settings
                        .failback
                        .interval()
                        .map(|d| Instant::now() + d);
                    try_failback = true;
                } else {
                    return Ok(Lease {
                        ldap,
                        server: c.server,
                        generation: c.generation,
                    });
                }
            }
        }
        if try_failback {
            let first = &self.settings.servers[0];
            match self.open(0).await {
                Ok(lease) => {
                    self.log.line(&format!("failback server={first}"));
                    return Ok(lease);
                }
                Err(e) => {
                    self.log.line(&format!(
                        "failback_failed server={first} error={}",
                        e.detail()
                    ));
                    return self.get_current();
                }
            }
        }
        let _guard = self.connecting.lock().await;
        // Another lookup may have connected while this one waited.
        if let Ok(lease) = self.get_current() {
            return Ok(lease);
        }
        let n = self.settings.servers.len();
        let start = self.last.load(Ordering::Relaxed) % n;
        let mut errors = Vec::new();
        // Refused everywhere (a wrong password) is refused; anything else may clear.
        let mut kind = ErrorKind::Refused;
        for i in (0..n).map(|k| (start + k) % n) {
            match self.open(i).await {
                Ok(lease) => return Ok(lease),
                Err(e) => {
                    if e.is_temporary() {
                        kind = ErrorKind::Unreachable;
                    }
                    errors.push(format!("{}: {}", self.settings.servers[i], e.detail()));
                }
            }
        }
        Err(DirectoryError::new(
            kind,
            format!("no LDAP server answered ({})", errors.join("; ")),
        ))
    }

    fn get_current(&self) -> Result<Lease, DirectoryError> {
        let none = || DirectoryError::new(ErrorKind::Unreachable, "no LDAP connection");
        let cur = self.current.lock().map_err(|_| none())?;
        let c = cur.as_ref().ok_or_else(none)?;
        let mut ldap = c.ldap.clone();
        if ldap.is_closed() {
            return Err(none());
        }
        Ok(Lease {
            ldap,
            server: c.server,
            generation: c.generation,
        })
    }

    /// Connects to server `i` and makes it the current connection.
    async fn open(&self, i: usize) -> Result<Lease, DirectoryError> {
        let server = &self.settings.servers[i];
        let started = Instant::now();
        let r = connect(
            server,
            &self.settings.read,
            self.tls.as_ref(),
            self.settings.connect_timeout,
            self.settings.timeout,
        )
        .await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match r {
            Ok(ldap) => {
                let generation = {
                    let mut g = self.generation.lock().map_err(|_| {
                        DirectoryError::new(ErrorKind::Internal, "connection lock poisoned")
                    })?;
                    *g += 1;
                    *g
                };
                self.last.store(i, Ordering::Relaxed);
                let failback_at = self
                    .settings
                    .failback
                    .interval()
                    .filter(|_| i != 0)
                    .map(|d| Instant::now() + d);
                self.log.line(&format!(
                    "connect server={server} bind_dn={} ms={ms:.1}{}",
                    self.settings.read.dn,
                    if i != 0 { " failover=yes" } else { "" }
                ));
                let lease = Lease {
                    ldap: ldap.clone(),
                    server: i,
                    generation,
                };
                if let Ok(mut cur) = self.current.lock() {
                    *cur = Some(Current {
                        ldap,
                        server: i,
                        generation,
                        failback_at,
                    });
                }
                Ok(lease)
            }
            Err(e) => {
                self.log.line(&format!(
                    "error op=connect server={server} ms={ms:.1} error={}",
                    e.detail()
                ));
                Err(e)
            }
        }
    }

    /// The connection behind `lease` failed: the next `get` connects again (same server
    /// first, then the next).
    pub(crate) fn broken(&self, lease: &Lease) {
        if let Ok(mut cur) = self.current.lock()
            && cur
                .as_ref()
                .is_some_and(|c| c.generation == lease.generation)
        {
            // The server index stays in `last` for the failover order.
            *cur = None;
        }
    }

    pub(crate) fn server(&self, i: usize) -> &ServerUrl {
        &self.settings.servers[i]
    }
}

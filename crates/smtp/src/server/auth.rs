//! AUTH PLAIN and LOGIN against argon2 hashes, with failures rate-limited per client.
//!
//! Contract: AUTH is offered only when accounts are configured, and — with `require_tls` —
//! only after STARTTLS (538 otherwise). An empty password never succeeds. Hashes are checked
//! on the blocking pool; an unknown user costs the same hash check as a known one, so the
//! reply time does not tell which names exist. A client is an IPv4 address or an IPv6 /64
//! (one host usually owns a whole /64, so counting per IPv6 address would count nothing).
//! After `max_failures` failures within `failure_window`, a client is refused (454) without
//! any check until the window has passed; an attempt whose check has not ended yet counts as
//! a failure until it succeeds, so many sessions sending guesses at once cannot get more
//! than `max_failures` of them checked. Three failures close the session.
//!
//! Implementation summary: [`AuthLimiter`] keeps, per client, the failures and the attempts
//! in flight; [`AuthLimiter::begin`] admits an attempt only while their sum is below the
//! limit, and the [`Attempt`] it returns settles as a success or a failure (dropped
//! unsettled — the session went away during the check — it is a failure). At most
//! [`AuthLimiter::check_slots`] hash checks run at once on the whole listener (twice the CPU
//! cores): argon2 is made to be expensive, and unbounded checks would let AUTH traffic take
//! every core. A session that finds no free slot waits, within the command timeout, and is
//! then told 454 (temporary authentication failure) without the attempt being counted.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::conn::ReadError;
use super::reply::Outcome;
use super::session::{Flow, Phase, Session};

/// Longest AUTH response line (RFC 4954 §4: 12288 octets).
const MAX_AUTH_LINE: usize = 12_288;
/// Failures after which one session is closed.
const MAX_SESSION_FAILURES: u32 = 3;
/// Entries kept before expired ones are purged.
const LIMITER_PURGE_AT: usize = 10_000;

/// The client an attempt is counted for: an IPv4 address (also when mapped into IPv6), or
/// the /64 of an IPv6 address.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

/// What is known about one client.
#[derive(Debug)]
struct Record {
    failures: u32,
    in_flight: u32,
    /// Start of the current window.
    since: Instant,
}

/// Failed and running AUTH attempts per client, and the bound on hash checks at once.
#[derive(Debug)]
pub struct AuthLimiter {
    max: u32,
    window: Duration,
    clients: Mutex<HashMap<IpAddr, Record>>,
    /// The table is purged of expired clients when it grows to this; afterwards the mark is
    /// twice what is left (at least [`LIMITER_PURGE_AT`]), so purging stays amortised O(1)
    /// per attempt however many clients fail at once.
    purge_at: std::sync::atomic::AtomicUsize,
    checks: Arc<Semaphore>,
    check_slots: usize,
}

/// No hash-check slot became free in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChecksBusy;

impl std::fmt::Display for ChecksBusy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("every password check slot stayed busy")
    }
}

impl std::error::Error for ChecksBusy {}

impl AuthLimiter {
    /// A limiter with twice as many check slots as there are CPU cores.
    pub fn new(max: u32, window: Duration) -> AuthLimiter {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        AuthLimiter::with_check_slots(max, window, 2 * cores)
    }

    pub fn with_check_slots(max: u32, window: Duration, slots: usize) -> AuthLimiter {
        let slots = slots.max(1);
        AuthLimiter {
            max: max.max(1),
            window,
            clients: Mutex::new(HashMap::new()),
            purge_at: std::sync::atomic::AtomicUsize::new(LIMITER_PURGE_AT),
            checks: Arc::new(Semaphore::new(slots)),
            check_slots: slots,
        }
    }

    /// How many hash checks may run at once.
    pub fn check_slots(&self) -> usize {
        self.check_slots
    }

    /// Whether `ip`'s client is refused right now (failures and attempts in flight).
    pub fn blocked(&self, ip: IpAddr) -> bool {
        let Ok(m) = self.clients.lock() else {
            return true;
        };
        m.get(&client_key(ip)).is_some_and(|r| {
            r.failures + r.in_flight >= self.max
                && (r.in_flight > 0 || r.since.elapsed() < self.window)
        })
    }

    /// Admits one attempt of `ip`'s client, counted as a failure until it settles; `None`
    /// when the client is refused.
    pub fn begin(&self, ip: IpAddr) -> Option<Attempt<'_>> {
        let key = client_key(ip);
        let mut m = self.clients.lock().ok()?;
        let purge_at = self.purge_at.load(std::sync::atomic::Ordering::Relaxed);
        if m.len() >= purge_at {
            let window = self.window;
            m.retain(|_, r| r.in_flight > 0 || r.since.elapsed() < window);
            let next = (2 * m.len()).max(LIMITER_PURGE_AT);
            self.purge_at
                .store(next, std::sync::atomic::Ordering::Relaxed);
        }
        let r = m.entry(key).or_insert(Record {
            failures: 0,
            in_flight: 0,
            since: Instant::now(),
        });
        if r.in_flight == 0 && r.since.elapsed() >= self.window {
            *r = Record {
                failures: 0,
                in_flight: 0,
                since: Instant::now(),
            };
        }
        if r.failures + r.in_flight >= self.max {
            return None;
        }
        r.in_flight += 1;
        Some(Attempt {
            limiter: self,
            key,
            settled: false,
        })
    }

    fn settle(&self, key: IpAddr, how: Settle) {
        let Ok(mut m) = self.clients.lock() else {
            return;
        };
        let Some(r) = m.get_mut(&key) else {
            return;
        };
        r.in_flight = r.in_flight.saturating_sub(1);
        match how {
            Settle::Failed => r.failures += 1,
            Settle::Succeeded => r.failures = 0,
            Settle::Abandoned => {}
        }
        if r.failures == 0 && r.in_flight == 0 {
            m.remove(&key);
        }
    }

    /// Runs one hash check on the blocking pool once a check slot is free, waiting at most
    /// `wait` for it. The slot is held until the check itself ends, even if the caller stops
    /// waiting for it.
    pub async fn check<F>(&self, f: F, wait: Duration) -> Result<bool, ChecksBusy>
    where
        F: FnOnce() -> bool + Send + 'static,
    {
        let permit = tokio::time::timeout(wait, Arc::clone(&self.checks).acquire_owned())
            .await
            .map_err(|_| ChecksBusy)?
            .map_err(|_| ChecksBusy)?;
        Ok(tokio::task::spawn_blocking(move || {
            let _slot = permit;
            f()
        })
        .await
        .unwrap_or(false))
    }
}

enum Settle {
    Failed,
    Succeeded,
    Abandoned,
}

/// One admitted AUTH attempt; dropped without being settled, it counts as a failure.
#[derive(Debug)]
pub struct Attempt<'l> {
    limiter: &'l AuthLimiter,
    key: IpAddr,
    settled: bool,
}

impl Attempt<'_> {
    pub fn succeeded(mut self) {
        self.settled = true;
        self.limiter.settle(self.key, Settle::Succeeded);
    }

    pub fn failed(mut self) {
        self.settled = true;
        self.limiter.settle(self.key, Settle::Failed);
    }

    /// Not checked at all (no check slot): neither a failure nor a success.
    pub fn abandon(mut self) {
        self.settled = true;
        self.limiter.settle(self.key, Settle::Abandoned);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.limiter.settle(self.key, Settle::Failed);
        }
    }
}

/// A valid hash of a random password, checked when the user does not exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$dW1zZ2F0ZWR1bW15$3mQbqNbnhMOw0mFdbI8Xgk6k2wLoTFjlBSTOGpIH3yQ";

fn verify(hash: &str, password: &str) -> bool {
    use argon2::PasswordVerifier;
    match argon2::PasswordHash::new(hash) {
        Ok(h) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<'_, S> {
    pub(super) async fn auth(&mut self, mechanism: u64, initial: String) -> Flow {
        if self.ctx.smtp.auth.users.is_empty() {
            return self.fail(Outcome::NotImplemented("AUTH"));
        }
        match self.phase {
            Phase::Connected => return self.fail(Outcome::BadSequence("Send EHLO first")),
            Phase::Transaction(_) => {
                return self.fail(Outcome::BadSequence(
                    "AUTH not allowed during a mail transaction",
                ));
            }
            Phase::Ready => {}
        }
        if self.auth_user.is_some() {
            return self.fail(Outcome::BadSequence("Already authenticated"));
        }
        if self.ctx.smtp.auth.require_tls && !self.tls {
            return self.fail(Outcome::EncryptionRequired);
        }
        if self.ctx.auth_limiter.blocked(self.peer.ip()) {
            self.ctx.logs.smtp.line(&format!(
                "in auth_blocked session={} client={}",
                self.id, self.peer
            ));
            return self.fail(Outcome::AuthRateLimited);
        }
        let creds = match mechanism {
            AUTH_PLAIN => self.plain(initial).await,
            AUTH_LOGIN => self.login(initial).await,
            _ => return self.fail(Outcome::AuthMechanismUnsupported),
        };
        let (user, password) = match creds {
            Ok(c) => c,
            Err(flow_or_outcome) => return flow_or_outcome.into_flow(self),
        };
        let Some(attempt) = self.ctx.auth_limiter.begin(self.peer.ip()) else {
            self.ctx.logs.smtp.line(&format!(
                "in auth_blocked session={} client={}",
                self.id, self.peer
            ));
            return self.fail(Outcome::AuthRateLimited);
        };
        let entry = self.ctx.smtp.auth.users.iter().find(|u| u.name == user);
        let hash = entry
            .map_or(DUMMY_HASH, |u| u.password_hash.as_str())
            .to_owned();
        let known = entry.is_some();
        let checked = if password.is_empty() {
            Ok(false)
        } else {
            self.ctx
                .auth_limiter
                .check(
                    move || verify(&hash, &password),
                    self.ctx.smtp.command_timeout,
                )
                .await
        };
        let ok = match checked {
            Ok(ok) => ok && known,
            Err(busy) => {
                attempt.abandon();
                self.ctx.logs.smtp.line(&format!(
                    "in auth_busy session={} client={} error={busy}",
                    self.id, self.peer
                ));
                tracing::warn!(event = "smtp.auth_busy", instance = %self.ctx.instance, session = self.id, client = %self.peer, slots = self.ctx.auth_limiter.check_slots());
                return self.fail(Outcome::AuthBusy);
            }
        };
        if ok {
            attempt.succeeded();
            self.ctx.logs.smtp.line(&format!(
                "in auth_ok session={} client={} user={user}",
                self.id, self.peer
            ));
            self.auth_user = Some(user);
            return self.ok(Outcome::AuthOk);
        }
        attempt.failed();
        self.auth_failures += 1;
        let shown: String = user.chars().filter(|c| !c.is_control()).take(64).collect();
        self.ctx.logs.smtp.line(&format!(
            "in auth_failed session={} client={} user={shown}",
            self.id, self.peer
        ));
        tracing::warn!(event = "smtp.auth_failed", instance = %self.ctx.instance, session = self.id, client = %self.peer);
        if self.auth_failures >= MAX_SESSION_FAILURES {
            self.conn.reply(&Outcome::AuthFailed);
            return self.fail(Outcome::TooManyErrors);
        }
        self.fail(Outcome::AuthFailed)
    }

    /// Reads one client response to a 334 challenge; `*` cancels.
    async fn response(&mut self, challenge: &'static str) -> Result<Vec<u8>, AuthStop> {
        self.conn.reply(&Outcome::AuthChallenge(challenge));
        let line = match self
            .conn
            .read_line(MAX_AUTH_LINE, self.ctx.smtp.command_timeout)
            .await
        {
            Ok(l) => l,
            Err(ReadError::TooLong) => return Err(AuthStop::Reply(Outcome::LineTooLong)),
            Err(ReadError::Timeout) => return Err(AuthStop::Reply(Outcome::Timeout)),
            Err(_) => return Err(AuthStop::Close),
        };
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text == b"*" {
            return Err(AuthStop::Reply(Outcome::AuthCancelled));
        }
        decode(text)
    }

    async fn plain(&mut self, initial: String) -> Result<(String, String), AuthStop> {
        let raw = if initial.is_empty() {
            self.response("").await?
        } else {
            decode(initial.as_bytes())?
        };
        let mut parts = raw.split(|b| *b == 0);
        let (Some(_authz), Some(user), Some(pass), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthStop::Reply(Outcome::Syntax(
                "AUTH PLAIN base64(authzid NUL authcid NUL password)",
            )));
        };
        Ok((utf8(user)?, utf8(pass)?))
    }

    async fn login(&mut self, initial: String) -> Result<(String, String), AuthStop> {
        let user = if initial.is_empty() {
            self.response("VXNlcm5hbWU6").await?
        } else {
            decode(initial.as_bytes())?
        };
        let pass = self.response("UGFzc3dvcmQ6").await?;
        Ok((utf8(&user)?, utf8(&pass)?))
    }
}

/// Why an AUTH exchange stopped before a check.
enum AuthStop {
    Reply(Outcome),
    Close,
}

impl AuthStop {
    fn into_flow<S: AsyncRead + AsyncWrite + Unpin + Send>(self, s: &mut Session<'_, S>) -> Flow {
        match self {
            AuthStop::Reply(o) => s.fail(o),
            AuthStop::Close => Flow::Close,
        }
    }
}

fn decode(b: &[u8]) -> Result<Vec<u8>, AuthStop> {
    if b == b"=" {
        return Ok(Vec::new());
    }
    BASE64
        .decode(b)
        .map_err(|_| AuthStop::Reply(Outcome::Syntax("base64 response")))
}

fn utf8(b: &[u8]) -> Result<String, AuthStop> {
    String::from_utf8(b.to_vec()).map_err(|_| AuthStop::Reply(Outcome::Syntax("UTF-8 credentials")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fail(l: &AuthLimiter, ip: IpAddr) {
        l.begin(ip)
            .map(Attempt::failed)
            .unwrap_or_else(|| panic!("{ip} refused"));
    }

    /// Many failing clients at once: expired ones are purged, and the table is not scanned again
    /// on every attempt while it stays large (the mark doubles with what is kept).
    #[test]
    fn the_client_table_is_purged_amortised() {
        let clients =
            |n: u32| (0..n).map(|i| IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000_u32 + i)));
        let expired = AuthLimiter::new(1, Duration::ZERO);
        for ip in clients(25_000) {
            if let Some(a) = expired.begin(ip) {
                a.failed();
            }
        }
        assert!(expired.clients.lock().unwrap().len() <= LIMITER_PURGE_AT);

        let kept = AuthLimiter::new(1, Duration::from_secs(3600));
        for ip in clients(LIMITER_PURGE_AT as u32 + 1) {
            if let Some(a) = kept.begin(ip) {
                a.failed();
            }
        }
        let mark = kept.purge_at.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            mark,
            2 * LIMITER_PURGE_AT,
            "nothing expired: next purge at twice the size"
        );
        assert_eq!(kept.clients.lock().unwrap().len(), LIMITER_PURGE_AT + 1);
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_blocks_after_max_failures_and_forgets_after_the_window() {
        let l = AuthLimiter::new(2, Duration::from_secs(60));
        let ip: IpAddr = [192, 0, 2, 1].into();
        assert!(!l.blocked(ip));
        fail(&l, ip);
        assert!(!l.blocked(ip));
        fail(&l, ip);
        assert!(l.blocked(ip));
        assert!(l.begin(ip).is_none());
        assert!(!l.blocked([192, 0, 2, 2].into()));
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(!l.blocked(ip));
        assert!(l.begin(ip).is_some());
    }

    #[test]
    fn attempts_in_flight_count_until_they_settle() {
        let l = AuthLimiter::new(2, Duration::from_secs(60));
        let ip: IpAddr = [192, 0, 2, 1].into();
        let a = l.begin(ip).unwrap();
        let b = l.begin(ip).unwrap();
        // Two guesses are being checked: a third is refused before any has ended.
        assert!(l.begin(ip).is_none());
        assert!(l.blocked(ip));
        b.abandon();
        a.succeeded();
        assert!(!l.blocked(ip));
        // Dropped unsettled (the session went away during the check): a failure.
        drop(l.begin(ip).unwrap());
        fail(&l, ip);
        assert!(l.begin(ip).is_none());
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_and_ipv4_per_address() {
        let l = AuthLimiter::new(2, Duration::from_secs(60));
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        fail(&l, a);
        fail(&l, b);
        assert!(l.blocked(a) && l.blocked(b));
        assert!(!l.blocked("2001:db8:1:3::1".parse().unwrap()));
        let v4: IpAddr = [192, 0, 2, 7].into();
        fail(&l, v4);
        fail(&l, "::ffff:192.0.2.7".parse().unwrap());
        assert!(l.blocked(v4));
        assert!(!l.blocked([192, 0, 2, 8].into()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_checks_run_at_once_than_there_are_slots() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let l = Arc::new(AuthLimiter::with_check_slots(
            100,
            Duration::from_secs(60),
            2,
        ));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
        let (release_tx, release) = std::sync::mpsc::channel::<()>();
        let release = Arc::new(Mutex::new(release));
        let mut checks = Vec::new();
        for _ in 0..6 {
            let (l, running, most) = (Arc::clone(&l), Arc::clone(&running), Arc::clone(&most));
            let (started_tx, release) = (started_tx.clone(), Arc::clone(&release));
            checks.push(tokio::spawn(async move {
                l.check(
                    move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        let _ = started_tx.send(());
                        let _ = release.lock().map(|r| r.recv());
                        running.fetch_sub(1, Ordering::SeqCst);
                        true
                    },
                    Duration::from_secs(30),
                )
                .await
            }));
        }
        // Two checks run; a seventh finds no slot within a short wait and runs nothing.
        started.recv().await.unwrap();
        started.recv().await.unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let ran2 = Arc::clone(&ran);
        let busy = l
            .check(
                move || ran2.fetch_add(1, Ordering::SeqCst) == 0,
                Duration::from_millis(20),
            )
            .await;
        assert_eq!(busy, Err(ChecksBusy));
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        // Released one by one, the waiting checks all run, never more than two at once.
        for _ in 0..6 {
            release_tx.send(()).unwrap();
        }
        for c in checks {
            assert_eq!(c.await.unwrap(), Ok(true));
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn dummy_hash_is_a_valid_hash() {
        assert!(argon2::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify(DUMMY_HASH, "anything"));
    }
}

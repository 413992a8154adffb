//! AUTH PLAIN and LOGIN against argon2 hashes, with failures rate-limited per client.
//!
//! Contract: AUTH is offered only when accounts are configured, and — with `require_tls` —
//! only after STARTTLS (538 otherwise). An empty password never succeeds. Hashes are checked
//! on the blocking pool; an unknown user costs the same hash check as a known one, so the
//! reply time does not tell which names exist. After `max_failures` failures within
//! `failure_window`, a client address is refused (454) without any check until the window
//! has passed; three failures close the session.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN};
use tokio::io::{AsyncRead, AsyncWrite};

use super::conn::ReadError;
use super::reply::Outcome;
use super::session::{Flow, Phase, Session};

/// Longest AUTH response line (RFC 4954 §4: 12288 octets).
const MAX_AUTH_LINE: usize = 12_288;
/// Failures after which one session is closed.
const MAX_SESSION_FAILURES: u32 = 3;
/// Entries kept before expired ones are purged.
const LIMITER_PURGE_AT: usize = 10_000;

/// Failed AUTH attempts per client address.
#[derive(Debug)]
pub struct AuthLimiter {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl AuthLimiter {
    pub fn new(max: u32, window: Duration) -> AuthLimiter {
        AuthLimiter {
            max: max.max(1),
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `ip` is refused right now.
    pub fn blocked(&self, ip: IpAddr) -> bool {
        let Ok(m) = self.failures.lock() else {
            return true;
        };
        m.get(&ip)
            .is_some_and(|(n, since)| *n >= self.max && since.elapsed() < self.window)
    }

    pub fn failure(&self, ip: IpAddr) {
        let Ok(mut m) = self.failures.lock() else {
            return;
        };
        if m.len() >= LIMITER_PURGE_AT {
            let window = self.window;
            m.retain(|_, (_, since)| since.elapsed() < window);
        }
        let e = m.entry(ip).or_insert((0, Instant::now()));
        if e.1.elapsed() >= self.window {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }

    pub fn success(&self, ip: IpAddr) {
        if let Ok(mut m) = self.failures.lock() {
            m.remove(&ip);
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
        let entry = self.ctx.smtp.auth.users.iter().find(|u| u.name == user);
        let hash = entry
            .map_or(DUMMY_HASH, |u| u.password_hash.as_str())
            .to_owned();
        let known = entry.is_some();
        let ok = !password.is_empty()
            && tokio::task::spawn_blocking(move || verify(&hash, &password))
                .await
                .unwrap_or(false)
            && known;
        if ok {
            self.ctx.auth_limiter.success(self.peer.ip());
            self.ctx.logs.smtp.line(&format!(
                "in auth_ok session={} client={} user={user}",
                self.id, self.peer
            ));
            self.auth_user = Some(user);
            return self.ok(Outcome::AuthOk);
        }
        self.ctx.auth_limiter.failure(self.peer.ip());
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
    use super::*;

    #[test]
    fn limiter_blocks_after_max_failures_and_forgets_after_the_window() {
        let l = AuthLimiter::new(2, Duration::from_millis(50));
        let ip: IpAddr = [192, 0, 2, 1].into();
        assert!(!l.blocked(ip));
        l.failure(ip);
        assert!(!l.blocked(ip));
        l.failure(ip);
        assert!(l.blocked(ip));
        assert!(!l.blocked([192, 0, 2, 2].into()));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!l.blocked(ip));
    }

    #[test]
    fn dummy_hash_is_a_valid_hash() {
        assert!(argon2::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify(DUMMY_HASH, "anything"));
    }
}

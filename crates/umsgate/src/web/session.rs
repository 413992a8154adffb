//! Console sessions: who is logged in, behind a signed cookie.
//!
//! Contract: a session id is 32 random bytes; the cookie carries it with an HMAC-SHA256 over
//! it, keyed by a secret kept in `state_dir/web-session.key` (made at first start, mode 0600),
//! so a forged or altered cookie is refused before the store is asked. The store lives in
//! memory (a restart logs everyone out) and holds at most [`MAX_SESSIONS`]; when full, the
//! session that was used longest ago goes. A session ends [`Limits::idle`] after its last
//! request or [`Limits::lifetime`] after its login; a login always starts a new session (the
//! old id, if any, is dropped), so an id planted before the login is worth nothing after it.
//! Each session has its own CSRF token ([`super::csrf`]).
//!
//! Implementation summary: `ring`'s HMAC and random generator (already in the build through
//! rustls); time is tokio's `Instant`, so tests move it with the paused clock.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use tokio::time::Instant;

/// Name of the session cookie.
pub const COOKIE: &str = "umsgate_session";
/// File of the cookie key, in `state_dir`.
pub const KEY_FILE: &str = "web-session.key";
/// Most sessions kept at once.
pub const MAX_SESSIONS: usize = 10_000;
const KEY_LEN: usize = 32;

/// What a session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The console and the portal.
    Admin,
    /// The portal only.
    User,
}

/// A logged-in principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
}

/// One live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub principal: Principal,
    pub csrf: String,
    started: Instant,
    last_seen: Instant,
}

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub idle: Duration,
    pub lifetime: Duration,
}

/// Why the cookie key cannot be used.
#[derive(Debug)]
pub enum KeyError {
    Io {
        path: std::path::PathBuf,
        source: io::Error,
    },
    /// The file exists but does not hold a key of the right length.
    Length {
        path: std::path::PathBuf,
        found: usize,
    },
    Random,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Io { path, source } => {
                write!(f, "session key {}: {source}", path.display())
            }
            KeyError::Length { path, found } => write!(
                f,
                "session key {} holds {found} bytes, not {KEY_LEN} (delete it to make a new one)",
                path.display()
            ),
            KeyError::Random => f.write_str("the system's random generator failed"),
        }
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Random bytes, URL-safe base64.
pub fn random_token() -> Option<String> {
    let mut b = [0u8; 32];
    SystemRandom::new().fill(&mut b).ok()?;
    Some(B64.encode(b))
}

/// Reads the cookie key from `dir/KEY_FILE`, or makes one (mode 0600) when there is none.
pub fn load_or_create_key(dir: &Path) -> Result<Vec<u8>, KeyError> {
    let path = dir.join(KEY_FILE);
    let io_err = |source| KeyError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::File::open(&path) {
        Ok(f) => {
            let mut key = Vec::new();
            f.take(1024).read_to_end(&mut key).map_err(io_err)?;
            if key.len() != KEY_LEN {
                return Err(KeyError::Length {
                    path: path.clone(),
                    found: key.len(),
                });
            }
            Ok(key)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(io_err)?;
            let mut key = vec![0u8; KEY_LEN];
            SystemRandom::new()
                .fill(&mut key)
                .map_err(|_| KeyError::Random)?;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&path).map_err(io_err)?;
            f.write_all(&key).map_err(io_err)?;
            f.sync_all().map_err(io_err)?;
            Ok(key)
        }
        Err(e) => Err(io_err(e)),
    }
}

/// The sessions of the web server.
#[derive(Clone)]
pub struct Sessions {
    key: Arc<hmac::Key>,
    limits: Limits,
    map: Arc<Mutex<HashMap<String, Session>>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    pub fn new(key: &[u8], limits: Limits) -> Sessions {
        Sessions {
            key: Arc::new(hmac::Key::new(hmac::HMAC_SHA256, key)),
            limits,
            map: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn sign(&self, id: &str) -> String {
        B64.encode(hmac::sign(&self.key, id.as_bytes()).as_ref())
    }

    /// The cookie value of a session: `<id>.<mac>`.
    pub fn cookie_value(&self, session: &Session) -> String {
        format!("{}.{}", session.id, self.sign(&session.id))
    }

    /// Starts a session for `principal` (dropping `replaces`, the caller's old one).
    pub fn login(&self, principal: Principal, replaces: Option<&str>) -> Option<Session> {
        let now = Instant::now();
        let session = Session {
            id: random_token()?,
            principal,
            csrf: random_token()?,
            started: now,
            last_seen: now,
        };
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = replaces {
            map.remove(old);
        }
        map.retain(|_, s| self.alive(s, now));
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .values()
                .min_by_key(|s| s.last_seen)
                .map(|s| s.id.clone())
        {
            map.remove(&oldest);
        }
        map.insert(session.id.clone(), session.clone());
        Some(session)
    }

    fn alive(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_seen) < self.limits.idle
            && now.duration_since(s.started) < self.limits.lifetime
    }

    /// The id a cookie value names, when its signature holds (the store is not asked).
    pub fn verified_id<'a>(&self, cookie: &'a str) -> Option<&'a str> {
        let (id, mac) = cookie.split_once('.')?;
        let mac = B64.decode(mac).ok()?;
        hmac::verify(&self.key, id.as_bytes(), &mac).ok()?;
        Some(id)
    }

    /// The live session of a cookie value, marked as used now; an expired one is removed.
    pub fn touch(&self, cookie: &str) -> Option<Session> {
        let id = self.verified_id(cookie)?;
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let alive = map.get(id).map(|s| self.alive(s, now))?;
        if !alive {
            map.remove(id);
            return None;
        }
        let s = map.get_mut(id)?;
        s.last_seen = now;
        Some(s.clone())
    }

    /// Ends a session.
    pub fn logout(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }

    /// The `Set-Cookie` value that carries `session`.
    pub fn set_cookie(&self, session: &Session, secure: bool) -> String {
        format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{}; Max-Age={}",
            self.cookie_value(session),
            if secure { "; Secure" } else { "" },
            self.limits.lifetime.as_secs()
        )
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn clear_cookie(secure: bool) -> String {
        format!(
            "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict{}; Max-Age=0",
            if secure { "; Secure" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sessions() -> Sessions {
        Sessions::new(
            &[7u8; 32],
            Limits {
                idle: Duration::from_secs(600),
                lifetime: Duration::from_secs(3600),
            },
        )
    }

    fn admin() -> Principal {
        Principal {
            name: "admin".into(),
            role: Role::Admin,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_signed_cookie_finds_its_session_and_an_altered_one_does_not() {
        let s = sessions();
        let session = s.login(admin(), None).unwrap();
        let cookie = s.cookie_value(&session);
        assert_eq!(s.touch(&cookie).unwrap().principal, admin());
        let (id, mac) = cookie.split_once('.').unwrap();
        let mut forged = id.to_owned();
        forged.replace_range(0..1, if forged.starts_with('A') { "B" } else { "A" });
        assert!(s.touch(&format!("{forged}.{mac}")).is_none());
        assert!(s.touch(id).is_none(), "no signature");
        let other = Sessions::new(&[8u8; 32], s.limits);
        assert!(other.touch(&cookie).is_none(), "another key");
    }

    #[tokio::test(start_paused = true)]
    async fn idle_and_absolute_timeouts() {
        let s = sessions();
        let cookie = s.cookie_value(&s.login(admin(), None).unwrap());
        for _ in 0..5 {
            tokio::time::advance(Duration::from_secs(599)).await;
            assert!(s.touch(&cookie).is_some(), "used within the idle time");
        }
        // 2995 s since login; used every 599 s, but the lifetime is 3600 s.
        tokio::time::advance(Duration::from_secs(599)).await;
        assert!(s.touch(&cookie).is_some());
        tokio::time::advance(Duration::from_secs(599)).await;
        assert!(s.touch(&cookie).is_none(), "past the lifetime");

        let idle = s.cookie_value(&s.login(admin(), None).unwrap());
        tokio::time::advance(Duration::from_secs(600)).await;
        assert!(s.touch(&idle).is_none(), "idle too long");
    }

    #[tokio::test(start_paused = true)]
    async fn login_replaces_the_old_session_and_logout_ends_it() {
        let s = sessions();
        let first = s.login(admin(), None).unwrap();
        let second = s.login(admin(), Some(&first.id)).unwrap();
        assert_ne!(first.id, second.id);
        assert_ne!(first.csrf, second.csrf);
        assert!(s.touch(&s.cookie_value(&first)).is_none());
        let c = s.cookie_value(&second);
        assert!(s.touch(&c).is_some());
        s.logout(&second.id);
        assert!(s.touch(&c).is_none());
    }

    #[test]
    fn the_key_is_made_once_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("umsgate-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = load_or_create_key(&dir).unwrap();
        let b = load_or_create_key(&dir).unwrap();
        assert_eq!(a, b);
        let mode = std::fs::metadata(dir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(dir.join(KEY_FILE), b"short").unwrap();
        assert!(matches!(
            load_or_create_key(&dir),
            Err(KeyError::Length { found: 5, .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Who may log in: the password check behind the login form, and the limit on failures.
//!
//! Contract: [`Authenticator::authenticate`] answers the principal (with its [`Role`]) for a
//! name and password that hold, `None` for any that do not — an empty password never holds,
//! whatever the backend would say (an LDAP simple bind with an empty password is an
//! unauthenticated bind and "succeeds"); an error only when the check itself could not run
//! (the directory is down), which the login page reports as such. [`LoginLimiter`] counts
//! failures per client address: from `max_failures` within `window`, that client is refused
//! without a check until the window has passed since its last failure.
//!
//! Implementation summary: [`ConfigAdmins`] checks `[[service.web.admins]]` with argon2 on the
//! blocking pool (an unknown name is checked against a dummy hash, so that it takes as long
//! as a wrong password). Other authenticators (the directory's, for users and the admin group)
//! plug in through the trait; [`Chain`] asks them in order.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::session::{Principal, Role};
use crate::config::WebAdmin;

/// A boxed future, so that authenticators can be chosen at run time.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a password could not be checked.
#[derive(Debug)]
pub struct AuthError {
    pub backend: &'static str,
    pub source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} cannot check passwords now", self.backend)
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// Checks a name and password.
pub trait Authenticator: Send + Sync {
    fn authenticate<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, AuthError>>;
}

/// A valid argon2id hash of a password nobody knows, checked for unknown names.
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

/// The administrators of `[[service.web.admins]]`.
#[derive(Debug, Clone)]
pub struct ConfigAdmins {
    admins: Arc<Vec<WebAdmin>>,
}

impl ConfigAdmins {
    pub fn new(admins: Vec<WebAdmin>) -> ConfigAdmins {
        ConfigAdmins {
            admins: Arc::new(admins),
        }
    }
}

impl Authenticator for ConfigAdmins {
    fn authenticate<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, AuthError>> {
        Box::pin(async move {
            if password.is_empty() {
                return Ok(None);
            }
            let found = self.admins.iter().find(|a| a.name == name);
            let hash = found.map_or(DUMMY_HASH.to_owned(), |a| {
                a.password_hash.as_str().to_owned()
            });
            let password = password.to_owned();
            let ok = tokio::task::spawn_blocking(move || verify(&hash, &password))
                .await
                .map_err(|e| AuthError {
                    backend: "the admin accounts",
                    source: Box::new(e),
                })?;
            Ok((ok && found.is_some()).then(|| Principal {
                name: name.to_owned(),
                role: Role::Admin,
            }))
        })
    }
}

/// Several authenticators, asked in order; the first that knows the name and password wins.
pub struct Chain(pub Vec<Arc<dyn Authenticator>>);

impl Authenticator for Chain {
    fn authenticate<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, AuthError>> {
        Box::pin(async move {
            if password.is_empty() {
                return Ok(None);
            }
            let mut failed = None;
            for a in &self.0 {
                match a.authenticate(name, password).await {
                    Ok(Some(p)) => return Ok(Some(p)),
                    Ok(None) => {}
                    Err(e) => failed = Some(e),
                }
            }
            failed.map_or(Ok(None), Err)
        })
    }
}

/// Most client addresses tracked at once; beyond it, the stalest entries go.
const MAX_TRACKED: usize = 10_000;

/// Failed logins per client address.
#[derive(Debug, Clone)]
pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    failures: Arc<Mutex<HashMap<IpAddr, (u32, Instant)>>>,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window: Duration) -> LoginLimiter {
        LoginLimiter {
            max_failures: max_failures.max(1),
            window,
            failures: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Whether `client` must wait before it may try again.
    pub fn blocked(&self, client: IpAddr) -> bool {
        let map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&client)
            .is_some_and(|(n, last)| *n >= self.max_failures && last.elapsed() < self.window)
    }

    pub fn failed(&self, client: IpAddr) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_TRACKED {
            let window = self.window;
            map.retain(|_, (_, last)| now.duration_since(*last) < window);
        }
        if map.len() >= MAX_TRACKED {
            return;
        }
        let e = map.entry(client).or_insert((0, now));
        if now.duration_since(e.1) >= self.window {
            e.0 = 0;
        }
        e.0 += 1;
        e.1 = now;
    }

    pub fn succeeded(&self, client: IpAddr) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&client);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn admins() -> ConfigAdmins {
        // The hash of "umsgate" (the dummy's password is unknown; this one is made here).
        use argon2::PasswordHasher;
        let salt = argon2::password_hash::SaltString::from_b64("dW1zZ2F0ZXNhbHQ").unwrap();
        let hash = argon2::Argon2::default()
            .hash_password(b"secret-pw", &salt)
            .unwrap()
            .to_string();
        ConfigAdmins::new(vec![WebAdmin {
            name: "admin".into(),
            password_hash: hash.parse().unwrap(),
        }])
    }

    #[tokio::test]
    async fn config_admins_check_name_and_password() {
        let a = admins();
        let ok = a.authenticate("admin", "secret-pw").await.unwrap().unwrap();
        assert_eq!(ok.role, Role::Admin);
        assert!(a.authenticate("admin", "wrong").await.unwrap().is_none());
        assert!(
            a.authenticate("nobody", "secret-pw")
                .await
                .unwrap()
                .is_none()
        );
        assert!(a.authenticate("admin", "").await.unwrap().is_none());
    }

    struct Anyone;
    impl Authenticator for Anyone {
        fn authenticate<'a>(
            &'a self,
            name: &'a str,
            _: &'a str,
        ) -> BoxFuture<'a, Result<Option<Principal>, AuthError>> {
            Box::pin(async move {
                Ok(Some(Principal {
                    name: name.into(),
                    role: Role::User,
                }))
            })
        }
    }

    #[tokio::test]
    async fn a_chain_never_takes_an_empty_password() {
        let chain = Chain(vec![Arc::new(Anyone)]);
        assert!(chain.authenticate("u", "").await.unwrap().is_none());
        assert!(chain.authenticate("u", "x").await.unwrap().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn failures_block_a_client_for_the_window() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(!l.blocked(a));
            l.failed(a);
        }
        assert!(l.blocked(a));
        assert!(!l.blocked(b), "per client");
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(!l.blocked(a), "the window has passed");
        l.failed(a);
        assert!(!l.blocked(a), "counting starts again");
        l.succeeded(a);
        assert!(!l.blocked(a));
    }
}

//! Logins to the web console and the self-service portal.
//!
//! Contract: [`Authenticator::login`] answers a login name and password from a client with a
//! [`LoginOutcome`]: an administrator ([`LoginOutcome::Admin`]), a directory user
//! ([`LoginOutcome::User`]) or a refusal whose reason ([`Refusal`]) is logged for the
//! administrator and never shown: the page says only that the login failed (or, when
//! [`Refusal::Limited`], when to try again). A directory that cannot be asked is an
//! [`AuthError`] ("try again later"), never a refusal and never counted as a failed login.
//! - An empty password is refused before anything else: an LDAP bind with a DN and no
//!   password is an "unauthenticated bind" that most servers accept without checking.
//! - Names and passwords are bounded ([`MAX_NAME_LEN`], [`MAX_PASSWORD_LEN`]).
//! - Who is checked, in order: `[[service.web.admins]]` by name (argon2); otherwise each
//!   instance's directory in configuration order, by mail address or alias: LDAP binds as
//!   the user on a fresh connection ([`crate::directory::ldap::Login`]), the users file
//!   checks the user's `password_hash` (argon2). A directory user is an administrator when
//!   `web.admin_group` is set and he is a member (LDAP only).
//! - A name nobody has costs what a wrong password costs, so the time does not tell which
//!   names exist: with an LDAP directory a refused bind on a fresh connection (see
//!   [`crate::directory::ldap::Login`]), else one argon2 check of a dummy hash, as for an
//!   administrator or a users-file user. (A site with both a users file and LDAP pays the
//!   LDAP price for unknown names: the same order as a users-file password, not the same.)
//! - Every attempt passes the [`limiter`] first (per client address and per login name).
//!
//! Implementation summary: argon2 runs on tokio's blocking pool, at most twice the CPU
//! cores at once (a burst of logins cannot take every core from the mail); every outcome is
//! logged as `event = "web.login"` with the client, the name and the reason, never the
//! password.

pub mod limiter;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::config::WebConfig;
use crate::config::units::InstanceId;
use crate::config::web_auth::{AdminMembership, GroupDn, WebAdmin};
use crate::directory::ldap::{AdminGroup, Login};
use crate::directory::{Directory, DirectoryError};
pub use limiter::{Limited, LoginLimiter};

/// Longest login name considered (a mail address is at most 254 octets).
pub const MAX_NAME_LEN: usize = 320;
/// Longest password considered.
pub const MAX_PASSWORD_LEN: usize = crate::directory::ldap::MAX_PASSWORD_LEN;

/// A valid argon2id hash (the crate's default parameters) of a random password nobody knows:
/// checked when a name has no hash, so that this costs what a wrong password costs.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$dW1zZ2F0ZWR1bW15$3mQbqNbnhMOw0mFdbI8Xgk6k2wLoTFjlBSTOGpIH3yQ";

/// One instance's directory, where its users log in.
#[derive(Debug, Clone)]
pub struct UserDirectory {
    pub instance: InstanceId,
    pub directory: Arc<Directory>,
}

/// Who logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// An administrator: a `[[service.web.admins]]` name, or a directory user in
    /// `web.admin_group` (then `name` is his mail address).
    Admin { name: String },
    /// A directory user: the portal shows his settings.
    User {
        instance: InstanceId,
        address: String,
        dn: String,
    },
    /// Not logged in; the reason is for the log.
    Refused(Refusal),
}

/// Why a login was refused (logged, not shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    EmptyPassword,
    /// Name or password longer than the limits.
    TooLong,
    /// No administrator and no directory user has this name.
    UnknownName,
    WrongPassword,
    /// A users-file user without `password_hash`: he cannot log in.
    NoPassword,
    /// Several LDAP entries have this name.
    Ambiguous {
        count: usize,
    },
    /// The LDAP server refused the bind for another reason than the password.
    BindRefused {
        reason: String,
    },
    /// Too many failures from this client or for this name.
    Limited(Limited),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::EmptyPassword => f.write_str("empty password"),
            Refusal::TooLong => f.write_str("name or password too long"),
            Refusal::UnknownName => f.write_str("no such user"),
            Refusal::WrongPassword => f.write_str("wrong password"),
            Refusal::NoPassword => f.write_str("the user has no password_hash in the users file"),
            Refusal::Ambiguous { count } => {
                write!(f, "{count} directory entries have this name")
            }
            Refusal::BindRefused { reason } => write!(f, "bind refused: {reason}"),
            Refusal::Limited(l) => l.fmt(f),
        }
    }
}

/// The login could not be checked: no directory answered. The user may try again later.
#[derive(Debug)]
pub struct AuthError {
    instance: InstanceId,
    source: DirectoryError,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "login not checked: directory of instance {}",
            self.instance.as_str()
        )
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Checks logins; see the module contract.
#[derive(Debug)]
pub struct Authenticator {
    admins: Vec<WebAdmin>,
    admin_group: Option<GroupDn>,
    membership: AdminMembership,
    directories: Vec<UserDirectory>,
    limiter: LoginLimiter,
    checks: Arc<Semaphore>,
    checked: std::sync::atomic::AtomicU64,
}

/// What one directory said.
enum Found {
    Outcome(LoginOutcome),
    Nobody,
}

impl Authenticator {
    /// From `[service.web]` and the instances' directories, in configuration order.
    pub fn new(web: &WebConfig, directories: Vec<UserDirectory>) -> Authenticator {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Authenticator {
            admins: web.admins.clone(),
            admin_group: web.admin_group.clone(),
            membership: web.admin_membership,
            directories,
            limiter: LoginLimiter::new(web.login_limit),
            checks: Arc::new(Semaphore::new(2 * cores)),
            checked: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The limiter (for the console's figures).
    pub fn limiter(&self) -> &LoginLimiter {
        &self.limiter
    }

    /// Argon2 checks run so far (dummy ones included).
    pub fn password_checks(&self) -> u64 {
        self.checked.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Checks one login; see the module contract.
    pub async fn login(
        &self,
        client: IpAddr,
        name: &str,
        password: &str,
    ) -> Result<LoginOutcome, AuthError> {
        let name = name.trim();
        let r = self.check(client, name, password).await;
        match &r {
            Ok(LoginOutcome::Admin { name }) => {
                tracing::info!(event = "web.login", %client, name, outcome = "admin");
            }
            Ok(LoginOutcome::User {
                instance,
                address,
                dn,
            }) => {
                tracing::info!(event = "web.login", %client, name = address, instance = instance.as_str(), dn, outcome = "user");
            }
            Ok(LoginOutcome::Refused(why)) => {
                tracing::warn!(event = "web.login", %client, name, outcome = "refused", reason = %why);
            }
            Err(e) => {
                tracing::error!(event = "web.login", %client, name, outcome = "error", error = %e, cause = %e.source);
            }
        }
        r
    }

    async fn check(
        &self,
        client: IpAddr,
        name: &str,
        password: &str,
    ) -> Result<LoginOutcome, AuthError> {
        let refused = |r| Ok(LoginOutcome::Refused(r));
        if password.is_empty() {
            return refused(Refusal::EmptyPassword);
        }
        if name.len() > MAX_NAME_LEN || password.len() > MAX_PASSWORD_LEN {
            return refused(Refusal::TooLong);
        }
        let ticket = match self.limiter.begin(client, name) {
            Ok(t) => t,
            Err(l) => return refused(Refusal::Limited(l)),
        };
        let r = self.check_admitted(name, password).await;
        match &r {
            Ok(LoginOutcome::Admin { .. } | LoginOutcome::User { .. }) => ticket.succeeded(),
            Ok(LoginOutcome::Refused(_)) => ticket.failed(),
            Err(_) => ticket.abandon(),
        }
        r
    }

    async fn check_admitted(&self, name: &str, password: &str) -> Result<LoginOutcome, AuthError> {
        if let Some(a) = self.admins.iter().find(|a| a.name == name) {
            return Ok(if self.verify(a.password_hash.as_str(), password).await {
                LoginOutcome::Admin {
                    name: a.name.clone(),
                }
            } else {
                LoginOutcome::Refused(Refusal::WrongPassword)
            });
        }
        let mut failed = None;
        // An LDAP directory that does not know the name spends a refused bind on it.
        let mut paid = false;
        if !name.is_empty() {
            for d in &self.directories {
                paid |= matches!(*d.directory, Directory::Ldap(_));
                match self.in_directory(d, name, password).await {
                    Ok(Found::Outcome(o)) => return Ok(o),
                    Ok(Found::Nobody) => {}
                    Err(e) => {
                        failed.get_or_insert(AuthError {
                            instance: d.instance.clone(),
                            source: e,
                        });
                    }
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        // Nobody has this name: cost what a wrong password costs.
        if !paid {
            self.verify(DUMMY_HASH, password).await;
        }
        Ok(LoginOutcome::Refused(Refusal::UnknownName))
    }

    async fn in_directory(
        &self,
        d: &UserDirectory,
        name: &str,
        password: &str,
    ) -> Result<Found, DirectoryError> {
        let refused = |r| Ok(Found::Outcome(LoginOutcome::Refused(r)));
        match &*d.directory {
            Directory::File(f) => {
                let Some((user, hash)) = f.login_entry(name)? else {
                    return Ok(Found::Nobody);
                };
                let Some(hash) = hash else {
                    self.verify(DUMMY_HASH, password).await;
                    return refused(Refusal::NoPassword);
                };
                if self.verify(&hash, password).await {
                    Ok(Found::Outcome(LoginOutcome::User {
                        instance: d.instance.clone(),
                        address: user.mail,
                        dn: user.id,
                    }))
                } else {
                    refused(Refusal::WrongPassword)
                }
            }
            Directory::Ldap(l) => {
                let group = self.admin_group.as_ref().map(|g| AdminGroup {
                    dn: g.as_str(),
                    membership: self.membership,
                });
                match l.verify_password(name, password, group).await? {
                    Login::Bound { user, admin: true } => {
                        Ok(Found::Outcome(LoginOutcome::Admin { name: user.mail }))
                    }
                    Login::Bound { user, admin: false } => Ok(Found::Outcome(LoginOutcome::User {
                        instance: d.instance.clone(),
                        address: user.mail,
                        dn: user.id,
                    })),
                    Login::NoSuchUser => Ok(Found::Nobody),
                    Login::Ambiguous { count } => refused(Refusal::Ambiguous { count }),
                    Login::UnusablePassword => refused(Refusal::TooLong),
                    Login::WrongPassword { .. } => refused(Refusal::WrongPassword),
                    Login::BindRefused { reason, .. } => refused(Refusal::BindRefused { reason }),
                }
            }
        }
    }

    /// An argon2 check on the blocking pool; a hash that does not parse matches nothing.
    async fn verify(&self, hash: &str, password: &str) -> bool {
        let Ok(permit) = Arc::clone(&self.checks).acquire_owned().await else {
            return false;
        };
        self.checked
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (hash, password) = (hash.to_owned(), password.to_owned());
        tokio::task::spawn_blocking(move || {
            let _slot = permit;
            use argon2::PasswordVerifier;
            match argon2::PasswordHash::new(&hash) {
                Ok(h) => argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok(),
                Err(_) => false,
            }
        })
        .await
        .unwrap_or(false)
    }
}

/// How long a refused client waits, for the page ("try again in …").
pub fn retry_after(r: &Refusal) -> Option<Duration> {
    match r {
        Refusal::Limited(l) => Some(l.retry_after),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::directory::FileDirectory;
    use argon2::PasswordHasher;
    use umsgate_domain::{SitePlan, SitePlanFields};

    /// A cheap argon2id hash (tests only; the checks read the parameters from the hash).
    fn hash(password: &str) -> String {
        let params = argon2::Params::new(8, 1, 1, None).unwrap();
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let salt = argon2::password_hash::SaltString::from_b64("dW1zZ2F0ZXRlc3Q").unwrap();
        a.hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    fn plan() -> SitePlan {
        SitePlan::new(SitePlanFields {
            country_code: "49".into(),
            area_code: "8142".into(),
            subscriber: "4799".into(),
            extension_digits: 3,
            international_prefix: "00".into(),
            national_prefix: "0".into(),
            outside_line: String::new(),
        })
        .unwrap()
    }

    fn authenticator(name: &str, limit: &str) -> (Authenticator, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("umsgate-auth-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let users = dir.join("users.toml");
        std::fs::write(
            &users,
            format!(
                "[[user]]\nmail = \"jane@example.com\"\naliases = [\"j.doe@example.com\"]\npassword_hash = \"{}\"\n\n\
                 [[user]]\nmail = \"max@example.com\"\n\n\
                 [[user]]\nmail = \"broken@example.com\"\npassword_hash = \"not a hash\"\n",
                hash("jane-pw")
            ),
        )
        .unwrap();
        let web: WebConfig = toml::from_str(&format!(
            "listen = \"127.0.0.1:8080\"\n{limit}\n[[admins]]\nname = \"admin\"\npassword_hash = \"{}\"\n",
            hash("admin-pw")
        ))
        .unwrap();
        let d = Arc::new(Directory::File(
            FileDirectory::open(&users, plan()).unwrap(),
        ));
        let a = Authenticator::new(
            &web,
            vec![UserDirectory {
                instance: "inst1".parse().unwrap(),
                directory: d,
            }],
        );
        (a, dir)
    }

    fn client() -> IpAddr {
        IpAddr::from([192, 0, 2, 10])
    }

    #[tokio::test]
    async fn administrators_and_users_file_logins() {
        let (a, dir) = authenticator("file", "");
        let login = |n: &'static str, p: &'static str| a.login(client(), n, p);
        assert_eq!(
            login("admin", "admin-pw").await.unwrap(),
            LoginOutcome::Admin {
                name: "admin".into()
            }
        );
        assert_eq!(
            login("admin", "jane-pw").await.unwrap(),
            LoginOutcome::Refused(Refusal::WrongPassword)
        );
        let jane = LoginOutcome::User {
            instance: "inst1".parse().unwrap(),
            address: "jane@example.com".into(),
            dn: "jane@example.com".into(),
        };
        assert_eq!(login("jane@example.com", "jane-pw").await.unwrap(), jane);
        // an alias, in other case, with spaces around: the same user
        assert_eq!(login(" J.Doe@Example.com ", "jane-pw").await.unwrap(), jane);
        assert_eq!(
            login("jane@example.com", "admin-pw").await.unwrap(),
            LoginOutcome::Refused(Refusal::WrongPassword)
        );
        assert_eq!(
            login("max@example.com", "anything").await.unwrap(),
            LoginOutcome::Refused(Refusal::NoPassword)
        );
        assert_eq!(
            login("broken@example.com", "anything").await.unwrap(),
            LoginOutcome::Refused(Refusal::WrongPassword)
        );
        // a missing name costs one check, as a wrong password does; an empty password none
        let before = a.password_checks();
        assert_eq!(
            login("nobody@example.com", "jane-pw").await.unwrap(),
            LoginOutcome::Refused(Refusal::UnknownName)
        );
        assert_eq!(a.password_checks(), before + 1);
        login("jane@example.com", "wrong").await.unwrap();
        assert_eq!(a.password_checks(), before + 2);
        for name in ["admin", "jane@example.com", "nobody@example.com"] {
            assert_eq!(
                a.login(client(), name, "").await.unwrap(),
                LoginOutcome::Refused(Refusal::EmptyPassword)
            );
        }
        assert_eq!(a.password_checks(), before + 2);
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert_eq!(
            a.login(client(), "jane@example.com", &long).await.unwrap(),
            LoginOutcome::Refused(Refusal::TooLong)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn repeated_failures_are_limited_and_a_success_forgives() {
        let (a, dir) = authenticator("limit", "login_limit = { burst = 2, refill = \"1h\" }");
        for _ in 0..2 {
            assert_eq!(
                a.login(client(), "jane@example.com", "guess")
                    .await
                    .unwrap(),
                LoginOutcome::Refused(Refusal::WrongPassword)
            );
        }
        // even the right password is not checked now
        match a
            .login(client(), "jane@example.com", "jane-pw")
            .await
            .unwrap()
        {
            LoginOutcome::Refused(Refusal::Limited(l)) => {
                assert!(l.client && l.name);
                assert!(retry_after(&Refusal::Limited(l)).unwrap() > Duration::from_secs(3000));
            }
            other => panic!("{other:?}"),
        }
        // another client may still log in as someone else; its success clears its own record
        let other = IpAddr::from([198, 51, 100, 1]);
        assert!(matches!(
            a.login(other, "admin", "admin-pw").await.unwrap(),
            LoginOutcome::Admin { .. }
        ));
        assert!(matches!(
            a.login(other, "jane@example.com", "jane-pw").await.unwrap(),
            LoginOutcome::Refused(Refusal::Limited(_))
        ));
        assert_eq!(a.limiter().tracked(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

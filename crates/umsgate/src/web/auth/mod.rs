//! Directory logins for the web console and the self-service portal: the
//! [`login::Authenticator`] that knows the instances' users.
//!
//! Contract: [`DirectoryLogins::check`] answers a login name (a mail address or an alias) and
//! a password with a [`LoginOutcome`]: an administrator ([`LoginOutcome::Admin`]), a
//! directory user ([`LoginOutcome::User`]) or a refusal whose reason ([`Refusal`]) is logged
//! for the administrator and never shown: the page says only that the login failed. A
//! directory that cannot be asked is an [`AuthError`] ("try again later"), never a refusal.
//! Through [`login::Authenticator`] it answers the login form behind `[[service.web.admins]]`
//! ([`login::Chain`]).
//! - An empty password is refused before anything else: an LDAP bind with a DN and no
//!   password is an "unauthenticated bind" that most servers accept without checking.
//! - Names and passwords are bounded ([`MAX_NAME_LEN`], [`MAX_PASSWORD_LEN`]).
//! - Each instance's directory is asked in configuration order; the first that knows the
//!   name decides. LDAP binds as the user on a fresh connection
//!   ([`crate::directory::ldap::Login`]), the users file checks the user's `password_hash`
//!   (argon2). A directory user is an administrator when `web.admin_group` is set and he is a
//!   member (LDAP only; `web.admin_membership` says how membership is read).
//! - A name nobody has costs what a wrong password costs, so the time does not tell which
//!   names exist: with an LDAP directory a refused bind on a fresh connection, else one
//!   argon2 check of a dummy hash, as for a users-file user. (A site with both a users file
//!   and LDAP pays the LDAP price for unknown names: the same order as a users-file
//!   password, not the same.)
//! - The [`limiter`] (per client address and per login name) runs before any check, in the
//!   login page.
//!
//! Implementation summary: argon2 runs on tokio's blocking pool, at most twice the CPU
//! cores at once (a burst of logins cannot take every core from the mail); every outcome is
//! logged as `event = "web.directory_login"` with the name and the reason, never the
//! password.

pub mod limiter;

use std::fmt;
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::login;
use super::session::{Principal, Role};
use crate::config::WebConfig;
use crate::config::units::InstanceId;
use crate::config::web_auth::AdminMembership;
use crate::directory::ldap::{AdminGroup, Login};
use crate::directory::{Directory, DirectoryError};
pub use limiter::{Limit, Limited, LoginLimiter, Ticket};

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
    /// A directory user in `web.admin_group`; `name` is his mail address.
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
    /// No directory user has this name.
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

/// Checks logins against the instances' directories; see the module contract.
#[derive(Debug)]
pub struct DirectoryLogins {
    admin_group: Option<String>,
    membership: AdminMembership,
    /// Replaced on every reload of the running instances ([`DirectoryLogins::set_directories`]).
    directories: std::sync::RwLock<Vec<UserDirectory>>,
    checks: Arc<Semaphore>,
    checked: std::sync::atomic::AtomicU64,
}

/// What one directory said.
enum Found {
    Outcome(LoginOutcome),
    Nobody,
}

impl DirectoryLogins {
    /// From `[service.web]` and the instances' directories, in configuration order.
    pub fn new(web: &WebConfig, directories: Vec<UserDirectory>) -> DirectoryLogins {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        DirectoryLogins {
            admin_group: web.admin_group.clone(),
            membership: web.admin_membership,
            directories: std::sync::RwLock::new(directories),
            checks: Arc::new(Semaphore::new(2 * cores)),
            checked: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The directories of the instances that run now (after a reload: the new ones).
    pub fn set_directories(&self, directories: Vec<UserDirectory>) {
        if let Ok(mut d) = self.directories.write() {
            *d = directories;
        }
    }

    /// Argon2 checks run so far (dummy ones included).
    pub fn password_checks(&self) -> u64 {
        self.checked.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Checks one login and logs the outcome; see the module contract.
    pub async fn check(&self, name: &str, password: &str) -> Result<LoginOutcome, AuthError> {
        let name = name.trim();
        let r = self.check_unlogged(name, password).await;
        match &r {
            Ok(LoginOutcome::Admin { name }) => {
                tracing::info!(event = "web.directory_login", name, outcome = "admin");
            }
            Ok(LoginOutcome::User {
                instance,
                address,
                dn,
            }) => {
                tracing::info!(
                    event = "web.directory_login",
                    name = address,
                    instance = instance.as_str(),
                    dn,
                    outcome = "user"
                );
            }
            Ok(LoginOutcome::Refused(why)) => {
                tracing::warn!(event = "web.directory_login", name, outcome = "refused", reason = %why);
            }
            Err(e) => {
                tracing::error!(event = "web.directory_login", name, outcome = "error", error = %e, cause = %e.source);
            }
        }
        r
    }

    async fn check_unlogged(&self, name: &str, password: &str) -> Result<LoginOutcome, AuthError> {
        let refused = |r| Ok(LoginOutcome::Refused(r));
        if password.is_empty() {
            return refused(Refusal::EmptyPassword);
        }
        if name.len() > MAX_NAME_LEN || password.len() > MAX_PASSWORD_LEN {
            return refused(Refusal::TooLong);
        }
        let mut failed = None;
        // An LDAP directory that does not know the name spends a refused bind on it.
        let mut paid = false;
        if !name.is_empty() {
            let directories = self
                .directories
                .read()
                .map(|d| d.clone())
                .unwrap_or_default();
            for d in &directories {
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

impl login::Authenticator for DirectoryLogins {
    fn authenticate<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
    ) -> login::BoxFuture<'a, Result<Option<Principal>, login::AuthError>> {
        Box::pin(async move {
            match self.check(name, password).await {
                Ok(LoginOutcome::Admin { name }) => Ok(Some(Principal {
                    name,
                    role: Role::Admin,
                })),
                Ok(LoginOutcome::User { address, .. }) => Ok(Some(Principal {
                    name: address,
                    role: Role::User,
                })),
                Ok(LoginOutcome::Refused(_)) => Ok(None),
                Err(e) => Err(login::AuthError {
                    backend: "the directory",
                    source: Box::new(e),
                }),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::directory::FileDirectory;
    use argon2::PasswordHasher;
    use login::Authenticator as _;
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

    fn web() -> WebConfig {
        toml::from_str(&format!(
            "listen = \"127.0.0.1:8080\"\n[[admins]]\nname = \"admin\"\npassword_hash = \"{}\"\n",
            hash("admin-pw")
        ))
        .unwrap()
    }

    fn logins(name: &str) -> (DirectoryLogins, std::path::PathBuf) {
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
        let d = Arc::new(Directory::File(
            FileDirectory::open(&users, plan()).unwrap(),
        ));
        let a = DirectoryLogins::new(
            &web(),
            vec![UserDirectory {
                instance: "inst1".parse().unwrap(),
                directory: d,
            }],
        );
        (a, dir)
    }

    #[tokio::test]
    async fn after_a_reload_users_log_in_through_the_new_directories() {
        let (a, dir) = logins("reload");
        let jane = a.check("jane@example.com", "jane-pw").await.unwrap();
        assert!(matches!(jane, LoginOutcome::User { .. }), "{jane:?}");
        // The instance was removed: nobody of its directory logs in any more.
        a.set_directories(Vec::new());
        assert_eq!(
            a.check("jane@example.com", "jane-pw").await.unwrap(),
            LoginOutcome::Refused(Refusal::UnknownName)
        );
        // It came back under another id: its users log in to that one.
        let d = Arc::new(Directory::File(
            FileDirectory::open(&dir.join("users.toml"), plan()).unwrap(),
        ));
        a.set_directories(vec![UserDirectory {
            instance: "inst2".parse().unwrap(),
            directory: d,
        }]);
        assert!(matches!(
            a.check("jane@example.com", "jane-pw").await.unwrap(),
            LoginOutcome::User { instance, .. } if instance.as_str() == "inst2"
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn users_file_logins_and_why_they_are_refused() {
        let (a, dir) = logins("file");
        let jane = LoginOutcome::User {
            instance: "inst1".parse().unwrap(),
            address: "jane@example.com".into(),
            dn: "jane@example.com".into(),
        };
        assert_eq!(a.check("jane@example.com", "jane-pw").await.unwrap(), jane);
        // an alias, in other case, with spaces around: the same user
        assert_eq!(
            a.check(" J.Doe@Example.com ", "jane-pw").await.unwrap(),
            jane
        );
        let refused = |r| LoginOutcome::Refused(r);
        assert_eq!(
            a.check("jane@example.com", "admin-pw").await.unwrap(),
            refused(Refusal::WrongPassword)
        );
        assert_eq!(
            a.check("max@example.com", "anything").await.unwrap(),
            refused(Refusal::NoPassword)
        );
        assert_eq!(
            a.check("broken@example.com", "anything").await.unwrap(),
            refused(Refusal::WrongPassword)
        );
        // a missing name costs one check, as a wrong password does; an empty password none
        let before = a.password_checks();
        assert_eq!(
            a.check("nobody@example.com", "jane-pw").await.unwrap(),
            refused(Refusal::UnknownName)
        );
        assert_eq!(a.password_checks(), before + 1);
        a.check("jane@example.com", "wrong").await.unwrap();
        assert_eq!(a.password_checks(), before + 2);
        for name in ["jane@example.com", "nobody@example.com"] {
            assert_eq!(
                a.check(name, "").await.unwrap(),
                refused(Refusal::EmptyPassword)
            );
        }
        assert_eq!(a.password_checks(), before + 2);
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert_eq!(
            a.check("jane@example.com", &long).await.unwrap(),
            refused(Refusal::TooLong)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn behind_the_admin_accounts_the_directory_answers_the_login_form() {
        let (a, dir) = logins("chain");
        let chain = login::Chain(vec![
            Arc::new(login::ConfigAdmins::new(web().admins.clone())),
            Arc::new(a),
        ]);
        assert_eq!(
            chain.authenticate("admin", "admin-pw").await.unwrap(),
            Some(Principal {
                name: "admin".into(),
                role: Role::Admin
            })
        );
        assert_eq!(
            chain
                .authenticate("j.doe@example.com", "jane-pw")
                .await
                .unwrap(),
            Some(Principal {
                name: "jane@example.com".into(),
                role: Role::User
            })
        );
        assert_eq!(
            chain
                .authenticate("jane@example.com", "nope")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            chain.authenticate("jane@example.com", "").await.unwrap(),
            None
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

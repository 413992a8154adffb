//! `[service.web]`: the web server that carries the administrators' console and the users'
//! portal.
//!
//! Contract: `listen` takes one address or a list; every other key has a default, so
//! `web.listen = "127.0.0.1:8080"` alone is a working (plain HTTP) console. `tls` names a PEM
//! certificate chain and key (checked when the configuration loads, like the SMTP listener's);
//! `trusted_proxies` are the peers whose `X-Forwarded-For` is believed. `admins` are local
//! accounts with argon2 hashes (`umsgate hash-password`); `admin_group` makes the members of a
//! directory group administrators too. Sessions end after `session_idle` without a request
//! and `session_lifetime` after the login, whichever comes first.
//!
//! Implementation summary: plain serde types; [`crate::load`] resolves the TLS paths against
//! the configuration's folder and checks names and durations.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::TlsFiles;
use crate::units::{self, Cidr, PasswordHash};

/// `[service.web]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// One address (`"127.0.0.1:8080"`) or several (`["127.0.0.1:8080", "[::1]:8080"]`).
    #[serde(deserialize_with = "one_or_many")]
    pub listen: Vec<SocketAddr>,
    /// HTTPS with this certificate and key; without it the server speaks plain HTTP (behind
    /// a TLS-terminating proxy, or on the loopback).
    #[serde(default)]
    pub tls: Option<TlsFiles>,
    /// Peers whose `X-Forwarded-For` names the client (a reverse proxy); empty = none.
    #[serde(default)]
    pub trusted_proxies: Vec<Cidr>,
    /// Local administrator accounts.
    #[serde(default)]
    pub admins: Vec<WebAdmin>,
    /// DN of a directory group whose members are administrators.
    #[serde(default)]
    pub admin_group: Option<String>,
    /// How membership in `admin_group` is read from the directory.
    #[serde(default)]
    pub admin_membership: crate::web_auth::AdminMembership,
    /// A session without a request for this long ends.
    #[serde(default = "default_idle", deserialize_with = "units::duration")]
    pub session_idle: Duration,
    /// A session ends this long after its login, however busy.
    #[serde(default = "default_lifetime", deserialize_with = "units::duration")]
    pub session_lifetime: Duration,
    /// Failed logins from one client before it must wait for `login_failure_window`.
    #[serde(default = "default_max_failures")]
    pub login_max_failures: u32,
    #[serde(default = "default_window", deserialize_with = "units::duration")]
    pub login_failure_window: Duration,
    /// `[service.web.portal]`: what users see and change in the portal.
    #[serde(default)]
    pub portal: crate::portal::PortalConfig,
}

/// One `[[service.web.admins]]` account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebAdmin {
    pub name: String,
    pub password_hash: PasswordHash,
}

fn default_idle() -> Duration {
    Duration::from_secs(30 * 60)
}
fn default_lifetime() -> Duration {
    Duration::from_secs(12 * 3600)
}
fn default_max_failures() -> u32 {
    5
}
fn default_window() -> Duration {
    Duration::from_secs(300)
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<SocketAddr>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(SocketAddr),
        Many(Vec<SocketAddr>),
    }
    match OneOrMany::deserialize(d)? {
        OneOrMany::One(a) => Ok(vec![a]),
        OneOrMany::Many(v) if v.is_empty() => Err(serde::de::Error::custom(
            "web.listen needs at least one address (omit [service.web] to disable the console)",
        )),
        OneOrMany::Many(v) => Ok(v),
    }
}

/// What is wrong with a `[service.web]` beyond its types.
pub(crate) fn problems(web: &WebConfig) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in &web.admins {
        if a.name.trim().is_empty() {
            out.push(("service.web.admins", "an admin needs a name".to_owned()));
        } else if !seen.insert(a.name.as_str()) {
            out.push((
                "service.web.admins",
                format!("admin `{}` is listed twice", a.name),
            ));
        }
    }
    if web.session_idle.is_zero() || web.session_lifetime.is_zero() {
        out.push((
            "service.web.session_idle",
            "session_idle and session_lifetime must be longer than 0s".to_owned(),
        ));
    }
    if web.login_max_failures == 0 {
        out.push((
            "service.web.login_max_failures",
            "must be at least 1".to_owned(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> Result<WebConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn listen_is_one_address_or_a_list() {
        let one = parse(r#"listen = "127.0.0.1:8080""#).unwrap();
        assert_eq!(one.listen, vec!["127.0.0.1:8080".parse().unwrap()]);
        let many = parse(r#"listen = ["127.0.0.1:8080", "[::1]:8081"]"#).unwrap();
        assert_eq!(many.listen.len(), 2);
        assert!(parse(r#"listen = []"#).is_err());
        assert!(parse(r#"listen = "nowhere""#).is_err());
    }

    #[test]
    fn defaults_and_durations() {
        let c = parse(
            r#"listen = "127.0.0.1:8080"
session_idle = "10m""#,
        )
        .unwrap();
        assert_eq!(c.session_idle, Duration::from_secs(600));
        assert_eq!(c.session_lifetime, Duration::from_secs(12 * 3600));
        assert!(c.admins.is_empty() && c.tls.is_none());
        assert_eq!(c.portal, crate::portal::PortalConfig::default());
        assert!(problems(&c).is_empty());
    }

    #[test]
    fn admins_need_argon2_hashes_and_distinct_names() {
        let bad = parse(
            r#"listen = "127.0.0.1:8080"
admins = [{ name = "a", password_hash = "plain" }]"#,
        );
        assert!(bad.is_err());
        let h = "$argon2id$v=19$m=19456,t=2,p=1$dW1zZ2F0ZWR1bW15$3mQbqNbnhMOw0mFdbI8Xgk6k2wLoTFjlBSTOGpIH3yQ";
        let twice = parse(&format!(
            r#"listen = "127.0.0.1:8080"
admins = [{{ name = "a", password_hash = "{h}" }}, {{ name = "a", password_hash = "{h}" }}]"#
        ))
        .unwrap();
        assert_eq!(problems(&twice).len(), 1);
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(parse("listen = \"127.0.0.1:8080\"\nport = 1").is_err());
    }
}

//! `service.store` and its companions: where the state store lives and how its pool behaves.
//!
//! Contract: [`StoreLocation::parse`] accepts exactly `"sqlite"` (the embedded store under
//! `state_dir/umsgate.db`) and `postgres://` / `postgresql://` URLs (a PostgreSQL database
//! shared by several nodes); anything else is refused with the reason. [`redact`] is the only
//! form in which a store URL is ever shown (logs, `check`): a password in it is replaced by
//! `***`. The password itself is either in the URL or in `service.store_password_file`, never
//! both; it is read when the configuration is loaded and kept as a
//! [`Secret`](crate::Secret).

use std::time::Duration;

use serde::Deserialize;

use crate::units;

/// Where the state store lives, as `service.store` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// `"sqlite"`: `state_dir/umsgate.db`, this node only.
    Sqlite,
    /// A `postgres://user@host:port/db` URL: shared by every node that names it.
    Postgres(String),
}

impl StoreLocation {
    /// Reads `service.store`; the error says what is accepted.
    pub fn parse(s: &str) -> Result<StoreLocation, String> {
        if s == "sqlite" {
            Ok(StoreLocation::Sqlite)
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(StoreLocation::Postgres(s.to_owned()))
        } else {
            Err(format!(
                "`{}` is neither \"sqlite\" nor a postgres:// URL",
                redact(s)
            ))
        }
    }

    /// Whether the URL carries a password of its own (`user:password@`).
    pub fn has_password(&self) -> bool {
        match self {
            StoreLocation::Sqlite => false,
            StoreLocation::Postgres(url) => userinfo(url).is_some_and(|u| u.contains(':')),
        }
    }
}

/// The `user:password` part of a URL, if it has one.
fn userinfo(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.rsplit_once('@').map(|(u, _)| u)
}

/// The URL with its password (if any) replaced by `***`: safe to log and print.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// `[service.store_pool]`: the connections to a PostgreSQL store (SQLite ignores it).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorePool {
    /// Most connections this process keeps open.
    pub max_connections: u32,
    /// Longest the first connection at start (and `check`'s probe) may take.
    #[serde(deserialize_with = "units::duration")]
    pub connect_timeout: Duration,
    /// Longest a query waits for a connection (including a reconnect after the database was
    /// away); when it passes, the work that needed the store is tried again later.
    #[serde(deserialize_with = "units::duration")]
    pub acquire_timeout: Duration,
}

impl Default for StorePool {
    fn default() -> Self {
        StorePool {
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_redaction() {
        assert_eq!(StoreLocation::parse("sqlite"), Ok(StoreLocation::Sqlite));
        let pg = StoreLocation::parse("postgres://u:pw@h:5432/db").unwrap_or(StoreLocation::Sqlite);
        assert!(pg.has_password());
        assert!(
            !StoreLocation::parse("postgresql://u@h/db")
                .unwrap_or(StoreLocation::Sqlite)
                .has_password()
        );
        assert!(StoreLocation::parse("mysql://u:pw@h/db").is_err_and(|e| !e.contains("pw")));
        assert_eq!(
            redact("postgres://u:s3cret@h:5432/db?sslmode=require"),
            "postgres://u:***@h:5432/db?sslmode=require"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(redact("sqlite"), "sqlite");
    }
}

//! Logins against LDAP: is this the user's password, and is he in the administrators' group?
//!
//! Contract: [`LdapDirectory::verify_password`] never binds with an empty password (an LDAP
//! "unauthenticated bind" with a DN and no password succeeds on most servers without checking
//! anything) and never binds on the shared connection of the lookups: it opens a fresh
//! connection (servers in failover order, TLS as configured), binds as the user's DN, and
//! closes it. Only "invalid credentials" (result 49) is a wrong password; any other refusal of
//! the bind (a locked or expired account, an unwilling server) is [`Login::BindRefused`] with
//! the server's text for the log. A directory that cannot be asked is an error, never a
//! refusal, so the caller can say "try again later".
//!
//! Implementation summary: the entry is found with `sender_filter` (the login name is the
//! user's mail address or an alias), without the cache; two entries for one name refuse the
//! login, since binding as "the first" could let one user in with another's password. Group
//! membership is asked with the service account on the pooled connection, as one base-scope
//! search: the group entry with `(|(member=DN)(uniqueMember=DN))`, or the user's entry with
//! `(memberOf=GROUP)`; the server compares DNs by its own matching rule, so case and spacing
//! differences between the two spellings do not matter. A name no entry has is answered
//! after a bind of the same password as a DN that does not exist, on a fresh connection too,
//! so that it costs what a wrong password costs (measured against slapd over loopback: 0.8 ms
//! either way, within 0.1 ms of each other). `ldap.log` gets one
//! line per login (DN or name, outcome, milliseconds), never the password.

use std::time::Instant;

use ldap3::{LdapConnAsync, LdapConnSettings, Scope};
use umsgate_config::web_auth::AdminMembership;

use super::pool::client_error;
use super::{LdapDirectory, Transport, User, escape};
use crate::{DirectoryError, ErrorKind};

/// Longest password sent to a server; longer ones are refused unread.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// What the directory said about a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// The password is right.
    Bound { user: User, admin: bool },
    /// No entry has this login name.
    NoSuchUser,
    /// Several entries have this login name.
    Ambiguous { count: usize },
    /// Empty or longer than [`MAX_PASSWORD_LEN`]: nothing was sent to the server.
    UnusablePassword,
    /// The server said "invalid credentials".
    WrongPassword { dn: String },
    /// The server refused the bind for another reason (locked, expired, unwilling).
    BindRefused { dn: String, reason: String },
}

/// `web.admin_group` with how membership is read.
#[derive(Debug, Clone, Copy)]
pub struct AdminGroup<'a> {
    pub dn: &'a str,
    pub membership: AdminMembership,
}

impl LdapDirectory {
    /// Checks `password` for the user `login` (a mail address); see the module contract.
    pub async fn verify_password(
        &self,
        login: &str,
        password: &str,
        admin_group: Option<AdminGroup<'_>>,
    ) -> Result<Login, DirectoryError> {
        if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
            return Ok(Login::UnusablePassword);
        }
        let login = login.trim();
        if login.is_empty() {
            return Ok(Login::NoSuchUser);
        }
        let mut users = self.sender_search(login).await?;
        let user = match users.len() {
            0 => {
                // Cost what a wrong password costs: a fresh connection and a refused bind.
                let started = Instant::now();
                let probe = format!(
                    "cn=umsgate-no-such-user,{}",
                    self.settings.base_dns.first().map_or("", String::as_str)
                );
                let r = self.bind_as(&probe, password).await;
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                self.log.line(&format!(
                    "login name={login:?} ms={ms:.1} result=no such entry{}",
                    match r {
                        Err(e) => format!(" probe_error={}", e.detail()),
                        Ok(_) => String::new(),
                    }
                ));
                return Ok(Login::NoSuchUser);
            }
            1 => users.remove(0),
            count => {
                self.log.line(&format!(
                    "login refused name={login:?}: {count} entries have this name"
                ));
                return Ok(Login::Ambiguous { count });
            }
        };
        let dn = user.id.clone();
        let started = Instant::now();
        let outcome = self.bind_as(&dn, password).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let result = match &outcome {
            Ok(None) => "ok".to_owned(),
            Ok(Some((49, _))) => "invalid credentials".to_owned(),
            Ok(Some((rc, text))) => format!("refused result={rc} {text}"),
            Err(e) => format!("error {}", e.detail()),
        };
        self.log
            .line(&format!("login dn={dn:?} ms={ms:.1} result={result}"));
        match outcome? {
            None => {}
            Some((49, _)) => return Ok(Login::WrongPassword { dn }),
            Some((rc, text)) => {
                return Ok(Login::BindRefused {
                    dn,
                    reason: format!("result {rc} {text}"),
                });
            }
        }
        let admin = match admin_group {
            Some(g) => self.is_member(&dn, g).await?,
            None => false,
        };
        Ok(Login::Bound { user, admin })
    }

    /// Binds as `dn` on a new connection: `None` = bound, `Some((rc, text))` = refused.
    async fn bind_as(
        &self,
        dn: &str,
        password: &str,
    ) -> Result<Option<(u32, String)>, DirectoryError> {
        let s = &self.settings;
        let mut errors = Vec::new();
        for server in &s.servers {
            let mut cs = LdapConnSettings::new()
                .set_conn_timeout(s.connect_timeout)
                .set_starttls(server.transport == Transport::StartTls);
            if let Some(c) = self.pool.tls() {
                cs = cs.set_config(std::sync::Arc::clone(c));
            }
            let connected = tokio::time::timeout(
                s.connect_timeout + s.timeout,
                LdapConnAsync::with_settings(cs, &server.client_url()),
            )
            .await;
            let (conn, mut ldap) = match connected {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => {
                    errors.push(format!("{server}: {e}"));
                    continue;
                }
                Err(_) => {
                    errors.push(format!(
                        "{server}: no answer within {:?}",
                        s.connect_timeout
                    ));
                    continue;
                }
            };
            tokio::spawn(async move {
                let _ = conn.drive().await;
            });
            let r = ldap
                .with_timeout(s.timeout)
                .simple_bind(dn, password)
                .await
                .map_err(|e| client_error(format_args!("bind as {dn} on {server}"), e));
            let _ = ldap.unbind().await;
            match r {
                Ok(res) if res.rc == 0 => return Ok(None),
                // busy, unavailable: another server may answer
                Ok(res) if res.rc == 51 || res.rc == 52 => {
                    errors.push(format!("{server}: result {} {}", res.rc, res.text.trim()));
                }
                Ok(res) => return Ok(Some((res.rc, res.text.trim().to_owned()))),
                Err(e) => errors.push(format!("{server}: {}", e.detail())),
            }
        }
        Err(DirectoryError::new(
            ErrorKind::Unreachable,
            format!("no LDAP server answered the login ({})", errors.join("; ")),
        ))
    }

    /// Whether `dn` is in the group, asked with the service account.
    async fn is_member(&self, dn: &str, group: AdminGroup<'_>) -> Result<bool, DirectoryError> {
        let (base, filter) = match group.membership {
            AdminMembership::Group => (
                group.dn,
                format!("(|(member={0})(uniqueMember={0}))", escape(dn)),
            ),
            AdminMembership::MemberOf => (dn, format!("(memberOf={})", escape(group.dn))),
        };
        let timeout = self.settings.timeout;
        let mut last = None;
        for _ in 0..2 {
            let lease = self.pool.get().await?;
            let mut ldap = lease.ldap.clone();
            let r = ldap
                .with_timeout(timeout)
                .search(base, Scope::Base, &filter, vec!["1.1"])
                .await;
            match r {
                Ok(res) => {
                    let found = !res.0.is_empty();
                    let rc = res.1.rc;
                    self.log.line(&format!(
                        "membership base={base:?} filter={filter:?} result={rc} member={}",
                        if found { "yes" } else { "no" }
                    ));
                    return match rc {
                        0 => Ok(found),
                        // the group (or the user) is not there: not a member
                        32 => Ok(false),
                        rc => Err(DirectoryError::new(
                            ErrorKind::Refused,
                            format!(
                                "membership search in {base}: result {rc} {}",
                                res.1.text.trim()
                            ),
                        )),
                    };
                }
                Err(e) => {
                    self.pool.broken(&lease);
                    last = Some(client_error(format_args!("membership search in {base}"), e));
                }
            }
        }
        Err(last.unwrap_or_else(|| {
            DirectoryError::new(ErrorKind::Unreachable, "membership search failed")
        }))
    }
}

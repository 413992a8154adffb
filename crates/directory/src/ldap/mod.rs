//! The LDAP directory (`kind = "ldap"`): Active Directory, OpenLDAP, Domino.
//!
//! Implementation summary:
//! - [`config`]: presets and server URLs; [`filter`]: templates compiled at load, every value
//!   escaped per RFC 4515 at the point of interpolation; [`pool`]: one bound, multiplexed
//!   connection with failover in `servers` order and failback after `failback`; [`cache`]:
//!   found and not-found answers for `cache_ttl`, one search per key at a time.
//! - Inbound: the called number fills `number_filter` as `${UMS}` = its spaced form
//!   ([`crate::NumberQuery`]: as the engine signalled it when that was a spaced canonical
//!   number, else [`SitePlan::spaced`]) and `${UMS}_wHTSPC` = E.164; each of `base_dns` is searched (subtree,
//!   paged when `page_size > 0`), and every distinct entry with a mail address is a recipient.
//! - Outbound: the sender address fills `sender_filter` as `${MAIL}`; several entries → the
//!   first (in `base_dns` order, then server order) with a warning in `ldap.log`.
//! - A search that fails on the connection (I/O, timeout, `busy`/`unavailable`) drops the
//!   connection and runs once more on a new one, which the pool opens on the same or the next
//!   server. Every failure reaching the caller is a [`DirectoryError`] whose kind says whether
//!   it may clear by itself (unreachable, timeout) or was an answer (a refused search).
//! - `ldap.log`: every connect, search (server, base, filter, duration, result count, DNs),
//!   cache hit, write and error. Bind DNs are logged, passwords never.
//! - Logins ([`login`]): the user's own bind on a fresh connection, never the shared one.
//! - Writes ([`LdapDirectory::update_settings`]) go to `write_url` with the write account,
//!   replace the UMS attribute atomically (delete old value + add new value in one modify, so
//!   a concurrent change is detected and retried) and invalidate the cache entries holding
//!   the DN in this process. Another umsgate process (the running instance, when the command
//!   line wrote) sees the change after its `cache_ttl`.

mod cache;
pub use umsgate_config::ldap as config;
pub use umsgate_config::ldap_filter as filter;
mod log;
mod login;
mod pool;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ldap3::adapters::PagedResults;
use ldap3::{Ldap, LdapError, Mod, Scope, SearchEntry};
use umsgate_domain::{PhoneNumber, SitePlan, UserSettings};

use super::{DirectoryError, ErrorKind, NumberQuery, User};
use crate::error::Source as ErrorSource;
use cache::{Cache, Key, Source};
pub use config::{LdapSettings, NumberFilter, SenderFilter, ServerUrl, Transport, apply_preset};
pub use filter::{FilterTemplate, TemplateKind, Values, escape};
pub use log::LdapLog;
pub use login::{AdminGroup, Login, MAX_PASSWORD_LEN};
use pool::{Lease, Pool};
use umsgate_config::DirectoryConfig;
use umsgate_logs::InstanceLogs;

/// An LDAP directory with its connection and cache.
#[derive(Debug)]
pub struct LdapDirectory {
    settings: Arc<LdapSettings>,
    plan: SitePlan,
    pool: Pool,
    cache: Cache,
    log: LdapLog,
    attributes: Vec<String>,
    searches: AtomicU64,
}

/// Why one search attempt failed.
enum Failure {
    /// The connection or the server is unusable: try again on a new connection.
    Connection(DirectoryError),
    /// The server answered with an error that another server would give too.
    Answer(DirectoryError),
}

impl LdapDirectory {
    /// Builds the directory; nothing is connected until the first lookup.
    pub fn new(
        cfg: &DirectoryConfig,
        plan: SitePlan,
        logs: Option<Arc<InstanceLogs>>,
    ) -> Result<LdapDirectory, DirectoryError> {
        let settings = Arc::new(
            LdapSettings::from_config(cfg)
                .map_err(|e| DirectoryError::with_source(ErrorKind::Config, e.to_string(), e))?,
        );
        let log = LdapLog::new(logs);
        let pool = Pool::new(Arc::clone(&settings), log.clone())?;
        Ok(LdapDirectory {
            attributes: settings.attributes(),
            cache: Cache::new(settings.cache_ttl, settings.cache_entries),
            settings,
            plan,
            pool,
            log,
            searches: AtomicU64::new(0),
        })
    }

    /// The resolved settings.
    pub fn settings(&self) -> &LdapSettings {
        &self.settings
    }

    /// LDAP searches sent so far (one per base DN and attempt); cache hits send none.
    pub fn searches(&self) -> u64 {
        self.searches.load(Ordering::Relaxed)
    }

    /// The user who sends from `address`; several entries: the first, with a warning.
    pub async fn by_sender(&self, address: &str) -> Result<Option<User>, DirectoryError> {
        let address = address.trim().trim_start_matches('<').trim_end_matches('>');
        if address.is_empty() {
            return Ok(None);
        }
        let key = Key::Sender(address.to_lowercase());
        let (users, src) = self
            .cache
            .get_or_search(key, || self.sender_search(address))
            .await?;
        if src == Source::Cache {
            self.log
                .line(&format!("cached sender={address} results={}", users.len()));
        }
        Ok(users.first().cloned())
    }

    async fn sender_search(&self, address: &str) -> Result<Vec<User>, DirectoryError> {
        let filter = self
            .settings
            .sender_filter
            .fill(Values::Sender { mail: address });
        let mut users = self.search(&filter).await?;
        if users.len() > 1 {
            self.log.line(&format!(
                "warning several entries for sender={address}: using dn={:?}, ignoring {}",
                users[0].id,
                users[1..]
                    .iter()
                    .map(|u| format!("{:?}", u.id))
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        for u in &mut users {
            if u.mail.is_empty() {
                u.mail = address.to_owned();
            }
        }
        Ok(users)
    }

    /// Every user the number reaches, `${UMS}` spaced by this site's plan (entries without a
    /// mail address are skipped and logged).
    pub async fn by_number(&self, number: &PhoneNumber) -> Result<Vec<User>, DirectoryError> {
        self.by_query(&NumberQuery::by_plan(&self.plan, number.clone()))
            .await
    }

    /// Every user the query reaches, `${UMS}` as the query spaces it (entries without a mail
    /// address are skipped and logged). Cached per spaced form: another spacing of the same
    /// number may find other entries.
    pub async fn by_query(&self, query: &NumberQuery) -> Result<Vec<User>, DirectoryError> {
        let key = Key::Number(query.spaced().to_owned());
        let (users, src) = self
            .cache
            .get_or_search(key, || self.number_search(query))
            .await?;
        if src == Source::Cache {
            self.log.line(&format!(
                "cached number={} spaced={:?} results={}",
                query.number().e164(),
                query.spaced(),
                users.len()
            ));
        }
        Ok(users.as_ref().clone())
    }

    async fn number_search(&self, query: &NumberQuery) -> Result<Vec<User>, DirectoryError> {
        let compact = query.number().e164();
        let filter = self.settings.number_filter.fill(Values::Number {
            spaced: query.spaced(),
            compact: &compact,
        });
        let users = self.search(&filter).await?;
        Ok(users
            .into_iter()
            .filter(|u| {
                if u.mail.is_empty() {
                    self.log.line(&format!(
                        "skipped dn={:?} number={compact}: no {} attribute",
                        u.id, self.settings.mail_attribute
                    ));
                }
                !u.mail.is_empty()
            })
            .collect())
    }

    /// Runs `filter` under every base DN; distinct entries in base order.
    async fn search(&self, filter: &str) -> Result<Vec<User>, DirectoryError> {
        let mut last = None;
        for _ in 0..2 {
            let lease = self.pool.get().await?;
            match self.search_bases(&lease, filter).await {
                Ok(users) => return Ok(users),
                Err(Failure::Answer(e)) => return Err(e),
                Err(Failure::Connection(e)) => {
                    self.pool.broken(&lease);
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| DirectoryError::new(ErrorKind::Unreachable, "search failed")))
    }

    async fn search_bases(&self, lease: &Lease, filter: &str) -> Result<Vec<User>, Failure> {
        let mut users: Vec<User> = Vec::new();
        for base in &self.settings.base_dns {
            for u in self.search_one(lease, base, filter).await? {
                if !users.iter().any(|x| x.id.eq_ignore_ascii_case(&u.id)) {
                    users.push(u);
                }
            }
        }
        Ok(users)
    }

    async fn search_one(
        &self,
        lease: &Lease,
        base: &str,
        filter: &str,
    ) -> Result<Vec<User>, Failure> {
        self.searches.fetch_add(1, Ordering::Relaxed);
        let server = self.pool.server(lease.server);
        let started = Instant::now();
        let r = self.run_search(lease.ldap.clone(), base, filter).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let fail = |e: DirectoryError| {
            self.log.line(&format!(
                "error op=search server={server} base={base:?} filter={filter:?} ms={ms:.2} error={}",
                e.detail()
            ));
            e.context(format_args!("search on {server}"))
        };
        match r {
            Ok((entries, rc, text)) => {
                let note = match rc {
                    0 => String::new(),
                    4 => " warning=size limit exceeded, results incomplete".to_owned(),
                    32 => " warning=base DN does not exist".to_owned(),
                    10 => " warning=referral not followed".to_owned(),
                    _ => String::new(),
                };
                let dns: Vec<String> = entries.iter().map(|e| format!("{:?}", e.dn)).collect();
                self.log.line(&format!(
                    "search server={server} base={base:?} filter={filter:?} ms={ms:.2} results={} dns=[{}]{note}",
                    entries.len(),
                    dns.join(",")
                ));
                match rc {
                    0 | 4 | 10 | 32 => Ok(entries.into_iter().map(|e| self.to_user(e)).collect()),
                    // busy, unavailable, unwilling, other: another server may do better
                    51 | 52 | 53 | 80 => Err(Failure::Connection(fail(DirectoryError::new(
                        ErrorKind::Unreachable,
                        format!("result {rc} {text}"),
                    )))),
                    _ => Err(Failure::Answer(fail(DirectoryError::new(
                        ErrorKind::Refused,
                        format!("result {rc} {text}"),
                    )))),
                }
            }
            Err(e) => Err(Failure::Connection(fail(e))),
        }
    }

    async fn run_search(
        &self,
        mut ldap: Ldap,
        base: &str,
        filter: &str,
    ) -> Result<(Vec<SearchEntry>, u32, String), DirectoryError> {
        let timeout = self.settings.timeout;
        let attrs: &[String] = &self.attributes;
        let fut = async {
            let mut entries = Vec::new();
            if self.settings.page_size > 0 {
                let page = i32::try_from(self.settings.page_size).unwrap_or(i32::MAX);
                let mut stream = ldap
                    .with_timeout(timeout)
                    .streaming_search_with(
                        PagedResults::new(page),
                        base,
                        Scope::Subtree,
                        filter,
                        attrs,
                    )
                    .await?;
                while let Some(e) = stream.next().await? {
                    if !e.is_ref() && !e.is_intermediate() {
                        entries.push(SearchEntry::construct(e));
                    }
                }
                let res = stream.finish().await;
                Ok((entries, res.rc, res.text))
            } else {
                let res = ldap
                    .with_timeout(timeout)
                    .search(base, Scope::Subtree, filter, attrs)
                    .await?;
                let entries = res
                    .0
                    .into_iter()
                    .filter(|e| !e.is_ref() && !e.is_intermediate())
                    .map(SearchEntry::construct)
                    .collect();
                Ok((entries, res.1.rc, res.1.text))
            }
        };
        let r: Result<_, LdapError> = match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => {
                return Err(DirectoryError::new(
                    ErrorKind::Timeout,
                    format!("no answer within {timeout:?}"),
                ));
            }
        };
        r.map_err(|e| {
            let kind = match e {
                LdapError::Timeout { .. } => ErrorKind::Timeout,
                _ => ErrorKind::Unreachable,
            };
            DirectoryError::with_source(kind, e.to_string(), e)
        })
    }

    fn to_user(&self, e: SearchEntry) -> User {
        let mut attributes = BTreeMap::new();
        for (k, v) in e.attrs {
            if let Some(first) = v.into_iter().next() {
                attributes.insert(k, first);
            }
        }
        let get = |name: &str| {
            attributes
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        User {
            mail: get(&self.settings.mail_attribute).unwrap_or_default(),
            name: get(&self.settings.name_attribute).unwrap_or_default(),
            ums: get(&self.settings.ums_attribute),
            id: e.dn,
            attributes,
        }
    }

    /// The entries `target` (an address, or a number as typed) finds, bypassing the cache.
    /// A target that is neither an address nor a number is [`ErrorKind::Target`].
    pub async fn find(&self, target: &str) -> Result<Vec<User>, DirectoryError> {
        if target.contains('@') {
            self.sender_search(target).await
        } else {
            let n = self.plan.normalise(target).map_err(|e| {
                DirectoryError::with_source(
                    ErrorKind::Target,
                    format!("`{target}` is neither an address nor a number: {e}"),
                    e,
                )
            })?;
            self.number_search(&NumberQuery::by_plan(&self.plan, n))
                .await
        }
    }

    /// Rewrites the UMS attribute of the sender `address` with `edit` applied to its current
    /// settings; returns the entry's DN and the new attribute value. Unknown keys are kept.
    /// A malformed attribute is [`ErrorKind::BadData`].
    ///
    /// An error of `edit` ends the rewrite as [`ErrorKind::Edit`], with it as the source.
    pub async fn update_settings<E: Into<ErrorSource>>(
        &self,
        address: &str,
        edit: impl Fn(&mut UserSettings) -> Result<(), E>,
    ) -> Result<(String, String), DirectoryError> {
        self.rewrite_settings(address, Malformed::Refuse, edit)
            .await
    }

    /// [`LdapDirectory::update_settings`], with a malformed attribute either refused or
    /// replaced ([`Malformed::Replace`]: `edit` starts from empty settings; the value replaced
    /// is the one read, so a concurrent change is read again).
    pub async fn rewrite_settings<E: Into<ErrorSource>>(
        &self,
        address: &str,
        malformed: Malformed,
        edit: impl Fn(&mut UserSettings) -> Result<(), E>,
    ) -> Result<(String, String), DirectoryError> {
        let users = self.sender_search(address).await?;
        let user = users.first().ok_or_else(|| {
            DirectoryError::new(
                ErrorKind::NotFound,
                format!("no directory entry for {address}"),
            )
        })?;
        let dn = user.id.clone();
        let s = &self.settings;
        let mut errors = Vec::new();
        let mut kind = ErrorKind::Refused;
        let mut conn = None;
        for server in &s.write_urls {
            match pool::connect(
                server,
                &s.write,
                self.pool.tls(),
                s.connect_timeout,
                s.timeout,
            )
            .await
            {
                Ok(l) => {
                    conn = Some((server, l));
                    break;
                }
                Err(e) => {
                    self.log.line(&format!(
                        "error op=connect server={server} error={}",
                        e.detail()
                    ));
                    if e.is_temporary() {
                        kind = ErrorKind::Unreachable;
                    }
                    errors.push(format!("{server}: {}", e.detail()));
                }
            }
        }
        let Some((server, mut ldap)) = conn else {
            return Err(DirectoryError::new(kind, errors.join("; ")));
        };
        let attr = s.ums_attribute.clone();
        // Read from the server we write to; retry once if someone changed it in between.
        let mut result = Err(DirectoryError::new(ErrorKind::Conflict, String::new()));
        for _ in 0..3 {
            let (entries, _) = ldap
                .with_timeout(s.timeout)
                .search(&dn, Scope::Base, "(objectClass=*)", vec![attr.as_str()])
                .await
                .and_then(|r| r.success())
                .map_err(|e| {
                    let kind = match e {
                        LdapError::LdapResult { .. } => ErrorKind::Refused,
                        LdapError::Timeout { .. } => ErrorKind::Timeout,
                        _ => ErrorKind::Unreachable,
                    };
                    DirectoryError::with_source(kind, format!("read {dn}: {e}"), e)
                })?;
            let current = entries
                .into_iter()
                .next()
                .map(SearchEntry::construct)
                .and_then(|e| {
                    e.attrs
                        .into_iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(&attr))
                        .and_then(|(_, v)| v.into_iter().next())
                });
            let mut settings = match current.as_deref() {
                None | Some("") => UserSettings::new(),
                Some(v) if malformed == Malformed::Replace && UserSettings::parse(v).is_err() => {
                    UserSettings::new()
                }
                Some(v) => UserSettings::parse(v).map_err(|e| {
                    DirectoryError::with_source(
                        ErrorKind::BadData,
                        format!("{attr} of {dn} is malformed ({e}); fix or clear it first: `{v}`"),
                        e,
                    )
                })?,
            };
            edit(&mut settings).map_err(|e| {
                let e: ErrorSource = e.into();
                DirectoryError::with_source(ErrorKind::Edit, e.to_string(), e)
            })?;
            let new = settings.to_attribute();
            let mut mods = Vec::new();
            if let Some(old) = &current {
                mods.push(Mod::Delete(attr.clone(), HashSet::from([old.clone()])));
            }
            mods.push(Mod::Add(attr.clone(), HashSet::from([new.clone()])));
            let started = Instant::now();
            let r = ldap.with_timeout(s.timeout).modify(&dn, mods).await;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            match r {
                Ok(res) if res.rc == 0 => {
                    self.log.line(&format!(
                        "modify server={server} bind_dn={} dn={dn:?} attribute={attr} ms={ms:.2} value={new:?}",
                        s.write.dn
                    ));
                    result = Ok((dn.clone(), new));
                    break;
                }
                // noSuchAttribute / attributeOrValueExists: changed meanwhile, read again
                Ok(res) if res.rc == 16 || res.rc == 20 => {
                    self.log.line(&format!(
                        "retry op=modify dn={dn:?} reason=changed concurrently"
                    ));
                    result = Err(DirectoryError::new(
                        ErrorKind::Conflict,
                        format!("{dn} changed concurrently, try again"),
                    ));
                }
                Ok(res) => {
                    let e = format!("modify {dn}: result {} {}", res.rc, res.text.trim());
                    self.log
                        .line(&format!("error op=modify server={server} {e}"));
                    result = Err(DirectoryError::new(ErrorKind::Refused, e));
                    break;
                }
                Err(e) => {
                    let e = pool::client_error(format_args!("modify {dn}"), e);
                    self.log
                        .line(&format!("error op=modify server={server} {}", e.detail()));
                    result = Err(e);
                    break;
                }
            }
        }
        let _ = ldap.unbind().await;
        if result.is_ok() {
            let n = self
                .cache
                .invalidate(&dn, &[Key::Sender(address.to_lowercase())]);
            self.log
                .line(&format!("invalidate dn={dn:?} cache_entries={n}"));
        }
        result
    }

    /// `umsgate check`: connect to every server, bind, and run both templates once.
    ///
    /// The error gathers every failure; it is temporary when one of them is.
    pub async fn check(&self) -> Result<String, DirectoryError> {
        let s = &self.settings;
        let mut ok = Vec::new();
        let mut failed = Vec::new();
        let mut kind = None;
        let mut note = |e: &DirectoryError| {
            if e.is_temporary() {
                kind = Some(ErrorKind::Unreachable);
            } else {
                kind.get_or_insert(e.kind());
            }
        };
        for server in &s.servers {
            match pool::connect(
                server,
                &s.read,
                self.pool.tls(),
                s.connect_timeout,
                s.timeout,
            )
            .await
            {
                Ok(mut l) => {
                    ok.push(format!("{server} bound"));
                    let _ = l.unbind().await;
                }
                Err(e) => {
                    note(&e);
                    failed.push(format!("{server}: {}", e.detail()));
                }
            }
        }
        let sample_number = self.plan.normalise(&format!(
            "+{}{}{}",
            self.plan.country_code(),
            self.plan.area_code(),
            self.plan.subscriber()
        ));
        let mut lines = Vec::new();
        match sample_number {
            Ok(n) => match self
                .number_search(&NumberQuery::by_plan(&self.plan, n.clone()))
                .await
            {
                Ok(u) => lines.push(format!(
                    "number_filter ok ({} entries for {})",
                    u.len(),
                    self.plan.spaced(&n)
                )),
                Err(e) => {
                    note(&e);
                    failed.push(format!("number_filter: {}", e.detail()));
                }
            },
            Err(e) => {
                note(&DirectoryError::new(ErrorKind::Config, String::new()));
                failed.push(format!("number_filter: no sample number: {e}"));
            }
        }
        match self.sender_search("umsgate-check@invalid").await {
            Ok(u) => lines.push(format!("sender_filter ok ({} entries)", u.len())),
            Err(e) => {
                note(&e);
                failed.push(format!("sender_filter: {}", e.detail()));
            }
        }
        match kind {
            None => Ok(format!("{}; {}", ok.join(", "), lines.join(", "))),
            Some(kind) => Err(DirectoryError::new(
                kind,
                format!(
                    "{}{}",
                    failed.join("; "),
                    if ok.is_empty() {
                        String::new()
                    } else {
                        format!(" (ok: {})", ok.join(", "))
                    }
                ),
            )),
        }
    }
}

/// `umsgate check` for an LDAP directory: bind to every server and run both templates once.
pub async fn check(cfg: &DirectoryConfig, plan: &SitePlan) -> Result<String, DirectoryError> {
    LdapDirectory::new(cfg, plan.clone(), None)?.check().await
}

/// What a rewrite does with a UMS attribute that does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// [`ErrorKind::BadData`]: nothing is written (the user's and the command line's writes).
    Refuse,
    /// Replaced by what the edit makes of empty settings (an administrator's repair).
    Replace,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;
    use umsgate_domain::SitePlanFields;

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

    fn config(servers: Vec<String>) -> DirectoryConfig {
        DirectoryConfig {
            servers,
            base_dns: vec!["dc=example,dc=com".into()],
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(2),
            cache_ttl: Duration::ZERO,
            ..DirectoryConfig::default()
        }
    }

    #[tokio::test]
    async fn an_unreachable_server_is_temporary() {
        // a port that was just free: nothing listens there
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = LdapDirectory::new(
            &config(vec![format!("ldap://127.0.0.1:{port}")]),
            plan(),
            None,
        )
        .unwrap();
        let e = d.by_sender("jane@example.com").await.unwrap_err();
        assert!(e.is_temporary(), "{e:?}");
        assert_eq!(e.kind(), ErrorKind::Unreachable);
        assert!(!e.is_config());
        assert!(
            e.to_string()
                .starts_with("directory unavailable: no LDAP server answered (ldap://127.0.0.1:"),
            "{e}"
        );
        let e = d.check().await.unwrap_err();
        assert!(e.is_temporary(), "{e:?}");
    }

    #[test]
    fn a_configuration_that_cannot_work_is_not_temporary() {
        let e = LdapDirectory::new(&config(Vec::new()), plan(), None).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.is_config() && !e.is_temporary());
        assert_eq!(e.to_string(), "kind = \"ldap\" needs servers");
        assert!(std::error::Error::source(&e).is_some());
        let mut cfg = config(vec!["ldaps://127.0.0.1:1".into()]);
        cfg.ca = Some("/nonexistent/umsgate-ca.pem".into());
        let e = LdapDirectory::new(&cfg, plan(), None).unwrap_err();
        assert!(e.is_config() && !e.is_temporary(), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("cannot read CA file /nonexistent/umsgate-ca.pem: "),
            "{e}"
        );
        assert!(std::error::Error::source(&e).is_some());
    }
}

//! The web server (`[service.web]`) and the administrators' console.
//!
//! Contract: [`Web::router`] answers every route with the security headers of
//! [`security_headers`]; every page but `/login` and `/static/…` needs a session (without
//! one: a redirect to `/login`), and every console page needs an administrator's session
//! (anyone else: 403). Every unsafe request (POST) passes [`csrf`]'s checks or is refused
//! with 403 before it changes anything. No page ever shows a password, a hash or a secret:
//! the configuration is shown with every such value replaced ([`pages::info`]). Values from
//! mail (subjects, addresses, log lines) are escaped by the templates' HTML auto-escaping.
//!
//! | module | what it does |
//! |---|---|
//! | [`server`] | listeners (plain or TLS), connections, graceful stop, client address |
//! | [`session`] | signed session cookies, idle and absolute timeouts |
//! | [`csrf`] | Origin / Sec-Fetch-Site and per-session token checks |
//! | [`login`] | the password check ([`login::Authenticator`]) and the failure limit |
//! | [`auth`] | directory logins (LDAP bind, users file) and the limiter per client and name |
//! | [`portal`] | the self-service portal's view of a user and its checked writes |
//! | [`pages::journal`] | the message journal: `/journal` (admins), `/portal/messages` (a user's own) |
//! | [`i18n`] | the console's words in the seven report languages |
//! | [`templates`] | the embedded (or overridden) MiniJinja templates |
//! | [`queue_index`] | the queue folders' index (a page costs a page, not a folder scan) |
//! | [`pages`] | the handlers: dashboard, queues, logs, information, instances, test message, users |
//!
//! Implementation summary: axum's `Router` over an `Arc<Web>`; handlers take a [`Ctx`] (the
//! request's session, language and client) through the [`Admin`] extractor, and render
//! templates with [`Web::page`].

/// HTTP-level tests of the message journal's routes.
#[cfg(test)]
mod tests_journal;

pub mod auth;
pub mod csrf;
pub mod i18n;
pub mod login;
pub mod pages;
pub mod portal;
pub mod queue_index;
pub mod server;
pub mod session;
pub mod templates;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_instances;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header::{
    ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE, LOCATION, REFERRER_POLICY,
    SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use umsgate_domain::Language;

use crate::config::Config;
use crate::config::units::Cidr;
use crate::store::Store;
use session::{Principal, Role, Session, Sessions};

/// The content security policy of every answer: nothing inline, nothing from elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The peer of a connection, put into each request by [`server`].
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// An instance the process runs, for the dashboard.
#[derive(Debug, Clone)]
pub struct Running {
    pub id: String,
    pub listen: Vec<SocketAddr>,
    /// The instance's directory: its users log in to the portal with it.
    pub directory: Arc<crate::directory::Directory>,
}

/// What the console shows of the running process: the configuration the instances run on
/// and the instances that run. The supervisor hands a new one over on every (re)load.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub config: Arc<Config>,
    pub running: Vec<Running>,
    /// Per running instance: wakes its inbound worker (a test message was written).
    pub wake_inbound: Vec<(String, Arc<tokio::sync::Notify>)>,
}

/// Everything the handlers share.
pub struct Web {
    /// The configuration at start: its `[service]` is the one that applies until a restart.
    /// The instances the process runs now are [`Web::current`]'s.
    pub config: Arc<Config>,
    /// The configuration of the last (re)load ([`Web::follow`]).
    pub live: std::sync::RwLock<Arc<Config>>,
    /// Asks the supervisor to re-read the configuration file (as SIGHUP does); `None` when
    /// the console runs without one (tests).
    pub reload: Option<tokio::sync::mpsc::Sender<crate::supervisor::ReloadRequest>>,
    /// The instances' directories for portal logins, when they log in through them.
    pub logins: Option<Arc<auth::DirectoryLogins>>,
    /// The running instances' inbound wake-ups ([`Snapshot::wake_inbound`]).
    pub wake_inbound: std::sync::RwLock<Vec<(String, Arc<tokio::sync::Notify>)>>,
    /// The supervisor's view, to take over at once after a reload the console asked for.
    pub snapshots: Option<tokio::sync::watch::Receiver<Snapshot>>,
    pub sessions: Sessions,
    pub auth: Arc<dyn login::Authenticator>,
    pub limiter: auth::LoginLimiter,
    pub templates: templates::Templates,
    pub index: queue_index::QueueIndex,
    /// The state store (the journal's index, print-unread's pending faxes) once it could be
    /// opened: read it with [`Web::store`]; [`start`] keeps trying while it cannot.
    pub store: std::sync::RwLock<Option<Store>>,
    pub trusted_proxies: Vec<Cidr>,
    /// The server speaks TLS (cookies get `Secure`).
    pub tls: bool,
    pub running: std::sync::RwLock<Vec<Running>>,
    /// The cover names the portal offers, read at its first use.
    pub portal_covers: std::sync::OnceLock<Vec<String>>,
}

impl std::fmt::Debug for Web {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Web")
            .field("config", &self.config.path)
            .finish_non_exhaustive()
    }
}

/// Why the web server cannot start.
#[derive(Debug)]
pub enum WebError {
    Key(session::KeyError),
    Templates(templates::TemplateError),
    Tls(crate::config::TlsFilesError),
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebError::Key(e) => write!(f, "web console: {e}"),
            WebError::Templates(e) => write!(f, "web console: {e}"),
            WebError::Tls(e) => write!(f, "web console: {e}"),
            WebError::Bind { addr, source } => {
                write!(f, "web console: cannot listen on {addr}: {source}")
            }
        }
    }
}

impl std::error::Error for WebError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WebError::Key(e) => Some(e),
            WebError::Templates(e) => Some(e),
            WebError::Tls(e) => Some(e),
            WebError::Bind { source, .. } => Some(source),
        }
    }
}

impl Web {
    /// The console of `config` (which must have `[service.web]`), with the admins of its
    /// configuration as the only accounts unless `auth` is given.
    pub async fn new(
        config: Arc<Config>,
        auth: Option<Arc<dyn login::Authenticator>>,
    ) -> Result<Web, WebError> {
        let web = config.service.web.clone();
        let key = session::load_or_create_key(&config.service.state_dir).map_err(WebError::Key)?;
        let (idle, lifetime, max_failures, window) = web.as_ref().map_or(
            (
                std::time::Duration::from_secs(1800),
                std::time::Duration::from_secs(43_200),
                5,
                std::time::Duration::from_secs(300),
            ),
            |w| {
                (
                    w.session_idle,
                    w.session_lifetime,
                    w.login_max_failures,
                    w.login_failure_window,
                )
            },
        );
        let auth = auth.unwrap_or_else(|| {
            Arc::new(login::ConfigAdmins::new(
                web.as_ref().map(|w| w.admins.clone()).unwrap_or_default(),
            ))
        });
        let templates = templates::Templates::load(config.service.templates_dir.as_deref())
            .map_err(WebError::Templates)?;
        let store = open_store(&config).await;
        Ok(Web {
            sessions: Sessions::new(&key, session::Limits { idle, lifetime }),
            auth,
            limiter: auth::LoginLimiter::new(auth::Limit::from_window(max_failures, window)),
            templates,
            index: queue_index::QueueIndex::default(),
            store: std::sync::RwLock::new(store),
            trusted_proxies: web
                .as_ref()
                .map(|w| w.trusted_proxies.clone())
                .unwrap_or_default(),
            tls: web.as_ref().is_some_and(|w| w.tls.is_some()),
            running: std::sync::RwLock::new(Vec::new()),
            portal_covers: std::sync::OnceLock::new(),
            live: std::sync::RwLock::new(Arc::clone(&config)),
            reload: None,
            logins: None,
            snapshots: None,
            wake_inbound: std::sync::RwLock::new(Vec::new()),
            config,
        })
    }

    /// The state store, when it is open.
    pub fn store(&self) -> Option<Store> {
        self.store.read().ok().and_then(|s| s.clone())
    }

    /// The configuration the running instances were (re)loaded from.
    pub fn current(&self) -> Arc<Config> {
        self.live
            .read()
            .map_or_else(|_| Arc::clone(&self.config), |c| Arc::clone(&c))
    }

    /// Takes over what the supervisor (re)loaded: the configuration, the running instances
    /// and their directories for portal logins.
    pub fn follow(&self, snapshot: Snapshot) {
        if let Some(logins) = &self.logins {
            logins.set_directories(user_directories(&snapshot.running));
        }
        if let Ok(mut c) = self.live.write() {
            *c = snapshot.config;
        }
        if let Ok(mut w) = self.wake_inbound.write() {
            *w = snapshot.wake_inbound;
        }
        if let Ok(mut r) = self.running.write() {
            *r = snapshot.running;
        }
    }

    /// Every route of the console.
    pub fn router(self: &Arc<Web>) -> Router {
        Router::new()
            .route("/", get(pages::dashboard::dashboard))
            .route(
                "/login",
                get(pages::auth::login_form).post(pages::auth::login),
            )
            .route("/logout", post(pages::auth::logout))
            .route("/lang/{code}", get(pages::auth::language))
            .route("/queues", get(pages::queues::list))
            .route("/queues/{instance}/{state}/{id}", get(pages::queues::show))
            .route(
                "/queues/{instance}/{state}/{id}/eml",
                get(pages::queues::download),
            )
            .route(
                "/queues/{instance}/{state}/{id}/requeue",
                post(pages::queues::requeue),
            )
            .route(
                "/queues/{instance}/{state}/{id}/delete",
                post(pages::queues::delete),
            )
            .route("/logs", get(pages::logs::view))
            .route("/logs/tail", get(pages::logs::tail_page))
            .route("/logs/download", get(pages::logs::download))
            .route("/logs/clear", post(pages::logs::clear))
            .route("/info", get(pages::info::info))
            .route("/journal", get(pages::journal::admin_list))
            .route("/journal/{instance}/{id}", get(pages::journal::admin_show))
            .route(
                "/journal/{instance}/{id}/eml",
                get(pages::journal::admin_download),
            )
            .route(
                "/journal/{instance}/{id}/resend",
                post(pages::journal::resend),
            )
            .route(
                "/journal/{instance}/{id}/delete",
                post(pages::journal::delete),
            )
            .route("/portal/messages", get(pages::journal::mine))
            .route(
                "/portal/messages/{instance}/{id}",
                get(pages::journal::mine_show),
            )
            .route(
                "/portal/messages/{instance}/{id}/eml",
                get(pages::journal::mine_download),
            )
            .route(
                "/portal",
                get(pages::portal::show).post(pages::portal::save),
            )
            .route(
                "/test",
                get(pages::test_message::form)
                    .post(pages::test_message::send)
                    .layer(axum::extract::DefaultBodyLimit::max(
                        pages::test_message::MAX_UPLOAD,
                    )),
            )
            .route("/instances", get(pages::instances::list))
            .route("/instances/{id}", get(pages::instances::show))
            .route("/instances/{id}/enable", post(pages::instances::enable))
            .route("/instances/{id}/disable", post(pages::instances::disable))
            .route("/users", get(pages::users::show).post(pages::users::save))
            .route("/static/{file}", get(pages::static_file))
            .fallback(pages::not_found)
            .layer(axum::middleware::from_fn(security_headers))
            .with_state(Arc::clone(self))
    }

    /// The client of a request: the peer, or behind a trusted proxy the last address of
    /// `X-Forwarded-For` that is not a trusted proxy itself.
    pub fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
        let peer = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.ip());
        if !self.trusted_proxies.iter().any(|c| c.contains(peer)) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in forwarded.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.trusted_proxies.iter().any(|c| c.contains(ip)) => continue,
                Ok(ip) => return ip,
                Err(_) => return peer,
            }
        }
        peer
    }

    /// Renders template `name` with `ctx`'s common values and `values`.
    pub fn page(
        &self,
        ctx: &Ctx,
        status: StatusCode,
        name: &str,
        values: minijinja::Value,
    ) -> Response {
        let common = minijinja::context! {
            lang => i18n::code(ctx.lang),
            languages => i18n::all().map(|(l, c)| (c, i18n::native_name(l))).collect::<Vec<_>>(),
            user => ctx.session.as_ref().map(|s| s.principal.name.clone()),
            admin => ctx.is_admin(),
            csrf => ctx.session.as_ref().map(|s| s.csrf.clone()),
            path => ctx.path.clone(),
            version => env!("CARGO_PKG_VERSION"),
        };
        match self
            .templates
            .render(name, minijinja::context! { ..values, ..common })
        {
            Ok(html) => (
                status,
                [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(event = "web.template", template = name, error = %e);
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    i18n::text(ctx.lang, "error.internal"),
                )
                    .into_response()
            }
        }
    }

    /// An error page with the message `key`.
    pub fn error(&self, ctx: &Ctx, status: StatusCode, key: &str) -> Response {
        self.page(
            ctx,
            status,
            "error.html",
            minijinja::context! { message => i18n::text(ctx.lang, key) },
        )
    }
}

/// What every handler knows about its request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub session: Option<Session>,
    pub lang: Language,
    pub client: IpAddr,
    /// The path and query, for the language switch's way back.
    pub path: String,
    pub headers: HeaderMap,
}

impl Ctx {
    pub fn is_admin(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.principal.role == Role::Admin)
    }

    pub fn principal(&self) -> Option<&Principal> {
        self.session.as_ref().map(|s| &s.principal)
    }

    /// The CSRF checks of an unsafe request with the token it sent.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), csrf::CsrfRefusal> {
        csrf::check_origin(&self.headers)?;
        let expected = self.session.as_ref().map_or("", |s| s.csrf.as_str());
        let header = self
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok());
        csrf::check_token(sent.or(header), expected)
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<Arc<Web>> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Ctx, Self::Rejection> {
        let headers = parts.headers.clone();
        let session = cookie(&headers, session::COOKIE).and_then(|c| web.sessions.touch(c));
        let lang = i18n::negotiate(
            cookie(&headers, i18n::COOKIE),
            headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
        );
        let peer = parts.extensions.get::<PeerAddr>().map(|p| p.0);
        Ok(Ctx {
            session,
            lang,
            client: web.client(peer, &headers),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            headers,
        })
    }
}

/// A request of a logged-in administrator; anyone else is sent to the login (no session)
/// or refused with 403 (a user's session).
#[derive(Debug, Clone)]
pub struct Admin(pub Ctx);

impl FromRequestParts<Arc<Web>> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Admin, Response> {
        let Ok(ctx) = Ctx::from_request_parts(parts, web).await;
        if ctx.session.is_none() {
            let next = urlencode(&ctx.path);
            return Err(redirect(&format!("/login?next={next}")));
        }
        if !ctx.is_admin() {
            return Err(web.error(&ctx, StatusCode::FORBIDDEN, "error.forbidden"));
        }
        Ok(Admin(ctx))
    }
}

/// A `303 See Other` to `to`.
pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// A local path to go back to: only `/…` (not `//host`), else `/`.
pub fn local_path(p: Option<&str>) -> String {
    match p {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/".to_owned(),
    }
}

/// Percent-encodes everything but unreserved characters.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Adds the security headers to every answer; pages are not cached.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !is_static && !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

/// Appends a `Set-Cookie` header.
pub fn set_cookie(r: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().append(SET_COOKIE, v);
    }
}

/// The portal-login directories of `running`, in its order.
fn user_directories(running: &[Running]) -> Vec<auth::UserDirectory> {
    running
        .iter()
        .filter_map(|r| {
            Some(auth::UserDirectory {
                instance: r.id.parse().ok()?,
                directory: Arc::clone(&r.directory),
            })
        })
        .collect()
}

/// How often [`start`] tries again to open a state store that could not be opened.
const STORE_RETRY: std::time::Duration = std::time::Duration::from_secs(10);

/// The state store of `config`: the shared PostgreSQL database, or the SQLite file once the
/// instances have made it; `None` when it cannot be opened (now).
async fn open_store(config: &Config) -> Option<Store> {
    let shared = matches!(
        crate::config::store::StoreLocation::parse(config.service.store.get_ref()),
        Ok(crate::config::store::StoreLocation::Postgres(_))
    );
    let db = config.service.state_dir.join("umsgate.db");
    let opened = if shared {
        Store::connect(&config.service).await
    } else if db.exists() {
        Store::open(&db).await
    } else {
        return None;
    };
    opened
        .map_err(|e| tracing::warn!(event = "web.store", error = %e, "the console cannot open the state store yet"))
        .ok()
}

/// Tries `every` (in the service: [`STORE_RETRY`]) to open the state store until it opens, so
/// that the journal and print-unread pages work once the database is back without a restart.
pub(crate) async fn open_store_later(web: Arc<Web>, every: std::time::Duration) {
    while web.store().is_none() {
        tokio::time::sleep(every).await;
        if let Some(store) = open_store(&web.config).await {
            if let Ok(mut s) = web.store.write() {
                *s = Some(store);
            }
            tracing::info!(
                event = "web.store_open",
                "the console opened the state store"
            );
        }
    }
}

/// Starts the console of `config` when it has `[service.web]`, beside the instances of the
/// supervisor's `snapshots` (followed on every reload); `reload` asks the supervisor to
/// re-read the file. `None` when the console is not configured.
pub async fn start(
    config: &Config,
    mut snapshots: tokio::sync::watch::Receiver<Snapshot>,
    reload: Option<tokio::sync::mpsc::Sender<crate::supervisor::ReloadRequest>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<Option<server::WebServer>, WebError> {
    let Some(settings) = config.service.web.clone() else {
        return Ok(None);
    };
    let tls = match &settings.tls {
        Some(t) => Some(t.server_config().map_err(WebError::Tls)?),
        None => None,
    };
    // The admin accounts first, then the instances' directories.
    let first = snapshots.borrow_and_update().clone();
    let logins = Arc::new(auth::DirectoryLogins::new(
        &settings,
        user_directories(&first.running),
    ));
    let chain: Arc<dyn login::Authenticator> = Arc::new(login::Chain(vec![
        Arc::new(login::ConfigAdmins::new(settings.admins.clone())),
        Arc::clone(&logins) as Arc<dyn login::Authenticator>,
    ]));
    let mut web = Web::new(Arc::new(config.clone()), Some(chain)).await?;
    web.reload = reload;
    web.logins = Some(logins);
    web.snapshots = Some(snapshots.clone());
    let web = Arc::new(web);
    web.follow(first);
    if settings.admins.is_empty() && settings.admin_group.is_none() {
        tracing::warn!(
            event = "web.no_admins",
            "[service.web] has no admins and no admin_group: nobody can log in to the console"
        );
    }
    tokio::spawn(pages::queues::warm(Arc::clone(&web)));
    if web.store().is_none() {
        tokio::spawn(open_store_later(Arc::clone(&web), STORE_RETRY));
    }
    // Every (re)load of the supervisor reaches the console.
    let follower = Arc::clone(&web);
    let mut stop = shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = snapshots.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let snapshot = snapshots.borrow_and_update().clone();
                    follower.follow(snapshot);
                }
                _ = stop.changed() => break,
            }
        }
    });
    let router = web.router();
    server::WebServer::bind(&settings.listen, tls, router, shutdown)
        .await
        .map(Some)
}

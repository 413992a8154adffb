//! HTTP-level tests of every console route, through the router (no socket).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use tower::ServiceExt;

use super::login::{AuthError, Authenticator, BoxFuture};
use super::session::{Principal, Role};
use super::{PeerAddr, Web};
use crate::config::Config;
use crate::spool::QueueId;

const CONFIG: &str = r#"
[service]
state_dir = "state"
log_dir = "log"

[service.web]
listen = "127.0.0.1:0"
login_max_failures = 3

[[instance]]
id = "inst1"
name = "Head office"

[instance.smtp_in]
listen = ["127.0.0.1:0"]

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"

[instance.directory]
kind = "file"
path = "users.toml"
bind_password = "ldap-very-secret"
"#;

/// Knows `admin` and `user`, both with password `pw`.
pub(super) struct Double;

impl Authenticator for Double {
    fn authenticate<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, AuthError>> {
        Box::pin(async move {
            let role = match (name, password) {
                ("admin", "pw") => Role::Admin,
                ("user", "pw") => Role::User,
                _ => return Ok(None),
            };
            Ok(Some(Principal {
                name: name.to_owned(),
                role,
            }))
        })
    }
}

pub(super) struct T {
    pub(super) dir: PathBuf,
    pub(super) web: Arc<Web>,
    pub(super) router: axum::Router,
}

impl Drop for T {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn setup() -> T {
    setup_with(CONFIG).await
}

/// The console of the configuration `text`, with the folders of `inst1`.
pub(super) async fn setup_with(text: &str) -> T {
    let dir = super::testing::temp_dir("http");
    let path = dir.join("umsgate.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::parse(text, &path).unwrap();
    let dirs = crate::spool::layout::InstanceDirs::new(&dir.join("state/inst1"));
    dirs.create().unwrap();
    std::fs::create_dir_all(dir.join("log/inst1")).unwrap();
    let web = Arc::new(
        Web::new(Arc::new(config), Some(Arc::new(Double)))
            .await
            .unwrap(),
    );
    let router = web.router();
    T { dir, web, router }
}

impl T {
    pub(super) fn dirs(&self) -> crate::spool::layout::InstanceDirs {
        crate::spool::layout::InstanceDirs::new(&self.dir.join("state/inst1"))
    }

    pub(super) async fn send(&self, req: Request<Body>) -> Response<Body> {
        let mut req = req;
        req.extensions_mut()
            .insert(PeerAddr("192.0.2.7:40000".parse().unwrap()));
        self.router.clone().oneshot(req).await.unwrap()
    }

    pub(super) async fn get(&self, uri: &str, cookie: Option<&str>) -> Response<Body> {
        let mut b = Request::get(uri).header("host", "console.test");
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    pub(super) async fn post(&self, uri: &str, cookie: Option<&str>, form: &str) -> Response<Body> {
        let mut b = Request::post(uri)
            .header("host", "console.test")
            .header("origin", "http://console.test")
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        self.send(b.body(Body::from(form.to_owned())).unwrap())
            .await
    }

    /// Logs in; answers the cookie header and the session's CSRF token.
    pub(super) async fn login(&self, name: &str) -> (String, String) {
        let r = self
            .post("/login", None, &format!("name={name}&password=pw&next=/"))
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        let cookie = set.split(';').next().unwrap().to_owned();
        let value = cookie.split_once('=').unwrap().1;
        let session = self.web.sessions.touch(value).unwrap();
        (cookie, session.csrf)
    }

    /// Puts a message into `folder` with `subject`, sender and recipient.
    fn queue(
        &self,
        folder: &Path,
        subject: &str,
        from: &str,
        to: &str,
        error: Option<&str>,
    ) -> QueueId {
        let id = QueueId::generate();
        let eml = format!("From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nbody\r\n");
        std::fs::write(folder.join(format!("{id}.eml")), &eml).unwrap();
        let mut s = super::testing::sidecar(id.as_str(), from, to);
        s.size = eml.len() as u64;
        s.attempts = u32::from(error.is_some()) * 5;
        s.last_error = error.map(str::to_owned);
        std::fs::write(folder.join(format!("{id}.json")), s.to_bytes()).unwrap();
        id
    }
}

pub(super) async fn body(r: Response<Body>) -> String {
    let b = axum::body::to_bytes(r.into_body(), 8 << 20).await.unwrap();
    String::from_utf8_lossy(&b).into_owned()
}

const CONSOLE_GETS: [&str; 7] = [
    "/",
    "/queues",
    "/queues?instance=inst1&state=badmail",
    "/logs",
    "/logs/tail",
    "/logs/download",
    "/info",
];

#[tokio::test]
async fn every_page_needs_a_session() {
    let t = setup().await;
    for uri in CONSOLE_GETS {
        let r = t.get(uri, None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{uri}");
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login?next="),
            "{uri}"
        );
    }
    let id = QueueId::generate();
    for uri in [
        format!("/queues/inst1/badmail/{id}"),
        format!("/queues/inst1/badmail/{id}/eml"),
    ] {
        assert_eq!(
            t.get(&uri, None).await.status(),
            StatusCode::SEE_OTHER,
            "{uri}"
        );
    }
    for uri in [
        format!("/queues/inst1/badmail/{id}/requeue"),
        format!("/queues/inst1/badmail/{id}/delete"),
        "/logs/clear".to_owned(),
    ] {
        assert_eq!(
            t.post(&uri, None, "").await.status(),
            StatusCode::SEE_OTHER,
            "{uri}"
        );
    }
    // A forged cookie is no session.
    let r = t.get("/", Some("umsgate_session=abc.def")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Login and static files need none.
    assert_eq!(t.get("/login", None).await.status(), StatusCode::OK);
    assert_eq!(
        t.get("/static/console.js", None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        t.get("/static/nope.js", None).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_portal_user_is_refused_from_the_console() {
    let t = setup().await;
    let (cookie, csrf) = t.login("user").await;
    for uri in CONSOLE_GETS {
        assert_eq!(
            t.get(uri, Some(&cookie)).await.status(),
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }
    let id = t.queue(
        &t.dirs().badmail,
        "s",
        "a@example.com",
        "b@example.com",
        Some("x"),
    );
    let r = t
        .post(
            &format!("/queues/inst1/badmail/{id}/delete"),
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(t.dirs().badmail.join(format!("{id}.eml")).exists());
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_logout_ends_it() {
    let t = setup().await;
    let r = t
        .post("/login", None, "name=admin&password=wrong&next=/")
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("set-cookie").is_none());
    let r = t.post("/login", None, "name=admin&password=&next=/").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "empty password");
    let r = t
        .post(
            "/login",
            None,
            "name=admin&password=pw&next=//evil.example/",
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/", "no redirect off the site");
    let set = r.headers()["set-cookie"].to_str().unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: no Secure flag");
    let (cookie, csrf) = t.login("admin").await;
    assert_eq!(t.get("/", Some(&cookie)).await.status(), StatusCode::OK);
    // Logging out needs the token too.
    assert_eq!(
        t.post("/logout", Some(&cookie), "").await.status(),
        StatusCode::FORBIDDEN
    );
    let r = t
        .post("/logout", Some(&cookie), &format!("csrf={csrf}"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        t.get("/", Some(&cookie)).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn login_from_another_site_is_refused() {
    let t = setup().await;
    let req = Request::post("/login")
        .header("host", "console.test")
        .header("origin", "http://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("name=admin&password=pw"))
        .unwrap();
    assert_eq!(t.send(req).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn failed_logins_are_limited_per_client() {
    let t = setup().await;
    for _ in 0..3 {
        let r = t.post("/login", None, "name=admin&password=no").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = t.post("/login", None, "name=admin&password=pw").await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
}

#[tokio::test]
async fn security_headers_on_every_answer() {
    let t = setup().await;
    let (cookie, _) = t.login("admin").await;
    for (uri, c) in [
        ("/login", None),
        ("/", Some(cookie.as_str())),
        ("/static/console.css", None),
        ("/nowhere", Some(cookie.as_str())),
    ] {
        let r = t.get(uri, c).await;
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{uri}"
        );
        assert!(!csp.contains("unsafe-inline"), "{uri}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(h["x-frame-options"], "DENY", "{uri}");
        assert!(h.contains_key("referrer-policy"), "{uri}");
    }
    let page = body(t.get("/", Some(&cookie)).await).await;
    assert!(!page.contains("<script>"), "no inline script");
    assert!(!page.contains(" style="), "no inline style");
}

#[tokio::test]
async fn badmail_is_listed_escaped_and_requeued_with_a_valid_token_only() {
    let t = setup().await;
    let (cookie, csrf) = t.login("admin").await;
    let d = t.dirs();
    let id = t.queue(
        &d.badmail,
        "<script>alert('subject')</script>",
        "<script>x</script>@example.com",
        "bob@example.com",
        Some("550 <b>no</b>"),
    );
    let page = body(
        t.get("/queues?instance=inst1&state=badmail", Some(&cookie))
            .await,
    )
    .await;
    assert!(page.contains(id.as_str()), "{page}");
    assert!(
        page.contains("&lt;script&gt;x&lt;&#x2f;script&gt;@example.com"),
        "{page}"
    );
    assert!(page.contains("550 &lt;b&gt;no&lt;&#x2f;b&gt;"));
    assert!(!page.contains("<script>x"));
    let show = t
        .get(&format!("/queues/inst1/badmail/{id}"), Some(&cookie))
        .await;
    assert_eq!(show.status(), StatusCode::OK);
    let show = body(show).await;
    assert!(show.contains("Subject: &lt;script&gt;alert("), "{show}");
    assert!(!show.contains("<script>alert"));

    let eml = t
        .get(&format!("/queues/inst1/badmail/{id}/eml"), Some(&cookie))
        .await;
    assert_eq!(eml.status(), StatusCode::OK);
    assert_eq!(eml.headers()["content-type"], "message/rfc822");
    assert!(body(eml).await.starts_with("From: <script>x"));

    let action = format!("/queues/inst1/badmail/{id}/requeue");
    assert_eq!(
        t.post(&action, Some(&cookie), "").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.post(&action, Some(&cookie), "csrf=wrong").await.status(),
        StatusCode::FORBIDDEN
    );
    let foreign = Request::post(&action)
        .header("host", "console.test")
        .header("origin", "http://evil.example")
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}")))
        .unwrap();
    assert_eq!(t.send(foreign).await.status(), StatusCode::FORBIDDEN);
    assert!(
        d.badmail.join(format!("{id}.eml")).exists(),
        "nothing moved yet"
    );

    let r = t
        .post(&action, Some(&cookie), &format!("csrf={csrf}"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!d.badmail.join(format!("{id}.eml")).exists());
    assert!(d.smtp_out.join(format!("{id}.eml")).exists());
    let sidecar = std::fs::read(d.smtp_out.join(format!("{id}.json"))).unwrap();
    let s = crate::spool::Sidecar::from_bytes(&sidecar).unwrap();
    assert_eq!((s.attempts, s.last_error), (0, None));
    let page = body(
        t.get(
            "/queues?instance=inst1&state=outgoing&done=requeued",
            Some(&cookie),
        )
        .await,
    )
    .await;
    assert!(page.contains(id.as_str()));
    // Gone from Badmail: its page and actions find nothing.
    let r = t
        .get(&format!("/queues/inst1/badmail/{id}"), Some(&cookie))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "found where it is now, whatever the URL's state"
    );
    let r = t
        .get(&format!("/queues/other/badmail/{id}"), Some(&cookie))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t
        .get("/queues/inst1/badmail/not-an-id", Some(&cookie))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let del = format!("/queues/inst1/outgoing/{id}/delete");
    let r = t.post(&del, Some(&cookie), &format!("csrf={csrf}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!d.smtp_out.join(format!("{id}.eml")).exists());
    assert!(!d.smtp_out.join(format!("{id}.json")).exists());
}

#[tokio::test]
async fn queues_paginate_and_search() {
    let t = setup().await;
    let (cookie, _) = t.login("admin").await;
    let d = t.dirs();
    let mut ids = Vec::new();
    for i in 0..120 {
        ids.push(t.queue(
            &d.smtp_in_error,
            "s",
            "a@example.com",
            &format!("+49814247{i:05}@fax.example.com"),
            None,
        ));
    }
    let page = body(
        t.get("/queues?instance=inst1&state=error", Some(&cookie))
            .await,
    )
    .await;
    assert_eq!(page.matches("class=\"msg\"").count(), 50);
    assert!(page.contains("1 / 3"));
    let page = body(
        t.get("/queues?instance=inst1&state=error&page=3", Some(&cookie))
            .await,
    )
    .await;
    assert_eq!(page.matches("class=\"msg\"").count(), 20);
    assert!(page.contains(ids[119].as_str()) && !page.contains(ids[0].as_str()));
    let page = body(
        t.get(
            "/queues?instance=inst1&state=error&q=%2B49+8142+47+00117",
            Some(&cookie),
        )
        .await,
    )
    .await;
    assert_eq!(
        page.matches("class=\"msg\"").count(),
        1,
        "a number with separators"
    );
    assert!(page.contains(ids[117].as_str()));
    let page = body(
        t.get("/queues?instance=inst1&state=incoming", Some(&cookie))
            .await,
    )
    .await;
    assert!(page.contains("(120)"), "the error tab's count");
}

#[tokio::test]
async fn logs_view_filter_follow_download_and_clear() {
    let t = setup().await;
    let (cookie, csrf) = t.login("admin").await;
    let log = t.dir.join("log/inst1/smtp.log");
    std::fs::write(
        &log,
        "2026-12-04T10:00:00Z session 1 <b>hello</b>\n2026-12-04T10:00:01Z session 2 bye\n",
    )
    .unwrap();
    let page = body(
        t.get("/logs?instance=inst1&file=smtp&filter=HELLO", Some(&cookie))
            .await,
    )
    .await;
    assert!(
        page.contains("session 1 &lt;b&gt;hello&lt;&#x2f;b&gt;"),
        "{page}"
    );
    assert!(!page.contains("session 2"));
    let r = t
        .get(
            "/logs/tail?instance=inst1&file=smtp&filter=bye",
            Some(&cookie),
        )
        .await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(body(r).await, "2026-12-04T10:00:01Z session 2 bye\n");
    let r = t
        .get("/logs/download?instance=inst1&file=smtp", Some(&cookie))
        .await;
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("inst1-smtp.log")
    );
    assert!(body(r).await.contains("session 1"));
    // Only the known files of known instances.
    for uri in [
        "/logs?file=../../etc/passwd",
        "/logs?instance=nope",
        "/logs/download?file=secret",
    ] {
        assert_eq!(
            t.get(uri, Some(&cookie)).await.status(),
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    let r = t
        .post("/logs/clear", Some(&cookie), "instance=inst1&file=smtp")
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t
        .post(
            "/logs/clear",
            Some(&cookie),
            &format!("csrf={csrf}&instance=inst1&file=smtp"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let left = std::fs::read_to_string(&log).unwrap();
    assert!(
        !left.contains("session") && left.contains("cleared from the web console by admin"),
        "{left}"
    );
}

#[tokio::test]
async fn dashboard_and_information_show_no_secret() {
    let t = setup().await;
    let (cookie, _) = t.login("admin").await;
    std::fs::write(
        t.dir.join("log/inst1/msgid.log"),
        format!(
            "{} job id=1 message-id=- service=fax number=+49 sender=<a> billing=-\n",
            crate::clock::rfc3339(crate::clock::now())
        ),
    )
    .unwrap();
    t.queue(
        &t.dirs().badmail,
        "s",
        "a@example.com",
        "b@example.com",
        Some("x"),
    );
    let page = body(t.get("/", Some(&cookie)).await).await;
    assert!(page.contains("instance-inst1") && page.contains("Head office"));
    assert!(
        page.contains("state=badmail\">Badmail<br><b>1</b>"),
        "{page}"
    );
    let info = t.get("/info", Some(&cookie)).await;
    assert_eq!(info.status(), StatusCode::OK);
    let info = body(info).await;
    assert!(info.contains("umsgate check --config"));
    assert!(
        info.contains("bind_password = &quot;********&quot;")
            || info.contains("bind_password = \"********\""),
        "{info}"
    );
    assert!(!info.contains("ldap-very-secret"));
    let session_key = std::fs::read(t.dir.join("state").join(super::session::KEY_FILE)).unwrap();
    assert_eq!(session_key.len(), 32);
}

#[tokio::test]
async fn the_language_follows_the_browser_and_the_switch() {
    let t = setup().await;
    let req = Request::get("/login")
        .header("accept-language", "de-DE,de;q=0.9,en;q=0.5")
        .body(Body::empty())
        .unwrap();
    let page = body(t.send(req).await).await;
    assert!(page.contains("<html lang=\"de\">") && page.contains("Passwort"));
    let r = t.get("/lang/nl?back=/login", None).await;
    assert_eq!(r.headers()["location"], "/login");
    let set = r.headers()["set-cookie"].to_str().unwrap();
    assert!(set.starts_with("umsgate_lang=nl;"));
    let page = body(t.get("/login", Some("umsgate_lang=nl")).await).await;
    assert!(page.contains("Wachtwoord"));
    let r = t.get("/lang/fr?back=https://evil.example/", None).await;
    assert_eq!(r.headers()["location"], "/");
}

#[tokio::test]
async fn the_client_behind_a_trusted_proxy_is_the_forwarded_one() {
    let t = setup().await;
    let mut web = Web::new(Arc::clone(&t.web.config), Some(Arc::new(Double)))
        .await
        .unwrap();
    web.trusted_proxies = vec!["10.0.0.0/8".parse().unwrap()];
    let mut h = axum::http::HeaderMap::new();
    h.insert("x-forwarded-for", "203.0.113.9, 10.1.1.1".parse().unwrap());
    let proxy: std::net::SocketAddr = "10.0.0.2:5000".parse().unwrap();
    let other: std::net::SocketAddr = "192.0.2.1:5000".parse().unwrap();
    assert_eq!(web.client(Some(proxy), &h).to_string(), "203.0.113.9");
    assert_eq!(
        web.client(Some(other), &h).to_string(),
        "192.0.2.1",
        "not a trusted proxy"
    );
    h.insert("x-forwarded-for", "garbage".parse().unwrap());
    assert_eq!(web.client(Some(proxy), &h).to_string(), "10.0.0.2");
}

/// The console of [`setup`] with inst1 running on a users file that has Jane (with a name
/// that is markup and a key umsgate does not know) and Max (a malformed attribute).
async fn setup_users() -> T {
    let t = setup().await;
    std::fs::write(
        t.dir.join("users.toml"),
        "[[user]]\nmail = \"jane@example.com\"\nname = \"<script>alert(1)</script>\"\n\
         numbers = [\"+49 8142 4799 123\"]\n\
         ums = \"ums1;fax.headline=Example Corp;sms.per_day=5;x.site=%3Cb%3Ekept%3C/b%3E\"\n\n\
         [[user]]\nmail = \"max@example.com\"\nums = \"ums1;fax.rights=everything\"\n",
    )
    .unwrap();
    let plan = t.web.config.site.plan().unwrap();
    let directory = Arc::new(crate::directory::Directory::File(
        crate::directory::FileDirectory::open(&t.dir.join("users.toml"), plan).unwrap(),
    ));
    t.web.running.write().unwrap().push(super::Running {
        id: "inst1".into(),
        listen: Vec::new(),
        directory,
    });
    t
}

#[tokio::test]
async fn the_users_page_is_for_administrators_only() {
    let t = setup_users().await;
    let r = t.get("/users?q=jane%40example.com", None).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next=/users")
    );
    assert_eq!(
        t.post("/users", None, "address=jane%40example.com")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let (cookie, csrf) = t.login("user").await;
    let r = t.get("/users?q=jane%40example.com", Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!body(r).await.contains("Example Corp"));
    let r = t
        .post(
            "/users",
            Some(&cookie),
            &format!("csrf={csrf}&instance=inst1&address=jane%40example.com&set.fax.headline=X"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // the admin's console links to it
    let (cookie, _) = t.login("admin").await;
    let page = body(t.get("/", Some(&cookie)).await).await;
    assert!(page.contains("href=\"/users\""), "{page}");
}

#[tokio::test]
async fn a_user_is_found_by_address_or_number_with_each_value_and_its_origin() {
    let t = setup_users().await;
    let (cookie, _) = t.login("admin").await;
    let r = t.get("/users", Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(body(r).await.contains("id=\"users-search\""));
    for q in ["JANE%40example.com", "%2B49+8142+4799+123", "081424799123"] {
        let r = t
            .get(&format!("/users?instance=inst1&q={q}"), Some(&cookie))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{q}");
        let page = body(r).await;
        assert!(page.contains("&lt;jane@example.com&gt;"), "{q}: {page}");
        // markup from the directory stays text
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{page}"
        );
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<b>kept"), "{page}");
        // each value with where it comes from
        let row = |key: &str| {
            let at = page
                .find(&format!("<code>{key}</code>"))
                .unwrap_or_else(|| panic!("{key}: {page}"));
            let end = page[at..].find("</tr>").unwrap() + at;
            page[at..end].to_owned()
        };
        let headline = row("fax.headline");
        assert!(
            headline.contains("Example Corp") && headline.contains("user&#x27;s attribute"),
            "{headline}"
        );
        let rights = row("fax.rights");
        assert!(
            rights.contains("international") && rights.contains("instance default"),
            "{rights}"
        );
        assert!(row("vip").contains("built-in default"));
        let unknown = row("x.site");
        assert!(
            unknown.contains("unknown key") && unknown.contains("&lt;b&gt;kept"),
            "{unknown}"
        );
    }
    // the same words in German
    let r = t
        .get(
            "/users?q=jane%40example.com",
            Some(&format!("{cookie}; umsgate_lang=de")),
        )
        .await;
    assert!(body(r).await.contains("Attribut des Benutzers"));
    let r = t.get("/users?q=nobody%40example.com", Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(body(r).await.contains("Not in the directory."));
    let r = t.get("/users?q=not+a+number", Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        body(r)
            .await
            .contains("Neither a mail address nor a number")
    );
    let r = t
        .get(
            "/users?instance=elsewhere&q=jane%40example.com",
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(body(r).await.contains("This instance is not running."));
    let long = "1".repeat(super::pages::users::MAX_TARGET + 1);
    let r = t.get(&format!("/users?q={long}"), Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // a malformed attribute is shown, with the defaults that apply
    let page = body(t.get("/users?q=max%40example.com", Some(&cookie)).await).await;
    assert!(page.contains("The UMS attribute is malformed"), "{page}");
}

#[tokio::test]
async fn an_edit_is_checked_first_and_the_users_file_gets_the_line_to_paste() {
    let t = setup_users().await;
    let users = t.dir.join("users.toml");
    let before = std::fs::read(&users).unwrap();
    let (cookie, csrf) = t.login("admin").await;
    let form = "instance=inst1&address=jane%40example.com&q=jane%40example.com\
                &set.fax.headline=Example+Corp&set.fax.rights=national&set.sms.per_day=";
    // no token: refused before anything
    let r = t.post("/users", Some(&cookie), form).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t
        .post("/users", Some(&cookie), &format!("csrf=wrong&{form}"))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // one refused value: nothing is written, the reason is shown
    let r = t
        .post(
            "/users",
            Some(&cookie),
            &format!("csrf={csrf}&{form}&set.priority=urgent"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = body(r).await;
    assert!(
        page.contains("Value refused, nothing was written"),
        "{page}"
    );
    assert!(page.contains("priority=urgent"), "{page}");
    // valid: the users file is not rewritten; the page gives the line with the unknown key kept
    let r = t
        .post("/users", Some(&cookie), &format!("csrf={csrf}&{form}"))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = body(r).await;
    assert!(page.contains("id=\"users-paste\""), "{page}");
    assert!(
        page.contains(
            "ums = &quot;ums1;fax.headline=Example Corp;x.site=&lt;b&gt;kept&lt;&#x2f;b&gt;;\
             fax.rights=national&quot;"
        ),
        "{page}"
    );
    let paste = &page[page.find("users-paste").unwrap()..page.find("</pre>").unwrap()];
    assert!(!paste.contains("sms.per_day"), "{paste}");
    assert_eq!(std::fs::read(&users).unwrap(), before);
    // nothing submitted differs: nothing to write
    let r = t
        .post(
            "/users",
            Some(&cookie),
            &format!("csrf={csrf}&instance=inst1&address=jane%40example.com&set.fax.headline=Example+Corp"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(body(r).await.contains("Nothing changed."));
    let r = t
        .post(
            "/users",
            Some(&cookie),
            &format!("csrf={csrf}&instance=inst1&address=nobody%40example.com&set.vip=1"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // a malformed attribute is replaced only when the form says so
    let max = format!("csrf={csrf}&instance=inst1&address=max%40example.com&set.fax.rights=local");
    let r = t.post("/users", Some(&cookie), &max).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let page = body(r).await;
    assert!(page.contains("The UMS attribute is malformed"), "{page}");
    assert!(!page.contains("id=\"users-paste\""), "{page}");
    let r = t
        .post(
            "/users",
            Some(&cookie),
            &format!("{max}&replace_malformed=1"),
        )
        .await;
    let page = body(r).await;
    assert!(
        page.contains(
            "mail = &quot;max@example.com&quot;\nums = &quot;ums1;fax.rights=local&quot;"
        ),
        "{page}"
    );
    assert_eq!(std::fs::read(&users).unwrap(), before);
}

#[tokio::test]
async fn with_several_instances_the_page_asks_the_one_picked_from_the_list() {
    let dir = super::testing::temp_dir("users-two");
    let text = format!(
        "{CONFIG}\n[[instance]]\nid = \"inst2\"\n[instance.smtp_in]\nlisten = [\"127.0.0.2:0\"]\n\
         [instance.mail]\ndomain = \"example.org\"\ndefault_recipient = \"postmaster@example.org\"\n\
         report_sender = \"ums@example.org\"\n[instance.directory]\nkind = \"file\"\npath = \"second.toml\"\n"
    );
    let path = dir.join("umsgate.toml");
    std::fs::write(&path, &text).unwrap();
    let config = Config::parse(&text, &path).unwrap();
    let web = Arc::new(
        Web::new(Arc::new(config), Some(Arc::new(Double)))
            .await
            .unwrap(),
    );
    for (id, file, who) in [
        ("inst1", "users.toml", "first@example.com"),
        ("inst2", "second.toml", "second@example.org"),
    ] {
        std::fs::write(dir.join(file), format!("[[user]]\nmail = \"{who}\"\n")).unwrap();
        let plan = web.config.site.plan().unwrap();
        web.running.write().unwrap().push(super::Running {
            id: id.into(),
            listen: Vec::new(),
            directory: Arc::new(crate::directory::Directory::File(
                crate::directory::FileDirectory::open(&dir.join(file), plan).unwrap(),
            )),
        });
    }
    let t = T {
        router: web.router(),
        web,
        dir,
    };
    let (cookie, _) = t.login("admin").await;
    let page = body(t.get("/users", Some(&cookie)).await).await;
    assert!(page.contains("<select name=\"instance\""), "{page}");
    assert!(
        page.contains("<option value=\"inst2\">inst2</option>"),
        "{page}"
    );
    // each instance's own directory
    let r = t
        .get(
            "/users?instance=inst2&q=second%40example.org",
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = body(r).await;
    assert!(page.contains("<option value=\"inst2\" selected>"), "{page}");
    let r = t.get("/users?q=second%40example.org", Some(&cookie)).await;
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "the first instance is asked"
    );
    let r = t
        .get("/users?instance=inst2&q=first%40example.com", Some(&cookie))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

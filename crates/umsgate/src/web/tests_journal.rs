//! HTTP-level tests of the message journal's routes: `/journal` (administrators) and
//! `/portal/messages` (a user's own entries), through the router (no socket).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use tower::ServiceExt;
use umsgate_domain::Service;

use super::login::{AuthError, Authenticator, BoxFuture};
use super::session::{Principal, Role};
use super::{PeerAddr, Running, Web};
use crate::config::Config;
use crate::directory::{Directory, FileDirectory};
use crate::message_journal::MessageJournal;
use crate::spool::layout::InstanceDirs;
use crate::spool::{QueueId, Sidecar};
use crate::store::{JournalEntry, JournalKind, Store};

const CONFIG: &str = r#"
[service]
state_dir = "state"
log_dir = "log"

[service.web]
listen = "127.0.0.1:0"

[site]
country_code = "49"
area_code = "8142"
subscriber = "4799"
extension_digits = 3

[[instance]]
id = "inst1"

[instance.smtp_in]
listen = ["127.0.0.1:0"]

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
store = "journal"

[instance.directory]
kind = "file"
path = "users.toml"
"#;

const USERS: &str = "[[user]]\nmail = \"jane@example.com\"\nname = \"Jane Doe\"\n\n\
                     [[user]]\nmail = \"max@example.com\"\nname = \"Max\"\n";

/// A received fax for Jane whose subject and sender try to inject HTML.
const FAX: &[u8] = b"From: \"<b>bold</b>\" <+4930123@fax.example.com>\r\nTo: jane@example.com\r\n\
Subject: <script>alert(1)</script>\r\nMessage-ID: <fax1@umsgate.test>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n\
<p>Fax <img src=x onerror=alert(2)></p>\r\n--b\r\nContent-Type: application/pdf; name=fax.pdf\r\n\
Content-Disposition: attachment; filename=\"fax<i>.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
JVBERi0=\r\n--b--\r\n";

/// A delivery report for Max.
const REPORT: &[u8] =
    b"From: ums@example.com\r\nTo: max@example.com\r\nSubject: Fax sent to +4930999\r\n\r\nSent.\r\n";

/// `admin` (administrator), Jane and Max (users), all with password `pw`.
struct Logins;

impl Authenticator for Logins {
    fn authenticate<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<Principal>, AuthError>> {
        Box::pin(async move {
            let role = match (name, password) {
                ("admin", "pw") => Role::Admin,
                ("jane@example.com" | "max@example.com", "pw") => Role::User,
                _ => return Ok(None),
            };
            Ok(Some(Principal {
                name: name.to_owned(),
                role,
            }))
        })
    }
}

struct T {
    dir: PathBuf,
    router: axum::Router,
    web: Arc<Web>,
    store: Store,
    fax: String,
    report: String,
}

impl Drop for T {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn entry(id: &QueueId, kind: JournalKind, to: &str, at: &str, eml: &[u8]) -> JournalEntry {
    JournalEntry {
        instance: "inst1".into(),
        id: id.to_string(),
        kind,
        service: Service::Fax,
        calling: if kind == JournalKind::Message {
            "+49 30 123".into()
        } else {
            String::new()
        },
        called: "+49 30 999".into(),
        recipient: to.into(),
        received_at: at.into(),
        subject: crate::message_journal::subject_of(eml),
        size: 0,
    }
}

async fn setup() -> T {
    let dir = super::testing::temp_dir("journal");
    let path = dir.join("umsgate.toml");
    std::fs::write(&path, CONFIG).unwrap();
    std::fs::write(dir.join("users.toml"), USERS).unwrap();
    let config = Config::parse(CONFIG, &path).unwrap();
    let dirs = InstanceDirs::new(&dir.join("state/inst1"));
    dirs.create().unwrap();
    let store = Store::open(&dir.join("state/umsgate.db")).await.unwrap();
    let journal = MessageJournal::new("inst1", &dirs.journal, store.clone());
    let (fax, report) = (QueueId::generate(), QueueId::generate());
    journal
        .keep(
            &entry(
                &fax,
                JournalKind::Message,
                "Jane@Example.com",
                "2026-12-04T10:00:00Z",
                FAX,
            ),
            FAX,
        )
        .await
        .unwrap();
    journal
        .keep(
            &entry(
                &report,
                JournalKind::Report,
                "max@example.com",
                "2026-12-04T11:00:00Z",
                REPORT,
            ),
            REPORT,
        )
        .await
        .unwrap();
    let plan = config.site.plan().unwrap();
    let web = Arc::new(
        Web::new(Arc::new(config), Some(Arc::new(Logins)))
            .await
            .unwrap(),
    );
    *web.running.write().unwrap() = vec![Running {
        id: "inst1".into(),
        listen: Vec::new(),
        directory: Arc::new(Directory::File(
            FileDirectory::open(&dir.join("users.toml"), plan).unwrap(),
        )),
    }];
    let router = web.router();
    T {
        dir,
        router,
        web,
        store,
        fax: fax.to_string(),
        report: report.to_string(),
    }
}

impl T {
    fn dirs(&self) -> InstanceDirs {
        InstanceDirs::new(&self.dir.join("state/inst1"))
    }

    async fn send(&self, mut req: Request<Body>) -> Response<Body> {
        req.extensions_mut()
            .insert(PeerAddr("192.0.2.7:40000".parse().unwrap()));
        self.router.clone().oneshot(req).await.unwrap()
    }

    async fn get(&self, uri: &str, cookie: Option<&str>) -> Response<Body> {
        let mut b = Request::get(uri).header("host", "console.test");
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, uri: &str, cookie: Option<&str>, form: &str) -> Response<Body> {
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
    async fn login(&self, name: &str) -> (String, String) {
        let r = self
            .post(
                "/login",
                None,
                &format!("name={}&password=pw&next=/", super::urlencode(name)),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        let cookie = set.split(';').next().unwrap().to_owned();
        let value = cookie.split_once('=').unwrap().1;
        let session = self.web.sessions.touch(value).unwrap();
        (cookie, session.csrf)
    }

    /// The `.eml` files in `smtp-out/`.
    fn outgoing(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dirs().smtp_out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect()
    }
}

async fn body(r: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(r.into_body(), 16 << 20).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn the_journal_needs_an_administrator() {
    let t = setup().await;
    let gets = [
        "/journal".to_owned(),
        format!("/journal/inst1/{}", t.fax),
        format!("/journal/inst1/{}/eml", t.fax),
    ];
    let posts = [
        format!("/journal/inst1/{}/resend", t.fax),
        format!("/journal/inst1/{}/delete", t.fax),
    ];
    for uri in &gets {
        let r = t.get(uri, None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{uri}");
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login?next=")
        );
    }
    for uri in &posts {
        assert_eq!(
            t.post(uri, None, "").await.status(),
            StatusCode::SEE_OTHER,
            "{uri}"
        );
    }
    let (cookie, csrf) = t.login("jane@example.com").await;
    for uri in &gets {
        assert_eq!(
            t.get(uri, Some(&cookie)).await.status(),
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }
    for uri in &posts {
        let r = t.post(uri, Some(&cookie), &format!("csrf={csrf}")).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{uri}");
    }
    assert!(
        t.store
            .journal_get("inst1", &t.fax)
            .await
            .unwrap()
            .is_some()
    );
    assert!(t.outgoing().is_empty());
}

#[tokio::test]
async fn the_journal_lists_filters_and_shows_entries_escaped() {
    let t = setup().await;
    let (cookie, _) = t.login("admin").await;
    let r = t.get("/journal", Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = body(r).await;
    // Newest first: the report (11:00) before the fax (10:00).
    let (at_report, at_fax) = (page.find(&t.report).unwrap(), page.find(&t.fax).unwrap());
    assert!(at_report < at_fax);
    assert!(page.contains("&lt;script&gt;alert(1)&lt;"));
    assert!(!page.contains("<script>alert"));
    assert!(
        page.contains("href=\"/journal\""),
        "the nav links the journal"
    );
    for (query, fax, report) in [
        ("kind=report", false, true),
        ("kind=message", true, false),
        ("q=MAX%40", false, true),
        ("q=30123", true, false),
        ("q=%25", false, false),
        ("service=sms", false, false),
        ("instance=inst1&service=fax", true, true),
    ] {
        let page = body(t.get(&format!("/journal?{query}"), Some(&cookie)).await).await;
        assert_eq!(page.contains(&t.fax), fax, "{query}");
        assert_eq!(page.contains(&t.report), report, "{query}");
    }

    let r = t
        .get(&format!("/journal/inst1/{}", t.fax), Some(&cookie))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = body(r).await;
    assert!(page.contains("&lt;script&gt;alert(1)&lt;"));
    assert!(!page.contains("<script>alert") && !page.contains("<img"));
    assert!(!page.contains("<b>bold") && !page.contains("<i>.pdf"));
    assert!(
        page.contains("fax&lt;i&gt;.pdf (application&#x2f;pdf, 5)"),
        "{page}"
    );
    assert!(page.contains("id=\"resend\"") && page.contains("id=\"delete\""));

    let r = t
        .get(&format!("/journal/inst1/{}/eml", t.fax), Some(&cookie))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "message/rfc822");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("{}.eml", t.fax))
    );
    assert_eq!(body(r).await.as_bytes(), FAX);

    for uri in [
        "/journal/inst1/0000".to_owned(),
        format!("/journal/nope/{}", t.fax),
        "/journal/inst1/..%2Fumsgate.db/eml".to_owned(),
    ] {
        assert_eq!(
            t.get(&uri, Some(&cookie)).await.status(),
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn resend_checks_the_token_and_the_address_and_queues_a_copy_for_delivery() {
    let t = setup().await;
    let (cookie, csrf) = t.login("admin").await;
    let uri = format!("/journal/inst1/{}/resend", t.fax);
    assert_eq!(
        t.post(&uri, Some(&cookie), "").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.post(&uri, Some(&cookie), "csrf=wrong").await.status(),
        StatusCode::FORBIDDEN
    );
    let r = t
        .post(
            &uri,
            Some(&cookie),
            &format!("csrf={csrf}&to=x%40y%0D%0ABcc%3A+z%40example.com"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(t.outgoing().is_empty());

    // To its recipient, then to an address typed in.
    for (to, expected) in [
        ("", "jane@example.com"),
        ("+other%40example.org+", "other@example.org"),
    ] {
        let r = t
            .post(&uri, Some(&cookie), &format!("csrf={csrf}&to={to}"))
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .contains("done=resent")
        );
        let queued = t.outgoing();
        let newest = queued.iter().max().unwrap();
        assert_eq!(std::fs::read(newest).unwrap(), FAX);
        let sc =
            Sidecar::from_bytes(&std::fs::read(newest.with_extension("json")).unwrap()).unwrap();
        assert_eq!(sc.rcpts[0].address, expected);
        assert_eq!(sc.mail_from, "ums@example.com");
        assert_eq!(sc.size, FAX.len() as u64);
        assert_eq!(sc.message_id.as_deref(), Some("<fax1@umsgate.test>"));
    }
    assert_eq!(t.outgoing().len(), 2);
    // The journal keeps its entry.
    assert!(
        t.store
            .journal_get("inst1", &t.fax)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn delete_checks_the_token_and_removes_the_entry_and_its_mail() {
    let t = setup().await;
    let (cookie, csrf) = t.login("admin").await;
    let uri = format!("/journal/inst1/{}/delete", t.report);
    let file = t.dirs().journal.join(format!("{}.eml", t.report));
    assert_eq!(
        t.post(&uri, Some(&cookie), "csrf=nope").await.status(),
        StatusCode::FORBIDDEN
    );
    assert!(file.exists());
    let r = t.post(&uri, Some(&cookie), &format!("csrf={csrf}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!file.exists());
    assert!(
        t.store
            .journal_get("inst1", &t.report)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        t.post(&uri, Some(&cookie), &format!("csrf={csrf}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_portal_shows_a_user_his_own_messages_and_no_one_elses() {
    let t = setup().await;
    for uri in [
        "/portal/messages".to_owned(),
        format!("/portal/messages/inst1/{}", t.fax),
        format!("/portal/messages/inst1/{}/eml", t.fax),
    ] {
        let r = t.get(&uri, None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{uri}");
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/login?next=/portal/messages"), "{to}");
    }

    let (jane, _) = t.login("jane@example.com").await;
    let r = t.get("/portal/messages", Some(&jane)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = body(r).await;
    assert!(page.contains(&t.fax) && !page.contains(&t.report), "{page}");
    assert!(page.contains("&lt;script&gt;") && !page.contains("<script>alert"));
    assert!(
        page.contains("href=\"/portal/messages\""),
        "the nav links it"
    );
    // Her fax: view and download; no resend or delete.
    let r = t
        .get(&format!("/portal/messages/inst1/{}", t.fax), Some(&jane))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = body(r).await;
    assert!(!page.contains("id=\"resend\"") && !page.contains("id=\"delete\""));
    let r = t
        .get(
            &format!("/portal/messages/inst1/{}/eml", t.fax),
            Some(&jane),
        )
        .await;
    assert_eq!(body(r).await.as_bytes(), FAX);
    // Max's report, even by its id, and whatever she searches for: not for her.
    for uri in [
        format!("/portal/messages/inst1/{}", t.report),
        format!("/portal/messages/inst1/{}/eml", t.report),
    ] {
        let r = t.get(&uri, Some(&jane)).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{uri}");
        assert!(!body(r).await.contains("Sent."));
    }
    let page = body(
        t.get("/portal/messages?q=max&kind=report", Some(&jane))
            .await,
    )
    .await;
    assert!(!page.contains(&t.report));

    let (max, _) = t.login("max@example.com").await;
    let page = body(t.get("/portal/messages", Some(&max)).await).await;
    assert!(page.contains(&t.report) && !page.contains(&t.fax));
    assert_eq!(
        t.get(&format!("/portal/messages/inst1/{}", t.fax), Some(&max))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // An administrator of the configuration has no directory entry, so no messages.
    let (admin, _) = t.login("admin").await;
    assert_eq!(
        t.get("/portal/messages", Some(&admin)).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn without_a_state_store_the_journal_says_so_until_it_can_be_opened() {
    let dir = super::testing::temp_dir("journal-nostore");
    let path = dir.join("umsgate.toml");
    std::fs::write(&path, CONFIG).unwrap();
    std::fs::write(dir.join("users.toml"), USERS).unwrap();
    let config = Config::parse(CONFIG, &path).unwrap();
    let web = Arc::new(
        Web::new(Arc::new(config), Some(Arc::new(Logins)))
            .await
            .unwrap(),
    );
    assert!(web.store().is_none(), "no state_dir/umsgate.db yet");
    let t = T {
        router: web.router(),
        web,
        // Not the console's: only to fill the harness.
        store: Store::open(&dir.join("elsewhere.db")).await.unwrap(),
        fax: String::new(),
        report: String::new(),
        dir,
    };
    let (cookie, _) = t.login("admin").await;
    let r = t.get("/journal", Some(&cookie)).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(body(r).await.contains("The state store cannot be read"));
    let r = t
        .get(
            &format!("/journal/inst1/{}", QueueId::generate()),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Once the instances have made the store, the console opens it without a restart.
    Store::open(&t.web.config.service.state_dir.join("umsgate.db"))
        .await
        .unwrap();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        super::open_store_later(Arc::clone(&t.web), std::time::Duration::from_millis(10)),
    )
    .await
    .unwrap();
    assert_eq!(
        t.get("/journal", Some(&cookie)).await.status(),
        StatusCode::OK
    );
}

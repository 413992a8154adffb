//! HTTP-level tests of the "Send test message" and "Instances" pages, and of the console
//! following a reload, through the router (no socket).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::tests::{Double, T, body, setup_with};
use super::{Running, Snapshot, Web};
use crate::config::Config;
use crate::supervisor::{ReloadRequest, Reloaded};

const CONFIG: &str = r#"# the site's own words
[service]
state_dir = "state"
log_dir = "log"

[service.web]
listen = "127.0.0.1:0"

# Head office: keep this comment
[[instance]]
id = "inst1"
name = "Head <b>office</b>"
enabled = true # since May

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

const BOUNDARY: &str = "----umsgateTestBoundary7MA4YWxk";

/// A `multipart/form-data` body of `fields` and an optional file.
fn multipart(fields: &[(&str, &str)], file: Option<&[u8]>) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some(f) = file {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/evil.tif\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(f);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

impl T {
    async fn post_multipart(
        &self,
        cookie: Option<&str>,
        site: &str,
        data: Vec<u8>,
    ) -> axum::http::Response<Body> {
        let mut b = Request::post("/test")
            .header("host", "console.test")
            .header("origin", "http://console.test")
            .header("sec-fetch-site", site)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            );
        if let Some(c) = cookie {
            b = b.header("cookie", c);
        }
        self.send(b.body(Body::from(data)).unwrap()).await
    }

    fn received(&self) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(self.dirs().received)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn file(&self) -> String {
        std::fs::read_to_string(self.dir.join("umsgate.toml")).unwrap()
    }
}

/// A console whose reload requests are answered by a stand-in supervisor that re-reads the
/// file and hands the console what it loaded.
async fn setup_reloading() -> (T, Arc<std::sync::atomic::AtomicUsize>) {
    let t = setup_with(CONFIG).await;
    let path = t.dir.join("umsgate.toml");
    let config = Config::parse(CONFIG, &path).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<ReloadRequest>(1);
    let (snap_tx, snap_rx) = tokio::sync::watch::channel(Snapshot {
        config: Arc::new(config.clone()),
        running: Vec::new(),
        wake_inbound: Vec::new(),
    });
    let mut web = Web::new(Arc::new(config), Some(Arc::new(Double)))
        .await
        .unwrap();
    web.reload = Some(tx);
    web.snapshots = Some(snap_rx);
    let web = Arc::new(web);
    let reloads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&reloads);
    tokio::spawn(async move {
        while let Some(req) = rx.recv().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let config = Config::load(&path).unwrap();
            snap_tx.send_replace(Snapshot {
                config: Arc::new(config),
                running: Vec::new(),
                wake_inbound: Vec::new(),
            });
            let _ = req.reply.send(Ok(Reloaded::default()));
        }
    });
    let router = web.router();
    let dir = t.dir.clone();
    // The folder belongs to the console built here now (its drop removes it).
    std::mem::forget(t);
    (T { dir, web, router }, reloads)
}

const PAGES: [&str; 4] = [
    "/test",
    "/instances",
    "/instances/inst1",
    "/instances/inst1?check=1",
];

#[tokio::test]
async fn the_pages_need_an_administrator() {
    let t = setup_with(CONFIG).await;
    for uri in PAGES {
        let r = t.get(uri, None).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{uri}");
    }
    for uri in ["/instances/inst1/disable", "/instances/inst1/enable"] {
        assert_eq!(t.post(uri, None, "").await.status(), StatusCode::SEE_OTHER);
    }
    let r = t
        .post_multipart(None, "same-origin", multipart(&[], None))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (cookie, csrf) = t.login("user").await;
    for uri in PAGES {
        assert_eq!(
            t.get(uri, Some(&cookie)).await.status(),
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }
    let r = t
        .post(
            "/instances/inst1/disable",
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let form = multipart(
        &[
            ("csrf", &csrf),
            ("instance", "inst1"),
            ("service", "sms"),
            ("calling", "+49301"),
            ("called", "+4981424799123"),
        ],
        None,
    );
    let r = t.post_multipart(Some(&cookie), "same-origin", form).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(t.received().is_empty());
    assert_eq!(t.file(), CONFIG);
}

#[tokio::test]
async fn a_test_sms_is_written_and_its_id_shown_with_a_link_to_the_log() {
    let t = setup_with(CONFIG).await;
    let (cookie, csrf) = t.login("admin").await;
    let page = body(t.get("/test", Some(&cookie)).await).await;
    assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");
    assert!(
        page.contains("Head &lt;b&gt;office&lt;&#x2f;b&gt;")
            || page.contains("Head &lt;b&gt;office&lt;/b&gt;"),
        "{page}"
    );
    let wake = Arc::new(tokio::sync::Notify::new());
    *t.web.wake_inbound.write().unwrap() = vec![("inst1".to_owned(), Arc::clone(&wake))];
    let form = multipart(
        &[
            ("csrf", &csrf),
            ("instance", "inst1"),
            ("service", "sms"),
            ("calling", "+49 30 1234"),
            ("called", "+49 8142 4799123"),
            ("text", "Hallo <script>alert(1)</script>"),
        ],
        None,
    );
    let r = t.post_multipart(Some(&cookie), "same-origin", form).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = body(r).await;
    let written = t.received();
    assert_eq!(written.len(), 1, "{written:?}");
    let id = written[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        page.contains(&format!("<code id=\"received-id\">{id}</code>")),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "/logs?instance=inst1&amp;file=msgid&amp;filter=received%3D{id}"
        )) || page.contains(&format!("filter=received%3D{id}")),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"), "the text is escaped");
    let m = crate::gateway::received::ReceivedMessage::read(&written[0]).unwrap();
    assert_eq!(m.text.as_deref(), Some("Hallo <script>alert(1)</script>"));
    // The instance's inbound worker was woken (the permit waits for it).
    let woken = tokio::time::timeout(std::time::Duration::ZERO, wake.notified()).await;
    assert!(woken.is_ok(), "the inbound worker was not woken");
    assert_eq!(m.called, "+49 8142 4799123");
}

#[tokio::test]
async fn a_test_fax_takes_the_uploaded_document_under_its_own_name() {
    let t = setup_with(CONFIG).await;
    let (cookie, csrf) = t.login("admin").await;
    let tif = crate::test_message::TEST_FAX;
    let form = multipart(
        &[
            ("csrf", &csrf),
            ("instance", "inst1"),
            ("service", "fax"),
            ("calling", "+49301"),
            ("called", "+4981424799123"),
        ],
        Some(tif),
    );
    let r = t.post_multipart(Some(&cookie), "same-origin", form).await;
    assert_eq!(r.status(), StatusCode::OK);
    let written = t.received();
    assert_eq!(written.len(), 1);
    assert_eq!(std::fs::read(written[0].join("fax.tif")).unwrap(), tif);
    assert!(!t.dir.join("etc").exists() && !t.dirs().root.join("evil.tif").exists());
}

#[tokio::test]
async fn bad_content_and_numbers_are_refused_in_words() {
    let t = setup_with(CONFIG).await;
    let (cookie, csrf) = t.login("admin").await;
    let cases: [(&str, &str, Option<&[u8]>, &str); 4] = [
        (
            "fax",
            "+4981424799123",
            Some(b"just some text"),
            "not a fax document",
        ),
        (
            "voice",
            "+4981424799123",
            Some(crate::test_message::TEST_FAX),
            "not a WAV file",
        ),
        ("sms", "<script>x</script>", None, "numbers may only hold"),
        (
            "telex",
            "+4981424799123",
            None,
            "Choose an instance and a service",
        ),
    ];
    for (service, called, file, words) in cases {
        let form = multipart(
            &[
                ("csrf", &csrf),
                ("instance", "inst1"),
                ("service", service),
                ("calling", "+49301"),
                ("called", called),
            ],
            file,
        );
        let r = t.post_multipart(Some(&cookie), "same-origin", form).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{service}");
        let page = body(r).await;
        assert!(page.contains(words), "{service}: {page}");
        assert!(!page.contains("<script>x"), "{page}");
    }
    assert!(t.received().is_empty());
}

#[tokio::test]
async fn an_upload_beyond_the_limit_gets_413_and_a_page_that_says_so() {
    let t = setup_with(CONFIG).await;
    let (cookie, csrf) = t.login("admin").await;
    let big = vec![b'x'; super::pages::test_message::MAX_UPLOAD + 1];
    let form = multipart(
        &[
            ("csrf", &csrf),
            ("instance", "inst1"),
            ("service", "fax"),
            ("calling", "+49301"),
            ("called", "+4981424799123"),
        ],
        Some(&big),
    );
    let r = t.post_multipart(Some(&cookie), "same-origin", form).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body(r).await.contains("larger than allowed (20 MB"));
    assert!(t.received().is_empty());
}

#[tokio::test]
async fn a_cross_site_upload_is_refused_before_it_is_read() {
    let t = setup_with(CONFIG).await;
    let (cookie, csrf) = t.login("admin").await;
    let form = multipart(
        &[
            ("csrf", &csrf),
            ("instance", "inst1"),
            ("service", "sms"),
            ("calling", "+49301"),
            ("called", "+4981424799123"),
        ],
        None,
    );
    let r = t.post_multipart(Some(&cookie), "cross-site", form).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(t.received().is_empty());
}

#[tokio::test]
async fn instances_list_escapes_and_shows_state() {
    let t = setup_with(CONFIG).await;
    let (cookie, _) = t.login("admin").await;
    let page = body(t.get("/instances", Some(&cookie)).await).await;
    assert!(page.contains("id=\"instance-inst1\""), "{page}");
    assert!(!page.contains("<b>office"), "escaped: {page}");
    assert!(page.contains("id=\"disable-inst1\""), "{page}");
    // Not under `umsgate run`: no reload offered, the commands shown instead.
    assert!(
        page.contains("umsgate instance disable ID --config"),
        "{page}"
    );
    // A notice is one of a closed set; anything else shows nothing.
    let page = body(
        t.get(
            "/instances?done=%3Cscript%3E&id=%3Cscript%3E",
            Some(&cookie),
        )
        .await,
    )
    .await;
    assert!(!page.contains("id=\"notice\""), "{page}");
}

#[tokio::test]
async fn disabling_writes_the_file_keeps_its_comments_and_reloads() {
    let (t, reloads) = setup_reloading().await;
    let (cookie, csrf) = t.login("admin").await;
    // No token, a wrong one: refused, the file as it was.
    for form in [String::new(), "csrf=wrong".to_owned()] {
        let r = t
            .post("/instances/inst1/disable", Some(&cookie), &form)
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(t.file(), CONFIG);
    let r = t
        .post(
            "/instances/inst1/disable",
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/instances?done=changed&id=inst1");
    assert_eq!(
        t.file(),
        CONFIG.replace("enabled = true # since May", "enabled = false # since May")
    );
    assert_eq!(reloads.load(std::sync::atomic::Ordering::SeqCst), 1);
    // The console took over what the reload loaded at once.
    assert!(!t.web.current().instances[0].enabled);
    let page = body(
        t.get("/instances?done=changed&id=inst1", Some(&cookie))
            .await,
    )
    .await;
    assert!(page.contains("id=\"enable-inst1\""), "{page}");
    assert!(
        page.contains("configuration file written and reloaded"),
        "{page}"
    );
    // Again: nothing to write, no reload.
    let r = t
        .post(
            "/instances/inst1/disable",
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(r.headers()["location"], "/instances?done=already&id=inst1");
    assert_eq!(reloads.load(std::sync::atomic::Ordering::SeqCst), 1);
    let r = t
        .post(
            "/instances/inst1/enable",
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(t.file(), CONFIG);
    let r = t
        .post(
            "/instances/nope/enable",
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_edit_that_would_leave_an_invalid_file_is_not_made() {
    let (t, reloads) = setup_reloading().await;
    let (cookie, csrf) = t.login("admin").await;
    // Someone broke the file by hand since the start.
    let broken = format!("{CONFIG}\nbogus_key = 1\n");
    std::fs::write(t.dir.join("umsgate.toml"), &broken).unwrap();
    let r = t
        .post(
            "/instances/inst1/disable",
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = body(r).await;
    assert!(
        page.contains("The configuration file was not changed"),
        "{page}"
    );
    assert_eq!(t.file(), broken);
    assert_eq!(reloads.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_instance_shows_its_entry_without_secrets_and_its_checks_on_request() {
    let t = setup_with(CONFIG).await;
    let (cookie, _) = t.login("admin").await;
    let page = body(t.get("/instances/inst1", Some(&cookie)).await).await;
    assert!(page.contains("id=\"config\""), "{page}");
    assert!(page.contains("enabled = true # since May"), "{page}");
    assert!(!page.contains("ldap-very-secret"), "{page}");
    assert!(
        page.contains("bind_password = &quot;********&quot;"),
        "{page}"
    );
    assert!(
        !page.contains("id=\"checks\""),
        "checks run on request only"
    );
    let page = body(t.get("/instances/inst1?check=1", Some(&cookie)).await).await;
    assert!(page.contains("id=\"checks\""), "{page}");
    // The users file does not exist: the directory check says so.
    assert!(page.contains("<b>directory</b>: FAILED"), "{page}");
    assert!(page.contains("<b>gateway</b>: ok: sim"), "{page}");
    // Another site embedding the link (`<img src=…?check=1>`) does not make the probes run.
    let req = Request::get("/instances/inst1?check=1")
        .header("cookie", cookie.as_str())
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    let page = body(t.send(req).await).await;
    assert!(page.contains("enabled = true # since May"), "{page}");
    assert!(!page.contains("id=\"checks\""), "{page}");
    assert_eq!(
        t.get("/instances/nope", Some(&cookie)).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_console_follows_a_reload() {
    let t = setup_with(CONFIG).await;
    let (cookie, _) = t.login("admin").await;
    let page = body(t.get("/", Some(&cookie)).await).await;
    assert!(!page.contains("instance-inst2"));
    let text = format!(
        "{CONFIG}\n[[instance]]\nid = \"inst2\"\n[instance.smtp_in]\nlisten = [\"127.0.0.1:10026\"]\n\
         [instance.mail]\ndomain = \"example.com\"\ndefault_recipient = \"postmaster@example.com\"\n\
         report_sender = \"ums@example.com\"\n[instance.directory]\nkind = \"file\"\npath = \"users.toml\"\n"
    );
    let config = Config::parse(&text, &t.dir.join("umsgate.toml")).unwrap();
    let users = t.dir.join("users.toml");
    std::fs::write(&users, "").unwrap();
    let plan = config.site.plan().unwrap();
    let directory = Arc::new(crate::directory::Directory::File(
        crate::directory::FileDirectory::open(&users, plan).unwrap(),
    ));
    t.web.follow(Snapshot {
        config: Arc::new(config),
        running: vec![Running {
            id: "inst2".to_owned(),
            listen: vec!["127.0.0.1:10026".parse().unwrap()],
            directory,
        }],
        wake_inbound: Vec::new(),
    });
    let page = body(t.get("/", Some(&cookie)).await).await;
    assert!(page.contains("id=\"instance-inst2\""), "{page}");
    assert!(page.contains("127.0.0.1:10026"), "{page}");
    let page = body(t.get("/instances", Some(&cookie)).await).await;
    assert!(page.contains("id=\"instance-inst2\""), "{page}");
}

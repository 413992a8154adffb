//! Web logins and the portal's writes against a real slapd (scripts/ldap/start.sh). Each test
//! adds its own users and groups (names with a nonce) with the LDAP admin account, so the seed
//! users other tests read stay as they are. Needs `UMSGATE_TEST_PEERS=1` and the `LDAP_*`
//! variables that `.ci/run` exports; fails without them.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use ldap3::{Ldap, LdapConnAsync, Scope, SearchEntry};
use umsgate::config::Config;
use umsgate::directory::{Directory, LdapDirectory};
use umsgate::store::Store;
use umsgate::web::auth::{DirectoryLogins, LoginOutcome, Refusal, UserDirectory};
use umsgate::web::portal::{Changes, Field, Portal, PortalError};
use umsgate_domain::{SitePlan, SitePlanFields};

fn env(name: &str) -> String {
    assert_eq!(
        std::env::var("UMSGATE_TEST_PEERS").as_deref(),
        Ok("1"),
        "these tests need the slapd peer: run .ci/run, or start scripts/ldap/start.sh and export \
         UMSGATE_TEST_PEERS=1 with the variables of its env file"
    );
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set (see scripts/README.md)"))
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

fn nonce() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::UNIX_EPOCH
            .elapsed()
            .unwrap()
            .as_nanos()
    )
}

fn work(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("umsgate-webdir-{name}-{}", nonce()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A configuration with one LDAP instance and `[service.web]` as given.
fn config(dir: &std::path::Path, server: &str, web: &str) -> Config {
    let text = format!(
        r#"
[service]
state_dir = "state"
log_dir = "log"

[service.web]
listen = "127.0.0.1:8080"
{web}

[[instance]]
id = "inst1"

[instance.smtp_in]
listen = ["127.0.0.1:10025"]

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"

[instance.directory]
kind = "ldap"
servers = ["{server}"]
ca = "{ca}"
base_dns = ["ou=Munich,{base}"]
bind_dn = "{ro}"
bind_password = "{ro_pw}"
write_bind_dn = "{admin}"
write_bind_password = "{admin_pw}"
cache_ttl = "1h"
"#,
        ca = env("LDAP_CA_CERT"),
        base = env("LDAP_BASE_DN"),
        ro = env("LDAP_RO_DN"),
        ro_pw = env("LDAP_RO_PW"),
        admin = env("LDAP_ADMIN_DN"),
        admin_pw = env("LDAP_ADMIN_PW"),
    );
    Config::parse(&text, &dir.join("umsgate.toml")).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn directory(c: &Config) -> Arc<Directory> {
    Arc::new(Directory::Ldap(Box::new(
        LdapDirectory::new(&c.instances[0].directory, plan(), None).unwrap(),
    )))
}

async fn admin() -> Ldap {
    let (conn, mut ldap) = LdapConnAsync::new(&env("LDAP_URL")).await.unwrap();
    ldap3::drive!(conn);
    ldap.simple_bind(&env("LDAP_ADMIN_DN"), &env("LDAP_ADMIN_PW"))
        .await
        .unwrap()
        .success()
        .unwrap();
    ldap
}

/// Adds a user under ou=Munich; returns his DN.
async fn add_user(ldap: &mut Ldap, uid: &str, password: &str, ums: Option<&str>) -> String {
    let dn = format!("uid={uid},ou=Munich,{}", env("LDAP_BASE_DN"));
    let mail = format!("{uid}@example.com");
    let mut attrs = vec![
        (
            "objectClass",
            HashSet::from([
                "top",
                "person",
                "organizationalPerson",
                "inetOrgPerson",
                "umsUser",
            ]),
        ),
        ("uid", HashSet::from([uid])),
        ("cn", HashSet::from([uid])),
        ("sn", HashSet::from(["Test"])),
        ("mail", HashSet::from([mail.as_str()])),
        ("userPassword", HashSet::from([password])),
    ];
    if let Some(u) = ums {
        attrs.push(("umsUserData", HashSet::from([u])));
    }
    ldap.add(&dn, attrs).await.unwrap().success().unwrap();
    dn
}

async fn add_group(ldap: &mut Ldap, cn: &str, class: &str, attr: &str, member: &str) -> String {
    let dn = format!("cn={cn},ou=Services,{}", env("LDAP_BASE_DN"));
    ldap.add(
        &dn,
        vec![
            ("objectClass", HashSet::from(["top", class])),
            ("cn", HashSet::from([cn])),
            (attr, HashSet::from([member])),
        ],
    )
    .await
    .unwrap()
    .success()
    .unwrap();
    dn
}

async fn remove(ldap: &mut Ldap, dns: &[&str]) {
    for dn in dns {
        let _ = ldap.delete(dn).await;
    }
}

/// The UMS attribute as the server holds it now.
async fn stored_ums(ldap: &mut Ldap, dn: &str) -> String {
    let (entries, _) = ldap
        .search(dn, Scope::Base, "(objectClass=*)", vec!["umsUserData"])
        .await
        .unwrap()
        .success()
        .unwrap();
    let e = SearchEntry::construct(entries.into_iter().next().unwrap());
    e.attrs["umsUserData"][0].clone()
}

#[tokio::test]
async fn ldap_logins_right_wrong_and_empty_passwords_and_the_admin_group() {
    let n = nonce();
    let dir = work("login");
    let mut ldap = admin().await;
    let (a, b, cu) = (format!("wa-{n}"), format!("wb-{n}"), format!("wc-{n}"));
    let dn_a = add_user(&mut ldap, &a, "secret-a", None).await;
    let dn_b = add_user(&mut ldap, &b, "secret-b", None).await;
    let dn_c = add_user(&mut ldap, &cu, "secret-c", None).await;
    let group = add_group(
        &mut ldap,
        &format!("ums-admins-{n}"),
        "groupOfNames",
        "member",
        &dn_a,
    )
    .await;
    let unique = add_group(
        &mut ldap,
        &format!("ums-uadmins-{n}"),
        "groupOfUniqueNames",
        "uniqueMember",
        &dn_c,
    )
    .await;
    let users = |c: &Config| {
        vec![UserDirectory {
            instance: "inst1".parse().unwrap(),
            directory: directory(c),
        }]
    };
    let mail = |u: &str| format!("{u}@example.com");
    let user = |u: &str, dn: &str| LoginOutcome::User {
        instance: "inst1".parse().unwrap(),
        address: mail(u),
        dn: dn.to_owned(),
    };

    for (membership, server) in [("group", env("LDAP_URL")), ("member_of", env("LDAPS_URL"))] {
        let c = config(
            &dir,
            &server,
            &format!("admin_group = \"{group}\"\nadmin_membership = \"{membership}\""),
        );
        let shared = directory(&c);
        let auth = DirectoryLogins::new(
            c.service.web.as_ref().unwrap(),
            vec![UserDirectory {
                instance: "inst1".parse().unwrap(),
                directory: Arc::clone(&shared),
            }],
        );
        let login = |u: String, p: &'static str| {
            let auth = &auth;
            async move { auth.check(&u, p).await.unwrap() }
        };
        // the group's member is an administrator, the others are users
        assert_eq!(
            login(mail(&a), "secret-a").await,
            LoginOutcome::Admin { name: mail(&a) },
            "{membership} via {server}"
        );
        assert_eq!(login(mail(&b), "secret-b").await, user(&b, &dn_b));
        assert_eq!(
            login(mail(&b), "secret-a").await,
            LoginOutcome::Refused(Refusal::WrongPassword)
        );
        // a seeded user (testdata/ldap/seed.ldif), by his address and by an alias
        let jane = LoginOutcome::User {
            instance: "inst1".parse().unwrap(),
            address: "jane@example.com".into(),
            dn: format!("uid=jane.doe,ou=Munich,{}", env("LDAP_BASE_DN")),
        };
        assert_eq!(login("jane@example.com".into(), "user-secret").await, jane);
        assert_eq!(
            login("jane.doe@example.com".into(), "user-secret").await,
            jane
        );
        assert_eq!(
            login("jane@example.com".into(), "User-Secret").await,
            LoginOutcome::Refused(Refusal::WrongPassword)
        );
        // the failed bind was not on the lookups' connection: it still searches as the
        // service account (an anonymous one would see nothing)
        let found = shared.by_sender(&mail(&a)).await.unwrap().unwrap();
        assert_eq!(found.id, dn_a);
        assert_eq!(
            login(mail(&b), "").await,
            LoginOutcome::Refused(Refusal::EmptyPassword)
        );
        assert_eq!(
            login(format!("nobody-{n}@example.com"), "secret-a").await,
            LoginOutcome::Refused(Refusal::UnknownName)
        );
        // with LDAP an unknown name costs a refused bind, like a wrong password, not a hash check
        assert_eq!(auth.password_checks(), 0);
        // a different case of the address is the same user
        assert_eq!(
            login(mail(&b).to_uppercase(), "secret-b").await,
            user(&b, &dn_b)
        );
    }

    // groupOfUniqueNames: uniqueMember counts as well
    let c = config(
        &dir,
        &env("LDAP_URL"),
        &format!("admin_group = \"{unique}\""),
    );
    let auth = DirectoryLogins::new(c.service.web.as_ref().unwrap(), users(&c));
    assert_eq!(
        auth.check(&mail(&cu), "secret-c").await.unwrap(),
        LoginOutcome::Admin { name: mail(&cu) }
    );
    assert_eq!(
        auth.check(&mail(&a), "secret-a").await.unwrap(),
        user(&a, &dn_a)
    );
    // without admin_group, nobody from the directory is an administrator
    let c = config(&dir, &env("LDAP_URL"), "");
    let auth = DirectoryLogins::new(c.service.web.as_ref().unwrap(), users(&c));
    assert_eq!(
        auth.check(&mail(&a), "secret-a").await.unwrap(),
        user(&a, &dn_a)
    );

    // an empty password never reaches the server (slapd would answer an unauthenticated bind)
    let d = LdapDirectory::new(&c.instances[0].directory, plan(), None).unwrap();
    assert_eq!(
        d.verify_password(&mail(&a), "", None).await.unwrap(),
        umsgate::directory::ldap::Login::UnusablePassword
    );
    assert_eq!(d.searches(), 0);

    remove(&mut ldap, &[&group, &unique, &dn_a, &dn_b, &dn_c]).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_portal_writes_the_headline_keeps_unknown_keys_and_refuses_locked_fields() {
    let n = nonce();
    let dir = work("portal");
    let mut ldap = admin().await;
    let uid = format!("wp-{n}");
    let address = format!("{uid}@example.com");
    let dn = add_user(
        &mut ldap,
        &uid,
        "secret-p",
        Some("ums1;fax.headline=Old;X.Site=keep%3Bme;sms.per_day=3;fax.rights=national"),
    )
    .await;
    let c = config(&dir, &env("LDAP_URL"), "");
    let store = Store::open(&dir.join("umsgate.db")).await.unwrap();
    let portal = |cfg: &str| Portal {
        instance: "inst1".parse().unwrap(),
        config: toml::from_str(cfg).unwrap(),
        defaults: c.instances[0].defaults.clone(),
        covers: vec!["standard".into(), "confidential".into()],
        directory: directory(&c),
        store: store.clone(),
    };
    let p = portal("");
    // the first view puts the user into the directory's cache
    let before = p.view(&address).await.unwrap();
    assert_eq!(
        before.headline.as_ref().unwrap().value.as_deref(),
        Some("Old")
    );
    assert!(before.headline.as_ref().unwrap().editable && !before.read_only);
    assert_eq!(before.services.as_ref().unwrap()[1].per_day, Some(3));

    let after = p
        .save(
            &address,
            &Changes {
                headline: Some("Neu; 100% Fax".into()),
                cover: Some("confidential".into()),
                report_language: Some("fr".into()),
                ..Changes::default()
            },
        )
        .await
        .unwrap();
    // the view after the write, through the same (cached) directory, shows the new values
    let h = after.headline.unwrap();
    assert_eq!(h.value.as_deref(), Some("Neu; 100% Fax"));
    assert!(h.own);
    assert_eq!(after.cover.unwrap().value.as_deref(), Some("confidential"));
    assert_eq!(
        after.report_language.unwrap().value,
        umsgate_domain::Language::Fr
    );
    // a fresh lookup, and the server itself, agree; the unknown key survived in its place
    let fresh = portal("").view(&address).await.unwrap();
    assert_eq!(
        fresh.headline.unwrap().value.as_deref(),
        Some("Neu; 100% Fax")
    );
    assert_eq!(
        stored_ums(&mut ldap, &dn).await,
        "ums1;fax.headline=Neu%3B 100%25 Fax;X.Site=keep%3Bme;sms.per_day=3;fax.rights=national;cover=confidential;report.lang=fr"
    );

    // the empty choice removes the key: the default applies again
    p.save(
        &address,
        &Changes {
            cover: Some(String::new()),
            ..Changes::default()
        },
    )
    .await
    .unwrap();
    assert!(!stored_ums(&mut ldap, &dn).await.contains("cover="));

    // locked by the administrator: refused, nothing written (not even the allowed field)
    let locked = portal("headline = \"show\"");
    let e = locked
        .save(
            &address,
            &Changes {
                headline: Some("Mine".into()),
                report_language: Some("de".into()),
                ..Changes::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            PortalError::Locked {
                field: Field::Headline
            }
        ),
        "{e:?}"
    );
    // a refused value: nothing written either
    let e = p
        .save(
            &address,
            &Changes {
                report_language: Some("de".into()),
                headline: Some("two\r\nlines".into()),
                ..Changes::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            PortalError::Invalid {
                field: Field::Headline,
                ..
            }
        ),
        "{e:?}"
    );
    let ums = stored_ums(&mut ldap, &dn).await;
    assert!(
        ums.contains("fax.headline=Neu%3B 100%25 Fax") && ums.contains("report.lang=fr"),
        "{ums}"
    );

    remove(&mut ldap, &[&dn]).await;
    let _ = std::fs::remove_dir_all(&dir);
}

mod http {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;
    use umsgate::web::login::{Authenticator, Chain, ConfigAdmins};
    use umsgate::web::{PeerAddr, Running, Web};

    async fn send(router: &axum::Router, req: Request<Body>) -> (StatusCode, String, String) {
        let mut req = req;
        req.extensions_mut()
            .insert(PeerAddr("192.0.2.8:40000".parse().unwrap()));
        let r = router.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let cookie = r
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
            .unwrap_or_default();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let b = axum::body::to_bytes(r.into_body(), 8 << 20).await.unwrap();
        let body = String::from_utf8_lossy(&b).into_owned();
        (status, location.unwrap_or(body), cookie)
    }

    fn post(uri: &str, cookie: &str, form: &str) -> Request<Body> {
        Request::post(uri)
            .header("host", "console.test")
            .header("origin", "http://console.test")
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept-language", "de")
            .header("cookie", cookie)
            .body(Body::from(form.to_owned()))
            .unwrap()
    }

    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    #[tokio::test]
    async fn a_directory_user_logs_in_sees_his_portal_and_changes_his_headline() {
        let n = nonce();
        let dir = work("http");
        let mut ldap = admin().await;
        let uid = format!("wh-{n}");
        let address = format!("{uid}@example.com");
        let dn = add_user(
            &mut ldap,
            &uid,
            "secret-h",
            Some("ums1;fax.headline=Alt;x.site=1"),
        )
        .await;
        let mut c = config(&dir, &env("LDAP_URL"), "");
        c.service.state_dir = dir.join("state");
        std::fs::create_dir_all(&c.service.state_dir).unwrap();
        Store::open(&c.service.state_dir.join("umsgate.db"))
            .await
            .unwrap();
        let directory = directory(&c);
        let logins = DirectoryLogins::new(
            c.service.web.as_ref().unwrap(),
            vec![UserDirectory {
                instance: "inst1".parse().unwrap(),
                directory: Arc::clone(&directory),
            }],
        );
        let chain: Arc<dyn Authenticator> = Arc::new(Chain(vec![
            Arc::new(ConfigAdmins::new(Vec::new())),
            Arc::new(logins),
        ]));
        let web = Arc::new(Web::new(Arc::new(c), Some(chain)).await.unwrap());
        *web.running.write().unwrap() = vec![Running {
            id: "inst1".into(),
            listen: Vec::new(),
            directory,
        }];
        let router = web.router();

        let form = format!("name={}&password=secret-h&next=%2F", enc(&address));
        let (status, to, cookie) = send(&router, post("/login", "", &form)).await;
        assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/portal"));
        let csrf = web
            .sessions
            .touch(cookie.split_once('=').unwrap().1)
            .unwrap()
            .csrf;
        let get = Request::get("/portal")
            .header("host", "console.test")
            .header("cookie", &cookie)
            .header("accept-language", "de")
            .body(Body::empty())
            .unwrap();
        let (status, page, _) = send(&router, get).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("Faxkopfzeile") && page.contains("value=\"Alt\""),
            "{page}"
        );
        assert!(page.contains("internationale Nummern"), "{page}");

        // a headline with a line break: refused in German, nothing written
        let bad = format!("csrf={csrf}&headline={}", enc("a\r\nb"));
        let (status, page, _) = send(&router, post("/portal", &cookie, &bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("keine Zeilenumbrüche"), "{page}");
        assert_eq!(
            stored_ums(&mut ldap, &dn).await,
            "ums1;fax.headline=Alt;x.site=1"
        );
        // without the token: refused before anything
        let (status, _, _) = send(&router, post("/portal", &cookie, "headline=Neu")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // saved
        let good = format!("csrf={csrf}&headline=Neu&report_language=it&inbound_fax=pdf%2Btif");
        let (status, page, _) = send(&router, post("/portal", &cookie, &good)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            page.contains("Gespeichert") && page.contains("value=\"Neu\""),
            "{page}"
        );
        assert_eq!(
            stored_ums(&mut ldap, &dn).await,
            "ums1;fax.headline=Neu;x.site=1;report.lang=it;fax.inbound=pdf+tif"
        );
        remove(&mut ldap, &[&dn]).await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Every name with password `pw` is an administrator (the console's own accounts are not what
/// this test is about).
struct Admins;

impl umsgate::web::login::Authenticator for Admins {
    fn authenticate<'a>(
        &'a self,
        name: &'a str,
        password: &'a str,
    ) -> umsgate::web::login::BoxFuture<
        'a,
        Result<Option<umsgate::web::session::Principal>, umsgate::web::login::AuthError>,
    > {
        Box::pin(async move {
            Ok(
                (password == "pw").then(|| umsgate::web::session::Principal {
                    name: name.to_owned(),
                    role: umsgate::web::session::Role::Admin,
                }),
            )
        })
    }
}

async fn call(
    router: &axum::Router,
    req: axum::http::request::Builder,
    body: &str,
) -> (axum::http::StatusCode, axum::http::HeaderMap, String) {
    use tower::ServiceExt;
    let mut req = req
        .header("host", "console.test")
        .header("origin", "http://console.test")
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body.to_owned()))
        .unwrap();
    req.extensions_mut()
        .insert(umsgate::web::PeerAddr("127.0.0.1:40000".parse().unwrap()));
    let r = router.clone().oneshot(req).await.unwrap();
    let (parts, body) = r.into_parts();
    let bytes = axum::body::to_bytes(body, 8 << 20).await.unwrap();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// The console with `directory` as inst1's, and an administrator's cookie and CSRF token.
async fn console(c: &Arc<Config>, directory: &Arc<Directory>) -> (axum::Router, String, String) {
    let web = Arc::new(
        umsgate::web::Web::new(Arc::clone(c), Some(Arc::new(Admins)))
            .await
            .unwrap(),
    );
    web.running.write().unwrap().push(umsgate::web::Running {
        id: "inst1".into(),
        listen: Vec::new(),
        directory: Arc::clone(directory),
    });
    let router = web.router();
    let (status, headers, _) = call(
        &router,
        axum::http::Request::post("/login"),
        "name=admin&password=pw&next=/",
    )
    .await;
    assert_eq!(status, axum::http::StatusCode::SEE_OTHER);
    let cookie = headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = web
        .sessions
        .touch(cookie.split_once('=').unwrap().1)
        .unwrap()
        .csrf;
    (router, cookie, csrf)
}

#[tokio::test]
async fn the_users_page_finds_a_user_by_number_and_an_edit_lands_in_slapd() {
    use axum::http::{Request, StatusCode};
    let n = nonce();
    let dir = work("users");
    let mut ldap = admin().await;
    let uid = format!("wu-{n}");
    let dn = add_user(
        &mut ldap,
        &uid,
        "secret-u",
        Some("ums1;fax.headline=Old Corp;x.site=kept;sms.per_day=5"),
    )
    .await;
    // a number of the site's plan that no seed user has
    let number = format!("+4981424799{}", 600 + std::process::id() % 400);
    ldap.modify(
        &dn,
        vec![ldap3::Mod::Add(
            "facsimileTelephoneNumber",
            HashSet::from([number.as_str()]),
        )],
    )
    .await
    .unwrap()
    .success()
    .unwrap();
    let site = "\n[site]\ncountry_code = \"49\"\narea_code = \"8142\"\nsubscriber = \"4799\"\n\
                extension_digits = 3\n";
    let c = Arc::new(config(&dir, &env("LDAP_URL"), site));
    let directory = directory(&c);
    let (router, cookie, csrf) = console(&c, &directory).await;
    let mail = format!("{uid}@example.com");
    // The running instance has the user in its cache with the old headline.
    let cached = directory.by_sender(&mail).await.unwrap().unwrap();
    assert!(cached.ums.as_deref().unwrap().contains("Old Corp"));

    // Found by the number as a user types it, spaced and with the national prefix.
    let typed = format!("0{} {}", &number[3..7], &number[7..]);
    let q = typed.replace(' ', "+");
    let (status, _, page) = call(
        &router,
        Request::get(format!("/users?instance=inst1&q={q}")).header("cookie", &cookie),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&format!("&lt;{mail}&gt;")), "{page}");
    assert!(page.contains("Old Corp"), "{page}");

    // The administrator changes a field the portal locks, and the rights; the rest stays.
    let form = format!(
        "csrf={csrf}&instance=inst1&address={mail}&q={q}&set.fax.headline=New+Corp\
         &set.fax.rights=national&set.sms.per_day=5&set.vip=1"
    );
    let (status, _, page) = call(
        &router,
        Request::post("/users").header("cookie", &cookie),
        &form,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Saved."), "{page}");
    let stored = stored_ums(&mut ldap, &dn).await;
    let settings = umsgate_domain::UserSettings::parse(&stored).unwrap();
    assert_eq!(settings.fax_headline(), Some("New Corp"), "{stored}");
    assert_eq!(
        settings.fax_rights(),
        Some(umsgate_domain::Rights::National),
        "{stored}"
    );
    assert_eq!(settings.vip(), Some(true), "{stored}");
    assert!(
        stored.contains("x.site=kept") && stored.contains("sms.per_day=5"),
        "{stored}"
    );
    // The running instance's cache forgot the user: his next job has the new headline.
    let fresh = directory.by_sender(&mail).await.unwrap().unwrap();
    assert_eq!(fresh.ums.as_deref(), Some(stored.as_str()));

    // A refused value writes nothing.
    let (status, _, page) = call(
        &router,
        Request::post("/users").header("cookie", &cookie),
        &format!(
            "csrf={csrf}&instance=inst1&address={mail}&set.fax.headline=Other&set.priority=urgent"
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert_eq!(stored_ums(&mut ldap, &dn).await, stored);

    // A malformed attribute: refused, unless the administrator says to replace it.
    let bad_uid = format!("wm-{n}");
    let bad = add_user(
        &mut ldap,
        &bad_uid,
        "secret-m",
        Some("ums1;fax.rights=everything"),
    )
    .await;
    let form = format!(
        "csrf={csrf}&instance=inst1&address={bad_uid}%40example.com&set.fax.rights=national"
    );
    let (status, _, page) = call(
        &router,
        Request::post("/users").header("cookie", &cookie),
        &form,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert_eq!(
        stored_ums(&mut ldap, &bad).await,
        "ums1;fax.rights=everything"
    );
    let (status, _, page) = call(
        &router,
        Request::post("/users").header("cookie", &cookie),
        &format!("{form}&replace_malformed=1"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        stored_ums(&mut ldap, &bad).await,
        "ums1;fax.rights=national"
    );

    remove(&mut ldap, &[&dn, &bad]).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_users_page_says_when_the_directory_refuses_the_write_or_does_not_answer() {
    use axum::http::{Request, StatusCode};
    let n = nonce();
    let dir = work("users-refused");
    let mut ldap = admin().await;
    let uid = format!("wr-{n}");
    let dn = add_user(&mut ldap, &uid, "secret-r", Some("ums1;fax.headline=Kept")).await;
    let mail = format!("{uid}@example.com");
    // The write account is the read-only one: slapd refuses the modify.
    let mut c = config(&dir, &env("LDAP_URL"), "");
    c.instances[0].directory.write_bind_dn = env("LDAP_RO_DN");
    c.instances[0].directory.write_bind_password = Some(env("LDAP_RO_PW"));
    let c = Arc::new(c);
    let (router, cookie, csrf) = console(&c, &directory(&c)).await;
    let (status, _, page) = call(
        &router,
        Request::post("/users").header("cookie", &cookie),
        &format!("csrf={csrf}&instance=inst1&address={mail}&set.fax.headline=Changed"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{page}");
    assert!(page.contains("The directory refused the change"), "{page}");
    assert!(
        stored_ums(&mut ldap, &dn)
            .await
            .contains("fax.headline=Kept")
    );

    // A directory nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let c = Arc::new(config(&dir, &format!("ldap://{closed}"), ""));
    let (router, cookie, _) = console(&c, &directory(&c)).await;
    let (status, _, page) = call(
        &router,
        Request::get(format!("/users?q={mail}")).header("cookie", &cookie),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(
        page.contains("The directory does not answer, try again later"),
        "{page}"
    );

    remove(&mut ldap, &[&dn]).await;
    let _ = std::fs::remove_dir_all(&dir);
}

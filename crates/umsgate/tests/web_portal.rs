//! The self-service portal end to end: a directory user of the real slapd
//! (scripts/ldap/start.sh) logs in to the real `umsgate run` in a real headless Chromium,
//! changes his fax headline in `/portal`, and his next fax job — mail into umsgate's SMTP
//! listener, handed to the simulated engine — carries the new headline: the write reached the
//! directory, and the running instance's cache forgot the old entry (it had the user cached
//! from a job before the change, with a cache time of an hour). Then an administrator sees
//! the new value, marked as the user's own, on the console's Users page.
//!
//! Needs `UMSGATE_TEST_PEERS=1` with the `LDAP_*` variables of `.ci/run`, `chromium` and
//! `chromedriver`; fails, never skips, when one is missing. With
//! `UMSGATE_SCREENSHOTS=<folder>` the portal and Users pages are saved there as PNG.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Instant;

use fantoccini::Locator;
use ldap3::{Ldap, LdapConnAsync, Scope, SearchEntry};
use serde_json::Value;
use support::browser::{self, shot};
use support::{DEADLINE, Daemon, Smtp, TestConfig, Work, free_addr, nonce, peer_env, run_cli};

const INSTANCE: &str = "portal";
const ADMIN_PASSWORD: &str = "portal-admin-pw";
const OLD: &str = "Old Headline Corp";

/// The test's instance on `smtp` with the slapd directory (write account, an hour's cache)
/// and the simulated engine, and the console on `web` with one administrator.
fn config(web: SocketAddr, smtp: SocketAddr, admin_hash: &str) -> String {
    let directory = format!(
        "kind = \"ldap\"\nservers = [\"{server}\"]\nca = \"{ca}\"\nbase_dns = [\"ou=Munich,{base}\"]\n\
         bind_dn = \"{ro}\"\nbind_password = \"{ro_pw}\"\nwrite_bind_dn = \"{admin}\"\n\
         write_bind_password = \"{admin_pw}\"\ncache_ttl = \"1h\"",
        server = peer_env("LDAP_URL"),
        ca = peer_env("LDAP_CA_CERT"),
        base = peer_env("LDAP_BASE_DN"),
        ro = peer_env("LDAP_RO_DN"),
        ro_pw = peer_env("LDAP_RO_PW"),
        admin = peer_env("LDAP_ADMIN_DN"),
        admin_pw = peer_env("LDAP_ADMIN_PW"),
    );
    TestConfig::new(smtp)
        .title("umsgate portal end-to-end test")
        .id(INSTANCE)
        .site()
        .mail("retry = [\"1s\"]")
        .directory(&directory)
        .tail(&format!(
            "\n[service.web]\nlisten = \"{web}\"\n\n[[service.web.admins]]\nname = \"admin\"\n\
             password_hash = \"{admin_hash}\"\n"
        ))
        .render()
}

async fn ldap_admin() -> Ldap {
    let (conn, mut ldap) = LdapConnAsync::new(&peer_env("LDAP_URL")).await.unwrap();
    ldap3::drive!(conn);
    ldap.simple_bind(&peer_env("LDAP_ADMIN_DN"), &peer_env("LDAP_ADMIN_PW"))
        .await
        .unwrap()
        .success()
        .unwrap();
    ldap
}

/// A user of the test's own (so the seed users other tests read stay as they are) with a
/// password and a headline; returns his DN.
async fn add_user(ldap: &mut Ldap, uid: &str, password: &str) -> String {
    let dn = format!("uid={uid},ou=Munich,{}", peer_env("LDAP_BASE_DN"));
    let mail = format!("{uid}@example.com");
    let ums = format!("ums1;fax.rights=international;fax.headline={OLD};x.site=kept");
    ldap.add(
        &dn,
        vec![
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
            ("cn", HashSet::from(["Pat Portal"])),
            ("sn", HashSet::from(["Portal"])),
            ("mail", HashSet::from([mail.as_str()])),
            ("userPassword", HashSet::from([password])),
            ("umsUserData", HashSet::from([ums.as_str()])),
        ],
    )
    .await
    .unwrap()
    .success()
    .unwrap();
    dn
}

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

/// Mails a fax from `from` into umsgate; returns the queue id.
fn send_fax(smtp: SocketAddr, from: &str, marker: &str) -> String {
    let (mut c, greeting) = Smtp::connect(smtp).unwrap();
    assert_eq!(greeting.code, 220, "{greeting:?}");
    c.ehlo("client.portal.test").unwrap();
    let rcpt = "+49-8142-555.1234@fax.example.com";
    let r = c
        .send(from, &[rcpt], &support::message(from, rcpt, marker))
        .unwrap()
        .unwrap_or_else(|r| panic!("umsgate refused the fax from {from}: {r:?}"));
    c.quit();
    r.queue_id()
        .unwrap_or_else(|| panic!("no queue id in {r:?}"))
}

/// The job the simulated engine took for the mail queued as `qid`.
fn job_of(work: &Work, daemon: &Daemon, qid: &str) -> Value {
    let sent = work
        .dir
        .join("state")
        .join(INSTANCE)
        .join("gateway/sim/sent.jsonl");
    let prefix = format!("{qid}-");
    let end = Instant::now() + DEADLINE;
    loop {
        let found = std::fs::read_to_string(&sent)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|j| {
                j["job_id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with(&prefix))
            });
        if let Some(j) = found {
            return j;
        }
        assert!(
            Instant::now() < end,
            "no job of {qid} in {}:\n{}",
            sent.display(),
            daemon.output()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_changes_his_headline_in_chromium_and_his_next_fax_carries_it() {
    let driver = browser::start_driver();
    let mut ldap = ldap_admin().await;
    let n = nonce();
    let uid = format!("portal-{n}");
    let mail = format!("{uid}@example.com");
    let password = format!("pw-{n}");
    let dn = add_user(&mut ldap, &uid, &password).await;
    let new = format!("New Headline {}", &n[..n.len().min(12)]);

    let work = Work::new("web-portal");
    let hashed = run_cli(&["hash-password"], Some(ADMIN_PASSWORD), &work.dir);
    assert!(hashed.status.success(), "{}", support::describe(&hashed));
    let hash = String::from_utf8(hashed.stdout).unwrap().trim().to_owned();
    let (web, smtp) = (free_addr(), free_addr());
    work.write_config(&config(web, smtp, &hash));
    let mut cmd = Command::new(support::bin());
    cmd.arg("--config").arg(work.config_path()).arg("run");
    let mut daemon = Daemon::spawn(cmd, &work.dir, smtp);
    daemon.wait_ready();
    let end = Instant::now() + DEADLINE;
    while std::net::TcpStream::connect(web).is_err() {
        assert!(
            Instant::now() < end,
            "the console did not listen on {web}:\n{}",
            daemon.output()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // A fax before the change: the instance now has the user in its cache.
    let before = send_fax(smtp, &mail, &format!("before-{n}"));
    let job = job_of(&work, &daemon, &before);
    assert_eq!(job["headline"], OLD, "{job}");

    // The user logs in and changes his headline in the portal.
    let client = browser::chromium(&driver, &work.dir).await;
    let base = format!("http://{web}");
    client.goto(&format!("{base}/portal")).await.unwrap();
    browser::wait_for_url(&client, "/login", |p, _| p == "/login").await;
    browser::log_in(&client, &mail, &password).await;
    browser::wait_for_url(&client, "/portal", |p, _| p == "/portal").await;
    let field = client
        .wait()
        .for_element(Locator::Id("headline"))
        .await
        .unwrap();
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some(OLD));
    field.clear().await.unwrap();
    field.send_keys(&new).await.unwrap();
    client
        .find(Locator::Id("portal-save"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let message = client
        .wait()
        .for_element(Locator::Css("#portal-message.ok"))
        .await
        .unwrap();
    assert!(
        message.text().await.unwrap().starts_with("Saved."),
        "{}",
        client.source().await.unwrap()
    );
    let shown = client
        .find(Locator::Id("headline"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(shown.as_deref(), Some(new.as_str()));
    shot(&client, "portal", &work.dir).await;

    // In the directory, with the key umsgate does not know kept.
    let stored = stored_ums(&mut ldap, &dn).await;
    assert!(
        stored.contains(&format!("fax.headline={new}")) && stored.contains("x.site=kept"),
        "{stored}"
    );
    // The next fax carries the new headline: the instance's cache forgot the old entry.
    let after = send_fax(smtp, &mail, &format!("after-{n}"));
    let job = job_of(&work, &daemon, &after);
    assert_eq!(job["headline"], new.as_str(), "{job}");

    // The administrator sees it on the Users page, as the user's own value.
    client
        .find(Locator::Id("logout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser::wait_for_url(&client, "/login", |p, _| p == "/login").await;
    client
        .goto(&format!("{base}/users?instance={INSTANCE}&q={mail}"))
        .await
        .unwrap();
    browser::wait_for_url(&client, "/login", |p, _| p == "/login").await;
    browser::log_in(&client, "admin", ADMIN_PASSWORD).await;
    browser::wait_for_url(&client, "/users", |p, _| p == "/users").await;
    let section = client
        .wait()
        .for_element(Locator::Id("user-1"))
        .await
        .unwrap();
    let text = section.text().await.unwrap();
    assert!(text.contains(&mail), "{text}");
    let row = client
        .find(Locator::XPath(
            "//section[@id='user-1']//tr[.//code[text()='fax.headline']]",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        row.contains(&new) && row.contains("user's attribute"),
        "{row}"
    );
    shot(&client, "users", &work.dir).await;

    client.close().await.unwrap();
    drop(driver);
    daemon.sigterm();
    let _ = ldap.delete(&dn).await;
}

//! The LDAP directory against a real slapd (scripts/ldap/start.sh, seeded from
//! testdata/ldap/seed.ldif). Needs `UMSGATE_TEST_PEERS=1` and the `LDAP_*` variables that
//! `.ci/run` exports; fails without them.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ldap3::{LdapConnAsync, Scope, SearchEntry};
use umsgate::config::{Config, DirectoryConfig};
use umsgate::directory::{Directory, LdapDirectory, NumberQuery};
use umsgate::logs::InstanceLogs;
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

fn work(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "umsgate-ldap-{name}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A `[instance.directory]` section parsed the way `umsgate.toml` is.
fn directory_config(dir: &Path, section: &str) -> DirectoryConfig {
    let text = format!(
        r#"
[service]
state_dir = "state"
log_dir = "log"

[[instance]]
id = "t"

[instance.smtp_in]
listen = ["127.0.0.1:10025"]

[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"

[instance.directory]
kind = "ldap"
bind_dn = "{ro}"
bind_password = "{pw}"
ca = "{ca}"
{section}
"#,
        ro = env("LDAP_RO_DN"),
        pw = env("LDAP_RO_PW"),
        ca = env("LDAP_CA_CERT"),
    );
    let path = dir.join("umsgate.toml");
    let c = Config::parse(&text, &path).unwrap_or_else(|e| panic!("{e}\n{text}"));
    c.instances[0].directory.clone()
}

fn base(ou: &str) -> String {
    format!("{ou},{}", env("LDAP_BASE_DN"))
}

fn standard(dir: &Path, extra: &str) -> (LdapDirectory, Arc<InstanceLogs>) {
    let cfg = directory_config(
        dir,
        &format!(
            "servers = [\"{}\"]\nbase_dns = [\"{}\", \"{}\"]\n{extra}",
            env("LDAP_URL"),
            base("ou=Munich"),
            base("ou=Berlin")
        ),
    );
    let logs = Arc::new(InstanceLogs::open(&dir.join("log"), Default::default()).unwrap());
    (
        LdapDirectory::new(&cfg, plan(), Some(Arc::clone(&logs))).unwrap(),
        logs,
    )
}

/// A port on 127.0.0.1 where nothing listens.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn ldap_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("log/ldap.log")).unwrap_or_default()
}

async fn mails(d: &LdapDirectory, number: &str) -> Vec<String> {
    let n = plan().normalise(number).unwrap();
    let mut v: Vec<String> = d
        .by_number(&n)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.mail)
        .collect();
    v.sort();
    v
}

/// A multi-site directory: lukas.schmidt's IXI address is `+49 30 9876543 21`, spaced by the
/// Berlin plan; this site (8142) would space the number `+49 30 987654321`, and
/// `proxyAddresses` compares spaces (caseIgnoreMatch). Signalled spaced, it is asked as such.
#[tokio::test]
async fn a_number_signalled_spaced_is_looked_up_as_signalled() {
    let dir = work("signalled");
    let (d, _logs) = standard(&dir, "");
    let n = plan().normalise("+49 30 9876543 21").unwrap();
    let by_plan = d.by_number(&n).await.unwrap();
    assert!(by_plan.is_empty(), "{by_plan:?}");
    let q = NumberQuery::as_signalled(n, "+49 30 9876543 21").unwrap();
    let found: Vec<String> = d
        .by_query(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.mail)
        .collect();
    assert_eq!(found, ["lukas.schmidt@example.com"]);
    // The same through the dispatching type; the cache keeps the two spellings apart.
    let d = Directory::Ldap(Box::new(d));
    assert_eq!(d.by_number(&q).await.unwrap().len(), 1);
}

#[tokio::test]
async fn lookups_by_number_and_sender_find_the_seed_users() {
    let dir = work("lookups");
    let (d, _logs) = standard(&dir, "");
    // both forms of one number, and as dialled nationally
    for n in [
        "+49 8142 4799123",
        "+4981424799123",
        "08142 4799-123",
        "123",
    ] {
        assert_eq!(mails(&d, n).await, ["jane@example.com"], "{n}");
    }
    // two fax numbers of one user
    assert_eq!(
        mails(&d, "+49 89 1234567 10").await,
        ["max.mustermann@example.com"]
    );
    assert_eq!(
        mails(&d, "+49 89 1234567 11").await,
        ["max.mustermann@example.com"]
    );
    // a shared number reaches each user
    assert_eq!(
        mails(&d, "+49 89 1234567 99").await,
        ["erika.musterfrau@example.com", "thomas.huber@example.com"]
    );
    // second value of a multi-valued fax attribute, foreign number
    assert_eq!(
        mails(&d, "+33 1 42 68 53 00").await,
        ["claire.dubois@example.com"]
    );
    // nested OU below a base, and an entry outside every base
    assert_eq!(
        mails(&d, "+49 30 9876543 70").await,
        ["paul.richter@example.com"]
    );
    assert!(mails(&d, "+49 40 7770 199").await.is_empty());
    // nobody
    assert!(mails(&d, "+49 8142 4799999").await.is_empty());

    let jane = d.by_sender("jane@example.com").await.unwrap().unwrap();
    assert_eq!(jane.id, format!("uid=jane.doe,{}", base("ou=Munich")));
    assert_eq!(jane.name, "Jane Doe");
    assert!(
        jane.ums
            .as_deref()
            .unwrap()
            .starts_with("ums1;report.lang=de;")
    );
    assert_eq!(jane.attribute("o"), Some("Example Corp"));
    assert_eq!(jane.attribute("postalcode"), Some("80687"));
    // `smtp:` alias, case, angle brackets
    for a in [
        "jane.doe@example.com",
        "JANE@Example.COM",
        "<jane@example.com>",
    ] {
        assert_eq!(d.by_sender(a).await.unwrap().unwrap().id, jane.id, "{a}");
    }
    let mehmet = d.by_sender("m.yilmaz@example.com").await.unwrap().unwrap();
    assert_eq!(mehmet.mail, "mehmet.yilmaz@example.com");
    assert_eq!(mehmet.name, "Mehmet Yılmaz");
    // no fax number, but a sender all the same
    let sabine = d
        .by_sender("sabine.bauer@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(sabine.ums.is_none());
    assert!(
        d.by_sender("olga.external@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert!(d.by_sender("nobody@example.com").await.unwrap().is_none());

    let log = ldap_log(&dir);
    assert!(log.contains("connect server=ldap://127.0.0.1:"), "{log}");
    assert!(
        log.contains("results=2 dns=[\"uid=erika.musterfrau"),
        "{log}"
    );
    assert!(!log.contains(&env("LDAP_RO_PW")), "password in ldap.log");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_ixi_proxy_address_is_searched_in_the_spaced_form() {
    // proxyAddresses does not ignore blanks: IXI:+49 8142 4799123 is found only through ${UMS}.
    let dir = work("ixi");
    let (d, _logs) = standard(
        &dir,
        "number_filter = \"(|(proxyAddresses=IXI:${UMS})(proxyAddresses=IXI:${UMS}_wHTSPC))\"\n",
    );
    assert_eq!(mails(&d, "+4981424799123").await, ["jane@example.com"]);
    let (d, _logs) = standard(
        &dir,
        "number_filter = \"(proxyAddresses=IXI:${UMS}_wHTSPC)\"\n",
    );
    assert!(mails(&d, "+4981424799123").await.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn one_base_for_the_whole_tree_and_presets() {
    let dir = work("bases");
    let cfg = directory_config(
        &dir,
        &format!(
            "preset = \"openldap\"\nservers = [\"{}\"]\nbase_dns = [\"{}\"]\n",
            env("LDAP_URL"),
            env("LDAP_BASE_DN")
        ),
    );
    assert_eq!(cfg.ums_attribute.as_deref(), Some("umsUserData"));
    let d = LdapDirectory::new(&cfg, plan(), None).unwrap();
    assert_eq!(
        mails(&d, "+49 40 7770 199").await,
        ["olga.external@example.com"]
    );
    // the openldap preset searches mail only: the smtp: alias is not an address there
    assert!(d.by_sender("jane.doe@example.com").await.unwrap().is_none());
    assert!(d.by_sender("jane@example.com").await.unwrap().is_some());
    // a base DN that does not exist is an empty answer, not an outage
    let cfg = directory_config(
        &dir,
        &format!(
            "servers = [\"{}\"]\nbase_dns = [\"ou=Nowhere,{}\", \"{}\"]\n",
            env("LDAP_URL"),
            env("LDAP_BASE_DN"),
            base("ou=Munich")
        ),
    );
    let d = LdapDirectory::new(&cfg, plan(), None).unwrap();
    assert!(d.by_sender("jane@example.com").await.unwrap().is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn tls_starttls_and_failover_to_the_second_server() {
    let dir = work("failover");
    let ldaps = env("LDAPS_URL");
    let plain = env("LDAP_URL");
    let starttls = plain.replace("ldap://", "ldap+starttls://");
    for servers in [
        format!("\"ldap://127.0.0.1:{}\", \"{plain}\"", closed_port()),
        format!("\"ldaps://127.0.0.1:{}\", \"{ldaps}\"", closed_port()),
        format!("\"{starttls}\""),
    ] {
        let cfg = directory_config(
            &dir,
            &format!(
                "servers = [{servers}]\nbase_dns = [\"{}\"]\ntimeout = \"2s\"\nconnect_timeout = \"1s\"\n",
                base("ou=Munich")
            ),
        );
        let logs = Arc::new(InstanceLogs::open(&dir.join("log"), Default::default()).unwrap());
        let d = LdapDirectory::new(&cfg, plan(), Some(logs)).unwrap();
        // The lookup itself succeeds, on the second server (the log below shows the failover);
        // no timing is asserted.
        let jane = d.by_sender("jane@example.com").await.unwrap();
        assert!(jane.is_some(), "{servers}");
    }
    let log = ldap_log(&dir);
    assert!(
        log.contains("error op=connect server=ldap://127.0.0.1:"),
        "{log}"
    );
    assert!(log.contains("failover=yes"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn all_servers_down_is_a_temporary_error() {
    let dir = work("down");
    let cfg = directory_config(
        &dir,
        &format!(
            "servers = [\"ldap://127.0.0.1:{}\", \"ldaps://127.0.0.1:{}\"]\nbase_dns = [\"{}\"]\nconnect_timeout = \"1s\"\n",
            closed_port(),
            closed_port(),
            base("ou=Munich")
        ),
    );
    let d = Directory::Ldap(Box::new(LdapDirectory::new(&cfg, plan(), None).unwrap()));
    // outbound: an error, never "unknown sender" (the worker keeps the message)
    let e = d.by_sender("jane@example.com").await.unwrap_err();
    assert!(e.to_string().contains("no LDAP server answered"), "{e}");
    // inbound: an error too; the worker applies ldap_error
    let n = plan().normalise("+49 8142 4799123").unwrap();
    assert!(
        d.by_number(&NumberQuery::by_plan(&plan(), n))
            .await
            .is_err()
    );
    // errors are not cached: a second try asks again (and fails again)
    assert!(d.by_sender("jane@example.com").await.is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Forwards one listening port to the real server, so a "stopped" first server can come back.
async fn proxy(listener: tokio::net::TcpListener, to: String) {
    loop {
        let Ok((mut a, _)) = listener.accept().await else {
            return;
        };
        let to = to.clone();
        tokio::spawn(async move {
            if let Ok(mut b) = tokio::net::TcpStream::connect(to).await {
                let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
            }
        });
    }
}

#[tokio::test]
async fn back_to_the_first_server_after_failback() {
    let dir = work("failback");
    let port = closed_port();
    let plain = env("LDAP_URL");
    let cfg = directory_config(
        &dir,
        &format!(
            "servers = [\"ldap://127.0.0.1:{port}\", \"{plain}\"]\nbase_dns = [\"{}\"]\ncache_ttl = \"0s\"\nfailback = \"1s\"\nconnect_timeout = \"1s\"\n",
            base("ou=Munich")
        ),
    );
    let logs = Arc::new(InstanceLogs::open(&dir.join("log"), Default::default()).unwrap());
    let d = LdapDirectory::new(&cfg, plan(), Some(logs)).unwrap();
    assert!(d.by_sender("jane@example.com").await.unwrap().is_some());
    // the first server comes back
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let task = tokio::spawn(proxy(
        listener,
        plain.trim_start_matches("ldap://").to_owned(),
    ));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(d.by_sender("jane@example.com").await.unwrap().is_some());
    assert!(d.by_sender("jane@example.com").await.unwrap().is_some());
    let log = ldap_log(&dir);
    assert!(
        log.contains(&format!("failback server=ldap://127.0.0.1:{port}")),
        "{log}"
    );
    let last = log.lines().last().unwrap();
    assert!(
        last.contains(&format!("server=ldap://127.0.0.1:{port}")),
        "{last}"
    );
    task.abort();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `failback = "never"`: after a failover the directory stays on the server it failed over
/// to, although the first one is back. The same scenario with `failback = "0s"` goes back at
/// the next lookup, so it does show a failback where one is due. No time passes in either.
#[tokio::test]
async fn failback_never_stays_on_the_failover_server() {
    let plain = env("LDAP_URL");
    for (failback, goes_back) in [("0s", true), ("never", false)] {
        let dir = work(&format!("failback-{failback}"));
        let port = closed_port();
        let cfg = directory_config(
            &dir,
            &format!(
                "servers = [\"ldap://127.0.0.1:{port}\", \"{plain}\"]\nbase_dns = [\"{}\"]\ncache_ttl = \"0s\"\nfailback = \"{failback}\"\nconnect_timeout = \"1s\"\n",
                base("ou=Munich")
            ),
        );
        let logs = Arc::new(InstanceLogs::open(&dir.join("log"), Default::default()).unwrap());
        let d = LdapDirectory::new(&cfg, plan(), Some(logs)).unwrap();
        assert!(d.by_sender("jane@example.com").await.unwrap().is_some());
        assert!(
            ldap_log(&dir).contains("failover=yes"),
            "{}",
            ldap_log(&dir)
        );
        // the first server comes back
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let task = tokio::spawn(proxy(
            listener,
            plain.trim_start_matches("ldap://").to_owned(),
        ));
        for _ in 0..3 {
            assert!(d.by_sender("jane@example.com").await.unwrap().is_some());
        }
        let log = ldap_log(&dir);
        let first = format!("server=ldap://127.0.0.1:{port}");
        assert_eq!(
            log.contains(&format!("failback {first}")),
            goes_back,
            "failback = {failback}:\n{log}"
        );
        let last = log.lines().last().unwrap();
        if goes_back {
            assert!(last.contains(&first), "{last}");
        } else {
            assert!(last.contains(&format!("server={plain}")), "{last}");
            // No connection to the first server after the refused one.
            let connects = log
                .lines()
                .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest))
                .filter(|rest| rest.starts_with(&format!("connect {first}")))
                .count();
            assert_eq!(connects, 0, "{log}");
        }
        task.abort();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[tokio::test]
async fn injected_values_match_only_themselves() {
    let dir = work("inject");
    // a template that compares the sender value with fax numbers too, so `+49*` would match
    // every German fax number if it went in unescaped
    let (d, _logs) = standard(
        &dir,
        "sender_filter = \"(|(mail=${MAIL})(facsimileTelephoneNumber=${MAIL})(uid=${MAIL}))\"\n",
    );
    for v in [
        "*",
        "*)(uid=*",
        "\\",
        "\\2a",
        "jane\0@example.com",
        "+49*",
        "*@example.com",
        "jane@example.com)(|(uid=*",
        "+49 8142 4799123*",
    ] {
        assert!(d.by_sender(v).await.unwrap().is_none(), "{v:?} matched");
    }
    // and the literal values still match themselves
    assert!(d.by_sender("+49 8142 4799123").await.unwrap().is_some());
    assert!(d.by_sender("jane.doe").await.unwrap().is_some());
    // numbers: anything that is not a number never reaches a filter
    for n in ["+49*", "*", "+49 8142 4799123)(uid=*", "\\"] {
        assert!(plan().normalise(n).is_err(), "{n}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_burst_from_one_sender_costs_one_search() {
    let dir = work("burst");
    let (d, _logs) = standard(&dir, "");
    let d = Arc::new(d);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let d = Arc::clone(&d);
        tasks.push(tokio::spawn(async move {
            d.by_sender("felix.wagner@example.com")
                .await
                .unwrap()
                .unwrap()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().mail, "felix.wagner@example.com");
    }
    // one lookup = one search per base DN (two here)
    assert_eq!(d.searches(), 2);
    let n = plan().normalise("+49 30 9876543 40").unwrap();
    for _ in 0..10 {
        assert_eq!(d.by_number(&n).await.unwrap().len(), 1);
    }
    assert_eq!(d.searches(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn admin() -> ldap3::Ldap {
    let (conn, mut ldap) = LdapConnAsync::new(&env("LDAP_URL")).await.unwrap();
    ldap3::drive!(conn);
    ldap.simple_bind(&env("LDAP_ADMIN_DN"), &env("LDAP_ADMIN_PW"))
        .await
        .unwrap()
        .success()
        .unwrap();
    ldap
}

async fn ums_of(ldap: &mut ldap3::Ldap, dn: &str) -> Option<String> {
    let (e, _) = ldap
        .search(dn, Scope::Base, "(objectClass=*)", vec!["umsUserData"])
        .await
        .unwrap()
        .success()
        .unwrap();
    SearchEntry::construct(e.into_iter().next().unwrap())
        .attrs
        .remove("umsUserData")
        .and_then(|v| v.into_iter().next())
}

#[tokio::test]
async fn user_set_writes_through_the_admin_account_keeps_unknown_keys_and_invalidates() {
    let dir = work("write");
    let uid = format!("umsgate-write-{}", std::process::id());
    let mail = format!("{uid}@example.com");
    let dn = format!("uid={uid},{}", base("ou=Berlin"));
    let mut adm = admin().await;
    let _ = adm.delete(&dn).await;
    adm.add(
        &dn,
        vec![
            ("objectClass", HashSet::from(["inetOrgPerson", "umsUser"])),
            ("uid", HashSet::from([uid.as_str()])),
            ("cn", HashSet::from(["Write Test"])),
            ("sn", HashSet::from(["Test"])),
            ("mail", HashSet::from([mail.as_str()])),
            (
                "umsUserData",
                HashSet::from(["ums1;x.site=keep%3Bme;fax.rights=local"]),
            ),
        ],
    )
    .await
    .unwrap()
    .success()
    .unwrap();

    // the read-only account cannot write
    let (ro, _logs) = standard(&dir, "");
    let e = ro
        .update_settings(&mail, |s| {
            s.set("fax.rights", "national").map_err(|e| e.to_string())
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("result 50"), "{e}");

    let (d, _logs) = standard(
        &dir,
        &format!(
            "write_bind_dn = \"{}\"\nwrite_bind_password = \"{}\"\n",
            env("LDAP_ADMIN_DN"),
            env("LDAP_ADMIN_PW")
        ),
    );
    let before = d.by_sender(&mail).await.unwrap().unwrap();
    assert_eq!(
        before.ums.as_deref(),
        Some("ums1;x.site=keep%3Bme;fax.rights=local")
    );
    let searches = d.searches();
    let (wrote_dn, value) = d
        .update_settings(&mail, |s| {
            s.set("fax.rights", "national").map_err(|e| e.to_string())?;
            s.set("sms.per_day", "7").map_err(|e| e.to_string())
        })
        .await
        .unwrap();
    assert_eq!(wrote_dn, dn);
    assert_eq!(
        value,
        "ums1;x.site=keep%3Bme;fax.rights=national;sms.per_day=7"
    );
    assert_eq!(ums_of(&mut adm, &dn).await.as_deref(), Some(value.as_str()));
    // the cached answer was dropped: the next lookup searches and sees the new value
    let after = d.by_sender(&mail).await.unwrap().unwrap();
    assert_eq!(after.ums.as_deref(), Some(value.as_str()));
    assert!(d.searches() > searches + 2);
    // an unknown key is refused, nothing written
    assert!(
        d.update_settings(&mail, |s| s
            .set("fax.colour", "1")
            .map_err(|e| e.to_string()))
            .await
            .is_err()
    );
    assert_eq!(ums_of(&mut adm, &dn).await.as_deref(), Some(value.as_str()));
    let log = ldap_log(&dir);
    assert!(log.contains("modify server="), "{log}");
    assert!(!log.contains(&env("LDAP_ADMIN_PW")), "password in ldap.log");
    adm.delete(&dn).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn check_binds_and_runs_both_templates() {
    let dir = work("check");
    let cfg = directory_config(
        &dir,
        &format!(
            "servers = [\"{}\", \"{}\"]\nbase_dns = [\"{}\"]\n",
            env("LDAP_URL"),
            env("LDAPS_URL"),
            base("ou=Munich")
        ),
    );
    let ok = umsgate::directory::ldap::check(&cfg, &plan())
        .await
        .unwrap();
    assert!(
        ok.contains("bound") && ok.contains("number_filter ok"),
        "{ok}"
    );
    let cfg = directory_config(
        &dir,
        &format!(
            "servers = [\"{}\", \"ldap://127.0.0.1:{}\"]\nbase_dns = [\"{}\"]\nconnect_timeout = \"1s\"\n",
            env("LDAP_URL"),
            closed_port(),
            base("ou=Munich")
        ),
    );
    let e = umsgate::directory::ldap::check(&cfg, &plan())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("connect"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn cli(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_umsgate"))
        .arg("--config")
        .arg(dir.join("umsgate.toml"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn user_show_on_the_command_line_and_the_file_directory_refusal() {
    let dir = work("cli");
    let head = "[service]\nstate_dir = \"state\"\nlog_dir = \"log\"\n\n[[instance]]\nid = \"i1\"\n\n[instance.smtp_in]\nlisten = [\"127.0.0.1:10025\"]\n\n[instance.mail]\ndomain = \"example.com\"\ndefault_recipient = \"postmaster@example.com\"\nreport_sender = \"ums@example.com\"\n\n[instance.defaults]\nvoice = { rights = \"local\" }\n\n";
    std::fs::write(
        dir.join("umsgate.toml"),
        format!(
            "{head}[instance.directory]\nkind = \"ldap\"\nservers = [\"{}\"]\nbind_dn = \"{}\"\nbind_password = \"{}\"\nbase_dns = [\"{}\"]\n",
            env("LDAP_URL"),
            env("LDAP_RO_DN"),
            env("LDAP_RO_PW"),
            base("ou=Munich")
        ),
    )
    .unwrap();
    let (ok, out, err) = cli(&dir, &["user", "show", "jane.doe@example.com"]);
    assert!(ok, "{err}");
    assert!(out.contains("uid=jane.doe,ou=Munich"), "{out}");
    let line = |k: &str| out.lines().find(|l| l.starts_with(k)).unwrap().to_owned();
    assert!(line("fax.rights ").contains("international") && line("fax.rights ").ends_with("user"));
    assert!(line("voice.rights ").contains("local") && line("voice.rights ").ends_with("default"));
    let (ok, out, _) = cli(&dir, &["user", "show", "+49 89 1234567 99"]);
    assert!(
        ok && out.contains("erika.musterfrau") && out.contains("thomas.huber"),
        "{out}"
    );
    let (ok, _, err) = cli(&dir, &["user", "show", "nobody@example.com"]);
    assert!(!ok && err.contains("not in the directory"), "{err}");
    assert!(
        std::fs::read_to_string(dir.join("log/i1/ldap.log"))
            .unwrap()
            .contains("search server=")
    );

    std::fs::write(
        dir.join("users.toml"),
        "[[user]]\nmail = \"a@example.com\"\nums = \"ums1;x.site=1\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("umsgate.toml"),
        format!("{head}[instance.directory]\nkind = \"file\"\npath = \"users.toml\"\n"),
    )
    .unwrap();
    let (ok, out, err) = cli(&dir, &["user", "show", "a@example.com"]);
    assert!(
        ok && out.contains("x.site") && out.contains("unknown key"),
        "{out}{err}"
    );
    let (ok, _, err) = cli(&dir, &["user", "set", "a@example.com", "fax.rights=local"]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("ums = \"ums1;x.site=1;fax.rights=local\""),
        "{err}"
    );
    let (ok, _, err) = cli(&dir, &["user", "set", "a@example.com", "fax.colour=red"]);
    assert!(!ok && err.contains("fax.colour"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

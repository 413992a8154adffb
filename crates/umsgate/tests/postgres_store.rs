//! The state store on both backends, and several umsgate nodes sharing one PostgreSQL database.
//!
//! * Store level: the same test bodies run against SQLite and PostgreSQL (each test has a
//!   database of its own, created on the server `DATABASE_URL` names; its role needs CREATEDB,
//!   as `scripts/postgres/start.sh` gives it).
//! * Two `umsgate run` processes on one database: the per-day limit holds across them, and a
//!   delivery report is mailed by the node that did not submit the job.
//! * A node whose database goes away keeps every mail and goes on by itself once it is back
//!   (a cluster of its own, started and stopped through `scripts/postgres/`, which need root).
//!
//! PostgreSQL is a test peer: with `UMSGATE_TEST_PEERS=1` and no `DATABASE_URL` the tests fail;
//! without `UMSGATE_TEST_PEERS` only the SQLite half of the store-level tests runs.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sqlx::Connection;
use umsgate::config::store::StorePool;
use umsgate::outbound::jobs::{JobRecord, JobRecords};
use umsgate::store::{
    JournalEntry, JournalKind, JournalQuery, PendingPrint, PrintState, Reservation, Store,
};
use umsgate_domain::{Language, Service, clock};

use support::{Daemon, Smtp, TestConfig, Work, free_addr, nonce, wait_for};

// ------------------------------------------------------------------------------------------
// Databases

/// The test server's URL, or `None` when PostgreSQL is not asked for (no test peers).
fn server_url() -> Option<String> {
    let peers = std::env::var("UMSGATE_TEST_PEERS").is_ok_and(|v| v == "1");
    match std::env::var("DATABASE_URL") {
        Ok(v) if !v.is_empty() => Some(v),
        _ if peers => panic!(
            "UMSGATE_TEST_PEERS=1 but DATABASE_URL is not set: start the peers with .ci/run \
             (it starts scripts/postgres/start.sh) and source its postgres env file"
        ),
        _ => None,
    }
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (head, query) = url
        .split_once('?')
        .map_or((url, None), |(h, q)| (h, Some(q)));
    let base = head.rsplit_once('/').map_or(head, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A new, empty database on the server of `url`; returns its URL.
async fn fresh_database(url: &str, tag: &str) -> String {
    let name = format!("t_{tag}_{}", nonce().replace('-', "_"));
    let mut c = sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut c)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e} (the role needs CREATEDB)"));
    c.close().await.unwrap();
    with_database(url, &name)
}

fn pool() -> StorePool {
    StorePool {
        max_connections: 8,
        connect_timeout: Duration::from_secs(10),
        acquire_timeout: Duration::from_secs(10),
    }
}

/// A folder removed when dropped.
struct Tmp(PathBuf);

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Two handles on one store (two nodes, or two processes on one SQLite file), for each
/// backend available: ("sqlite", a, b) and, with a server, ("postgres", a, b); and the
/// folder of the SQLite file.
async fn backends(tag: &str) -> (Vec<(&'static str, Store, Store, PathBuf)>, Tmp) {
    let dir = std::env::temp_dir().join(format!("umsgate-pgstore-{tag}-{}", nonce()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("umsgate.db");
    let mut out = vec![(
        "sqlite",
        Store::open(&file).await.unwrap(),
        Store::open(&file).await.unwrap(),
        dir.clone(),
    )];
    if let Some(server) = server_url() {
        let url = fresh_database(&server, tag).await;
        let a = Store::open_postgres(&url, None, pool()).await.unwrap();
        let b = Store::open_postgres(&url, None, pool()).await.unwrap();
        assert!(a.is_shared());
        out.push(("postgres", a, b, dir.clone()));
    }
    (out, Tmp(dir))
}

// ------------------------------------------------------------------------------------------
// Store level: the same bodies on both backends

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_per_day_limit_is_exact_across_handles() {
    let (all, _tmp) = backends("limit").await;
    for (backend, a, b, _) in all {
        let mut tasks = Vec::new();
        for n in 0..40 {
            let s = if n % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                s.reserve("pg", "Max@Example.com", Service::Fax, Some(7))
                    .await
                    .unwrap()
            }));
        }
        let mut granted = 0;
        for t in tasks {
            granted += u32::from(t.await.unwrap());
        }
        assert_eq!(granted, 7, "{backend}");
        assert_eq!(
            b.used_today("pg", "max@example.com", Service::Fax)
                .await
                .unwrap(),
            7,
            "{backend}"
        );
        // Another service, instance or user counts on its own; a release gives one back.
        assert!(
            a.reserve("pg", "max@example.com", Service::Sms, Some(1))
                .await
                .unwrap()
        );
        assert!(
            a.reserve("other", "max@example.com", Service::Fax, Some(1))
                .await
                .unwrap()
        );
        assert!(
            !a.reserve("pg", "max@example.com", Service::Fax, Some(7))
                .await
                .unwrap()
        );
        b.release("pg", "max@example.com", Service::Fax)
            .await
            .unwrap();
        assert!(
            a.reserve("pg", "max@example.com", Service::Fax, Some(7))
                .await
                .unwrap(),
            "{backend}"
        );
        assert!(
            !a.reserve("pg", "zero@example.com", Service::Fax, Some(0))
                .await
                .unwrap()
        );
        assert!(
            a.reserve("pg", "free@example.com", Service::Fax, None)
                .await
                .unwrap()
        );
        a.close().await;
        b.close().await;
    }
}

fn due_fax(fax: &str, deadline: u64) -> PendingPrint {
    PendingPrint {
        instance: "pg".into(),
        fax: fax.into(),
        rule: "Reception".into(),
        printer: "ipp://127.0.0.1:631/printers/p".into(),
        calling: "+49 30 1234567".into(),
        called: "+49 8142 4799100".into(),
        received_at: "2026-12-04T10:00:00Z".into(),
        deadline,
        state: PrintState::Waiting,
        attempts: 0,
        next_attempt: deadline,
        last_error: None,
        job_id: None,
        job_state: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_due_fax_is_claimed_by_one_node_only_and_receipts_clear_across_nodes() {
    let (all, _tmp) = backends("print").await;
    for (backend, a, b, _) in all {
        let now = clock::unix_seconds(clock::now());
        for n in 0..30 {
            a.print_expect(&due_fax(&format!("F{n:02}"), now - 1))
                .await
                .unwrap();
        }
        a.print_expect(&due_fax("LATER", now + 3600)).await.unwrap();
        b.print_message("pg", "LATER", "later@umsgate.test")
            .await
            .unwrap();
        let mut rounds = Vec::new();
        for n in 0..6 {
            let s = if n % 2 == 0 { a.clone() } else { b.clone() };
            rounds.push(tokio::spawn(async move {
                s.print_claim_due("pg", clock::now(), 8).await.unwrap()
            }));
        }
        let mut seen = HashSet::new();
        for r in rounds {
            for p in r.await.unwrap() {
                assert!(
                    seen.insert(p.fax.clone()),
                    "{backend}: {} claimed twice",
                    p.fax
                );
            }
        }
        // A claim skips rows another claim holds at that moment: what the concurrent rounds
        // left is claimed by the next ones, still once each.
        loop {
            let more = a.print_claim_due("pg", clock::now(), 8).await.unwrap();
            if more.is_empty() {
                break;
            }
            for p in more {
                assert!(
                    seen.insert(p.fax.clone()),
                    "{backend}: {} claimed twice",
                    p.fax
                );
            }
        }
        assert_eq!(seen.len(), 30, "{backend}");
        assert_eq!(
            a.print_receipt("pg", "later@umsgate.test").await.unwrap(),
            umsgate::store::ReceiptEffect::Cleared("LATER".into()),
            "{backend}"
        );
        assert_eq!(
            b.print_get("pg", "LATER").await.unwrap().unwrap().state,
            PrintState::Read
        );
        // The claimed faxes are next due after their lease (claimed at `now` or a moment later).
        let next = b.print_next_due("pg").await.unwrap().unwrap();
        let lease = umsgate::store::PRINT_LEASE.as_secs();
        assert!(
            (now + lease..now + lease + 30).contains(&next),
            "{backend}: {next} vs {now}"
        );
        a.close().await;
        b.close().await;
    }
}

fn entry(id: &str, service: Service, calling: &str, at: &str) -> JournalEntry {
    JournalEntry {
        instance: "pg".into(),
        id: id.into(),
        kind: JournalKind::Message,
        service,
        calling: calling.into(),
        called: "+49 8142 4799100".into(),
        recipient: "Jane@example.com".into(),
        received_at: at.into(),
        subject: format!("Fax from {calling}"),
        size: 1200,
    }
}

#[tokio::test]
async fn the_journal_index_is_shared_and_a_message_indexed_again_is_replaced() {
    let (all, _tmp) = backends("journal").await;
    for (backend, a, b, _) in all {
        a.journal_add(&entry("M1", Service::Fax, "+4930", "2026-12-04T10:00:00Z"))
            .await
            .unwrap();
        b.journal_add(&entry("M2", Service::Sms, "+4930", "2026-12-04T11:00:00Z"))
            .await
            .unwrap();
        let again = entry("M1", Service::Fax, "+49 31", "2026-12-04T09:00:00Z");
        a.journal_add(&again).await.unwrap();
        let mine = JournalQuery {
            instance: Some("pg".into()),
            recipient: Some("jane@EXAMPLE.com".into()),
            limit: 10,
            ..JournalQuery::default()
        };
        let (listed, total) = b.journal_list(&mine).await.unwrap();
        let ids: Vec<&str> = listed.iter().map(|e| e.id.as_str()).collect();
        assert_eq!((ids, total), (vec!["M2", "M1"], 2), "{backend}");
        assert_eq!(
            listed[1],
            JournalEntry {
                recipient: "jane@example.com".into(),
                ..again.clone()
            },
            "{backend}: kept in lower case"
        );
        let (found, _) = b
            .journal_list(&JournalQuery {
                search: Some("4931".into()),
                ..mine.clone()
            })
            .await
            .unwrap();
        assert_eq!(
            found.len(),
            1,
            "{backend}: a number whatever its separators"
        );
        let other = JournalQuery {
            instance: Some("other".into()),
            ..mine
        };
        assert_eq!(b.journal_list(&other).await.unwrap().1, 0, "{backend}");
        assert!(a.journal_remove("pg", "M1").await.unwrap(), "{backend}");
        assert!(
            b.journal_get("pg", "M1").await.unwrap().is_none(),
            "{backend}"
        );
    }
}

/// The console of a node on the shared store reads the journal's index there (not a SQLite
/// file of its own).
#[tokio::test]
async fn the_console_reads_the_journal_of_the_shared_store() {
    let Some(server) = server_url() else {
        return;
    };
    let url = fresh_database(&server, "webjournal").await;
    let node = Store::open_postgres(&url, None, pool()).await.unwrap();
    node.journal_add(&entry("W1", Service::Fax, "+4930", "2026-12-04T10:00:00Z"))
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("umsgate-pgweb-{}", nonce()));
    std::fs::create_dir_all(&dir).unwrap();
    let _tmp = Tmp(dir.clone());
    let text = format!(
        "[service]\nstate_dir = \"state\"\nlog_dir = \"log\"\nstore = \"{url}\"\n\n\
         [service.web]\nlisten = \"127.0.0.1:0\"\n\n\
         [[instance]]\nid = \"pg\"\n[instance.smtp_in]\nlisten = [\"127.0.0.1:0\"]\n\
         [instance.mail]\ndomain = \"example.com\"\ndefault_recipient = \"postmaster@example.com\"\n\
         report_sender = \"ums@example.com\"\nstore = \"journal\"\n\
         [instance.directory]\nkind = \"file\"\npath = \"users.toml\"\n"
    );
    let path = dir.join("umsgate.toml");
    std::fs::write(&path, &text).unwrap();
    std::fs::write(dir.join("users.toml"), "").unwrap();
    let config = umsgate::config::Config::parse(&text, &path).unwrap();
    let web = umsgate::web::Web::new(std::sync::Arc::new(config), None)
        .await
        .unwrap();
    let store = web.store().expect("the console has the shared store");
    assert!(store.is_shared());
    assert!(store.journal_get("pg", "W1").await.unwrap().is_some());
    assert!(!dir.join("state/umsgate.db").exists());
}

fn record(id: &str) -> JobRecord {
    JobRecord {
        job_id: id.into(),
        service: Service::Fax,
        e164: "+4930123456".into(),
        rcpt_address: "+4930123456@fax.example.com".into(),
        report_to: Some("jane@example.com".into()),
        user: "jane@example.com".into(),
        language: Language::De,
        html: true,
        report_delete: false,
        subject: Some("Angebot".into()),
        original_message_id: Some("m1@example.com".into()),
        pages: Some(2),
        queued_at: "2026-12-04T10:00:00Z".into(),
    }
}

#[tokio::test]
async fn a_job_record_written_by_one_node_is_read_and_removed_by_another() {
    let (all, _tmp) = backends("jobs").await;
    for (backend, a, b, dir) in all {
        // SQLite: one node, its journal; PostgreSQL: the store, seen from two nodes.
        let (wa, rb) = if a.is_shared() {
            (
                JobRecords::shared(a.clone(), "pg"),
                JobRecords::shared(b.clone(), "pg"),
            )
        } else {
            let j = JobRecords::open(&dir.join("jobs")).unwrap();
            (j.clone(), j)
        };
        wa.write(&record("Q1-0")).await.unwrap();
        wa.write(&record("Q1-1")).await.unwrap();
        assert_eq!(
            rb.read("Q1-0").await.unwrap(),
            Some(record("Q1-0")),
            "{backend}"
        );
        assert!(rb.contains("Q1-1").await.unwrap());
        rb.remove("Q1-0").await.unwrap();
        assert_eq!(wa.read("Q1-0").await.unwrap(), None, "{backend}");
        assert!(!wa.contains("Q1-0").await.unwrap());
        // Written again (a resubmission after a crash): one record, the latest.
        let mut again = record("Q1-1");
        again.pages = Some(3);
        wa.write(&again).await.unwrap();
        assert_eq!(rb.read("Q1-1").await.unwrap(), Some(again));
        if a.is_shared() {
            let other = JobRecords::shared(b.clone(), "other-instance");
            assert_eq!(other.read("Q1-1").await.unwrap(), None);
            // A job whose record is kept is not counted again; others count up to the limit.
            let r = |job: &'static str| {
                let b = b.clone();
                async move {
                    let json = serde_json::to_string(&record(job)).unwrap();
                    b.reserve_job("pg", "jane@example.com", Service::Fax, Some(1), job, &json)
                        .await
                        .unwrap()
                }
            };
            assert_eq!(r("Q1-1").await, Reservation::Recorded);
            assert_eq!(r("Q2-0").await, Reservation::Granted);
            // The granted slot's record was written with it; a refused job has none.
            assert_eq!(rb.read("Q2-0").await.unwrap(), Some(record("Q2-0")));
            assert_eq!(r("Q3-0").await, Reservation::Refused);
            assert_eq!(rb.read("Q3-0").await.unwrap(), None);
            assert_eq!(r("Q1-1").await, Reservation::Recorded);
            assert_eq!(
                a.used_today("pg", "jane@example.com", Service::Fax)
                    .await
                    .unwrap(),
                1
            );
        }
    }
}

#[tokio::test]
async fn opening_again_migrates_nothing_twice_and_an_earlier_sqlite_database_is_adopted() {
    // A database of the release before migrations: its tables, no migration table.
    let dir = std::env::temp_dir().join(format!("umsgate-pgstore-old-{}", nonce()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("umsgate.db");
    {
        let mut c =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", file.display()))
                .await
                .unwrap();
        sqlx::raw_sql(
            "CREATE TABLE usage (instance TEXT NOT NULL, user TEXT NOT NULL, service TEXT NOT NULL,
                 day TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (instance, user, service, day));
             CREATE TABLE journal (instance TEXT NOT NULL, id TEXT NOT NULL, service TEXT NOT NULL,
                 calling TEXT NOT NULL, called TEXT NOT NULL, recipient TEXT NOT NULL,
                 received_at TEXT NOT NULL, PRIMARY KEY (instance, id));",
        )
        .execute(&mut c)
        .await
        .unwrap();
        sqlx::query("INSERT INTO usage VALUES ('pg', 'old@example.com', 'fax', ?1, 4)")
            .bind(clock::local_day(clock::now()))
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    let s = Store::open(&file).await.unwrap();
    assert_eq!(
        s.used_today("pg", "old@example.com", Service::Fax)
            .await
            .unwrap(),
        4
    );
    assert!(
        !s.reserve("pg", "old@example.com", Service::Fax, Some(4))
            .await
            .unwrap()
    );
    s.close().await;
    let s = Store::open(&file).await.unwrap();
    assert!(s.describe().await.unwrap().starts_with("SQLite "));
    s.close().await;
    if let Some(server) = server_url() {
        let url = fresh_database(&server, "migrate").await;
        for _ in 0..2 {
            let s = Store::open_postgres(&url, None, pool()).await.unwrap();
            assert!(s.describe().await.unwrap().starts_with("PostgreSQL "));
            s.close().await;
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_wrong_password_and_an_unreachable_server_are_errors_that_say_so() {
    let Some(server) = server_url() else { return };
    let wrong = server.replacen(":pg-secret@", ":not-the-password@", 1);
    assert_ne!(
        wrong, server,
        "DATABASE_URL carries its password as user:password@"
    );
    let e = Store::open_postgres(&wrong, None, pool())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("password authentication failed"),
        "{e}"
    );
    assert!(!e.to_string().contains("not-the-password"), "{e}");
    // The password from a file (`store_password_file`) is used when the URL has none.
    let no_pw = server.replacen(":pg-secret@", "@", 1);
    let s = Store::open_postgres(&no_pw, Some("pg-secret"), pool())
        .await
        .unwrap();
    s.close().await;
    let closed = free_addr();
    let e = Store::open_postgres(
        &format!("postgres://umsgate:x@{closed}/umsgate"),
        None,
        pool(),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains("refused") || e.to_string().contains("no connection"),
        "{e}"
    );
}

// ------------------------------------------------------------------------------------------
// Nodes: real processes

const USERS: &str = r#"
[[user]]
mail = "limited@example.com"
ums = "ums1;fax.rights=international;fax.per_day=3"

[[user]]
mail = "jane@example.com"
ums = "ums1;fax.rights=international"
"#;

/// One node: its own folder (state, logs, Maildir), the shared `store`, instance `pg`.
fn node(name: &str, store: &str, gateway: &str, pool: &str) -> (Work, SocketAddr) {
    let work = Work::new(name);
    let addr = free_addr();
    std::fs::write(work.dir.join("users.toml"), USERS).unwrap();
    let config = TestConfig::new(addr)
        .title("umsgate PostgreSQL store test")
        .service(&format!("store = \"{store}\""))
        .service(pool)
        .site()
        .id("pg")
        .gateway(gateway)
        .render();
    std::fs::write(work.config_path(), config).unwrap();
    (work, addr)
}

fn fax_mail(from: &str, to: &str, marker: &str) -> Vec<u8> {
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: pg {marker}\r\nMessage-ID: <{marker}@pg.test>\r\n\
         Date: Fri, 04 Dec 2026 10:15:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nA fax, {marker}.\r\n"
    )
    .into_bytes()
}

/// Sends one mail; returns the final reply's code.
fn send(addr: SocketAddr, from: &str, to: &str, marker: &str) -> u16 {
    let (mut c, greeting) = Smtp::connect(addr).unwrap();
    assert_eq!(greeting.code, 220, "{greeting:?}");
    c.ehlo("client.pg.test").unwrap();
    let code = match c.send(from, &[to], &fax_mail(from, to, marker)).unwrap() {
        Ok(r) | Err(r) => r.code,
    };
    c.quit();
    code
}

/// The mails in `work`'s Maildir for `rcpt`.
fn mails(work: &Work, rcpt: &str) -> Vec<String> {
    let dir = work.dir.join("maildir").join(rcpt).join("new");
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Jobs the simulated engine of `work`'s node took.
fn sim_jobs(work: &Work) -> Vec<serde_json::Value> {
    std::fs::read_to_string(work.dir.join("state/pg/gateway/sim/sent.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn server_for_nodes() -> String {
    server_url().unwrap_or_else(|| {
        panic!(
            "this test runs umsgate nodes on PostgreSQL: set UMSGATE_TEST_PEERS=1 and DATABASE_URL \
             (.ci/run starts scripts/postgres/start.sh)"
        )
    })
}

#[test]
fn two_nodes_on_one_database_hold_a_per_day_limit_of_three_among_ten_faxes() {
    let db = block_on(fresh_database(&server_for_nodes(), "nodes_limit"));
    let sim = "kind = \"sim\"\ndelay = \"100ms\"";
    let (wa, aa) = node("pg-limit-a", &db, sim, "");
    let (wb, ab) = node("pg-limit-b", &db, sim, "");
    let mut da = Daemon::run(&wa, aa);
    let mut db_ = Daemon::run(&wb, ab);
    da.wait_ready();
    db_.wait_ready();
    let run = nonce();
    let rcpt = "+4930123456@fax.example.com";
    let senders: Vec<_> = (0..10)
        .map(|n| {
            let addr = if n % 2 == 0 { aa } else { ab };
            let marker = format!("lim{n}-{run}");
            std::thread::spawn(move || send(addr, "limited@example.com", rcpt, &marker))
        })
        .collect();
    for s in senders {
        assert_eq!(s.join().unwrap(), 250);
    }
    // Every fax ends as a job or a daily-limit report, on whichever node took its mail.
    let limit_reports = || {
        [&wa, &wb]
            .iter()
            .flat_map(|w| mails(w, "limited@example.com"))
            .filter(|m| m.contains("daily limit for faxes (3)"))
            .count()
    };
    let jobs = || sim_jobs(&wa).len() + sim_jobs(&wb).len();
    wait_for("10 faxes handled (jobs + daily-limit reports)", || {
        (jobs() + limit_reports() >= 10).then_some(())
    });
    assert_eq!(jobs(), 3, "a: {:?}\nb: {:?}", sim_jobs(&wa), sim_jobs(&wb));
    assert_eq!(limit_reports(), 7);
    let st = block_on(async {
        let s = Store::open_postgres(&db, None, pool()).await.unwrap();
        let n = s
            .used_today("pg", "limited@example.com", Service::Fax)
            .await
            .unwrap();
        s.close().await;
        n
    });
    assert_eq!(st, 3);
    assert!(da.sigterm().success());
    assert!(db_.sigterm().success());
}

#[test]
fn a_delivery_report_is_mailed_by_the_node_that_did_not_submit_the_job() {
    let db = block_on(fresh_database(&server_for_nodes(), "nodes_report"));
    let shared = Work::new("pg-report-gateway");
    let gateway = format!("kind = \"spool\"\ndir = \"{}\"", shared.dir.display());
    let (wa, aa) = node("pg-report-a", &db, &gateway, "");
    let (wb, ab) = node("pg-report-b", &db, &gateway, "");
    let mut da = Daemon::run(&wa, aa);
    da.wait_ready();
    let marker = format!("rep-{}", nonce());
    assert_eq!(
        send(
            aa,
            "jane@example.com",
            "+4930123456@fax.example.com",
            &marker
        ),
        250
    );
    let outbox = shared.dir.join("outbox");
    let job_id = wait_for("the job in the shared outbox", || {
        std::fs::read_dir(&outbox).ok()?.flatten().find_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (!name.starts_with('.')).then_some(name)
        })
    });
    // Node A goes away; the engine reports; node B (never saw the job) picks it up.
    assert!(da.sigterm().success());
    let reports = shared.dir.join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let report = serde_json::json!({
        "job_id": job_id, "status": "sent", "pages": 1, "duration_s": 30, "attempts": 1,
        "finished_at": "2026-12-04T10:20:00Z", "remote_id": "+49 30 123456"
    });
    let tmp = reports.join(format!(".{job_id}.json.tmp"));
    std::fs::write(&tmp, report.to_string()).unwrap();
    std::fs::rename(&tmp, reports.join(format!("{job_id}.json"))).unwrap();
    let mut dbn = Daemon::run(&wb, ab);
    dbn.wait_ready();
    let mail = wait_for("the delivery report in node B's Maildir", || {
        mails(&wb, "jane@example.com")
            .into_iter()
            .find(|m| m.contains(&format!("<{marker}@pg.test>")))
    });
    assert!(mail.contains("pg ") && mail.contains(&marker), "{mail}");
    wait_for("the report file taken", || {
        (!reports.join(format!("{job_id}.json")).exists()).then_some(())
    });
    assert!(
        !reports.join(format!("{job_id}.orphan")).exists(),
        "node B did not find the record"
    );
    assert!(mails(&wa, "jane@example.com").is_empty());
    // The record is forgotten once the report is mailed.
    let kept = block_on(async {
        let s = Store::open_postgres(&db, None, pool()).await.unwrap();
        let r = s.job_get("pg", &job_id).await.unwrap();
        s.close().await;
        r
    });
    assert_eq!(kept, None);
    assert!(dbn.sigterm().success());
}

/// `scripts/postgres/<name>.sh` of this repository.
fn pg_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/postgres")
        .join(format!("{name}.sh"))
}

fn run_script(name: &str, state: &Path, port: u16) {
    let out = Command::new("bash")
        .arg(pg_script(name))
        .arg(state)
        .env("PG_PORT", port.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/postgres/{name}.sh: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A cluster of its own, stopped (and removed) when dropped.
struct Cluster {
    state: PathBuf,
    port: u16,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(pg_script("stop"))
            .arg(&self.state)
            .arg("--purge")
            .output();
    }
}

#[test]
fn a_node_that_loses_its_database_defers_new_mail_keeps_what_it_took_and_goes_on_when_it_is_back() {
    // PostgreSQL must be there for this test as for the others (a peer).
    server_for_nodes();
    let state = std::env::temp_dir().join(format!("umsgate-pg-outage-{}", nonce()));
    let cluster = Cluster {
        state,
        port: free_addr().port(),
    };
    run_script("start", &cluster.state, cluster.port);
    let url = format!(
        "postgres://umsgate:pg-secret@127.0.0.1:{}/umsgate",
        cluster.port
    );
    let sim = "kind = \"sim\"\ndelay = \"100ms\"";
    let pool = "store_pool = { acquire_timeout = \"2s\", connect_timeout = \"5s\" }";
    let (w, addr) = node("pg-outage", &url, sim, pool);
    let mut d = Daemon::run(&w, addr);
    d.wait_ready();
    let run = nonce();
    assert_eq!(
        send(
            addr,
            "jane@example.com",
            "+4930123456@fax.example.com",
            &format!("before-{run}")
        ),
        250
    );
    wait_for("the first job", || (sim_jobs(&w).len() == 1).then_some(()));

    run_script("stop", &cluster.state, cluster.port);
    // Mail that reaches the node before it notices (it asks the database every 2 s) is
    // accepted and waits in smtp-in/; once it has noticed, RCPT is answered 451 4.3.0 and
    // the mail server keeps the mail. Every mail answered 250 must become a job later.
    let smtp_in = w.dir.join("state/pg/smtp-in");
    let mut accepted = Vec::new();
    let first = format!("during-{run}-000");
    match send(
        addr,
        "jane@example.com",
        "+4930123456@fax.example.com",
        &first,
    ) {
        250 => accepted.push(first.clone()),
        451 => {}
        code => panic!("mail during the outage answered {code}"),
    }
    let mut n = 0;
    wait_for("RCPT answered 451 while the database is away", || {
        n += 1;
        let marker = format!("during-{run}-{n:03}");
        match send(
            addr,
            "jane@example.com",
            "+4930123456@fax.example.com",
            &marker,
        ) {
            250 => {
                accepted.push(marker);
                None
            }
            451 => Some(()),
            code => panic!("mail during the outage answered {code}"),
        }
    });
    assert!(
        std::fs::read_to_string(w.dir.join("log/pg/smtp.log"))
            .unwrap_or_default()
            .contains("reason=state store unavailable")
    );
    for marker in &accepted {
        // Accepted before the node noticed: kept, with the store's error and a retry.
        let sidecar = wait_for("a retry recorded for the mail", || {
            support::read_spool(&smtp_in)
                .into_iter()
                .find(|q| q.contains(marker.as_str()))
                .map(|q| q.sidecar())
                .filter(|s| s["attempts"].as_u64().unwrap_or(0) >= 1)
        });
        let error = sidecar["last_error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(error.contains("state store"), "{sidecar}");
    }
    assert_eq!(sim_jobs(&w).len(), 1);

    // The database comes back: the node takes mail again, and hands over what it kept.
    run_script("start", &cluster.state, cluster.port);
    let after = format!("after-{run}");
    wait_for("RCPT accepted once the database is back", || {
        (send(
            addr,
            "jane@example.com",
            "+4930123456@fax.example.com",
            &after,
        ) == 250)
            .then_some(())
    });
    accepted.push(after);
    wait_for(
        "every accepted mail a job once the database is back",
        || (sim_jobs(&w).len() == 1 + accepted.len()).then_some(()),
    );
    let jobs = sim_jobs(&w);
    for marker in &accepted {
        assert_eq!(
            jobs.iter()
                .filter(|j| j.to_string().contains(marker.as_str()))
                .count(),
            1,
            "{marker}: {jobs:?}"
        );
    }
    wait_for("smtp-in/ empty", || {
        support::read_spool(&smtp_in).is_empty().then_some(())
    });
    assert!(d.sigterm().success());
}

#[test]
fn check_connects_to_the_database_and_says_what_is_wrong() {
    let server = server_for_nodes();
    let sim = "kind = \"sim\"";
    let line = |w: &Work| {
        let out = w.umsgate(&["check"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = text
            .lines()
            .find(|l| l.starts_with("state store: "))
            .unwrap_or_else(|| panic!("no state store line:\n{}", support::describe(&out)))
            .to_owned();
        (out.status.success(), text, line)
    };
    let (ok, _) = node("pg-check-ok", &server, sim, "");
    let (_, text, l) = line(&ok);
    assert!(
        l.starts_with("state store: ok: ") && l.contains("PostgreSQL "),
        "{l}"
    );
    assert!(!text.contains("pg-secret"), "{text}");

    let wrong = server.replacen(":pg-secret@", ":wrong-secret@", 1);
    let (bad, _) = node("pg-check-pw", &wrong, sim, "");
    let (success, text, l) = line(&bad);
    assert!(!success);
    assert!(
        l.contains("FAILED") && l.contains("wrong user or password"),
        "{l}"
    );
    assert!(!text.contains("wrong-secret"), "{text}");

    // The password from a file.
    let no_pw = server.replacen(":pg-secret@", "@", 1);
    let (file, _) = node(
        "pg-check-file",
        &no_pw,
        sim,
        "store_password_file = \"db.pw\"",
    );
    std::fs::write(file.dir.join("db.pw"), "pg-secret\n").unwrap();
    let (_, _, l) = line(&file);
    assert!(l.starts_with("state store: ok: "), "{l}");

    let closed = free_addr();
    let (down, _) = node(
        "pg-check-down",
        &format!("postgres://umsgate@{closed}/umsgate"),
        sim,
        "",
    );
    let (success, _, l) = line(&down);
    assert!(!success);
    assert!(l.contains("FAILED") && l.contains("reachable"), "{l}");
}

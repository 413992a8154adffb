#![allow(clippy::unwrap_used)]
//! The gateway against a stand-in sendsms (an axum server recording its requests) and its
//! listener over real HTTP.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU16, Ordering};

use axum::extract::RawQuery;
use umsgate_domain::{Priority, SitePlanFields};

use super::*;
use crate::config::Secret;
use crate::gateway::received::ReceivedMessage;

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

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("umsgate-kannel-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn job(id: &str, service: Service, text: &str) -> Job {
    Job {
        job_id: id.into(),
        service,
        number: "+49 30 123456".into(),
        e164: "+4930123456".into(),
        sender: "jane@example.com".into(),
        priority: Priority::Normal,
        pages: None,
        cover: None,
        headline: None,
        origin: None,
        billing: None,
        text: Some(text.into()),
        attachments: vec![],
        fax_sender: None,
        cover_fields: BTreeMap::new(),
        sms_sender: Some("+4917012345".into()),
        subject: None,
        files: vec![],
    }
}

/// A stand-in sendsms answering `status` to every request and keeping the queries; with
/// `journal` set, also what that file held when each request came.
struct FakeSendsms {
    url: String,
    queries: Arc<Mutex<Vec<String>>>,
    status: Arc<AtomicU16>,
    journal: Arc<Mutex<Option<PathBuf>>>,
    seen: Arc<Mutex<Vec<String>>>,
}

async fn fake_sendsms() -> FakeSendsms {
    let queries = Arc::new(Mutex::new(Vec::new()));
    let status = Arc::new(AtomicU16::new(202));
    let journal: Arc<Mutex<Option<PathBuf>>> = Arc::new(Mutex::new(None));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (q, st, j, sn) = (
        Arc::clone(&queries),
        Arc::clone(&status),
        Arc::clone(&journal),
        Arc::clone(&seen),
    );
    let app = axum::Router::new().route(
        "/cgi-bin/sendsms",
        axum::routing::get(move |RawQuery(query): RawQuery| {
            let (q, st, j, sn) = (
                Arc::clone(&q),
                Arc::clone(&st),
                Arc::clone(&j),
                Arc::clone(&sn),
            );
            async move {
                let path = j.lock().unwrap().clone();
                if let Some(p) = path {
                    sn.lock()
                        .unwrap()
                        .push(std::fs::read_to_string(p).unwrap_or_default());
                }
                q.lock().unwrap().push(query.unwrap_or_default());
                let code = st.load(Ordering::SeqCst);
                (
                    axum::http::StatusCode::from_u16(code).unwrap(),
                    if code == 202 {
                        "0: Accepted for delivery"
                    } else {
                        "Missing receiver number, rejected"
                    },
                )
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cgi-bin/sendsms", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    FakeSendsms {
        url,
        queries,
        status,
        journal,
        seen,
    }
}

/// Hand-overs made at the same moment are each in the journal before their sendsms call, and
/// all of them are read back after a restart.
#[tokio::test]
async fn concurrent_hand_overs_are_recorded_before_sendsms() {
    let fake = fake_sendsms().await;
    let dir = tempdir("concurrent");
    let g = Arc::new(KannelGateway::open(&dir, &config(&fake.url), &plan()).unwrap());
    *fake.journal.lock().unwrap() = Some(dir.join("pending.jsonl"));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let g = Arc::clone(&g);
        tasks.spawn(async move { g.submit(&job(&format!("C{i}-0"), Service::Sms, "x")).await });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    let queries = fake.queries.lock().unwrap().clone();
    let seen = fake.seen.lock().unwrap().clone();
    assert_eq!(queries.len(), 16);
    for (q, journal) in queries.iter().zip(&seen) {
        let id = q
            .split('&')
            .find_map(|kv| kv.strip_prefix("dlr-url="))
            .and_then(|u| u.split("job%3D").nth(1))
            .and_then(|rest| rest.split("%26").next())
            .unwrap();
        assert!(
            journal
                .lines()
                .any(|l| l.contains("\"op\":\"sent\"") && l.contains(&format!("\"{id}\""))),
            "{id} not recorded before its sendsms: {journal}"
        );
    }
    drop(g);
    let g = KannelGateway::open(&dir, &config(&fake.url), &plan()).unwrap();
    for i in 0..16 {
        assert_eq!(g.store.known(&format!("C{i}-0")), Known::Accepted);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn config(sendsms_url: &str) -> KannelConfig {
    KannelConfig {
        sendsms_url: sendsms_url.into(),
        secret: Some(Secret::new("sms-secret".into())),
        listen: "127.0.0.1:0".parse().unwrap(),
        callback_url: Some("http://umsgate.test:10080".into()),
        callback_key: Some(Secret::new("cb-key".into())),
        ..KannelConfig::default()
    }
}

#[tokio::test]
async fn an_sms_is_sent_once_and_other_services_are_refused() {
    let fake = fake_sendsms().await;
    let dir = tempdir("submit");
    let g = KannelGateway::open(&dir, &config(&fake.url), &plan()).unwrap();
    g.submit(&job("Q1-0", Service::Sms, "Grüße – 5 €"))
        .await
        .unwrap();
    g.submit(&job("Q1-0", Service::Sms, "Grüße – 5 €"))
        .await
        .unwrap();
    let queries = fake.queries.lock().unwrap().clone();
    assert_eq!(queries.len(), 1, "{queries:?}");
    let q = &queries[0];
    assert!(
        q.contains("to=%2B4930123456") && q.contains("from=%2B4917012345"),
        "{q}"
    );
    assert!(q.contains("coding=2&charset=UTF-8"), "{q}");
    assert!(q.contains("username=umsgate&password=sms-secret"), "{q}");
    assert!(
        q.contains("dlr-url=http%3A%2F%2Fumsgate.test%3A10080%2Fdlr%3Fkey%3Dcb-key%26job%3DQ1-0%26type%3D%25d"),
        "{q}"
    );
    assert_eq!(g.store.known("Q1-0"), Known::Accepted);
    let rec = g.store.overdue(u64::MAX, Duration::ZERO);
    assert_eq!(rec.len(), 1, "{rec:?}");
    assert_eq!((rec[0].coding.as_str(), rec[0].parts), ("ucs2", 1));
    // What a restart reads back.
    drop(g);
    let g = KannelGateway::open(&dir, &config(&fake.url), &plan()).unwrap();
    assert_eq!(g.store.known("Q1-0"), Known::Accepted);
    g.submit(&job("Q1-0", Service::Sms, "Grüße – 5 €"))
        .await
        .unwrap();
    assert_eq!(fake.queries.lock().unwrap().len(), 1, "not sent twice");

    let e = g.submit(&job("Q2-0", Service::Fax, "")).await.unwrap_err();
    assert!(!e.temporary && e.detail.contains("SMS only"), "{e}");
    let e = g
        .submit(&job("Q3-0", Service::Voice, ""))
        .await
        .unwrap_err();
    assert!(!e.temporary, "{e}");

    fake.status.store(400, Ordering::SeqCst);
    let e = g.submit(&job("Q4-0", Service::Sms, "x")).await.unwrap_err();
    assert!(!e.temporary && e.detail.contains("Missing receiver"), "{e}");
    assert_eq!(g.store.known("Q4-0"), Known::Unknown);
    fake.status.store(503, Ordering::SeqCst);
    assert!(
        g.submit(&job("Q5-0", Service::Sms, "x"))
            .await
            .unwrap_err()
            .temporary
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_refused_connection_is_temporary_and_says_no_password() {
    let dir = tempdir("down");
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = config(&format!("http://127.0.0.1:{port}/cgi-bin/sendsms"));
    let g = KannelGateway::open(&dir, &cfg, &plan()).unwrap();
    let e = g.submit(&job("Q1-0", Service::Sms, "x")).await.unwrap_err();
    assert!(e.temporary, "{e}");
    assert!(!e.detail.contains("sms-secret"), "{e}");
    assert_eq!(g.store.known("Q1-0"), Known::Unknown);
    std::fs::remove_dir_all(&dir).unwrap();
}

struct Running {
    base: String,
    dir: PathBuf,
    received: PathBuf,
    gateway: Arc<KannelGateway>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

async fn running(name: &str, cfg: KannelConfig) -> Running {
    let dir = tempdir(name);
    let received = dir.join("received");
    std::fs::create_dir_all(&received).unwrap();
    let gateway = Arc::new(KannelGateway::open(&dir.join("kannel"), &cfg, &plan()).unwrap());
    let (stop, rx) = tokio::sync::watch::channel(false);
    let (g, r) = (Arc::clone(&gateway), received.clone());
    let task = tokio::spawn(async move {
        g.run(rx, r, Arc::new(tokio::sync::Notify::new())).await;
    });
    Running {
        base: format!("http://{}", gateway.listen_addr()),
        dir,
        received,
        gateway,
        stop,
        task,
    }
}

impl Running {
    async fn get(&self, path_query: &str) -> (u16, String) {
        let r = reqwest::get(format!("{}{path_query}", self.base))
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    fn pending(&self, id: &str) {
        self.gateway
            .store
            .record(&PendingRecord {
                job_id: id.into(),
                to: "+4930123456".into(),
                coding: "gsm7".into(),
                parts: 1,
                since: clock::unix_seconds(clock::now()),
                accepted: true,
            })
            .unwrap();
    }

    fn received(&self) -> Vec<ReceivedMessage> {
        std::fs::read_dir(&self.received)
            .unwrap()
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| ReceivedMessage::read(&e.path()).unwrap())
            .collect()
    }

    async fn stop(self) {
        self.stop.send(true).unwrap();
        self.task.await.unwrap();
        std::fs::remove_dir_all(&self.dir).unwrap();
    }
}

#[tokio::test]
async fn callbacks_without_the_secret_or_from_elsewhere_are_forbidden() {
    let r = running("forbidden", config("http://127.0.0.1:9/")).await;
    r.pending("Q1-0");
    for q in [
        "/dlr?job=Q1-0&type=1",
        "/dlr?key=wrong&job=Q1-0&type=1",
        "/dlr?key=cb-ke&job=Q1-0&type=1",
        "/mo?from=1&to=2&text=x",
    ] {
        assert_eq!(r.get(q).await.0, 403, "{q}");
    }
    assert!(r.gateway.reports().await.is_empty());
    assert!(r.received().is_empty());
    r.stop().await;

    let cfg = KannelConfig {
        allow_from: vec!["192.0.2.0/24".parse().unwrap()],
        ..config("http://127.0.0.1:9/")
    };
    let r = running("forbidden-ip", cfg).await;
    assert_eq!(r.get("/mo?key=cb-key&from=1&to=2&text=x").await.0, 403);
    r.stop().await;
}

#[tokio::test]
async fn bad_callbacks_get_400_with_the_reason() {
    let r = running("bad", config("http://127.0.0.1:9/")).await;
    for (q, reason) in [
        ("/dlr?key=cb-key&type=1", "`job` is missing"),
        (
            "/dlr?key=cb-key&job=Q1-0&type=3",
            "`type` has an invalid value",
        ),
        (
            "/dlr?key=cb-key&job=..%2Fetc&type=1",
            "`job` has an invalid value",
        ),
        ("/mo?key=cb-key&from=1&to=2&text=%FF", "not valid UTF-8"),
        ("/mo?key=cb-key&key=cb-key&from=1", "given twice"),
    ] {
        let (status, body) = r.get(q).await;
        assert_eq!(status, 400, "{q}");
        assert!(body.contains(reason), "{q}: {body}");
    }
    let big = format!("/mo?key=cb-key&from=1&to=2&text={}", "x".repeat(40_000));
    assert_eq!(r.get(&big).await.0, 400);
    let resp = reqwest::Client::new()
        .post(format!("{}/mo?key=cb-key&from=1&to=2", r.base))
        .body(vec![b'x'; 40_000])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    assert!(r.received().is_empty());
    r.stop().await;
}

#[tokio::test]
async fn a_final_dlr_becomes_the_jobs_report_once() {
    let r = running("dlr", config("http://127.0.0.1:9/")).await;
    r.pending("Q1-0");
    r.pending("Q2-0");
    assert_eq!(
        r.get("/dlr?key=cb-key&job=Q1-0&type=8&status=ACK%2F")
            .await
            .0,
        200
    );
    assert!(
        r.gateway.reports().await.is_empty(),
        "an SMSC ack is not final"
    );
    let (status, _) = r
        .get("/dlr?key=cb-key&job=Q1-0&type=1&status=&smscid=abc-1&ts=1")
        .await;
    assert_eq!(status, 200);
    assert_eq!(r.get("/dlr?key=cb-key&job=Q1-0&type=2").await.0, 200);
    assert_eq!(
        r.get("/dlr?key=cb-key&job=Q2-0&type=16&status=NACK%2F0x0b%2FInvalid+Destination")
            .await
            .0,
        200
    );
    assert_eq!(r.get("/dlr?key=cb-key&job=NOPE-0&type=1").await.0, 200);
    let mut reports: Vec<DeliveryReport> = r
        .gateway
        .reports()
        .await
        .into_iter()
        .map(|i| i.report.unwrap())
        .collect();
    reports.sort_by(|a, b| a.job_id.cmp(&b.job_id));
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert_eq!(reports[0].status, DeliveryStatus::Sent);
    assert_eq!(reports[0].remote_id.as_deref(), Some("abc-1"));
    assert_eq!(reports[1].status, DeliveryStatus::Failed);
    assert_eq!(
        reports[1].reason.as_deref(),
        Some("refused by the SMS centre (NACK/0x0b/Invalid Destination)")
    );
    assert_eq!(r.gateway.store.known("Q1-0"), Known::Finished);
    assert_eq!(r.gateway.store.known("NOPE-0"), Known::Unknown);
    r.stop().await;
}

#[tokio::test]
async fn a_received_sms_is_written_before_the_answer_and_once() {
    let r = running("mo", config("http://127.0.0.1:9/")).await;
    let q = "/mo?key=cb-key&from=%2B4917012345&to=%2B4981424799123&text=Bitte+Fax+%E2%82%AC&coding=0&charset=UTF-8&id=m-1";
    assert_eq!(r.get(q).await.0, 200);
    assert_eq!(r.get(q).await.0, 200);
    let got = r.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].service, Service::Sms);
    assert_eq!(got[0].calling, "+4917012345");
    assert_eq!(got[0].called, "+49 8142 4799123");
    assert_eq!(got[0].text.as_deref(), Some("Bitte Fax €"));
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/mo?key=cb-key&from=%2B4917012345&to=%2B4981424799123&id=m-2",
            r.base
        ))
        .header("content-type", "text/plain; charset=UTF-16BE")
        .body(vec![0, b'G', 0, b'r', 0, 0xFC])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let texts: Vec<String> = r.received().into_iter().filter_map(|m| m.text).collect();
    assert!(texts.contains(&"Grü".to_owned()), "{texts:?}");
    r.stop().await;
}

#[test]
fn overdue_jobs_are_reported_unconfirmed() {
    let dir = tempdir("sweep");
    let store = Store::open(&dir).unwrap();
    let day = Duration::from_secs(86_400);
    for (id, since) in [("OLD-0", 1_000), ("NEW-0", 1_000 + 86_000)] {
        store
            .record(&PendingRecord {
                job_id: id.into(),
                to: "+4930123456".into(),
                coding: "gsm7".into(),
                parts: 1,
                since,
                accepted: true,
            })
            .unwrap();
    }
    let now = 1_000 + 86_400;
    let overdue = store.overdue(now, day);
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].job_id, "OLD-0");
    let report = unconfirmed(
        &overdue[0],
        day,
        std::time::UNIX_EPOCH + Duration::from_secs(now),
    );
    assert_eq!(report.status, DeliveryStatus::Failed);
    assert_eq!(
        report.reason.as_deref(),
        Some("Kannel accepted the SMS, but no delivery report came within 1d; it may have arrived")
    );
    assert!(store.finish(&report).unwrap());
    assert!(!store.finish(&report).unwrap(), "a job is finished once");
    assert_eq!(store.known("OLD-0"), Known::Finished);
    assert_eq!(store.known("NEW-0"), Known::Accepted);
    // After a restart the report still waits; once mailed it is forgotten, also after the
    // next restart, and the other job is still pending.
    drop(store);
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.known("OLD-0"), Known::Finished);
    let waiting = store.waiting_reports();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].reason, report.reason);
    store.mailed("OLD-0").unwrap();
    assert!(store.waiting_reports().is_empty());
    drop(store);
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.known("OLD-0"), Known::Unknown);
    assert!(store.waiting_reports().is_empty());
    let ids: Vec<String> = store
        .overdue(u64::MAX, day)
        .into_iter()
        .map(|r| r.job_id)
        .collect();
    assert_eq!(ids, ["NEW-0"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A record cut short by a crash was never synced, so sendsms was not called for it: it is
/// skipped, and the line after it stays whole. The accepted mark is read back; the records of
/// earlier versions (one file per job, one of them cut short) are taken over once.
#[test]
fn the_pending_journal_survives_a_crash_and_takes_over_old_records() {
    let dir = tempdir("journal");
    let rec = |id: &str, accepted| PendingRecord {
        job_id: id.into(),
        to: "+4930123456".into(),
        coding: "gsm7".into(),
        parts: 1,
        since: 5,
        accepted,
    };
    let store = Store::open(&dir).unwrap();
    store.record(&rec("A-0", false)).unwrap();
    store.mark_accepted("A-0", 7).unwrap();
    store.record(&rec("B-0", false)).unwrap();
    store.drop_pending("B-0").unwrap();
    drop(store);
    let journal = dir.join("pending.jsonl");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap();
    std::io::Write::write_all(&mut f, b"{\"op\":\"sent\",\"job_id\":\"CUT").unwrap();
    drop(f);
    std::fs::create_dir_all(dir.join("pending")).unwrap();
    let old = serde_json::to_vec(&rec("OLD-0", true)).unwrap();
    std::fs::write(dir.join("pending/OLD-0.json"), old).unwrap();
    std::fs::write(dir.join("pending/HALF-0.json"), b"{\"job_id\":").unwrap();
    // Finished by an earlier version just before it stopped: its report file is there.
    let fin = serde_json::to_vec(&rec("FIN-0", true)).unwrap();
    std::fs::write(dir.join("pending/FIN-0.json"), fin).unwrap();
    std::fs::write(dir.join("reports/FIN-0.json"), b"{}").unwrap();

    let store = Store::open(&dir).unwrap();
    assert_eq!(store.known("A-0"), Known::Accepted);
    assert_eq!(store.known("B-0"), Known::Unknown);
    assert_eq!(store.known("OLD-0"), Known::Accepted);
    assert_eq!(
        store.known("HALF-0"),
        Known::Sending,
        "counted as handed over"
    );
    assert_eq!(store.known("FIN-0"), Known::Finished);
    assert!(!dir.join("pending").exists(), "taken over once");
    store.record(&rec("C-0", false)).unwrap();
    drop(store);
    let store = Store::open(&dir).unwrap();
    let mut ids: Vec<String> = store
        .overdue(u64::MAX, Duration::ZERO)
        .into_iter()
        .map(|r| r.job_id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["A-0", "C-0", "HALF-0", "OLD-0"]);
    assert_eq!(
        store
            .overdue(u64::MAX, Duration::ZERO)
            .iter()
            .find(|r| r.job_id == "A-0")
            .map(|r| r.since),
        Some(7)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The journal is written anew once more lines are dead than [`store::COMPACT_AT`], and
/// keeps exactly the pending jobs.
#[test]
fn the_pending_journal_is_compacted() {
    let dir = tempdir("compact");
    let store = Store::open(&dir).unwrap();
    let rec = |id: String| PendingRecord {
        job_id: id,
        to: "+4930123456".into(),
        coding: "gsm7".into(),
        parts: 1,
        since: 5,
        accepted: false,
    };
    store.record(&rec("KEEP-0".into())).unwrap();
    store.record(&rec("GONE-0".into())).unwrap();
    store.drop_pending("GONE-0").unwrap();
    // Marks are not synced one by one: many of them make the journal due quickly.
    for i in 0..store::COMPACT_AT as u64 {
        store.mark_accepted("KEEP-0", i).unwrap();
    }
    let journal = dir.join("pending.jsonl");
    let before = std::fs::metadata(&journal).unwrap().len();
    store.compact_if_due().unwrap();
    let lines = crate::spool::journal::read_lines(&journal).unwrap();
    assert_eq!(lines.len(), 1, "{before} bytes before");
    assert!(lines[0].contains("KEEP-0"), "{lines:?}");
    store.record(&rec("NEXT-0".into())).unwrap();
    drop(store);
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.known("KEEP-0"), Known::Accepted);
    assert_eq!(store.known("GONE-0"), Known::Unknown);
    assert_eq!(store.known("NEXT-0"), Known::Sending);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn status_pages_are_read() {
    let xml = "<gateway><status>running</status><smscs><count>2</count>\
        <smsc><status>online 5s</status></smsc><smsc><status>connecting</status></smsc></smscs></gateway>";
    assert_eq!(status_smscs(xml), Some((1, 2)));
    assert_eq!(status_smscs("<html>nginx</html>"), None);
}

/// A stand-in status page answering `status` with `body`.
async fn status_page(status: u16, body: &'static str) -> String {
    let app = axum::Router::new().route(
        "/status.xml",
        axum::routing::get(move || async move {
            (axum::http::StatusCode::from_u16(status).unwrap(), body)
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/status.xml", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    url
}

#[tokio::test]
async fn check_says_what_is_wrong_with_kannel() {
    let cfg = |url: String| KannelConfig {
        status_url: Some(url),
        status_secret: Some(Secret::new("st".into())),
        ..KannelConfig::default()
    };
    let online = "<gateway><smscs><smsc><status>online 5s</status></smsc></smscs></gateway>";
    let offline = "<gateway><smscs><smsc><status>re-connecting</status></smsc></smscs></gateway>";
    assert_eq!(
        check(&cfg(status_page(200, online).await)).await.unwrap(),
        "Kannel runs, 1 of 1 SMSC online"
    );
    let e = check(&cfg(status_page(200, offline).await))
        .await
        .unwrap_err();
    assert!(matches!(e, CheckError::NoSmscOnline { total: 1 }), "{e}");
    let e = check(&cfg(status_page(403, "").await)).await.unwrap_err();
    assert_eq!(e.to_string(), "status page answered HTTP 403 (password?)");
    let e = check(&cfg(status_page(200, "<html>").await))
        .await
        .unwrap_err();
    assert!(matches!(e, CheckError::NotKannel), "{e}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = check(&cfg(format!("http://127.0.0.1:{port}/status.xml")))
        .await
        .unwrap_err();
    assert!(matches!(e, CheckError::Request { .. }), "{e}");
    assert!(!e.to_string().contains("password=st"), "{e}");
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn kannel_keeps_more_hand_overs_in_flight_than_a_local_engine() {
    let dir = tempdir("in-flight");
    let g = KannelGateway::open(
        &dir.join("kannel"),
        &config("http://127.0.0.1:9/s"),
        &plan(),
    );
    let kannel = crate::gateway::Gateway::Kannel(Box::new(g.unwrap()));
    let spool = crate::gateway::Gateway::Spool(
        crate::gateway::spool::SpoolGateway::open(&dir.join("spool")).unwrap(),
    );
    assert_eq!(spool.max_in_flight(), crate::gateway::LOCAL_IN_FLIGHT);
    assert_eq!(kannel.max_in_flight(), crate::gateway::NETWORK_IN_FLIGHT);
    assert!(kannel.max_in_flight() > spool.max_in_flight());
    std::fs::remove_dir_all(&dir).unwrap();
}

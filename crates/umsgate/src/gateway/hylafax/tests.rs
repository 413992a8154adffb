//! The HylaFAX client against a scripted in-process hfaxd: the commands it sends, reconnects,
//! refusals, values that must not reach the protocol, idempotency and reports.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use umsgate_domain::SitePlanFields;

use super::*;

/// How the fake answers.
#[derive(Default)]
struct Script {
    /// Close the control connection right after the greeting, this many times.
    drop_first: usize,
    /// Ask for a password.
    password: Option<String>,
    /// Reply to `JPARM <name>` with this code.
    refuse_param: Option<(&'static str, u16)>,
    /// Lines of `LIST sendq` / `LIST doneq`.
    sendq: Vec<String>,
    doneq: Vec<String>,
}

/// Everything the fake received, one command per entry; connections counted.
#[derive(Default)]
struct Seen {
    commands: Vec<String>,
    connections: usize,
    uploads: Vec<Vec<u8>>,
}

async fn fake(script: Script) -> (u16, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let script = Arc::new(Mutex::new(script));
    let s2 = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = Arc::clone(&s2);
            let script = Arc::clone(&script);
            tokio::spawn(async move { serve(stream, seen, script).await });
        }
    });
    (port, seen)
}

async fn serve(stream: tokio::net::TcpStream, seen: Arc<Mutex<Seen>>, script: Arc<Mutex<Script>>) {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 fake server (HylaFAX (tm) Version 6.0.7) ready.\r\n")
        .await
        .unwrap();
    {
        let mut s = lock(&seen);
        s.connections += 1;
    }
    {
        let mut sc = lock(&script);
        if sc.drop_first > 0 {
            sc.drop_first -= 1;
            return;
        }
    }
    let mut data: Option<TcpListener> = None;
    let mut jobs = 0;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end().to_owned();
        lock(&seen).commands.push(line.clone());
        let (verb, rest) = line.split_once(' ').unwrap_or((&line, ""));
        let reply: String = match verb {
            "USER" => match &lock(&script).password {
                Some(_) => "331 Password required for user.".into(),
                None => "230 User logged in.".into(),
            },
            "PASS" => {
                if lock(&script).password.as_deref() == Some(rest) {
                    "230 User logged in.".into()
                } else {
                    "530 Login incorrect.".into()
                }
            }
            "PASV" => {
                let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let p = l.local_addr().unwrap().port();
                data = Some(l);
                format!(
                    "227 Entering passive mode (127,0,0,1,{},{})",
                    p >> 8,
                    p & 255
                )
            }
            "STOT" => {
                let (mut conn, _) = data.take().unwrap().accept().await.unwrap();
                w.write_all(b"150 FILE: /tmp/doc9.ps (Opening new data connection).\r\n")
                    .await
                    .unwrap();
                let mut buf = Vec::new();
                conn.read_to_end(&mut buf).await.unwrap();
                lock(&seen).uploads.push(buf);
                "226 Transfer complete (FILE: /tmp/doc9.ps).".into()
            }
            "LIST" => {
                let (mut conn, _) = data.take().unwrap().accept().await.unwrap();
                w.write_all(b"150 Opening new data connection.\r\n")
                    .await
                    .unwrap();
                let lines = match rest {
                    "sendq" => lock(&script).sendq.clone(),
                    _ => lock(&script).doneq.clone(),
                };
                for l in lines {
                    conn.write_all(format!("{l}\r\n").as_bytes()).await.unwrap();
                }
                drop(conn);
                "226 Transfer complete.".into()
            }
            "JNEW" => {
                jobs += 1;
                format!(
                    "200 New job created: jobid: {} groupid: {}.",
                    40 + jobs,
                    40 + jobs
                )
            }
            "JPARM" => {
                let name = rest.split(' ').next().unwrap_or_default();
                match lock(&script).refuse_param {
                    Some((p, code)) if p == name => format!("{code} Bad {name}."),
                    _ => format!("213 {name} set."),
                }
            }
            "JSUBM" => format!("200 Job {} submitted.", 40 + jobs),
            "QUIT" => "221 Goodbye.".into(),
            _ => "200 OK.".into(),
        };
        w.write_all(format!("{reply}\r\n").as_bytes())
            .await
            .unwrap();
    }
}

fn plan() -> SitePlan {
    SitePlan::new(SitePlanFields {
        country_code: "49".into(),
        area_code: "8142".into(),
        subscriber: "4799".into(),
        extension_digits: 3,
        international_prefix: "00".into(),
        national_prefix: "0".into(),
        outside_line: "0".into(),
    })
    .unwrap()
}

fn cfg(port: u16) -> HylafaxConfig {
    HylafaxConfig {
        port,
        reply_timeout: Duration::from_secs(5),
        // The fake serves passive data connections; active ones are run against the real
        // hfaxd (tests/hylafax_e2e.rs).
        passive: true,
        ..HylafaxConfig::default()
    }
}

fn job(id: &str) -> Job {
    Job {
        job_id: id.into(),
        service: Service::Fax,
        number: "+33 1 23 45 67 89".into(),
        e164: "+33123456789".into(),
        sender: "jane@example.com".into(),
        priority: Priority::High,
        pages: Some(1),
        cover: None,
        headline: Some("Example \"Corp\" 50%".into()),
        origin: None,
        billing: None,
        text: None,
        attachments: vec![],
        fax_sender: Some("+49 8142 4799123".into()),
        cover_fields: BTreeMap::new(),
        sms_sender: None,
        subject: None,
        files: vec![("fax.pdf".into(), b"%PDF-1.4 test".to_vec())],
    }
}

fn state(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("umsgate-hfx-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Lets the next connection attempt happen now (the pause after a failure is real time).
async fn no_pause(g: &HylafaxGateway) {
    for c in &g.conns {
        c.lock().await.next_try = None;
    }
}

#[test]
fn dial_strings_follow_the_site_plan_and_template() {
    let p = plan();
    assert_eq!(dialled_number(&p, "+4930123456").unwrap(), "0030123456");
    assert_eq!(
        dialled_number(&p, "+33123456789").unwrap(),
        "00033123456789"
    );
    assert_eq!(
        dial_string("$(number)", &p, "+4930123456").unwrap(),
        "0030123456"
    );
    assert_eq!(
        dial_string("9,$(e164)", &p, "+4930123456").unwrap(),
        "9,+4930123456"
    );
    assert_eq!(
        dial_string("$(digits)", &p, "+4930123456").unwrap(),
        "4930123456"
    );
    assert_eq!(dial_string("$(number)", &p, "not a number"), None);
    assert_eq!(last_time(Duration::from_secs(3 * 3600)), "000300");
    assert_eq!(
        last_time(Duration::from_secs(2 * 86_400 + 90 * 60)),
        "020130"
    );
    assert!(sched_pri(Priority::High) < sched_pri(Priority::Normal));
    assert!(sched_pri(Priority::Low) > 190, "bulk");
}

#[tokio::test]
async fn a_job_is_uploaded_and_described_with_quoted_values() {
    let (port, seen) = fake(Script {
        password: Some("s3cret".into()),
        ..Script::default()
    })
    .await;
    let mut c = cfg(port);
    c.secret = Some(crate::config::Secret::new("s3cret".into()));
    let dir = state("submit");
    let g = HylafaxGateway::open(&dir, &c, &plan()).unwrap();
    g.submit(&job("J1")).await.unwrap();
    let cmds = lock(&seen).commands.clone();
    assert_eq!(&cmds[..2], ["USER umsgate", "PASS s3cret"]);
    for want in [
        "JOBFMT \"%j|%a|%P|%D|%T|%o|%J|%s\"",
        "TYPE I",
        "STOT",
        "JNEW",
        "JPARM FROMUSER \"jane@example.com\"",
        "JPARM DIALSTRING \"00033123456789\"",
        "JPARM EXTERNAL \"+33 1 23 45 67 89\"",
        "JPARM NOTIFY none",
        "JPARM JOBINFO \"J1\"",
        "JPARM SCHEDPRI 64",
        "JPARM MAXDIALS 3",
        "JPARM MAXTRIES 3",
        "JPARM LASTTIME 000300",
        "JPARM VRES 196",
        "JPARM PAGEWIDTH 209",
        "JPARM PAGELENGTH 297",
        "JPARM TAGLINE \"Example \\\"Corp\\\" 50%%%%\"",
        "JPARM USETAGLINE YES",
        "JPARM TSI \"+49 8142 4799123\"",
        "JPARM DOCUMENT /tmp/doc9.ps",
        "JSUBM",
    ] {
        assert!(cmds.iter().any(|c| c == want), "{want} not in {cmds:#?}");
    }
    assert_eq!(lock(&seen).uploads, [b"%PDF-1.4 test".to_vec()]);
    // Recorded with HylaFAX's id; a second submission sends nothing.
    let rec = std::fs::read_to_string(dir.join("jobs/J1.json")).unwrap();
    assert!(rec.contains("\"hylafax_id\":\"41\""), "{rec}");
    let n = lock(&seen).commands.len();
    g.submit(&job("J1")).await.unwrap();
    assert_eq!(lock(&seen).commands.len(), n);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn values_with_line_breaks_never_reach_hfaxd() {
    let (port, seen) = fake(Script::default()).await;
    let dir = state("inject");
    let g = HylafaxGateway::open(&dir, &cfg(port), &plan()).unwrap();
    let mut j = job("J2");
    j.headline = Some("x\r\nJPARM DIALSTRING \"0900666\"".into());
    let e = g.submit(&j).await.unwrap_err();
    assert!(!e.temporary, "{e}");
    assert!(e.detail.contains("the headline"), "{e}");
    let mut j = job("J3");
    j.sender = "a\0b@example.com".into();
    assert!(!g.submit(&j).await.unwrap_err().temporary);
    assert!(lock(&seen).commands.is_empty(), "nothing was sent");
    assert_eq!(lock(&seen).connections, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn sms_and_refused_numbers_are_permanent_and_leave_no_record() {
    let (port, _seen) = fake(Script {
        refuse_param: Some(("DIALSTRING", 550)),
        ..Script::default()
    })
    .await;
    let dir = state("refused");
    let g = HylafaxGateway::open(&dir, &cfg(port), &plan()).unwrap();
    let mut sms = job("S1");
    sms.service = Service::Sms;
    let e = g.submit(&sms).await.unwrap_err();
    assert!(!e.temporary && e.detail.contains("fax only"), "{e}");
    let e = g.submit(&job("J4")).await.unwrap_err();
    assert!(!e.temporary, "{e}");
    assert!(e.detail.contains("JPARM DIALSTRING: 550"), "{e}");
    assert!(!dir.join("jobs/J4.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_dropped_connection_is_temporary_and_the_next_attempt_reconnects() {
    let (port, seen) = fake(Script {
        drop_first: 1,
        ..Script::default()
    })
    .await;
    let dir = state("reconnect");
    let g = HylafaxGateway::open(&dir, &cfg(port), &plan()).unwrap();
    let e = g.submit(&job("J5")).await.unwrap_err();
    assert!(e.temporary, "{e}");
    // Within the pause nobody connects.
    let e = g.submit(&job("J5")).await.unwrap_err();
    assert!(e.detail.contains("waiting"), "{e}");
    assert_eq!(lock(&seen).connections, 1);
    no_pause(&g).await;
    g.submit(&job("J5")).await.unwrap();
    assert_eq!(lock(&seen).connections, 2);
    // The record existed without HylaFAX id: looked for first, then submitted once.
    let cmds = lock(&seen).commands.clone();
    assert!(cmds.iter().any(|c| c == "LIST sendq"), "{cmds:?}");
    assert_eq!(cmds.iter().filter(|c| *c == "JSUBM").count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_job_already_with_hylafax_is_found_not_submitted_again() {
    let (port, seen) = fake(Script {
        sendq: vec!["17|S| 0:1 | 1:3 | 0:3 |umsgate|J6|Busy signal detected".into()],
        ..Script::default()
    })
    .await;
    let dir = state("found");
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    std::fs::write(
        dir.join("jobs/J6.json"),
        r#"{"job_id":"J6","hylafax_id":null,"e164":"+33123456789"}"#,
    )
    .unwrap();
    let g = HylafaxGateway::open(&dir, &cfg(port), &plan()).unwrap();
    g.submit(&job("J6")).await.unwrap();
    let cmds = lock(&seen).commands.clone();
    assert!(!cmds.iter().any(|c| c == "JNEW" || c == "STOT"), "{cmds:?}");
    let rec = std::fs::read_to_string(dir.join("jobs/J6.json")).unwrap();
    assert!(rec.contains("\"hylafax_id\":\"17\""), "{rec}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn finished_jobs_are_reported_until_report_done_even_across_a_restart() {
    let (port, _seen) = fake(Script {
        doneq: vec![
            "17|D| 2:2 | 1:3 | 1:3 |umsgate|J7|".into(),
            "18|F| 0:1 | 1:3 | 1:3 |umsgate|J8|No carrier | detected".into(),
            "19|D| 1:1 | 1:3 | 1:3 |someone|J9|".into(),
            "20|D| 1:1 | 1:3 | 1:3 |umsgate|unknown|".into(),
        ],
        ..Script::default()
    })
    .await;
    let dir = state("reports");
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    for (j, id) in [("J7", "17"), ("J8", "18"), ("J9", "19")] {
        std::fs::write(
            dir.join(format!("jobs/{j}.json")),
            format!(r#"{{"job_id":"{j}","hylafax_id":"{id}","e164":"+33123456789"}}"#),
        )
        .unwrap();
    }
    let g = HylafaxGateway::open(&dir, &cfg(port), &plan()).unwrap();
    g.poll().await.unwrap();
    let reports = g.reports();
    assert_eq!(reports.len(), 2, "{reports:?}");
    let sent = &reports[0];
    assert_eq!(
        (sent.job_id.as_str(), sent.status, sent.pages, sent.attempts),
        ("J7", DeliveryStatus::Sent, Some(2), Some(1))
    );
    assert_eq!(sent.remote_id.as_deref(), Some("17"));
    assert_eq!(sent.reason, None);
    let failed = &reports[1];
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(failed.reason.as_deref(), Some("No carrier | detected"));
    // Polling again does not report twice.
    g.poll().await.unwrap();
    assert_eq!(g.reports().len(), 2);
    g.report_done("J7").await.unwrap();
    assert!(!dir.join("jobs/J7.json").exists());
    drop(g);
    // After a restart only the unmailed report comes again.
    let g = HylafaxGateway::open(&dir, &cfg(port), &plan()).unwrap();
    g.poll().await.unwrap();
    let again: Vec<String> = g.reports().into_iter().map(|r| r.job_id).collect();
    assert_eq!(again, ["J8"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

//! HylaFAX submission benchmark of umsgate's hfaxd client (bench/engines/hylafax.sh runs it).
//!
//! `hylafax_bench HOST PORT N DOCUMENT NUMBER CONCURRENCY`
//! Submits N fax jobs of DOCUMENT through one `HylafaxGateway`, CONCURRENCY
//! at a time (1: one after the other, on one control connection; more: up to its
//! `SESSIONS` connections, as the daemon's outbound worker submits), each with its own job id
//! and its durable job record in a temporary folder. Prints one line: `N SECONDS` — the logins
//! are inside the timed part. NUMBER is an E.164 number, or a prefix ending in `#`: job `i`
//! then dials the prefix followed by `i` as four digits, each job its own destination, as
//! faxes to different recipients are (jobs to one number wait for each other in faxq, which
//! runs its `notify` script for each job it blocks).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use umsgate::config::HylafaxConfig;
use umsgate::gateway::{HylafaxGateway, Job};
use umsgate_domain::{Priority, Service, SitePlan, SitePlanFields};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    assert!(
        a.len() == 7,
        "usage: hylafax_bench HOST PORT N DOCUMENT NUMBER CONCURRENCY"
    );
    let concurrency: usize = a[6].parse().unwrap();
    let n: usize = a[3].parse().unwrap();
    let doc = std::fs::read(&a[4]).unwrap();
    let cfg = HylafaxConfig {
        host: a[1].clone(),
        port: a[2].parse().unwrap(),
        ..HylafaxConfig::default()
    };
    let plan = SitePlan::new(SitePlanFields {
        country_code: "49".into(),
        area_code: "8142".into(),
        subscriber: "4799".into(),
        extension_digits: 3,
        international_prefix: "00".into(),
        national_prefix: "0".into(),
        outside_line: String::new(),
    })
    .unwrap();
    let dir = std::env::temp_dir().join(format!("umsgate-hylafax-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let g = std::sync::Arc::new(HylafaxGateway::open(&dir, &cfg, &plan).unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let run = std::process::id();
    let start = Instant::now();
    let number = a[5].clone();
    rt.block_on(async {
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let (g, next, doc, number) = (g.clone(), next.clone(), doc.clone(), number.clone());
            tasks.spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    let number = match number.strip_suffix('#') {
                        Some(prefix) => format!("{prefix}{i:04}"),
                        None => number.clone(),
                    };
                    let job = Job {
                        job_id: format!("bench{run}x{i}"),
                        service: Service::Fax,
                        e164: number.clone(),
                        number,
                        sender: "bench@example.com".into(),
                        priority: Priority::Normal,
                        pages: Some(1),
                        cover: None,
                        headline: Some("umsgate bench".into()),
                        origin: None,
                        billing: None,
                        text: None,
                        attachments: vec![],
                        fax_sender: None,
                        cover_fields: BTreeMap::new(),
                        sms_sender: None,
                        subject: None,
                        files: vec![("fax.pdf".into(), doc.clone())],
                    };
                    g.submit(&job).await.unwrap();
                }
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
        }
    });
    println!("{n} {:.3}", start.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
}

//! LDAP lookup benchmark of umsgate's directory (bench/ldap/run.sh runs it).
//!
//! `ldap_bench URL BIND_DN BIND_PW BASE_DN USERS LOOKUPS CONCURRENCY`
//! Looks up LOOKUPS distinct fax numbers of the gen_users.py data (`+49 40 AAAA BBBB`, user
//! index = AAAABBBB, drawn without repetition from 0..USERS) through `LdapDirectory::by_number`
//! with the DESIGN.md §3 number filter: first cold (every lookup a cache miss), then the same
//! numbers again warm (cache hits). Prints one line per phase with lookups/s, p50/p99/max
//! latency and the number of LDAP searches sent.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use umsgate::config::Config;
use umsgate::directory::LdapDirectory;
use umsgate_domain::{PhoneNumber, SitePlan, SitePlanFields};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    assert!(
        a.len() == 8,
        "usage: ldap_bench URL BIND_DN BIND_PW BASE_DN USERS LOOKUPS CONCURRENCY"
    );
    let (url, dn, pw, base) = (&a[1], &a[2], &a[3], &a[4]);
    let users: u64 = a[5].parse().unwrap();
    let lookups: usize = a[6].parse().unwrap();
    let conc: usize = a[7].parse().unwrap();
    let text = format!(
        r#"
[[instance]]
id = "bench"
[instance.smtp_in]
listen = ["127.0.0.1:10025"]
[instance.mail]
domain = "example.com"
default_recipient = "postmaster@example.com"
report_sender = "ums@example.com"
[instance.directory]
kind = "ldap"
servers = ["{url}"]
bind_dn = "{dn}"
bind_password = "{pw}"
base_dns = ["{base}"]
cache_ttl = "1h"
cache_entries = {}
"#,
        lookups + 1000
    );
    let cfg = Config::parse(&text, std::path::Path::new("/tmp/bench.toml")).unwrap();
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
    let dir = Arc::new(LdapDirectory::new(&cfg.instances[0].directory, plan, None).unwrap());
    // A fixed pseudo-random permutation step: distinct numbers, spread over the tree.
    let step = 7_919u64;
    let numbers: Arc<Vec<PhoneNumber>> = Arc::new(
        (0..lookups as u64)
            .map(|k| {
                let i = (k * step + 13) % users;
                PhoneNumber::from_e164(&format!("+4940{:04}{:04}", i / 10_000, i % 10_000)).unwrap()
            })
            .collect(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // connect and bind outside the measurement
        dir.by_number(&PhoneNumber::from_e164("+4940999999990").unwrap())
            .await
            .unwrap();
        for phase in ["cold", "warm"] {
            let before = dir.searches();
            let started = Instant::now();
            let mut tasks = Vec::new();
            for w in 0..conc {
                let (dir, numbers) = (Arc::clone(&dir), Arc::clone(&numbers));
                tasks.push(tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut found = 0usize;
                    for n in numbers.iter().skip(w).step_by(conc) {
                        let t = Instant::now();
                        found += dir.by_number(n).await.unwrap().len();
                        lat.push(t.elapsed());
                    }
                    (lat, found)
                }));
            }
            let mut lat: Vec<Duration> = Vec::new();
            let mut found = 0;
            for t in tasks {
                let (l, f) = t.await.unwrap();
                lat.extend(l);
                found += f;
            }
            let total = started.elapsed();
            lat.sort();
            let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
            let us = |d: Duration| d.as_secs_f64() * 1e6;
            println!(
                "umsgate {phase} concurrency={conc} lookups={} found={found} searches={} lookups_per_s={:.0} p50_us={:.0} p99_us={:.0} max_us={:.0}",
                lat.len(),
                dir.searches() - before,
                lat.len() as f64 / total.as_secs_f64(),
                us(q(0.50)),
                us(q(0.99)),
                us(lat[lat.len() - 1]),
            );
        }
    });
}

//! The login limiter: failed logins per client address and per login name, as token buckets.
//!
//! Contract: [`LoginLimiter::begin`] admits a login attempt only when both the client's
//! bucket and the name's bucket hold a token, and takes one from each at once: an attempt
//! whose check has not ended counts as a failure, so many guesses sent in parallel get no
//! more checks than one after the other. The [`Ticket`] it returns settles the attempt:
//! [`Ticket::succeeded`] forgets both buckets (a user's own typing errors are not held against
//! him once he is in), [`Ticket::abandon`] gives the tokens back (the password was not checked,
//! e.g. the directory was unreachable), and a ticket dropped or [`Ticket::failed`] keeps them
//! spent. A bucket gets one token back per `refill`, up to `burst`. A refused attempt says
//! when the next one will be admitted. A client is an IPv4 address or an IPv6 /64 (one host
//! usually owns the whole /64); a name is compared in lower case.
//!
//! Memory is bounded: at most `tracked` buckets. When a new one does not fit, the full
//! buckets (nothing spent: the same as no bucket) go first, then the one with the fewest
//! tokens spent (the least remembered is lost). The time is tokio's, so tests run it on a
//! paused clock.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The limiter's figures: `burst` failures in a row, one more per `refill`, at most
/// `tracked` buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub burst: u32,
    pub refill: Duration,
    pub tracked: usize,
}

impl Limit {
    /// Buckets remembered at most, by default.
    pub const TRACKED: usize = 10_000;

    /// `web.login_max_failures` within `web.login_failure_window`: that many failures in a
    /// row, and all of them back after the window (one each `window / max_failures`).
    pub fn from_window(max_failures: u32, window: Duration) -> Limit {
        let burst = max_failures.max(1);
        Limit {
            burst,
            refill: (window / burst).max(Duration::from_secs(1)),
            tracked: Limit::TRACKED,
        }
    }
}

/// Longest login name kept as a bucket key (longer names are cut, which only merges them).
const MAX_NAME_KEY: usize = 320;

/// Whose attempts a bucket counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    Client(IpAddr),
    Name(String),
}

impl Subject {
    fn client(ip: IpAddr) -> Subject {
        Subject::Client(match ip {
            IpAddr::V4(_) => ip,
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
            },
        })
    }

    fn name(name: &str) -> Subject {
        let lower = name.trim().to_lowercase();
        let mut end = lower.len().min(MAX_NAME_KEY);
        while !lower.is_char_boundary(end) {
            end -= 1;
        }
        Subject::Name(lower[..end].to_owned())
    }
}

/// Tokens spent, and since when the refill is counted.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    spent: u32,
    since: Instant,
}

/// Attempts refused: who is limited, and when the next attempt is admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub client: bool,
    pub name: bool,
    pub retry_after: Duration,
}

impl std::fmt::Display for Limited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = match (self.client, self.name) {
            (true, true) => "client address and login name",
            (true, false) => "client address",
            _ => "login name",
        };
        write!(
            f,
            "too many failed logins for this {who}: next attempt in {}s",
            self.retry_after.as_secs().max(1)
        )
    }
}

impl std::error::Error for Limited {}

/// Failed logins per client and per name.
#[derive(Debug)]
pub struct LoginLimiter {
    limit: Limit,
    buckets: Mutex<HashMap<Subject, Bucket>>,
}

impl LoginLimiter {
    pub fn new(limit: Limit) -> LoginLimiter {
        LoginLimiter {
            limit: Limit {
                burst: limit.burst.max(1),
                refill: limit.refill.max(Duration::from_millis(1)),
                tracked: limit.tracked.max(2),
            },
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Buckets remembered now.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().map_or(0, |b| b.len())
    }

    /// Admits one attempt of `client` for `name`, or says why not; see the module contract.
    pub fn begin(&self, client: IpAddr, name: &str) -> Result<Ticket<'_>, Limited> {
        let subjects = [Subject::client(client), Subject::name(name)];
        let now = Instant::now();
        let Ok(mut table) = self.buckets.lock() else {
            // A poisoned table admits nobody rather than everybody.
            return Err(Limited {
                client: true,
                name: true,
                retry_after: self.limit.refill,
            });
        };
        let mut waits = [None, None];
        for (i, s) in subjects.iter().enumerate() {
            if let Some(b) = table.get_mut(s) {
                self.refill(b, now);
                if b.spent >= self.limit.burst {
                    waits[i] = Some(self.limit.refill.saturating_sub(now - b.since));
                }
            }
        }
        if waits.iter().any(Option::is_some) {
            return Err(Limited {
                client: waits[0].is_some(),
                name: waits[1].is_some(),
                retry_after: waits.iter().flatten().copied().max().unwrap_or_default(),
            });
        }
        for s in &subjects {
            if !table.contains_key(s) {
                self.make_room(&mut table, now);
            }
            let b = table.entry(s.clone()).or_insert(Bucket {
                spent: 0,
                since: now,
            });
            b.spent += 1;
        }
        let [client, name] = subjects;
        Ok(Ticket {
            limiter: self,
            client,
            name,
            settled: false,
        })
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(b.since);
        let n = elapsed.as_nanos() / self.limit.refill.as_nanos();
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        b.spent = b.spent.saturating_sub(n);
        if b.spent == 0 {
            b.since = now;
        } else {
            b.since += self.limit.refill * n;
        }
    }

    /// Frees one place when the table is full: full buckets first, else the one that
    /// remembers least.
    fn make_room(&self, table: &mut HashMap<Subject, Bucket>, now: Instant) {
        if table.len() < self.limit.tracked {
            return;
        }
        table.retain(|_, b| {
            self.refill(b, now);
            b.spent > 0
        });
        if table.len() < self.limit.tracked {
            return;
        }
        let victim = table
            .iter()
            .min_by_key(|(_, b)| (b.spent, b.since))
            .map(|(s, _)| s.clone());
        if let Some(v) = victim {
            table.remove(&v);
        }
    }

    fn settle(&self, ticket: &Ticket<'_>, how: Settle) {
        let Ok(mut table) = self.buckets.lock() else {
            return;
        };
        for s in [&ticket.client, &ticket.name] {
            match how {
                Settle::Succeeded => {
                    table.remove(s);
                }
                Settle::Abandoned => {
                    if let Some(b) = table.get_mut(s) {
                        b.spent = b.spent.saturating_sub(1);
                    }
                }
                Settle::Failed => {}
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Settle {
    Succeeded,
    Failed,
    Abandoned,
}

/// One admitted attempt; dropped unsettled, it is a failure.
#[derive(Debug)]
pub struct Ticket<'a> {
    limiter: &'a LoginLimiter,
    client: Subject,
    name: Subject,
    settled: bool,
}

impl Ticket<'_> {
    /// The password was right: both buckets are forgotten.
    pub fn succeeded(mut self) {
        self.settled = true;
        self.limiter.settle(&self, Settle::Succeeded);
    }

    /// The login was refused: the tokens stay spent.
    pub fn failed(mut self) {
        self.settled = true;
        self.limiter.settle(&self, Settle::Failed);
    }

    /// The password was not checked: the tokens come back.
    pub fn abandon(mut self) {
        self.settled = true;
        self.limiter.settle(&self, Settle::Abandoned);
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.limiter.settle(self, Settle::Failed);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn limiter(burst: u32, refill_s: u64, tracked: usize) -> LoginLimiter {
        LoginLimiter::new(Limit {
            burst,
            refill: Duration::from_secs(refill_s),
            tracked,
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn failures_empty_the_bucket_and_time_refills_it() {
        let l = limiter(3, 60, 100);
        for _ in 0..3 {
            l.begin(ip("192.0.2.1"), "jane@example.com")
                .unwrap()
                .failed();
        }
        let e = l.begin(ip("192.0.2.1"), "jane@example.com").unwrap_err();
        assert!(e.client && e.name);
        assert_eq!(e.retry_after, Duration::from_secs(60));
        // the name is limited from any address, the address for any name
        let e = l
            .begin(ip("198.51.100.7"), "JANE@example.com ")
            .unwrap_err();
        assert!(!e.client && e.name);
        let e = l.begin(ip("192.0.2.1"), "max@example.com").unwrap_err();
        assert!(e.client && !e.name);
        tokio::time::advance(Duration::from_secs(45)).await;
        let e = l.begin(ip("192.0.2.1"), "jane@example.com").unwrap_err();
        assert_eq!(e.retry_after, Duration::from_secs(15));
        tokio::time::advance(Duration::from_secs(15)).await;
        // one token back: one attempt, then limited again
        l.begin(ip("192.0.2.1"), "jane@example.com")
            .unwrap()
            .failed();
        assert!(l.begin(ip("192.0.2.1"), "jane@example.com").is_err());
        tokio::time::advance(Duration::from_secs(180)).await;
        for _ in 0..3 {
            drop(l.begin(ip("192.0.2.1"), "jane@example.com").unwrap());
        }
        // dropped tickets were failures
        assert!(l.begin(ip("192.0.2.1"), "jane@example.com").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_in_flight_count_and_success_or_abandon_give_back() {
        let l = limiter(2, 60, 100);
        let a = l.begin(ip("192.0.2.1"), "jane@example.com").unwrap();
        let b = l.begin(ip("192.0.2.1"), "jane@example.com").unwrap();
        assert!(l.begin(ip("192.0.2.1"), "jane@example.com").is_err());
        a.abandon();
        let c = l.begin(ip("192.0.2.1"), "jane@example.com").unwrap();
        c.failed();
        b.succeeded();
        assert_eq!(l.tracked(), 0);
        for _ in 0..2 {
            l.begin(ip("192.0.2.1"), "jane@example.com")
                .unwrap()
                .failed();
        }
        assert!(l.begin(ip("192.0.2.1"), "x@example.com").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn ipv6_hosts_count_per_64_and_mapped_ipv4_as_ipv4() {
        let l = limiter(1, 60, 100);
        l.begin(ip("2001:db8:1:2::5"), "a").unwrap().failed();
        let e = l.begin(ip("2001:db8:1:2:ffff::9"), "b").unwrap_err();
        assert!(e.client);
        assert!(l.begin(ip("2001:db8:1:3::5"), "c").is_ok());
        l.begin(ip("192.0.2.9"), "d").unwrap().failed();
        assert!(l.begin(ip("::ffff:192.0.2.9"), "e").unwrap_err().client);
    }

    #[tokio::test(start_paused = true)]
    async fn memory_is_bounded_and_the_fullest_buckets_go_first() {
        let l = limiter(3, 60, 10);
        // one name guessed three times from one address: two buckets with 3 spent
        for _ in 0..3 {
            l.begin(ip("192.0.2.1"), "victim@example.com")
                .unwrap()
                .failed();
        }
        // a flood of other names from other addresses, one failure each
        for i in 0..200u32 {
            let a = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            l.begin(a, &format!("n{i}@example.com")).unwrap().failed();
            assert!(l.tracked() <= 10);
        }
        // the flood evicted its own buckets, not the ones that remember most
        assert!(l.begin(ip("198.51.100.1"), "victim@example.com").is_err());
        // once refilled, they are the first to go
        tokio::time::advance(Duration::from_secs(600)).await;
        assert!(l.begin(ip("198.51.100.1"), "victim@example.com").is_ok());
    }

    #[test]
    fn the_configured_window_becomes_the_refill() {
        let l = Limit::from_window(5, Duration::from_secs(300));
        assert_eq!((l.burst, l.refill), (5, Duration::from_secs(60)));
        let l = Limit::from_window(0, Duration::ZERO);
        assert_eq!((l.burst, l.refill), (1, Duration::from_secs(1)));
    }

    #[test]
    fn a_limit_says_who_and_when() {
        let e = Limited {
            client: true,
            name: false,
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(
            e.to_string(),
            "too many failed logins for this client address: next attempt in 1s"
        );
    }
}

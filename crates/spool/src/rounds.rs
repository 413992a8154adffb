//! Work rounds over a queue folder: bounded parallelism and per-message backoff, shared by the
//! outbound and inbound workers.
//!
//! Contract: [`round`] starts the work of every item whose backoff has passed, at most
//! `parallel` at once, and returns when all of them are done, so an item is never worked on
//! twice at the same time (the next scan only begins after the round). A temporary failure
//! makes the item wait before its next try — 15 s, doubling up to 10 min — logged with the
//! worker's event name; success forgets it. A panic in one item's work is logged and counts
//! as a failure: the item waits like any other, so a message that makes the work panic is not
//! taken again at every scan. The items not started (still waiting, or the
//! round cut short by shutdown) are given back to the caller.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
// tokio's clock, so that tests can run the backoff on a paused clock.
use tokio::time::Instant;

const RETRY_MIN: Duration = Duration::from_secs(15);
const RETRY_MAX: Duration = Duration::from_secs(600);

/// How long an item waits after its `attempt`-th failure (1 = the first): 15 s, doubling up
/// to 10 min.
pub fn retry_delay(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(16);
    RETRY_MIN.saturating_mul(1 << doublings).min(RETRY_MAX)
}

/// When each deferred item may be tried again, and how many times it has failed in a row.
#[derive(Debug, Default)]
pub struct Backoff {
    waits: HashMap<String, (Instant, u32)>,
}

impl Backoff {
    fn due(&self, id: &str) -> bool {
        self.waits
            .get(id)
            .is_none_or(|(at, _)| Instant::now() >= *at)
    }

    fn settle(
        &mut self,
        id: String,
        outcome: Result<(), String>,
        event: &'static str,
        instance: &str,
    ) {
        match outcome {
            Ok(()) => {
                self.waits.remove(&id);
            }
            Err(why) => {
                let failures = self.waits.get(&id).map_or(0, |(_, n)| *n).saturating_add(1);
                let wait = retry_delay(failures);
                tracing::warn!(event, instance, id = %id, reason = %why, retry_in_s = wait.as_secs());
                self.waits.insert(id, (Instant::now() + wait, failures));
            }
        }
    }
}

/// One round over `items` (id, item); see the module contract.
pub async fn round<I, E, F, Fut>(
    items: impl IntoIterator<Item = (String, I)>,
    parallel: usize,
    backoff: &mut Backoff,
    shutdown: &watch::Receiver<bool>,
    (event, instance): (&'static str, &str),
    work: F,
) -> Vec<I>
where
    E: std::fmt::Display + Send + 'static,
    F: Fn(I) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    // Which item each task works on, so that a task that panics is backed off like a failure
    // (a message that makes the work panic must not be taken again at every scan).
    let mut running: HashMap<tokio::task::Id, String> = HashMap::new();
    let settle = |done: Result<(tokio::task::Id, Result<(), E>), tokio::task::JoinError>,
                  running: &mut HashMap<tokio::task::Id, String>,
                  backoff: &mut Backoff| {
        let (task, outcome) = match done {
            Ok((task, outcome)) => (task, outcome.map_err(|e| e.to_string())),
            Err(e) => {
                tracing::error!(event = "worker.task_failed", instance, error = %e);
                (e.id(), Err(format!("the work failed: {e}")))
            }
        };
        if let Some(id) = running.remove(&task) {
            backoff.settle(id, outcome, event, instance);
        }
    };
    let mut not_started = Vec::new();
    for (id, item) in items {
        if *shutdown.borrow() || !backoff.due(&id) {
            not_started.push(item);
            continue;
        }
        while tasks.len() >= parallel.max(1) {
            if let Some(done) = tasks.join_next_with_id().await {
                settle(done, &mut running, backoff);
            }
        }
        let fut = work(item);
        let handle = tasks.spawn(fut);
        running.insert(handle.id(), id);
    }
    while let Some(done) = tasks.join_next_with_id().await {
        settle(done, &mut running, backoff);
    }
    not_started
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn bounded_parallelism_and_backoff_for_failures() {
        let (_tx, rx) = watch::channel(false);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut backoff = Backoff::default();
        let items = (0..20).map(|i| (format!("m{i}"), i));
        let work = |i: i32| {
            let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                running.fetch_sub(1, Ordering::SeqCst);
                if i % 5 == 0 {
                    Err("temporary".to_owned())
                } else {
                    Ok(())
                }
            }
        };
        let not_started = round(items, 3, &mut backoff, &rx, ("test.deferred", "t"), work).await;
        assert!(not_started.is_empty());
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert_eq!(running.load(Ordering::SeqCst), 0);
        // The failed ones wait; the others are forgotten and due at once.
        assert!(!backoff.due("m0") && !backoff.due("m15"));
        assert!(backoff.due("m1"));
        // A second round gives back the waiting ones, untouched.
        let items = (0..20).map(|i| (format!("m{i}"), i));
        let not_started = round(items, 3, &mut backoff, &rx, ("test.deferred", "t"), work).await;
        assert_eq!(not_started, [0, 5, 10, 15]);
    }

    /// Work that panics is backed off like a failure, and the round goes on with the others.
    #[tokio::test]
    async fn a_panicking_item_waits_like_a_failed_one() {
        let (_tx, rx) = watch::channel(false);
        let mut backoff = Backoff::default();
        let items = (0..4).map(|i| (format!("m{i}"), i));
        let work = |i: i32| async move {
            assert!(i != 2, "hostile input");
            Ok::<(), String>(())
        };
        let left = round(items, 2, &mut backoff, &rx, ("test.deferred", "t"), work).await;
        assert!(left.is_empty());
        assert!(!backoff.due("m2"), "the panicking item waits");
        assert!(backoff.due("m0") && backoff.due("m3"));
    }

    /// Failures wait 15 s, doubling up to 10 min; on tokio's paused clock, no real waiting.
    #[tokio::test(start_paused = true)]
    async fn backoff_doubles_up_to_ten_minutes() {
        let (_tx, rx) = watch::channel(false);
        let mut backoff = Backoff::default();
        let fail = |_: ()| async { Err::<(), _>("busy".to_owned()) };
        let mut waited = Vec::new();
        for _ in 0..8 {
            let left = round(
                [("m".to_owned(), ())],
                1,
                &mut backoff,
                &rx,
                ("t", "t"),
                fail,
            )
            .await;
            assert!(left.is_empty(), "due, so tried");
            let mut secs = 0;
            while !backoff.due("m") {
                tokio::time::advance(Duration::from_secs(1)).await;
                secs += 1;
            }
            waited.push(secs);
        }
        assert_eq!(waited, [15, 30, 60, 120, 240, 480, 600, 600]);
        let delays: Vec<u64> = (1..=8).map(|a| retry_delay(a).as_secs()).collect();
        assert_eq!(delays, waited);
    }
}

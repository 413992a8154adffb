//! The memory budget for messages being received: one per listener, shared by its sessions.
//!
//! Contract: the bytes of message data that all sessions of a listener hold at once never
//! exceed `smtp_in.max_data_memory`. A session reserves room before its message buffer grows
//! and gives everything back when the message has been stored or dropped ([`Reservation`]
//! releases on drop, so no path can leak room). When no more room can be had, the session
//! reads the message to its real end `CRLF.CRLF`, keeping nothing, and answers `452 4.3.1`
//! (insufficient system storage): the mail server keeps the message and tries again later.
//! Nothing is lost and nothing is answered 250 that was not stored.
//!
//! Implementation summary: one atomic counter against a fixed limit; a reservation is a
//! compare-and-swap loop, never a wait, so a session under memory pressure never blocks
//! another one.
//!
//! XXX Why a budget and not spilling to disk. Postfix streams every message into its queue
//! file as it arrives, so its memory does not grow with the message; that is the design a
//! mature MTA uses when the queue file *is* the message. Here the spool makes a message
//! durable in one step from a complete buffer (group commit, one fsync for many messages),
//! and everything after intake reads the message from memory once. Spilling large messages
//! to a temporary file while they arrive would write them twice and keep a second path for
//! the rare large message; a budget keeps the one path and bounds memory by a number the
//! administrator chooses instead of by `max_message_size × max_connections`. The cost: under a
//! flood of large messages some are deferred with 452 and come back later, which SMTP is
//! built for.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Room for message data shared by the sessions of one listener.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
}

impl MemoryBudget {
    pub fn new(limit: usize) -> Arc<MemoryBudget> {
        Arc::new(MemoryBudget {
            limit,
            used: AtomicUsize::new(0),
        })
    }

    /// Bytes reserved right now by all sessions.
    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// An empty reservation that can grow.
    pub fn reservation(self: &Arc<Self>) -> Reservation {
        Reservation {
            budget: Arc::clone(self),
            held: 0,
        }
    }

    fn take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn give(&self, n: usize) {
        // Never below zero: a reservation gives back only what it took.
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(n))
            });
    }
}

/// Room held by one message; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<MemoryBudget>,
    held: usize,
}

impl Reservation {
    /// Takes `n` more bytes; `false` (and nothing taken) when the budget has no such room.
    pub fn grow(&mut self, n: usize) -> bool {
        if n == 0 {
            return true;
        }
        if self.budget.take(n) {
            self.held += n;
            true
        } else {
            false
        }
    }

    /// Gives everything back now (the reservation stays usable, empty).
    pub fn release(&mut self) {
        self.budget.give(self.held);
        self.held = 0;
    }

    /// Bytes held.
    pub fn held(&self) -> usize {
        self.held
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_stay_within_the_limit_and_give_back_on_drop() {
        let b = MemoryBudget::new(100);
        let mut r1 = b.reservation();
        let mut r2 = b.reservation();
        assert!(r1.grow(60));
        assert!(!r2.grow(41), "over the limit");
        assert_eq!(b.in_use(), 60);
        assert!(r2.grow(40));
        assert!(!r1.grow(1));
        drop(r1);
        assert_eq!(b.in_use(), 40);
        r2.release();
        assert_eq!((b.in_use(), r2.held()), (0, 0));
        assert!(r2.grow(100));
        drop(r2);
        assert_eq!(b.in_use(), 0);
    }

    #[test]
    fn concurrent_reservations_never_exceed_the_limit() {
        let b = MemoryBudget::new(1000);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let b = Arc::clone(&b);
                std::thread::spawn(move || {
                    let mut got = 0;
                    for _ in 0..1000 {
                        let mut r = b.reservation();
                        if r.grow(300) {
                            got += 1;
                            assert!(b.in_use() <= 1000);
                        }
                    }
                    got
                })
            })
            .collect();
        let granted: u32 = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
        assert!(granted > 0);
        assert_eq!(b.in_use(), 0);
    }
}

//! The lookup cache: found and not-found answers for `cache_ttl`, one search per key at a time.
//!
//! Implementation summary: each key (a lower-case sender address or an E.164 number) maps to
//! a slot, a `OnceCell` filled by the first lookup that misses. Lookups that arrive while the
//! search runs wait on the same cell, so a burst of mail from one sender costs one search.
//! A failed search leaves the cell empty (errors are never cached) and the next waiter
//! searches again. A slot older than `cache_ttl` is replaced. [`Cache::invalidate`] drops every
//! slot whose answer holds a given DN, plus the keys given, so a write through umsgate is seen
//! at once. The map is bounded by `cache_entries`: when full, expired slots go first, then an
//! arbitrary one. `cache_ttl = 0` disables the cache.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::{DirectoryError, ErrorKind, User};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Sender(String),
    Number(String),
}

type Answer = (Instant, Arc<Vec<User>>);

#[derive(Debug)]
pub(crate) struct Cache {
    ttl: Duration,
    max: usize,
    slots: Mutex<HashMap<Key, Arc<OnceCell<Answer>>>>,
}

/// Whether an answer came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Cache,
    Directory,
}

impl Cache {
    pub(crate) fn new(ttl: Duration, max: usize) -> Cache {
        Cache {
            ttl,
            max: max.max(1),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The cached answer for `key`, or the result of `search` (shared with concurrent callers).
    pub(crate) async fn get_or_search<F, Fut>(
        &self,
        key: Key,
        search: F,
    ) -> Result<(Arc<Vec<User>>, Source), DirectoryError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<User>, DirectoryError>>,
    {
        if self.ttl.is_zero() {
            return Ok((Arc::new(search().await?), Source::Directory));
        }
        let slot = {
            let mut slots = self
                .slots
                .lock()
                .map_err(|_| DirectoryError::new(ErrorKind::Internal, "cache lock poisoned"))?;
            let now = Instant::now();
            let fresh = slots
                .get(&key)
                .filter(|s| {
                    s.get()
                        .is_none_or(|(at, _)| now.duration_since(*at) < self.ttl)
                })
                .cloned();
            match fresh {
                Some(s) => s,
                None => {
                    if slots.len() >= self.max && !slots.contains_key(&key) {
                        self.evict(&mut slots, now);
                    }
                    let s = Arc::new(OnceCell::new());
                    slots.insert(key, Arc::clone(&s));
                    s
                }
            }
        };
        let searched = AtomicBool::new(false);
        let flag = &searched;
        let (_, users) = slot
            .get_or_try_init(|| async move {
                flag.store(true, Ordering::Relaxed);
                Ok::<_, DirectoryError>((Instant::now(), Arc::new(search().await?)))
            })
            .await?;
        let src = if searched.load(Ordering::Relaxed) {
            Source::Directory
        } else {
            Source::Cache
        };
        Ok((Arc::clone(users), src))
    }

    fn evict(&self, slots: &mut HashMap<Key, Arc<OnceCell<Answer>>>, now: Instant) {
        slots.retain(|_, s| {
            s.get()
                .is_none_or(|(at, _)| now.duration_since(*at) < self.ttl)
        });
        if slots.len() >= self.max
            && let Some(k) = slots
                .iter()
                .find(|(_, s)| s.initialized())
                .map(|(k, _)| k.clone())
        {
            slots.remove(&k);
        }
    }

    /// Forgets every answer that holds the entry `dn`, and the given keys.
    pub(crate) fn invalidate(&self, dn: &str, keys: &[Key]) -> usize {
        let Ok(mut slots) = self.slots.lock() else {
            return 0;
        };
        let before = slots.len();
        slots.retain(|k, s| {
            !keys.contains(k)
                && !s
                    .get()
                    .is_some_and(|(_, users)| users.iter().any(|u| u.id.eq_ignore_ascii_case(dn)))
        });
        before - slots.len()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.lock().map(|s| s.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn user(dn: &str) -> User {
        User {
            id: dn.into(),
            mail: "a@example.com".into(),
            name: String::new(),
            ums: None,
            attributes: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_burst_costs_one_search_and_errors_are_not_cached() {
        let cache = Arc::new(Cache::new(Duration::from_secs(60), 100));
        let searches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (c, n) = (Arc::clone(&cache), Arc::clone(&searches));
            tasks.push(tokio::spawn(async move {
                c.get_or_search(Key::Sender("a@example.com".into()), || async move {
                    n.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok(vec![user("uid=a")])
                })
                .await
                .unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().0.len(), 1);
        }
        assert_eq!(searches.load(Ordering::SeqCst), 1);
        // negative answers are cached too
        let k = Key::Number("+4930".into());
        for _ in 0..3 {
            let (u, _) = cache
                .get_or_search(k.clone(), || async {
                    searches.fetch_add(1, Ordering::SeqCst);
                    Ok(vec![])
                })
                .await
                .unwrap();
            assert!(u.is_empty());
        }
        assert_eq!(searches.load(Ordering::SeqCst), 2);
        // errors are not
        let k = Key::Number("+4940".into());
        for _ in 0..2 {
            let r = cache
                .get_or_search(k.clone(), || async {
                    searches.fetch_add(1, Ordering::SeqCst);
                    Err(DirectoryError::new(ErrorKind::Unreachable, "down"))
                })
                .await;
            assert!(r.is_err());
        }
        assert_eq!(searches.load(Ordering::SeqCst), 4);
        // invalidation by DN
        assert_eq!(cache.invalidate("UID=A", &[]), 1);
        let (_, src) = cache
            .get_or_search(Key::Sender("a@example.com".into()), || async {
                Ok(vec![user("uid=a")])
            })
            .await
            .unwrap();
        assert_eq!(src, Source::Directory);
    }

    #[tokio::test]
    async fn bounded() {
        let cache = Cache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            cache
                .get_or_search(Key::Number(i.to_string()), || async { Ok(vec![]) })
                .await
                .unwrap();
        }
        assert!(cache.len() <= 3);
    }
}

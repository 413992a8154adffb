//! The state store: per-day usage counters (and, later, the journal and print-unread
//! tracking), in SQLite under `state_dir/umsgate.db`.
//!
//! Contract: [`Store::reserve`] counts one job against a user's per-day limit atomically —
//! one `INSERT … ON CONFLICT DO UPDATE … WHERE count < limit` statement, so concurrent
//! workers (and several instances) can never both take the last slot. The day is the
//! *local* calendar day, computed by SQLite (`date('now','localtime')`), so the limit resets
//! at local midnight as users expect. [`Store::release`] gives a slot back when a job could
//! not be handed to the gateway after all.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use umsgate_domain::Service;

/// A store failure; temporary (the message is kept and retried).
#[derive(Debug)]
pub struct StoreError(String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "state store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError(e.to_string())
    }
}

/// Handle to the store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS usage (
    instance TEXT NOT NULL,
    user TEXT NOT NULL,
    service TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (instance, user, service, day)
)";

const JOURNAL_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS journal (
    instance TEXT NOT NULL,
    id TEXT NOT NULL,
    service TEXT NOT NULL,
    calling TEXT NOT NULL,
    called TEXT NOT NULL,
    recipient TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (instance, id)
)";

impl Store {
    /// Opens (creating) the SQLite database at `path`.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("cannot create {}: {e}", dir.display())))?;
        }
        let opts = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL: a commit survives a crash of umsgate; a power loss may forget the
            // last counts, never corrupt the file. Counters are not the record of mail.
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        sqlx::query(SCHEMA).execute(&pool).await?;
        sqlx::query(JOURNAL_SCHEMA).execute(&pool).await?;
        Ok(Store { pool })
    }

    /// Closes the store: waits for queries in flight; every later one fails.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Counts one job for `user` and `service` today unless that would pass `limit`
    /// (`None` = unlimited). Returns whether the job may go.
    pub async fn reserve(
        &self,
        instance: &str,
        user: &str,
        service: Service,
        limit: Option<u32>,
    ) -> Result<bool, StoreError> {
        let limit = limit.map_or(i64::MAX, i64::from);
        let row = sqlx::query(
            "INSERT INTO usage (instance, user, service, day, count)
             SELECT ?1, ?2, ?3, date('now','localtime'), 1 WHERE ?4 > 0
             ON CONFLICT (instance, user, service, day) DO UPDATE SET count = count + 1 WHERE count < ?4
             RETURNING count",
        )
        .bind(instance)
        .bind(user.to_ascii_lowercase())
        .bind(service.as_str())
        .bind(limit)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Gives back one slot taken by [`Store::reserve`] today.
    pub async fn release(
        &self,
        instance: &str,
        user: &str,
        service: Service,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE usage SET count = count - 1
             WHERE instance = ?1 AND user = ?2 AND service = ?3 AND day = date('now','localtime') AND count > 0",
        )
        .bind(instance)
        .bind(user.to_ascii_lowercase())
        .bind(service.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Indexes a message kept in `journal/` (message store mode `journal`).
    #[allow(clippy::too_many_arguments)]
    pub async fn journal_add(
        &self,
        instance: &str,
        id: &str,
        service: Service,
        calling: &str,
        called: &str,
        recipient: &str,
        received_at: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT OR REPLACE INTO journal VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .bind(instance)
            .bind(id)
            .bind(service.as_str())
            .bind(calling)
            .bind(called)
            .bind(recipient)
            .bind(received_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Messages of the journal for one recipient, newest first: (id, service, calling, received_at).
    pub async fn journal_for(
        &self,
        instance: &str,
        recipient: &str,
    ) -> Result<Vec<(String, String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, service, calling, received_at FROM journal WHERE instance = ?1 AND recipient = ?2 ORDER BY received_at DESC, id DESC",
        )
        .bind(instance)
        .bind(recipient)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let col = |i: usize| r.try_get::<String, _>(i).unwrap_or_default();
                (col(0), col(1), col(2), col(3))
            })
            .collect())
    }

    /// Jobs counted today.
    pub async fn used_today(
        &self,
        instance: &str,
        user: &str,
        service: Service,
    ) -> Result<u32, StoreError> {
        let row = sqlx::query(
            "SELECT count FROM usage WHERE instance = ?1 AND user = ?2 AND service = ?3 AND day = date('now','localtime')",
        )
        .bind(instance)
        .bind(user.to_ascii_lowercase())
        .bind(service.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .and_then(|r| r.try_get::<i64, _>(0).ok())
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn the_limit_holds_under_concurrency_and_release_gives_back() {
        let dir = std::env::temp_dir().join(format!("umsgate-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("umsgate.db")).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.reserve("i", "Max@example.com", Service::Fax, Some(5))
                    .await
                    .unwrap()
            }));
        }
        let mut granted = 0;
        for t in tasks {
            granted += u32::from(t.await.unwrap());
        }
        assert_eq!(granted, 5);
        assert_eq!(
            store
                .used_today("i", "max@example.com", Service::Fax)
                .await
                .unwrap(),
            5
        );
        assert!(
            !store
                .reserve("i", "max@example.com", Service::Fax, Some(5))
                .await
                .unwrap()
        );
        assert!(
            store
                .reserve("i", "max@example.com", Service::Sms, Some(5))
                .await
                .unwrap()
        );
        store
            .release("i", "max@example.com", Service::Fax)
            .await
            .unwrap();
        assert!(
            store
                .reserve("i", "max@example.com", Service::Fax, Some(5))
                .await
                .unwrap()
        );
        assert!(
            !store
                .reserve("i", "zero@example.com", Service::Fax, Some(0))
                .await
                .unwrap()
        );
        assert!(
            store
                .reserve("i", "free@example.com", Service::Fax, None)
                .await
                .unwrap()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

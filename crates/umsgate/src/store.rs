//! The state store: per-day usage counters, the journal's index and print-unread tracking,
//! in SQLite under `state_dir/umsgate.db`.
//!
//! Contract: [`Store::reserve`] counts one job against a user's per-day limit atomically —
//! one `INSERT … ON CONFLICT DO UPDATE … WHERE count < limit` statement, so concurrent
//! workers (and several instances) can never both take the last slot. The day is the
//! *local* calendar day, computed by SQLite (`date('now','localtime')`), so the limit resets
//! at local midnight as users expect. [`Store::release`] gives a slot back when a job could
//! not be handed to the gateway after all.
//!
//! Print-unread: a fax waiting for its read receipt is one row of `print_pending` (keyed by
//! instance and the received message's id, so composing its mail again keeps the first
//! deadline) and each mail that asked for a receipt one row of `print_message` (its
//! Message-ID → the fax). [`Store::print_receipt`] clears a waiting fax in one conditional
//! `UPDATE`, and [`Store::print_claim_due`] takes due faxes with a lease
//! ([`PRINT_LEASE`]): the same `UPDATE … WHERE next_attempt <= now … RETURNING` moves their
//! next attempt past the lease, so two processes sharing the store never print the same fax
//! at once. The statements use only SQL that PostgreSQL also accepts (`ON CONFLICT`,
//! `RETURNING`, row values in `IN`), times are Unix seconds in integer columns, and the
//! callers see plain types ([`PendingPrint`], [`ReceiptEffect`]), so that a PostgreSQL
//! backend needs other parameter marks (`$1` for `?1`) and nothing else.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use std::time::SystemTime;

use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use umsgate_domain::{Service, clock};

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

const PRINT_SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS print_pending (
    instance TEXT NOT NULL,
    fax TEXT NOT NULL,
    rule TEXT NOT NULL,
    printer TEXT NOT NULL,
    calling TEXT NOT NULL,
    called TEXT NOT NULL,
    received_at TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt INTEGER NOT NULL,
    last_error TEXT,
    job_id INTEGER,
    job_state TEXT,
    updated INTEGER NOT NULL,
    PRIMARY KEY (instance, fax)
)",
    "CREATE TABLE IF NOT EXISTS print_message (
    message_id TEXT NOT NULL PRIMARY KEY,
    instance TEXT NOT NULL,
    fax TEXT NOT NULL
)",
    "CREATE INDEX IF NOT EXISTS print_due ON print_pending (instance, state, next_attempt)",
];

/// How long a claimed fax is not taken by another round (or node) while it is printed.
pub const PRINT_LEASE: Duration = Duration::from_secs(120);

/// Where a fax of print-unread stands. `Waiting` and `Submitted` are pending; the others
/// are final and kept as the record of what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrintState {
    /// Waiting for its read receipt, or (after the deadline) for the printer.
    Waiting,
    /// Handed to the printer; its job is followed until it completes.
    Submitted,
    /// A receipt came in time: not printed.
    Read,
    /// The printer completed the job.
    Printed,
    /// The printer could not be reached in time: the default recipient was told.
    Reported,
}

impl PrintState {
    pub fn as_str(self) -> &'static str {
        match self {
            PrintState::Waiting => "waiting",
            PrintState::Submitted => "submitted",
            PrintState::Read => "read",
            PrintState::Printed => "printed",
            PrintState::Reported => "reported",
        }
    }

    fn parse(s: &str) -> Option<PrintState> {
        [
            PrintState::Waiting,
            PrintState::Submitted,
            PrintState::Read,
            PrintState::Printed,
            PrintState::Reported,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// A fax of print-unread, as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PendingPrint {
    pub instance: String,
    /// The received message's id (its folder in `received/`; its PDF in `print/`).
    pub fax: String,
    pub rule: String,
    pub printer: String,
    pub calling: String,
    pub called: String,
    pub received_at: String,
    /// Unix seconds.
    pub deadline: u64,
    pub state: PrintState,
    pub attempts: u32,
    /// Unix seconds.
    pub next_attempt: u64,
    pub last_error: Option<String>,
    pub job_id: Option<i64>,
    pub job_state: Option<String>,
}

/// The columns [`pending_print`] reads, in its order (a macro: sqlx takes static SQL only).
macro_rules! print_columns {
    () => {
        "instance, fax, rule, printer, calling, called, received_at, deadline, state, attempts, next_attempt, last_error, job_id, job_state"
    };
}

fn pending_print(r: &sqlx::sqlite::SqliteRow) -> Result<PendingPrint, StoreError> {
    let text = |i: usize| r.try_get::<String, _>(i);
    let secs = |i: usize| {
        r.try_get::<i64, _>(i)
            .map(|v| u64::try_from(v).unwrap_or(0))
    };
    let state = text(8)?;
    Ok(PendingPrint {
        instance: text(0)?,
        fax: text(1)?,
        rule: text(2)?,
        printer: text(3)?,
        calling: text(4)?,
        called: text(5)?,
        received_at: text(6)?,
        deadline: secs(7)?,
        state: PrintState::parse(&state)
            .ok_or_else(|| StoreError(format!("unknown print state `{state}`")))?,
        attempts: u32::try_from(r.try_get::<i64, _>(9)?).unwrap_or(u32::MAX),
        next_attempt: secs(10)?,
        last_error: r.try_get::<Option<String>, _>(11)?,
        job_id: r.try_get::<Option<i64>, _>(12)?,
        job_state: r.try_get::<Option<String>, _>(13)?,
    })
}

fn seconds(t: SystemTime) -> i64 {
    i64::try_from(clock::unix_seconds(t)).unwrap_or(i64::MAX)
}

/// What a read receipt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptEffect {
    /// It names no mail that asked for a receipt.
    Unknown,
    /// The fax was waiting and is now cleared.
    Cleared(String),
    /// The fax was no longer waiting (printed, or being printed, or cleared before).
    TooLate(String, PrintState),
}

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
        for statement in PRINT_SCHEMA {
            sqlx::query(statement).execute(&pool).await?;
        }
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

    /// Remembers a fax that waits for its read receipt until `p.deadline`. A fax already
    /// known keeps its row (and so its first deadline): composing its mail again after a
    /// crash does not move the deadline.
    pub async fn print_expect(&self, p: &PendingPrint) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO print_pending (instance, fax, rule, printer, calling, called, received_at, deadline, state, attempts, next_attempt, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'waiting', 0, ?8, ?9)
             ON CONFLICT (instance, fax) DO NOTHING",
        )
        .bind(&p.instance)
        .bind(&p.fax)
        .bind(&p.rule)
        .bind(&p.printer)
        .bind(&p.calling)
        .bind(&p.called)
        .bind(&p.received_at)
        .bind(i64::try_from(p.deadline).unwrap_or(i64::MAX))
        .bind(seconds(clock::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Links the Message-ID (without `<>`) of a mail that asks for a receipt to its fax.
    pub async fn print_message(
        &self,
        instance: &str,
        fax: &str,
        message_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO print_message (message_id, instance, fax) VALUES (?1, ?2, ?3)
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message_id)
        .bind(instance)
        .bind(fax)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A receipt that the mail `message_id` was read: clears its fax if that still waits
    /// for its deadline.
    pub async fn print_receipt(
        &self,
        instance: &str,
        message_id: &str,
    ) -> Result<ReceiptEffect, StoreError> {
        let Some(fax) =
            sqlx::query("SELECT fax FROM print_message WHERE message_id = ?1 AND instance = ?2")
                .bind(message_id)
                .bind(instance)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get::<String, _>(0))
                .transpose()?
        else {
            return Ok(ReceiptEffect::Unknown);
        };
        let now = seconds(clock::now());
        // Only a fax whose deadline has not passed, or that no round has taken yet, is
        // cleared: one taken is already on its way to the printer.
        let cleared = sqlx::query(
            "UPDATE print_pending SET state = 'read', updated = ?3
             WHERE instance = ?1 AND fax = ?2 AND state = 'waiting' AND attempts = 0 AND next_attempt = deadline
             RETURNING fax",
        )
        .bind(instance)
        .bind(&fax)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if cleared.is_some() {
            return Ok(ReceiptEffect::Cleared(fax));
        }
        let state = self
            .print_get(instance, &fax)
            .await?
            .map_or(PrintState::Read, |p| p.state);
        Ok(ReceiptEffect::TooLate(fax, state))
    }

    /// Whether umsgate asked for a receipt of the mail `message_id`.
    pub async fn print_has_message(
        &self,
        instance: &str,
        message_id: &str,
    ) -> Result<bool, StoreError> {
        let row =
            sqlx::query("SELECT 1 FROM print_message WHERE message_id = ?1 AND instance = ?2")
                .bind(message_id)
                .bind(instance)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// One fax of print-unread.
    pub async fn print_get(
        &self,
        instance: &str,
        fax: &str,
    ) -> Result<Option<PendingPrint>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            print_columns!(),
            " FROM print_pending WHERE instance = ?1 AND fax = ?2"
        ))
        .bind(instance)
        .bind(fax)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(pending_print).transpose()
    }

    /// Takes the faxes of `instance` whose deadline (or next attempt) has come: their next
    /// attempt moves [`PRINT_LEASE`] ahead, so no other round takes them meanwhile.
    pub async fn print_claim_due(
        &self,
        instance: &str,
        now: SystemTime,
        limit: u32,
    ) -> Result<Vec<PendingPrint>, StoreError> {
        let now = seconds(now);
        let lease = now.saturating_add(i64::try_from(PRINT_LEASE.as_secs()).unwrap_or(0));
        let rows = sqlx::query(concat!(
            "UPDATE print_pending SET next_attempt = ?3, updated = ?2
             WHERE instance = ?1 AND fax IN (
                 SELECT fax FROM print_pending
                 WHERE instance = ?1 AND state IN ('waiting', 'submitted') AND next_attempt <= ?2
                 ORDER BY next_attempt LIMIT ?4)
             RETURNING ",
            print_columns!(),
            ""
        ))
        .bind(instance)
        .bind(now)
        .bind(lease)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pending_print).collect()
    }

    /// Records what happened to a claimed fax: its new state, attempts, next attempt, last
    /// error and the printer's job.
    pub async fn print_update(&self, p: &PendingPrint) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE print_pending SET state = ?3, attempts = ?4, next_attempt = ?5, last_error = ?6,
                 job_id = ?7, job_state = ?8, updated = ?9
             WHERE instance = ?1 AND fax = ?2",
        )
        .bind(&p.instance)
        .bind(&p.fax)
        .bind(p.state.as_str())
        .bind(i64::from(p.attempts))
        .bind(i64::try_from(p.next_attempt).unwrap_or(i64::MAX))
        .bind(&p.last_error)
        .bind(p.job_id)
        .bind(&p.job_state)
        .bind(seconds(clock::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The faxes still pending (waiting or submitted), by deadline; all instances when
    /// `instance` is `None`.
    pub async fn print_pending(
        &self,
        instance: Option<&str>,
    ) -> Result<Vec<PendingPrint>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            print_columns!(),
            " FROM print_pending
             WHERE state IN ('waiting', 'submitted') AND (?1 IS NULL OR instance = ?1)
             ORDER BY deadline, fax"
        ))
        .bind(instance)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(pending_print).collect()
    }

    /// When the next fax of `instance` is due (Unix seconds), if any is pending.
    pub async fn print_next_due(&self, instance: &str) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt) FROM print_pending WHERE instance = ?1 AND state IN ('waiting', 'submitted')",
        )
        .bind(instance)
        .fetch_one(&self.pool)
        .await?;
        Ok(row
            .try_get::<Option<i64>, _>(0)?
            .map(|v| u64::try_from(v).unwrap_or(0)))
    }

    /// Forgets final faxes (and their Message-IDs) last changed before `before`.
    pub async fn print_forget(&self, before: SystemTime) -> Result<u64, StoreError> {
        let before = seconds(before);
        sqlx::query(
            "DELETE FROM print_message WHERE (instance, fax) IN (
                 SELECT instance, fax FROM print_pending
                 WHERE state NOT IN ('waiting', 'submitted') AND updated < ?1)",
        )
        .bind(before)
        .execute(&self.pool)
        .await?;
        let done = sqlx::query(
            "DELETE FROM print_pending WHERE state NOT IN ('waiting', 'submitted') AND updated < ?1",
        )
        .bind(before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
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

    fn pending(fax: &str, deadline: u64) -> PendingPrint {
        PendingPrint {
            instance: "i".into(),
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

    #[tokio::test]
    async fn print_unread_waits_clears_claims_once_and_keeps_the_first_deadline() {
        let dir = std::env::temp_dir().join(format!("umsgate-store-print-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("umsgate.db")).await.unwrap();
        let now = clock::unix_seconds(clock::now());
        store.print_expect(&pending("A", now + 3600)).await.unwrap();
        store.print_expect(&pending("B", now - 1)).await.unwrap();
        // Composed again after a crash: the first deadline stays.
        store.print_expect(&pending("A", now + 7200)).await.unwrap();
        assert_eq!(
            store.print_get("i", "A").await.unwrap().unwrap().deadline,
            now + 3600
        );
        store
            .print_message("i", "A", "a1@umsgate.test")
            .await
            .unwrap();
        store
            .print_message("i", "B", "b1@umsgate.test")
            .await
            .unwrap();
        let listed: Vec<String> = store
            .print_pending(None)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.fax)
            .collect();
        assert_eq!(listed, ["B", "A"], "by deadline");

        // Only B is due; a second claim within the lease takes nothing.
        let due = store.print_claim_due("i", clock::now(), 16).await.unwrap();
        assert_eq!(
            due.iter().map(|p| p.fax.as_str()).collect::<Vec<_>>(),
            ["B"]
        );
        assert!(
            store
                .print_claim_due("i", clock::now(), 16)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .print_claim_due("other", clock::now() + PRINT_LEASE * 2, 16)
                .await
                .unwrap()
                .is_empty()
        );

        // A receipt clears A (waiting); B is already on its way to the printer.
        assert_eq!(
            store.print_receipt("i", "a1@umsgate.test").await.unwrap(),
            ReceiptEffect::Cleared("A".into())
        );
        assert_eq!(
            store.print_receipt("i", "b1@umsgate.test").await.unwrap(),
            ReceiptEffect::TooLate("B".into(), PrintState::Waiting)
        );
        assert_eq!(
            store.print_receipt("i", "zz@umsgate.test").await.unwrap(),
            ReceiptEffect::Unknown
        );
        assert_eq!(
            store
                .print_receipt("other", "a1@umsgate.test")
                .await
                .unwrap(),
            ReceiptEffect::Unknown
        );
        assert!(
            store
                .print_has_message("i", "a1@umsgate.test")
                .await
                .unwrap()
        );

        let mut b = due.into_iter().next().unwrap();
        b.state = PrintState::Printed;
        b.job_id = Some(7);
        b.job_state = Some("completed".into());
        store.print_update(&b).await.unwrap();
        assert!(store.print_pending(Some("i")).await.unwrap().is_empty());
        let kept = store.print_get("i", "B").await.unwrap().unwrap();
        assert_eq!((kept.state, kept.job_id), (PrintState::Printed, Some(7)));
        assert_eq!(
            store
                .print_forget(clock::now() + Duration::from_secs(10))
                .await
                .unwrap(),
            2
        );
        assert!(store.print_get("i", "B").await.unwrap().is_none());
        assert!(
            !store
                .print_has_message("i", "a1@umsgate.test")
                .await
                .unwrap()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

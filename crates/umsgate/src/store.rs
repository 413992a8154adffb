//! The state store: per-day usage counters, the journal's index, print-unread tracking and
//! (when shared) job records — in SQLite under `state_dir/umsgate.db` (one node), or in a
//! PostgreSQL database that several nodes share (`service.store = "postgres://…"`).
//!
//! Contract: [`Store::reserve`] counts one job against a user's per-day limit atomically —
//! one `INSERT … ON CONFLICT DO UPDATE … WHERE count < limit RETURNING` statement, so
//! concurrent workers and several nodes can never both take the last slot. The day is the
//! *local* calendar day, computed by umsgate ([`clock::local_day`], the system's time zone)
//! and passed to the statement, so the limit resets at local midnight as users expect and
//! nodes sharing a database count the same day **as long as they share a time zone**.
//! [`Store::release`] gives a slot back when a job could not be handed to the gateway after
//! all.
//!
//! Print-unread: a fax waiting for its read receipt is one row of `print_pending` (keyed by
//! instance and the received message's id, so composing its mail again keeps the first
//! deadline) and each mail that asked for a receipt one row of `print_message` (its
//! Message-ID → the fax). [`Store::print_receipt`] clears a waiting fax in one conditional
//! `UPDATE`, and [`Store::print_claim_due`] takes due faxes with a lease
//! ([`PRINT_LEASE`]): the same `UPDATE … WHERE next_attempt <= now … RETURNING` moves their
//! next attempt past the lease (and re-checks it on the row it locks), so two processes
//! sharing the store never print the same fax at once.
//!
//! The message journal's index (`store = "journal"`, [`crate::message_journal`]): one row
//! per kept mail — a received message or a delivery report ([`JournalKind`]), its service,
//! numbers, recipient, time, subject and size. [`Store::journal_list`] answers one page of it,
//! newest first, filtered in the database (instance, recipient, service, kind, a search on
//! recipient, id, subject and numbers, LIKE wildcards taken literally), with the total count.
//!
//! Job records ([`Store::job_put`] …) live here only with PostgreSQL, so that a delivery
//! report picked up by one node finds the record another node wrote; a single node keeps
//! them in its own journal (`jobs/records.jsonl`, see `outbound::jobs`).
//!
//! Failures: every error is a [`StoreError`], and the callers treat it as temporary (the
//! message stays queued and is tried again). A PostgreSQL pool replaces broken connections by
//! itself: once the database is back, the next query succeeds, without a restart. Waiting for
//! a connection is bounded (`store_pool.acquire_timeout`), and so is the first connection at
//! start (`store_pool.connect_timeout`); on the server, a statement ends after 30 s and a lock
//! wait after 10 s (`statement_timeout`, `lock_timeout`).
//!
//! Implementation summary: the two backends are an enum of sqlx pools, not a trait object —
//! the set is closed, the SQL text is the same for both (`$1` parameters, which SQLite also
//! reads; `ON CONFLICT`, `RETURNING`, row values in `IN`; times as Unix seconds in integer
//! columns; `"user"` quoted, a reserved word in PostgreSQL), and each method is one `match`
//! that runs the same statement on either pool, without boxing futures. The schema is
//! migrated at start with sqlx's migrator from `migrations/{sqlite,postgres}/` (embedded in
//! the binary; PostgreSQL's migrator takes an advisory lock, so nodes starting together do
//! not race). The SQLite baseline is idempotent (`CREATE … IF NOT EXISTS`), so a database
//! of an earlier release is adopted as version 1. Only runtime `query()` is used: building
//! needs no database.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use std::time::SystemTime;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Connection, Row, SqlSafeStr};
use umsgate_domain::{Service, clock};

use crate::config::ServiceConfig;
use crate::config::store::{StoreLocation, StorePool, redact};

/// A store failure; temporary for its callers (the message is kept and retried).
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed a statement, or could not be reached.
    Database(sqlx::Error),
    /// The schema could not be brought to this release's version.
    Migrate(sqlx::migrate::MigrateError),
    /// The folder of the SQLite file could not be created.
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The first connection to the database took longer than `store_pool.connect_timeout`.
    ConnectTimeout { url: String, after: Duration },
    /// A row holds what this release cannot read.
    Corrupt(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Database(e) => write!(f, "state store: {e}"),
            StoreError::Migrate(e) => write!(f, "state store: schema migration: {e}"),
            StoreError::Folder { path, source } => {
                write!(f, "state store: cannot create {}: {source}", path.display())
            }
            StoreError::ConnectTimeout { url, after } => write!(
                f,
                "state store: no connection to {url} within {}s",
                after.as_secs_f32()
            ),
            StoreError::Corrupt(what) => write!(f, "state store: {what}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Database(e) => Some(e),
            StoreError::Migrate(e) => Some(e),
            StoreError::Folder { source, .. } => Some(source),
            StoreError::ConnectTimeout { .. } | StoreError::Corrupt(_) => None,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(e)
    }
}

/// Handle to the store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool the store has (the same SQL text on
/// both; the body is compiled once per backend).
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

/// The migrations of one backend, embedded in the binary, in order.
fn migrator(steps: &[(&'static str, &'static str)]) -> Migrator {
    Migrator {
        migrations: Cow::Owned(
            steps
                .iter()
                .zip(1..)
                .map(|((name, sql), version)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(*name),
                        MigrationType::Simple,
                        sql.into_sql_str(),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

const SQLITE_MIGRATIONS: &[(&str, &str)] = &[
    (
        "baseline",
        include_str!("../migrations/sqlite/0001_baseline.sql"),
    ),
    (
        "journal entries",
        include_str!("../migrations/sqlite/0002_journal_entries.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(&str, &str)] = &[
    (
        "baseline",
        include_str!("../migrations/postgres/0001_baseline.sql"),
    ),
    (
        "journal entries",
        include_str!("../migrations/postgres/0002_journal_entries.sql"),
    ),
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

fn pending_print<R>(r: &R) -> Result<PendingPrint, StoreError>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
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
            .ok_or_else(|| StoreError::Corrupt(format!("unknown print state `{state}`")))?,
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

/// Today's day of the per-day counters (see the module contract).
fn today() -> String {
    clock::local_day(clock::now())
}

/// What [`Store::reserve_job`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The job's record is kept: it was reserved by an earlier hand-over; nothing counted.
    Recorded,
    /// Counted (and, by [`Store::reserve_job`], the job's record written).
    Granted,
    /// The per-day limit is reached.
    Refused,
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

/// What an entry of the message journal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JournalKind {
    /// A received fax, SMS or voice message, as it would have been mailed.
    Message,
    /// A delivery report (sent / failed) of an outbound job, as it would have been mailed.
    Report,
}

impl JournalKind {
    pub const ALL: [JournalKind; 2] = [JournalKind::Message, JournalKind::Report];

    pub fn as_str(self) -> &'static str {
        match self {
            JournalKind::Message => "message",
            JournalKind::Report => "report",
        }
    }

    pub fn parse(s: &str) -> Option<JournalKind> {
        JournalKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One entry of the message journal's index; its mail is `journal/<id>.eml` of its instance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JournalEntry {
    pub instance: String,
    /// The queue id the mail was composed under (its file name).
    pub id: String,
    pub kind: JournalKind,
    pub service: Service,
    /// A message's calling number; empty for a report.
    pub calling: String,
    /// A message's called number; for a report, the number the job was sent to.
    pub called: String,
    /// Whom the mail is for: the user the message was for, or the sender of the job (kept in
    /// lower case, so that one user's entries are found through the index).
    pub recipient: String,
    /// RFC 3339 (UTC): when the message was received, or when the job ended.
    pub received_at: String,
    pub subject: String,
    /// Bytes of the `.eml`.
    pub size: u64,
}

/// Which entries [`Store::journal_list`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalQuery {
    pub instance: Option<String>,
    /// Exactly this recipient (case-insensitive): one user's entries.
    pub recipient: Option<String>,
    pub service: Option<Service>,
    pub kind: Option<JournalKind>,
    /// A part of the recipient, the id or the subject (case-insensitive), or of a number
    /// (whatever its separators).
    pub search: Option<String>,
    /// Entries per page (at most [`JOURNAL_PAGE_MAX`]).
    pub limit: u32,
    pub offset: u64,
}

/// Most entries one [`Store::journal_list`] answers.
pub const JOURNAL_PAGE_MAX: u32 = 500;

/// The columns [`journal_entry`] reads, in its order.
macro_rules! journal_columns {
    () => {
        "instance, id, kind, service, calling, called, recipient, received_at, subject, size"
    };
}

/// The conditions of [`Store::journal_list`] ($1 instance, $2 recipient, $3 service, $4 kind,
/// $5 text pattern, $6 number pattern; each `NULL` = any).
macro_rules! journal_filter {
    () => {
        "($1 IS NULL OR instance = $1)
         AND ($2 IS NULL OR recipient = $2)
         AND ($3 IS NULL OR service = $3)
         AND ($4 IS NULL OR kind = $4)
         AND ($5 IS NULL OR recipient LIKE $5 ESCAPE '\\' OR lower(id) LIKE $5 ESCAPE '\\'
              OR lower(subject) LIKE $5 ESCAPE '\\'
              OR replace(replace(calling, ' ', ''), '-', '') LIKE $6 ESCAPE '\\'
              OR replace(replace(called, ' ', ''), '-', '') LIKE $6 ESCAPE '\\')"
    };
}

/// `s` with LIKE's wildcards (and the escape character) taken literally.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn journal_entry<R>(r: &R) -> Result<JournalEntry, StoreError>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let text = |i: usize| r.try_get::<String, _>(i);
    let kind = text(2)?;
    let service = text(3)?;
    Ok(JournalEntry {
        instance: text(0)?,
        id: text(1)?,
        kind: JournalKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown journal kind `{kind}`")))?,
        service: service
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("unknown service `{service}`")))?,
        calling: text(4)?,
        called: text(5)?,
        recipient: text(6)?,
        received_at: text(7)?,
        subject: text(8)?,
        size: u64::try_from(r.try_get::<i64, _>(9)?).unwrap_or(0),
    })
}

impl Store {
    /// Opens the store `service.store` names: SQLite under `state_dir`, or the PostgreSQL
    /// database (with `store_password_file`'s password and `[service.store_pool]`).
    pub async fn connect(service: &ServiceConfig) -> Result<Store, StoreError> {
        match StoreLocation::parse(service.store.get_ref()) {
            Ok(StoreLocation::Postgres(url)) => {
                Store::open_postgres(
                    &url,
                    service.store_secret.as_ref().map(|s| s.expose()),
                    service.store_pool,
                )
                .await
            }
            // `load` refused anything else already.
            Ok(StoreLocation::Sqlite) | Err(_) => {
                Store::open(&service.state_dir.join("umsgate.db")).await
            }
        }
    }

    /// Opens (creating) the SQLite database at `path` and migrates it.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                path: dir.to_owned(),
                source,
            })?;
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
        migrator(SQLITE_MIGRATIONS).run(&pool).await?;
        Ok(Store {
            pool: Pool::Sqlite(pool),
        })
    }

    /// Connects to the PostgreSQL database at `url` (its password, if not in the URL, is
    /// `password`) and migrates it. The first connection must come within
    /// `pool.connect_timeout`; later ones are made by the pool as queries need them.
    pub async fn open_postgres(
        url: &str,
        password: Option<&str>,
        pool: StorePool,
    ) -> Result<Store, StoreError> {
        // A statement the server cannot finish (a lock held elsewhere) ends in an error, which
        // the caller retries, rather than holding a worker.
        let mut opts = PgConnectOptions::from_str(url)?
            .application_name("umsgate")
            .options([("statement_timeout", "30s"), ("lock_timeout", "10s")]);
        if let Some(pw) = password {
            opts = opts.password(pw);
        }
        // One connection first, on its own: its error says what is wrong (refused, wrong
        // password, no such database), where a pool would only report that it timed out.
        let first = tokio::time::timeout(pool.connect_timeout, PgConnection::connect_with(&opts))
            .await
            .map_err(|_| StoreError::ConnectTimeout {
                url: redact(url),
                after: pool.connect_timeout,
            })??;
        let pg = PgPoolOptions::new()
            .max_connections(pool.max_connections)
            .acquire_timeout(pool.acquire_timeout)
            .connect_lazy_with(opts);
        first.close().await?;
        migrator(POSTGRES_MIGRATIONS).run(&pg).await?;
        Ok(Store {
            pool: Pool::Postgres(pg),
        })
    }

    /// Whether several nodes may share this store (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }

    /// What the store is, for `check` and the logs: the backend and its server version.
    /// Whether the database answers `SELECT 1` within `within`.
    pub async fn ping(&self, within: Duration) -> bool {
        let query = async { on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.is_ok()) };
        matches!(tokio::time::timeout(within, query).await, Ok(true))
    }

    pub async fn describe(&self) -> Result<String, StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => {
                let v: String = sqlx::query("SELECT sqlite_version()")
                    .fetch_one(p)
                    .await?
                    .try_get(0)?;
                Ok(format!("SQLite {v}"))
            }
            Pool::Postgres(p) => {
                let v: String = sqlx::query("SHOW server_version")
                    .fetch_one(p)
                    .await?
                    .try_get(0)?;
                Ok(format!("PostgreSQL {v}"))
            }
        }
    }

    /// Closes the store: waits for queries in flight; every later one fails.
    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
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
        let day = today();
        let user = user.to_ascii_lowercase();
        let granted = on_pool!(self, p => sqlx::query(
            "INSERT INTO usage (instance, \"user\", service, day, count)
             SELECT $1, $2, $3, $5, 1 WHERE $4 > 0
             ON CONFLICT (instance, \"user\", service, day)
             DO UPDATE SET count = usage.count + 1 WHERE usage.count < $4
             RETURNING count",
        )
        .bind(instance)
        .bind(&user)
        .bind(service.as_str())
        .bind(limit)
        .bind(&day)
        .fetch_optional(p)
        .await?
        .is_some());
        Ok(granted)
    }

    /// With job records in the store (PostgreSQL): [`Store::reserve`] for the job `job_id`
    /// unless its record is kept already (an earlier hand-over reserved it), and, when the
    /// slot is granted, its `record` (JSON) written — in one statement: one round trip where
    /// a check, a reservation and the record would take three, and the slot is never counted
    /// without its record (nor the record kept without its slot).
    pub async fn reserve_job(
        &self,
        instance: &str,
        user: &str,
        service: Service,
        limit: Option<u32>,
        job_id: &str,
        record: &str,
    ) -> Result<Reservation, StoreError> {
        let Pool::Postgres(p) = &self.pool else {
            return Err(StoreError::Corrupt(
                "job records are kept in the store only with PostgreSQL".into(),
            ));
        };
        let limit = limit.map_or(i64::MAX, i64::from);
        let row = sqlx::query(
            "WITH kept AS (
                 SELECT 1 FROM job_record WHERE instance = $1 AND job_id = $6
             ), counted AS (
                 INSERT INTO usage (instance, \"user\", service, day, count)
                 SELECT $1, $2, $3, $5, 1 WHERE $4 > 0 AND NOT EXISTS (SELECT 1 FROM kept)
                 ON CONFLICT (instance, \"user\", service, day)
                 DO UPDATE SET count = usage.count + 1 WHERE usage.count < $4
                 RETURNING count
             ), recorded AS (
                 INSERT INTO job_record (instance, job_id, record, created)
                 SELECT $1, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM counted)
                 ON CONFLICT (instance, job_id) DO UPDATE SET record = excluded.record
                 RETURNING 1
             )
             SELECT EXISTS (SELECT 1 FROM kept), EXISTS (SELECT 1 FROM recorded)",
        )
        .bind(instance)
        .bind(user.to_ascii_lowercase())
        .bind(service.as_str())
        .bind(limit)
        .bind(today())
        .bind(job_id)
        .bind(record)
        .bind(seconds(clock::now()))
        .fetch_one(p)
        .await?;
        Ok(
            match (row.try_get::<bool, _>(0)?, row.try_get::<bool, _>(1)?) {
                (true, _) => Reservation::Recorded,
                (false, true) => Reservation::Granted,
                (false, false) => Reservation::Refused,
            },
        )
    }

    /// Gives back one slot taken by [`Store::reserve`] today.
    pub async fn release(
        &self,
        instance: &str,
        user: &str,
        service: Service,
    ) -> Result<(), StoreError> {
        let day = today();
        let user = user.to_ascii_lowercase();
        on_pool!(self, p => sqlx::query(
            "UPDATE usage SET count = count - 1
             WHERE instance = $1 AND \"user\" = $2 AND service = $3 AND day = $4 AND count > 0",
        )
        .bind(instance)
        .bind(&user)
        .bind(service.as_str())
        .bind(&day)
        .execute(p)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Jobs counted today.
    pub async fn used_today(
        &self,
        instance: &str,
        user: &str,
        service: Service,
    ) -> Result<u32, StoreError> {
        let day = today();
        let user = user.to_ascii_lowercase();
        let count: Option<i64> = on_pool!(self, p => sqlx::query(
            "SELECT count FROM usage WHERE instance = $1 AND \"user\" = $2 AND service = $3 AND day = $4",
        )
        .bind(instance)
        .bind(&user)
        .bind(service.as_str())
        .bind(&day)
        .fetch_optional(p)
        .await?
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?);
        Ok(count.and_then(|n| u32::try_from(n).ok()).unwrap_or(0))
    }

    /// Indexes an entry kept in `journal/` (message store mode `journal`); an entry of the
    /// same instance and id is replaced (a message composed again after a crash).
    pub async fn journal_add(&self, e: &JournalEntry) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO journal (instance, id, service, calling, called, recipient, received_at, kind, subject, size)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (instance, id) DO UPDATE SET service = excluded.service,
                 calling = excluded.calling, called = excluded.called,
                 recipient = excluded.recipient, received_at = excluded.received_at,
                 kind = excluded.kind, subject = excluded.subject, size = excluded.size",
        )
        .bind(&e.instance)
        .bind(&e.id)
        .bind(e.service.as_str())
        .bind(&e.calling)
        .bind(&e.called)
        .bind(e.recipient.to_lowercase())
        .bind(&e.received_at)
        .bind(e.kind.as_str())
        .bind(&e.subject)
        .bind(i64::try_from(e.size).unwrap_or(i64::MAX))
        .execute(p)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// One page of the journal, newest first, and how many entries match in all (see
    /// [`JournalQuery`]).
    pub async fn journal_list(
        &self,
        q: &JournalQuery,
    ) -> Result<(Vec<JournalEntry>, u64), StoreError> {
        let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let pattern = search.map(|s| format!("%{}%", like_escape(&s.to_lowercase())));
        let number = search.map(|s| {
            let digits: String = s
                .chars()
                .filter(|c| !matches!(c, ' ' | '-' | '/' | '(' | ')' | '.'))
                .collect();
            format!("%{}%", like_escape(&digits))
        });
        let recipient = q.recipient.as_deref().map(str::to_lowercase);
        let service = q.service.map(Service::as_str);
        let kind = q.kind.map(JournalKind::as_str);
        let limit = i64::from(q.limit.min(JOURNAL_PAGE_MAX));
        let offset = i64::try_from(q.offset).unwrap_or(i64::MAX);
        on_pool!(self, p => {
            let rows = sqlx::query(concat!(
                "SELECT ",
                journal_columns!(),
                " FROM journal WHERE ",
                journal_filter!(),
                " ORDER BY received_at DESC, id DESC LIMIT $7 OFFSET $8"
            ))
            .bind(q.instance.as_deref())
            .bind(recipient.as_deref())
            .bind(service)
            .bind(kind)
            .bind(pattern.as_deref())
            .bind(number.as_deref())
            .bind(limit)
            .bind(offset)
            .fetch_all(p)
            .await?;
            let entries = rows.iter().map(journal_entry).collect::<Result<Vec<_>, _>>()?;
            let total: i64 = sqlx::query(concat!(
                "SELECT COUNT(*) FROM journal WHERE ",
                journal_filter!()
            ))
            .bind(q.instance.as_deref())
            .bind(recipient.as_deref())
            .bind(service)
            .bind(kind)
            .bind(pattern.as_deref())
            .bind(number.as_deref())
            .fetch_one(p)
            .await?
            .try_get(0)?;
            Ok((entries, u64::try_from(total).unwrap_or(0)))
        })
    }

    /// One entry of the journal.
    pub async fn journal_get(
        &self,
        instance: &str,
        id: &str,
    ) -> Result<Option<JournalEntry>, StoreError> {
        on_pool!(self, p => sqlx::query(concat!(
            "SELECT ",
            journal_columns!(),
            " FROM journal WHERE instance = $1 AND id = $2"
        ))
        .bind(instance)
        .bind(id)
        .fetch_optional(p)
        .await?
        .as_ref()
        .map(journal_entry)
        .transpose())
    }

    /// Forgets an entry of the journal; returns whether one was indexed.
    pub async fn journal_remove(&self, instance: &str, id: &str) -> Result<bool, StoreError> {
        on_pool!(self, p => Ok(sqlx::query(
            "DELETE FROM journal WHERE instance = $1 AND id = $2",
        )
        .bind(instance)
        .bind(id)
        .execute(p)
        .await?
        .rows_affected() > 0))
    }

    /// Records a job (its record as JSON) before it is submitted; a record of the same job
    /// is replaced. Durable when this returns (the transaction is committed).
    pub async fn job_put(
        &self,
        instance: &str,
        job_id: &str,
        record: &str,
    ) -> Result<(), StoreError> {
        let now = seconds(clock::now());
        on_pool!(self, p => sqlx::query(
            "INSERT INTO job_record (instance, job_id, record, created) VALUES ($1, $2, $3, $4)
             ON CONFLICT (instance, job_id) DO UPDATE SET record = excluded.record",
        )
        .bind(instance)
        .bind(job_id)
        .bind(record)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// The record (JSON) of a job, if one is kept.
    pub async fn job_get(
        &self,
        instance: &str,
        job_id: &str,
    ) -> Result<Option<String>, StoreError> {
        on_pool!(self, p => Ok(sqlx::query(
            "SELECT record FROM job_record WHERE instance = $1 AND job_id = $2",
        )
        .bind(instance)
        .bind(job_id)
        .fetch_optional(p)
        .await?
        .map(|r| r.try_get::<String, _>(0))
        .transpose()?))
    }

    /// Forgets the record of a job whose report was mailed; returns whether one was kept.
    pub async fn job_remove(&self, instance: &str, job_id: &str) -> Result<bool, StoreError> {
        on_pool!(self, p => Ok(sqlx::query(
            "DELETE FROM job_record WHERE instance = $1 AND job_id = $2",
        )
        .bind(instance)
        .bind(job_id)
        .execute(p)
        .await?
        .rows_affected() > 0))
    }

    /// Remembers a fax that waits for its read receipt until `p.deadline`. A fax already
    /// known keeps its row (and so its first deadline): composing its mail again after a
    /// crash does not move the deadline.
    pub async fn print_expect(&self, pp: &PendingPrint) -> Result<(), StoreError> {
        let now = seconds(clock::now());
        on_pool!(self, p => sqlx::query(
            "INSERT INTO print_pending (instance, fax, rule, printer, calling, called, received_at, deadline, state, attempts, next_attempt, updated)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'waiting', 0, $8, $9)
             ON CONFLICT (instance, fax) DO NOTHING",
        )
        .bind(&pp.instance)
        .bind(&pp.fax)
        .bind(&pp.rule)
        .bind(&pp.printer)
        .bind(&pp.calling)
        .bind(&pp.called)
        .bind(&pp.received_at)
        .bind(i64::try_from(pp.deadline).unwrap_or(i64::MAX))
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Links the Message-ID (without `<>`) of a mail that asks for a receipt to its fax.
    pub async fn print_message(
        &self,
        instance: &str,
        fax: &str,
        message_id: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO print_message (message_id, instance, fax) VALUES ($1, $2, $3)
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message_id)
        .bind(instance)
        .bind(fax)
        .execute(p)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// A receipt that the mail `message_id` was read: clears its fax if that still waits
    /// for its deadline.
    pub async fn print_receipt(
        &self,
        instance: &str,
        message_id: &str,
    ) -> Result<ReceiptEffect, StoreError> {
        let fax: Option<String> = on_pool!(self, p => sqlx::query(
            "SELECT fax FROM print_message WHERE message_id = $1 AND instance = $2",
        )
        .bind(message_id)
        .bind(instance)
        .fetch_optional(p)
        .await?
        .map(|r| r.try_get::<String, _>(0))
        .transpose()?);
        let Some(fax) = fax else {
            return Ok(ReceiptEffect::Unknown);
        };
        let now = seconds(clock::now());
        // Only a fax whose deadline has not passed, or that no round has taken yet, is
        // cleared: one taken is already on its way to the printer.
        let cleared = on_pool!(self, p => sqlx::query(
            "UPDATE print_pending SET state = 'read', updated = $3
             WHERE instance = $1 AND fax = $2 AND state = 'waiting' AND attempts = 0 AND next_attempt = deadline
             RETURNING fax",
        )
        .bind(instance)
        .bind(&fax)
        .bind(now)
        .fetch_optional(p)
        .await?
        .is_some());
        if cleared {
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
        on_pool!(self, p => Ok(sqlx::query(
            "SELECT 1 FROM print_message WHERE message_id = $1 AND instance = $2",
        )
        .bind(message_id)
        .bind(instance)
        .fetch_optional(p)
        .await?
        .is_some()))
    }

    /// One fax of print-unread.
    pub async fn print_get(
        &self,
        instance: &str,
        fax: &str,
    ) -> Result<Option<PendingPrint>, StoreError> {
        on_pool!(self, p => sqlx::query(concat!(
            "SELECT ",
            print_columns!(),
            " FROM print_pending WHERE instance = $1 AND fax = $2"
        ))
        .bind(instance)
        .bind(fax)
        .fetch_optional(p)
        .await?
        .as_ref()
        .map(pending_print)
        .transpose())
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
        // The outer conditions repeat the inner ones: PostgreSQL re-checks them on the row
        // it locks, so a fax another node claimed meanwhile is not claimed twice.
        on_pool!(self, p => sqlx::query(concat!(
            "UPDATE print_pending SET next_attempt = $3, updated = $2
             WHERE instance = $1 AND state IN ('waiting', 'submitted') AND next_attempt <= $2
               AND fax IN (
                 SELECT fax FROM print_pending
                 WHERE instance = $1 AND state IN ('waiting', 'submitted') AND next_attempt <= $2
                 ORDER BY next_attempt LIMIT $4)
             RETURNING ",
            print_columns!(),
            ""
        ))
        .bind(instance)
        .bind(now)
        .bind(lease)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await?
        .iter()
        .map(pending_print)
        .collect())
    }

    /// Records what happened to a claimed fax: its new state, attempts, next attempt, last
    /// error and the printer's job.
    pub async fn print_update(&self, pp: &PendingPrint) -> Result<(), StoreError> {
        let now = seconds(clock::now());
        on_pool!(self, p => sqlx::query(
            "UPDATE print_pending SET state = $3, attempts = $4, next_attempt = $5, last_error = $6,
                 job_id = $7, job_state = $8, updated = $9
             WHERE instance = $1 AND fax = $2",
        )
        .bind(&pp.instance)
        .bind(&pp.fax)
        .bind(pp.state.as_str())
        .bind(i64::from(pp.attempts))
        .bind(i64::try_from(pp.next_attempt).unwrap_or(i64::MAX))
        .bind(&pp.last_error)
        .bind(pp.job_id)
        .bind(&pp.job_state)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// The faxes still pending (waiting or submitted), by deadline; all instances when
    /// `instance` is `None`.
    pub async fn print_pending(
        &self,
        instance: Option<&str>,
    ) -> Result<Vec<PendingPrint>, StoreError> {
        on_pool!(self, p => sqlx::query(concat!(
            "SELECT ",
            print_columns!(),
            " FROM print_pending
             WHERE state IN ('waiting', 'submitted') AND ($1 IS NULL OR instance = $1)
             ORDER BY deadline, fax"
        ))
        .bind(instance)
        .fetch_all(p)
        .await?
        .iter()
        .map(pending_print)
        .collect())
    }

    /// When the next fax of `instance` is due (Unix seconds), if any is pending.
    pub async fn print_next_due(&self, instance: &str) -> Result<Option<u64>, StoreError> {
        let next: Option<i64> = on_pool!(self, p => sqlx::query(
            "SELECT MIN(next_attempt) FROM print_pending WHERE instance = $1 AND state IN ('waiting', 'submitted')",
        )
        .bind(instance)
        .fetch_one(p)
        .await?
        .try_get::<Option<i64>, _>(0)?);
        Ok(next.map(|v| u64::try_from(v).unwrap_or(0)))
    }

    /// Forgets final faxes (and their Message-IDs) last changed before `before`.
    pub async fn print_forget(&self, before: SystemTime) -> Result<u64, StoreError> {
        let before = seconds(before);
        on_pool!(self, p => {
            sqlx::query(
                "DELETE FROM print_message WHERE (instance, fax) IN (
                     SELECT instance, fax FROM print_pending
                     WHERE state NOT IN ('waiting', 'submitted') AND updated < $1)",
            )
            .bind(before)
            .execute(p)
            .await?;
            let done = sqlx::query(
                "DELETE FROM print_pending WHERE state NOT IN ('waiting', 'submitted') AND updated < $1",
            )
            .bind(before)
            .execute(p)
            .await?;
            Ok(done.rows_affected())
        })
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

    fn journaled(id: &str, kind: JournalKind, to: &str, at: &str, subject: &str) -> JournalEntry {
        JournalEntry {
            instance: "i".into(),
            id: id.into(),
            kind,
            service: Service::Fax,
            calling: "+49 30 1234567".into(),
            called: "+49 8142 4799100".into(),
            recipient: to.into(),
            received_at: at.into(),
            subject: subject.into(),
            size: 10,
        }
    }

    #[tokio::test]
    async fn the_journal_lists_newest_first_filters_searches_and_pages() {
        let dir =
            std::env::temp_dir().join(format!("umsgate-store-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir.join("umsgate.db")).await.unwrap();
        for n in 0..7 {
            let kind = if n % 2 == 0 {
                JournalKind::Message
            } else {
                JournalKind::Report
            };
            let to = if n < 5 {
                "jane@example.com"
            } else {
                "max@example.com"
            };
            let e = journaled(
                &format!("J{n}"),
                kind,
                to,
                &format!("2026-12-04T10:00:0{n}Z"),
                "100%_off",
            );
            store.journal_add(&e).await.unwrap();
        }
        let page = |offset, extra: JournalQuery| {
            let store = store.clone();
            async move {
                let (v, total) = store
                    .journal_list(&JournalQuery {
                        limit: 3,
                        offset,
                        ..extra
                    })
                    .await
                    .unwrap();
                (v.into_iter().map(|e| e.id).collect::<Vec<_>>(), total)
            }
        };
        assert_eq!(
            page(0, JournalQuery::default()).await,
            (vec!["J6".into(), "J5".into(), "J4".into()], 7)
        );
        assert_eq!(
            page(6, JournalQuery::default()).await,
            (vec!["J0".into()], 7)
        );
        let reports = JournalQuery {
            kind: Some(JournalKind::Report),
            ..JournalQuery::default()
        };
        assert_eq!(
            page(0, reports).await,
            (vec!["J5".into(), "J3".into(), "J1".into()], 3)
        );
        let max = JournalQuery {
            recipient: Some("MAX@example.com".into()),
            ..JournalQuery::default()
        };
        assert_eq!(page(0, max).await.1, 2);
        let sms = JournalQuery {
            service: Some(Service::Sms),
            ..JournalQuery::default()
        };
        assert_eq!(page(0, sms).await.1, 0);
        for (needle, hits) in [
            ("j3", 1),
            ("MAX@", 2),
            ("30-123", 7),
            ("%", 7),
            ("x%y", 0),
            ("0%_o", 7),
            ("1_0", 0),
        ] {
            let q = JournalQuery {
                search: Some(needle.into()),
                ..JournalQuery::default()
            };
            assert_eq!(page(0, q).await.1, hits, "{needle}");
        }
        assert!(store.journal_remove("i", "J3").await.unwrap());
        assert!(!store.journal_remove("i", "J3").await.unwrap());
        assert!(store.journal_get("i", "J3").await.unwrap().is_none());
        assert_eq!(
            store.journal_get("i", "J2").await.unwrap().unwrap().kind,
            JournalKind::Message
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_journal_of_an_earlier_release_is_migrated_to_messages_in_lower_case() {
        let dir = std::env::temp_dir().join(format!("umsgate-store-v1-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("umsgate.db");
        {
            // A database as the first releases left it: their tables, no migration record.
            let opts = SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true);
            let pool = SqlitePool::connect_with(opts).await.unwrap();
            sqlx::raw_sql(SQLITE_MIGRATIONS[0].1)
                .execute(&pool)
                .await
                .unwrap();
            sqlx::query(
                "INSERT INTO journal VALUES ('i', 'OLD1', 'fax', '+4930', '+498142', 'Jane@Example.com', '2026-12-01T10:00:00Z')",
            )
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
        }
        let store = Store::open(&path).await.unwrap();
        let old = store.journal_get("i", "OLD1").await.unwrap().unwrap();
        assert_eq!(old.kind, JournalKind::Message);
        assert_eq!(
            (old.recipient.as_str(), old.subject.as_str(), old.size),
            ("jane@example.com", "", 0)
        );
        let (mine, _) = store
            .journal_list(&JournalQuery {
                recipient: Some("JANE@example.com".into()),
                limit: 5,
                ..JournalQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(mine.len(), 1);
        store.close().await;
        // Opened again: nothing is migrated twice.
        Store::open(&path).await.unwrap().close().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

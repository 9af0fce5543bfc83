//! The SQLite backend: one desk, one file. WAL mode so the member endpoint can read while the desk
//! writes; writers take the lock up front (`BEGIN IMMEDIATE`) and wait for each other up to the busy
//! timeout instead of failing.
//!
//! This module holds the pools, connecting and starting a write; each aggregate's trait is implemented
//! in the submodule of the same name, with the SQL text and row conversions shared with the
//! PostgreSQL backend (`super::<aggregate>`, `super::rows`). The Rust around them is written for
//! SQLite's types and kept in step with `postgres/` by hand.

mod admin;
mod documents;
mod member;
mod notices;
mod operators;
mod orders;
mod renewals;
mod routes;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::{StoreError, StoreResult};
use member::DirectReader;

pub struct SqliteStore {
    pool: SqlitePool,
    /// Where member actions write: the main pool for the desk; one read-write connection of its own
    /// for the member endpoint, whose main pool is read-only.
    member_writer: SqlitePool,
    /// The member endpoint's lookups, read on the calling task (see [`DirectReader`]).
    direct: Option<DirectReader>,
}

impl SqliteStore {
    pub async fn connect(url: &str, max_connections: u32, timeout: Duration) -> StoreResult<Self> {
        let options = Self::options(url)?.create_if_missing(true);
        if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
        }
        let pool = Self::pool(options, max_connections, timeout).await?;
        Ok(SqliteStore { member_writer: pool.clone(), pool, direct: None })
    }

    /// The member endpoint's store: lookups through read-only connections, member actions through one
    /// read-write connection. The database must exist (the desk creates and migrates it).
    pub async fn connect_member(url: &str, max_connections: u32, timeout: Duration) -> StoreResult<Self> {
        let options = Self::options(url)?.create_if_missing(false);
        let path = options.get_filename().to_path_buf();
        let pool = Self::pool(options.clone().read_only(true), max_connections, timeout).await?;
        let member_writer = Self::pool(options, 1, timeout).await?;
        // An in-memory database lives only in sqlx's connections: no direct reads of it.
        let in_memory = path.as_os_str().is_empty() || path.as_os_str() == ":memory:";
        let direct = (!in_memory).then(|| DirectReader::new(path, max_connections as usize));
        Ok(SqliteStore { pool, member_writer, direct })
    }

    fn options(url: &str) -> StoreResult<SqliteConnectOptions> {
        Ok(SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("{url}: {e}")))?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true))
    }

    async fn pool(options: SqliteConnectOptions, max_connections: u32, timeout: Duration) -> StoreResult<SqlitePool> {
        SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(StoreError::from_sqlx)
    }

    /// A write transaction, holding the database's write lock from its first statement.
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(StoreError::from_sqlx)
    }

    /// Member actions write through their own pool: on a member store the main pool is read-only.
    async fn begin_member_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.member_writer.begin_with("BEGIN IMMEDIATE").await.map_err(StoreError::from_sqlx)
    }

    /// The rows one query returns for one key (an order's receipts, a job's journal, the print jobs
    /// due at a time, …).
    async fn rows_by_key<R, K>(&self, sql: &str, key: K) -> StoreResult<Vec<R>>
    where
        R: for<'r> sqlx::FromRow<'r, SqliteRow> + Send + Unpin,
        K: for<'q> sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite> + Send + 'static,
    {
        sqlx::query_as(sql).bind(key).fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)
    }
}

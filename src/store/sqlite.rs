//! The SQLite backend: one desk, one file. WAL mode so the member endpoint can read while the desk
//! writes; writers take the lock up front (`BEGIN IMMEDIATE`) and wait for each other up to the busy
//! timeout instead of failing.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Sqlite;

use super::sql_store::sql_store;
use super::{Backend, StoreError, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("sql/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
    /// Where member actions write: the main pool for the desk; one read-write connection of its own
    /// for the member endpoint, whose main pool is read-only.
    member_writer: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str, max_connections: u32, timeout: Duration) -> StoreResult<Self> {
        let options = Self::options(url)?.create_if_missing(true);
        if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
        }
        let pool = Self::pool(options, max_connections, timeout).await?;
        Ok(SqliteStore { member_writer: pool.clone(), pool })
    }

    /// The member endpoint's store: lookups through read-only connections, member actions through one
    /// read-write connection. The database must exist (the desk creates and migrates it).
    pub async fn connect_member(url: &str, max_connections: u32, timeout: Duration) -> StoreResult<Self> {
        let options = Self::options(url)?.create_if_missing(false);
        let pool = Self::pool(options.clone().read_only(true), max_connections, timeout).await?;
        let member_writer = Self::pool(options, 1, timeout).await?;
        Ok(SqliteStore { pool, member_writer })
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
}

impl SqliteStore {
    /// SQLite cannot push changes to another process: the desk polls.
    async fn listen_for_changes(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>> {
        Ok(None)
    }
}

sql_store!(SqliteStore, Sqlite, Backend::Sqlite, "BEGIN IMMEDIATE", MIGRATOR);

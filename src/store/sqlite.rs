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
    /// The member endpoint's lookups, read on the calling task (see [`DirectReader`]).
    direct: Option<DirectReader>,
}

/// Member lookups read with rusqlite on the calling task. sqlx runs each SQLite connection on a thread
/// of its own and every query pays the hand-off there and back (about 50 µs here, more than the
/// lookup itself), which halved the endpoint's throughput. A lookup is one indexed read of a few
/// pages, so it runs in place; connections are read-only and kept in a small free list.
struct DirectReader {
    path: std::path::PathBuf,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
    keep: usize,
}

impl DirectReader {
    /// A WAL reader waits for a lock only briefly (recovery, a checkpoint's restart); it must not hold
    /// a runtime thread for long.
    const BUSY: Duration = Duration::from_millis(500);

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Self::BUSY)?;
        Ok(conn)
    }

    fn member_order(&self, no: &str) -> StoreResult<Option<crate::domain::member::MemberOrder>> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match taken {
            Some(c) => c,
            None => self.open().map_err(direct_error)?,
        };
        let row = {
            let mut stmt = conn.prepare_cached(super::rows::SELECT_MEMBER_ORDER).map_err(direct_error)?;
            let mut rows = stmt.query([no]).map_err(direct_error)?;
            match rows.next().map_err(direct_error)? {
                Some(r) => Some(super::rows::MemberOrderRow::from_rusqlite(r).map_err(direct_error)?),
                None => None,
            }
        };
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.keep {
            idle.push(conn);
        }
        drop(idle);
        row.map(crate::domain::member::MemberOrder::try_from).transpose()
    }
}

fn direct_error(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::CannotOpen
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Database(other.to_string()),
    }
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
        let direct = (!in_memory).then(|| DirectReader {
            path,
            idle: std::sync::Mutex::new(Vec::new()),
            keep: max_connections as usize,
        });
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
}

impl SqliteStore {
    async fn member_order_direct(
        &self,
        no: &crate::domain::OrderNo,
    ) -> Option<StoreResult<Option<crate::domain::member::MemberOrder>>> {
        self.direct.as_ref().map(|d| d.member_order(no.as_str()))
    }

    /// SQLite cannot push changes to another process: the desk polls.
    async fn listen_for_changes(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>> {
        Ok(None)
    }
}

sql_store!(SqliteStore, Sqlite, Backend::Sqlite, "BEGIN IMMEDIATE", MIGRATOR);

//! The PostgreSQL backend: the shared database when several desks and the member endpoint work on the
//! same orders. Concurrent changes are settled by the version check in each UPDATE: under READ
//! COMMITTED the second writer waits for the first, re-reads the row and finds the version moved.
//!
//! This module holds the pools, connecting and starting a write; each aggregate's trait is implemented
//! in the submodule of the same name, with the SQL text and row conversions shared with the SQLite
//! backend (`super::<aggregate>`, `super::rows`). The Rust around them is written for PostgreSQL's
//! types and kept in step with `sqlite/` by hand.

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

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Transaction};

use super::{StoreError, StoreResult};
use member::DirectReader;

pub struct PgStore {
    pool: PgPool,
    /// The same pool: on PostgreSQL the role, not the connection, limits what member actions may do.
    member_writer: PgPool,
    /// The member endpoint's lookups (see [`DirectReader`]).
    direct: Option<DirectReader>,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32, timeout: Duration) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            .connect(url)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(PgStore { member_writer: pool.clone(), pool, direct: None })
    }

    /// The member endpoint's store: every connection drops to `role` (`keydesk_member`), which may read
    /// the member view and perform only the member actions.
    pub async fn connect_member(url: &str, max_connections: u32, timeout: Duration, role: &str) -> StoreResult<Self> {
        if role.is_empty() || !role.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Unavailable(format!("member role {role:?} is not a plain identifier")));
        }
        let set_role = format!("SET ROLE \"{role}\"");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                let set_role = set_role.clone();
                Box::pin(async move {
                    sqlx::Executor::execute(conn, set_role.as_str()).await?;
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(|e| match StoreError::from_sqlx(e) {
                StoreError::Database(m) => StoreError::Unavailable(format!(
                    "cannot act as role {role}: {m} (run `keydesk db migrate`, and grant {role} to the endpoint's login)"
                )),
                other => other,
            })?;
        let options = PgConnectOptions::from_str(url).map_err(StoreError::from_sqlx)?;
        let direct = DirectReader::new(options, format!("SET ROLE \"{role}\""), max_connections.max(1) as usize);
        Ok(PgStore { member_writer: pool.clone(), pool, direct: Some(direct) })
    }

    /// A write transaction. PostgreSQL needs no lock up front: under READ COMMITTED each UPDATE's
    /// version check settles concurrent writers (the second waits for the first, re-reads the row and
    /// finds the version moved).
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin_with("BEGIN").await.map_err(StoreError::from_sqlx)
    }

    /// Member actions write through their own pool (on PostgreSQL the same one as the lookups).
    async fn begin_member_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.member_writer.begin_with("BEGIN").await.map_err(StoreError::from_sqlx)
    }

    /// The rows one query returns for one key (an order's receipts, a job's journal, the print jobs
    /// due at a time, …).
    async fn rows_by_key<R, K>(&self, sql: &str, key: K) -> StoreResult<Vec<R>>
    where
        R: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
        K: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send + 'static,
    {
        sqlx::query_as(sql).bind(key).fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)
    }
}

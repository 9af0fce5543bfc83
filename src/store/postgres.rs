//! The PostgreSQL backend: the shared database when several desks and the member endpoint work on the
//! same orders. Concurrent changes are settled by the version check in each UPDATE: under READ
//! COMMITTED the second writer waits for the first, re-reads the row and finds the version moved.

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Postgres;

use super::sql_store::sql_store;
use super::{Backend, StoreError, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("sql/postgres");

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32, timeout: Duration) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            .connect(url)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(PgStore { pool })
    }
}

sql_store!(PgStore, Postgres, Backend::Postgres, "BEGIN", MIGRATOR);

//! [`AdminStore`] on SQLite: the migrations of `sql/sqlite/`, and no change feed (SQLite cannot push
//! changes to another process: the desk polls the newest audit id).

use async_trait::async_trait;

use super::SqliteStore;
use crate::store::admin::{LAST_AUDIT_ID, PING};
use crate::store::{AdminStore, Backend, StoreError, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("sql/sqlite");

#[async_trait]
impl AdminStore for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await.map_err(|e| StoreError::Migration(e.to_string()))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query(PING).execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    async fn last_audit_id(&self) -> StoreResult<i64> {
        sqlx::query_scalar(LAST_AUDIT_ID).fetch_one(&self.pool).await.map_err(StoreError::from_sqlx)
    }

    /// SQLite cannot push changes to another process: the desk polls.
    async fn change_feed(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>> {
        Ok(None)
    }
}

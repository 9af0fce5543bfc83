//! [`AdminStore`] on PostgreSQL: the migrations of `sql/postgres/`, and the change feed pushed by the
//! audit log's trigger (LISTEN/NOTIFY).

use std::time::Duration;

use async_trait::async_trait;

use super::PgStore;
use crate::store::admin::{LAST_AUDIT_ID, PING};
use crate::store::{AdminStore, Backend, StoreError, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("sql/postgres");

/// The channel the audit log's trigger notifies (migration 0007).
pub const CHANGES_CHANNEL: &str = "keydesk_changes";

#[async_trait]
impl AdminStore for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
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

    /// LISTEN on [`CHANGES_CHANNEL`] over a connection of its own. The listener reconnects by itself
    /// when the database drops; after a gap it reports a change, since notifications sent meanwhile
    /// are lost. Ends when the receiver is dropped.
    async fn change_feed(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await.map_err(StoreError::from_sqlx)?;
        listener.listen(CHANGES_CHANNEL).await.map_err(StoreError::from_sqlx)?;
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    n = listener.try_recv() => n,
                    _ = tx.closed() => return,
                };
                match next {
                    // A full channel already says "look again": coalesce.
                    Ok(Some(_)) | Ok(None) => {
                        if let Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) = tx.try_send(()) {
                            return;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "LISTEN {CHANGES_CHANNEL}: connection lost, reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Some(rx))
    }
}

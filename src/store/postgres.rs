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
    /// The same pool: on PostgreSQL the role, not the connection, limits what member actions may do.
    member_writer: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32, timeout: Duration) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(timeout)
            .connect(url)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(PgStore { member_writer: pool.clone(), pool })
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
        Ok(PgStore { member_writer: pool.clone(), pool })
    }
}

/// The channel the audit log's trigger notifies (migration 0007).
pub const CHANGES_CHANNEL: &str = "keydesk_changes";

impl PgStore {
    /// PostgreSQL's driver is asynchronous already: member lookups go through the pool.
    fn member_order_direct(&self, _no: &crate::domain::OrderNo) -> Option<StoreResult<Option<crate::domain::member::MemberOrder>>> {
        None
    }

    /// LISTEN on [`CHANGES_CHANNEL`] over a connection of its own. The listener reconnects by itself
    /// when the database drops; after a gap it reports a change, since notifications sent meanwhile
    /// are lost. Ends when the receiver is dropped.
    async fn listen_for_changes(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>> {
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

sql_store!(PgStore, Postgres, Backend::Postgres, "BEGIN", MIGRATOR);

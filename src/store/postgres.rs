//! The PostgreSQL backend: the shared database when several desks and the member endpoint work on the
//! same orders. Concurrent changes are settled by the version check in each UPDATE: under READ
//! COMMITTED the second writer waits for the first, re-reads the row and finds the version moved.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::Connection;
use sqlx::Postgres;

use super::sql_store::sql_store;
use super::{Backend, StoreError, StoreResult};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("sql/postgres");

pub struct PgStore {
    pool: PgPool,
    /// The same pool: on PostgreSQL the role, not the connection, limits what member actions may do.
    member_writer: PgPool,
    /// The member endpoint's lookups (see [`DirectReader`]).
    direct: Option<DirectReader>,
}

/// Member lookups over connections the store keeps itself. sqlx's pool (0.8) pings every connection
/// as it comes back, a second round trip to the server per query that cost more than the lookup; these
/// connections go back to a free list as they are. At most `permits` are open at once; one found broken
/// (the server restarted) is dropped and the lookup tried once more on a new one.
struct DirectReader {
    options: PgConnectOptions,
    set_role: String,
    idle: std::sync::Mutex<Vec<PgConnection>>,
    permits: tokio::sync::Semaphore,
}

/// The connection itself is gone (reset, or ended by the server: SQLSTATE classes 08 and 57), as
/// opposed to the query failing.
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57")),
        _ => false,
    }
}

impl DirectReader {
    async fn connect(&self) -> Result<PgConnection, sqlx::Error> {
        let mut conn = PgConnection::connect_with(&self.options).await?;
        sqlx::Executor::execute(&mut conn, self.set_role.as_str()).await?;
        Ok(conn)
    }

    async fn member_order(&self, no: &str) -> StoreResult<Option<crate::domain::member::MemberOrder>> {
        let _permit = self.permits.acquire().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut retried = false;
        loop {
            let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let reused = idle.is_some();
            let mut conn = match idle {
                Some(c) => c,
                None => self.connect().await.map_err(StoreError::from_sqlx)?,
            };
            let found = sqlx::query_as::<_, super::rows::MemberOrderRow>(super::rows::SELECT_MEMBER_ORDER)
                .bind(no)
                .fetch_optional(&mut conn)
                .await;
            match found {
                Ok(row) => {
                    self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
                    return row.map(crate::domain::member::MemberOrder::try_from).transpose();
                }
                Err(e) if reused && !retried && connection_lost(&e) => {
                    tracing::warn!(error = %e, "member lookup: a kept connection was broken; trying a new one");
                    retried = true;
                }
                Err(e) => return Err(StoreError::from_sqlx(e)),
            }
        }
    }
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
        let direct = DirectReader {
            options,
            set_role: format!("SET ROLE \"{role}\""),
            idle: std::sync::Mutex::new(Vec::new()),
            permits: tokio::sync::Semaphore::new(max_connections.max(1) as usize),
        };
        Ok(PgStore { member_writer: pool.clone(), pool, direct: Some(direct) })
    }
}

/// The channel the audit log's trigger notifies (migration 0007).
pub const CHANGES_CHANNEL: &str = "keydesk_changes";

impl PgStore {
    async fn member_order_direct(
        &self,
        no: &crate::domain::OrderNo,
    ) -> Option<StoreResult<Option<crate::domain::member::MemberOrder>>> {
        match &self.direct {
            Some(d) => Some(d.member_order(no.as_str()).await),
            None => None,
        }
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

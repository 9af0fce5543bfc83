//! [`MemberStore`] on PostgreSQL: the member view read over connections the store keeps itself (the
//! member endpoint's store, as role `keydesk_member`), or through the pool (a desk's store); member
//! actions through the member writer.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection;

use super::orders::insert_audit;
use super::PgStore;
use crate::domain::member::MemberOrder;
use crate::domain::OrderNo;
use crate::store::member::{SELECT_MEMBER_ORDER, UPDATE_MEMBER_INBOUND, UPDATE_MEMBER_STATUS};
use crate::store::orders::AuditRecord;
use crate::store::rows::MemberOrderRow;
use crate::store::{Actor, MemberAction, MemberChange, MemberStore, StoreError, StoreResult};

/// Member lookups over connections the store keeps itself. sqlx's pool (0.8) pings every connection
/// as it comes back, a second round trip to the server per query that cost more than the lookup; these
/// connections go back to a free list as they are. At most `permits` are open at once; one found broken
/// (the server restarted) is dropped and the lookup tried once more on a new one.
pub(super) struct DirectReader {
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
    /// Connects with `options`, runs `set_role` on each new connection, keeps at most `permits` open.
    pub(super) fn new(options: PgConnectOptions, set_role: String, permits: usize) -> DirectReader {
        DirectReader {
            options,
            set_role,
            idle: std::sync::Mutex::new(Vec::new()),
            permits: tokio::sync::Semaphore::new(permits),
        }
    }

    async fn connect(&self) -> Result<PgConnection, sqlx::Error> {
        let mut conn = PgConnection::connect_with(&self.options).await?;
        sqlx::Executor::execute(&mut conn, self.set_role.as_str()).await?;
        Ok(conn)
    }

    async fn member_order(&self, no: &str) -> StoreResult<Option<MemberOrder>> {
        let _permit = self.permits.acquire().await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut retried = false;
        loop {
            let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let reused = idle.is_some();
            let mut conn = match idle {
                Some(c) => c,
                None => self.connect().await.map_err(StoreError::from_sqlx)?,
            };
            let found =
                sqlx::query_as::<_, MemberOrderRow>(SELECT_MEMBER_ORDER).bind(no).fetch_optional(&mut conn).await;
            match found {
                Ok(row) => {
                    self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
                    return row.map(MemberOrder::try_from).transpose();
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

#[async_trait]
impl MemberStore for PgStore {
    async fn member_order(&self, no: &OrderNo) -> StoreResult<Option<MemberOrder>> {
        if let Some(direct) = &self.direct {
            return direct.member_order(no.as_str()).await;
        }
        let row = sqlx::query_as::<_, MemberOrderRow>(SELECT_MEMBER_ORDER)
            .bind(no.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        row.map(MemberOrder::try_from).transpose()
    }

    async fn apply_member_change(&self, change: &MemberChange, actor: &Actor, at: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.begin_member_write().await?;
        let (from, to, done) = match &change.action {
            MemberAction::InboundWaybill { status, carrier, raw, waybill } => {
                let done = sqlx::query(UPDATE_MEMBER_INBOUND)
                    .bind(carrier.as_str())
                    .bind(raw.as_str())
                    .bind(waybill.as_str())
                    .bind(at)
                    .bind(change.order_id)
                    .bind(change.expected_version)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                (*status, *status, done)
            }
            MemberAction::Status(t) => {
                let done = sqlx::query(UPDATE_MEMBER_STATUS)
                    .bind(t.to.code())
                    .bind(at)
                    .bind(change.order_id)
                    .bind(change.expected_version)
                    .bind(t.from.code())
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                (t.from, t.to, done)
            }
        };
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict { order_no: change.order_no.to_string() });
        }
        let audit = AuditRecord {
            order_id: Some(change.order_id),
            action: change.action.audit_action(),
            from: Some(from),
            to: Some(to),
            reason: change.reason.as_str(),
            hold_reason: None,
        };
        insert_audit(&mut tx, &audit, actor, at).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)
    }
}

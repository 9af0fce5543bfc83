//! [`NoticeStore`] on SQLite, and [`enqueue`]: the outbox write that runs inside the caller's open
//! transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::domain::notice::{Channel, NoticeEvent};
use crate::domain::HoldReason;
use crate::store::notices::{self as sql, MemberNoticeRow, NoticeRow};
use crate::store::{MemberNotice, NoticeRecord, NoticeStore, NoticeUpdate, StoreError, StoreResult};

/// Writes the event's notices, one per channel, on the caller's connection (inside its transaction,
/// so the notice commits with the change it announces, or not at all). An event already written adds
/// nothing. Returns how many rows were new.
pub(crate) async fn enqueue(
    conn: &mut SqliteConnection,
    order_id: i64,
    event: &NoticeEvent,
    at: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut added = 0;
    for channel in Channel::ALL {
        added += sqlx::query(sql::INSERT_NOTICE)
            .bind(order_id)
            .bind(event.kind.code())
            .bind(event.occurrence.as_str())
            .bind(channel.code())
            .bind(event.hold_reason.map(HoldReason::code))
            .bind(at)
            .bind(at)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_sqlx)?
            .rows_affected();
    }
    Ok(added)
}

#[async_trait]
impl NoticeStore for SqliteStore {
    async fn enqueue_notice(&self, order_id: i64, event: &NoticeEvent, at: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let added = enqueue(&mut tx, order_id, event, at).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(added)
    }

    async fn due_notices(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<NoticeRecord>> {
        let rows: Vec<NoticeRow> = sqlx::query_as(&sql::DUE_NOTICES)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn claim_notice(&self, id: i64, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(sql::CLAIM_NOTICE)
            .bind(lease_until)
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn update_notice(&self, id: i64, update: &NoticeUpdate) -> StoreResult<()> {
        let q = match update {
            NoticeUpdate::Sent { at, message_id } => {
                sqlx::query(sql::NOTICE_SENT).bind(*at).bind(message_id.as_deref()).bind(id)
            }
            NoticeUpdate::Retry { attempts, next_attempt_at, error } => {
                sqlx::query(sql::NOTICE_RETRY).bind(*attempts).bind(*next_attempt_at).bind(error.as_str()).bind(id)
            }
            NoticeUpdate::Failed { attempts, error } => {
                sqlx::query(sql::NOTICE_FAILED).bind(*attempts).bind(error.as_str()).bind(id)
            }
            NoticeUpdate::Skipped { why } => sqlx::query(sql::NOTICE_SKIPPED).bind(why.as_str()).bind(id),
        };
        q.execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    async fn notices(&self, failed_only: bool, limit: i64) -> StoreResult<Vec<NoticeRecord>> {
        let rows: Vec<NoticeRow> = sqlx::query_as(&sql::LIST_NOTICES)
            .bind(i64::from(failed_only))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn notices_for_order(&self, order_id: i64) -> StoreResult<Vec<NoticeRecord>> {
        let rows: Vec<NoticeRow> = self.rows_by_key(&sql::NOTICES_FOR_ORDER, order_id).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn member_notices(&self, order_id: i64) -> StoreResult<Vec<MemberNotice>> {
        let rows: Vec<MemberNoticeRow> = self.rows_by_key(sql::MEMBER_NOTICES, order_id).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn opt_out(&self, order_id: i64, channel: Channel, at: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.begin_member_write().await?;
        let done = sqlx::query(sql::INSERT_OPT_OUT)
            .bind(order_id)
            .bind(channel.code())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn opt_outs(&self, order_id: i64) -> StoreResult<Vec<Channel>> {
        let codes: Vec<String> = sqlx::query_scalar(sql::SELECT_OPT_OUTS)
            .bind(order_id)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        sql::channels(codes)
    }
}

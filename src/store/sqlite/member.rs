//! [`MemberStore`] on SQLite: the member view read with rusqlite on the calling task (the member
//! endpoint's store), or through the pool (a desk's store); member actions through the member writer.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::orders::insert_audit;
use super::SqliteStore;
use crate::domain::member::MemberOrder;
use crate::domain::OrderNo;
use crate::store::member::{SELECT_MEMBER_ORDER, UPDATE_MEMBER_INBOUND, UPDATE_MEMBER_STATUS};
use crate::store::orders::AuditRecord;
use crate::store::rows::MemberOrderRow;
use crate::store::{Actor, MemberAction, MemberChange, MemberStore, StoreError, StoreResult};

/// Member lookups read with rusqlite on the calling task. sqlx runs each SQLite connection on a thread
/// of its own and every query pays the hand-off there and back (about 50 µs here, more than the
/// lookup itself), which halved the endpoint's throughput. A lookup is one indexed read of a few
/// pages, so it runs in place; connections are read-only and kept in a small free list.
pub(super) struct DirectReader {
    path: std::path::PathBuf,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
    keep: usize,
}

impl DirectReader {
    /// A WAL reader waits for a lock only briefly (recovery, a checkpoint's restart); it must not hold
    /// a runtime thread for long.
    const BUSY: Duration = Duration::from_millis(500);

    /// Reads the database file at `path`, keeping up to `keep` connections open.
    pub(super) fn new(path: std::path::PathBuf, keep: usize) -> DirectReader {
        DirectReader { path, idle: std::sync::Mutex::new(Vec::new()), keep }
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Self::BUSY)?;
        Ok(conn)
    }

    fn member_order(&self, no: &str) -> StoreResult<Option<MemberOrder>> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match taken {
            Some(c) => c,
            None => self.open().map_err(direct_error)?,
        };
        let row = {
            let mut stmt = conn.prepare_cached(SELECT_MEMBER_ORDER).map_err(direct_error)?;
            let mut rows = stmt.query([no]).map_err(direct_error)?;
            match rows.next().map_err(direct_error)? {
                Some(r) => Some(MemberOrderRow::from_rusqlite(r).map_err(direct_error)?),
                None => None,
            }
        };
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.keep {
            idle.push(conn);
        }
        drop(idle);
        row.map(MemberOrder::try_from).transpose()
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

#[async_trait]
impl MemberStore for SqliteStore {
    async fn member_order(&self, no: &OrderNo) -> StoreResult<Option<MemberOrder>> {
        if let Some(direct) = &self.direct {
            return direct.member_order(no.as_str());
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

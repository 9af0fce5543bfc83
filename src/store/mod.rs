//! The one shared database behind every desk and the member endpoint, split by aggregate: one trait of
//! business-level methods over domain types per aggregate ([`OrderStore`], [`RenewalStore`],
//! [`DocumentStore`], [`OperatorStore`], [`MemberStore`], [`AdminStore`], [`RouteStore`]), each in its own module with
//! its record types and the SQL text both backends share. [`Store`] is all of them at once: what the
//! composition root opens and hands around as `Arc<dyn Store>`; a use case that needs one aggregate
//! only may ask for that trait alone.
//!
//! Two hand-written backends on sqlx implement every trait, in plain code per aggregate
//! (`sqlite/<aggregate>.rs`, `postgres/<aggregate>.rs`): SQLite for one desk, PostgreSQL when several
//! desks share one database. The backend is chosen by the URL scheme. Rows and their conversion to
//! domain types are shared (`rows.rs`). Migrations live in `sql/sqlite/` and `sql/postgres/` with
//! matching version numbers.
//!
//! Every change to an order names the version it was planned on; a change planned on an older version
//! fails with [`StoreError::Conflict`] ("changed by another desk") and writes nothing.

mod admin;
mod documents;
mod member;
mod notices;
mod operators;
mod orders;
mod postgres;
mod renewals;
mod routes;
mod rows;
mod sqlite;

use std::sync::Arc;

use serde::Serialize;

pub use admin::{AdminStore, Backend};
pub use documents::{
    DocumentStore, InvoiceDocument, InvoiceIssue, InvoiceRenderer, InvoiceSource, NewPrintJob, PrintJobRecord,
    PrintJobUpdate, PrintQueueStatus,
};
pub use member::{MemberAction, MemberChange, MemberStore};
pub use notices::{MemberNotice, NoticeRecord, NoticeStore, NoticeUpdate};
pub use operators::{OperatorRecord, OperatorStore};
pub use orders::{
    AuditEntry, BookedShipment, ClockFacts, ClockScope, ImportSummary, ListQuery, OrderStore, ParcelReceipt,
    PlannedChange, Receipt, Stamps, UnmatchedParcel,
};
pub use postgres::PgStore;
pub use renewals::RenewalStore;
pub use routes::{InboundRoute, RouteOutcome, RouteSource, RouteStore, StoredRoute, TrackedWaybill};
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("订单 {order_no} 已被其他工作台修改，请刷新后重试 (changed by another desk)")]
    Conflict { order_no: String },
    #[error("找不到订单 {0}")]
    NotFound(String),
    #[error("操作员 {0} 已存在")]
    OperatorExists(String),
    #[error("数据库不可用：{0} (database unavailable)")]
    Unavailable(String),
    #[error("数据库中的数据无法读取：{0}")]
    Corrupt(String),
    #[error("数据库错误：{0}")]
    Database(String),
    #[error("数据库迁移失败：{0}")]
    Migration(String),
    /// The write was refused by a rule the database enforces (a duplicate invoice number, …).
    #[error("{0}")]
    Refused(String),
}

impl StoreError {
    pub(crate) fn from_sqlx(e: sqlx::Error) -> StoreError {
        match &e {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("08") || c == "57P01") => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Database(e.to_string()),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Who makes a change, and at which desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub operator: String,
    pub desk: String,
}

/// The whole store: every aggregate's trait. Implemented for anything that implements them all.
pub trait Store:
    OrderStore + RenewalStore + DocumentStore + OperatorStore + MemberStore + NoticeStore + AdminStore + RouteStore
{
}

impl<T> Store for T where
    T: ?Sized
        + OrderStore
        + RenewalStore
        + DocumentStore
        + OperatorStore
        + MemberStore
        + NoticeStore
        + AdminStore
        + RouteStore
{
}

/// Opens the database named by the URL (`sqlite:` or `postgres://`) and, when asked, migrates it.
pub async fn open(
    url: &str,
    max_connections: u32,
    connect_timeout: std::time::Duration,
    migrate: bool,
) -> StoreResult<Arc<dyn Store>> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(SqliteStore::connect(url, max_connections, connect_timeout).await?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(PgStore::connect(url, max_connections, connect_timeout).await?)
    } else {
        return Err(StoreError::Unavailable(format!("unsupported database URL scheme in {url:?}")));
    };
    if migrate {
        store.migrate().await?;
    }
    Ok(store)
}

/// Opens the database for the member endpoint, with least privilege: on SQLite lookups go through
/// read-only connections and only the member actions write (through one separate connection); on
/// PostgreSQL every connection runs `SET ROLE pg_role` (migration 0002 creates `keydesk_member`).
/// Never migrates.
pub async fn open_member(
    url: &str,
    max_connections: u32,
    connect_timeout: std::time::Duration,
    pg_role: &str,
) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect_member(url, max_connections, connect_timeout).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect_member(url, max_connections, connect_timeout, pg_role).await?))
    } else {
        Err(StoreError::Unavailable(format!("unsupported database URL scheme in {url:?}")))
    }
}

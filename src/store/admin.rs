//! The database itself rather than any aggregate: which backend it is, its migrations, whether it
//! answers, and whether anything changed (the newest audit id, the change feed another desk's write
//! moves). The audit log's rows themselves belong to the orders ([`super::OrderStore`]).

use async_trait::async_trait;
use serde::Serialize;

use super::StoreResult;

#[async_trait]
pub trait AdminStore: Send + Sync {
    fn backend(&self) -> Backend;
    async fn migrate(&self) -> StoreResult<()>;
    /// Whether the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// The newest audit row's id (0 when none): another desk's change moves it.
    async fn last_audit_id(&self) -> StoreResult<i64>;
    /// Changes pushed by the database as they are committed (PostgreSQL LISTEN/NOTIFY on the audit
    /// log); `None` where the desk must poll [`AdminStore::last_audit_id`] (SQLite). Bursts are
    /// coalesced: one message means "something changed, look again".
    async fn change_feed(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub(super) const PING: &str = "SELECT 1";

pub(super) const LAST_AUDIT_ID: &str = "SELECT COALESCE(MAX(id), 0) FROM audit_log";

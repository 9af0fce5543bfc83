//! The one shared database behind every desk and the member endpoint: a trait of business-level
//! methods over domain types, with two hand-written backends on sqlx — SQLite for one desk, PostgreSQL
//! when several desks share one database. The backend is chosen by the URL scheme. Migrations live in
//! `sql/sqlite/` and `sql/postgres/` with matching version numbers.
//!
//! Every change to an order names the version it was planned on; a change planned on an older version
//! fails with [`StoreError::Conflict`] ("changed by another desk") and writes nothing.

mod postgres;
mod rows;
mod sql_store;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::member::MemberOrder;
use crate::domain::order::Transition;
use crate::domain::renewal_job::{IssuedCertificate, JournalEntry, NewRenewalJob, RenewalJob, RenewalStep, StepResult};
use crate::domain::{Order, OrderNo, Status, Waybill};

pub use postgres::PgStore;
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

/// Extra facts a status change records on the order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamps {
    pub received: Option<(DateTime<Utc>, String)>,
    pub outbound_waybill: Option<Waybill>,
    pub shipped_at: Option<DateTime<Utc>>,
}

/// One order's part in a change: the version it was planned on and what to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedChange {
    pub order_id: i64,
    pub order_no: OrderNo,
    pub expected_version: i64,
    pub transition: Transition,
    pub stamps: Stamps,
    /// The audit row's action name (`intake`, `hold`, `release`, `ship`, …).
    pub action: &'static str,
}

/// A parcel received at the desk: all its keys' changes are written together, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelReceipt {
    pub waybill: Waybill,
    pub at: DateTime<Utc>,
    pub changes: Vec<PlannedChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub order_id: i64,
    pub waybill: String,
    pub received_at: DateTime<Utc>,
    pub operator: String,
    pub desk: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmatchedParcel {
    pub id: i64,
    pub raw_scan: String,
    pub waybill: String,
    pub scanned_at: DateTime<Utc>,
    pub operator: String,
    pub desk: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub order_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub desk: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRecord {
    pub id: i64,
    pub name: String,
    pub password_hash: String,
    pub active: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub inserted: u64,
    pub updated: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub status: Option<Status>,
    pub limit: i64,
    /// Orders with an id greater than this (keyset paging).
    pub after_id: i64,
}

/// What the working-day clocks of one order are computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockFacts {
    pub order_id: i64,
    pub order_no: String,
    pub status: Status,
    pub paid_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub docs_approved_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub invoice_status: crate::domain::InvoiceStatus,
    /// Audit rows that matter to the clocks (holds, releases, shipping, invoice issue), oldest first.
    pub events: Vec<AuditEntry>,
}

/// A return shipment the courier booked, to be recorded on the order planned at `expected_version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedShipment {
    pub order_id: i64,
    pub order_no: OrderNo,
    pub expected_version: i64,
    pub status: Status,
    pub waybill: Waybill,
    pub route_json: Option<String>,
}

/// Which orders' clocks to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockScope {
    /// Orders whose return or invoice clock may still be running.
    Open,
    /// Orders shipped, or invoiced, in `[from, to)`.
    StoppedBetween { from: DateTime<Utc>, to: DateTime<Utc> },
    /// The open ones, and those received or shipped since `from` (the board's chart).
    ActiveSince { from: DateTime<Utc> },
}

/// An issued invoice as stored (table `invoices`, migration 0002): the document a member downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceDocument {
    /// The 20-digit number of the 数电票.
    pub number: String,
    pub pdf: Vec<u8>,
    /// Hex SHA-256 of `pdf`.
    pub sha256: String,
    pub issued_at: DateTime<Utc>,
}

/// Draws the invoice page for the number it is given.
pub type InvoiceRenderer<'a> = Box<dyn FnOnce(&str) -> Result<Vec<u8>, String> + Send + 'a>;

/// Where an invoice's number and PDF come from.
pub enum InvoiceSource<'a> {
    /// keydesk draws the page: the store allocates the next number and calls the renderer with it,
    /// inside the transaction that stores the result.
    Allocate(InvoiceRenderer<'a>),
    /// The official PDF the tax platform returned, with its number.
    Attach { number: String, pdf: Vec<u8> },
}

/// What issuing wrote, or found already written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceIssue {
    /// Issued now (with its `invoice_issued` audit row).
    New(InvoiceDocument),
    /// The order already had this invoice; nothing written.
    Existing(InvoiceDocument),
}

impl InvoiceIssue {
    pub fn document(&self) -> &InvoiceDocument {
        match self {
            InvoiceIssue::New(d) | InvoiceIssue::Existing(d) => d,
        }
    }
}

/// A document to print, written to the queue before any printer is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPrintJob {
    pub order_id: i64,
    /// `label` or `invoice`.
    pub kind: String,
    /// The configured printer's name (`label` or `invoice`).
    pub printer: String,
    /// The job name the printer shows.
    pub name: String,
    pub pdf: Vec<u8>,
    pub media: Option<String>,
    pub reprint: bool,
}

/// One job of the print queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintJobRecord {
    pub id: i64,
    pub order_id: i64,
    pub kind: String,
    pub printer: String,
    pub name: String,
    #[serde(skip)]
    pub pdf: Vec<u8>,
    pub media: Option<String>,
    pub reprint: bool,
    /// `queued`, `done` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub operator: String,
    pub desk: String,
    pub created_at: DateTime<Utc>,
    pub printed_at: Option<DateTime<Utc>>,
}

/// The print queue at a glance: what waits, what failed (with the latest error), what printed since
/// some instant. Counted by the database; no document is read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PrintQueueStatus {
    pub queued: usize,
    pub failed: usize,
    pub printed_since: usize,
    /// The newest error of a job still waiting or failed: what staff should fix (paper, power, cable).
    pub last_error: Option<String>,
}

/// The result of one print attempt, as the queue records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintJobUpdate {
    Done { printed_at: DateTime<Utc> },
    Retry { attempts: i64, next_attempt_at: DateTime<Utc>, error: String },
    Failed { attempts: i64, error: String },
}

/// A member action, checked against the member view, ready to be written with its audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberChange {
    pub order_id: i64,
    pub order_no: OrderNo,
    pub expected_version: i64,
    pub action: MemberAction,
    /// The audit row's reason.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberAction {
    /// Enter or correct the inbound SF waybill (the order must not be received yet).
    InboundWaybill { status: Status, carrier: String, raw: String, waybill: Waybill },
    /// Move the status along a checked transition (确认收货: shipped → completed).
    Status(Transition),
}

impl MemberAction {
    /// The audit row's action name.
    pub fn audit_action(&self) -> &'static str {
        match self {
            MemberAction::InboundWaybill { .. } => "member_inbound_waybill",
            MemberAction::Status(t) if t.to == Status::Completed => "member_confirm_receipt",
            MemberAction::Status(_) => "member_status",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[async_trait]
pub trait Store: Send + Sync {
    fn backend(&self) -> Backend;
    async fn migrate(&self) -> StoreResult<()>;
    /// Whether the database answers.
    async fn ping(&self) -> StoreResult<()>;

    /// Inserts or updates the platform's orders by order number, all in one transaction.
    async fn import_orders(&self, orders: &[Order], actor: &Actor, at: DateTime<Utc>) -> StoreResult<ImportSummary>;
    /// Inserts new synthetic orders fast (benchmarks); fails on an existing order number.
    async fn bulk_insert_orders(&self, orders: &[Order]) -> StoreResult<u64>;

    async fn order_by_no(&self, no: &OrderNo) -> StoreResult<Option<Order>>;
    async fn order_by_id(&self, id: i64) -> StoreResult<Option<Order>>;
    async fn orders_by_inbound_waybill(&self, waybill: &Waybill) -> StoreResult<Vec<Order>>;
    async fn list_orders(&self, query: &ListQuery) -> StoreResult<Vec<Order>>;
    /// Orders matching a text the desk typed: order number, waybill, key serial, account, phone tail,
    /// holder name, or a company name prefix.
    async fn search_orders(&self, text: &str, limit: i64) -> StoreResult<Vec<Order>>;
    async fn count_orders(&self) -> StoreResult<i64>;

    /// Writes one checked change and its audit row, if the order is still at the expected version.
    async fn apply_change(&self, change: &PlannedChange, actor: &Actor, at: DateTime<Utc>) -> StoreResult<Order>;
    /// Writes a parcel's receipts and its orders' changes together, or nothing.
    async fn receive_parcel(&self, parcel: &ParcelReceipt, actor: &Actor) -> StoreResult<Vec<Order>>;
    async fn record_unmatched_parcel(
        &self,
        raw_scan: &str,
        waybill: &Waybill,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;
    async fn unmatched_parcels(&self) -> StoreResult<Vec<UnmatchedParcel>>;
    async fn receipts_for_order(&self, order_id: i64) -> StoreResult<Vec<Receipt>>;
    async fn audit_for_order(&self, order_id: i64) -> StoreResult<Vec<AuditEntry>>;
    /// Records an action that changes no order (revealing personal data, a reprint, …) in the audit log.
    async fn note(
        &self,
        order_id: Option<i64>,
        action: &str,
        reason: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The newest audit row's id (0 when none): another desk's change moves it.
    async fn last_audit_id(&self) -> StoreResult<i64>;
    /// Changes pushed by the database as they are committed (PostgreSQL LISTEN/NOTIFY on the audit
    /// log); `None` where the desk must poll [`Store::last_audit_id`] (SQLite). Bursts are coalesced:
    /// one message means "something changed, look again".
    async fn change_feed(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>>;
    /// Records the return shipment booked with the courier: its waybill and routing data (JSON), once.
    async fn record_booking(&self, change: &BookedShipment, actor: &Actor, at: DateTime<Utc>) -> StoreResult<()>;
    /// The routing data of the order's booked return shipment, if the courier gave any.
    async fn outbound_route(&self, order_id: i64) -> StoreResult<Option<String>>;
    /// The facts the working-day clocks are computed from, for the orders in scope.
    async fn clock_facts(&self, scope: ClockScope) -> StoreResult<Vec<ClockFacts>>;

    async fn add_operator(&self, name: &str, password_hash: &str, at: DateTime<Utc>) -> StoreResult<OperatorRecord>;
    async fn operator_by_name(&self, name: &str) -> StoreResult<Option<OperatorRecord>>;

    /// What a member may see of one order (the view `member_orders`).
    async fn member_order(&self, no: &OrderNo) -> StoreResult<Option<MemberOrder>>;
    /// The stored invoice document of an order, if one was issued.
    async fn invoice_document(&self, order_id: i64) -> StoreResult<Option<InvoiceDocument>>;
    /// Writes one member action and its audit row, if the order is still at the expected version (and,
    /// for the inbound waybill, still not received); else [`StoreError::Conflict`].
    async fn apply_member_change(&self, change: &MemberChange, actor: &Actor, at: DateTime<Utc>) -> StoreResult<()>;
    // Certificate renewal (issue 3): the job, its journal and the issued certificates.

    /// Creates a running job and moves the order (`received` → `renewing`) in one transaction. Fails
    /// with `Conflict` when the order changed or another job for it is running.
    async fn start_renewal(
        &self,
        job: &NewRenewalJob,
        change: &PlannedChange,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<RenewalJob>;
    /// The order's renewal jobs, newest first.
    async fn renewal_jobs_for_order(&self, order_id: i64) -> StoreResult<Vec<RenewalJob>>;
    /// Writes a step's intent (or failure) to the journal.
    async fn journal(
        &self,
        job_id: i64,
        step: RenewalStep,
        phase: crate::domain::renewal_job::Phase,
        detail: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Commits a step: its journal row and the job's progress, only while the job runs.
    async fn commit_step(
        &self,
        job_id: i64,
        step: RenewalStep,
        result: &StepResult,
        at: DateTime<Utc>,
    ) -> StoreResult<RenewalJob>;
    /// Commits the issue step: the certificate, its journal row and the job's progress together.
    /// A job has at most one issued certificate; a second one fails with `Conflict`.
    async fn record_issued_certificate(
        &self,
        cert: &IssuedCertificate,
        result: &StepResult,
        at: DateTime<Utc>,
    ) -> StoreResult<IssuedCertificate>;
    async fn issued_certificate_for_job(&self, job_id: i64) -> StoreResult<Option<IssuedCertificate>>;
    async fn issued_certificates_for_order(&self, order_id: i64) -> StoreResult<Vec<IssuedCertificate>>;
    /// Commits the last step: the job done and the order moved (`renewing` → `renewed`) with its audit row.
    async fn finish_renewal(
        &self,
        job_id: i64,
        change: &PlannedChange,
        result: &StepResult,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<Order>;
    async fn renewal_journal(&self, job_id: i64) -> StoreResult<Vec<JournalEntry>>;
    /// Ends a running job on purpose (放弃续签) and moves the order back (`renewing` → `received`) with
    /// its audit row, in one transaction: the abandonment (reason, what was done on the key, the
    /// certificate issued for the job and never used), a `failed` journal row, the job ended. Fails
    /// with `Conflict` when the job is no longer running or the order changed.
    async fn abandon_renewal(
        &self,
        abandon: &crate::domain::renewal_job::Abandonment,
        change: &PlannedChange,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<Order>;

    // Documents (issue 5): invoices and the print queue.

    /// Issues the order's invoice in one transaction: the number (allocated from the `invoice` counter,
    /// or the attached one, which must be unused), the PDF with its sha256, `invoice_status = issued`
    /// (version checked) and the `invoice_issued` audit row. An order that already has an invoice gets
    /// it back unchanged.
    async fn issue_invoice(
        &self,
        order_id: i64,
        order_no: &OrderNo,
        expected_version: i64,
        source: InvoiceSource<'_>,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<InvoiceIssue>;
    /// Writes a job to the print queue (state `queued`, due at `at`).
    async fn enqueue_print(&self, job: &NewPrintJob, actor: &Actor, at: DateTime<Utc>) -> StoreResult<PrintJobRecord>;
    /// Queued jobs due at `now`, oldest first.
    async fn due_print_jobs(&self, now: DateTime<Utc>) -> StoreResult<Vec<PrintJobRecord>>;
    /// Takes a due job for one attempt by moving its `next_attempt_at` to `lease_until`; false when
    /// another desk took it first.
    async fn claim_print_job(&self, id: i64, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> StoreResult<bool>;
    /// Records the result of an attempt.
    async fn update_print_job(&self, id: i64, update: &PrintJobUpdate) -> StoreResult<PrintJobRecord>;
    /// Jobs of the queue: every queued and failed job, and the done ones since `done_since`, oldest first.
    async fn print_jobs(&self, done_since: DateTime<Utc>) -> StoreResult<Vec<PrintJobRecord>>;
    /// How the queue stands: jobs waiting, failed, and printed since `done_since`.
    async fn print_queue_status(&self, done_since: DateTime<Utc>) -> StoreResult<PrintQueueStatus>;
    async fn print_job(&self, id: i64) -> StoreResult<Option<PrintJobRecord>>;
    /// All print jobs of one order, oldest first.
    async fn print_jobs_for_order(&self, order_id: i64) -> StoreResult<Vec<PrintJobRecord>>;
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

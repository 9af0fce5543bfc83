//! Documents (issue 5): the order's invoice (number, PDF, issue) and the print queue. The stored
//! invoice document is read by the member endpoint too (the member downloads it); it sits here with
//! the invoice, not in [`super::member`], which is about the member view and the member's actions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Actor, StoreError, StoreResult};
use crate::domain::{OrderNo, PrintKind, PrintState};

#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// The stored invoice document of an order, if one was issued.
    async fn invoice_document(&self, order_id: i64) -> StoreResult<Option<InvoiceDocument>>;
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
    pub kind: PrintKind,
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
    pub kind: PrintKind,
    pub printer: String,
    pub name: String,
    #[serde(skip)]
    pub pdf: Vec<u8>,
    pub media: Option<String>,
    pub reprint: bool,
    pub state: PrintState,
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

// ---------------------------------------------------------------------------------------------------
// What both backends share: the SQL text and the decisions that need no database.

pub(super) const SELECT_INVOICE_DOCUMENT: &str =
    "SELECT number, pdf, sha256, issued_at FROM invoices WHERE order_id = $1";

/// The next number of the `invoice` counter.
pub(super) const NEXT_INVOICE_SEQ: &str =
    "UPDATE counters SET value = value + 1 WHERE name = 'invoice' RETURNING value";

pub(super) const INSERT_INVOICE: &str =
    "INSERT INTO invoices (order_id, number, pdf, sha256, issued_at) VALUES ($1, $2, $3, $4, $5)";

/// The order invoiced, if still at the planned version `$3`.
pub(super) const UPDATE_INVOICE_ISSUED: &str =
    "UPDATE orders SET invoice_status = 'issued', updated_at = $1, version = version + 1 WHERE id = $2 AND version = $3";

/// The 20-digit number of the `seq`-th invoice keydesk drew: the two-digit year, `11` (Beijing), then
/// the sequence zero-padded to 16 digits. The sequence never repeats, so neither does the number.
pub(super) fn invoice_number(year: i32, seq: i64) -> String {
    format!("{:02}11{:016}", year.rem_euclid(100), seq)
}

/// The number of the `seq`-th invoice drawn at `at` (the year in Beijing).
pub(super) fn invoice_number_at(at: DateTime<Utc>, seq: i64) -> String {
    use chrono::Datelike;
    invoice_number(at.with_timezone(&crate::sla::SHANGHAI).year(), seq)
}

/// Hex SHA-256.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The number an invoice source names before anything is written: the attached one, if any.
pub(super) fn attached_number(source: &InvoiceSource<'_>) -> Option<String> {
    match source {
        InvoiceSource::Attach { number, .. } => Some(number.clone()),
        InvoiceSource::Allocate(_) => None,
    }
}

/// The order already has `existing`: that one back, unless another number was attached.
pub(super) fn existing_or_refuse(
    order_no: &OrderNo,
    attached: Option<&str>,
    existing: InvoiceDocument,
) -> StoreResult<InvoiceIssue> {
    match attached {
        Some(n) if n != existing.number => {
            Err(StoreError::Refused(format!("订单 {order_no} 已开具发票 {}，不能再上传发票 {n}", existing.number)))
        }
        _ => Ok(InvoiceIssue::Existing(existing)),
    }
}

/// The invoice's number was taken when it was inserted, and the order has no invoice either.
pub(super) fn number_taken(number: &str) -> StoreError {
    StoreError::Refused(format!("发票号码 {number} 已用于其他订单"))
}

/// The renderer failed.
pub(super) fn render_failed(error: String) -> StoreError {
    StoreError::Refused(format!("发票无法生成：{error}"))
}

/// The reason of the `invoice_issued` audit row; `how` is `开具` (drawn) or `上传` (attached).
pub(super) fn issued_reason(how: &str, number: &str) -> String {
    format!("{how}发票 {number}")
}

pub(super) const PRINT_JOB_COLUMNS: &str = "id, order_id, kind, printer, name, pdf, media, reprint, state, \
attempts, next_attempt_at, last_error, operator, desk, created_at, printed_at";

/// SQL text naming print states, built once from their codes ([`PrintState::code`]) so it cannot drift
/// from the enum: `{queued}`, `{done}` and `{failed}` in `template` become the quoted codes, `{columns}`
/// the [`PRINT_JOB_COLUMNS`].
fn with_states(template: &str) -> String {
    template
        .replace("{queued}", &format!("'{}'", PrintState::Queued.code()))
        .replace("{done}", &format!("'{}'", PrintState::Done.code()))
        .replace("{failed}", &format!("'{}'", PrintState::Failed.code()))
        .replace("{columns}", PRINT_JOB_COLUMNS)
}

type Sql = std::sync::LazyLock<String>;

/// A new job, queued and due at `$8`.
pub(super) static INSERT_PRINT_JOB: Sql = Sql::new(|| {
    with_states(
        "INSERT INTO print_jobs (order_id, kind, printer, name, pdf, media, reprint, state, attempts, \
         next_attempt_at, operator, desk, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, {queued}, 0, $8, $9, $10, $8) \
         RETURNING {columns}",
    )
});
pub(super) static DUE_PRINT_JOBS: Sql = Sql::new(|| {
    with_states("SELECT {columns} FROM print_jobs WHERE state = {queued} AND next_attempt_at <= $1 ORDER BY id")
});
pub(super) static PRINT_JOB_BY_ID: Sql = Sql::new(|| with_states("SELECT {columns} FROM print_jobs WHERE id = $1"));
pub(super) static PRINT_JOBS_SINCE: Sql =
    Sql::new(|| with_states("SELECT {columns} FROM print_jobs WHERE state <> {done} OR printed_at >= $1 ORDER BY id"));
pub(super) static PRINT_JOBS_FOR_ORDER: Sql =
    Sql::new(|| with_states("SELECT {columns} FROM print_jobs WHERE order_id = $1 ORDER BY id"));

/// A due job taken for one attempt, until `$1`.
pub(super) static CLAIM_PRINT_JOB: Sql = Sql::new(|| {
    with_states(
        "UPDATE print_jobs SET next_attempt_at = $1 WHERE id = $2 AND state = {queued} AND next_attempt_at <= $3",
    )
});
pub(super) static PRINT_JOB_DONE: Sql = Sql::new(|| {
    with_states(
        "UPDATE print_jobs SET state = {done}, attempts = attempts + 1, last_error = NULL, printed_at = $1 WHERE id = $2",
    )
});
pub(super) static PRINT_JOB_RETRY: Sql = Sql::new(|| {
    with_states(
        "UPDATE print_jobs SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4 AND state = {queued}",
    )
});
pub(super) static PRINT_JOB_FAILED: Sql = Sql::new(|| {
    with_states(
        "UPDATE print_jobs SET state = {failed}, attempts = $1, last_error = $2 WHERE id = $3 AND state = {queued}",
    )
});

/// Jobs per state: the waiting and failed ones, and those done since `$1`.
pub(super) static COUNT_PRINT_JOBS: Sql = Sql::new(|| {
    with_states("SELECT state, COUNT(*) FROM print_jobs WHERE state <> {done} OR printed_at >= $1 GROUP BY state")
});
pub(super) static LAST_PRINT_ERROR: Sql = Sql::new(|| {
    with_states(
        "SELECT last_error FROM print_jobs WHERE state <> {done} AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1",
    )
});

impl PrintQueueStatus {
    /// The status from [`COUNT_PRINT_JOBS`]'s rows (state code, count) and [`LAST_PRINT_ERROR`].
    pub(super) fn from_counts(counts: &[(String, i64)], last_error: Option<String>) -> StoreResult<PrintQueueStatus> {
        let mut status = PrintQueueStatus { last_error, ..PrintQueueStatus::default() };
        for (code, n) in counts {
            let state = PrintState::parse(code)
                .ok_or_else(|| StoreError::Corrupt(format!("print queue: bad state {code:?}")))?;
            let slot = match state {
                PrintState::Queued => &mut status.queued,
                PrintState::Failed => &mut status.failed,
                PrintState::Done => &mut status.printed_since,
            };
            *slot = *n as usize;
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_queue_sql_names_states_by_their_codes() {
        assert!(DUE_PRINT_JOBS.contains("state = 'queued'"), "{}", *DUE_PRINT_JOBS);
        assert!(PRINT_JOB_FAILED.contains("state = 'failed'") && PRINT_JOB_DONE.contains("state = 'done'"));
        for sql in [&INSERT_PRINT_JOB, &COUNT_PRINT_JOBS, &LAST_PRINT_ERROR, &PRINT_JOBS_SINCE, &CLAIM_PRINT_JOB] {
            assert!(!sql.contains('{'), "{}", **sql);
        }
    }
}

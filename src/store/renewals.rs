//! Certificate renewal (issue 3): the renewal job, its journal and steps, the issued certificates, and
//! abandoning a job. Starting, finishing and abandoning a job also move the order (with its audit row,
//! through the same checked change as [`super::OrderStore::apply_change`]) in the same transaction,
//! so those methods take a [`PlannedChange`] and sit here, with the job they are about.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, Type};

use super::{Actor, PlannedChange, StoreResult};
use crate::domain::renewal_job::{
    Abandonment, IssuedCertificate, JournalEntry, NewRenewalJob, Phase, RenewalJob, RenewalStep, StepResult,
};
use crate::domain::Order;

#[async_trait]
pub trait RenewalStore: Send + Sync {
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
        phase: Phase,
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
        abandon: &Abandonment,
        change: &PlannedChange,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<Order>;
}

// ---------------------------------------------------------------------------------------------------
// The SQL text both backends share, and the binding of its long column lists.

/// A new running job at its first step; returns its id.
pub(super) const INSERT_RENEWAL_JOB: &str = "INSERT INTO renewal_jobs (order_id, key_serial, state, step, \
algorithm, new_key_id, old_key_id, old_label, old_cert_serial, old_cert_fingerprint, old_not_before, old_not_after, \
planned_serial, planned_not_before, planned_not_after, kept_objects, operator, desk, created_at, updated_at) \
VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING id";

/// Binds [`INSERT_RENEWAL_JOB`]; `kept` is the job's kept objects as JSON.
pub(super) fn bind_renewal_job<'q, DB, O>(
    q: sqlx::query::QueryScalar<'q, DB, O, <DB as Database>::Arguments<'q>>,
    job: &'q NewRenewalJob,
    kept: String,
    actor: &'q Actor,
    at: DateTime<Utc>,
) -> sqlx::query::QueryScalar<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    q.bind(job.order_id)
        .bind(job.key_serial.as_str())
        .bind(RenewalStep::Start.code())
        .bind(job.algorithm.as_str())
        .bind(job.new_key_id.as_str())
        .bind(job.old_key_id.as_str())
        .bind(job.old_label.as_str())
        .bind(job.old_cert_serial.as_str())
        .bind(job.old_cert_fingerprint.as_str())
        .bind(job.old_not_before)
        .bind(job.old_not_after)
        .bind(job.planned_serial.as_str())
        .bind(job.planned_not_before)
        .bind(job.planned_not_after)
        .bind(kept)
        .bind(actor.operator.as_str())
        .bind(actor.desk.as_str())
        .bind(at)
}

/// The columns of [`super::rows::RenewalJobRow`].
const SELECT_RENEWAL_JOB: &str = "SELECT id, order_id, key_serial, state, step, algorithm, new_key_id, old_key_id, \
old_label, old_cert_serial, old_cert_fingerprint, old_not_before, old_not_after, planned_serial, planned_not_before, \
planned_not_after, kept_objects, public_key, request_pem, operator, desk, created_at, updated_at, finished_at, \
EXISTS (SELECT 1 FROM renewal_abandonments a WHERE a.job_id = renewal_jobs.id) AS abandoned FROM renewal_jobs";

pub(super) static RENEWAL_JOB_BY_ID: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{SELECT_RENEWAL_JOB} WHERE id = $1"));
pub(super) static RENEWAL_JOBS_FOR_ORDER: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{SELECT_RENEWAL_JOB} WHERE order_id = $1 ORDER BY id DESC"));

/// A running job moves to step `$1`, keeping what the step learnt (public key, request).
pub(super) const UPDATE_JOB_STEP: &str = "UPDATE renewal_jobs SET step = $1, public_key = COALESCE($2, public_key), \
request_pem = COALESCE($3, request_pem), updated_at = $4 WHERE id = $5 AND state = 'running'";

/// The job done at the last step.
pub(super) const FINISH_JOB: &str = "UPDATE renewal_jobs SET state = 'done', finished_at = $1 WHERE id = $2";

/// The renewed certificate is now the one on the key: the order shows it, and next year's renewal
/// checks the key against it.
pub(super) const UPDATE_ORDER_CERTIFICATE: &str = "UPDATE orders SET \
cert_serial = (SELECT serial FROM issued_certificates WHERE job_id = $1), \
cert_not_before = (SELECT not_before FROM issued_certificates WHERE job_id = $1), \
cert_not_after = (SELECT not_after FROM issued_certificates WHERE job_id = $1) \
WHERE id = $2 AND EXISTS (SELECT 1 FROM issued_certificates WHERE job_id = $1)";

/// A running job ended on purpose (its abandonment row says so).
pub(super) const END_ABANDONED_JOB: &str =
    "UPDATE renewal_jobs SET state = 'done', finished_at = $1, updated_at = $1 WHERE id = $2 AND state = 'running'";

pub(super) const INSERT_ABANDONMENT: &str = "INSERT INTO renewal_abandonments (job_id, reason, key_cleanup, \
unused_certificate_id, operator, desk, at) VALUES ($1, $2, $3, (SELECT id FROM issued_certificates WHERE job_id = $1), \
$4, $5, $6)";

/// The journal row of an abandoned job.
pub(super) fn abandonment_detail(abandon: &Abandonment) -> String {
    format!("放弃续签：{}；{}", abandon.reason, abandon.key_cleanup)
}

/// The journal row of a job's start.
pub(super) fn start_detail(change: &PlannedChange, job: &NewRenewalJob) -> String {
    format!("order {} key {}", change.order_no, job.key_serial)
}

pub(super) const INSERT_JOURNAL: &str = "INSERT INTO renewal_journal (job_id, step, phase, detail, elapsed_us, \
token_us, at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(super) const SELECT_JOURNAL: &str = "SELECT id, job_id, step, phase, detail, elapsed_us, token_us, at \
FROM renewal_journal WHERE job_id = $1 ORDER BY id";

pub(super) const INSERT_ISSUED: &str = "INSERT INTO issued_certificates (job_id, order_id, serial, subject, issuer, \
not_before, not_after, fingerprint, pem, ca_backend, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// The columns of [`super::rows::IssuedRow`].
const SELECT_ISSUED: &str = "SELECT id, job_id, order_id, serial, subject, issuer, not_before, not_after, \
fingerprint, pem, ca_backend, issued_at FROM issued_certificates";

pub(super) static ISSUED_FOR_JOB: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{SELECT_ISSUED} WHERE job_id = $1"));
pub(super) static ISSUED_FOR_ORDER: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{SELECT_ISSUED} WHERE order_id = $1 ORDER BY id"));

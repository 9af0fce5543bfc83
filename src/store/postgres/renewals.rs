//! [`RenewalStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgConnection;

use super::orders::write_change;
use super::PgStore;
use crate::domain::renewal_job::{
    Abandonment, IssuedCertificate, JournalEntry, NewRenewalJob, Phase, RenewalJob, RenewalStep, StepResult,
};
use crate::domain::Order;
use crate::store::renewals as sql;
use crate::store::rows::{IssuedRow, JournalRow, RenewalJobRow};
use crate::store::{Actor, PlannedChange, RenewalStore, StoreError, StoreResult};

/// Writes one journal row inside a transaction.
async fn insert_journal(
    conn: &mut PgConnection,
    job_id: i64,
    step: RenewalStep,
    phase: Phase,
    detail: &str,
    (elapsed_us, token_us): (i64, i64),
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(sql::INSERT_JOURNAL)
        .bind(job_id)
        .bind(step.code())
        .bind(phase.code())
        .bind(detail)
        .bind(elapsed_us)
        .bind(token_us)
        .bind(at)
        .execute(conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    Ok(())
}

/// Moves a running job to `step` and writes the step's journal row inside a transaction.
async fn write_step(
    conn: &mut PgConnection,
    job_id: i64,
    step: RenewalStep,
    result: &StepResult,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let done = sqlx::query(sql::UPDATE_JOB_STEP)
        .bind(step.code())
        .bind(result.public_key.clone())
        .bind(result.request_pem.clone())
        .bind(at)
        .bind(job_id)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    if done.rows_affected() != 1 {
        return Err(StoreError::Conflict { order_no: format!("renewal job {job_id}") });
    }
    insert_journal(conn, job_id, step, Phase::Done, &result.detail, (result.elapsed_us, result.token_us), at).await
}

impl PgStore {
    async fn renewal_job(&self, id: i64) -> StoreResult<RenewalJob> {
        let row: RenewalJobRow = sqlx::query_as(&sql::RENEWAL_JOB_BY_ID)
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        row.try_into()
    }
}

#[async_trait]
impl RenewalStore for PgStore {
    async fn start_renewal(
        &self,
        job: &NewRenewalJob,
        change: &PlannedChange,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<RenewalJob> {
        let kept = serde_json::to_string(&job.kept_objects).map_err(|e| StoreError::Database(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        write_change(&mut tx, change, actor, at).await?;
        let id: i64 = sql::bind_renewal_job(sqlx::query_scalar(sql::INSERT_RENEWAL_JOB), job, kept, actor, at)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Conflict { order_no: change.order_no.to_string() }
                }
                _ => StoreError::from_sqlx(e),
            })?;
        let detail = sql::start_detail(change, job);
        insert_journal(&mut tx, id, RenewalStep::Start, Phase::Done, &detail, (0, 0), at).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        self.renewal_job(id).await
    }

    async fn renewal_jobs_for_order(&self, order_id: i64) -> StoreResult<Vec<RenewalJob>> {
        let rows: Vec<RenewalJobRow> = sqlx::query_as(&sql::RENEWAL_JOBS_FOR_ORDER)
            .bind(order_id)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn journal(
        &self,
        job_id: i64,
        step: RenewalStep,
        phase: Phase,
        detail: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(StoreError::from_sqlx)?;
        insert_journal(&mut conn, job_id, step, phase, detail, (0, 0), at).await
    }

    async fn commit_step(
        &self,
        job_id: i64,
        step: RenewalStep,
        result: &StepResult,
        at: DateTime<Utc>,
    ) -> StoreResult<RenewalJob> {
        let mut tx = self.begin_write().await?;
        write_step(&mut tx, job_id, step, result, at).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        self.renewal_job(job_id).await
    }

    async fn record_issued_certificate(
        &self,
        cert: &IssuedCertificate,
        result: &StepResult,
        at: DateTime<Utc>,
    ) -> StoreResult<IssuedCertificate> {
        let mut tx = self.begin_write().await?;
        write_step(&mut tx, cert.job_id, RenewalStep::Issue, result, at).await?;
        sqlx::query(sql::INSERT_ISSUED)
            .bind(cert.job_id)
            .bind(cert.order_id)
            .bind(cert.serial.as_str())
            .bind(cert.subject.as_str())
            .bind(cert.issuer.as_str())
            .bind(cert.not_before)
            .bind(cert.not_after)
            .bind(cert.fingerprint.as_str())
            .bind(cert.pem.as_str())
            .bind(cert.ca_backend.as_str())
            .bind(cert.issued_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Conflict { order_no: format!("renewal job {}", cert.job_id) }
                }
                _ => StoreError::from_sqlx(e),
            })?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        self.issued_certificate_for_job(cert.job_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("issued certificate of job {}", cert.job_id)))
    }

    async fn issued_certificate_for_job(&self, job_id: i64) -> StoreResult<Option<IssuedCertificate>> {
        let row: Option<IssuedRow> = sqlx::query_as(&sql::ISSUED_FOR_JOB)
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(row.map(Into::into))
    }

    async fn issued_certificates_for_order(&self, order_id: i64) -> StoreResult<Vec<IssuedCertificate>> {
        Ok(self
            .rows_by_key::<IssuedRow, _>(&sql::ISSUED_FOR_ORDER, order_id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    async fn finish_renewal(
        &self,
        job_id: i64,
        change: &PlannedChange,
        result: &StepResult,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<Order> {
        let mut tx = self.begin_write().await?;
        write_step(&mut tx, job_id, RenewalStep::Finish, result, at).await?;
        sqlx::query(sql::FINISH_JOB).bind(at).bind(job_id).execute(&mut *tx).await.map_err(StoreError::from_sqlx)?;
        write_change(&mut tx, change, actor, at).await?;
        sqlx::query(sql::UPDATE_ORDER_CERTIFICATE)
            .bind(job_id)
            .bind(change.order_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        self.existing_order(change.order_id).await
    }

    async fn renewal_journal(&self, job_id: i64) -> StoreResult<Vec<JournalEntry>> {
        Ok(self.rows_by_key::<JournalRow, _>(sql::SELECT_JOURNAL, job_id).await?.into_iter().map(Into::into).collect())
    }

    async fn abandon_renewal(
        &self,
        abandon: &Abandonment,
        change: &PlannedChange,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<Order> {
        let mut tx = self.begin_write().await?;
        let ended = sqlx::query(sql::END_ABANDONED_JOB)
            .bind(at)
            .bind(abandon.job_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        if ended.rows_affected() != 1 {
            return Err(StoreError::Conflict { order_no: change.order_no.to_string() });
        }
        sqlx::query(sql::INSERT_ABANDONMENT)
            .bind(abandon.job_id)
            .bind(abandon.reason.as_str())
            .bind(abandon.key_cleanup.as_str())
            .bind(actor.operator.as_str())
            .bind(actor.desk.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        let detail = sql::abandonment_detail(abandon);
        insert_journal(&mut tx, abandon.job_id, abandon.step, Phase::Failed, &detail, (0, 0), at).await?;
        write_change(&mut tx, change, actor, at).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        self.existing_order(change.order_id).await
    }
}

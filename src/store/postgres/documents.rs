//! [`DocumentStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::orders::insert_audit;
use super::PgStore;
use crate::domain::{AuditAction, OrderNo};
use crate::store::documents as sql;
use crate::store::orders::AuditRecord;
use crate::store::rows::{InvoiceRow, PrintJobRow};
use crate::store::{
    Actor, DocumentStore, InvoiceDocument, InvoiceIssue, InvoiceSource, NewPrintJob, PrintJobRecord, PrintJobUpdate,
    PrintQueueStatus, StoreError, StoreResult,
};

#[async_trait]
impl DocumentStore for PgStore {
    async fn invoice_document(&self, order_id: i64) -> StoreResult<Option<InvoiceDocument>> {
        let row = sqlx::query_as::<_, InvoiceRow>(sql::SELECT_INVOICE_DOCUMENT)
            .bind(order_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(row.map(Into::into))
    }

    async fn issue_invoice(
        &self,
        order_id: i64,
        order_no: &OrderNo,
        expected_version: i64,
        source: InvoiceSource<'_>,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<InvoiceIssue> {
        let attached = sql::attached_number(&source);
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query_as::<_, InvoiceRow>(sql::SELECT_INVOICE_DOCUMENT)
            .bind(order_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        if let Some(row) = existing {
            return sql::existing_or_refuse(order_no, attached.as_deref(), row.into());
        }
        let (number, pdf, how) = match source {
            InvoiceSource::Allocate(render) => {
                let seq: i64 = sqlx::query_scalar(sql::NEXT_INVOICE_SEQ)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                let number = sql::invoice_number_at(at, seq);
                let pdf = render(&number).map_err(sql::render_failed)?;
                (number, pdf, "开具")
            }
            InvoiceSource::Attach { number, pdf } => (number, pdf, "上传"),
        };
        let sha256 = sql::sha256_hex(&pdf);
        let inserted = sqlx::query(sql::INSERT_INVOICE)
            .bind(order_id)
            .bind(number.as_str())
            .bind(pdf.as_slice())
            .bind(sha256.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await;
        if let Err(e) = inserted {
            let unique = matches!(&e, sqlx::Error::Database(db) if db.is_unique_violation());
            drop(tx);
            if !unique {
                return Err(StoreError::from_sqlx(e));
            }
            // Another desk issued this order's invoice meanwhile, or the number is taken.
            return match self.invoice_document(order_id).await? {
                Some(doc) => sql::existing_or_refuse(order_no, attached.as_deref(), doc),
                None => Err(sql::number_taken(&number)),
            };
        }
        let done = sqlx::query(sql::UPDATE_INVOICE_ISSUED)
            .bind(at)
            .bind(order_id)
            .bind(expected_version)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict { order_no: order_no.to_string() });
        }
        let reason = sql::issued_reason(how, &number);
        let audit = AuditRecord {
            order_id: Some(order_id),
            action: AuditAction::InvoiceIssued,
            from: None,
            to: None,
            reason: &reason,
            hold_reason: None,
        };
        insert_audit(&mut tx, &audit, actor, at).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(InvoiceIssue::New(InvoiceDocument { number, pdf, sha256, issued_at: at }))
    }

    async fn enqueue_print(&self, job: &NewPrintJob, actor: &Actor, at: DateTime<Utc>) -> StoreResult<PrintJobRecord> {
        let row: PrintJobRow = sqlx::query_as(&sql::INSERT_PRINT_JOB)
            .bind(job.order_id)
            .bind(job.kind.code())
            .bind(job.printer.as_str())
            .bind(job.name.as_str())
            .bind(job.pdf.as_slice())
            .bind(job.media.as_deref())
            .bind(job.reprint)
            .bind(at)
            .bind(actor.operator.as_str())
            .bind(actor.desk.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        row.try_into()
    }

    async fn due_print_jobs(&self, now: DateTime<Utc>) -> StoreResult<Vec<PrintJobRecord>> {
        self.rows_by_key::<PrintJobRow, _>(&sql::DUE_PRINT_JOBS, now)
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    async fn claim_print_job(&self, id: i64, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(&sql::CLAIM_PRINT_JOB)
            .bind(lease_until)
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    async fn update_print_job(&self, id: i64, update: &PrintJobUpdate) -> StoreResult<PrintJobRecord> {
        let q = match update {
            PrintJobUpdate::Done { printed_at } => sqlx::query(&sql::PRINT_JOB_DONE).bind(*printed_at).bind(id),
            PrintJobUpdate::Retry { attempts, next_attempt_at, error } => {
                sqlx::query(&sql::PRINT_JOB_RETRY).bind(*attempts).bind(*next_attempt_at).bind(error.as_str()).bind(id)
            }
            PrintJobUpdate::Failed { attempts, error } => {
                sqlx::query(&sql::PRINT_JOB_FAILED).bind(*attempts).bind(error.as_str()).bind(id)
            }
        };
        q.execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
        let row: PrintJobRow = sqlx::query_as(&sql::PRINT_JOB_BY_ID)
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        row.try_into()
    }

    async fn print_jobs(&self, done_since: DateTime<Utc>) -> StoreResult<Vec<PrintJobRecord>> {
        self.rows_by_key::<PrintJobRow, _>(&sql::PRINT_JOBS_SINCE, done_since)
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    async fn print_queue_status(&self, done_since: DateTime<Utc>) -> StoreResult<PrintQueueStatus> {
        let counts: Vec<(String, i64)> = sqlx::query_as(&sql::COUNT_PRINT_JOBS)
            .bind(done_since)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        let last_error: Option<String> = sqlx::query_scalar(&sql::LAST_PRINT_ERROR)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        PrintQueueStatus::from_counts(&counts, last_error)
    }

    async fn print_job(&self, id: i64) -> StoreResult<Option<PrintJobRecord>> {
        let row: Option<PrintJobRow> = sqlx::query_as(&sql::PRINT_JOB_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn print_jobs_for_order(&self, order_id: i64) -> StoreResult<Vec<PrintJobRecord>> {
        self.rows_by_key::<PrintJobRow, _>(&sql::PRINT_JOBS_FOR_ORDER, order_id)
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }
}

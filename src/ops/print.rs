//! The durable print queue. A document is written to `print_jobs` before any printer is asked, so a
//! crash or a printer that is off loses nothing; `run_due` sends the due jobs through their printer
//! (the blocking adapters run on `spawn_blocking`), backs off on `Retryable` per [`RetryPolicy`] and
//! marks a job failed on `Failed` or when the attempts run out. A reprint is a new job, flagged.
//!
//! Several desks may run the queue: a job is claimed for one attempt by moving its `next_attempt_at`
//! forward (a lease), so only one desk sends it. A desk that dies mid-print leaves the job due again
//! after the lease: printing is at-least-once.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::clock::Clock;
use crate::domain::AuditAction;
use crate::outbound::printer::{PrintJob, PrintOutcome, Printers, RetryPolicy};
use crate::store::{Actor, NewPrintJob, PrintJobRecord, PrintJobUpdate, PrintQueueStatus, Store};

use super::OpsError;

/// How long a claimed job is reserved for the desk that sends it.
const LEASE: TimeDelta = TimeDelta::minutes(2);

/// Writes a job to the queue; nothing is printed yet.
pub async fn enqueue(
    store: &dyn Store,
    job: &NewPrintJob,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<PrintJobRecord, OpsError> {
    Ok(store.enqueue_print(job, actor, at).await?)
}

/// Queues an invoice's stored PDF again, flagged reprint, with a `print_reprint` audit row. (A label
/// is drawn again instead, so it carries the 重印 mark: see `ops::label`.)
pub async fn reprint(
    store: &dyn Store,
    original: &PrintJobRecord,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<PrintJobRecord, OpsError> {
    let job = NewPrintJob {
        order_id: original.order_id,
        kind: original.kind,
        printer: original.printer.clone(),
        name: original.name.clone(),
        pdf: original.pdf.clone(),
        media: original.media.clone(),
        reprint: true,
    };
    let record = enqueue(store, &job, actor, at).await?;
    store
        .note(
            Some(original.order_id),
            AuditAction::PrintReprint,
            &format!("补打 {}（原任务 {}）", original.name, original.id),
            actor,
            at,
        )
        .await?;
    Ok(record)
}

/// What one run of the queue did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub printed: Vec<PrintJobRecord>,
    pub retrying: Vec<PrintJobRecord>,
    pub failed: Vec<PrintJobRecord>,
}

/// Sends every job due now through its printer, once each.
pub async fn run_due(
    store: &dyn Store,
    printers: &Printers,
    policy: &RetryPolicy,
    clock: &Clock,
) -> Result<RunReport, OpsError> {
    let now = clock.now();
    let mut report = RunReport::default();
    for job in store.due_print_jobs(now).await? {
        if !store.claim_print_job(job.id, now, now + LEASE).await? {
            continue;
        }
        let attempts = job.attempts + 1;
        let outcome = match printers.get(&job.printer) {
            None => PrintOutcome::Failed(format!("没有名为 {} 的打印机", job.printer)),
            Some(printer) => {
                let printer = Arc::clone(printer);
                let (name, pdf, media) = (job.name.clone(), job.pdf.clone(), job.media.clone());
                tokio::task::spawn_blocking(move || {
                    printer.print(&PrintJob { name: &name, pdf: &pdf, media: media.as_deref() })
                })
                .await
                .unwrap_or_else(|e| PrintOutcome::Retryable(format!("print task failed: {e}")))
            }
        };
        let finished = clock.now();
        let update = match outcome {
            PrintOutcome::Printed { .. } => PrintJobUpdate::Done { printed_at: finished },
            PrintOutcome::Retryable(error) => {
                match policy.next_attempt_at(attempts.try_into().unwrap_or(u32::MAX), finished) {
                    Some(next_attempt_at) => PrintJobUpdate::Retry { attempts, next_attempt_at, error },
                    None => PrintJobUpdate::Failed {
                        attempts, error: format!("重试 {attempts} 次仍未打印：{error}")
                    },
                }
            }
            PrintOutcome::Failed(error) => PrintJobUpdate::Failed { attempts, error },
        };
        let record = store.update_print_job(job.id, &update).await?;
        match update {
            PrintJobUpdate::Done { .. } => report.printed.push(record),
            PrintJobUpdate::Retry { .. } => report.retrying.push(record),
            PrintJobUpdate::Failed { .. } => report.failed.push(record),
        }
    }
    Ok(report)
}

/// Sends what is due, then tells how the queue stands (printed counted since `since`). The desk runs
/// this every few seconds, so a job that waited for a printer goes out when the printer is back.
pub async fn run_and_report(
    store: &dyn Store,
    printers: &Printers,
    policy: &RetryPolicy,
    since: DateTime<Utc>,
    clock: &Clock,
) -> Result<(RunReport, PrintQueueStatus), OpsError> {
    let report = run_due(store, printers, policy, clock).await?;
    Ok((report, store.print_queue_status(since).await?))
}

/// Where the label and the invoice of an order went: printed now, or waiting in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentsPrinted {
    pub label: String,
    pub invoice: String,
}

/// 打印: the return label and the invoice of a shipped order, through the durable queue; the due jobs
/// are sent at once. The desk's F11 and `keydesk label/invoice --print` share these steps.
pub async fn print_label_and_invoice(
    services: &crate::services::Services,
    order: &crate::domain::Order,
    actor: &Actor,
) -> Result<DocumentsPrinted, OpsError> {
    let (store, clock) = (services.store(), &services.clock);
    let at = clock.now();
    let font = services.font().map_err(OpsError::Invalid)?;
    let label = super::label::build_label(store, &font, &services.documents.label, order, None, at).await?;
    let label_job = super::label::enqueue_label(store, order, &label, actor, at).await?;
    let invoice =
        super::invoice::issued_or_issue(store, &font, &services.documents.invoice, order, actor, clock).await?;
    let invoice_job = super::invoice::enqueue_invoice(store, order, invoice.document(), actor, at).await?;
    let report = run_due(store, &services.printers, &RetryPolicy::default(), clock).await?;
    let fate = |id: i64| {
        if report.printed.iter().any(|j| j.id == id) {
            "已打印"
        } else if report.failed.iter().any(|j| j.id == id) {
            "打印失败（见 keydesk print queue）"
        } else {
            "已排队，打印机恢复后自动重试"
        }
    };
    Ok(DocumentsPrinted { label: fate(label_job.id).to_string(), invoice: fate(invoice_job.id).to_string() })
}

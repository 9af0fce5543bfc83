//! The VAT e-invoice of an order (开票): issued once, stored in the database with its sha256, and
//! handed out unchanged ever after (the member downloads the same bytes the desk printed).
//!
//! `issue` draws the page with the next number from the database's `invoice` counter — allocated,
//! drawn and stored in one transaction together with `invoice_status = issued` and the
//! `invoice_issued` audit row (the SLA's invoice clock stops on that action). With backend `local`
//! and no `legal_issuer` the page is a 样张. With backend `attach` keydesk never draws the invoice:
//! staff attach the PDF the tax platform returned (`attach`).

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::docs::invoice::InvoiceBackend;
use crate::docs::{render_invoice, DocFont, InvoiceBuyer, InvoiceData, InvoiceSettings};
use crate::domain::{InvoiceStatus, Order, PrintKind, PrintState, Status};
use crate::store::{Actor, InvoiceIssue, InvoiceSource, Store};

use super::OpsError;

/// What goes on the invoice of `order`, numbered `number`, issued at `at`.
pub fn invoice_data(order: &Order, number: Option<String>, at: DateTime<Utc>) -> InvoiceData {
    let inv = &order.invoice;
    InvoiceData {
        number,
        issued_on: at.with_timezone(&crate::sla::SHANGHAI).date_naive(),
        buyer: InvoiceBuyer {
            name: inv.title.clone(),
            tax_id: inv.tax_id.clone(),
            address: inv.address.clone(),
            phone: inv.phone.clone(),
            bank: inv.bank.clone(),
            account: inv.bank_account.clone(),
        },
        total: order.amount.decimal(),
        quantity: order.term_years,
        spec: String::new(),
        order_no: order.order_no.to_string(),
        remarks: vec![format!("UKey {}", order.key_serial)],
    }
}

/// Whether the order may be invoiced at all (paid, not closed, the member asked for an invoice).
fn check_invoiceable(order: &Order) -> Result<(), OpsError> {
    let no = &order.order_no;
    if order.paid_at.is_none()
        || matches!(order.status, Status::Unpaid | Status::Cancelled | Status::Refunding | Status::Refunded)
    {
        return Err(OpsError::Invalid(format!("订单 {no} 状态为{}，不能开票", order.status.label())));
    }
    if order.invoice_status == InvoiceStatus::NotRequested {
        return Err(OpsError::Invalid(format!("订单 {no} 的会员未申请发票")));
    }
    if order.invoice.title.trim().is_empty() || order.invoice.tax_id.trim().is_empty() {
        return Err(OpsError::Invalid(format!("订单 {no} 缺少发票抬头或税号")));
    }
    Ok(())
}

/// Issues the order's invoice, or returns the one issued before (same number, same bytes).
pub async fn issue_invoice(
    store: &dyn Store,
    font: &DocFont,
    settings: &InvoiceSettings,
    order: &Order,
    actor: &Actor,
    clock: &Clock,
) -> Result<InvoiceIssue, OpsError> {
    if let Some(doc) = store.invoice_document(order.id).await? {
        return Ok(InvoiceIssue::Existing(doc));
    }
    check_invoiceable(order)?;
    if settings.backend == InvoiceBackend::Attach {
        return Err(OpsError::Invalid(format!(
            "发票由税务平台开具（invoice.backend = \"attach\"）：请用 keydesk invoice attach {} FILE.pdf --number N 上传",
            order.order_no
        )));
    }
    let at = clock.now();
    // Drawn once before the transaction with a placeholder number, so a missing glyph or a bad
    // amount is reported without taking a number.
    render_invoice(font, settings, &invoice_data(order, Some("0".repeat(20)), at))?;
    let render = |number: &str| {
        render_invoice(font, settings, &invoice_data(order, Some(number.to_string()), at)).map_err(|e| e.to_string())
    };
    Ok(store
        .issue_invoice(order.id, &order.order_no, order.version, InvoiceSource::Allocate(Box::new(render)), actor, at)
        .await?)
}

/// A 数电票 number: 20 digits.
pub fn check_number(number: &str) -> Result<(), OpsError> {
    if number.len() == 20 && number.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(OpsError::Invalid(format!("发票号码 {number:?} 不是 20 位数字")))
    }
}

/// Stores the official invoice the tax platform returned (its PDF and 20-digit number).
pub async fn attach_invoice(
    store: &dyn Store,
    order: &Order,
    number: &str,
    pdf: Vec<u8>,
    actor: &Actor,
    clock: &Clock,
) -> Result<InvoiceIssue, OpsError> {
    check_number(number)?;
    if !pdf.starts_with(b"%PDF-") {
        return Err(OpsError::Invalid("上传的文件不是 PDF".into()));
    }
    if store.invoice_document(order.id).await?.is_none() {
        check_invoiceable(order)?;
    }
    let source = InvoiceSource::Attach { number: number.to_string(), pdf };
    Ok(store.issue_invoice(order.id, &order.order_no, order.version, source, actor, clock.now()).await?)
}

/// The order's invoice: the stored one, or issued now.
pub async fn issued_or_issue(
    store: &dyn Store,
    font: &DocFont,
    settings: &InvoiceSettings,
    order: &Order,
    actor: &Actor,
    clock: &Clock,
) -> Result<InvoiceIssue, OpsError> {
    Ok(match store.invoice_document(order.id).await? {
        Some(doc) => InvoiceIssue::Existing(doc),
        None => issue_invoice(store, font, settings, order, actor, clock).await?,
    })
}

/// Queues the stored invoice on the invoice printer; a second print of it is a reprint.
pub async fn enqueue_invoice(
    store: &dyn Store,
    order: &Order,
    doc: &crate::store::InvoiceDocument,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<crate::store::PrintJobRecord, OpsError> {
    let reprint = store
        .print_jobs_for_order(order.id)
        .await?
        .iter()
        .any(|j| j.kind == PrintKind::Invoice && j.state != PrintState::Failed);
    let job = crate::store::NewPrintJob {
        order_id: order.id,
        kind: PrintKind::Invoice,
        printer: PrintKind::Invoice.code().into(),
        name: format!("invoice-{}", doc.number),
        pdf: doc.pdf.clone(),
        media: None,
        reprint,
    };
    super::print::enqueue(store, &job, actor, at).await
}

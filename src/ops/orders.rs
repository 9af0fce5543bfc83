//! Reading orders for the faces: one order's whole record (the order, its parcel receipts, its audit
//! timeline, its print jobs), search, the parcels no order claims, and 显示完整信息 — revealing an
//! order's personal data in full, which is audited.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::clock::Clock;
use crate::domain::{AuditAction, Order, OrderNo};
use crate::sla::board::BoardRow;
use crate::sla::ClockRules;
use crate::store::{Actor, AuditEntry, PrintJobRecord, Receipt, Store, UnmatchedParcel};

use super::OpsError;

/// One order and everything recorded about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderDetail {
    pub order: Order,
    pub receipts: Vec<Receipt>,
    /// The audit timeline, oldest first.
    pub audit: Vec<AuditEntry>,
    /// The order's print jobs (label, invoice, reprints), oldest first.
    pub prints: Vec<PrintJobRecord>,
    /// The notices to the member (SMS, e-mail), oldest first.
    pub notices: Vec<crate::store::NoticeRecord>,
    /// Its return and invoice clocks, evaluated when it was read ([`detail_at`]; empty from [`detail`]).
    pub clocks: Vec<BoardRow>,
}

/// The order numbered `no`, or [`OpsError::OrderNotFound`].
pub async fn order(store: &dyn Store, no: &OrderNo) -> Result<Order, OpsError> {
    store.order_by_no(no).await?.ok_or_else(|| OpsError::OrderNotFound(no.to_string()))
}

/// The order numbered `no` with its receipts, timeline and print jobs.
pub async fn detail(store: &dyn Store, no: &OrderNo) -> Result<OrderDetail, OpsError> {
    let order = order(store, no).await?;
    let receipts = store.receipts_for_order(order.id).await?;
    let audit = store.audit_for_order(order.id).await?;
    let prints = store.print_jobs_for_order(order.id).await?;
    let notices = store.notices_for_order(order.id).await?;
    Ok(OrderDetail { order, receipts, audit, prints, notices, clocks: Vec::new() })
}

/// [`detail`] with the order's clocks evaluated at `now` (the desk's order screen shows them).
pub async fn detail_at(
    store: &dyn Store,
    rules: &ClockRules,
    no: &OrderNo,
    now: DateTime<FixedOffset>,
) -> Result<OrderDetail, OpsError> {
    let mut detail = detail(store, no).await?;
    detail.clocks = super::sla::order_clocks(&detail, rules, now);
    Ok(detail)
}

/// Orders matching what staff typed: order number, waybill, key serial, account, phone tail, holder,
/// or the start of a company name.
pub async fn search(store: &dyn Store, text: &str, limit: i64) -> Result<Vec<Order>, OpsError> {
    Ok(store.search_orders(text, limit).await?)
}

/// Parcels scanned that no order claims, oldest first.
pub async fn unmatched(store: &dyn Store) -> Result<Vec<UnmatchedParcel>, OpsError> {
    Ok(store.unmatched_parcels().await?)
}

/// 显示完整信息: records in the audit log that `actor` saw the order's personal data in full.
pub async fn reveal(store: &dyn Store, no: &OrderNo, actor: &Actor, clock: &Clock) -> Result<(), OpsError> {
    let order = order(store, no).await?;
    store.note(Some(order.id), AuditAction::Reveal, "显示完整个人信息", actor, clock.now()).await?;
    Ok(())
}

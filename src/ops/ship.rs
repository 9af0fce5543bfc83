//! Shipping (发货): a renewed key goes back with its outbound SF waybill, once. Shipping again with the
//! same waybill changes nothing; another waybill for a shipped order is refused (a reprint of the label
//! never allocates a new waybill either). A scan on a renewed order's screen ships it, unless the scan is
//! a parcel an order already waits for (the next parcel, scanned before this one shipped).

use crate::clock::Clock;
use crate::domain::order::Change;
use crate::domain::{AuditAction, Order, OrderNo, Status, Waybill};
use crate::store::{Actor, PlannedChange, Stamps, Store};

use super::OpsError;

/// What `ship` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shipped {
    Now(Order),
    /// Already shipped with this waybill: nothing written.
    Before(Order),
}

/// What a scan on a renewed order's screen turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanOnOrder {
    /// The order's return waybill: it shipped (or had shipped with it before).
    Shipped,
    /// An inbound parcel an order waits for, or one already in the unmatched queue: taken in as a scan.
    Parcel(super::intake::IntakeOutcome),
}

/// A scan on a renewed order's screen: the next parcel when an order already waits for that waybill
/// (or it waits as an unmatched parcel), else the order's return waybill, and the order ships. A scan
/// that is no SF waybill is refused as `ship` refuses it.
pub async fn ship_or_intake(
    store: &dyn Store,
    no: &OrderNo,
    raw_scan: &str,
    actor: &Actor,
    clock: &Clock,
) -> Result<ScanOnOrder, OpsError> {
    if let Ok(waybill) = Waybill::parse(raw_scan) {
        let inbound = !store.orders_by_inbound_waybill(&waybill).await?.is_empty()
            || store.unmatched_parcels().await?.iter().any(|p| p.waybill == waybill.as_str());
        if inbound {
            return Ok(ScanOnOrder::Parcel(super::intake::intake(store, raw_scan, actor, clock).await?));
        }
    }
    ship(store, no, raw_scan, actor, clock).await?;
    Ok(ScanOnOrder::Shipped)
}

pub async fn ship(
    store: &dyn Store,
    no: &OrderNo,
    raw_waybill: &str,
    actor: &Actor,
    clock: &Clock,
) -> Result<Shipped, OpsError> {
    let at = clock.now();
    let waybill = Waybill::parse(raw_waybill).map_err(|e| OpsError::Invalid(e.to_string()))?;
    let order = store.order_by_no(no).await?.ok_or_else(|| OpsError::OrderNotFound(no.to_string()))?;
    if let Some(existing) = &order.outbound_waybill {
        if *existing == waybill && matches!(order.status, Status::Shipped | Status::Completed) {
            return Ok(Shipped::Before(order));
        }
        if order.status != Status::Renewed {
            return Err(OpsError::Invalid(format!("订单 {no} 已用运单 {existing} 发货，不能改用 {waybill}")));
        }
    }
    let transition = order.plan(&Change::MoveTo(Status::Shipped), &format!("发货 {waybill}"))?;
    let change = PlannedChange {
        order_id: order.id,
        order_no: order.order_no.clone(),
        expected_version: order.version,
        transition,
        stamps: Stamps { outbound_waybill: Some(waybill), shipped_at: Some(at), ..Stamps::default() },
        action: AuditAction::Ship,
    };
    Ok(Shipped::Now(store.apply_change(&change, actor, at).await?))
}

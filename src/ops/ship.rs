//! Shipping (发货): a renewed key goes back with its outbound SF waybill, once. Shipping again with the
//! same waybill changes nothing; another waybill for a shipped order is refused (a reprint of the label
//! never allocates a new waybill either).

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

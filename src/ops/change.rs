//! Changing an order's status by hand: hold, release, cancel, refund. The change is planned on the
//! order as read, and written only if nobody changed the order meanwhile.

use crate::clock::Clock;
use crate::domain::order::Change;
use crate::domain::{AuditAction, Order, OrderNo};
use crate::store::{Actor, PlannedChange, Stamps, Store};

use super::OpsError;

pub async fn change_order(
    store: &dyn Store,
    no: &OrderNo,
    change: &Change,
    reason: &str,
    actor: &Actor,
    clock: &Clock,
) -> Result<Order, OpsError> {
    let order = store.order_by_no(no).await?.ok_or_else(|| OpsError::OrderNotFound(no.to_string()))?;
    let transition = order.plan(change, reason)?;
    let action = match change {
        Change::MoveTo(_) => AuditAction::Status,
        Change::Hold { .. } => AuditAction::Hold,
        Change::Release => AuditAction::Release,
    };
    let planned = PlannedChange {
        order_id: order.id,
        order_no: order.order_no.clone(),
        expected_version: order.version,
        transition,
        stamps: Stamps::default(),
        action,
    };
    Ok(store.apply_change(&planned, actor, clock.now()).await?)
}

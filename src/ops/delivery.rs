//! After SF delivered the returned key: an order the member does not confirm (确认收货) completes by
//! itself `routes.auto_complete_days` after the delivery SF reported, audited as `auto_complete` (which
//! announces itself to the member through the notice outbox). Run by `keydesk worker`'s pass; a member
//! who confirms first, or another worker that completed it a moment before, wins, and the order is
//! left as they left it.

use chrono::TimeDelta;

use crate::clock::Clock;
use crate::domain::order::Change;
use crate::domain::{AuditAction, OrderNo, Status};
use crate::store::{Actor, PlannedChange, Stamps, Store, StoreError};

use super::OpsError;

/// Who the audit row names for an automatic completion.
pub fn worker_actor() -> Actor {
    Actor { operator: "system".into(), desk: "worker".into() }
}

/// Completes every shipped order delivered at least `after` ago; returns the orders completed.
pub async fn auto_complete_due(store: &dyn Store, after: TimeDelta, clock: &Clock) -> Result<Vec<OrderNo>, OpsError> {
    let now = clock.now();
    let days = after.num_days();
    let mut done = Vec::new();
    for no in store.delivered_unconfirmed(now - after).await? {
        let no = OrderNo::parse(&no).map_err(|_| OpsError::OrderNotFound(no.clone()))?;
        let Some(order) = store.order_by_no(&no).await? else { continue };
        if order.status != Status::Shipped {
            continue;
        }
        let reason = format!("顺丰签收 {days} 天后会员未确认收货，自动确认收货");
        let transition = order.plan(&Change::MoveTo(Status::Completed), &reason)?;
        let planned = PlannedChange {
            order_id: order.id,
            order_no: order.order_no.clone(),
            expected_version: order.version,
            transition,
            stamps: Stamps::default(),
            action: AuditAction::AutoComplete,
        };
        match store.apply_change(&planned, &worker_actor(), clock.now()).await {
            Ok(_) => done.push(no),
            // The member confirmed (or another worker completed it) in the meantime: theirs stands.
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done)
}

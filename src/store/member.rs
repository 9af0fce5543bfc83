//! What the member endpoint reads and writes: the member view of one order (`member_orders`) and the
//! member's own actions on it (the inbound waybill, 确认收货), each with its audit row. The invoice a
//! member downloads is read through [`super::DocumentStore::invoice_document`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Actor, StoreResult};
use crate::domain::member::MemberOrder;
use crate::domain::order::Transition;
use crate::domain::{AuditAction, OrderNo, Status, Waybill};

#[async_trait]
pub trait MemberStore: Send + Sync {
    /// What a member may see of one order (the view `member_orders`).
    async fn member_order(&self, no: &OrderNo) -> StoreResult<Option<MemberOrder>>;
    /// Writes one member action and its audit row, if the order is still at the expected version (and,
    /// for the inbound waybill, still not received); else [`super::StoreError::Conflict`].
    async fn apply_member_change(&self, change: &MemberChange, actor: &Actor, at: DateTime<Utc>) -> StoreResult<()>;
}

/// A member action, checked against the member view, ready to be written with its audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberChange {
    pub order_id: i64,
    pub order_no: OrderNo,
    pub expected_version: i64,
    pub action: MemberAction,
    /// The audit row's reason.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberAction {
    /// Enter or correct the inbound SF waybill (the order must not be received yet).
    InboundWaybill { status: Status, carrier: String, raw: String, waybill: Waybill },
    /// Move the status along a checked transition (确认收货: shipped → completed).
    Status(Transition),
}

impl MemberAction {
    /// What the audit row records.
    pub fn audit_action(&self) -> AuditAction {
        match self {
            MemberAction::InboundWaybill { .. } => AuditAction::MemberInboundWaybill,
            MemberAction::Status(t) if t.to == Status::Completed => AuditAction::MemberConfirmReceipt,
            MemberAction::Status(_) => AuditAction::MemberStatus,
        }
    }
}

/// The member view of one order, by order number (`member_orders`, migrations 0002, 0006 and 0012).
pub(super) const SELECT_MEMBER_ORDER: &str = "SELECT id, version, order_no, kind, status, hold_reason, \
invoice_status, created_at, paid_at, phone_tail, holder_masked, phone_masked, ship_region, inbound_carrier, \
inbound_waybill_raw, received_at, renewing_at, renewed_at, outbound_waybill, shipped_at, completed_at, \
invoice_number, delivered_at FROM member_orders WHERE order_no = $1";

/// The member enters or corrects the inbound waybill: only while the parcel is not received.
pub(super) const UPDATE_MEMBER_INBOUND: &str = "UPDATE orders SET inbound_carrier = $1, inbound_waybill_raw = $2, \
inbound_waybill = $3, version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6 AND received_at IS NULL";

/// 确认收货: the status moves from `from` to `to` only if the order is still where it was planned.
pub(super) const UPDATE_MEMBER_STATUS: &str = "UPDATE orders SET status = $1, version = version + 1, \
updated_at = $2 WHERE id = $3 AND version = $4 AND status = $5";

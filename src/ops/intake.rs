//! Intake (收件): a scanned waybill becomes received orders. One parcel can carry several keys, so a
//! waybill shared by several orders receives them all in one write. A parcel no order claims goes to the
//! unmatched queue; a parcel for an unpaid order is recorded and the order held.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::clock::Clock;
use crate::domain::order::ReceiptPlan;
use crate::domain::waybill::WaybillError;
use crate::domain::{mask, AuditAction, Order, Waybill};
use crate::store::{Actor, ParcelReceipt, PlannedChange, Stamps, Store, StoreError};

use super::OpsError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntakeResult {
    Matched,
    AlreadyReceived,
    Unpaid,
    Closed,
    Unknown,
    NotSf,
    Invalid,
}

/// What happened to one order of the parcel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderOutcome {
    Received,
    ReceivedOnHold,
    HeldUnpaid,
    ClosedReturn,
    AlreadyReceived,
}

/// The order card the desk shows after a scan; personal data masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntakeOrder {
    pub order_no: String,
    pub outcome: OrderOutcome,
    pub status: String,
    pub status_label: String,
    pub company: String,
    pub holder: String,
    pub contact_phone: String,
    pub key_serial: String,
    pub cert_not_after: DateTime<Utc>,
    pub paid: bool,
    pub docs_approved: bool,
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntakeOutcome {
    pub result: IntakeResult,
    pub waybill: Option<String>,
    pub message: String,
    pub orders: Vec<IntakeOrder>,
}

/// How many times a scan is re-planned when another desk changed one of its orders meanwhile.
const CONFLICT_RETRIES: usize = 3;

pub async fn intake(
    store: &dyn Store,
    raw_scan: &str,
    actor: &Actor,
    clock: &Clock,
) -> Result<IntakeOutcome, OpsError> {
    let mut last_conflict = None;
    for _ in 0..CONFLICT_RETRIES {
        match intake_once(store, raw_scan, actor, clock).await {
            Err(OpsError::Store(e @ StoreError::Conflict { .. })) => last_conflict = Some(e),
            other => return other,
        }
    }
    Err(OpsError::Store(last_conflict.unwrap_or(StoreError::Conflict { order_no: String::new() })))
}

async fn intake_once(
    store: &dyn Store,
    raw_scan: &str,
    actor: &Actor,
    clock: &Clock,
) -> Result<IntakeOutcome, OpsError> {
    let (waybill, orders, note) = match Waybill::parse(raw_scan) {
        Ok(w) => {
            let orders = store.orders_by_inbound_waybill(&w).await?;
            (w, orders, None)
        }
        Err(WaybillError::NotSf { carrier, number }) => {
            // A Chinese input method may have swallowed the `SF` of a 13-digit SF number.
            if let Some(sf) = Waybill::with_swallowed_prefix(raw_scan) {
                let orders = store.orders_by_inbound_waybill(&sf).await?;
                if !orders.is_empty() {
                    let note = format!("扫描内容 {number} 缺少 SF 前缀，已按 {sf} 匹配");
                    return finish(store, sf, orders, actor, Some(note), clock.now()).await;
                }
            }
            let message = WaybillError::NotSf { carrier, number: number.clone() }.to_string();
            return Ok(IntakeOutcome { result: IntakeResult::NotSf, waybill: Some(number), message, orders: vec![] });
        }
        Err(e) => {
            return Ok(IntakeOutcome {
                result: IntakeResult::Invalid,
                waybill: None,
                message: e.to_string(),
                orders: vec![],
            });
        }
    };
    if orders.is_empty() {
        let already_queued = store.unmatched_parcels().await?.into_iter().find(|p| p.waybill == waybill.as_str());
        let message = match already_queued {
            Some(p) => format!(
                "未找到运单 {waybill} 对应的订单；该包裹已于 {} 由 {} 登记在无主包裹队列",
                local(p.scanned_at),
                p.operator
            ),
            None => {
                store.record_unmatched_parcel(raw_scan.trim(), &waybill, actor, clock.now()).await?;
                format!("未找到运单 {waybill} 对应的订单，已放入无主包裹队列（可按公司、手机尾号、账号、KEY 编号、订单号查找）")
            }
        };
        return Ok(IntakeOutcome {
            result: IntakeResult::Unknown,
            waybill: Some(waybill.to_string()),
            message,
            orders: vec![],
        });
    }
    finish(store, waybill, orders, actor, note, clock.now()).await
}

async fn finish(
    store: &dyn Store,
    waybill: Waybill,
    orders: Vec<Order>,
    actor: &Actor,
    note: Option<String>,
    at: DateTime<Utc>,
) -> Result<IntakeOutcome, OpsError> {
    let mut changes = Vec::new();
    let mut outcomes = Vec::new();
    for order in &orders {
        let (planned, outcome) = match order.plan_receipt() {
            ReceiptPlan::Receive(t) => (Some((t, AuditAction::Intake)), OrderOutcome::Received),
            ReceiptPlan::HoldUnpaid(t) => (Some((t, AuditAction::IntakeUnpaid)), OrderOutcome::HeldUnpaid),
            ReceiptPlan::ReceiveOnHold(t) => (Some((t, AuditAction::IntakeOnHold)), OrderOutcome::ReceivedOnHold),
            ReceiptPlan::Closed(t) => (Some((t, AuditAction::IntakeClosed)), OrderOutcome::ClosedReturn),
            ReceiptPlan::AlreadyReceived => (None, OrderOutcome::AlreadyReceived),
        };
        outcomes.push(outcome);
        if let Some((transition, action)) = planned {
            changes.push(PlannedChange {
                order_id: order.id,
                order_no: order.order_no.clone(),
                expected_version: order.version,
                transition,
                stamps: Stamps { received: Some((at, actor.operator.clone())), ..Stamps::default() },
                action,
            });
        }
    }
    let written = if changes.is_empty() {
        Vec::new()
    } else {
        store.receive_parcel(&ParcelReceipt { waybill: waybill.clone(), at, changes }, actor).await?
    };
    let cards: Vec<IntakeOrder> = orders
        .iter()
        .zip(&outcomes)
        .map(|(o, outcome)| {
            let current = written.iter().find(|w| w.id == o.id).unwrap_or(o);
            card(current, *outcome)
        })
        .collect();
    let result = if outcomes.contains(&OrderOutcome::Received) || outcomes.contains(&OrderOutcome::ReceivedOnHold) {
        IntakeResult::Matched
    } else if outcomes.contains(&OrderOutcome::HeldUnpaid) {
        IntakeResult::Unpaid
    } else if outcomes.contains(&OrderOutcome::ClosedReturn) {
        IntakeResult::Closed
    } else {
        IntakeResult::AlreadyReceived
    };
    let mut message = summary(result, &waybill, &cards);
    if let Some(note) = note {
        message = format!("{note}；{message}");
    }
    Ok(IntakeOutcome { result, waybill: Some(waybill.to_string()), message, orders: cards })
}

fn card(o: &Order, outcome: OrderOutcome) -> IntakeOrder {
    IntakeOrder {
        order_no: o.order_no.to_string(),
        outcome,
        status: o.status.code().to_string(),
        status_label: o.status.label().to_string(),
        company: o.company.clone(),
        holder: mask::name(&o.holder_name),
        contact_phone: mask::phone(&o.contact_phone),
        key_serial: o.key_serial.to_string(),
        cert_not_after: o.cert.not_after,
        paid: o.paid_at.is_some(),
        docs_approved: o.handler.docs_approved,
        received_at: o.received_at,
        received_by: o.received_by.clone(),
    }
}

fn summary(result: IntakeResult, waybill: &Waybill, cards: &[IntakeOrder]) -> String {
    let n = cards.len();
    let keys = if n > 1 { format!("（一个包裹 {n} 个 KEY）") } else { String::new() };
    match result {
        IntakeResult::Matched => format!("运单 {waybill} 已收件{keys}"),
        IntakeResult::Unpaid => format!("运单 {waybill} 的订单未支付：已登记收件并挂起{keys}"),
        IntakeResult::Closed => format!("运单 {waybill} 的订单已取消或退款：已登记收件，KEY 需寄回{keys}"),
        IntakeResult::AlreadyReceived => {
            let first =
                cards.iter().find_map(|c| c.received_at.map(|t| (t, c.received_by.clone().unwrap_or_default())));
            match first {
                Some((at, by)) => format!("运单 {waybill} 已于 {} 由 {by} 收件{keys}", local(at)),
                None => format!("运单 {waybill} 的订单已在处理中{keys}"),
            }
        }
        _ => String::new(),
    }
}

/// A time as the desk reads it: Beijing time, to the minute.
pub fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&crate::domain::BEIJING).format("%Y-%m-%d %H:%M").to_string()
}

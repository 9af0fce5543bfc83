//! What the endpoint sends about an order, as JSON and for the page: status, timeline, waybills, the
//! promised return, the invoice. Built from the member view only, so nothing unmasked can slip in.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use crate::domain::member::{MemberOrder, Step};
use crate::domain::{Carrier, BEIJING};
use crate::sla::{ClockEvents, ClockRules, Policy};

/// A code with the platform's label.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Labelled {
    pub code: &'static str,
    pub label: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderJson {
    pub order_no: String,
    pub kind: Labelled,
    pub status: Labelled,
    /// Why the order waits (异常挂起), when it does.
    pub hold: Option<Labelled>,
    pub holder: String,
    pub contact_phone: String,
    pub ship_region: String,
    pub timeline: Vec<StepJson>,
    pub inbound: WaybillJson,
    pub outbound: Option<WaybillJson>,
    pub promise: Promise,
    pub invoice: InvoiceJson,
    pub can_confirm_receipt: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepJson {
    pub step: &'static str,
    pub label: &'static str,
    pub done: bool,
    pub at: Option<DateTime<FixedOffset>>,
    /// The return waybill, on the `shipped` step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waybill: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaybillJson {
    pub carrier: String,
    pub waybill: Option<String>,
    /// Whether the member may still enter or correct it.
    pub editable: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvoiceJson {
    pub status: Labelled,
    pub available: bool,
    pub number: Option<String>,
    /// Add `?phone_tail=NNNN`.
    pub href: Option<String>,
}

/// The promised return of the key: the close of the second working day after the key was received
/// (and paid), counted on the national calendar with its adjusted weekends. This is the original due
/// instant, before any hold: what the member was promised. `due_at` is null until the clock starts, or
/// when no calendar covers the date (`due_at_status` says which) — never a guessed date.
#[derive(Debug, Clone, Serialize)]
pub struct Promise {
    pub text: &'static str,
    pub working_days: u32,
    /// When the clock starts: the key's receipt at the desk.
    pub received_at: Option<DateTime<FixedOffset>>,
    pub due_at: Option<DateTime<FixedOffset>>,
    /// `scheduled`, `not_started` (the key is not at the desk yet) or `no_calendar`.
    pub due_at_status: &'static str,
}

pub const PROMISE_TEXT: &str = "收到 KEY 后两个工作日内寄回";

/// The one place the promise is computed.
pub fn promise(order: &MemberOrder, rules: &ClockRules) -> Promise {
    let starts = ClockEvents::starts_when_all_happened(&[order.received_at.map(beijing), order.paid_at.map(beijing)]);
    let (due_at, due_at_status) = match starts {
        None => (None, "not_started"),
        Some(starts) => {
            let latest = starts.iter().copied().max();
            let events = ClockEvents { policy: Policy::Return, starts, pauses: vec![], stop: None };
            match latest.map(|at| rules.schedule(&events, at)) {
                Some(Ok(schedule)) => (Some(schedule.original_due_at), "scheduled"),
                _ => (None, "no_calendar"),
            }
        }
    };
    Promise { text: PROMISE_TEXT, working_days: rules.working_days(Policy::Return), received_at: order.received_at.map(beijing), due_at, due_at_status }
}

pub fn beijing(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&BEIJING)
}

pub fn order_json(o: &MemberOrder, rules: &ClockRules) -> OrderJson {
    let timeline = o
        .timeline()
        .into_iter()
        .map(|s| StepJson {
            step: s.step.code(),
            label: s.step.label(),
            done: s.done,
            at: s.at.map(beijing),
            waybill: (s.step == Step::Shipped).then(|| o.outbound_waybill.clone()).flatten(),
        })
        .collect();
    OrderJson {
        order_no: o.order_no.to_string(),
        kind: Labelled { code: o.kind.code(), label: o.kind.label() },
        status: Labelled { code: o.status.code(), label: o.status.label() },
        hold: o.hold_reason.map(|r| Labelled { code: r.code(), label: r.label() }),
        holder: o.holder_masked.clone(),
        contact_phone: o.phone_masked.clone(),
        ship_region: o.ship_region.clone(),
        timeline,
        inbound: WaybillJson {
            carrier: o.inbound_carrier.clone(),
            waybill: o.inbound_waybill.clone(),
            editable: o.may_set_inbound_waybill().is_ok(),
        },
        outbound: o.outbound_waybill.as_ref().map(|w| WaybillJson {
            carrier: Carrier::Sf.label().to_string(),
            waybill: Some(w.clone()),
            editable: false,
        }),
        promise: promise(o, rules),
        invoice: InvoiceJson {
            status: Labelled { code: o.invoice_status.code(), label: o.invoice_status.label() },
            available: o.invoice_number.is_some(),
            number: o.invoice_number.clone(),
            href: o.invoice_number.as_ref().map(|_| format!("/api/v1/orders/{}/invoice.pdf", o.order_no)),
        },
        can_confirm_receipt: o.may_confirm_receipt(),
    }
}

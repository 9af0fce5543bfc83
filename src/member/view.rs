//! What the endpoint sends about an order, as JSON and for the page: status, timeline, waybills, the
//! promised return, the invoice. Built from the member view only, so nothing unmasked can slip in.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use crate::domain::member::{MemberOrder, Step};
use crate::domain::{Carrier, BEIJING};
use crate::ops::member::promise;
pub use crate::ops::member::Promise;
use crate::sla::ClockRules;

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
    /// The notices sent or waiting for this order (SMS and e-mail), oldest first: on the page only
    /// (the JSON lookup stays one read of the member view).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<NoticeJson>,
    /// The channels the member opted out of (on the page only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub opted_out: Vec<crate::domain::notice::Channel>,
}

/// One notice on the member's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeJson {
    pub kind: crate::domain::notice::NoticeKind,
    pub label: &'static str,
    pub channel: crate::domain::notice::Channel,
    pub state: crate::domain::notice::NoticeState,
    pub at: DateTime<FixedOffset>,
}

impl OrderJson {
    /// Adds the order's notices and opt-outs.
    pub fn with_notices(
        mut self,
        notices: &[crate::store::MemberNotice],
        opted_out: Vec<crate::domain::notice::Channel>,
    ) -> OrderJson {
        self.notices = notices
            .iter()
            .map(|n| NoticeJson {
                kind: n.kind,
                label: n.kind.label(),
                channel: n.channel,
                state: n.state,
                at: beijing(n.sent_at.unwrap_or(n.created_at)),
            })
            .collect();
        self.opted_out = opted_out;
        self
    }
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
        status: Labelled { code: o.status.code(), label: o.status_label() },
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
        notices: Vec::new(),
        opted_out: Vec::new(),
    }
}

//! What a member may see of their order and may do to it: the member view of an order (no personal
//! data but masked name and phone, the region and the phone tail used as the key), its timeline, and
//! the two member actions' rules — entering or correcting the inbound SF waybill before the parcel is
//! received, and confirming receipt (确认收货) of a shipped key, once.

use chrono::{DateTime, Utc};

use super::order::Transition;
use super::{HoldReason, InvoiceStatus, OrderKind, OrderNo, Status, Waybill};

/// An order as the member view (`member_orders`) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberOrder {
    pub id: i64,
    pub version: i64,
    pub order_no: OrderNo,
    pub kind: OrderKind,
    pub status: Status,
    pub hold_reason: Option<HoldReason>,
    pub invoice_status: InvoiceStatus,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    /// The last four digits of the contact phone: compared, never shown.
    pub phone_tail: String,
    pub holder_masked: String,
    pub phone_masked: String,
    pub ship_region: String,
    pub inbound_carrier: String,
    /// As the member typed it.
    pub inbound_waybill: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    pub renewing_at: Option<DateTime<Utc>>,
    pub renewed_at: Option<DateTime<Utc>>,
    pub outbound_waybill: Option<String>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The number of the stored invoice document, when one was issued.
    pub invoice_number: Option<String>,
    /// When SF delivered the returned key (route op 80), when known.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// One step of the timeline a member sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineStep {
    pub step: Step,
    pub done: bool,
    /// When the step happened, if the desk recorded it.
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Paid,
    Received,
    Renewing,
    Renewed,
    Shipped,
    /// SF delivered the returned key (known from SF's routes only).
    Delivered,
    Completed,
}

impl Step {
    pub const ALL: [Step; 7] =
        [Step::Paid, Step::Received, Step::Renewing, Step::Renewed, Step::Shipped, Step::Delivered, Step::Completed];

    pub fn code(self) -> &'static str {
        match self {
            Step::Paid => "paid",
            Step::Received => "received",
            Step::Renewing => "renewing",
            Step::Renewed => "renewed",
            Step::Shipped => "shipped",
            Step::Delivered => "delivered",
            Step::Completed => "completed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Step::Paid => "已支付",
            Step::Received => "已收到 KEY",
            Step::Renewing => "续签中",
            Step::Renewed => "已续签",
            Step::Shipped => "已寄回",
            Step::Delivered => "已签收",
            Step::Completed => "交易完成",
        }
    }

    /// The step an order in this status has reached on the ordinary path (none for unpaid).
    fn reached_by(status: Status) -> Option<Step> {
        match status {
            Status::Paid => Some(Step::Paid),
            Status::Received => Some(Step::Received),
            Status::Renewing => Some(Step::Renewing),
            Status::Renewed => Some(Step::Renewed),
            Status::Shipped => Some(Step::Shipped),
            Status::Completed => Some(Step::Completed),
            _ => None,
        }
    }
}

/// Why a member action is refused; nothing is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MemberRefusal {
    #[error("KEY 已签收，寄件运单不能再修改")]
    AlreadyReceived,
    #[error("订单已关闭，不能修改")]
    Closed,
    #[error("订单尚未寄回，不能确认收货")]
    NotShipped,
    #[error("已确认收货，无需重复确认")]
    AlreadyCompleted,
}

impl MemberRefusal {
    pub fn code(self) -> &'static str {
        match self {
            MemberRefusal::AlreadyReceived => "already_received",
            MemberRefusal::Closed => "order_closed",
            MemberRefusal::NotShipped => "not_shipped",
            MemberRefusal::AlreadyCompleted => "already_completed",
        }
    }
}

impl MemberOrder {
    /// Whether the phone tail a member gave opens this order, compared in constant time.
    pub fn opens_with(&self, tail: &[u8; 4]) -> bool {
        tails_match(self.phone_tail.as_bytes(), tail)
    }

    /// The status as the member reads it: a shipped key SF has delivered is 已签收 (waiting for the
    /// member's 确认收货, or for the automatic one).
    pub fn status_label(&self) -> &'static str {
        match (self.status, self.delivered_at) {
            (Status::Shipped, Some(_)) => "已签收",
            (status, _) => status.label(),
        }
    }

    /// The timeline: each step done or not, with its time when known.
    pub fn timeline(&self) -> Vec<TimelineStep> {
        let reached = Step::reached_by(self.status);
        Step::ALL
            .into_iter()
            .map(|step| {
                let at = match step {
                    Step::Paid => self.paid_at,
                    Step::Received => self.received_at,
                    Step::Renewing => self.renewing_at,
                    Step::Renewed => self.renewed_at,
                    Step::Shipped => self.shipped_at,
                    Step::Delivered => self.delivered_at,
                    Step::Completed => self.completed_at,
                };
                // On hold or closed, the recorded times tell what happened. Delivery is known only
                // from SF: a completed order passed it, but it is done before then only when SF said so.
                let passed = match step {
                    Step::Delivered => reached.is_some_and(|r| r > step),
                    _ => reached.is_some_and(|r| step <= r),
                };
                let done = passed || at.is_some();
                TimelineStep { step, done, at }
            })
            .collect()
    }

    /// The member may enter or correct the SF waybill of the parcel they sent until it is received.
    pub fn may_set_inbound_waybill(&self) -> Result<(), MemberRefusal> {
        if self.received_at.is_some() {
            return Err(MemberRefusal::AlreadyReceived);
        }
        match self.status {
            Status::Unpaid | Status::Paid | Status::OnHold => Ok(()),
            Status::Received | Status::Renewing | Status::Renewed | Status::Shipped | Status::Completed => {
                Err(MemberRefusal::AlreadyReceived)
            }
            Status::Cancelled | Status::Refunding | Status::Refunded => Err(MemberRefusal::Closed),
        }
    }

    /// Whether `waybill` differs from what the member entered before.
    pub fn inbound_differs(&self, waybill: &Waybill) -> bool {
        self.inbound_waybill.as_deref().and_then(|w| Waybill::parse(w).ok()).as_ref() != Some(waybill)
    }

    /// 确认收货: a shipped order becomes completed, once.
    pub fn plan_confirm_receipt(&self) -> Result<Transition, MemberRefusal> {
        match self.status {
            Status::Shipped => Ok(Transition {
                from: Status::Shipped,
                to: Status::Completed,
                hold: None,
                reason: "会员确认收货".into(),
            }),
            Status::Completed => Err(MemberRefusal::AlreadyCompleted),
            s if s.is_closed() || matches!(s, Status::Refunding) => Err(MemberRefusal::Closed),
            _ => Err(MemberRefusal::NotShipped),
        }
    }

    pub fn may_confirm_receipt(&self) -> bool {
        self.plan_confirm_receipt().is_ok()
    }
}

/// Compares a stored tail with a given one without an early exit; a stored tail that is not four bytes
/// (a phone with fewer than four digits) never matches, after the same work.
pub fn tails_match(stored: &[u8], given: &[u8; 4]) -> bool {
    let mut padded = [0xFFu8; 4];
    for (slot, byte) in padded.iter_mut().zip(stored) {
        *slot = *byte;
    }
    let mut diff = u8::from(stored.len() != 4);
    for (a, b) in padded.iter().zip(given) {
        diff |= a ^ b;
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(status: Status) -> MemberOrder {
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 2, 2, 0, 0).unwrap();
        MemberOrder {
            id: 1,
            version: 1,
            order_no: OrderNo::parse("0000250427000004").unwrap(),
            kind: OrderKind::MailBack,
            status,
            hold_reason: None,
            invoice_status: InvoiceStatus::Pending,
            created_at: at,
            paid_at: Some(at),
            phone_tail: "6015".into(),
            holder_masked: "秦**".into(),
            phone_masked: "188****6015".into(),
            ship_region: "北京市市辖区丰台区".into(),
            inbound_carrier: "顺丰速运".into(),
            inbound_waybill: Some("SF1234567890123".into()),
            received_at: None,
            renewing_at: None,
            renewed_at: None,
            outbound_waybill: None,
            shipped_at: None,
            completed_at: None,
            invoice_number: None,
            delivered_at: None,
        }
    }

    #[test]
    fn the_tail_must_match_exactly() {
        let o = sample(Status::Paid);
        assert!(o.opens_with(b"6015"));
        assert!(!o.opens_with(b"6016"));
        assert!(!tails_match(b"601", b"601\xFF"), "a short stored tail never matches");
        assert!(!tails_match(b"", b"\xFF\xFF\xFF\xFF"));
    }

    #[test]
    fn timeline_follows_the_status_and_recorded_times() {
        let mut o = sample(Status::Shipped);
        let done = |o: &MemberOrder| o.timeline().iter().map(|s| s.done).collect::<Vec<bool>>();
        // Shipped: delivered only once SF says so, and then 已签收 to the member.
        assert_eq!(done(&o), [true, true, true, true, true, false, false]);
        assert_eq!(o.status_label(), "待收货");
        o.delivered_at = Some(o.created_at);
        assert_eq!(done(&o), [true, true, true, true, true, true, false]);
        assert_eq!(o.status_label(), "已签收");
        // Completed without a delivery SF reported: the step was passed all the same.
        o.delivered_at = None;
        o.status = Status::Completed;
        assert_eq!(done(&o), [true; 7]);
        assert_eq!(o.status_label(), "交易完成");
        o.status = Status::OnHold;
        o.received_at = Some(o.created_at);
        assert_eq!(done(&o), [true, true, false, false, false, false, false]);
    }

    #[test]
    fn inbound_waybill_only_before_receipt_and_confirm_only_once() {
        assert_eq!(sample(Status::Paid).may_set_inbound_waybill(), Ok(()));
        assert_eq!(sample(Status::Received).may_set_inbound_waybill(), Err(MemberRefusal::AlreadyReceived));
        assert_eq!(sample(Status::Cancelled).may_set_inbound_waybill(), Err(MemberRefusal::Closed));
        assert!(sample(Status::Shipped).plan_confirm_receipt().is_ok());
        assert_eq!(sample(Status::Completed).plan_confirm_receipt(), Err(MemberRefusal::AlreadyCompleted));
        assert_eq!(sample(Status::Renewed).plan_confirm_receipt(), Err(MemberRefusal::NotShipped));
        let o = sample(Status::Paid);
        assert!(!o.inbound_differs(&Waybill::parse("sf1234567890123").unwrap()));
        assert!(o.inbound_differs(&Waybill::parse("SF1234567890124").unwrap()));
    }
}

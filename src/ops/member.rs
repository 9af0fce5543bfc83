//! The member's use cases, for every face that serves members (the HTTP endpoint today): look an order
//! up with the last four digits of its contact phone, enter or correct the inbound SF waybill, confirm
//! receipt, fetch the invoice document. The phone tail is the key to an order: an unknown order and a
//! wrong tail are the same [`MemberError::NotFound`], reached after the same work (one lookup, one
//! constant-time comparison). Rate limiting belongs to the face, which knows the client.

use crate::clock::Clock;
use crate::domain::member::{MemberOrder, MemberRefusal};
use crate::domain::order_no::OrderNoError;
use crate::domain::waybill::WaybillError;
use crate::domain::BEIJING;
use crate::domain::{Carrier, OrderNo, Waybill};
use crate::sla::{ClockEvents, ClockRules, Policy};
use crate::store::{Actor, InvoiceDocument, MemberAction, MemberChange, Store, StoreError};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;

/// The last four digits of the contact phone, as a member typed them (full-width digits accepted).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PhoneTail([u8; 4]);

impl PhoneTail {
    pub fn parse(raw: &str) -> Result<PhoneTail, MemberError> {
        let mut out = [0u8; 4];
        let mut n = 0;
        for c in raw.trim().chars() {
            let digit = match c {
                '0'..='9' => c as u32 - '0' as u32,
                '０'..='９' => c as u32 - '０' as u32,
                _ => return Err(MemberError::InvalidPhoneTail),
            };
            if n == 4 {
                return Err(MemberError::InvalidPhoneTail);
            }
            out[n] = b'0' + digit as u8;
            n += 1;
        }
        if n != 4 {
            return Err(MemberError::InvalidPhoneTail);
        }
        Ok(PhoneTail(out))
    }
}

impl std::fmt::Debug for PhoneTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneTail(****)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    #[error("订单号格式不正确：{0}")]
    InvalidOrderNo(#[from] OrderNoError),
    #[error("请填写手机号后四位（4 位数字）")]
    InvalidPhoneTail,
    /// Unknown order or wrong phone tail: deliberately one answer.
    #[error("订单号或手机号后四位不正确")]
    NotFound,
    #[error("{0}")]
    Refused(#[from] MemberRefusal),
    #[error("{0}")]
    Waybill(#[from] WaybillError),
    #[error("发票尚未开具")]
    InvoiceNotIssued,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who acts in the audit log: every member action is recorded like a staff action.
pub fn member_actor(client: &str) -> Actor {
    Actor { operator: "member".into(), desk: format!("member-web {client}") }
}

/// The order behind a number and a phone tail, or `NotFound` after the same work either way.
pub async fn look_up(store: &dyn Store, no: &OrderNo, tail: &PhoneTail) -> Result<MemberOrder, MemberError> {
    let found = store.member_order(no).await?;
    // An unknown order is compared against a tail that never matches, so both paths do the same work.
    let opens = match &found {
        Some(order) => order.opens_with(&tail.0),
        None => {
            let _ = crate::domain::member::tails_match(b"\xFF\xFF\xFF\xFF", &tail.0);
            false
        }
    };
    match found {
        Some(order) if opens => Ok(order),
        _ => Err(MemberError::NotFound),
    }
}

/// The member enters or corrects the SF waybill of the parcel they sent, before it is received.
/// Entering the same waybill again changes nothing.
pub async fn set_inbound_waybill(
    store: &dyn Store,
    no: &OrderNo,
    tail: &PhoneTail,
    raw: &str,
    client: &str,
    clock: &Clock,
) -> Result<MemberOrder, MemberError> {
    let order = look_up(store, no, tail).await?;
    let waybill = Waybill::parse(raw)?;
    order.may_set_inbound_waybill()?;
    if !order.inbound_differs(&waybill) {
        return Ok(order);
    }
    let before = order.inbound_waybill.clone().unwrap_or_else(|| "无".into());
    let change = MemberChange {
        order_id: order.id,
        order_no: order.order_no.clone(),
        expected_version: order.version,
        action: MemberAction::InboundWaybill {
            status: order.status,
            carrier: Carrier::Sf.label().to_string(),
            raw: waybill.as_str().to_string(),
            waybill: waybill.clone(),
        },
        reason: format!("会员填写寄件运单 {waybill}（原 {before}）"),
    };
    store.apply_member_change(&change, &member_actor(client), clock.now()).await?;
    reread(store, no, tail).await
}

/// 确认收货: a shipped order becomes completed, once.
pub async fn confirm_receipt(
    store: &dyn Store,
    no: &OrderNo,
    tail: &PhoneTail,
    client: &str,
    clock: &Clock,
) -> Result<MemberOrder, MemberError> {
    let order = look_up(store, no, tail).await?;
    let transition = order.plan_confirm_receipt()?;
    let change = MemberChange {
        order_id: order.id,
        order_no: order.order_no.clone(),
        expected_version: order.version,
        reason: transition.reason.clone(),
        action: MemberAction::Status(transition),
    };
    match store.apply_member_change(&change, &member_actor(client), clock.now()).await {
        Ok(()) => reread(store, no, tail).await,
        // Confirmed twice at once: the loser finds the order completed and says so.
        Err(StoreError::Conflict { order_no }) => {
            reread(store, no, tail).await?.plan_confirm_receipt()?;
            Err(StoreError::Conflict { order_no }.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The order's notices as the member sees them, and the channels the member opted out of.
pub async fn notices(
    store: &dyn Store,
    order: &MemberOrder,
) -> Result<(Vec<crate::store::MemberNotice>, Vec<crate::domain::notice::Channel>), MemberError> {
    Ok((store.member_notices(order.id).await?, store.opt_outs(order.id).await?))
}

/// 退订: the member stops one channel's notices for this order (notices not yet sent on it are
/// skipped). Doing it again changes nothing.
pub async fn opt_out(
    store: &dyn Store,
    no: &OrderNo,
    tail: &PhoneTail,
    channel: crate::domain::notice::Channel,
    clock: &Clock,
) -> Result<MemberOrder, MemberError> {
    let order = look_up(store, no, tail).await?;
    store.opt_out(order.id, channel, clock.now()).await?;
    Ok(order)
}

/// The stored invoice document of the order.
pub async fn invoice(
    store: &dyn Store,
    no: &OrderNo,
    tail: &PhoneTail,
) -> Result<(MemberOrder, InvoiceDocument), MemberError> {
    let order = look_up(store, no, tail).await?;
    let document = store.invoice_document(order.id).await?.ok_or(MemberError::InvoiceNotIssued)?;
    Ok((order, document))
}

async fn reread(store: &dyn Store, no: &OrderNo, tail: &PhoneTail) -> Result<MemberOrder, MemberError> {
    look_up(store, no, tail).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received_at(at: &str) -> MemberOrder {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        MemberOrder {
            id: 1,
            version: 1,
            order_no: OrderNo::parse("0000261121000001").unwrap(),
            kind: crate::domain::OrderKind::MailBack,
            status: crate::domain::Status::Received,
            hold_reason: None,
            invoice_status: crate::domain::InvoiceStatus::NotRequested,
            created_at: t("2026-11-21T10:00:00+08:00"),
            paid_at: Some(t("2026-11-21T10:05:00+08:00")),
            phone_tail: "6015".into(),
            holder_masked: "秦**".into(),
            phone_masked: "159****6015".into(),
            ship_region: "北京市".into(),
            inbound_carrier: "顺丰".into(),
            inbound_waybill: Some("SF1402000000000".into()),
            received_at: Some(t(at)),
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
    fn a_deadline_on_a_provisional_calendar_is_not_promised_as_a_date() {
        let rules = ClockRules::load(&crate::sla::SlaSettings::default()).unwrap();
        let settled = promise(&received_at("2026-12-28T10:00:00+08:00"), &rules);
        assert_eq!(
            (settled.due_at_status, settled.due_at.map(|d| d.to_rfc3339())),
            ("scheduled", Some("2026-12-30T17:30:00+08:00".into()))
        );
        // Received 31 December: the deadline falls in 2027, whose notice is not out — no date is promised.
        let provisional = promise(&received_at("2026-12-31T10:00:00+08:00"), &rules);
        assert_eq!((provisional.due_at_status, provisional.due_at), ("provisional", None));
    }

    #[test]
    fn phone_tail_is_four_digits() {
        assert!(PhoneTail::parse("6015").is_ok());
        assert!(PhoneTail::parse(" ６０１５ ").is_ok());
        for bad in ["", "601", "60150", "60a5", "6 015"] {
            assert!(PhoneTail::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(format!("{:?}", PhoneTail::parse("6015").unwrap()), "PhoneTail(****)");
    }
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
    /// `scheduled`, `not_started` (the key is not at the desk yet), `provisional` (the deadline falls in a
    /// year whose holiday notice is not out: no date is promised until it is) or `no_calendar`.
    pub due_at_status: &'static str,
}

pub const PROMISE_TEXT: &str = "收到 KEY 后两个工作日内寄回";

/// The one place the promise is computed.
pub fn promise(order: &MemberOrder, rules: &ClockRules) -> Promise {
    let starts = ClockEvents::starts_when_all_happened(&[
        order.received_at.map(|t| t.with_timezone(&BEIJING)),
        order.paid_at.map(|t| t.with_timezone(&BEIJING)),
    ]);
    let (due_at, due_at_status) = match starts {
        None => (None, "not_started"),
        Some(starts) => {
            let latest = starts.iter().copied().max();
            let events = ClockEvents { policy: Policy::Return, starts, pauses: vec![], stop: None };
            match latest.map(|at| rules.schedule(&events, at)) {
                // A date on a provisional calendar is not a promise: it is confirmed once the notice is out.
                Some(Ok(schedule)) if schedule.provisional_calendar => (None, "provisional"),
                Some(Ok(schedule)) => (Some(schedule.original_due_at), "scheduled"),
                _ => (None, "no_calendar"),
            }
        }
    };
    Promise {
        text: PROMISE_TEXT,
        working_days: rules.working_days(Policy::Return),
        received_at: order.received_at.map(|t| t.with_timezone(&BEIJING)),
        due_at,
        due_at_status,
    }
}

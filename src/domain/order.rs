//! The renewal order as the desk sees it, and the rules for changing its status: every change is
//! planned here as a [`Transition`] (from, to, reason), checked against the order's facts, and only then
//! written by the store together with its audit row.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{HoldReason, InvoiceStatus, Money, OrderNo, Status, Waybill};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// 寄回续签: the member mails the key to the desk.
    MailBack,
    /// 自行续签: renewed online by the member; the desk only sees it in lists.
    SelfService,
}

impl OrderKind {
    pub fn code(self) -> &'static str {
        match self {
            OrderKind::MailBack => "mail_back",
            OrderKind::SelfService => "self_service",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OrderKind::MailBack => "寄回续签",
            OrderKind::SelfService => "自行续签",
        }
    }

    pub fn from_code(code: &str) -> Option<OrderKind> {
        [OrderKind::MailBack, OrderKind::SelfService].into_iter().find(|k| k.code() == code)
    }
}

/// The seals a certificate carries: before 2021-12-17 only the company seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SealKind {
    Single,
    Dual,
}

impl SealKind {
    pub fn code(self) -> &'static str {
        match self {
            SealKind::Single => "single",
            SealKind::Dual => "dual",
        }
    }

    pub fn from_code(code: &str) -> Option<SealKind> {
        [SealKind::Single, SealKind::Dual].into_iter().find(|k| k.code() == code)
    }
}

/// The certificate currently on the member's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub serial: String,
    pub subject: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub seal: SealKind,
}

/// The person who handles the renewal for the company (办理人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handler {
    pub name: String,
    pub phone: String,
    pub id_number: String,
    pub docs_approved: bool,
}

/// The parcel the member sent in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbound {
    pub carrier: String,
    /// As the member typed it; `None` until a waybill was entered.
    pub waybill: Option<String>,
}

/// Where the renewed key goes back (收货信息).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipTo {
    pub name: String,
    pub phone: String,
    pub region: String,
    pub address: String,
}

/// The buyer's details for the VAT invoice.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InvoiceDetails {
    pub title: String,
    pub tax_id: String,
    #[serde(default)]
    pub bank: String,
    #[serde(default)]
    pub bank_account: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

/// An order on hold: why, and the status it returns to on release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub reason: HoldReason,
    pub resume_to: Status,
    pub note: String,
}

/// The order as stored: the platform's facts plus what happened at the desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: i64,
    /// Bumped by every change; a change names the version it was planned on.
    pub version: i64,
    pub order_no: OrderNo,
    pub platform_order_no: Option<String>,
    pub kind: OrderKind,
    pub term_years: u32,
    pub amount: Money,
    pub status: Status,
    pub hold: Option<Hold>,
    pub invoice_status: InvoiceStatus,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub docs_approved_at: Option<DateTime<Utc>>,
    pub account: String,
    pub holder_name: String,
    pub company: String,
    pub contact_phone: String,
    pub key_serial: super::KeySerial,
    pub cert: Certificate,
    pub handler: Handler,
    pub inbound: Inbound,
    pub ship_to: ShipTo,
    pub invoice: InvoiceDetails,
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: Option<String>,
    pub outbound_waybill: Option<Waybill>,
    pub shipped_at: Option<DateTime<Utc>>,
    /// When SF picked up the returned key (route op 50, the earliest), when SF's routes said so.
    pub picked_up_at: Option<DateTime<Utc>>,
    /// When SF delivered it (route op 80, the earliest).
    pub delivered_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A change someone asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An ordinary move along the state machine.
    MoveTo(Status),
    /// Put on hold; `resume_to` defaults to the current status.
    Hold { reason: HoldReason, resume_to: Option<Status> },
    /// Release a hold back to the status it was taken from.
    Release,
}

/// A checked change, ready to be written with its audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub from: Status,
    pub to: Status,
    pub hold: Option<Hold>,
    pub reason: String,
}

/// What a scanned parcel does to one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptPlan {
    /// Paid and waiting: the order moves to received.
    Receive(Transition),
    /// Unpaid: the receipt is recorded and the order held until payment.
    HoldUnpaid(Transition),
    /// Already on hold: the receipt is recorded and the hold stays.
    ReceiveOnHold(Transition),
    /// Cancelled or refunded: the receipt is recorded; the key goes back.
    Closed(Transition),
    /// The key was received before.
    AlreadyReceived,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("订单状态为「{}」，不能改为「{}」 ({from} → {to} is not allowed)", from.label(), to.label())]
    NotAllowed { from: Status, to: Status },
    #[error("订单状态为「{}」，不能挂起", .0.label())]
    CannotHold(Status),
    #[error("订单未挂起，无需解除")]
    NotOnHold,
    #[error("订单尚未支付，不能转为「{}」", .0.label())]
    NotPaid(Status),
    #[error("请填写原因 (a reason is required)")]
    ReasonRequired,
}

impl Order {
    /// Plans a change: checks it against the state machine and the order's facts.
    pub fn plan(&self, change: &Change, reason: &str) -> Result<Transition, TransitionError> {
        let reason = reason.trim().to_string();
        match change {
            Change::MoveTo(to) => {
                if !self.status.may_move_to(*to) {
                    return Err(TransitionError::NotAllowed { from: self.status, to: *to });
                }
                if needs_payment(*to) && self.paid_at.is_none() && *to != Status::Paid {
                    return Err(TransitionError::NotPaid(*to));
                }
                if matches!(to, Status::Cancelled | Status::Refunding) && reason.is_empty() {
                    return Err(TransitionError::ReasonRequired);
                }
                if self.status == Status::OnHold && *to == Status::Cancelled && self.paid_at.is_some() {
                    return Err(TransitionError::NotAllowed { from: self.status, to: *to });
                }
                Ok(Transition { from: self.status, to: *to, hold: None, reason })
            }
            Change::Hold { reason: why, resume_to } => {
                if !self.status.may_hold() {
                    return Err(TransitionError::CannotHold(self.status));
                }
                Ok(Transition {
                    from: self.status,
                    to: Status::OnHold,
                    hold: Some(Hold {
                        reason: *why,
                        resume_to: resume_to.unwrap_or(self.status),
                        note: reason.clone(),
                    }),
                    reason: if reason.is_empty() { why.label().to_string() } else { reason },
                })
            }
            Change::Release => {
                let hold =
                    self.hold.as_ref().filter(|_| self.status == Status::OnHold).ok_or(TransitionError::NotOnHold)?;
                if needs_payment(hold.resume_to) && self.paid_at.is_none() {
                    return Err(TransitionError::NotPaid(hold.resume_to));
                }
                if reason.is_empty() {
                    return Err(TransitionError::ReasonRequired);
                }
                Ok(Transition { from: Status::OnHold, to: hold.resume_to, hold: None, reason })
            }
        }
    }

    /// What receiving this order's key at the desk means, given its status.
    pub fn plan_receipt(&self) -> ReceiptPlan {
        if self.received_at.is_some() {
            return ReceiptPlan::AlreadyReceived;
        }
        let note = |t: &str| t.to_string();
        match self.status {
            Status::Paid => ReceiptPlan::Receive(Transition {
                from: Status::Paid,
                to: Status::Received,
                hold: None,
                reason: note("收件"),
            }),
            Status::Unpaid => ReceiptPlan::HoldUnpaid(Transition {
                from: Status::Unpaid,
                to: Status::OnHold,
                hold: Some(Hold {
                    reason: HoldReason::UnpaidParcel,
                    resume_to: Status::Received,
                    note: note("包裹已到，订单未支付"),
                }),
                reason: note("收件：订单未支付，挂起"),
            }),
            // On hold before the parcel came (e.g. documents missing): the hold stays, and on release
            // the order continues as received.
            Status::OnHold => {
                let hold = self.hold.clone().map(|h| Hold {
                    resume_to: if matches!(h.resume_to, Status::Unpaid | Status::Paid) {
                        Status::Received
                    } else {
                        h.resume_to
                    },
                    ..h
                });
                ReceiptPlan::ReceiveOnHold(Transition {
                    from: Status::OnHold,
                    to: Status::OnHold,
                    hold,
                    reason: note("收件：订单挂起中"),
                })
            }
            Status::Cancelled | Status::Refunding | Status::Refunded => ReceiptPlan::Closed(Transition {
                from: self.status,
                to: self.status,
                hold: None,
                reason: note("收件：订单已关闭，KEY 需寄回"),
            }),
            Status::Received | Status::Renewing | Status::Renewed | Status::Shipped | Status::Completed => {
                ReceiptPlan::AlreadyReceived
            }
        }
    }

    /// Last four digits of the contact phone: what a member gives to see the order.
    pub fn phone_tail(&self) -> String {
        super::mask::phone_tail(&self.contact_phone)
    }
}

fn needs_payment(status: Status) -> bool {
    matches!(
        status,
        Status::Paid | Status::Received | Status::Renewing | Status::Renewed | Status::Shipped | Status::Refunding
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn sample_order() -> Order {
        let t = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 5, 50, 7).unwrap();
        Order {
            id: 1,
            version: 1,
            order_no: OrderNo::parse("0000250427000004").unwrap(),
            platform_order_no: Some("ZFS0000025042700004".into()),
            kind: OrderKind::MailBack,
            term_years: 1,
            amount: Money::parse("249.00").unwrap(),
            status: Status::Paid,
            hold: None,
            invoice_status: InvoiceStatus::Pending,
            created_at: t(2026, 3, 1),
            paid_at: Some(t(2026, 3, 1)),
            docs_approved_at: Some(t(2026, 3, 2)),
            account: "ystoub19".into(),
            holder_name: "秦晓明".into(),
            company: "北京巨蟹宫科技有限公司".into(),
            contact_phone: "18812346015".into(),
            key_serial: crate::domain::KeySerial::new("15510216518"),
            cert: Certificate {
                serial: "1A2B3C".into(),
                subject: "CN=051@巨蟹宫@ZS00000toubiaoluoy".into(),
                not_before: t(2025, 4, 27),
                not_after: t(2026, 4, 27),
                seal: SealKind::Dual,
            },
            handler: Handler {
                name: "秦晓明".into(),
                phone: "18812346015".into(),
                id_number: "110101199001011234".into(),
                docs_approved: true,
            },
            inbound: Inbound { carrier: "顺丰速运".into(), waybill: Some("SF1234567890123".into()) },
            ship_to: ShipTo {
                name: "秦晓明".into(),
                phone: "18812346015".into(),
                region: "北京市市辖区丰台区".into(),
                address: "丰台路 1 号".into(),
            },
            invoice: InvoiceDetails::default(),
            received_at: None,
            received_by: None,
            outbound_waybill: None,
            shipped_at: None,
            picked_up_at: None,
            delivered_at: None,
            updated_at: t(2026, 3, 2),
        }
    }

    #[test]
    fn hold_remembers_where_to_return() {
        let mut o = sample_order();
        o.status = Status::Received;
        let t = o.plan(&Change::Hold { reason: HoldReason::WrongKey, resume_to: None }, "寄错 KEY").unwrap();
        assert_eq!(t.to, Status::OnHold);
        assert_eq!(t.hold.as_ref().unwrap().resume_to, Status::Received);
        o.status = Status::OnHold;
        o.hold = t.hold;
        let back = o.plan(&Change::Release, "客户补寄正确 KEY").unwrap();
        assert_eq!(back.to, Status::Received);
    }

    #[test]
    fn unpaid_parcel_cannot_be_released_until_paid() {
        let mut o = sample_order();
        o.status = Status::OnHold;
        o.paid_at = None;
        o.hold = Some(Hold { reason: HoldReason::UnpaidParcel, resume_to: Status::Received, note: String::new() });
        assert_eq!(o.plan(&Change::Release, "ok"), Err(TransitionError::NotPaid(Status::Received)));
        o.paid_at = Some(o.created_at);
        assert_eq!(o.plan(&Change::Release, "已支付").unwrap().to, Status::Received);
    }

    #[test]
    fn receipt_depends_on_status() {
        let mut o = sample_order();
        assert!(matches!(o.plan_receipt(), ReceiptPlan::Receive(t) if t.to == Status::Received));
        o.status = Status::Unpaid;
        o.paid_at = None;
        match o.plan_receipt() {
            ReceiptPlan::HoldUnpaid(t) => {
                assert_eq!(t.to, Status::OnHold);
                assert_eq!(
                    t.hold.unwrap(),
                    Hold {
                        reason: HoldReason::UnpaidParcel,
                        resume_to: Status::Received,
                        note: "包裹已到，订单未支付".into()
                    }
                );
            }
            other => panic!("{other:?}"),
        }
        o.status = Status::Cancelled;
        assert!(matches!(o.plan_receipt(), ReceiptPlan::Closed(_)));
        o.received_at = Some(o.created_at);
        assert_eq!(o.plan_receipt(), ReceiptPlan::AlreadyReceived);
    }

    #[test]
    fn only_allowed_moves_succeed() {
        let o = sample_order();
        assert!(o.plan(&Change::MoveTo(Status::Received), "").is_ok());
        assert!(matches!(o.plan(&Change::MoveTo(Status::Shipped), ""), Err(TransitionError::NotAllowed { .. })));
        assert_eq!(o.plan(&Change::MoveTo(Status::Refunding), " "), Err(TransitionError::ReasonRequired));
        assert_eq!(o.plan(&Change::Release, "x"), Err(TransitionError::NotOnHold));
    }
}

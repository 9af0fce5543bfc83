//! The order's status with the platform's own labels, the reasons an order is put on hold, and the
//! separate invoice status. Which moves are allowed lives in [`Status::may_move_to`]; the order decides
//! the rest (holds and releases) in `order.rs`.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Unpaid,
    Paid,
    Received,
    Renewing,
    Renewed,
    Shipped,
    Completed,
    OnHold,
    Cancelled,
    Refunding,
    Refunded,
}

impl Status {
    pub const ALL: [Status; 11] = [
        Status::Unpaid,
        Status::Paid,
        Status::Received,
        Status::Renewing,
        Status::Renewed,
        Status::Shipped,
        Status::Completed,
        Status::OnHold,
        Status::Cancelled,
        Status::Refunding,
        Status::Refunded,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Unpaid => "unpaid",
            Status::Paid => "paid",
            Status::Received => "received",
            Status::Renewing => "renewing",
            Status::Renewed => "renewed",
            Status::Shipped => "shipped",
            Status::Completed => "completed",
            Status::OnHold => "on_hold",
            Status::Cancelled => "cancelled",
            Status::Refunding => "refunding",
            Status::Refunded => "refunded",
        }
    }

    /// The label the platform shows for this status.
    pub fn label(self) -> &'static str {
        match self {
            Status::Unpaid => "待支付",
            Status::Paid => "待处理",
            Status::Received => "已收件",
            Status::Renewing => "制作中",
            Status::Renewed => "已续签",
            Status::Shipped => "待收货",
            Status::Completed => "交易完成",
            Status::OnHold => "异常挂起",
            Status::Cancelled => "已取消",
            Status::Refunding => "退款中",
            Status::Refunded => "已退款",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the order is finished: nothing more happens to it at the desk.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Completed | Status::Cancelled | Status::Refunded)
    }

    /// Whether an order in this status can be put on hold.
    pub fn may_hold(self) -> bool {
        matches!(self, Status::Unpaid | Status::Paid | Status::Received | Status::Renewing | Status::Renewed)
    }

    /// The ordinary moves between statuses (holds and releases are decided by the order).
    pub fn may_move_to(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Unpaid, Paid)
                | (Unpaid, Cancelled)
                | (Paid, Received)
                | (Paid, Refunding)
                | (Received, Renewing)
                | (Received, Refunding)
                | (Renewing, Renewed)
                | (Renewing, Received)
                | (Renewed, Shipped)
                | (Shipped, Completed)
                | (Refunding, Refunded)
                | (OnHold, Cancelled)
                | (OnHold, Refunding)
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::from_code(s.trim()).ok_or_else(|| {
            let codes: Vec<&str> = Status::ALL.iter().map(|s| s.code()).collect();
            format!("unknown status {s:?}; expected one of {}", codes.join(", "))
        })
    }
}

/// Why an order is on hold (异常挂起).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    WrongKey,
    PinLocked,
    PinUnknown,
    DocumentsMissing,
    UnpaidParcel,
    NotRenewable,
    RenewalFailed,
    AddressChange,
    Other,
}

impl HoldReason {
    pub const ALL: [HoldReason; 9] = [
        HoldReason::WrongKey,
        HoldReason::PinLocked,
        HoldReason::PinUnknown,
        HoldReason::DocumentsMissing,
        HoldReason::UnpaidParcel,
        HoldReason::NotRenewable,
        HoldReason::RenewalFailed,
        HoldReason::AddressChange,
        HoldReason::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            HoldReason::WrongKey => "wrong_key",
            HoldReason::PinLocked => "pin_locked",
            HoldReason::PinUnknown => "pin_unknown",
            HoldReason::DocumentsMissing => "documents_missing",
            HoldReason::UnpaidParcel => "unpaid_parcel",
            HoldReason::NotRenewable => "not_renewable",
            HoldReason::RenewalFailed => "renewal_failed",
            HoldReason::AddressChange => "address_change",
            HoldReason::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            HoldReason::WrongKey => "寄来的 KEY 与订单不符",
            HoldReason::PinLocked => "PIN 已锁定",
            HoldReason::PinUnknown => "PIN 未知或最后一次尝试",
            HoldReason::DocumentsMissing => "办理人资料缺失或未审核",
            HoldReason::UnpaidParcel => "已收件但订单未支付",
            HoldReason::NotRenewable => "证书不在可续签期内",
            HoldReason::RenewalFailed => "续签失败",
            HoldReason::AddressChange => "收货地址待确认",
            HoldReason::Other => "其他",
        }
    }

    pub fn from_code(code: &str) -> Option<HoldReason> {
        HoldReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl std::str::FromStr for HoldReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HoldReason::from_code(s.trim()).ok_or_else(|| {
            let codes: Vec<&str> = HoldReason::ALL.iter().map(|r| r.code()).collect();
            format!("unknown hold reason {s:?}; expected one of {}", codes.join(", "))
        })
    }
}

/// The invoice's own status, separate from the order's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    #[default]
    NotRequested,
    Pending,
    Issued,
}

impl InvoiceStatus {
    pub fn code(self) -> &'static str {
        match self {
            InvoiceStatus::NotRequested => "not_requested",
            InvoiceStatus::Pending => "pending",
            InvoiceStatus::Issued => "issued",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InvoiceStatus::NotRequested => "未申请",
            InvoiceStatus::Pending => "待开票",
            InvoiceStatus::Issued => "已开票",
        }
    }

    pub fn from_code(code: &str) -> Option<InvoiceStatus> {
        [InvoiceStatus::NotRequested, InvoiceStatus::Pending, InvoiceStatus::Issued]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        for r in HoldReason::ALL {
            assert_eq!(HoldReason::from_code(r.code()), Some(r));
        }
    }

    #[test]
    fn closed_statuses_go_nowhere() {
        for from in [Status::Completed, Status::Cancelled, Status::Refunded] {
            for to in Status::ALL {
                assert!(!from.may_move_to(to), "{from} -> {to}");
            }
            assert!(!from.may_hold());
        }
    }

    #[test]
    fn the_happy_path_is_allowed_and_skipping_is_not() {
        use Status::*;
        let path = [Unpaid, Paid, Received, Renewing, Renewed, Shipped, Completed];
        for w in path.windows(2) {
            assert!(w[0].may_move_to(w[1]), "{} -> {}", w[0], w[1]);
        }
        assert!(!Paid.may_move_to(Renewing));
        assert!(!Received.may_move_to(Shipped));
        assert!(!Unpaid.may_move_to(Received));
        assert!(!Shipped.may_move_to(Renewed));
    }
}

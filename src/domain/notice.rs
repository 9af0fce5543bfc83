//! Notices to the member: which changes announce themselves (and which do not), the channels, a
//! notice's states, and filling a template from the few facts a notice may carry. Pure: no I/O.
//!
//! A notice carries only what the member already knows or needs to act: the order number, the return
//! waybill, the hold's reason and what to do about it, the invoice number, the member page's address. Never a name, phone, ID number, address or PIN: [`Facts`] has no
//! field for them, and a template naming any other placeholder is refused when it is loaded.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

use super::{AuditAction, HoldReason, Status};

/// What a notice announces. Stable codes (the `notices.kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoticeKind {
    /// The desk received the key (已收到).
    Received,
    /// The order is on hold for something the member must do.
    OnHold,
    /// The certificate on the key is renewed.
    Renewed,
    /// The key is on its way back, with the return waybill.
    Shipped,
    /// The invoice is issued; the member page has it.
    InvoiceIssued,
    /// SF delivered the key: please confirm receipt (enqueued by the courier routes).
    Delivered,
    /// The order completed by itself after delivery (enqueued by the courier routes).
    AutoCompleted,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 7] = [
        NoticeKind::Received,
        NoticeKind::OnHold,
        NoticeKind::Renewed,
        NoticeKind::Shipped,
        NoticeKind::InvoiceIssued,
        NoticeKind::Delivered,
        NoticeKind::AutoCompleted,
    ];

    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::Received => "received",
            NoticeKind::OnHold => "on_hold",
            NoticeKind::Renewed => "renewed",
            NoticeKind::Shipped => "shipped",
            NoticeKind::InvoiceIssued => "invoice_issued",
            NoticeKind::Delivered => "delivered",
            NoticeKind::AutoCompleted => "auto_completed",
        }
    }

    /// How the timeline names it.
    pub fn label(self) -> &'static str {
        match self {
            NoticeKind::Received => "已收到 KEY",
            NoticeKind::OnHold => "需要您处理",
            NoticeKind::Renewed => "已续签",
            NoticeKind::Shipped => "已寄回",
            NoticeKind::InvoiceIssued => "发票已开具",
            NoticeKind::Delivered => "已签收，请确认收货",
            NoticeKind::AutoCompleted => "已自动确认收货",
        }
    }

    pub fn from_code(code: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// How a notice reaches the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Sms, Channel::Email];

    pub fn code(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Sms => "短信",
            Channel::Email => "邮件",
        }
    }

    pub fn from_code(code: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// Where a notice stands (the `notices.state` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeState {
    /// Waiting to be sent at its next attempt.
    Pending,
    Sent,
    /// Given up: refused for good, or the attempts ran out.
    Failed,
    /// Not sent on purpose: the channel is off, the member opted out, or there is no address.
    Skipped,
}

impl NoticeState {
    pub const ALL: [NoticeState; 4] =
        [NoticeState::Pending, NoticeState::Sent, NoticeState::Failed, NoticeState::Skipped];

    pub fn code(self) -> &'static str {
        match self {
            NoticeState::Pending => "pending",
            NoticeState::Sent => "sent",
            NoticeState::Failed => "failed",
            NoticeState::Skipped => "skipped",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NoticeState::Pending => "待发送",
            NoticeState::Sent => "已发送",
            NoticeState::Failed => "发送失败",
            NoticeState::Skipped => "未发送",
        }
    }

    pub fn from_code(code: &str) -> Option<NoticeState> {
        NoticeState::ALL.into_iter().find(|s| s.code() == code)
    }
}

macro_rules! serialize_as_code {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.code())
            }
        }
    )*};
}
serialize_as_code!(NoticeKind, Channel, NoticeState);

/// One event to announce: its kind, what tells it apart from another of the same kind on the order,
/// and (for a hold) why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeEvent {
    pub kind: NoticeKind,
    /// Empty for events that happen once per order; the hold's instant for a hold (each hold is an
    /// event of its own).
    pub occurrence: String,
    pub hold_reason: Option<HoldReason>,
}

impl NoticeEvent {
    /// An event that happens once per order (received, renewed, shipped, delivered, …).
    pub fn once(kind: NoticeKind) -> NoticeEvent {
        NoticeEvent { kind, occurrence: String::new(), hold_reason: None }
    }
}

/// The hold reasons a member can do something about, and what that is. Other holds (the certificate
/// outside its window, a failed renewal, an address to check, other) are the desk's to resolve and
/// are not announced.
pub fn member_action(reason: HoldReason) -> Option<&'static str> {
    match reason {
        HoldReason::WrongKey => Some("请核对寄来的 KEY 是否为本订单的 KEY，并联系客服"),
        HoldReason::PinLocked => Some("KEY 的 PIN 已锁定，请联系客服解锁"),
        HoldReason::PinUnknown => Some("请联系客服核对 KEY 的 PIN（请勿在短信或邮件中回复 PIN）"),
        HoldReason::DocumentsMissing => Some("请在平台补充或更正办理人资料"),
        HoldReason::UnpaidParcel => Some("请在平台完成订单支付"),
        _ => None,
    }
}

/// The event an audit row announces, if any. Every write of the store goes through its audit row, so
/// this one function decides which changes reach the member; imports never do (they record what the
/// platform already knows).
pub fn event_for_audit(
    action: AuditAction,
    from: Option<Status>,
    to: Option<Status>,
    hold_reason: Option<HoldReason>,
    at: DateTime<Utc>,
) -> Option<NoticeEvent> {
    if action == AuditAction::Import {
        return None;
    }
    if to == Some(Status::OnHold) && from != Some(Status::OnHold) {
        let reason = hold_reason?;
        member_action(reason)?;
        return Some(NoticeEvent {
            kind: NoticeKind::OnHold,
            occurrence: at.to_rfc3339_opts(SecondsFormat::Micros, true),
            hold_reason: Some(reason),
        });
    }
    let kind = match (action, to) {
        (AuditAction::Intake | AuditAction::IntakeOnHold, _) => NoticeKind::Received,
        (AuditAction::Renew, Some(Status::Renewed)) => NoticeKind::Renewed,
        (AuditAction::Ship, Some(Status::Shipped)) => NoticeKind::Shipped,
        (AuditAction::InvoiceIssued, _) => NoticeKind::InvoiceIssued,
        (AuditAction::AutoComplete, Some(Status::Completed)) => NoticeKind::AutoCompleted,
        _ => return None,
    };
    Some(NoticeEvent::once(kind))
}

/// Everything a notice's text may say. There is deliberately no field for a name, phone, ID number,
/// address or PIN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub order_no: String,
    pub waybill: String,
    pub reason: String,
    pub action: String,
    pub invoice_no: String,
    pub link: String,
}

impl Facts {
    /// The placeholders a template may use, `{name}`.
    pub const NAMES: [&'static str; 6] = ["order_no", "waybill", "reason", "action", "invoice_no", "link"];

    pub fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "order_no" => &self.order_no,
            "waybill" => &self.waybill,
            "reason" => &self.reason,
            "action" => &self.action,
            "invoice_no" => &self.invoice_no,
            "link" => &self.link,
            _ => return None,
        })
    }
}

/// The placeholders of a template, in order; an error names an unknown one or an unclosed brace.
pub fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after.find('}').ok_or_else(|| format!("unclosed {{ in {template:?}"))?;
        let name = &after[..end];
        if !Facts::NAMES.contains(&name) {
            return Err(format!("unknown placeholder {{{name}}} (known: {})", Facts::NAMES.join(", ")));
        }
        out.push(name);
        rest = &after[end + 1..];
    }
    Ok(out)
}

/// Fills `{name}` placeholders from the facts. Unknown names were refused when the template loaded;
/// one met here anyway is left out.
pub fn render(template: &str, facts: &Facts) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        out.push_str(facts.get(&after[..end]).unwrap_or(""));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back() {
        for k in NoticeKind::ALL {
            assert_eq!(NoticeKind::from_code(k.code()), Some(k));
        }
        for c in Channel::ALL {
            assert_eq!(Channel::from_code(c.code()), Some(c));
        }
        for s in NoticeState::ALL {
            assert_eq!(NoticeState::from_code(s.code()), Some(s));
        }
    }

    #[test]
    fn only_member_actionable_holds_and_no_imports_are_announced() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let hold = |r| event_for_audit(AuditAction::Hold, Some(Status::Received), Some(Status::OnHold), Some(r), at);
        assert_eq!(hold(HoldReason::WrongKey).map(|e| e.kind), Some(NoticeKind::OnHold));
        assert_eq!(hold(HoldReason::RenewalFailed), None);
        assert_eq!(event_for_audit(AuditAction::Import, None, Some(Status::Received), None, at), None);
        assert_eq!(
            event_for_audit(AuditAction::Ship, Some(Status::Renewed), Some(Status::Shipped), None, at),
            Some(NoticeEvent::once(NoticeKind::Shipped))
        );
        assert_eq!(event_for_audit(AuditAction::Renew, Some(Status::Received), Some(Status::Renewing), None, at), None);
    }

    #[test]
    fn templates_fill_known_placeholders_and_refuse_others() {
        let facts = Facts { order_no: "0000250427000004".into(), waybill: "SF1".into(), ..Facts::default() };
        assert_eq!(render("订单{order_no}运单{waybill}", &facts), "订单0000250427000004运单SF1");
        assert!(placeholders("{holder_name}").is_err());
        assert!(placeholders("{order_no").is_err());
        assert_eq!(placeholders("{order_no}{link}").unwrap(), vec!["order_no", "link"]);
    }
}

//! What an audit row records, as a closed set with stable codes (the `audit_log.action` column). The
//! SLA clocks read holds, releases, shipping and the invoice's issue from the audit log by these
//! variants, so a misspelt action cannot silently stop a clock: it does not compile.

use std::fmt;

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// The platform's export imported or updated the order.
    Import,
    /// A parcel received at the desk for a paid order.
    Intake,
    /// A parcel received for an unpaid order (held).
    IntakeUnpaid,
    /// A parcel received for an order on hold.
    IntakeOnHold,
    /// A parcel received for a cancelled or refunded order.
    IntakeClosed,
    /// A parcel that no order claims.
    UnmatchedParcel,
    /// A status change by staff (cancel, …).
    Status,
    Hold,
    Release,
    /// A renewal step that moved the order (start, finish).
    Renew,
    /// 放弃续签.
    RenewAbandon,
    /// The return shipment booked with the courier.
    Book,
    Ship,
    InvoiceIssued,
    LabelReprint,
    PrintReprint,
    /// Staff saw the order's personal data in full (显示完整信息).
    Reveal,
    MemberInboundWaybill,
    MemberConfirmReceipt,
    MemberStatus,
    /// An open clock's deadline moved because a holiday notice was imported (or a calendar corrected).
    DeadlineMoved,
    /// A delivered order the member did not confirm completed by itself (`routes.auto_complete_days`).
    AutoComplete,
}

impl AuditAction {
    pub const ALL: [AuditAction; 22] = [
        AuditAction::Import,
        AuditAction::Intake,
        AuditAction::IntakeUnpaid,
        AuditAction::IntakeOnHold,
        AuditAction::IntakeClosed,
        AuditAction::UnmatchedParcel,
        AuditAction::Status,
        AuditAction::Hold,
        AuditAction::Release,
        AuditAction::Renew,
        AuditAction::RenewAbandon,
        AuditAction::Book,
        AuditAction::Ship,
        AuditAction::InvoiceIssued,
        AuditAction::LabelReprint,
        AuditAction::PrintReprint,
        AuditAction::Reveal,
        AuditAction::MemberInboundWaybill,
        AuditAction::MemberConfirmReceipt,
        AuditAction::MemberStatus,
        AuditAction::DeadlineMoved,
        AuditAction::AutoComplete,
    ];

    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            AuditAction::Import => "import",
            AuditAction::Intake => "intake",
            AuditAction::IntakeUnpaid => "intake_unpaid",
            AuditAction::IntakeOnHold => "intake_on_hold",
            AuditAction::IntakeClosed => "intake_closed",
            AuditAction::UnmatchedParcel => "unmatched_parcel",
            AuditAction::Status => "status",
            AuditAction::Hold => "hold",
            AuditAction::Release => "release",
            AuditAction::Renew => "renew",
            AuditAction::RenewAbandon => "renew_abandon",
            AuditAction::Book => "book",
            AuditAction::Ship => "ship",
            AuditAction::InvoiceIssued => "invoice_issued",
            AuditAction::LabelReprint => "label_reprint",
            AuditAction::PrintReprint => "print_reprint",
            AuditAction::Reveal => "reveal",
            AuditAction::MemberInboundWaybill => "member_inbound_waybill",
            AuditAction::MemberConfirmReceipt => "member_confirm_receipt",
            AuditAction::MemberStatus => "member_status",
            AuditAction::DeadlineMoved => "deadline_moved",
            AuditAction::AutoComplete => "auto_complete",
        }
    }

    pub fn parse(code: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.code() == code)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

impl Serialize for AuditAction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_distinct_and_reads_back() {
        let mut codes: Vec<&str> = AuditAction::ALL.iter().map(|a| a.code()).collect();
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.code()), Some(a));
        }
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), AuditAction::ALL.len());
        assert_eq!(AuditAction::parse("shipped"), None);
    }
}

//! The pure core: the platform's identifiers, money and tax, the order and its state machine, the certificate
//! renewal rules and the masking of members' personal data. Nothing in here does I/O; every other area
//! of keydesk builds on these types.

pub mod audit_action;
pub mod certificate;
pub mod key_report;
pub mod key_serial;
pub mod mask;
pub mod member;
pub mod money;
pub mod notice;
pub mod order;
pub mod order_no;
pub mod print_job;
pub mod renewal;
pub mod renewal_job;
pub mod route;
pub mod scan_text;
pub mod status;
pub mod tax;
pub mod waybill;

pub use audit_action::AuditAction;
pub use key_serial::KeySerial;
pub use money::Money;
pub use order::{Order, OrderKind};
pub use order_no::OrderNo;
pub use print_job::{PrintKind, PrintState};
pub use status::{HoldReason, InvoiceStatus, Status};
pub use waybill::{Carrier, Waybill};

/// Asia/Shanghai: UTC+08:00 all year (no daylight saving since 1991).
pub const BEIJING: chrono::FixedOffset = match chrono::FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+08:00 is a valid offset"),
};

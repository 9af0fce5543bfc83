//! Exit codes scripts can rely on. Clap uses 2 for usage errors; everything else is listed here and in
//! the README.

/// The command did what was asked (for `intake`: matched, or already received).
pub const OK: u8 = 0;
/// Something failed that is not one of the outcomes below (bad file, bad configuration, …).
pub const FAILURE: u8 = 1;
/// Clap's usage error.
pub const USAGE: u8 = 2;
/// `intake`: the scan is not a waybill number.
pub const INTAKE_INVALID: u8 = 10;
/// `intake`: another courier's waybill; the platform accepts SF only.
pub const INTAKE_NOT_SF: u8 = 11;
/// `intake`: no order claims this waybill; the parcel went to the unmatched queue.
pub const INTAKE_UNKNOWN: u8 = 12;
/// `intake`: the order is unpaid; the parcel was recorded and the order put on hold.
pub const INTAKE_UNPAID: u8 = 13;
/// `intake`: the order is cancelled or refunded; the parcel was recorded for return.
pub const INTAKE_CLOSED: u8 = 14;
/// The order was changed by another desk meanwhile; nothing was written.
pub const CONFLICT: u8 = 20;
/// A rule refused the change (not allowed in this status, not found, …); nothing was written.
pub const REFUSED: u8 = 21;
/// The database does not answer.
pub const DATABASE_UNAVAILABLE: u8 = 30;
/// `renew`: the key in the reader is not the order's (other serial or other certificate); the order is on hold.
pub const RENEW_WRONG_KEY: u8 = 40;
/// `renew`: the PIN is wrong, on its final try or locked (no login attempted then; the order is on hold).
pub const RENEW_PIN: u8 = 41;
/// `renew`: no key in the reader, the key was pulled, or its module hung; the job is kept, run again.
pub const RENEW_TOKEN: u8 = 42;
/// `renew`: the CA failed or returned a certificate that does not fit; the job is kept.
pub const RENEW_CA: u8 = 43;
/// `renew`: a read-back or check failed; the job is kept.
pub const RENEW_CHECK: u8 = 44;
/// What a shell reports for a command whose output pipe closed (128 + SIGPIPE): `keydesk … | head`.
pub const BROKEN_PIPE: u8 = 141;
/// `calendar check` / `calendar import`: done, but a warning needs attention (next year's calendar is missing; a notice departs from the principles).
pub const CALENDAR_WARNING: u8 = 50;

/// The exit code of a parcel's intake.
pub fn of_intake(result: crate::ops::intake::IntakeResult) -> u8 {
    use crate::ops::intake::IntakeResult;
    match result {
        IntakeResult::Matched | IntakeResult::AlreadyReceived => OK,
        IntakeResult::Invalid => INTAKE_INVALID,
        IntakeResult::NotSf => INTAKE_NOT_SF,
        IntakeResult::Unknown => INTAKE_UNKNOWN,
        IntakeResult::Unpaid => INTAKE_UNPAID,
        IntakeResult::Closed => INTAKE_CLOSED,
    }
}

/// The exit code scripts see for a use case's error.
pub fn of_ops(error: &crate::ops::OpsError) -> u8 {
    use crate::ops::OpsError;
    use crate::store::StoreError;
    match error {
        OpsError::Store(StoreError::Conflict { .. }) => CONFLICT,
        OpsError::Store(StoreError::Unavailable(_)) => DATABASE_UNAVAILABLE,
        OpsError::Rule(_) | OpsError::OrderNotFound(_) | OpsError::Store(StoreError::Refused(_)) => REFUSED,
        _ => FAILURE,
    }
}

/// The exit code of a renewal that stopped.
pub fn of_renew(error: &crate::ops::renew::RenewError) -> u8 {
    use crate::ops::renew::RenewError;
    match error {
        RenewError::Ops(e) => of_ops(e),
        RenewError::NotRenewable(_) | RenewError::OnHold(_) => REFUSED,
        RenewError::WrongKey(_) => RENEW_WRONG_KEY,
        RenewError::PinBlocked(_) | RenewError::PinIncorrect(_) | RenewError::Pin(_) => RENEW_PIN,
        RenewError::NoKey(_) | RenewError::Token(_) => RENEW_TOKEN,
        RenewError::Ca(_) => RENEW_CA,
        RenewError::Check(_) => RENEW_CHECK,
        RenewError::NothingToAbandon(_) | RenewError::TooLateToAbandon => REFUSED,
    }
}

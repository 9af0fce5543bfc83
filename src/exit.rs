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
/// `calendar check`: the calendars load, but a warning needs attention (e.g. next year's is missing).
pub const CALENDAR_WARNING: u8 = 50;

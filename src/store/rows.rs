//! Rows as both databases return them, and their conversion to domain types, shared by both backends
//! (the SQL that reads them is in the aggregate modules); and the binding of a whole order, which
//! both backends' inserts share.

use chrono::{DateTime, Utc};
use sqlx::query_builder::Separated;
use sqlx::{Database, Encode, Type};

use super::{AuditEntry, InvoiceDocument, OperatorRecord, Receipt, StoreError, UnmatchedParcel};
use crate::domain::member::MemberOrder;
use crate::domain::order::{Certificate, Handler, Hold, Inbound, InvoiceDetails, SealKind, ShipTo};
use crate::domain::renewal_job::{
    IssuedCertificate, JobState, JournalEntry, KeptObject, NewRenewalJob, RenewalJob, RenewalStep,
};
use crate::domain::{
    AuditAction, HoldReason, InvoiceStatus, Money, Order, OrderKind, OrderNo, PrintKind, PrintState, Status, Waybill,
};

/// Binds every column of [`ORDER_COLUMNS`](super::orders::ORDER_COLUMNS) for one order, as one tuple
/// of a query builder's `VALUES` (the amount checked with [`fen`] before the transaction began).
pub fn push_order<'args, DB>(b: &mut Separated<'_, 'args, DB, &'static str>, o: &Order)
where
    DB: Database,
    i64: Encode<'args, DB> + Type<DB>,
    bool: Encode<'args, DB> + Type<DB>,
    &'args str: Encode<'args, DB> + Type<DB>,
    Option<&'args str>: Encode<'args, DB> + Type<DB>,
    String: Encode<'args, DB> + Type<DB>,
    Option<String>: Encode<'args, DB> + Type<DB>,
    DateTime<Utc>: Encode<'args, DB> + Type<DB>,
    Option<DateTime<Utc>>: Encode<'args, DB> + Type<DB>,
{
    let hold = o.hold.as_ref();
    b.push_bind(o.order_no.as_str().to_string())
        .push_bind(o.platform_order_no.clone())
        .push_bind(o.kind.code())
        .push_bind(i64::from(o.term_years))
        .push_bind(o.amount.fen().unwrap_or_default())
        .push_bind(o.status.code())
        .push_bind(hold.map(|h| h.reason.code()))
        .push_bind(hold.map(|h| h.resume_to.code()))
        .push_bind(hold.map(|h| h.note.clone()))
        .push_bind(o.invoice_status.code())
        .push_bind(o.created_at)
        .push_bind(o.paid_at)
        .push_bind(o.docs_approved_at)
        .push_bind(o.account.clone())
        .push_bind(o.holder_name.clone())
        .push_bind(o.company.clone())
        .push_bind(o.contact_phone.clone())
        .push_bind(o.phone_tail())
        .push_bind(o.key_serial.to_string())
        .push_bind(o.cert.serial.clone())
        .push_bind(o.cert.subject.clone())
        .push_bind(o.cert.not_before)
        .push_bind(o.cert.not_after)
        .push_bind(o.cert.seal.code())
        .push_bind(o.handler.name.clone())
        .push_bind(o.handler.phone.clone())
        .push_bind(o.handler.id_number.clone())
        .push_bind(o.handler.docs_approved)
        .push_bind(o.inbound.carrier.clone())
        .push_bind(o.inbound.waybill.clone())
        .push_bind(inbound_key(o))
        .push_bind(o.ship_to.name.clone())
        .push_bind(o.ship_to.phone.clone())
        .push_bind(o.ship_to.region.clone())
        .push_bind(o.ship_to.address.clone())
        .push_bind(o.invoice.title.clone())
        .push_bind(o.invoice.tax_id.clone())
        .push_bind(o.invoice.bank.clone())
        .push_bind(o.invoice.bank_account.clone())
        .push_bind(o.invoice.address.clone())
        .push_bind(o.invoice.phone.clone())
        .push_bind(o.invoice.email.clone())
        .push_bind(o.received_at)
        .push_bind(o.received_by.clone())
        .push_bind(o.outbound_waybill.as_ref().map(|w| w.as_str().to_string()))
        .push_bind(o.shipped_at)
        .push_bind(o.updated_at);
}

pub fn fen(amount: Money) -> Result<i64, StoreError> {
    amount.fen().map_err(|e| StoreError::Database(e.to_string()))
}

/// The lookup key of the member's inbound waybill: the canonical SF number, or none when the member
/// typed something that is not an SF waybill.
pub fn inbound_key(o: &Order) -> Option<String> {
    o.inbound.waybill.as_deref().and_then(|w| Waybill::parse(w).ok()).map(String::from)
}

#[derive(Debug, sqlx::FromRow)]
pub struct OrderRow {
    id: i64,
    version: i64,
    order_no: String,
    platform_order_no: Option<String>,
    kind: String,
    term_years: i64,
    amount_fen: i64,
    status: String,
    hold_reason: Option<String>,
    hold_resume_to: Option<String>,
    hold_note: Option<String>,
    invoice_status: String,
    created_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
    docs_approved_at: Option<DateTime<Utc>>,
    account: String,
    holder_name: String,
    company: String,
    contact_phone: String,
    key_serial: String,
    cert_serial: String,
    cert_subject: String,
    cert_not_before: DateTime<Utc>,
    cert_not_after: DateTime<Utc>,
    cert_seal: String,
    handler_name: String,
    handler_phone: String,
    handler_id_number: String,
    handler_docs_approved: bool,
    inbound_carrier: String,
    inbound_waybill_raw: Option<String>,
    ship_name: String,
    ship_phone: String,
    ship_region: String,
    ship_address: String,
    invoice_title: String,
    invoice_tax_id: String,
    invoice_bank: String,
    invoice_bank_account: String,
    invoice_address: String,
    invoice_phone: String,
    invoice_email: String,
    received_at: Option<DateTime<Utc>>,
    received_by: Option<String>,
    outbound_waybill: Option<String>,
    shipped_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    courier_picked_up_at: Option<DateTime<Utc>>,
    courier_delivered_at: Option<DateTime<Utc>>,
}

fn corrupt(order_no: &str, what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("order {order_no}: bad {what} {value:?}"))
}

impl TryFrom<OrderRow> for Order {
    type Error = StoreError;

    fn try_from(r: OrderRow) -> Result<Order, StoreError> {
        let no = r.order_no.clone();
        let status = Status::from_code(&r.status).ok_or_else(|| corrupt(&no, "status", &r.status))?;
        let hold = match (r.hold_reason.as_deref(), r.hold_resume_to.as_deref()) {
            (Some(reason), Some(resume)) => Some(Hold {
                reason: HoldReason::from_code(reason).ok_or_else(|| corrupt(&no, "hold reason", reason))?,
                resume_to: Status::from_code(resume).ok_or_else(|| corrupt(&no, "hold resume status", resume))?,
                note: r.hold_note.unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(Order {
            id: r.id,
            version: r.version,
            order_no: OrderNo::parse(&r.order_no).map_err(|_| corrupt(&no, "order number", &r.order_no))?,
            platform_order_no: r.platform_order_no,
            kind: OrderKind::from_code(&r.kind).ok_or_else(|| corrupt(&no, "kind", &r.kind))?,
            term_years: u32::try_from(r.term_years).map_err(|_| corrupt(&no, "term", &r.term_years.to_string()))?,
            amount: Money::from_fen(r.amount_fen),
            status,
            hold,
            invoice_status: InvoiceStatus::from_code(&r.invoice_status)
                .ok_or_else(|| corrupt(&no, "invoice status", &r.invoice_status))?,
            created_at: r.created_at,
            paid_at: r.paid_at,
            docs_approved_at: r.docs_approved_at,
            account: r.account,
            holder_name: r.holder_name,
            company: r.company,
            contact_phone: r.contact_phone,
            key_serial: r.key_serial.into(),
            cert: Certificate {
                serial: r.cert_serial,
                subject: r.cert_subject,
                not_before: r.cert_not_before,
                not_after: r.cert_not_after,
                seal: SealKind::from_code(&r.cert_seal).ok_or_else(|| corrupt(&no, "seal", &r.cert_seal))?,
            },
            handler: Handler {
                name: r.handler_name,
                phone: r.handler_phone,
                id_number: r.handler_id_number,
                docs_approved: r.handler_docs_approved,
            },
            inbound: Inbound { carrier: r.inbound_carrier, waybill: r.inbound_waybill_raw },
            ship_to: ShipTo { name: r.ship_name, phone: r.ship_phone, region: r.ship_region, address: r.ship_address },
            invoice: InvoiceDetails {
                title: r.invoice_title,
                tax_id: r.invoice_tax_id,
                bank: r.invoice_bank,
                bank_account: r.invoice_bank_account,
                address: r.invoice_address,
                phone: r.invoice_phone,
                email: r.invoice_email,
            },
            received_at: r.received_at,
            received_by: r.received_by,
            outbound_waybill: match r.outbound_waybill {
                Some(w) => Some(Waybill::parse(&w).map_err(|_| corrupt(&no, "outbound waybill", &w))?),
                None => None,
            },
            shipped_at: r.shipped_at,
            picked_up_at: r.courier_picked_up_at,
            delivered_at: r.courier_delivered_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ReceiptRow {
    order_id: i64,
    waybill: String,
    received_at: DateTime<Utc>,
    operator: String,
    desk: String,
}

impl From<ReceiptRow> for Receipt {
    fn from(r: ReceiptRow) -> Self {
        Receipt {
            order_id: r.order_id,
            waybill: r.waybill,
            received_at: r.received_at,
            operator: r.operator,
            desk: r.desk,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct UnmatchedRow {
    id: i64,
    raw_scan: String,
    waybill: String,
    scanned_at: DateTime<Utc>,
    operator: String,
    desk: String,
}

impl From<UnmatchedRow> for UnmatchedParcel {
    fn from(r: UnmatchedRow) -> Self {
        UnmatchedParcel {
            id: r.id,
            raw_scan: r.raw_scan,
            waybill: r.waybill,
            scanned_at: r.scanned_at,
            operator: r.operator,
            desk: r.desk,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct AuditRow {
    id: i64,
    order_id: Option<i64>,
    at: DateTime<Utc>,
    operator: String,
    desk: String,
    action: String,
    from_status: Option<String>,
    to_status: Option<String>,
    reason: String,
    hold_reason: Option<String>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;

    fn try_from(r: AuditRow) -> Result<AuditEntry, StoreError> {
        let action = AuditAction::parse(&r.action)
            .ok_or_else(|| StoreError::Corrupt(format!("audit row {}: bad action {:?}", r.id, r.action)))?;
        Ok(AuditEntry {
            id: r.id,
            order_id: r.order_id,
            at: r.at,
            operator: r.operator,
            desk: r.desk,
            action,
            from_status: r.from_status,
            to_status: r.to_status,
            reason: r.reason,
            hold_reason: r.hold_reason.as_deref().and_then(HoldReason::from_code),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct OperatorRow {
    id: i64,
    name: String,
    password_hash: String,
    active: bool,
}

impl From<OperatorRow> for OperatorRecord {
    fn from(r: OperatorRow) -> Self {
        OperatorRecord { id: r.id, name: r.name, password_hash: r.password_hash, active: r.active }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ClockOrderRow {
    pub id: i64,
    pub order_no: String,
    pub status: String,
    pub company: String,
    pub holder_name: String,
    pub contact_phone: String,
    pub received_by: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub docs_approved_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub picked_up_at: Option<DateTime<Utc>>,
    pub invoice_status: String,
}

/// Joins order rows with their clock events (both sorted by order id) into facts.
pub fn clock_facts(orders: Vec<ClockOrderRow>, events: Vec<AuditRow>) -> Result<Vec<super::ClockFacts>, StoreError> {
    let mut by_order: std::collections::HashMap<i64, Vec<AuditEntry>> = std::collections::HashMap::new();
    for e in events {
        let e = AuditEntry::try_from(e)?;
        if let Some(id) = e.order_id {
            by_order.entry(id).or_default().push(e);
        }
    }
    orders
        .into_iter()
        .map(|o| {
            Ok(super::ClockFacts {
                status: Status::from_code(&o.status).ok_or_else(|| corrupt(&o.order_no, "status", &o.status))?,
                invoice_status: InvoiceStatus::from_code(&o.invoice_status)
                    .ok_or_else(|| corrupt(&o.order_no, "invoice status", &o.invoice_status))?,
                events: by_order.remove(&o.id).unwrap_or_default(),
                order_id: o.id,
                order_no: o.order_no,
                company: o.company,
                holder_name: o.holder_name,
                contact_phone: o.contact_phone,
                received_by: o.received_by,
                paid_at: o.paid_at,
                received_at: o.received_at,
                docs_approved_at: o.docs_approved_at,
                shipped_at: o.shipped_at,
                picked_up_at: o.picked_up_at,
            })
        })
        .collect()
}

#[derive(Debug, sqlx::FromRow)]
pub struct MemberOrderRow {
    id: i64,
    version: i64,
    order_no: String,
    kind: String,
    status: String,
    hold_reason: Option<String>,
    invoice_status: String,
    created_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
    phone_tail: String,
    holder_masked: String,
    phone_masked: String,
    ship_region: String,
    inbound_carrier: String,
    inbound_waybill_raw: Option<String>,
    received_at: Option<DateTime<Utc>>,
    renewing_at: Option<DateTime<Utc>>,
    renewed_at: Option<DateTime<Utc>>,
    outbound_waybill: Option<String>,
    shipped_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    invoice_number: Option<String>,
    delivered_at: Option<DateTime<Utc>>,
}

impl MemberOrderRow {
    /// The same row read through rusqlite (the SQLite member endpoint's direct reads, `sqlite/member.rs`):
    /// columns in `SELECT_MEMBER_ORDER`'s order, times as the RFC 3339 text sqlx writes.
    pub fn from_rusqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<MemberOrderRow> {
        fn time(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
            let Some(text) = r.get::<_, Option<String>>(i)? else { return Ok(None) };
            parse_sqlite_time(&text).map(Some).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    format!("not a time: {text:?}").into(),
                )
            })
        }
        Ok(MemberOrderRow {
            id: r.get(0)?,
            version: r.get(1)?,
            order_no: r.get(2)?,
            kind: r.get(3)?,
            status: r.get(4)?,
            hold_reason: r.get(5)?,
            invoice_status: r.get(6)?,
            created_at: time(r, 7)?.ok_or(rusqlite::Error::InvalidColumnType(
                7,
                "created_at".into(),
                rusqlite::types::Type::Null,
            ))?,
            paid_at: time(r, 8)?,
            phone_tail: r.get(9)?,
            holder_masked: r.get(10)?,
            phone_masked: r.get(11)?,
            ship_region: r.get(12)?,
            inbound_carrier: r.get(13)?,
            inbound_waybill_raw: r.get(14)?,
            received_at: time(r, 15)?,
            renewing_at: time(r, 16)?,
            renewed_at: time(r, 17)?,
            outbound_waybill: r.get(18)?,
            shipped_at: time(r, 19)?,
            completed_at: time(r, 20)?,
            invoice_number: r.get(21)?,
            delivered_at: time(r, 22)?,
        })
    }
}

/// A time as SQLite holds it: RFC 3339 (what sqlx writes), or `YYYY-MM-DD HH:MM:SS[.f][±HH:MM]`, a
/// naive one being UTC.
pub fn parse_sqlite_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok().map(|n| n.and_utc()))
}

impl TryFrom<MemberOrderRow> for MemberOrder {
    type Error = StoreError;

    fn try_from(r: MemberOrderRow) -> Result<MemberOrder, StoreError> {
        let no = r.order_no.clone();
        Ok(MemberOrder {
            id: r.id,
            version: r.version,
            order_no: OrderNo::parse(&r.order_no).map_err(|_| corrupt(&no, "order number", &r.order_no))?,
            kind: OrderKind::from_code(&r.kind).ok_or_else(|| corrupt(&no, "kind", &r.kind))?,
            status: Status::from_code(&r.status).ok_or_else(|| corrupt(&no, "status", &r.status))?,
            hold_reason: match r.hold_reason.as_deref() {
                Some(code) => Some(HoldReason::from_code(code).ok_or_else(|| corrupt(&no, "hold reason", code))?),
                None => None,
            },
            invoice_status: InvoiceStatus::from_code(&r.invoice_status)
                .ok_or_else(|| corrupt(&no, "invoice status", &r.invoice_status))?,
            created_at: r.created_at,
            paid_at: r.paid_at,
            phone_tail: r.phone_tail,
            holder_masked: r.holder_masked,
            phone_masked: r.phone_masked,
            ship_region: r.ship_region,
            inbound_carrier: r.inbound_carrier,
            inbound_waybill: r.inbound_waybill_raw,
            received_at: r.received_at,
            renewing_at: r.renewing_at,
            renewed_at: r.renewed_at,
            outbound_waybill: r.outbound_waybill,
            shipped_at: r.shipped_at,
            completed_at: r.completed_at,
            invoice_number: r.invoice_number,
            delivered_at: r.delivered_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct RenewalJobRow {
    id: i64,
    order_id: i64,
    key_serial: String,
    state: String,
    step: String,
    algorithm: String,
    new_key_id: String,
    old_key_id: String,
    old_label: String,
    old_cert_serial: String,
    old_cert_fingerprint: String,
    old_not_before: DateTime<Utc>,
    old_not_after: DateTime<Utc>,
    planned_serial: String,
    planned_not_before: DateTime<Utc>,
    planned_not_after: DateTime<Utc>,
    kept_objects: String,
    public_key: Option<String>,
    request_pem: Option<String>,
    operator: String,
    desk: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    abandoned: bool,
}

impl TryFrom<RenewalJobRow> for RenewalJob {
    type Error = StoreError;

    fn try_from(r: RenewalJobRow) -> Result<RenewalJob, StoreError> {
        let bad = |what: &str, v: &str| StoreError::Corrupt(format!("renewal job {}: bad {what} {v:?}", r.id));
        let kept: Vec<KeptObject> =
            serde_json::from_str(&r.kept_objects).map_err(|_| bad("kept_objects", &r.kept_objects))?;
        Ok(RenewalJob {
            id: r.id,
            state: match JobState::from_code(&r.state).ok_or_else(|| bad("state", &r.state))? {
                JobState::Done if r.abandoned => JobState::Abandoned,
                state => state,
            },
            step: RenewalStep::from_code(&r.step).ok_or_else(|| bad("step", &r.step))?,
            plan: NewRenewalJob {
                order_id: r.order_id,
                key_serial: r.key_serial,
                algorithm: r.algorithm,
                new_key_id: r.new_key_id,
                old_key_id: r.old_key_id,
                old_label: r.old_label,
                old_cert_serial: r.old_cert_serial,
                old_cert_fingerprint: r.old_cert_fingerprint,
                old_not_before: r.old_not_before,
                old_not_after: r.old_not_after,
                planned_serial: r.planned_serial,
                planned_not_before: r.planned_not_before,
                planned_not_after: r.planned_not_after,
                kept_objects: kept,
            },
            public_key: r.public_key,
            request_pem: r.request_pem,
            operator: r.operator,
            desk: r.desk,
            created_at: r.created_at,
            updated_at: r.updated_at,
            finished_at: r.finished_at,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct InvoiceRow {
    number: String,
    pdf: Vec<u8>,
    sha256: String,
    issued_at: DateTime<Utc>,
}

impl From<InvoiceRow> for InvoiceDocument {
    fn from(r: InvoiceRow) -> Self {
        InvoiceDocument { number: r.number, pdf: r.pdf, sha256: r.sha256, issued_at: r.issued_at }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct JournalRow {
    id: i64,
    job_id: i64,
    step: String,
    phase: String,
    detail: String,
    elapsed_us: i64,
    token_us: i64,
    at: DateTime<Utc>,
}

impl From<JournalRow> for JournalEntry {
    fn from(r: JournalRow) -> Self {
        JournalEntry {
            id: r.id,
            job_id: r.job_id,
            step: r.step,
            phase: r.phase,
            detail: r.detail,
            elapsed_us: r.elapsed_us,
            token_us: r.token_us,
            at: r.at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct IssuedRow {
    id: i64,
    job_id: i64,
    order_id: i64,
    serial: String,
    subject: String,
    issuer: String,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    fingerprint: String,
    pem: String,
    ca_backend: String,
    issued_at: DateTime<Utc>,
}

impl From<IssuedRow> for IssuedCertificate {
    fn from(r: IssuedRow) -> Self {
        IssuedCertificate {
            id: r.id,
            job_id: r.job_id,
            order_id: r.order_id,
            serial: r.serial,
            subject: r.subject,
            issuer: r.issuer,
            not_before: r.not_before,
            not_after: r.not_after,
            fingerprint: r.fingerprint,
            pem: r.pem,
            ca_backend: r.ca_backend,
            issued_at: r.issued_at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct PrintJobRow {
    id: i64,
    order_id: i64,
    kind: String,
    printer: String,
    name: String,
    pdf: Vec<u8>,
    media: Option<String>,
    reprint: bool,
    state: String,
    attempts: i64,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    operator: String,
    desk: String,
    created_at: DateTime<Utc>,
    printed_at: Option<DateTime<Utc>>,
}

impl TryFrom<PrintJobRow> for super::PrintJobRecord {
    type Error = StoreError;

    fn try_from(r: PrintJobRow) -> Result<super::PrintJobRecord, StoreError> {
        let bad = |what: &str, v: &str| StoreError::Corrupt(format!("print job {}: bad {what} {v:?}", r.id));
        let kind = PrintKind::parse(&r.kind).ok_or_else(|| bad("kind", &r.kind))?;
        let state = PrintState::parse(&r.state).ok_or_else(|| bad("state", &r.state))?;
        Ok(super::PrintJobRecord {
            id: r.id,
            order_id: r.order_id,
            kind,
            printer: r.printer,
            name: r.name,
            pdf: r.pdf,
            media: r.media,
            reprint: r.reprint,
            state,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            operator: r.operator,
            desk: r.desk,
            created_at: r.created_at,
            printed_at: r.printed_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit_row(action: &str) -> AuditRow {
        AuditRow {
            id: 7,
            order_id: Some(1),
            at: DateTime::from_timestamp(1_767_225_600, 0).unwrap(),
            operator: "qin".into(),
            desk: "desk-1".into(),
            action: action.into(),
            from_status: None,
            to_status: None,
            reason: String::new(),
            hold_reason: None,
        }
    }

    fn print_job_row(kind: &str, state: &str) -> PrintJobRow {
        let at = DateTime::from_timestamp(1_767_225_600, 0).unwrap();
        PrintJobRow {
            id: 3,
            order_id: 1,
            kind: kind.into(),
            printer: kind.into(),
            name: "label-test".into(),
            pdf: Vec::new(),
            media: None,
            reprint: false,
            state: state.into(),
            attempts: 0,
            next_attempt_at: at,
            last_error: None,
            operator: "qin".into(),
            desk: "desk-1".into(),
            created_at: at,
            printed_at: None,
        }
    }

    #[test]
    fn audit_actions_read_back_and_an_unknown_one_is_corrupt() {
        for action in AuditAction::ALL {
            assert_eq!(AuditEntry::try_from(audit_row(action.code())).unwrap().action, action);
        }
        let bad = AuditEntry::try_from(audit_row("shipped")).unwrap_err();
        assert!(matches!(&bad, StoreError::Corrupt(m) if m.contains("audit row 7") && m.contains("shipped")), "{bad}");
    }

    #[test]
    fn print_kinds_and_states_read_back_and_unknown_ones_are_corrupt() {
        for kind in PrintKind::ALL {
            for state in PrintState::ALL {
                let job = super::super::PrintJobRecord::try_from(print_job_row(kind.code(), state.code())).unwrap();
                assert_eq!((job.kind, job.state), (kind, state));
            }
        }
        for (kind, state) in [("receipt", "queued"), ("label", "printed")] {
            let bad = super::super::PrintJobRecord::try_from(print_job_row(kind, state)).unwrap_err();
            assert!(matches!(&bad, StoreError::Corrupt(m) if m.contains("print job 3")), "{bad}");
        }
    }
}

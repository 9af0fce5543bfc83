//! Orders and parcels: the platform's import, lookups, list/search/count, checked status changes, a
//! parcel's receipt, unmatched parcels, the order's audit log (and notes in it), the booked return
//! shipment, and the facts the working-day clocks are computed from.
//!
//! The audit log sits here because every row of it belongs to an order's story, even the ones other
//! aggregates write (a renewal step, an invoice, a member action): they all write through the same
//! [`AuditRecord`] and SQL. The newest audit id and the change feed, which only say "something
//! changed", are the database's business and sit in [`super::admin`].

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Database, Encode, Type};

use super::{Actor, StoreResult};
use crate::domain::order::Transition;
use crate::domain::{AuditAction, HoldReason, Order, OrderNo, Status, Waybill};

#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Inserts or updates the platform's orders by order number, all in one transaction.
    async fn import_orders(&self, orders: &[Order], actor: &Actor, at: DateTime<Utc>) -> StoreResult<ImportSummary>;
    /// Inserts new synthetic orders fast (benchmarks); fails on an existing order number.
    async fn bulk_insert_orders(&self, orders: &[Order]) -> StoreResult<u64>;

    async fn order_by_no(&self, no: &OrderNo) -> StoreResult<Option<Order>>;
    async fn order_by_id(&self, id: i64) -> StoreResult<Option<Order>>;
    async fn orders_by_inbound_waybill(&self, waybill: &Waybill) -> StoreResult<Vec<Order>>;
    async fn list_orders(&self, query: &ListQuery) -> StoreResult<Vec<Order>>;
    /// Orders matching a text the desk typed: order number, waybill, key serial, account, phone tail,
    /// holder name, or a company name prefix.
    async fn search_orders(&self, text: &str, limit: i64) -> StoreResult<Vec<Order>>;
    async fn count_orders(&self) -> StoreResult<i64>;

    /// Writes one checked change and its audit row, if the order is still at the expected version.
    async fn apply_change(&self, change: &PlannedChange, actor: &Actor, at: DateTime<Utc>) -> StoreResult<Order>;
    /// Writes a parcel's receipts and its orders' changes together, or nothing.
    async fn receive_parcel(&self, parcel: &ParcelReceipt, actor: &Actor) -> StoreResult<Vec<Order>>;
    async fn record_unmatched_parcel(
        &self,
        raw_scan: &str,
        waybill: &Waybill,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;
    async fn unmatched_parcels(&self) -> StoreResult<Vec<UnmatchedParcel>>;
    async fn receipts_for_order(&self, order_id: i64) -> StoreResult<Vec<Receipt>>;
    async fn audit_for_order(&self, order_id: i64) -> StoreResult<Vec<AuditEntry>>;
    /// Records an action that changes no order (revealing personal data, a reprint, …) in the audit log.
    async fn note(
        &self,
        order_id: Option<i64>,
        action: AuditAction,
        reason: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Records the return shipment booked with the courier: its waybill and routing data (JSON), once.
    async fn record_booking(&self, change: &BookedShipment, actor: &Actor, at: DateTime<Utc>) -> StoreResult<()>;
    /// The routing data of the order's booked return shipment, if the courier gave any.
    async fn outbound_route(&self, order_id: i64) -> StoreResult<Option<String>>;
    /// The facts the working-day clocks are computed from, for the orders in scope.
    async fn clock_facts(&self, scope: ClockScope) -> StoreResult<Vec<ClockFacts>>;
}

/// Extra facts a status change records on the order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamps {
    pub received: Option<(DateTime<Utc>, String)>,
    pub outbound_waybill: Option<Waybill>,
    pub shipped_at: Option<DateTime<Utc>>,
}

/// One order's part in a change: the version it was planned on and what to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedChange {
    pub order_id: i64,
    pub order_no: OrderNo,
    pub expected_version: i64,
    pub transition: Transition,
    pub stamps: Stamps,
    /// What the audit row records (intake, hold, release, ship, …).
    pub action: AuditAction,
}

/// A parcel received at the desk: all its keys' changes are written together, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelReceipt {
    pub waybill: Waybill,
    pub at: DateTime<Utc>,
    pub changes: Vec<PlannedChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub order_id: i64,
    pub waybill: String,
    pub received_at: DateTime<Utc>,
    pub operator: String,
    pub desk: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmatchedParcel {
    pub id: i64,
    pub raw_scan: String,
    pub waybill: String,
    pub scanned_at: DateTime<Utc>,
    pub operator: String,
    pub desk: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub order_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub operator: String,
    pub desk: String,
    pub action: AuditAction,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub reason: String,
    /// On the move into a hold: why (migration 0009; `None` on older rows whose reason was not certain).
    pub hold_reason: Option<HoldReason>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub inserted: u64,
    pub updated: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub status: Option<Status>,
    pub limit: i64,
    /// Orders with an id greater than this (keyset paging).
    pub after_id: i64,
}

/// What the working-day clocks of one order are computed from, with the few facts the manager's
/// report names beside them (who received the key, the company and its holder, masked by the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockFacts {
    pub order_id: i64,
    pub order_no: String,
    pub status: Status,
    pub company: String,
    pub holder_name: String,
    pub contact_phone: String,
    pub received_by: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub docs_approved_at: Option<DateTime<Utc>>,
    pub shipped_at: Option<DateTime<Utc>>,
    /// When SF picked up the return parcel (route op 50), when known: the return clock stops then.
    pub picked_up_at: Option<DateTime<Utc>>,
    pub invoice_status: crate::domain::InvoiceStatus,
    /// Audit rows that matter to the clocks (holds, releases, shipping, invoice issue), oldest first;
    /// for [`ClockScope::Reported`] also the moves to renewed and to cancelled or refunded.
    pub events: Vec<AuditEntry>,
}

/// A return shipment the courier booked, to be recorded on the order planned at `expected_version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedShipment {
    pub order_id: i64,
    pub order_no: OrderNo,
    pub expected_version: i64,
    pub status: Status,
    pub waybill: Waybill,
    pub route_json: Option<String>,
}

/// Which orders' clocks to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockScope {
    /// Orders whose return or invoice clock may still be running.
    Open,
    /// Orders shipped, or invoiced, in `[from, to)`.
    StoppedBetween { from: DateTime<Utc>, to: DateTime<Utc> },
    /// The open ones, and those received or shipped since `from` (the board's chart).
    ActiveSince { from: DateTime<Utc> },
    /// Everything the manager's report for `[from, to)` reads: orders whose key was at the desk or whose
    /// invoice was outstanding at some time in the period, and those put on hold in it; a page of at most
    /// `limit` of them with ids above `after_id` (a year's orders are read a page at a time).
    Reported { from: DateTime<Utc>, to: DateTime<Utc>, after_id: i64, limit: i64 },
}

// ---------------------------------------------------------------------------------------------------
// What both backends share: the SQL text (SQLite reads `$N` placeholders too), the audit row, the
// binding of the long column lists, and the decisions that need no database.

/// One audit row to write: who (the actor, passed beside it) did `action` to the order (if any), from
/// and to which status, and why. Every write of the store records one through its backend's
/// `insert_audit`.
#[derive(Debug, Clone, Copy)]
pub(super) struct AuditRecord<'a> {
    pub order_id: Option<i64>,
    pub action: AuditAction,
    pub from: Option<Status>,
    pub to: Option<Status>,
    pub reason: &'a str,
    /// Why, on the move into a hold (else `None`).
    pub hold_reason: Option<HoldReason>,
}

impl<'a> AuditRecord<'a> {
    /// A row that moves no order into a hold.
    pub fn new(
        order_id: Option<i64>,
        action: AuditAction,
        from: Option<Status>,
        to: Option<Status>,
        reason: &'a str,
    ) -> AuditRecord<'a> {
        AuditRecord { order_id, action, from, to, reason, hold_reason: None }
    }

    /// The audit row of an import that moved order `id` from `from` to `to`; an order imported on hold
    /// records its hold's reason.
    pub fn of_import(id: i64, from: Option<Status>, to: Status, order: &Order) -> AuditRecord<'static> {
        let into_hold = to == Status::OnHold && from != Some(Status::OnHold);
        AuditRecord {
            hold_reason: order.hold.as_ref().filter(|_| into_hold).map(|h| h.reason),
            ..AuditRecord::new(Some(id), AuditAction::Import, from, Some(to), IMPORT_REASON)
        }
    }

    /// The audit row of a planned change; a move into a hold records its reason.
    pub fn of_change(change: &'a PlannedChange) -> AuditRecord<'a> {
        let t = &change.transition;
        let into_hold = t.to == Status::OnHold && t.from != Status::OnHold;
        AuditRecord {
            hold_reason: t.hold.as_ref().filter(|_| into_hold).map(|h| h.reason),
            ..AuditRecord::new(Some(change.order_id), change.action, Some(t.from), Some(t.to), t.reason.as_str())
        }
    }
}

pub(super) const INSERT_AUDIT: &str =
    "INSERT INTO audit_log (order_id, at, operator, desk, action, from_status, to_status, reason, hold_reason) \
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Binds [`INSERT_AUDIT`].
pub(super) fn bind_audit<'q, DB>(
    q: sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>,
    record: &AuditRecord<'q>,
    actor: &'q Actor,
    at: DateTime<Utc>,
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
{
    q.bind(record.order_id)
        .bind(at)
        .bind(actor.operator.as_str())
        .bind(actor.desk.as_str())
        .bind(record.action.code())
        .bind(record.from.map(Status::code))
        .bind(record.to.map(Status::code))
        .bind(record.reason)
        .bind(record.hold_reason.map(HoldReason::code))
}

pub(super) const SELECT_AUDIT_FOR_ORDER: &str = "SELECT id, order_id, at, operator, desk, action, from_status, \
to_status, reason, hold_reason FROM audit_log WHERE order_id = $1 ORDER BY id";

/// The order columns, in the order [`super::rows::push_order`] binds them.
pub(super) const ORDER_COLUMNS: &str = "order_no, platform_order_no, kind, term_years, amount_fen, status, \
hold_reason, hold_resume_to, hold_note, invoice_status, created_at, paid_at, docs_approved_at, account, holder_name, \
company, contact_phone, phone_tail, key_serial, cert_serial, cert_subject, cert_not_before, cert_not_after, cert_seal, \
handler_name, handler_phone, handler_id_number, handler_docs_approved, inbound_carrier, inbound_waybill_raw, \
inbound_waybill, ship_name, ship_phone, ship_region, ship_address, invoice_title, invoice_tax_id, invoice_bank, \
invoice_bank_account, invoice_address, invoice_phone, invoice_email, received_at, received_by, outbound_waybill, \
shipped_at, updated_at";

/// `INSERT INTO orders (…columns…) `, followed by the `VALUES` a query builder pushes.
pub(super) static INSERT_ORDERS: LazyLock<String> = LazyLock::new(|| format!("INSERT INTO orders ({ORDER_COLUMNS}) "));

/// The columns of [`super::rows::OrderRow`].
const SELECT_ORDER: &str = "SELECT id, version, order_no, platform_order_no, kind, term_years, amount_fen, status, \
hold_reason, hold_resume_to, hold_note, invoice_status, created_at, paid_at, docs_approved_at, account, holder_name, \
company, contact_phone, key_serial, cert_serial, cert_subject, cert_not_before, cert_not_after, cert_seal, \
handler_name, handler_phone, handler_id_number, handler_docs_approved, inbound_carrier, inbound_waybill_raw, \
ship_name, ship_phone, ship_region, ship_address, invoice_title, invoice_tax_id, invoice_bank, invoice_bank_account, \
invoice_address, invoice_phone, invoice_email, received_at, received_by, outbound_waybill, shipped_at, updated_at, \
courier_picked_up_at, courier_delivered_at FROM orders";

pub(super) static ORDER_BY_NO: LazyLock<String> = LazyLock::new(|| format!("{SELECT_ORDER} WHERE order_no = $1"));
pub(super) static ORDER_BY_ID: LazyLock<String> = LazyLock::new(|| format!("{SELECT_ORDER} WHERE id = $1"));
pub(super) static ORDERS_BY_INBOUND_WAYBILL: LazyLock<String> =
    LazyLock::new(|| format!("{SELECT_ORDER} WHERE inbound_waybill = $1 ORDER BY id"));
/// `$1` the status or NULL for any, `$2` the last id seen, `$3` the limit.
pub(super) static LIST_ORDERS: LazyLock<String> =
    LazyLock::new(|| format!("{SELECT_ORDER} WHERE ($1 IS NULL OR status = $1) AND id > $2 ORDER BY id LIMIT $3"));
/// Bound as [`SearchTerms`] says.
pub(super) static SEARCH_ORDERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{SELECT_ORDER} WHERE order_no = $1 OR platform_order_no = $1 OR key_serial = $1 OR inbound_waybill = $1 \
         OR outbound_waybill = $1 OR account = $2 OR phone_tail = $2 OR holder_name = $2 \
         OR (company >= $2 AND company < $3) ORDER BY id DESC LIMIT $4"
    )
});
/// `$1` a `LIKE` pattern escaped with `\`, `$2` the limit.
pub(super) static SEARCH_ORDERS_BY_COMPANY: LazyLock<String> =
    LazyLock::new(|| format!("{SELECT_ORDER} WHERE company LIKE $1 ESCAPE '\\' ORDER BY id DESC LIMIT $2"));

pub(super) const COUNT_ORDERS: &str = "SELECT COUNT(*) FROM orders";

/// An imported order's id and stored status, by order number.
pub(super) const SELECT_IMPORTED: &str = "SELECT id, status FROM orders WHERE order_no = $1";

/// What an import may change on an order the desk already has: the platform's facts, and the status
/// only while the order is still in the platform's hands (unpaid or paid, not yet at the desk).
pub(super) const UPDATE_IMPORTED_ORDER: &str = "UPDATE orders SET platform_order_no = $2, kind = $3, \
term_years = $4, amount_fen = $5, status = $6, created_at = $7, paid_at = $8, docs_approved_at = $9, account = $10, \
holder_name = $11, company = $12, contact_phone = $13, phone_tail = $14, key_serial = $15, cert_serial = $16, \
cert_subject = $17, cert_not_before = $18, cert_not_after = $19, cert_seal = $20, handler_name = $21, \
handler_phone = $22, handler_id_number = $23, handler_docs_approved = $24, inbound_carrier = $25, \
inbound_waybill_raw = $26, inbound_waybill = $27, ship_name = $28, ship_phone = $29, ship_region = $30, \
ship_address = $31, invoice_title = $32, invoice_tax_id = $33, invoice_bank = $34, invoice_bank_account = $35, \
invoice_address = $36, invoice_phone = $37, invoice_email = $38, updated_at = $39, version = version + 1 WHERE id = $1";

/// Binds [`UPDATE_IMPORTED_ORDER`] for order `id` (the amount checked with [`super::rows::fen`] before).
pub(super) fn bind_imported_order<'q, DB>(
    q: sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>,
    id: i64,
    o: &'q Order,
    status: Status,
    at: DateTime<Utc>,
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
{
    q.bind(id)
        .bind(o.platform_order_no.clone())
        .bind(o.kind.code())
        .bind(i64::from(o.term_years))
        .bind(o.amount.fen().unwrap_or_default())
        .bind(status.code())
        .bind(o.created_at)
        .bind(o.paid_at)
        .bind(o.docs_approved_at)
        .bind(o.account.as_str())
        .bind(o.holder_name.as_str())
        .bind(o.company.as_str())
        .bind(o.contact_phone.as_str())
        .bind(o.phone_tail())
        .bind(o.key_serial.as_str())
        .bind(o.cert.serial.as_str())
        .bind(o.cert.subject.as_str())
        .bind(o.cert.not_before)
        .bind(o.cert.not_after)
        .bind(o.cert.seal.code())
        .bind(o.handler.name.as_str())
        .bind(o.handler.phone.as_str())
        .bind(o.handler.id_number.as_str())
        .bind(o.handler.docs_approved)
        .bind(o.inbound.carrier.as_str())
        .bind(o.inbound.waybill.clone())
        .bind(super::rows::inbound_key(o))
        .bind(o.ship_to.name.as_str())
        .bind(o.ship_to.phone.as_str())
        .bind(o.ship_to.region.as_str())
        .bind(o.ship_to.address.as_str())
        .bind(o.invoice.title.as_str())
        .bind(o.invoice.tax_id.as_str())
        .bind(o.invoice.bank.as_str())
        .bind(o.invoice.bank_account.as_str())
        .bind(o.invoice.address.as_str())
        .bind(o.invoice.phone.as_str())
        .bind(o.invoice.email.as_str())
        .bind(at)
}

/// The statuses an import may replace, and the ones it may set on an existing order.
const IMPORT_MAY_REPLACE: [Status; 2] = [Status::Unpaid, Status::Paid];
const IMPORT_MAY_SET: [Status; 5] =
    [Status::Unpaid, Status::Paid, Status::Cancelled, Status::Refunding, Status::Refunded];

/// The status an import leaves on an existing order at `stored`, when the platform says `imported`.
pub(super) fn imported_status(stored: Status, imported: Status) -> Status {
    if IMPORT_MAY_REPLACE.contains(&stored) && IMPORT_MAY_SET.contains(&imported) {
        imported
    } else {
        stored
    }
}

/// The reason of an import's audit row.
pub(super) const IMPORT_REASON: &str = "平台订单导入";

/// A status change: the status and hold, the receipt and shipping stamps, if the version is still the
/// planned one.
pub(super) const UPDATE_STATUS: &str = "UPDATE orders SET status = $1, hold_reason = $2, hold_resume_to = $3, \
hold_note = $4, received_at = COALESCE($5, received_at), received_by = COALESCE($6, received_by), \
outbound_waybill = COALESCE($7, outbound_waybill), shipped_at = COALESCE($8, shipped_at), \
version = version + 1, updated_at = $9 WHERE id = $10 AND version = $11";

/// Binds [`UPDATE_STATUS`] for a planned change written at `at`.
pub(super) fn bind_status_update<'q, DB>(
    q: sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>,
    change: &'q PlannedChange,
    at: DateTime<Utc>,
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    i64: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
    Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
{
    let t = &change.transition;
    let hold = t.hold.as_ref();
    let (received_at, received_by) = match &change.stamps.received {
        Some((when, who)) => (Some(*when), Some(who.clone())),
        None => (None, None),
    };
    q.bind(t.to.code())
        .bind(hold.map(|h| h.reason.code()))
        .bind(hold.map(|h| h.resume_to.code()))
        .bind(hold.map(|h| h.note.clone()))
        .bind(received_at)
        .bind(received_by)
        .bind(change.stamps.outbound_waybill.as_ref().map(|w| w.as_str().to_string()))
        .bind(change.stamps.shipped_at)
        .bind(at)
        .bind(change.order_id)
        .bind(change.expected_version)
}

pub(super) const INSERT_RECEIPT: &str =
    "INSERT INTO receipts (order_id, waybill, received_at, operator, desk) VALUES ($1, $2, $3, $4, $5)";
pub(super) const SELECT_RECEIPTS_FOR_ORDER: &str =
    "SELECT order_id, waybill, received_at, operator, desk FROM receipts WHERE order_id = $1 ORDER BY id";

pub(super) const INSERT_UNMATCHED_PARCEL: &str = "INSERT INTO unmatched_parcels (raw_scan, waybill, scanned_at, \
operator, desk) VALUES ($1, $2, $3, $4, $5) RETURNING id";
/// A parcel received for an order leaves the unmatched queue (scanned before its order was imported).
pub(super) const RESOLVE_UNMATCHED_PARCELS: &str =
    "UPDATE unmatched_parcels SET resolved_at = $1, order_id = $2 WHERE waybill = $3 AND resolved_at IS NULL";
pub(super) const SELECT_UNMATCHED_PARCELS: &str = "SELECT id, raw_scan, waybill, scanned_at, operator, desk \
FROM unmatched_parcels WHERE resolved_at IS NULL ORDER BY id";

/// The reason of an unmatched parcel's audit row.
pub(super) fn unmatched_reason(waybill: &Waybill) -> String {
    format!("无主包裹 {}", waybill)
}

/// The booked return shipment, once: only while the order has no outbound waybill.
pub(super) const UPDATE_BOOKING: &str = "UPDATE orders SET outbound_waybill = $1, outbound_route = $2, \
version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5 AND outbound_waybill IS NULL";
pub(super) const SELECT_OUTBOUND_ROUTE: &str = "SELECT outbound_route FROM orders WHERE id = $1";

/// The reason of a booking's audit row.
pub(super) fn booking_reason(booked: &BookedShipment) -> String {
    format!("顺丰下单，回寄运单 {}", booked.waybill)
}

/// What the desk's search binds: `$1` the text as an identifier (order number, waybill, key serial),
/// `$2` the text as typed (account, phone tail, holder name, company prefix), `$3` the end of the
/// company prefix range.
pub(super) struct SearchTerms<'a> {
    pub canonical: String,
    pub raw: &'a str,
    pub upper_bound: String,
}

impl<'a> SearchTerms<'a> {
    /// None for a blank text: nothing to search.
    pub fn new(text: &'a str) -> Option<SearchTerms<'a>> {
        let raw = text.trim();
        if raw.is_empty() {
            return None;
        }
        Some(SearchTerms {
            canonical: crate::domain::scan_text::canonical_identifier(raw),
            raw,
            upper_bound: format!("{raw}\u{10FFFF}"),
        })
    }

    /// When the indexes found nothing, the text to look for inside company names (a full scan,
    /// acceptable for a search staff type by hand, never used by intake): a [`SEARCH_ORDERS_BY_COMPANY`]
    /// pattern, for a text of two characters or more.
    pub fn company_pattern(&self) -> Option<String> {
        (self.raw.chars().count() >= 2)
            .then(|| format!("%{}%", self.raw.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")))
    }
}

/// Which orders a clock query covers. The open ones need no parameter.
const CLOCK_OPEN: &str = "o.status IN ('paid', 'received', 'renewing', 'renewed', 'on_hold') \
OR (o.invoice_status = 'pending' AND o.status IN ('shipped', 'completed'))";
/// Added to [`CLOCK_OPEN`] for the board's chart: received or shipped since `$1`.
const CLOCK_ACTIVE_SINCE: &str = "o.received_at >= $1 OR o.shipped_at >= $1";
/// Shipped or invoiced in `[$1, $2)`; `$3` the code of [`AuditAction::InvoiceIssued`].
const CLOCK_STOPPED: &str = "(o.shipped_at >= $1 AND o.shipped_at < $2) OR EXISTS (SELECT 1 FROM audit_log i \
WHERE i.order_id = o.id AND i.action = $3 AND i.at >= $1 AND i.at < $2)";
/// What the report for `[$1, $2)` reads (`$3` the code of [`AuditAction::InvoiceIssued`]): the key at the
/// desk at some time in the period (received before its end, not shipped before its start); the invoice
/// outstanding at some time in it (approved before its end, and still pending or issued in or after
/// it); or a hold begun in it.
const CLOCK_REPORTED: &str = "(o.received_at < $2 AND (o.shipped_at IS NULL OR o.shipped_at >= $1)) \
OR (o.docs_approved_at < $2 AND (o.invoice_status = 'pending' OR EXISTS (SELECT 1 FROM audit_log i \
WHERE i.order_id = o.id AND i.action = $3 AND i.at >= $1))) \
OR EXISTS (SELECT 1 FROM audit_log h WHERE h.order_id = o.id AND h.to_status = 'on_hold' AND h.at >= $1 AND h.at < $2)";
/// The moves the report reads besides the clocks' events: renewals, and the end of an order's clocks
/// without a stop (cancelled or refunded).
const REPORTED_STATUSES: [Status; 4] = [Status::Renewed, Status::Cancelled, Status::Refunding, Status::Refunded];

/// The audit actions the clocks read besides holds and releases (which they find by status).
const CLOCK_EVENT_ACTIONS: [AuditAction; 3] =
    [AuditAction::Ship, AuditAction::InvoiceIssued, AuditAction::DeadlineMoved];

/// The two queries of [`OrderStore::clock_facts`] for one scope, and what each binds: first the
/// instants, then its action codes, in placeholder order.
pub(super) struct ClockQueries {
    /// [`super::rows::ClockOrderRow`]s, by order id.
    pub orders: String,
    /// [`super::rows::AuditRow`]s, by order id then id.
    pub events: String,
    /// The scope's window, bound first by both queries.
    pub times: Vec<DateTime<Utc>>,
    /// The action codes [`ClockQueries::orders`] binds after the instants.
    pub orders_codes: Vec<&'static str>,
    /// The action codes [`ClockQueries::events`] binds after the instants.
    pub events_codes: Vec<&'static str>,
    /// A page (after this id, at most this many orders), bound last: the orders query binds the two,
    /// the events query the first and the last order id the orders query returned.
    pub page: Option<(i64, i64)>,
}

impl ClockQueries {
    pub fn new(scope: ClockScope) -> ClockQueries {
        let (filter, times, filter_codes) = match scope {
            ClockScope::Open => (CLOCK_OPEN.to_string(), vec![], vec![]),
            ClockScope::StoppedBetween { from, to } => {
                (CLOCK_STOPPED.to_string(), vec![from, to], vec![AuditAction::InvoiceIssued.code()])
            }
            ClockScope::ActiveSince { from } => (format!("{CLOCK_OPEN} OR {CLOCK_ACTIVE_SINCE}"), vec![from], vec![]),
            ClockScope::Reported { from, to, .. } => {
                (CLOCK_REPORTED.to_string(), vec![from, to], vec![AuditAction::InvoiceIssued.code()])
            }
        };
        let page = match scope {
            ClockScope::Reported { after_id, limit, .. } => Some((after_id, limit)),
            _ => None,
        };
        let extra_statuses = match scope {
            ClockScope::Reported { .. } => {
                let codes: Vec<String> = REPORTED_STATUSES.iter().map(|s| format!("'{}'", s.code())).collect();
                format!(" OR a.to_status IN ({})", codes.join(", "))
            }
            _ => String::new(),
        };
        let first = times.len() + filter_codes.len() + 1;
        let actions: Vec<String> = (first..first + CLOCK_EVENT_ACTIONS.len()).map(|n| format!("${n}")).collect();
        let events_codes: Vec<&'static str> =
            filter_codes.iter().copied().chain(CLOCK_EVENT_ACTIONS.map(AuditAction::code)).collect();
        let (orders_page, events_page) = match page {
            Some(_) => {
                let o = times.len() + filter_codes.len() + 1;
                let e = times.len() + events_codes.len() + 1;
                (
                    format!(" AND o.id > ${o} ORDER BY o.id LIMIT ${}", o + 1),
                    format!(" AND o.id > ${e} AND o.id <= ${}", e + 1),
                )
            }
            None => (" ORDER BY o.id".to_string(), String::new()),
        };
        ClockQueries {
            orders: format!(
                "SELECT o.id, o.order_no, o.status, o.company, o.holder_name, o.contact_phone, o.received_by, \
                 o.paid_at, o.received_at, o.docs_approved_at, o.shipped_at, o.courier_picked_up_at AS picked_up_at, \
                 o.invoice_status FROM orders o \
                 WHERE ({filter}){orders_page}"
            ),
            events: format!(
                "SELECT a.id, a.order_id, a.at, a.operator, a.desk, a.action, a.from_status, a.to_status, a.reason, \
                 a.hold_reason FROM audit_log a JOIN orders o ON o.id = a.order_id WHERE ({filter}) AND \
                 (a.to_status = 'on_hold' OR a.from_status = 'on_hold' OR a.action IN ({}){extra_statuses}){events_page} \
                 ORDER BY a.order_id, a.id",
                actions.join(", ")
            ),
            times,
            orders_codes: filter_codes,
            events_codes,
            page,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_queries_bind_every_placeholder_once_in_order() {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let scopes = [
            ClockScope::Open,
            ClockScope::StoppedBetween { from: t, to: t },
            ClockScope::ActiveSince { from: t },
            ClockScope::Reported { from: t, to: t, after_id: 0, limit: 10 },
        ];
        for scope in scopes {
            let q = ClockQueries::new(scope);
            let placeholders = |sql: &str| (1..10).filter(|n| sql.contains(&format!("${n}"))).count();
            let paged = if q.page.is_some() { 2 } else { 0 };
            assert_eq!(placeholders(&q.orders), q.times.len() + q.orders_codes.len() + paged, "{scope:?}");
            assert_eq!(placeholders(&q.events), q.times.len() + q.events_codes.len() + paged, "{scope:?}");
            assert_eq!(
                q.events_codes[q.events_codes.len() - CLOCK_EVENT_ACTIONS.len()..],
                CLOCK_EVENT_ACTIONS.map(AuditAction::code),
                "{scope:?}"
            );
            for action in CLOCK_EVENT_ACTIONS {
                assert!(!q.events.contains(&format!("'{action}'")) && !q.orders.contains(&format!("'{action}'")));
            }
        }
    }

    #[test]
    fn the_hold_reason_migration_knows_every_reasons_label() {
        for text in [
            include_str!("../../sql/sqlite/0009_hold_reason.sql"),
            include_str!("../../sql/postgres/0009_hold_reason.sql"),
        ] {
            for reason in HoldReason::ALL {
                let line = format!("WHEN '{}' THEN '{}'", reason.label(), reason.code());
                assert!(text.contains(&line), "0009 lacks {line}");
            }
        }
    }
}

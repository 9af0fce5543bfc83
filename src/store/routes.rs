//! SF route events (table `route_events`, migration 0010): each event stored once by SF's route id
//! with the raw body it came in, and applied to the order whose waybill it names. A batch (one push,
//! or one query answer) is written in one transaction: all of it or none.
//!
//! Applied: on an order's **outbound** waybill, op 50 sets `courier_picked_up_at` and op 80 sets
//! `courier_delivered_at`, each to the earliest such event seen (so events arriving out of order, or
//! twice, end in the same state). Inbound events are stored and read back by waybill (the desk's
//! 到件预计 and the lost-parcel flag are built from them). Events for waybills no order has are stored
//! with no order. The first delivery of an order's return writes the member's 已签收 notice (outbox,
//! migration 0011) in the same transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreResult;
use crate::domain::route::{Direction, RouteEvent};

/// Where a batch of route events came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteSource {
    /// SF posted it to the route receiver.
    Push,
    /// `EXP_RECE_SEARCH_ROUTES` returned it.
    Poll,
}

impl RouteSource {
    pub fn code(self) -> &'static str {
        match self {
            RouteSource::Push => "push",
            RouteSource::Poll => "poll",
        }
    }
}

/// What recording a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RouteOutcome {
    /// Events stored for the first time.
    pub stored: usize,
    /// Events already stored (same route id): acknowledged, nothing changed.
    pub duplicates: usize,
    /// New events whose waybill no order has.
    pub unmatched: usize,
    /// Orders whose courier pickup instant this batch set or moved earlier.
    pub picked_up: Vec<String>,
    /// Orders whose courier delivery instant this batch set or moved earlier.
    pub delivered: Vec<String>,
}

/// A stored route event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRoute {
    pub route_id: String,
    pub waybill: String,
    pub op_code: String,
    pub accept_time: DateTime<Utc>,
    pub remark: String,
    pub direction: Option<Direction>,
    pub order_no: Option<String>,
    pub source: String,
}

/// The latest "out for delivery" (44) or "delivered" (80) route of an inbound parcel the desk has
/// not scanned yet (its order paid or unpaid, not received).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRoute {
    pub order_no: String,
    pub waybill: String,
    pub op_code: String,
    pub accept_time: DateTime<Utc>,
}

/// A waybill the route poll follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedWaybill {
    pub waybill: String,
    pub direction: Direction,
    /// The phone whose last four digits SF checks: the member's for either parcel.
    pub phone: String,
}

#[async_trait]
pub trait RouteStore: Send + Sync {
    /// Stores and applies one batch in one transaction; `raw` is the push body or query answer.
    async fn record_routes(
        &self,
        events: &[RouteEvent],
        raw: &str,
        source: RouteSource,
        at: DateTime<Utc>,
    ) -> StoreResult<RouteOutcome>;

    /// The stored events of one waybill, oldest first.
    async fn routes_of_waybill(&self, waybill: &str) -> StoreResult<Vec<StoredRoute>>;

    /// How many route events are stored (the receiver's tests check that a refusal wrote none).
    async fn route_event_count(&self) -> StoreResult<i64>;

    /// The waybills worth asking SF about: paid orders' inbound parcels not received yet, and shipped
    /// orders' returns not delivered yet, each with the phone SF checks (`checkPhoneNo`).
    async fn tracked_waybills(&self) -> StoreResult<Vec<TrackedWaybill>>;

    /// Inbound parcels SF has out for delivery or delivered that the desk has not scanned: each
    /// waybill's latest such route.
    async fn inbound_arrivals(&self) -> StoreResult<Vec<InboundRoute>>;

    /// Shipped orders SF delivered at or before `before` (the member has not confirmed receipt),
    /// by order number, earliest delivery first.
    async fn delivered_unconfirmed(&self, before: DateTime<Utc>) -> StoreResult<Vec<String>>;
}

/// The order a waybill belongs to, inbound first (several keys in one parcel: the first order).
pub(super) const ORDER_OF_WAYBILL: &str = "SELECT id, order_no, \
CASE WHEN inbound_waybill = $1 THEN 'inbound' ELSE 'outbound' END \
FROM orders WHERE inbound_waybill = $1 OR outbound_waybill = $1 \
ORDER BY CASE WHEN inbound_waybill = $1 THEN 0 ELSE 1 END, id LIMIT 1";

pub(super) const INSERT_ROUTE: &str = "INSERT INTO route_events \
(route_id, waybill, op_code, accept_time, accept_address, remark, reason_code, sf_order_id, direction, order_id, \
source, raw, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
ON CONFLICT (route_id) DO NOTHING RETURNING id";

pub(super) const SET_PICKED_UP: &str = "UPDATE orders SET courier_picked_up_at = $1 \
WHERE id = $2 AND (courier_picked_up_at IS NULL OR courier_picked_up_at > $1)";

pub(super) const SET_DELIVERED: &str = "UPDATE orders SET courier_delivered_at = $1 \
WHERE id = $2 AND (courier_delivered_at IS NULL OR courier_delivered_at > $1)";

pub(super) const SELECT_ROUTES_OF_WAYBILL: &str = "SELECT r.route_id, r.waybill, r.op_code, r.accept_time, \
r.remark, r.direction, o.order_no, r.source FROM route_events r LEFT JOIN orders o ON o.id = r.order_id \
WHERE r.waybill = $1 ORDER BY r.accept_time, r.id";

pub(super) const COUNT_ROUTES: &str = "SELECT COUNT(*) FROM route_events";

pub(super) const SELECT_INBOUND_ARRIVALS: &str = "SELECT o.order_no, r.waybill, r.op_code, r.accept_time \
FROM route_events r JOIN orders o ON o.id = r.order_id \
WHERE r.direction = 'inbound' AND r.op_code IN ('44', '80') AND o.received_at IS NULL \
AND o.status IN ('paid', 'unpaid') ORDER BY r.waybill, r.accept_time";

/// Keeps each waybill's latest route (rows sorted by waybill, then time).
pub(super) fn latest_arrivals(rows: Vec<(String, String, String, DateTime<Utc>)>) -> Vec<InboundRoute> {
    let mut out: Vec<InboundRoute> = Vec::new();
    for (order_no, waybill, op_code, accept_time) in rows {
        let route = InboundRoute { order_no, waybill, op_code, accept_time };
        match out.last_mut() {
            Some(last) if last.waybill == route.waybill => *last = route,
            _ => out.push(route),
        }
    }
    out
}

pub(super) const SELECT_TRACKED: &str = "SELECT inbound_waybill, 'inbound', contact_phone FROM orders \
WHERE status = 'paid' AND inbound_waybill IS NOT NULL AND received_at IS NULL \
UNION ALL SELECT outbound_waybill, 'outbound', ship_phone FROM orders \
WHERE status = 'shipped' AND outbound_waybill IS NOT NULL AND courier_delivered_at IS NULL";

pub(super) fn tracked(rows: Vec<(String, String, String)>) -> Vec<TrackedWaybill> {
    rows.into_iter()
        .filter_map(|(waybill, direction, phone)| {
            Some(TrackedWaybill { waybill, direction: Direction::from_code(&direction)?, phone })
        })
        .collect()
}

pub(super) const SELECT_DELIVERED_UNCONFIRMED: &str = "SELECT order_no FROM orders \
WHERE status = 'shipped' AND courier_delivered_at IS NOT NULL AND courier_delivered_at <= $1 \
ORDER BY courier_delivered_at, id";

/// A row of [`SELECT_ROUTES_OF_WAYBILL`].
pub(super) type RouteRow = (String, String, String, DateTime<Utc>, String, Option<String>, Option<String>, String);

pub(super) fn stored_route(row: RouteRow) -> StoredRoute {
    let (route_id, waybill, op_code, accept_time, remark, direction, order_no, source) = row;
    StoredRoute {
        route_id,
        waybill,
        op_code,
        accept_time,
        remark,
        direction: direction.as_deref().and_then(Direction::from_code),
        order_no,
        source,
    }
}

//! Asking SF where the parcels are (`EXP_RECE_SEARCH_ROUTES`): the fallback for route events the push
//! missed (the receiver was down, or SF never pushed). `keydesk worker` asks about every tracked
//! waybill — paid orders' inbound parcels not received yet, shipped orders' returns not delivered
//! yet — once per [`POLL_EVERY`] each, records what SF answers exactly as a push would be recorded
//! (the store keeps each event once and the earliest pickup and delivery), and backs off per waybill
//! when SF fails: 5 minutes doubling to 6 hours, then the ordinary pace again after a success.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::clock::Clock;
use crate::outbound::courier::{Courier, CourierError};
use crate::store::{RouteSource, Store};

use super::OpsError;

/// How often one waybill is asked about while nothing fails.
pub const POLL_EVERY: TimeDelta = TimeDelta::minutes(30);
/// At most this many waybills per pass (the rest wait for the next passes).
const BATCH: usize = 20;

/// The wait after `failures` failed asks in a row: 5 minutes doubling, at most 6 hours.
pub fn backoff(failures: u32) -> TimeDelta {
    let exp = failures.saturating_sub(1).min(12);
    TimeDelta::minutes((5_i64 << exp).min(6 * 60))
}

/// When each waybill is next due, and how many asks about it failed in a row (in memory: a worker
/// that starts again asks about every waybill once, which SF answers idempotently).
#[derive(Debug, Clone, Default)]
pub struct PollState {
    next: HashMap<String, (DateTime<Utc>, u32)>,
}

impl PollState {
    /// The waybill's failures in a row so far.
    pub fn failures(&self, waybill: &str) -> u32 {
        self.next.get(waybill).map_or(0, |(_, f)| *f)
    }
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PollRun {
    /// Waybills asked about.
    pub asked: usize,
    /// Route events SF gave that were new to the store.
    pub new_events: usize,
    /// Waybills whose ask failed, with why, and when they are asked again.
    pub failed: Vec<PollFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollFailure {
    pub waybill: String,
    pub error: String,
    pub next_at: DateTime<Utc>,
}

/// Asks SF about every tracked waybill that is due now (nothing, not even the store, when the courier
/// cannot be asked).
pub async fn poll_due(
    store: &dyn Store,
    courier: &Arc<dyn Courier>,
    state: &mut PollState,
    clock: &Clock,
) -> Result<PollRun, OpsError> {
    let mut run = PollRun::default();
    if !courier.queries_routes() {
        return Ok(run);
    }
    let now = clock.now();
    let tracked = store.tracked_waybills().await?;
    // Waybills no longer tracked are forgotten.
    let still: std::collections::HashSet<&str> = tracked.iter().map(|t| t.waybill.as_str()).collect();
    state.next.retain(|w, _| still.contains(w.as_str()));
    let due: Vec<_> = tracked
        .into_iter()
        .filter(|t| state.next.get(&t.waybill).is_none_or(|(at, _)| *at <= now))
        .take(BATCH)
        .collect();
    for t in due {
        run.asked += 1;
        let (courier, waybill, phone_tail) =
            (Arc::clone(courier), t.waybill.clone(), crate::domain::mask::phone_tail(&t.phone));
        let answer = tokio::task::spawn_blocking(move || courier.routes(&waybill, &phone_tail))
            .await
            .unwrap_or_else(|e| Err(CourierError::Unreachable(format!("route query task failed: {e}"))));
        let after = clock.now();
        match answer {
            Ok((events, raw)) => {
                if !events.is_empty() {
                    let outcome = store.record_routes(&events, &raw, RouteSource::Poll, after).await?;
                    run.new_events += outcome.stored;
                }
                state.next.insert(t.waybill, (after + POLL_EVERY, 0));
            }
            Err(e) => {
                let failures = state.failures(&t.waybill) + 1;
                let next_at = after + backoff(failures);
                tracing::warn!(waybill = %t.waybill, failures, error = %e, "SF route query failed; backing off");
                run.failed.push(PollFailure { waybill: t.waybill.clone(), error: e.to_string(), next_at });
                state.next.insert(t.waybill, (next_at, failures));
            }
        }
    }
    Ok(run)
}

/// Inbound parcels as SF sees them and the desk does not yet: what should arrive today, and what SF
/// delivered days ago that nobody scanned (lost in the mail room).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Arrivals {
    /// Out for delivery (44) or delivered (80) today, Beijing time: 到件预计.
    pub expected: Vec<Arrival>,
    /// Delivered `lost_after` working days ago or more and never scanned: 疑似遗失.
    pub lost: Vec<Arrival>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Arrival {
    pub order_no: String,
    pub waybill: String,
    pub delivered: bool,
    pub at: DateTime<chrono::FixedOffset>,
}

/// Sorts the unscanned inbound parcels SF reported into today's and the lost ones, by the calendar.
pub async fn arrivals(
    store: &dyn Store,
    rules: &crate::sla::ClockRules,
    now: DateTime<chrono::FixedOffset>,
    lost_after: u32,
) -> Result<Arrivals, OpsError> {
    let today = now.date_naive();
    let calendar = rules.calendar();
    let mut out = Arrivals::default();
    for r in store.inbound_arrivals().await? {
        let at = r.accept_time.with_timezone(&crate::sla::SHANGHAI);
        let delivered = r.op_code == crate::domain::route::OP_DELIVERED;
        let day = at.date_naive();
        let arrival = Arrival { order_no: r.order_no, waybill: r.waybill, delivered, at };
        let lost_from =
            calendar.nth_working_day_after(day, lost_after.max(1)).map_err(|e| OpsError::Invalid(e.to_string()))?;
        if delivered && lost_from <= today {
            out.lost.push(arrival);
        } else if day == today {
            out.expected.push(arrival);
        }
    }
    Ok(out)
}

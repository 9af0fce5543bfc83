//! The working-day clocks of real orders: recorded events from the store become clock inputs (starts,
//! holds as pauses, shipping or invoice issue as the stop), and the `sla` core computes the board, its two-week chart and
//! the met/missed report. Everything is recomputed from the events, so a corrected calendar re-evaluates
//! every open order.

use chrono::{DateTime, FixedOffset, Utc};

use crate::domain::{AuditAction, HoldReason, InvoiceStatus, Status};
use crate::sla::board::{build_board, Board, BoardOrder, BoardWindow};
use crate::sla::report::{summarise, ClosedClock, SlaReport};
use crate::sla::trend::{Trend, TrendFacts};
use crate::sla::working_time::shanghai_instant;
use crate::sla::{ClockEvents, ClockRules, PauseInterval, Policy, SHANGHAI};
use crate::store::{ClockFacts, ClockScope, Store};

use super::OpsError;

fn shanghai(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&SHANGHAI)
}

/// The holds of an order, with why each began (when the audit row records it): from the move to
/// `on_hold` until the move away from it (open while still held).
pub fn holds(facts: &ClockFacts) -> Vec<(PauseInterval, Option<HoldReason>)> {
    let mut out = Vec::new();
    let mut open: Option<(DateTime<FixedOffset>, Option<HoldReason>)> = None;
    for e in &facts.events {
        let to_hold = e.to_status.as_deref() == Some(Status::OnHold.code());
        let from_hold = e.from_status.as_deref() == Some(Status::OnHold.code());
        if to_hold && !from_hold && open.is_none() {
            open = Some((shanghai(e.at), e.hold_reason));
        } else if from_hold && !to_hold {
            if let Some((from, reason)) = open.take() {
                out.push((PauseInterval { from, to: Some(shanghai(e.at)) }, reason));
            }
        }
    }
    if let Some((from, reason)) = open {
        out.push((PauseInterval { from, to: None }, reason));
    }
    out
}

/// Holds as pauses.
fn pauses(facts: &ClockFacts) -> Vec<PauseInterval> {
    holds(facts).into_iter().map(|(pause, _)| pause).collect()
}

pub(crate) fn last_action(facts: &ClockFacts, action: AuditAction) -> Option<&crate::store::AuditEntry> {
    facts.events.iter().rev().find(|e| e.action == action)
}

/// What the audit log says of a clock's last move by a calendar change (its reason names the policy).
fn last_move(facts: &ClockFacts, policy: Policy) -> Option<String> {
    let prefix = moved_prefix(policy);
    let moved =
        facts.events.iter().rev().find(|e| e.action == AuditAction::DeadlineMoved && e.reason.starts_with(prefix));
    moved.map(|e| e.reason.clone())
}

fn moved_prefix(policy: Policy) -> &'static str {
    match policy {
        Policy::Return => "寄回时限",
        Policy::Invoice => "开票时限",
    }
}

/// The clocks of one order: the return clock once the key is received, paid and its documents
/// approved; the invoice clock once approved with an invoice requested.
pub fn clocks_of(facts: &ClockFacts) -> Vec<BoardOrder> {
    let mut out = Vec::new();
    let starts = ClockEvents::starts_when_all_happened(&[
        facts.received_at.map(shanghai),
        facts.paid_at.map(shanghai),
        facts.docs_approved_at.map(shanghai),
    ]);
    if let Some(starts) = starts {
        let shipped_by = last_action(facts, AuditAction::Ship).map(|e| e.operator.clone());
        out.push(BoardOrder {
            order_no: facts.order_no.clone(),
            status_code: facts.status.code().to_string(),
            clock: ClockEvents {
                policy: Policy::Return,
                starts,
                pauses: pauses(facts),
                // The key left the desk when SF picked it up; without SF's routes, at the ship scan.
                stop: facts.picked_up_at.or(facts.shipped_at).map(shanghai),
            },
            stopped_by: shipped_by,
            moved: last_move(facts, Policy::Return),
        });
    }
    let issued = last_action(facts, AuditAction::InvoiceIssued);
    // An invoice issued before keydesk knew the order has no recorded issue time: no clock to judge.
    let invoice_known = facts.invoice_status == InvoiceStatus::Pending
        || (facts.invoice_status == InvoiceStatus::Issued && issued.is_some());
    if let (true, Some(approved)) = (invoice_known, facts.docs_approved_at) {
        out.push(BoardOrder {
            order_no: facts.order_no.clone(),
            status_code: facts.status.code().to_string(),
            clock: ClockEvents {
                policy: Policy::Invoice,
                starts: vec![shanghai(approved)],
                pauses: vec![],
                stop: issued.map(|e| shanghai(e.at)),
            },
            stopped_by: issued.map(|e| e.operator.clone()),
            moved: last_move(facts, Policy::Invoice),
        });
    }
    out
}

/// The board of open clocks at `now`.
pub async fn board(
    store: &dyn Store,
    rules: &ClockRules,
    now: DateTime<FixedOffset>,
    window: BoardWindow,
) -> Result<Board, OpsError> {
    let facts = store.clock_facts(ClockScope::Open).await?;
    let orders: Vec<BoardOrder> = facts.iter().flat_map(clocks_of).filter(|o| o.clock.stop.is_none()).collect();
    Ok(build_board(rules, &orders, now, window))
}

/// Met and missed for the clocks that stopped in `[from, to)`, per day and per operator. Clocks whose
/// calendar year is missing are reported in the error list rather than guessed.
pub async fn report(
    store: &dyn Store,
    rules: &ClockRules,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(SlaReport, Vec<String>), OpsError> {
    let facts = store.clock_facts(ClockScope::StoppedBetween { from, to }).await?;
    let mut closed = Vec::new();
    let mut problems = Vec::new();
    for order in facts.iter().flat_map(clocks_of) {
        let Some(stop) = order.clock.stop else { continue };
        if stop < shanghai(from) || stop >= shanghai(to) {
            continue;
        }
        match rules.evaluate(&order.clock, stop) {
            Ok(eval) => closed.extend(ClosedClock::from_evaluation(&eval, order.stopped_by.as_deref().unwrap_or("-"))),
            Err(e) => problems.push(format!("{} ({}): {e}", order.order_no, order.clock.policy.as_str())),
        }
    }
    Ok((summarise(&closed), problems))
}

/// Whether an order in this status has left the desk's hands without its clocks stopping (cancelled
/// or refunded): none of its clocks is open any more.
pub fn withdrawn(status: Status) -> bool {
    matches!(status, Status::Cancelled | Status::Refunding | Status::Refunded)
}

/// The board's chart: received, shipped and gone late per day over the last `days` days up to `now`.
/// A return clock whose calendar year is missing has no due instant and is not counted as late, nor is
/// a cancelled or refunded order's.
pub async fn trend(
    store: &dyn Store,
    rules: &ClockRules,
    now: DateTime<FixedOffset>,
    days: u32,
) -> Result<Trend, OpsError> {
    let today = crate::sla::WorkingTime::shanghai_date(now);
    let first = today - chrono::Duration::days(i64::from(days.max(1)) - 1);
    let from = shanghai_instant(first, 0).with_timezone(&Utc);
    let facts = store.clock_facts(ClockScope::ActiveSince { from }).await?;
    let counted: Vec<TrendFacts> = facts
        .iter()
        .map(|f| {
            // A cancelled or refunded order's key goes back unrenewed: it is not late.
            let due_at = clocks_of(f)
                .into_iter()
                .find(|c| c.clock.policy == Policy::Return && !withdrawn(f.status))
                .and_then(|c| rules.evaluate(&c.clock, now).ok())
                .map(|e| e.schedule.due_at);
            TrendFacts { received_at: f.received_at.map(shanghai), shipped_at: f.shipped_at.map(shanghai), due_at }
        })
        .collect();
    Ok(Trend::build(&counted, now, days))
}

/// An open clock whose deadline a calendar change moved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MovedDeadline {
    pub order_no: String,
    pub policy: Policy,
    /// The deadline before the change (`None`: it could not be computed then).
    pub before: Option<DateTime<FixedOffset>>,
    pub after: DateTime<FixedOffset>,
    /// Whether the new deadline is still on a provisional calendar.
    pub provisional: bool,
    /// What the order's audit log records.
    pub reason: String,
}

/// After a calendar change (a notice imported, a calendar corrected): every open clock is computed on
/// the calendar `before` and `after` it, and each whose deadline moved gets an audit row saying from
/// what to what, which the board shows beside it. Returns the moves.
pub async fn record_calendar_change(
    store: &dyn Store,
    before: &ClockRules,
    after: &ClockRules,
    actor: &crate::store::Actor,
    clock: &crate::clock::Clock,
) -> Result<Vec<MovedDeadline>, OpsError> {
    let now = clock.now_local();
    let facts = store.clock_facts(ClockScope::Open).await?;
    let mut moves = Vec::new();
    for f in &facts {
        for order in clocks_of(f).into_iter().filter(|o| o.clock.stop.is_none()) {
            let Ok(new) = after.schedule(&order.clock, now) else { continue };
            let old = before.schedule(&order.clock, now).ok();
            if old.is_some_and(|old| old.due_at == new.due_at) {
                continue;
            }
            let was = old.map_or("无法计算".to_string(), |o| crate::sla::due::format_instant_zh(o.due_at));
            let reason = format!(
                "{}因节假日日历调整：{was} → {}{}",
                moved_prefix(order.clock.policy),
                crate::sla::due::format_instant_zh(new.due_at),
                if new.provisional_calendar { "（暂定）" } else { "" }
            );
            store.note(Some(f.order_id), AuditAction::DeadlineMoved, &reason, actor, clock.now()).await?;
            moves.push(MovedDeadline {
                order_no: order.order_no,
                policy: order.clock.policy,
                before: old.map(|o| o.due_at),
                after: new.due_at,
                provisional: new.provisional_calendar,
                reason,
            });
        }
    }
    Ok(moves)
}

/// One order's clocks at `now`, from what its detail already holds (the audit log is the clocks'
/// events): running, stopped, or why one cannot be computed.
pub fn order_clocks(
    detail: &super::orders::OrderDetail,
    rules: &ClockRules,
    now: DateTime<FixedOffset>,
) -> Vec<crate::sla::board::BoardRow> {
    let o = &detail.order;
    let facts = ClockFacts {
        order_id: o.id,
        order_no: o.order_no.to_string(),
        status: o.status,
        company: o.company.clone(),
        holder_name: o.holder_name.clone(),
        contact_phone: o.contact_phone.clone(),
        received_by: o.received_by.clone(),
        paid_at: o.paid_at,
        received_at: o.received_at,
        docs_approved_at: o.docs_approved_at,
        shipped_at: o.shipped_at,
        picked_up_at: o.picked_up_at,
        invoice_status: o.invoice_status,
        events: detail.audit.clone(),
    };
    let mut rows = build_board(rules, &clocks_of(&facts), now, BoardWindow::all()).rows;
    rows.sort_by_key(|r| r.policy != Policy::Return);
    rows
}

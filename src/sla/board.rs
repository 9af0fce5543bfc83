//! The SLA board: every open order's clock evaluated at `now`, counted per state, with a window of the most
//! urgent rows. Pure: the shell loads the orders and renders the rows.
//!
//! Urgency order (ties keep the input order):
//! 1. `breached`, most overdue first (earliest due instant first);
//! 2. clocks that cannot be computed (e.g. no calendar for the year) — staff must act, so they rank high;
//! 3. running clocks (`due_today`, `at_risk`, `on_track`) by due instant, soonest first;
//! 4. `on_hold`, longest on hold first — waiting on the member, the due instant is not moving;
//! 5. `missed`, then `met` (stopped but the order is still open, e.g. shipped, awaiting receipt), by stop time.
//!
//! Memory beyond the input is proportional to the window: a bounded heap keeps the best `offset + limit` rows
//! while the counts cover every order.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::clock::{ClockEvaluation, ClockEvents, ClockRules, ClockState, Policy};
use super::error::SlaError;

/// One open order as the store hands it to the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardOrder {
    pub order_no: String,
    /// The order's status code as the store keeps it (e.g. `待发货`), shown as is.
    pub status_code: String,
    pub clock: ClockEvents,
    /// Operator who recorded the stop event, if any.
    pub stopped_by: Option<String>,
    /// How the deadline last moved because the calendar changed (a notice imported), if it did.
    pub moved: Option<String>,
}

/// Which rows to return: `limit` rows after skipping the `offset` most urgent ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BoardWindow {
    pub offset: usize,
    pub limit: usize,
}

impl BoardWindow {
    /// The first `limit` rows.
    pub fn first(limit: usize) -> Self {
        Self { offset: 0, limit }
    }

    /// Every row.
    pub fn all() -> Self {
        Self { offset: 0, limit: usize::MAX }
    }
}

impl Default for BoardWindow {
    fn default() -> Self {
        Self::first(200)
    }
}

/// A row's clock: evaluated, or why it could not be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RowClock {
    Evaluated(ClockEvaluation),
    Unavailable { reason: String },
}

/// One line of the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoardRow {
    pub order_no: String,
    pub status_code: String,
    pub policy: Policy,
    pub clock: RowClock,
    pub stopped_by: Option<String>,
    /// How the deadline last moved because the calendar changed, if it did.
    pub moved: Option<String>,
}

impl BoardRow {
    /// The clock state, `None` when unavailable.
    pub fn state(&self) -> Option<ClockState> {
        match &self.clock {
            RowClock::Evaluated(evaluation) => Some(evaluation.state),
            RowClock::Unavailable { .. } => None,
        }
    }
}

/// Orders per state, over all orders (not just the window).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub on_track: usize,
    pub at_risk: usize,
    pub due_today: usize,
    pub breached: usize,
    pub on_hold: usize,
    pub met: usize,
    pub missed: usize,
    /// Clocks that could not be computed.
    pub unavailable: usize,
}

impl StateCounts {
    fn add(&mut self, state: Option<ClockState>) {
        let slot = match state {
            Some(ClockState::OnTrack) => &mut self.on_track,
            Some(ClockState::AtRisk) => &mut self.at_risk,
            Some(ClockState::DueToday) => &mut self.due_today,
            Some(ClockState::Breached) => &mut self.breached,
            Some(ClockState::OnHold) => &mut self.on_hold,
            Some(ClockState::Met) => &mut self.met,
            Some(ClockState::Missed) => &mut self.missed,
            None => &mut self.unavailable,
        };
        *slot += 1;
    }

    pub fn total(&self) -> usize {
        self.on_track
            + self.at_risk
            + self.due_today
            + self.breached
            + self.on_hold
            + self.met
            + self.missed
            + self.unavailable
    }

    /// The count for one state.
    pub fn of(&self, state: ClockState) -> usize {
        match state {
            ClockState::OnTrack => self.on_track,
            ClockState::AtRisk => self.at_risk,
            ClockState::DueToday => self.due_today,
            ClockState::Breached => self.breached,
            ClockState::OnHold => self.on_hold,
            ClockState::Met => self.met,
            ClockState::Missed => self.missed,
        }
    }
}

/// The board at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Board {
    pub as_of: DateTime<FixedOffset>,
    /// What staff must do about the holiday calendar (next year's missing from 1 November, …).
    pub calendar_notice: Option<String>,
    pub counts: StateCounts,
    pub window: BoardWindow,
    pub rows: Vec<BoardRow>,
}

/// Sort key: (urgency rank, instant in seconds, input index).
type UrgencyKey = (u8, i64, usize);

fn urgency_key(result: &Result<ClockEvaluation, SlaError>, index: usize) -> UrgencyKey {
    let evaluation = match result {
        Ok(evaluation) => evaluation,
        Err(_) => return (1, 0, index),
    };
    let due = evaluation.schedule.due_at.timestamp();
    let stopped = evaluation.stopped_at.map_or(due, |stop| stop.timestamp());
    match evaluation.state {
        ClockState::Breached => (0, due, index),
        ClockState::DueToday | ClockState::AtRisk | ClockState::OnTrack => (2, due, index),
        ClockState::OnHold => (3, evaluation.on_hold_since.map_or(due, |since| since.timestamp()), index),
        ClockState::Missed => (4, stopped, index),
        ClockState::Met => (5, stopped, index),
    }
}

/// A kept row before it is materialised.
struct Ranked {
    key: UrgencyKey,
    clock: RowClock,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// Evaluates every order at `now`, counts states, and returns the rows of `window` in urgency order.
pub fn build_board(
    rules: &ClockRules,
    orders: &[BoardOrder],
    now: DateTime<FixedOffset>,
    window: BoardWindow,
) -> Board {
    let keep = window.offset.saturating_add(window.limit);
    let mut counts = StateCounts::default();
    // Max-heap on the key: the least urgent kept row is on top, ready to be replaced.
    let mut kept: BinaryHeap<Ranked> = BinaryHeap::with_capacity(keep.min(orders.len()).saturating_add(1));
    for (index, order) in orders.iter().enumerate() {
        let result = rules.evaluate(&order.clock, now);
        counts.add(result.as_ref().ok().map(|evaluation| evaluation.state));
        if keep == 0 {
            continue;
        }
        let key = urgency_key(&result, index);
        if kept.len() >= keep {
            match kept.peek() {
                Some(least_urgent) if key < least_urgent.key => {
                    kept.pop();
                }
                _ => continue,
            }
        }
        let clock = match result {
            Ok(evaluation) => RowClock::Evaluated(evaluation),
            Err(err) => RowClock::Unavailable { reason: err.to_string() },
        };
        kept.push(Ranked { key, clock });
    }
    let rows = kept
        .into_sorted_vec()
        .into_iter()
        .skip(window.offset)
        .filter_map(|ranked| {
            let order = orders.get(ranked.key.2)?;
            Some(BoardRow {
                order_no: order.order_no.clone(),
                status_code: order.status_code.clone(),
                policy: order.clock.policy,
                clock: ranked.clock,
                stopped_by: order.stopped_by.clone(),
                moved: order.moved.clone(),
            })
        })
        .collect();
    let as_of = super::working_time::in_shanghai(&now);
    let calendar_notice = rules.calendar().year_notice(as_of.date_naive());
    Board { as_of, calendar_notice, counts, window, rows }
}

impl std::fmt::Display for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use super::due::{format_instant_zh, format_minutes_zh};
        let c = &self.counts;
        writeln!(f, "看板 @ {}", format_instant_zh(self.as_of))?;
        if let Some(notice) = &self.calendar_notice {
            writeln!(f, "注意：{notice}")?;
        }
        writeln!(
            f,
            "已超时 {}  今日到期 {}  有风险 {}  正常 {}  挂起 {}  无法计算 {}  （共 {}）",
            c.breached,
            c.due_today,
            c.at_risk,
            c.on_track,
            c.on_hold,
            c.unavailable,
            c.total()
        )?;
        for row in &self.rows {
            match &row.clock {
                RowClock::Evaluated(e) => writeln!(
                    f,
                    "{}  {:<8} {:<6} 到期 {}{}  剩余 {}  {}{}",
                    row.order_no,
                    row.policy.label_zh(),
                    e.state.label_zh(),
                    format_instant_zh(e.schedule.due_at),
                    if e.schedule.provisional_calendar { " 暂定" } else { "" },
                    format_minutes_zh(e.remaining_minutes),
                    row.status_code,
                    row.moved.as_deref().map(|m| format!("  （{m}）")).unwrap_or_default()
                )?,
                RowClock::Unavailable { reason } => {
                    writeln!(f, "{}  {:<8} 无法计算：{reason}", row.order_no, row.policy.label_zh())?
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::clock::PauseInterval;
    use crate::sla::table_tests::{at, rules};

    fn order(order_no: &str, policy: Policy, start: &str, pause_from: Option<&str>, stop: Option<&str>) -> BoardOrder {
        BoardOrder {
            order_no: order_no.to_owned(),
            status_code: "待发货".to_owned(),
            clock: ClockEvents {
                policy,
                starts: vec![at(start)],
                pauses: pause_from.map(|from| PauseInterval { from: at(from), to: None }).into_iter().collect(),
                stop: stop.map(at),
            },
            stopped_by: stop.map(|_| "lihua".to_owned()),
            moved: None,
        }
    }

    #[test]
    fn from_1_november_the_board_says_next_years_notice_is_due() {
        let board = |now: &str| build_board(&rules(), &[], at(now), BoardWindow::first(10)).calendar_notice;
        assert_eq!(board("2026-10-31 12:00"), None);
        let notice = board("2026-11-01 09:00").expect("2027 is missing from 1 November");
        assert_eq!(notice, "2027 年节假日日历未导入，请运行 keydesk calendar import 通知.txt --write");
        assert_eq!(board("2025-11-20 09:00"), None, "2026 ships built in");
        let notice = board("2027-01-04 09:00").expect("2027 is provisional");
        assert_eq!(notice, "2027 年无通知，时限暂定，请运行 keydesk calendar import 通知.txt --write");
        let notice = board("2029-01-04 09:00").expect("2029 is beyond the provisional years");
        assert_eq!(notice, "没有 2029 年的节假日日历，请运行 keydesk calendar import 通知.txt --write");
    }

    fn sample_orders() -> Vec<BoardOrder> {
        // Evaluated at Thu 2025-03-06 14:00.
        vec![
            order("on-track", Policy::Return, "2025-03-06 10:00", None, None), // due Mon 03-10
            order("met", Policy::Return, "2025-03-04 10:00", None, Some("2025-03-05 10:00")),
            order("breached-late", Policy::Return, "2025-03-03 10:00", None, None), // due Wed 03-05 17:30
            order("due-today", Policy::Return, "2025-03-04 10:00", None, None),     // due Thu 03-06 17:30
            order("on-hold", Policy::Return, "2025-03-05 10:00", Some("2025-03-05 11:00"), None),
            order("no-calendar", Policy::Return, "2023-12-28 10:00", None, None),
            order("breached-older", Policy::Return, "2025-02-27 10:00", None, None), // due Mon 03-03 17:30
            order("missed", Policy::Return, "2025-02-27 10:00", None, Some("2025-03-04 10:00")),
            order("at-risk", Policy::Invoice, "2025-02-28 10:00", None, None), // due Fri 03-07 17:30; warn Thu 13:30
        ]
    }

    #[test]
    fn rows_come_in_urgency_order_and_counts_cover_every_order() {
        let board = build_board(&rules(), &sample_orders(), at("2025-03-06 14:00"), BoardWindow::all());
        let order_numbers: Vec<&str> = board.rows.iter().map(|row| row.order_no.as_str()).collect();
        assert_eq!(
            order_numbers,
            vec![
                "breached-older",
                "breached-late",
                "no-calendar",
                "due-today",
                "at-risk",
                "on-track",
                "on-hold",
                "missed",
                "met"
            ]
        );
        let states: Vec<Option<ClockState>> = board.rows.iter().map(BoardRow::state).collect();
        assert_eq!(states[4], Some(ClockState::AtRisk));
        assert_eq!(states[2], None);
        let counts = board.counts;
        assert_eq!(
            (
                counts.breached,
                counts.due_today,
                counts.at_risk,
                counts.on_track,
                counts.on_hold,
                counts.met,
                counts.missed
            ),
            (2, 1, 1, 1, 1, 1, 1)
        );
        assert_eq!((counts.unavailable, counts.total()), (1, 9));
        assert_eq!(board.rows[8].stopped_by.as_deref(), Some("lihua"));
        match &board.rows[2].clock {
            RowClock::Unavailable { reason } => assert!(reason.contains("2023"), "{reason}"),
            other => panic!("expected unavailable, got {other:?}"),
        }
    }

    #[test]
    fn a_window_returns_only_its_rows_but_counts_stay_complete() {
        let orders = sample_orders();
        let now = at("2025-03-06 14:00");
        let all = build_board(&rules(), &orders, now, BoardWindow::all());
        let window = build_board(&rules(), &orders, now, BoardWindow { offset: 2, limit: 3 });
        assert_eq!(window.rows, all.rows[2..5].to_vec());
        assert_eq!(window.counts, all.counts);
        let none = build_board(&rules(), &orders, now, BoardWindow::first(0));
        assert!(none.rows.is_empty());
        assert_eq!(none.counts.total(), 9);
        let beyond = build_board(&rules(), &orders, now, BoardWindow { offset: 20, limit: 5 });
        assert!(beyond.rows.is_empty());
    }

    #[test]
    fn board_serialises_for_the_http_face() {
        let board = build_board(&rules(), &sample_orders(), at("2025-03-06 14:00"), BoardWindow::first(1));
        let json = serde_json::to_value(&board).expect("json");
        assert_eq!(json["rows"][0]["order_no"], "breached-older");
        assert_eq!(json["rows"][0]["clock"]["kind"], "evaluated");
        assert_eq!(json["rows"][0]["clock"]["state"], "breached");
        assert_eq!(json["rows"][0]["clock"]["schedule"]["due_at"], "2025-03-03T17:30:00+08:00");
        assert_eq!(json["counts"]["breached"], 2);
    }
}

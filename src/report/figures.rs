//! The figures of the manager's report for a period of Beijing dates, computed from recorded facts and
//! nothing else: parcels received, keys renewed and shipped; the return and invoice clocks met, missed
//! and still open; turnaround in working hours; holds by reason with their paused working time; per
//! working day, per operator; every missed clock; the unmatched parcels. Pure: the use case
//! (`ops::report`) gathers the facts from the store, the writers (`workbook`, `csv`) lay them out.
//!
//! Everything stands as of one instant, [`PeriodReport::as_of`]: the period's end, or now while the
//! period is still running, so a past week's report reads the same whenever it is made. The clocks are
//! the ones the board and `keydesk sla report` compute (the caller hands over `ops::sla::clocks_of`'s
//! clocks), evaluated by the same [`ClockRules`]; met and missed are [`summarise`]d exactly as `sla
//! report` does, and the per-day received / shipped / late are the board chart's [`Trend`] over the
//! period's days. [`ReportBuilder`] takes the orders one at a time (the use case reads them a page at
//! a time), so what is held grows with the figures, not with the orders' histories.
//!
//! Turnaround is working time from the key's receipt to its shipment (the courier's pickup is not
//! recorded anywhere yet). Medians of an even count are the mean of the two middle values; the 90th
//! percentile is the nearest rank (the smallest value with at least 90 % of the values at or below it).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate};
use serde::Serialize;

use crate::sla::board::BoardOrder;
use crate::sla::clock::{ClockState, Policy};
use crate::sla::report::{summarise, ClosedClock, MetMissed, SlaReport};
use crate::sla::trend::{Trend, TrendFacts};
use crate::sla::working_time::{in_shanghai, shanghai_instant};
use crate::sla::{ClockRules, WorkingTime};

/// The longest period a report covers (two years and a day, so any two calendar years fit).
pub const MAX_DAYS: i64 = 732;

/// Whole Beijing dates, `first` to `last` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl Period {
    pub fn new(first: NaiveDate, last: NaiveDate) -> Result<Period, String> {
        if last < first {
            return Err(format!("结束日期 {last} 早于开始日期 {first}"));
        }
        if (last - first).num_days() >= MAX_DAYS {
            return Err(format!("报表期间最长 {MAX_DAYS} 天（{first} 至 {last} 超出）"));
        }
        if last.succ_opt().is_none() {
            return Err("日期超出范围".into());
        }
        Ok(Period { first, last })
    }

    /// Monday to Sunday of the week before `today`'s week.
    pub fn last_full_week(today: NaiveDate) -> Period {
        let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()) + 7);
        Period { first: monday, last: monday + Duration::days(6) }
    }

    /// 00:00 Beijing time of the first day.
    pub fn start(&self) -> DateTime<FixedOffset> {
        shanghai_instant(self.first, 0)
    }

    /// 00:00 Beijing time of the day after the last (exclusive).
    pub fn end(&self) -> DateTime<FixedOffset> {
        shanghai_instant(self.last, 86_400)
    }

    /// `2026-11-23 至 2026-11-29`.
    pub fn label(&self) -> String {
        format!("{} 至 {}", self.first, self.last)
    }

    /// The file name a report of this period is written under, without its extension.
    pub fn file_stem(&self) -> String {
        format!("keydesk-report-{}_{}", self.first, self.last)
    }
}

/// Something that happened, when and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub at: DateTime<FixedOffset>,
    pub by: String,
}

/// A time on hold and why (the reason's label, or 原因未记录).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldSpan {
    pub reason: String,
    pub from: DateTime<FixedOffset>,
    /// `None` while still on hold.
    pub to: Option<DateTime<FixedOffset>>,
}

/// One order as the report needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    pub order_no: String,
    pub company: String,
    /// The holder's name and phone, already masked by the caller (秦**, 188****6015): the report never
    /// holds a full one.
    pub holder_masked: String,
    pub phone_masked: String,
    pub received: Option<Stamp>,
    /// The last move to renewed.
    pub renewed: Option<Stamp>,
    pub shipped: Option<Stamp>,
    /// When SF picked up the return parcel, when its routes said so: turnaround ends there.
    pub picked_up_at: Option<DateTime<FixedOffset>>,
    /// From this instant the order's clocks are no longer open without having stopped: it was cancelled
    /// or refunded (or, still unpaid, its clocks never counted).
    pub withdrawn_at: Option<DateTime<FixedOffset>>,
    /// Its clocks, exactly as the board and `sla report` compute them.
    pub clocks: Vec<BoardOrder>,
    /// Its holds, oldest first.
    pub holds: Vec<HoldSpan>,
}

/// A parcel no order claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelFacts {
    pub waybill: String,
    pub scanned_at: DateTime<FixedOffset>,
    pub operator: String,
    pub desk: String,
}

/// Met, missed, and open at the report's instant (of which already past due).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ClockTally {
    pub met: u64,
    pub missed: u64,
    pub open: u64,
    pub open_late: u64,
}

/// Working hours from receipt to shipment of the keys shipped in the period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Turnaround {
    pub orders: u64,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

/// Holds begun in the period, by reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldTally {
    pub reason: String,
    pub holds: u64,
    /// Of which still on hold at the report's instant.
    pub still_on_hold: u64,
    /// Working hours on hold, up to the release or the report's instant.
    pub hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    pub received: u64,
    pub renewed: u64,
    pub shipped: u64,
    pub return_clocks: ClockTally,
    pub invoice_clocks: ClockTally,
    pub turnaround: Turnaround,
    pub holds: Vec<HoldTally>,
    /// Parcels no order claims, waiting at the report's instant.
    pub unmatched: u64,
}

/// One day: every working day of the period up to the report's instant, and a day off only when
/// something happened on it (so the rows add up to the totals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayRow {
    pub day: NaiveDate,
    /// `None` when the day's year has no calendar.
    pub working: Option<bool>,
    pub received: u32,
    pub renewed: u32,
    pub shipped: u32,
    pub return_clocks: MetMissed,
    pub invoice_clocks: MetMissed,
    /// Return clocks whose due instant fell on this day and passed with the key not shipped (the
    /// board chart's 逾期).
    pub late: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorRow {
    pub operator: String,
    /// Parcels received.
    pub received: u64,
    pub renewed: u64,
    pub shipped: u64,
    /// Of the keys this operator shipped.
    pub median_turnaround_hours: Option<f64>,
    /// Clocks this operator stopped, as `sla report` counts them.
    pub met: u64,
    pub missed: u64,
}

/// A clock that missed: stopped late in the period, or open and past due at the report's instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LateRow {
    pub order_no: String,
    pub policy: Policy,
    pub company: String,
    pub holder: String,
    pub phone: String,
    pub received_at: Option<DateTime<FixedOffset>>,
    pub due_at: DateTime<FixedOffset>,
    /// The stop; `None` while still open.
    pub done_at: Option<DateTime<FixedOffset>>,
    /// Working hours past due, to the stop or the report's instant.
    pub late_hours: f64,
    /// `PIN 已锁定 11-24 10:00–11-24 15:00 5.0工时；…`
    pub holds: String,
    /// Who stopped the clock; for one still open, who received the key.
    pub operator: String,
    pub provisional_calendar: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmatchedRow {
    pub waybill: String,
    pub scanned_at: DateTime<FixedOffset>,
    pub operator: String,
    pub desk: String,
    /// Working hours waited up to the report's instant (`None` without a calendar for the years).
    pub waited_hours: Option<f64>,
    pub waited_days: i64,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodReport {
    pub period: Period,
    /// The instant every figure stands at: the period's end, or now while the period runs.
    pub as_of: DateTime<FixedOffset>,
    pub overview: Overview,
    pub days: Vec<DayRow>,
    pub operators: Vec<OperatorRow>,
    pub late: Vec<LateRow>,
    pub unmatched: Vec<UnmatchedRow>,
    /// Met and missed exactly as `keydesk sla report` reports them for the period.
    pub sla: SlaReport,
    /// What could not be computed (a year with no calendar), named.
    pub problems: Vec<String>,
}

fn hours(seconds: i64) -> f64 {
    (seconds as f64 / 360.0).round() / 10.0
}

fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(hours(sorted[n / 2])),
        _ => Some(hours((sorted[n / 2 - 1] + sorted[n / 2]) / 2)),
    }
}

fn p90(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    (n > 0).then(|| hours(sorted[(n * 9).div_ceil(10) - 1]))
}

/// The stamp, if it falls where `within` says.
fn seen(stamp: &Option<Stamp>, within: impl Fn(DateTime<FixedOffset>) -> bool) -> Option<&Stamp> {
    stamp.as_ref().filter(|s| within(s.at))
}

/// `11-24 10:00`.
fn short(t: DateTime<FixedOffset>) -> String {
    in_shanghai(&t).format("%m-%d %H:%M").to_string()
}

/// Builds the report of `period` as it stands at `now` (or at the period's end, if that came first).
pub fn build(
    rules: &ClockRules,
    period: Period,
    now: DateTime<FixedOffset>,
    orders: &[OrderFacts],
    parcels: &[ParcelFacts],
) -> PeriodReport {
    let mut builder = ReportBuilder::new(rules, period, now);
    for order in orders {
        builder.add(order);
    }
    builder.finish(parcels)
}

/// The report built one order at a time, so the orders of a year need not be held at once: what it
/// keeps grows with the figures (the stopped clocks, the late rows, one small record per order for the
/// per-day chart), not with the orders' histories.
pub struct ReportBuilder<'r> {
    rules: &'r ClockRules,
    period: Period,
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
    as_of: DateTime<FixedOffset>,
    problems: Vec<String>,
    closed: Vec<ClosedClock>,
    tallies: [ClockTally; 2],
    late: Vec<LateRow>,
    trend_facts: Vec<TrendFacts>,
    turnaround: Vec<i64>,
    turnaround_by: BTreeMap<String, Vec<i64>>,
    /// Received, renewed, shipped per operator.
    counts: BTreeMap<String, [u64; 3]>,
    totals: [u64; 3],
    renewed_by_day: BTreeMap<NaiveDate, u32>,
    holds: BTreeMap<String, HoldTally>,
}

/// `map[key]`, inserted with `make` when missing, without copying the key on a hit.
fn slot<'m, V>(map: &'m mut BTreeMap<String, V>, key: &str, make: impl FnOnce() -> V) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), make());
    }
    map.get_mut(key).expect("inserted above")
}

impl<'r> ReportBuilder<'r> {
    pub fn new(rules: &'r ClockRules, period: Period, now: DateTime<FixedOffset>) -> ReportBuilder<'r> {
        let (start, end) = (period.start(), period.end());
        ReportBuilder {
            rules,
            period,
            start,
            end,
            as_of: in_shanghai(&now.min(end)),
            problems: Vec::new(),
            closed: Vec::new(),
            tallies: [ClockTally::default(); 2],
            late: Vec::new(),
            trend_facts: Vec::new(),
            turnaround: Vec::new(),
            turnaround_by: BTreeMap::new(),
            counts: BTreeMap::new(),
            totals: [0; 3],
            renewed_by_day: BTreeMap::new(),
            holds: BTreeMap::new(),
        }
    }

    /// Counts one order in.
    pub fn add(&mut self, order: &OrderFacts) {
        let (start, end, as_of) = (self.start, self.end, self.as_of);
        let rules = self.rules;
        let time = rules.working_time();
        let within = |t: DateTime<FixedOffset>| t >= start && t < as_of;
        for (kind, stamp) in [&order.received, &order.renewed, &order.shipped].into_iter().enumerate() {
            if let Some(s) = seen(stamp, within) {
                self.totals[kind] += 1;
                slot(&mut self.counts, &s.by, Default::default)[kind] += 1;
            }
        }
        if let Some(s) = seen(&order.renewed, within) {
            *self.renewed_by_day.entry(WorkingTime::shanghai_date(s.at)).or_default() += 1;
        }
        if let (Some(s), Some(r)) = (seen(&order.shipped, within), &order.received) {
            // Receipt to the courier's pickup when known, else to the ship scan.
            match time.business_seconds_between(r.at, order.picked_up_at.unwrap_or(s.at)) {
                Ok(seconds) => {
                    self.turnaround.push(seconds);
                    slot(&mut self.turnaround_by, &s.by, Vec::new).push(seconds);
                }
                Err(e) => self.problems.push(format!("{}（周转）：{e}", order.order_no)),
            }
        }
        let withdrawn = order.withdrawn_at.is_some_and(|w| w <= as_of);
        for hold in order.holds.iter().filter(|h| within(h.from)) {
            let tally = slot(&mut self.holds, &hold.reason, || HoldTally {
                reason: hold.reason.clone(),
                holds: 0,
                still_on_hold: 0,
                hours: 0.0,
            });
            tally.holds += 1;
            let until = hold.to.filter(|to| *to <= as_of);
            tally.still_on_hold += u64::from(until.is_none());
            match time.business_seconds_between(hold.from, until.unwrap_or(as_of)) {
                Ok(seconds) => tally.hours += seconds as f64 / 3600.0,
                Err(e) => self.problems.push(format!("{}（挂起）：{e}", order.order_no)),
            }
        }
        let mut due_for_chart = None;
        for board_order in &order.clocks {
            let clock = &board_order.clock;
            let policy = clock.policy;
            let operator = board_order.stopped_by.as_deref().unwrap_or("-");
            if policy == Policy::Return && !withdrawn {
                due_for_chart = rules.evaluate(clock, as_of).ok().map(|e| e.schedule.due_at);
            }
            let evaluation = match clock.stop {
                // Stopped in the period: judged at the stop, as `sla report` judges it.
                Some(stop) if stop >= start && stop < end => rules.evaluate(clock, stop),
                Some(stop) if stop < start => continue,
                _ if withdrawn || clock.starts.iter().max().is_none_or(|s| *s > as_of) => continue,
                _ => rules.evaluate(clock, as_of),
            };
            let evaluation = match evaluation {
                Ok(e) => e,
                Err(e) => {
                    self.problems.push(format!("{} ({}): {e}", board_order.order_no, policy.as_str()));
                    continue;
                }
            };
            let tally = &mut self.tallies[usize::from(policy == Policy::Invoice)];
            let is_late = match evaluation.state {
                ClockState::Met | ClockState::Missed => {
                    self.closed.extend(ClosedClock::from_evaluation(&evaluation, operator));
                    let met = evaluation.state == ClockState::Met;
                    tally.met += u64::from(met);
                    tally.missed += u64::from(!met);
                    !met
                }
                state => {
                    tally.open += 1;
                    tally.open_late += u64::from(state == ClockState::Breached);
                    state == ClockState::Breached
                }
            };
            if is_late {
                let responsible = board_order
                    .stopped_by
                    .clone()
                    .filter(|_| evaluation.stopped_at.is_some())
                    .or_else(|| order.received.as_ref().filter(|_| policy == Policy::Return).map(|r| r.by.clone()))
                    .unwrap_or_else(|| "-".into());
                self.late.push(LateRow {
                    order_no: order.order_no.clone(),
                    policy,
                    company: order.company.clone(),
                    holder: order.holder_masked.clone(),
                    phone: order.phone_masked.clone(),
                    received_at: order.received.as_ref().map(|r| r.at),
                    due_at: evaluation.schedule.due_at,
                    done_at: evaluation.stopped_at,
                    late_hours: hours(-evaluation.remaining_minutes * 60),
                    holds: hold_history(order, as_of, time),
                    operator: responsible,
                    provisional_calendar: evaluation.schedule.provisional_calendar,
                });
            }
        }
        let trend = TrendFacts {
            received_at: order.received.as_ref().map(|r| r.at),
            shipped_at: order.shipped.as_ref().map(|s| s.at),
            due_at: due_for_chart,
        };
        if trend.received_at.is_some() || trend.shipped_at.is_some() || trend.due_at.is_some() {
            self.trend_facts.push(trend);
        }
    }

    /// The report, with the unmatched parcels.
    pub fn finish(self, parcels: &[ParcelFacts]) -> PeriodReport {
        let (period, as_of, rules) = (self.period, self.as_of, self.rules);
        let time = rules.working_time();
        let closed = self.closed;
        let sla = summarise(&closed);
        let by_policy = |policy: Policy| -> SlaReport {
            let of_policy: Vec<ClosedClock> = closed.iter().filter(|c| c.policy == policy).cloned().collect();
            summarise(&of_policy)
        };
        let (return_days, invoice_days) = (by_policy(Policy::Return), by_policy(Policy::Invoice));
        let day_tally = |report: &SlaReport, day: NaiveDate| {
            report.by_day.iter().find(|d| d.day == day).map(|d| d.tally).unwrap_or_default()
        };
        let last_day = WorkingTime::shanghai_date(as_of - Duration::seconds(1)).min(period.last);
        let trend = Trend::build_days(&self.trend_facts, period.first, last_day, as_of);
        let days: Vec<DayRow> = trend
            .days
            .iter()
            .map(|d| DayRow {
                day: d.day,
                working: rules.calendar().is_working_day(d.day).ok(),
                received: d.received,
                renewed: self.renewed_by_day.get(&d.day).copied().unwrap_or(0),
                shipped: d.shipped,
                return_clocks: day_tally(&return_days, d.day),
                invoice_clocks: day_tally(&invoice_days, d.day),
                late: d.late,
            })
            .filter(|row| {
                row.working != Some(false)
                    || row.received + row.renewed + row.shipped + row.late > 0
                    || row.return_clocks != MetMissed::default()
                    || row.invoice_clocks != MetMissed::default()
            })
            .collect();

        let row = |name: &str| OperatorRow {
            operator: name.to_owned(),
            received: 0,
            renewed: 0,
            shipped: 0,
            median_turnaround_hours: None,
            met: 0,
            missed: 0,
        };
        let mut operators: BTreeMap<String, OperatorRow> = BTreeMap::new();
        for (name, [r, n, s]) in &self.counts {
            let entry = slot(&mut operators, name, || row(name));
            (entry.received, entry.renewed, entry.shipped) = (*r, *n, *s);
        }
        for tally in &sla.by_operator {
            let entry = slot(&mut operators, &tally.operator, || row(&tally.operator));
            (entry.met, entry.missed) = (tally.tally.met, tally.tally.missed);
        }
        for (name, mut seconds) in self.turnaround_by {
            seconds.sort_unstable();
            if let Some(entry) = operators.get_mut(&name) {
                entry.median_turnaround_hours = median(&seconds);
            }
        }

        let mut turnaround = self.turnaround;
        turnaround.sort_unstable();
        let mut unmatched: Vec<UnmatchedRow> = parcels
            .iter()
            .filter(|p| p.scanned_at < as_of)
            .map(|p| UnmatchedRow {
                waybill: p.waybill.clone(),
                scanned_at: in_shanghai(&p.scanned_at),
                operator: p.operator.clone(),
                desk: p.desk.clone(),
                waited_hours: time.business_seconds_between(p.scanned_at, as_of).ok().map(hours),
                waited_days: (WorkingTime::shanghai_date(as_of) - WorkingTime::shanghai_date(p.scanned_at)).num_days(),
            })
            .collect();
        unmatched.sort_by_key(|p| p.scanned_at);
        let mut late = self.late;
        late.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.order_no.cmp(&b.order_no)));

        let [return_clocks, invoice_clocks] = self.tallies;
        let [received, renewed, shipped] = self.totals;
        PeriodReport {
            period,
            as_of,
            overview: Overview {
                received,
                renewed,
                shipped,
                return_clocks,
                invoice_clocks,
                turnaround: Turnaround {
                    orders: turnaround.len() as u64,
                    median_hours: median(&turnaround),
                    p90_hours: p90(&turnaround),
                },
                holds: self
                    .holds
                    .into_values()
                    .map(|h| HoldTally { hours: (h.hours * 10.0).round() / 10.0, ..h })
                    .collect(),
                unmatched: unmatched.len() as u64,
            },
            days,
            operators: operators.into_values().collect(),
            late,
            unmatched,
            sla,
            problems: self.problems,
        }
    }
}

/// The order's holds up to `as_of`: reason, from–to, working hours.
fn hold_history(order: &OrderFacts, as_of: DateTime<FixedOffset>, time: &WorkingTime) -> String {
    let spans: Vec<String> = order
        .holds
        .iter()
        .filter(|h| h.from < as_of)
        .map(|h| {
            let until = h.to.filter(|to| *to <= as_of);
            let worked = time
                .business_seconds_between(h.from, until.unwrap_or(as_of))
                .map(|s| format!(" {:.1}工时", hours(s)))
                .unwrap_or_default();
            format!("{} {}–{}{worked}", h.reason, short(h.from), until.map_or("未解除".to_string(), short))
        })
        .collect();
    spans.join("；")
}

/// `2026-11-24 10:00`, Beijing time.
pub fn local_minute(t: DateTime<FixedOffset>) -> String {
    in_shanghai(&t).format("%Y-%m-%d %H:%M").to_string()
}

fn optional_hours(h: Option<f64>) -> String {
    h.map_or("-".to_string(), |h| format!("{h:.1}"))
}

impl fmt::Display for PeriodReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.overview;
        writeln!(f, "报表期间：{}（截至 {}）", self.period.label(), local_minute(self.as_of))?;
        writeln!(f, "收件 {}，续签 {}，发货 {}", o.received, o.renewed, o.shipped)?;
        for (name, t) in [("寄回时限", o.return_clocks), ("开票时限", o.invoice_clocks)] {
            writeln!(f, "{name}：按时 {}，超时 {}，未完成 {}（其中已超时 {}）", t.met, t.missed, t.open, t.open_late)?;
        }
        writeln!(
            f,
            "周转（收件→发货，工作小时）：{} 单，中位数 {}，P90 {}",
            o.turnaround.orders,
            optional_hours(o.turnaround.median_hours),
            optional_hours(o.turnaround.p90_hours)
        )?;
        for h in &o.holds {
            writeln!(f, "挂起 {}：{} 次（仍挂起 {}），{:.1} 工作小时", h.reason, h.holds, h.still_on_hold, h.hours)?;
        }
        writeln!(f, "逾期明细 {} 条，无主包裹 {} 个", self.late.len(), o.unmatched)?;
        if self.sla.provisional > 0 {
            writeln!(f, "其中 {} 个时限为暂定（该年节假日通知尚未导入），导入后可能改变", self.sla.provisional)?;
        }
        writeln!(f, "按经办人：")?;
        for op in &self.operators {
            writeln!(
                f,
                "  {}  收件 {}，续签 {}，发货 {}，周转中位数 {}，按时 {}，超时 {}",
                op.operator,
                op.received,
                op.renewed,
                op.shipped,
                optional_hours(op.median_turnaround_hours),
                op.met,
                op.missed
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::clock::ClockEvents;
    use crate::sla::PauseInterval;
    use crate::sla::SlaSettings;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn rules() -> ClockRules {
        ClockRules::load(&SlaSettings::default()).unwrap()
    }

    fn stamp(t: &str, by: &str) -> Option<Stamp> {
        Some(Stamp { at: at(t), by: by.into() })
    }

    /// An order received and (maybe) shipped, with its return clock started at receipt.
    fn order(no: &str, received: &str, shipped: Option<&str>, holds: Vec<HoldSpan>) -> OrderFacts {
        let shipped = shipped.and_then(|s| stamp(s, "wang"));
        let pauses = holds.iter().map(|h| PauseInterval { from: h.from, to: h.to }).collect();
        OrderFacts {
            order_no: no.into(),
            company: "北京华信息技术有限公司".into(),
            holder_masked: "王*".into(),
            phone_masked: "188****6015".into(),
            received: stamp(received, "qin"),
            renewed: None,
            shipped: shipped.clone(),
            picked_up_at: None,
            withdrawn_at: None,
            clocks: vec![BoardOrder {
                order_no: no.into(),
                status_code: "shipped".into(),
                clock: ClockEvents {
                    policy: Policy::Return,
                    starts: vec![at(received)],
                    pauses,
                    stop: shipped.as_ref().map(|s| s.at),
                },
                stopped_by: shipped.map(|s| s.by),
                moved: None,
            }],
            holds,
        }
    }

    #[test]
    fn last_full_week_is_monday_to_sunday_before_this_week() {
        let p = Period::last_full_week(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap());
        assert_eq!((p.first.to_string(), p.last.to_string()), ("2026-11-23".into(), "2026-11-29".into()));
        let monday = Period::last_full_week(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(monday, p);
        assert_eq!(p.start(), at("2026-11-23T00:00:00+08:00"));
        assert_eq!(p.end(), at("2026-11-30T00:00:00+08:00"));
        assert!(Period::new(p.last, p.first).is_err());
    }

    #[test]
    fn a_week_counts_clocks_turnaround_holds_and_late_ones() {
        // The week of Mon 2025-03-03 .. Sun 2025-03-09 (no holidays), seen from the Monday after.
        let period =
            Period::new(NaiveDate::from_ymd_opt(2025, 3, 3).unwrap(), NaiveDate::from_ymd_opt(2025, 3, 9).unwrap())
                .unwrap();
        let orders = vec![
            // Met: received Tue 10:15, due Thu 17:30, shipped Wed 10:15 (8.5 working hours later).
            order("A", "2025-03-04T10:15:00+08:00", Some("2025-03-05T10:15:00+08:00"), vec![]),
            // Missed: due Thu 17:30, shipped Fri 10:30 (1.5 working hours late).
            order("B", "2025-03-04T11:00:00+08:00", Some("2025-03-07T10:30:00+08:00"), vec![]),
            // Open and late: received Mon 09:00, due Wed 17:30, a 1-hour hold moves it to Thu 10:00.
            order(
                "C",
                "2025-03-03T09:00:00+08:00",
                None,
                vec![HoldSpan {
                    reason: "PIN 已锁定".into(),
                    from: at("2025-03-04T10:00:00+08:00"),
                    to: Some(at("2025-03-04T11:00:00+08:00")),
                }],
            ),
            // Shipped the week before: not in this week at all.
            order("D", "2025-02-24T10:00:00+08:00", Some("2025-02-25T10:00:00+08:00"), vec![]),
        ];
        let parcels = vec![ParcelFacts {
            waybill: "SF1402000000017".into(),
            scanned_at: at("2025-03-06T16:30:00+08:00"),
            operator: "qin".into(),
            desk: "desk-1".into(),
        }];
        let report = build(&rules(), period, at("2025-03-10T09:00:00+08:00"), &orders, &parcels);
        assert_eq!(report.as_of, at("2025-03-10T00:00:00+08:00"), "a past week stands at its end");
        let o = &report.overview;
        assert_eq!((o.received, o.renewed, o.shipped), (3, 0, 2));
        assert_eq!(o.return_clocks, ClockTally { met: 1, missed: 1, open: 1, open_late: 1 });
        assert_eq!(o.invoice_clocks, ClockTally::default());
        // 8.5 h (A) and Tue 11:00 → Fri 10:30: 6.5 + 8.5 + 8.5 + 1.5 = 25.0 h (B).
        assert_eq!(
            (o.turnaround.orders, o.turnaround.median_hours, o.turnaround.p90_hours),
            (2, Some(16.8), Some(25.0))
        );
        assert_eq!(o.holds, vec![HoldTally { reason: "PIN 已锁定".into(), holds: 1, still_on_hold: 0, hours: 1.0 }]);
        assert_eq!(report.sla.total, MetMissed { met: 1, missed: 1 });
        // B late by 1.5 h at its stop; C due Thu 10:00 after its hold, still open at Mon 00:00: 7.5 + 8.5 h.
        let late: Vec<(&str, f64, bool)> =
            report.late.iter().map(|l| (l.order_no.as_str(), l.late_hours, l.done_at.is_some())).collect();
        assert_eq!(late, vec![("C", 16.0, false), ("B", 1.5, true)]);
        assert_eq!(report.late[0].due_at, at("2025-03-06T10:00:00+08:00"));
        assert_eq!(report.late[0].operator, "qin", "an open clock names who received the key");
        assert_eq!(report.late[1].operator, "wang", "a stopped one who stopped it");
        assert!(
            report.late[0].holds.starts_with("PIN 已锁定 03-04 10:00–03-04 11:00 1.0工时"),
            "{}",
            report.late[0].holds
        );
        // Five working days, no row for the quiet weekend; C's due day (Thu) is late on the chart, and B's.
        let days: Vec<(String, u32, u32, u32)> =
            report.days.iter().map(|d| (d.day.to_string(), d.received, d.shipped, d.late)).collect();
        assert_eq!(
            days,
            vec![
                ("2025-03-03".into(), 1, 0, 0),
                ("2025-03-04".into(), 2, 0, 0),
                ("2025-03-05".into(), 0, 1, 0),
                ("2025-03-06".into(), 0, 0, 2),
                ("2025-03-07".into(), 0, 1, 0),
            ]
        );
        assert_eq!(report.days[4].return_clocks, MetMissed { met: 0, missed: 1 });
        type Row<'a> = (&'a str, u64, u64, Option<f64>, u64, u64);
        let ops: Vec<Row> = report
            .operators
            .iter()
            .map(|o| (o.operator.as_str(), o.received, o.shipped, o.median_turnaround_hours, o.met, o.missed))
            .collect();
        assert_eq!(ops, vec![("qin", 3, 0, None, 0, 0), ("wang", 0, 2, Some(16.8), 1, 1)]);
        assert_eq!(report.unmatched.len(), 1);
        // Thu 16:30 → Mon 00:00: an hour on Thursday and Friday's 8.5.
        assert_eq!((report.unmatched[0].waited_hours, report.unmatched[0].waited_days), (Some(9.5), 4));
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let text = report.to_string();
        assert!(text.contains("寄回时限：按时 1，超时 1，未完成 1（其中已超时 1）"), "{text}");
    }

    #[test]
    fn a_running_period_stands_at_now_and_a_withdrawn_order_is_not_open() {
        let period =
            Period::new(NaiveDate::from_ymd_opt(2025, 3, 3).unwrap(), NaiveDate::from_ymd_opt(2025, 3, 9).unwrap())
                .unwrap();
        let now = at("2025-03-05T12:00:00+08:00");
        let mut cancelled = order("E", "2025-03-03T09:00:00+08:00", None, vec![]);
        cancelled.withdrawn_at = Some(at("2025-03-04T09:00:00+08:00"));
        let running = order("F", "2025-03-04T09:00:00+08:00", None, vec![]);
        // Received after now (a clock drift on another desk): not open yet.
        let future = order("G", "2025-03-05T13:00:00+08:00", None, vec![]);
        let report = build(&rules(), period, now, &[cancelled, running, future], &[]);
        assert_eq!(report.as_of, now);
        assert_eq!(report.overview.return_clocks, ClockTally { met: 0, missed: 0, open: 1, open_late: 0 });
        assert_eq!(report.overview.received, 2);
        assert_eq!(report.days.last().map(|d| d.day.to_string()), Some("2025-03-05".into()), "no rows after today");
        assert!(report.late.is_empty());
    }

    #[test]
    fn percentiles_follow_the_stated_rules() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3600, 7200]), Some(1.5));
        assert_eq!(p90(&(1..=10).map(|h| h * 3600).collect::<Vec<_>>()), Some(9.0));
        assert_eq!(p90(&[3600]), Some(1.0));
    }
}

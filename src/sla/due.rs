//! `keydesk sla due`: what a clock's deadlines are for given events, without touching any order. The shell
//! parses `--policy`, `--event TIME` (repeatable) and `--pause FROM/TO` (repeatable) with the parsers here and
//! calls [`compute_due`]; the result prints as Chinese text (`Display`) or as JSON (`Serialize`, instants in
//! RFC 3339 with +08:00).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, Weekday};
use serde::Serialize;

use super::clock::{ClockEvents, ClockRules, ClockSchedule, ClockState, PauseInterval, Policy};
use super::error::SlaError;
use super::working_time::{in_shanghai, SHANGHAI};

/// Parsed arguments of `keydesk sla due`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueArgs {
    pub policy: Policy,
    /// Start events; the clock starts at the latest.
    pub events: Vec<DateTime<FixedOffset>>,
    pub pauses: Vec<PauseInterval>,
}

/// The answer of `keydesk sla due`. In JSON the schedule's fields (`policy`, `working_days`, `start`,
/// `effective_start`, `original_due_at`, `due_at`, `warn_at`, `budget_seconds`, `paused_seconds`,
/// `provisional_calendar`) sit at the top
/// level beside the fields below.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueReport {
    #[serde(flatten)]
    pub schedule: ClockSchedule,
    /// The instant the state and open pauses were evaluated at.
    pub as_of: DateTime<FixedOffset>,
    pub budget_minutes: i64,
    pub paused_minutes: i64,
    /// True when a pause is still open: `due_at` assumes it ends at `as_of`.
    pub provisional: bool,
    /// The state at `as_of`; `null` when `as_of` falls in a year with no calendar (the deadlines above
    /// are still right: they need only the years they span).
    pub state: Option<ClockState>,
    pub remaining_minutes: Option<i64>,
    /// Why the state is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_unknown: Option<String>,
}

/// Computes the deadlines for `args`, with open pauses ending at `now`, and the state at `now`.
pub fn compute_due(rules: &ClockRules, args: &DueArgs, now: DateTime<FixedOffset>) -> Result<DueReport, SlaError> {
    let events =
        ClockEvents { policy: args.policy, starts: args.events.clone(), pauses: args.pauses.clone(), stop: None };
    let schedule = rules.schedule(&events, now)?;
    let (evaluation, state_unknown) = match rules.evaluate(&events, now) {
        Ok(e) => (Some(e), None),
        Err(e @ SlaError::MissingCalendarYear { .. }) => (None, Some(e.to_string())),
        Err(e) => return Err(e),
    };
    Ok(DueReport {
        schedule,
        as_of: in_shanghai(&now),
        budget_minutes: schedule.budget_minutes(),
        paused_minutes: schedule.paused_minutes(),
        provisional: args.pauses.iter().any(|pause| pause.to.is_none()),
        state: evaluation.as_ref().map(|e| e.state),
        remaining_minutes: evaluation.as_ref().map(|e| e.remaining_minutes),
        state_unknown,
    })
}

/// `周一` … `周日`.
pub fn weekday_zh(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "周一",
        Weekday::Tue => "周二",
        Weekday::Wed => "周三",
        Weekday::Thu => "周四",
        Weekday::Fri => "周五",
        Weekday::Sat => "周六",
        Weekday::Sun => "周日",
    }
}

/// `2026-02-14 17:30（周六）`, with seconds only when there are some.
pub fn format_instant_zh(t: DateTime<FixedOffset>) -> String {
    let local = in_shanghai(&t);
    let pattern = if local.format("%S").to_string() == "00" { "%Y-%m-%d %H:%M" } else { "%Y-%m-%d %H:%M:%S" };
    format!("{}（{}）", local.format(pattern), weekday_zh(local.weekday()))
}

/// `24 小时 15 分钟`.
pub fn format_minutes_zh(minutes: i64) -> String {
    let sign = if minutes < 0 { "-" } else { "" };
    let (hours, rest) = (minutes.abs() / 60, minutes.abs() % 60);
    match (hours, rest) {
        (0, rest) => format!("{sign}{rest} 分钟"),
        (hours, 0) => format!("{sign}{hours} 小时"),
        (hours, rest) => format!("{sign}{hours} 小时 {rest} 分钟"),
    }
}

/// What a deadline on a provisional calendar says after its date.
pub fn provisional_mark(schedule: &ClockSchedule) -> &'static str {
    if schedule.provisional_calendar {
        "（暂定：该年节假日安排尚未公布，只按法定节假日计算）"
    } else {
        ""
    }
}

impl fmt::Display for DueReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schedule = &self.schedule;
        writeln!(
            f,
            "时限：{}（{}，事件次日起第 {} 个工作日下班前）",
            schedule.policy.label_zh(),
            schedule.policy,
            schedule.working_days
        )?;
        writeln!(f, "开始：{}", format_instant_zh(schedule.start))?;
        writeln!(f, "起算：{}", format_instant_zh(schedule.effective_start))?;
        writeln!(f, "承诺期限：{}{}", format_instant_zh(schedule.original_due_at), provisional_mark(schedule))?;
        if self.paused_minutes > 0 || self.provisional {
            writeln!(
                f,
                "顺延后期限：{}（挂起 {}{}）",
                format_instant_zh(schedule.due_at),
                format_minutes_zh(self.paused_minutes),
                if self.provisional { "，仍在挂起，按现在解除计算" } else { "" }
            )?;
        }
        writeln!(f, "预警时间：{}", format_instant_zh(schedule.warn_at))?;
        writeln!(f, "工作时间预算：{}", format_minutes_zh(self.budget_minutes))?;
        let (Some(state), Some(remaining)) = (self.state, self.remaining_minutes) else {
            return write!(
                f,
                "截至 {}：无法计算状态（{}）",
                format_instant_zh(self.as_of),
                self.state_unknown.as_deref().unwrap_or("-")
            );
        };
        let remaining = if remaining >= 0 {
            format!("剩余 {}", format_minutes_zh(remaining))
        } else {
            format!("超时 {}", format_minutes_zh(-remaining))
        };
        write!(f, "截至 {}：{}，{}", format_instant_zh(self.as_of), state.label_zh(), remaining)
    }
}

/// Parses a time: RFC 3339 with any offset (`2026-02-09T10:00:00+08:00`), or a local Asia/Shanghai time
/// `2026-02-09 10:00[:00]` / `2026-02-09T10:00[:00]`.
pub fn parse_instant(text: &str) -> Result<DateTime<FixedOffset>, SlaError> {
    let trimmed = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(trimmed) {
        return Ok(t);
    }
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|pattern| NaiveDateTime::parse_from_str(trimmed, pattern).ok())
        .and_then(|local| local.and_local_timezone(SHANGHAI).single())
        .ok_or_else(|| SlaError::InvalidInstant { input: text.to_owned() })
}

/// Parses `FROM/TO`; `FROM/` or `FROM/..` is a pause still open. TO must be after FROM.
pub fn parse_pause(text: &str) -> Result<PauseInterval, SlaError> {
    let invalid = |reason: &str| SlaError::InvalidPause { input: text.to_owned(), reason: reason.to_owned() };
    let (from_text, to_text) = text.split_once('/').ok_or_else(|| invalid("expected FROM/TO"))?;
    if to_text.contains('/') {
        return Err(invalid("expected exactly one '/' between FROM and TO"));
    }
    let from = parse_instant(from_text).map_err(|_| invalid("FROM is not a time"))?;
    let to_text = to_text.trim();
    if to_text.is_empty() || to_text == ".." {
        return Ok(PauseInterval { from, to: None });
    }
    let to = parse_instant(to_text).map_err(|_| invalid("TO is not a time"))?;
    if to <= from {
        return Err(invalid("TO must be after FROM"));
    }
    Ok(PauseInterval { from, to: Some(to) })
}

impl FromStr for PauseInterval {
    type Err = SlaError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_pause(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::table_tests::{at, rules};

    #[test]
    fn domain_example_invoice_to_a_working_saturday() {
        let args = DueArgs { policy: Policy::Invoice, events: vec![at("2026-02-09T10:00:00+08:00")], pauses: vec![] };
        let report = compute_due(&rules(), &args, at("2026-02-09 10:00")).expect("due");
        assert_eq!(report.schedule.due_at, at("2026-02-14 17:30"));
        assert_eq!(report.budget_minutes, 3000);
        let json = serde_json::to_value(&report).expect("json");
        assert_eq!(json["due_at"], "2026-02-14T17:30:00+08:00");
        assert_eq!(json["original_due_at"], "2026-02-14T17:30:00+08:00");
        assert_eq!(json["effective_start"], "2026-02-09T10:00:00+08:00");
        assert_eq!(json["warn_at"], "2026-02-13T13:30:00+08:00");
        assert_eq!(json["budget_minutes"], 3000);
        assert_eq!(json["policy"], "invoice");
        assert_eq!(json["state"], "on_track");
        let text = report.to_string();
        assert!(text.contains("承诺期限：2026-02-14 17:30（周六）"), "{text}");
        assert!(text.contains("工作时间预算：50 小时"), "{text}");
    }

    #[test]
    fn events_in_utc_and_pauses_show_in_shanghai_time() {
        let args = DueArgs {
            policy: Policy::Return,
            events: vec![at("2025-03-04T02:15:00Z"), at("2025-03-03T04:00:00Z")],
            pauses: vec![parse_pause("2025-03-04T11:00:00+08:00/2025-03-04T11:45:00+08:00").expect("pause")],
        };
        let report = compute_due(&rules(), &args, at("2025-03-05 10:00")).expect("due");
        let json = serde_json::to_value(&report).expect("json");
        assert_eq!(json["start"], "2025-03-04T10:15:00+08:00");
        assert_eq!(json["due_at"], "2025-03-07T09:45:00+08:00");
        assert_eq!(json["original_due_at"], "2025-03-06T17:30:00+08:00");
        assert_eq!(json["paused_minutes"], 45);
        assert!(report.to_string().contains("顺延后期限：2025-03-07 09:45（周五）（挂起 45 分钟）"), "{report}");
    }

    #[test]
    fn a_deadline_in_a_year_with_no_notice_is_provisional_and_beyond_them_an_error() {
        // Received Thu 2026-12-31: 2027's 1 January is a statutory day off, Saturday and Sunday rest (no
        // 调休 known), so the second working day is Tuesday 5 January — 暂定.
        let args = DueArgs { policy: Policy::Return, events: vec![at("2026-12-31 10:00")], pauses: vec![] };
        let report = compute_due(&rules(), &args, at("2026-12-31 10:00")).expect("provisional");
        assert_eq!(report.schedule.due_at, at("2027-01-05 17:30"));
        assert!(report.schedule.provisional_calendar);
        assert_eq!(serde_json::to_value(&report).unwrap()["provisional_calendar"], true);
        assert!(report.to_string().contains("承诺期限：2027-01-05 17:30（周二）（暂定："), "{report}");
        let before = DueArgs { events: vec![at("2026-12-28 10:00")], ..args.clone() };
        assert!(!compute_due(&rules(), &before, at("2026-12-28 10:00")).unwrap().schedule.provisional_calendar);
        let beyond = DueArgs { events: vec![at("2028-12-29 10:00")], ..args };
        let err = compute_due(&rules(), &beyond, at("2028-12-29 10:00")).expect_err("2029");
        assert!(err.to_string().contains("没有 2029 年的节假日日历"), "{err}");
    }

    #[test]
    fn pause_parser_accepts_closed_open_and_local_forms() {
        let pause = parse_pause("2026-02-10T10:00:00+08:00/2026-02-10T11:00:00+08:00").expect("closed");
        assert_eq!(pause, PauseInterval { from: at("2026-02-10 10:00"), to: Some(at("2026-02-10 11:00")) });
        assert_eq!(parse_pause("2026-02-10T10:00:00+08:00/").expect("open").to, None);
        assert_eq!(parse_pause("2026-02-10T02:00:00Z/..").expect("open").from, at("2026-02-10 10:00"));
        let local: PauseInterval = "2026-02-10 10:00/2026-02-10 11:00".parse().expect("local");
        assert_eq!(local.to, Some(at("2026-02-10 11:00")));
    }

    #[test]
    fn pause_parser_refuses_bad_input_naming_it() {
        for bad in [
            "",
            "2026-02-10T10:00:00+08:00",
            "/2026-02-10T10:00:00+08:00",
            "2026-02-10T11:00:00+08:00/2026-02-10T10:00:00+08:00",
            "2026-02-10T10:00:00+08:00/2026-02-10T10:00:00+08:00",
            "a/b/c",
            "2026-02-30T10:00:00+08:00/",
            "2026-02-10T10:00:00+08:00/tomorrow",
        ] {
            let err = parse_pause(bad).expect_err(bad);
            assert!(matches!(&err, SlaError::InvalidPause { input, .. } if input == bad), "{bad}: {err}");
        }
    }

    #[test]
    fn instant_parser_reads_rfc3339_and_local_shanghai_time() {
        assert_eq!(parse_instant("2026-02-09T10:00:00+08:00").expect("rfc"), at("2026-02-09 10:00"));
        assert_eq!(parse_instant("2026-02-09T02:00:00Z").expect("utc"), at("2026-02-09 10:00"));
        assert_eq!(parse_instant("2026-02-09 10:00").expect("local"), at("2026-02-09 10:00"));
        assert!(matches!(parse_instant("next tuesday"), Err(SlaError::InvalidInstant { .. })));
    }

    #[test]
    fn minutes_read_as_hours_and_minutes() {
        assert_eq!(format_minutes_zh(1455), "24 小时 15 分钟");
        assert_eq!(format_minutes_zh(45), "45 分钟");
        assert_eq!(format_minutes_zh(-120), "-2 小时");
    }
}

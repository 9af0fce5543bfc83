//! Hand-checked table tests of the SLA clocks against the built-in 2024–2026 calendars. Each expected value
//! was worked out by hand from the JSON files; the comment on each row shows the counting.

use chrono::{DateTime, FixedOffset, NaiveDateTime};

use super::clock::{ClockEvents, ClockRules, ClockState, PauseInterval, Policy};
use super::error::SlaError;
use super::settings::SlaSettings;
use super::working_time::SHANGHAI;

/// "YYYY-MM-DD HH:MM[:SS]" in Asia/Shanghai, or RFC 3339 with any offset.
pub(crate) fn at(text: &str) -> DateTime<FixedOffset> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return t;
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .unwrap_or_else(|_| panic!("bad test time {text:?}"));
    local.and_local_timezone(SHANGHAI).single().expect("fixed offset")
}

pub(crate) fn rules() -> ClockRules {
    ClockRules::load(&SlaSettings::default()).expect("built-in rules")
}

fn events(policy: Policy, starts: &[&str], pauses: &[(&str, Option<&str>)]) -> ClockEvents {
    ClockEvents {
        policy,
        starts: starts.iter().map(|s| at(s)).collect(),
        pauses: pauses.iter().map(|(from, to)| PauseInterval { from: at(from), to: to.map(at) }).collect(),
        stop: None,
    }
}

use Policy::{Invoice, Return};

/// (case, policy, start events, effective start, due). No pauses: due = original due.
const DUE_CASES: &[(&str, Policy, &[&str], &str, &str)] = &[
    // DOMAIN.md examples.
    ("example: ordinary Tuesday", Return, &["2025-03-04 10:15"], "2025-03-04 10:15", "2025-03-06 17:30"),
    ("example: Friday, Sunday 09-28 works", Return, &["2025-09-26 11:00"], "2025-09-26 11:00", "2025-09-29 17:30"),
    ("example: eve of National Day 2026", Return, &["2026-09-30 09:30"], "2026-09-30 09:30", "2026-10-09 17:30"),
    ("example: invoice to a working Saturday", Invoice, &["2026-02-09 10:00"], "2026-02-09 10:00", "2026-02-14 17:30"),
    // Ordinary weeks (March 2025 has no holidays).
    ("Monday at opening", Return, &["2025-03-03 09:00"], "2025-03-03 09:00", "2025-03-05 17:30"),
    ("Thursday: Fri + Mon", Return, &["2025-03-06 14:00"], "2025-03-06 14:00", "2025-03-10 17:30"),
    ("Friday afternoon: Mon + Tue", Return, &["2025-03-07 16:00"], "2025-03-07 16:00", "2025-03-11 17:30"),
    ("Saturday: starts Monday, Mon + Tue", Return, &["2025-03-08 10:00"], "2025-03-10 09:00", "2025-03-11 17:30"),
    ("Sunday night: Mon + Tue", Return, &["2025-03-09 20:00"], "2025-03-10 09:00", "2025-03-11 17:30"),
    // Receipts at and after closing, before opening.
    ("exactly 17:30 is after closing", Return, &["2025-03-04 17:30"], "2025-03-05 09:00", "2025-03-06 17:30"),
    ("17:29 is still business time", Return, &["2025-03-04 17:29"], "2025-03-04 17:29", "2025-03-06 17:30"),
    ("late evening: event day still Tuesday", Return, &["2025-03-04 22:45"], "2025-03-05 09:00", "2025-03-06 17:30"),
    ("before opening: event day not counted", Return, &["2025-03-04 07:50"], "2025-03-04 09:00", "2025-03-06 17:30"),
    ("midnight belongs to the new day", Return, &["2025-03-05 00:00"], "2025-03-05 09:00", "2025-03-07 17:30"),
    ("UTC input, 02:15Z = 10:15 Shanghai", Return, &["2025-03-04T02:15:00Z"], "2025-03-04 10:15", "2025-03-06 17:30"),
    (
        "UTC input, 16:30Z Tue = Wed 00:30 Shanghai",
        Return,
        &["2025-03-04T16:30:00Z"],
        "2025-03-05 09:00",
        "2025-03-07 17:30",
    ),
    // Latest of several start events (received, paid, documents approved).
    (
        "latest start event wins",
        Return,
        &["2025-03-04 10:15", "2025-03-03 12:00", "2025-03-05 11:00"],
        "2025-03-05 11:00",
        "2025-03-07 17:30",
    ),
    // Adjusted working weekend days, National Day 2025 (Sun 09-28 and Sat 10-11 work; 10-01..08 off).
    (
        "Friday after closing: starts on working Sunday",
        Return,
        &["2025-09-26 17:45"],
        "2025-09-28 09:00",
        "2025-09-29 17:30",
    ),
    ("Saturday before working Sunday", Return, &["2025-09-27 10:00"], "2025-09-28 09:00", "2025-09-29 17:30"),
    ("on the working Sunday: Mon + Tue", Return, &["2025-09-28 10:00"], "2025-09-28 10:00", "2025-09-30 17:30"),
    ("Monday 09-29: Tue 30 + Thu 10-09", Return, &["2025-09-29 15:00"], "2025-09-29 15:00", "2025-10-09 17:30"),
    ("Tuesday 09-30: Oct 9 + Oct 10", Return, &["2025-09-30 10:00"], "2025-09-30 10:00", "2025-10-10 17:30"),
    ("inside National Day 2025", Return, &["2025-10-03 12:00"], "2025-10-09 09:00", "2025-10-10 17:30"),
    ("deadline on working Saturday 10-11", Return, &["2025-10-09 10:00"], "2025-10-09 10:00", "2025-10-11 17:30"),
    // Spring Festival 2025 (Sun 01-26 works, 01-28..02-04 off, Sat 02-08 works).
    ("Friday before Spring Festival 2025", Return, &["2025-01-24 16:00"], "2025-01-24 16:00", "2025-01-27 17:30"),
    ("Saturday before working Sunday 01-26", Return, &["2025-01-25 11:00"], "2025-01-26 09:00", "2025-01-27 17:30"),
    ("Monday 01-27: Feb 5 + Feb 6", Return, &["2025-01-27 10:00"], "2025-01-27 10:00", "2025-02-06 17:30"),
    ("deadline on working Saturday 02-08", Return, &["2025-02-06 10:00"], "2025-02-06 10:00", "2025-02-08 17:30"),
    // Spring Festival 2026 (Sat 02-14 works, 02-15..23 off, Sat 02-28 works).
    ("Friday 02-13: Sat 14 + Tue 24", Return, &["2026-02-13 11:00"], "2026-02-13 11:00", "2026-02-24 17:30"),
    ("working Saturday at closing", Return, &["2026-02-14 17:30"], "2026-02-24 09:00", "2026-02-25 17:30"),
    ("Thursday 02-12: Fri + working Sat", Return, &["2026-02-12 09:00"], "2026-02-12 09:00", "2026-02-14 17:30"),
    ("invoice across Spring Festival from Wed", Invoice, &["2026-02-11 10:00"], "2026-02-11 10:00", "2026-02-25 17:30"),
    ("invoice across Spring Festival from Fri", Invoice, &["2026-02-13 15:00"], "2026-02-13 15:00", "2026-02-27 17:30"),
    (
        "invoice approved in the holiday: due working Sat 02-28",
        Invoice,
        &["2026-02-17 10:00"],
        "2026-02-24 09:00",
        "2026-02-28 17:30",
    ),
    // Year boundaries.
    ("Dec 31 2024: Jan 1 off, Jan 2 + Jan 3", Return, &["2024-12-31 10:00"], "2024-12-31 10:00", "2025-01-03 17:30"),
    (
        "Dec 31 2025: working Sun Jan 4 + Mon Jan 5",
        Return,
        &["2025-12-31 10:00"],
        "2025-12-31 10:00",
        "2026-01-05 17:30",
    ),
    (
        "Dec 30 2025: deadline on working Sunday Jan 4",
        Return,
        &["2025-12-30 10:00"],
        "2025-12-30 10:00",
        "2026-01-04 17:30",
    ),
    ("invoice Dec 31 after closing: Jan 4..8", Invoice, &["2025-12-31 17:40"], "2026-01-04 09:00", "2026-01-08 17:30"),
    ("Dec 29 2026 stays inside 2026", Return, &["2026-12-29 10:00"], "2026-12-29 10:00", "2026-12-31 17:30"),
    // National Day and Mid-Autumn 2026 (Sun 09-20 works, 09-25..27 off, 10-01..07 off, Sat 10-10 works).
    ("Monday 2026-09-28: Tue + Wed", Return, &["2026-09-28 10:00"], "2026-09-28 10:00", "2026-09-30 17:30"),
    ("Tuesday 2026-09-29: Wed 30 + Thu 10-08", Return, &["2026-09-29 10:00"], "2026-09-29 10:00", "2026-10-08 17:30"),
    (
        "Friday 2026-10-09: working Sat 10 + Mon 12",
        Return,
        &["2026-10-09 10:00"],
        "2026-10-09 10:00",
        "2026-10-12 17:30",
    ),
    (
        "Saturday 2026-09-19 starts on working Sunday",
        Return,
        &["2026-09-19 10:00"],
        "2026-09-20 09:00",
        "2026-09-21 17:30",
    ),
    ("Thursday before Mid-Autumn 2026", Return, &["2026-09-24 10:00"], "2026-09-24 10:00", "2026-09-29 17:30"),
    (
        "invoice from working Saturday 2026-10-10",
        Invoice,
        &["2026-10-10 16:00"],
        "2026-10-10 16:00",
        "2026-10-16 17:30",
    ),
    // 2024 and Labour Day 2025.
    ("Friday 2024-02-02: working Sun 4 + Mon 5", Return, &["2024-02-02 10:00"], "2024-02-02 10:00", "2024-02-05 17:30"),
    (
        "Thursday 2024-02-08: deadline on working Sunday 02-18",
        Return,
        &["2024-02-08 10:00"],
        "2024-02-08 10:00",
        "2024-02-18 17:30",
    ),
    ("invoice across Labour Day 2025", Invoice, &["2025-04-28 10:00"], "2025-04-28 10:00", "2025-05-08 17:30"),
];

#[test]
fn due_instants_match_the_hand_checked_table() {
    let rules = rules();
    for (case, policy, starts, effective_start, due) in DUE_CASES {
        let schedule = rules
            .schedule(&events(*policy, starts, &[]), at("2026-12-31 00:00"))
            .unwrap_or_else(|err| panic!("{case}: {err}"));
        assert_eq!(schedule.effective_start, at(effective_start), "{case}: effective start");
        assert_eq!(schedule.original_due_at, at(due), "{case}: original due");
        assert_eq!(schedule.due_at, at(due), "{case}: due");
        assert_eq!(schedule.paused_seconds, 0, "{case}");
        assert_eq!(schedule.due_at.offset(), &SHANGHAI, "{case}: due shown in +08:00");
    }
}

/// (case, policy, start, pauses, as of, original due, due).
#[allow(clippy::type_complexity)]
const PAUSE_CASES: &[(&str, Policy, &str, &[(&str, Option<&str>)], &str, &str, &str)] = &[
    // Tue 10:15 → due Thu 17:30; 45 min on hold → Fri 09:45.
    (
        "45 minutes on hold",
        Return,
        "2025-03-04 10:15",
        &[("2025-03-04 11:00", Some("2025-03-04 11:45"))],
        "2025-03-10 00:00",
        "2025-03-06 17:30",
        "2025-03-07 09:45",
    ),
    // 16:59..17:30 = 31 min → Fri 09:31.
    (
        "pause to the minute",
        Return,
        "2025-03-04 10:15",
        &[("2025-03-05 16:59", Some("2025-03-05 17:30"))],
        "2025-03-10 00:00",
        "2025-03-06 17:30",
        "2025-03-07 09:31",
    ),
    // Tue 09-30 16:00..17:30 = 90, Oct 1..8 nothing, Oct 9 09:00..10:00 = 60 → 150 min after Thu 10-09 17:30 → Fri 10-10 11:30.
    (
        "pause spans National Day 2025",
        Return,
        "2025-09-29 15:00",
        &[("2025-09-30 16:00", Some("2025-10-09 10:00"))],
        "2025-10-20 00:00",
        "2025-10-09 17:30",
        "2025-10-10 11:30",
    ),
    // Fri 02-13 17:00..17:30 = 30, Sat 14 = 510, Tue 24 09:00..09:30 = 30 → 570 after Sat 17:30 → Tue 24 full (510) + 60 → Wed 25 10:00.
    (
        "invoice pause spans Spring Festival 2026",
        Invoice,
        "2026-02-09 10:00",
        &[("2026-02-13 17:00", Some("2026-02-24 09:30"))],
        "2026-03-10 00:00",
        "2026-02-14 17:30",
        "2026-02-25 10:00",
    ),
    // Still on hold: Wed 10:00..now 15:00 = 300 min → Fri 09:00 + 300 = 14:00 (provisional).
    (
        "pause still open",
        Return,
        "2025-03-04 10:15",
        &[("2025-03-05 10:00", None)],
        "2025-03-05 15:00",
        "2025-03-06 17:30",
        "2025-03-07 14:00",
    ),
    (
        "pause before the clock started is ignored",
        Return,
        "2025-03-04 10:15",
        &[("2025-03-03 10:00", Some("2025-03-03 11:00"))],
        "2025-03-10 00:00",
        "2025-03-06 17:30",
        "2025-03-06 17:30",
    ),
    // Received 08:00 (effective 09:00); on hold 08:30..09:30 counts 09:00..09:30 = 30 → Fri 09:30.
    (
        "pause across the effective start counts from opening",
        Return,
        "2025-03-04 08:00",
        &[("2025-03-04 08:30", Some("2025-03-04 09:30"))],
        "2025-03-10 00:00",
        "2025-03-06 17:30",
        "2025-03-07 09:30",
    ),
    (
        "pause overnight only costs nothing",
        Return,
        "2025-03-04 10:15",
        &[("2025-03-04 18:00", Some("2025-03-05 08:30"))],
        "2025-03-10 00:00",
        "2025-03-06 17:30",
        "2025-03-06 17:30",
    ),
    // 11:00..12:00 ∪ 11:30..12:30 = 90 min → Fri 10:30.
    (
        "overlapping pauses count once",
        Return,
        "2025-03-04 10:15",
        &[("2025-03-04 11:30", Some("2025-03-04 12:30")), ("2025-03-04 11:00", Some("2025-03-04 12:00"))],
        "2025-03-10 00:00",
        "2025-03-06 17:30",
        "2025-03-07 10:30",
    ),
    (
        "pause after the due instant does not rescue the clock",
        Return,
        "2025-03-04 10:15",
        &[("2025-03-07 10:00", Some("2025-03-07 11:00"))],
        "2025-03-10 00:00",
        "2025-03-06 17:30",
        "2025-03-06 17:30",
    ),
    // A whole working day (510 min) on hold → close of the next working day, not Monday 09:00.
    (
        "a full day on hold ends at close",
        Return,
        "2025-03-04 10:15",
        &[("2025-03-05 09:00", Some("2025-03-05 17:30"))],
        "2025-03-10 00:00",
        "2025-03-06 17:30",
        "2025-03-07 17:30",
    ),
    // Thu 14:00 → due Mon 17:30; Fri 17:00..17:30 = 30 + Mon 09:00..09:15 = 15 → Tue 09:45.
    (
        "pause over a weekend",
        Return,
        "2025-03-06 14:00",
        &[("2025-03-07 17:00", Some("2025-03-10 09:15"))],
        "2025-03-20 00:00",
        "2025-03-10 17:30",
        "2025-03-11 09:45",
    ),
];

#[test]
fn pauses_move_the_due_instant_by_business_time_on_hold() {
    let rules = rules();
    for (case, policy, start, pauses, as_of, original_due, due) in PAUSE_CASES {
        let schedule =
            rules.schedule(&events(*policy, &[start], pauses), at(as_of)).unwrap_or_else(|err| panic!("{case}: {err}"));
        assert_eq!(schedule.original_due_at, at(original_due), "{case}: original due");
        assert_eq!(schedule.due_at, at(due), "{case}: due");
    }
}

/// (case, policy, start, year in the error): years with neither a notice nor a provisional calendar
/// (the provisional years are the two after the last notice: 2027 and 2028).
const MISSING_YEAR_CASES: &[(&str, Policy, &str, i32)] = &[
    ("a date in 2029", Return, "2029-01-08 10:00", 2029),
    ("Dec 29 2028: the second working day is in 2029", Return, "2028-12-29 10:00", 2029),
    ("a date in 2023", Return, "2023-12-29 10:00", 2023),
];

#[test]
fn dates_outside_the_loaded_years_are_errors_never_guesses() {
    let rules = rules();
    for (case, policy, start, year) in MISSING_YEAR_CASES {
        let err = rules.schedule(&events(*policy, &[start], &[]), at(start)).expect_err(case);
        assert!(matches!(err, SlaError::MissingCalendarYear { year: y } if y == *year), "{case}: {err}");
        assert!(err.to_string().starts_with(&format!("没有 {year} 年的节假日日历")), "{case}: {err}");
    }
}

/// (case, policy, start, due): deadlines that reach 2027, which has no notice yet — the statutory
/// holidays alone, each on a weekend given back on the next free weekday, no adjusted weekends.
const PROVISIONAL_CASES: &[(&str, Policy, &str, &str)] = &[
    ("Thu Dec 31: 1 Jan off, the weekend, Mon 4, Tue 5", Return, "2026-12-31 10:00", "2027-01-05 17:30"),
    ("Wed Dec 30: Thu 31, then Mon 4 Jan", Return, "2026-12-30 10:00", "2027-01-04 17:30"),
    ("invoice from Mon Dec 28: 29, 30, 31, 4 and 5 Jan", Invoice, "2026-12-28 10:00", "2027-01-05 17:30"),
    (
        "Thu 4 Feb 2027: 除夕 to 初三 and two days given back, then Thu 11, Fri 12",
        Return,
        "2027-02-04 10:00",
        "2027-02-12 17:30",
    ),
];

#[test]
fn deadlines_in_a_year_with_no_notice_are_provisional() {
    let rules = rules();
    for (case, policy, start, due) in PROVISIONAL_CASES {
        let schedule = rules.schedule(&events(*policy, &[start], &[]), at(start)).expect(case);
        assert_eq!(schedule.due_at, at(due), "{case}");
        assert!(schedule.provisional_calendar, "{case}");
    }
    let settled = rules.schedule(&events(Return, &["2026-12-28 10:00"], &[]), at("2026-12-28 10:00")).unwrap();
    assert!(!settled.provisional_calendar, "a deadline inside 2026 is not provisional");
}

#[test]
fn warn_at_is_three_quarters_of_the_budget() {
    let rules = rules();
    // Tue 10:15 → Thu 17:30: 435 + 510 + 510 = 1455 min; 75 % = 1091 min 15 s → Thu 09:00 + 146 min 15 s.
    let schedule = rules.schedule(&events(Return, &["2025-03-04 10:15"], &[]), at("2025-03-04 10:15")).expect("ok");
    assert_eq!(schedule.budget_minutes(), 1455);
    assert_eq!(schedule.warn_at, at("2025-03-06 11:26:15"));
    // Received after closing: Wed 09:00 → Thu 17:30 = 1020 min; 765 min → Thu 13:15.
    let schedule = rules.schedule(&events(Return, &["2025-03-04 17:30"], &[]), at("2025-03-04 18:00")).expect("ok");
    assert_eq!(schedule.budget_minutes(), 1020);
    assert_eq!(schedule.warn_at, at("2025-03-06 13:15"));
    // Invoice Mon 2026-02-09 10:00 → Sat 14 17:30: 450 + 5 × 510 = 3000 min; 2250 → Fri 02-13 13:30.
    let schedule = rules.schedule(&events(Invoice, &["2026-02-09 10:00"], &[]), at("2026-02-09 10:00")).expect("ok");
    assert_eq!(schedule.budget_minutes(), 3000);
    assert_eq!(schedule.warn_at, at("2026-02-13 13:30"));
    // A 60-minute pause before the warning point moves it by 60 business minutes: Fri 14:30.
    let paused = events(Invoice, &["2026-02-09 10:00"], &[("2026-02-10 10:00", Some("2026-02-10 11:00"))]);
    let schedule = rules.schedule(&paused, at("2026-02-20 00:00")).expect("ok");
    assert_eq!(schedule.warn_at, at("2026-02-13 14:30"));
    assert_eq!(schedule.due_at, at("2026-02-24 10:00"), "Sat 17:30 + 60 min over Spring Festival");
    assert_eq!(schedule.paused_minutes(), 60);
}

/// (case, now, state, remaining business minutes) for the clock Tue 2025-03-04 10:15 → Thu 03-06 17:30.
const STATE_CASES: &[(&str, &str, ClockState, i64)] = &[
    ("before the start", "2025-03-04 08:00", ClockState::OnTrack, 1455),
    ("next day", "2025-03-05 12:00", ClockState::OnTrack, 840),
    ("due day before opening", "2025-03-06 08:59", ClockState::OnTrack, 510),
    ("due day from opening", "2025-03-06 09:00", ClockState::DueToday, 510),
    ("due today wins over at risk", "2025-03-06 11:30", ClockState::DueToday, 360),
    ("at the due instant", "2025-03-06 17:30", ClockState::DueToday, 0),
    ("just after: breached, no business time lost yet", "2025-03-06 17:31", ClockState::Breached, 0),
    ("next morning", "2025-03-07 10:00", ClockState::Breached, -60),
];

#[test]
fn evaluation_gives_the_state_and_remaining_minutes() {
    let rules = rules();
    let clock = events(Return, &["2025-03-04 10:15"], &[]);
    for (case, now, state, remaining) in STATE_CASES {
        let evaluation = rules.evaluate(&clock, at(now)).unwrap_or_else(|err| panic!("{case}: {err}"));
        assert_eq!(evaluation.state, *state, "{case}");
        assert_eq!(evaluation.remaining_minutes, *remaining, "{case}");
    }
}

#[test]
fn at_risk_from_warn_at_until_the_due_day() {
    let rules = rules();
    let clock = events(Invoice, &["2026-02-09 10:00"], &[]);
    let state_at = |now: &str| rules.evaluate(&clock, at(now)).expect("ok").state;
    assert_eq!(state_at("2026-02-13 13:29"), ClockState::OnTrack);
    assert_eq!(state_at("2026-02-13 13:30"), ClockState::AtRisk);
    assert_eq!(state_at("2026-02-14 08:00"), ClockState::AtRisk);
    assert_eq!(state_at("2026-02-14 09:00"), ClockState::DueToday);
    assert_eq!(state_at("2026-02-15 09:00"), ClockState::Breached);
}

#[test]
fn stop_gives_met_or_missed() {
    let rules = rules();
    let mut clock = events(Return, &["2025-03-04 10:15"], &[]);
    clock.stop = Some(at("2025-03-06 17:30"));
    let evaluation = rules.evaluate(&clock, at("2025-03-20 00:00")).expect("ok");
    assert_eq!((evaluation.state, evaluation.remaining_minutes), (ClockState::Met, 0));
    assert_eq!(evaluation.stopped_at, Some(at("2025-03-06 17:30")));
    clock.stop = Some(at("2025-03-07 09:01"));
    let evaluation = rules.evaluate(&clock, at("2025-03-20 00:00")).expect("ok");
    assert_eq!((evaluation.state, evaluation.remaining_minutes), (ClockState::Missed, -1));
    // Before the stop happened, the same events read as due today.
    assert_eq!(rules.evaluate(&clock, at("2025-03-06 10:00")).expect("ok").state, ClockState::DueToday);
}

#[test]
fn an_open_pause_holds_the_clock_and_its_budget() {
    let rules = rules();
    let clock = events(Return, &["2025-03-04 10:15"], &[("2025-03-05 10:00", None)]);
    let evaluation = rules.evaluate(&clock, at("2025-03-05 15:00")).expect("ok");
    assert_eq!(evaluation.state, ClockState::OnHold);
    assert_eq!(evaluation.on_hold_since, Some(at("2025-03-05 10:00")));
    // 1455 budget − 495 consumed before the pause.
    assert_eq!(evaluation.remaining_minutes, 960);
    assert_eq!(evaluation.schedule.due_at, at("2025-03-07 14:00"));
    assert_eq!(evaluation.schedule.original_due_at, at("2025-03-06 17:30"));
    // Days later, still on hold, remaining is unchanged.
    let later = rules.evaluate(&clock, at("2025-03-12 11:00")).expect("ok");
    assert_eq!((later.state, later.remaining_minutes), (ClockState::OnHold, 960));
}

#[test]
fn a_pause_opened_after_the_breach_leaves_it_breached() {
    let rules = rules();
    let clock = events(Return, &["2025-03-04 10:15"], &[("2025-03-07 10:00", None)]);
    let evaluation = rules.evaluate(&clock, at("2025-03-07 11:00")).expect("ok");
    assert_eq!(evaluation.state, ClockState::Breached);
    assert_eq!(evaluation.schedule.due_at, at("2025-03-06 17:30"));
}

#[test]
fn a_closed_pause_reads_as_open_when_evaluated_during_it() {
    let rules = rules();
    let clock = events(Return, &["2025-03-04 10:15"], &[("2025-03-05 10:00", Some("2025-03-05 12:00"))]);
    assert_eq!(rules.evaluate(&clock, at("2025-03-05 11:00")).expect("ok").state, ClockState::OnHold);
    let after = rules.evaluate(&clock, at("2025-03-05 13:00")).expect("ok");
    assert_eq!(after.state, ClockState::OnTrack);
    assert_eq!(after.schedule.due_at, at("2025-03-07 11:00"));
}

#[test]
fn no_start_event_is_an_error() {
    let err = rules().schedule(&events(Return, &[], &[]), at("2025-03-04 10:00")).expect_err("no start");
    assert!(matches!(err, SlaError::NoStartEvent));
}

#[test]
fn configured_hours_and_days_change_the_deadline() {
    let settings = SlaSettings {
        business_open: "08:30".parse().expect("time"),
        business_close: "18:00".parse().expect("time"),
        return_working_days: 3,
        ..SlaSettings::default()
    };
    let rules = ClockRules::load(&settings).expect("rules");
    let schedule = rules.schedule(&events(Return, &["2025-03-04 08:00"], &[]), at("2025-03-04 08:00")).expect("ok");
    assert_eq!(schedule.effective_start, at("2025-03-04 08:30"));
    assert_eq!(schedule.original_due_at, at("2025-03-07 18:00"));
}

#[test]
fn the_table_has_at_least_forty_hand_checked_cases() {
    let total = DUE_CASES.len() + PAUSE_CASES.len() + MISSING_YEAR_CASES.len() + STATE_CASES.len();
    assert!(total >= 40, "{total}");
}

#[test]
fn the_clock_starts_only_when_every_condition_has_happened() {
    let received = Some(at("2025-03-04 10:15"));
    let paid = Some(at("2025-03-03 12:00"));
    assert_eq!(ClockEvents::starts_when_all_happened(&[received, paid, None]), None);
    let starts = ClockEvents::starts_when_all_happened(&[received, paid, Some(at("2025-03-05 11:00"))]).expect("all");
    let schedule =
        rules().schedule(&ClockEvents { policy: Return, starts, pauses: vec![], stop: None }, at("2025-03-05 11:00"));
    assert_eq!(schedule.expect("ok").due_at, at("2025-03-07 17:30"));
}

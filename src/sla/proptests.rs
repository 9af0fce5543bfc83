//! Property tests of the clocks over the built-in calendars: deadlines land at business close on a working day
//! (moved only by the business time on hold), never earlier for a later event, effective starts are business
//! instants, and the parsers never panic.

use chrono::{DateTime, Datelike, FixedOffset, TimeDelta, Timelike};
use proptest::prelude::*;

use super::calendar::{CalendarSource, HolidayYear};
use super::clock::{ClockEvents, ClockRules, PauseInterval, Policy};
use super::due::{parse_instant, parse_pause};
use super::settings::HourMinute;
use super::table_tests::{at, rules};

/// Seconds from 2024-01-01 00:00 Shanghai to 2026-12-15 00:00: starts late enough in 2026 would need 2027.
const SPAN_SECONDS: i64 = 1079 * 86_400;

fn instant(seconds: i64) -> DateTime<FixedOffset> {
    at("2024-01-01 00:00") + TimeDelta::seconds(seconds)
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![Just(Policy::Return), Just(Policy::Invoice)]
}

fn clock(policy: Policy, start: DateTime<FixedOffset>, pauses: Vec<PauseInterval>) -> ClockEvents {
    ClockEvents { policy, starts: vec![start], pauses, stop: None }
}

fn assert_at_close_of_working_day(rules: &ClockRules, due: DateTime<FixedOffset>) {
    let time = rules.working_time();
    let date = super::working_time::WorkingTime::shanghai_date(due);
    assert!(time.calendar().is_working_day(date).expect("known"), "{due} not on a working day");
    assert_eq!((due.hour(), due.minute(), due.second()), (17, 30, 0), "{due}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn without_pauses_the_due_instant_is_close_of_a_working_day(
        offset in 0..SPAN_SECONDS,
        policy in policy(),
    ) {
        let rules = rules();
        let start = instant(offset);
        let schedule = rules.schedule(&clock(policy, start, vec![]), start).expect("inside 2024-2026");
        assert_at_close_of_working_day(&rules, schedule.due_at);
        prop_assert_eq!(schedule.due_at, schedule.original_due_at);
        prop_assert!(schedule.due_at > start);
        // Exactly N working days after the event date.
        let calendar = rules.calendar();
        let event_date = super::working_time::WorkingTime::shanghai_date(start);
        let due_date = super::working_time::WorkingTime::shanghai_date(schedule.due_at);
        let counted = calendar
            .working_days_between(event_date.succ_opt().expect("date"), due_date.succ_opt().expect("date"))
            .expect("known");
        prop_assert_eq!(counted, rules.working_days(policy));
        prop_assert!(schedule.warn_at >= schedule.effective_start && schedule.warn_at <= schedule.due_at);
    }

    #[test]
    fn pauses_move_the_due_instant_by_exactly_the_business_time_on_hold(
        offset in 0..SPAN_SECONDS,
        policy in policy(),
        raw_pauses in proptest::collection::vec((0i64..10 * 86_400, 1i64..3 * 86_400), 0..4),
    ) {
        let rules = rules();
        let time = rules.working_time();
        let start = instant(offset);
        let pauses: Vec<PauseInterval> = raw_pauses
            .iter()
            .map(|(after, length)| {
                let from = start + TimeDelta::seconds(*after);
                PauseInterval { from, to: Some(from + TimeDelta::seconds(*length)) }
            })
            .collect();
        let schedule = match rules.schedule(&clock(policy, start, pauses), start) {
            Ok(schedule) => schedule,
            // Long pauses late in 2026 can legitimately run into 2027.
            Err(super::error::SlaError::MissingCalendarYear { year: 2027 }) => return Ok(()),
            Err(err) => panic!("{err}"),
        };
        let moved = time.business_seconds_between(schedule.original_due_at, schedule.due_at).expect("known");
        prop_assert_eq!(moved, schedule.paused_seconds);
        prop_assert!(schedule.paused_seconds >= 0);
        let date = super::working_time::WorkingTime::shanghai_date(schedule.due_at);
        prop_assert!(time.calendar().is_working_day(date).expect("known"));
        let seconds = schedule.due_at.num_seconds_from_midnight();
        prop_assert!(seconds > 9 * 3600 && seconds <= 17 * 3600 + 30 * 60, "{}", schedule.due_at);
        if schedule.paused_seconds == 0 {
            prop_assert_eq!(schedule.due_at, schedule.original_due_at);
        }
    }

    #[test]
    fn a_later_event_never_gives_an_earlier_due_instant(
        first in 0..SPAN_SECONDS,
        delay in 0i64..20 * 86_400,
        policy in policy(),
    ) {
        let rules = rules();
        let second = (first + delay).min(SPAN_SECONDS);
        let earlier = rules.schedule(&clock(policy, instant(first), vec![]), instant(first)).expect("known");
        let later = rules.schedule(&clock(policy, instant(second), vec![]), instant(second)).expect("known");
        prop_assert!(later.due_at >= earlier.due_at, "{} then {}", earlier.due_at, later.due_at);
        prop_assert!(later.effective_start >= earlier.effective_start);
    }

    #[test]
    fn effective_start_is_the_first_business_instant_at_or_after_the_start(offset in 0..SPAN_SECONDS) {
        let rules = rules();
        let time = rules.working_time();
        let start = instant(offset);
        let effective = time.effective_start(start).expect("known");
        prop_assert!(effective >= start);
        prop_assert!(time.is_business_instant(effective).expect("known"), "{effective}");
        prop_assert_eq!(time.business_seconds_between(start, effective).expect("known"), 0);
        prop_assert_eq!(effective.offset().local_minus_utc(), 8 * 3600);
        prop_assert!(effective.year() >= 2024);
    }

    #[test]
    fn parsers_never_panic(text in ".{0,64}") {
        let _ = parse_pause(&text);
        let _ = parse_instant(&text);
        let _ = text.parse::<Policy>();
        let _ = text.parse::<HourMinute>();
        let _ = HolidayYear::parse("fuzz.json", &text, Some(2027), CalendarSource::BuiltIn);
    }

    #[test]
    fn pause_parser_never_panics_on_near_misses(
        from in "20[0-9]{2}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](Z|\\+08:00)",
        to in "(|\\.\\.|20[0-9]{2}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](Z|\\+08:00))",
    ) {
        if let Ok(pause) = parse_pause(&format!("{from}/{to}")) {
            if let Some(end) = pause.to {
                prop_assert!(end > pause.from);
            }
        }
    }
}

//! The demo's orders on any day. `fixtures/demo-orders.json` is written as it stood at
//! [`FIXTURE_AS_OF`]; [`rebase`] moves every instant in it so that the orders stand to "now" as they
//! stood to that moment: a key received one working day before it is received one working day
//! before now (so the same clocks are due today, at risk, late or on hold), and a certificate that
//! expired a month before expires a month before now (so the same keys are inside the 60-day window,
//! already expired, or not yet renewable). Order numbers keep their fixture dates: they are
//! identifiers the README and the tests name.
//!
//! Days move by working days where a calendar is loaded (dates outside it move Monday to Friday, so
//! a year without a calendar still gets a demo), weekend and holiday dates stay between the working
//! days they fell between, and times of day stay as written. Certificate dates move by calendar days,
//! except a validity start before the single-seal cut-over, which stays (that certificate must keep
//! needing the mail).

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Utc, Weekday};
use serde_json::Value;

use crate::sla::{Calendar, SHANGHAI};

/// The moment the demo fixture was written as of (Beijing time).
pub const FIXTURE_AS_OF: &str = "2026-11-30T12:00:00+08:00";

/// [`FIXTURE_AS_OF`] as an instant.
pub fn fixture_as_of() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(FIXTURE_AS_OF).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

/// Order fields that are moments in the order's life (moved by working days).
const LIFE_FIELDS: [&str; 4] = ["created_at", "paid_at", "received_at", "shipped_at"];

/// Maps dates of the fixture's days onto dates around today, working day for working day: `from` (the
/// last working day at or before the fixture's day) lands on `to` (the same, for today).
struct DayMap<'a> {
    calendar: &'a Calendar,
    from: NaiveDate,
    to: NaiveDate,
}

impl<'a> DayMap<'a> {
    fn new(calendar: &'a Calendar, fixture_day: NaiveDate, today: NaiveDate) -> DayMap<'a> {
        let mut map = DayMap { calendar, from: fixture_day, to: today };
        (map.from, map.to) = (map.working_at_or_before(fixture_day), map.working_at_or_before(today));
        map
    }

    fn working(&self, d: NaiveDate) -> bool {
        self.calendar.is_working_day(d).unwrap_or(!matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
    }

    /// The last working day at or before `d`.
    fn working_at_or_before(&self, mut d: NaiveDate) -> NaiveDate {
        for _ in 0..40 {
            if self.working(d) {
                return d;
            }
            d = d.pred_opt().unwrap_or(d);
        }
        d
    }

    /// Moves a working day `n` working days (negative: back).
    fn step(&self, mut d: NaiveDate, n: i64) -> NaiveDate {
        let mut left = n.abs();
        while left > 0 {
            d = if n > 0 { d.succ_opt().unwrap_or(d) } else { d.pred_opt().unwrap_or(d) };
            if self.working(d) {
                left -= 1;
            }
        }
        d
    }

    /// Signed count of working days from `a` to the working day `b`.
    fn distance(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
        let mut n = 0;
        let mut d = lo;
        while d < hi {
            d = d.succ_opt().unwrap_or(hi);
            if self.working(d) {
                n += 1;
            }
        }
        sign * n
    }

    fn map(&self, d: NaiveDate) -> NaiveDate {
        let anchor = self.working_at_or_before(d);
        let mapped = self.step(self.to, self.distance(self.from, anchor));
        if anchor == d {
            return mapped;
        }
        // A day off: as many days after the mapped working day as it was after its own, but before
        // the next mapped working day.
        let next = self.step(mapped, 1);
        let after = mapped + Duration::days((d - anchor).num_days());
        if after < next {
            after
        } else {
            next.pred_opt().unwrap_or(next)
        }
    }
}

fn shift_life(t: &str, days: &DayMap) -> Option<String> {
    let t = DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&SHANGHAI);
    let date = days.map(t.date_naive());
    let moved = date.and_time(t.time()).and_local_timezone(SHANGHAI).single()?;
    Some(moved.to_rfc3339())
}

fn shift_calendar(t: &str, by: Duration) -> Option<String> {
    let t: DateTime<FixedOffset> = DateTime::parse_from_rfc3339(t).ok()?;
    Some((t + by).to_rfc3339())
}

/// The demo fixture moved from `as_of` to `now` (see the module header). Fails only on a fixture that
/// is not a JSON array of orders.
pub fn rebase(
    json: &str,
    as_of: DateTime<Utc>,
    now: DateTime<Utc>,
    calendar: &Calendar,
    mail_only_before: NaiveDate,
) -> Result<String, String> {
    let mut orders: Vec<Value> =
        serde_json::from_str(json).map_err(|e| format!("the demo fixture is not a JSON array: {e}"))?;
    let (from_local, to_local) = (as_of.with_timezone(&SHANGHAI), now.with_timezone(&SHANGHAI));
    let days = DayMap::new(calendar, from_local.date_naive(), to_local.date_naive());
    let by = Duration::days((to_local.date_naive() - from_local.date_naive()).num_days());
    let move_field = |v: &mut Value, f: &dyn Fn(&str) -> Option<String>| {
        if let Some(s) = v.as_str().and_then(f) {
            *v = Value::String(s);
        }
    };
    for order in &mut orders {
        for field in LIFE_FIELDS {
            if let Some(v) = order.get_mut(field) {
                move_field(v, &|t| shift_life(t, &days));
            }
        }
        if let Some(v) = order.pointer_mut("/handler/docs_approved_at") {
            move_field(v, &|t| shift_life(t, &days));
        }
        if let Some(v) = order.pointer_mut("/cert/not_after") {
            move_field(v, &|t| shift_calendar(t, by));
        }
        if let Some(v) = order.pointer_mut("/cert/not_before") {
            let before_cutover = v
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t.date_naive() < mail_only_before);
            if !before_cutover {
                move_field(v, &|t| shift_calendar(t, by));
            }
        }
    }
    serde_json::to_string_pretty(&orders).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn calendar() -> Calendar {
        Calendar::built_in().unwrap()
    }

    fn order(received: &str, not_before: &str, not_after: &str) -> String {
        format!(
            r#"[{{"received_at":"{received}","created_at":"2026-11-29T16:33:00+08:00","cert":{{"not_before":"{not_before}","not_after":"{not_after}"}}}}]"#
        )
    }

    fn moved(json: &str, now: DateTime<Utc>) -> Value {
        let out =
            rebase(json, fixture_as_of(), now, &calendar(), NaiveDate::from_ymd_opt(2021, 12, 17).unwrap()).unwrap();
        serde_json::from_str::<Vec<Value>>(&out).unwrap().remove(0)
    }

    #[test]
    fn as_of_the_fixture_day_nothing_moves() {
        let json = order("2026-11-27T10:15:00+08:00", "2025-12-01T13:50:07+08:00", "2026-12-01T13:50:07+08:00");
        let o = moved(&json, fixture_as_of());
        assert_eq!(o["received_at"], "2026-11-27T10:15:00+08:00");
        assert_eq!(o["created_at"], "2026-11-29T16:33:00+08:00");
        assert_eq!(o["cert"]["not_after"], "2026-12-01T13:50:07+08:00");
    }

    #[test]
    fn receipts_move_by_working_days_and_certificates_by_calendar_days() {
        // Fixture: received Fri 11-27, one working day before Mon 11-30. Now Thu 2026-10-08, the first
        // working day after the National Day holiday: received one working day before, Sun 10-11 being
        // an adjusted working day does not matter here (it is after).
        let now = Utc.with_ymd_and_hms(2026, 10, 8, 4, 0, 0).unwrap();
        let json = order("2026-11-27T10:15:00+08:00", "2025-12-01T13:50:07+08:00", "2026-12-01T13:50:07+08:00");
        let o = moved(&json, now);
        assert_eq!(o["received_at"], "2026-09-30T10:15:00+08:00", "the working day before the holiday");
        assert_eq!(o["cert"]["not_after"], "2026-10-09T13:50:07+08:00", "one day after today, as in the fixture");
        let created = o["created_at"].as_str().unwrap();
        assert!(
            created > "2026-09-30T10:15:00+08:00" && created < "2026-10-08",
            "{created}: a day off stays between its working days"
        );
    }

    #[test]
    fn a_single_seal_certificate_keeps_its_pre_cutover_start() {
        let now = Utc.with_ymd_and_hms(2028, 3, 1, 4, 0, 0).unwrap();
        let json = order("2026-11-27T10:15:00+08:00", "2020-12-01T13:50:07+08:00", "2026-12-01T13:50:07+08:00");
        let o = moved(&json, now);
        assert_eq!(o["cert"]["not_before"], "2020-12-01T13:50:07+08:00");
        assert_eq!(o["cert"]["not_after"], "2028-03-02T13:50:07+08:00");
        assert_eq!(o["received_at"], "2028-02-29T10:15:00+08:00", "Monday to Friday where no calendar is loaded");
    }
}

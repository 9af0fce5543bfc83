//! The board's two-week chart: per Asia/Shanghai day, keys received, keys shipped, and return clocks
//! that went past their due instant that day without the key having been shipped by then. Pure: the
//! shell supplies the instants.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use serde::Serialize;

use super::working_time::WorkingTime;

/// One day of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayCounts {
    pub day: NaiveDate,
    pub received: u32,
    pub shipped: u32,
    /// Return clocks whose due instant fell on this day and passed unshipped.
    pub late: u32,
}

/// The last `days` days up to and including `today`, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trend {
    pub days: Vec<DayCounts>,
}

/// One order's part in the chart.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrendFacts {
    pub received_at: Option<DateTime<FixedOffset>>,
    pub shipped_at: Option<DateTime<FixedOffset>>,
    /// The return clock's due instant (after pauses), when it has one.
    pub due_at: Option<DateTime<FixedOffset>>,
}

impl Trend {
    /// Counts `facts` into the `days` days ending with `now`'s date; what falls outside is ignored,
    /// and a due instant still in the future is not late yet.
    pub fn build(facts: &[TrendFacts], now: DateTime<FixedOffset>, days: u32) -> Trend {
        let today = WorkingTime::shanghai_date(now);
        let first = today - Duration::days(i64::from(days.max(1)) - 1);
        Trend::build_days(facts, first, today, now)
    }

    /// Counts `facts` into the days `first..=last` as they stood at `now` (the manager's report asks for
    /// any period; the board for the days up to today). An empty range gives no days.
    pub fn build_days(facts: &[TrendFacts], first: NaiveDate, last: NaiveDate, now: DateTime<FixedOffset>) -> Trend {
        let count = (last - first).num_days() + 1;
        let mut out: Vec<DayCounts> = (0..count.max(0))
            .map(|i| DayCounts { day: first + Duration::days(i), received: 0, shipped: 0, late: 0 })
            .collect();
        let mut slot = |t: DateTime<FixedOffset>| {
            let day = WorkingTime::shanghai_date(t);
            (day >= first && day <= last).then(|| (day - first).num_days() as usize)
        };
        for f in facts {
            if let Some(i) = f.received_at.and_then(&mut slot) {
                out[i].received += 1;
            }
            if let Some(i) = f.shipped_at.and_then(&mut slot) {
                out[i].shipped += 1;
            }
            if let Some(due) = f.due_at {
                let late = due < now && f.shipped_at.is_none_or(|s| s > due);
                if let Some(i) = late.then_some(due).and_then(&mut slot) {
                    out[i].late += 1;
                }
            }
        }
        Trend { days: out }
    }

    /// The largest count of any kind on any day (the chart's scale).
    pub fn peak(&self) -> u32 {
        self.days.iter().map(|d| d.received.max(d.shipped).max(d.late)).max().unwrap_or(0)
    }

    pub fn totals(&self) -> (u32, u32, u32) {
        self.days.iter().fold((0, 0, 0), |(r, s, l), d| (r + d.received, s + d.shipped, l + d.late))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn counts_by_shanghai_day_and_late_once_on_its_due_day() {
        let now = at("2026-11-30T10:00:00+08:00");
        let facts = [
            // Received late on the 25th in UTC, which is the 26th in Beijing; shipped on time.
            TrendFacts {
                received_at: Some(at("2026-11-25T17:00:00Z")),
                shipped_at: Some(at("2026-11-27T09:00:00+08:00")),
                due_at: Some(at("2026-11-30T17:30:00+08:00")),
            },
            // Due on the 27th, shipped on the 28th: late on the 27th.
            TrendFacts {
                received_at: Some(at("2026-11-25T09:00:00+08:00")),
                shipped_at: Some(at("2026-11-28T09:00:00+08:00")),
                due_at: Some(at("2026-11-27T17:30:00+08:00")),
            },
            // Due on the 26th, still not shipped: late on the 26th.
            TrendFacts {
                received_at: Some(at("2026-11-24T09:00:00+08:00")),
                shipped_at: None,
                due_at: Some(at("2026-11-26T17:30:00+08:00")),
            },
            // Due today but later than now: not late yet.
            TrendFacts {
                received_at: Some(at("2026-11-26T09:00:00+08:00")),
                shipped_at: None,
                due_at: Some(at("2026-11-30T17:30:00+08:00")),
            },
            // Outside the two weeks.
            TrendFacts {
                received_at: Some(at("2026-10-01T09:00:00+08:00")),
                shipped_at: Some(at("2026-10-02T09:00:00+08:00")),
                due_at: None,
            },
        ];
        let t = Trend::build(&facts, now, 14);
        assert_eq!(t.days.len(), 14);
        assert_eq!(t.days[0].day, NaiveDate::from_ymd_opt(2026, 11, 17).unwrap());
        assert_eq!(t.days[13].day, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        let day =
            |d: u32| t.days.iter().find(|c| c.day == NaiveDate::from_ymd_opt(2026, 11, d).unwrap()).copied().unwrap();
        assert_eq!((day(26).received, day(25).received, day(24).received), (2, 1, 1));
        assert_eq!((day(27).shipped, day(28).shipped), (1, 1));
        assert_eq!((day(26).late, day(27).late, day(30).late), (1, 1, 0));
        assert_eq!(t.totals(), (4, 2, 2));
        assert_eq!(t.peak(), 2);
    }
}

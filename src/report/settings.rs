//! `[report]`: where the board's key and the worker write the report, and when the worker writes last
//! week's (a weekday and a Beijing time, e.g. `mon 08:30`).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use super::figures::Period;
use crate::sla::working_time::{in_shanghai, shanghai_instant};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSettings {
    /// Folder the reports are written to; unset means `reports/` in the platform data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_dir: Option<PathBuf>,
    /// When `keydesk worker` writes last week's workbook, e.g. `mon 08:30`; empty means never.
    pub weekly: String,
}

impl ReportSettings {
    /// The weekly schedule, `None` when it is off.
    pub fn schedule(&self) -> Result<Option<WeeklySchedule>, String> {
        if self.weekly.trim().is_empty() {
            return Ok(None);
        }
        self.weekly.parse().map(Some)
    }
}

/// A weekday and a Beijing time, every week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklySchedule {
    pub weekday: Weekday,
    pub time: NaiveTime,
}

impl FromStr for WeeklySchedule {
    type Err = String;

    /// `mon 08:30` (English weekday, three letters or in full, any case) or `周一 08:30`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{text:?}: expected a weekday and a Beijing time, e.g. \"mon 08:30\" or \"周一 08:30\"");
        let (day, time) = text.trim().split_once(char::is_whitespace).ok_or_else(bad)?;
        let day = day.trim().to_ascii_lowercase();
        let weekday = match day.as_str() {
            "周一" => Weekday::Mon,
            "周二" => Weekday::Tue,
            "周三" => Weekday::Wed,
            "周四" => Weekday::Thu,
            "周五" => Weekday::Fri,
            "周六" => Weekday::Sat,
            "周日" | "周天" => Weekday::Sun,
            other => other.parse::<Weekday>().map_err(|_| bad())?,
        };
        let time = NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| bad())?;
        Ok(WeeklySchedule { weekday, time })
    }
}

impl fmt::Display for WeeklySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", crate::sla::due::weekday_zh(self.weekday), self.time.format("%H:%M"))
    }
}

impl WeeklySchedule {
    /// The latest scheduled instant at or before `now`.
    pub fn last_at_or_before(&self, now: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        let now = in_shanghai(&now);
        let today = now.date_naive();
        let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        let day = monday + Duration::days(i64::from(self.weekday.num_days_from_monday()));
        let seconds = i64::from(chrono::Timelike::num_seconds_from_midnight(&self.time));
        let this_week = shanghai_instant(day, seconds);
        if this_week <= now {
            this_week
        } else {
            this_week - Duration::days(7)
        }
    }

    /// The week whose report is due at `now`: the full week (Monday to Sunday) before the latest
    /// scheduled instant.
    pub fn due_period(&self, now: DateTime<FixedOffset>) -> Period {
        Period::last_full_week(self.last_at_or_before(now).date_naive())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn schedules_read_english_or_chinese_weekdays() {
        let s: WeeklySchedule = "mon 08:30".parse().unwrap();
        assert_eq!((s.weekday, s.time.to_string()), (Weekday::Mon, "08:30:00".to_string()));
        assert_eq!("周五 17:00".parse::<WeeklySchedule>().unwrap().weekday, Weekday::Fri);
        assert_eq!("Monday 8:30".parse::<WeeklySchedule>().unwrap().weekday, Weekday::Mon);
        assert!("mon".parse::<WeeklySchedule>().is_err());
        assert!("someday 08:30".parse::<WeeklySchedule>().is_err());
        assert!("mon 25:00".parse::<WeeklySchedule>().is_err());
        assert_eq!(ReportSettings::default().schedule(), Ok(None));
        assert_eq!(s.to_string(), "周一 08:30");
    }

    #[test]
    fn the_due_week_turns_over_at_the_scheduled_instant() {
        let s: WeeklySchedule = "mon 08:30".parse().unwrap();
        // Monday 2026-11-30 before 08:30: the week before last is the latest due one.
        let before = s.due_period(at("2026-11-30T08:29:00+08:00"));
        assert_eq!(before.first.to_string(), "2026-11-16");
        let after = s.due_period(at("2026-11-30T08:30:00+08:00"));
        assert_eq!((after.first.to_string(), after.last.to_string()), ("2026-11-23".into(), "2026-11-29".into()));
        // Any later day of the week: still last week. UTC input is read in Beijing time.
        assert_eq!(s.due_period(at("2026-12-03T02:00:00Z")), after);
        assert_eq!(s.due_period(at("2026-12-06T23:59:00+08:00")), after);
    }
}

//! Business time in Asia/Shanghai: the working-day calendar together with the business hours of a working
//! day. Every instant maps to a *business ordinal* — the business seconds elapsed since the calendar's first
//! day — which is flat outside business hours. Counting business time between two instants, or walking
//! forward by an amount of business time, is then arithmetic on ordinals plus O(1) index look-ups, never a
//! minute-by-minute loop.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeZone, Timelike};

use super::calendar::Calendar;
use super::error::SlaError;
use super::settings::HourMinute;

/// Asia/Shanghai: UTC+08:00 all year (no daylight saving since 1991).
pub const SHANGHAI: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+08:00 is a valid offset"),
};

const SHANGHAI_SECONDS: i64 = 8 * 3600;
const SECONDS_PER_DAY: i64 = 86_400;

/// The Shanghai date-time of a Unix timestamp in whole seconds.
pub(crate) fn instant_from_timestamp(timestamp: i64) -> DateTime<FixedOffset> {
    (DateTime::UNIX_EPOCH + chrono::TimeDelta::seconds(timestamp)).with_timezone(&SHANGHAI)
}

/// `t` as a Shanghai date-time.
pub fn in_shanghai<Tz: TimeZone>(t: &DateTime<Tz>) -> DateTime<FixedOffset> {
    t.with_timezone(&SHANGHAI)
}

/// The instant at `seconds` after midnight of `date` in Shanghai.
pub fn shanghai_instant(date: NaiveDate, seconds: i64) -> DateTime<FixedOffset> {
    let local = date.and_time(NaiveTime::MIN) + chrono::TimeDelta::seconds(seconds);
    DateTime::from_naive_utc_and_offset(local - chrono::TimeDelta::hours(8), SHANGHAI)
}

/// Business hours of a working day: `[open, close)`, the same every working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessHours {
    open: HourMinute,
    close: HourMinute,
}

impl BusinessHours {
    /// `None` unless `open < close`.
    pub fn new(open: HourMinute, close: HourMinute) -> Option<Self> {
        (open < close).then_some(Self { open, close })
    }

    pub fn open(&self) -> HourMinute {
        self.open
    }

    pub fn close(&self) -> HourMinute {
        self.close
    }

    fn open_seconds(&self) -> i64 {
        self.open.seconds_from_midnight()
    }

    fn close_seconds(&self) -> i64 {
        self.close.seconds_from_midnight()
    }

    /// Business seconds in one working day.
    pub fn day_seconds(&self) -> i64 {
        self.close_seconds() - self.open_seconds()
    }
}

/// The working-day calendar and the business hours: the axis that SLA clocks run on.
#[derive(Debug, Clone)]
pub struct WorkingTime {
    calendar: Calendar,
    hours: BusinessHours,
}

impl WorkingTime {
    pub fn new(calendar: Calendar, hours: BusinessHours) -> Self {
        Self { calendar, hours }
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    pub fn hours(&self) -> BusinessHours {
        self.hours
    }

    /// Shanghai date and whole seconds after midnight of `t`.
    fn local_parts(t: DateTime<FixedOffset>) -> (NaiveDate, i64) {
        let local = t.with_timezone(&SHANGHAI).naive_local();
        (local.date(), i64::from(local.time().num_seconds_from_midnight()))
    }

    // The hot path works on Unix timestamps (whole seconds) and day offsets: integer arithmetic only.

    /// Business ordinal of a Unix timestamp, and the calendar offset of its Shanghai day.
    pub(crate) fn ordinal_at_timestamp(&self, timestamp: i64) -> Result<(i64, usize), SlaError> {
        let local = timestamp + SHANGHAI_SECONDS;
        let (epoch_day, seconds) = (local.div_euclid(SECONDS_PER_DAY), local.rem_euclid(SECONDS_PER_DAY));
        let offset = self.calendar.offset_of_epoch_day(epoch_day)?;
        let before = i64::from(self.calendar.working_days_before_offset(offset)) * self.hours.day_seconds();
        if self.calendar.is_working_offset(offset) {
            Ok((before + (seconds - self.hours.open_seconds()).clamp(0, self.hours.day_seconds()), offset))
        } else {
            Ok((before, offset))
        }
    }

    /// Unix timestamp of the earliest instant with business ordinal `ordinal` (> 0); every day from the
    /// calendar offset `from_offset` to the result must lie in a loaded year.
    pub(crate) fn timestamp_at_ordinal(&self, ordinal: i64, from_offset: usize) -> Result<i64, SlaError> {
        let day = self.hours.day_seconds();
        let rank = (ordinal - 1).div_euclid(day);
        let into_day = ordinal - rank * day;
        let offset =
            usize::try_from(rank).ok().and_then(|rank| self.calendar.working_day_offset(rank)).ok_or_else(|| {
                SlaError::MissingCalendarYear {
                    year: self.calendar.first_missing_year_from(self.calendar.date_at(from_offset).year()),
                }
            })?;
        self.calendar.ensure_known_between(from_offset, offset)?;
        Ok(self.calendar.epoch_day_at(offset) * SECONDS_PER_DAY + self.hours.open_seconds() + into_day
            - SHANGHAI_SECONDS)
    }

    /// Unix timestamp of the first business instant at or after `timestamp`.
    pub(crate) fn effective_start_timestamp(&self, timestamp: i64) -> Result<i64, SlaError> {
        let local = timestamp + SHANGHAI_SECONDS;
        let (epoch_day, seconds) = (local.div_euclid(SECONDS_PER_DAY), local.rem_euclid(SECONDS_PER_DAY));
        let offset = self.calendar.offset_of_epoch_day(epoch_day)?;
        let day_start = epoch_day * SECONDS_PER_DAY - SHANGHAI_SECONDS;
        if self.calendar.is_working_offset(offset) {
            if seconds < self.hours.open_seconds() {
                return Ok(day_start + self.hours.open_seconds());
            }
            if seconds < self.hours.close_seconds() {
                return Ok(timestamp);
            }
        }
        let (next, _) = self.calendar.nth_working_offset_after_offset(offset, 1)?;
        Ok(self.calendar.epoch_day_at(next) * SECONDS_PER_DAY + self.hours.open_seconds() - SHANGHAI_SECONDS)
    }

    /// Business ordinal of business close on the `n`th (≥ 1) working day after the Shanghai day of `timestamp`.
    pub(crate) fn close_ordinal_after(&self, timestamp: i64, n: u32) -> Result<i64, SlaError> {
        let epoch_day = (timestamp + SHANGHAI_SECONDS).div_euclid(SECONDS_PER_DAY);
        let offset = self.calendar.offset_of_epoch_day(epoch_day)?;
        let (_, rank) = self.calendar.nth_working_offset_after_offset(offset, n.max(1))?;
        Ok((rank as i64 + 1) * self.hours.day_seconds())
    }

    /// Unix timestamp of business opening on the Shanghai day of `timestamp`.
    pub(crate) fn opening_of_day_timestamp(&self, timestamp: i64) -> i64 {
        let epoch_day = (timestamp + SHANGHAI_SECONDS).div_euclid(SECONDS_PER_DAY);
        epoch_day * SECONDS_PER_DAY + self.hours.open_seconds() - SHANGHAI_SECONDS
    }

    /// Business seconds from the calendar's first day up to `t` (flat outside business hours).
    pub fn business_ordinal(&self, t: DateTime<FixedOffset>) -> Result<i64, SlaError> {
        Ok(self.ordinal_at_timestamp(t.timestamp())?.0)
    }

    /// Walks forward from `from` by `seconds` (≥ 0) of business time: the earliest instant at which that much
    /// business time has elapsed since `from`. An amount that ends a working day gives that day's close
    /// (17:30), not the next day's opening.
    pub fn add_business_seconds(
        &self,
        from: DateTime<FixedOffset>,
        seconds: i64,
    ) -> Result<DateTime<FixedOffset>, SlaError> {
        if seconds <= 0 {
            return Ok(in_shanghai(&from));
        }
        let (ordinal, offset) = self.ordinal_at_timestamp(from.timestamp())?;
        Ok(instant_from_timestamp(self.timestamp_at_ordinal(ordinal + seconds, offset)?))
    }

    /// Business seconds in `[from, to)`; negative when `to` is before `from`.
    pub fn business_seconds_between(
        &self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> Result<i64, SlaError> {
        let (from_ordinal, from_offset) = self.ordinal_at_timestamp(from.timestamp())?;
        let (to_ordinal, to_offset) = self.ordinal_at_timestamp(to.timestamp())?;
        self.calendar.ensure_known_between(from_offset, to_offset)?;
        Ok(to_ordinal - from_ordinal)
    }

    /// Is `t` inside business hours of a working day?
    pub fn is_business_instant(&self, t: DateTime<FixedOffset>) -> Result<bool, SlaError> {
        let (date, seconds) = Self::local_parts(t);
        let working = self.calendar.is_working_day(date)?;
        Ok(working && seconds >= self.hours.open_seconds() && seconds < self.hours.close_seconds())
    }

    /// The first business instant at or after `t` (to the second): `t` itself inside business hours, else the
    /// next opening.
    pub fn effective_start(&self, t: DateTime<FixedOffset>) -> Result<DateTime<FixedOffset>, SlaError> {
        let timestamp = self.effective_start_timestamp(t.timestamp())?;
        Ok(if timestamp == t.timestamp() { in_shanghai(&t) } else { instant_from_timestamp(timestamp) })
    }

    /// Close of business on the `n`th (≥ 1) working day strictly after `date`.
    pub fn close_of_nth_working_day_after(&self, date: NaiveDate, n: u32) -> Result<DateTime<FixedOffset>, SlaError> {
        let target = self.calendar.nth_working_day_after(date, n.max(1))?;
        Ok(shanghai_instant(target, self.hours.close_seconds()))
    }

    /// Opening instant of `date` (whether or not it is a working day).
    pub fn opening_of(&self, date: NaiveDate) -> DateTime<FixedOffset> {
        shanghai_instant(date, self.hours.open_seconds())
    }

    /// Shanghai date of `t`.
    pub fn shanghai_date(t: DateTime<FixedOffset>) -> NaiveDate {
        Self::local_parts(t).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::settings::SlaSettings;

    fn working_time() -> WorkingTime {
        let settings = SlaSettings::default();
        let hours = BusinessHours::new(settings.business_open, settings.business_close).expect("hours");
        WorkingTime::new(Calendar::built_in().expect("calendar"), hours)
    }

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).expect("time")
    }

    #[test]
    fn business_seconds_skip_nights_weekends_and_holidays() {
        let time = working_time();
        // Friday 2025-09-26 17:00 → Sunday 2025-09-28 (working) 09:30: 30 min + 30 min.
        let between = time.business_seconds_between(at("2025-09-26T17:00:00+08:00"), at("2025-09-28T09:30:00+08:00"));
        assert_eq!(between.expect("known"), 60 * 60);
        // Across National Day 2025: Tue 09-30 17:00 → Thu 10-09 09:10 = 30 + 10 minutes.
        let between = time.business_seconds_between(at("2025-09-30T17:00:00+08:00"), at("2025-10-09T09:10:00+08:00"));
        assert_eq!(between.expect("known"), 40 * 60);
    }

    #[test]
    fn walking_forward_ends_at_close_rather_than_next_opening() {
        let time = working_time();
        let end = time.add_business_seconds(at("2025-03-04T17:00:00+08:00"), 30 * 60).expect("known");
        assert_eq!(end, at("2025-03-04T17:30:00+08:00"));
        let end = time.add_business_seconds(at("2025-03-04T17:00:00+08:00"), 31 * 60).expect("known");
        assert_eq!(end, at("2025-03-05T09:01:00+08:00"));
    }

    #[test]
    fn other_offsets_are_read_as_the_same_instant() {
        let time = working_time();
        let start = time.effective_start(at("2025-03-04T02:15:00Z")).expect("known");
        assert_eq!(start, at("2025-03-04T10:15:00+08:00"));
        assert_eq!(start.offset(), &SHANGHAI);
    }
}

//! The working-day calendar: which dates are working days in mainland China, from the State Council's yearly
//! holiday notices (built-in JSON files, optionally replaced or extended by `holidays-cn-YYYY.json` files in
//! `sla.calendar_dir`) plus the company's own closures and extra working days. Every file is validated on
//! load; a date in a year with no calendar is an error, never a Monday–Friday guess. The loaded calendar is an
//! index over consecutive days (kind per day, prefix counts of working days) so that "the Nth working day
//! after D" and "working days before D" are O(1).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::error::SlaError;
use super::settings::SlaSettings;

/// The national calendars shipped with keydesk: (year, file name, JSON text).
const BUILT_IN_CALENDARS: [(i32, &str, &str); 3] = [
    (2024, "holidays-cn-2024.json", include_str!("calendars/holidays-cn-2024.json")),
    (2025, "holidays-cn-2025.json", include_str!("calendars/holidays-cn-2025.json")),
    (2026, "holidays-cn-2026.json", include_str!("calendars/holidays-cn-2026.json")),
];

/// Where a year's calendar came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "snake_case")]
pub enum CalendarSource {
    /// Shipped inside the keydesk binary.
    BuiltIn,
    /// Read from a file in `sla.calendar_dir`.
    File(PathBuf),
    /// No notice yet: the statutory holidays alone (`super::provisional`); clocks on it are marked 暂定.
    Provisional,
}

impl fmt::Display for CalendarSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalendarSource::BuiltIn => f.write_str("内置 (built-in)"),
            CalendarSource::File(path) => write!(f, "{}", path.display()),
            CalendarSource::Provisional => {
                f.write_str("暂定：只含法定节假日，待国务院通知 (provisional: statutory holidays only)")
            }
        }
    }
}

/// One listed day of a holiday calendar file (its `name`, e.g. 春节, is for people and not read).
#[derive(Debug, Clone, Deserialize)]
struct CalendarFileDay {
    date: NaiveDate,
    /// `true`: rest day inside a holiday period; `false`: adjusted working weekend day (调休上班).
    off: bool,
}

/// The parts of a `holidays-cn-YYYY.json` file that keydesk reads; other fields (notice, sources) are kept
/// for people and ignored here.
#[derive(Debug, Clone, Deserialize)]
struct CalendarFile {
    year: i32,
    days: Vec<CalendarFileDay>,
}

/// A validated year: the dates that differ from the default Monday–Friday week.
#[derive(Debug, Clone)]
pub struct HolidayYear {
    year: i32,
    source: CalendarSource,
    /// date → is it a working day (`off: false`)?
    exceptions: BTreeMap<NaiveDate, bool>,
}

impl HolidayYear {
    /// Parses and validates one calendar file. `file` names it in error messages; `expected_year` is the year
    /// from the file name when there is one.
    pub fn parse(file: &str, text: &str, expected_year: Option<i32>, source: CalendarSource) -> Result<Self, SlaError> {
        let parsed: CalendarFile = serde_json::from_str(text)
            .map_err(|err| SlaError::ParseCalendarFile { file: file.to_owned(), message: err.to_string() })?;
        if let Some(expected) = expected_year {
            if parsed.year != expected {
                return Err(SlaError::CalendarYearMismatch { file: file.to_owned(), expected, found: parsed.year });
            }
        }
        let mut exceptions = BTreeMap::new();
        for day in &parsed.days {
            if day.date.year() != parsed.year {
                return Err(SlaError::DateOutsideYear { file: file.to_owned(), date: day.date, year: parsed.year });
            }
            if !day.off && !is_weekend(day.date) {
                return Err(SlaError::WorkingDayNotWeekend { file: file.to_owned(), date: day.date });
            }
            if exceptions.insert(day.date, !day.off).is_some() {
                return Err(SlaError::DuplicateDate { file: file.to_owned(), date: day.date });
            }
        }
        Ok(Self { year: parsed.year, source, exceptions })
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn source(&self) -> &CalendarSource {
        &self.source
    }

    /// A provisional year: the statutory holidays of the law alone, each on a weekend given back on the
    /// next free weekday, and no adjusted working weekends (they are known only from the notice).
    pub fn provisional(year: i32) -> Self {
        let exceptions = super::provisional::provisional_days_off(year).into_keys().map(|d| (d, false)).collect();
        Self { year, source: CalendarSource::Provisional, exceptions }
    }

    /// The dates that differ from the default week: date → is it a working day.
    pub fn exceptions(&self) -> &BTreeMap<NaiveDate, bool> {
        &self.exceptions
    }
}

/// Saturday or Sunday: a rest day in the default week.
pub(crate) fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The built-in national calendars, validated.
pub fn built_in_years() -> Result<Vec<HolidayYear>, SlaError> {
    BUILT_IN_CALENDARS
        .iter()
        .map(|(year, name, text)| {
            HolidayYear::parse(&format!("built-in {name}"), text, Some(*year), CalendarSource::BuiltIn)
        })
        .collect()
}

/// The year in a file name of the form `holidays-cn-YYYY.json`.
fn year_from_file_name(name: &str) -> Option<i32> {
    let digits = name.strip_prefix("holidays-cn-")?.strip_suffix(".json")?;
    if digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

/// Reads and validates every `holidays-cn-YYYY.json` in `dir`, in file-name order. Other files are ignored.
pub fn read_calendar_dir(dir: &Path) -> Result<Vec<HolidayYear>, SlaError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SlaError::ReadCalendarDir { dir: dir.to_owned(), source })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| SlaError::ReadCalendarDir { dir: dir.to_owned(), source })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(year) = year_from_file_name(&name) {
            files.push((name, year, entry.path()));
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|(_, year, path)| {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(&path)
                .map_err(|source| SlaError::ReadCalendarFile { file: file.clone(), source })?;
            HolidayYear::parse(&file, &text, Some(year), CalendarSource::File(path))
        })
        .collect()
}

/// The national calendars in effect: the built-in years, then the files in `settings.calendar_dir`, a
/// later one for the same year replacing an earlier one.
pub fn national_years(settings: &SlaSettings) -> Result<Vec<HolidayYear>, SlaError> {
    let mut years = built_in_years()?;
    if let Some(dir) = &settings.calendar_dir {
        if dir.is_dir() {
            years.extend(read_calendar_dir(dir)?);
        }
    }
    Ok(years)
}

/// What a day is, after national and company rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayKind {
    Working,
    Rest,
    /// In a year with no calendar loaded.
    Unknown,
}

/// A loaded year, as `calendar check` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadedYear {
    pub year: i32,
    pub source: CalendarSource,
}

/// The result of `keydesk calendar check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarCheck {
    pub years: Vec<LoadedYear>,
    /// Problems staff should act on (missing next year, company dates outside loaded years), in Chinese and
    /// English.
    pub warnings: Vec<String>,
}

impl fmt::Display for CalendarCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "已加载的节假日日历 (loaded holiday calendars):")?;
        for loaded in &self.years {
            writeln!(f, "  {} 年: {}", loaded.year, loaded.source)?;
        }
        if self.warnings.is_empty() {
            writeln!(f, "没有警告 (no warnings)")?;
        }
        for warning in &self.warnings {
            writeln!(f, "警告 (warning): {warning}")?;
        }
        Ok(())
    }
}

/// The working-day calendar over the loaded years, with company rules applied.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// 1 January of the first loaded year; day offsets count from here.
    first_day: NaiveDate,
    /// `first_day` as days since 1970-01-01.
    first_epoch_day: i64,
    /// One entry per day from `first_day` to 31 December of the last loaded year.
    kinds: Vec<DayKind>,
    /// `working_before[i]` = working days among offsets `0..i`; one longer than `kinds`.
    working_before: Vec<u32>,
    /// `unknown_before[i]` = unknown days among offsets `0..i`; one longer than `kinds`.
    unknown_before: Vec<u32>,
    /// Offsets of the working days, ascending.
    working_days: Vec<u32>,
    years: BTreeMap<i32, CalendarSource>,
    /// Company dates that fall in years with no calendar: applied once the year is loaded.
    company_dates_outside: Vec<NaiveDate>,
}

impl Calendar {
    /// Loads the built-in calendars, then the files in `settings.calendar_dir` (which add or replace years),
    /// then applies the company closures and extra working days. Call again to reload. A configured directory
    /// that does not exist is treated as empty (the built-in years still apply) and reported by `check`.
    pub fn load(settings: &SlaSettings) -> Result<Self, SlaError> {
        let mut years = national_years(settings)?;
        // The years after the last notice, until their notices are imported: provisional.
        let last_official = years.iter().map(HolidayYear::year).max();
        if let Some(last) = last_official {
            years.extend((1..=settings.provisional_years as i32).map(|n| HolidayYear::provisional(last + n)));
        }
        Ok(Self::from_years(years, &settings.company_closures, &settings.company_working_days))
    }

    /// The built-in calendars alone, without company rules.
    pub fn built_in() -> Result<Self, SlaError> {
        Ok(Self::from_years(built_in_years()?, &[], &[]))
    }

    /// Builds the index. A later entry for the same year replaces an earlier one. Company working days win over
    /// company closures if a date is in both (settings validation refuses that).
    pub fn from_years(
        holiday_years: Vec<HolidayYear>,
        company_closures: &[NaiveDate],
        company_working_days: &[NaiveDate],
    ) -> Self {
        let mut by_year: BTreeMap<i32, HolidayYear> = BTreeMap::new();
        for year in holiday_years {
            by_year.insert(year.year, year);
        }
        let (first_year, last_year) = match (by_year.keys().next(), by_year.keys().next_back()) {
            (Some(first), Some(last)) => (*first, *last),
            _ => (2000, 1999),
        };
        let first_day = NaiveDate::from_ymd_opt(first_year, 1, 1).unwrap_or(NaiveDate::MIN);
        let mut kinds = Vec::new();
        let mut date = first_day;
        while date.year() <= last_year {
            let kind = match by_year.get(&date.year()) {
                None => DayKind::Unknown,
                Some(holidays) => match holidays.exceptions.get(&date) {
                    Some(true) => DayKind::Working,
                    Some(false) => DayKind::Rest,
                    None if is_weekend(date) => DayKind::Rest,
                    None => DayKind::Working,
                },
            };
            kinds.push(kind);
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        let mut company_dates_outside = Vec::new();
        let adjustments = company_closures
            .iter()
            .map(|date| (*date, DayKind::Rest))
            .chain(company_working_days.iter().map(|date| (*date, DayKind::Working)));
        for (date, kind) in adjustments {
            let offset = (date - first_day).num_days();
            match usize::try_from(offset).ok().and_then(|i| kinds.get_mut(i)) {
                Some(slot) if *slot != DayKind::Unknown => *slot = kind,
                _ => company_dates_outside.push(date),
            }
        }
        company_dates_outside.sort();
        company_dates_outside.dedup();

        let mut working_before = Vec::with_capacity(kinds.len() + 1);
        let mut unknown_before = Vec::with_capacity(kinds.len() + 1);
        let mut working_days = Vec::new();
        let (mut working, mut unknown) = (0u32, 0u32);
        for (offset, kind) in kinds.iter().enumerate() {
            working_before.push(working);
            unknown_before.push(unknown);
            match kind {
                DayKind::Working => {
                    working += 1;
                    working_days.push(offset as u32);
                }
                DayKind::Unknown => unknown += 1,
                DayKind::Rest => {}
            }
        }
        working_before.push(working);
        unknown_before.push(unknown);
        let years = by_year.into_iter().map(|(year, holidays)| (year, holidays.source)).collect();
        let first_epoch_day = (first_day - chrono::DateTime::UNIX_EPOCH.date_naive()).num_days();
        Self {
            first_day,
            first_epoch_day,
            kinds,
            working_before,
            unknown_before,
            working_days,
            years,
            company_dates_outside,
        }
    }

    /// The loaded years with their sources, ascending.
    pub fn loaded_years(&self) -> Vec<LoadedYear> {
        self.years.iter().map(|(year, source)| LoadedYear { year: *year, source: source.clone() }).collect()
    }

    pub fn has_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// Whether `year` is loaded from a notice (built in or imported), not provisional.
    pub fn has_official_year(&self, year: i32) -> bool {
        self.years.get(&year).is_some_and(|source| *source != CalendarSource::Provisional)
    }

    /// Whether any day from `from` to `to` lies in a provisional year.
    pub fn provisional_between(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.years.range(from.year()..=to.year()).any(|(_, source)| *source == CalendarSource::Provisional)
    }

    /// What staff must do about the years around `today` (Asia/Shanghai date), if anything: this year's
    /// calendar is missing, or — from 1 November — next year's, with the command that imports the notice.
    /// The desk's board and `calendar check` show it.
    pub fn year_notice(&self, today: NaiveDate) -> Option<String> {
        let import = "请运行 keydesk calendar import 通知.txt --write";
        let year = today.year();
        if !self.has_year(year) {
            return Some(format!("没有 {year} 年的节假日日历，{import}"));
        }
        if !self.has_official_year(year) {
            return Some(format!("{year} 年无通知，时限暂定，{import}"));
        }
        let next = year + 1;
        (today.month() >= 11 && !self.has_official_year(next)).then(|| format!("{next} 年节假日日历未导入，{import}"))
    }

    /// `calendar check`: the loaded years and warnings as of `today` (Asia/Shanghai date). From 1 November on,
    /// a missing calendar for next year is a warning; so is a missing calendar for the current year, a company
    /// date in a year with no calendar, and a configured calendar directory that does not exist.
    pub fn check(&self, settings: &SlaSettings, today: NaiveDate) -> CalendarCheck {
        let mut warnings: Vec<String> = self.year_notice(today).into_iter().collect();
        for date in &self.company_dates_outside {
            warnings.push(format!(
                "公司日期 {date} 所在年份没有节假日日历，暂不生效 (company date {date} is in a year with no holiday calendar and is not applied yet)"
            ));
        }
        if let Some(dir) = &settings.calendar_dir {
            if !dir.is_dir() {
                warnings.push(format!(
                    "日历目录 {} 不存在，只使用内置日历 (calendar directory {} does not exist; only built-in calendars are used)",
                    dir.display(),
                    dir.display()
                ));
            }
        }
        CalendarCheck { years: self.loaded_years(), warnings }
    }

    /// The first year at or after `year` with no calendar loaded.
    pub fn first_missing_year_from(&self, year: i32) -> i32 {
        let mut candidate = year;
        while self.has_year(candidate) {
            candidate += 1;
        }
        candidate
    }

    /// Offset of `date` from `first_day` if it lies in a loaded year; otherwise the missing-year error.
    pub(crate) fn day_offset(&self, date: NaiveDate) -> Result<usize, SlaError> {
        let offset = (date - self.first_day).num_days();
        match usize::try_from(offset).ok() {
            Some(index) if matches!(self.kinds.get(index), Some(DayKind::Working | DayKind::Rest)) => Ok(index),
            _ => Err(SlaError::MissingCalendarYear { year: date.year() }),
        }
    }

    /// Offset of a day given as days since 1970-01-01 (integer arithmetic only, for the hot path).
    pub(crate) fn offset_of_epoch_day(&self, epoch_day: i64) -> Result<usize, SlaError> {
        let offset = epoch_day - self.first_epoch_day;
        match usize::try_from(offset).ok() {
            Some(index) if matches!(self.kinds.get(index), Some(DayKind::Working | DayKind::Rest)) => Ok(index),
            _ => {
                let date =
                    chrono::DateTime::UNIX_EPOCH.date_naive().checked_add_signed(chrono::TimeDelta::days(epoch_day));
                Err(SlaError::MissingCalendarYear { year: date.map_or(0, |date| date.year()) })
            }
        }
    }

    /// Days since 1970-01-01 of an offset.
    pub(crate) fn epoch_day_at(&self, offset: usize) -> i64 {
        self.first_epoch_day + offset as i64
    }

    /// The date at an offset from `first_day`.
    pub(crate) fn date_at(&self, offset: usize) -> NaiveDate {
        self.first_day + chrono::Days::new(offset as u64)
    }

    pub(crate) fn is_working_offset(&self, offset: usize) -> bool {
        matches!(self.kinds.get(offset), Some(DayKind::Working))
    }

    /// Number of working days at offsets `0..offset`.
    pub(crate) fn working_days_before_offset(&self, offset: usize) -> u32 {
        self.working_before.get(offset).copied().unwrap_or(self.working_days.len() as u32)
    }

    /// Offset of the working day with the given rank (0 = first working day of the calendar).
    pub(crate) fn working_day_offset(&self, rank: usize) -> Option<usize> {
        self.working_days.get(rank).map(|offset| *offset as usize)
    }

    /// Errors when a day in offsets `from..=to` lies in a year with no calendar.
    pub(crate) fn ensure_known_between(&self, from: usize, to: usize) -> Result<(), SlaError> {
        let (low, high) = if from <= to { (from, to) } else { (to, from) };
        let unknown_at = |i: usize| self.unknown_before.get(i).copied().unwrap_or(u32::MAX);
        if unknown_at(high + 1) == unknown_at(low) {
            return Ok(());
        }
        let year = (low..=high)
            .find(|i| !matches!(self.kinds.get(*i), Some(DayKind::Working | DayKind::Rest)))
            .map(|i| self.date_at(i).year())
            .unwrap_or_else(|| self.date_at(high).year());
        Err(SlaError::MissingCalendarYear { year })
    }

    /// Is `date` a working day?
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, SlaError> {
        Ok(self.is_working_offset(self.day_offset(date)?))
    }

    /// The `n`th working day strictly after `date` (`n` ≥ 1; `n` = 0 gives `date` itself).
    pub fn nth_working_day_after(&self, date: NaiveDate, n: u32) -> Result<NaiveDate, SlaError> {
        if n == 0 {
            self.day_offset(date)?;
            return Ok(date);
        }
        Ok(self.date_at(self.nth_working_offset_after(date, n)?.0))
    }

    /// Offset and rank of the `n`th (≥ 1) working day strictly after `date`.
    pub(crate) fn nth_working_offset_after(&self, date: NaiveDate, n: u32) -> Result<(usize, usize), SlaError> {
        self.nth_working_offset_after_offset(self.day_offset(date)?, n)
    }

    /// Offset and rank of the `n`th (≥ 1) working day strictly after the day at `offset` (a known day).
    pub(crate) fn nth_working_offset_after_offset(&self, offset: usize, n: u32) -> Result<(usize, usize), SlaError> {
        let rank = self.working_days_before_offset(offset + 1) as usize + n as usize - 1;
        match self.working_day_offset(rank) {
            Some(target) => {
                self.ensure_known_between(offset, target)?;
                Ok((target, rank))
            }
            None => {
                Err(SlaError::MissingCalendarYear { year: self.first_missing_year_from(self.date_at(offset).year()) })
            }
        }
    }

    /// Working days in the half-open date range `[from, to)`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> Result<u32, SlaError> {
        let low = self.day_offset(from)?;
        if to <= from {
            return Ok(0);
        }
        let last = self.day_offset(to.pred_opt().unwrap_or(to))?;
        self.ensure_known_between(low, last)?;
        Ok(self.working_days_before_offset(last + 1) - self.working_days_before_offset(low))
    }

    /// The working days of one loaded year, for diagnostics and tests.
    pub fn working_days_in_year(&self, year: i32) -> Result<BTreeSet<NaiveDate>, SlaError> {
        let start = NaiveDate::from_ymd_opt(year, 1, 1).ok_or(SlaError::MissingCalendarYear { year })?;
        let first = self.day_offset(start)?;
        Ok((first..self.kinds.len())
            .map(|offset| (offset, self.date_at(offset)))
            .take_while(|(_, date)| date.year() == year)
            .filter(|(offset, _)| self.is_working_offset(*offset))
            .map(|(_, date)| date)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("date")
    }

    fn file_with_days(year: i32, days: &str) -> String {
        format!(r#"{{"year": {year}, "source": "test", "days": [{days}]}}"#)
    }

    #[test]
    fn built_in_calendars_load_and_know_the_adjusted_days() {
        let calendar = Calendar::built_in().expect("built-in");
        assert_eq!(calendar.loaded_years().iter().map(|y| y.year).collect::<Vec<_>>(), vec![2024, 2025, 2026]);
        assert!(calendar.is_working_day(date("2025-09-28")).expect("known"), "Sunday 调休上班");
        assert!(calendar.is_working_day(date("2026-02-14")).expect("known"), "Saturday 调休上班");
        assert!(!calendar.is_working_day(date("2026-02-16")).expect("known"), "Spring Festival");
        assert!(!calendar.is_working_day(date("2025-10-08")).expect("known"), "National Day Wednesday");
        assert!(calendar.is_working_day(date("2024-03-05")).expect("known"));
        assert!(!calendar.is_working_day(date("2024-03-09")).expect("known"), "plain Saturday");
    }

    #[test]
    fn working_day_counts_match_the_notices() {
        // 365 or 366 days minus 104 weekend days minus the statutory holidays (11 in 2024, 13 from 2025).
        let calendar = Calendar::built_in().expect("built-in");
        for (year, expected) in [(2024, 251), (2025, 248), (2026, 248)] {
            let days = calendar.working_days_in_year(year).expect("year");
            assert_eq!(days.len(), expected, "{year}");
            let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("date");
            let next = NaiveDate::from_ymd_opt(year + 1, 1, 1).expect("date");
            assert_eq!(calendar.working_days_between(first, next).expect("count"), expected as u32);
        }
    }

    #[test]
    fn a_date_in_a_missing_year_is_an_error_in_chinese_and_english() {
        let calendar = Calendar::built_in().expect("built-in");
        let err = calendar.is_working_day(date("2027-01-04")).expect_err("2027 missing");
        assert_eq!(err.to_string(), "没有 2027 年的节假日日历 — 请添加 (no holiday calendar for 2027 — add it)");
        let err = calendar.nth_working_day_after(date("2026-12-31"), 1).expect_err("runs into 2027");
        assert!(matches!(err, SlaError::MissingCalendarYear { year: 2027 }), "{err}");
        let err = calendar.is_working_day(date("2023-12-29")).expect_err("2023 missing");
        assert!(matches!(err, SlaError::MissingCalendarYear { year: 2023 }), "{err}");
    }

    #[test]
    fn a_gap_year_is_never_skipped_silently() {
        let mut years = built_in_years().expect("built-in");
        years.push(HolidayYear::parse("x", &file_with_days(2028, ""), None, CalendarSource::BuiltIn).expect("2028"));
        let calendar = Calendar::from_years(years, &[], &[]);
        let err = calendar.nth_working_day_after(date("2026-12-31"), 1).expect_err("2027 gap");
        assert!(matches!(err, SlaError::MissingCalendarYear { year: 2027 }), "{err}");
        assert!(calendar.is_working_day(date("2028-01-03")).expect("2028 loaded"));
    }

    fn parse_error(text: &str) -> String {
        HolidayYear::parse("dir/holidays-cn-2027.json", text, Some(2027), CalendarSource::BuiltIn)
            .expect_err("invalid")
            .to_string()
    }

    #[test]
    fn a_date_outside_the_file_year_is_refused_naming_file_and_date() {
        let message = parse_error(&file_with_days(2027, r#"{"date": "2026-12-31", "name": "元旦", "off": true}"#));
        assert!(message.contains("dir/holidays-cn-2027.json") && message.contains("2026-12-31"), "{message}");
        assert!(message.contains("outside year 2027"), "{message}");
    }

    #[test]
    fn off_false_on_a_weekday_is_refused_naming_file_and_date() {
        // 2027-01-04 is a Monday.
        let message = parse_error(&file_with_days(2027, r#"{"date": "2027-01-04", "name": "元旦", "off": false}"#));
        assert!(message.contains("dir/holidays-cn-2027.json") && message.contains("2027-01-04"), "{message}");
        assert!(message.contains("not a Saturday or Sunday"), "{message}");
    }

    #[test]
    fn a_duplicate_date_is_refused_naming_file_and_date() {
        let days = r#"{"date": "2027-01-01", "name": "元旦", "off": true}, {"date": "2027-01-01", "name": "元旦", "off": true}"#;
        let message = parse_error(&file_with_days(2027, days));
        assert!(message.contains("dir/holidays-cn-2027.json") && message.contains("2027-01-01"), "{message}");
        assert!(message.contains("listed twice"), "{message}");
    }

    #[test]
    fn a_year_field_that_disagrees_with_the_file_name_is_refused() {
        let message = parse_error(&file_with_days(2028, ""));
        assert!(message.contains("2028") && message.contains("2027"), "{message}");
        let message = parse_error("{not json");
        assert!(message.contains("dir/holidays-cn-2027.json"), "{message}");
    }

    #[test]
    fn a_directory_file_adds_a_year_and_overrides_a_built_in_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        // 2027: 1 January (Friday) off, Saturday 2 January a working day — invented for the test.
        let days_2027 = r#"{"date": "2027-01-01", "name": "元旦", "off": true}, {"date": "2027-01-02", "name": "元旦", "off": false}"#;
        std::fs::write(dir.path().join("holidays-cn-2027.json"), file_with_days(2027, days_2027)).expect("write");
        // 2026 amended: 2026-12-31 (Thursday) becomes a day off.
        let days_2026 = r#"{"date": "2026-12-31", "name": "假想", "off": true}"#;
        std::fs::write(dir.path().join("holidays-cn-2026.json"), file_with_days(2026, days_2026)).expect("write");
        std::fs::write(dir.path().join("README.txt"), "ignored").expect("write");

        let settings = SlaSettings { calendar_dir: Some(dir.path().to_owned()), ..SlaSettings::default() };
        let calendar = Calendar::load(&settings).expect("load");
        let years = calendar.loaded_years();
        assert_eq!(years.iter().map(|y| y.year).collect::<Vec<_>>(), vec![2024, 2025, 2026, 2027, 2028, 2029]);
        // The two years after the last notice are provisional.
        assert_eq!(
            (years[4].source.clone(), years[5].source.clone()),
            (CalendarSource::Provisional, CalendarSource::Provisional)
        );
        assert!(calendar.has_official_year(2027) && !calendar.has_official_year(2028));
        assert_eq!(years[2].source, CalendarSource::File(dir.path().join("holidays-cn-2026.json")));
        assert_eq!(years[1].source, CalendarSource::BuiltIn);
        assert!(!calendar.is_working_day(date("2026-12-31")).expect("known"));
        // The amended file no longer lists Spring Festival, so 2026-02-16 (Monday) is an ordinary working day.
        assert!(calendar.is_working_day(date("2026-02-16")).expect("known"));
        assert!(calendar.is_working_day(date("2027-01-02")).expect("known"));
        assert_eq!(calendar.nth_working_day_after(date("2026-12-30"), 1).expect("next"), date("2027-01-02"));
    }

    #[test]
    fn a_bad_directory_file_fails_the_load_naming_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("holidays-cn-2027.json");
        std::fs::write(&path, file_with_days(2027, r#"{"date": "2027-03-03", "name": "x", "off": false}"#))
            .expect("write");
        let settings = SlaSettings { calendar_dir: Some(dir.path().to_owned()), ..SlaSettings::default() };
        let message = Calendar::load(&settings).expect_err("bad file").to_string();
        assert!(message.contains(&path.display().to_string()) && message.contains("2027-03-03"), "{message}");
    }

    #[test]
    fn company_closures_and_working_days_apply_over_the_national_calendar() {
        let settings = SlaSettings {
            company_closures: vec![date("2026-12-31")],
            company_working_days: vec![date("2026-10-07"), date("2029-01-06")],
            ..SlaSettings::default()
        };
        let calendar = Calendar::load(&settings).expect("load");
        assert!(!calendar.is_working_day(date("2026-12-31")).expect("known"));
        assert!(calendar.is_working_day(date("2026-10-07")).expect("known"));
        let check = calendar.check(&settings, date("2026-06-01"));
        assert_eq!(check.warnings.len(), 1, "{check:?}");
        assert!(check.warnings[0].contains("2029-01-06"), "{check:?}");
    }

    #[test]
    fn check_warns_from_november_when_next_year_is_missing() {
        let settings = SlaSettings::default();
        let calendar = Calendar::load(&settings).expect("load");
        assert!(calendar.check(&settings, date("2026-10-31")).warnings.is_empty());
        let check = calendar.check(&settings, date("2026-11-01"));
        assert_eq!(check.warnings.len(), 1);
        assert!(check.warnings[0].contains("2027"), "{check:?}");
        assert!(calendar.check(&settings, date("2025-11-01")).warnings.is_empty());
        assert_eq!(check.years.len(), 5, "three notices and two provisional years");
        let text = check.to_string();
        assert!(text.contains("2026 年: 内置"), "{text}");
        assert!(text.contains("2027 年: 暂定：只含法定节假日"), "{text}");
    }

    #[test]
    fn check_reports_a_configured_directory_that_does_not_exist() {
        let settings = SlaSettings {
            calendar_dir: Some(PathBuf::from("/nonexistent/keydesk-calendars")),
            ..SlaSettings::default()
        };
        let calendar = Calendar::load(&settings).expect("missing directory is not fatal");
        let check = calendar.check(&settings, date("2026-03-01"));
        assert!(check.warnings.iter().any(|w| w.contains("/nonexistent/keydesk-calendars")), "{check:?}");
    }

    #[test]
    fn file_names_other_than_holidays_cn_year_are_not_calendars() {
        assert_eq!(year_from_file_name("holidays-cn-2027.json"), Some(2027));
        assert_eq!(year_from_file_name("holidays-cn-27.json"), None);
        assert_eq!(year_from_file_name("holidays-cn-2027.json.bak"), None);
        assert_eq!(year_from_file_name("holidays-us-2027.json"), None);
    }

    #[test]
    fn after_the_last_notice_two_provisional_years_follow_and_none_when_configured_so() {
        let calendar = Calendar::load(&SlaSettings::default()).expect("load");
        let years: Vec<(i32, CalendarSource)> =
            calendar.loaded_years().into_iter().map(|y| (y.year, y.source)).collect();
        assert_eq!(years[3..], [(2027, CalendarSource::Provisional), (2028, CalendarSource::Provisional)]);
        // 2027: Friday 1 January and the Spring Festival days are off; the adjusted weekends are unknown,
        // so Saturday 2 January stays a rest day; 2029 has no calendar at all.
        assert!(!calendar.is_working_day(date("2027-01-01")).expect("provisional"));
        assert!(!calendar.is_working_day(date("2027-02-09")).expect("given back for 初一 on a Saturday"));
        assert!(calendar.is_working_day(date("2027-02-11")).expect("provisional"));
        assert!(calendar.is_working_day(date("2027-01-04")).expect("provisional"));
        assert!(matches!(
            calendar.is_working_day(date("2029-01-02")),
            Err(SlaError::MissingCalendarYear { year: 2029 })
        ));
        assert!(calendar.provisional_between(date("2026-12-30"), date("2027-01-05")));
        assert!(!calendar.provisional_between(date("2026-12-01"), date("2026-12-31")));
        let none = Calendar::load(&SlaSettings { provisional_years: 0, ..SlaSettings::default() }).expect("load");
        assert!(!none.has_year(2027));
    }
}

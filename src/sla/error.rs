//! Errors of the SLA area: calendar files that fail validation, dates outside the loaded calendar years,
//! settings that name an impossible value, and command-line pause intervals that do not parse. Messages name
//! the file, date or settings key involved so that staff can fix the data without reading code.

use std::path::PathBuf;

use chrono::NaiveDate;

/// Everything that can go wrong in `crate::sla`.
#[derive(Debug, thiserror::Error)]
pub enum SlaError {
    /// A clock or calendar question touched a year with no holiday calendar loaded.
    #[error("没有 {year} 年的节假日日历 — 请添加 (no holiday calendar for {year} — add it)")]
    MissingCalendarYear { year: i32 },

    #[error("无法读取日历目录 {dir} (cannot read calendar directory {dir}): {source}")]
    ReadCalendarDir { dir: PathBuf, source: std::io::Error },

    #[error("无法读取日历文件 {file} (cannot read calendar file {file}): {source}")]
    ReadCalendarFile { file: String, source: std::io::Error },

    #[error("日历文件 {file} 格式错误 (calendar file {file} is not valid JSON for a holiday calendar): {message}")]
    ParseCalendarFile { file: String, message: String },

    #[error("日历文件 {file} 的年份 {found} 与文件名中的 {expected} 不符 (calendar file {file} says year {found} but its name says {expected})")]
    CalendarYearMismatch { file: String, expected: i32, found: i32 },

    #[error("日历文件 {file}: {date} 不在 {year} 年内 (calendar file {file}: {date} is outside year {year})")]
    DateOutsideYear { file: String, date: NaiveDate, year: i32 },

    #[error("日历文件 {file}: {date} 是工作日却标为调休上班 (calendar file {file}: {date} has off: false but is not a Saturday or Sunday)")]
    WorkingDayNotWeekend { file: String, date: NaiveDate },

    #[error("日历文件 {file}: {date} 重复出现 (calendar file {file}: {date} is listed twice)")]
    DuplicateDate { file: String, date: NaiveDate },

    /// A settings value is impossible; `key` is the full TOML key, e.g. `sla.warn_ratio`.
    #[error("配置项 {key} 无效 (invalid setting {key}): {message}")]
    InvalidSetting { key: &'static str, message: String },

    /// A clock was asked for without any start event.
    #[error("时钟没有开始事件 (the clock has no start event)")]
    NoStartEvent,

    /// A time given on the command line is neither RFC 3339 nor a local Asia/Shanghai time.
    #[error("无法解析时间 {input:?} (cannot parse time {input:?}): expected RFC 3339 like 2026-02-09T10:00:00+08:00 or local 2026-02-09 10:00")]
    InvalidInstant { input: String },

    /// A pause given on the command line is not `FROM/TO`, or TO is not after FROM.
    #[error("无法解析挂起区间 {input:?} (cannot parse pause {input:?}): {reason}")]
    InvalidPause { input: String, reason: String },
}

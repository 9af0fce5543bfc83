//! Working-day calendar and SLA clocks for the renewal desk: which days are working days in mainland China
//! (national holiday calendars shipped as data, overridable from a directory, plus company closures), business
//! time in Asia/Shanghai, the `return` (ship the key within 2 working days) and `invoice` (issue within 5
//! working days) clocks, the urgency board over open orders, and the met/missed report. Everything here is pure
//! except reading calendar files in `Calendar::load`.
//!
//! Entry points for the shell: [`ClockRules::load`] from [`SlaSettings`], then [`ClockRules::evaluate`] per
//! order, [`board::build_board`] for the screen, [`report::summarise`] for closed clocks, [`trend::Trend::build`] for the board's two-week chart,
//! [`due::compute_due`] for `keydesk sla due`, and [`Calendar::check`] for `keydesk calendar check`.

pub mod board;
pub mod calendar;
pub mod clock;
pub mod due;
pub mod error;
pub mod notice;
pub mod provisional;
pub mod report;
pub mod settings;
pub mod trend;
pub mod working_time;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod table_tests;

pub use calendar::{Calendar, CalendarCheck, CalendarSource, LoadedYear};
pub use clock::{ClockEvaluation, ClockEvents, ClockRules, ClockSchedule, ClockState, PauseInterval, Policy};
pub use error::SlaError;
pub use settings::{HourMinute, SlaSettings};
pub use working_time::{BusinessHours, WorkingTime, SHANGHAI};

//! SLA clocks: when a promise to a member falls due, and where an order stands against it. A clock is
//! recomputed from recorded events every time (start events, pauses, an optional stop), so a corrected
//! calendar re-evaluates every open order.
//!
//! Rules (DOMAIN.md §4): the clock starts at the latest start event; the event day is not counted and the
//! promise falls due at business close (17:30) on the Nth working day after the event date (`return`: N = 2,
//! `invoice`: N = 5). `effective_start` is the first business instant at or after the start; the `budget` is
//! the business time from there to the promised due instant. Business time on hold consumes no budget, so the
//! due instant moves later by the business time paused; a pause that starts after the clock already ran out
//! does not rescue it. `warn_at` is where the configured share (75 %) of the budget has been consumed.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::error::SlaError;
use super::settings::SlaSettings;
use super::working_time::{in_shanghai, instant_from_timestamp, BusinessHours, WorkingTime};

/// Which promise a clock measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Ship the renewed key back: starts at the latest of key received, order paid, handler documents
    /// approved; stops at courier pickup.
    Return,
    /// Issue the e-invoice: starts at approval; stops when the invoice is issued.
    Invoice,
}

impl Policy {
    /// Name in Simplified Chinese for people.
    pub fn label_zh(self) -> &'static str {
        match self {
            Policy::Return => "寄回 UKey",
            Policy::Invoice => "开具电子发票",
        }
    }

    /// The short name a table column uses: 寄回 / 开票.
    pub fn short_zh(self) -> &'static str {
        match self {
            Policy::Return => "寄回",
            Policy::Invoice => "开票",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Return => "return",
            Policy::Invoice => "invoice",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Policy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "return" => Ok(Policy::Return),
            "invoice" => Ok(Policy::Invoice),
            other => Err(format!("unknown SLA policy {other:?}: expected \"return\" or \"invoice\"")),
        }
    }
}

/// A time on hold (异常挂起): `[from, to)`, or still on hold when `to` is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseInterval {
    pub from: DateTime<FixedOffset>,
    pub to: Option<DateTime<FixedOffset>>,
}

/// The recorded events of one clock: plain data, as the store keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockEvents {
    pub policy: Policy,
    /// The start conditions that have happened (for `return`: key received, order paid, documents approved);
    /// the clock starts at the latest. Pass them only once all required conditions have occurred.
    pub starts: Vec<DateTime<FixedOffset>>,
    /// Times on hold, in any order, possibly overlapping.
    pub pauses: Vec<PauseInterval>,
    /// Shipping (`return`) or invoice issue (`invoice`), once it happened.
    pub stop: Option<DateTime<FixedOffset>>,
}

impl ClockEvents {
    /// The start events once every required condition has happened (for `return`: key received, order paid,
    /// documents approved), `None` while any is still missing — the clock has not started.
    pub fn starts_when_all_happened(
        conditions: &[Option<DateTime<FixedOffset>>],
    ) -> Option<Vec<DateTime<FixedOffset>>> {
        conditions.iter().copied().collect()
    }
}

/// The computed deadlines of a clock. All instants are in Asia/Shanghai (+08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClockSchedule {
    pub policy: Policy,
    /// N: working days allowed after the event date.
    pub working_days: u32,
    /// The latest start event.
    pub start: DateTime<FixedOffset>,
    /// The first business instant at or after `start`.
    pub effective_start: DateTime<FixedOffset>,
    /// What the member was promised: close of business on the Nth working day after the start date.
    pub original_due_at: DateTime<FixedOffset>,
    /// `original_due_at` moved later by the business time on hold (with an open pause: as if it ended now).
    pub due_at: DateTime<FixedOffset>,
    /// Where the warning share of the budget has been consumed.
    pub warn_at: DateTime<FixedOffset>,
    /// Business seconds from `effective_start` to `original_due_at`.
    pub budget_seconds: i64,
    /// Business seconds on hold that moved the due instant.
    pub paused_seconds: i64,
    /// The schedule runs through a year with no notice yet (its provisional calendar): 暂定, it can still
    /// move when the notice is imported.
    pub provisional_calendar: bool,
}

impl ClockSchedule {
    pub fn budget_minutes(&self) -> i64 {
        self.budget_seconds.div_euclid(60)
    }

    pub fn paused_minutes(&self) -> i64 {
        self.paused_seconds.div_euclid(60)
    }
}

/// Where a clock stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    OnTrack,
    /// Past `warn_at`.
    AtRisk,
    /// From business opening of the due day until the due instant.
    DueToday,
    /// Past the due instant with no stop.
    Breached,
    /// Currently paused (the pause began before the clock ran out).
    OnHold,
    /// Stopped on or before the due instant.
    Met,
    /// Stopped after the due instant.
    Missed,
}

impl ClockState {
    pub const ALL: [ClockState; 7] = [
        ClockState::OnTrack,
        ClockState::AtRisk,
        ClockState::DueToday,
        ClockState::Breached,
        ClockState::OnHold,
        ClockState::Met,
        ClockState::Missed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::OnTrack => "on_track",
            ClockState::AtRisk => "at_risk",
            ClockState::DueToday => "due_today",
            ClockState::Breached => "breached",
            ClockState::OnHold => "on_hold",
            ClockState::Met => "met",
            ClockState::Missed => "missed",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ClockState::OnTrack => "正常",
            ClockState::AtRisk => "预警",
            ClockState::DueToday => "今日到期",
            ClockState::Breached => "已超时",
            ClockState::OnHold => "挂起中",
            ClockState::Met => "按时完成",
            ClockState::Missed => "超时完成",
        }
    }
}

impl fmt::Display for ClockState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A clock evaluated at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClockEvaluation {
    pub schedule: ClockSchedule,
    pub state: ClockState,
    /// Business minutes from the evaluation instant (or the stop) to `due_at`, rounded down; negative when late.
    pub remaining_minutes: i64,
    /// Start of the current pause when `on_hold`.
    pub on_hold_since: Option<DateTime<FixedOffset>>,
    /// The stop event when `met` or `missed`.
    pub stopped_at: Option<DateTime<FixedOffset>>,
}

/// Everything needed to compute clocks: business time and the configured promises.
#[derive(Debug, Clone)]
pub struct ClockRules {
    working_time: WorkingTime,
    return_working_days: u32,
    invoice_working_days: u32,
    warn_ratio: f64,
}

impl ClockRules {
    /// Validates `settings` and loads the calendar (built-in + `calendar_dir` + company rules). Call again to
    /// reload after calendar files change.
    pub fn load(settings: &SlaSettings) -> Result<Self, SlaError> {
        settings.validate()?;
        Self::new(Calendar::load(settings)?, settings)
    }

    /// Rules over an already loaded calendar.
    pub fn new(calendar: Calendar, settings: &SlaSettings) -> Result<Self, SlaError> {
        settings.validate()?;
        let hours =
            BusinessHours::new(settings.business_open, settings.business_close).ok_or(SlaError::InvalidSetting {
                key: "sla.business_close",
                message: "must be later than sla.business_open".into(),
            })?;
        Ok(Self {
            working_time: WorkingTime::new(calendar, hours),
            return_working_days: settings.return_working_days,
            invoice_working_days: settings.invoice_working_days,
            warn_ratio: settings.warn_ratio,
        })
    }

    pub fn working_time(&self) -> &WorkingTime {
        &self.working_time
    }

    pub fn calendar(&self) -> &Calendar {
        self.working_time.calendar()
    }

    /// N for a policy.
    pub fn working_days(&self, policy: Policy) -> u32 {
        match policy {
            Policy::Return => self.return_working_days,
            Policy::Invoice => self.invoice_working_days,
        }
    }

    /// The deadlines of a clock, taking every recorded event as given. A pause still open (`to: None`) counts
    /// as if it ended at `as_of` (the due instant is then provisional); pauses are cut at the stop.
    pub fn schedule(&self, events: &ClockEvents, as_of: DateTime<FixedOffset>) -> Result<ClockSchedule, SlaError> {
        let open_end = events.stop.map_or(as_of, |stop| stop.min(as_of));
        Ok(self.schedule_with_pauses(events, |pause| clip_pause(pause, open_end, events.stop))?.0)
    }

    /// The state of a clock at `now`, from the events recorded up to `now`: events after `now` are ignored
    /// (a pause that ends after `now` is still open, a stop after `now` has not happened), so a past instant
    /// can be re-evaluated exactly.
    pub fn evaluate(&self, events: &ClockEvents, now: DateTime<FixedOffset>) -> Result<ClockEvaluation, SlaError> {
        let stop = events.stop.filter(|stop| *stop <= now);
        let open_end = stop.unwrap_or(now);
        let as_of_now = |pause: &PauseInterval| -> Option<PauseInterval> {
            if pause.from > now {
                return None;
            }
            Some(PauseInterval { from: pause.from, to: pause.to.filter(|to| *to <= now) })
        };
        let (schedule, due_ordinal) = self.schedule_with_pauses(events, |pause| {
            as_of_now(pause).and_then(|seen| clip_pause(&seen, open_end, stop))
        })?;
        let time = &self.working_time;
        if let Some(stop) = stop {
            let remaining = due_ordinal - time.ordinal_at_timestamp(stop.timestamp())?.0;
            let state = if stop <= schedule.due_at { ClockState::Met } else { ClockState::Missed };
            return Ok(ClockEvaluation {
                schedule,
                state,
                remaining_minutes: remaining.div_euclid(60),
                on_hold_since: None,
                stopped_at: Some(in_shanghai(&stop)),
            });
        }
        let on_hold_since = events
            .pauses
            .iter()
            .filter_map(as_of_now)
            .filter(|pause| pause.to.is_none())
            .map(|pause| pause.from)
            .min()
            .map(|from| in_shanghai(&from));
        // Before the clock starts, the whole budget remains.
        let remaining = due_ordinal - time.ordinal_at_timestamp(now.max(schedule.effective_start).timestamp())?.0;
        let state = if now > schedule.due_at {
            ClockState::Breached
        } else if on_hold_since.is_some() {
            ClockState::OnHold
        } else if now.timestamp() >= time.opening_of_day_timestamp(schedule.due_at.timestamp()) {
            ClockState::DueToday
        } else if now >= schedule.warn_at {
            ClockState::AtRisk
        } else {
            ClockState::OnTrack
        };
        Ok(ClockEvaluation {
            schedule,
            state,
            remaining_minutes: remaining.div_euclid(60),
            on_hold_since: if state == ClockState::OnHold { on_hold_since } else { None },
            stopped_at: None,
        })
    }

    /// Core computation; `pause_view` maps each recorded pause to the closed interval that counts, if any.
    /// Also returns the business ordinal of `due_at`. Works on Unix timestamps and business ordinals, converting
    /// to date-times only for the result.
    fn schedule_with_pauses(
        &self,
        events: &ClockEvents,
        pause_view: impl Fn(&PauseInterval) -> Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)>,
    ) -> Result<(ClockSchedule, i64), SlaError> {
        let start = events.starts.iter().max().copied().ok_or(SlaError::NoStartEvent)?;
        let time = &self.working_time;
        let working_days = self.working_days(events.policy);
        let effective_start = time.effective_start(start)?;
        let (start_ordinal, start_offset) = time.ordinal_at_timestamp(effective_start.timestamp())?;
        let original_due_ordinal = time.close_ordinal_after(start.timestamp(), working_days)?;
        let budget_seconds = original_due_ordinal - start_ordinal;
        let warn_target = (((budget_seconds as f64) * self.warn_ratio).round() as i64).clamp(1, budget_seconds.max(1));

        // Walk business time from the effective start, skipping the pauses (sorted by start), until the warning
        // share and then the whole budget have been consumed.
        let mut targets = [(warn_target, None::<i64>), (budget_seconds, None::<i64>)];
        let (mut cursor, mut consumed, mut paused_seconds) = (start_ordinal, 0i64, 0i64);
        let sorted_pauses;
        let pauses: &[PauseInterval] = if events.pauses.is_sorted_by_key(|pause| pause.from) {
            &events.pauses
        } else {
            let mut copy = events.pauses.clone();
            copy.sort_by_key(|pause| pause.from);
            sorted_pauses = copy;
            &sorted_pauses
        };
        for (from, to) in pauses.iter().filter_map(&pause_view) {
            let (to_ordinal, _) = time.ordinal_at_timestamp(to.timestamp())?;
            if to_ordinal <= cursor {
                continue;
            }
            let from_ordinal = time.ordinal_at_timestamp(from.timestamp())?.0.max(cursor);
            let gap = from_ordinal - cursor;
            for (target, reached) in targets.iter_mut() {
                if reached.is_none() && consumed + gap >= *target {
                    *reached = Some(cursor + (*target - consumed));
                }
            }
            if targets[1].1.is_some() {
                break;
            }
            consumed += gap;
            paused_seconds += to_ordinal - from_ordinal;
            cursor = to_ordinal;
        }
        let [warn_ordinal, due_ordinal] =
            targets.map(|(target, reached)| reached.unwrap_or(cursor + (target - consumed)));
        let instant_at = |ordinal: i64| -> Result<DateTime<FixedOffset>, SlaError> {
            Ok(instant_from_timestamp(time.timestamp_at_ordinal(ordinal, start_offset)?))
        };
        let start = in_shanghai(&start);
        let due_at = instant_at(due_ordinal)?;
        let schedule = ClockSchedule {
            policy: events.policy,
            working_days,
            start,
            effective_start,
            original_due_at: instant_at(original_due_ordinal)?,
            due_at,
            warn_at: instant_at(warn_ordinal)?,
            budget_seconds,
            paused_seconds,
            provisional_calendar: time.calendar().provisional_between(start.date_naive(), due_at.date_naive()),
        };
        Ok((schedule, due_ordinal))
    }
}

/// The part of a pause that counts: open pauses end at `open_end`, everything is cut at `stop`; `None` when
/// nothing is left.
fn clip_pause(
    pause: &PauseInterval,
    open_end: DateTime<FixedOffset>,
    stop: Option<DateTime<FixedOffset>>,
) -> Option<(DateTime<FixedOffset>, DateTime<FixedOffset>)> {
    let mut to = pause.to.unwrap_or(open_end);
    if let Some(stop) = stop {
        to = to.min(stop);
    }
    (to > pause.from).then_some((pause.from, to))
}

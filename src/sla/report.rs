//! The SLA report: closed clocks (stopped, with the due instant they were held to and the operator who
//! recorded the stop) summarised as met and missed per day (Asia/Shanghai date of the stop), per operator and
//! per policy. Pure: the store supplies the closed clocks for the period asked for.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;

use super::clock::{ClockEvaluation, Policy};
use super::working_time::WorkingTime;

/// One clock that has stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosedClock {
    pub policy: Policy,
    pub stopped_at: DateTime<FixedOffset>,
    /// The due instant after pauses (what the desk was held to).
    pub due_at: DateTime<FixedOffset>,
    pub operator: String,
    /// The due instant came from a provisional calendar (the year's notice not imported yet).
    pub provisional_calendar: bool,
}

impl ClosedClock {
    /// From an evaluation that has a stop; `None` for clocks still running.
    pub fn from_evaluation(evaluation: &ClockEvaluation, operator: &str) -> Option<Self> {
        Some(Self {
            policy: evaluation.schedule.policy,
            stopped_at: evaluation.stopped_at?,
            due_at: evaluation.schedule.due_at,
            operator: operator.to_owned(),
            provisional_calendar: evaluation.schedule.provisional_calendar,
        })
    }

    /// Stopped on or before the due instant.
    pub fn is_met(&self) -> bool {
        self.stopped_at <= self.due_at
    }

    /// The Asia/Shanghai date of the stop.
    pub fn day(&self) -> NaiveDate {
        WorkingTime::shanghai_date(self.stopped_at)
    }
}

/// Met and missed counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MetMissed {
    pub met: u64,
    pub missed: u64,
}

impl MetMissed {
    fn add(&mut self, met: bool) {
        if met {
            self.met += 1;
        } else {
            self.missed += 1;
        }
    }

    /// Share met, `None` with no clocks.
    pub fn met_ratio(&self) -> Option<f64> {
        let total = self.met + self.missed;
        (total > 0).then(|| self.met as f64 / total as f64)
    }
}

impl fmt::Display for MetMissed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "按时 {}，超时 {}", self.met, self.missed)?;
        if let Some(ratio) = self.met_ratio() {
            write!(f, "，按时率 {:.1}%", ratio * 100.0)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayTally {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub tally: MetMissed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorTally {
    pub operator: String,
    #[serde(flatten)]
    pub tally: MetMissed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyTally {
    pub policy: Policy,
    #[serde(flatten)]
    pub tally: MetMissed,
}

/// Met and missed in total, per day (ascending), per operator (by name) and per policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlaReport {
    pub total: MetMissed,
    /// Clocks judged against a provisional calendar (暂定): their met or missed can change with the notice.
    pub provisional: u64,
    pub by_day: Vec<DayTally>,
    pub by_operator: Vec<OperatorTally>,
    pub by_policy: Vec<PolicyTally>,
}

/// Summarises closed clocks.
pub fn summarise(clocks: &[ClosedClock]) -> SlaReport {
    let mut total = MetMissed::default();
    let mut by_day: BTreeMap<NaiveDate, MetMissed> = BTreeMap::new();
    let mut by_operator: BTreeMap<&str, MetMissed> = BTreeMap::new();
    let mut by_policy: BTreeMap<Policy, MetMissed> = BTreeMap::new();
    let mut provisional = 0;
    for clock in clocks {
        provisional += u64::from(clock.provisional_calendar);
        let met = clock.is_met();
        total.add(met);
        by_day.entry(clock.day()).or_default().add(met);
        by_operator.entry(clock.operator.as_str()).or_default().add(met);
        by_policy.entry(clock.policy).or_default().add(met);
    }
    SlaReport {
        total,
        provisional,
        by_day: by_day.into_iter().map(|(day, tally)| DayTally { day, tally }).collect(),
        by_operator: by_operator
            .into_iter()
            .map(|(operator, tally)| OperatorTally { operator: operator.to_owned(), tally })
            .collect(),
        by_policy: by_policy.into_iter().map(|(policy, tally)| PolicyTally { policy, tally }).collect(),
    }
}

impl fmt::Display for SlaReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "合计：{}", self.total)?;
        if self.provisional > 0 {
            writeln!(f, "其中 {} 个时限为暂定（该年节假日通知尚未导入），导入后可能改变", self.provisional)?;
        }
        writeln!(f, "按日期：")?;
        for day in &self.by_day {
            writeln!(f, "  {}  {}", day.day, day.tally)?;
        }
        writeln!(f, "按经办人：")?;
        for operator in &self.by_operator {
            writeln!(f, "  {}  {}", operator.operator, operator.tally)?;
        }
        writeln!(f, "按时限：")?;
        for policy in &self.by_policy {
            writeln!(f, "  {}  {}", policy.policy.label_zh(), policy.tally)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::clock::ClockEvents;
    use crate::sla::table_tests::{at, rules};

    fn closed(policy: Policy, stopped_at: &str, due_at: &str, operator: &str) -> ClosedClock {
        ClosedClock {
            policy,
            stopped_at: at(stopped_at),
            due_at: at(due_at),
            operator: operator.to_owned(),
            provisional_calendar: false,
        }
    }

    #[test]
    fn met_and_missed_per_day_operator_and_policy() {
        let clocks = vec![
            closed(Policy::Return, "2025-03-06 17:30", "2025-03-06 17:30", "wang"), // met, exactly on time
            closed(Policy::Return, "2025-03-06 17:31", "2025-03-06 17:30", "li"),   // missed
            closed(Policy::Invoice, "2025-03-07 09:00", "2025-03-10 17:30", "wang"), // met
            // 2025-03-06T16:30Z is Friday 00:30 in Shanghai: counts on 03-07.
            closed(Policy::Return, "2025-03-06T16:30:00Z", "2025-03-06 17:30", "li"), // missed
        ];
        let report = summarise(&clocks);
        assert_eq!(report.total, MetMissed { met: 2, missed: 2 });
        let days: Vec<(String, u64, u64)> =
            report.by_day.iter().map(|d| (d.day.to_string(), d.tally.met, d.tally.missed)).collect();
        assert_eq!(days, vec![("2025-03-06".into(), 1, 1), ("2025-03-07".into(), 1, 1)]);
        let operators: Vec<(&str, u64, u64)> =
            report.by_operator.iter().map(|o| (o.operator.as_str(), o.tally.met, o.tally.missed)).collect();
        assert_eq!(operators, vec![("li", 0, 2), ("wang", 2, 0)]);
        assert_eq!(report.by_policy[0].policy, Policy::Return);
        assert_eq!(report.by_policy[0].tally, MetMissed { met: 1, missed: 2 });
        let text = report.to_string();
        assert!(text.contains("合计：按时 2，超时 2，按时率 50.0%"), "{text}");
        assert!(!text.contains("暂定"), "{text}");
        let mut provisional = clocks.clone();
        provisional[0].provisional_calendar = true;
        let report = summarise(&provisional);
        assert_eq!(report.provisional, 1);
        assert!(report.to_string().contains("其中 1 个时限为暂定"), "{report}");
        let json = serde_json::to_value(&report).expect("json");
        assert_eq!(json["by_operator"][1]["met"], 2);
    }

    #[test]
    fn an_empty_period_has_no_ratio() {
        let report = summarise(&[]);
        assert_eq!(report.total.met_ratio(), None);
        assert!(report.by_day.is_empty());
    }

    #[test]
    fn closed_clocks_come_from_stopped_evaluations_only() {
        let rules = rules();
        let mut events =
            ClockEvents { policy: Policy::Return, starts: vec![at("2025-03-04 10:15")], pauses: vec![], stop: None };
        let running = rules.evaluate(&events, at("2025-03-05 10:00")).expect("ok");
        assert_eq!(ClosedClock::from_evaluation(&running, "wang"), None);
        events.stop = Some(at("2025-03-06 16:00"));
        let stopped = rules.evaluate(&events, at("2025-03-07 10:00")).expect("ok");
        let closed = ClosedClock::from_evaluation(&stopped, "wang").expect("closed");
        assert!(closed.is_met());
        assert_eq!(closed.due_at, at("2025-03-06 17:30"));
    }
}

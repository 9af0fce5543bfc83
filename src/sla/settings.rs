//! The `[sla]` section of keydesk's configuration: where extra holiday calendars live, the business hours,
//! how many working days each promise allows, when to warn, and the company's own closures and extra working
//! days. Deserialises with unknown keys refused and every key optional (defaults below); `validate` reports
//! impossible values naming the full key (`sla.business_close`, ...).

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveTime, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::SlaError;

/// A time of day to the minute, written `"HH:MM"` in configuration (e.g. `"17:30"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HourMinute(NaiveTime);

impl HourMinute {
    /// `None` when hour > 23 or minute > 59.
    pub fn new(hour: u32, minute: u32) -> Option<Self> {
        NaiveTime::from_hms_opt(hour, minute, 0).map(Self)
    }

    pub fn time(self) -> NaiveTime {
        self.0
    }

    /// Seconds after midnight.
    pub fn seconds_from_midnight(self) -> i64 {
        i64::from(self.0.num_seconds_from_midnight())
    }
}

impl fmt::Display for HourMinute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

impl FromStr for HourMinute {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        NaiveTime::parse_from_str(text.trim(), "%H:%M")
            .map(Self)
            .map_err(|_| format!("expected a time of day as \"HH:MM\", got {text:?}"))
    }
}

impl Serialize for HourMinute {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HourMinute {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The `[sla]` configuration section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaSettings {
    /// Directory of `holidays-cn-YYYY.json` files that add a year or replace a built-in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar_dir: Option<PathBuf>,
    /// Start of business hours on a working day, inclusive.
    pub business_open: HourMinute,
    /// End of business hours on a working day, exclusive; deadlines fall at this time.
    pub business_close: HourMinute,
    /// N for the `return` clock: ship the key by close of the Nth working day after receipt.
    pub return_working_days: u32,
    /// N for the `invoice` clock: issue the invoice by close of the Nth working day after approval.
    pub invoice_working_days: u32,
    /// Share of the budget consumed at which a clock becomes `at_risk`, strictly between 0 and 1.
    pub warn_ratio: f64,
    /// Company closures: dates that are not working days whatever the national calendar says.
    pub company_closures: Vec<NaiveDate>,
    /// Company extra working days: dates that are working days whatever the national calendar says.
    pub company_working_days: Vec<NaiveDate>,
    /// How many years after the last notice get a provisional calendar (statutory holidays only) until
    /// their notice is imported; clocks on them are marked 暂定. 0: none (such clocks cannot be computed).
    pub provisional_years: u32,
}

/// Longest promise accepted in settings, in working days (about a year).
pub const MAX_PROMISE_WORKING_DAYS: u32 = 250;

impl Default for SlaSettings {
    fn default() -> Self {
        Self {
            calendar_dir: None,
            business_open: HourMinute(NaiveTime::MIN + chrono::TimeDelta::hours(9)),
            business_close: HourMinute(NaiveTime::MIN + chrono::TimeDelta::hours(17) + chrono::TimeDelta::minutes(30)),
            return_working_days: 2,
            invoice_working_days: 5,
            warn_ratio: 0.75,
            company_closures: Vec::new(),
            company_working_days: Vec::new(),
            provisional_years: 2,
        }
    }
}

impl SlaSettings {
    /// Checks values that deserialise but cannot work; the error names the key.
    pub fn validate(&self) -> Result<(), SlaError> {
        if self.business_open >= self.business_close {
            return Err(SlaError::InvalidSetting {
                key: "sla.business_close",
                message: format!(
                    "must be later than sla.business_open ({} is not after {})",
                    self.business_close, self.business_open
                ),
            });
        }
        for (key, days) in [
            ("sla.return_working_days", self.return_working_days),
            ("sla.invoice_working_days", self.invoice_working_days),
        ] {
            if days == 0 || days > MAX_PROMISE_WORKING_DAYS {
                return Err(SlaError::InvalidSetting {
                    key,
                    message: format!("must be between 1 and {MAX_PROMISE_WORKING_DAYS} working days, got {days}"),
                });
            }
        }
        if !(self.warn_ratio > 0.0 && self.warn_ratio < 1.0) {
            return Err(SlaError::InvalidSetting {
                key: "sla.warn_ratio",
                message: format!("must be strictly between 0 and 1, got {}", self.warn_ratio),
            });
        }
        if self.provisional_years > 10 {
            return Err(SlaError::InvalidSetting {
                key: "sla.provisional_years",
                message: format!("must be between 0 and 10, got {}", self.provisional_years),
            });
        }
        let closures: BTreeSet<NaiveDate> = self.company_closures.iter().copied().collect();
        if let Some(both) = self.company_working_days.iter().find(|date| closures.contains(date)) {
            return Err(SlaError::InvalidSetting {
                key: "sla.company_working_days",
                message: format!("{both} is also listed in sla.company_closures"),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct ConfigFile {
        sla: SlaSettings,
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let settings = SlaSettings::default();
        assert_eq!(settings.business_open.to_string(), "09:00");
        assert_eq!(settings.business_close.to_string(), "17:30");
        assert_eq!(settings.return_working_days, 2);
        assert_eq!(settings.invoice_working_days, 5);
        assert_eq!(settings.warn_ratio, 0.75);
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn empty_section_gives_defaults_and_full_section_round_trips() {
        let empty: ConfigFile = toml::from_str("[sla]\n").expect("parse");
        assert_eq!(empty.sla, SlaSettings::default());

        let text = r#"
[sla]
calendar_dir = "/etc/keydesk/calendars"
business_open = "08:30"
business_close = "18:00"
return_working_days = 3
invoice_working_days = 7
warn_ratio = 0.5
company_closures = ["2026-12-31"]
company_working_days = ["2026-10-10"]
"#;
        let parsed: ConfigFile = toml::from_str(text).expect("parse");
        assert_eq!(parsed.sla.business_open.to_string(), "08:30");
        assert_eq!(parsed.sla.company_closures, vec![NaiveDate::from_ymd_opt(2026, 12, 31).expect("date")]);
        let again = toml::to_string(&parsed.sla).expect("serialize");
        let reparsed: SlaSettings = toml::from_str(&again).expect("reparse");
        assert_eq!(reparsed, parsed.sla);
    }

    #[test]
    fn unknown_key_is_refused() {
        let err = toml::from_str::<ConfigFile>("[sla]\nbusiness_opens = \"09:00\"\n").expect_err("unknown key");
        assert!(err.to_string().contains("business_opens"), "{err}");
    }

    #[test]
    fn malformed_time_is_refused_with_the_expected_format() {
        let err = toml::from_str::<ConfigFile>("[sla]\nbusiness_open = \"9h\"\n").expect_err("bad time");
        assert!(err.to_string().contains("HH:MM"), "{err}");
    }

    fn invalid_key(settings: &SlaSettings) -> &'static str {
        match settings.validate() {
            Err(SlaError::InvalidSetting { key, .. }) => key,
            other => panic!("expected an invalid setting, got {other:?}"),
        }
    }

    #[test]
    fn validation_names_the_offending_key() {
        let defaults = SlaSettings::default;
        let settings = SlaSettings { business_close: HourMinute::new(9, 0).expect("time"), ..defaults() };
        assert_eq!(invalid_key(&settings), "sla.business_close");
        let settings = SlaSettings { warn_ratio: 1.0, ..defaults() };
        assert_eq!(invalid_key(&settings), "sla.warn_ratio");
        let settings = SlaSettings { warn_ratio: f64::NAN, ..defaults() };
        assert_eq!(invalid_key(&settings), "sla.warn_ratio");
        let settings = SlaSettings { return_working_days: 0, ..defaults() };
        assert_eq!(invalid_key(&settings), "sla.return_working_days");
        let settings = SlaSettings { invoice_working_days: 10_000, ..defaults() };
        assert_eq!(invalid_key(&settings), "sla.invoice_working_days");

        let mut settings = SlaSettings::default();
        let date = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
        settings.company_closures = vec![date];
        settings.company_working_days = vec![date];
        assert_eq!(invalid_key(&settings), "sla.company_working_days");
    }
}

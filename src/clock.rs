//! The one clock everything asks for the time: the renewal rules, the SLA board and clocks, the member
//! view, the print queue's back-off, receipts and audit rows. A process makes one [`Clock`] at its
//! entry point and hands it down; nothing else reads the wall clock for a business instant.
//!
//! Tests and demos pin it: [`Clock::fixed`] stands still until told to move ([`Clock::advance`]),
//! [`Clock::starting_at`] ticks from a chosen instant. A process started with `KEYDESK_NOW=<RFC 3339>`
//! runs on a clock that starts at that instant and ticks ([`Clock::from_env`]), so the command line
//! and the desk can be pinned from outside as well. Instants are cut to microseconds, the database's
//! precision, so what is written reads back equal.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset, SubsecRound, TimeDelta, Utc};

/// The environment variable that pins a process's clock (tests and demos only).
pub const NOW_VAR: &str = "KEYDESK_NOW";

#[derive(Debug)]
enum Source {
    System,
    /// The wall clock moved by a fixed offset: ticks, starting where it was asked to.
    Offset(Mutex<TimeDelta>),
    /// Stands still until advanced.
    Fixed(Mutex<DateTime<Utc>>),
}

/// A handle on the clock; clones share it (advancing one advances all).
#[derive(Debug, Clone)]
pub struct Clock(Arc<Source>);

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl Clock {
    /// The wall clock.
    pub fn system() -> Clock {
        Clock(Arc::new(Source::System))
    }

    /// A clock that reads `at` until it is advanced.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Arc::new(Source::Fixed(Mutex::new(at))))
    }

    /// A clock that reads `at` now and then ticks with the wall clock.
    pub fn starting_at(at: DateTime<Utc>) -> Clock {
        Clock(Arc::new(Source::Offset(Mutex::new(at - Utc::now()))))
    }

    /// The process's clock: the wall clock, or the one `KEYDESK_NOW` pins.
    pub fn from_env() -> Result<Clock, String> {
        match std::env::var(NOW_VAR) {
            Ok(v) if !v.trim().is_empty() => {
                let at = DateTime::parse_from_rfc3339(v.trim())
                    .map_err(|e| format!("{NOW_VAR}={v:?} is not an RFC 3339 instant: {e}"))?;
                Ok(Clock::starting_at(at.with_timezone(&Utc)))
            }
            _ => Ok(Clock::system()),
        }
    }

    /// Whether this clock is the wall clock.
    pub fn is_system(&self) -> bool {
        matches!(*self.0, Source::System)
    }

    /// The current instant, at microsecond precision.
    pub fn now(&self) -> DateTime<Utc> {
        let raw = match &*self.0 {
            Source::System => Utc::now(),
            Source::Offset(d) => Utc::now() + *lock(d),
            Source::Fixed(at) => *lock(at),
        };
        raw.trunc_subsecs(6)
    }

    /// The current instant in Beijing time.
    pub fn now_local(&self) -> DateTime<FixedOffset> {
        self.now().with_timezone(&crate::sla::SHANGHAI)
    }

    /// Moves a pinned clock forward (or back, with a negative delta). The wall clock cannot be moved.
    pub fn advance(&self, by: TimeDelta) {
        match &*self.0 {
            Source::System => {}
            Source::Offset(d) => *lock(d) += by,
            Source::Fixed(at) => *lock(at) += by,
        }
    }

    /// Sets a pinned clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        match &*self.0 {
            Source::System => {}
            Source::Offset(d) => *lock(d) = at - Utc::now(),
            Source::Fixed(t) => *lock(t) = at,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_fixed_clock_stands_still_until_advanced_and_clones_share_it() {
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 15, 50, 0).unwrap();
        let clock = Clock::fixed(at);
        let other = clock.clone();
        assert_eq!(clock.now(), at);
        other.advance(TimeDelta::minutes(20));
        assert_eq!(clock.now(), at + TimeDelta::minutes(20));
        assert_eq!(clock.now_local().to_rfc3339(), "2027-01-01T00:10:00+08:00");
    }

    /// Nothing else reads the wall clock for a business instant: only the clock itself, a file name's
    /// stamp and SF's request timestamp (which SF checks against its own clock) may.
    #[test]
    fn only_the_clock_reads_the_wall_clock() {
        const ALLOWED: [&str; 3] = ["src/clock.rs", "src/outbound/printer/file.rs", "src/outbound/courier/sf.rs"];
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        walk(&root.join("src"), &mut files);
        let needles = [concat!("Utc::", "now()"), concat!("Local::", "now()"), concat!("SystemTime::", "now()")];
        let offenders: Vec<String> = files
            .iter()
            .filter(|f| !ALLOWED.iter().any(|a| f.ends_with(a)))
            .filter(|f| std::fs::read_to_string(f).is_ok_and(|text| needles.iter().any(|n| text.contains(n))))
            .map(|f| f.display().to_string())
            .collect();
        assert!(offenders.is_empty(), "read the time from crate::clock::Clock instead: {offenders:?}");
    }

    #[test]
    fn a_started_clock_ticks_from_its_instant_at_microsecond_precision() {
        let at = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap();
        let clock = Clock::starting_at(at);
        let t = clock.now();
        assert!(t >= at - TimeDelta::seconds(1) && t < at + TimeDelta::seconds(5), "{t}");
        assert_eq!(t.timestamp_subsec_nanos() % 1000, 0);
    }
}

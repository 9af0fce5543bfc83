//! Printers for labels and invoices, behind one [`Printer`] trait with three backends chosen by
//! configuration: `ipp` (Print-Job straight to the printer's URI), `cups` (the local `lp` command)
//! and `file` (an atomic write into a folder, for a PDF printer or a shared folder).
//!
//! A print returns a [`PrintOutcome`] the durable print queue acts on: `Printed`, `Retryable` (the
//! printer is busy, off or unreachable: try again later, see [`RetryPolicy`]) or `Failed` (the
//! printer refused the document: retrying would not help, staff must look).
//! The backends block (network, child process, disk); async callers run them in `spawn_blocking`.

mod cups;
mod file;
mod ipp;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::PrintKind;

pub use cups::CupsPrinter;
pub use file::FilePrinter;
pub use ipp::{IppPrinter, IppResponse};

/// One document to print.
#[derive(Debug, Clone, Copy)]
pub struct PrintJob<'a> {
    /// A short job name shown in the printer's queue, e.g. `label-SF1234567890123`.
    pub name: &'a str,
    /// The PDF bytes.
    pub pdf: &'a [u8],
    /// The media the document is laid out for (PWG keyword), used when the printer's settings name
    /// none.
    pub media: Option<&'a str>,
}

impl PrintJob<'_> {
    /// The media to request: the configured one, else the job's, else none.
    pub fn media_or<'s>(&'s self, configured: &'s str) -> Option<&'s str> {
        if configured.is_empty() {
            self.media.filter(|m| !m.is_empty())
        } else {
            Some(configured)
        }
    }
}

/// What happened to a print, in the terms the queue needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintOutcome {
    /// The printer accepted the job (`job` is its id or the file written, when known).
    Printed { job: Option<String> },
    /// Not printed now, may work later (busy, off, unreachable, timed out).
    Retryable(String),
    /// Not printed, and retrying the same document will not help.
    Failed(String),
}

/// A printer backend.
pub trait Printer: Send + Sync {
    /// Sends one PDF; never panics, never retries by itself.
    fn print(&self, job: &PrintJob<'_>) -> PrintOutcome;
    /// A one-line description for logs and the desk's status line.
    fn describe(&self) -> String;
}

/// Which backend a printer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrinterBackend {
    #[default]
    Ipp,
    Cups,
    File,
}

/// One printer (`[printer.label]` or `[printer.invoice]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrinterSettings {
    /// `"ipp"`, `"cups"` or `"file"`.
    pub backend: PrinterBackend,
    /// ipp: the printer URI, e.g. `ipp://192.0.2.10:631/ipp/print`.
    pub uri: String,
    /// cups: the queue name for `lp -d`.
    pub queue: String,
    /// file: the folder the PDFs are written to.
    pub dir: PathBuf,
    /// ipp: PWG media keyword (e.g. `custom_100x150mm_100x150mm`); cups: `-o media=` value
    /// (e.g. `Custom.100x150mm`). Empty = the job's own media (a label asks for its stock size,
    /// see `LabelSize::ipp_media`), else the printer's default.
    pub media: String,
    /// ipp: seconds before a request counts as failed (retryable).
    pub timeout_secs: u64,
}

impl PrinterSettings {
    fn ipp_queue(name: &str) -> Self {
        Self {
            backend: PrinterBackend::Ipp,
            uri: format!("ipp://localhost:631/printers/{name}"),
            queue: name.to_string(),
            dir: PathBuf::from(format!("printed/{name}")),
            media: String::new(),
            timeout_secs: 30,
        }
    }
}

impl Default for PrinterSettings {
    fn default() -> Self {
        Self::ipp_queue("label")
    }
}

/// The two printers of the desk (`[printer]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrintersSettings {
    pub label: PrinterSettings,
    pub invoice: PrinterSettings,
}

impl Default for PrintersSettings {
    fn default() -> Self {
        Self { label: PrinterSettings::ipp_queue("label"), invoice: PrinterSettings::ipp_queue("invoice") }
    }
}

/// Builds the configured backend.
/// The printers by name: the code of the [`PrintKind`] each prints (`label`, `invoice`).
pub type Printers = std::collections::HashMap<String, std::sync::Arc<dyn Printer>>;

/// The configured printers, by name.
pub fn printers_from_settings(settings: &PrintersSettings) -> Printers {
    let mut printers = Printers::new();
    printers.insert(PrintKind::Label.code().into(), std::sync::Arc::from(printer_from_settings(&settings.label)));
    printers.insert(PrintKind::Invoice.code().into(), std::sync::Arc::from(printer_from_settings(&settings.invoice)));
    printers
}

pub fn printer_from_settings(settings: &PrinterSettings) -> Box<dyn Printer> {
    match settings.backend {
        PrinterBackend::Ipp => {
            Box::new(IppPrinter::new(&settings.uri, &settings.media, Duration::from_secs(settings.timeout_secs.max(1))))
        }
        PrinterBackend::Cups => Box::new(CupsPrinter::new(&settings.queue, &settings.media)),
        PrinterBackend::File => Box::new(FilePrinter::new(&settings.dir)),
    }
}

/// When to try a retryable print again: exponential back-off from `base`, doubling per attempt,
/// capped at `cap`, and given up after `max_attempts` (then the job is failed for staff to see).
/// No jitter: one desk, one printer, nobody to collide with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: TimeDelta,
    pub cap: TimeDelta,
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { base: TimeDelta::seconds(5), cap: TimeDelta::minutes(5), max_attempts: 20 }
    }
}

impl RetryPolicy {
    /// After `attempts` failed tries (1 = the first try failed), when to try next; `None` = give up.
    pub fn next_attempt_at(&self, attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if attempts == 0 {
            return Some(now);
        }
        if attempts >= self.max_attempts {
            return None;
        }
        let factor = 1i32 << (attempts - 1).min(20);
        let delay = self.base.checked_mul(factor).unwrap_or(self.cap).min(self.cap);
        Some(now + delay)
    }
}

/// [`RetryPolicy::next_attempt_at`] with the default policy (5 s, 10 s, 20 s … capped at 5 min,
/// 20 attempts).
pub fn next_attempt_at(attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    RetryPolicy::default().next_attempt_at(attempts, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_five_seconds_to_a_five_minute_cap_then_gives_up() {
        let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("time");
        let delays: Vec<i64> = (1..=9).map(|n| (next_attempt_at(n, now).expect("retry") - now).num_seconds()).collect();
        assert_eq!(delays, vec![5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(next_attempt_at(0, now), Some(now));
        assert_eq!(next_attempt_at(19, now).map(|t| (t - now).num_seconds()), Some(300));
        assert_eq!(next_attempt_at(20, now), None);
        assert_eq!(next_attempt_at(u32::MAX, now), None);
    }

    #[test]
    fn printer_settings_parse_with_defaults_and_refuse_unknown_keys() {
        let s: PrintersSettings =
            serde_json::from_str(r#"{"label":{"backend":"file","dir":"/tmp/x"}}"#).expect("parse");
        assert_eq!(s.label.backend, PrinterBackend::File);
        assert_eq!(s.label.media, "");
        assert_eq!(s.invoice.uri, "ipp://localhost:631/printers/invoice");
        assert!(serde_json::from_str::<PrinterSettings>(r#"{"url":"ipp://x"}"#).is_err());
    }
}

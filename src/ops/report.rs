//! The manager's report as a use case: the facts of a period from the store (the clock facts the board
//! and `sla report` read, with the renewals, cancellations and hold reasons beside them, and the
//! unmatched parcels), personal data masked here before the report sees it, the figures built by
//! `report::figures`, and the file written through a temporary file and a rename. `keydesk report`,
//! the board's key and the worker's weekly run all come through here.

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use crate::domain::{mask, AuditAction, HoldReason, Status};
use crate::report::figures::{HoldSpan, Stamp};
use crate::report::{FileForm, OrderFacts, ParcelFacts, Period, PeriodReport, ReportBuilder};
use crate::sla::{ClockRules, SHANGHAI};
use crate::store::{ClockFacts, ClockScope, Store};

use super::sla::{clocks_of, holds, last_action, withdrawn};
use super::OpsError;

fn shanghai(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&SHANGHAI)
}

/// What a hold's reason reads as in the report.
fn reason_label(reason: Option<HoldReason>) -> String {
    reason.map_or("原因未记录".to_string(), |r| r.label().to_string())
}

/// One order's facts for the report, its holder's name and phone masked.
fn order_facts(f: &ClockFacts) -> OrderFacts {
    // An order imported as renewed was not renewed at the desk.
    let renewed = f
        .events
        .iter()
        .rev()
        .find(|e| e.action != AuditAction::Import && e.to_status.as_deref() == Some(Status::Renewed.code()));
    // Withdrawn without a move at the desk (imported so), or still unpaid: its clocks never counted as open.
    let never = (withdrawn(f.status) || f.status == Status::Unpaid).then_some(DateTime::<Utc>::MIN_UTC);
    let withdrawal = f
        .events
        .iter()
        .find(|e| e.to_status.as_deref().and_then(Status::from_code).is_some_and(withdrawn))
        .map(|e| if e.action == AuditAction::Import { DateTime::<Utc>::MIN_UTC } else { e.at });
    OrderFacts {
        order_no: f.order_no.clone(),
        company: f.company.clone(),
        holder_masked: mask::name(&f.holder_name),
        phone_masked: mask::phone(&f.contact_phone),
        received: f
            .received_at
            .map(|at| Stamp { at: shanghai(at), by: f.received_by.clone().unwrap_or_else(|| "-".into()) }),
        renewed: renewed.map(|e| Stamp { at: shanghai(e.at), by: e.operator.clone() }),
        shipped: f.shipped_at.map(|at| Stamp {
            at: shanghai(at),
            by: last_action(f, AuditAction::Ship).map_or_else(|| "-".into(), |e| e.operator.clone()),
        }),
        picked_up_at: f.picked_up_at.map(shanghai),
        withdrawn_at: withdrawal.or(never).map(shanghai),
        clocks: clocks_of(f),
        holds: holds(f)
            .into_iter()
            .map(|(pause, reason)| HoldSpan { reason: reason_label(reason), from: pause.from, to: pause.to })
            .collect(),
    }
}

/// Orders read from the store at a time: a year's are never all in memory at once.
pub const PAGE: i64 = 5_000;

/// The report of `period` as it stands at `now` (the period's end, if that came first).
pub async fn build(
    store: &dyn Store,
    rules: &ClockRules,
    period: Period,
    now: DateTime<FixedOffset>,
) -> Result<PeriodReport, OpsError> {
    build_in_pages(store, rules, period, now, PAGE).await
}

/// [`build`], reading `page` orders at a time.
pub async fn build_in_pages(
    store: &dyn Store,
    rules: &ClockRules,
    period: Period,
    now: DateTime<FixedOffset>,
    page: i64,
) -> Result<PeriodReport, OpsError> {
    if period.start() > now {
        return Err(OpsError::Invalid(format!("报表期间 {} 尚未开始", period.label())));
    }
    let (from, to) = (period.start().with_timezone(&Utc), period.end().with_timezone(&Utc));
    let mut builder = ReportBuilder::new(rules, period, now);
    let mut after_id = 0;
    loop {
        let facts = store.clock_facts(ClockScope::Reported { from, to, after_id, limit: page.max(1) }).await?;
        for f in &facts {
            builder.add(&order_facts(f));
        }
        match facts.last() {
            Some(last) if facts.len() as i64 >= page.max(1) => after_id = last.order_id,
            _ => break,
        }
    }
    let parcels: Vec<ParcelFacts> = store
        .unmatched_parcels()
        .await?
        .into_iter()
        .map(|p| ParcelFacts {
            waybill: p.waybill,
            scanned_at: shanghai(p.scanned_at),
            operator: p.operator,
            desk: p.desk,
        })
        .collect();
    Ok(builder.finish(&parcels))
}

/// A report written to a file.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub path: PathBuf,
    pub bytes: usize,
    #[serde(skip)]
    pub report: PeriodReport,
}

/// Writes `report` to `path` in the form its extension names, through a temporary file beside it and
/// a rename, so a reader never sees half a workbook.
pub fn write(report: PeriodReport, path: &Path) -> Result<Written, OpsError> {
    let form = FileForm::of_path(path).map_err(OpsError::Invalid)?;
    let bytes = form.render(&report).map_err(OpsError::Invalid)?;
    let io = |e: std::io::Error| OpsError::Invalid(format!("无法写入 {}：{e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, &bytes).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        io(e)
    })?;
    Ok(Written { path: path.to_path_buf(), bytes: bytes.len(), report })
}

/// Where the workbook of `period` goes in the export folder.
pub fn export_path(dir: &Path, period: Period) -> PathBuf {
    dir.join(format!("{}.{}", period.file_stem(), FileForm::Xlsx.extension()))
}

/// Builds the workbook of `period` into the export folder `dir` (the board's key; the worker's weekly
/// run), replacing one written before.
pub async fn export(
    store: &dyn Store,
    rules: &ClockRules,
    period: Period,
    now: DateTime<FixedOffset>,
    dir: &Path,
) -> Result<Written, OpsError> {
    let report = build(store, rules, period, now).await?;
    write(report, &export_path(dir, period))
}

/// Last full week's workbook (Monday to Sunday before this week, Beijing time) into the export folder:
/// the board's key.
pub async fn export_last_week(services: &crate::services::Services) -> Result<Written, OpsError> {
    let rules = services.clock_rules().map_err(OpsError::Invalid)?;
    let now = services.clock.now_local();
    let period = Period::last_full_week(now.date_naive());
    export(services.store(), &rules, period, now, &services.reports.dir).await
}

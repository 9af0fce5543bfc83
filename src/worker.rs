//! keydesk's background work: the durable queues, run in passes: the print queue (a document waiting
//! for a printer goes out when the printer is back) and the member notice outbox (a notice waiting
//! for its provider goes out when the provider is back). `keydesk worker` runs the passes in a process
//! of its own (one per site, under systemd); each desk runs the same loop too, so a lone desk still
//! prints. Several workers and desks may run at once: each job is leased before it is done (see
//! `ops::print`), so none is done twice while its lease holds.
//!
//! `keydesk worker` alone (not the desks) also asks SF about the parcels on their way (`ops::routes`,
//! with back-off per waybill), completes delivered orders the member did not confirm
//! (`ops::delivery`), and writes the manager's weekly report when `report.weekly` says (e.g. every
//! Monday 08:30, last week's workbook into `report.export_dir`): once that week's file is there it is
//! not written again, so a worker that was down at the time writes it when it runs next, and two
//! workers at once only write the same file twice.
use std::time::Duration;

use serde::Serialize;

use crate::ops::print::RunReport;
use crate::ops::report::export_path;
use crate::ops::{self, OpsError};
use crate::outbound::printer::RetryPolicy;
use crate::services::Services;
use crate::store::PrintQueueStatus;

/// How often a worker or a desk runs a pass.
pub const PASS_INTERVAL: Duration = Duration::from_secs(5);

/// After a weekly report failed, how long the worker waits before it tries again.
pub const WEEKLY_RETRY: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// What one pass did, and how the queues stand after it.
#[derive(Debug, Clone, Serialize)]
pub struct Pass {
    pub print: RunReport,
    /// The print queue: waiting, failed, and printed since the start of today (Beijing time).
    pub print_queue: PrintQueueStatus,
    /// The member notice outbox.
    pub notices: ops::notify::NoticeRun,
    /// The weekly report, when this pass wrote it or tried to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weekly_report: Option<WeeklyReport>,
    /// Delivered orders the member did not confirm, completed by this pass (`keydesk worker` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auto_completed: Vec<crate::domain::OrderNo>,
    /// SF's route query for the tracked waybills (`keydesk worker` only, with the SF courier).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routes: Option<ops::routes::PollRun>,
}

/// The weekly report a pass wrote, or why it could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum WeeklyReport {
    Written { path: std::path::PathBuf, first: chrono::NaiveDate, last: chrono::NaiveDate, late: usize },
    Failed { first: chrono::NaiveDate, last: chrono::NaiveDate, message: String },
}

/// What `keydesk worker` remembers between passes: when the weekly report last failed, and when
/// each tracked waybill is next asked of SF (its back-off).
#[derive(Debug, Clone, Default)]
pub struct WorkerState {
    failed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub polls: ops::routes::PollState,
}

/// One pass over the queues.
pub async fn run_pass(services: &Services, policy: &RetryPolicy) -> Result<Pass, OpsError> {
    let today = services.clock.now_local().date_naive();
    let since = crate::sla::working_time::shanghai_instant(today, 0).with_timezone(&chrono::Utc);
    let (print, print_queue) =
        ops::print::run_and_report(services.store(), &services.printers, policy, since, &services.clock).await?;
    let notices = ops::notify::run_due(services.store(), &services.notify, &services.clock).await?;
    Ok(Pass { print, print_queue, notices, weekly_report: None, auto_completed: Vec::new(), routes: None })
}

/// One pass of `keydesk worker`: SF's routes for the tracked waybills and the delivered orders due to
/// complete by themselves (`routes.auto_complete_days`), then the print queue and the notices, then
/// the weekly report when it is due.
pub async fn run_worker_pass(
    services: &Services,
    policy: &RetryPolicy,
    state: &mut WorkerState,
) -> Result<Pass, OpsError> {
    // The routes and completions first: the notices they write go out in this pass's outbox run.
    let routes = match &services.courier {
        Ok(courier) => Some(ops::routes::poll_due(services.store(), courier, &mut state.polls, &services.clock).await?),
        Err(_) => None,
    };
    let auto_completed = match services.auto_complete_after {
        Some(after) => ops::delivery::auto_complete_due(services.store(), after, &services.clock).await?,
        None => Vec::new(),
    };
    let mut pass = run_pass(services, policy).await?;
    pass.routes = routes.filter(|run| run.asked > 0);
    pass.auto_completed = auto_completed;
    pass.weekly_report = weekly_report(services, state).await;
    Ok(pass)
}

/// Writes the week that `report.weekly` makes due, unless its file is there already (or it failed
/// less than [`WEEKLY_RETRY`] ago).
pub async fn weekly_report(services: &Services, state: &mut WorkerState) -> Option<WeeklyReport> {
    let schedule = services.reports.weekly?;
    let now = services.clock.now();
    if state.failed_at.is_some_and(|at| now - at < WEEKLY_RETRY) {
        return None;
    }
    let period = schedule.due_period(services.clock.now_local());
    if export_path(&services.reports.dir, period).exists() {
        return None;
    }
    let written = async {
        let rules = services.clock_rules().map_err(OpsError::Invalid)?;
        ops::report::export(services.store(), &rules, period, services.clock.now_local(), &services.reports.dir).await
    }
    .await;
    Some(match written {
        Ok(w) => {
            state.failed_at = None;
            tracing::info!(path = %w.path.display(), "weekly report written");
            WeeklyReport::Written { path: w.path, first: period.first, last: period.last, late: w.report.late.len() }
        }
        Err(e) => {
            state.failed_at = Some(now);
            tracing::warn!(error = %e, "weekly report failed; trying again later");
            WeeklyReport::Failed { first: period.first, last: period.last, message: e.to_string() }
        }
    })
}

/// Runs a pass every `interval`, handing each result to `on_pass`, until `on_pass` returns false.
/// A pass that fails (the database is down) is reported and the next one tries again.
pub async fn run(services: &Services, interval: Duration, mut on_pass: impl FnMut(Result<Pass, OpsError>) -> bool) {
    let policy = RetryPolicy::default();
    loop {
        if !on_pass(run_pass(services, &policy).await) {
            return;
        }
        tokio::time::sleep(interval).await;
    }
}

/// [`run`] for `keydesk worker`: each pass is [`run_worker_pass`].
pub async fn run_worker(
    services: &Services,
    interval: Duration,
    mut on_pass: impl FnMut(Result<Pass, OpsError>) -> bool,
) {
    let (policy, mut weekly) = (RetryPolicy::default(), WorkerState::default());
    loop {
        if !on_pass(run_worker_pass(services, &policy, &mut weekly).await) {
            return;
        }
        tokio::time::sleep(interval).await;
    }
}

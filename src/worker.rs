//! keydesk's background work: the durable queues, run in passes. Today that is the print queue (a
//! document waiting for a printer goes out when the printer is back); the member notice outbox and
//! courier polling join it as passes of their own. `keydesk worker` runs the passes in a process of
//! its own (one per site, under systemd); each desk runs the same loop too, so a lone desk still
//! prints. Several workers and desks may run at once: each job is leased before it is done (see
//! `ops::print`), so none is done twice while its lease holds.

use std::time::Duration;

use serde::Serialize;

use crate::ops::print::RunReport;
use crate::ops::{self, OpsError};
use crate::outbound::printer::RetryPolicy;
use crate::services::Services;
use crate::store::PrintQueueStatus;

/// How often a worker or a desk runs a pass.
pub const PASS_INTERVAL: Duration = Duration::from_secs(5);

/// What one pass did, and how the queues stand after it.
#[derive(Debug, Clone, Serialize)]
pub struct Pass {
    pub print: RunReport,
    /// The print queue: waiting, failed, and printed since the start of today (Beijing time).
    pub print_queue: PrintQueueStatus,
}

/// One pass over the queues.
pub async fn run_pass(services: &Services, policy: &RetryPolicy) -> Result<Pass, OpsError> {
    let today = services.clock.now_local().date_naive();
    let since = crate::sla::working_time::shanghai_instant(today, 0).with_timezone(&chrono::Utc);
    let (print, print_queue) =
        ops::print::run_and_report(services.store(), &services.printers, policy, since, &services.clock).await?;
    Ok(Pass { print, print_queue })
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

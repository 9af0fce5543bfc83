//! The composition root: turns the settings into the one [`Services`] of this process.

use std::sync::Arc;

use super::config::Config;
use crate::clock::Clock;
use crate::services::{DocumentSettings, ReportExport, ServiceParts, Services, TokenAccess};
use crate::store::Store;
use crate::token::worker::WorkerProgram;

/// Builds every adapter once from `config`, over an open store.
pub fn build(config: &Config, store: Arc<dyn Store>, clock: Clock) -> Services {
    let ca: Arc<dyn crate::ca::CertificateAuthority> = match crate::ca::from_settings(&config.ca) {
        Ok(ca) => Arc::from(ca),
        Err(e) => Arc::new(crate::ca::UnavailableCa(e.to_string())),
    };
    Services::new(ServiceParts {
        store,
        clock,
        ca,
        printers: crate::outbound::printer::printers_from_settings(&config.printer),
        courier: crate::outbound::courier::courier_from_settings(&config.courier)
            .map(Arc::from)
            .map_err(|e| e.to_string()),
        documents: DocumentSettings { label: config.label.clone(), invoice: config.invoice.clone() },
        font: config.font.clone(),
        clock_rules: crate::sla::ClockRules::load(&config.sla).map(Arc::new).map_err(|e| e.to_string()),
        renewal_rules: config.renewal.clone(),
        token: TokenAccess { settings: config.token.clone(), worker: WorkerProgram::current_exe() },
        // The schedule was checked when the configuration was read.
        reports: ReportExport { dir: config.report_dir(), weekly: config.report.schedule().ok().flatten() },
        notify: Arc::new(crate::outbound::notify::Senders::from_settings(&config.notify)),
        auto_complete_after: config.routes.auto_complete_after(),
        lost_after_working_days: config.routes.lost_after_working_days,
    })
}

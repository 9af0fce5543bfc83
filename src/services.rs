//! Everything a use case may need, built once per process by the composition root (`cli::services`)
//! and handed to whichever face runs (desk, member endpoint, worker, one-shot commands): the store,
//! the clock, the CA, the printers, the courier, the documents' font and settings, the SLA clock
//! rules, the renewal rules, the way to reach a token and where reports go. Use cases take what they need from here,
//! never the configuration.
//!
//! Parts that can fail to build (a CA key that is missing, a calendar file with a mistake, a font that
//! cannot be read) do not stop the process: each is kept as the reason it is unavailable, reported
//! by the use case that needs it. The font is read on first use (it is large and most commands never
//! draw a page).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::ca::CertificateAuthority;
use crate::clock::Clock;
use crate::docs::{DocFont, FontSettings, InvoiceSettings, LabelSettings};
use crate::domain::renewal::RenewalRules;
use crate::outbound::courier::Courier;
use crate::outbound::printer::Printers;
use crate::sla::ClockRules;
use crate::store::Store;
use crate::token::worker::WorkerProgram;
use crate::token::TokenSettings;

/// A part of [`Services`] that could not be built, with the reason (shown to staff).
pub type Built<T> = Result<T, String>;

/// How the desk reaches a member's key: the PKCS#11 modules, the worker program and its time limit.
#[derive(Debug, Clone)]
pub struct TokenAccess {
    pub settings: TokenSettings,
    /// The program that runs token work (`keydesk token-worker`).
    pub worker: WorkerProgram,
}

impl TokenAccess {
    /// The module for the key in the reader (see [`TokenSettings::choose_module`]).
    pub fn module(&self, explicit: Option<String>) -> String {
        self.settings.choose_module(explicit)
    }

    pub fn worker_timeout(&self) -> Duration {
        self.settings.worker_timeout()
    }
}

/// Where the manager's report is written (the board's key, the worker's weekly run), and when.
#[derive(Debug, Clone, Default)]
pub struct ReportExport {
    pub dir: std::path::PathBuf,
    /// When `keydesk worker` writes last week's report; `None`: never.
    pub weekly: Option<crate::report::WeeklySchedule>,
}

/// The settings of the two documents the desk draws.
#[derive(Debug, Clone, Default)]
pub struct DocumentSettings {
    pub label: LabelSettings,
    pub invoice: InvoiceSettings,
}

pub struct Services {
    pub store: Arc<dyn Store>,
    pub clock: Clock,
    /// The configured CA; one that says why it is unavailable when it could not be built.
    pub ca: Arc<dyn CertificateAuthority>,
    pub printers: Printers,
    pub courier: Built<Arc<dyn Courier>>,
    pub documents: DocumentSettings,
    pub clock_rules: Built<Arc<ClockRules>>,
    pub renewal_rules: RenewalRules,
    pub token: TokenAccess,
    pub reports: ReportExport,
    /// The member notice channels (`[notify]`), each built only when it is on.
    pub notify: Arc<crate::outbound::notify::Senders>,
    pub auto_complete_after: Option<chrono::TimeDelta>,
    pub lost_after_working_days: u32,
    font_settings: FontSettings,
    font: OnceLock<Built<Arc<DocFont>>>,
}

/// The parts [`Services::new`] is built from.
pub struct ServiceParts {
    pub store: Arc<dyn Store>,
    pub clock: Clock,
    pub ca: Arc<dyn CertificateAuthority>,
    pub printers: Printers,
    pub courier: Built<Arc<dyn Courier>>,
    pub documents: DocumentSettings,
    pub font: FontSettings,
    pub clock_rules: Built<Arc<ClockRules>>,
    pub renewal_rules: RenewalRules,
    pub token: TokenAccess,
    pub reports: ReportExport,
    pub notify: Arc<crate::outbound::notify::Senders>,
    /// How long after SF's delivery an unconfirmed order completes by itself; `None`: never.
    pub auto_complete_after: Option<chrono::TimeDelta>,
    /// Working days after SF's delivery that an unscanned inbound parcel counts as lost.
    pub lost_after_working_days: u32,
}

impl Services {
    pub fn new(parts: ServiceParts) -> Services {
        Services {
            store: parts.store,
            clock: parts.clock,
            ca: parts.ca,
            printers: parts.printers,
            courier: parts.courier,
            documents: parts.documents,
            clock_rules: parts.clock_rules,
            renewal_rules: parts.renewal_rules,
            token: parts.token,
            reports: parts.reports,
            notify: parts.notify,
            auto_complete_after: parts.auto_complete_after,
            lost_after_working_days: parts.lost_after_working_days,
            font_settings: parts.font,
            font: OnceLock::new(),
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The documents' font, read the first time a page is drawn.
    pub fn font(&self) -> Built<Arc<DocFont>> {
        self.font
            .get_or_init(|| DocFont::load(&self.font_settings).map(Arc::new).map_err(|e| format!("字体无法加载：{e}")))
            .clone()
    }

    /// The SLA clock rules (calendar, policies), or why they could not be read.
    pub fn clock_rules(&self) -> Built<Arc<ClockRules>> {
        self.clock_rules.clone()
    }
}

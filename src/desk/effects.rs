//! The effects runner: does the desk's background work (database, token, CA, printer, courier) on
//! tokio tasks and reports back as messages, so no key press ever waits for I/O. A print worker runs
//! the durable print queue every few seconds. A watcher pings the
//! database each second and passes on other desks' changes (LISTEN/NOTIFY on PostgreSQL, polling the
//! audit log on SQLite).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::domain::OrderNo;
use crate::sla::board::BoardWindow;
use crate::ops::{self, OpsError};
use crate::clock::Clock;
use crate::store::{Actor, Store, StoreError};

use super::app::{Effect, Msg, OrderDetail, WorkError};

/// How often the watcher looks for other desks' changes and for the database.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);
/// The most clocks the board keeps (the screen draws only the rows that fit).
pub const BOARD_LIMIT: usize = 20_000;
/// How often the desk runs the print queue.
pub const PRINT_INTERVAL: Duration = Duration::from_secs(5);
/// Days in the board's chart.
pub const TREND_DAYS: u32 = 14;

#[derive(Clone)]
pub struct Runner {
    store: Arc<dyn Store>,
    tx: UnboundedSender<Msg>,
    config: Arc<crate::config::Config>,
    worker: crate::token::worker::WorkerProgram,
    clock: Clock,
}

fn text(e: OpsError) -> String {
    e.to_string()
}

fn work_error(e: OpsError) -> WorkError {
    WorkError { unavailable: matches!(e, OpsError::Store(StoreError::Unavailable(_))), message: e.to_string() }
}

impl Runner {
    pub fn new(store: Arc<dyn Store>, tx: UnboundedSender<Msg>, config: Arc<crate::config::Config>, clock: Clock) -> Runner {
        Runner { store, tx, config, worker: crate::token::worker::WorkerProgram::current_exe(), clock }
    }

    /// The program that runs token work (`keydesk token-worker`); tests point it at the built binary.
    pub fn with_worker(mut self, worker: crate::token::worker::WorkerProgram) -> Runner {
        self.worker = worker;
        self
    }

    /// Starts one effect in the background.
    pub fn run(&self, effect: Effect, operator: Option<&str>) {
        let this = self.clone();
        let actor = Actor { operator: operator.unwrap_or("").to_string(), desk: self.config.desk.name.clone() };
        tokio::spawn(async move {
            let msg = this.work(effect, actor).await;
            if let Some(msg) = msg {
                let _ = this.tx.send(msg);
            }
        });
    }

    async fn work(&self, effect: Effect, actor: Actor) -> Option<Msg> {
        let s = self.store.as_ref();
        Some(match effect {
            Effect::Quit => return None,
            Effect::SignIn { name, secret } => {
                let result = ops::operators::sign_in(s, &name, &secret).await.map(|o| o.name).map_err(text);
                drop(secret);
                Msg::SignedIn(result)
            }
            Effect::Intake { scan } => {
                let result = ops::intake::intake(s, &scan, &actor, &self.clock).await.map_err(work_error);
                Msg::IntakeDone { scan, result }
            }
            Effect::LoadOrder { order_no } => Msg::OrderLoaded(load_detail(s, &order_no).await.map_err(text)),
            Effect::Search { text: q } => Msg::SearchDone(s.search_orders(&q, 200).await.map_err(|e| e.to_string())),
            Effect::LoadUnmatched => Msg::UnmatchedLoaded(s.unmatched_parcels().await.map_err(|e| e.to_string())),
            Effect::LoadBoard => {
                // The calendar is read again on each load, so a corrected year re-evaluates the board.
                let result = async {
                    let rules = crate::sla::ClockRules::load(&self.config.sla)?;
                    ops::sla::board(s, &rules, self.clock.now_local(), BoardWindow::first(BOARD_LIMIT)).await
                }
                .await;
                Msg::BoardLoaded(result.map_err(text))
            }
            Effect::LoadTrend => {
                let result = async {
                    let rules = crate::sla::ClockRules::load(&self.config.sla)?;
                    ops::sla::trend(s, &rules, self.clock.now_local(), TREND_DAYS).await
                }
                .await;
                Msg::TrendLoaded(result.map_err(text))
            }
            Effect::Change { order_no, change, reason } => {
                let result = async {
                    let no = OrderNo::parse(&order_no).map_err(|e| OpsError::Invalid(e.to_string()))?;
                    ops::change::change_order(s, &no, &change, &reason, &actor, &self.clock).await?;
                    load_detail(s, &order_no).await
                }
                .await;
                Msg::ChangeDone(result.map_err(text))
            }
            Effect::Ship { order_no, waybill } => {
                let result = async {
                    let no = OrderNo::parse(&order_no).map_err(|e| OpsError::Invalid(e.to_string()))?;
                    ops::book::ship_with_courier(s, &self.config, &no, Some(&waybill), &actor, &self.clock).await?;
                    load_detail(s, &order_no).await
                }
                .await;
                Msg::ChangeDone(result.map_err(text))
            }
            Effect::Renew { order_no, pin } => {
                // The renewal's step callbacks are not Sync, so it runs on a blocking thread of its own.
                let this = self.clone();
                let handle = tokio::runtime::Handle::current();
                let done = tokio::task::spawn_blocking(move || handle.block_on(this.renew(&order_no, pin, &actor))).await;
                Msg::RenewDone(done.unwrap_or_else(|e| Err(format!("续签任务异常结束：{e}；重新续签即可继续"))))
            }
            Effect::Abandon { order_no, reason, pin } => {
                let result = async {
                    let message = self.abandon(&order_no, &reason, pin, &actor).await?;
                    Ok::<_, String>((message, load_detail(s, &order_no).await.map_err(text)?))
                }
                .await;
                Msg::AbandonDone(result)
            }
            Effect::Print { order_no } => {
                let result = async {
                    let no = OrderNo::parse(&order_no).map_err(|e| OpsError::Invalid(e.to_string()))?;
                    let order = s.order_by_no(&no).await?.ok_or_else(|| OpsError::OrderNotFound(order_no.clone()))?;
                    let done = ops::print::print_label_and_invoice(s, &self.config, &order, &actor, &self.clock).await?;
                    Ok::<_, OpsError>(format!("面单：{}；发票：{}", done.label, done.invoice))
                }
                .await;
                Msg::Printed(result.map_err(text))
            }
            Effect::Identify { reader, atr, module } => {
                let timeout = crate::token::commands::worker_timeout(&self.config);
                let result = crate::token::identify::identify(s, &self.worker, &module, timeout, &reader).await;
                Msg::KeyIdentified { reader, atr, result }
            }
            Effect::Reveal { order_no } => {
                let result = async {
                    let no = OrderNo::parse(&order_no).map_err(|e| OpsError::Invalid(e.to_string()))?;
                    let order = s.order_by_no(&no).await?.ok_or_else(|| OpsError::OrderNotFound(order_no.clone()))?;
                    s.note(Some(order.id), "reveal", "显示完整个人信息", &actor, self.clock.now()).await?;
                    Ok::<(), OpsError>(())
                }
                .await;
                Msg::Revealed(result.map_err(text))
            }
        })
    }

    /// The configured CA, or one that says why it is unavailable when asked to issue.
    fn ca(&self) -> Box<dyn crate::ca::CertificateAuthority> {
        crate::ca::from_settings(&self.config.ca).unwrap_or_else(|e| Box::new(crate::ca::UnavailableCa(e.to_string())))
    }

    fn renew_context<'a>(&'a self, ca: &'a dyn crate::ca::CertificateAuthority) -> crate::ops::renew::RenewContext<'a> {
        crate::ops::renew::RenewContext {
            module: crate::token::commands::choose_module(&self.config, None),
            worker: self.worker.clone(),
            worker_timeout: crate::token::commands::worker_timeout(&self.config),
            ca,
            rules: &self.config.renewal,
            clock: &self.clock,
        }
    }

    /// Runs the journaled renewal (the same code as `keydesk renew`), reporting each step as it ends.
    async fn renew(&self, order_no: &str, pin: super::app::Pin, actor: &Actor) -> Result<String, String> {
        use crate::ops::renew::{renew, RenewResult, StepReport};
        let no = OrderNo::parse(order_no).map_err(|e| e.to_string())?;
        let ca = self.ca();
        let ctx = self.renew_context(ca.as_ref());
        let mut pin_source = pin_once(pin);
        let tx = self.tx.clone();
        let mut on_step = move |s: &StepReport| {
            let _ = tx.send(Msg::RenewStep(s.clone()));
        };
        let outcome = renew(self.store.as_ref(), &ctx, &no, &mut pin_source, actor, &mut on_step).await.map_err(|e| e.with_advice())?;
        let validity = |c: &crate::ops::renew::CertSummary| {
            format!("{} 至 {}", crate::ops::intake::local(c.not_before), crate::ops::intake::local(c.not_after))
        };
        Ok(match outcome.result {
            RenewResult::AlreadyRenewed => format!("此前已续签：新证书 {}（{}）", outcome.new.serial, validity(&outcome.new)),
            RenewResult::Renewed => format!("续签完成：原证书到期 {} → 新证书 {}（{}）", crate::ops::intake::local(outcome.old.not_after), outcome.new.serial, validity(&outcome.new)),
        })
    }

    /// 放弃续签 through the same code as `keydesk renew --abandon`; says what was done.
    async fn abandon(&self, order_no: &str, reason: &str, pin: super::app::Pin, actor: &Actor) -> Result<String, String> {
        use crate::ops::renew::abandon;
        let no = OrderNo::parse(order_no).map_err(|e| e.to_string())?;
        let ca = self.ca();
        let ctx = self.renew_context(ca.as_ref());
        let mut pin_source = pin_once(pin);
        let outcome = abandon(self.store.as_ref(), &ctx, &no, reason, false, &mut pin_source, actor).await.map_err(|e| e.with_advice())?;
        let unused = outcome.unused_certificate.map(|c| format!("；CA 已签发未使用的证书 {} 已记录，请在 CA 处吊销", c.serial)).unwrap_or_default();
        Ok(format!("已放弃续签（任务 {}），订单回到「已收件」：{}{unused}", outcome.job_id, outcome.key_cleanup))
    }

    /// Runs the print queue in the background every [`PRINT_INTERVAL`]: jobs that waited for a printer
    /// (off, out of paper, busy) go out when it is back, with the queue's back-off; each run reports
    /// how the queue stands. Several desks may do this at once (a job is claimed before it is sent).
    pub fn print_worker(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let printers = ops::print::printers_from_settings(&this.config.printer);
            let policy = crate::outbound::printer::RetryPolicy::default();
            loop {
                let today = this.clock.now_local().date_naive();
                let since = crate::sla::working_time::shanghai_instant(today, 0).with_timezone(&chrono::Utc);
                let result = ops::print::run_and_report(this.store.as_ref(), &printers, &policy, since, &this.clock).await;
                if this.tx.send(Msg::PrintQueue(result.map(|(_, status)| status).map_err(text))).is_err() {
                    return;
                }
                tokio::time::sleep(PRINT_INTERVAL).await;
            }
        });
    }

    /// Watches the database: up or down (a ping each second), and other desks' changes — pushed by
    /// PostgreSQL (LISTEN/NOTIFY), or noticed by polling the audit log on SQLite.
    pub fn watch(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let pushed = match this.store.change_feed().await {
                Ok(Some(mut feed)) => {
                    let tx = this.tx.clone();
                    tokio::spawn(async move {
                        while feed.recv().await.is_some() {
                            if tx.send(Msg::ExternalChange).is_err() {
                                return;
                            }
                        }
                    });
                    true
                }
                Ok(None) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "change feed unavailable; polling the audit log instead");
                    false
                }
            };
            let mut last_seen: Option<i64> = None;
            let mut was_up = true;
            loop {
                tokio::time::sleep(WATCH_INTERVAL).await;
                match this.store.last_audit_id().await {
                    Ok(id) => {
                        if !was_up {
                            was_up = true;
                            if this.tx.send(Msg::Database { up: true, detail: String::new() }).is_err() {
                                return;
                            }
                        }
                        let moved = last_seen.is_some_and(|seen| seen != id);
                        if moved && !pushed && this.tx.send(Msg::ExternalChange).is_err() {
                            return;
                        }
                        last_seen = Some(id);
                    }
                    Err(e) => {
                        was_up = false;
                        if this.tx.send(Msg::Database { up: false, detail: e.to_string() }).is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

/// The PIN typed at the desk, handed over once.
fn pin_once(pin: super::app::Pin) -> impl FnMut() -> Result<zeroize::Zeroizing<String>, String> + Send {
    let mut pin = Some(pin);
    move || pin.take().map(|p| p.0).ok_or_else(|| "PIN 只能使用一次，请重新输入".to_string())
}

async fn load_detail(s: &dyn Store, order_no: &str) -> Result<OrderDetail, OpsError> {
    let no = OrderNo::parse(order_no).map_err(|e| OpsError::Invalid(e.to_string()))?;
    let order = s.order_by_no(&no).await?.ok_or_else(|| OpsError::OrderNotFound(order_no.to_string()))?;
    let receipts = s.receipts_for_order(order.id).await?;
    let audit = s.audit_for_order(order.id).await?;
    let prints = s.print_jobs_for_order(order.id).await?;
    Ok(OrderDetail { order, receipts, audit, prints })
}

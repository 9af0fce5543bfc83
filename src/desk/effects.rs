//! The effects runner: does the desk's background work (database, token, CA, printer, courier) on
//! tokio tasks and reports back as messages, so no key press ever waits for I/O. A print worker runs
//! the background passes of `crate::worker` (the print queue). A watcher pings the
//! database each second and passes on other desks' changes (LISTEN/NOTIFY on PostgreSQL, polling the
//! audit log on SQLite).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use crate::domain::OrderNo;
use crate::ops::{self, OpsError};
use crate::services::Services;
use crate::sla::board::BoardWindow;
use crate::store::{Actor, StoreError};

use super::app::{Effect, Msg, OrderDetail, WorkError};

/// How often the watcher looks for other desks' changes and for the database.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);
/// The most clocks the board keeps (the screen draws only the rows that fit).
pub const BOARD_LIMIT: usize = 20_000;
/// Days in the board's chart.
pub const TREND_DAYS: u32 = 14;

#[derive(Clone)]
pub struct Runner {
    services: Arc<Services>,
    tx: UnboundedSender<Msg>,
    /// This desk's name in the audit log.
    desk: String,
}

fn text(e: OpsError) -> String {
    e.to_string()
}

fn work_error(e: OpsError) -> WorkError {
    WorkError { unavailable: matches!(e, OpsError::Store(StoreError::Unavailable(_))), message: e.to_string() }
}

impl Runner {
    pub fn new(services: Arc<Services>, tx: UnboundedSender<Msg>, desk: &str) -> Runner {
        Runner { services, tx, desk: desk.to_string() }
    }

    /// Starts one effect in the background.
    pub fn run(&self, effect: Effect, operator: Option<&str>) {
        let this = self.clone();
        let actor = Actor { operator: operator.unwrap_or("").to_string(), desk: self.desk.clone() };
        tokio::spawn(async move {
            let msg = this.work(effect, actor).await;
            if let Some(msg) = msg {
                let _ = this.tx.send(msg);
            }
        });
    }

    async fn work(&self, effect: Effect, actor: Actor) -> Option<Msg> {
        let s = self.services.store();
        let clock = &self.services.clock;
        Some(match effect {
            Effect::Quit => return None,
            Effect::SignIn { name, secret } => {
                let result = ops::operators::sign_in(s, &name, &secret).await.map(|o| o.name).map_err(text);
                drop(secret);
                Msg::SignedIn(result)
            }
            Effect::Intake { scan } => {
                let result = ops::intake::intake(s, &scan, &actor, clock).await.map_err(work_error);
                Msg::IntakeDone { scan, result }
            }
            Effect::ScanOnOrder { order_no, scan } => {
                match ops::ship::ship_or_intake(s, &order_no, &scan, &actor, clock).await {
                    Ok(ops::ship::ScanOnOrder::Shipped) => {
                        Msg::Shipped(load_detail(&self.services, &order_no).await.map_err(text))
                    }
                    Ok(ops::ship::ScanOnOrder::Parcel(outcome)) => Msg::IntakeDone { scan, result: Ok(outcome) },
                    Err(e) => Msg::Shipped(Err(e.to_string())),
                }
            }
            Effect::LoadOrder { order_no } => {
                Msg::OrderLoaded(load_detail(&self.services, &order_no).await.map_err(text))
            }
            Effect::LoadClocks { order_nos } => {
                let result = async {
                    let mut clocks = Vec::new();
                    for no in order_nos {
                        let detail = load_detail(&self.services, &no).await?;
                        clocks.push((no, detail.clocks));
                    }
                    Ok::<_, OpsError>(clocks)
                }
                .await;
                Msg::ClocksLoaded(result.map_err(text))
            }
            Effect::Search { text: q } => Msg::SearchDone(ops::orders::search(s, &q, 200).await.map_err(text)),
            Effect::LoadUnmatched => Msg::UnmatchedLoaded(ops::orders::unmatched(s).await.map_err(text)),
            Effect::LoadBoard => {
                let result = async {
                    let rules = self.services.clock_rules().map_err(OpsError::Invalid)?;
                    ops::sla::board(s, &rules, clock.now_local(), BoardWindow::first(BOARD_LIMIT)).await
                }
                .await;
                Msg::BoardLoaded(result.map_err(text))
            }
            Effect::LoadArrivals => {
                let result = async {
                    let rules = self.services.clock_rules().map_err(OpsError::Invalid)?;
                    let lost_after = self.services.lost_after_working_days;
                    ops::routes::arrivals(s, &rules, clock.now_local(), lost_after).await
                }
                .await;
                Msg::ArrivalsLoaded(result.map_err(text))
            }
            Effect::LoadTrend => {
                let result = async {
                    let rules = self.services.clock_rules().map_err(OpsError::Invalid)?;
                    ops::sla::trend(s, &rules, clock.now_local(), TREND_DAYS).await
                }
                .await;
                Msg::TrendLoaded(result.map_err(text))
            }
            Effect::Change { order_no, change, reason } => {
                let result = async {
                    ops::change::change_order(s, &order_no, &change, &reason, &actor, clock).await?;
                    load_detail(&self.services, &order_no).await
                }
                .await;
                Msg::ChangeDone(result.map_err(text))
            }
            Effect::Ship { order_no, waybill } => {
                let result = async {
                    ops::book::ship_with_courier(&self.services, &order_no, Some(&waybill), &actor).await?;
                    load_detail(&self.services, &order_no).await
                }
                .await;
                Msg::Shipped(result.map_err(text))
            }
            Effect::Renew { order_no, pin } => {
                // The renewal's step callbacks are not Sync, so it runs on a blocking thread of its own.
                let this = self.clone();
                let handle = tokio::runtime::Handle::current();
                let no = order_no.clone();
                let done = tokio::task::spawn_blocking(move || handle.block_on(this.renew(&no, pin, &actor))).await;
                let result = done.unwrap_or_else(|e| Err(format!("续签任务异常结束：{e}；重新续签即可继续")));
                Msg::RenewDone { order_no, result }
            }
            Effect::Abandon { order_no, reason, pin } => {
                let result = async {
                    let message = self.abandon(&order_no, &reason, pin, &actor).await?;
                    Ok::<_, String>((message, load_detail(&self.services, &order_no).await.map_err(text)?))
                }
                .await;
                Msg::AbandonDone(result)
            }
            Effect::Print { order_no } => {
                let result = async {
                    let order = ops::orders::order(s, &order_no).await?;
                    let done = ops::print::print_label_and_invoice(&self.services, &order, &actor).await?;
                    Ok::<_, OpsError>(format!("面单：{}；发票：{}", done.label, done.invoice))
                }
                .await;
                Msg::Printed(result.map_err(text))
            }
            Effect::ExportReport => Msg::ReportExported(
                ops::report::export_last_week(&self.services)
                    .await
                    .map(|w| {
                        let late = w.report.late.len();
                        // The path first: at 80 columns the print queue's corner cuts what comes last.
                        format!("已写入 {}（上周 {}，逾期 {late} 条）", w.path.display(), w.report.period.label())
                    })
                    .map_err(text),
            ),
            Effect::Identify { reader, atr, module } => {
                let token = &self.services.token;
                let result =
                    crate::ops::identify::identify(s, &token.worker, &module, token.worker_timeout(), &reader).await;
                Msg::KeyIdentified { reader, atr, result }
            }
            Effect::Reveal { order_no } => {
                let result = async { ops::orders::reveal(s, &order_no, &actor, clock).await }.await;
                Msg::Revealed(result.map_err(text))
            }
        })
    }

    fn renew_context(&self) -> crate::ops::renew::RenewContext<'_> {
        crate::ops::renew::RenewContext::new(&self.services, None)
    }

    /// Runs the journaled renewal (the same code as `keydesk renew`), reporting each step as it ends.
    async fn renew(&self, no: &OrderNo, pin: super::app::Pin, actor: &Actor) -> Result<String, String> {
        use crate::ops::renew::{renew, RenewResult, StepReport};
        let ctx = self.renew_context();
        let mut pin_source = pin_once(pin);
        let tx = self.tx.clone();
        let order_no = no.clone();
        let mut on_step = move |s: &StepReport| {
            let _ = tx.send(Msg::RenewStep { order_no: order_no.clone(), step: s.clone() });
        };
        let outcome = renew(self.services.store(), &ctx, no, &mut pin_source, actor, &mut on_step)
            .await
            .map_err(|e| e.with_advice())?;
        let validity = |c: &crate::ops::renew::CertSummary| {
            format!("{} 至 {}", crate::ops::intake::local(c.not_before), crate::ops::intake::local(c.not_after))
        };
        Ok(match outcome.result {
            RenewResult::AlreadyRenewed => {
                format!("此前已续签：新证书 {}（{}）", outcome.new.serial, validity(&outcome.new))
            }
            RenewResult::Renewed => format!(
                "续签完成：原证书到期 {} → 新证书 {}（{}）",
                crate::ops::intake::local(outcome.old.not_after),
                outcome.new.serial,
                validity(&outcome.new)
            ),
        })
    }

    /// 放弃续签 through the same code as `keydesk renew --abandon`; says what was done.
    async fn abandon(&self, no: &OrderNo, reason: &str, pin: super::app::Pin, actor: &Actor) -> Result<String, String> {
        use crate::ops::renew::abandon;
        let ctx = self.renew_context();
        let mut pin_source = pin_once(pin);
        let outcome = abandon(self.services.store(), &ctx, no, reason, false, &mut pin_source, actor)
            .await
            .map_err(|e| e.with_advice())?;
        let unused = outcome
            .unused_certificate
            .map(|c| format!("；CA 已签发未使用的证书 {} 已记录，请在 CA 处吊销", c.serial))
            .unwrap_or_default();
        Ok(format!("已放弃续签（任务 {}），订单回到「已收件」：{}{unused}", outcome.job_id, outcome.key_cleanup))
    }

    /// Runs the background passes (`crate::worker`, the same loop as `keydesk worker`) while the desk
    /// is open, so a lone desk still prints what waited for a printer; each pass reports how the print
    /// queue stands.
    pub fn print_worker(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            crate::worker::run(&this.services, crate::worker::PASS_INTERVAL, |pass| {
                this.tx.send(Msg::PrintQueue(pass.map(|p| p.print_queue).map_err(text))).is_ok()
            })
            .await;
        });
    }

    /// Watches the database: up or down (a ping each second), and other desks' changes — pushed by
    /// PostgreSQL (LISTEN/NOTIFY), or noticed by polling the audit log on SQLite.
    pub fn watch(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let pushed = match this.services.store.change_feed().await {
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
                match this.services.store.last_audit_id().await {
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

/// The order with its clocks (without them when the calendar could not be read: the board says why).
async fn load_detail(services: &Services, no: &OrderNo) -> Result<OrderDetail, OpsError> {
    match services.clock_rules() {
        Ok(rules) => ops::orders::detail_at(services.store(), &rules, no, services.clock.now_local()).await,
        Err(_) => ops::orders::detail(services.store(), no).await,
    }
}

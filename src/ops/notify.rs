//! Sending the member notice outbox. Notices are written by the store with the change they announce
//! (see `store::notices`); a pass here takes the due ones, leases each (moving its next attempt past
//! the lease, as the print queue does, so two workers never send one twice while it holds), decides
//! whether it goes out at all (channel off, the member opted out, no phone or address: skipped, with
//! the reason), fills the event's template from the order's facts, sends it on a blocking thread, and
//! records the outcome: sent with the provider's id, retried with back-off (30 s doubling to 30 min)
//! while the provider is down, or failed when refused for good or out of attempts.
//!
//! Delivery is at-least-once only across a crash in the middle of a send (the lease runs out and the
//! notice is due again); otherwise exactly once.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::domain::notice::{member_action, render, Channel, Facts, NoticeKind};
use crate::domain::Order;
use crate::outbound::notify::{SendError, Senders, Template};
use crate::store::{NoticeRecord, NoticeUpdate, Store};

use super::OpsError;

/// How long a claimed notice is reserved for the worker that sends it (well over the send timeouts).
pub const LEASE: TimeDelta = TimeDelta::minutes(2);
/// At most this many notices per pass.
const BATCH: i64 = 200;

/// The wait before attempt `attempts + 1`, after `attempts` failed ones: 30 s doubling, at most 30 min.
pub fn backoff(attempts: i64) -> TimeDelta {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    TimeDelta::seconds((30_i64 << exp).min(30 * 60))
}

/// One notice, filled in for its channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Composed {
    pub subject: String,
    pub body: String,
    pub sms_code: String,
    /// The SMS template's variables, in the template's order.
    pub sms_params: Vec<(String, String)>,
}

impl Composed {
    /// `TemplateParam` as the provider takes it: a JSON object of strings.
    pub fn sms_params_json(&self) -> Value {
        Value::Object(self.sms_params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>())
    }

    /// Every text a member would read (for checks that nothing personal is in it).
    pub fn texts(&self) -> Vec<&str> {
        let mut out = vec![self.subject.as_str(), self.body.as_str()];
        out.extend(self.sms_params.iter().map(|(_, v)| v.as_str()));
        out
    }
}

/// The facts a notice about `order` may carry.
pub fn facts(order: &Order, notice: &NoticeRecord, invoice_no: Option<&str>, link: &str) -> Facts {
    let reason = notice.hold_reason.or(order.hold.as_ref().map(|h| h.reason));
    Facts {
        order_no: order.order_no.to_string(),
        waybill: order.outbound_waybill.as_ref().map(|w| w.to_string()).unwrap_or_default(),
        reason: reason.map(|r| r.label().to_string()).unwrap_or_default(),
        action: reason.and_then(member_action).unwrap_or_default().to_string(),
        invoice_no: invoice_no.unwrap_or_default().to_string(),
        link: link.to_string(),
    }
}

/// Fills one template.
pub fn compose(template: &Template, facts: &Facts) -> Composed {
    Composed {
        subject: render(&template.subject, facts),
        body: render(&template.body, facts),
        sms_code: template.sms_code.clone(),
        sms_params: template
            .sms_params
            .iter()
            .map(|p| (p.clone(), facts.get(p).unwrap_or_default().to_string()))
            .collect(),
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NoticeRun {
    pub sent: usize,
    pub retrying: usize,
    pub skipped: usize,
    /// Notices given up in this pass.
    pub failed: Vec<NoticeRecord>,
}

/// The member's phone as the SMS provider takes it (digits only), if there is one.
fn phone_of(order: &Order) -> Option<String> {
    let digits: String = order.contact_phone.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 11).then_some(digits)
}

/// What to do with one claimed notice.
enum Plan {
    Skip(&'static str),
    Send(Composed, String),
}

async fn plan(store: &dyn Store, senders: &Senders, notice: &NoticeRecord, order: &Order) -> Result<Plan, OpsError> {
    let on = match notice.channel {
        Channel::Sms => senders.sms.is_some(),
        Channel::Email => senders.email.is_some(),
    };
    if !on {
        return Ok(Plan::Skip("渠道未开启"));
    }
    if store.opt_outs(order.id).await?.contains(&notice.channel) {
        return Ok(Plan::Skip("会员已退订"));
    }
    let to = match notice.channel {
        Channel::Sms => phone_of(order),
        Channel::Email => Some(order.invoice.email.trim().to_string()).filter(|e| !e.is_empty()),
    };
    let Some(to) = to else {
        return Ok(Plan::Skip(if notice.channel == Channel::Sms {
            "订单没有手机号"
        } else {
            "订单没有邮箱"
        }));
    };
    let invoice_no = match notice.kind {
        NoticeKind::InvoiceIssued => store.invoice_document(order.id).await?.map(|d| d.number),
        _ => None,
    };
    let facts = facts(order, notice, invoice_no.as_deref(), &senders.settings.member_page_url);
    Ok(Plan::Send(compose(senders.settings.templates.get(notice.kind), &facts), to))
}

fn deliver(
    senders: &Senders,
    channel: Channel,
    to: &str,
    message: &Composed,
    now: DateTime<Utc>,
) -> Result<Option<String>, SendError> {
    match channel {
        Channel::Sms => match &senders.sms {
            // The provider refuses an empty variable; say which one instead of spending an attempt.
            Some(_) if message.sms_params.iter().any(|(_, v)| v.is_empty()) => {
                let empty: Vec<&str> =
                    message.sms_params.iter().filter(|(_, v)| v.is_empty()).map(|(k, _)| k.as_str()).collect();
                Err(SendError::Permanent(format!("短信模板 {} 的参数 {} 没有值", message.sms_code, empty.join("、"))))
            }
            Some(sms) => sms.send(to, &message.sms_code, &message.sms_params_json(), now).map(Some),
            None => Err(SendError::Retryable("短信渠道未开启".into())),
        },
        Channel::Email => match &senders.email {
            Some(Ok(mailer)) => mailer.send(to, &message.subject, &message.body),
            Some(Err(e)) => Err(SendError::Retryable(format!("邮件渠道配置有误：{e}"))),
            None => Err(SendError::Retryable("邮件渠道未开启".into())),
        },
    }
}

/// Sends every notice due now, once each.
pub async fn run_due(store: &dyn Store, senders: &Arc<Senders>, clock: &Clock) -> Result<NoticeRun, OpsError> {
    let now = clock.now();
    let mut run = NoticeRun::default();
    for notice in store.due_notices(now, BATCH).await? {
        if !store.claim_notice(notice.id, now, now + LEASE).await? {
            continue;
        }
        let attempts = notice.attempts + 1;
        let order = store.order_by_id(notice.order_id).await?;
        let outcome = match &order {
            None => Err(SendError::Permanent(format!("订单 id {} 不存在", notice.order_id))),
            Some(order) => match plan(store, senders, &notice, order).await? {
                Plan::Skip(why) => {
                    store.update_notice(notice.id, &NoticeUpdate::Skipped { why: why.into() }).await?;
                    run.skipped += 1;
                    continue;
                }
                Plan::Send(message, to) => {
                    let (senders, channel, at) = (Arc::clone(senders), notice.channel, clock.now());
                    tokio::task::spawn_blocking(move || deliver(&senders, channel, &to, &message, at))
                        .await
                        .unwrap_or_else(|e| Err(SendError::Retryable(format!("send task failed: {e}"))))
                }
            },
        };
        let finished = clock.now();
        let update = match outcome {
            Ok(message_id) => NoticeUpdate::Sent { at: finished, message_id },
            Err(SendError::Retryable(error)) if attempts < i64::from(senders.settings.max_attempts) => {
                NoticeUpdate::Retry { attempts, next_attempt_at: finished + backoff(attempts), error }
            }
            Err(SendError::Retryable(error)) => {
                NoticeUpdate::Failed { attempts, error: format!("重试 {attempts} 次仍未送达：{error}") }
            }
            Err(SendError::Permanent(error)) => NoticeUpdate::Failed { attempts, error },
        };
        store.update_notice(notice.id, &update).await?;
        match update {
            NoticeUpdate::Sent { .. } => run.sent += 1,
            NoticeUpdate::Retry { .. } => run.retrying += 1,
            NoticeUpdate::Failed { attempts, error } => {
                let state = crate::domain::notice::NoticeState::Failed;
                run.failed.push(NoticeRecord { attempts, state, last_error: Some(error), ..notice });
            }
            NoticeUpdate::Skipped { .. } => run.skipped += 1,
        }
    }
    Ok(run)
}

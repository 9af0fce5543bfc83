//! Sending notices to members: SMS through Aliyun's `SendSms` ([`aliyun`]) and e-mail over SMTP
//! ([`smtp`]), their settings (`[notify]`), and the Chinese templates per event with their defaults.
//! Each send reports an outcome the outbox can act on: sent (with the provider's message id), worth
//! trying again later, or refused for good.

pub mod aliyun;
pub mod smtp;

use serde::{Deserialize, Serialize};

use crate::domain::notice::{placeholders, Facts, NoticeKind};
pub use crate::outbound::courier::Secret;

/// Why a send did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The provider could not be reached, timed out, or asked us to slow down: try again later.
    #[error("{0}")]
    Retryable(String),
    /// The provider refused the message for good (bad number, template, signature, credentials).
    #[error("{0}")]
    Permanent(String),
}

/// `[notify]`: the member page's address (for links), the retry limit, both channels and the templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySettings {
    /// The member page's public address, given in notices as `{link}` (e.g. where the invoice is).
    pub member_page_url: String,
    /// Attempts per notice before it is marked failed (back-off 30 s doubling to 30 min between them).
    pub max_attempts: u32,
    pub sms: SmsSettings,
    pub email: EmailSettings,
    pub templates: Templates,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            member_page_url: "https://example.invalid/keydesk/".into(),
            max_attempts: 40,
            sms: SmsSettings::default(),
            email: EmailSettings::default(),
            templates: Templates::default(),
        }
    }
}

/// `[notify.sms]`: Aliyun SMS (`SendSms`, API version 2017-05-25).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsSettings {
    pub enabled: bool,
    /// The API endpoint (Aliyun: `https://dysmsapi.aliyuncs.com/`).
    pub endpoint: String,
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// The registered signature (签名), e.g. 阳光七采.
    pub sign_name: String,
    pub region_id: String,
    pub timeout_secs: u64,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            enabled: false,
            endpoint: "https://dysmsapi.aliyuncs.com/".into(),
            access_key_id: String::new(),
            access_key_secret: Secret::default(),
            sign_name: "阳光七采".into(),
            region_id: "cn-hangzhou".into(),
            timeout_secs: 10,
        }
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain, then STARTTLS, which must succeed (port 587).
    Starttls,
    /// No encryption: only for a relay on loopback or a test server.
    None,
}

/// `[notify.email]`: the SMTP server notices are sent through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailSettings {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// Empty: no authentication.
    pub username: String,
    pub password: Secret,
    /// The sender, e.g. `阳光七采 <notice@example.com>`.
    pub from: String,
    pub timeout_secs: u64,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            enabled: false,
            host: String::new(),
            port: 465,
            security: SmtpSecurity::Tls,
            username: String::new(),
            password: Secret::default(),
            from: String::new(),
            timeout_secs: 10,
        }
    }
}

/// One event's template: the approved SMS template's code and the variables it takes (named after
/// the facts, `${order_no}` in the template registered at the provider), and the e-mail's subject and
/// body with `{placeholders}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub sms_code: String,
    pub sms_params: Vec<String>,
    pub subject: String,
    pub body: String,
}

fn template(sms_code: &str, sms_params: &[&str], subject: &str, body: &str) -> Template {
    Template {
        sms_code: sms_code.into(),
        sms_params: sms_params.iter().map(|p| p.to_string()).collect(),
        subject: subject.into(),
        body: body.into(),
    }
}

/// `[notify.templates.<event>]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Templates {
    pub received: Template,
    pub on_hold: Template,
    pub renewed: Template,
    pub shipped: Template,
    pub invoice_issued: Template,
    pub delivered: Template,
    pub auto_completed: Template,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            received: template(
                "SMS_000000001",
                &["order_no"],
                "已收到您寄回的 KEY（订单 {order_no}）",
                "您好：\n\n您的寄回续签订单 {order_no} 的 KEY 已到达续签服务台，我们将在两个工作日内完成续签并寄回。\n\n查看进度：{link}\n",
            ),
            on_hold: template(
                "SMS_000000002",
                &["order_no", "reason", "action"],
                "订单 {order_no} 需要您处理",
                "您好：\n\n您的寄回续签订单 {order_no} 暂停处理，原因：{reason}。\n请您：{action}。\n\n查看进度：{link}\n",
            ),
            renewed: template(
                "SMS_000000003",
                &["order_no"],
                "订单 {order_no} 的证书已续签",
                "您好：\n\n您的寄回续签订单 {order_no} 的证书已续签完成，KEY 即将寄回。\n\n查看进度：{link}\n",
            ),
            shipped: template(
                "SMS_000000004",
                &["order_no", "waybill"],
                "订单 {order_no} 的 KEY 已寄回（顺丰 {waybill}）",
                "您好：\n\n您的寄回续签订单 {order_no} 的 KEY 已通过顺丰寄回，运单号 {waybill}。\n\n查看进度：{link}\n",
            ),
            invoice_issued: template(
                "SMS_000000005",
                &["order_no", "invoice_no"],
                "订单 {order_no} 的发票已开具",
                "您好：\n\n您的寄回续签订单 {order_no} 的电子发票已开具，发票号码 {invoice_no}。\n请在会员页面下载：{link}\n",
            ),
            delivered: template(
                "SMS_000000006",
                &["order_no", "waybill"],
                "订单 {order_no} 的 KEY 已签收，请确认收货",
                "您好：\n\n顺丰显示您的寄回续签订单 {order_no} 的 KEY 已签收（运单号 {waybill}）。\n请在会员页面确认收货：{link}\n",
            ),
            auto_completed: template(
                "SMS_000000007",
                &["order_no"],
                "订单 {order_no} 已自动确认收货",
                "您好：\n\n您的寄回续签订单 {order_no} 已签收多日，系统已自动确认收货，订单完成。\n\n查看订单：{link}\n",
            ),
        }
    }
}

impl Templates {
    pub fn get(&self, kind: NoticeKind) -> &Template {
        match kind {
            NoticeKind::Received => &self.received,
            NoticeKind::OnHold => &self.on_hold,
            NoticeKind::Renewed => &self.renewed,
            NoticeKind::Shipped => &self.shipped,
            NoticeKind::InvoiceIssued => &self.invoice_issued,
            NoticeKind::Delivered => &self.delivered,
            NoticeKind::AutoCompleted => &self.auto_completed,
        }
    }
}

impl NotifySettings {
    /// Checks the settings; an error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |key: &str, message: String| Err((format!("notify.{key}"), message));
        if self.max_attempts == 0 {
            return bad("max_attempts", "must be at least 1".into());
        }
        for kind in NoticeKind::ALL {
            let t = self.templates.get(kind);
            let key = format!("templates.{}", kind.code());
            for (field, text) in [("subject", &t.subject), ("body", &t.body)] {
                if let Err(e) = placeholders(text) {
                    return bad(&format!("{key}.{field}"), e);
                }
            }
            if let Some(p) = t.sms_params.iter().find(|p| !Facts::NAMES.contains(&p.as_str())) {
                return bad(
                    &format!("{key}.sms_params"),
                    format!("unknown parameter {p:?} (known: {})", Facts::NAMES.join(", ")),
                );
            }
            if self.sms.enabled && t.sms_code.trim().is_empty() {
                return bad(
                    &format!("{key}.sms_code"),
                    "must name the approved template when notify.sms.enabled".into(),
                );
            }
        }
        if self.sms.enabled {
            for (key, value) in [
                ("sms.endpoint", self.sms.endpoint.as_str()),
                ("sms.access_key_id", self.sms.access_key_id.as_str()),
                ("sms.access_key_secret", self.sms.access_key_secret.expose()),
                ("sms.sign_name", self.sms.sign_name.as_str()),
            ] {
                if value.trim().is_empty() {
                    return bad(key, "must be set when notify.sms.enabled".into());
                }
            }
        }
        if self.email.enabled {
            if self.email.host.trim().is_empty() {
                return bad("email.host", "must be set when notify.email.enabled".into());
            }
            if self.email.from.parse::<lettre::message::Mailbox>().is_err() {
                return bad("email.from", "must be an address like \"阳光七采 <notice@example.com>\"".into());
            }
        }
        Ok(())
    }
}

/// The channels as built from the settings: each client exists only when its channel is on (an
/// e-mail client that could not be built keeps the reason, and its notices wait until it is fixed).
pub struct Senders {
    pub settings: NotifySettings,
    pub sms: Option<aliyun::AliyunSms>,
    pub email: Option<Result<smtp::SmtpMailer, String>>,
}

impl Senders {
    pub fn from_settings(settings: &NotifySettings) -> Senders {
        Senders {
            settings: settings.clone(),
            sms: settings.sms.enabled.then(|| aliyun::AliyunSms::new(&settings.sms)),
            email: settings.email.enabled.then(|| smtp::SmtpMailer::new(&settings.email)),
        }
    }
}

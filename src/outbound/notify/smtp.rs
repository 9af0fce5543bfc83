//! E-mail notices over SMTP (lettre, rustls): TLS from the start, STARTTLS, or plain for a relay on
//! loopback, as `notify.email.security` says; authenticated when a username is set.

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};

use super::{EmailSettings, SendError, SmtpSecurity};

pub struct SmtpMailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(settings: &EmailSettings) -> Result<SmtpMailer, String> {
        let from: Mailbox = settings.from.parse().map_err(|e| format!("notify.email.from: {e}"))?;
        let builder = match settings.security {
            SmtpSecurity::Tls => SmtpTransport::relay(&settings.host),
            SmtpSecurity::Starttls => SmtpTransport::starttls_relay(&settings.host),
            SmtpSecurity::None => Ok(SmtpTransport::builder_dangerous(&settings.host)),
        }
        .map_err(|e| format!("notify.email.host: {e}"))?;
        let mut builder = builder.port(settings.port).timeout(Some(Duration::from_secs(settings.timeout_secs.max(1))));
        if !settings.username.is_empty() {
            builder = builder
                .credentials(Credentials::new(settings.username.clone(), settings.password.expose().to_string()));
        }
        Ok(SmtpMailer { transport: builder.build(), from })
    }

    /// Sends one message; the server's answer to the data (often its queue id) on success.
    pub fn send(&self, to: &str, subject: &str, body: &str) -> Result<Option<String>, SendError> {
        let to: Mailbox = to.parse().map_err(|e| SendError::Permanent(format!("收件地址无效：{e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| SendError::Permanent(format!("邮件无法组成：{e}")))?;
        match self.transport.send(&message) {
            Ok(response) => Ok(response.message().next().map(str::to_string)),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("邮件服务器拒绝：{e}"))),
            Err(e) => Err(SendError::Retryable(format!("邮件服务器无法送达：{e}"))),
        }
    }
}

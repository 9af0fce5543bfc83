//! Aliyun SMS `SendSms` (RPC style, API version 2017-05-25), signed as Aliyun publishes it
//! (signature version 1.0, HMAC-SHA1):
//!
//! 1. every request parameter except `Signature`, sorted by name; names and values percent-encoded
//!    per RFC 3986 (UTF-8; only `A-Za-z0-9-_.~` kept; space → `%20`), joined as `k=v` with `&`;
//! 2. `StringToSign = METHOD & percent("/") & percent(canonical query)`;
//! 3. `Signature = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))`.
//!
//! The answer is JSON: `Code = "OK"` with a `BizId` (the provider's message id), or an error code.
//! Throttling, `ServiceUnavailable` and the like are worth trying again; signature, template, sign
//! name and number errors are not.

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha1::Sha1;

use super::{SendError, SmsSettings};

/// RFC 3986 percent-encoding as Aliyun's signature needs it.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The signature of a request with these parameters (without `Signature`).
pub fn signature(method: &str, params: &[(String, String)], secret: &str) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical: Vec<String> =
        sorted.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect();
    let to_sign = format!("{method}&{}&{}", percent_encode("/"), percent_encode(&canonical.join("&")));
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes()).expect("HMAC takes any key length");
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Aliyun's answer codes that are worth trying again later.
fn retryable_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "Throttling.User"
            | "ServiceUnavailable"
            | "InternalError"
            | "isp.SYSTEM_ERROR"
            | "isv.BUSINESS_LIMIT_CONTROL"
            | "isp.RAM_PERMISSION_DENY"
            | "SignatureNonceUsed"
            | "InvalidTimeStamp.Expired"
    )
}

/// A client for one account and signature name.
pub struct AliyunSms {
    settings: SmsSettings,
    agent: ureq::Agent,
}

impl AliyunSms {
    pub fn new(settings: &SmsSettings) -> AliyunSms {
        let timeout = Duration::from_secs(settings.timeout_secs.max(1));
        let config = ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build();
        AliyunSms { settings: settings.clone(), agent: config.into() }
    }

    /// The signed form of one `SendSms` request.
    pub fn request(
        &self,
        phone: &str,
        template_code: &str,
        params: &Value,
        now: DateTime<Utc>,
    ) -> Vec<(String, String)> {
        let mut form: Vec<(String, String)> = [
            ("AccessKeyId", self.settings.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", phone),
            ("RegionId", self.settings.region_id.as_str()),
            ("SignName", self.settings.sign_name.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", template_code),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        form.push(("SignatureNonce".into(), format!("{:032x}", rand::random::<u128>())));
        form.push(("TemplateParam".into(), params.to_string()));
        form.push(("Timestamp".into(), now.format("%Y-%m-%dT%H:%M:%SZ").to_string()));
        let sig = signature("POST", &form, self.settings.access_key_secret.expose());
        form.push(("Signature".into(), sig));
        form
    }

    /// Sends one message; the provider's `BizId` on success.
    pub fn send(
        &self,
        phone: &str,
        template_code: &str,
        params: &Value,
        now: DateTime<Utc>,
    ) -> Result<String, SendError> {
        let form = self.request(phone, template_code, params, now);
        let mut response = self
            .agent
            .post(&self.settings.endpoint)
            .send_form(form.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|e| SendError::Retryable(format!("短信服务无法连接：{e}")))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| SendError::Retryable(format!("短信服务的应答无法读取：{e}")))?;
        let answer: Value = match serde_json::from_str(&body) {
            Ok(v) => v,
            Err(_) if status >= 500 || status == 429 => {
                return Err(SendError::Retryable(format!("短信服务 HTTP {status}")))
            }
            Err(e) => return Err(SendError::Permanent(format!("短信服务的应答不是 JSON（HTTP {status}）：{e}"))),
        };
        let text = |k: &str| answer.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let code = text("Code");
        if code == "OK" {
            return Ok(text("BizId"));
        }
        let message = format!("短信服务拒绝（{code}）：{}", text("Message"));
        if retryable_code(&code) || (code.is_empty() && (status >= 500 || status == 429)) {
            Err(SendError::Retryable(message))
        } else {
            Err(SendError::Permanent(message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("a b*~/+"), "a%20b%2A~%2F%2B");
        assert_eq!(percent_encode("阳"), "%E9%98%B3");
    }
}

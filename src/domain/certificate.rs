//! A certificate as the desk compares it: serial, subject, issuer, validity and fingerprint read from
//! its DER, and the platform's normal forms of a serial and a subject. Pure functions; building and
//! signing certificates is the CA adapter's (`ca::x509`).

use chrono::{DateTime, TimeZone, Utc};
use der::{Decode, Encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x509_cert::time::Time;
use x509_cert::Certificate;

#[derive(Debug, thiserror::Error)]
pub enum X509Error {
    #[error("证书或请求无法解析：{0}")]
    Malformed(String),
    #[error("不支持的密钥算法：{0}")]
    Unsupported(String),
    #[error("签名验证失败：{0}")]
    BadSignature(String),
}

pub(crate) fn malformed(e: impl std::fmt::Display) -> X509Error {
    X509Error::Malformed(e.to_string())
}

/// What the desk reads from a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertFacts {
    /// Upper-case hex without leading zero bytes, as the platform writes it.
    pub serial: String,
    /// RFC 4514, most specific first (`CN=…,O=…,C=CN`).
    pub subject: String,
    pub issuer: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// SHA-256 of the DER, upper-case hex.
    pub fingerprint: String,
    #[serde(skip)]
    pub subject_der: Vec<u8>,
    #[serde(skip)]
    pub issuer_der: Vec<u8>,
    #[serde(skip)]
    pub spki_der: Vec<u8>,
    #[serde(skip)]
    pub der: Vec<u8>,
}

pub fn fingerprint(der: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(der))
}

fn to_chrono(t: Time) -> DateTime<Utc> {
    let d = t.to_unix_duration();
    Utc.timestamp_opt(i64::try_from(d.as_secs()).unwrap_or(i64::MAX), 0).single().unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Normalises a serial as written by people or tools (`e0:c6:…`, `00E0C6…`) to the platform's form.
pub fn normalize_serial(s: &str) -> String {
    let hex: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>().to_ascii_uppercase();
    let trimmed = hex.trim_start_matches("00");
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.to_string()
    }
}

/// Normalises an RFC 4514 subject for comparison: no blanks around separators, attribute names upper-case.
pub fn normalize_subject(s: &str) -> String {
    s.split(',')
        .map(|part| match part.trim().split_once('=') {
            Some((k, v)) => format!("{}={}", k.trim().to_ascii_uppercase(), v.trim()),
            None => part.trim().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub fn parse_certificate(der_bytes: &[u8]) -> Result<CertFacts, X509Error> {
    let cert = Certificate::from_der(der_bytes).map_err(malformed)?;
    let tbs = &cert.tbs_certificate;
    Ok(CertFacts {
        serial: normalize_serial(&hex::encode(tbs.serial_number.as_bytes())),
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        not_before: to_chrono(tbs.validity.not_before),
        not_after: to_chrono(tbs.validity.not_after),
        fingerprint: fingerprint(der_bytes),
        subject_der: tbs.subject.to_der().map_err(malformed)?,
        issuer_der: tbs.issuer.to_der().map_err(malformed)?,
        spki_der: tbs.subject_public_key_info.to_der().map_err(malformed)?,
        der: der_bytes.to_vec(),
    })
}

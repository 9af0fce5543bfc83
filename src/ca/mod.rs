//! Certificate authorities the desk can get a renewed certificate from, chosen by `ca.backend`:
//! `local`, the built-in CA signing with a CA certificate and key from PEM files; and `command`, an
//! external program (`openssl ca`, a vendor tool) that reads the request as PEM on stdin and prints the
//! certificate as PEM on stdout. Either way the desk fixes the serial and validity first and checks
//! what comes back before it is stored.

pub mod command;
pub mod local;
pub mod settings;
pub mod x509;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use command::CommandCa;
pub use local::LocalCa;
pub use settings::{CaBackend, CaSettings};

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("CA 配置错误：{0}")]
    Config(String),
    #[error("CA 拒绝或失败：{0}")]
    Failed(String),
    #[error("CA 返回的证书不符：{0}")]
    Mismatch(String),
    #[error(transparent)]
    X509(#[from] x509::X509Error),
}

/// What the desk asks a CA for: the request, with the serial and validity the renewal rule fixed.
#[derive(Debug, Clone)]
pub struct IssueRequest<'a> {
    pub request_der: &'a [u8],
    /// Big-endian, positive.
    pub serial: &'a [u8],
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub order_no: &'a str,
    pub job_id: i64,
}

#[async_trait]
pub trait CertificateAuthority: Send + Sync {
    /// `local` or `command`, recorded with each issued certificate.
    fn backend(&self) -> &'static str;
    /// The CA certificate, when known: issued certificates are checked against it.
    fn issuer(&self) -> Option<&x509::CertFacts>;
    /// Issues a certificate for the request; returns its DER.
    async fn issue(&self, request: &IssueRequest<'_>) -> Result<Vec<u8>, CaError>;
}

/// The CA the configuration names.
pub fn from_settings(settings: &CaSettings) -> Result<Box<dyn CertificateAuthority>, CaError> {
    match settings.backend {
        CaBackend::Local => {
            let cert = settings
                .cert
                .as_deref()
                .ok_or_else(|| CaError::Config("ca.cert is not set (the CA certificate, PEM)".into()))?;
            let key = settings
                .key
                .as_deref()
                .ok_or_else(|| CaError::Config("ca.key is not set (the CA private key, PEM)".into()))?;
            Ok(Box::new(LocalCa::from_files(cert, key)?))
        }
        CaBackend::Command => Ok(Box::new(CommandCa::new(settings)?)),
    }
}

/// Stands in when the configured CA cannot be loaded: a renewal that no longer needs the CA (a job past
/// its issue step, or one already complete) still runs; one that does gets the configuration error.
pub struct UnavailableCa(pub String);

#[async_trait]
impl CertificateAuthority for UnavailableCa {
    fn backend(&self) -> &'static str {
        "unavailable"
    }

    fn issuer(&self) -> Option<&x509::CertFacts> {
        None
    }

    async fn issue(&self, _request: &IssueRequest<'_>) -> Result<Vec<u8>, CaError> {
        Err(CaError::Config(self.0.clone()))
    }
}

//! The built-in CA: signs requests with a CA certificate and private key read from PEM files
//! (`ca.cert`, `ca.key`; RSA or EC P-256). Keeps the request's subject and key, uses the serial and
//! validity the desk planned, and marks the certificate for signing (digitalSignature, nonRepudiation).

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use der::Encode;

use super::x509::{self, CertFacts, CertificateTemplate, SoftKey};
use super::{CaError, CertificateAuthority, IssueRequest};

pub struct LocalCa {
    cert: CertFacts,
    key: SoftKey,
}

impl LocalCa {
    pub fn from_files(cert: &Path, key: &Path) -> Result<LocalCa, CaError> {
        let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| CaError::Config(format!("{}: {e}", p.display())));
        let cert_der = x509::first_certificate_pem(&read(cert)?)?;
        LocalCa::new(x509::parse_certificate(&cert_der)?, SoftKey::from_pem(&read(key)?)?)
    }

    pub fn new(cert: CertFacts, key: SoftKey) -> Result<LocalCa, CaError> {
        if cert.spki_der != key.spki_der() {
            return Err(CaError::Config("the CA key does not belong to the CA certificate".into()));
        }
        Ok(LocalCa { cert, key })
    }

    /// Makes a self-signed CA (EC P-256): the demo CA and tests. Returns (certificate PEM, key PEM).
    pub fn create(
        subject: &str,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<(String, String), CaError> {
        let key_pem = SoftKey::generate_p256_pem()?;
        let key = SoftKey::from_pem(&key_pem)?;
        let subject_der = x509::parse_name(subject)?.to_der().map_err(|e| CaError::Config(e.to_string()))?;
        let serial: [u8; 8] = rand::random::<[u8; 8]>().map(|b| b & 0x7f);
        let der = x509::build_certificate(
            &CertificateTemplate {
                serial: &serial,
                subject_der: &subject_der,
                spki_der: key.spki_der(),
                not_before,
                not_after,
                issuer: None,
                is_ca: true,
            },
            key.algorithm()?,
            |tbs| key.sign(tbs),
        )?;
        Ok((x509::certificate_pem(&der), key_pem))
    }

    /// Signs a certificate for any subject and key (demo provisioning of the member's old certificate).
    pub fn certify(&self, template: &CertificateTemplate<'_>) -> Result<Vec<u8>, CaError> {
        let t = CertificateTemplate { issuer: Some(&self.cert), ..*template };
        Ok(x509::build_certificate(&t, self.key.algorithm()?, |tbs| self.key.sign(tbs))?)
    }

    pub fn certificate(&self) -> &CertFacts {
        &self.cert
    }
}

#[async_trait]
impl CertificateAuthority for LocalCa {
    fn backend(&self) -> &'static str {
        "local"
    }

    fn issuer(&self) -> Option<&CertFacts> {
        Some(&self.cert)
    }

    async fn issue(&self, request: &IssueRequest<'_>) -> Result<Vec<u8>, CaError> {
        let req = x509::parse_request(request.request_der)?;
        self.certify(&CertificateTemplate {
            serial: request.serial,
            subject_der: &req.subject_der,
            spki_der: &req.spki_der,
            not_before: request.not_before,
            not_after: request.not_after,
            issuer: None,
            is_ca: false,
        })
    }
}

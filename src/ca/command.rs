//! An external CA program (`ca.command`, argv without a shell): the request as PEM on stdin, the
//! certificate as PEM on stdout (a chain may follow; the first certificate is taken). The desk's plan
//! travels in the environment so the program can honour it:
//! `KEYDESK_NOT_BEFORE` / `KEYDESK_NOT_AFTER` (`YYYYMMDDHHMMSSZ`, as `openssl ca -startdate/-enddate`
//! take them), `KEYDESK_VALIDITY_DAYS`, `KEYDESK_CERT_SERIAL` (hex), `KEYDESK_ORDER_NO`, `KEYDESK_JOB_ID`.

use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;

use super::x509::{self, CertFacts};
use super::CaSettings;
use super::{CaError, CertificateAuthority, IssueRequest};

pub struct CommandCa {
    argv: Vec<String>,
    timeout: Duration,
    issuer: Option<CertFacts>,
}

impl CommandCa {
    pub fn new(settings: &CaSettings) -> Result<CommandCa, CaError> {
        if settings.command.is_empty() {
            return Err(CaError::Config(
                "ca.command is empty (program and arguments, e.g. [\"/usr/local/bin/issue-cert\"])".into(),
            ));
        }
        let issuer = match &settings.cert {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| CaError::Config(format!("{}: {e}", path.display())))?;
                Some(x509::parse_certificate(&x509::first_certificate_pem(&text)?)?)
            }
            None => None,
        };
        Ok(CommandCa {
            argv: settings.command.clone(),
            timeout: Duration::from_secs(settings.command_timeout_secs),
            issuer,
        })
    }
}

#[async_trait]
impl CertificateAuthority for CommandCa {
    fn backend(&self) -> &'static str {
        "command"
    }

    fn issuer(&self) -> Option<&CertFacts> {
        self.issuer.as_ref()
    }

    async fn issue(&self, request: &IssueRequest<'_>) -> Result<Vec<u8>, CaError> {
        let asn1 = |t: chrono::DateTime<chrono::Utc>| t.format("%Y%m%d%H%M%SZ").to_string();
        let days = (request.not_after - request.not_before).num_seconds().div_euclid(86_400) + 1;
        let mut child = tokio::process::Command::new(&self.argv[0])
            .args(&self.argv[1..])
            .env("KEYDESK_NOT_BEFORE", asn1(request.not_before))
            .env("KEYDESK_NOT_AFTER", asn1(request.not_after))
            .env("KEYDESK_VALIDITY_DAYS", days.to_string())
            .env("KEYDESK_CERT_SERIAL", hex::encode_upper(request.serial))
            .env("KEYDESK_ORDER_NO", request.order_no)
            .env("KEYDESK_JOB_ID", request.job_id.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| CaError::Failed(format!("{}: {e}", self.argv[0])))?;
        let pem = x509::request_pem(request.request_der);
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(pem.as_bytes()).await.map_err(|e| CaError::Failed(format!("writing the request: {e}")))?;
        }
        let output = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| {
                CaError::Failed(format!("{} did not answer within {} s", self.argv[0], self.timeout.as_secs()))
            })?
            .map_err(|e| CaError::Failed(e.to_string()))?;
        if !output.status.success() {
            let err = String::from_utf8_lossy(&output.stderr);
            let tail: String =
                err.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | ");
            return Err(CaError::Failed(format!("{} exited with {}: {tail}", self.argv[0], output.status)));
        }
        Ok(x509::first_certificate_pem(&String::from_utf8_lossy(&output.stdout))?)
    }
}

//! The renewal job and its journal, as plain data and rules: the steps in order, what each records,
//! how the key in the reader is matched to the order (and, for a job already under way, to the job),
//! what the PIN flags allow, and which token objects must stay byte for byte. The use case in
//! `ops/renew.rs` drives these steps against the store, the token worker and the CA.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::certificate::{self as x509, CertFacts};
use super::key_report::{ObjectInfo, PinFlags, TokenReport};
use crate::domain::{HoldReason, Order};

/// The steps of a renewal, in order. A job records the last step whose result was committed; a re-run
/// continues with the next one, and every step is safe to repeat after its intent was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalStep {
    /// The job exists and the order is `renewing` (nothing on the token yet).
    Start,
    /// A new key pair on the token, under the job's CKA_ID, labelled pending.
    GenerateKey,
    /// A PKCS#10 request signed on the token, with the current certificate's subject.
    BuildRequest,
    /// The certificate from the CA, stored in the database.
    Issue,
    /// The certificate on the token, read back and proven against the new key.
    WriteCertificate,
    /// The old signing certificate and key removed; the new pair takes their label.
    Activate,
    /// The order is `renewed`.
    Finish,
}

impl RenewalStep {
    pub const ALL: [RenewalStep; 7] = [
        RenewalStep::Start,
        RenewalStep::GenerateKey,
        RenewalStep::BuildRequest,
        RenewalStep::Issue,
        RenewalStep::WriteCertificate,
        RenewalStep::Activate,
        RenewalStep::Finish,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RenewalStep::Start => "start",
            RenewalStep::GenerateKey => "generate_key",
            RenewalStep::BuildRequest => "build_request",
            RenewalStep::Issue => "issue",
            RenewalStep::WriteCertificate => "write_certificate",
            RenewalStep::Activate => "activate",
            RenewalStep::Finish => "finish",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RenewalStep::Start => "开始续签",
            RenewalStep::GenerateKey => "生成新密钥",
            RenewalStep::BuildRequest => "生成证书请求",
            RenewalStep::Issue => "签发证书",
            RenewalStep::WriteCertificate => "写入证书",
            RenewalStep::Activate => "启用新证书",
            RenewalStep::Finish => "完成",
        }
    }

    pub fn from_code(code: &str) -> Option<RenewalStep> {
        RenewalStep::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn next(self) -> Option<RenewalStep> {
        RenewalStep::ALL.into_iter().find(|s| *s > self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    /// Renewed: the new certificate is on the key.
    Done,
    /// Ended on purpose (放弃续签): the old certificate stays, a new job may start.
    Abandoned,
}

impl JobState {
    pub fn code(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Abandoned => "abandoned",
        }
    }

    pub fn from_code(code: &str) -> Option<JobState> {
        [JobState::Running, JobState::Done].into_iter().find(|s| s.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Intent,
    Done,
    Failed,
}

impl Phase {
    pub fn code(self) -> &'static str {
        match self {
            Phase::Intent => "intent",
            Phase::Done => "done",
            Phase::Failed => "failed",
        }
    }
}

/// A token object the renewal must not touch: its digest covers every attribute readable when logged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptObject {
    pub class: String,
    pub id: String,
    pub label: String,
    pub digest: String,
}

/// A job about to start: everything decided before the token is touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewRenewalJob {
    pub order_id: i64,
    pub key_serial: String,
    pub algorithm: String,
    pub new_key_id: String,
    pub old_key_id: String,
    pub old_label: String,
    pub old_cert_serial: String,
    pub old_cert_fingerprint: String,
    pub old_not_before: DateTime<Utc>,
    pub old_not_after: DateTime<Utc>,
    pub planned_serial: String,
    pub planned_not_before: DateTime<Utc>,
    pub planned_not_after: DateTime<Utc>,
    #[serde(skip)]
    pub kept_objects: Vec<KeptObject>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenewalJob {
    pub id: i64,
    pub state: JobState,
    pub step: RenewalStep,
    #[serde(flatten)]
    pub plan: NewRenewalJob,
    pub public_key: Option<String>,
    pub request_pem: Option<String>,
    pub operator: String,
    pub desk: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl RenewalJob {
    /// The label of the job's objects until they are activated.
    pub fn pending_label(&self) -> String {
        format!("keydesk-pending-{}", self.id)
    }

    pub fn is_done(&self) -> bool {
        self.state == JobState::Done
    }

    pub fn is_running(&self) -> bool {
        self.state == JobState::Running
    }
}

/// A running job ended on purpose, as the store records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Abandonment {
    pub job_id: i64,
    /// The last committed step when it was ended.
    pub step: RenewalStep,
    pub reason: String,
    /// What was done on the key (objects removed, or why nothing could be).
    pub key_cleanup: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    pub id: i64,
    pub job_id: i64,
    pub step: String,
    pub phase: String,
    pub detail: String,
    pub elapsed_us: i64,
    pub token_us: i64,
    pub at: DateTime<Utc>,
}

/// What a committed step adds to the job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepResult {
    pub detail: String,
    pub elapsed_us: i64,
    pub token_us: i64,
    pub public_key: Option<String>,
    pub request_pem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedCertificate {
    pub id: i64,
    pub job_id: i64,
    pub order_id: i64,
    pub serial: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub fingerprint: String,
    pub pem: String,
    pub ca_backend: String,
    pub issued_at: DateTime<Utc>,
}

/// How the key in the reader relates to the order (and its job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMatch {
    /// The order's certificate is on the key: (its object, its facts).
    OrderCertificate(ObjectInfo, CertFacts),
    /// The order's certificate is gone but the job's new one is there (after activation began).
    JobCertificate(ObjectInfo, CertFacts),
    /// The serial is right but neither certificate is on the key.
    WrongCertificate { found: Vec<String> },
}

/// Finds the order's certificate (serial and subject) on the key, or the running job's new one.
pub fn match_certificate(order: &Order, report: &TokenReport, issued_fingerprint: Option<&str>) -> KeyMatch {
    let want_serial = x509::normalize_serial(&order.cert.serial);
    let want_subject = x509::normalize_subject(&order.cert.subject);
    let mut found = Vec::new();
    let mut job_cert = None;
    for o in report.objects.iter().filter(|o| o.class == "certificate") {
        let Some(facts) =
            o.value.as_deref().and_then(|v| hex::decode(v).ok()).and_then(|der| x509::parse_certificate(&der).ok())
        else {
            continue;
        };
        if facts.serial == want_serial && x509::normalize_subject(&facts.subject) == want_subject {
            return KeyMatch::OrderCertificate(o.clone(), facts);
        }
        if issued_fingerprint == Some(facts.fingerprint.as_str()) {
            job_cert = Some((o.clone(), facts.clone()));
        }
        found.push(format!("{} {}", facts.serial, facts.subject));
    }
    match job_cert {
        Some((o, f)) => KeyMatch::JobCertificate(o, f),
        None => KeyMatch::WrongCertificate { found },
    }
}

/// Whether a login may be attempted: never on the final try or a locked PIN.
pub fn pin_allows_login(flags: &PinFlags) -> Result<(), HoldReason> {
    if flags.locked {
        Err(HoldReason::PinLocked)
    } else if flags.final_try {
        Err(HoldReason::PinUnknown)
    } else {
        Ok(())
    }
}

/// The objects a renewal must keep: everything except the signing certificate and key pair it replaces.
pub fn kept_objects(objects: &[ObjectInfo], replaced_id: &str) -> Vec<KeptObject> {
    objects
        .iter()
        .filter(|o| !(o.id == replaced_id && matches!(o.class.as_str(), "certificate" | "private_key" | "public_key")))
        .map(|o| KeptObject {
            class: o.class.clone(),
            id: o.id.clone(),
            label: o.label.clone(),
            digest: o.digest.clone(),
        })
        .collect()
}

/// Checks the token after activation: the kept objects unchanged, the old pair gone, the new pair and
/// exactly one new certificate there. Returns what is wrong, if anything.
pub fn check_activated(objects: &[ObjectInfo], job: &RenewalJob, new_cert_hex: &str) -> Result<(), String> {
    let plan = &job.plan;
    let mut problems = Vec::new();
    let ours = |o: &&ObjectInfo| {
        o.id == plan.new_key_id && matches!(o.class.as_str(), "certificate" | "private_key" | "public_key")
    };
    let mut now: Vec<&str> = objects.iter().filter(|o| !ours(o)).map(|o| o.digest.as_str()).collect();
    let mut before: Vec<&str> = plan.kept_objects.iter().map(|k| k.digest.as_str()).collect();
    now.sort_unstable();
    before.sort_unstable();
    if now != before {
        problems.push(format!("其他对象有变化：之前 {} 个，现在 {} 个（应原样保留）", before.len(), now.len()));
    }
    let new: Vec<&ObjectInfo> = objects.iter().filter(ours).collect();
    let certs: Vec<&&ObjectInfo> = new.iter().filter(|o| o.class == "certificate").collect();
    if certs.len() != 1 || certs[0].value.as_deref() != Some(new_cert_hex) {
        problems.push(format!("新证书应恰有一个且与数据库一致，实有 {}", certs.len()));
    }
    if new.iter().filter(|o| o.class == "private_key").count() != 1 {
        problems.push("新私钥应恰有一个".into());
    }
    if objects.iter().any(|o| {
        o.id == plan.old_key_id
            && plan.old_key_id != plan.new_key_id
            && matches!(o.class.as_str(), "certificate" | "private_key")
    }) {
        problems.push("旧签名证书或私钥仍在 KEY 上".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("；"))
    }
}

/// Test hook: `KEYDESK_TEST_ABORT_AFTER=<step>:<phase>` (phase `intent`, `act` or `done`) aborts the
/// renewal process right after that point, as a pulled key or a killed process would. Honoured only
/// by the renewal job; for the crash tests.
pub const ABORT_HOOK: &str = "KEYDESK_TEST_ABORT_AFTER";

pub fn abort_point(step: RenewalStep, phase: &str) {
    if let Ok(point) = std::env::var(ABORT_HOOK) {
        if point == format!("{}:{phase}", step.code()) {
            eprintln!("keydesk: {ABORT_HOOK}={point}: aborting (test hook)");
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_run_in_order_and_round_trip() {
        let mut s = RenewalStep::Start;
        let mut seen = vec![s];
        while let Some(n) = s.next() {
            seen.push(n);
            s = n;
        }
        assert_eq!(seen, RenewalStep::ALL);
        for s in RenewalStep::ALL {
            assert_eq!(RenewalStep::from_code(s.code()), Some(s));
        }
    }

    #[test]
    fn no_login_on_final_try_or_lock() {
        assert_eq!(pin_allows_login(&PinFlags::default()), Ok(()));
        assert_eq!(pin_allows_login(&PinFlags { count_low: true, ..PinFlags::default() }), Ok(()));
        assert_eq!(pin_allows_login(&PinFlags { final_try: true, ..PinFlags::default() }), Err(HoldReason::PinUnknown));
        assert_eq!(
            pin_allows_login(&PinFlags { locked: true, final_try: true, ..PinFlags::default() }),
            Err(HoldReason::PinLocked)
        );
    }
}

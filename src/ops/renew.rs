//! Renewing the certificate on a member's key (`keydesk renew ORDER`; the desk calls the same
//! function). First the key in the reader is matched to the order — token serial and the order's
//! certificate, else the order goes on hold as "wrong key" — and the PIN flags checked (never a login
//! on the final try or a locked PIN). Then the journaled job runs its steps (see `domain::renewal_job`): each
//! writes its intent, acts through the token worker, re-reads the token and commits the result, so
//! running the command again after a crash or a pulled key continues where the journal says, never
//! issuing a second certificate. After completion a re-run changes nothing. A job that cannot finish
//! (the same check failing on every re-run) is ended on purpose with [`abandon`] (放弃续签).
//! Every failure says what to do about that failure ([`RenewError::advice`]).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use zeroize::Zeroizing;

use super::OpsError;
use crate::ca::x509::{self, CertFacts, KeyAlgorithm};
use crate::ca::{CaError, CertificateAuthority, IssueRequest};
use crate::clock::Clock;
use crate::domain::order::Change;
use crate::domain::renewal::{RenewalBlocker, RenewalRules};
use crate::domain::renewal_job::{
    self, abort_point, match_certificate, pin_allows_login, IssuedCertificate, KeyMatch, NewRenewalJob, Phase,
    RenewalJob, RenewalStep, StepResult,
};
use crate::domain::{AuditAction, HoldReason, Order, OrderNo, Status};
use crate::store::{Actor, PlannedChange, Stamps, Store, StoreError};
use crate::token::pkcs11::{Class, ObjectInfo, TokenError};
use crate::token::worker::{TokenWorker, WorkerError, WorkerProgram};

/// What a renewal needs besides the store: the token module and worker, the CA and the rules.
pub struct RenewContext<'a> {
    pub module: String,
    pub worker: WorkerProgram,
    pub worker_timeout: Duration,
    pub ca: &'a dyn CertificateAuthority,
    pub rules: &'a RenewalRules,
    /// Where every stamp, the renewal window and the new validity take the time from.
    pub clock: &'a Clock,
}

impl<'a> RenewContext<'a> {
    /// The context from the process's services: the module `explicit` names, else the one the key
    /// in the reader needs.
    pub fn new(services: &'a crate::services::Services, explicit_module: Option<String>) -> RenewContext<'a> {
        RenewContext {
            module: services.token.module(explicit_module),
            worker: services.token.worker.clone(),
            worker_timeout: services.token.worker_timeout(),
            ca: services.ca.as_ref(),
            rules: &services.renewal_rules,
            clock: &services.clock,
        }
    }
}

/// One step as it ran: its whole time, the part spent in the token (module and key), and the rest
/// (keydesk's own: database, CA, process hand-offs).
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub step: &'static str,
    pub label: &'static str,
    pub total_ms: f64,
    pub token_ms: f64,
    pub own_ms: f64,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    pub serial: String,
    pub subject: String,
    pub fingerprint: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewResult {
    Renewed,
    /// The order was renewed before; nothing was touched.
    AlreadyRenewed,
}

#[derive(Debug, Clone, Serialize)]
pub struct RenewOutcome {
    pub result: RenewResult,
    pub order_no: String,
    pub status: &'static str,
    pub job_id: i64,
    /// The job had started before (a re-run after a crash or a pulled key).
    pub resumed: bool,
    pub steps: Vec<StepReport>,
    pub old: CertSummary,
    pub new: CertSummary,
}

#[derive(Debug, thiserror::Error)]
pub enum RenewError {
    #[error(transparent)]
    Ops(#[from] OpsError),
    #[error("订单不能续签：{}", .0.iter().map(|b| b.to_string()).collect::<Vec<_>>().join("；"))]
    NotRenewable(Vec<RenewalBlocker>),
    #[error("订单处于异常挂起（{0}），请先解除挂起")]
    OnHold(String),
    #[error("读卡器中的 KEY 不对 (wrong key in the reader)：{0}；订单已挂起")]
    WrongKey(String),
    #[error("{}：不尝试登录，订单已挂起", .0.label())]
    PinBlocked(HoldReason),
    #[error("PIN 不正确{}", match .0 { Some(r) => format!("；{}，订单已挂起", r.label()), None => String::new() })]
    PinIncorrect(Option<HoldReason>),
    #[error("无法读取 PIN：{0}")]
    Pin(String),
    #[error("读卡器中没有 KEY（订单 KEY 编号 {0}）")]
    NoKey(String),
    #[error("{0}；任务已保留")]
    Token(WorkerError),
    #[error("{0}；任务已保留")]
    Ca(#[from] CaError),
    #[error("核对失败：{0}；任务已保留")]
    Check(String),
    #[error("没有进行中的续签任务可放弃（订单状态「{0}」）")]
    NothingToAbandon(&'static str),
    #[error("KEY 上已启用新证书，旧证书已不在 KEY 上：不能放弃，只能完成续签")]
    TooLateToAbandon,
}

impl From<StoreError> for RenewError {
    fn from(e: StoreError) -> Self {
        RenewError::Ops(OpsError::Store(e))
    }
}

impl From<WorkerError> for RenewError {
    fn from(e: WorkerError) -> Self {
        RenewError::Token(e)
    }
}

impl From<x509::X509Error> for RenewError {
    fn from(e: x509::X509Error) -> Self {
        RenewError::Check(e.to_string())
    }
}

impl RenewError {
    /// What the operator should do about this failure (the desk shows it under the message; the
    /// command prints it after).
    pub fn advice(&self) -> &'static str {
        match self {
            RenewError::Ops(_) => "检查数据库连接后重试",
            RenewError::NotRenewable(_) => "订单满足续签条件后再续签",
            RenewError::OnHold(_) => "问题解决后先解除挂起（F6 / keydesk order release），再续签",
            RenewError::WrongKey(_) => "换上本订单的 KEY，解除挂起后再续签；寄错的 KEY 按挂起原因联系会员",
            RenewError::PinBlocked(_) => "KEY 的 PIN 已锁定或只剩最后一次：联系会员解锁或确认 PIN，解除挂起后再续签",
            RenewError::PinIncorrect(Some(_)) => "PIN 已到最后一次或锁定，订单已挂起：联系会员确认 PIN 后解除挂起再续签",
            RenewError::PinIncorrect(None) | RenewError::Pin(_) => "向会员确认 PIN 后重新续签（PIN 错误次数有限）",
            RenewError::NoKey(_) => "插入订单的 KEY 后重新续签",
            RenewError::Token(WorkerError::Timeout { .. }) => "KEY 或其驱动无响应：拔下 KEY 重新插入后重新续签，任务从中断处继续",
            RenewError::Token(WorkerError::Spawn { .. }) => "检查 token.module 配置与 PKCS#11 驱动后重新续签",
            RenewError::Token(_) => "KEY 被拔出或中断：插好订单的 KEY 后重新续签，任务从中断处继续，不会重复签发",
            RenewError::Ca(CaError::Mismatch(_)) => {
                "重新续签会得到同样的结果：核对 CA 的有效期与模板配置后再续签，或放弃续签（工作台 F12 / keydesk renew 订单号 --abandon --reason 原因）"
            }
            RenewError::Ca(CaError::Config(_)) => "修正 [ca] 配置后重新续签，任务从中断处继续",
            RenewError::Ca(_) => "CA 恢复后重新续签，任务从中断处继续，不会重复签发",
            RenewError::Check(_) => "重新续签会再次核对；若仍失败，可放弃续签（工作台 F12 / keydesk renew 订单号 --abandon --reason 原因）",
            RenewError::NothingToAbandon(_) => "无需放弃：订单没有进行中的续签任务",
            RenewError::TooLateToAbandon => "重新续签即可完成（只剩记录结果的步骤）",
        }
    }

    /// The message and what to do, on one line.
    pub fn with_advice(&self) -> String {
        format!("{self}。{}", self.advice())
    }
}

/// Where the PIN comes from: asked only once the key is matched and its flags allow a login.
pub type PinSource<'a> = dyn FnMut() -> Result<Zeroizing<String>, String> + Send + 'a;
/// Told about every step as it finishes (the command prints it; the desk shows progress).
pub type StepSink<'a> = dyn FnMut(&StepReport) + Send + 'a;

fn summary_of_issued(c: &IssuedCertificate) -> CertSummary {
    CertSummary {
        serial: c.serial.clone(),
        subject: c.subject.clone(),
        fingerprint: c.fingerprint.clone(),
        not_before: c.not_before,
        not_after: c.not_after,
    }
}

fn summary_of_old(job: &RenewalJob, subject: &str) -> CertSummary {
    let p = &job.plan;
    CertSummary {
        serial: p.old_cert_serial.clone(),
        subject: subject.to_string(),
        fingerprint: p.old_cert_fingerprint.clone(),
        not_before: p.old_not_before,
        not_after: p.old_not_after,
    }
}

pub async fn renew(
    store: &dyn Store,
    ctx: &RenewContext<'_>,
    no: &OrderNo,
    pin_source: &mut PinSource<'_>,
    actor: &Actor,
    on_step: &mut StepSink<'_>,
) -> Result<RenewOutcome, RenewError> {
    let order = store.order_by_no(no).await?.ok_or_else(|| OpsError::OrderNotFound(no.to_string()))?;
    let jobs = store.renewal_jobs_for_order(order.id).await?;
    let running = jobs.iter().find(|j| j.is_running()).cloned();
    if running.is_none() {
        if let Some(done) = jobs.iter().find(|j| j.is_done()) {
            let issued = store
                .issued_certificate_for_job(done.id)
                .await?
                .ok_or_else(|| RenewError::Check(format!("job {} is done without a certificate", done.id)))?;
            return Ok(RenewOutcome {
                result: RenewResult::AlreadyRenewed,
                order_no: order.order_no.to_string(),
                status: order.status.code(),
                job_id: done.id,
                resumed: false,
                steps: Vec::new(),
                old: summary_of_old(done, &order.cert.subject),
                new: summary_of_issued(&issued),
            });
        }
    }
    if order.status == Status::OnHold {
        let why = order.hold.as_ref().map(|h| format!("{} {}", h.reason.label(), h.note)).unwrap_or_default();
        return Err(RenewError::OnHold(why.trim().to_string()));
    }
    match &running {
        None => {
            let blockers = ctx.rules.blockers(&order, ctx.clock.now());
            if !blockers.is_empty() || order.status != Status::Received {
                return Err(RenewError::NotRenewable(blockers));
            }
        }
        Some(_) if order.status == Status::Renewing => {}
        Some(job) => {
            return Err(RenewError::Check(format!("任务 {} 进行中，但订单状态为「{}」", job.id, order.status.label())))
        }
    }

    let mut run = Run { store, ctx, actor, order, steps: Vec::new(), on_step, worker: None, current: None };
    let result = run.drive(running, pin_source).await;
    if let (Err(e), Some((job_id, step))) = (&result, run.current) {
        // Best effort: the journal shows why the step stopped; the job stays where it was.
        let _ = store.journal(job_id, step, Phase::Failed, &e.to_string(), ctx.clock.now()).await;
    }
    if let Some(worker) = run.worker.take() {
        worker.close().await;
    }
    result
}

struct Run<'a, 'b> {
    store: &'a dyn Store,
    ctx: &'a RenewContext<'a>,
    actor: &'a Actor,
    order: Order,
    steps: Vec<StepReport>,
    on_step: &'a mut StepSink<'b>,
    worker: Option<TokenWorker>,
    /// The step whose intent was written last, while it is not committed.
    current: Option<(i64, RenewalStep)>,
}

/// A step's stopwatch: total time, and the token's share taken from the worker.
struct Stopwatch(Instant);

impl<'a, 'b> Run<'a, 'b> {
    fn worker(&mut self) -> Result<&mut TokenWorker, RenewError> {
        self.worker.as_mut().ok_or_else(|| RenewError::Check("token worker not started".into()))
    }

    fn serial(&self) -> String {
        self.order.key_serial.to_string()
    }

    /// The step's times so far, for its journal row (the report after the commit includes the commit).
    fn lap(&self, clock: &Stopwatch) -> (i64, i64) {
        let total = clock.0.elapsed();
        let token = self.worker.as_ref().map(|w| w.token_time()).unwrap_or_default().min(total);
        (i64::try_from(total.as_micros()).unwrap_or(i64::MAX), i64::try_from(token.as_micros()).unwrap_or(i64::MAX))
    }

    fn report(
        &mut self,
        step: &'static str,
        label: &'static str,
        clock: Stopwatch,
        note: impl Into<String>,
    ) -> (i64, i64) {
        let total = clock.0.elapsed();
        let token = self.worker.as_mut().map(|w| w.take_token_time()).unwrap_or_default().min(total);
        let r = StepReport {
            step,
            label,
            total_ms: total.as_secs_f64() * 1e3,
            token_ms: token.as_secs_f64() * 1e3,
            own_ms: (total - token).as_secs_f64() * 1e3,
            note: note.into(),
        };
        (self.on_step)(&r);
        self.steps.push(r);
        (i64::try_from(total.as_micros()).unwrap_or(i64::MAX), i64::try_from(token.as_micros()).unwrap_or(i64::MAX))
    }

    async fn hold(&mut self, reason: HoldReason, note: &str) -> Result<(), RenewError> {
        let order = self
            .store
            .order_by_id(self.order.id)
            .await?
            .ok_or_else(|| OpsError::OrderNotFound(self.order.order_no.to_string()))?;
        let transition = order.plan(&Change::Hold { reason, resume_to: None }, note).map_err(OpsError::from)?;
        let change = planned(&order, transition, AuditAction::Hold);
        self.order = self.store.apply_change(&change, self.actor, self.ctx.clock.now()).await?;
        Ok(())
    }

    async fn drive(
        &mut self,
        running: Option<RenewalJob>,
        pin_source: &mut PinSource<'_>,
    ) -> Result<RenewOutcome, RenewError> {
        let resumed = running.is_some();
        let serial = self.serial();

        // Identify: the key in the reader must be the order's, with the order's certificate.
        let clock = Stopwatch(Instant::now());
        self.worker = Some(TokenWorker::spawn(&self.ctx.worker, &self.ctx.module, self.ctx.worker_timeout).await?);
        let order = self.order.clone();
        let report = match inspect_order_key(self.worker()?, &order).await {
            Err(RenewError::WrongKey(note)) => {
                self.hold(HoldReason::WrongKey, &note).await?;
                return Err(RenewError::WrongKey(note));
            }
            other => other?,
        };
        let issued = match &running {
            Some(j) => self.store.issued_certificate_for_job(j.id).await?,
            None => None,
        };
        let old: Option<(ObjectInfo, CertFacts)> =
            match match_certificate(&self.order, &report, issued.as_ref().map(|i| i.fingerprint.as_str())) {
                KeyMatch::OrderCertificate(o, f) => Some((o, f)),
                KeyMatch::JobCertificate(..) if running.is_some() => None,
                KeyMatch::JobCertificate(..) | KeyMatch::WrongCertificate { .. } => {
                    let found = match match_certificate(&self.order, &report, None) {
                        KeyMatch::WrongCertificate { found } if !found.is_empty() => found.join("；"),
                        _ => "无证书".into(),
                    };
                    let note = format!(
                        "KEY {serial} 上的证书（{found}）不是订单 {} 的证书（序列号 {}）",
                        self.order.order_no, self.order.cert.serial
                    );
                    self.hold(HoldReason::WrongKey, &note).await?;
                    return Err(RenewError::WrongKey(note));
                }
            };
        if let Err(reason) = pin_allows_login(&report.token.pin) {
            self.hold(reason, &format!("KEY {serial}：{}", reason.label())).await?;
            return Err(RenewError::PinBlocked(reason));
        }
        self.report("identify", "识别 KEY", clock, format!("KEY {serial} 与订单 {} 相符", self.order.order_no));

        // Log in: the PIN is read now, handed to the worker over its pipe, and dropped (zeroized).
        let clock = Stopwatch(Instant::now());
        let pin = pin_source().map_err(RenewError::Pin)?;
        let login = self.worker()?.login(&serial, &pin).await;
        drop(pin);
        match login {
            Ok(()) => {}
            Err(WorkerError::Token(TokenError::PinIncorrect | TokenError::PinLocked)) => {
                let flags = self.worker()?.inspect(&serial).await.map(|r| r.token.pin).unwrap_or_default();
                let held = pin_allows_login(&flags).err();
                if let Some(reason) = held {
                    self.hold(reason, &format!("KEY {serial}：PIN 错误后 {}", reason.label())).await?;
                }
                return Err(RenewError::PinIncorrect(held));
            }
            Err(e) => return Err(e.into()),
        }
        self.report("login", "登录 KEY", clock, "");

        let mut job = match running {
            Some(job) => job,
            None => {
                let (old_obj, old_facts) =
                    old.clone().ok_or_else(|| RenewError::Check("the order's certificate is not on the key".into()))?;
                self.start(&old_obj, &old_facts).await?
            }
        };
        let alg = KeyAlgorithm::from_code(&job.plan.algorithm)
            .ok_or_else(|| RenewError::Check(format!("unknown algorithm {}", job.plan.algorithm)))?;
        let new_id = hex::decode(&job.plan.new_key_id).map_err(|e| RenewError::Check(e.to_string()))?;
        let old_id = hex::decode(&job.plan.old_key_id).map_err(|e| RenewError::Check(e.to_string()))?;

        while let Some(step) = job.step.next() {
            let clock = Stopwatch(Instant::now());
            match step {
                RenewalStep::Start => {}
                RenewalStep::GenerateKey => {
                    self.intent(&job, step, &format!("CKA_ID {} {}", job.plan.new_key_id, alg.code())).await?;
                    let label = job.pending_label();
                    let (parts, existed) = self.worker()?.generate_key_pair(&serial, &new_id, &label, alg).await?;
                    abort_point(step, "act");
                    let again = self.worker()?.key_pair(&serial, &new_id).await?;
                    if again.as_ref() != Some(&parts) {
                        return Err(RenewError::Check("新密钥读回不一致".into()));
                    }
                    let spki = parts.spki()?;
                    let note = if existed { "沿用上次生成的新密钥" } else { "已在 KEY 上生成" };
                    let (elapsed_us, token_us) = self.lap(&clock);
                    let result = StepResult {
                        detail: note.into(),
                        elapsed_us,
                        token_us,
                        public_key: Some(hex::encode(spki)),
                        request_pem: None,
                    };
                    job = self.store.commit_step(job.id, step, &result, self.ctx.clock.now()).await?;
                    self.report(step.code(), step.label(), clock, note);
                }
                RenewalStep::BuildRequest => {
                    self.intent(&job, step, "PKCS#10").await?;
                    let (_, old_facts) =
                        old.clone().ok_or_else(|| RenewError::Check("旧证书已不在 KEY 上，无法生成请求".into()))?;
                    let spki = job_public_key(&job)?;
                    let info = x509::request_to_sign(&old_facts.subject_der, &spki)?;
                    let raw = self.worker()?.sign(&serial, &new_id, &x509::to_be_signed(alg, &info)).await?;
                    let csr = x509::finish_request(&info, &x509::x509_signature(alg, &raw)?)?;
                    abort_point(step, "act");
                    let req = x509::parse_request(&csr)?;
                    if req.spki_der != spki {
                        return Err(RenewError::Check("证书请求的公钥与新密钥不符".into()));
                    }
                    let (elapsed_us, token_us) = self.lap(&clock);
                    let result = StepResult {
                        detail: req.subject.clone(),
                        elapsed_us,
                        token_us,
                        public_key: None,
                        request_pem: Some(x509::request_pem(&csr)),
                    };
                    job = self.store.commit_step(job.id, step, &result, self.ctx.clock.now()).await?;
                    self.report(step.code(), step.label(), clock, req.subject);
                }
                RenewalStep::Issue => {
                    let p = &job.plan;
                    self.intent(
                        &job,
                        step,
                        &format!(
                            "serial {} {} → {} via {}",
                            p.planned_serial,
                            p.planned_not_before,
                            p.planned_not_after,
                            self.ctx.ca.backend()
                        ),
                    )
                    .await?;
                    let cert = self.issue(&job).await?;
                    let (elapsed_us, token_us) = self.lap(&clock);
                    let result = StepResult {
                        detail: format!("serial {} fingerprint {}", cert.serial, cert.fingerprint),
                        elapsed_us,
                        token_us,
                        ..StepResult::default()
                    };
                    self.store.record_issued_certificate(&cert, &result, self.ctx.clock.now()).await?;
                    job = self.reload(job.id).await?;
                    self.report(
                        step.code(),
                        step.label(),
                        clock,
                        format!("序列号 {} 有效期至 {}", cert.serial, cert.not_after),
                    );
                }
                RenewalStep::WriteCertificate => {
                    self.intent(&job, step, &format!("CKA_ID {}", job.plan.new_key_id)).await?;
                    let (issued, der) = self.issued(&job).await?;
                    let label = job.pending_label();
                    let wrote = self.worker()?.write_certificate(&serial, &new_id, &label, &der).await?;
                    abort_point(step, "act");
                    let back = self.worker()?.certificate(&serial, &new_id).await?;
                    if back.as_deref() != Some(der.as_slice()) {
                        return Err(RenewError::Check("KEY 上读回的证书与数据库中的不一致".into()));
                    }
                    let challenge: [u8; 32] = rand::random();
                    let raw = self.worker()?.sign(&serial, &new_id, &x509::to_be_signed(alg, &challenge)).await?;
                    let facts = x509::parse_certificate(&der)?;
                    x509::verify(&facts.spki_der, &challenge, &x509::x509_signature(alg, &raw)?)
                        .map_err(|e| RenewError::Check(format!("新密钥签名不能用新证书验证：{e}")))?;
                    let note = if wrote {
                        "已写入、读回并验证签名"
                    } else {
                        "证书已在 KEY 上，读回并验证签名"
                    };
                    let (elapsed_us, token_us) = self.lap(&clock);
                    let result = StepResult {
                        detail: format!("{note}; serial {}", issued.serial),
                        elapsed_us,
                        token_us,
                        ..StepResult::default()
                    };
                    job = self.store.commit_step(job.id, step, &result, self.ctx.clock.now()).await?;
                    self.report(step.code(), step.label(), clock, note);
                }
                RenewalStep::Activate => {
                    self.intent(
                        &job,
                        step,
                        &format!("remove CKA_ID {}; keep {} objects", job.plan.old_key_id, job.plan.kept_objects.len()),
                    )
                    .await?;
                    let (_, der) = self.issued(&job).await?;
                    // The new pair takes the old objects' labels (middleware finds keys by label), then the
                    // old signing certificate and key pair go. Both are safe to repeat.
                    let before = self.worker()?.inspect(&serial).await?;
                    for (class, name) in [
                        (Class::Certificate, "certificate"),
                        (Class::PrivateKey, "private_key"),
                        (Class::PublicKey, "public_key"),
                    ] {
                        if let Some(o) = before.objects.iter().find(|o| o.class == name && o.id == job.plan.old_key_id)
                        {
                            let label = o.label.clone();
                            self.worker()?.set_label(&serial, &[class], &new_id, &label).await?;
                        }
                    }
                    let removed = self
                        .worker()?
                        .destroy(&serial, &[Class::Certificate, Class::PrivateKey, Class::PublicKey], &old_id)
                        .await?;
                    abort_point(step, "act");
                    let after = self.worker()?.inspect(&serial).await?;
                    renewal_job::check_activated(&after.objects, &job, &hex::encode(&der))
                        .map_err(RenewError::Check)?;
                    let note = format!("移除旧对象 {removed} 个，其余 {} 个对象原样保留", job.plan.kept_objects.len());
                    let (elapsed_us, token_us) = self.lap(&clock);
                    let result = StepResult { detail: note.clone(), elapsed_us, token_us, ..StepResult::default() };
                    job = self.store.commit_step(job.id, step, &result, self.ctx.clock.now()).await?;
                    self.report(step.code(), step.label(), clock, note);
                }
                RenewalStep::Finish => {
                    self.intent(&job, step, "order renewed").await?;
                    let (issued, _) = self.issued(&job).await?;
                    let order = self
                        .store
                        .order_by_id(self.order.id)
                        .await?
                        .ok_or_else(|| OpsError::OrderNotFound(self.order.order_no.to_string()))?;
                    let p = &job.plan;
                    let reason = format!(
                        "续签完成：旧证书 {}（SHA-256 {}，{} 至 {}）→ 新证书 {}（SHA-256 {}，{} 至 {}）",
                        p.old_cert_serial,
                        p.old_cert_fingerprint,
                        p.old_not_before,
                        p.old_not_after,
                        issued.serial,
                        issued.fingerprint,
                        issued.not_before,
                        issued.not_after
                    );
                    let transition = order.plan(&Change::MoveTo(Status::Renewed), &reason).map_err(OpsError::from)?;
                    let change = planned(&order, transition, AuditAction::Renew);
                    let (elapsed_us, token_us) = self.lap(&clock);
                    let result = StepResult { detail: reason, elapsed_us, token_us, ..StepResult::default() };
                    self.order =
                        self.store.finish_renewal(job.id, &change, &result, self.actor, self.ctx.clock.now()).await?;
                    job = self.reload(job.id).await?;
                    self.report(step.code(), step.label(), clock, "订单已续签");
                }
            }
            self.current = None;
            abort_point(step, "done");
        }

        let (issued, _) = self.issued(&job).await?;
        Ok(RenewOutcome {
            result: RenewResult::Renewed,
            order_no: self.order.order_no.to_string(),
            status: self.order.status.code(),
            job_id: job.id,
            resumed,
            steps: std::mem::take(&mut self.steps),
            old: summary_of_old(&job, &self.order.cert.subject),
            new: summary_of_issued(&issued),
        })
    }

    async fn intent(&mut self, job: &RenewalJob, step: RenewalStep, detail: &str) -> Result<(), RenewError> {
        self.store.journal(job.id, step, Phase::Intent, detail, self.ctx.clock.now()).await?;
        self.current = Some((job.id, step));
        abort_point(step, "intent");
        Ok(())
    }

    async fn reload(&self, job_id: i64) -> Result<RenewalJob, RenewError> {
        let jobs = self.store.renewal_jobs_for_order(self.order.id).await?;
        jobs.into_iter().find(|j| j.id == job_id).ok_or_else(|| RenewError::Check(format!("job {job_id} vanished")))
    }

    async fn issued(&self, job: &RenewalJob) -> Result<(IssuedCertificate, Vec<u8>), RenewError> {
        let issued = self
            .store
            .issued_certificate_for_job(job.id)
            .await?
            .ok_or_else(|| RenewError::Check(format!("job {} has no issued certificate", job.id)))?;
        let (_, der) = x509::pem_to_der(&issued.pem)?;
        Ok((issued, der))
    }

    /// Creates the job: the plan is fixed here (new CKA_ID, serial and validity of the new certificate,
    /// the objects to keep), and the order moves to `renewing`.
    async fn start(&mut self, old_obj: &ObjectInfo, old: &CertFacts) -> Result<RenewalJob, RenewError> {
        let clock = Stopwatch(Instant::now());
        let serial = self.serial();
        let logged_in = self.worker()?.inspect(&serial).await?;
        let at = self.ctx.clock.now();
        let (not_before, not_after) = self.ctx.rules.new_validity(&self.order.cert, at, self.order.term_years);
        let mut new_serial: [u8; 16] = rand::random();
        new_serial[0] = (new_serial[0] & 0x7f) | 0x40;
        let plan = NewRenewalJob {
            order_id: self.order.id,
            key_serial: serial,
            algorithm: KeyAlgorithm::of_spki(&old.spki_der)?.code(),
            new_key_id: hex::encode(rand::random::<[u8; 16]>()),
            old_key_id: old_obj.id.clone(),
            old_label: old_obj.label.clone(),
            old_cert_serial: old.serial.clone(),
            old_cert_fingerprint: old.fingerprint.clone(),
            old_not_before: old.not_before,
            old_not_after: old.not_after,
            planned_serial: hex::encode_upper(new_serial),
            planned_not_before: not_before,
            planned_not_after: not_after,
            kept_objects: renewal_job::kept_objects(&logged_in.objects, &old_obj.id),
        };
        let transition = self.order.plan(&Change::MoveTo(Status::Renewing), "开始续签").map_err(OpsError::from)?;
        let change = planned(&self.order, transition, AuditAction::Renew);
        let job = self.store.start_renewal(&plan, &change, self.actor, at).await?;
        self.order = self
            .store
            .order_by_id(self.order.id)
            .await?
            .ok_or_else(|| OpsError::OrderNotFound(self.order.order_no.to_string()))?;
        self.report(RenewalStep::Start.code(), RenewalStep::Start.label(), clock, format!("任务 {}", job.id));
        abort_point(RenewalStep::Start, "done");
        Ok(job)
    }

    /// Asks the CA for the planned certificate and checks what comes back: the request's key and
    /// subject, the planned validity, and (when the CA certificate is known) its signature.
    async fn issue(&mut self, job: &RenewalJob) -> Result<IssuedCertificate, RenewError> {
        let p = &job.plan;
        let csr_pem = job.request_pem.as_deref().ok_or_else(|| RenewError::Check("no request recorded".into()))?;
        let (_, csr) = x509::pem_to_der(csr_pem)?;
        let req = x509::parse_request(&csr)?;
        let serial = hex::decode(&p.planned_serial).map_err(|e| RenewError::Check(e.to_string()))?;
        let der = self
            .ctx
            .ca
            .issue(&IssueRequest {
                request_der: &csr,
                serial: &serial,
                not_before: p.planned_not_before,
                not_after: p.planned_not_after,
                order_no: self.order.order_no.as_str(),
                job_id: job.id,
            })
            .await?;
        abort_point(RenewalStep::Issue, "act");
        let facts = x509::parse_certificate(&der)?;
        // A refused certificate is named (serial, fingerprint), so it can be revoked at the CA.
        let mismatch = |what: &str| {
            RenewError::Ca(CaError::Mismatch(format!("证书 {}（SHA-256 {}）{what}", facts.serial, facts.fingerprint)))
        };
        if facts.spki_der != req.spki_der {
            return Err(mismatch("公钥不是新密钥"));
        }
        if x509::normalize_subject(&facts.subject) != x509::normalize_subject(&req.subject) {
            return Err(mismatch(&format!("主题 {} 不是 {}", facts.subject, req.subject)));
        }
        self.ctx
            .rules
            .check_validity((p.planned_not_before, p.planned_not_after), (facts.not_before, facts.not_after))
            .map_err(|why| mismatch(&why))?;
        if let Some(ca) = self.ctx.ca.issuer() {
            x509::verify_issued_by(&der, ca).map_err(|e| mismatch(&format!("不是由配置的 CA 签发：{e}")))?;
        }
        Ok(IssuedCertificate {
            id: 0,
            job_id: job.id,
            order_id: self.order.id,
            serial: facts.serial,
            subject: facts.subject,
            issuer: facts.issuer,
            not_before: facts.not_before,
            not_after: facts.not_after,
            fingerprint: facts.fingerprint,
            pem: x509::certificate_pem(&der),
            ca_backend: self.ctx.ca.backend().to_string(),
            issued_at: self.ctx.clock.now(),
        })
    }
}

/// A change planned on `order` as read, written only if nobody changed it meanwhile.
fn planned(order: &Order, transition: crate::domain::order::Transition, action: AuditAction) -> PlannedChange {
    PlannedChange {
        order_id: order.id,
        order_no: order.order_no.clone(),
        expected_version: order.version,
        transition,
        stamps: Stamps::default(),
        action,
    }
}

fn job_public_key(job: &RenewalJob) -> Result<Vec<u8>, RenewError> {
    let hex_key = job.public_key.as_deref().ok_or_else(|| RenewError::Check("no public key recorded".into()))?;
    hex::decode(hex_key).map_err(|e| RenewError::Check(e.to_string()))
}

/// What [`abandon`] did.
#[derive(Debug, Clone, Serialize)]
pub struct AbandonOutcome {
    pub order_no: String,
    pub status: &'static str,
    pub job_id: i64,
    /// What was done on the key.
    pub key_cleanup: String,
    /// The certificate the CA issued for the job, now recorded as issued and unused.
    pub unused_certificate: Option<CertSummary>,
}

/// 放弃续签: ends the order's running job on purpose, with a reason. The objects the job created on
/// the key (its CKA_ID) are removed — the key must be in the reader and the PIN is asked, unless
/// `without_key` says the key cannot be had (then nothing on the key is touched, and the record says
/// so) — the old certificate stays, a certificate the CA issued for the job is recorded as issued and
/// unused, and the order goes back to `received`, so a new job can start. Refused once the job has
/// activated the new certificate (the old one is gone from the key: only finishing is left).
#[allow(clippy::too_many_arguments)]
pub async fn abandon(
    store: &dyn Store,
    ctx: &RenewContext<'_>,
    no: &OrderNo,
    reason: &str,
    without_key: bool,
    pin_source: &mut PinSource<'_>,
    actor: &Actor,
) -> Result<AbandonOutcome, RenewError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(OpsError::Invalid("放弃续签需要写明原因".into()).into());
    }
    let order = store.order_by_no(no).await?.ok_or_else(|| OpsError::OrderNotFound(no.to_string()))?;
    let job = store.renewal_jobs_for_order(order.id).await?.into_iter().find(|j| j.is_running());
    let Some(job) = job else {
        return Err(RenewError::NothingToAbandon(order.status.label()));
    };
    if order.status == Status::OnHold {
        let why = order.hold.as_ref().map(|h| format!("{} {}", h.reason.label(), h.note)).unwrap_or_default();
        return Err(RenewError::OnHold(why.trim().to_string()));
    }
    if job.step >= RenewalStep::Activate {
        return Err(RenewError::TooLateToAbandon);
    }
    let key_cleanup = if without_key {
        format!("未清理 KEY：放弃时 KEY 不在（KEY 上可能留有标签为 {} 的对象）", job.pending_label())
    } else {
        let mut worker = TokenWorker::spawn(&ctx.worker, &ctx.module, ctx.worker_timeout).await?;
        let cleaned = remove_job_objects(&mut worker, &order, &job, pin_source).await;
        worker.close().await;
        cleaned?
    };
    let issued = store.issued_certificate_for_job(job.id).await?;
    let unused = issued
        .as_ref()
        .map(|c| format!("；CA 已为本任务签发的证书 {} 未使用，请在 CA 处吊销", c.serial))
        .unwrap_or_default();
    let note = format!("放弃续签（任务 {}）：{reason}；{key_cleanup}{unused}", job.id);
    let transition = order.plan(&Change::MoveTo(Status::Received), &note).map_err(OpsError::from)?;
    let change = planned(&order, transition, AuditAction::RenewAbandon);
    let abandonment = renewal_job::Abandonment {
        job_id: job.id,
        step: job.step,
        reason: reason.to_string(),
        key_cleanup: key_cleanup.clone(),
    };
    let order = store.abandon_renewal(&abandonment, &change, actor, ctx.clock.now()).await?;
    Ok(AbandonOutcome {
        order_no: order.order_no.to_string(),
        status: order.status.code(),
        job_id: job.id,
        key_cleanup,
        unused_certificate: issued.as_ref().map(summary_of_issued),
    })
}

/// The order's key as the reader has it: `WrongKey` (both serials named) when another key is there,
/// `NoKey` when none is.
async fn inspect_order_key(
    worker: &mut TokenWorker,
    order: &Order,
) -> Result<crate::token::pkcs11::TokenReport, RenewError> {
    let serial = order.key_serial.to_string();
    match worker.inspect(&serial).await {
        Ok(report) => Ok(report),
        Err(WorkerError::Token(TokenError::NotPresent { present, .. })) if present != "无" => {
            Err(RenewError::WrongKey(format!(
                "读卡器中的 KEY 序列号 {present}，订单 {} 的 KEY 编号 {serial}",
                order.order_no
            )))
        }
        Err(WorkerError::Token(TokenError::NotPresent { .. })) => Err(RenewError::NoKey(serial)),
        Err(e) => Err(e.into()),
    }
}

/// Removes the job's objects (its CKA_ID) from the order's key, after checking the key is the order's
/// and still carries the old certificate; says what it did.
async fn remove_job_objects(
    worker: &mut TokenWorker,
    order: &Order,
    job: &RenewalJob,
    pin_source: &mut PinSource<'_>,
) -> Result<String, RenewError> {
    let serial = order.key_serial.to_string();
    let report = inspect_order_key(worker, order).await?;
    let old_cert_on_key =
        |objects: &[ObjectInfo]| objects.iter().any(|o| o.class == "certificate" && o.id == job.plan.old_key_id);
    if !old_cert_on_key(&report.objects) {
        return Err(RenewError::TooLateToAbandon);
    }
    pin_allows_login(&report.token.pin).map_err(RenewError::PinBlocked)?;
    let pin = pin_source().map_err(RenewError::Pin)?;
    let login = worker.login(&serial, &pin).await;
    drop(pin);
    match login {
        Ok(()) => {}
        Err(WorkerError::Token(TokenError::PinIncorrect | TokenError::PinLocked)) => {
            return Err(RenewError::PinIncorrect(None))
        }
        Err(e) => return Err(e.into()),
    }
    let new_id = hex::decode(&job.plan.new_key_id).map_err(|e| RenewError::Check(e.to_string()))?;
    let removed = worker.destroy(&serial, &[Class::Certificate, Class::PrivateKey, Class::PublicKey], &new_id).await?;
    let after = worker.inspect(&serial).await?;
    if after.objects.iter().any(|o| o.id == job.plan.new_key_id) {
        return Err(RenewError::Check(format!("KEY 上仍有本任务的对象（CKA_ID {}）", job.plan.new_key_id)));
    }
    if !old_cert_on_key(&after.objects) {
        return Err(RenewError::Check("清理后 KEY 上找不到原证书".into()));
    }
    Ok(format!("已从 KEY {serial} 移除本任务生成的对象 {removed} 个，原证书保留"))
}

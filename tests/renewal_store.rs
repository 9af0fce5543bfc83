//! The renewal journal in the store, on both databases: a job starts with the order's move to
//! `renewing`, commits its steps in order, records at most one issued certificate, and finishes with the
//! order `renewed`; a second running job for the same order is refused.

use crate::support::now;
use chrono::Duration;
use keydesk::domain::order::Change;
use keydesk::domain::renewal_job::{
    Abandonment, IssuedCertificate, JobState, NewRenewalJob, Phase, RenewalStep, StepResult,
};
use keydesk::domain::{AuditAction, OrderNo, Status};
use keydesk::ops;
use keydesk::store::{PlannedChange, Stamps, StoreError};

use crate::both_backends;
use crate::support::{actor, load_demo, TestDb};

both_backends!(a_renewal_job_commits_its_steps_and_records_one_certificate, async |db: &TestDb| {
    let s = db.store.as_ref();
    let (no, received) = received_demo_order(db).await;
    let at = now();
    let plan = plan_for(&received, at);
    let change = |o: &keydesk::domain::Order, to: Status| planned(o, to, AuditAction::Renew);
    let job = s.start_renewal(&plan, &change(&received, Status::Renewing), &actor("qin"), at).await.unwrap();
    assert_eq!((job.state, job.step), (JobState::Running, RenewalStep::Start));
    let renewing = s.order_by_no(&no).await.unwrap().unwrap();
    assert_eq!(renewing.status, Status::Renewing);
    // A second job for the same order while one runs: refused, nothing written.
    let again = s.start_renewal(&plan, &change(&received, Status::Renewing), &actor("qin"), at).await;
    assert!(matches!(again, Err(StoreError::Conflict { .. })), "{again:?}");
    assert_eq!(s.renewal_jobs_for_order(received.id).await.unwrap().len(), 1);

    s.journal(job.id, RenewalStep::GenerateKey, Phase::Intent, "CKA_ID aa", at).await.unwrap();
    let job = s
        .commit_step(
            job.id,
            RenewalStep::GenerateKey,
            &StepResult { public_key: Some("3059".into()), ..StepResult::default() },
            at,
        )
        .await
        .unwrap();
    assert_eq!((job.step, job.public_key.as_deref()), (RenewalStep::GenerateKey, Some("3059")));
    let cert = issued_for(&job, at);
    let issued = s.record_issued_certificate(&cert, &StepResult::default(), at).await.unwrap();
    assert_eq!(issued.serial, "4F");
    let second = s
        .record_issued_certificate(
            &IssuedCertificate { serial: "50".into(), ..cert.clone() },
            &StepResult::default(),
            at,
        )
        .await;
    assert!(matches!(second, Err(StoreError::Conflict { .. })), "never a second certificate for a job");
    assert_eq!(s.issued_certificates_for_order(received.id).await.unwrap().len(), 1);

    let order = s
        .finish_renewal(job.id, &change(&renewing, Status::Renewed), &StepResult::default(), &actor("qin"), at)
        .await
        .unwrap();
    assert_eq!(order.status, Status::Renewed);
    let jobs = s.renewal_jobs_for_order(received.id).await.unwrap();
    assert_eq!((jobs.len(), jobs[0].state, jobs[0].step), (1, JobState::Done, RenewalStep::Finish));
    assert!(
        s.commit_step(job.id, RenewalStep::Finish, &StepResult::default(), at).await.is_err(),
        "a finished job takes no more steps"
    );
    let journal: Vec<(String, String)> =
        s.renewal_journal(job.id).await.unwrap().into_iter().map(|j| (j.step, j.phase)).collect();
    assert_eq!(
        journal,
        [
            ("start", "done"),
            ("generate_key", "intent"),
            ("generate_key", "done"),
            ("issue", "done"),
            ("finish", "done")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let audit = s.audit_for_order(received.id).await.unwrap();
    assert!(audit.iter().any(|a| a.to_status.as_deref() == Some("renewed") && a.action == AuditAction::Renew));
    let renewed = s.order_by_no(&no).await.unwrap().unwrap();
    let refused = s.abandon_renewal(&abandonment(job.id), &change(&renewed, Status::Shipped), &actor("qin"), at).await;
    assert!(matches!(refused, Err(StoreError::Conflict { .. })), "a finished job cannot be abandoned: {refused:?}");
});

/// The demo order 0000261121000001, received at the desk.
async fn received_demo_order(db: &TestDb) -> (OrderNo, keydesk::domain::Order) {
    load_demo(db).await;
    let no = OrderNo::parse("0000261121000001").unwrap();
    let received = ops::change::change_order(
        db.store.as_ref(),
        &no,
        &Change::MoveTo(Status::Received),
        "",
        &actor("qin"),
        &crate::support::clock(),
    )
    .await
    .unwrap();
    (no, received)
}

/// The plan of a job renewing `order`'s certificate, started at `at`.
fn plan_for(order: &keydesk::domain::Order, at: chrono::DateTime<chrono::Utc>) -> NewRenewalJob {
    NewRenewalJob {
        order_id: order.id,
        key_serial: order.key_serial.to_string(),
        algorithm: "rsa-2048".into(),
        new_key_id: "aa".into(),
        old_key_id: "01".into(),
        old_label: "签名证书".into(),
        old_cert_serial: order.cert.serial.clone(),
        old_cert_fingerprint: "F0".into(),
        old_not_before: order.cert.not_before,
        old_not_after: order.cert.not_after,
        planned_serial: "4F".into(),
        planned_not_before: at,
        planned_not_after: at + Duration::days(365),
        kept_objects: vec![],
    }
}

/// The certificate a CA issued for `job`.
fn issued_for(job: &keydesk::domain::renewal_job::RenewalJob, at: chrono::DateTime<chrono::Utc>) -> IssuedCertificate {
    IssuedCertificate {
        id: 0,
        job_id: job.id,
        order_id: job.plan.order_id,
        serial: "4F".into(),
        subject: "CN=x".into(),
        issuer: "CN=ca".into(),
        not_before: at,
        not_after: at + Duration::days(365),
        fingerprint: "AB".into(),
        pem: "-----BEGIN CERTIFICATE-----".into(),
        ca_backend: "local".into(),
        issued_at: at,
    }
}

/// `o` moved to `to`, planned on the order as read.
fn planned(o: &keydesk::domain::Order, to: Status, action: AuditAction) -> PlannedChange {
    PlannedChange {
        order_id: o.id,
        order_no: o.order_no.clone(),
        expected_version: o.version,
        transition: o.plan(&Change::MoveTo(to), "test").unwrap(),
        stamps: Stamps::default(),
        action,
    }
}

fn abandonment(job_id: i64) -> Abandonment {
    Abandonment {
        job_id,
        step: RenewalStep::Issue,
        reason: "CA 有效期错误".into(),
        key_cleanup: "已移除 3 个对象".into(),
    }
}

both_backends!(an_abandoned_job_ends_moves_the_order_back_and_keeps_its_certificate_on_record, async |db: &TestDb| {
    let s = db.store.as_ref();
    let (no, received) = received_demo_order(db).await;
    let at = now();
    let plan = plan_for(&received, at);
    let job = s
        .start_renewal(&plan, &planned(&received, Status::Renewing, AuditAction::Renew), &actor("qin"), at)
        .await
        .unwrap();
    let cert = issued_for(&job, at);
    s.record_issued_certificate(&cert, &StepResult::default(), at).await.unwrap();
    let renewing = s.order_by_no(&no).await.unwrap().unwrap();
    let order = s
        .abandon_renewal(
            &abandonment(job.id),
            &planned(&renewing, Status::Received, AuditAction::RenewAbandon),
            &actor("qin"),
            at,
        )
        .await
        .unwrap();
    assert_eq!(order.status, Status::Received);
    let jobs = s.renewal_jobs_for_order(received.id).await.unwrap();
    assert_eq!((jobs.len(), jobs[0].state), (1, JobState::Abandoned));
    assert!(!jobs[0].is_running() && !jobs[0].is_done());
    assert_eq!(
        s.issued_certificates_for_order(received.id).await.unwrap().len(),
        1,
        "the issued certificate stays on record"
    );
    let journal = s.renewal_journal(job.id).await.unwrap();
    assert!(
        journal.last().is_some_and(|j| j.phase == "failed" && j.detail.contains("放弃续签：CA 有效期错误")),
        "{journal:?}"
    );
    assert!(s
        .audit_for_order(received.id)
        .await
        .unwrap()
        .iter()
        .any(|a| a.action == AuditAction::RenewAbandon && a.to_status.as_deref() == Some("received")));
    // Abandoned twice: the second finds no running job and writes nothing.
    let twice = s
        .abandon_renewal(
            &abandonment(job.id),
            &planned(&order, Status::Renewing, AuditAction::RenewAbandon),
            &actor("qin"),
            at,
        )
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict { .. })), "{twice:?}");
    assert_eq!(s.order_by_no(&no).await.unwrap().unwrap().status, Status::Received);
    // A new job may start.
    let again = s
        .start_renewal(&plan, &planned(&order, Status::Renewing, AuditAction::Renew), &actor("qin"), at)
        .await
        .unwrap();
    assert_eq!(again.state, JobState::Running);
});

//! Two desks acting on the same order must never both succeed: many rounds of concurrent writers on
//! both databases, exactly one winner each time, the losers told "changed by another desk", and no
//! lost update (the version counts every winning write).

use std::sync::Arc;

use crate::support::now;
use keydesk::domain::order::Change;
use keydesk::domain::{AuditAction, HoldReason, Order, Status};
use keydesk::ops::intake::{intake, IntakeResult};
use keydesk::store::{PlannedChange, Stamps, Store, StoreError};

use crate::both_backends;
use crate::support::{actor, load_demo, TestDb};

const ROUNDS: usize = 40;
const WRITERS: usize = 4;

both_backends!(concurrent_writers_on_one_order_have_exactly_one_winner, async |db: &TestDb| {
    load_demo(db).await;
    let store: Arc<dyn Store> = db.store.clone();
    let orders = store
        .list_orders(&keydesk::store::ListQuery { status: Some(Status::Paid), limit: 5, after_id: 0 })
        .await
        .unwrap();
    for round in 0..ROUNDS {
        let target: Order = store.order_by_id(orders[round % orders.len()].id).await.unwrap().unwrap();
        // Every writer plans on the same version; a hold when paid, a release when held. The reason
        // `race` marks this test's writes in the audit log.
        let (change, action) = if target.status == Status::OnHold {
            (Change::Release, AuditAction::Release)
        } else {
            (Change::Hold { reason: HoldReason::Other, resume_to: None }, AuditAction::Hold)
        };
        let transition = target.plan(&change, "race").unwrap();
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let store = store.clone();
            let planned = PlannedChange {
                order_id: target.id,
                order_no: target.order_no.clone(),
                expected_version: target.version,
                transition: transition.clone(),
                stamps: Stamps::default(),
                action,
            };
            tasks.push(tokio::spawn(
                async move { store.apply_change(&planned, &actor(&format!("desk{w}")), now()).await },
            ));
        }
        let mut winners = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(o) => {
                    winners += 1;
                    assert_eq!(o.version, target.version + 1);
                }
                Err(StoreError::Conflict { order_no }) => assert_eq!(order_no, target.order_no.to_string()),
                Err(e) => panic!("round {round}: unexpected error {e}"),
            }
        }
        assert_eq!(winners, 1, "round {round}: exactly one winner");
    }
    // No lost update: every winning write shows in the version and in the audit log.
    for o in &orders {
        let now_o = store.order_by_id(o.id).await.unwrap().unwrap();
        let wins = store.audit_for_order(o.id).await.unwrap().iter().filter(|a| a.reason == "race").count() as i64;
        assert_eq!(now_o.version - o.version, wins);
        assert_eq!(wins as usize, ROUNDS / orders.len());
    }
});

both_backends!(two_desks_scanning_one_parcel_receive_it_once, async |db: &TestDb| {
    load_demo(db).await;
    let store: Arc<dyn Store> = db.store.clone();
    let paid = store
        .list_orders(&keydesk::store::ListQuery { status: Some(Status::Paid), limit: 12, after_id: 0 })
        .await
        .unwrap();
    for o in paid.iter().filter(|o| o.inbound.waybill.as_deref().is_some_and(|w| w.starts_with("SF"))) {
        let scan = o.inbound.waybill.clone().unwrap();
        let tasks: Vec<_> = (0..3)
            .map(|d| {
                let store = store.clone();
                let scan = scan.clone();
                tokio::spawn(async move {
                    intake(store.as_ref(), &scan, &actor(&format!("desk{d}")), &crate::support::clock()).await
                })
            })
            .collect();
        let mut matched = 0;
        for t in tasks {
            let out = t.await.unwrap().unwrap();
            match out.result {
                IntakeResult::Matched => matched += 1,
                IntakeResult::AlreadyReceived => {}
                other => panic!("{other:?}: {}", out.message),
            }
        }
        assert_eq!(matched, 1, "order {}", o.order_no);
        assert_eq!(store.receipts_for_order(o.id).await.unwrap().len(), 1, "one receipt for {}", o.order_no);
    }
});

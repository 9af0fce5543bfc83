//! The store's story, told once and run on both databases: import, lookups by every index, changes
//! with their audit rows, operators, and the unmatched-parcel queue.

use keydesk::domain::order::Change;
use keydesk::domain::{AuditAction, HoldReason, OrderNo, Status, Waybill};
use keydesk::ops;
use keydesk::store::ListQuery;

use crate::both_backends;
use crate::support::{actor, demo_json, load_demo, TestDb};

both_backends!(import_is_idempotent_and_lookups_find_orders, async |db: &TestDb| {
    let s = db.store.as_ref();
    let first = ops::import::import_orders(s, &demo_json(), &actor("import"), &crate::support::clock()).await.unwrap();
    assert!(first.inserted >= 60, "{first:?}");
    assert_eq!(first.updated, 0);
    let again = ops::import::import_orders(s, &demo_json(), &actor("import"), &crate::support::clock()).await.unwrap();
    assert_eq!(again.inserted, 0);
    assert_eq!(again.updated, first.inserted);
    assert_eq!(s.count_orders().await.unwrap() as u64, first.inserted);

    let no = OrderNo::parse("0000261121000001").unwrap();
    let o = s.order_by_no(&no).await.unwrap().expect("demo order");
    assert_eq!(o.company, "北京巨蟹宫科技有限公司");
    assert_eq!(o.amount.to_string(), "249.00");
    assert_eq!(o.status, Status::Paid);

    // Every index the desk uses finds the order.
    let wb = Waybill::parse(o.inbound.waybill.as_deref().unwrap()).unwrap();
    assert_eq!(s.orders_by_inbound_waybill(&wb).await.unwrap()[0].id, o.id);
    for text in [
        o.key_serial.as_str(),
        o.account.as_str(),
        "0000261121000001",
        "zfs0000026112100001",
        "北京巨蟹宫",
        "巨蟹宫科技",
        &o.phone_tail(),
        &o.holder_name,
    ] {
        let found = s.search_orders(text, 50).await.unwrap();
        assert!(found.iter().any(|f| f.id == o.id), "search {text:?} missed the order");
    }
    assert!(s.search_orders("  ", 50).await.unwrap().is_empty());

    let paid = s.list_orders(&ListQuery { status: Some(Status::Paid), limit: 1000, after_id: 0 }).await.unwrap();
    assert!(paid.len() >= 20 && paid.iter().all(|o| o.status == Status::Paid));
    let page = s.list_orders(&ListQuery { status: None, limit: 10, after_id: paid[0].id }).await.unwrap();
    assert!(page.len() == 10 && page.iter().all(|p| p.id > paid[0].id));

    // Nothing was lost on the way: an imported order reads back as it was parsed.
    let parsed = ops::import::parse_export(&demo_json(), crate::support::clock().now()).unwrap();
    let want = parsed.iter().find(|p| p.order_no == no).unwrap();
    let mut got = o.clone();
    got.id = 0;
    got.version = want.version;
    got.updated_at = want.updated_at;
    assert_eq!(&got, want);
});

both_backends!(changes_write_audit_rows_and_bump_versions, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let no = OrderNo::parse("0000261121000001").unwrap();
    let before = s.order_by_no(&no).await.unwrap().unwrap();
    let held = ops::change::change_order(
        s,
        &no,
        &Change::Hold { reason: HoldReason::DocumentsMissing, resume_to: None },
        "缺公章",
        &actor("qin"),
        &crate::support::clock(),
    )
    .await
    .unwrap();
    assert_eq!(held.status, Status::OnHold);
    assert_eq!(held.version, before.version + 1);
    assert_eq!(held.hold.as_ref().unwrap().resume_to, Status::Paid);
    let err = ops::change::change_order(
        s,
        &no,
        &Change::MoveTo(Status::Shipped),
        "",
        &actor("qin"),
        &crate::support::clock(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("不能改为"), "{err}");
    let released =
        ops::change::change_order(s, &no, &Change::Release, "已补齐", &actor("wang"), &crate::support::clock())
            .await
            .unwrap();
    assert_eq!(released.status, Status::Paid);
    assert!(released.hold.is_none());
    let audit = s.audit_for_order(before.id).await.unwrap();
    let tail: Vec<(AuditAction, Option<String>, Option<String>, String)> = audit
        .iter()
        .rev()
        .take(2)
        .map(|a| (a.action, a.from_status.clone(), a.to_status.clone(), a.operator.clone()))
        .collect();
    assert_eq!(
        tail,
        vec![
            (AuditAction::Release, Some("on_hold".into()), Some("paid".into()), "wang".into()),
            (AuditAction::Hold, Some("paid".into()), Some("on_hold".into()), "qin".into()),
        ]
    );
    assert!(audit.iter().all(|a| a.desk == "test-desk" || a.action == AuditAction::Import));
});

both_backends!(reimport_keeps_desk_progress, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let no = OrderNo::parse("0000261121000001").unwrap();
    let o = s.order_by_no(&no).await.unwrap().unwrap();
    s.add_operator("qin", "x", crate::support::now()).await.unwrap();
    ops::intake::intake(s, o.inbound.waybill.as_deref().unwrap(), &actor("qin"), &crate::support::clock())
        .await
        .unwrap();
    // The platform's next export still says "paid": the desk's "received" must survive it.
    ops::import::import_orders(s, &demo_json(), &actor("import"), &crate::support::clock()).await.unwrap();
    let after = s.order_by_no(&no).await.unwrap().unwrap();
    assert_eq!(after.status, Status::Received);
    assert!(after.received_at.is_some());
});

both_backends!(operators_are_unique_and_sign_in_checks_the_password, async |db: &TestDb| {
    let s = db.store.as_ref();
    ops::operators::add_operator(s, "秦经理", "2468", &crate::support::clock()).await.unwrap();
    let dup = ops::operators::add_operator(s, "秦经理", "1357", &crate::support::clock()).await.unwrap_err();
    assert!(dup.to_string().contains("已存在"), "{dup}");
    assert!(ops::operators::add_operator(s, "x", "12", &crate::support::clock()).await.is_err(), "too short a secret");
    let rec = s.operator_by_name("秦经理").await.unwrap().unwrap();
    assert!(rec.password_hash.starts_with("$argon2"), "stored hashed");
    assert!(!rec.password_hash.contains("2468"));
    assert!(ops::operators::sign_in(s, "秦经理", "2468").await.is_ok());
    assert!(matches!(ops::operators::sign_in(s, "秦经理", "0000").await, Err(ops::OpsError::BadCredentials)));
    assert!(matches!(ops::operators::sign_in(s, "nobody", "2468").await, Err(ops::OpsError::BadCredentials)));
});

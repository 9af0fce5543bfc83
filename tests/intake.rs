//! Intake on both databases: each result of a scan, and what it leaves in the database.

use keydesk::domain::{AuditAction, HoldReason, OrderNo, Status};
use keydesk::ops::intake::{intake, IntakeResult, OrderOutcome};
use keydesk::store::Store;

use crate::both_backends;
use crate::support::{actor, load_demo, TestDb};

async fn order(s: &dyn Store, no: &str) -> keydesk::domain::Order {
    s.order_by_no(&OrderNo::parse(no).unwrap()).await.unwrap().unwrap()
}

async fn by_status_with_waybill(s: &dyn Store, status: Status) -> keydesk::domain::Order {
    s.list_orders(&keydesk::store::ListQuery { status: Some(status), limit: 100, after_id: 0 })
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.inbound.waybill.as_deref().is_some_and(|w| w.starts_with("SF")))
        .unwrap()
}

both_backends!(noisy_scan_receives_the_order_then_reports_already_received, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let o = order(s, "0000261121000001").await;
    let scan = format!("{}\r\n", o.inbound.waybill.as_deref().unwrap().to_lowercase());
    let first = intake(s, &scan, &actor("qin"), &crate::support::clock()).await.unwrap();
    assert_eq!(first.result, IntakeResult::Matched, "{}", first.message);
    assert_eq!(first.orders.len(), 1);
    assert_eq!(first.orders[0].outcome, OrderOutcome::Received);
    assert_eq!(first.orders[0].holder, "秦**", "personal data masked on the card");
    let after = order(s, "0000261121000001").await;
    assert_eq!(after.status, Status::Received);
    assert_eq!(after.received_by.as_deref(), Some("qin"));
    assert_eq!(s.receipts_for_order(o.id).await.unwrap().len(), 1);

    let second = intake(s, &scan, &actor("wang"), &crate::support::clock()).await.unwrap();
    assert_eq!(second.result, IntakeResult::AlreadyReceived);
    assert!(second.message.contains("由 qin 收件"), "{}", second.message);
    assert_eq!(s.receipts_for_order(o.id).await.unwrap().len(), 1, "no second receipt");
    assert_eq!(order(s, "0000261121000001").await.version, after.version, "nothing written");
});

both_backends!(one_parcel_with_two_keys_receives_both, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let a = order(s, "0000261125000015").await;
    let b = order(s, "0000261126000016").await;
    assert_eq!(a.inbound.waybill, b.inbound.waybill, "fixture: a shared waybill");
    let out = intake(s, a.inbound.waybill.as_deref().unwrap(), &actor("qin"), &crate::support::clock()).await.unwrap();
    assert_eq!(out.result, IntakeResult::Matched);
    assert_eq!(out.orders.len(), 2);
    assert!(out.message.contains("2 个 KEY"), "{}", out.message);
    for no in ["0000261125000015", "0000261126000016"] {
        assert_eq!(order(s, no).await.status, Status::Received);
    }
});

both_backends!(unpaid_parcel_is_recorded_and_held, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let o = by_status_with_waybill(s, Status::Unpaid).await;
    let out = intake(s, o.inbound.waybill.as_deref().unwrap(), &actor("qin"), &crate::support::clock()).await.unwrap();
    assert_eq!(out.result, IntakeResult::Unpaid);
    assert_eq!(keydesk::cli::exit::of_intake(out.result), keydesk::cli::exit::INTAKE_UNPAID);
    let after = s.order_by_id(o.id).await.unwrap().unwrap();
    assert_eq!(after.status, Status::OnHold);
    let hold = after.hold.unwrap();
    assert_eq!((hold.reason, hold.resume_to), (HoldReason::UnpaidParcel, Status::Received));
    assert!(after.received_at.is_some());
    assert_eq!(
        intake(s, o.inbound.waybill.as_deref().unwrap(), &actor("qin"), &crate::support::clock()).await.unwrap().result,
        IntakeResult::AlreadyReceived
    );
});

both_backends!(unknown_parcel_goes_to_the_unmatched_queue_once, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let out = intake(s, "SF9999999999999", &actor("qin"), &crate::support::clock()).await.unwrap();
    assert_eq!(out.result, IntakeResult::Unknown);
    let again = intake(s, "sf9999999999999", &actor("wang"), &crate::support::clock()).await.unwrap();
    assert_eq!(again.result, IntakeResult::Unknown);
    assert!(again.message.contains("已于"), "{}", again.message);
    let queue = s.unmatched_parcels().await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!((queue[0].waybill.as_str(), queue[0].operator.as_str()), ("SF9999999999999", "qin"));
});

both_backends!(other_couriers_and_garbage_are_refused_without_writes, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let not_sf = intake(s, "YT7345678901234", &actor("qin"), &crate::support::clock()).await.unwrap();
    assert_eq!(not_sf.result, IntakeResult::NotSf);
    assert!(not_sf.message.contains("not SF Express"), "{}", not_sf.message);
    let invalid = intake(s, "hello?", &actor("qin"), &crate::support::clock()).await.unwrap();
    assert_eq!(invalid.result, IntakeResult::Invalid);
    assert!(s.unmatched_parcels().await.unwrap().is_empty());
});

both_backends!(a_swallowed_sf_prefix_still_matches, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let o = order(s, "0000261122000002").await;
    let digits = o.inbound.waybill.as_deref().unwrap().trim_start_matches("SF").to_string();
    let out = intake(s, &digits, &actor("qin"), &crate::support::clock()).await.unwrap();
    assert_eq!(out.result, IntakeResult::Matched, "{}", out.message);
    assert!(out.message.contains("缺少 SF 前缀"), "{}", out.message);
});

both_backends!(parcel_for_a_cancelled_order_is_recorded_for_return, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let o = by_status_with_waybill(s, Status::Cancelled).await;
    let out = intake(s, o.inbound.waybill.as_deref().unwrap(), &actor("qin"), &crate::support::clock()).await.unwrap();
    assert_eq!(out.result, IntakeResult::Closed);
    let after = s.order_by_id(o.id).await.unwrap().unwrap();
    assert_eq!(after.status, Status::Cancelled);
    assert!(after.received_at.is_some());
});

both_backends!(a_renewed_key_ships_once_with_its_waybill, async |db: &TestDb| {
    use keydesk::ops::ship::{ship, Shipped};
    load_demo(db).await;
    let s = db.store.as_ref();
    let renewed = by_status_with_waybill(s, Status::Renewed).await;
    let no = renewed.order_no.clone();
    let shipped = ship(s, &no, "sf1234567890123", &actor("qin"), &crate::support::clock()).await.unwrap();
    let Shipped::Now(o) = shipped else { panic!("first ship writes") };
    assert_eq!((o.status, o.outbound_waybill.as_ref().map(|w| w.as_str())), (Status::Shipped, Some("SF1234567890123")));
    assert!(o.shipped_at.is_some());
    assert!(
        matches!(
            ship(s, &no, "SF1234567890123", &actor("qin"), &crate::support::clock()).await.unwrap(),
            Shipped::Before(_)
        ),
        "same waybill: nothing"
    );
    let other = ship(s, &no, "SF9999999999990", &actor("qin"), &crate::support::clock()).await.unwrap_err();
    assert!(other.to_string().contains("已用运单"), "{other}");
    let not_sf = ship(
        s,
        &order(s, "0000261121000001").await.order_no,
        "YT1234567890123",
        &actor("qin"),
        &crate::support::clock(),
    )
    .await
    .unwrap_err();
    assert!(not_sf.to_string().contains("not SF"), "{not_sf}");
    let paid = ship(
        s,
        &order(s, "0000261121000001").await.order_no,
        "SF1234567890124",
        &actor("qin"),
        &crate::support::clock(),
    )
    .await
    .unwrap_err();
    assert!(paid.to_string().contains("不能改为"), "{paid}");
    let audit = s.audit_for_order(o.id).await.unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == AuditAction::Ship).count(), 1);
});

// A scan on a renewed order's screen: the next parcel (an order waits for that waybill, or it waits in
// the unmatched queue) is taken in and the renewed order is left as it was; anything else is its return
// waybill and it ships; a scan that is no SF waybill is refused and nothing is written.
both_backends!(a_scan_on_a_renewed_orders_screen_ships_it_unless_it_is_the_next_parcel, async |db: &TestDb| {
    use keydesk::ops::ship::{ship_or_intake, ScanOnOrder};
    load_demo(db).await;
    let s = db.store.as_ref();
    let clock = crate::support::clock();
    let renewed = by_status_with_waybill(s, Status::Renewed).await;
    let next = by_status_with_waybill(s, Status::Paid).await;
    let next_waybill = next.inbound.waybill.clone().unwrap();
    let got = ship_or_intake(s, &renewed.order_no, &next_waybill, &actor("qin"), &clock).await.unwrap();
    let ScanOnOrder::Parcel(outcome) = got else { panic!("the next parcel: {got:?}") };
    assert_eq!(outcome.result, IntakeResult::Matched, "{}", outcome.message);
    assert_eq!(order(s, next.order_no.as_str()).await.status, Status::Received);
    assert_eq!(order(s, renewed.order_no.as_str()).await.status, Status::Renewed, "not shipped");

    // A parcel nobody claimed, scanned earlier: scanned again here it is still a parcel.
    intake(s, "SF1999999999999", &actor("qin"), &clock).await.unwrap();
    let again = ship_or_intake(s, &renewed.order_no, "SF1999999999999", &actor("qin"), &clock).await.unwrap();
    assert!(matches!(again, ScanOnOrder::Parcel(ref o) if o.result == IntakeResult::Unknown), "{again:?}");
    assert_eq!(order(s, renewed.order_no.as_str()).await.status, Status::Renewed);

    let garbled = ship_or_intake(s, &renewed.order_no, "SF12#", &actor("qin"), &clock).await;
    assert!(garbled.is_err(), "{garbled:?}");
    assert_eq!(order(s, renewed.order_no.as_str()).await.status, Status::Renewed);

    let shipped = ship_or_intake(s, &renewed.order_no, "SF1234567890123", &actor("qin"), &clock).await.unwrap();
    assert_eq!(shipped, ScanOnOrder::Shipped);
    let after = order(s, renewed.order_no.as_str()).await;
    assert_eq!(after.status, Status::Shipped);
    assert_eq!(after.outbound_waybill.map(|w| w.to_string()).as_deref(), Some("SF1234567890123"));
});

// A parcel scanned before its order was imported waits as unmatched; once the order is known, the next
// scan receives it and the parcel leaves the unmatched queue (with the order it turned out to be).
both_backends!(a_parcel_that_waited_unmatched_leaves_the_queue_when_its_order_receives_it, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let clock = crate::support::clock();
    let waybill = "SF1888888888888";
    let first = intake(s, waybill, &actor("qin"), &clock).await.unwrap();
    assert_eq!(first.result, IntakeResult::Unknown);
    assert_eq!(s.unmatched_parcels().await.unwrap().len(), 1);

    // The platform's next export carries the order that parcel belongs to.
    let mut all: serde_json::Value = serde_json::from_str(&crate::support::demo_json()).unwrap();
    let mut late = all.as_array_mut().unwrap()[0].clone();
    late["order_no"] = "0000261130000099".into();
    late["platform_order_no"] = "ZFS0000026113000099".into();
    late["key_serial"] = "15510299999".into();
    late["inbound"]["waybill"] = waybill.into();
    let orders =
        keydesk::ops::import::parse_export(&serde_json::Value::Array(vec![late]).to_string(), clock.now()).unwrap();
    s.import_orders(&orders, &actor("import"), clock.now()).await.unwrap();

    let second = intake(s, waybill, &actor("qin"), &clock).await.unwrap();
    assert_eq!(second.result, IntakeResult::Matched, "{}", second.message);
    assert!(s.unmatched_parcels().await.unwrap().is_empty(), "matched now, no longer waiting");
    assert_eq!(order(s, "0000261130000099").await.status, Status::Received);
});

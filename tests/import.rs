//! Import is all or nothing, and a bad record is named by its index and field.

use keydesk::ops;

use crate::both_backends;
use crate::support::{actor, demo_json, TestDb};

fn with_record_changed(index: usize, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut all: Vec<serde_json::Value> = serde_json::from_str(&demo_json()).unwrap();
    edit(&mut all[index]);
    serde_json::to_string(&all).unwrap()
}

#[test]
fn bad_records_are_named_by_index_and_field() {
    let cases: Vec<(String, &str)> = vec![
        (
            with_record_changed(3, |r| r["amount"] = "249.001".into()),
            "record 3 (order 0000261124000004): field `amount`",
        ),
        (
            with_record_changed(5, |r| r["order_no"] = "0000261331000006".into()),
            "record 5 (order 0000261331000006): field `order_no`",
        ),
        (with_record_changed(7, |r| r["status"] = "shipping".into()), "field `status`"),
        (with_record_changed(8, |r| r["cert"]["seal"] = "triple".into()), "field `cert.seal`"),
        (
            with_record_changed(9, |r| {
                r.as_object_mut().unwrap().remove("account");
            }),
            "record 9: missing field `account`",
        ),
        (with_record_changed(10, |r| r["colour"] = "red".into()), "record 10: unknown field `colour`"),
        (with_record_changed(11, |r| r["contact_phone"] = "".into()), "field `contact_phone`"),
        (with_record_changed(12, |r| r["outbound_waybill"] = "YT1234567890123".into()), "field `outbound_waybill`"),
        (with_record_changed(2, |r| r["order_no"] = "0000261121000001".into()), "same order number"),
        ("{\"not\": \"an array\"}".to_string(), "not a JSON array"),
    ];
    for (json, want) in cases {
        let err = ops::import::parse_export(&json, crate::support::clock().now()).unwrap_err().to_string();
        assert!(err.contains(want), "want {want:?} in {err:?}");
    }
}

both_backends!(a_bad_record_imports_nothing, async |db: &TestDb| {
    let s = db.store.as_ref();
    let bad = with_record_changed(40, |r| r["term_years"] = 0.into());
    let err = ops::import::import_orders(s, &bad, &actor("import"), &crate::support::clock()).await.unwrap_err();
    assert!(err.to_string().contains("record 40"), "{err}");
    assert_eq!(s.count_orders().await.unwrap(), 0, "nothing half-written");
});

#[test]
fn demo_fixtures_cover_every_status_and_the_edge_cases() {
    use keydesk::domain::Status;
    let orders = ops::import::parse_export(&demo_json(), crate::support::clock().now()).unwrap();
    assert!(orders.len() >= 60);
    for status in Status::ALL {
        assert!(orders.iter().any(|o| o.status == status), "no demo order is {status}");
    }
    let mut by_waybill = std::collections::HashMap::new();
    for o in &orders {
        if let Some(w) = &o.inbound.waybill {
            *by_waybill.entry(w.clone()).or_insert(0) += 1;
        }
    }
    assert!(by_waybill.values().any(|&n| n >= 2), "one parcel with several keys");
    assert!(
        orders.iter().any(|o| o
            .inbound
            .waybill
            .as_deref()
            .is_some_and(|w| keydesk::domain::Waybill::parse(w).is_err())),
        "a non-SF waybill"
    );
    assert!(
        orders.iter().any(|o| o.status == Status::Unpaid && o.inbound.waybill.is_some()),
        "unpaid with a parcel on its way"
    );
    let now = crate::support::now();
    assert!(orders.iter().any(|o| o.cert.not_after < now), "an expired certificate (as of the fixture's day)");
    let rules = keydesk::domain::renewal::RenewalRules::default();
    assert!(orders.iter().any(|o| rules.mail_only(&o.cert)), "a pre-2021-12-17 single-seal certificate");
}

//! The SF open-platform client against a mock that verifies signatures and fields like SF.

use keydesk::outbound::courier::{
    courier_from_settings, Booking, Contact, CourierBackend, CourierError, CourierSettings, Secret, SfClient,
    ShipmentRequest,
};
use serde_json::json;

use super::support::sf_mock::{self, SfMock};

fn settings(mock: &SfMock) -> CourierSettings {
    CourierSettings {
        backend: CourierBackend::Sf,
        sf_base_url: mock.url(),
        partner_id: sf_mock::PARTNER_ID.to_string(),
        check_word: Secret::new(sf_mock::CHECK_WORD),
        monthly_account: "0101234567".to_string(),
        timeout_secs: 5,
        ..CourierSettings::default()
    }
}

fn request(order_id: &str) -> ShipmentRequest {
    ShipmentRequest {
        order_id: order_id.to_string(),
        sender: Contact {
            name: "秦经理".into(),
            phone: "010-00000000".into(),
            address: "北京市海淀区紫竹院路车道沟10号院科技一号楼".into(),
            company: String::new(),
        },
        recipient: Contact {
            name: "王喆".into(),
            phone: "13800138000".into(),
            address: "北京市市辖区丰台区丰台路18号院 3号楼&2单元*501+室".into(),
            company: "北京某某科技有限公司".into(),
        },
        cargo: "CA数字证书 UKey".into(),
        pieces: 1,
        remark: "续签寄回".into(),
    }
}

#[test]
fn create_order_is_signed_and_returns_waybill_and_route() {
    let mock = SfMock::start();
    let client = SfClient::new(&settings(&mock)).expect("client");
    let shipment = client.create_order(&request("0000250427000004")).expect("booked");
    assert_eq!(shipment.waybill, "SF1234567890123");
    let route = shipment.route.expect("route data");
    assert_eq!(route.dest_route_label, "755WE-571A");
    assert!(route.two_dimension_code.contains("SF1234567890123"));

    let received = mock.received();
    let names: Vec<&str> = received[0].fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["partnerID", "requestID", "serviceCode", "timestamp", "msgDigest", "msgData"]);
    let msg: serde_json::Value = serde_json::from_str(&received[0].fields[5].1).expect("msgData JSON");
    assert_eq!(msg["orderId"], "0000250427000004");
    assert_eq!(msg["monthlyCard"], "0101234567");
    assert_eq!(msg["expressTypeId"], 2);
    assert_eq!(msg["contactInfoList"][1]["mobile"], "13800138000");
    assert_eq!(msg["contactInfoList"][1]["address"], "北京市市辖区丰台区丰台路18号院 3号楼&2单元*501+室");
}

#[test]
fn repeating_an_order_id_returns_the_first_waybill() {
    let mock = SfMock::start();
    let courier = courier_from_settings(&settings(&mock)).expect("courier");
    let first = courier.book(&request("0000250427000004")).expect("first");
    let again = courier.book(&request("0000250427000004")).expect("again");
    let other = courier.book(&request("0000250427000005")).expect("other");
    let waybill = |b: Booking| match b {
        Booking::Booked(s) => s.waybill,
        Booking::NeedsScannedWaybill => panic!("sf books"),
    };
    let (first, again, other) = (waybill(first), waybill(again), waybill(other));
    assert_eq!(first, again);
    assert_ne!(first, other);
}

#[test]
fn wrong_check_word_is_a_clear_permanent_signature_error() {
    let mock = SfMock::start();
    let mut s = settings(&mock);
    s.check_word = Secret::new("not-the-check-word");
    let err = SfClient::new(&s).expect("client").create_order(&request("o1")).expect_err("must fail");
    match &err {
        CourierError::Gateway { code, .. } => assert_eq!(code, "A1006"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("check_word"), "{err}");
    assert!(!err.is_retryable());
}

#[test]
fn unknown_service_is_refused_by_the_gateway() {
    let mock = SfMock::start();
    let client = SfClient::new(&settings(&mock)).expect("client");
    let err = client.call("EXP_RECE_NO_SUCH_SERVICE", &json!({})).expect_err("must fail");
    assert!(matches!(&err, CourierError::Gateway { code, .. } if code == "A1004"), "{err:?}");
    assert!(err.to_string().contains("partner_id"), "{err}");
}

#[test]
fn business_errors_carry_sf_code_and_message() {
    let mock = SfMock::start();
    let client = SfClient::new(&settings(&mock)).expect("client");
    let mut req = request("o2");
    req.recipient.address.clear();
    let err = client.create_order(&req).expect_err("must fail");
    assert_eq!(err, CourierError::Rejected { code: "1014".into(), message: "到件方详细地址不能为空".into() });
}

#[test]
fn sf_unreachable_is_retryable_and_manual_books_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let s = CourierSettings {
        backend: CourierBackend::Sf,
        sf_base_url: format!("http://127.0.0.1:{port}/std/service"),
        partner_id: "p".into(),
        check_word: Secret::new("c"),
        timeout_secs: 3,
        ..CourierSettings::default()
    };
    let err = SfClient::new(&s).expect("client").create_order(&request("o3")).expect_err("down");
    assert!(err.is_retryable(), "{err:?}");

    let manual = courier_from_settings(&CourierSettings::default()).expect("manual");
    assert_eq!(manual.book(&request("o4")).expect("manual"), Booking::NeedsScannedWaybill);
    assert!(matches!(
        courier_from_settings(&CourierSettings { backend: CourierBackend::Sf, ..CourierSettings::default() }),
        Err(CourierError::NotConfigured(_))
    ));
}

#[test]
fn cloud_print_downloads_sf_label_with_the_auth_token() {
    let mock = SfMock::start();
    let client = SfClient::new(&settings(&mock)).expect("client");
    let shipment = client.create_order(&request("0000250427000009")).expect("booked");
    let pdf = client.cloud_print_waybill(&shipment.waybill).expect("label");
    assert_eq!(pdf, sf_mock::SF_LABEL_PDF);
    let err = client.cloud_print_waybill("SF0000000000000").expect_err("unknown waybill");
    assert!(matches!(&err, CourierError::Rejected { code, .. } if code == "8016"), "{err:?}");
}

//! SF courier routes: the push receiver over real TCP against a real store (both backends), with a
//! test client that signs pushes as SF does (msgDigest over body + timestamp + check word).

use std::net::SocketAddr;
use std::sync::Arc;

use keydesk::domain::route::format_accept_time;
use keydesk::outbound::courier::sf::msg_digest;
use keydesk::outbound::courier::Secret;
use keydesk::route_push::{Receiver, RouteSettings};
use sqlx::Connection;

use crate::both_backends;
use crate::support::{clock, load_demo, now, TestDb};

pub(crate) const CHECK_WORD: &str = "test-check-word-0123";
pub(crate) const SECRET_PATH: &str = "/sf/routes/0123456789abcdef0123";
/// A demo order, made "shipped" on `OUTBOUND` by [`ship`].
const ORDER: &str = "0000261121000001";
const INBOUND: &str = "SF1402000000000";
const OUTBOUND: &str = "SF7000000000017";

/// Runs SQL on the test database directly (test setup and checks only).
async fn sql_exec(db: &TestDb, sql: &str) {
    if db.url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.expect("sqlite");
        sqlx::query(sql).execute(&mut c).await.expect(sql);
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.expect("postgres");
        sqlx::query(sql).execute(&mut c).await.expect(sql);
    }
}

async fn sql_count(db: &TestDb, sql: &str) -> i64 {
    if db.url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.expect("sqlite");
        sqlx::query_scalar(sql).fetch_one(&mut c).await.expect(sql)
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.expect("postgres");
        sqlx::query_scalar(sql).fetch_one(&mut c).await.expect(sql)
    }
}

async fn ship(db: &TestDb) {
    sql_exec(db, &format!("UPDATE orders SET outbound_waybill = '{OUTBOUND}' WHERE order_no = '{ORDER}'")).await;
}

/// Whether the order's pickup (or delivery) instant is exactly the accept time of route `route_id`.
async fn order_instant_is(db: &TestDb, column: &str, route_id: &str) -> bool {
    sql_count(
        db,
        &format!(
            "SELECT COUNT(*) FROM orders WHERE order_no = '{ORDER}' AND {column} = \
             (SELECT accept_time FROM route_events WHERE route_id = '{route_id}')"
        ),
    )
    .await
        == 1
}

async fn order_instant_set(db: &TestDb, column: &str) -> bool {
    sql_count(db, &format!("SELECT COUNT(*) FROM orders WHERE order_no = '{ORDER}' AND {column} IS NOT NULL")).await
        == 1
}

fn settings(allow: &[&str]) -> RouteSettings {
    RouteSettings {
        secret_path: Secret::new(SECRET_PATH),
        allow: allow.iter().map(|s| s.to_string()).collect(),
        max_body_bytes: 4096,
        ..RouteSettings::default()
    }
}

/// A running receiver on a free loopback port.
async fn start(db: &TestDb, settings: RouteSettings) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let receiver =
        Receiver::new(&settings, Secret::new(CHECK_WORD), db.store.clone(), clock()).expect("receiver configured");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(keydesk::route_push::serve(listener, Arc::new(receiver), async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// One route event as SF pushes it, `minutes_ago` before the tests' clock.
fn event(mailno: &str, id: &str, op: &str, minutes_ago: i64) -> serde_json::Value {
    serde_json::json!({
        "mailno": mailno, "id": id, "opCode": op, "orderid": "",
        "acceptTime": format_accept_time(now() - chrono::TimeDelta::minutes(minutes_ago)),
        "acceptAddress": "北京市", "remark": "顺丰速运 已收取快件", "reasonCode": "",
    })
}

pub(crate) fn body(events: &[serde_json::Value]) -> String {
    serde_json::json!({ "Body": { "WaybillRoute": events } }).to_string()
}

/// The test's SF: posts `body` to `path`, signed with `check_word` when given. Status and answer.
pub(crate) async fn push(
    addr: SocketAddr,
    path: &str,
    body: String,
    check_word: Option<&str>,
) -> (u16, serde_json::Value) {
    let path = path.to_string();
    let check_word = check_word.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        let timestamp = "1764640500000";
        let mut url = format!("http://{addr}{path}");
        if let Some(word) = check_word {
            let digest = msg_digest(&body, timestamp, &word);
            let encoded = keydesk::outbound::courier::sf::java_url_encode(&digest);
            url = format!("{url}?timestamp={timestamp}&msgDigest={encoded}");
        }
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut response =
            agent.post(&url).header("Content-Type", "application/json").send(body.as_bytes()).expect("post");
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().expect("answer");
        (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("answer {text:?} is not JSON: {e}")))
    })
    .await
    .expect("client")
}

pub(crate) fn is_ok(answer: &serde_json::Value) -> bool {
    answer == &serde_json::json!({ "return_code": "0000", "return_msg": "成功" })
}

both_backends!(push_is_stored_and_applied_then_a_duplicate_changes_nothing, async |db: &TestDb| {
    load_demo(db).await;
    ship(db).await;
    let (addr, _stop) = start(db, settings(&["127.0.0.1"])).await;
    let pushed = body(&[event(OUTBOUND, "r-50", "50", 120), event(OUTBOUND, "r-30", "30", 60)]);
    let (status, answer) = push(addr, SECRET_PATH, pushed.clone(), Some(CHECK_WORD)).await;
    assert_eq!(status, 200);
    assert!(is_ok(&answer), "{answer}");
    let routes = db.store.routes_of_waybill(OUTBOUND).await.expect("routes");
    assert_eq!(routes.iter().map(|r| r.route_id.as_str()).collect::<Vec<_>>(), ["r-50", "r-30"]);
    assert_eq!(routes[0].order_no.as_deref(), Some(ORDER));
    assert!(order_instant_is(db, "courier_picked_up_at", "r-50").await);
    assert!(!order_instant_set(db, "courier_delivered_at").await);
    assert_eq!(sql_count(db, &format!("SELECT COUNT(*) FROM route_events WHERE raw = '{pushed}'")).await, 2);

    let (status, answer) = push(addr, SECRET_PATH, pushed, Some(CHECK_WORD)).await;
    assert_eq!(status, 200);
    assert!(is_ok(&answer), "a repeated push is acknowledged: {answer}");
    assert_eq!(db.store.route_event_count().await.unwrap(), 2);
    assert!(order_instant_is(db, "courier_picked_up_at", "r-50").await);
});

both_backends!(delivered_before_picked_up_ends_with_both_instants, async |db: &TestDb| {
    load_demo(db).await;
    ship(db).await;
    let (addr, _stop) = start(db, settings(&["127.0.0.1"])).await;
    let (_, answer) = push(addr, SECRET_PATH, body(&[event(OUTBOUND, "r-80", "80", 10)]), Some(CHECK_WORD)).await;
    assert!(is_ok(&answer));
    assert!(order_instant_is(db, "courier_delivered_at", "r-80").await);
    assert!(!order_instant_set(db, "courier_picked_up_at").await);
    let delivered_notices = format!(
        "SELECT COUNT(*) FROM notices n JOIN orders o ON o.id = n.order_id \
         WHERE o.order_no = '{ORDER}' AND n.kind = 'delivered'"
    );
    let per_delivery = sql_count(db, &delivered_notices).await;
    assert!(per_delivery >= 1, "the delivery is announced to the member");
    // Then the pickup, and after it a second pickup scan made later the same day: the earliest wins.
    for (id, minutes_ago) in [("r-50a", 900), ("r-50b", 300)] {
        let (_, answer) =
            push(addr, SECRET_PATH, body(&[event(OUTBOUND, id, "50", minutes_ago)]), Some(CHECK_WORD)).await;
        assert!(is_ok(&answer));
    }
    assert!(order_instant_is(db, "courier_picked_up_at", "r-50a").await);
    assert!(order_instant_is(db, "courier_delivered_at", "r-80").await);
    let (_, answer) = push(addr, SECRET_PATH, body(&[event(OUTBOUND, "r-80b", "80", 20)]), Some(CHECK_WORD)).await;
    assert!(is_ok(&answer));
    assert!(order_instant_is(db, "courier_delivered_at", "r-80b").await, "the earlier delivery scan wins");
    assert_eq!(sql_count(db, &delivered_notices).await, per_delivery, "announced once");
});

both_backends!(events_of_unknown_and_inbound_waybills_are_stored_and_change_no_order, async |db: &TestDb| {
    load_demo(db).await;
    ship(db).await;
    let (addr, _stop) = start(db, settings(&["127.0.0.1"])).await;
    let pushed = body(&[event("SF9999999999999", "u-80", "80", 5), event(INBOUND, "i-80", "80", 5)]);
    let (status, answer) = push(addr, SECRET_PATH, pushed, None).await;
    assert_eq!(status, 200, "an unsigned push is accepted unless routes.require_digest");
    assert!(is_ok(&answer));
    let unknown = db.store.routes_of_waybill("SF9999999999999").await.unwrap();
    assert_eq!((unknown.len(), unknown[0].order_no.as_deref(), unknown[0].direction), (1, None, None));
    let inbound = db.store.routes_of_waybill(INBOUND).await.unwrap();
    assert_eq!(inbound[0].direction, Some(keydesk::domain::route::Direction::Inbound));
    assert!(!order_instant_set(db, "courier_delivered_at").await, "an inbound delivery is not the return's");
});

both_backends!(refused_pushes_write_nothing, async |db: &TestDb| {
    load_demo(db).await;
    ship(db).await;
    let (addr, _stop) = start(db, settings(&["127.0.0.1"])).await;
    let good = body(&[event(OUTBOUND, "r-50", "50", 120)]);
    let mut wrong_type = event(OUTBOUND, "r-x", "50", 1);
    wrong_type["opCode"] = serde_json::json!(50);
    let oversize = body(&[event(OUTBOUND, &"x".repeat(5000), "50", 1)]);
    let cases: Vec<(&str, String, Option<&str>, u16, &str)> = vec![
        ("malformed JSON", format!("{good}}}"), Some(CHECK_WORD), 400, "4000"),
        ("truncated JSON", good[..good.len() - 5].to_string(), Some(CHECK_WORD), 400, "4000"),
        ("no WaybillRoute", r#"{"Body":{}}"#.into(), Some(CHECK_WORD), 400, "4000"),
        (
            "a field of the wrong type",
            body(&[event(OUTBOUND, "r-ok", "50", 1), wrong_type]),
            Some(CHECK_WORD),
            400,
            "4000",
        ),
        ("wrong check word", good.clone(), Some("not-the-check-word"), 401, "4001"),
        ("oversize body", oversize, Some(CHECK_WORD), 413, "4013"),
    ];
    for (what, pushed, word, status, code) in cases {
        let (got, answer) = push(addr, SECRET_PATH, pushed, word).await;
        assert_eq!((got, answer["return_code"].as_str()), (status, Some(code)), "{what}: {answer}");
        assert!(!answer["return_msg"].as_str().unwrap_or("").is_empty(), "{what}: a reason is given");
    }
    let (got, answer) = push(addr, "/sf/routes/guessed-path-0000000", good.clone(), Some(CHECK_WORD)).await;
    assert_eq!((got, answer["return_code"].as_str()), (404, Some("4004")), "wrong path");
    assert_eq!(db.store.route_event_count().await.unwrap(), 0, "nothing written");
    assert!(!order_instant_set(db, "courier_picked_up_at").await);

    let (strict, _stop_strict) = start(db, RouteSettings { require_digest: true, ..settings(&["127.0.0.1"]) }).await;
    let (got, answer) = push(strict, SECRET_PATH, good.clone(), None).await;
    assert_eq!((got, answer["return_code"].as_str()), (401, Some("4001")), "unsigned push when required");
    let (elsewhere, _stop_elsewhere) = start(db, settings(&["10.0.0.0/8"])).await;
    let (got, answer) = push(elsewhere, SECRET_PATH, good.clone(), Some(CHECK_WORD)).await;
    assert_eq!((got, answer["return_code"].as_str()), (403, Some("4003")), "address not allowed");
    assert_eq!(db.store.route_event_count().await.unwrap(), 0, "nothing written");

    let (got, answer) = push(addr, SECRET_PATH, good, Some(CHECK_WORD)).await;
    assert_eq!((got, is_ok(&answer)), (200, true), "the same push, correct, is then accepted");
    assert_eq!(db.store.route_event_count().await.unwrap(), 1);
});

#[tokio::test]
async fn the_receiver_refuses_to_start_without_secret_path_or_allow_list() {
    let db = TestDb::sqlite().await;
    let none = Receiver::new(&RouteSettings::default(), Secret::new(CHECK_WORD), db.store.clone(), clock());
    assert!(none.is_err());
    let open = RouteSettings { allow: vec![], ..settings(&[]) };
    assert!(Receiver::new(&open, Secret::new(CHECK_WORD), db.store.clone(), clock()).is_err());
    let short = RouteSettings { secret_path: Secret::new("/sf"), ..settings(&["127.0.0.1"]) };
    assert!(Receiver::new(&short, Secret::new(CHECK_WORD), db.store.clone(), clock()).is_err());
    db.cleanup().await;
}

/// Two shipped demo orders, each with its return waybill, for the delivery tests.
const SHIPPED_A: (&str, &str, &str) = ("0000261122000042", "SF1503000000000", "3796");
const SHIPPED_B: (&str, &str, &str) = ("0000261123000043", "SF1503000000131", "3121");

async fn member_order(db: &TestDb, (no, _, tail): (&str, &str, &str)) -> keydesk::domain::member::MemberOrder {
    let no = keydesk::domain::OrderNo::parse(no).unwrap();
    let tail = keydesk::ops::member::PhoneTail::parse(tail).unwrap();
    keydesk::ops::member::look_up(db.store.as_ref(), &no, &tail).await.expect("member view")
}

async fn audit_actions(db: &TestDb, no: &str) -> Vec<String> {
    let sql = format!(
        "SELECT a.action FROM audit_log a JOIN orders o ON o.id = a.order_id WHERE o.order_no = '{no}' ORDER BY a.id"
    );
    if db.url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.expect("sqlite");
        sqlx::query_scalar(&sql).fetch_all(&mut c).await.expect("audit")
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.expect("postgres");
        sqlx::query_scalar(&sql).fetch_all(&mut c).await.expect("audit")
    }
}

// SF's delivery (op 80) shows the member 已签收 with its time on the timeline; `keydesk worker`
// completes an unconfirmed order `routes.auto_complete_days` after the delivery (not a moment before),
// audited and announced; a member who confirmed first keeps their own completion.
both_backends!(
    a_delivered_return_is_signed_for_on_the_member_page_and_completes_by_itself_after_the_set_days,
    async |db: &TestDb| {
        use keydesk::domain::member::Step;
        use keydesk::domain::Status;
        load_demo(db).await;
        let (addr, _stop) = start(db, settings(&["127.0.0.1"])).await;
        let before = member_order(db, SHIPPED_A).await;
        assert_eq!((before.status, before.status_label()), (Status::Shipped, "待收货"));
        let delivered = |o: &keydesk::domain::member::MemberOrder| {
            o.timeline().into_iter().find(|s| s.step == Step::Delivered).map(|s| (s.done, s.at.is_some()))
        };
        assert_eq!(delivered(&before), Some((false, false)), "not delivered before SF says so");
        let pushed = body(&[event(SHIPPED_A.1, "a-80", "80", 60), event(SHIPPED_B.1, "b-80", "80", 60)]);
        let (status, answer) = push(addr, SECRET_PATH, pushed, Some(CHECK_WORD)).await;
        assert!(status == 200 && is_ok(&answer), "{status} {answer}");
        let after = member_order(db, SHIPPED_A).await;
        assert_eq!((after.status, after.status_label()), (Status::Shipped, "已签收"));
        assert_eq!(delivered(&after), Some((true, true)));
        let pinned = keydesk::clock::Clock::fixed(now());
        let config = keydesk::cli::config::Config::default();
        assert_eq!(config.routes.auto_complete_days, 7);
        let services = crate::support::services(db.store.clone(), &config, pinned.clone());
        let rules = services.clock_rules().expect("clock rules");
        let json = serde_json::to_value(keydesk::member::view::order_json(&after, &rules)).unwrap();
        assert_eq!(json["status"]["label"], "已签收", "{json}");
        assert!(json["timeline"].as_array().unwrap().iter().any(|s| s["step"] == "delivered" && s["done"] == true));

        // The member confirms B; nobody confirms A.
        let b = keydesk::domain::OrderNo::parse(SHIPPED_B.0).unwrap();
        let tail = keydesk::ops::member::PhoneTail::parse(SHIPPED_B.2).unwrap();
        keydesk::ops::member::confirm_receipt(db.store.as_ref(), &b, &tail, "127.0.0.1", &clock()).await.unwrap();

        let policy = keydesk::outbound::printer::RetryPolicy::default();
        let mut weekly = keydesk::worker::WorkerState::default();
        // Six days and 22 hours after the delivery: not yet.
        pinned.advance(chrono::TimeDelta::days(7) - chrono::TimeDelta::hours(2));
        assert!(keydesk::worker::run_worker_pass(&services, &policy, &mut weekly)
            .await
            .unwrap()
            .auto_completed
            .is_empty());
        assert_eq!(member_order(db, SHIPPED_A).await.status, Status::Shipped);
        pinned.advance(chrono::TimeDelta::hours(1));
        let done = keydesk::worker::run_worker_pass(&services, &policy, &mut weekly).await.unwrap().auto_completed;
        assert_eq!(done.iter().map(|n| n.to_string()).collect::<Vec<_>>(), [SHIPPED_A.0], "B was confirmed already");
        assert_eq!(member_order(db, SHIPPED_A).await.status, Status::Completed);
        assert_eq!(audit_actions(db, SHIPPED_A.0).await.last().map(String::as_str), Some("auto_complete"));
        let b_actions = audit_actions(db, SHIPPED_B.0).await;
        assert!(
            b_actions.contains(&"member_confirm_receipt".to_string())
                && !b_actions.contains(&"auto_complete".to_string())
        );
        // Announced once per channel, as every event is.
        let announced = |no: &str| {
            format!(
                "SELECT COUNT(*) FROM notices n JOIN orders o ON o.id = n.order_id \
             WHERE o.order_no = '{no}' AND n.kind = 'auto_completed'"
            )
        };
        let a_notices = sql_count(db, &announced(SHIPPED_A.0)).await;
        assert!(a_notices >= 1, "the auto-completion is announced");
        assert_eq!(sql_count(db, &announced(SHIPPED_B.0)).await, 0);
        // A later pass completes nothing again and announces nothing more.
        pinned.advance(chrono::TimeDelta::days(1));
        assert!(keydesk::worker::run_worker_pass(&services, &policy, &mut weekly)
            .await
            .unwrap()
            .auto_completed
            .is_empty());
        assert_eq!(sql_count(db, &announced(SHIPPED_A.0)).await, a_notices);
    }
);

// The return clock stops when SF picked the key up (route op 50), not at the ship scan; an order
// without SF's routes stops at the ship scan as before. The order carries both instants.
both_backends!(the_couriers_pickup_stops_the_return_clock_and_the_ship_scan_does_without_it, async |db: &TestDb| {
    use keydesk::store::ClockScope;
    load_demo(db).await;
    let (addr, _stop) = start(db, settings(&["127.0.0.1"])).await;
    let stop_of = |facts: &[keydesk::store::ClockFacts], no: &str| {
        let f = facts.iter().find(|f| f.order_no == no).expect("order in scope");
        keydesk::ops::sla::clocks_of(f)
            .into_iter()
            .find(|c| c.clock.policy == keydesk::sla::Policy::Return)
            .and_then(|c| c.clock.stop)
    };
    let scope = || ClockScope::StoppedBetween {
        from: now() - chrono::TimeDelta::days(400),
        to: now() + chrono::TimeDelta::days(1),
    };
    let a = db.store.order_by_no(&keydesk::domain::OrderNo::parse(SHIPPED_A.0).unwrap()).await.unwrap().unwrap();
    let shipped = a.shipped_at.expect("a shipped demo order");
    let facts = db.store.clock_facts(scope()).await.unwrap();
    assert_eq!(stop_of(&facts, SHIPPED_A.0), Some(shipped.with_timezone(&keydesk::sla::SHANGHAI)));

    let pickup = event(SHIPPED_A.1, "a-50", "50", 30);
    let (status, answer) = push(addr, SECRET_PATH, body(&[pickup]), Some(CHECK_WORD)).await;
    assert!(status == 200 && is_ok(&answer), "{status} {answer}");
    let a = db.store.order_by_no(&a.order_no).await.unwrap().unwrap();
    let picked = a.picked_up_at.expect("the pickup is on the order");
    assert_eq!(a.shipped_at, Some(shipped), "the ship scan is kept beside it");
    assert_eq!(picked.timestamp(), (now() - chrono::TimeDelta::minutes(30)).timestamp());
    let facts = db.store.clock_facts(scope()).await.unwrap();
    assert_eq!(stop_of(&facts, SHIPPED_A.0), Some(picked.with_timezone(&keydesk::sla::SHANGHAI)));
    assert_eq!(
        stop_of(&facts, SHIPPED_B.0),
        db.store
            .order_by_no(&keydesk::domain::OrderNo::parse(SHIPPED_B.0).unwrap())
            .await
            .unwrap()
            .unwrap()
            .shipped_at
            .map(|t| t.with_timezone(&keydesk::sla::SHANGHAI)),
        "no route: the ship scan"
    );
});

// The fallback for routes the push missed: `keydesk worker` asks SF (the stand-in checks the digest
// and `checkPhoneNo` as SF does) about the tracked waybills, records what it answers like a push, asks
// each waybill again only after its interval, and backs off per waybill while SF is down.
both_backends!(the_worker_polls_sf_for_routes_the_push_missed_and_backs_off_while_sf_is_down, async |db: &TestDb| {
    use crate::docs::support::sf_mock::{self, SfMock};
    use keydesk::ops::routes::{backoff, POLL_EVERY};
    load_demo(db).await;
    let sf = SfMock::start();
    let courier = keydesk::outbound::courier::CourierSettings {
        backend: keydesk::outbound::courier::CourierBackend::Sf,
        sf_base_url: sf.url(),
        partner_id: sf_mock::PARTNER_ID.to_string(),
        check_word: Secret::new(sf_mock::CHECK_WORD),
        monthly_account: "0101234567".to_string(),
        timeout_secs: 5,
        ..Default::default()
    };
    let config = keydesk::cli::config::Config { courier, ..Default::default() };
    let pinned = keydesk::clock::Clock::fixed(now());
    let services = crate::support::services(db.store.clone(), &config, pinned.clone());
    let mut state = keydesk::worker::WorkerState::default();
    let route = |op: &str, minutes_ago: i64| {
        serde_json::json!({
            "acceptTime": format_accept_time(now() - chrono::TimeDelta::minutes(minutes_ago)),
            "acceptAddress": "北京市", "remark": "顺丰速运 已收取快件", "opCode": op,
        })
    };
    sf.add_route(SHIPPED_A.1, SHIPPED_A.2, route("50", 120));
    sf.add_route(SHIPPED_A.1, SHIPPED_A.2, route("80", 30));
    let tracked = db.store.tracked_waybills().await.unwrap();
    assert!(tracked.iter().any(|t| t.waybill == SHIPPED_A.1) && tracked.iter().any(|t| t.waybill == SHIPPED_B.1));

    let run = poll_all(&services, &mut state).await;
    assert_eq!((run.asked, run.new_events, run.failed.len()), (tracked.len(), 2, 0), "{run:?}");
    let a = db.store.order_by_no(&keydesk::domain::OrderNo::parse(SHIPPED_A.0).unwrap()).await.unwrap().unwrap();
    assert_eq!(a.picked_up_at.map(|t| t.timestamp()), Some((now() - chrono::TimeDelta::minutes(120)).timestamp()));
    assert!(a.delivered_at.is_some(), "delivered: no longer tracked");
    let stored = db.store.routes_of_waybill(SHIPPED_A.1).await.unwrap();
    assert!(stored.iter().all(|r| r.source == "poll") && stored.len() == 2, "{stored:?}");
    let queries = |sf: &SfMock| {
        sf.received()
            .iter()
            .filter(|r| r.fields.iter().any(|(k, v)| k == "serviceCode" && v == "EXP_RECE_SEARCH_ROUTES"))
            .count()
    };
    let asked = queries(&sf);

    // Nothing is due again before its interval.
    pinned.advance(POLL_EVERY - chrono::TimeDelta::minutes(1));
    assert_eq!(poll_all(&services, &mut state).await.asked, 0);
    assert_eq!(queries(&sf), asked);

    // SF down: every waybill fails and waits 5 minutes, then 10; nothing is written meanwhile.
    sf.set_down(true);
    sf.add_route(SHIPPED_B.1, SHIPPED_B.2, route("50", 10));
    pinned.advance(chrono::TimeDelta::minutes(1));
    let before = db.store.route_event_count().await.unwrap();
    let run = poll_all(&services, &mut state).await;
    assert_eq!(run.failed.len(), run.asked);
    let b = run.failed.iter().find(|f| f.waybill == SHIPPED_B.1).expect("B failed");
    assert_eq!(b.next_at, pinned.now() + backoff(1));
    assert!(b.error.contains("A1009"), "{}", b.error);
    pinned.advance(backoff(1) - chrono::TimeDelta::seconds(1));
    assert_eq!(poll_all(&services, &mut state).await.asked, 0);
    pinned.advance(chrono::TimeDelta::seconds(1));
    let run = poll_all(&services, &mut state).await;
    assert_eq!(run.failed.iter().find(|f| f.waybill == SHIPPED_B.1).unwrap().next_at, pinned.now() + backoff(2));
    assert_eq!(backoff(2), chrono::TimeDelta::minutes(10));
    assert_eq!(db.store.route_event_count().await.unwrap(), before);

    // SF back: the waiting event arrives, once.
    sf.set_down(false);
    pinned.advance(backoff(2));
    let run = poll_all(&services, &mut state).await;
    assert_eq!((run.new_events, run.failed.len()), (1, 0), "{run:?}");
    let b = db.store.order_by_no(&keydesk::domain::OrderNo::parse(SHIPPED_B.0).unwrap()).await.unwrap().unwrap();
    assert!(b.picked_up_at.is_some());
    assert_eq!(state.polls.failures(SHIPPED_B.1), 0);
});

/// `keydesk worker` passes at the current instant until no waybill is due (a pass asks about at most
/// a batch of them), their route polls added up.
async fn poll_all(
    services: &keydesk::services::Services,
    state: &mut keydesk::worker::WorkerState,
) -> keydesk::ops::routes::PollRun {
    let policy = keydesk::outbound::printer::RetryPolicy::default();
    let mut all = keydesk::ops::routes::PollRun::default();
    for _ in 0..10 {
        let Some(run) = keydesk::worker::run_worker_pass(services, &policy, state).await.unwrap().routes else {
            return all;
        };
        all.asked += run.asked;
        all.new_events += run.new_events;
        all.failed.extend(run.failed);
    }
    panic!("waybills still due after 10 passes");
}

// What SF says about the members' parcels on their way in: out for delivery or delivered today and
// not scanned is 到件预计; delivered a working day ago or more and never scanned is 疑似遗失; a parcel
// the desk scanned is neither.
both_backends!(
    the_board_expects_todays_parcels_and_flags_one_sf_delivered_days_ago_that_nobody_scanned,
    async |db: &TestDb| {
        load_demo(db).await;
        let (addr, _stop) = start(db, settings(&["127.0.0.1"])).await;
        let (coming, delivered_today, lost, scanned) =
            ("SF1402000007919", "SF1402000015838", "SF1402000023757", "SF1402000000000");
        let minutes = |days: i64| days * 24 * 60;
        let pushed = body(&[
            event(coming, "c-44", "44", 30),
            event(delivered_today, "t-44", "44", 90),
            event(delivered_today, "t-80", "80", 20),
            event(lost, "l-44", "44", minutes(12) + 60),
            event(lost, "l-80", "80", minutes(12)),
            event(scanned, "s-80", "80", minutes(12)),
        ]);
        let (status, answer) = push(addr, SECRET_PATH, pushed, Some(CHECK_WORD)).await;
        assert!(status == 200 && is_ok(&answer), "{status} {answer}");
        // The first demo order's parcel is scanned now: it is at the desk.
        keydesk::ops::intake::intake(db.store.as_ref(), scanned, &crate::support::actor("qin"), &clock())
            .await
            .expect("intake");
        let rules = keydesk::sla::ClockRules::load(&Default::default()).expect("calendar");
        let now = now().with_timezone(&keydesk::sla::SHANGHAI);
        let a = keydesk::ops::routes::arrivals(db.store.as_ref(), &rules, now, 1).await.unwrap();
        let waybills =
            |list: &[keydesk::ops::routes::Arrival]| list.iter().map(|a| a.waybill.clone()).collect::<Vec<_>>();
        assert_eq!(waybills(&a.expected), [coming, delivered_today], "{a:?}");
        assert_eq!(waybills(&a.lost), [lost], "{a:?}");
        assert!(a.expected[1].delivered && !a.expected[0].delivered);
    }
);

//! The desk terminal without a terminal: the update function (keys in, effects out), every screen
//! drawn on ratatui's TestBackend at 80×24 (insta snapshots), and the effects runner against a real
//! SQLite store, stepped by awaiting its messages, never by sleeping.

use std::time::{Duration, Instant};

use keydesk::desk::app::{App, Effect, Msg, OrderDetail, Screen, WorkError};
use keydesk::desk::effects::Runner;
use keydesk::desk::keymap::Keymap;
use keydesk::desk::ui;
use keydesk::domain::order::Change;
use keydesk::domain::{AuditAction, PrintKind, Status};
use keydesk::ops::intake::{IntakeOutcome, IntakeResult};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;
use ratatui::Terminal;

use crate::support::{demo_json, TestDb};

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Types text with the given gap between keys, then Enter after the same gap.
fn type_text(app: &mut App, text: &str, gap: Duration) -> Vec<Effect> {
    let mut t = Instant::now();
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(app.update(Msg::Key(key(KeyCode::Char(c)), t)));
        t += gap;
    }
    effects.extend(app.update(Msg::Key(key(KeyCode::Enter), t)));
    effects
}

fn signed_in() -> App {
    let mut app = App::new(Keymap::default(), "desk-1");
    app.update(Msg::SignedIn(Ok("qin".into())));
    app
}

/// An order as the detail screen opens it, with nothing recorded about it yet.
fn opened(order: keydesk::domain::Order) -> OrderDetail {
    OrderDetail { order, receipts: vec![], audit: vec![], prints: vec![], notices: vec![], clocks: vec![] }
}

fn demo_orders() -> Vec<keydesk::domain::Order> {
    let mut orders = keydesk::ops::import::parse_export(&demo_json(), crate::support::clock().now()).unwrap();
    for (i, o) in orders.iter_mut().enumerate() {
        o.id = i as i64 + 1;
    }
    orders
}

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| ui::render(app, f)).unwrap();
    terminal
}

fn screen_text(terminal: &Terminal<TestBackend>) -> String {
    terminal.backend().to_string()
}

#[test]
fn sign_in_sends_the_secret_once_and_keeps_no_copy() {
    let mut app = App::new(Keymap::default(), "desk-1");
    assert_eq!(app.screen, Screen::SignIn);
    let mut effects = type_text(&mut app, "qin", Duration::from_millis(150));
    effects.extend(type_text(&mut app, "demo1234", Duration::from_millis(150)));
    assert_eq!(effects, vec![Effect::SignIn { name: "qin".into(), secret: "demo1234".into() }]);
    assert!(app.signin.secret.is_empty(), "the secret left the state with the effect");
    app.update(Msg::SignedIn(Err("操作员或密码错误".into())));
    assert_eq!(app.screen, Screen::SignIn);
    insta::assert_snapshot!("signin_error", screen_text(&draw(&app, 80, 24)));
    app.update(Msg::SignedIn(Ok("qin".into())));
    assert_eq!((app.screen, app.operator.as_deref()), (Screen::Scan, Some("qin")));
}

#[test]
fn a_scanner_burst_is_a_scan_even_in_the_search_field() {
    let mut app = signed_in();
    app.update(Msg::Key(key(KeyCode::F(3)), Instant::now()));
    assert_eq!(app.screen, Screen::Search);
    let typed = type_text(&mut app, "巨蟹宫", Duration::from_millis(200));
    assert!(matches!(&typed[..], [Effect::Search { text }] if text == "巨蟹宫"));
    let scanned = type_text(&mut app, "sf1402000000000", Duration::from_millis(4));
    assert_eq!(scanned, vec![Effect::Intake { scan: "sf1402000000000".into() }]);
    assert_eq!(app.screen, Screen::Scan);
}

#[test]
fn typing_anywhere_goes_to_the_always_ready_scan_field() {
    let mut app = signed_in();
    app.update(Msg::Key(key(KeyCode::F(4)), Instant::now()));
    assert_eq!(app.screen, Screen::Board);
    let effects = type_text(&mut app, "SF1402000000000", Duration::from_millis(5));
    assert_eq!(effects, vec![Effect::Intake { scan: "SF1402000000000".into() }]);
    assert_eq!(app.screen, Screen::Scan);
}

#[test]
fn scans_wait_while_the_database_is_down_and_go_when_it_returns() {
    let mut app = signed_in();
    let effects = type_text(&mut app, "SF1402000000000", Duration::from_millis(5));
    assert_eq!(effects.len(), 1);
    app.update(Msg::IntakeDone {
        scan: "SF1402000000000".into(),
        result: Err(WorkError { unavailable: true, message: "数据库不可用".into() }),
    });
    assert!(type_text(&mut app, "SF1402000000017", Duration::from_millis(5)).is_empty(), "held back while down");
    assert_eq!(app.pending_scans.len(), 2);
    insta::assert_snapshot!("scan_database_down", screen_text(&draw(&app, 80, 24)));
    let resent = app.update(Msg::Database { up: true, detail: String::new() });
    assert_eq!(
        resent,
        vec![Effect::Intake { scan: "SF1402000000000".into() }, Effect::Intake { scan: "SF1402000000017".into() }]
    );
    assert!(app.database_down.is_none() && app.pending_scans.is_empty());
}

#[test]
fn a_change_the_rules_forbid_is_refused_before_any_typing() {
    let mut app = signed_in();
    let order = demo_orders().remove(0); // paid
    app.update(Msg::OrderLoaded(Ok(opened(order))));
    assert!(app.update(Msg::Key(key(KeyCode::F(7)), Instant::now())).is_empty());
    assert!(app.prompt.is_none(), "a paid order cannot be cancelled");
    app.update(Msg::Key(key(KeyCode::F(5)), Instant::now()));
    assert!(app.prompt.is_some());
    insta::assert_snapshot!("hold_prompt", screen_text(&draw(&app, 80, 24)));
    app.update(Msg::Key(key(KeyCode::Down), Instant::now()));
    let effects = type_text(&mut app, "缺章", Duration::from_millis(100));
    assert!(
        matches!(&effects[..], [Effect::Change { change: Change::Hold { reason: keydesk::domain::HoldReason::PinLocked, .. }, reason, .. }] if reason == "缺章")
    );
}

#[test]
fn screens_at_80_by_24() {
    let orders = demo_orders();
    let mut app = signed_in();
    let outcome = IntakeOutcome {
        result: IntakeResult::Matched,
        waybill: Some("SF1402000020647".into()),
        message: "运单 SF1402000020647 已收件（一个包裹 2 个 KEY）".into(),
        orders: vec![],
    };
    app.update(Msg::IntakeDone { scan: "x".into(), result: Ok(outcome) });
    insta::assert_snapshot!("scan_matched", screen_text(&draw(&app, 80, 24)));

    app.update(Msg::Key(key(KeyCode::F(3)), Instant::now()));
    app.update(Msg::SearchDone(Ok(orders.iter().filter(|o| o.status == Status::Paid).take(5).cloned().collect())));
    insta::assert_snapshot!("search", screen_text(&draw(&app, 80, 24)));

    let detail = opened(orders.iter().find(|o| o.status == Status::OnHold).unwrap().clone());
    app.update(Msg::OrderLoaded(Ok(detail)));
    let text = screen_text(&draw(&app, 80, 24));
    assert!(
        !text.contains(&orders.iter().find(|o| o.status == Status::OnHold).unwrap().contact_phone),
        "masked until revealed"
    );
    insta::assert_snapshot!("order_detail", text);

    app.update(Msg::Key(key(KeyCode::F(1)), Instant::now()));
    insta::assert_snapshot!("help", screen_text(&draw(&app, 80, 24)));
}

#[test]
fn in_a_year_with_no_notice_the_board_shows_provisional_clocks_not_unavailable_ones() {
    use keydesk::sla::board::{build_board, BoardOrder, BoardWindow};
    use keydesk::sla::{ClockEvents, ClockRules, Policy, SlaSettings};
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    let order = |no: &str, received: &str| BoardOrder {
        order_no: no.into(),
        status_code: "received".into(),
        clock: ClockEvents { policy: Policy::Return, starts: vec![at(received)], pauses: vec![], stop: None },
        stopped_by: None,
        moved: None,
    };
    // Pinned at Monday 2027-01-04: 2027 has no notice yet.
    let orders = [
        order("0000270104000001", "2027-01-04T09:30:00+08:00"),
        order("0000261231000002", "2026-12-31T15:00:00+08:00"),
    ];
    let board = build_board(&rules, &orders, at("2027-01-04T10:00:00+08:00"), BoardWindow::all());
    assert_eq!(board.counts.unavailable, 0);
    let mut app = signed_in();
    app.update(Msg::Key(key(KeyCode::F(4)), Instant::now()));
    app.update(Msg::BoardLoaded(Ok(board)));
    let text = screen_text(&draw(&app, 80, 24));
    assert!(!text.contains("无法计算"), "{text}");
    assert!(text.contains("注意：2027 年无通知，时限暂定，请运行 keydesk calendar import 通知.txt --write"), "{text}");
    // Received Thu 31 Dec: Fri 1 Jan off, the weekend, Mon 4 and Tue 5; received Mon 4: Tue 5, Wed 6.
    assert!(text.contains("0000261231000002 寄回 正常 2027-01-05 17:30 暂定"), "{text}");
    assert!(text.contains("0000270104000001 寄回 正常 2027-01-06 17:30 暂定"), "{text}");
    // A deadline an imported notice moved says so where the order's status would be.
    let mut moved = order("0000270104000001", "2027-01-04T09:30:00+08:00");
    moved.moved = Some("寄回时限因节假日日历调整：…".into());
    let board = build_board(&rules, &[moved], at("2027-01-04T10:00:00+08:00"), BoardWindow::all());
    app.update(Msg::BoardLoaded(Ok(board)));
    let text = screen_text(&draw(&app, 80, 24));
    assert!(text.contains("0000270104000001 寄回 正常 2027-01-06 17:30 暂定    24 小时 30 分钟 时限已调"), "{text}");
}

#[test]
fn with_no_color_nothing_is_coloured_and_levels_are_said_in_words() {
    let mut app = signed_in();
    app.monochrome = true;
    app.update(Msg::SearchDone(Err("数据库错误：测试".into())));
    let terminal = draw(&app, 80, 24);
    let coloured =
        terminal.backend().buffer().content.iter().filter(|c| c.fg != Color::Reset || c.bg != Color::Reset).count();
    assert_eq!(coloured, 0);
    assert!(screen_text(&terminal).contains("[错误] 数据库错误：测试"), "{}", screen_text(&terminal));
    app.monochrome = false;
    assert!(!screen_text(&draw(&app, 80, 24)).contains("[错误]"), "colour says it when there is colour");
}

#[test]
fn the_order_screen_shows_its_clocks_on_the_boxs_edge() {
    use keydesk::sla::{ClockRules, SlaSettings};
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    let order = demo_orders().into_iter().find(|o| o.order_no.as_str() == "0000261121000031").unwrap();
    let mut detail = opened(order);
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00+08:00").unwrap();
    detail.clocks = keydesk::ops::sla::order_clocks(&detail, &rules, now);
    let mut app = signed_in();
    app.update(Msg::OrderLoaded(Ok(detail)));
    let text = screen_text(&draw(&app, 80, 24));
    // Received Fri 27 Nov: back in the post by Tue 1 Dec; the invoice was due Fri 27 Nov.
    assert!(text.contains("└ 寄回 12-01 17:30 正常 剩16时 · 开票 11-27 17:30 已超时 超1时 ─"), "{text}");
    // Before the desk opens on Monday the invoice is late by no working time yet, and has none left:
    // neither 超0分 nor 剩0分.
    let early = chrono::DateTime::parse_from_rfc3339("2026-11-30T07:00:00+08:00").unwrap();
    let mut detail = app.order.detail.clone().unwrap();
    detail.clocks = keydesk::ops::sla::order_clocks(&detail, &rules, early);
    app.update(Msg::OrderLoaded(Ok(detail)));
    let text = screen_text(&draw(&app, 80, 24));
    assert!(text.contains("开票 11-27 17:30 已超时 ─"), "{text}");
}

#[test]
fn the_board_draws_only_what_fits() {
    use keydesk::sla::board::{build_board, BoardOrder, BoardWindow};
    use keydesk::sla::trend::{Trend, TrendFacts};
    use keydesk::sla::{ClockEvents, ClockRules, Policy, SlaSettings};
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+08:00").unwrap();
    let orders: Vec<BoardOrder> = (0..10_000)
        .map(|i| BoardOrder {
            order_no: format!("0000261126{:06}", i),
            status_code: "received".into(),
            clock: ClockEvents {
                policy: Policy::Return,
                starts: vec![start + chrono::Duration::minutes(i % 600)],
                pauses: vec![],
                stop: None,
            },
            stopped_by: None,
            moved: None,
        })
        .collect();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00+08:00").unwrap();
    let board = build_board(&rules, &orders, now, BoardWindow::all());
    let mut app = signed_in();
    app.update(Msg::Key(key(KeyCode::F(4)), Instant::now()));
    app.update(Msg::BoardLoaded(Ok(board)));
    let facts: Vec<TrendFacts> = (0..14 * 6)
        .map(|i| {
            let received = now - chrono::Duration::hours(4 * i);
            let shipped = (i % 3 != 0).then(|| received + chrono::Duration::hours(30));
            let due = received + chrono::Duration::hours(if i % 7 == 0 { 20 } else { 60 });
            TrendFacts { received_at: Some(received), shipped_at: shipped.filter(|s| *s < now), due_at: Some(due) }
        })
        .collect();
    app.update(Msg::TrendLoaded(Ok(Trend::build(&facts, now, 14))));
    app.update(Msg::ArrivalsLoaded(Ok(Default::default())));
    for _ in 0..3 {
        app.update(Msg::Key(key(KeyCode::PageDown), Instant::now()));
    }
    insta::assert_snapshot!("board", screen_text(&draw(&app, 80, 24)));
}

/// Starts the pending effects on the runner (as `operator`) and waits up to `wait` for its next message.
async fn run_and_wait(
    runner: &Runner,
    pending: &mut Vec<Effect>,
    operator: Option<&str>,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Msg>,
    wait: Duration,
) -> Msg {
    for e in pending.drain(..) {
        runner.run(e, operator);
    }
    tokio::time::timeout(wait, rx.recv()).await.expect("an answer").expect("open channel")
}

/// The runner against a real database: each effect's answer arrives as a message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_takes_a_parcel_from_scan_to_order_detail() {
    let db = TestDb::sqlite().await;
    crate::support::load_demo(&db).await;
    keydesk::ops::operators::add_operator(db.store.as_ref(), "qin", "demo1234", &crate::support::clock())
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(
        crate::support::services(db.store.clone(), &Default::default(), crate::support::clock()),
        tx,
        "desk-1",
    );
    let mut app = App::new(Keymap::default(), "desk-1");
    let mut pending: Vec<Effect> = type_text(&mut app, "qin", Duration::from_millis(150));
    pending.extend(type_text(&mut app, "demo1234", Duration::from_millis(150)));
    let mut steps = 0;
    let mut scanned = false;
    while steps < 10 {
        let msg = run_and_wait(&runner, &mut pending, app.operator.as_deref(), &mut rx, Duration::from_secs(10)).await;
        pending = app.update(msg);
        steps += 1;
        if app.operator.is_some() && !scanned {
            scanned = true;
            pending.extend(type_text(&mut app, "SF1402000000000", Duration::from_millis(3)));
        }
        let matched = app.scan.last_intake.as_ref().map(|o| o.result);
        if let Some(result) = matched {
            if app.order.detail.is_none() && pending.is_empty() {
                assert_eq!(result, IntakeResult::Matched);
                pending = app.update(Msg::Key(key(KeyCode::Enter), Instant::now()));
            }
        }
        if app.order.detail.is_some() {
            break;
        }
    }
    let detail = app.order.detail.clone().expect("the order opened");
    assert_eq!(detail.order.status, Status::Received);
    assert_eq!(detail.order.received_by.as_deref(), Some("qin"));
    assert!(detail.audit.iter().any(|a| a.action == AuditAction::Intake && a.operator == "qin" && a.desk == "desk-1"));
    // Revealing personal data is itself audited.
    runner.run(Effect::Reveal { order_no: detail.order.order_no.clone() }, Some("qin"));
    let msg = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap().unwrap();
    app.update(msg);
    assert!(app.order.revealed);
    let audit = db.store.audit_for_order(detail.order.id).await.unwrap();
    assert!(audit.iter().any(|a| a.action == AuditAction::Reveal && a.operator == "qin"));
    db.cleanup().await;
}

#[test]
fn shipping_a_renewed_order_takes_one_key_and_a_scan() {
    let mut app = signed_in();
    let order = demo_orders().into_iter().find(|o| o.status == Status::Renewed).unwrap();
    app.update(Msg::OrderLoaded(Ok(opened(order))));
    app.update(Msg::Key(key(KeyCode::F(9)), Instant::now()));
    assert!(app.prompt.is_some());
    let effects = type_text(&mut app, "SF1234567890123", Duration::from_millis(4));
    assert!(matches!(&effects[..], [Effect::Ship { waybill, .. }] if waybill == "SF1234567890123"), "{effects:?}");
    let paid = demo_orders().remove(0);
    app.update(Msg::OrderLoaded(Ok(opened(paid))));
    app.update(Msg::Key(key(KeyCode::F(9)), Instant::now()));
    assert!(app.prompt.is_none(), "a paid order cannot ship");
}

/// The lab's store, and a runner over it with the lab's CA and keys.
async fn lab_runner(
    lab: &crate::token::KeyLab,
) -> (std::sync::Arc<dyn keydesk::store::Store>, Runner, tokio::sync::mpsc::UnboundedReceiver<Msg>) {
    // nextest runs each test in its own process, so the worker inherits this key folder alone.
    std::env::set_var("SOFTHSM2_CONF", lab.hsm.join("softhsm2.conf"));
    let store = keydesk::store::open(&lab.db_url(), 4, Duration::from_secs(5), false).await.unwrap();
    let mut config = keydesk::cli::config::Config::default();
    config.ca.cert = Some(lab.ca_dir().join("ca.crt"));
    config.ca.key = Some(lab.ca_dir().join("ca.key"));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let runner =
        Runner::new(crate::support::services(store.clone(), &config, keydesk::clock::Clock::system()), tx, "desk-1");
    (store, runner, rx)
}

/// F10 on a received order, the PIN, and the renewal runs on a real SoftHSM key through the same code
/// as `keydesk renew`: each step reported as it ends, the order renewed, the PIN never kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewing_from_the_desk_shows_each_step_and_the_new_validity() {
    let lab = crate::token::KeyLab::new();
    let (store, runner, mut rx) = lab_runner(&lab).await;
    let mut app = signed_in();
    let no = keydesk::domain::OrderNo::parse(crate::token::ORDER).unwrap();
    let mut order = store.order_by_no(&no).await.unwrap().unwrap();
    assert_eq!(order.status, Status::Received);
    // The order is the demo's moved to today, its key's serial the token's own: the screen shows the
    // fixture's values instead, so the snapshot does not depend on the day it runs or the key made.
    let fixture = demo_orders().into_iter().find(|o| o.order_no == no).unwrap();
    assert!(order.key_serial.is(&lab.key_serial));
    order.key_serial = fixture.key_serial;
    order.cert.not_after = fixture.cert.not_after;
    order.paid_at = fixture.paid_at;
    order.received_at =
        chrono::DateTime::parse_from_rfc3339("2026-11-27T10:15:00+08:00").ok().map(|t| t.with_timezone(&chrono::Utc));
    app.update(Msg::OrderLoaded(Ok(opened(order))));
    app.update(Msg::Key(key(KeyCode::F(10)), Instant::now()));
    assert!(app.prompt.as_ref().is_some_and(|p| p.is_pin()));
    let effects = type_text(&mut app, crate::token::PIN, Duration::from_millis(120));
    assert!(app.prompt.is_none());
    assert!(!format!("{effects:?}").contains(crate::token::PIN), "the PIN never shows in Debug");
    insta::assert_snapshot!("renew_running", screen_text(&draw(&app, 80, 24)).replace(crate::token::PIN, "!!PIN!!"));
    let mut pending = effects;
    for _ in 0..40 {
        let msg = run_and_wait(&runner, &mut pending, Some("qin"), &mut rx, Duration::from_secs(60)).await;
        pending = app.update(msg);
        if app.order.renewal().is_some_and(|r| !r.running) && pending.is_empty() && app.busy == 0 {
            break;
        }
    }
    let r = app.order.renewal().unwrap();
    let (level, text) = r.result.clone().expect("a result");
    assert_eq!(level, keydesk::desk::app::Level::Info, "{text}");
    assert!(text.contains("续签完成"), "{text}");
    let steps: Vec<&str> = r.steps.iter().map(|s| s.step).collect();
    assert!(steps.contains(&"generate_key") && steps.contains(&"activate"), "{steps:?}");
    let renewed = &app.order.detail.as_ref().unwrap().order;
    assert_eq!(renewed.status, Status::Renewed);
    assert_ne!(renewed.cert.serial, "E0C6774455113DC3", "the order shows the new certificate");
    assert!(renewed.cert.not_after > chrono::Utc::now() + chrono::Duration::days(360), "old expiry + 1 year");
    let screen = screen_text(&draw(&app, 100, 30));
    assert!(screen.contains("续签完成") && !screen.contains(crate::token::PIN));
}

/// F11 on a shipped order prints the return label and the invoice through the durable queue (here to a
/// folder printer); a printer that cannot print keeps the jobs queued and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printing_from_the_desk_sends_the_label_and_the_invoice() {
    use keydesk::outbound::printer::PrinterBackend;
    let db = TestDb::sqlite().await;
    crate::support::load_demo(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = keydesk::cli::config::Config::default();
    config.invoice.seller_name = "北京阳光七采电子商务有限公司".into();
    config.invoice.seller_tax_id = "91110108MA00000001".into();
    for (printer, sub) in [(&mut config.printer.label, "label"), (&mut config.printer.invoice, "invoice")] {
        printer.backend = PrinterBackend::File;
        printer.dir = dir.path().join(sub);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner =
        Runner::new(crate::support::services(db.store.clone(), &config, crate::support::clock()), tx, "desk-1");
    let shipped = db
        .store
        .list_orders(&keydesk::store::ListQuery { status: Some(Status::Shipped), limit: 1, after_id: 0 })
        .await
        .unwrap()
        .remove(0);
    let mut app = signed_in();
    app.update(Msg::OrderLoaded(Ok(opened(shipped.clone()))));
    let effects = app.update(Msg::Key(key(KeyCode::F(11)), Instant::now()));
    assert_eq!(effects, vec![Effect::Print { order_no: shipped.order_no.clone() }]);
    runner.run(effects[0].clone(), Some("qin"));
    let msg = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await.unwrap().unwrap();
    let Msg::Printed(result) = &msg else { panic!("{msg:?}") };
    let text = result.clone().unwrap();
    assert_eq!(text, "面单：已打印；发票：已打印");
    for sub in ["label", "invoice"] {
        let files: Vec<_> = std::fs::read_dir(dir.path().join(sub)).unwrap().collect();
        assert_eq!(files.len(), 1, "{sub}");
    }
    let issued = db.store.order_by_id(shipped.id).await.unwrap().unwrap();
    assert_eq!(issued.invoice_status, keydesk::domain::InvoiceStatus::Issued);
    app.update(msg);

    // A paid order has no return waybill yet: F11 asks to ship first and starts nothing.
    app.update(Msg::OrderLoaded(Ok(opened(demo_orders().remove(0)))));
    assert!(app.update(Msg::Key(key(KeyCode::F(11)), Instant::now())).is_empty());
    db.cleanup().await;
}

#[test]
fn the_reader_panel_follows_pcscd_readers_and_keys() {
    use keydesk::token::reader::ReaderEvent as E;
    let mut app = signed_in();
    assert_eq!(app.reader.summary(), "未连接读卡器");
    app.update(Msg::Reader(E::ServiceUnavailable { message: "NoService".into() }));
    assert!(app.reader.summary().contains("pcscd 未响应"));
    app.update(Msg::Reader(E::ServiceAvailable));
    app.update(Msg::Reader(E::ReaderAdded { reader: "Virtual PCD 00 00".into() }));
    assert_eq!(app.reader.summary(), "读卡器空：请插入客户的 KEY");
    let effects = app.update(Msg::Reader(E::CardInserted {
        reader: "Virtual PCD 00 00".into(),
        atr: "3B 9F 95".into(),
        vendor: Some("飞天".into()),
        module: "m.so".into(),
    }));
    assert_eq!(
        effects,
        vec![Effect::Identify { reader: "Virtual PCD 00 00".into(), atr: "3B 9F 95".into(), module: "m.so".into() }]
    );
    assert!(app.reader.summary().contains("已插入 KEY（飞天，ATR 3B 9F 95，识别中…）"), "{}", app.reader.summary());
    app.update(Msg::Reader(E::CardRemoved { reader: "Virtual PCD 00 00".into() }));
    assert_eq!(app.reader.summary(), "读卡器空：请插入客户的 KEY");
    // A late identification of a key already pulled changes nothing.
    app.update(Msg::KeyIdentified { reader: "Virtual PCD 00 00".into(), atr: "3B 9F 95".into(), result: Ok(vec![]) });
    assert_eq!(app.reader.summary(), "读卡器空：请插入客户的 KEY");
}

fn identified(
    serial: &str,
    order_no: &str,
    pin: keydesk::token::pkcs11::PinFlags,
) -> keydesk::ops::identify::IdentifiedKey {
    keydesk::ops::identify::IdentifiedKey {
        serial: serial.into(),
        label: "UKey".into(),
        pin,
        order_no: Some(order_no.into()),
        company: Some("巨蟹宫科技".into()),
        holder: Some("秦*".into()),
        status_label: Some("已收件"),
        certificate_matches: true,
    }
}

/// Opens `order`, inserts a key and identifies it as `key`.
fn with_key_in_reader(order: keydesk::domain::Order, key_id: keydesk::ops::identify::IdentifiedKey) -> App {
    use keydesk::token::reader::ReaderEvent as E;
    let mut app = signed_in();
    app.update(Msg::OrderLoaded(Ok(opened(order))));
    app.update(Msg::Reader(E::ReaderAdded { reader: "Virtual PCD 00 00".into() }));
    app.update(Msg::Reader(E::CardInserted {
        reader: "Virtual PCD 00 00".into(),
        atr: "3B".into(),
        vendor: None,
        module: "m.so".into(),
    }));
    app.update(Msg::KeyIdentified { reader: "Virtual PCD 00 00".into(), atr: "3B".into(), result: Ok(vec![key_id]) });
    app
}

#[test]
fn before_f10_the_desk_says_whether_the_key_is_the_orders_and_its_pin_state() {
    use keydesk::desk::reader_panel::KeyVerdict;
    use keydesk::token::pkcs11::PinFlags;
    let received = demo_orders().into_iter().find(|o| o.status == Status::Received).unwrap();

    // The order's own key: the PIN prompt opens and says the PIN state.
    let final_try = PinFlags { final_try: true, count_low: true, ..PinFlags::default() };
    let mut app = with_key_in_reader(
        received.clone(),
        identified(received.key_serial.as_str(), received.order_no.as_str(), final_try),
    );
    assert!(matches!(app.reader.verdict(&received), KeyVerdict::Matches { certificate_matches: true, .. }));
    insta::assert_snapshot!("order_key_matches", screen_text(&draw(&app, 80, 24)));
    app.update(Msg::Key(key(KeyCode::F(10)), Instant::now()));
    assert!(app.prompt.as_ref().is_some_and(|p| p.is_pin()));
    assert!(screen_text(&draw(&app, 80, 24)).contains("PIN 仅剩最后一次机会"));

    // Another order's key: refused before any PIN try is spent.
    let mut app =
        with_key_in_reader(received.clone(), identified("FT0000000099", "0000261121000009", PinFlags::default()));
    assert!(app.update(Msg::Key(key(KeyCode::F(10)), Instant::now())).is_empty());
    assert!(app.prompt.is_none());
    let said = app.message.clone().unwrap().1;
    assert!(
        said.contains("FT0000000099") && said.contains("不是本订单的") && said.contains("0000261121000009"),
        "{said}"
    );
    assert!(screen_text(&draw(&app, 80, 24)).contains("不是本订单的"));

    // The order's key with its PIN locked: refused too.
    let locked = PinFlags { locked: true, ..PinFlags::default() };
    let mut app = with_key_in_reader(
        received.clone(),
        identified(received.key_serial.as_str(), received.order_no.as_str(), locked),
    );
    app.update(Msg::Key(key(KeyCode::F(10)), Instant::now()));
    assert!(app.prompt.is_none());
    assert!(app.message.clone().unwrap().1.contains("PIN 已锁定"));
}

// Another desk's change reaches this desk's runner as `ExternalChange`: pushed by PostgreSQL
// (LISTEN/NOTIFY on the audit log), polled on SQLite. The issue asks for ≤ 2 s; the wait here is
// generous (shared machines), and the time taken is printed.
crate::both_backends!(another_desks_change_shows_up, async |db: &TestDb| {
    crate::support::load_demo(db).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(
        crate::support::services(db.store.clone(), &Default::default(), crate::support::clock()),
        tx,
        "desk-1",
    );
    runner.watch();
    // Let the watcher take its first look (the poll's baseline, or the LISTEN).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    while rx.try_recv().is_ok() {}

    let other = keydesk::store::open(&db.url, 2, Duration::from_secs(5), false).await.unwrap();
    let order = demo_orders().into_iter().find(|o| o.status == Status::Received).unwrap();
    let started = Instant::now();
    keydesk::ops::change::change_order(
        other.as_ref(),
        &order.order_no,
        &Change::Hold { reason: keydesk::domain::HoldReason::Other, resume_to: None },
        "另一台工作台",
        &crate::support::actor("li"),
        &crate::support::clock(),
    )
    .await
    .unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match rx.recv().await {
                Some(Msg::ExternalChange) => return,
                Some(_) => {}
                None => panic!("the watcher stopped"),
            }
        }
    })
    .await;
    assert!(seen.is_ok(), "no ExternalChange within 10 s");
    eprintln!("another desk's change seen after {:?} on {:?}", started.elapsed(), db.store.backend());
});

// The print queue runs in the background: a job waiting in the queue goes out without anyone asking,
// and the desk's corner says how the queue stands.
crate::both_backends!(the_print_worker_sends_waiting_jobs_and_reports_the_queue, async |db: &TestDb| {
    use keydesk::outbound::printer::PrinterBackend;
    crate::support::load_demo(db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = keydesk::cli::config::Config::default();
    config.printer.label.backend = PrinterBackend::File;
    config.printer.label.dir = dir.path().join("label");
    let order = db
        .store
        .list_orders(&keydesk::store::ListQuery { status: Some(Status::Shipped), limit: 1, after_id: 0 })
        .await
        .unwrap()
        .remove(0);
    let job = keydesk::store::NewPrintJob {
        order_id: order.id,
        kind: PrintKind::Label,
        printer: PrintKind::Label.code().into(),
        name: "label-test".into(),
        pdf: b"%PDF-1.4 test".to_vec(),
        media: None,
        reprint: false,
    };
    keydesk::ops::print::enqueue(db.store.as_ref(), &job, &crate::support::actor("qin"), crate::support::now())
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner =
        Runner::new(crate::support::services(db.store.clone(), &config, crate::support::clock()), tx, "desk-1");
    runner.print_worker();
    let msg = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.unwrap().unwrap();
    let Msg::PrintQueue(Ok(status)) = &msg else { panic!("{msg:?}") };
    assert_eq!((status.queued, status.failed, status.printed_since), (0, 0, 1), "{status:?}");
    assert_eq!(std::fs::read_dir(dir.path().join("label")).unwrap().count(), 1);
    let mut app = signed_in();
    app.update(msg);
    assert!(screen_text(&draw(&app, 80, 24)).contains("今日已打印 1"));

    // A failure turns the corner red and says what to fix.
    let failed = keydesk::store::PrintQueueStatus {
        queued: 1,
        failed: 1,
        printed_since: 1,
        last_error: Some("打印机无响应".into()),
    };
    app.update(Msg::PrintQueue(Ok(failed)));
    let screen = screen_text(&draw(&app, 80, 24));
    assert!(screen.contains("打印失败 1 · 排队 1"), "{screen}");
    assert!(app.message.as_ref().is_some_and(|(_, m)| m.contains("打印机无响应")));
});

/// Key generation: a gauge against the usual time, moved by the clock's ticks; gone once it ends.
#[test]
fn key_generation_shows_a_gauge_that_moves_with_the_clock() {
    use keydesk::desk::app::RenewProgress;
    use keydesk::ops::renew::StepReport;
    let order = demo_orders().into_iter().find(|o| o.status == Status::Received).unwrap();
    let mut app = signed_in();
    app.update(Msg::OrderLoaded(Ok(opened(order.clone()))));
    let report = |step: &'static str, label: &'static str| StepReport {
        step,
        label,
        total_ms: 12.5,
        token_ms: 10.0,
        own_ms: 2.5,
        note: String::new(),
    };
    app.order.renewals.insert(order.order_no.clone(), RenewProgress { running: true, ..RenewProgress::default() });
    let step = |step, label| Msg::RenewStep { order_no: order.order_no.clone(), step: report(step, label) };
    let t0 = Instant::now();
    app.update(Msg::Tick(t0));
    for (step_code, label) in [("identify", "识别 KEY"), ("login", "登录 KEY"), ("start", "开始续签")] {
        app.update(step(step_code, label));
    }
    app.update(Msg::Tick(t0 + Duration::from_millis(3000)));
    assert_eq!(
        app.order.renewal().unwrap().running_step(),
        Some(keydesk::domain::renewal_job::RenewalStep::GenerateKey)
    );
    let screen = screen_text(&draw(&app, 80, 24));
    assert!(screen.contains("在 KEY 上生成新密钥 3.0 秒 / 通常约 20 秒"), "{screen}");
    insta::assert_snapshot!("renew_generating_key", screen);
    app.update(step("generate_key", "生成新密钥"));
    let screen = screen_text(&draw(&app, 80, 24));
    assert!(!screen.contains("在 KEY 上生成新密钥") && screen.contains("生成证书请求"), "{screen}");
}

/// F12 on an order whose renewal is under way: the reason first (required), then the PIN, then one
/// effect that carries both; the PIN never shows in Debug. On an order with no job, F12 is refused.
#[test]
fn abandoning_a_renewal_asks_for_a_reason_then_the_pin() {
    let mut order = demo_orders().into_iter().find(|o| o.status == Status::Renewing).unwrap();
    let mut app = signed_in();
    app.update(Msg::OrderLoaded(Ok(opened(order.clone()))));
    assert!(app.update(Msg::Key(key(KeyCode::F(12)), Instant::now())).is_empty());
    assert!(app.prompt.as_ref().is_some_and(|p| !p.is_pin() && p.title.contains("原因")));
    assert!(app.update(Msg::Key(key(KeyCode::Enter), Instant::now())).is_empty(), "no reason, no effect");
    assert!(app.prompt.is_some());
    assert!(type_text(&mut app, "CA 配置错误", Duration::from_millis(150)).is_empty());
    assert!(app.prompt.as_ref().is_some_and(|p| p.is_pin()), "then the PIN");
    let effects = type_text(&mut app, "123456", Duration::from_millis(150));
    let shown = format!("{effects:?}");
    assert!(matches!(&effects[..], [Effect::Abandon { reason, .. }] if reason == "CA 配置错误"), "{shown}");
    assert!(!shown.contains("123456"));

    order.status = Status::Received;
    let mut app = signed_in();
    app.update(Msg::OrderLoaded(Ok(opened(order))));
    assert!(app.update(Msg::Key(key(KeyCode::F(12)), Instant::now())).is_empty());
    assert!(app.prompt.is_none(), "nothing to abandon");
}

/// After a renewal ends, the key in the reader is identified again (what is on it changed).
#[test]
fn the_key_in_the_reader_is_identified_again_after_a_renewal() {
    use keydesk::token::pkcs11::PinFlags;
    let received = demo_orders().into_iter().find(|o| o.status == Status::Received).unwrap();
    let mut app = with_key_in_reader(
        received.clone(),
        identified(received.key_serial.as_str(), received.order_no.as_str(), PinFlags::default()),
    );
    let effects = app.update(Msg::RenewDone { order_no: received.order_no.clone(), result: Ok("续签完成".into()) });
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Identify { reader, .. } if reader == "Virtual PCD 00 00")),
        "{effects:?}"
    );
}

/// The card of a parcel with two keys at 80×24: both order numbers whole (they differ only at the end),
/// the company cut by display width with `…`, and the picked order's clocks below once they arrive.
#[test]
fn at_80_by_24_the_scan_card_never_cuts_what_tells_orders_apart() {
    use keydesk::ops::intake::{IntakeOrder, OrderOutcome};
    use keydesk::sla::{ClockRules, SlaSettings};
    let order = |no: &str| IntakeOrder {
        order_no: no.into(),
        outcome: OrderOutcome::Received,
        status: "received".into(),
        status_label: "已收件".into(),
        company: "北京星河精密仪器制造有限公司".into(),
        holder: "王*".into(),
        contact_phone: "139****0200".into(),
        key_serial: "6802BDAF34F798E5".into(),
        cert_not_after: crate::support::now() + chrono::Duration::days(20),
        paid: true,
        docs_approved: true,
        received_at: Some(crate::support::now()),
        received_by: Some("qin".into()),
    };
    let outcome = IntakeOutcome {
        result: IntakeResult::Matched,
        waybill: Some("SF7300000000200".into()),
        message: "运单 SF7300000000200 已收件（一个包裹 2 个 KEY）".into(),
        orders: vec![order("0000261124000902"), order("0000261124000903")],
    };
    let mut app = signed_in();
    let effects = app.update(Msg::IntakeDone { scan: "SF7300000000200".into(), result: Ok(outcome) });
    let [Effect::LoadClocks { order_nos }] = &effects[..] else { panic!("two keys: the card stays: {effects:?}") };
    assert_eq!(order_nos.len(), 2);
    let text = screen_text(&draw(&app, 80, 24));
    assert!(text.contains("0000261124000902") && text.contains("0000261124000903"), "{text}");
    assert!(text.contains("北京星河精密仪器制造…") && text.contains("6802BDAF34F798E5"), "{text}");

    // The picked order's clocks, from a detail as the runner loads it.
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    let received = demo_orders().into_iter().find(|o| o.order_no.as_str() == "0000261121000031").unwrap();
    let mut detail = opened(received);
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00+08:00").unwrap();
    detail.clocks = keydesk::ops::sla::order_clocks(&detail, &rules, now);
    let no = keydesk::domain::OrderNo::parse("0000261124000902").unwrap();
    app.update(Msg::ClocksLoaded(Ok(vec![(no, detail.clocks)])));
    let text = screen_text(&draw(&app, 80, 24));
    assert!(text.contains("0000261124000902  寄回 12-01 17:30 正常 剩16时 · 开票 11-27 17:30 已超时"), "{text}");
    insta::assert_snapshot!("scan_two_keys", text);
}

/// Columns give way lowest priority first, entirely, before the next is touched; a whole column never.
#[test]
fn columns_give_way_by_priority() {
    use keydesk::desk::widgets::{fit_columns, Column};
    let columns = [
        Column::whole("订单号", 16),
        Column::cut("单位", 20, 8, 3).growing(),
        Column::cut("KEY", 16, 8, 2),
        Column::cut("到期", 10, 10, 1),
    ];
    // Everything fits: the company takes what is left over.
    assert_eq!(fit_columns(&columns, 80), vec![16, 35, 16, 10]);
    // 16+20+16+10 and three gaps is 65: at 60 the expiry cannot be cut, so it goes; the rest fits.
    assert_eq!(fit_columns(&columns, 60), vec![16, 26, 16, 0]);
    // At 50, after the expiry went, the key serial is cut to what fits.
    assert_eq!(fit_columns(&columns, 50), vec![16, 20, 12, 0]);
    // At 40 cutting it is not enough: it goes too, before the company is touched.
    assert_eq!(fit_columns(&columns, 40), vec![16, 23, 0, 0]);
    // Too narrow for anything but the order number: the rest goes, the order number stays whole.
    assert_eq!(fit_columns(&columns, 10), vec![16, 0, 0, 0]);
}

/// The happy path in keystrokes: a scanned parcel with one key opens its order; the key in the reader
/// is its own, so the PIN prompt is already there; the PIN and Enter renew; the return waybill scanned
/// on the renewed order's screen ships it, and the label and the invoice go to the print queue. Beyond
/// the two scans, the operator types the PIN and presses Enter: seven keys.
#[test]
fn the_happy_path_is_scan_pin_scan() {
    use keydesk::token::pkcs11::PinFlags;
    use keydesk::token::reader::ReaderEvent as E;
    let received = demo_orders().into_iter().find(|o| o.status == Status::Received).unwrap();
    let no = received.order_no.clone();
    let mut app = signed_in();
    // The member's key is already in the reader, identified as this order's.
    app.update(Msg::Reader(E::ReaderAdded { reader: "Virtual PCD 00 00".into() }));
    app.update(Msg::Reader(E::CardInserted {
        reader: "Virtual PCD 00 00".into(),
        atr: "3B".into(),
        vendor: None,
        module: "m.so".into(),
    }));
    let id = identified(received.key_serial.as_str(), no.as_str(), PinFlags::default());
    app.update(Msg::KeyIdentified { reader: "Virtual PCD 00 00".into(), atr: "3B".into(), result: Ok(vec![id]) });
    let mut keystrokes = 0;

    // 1. The scan (a burst from the scanner, not counted): one key in the parcel, its order opens.
    let effects = type_text(&mut app, received.inbound.waybill.as_deref().unwrap(), Duration::from_millis(3));
    assert!(matches!(&effects[..], [Effect::Intake { .. }]), "{effects:?}");
    let card = keydesk::ops::intake::IntakeOrder {
        order_no: no.to_string(),
        outcome: keydesk::ops::intake::OrderOutcome::Received,
        status: "received".into(),
        status_label: "已收件".into(),
        company: received.company.clone(),
        holder: "秦*".into(),
        contact_phone: String::new(),
        key_serial: received.key_serial.to_string(),
        cert_not_after: received.cert.not_after,
        paid: true,
        docs_approved: true,
        received_at: received.received_at,
        received_by: Some("qin".into()),
    };
    let outcome = IntakeOutcome {
        result: IntakeResult::Matched,
        waybill: received.inbound.waybill.clone(),
        message: "已收件".into(),
        orders: vec![card],
    };
    let effects = app.update(Msg::IntakeDone { scan: String::new(), result: Ok(outcome) });
    assert_eq!(effects, vec![Effect::LoadOrder { order_no: no.clone() }]);
    // 2. The order on screen, its key in the reader: the PIN prompt is there without F10.
    assert!(app.update(Msg::OrderLoaded(Ok(opened(received.clone())))).is_empty());
    assert!(app.prompt.as_ref().is_some_and(|p| p.is_pin()), "the PIN prompt opens on its own");
    // 3. The PIN and Enter (typed: counted).
    let pin = "123456";
    keystrokes += pin.chars().count() + 1;
    let effects = type_text(&mut app, pin, Duration::from_millis(150));
    assert!(matches!(&effects[..], [Effect::Renew { order_no, .. }] if *order_no == no), "{effects:?}");
    let effects = app.update(Msg::RenewDone { order_no: no.clone(), result: Ok("续签完成".into()) });
    assert!(effects.contains(&Effect::LoadOrder { order_no: no.clone() }), "{effects:?}");
    let mut renewed = received.clone();
    renewed.status = Status::Renewed;
    app.update(Msg::OrderLoaded(Ok(opened(renewed.clone()))));
    assert!(app.prompt.is_none(), "a renewed order asks for no PIN");
    assert!(screen_text(&draw(&app, 80, 24)).contains("扫描寄回运单即发货"));
    // 4. The return waybill scanned on the order's screen (a burst, not counted): it ships.
    let effects = type_text(&mut app, "SF1234567890123", Duration::from_millis(3));
    assert_eq!(effects, vec![Effect::ScanOnOrder { order_no: no.clone(), scan: "SF1234567890123".into() }]);
    assert_eq!(app.screen, Screen::Order, "the scan stays on the order's screen");
    let mut shipped = renewed;
    shipped.status = Status::Shipped;
    shipped.outbound_waybill = Some(keydesk::domain::Waybill::parse("SF1234567890123").unwrap());
    // 5. Shipped: the label and the invoice queue for printing on their own.
    let effects = app.update(Msg::Shipped(Ok(opened(shipped.clone()))));
    assert_eq!(effects, vec![Effect::Print { order_no: no.clone() }]);
    assert_eq!(keystrokes, 7);

    // With print_on_ship off, shipping prints nothing until F11.
    app.print_on_ship = false;
    assert!(app.update(Msg::Shipped(Ok(opened(shipped)))).is_empty());
}

/// The PIN prompt is offered once per order and key, never on a final try (the operator decides, with
/// F10), never for another order's key.
#[test]
fn the_pin_prompt_opens_on_its_own_only_when_it_is_safe() {
    use keydesk::token::pkcs11::PinFlags;
    let received = demo_orders().into_iter().find(|o| o.status == Status::Received).unwrap();
    let own = |pin| identified(received.key_serial.as_str(), received.order_no.as_str(), pin);
    let mut app = with_key_in_reader(received.clone(), own(PinFlags::default()));
    assert!(app.prompt.as_ref().is_some_and(|p| p.is_pin()));
    // At 80×24 the prompt leaves the reader line (whose key, its PIN state) in view above it.
    let text = screen_text(&draw(&app, 80, 24));
    assert!(text.contains("是本订单的 KEY（证书相符；PIN 正常）") && text.contains("PIN：▏"), "{text}");
    app.update(Msg::Key(key(KeyCode::Esc), Instant::now()));
    assert!(app.prompt.is_none());
    // Read again (another desk's change): Esc stays respected for this key.
    app.update(Msg::OrderLoaded(Ok(opened(received.clone()))));
    assert!(app.prompt.is_none());
    // Pulled and inserted again: offered again once it is identified.
    use keydesk::token::reader::ReaderEvent as E;
    app.update(Msg::Reader(E::CardRemoved { reader: "Virtual PCD 00 00".into() }));
    let atr = || "3B".to_string();
    let inserted =
        E::CardInserted { reader: "Virtual PCD 00 00".into(), atr: atr(), vendor: None, module: "m.so".into() };
    app.update(Msg::Reader(inserted));
    assert!(app.prompt.is_none(), "not before it is identified");
    let result = Ok(vec![own(PinFlags::default())]);
    app.update(Msg::KeyIdentified { reader: "Virtual PCD 00 00".into(), atr: atr(), result });
    assert!(app.prompt.as_ref().is_some_and(|p| p.is_pin()));
    let final_try = PinFlags { final_try: true, count_low: true, ..PinFlags::default() };
    assert!(with_key_in_reader(received.clone(), own(final_try)).prompt.is_none());
    let other = identified("FT0000000099", "0000261121000009", PinFlags::default());
    assert!(with_key_in_reader(received.clone(), other).prompt.is_none());
    let paid = demo_orders().into_iter().find(|o| o.status == Status::Paid).unwrap();
    let paid_key = identified(paid.key_serial.as_str(), paid.order_no.as_str(), PinFlags::default());
    assert!(with_key_in_reader(paid, paid_key).prompt.is_none(), "an order not received yet renews nothing");
}

/// While one key renews, the operator opens the next parcel: each renewal keeps its own steps, the one
/// not on screen runs on a row of its own, and its end is said on the message line.
#[test]
fn while_one_key_renews_the_next_order_opens_and_each_keeps_its_steps() {
    use keydesk::desk::app::RenewProgress;
    use keydesk::ops::renew::StepReport;
    let mut received = demo_orders().into_iter().filter(|o| o.status == Status::Received);
    let (first, second) = (received.next().unwrap(), received.next().unwrap());
    let report = |step: &'static str| StepReport {
        step,
        label: "识别 KEY",
        total_ms: 1.0,
        token_ms: 1.0,
        own_ms: 0.0,
        note: String::new(),
    };
    let mut app = signed_in();
    app.update(Msg::OrderLoaded(Ok(opened(first.clone()))));
    app.update(Msg::Key(key(KeyCode::F(10)), Instant::now()));
    let effects = type_text(&mut app, "123456", Duration::from_millis(150));
    assert!(matches!(&effects[..], [Effect::Renew { .. }]));
    app.update(Msg::RenewStep { order_no: first.order_no.clone(), step: report("identify") });
    // The next parcel's order, and its own renewal.
    app.update(Msg::OrderLoaded(Ok(opened(second.clone()))));
    app.update(Msg::Key(key(KeyCode::F(10)), Instant::now()));
    assert!(app.prompt.is_some(), "the first renewal does not block the second");
    let effects = type_text(&mut app, "654321", Duration::from_millis(150));
    assert!(matches!(&effects[..], [Effect::Renew { order_no, .. }] if *order_no == second.order_no));
    app.update(Msg::RenewStep { order_no: second.order_no.clone(), step: report("identify") });
    app.update(Msg::RenewStep { order_no: second.order_no.clone(), step: report("login") });
    let steps = |app: &App, no| app.order.renewals.get(no).map(|r: &RenewProgress| r.steps.len());
    assert_eq!((steps(&app, &first.order_no), steps(&app, &second.order_no)), (Some(1), Some(2)));
    let text = screen_text(&draw(&app, 80, 24));
    assert!(text.contains(&format!("续签中 {}：已完成 1 步", first.order_no)), "{text}");
    // The first ends while the second is on screen: said, and not reloaded over the second.
    let effects = app.update(Msg::RenewDone { order_no: first.order_no.clone(), result: Ok("续签完成".into()) });
    assert!(!effects.contains(&Effect::LoadOrder { order_no: first.order_no.clone() }), "{effects:?}");
    assert!(app.message.as_ref().is_some_and(|(_, m)| m.contains(first.order_no.as_str()) && m.contains("续签完成")));
    assert!(!screen_text(&draw(&app, 80, 24)).contains("续签中"), "nothing else runs elsewhere");
}

/// Two keys in two readers, two renewals at once through the runner, each with a token worker of its
/// own on a real SoftHSM key: both finish, each with its own steps, and they overlap in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_keys_renew_at_once_each_with_its_own_worker() {
    let lab = crate::token::KeyLab::with_more_keys(1);
    let (store, runner, mut rx) = lab_runner(&lab).await;
    let first = keydesk::domain::OrderNo::parse(crate::token::ORDER).unwrap();
    let second = keydesk::domain::OrderNo::parse(&lab.others[0].0).unwrap();
    let mut app = signed_in();
    let mut pending = Vec::new();
    for no in [&first, &second] {
        let order = store.order_by_no(no).await.unwrap().unwrap();
        assert_eq!(order.status, Status::Received, "{no}");
        app.update(Msg::OrderLoaded(Ok(opened(order))));
        app.update(Msg::Key(key(KeyCode::F(10)), Instant::now()));
        pending.extend(type_text(&mut app, crate::token::PIN, Duration::from_millis(120)));
    }
    assert_eq!(pending.iter().filter(|e| matches!(e, Effect::Renew { .. })).count(), 2, "{pending:?}");
    let mut done = Vec::new();
    let mut overlapped = false;
    for _ in 0..80 {
        let msg = run_and_wait(&runner, &mut pending, Some("qin"), &mut rx, Duration::from_secs(60)).await;
        if let Msg::RenewDone { order_no, result } = &msg {
            assert!(result.is_ok(), "{order_no}: {result:?}");
            // When the first ends, the other has begun (both reported a step): they ran at once.
            if done.is_empty() {
                overlapped = app.order.renewals.values().all(|r| !r.steps.is_empty());
            }
            done.push(order_no.clone());
        }
        pending = app.update(msg);
        if done.len() == 2 {
            break;
        }
    }
    assert_eq!(done.len(), 2, "both renewals ended");
    assert!(overlapped, "the second renewal started before the first ended");
    for no in [&first, &second] {
        let r = &app.order.renewals[no];
        let steps: Vec<&str> = r.steps.iter().map(|s| s.step).collect();
        assert!(steps.contains(&"generate_key") && steps.contains(&"activate"), "{no}: {steps:?}");
        assert_eq!(store.order_by_no(no).await.unwrap().unwrap().status, Status::Renewed, "{no}");
    }
}

/// The PIN prompt opens on its own, so a parcel scanned while it is open lands in the PIN field: a
/// scanner's burst there is taken as a scan, never sent to the key as a PIN.
#[test]
fn a_scan_into_the_pin_prompt_is_a_scan_not_a_pin_try() {
    use keydesk::token::pkcs11::PinFlags;
    let received = demo_orders().into_iter().find(|o| o.status == Status::Received).unwrap();
    let own = identified(received.key_serial.as_str(), received.order_no.as_str(), PinFlags::default());
    let mut app = with_key_in_reader(received, own);
    assert!(app.prompt.as_ref().is_some_and(|p| p.is_pin()));
    let effects = type_text(&mut app, "SF1402000007919", Duration::from_millis(3));
    assert_eq!(effects, vec![Effect::Intake { scan: "SF1402000007919".into() }]);
    assert!(app.prompt.is_none());
    assert_eq!(app.screen, Screen::Scan);
    assert!(app.message.as_ref().is_some_and(|(_, m)| m.contains("未提交给 KEY")));
}

/// A shipped order's screen says when the key left: the ship scan, and SF's pickup (which stops the
/// return clock) and delivery once SF's routes reported them.
#[test]
fn a_shipped_orders_screen_shows_the_ship_scan_and_the_couriers_pickup() {
    let mut order = demo_orders().into_iter().find(|o| o.status == Status::Shipped && o.shipped_at.is_some()).unwrap();
    let shipped = order.shipped_at.unwrap();
    let mut app = signed_in();
    app.update(Msg::OrderLoaded(Ok(opened(order.clone()))));
    let text = screen_text(&draw(&app, 120, 40));
    assert!(text.contains("顺丰未报揽收"), "{text}");
    order.picked_up_at = Some(shipped + chrono::TimeDelta::minutes(95));
    order.delivered_at = Some(shipped + chrono::TimeDelta::hours(20));
    app.update(Msg::OrderLoaded(Ok(opened(order))));
    let text = screen_text(&draw(&app, 120, 40));
    let at =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&keydesk::sla::SHANGHAI).format("%m-%d %H:%M").to_string();
    assert!(text.contains(&format!("发货扫描 {}", at(shipped))), "{text}");
    assert!(text.contains(&format!("顺丰揽收 {}", at(shipped + chrono::TimeDelta::minutes(95)))), "{text}");
    assert!(text.contains(&format!("已签收 {}", at(shipped + chrono::TimeDelta::hours(20)))), "{text}");
}

/// The board's line of inbound parcels SF reported: 到件预计 today, and 疑似遗失 for one SF delivered
/// days ago that nobody scanned; no line when SF reported neither.
#[test]
fn the_board_lists_expected_parcels_and_flags_a_lost_one() {
    use keydesk::ops::routes::{Arrival, Arrivals};
    let mut app = signed_in();
    app.update(Msg::Key(key(KeyCode::F(4)), Instant::now()));
    assert_eq!(app.screen, Screen::Board);
    app.update(Msg::ArrivalsLoaded(Ok(Arrivals::default())));
    assert!(!screen_text(&draw(&app, 120, 40)).contains("到件预计"));
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    let arrival = |waybill: &str, delivered, when| Arrival {
        order_no: "0000261122000002".into(),
        waybill: waybill.into(),
        delivered,
        at: at(when),
    };
    app.update(Msg::ArrivalsLoaded(Ok(Arrivals {
        expected: vec![arrival("SF1402000007919", false, "2026-11-30T11:30:00+08:00")],
        lost: vec![arrival("SF1402000023757", true, "2026-11-18T12:00:00+08:00")],
    })));
    let text = screen_text(&draw(&app, 120, 40));
    assert!(text.contains("到件预计 1：SF1402000007919"), "{text}");
    assert!(text.contains("疑似遗失 1（顺丰 11-18 起已签收，未扫描）：SF1402000023757"), "{text}");
}

//! The working-day clocks over real orders on both databases: holds become pauses, the board shows
//! every open clock, the report counts met and missed; and the `sla`/`calendar` commands.

use chrono::{DateTime, FixedOffset};
use keydesk::domain::order::Change;
use keydesk::domain::{HoldReason, OrderNo};
use keydesk::ops;
use keydesk::sla::board::{BoardWindow, RowClock};
use keydesk::sla::{ClockRules, ClockState, Policy, SlaSettings};
use keydesk::store::ClockScope;

use crate::both_backends;
use crate::support::{actor, load_demo, TestDb};

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

both_backends!(a_hold_pauses_the_return_clock_and_a_release_resumes_it, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    let received = s
        .list_orders(&keydesk::store::ListQuery {
            status: Some(keydesk::domain::Status::Received),
            limit: 1,
            after_id: 0,
        })
        .await
        .unwrap()
        .remove(0);
    let no = received.order_no.clone();
    let state_of = |board: &keydesk::sla::board::Board, no: &OrderNo| {
        board.rows.iter().find(|r| r.order_no == no.as_str() && r.policy == Policy::Return).and_then(|r| r.state())
    };
    let now = crate::support::clock().now_local();
    let before = ops::sla::board(s, &rules, now, BoardWindow::all()).await.unwrap();
    assert!(
        state_of(&before, &no).is_some_and(|st| st != ClockState::OnHold),
        "the received order has a running return clock"
    );

    ops::change::change_order(
        s,
        &no,
        &Change::Hold { reason: HoldReason::WrongKey, resume_to: None },
        "寄错 KEY",
        &actor("qin"),
        &crate::support::clock(),
    )
    .await
    .unwrap();
    let held = ops::sla::board(s, &rules, crate::support::clock().now_local(), BoardWindow::all()).await.unwrap();
    assert_eq!(state_of(&held, &no), Some(ClockState::OnHold));
    assert!(held.counts.on_hold >= 1);

    ops::change::change_order(s, &no, &Change::Release, "客户补寄", &actor("qin"), &crate::support::clock())
        .await
        .unwrap();
    let facts = s.clock_facts(ClockScope::Open).await.unwrap();
    let mine = facts.iter().find(|f| f.order_no == no.as_str()).unwrap();
    let clocks = ops::sla::clocks_of(mine);
    let ret = clocks.iter().find(|c| c.clock.policy == Policy::Return).unwrap();
    assert_eq!(ret.clock.pauses.len(), 1);
    assert!(ret.clock.pauses[0].to.is_some(), "the pause closed on release");
    let released = ops::sla::board(s, &rules, crate::support::clock().now_local(), BoardWindow::all()).await.unwrap();
    assert_ne!(state_of(&released, &no), Some(ClockState::OnHold));
    // The board is sorted by urgency: every breached row comes before any on-track row.
    let states: Vec<Option<ClockState>> = released.rows.iter().map(|r| r.state()).collect();
    let first_on_track = states.iter().position(|s| *s == Some(ClockState::OnTrack)).unwrap_or(states.len());
    assert!(states[first_on_track..].iter().all(|s| *s != Some(ClockState::Breached)));
    // Every clock is computed while today's year has a calendar (2024–2026 ship built in).
    use chrono::Datelike;
    if rules.calendar().has_year(crate::support::clock().now().year()) {
        assert!(released.rows.iter().all(|r| matches!(r.clock, RowClock::Evaluated(_))));
    }
});

both_backends!(the_report_counts_shipped_orders_as_met_or_missed, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    // Demo: 5 shipped (received Tue 11-24 11:00, shipped Wed 11-25 16:00: met) and 6 completed
    // (received Fri 11-20 11:00, shipped Sat 11-21 16:30: met).
    let from = at("2026-11-20T00:00:00+08:00").with_timezone(&chrono::Utc);
    let to = at("2026-11-27T00:00:00+08:00").with_timezone(&chrono::Utc);
    let (report, problems) = ops::sla::report(s, &rules, from, to).await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!((report.total.met, report.total.missed), (11, 0));
    assert_eq!(report.by_day.len(), 2);
});

fn keydesk(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keydesk"))
        .args(args)
        .env_remove("KEYDESK_CONFIG")
        .env("KEYDESK_DATABASE__URL", "sqlite::memory:")
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn sla_due_reproduces_the_documented_examples() {
    let cases = [
        ("return", "2025-03-04T10:15:00+08:00", "2025-03-06T17:30:00+08:00"),
        ("return", "2025-09-26T11:00:00+08:00", "2025-09-29T17:30:00+08:00"),
        ("return", "2026-09-30T09:30:00+08:00", "2026-10-09T17:30:00+08:00"),
        ("invoice", "2026-02-09T10:00:00+08:00", "2026-02-14T17:30:00+08:00"),
    ];
    for (policy, event, due) in cases {
        let (code, out) = keydesk(&["sla", "due", "--policy", policy, "--event", event, "--json"]);
        assert_eq!(code, 0, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["due_at"], due, "{policy} {event}");
        for key in ["effective_start", "warn_at", "budget_minutes"] {
            assert!(!v[key].is_null(), "{key} missing");
        }
    }
    // A pause moves the due instant by the business time on hold, to the minute.
    let (_, out) = keydesk(&[
        "sla",
        "due",
        "--policy",
        "return",
        "--event",
        "2025-03-04T10:15:00+08:00",
        "--pause",
        "2025-03-05T10:00:00+08:00/2025-03-05T11:30:00+08:00",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["due_at"], "2025-03-07T10:30:00+08:00");
    assert_eq!(v["original_due_at"], "2025-03-06T17:30:00+08:00");
    // 2027 has no notice yet: provisional. 2029 is beyond the provisional years: no calendar at all.
    let (code, out) = keydesk(&["sla", "due", "--policy", "return", "--event", "2027-03-04T10:15:00+08:00", "--json"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["due_at"].as_str(), v["provisional_calendar"].as_bool()),
        (Some("2027-03-08T17:30:00+08:00"), Some(true))
    );
    let (code, _) = keydesk(&["sla", "due", "--policy", "return", "--event", "2029-03-05T10:15:00+08:00"]);
    assert_eq!(code, keydesk::cli::exit::FAILURE as i32, "no calendar for 2029");
}

#[test]
fn calendar_check_lists_the_built_in_years() {
    let (code, out) = keydesk(&["calendar", "check", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let years: Vec<(i64, &str)> = v["years"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| (y["year"].as_i64().unwrap(), y["source"]["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        years,
        vec![(2024, "built_in"), (2025, "built_in"), (2026, "built_in"), (2027, "provisional"), (2028, "provisional")]
    );
    // From 1 November the missing next year is a warning with its own exit code.
    let warned = !v["warnings"].as_array().unwrap().is_empty();
    assert_eq!(code == keydesk::cli::exit::CALENDAR_WARNING as i32, warned);
}

both_backends!(the_two_week_chart_counts_receipts_shipments_and_late_clocks, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    let now = at("2026-11-30T10:00:00+08:00");
    let trend = ops::sla::trend(s, &rules, now, 14).await.unwrap();
    assert_eq!(trend.days.len(), 14);
    assert_eq!(trend.days[13].day.to_string(), "2026-11-30");
    let day = |d: &str| trend.days.iter().find(|c| c.day.to_string() == d).copied().unwrap();
    // Demo: 5 shipped on Wed 11-25 and 6 on Sat 11-21, all on time.
    assert_eq!((day("2026-11-25").shipped, day("2026-11-21").shipped), (5, 6));
    // Every order received in the window is counted once, on its Beijing date.
    let all = s.list_orders(&keydesk::store::ListQuery { status: None, limit: 1000, after_id: 0 }).await.unwrap();
    let first = trend.days[0].day;
    let received = all
        .iter()
        .filter_map(|o| o.received_at)
        .filter(|t| keydesk::sla::WorkingTime::shanghai_date(t.with_timezone(&keydesk::sla::SHANGHAI)) >= first)
        .count();
    assert_eq!(trend.totals().0 as usize, received);
    // Late: exactly the open return clocks already past due (shipped ones were all on time).
    let board = ops::sla::board(s, &rules, now, BoardWindow::all()).await.unwrap();
    let breached =
        board.rows.iter().filter(|r| r.policy == Policy::Return && r.state() == Some(ClockState::Breached)).count();
    assert_eq!(trend.totals().2 as usize, breached);
});

/// A 2027 notice written for this test (no 2027 notice existed when it was written): consistent with the
/// real 2027 calendar's weekdays and with the law's statutory days.
const NOTICE_2027: &str = include_str!("notices/2027-written-for-the-test.txt");

#[test]
fn importing_a_notice_shows_it_then_writes_the_year_that_clocks_then_use() {
    let dir = tempfile::tempdir().unwrap();
    let notice = dir.path().join("notice.txt");
    std::fs::write(&notice, NOTICE_2027).unwrap();
    let calendars = dir.path().join("calendars");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_keydesk"))
            .args(args)
            .env_remove("KEYDESK_CONFIG")
            .env("KEYDESK_DATABASE__URL", "sqlite::memory:")
            .env("KEYDESK_SLA__CALENDAR_DIR", &calendars)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    };
    let notice_arg = notice.to_str().unwrap();
    let due_in_2027 = ["sla", "due", "--policy", "return", "--event", "2026-12-30T10:00:00+08:00", "--json"];
    let spring = ["sla", "due", "--policy", "return", "--event", "2027-02-04T10:00:00+08:00", "--json"];
    let due = |args: &[&str]| -> (String, bool) {
        let (code, out) = run(args);
        assert_eq!(code, 0, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (v["due_at"].as_str().unwrap().to_string(), v["provisional_calendar"].as_bool().unwrap())
    };
    // No 2027 notice yet: provisional, from the statutory days alone (除夕 to 初三, two days given back).
    assert_eq!(due(&spring), ("2027-02-12T17:30:00+08:00".to_string(), true));

    // Shown, not written.
    let (code, out) = run(&["calendar", "import", notice_arg]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("国务院办公厅关于2027年部分节假日安排的通知（2026-11-10 发布）"), "{out}");
    assert!(out.contains("春节"), "{out}");
    assert!(out.contains("2月5日（周五） 至 2月12日（周五）"), "{out}");
    assert!(out.contains("1月31日（周日）、2月20日（周六）"), "{out}");
    assert!(out.contains("2027 年尚无正式日历（时限按暂定日历计算）"), "{out}");
    assert!(!calendars.exists(), "nothing written without --write");

    // Written: the year loads from the folder and the clock that fell into 2027 is due.
    let (code, out) = run(&["calendar", "import", notice_arg, "--write", "--json"]);
    assert_eq!(code, 0, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let written = calendars.join("holidays-cn-2027.json");
    assert_eq!(report["written"], written.to_str().unwrap());
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&written).unwrap()).unwrap();
    assert!(file["source"].as_str().unwrap().contains("imported by keydesk calendar import from notice.txt"));
    assert_eq!(file["days"].as_array().unwrap().len(), 3 + 8 + 2 + 3 + 5 + 1 + 1 + 1 + 7 + 2);
    // Received Wed 30 Dec; Thu 31 Dec works; 1–3 Jan are off; Mon 4 Jan is the second working day.
    assert_eq!(due(&due_in_2027), ("2027-01-04T17:30:00+08:00".to_string(), false));
    // The notice's eight days of Spring Festival move the provisional deadline on, and it is no longer 暂定.
    assert_eq!(due(&spring), ("2027-02-16T17:30:00+08:00".to_string(), false));
    let (_, out) = run(&["calendar", "check", "--json"]);
    assert!(out.contains("holidays-cn-2027.json"), "{out}");

    // The same notice again: nothing changes. An amendment lists what it changes.
    let (code, out) = run(&["calendar", "import", notice_arg]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("与现有日历相同"), "{out}");
    let amended = NOTICE_2027.replace("5月8日（周六）上班", "4月25日（周日）上班");
    std::fs::write(&notice, amended).unwrap();
    let (_, out) = run(&["calendar", "import", notice_arg]);
    assert!(out.contains("2 天改变"), "{out}");
    assert!(out.contains("4月25日（周日）  休息 → 上班"), "{out}");
    assert!(out.contains("5月8日（周六）  上班 → 休息"), "{out}");

    // A doctored notice is refused naming its line, and the file on disk stays as it was.
    let before = std::fs::read(&written).unwrap();
    std::fs::write(&notice, NOTICE_2027.replace("10月1日（周五）", "10月1日（周四）")).unwrap();
    let (code, out) = run(&["calendar", "import", notice_arg, "--write"]);
    assert_eq!(code, keydesk::cli::exit::REFUSED as i32, "{out}");
    assert!(out.contains("第 11 行：10月1日 是周五，通知写的是周四"), "{out}");
    assert_eq!(std::fs::read(&written).unwrap(), before);
}

both_backends!(importing_next_years_notice_moves_open_deadlines_and_the_board_says_so, async |db: &TestDb| {
    load_demo(db).await;
    let s = db.store.as_ref();
    // A parcel received on Thursday 2027-02-04, before 2027's notice is out: the provisional calendar
    // knows only 除夕 to 初三 (and two days given back), so the key is due Friday 12 February — 暂定.
    let clock = keydesk::clock::Clock::fixed(at("2027-02-04T10:00:00+08:00").to_utc());
    let intake = ops::intake::intake(s, "SF1402000000000", &actor("qin"), &clock).await.unwrap();
    let order_no = intake.orders[0].order_no.clone();
    let before = ClockRules::load(&SlaSettings::default()).unwrap();
    let board = ops::sla::board(s, &before, clock.now_local(), BoardWindow::all()).await.unwrap();
    let row = board.rows.iter().find(|r| r.order_no == order_no && r.policy == Policy::Return).unwrap();
    let RowClock::Evaluated(e) = &row.clock else { panic!("{row:?}") };
    assert_eq!((e.schedule.due_at, e.schedule.provisional_calendar), (at("2027-02-12T17:30:00+08:00"), true));
    assert_eq!(row.moved, None);

    // The notice comes: 春节 runs 5 to 12 February, so the key is due Tuesday 16 February.
    let dir = tempfile::tempdir().unwrap();
    let notice = keydesk::sla::notice::Notice::parse(NOTICE_2027).unwrap();
    std::fs::write(dir.path().join("holidays-cn-2027.json"), notice.calendar_file("test")).unwrap();
    let after =
        ClockRules::load(&SlaSettings { calendar_dir: Some(dir.path().to_owned()), ..SlaSettings::default() }).unwrap();
    let moved = ops::sla::record_calendar_change(s, &before, &after, &actor("qin"), &clock).await.unwrap();
    let ours: Vec<_> = moved.iter().filter(|m| m.order_no == order_no).collect();
    assert_eq!(ours.len(), 1, "{moved:?}");
    assert_eq!(
        (ours[0].before, ours[0].after),
        (Some(at("2027-02-12T17:30:00+08:00")), at("2027-02-16T17:30:00+08:00"))
    );
    assert_eq!(ours[0].reason, "寄回时限因节假日日历调整：2027-02-12 17:30（周五） → 2027-02-16 17:30（周二）");
    // Deadlines in 2026 did not move.
    assert!(moved.iter().all(|m| m.after.date_naive().to_string().starts_with("2027")), "{moved:?}");

    // The board, on the new calendar: no longer 暂定, and marked as moved; the order's timeline says so.
    let board = ops::sla::board(s, &after, clock.now_local(), BoardWindow::all()).await.unwrap();
    let row = board.rows.iter().find(|r| r.order_no == order_no && r.policy == Policy::Return).unwrap();
    let RowClock::Evaluated(e) = &row.clock else { panic!("{row:?}") };
    assert_eq!((e.schedule.due_at, e.schedule.provisional_calendar), (at("2027-02-16T17:30:00+08:00"), false));
    assert_eq!(row.moved.as_deref(), Some(ours[0].reason.as_str()));
    let detail = ops::orders::detail(s, &OrderNo::parse(&order_no).unwrap()).await.unwrap();
    assert!(detail
        .audit
        .iter()
        .any(|a| a.action == keydesk::domain::AuditAction::DeadlineMoved && a.reason == ours[0].reason));
    // Recorded once: the same change again moves nothing.
    assert!(ops::sla::record_calendar_change(s, &after, &after, &actor("qin"), &clock).await.unwrap().is_empty());
});

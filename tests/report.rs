//! The manager's report over real orders on both databases. One scenario, laid on the working days of
//! the four weeks before today (so it holds at any instant the suite runs), is driven through the use
//! cases the desk uses: parcels received, a hold and its release, renewals, shipments, invoices, a
//! refund, a parcel no order claims. Then the report of those four weeks is computed beside `sla report`,
//! the board and its chart on the same data, and they must agree; the workbook is read back by an
//! independent reader (Debian's Python with openpyxl), converted to PDF by LibreOffice headless, and
//! written by `keydesk report`, the board's key and the worker's weekly run.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use keydesk::clock::Clock;
use keydesk::domain::order::Change;
use keydesk::domain::{AuditAction, HoldReason, OrderNo, Status};
use keydesk::ops;
use keydesk::report::Period;
use keydesk::sla::board::BoardWindow;
use keydesk::sla::working_time::shanghai_instant;
use keydesk::sla::{ClockRules, ClockState, Policy, SlaSettings};
use keydesk::store::{PlannedChange, Stamps, Store};

use crate::both_backends;
use crate::support::{actor, TestDb};

/// Debian's interpreter, which has python3-openpyxl (the `python3` on PATH may be another build).
const PYTHON: &str = "/usr/bin/python3";

/// The scenario's orders by role, and the day the four weeks end (today, Beijing time).
struct Scenario {
    period: Period,
    now: DateTime<FixedOffset>,
    /// Met (A), missed after a hold (B), open and late (C), on track (D), refunded (E), still on hold (F),
    /// invoice only, issued late (G), and one shipped before the period (Z).
    no: std::collections::BTreeMap<char, String>,
    /// Full names and phones in the orders: none may appear in a report.
    personal: Vec<String>,
    unmatched_waybill: String,
}

fn clock_at(day: NaiveDate, hour: i64, minute: i64) -> Clock {
    Clock::fixed(shanghai_instant(day, hour * 3600 + minute * 60).with_timezone(&Utc))
}

fn order_json(no: &str, i: usize, paid: DateTime<FixedOffset>, invoice: bool) -> serde_json::Value {
    let (holder, phone) =
        (format!("{}晓明", ["秦", "王", "李", "张", "赵", "刘", "陈", "杨"][i % 8]), format!("1590934{:04}", 6000 + i));
    let mut o = serde_json::json!({
        "order_no": no,
        "kind": "mail_back",
        "term_years": 1,
        "amount": "249.00",
        "status": "paid",
        "created_at": (paid - Duration::minutes(5)).to_rfc3339(),
        "paid_at": paid.to_rfc3339(),
        "account": format!("ysrep{i:02}"),
        "holder_name": holder,
        "company": format!("北京报表测试{i}号科技有限公司"),
        "contact_phone": phone,
        "key_serial": format!("1551099{i:04}"),
        "cert": {
            "serial": format!("AB{i:014X}"),
            "subject": format!("CN=051@{holder}@ZS00000rep{i:02},O=北京报表测试{i}号科技有限公司,C=CN"),
            "not_before": (paid - Duration::days(340)).to_rfc3339(),
            "not_after": (paid + Duration::days(25)).to_rfc3339(),
            "seal": "dual"
        },
        "handler": { "name": holder, "phone": phone, "id_number": format!("11010019700101{i:04}"), "docs_approved": true },
        "inbound": { "carrier": "顺丰速运", "waybill": format!("SF19{:011}", 100 + i) },
        "ship_to": { "name": holder, "phone": phone, "region": "北京市市辖区丰台区", "address": "丰台路18号院3号楼502" },
        "invoice_status": if invoice { "pending" } else { "not_requested" },
    });
    if invoice {
        o["invoice"] = serde_json::json!({ "title": format!("北京报表测试{i}号科技有限公司"), "tax_id": format!("91110108MA4019{i:04}") });
    }
    o
}

async fn advance(s: &dyn Store, no: &str, to: Status, who: &str, clock: &Clock) {
    let order = s.order_by_no(&OrderNo::parse(no).unwrap()).await.unwrap().unwrap();
    let transition = order.plan(&Change::MoveTo(to), "续签").unwrap();
    let change = PlannedChange {
        order_id: order.id,
        order_no: order.order_no.clone(),
        expected_version: order.version,
        transition,
        stamps: Stamps::default(),
        action: AuditAction::Renew,
    };
    s.apply_change(&change, &actor(who), clock.now()).await.unwrap();
}

async fn renew(s: &dyn Store, no: &str, who: &str, clock: &Clock) {
    advance(s, no, Status::Renewing, who, clock).await;
    advance(s, no, Status::Renewed, who, clock).await;
}

async fn receive(s: &dyn Store, no: &str, who: &str, clock: &Clock) {
    let order = s.order_by_no(&OrderNo::parse(no).unwrap()).await.unwrap().unwrap();
    let waybill = order.inbound.waybill.clone().unwrap();
    let outcome = ops::intake::intake(s, &waybill, &actor(who), clock).await.unwrap();
    assert_eq!(outcome.result, ops::intake::IntakeResult::Matched, "{no}");
}

async fn ship(s: &dyn Store, no: &str, waybill: &str, who: &str, clock: &Clock) {
    ops::ship::ship(s, &OrderNo::parse(no).unwrap(), waybill, &actor(who), clock).await.unwrap();
}

async fn change(s: &dyn Store, no: &str, change: Change, note: &str, who: &str, clock: &Clock) {
    ops::change::change_order(s, &OrderNo::parse(no).unwrap(), &change, note, &actor(who), clock).await.unwrap();
}

async fn invoice(s: &dyn Store, no: &str, number: &str, who: &str, clock: &Clock) {
    let order = s.order_by_no(&OrderNo::parse(no).unwrap()).await.unwrap().unwrap();
    ops::invoice::attach_invoice(s, &order, number, b"%PDF-1.4 test".to_vec(), &actor(who), clock).await.unwrap();
}

/// Lays the scenario on the working days `w` of the 27 days before today.
async fn scenario(db: &TestDb, rules: &ClockRules) -> Scenario {
    let s = db.store.as_ref();
    let now = Clock::system().now_local();
    let today = now.date_naive();
    let period = Period::new(today - Duration::days(27), today).unwrap();
    let w: Vec<NaiveDate> = (0..27)
        .map(|i| period.first + Duration::days(i))
        .filter(|d| rules.calendar().is_working_day(*d).unwrap())
        .collect();
    let n = w.len();
    assert!(n >= 12, "four weeks hold at least 12 working days: {w:?}");
    let roles = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'Z'];
    let no: std::collections::BTreeMap<char, String> = roles
        .iter()
        .enumerate()
        .map(|(i, r)| (*r, format!("0000{}{:06}", period.first.format("%y%m%d"), 900_001 + i)))
        .collect();
    // Paid (and documents approved) the day before the period; G the morning of its first working day.
    let paid = shanghai_instant(period.first - Duration::days(1), 9 * 3600);
    let g_paid = shanghai_instant(w[0], 9 * 3600);
    let z_paid = shanghai_instant(period.first - Duration::days(45), 9 * 3600);
    let orders: Vec<serde_json::Value> = roles
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = match r {
                'G' => g_paid,
                'Z' => z_paid,
                _ => paid,
            };
            order_json(&no[r], i, at, matches!(r, 'A' | 'G'))
        })
        .collect();
    let personal = orders
        .iter()
        .flat_map(|o| {
            [o["holder_name"].as_str().unwrap().to_string(), o["contact_phone"].as_str().unwrap().to_string()]
        })
        .collect();
    let json = serde_json::to_string(&orders).unwrap();
    ops::import::import_orders(
        s,
        &json,
        &actor("import"),
        &Clock::fixed(paid.with_timezone(&Utc) - Duration::days(50)),
    )
    .await
    .unwrap();

    // Z: received and shipped well before the period.
    let z_day = period.first - Duration::days(40);
    receive(s, &no[&'Z'], "zhao", &clock_at(z_day, 10, 0)).await;
    renew(s, &no[&'Z'], "zhao", &clock_at(z_day, 11, 0)).await;
    ship(s, &no[&'Z'], "SF2900000000001", "zhao", &clock_at(z_day, 12, 0)).await;
    // A: received, renewed, shipped the next working day; invoice issued then.
    receive(s, &no[&'A'], "qin", &clock_at(w[1], 10, 0)).await;
    renew(s, &no[&'A'], "qin", &clock_at(w[1], 14, 0)).await;
    ship(s, &no[&'A'], "SF2900000000002", "wang", &clock_at(w[2], 10, 0)).await;
    invoice(s, &no[&'A'], "26110000000000000001", "wang", &clock_at(w[2], 11, 0)).await;
    // B: four hours on hold (PIN locked) move its due instant to 13:00 the day after it; shipped late.
    receive(s, &no[&'B'], "qin", &clock_at(w[3], 10, 0)).await;
    let pin = Change::Hold { reason: HoldReason::PinLocked, resume_to: None };
    change(s, &no[&'B'], pin, "客户 PIN 已锁", "qin", &clock_at(w[3], 11, 0)).await;
    change(s, &no[&'B'], Change::Release, "客户已解锁", "qin", &clock_at(w[3], 15, 0)).await;
    renew(s, &no[&'B'], "li", &clock_at(w[4], 10, 0)).await;
    ship(s, &no[&'B'], "SF2900000000003", "wang", &clock_at(w[7], 10, 0)).await;
    // C: received and never shipped: late since its due instant.
    receive(s, &no[&'C'], "li", &clock_at(w[8], 10, 0)).await;
    // E: received, then refunded: its clock is no longer open.
    receive(s, &no[&'E'], "qin", &clock_at(w[9], 10, 0)).await;
    change(s, &no[&'E'], Change::MoveTo(Status::Refunding), "会员申请退款", "qin", &clock_at(w[9], 15, 0)).await;
    // F: received, held for documents, still held.
    receive(s, &no[&'F'], "qin", &clock_at(w[n - 2], 10, 0)).await;
    let docs = Change::Hold { reason: HoldReason::DocumentsMissing, resume_to: None };
    change(s, &no[&'F'], docs, "补办理人资料", "qin", &clock_at(w[n - 2], 11, 0)).await;
    // A parcel no order claims.
    let unmatched_waybill = "SF1999000000001".to_string();
    let outcome = ops::intake::intake(s, &unmatched_waybill, &actor("qin"), &clock_at(w[n - 2], 16, 0)).await.unwrap();
    assert_eq!(outcome.result, ops::intake::IntakeResult::Unknown);
    // D: received on the last working day before today: on track.
    receive(s, &no[&'D'], "zhang", &clock_at(w[n - 1], 10, 0)).await;
    // G: invoice only, approved on the first working day, due five working days later, issued a day late.
    invoice(s, &no[&'G'], "26110000000000000002", "wang", &clock_at(w[6], 10, 0)).await;
    Scenario { period, now, no, personal, unmatched_waybill }
}

both_backends!(the_report_agrees_with_sla_report_the_board_and_its_chart, async |db: &TestDb| {
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    let sc = scenario(db, &rules).await;
    let s = db.store.as_ref();
    let now = Clock::system().now_local();
    let report = ops::report::build(s, &rules, sc.period, now).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.as_of, now.min(sc.period.end()));
    // Read three orders at a time, the same report.
    assert_eq!(ops::report::build_in_pages(s, &rules, sc.period, now, 3).await.unwrap(), report);

    // The scenario, by hand.
    let o = &report.overview;
    assert_eq!((o.received, o.renewed, o.shipped), (6, 2, 2));
    assert_eq!(
        (o.return_clocks.met, o.return_clocks.missed, o.return_clocks.open, o.return_clocks.open_late),
        (1, 1, 3, 1)
    );
    assert_eq!((o.invoice_clocks.met, o.invoice_clocks.missed, o.invoice_clocks.open), (1, 1, 0));
    // A: 8.5 working hours; B: four working days, 34 hours (its hold is not taken off turnaround).
    assert_eq!((o.turnaround.orders, o.turnaround.median_hours, o.turnaround.p90_hours), (2, Some(21.3), Some(34.0)));
    let holds: Vec<(&str, u64, u64)> = o.holds.iter().map(|h| (h.reason.as_str(), h.holds, h.still_on_hold)).collect();
    assert_eq!(holds, vec![("PIN 已锁定", 1, 0), ("办理人资料缺失或未审核", 1, 1)]);
    assert_eq!(o.holds[0].hours, 4.0);
    assert_eq!(o.unmatched, 1);
    let late: Vec<(&str, Policy, bool)> =
        report.late.iter().map(|l| (l.order_no.as_str(), l.policy, l.done_at.is_some())).collect();
    assert_eq!(
        late,
        vec![
            (sc.no[&'G'].as_str(), Policy::Invoice, true),
            (sc.no[&'B'].as_str(), Policy::Return, true),
            (sc.no[&'C'].as_str(), Policy::Return, false)
        ]
    );
    // G's invoice due at 17:30 on the fifth working day, issued 10:00 on the sixth; B due 13:00, shipped 10:00 a day later.
    assert_eq!((report.late[0].late_hours, report.late[1].late_hours), (1.0, 5.5));
    assert!(report.late[1].holds.starts_with("PIN 已锁定 "), "{}", report.late[1].holds);
    assert!(report.late[1].holds.ends_with(" 4.0工时"), "{}", report.late[1].holds);
    assert!(report.late[2].late_hours > 0.0 && report.late[2].operator == "li");
    assert_eq!((report.late[1].holder.as_str(), report.late[1].phone.as_str()), ("王**", "159****6001"));
    let ops_rows: Vec<(&str, u64, u64, u64, u64, u64)> = report
        .operators
        .iter()
        .map(|o| (o.operator.as_str(), o.received, o.renewed, o.shipped, o.met, o.missed))
        .collect();
    assert_eq!(
        ops_rows,
        vec![("li", 1, 1, 0, 0, 0), ("qin", 4, 1, 0, 0, 0), ("wang", 0, 0, 2, 2, 2), ("zhang", 1, 0, 0, 0, 0)]
    );

    // `sla report` on the same period: the same met and missed, in total, per day, per operator, per policy.
    let (sla, problems) =
        ops::sla::report(s, &rules, sc.period.start().with_timezone(&Utc), sc.period.end().with_timezone(&Utc))
            .await
            .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(report.sla, sla);
    for (policy, tally) in [(Policy::Return, o.return_clocks), (Policy::Invoice, o.invoice_clocks)] {
        let of = sla.by_policy.iter().find(|p| p.policy == policy).unwrap().tally;
        assert_eq!((tally.met, tally.missed), (of.met, of.missed), "{policy}");
    }
    for op in &report.operators {
        let of = sla.by_operator.iter().find(|t| t.operator == op.operator).map(|t| t.tally).unwrap_or_default();
        assert_eq!((op.met, op.missed), (of.met, of.missed), "{}", op.operator);
    }
    for day in &sla.by_day {
        let row = report.days.iter().find(|d| d.day == day.day).expect("every day a clock stopped has a row");
        assert_eq!(row.return_clocks.met + row.invoice_clocks.met, day.tally.met);
        assert_eq!(row.return_clocks.missed + row.invoice_clocks.missed, day.tally.missed);
    }

    // The board at the same instant: the open clocks and the late ones among them.
    let board = ops::sla::board(s, &rules, now, BoardWindow::all()).await.unwrap();
    for (policy, tally) in [(Policy::Return, o.return_clocks), (Policy::Invoice, o.invoice_clocks)] {
        let rows: Vec<_> = board.rows.iter().filter(|r| r.policy == policy).collect();
        assert_eq!(tally.open as usize, rows.len(), "{policy}");
        let breached = rows.iter().filter(|r| r.state() == Some(ClockState::Breached)).count();
        assert_eq!(tally.open_late as usize, breached, "{policy}");
    }
    assert_eq!(board.counts.on_hold, 1, "F");

    // The board's chart over the same 28 days: received, shipped and late per day.
    let trend = ops::sla::trend(s, &rules, now, 28).await.unwrap();
    assert_eq!(trend.days.first().map(|d| d.day), Some(sc.period.first));
    for day in &trend.days {
        match report.days.iter().find(|d| d.day == day.day) {
            Some(row) => {
                assert_eq!((row.received, row.shipped, row.late), (day.received, day.shipped, day.late), "{}", day.day)
            }
            None => assert_eq!(
                (day.received, day.shipped, day.late),
                (0, 0, 0),
                "a day without a row is quiet: {}",
                day.day
            ),
        }
    }
    assert_eq!(trend.totals(), (6, 2, 2), "B and C went late on their due days");
    let sum = |f: fn(&keydesk::report::figures::DayRow) -> u32| report.days.iter().map(f).sum::<u32>();
    assert_eq!((sum(|d| d.received), sum(|d| d.renewed), sum(|d| d.shipped)), (6, 2, 2));
    assert!(!report.days.iter().any(|d| d.working == Some(false) && d.received + d.shipped + d.late == 0));
    assert!(!report.to_string().contains(&sc.personal[0]));
});

/// Reads a workbook with openpyxl: sheet names, every cell (dates as ISO text), and each chart's series.
const READ_WORKBOOK: &str = r#"
import json, sys, datetime
from openpyxl import load_workbook
wb = load_workbook(sys.argv[1])
def value(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return v
def ref(r):
    if r is None:
        return None
    for kind in ("numRef", "strRef"):
        inner = getattr(r, kind, None)
        if inner is not None and inner.f:
            return inner.f
    return None
out = {"sheets": wb.sheetnames, "cells": {}, "charts": {}}
for ws in wb.worksheets:
    out["cells"][ws.title] = [[value(c.value) for c in row] for row in ws.iter_rows()]
    out["charts"][ws.title] = [
        [{"name": ref(s.tx), "categories": ref(s.cat), "values": ref(s.val)} for s in chart.series]
        for chart in ws._charts
    ]
print(json.dumps(out, ensure_ascii=False))
"#;

fn read_workbook(path: &Path) -> serde_json::Value {
    let out = Command::new(PYTHON)
        .args(["-c", READ_WORKBOOK])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{PYTHON} cannot run ({e}): install python3-openpyxl (scripts/packages.sh)"));
    assert!(
        out.status.success(),
        "openpyxl could not read {} (is python3-openpyxl installed? scripts/packages.sh): {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The value beside a label in 总览's first column.
fn overview_value<'a>(book: &'a serde_json::Value, label: &str) -> &'a serde_json::Value {
    book["cells"]["总览"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row[0].as_str() == Some(label))
        .map(|row| &row[1])
        .unwrap_or_else(|| panic!("总览 has no {label}"))
}

fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

both_backends!(the_workbook_reads_back_in_openpyxl_with_its_figures_and_chart, async |db: &TestDb| {
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    let sc = scenario(db, &rules).await;
    let report = ops::report::build(db.store.as_ref(), &rules, sc.period, sc.now).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let written = ops::report::write(report.clone(), &dir.path().join("report.xlsx")).unwrap();
    let book = read_workbook(&written.path);

    assert_eq!(book["sheets"], serde_json::json!(["总览", "每日", "操作员", "逾期明细", "未匹配包裹"]));
    assert_eq!(overview_value(&book, "报表期间"), &serde_json::json!(sc.period.label()));
    for (label, want) in [
        ("收件（包裹）", 6.0),
        ("续签", 2.0),
        ("发货", 2.0),
        ("寄回时限 按时", 1.0),
        ("寄回时限 超时", 1.0),
        ("寄回时限 未完成", 3.0),
        ("寄回时限 未完成中已超时", 1.0),
        ("开票时限 按时", 1.0),
        ("开票时限 超时", 1.0),
        ("周转中位数（工作小时）", 21.3),
        ("周转 P90（工作小时）", 34.0),
        ("无主包裹（等待中）", 1.0),
    ] {
        assert_eq!(overview_value(&book, label).as_f64(), Some(want), "{label}");
    }
    let overview = book["cells"]["总览"].as_array().unwrap();
    let pin = overview.iter().find(|r| r[0] == "PIN 已锁定").expect("the holds table");
    assert_eq!((pin[1].as_f64(), pin[2].as_f64(), pin[3].as_f64()), (Some(1.0), Some(0.0), Some(4.0)));

    // 每日: one row per day of the report, real dates, and the counts the report has.
    let daily = book["cells"]["每日"].as_array().unwrap();
    assert_eq!(daily[0][0], "日期");
    assert_eq!(daily.len(), report.days.len() + 1);
    for (row, day) in daily[1..].iter().zip(&report.days) {
        assert_eq!(row[0].as_str(), Some(format!("{}T00:00:00", day.day).as_str()));
        assert_eq!(
            (row[3].as_f64(), row[5].as_f64(), row[6].as_f64()),
            (Some(f64::from(day.received)), Some(f64::from(day.shipped)), Some(f64::from(day.late)))
        );
    }
    let total = |col: usize| daily[1..].iter().map(|r| r[col].as_f64().unwrap()).sum::<f64>();
    assert_eq!((total(3), total(4), total(5), total(6)), (6.0, 2.0, 2.0, 2.0));

    // The chart: on 总览, three series over 每日's received, shipped and late columns, by date.
    let charts = book["charts"]["总览"].as_array().unwrap();
    assert_eq!(charts.len(), 1, "{charts:?}");
    let last = report.days.len() + 1;
    let unquoted = |v: &serde_json::Value| v.as_str().unwrap().replace('\'', "");
    let series: Vec<(String, String, String)> = charts[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (unquoted(&s["name"]), unquoted(&s["categories"]), unquoted(&s["values"])))
        .collect();
    let want: Vec<(String, String, String)> = ["D", "F", "G"]
        .iter()
        .map(|c| (format!("每日!${c}$1"), format!("每日!$A$2:$A${last}"), format!("每日!${c}$2:${c}${last}")))
        .collect();
    assert_eq!(series, want);
    assert_eq!(
        (daily[0][3].as_str(), daily[0][5].as_str(), daily[0][6].as_str()),
        (Some("收件"), Some("发货"), Some("逾期"))
    );

    // 操作员, 逾期明细, 未匹配包裹.
    let operators = book["cells"]["操作员"].as_array().unwrap();
    let wang = operators.iter().find(|r| r[0] == "wang").unwrap();
    assert_eq!(
        (wang[3].as_f64(), wang[4].as_f64(), wang[5].as_f64(), wang[6].as_f64()),
        (Some(2.0), Some(21.3), Some(2.0), Some(2.0))
    );
    let late = book["cells"]["逾期明细"].as_array().unwrap();
    assert_eq!(late[0][0], "订单号");
    let late_orders: Vec<&str> = late[1..].iter().map(|r| r[0].as_str().unwrap()).collect();
    assert_eq!(late_orders, vec![sc.no[&'G'].as_str(), sc.no[&'B'].as_str(), sc.no[&'C'].as_str()]);
    let b = &late[2];
    assert_eq!(
        (b[1].as_str(), b[3].as_str(), b[4].as_str(), b[8].as_f64()),
        (Some("寄回"), Some("王**"), Some("159****6001"), Some(5.5))
    );
    assert_eq!(b[10], "wang");
    assert_eq!(late[3][7], "未完成");
    let unmatched = book["cells"]["未匹配包裹"].as_array().unwrap();
    assert_eq!((unmatched.len(), unmatched[1][0].as_str()), (2, Some(sc.unmatched_waybill.as_str())));

    // Personal data only masked, everywhere.
    let mut all = Vec::new();
    strings(&book["cells"], &mut all);
    for full in &sc.personal {
        assert!(!all.iter().any(|s| s.contains(full.as_str())), "{full} is in the workbook");
    }

    // The same report as CSV: every sheet, the figures as text.
    let csv = ops::report::write(report, &dir.path().join("report.csv")).unwrap();
    let text = String::from_utf8(std::fs::read(&csv.path).unwrap()).unwrap();
    assert!(text.starts_with('\u{feff}'));
    for name in ["总览", "每日", "操作员", "逾期明细", "未匹配包裹"] {
        assert!(
            text.contains(&format!("\r\n{name}\r\n")) || text.starts_with(&format!("\u{feff}{name}\r\n")),
            "{name}"
        );
    }
    assert!(text.contains("周转中位数（工作小时）,21.3\r\n"), "{text}");
    assert!(!sc.personal.iter().any(|full| text.contains(full.as_str())));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libreoffice_converts_the_workbook_to_pdf() {
    let db = TestDb::sqlite().await;
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    let sc = scenario(&db, &rules).await;
    let report = ops::report::build(db.store.as_ref(), &rules, sc.period, sc.now).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let written = ops::report::write(report, &dir.path().join("report.xlsx")).unwrap();
    let profile = format!("-env:UserInstallation=file://{}", dir.path().join("lo-profile").display());
    let out = Command::new("soffice")
        .args([profile.as_str(), "--headless", "--norestore", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&written.path)
        .output()
        .unwrap_or_else(|e| panic!("soffice cannot run ({e}): install libreoffice-calc-nogui (scripts/packages.sh)"));
    let pdf = dir.path().join("report.pdf");
    assert!(
        out.status.success() && pdf.exists(),
        "LibreOffice did not convert the workbook: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let info = Command::new("pdfinfo").arg(&pdf).output().expect("pdfinfo (poppler-utils)");
    let info = String::from_utf8_lossy(&info.stdout);
    let pages: u32 = info.lines().find_map(|l| l.strip_prefix("Pages:")).unwrap().trim().parse().unwrap();
    assert!(pages >= 5, "a page for each sheet at least: {info}");
    let text = Command::new("pdftotext").arg(&pdf).arg("-").output().expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(sc.no[&'B'].as_str()), "the late order is on a page: {text}");
    db.cleanup().await;
}

fn keydesk(db_url: &str, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keydesk"));
    cmd.args(args).env_remove("KEYDESK_CONFIG").env_remove("KEYDESK_NOW").env("KEYDESK_DATABASE__URL", db_url);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keydesk_report_writes_the_workbook_and_refuses_other_files() {
    let db = TestDb::sqlite().await;
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    let sc = scenario(&db, &rules).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("week.xlsx");
    let (from, to) = (sc.period.first.to_string(), sc.period.last.to_string());
    let (code, stdout, stderr) =
        keydesk(&db.url, &["report", "--from", &from, "--to", &to, "--out", out.to_str().unwrap(), "--json"], &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["path"], out.to_str().unwrap());
    assert_eq!(v["report"]["overview"]["received"], 6);
    assert_eq!(v["report"]["overview"]["return_clocks"]["missed"], 1);
    assert!(std::fs::read(&out).unwrap().starts_with(b"PK"), "a zip container");
    assert_eq!(read_workbook(&out)["sheets"][3], "逾期明细");

    let (code, stdout, _) = keydesk(&db.url, &["report", "--from", &from, "--to", &to], &[]);
    assert_eq!(code, 0);
    assert!(stdout.contains("寄回时限：按时 1，超时 1，未完成 3（其中已超时 1）"), "{stdout}");
    let (code, _, stderr) = keydesk(&db.url, &["report", "--from", &from, "--to", &to, "--out", "r.txt"], &[]);
    assert_eq!(code, keydesk::cli::exit::USAGE as i32, "{stderr}");
    assert!(stderr.contains(".xlsx 或 .csv"), "{stderr}");
    let (code, _, stderr) = keydesk(&db.url, &["report", "--from", &to, "--to", &from], &[]);
    assert_eq!(code, keydesk::cli::exit::USAGE as i32, "{stderr}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_writes_last_weeks_report_once_on_its_schedule() {
    let db = TestDb::sqlite().await;
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    let sc = scenario(&db, &rules).await;
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("exports");
    // Due since 00:00 today, whatever day today is: last week's report.
    let weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [chrono::Datelike::weekday(&sc.now).num_days_from_monday() as usize];
    let schedule = format!("{weekday} 00:00");
    let env = [("KEYDESK_REPORT__WEEKLY", schedule.as_str()), ("KEYDESK_REPORT__EXPORT_DIR", export.to_str().unwrap())];
    let week = Period::last_full_week(sc.now.date_naive());
    let path = ops::report::export_path(&export, week);

    let (code, stdout, stderr) = keydesk(&db.url, &["worker", "--once", "--json"], &env);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let pass: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(pass["weekly_report"]["result"], "written", "{pass}");
    assert_eq!(pass["weekly_report"]["path"], path.to_str().unwrap());
    assert_eq!(pass["weekly_report"]["first"], week.first.to_string());
    assert_eq!(read_workbook(&path)["cells"]["总览"][1][1], week.label());
    let written_at = std::fs::metadata(&path).unwrap().modified().unwrap();

    // The file is there: the next pass leaves it alone.
    let (code, stdout, _) = keydesk(&db.url, &["worker", "--once", "--json"], &env);
    assert_eq!(code, 0);
    let pass: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(pass.get("weekly_report").is_none(), "{pass}");
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), written_at);
    // Without a schedule, nothing is written; a bad schedule is refused naming the key.
    let (code, _, stderr) = keydesk(&db.url, &["worker", "--once"], &[("KEYDESK_REPORT__WEEKLY", "someday 8:30")]);
    assert_eq!(code, keydesk::cli::exit::FAILURE as i32);
    assert!(stderr.contains("report.weekly"), "{stderr}");
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_boards_key_writes_last_weeks_workbook_and_says_where() {
    use keydesk::desk::app::{App, Effect, Msg, Screen};
    use keydesk::desk::effects::Runner;
    use keydesk::desk::keymap::Keymap;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    let db = TestDb::sqlite().await;
    let rules = ClockRules::load(&SlaSettings::default()).unwrap();
    let sc = scenario(&db, &rules).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = keydesk::cli::config::Config::default();
    config.report.export_dir = Some(dir.path().join("exports"));

    let mut app = App::new(Keymap::default(), "desk-1");
    app.update(Msg::SignedIn(Ok("qin".into())));
    let ctrl_e = KeyEvent::new(KeyCode::Char('e'), KeyModifiers::CONTROL);
    assert!(app.update(Msg::Key(ctrl_e, std::time::Instant::now())).is_empty(), "only on the board");
    assert!(app.message.as_ref().is_some_and(|(_, m)| m.contains("看板")));
    app.update(Msg::Key(KeyEvent::new(KeyCode::F(4), KeyModifiers::NONE), std::time::Instant::now()));
    assert_eq!(app.screen, Screen::Board);
    let effects = app.update(Msg::Key(ctrl_e, std::time::Instant::now()));
    assert_eq!(effects, vec![Effect::ExportReport]);

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(crate::support::services(db.store.clone(), &config, Clock::system()), tx, "desk-1");
    runner.run(Effect::ExportReport, Some("qin"));
    let msg = tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv()).await.unwrap().unwrap();
    let path = ops::report::export_path(&dir.path().join("exports"), Period::last_full_week(sc.now.date_naive()));
    assert!(matches!(&msg, Msg::ReportExported(Ok(text)) if text.contains(path.to_str().unwrap())), "{msg:?}");
    app.update(msg);
    assert!(app.message.as_ref().is_some_and(|(_, m)| m.contains(path.to_str().unwrap())), "{:?}", app.message);
    assert_eq!(read_workbook(&path)["sheets"][0], "总览");
    db.cleanup().await;
}

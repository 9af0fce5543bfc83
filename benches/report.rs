//! The manager's report for a year: 100,000 synthetic orders received over 2026 (`keydesk::synthetic`,
//! each order's dates moved to its place in the year), with the audit trail the desk would have written
//! (receipt, renewal, shipment, invoice, and a hold and its release on some), in SQLite. Measures the
//! report of 2026-01-01 to 2026-12-31 — reading the facts, computing the figures, writing the workbook —
//! and the peak resident memory while it runs (VmHWM, reset after the data is loaded). Prints the
//! median of the runs; the target is a few seconds and bounded memory.
//!
//! `cargo bench --bench report` (`-- 100000 3` sets orders and runs; `KEYDESK_BENCH_KEEP=DIR` writes
//! the workbook there to look at).

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use keydesk::report::{FileForm, Period};
use keydesk::sla::{ClockRules, SlaSettings, SHANGHAI};
use keydesk::store;
use sqlx::{QueryBuilder, Sqlite};

const OPERATORS: [&str; 5] = ["qin", "wang", "li", "zhang", "zhao"];
const HOLD_REASONS: [&str; 4] = ["wrong_key", "pin_locked", "documents_missing", "address_change"];

/// An audit row to insert: order id, instant, operator, action, from, to, reason code of a hold.
type Row = (i64, DateTime<Utc>, &'static str, &'static str, &'static str, &'static str, Option<&'static str>);

/// A `kB` line of `/proc/self/status` (`VmHWM`, `VmRSS`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn peak_rss_kib() -> u64 {
    status_kib("VmHWM")
}

/// Resets VmHWM to the current resident size (Linux, `clear_refs` 5).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let count: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = store::open(&url, 8, Duration::from_secs(5), true).await.expect("sqlite");
        let started = Instant::now();
        let year_start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("date");
        // Orders are made as of an instant that walks through the year, so receipts spread over 2026.
        let step = TimeDelta::seconds(330 * 86_400 / count.max(1) as i64);
        let mut batch = Vec::with_capacity(5_000);
        for index in 0..count {
            let as_of = year_start + TimeDelta::days(25) + step * index as i32;
            batch.push(keydesk::synthetic::order(1, index, as_of));
            if batch.len() == 5_000 {
                store.bulk_insert_orders(&batch).await.expect("insert orders");
                batch.clear();
            }
        }
        store.bulk_insert_orders(&batch).await.expect("insert orders");
        drop(batch);
        let audit_rows = write_audit_trail(&url).await;
        println!("loaded {count} orders and {audit_rows} audit rows in {:.1} s", started.elapsed().as_secs_f64());

        let rules = ClockRules::load(&SlaSettings::default()).expect("rules");
        let period = Period::new(
            NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
        )
        .expect("period");
        let now = Utc.with_ymd_and_hms(2027, 1, 4, 1, 0, 0).single().expect("date").with_timezone(&SHANGHAI);
        let mut timings = Vec::new();
        let mut peaks = Vec::new();
        let resettable = reset_peak();
        let before = status_kib("VmRSS");
        for run in 0..runs {
            reset_peak();
            let t0 = Instant::now();
            let report = keydesk::ops::report::build(store.as_ref(), &rules, period, now).await.expect("report");
            let figures = t0.elapsed();
            let figures_peak = peak_rss_kib();
            let bytes = FileForm::Xlsx.render(&report).expect("workbook");
            let total = t0.elapsed();
            peaks.push((peak_rss_kib(), figures_peak));
            timings.push((total, figures));
            if run == 0 {
                let o = &report.overview;
                println!(
                    "report 2026: received {}, shipped {}, return met/missed/open {}/{}/{}, invoice met/missed {}/{}, \
                     late rows {}, days {}, operators {}, holds {:?}, problems {}, workbook {} KiB",
                    o.received,
                    o.shipped,
                    o.return_clocks.met,
                    o.return_clocks.missed,
                    o.return_clocks.open,
                    o.invoice_clocks.met,
                    o.invoice_clocks.missed,
                    report.late.len(),
                    report.days.len(),
                    report.operators.len(),
                    o.holds.iter().map(|h| (h.reason.as_str(), h.holds)).collect::<Vec<_>>(),
                    report.problems.len(),
                    bytes.len() / 1024
                );
                if let Ok(keep) = std::env::var("KEYDESK_BENCH_KEEP") {
                    let path = std::path::Path::new(&keep).join("report-2026.xlsx");
                    std::fs::write(&path, &bytes).expect("keep workbook");
                    println!("workbook kept at {}", path.display());
                }
            }
            std::hint::black_box(&bytes);
        }
        timings.sort();
        let (total, figures) = timings[timings.len() / 2];
        peaks.sort_unstable();
        let (peak, figures_peak) = peaks[peaks.len() - 1];
        println!(
            "year report, {count} orders, median of {runs}: {:.2} s ({:.2} s facts and figures, {:.2} s workbook); \
             peak RSS {} MiB during the report, {} MiB before the workbook{} (resident before: {} MiB)",
            total.as_secs_f64(),
            figures.as_secs_f64(),
            (total - figures).as_secs_f64(),
            peak / 1024,
            figures_peak / 1024,
            if resettable { "" } else { " (VmHWM could not be reset: includes loading)" },
            before / 1024
        );
    });
}

/// The audit rows the desk would have written for every order, inserted in one transaction.
async fn write_audit_trail(url: &str) -> usize {
    let pool = sqlx::SqlitePool::connect(url).await.expect("pool");
    type OrderRow = (i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>, String);
    let orders: Vec<OrderRow> = sqlx::query_as("SELECT id, received_at, shipped_at, status FROM orders ORDER BY id")
        .fetch_all(&pool)
        .await
        .expect("orders");
    let mut rows: Vec<Row> = Vec::new();
    for (id, received, shipped, status) in &orders {
        let Some(received) = *received else { continue };
        let who = OPERATORS[(*id as usize) % OPERATORS.len()];
        rows.push((*id, received, who, "intake", "paid", "received", None));
        let mut at = received + TimeDelta::minutes(30);
        if id % 12 == 0 {
            let reason = HOLD_REASONS[(*id as usize / 12) % HOLD_REASONS.len()];
            rows.push((*id, at, who, "hold", "received", "on_hold", Some(reason)));
            at += TimeDelta::minutes(90 + (id % 7) * 60);
            rows.push((*id, at, who, "release", "on_hold", "received", None));
        }
        if matches!(status.as_str(), "renewing" | "renewed" | "shipped" | "completed") {
            rows.push((*id, at, who, "renew", "received", "renewing", None));
        }
        if matches!(status.as_str(), "renewed" | "shipped" | "completed") {
            let renewed = shipped.map_or(at + TimeDelta::minutes(10), |s| (at + TimeDelta::minutes(10)).min(s));
            rows.push((*id, renewed, who, "renew", "renewing", "renewed", None));
        }
        if let Some(shipped) = *shipped {
            let shipper = OPERATORS[(*id as usize + 1) % OPERATORS.len()];
            rows.push((*id, shipped, shipper, "ship", "renewed", "shipped", None));
            rows.push((*id, shipped + TimeDelta::hours(2), shipper, "invoice_issued", "", "", None));
        }
    }
    let mut tx = pool.begin().await.expect("begin");
    for chunk in rows.chunks(2_000) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO audit_log (order_id, at, operator, desk, action, from_status, to_status, reason, hold_reason) ",
        );
        q.push_values(chunk, |mut b, (id, at, who, action, from, to, reason)| {
            let status = |s: &'static str| (!s.is_empty()).then_some(s);
            b.push_bind(*id)
                .push_bind(*at)
                .push_bind(*who)
                .push_bind("bench")
                .push_bind(*action)
                .push_bind(status(from))
                .push_bind(status(to))
                .push_bind("")
                .push_bind(*reason);
        });
        q.build().execute(&mut *tx).await.expect("insert audit");
    }
    tx.commit().await.expect("commit");
    // The desk records the receiving operator on the order too.
    sqlx::query(
        "UPDATE orders SET received_by = (SELECT operator FROM audit_log a WHERE a.order_id = orders.id \
         AND a.action = 'intake') WHERE received_at IS NOT NULL",
    )
    .execute(&pool)
    .await
    .expect("received_by");
    rows.len()
}

//! Benchmark of the SLA board: 100,000 open orders (return and invoice clocks spread over 2025–2026, some on
//! hold, some stopped, a few with several pauses) evaluated at one instant with a 200-row window. Prints the
//! median of the runs; the target is ≤ 50 ms. Run with `cargo bench --bench sla_board`
//! (`-- 100000 31` sets orders and runs).

use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeDelta};
use keydesk::sla::board::{build_board, BoardOrder, BoardWindow};
use keydesk::sla::{ClockEvents, ClockRules, PauseInterval, Policy, SlaSettings};

fn shanghai(text: &str) -> DateTime<FixedOffset> {
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => t,
        Err(err) => panic!("bad bench time {text}: {err}"),
    }
}

/// Deterministic pseudo-random orders (xorshift), so every run measures the same work.
fn orders(count: usize, now: DateTime<FixedOffset>) -> Vec<BoardOrder> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|index| {
            let policy = if next() % 3 == 0 { Policy::Invoice } else { Policy::Return };
            // Started up to 30 days before now, any second.
            let start = now - TimeDelta::seconds((next() % (30 * 86_400)) as i64);
            let mut pauses = Vec::new();
            let roll = next() % 10;
            if roll < 2 {
                let from = start + TimeDelta::seconds((next() % (3 * 86_400)) as i64);
                let to = (roll == 0).then(|| from + TimeDelta::seconds((next() % 86_400) as i64 + 60));
                pauses.push(PauseInterval { from, to });
            } else if roll == 2 {
                for hop in 0..3 {
                    let from = start + TimeDelta::seconds(hop * 20_000 + (next() % 10_000) as i64);
                    pauses.push(PauseInterval { from, to: Some(from + TimeDelta::seconds(3_600)) });
                }
            }
            let stop = (next() % 10 == 0).then(|| start + TimeDelta::seconds((next() % (5 * 86_400)) as i64));
            let mut starts = vec![start];
            if policy == Policy::Return {
                starts.push(start - TimeDelta::seconds((next() % 86_400) as i64));
            }
            BoardOrder {
                order_no: format!("0000{:06}{:06}", 250_101 + index % 300, index),
                status_code: "待发货".to_owned(),
                clock: ClockEvents { policy, starts, pauses, stop },
                stopped_by: stop.map(|_| "operator".to_owned()),
                moved: None,
            }
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|arg| !arg.starts_with('-'));
    let count: usize = args.next().and_then(|arg| arg.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.next().and_then(|arg| arg.parse().ok()).unwrap_or(31);

    let rules = match ClockRules::load(&SlaSettings::default()) {
        Ok(rules) => rules,
        Err(err) => panic!("rules: {err}"),
    };
    let now = shanghai("2026-06-15T11:00:00+08:00");
    let orders = orders(count, now);

    let mut timings: Vec<Duration> = Vec::with_capacity(runs);
    let mut checksum = 0usize;
    for _ in 0..runs {
        let started = Instant::now();
        let board = build_board(&rules, &orders, now, BoardWindow::first(200));
        timings.push(started.elapsed());
        checksum = checksum.wrapping_add(board.rows.len() + board.counts.breached);
        std::hint::black_box(&board);
    }
    timings.sort();
    let median = timings[timings.len() / 2];
    let board = build_board(&rules, &orders, now, BoardWindow::first(200));
    println!(
        "sla_board: {count} orders, {runs} runs, window 200: median {:.2} ms (min {:.2} ms, max {:.2} ms); target ≤ 50 ms",
        median.as_secs_f64() * 1e3,
        timings[0].as_secs_f64() * 1e3,
        timings[timings.len() - 1].as_secs_f64() * 1e3,
    );
    println!("counts: {:?} (checksum {checksum})", board.counts);
}

//! One frame of the desk's board with 10,000 open orders (every third with time on hold, so the 已挂起
//! column has content) and its two-week chart, drawn on ratatui's TestBackend at 120×40 (every column)
//! and at 80×24 (the columns that give way, gone): the median of many frames (target ≤ 2 ms), columns
//! fitted to the rows on screen each frame. `cargo bench --bench desk_frame`.

use std::time::Instant;

use keydesk::desk::app::{App, Msg};
use keydesk::desk::keymap::Keymap;
use keydesk::desk::ui;
use keydesk::sla::board::{build_board, BoardOrder, BoardWindow};
use keydesk::sla::trend::{Trend, TrendFacts};
use keydesk::sla::{ClockEvents, ClockRules, PauseInterval, Policy, SlaSettings};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

fn main() {
    let rules = ClockRules::load(&SlaSettings::default()).expect("calendars");
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+08:00").expect("time");
    let orders: Vec<BoardOrder> = (0..10_000)
        .map(|i| BoardOrder {
            order_no: format!("0000261126{i:06}"),
            status_code: "received".into(),
            clock: ClockEvents {
                policy: Policy::Return,
                starts: vec![start + chrono::Duration::minutes(i % 900)],
                pauses: if i % 3 == 0 {
                    let from = start + chrono::Duration::minutes(i % 900 + 30);
                    vec![PauseInterval { from, to: Some(from + chrono::Duration::minutes(90)) }]
                } else {
                    vec![]
                },
                stop: None,
            },
            stopped_by: None,
            moved: None,
        })
        .collect();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00+08:00").expect("time");
    let board = build_board(&rules, &orders, now, BoardWindow::all());
    let mut app = App::new(Keymap::default(), "desk-1");
    app.update(Msg::SignedIn(Ok("qin".into())));
    app.update(Msg::Key(KeyEvent::new(KeyCode::F(4), KeyModifiers::NONE), Instant::now()));
    app.update(Msg::BoardLoaded(Ok(board)));
    // The two-week chart over the same orders (received over the last days, a third shipped).
    let facts: Vec<TrendFacts> = (0..10_000i64)
        .map(|i| {
            let received = now - chrono::Duration::minutes(i * 2);
            TrendFacts {
                received_at: Some(received),
                shipped_at: (i % 3 == 0).then(|| received + chrono::Duration::hours(20)).filter(|s| *s < now),
                due_at: Some(received + chrono::Duration::hours(48)),
            }
        })
        .collect();
    app.update(Msg::TrendLoaded(Ok(Trend::build(&facts, now, 14))));
    for (width, height) in [(120, 40), (80, 24)] {
        frames(&mut app, width, height);
    }
}

/// Draws 400 frames at `width`×`height`, moving through the list, and prints the median and p99.
fn frames(app: &mut App, width: u16, height: u16) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    let mut times = Vec::new();
    for i in 0..400 {
        // Move through the list so each frame draws a different window.
        app.update(Msg::Key(
            KeyEvent::new(if i % 50 < 25 { KeyCode::PageDown } else { KeyCode::PageUp }, KeyModifiers::NONE),
            Instant::now(),
        ));
        let t = Instant::now();
        terminal.draw(|f| ui::render(app, f)).expect("draw");
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "desk board frame, 10000 open orders, {width}x{height}: median {:.3} ms, p99 {:.3} ms",
        times[times.len() / 2],
        times[times.len() * 99 / 100]
    );
}

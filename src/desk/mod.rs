//! The desk: a ratatui terminal for 秦经理's desk — sign in, scan parcels, find and open orders, hold
//! and release them, watch the board. The Elm shape: `app.rs` holds the state and a pure `update`
//! that routes keys and results to the screen on show (`screens/`: each screen's state, keys and
//! drawing), `ui.rs` draws the frame around them, `effects.rs` runs the background work. The
//! terminal is restored on exit and on panic; logs go to a file.

pub mod app;
pub mod effects;
pub mod keymap;
pub mod prompt;
pub mod reader_panel;
pub mod scan_detector;
pub mod screens;
pub mod settings;
pub mod ui;
pub mod widgets;

pub use settings::DeskSettings;

use std::sync::Arc;
use std::time::Instant;

use ratatui::crossterm::event::{self, Event};
use tokio::sync::mpsc;

use crate::services::Services;

use app::{App, Effect, Msg};
use effects::Runner;
use keymap::Keymap;

/// How often running timers move on screen.
const TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// Runs the desk until the operator quits.
pub async fn run(services: Arc<Services>, settings: &DeskSettings) -> anyhow::Result<()> {
    let keymap = Keymap::new(&settings.keys).map_err(anyhow::Error::msg)?;
    let mut app = App::new(keymap, &settings.name);
    app.print_on_ship = settings.print_on_ship;
    app.keygen_typical = std::time::Duration::from_secs(services.token.settings.keygen_typical_secs);
    // https://no-color.org: any non-empty NO_COLOR turns colour off.
    app.monochrome = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    // Next year's holiday notice due (from 1 November) or this year's calendar missing: said at sign-in.
    app.calendar_notice = match services.clock_rules() {
        Ok(rules) => rules.calendar().year_notice(services.clock.now_local().date_naive()),
        Err(e) => Some(e),
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let token = services.token.settings.clone();
    let runner = Runner::new(services, tx.clone(), &settings.name);
    runner.watch();
    runner.print_worker();
    {
        // The clock for running timers (the key generation gauge).
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                every.tick().await;
                if tx.send(Msg::Tick(Instant::now())).is_err() {
                    return;
                }
            }
        });
    }

    // The reader panel: PC/SC presence only (never a reset of the member's card), on its own thread.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let (stop, tx) = (stop.clone(), tx.clone());
        std::thread::spawn(move || {
            crate::token::reader::watch(&token, std::time::Duration::from_secs(1), &stop, &mut |event| {
                let _ = tx.send(Msg::Reader(event));
            })
        });
    }

    // Terminal events are read on their own thread, so a slow frame never loses a scanned key.
    let keys = tx.clone();
    std::thread::spawn(move || loop {
        match event::read() {
            Ok(Event::Key(k)) => {
                if keys.send(Msg::Key(k, Instant::now())).is_err() {
                    return;
                }
            }
            Ok(Event::Paste(text)) => {
                if keys.send(Msg::Paste(text)).is_err() {
                    return;
                }
            }
            Ok(_) => {
                // A resize: an empty paste makes the loop redraw.
                if keys.send(Msg::Paste(String::new())).is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    });

    let mut terminal = ratatui::init();
    let result = async {
        terminal.draw(|f| ui::render(&app, f))?;
        while let Some(msg) = rx.recv().await {
            let mut effects = app.update(msg);
            // Drain what else is queued (a scanner burst), then draw once.
            while let Ok(more) = rx.try_recv() {
                effects.extend(app.update(more));
            }
            for effect in effects {
                if effect != Effect::Quit {
                    runner.run(effect, app.operator.as_deref());
                }
            }
            if app.quit {
                break;
            }
            terminal.draw(|f| ui::render(&app, f))?;
        }
        Ok::<(), anyhow::Error>(())
    }
    .await;
    ratatui::restore();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    result
}

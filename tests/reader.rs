//! `keydesk reader watch` against a real pcscd with the vpcd virtual reader and a virtual card written
//! here. There is one pcscd per machine, so these tests run one at a time (a lock in this binary, and the
//! `pcscd` test group in .config/nextest.toml); each starts pcscd itself and stops it afterwards.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::token::{KeyLab, ORDER};

pub(crate) static ONE_PCSCD: Mutex<()> = Mutex::new(());

use keydesk::token::virtual_card::{DEMO_ATR as ATR, VPCD_PORT};

/// pcscd in the foreground, started and stopped by the test.
struct Pcscd {
    child: Child,
}

fn vpcd_listening() -> bool {
    // `ss`, never a bare connect: vpcd takes any connection for an inserted card.
    Command::new("ss")
        .args(["-ltn", &format!("sport = :{VPCD_PORT}")])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(&VPCD_PORT.to_string()))
        .unwrap_or(false)
}

impl Pcscd {
    fn start() -> Pcscd {
        assert!(!vpcd_listening(), "another pcscd is running; stop it (one pcscd per machine) before the reader tests");
        let child = Command::new("pcscd")
            .args(["--foreground", "--info"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pcscd (packages pcscd and vsmartcard-vpcd)");
        let started = Instant::now();
        while !(std::path::Path::new("/run/pcscd/pcscd.comm").exists() && vpcd_listening()) {
            assert!(started.elapsed() < Duration::from_secs(10), "pcscd did not come up with the vpcd reader");
            std::thread::sleep(Duration::from_millis(50));
        }
        Pcscd { child }
    }

    fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
        let started = Instant::now();
        while vpcd_listening() && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

/// Inserts the library's virtual card (also `keydesk dev virtual-card`) into vpcd's first reader.
fn insert_card(atr_hex: &str) -> keydesk::token::virtual_card::VirtualCard {
    keydesk::token::virtual_card::VirtualCard::insert(VPCD_PORT, &hex::decode(atr_hex).unwrap()).expect("vpcd port")
}

/// `keydesk reader watch --json`, its lines on a channel.
struct Watch {
    child: Child,
    lines: Receiver<serde_json::Value>,
}

impl Watch {
    fn start(lab: &KeyLab) -> Watch {
        let config = lab.dir.path().join("vendors.toml");
        std::fs::write(
            &config,
            format!("[token]\nmodule = \"/nonexistent.so\"\n[[token.vendors]]\nname = \"演示厂商\"\nmodule = \"/usr/lib/softhsm/libsofthsm2.so\"\natr_prefix = \"{}\"\n", &ATR[..8]),
        )
        .unwrap();
        let mut child = lab
            .command(&["--config", config.to_str().unwrap(), "reader", "watch", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if tx.send(v).is_err() {
                        return;
                    }
                }
            }
        });
        Watch { child, lines }
    }

    /// The next event of this kind (others are skipped), within `timeout`.
    fn expect(&self, event: &str, timeout: Duration) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) if v["event"] == event => return v,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => panic!("no {event} event within {timeout:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("reader watch ended before {event}"),
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn inserted_key_is_reported_with_its_vendor_and_matched_to_its_order() {
    let _one = ONE_PCSCD.lock().unwrap_or_else(|e| e.into_inner());
    let lab = KeyLab::new();
    let pcscd = Pcscd::start();
    let watch = Watch::start(&lab);
    let added = watch.expect("reader_added", Duration::from_secs(10));
    assert!(added["reader"].as_str().unwrap().starts_with("Virtual PCD"));

    let card = insert_card(ATR);
    let inserted = watch.expect("card_inserted", Duration::from_secs(5));
    assert_eq!(inserted["atr"], ATR);
    assert_eq!(inserted["vendor"], "演示厂商", "the ATR chose the vendor's module");
    let identified = watch.expect("identified", Duration::from_secs(5));
    let key = &identified["keys"][0];
    assert_eq!(key["order_no"], ORDER, "{identified}");
    assert_eq!(key["certificate_matches"], true);
    let ms = identified["elapsed_ms"].as_f64().unwrap();
    // The 300 ms target is measured, not asserted (shared, noisy machines; the suite runs four times):
    // the figure is printed, and only a hang fails the test.
    println!("card inserted → key matched to its order: {ms:.1} ms (target ≤ 300 ms)");
    assert!(ms <= 5_000.0, "identification hung: {ms} ms after pcscd reported the card");

    card.remove();
    let removed = watch.expect("card_removed", Duration::from_secs(5));
    assert_eq!(removed["reader"], inserted["reader"]);
    drop(watch);
    pcscd.stop();
}

#[test]
fn the_watch_survives_pcscd_absent_and_restarting() {
    let _one = ONE_PCSCD.lock().unwrap_or_else(|e| e.into_inner());
    let lab = KeyLab::new();
    let watch = Watch::start(&lab);
    watch.expect("service_unavailable", Duration::from_secs(5));

    let mut pcscd = Pcscd::start();
    watch.expect("service_available", Duration::from_secs(10));
    watch.expect("reader_added", Duration::from_secs(5));

    pcscd.kill();
    watch.expect("service_unavailable", Duration::from_secs(10));
    let pcscd = Pcscd::start();
    watch.expect("service_available", Duration::from_secs(10));
    let card = insert_card(ATR);
    let inserted = watch.expect("card_inserted", Duration::from_secs(10));
    assert_eq!(inserted["atr"], ATR);
    card.remove();
    watch.expect("card_removed", Duration::from_secs(5));
    drop(watch);
    pcscd.stop();
}

//! Renewal on SoftHSM2 with RSA-2048, through the real `keydesk renew` command: per step, the median
//! of the whole step, of the token's part (module and key: key generation, signing, object writes) and
//! of keydesk's own part (everything else: database commits, CA, worker hand-offs). The target is
//! keydesk's own time per renewal ≤ 50 ms (median).
//!
//! `cargo bench --bench renewal` (KEYDESK_BENCH_RUNS=N, default 15). Needs softhsm2 installed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_keydesk");
const ORDER: &str = "0000261121000001";

fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("KEYDESK_CONFIG")
        .env("KEYDESK_OPERATOR", "bench")
        .env("KEYDESK_DATABASE__URL", format!("sqlite://{}", dir.join("k.db").display()))
        .env("KEYDESK_LOG__DIR", dir.join("logs"))
        .env("KEYDESK_CA__CERT", dir.join("ca/ca.crt"))
        .env("KEYDESK_CA__KEY", dir.join("ca/ca.key"))
        .env("SOFTHSM2_CONF", dir.join("hsm/softhsm2.conf"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keydesk");
    child.stdin.take().map(|mut s| s.write_all(stdin.as_bytes()));
    let out = child.wait_with_output().expect("keydesk");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        0.0
    } else if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    }
}

fn main() {
    let runs: usize = std::env::var("KEYDESK_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(15);
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo-orders.json");
    // (position, step) → (total, token, keydesk) samples in ms.
    type Samples = (Vec<f64>, Vec<f64>, Vec<f64>);
    let mut steps: BTreeMap<(usize, String), Samples> = BTreeMap::new();
    let (mut own_total, mut token_total, mut wall) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        run(d, &["operator", "add", "bench", "--password-stdin"], "bench\n");
        // The demo order moved to today and its key made as a vendor makes one (its own serial).
        let (orders, keyed) = (d.join("orders.json"), d.join("orders-keyed.json"));
        run(d, &["dev", "demo-orders", "--orders", fixtures, "--out", orders.to_str().unwrap()], "");
        run(
            d,
            &[
                "dev",
                "provision-demo",
                "--softhsm-dir",
                d.join("hsm").to_str().unwrap(),
                "--ca-dir",
                d.join("ca").to_str().unwrap(),
                "--orders",
                orders.to_str().unwrap(),
                "--out",
                keyed.to_str().unwrap(),
                "--limit",
                "1",
            ],
            "",
        );
        run(d, &["import", "orders", keyed.to_str().unwrap()], "");
        run(d, &["intake", "SF1402000000000"], "");
        let started = std::time::Instant::now();
        let out = run(d, &["renew", ORDER, "--pin-stdin", "--json"], "123456\n");
        wall.push(started.elapsed().as_secs_f64() * 1e3);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let (mut own, mut token) = (0.0, 0.0);
        for (i, s) in v["steps"].as_array().unwrap().iter().enumerate() {
            let e = steps.entry((i, s["step"].as_str().unwrap().to_string())).or_default();
            e.0.push(s["total_ms"].as_f64().unwrap());
            e.1.push(s["token_ms"].as_f64().unwrap());
            e.2.push(s["own_ms"].as_f64().unwrap());
            own += s["own_ms"].as_f64().unwrap();
            token += s["token_ms"].as_f64().unwrap();
        }
        own_total.push(own);
        token_total.push(token);
    }
    println!("renewal on SoftHSM2, RSA-2048, {runs} runs (medians, ms)");
    println!("{:<18} {:>9} {:>9} {:>9}", "step", "total", "token", "keydesk");
    for ((_, name), (mut t, mut k, mut o)) in steps {
        println!("{:<18} {:>9.1} {:>9.1} {:>9.1}", name, median(&mut t), median(&mut k), median(&mut o));
    }
    let own = median(&mut own_total);
    println!("{:<18} {:>9} {:>9.1} {:>9.1}", "per renewal", "", median(&mut token_total), own);
    println!("whole command (process start to exit): {:.1} ms", median(&mut wall));
    println!("target: keydesk's own time ≤ 50 ms per renewal: {}", if own <= 50.0 { "met" } else { "NOT met" });
}

//! Scan-to-match lookup at the store: the median time of `orders_by_inbound_waybill` with 1,000
//! orders and with 1,000,000 orders, on SQLite and on PostgreSQL, and the load time of the million.
//!
//! `cargo bench --bench lookup` (PostgreSQL from DATABASE_URL, default 127.0.0.1:5432; skipped with a
//! note when none answers). `KEYDESK_BENCH_ORDERS` lowers the big size for a quick run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use keydesk::domain::Waybill;
use keydesk::store::{self, Store};
use rand::{Rng, SeedableRng};
use sqlx::Connection;

const SMALL: u64 = 1_000;
const SAMPLES: usize = 3_000;
const SEED: u64 = 1;

fn main() {
    let big: u64 = std::env::var("KEYDESK_BENCH_ORDERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let sqlite = store::open(&url, 8, Duration::from_secs(5), true).await.expect("sqlite");
        run("sqlite", sqlite, big).await;

        let admin =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        match sqlx::PgConnection::connect(&admin).await {
            Ok(mut conn) => {
                let name = format!("bench_{}", std::process::id());
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create db");
                let url = match admin.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{name}"),
                    None => admin.clone(),
                };
                let pg = store::open(&url, 8, Duration::from_secs(5), true).await.expect("postgres");
                run("postgres", pg.clone(), big).await;
                drop(pg);
                let _ = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn).await;
            }
            Err(e) => println!("postgres: skipped, no server at {admin} ({e})"),
        }
    });
}

async fn run(backend: &str, store: Arc<dyn Store>, big: u64) {
    let s = store.as_ref();
    keydesk::ops::generate::generate(s, SEED, 0..SMALL, chrono::Utc::now(), |_, _| {}).await.expect("load small");
    let small = measure(s, SMALL).await;
    let started = Instant::now();
    keydesk::ops::generate::generate(s, SEED, SMALL..big, chrono::Utc::now(), |_, _| {}).await.expect("load big");
    let load = started.elapsed();
    let large = measure(s, big).await;
    println!(
        "{backend}: load {} orders {:.1} s | lookup median {:.1} µs (p99 {:.1} µs) in {SMALL} orders | median {:.1} µs (p99 {:.1} µs) in {big} orders | ratio {:.2}",
        big - SMALL,
        load.as_secs_f64(),
        small.0,
        small.1,
        large.0,
        large.1,
        large.0 / small.0
    );
}

/// Median and p99 in microseconds of looking up random existing waybills among `count` orders.
async fn measure(s: &dyn Store, count: u64) -> (f64, f64) {
    let now = chrono::Utc::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(count);
    let waybills: Vec<Waybill> = (0..SAMPLES)
        .map(|_| {
            let o = keydesk::synthetic::order(SEED, rng.random_range(0..count), now);
            Waybill::parse(o.inbound.waybill.as_deref().unwrap_or_default()).expect("synthetic waybill")
        })
        .collect();
    for w in waybills.iter().take(200) {
        s.orders_by_inbound_waybill(w).await.expect("warm-up");
    }
    let mut times = Vec::with_capacity(SAMPLES);
    for w in &waybills {
        let t = Instant::now();
        let found = s.orders_by_inbound_waybill(w).await.expect("lookup");
        times.push(t.elapsed().as_secs_f64() * 1e6);
        assert_eq!(found.len(), 1, "{w} must match one order");
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[times.len() * 99 / 100])
}

//! Test databases: a throwaway SQLite file, or a throwaway PostgreSQL database on the server named by
//! `DATABASE_URL` (default: the local server on 127.0.0.1:5432). A missing server fails the test with a
//! message; it is never skipped silently.

use std::sync::Arc;
use std::time::Duration;

use keydesk::clock::Clock;
use keydesk::store::{self, Actor, Store};
use sqlx::Connection;

pub struct TestDb {
    pub store: Arc<dyn Store>,
    #[allow(dead_code)]
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

pub fn pg_admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base.rfind('/').filter(|&i| i > "postgres://".len()).unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..cut])
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("keydesk.db").display());
        let store = store::open(&url, 8, Duration::from_secs(5), true).await.expect("open sqlite");
        TestDb { store, url, cleanup: Cleanup::Sqlite(dir) }
    }

    pub async fn postgres() -> TestDb {
        let admin_url = pg_admin_url();
        let name = format!("t_{}", rand_suffix());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!("PostgreSQL at DATABASE_URL={admin_url} does not answer ({e}); run scripts/test, which starts one")
        });
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create test database");
        let url = with_database(&admin_url, &name);
        let store = store::open(&url, 8, Duration::from_secs(5), true).await.expect("open postgres");
        TestDb { store, url, cleanup: Cleanup::Postgres { admin_url, name } }
    }

    pub async fn cleanup(self) {
        drop(self.store);
        if let Cleanup::Postgres { admin_url, name } = self.cleanup {
            if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await;
            }
        }
    }
}

fn rand_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..12).map(|_| char::from(b'a' + rng.random_range(0..26))).collect()
}

/// The tests' clock: it starts at the moment the demo fixture was written as of and ticks from there,
/// one per test process, so tests over the demo orders see them as they were written on any day the
/// suite runs (and under libfaketime).
pub fn clock() -> Clock {
    static CLOCK: std::sync::OnceLock<Clock> = std::sync::OnceLock::new();
    CLOCK.get_or_init(|| Clock::starting_at(keydesk::demo::fixture_as_of())).clone()
}

/// The tests' clock's instant.
/// The process's services over `store`, built from `config` as `keydesk` builds them, the token
/// worker being the built binary.
pub fn services(
    store: Arc<dyn Store>,
    config: &keydesk::cli::config::Config,
    clock: Clock,
) -> Arc<keydesk::services::Services> {
    let mut services = keydesk::cli::services::build(config, store, clock);
    services.token.worker = keydesk::token::worker::WorkerProgram {
        program: env!("CARGO_BIN_EXE_keydesk").into(),
        args: vec!["token-worker".into()],
    };
    Arc::new(services)
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    clock().now()
}

pub fn actor(name: &str) -> Actor {
    Actor { operator: name.into(), desk: "test-desk".into() }
}

pub fn demo_json() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo-orders.json")).expect("demo fixtures")
}

/// Loads the demo orders into the database.
pub async fn load_demo(db: &TestDb) {
    keydesk::ops::import::import_orders(db.store.as_ref(), &demo_json(), &actor("import"), &crate::support::clock())
        .await
        .expect("import demo orders");
}

/// Runs one async test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::support::TestDb::sqlite().await;
                ($body)(&db).await;
                db.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = $crate::support::TestDb::postgres().await;
                ($body)(&db).await;
                db.cleanup().await;
            }
        }
    };
}

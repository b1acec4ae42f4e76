//! What the database benchmarks share: the large demo in fleetdeck's own server.
//!
//! The first run creates the server in a separate data directory (as root
//! /var/lib/fleetdeck/bench-large, else $TMPDIR/fleetdeck-bench-large; FLEETDECK_BENCH_DATA_DIR
//! overrides; DATABASE_URL uses that server instead) and seeds the large demo into it (about
//! 70 s); later runs reuse it.
//!
//! FLEETDECK_BENCH_SCALE=medium or huge runs the same benchmarks on another demo, in its own
//! data directory (bench-medium, bench-huge): the cost curve of BENCHMARKS.md. The huge demo
//! (10,000,000 executions, 1,000,000 hosts) takes about 20 minutes and 12 GB to seed.

use std::collections::HashMap;

use fleetdeck::config::{Overrides, Settings};
use fleetdeck::db::{Database, MigratePolicy};
use fleetdeck::import::demo::{self, Scale};

/// The demo the benchmarks run on: FLEETDECK_BENCH_SCALE (medium, large or huge; large unless set).
pub fn scale() -> (Scale, &'static str) {
    match std::env::var("FLEETDECK_BENCH_SCALE").as_deref() {
        Ok("medium") => (Scale::Medium, "medium"),
        Ok("huge") => (Scale::Huge, "huge"),
        Ok("large") | Err(_) => (Scale::Large, "large"),
        Ok(other) => panic!("FLEETDECK_BENCH_SCALE={other:?}: medium, large or huge"),
    }
}

pub fn data_dir() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("FLEETDECK_BENCH_DATA_DIR") {
        return dir.into();
    }
    let name = scale().1;
    if nix::unistd::geteuid().is_root() {
        format!("/var/lib/fleetdeck/bench-{name}").into()
    } else {
        std::env::temp_dir().join(format!("fleetdeck-bench-{name}"))
    }
}

/// The benchmarks' demo (the large one unless FLEETDECK_BENCH_SCALE says: 100,000 hosts, 20,000
/// agents, 1,000,000 executions), migrated and seeded.
pub async fn large_demo() -> Database {
    let mut env: HashMap<String, String> = std::env::vars().filter(|(k, _)| k == "DATABASE_URL").collect();
    env.insert("FLEETDECK_DATABASE__DATA_DIR".into(), data_dir().display().to_string());
    let settings = Settings::load_with(&Overrides::default(), &env, None).expect("settings");
    let db = Database::open(&settings, MigratePolicy::Apply).await.expect("database");
    if demo::is_empty(&db.pool).await.expect("query") {
        let (scale, name) = scale();
        eprintln!("seeding the {name} demo into {} (the large one takes about 70 s)…", data_dir().display());
        let t = std::time::Instant::now();
        demo::seed(&db.pool, scale, 1, chrono::Utc::now(), |step| eprintln!("  {step}…")).await.expect("seed");
        eprintln!("seeded in {:.0} s", t.elapsed().as_secs_f64());
    }
    // The benchmarks rewrite rows (1 % of the executions, heartbeats, pauses) and `bench whole`
    // stops the server at once, which resets the statistics autovacuum goes by: without this,
    // dead rows and an unset visibility map pile up run after run (the status counts over a
    // million executions went from 100 to 245 ms, 655,000 heap fetches). A served database is
    // kept by autovacuum; this makes the bench database one. Quick when there is nothing to do.
    let t = std::time::Instant::now();
    // Without the sessions' statement timeout: the first vacuum after many runs takes longer.
    let mut conn = db.pool.pg().acquire().await.expect("a connection");
    sqlx::query("SET statement_timeout = 0").execute(&mut *conn).await.expect("no timeout");
    sqlx::query("VACUUM (ANALYZE)").execute(&mut *conn).await.expect("vacuum");
    sqlx::query("RESET statement_timeout").execute(&mut *conn).await.expect("timeout again");
    drop(conn);
    eprintln!("VACUUM (ANALYZE) of the bench database: {:.1} s", t.elapsed().as_secs_f64());
    db
}

//! The test harness's streaming standby (issue 26, point 4): a primary and a hot standby of
//! their own, on Unix sockets, started from the same PostgreSQL binaries as the shared server.

use std::sync::Arc;
use std::time::Duration;

use fleetdeck::db::embedded::EmbeddedServer;
use fleetdeck::db::replica::{ReadsFrom, Replica};
use fleetdeck::db::{migrate, pool};
use fleetdeck::domain::execution::Verb;
use fleetdeck::service::listing::{self, Entity, PageAt, Query};
use fleetdeck::service::{Actor, Services};
use fleetdeck::testing::{Pooler, Replicated};
use fleetdeck::ui::protocol::{Command, Outcome, PageRequest, Reply, Request};
use fleetdeck::ui::workers::{call, Workers};
use sqlx::{ConnectOptions, Connection};
use uuid::Uuid;

use crate::fixtures;

#[tokio::test]
async fn the_harness_starts_a_streaming_standby_that_follows_stops_and_catches_up() {
    let pair = tokio::task::spawn_blocking(Replicated::start).await.unwrap();
    let mut primary = pair.primary.connect_options("postgres").connect().await.unwrap();
    let mut standby = pair.standby.connect_options("postgres").connect().await.unwrap();
    let roles: (bool, bool) = (
        sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&mut primary).await.unwrap(),
        sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&mut standby).await.unwrap(),
    );
    assert_eq!(roles, (false, true), "the primary writes, the standby replays");
    let streaming: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
        .fetch_one(&mut primary)
        .await
        .unwrap();
    assert_eq!(streaming, 1, "one standby streams from the primary");

    // A write on the primary is read on the standby once replayed.
    sqlx::query("CREATE TABLE t (n int)").execute(&mut primary).await.unwrap();
    sqlx::query("INSERT INTO t VALUES (1), (2)").execute(&mut primary).await.unwrap();
    assert!(pair.caught_up(Duration::from_secs(10)).await, "the standby replays within 10 s");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut standby).await.unwrap();
    assert_eq!(n, 2);
    // The standby refuses writes.
    let err = sqlx::query("INSERT INTO t VALUES (3)").execute(&mut standby).await.unwrap_err().to_string();
    assert!(err.contains("read-only transaction"), "{err}");

    // Stopped, it misses what the primary writes meanwhile; started again, it catches up.
    drop(standby);
    let stopped = pair.standby.clone();
    tokio::task::spawn_blocking(move || stopped.stop(false)).await.unwrap().unwrap();
    assert!(pair.standby.connect_options("postgres").connect().await.is_err(), "the standby is down");
    sqlx::query("INSERT INTO t SELECT generate_series(3, 1000)").execute(&mut primary).await.unwrap();
    let again = pair.standby.clone();
    tokio::task::spawn_blocking(move || again.restart()).await.unwrap().unwrap();
    assert!(pair.caught_up(Duration::from_secs(10)).await, "the standby catches up after its restart");
    let mut standby = pair.standby.connect_options("postgres").connect().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut standby).await.unwrap();
    assert_eq!(n, 1000);
    standby.close().await.unwrap();
    primary.close().await.unwrap();
}

/// The harness's pgbouncer (issue 26, point 4), in transaction pooling mode: clients reach the
/// server through it, a transaction keeps one server connection, and two clients share one
/// between their transactions.
#[tokio::test]
async fn the_harness_starts_a_pgbouncer_in_transaction_mode_in_front_of_the_server() {
    let pair = tokio::task::spawn_blocking(Replicated::start).await.unwrap();
    let primary = pair.primary.clone();
    let pooler = tokio::task::spawn_blocking(move || Pooler::start(&primary)).await.unwrap();
    // The simple query protocol: prepared statements through a transaction pooler are point 3's.
    let mut a = pooler.connect_options("postgres").connect().await.unwrap();
    let mut b = pooler.connect_options("postgres").connect().await.unwrap();
    sqlx::raw_sql("CREATE TABLE t (n int); INSERT INTO t VALUES (1)").execute(&mut a).await.unwrap();
    let row = sqlx::raw_sql("SELECT count(*)::text FROM t").fetch_one(&mut b).await.unwrap();
    assert_eq!(sqlx::Row::get::<String, _>(&row, 0), "1", "b sees a's committed write through the pooler");
    // One transaction keeps its server connection; the pooler holds at most the pool.
    let in_tx = sqlx::raw_sql("BEGIN; SELECT pg_backend_pid()::text; SELECT pg_backend_pid()::text; COMMIT")
        .fetch_all(&mut a)
        .await
        .unwrap();
    let pids: Vec<String> = in_tx.iter().map(|r| sqlx::Row::get::<String, _>(r, 0)).collect();
    assert_eq!(pids.len(), 2);
    assert_eq!(pids[0], pids[1], "a transaction stays on one server connection");
    // Between transactions a client holds no server connection: b's next statement, right
    // after a's, runs on the connection a just gave back (in session mode each client would
    // keep its own).
    let pid = |rows: Vec<sqlx::postgres::PgRow>| sqlx::Row::get::<String, _>(&rows[0], 0);
    let from_a = pid(sqlx::raw_sql("SELECT pg_backend_pid()::text").fetch_all(&mut a).await.unwrap());
    let from_b = pid(sqlx::raw_sql("SELECT pg_backend_pid()::text").fetch_all(&mut b).await.unwrap());
    assert_eq!(from_a, from_b, "two clients, one server connection between their transactions");
    drop((a, b));
}

/// A migrated database `fd` on the pair's primary with one running execution, replayed on the
/// standby; services on the primary reading from the standby (lag limit `max_lag`).
async fn on_pair(pair: &Replicated, max_lag: Duration) -> (Services, Arc<Replica>, Uuid) {
    let mut admin = pair.primary.connect_options("postgres").connect().await.unwrap();
    sqlx::query("CREATE DATABASE fd").execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    let settings = pool::PoolSettings {
        statement_timeout: Duration::from_secs(30),
        acquire_timeout: Duration::from_secs(3),
        max_connections: 4,
        read_only: false,
        pooled: false,
    };
    let primary = pool::connect(pair.primary.connect_options("fd"), &settings, None, None).await.unwrap();
    migrate::apply(&primary).await.unwrap();
    sqlx::query("CREATE EXTENSION pg_stat_statements").execute(&primary).await.unwrap();
    let user = fixtures::user(&primary, "sre@example.com").await;
    let agent = fixtures::agent(&primary, "a", "user", user).await;
    let workflow = fixtures::workflow(&primary, agent).await;
    let run = fixtures::execution(&primary, workflow, agent, "running").await;
    assert!(pair.caught_up(Duration::from_secs(20)).await, "the standby replays the fixture");
    let standby = pool::connect_lazy(
        pair.standby.connect_options("fd"),
        &pool::PoolSettings { read_only: true, ..settings },
        None,
    );
    let replica = Replica::new(standby, max_lag);
    let services =
        Services::new(primary, Actor { label: "tester".into(), user_id: None }).with_replica(Some(replica.clone()));
    (services, replica, run)
}

/// The statements run in `fd` on a server since its counters were reset (pg_stat_statements),
/// leaving out the tests' own look at them and the standby's lag check.
async fn statements(server: &EmbeddedServer) -> Vec<String> {
    let mut conn = server.connect_options("fd").connect().await.unwrap();
    let all: Vec<String> = sqlx::query_scalar(
        "SELECT query FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'fd') AND calls > 0 \
           AND query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE '%pg_last_wal_replay_lsn%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.ok();
    all
}

async fn reset_statements(pair: &Replicated) {
    for server in [&pair.primary, &pair.standby] {
        let mut conn = server.connect_options("fd").connect().await.unwrap();
        sqlx::query("SELECT pg_stat_statements_reset()").execute(&mut conn).await.unwrap();
        conn.close().await.ok();
    }
}

fn execution_status(outcome: Outcome) -> String {
    match outcome {
        Outcome::ExecutionDetail(d) => d.status,
        other => panic!("{other:?}"),
    }
}

/// Issue 26, point 1, told by each server's pg_stat_statements: the lists, details and counts a
/// dashboard reads run on the standby; a verb's change and its audit row on the primary, which
/// runs none of those reads.
#[tokio::test]
async fn reads_land_on_the_standby_and_writes_on_the_primary() {
    let pair = tokio::task::spawn_blocking(Replicated::start).await.unwrap();
    let (services, replica, run) = on_pair(&pair, Duration::from_secs(30)).await;
    replica.check().await;
    assert!(matches!(services.reads_from(), Some(ReadsFrom::Standby { .. })), "{:?}", services.reads_from());
    reset_statements(&pair).await;

    let reading = services.reading();
    let query = Query::new(Entity::Executions);
    let page = listing::page(&reading.pool, Entity::Executions, &query, &PageAt::First, 50).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(execution_status(call(&services, Command::ExecutionDetail(run)).await), "running");
    let summary = call(&services, Command::FleetSummary(Default::default(), chrono::Utc::now())).await;
    assert!(matches!(summary, Outcome::FleetSummary(_)), "{summary:?}");
    let on_standby = statements(&pair.standby).await;
    let on_primary_before = statements(&pair.primary).await;

    let paused = call(&services, Command::Executions { verb: Verb::Pause, ids: vec![run], reason: None }).await;
    assert!(matches!(paused, Outcome::Done(_)), "{paused:?}");
    let on_primary = statements(&pair.primary).await;

    let reads: Vec<&String> = on_standby.iter().filter(|q| q.contains("workflow_executions")).collect();
    assert!(reads.len() >= 2, "the list and the detail were read on the standby: {on_standby:#?}");
    assert!(
        on_standby.iter().all(|q| q.trim_start().to_uppercase().starts_with("SELECT")
            || q.trim_start().to_uppercase().starts_with("WITH")
            || q.trim_start().to_uppercase().starts_with("BEGIN")
            || q.trim_start().to_uppercase().starts_with("COMMIT")
            || q.trim_start().to_uppercase().starts_with("ROLLBACK")
            || q.trim_start().to_uppercase().starts_with("SET")),
        "the standby only read: {on_standby:#?}"
    );
    assert!(on_primary_before.is_empty(), "no read went to the primary: {on_primary_before:#?}");
    assert!(
        on_primary.iter().any(|q| q.starts_with("UPDATE platform.workflow_executions")),
        "the pause ran on the primary: {on_primary:#?}"
    );
    assert!(on_primary.iter().any(|q| q.contains("INSERT INTO fleetdeck.audit")), "{on_primary:#?}");
    assert!(reads.iter().all(|q| !on_primary.contains(q)), "none of the reads ran on the primary");
}

/// Read your own writes (issue 26, point 1): with the standby's replay held back, the execution a
/// verb paused shows paused at once (the read goes to the primary while the standby has not
/// replayed the change) although the standby still says running; once it replays, reads go back
/// to it and it says paused.
#[tokio::test]
async fn a_verbs_change_shows_at_once_while_the_standby_is_held_back() {
    let pair = tokio::task::spawn_blocking(Replicated::start).await.unwrap();
    let (services, replica, run) = on_pair(&pair, Duration::from_secs(60)).await;
    let mut standby = pair.standby.connect_options("fd").connect().await.unwrap();
    sqlx::query("SELECT pg_wal_replay_pause()").execute(&mut standby).await.unwrap();
    replica.check().await;
    assert!(matches!(services.reads_from(), Some(ReadsFrom::Standby { .. })), "{:?}", services.reads_from());

    let paused = call(&services, Command::Executions { verb: Verb::Pause, ids: vec![run], reason: None }).await;
    assert!(matches!(paused, Outcome::Done(_)), "{paused:?}");
    replica.check().await;
    match services.reads_from() {
        Some(ReadsFrom::Primary { why }) => assert!(why.contains("your change"), "{why}"),
        other => panic!("reads should wait for the change: {other:?}"),
    }
    assert_eq!(execution_status(call(&services, Command::ExecutionDetail(run)).await), "paused");
    let on_standby: String = sqlx::query_scalar("SELECT status FROM platform.workflow_executions WHERE id = $1")
        .bind(run)
        .fetch_one(&mut standby)
        .await
        .unwrap();
    assert_eq!(on_standby, "running", "the standby is held back");

    sqlx::query("SELECT pg_wal_replay_resume()").execute(&mut standby).await.unwrap();
    replica.settle(Duration::from_secs(20)).await;
    assert!(matches!(services.reads_from(), Some(ReadsFrom::Standby { .. })), "{:?}", services.reads_from());
    reset_statements(&pair).await;
    assert_eq!(execution_status(call(&services, Command::ExecutionDetail(run)).await), "paused");
    assert!(
        statements(&pair.standby).await.iter().any(|q| q.contains("workflow_executions")),
        "the detail is read on the standby again"
    );
    standby.close().await.ok();
}

async fn next_reads(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Reply>, want: fn(&ReadsFrom) -> bool) -> ReadsFrom {
    let until = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(Reply::Reads(r))) if want(&r) => return r,
            Ok(Some(_)) => {}
            Ok(None) => panic!("the channel closed"),
            Err(_) => panic!("where reads go did not change in time"),
        }
    }
}

async fn page_answered(workers: &mut Workers, rx: &mut tokio::sync::mpsc::UnboundedReceiver<Reply>, generation: u64) {
    workers.send(Request::Page(PageRequest {
        entity: Entity::Executions,
        generation,
        query: Query::new(Entity::Executions),
        at: PageAt::First,
        light_first: false,
    }));
    let until = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(Reply::Page { generation: g, result, .. })) if g == generation => {
                assert_eq!(result.unwrap().total, 1);
                return;
            }
            Ok(Some(Reply::Lost { error, .. })) => panic!("the dashboard lost its data: {error}"),
            Ok(Some(_)) => {}
            Ok(None) => panic!("the channel closed"),
            Err(_) => panic!("page {generation} was not answered in time"),
        }
    }
}

/// The standby stopped and started under a running dashboard (issue 26, point 4): the status
/// bar's reply says reads went to the primary, the list is still answered, and once the standby
/// is back reads return to it.
#[tokio::test]
async fn a_dashboard_rides_out_its_standby_stopping_and_starting() {
    let pair = tokio::task::spawn_blocking(Replicated::start).await.unwrap();
    let (services, _replica, _run) = on_pair(&pair, Duration::from_secs(30)).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut workers = Workers::start(services, None, None, tx);
    next_reads(&mut rx, |r| matches!(r, ReadsFrom::Standby { .. })).await;
    page_answered(&mut workers, &mut rx, 1).await;

    let stopped = pair.standby.clone();
    tokio::task::spawn_blocking(move || stopped.stop(true)).await.unwrap().unwrap();
    page_answered(&mut workers, &mut rx, 2).await;
    let down = next_reads(&mut rx, |r| matches!(r, ReadsFrom::Primary { .. })).await;
    assert!(down.describe().contains("standby down"), "{}", down.describe());
    page_answered(&mut workers, &mut rx, 3).await;

    let again = pair.standby.clone();
    tokio::task::spawn_blocking(move || again.restart()).await.unwrap().unwrap();
    next_reads(&mut rx, |r| matches!(r, ReadsFrom::Standby { .. })).await;
    reset_statements(&pair).await;
    page_answered(&mut workers, &mut rx, 4).await;
    assert!(statements(&pair.standby).await.iter().any(|q| q.contains("workflow_executions")), "read there again");
}

async fn run_doctor(mut cmd: std::process::Command) -> (std::process::Output, String) {
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    (out, stdout)
}

/// `fleetdeck doctor` with a standby configured (issue 26, point 1): both servers with their
/// roles, the lag against the limit, the primary's replication view and the change feed; a
/// standby that is down is a problem (exit 8).
#[tokio::test]
async fn doctor_reports_both_servers_their_roles_and_the_lag() {
    let pair = tokio::task::spawn_blocking(Replicated::start).await.unwrap();
    let (_services, _replica, _run) = on_pair(&pair, Duration::from_secs(30)).await;
    assert!(pair.caught_up(Duration::from_secs(20)).await);
    let home = tempfile::tempdir().unwrap();
    let doctor = |home: &std::path::Path| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"));
        cmd.arg("doctor")
            .env("DATABASE_URL", pair.primary.url("fd"))
            .env("FLEETDECK_DATABASE__REPLICA_URL", pair.standby.url("fd"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_STATE_HOME", home.join("state"));
        cmd
    };
    let (out, stdout) = run_doctor(doctor(home.path())).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let line = |label: &str| stdout.lines().find(|l| l.contains(label)).unwrap_or_default().to_string();
    assert!(line(" server ").contains("a primary"), "{stdout}");
    let standby = line(" standby ");
    assert!(standby.contains("a standby (in recovery)") && standby.contains("lag "), "{stdout}");
    assert!(standby.contains("reads go to the standby"), "{stdout}");
    assert!(line("replication").contains("streaming"), "{stdout}");
    assert!(line("change feed").contains("LISTEN"), "auto listens where a session can be had: {stdout}");

    let stopped = pair.standby.clone();
    tokio::task::spawn_blocking(move || stopped.stop(true)).await.unwrap().unwrap();
    let (out, stdout) = run_doctor(doctor(home.path())).await;
    assert_eq!(out.status.code(), Some(8), "{stdout}");
    assert!(stdout.contains("!!  standby") && stdout.contains("reads go to the primary"), "{stdout}");
}

/// A standby whose pool is taken up by slow reads is busy, not down (issue 26, point 5): its
/// readers stay on it instead of all going to the primary; one that does not answer is down.
#[tokio::test]
async fn a_busy_standby_keeps_its_readers_and_a_down_one_sends_them_to_the_primary() {
    let pair = tokio::task::spawn_blocking(Replicated::start).await.unwrap();
    let (_services, _replica, _run) = on_pair(&pair, Duration::from_secs(30)).await;
    // A standby pool of one connection that waits at most 200 ms for it.
    let settings = pool::PoolSettings {
        statement_timeout: Duration::from_secs(30),
        acquire_timeout: Duration::from_millis(200),
        max_connections: 1,
        read_only: true,
        pooled: false,
    };
    let replica =
        Replica::new(pool::connect_lazy(pair.standby.connect_options("fd"), &settings, None), Duration::from_secs(30));
    replica.check().await;
    assert!(matches!(replica.reads_from(), ReadsFrom::Standby { .. }), "{:?}", replica.reads_from());
    // A slow read holds the only connection; the next read cannot have one.
    let held = replica.pool.clone();
    let slow = tokio::spawn(async move { sqlx::query("SELECT pg_sleep(2)").execute(&held).await.map(|_| ()) });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let err = fleetdeck::service::Error::from(sqlx::query("SELECT 1").execute(&replica.pool).await.unwrap_err());
    let fleetdeck::service::Error::Unavailable(error) = err else { panic!("{err:?}") };
    assert!(!replica.failed_read(error).await, "it answers a connection of its own: busy, not down");
    assert!(matches!(replica.reads_from(), ReadsFrom::Standby { .. }), "reads stay on the standby");
    assert!(matches!(replica.check().await, fleetdeck::db::replica::Standing::Following { .. }), "a check agrees");
    slow.await.unwrap().unwrap();
    // Stopped, it is down at once and reads go to the primary.
    let stopped = pair.standby.clone();
    tokio::task::spawn_blocking(move || stopped.stop(true)).await.unwrap().unwrap();
    assert!(replica.failed_read("connection refused".into()).await);
    let down = replica.reads_from();
    assert!(down.describe().contains("standby down"), "{}", down.describe());
}

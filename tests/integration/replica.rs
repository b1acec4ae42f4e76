//! The test harness's streaming standby (issue 26, point 4): a primary and a hot standby of
//! their own, on Unix sockets, started from the same PostgreSQL binaries as the shared server.

use std::time::Duration;

use fleetdeck::testing::{Pooler, Replicated};
use sqlx::{ConnectOptions, Connection};

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

//! fleetdeck through pgbouncer in transaction pooling mode (issue 26, point 3): Debian's
//! pgbouncer 1.18, which keeps no prepared statement for its clients.

use std::time::Duration;

use fleetdeck::db::{migrate, pool};
use fleetdeck::service::Error;
use fleetdeck::testing::{Pooler, Replicated, POOLER_ENV};
use sqlx::{ConnectOptions, Connection};
use uuid::Uuid;

use crate::fixtures;

fn settings(read_only: bool, pooled: bool) -> pool::PoolSettings {
    pool::PoolSettings {
        statement_timeout: Duration::from_millis(1500),
        acquire_timeout: Duration::from_secs(3),
        max_connections: 4,
        read_only,
        pooled,
    }
}

/// Two handles — the operator, and a platform user read-only under row-level security — share
/// the one server connection pgbouncer has (pool size 1), a hundred and twenty statements at once: each
/// statement runs with its own handle's settings and identity, none meets another's prepared
/// statement, a transaction keeps its server connection, and the read-only one is refused a write.
#[tokio::test]
async fn pooled_handles_share_one_server_connection_each_with_its_own_settings() {
    let pair = tokio::task::spawn_blocking(Replicated::start).await.unwrap();
    let mut admin = pair.primary.connect_options("postgres").connect().await.unwrap();
    sqlx::query("CREATE DATABASE fd").execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    let direct = pool::connect(pair.primary.connect_options("fd"), &settings(false, false), None, None).await.unwrap();
    migrate::apply(&direct).await.unwrap();
    let user = fixtures::user(&direct, "sre@example.com").await;
    direct.close().await;
    let primary = pair.primary.clone();
    let pooler = tokio::task::spawn_blocking(move || Pooler::start_sized(&primary, 1)).await.unwrap();

    let operator = pool::connect(pooler.connect_options("fd"), &settings(false, true), None, None).await.unwrap();
    let member = pool::connect(pooler.connect_options("fd"), &settings(true, true), Some(user), None).await.unwrap();
    assert!(operator.is_pooled() && member.is_pooled());
    let mut tasks = Vec::new();
    for i in 0..40i64 {
        let (operator, member) = (operator.clone(), member.clone());
        tasks.push(tokio::spawn(async move {
            let (n, timeout, role, path, read_only): (i64, String, String, String, String) = sqlx::query_as(
                "SELECT $1::bigint, current_setting('statement_timeout'), current_user::text, \
                        current_setting('search_path'), current_setting('transaction_read_only')",
            )
            .bind(i)
            .fetch_one(&operator)
            .await
            .unwrap();
            assert_eq!((n, timeout.as_str(), path.as_str(), read_only.as_str()), (i, "1500ms", "public", "off"));
            assert_ne!(role, "authenticated");
            let (uid, role, read_only): (Option<Uuid>, String, String) = sqlx::query_as(
                "SELECT auth.uid(), current_user::text, current_setting('transaction_read_only') WHERE $1::bigint >= 0",
            )
            .bind(i)
            .fetch_one(&member)
            .await
            .unwrap();
            assert_eq!((uid, role.as_str(), read_only.as_str()), (Some(user), "authenticated", "on"));
            let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&operator).await.unwrap();
            pid
        }));
    }
    let mut pids = std::collections::BTreeSet::new();
    for t in tasks {
        pids.insert(t.await.unwrap());
    }
    assert_eq!(pids.len(), 1, "every statement ran on pgbouncer's one server connection");

    // A transaction keeps its server connection and sees its own writes; committed, others do.
    let mut tx = operator.begin().await.unwrap();
    sqlx::query("CREATE TABLE t (n int)").execute(&mut *tx).await.unwrap();
    sqlx::query("INSERT INTO t VALUES ($1)").bind(7).execute(&mut *tx).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(n, 1);
    tx.commit().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t WHERE n = $1").bind(7).fetch_one(&operator).await.unwrap();
    assert_eq!(n, 1);

    // The timeout holds in every transaction.
    let slow = sqlx::query("SELECT pg_sleep($1)").bind(5.0f64).execute(&operator).await.unwrap_err().to_string();
    assert!(slow.contains("statement timeout"), "{slow}");
    // Read-only holds: a write is refused, as the read-only mode says.
    let write = sqlx::query("INSERT INTO t VALUES ($1)").bind(8).execute(&member).await.unwrap_err();
    assert!(matches!(Error::from(write), Error::Forbidden(_)));
    operator.close().await;
    member.close().await;
    drop(pooler);
}

/// The whole integration suite once more, every test's pools and every fleetdeck binary it
/// starts going through a pgbouncer in transaction pooling mode in front of the test server
/// (issue 26, point 4). Its output is shown when it fails.
#[test]
fn the_whole_suite_passes_through_pgbouncer() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .env(POOLER_ENV, "1")
        .args(["--skip", "the_whole_suite_passes_through_pgbouncer", "--test-threads", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stdout.lines().filter(|l| l.starts_with("test result:")).collect::<Vec<_>>().join("\n");
    assert!(out.status.success(), "through pgbouncer:\n{stdout}\n{stderr}");
    assert!(summary.contains(" 0 failed") && !summary.contains(" 0 passed"), "{summary}");
}

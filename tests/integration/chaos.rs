//! Faults: the database stops under a running dashboard and comes back. Each test runs its own
//! PostgreSQL server (stopping the shared one would break the other tests).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fleetdeck::db::embedded::{EmbeddedServer, ServerOptions};
use fleetdeck::db::{migrate, pool};
use fleetdeck::import::demo::{self, Scale};
use sqlx::{ConnectOptions, Connection};

use crate::pty::Pty;

/// A PostgreSQL server of the test's own, in a temporary directory; stopped and removed on drop.
pub(crate) struct PrivateServer {
    opts: ServerOptions,
    pub(crate) server: EmbeddedServer,
    root: PathBuf,
}

impl PrivateServer {
    /// `durable`: fsync and synchronous commit on, as a production server runs (a throwaway
    /// test server has them off, and a crash there loses commits it had acknowledged).
    pub(crate) fn start(durable: bool) -> PrivateServer {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        // Short: the socket's path must fit in 107 bytes.
        let root = std::env::temp_dir().join(format!("fdchaos-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let opts = ServerOptions {
            data_dir: root.join("data"),
            bin_dir: None,
            server_user: std::env::var("FLEETDECK_TEST_SERVER_USER").unwrap_or_else(|_| "postgres".into()),
            throwaway: !durable,
        };
        let server = EmbeddedServer::ensure_running(&opts).unwrap();
        PrivateServer { opts, server, root }
    }

    /// Stop at once, as a crash or a pulled cable would (no shutdown checkpoint).
    fn stop(&self) {
        self.server.stop(true).unwrap();
    }

    fn start_again(&self) {
        EmbeddedServer::ensure_running(&self.opts).unwrap();
    }
}

/// Pool settings for the tests' own reads and writes.
fn settings() -> pool::PoolSettings {
    pool::PoolSettings {
        statement_timeout: Duration::from_secs(30),
        acquire_timeout: Duration::from_secs(3),
        max_connections: 4,
        read_only: false,
        pooled: false,
    }
}

/// A database `name` in the server with the small demo in it; a pool on it.
pub(crate) async fn seeded(server: &PrivateServer, name: &str) -> fleetdeck::db::handle::Db {
    let admin = server.server.connect_options("postgres");
    let mut conn = admin.connect().await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let db = pool::connect(server.server.connect_options(name), &settings(), None, None).await.unwrap();
    migrate::apply(&db).await.unwrap();
    demo::seed(&db, Scale::Small, 11, chrono::Utc::now(), |_| {}).await.unwrap();
    db
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.server.stop(true);
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The dashboard keeps drawing and taking keys while the database is down, says its data is
/// stale, refuses a verb with a message (and does not apply it later), and is back by itself
/// once the database is.
#[tokio::test]
async fn the_dashboard_rides_out_a_database_outage() {
    let server = tokio::task::spawn_blocking(|| PrivateServer::start(false)).await.unwrap();
    let db = seeded(&server, "chaos").await;
    let paused = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM platform.workflow_executions WHERE status = 'paused'")
            .fetch_one(&db)
            .await
            .unwrap()
    };
    let paused_before = paused().await;
    let running: i64 = sqlx::query_scalar("SELECT count(*) FROM platform.workflow_executions WHERE status = 'running'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(running > 0, "the demo has running executions to pause");
    db.close().await;

    let home = tempfile::tempdir().unwrap();
    let url = server.server.url("chaos");
    let home_path = home.path().to_path_buf();
    let server = std::sync::Arc::new(server);
    let s = server.clone();
    let recovered = tokio::task::spawn_blocking(move || {
        // Wide enough for the status bar after the long socket URL.
        let mut pty = Pty::spawn_sized(&[], &home_path, &[("DATABASE_URL", url)], (30, 200));
        pty.wait_for("● connected", Duration::from_secs(60));
        pty.send(b":exec status=running\r");
        // The rows themselves, not only the header's "running" or the filter line: a verb needs
        // a selected row, and on a loaded machine the page can come after both.
        let loaded = format!("1 / {running} ");
        pty.wait_all(&[&loaded, "status=running"], Duration::from_secs(60));

        s.stop();
        let down = Instant::now();
        // The pollers find out and the status bar says the rows are stale.
        let screen = pty.wait_for("reconnecting", Duration::from_secs(60));
        assert!(screen.contains("stale since"), "{screen}");
        // Keys still work and the screen still draws: another tab, and back.
        pty.send(b"2");
        pty.wait_for("HOSTNAME", Duration::from_secs(60));
        pty.send(b"4");
        pty.wait_for("status=running", Duration::from_secs(60));
        // A verb during the outage is refused with a message.
        pty.send(b"p");
        let screen = pty.wait_for("✗ database unavailable", Duration::from_secs(60));
        assert!(screen.contains("stale since"), "still stale: {screen}");
        // Down for 5 s in all, then back.
        std::thread::sleep(Duration::from_secs(5).saturating_sub(down.elapsed()));
        s.start_again();
        let up = Instant::now();
        pty.wait_for("● connected", Duration::from_secs(60));
        let recovered = up.elapsed();
        // Drawing goes on after the return too.
        pty.send(b"1");
        pty.wait_for("Packages", Duration::from_secs(60));
        pty.send(b"q");
        let status = pty.wait_exit(Duration::from_secs(60));
        assert!(status.success(), "{status:?}\n{}", pty.screen());
        recovered
    })
    .await
    .unwrap();
    println!("back {} ms after the database", recovered.as_millis());

    // The refused verb was not applied behind the user's back once the database returned.
    let db = pool::connect(server.server.connect_options("chaos"), &settings(), None, None).await.unwrap();
    let paused_after: i64 =
        sqlx::query_scalar("SELECT count(*) FROM platform.workflow_executions WHERE status = 'paused'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(paused_after, paused_before, "the refused pause was not applied later");
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM fleetdeck.audit_log WHERE verb = 'pause'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(audited, 0, "nothing happened, so nothing is audited");
    db.close().await;
}

/// What one CLI verb of the burst did: which row, the command, its exit code and output.
struct Verb {
    table: &'static str,
    id: uuid::Uuid,
    args: Vec<String>,
    code: Option<i32>,
    output: String,
}

/// The database restarts in the middle of a burst of verbs from the command line: every verb
/// either happened once, with its audit row, or said that it failed. None happened twice, none
/// changed a row without its audit row, and none failed silently.
#[tokio::test]
async fn a_burst_of_cli_verbs_across_a_database_restart_happens_once_or_fails_loudly() {
    let server = tokio::task::spawn_blocking(|| PrivateServer::start(true)).await.unwrap();
    let db = seeded(&server, "burst").await;
    let running: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM platform.workflow_executions WHERE status = 'running' ORDER BY id LIMIT 30")
            .fetch_all(&db)
            .await
            .unwrap();
    let active: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM broker.agents WHERE status = 'ACTIVE' AND deleted_at IS NULL ORDER BY id LIMIT 30",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!((running.len(), active.len()), (30, 30), "the demo has enough to act on");
    db.close().await;

    // Alternate the two kinds of verb: pause an execution, deactivate an agent.
    let mut verbs: Vec<Verb> = running
        .iter()
        .zip(&active)
        .flat_map(|(e, a)| {
            [
                Verb {
                    table: "platform.workflow_executions",
                    id: *e,
                    args: vec!["exec".into(), "pause".into(), e.to_string()],
                    code: None,
                    output: String::new(),
                },
                Verb {
                    table: "broker.agents",
                    id: *a,
                    args: vec!["fleet".into(), "agent".into(), "deactivate".into(), a.to_string()],
                    code: None,
                    output: String::new(),
                },
            ]
        })
        .collect();

    let url = server.server.url("burst");
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_path_buf();
    let server = std::sync::Arc::new(server);
    let s = server.clone();
    let verbs = tokio::task::spawn_blocking(move || {
        // One verb every 100 ms; the server stops at once after the 15th and is back 4 s later
        // (longer than a verb waits for a connection), while the burst goes on.
        let mut children = Vec::new();
        for (i, verb) in verbs.iter().enumerate() {
            if i == 15 {
                s.stop();
            }
            if i == 55 {
                s.start_again();
            }
            let child = crate::cli::fleetdeck(&home_path)
                .args(&verb.args)
                .env("DATABASE_URL", &url)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            children.push(child);
            std::thread::sleep(Duration::from_millis(100));
        }
        for (verb, child) in verbs.iter_mut().zip(children) {
            let out = child.wait_with_output().unwrap();
            verb.code = out.status.code();
            verb.output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        }
        verbs
    })
    .await
    .unwrap();

    let db = pool::connect(server.server.connect_options("burst"), &settings(), None, None).await.unwrap();
    let (mut done, mut failed) = (0, 0);
    for verb in &verbs {
        let audited: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM fleetdeck.audit_log WHERE target_table = $1 AND target_id = $2 AND outcome = 'ok'",
        )
        .bind(verb.table)
        .bind(verb.id.to_string())
        .fetch_one(&db)
        .await
        .unwrap();
        let changed: bool = match verb.table {
            "platform.workflow_executions" => {
                sqlx::query_scalar("SELECT status = 'paused' FROM platform.workflow_executions WHERE id = $1")
            }
            _ => sqlx::query_scalar("SELECT status = 'INACTIVE' FROM broker.agents WHERE id = $1"),
        }
        .bind(verb.id)
        .fetch_one(&db)
        .await
        .unwrap();
        let what = format!("{:?} exited {:?}: {}", verb.args, verb.code, verb.output);
        assert!(audited <= 1, "never twice: {audited} audit rows; {what}");
        assert_eq!(changed, audited == 1, "the row changed if and only if it was audited; {what}");
        if verb.code == Some(0) {
            done += 1;
            assert_eq!(audited, 1, "a verb that says it succeeded happened, once; {what}");
        } else {
            failed += 1;
            assert!(verb.code.is_some(), "ended by a signal: {what}");
            assert!(
                verb.output.contains("unavailable") || verb.output.contains("connect"),
                "a failed verb says the database was unavailable: {what}"
            );
        }
    }
    println!("{done} verbs happened, {failed} reported failure");
    assert!(done > 0 && failed > 0, "the burst straddled the restart: {done} done, {failed} failed");
    // The counts the database maintains came through the restart exact (the server stopped at
    // once, in the middle of verbs).
    assert_eq!(crate::fixtures::execution_counts_wrong(&db).await, Vec::<String>::new());
    assert_eq!(crate::fixtures::reach_wrong(&db).await, Vec::<String>::new());
    db.close().await;
}

/// The sessions listening for changes on database `lost`, once they are `want` or `within` has
/// passed.
async fn listeners(db: &fleetdeck::db::handle::Db, want: i64, within: Duration) -> i64 {
    let start = Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'lost' AND query ILIKE 'LISTEN%'",
        )
        .fetch_one(db)
        .await
        .unwrap();
        if n == want || start.elapsed() >= within {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Notifications sent while the dashboard's listening connection is gone are lost; the
/// dashboard reads every notified list again once it listens again, so the change still shows.
/// The timed refresh is set to 10 minutes, so nothing else would bring it (without the resync
/// this test waits in vain).
#[tokio::test]
async fn changes_whose_notifications_were_lost_across_a_reconnect_still_arrive() {
    let server = tokio::task::spawn_blocking(|| PrivateServer::start(false)).await.unwrap();
    let db = seeded(&server, "lost").await;
    let url = server.server.url("lost");
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_path_buf();
    let env = [("DATABASE_URL", url), ("FLEETDECK_REFRESH_INTERVAL", "10m".to_string())];
    let mut pty = tokio::task::spawn_blocking(move || {
        let pty = Pty::spawn_sized(&[], &home_path, &env, (30, 200));
        pty.wait_for("● connected", Duration::from_secs(60));
        pty
    })
    .await
    .unwrap();
    pty.send(b":exec status=running\r");
    let pty = tokio::task::spawn_blocking(move || {
        pty.wait_for("status=running", Duration::from_secs(60));
        let screen = pty.wait_for("│  running ", Duration::from_secs(60));
        assert!(!screen.contains("│ running 0 │"), "{screen}");
        pty
    })
    .await
    .unwrap();
    assert_eq!(listeners(&db, 1, Duration::from_secs(60)).await, 1, "the dashboard listens for changes");

    // The dashboard is stopped (SIGSTOP) while its listening session is ended and every running
    // execution is paused: the notification goes out when nobody listens, and is lost.
    pty.signal(nix::sys::signal::Signal::SIGSTOP);
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'lost' AND query ILIKE 'LISTEN%'",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(ended, vec![true]);
    assert_eq!(listeners(&db, 0, Duration::from_secs(60)).await, 0, "nobody listens");
    let paused = sqlx::query("UPDATE platform.workflow_executions SET status = 'paused' WHERE status = 'running'")
        .execute(&db)
        .await
        .unwrap()
        .rows_affected();
    assert!(paused > 0);
    pty.signal(nix::sys::signal::Signal::SIGCONT);

    let mut pty = tokio::task::spawn_blocking(move || {
        // The header counts none running, and the list (filtered to running) is empty.
        let screen = pty.wait_for("│ running 0 │", Duration::from_secs(60));
        assert!(!screen.contains("│  running "), "no running row is left on screen:\n{screen}");
        pty
    })
    .await
    .unwrap();
    assert_eq!(listeners(&db, 1, Duration::from_secs(60)).await, 1, "the dashboard listens again");
    pty.send(b"q");
    let status = tokio::task::spawn_blocking(move || pty.wait_exit(Duration::from_secs(60))).await.unwrap();
    assert!(status.success(), "{status:?}");
    db.close().await;
}

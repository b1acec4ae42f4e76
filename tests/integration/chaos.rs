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
struct PrivateServer {
    opts: ServerOptions,
    server: EmbeddedServer,
    root: PathBuf,
}

impl PrivateServer {
    fn start() -> PrivateServer {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        // Short: the socket's path must fit in 107 bytes.
        let root = std::env::temp_dir().join(format!("fdchaos-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let opts = ServerOptions {
            data_dir: root.join("data"),
            bin_dir: None,
            server_user: std::env::var("FLEETDECK_TEST_SERVER_USER").unwrap_or_else(|_| "postgres".into()),
            throwaway: true,
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
    let server = tokio::task::spawn_blocking(PrivateServer::start).await.unwrap();
    let admin = server.server.connect_options("postgres");
    let mut conn = admin.connect().await.unwrap();
    sqlx::query("CREATE DATABASE chaos").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let settings = pool::PoolSettings {
        statement_timeout: Duration::from_secs(30),
        acquire_timeout: Duration::from_secs(3),
        max_connections: 4,
        read_only: false,
    };
    let db = pool::connect(server.server.connect_options("chaos"), &settings, None, None).await.unwrap();
    migrate::apply(&db).await.unwrap();
    demo::seed(&db, Scale::Small, 11, chrono::Utc::now(), |_| {}).await.unwrap();
    let paused = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM platform.workflow_executions WHERE status = 'paused'")
            .fetch_one(&db)
            .await
            .unwrap()
    };
    let paused_before = paused().await;
    db.close().await;

    let home = tempfile::tempdir().unwrap();
    let url = server.server.url("chaos");
    let home_path = home.path().to_path_buf();
    let server = std::sync::Arc::new(server);
    let s = server.clone();
    let recovered = tokio::task::spawn_blocking(move || {
        // Wide enough for the status bar after the long socket URL.
        let mut pty = Pty::spawn_sized(&[], &home_path, &[("DATABASE_URL", url)], (30, 200));
        pty.wait_for("● connected", Duration::from_secs(20));
        pty.send(b":exec status=running\r");
        pty.wait_for("running", Duration::from_secs(5));
        pty.wait_for("status=running", Duration::from_secs(5));

        s.stop();
        let down = Instant::now();
        // The pollers find out and the status bar says the rows are stale.
        let screen = pty.wait_for("reconnecting", Duration::from_secs(10));
        assert!(screen.contains("stale since"), "{screen}");
        // Keys still work and the screen still draws: another tab, and back.
        pty.send(b"2");
        pty.wait_for("HOSTNAME", Duration::from_secs(5));
        pty.send(b"4");
        pty.wait_for("status=running", Duration::from_secs(5));
        // A verb during the outage is refused with a message.
        pty.send(b"p");
        let screen = pty.wait_for("✗ database unavailable", Duration::from_secs(10));
        assert!(screen.contains("stale since"), "still stale: {screen}");
        // Down for 5 s in all, then back.
        std::thread::sleep(Duration::from_secs(5).saturating_sub(down.elapsed()));
        s.start_again();
        let up = Instant::now();
        pty.wait_for("● connected", Duration::from_secs(10));
        let recovered = up.elapsed();
        // Drawing goes on after the return too.
        pty.send(b"1");
        pty.wait_for("Packages", Duration::from_secs(10));
        pty.send(b"q");
        let status = pty.wait_exit(Duration::from_secs(10));
        assert!(status.success(), "{status:?}\n{}", pty.screen());
        recovered
    })
    .await
    .unwrap();
    println!("back {} ms after the database", recovered.as_millis());

    // The refused verb was not applied behind the user's back once the database returned.
    let db = pool::connect(server.server.connect_options("chaos"), &settings, None, None).await.unwrap();
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

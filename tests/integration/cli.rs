//! End to end: the real binary, as a person or a script runs it.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fleetdeck::testing::TestDb;
use portable_pty::{native_pty_system, CommandBuilder, PtySize};

use crate::embedded::shared_tempdir;
use crate::fixtures::user;

const BIN: &str = env!("CARGO_BIN_EXE_fleetdeck");

/// The binary with an environment of its own: no user config, logs in `home`.
fn fleetdeck(home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("DATABASE_URL")
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("RUST_BACKTRACE", "0");
    for (k, _) in std::env::vars() {
        if k.starts_with("FLEETDECK_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

async fn run(cmd: &mut Command) -> Output {
    let mut cmd = std::mem::replace(cmd, Command::new(BIN));
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

#[tokio::test]
async fn doctor_reports_a_healthy_database_from_database_url() {
    let db = TestDb::new().await;
    let home = tempfile::tempdir().unwrap();
    let out = run(fleetdeck(home.path()).arg("doctor").env("DATABASE_URL", db.url())).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("DATABASE_URL postgres://"), "{stdout}");
    assert!(stdout.contains("PostgreSQL 1"), "{stdout}");
    for schema in ["catalog", "edge", "platform", "broker", "cloud", "public", "ergon", "auth", "fleetdeck"] {
        assert!(stdout.contains(&format!("{schema:<10} present")), "{schema}: {stdout}");
    }
    assert!(stdout.trim_end().ends_with("healthy"), "{stdout}");
}

#[tokio::test]
async fn doctor_starts_fleetdecks_own_server_reuses_it_and_stops_it_on_exit() {
    let home = shared_tempdir();
    let data_dir = home.path().join("pg");
    let mut cmd = fleetdeck(home.path());
    cmd.arg("doctor").env("FLEETDECK_DATABASE__DATA_DIR", &data_dir);
    let out = run(&mut cmd).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("fleetdeck's own server"), "{stdout}");
    assert!(stdout.contains(&format!("version {}", fleetdeck::db::migrate::latest_version().unwrap())), "{stdout}");
    assert!(stdout.trim_end().ends_with("healthy"), "{stdout}");
    if nix::unistd::geteuid().is_root() {
        assert!(stdout.contains("server runs as OS user postgres"), "{stdout}");
    }
    let server = fleetdeck::db::embedded::EmbeddedServer::existing(&data_dir, None, "postgres").unwrap();
    assert!(!server.is_running().unwrap(), "stopped when the last fleetdeck left");

    // The next run reuses the cluster (and its schema) instead of creating one.
    let mut cmd = fleetdeck(home.path());
    cmd.arg("migrate").env("FLEETDECK_DATABASE__DATA_DIR", &data_dir);
    let out = run(&mut cmd).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("schema is up to date; nothing to apply"), "{stdout}");
    let log = std::fs::read_to_string(home.path().join("state/fleetdeck/fleetdeck.log")).unwrap();
    assert_eq!(log.matches("initialising a PostgreSQL cluster").count(), 1, "{log}");
    assert_eq!(log.matches("starting PostgreSQL").count(), 2, "{log}");
    assert!(!server.is_running().unwrap());
}

#[tokio::test]
async fn migrate_applies_the_schema_once_and_the_dashboard_refuses_an_unmigrated_database() {
    let db = TestDb::empty().await;
    let home = tempfile::tempdir().unwrap();

    let out = run(fleetdeck(home.path()).env("DATABASE_URL", db.url())).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("run `fleetdeck migrate`"), "{stderr}");
    assert!(!stderr.contains("Location:"), "a clear message, not a backtrace: {stderr}");

    let out = run(fleetdeck(home.path()).arg("doctor").env("DATABASE_URL", db.url())).await;
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "doctor fails on a database without the schema: {stdout}");
    assert!(stdout.contains("platform   MISSING"), "{stdout}");

    let out = run(fleetdeck(home.path()).arg("migrate").env("DATABASE_URL", db.url())).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("applied 7 migration(s)"), "{stdout}");

    let out = run(fleetdeck(home.path()).arg("migrate").env("DATABASE_URL", db.url())).await;
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(stdout.contains("nothing to apply"), "{stdout}");

    let out = run(fleetdeck(home.path()).arg("doctor").env("DATABASE_URL", db.url())).await;
    assert!(out.status.success(), "{}", text(&out).0);
}

#[tokio::test]
async fn acting_as_a_user_is_checked_at_start() {
    let db = TestDb::new().await;
    user(&db.pool, "alice@example.com").await;
    let home = tempfile::tempdir().unwrap();
    let out =
        run(fleetdeck(home.path()).args(["doctor", "--as", "Alice@Example.com"]).env("DATABASE_URL", db.url())).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("acting as       alice@example.com (platform user"), "{stdout}");

    let out = run(fleetdeck(home.path()).args(["--as", "mallory@example.com"]).env("DATABASE_URL", db.url())).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("platform user with email \"mallory@example.com\" not found"), "{stderr}");
}

#[tokio::test]
async fn bad_configuration_is_named_and_exits_1() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("bad.toml");
    std::fs::write(&file, "[database]\nstatement_timout = \"5s\"\n").unwrap();
    let out = run(fleetdeck(home.path()).arg("doctor").arg("--config").arg(&file)).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("unknown key `database.statement_timout`"), "{stderr}");
    assert!(stderr.contains("bad.toml") && stderr.contains("statement_timeout"), "{stderr}");

    let out = run(fleetdeck(home.path()).arg("doctor").env("FLEETDECK_DATABASE__STATEMENT_TIMEOUT", "soon")).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("`database.statement_timeout` = \"soon\" in the environment"), "{stderr}");
}

#[tokio::test]
async fn missing_server_programs_get_one_message_and_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let out = run(fleetdeck(home.path()).arg("doctor").env("FLEETDECK_DATABASE__POSTGRES_BIN", home.path())).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("could not find the PostgreSQL server programs"), "{all}");
    assert!(all.contains("apt-get install postgresql") && all.contains("DATABASE_URL"), "{all}");

    // The dashboard says the same, once, on stderr.
    let out = run(fleetdeck(home.path()).env("FLEETDECK_DATABASE__POSTGRES_BIN", home.path())).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.matches("could not find the PostgreSQL server programs").count(), 1, "{stderr}");
}

#[tokio::test]
async fn version_help_and_completions() {
    let home = tempfile::tempdir().unwrap();
    let out = run(fleetdeck(home.path()).arg("--version")).await;
    assert_eq!(text(&out).0.trim(), format!("fleetdeck {}", env!("CARGO_PKG_VERSION")));
    let out = run(fleetdeck(home.path()).arg("--help")).await;
    let help = text(&out).0;
    for word in ["migrate", "doctor", "completions", "--as <EMAIL>", "--config <FILE>"] {
        assert!(help.contains(word), "{word}: {help}");
    }
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef fleetdeck"), ("fish", "complete -c fleetdeck")] {
        let out = run(fleetdeck(home.path()).args(["completions", shell])).await;
        assert!(out.status.success());
        assert!(text(&out).0.contains(marker), "{shell}");
    }
}

/// The dashboard in a real pseudo-terminal: shows the four tabs, switches, quits on `q` and
/// gives the terminal back.
#[tokio::test]
async fn the_dashboard_shows_four_tabs_and_quits_on_q_restoring_the_terminal() {
    let db = TestDb::new().await;
    let home = tempfile::tempdir().unwrap();
    let url = db.url();
    let home_path = home.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let pair =
            native_pty_system().openpty(PtySize { rows: 24, cols: 100, pixel_width: 0, pixel_height: 0 }).unwrap();
        let mut cmd = CommandBuilder::new(BIN);
        cmd.env("DATABASE_URL", url);
        cmd.env("TERM", "xterm-256color");
        cmd.env("XDG_CONFIG_HOME", home_path.join("config"));
        cmd.env("XDG_STATE_HOME", home_path.join("state"));
        let mut child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let mut writer = pair.master.take_writer().unwrap();
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = bytes.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let screen = |bytes: &Arc<Mutex<Vec<u8>>>| {
            let mut parser = vt100::Parser::new(24, 100, 0);
            parser.process(&bytes.lock().unwrap());
            parser.screen().contents()
        };
        let wait_for = |what: &str| {
            let start = Instant::now();
            loop {
                let s = screen(&bytes);
                if s.contains(what) {
                    return s;
                }
                assert!(start.elapsed() < Duration::from_secs(20), "waited for {what:?}; screen:\n{s}");
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        let first = wait_for("4 Executions");
        for tab in ["1 Marketplace", "2 Fleet", "3 Rollouts", "4 Executions"] {
            assert!(first.contains(tab), "{tab}: {first}");
        }
        writer.write_all(b"3").unwrap();
        wait_for("The Rollouts pane");
        writer.write_all(b"q").unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "did not quit on q");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status:?}");
        std::thread::sleep(Duration::from_millis(100));
        let raw = bytes.lock().unwrap().clone();
        let raw = String::from_utf8_lossy(&raw);
        let entered = raw.find("\u{1b}[?1049h").expect("entered the alternate screen");
        let left = raw.rfind("\u{1b}[?1049l").expect("left the alternate screen");
        assert!(left > entered);
        assert!(raw.rfind("\u{1b}[?25h").is_some_and(|shown| shown > entered), "cursor shown again");
    })
    .await
    .unwrap();
}

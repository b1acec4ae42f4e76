//! End to end: the real binary, as a person or a script runs it.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use fleetdeck::testing::TestDb;

use crate::embedded::shared_tempdir;
use crate::fixtures::user;
use crate::pty::{run_in_pty, Pty};

const BIN: &str = env!("CARGO_BIN_EXE_fleetdeck");

/// The binary with an environment of its own: no user config, logs in `home`.
pub(crate) fn fleetdeck(home: &Path) -> Command {
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
    cmd.envs(fleetdeck::testing::child_env());
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

    let (url, home_path) = (db.url(), home.path().to_path_buf());
    let (status, screen) = tokio::task::spawn_blocking(move || {
        let mut pty = Pty::spawn(&[], &home_path, &[("DATABASE_URL", url)]);
        let status = pty.wait_exit(Duration::from_secs(60));
        (status, pty.screen())
    })
    .await
    .unwrap();
    assert_eq!(status.exit_code(), 4, "not ready: {screen}");
    assert!(screen.contains("run `fleetdeck migrate`"), "{screen}");
    assert!(!screen.contains("Location:"), "a clear message, not a backtrace: {screen}");

    let out = run(fleetdeck(home.path()).arg("doctor").env("DATABASE_URL", db.url())).await;
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(8), "doctor finds problems on a database without the schema: {stdout}");
    assert!(stdout.contains("platform   MISSING"), "{stdout}");

    // The migrator's advisory lock needs a session: through a pooler, on database.direct_url.
    let migrate = || {
        let mut cmd = fleetdeck(home.path());
        cmd.arg("migrate").env("DATABASE_URL", db.url()).env("FLEETDECK_DATABASE__DIRECT_URL", db.direct_url());
        cmd
    };
    let out = run(&mut migrate()).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("applied {} migration(s)", fleetdeck::db::migrate::MIGRATOR.iter().count())),
        "{stdout}"
    );

    let out = run(&mut migrate()).await;
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

    let (code, screen) =
        run_in_pty(&["--as", "mallory@example.com"], home.path(), vec![("DATABASE_URL", db.url())]).await;
    assert_eq!(code, 2, "an unknown user is invalid: {screen}");
    assert!(screen.contains("platform user with email \"mallory@example.com\" not found"), "{screen}");
}

#[tokio::test]
async fn bad_configuration_is_named_and_exits_2() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("bad.toml");
    std::fs::write(&file, "[database]\nstatement_timout = \"5s\"\n").unwrap();
    let out = run(fleetdeck(home.path()).arg("doctor").arg("--config").arg(&file)).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("unknown key `database.statement_timout`"), "{stderr}");
    assert!(stderr.contains("bad.toml") && stderr.contains("statement_timeout"), "{stderr}");
    // Given by its absolute path, it is named by it (not as `../bad.toml`).
    let absolute = std::fs::canonicalize(&file).unwrap();
    assert!(stderr.contains(&absolute.display().to_string()), "{stderr}");

    let out = run(fleetdeck(home.path()).arg("doctor").env("FLEETDECK_DATABASE__STATEMENT_TIMEOUT", "soon")).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("`database.statement_timeout` = \"soon\" in the environment"), "{stderr}");
}

#[tokio::test]
async fn missing_server_programs_get_one_message_and_their_exit_code() {
    let home = tempfile::tempdir().unwrap();
    let out = run(fleetdeck(home.path()).arg("doctor").env("FLEETDECK_DATABASE__POSTGRES_BIN", home.path())).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(8), "doctor reports it as a problem");
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("could not find the PostgreSQL server programs"), "{all}");
    assert!(all.contains("apt-get install postgresql") && all.contains("DATABASE_URL"), "{all}");

    // The dashboard says the same, once.
    let bin = home.path().display().to_string();
    let (code, screen) = run_in_pty(&[], home.path(), vec![("FLEETDECK_DATABASE__POSTGRES_BIN", bin)]).await;
    assert_eq!(code, 4, "no server to be had: {screen}");
    assert_eq!(screen.matches("could not find the PostgreSQL server programs").count(), 1, "{screen}");
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

/// The dashboard in a real pseudo-terminal on demo data: shows the four tabs with their lists,
/// switches by number and by `:` command, filters, quits on `q` and gives the terminal back.
#[tokio::test]
async fn the_dashboard_shows_four_tabs_and_quits_on_q_restoring_the_terminal() {
    let db = TestDb::new().await;
    fleetdeck::import::demo::seed(&db.pool, fleetdeck::import::demo::Scale::Small, 1, chrono::Utc::now(), |_| {})
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let url = db.url();
    let home_path = home.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut pty = Pty::spawn(&[], &home_path, &[("DATABASE_URL", url)]);
        let first = pty.wait_for("Packages 300", Duration::from_secs(60));
        for tab in ["1 Marketplace", "2 Fleet", "3 Rollouts", "4 Executions", "Compute", "STARS"] {
            assert!(first.contains(tab), "{tab}: {first}");
        }
        pty.send(b"3");
        pty.wait_for("PROGRESS", Duration::from_secs(60));
        pty.send(b"4");
        pty.wait_for("DURATION", Duration::from_secs(60));
        pty.send(b":hosts\r");
        pty.wait_for("HOSTNAME", Duration::from_secs(60));
        pty.send(b"/=h0000\r");
        pty.wait_for("filter /=h0000", Duration::from_secs(60));
        pty.send(b"q");
        let status = pty.wait_exit(Duration::from_secs(60));
        assert!(status.success(), "{status:?}");
        assert!(pty.restored_terminal());
    })
    .await
    .unwrap();
}

/// `fleetdeck demo` on an empty database: migrates, seeds, simulates behind the dashboard, and
/// stops the simulator when the dashboard quits.
#[tokio::test]
async fn demo_migrates_seeds_simulates_and_stops_with_the_dashboard() {
    let db = TestDb::empty().await;
    let home = tempfile::tempdir().unwrap();
    let (url, direct) = (db.url(), db.direct_url());
    let home_path = home.path().to_path_buf();
    let pty = tokio::task::spawn_blocking(move || {
        // demo migrates: through a pooler, on the direct URL (the migrator's advisory lock).
        let env = [("DATABASE_URL", url), ("FLEETDECK_DATABASE__DIRECT_URL", direct)];
        let pty = Pty::spawn(&["demo", "--tick", "100ms"], &home_path, &env);
        pty.wait_for("demo, simulator running", Duration::from_secs(60));
        pty
    })
    .await
    .unwrap();
    let count = |sql: &'static str| {
        let pool = db.pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    assert_eq!(count("SELECT count(*) FROM edge.host").await, 300, "seeded the small demo");
    // The simulator queues new executions: wait for them (a condition, however slow the machine).
    let seeded = count("SELECT count(*) FROM platform.workflow_executions").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while count("SELECT count(*) FROM platform.workflow_executions").await <= seeded {
        assert!(Instant::now() < deadline, "the simulator queued nothing:\n{}", pty.screen());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pty = tokio::task::spawn_blocking(move || {
        let mut pty = pty;
        pty.send(b"q");
        let status = pty.wait_exit(Duration::from_secs(60));
        assert!(status.success(), "{status:?}\n{}", pty.screen());
        assert!(pty.restored_terminal());
        pty
    })
    .await
    .unwrap();
    drop(pty);
    let executions = count("SELECT count(*) FROM platform.workflow_executions").await;
    assert!(executions > seeded, "the simulator queued new executions: {executions}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        count("SELECT count(*) FROM platform.workflow_executions").await,
        executions,
        "and stopped with the dashboard"
    );
}

#[tokio::test]
async fn the_simulator_refuses_a_database_the_demo_did_not_fill() {
    let db = TestDb::new().await;
    user(&db.pool, "real@example.com").await;
    let home = tempfile::tempdir().unwrap();
    let out = run(fleetdeck(home.path()).arg("simulate").env("DATABASE_URL", db.url())).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "not allowed: {stderr}");
    assert!(stderr.contains("runs only on demo databases"), "{stderr}");
    let (url, direct, home_path) = (db.url(), db.direct_url(), home.path().to_path_buf());
    let (status, screen) = tokio::task::spawn_blocking(move || {
        let env = [("DATABASE_URL", url), ("FLEETDECK_DATABASE__DIRECT_URL", direct)];
        let mut pty = Pty::spawn(&["demo"], &home_path, &env);
        let status = pty.wait_exit(Duration::from_secs(60));
        (status, pty.screen())
    })
    .await
    .unwrap();
    assert_eq!(status.exit_code(), 2, "{screen}");
    assert!(screen.contains("runs only on demo databases"), "{screen}");
    let executions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM platform.workflow_executions").fetch_one(&db.pool).await.unwrap();
    assert_eq!(executions, 0);
}

#[tokio::test]
async fn the_dashboard_without_a_terminal_says_so_instead_of_crashing() {
    let db = TestDb::new().await;
    let home = tempfile::tempdir().unwrap();
    for args in [&[][..], &["demo"][..]] {
        let out = run(fleetdeck(home.path()).args(args).env("DATABASE_URL", db.url())).await;
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("the dashboard needs a terminal"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// A crash, SIGTERM and SIGHUP all give the terminal back; a click on a tab switches to it.
#[tokio::test]
async fn the_terminal_is_restored_after_a_panic_and_on_sigterm_and_sighup() {
    let db = TestDb::new().await;
    let home = tempfile::tempdir().unwrap();
    let (url, home_path) = (db.url(), home.path().to_path_buf());
    tokio::task::spawn_blocking(move || {
        let env = [("DATABASE_URL", url.clone())];
        let mut pty = Pty::spawn(&["--debug-panic"], &home_path, &env);
        let status = pty.wait_exit(Duration::from_secs(60));
        assert!(!status.success());
        assert!(pty.restored_terminal(), "{}", pty.raw());
        let raw = pty.raw();
        let left = raw.rfind("\u{1b}[?1049l").unwrap();
        let report = raw.find("forced panic").expect("the panic report is printed");
        assert!(report > left, "the report comes after the terminal is restored");
        assert!(
            raw.rfind("\u{1b}[?1000l").is_some_and(|off| off > raw.find("\u{1b}[?1000h").unwrap_or(0)),
            "mouse capture off"
        );

        for sig in [nix::sys::signal::Signal::SIGTERM, nix::sys::signal::Signal::SIGHUP] {
            let mut pty = Pty::spawn(&[], &home_path, &env);
            pty.wait_for("4 Executions", Duration::from_secs(60));
            // A click on the second tab's title (SGR mouse: button 0 at column 20, row 1).
            pty.send(b"\x1b[<0;20;1M\x1b[<0;20;1m");
            pty.wait_for("HOSTNAME", Duration::from_secs(60));
            pty.signal(sig);
            let status = pty.wait_exit(Duration::from_secs(60));
            assert_eq!(status.exit_code(), 128 + sig as u32, "{sig}: 128 + the signal's number");
            assert!(pty.restored_terminal(), "{sig}");
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn read_only_mode_refuses_the_commands_that_write() {
    let db = TestDb::new().await;
    let home = tempfile::tempdir().unwrap();
    for args in [&["--readonly", "migrate"][..], &["seed", "--demo", "--readonly"][..], &["--readonly", "simulate"][..]]
    {
        let out = run(fleetdeck(home.path()).args(args).env("DATABASE_URL", db.url())).await;
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("read-only mode") && stderr.contains("writes to the database"), "{stderr}");
    }
    let out = run(fleetdeck(home.path())
        .args(["seed", "--demo"])
        .env("DATABASE_URL", db.url())
        .env("FLEETDECK_READONLY", "true"))
    .await;
    assert_eq!(out.status.code(), Some(2), "readonly = true from the environment too");
    let hosts: i64 = sqlx::query_scalar("SELECT count(*) FROM edge.host").fetch_one(&db.pool).await.unwrap();
    assert_eq!(hosts, 0);
}

/// `fleetdeck exec …`: output for people and for scripts, and the exit codes scripts rely on.
#[tokio::test]
async fn exec_verbs_print_and_exit_with_their_codes() {
    let db = TestDb::new().await;
    let owner = user(&db.pool, "sre@example.com").await;
    let agent = crate::fixtures::agent(&db.pool, "billing-agent", "user", owner).await;
    let workflow = crate::fixtures::workflow(&db.pool, agent).await;
    let running = crate::fixtures::execution(&db.pool, workflow, agent, "running").await;
    let done = crate::fixtures::execution(&db.pool, workflow, agent, "completed").await;
    let home = tempfile::tempdir().unwrap();
    let exec = |args: Vec<String>| {
        let mut cmd = fleetdeck(home.path());
        cmd.arg("exec").args(args).env("DATABASE_URL", db.url());
        cmd
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    let out = run(&mut exec(s(&["list", "--status", "running", "--output", "json"]))).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["id"], running.to_string());
    assert_eq!(rows[0]["agent"], "billing-agent");
    let out = run(&mut exec(s(&["list"]))).await;
    let (stdout, _) = text(&out);
    assert!(stdout.starts_with("ID") && stdout.contains("STATUS") && stdout.lines().count() == 3, "{stdout}");

    let out = run(&mut exec(vec!["show".into(), done.to_string(), "--output".into(), "json".into()])).await;
    let detail: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!((detail["status"].as_str(), detail["workflow"].as_str()), (Some("completed"), Some("wf")));

    // Done: 0, the change printed on stdout.
    let out = run(&mut exec(vec!["pause".into(), running.to_string()])).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out).0.contains("running → paused"));
    // Not allowed in this state, unknown id, bad id, bad filter: 2, the reason on stderr.
    for args in [
        vec!["pause".to_string(), done.to_string()],
        vec!["cancel".to_string(), uuid::Uuid::new_v4().to_string()],
        vec!["resume".to_string(), "nope".to_string()],
        vec!["list".to_string(), "--status".to_string(), "stuck".to_string()],
        vec!["show".to_string(), uuid::Uuid::new_v4().to_string()],
    ] {
        let out = run(&mut exec(args.clone())).await;
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stdout.is_empty() && stderr.starts_with("fleetdeck: "), "{args:?}: {stderr}");
    }
    let out = run(&mut exec(vec!["pause".into(), done.to_string()])).await;
    assert!(text(&out).1.contains("cannot pause a completed execution (only running)"));
    // Several: each reported, the worst code wins, a summary on stderr.
    let out =
        run(&mut exec(vec!["cancel".into(), running.to_string(), done.to_string(), "--reason".into(), "x".into()]))
            .await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout.contains("paused → cancelled") && stderr.contains("1 cancelled, 1 skipped: completed"), "{stderr}");

    // The database is not there: 4.
    let mut cmd = fleetdeck(home.path());
    cmd.args(["exec", "list"]).env("DATABASE_URL", "postgres://nobody@127.0.0.1:9/none");
    let out = run(&mut cmd).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out).1);
}

/// Someone else changes the execution while `exec pause` waits for it: exit 3, the winner named.
#[tokio::test]
async fn exec_reports_a_lost_race_with_exit_3() {
    use sqlx::Connection;
    let db = TestDb::new().await;
    let owner = user(&db.pool, "sre@example.com").await;
    let agent = crate::fixtures::agent(&db.pool, "a", "user", owner).await;
    let workflow = crate::fixtures::workflow(&db.pool, agent).await;
    let id = crate::fixtures::execution(&db.pool, workflow, agent, "running").await;
    let mut other = sqlx::PgConnection::connect_with(&db.direct_options()).await.unwrap();
    let mut tx = other.begin().await.unwrap();
    sqlx::query("UPDATE platform.workflow_executions SET status = 'cancelled' WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = fleetdeck(home.path());
    cmd.args(["exec", "pause", &id.to_string()]).env("DATABASE_URL", db.url());
    let pause = tokio::task::spawn_blocking(move || cmd.output().unwrap());
    // Let the pause read "running" and wait on the row, then let the cancel win.
    let waiting = async {
        loop {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
            )
            .fetch_one(&db.pool)
            .await
            .unwrap();
            if n > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), waiting).await.expect("the pause waits on the row");
    tx.commit().await.unwrap();
    let out = pause.await.unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("changed by someone else first (now cancelled)"), "{stderr}");
}

#[tokio::test]
async fn fleet_agent_activate_and_deactivate_from_the_command_line() {
    let db = TestDb::new().await;
    let a = crate::fixtures::cluster_agent(&db.pool, "edge-1", "prod-eu").await;
    let home = tempfile::tempdir().unwrap();
    let fleet = |args: &[&str]| {
        let mut cmd = fleetdeck(home.path());
        cmd.arg("fleet").args(args).env("DATABASE_URL", db.url());
        cmd
    };
    let id = a.to_string();
    let out = run(&mut fleet(&["agent", "activate", &id])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(text(&out).0.contains("inactive → active"));
    let out = run(&mut fleet(&["agent", "activate", &id])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("already active"));
    let out = run(&mut fleet(&["agent", "deactivate", &id])).await;
    assert_eq!(out.status.code(), Some(0));
    let out = run(&mut fleet(&["agent", "deactivate", "x"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("\"x\" is not an id"));
    let out = run(&mut fleet(&["agent", "activate", &uuid::Uuid::new_v4().to_string()])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("no such agent"));
    let status: String =
        sqlx::query_scalar("SELECT status FROM broker.agents WHERE id = $1").bind(a).fetch_one(&db.pool).await.unwrap();
    assert_eq!(status, "INACTIVE");
}

/// `fleetdeck fleet hosts|agents`: lists for people and scripts, filtered by health (judged now
/// by the [health] thresholds), with bad filters named; `fleet … delete` soft-deletes.
#[tokio::test]
async fn fleet_lists_hosts_and_agents_by_health_and_deletes() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    sqlx::query(
        "WITH o AS (INSERT INTO edge.orchestrator (name) VALUES ('central') RETURNING id), \
         s AS (INSERT INTO edge.site (site_id, orchestrator_id) SELECT 'berlin-1', id FROM o RETURNING id) \
         INSERT INTO edge.host (host_id, site_id, hostname, ip_address, status, last_heartbeat, metadata) \
         SELECT x.n, s.id, x.n, '10.0.0.' || x.i, 'Active', now() - make_interval(secs => x.age), \
                '{\"architecture\": \"arm64\", \"cores\": 4}' \
           FROM s, (VALUES ('fresh', 1, 5), ('late', 2, 120), ('gone', 3, 900)) AS x(n, i, age)",
    )
    .execute(pool)
    .await
    .unwrap();
    let a = crate::fixtures::cluster_agent(pool, "edge-1", "prod-eu").await;
    sqlx::query("UPDATE broker.agents SET status = 'ACTIVE', last_heartbeat = now() WHERE id = $1")
        .bind(a)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO broker.agent_labels (agent_id, label) VALUES ($1, 'env:prod')")
        .bind(a)
        .execute(pool)
        .await
        .unwrap();
    crate::fixtures::cluster_agent(pool, "edge-2", "prod-us").await;
    let home = tempfile::tempdir().unwrap();
    let fleet = |args: &[&str]| {
        let mut cmd = fleetdeck(home.path());
        cmd.arg("fleet").args(args).env("DATABASE_URL", db.url());
        cmd
    };

    let out = run(&mut fleet(&["hosts"])).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("ID") && lines[0].contains("HOSTNAME") && lines[0].contains("HEALTH"), "{stdout}");
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[1].contains("fresh") && lines[1].contains("10.0.0.1") && lines[1].contains("healthy"), "{stdout}");
    assert!(lines.iter().any(|l| l.contains("late") && l.contains("stale") && l.contains("2m")), "{stdout}");
    assert_eq!(stderr.trim(), "3 of 3 hosts");

    let out = run(&mut fleet(&["hosts", "--health", "OFFLINE", "--output", "json"])).await;
    let rows: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0]["hostname"].as_str(), rows[0]["health"].as_str()), (Some("gone"), Some("offline")));
    assert_eq!(
        (rows[0]["site"].as_str(), rows[0]["arch"].as_str(), rows[0]["cores"].as_f64()),
        (Some("berlin-1"), Some("arm64"), Some(4.0))
    );
    let heartbeat = rows[0]["heartbeat"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(heartbeat).is_ok(), "{heartbeat}");

    let out = run(&mut fleet(&["hosts", "--orchestrator", "central", "--name", "fr"])).await;
    assert_eq!(text(&out).1.trim(), "1 of 1 hosts");

    let out = run(&mut fleet(&["agents", "--health", "healthy", "--output", "json"])).await;
    let rows: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["name"], "edge-1");
    assert_eq!((rows[0]["stacks"].as_i64(), rows[0]["pending"].as_i64()), (Some(0), Some(0)));
    assert_eq!(rows[0]["last_event"], serde_json::Value::Null);
    let out = run(&mut fleet(&["agents", "--label", "env:prod"])).await;
    assert_eq!(text(&out).1.trim(), "1 of 1 cluster agents");
    let out = run(&mut fleet(&["agents", "--cluster", "prod-us", "--health", "offline"])).await;
    assert!(text(&out).0.contains("edge-2"), "{}", text(&out).0);

    // Bad filters: exit 2, the flag named, nothing on stdout.
    for (args, message) in [
        (
            vec!["hosts", "--health", "sick"],
            "--health: \"sick\" is not a health (one of healthy, stale, offline, maintenance)",
        ),
        (vec!["agents", "--status", "busy"], "--status: \"busy\" is not a status (one of active, inactive)"),
        (vec!["agents", "--label", "a b"], "--label: -l a b: labels and annotations have no spaces"),
        (vec!["agents", "--label", "x", "--name", "y"], "--label and --name cannot be used together"),
    ] {
        let out = run(&mut fleet(&args)).await;
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stdout.is_empty(), "{stdout}");
        assert_eq!(stderr.trim(), format!("fleetdeck: {message}"), "{args:?}");
    }

    // Soft delete, with the reason in the audit log; a second time is refused.
    let id = a.to_string();
    let out = run(&mut fleet(&["agent", "delete", &id, "--reason", "retired"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(text(&out).0.contains("active → deleted"), "{}", text(&out).0);
    let out = run(&mut fleet(&["agent", "delete", &id])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("already deleted"), "{}", text(&out).1);
    let out = run(&mut fleet(&["agents"])).await;
    assert_eq!(text(&out).1.trim(), "1 of 1 cluster agents");
    let reason: String =
        sqlx::query_scalar("SELECT reason FROM fleetdeck.audit_log WHERE verb = 'delete' AND outcome = 'ok'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(reason, "retired");
    let out = run(&mut fleet(&["--readonly", "host", "delete", &uuid::Uuid::new_v4().to_string()])).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out).1.trim(),
        "fleetdeck: read-only mode (--readonly or readonly = true): `fleetdeck fleet host delete` writes to the \
         database; run it without read-only mode"
    );
    let out = run(&mut fleet(&["--readonly", "agents"])).await;
    assert_eq!(out.status.code(), Some(0), "lists work read-only: {}", text(&out).1);
}

/// `fleetdeck rollout`: `status` exits 0 all SUCCESS, 1 pending, 2 any FAILURE (for CI);
/// `submit` checks the file first and names the line; `list` for people and scripts.
#[tokio::test]
async fn rollout_status_exit_codes_and_submit() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let g = crate::fixtures::generator(pool, "gen").await;
    let stack = crate::fixtures::stack(pool, "web", g).await;
    let agent = crate::fixtures::cluster_agent(pool, "edge-1", "prod-eu").await;
    sqlx::query("UPDATE broker.agents SET status = 'ACTIVE', last_heartbeat = now() WHERE id = $1")
        .bind(agent)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO broker.agent_targets (agent_id, stack_id) VALUES ($1, $2)")
        .bind(agent)
        .bind(stack)
        .execute(pool)
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let rollout = |args: &[&str]| {
        let mut cmd = fleetdeck(home.path());
        cmd.arg("rollout").args(args).env("DATABASE_URL", db.url());
        cmd
    };

    let good = home.path().join("web.yaml");
    std::fs::write(&good, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n").unwrap();
    let bad = home.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels: {}\n").unwrap();
    let out = run(&mut rollout(&["submit", "web", bad.to_str().unwrap()])).await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out).1.trim(),
        format!("fleetdeck: {}: line 3, column 1: document 1 has no metadata.name", bad.display())
    );
    let out = run(&mut rollout(&["submit", "web", good.to_str().unwrap()])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(text(&out).0.contains("submitted") && text(&out).0.contains("Deployment/web"), "{}", text(&out).0);

    // In progress: 5.
    let out = run(&mut rollout(&["status", "web"])).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stdout.contains("in-progress: 1 pending") && stdout.contains("edge-1"), "{stdout}");
    let object: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM broker.deployment_objects WHERE stack_id = $1 ORDER BY sequence_id DESC LIMIT 1",
    )
    .bind(stack)
    .fetch_one(pool)
    .await
    .unwrap();
    // Failure: 6, the message shown.
    sqlx::query(
        "INSERT INTO broker.agent_events (agent_id, deployment_object_id, event_type, status, message) \
         VALUES ($1, $2, 'DEPLOY', 'FAILURE', 'CrashLoopBackOff')",
    )
    .bind(agent)
    .bind(object)
    .execute(pool)
    .await
    .unwrap();
    let out = run(&mut rollout(&["status", "web"])).await;
    assert_eq!(out.status.code(), Some(6), "failing");
    assert!(text(&out).0.contains("CrashLoopBackOff"), "{}", text(&out).0);
    // All SUCCESS: 0; JSON for scripts.
    crate::fixtures::event(pool, agent, object, "SUCCESS").await;
    let out = run(&mut rollout(&["status", "web", "--output", "json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let v: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!((v["state"].as_str(), v["progress"]["success"].as_i64()), (Some("complete"), Some(1)));
    assert_eq!(v["agents"][0]["name"], "edge-1");

    let out = run(&mut rollout(&["list"])).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.lines().nth(1).is_some_and(|l| l.starts_with("web") && l.contains("complete") && l.contains("1 ✓")),
        "{stdout}"
    );

    // Unknown stack: 2; read-only refuses submit before any database work.
    let out = run(&mut rollout(&["status", "nope"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("stack \"nope\" not found"), "{}", text(&out).1);
    let out = run(&mut rollout(&["--readonly", "submit", "web", good.to_str().unwrap()])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("`fleetdeck rollout submit` writes"), "{}", text(&out).1);
    for verb in [&["resubmit", "web"][..], &["target", "web", "--remove", &agent.to_string()], &["delete", "web"]] {
        let mut args = vec!["--readonly"];
        args.extend_from_slice(verb);
        let out = run(&mut rollout(&args)).await;
        assert_eq!(out.status.code(), Some(2), "{verb:?}");
        assert!(text(&out).1.contains(&format!("`fleetdeck rollout {}` writes", verb[0])), "{}", text(&out).1);
    }

    // Re-submit: a new object with the same checksum.
    let out = run(&mut rollout(&["resubmit", "web"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(
        text(&out).0.contains("submitted sequence") && text(&out).0.contains("again as sequence"),
        "{}",
        text(&out).0
    );
    // Targets: a bad id is named before the database; removing the only target leaves the stack
    // reaching nobody; adding it back.
    let out = run(&mut rollout(&["target", "web", "--add", "edge-1"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("--add: \"edge-1\" is not an id"), "{}", text(&out).1);
    let out = run(&mut rollout(&["target", "web"])).await;
    assert_eq!(out.status.code(), Some(2), "nothing asked");
    let out = run(&mut rollout(&["target", "web", "--remove", &agent.to_string()])).await;
    assert_eq!(
        (out.status.code(), text(&out).0.trim()),
        (Some(0), "web: 0 target(s) added, 1 removed"),
        "{}",
        text(&out).1
    );
    let out = run(&mut rollout(&["status", "web"])).await;
    assert_eq!(out.status.code(), Some(7), "no agent reached: unreached, never complete");
    assert!(text(&out).0.contains("unreached: no agent reached"), "{}", text(&out).0);
    let out = run(&mut rollout(&["status", "web", "--output", "json"])).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["state"], "unreached", "{json}");
    let out = run(&mut rollout(&["target", "web", "--add", &agent.to_string()])).await;
    assert_eq!(text(&out).0.trim(), "web: 1 target(s) added, 0 removed");
    // Delete: once; the second time the name is no live stack.
    let out = run(&mut rollout(&["delete", "web", "--reason", "retired"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_eq!(text(&out).0.trim(), format!("{stack}: live → deleted"));
    let out = run(&mut rollout(&["delete", "web"])).await;
    assert_eq!(out.status.code(), Some(2));
    let out = run(&mut rollout(&["delete", &stack.to_string()])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("already deleted"), "{}", text(&out).1);
    let marker: bool = sqlx::query_scalar(
        "SELECT is_deletion_marker FROM broker.deployment_objects WHERE stack_id = $1 AND deleted_at IS NULL",
    )
    .bind(stack)
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(marker, "the deletion marker is the only live object");
}

/// `market search`: the pane's ranking for scripts (table and JSON), facets checked by name,
/// `--everywhere` searching READMEs on the server, exit 1 when nothing matches.
#[tokio::test]
async fn market_search_ranks_filters_by_facet_and_searches_everywhere() {
    let db = TestDb::new().await;
    fleetdeck::import::demo::seed(&db.pool, fleetdeck::import::demo::Scale::Small, 3, chrono::Utc::now(), |_| {})
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let search = |args: &[&str]| {
        let mut cmd = fleetdeck(home.path());
        cmd.env("DATABASE_URL", db.url()).args(["market", "search"]).args(args);
        cmd
    };
    let out = run(&mut search(&["argo", "--output", "json"])).await;
    assert!(out.status.success(), "{out:?}");
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = found.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(names[0].starts_with("argo"), "{names:?}");
    assert!(found[0]["columns"]["repository"].is_string());
    // A facet narrows; an unknown one is named.
    let out = run(&mut search(&["", "--facet", "repository=argoproj", "--sort", "name"])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let rows: Vec<&str> = stdout.lines().skip(1).collect();
    assert!(!rows.is_empty() && rows.iter().all(|r| r.contains("argoproj")), "{stdout}");
    let out = run(&mut search(&["x", "--facet", "flavour=mint"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("no facet \"flavour\""), "{}", text(&out).1);
    let out = run(&mut search(&["x", "--facet", "nonsense"])).await;
    assert!(text(&out).1.contains("FACET=VALUE"));
    // Nothing matches: exit 1; the server search reads READMEs the fuzzy match does not.
    let out = run(&mut search(&["zzqqxx"])).await;
    assert_eq!(out.status.code(), Some(1));
    let fuzzy = run(&mut search(&["kubectl", "--output", "json"])).await;
    let fuzzy: serde_json::Value = serde_json::from_slice(&fuzzy.stdout).unwrap_or(serde_json::json!([]));
    let everywhere = run(&mut search(&["kubectl", "--everywhere", "--output", "json", "--limit", "500"])).await;
    assert!(everywhere.status.success());
    let everywhere: serde_json::Value = serde_json::from_slice(&everywhere.stdout).unwrap();
    assert!(everywhere.as_array().unwrap().len() > fuzzy.as_array().unwrap().len());
    // Other kinds, and `%` and `_` as plain text on the server.
    for kind in ["apps", "solutions", "agents", "instances"] {
        let out = run(&mut search(&["a", "--kind", kind, "--limit", "3"])).await;
        assert!(out.status.success(), "{kind}: {}", text(&out).1);
    }
    let out = run(&mut search(&["100%_", "--everywhere", "--kind", "instances"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out).0);
}

//! Issue 23, what a new user hit in the first hour: the verbs' contract for scripts (exit codes,
//! short ids, closed pipes, an unreachable database said at once).

use std::process::{Command, Stdio};

use fleetdeck::testing::TestDb;

use crate::cli::fleetdeck;
use crate::fixtures::{agent, execution, user, workflow};

/// Run `cmd` with its standard output a pipe whose reader is already gone: (exit code, stderr).
fn with_closed_stdout(mut cmd: Command) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = cmd.stdout(writer).stderr(Stdio::piped()).stdin(Stdio::null()).spawn().unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

async fn output(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

#[tokio::test]
async fn every_verb_that_prints_ends_quietly_when_its_reader_goes_away() {
    let db = TestDb::new().await;
    let owner = user(&db.pool, "pipe@example.com").await;
    let a = agent(&db.pool, "pipe-agent", "user", owner).await;
    let w = workflow(&db.pool, a).await;
    let e = execution(&db.pool, w, a, "running").await;
    let stack = {
        let g = crate::fixtures::generator(&db.pool, "gen").await;
        crate::fixtures::stack(&db.pool, "piped", g).await;
        "piped"
    };
    let home = tempfile::tempdir().unwrap();
    let margo_file =
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/margo/acme-vision-inspector.yaml"));
    let verbs: Vec<Vec<String>> = [
        vec!["completions", "bash"],
        vec!["--help"],
        vec!["--version"],
        vec!["doctor"],
        vec!["migrate"],
        vec!["exec", "list"],
        vec!["exec", "list", "--output", "json"],
        vec!["exec", "show", &e.to_string()],
        vec!["fleet", "hosts"],
        vec!["fleet", "agents", "--output", "json"],
        vec!["rollout", "list"],
        vec!["rollout", "status", stack],
        vec!["market", "search", ""],
        vec!["import", "margo", margo_file.to_str().unwrap()],
        vec!["exec", "pause", &e.to_string()],
    ]
    .iter()
    .map(|v| v.iter().map(|s| s.to_string()).collect())
    .collect();
    for args in verbs {
        let mut cmd = fleetdeck(home.path());
        // migrate's advisory lock: through a pooler, on the direct URL.
        cmd.args(&args).env("DATABASE_URL", db.url()).env("FLEETDECK_DATABASE__DIRECT_URL", db.direct_url());
        let (code, stderr) = tokio::task::spawn_blocking(move || with_closed_stdout(cmd)).await.unwrap();
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert!(!stderr.contains('\u{1b}'), "{args:?}: no colour codes into a pipe: {stderr:?}");
        assert_ne!(code, Some(101), "{args:?}: {stderr}");
        // The verb did its work and said so by its code, as with an open pipe (rollout status:
        // the stack reaches nobody).
        let expected = match args[0].as_str() {
            "rollout" if args[1] == "status" => 7,
            "market" => 1, // nothing matched: there are no packages
            _ => 0,
        };
        assert_eq!(code, Some(expected), "{args:?}: {stderr}");
    }
    let status: String = sqlx::query_scalar("SELECT status FROM platform.workflow_executions WHERE id = $1")
        .bind(e)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(status, "paused", "the verb acted even though no one read what it said");
}

#[tokio::test]
async fn an_unreachable_database_is_said_at_once_with_its_cause() {
    let home = tempfile::tempdir().unwrap();
    // A long acquire timeout: the cause must come from the first attempt, not from waiting it out.
    for args in [&["exec", "list"][..], &["rollout", "status", "web"], &["fleet", "hosts"]] {
        let mut cmd = fleetdeck(home.path());
        cmd.args(args)
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/x")
            .env("FLEETDECK_DATABASE__ACQUIRE_TIMEOUT", "3s");
        let out = output(cmd).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(stderr.contains("connection refused"), "{args:?}: {stderr}");
        assert!(stderr.contains("127.0.0.1:1"), "{args:?}: the address is named: {stderr}");
        assert!(!stderr.contains("pool timed out"), "{args:?}: {stderr}");
    }
    // A name that does not resolve says so.
    let mut cmd = fleetdeck(home.path());
    cmd.args(["exec", "list"]).env("DATABASE_URL", "postgres://nobody@no-such-host.invalid/x");
    let out = output(cmd).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(!stderr.contains("pool timed out"), "{stderr}");
}

#[tokio::test]
async fn ids_shown_on_screen_are_taken_as_unique_prefixes() {
    let db = TestDb::new().await;
    let owner = user(&db.pool, "short@example.com").await;
    let a = agent(&db.pool, "short-agent", "user", owner).await;
    let w = workflow(&db.pool, a).await;
    let e = execution(&db.pool, w, a, "running").await;
    // Two executions whose ids share their first 8 characters.
    for id in ["abcd1234-0000-4000-8000-000000000001", "abcd1234-0000-4000-8000-000000000002"] {
        sqlx::query(
            "INSERT INTO platform.workflow_executions (id, workflow_id, agent_id, status, correlation_id) \
             VALUES ($1::uuid, $2, $3, 'running', gen_random_uuid())",
        )
        .bind(id)
        .bind(w)
        .bind(a)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let exec = |args: &[&str]| {
        let mut cmd = fleetdeck(home.path());
        cmd.arg("exec").args(args).env("DATABASE_URL", db.url());
        cmd
    };
    let short = &e.to_string()[..8];
    let out = output(exec(&["show", short, "--output", "json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let detail: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(detail["id"], e.to_string(), "the whole id comes back");
    let out = output(exec(&["pause", short, "--reason", "by prefix"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{e}: running → paused")));

    // Ambiguous: refused, naming the candidates; nothing changed.
    let out = output(exec(&["cancel", "abcd1234"])).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ambiguous"), "{stderr}");
    assert!(
        stderr.contains("abcd1234-0000-4000-8000-000000000001")
            && stderr.contains("abcd1234-0000-4000-8000-000000000002"),
        "{stderr}"
    );
    let running: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM platform.workflow_executions WHERE id::text LIKE 'abcd1234%' AND status = 'running'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(running, 2);
    // More of it is unique.
    let out = output(exec(&["cancel", "abcd1234-0000-4000-8000-00000000000"])).await;
    assert_eq!(out.status.code(), Some(2), "still two");
    let out = output(exec(&["cancel", "abcd1234-0000-4000-8000-000000000001"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // No match, too short, not hex.
    let out = output(exec(&["show", "ffff0000"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("execution \"ffff0000\" not found"));
    let out = output(exec(&["show", "abc"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("too short"));
    let out = output(exec(&["pause", "xyz!"])).await;
    assert_eq!(out.status.code(), Some(2));

    // Hosts and agents take prefixes too.
    let cluster_agent = crate::fixtures::cluster_agent(&db.pool, "edge-short", "c1").await;
    let mut cmd = fleetdeck(home.path());
    cmd.args(["fleet", "agent", "activate", &cluster_agent.to_string()[..8]]).env("DATABASE_URL", db.url());
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let status: String = sqlx::query_scalar("SELECT status FROM broker.agents WHERE id = $1")
        .bind(cluster_agent)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(status, "ACTIVE");
}

#[test]
fn the_readme_has_the_one_table_of_exit_codes() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let codes: Vec<u8> = fleetdeck::cli::exit::TABLE.iter().map(|(c, _)| *c).collect();
    let mut unique = codes.clone();
    unique.dedup();
    assert_eq!(codes, unique, "no code means two things");
    for (code, meaning) in fleetdeck::cli::exit::TABLE {
        let row = format!("| {code} | {meaning} |");
        assert!(readme.contains(&row), "README.md lacks the row {row:?}");
    }
}

/// `:readonly` in `fleetdeck demo` replaces the dashboard's pool; the simulator has its own and
/// keeps the demo moving, and the status bar says so.
#[tokio::test]
async fn the_demos_simulator_survives_read_only_mode_and_the_status_bar_says_what_it_does() {
    let db = TestDb::empty().await;
    let home = tempfile::tempdir().unwrap();
    let (url, direct) = (db.url(), db.direct_url());
    let home_path = home.path().to_path_buf();
    let pool = db.pool.clone();
    let count = move || {
        let pool = pool.clone();
        tokio::runtime::Handle::current().block_on(async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM platform.workflow_executions")
                .fetch_one(&pool)
                .await
                .unwrap()
        })
    };
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let _guard = handle.enter();
        let env = [("DATABASE_URL", url), ("FLEETDECK_DATABASE__DIRECT_URL", direct)];
        let mut pty = crate::pty::Pty::spawn(&["demo", "--tick", "100ms"], &home_path, &env);
        pty.wait_for("demo, simulator running", std::time::Duration::from_secs(60));
        pty.send(b":readonly\r");
        pty.wait_for("read-only mode on", std::time::Duration::from_secs(60));
        let before = count();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while count() <= before + 5 {
            assert!(std::time::Instant::now() < deadline, "the simulator stopped:\n{}", pty.screen());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let screen = pty.screen();
        assert!(screen.contains("demo, simulator running") && screen.contains("READONLY"), "{screen}");
        // Off again (it was switched on here, not at start).
        pty.send(b":readonly\r");
        pty.wait_for("read-only mode off", std::time::Duration::from_secs(60));
        pty.send(b"q");
        let status = pty.wait_exit(std::time::Duration::from_secs(60));
        assert!(status.success(), "{status:?}");
    })
    .await
    .unwrap();
    let log = std::fs::read_to_string(home.path().join("state/fleetdeck/fleetdeck.log")).unwrap();
    assert!(!log.contains("simulator tick failed"), "{log}");
}

#[test]
fn the_simulators_status_is_said_as_it_is() {
    use fleetdeck::sim::Status;
    assert_eq!(Status::Running.describe(), "simulator running");
    assert!(Status::Failing { error: "connection refused".into() }.describe().starts_with("simulator failing"));
    assert_eq!(
        Status::Stopped { why: "the dashboard quit".into() }.describe(),
        "simulator stopped: the dashboard quit"
    );
}

/// Started read-only, `:readonly` cannot switch it off, and says why.
#[tokio::test]
async fn read_only_from_the_start_is_a_lock() {
    let db = TestDb::new().await;
    let home = tempfile::tempdir().unwrap();
    for env in [vec![("FLEETDECK_READONLY", "true".to_string())], vec![]] {
        let args: &[&str] = if env.is_empty() { &["--readonly"] } else { &[] };
        let mut env = env;
        env.push(("DATABASE_URL", db.url()));
        let home_path = home.path().to_path_buf();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut pty = crate::pty::Pty::spawn(&args, &home_path, &env);
            pty.wait_for("READONLY", std::time::Duration::from_secs(60));
            pty.send(b":readonly\r");
            let screen = pty.wait_for("read-only mode is locked", std::time::Duration::from_secs(60));
            assert!(screen.contains("READONLY"), "{screen}");
            assert!(!screen.contains("read-only mode off"), "{screen}");
            pty.send(b"q");
            pty.wait_exit(std::time::Duration::from_secs(60));
        })
        .await
        .unwrap();
    }
}

/// Sorted by DURATION, an execution in flight counts by its duration so far.
#[tokio::test]
async fn executions_in_flight_sort_by_their_duration_so_far() {
    use fleetdeck::service::listing::{self, Entity, PageAt, Query};
    let db = TestDb::new().await;
    let owner = user(&db.pool, "dur@example.com").await;
    let a = agent(&db.pool, "dur-agent", "user", owner).await;
    let w = workflow(&db.pool, a).await;
    let mut ids = Vec::new();
    for (status, started, completed) in [
        ("running", "1 hour", None),
        ("completed", "2 hours", Some("2 hours - 10 seconds")),
        ("running", "1 second", None),
        ("queued", "", None),
    ] {
        let id = execution(&db.pool, w, a, status).await;
        if !started.is_empty() {
            sqlx::query(&format!(
                "UPDATE platform.workflow_executions SET started_at = now() - interval '{started}', \
                 completed_at = {} WHERE id = $1",
                completed.map_or("NULL".to_string(), |c| format!("now() - interval '{c}'"))
            ))
            .bind(id)
            .execute(&db.pool)
            .await
            .unwrap();
        }
        ids.push(id.to_string());
    }
    let duration = listing::columns(Entity::Executions).iter().position(|c| *c == "DURATION").unwrap();
    let query = Query { sort: duration, descending: true, ..Query::new(Entity::Executions) };
    let page = listing::page(&db.pool, Entity::Executions, &query, &PageAt::First, 10).await.unwrap();
    let order: Vec<&str> = page.rows.iter().map(|r| r.cursor.id.as_str()).collect();
    assert_eq!(order, [&ids[0], &ids[1], &ids[2], &ids[3]], "1 h running, 10 s done, 1 s running, not started");
    // The next page from a cursor in the middle continues in the same order.
    let after = PageAt::After(page.rows[1].cursor.clone());
    let rest = listing::page(&db.pool, Entity::Executions, &query, &after, 10).await.unwrap();
    let rest: Vec<&str> = rest.rows.iter().map(|r| r.cursor.id.as_str()).collect();
    assert_eq!(rest, [&ids[2], &ids[3]]);
}

/// Shared-core compute offers (gcp e2-micro: 0.25 vCPU in the source) show their share.
#[tokio::test]
async fn a_shared_core_shows_its_share_not_zero() {
    let db = TestDb::new().await;
    let home = tempfile::tempdir().unwrap();
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/cloud/instances.jsonl");
    let mut cmd = fleetdeck(home.path());
    cmd.args(["import", "instances", file]).env("DATABASE_URL", db.url());
    assert!(output(cmd).await.status.success());
    let mut cmd = fleetdeck(home.path());
    cmd.args(["market", "search", "e2-micro", "--kind", "instances", "--output", "json"]).env("DATABASE_URL", db.url());
    let out = output(cmd).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let micro = json.as_array().unwrap().iter().find(|r| r.to_string().contains("e2-micro")).expect("found");
    assert_eq!(micro["columns"]["vcpu"], 0.25, "{micro}");
    let description: String =
        sqlx::query_scalar("SELECT description FROM cloud.instances WHERE provider = 'gcp' AND name = 'e2-micro'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(description.starts_with("0.25 vCPU (shared core)"), "{description}");
    // The Compute list's VCPU cell.
    use fleetdeck::service::listing::{self, Entity, PageAt, Query};
    let query =
        Query { filter: fleetdeck::domain::filter::Filter::Exact("e2-micro".into()), ..Query::new(Entity::Instances) };
    let page = listing::page(&db.pool, Entity::Instances, &query, &PageAt::First, 10).await.unwrap();
    let vcpu = listing::columns(Entity::Instances).iter().position(|c| *c == "VCPU").unwrap();
    assert!(page.rows.iter().any(|r| r.cells[vcpu] == "0.25"), "{:?}", page.rows);
}

/// Bulk commands never run under the interactive statement timeout: with one far shorter than
/// their long statements, seeding (its final VACUUM), migrating and importing still succeed.
#[tokio::test]
async fn bulk_commands_outlast_the_interactive_statement_timeout() {
    let db = TestDb::empty().await;
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut cmd = fleetdeck(home.path());
        cmd.args(args)
            .env("DATABASE_URL", db.url())
            .env("FLEETDECK_DATABASE__DIRECT_URL", db.direct_url())
            .env("FLEETDECK_DATABASE__STATEMENT_TIMEOUT", "40ms");
        output(cmd)
    };
    let out = run(&["migrate"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["seed", "--demo"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["import", "instances", concat!(env!("CARGO_MANIFEST_DIR"), "/assets/cloud/instances.jsonl")]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let analyzed: bool = sqlx::query_scalar(
        "SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL FROM pg_stat_user_tables \
         WHERE schemaname = 'edge' AND relname = 'host'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(analyzed, "the seed's VACUUM (ANALYZE) ran");
}

/// A host in maintenance is not sick: its own health in the header's counts, the list, the
/// filter and the CLI, with who put it there and why; activating it ends the maintenance.
#[tokio::test]
async fn a_host_in_maintenance_is_its_own_state_not_offline() {
    use fleetdeck::domain::health::Thresholds;
    use fleetdeck::service::{fleet, Actor, Services};
    let db = TestDb::new().await;
    let site: uuid::Uuid = sqlx::query_scalar(
        "WITH o AS (INSERT INTO edge.orchestrator (name, type) VALUES ('o', 'central') RETURNING id) \
         INSERT INTO edge.site (site_id, name, orchestrator_id) SELECT 'site-m', 'm', id FROM o RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let mut hosts = Vec::new();
    for name in ["m-1", "m-2"] {
        let id: uuid::Uuid = sqlx::query_scalar(
            "INSERT INTO edge.host (host_id, site_id, hostname, status, last_heartbeat) \
             VALUES ($1, $2, $1, 'Active', now()) RETURNING id",
        )
        .bind(name)
        .bind(site)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        hosts.push(id);
    }
    let home = tempfile::tempdir().unwrap();
    let mut cmd = fleetdeck(home.path());
    cmd.args(["fleet", "host", "maintenance", &hosts[0].to_string()[..8], "--reason", "kernel upgrade"])
        .env("DATABASE_URL", db.url());
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    let services = Services::new(db.pool.clone(), Actor::operator());
    let summary = fleet::summary(&services, &Thresholds::default(), None).await.unwrap();
    assert_eq!(
        (summary.hosts.healthy, summary.hosts.offline, summary.hosts.maintenance),
        (1, 0, 1),
        "still heartbeating, it raises no offline count"
    );
    assert_eq!(summary.healthy_percent(), 100, "maintenance counts on neither side");

    let mut cmd = fleetdeck(home.path());
    cmd.args(["fleet", "hosts", "--health", "maintenance", "--output", "json"]).env("DATABASE_URL", db.url());
    let out = output(cmd).await;
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["id"], hosts[0].to_string());
    assert_eq!(rows[0]["health"], "maintenance");
    let why = rows[0]["maintenance"].as_str().unwrap();
    assert!(why.contains("by os:") && why.ends_with(": kernel upgrade"), "{why}");
    for health in ["offline", "healthy"] {
        let mut cmd = fleetdeck(home.path());
        cmd.args(["fleet", "hosts", "--health", health, "--output", "json"]).env("DATABASE_URL", db.url());
        let rows: serde_json::Value = serde_json::from_slice(&output(cmd).await.stdout).unwrap();
        assert!(rows.as_array().unwrap().iter().all(|r| r["id"] != hosts[0].to_string()), "{health}: {rows}");
    }
    let reason: Option<String> = sqlx::query_scalar(
        "SELECT reason FROM fleetdeck.audit_log WHERE target_id = $1 AND verb = 'maintenance' AND outcome = 'ok'",
    )
    .bind(hosts[0].to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(reason.as_deref(), Some("kernel upgrade"), "audited with its reason");

    // Activated: the maintenance ends.
    fleet::set_host_status(&services, &hosts[..1], fleet::HostStatus::Active, None).await.unwrap();
    let summary = fleet::summary(&services, &Thresholds::default(), None).await.unwrap();
    assert_eq!((summary.hosts.healthy, summary.hosts.maintenance), (2, 0));
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM fleetdeck.host_maintenance").fetch_one(&db.pool).await.unwrap();
    assert_eq!(left, 0);
}

/// Margo as it is published: the minimums form imports and is stored like the quantity form.
#[tokio::test]
async fn a_margo_description_in_the_minimums_form_imports_as_the_quantity_form() {
    let db = TestDb::new().await;
    let home = tempfile::tempdir().unwrap();
    let mut cmd = fleetdeck(home.path());
    cmd.args(["import", "margo", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/margo/minimums-form.yaml")])
        .env("DATABASE_URL", db.url());
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let rows: Vec<(String, Option<String>, Option<String>, serde_json::Value)> = sqlx::query_as(
        "SELECT id, memory, storage, to_jsonb(cpu_architectures) FROM catalog.deployment_profile ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, "com-northwind-line-monitor/cluster");
    assert_eq!((rows[0].1.as_deref(), rows[0].2.as_deref()), (Some("1024Mi"), Some("10Gi")));
    assert_eq!(rows[0].3, serde_json::json!(["amd64", "arm64"]));
    assert_eq!((rows[1].1.as_deref(), rows[1].2.as_deref()), (Some("512Mi"), Some("2048Mi")));
}

/// After `kill -9` of the last fleetdeck, the server it started stops by itself (its keeper sees
/// no fleetdeck holding the clients lock), and the next start starts it again and uses it.
#[tokio::test]
async fn no_server_is_left_behind_after_kill_9_and_the_next_start_uses_one() {
    let home = crate::embedded::shared_tempdir();
    let data_dir = home.path().join("pg");
    let env = [("FLEETDECK_DATABASE__DATA_DIR", data_dir.display().to_string())];
    let home_path = home.path().to_path_buf();
    let server_running = {
        let data_dir = data_dir.clone();
        move || {
            fleetdeck::db::embedded::EmbeddedServer::existing(&data_dir, None, "postgres")
                .unwrap()
                .is_running()
                .unwrap()
        }
    };
    let wait_until = |what: &str, cond: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !cond() {
            assert!(std::time::Instant::now() < deadline, "{what}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    tokio::task::spawn_blocking(move || {
        let pty = crate::pty::Pty::spawn(&[], &home_path, &env);
        pty.wait_for("● connected", std::time::Duration::from_secs(60));
        assert!(server_running());
        pty.signal(nix::sys::signal::Signal::SIGKILL);
        // The keeper stops it (within a second or two once the lock is free; the deadline is
        // for a loaded machine).
        wait_until("the server stops by itself after kill -9", &|| !server_running());
        // The next start starts it and uses it; quitting stops it again.
        let mut pty = crate::pty::Pty::spawn(&[], &home_path, &env);
        pty.wait_for("● connected", std::time::Duration::from_secs(60));
        pty.send(b"q");
        let status = pty.wait_exit(std::time::Duration::from_secs(60));
        assert!(status.success(), "{status:?}");
        wait_until("stopped on quitting", &|| !server_running());
    })
    .await
    .unwrap();
}

/// Small ones: an AI agent's owner is its organisation's name; a facet that matches nothing says
/// so in a sentence.
#[tokio::test]
async fn an_agents_owner_is_named_and_facet_refusals_read_well() {
    use fleetdeck::service::{market_detail, marketplace, Actor, Services};
    let db = TestDb::new().await;
    let org = crate::fixtures::organization(&db.pool, "acme-owners").await;
    let a = agent(&db.pool, "owned-agent", "organization", org).await;
    sqlx::query("INSERT INTO platform.marketplace_integrations (agent_id) VALUES ($1)")
        .bind(a)
        .execute(&db.pool)
        .await
        .unwrap();
    let services = Services::new(db.pool.clone(), Actor::operator());
    let detail = market_detail::detail(&services, marketplace::Kind::Agents, &a.to_string()).await.unwrap();
    let text = format!("{:?}", detail.blocks);
    assert!(text.contains("acme-owners (organization)"), "{text}");
    assert!(!text.contains(&org.to_string()), "not the organisation's id: {text}");
    let home = tempfile::tempdir().unwrap();
    let mut cmd = fleetdeck(home.path());
    cmd.args(["market", "search", "x", "--facet", "category=Nothing"]).env("DATABASE_URL", db.url());
    let stderr = String::from_utf8_lossy(&output(cmd).await.stderr).into_owned();
    assert!(stderr.contains("no package has category \"Nothing\""), "{stderr}");
}

/// `market search` that finds nothing only because of the default facet says so.
#[tokio::test]
async fn a_search_hidden_by_the_default_facet_says_how_to_see_it() {
    let db = TestDb::new().await;
    sqlx::query(
        "INSERT INTO cloud.bitnami_packages (name, repository_name, version, deprecated) \
         VALUES ('zzqq-legacy', 'old', '1.0.0', true), ('current', 'old', '2.0.0', false)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = fleetdeck(home.path());
    cmd.args(["market", "search", "zzqq"]).env("DATABASE_URL", db.url());
    let out = output(cmd).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 match but are hidden because they are deprecated: add --deprecated"), "{stderr}");
    let mut cmd = fleetdeck(home.path());
    cmd.args(["market", "search", "zzqq", "--deprecated"]).env("DATABASE_URL", db.url());
    assert_eq!(output(cmd).await.status.code(), Some(0));
}

/// Fleet's PENDING, LAST EVENT and FAIL 1H follow events at the next delta (within the refresh
/// interval), as the stacks list does: an agent's event is a change of its row.
#[tokio::test]
async fn an_agents_event_is_a_change_its_row_delta_reads() {
    use chrono::Utc;
    use fleetdeck::import::demo::{self, Scale};
    use fleetdeck::service::listing::{self, Entity, PageAt, Query};
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 5, Utc::now(), |_| {}).await.unwrap();
    let e = Entity::Agents;
    let q = Query { at: Some(Utc::now()), ..Query::new(e) };
    let page = listing::page(&db.pool, e, &q, &PageAt::First, 50).await.unwrap();
    let since = page.seen_at.unwrap();
    let window =
        listing::Window { first: page.rows[0].cursor.clone(), last: page.rows[49].cursor.clone(), at_top: true };
    let d = listing::delta(&db.pool, e, &q, &window, since, std::time::Duration::ZERO, 100).await.unwrap();
    assert!(d.rows.is_empty(), "nothing changed yet");
    // An event from an agent of the window, on an object of a stack it reaches.
    let agent = &page.rows[3].cursor.id;
    let object: Option<uuid::Uuid> = sqlx::query_scalar(
        "SELECT o.id FROM fleetdeck.agent_stacks($1::uuid) r JOIN broker.deployment_objects o ON o.stack_id = r.stack_id \
         ORDER BY o.sequence_id DESC LIMIT 1",
    )
    .bind(agent)
    .fetch_optional(&db.pool)
    .await
    .unwrap();
    let object = match object {
        Some(o) => o,
        None => {
            let g = crate::fixtures::generator(&db.pool, "ev-gen").await;
            let st = crate::fixtures::stack(&db.pool, "ev-stack", g).await;
            crate::fixtures::deployment_object(&db.pool, st, g, "apiVersion: v1\nkind: A\nmetadata:\n  name: a\n").await
        }
    };
    let updated_before: chrono::DateTime<Utc> =
        sqlx::query_scalar("SELECT updated_at FROM broker.agents WHERE id = $1::uuid")
            .bind(agent)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    crate::fixtures::event(&db.pool, agent.parse().unwrap(), object, "FAILURE").await;
    let updated_after: chrono::DateTime<Utc> =
        sqlx::query_scalar("SELECT updated_at FROM broker.agents WHERE id = $1::uuid")
            .bind(agent)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(updated_before, updated_after, "the event leaves the agent's own row as it was");
    let q = Query { at: Some(Utc::now()), ..Query::new(e) };
    let d = listing::delta(&db.pool, e, &q, &window, since, std::time::Duration::ZERO, 100).await.unwrap();
    let ids: Vec<&String> = d.rows.iter().map(|r| &r.cursor.id).collect();
    assert_eq!(ids, [agent], "the delta reads the agent whose rollup changed");
    let fail = listing::columns(e).iter().position(|c| *c == "FAIL 1H").unwrap();
    assert_ne!(d.rows[0].cells[fail], page.rows[3].cells[fail], "its FAIL 1H counts the new failure");
}

/// Point 27: hosts store `Active`, agents `ACTIVE`; every view says `active` (the lists, the JSON,
/// the verbs' answers) and a filter takes any case.
#[tokio::test]
async fn statuses_read_in_one_case_across_views() {
    let db = TestDb::new().await;
    let site: uuid::Uuid = sqlx::query_scalar(
        "WITH o AS (INSERT INTO edge.orchestrator (name, type) VALUES ('o', 'central') RETURNING id) \
         INSERT INTO edge.site (site_id, name, orchestrator_id) SELECT 'site-c', 'c', id FROM o RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO edge.host (host_id, site_id, hostname, status) VALUES ('c-1', $1, 'c-1', 'Active')")
        .bind(site)
        .execute(&db.pool)
        .await
        .unwrap();
    let agent: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO broker.agents (name, cluster_name, status) VALUES ('c-agent', 'c', 'INACTIVE') RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut cmd = fleetdeck(home.path());
        cmd.args(args).env("DATABASE_URL", db.url());
        output(cmd)
    };
    for (args, want) in [
        (["fleet", "hosts", "--status", "ACTIVE", "--output", "json"], "active"),
        (["fleet", "agents", "--status", "Inactive", "--output", "json"], "inactive"),
    ] {
        let out = run(&args).await;
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(rows.len(), 1, "{args:?}");
        assert_eq!(rows[0]["status"], want, "{args:?}");
    }
    let out = run(&["fleet", "agent", "activate", &agent.to_string()]).await;
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("inactive → active"), "{said}");
    let stored: String = sqlx::query_scalar("SELECT status FROM broker.agents WHERE id = $1")
        .bind(agent)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored, "ACTIVE", "the stored value is the seed's");
}

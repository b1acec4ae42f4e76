//! Load: 8 command-line clients and 2 dashboards act on one database for a minute while the
//! simulator moves it ten times a second. Nothing fails except races, which are reported; every
//! audit row agrees with the states the rows ended in. FLEETDECK_LOAD_SECONDS shortens the
//! minute when running it by hand.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fleetdeck::import::demo::{self, Scale};
use fleetdeck::testing::TestDb;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::pty::Pty;

fn seconds() -> u64 {
    std::env::var("FLEETDECK_LOAD_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60)
}

/// The binary as a script runs it: its own config and log, the test's database.
fn command(home: &std::path::Path, url: &str) -> tokio::process::Command {
    let mut cmd = crate::cli::fleetdeck(home);
    cmd.env("DATABASE_URL", url);
    cmd.into()
}

/// One verb a client ran, and how it ended.
struct Ran {
    args: Vec<String>,
    code: Option<i32>,
    output: String,
}

/// What a verb's exit says: done, a race reported (the row had changed), or anything else.
fn judged(ran: &Ran) -> &'static str {
    match ran.code {
        Some(0) => "done",
        Some(3) => "conflict",
        // Refused by the row's state as the verb read it: another client or the simulator moved
        // it between our pick and the verb.
        Some(2) if ran.output.contains("cannot ") || ran.output.contains("already ") => "refused",
        _ => "error",
    }
}

/// Pick a row for a verb at random from those it applies to now, as a person picks from a list.
async fn pick(db: &fleetdeck::db::handle::Db, sql: &str) -> Option<Uuid> {
    sqlx::query_scalar(sql).fetch_optional(db).await.ok().flatten()
}

/// One client: verbs at random until `until`.
async fn client(n: u64, db: fleetdeck::db::handle::Db, url: String, home: PathBuf, until: Instant) -> Vec<Ran> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(n);
    let exec = |status: &str| {
        format!(
            "SELECT id FROM platform.workflow_executions WHERE status = '{status}' \
             ORDER BY random() LIMIT 1"
        )
    };
    let mut ran = Vec::new();
    while Instant::now() < until {
        let (args, id): (Vec<&str>, Option<Uuid>) = match rng.random_range(0..6) {
            0 => (vec!["exec", "pause"], pick(&db, &exec("running")).await),
            1 => (vec!["exec", "resume"], pick(&db, &exec("paused")).await),
            2 => (vec!["exec", "cancel"], pick(&db, &exec(["queued", "pending"].choose(&mut rng).unwrap())).await),
            3 => (
                vec!["exec", "retry"],
                pick(
                    &db,
                    "SELECT id FROM platform.workflow_executions e WHERE status IN ('failed', 'timeout') \
                     AND coalesce(retry_count, 0) < coalesce(max_retries, 3) \
                     AND NOT EXISTS (SELECT 1 FROM platform.workflow_executions c WHERE c.parent_execution_id = e.id) \
                     ORDER BY random() LIMIT 1",
                )
                .await,
            ),
            4 => (
                vec!["fleet", "agent", "deactivate"],
                pick(&db, "SELECT id FROM broker.agents WHERE status = 'ACTIVE' AND deleted_at IS NULL ORDER BY random() LIMIT 1")
                    .await,
            ),
            _ => (
                vec!["fleet", "agent", "activate"],
                pick(&db, "SELECT id FROM broker.agents WHERE status = 'INACTIVE' AND deleted_at IS NULL ORDER BY random() LIMIT 1")
                    .await,
            ),
        };
        let Some(id) = id else { continue };
        let mut args: Vec<String> = args.into_iter().map(String::from).collect();
        args.push(id.to_string());
        if args[0] == "exec" {
            args.extend(["--reason".to_string(), format!("load client {n}")]);
        }
        let out = command(&home, &url).args(&args).output().await.unwrap();
        ran.push(Ran {
            args,
            code: out.status.code(),
            output: format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        });
    }
    ran
}

/// The failure toast on a screen line: `✗ ` and then text. The ✗ counts in the Rollouts' rows
/// and the stack detail are followed by more than one space (`1 ✗  47d09h`), and a frame may
/// stand at the line's start, so neither the line's start nor its frame tells them apart.
fn failure_toast(line: &str) -> Option<String> {
    line.match_indices("✗ ").find_map(|(at, mark)| {
        let text = &line[at + mark.len()..];
        text.starts_with(|c: char| !c.is_whitespace())
            .then(|| format!("✗ {}", text.trim_end().trim_end_matches('│').trim_end()))
    })
}

#[test]
fn a_failure_toast_is_told_from_the_rollouts_counts() {
    let row = "┌──────┐a  failing     ██████░░  80% 4 ✓  1 ✗                 47d09h      │";
    assert_eq!(failure_toast(row), None);
    assert_eq!(failure_toast("│ web  12 ✓    3 ✗  2h │"), None);
    let toast = "│ a  running  2m            ✗ cannot pause: someone else changed it first │";
    assert_eq!(failure_toast(toast).as_deref(), Some("✗ cannot pause: someone else changed it first"));
}

/// A dashboard that acts: on `view`, press `key` on the top row every 1.5 s and look at other
/// tabs in between. Returns the failure toasts it showed (✗ lines) and its log.
fn dashboard(url: String, home: PathBuf, view: &'static str, key: u8, until: Instant) -> (Vec<String>, String) {
    let mut pty = Pty::spawn_sized(&[], &home, &[("DATABASE_URL", url)], (40, 160));
    pty.wait_for("● connected", Duration::from_secs(60));
    let mut toasts = Vec::new();
    let mut round = 0u32;
    while Instant::now() < until {
        pty.send(format!(":{view}\r").as_bytes());
        std::thread::sleep(Duration::from_millis(700));
        pty.send(&[key]);
        std::thread::sleep(Duration::from_millis(800));
        // Another tab now and then: the Fleet and the Rollouts poll under the same load.
        pty.send(if round.is_multiple_of(2) { b"2" } else { b"3" });
        std::thread::sleep(Duration::from_millis(300));
        toasts.extend(pty.screen().lines().filter_map(failure_toast));
        round += 1;
    }
    let screen = pty.wait_for("● connected", Duration::from_secs(60));
    assert!(!screen.contains("reconnecting"), "{screen}");
    pty.send(b"q");
    let status = pty.wait_exit(Duration::from_secs(60));
    assert!(status.success(), "{status:?}\n{}", pty.screen());
    let log = std::fs::read_to_string(home.join("state/fleetdeck/fleetdeck.log")).expect("the dashboard's log");
    (toasts, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_clients_two_dashboards_and_the_simulator_for_a_minute() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 5, chrono::Utc::now(), |_| {}).await.unwrap();
    let url = db.url();
    let start: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT now()").fetch_one(&db.pool).await.unwrap();
    let homes: Vec<tempfile::TempDir> = (0..11).map(|_| tempfile::tempdir().unwrap()).collect();
    let until = Instant::now() + Duration::from_secs(seconds());

    // The simulator at ten ticks a second, four times the default work per tick.
    let mut sim = command(homes[10].path(), &url)
        .args(["simulate", "--tick", "100ms", "--executions", "20", "--new-executions", "20", "--events", "800"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    let dashboards: Vec<_> = [("exec status=running", b'p'), ("exec status=paused", b'r')]
        .into_iter()
        .enumerate()
        .map(|(i, (view, key))| {
            let (url, home) = (url.clone(), homes[8 + i].path().to_path_buf());
            tokio::task::spawn_blocking(move || dashboard(url, home, view, key, until))
        })
        .collect();
    let clients: Vec<_> = (0..8)
        .map(|n| tokio::spawn(client(n, db.pool.clone(), url.clone(), homes[n as usize].path().to_path_buf(), until)))
        .collect();
    let routes = tokio::spawn(reroute(db.pool.clone(), until));

    let mut ran = Vec::new();
    for c in clients {
        ran.extend(c.await.unwrap());
    }
    let rerouted = routes.await.unwrap();
    assert!(rerouted > 0, "routes changed during the load");
    let mut shown = Vec::new();
    for d in dashboards {
        let (toasts, log) = d.await.unwrap();
        shown.extend(toasts);
        let failures: Vec<&str> = log.lines().filter(|l| l.contains(" ERROR ") || l.contains(" WARN ")).collect();
        assert!(failures.is_empty(), "a dashboard logged failures: {failures:#?}");
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(sim.id().unwrap() as i32), nix::sys::signal::Signal::SIGINT)
        .unwrap();
    let sim_out = tokio::time::timeout(Duration::from_secs(10), sim.wait()).await.unwrap().unwrap();
    assert!(sim_out.success(), "the simulator ran throughout and stopped cleanly: {sim_out:?}");

    // Every client verb ended done, or reported the race it lost.
    let mut by: HashMap<&str, usize> = HashMap::new();
    for r in &ran {
        let verdict = judged(r);
        assert_ne!(verdict, "error", "`fleetdeck {}` exited {:?}: {}", r.args.join(" "), r.code, r.output);
        *by.entry(verdict).or_default() += 1;
    }
    // The dashboards' failure toasts are lost races too (or the list had no row to act on).
    for toast in &shown {
        assert!(
            toast.contains("someone else changed it first")
                || toast.contains("cannot ")
                || toast.contains("no execution selected"),
            "a dashboard showed a failure other than a race: {toast}"
        );
    }
    println!("{} client verbs: {by:?}; dashboards showed {} race toasts", ran.len(), shown.len());
    assert!(by.get("done").copied().unwrap_or(0) > 50, "the clients got work done: {by:?}");

    // The audit log agrees with the final states.
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM fleetdeck.audit_log WHERE outcome = 'failed'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(failed, 0);
    type Audited = (String, String, String, Option<String>, Option<String>);
    let rows: Vec<Audited> = sqlx::query_as(
        "SELECT target_table, target_id, verb, from_state, to_state FROM fleetdeck.audit_log \
         WHERE outcome = 'ok' ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut last: HashMap<(String, String), (String, Option<String>)> = HashMap::new();
    for (table, id, verb, from, to) in rows {
        if let Some((_, Some(before))) = last.get(&(table.clone(), id.clone())) {
            // Paused, cancelled and agents' states move only by audited verbs: the next verb
            // starts where the last one left the row.
            if table == "broker.agents" || before == "paused" || before == "cancelled" {
                assert_eq!(from.as_deref(), Some(before.as_str()), "{table} {id}: {verb} after {before}");
            }
        }
        last.insert((table, id), (verb, to));
    }
    let mut checked = 0;
    for ((table, id), (verb, to)) in &last {
        let id: Uuid = id.parse().unwrap();
        let now: String = match table.as_str() {
            "broker.agents" => sqlx::query_scalar("SELECT status::text FROM broker.agents WHERE id = $1"),
            _ => sqlx::query_scalar("SELECT status::text FROM platform.workflow_executions WHERE id = $1"),
        }
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        let to = to.as_deref().unwrap_or_default();
        match verb.as_str() {
            // The simulator moves a resumed execution on (running → completed, failed, timeout).
            "resume" => assert!(["running", "completed", "failed", "timeout"].contains(&now.as_str()), "{id}: {now}"),
            // A retry leaves the original as it was and queues one new execution.
            "retry" => {
                assert!(["failed", "timeout"].contains(&now.as_str()), "{id}: {now}");
                let children: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM platform.workflow_executions WHERE parent_execution_id = $1",
                )
                .bind(id)
                .fetch_one(&db.pool)
                .await
                .unwrap();
                assert_eq!(children, 1, "{id}: retried once");
            }
            _ => assert_eq!(now, to, "{table} {id}: the last audited {verb} left it {to}"),
        }
        checked += 1;
    }
    // No pause or cancel happened without its audit row.
    let silent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM platform.workflow_executions e WHERE \
         ((status = 'paused' AND paused_at >= $1) OR (status = 'cancelled' AND completed_at >= $1)) \
         AND NOT EXISTS (SELECT 1 FROM fleetdeck.audit_log a WHERE a.target_id = e.id::text AND a.outcome = 'ok' \
                         AND a.to_state = e.status)",
    )
    .bind(start)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(silent, 0, "every pause and cancel since the start is audited");
    println!("{checked} rows' final states agree with their last audited verb");
    // The executions' counts the database maintains, after a minute of the simulator, the
    // clients and the dashboards writing at once: each equals a fresh count.
    assert_eq!(crate::fixtures::execution_counts_wrong(&db.pool).await, Vec::<String>::new());
    // And the reach it keeps, after routes changed under the simulator's reports and objects.
    assert_eq!(crate::fixtures::reach_wrong(&db.pool).await, Vec::<String>::new());
}

/// Routes changing all the while, as an operator relabels agents: a stack's label given to a
/// random agent or taken from one, and a random target added, until `until`. How many changes.
async fn reroute(db: fleetdeck::db::handle::Db, until: Instant) -> usize {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    let mut changed = 0;
    while Instant::now() < until {
        let label: Option<String> =
            sqlx::query_scalar("SELECT label FROM broker.stack_labels ORDER BY random() LIMIT 1")
                .fetch_optional(&db)
                .await
                .unwrap();
        let agent = pick(&db, "SELECT id FROM broker.agents WHERE deleted_at IS NULL ORDER BY random() LIMIT 1").await;
        let stack = pick(&db, "SELECT id FROM broker.stacks WHERE deleted_at IS NULL ORDER BY random() LIMIT 1").await;
        let (Some(label), Some(agent), Some(stack)) = (label, agent, stack) else { break };
        let sql = match rng.random_range(0..3) {
            0 => "INSERT INTO broker.agent_labels (agent_id, label) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            1 => "DELETE FROM broker.agent_labels WHERE agent_id = $1 AND label <> $2",
            _ => "INSERT INTO broker.agent_targets (agent_id, stack_id) SELECT $1, $3::uuid WHERE $2 <> '' ON CONFLICT DO NOTHING",
        };
        sqlx::query(sql).bind(agent).bind(&label).bind(stack).execute(&db).await.unwrap();
        changed += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    changed
}

//! Security (issue 10): tenants see only their own, viewers cannot act, hostile text cannot reach
//! the terminal, secrets never leak, read-only sends no write.

use std::collections::HashSet;
use std::process::Output;
use std::time::Duration;

use fleetdeck::import::demo::{self, Scale};
use fleetdeck::service::marketplace::{self, Kind};
use fleetdeck::service::{identity, listing, market_detail, Actor, Services};
use fleetdeck::testing::TestDb;
use uuid::Uuid;

use crate::cli::fleetdeck;
use crate::pty::Pty;

pub(crate) async fn output(cmd: &mut std::process::Command) -> Output {
    let mut cmd = std::mem::replace(cmd, std::process::Command::new("true"));
    tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The small demo: acme (alice owns it, vera views it), globex (bob is a member), and more.
async fn demo_db() -> TestDb {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 11, chrono::Utc::now(), |_| {}).await.unwrap();
    db
}

/// What `email` may see of the platform, as the operator works it out from the seed's rules:
/// (agent ids, execution ids, organisation names).
async fn visible_to(db: &TestDb, email: &str) -> (HashSet<Uuid>, HashSet<Uuid>, HashSet<String>) {
    let user: Uuid = sqlx::query_scalar("SELECT id FROM platform.users WHERE email = $1")
        .bind(email)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let agents: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM platform.agents WHERE (owner_type = 'user' AND owner_id = $1) OR (owner_type = 'organization' \
         AND owner_id IN (SELECT organization_id FROM platform.organization_members WHERE user_id = $1))",
    )
    .bind(user)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let executions: Vec<Uuid> =
        sqlx::query_scalar("SELECT e.id FROM platform.workflow_executions e JOIN platform.workflows w ON w.id = e.workflow_id WHERE w.agent_id = ANY($1)")
            .bind(&agents)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let orgs: Vec<String> = sqlx::query_scalar(
        "SELECT o.name FROM platform.organizations o JOIN platform.organization_members m ON m.organization_id = o.id \
         WHERE m.user_id = $1",
    )
    .bind(user)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    (agents.into_iter().collect(), executions.into_iter().collect(), orgs.into_iter().collect())
}

/// Services acting as `email`, as `--as EMAIL` builds them.
async fn services_as(db: &TestDb, email: &str) -> Services {
    let user = identity::find_by_email(&db.pool, email).await.unwrap();
    Services::new(db.pool_as(user.id).await, Actor::user(&user.email, user.id))
}

/// A member of one organisation sees none of another's agents, workflows or executions: not in
/// the panes' reads, not in a CLI verb, not in a search, not on the dashboard's screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_sees_none_of_another_organisations_rows_anywhere() {
    let db = demo_db().await;
    let email = "alice@acme.example";
    let (agents, executions, orgs) = visible_to(&db, email).await;
    let all_agents: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM platform.agents").fetch_all(&db.pool).await.unwrap();
    let hidden: Vec<&(Uuid, String)> = all_agents.iter().filter(|(id, _)| !agents.contains(id)).collect();
    assert!(!executions.is_empty() && !hidden.is_empty(), "the demo has rows on both sides");
    let all_orgs: Vec<String> =
        sqlx::query_scalar("SELECT name FROM platform.organizations").fetch_all(&db.pool).await.unwrap();
    let foreign_orgs: Vec<&String> = all_orgs.iter().filter(|o| !orgs.contains(*o)).collect();
    let foreign_execution: Uuid =
        sqlx::query_scalar("SELECT id FROM platform.workflow_executions WHERE NOT (id = ANY($1)) LIMIT 1")
            .bind(executions.iter().copied().collect::<Vec<_>>())
            .fetch_one(&db.pool)
            .await
            .unwrap();

    // The panes' reads.
    let s = services_as(&db, email).await;
    let page = listing::page(
        &s.pool,
        listing::Entity::Executions,
        &listing::Query::new(listing::Entity::Executions),
        &listing::PageAt::First,
        100_000,
    )
    .await
    .unwrap();
    assert_eq!(page.total as usize, executions.len());
    let ids: HashSet<Uuid> = page.rows.iter().map(|r| r.cursor.id.parse().unwrap()).collect();
    assert_eq!(ids, executions);
    let catalogue = marketplace::catalogue(&s, Kind::Agents).await.unwrap();
    assert!(!catalogue.entries.is_empty());
    for e in &catalogue.entries {
        assert!(agents.contains(&e.id.parse::<Uuid>().unwrap()), "a foreign agent in the Marketplace: {}", e.id);
    }
    let (foreign_id, foreign_name) = hidden[0];
    assert!(market_detail::detail(&s, Kind::Agents, &foreign_id.to_string()).await.is_err());
    assert!(fleetdeck::service::executions::detail(&s, foreign_execution).await.is_err());
    for text in [foreign_name.as_str(), "agent"] {
        for id in fleetdeck::service::market_search::search(&s, Kind::Agents, text).await.unwrap() {
            assert!(agents.contains(&id.parse::<Uuid>().unwrap()), "{text}: a foreign agent found: {id}");
        }
    }

    // The CLI verbs.
    let home = tempfile::tempdir().unwrap();
    let url = db.url();
    let out = output(
        fleetdeck(home.path())
            .args(["--as", email, "exec", "list", "--limit", "100000", "--output", "json"])
            .env("DATABASE_URL", &url),
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(rows.len(), executions.len());
    for row in &rows {
        let id: Uuid = row["id"].as_str().unwrap().parse().unwrap();
        assert!(executions.contains(&id));
    }
    let out = output(
        fleetdeck(home.path())
            .args(["--as", email, "exec", "show", &foreign_execution.to_string()])
            .env("DATABASE_URL", &url),
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"), "{out:?}");
    for args in [
        vec!["market", "search", foreign_name.as_str(), "--kind", "agents", "--output", "json", "--limit", "1000"],
        vec!["market", "search", foreign_name.as_str(), "--kind", "agents", "--everywhere", "--output", "json"],
    ] {
        let out = output(fleetdeck(home.path()).args(["--as", email]).args(&args).env("DATABASE_URL", &url)).await;
        let found: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap_or_default();
        for f in found {
            let id: Uuid = f["id"].as_str().unwrap().parse().unwrap();
            assert!(agents.contains(&id), "{args:?}: a foreign agent found: {f}");
        }
    }

    // The dashboard's screen: the Executions pane counts and shows only the user's.
    let mut pty = Pty::spawn_sized(
        &["--as", email, "--tab", "executions"],
        home.path(),
        &[("DATABASE_URL", url.clone())],
        (48, 160),
    );
    let screen =
        tokio::task::block_in_place(|| pty.wait_for(&format!("all {}", executions.len()), Duration::from_secs(60)));
    for org in &foreign_orgs {
        assert!(!screen.contains(org.as_str()), "{org} on alice's screen:\n{screen}");
    }
    // The Marketplace's Agents list counts and shows only the agents the user may see.
    pty.send(b"1");
    tokio::task::block_in_place(|| pty.wait_for("Packages", Duration::from_secs(60)));
    pty.send(b"]]]");
    let screen = tokio::task::block_in_place(|| {
        pty.wait_for(&format!("{n} of {n}", n = catalogue.entries.len()), Duration::from_secs(60))
    });
    assert!(screen.contains(&format!("Agents {}", catalogue.entries.len())), "{screen}");
    let words: HashSet<&str> = screen.split(|c: char| c.is_whitespace() || c == '│').collect();
    for (_, name) in &hidden {
        assert!(!words.contains(name.as_str()), "{name}, another organisation's agent, on alice's screen:\n{screen}");
    }
    assert!(
        catalogue.entries.iter().any(|e| words.contains(e.name.as_str())),
        "alice's own agents are on the screen:\n{screen}"
    );
    pty.send(b"q");
    tokio::task::block_in_place(|| pty.wait_exit(Duration::from_secs(60)));
}

/// Everything a write verb could change, as one text: equal before and after means nothing was
/// written.
async fn fingerprint(db: &TestDb) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws('|', \
           (SELECT md5(string_agg(id::text || status || coalesce(retry_count, 0), ',' ORDER BY id)) FROM platform.workflow_executions), \
           (SELECT md5(string_agg(id::text || status || coalesce(deleted_at::text, ''), ',' ORDER BY id)) FROM broker.agents), \
           (SELECT md5(string_agg(id::text || coalesce(status, '') || coalesce(deleted_at::text, ''), ',' ORDER BY id)) FROM edge.host), \
           (SELECT md5(string_agg(id::text || coalesce(deleted_at::text, ''), ',' ORDER BY id)) FROM broker.stacks), \
           (SELECT count(*) FROM broker.deployment_objects), (SELECT count(*) FROM broker.agent_targets))",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

/// A viewer reads, and every write verb is refused by the database with a message that says
/// why: each CLI verb, and a hotkey on the dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_reads_and_every_write_verb_is_refused_by_the_database() {
    let db = demo_db().await;
    let email = "viewer@acme.example";
    let viewer = crate::fixtures::user(&db.pool, email).await;
    let acme: Uuid = sqlx::query_scalar("SELECT id FROM platform.organizations WHERE slug = 'acme'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    crate::fixtures::member(&db.pool, acme, viewer, "viewer").await;
    let agent = crate::fixtures::agent(&db.pool, "acme-viewed", "organization", acme).await;
    let wf = crate::fixtures::workflow(&db.pool, agent).await;
    let running = crate::fixtures::execution(&db.pool, wf, agent, "running").await.to_string();
    let paused = crate::fixtures::execution(&db.pool, wf, agent, "paused").await.to_string();
    let failed = crate::fixtures::execution(&db.pool, wf, agent, "failed").await.to_string();
    let first = |sql: &'static str| {
        let pool = db.pool.clone();
        async move { sqlx::query_scalar::<_, String>(sql).fetch_one(&pool).await.unwrap() }
    };
    let cluster_agent = first(
        "SELECT id::text FROM broker.agents WHERE deleted_at IS NULL AND status = 'ACTIVE' ORDER BY name LIMIT 1",
    )
    .await;
    let inactive_agent = first(
        "SELECT id::text FROM broker.agents WHERE deleted_at IS NULL AND status = 'INACTIVE' ORDER BY name LIMIT 1",
    )
    .await;
    let host = first(
        "SELECT id::text FROM edge.host WHERE deleted_at IS NULL AND status = 'Active' ORDER BY hostname LIMIT 1",
    )
    .await;
    let inactive_host = first(
        "SELECT id::text FROM edge.host WHERE deleted_at IS NULL AND status <> 'Active' ORDER BY hostname LIMIT 1",
    )
    .await;
    let stack = first("SELECT name FROM broker.stacks WHERE deleted_at IS NULL ORDER BY name LIMIT 1").await;
    let before = fingerprint(&db).await;

    let home = tempfile::tempdir().unwrap();
    let yaml = home.path().join("next.yaml");
    std::fs::write(&yaml, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: next\n").unwrap();
    let yaml = yaml.display().to_string();
    let executions = "viewers of Acme Corp may only read executions";
    let shared = "viewers may only read broker.";
    let verbs: Vec<(Vec<&str>, &str)> = vec![
        (vec!["exec", "pause", &running], executions),
        (vec!["exec", "cancel", &running], executions),
        (vec!["exec", "resume", &paused], executions),
        (vec!["exec", "retry", &failed], executions),
        (vec!["fleet", "agent", "activate", &inactive_agent], shared),
        (vec!["fleet", "agent", "deactivate", &cluster_agent], shared),
        (vec!["fleet", "agent", "delete", &cluster_agent], shared),
        (vec!["fleet", "host", "activate", &inactive_host], "viewers may only read edge.host"),
        (vec!["fleet", "host", "maintenance", &host], "viewers may only read edge.host"),
        (vec!["fleet", "host", "delete", &host], "viewers may only read edge.host"),
        (vec!["rollout", "submit", &stack, &yaml], shared),
        (vec!["rollout", "resubmit", &stack], shared),
        (vec!["rollout", "target", &stack, "--add", &cluster_agent], shared),
        (vec!["rollout", "delete", &stack], shared),
    ];
    for (args, message) in &verbs {
        let out = output(fleetdeck(home.path()).args(["--as", email]).args(args).env("DATABASE_URL", db.url())).await;
        let said = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert!(!out.status.success(), "{args:?} succeeded: {said}");
        assert!(said.contains(message), "{args:?}: {said}");
    }
    assert_eq!(fingerprint(&db).await, before, "a refused verb wrote something");
    // The viewer reads: the organisation's executions are listed.
    let out =
        output(fleetdeck(home.path()).args(["--as", email, "exec", "show", &running]).env("DATABASE_URL", db.url()))
            .await;
    assert!(out.status.success() && stdout(&out).contains("running"), "{out:?}");

    // On the dashboard: `p` on a running execution says why it was refused.
    let refusals = |pool: fleetdeck::db::handle::Db, id: String| async move {
        sqlx::query_scalar::<_, String>(
            "SELECT coalesce(error, '') FROM fleetdeck.audit_log \
              WHERE target_id = $1 AND outcome = 'refused' AND actor = 'viewer@acme.example' ORDER BY id",
        )
        .bind(id)
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let dashboard_from = refusals(db.pool.clone(), running.clone()).await.len();
    let mut pty = Pty::spawn_sized(
        &["--as", email, "--tab", "executions"],
        home.path(),
        &[("DATABASE_URL", db.url())],
        (48, 160),
    );
    let wait = |pty: &Pty, what: &str| tokio::task::block_in_place(|| pty.wait_for(what, Duration::from_secs(60)));
    wait(&pty, "● connected");
    pty.send(b":exec status=running\r");
    // The filtered page is on screen (its footer names the filter) with our execution selected.
    wait(&pty, "where status=running");
    wait(&pty, "acme-viewed");
    std::thread::sleep(Duration::from_millis(300));
    pty.send(b"p");
    // The refusal is audited, then shown for a few seconds: wait for the audit row first so a
    // slow server under a parallel test run cannot make the toast come and go unseen.
    let started = std::time::Instant::now();
    let error = loop {
        if let Some(e) = refusals(db.pool.clone(), running.clone()).await.get(dashboard_from) {
            break e.clone();
        }
        assert!(started.elapsed() < Duration::from_secs(40), "no refusal audited; screen:\n{}", pty.screen());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(error.contains(executions), "{error}");
    let screen = wait(&pty, executions);
    assert!(screen.contains("not allowed"), "{screen}");
    pty.send(b"q");
    tokio::task::block_in_place(|| pty.wait_exit(Duration::from_secs(60)));
    assert_eq!(fingerprint(&db).await, before);
}

/// Payloads a hostile publisher, host or workload could put in the database: escape sequences
/// that retitle the window, clear the screen, answer back, write the clipboard or hide a link;
/// C0 and C1 controls; bidirectional overrides; zero-width and invisible characters.
const HOSTILE: &str = "\u{1b}]0;FDX-TITLE\u{7}\u{1b}[2J\u{1b}[HFDX-CLEAR\u{1b}P$qFDX-DCS\u{1b}\\\u{1b}]52;c;RkRY\u{7}\
    \u{9b}6nFDX-C1\u{1b}]8;;http://evil.example\u{1b}\\FDX-LINK\u{1b}]8;;\u{1b}\\ FDX-\u{202e}RTL\u{202c} \
    FDX\u{200b}\u{2066}ZW\u{2069}\u{feff} \u{7}\u{8}\u{7f}FDX-BEL";
/// A label is at most 64 characters.
const HOSTILE_LABEL: &str = "\u{1b}]0;FDX\u{7}\u{202e}\u{200b}\u{9b}2J";

/// What must never reach the terminal: the payloads' sequences, and characters fleetdeck itself
/// never writes (BEL, BS, DEL, C1 controls, OSC and DCS introducers, bidi and zero-width).
fn forbidden_in(raw: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let sequences: [&[u8]; 8] = [
        b"\x1b]",
        b"\x1bP",
        b"\x1b[2J\x1b[HFDX",
        b"\x07",
        b"\x08",
        b"\x7f",
        "\u{9b}".as_bytes(),
        "\u{feff}".as_bytes(),
    ];
    for s in sequences {
        if raw.windows(s.len()).any(|w| w == s) {
            found.push(format!("{s:?}"));
        }
    }
    let text = String::from_utf8_lossy(raw);
    for c in ['\u{202e}', '\u{202c}', '\u{200b}', '\u{2066}', '\u{2069}'] {
        if text.contains(c) {
            found.push(format!("{c:?}"));
        }
    }
    found
}

/// Hostile text in package descriptions and READMEs, host names, labels, execution logs and
/// error messages: the bytes the dashboard writes to its terminal hold none of it, and the
/// screen shows it neutralised.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_from_the_database_never_reaches_the_terminal() {
    let db = demo_db().await;
    let operator = &db.pool;
    let sql = [
        "UPDATE cloud.bitnami_packages SET name = 'fdx-package', description = $1, \
         readme = E'# Read me\\n\\n' || $1 || E'\\n\\n```\\n' || $1 || E'\\n```\\n' \
         WHERE package_id = (SELECT package_id FROM cloud.bitnami_packages ORDER BY name LIMIT 1)",
        "UPDATE edge.host SET hostname = 'fdx-host' || $1 WHERE id = (SELECT id FROM edge.host WHERE deleted_at IS NULL \
         ORDER BY hostname LIMIT 1)",
        "UPDATE broker.stacks SET name = 'fdx-stack', description = $1 WHERE id = (SELECT id FROM broker.stacks \
         WHERE deleted_at IS NULL ORDER BY name LIMIT 1)",
        "UPDATE platform.workflows SET name = 'fdx-flow' || $1 WHERE id = (SELECT workflow_id FROM platform.workflow_executions \
         ORDER BY started_at DESC NULLS LAST LIMIT 1)",
        "UPDATE platform.workflow_executions SET error_message = $1, error_code = 'E1', \
         status_message = $1, execution_logs = jsonb_build_array(jsonb_build_object('ts', '2026-11-24T00:00:00Z', \
         'level', 'error', 'message', $1), $1) \
         WHERE workflow_id = (SELECT id FROM platform.workflows WHERE name LIKE 'fdx-flow%')",
    ];
    for q in sql {
        let done = sqlx::query(q).bind(HOSTILE).execute(operator).await.unwrap();
        assert!(done.rows_affected() > 0, "{q}");
    }
    sqlx::query(
        "INSERT INTO broker.stack_labels (stack_id, label) SELECT id, $1 FROM broker.stacks WHERE name = 'fdx-stack'",
    )
    .bind(HOSTILE_LABEL)
    .execute(operator)
    .await
    .unwrap();

    let home = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn_sized(&[], home.path(), &[("DATABASE_URL", db.url())], (48, 160));
    // A key that opens a row goes once the filtered row is on screen (its own text, or the
    // list's "1 / 1"); the other keys are taken in order and need no wait.
    let wait = |pty: &Pty, what: &[&str]| tokio::task::block_in_place(|| pty.wait_all(what, Duration::from_secs(60)));
    let gone = |pty: &Pty, what: &str| tokio::task::block_in_place(|| pty.wait_gone(what, Duration::from_secs(60)));
    wait(&pty, &["● connected"]);
    // Marketplace: the package's description in the list, its README in the detail.
    pty.send(b"/fdx-package\r");
    wait(&pty, &["␛]0;FDX-TITLE␇"]);
    pty.send(b"\r");
    wait(&pty, &["Read me"]);
    pty.send(b"\x1b");
    gone(&pty, "Read me");
    // Fleet: the host's name.
    pty.send(b"2");
    pty.send(b"/fdx-host\r");
    wait(&pty, &["fdx-host␛]0;FDX-TITLE"]);
    // Rollouts: the stack's description and label, in its detail.
    pty.send(b"3");
    pty.send(b"/fdx-stack\r");
    wait(&pty, &["│  fdx-stack", " 1 / 1 "]);
    pty.send(b"\r");
    // (The label is in the list's row too: the detail's own timeline says it is open.)
    wait(&pty, &["<U+202E><U+200B><U+009B>2J", "timeline  ([ newer"]);
    pty.send(b"\x1b");
    gone(&pty, "timeline  ([ newer");
    // Executions: the workflow's name and the error in the list; the logs in the detail.
    pty.send(b"4");
    pty.send(b"/fdx-flow\r");
    wait(&pty, &["fdx-flow␛]0;FDX"]);
    pty.send(b"\r");
    let screen = wait(&pty, &["FDX-<U+202E>RTL<U+202C>"]);
    assert!(screen.contains("␇␈␡FDX-BEL"), "{screen}");
    pty.send(b"q");
    pty.send(b"q");
    tokio::task::block_in_place(|| pty.wait_exit(Duration::from_secs(60)));
    let raw = pty.raw_bytes();
    assert!(raw.len() > 10_000, "the dashboard drew its panes");
    let found = forbidden_in(&raw);
    assert!(found.is_empty(), "reached the terminal: {found:?}");
    // The verbs for scripts print tables the same way.
    let execution: String = sqlx::query_scalar(
        "SELECT e.id::text FROM platform.workflow_executions e JOIN platform.workflows w ON w.id = e.workflow_id \
         WHERE w.name LIKE 'fdx-flow%' LIMIT 1",
    )
    .fetch_one(operator)
    .await
    .unwrap();
    for args in [
        vec!["fleet", "hosts", "--name", "fdx-host"],
        vec!["exec", "list"],
        vec!["exec", "show", &execution],
        vec!["market", "search", "fdx-package"],
        vec!["rollout", "list"],
        vec!["rollout", "status", "fdx-stack"],
    ] {
        let out = output(fleetdeck(home.path()).args(&args).env("DATABASE_URL", db.url())).await;
        // (`rollout status` exits 2 for a failing stack.)
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        assert!(
            String::from_utf8_lossy(&all).to_lowercase().contains("fdx"),
            "{args:?} shows the row: {}",
            String::from_utf8_lossy(&all)
        );
        let found = forbidden_in(&all);
        assert!(found.is_empty(), "{args:?} printed {found:?}");
    }
    // The check itself finds each payload when it is written as it is.
    assert_eq!(forbidden_in(HOSTILE.as_bytes()).len(), 13);
}

/// Secrets: provider credentials, `cred`, pak_hash and api_key_hash are never shown (the detail
/// views say "hidden"), logged (at the most verbose level), exported by `--output json`, or
/// matched by a search.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_never_shown_logged_exported_or_found() {
    use crate::fixtures::sha256_hex;
    let db = demo_db().await;
    let pak = sha256_hex("fdx-pak");
    let api_key = sha256_hex("fdx-api-key");
    let secrets = ["FDXSECRET-PROVIDER", "FDXSECRET-CRED", pak.as_str(), api_key.as_str()];
    for (sql, value) in [
        ("UPDATE cloud.providers SET provider_credentials = jsonb_build_object('api_key', $1::text)", secrets[0]),
        ("INSERT INTO cloud.cred (provider, provider_credentials) SELECT provider, jsonb_build_object('token', $1::text) FROM cloud.providers", secrets[1]),
        ("UPDATE broker.agents SET pak_hash = $1", secrets[2]),
        ("UPDATE broker.generators SET api_key_hash = $1", secrets[3]),
    ] {
        let done = sqlx::query(sql).bind(value).execute(&db.pool).await.unwrap();
        assert!(done.rows_affected() > 0, "{sql}");
    }
    let leaks = |text: &str| -> Vec<String> {
        secrets
            .iter()
            .filter(|s| text.contains(*s) || text.contains(&s[..s.len().min(16)]))
            .map(|s| s.to_string())
            .collect()
    };
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("trace.log");
    let log_args = ["--log-level", "trace", "--log-file", log.to_str().unwrap()];

    // The dashboard: a compute offer's, a cluster agent's and a stack's detail.
    let mut pty = Pty::spawn_sized(&log_args, home.path(), &[("DATABASE_URL", db.url())], (48, 160));
    // Each key that acts on a row goes once that row is on screen: keys are taken in order, so
    // only a key whose meaning depends on rows still being read waits, and on a condition.
    let wait = |pty: &Pty, what: &[&str]| tokio::task::block_in_place(|| pty.wait_all(what, Duration::from_secs(60)));
    let gone = |pty: &Pty, what: &str| tokio::task::block_in_place(|| pty.wait_gone(what, Duration::from_secs(60)));
    wait(&pty, &["● connected"]);
    pty.send(b"]]]]");
    wait(&pty, &["┌ Compute ─", "$/HOUR", " aws "]);
    pty.send(b"\r");
    let screen = wait(&pty, &["Credentials"]);
    assert!(screen.contains("Credentials       hidden"), "{screen}");
    pty.send(b"\x1b");
    gone(&pty, "Credentials");
    pty.send(b"2]");
    wait(&pty, &["[Cluster agents]", "CLUSTER", "agent-0"]);
    pty.send(b"\r");
    let screen = wait(&pty, &["PAK"]);
    assert!(screen.contains("PAK") && screen.contains("hidden"), "{screen}");
    pty.send(b"\x1b");
    gone(&pty, "PAK");
    pty.send(b"3");
    wait(&pty, &["┌ Stacks ─", "GENERATOR", "SEQ", "-ci "]);
    pty.send(b"\r");
    wait(&pty, &["(API key hidden)"]);
    pty.send(b"\x1b");
    gone(&pty, "(API key hidden)");
    pty.send(b"q");
    tokio::task::block_in_place(|| pty.wait_exit(Duration::from_secs(60)));
    let raw = String::from_utf8_lossy(&pty.raw_bytes()).into_owned();
    assert!(leaks(&raw).is_empty(), "shown: {:?}", leaks(&raw));

    // The verbs for scripts, as JSON, logging everything; and searches for the secrets.
    let agent: String =
        sqlx::query_scalar("SELECT id::text FROM broker.agents LIMIT 1").fetch_one(&db.pool).await.unwrap();
    let stack: String = sqlx::query_scalar("SELECT name FROM broker.stacks WHERE deleted_at IS NULL LIMIT 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    for args in [
        vec!["fleet", "agents", "--output", "json", "--limit", "1000"],
        vec!["fleet", "hosts", "--output", "json"],
        vec!["rollout", "list", "--output", "json"],
        vec!["rollout", "status", &stack, "--output", "json"],
        vec!["market", "search", "a", "--kind", "instances", "--output", "json", "--limit", "1000"],
        vec!["exec", "list", "--output", "json"],
        vec!["doctor"],
    ] {
        let out = output(fleetdeck(home.path()).args(log_args).args(&args).env("DATABASE_URL", db.url())).await;
        let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        assert!(all.len() > 100, "{args:?}: {all}");
        assert!(leaks(&all).is_empty(), "{args:?} exported {:?}", leaks(&all));
    }
    // (The searches below log what they were asked: the secrets themselves.)
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.len() > 1_000, "the trace log was written");
    assert!(leaks(&logged).is_empty(), "logged: {:?}", leaks(&logged));
    let log_args = ["--log-level", "info", "--log-file", "/dev/null"];
    for (kind, text) in
        [("instances", secrets[0]), ("instances", secrets[1]), ("instances", "api_key"), ("agents", secrets[2])]
    {
        for everywhere in [false, true] {
            let mut cmd = fleetdeck(home.path());
            cmd.args(log_args)
                .args(["market", "search", text, "--kind", kind, "--output", "json"])
                .env("DATABASE_URL", db.url());
            if everywhere {
                cmd.arg("--everywhere");
            }
            let out = output(&mut cmd).await;
            assert_eq!(out.status.code(), Some(1), "{kind} {text} {everywhere}: found {}", stdout(&out));
        }
    }
    let out = output(
        fleetdeck(home.path())
            .args(log_args)
            .args(["fleet", "agents", "--name", &pak[..12]])
            .env("DATABASE_URL", db.url()),
    )
    .await;
    assert!(!stdout(&out).contains(&agent), "an agent found by its key hash: {}", stdout(&out));
}

/// The SQL statements a server logged (log_statement = all) for fleetdeck's connections, from
/// `offset` on: simple queries and executed prepared statements.
fn logged_statements(log: &str) -> Vec<String> {
    let mut entries: Vec<String> = Vec::new();
    for line in log.lines() {
        // A new entry starts with the time stamp (`2026-11-24 00:55:00.123 UTC [pid] app `).
        if line.len() > 4 && line.as_bytes()[..4].iter().all(u8::is_ascii_digit) && line.as_bytes()[4] == b'-' {
            entries.push(line.to_string());
        } else if let Some(last) = entries.last_mut() {
            last.push('\n');
            last.push_str(line);
        }
    }
    entries
        .into_iter()
        .filter(|e| e.contains(" fleetdeck LOG:  "))
        .filter_map(|e| {
            let (_, rest) = e.split_once(" LOG:  ")?;
            if let Some(sql) = rest.strip_prefix("statement: ") {
                Some(sql.to_string())
            } else if let Some(rest) = rest.strip_prefix("execute ") {
                rest.split_once(": ").map(|(_, sql)| sql.to_string())
            } else {
                None
            }
        })
        .collect()
}

/// Would this statement change anything? Its words, outside string literals and comments.
fn writes(sql: &str) -> bool {
    let mut words = String::new();
    let mut in_string = false;
    for line in sql.lines() {
        let line = if in_string { line } else { line.split("--").next().unwrap_or("") };
        for c in line.chars() {
            if c == '\'' {
                in_string = !in_string;
            } else if !in_string {
                words.push(if c.is_alphanumeric() || c == '_' { c.to_ascii_uppercase() } else { ' ' });
            }
        }
        words.push(' ');
    }
    // (Not CLUSTER or COMMENT: they are column names too; a read-only session refuses them.)
    const WRITES: [&str; 18] = [
        "INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "CREATE", "ALTER", "DROP", "GRANT", "REVOKE", "COPY",
        "VACUUM", "REINDEX", "REFRESH", "LOCK", "NOTIFY", "NEXTVAL", "SETVAL",
    ];
    words.split_whitespace().any(|w| WRITES.contains(&w) || w == "PG_NOTIFY")
}

#[test]
fn the_write_detector_knows_writes_from_reads() {
    assert!(writes("UPDATE platform.workflow_executions SET status = 'paused'"));
    assert!(writes("WITH x AS (DELETE FROM t RETURNING id) SELECT * FROM x"));
    assert!(writes("SELECT 1 FROM t WHERE id = $1 FOR UPDATE"));
    assert!(writes("select nextval('s')"));
    assert!(!writes("SELECT updated_at, deleted_at, created_at FROM t WHERE note = 'DROP TABLE x' -- UPDATE"));
    assert!(!writes("LISTEN fleetdeck_changes"));
    assert!(!writes("SELECT ag.cluster_name AS cluster FROM broker.agents ag"));
    let log = "2026-11-24 00:55:00.123 UTC [12] fleetdeck LOG:  execute sqlx_s_1: SELECT a\n\tFROM b\n\
               2026-11-24 00:55:00.124 UTC [12] fleetdeck DETAIL:  parameters: $1 = 'x'\n\
               2026-11-24 00:55:00.125 UTC [13] psql LOG:  statement: DELETE FROM t\n\
               2026-11-24 00:55:00.126 UTC [12] fleetdeck LOG:  statement: BEGIN READ ONLY";
    assert_eq!(logged_statements(log), ["SELECT a\n\tFROM b", "BEGIN READ ONLY"]);
}

/// Every verb in read-only mode, and the dashboard's write keys, against a server that logs
/// every statement: many reads reached it, and not one write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_read_only_mode_no_write_statement_reaches_the_server() {
    use crate::chaos::{seeded, PrivateServer};
    let server = tokio::task::spawn_blocking(|| PrivateServer::start(false)).await.unwrap();
    let db = seeded(&server, "ro").await;
    let first = |sql: &'static str| {
        let pool = db.clone();
        async move { sqlx::query_scalar::<_, String>(sql).fetch_one(&pool).await.unwrap() }
    };
    let running = first("SELECT id::text FROM platform.workflow_executions WHERE status = 'running' LIMIT 1").await;
    let paused = first("SELECT id::text FROM platform.workflow_executions WHERE status = 'paused' LIMIT 1").await;
    let failed = first("SELECT id::text FROM platform.workflow_executions WHERE status = 'failed' LIMIT 1").await;
    let agent = first("SELECT id::text FROM broker.agents WHERE deleted_at IS NULL LIMIT 1").await;
    let host = first("SELECT id::text FROM edge.host WHERE deleted_at IS NULL LIMIT 1").await;
    let stack = first("SELECT name FROM broker.stacks WHERE deleted_at IS NULL LIMIT 1").await;
    for sql in [
        "ALTER DATABASE ro SET log_statement = 'all'",
        "ALTER SYSTEM SET log_line_prefix = '%m [%p] %a '",
        "SELECT pg_reload_conf()::text",
    ] {
        sqlx::query(sql).execute(&db).await.unwrap();
    }
    db.close().await;
    let log_file = server.server.log_file();
    let offset = std::fs::metadata(&log_file).unwrap().len() as usize;

    let home = tempfile::tempdir().unwrap();
    let url = server.server.url("ro");
    let yaml = home.path().join("next.yaml");
    std::fs::write(&yaml, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: next\n").unwrap();
    let yaml = yaml.display().to_string();
    let verbs: Vec<Vec<&str>> = vec![
        vec!["doctor"],
        vec!["exec", "list"],
        vec!["exec", "show", &running],
        vec!["exec", "pause", &running],
        vec!["exec", "cancel", &running],
        vec!["exec", "resume", &paused],
        vec!["exec", "retry", &failed],
        vec!["fleet", "hosts"],
        vec!["fleet", "agents"],
        vec!["fleet", "agent", "activate", &agent],
        vec!["fleet", "agent", "deactivate", &agent],
        vec!["fleet", "agent", "delete", &agent],
        vec!["fleet", "host", "activate", &host],
        vec!["fleet", "host", "maintenance", &host],
        vec!["fleet", "host", "delete", &host],
        vec!["rollout", "list"],
        vec!["rollout", "status", &stack],
        vec!["rollout", "submit", &stack, &yaml],
        vec!["rollout", "resubmit", &stack],
        vec!["rollout", "target", &stack, "--add", &agent],
        vec!["rollout", "delete", &stack],
        vec!["market", "search", "redis"],
        vec!["market", "search", "redis", "--everywhere"],
        vec!["market", "search", "gpu", "--kind", "instances"],
        vec!["migrate"],
        vec!["seed", "--demo"],
        vec!["import", "instances", &yaml],
        vec!["simulate"],
        vec!["demo"],
    ];
    let mut refused = 0;
    for args in &verbs {
        let out = output(fleetdeck(home.path()).arg("--readonly").args(args).env("DATABASE_URL", &url)).await;
        let said = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        if said.contains("read-only") {
            refused += 1;
        } else {
            // 0 done, 1 nothing matched, 2 invalid, 5–7 a rollout not complete: an answer, not a failure.
            assert!(matches!(out.status.code(), Some(0..=2 | 5..=7)), "{args:?}: {said}");
        }
    }
    assert_eq!(refused, 19, "each of the 19 write verbs says it is refused in read-only mode");

    // The dashboard: every write key of every pane and list, each refused (the dashboard logs
    // each refusal: the test waits for them by count, not by time), and `:readonly` cannot turn
    // read-only mode off.
    let dash_log = home.path().join("state/fleetdeck/fleetdeck.log");
    let refusals =
        || std::fs::read_to_string(&dash_log).map(|l| l.matches("refused in read-only mode").count()).unwrap_or(0);
    let mut pty = Pty::spawn_sized(&["--readonly"], home.path(), &[("DATABASE_URL", url.clone())], (48, 160));
    let wait = |pty: &Pty, what: &str| tokio::task::block_in_place(|| pty.wait_for(what, Duration::from_secs(60)));
    let refused = |pty: &mut Pty, keys: &[u8], n: &mut usize| {
        pty.send(keys);
        *n += 1;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while refusals() < *n {
            assert!(std::time::Instant::now() < deadline, "{:?} was not refused:\n{}", keys, pty.screen());
            std::thread::sleep(Duration::from_millis(50));
        }
        // Nothing opened (no confirmation, no form): the next key goes to the list.
    };
    let mut n = 0;
    wait(&pty, "● connected");
    wait(&pty, "refreshed");
    refused(&mut pty, b"d", &mut n); // deploy a package
    pty.send(b"]");
    wait(&pty, "┌ Apps");
    refused(&mut pty, b"d", &mut n); // deploy an edge app
    pty.send(b"2");
    wait(&pty, "HOSTNAME");
    for key in [b"a", b"d", b"D"] {
        refused(&mut pty, key, &mut n); // activate, maintenance, delete a host
    }
    pty.send(b"]");
    wait(&pty, "CLUSTER");
    for key in [b"a", b"d", b"e", b"D"] {
        refused(&mut pty, key, &mut n); // activate, deactivate, labels, delete an agent
    }
    pty.send(b"3");
    wait(&pty, "GENERATOR");
    for key in [b"n", b"e", b"r", b"t", b"D"] {
        refused(&mut pty, key, &mut n); // new stack, edit, resubmit, targets, delete
    }
    pty.send(b"4");
    wait(&pty, "WORKFLOW");
    pty.send(b" "); // a mark: bulk verbs are refused too
    for key in [b"p", b"r", b"c", b"R"] {
        refused(&mut pty, key, &mut n); // pause, resume, cancel, retry
    }
    assert_eq!(n, 18);
    pty.send(b":readonly\r");
    wait(&pty, "read-only mode is locked");
    wait(&pty, "READONLY");
    pty.send(b"q");
    tokio::task::block_in_place(|| pty.wait_exit(Duration::from_secs(60)));

    let log = std::fs::read(&log_file).unwrap();
    let log = String::from_utf8_lossy(&log[offset.min(log.len())..]).into_owned();
    let statements = logged_statements(&log);
    assert!(statements.len() > 50, "the server logged fleetdeck's reads:\n{log}");
    let written: Vec<&String> = statements.iter().filter(|s| writes(s)).collect();
    assert!(written.is_empty(), "write statements reached the server: {written:#?}");
}

//! docs/json.md, checked: every verb's `--output json` parses back into typed structs that refuse
//! unknown fields (times as RFC 3339 with zone, numbers as numbers, arrays as arrays, whole ids).

use chrono::{DateTime, Utc};
use fleetdeck::import::demo::{self, Scale};
use fleetdeck::testing::TestDb;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::cli::fleetdeck;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ExecRow {
    id: Uuid,
    status: String,
    workflow: String,
    agent: String,
    framework: String,
    organisation: Option<String>,
    started: Option<DateTime<Utc>>,
    duration_seconds: Option<f64>,
    retries: i64,
    max_retries: i64,
    correlation: Uuid,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ExecDetail {
    id: Uuid,
    status: String,
    status_message: Option<String>,
    workflow_id: Uuid,
    workflow: String,
    agent_id: Uuid,
    agent: String,
    framework: String,
    organisation: Option<String>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    paused_at: Option<DateTime<Utc>>,
    resumed_at: Option<DateTime<Utc>>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    retry_count: i64,
    max_retries: i64,
    correlation_id: Uuid,
    parent_execution_id: Option<Uuid>,
    error_message: Option<String>,
    error_code: Option<String>,
    execution_data: Option<Value>,
    execution_logs: Option<Value>,
    resource_usage: Option<Value>,
    performance_metrics: Option<Value>,
    children: Vec<Child>,
    parent_status: Option<String>,
    archived_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ArchiveRun {
    moved: i64,
    deleted: i64,
    audit_deleted: i64,
    partitions_made: i64,
    partitions_dropped: Vec<String>,
    batches: i64,
    seconds: f64,
    audit_id: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Child {
    id: Uuid,
    status: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Host {
    id: Uuid,
    hostname: Option<String>,
    ip: Option<String>,
    site: Option<String>,
    status: Option<String>,
    health: String,
    heartbeat: Option<DateTime<Utc>>,
    arch: Option<String>,
    cores: Option<f64>,
    memory: Option<String>,
    storage: Option<String>,
    peripherals: Vec<String>,
    interfaces: Vec<String>,
    maintenance: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Agent {
    id: Uuid,
    name: String,
    cluster: String,
    status: String,
    health: String,
    heartbeat: Option<DateTime<Utc>>,
    stacks: i64,
    routes: Routes,
    pending: i64,
    last_event: Option<DateTime<Utc>>,
    fail_1h: i64,
    labels: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Routes {
    target: i64,
    label: i64,
    annotation: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Progress {
    success: i64,
    failure: i64,
    pending: i64,
    offline: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Stack {
    id: Uuid,
    name: String,
    generator: String,
    sequence_id: Option<i64>,
    agents: i64,
    progress: Progress,
    state: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Status {
    stack: StatusStack,
    desired: Option<Desired>,
    progress: Progress,
    state: String,
    agents: Vec<Reached>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct StatusStack {
    id: Uuid,
    name: String,
    generator_id: Uuid,
    deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Desired {
    id: Uuid,
    sequence_id: i64,
    yaml_checksum: String,
    submitted_at: DateTime<Utc>,
    is_deletion_marker: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Reached {
    agent_id: Uuid,
    name: String,
    cluster: String,
    by_target: bool,
    by_label: bool,
    by_annotation: bool,
    status: Option<String>,
    message: Option<String>,
    reported_at: Option<DateTime<Utc>>,
    online: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Found<C> {
    id: String,
    name: String,
    description: String,
    columns: C,
    score: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct PackageColumns {
    version: Option<String>,
    repository: Option<String>,
    category: Option<String>,
    stars: i64,
    updated: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AppColumns {
    vendor: Option<String>,
    version: Option<String>,
    profiles: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct SolutionColumns {
    #[serde(rename = "type")]
    kind: String,
    version: Option<String>,
    status: Option<String>,
    uses: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct AgentColumns {
    framework: Option<String>,
    status: Option<String>,
    publication: Option<String>,
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct InstanceColumns {
    provider: Option<String>,
    gpu: Option<String>,
    vcpu: Option<f64>,
    memory_gb: Option<f64>,
    price_hourly: Option<f64>,
}

async fn json<T: DeserializeOwned>(db: &TestDb, args: &[&str]) -> T {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = fleetdeck(home.path());
    cmd.args(args).args(["--output", "json"]).env("DATABASE_URL", db.url());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    assert!(matches!(out.status.code(), Some(0 | 5 | 6 | 7)), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn every_verb_prints_typed_json_that_parses_back() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 3, Utc::now(), |_| {}).await.unwrap();
    // A label with a space is one label (the schema allows it).
    let agent: Uuid = sqlx::query_scalar("SELECT id FROM broker.agents WHERE deleted_at IS NULL ORDER BY name LIMIT 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO broker.agent_labels (agent_id, label) VALUES ($1, 'bad label')")
        .bind(agent)
        .execute(&db.pool)
        .await
        .unwrap();

    let execs: Vec<ExecRow> = json(&db, &["exec", "list", "--limit", "200"]).await;
    assert!(execs.len() > 100);
    assert!(execs.iter().any(|e| e.started.is_some() && e.duration_seconds.is_some()));
    assert!(execs.iter().any(|e| e.organisation.is_none()), "a user's agent has no organisation: null");
    let retried: Vec<ExecRow> = json(&db, &["exec", "list", "--limit", "1000"]).await;
    let one = retried.iter().find(|e| e.retries > 0).unwrap_or(&retried[0]);
    let detail: ExecDetail = json(&db, &["exec", "show", &one.id.to_string()]).await;
    assert_eq!(detail.id, one.id);
    assert_eq!(detail.correlation_id, one.correlation, "whole ids in both");
    assert_eq!(detail.archived_at, None);
    // The demo's archived history past 90 days is deleted; the rest reads back from the archive.
    let run: ArchiveRun = json(&db, &["archive"]).await;
    assert!(run.deleted > 0 && run.batches > 0, "{run:?}");
    let archived: Vec<ExecRow> = json(&db, &["exec", "list", "--archive", "--limit", "5"]).await;
    assert!(!archived.is_empty());
    let detail: ExecDetail = json(&db, &["exec", "show", &archived[0].id.to_string()]).await;
    assert!(detail.archived_at.is_some());

    let hosts: Vec<Host> = json(&db, &["fleet", "hosts", "--limit", "100"]).await;
    assert!(hosts.iter().any(|h| h.cores.is_some() && !h.interfaces.is_empty()));
    let agents: Vec<Agent> = json(&db, &["fleet", "agents", "--limit", "5"]).await;
    let first = agents.iter().find(|a| a.id == agent).expect("the agent by name first");
    assert!(first.labels.contains(&"bad label".to_string()), "{:?}", first.labels);

    let stacks: Vec<Stack> = json(&db, &["rollout", "list", "--limit", "50"]).await;
    assert!(!stacks.is_empty());
    let status: Status = json(&db, &["rollout", "status", &stacks[0].name]).await;
    assert_eq!(status.stack.id, stacks[0].id);
    assert_eq!(status.state, stacks[0].state);

    let packages: Vec<Found<PackageColumns>> = json(&db, &["market", "search", "", "--limit", "20"]).await;
    assert!(packages.iter().any(|p| p.columns.updated.is_some()));
    let _: Vec<Found<AppColumns>> = json(&db, &["market", "search", "", "--kind", "apps"]).await;
    let _: Vec<Found<SolutionColumns>> = json(&db, &["market", "search", "", "--kind", "solutions"]).await;
    let _: Vec<Found<AgentColumns>> = json(&db, &["market", "search", "", "--kind", "agents"]).await;
    let offers: Vec<Found<InstanceColumns>> = json(&db, &["market", "search", "", "--kind", "instances"]).await;
    assert!(offers.iter().all(|o| o.columns.price_hourly.is_some()));
}

/// The table shows a label with a space as one label (quoted), not as two.
#[test]
fn a_label_with_a_space_reads_as_one_label_in_the_table() {
    let cell = fleetdeck::service::listing::list_cell(&["env:prod".into(), "bad label".into(), "a,b".into()]);
    assert_eq!(cell, r#"env:prod, "bad label", "a,b""#);
}

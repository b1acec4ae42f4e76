//! The change notifications are gated (migration 32): a burst of changes wakes the listeners
//! once, and the dashboard's trailing read sees what the gate skipped.

use std::time::Duration;

use fleetdeck::service::listing::Entity;
use fleetdeck::service::{Actor, Services};
use fleetdeck::testing::TestDb;
use fleetdeck::ui::feed::NOTIFY_GATE;
use fleetdeck::ui::workers::{Reply, Workers};
use uuid::Uuid;

use crate::fixtures;

/// One statement that changes an execution and an agent: its two statement triggers run a few
/// microseconds apart, well within the gate (in an order PostgreSQL chooses).
const BURST: &str = "WITH e AS (UPDATE platform.workflow_executions SET status_message = now()::text WHERE id = $1) \
                     UPDATE broker.agents SET cluster_name = 'moved' WHERE id = $2";

async fn scene(db: &TestDb) -> (Uuid, Uuid) {
    let user = fixtures::user(&db.pool, "sre@example.com").await;
    let agent = fixtures::agent(&db.pool, "a", "user", user).await;
    let workflow = fixtures::workflow(&db.pool, agent).await;
    let execution = fixtures::execution(&db.pool, workflow, agent, "running").await;
    let cluster_agent = fixtures::cluster_agent(&db.pool, "c", "edge-1").await;
    (execution, cluster_agent)
}

#[tokio::test]
async fn the_gate_in_the_database_is_the_one_the_dashboard_waits_for() {
    let db = TestDb::new().await;
    let ms: i32 = sqlx::query_scalar("SELECT fleetdeck.change_gate_ms()").fetch_one(&db.pool).await.unwrap();
    assert_eq!(Duration::from_millis(ms as u64), NOTIFY_GATE);
}

/// Within the gate only the first statement notifies; once it has passed, the next one does.
#[tokio::test]
async fn a_burst_notifies_once_and_the_next_change_after_the_gate_notifies_again() {
    let db = TestDb::new().await;
    let (execution, cluster_agent) = scene(&db).await;
    let sessions = db.session_pool().await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&sessions).await.unwrap();
    listener.listen("fleetdeck_changes").await.unwrap();
    tokio::time::sleep(NOTIFY_GATE * 2).await;
    sqlx::query(BURST).bind(execution).bind(cluster_agent).execute(&db.pool).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(30), listener.recv()).await.expect("a notification").unwrap();
    assert!(["executions", "agents"].contains(&first.payload()), "{first:?}");
    let second = tokio::time::timeout(NOTIFY_GATE * 5, listener.recv()).await;
    assert!(second.is_err(), "the burst's other change was not notified: {second:?}");
    // The gate has passed: the agent's next change notifies.
    sqlx::query("UPDATE broker.agents SET cluster_name = 'back' WHERE id = $1")
        .bind(cluster_agent)
        .execute(&db.pool)
        .await
        .unwrap();
    let third = tokio::time::timeout(Duration::from_secs(30), listener.recv()).await.expect("a notification").unwrap();
    assert_eq!(third.payload(), "agents");
}

/// The dashboard's listener hears the burst's one notification and reads every notified list
/// once more after the gate, so the change it skipped is read too.
#[tokio::test]
async fn the_dashboard_reads_what_the_gate_skipped() {
    let db = TestDb::new().await;
    let (execution, cluster_agent) = scene(&db).await;
    let s = Services::new(db.pool.clone(), Actor { label: "tester".into(), user_id: None });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _workers = Workers::start(s, None, None, tx);
    // The listener connects in the background: change until it hears.
    fixtures::until_heard(&db.pool, execution, &mut rx).await;
    // Until it is quiet: the trailing reads of that change.
    while let Ok(Some(reply)) = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
        assert!(matches!(reply, Reply::Changed(_)), "{reply:?}");
    }
    sqlx::query(BURST).bind(execution).bind(cluster_agent).execute(&db.pool).await.unwrap();
    let mut heard = Vec::new();
    while !(heard.contains(&Entity::Agents) && heard.contains(&Entity::Executions)) {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
            Ok(Some(Reply::Changed(entity))) => heard.push(entity),
            other => panic!("after {heard:?}: {other:?}"),
        }
    }
}

//! The simulator: hundreds of ticks on the small demo, never a refused transition.

use std::time::Duration;

use chrono::Utc;
use fleetdeck::import::demo::{self, Scale};
use fleetdeck::sim::{self, Options, State};
use fleetdeck::testing::TestDb;

async fn scalar(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

#[tokio::test]
async fn three_hundred_ticks_move_the_demo_without_one_refused_transition() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 3, Utc::now(), |_| {}).await.unwrap();
    let completed_before =
        scalar(&db, "SELECT count(*) FROM platform.workflow_executions WHERE status = 'completed'").await;
    let executions_before = scalar(&db, "SELECT count(*) FROM platform.workflow_executions").await;
    let objects_before = scalar(&db, "SELECT count(*) FROM broker.deployment_objects").await;
    let events_before = scalar(&db, "SELECT count(*) FROM broker.agent_events").await;

    // Ticks of one second each, a 5-second heartbeat interval: hosts go silent and come back.
    let opts = Options {
        tick: Duration::from_secs(1),
        heartbeat_interval: Duration::from_secs(5),
        silent_fraction: 0.1,
        deploy_every: 25,
        ..Options::default()
    };
    let mut state = State::new(9);
    let mut max_silent = 0;
    for _ in 0..300 {
        sim::tick(&db.pool, &mut state, &opts).await.unwrap();
        max_silent = max_silent.max(state.silent().0);
    }
    let t = state.totals;
    assert_eq!(t.rejected, 0, "{t:?}");
    assert!(t.transitions > 1000, "{t:?}");
    assert_eq!(t.deployments, 12, "{t:?}");
    assert!(t.events > 0, "agents reported the new objects: {t:?}");
    assert!(t.host_heartbeats > 0 && t.agent_heartbeats > 0, "{t:?}");
    assert!(max_silent >= 20, "about a tenth of the active hosts fell silent: {max_silent}");

    assert!(
        scalar(&db, "SELECT count(*) FROM platform.workflow_executions WHERE status = 'completed'").await
            > completed_before
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM platform.workflow_executions").await,
        executions_before + t.new_executions as i64
    );
    assert_eq!(scalar(&db, "SELECT count(*) FROM broker.deployment_objects").await, objects_before + 12);
    assert!(scalar(&db, "SELECT count(*) FROM broker.agent_events").await > events_before);
    // Failures carry their message.
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM broker.agent_events WHERE status = 'FAILURE' AND message IS NULL").await,
        0
    );
    // Finished executions carry their timestamps and errors.
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM platform.workflow_executions WHERE status IN ('failed', 'timeout') AND error_code IS NULL").await,
        0
    );
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM platform.workflow_executions WHERE status IN ('completed', 'failed', 'timeout') AND completed_at IS NULL").await,
        0
    );
}

#[tokio::test]
async fn a_paused_execution_is_left_alone_by_the_workers() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 4, Utc::now(), |_| {}).await.unwrap();
    let paused: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM platform.workflow_executions WHERE status = 'paused'")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert!(!paused.is_empty());
    let mut state = State::new(1);
    for _ in 0..50 {
        sim::tick(&db.pool, &mut state, &Options::default()).await.unwrap();
    }
    let still: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM platform.workflow_executions WHERE id = ANY($1) AND status = 'paused'",
    )
    .bind(&paused)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(still as usize, paused.len(), "resume and cancel are the users' verbs");
    assert_eq!(state.totals.rejected, 0);
}

/// A backlog of due hosts (the simulator started long after the seed) is heartbeaten at most
/// `HEARTBEATS_PER_TICK` a tick, so no tick outlasts the statement timeout, and the next ticks
/// catch up.
#[tokio::test]
async fn a_backlog_of_heartbeats_is_caught_up_over_ticks() {
    let db = TestDb::new().await;
    let over = fleetdeck::service::sim::HEARTBEATS_PER_TICK + 500;
    sqlx::query(
        "WITH o AS (INSERT INTO edge.orchestrator (name, type) VALUES ('o', 'central') RETURNING id), \
              s AS (INSERT INTO edge.site (site_id, name, orchestrator_id) SELECT 'site-b', 'b', id FROM o RETURNING id) \
         INSERT INTO edge.host (host_id, site_id, hostname, status, last_heartbeat) \
         SELECT 'b-' || n, s.id, 'b-' || n, 'Active', now() - interval '1 hour' FROM s, generate_series(1, $1) n",
    )
    .bind(over)
    .execute(&db.pool)
    .await
    .unwrap();
    let due = "SELECT count(*) FROM edge.host WHERE last_heartbeat < now() - interval '30 seconds'";
    let (hosts, _) = fleetdeck::service::sim::heartbeats(&db.pool, 30.0, &[], &[]).await.unwrap();
    assert_eq!(hosts as i64, fleetdeck::service::sim::HEARTBEATS_PER_TICK);
    assert_eq!(scalar(&db, due).await, 500);
    let (hosts, _) = fleetdeck::service::sim::heartbeats(&db.pool, 30.0, &[], &[]).await.unwrap();
    assert_eq!(hosts, 500);
    assert_eq!(scalar(&db, due).await, 0);
}

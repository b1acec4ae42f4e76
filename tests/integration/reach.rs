//! The reach the database keeps (migration 26): which live agents each live stack reaches, by
//! which routes, and each reached agent's latest report on the desired object, with the per-stack
//! and per-agent counts. Exact after every kind of change, after the demo's bulk load, and under
//! concurrent writers of reach and reports.

use chrono::Utc;
use fleetdeck::db::handle::Db;
use fleetdeck::db::pool::{self, PoolSettings};
use fleetdeck::import::demo::{self, Scale};
use fleetdeck::testing::{pool_settings, TestDb};
use uuid::Uuid;

use crate::fixtures::*;

async fn exec(pool: &Db, sql: &str, id: Uuid) {
    sqlx::query(sql).bind(id).execute(pool).await.unwrap();
}

/// (agent, by_target, by_label, by_annotation, status) of each agent `stack` reaches, by agent.
async fn reached(pool: &Db, stack: Uuid) -> Vec<(Uuid, bool, bool, bool, Option<String>)> {
    sqlx::query_as(
        "SELECT agent_id, by_target, by_label, by_annotation, status FROM fleetdeck.stack_reach \
         WHERE stack_id = $1 ORDER BY agent_id",
    )
    .bind(stack)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// (agents, success, failure, pending, offline) of `stack`, offline judged an hour after now.
async fn rollup(pool: &Db, stack: Uuid) -> (i64, i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT agents, success, failure, pending, offline \
         FROM fleetdeck.stack_rollup($1, interval '10 minutes', now())",
    )
    .bind(stack)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn exact(pool: &Db, after: &str) {
    assert_eq!(reach_wrong(pool).await, Vec::<String>::new(), "after {after}");
}

#[tokio::test]
async fn the_kept_reach_follows_every_kind_of_change() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let g = generator(pool, "gen").await;
    let (s1, s2, s3) = (stack(pool, "one", g).await, stack(pool, "two", g).await, stack(pool, "three", g).await);
    let mut agents = Vec::new();
    for name in ["a1", "a2", "a3", "a4"] {
        let a = cluster_agent(pool, name, "c").await;
        exec(pool, "UPDATE broker.agents SET status = 'ACTIVE', last_heartbeat = now() WHERE id = $1", a).await;
        agents.push(a);
    }
    let (a1, a2, a3, a4) = (agents[0], agents[1], agents[2], agents[3]);

    // Routes: a target, a label, an annotation.
    sqlx::query("INSERT INTO broker.agent_targets (agent_id, stack_id) VALUES ($1, $2)")
        .bind(a1)
        .bind(s1)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(reached(pool, s1).await, vec![(a1, true, false, false, None)]);
    exact(pool, "a target").await;
    sqlx::query("INSERT INTO broker.stack_labels (stack_id, label) VALUES ($1, 'edge')")
        .bind(s2)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO broker.agent_labels (agent_id, label) SELECT unnest($1::uuid[]), 'edge'")
        .bind(vec![a2, a3])
        .execute(pool)
        .await
        .unwrap();
    let mut by_label = vec![(a2, false, true, false, None), (a3, false, true, false, None)];
    by_label.sort();
    assert_eq!(reached(pool, s2).await, by_label);
    exact(pool, "labels on both sides").await;
    sqlx::query("INSERT INTO broker.stack_annotations (stack_id, key, value) VALUES ($1, 'team', 'x')")
        .bind(s3)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO broker.agent_annotations (agent_id, key, value) VALUES ($1, 'team', 'x')")
        .bind(a4)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(reached(pool, s3).await, vec![(a4, false, false, true, None)]);
    exec(pool, "UPDATE broker.agent_annotations SET value = 'y' WHERE agent_id = $1", a4).await;
    assert_eq!(reached(pool, s3).await, vec![]);
    exact(pool, "an annotation's value changed").await;

    // Reports on the desired object; an older one does not replace a newer.
    let o1 = deployment_object(pool, s1, g, "v: 1\n").await;
    assert_eq!(rollup(pool, s1).await, (1, 0, 0, 1, 0));
    let e1 = event(pool, a1, o1, "SUCCESS").await;
    assert_eq!(rollup(pool, s1).await, (1, 1, 0, 0, 0));
    sqlx::query(
        "INSERT INTO broker.agent_events (agent_id, deployment_object_id, event_type, status, created_at) \
         VALUES ($1, $2, 'DEPLOY', 'FAILURE', now() - interval '1 day')",
    )
    .bind(a1)
    .bind(o1)
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(reached(pool, s1).await, vec![(a1, true, false, false, Some("SUCCESS".into()))]);
    exact(pool, "reports").await;

    // A new desired object: pending again; soft-deleted, the one before is desired again.
    let o2 = deployment_object(pool, s1, g, "v: 2\n").await;
    assert_eq!(rollup(pool, s1).await, (1, 0, 0, 1, 0));
    let pending: i32 = sqlx::query_scalar("SELECT pending FROM fleetdeck.agent_rollup($1, now())")
        .bind(a1)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(pending, 1);
    exact(pool, "a new object").await;
    exec(pool, "UPDATE broker.deployment_objects SET deleted_at = now() WHERE id = $1", o2).await;
    assert_eq!(rollup(pool, s1).await, (1, 1, 0, 0, 0));
    // The report withdrawn: the older failure is the latest live one.
    exec(pool, "UPDATE broker.agent_events SET deleted_at = now() WHERE id = $1", e1).await;
    assert_eq!(rollup(pool, s1).await, (1, 0, 1, 0, 0));
    exact(pool, "an object and a report soft-deleted").await;

    // Silent agents are offline, read at the clock given.
    exec(pool, "UPDATE broker.agents SET last_heartbeat = now() - interval '1 hour' WHERE id = $1", a1).await;
    deployment_object(pool, s1, g, "v: 3\n").await;
    assert_eq!(rollup(pool, s1).await, (1, 0, 0, 0, 1));

    // Agents and stacks deleted and restored.
    exec(pool, "UPDATE broker.agents SET deleted_at = now() WHERE id = $1", a2).await;
    assert_eq!(reached(pool, s2).await, vec![(a3, false, true, false, None)]);
    exec(pool, "UPDATE broker.agents SET deleted_at = NULL WHERE id = $1", a2).await;
    assert_eq!(reached(pool, s2).await, by_label);
    exact(pool, "an agent deleted and restored").await;
    exec(pool, "DELETE FROM broker.agents WHERE id = $1", a3).await;
    assert_eq!(reached(pool, s2).await, vec![(a2, false, true, false, None)]);
    exec(pool, "UPDATE broker.stacks SET deleted_at = now() WHERE id = $1", s2).await;
    assert_eq!(reached(pool, s2).await, vec![]);
    assert_eq!(rollup(pool, s2).await, (0, 0, 0, 0, 0));
    exact(pool, "an agent hard-deleted, a stack soft-deleted").await;
    exec(pool, "DELETE FROM broker.agent_targets WHERE agent_id = $1", a1).await;
    assert_eq!(reached(pool, s1).await, vec![]);
    exact(pool, "a target removed").await;

    // A truncate reckons everything again.
    sqlx::query("INSERT INTO broker.stack_labels (stack_id, label) VALUES ($1, 'edge')")
        .bind(s1)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(reached(pool, s1).await.len(), 1);
    sqlx::query("TRUNCATE broker.agent_labels").execute(pool).await.unwrap();
    assert_eq!(reached(pool, s1).await, vec![]);
    exact(pool, "a truncate").await;

    // The check sees a kept row or count that is wrong.
    sqlx::query("INSERT INTO broker.agent_targets (agent_id, stack_id) VALUES ($1, $2)")
        .bind(a4)
        .bind(s3)
        .execute(pool)
        .await
        .unwrap();
    exact(pool, "a target again").await;
    sqlx::query("ALTER TABLE fleetdeck.stack_reach DISABLE TRIGGER USER").execute(pool).await.unwrap();
    exec(pool, "UPDATE fleetdeck.stack_reach SET by_label = true WHERE stack_id = $1", s3).await;
    exec(pool, "UPDATE fleetdeck.agent_reach_counts SET by_label = by_label + 1 WHERE agent_id = $1", a4).await;
    let wrong = reach_wrong(pool).await;
    assert_eq!(wrong.len(), 2, "the pair and the agent's counts: {wrong:#?}");
    assert!(wrong[0].starts_with(&format!("agent {a4}")) && wrong[1].starts_with(&format!("pair {s3}")), "{wrong:#?}");
}

#[tokio::test]
async fn the_demo_load_without_triggers_is_reckoned_again() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 5, Utc::now(), |_| {}).await.unwrap();
    let (pairs, reported): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(status) FROM fleetdeck.stack_reach").fetch_one(&db.pool).await.unwrap();
    assert!(pairs > 100 && reported > 0, "{pairs} pairs, {reported} reported");
    exact(&db.pool, "the demo's seed").await;
}

/// Writers of routes (labels, targets), of desired objects and of reports, at once and in
/// transactions of several statements: no writer fails, and the kept reach stays exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_of_reach_and_reports_keep_it_exact() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 6, Utc::now(), |_| {}).await.unwrap();
    let agents: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM broker.agents WHERE deleted_at IS NULL ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    let stacks: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT id, generator_id FROM broker.stacks WHERE deleted_at IS NULL ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let label: String = sqlx::query_scalar("SELECT label FROM broker.stack_labels ORDER BY label LIMIT 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    // A connection for each writer: none of them waits for the pool, only for the others' locks.
    let writers_pool =
        pool::connect(db.options(), &PoolSettings { max_connections: 8, ..pool_settings(false) }, None, None)
            .await
            .unwrap();
    let writers: Vec<_> = (0..8usize)
        .map(|n| {
            let (pool, agents, stacks, label) = (writers_pool.clone(), agents.clone(), stacks.clone(), label.clone());
            tokio::spawn(async move {
                for round in 0..25usize {
                    let agent = agents[(n * 31 + round * 7) % agents.len()];
                    let (stack, generator) = stacks[(n * 17 + round * 5) % stacks.len()];
                    let mut tx = pool.begin().await.unwrap_or_else(|e| panic!("writer {n}, round {round}: {e}"));
                    match n % 4 {
                        // Routes, added then taken away in the next round.
                        0 => {
                            sqlx::query(
                                "INSERT INTO broker.agent_labels (agent_id, label) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                            )
                            .bind(agent)
                            .bind(&label)
                            .execute(&mut *tx)
                            .await
                            .unwrap_or_else(|e| panic!("writer {n}, round {round}: {e}"));
                            let earlier = agents[(n * 31 + round.saturating_sub(1) * 7) % agents.len()];
                            sqlx::query("DELETE FROM broker.agent_labels WHERE agent_id = $1 AND label = $2")
                                .bind(earlier)
                                .bind(&label)
                                .execute(&mut *tx)
                                .await
                                .unwrap_or_else(|e| panic!("writer {n}, round {round}: {e}"));
                        }
                        1 => {
                            sqlx::query(
                                "INSERT INTO broker.agent_targets (agent_id, stack_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                            )
                            .bind(agent)
                            .bind(stack)
                            .execute(&mut *tx)
                            .await
                            .unwrap_or_else(|e| panic!("writer {n}, round {round}: {e}"));
                        }
                        // New desired objects.
                        2 => {
                            let yaml = format!("writer: {n}\nround: {round}\n");
                            sqlx::query(
                                "INSERT INTO broker.deployment_objects (stack_id, yaml_content, yaml_checksum, generator_id) \
                                 VALUES ($1, $2, $3, $4)",
                            )
                            .bind(stack)
                            .bind(&yaml)
                            .bind(sha256_hex(&yaml))
                            .bind(generator)
                            .execute(&mut *tx)
                            .await
                            .unwrap_or_else(|e| panic!("writer {n}, round {round}: {e}"));
                        }
                        // Reports by every agent a stack reaches, on its desired object.
                        _ => {
                            sqlx::query(
                                "INSERT INTO broker.agent_events (agent_id, deployment_object_id, event_type, status) \
                                 SELECT r.agent_id, r.object_id, 'DEPLOY', CASE WHEN random() < 0.8 THEN 'SUCCESS' ELSE 'FAILURE' END \
                                   FROM fleetdeck.stack_reach r WHERE r.stack_id = $1 AND r.object_id IS NOT NULL",
                            )
                            .bind(stack)
                            .execute(&mut *tx)
                            .await
                            .unwrap_or_else(|e| panic!("writer {n}, round {round}: {e}"));
                        }
                    }
                    tx.commit().await.unwrap_or_else(|e| panic!("writer {n}, round {round}: {e}"));
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let reported: i64 =
        sqlx::query_scalar("SELECT count(status) FROM fleetdeck.stack_reach").fetch_one(&db.pool).await.unwrap();
    assert!(reported > 0);
    exact(&db.pool, "eight concurrent writers").await;
}

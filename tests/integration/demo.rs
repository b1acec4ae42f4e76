//! The demo generator: counts, consistency, determinism.

use chrono::{TimeZone, Utc};
use fleetdeck::import::demo::{self, Scale, Sizes, KNOWN_USERS};
use fleetdeck::testing::TestDb;

async fn scalar(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

async fn fingerprint(db: &TestDb) -> Vec<String> {
    let queries = [
        "SELECT md5(string_agg(id::text || host_id || hostname || status || last_heartbeat::text || metadata::text, ',' ORDER BY id)) FROM edge.host",
        "SELECT md5(string_agg(id::text || status || correlation_id::text || coalesce(parent_execution_id::text, '') || started_at::text || execution_logs::text, ',' ORDER BY id)) FROM platform.workflow_executions",
        "SELECT md5(string_agg(id::text || yaml_checksum || stack_id::text, ',' ORDER BY id)) FROM broker.deployment_objects WHERE NOT is_deletion_marker",
        "SELECT md5(string_agg(id::text || agent_id::text || status || coalesce(message, ''), ',' ORDER BY id)) FROM broker.agent_events",
        "SELECT md5(string_agg(repository_name || name || version || available_versions::text, ',' ORDER BY repository_name, name)) FROM cloud.bitnami_packages",
        "SELECT md5(string_agg(provider || name || coalesce(price_hourly::text, ''), ',' ORDER BY provider, name)) FROM cloud.instances",
        "SELECT md5(string_agg(id::text || name || capabilities::text, ',' ORDER BY id)) FROM ergon.solutions",
        "SELECT md5(string_agg(organization_id::text || user_id::text || role, ',' ORDER BY organization_id, user_id)) FROM platform.organization_members",
    ];
    let mut out = Vec::new();
    for q in queries {
        out.push(sqlx::query_scalar::<_, String>(q).fetch_one(&db.pool).await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_small_demo_fills_every_schema_consistently() {
    let db = TestDb::new().await;
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
    let report = demo::seed(&db.pool, Scale::Small, 7, now, |_| {}).await.unwrap();
    let sizes = Sizes::of(Scale::Small);
    assert!(report.tally.0.iter().any(|(t, n)| t == "platform.workflow_executions" && *n == sizes.executions as u64));

    for (table, at_least) in [
        ("edge.orchestrator", 3),
        ("edge.site", 12),
        ("edge.host", 300),
        ("broker.generators", 4),
        ("broker.agents", 200),
        ("broker.stacks", 40),
        ("broker.agent_events", 100),
        ("broker.agent_labels", 200),
        ("broker.agent_annotations", 200),
        ("broker.agent_targets", 10),
        ("platform.users", 60),
        ("platform.organizations", 8),
        ("platform.agents", 150),
        ("platform.container_resources", 150),
        ("platform.marketplace_integrations", 10),
        ("platform.workflows", 300),
        ("platform.workflow_executions", 600),
        ("cloud.bitnami_packages", 300),
        ("cloud.instances", 1000),
        ("cloud.providers", 9),
        ("cloud.regions", 150),
        ("cloud.cred", 9),
        ("catalog.application_desc", 30),
        ("catalog.deployment_profile", 30),
        ("catalog.component", 30),
        ("ergon.solutions", 120),
        ("ergon.integrations", 50),
        ("ergon.capabilities", 16),
        ("ergon.templates", 5),
        ("public.messages", 20),
    ] {
        let n = scalar(&db, &format!("SELECT count(*) FROM {table}")).await;
        assert!(n >= at_least, "{table}: {n} < {at_least}");
    }

    // Every status, role and health appears.
    assert_eq!(scalar(&db, "SELECT count(DISTINCT status) FROM platform.workflow_executions").await, 8);
    assert_eq!(scalar(&db, "SELECT count(DISTINCT role) FROM platform.organization_members").await, 4);
    assert_eq!(scalar(&db, "SELECT count(DISTINCT status) FROM edge.host").await, 3);
    assert_eq!(scalar(&db, "SELECT count(DISTINCT status) FROM broker.agents").await, 2);
    assert_eq!(scalar(&db, "SELECT count(DISTINCT status) FROM broker.agent_events").await, 2);
    assert_eq!(scalar(&db, "SELECT count(DISTINCT owner_type) FROM platform.agents").await, 2);

    // Retry chains follow the seed's rule: a child of a failed or timed-out parent, one retry more.
    let chains =
        scalar(&db, "SELECT count(*) FROM platform.workflow_executions WHERE parent_execution_id IS NOT NULL").await;
    assert!(chains > 0);
    let broken = scalar(
        &db,
        "SELECT count(*) FROM platform.workflow_executions c JOIN platform.workflow_executions p ON p.id = c.parent_execution_id \
         WHERE c.retry_count <> p.retry_count + 1 OR p.status NOT IN ('failed', 'timeout') \
            OR c.workflow_id <> p.workflow_id OR c.retry_count > c.max_retries",
    )
    .await;
    assert_eq!(broken, 0);
    // Timestamps fit the status.
    let bad_times = scalar(
        &db,
        "SELECT count(*) FROM platform.workflow_executions WHERE \
         (status IN ('completed', 'failed', 'cancelled', 'timeout')) <> (completed_at IS NOT NULL) \
         OR (status = 'paused') <> (paused_at IS NOT NULL) OR completed_at < started_at \
         OR (status IN ('failed', 'timeout')) <> (error_code IS NOT NULL)",
    )
    .await;
    assert_eq!(bad_times, 0);
    // Workflows share their agent's framework; events belong to objects of stacks that exist.
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM platform.workflows w JOIN platform.agents a ON a.id = w.agent_id WHERE w.framework <> a.framework").await,
        0
    );
    // Soft-deleted stacks carry exactly one live deletion marker; live stacks none.
    let deleted = scalar(&db, "SELECT count(*) FROM broker.stacks WHERE deleted_at IS NOT NULL").await;
    assert!(deleted >= 1);
    let markers =
        scalar(&db, "SELECT count(*) FROM broker.deployment_objects WHERE is_deletion_marker AND deleted_at IS NULL")
            .await;
    assert_eq!(markers, deleted);
    // Every deployment object is valid Kubernetes YAML with the required fields.
    let yamls: Vec<String> =
        sqlx::query_scalar("SELECT yaml_content FROM broker.deployment_objects WHERE NOT is_deletion_marker LIMIT 20")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    for y in yamls {
        for doc in y.split("\n---\n") {
            let v: serde_json::Value = serde_yaml_ng::from_str(doc).unwrap();
            assert!(v["apiVersion"].is_string() && v["kind"].is_string() && v["metadata"]["name"].is_string(), "{doc}");
        }
    }
    // Hosts carry what the profile fit rule reads.
    let described = scalar(
        &db,
        "SELECT count(*) FROM edge.host WHERE metadata ? 'architecture' AND metadata ? 'cores' AND metadata ? 'memory' \
         AND metadata ? 'storage' AND metadata ? 'peripherals' AND metadata ? 'interfaces'",
    )
    .await;
    assert_eq!(described, 300);
    // Credentials are obviously fake; the known users exist.
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM cloud.providers WHERE provider_credentials::text NOT LIKE '%DEMO-NOT-A-SECRET%'"
        )
        .await,
        0
    );
    for (email, _, _) in KNOWN_USERS {
        assert_eq!(scalar(&db, &format!("SELECT count(*) FROM platform.users WHERE email = '{email}'")).await, 1);
    }
    // Category totals were refreshed.
    assert_eq!(
        scalar(&db, "SELECT sum(total)::bigint FROM cloud.bitnami_categories").await,
        scalar(&db, "SELECT count(*) FROM cloud.bitnami_packages WHERE category BETWEEN 1 AND 8").await
    );
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_and_another_seed_other_data() {
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
    let (a, b, c) = (TestDb::new().await, TestDb::new().await, TestDb::new().await);
    demo::seed(&a.pool, Scale::Small, 42, now, |_| {}).await.unwrap();
    demo::seed(&b.pool, Scale::Small, 42, now, |_| {}).await.unwrap();
    demo::seed(&c.pool, Scale::Small, 43, now, |_| {}).await.unwrap();
    let (fa, fb, fc) = (fingerprint(&a).await, fingerprint(&b).await, fingerprint(&c).await);
    assert_eq!(fa, fb);
    assert_ne!(fa[0], fc[0]);
    assert_ne!(fa[1], fc[1]);
}

#[tokio::test]
async fn seeding_refuses_a_database_that_holds_data() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 1, Utc::now(), |_| {}).await.unwrap();
    let before = scalar(&db, "SELECT count(*) FROM edge.host").await;
    let err = demo::seed(&db.pool, Scale::Small, 2, Utc::now(), |_| {}).await.unwrap_err();
    assert!(err.to_string().contains("already holds platform data"), "{err}");
    assert_eq!(scalar(&db, "SELECT count(*) FROM edge.host").await, before);
}

#[test]
fn the_large_scale_has_seed_003s_counts_and_a_large_fleet() {
    let s = Sizes::of(Scale::Large);
    assert_eq!((s.packages, s.instances), (13_435, 16_695));
    assert_eq!((s.hosts, s.cluster_agents, s.executions), (100_000, 20_000, 1_000_000));
}

/// Issue 23, point 13: the large seed loads its big tables with their secondary indexes dropped
/// and foreign-key checks off; the indexes come back exactly, and a row breaking a foreign key
/// is still refused (checked in one statement per key), so nothing unchecked commits.
#[tokio::test]
async fn a_bulk_load_rebuilds_its_indexes_and_still_checks_every_foreign_key() {
    use fleetdeck::service::bulk::BulkLoad;
    let db = TestDb::new().await;
    let indexes = |db: &TestDb| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = 'platform' AND tablename = 'workflow_executions' \
                 ORDER BY indexname",
            )
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let before = indexes(&db).await;
    assert!(before.len() > 10, "{before:?}");
    // A good load: the indexes are dropped during it and are all back after.
    let mut tx = db.pool.begin().await.unwrap();
    let load = BulkLoad::begin(&mut tx, "platform.workflow_executions").await.unwrap();
    let during: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'platform' AND tablename = 'workflow_executions'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    // (The unique correlation id is platform.execution_ids' since the table is partitioned.)
    assert_eq!(during, 1, "only the primary key stays");
    load.finish(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(indexes(&db).await, before);
    // A row whose workflow does not exist: written while the checks are off, refused after.
    let mut tx = db.pool.begin().await.unwrap();
    let load = BulkLoad::begin(&mut tx, "platform.workflow_executions").await.unwrap();
    sqlx::query(
        "INSERT INTO platform.workflow_executions (workflow_id, agent_id, correlation_id) \
         VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid())",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    match load.finish(&mut tx).await {
        Err(fleetdeck::service::Error::Invalid { field, reason }) => {
            assert_eq!(field, "platform.workflow_executions");
            assert!(reason.starts_with("1 row breaks the foreign key workflow_executions_"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    tx.rollback().await.unwrap();
    assert_eq!(scalar(&db, "SELECT count(*) FROM platform.workflow_executions").await, 0, "nothing committed");
    assert_eq!(indexes(&db).await, before);
}

//! The schema: applying twice changes nothing, and the database knows it is current.

use fleetdeck::db::migrate;
use fleetdeck::testing::TestDb;

#[tokio::test]
async fn a_second_migration_run_changes_nothing() {
    let db = TestDb::new().await;
    let before = migrate::status(&db.pool).await.unwrap();
    assert!(before.is_current(), "{before:?}");
    assert_eq!(before.version(), migrate::latest_version());
    let schema_before: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();

    let applied = migrate::apply(&db.pool).await.unwrap();
    assert!(applied.is_empty(), "{applied:?}");
    let after = migrate::status(&db.pool).await.unwrap();
    assert_eq!(before, after);
    let schema_after: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables \
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(schema_before, schema_after);
    // The bookkeeping table lives in public only, whatever the connecting role is called.
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename = '_sqlx_migrations'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(tables, 1);
}

#[tokio::test]
async fn every_table_the_seeds_name_exists_in_its_schema() {
    let db = TestDb::new().await;
    let expected = [
        "catalog.application_desc",
        "catalog.deployment_profile",
        "catalog.component",
        "edge.orchestrator",
        "edge.site",
        "edge.host",
        "platform.users",
        "platform.organizations",
        "platform.organization_members",
        "platform.agents",
        "platform.workflows",
        "platform.workflow_executions",
        "platform.marketplace_integrations",
        "platform.container_resources",
        "broker.generators",
        "broker.stacks",
        "broker.agents",
        "broker.deployment_objects",
        "broker.agent_events",
        "broker.agent_targets",
        "broker.stack_labels",
        "broker.stack_annotations",
        "broker.agent_labels",
        "broker.agent_annotations",
        "cloud.instances",
        "cloud.bitnami_packages",
        "cloud.bitnami_categories",
        "cloud.bitnami_operator_capabilities",
        "cloud.providers",
        "cloud.regions",
        "cloud.cred",
        "cloud.data",
        "cloud.instances_with_city",
        "cloud.instances_with_country",
        "public.users",
        "public.conversations",
        "public.messages",
        "ergon.solutions",
        "ergon.capabilities",
        "ergon.integrations",
        "ergon.analyses",
        "ergon.configurations",
        "ergon.templates",
        "ergon.chat_sessions",
        "fleetdeck.audit_log",
    ];
    for name in expected {
        let found: bool =
            sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(name).fetch_one(&db.pool).await.unwrap();
        assert!(found, "{name} is missing");
    }
    // A sample of seed-named indexes and columns with their types.
    for index in [
        "platform.idx_workflow_executions_agent_status",
        "platform.idx_container_resources_tier",
        "ergon.idx_solutions_capabilities",
        "ergon.idx_solutions_description_fts",
        "ergon.idx_analyses_status_created",
    ] {
        let found: bool =
            sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(index).fetch_one(&db.pool).await.unwrap();
        assert!(found, "index {index} is missing");
    }
    let embedding: String = sqlx::query_scalar(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = 'cloud' AND table_name = 'instances' AND column_name = 'embedding'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(embedding, "ARRAY", "vector columns are real[]");
    let gin: String = sqlx::query_scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_solutions_tags'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(gin.contains("USING gin"), "{gin}");
}

//! Seed 002: triggers, cascades and constraints of the broker schema.

use fleetdeck::testing::TestDb;

use crate::fixtures::*;

#[tokio::test]
async fn changing_a_deployment_objects_yaml_fails_with_the_seed_message() {
    let db = TestDb::new().await;
    let g = generator(&db.pool, "gen").await;
    let s = stack(&db.pool, "web", g).await;
    let o = deployment_object(&db.pool, s, g, "kind: ConfigMap\n").await;

    let err = sqlx::query(
        "UPDATE broker.deployment_objects SET yaml_content = 'kind: Secret', yaml_checksum = $2 WHERE id = $1",
    )
    .bind(o)
    .bind(sha256_hex("kind: Secret"))
    .execute(&db.pool)
    .await
    .unwrap_err();
    assert_eq!(
        db_message(err),
        "deployment objects cannot be modified except for soft deletion or updating deletion markers"
    );
    // Not even a no-op update of a live object, nor un-deleting.
    let err = sqlx::query(
        "UPDATE broker.deployment_objects SET submitted_at = submitted_at - interval '1 day' WHERE id = $1",
    )
    .bind(o)
    .execute(&db.pool)
    .await
    .unwrap_err();
    assert!(db_message(err).contains("cannot be modified"));

    // Soft deletion is allowed, once.
    sqlx::query("UPDATE broker.deployment_objects SET deleted_at = now() WHERE id = $1")
        .bind(o)
        .execute(&db.pool)
        .await
        .unwrap();
    let err = sqlx::query("UPDATE broker.deployment_objects SET deleted_at = NULL WHERE id = $1")
        .bind(o)
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert!(db_message(err).contains("cannot be modified"));

    // Hard delete is allowed.
    sqlx::query("DELETE FROM broker.deployment_objects WHERE id = $1").bind(o).execute(&db.pool).await.unwrap();
}

#[tokio::test]
async fn the_checksum_must_be_the_sha256_of_the_yaml() {
    let db = TestDb::new().await;
    let g = generator(&db.pool, "gen").await;
    let s = stack(&db.pool, "web", g).await;
    let err = sqlx::query(
        "INSERT INTO broker.deployment_objects (stack_id, yaml_content, yaml_checksum, generator_id) VALUES ($1, 'a: 1', 'abc', $2)",
    )
    .bind(s)
    .bind(g)
    .execute(&db.pool)
    .await
    .unwrap_err();
    assert!(db_message(err).contains("deployment_objects_checksum_is_sha256"));
}

#[tokio::test]
async fn soft_deleting_a_stack_leaves_exactly_one_live_deletion_marker() {
    let db = TestDb::new().await;
    let g = generator(&db.pool, "gen").await;
    let s = stack(&db.pool, "web", g).await;
    for yaml in ["v: 1", "v: 2", "v: 3"] {
        deployment_object(&db.pool, s, g, yaml).await;
    }
    sqlx::query("UPDATE broker.stacks SET deleted_at = now() WHERE id = $1").bind(s).execute(&db.pool).await.unwrap();

    let live: Vec<(bool, String, String, uuid::Uuid, bool)> = sqlx::query_as(
        "SELECT is_deletion_marker, yaml_content, yaml_checksum, generator_id, \
                submitted_at = (SELECT deleted_at FROM broker.stacks WHERE id = $1) \
         FROM broker.deployment_objects WHERE stack_id = $1 AND deleted_at IS NULL",
    )
    .bind(s)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(live.len(), 1, "exactly one live object");
    let (marker, yaml, checksum, gen, submitted_at_deletion) = &live[0];
    assert!(*marker);
    assert_eq!(yaml, "");
    assert_eq!(checksum, &sha256_hex(""));
    assert_eq!(*gen, g, "the marker carries the stack's generator");
    assert!(*submitted_at_deletion);

    let deleted: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM broker.deployment_objects WHERE stack_id = $1 AND deleted_at IS NOT NULL AND NOT is_deletion_marker",
    )
    .bind(s)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(deleted, 3);

    // The marker has the highest sequence_id: it is the stack's desired state.
    let newest_is_marker: bool = sqlx::query_scalar(
        "SELECT is_deletion_marker FROM broker.deployment_objects WHERE stack_id = $1 ORDER BY sequence_id DESC LIMIT 1",
    )
    .bind(s)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(newest_is_marker);
}

#[tokio::test]
async fn a_stack_name_is_reusable_after_a_soft_delete_but_not_before() {
    let db = TestDb::new().await;
    let g = generator(&db.pool, "gen").await;
    let s = stack(&db.pool, "web", g).await;
    let err = sqlx::query("INSERT INTO broker.stacks (name, generator_id) VALUES ('web', $1)")
        .bind(g)
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert!(db_message(err).contains("unique_stack_name"));

    sqlx::query("UPDATE broker.stacks SET deleted_at = now() WHERE id = $1").bind(s).execute(&db.pool).await.unwrap();
    let again = stack(&db.pool, "web", g).await;
    assert_ne!(again, s);
}

#[tokio::test]
async fn agent_and_generator_names_are_unique_among_live_rows() {
    let db = TestDb::new().await;
    let a = cluster_agent(&db.pool, "agent-1", "prod-eu").await;
    cluster_agent(&db.pool, "agent-1", "prod-us").await; // same name, other cluster
    let err = sqlx::query("INSERT INTO broker.agents (name, cluster_name) VALUES ('agent-1', 'prod-eu')")
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert!(db_message(err).contains("unique_agent_cluster"));
    sqlx::query("UPDATE broker.agents SET deleted_at = now() WHERE id = $1").bind(a).execute(&db.pool).await.unwrap();
    cluster_agent(&db.pool, "agent-1", "prod-eu").await;

    let g = generator(&db.pool, "ci").await;
    assert!(sqlx::query("INSERT INTO broker.generators (name) VALUES ('ci')").execute(&db.pool).await.is_err());
    sqlx::query("UPDATE broker.generators SET deleted_at = now() WHERE id = $1")
        .bind(g)
        .execute(&db.pool)
        .await
        .unwrap();
    generator(&db.pool, "ci").await;
}

#[tokio::test]
async fn soft_deleting_a_generator_soft_deletes_its_stacks_and_marks_them() {
    let db = TestDb::new().await;
    let g = generator(&db.pool, "gen").await;
    let other = generator(&db.pool, "other").await;
    let s1 = stack(&db.pool, "a", g).await;
    let s2 = stack(&db.pool, "b", g).await;
    let keep = stack(&db.pool, "c", other).await;
    deployment_object(&db.pool, s1, g, "x: 1").await;
    sqlx::query("UPDATE broker.generators SET deleted_at = now() WHERE id = $1")
        .bind(g)
        .execute(&db.pool)
        .await
        .unwrap();

    let deleted: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM broker.stacks WHERE deleted_at IS NOT NULL ORDER BY name")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(deleted, vec![s1, s2]);
    let markers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM broker.deployment_objects WHERE is_deletion_marker AND deleted_at IS NULL AND stack_id = ANY($1)",
    )
    .bind(vec![s1, s2])
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(markers, 2);
    let kept: bool = sqlx::query_scalar("SELECT deleted_at IS NULL FROM broker.stacks WHERE id = $1")
        .bind(keep)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(kept);
}

#[tokio::test]
async fn hard_deleting_a_stack_removes_targets_events_and_objects() {
    let db = TestDb::new().await;
    let g = generator(&db.pool, "gen").await;
    let s = stack(&db.pool, "web", g).await;
    let o = deployment_object(&db.pool, s, g, "x: 1").await;
    let a = cluster_agent(&db.pool, "a", "c").await;
    event(&db.pool, a, o, "SUCCESS").await;
    sqlx::query("INSERT INTO broker.agent_targets (agent_id, stack_id) VALUES ($1, $2)")
        .bind(a)
        .bind(s)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO broker.stack_labels (stack_id, label) VALUES ($1, 'env')")
        .bind(s)
        .execute(&db.pool)
        .await
        .unwrap();

    sqlx::query("DELETE FROM broker.stacks WHERE id = $1").bind(s).execute(&db.pool).await.unwrap();
    let counts: (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM broker.agent_targets), (SELECT count(*) FROM broker.agent_events), \
                (SELECT count(*) FROM broker.deployment_objects), (SELECT count(*) FROM broker.stack_labels)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(counts, (0, 0, 0, 0));
}

#[tokio::test]
async fn agent_soft_delete_soft_deletes_events_and_hard_delete_removes_targets_and_events() {
    let db = TestDb::new().await;
    let g = generator(&db.pool, "gen").await;
    let s = stack(&db.pool, "web", g).await;
    let o = deployment_object(&db.pool, s, g, "x: 1").await;
    let a = cluster_agent(&db.pool, "a", "c").await;
    let b = cluster_agent(&db.pool, "b", "c").await;
    event(&db.pool, a, o, "SUCCESS").await;
    event(&db.pool, a, o, "FAILURE").await;
    event(&db.pool, b, o, "SUCCESS").await;

    sqlx::query("UPDATE broker.agents SET deleted_at = now() WHERE id = $1").bind(a).execute(&db.pool).await.unwrap();
    let (a_deleted, b_live): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE agent_id = $1 AND deleted_at IS NOT NULL), \
                count(*) FILTER (WHERE agent_id = $2 AND deleted_at IS NULL) FROM broker.agent_events",
    )
    .bind(a)
    .bind(b)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((a_deleted, b_live), (2, 1));

    sqlx::query("INSERT INTO broker.agent_targets (agent_id, stack_id) VALUES ($1, $2)")
        .bind(b)
        .bind(s)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO broker.agent_annotations (agent_id, key, value) VALUES ($1, 'zone', 'a')")
        .bind(b)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM broker.agents WHERE id = $1").bind(b).execute(&db.pool).await.unwrap();
    let left: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM broker.agent_targets), \
                (SELECT count(*) FROM broker.agent_events WHERE agent_id = $1), \
                (SELECT count(*) FROM broker.agent_annotations)",
    )
    .bind(b)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(left, (0, 0, 0));
}

#[tokio::test]
async fn updated_at_is_maintained_by_trigger() {
    let db = TestDb::new().await;
    let a = cluster_agent(&db.pool, "a", "c").await;
    sqlx::query("UPDATE broker.agents SET updated_at = '2000-01-01' WHERE id = $1")
        .bind(a)
        .execute(&db.pool)
        .await
        .unwrap();
    let (moved,): (bool,) = sqlx::query_as("SELECT updated_at > '2001-01-01' FROM broker.agents WHERE id = $1")
        .bind(a)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(moved, "the trigger overrides whatever the statement sets");

    // The heartbeat never changes status.
    sqlx::query("UPDATE broker.agents SET last_heartbeat = now() WHERE id = $1")
        .bind(a)
        .execute(&db.pool)
        .await
        .unwrap();
    let status: String =
        sqlx::query_scalar("SELECT status FROM broker.agents WHERE id = $1").bind(a).fetch_one(&db.pool).await.unwrap();
    assert_eq!(status, "INACTIVE", "the default status");
}

#[tokio::test]
async fn labels_annotations_statuses_and_key_hashes_are_validated() {
    let db = TestDb::new().await;
    let a = cluster_agent(&db.pool, "a", "c").await;
    let bad = [
        ("INSERT INTO broker.agent_labels (agent_id, label) VALUES ($1, '')", "agent_labels_label_length"),
        (
            "INSERT INTO broker.agent_annotations (agent_id, key, value) VALUES ($1, 'my key', 'v')",
            "agent_annotations_key_format",
        ),
        (
            "INSERT INTO broker.agent_annotations (agent_id, key, value) VALUES ($1, 'k', 'a b')",
            "agent_annotations_value_format",
        ),
        (
            "INSERT INTO broker.agent_annotations (agent_id, key, value) VALUES ($1, 'k', '')",
            "agent_annotations_value_format",
        ),
        ("UPDATE broker.agents SET status = 'active' WHERE id = $1", "agents_status_check"),
        ("UPDATE broker.agents SET pak_hash = 'ABCDEF' WHERE id = $1", "agents_pak_hash_format"),
    ];
    for (sql, constraint) in bad {
        let err = sqlx::query(sql).bind(a).execute(&db.pool).await.unwrap_err();
        assert!(db_message(err).contains(constraint), "{sql}");
    }
    let long_label = "x".repeat(65);
    assert!(sqlx::query("INSERT INTO broker.agent_labels (agent_id, label) VALUES ($1, $2)")
        .bind(a)
        .bind(&long_label)
        .execute(&db.pool)
        .await
        .is_err());
    sqlx::query("INSERT INTO broker.agent_labels (agent_id, label) VALUES ($1, $2)")
        .bind(a)
        .bind("x".repeat(64))
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE broker.agents SET pak_hash = $2, status = 'ACTIVE' WHERE id = $1")
        .bind(a)
        .bind(sha256_hex("secret"))
        .execute(&db.pool)
        .await
        .unwrap();
    let o = {
        let g = generator(&db.pool, "g").await;
        let s = stack(&db.pool, "s", g).await;
        deployment_object(&db.pool, s, g, "x: 1").await
    };
    let err = sqlx::query("INSERT INTO broker.agent_events (agent_id, deployment_object_id, event_type, status) VALUES ($1, $2, 'DEPLOY', 'OK')")
        .bind(a)
        .bind(o)
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert!(db_message(err).contains("agent_events_status_check"));
}

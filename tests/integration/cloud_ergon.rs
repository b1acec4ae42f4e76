//! Seeds 003 and 004: views, search vectors, trigram index, and Ergon's functions and data.

use fleetdeck::testing::TestDb;

#[tokio::test]
async fn the_instance_views_join_regions_through_the_json_array() {
    let db = TestDb::new().await;
    sqlx::query(
        "INSERT INTO cloud.regions (provider, region_id, continent, country, city) VALUES \
         ('aws', 'eu-west-1', 'Europe', 'Ireland', 'Dublin'), ('aws', 'us-east-1', 'North America', 'United States', 'Ashburn')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO cloud.instances (provider, name, cpu_cores, regions, gpu_count) VALUES \
         ('aws', 'm5.large', 2, '[\"eu-west-1\", \"us-east-1\"]', 0), ('aws', 'p4d.24xlarge', 96, '[\"us-east-1\"]', 8)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT name, city, continent FROM cloud.instances_with_city ORDER BY name, city")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![
            ("m5.large".into(), "Ashburn".into(), "North America".into()),
            ("m5.large".into(), "Dublin".into(), "Europe".into()),
            ("p4d.24xlarge".into(), "Ashburn".into(), "North America".into()),
        ]
    );
    let gpus_in_us: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM cloud.instances_with_country WHERE country = 'United States' AND gpu_count > 0",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(gpus_in_us, vec!["p4d.24xlarge"]);
    // One row per (provider, instance type).
    assert!(sqlx::query("INSERT INTO cloud.instances (provider, name) VALUES ('aws', 'm5.large')")
        .execute(&db.pool)
        .await
        .is_err());
}

#[tokio::test]
async fn search_tsv_is_kept_up_to_date_and_indexed() {
    let db = TestDb::new().await;
    let id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO cloud.bitnami_packages (name, description, keywords, repository_name) \
         VALUES ('kube-prometheus-stack', 'Metrics collection', '[\"monitoring\", \"alerting\"]', 'prometheus-community') \
         RETURNING package_id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let hits = |q: &'static str| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM cloud.bitnami_packages WHERE search_tsv @@ websearch_to_tsquery('english', $1)",
            )
            .bind(q)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(hits("prometheus").await, 1, "name");
    assert_eq!(hits("alerting").await, 1, "keywords");
    assert_eq!(hits("metrics").await, 1, "description");
    assert_eq!(hits("database").await, 0);

    sqlx::query("UPDATE cloud.bitnami_packages SET description = 'A relational database' WHERE package_id = $1")
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(hits("database").await, 1, "updated on UPDATE");
    assert_eq!(hits("metrics").await, 0);

    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'cloud' AND tablename = 'bitnami_packages' ORDER BY indexname",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(indexes.iter().any(|d| d.contains("USING gin (search_tsv)")), "{indexes:?}");
    assert!(indexes.iter().any(|d| d.contains("gin_trgm_ops")), "{indexes:?}");
    let similar: String = sqlx::query_scalar("SELECT name FROM cloud.bitnami_packages WHERE name % 'kube-prometheus'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(similar, "kube-prometheus-stack");
}

#[tokio::test]
async fn artifact_hub_categories_and_capability_levels_are_present() {
    let db = TestDb::new().await;
    let cats: Vec<(i32, String)> =
        sqlx::query_as("SELECT category_id, name FROM cloud.bitnami_categories ORDER BY category_id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(cats.len(), 8);
    assert_eq!(cats[0], (1, "AI / Machine learning".to_string()));
    assert_eq!(cats[7], (8, "Streaming and messaging".to_string()));
    let caps: i64 = sqlx::query_scalar("SELECT count(*) FROM cloud.bitnami_operator_capabilities")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(caps, 5);
}

async fn solution(db: &TestDb, name: &str, caps: &str, usage: i32, status: &str) {
    sqlx::query(
        "INSERT INTO ergon.solutions (name, display_name, type, source, capabilities, usage_count, status) \
         VALUES ($1, $1, 'tool', 'builtin', $2::jsonb, $3, $4::ergon.solution_status)",
    )
    .bind(name)
    .bind(caps)
    .bind(usage)
    .bind(status)
    .execute(&db.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn search_solutions_by_capabilities_ranks_by_match_count_then_usage() {
    let db = TestDb::new().await;
    solution(&db, "csv-reader", r#"["file.read", "data.csv.parse"]"#, 10, "active").await;
    solution(&db, "reader", r#"["file.read"]"#, 50, "active").await;
    solution(&db, "reader-2", r#"["file.read"]"#, 70, "active").await;
    solution(&db, "charts", r#"["file.read", "data.csv.parse", "chart.generate"]"#, 0, "active").await;
    solution(&db, "old-charts", r#"["file.read", "data.csv.parse", "chart.generate"]"#, 99, "deprecated").await;
    solution(&db, "writer", r#"["file.write"]"#, 5, "active").await;
    let ranked: Vec<(String, i32)> = sqlx::query_as(
        "SELECT name::text, match_count FROM ergon.search_solutions_by_capabilities(ARRAY['file.read', 'data.csv.parse', 'chart.generate'])",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        ranked,
        vec![("charts".into(), 3), ("csv-reader".into(), 2), ("reader-2".into(), 1), ("reader".into(), 1)]
    );
}

#[tokio::test]
async fn increment_solution_usage_counts_successes_and_failures() {
    let db = TestDb::new().await;
    solution(&db, "t", "[]", 0, "active").await;
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM ergon.solutions WHERE name = 't'").fetch_one(&db.pool).await.unwrap();
    for ok in [true, true, false] {
        sqlx::query("SELECT ergon.increment_solution_usage($1, $2)").bind(id).bind(ok).execute(&db.pool).await.unwrap();
    }
    let counts: (i32, i32, i32, bool) = sqlx::query_as(
        "SELECT usage_count, success_count, failure_count, last_used_at IS NOT NULL FROM ergon.solutions WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(counts, (3, 2, 1, true));
}

#[tokio::test]
async fn ergon_initial_data_types_and_triggers_exist() {
    let db = TestDb::new().await;
    let caps: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT name::text, category::text, subcategory::text, action::text FROM ergon.capabilities ORDER BY name",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(caps.len(), 6);
    assert!(caps.contains(&("data.csv.parse".into(), "data".into(), Some("csv".into()), "parse".into())));
    let templates: Vec<String> =
        sqlx::query_scalar("SELECT name::text FROM ergon.templates ORDER BY name").fetch_all(&db.pool).await.unwrap();
    assert_eq!(templates, vec!["fastapi_wrapper", "mcp_adapter"]);
    let err = sqlx::query(
        "INSERT INTO ergon.solutions (name, display_name, type, source) VALUES ('x', 'x', 'plugin', 'custom')",
    )
    .execute(&db.pool)
    .await
    .unwrap_err();
    assert!(crate::fixtures::db_message(err).contains("invalid input value for enum ergon.solution_type"));

    solution(&db, "t", "[]", 0, "active").await;
    sqlx::query("UPDATE ergon.solutions SET updated_at = '2000-01-01' WHERE name = 't'")
        .execute(&db.pool)
        .await
        .unwrap();
    let fresh: bool = sqlx::query_scalar("SELECT updated_at > '2001-01-01' FROM ergon.solutions WHERE name = 't'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(fresh);
}

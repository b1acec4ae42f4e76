//! The importers on real data (the subsets in assets/, and the full files in ../shared/data when
//! that folder is there), on malformed input, and twice in a row.

use std::path::{Path, PathBuf};
use std::process::Command;

use fleetdeck::import::{helm_index, instances, margo};
use fleetdeck::service::imports;
use fleetdeck::testing::TestDb;

fn asset(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets").join(rel)
}

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("extra test skipped: {} is absent (the asset subsets above are the proof)", p.display());
        None
    }
}

async fn import_helm(db: &TestDb, path: &Path, repo: &str, readmes: Option<&Path>) -> (usize, usize, imports::Counts) {
    let text = std::fs::read_to_string(path).unwrap();
    let readmes = readmes.map(|r| helm_index::read_readmes(r).unwrap()).unwrap_or_default();
    let repository = helm_index::Repository { name: repo.into(), url: Some(format!("https://{repo}.example")) };
    let parsed = helm_index::parse(path, &text, &repository, &readmes).unwrap();
    let counts = imports::upsert_packages(&db.pool, &parsed.packages, || {}).await.unwrap();
    (parsed.packages.len(), parsed.versions, counts)
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

#[tokio::test]
async fn every_shipped_helm_index_imports_and_reimports_in_place() {
    let db = TestDb::new().await;
    let mut charts = 0;
    for repo in ["argoproj", "bitnami", "grafana", "open-telemetry", "prometheus-community"] {
        let index = asset(&format!("helm/{repo}.index.yaml"));
        let readmes = asset(&format!("helm/{repo}.readmes.jsonl"));
        let (n, versions, counts) = import_helm(&db, &index, repo, Some(&readmes)).await;
        assert!(n > 0 && versions >= n, "{repo}");
        assert_eq!(counts, imports::Counts { inserted: n as u64, updated: 0 }, "{repo}");
        charts += n;
    }
    assert_eq!(count(&db, "SELECT count(*) FROM cloud.bitnami_packages").await, charts as i64);
    assert_eq!(charts, 9 + 129 + 24 + 7 + 46);

    // Twice in a row: nothing new, everything updated, no duplicates.
    let (n, _, counts) = import_helm(&db, &asset("helm/grafana.index.yaml"), "grafana", None).await;
    assert_eq!(counts, imports::Counts { inserted: 0, updated: n as u64 });
    assert_eq!(count(&db, "SELECT count(*) FROM cloud.bitnami_packages").await, charts as i64);
    let readme_kept = count(
        &db,
        "SELECT count(*) FROM cloud.bitnami_packages WHERE repository_name = 'grafana' AND readme IS NOT NULL",
    )
    .await;
    assert_eq!(readme_kept, 24, "a re-import without --readmes keeps the READMEs");

    let (version, category, total): (String, i32, i32) = sqlx::query_as(
        "SELECT p.version, p.category, c.total FROM cloud.bitnami_packages p \
         JOIN cloud.bitnami_categories c ON c.category_id = p.category \
         WHERE p.repository_name = 'bitnami' AND p.name = 'postgresql'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(version.starts_with(char::is_numeric));
    assert_eq!(category, 2, "Database");
    assert!(total >= 1);
    let tsv_hit = count(
        &db,
        "SELECT count(*) FROM cloud.bitnami_packages WHERE search_tsv @@ websearch_to_tsquery('english', 'prometheus')",
    )
    .await;
    assert!(tsv_hit > 5, "search_tsv is filled on import: {tsv_hit}");
}

#[tokio::test]
async fn a_reimport_updates_changed_fields() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.yaml");
    let v1 = "apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0.0\n    description: first\n";
    std::fs::write(&path, v1).unwrap();
    import_helm(&db, &path, "r", None).await;
    let v2 = "apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.1.0\n    description: second\n    deprecated: true\n  - name: app\n    version: 1.0.0\n";
    std::fs::write(&path, v2).unwrap();
    let (_, _, counts) = import_helm(&db, &path, "r", None).await;
    assert_eq!(counts.updated, 1);
    let row: (String, String, bool, i32) = sqlx::query_as(
        "SELECT version, description, deprecated, jsonb_array_length(available_versions) FROM cloud.bitnami_packages",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(row, ("1.1.0".into(), "second".into(), true, 2));
}

#[tokio::test]
async fn the_full_shared_helm_indexes_import() {
    let Some(dir) = shared("helm") else { return };
    let db = TestDb::new().await;
    let (n, versions, _) =
        import_helm(&db, &dir.join("bitnami.index.yaml"), "bitnami", Some(&dir.join("bitnami.readmes.jsonl"))).await;
    // One of bitnami's chart versions is listed twice (re-published): counted once.
    assert_eq!((n, versions), (129, 30_810));
    for (repo, charts, versions_expected) in [
        ("prometheus-community", 46, 3_395),
        ("grafana", 24, 1_611),
        ("argoproj", 9, 1_320),
        ("open-telemetry", 7, 1_023),
    ] {
        let (n, versions, _) = import_helm(&db, &dir.join(format!("{repo}.index.yaml")), repo, None).await;
        assert_eq!((n, versions), (charts, versions_expected), "{repo}");
    }
}

async fn import_instances(db: &TestDb, path: &Path) -> (usize, imports::InstanceCounts) {
    let text = std::fs::read_to_string(path).unwrap();
    let rows = instances::parse(path, &text).unwrap();
    let counts = imports::upsert_instances(&db.pool, &rows, |_| {}).await.unwrap();
    (rows.len(), counts)
}

#[tokio::test]
async fn shipped_instances_import_with_providers_and_regions_and_reimport_in_place() {
    let db = TestDb::new().await;
    let (n, counts) = import_instances(&db, &asset("cloud/instances.jsonl")).await;
    assert_eq!(n, 937);
    assert_eq!(counts.instances.inserted, 937);
    assert_eq!(counts.providers, 4);
    assert_eq!(count(&db, "SELECT count(*) FROM cloud.providers").await, 4);
    let regions = count(&db, "SELECT count(*) FROM cloud.regions").await;
    assert!(regions > 100, "{regions}");
    let gpus = count(&db, "SELECT count(*) FROM cloud.instances WHERE gpu_count > 0").await;
    assert_eq!(gpus, 150, "every GPU type ships");
    let in_dublin =
        count(&db, "SELECT count(DISTINCT name) FROM cloud.instances_with_city WHERE city = 'Dublin'").await;
    assert!(in_dublin > 10, "{in_dublin}");
    let monthly: (f64, f64) = sqlx::query_as(
        "SELECT price_hourly::float8, price_monthly::float8 FROM cloud.instances WHERE price_hourly IS NOT NULL LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!((monthly.1 - monthly.0 * 730.0).abs() < 0.01);

    let (_, again) = import_instances(&db, &asset("cloud/instances.jsonl")).await;
    assert_eq!((again.instances.inserted, again.instances.updated, again.providers), (0, 937, 0));
    assert_eq!(count(&db, "SELECT count(*) FROM cloud.instances").await, 937);
}

#[tokio::test]
async fn the_full_shared_instances_file_imports() {
    let Some(path) = shared("cloud/instances.jsonl") else { return };
    let db = TestDb::new().await;
    let (n, counts) = import_instances(&db, &path).await;
    assert_eq!(n, 3_296);
    assert_eq!(counts.instances.inserted, 3_296);
    assert_eq!(count(&db, "SELECT count(*) FROM cloud.regions").await, 194);
}

#[tokio::test]
async fn margo_descriptions_of_both_forms_import_and_reimport_without_duplicates() {
    let db = TestDb::new().await;
    for _ in 0..2 {
        for file in ["margo/northstar-digitron-orchestrator.yaml", "margo/acme-vision-inspector.yaml"] {
            let path = asset(file);
            let app = margo::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
            imports::upsert_app_description(&db.pool, &app).await.unwrap();
        }
    }
    assert_eq!(count(&db, "SELECT count(*) FROM catalog.application_desc").await, 2);
    assert_eq!(count(&db, "SELECT count(*) FROM catalog.deployment_profile").await, 4);
    assert_eq!(count(&db, "SELECT count(*) FROM catalog.component").await, 5);
    let vendor: String = sqlx::query_scalar(
        "SELECT vendor FROM catalog.application_desc WHERE app_id = 'com-northstartida-digitron-orchestrator'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(vendor, "Northstar Industrial Applications");
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM catalog.deployment_profile ORDER BY id").fetch_all(&db.pool).await.unwrap();
    assert_eq!(
        ids,
        [
            "com-acme-vision-inspector/edge-box",
            "com-acme-vision-inspector/gpu-cluster",
            "com-northstartida-digitron-orchestrator/0",
            "com-northstartida-digitron-orchestrator/1",
        ]
    );
    let edge: (String, f64, String, String, serde_json::Value, serde_json::Value) = sqlx::query_as(
        "SELECT type, cpu_cores, memory, storage, cpu_architectures, interfaces FROM catalog.deployment_profile \
         WHERE id = 'com-acme-vision-inspector/edge-box'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((edge.0.as_str(), edge.1, edge.2.as_str(), edge.3.as_str()), ("compose", 1.5, "2048Mi", "16Gi"));
    assert_eq!(edge.4, serde_json::json!(["arm64"]));
    assert_eq!(edge.5, serde_json::json!([{"type": "ethernet"}, {"type": "usb"}]));
    let timeout: String =
        sqlx::query_scalar("SELECT properties->>'timeout' FROM catalog.component WHERE name = 'inspector'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(timeout, "10m30s");
}

#[test]
fn invalid_margo_files_name_the_file_and_field() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/margo");
    let cases = [
        ("bad-type.yaml", "deploymentProfiles[1].type", "kustomize"),
        ("bad-memory.yaml", "deploymentProfiles[0].requiredResources.memory", "2GB"),
        ("missing-id.yaml", "metadata.id", "is required"),
        ("not-margo.yaml", "apiVersion", "apps/v1"),
    ];
    for (file, field, says) in cases {
        let path = dir.join(file);
        let err = margo::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap_err();
        assert_eq!(err.field.as_deref(), Some(field), "{file}: {err}");
        assert!(err.to_string().contains(file) && err.to_string().contains(says), "{err}");
    }
    let path = dir.join("broken.yaml");
    let err = margo::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap_err();
    assert_eq!(err.line, Some(4), "{err}");
}

#[tokio::test]
async fn bad_input_through_the_cli_writes_nothing_and_says_where() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let bad_yaml = dir.path().join("index.yaml");
    std::fs::write(&bad_yaml, "apiVersion: v1\nentries:\n  a:\n  - name: a\n    version: 1.0.0\n  b: [unclosed\n")
        .unwrap();
    let bad_jsonl = dir.path().join("i.jsonl");
    std::fs::write(&bad_jsonl, "{\"provider\": \"aws\", \"name\": \"a\"}\n{\"provider\": \"aws\", \"name\": 7}\n")
        .unwrap();
    let dir_s = dir.path().to_str().unwrap().to_string();
    let (yaml_out, jsonl_out, margo_out) = tokio::task::spawn_blocking({
        let url_db = TestDbHandle(db.url());
        move || {
            let run = |args: &[&str]| url_db.cli(args);
            (
                run(&["import", "helm-index", &format!("{dir_s}/index.yaml"), "--repo", "r"]),
                run(&["import", "instances", &format!("{dir_s}/i.jsonl")]),
                run(&[
                    "import",
                    "margo",
                    "assets/margo/acme-vision-inspector.yaml",
                    "tests/fixtures/margo/bad-type.yaml",
                ]),
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(yaml_out.0, 2, "invalid input");
    assert!(yaml_out.2.contains("index.yaml: line 6, column 7"), "{}", yaml_out.2);
    assert_eq!(jsonl_out.0, 2, "invalid input");
    assert!(jsonl_out.2.contains("i.jsonl: line 2") && jsonl_out.2.contains("field name"), "{}", jsonl_out.2);
    assert_eq!(count(&db, "SELECT count(*) FROM cloud.bitnami_packages").await, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM cloud.instances").await, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM cloud.providers").await, 0);

    assert_eq!(margo_out.0, 8, "one file refused: problems");
    assert!(margo_out.1.contains("ok  assets/margo/acme-vision-inspector.yaml"), "{}", margo_out.1);
    assert!(
        margo_out.1.contains("!!  tests/fixtures/margo/bad-type.yaml, field deploymentProfiles[1].type"),
        "{}",
        margo_out.1
    );
    assert!(margo_out.1.contains("1 of 2 description(s) imported"), "{}", margo_out.1);
    assert_eq!(count(&db, "SELECT count(*) FROM catalog.application_desc").await, 1);

    // A good import through the CLI is quiet on stderr when it is not a terminal.
    let ok = {
        let h = TestDbHandle(db.url());
        tokio::task::spawn_blocking(move || h.cli(&["import", "instances", "assets/cloud/instances.jsonl"]))
            .await
            .unwrap()
    };
    assert_eq!(ok.0, 0, "{}", ok.2);
    assert_eq!(ok.2, "", "no progress bar when stderr is not a terminal");
    assert!(ok.1.contains("imported 937 instance types"), "{}", ok.1);
}

/// Runs the binary against a database URL (Send, unlike a TestDb borrow).
struct TestDbHandle(String);

impl TestDbHandle {
    fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let home = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
            .args(args)
            .env("DATABASE_URL", &self.0)
            .envs(fleetdeck::testing::child_env())
            .env("XDG_CONFIG_HOME", home.path())
            .env("XDG_STATE_HOME", home.path())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

//! The hosts' hardware the database keeps typed and indexed (migration 24) against the rule in
//! `domain::fit`: the same fitting hosts, site by site, and the same reasons, for awkward
//! metadata as well as the demo's; kept through inserts, updates, deletes and a bulk load.

use std::collections::HashMap;

use chrono::Utc;
use fleetdeck::domain::fit::{self, Host, Peripheral, Requirements};
use fleetdeck::import::demo::{self, Scale};
use fleetdeck::service::market_detail::{fleet_fit, FleetFit};
use fleetdeck::service::{Actor, Services};
use fleetdeck::testing::TestDb;
use serde_json::{json, Value};
use uuid::Uuid;

/// The rule applied host by host in memory, as the detail did before migration 24.
async fn by_the_rule(
    pool: &fleetdeck::db::handle::Db,
    need: &Requirements,
) -> (HashMap<Uuid, usize>, Vec<(String, usize)>) {
    let hosts: Vec<(Uuid, Value)> =
        sqlx::query_as("SELECT site_id, coalesce(metadata, '{}') FROM edge.host").fetch_all(pool).await.unwrap();
    let (mut fitting, mut reasons) = (HashMap::new(), HashMap::<String, usize>::new());
    for (site, meta) in hosts {
        let why = fit::misfits(need, &Host::from_metadata(&meta));
        if why.is_empty() {
            *fitting.entry(site).or_default() += 1;
        }
        for r in why {
            *reasons.entry(r.kind()).or_default() += 1;
        }
    }
    let mut reasons: Vec<(String, usize)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    (fitting, reasons)
}

async fn site_ids(pool: &fleetdeck::db::handle::Db) -> HashMap<String, Uuid> {
    let rows: Vec<(String, Uuid)> = sqlx::query_as("SELECT site_id, id FROM edge.site").fetch_all(pool).await.unwrap();
    rows.into_iter().collect()
}

fn needs() -> Vec<Requirements> {
    let p = |kind: &str, manufacturer: Option<&str>, model: Option<&str>| Peripheral {
        kind: kind.into(),
        manufacturer: manufacturer.map(str::to_string),
        model: model.map(str::to_string),
    };
    let gi = 1024f64.powi(3);
    vec![
        Requirements::default(),
        Requirements { architectures: vec!["ARM64".into(), "amd64".into()], ..Default::default() },
        Requirements { cores: Some(8.0), ..Default::default() },
        Requirements { cores: Some(4.5), memory: Some(16.0 * gi), storage: Some(256.0 * gi), ..Default::default() },
        Requirements { peripherals: vec![p("GPU", Some("nvidia"), None)], ..Default::default() },
        Requirements {
            peripherals: vec![p("gpu", None, Some("Jetson")), p("camera", None, None)],
            ..Default::default()
        },
        Requirements {
            peripherals: vec![p("gpu", Some("NVIDIA"), Some("jetson"))],
            interfaces: vec!["USB".into(), "wifi".into()],
            ..Default::default()
        },
        Requirements { architectures: vec!["riscv".into()], memory: Some(1.0), ..Default::default() },
    ]
}

async fn same_as_the_rule(services: &Services) {
    let needs = needs();
    // Every profile in one call, with one that could not be read among them: it gets nothing
    // and the others keep their own answers.
    let mut asked: Vec<Result<Requirements, String>> = needs.iter().cloned().map(Ok).collect();
    asked.insert(1, Err("not a profile".into()));
    let mut fits = fleet_fit(services, &asked).await.unwrap();
    let unread = fits.remove(1);
    assert_eq!((unread.fitting, unread.hosts, unread.sites.len()), (0, 0, 0), "{unread:?}");
    let sites = site_ids(&services.pool).await;
    for (need, fit) in needs.iter().zip(fits) {
        let (fitting, reasons) = by_the_rule(&services.pool, need).await;
        let FleetFit { fitting: n, sites: by_site, reasons: why, .. } = fit;
        assert_eq!(n, fitting.values().sum::<usize>(), "fitting hosts for {need:?}");
        let got: HashMap<Uuid, usize> = by_site.iter().map(|s| (sites[&s.site], s.fitting)).collect();
        assert_eq!(got, fitting, "fitting hosts by site for {need:?}");
        assert_eq!(why, reasons, "the reasons for {need:?}");
    }
}

#[tokio::test]
async fn awkward_metadata_fits_as_the_rule_says() {
    let db = TestDb::new().await;
    let services = Services::new(db.pool.clone(), Actor::operator());
    sqlx::query(
        "WITH o AS (INSERT INTO edge.orchestrator (name) VALUES ('central') RETURNING id) \
         INSERT INTO edge.site (site_id, orchestrator_id) SELECT s, id FROM o, unnest(ARRAY['berlin-1', 'oslo-2']) s",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let metadata: Vec<Value> = vec![
        json!({"architecture": "arm64", "cores": 8, "memory": "16Gi", "storage": "256Gi",
               "peripherals": [{"type": "GPU", "manufacturer": "NVIDIA", "model": "Jetson"}, {"type": "camera"}],
               "interfaces": [{"type": "USB"}, "WiFi", {"type": "ethernet"}]}),
        json!({"architecture": "AMD64", "cores": "8", "memory": 17179869184u64, "storage": "256G"}),
        json!({"architecture": "amd64", "cores": "8.5", "memory": "16 Gi", "storage": "1e300Ei"}),
        json!({"cores": " 8", "memory": "-1Gi", "storage": "1e400", "peripherals": {"type": "gpu"}}),
        json!({"architecture": "arm64", "cores": "inf", "memory": "512m", "peripherals": [{"type": ""}, {"model": "x"}]}),
        json!({"architecture": "arm64", "cores": "NaN", "memory": "16.0Gi", "interfaces": "usb"}),
        json!({"architecture": "", "cores": -1, "memory": "0.5Ti", "peripherals": [{"type": "gpu", "manufacturer": ""}]}),
        json!({"architecture": 64, "cores": 4.5, "memory": "16Gi", "storage": "256Gi",
               "peripherals": [{"type": "gpu", "manufacturer": "nvidia", "model": 3}], "interfaces": [7, {"type": "usb"}]}),
        json!([1, 2]),
        Value::Null,
        json!({"architecture": "arm64", "cores": 16, "memory": "64Gi", "storage": "1Ti",
               "peripherals": [{"type": "gpu", "model": "JETSON"}], "interfaces": ["usb", "wifi"]}),
    ];
    for (i, m) in metadata.iter().enumerate() {
        sqlx::query(
            "INSERT INTO edge.host (host_id, site_id, metadata) \
             SELECT $1, id, $2 FROM edge.site WHERE site_id = $3",
        )
        .bind(format!("h{i}"))
        .bind(if m.is_null() { None } else { Some(m) })
        .bind(if i % 2 == 0 { "berlin-1" } else { "oslo-2" })
        .execute(&db.pool)
        .await
        .unwrap();
    }
    same_as_the_rule(&services).await;

    // Kept as hosts change: new metadata, a move to another site, a host gone.
    sqlx::query("UPDATE edge.host SET metadata = metadata || '{\"cores\": 2}' WHERE host_id = 'h0'")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE edge.host SET site_id = (SELECT id FROM edge.site WHERE site_id = 'oslo-2') WHERE host_id = 'h10'",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM edge.host WHERE host_id = 'h1'").execute(&db.pool).await.unwrap();
    same_as_the_rule(&services).await;
    let kept: i64 =
        sqlx::query_scalar("SELECT count(*) FROM fleetdeck.host_hardware").fetch_one(&db.pool).await.unwrap();
    assert_eq!(kept, metadata.len() as i64 - 1);
}

/// The demo loads its hosts by COPY with triggers off, then asks the database to read their
/// hardware again; heartbeats (which do not touch the metadata) leave it as it is.
#[tokio::test]
async fn the_demos_fleet_fits_as_the_rule_says() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 2, Utc::now(), |_| {}).await.unwrap();
    let services = Services::new(db.pool.clone(), Actor::operator());
    let (hosts, kept): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM edge.host), (SELECT count(*) FROM fleetdeck.host_hardware)")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(hosts > 10);
    assert_eq!(kept, hosts);
    sqlx::query("UPDATE edge.host SET last_heartbeat = now()").execute(&db.pool).await.unwrap();
    same_as_the_rule(&services).await;
}

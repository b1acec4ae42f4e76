//! Deploying from the Marketplace on a real database: each deploy is one transaction (stack,
//! object, targets, audit rows) or nothing, and every refusal names its field.

use chrono::{TimeZone, Utc};
use fleetdeck::domain::fit::{self, Host};
use fleetdeck::import::demo::{self, Scale};
use fleetdeck::service::deploy::{self, AppDeploy, PackageDeploy, Reach, StackChoice};
use fleetdeck::service::{Actor, Error, Services};
use fleetdeck::testing::TestDb;
use uuid::Uuid;

async fn demo_db() -> TestDb {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 11, Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap(), |_| {})
        .await
        .unwrap();
    db
}

/// Rows that a deploy writes, to show a refusal wrote none.
async fn written(db: &TestDb) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM broker.stacks), (SELECT count(*) FROM broker.deployment_objects), \
             (SELECT count(*) FROM broker.agent_targets), (SELECT count(*) FROM fleetdeck.audit_log)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

fn invalid(e: Error) -> (String, String) {
    match e {
        Error::Invalid { field, reason } => (field, reason),
        other => panic!("not a field error: {other:?}"),
    }
}

#[tokio::test]
async fn a_refused_deploy_names_its_field_and_writes_nothing() {
    let db = demo_db().await;
    let s = Services::new(db.pool.clone(), Actor::operator());
    let generator: Uuid =
        sqlx::query_scalar("SELECT id FROM broker.generators ORDER BY name LIMIT 1").fetch_one(&db.pool).await.unwrap();
    let package: Uuid = sqlx::query_scalar("SELECT package_id FROM cloud.bitnami_packages WHERE name = 'argo-cd'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let existing: String =
        sqlx::query_scalar("SELECT name FROM broker.stacks WHERE deleted_at IS NULL ORDER BY name LIMIT 1")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let pkg = |version: &str, stack: StackChoice| PackageDeploy {
        package,
        version: version.into(),
        release: "argo".into(),
        namespace: "argo".into(),
        values: String::new(),
        stack,
        reach: Reach { agents: Vec::new(), labels: "edge".into() },
    };
    let new = |name: &str| StackChoice::New { name: name.into(), generator };
    let nowhere = Reach::default();
    let gone: Uuid = sqlx::query_scalar(
        "INSERT INTO broker.agents (name, cluster_name, pak_hash, deleted_at) VALUES ('gone', 'c', NULL, now()) RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let before = written(&db).await;
    let cases = [
        (pkg("0.0.0-nope", new("fresh")), "version", "argo-cd has no version \"0.0.0-nope\""),
        (
            pkg("10.1.1", StackChoice::Existing("no-such-stack".into())),
            "stack",
            "there is no live stack \"no-such-stack\"",
        ),
        (pkg("10.1.1", new(&existing)), "stack", "exists"),
        (PackageDeploy { values: "replicas: [1,\n".into(), ..pkg("10.1.1", new("fresh")) }, "values", "line"),
        (PackageDeploy { namespace: "Argo".into(), ..pkg("10.1.1", new("fresh")) }, "namespace", "'A' is not allowed"),
        // A new stack must reach someone (point 5): no agents and no labels is refused.
        (PackageDeploy { reach: nowhere.clone(), ..pkg("10.1.1", new("fresh")) }, "agents", "reaches nobody"),
        (
            PackageDeploy { reach: Reach { agents: vec![gone], labels: String::new() }, ..pkg("10.1.1", new("fresh")) },
            "agents",
            "does not exist or was deleted",
        ),
        (
            PackageDeploy { reach: Reach { agents: vec![], labels: "a\na".into() }, ..pkg("10.1.1", new("fresh")) },
            "labels",
            "line 2",
        ),
        (pkg("10.1.1", StackChoice::Existing(existing.clone())), "labels", "an existing stack keeps its own"),
    ];
    for (d, field, reason) in cases {
        let (f, r) = invalid(deploy::package(&s, &d).await.unwrap_err());
        assert_eq!(f, field, "{r}");
        assert!(r.contains(reason), "{f}: {r}");
    }

    // An app profile to a site where no host fits it, by the rule.
    let app = "com-acme-vision-inspector";
    let profile = format!("{app}/edge-box");
    let profiles = fleetdeck::service::market_detail::profiles(&s, app, Some(&profile)).await.unwrap();
    let need = fleetdeck::domain::fit::Requirements::from_json(&profiles[0]).unwrap();
    let hosts: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT s.site_id::text, h.metadata FROM edge.host h JOIN edge.site s ON s.id = h.site_id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let unfit = (0..12)
        .map(|i| format!("site-{i:05}"))
        .find(|site| !hosts.iter().any(|(s, m)| s == site && fit::fits(&need, &Host::from_metadata(m))))
        .expect("a site where the profile fits no host");
    let app_to = |site: &str| AppDeploy {
        app: app.into(),
        profile: profile.clone(),
        site: site.into(),
        namespace: "vision".into(),
        parameters: String::new(),
        stack: new("vision"),
        reach: Reach::default(),
    };
    let (f, r) = invalid(deploy::app(&s, &app_to(&unfit)).await.unwrap_err());
    assert_eq!(f, "site");
    assert!(r.contains(&format!("no host of site {unfit} fits the profile")), "{r}");
    let (f, r) = invalid(deploy::app(&s, &app_to("site-99999")).await.unwrap_err());
    assert_eq!((f.as_str(), r.as_str()), ("site", "there is no site \"site-99999\""));
    let (f, _) = invalid(
        deploy::app(&s, &AppDeploy { profile: format!("{app}/nope"), ..app_to("site-00002") }).await.unwrap_err(),
    );
    assert_eq!(f, "profile");
    let (f, r) =
        invalid(deploy::app(&s, &AppDeploy { parameters: "x".into(), ..app_to("site-00002") }).await.unwrap_err());
    assert_eq!((f.as_str(), r.as_str()), ("parameters", "line 1: write pointer=value, e.g. global.replicas=2"));
    // A site whose agents are all deleted has nobody to deploy to.
    sqlx::query(
        "UPDATE broker.agents SET deleted_at = now() WHERE id IN \
         (SELECT agent_id FROM broker.agent_annotations WHERE key = 'site' AND value = 'site-00002')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let after_delete = written(&db).await;
    let (f, r) = invalid(deploy::app(&s, &app_to("site-00002")).await.unwrap_err());
    assert_eq!(f, "site");
    assert!(r.contains("has no live agents"), "{r}");
    assert_eq!(written(&db).await, after_delete, "nothing written by any refusal");
    assert_eq!(before.0, after_delete.0);
    assert_eq!(before.1, after_delete.1);
}

#[tokio::test]
async fn a_deploy_into_an_existing_stack_replaces_its_desired_object_and_is_audited() {
    let db = demo_db().await;
    let s = Services::new(db.pool.clone(), Actor::operator());
    let (stack, sequence): (String, i64) = sqlx::query_as(
        "SELECT s.name, max(o.sequence_id) FROM broker.stacks s JOIN broker.deployment_objects o ON o.stack_id = s.id \
         WHERE s.deleted_at IS NULL GROUP BY s.name ORDER BY s.name LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let package: Uuid = sqlx::query_scalar("SELECT package_id FROM cloud.bitnami_packages WHERE name = 'argo-cd'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let d = PackageDeploy {
        package,
        version: "9.7.0".into(),
        release: "argo".into(),
        namespace: "gitops".into(),
        values: "global:\n  domain: argo.example\n".into(),
        stack: StackChoice::Existing(stack.clone()),
        reach: Reach::default(),
    };
    let done = deploy::package(&s, &d).await.unwrap();
    assert!(!done.created);
    assert!(done.object.sequence_id > sequence);
    let status = fleetdeck::service::rollouts::desired(&s, done.stack).await.unwrap();
    let (seq, yaml) = status.1.unwrap();
    assert_eq!(seq, done.object.sequence_id, "the deploy is the stack's desired object now");
    let release: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml.split("---\n").nth(1).unwrap()).unwrap();
    assert_eq!(release["spec"]["chart"]["spec"]["version"], "9.7.0");
    assert_eq!(release["spec"]["values"]["global"]["domain"], "argo.example");
    let audit: (String, String, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT verb, actor, from_state, to_state FROM fleetdeck.audit_log WHERE target_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(done.stack.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(audit.0, "deploy");
    assert_eq!(audit.2, Some(format!("sequence {sequence}")));
    assert!(audit.3.unwrap().starts_with(&format!("sequence {}", done.object.sequence_id)));
    // A deleted stack takes no deploy.
    fleetdeck::service::fleet::soft_delete(&s, fleetdeck::service::fleet::Deletable::Stack, &[done.stack], None)
        .await
        .unwrap();
    let e = deploy::package(&s, &PackageDeploy { stack: StackChoice::Existing(done.stack.to_string()), ..d })
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict { .. }), "{e:?}");
}

/// Point 5 of issue 23: the deploy form's agents become explicit targets and its labels the new
/// stack's; the stack reaches them (not unreached), and nothing else is made a target.
#[tokio::test]
async fn a_new_stack_reaches_the_agents_and_labels_its_deploy_chose() {
    let db = demo_db().await;
    let s = Services::new(db.pool.clone(), Actor::operator());
    let generator: Uuid =
        sqlx::query_scalar("SELECT id FROM broker.generators ORDER BY name LIMIT 1").fetch_one(&db.pool).await.unwrap();
    let package: Uuid = sqlx::query_scalar("SELECT package_id FROM cloud.bitnami_packages WHERE name = 'argo-cd'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let agents: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM broker.agents WHERE deleted_at IS NULL AND status = 'ACTIVE' ORDER BY cluster_name, name LIMIT 2",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(agents.len(), 2);
    let labelled: Uuid = sqlx::query_scalar(
        "SELECT id FROM broker.agents WHERE deleted_at IS NULL AND NOT (id = ANY($1)) ORDER BY name DESC LIMIT 1",
    )
    .bind(&agents)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO broker.agent_labels (agent_id, label) VALUES ($1, 'argo here')")
        .bind(labelled)
        .execute(&db.pool)
        .await
        .unwrap();
    let d = PackageDeploy {
        package,
        version: "10.1.1".into(),
        release: "argo".into(),
        namespace: "argo".into(),
        values: String::new(),
        stack: StackChoice::New { name: "argo-reach".into(), generator },
        reach: Reach { agents: agents.clone(), labels: "argo here\n".into() },
    };
    let done = deploy::package(&s, &d).await.unwrap();
    assert!(done.created);
    assert_eq!(done.targets_added, 2);
    let targets: Vec<Uuid> =
        sqlx::query_scalar("SELECT agent_id FROM broker.agent_targets WHERE stack_id = $1 ORDER BY agent_id")
            .bind(done.stack)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let mut want = agents.clone();
    want.sort();
    assert_eq!(targets, want, "exactly the chosen agents are explicit targets");
    let labels: Vec<String> = sqlx::query_scalar("SELECT label FROM broker.stack_labels WHERE stack_id = $1")
        .bind(done.stack)
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(labels, ["argo here"], "a label with a space is one label");
    let mut reached: Vec<Uuid> = sqlx::query_scalar("SELECT agent_id FROM fleetdeck.stack_agents($1)")
        .bind(done.stack)
        .fetch_all(&db.pool)
        .await
        .unwrap();
    reached.sort();
    let mut all = [agents, vec![labelled]].concat();
    all.sort();
    assert_eq!(reached, all, "the two targets and the labelled agent");
    let thresholds = fleetdeck::domain::health::Thresholds::default();
    let status = fleetdeck::service::rollouts::status(&s, &done.stack.to_string(), &thresholds).await.unwrap();
    assert_eq!(status.state, fleetdeck::domain::rollout::RolloutState::InProgress, "reached, not reported yet");
    assert_eq!(status.agents.len(), 3);
    // The picker's choices carry each agent's health by the dashboard's thresholds.
    let choices = fleetdeck::service::rollouts::target_choices(&s, Some(done.stack), &thresholds, chrono::Utc::now())
        .await
        .unwrap();
    assert!(choices.iter().filter(|c| c.targeted).count() == 2);
    assert!(
        choices.iter().any(|c| c.health == fleetdeck::domain::health::Health::Offline),
        "the demo has offline agents"
    );
}

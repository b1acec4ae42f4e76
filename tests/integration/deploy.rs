//! Deploying from the Marketplace on a real database: each deploy is one transaction (stack,
//! object, targets, audit rows) or nothing, and every refusal names its field.

use chrono::{TimeZone, Utc};
use fleetdeck::domain::fit::{self, Host};
use fleetdeck::import::demo::{self, Scale};
use fleetdeck::service::deploy::{self, AppDeploy, PackageDeploy, StackChoice};
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
    let before = written(&db).await;
    let pkg = |version: &str, stack: StackChoice| PackageDeploy {
        package,
        version: version.into(),
        release: "argo".into(),
        namespace: "argo".into(),
        values: String::new(),
        stack,
    };
    let new = |name: &str| StackChoice::New { name: name.into(), generator };
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

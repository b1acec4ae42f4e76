//! Rollouts on a real database: reach by route, the desired object, progress from the agents'
//! reports, submitting checked YAML, immutability, and `fleetdeck rollout` for scripts.

use fleetdeck::db::handle::Db;
use fleetdeck::domain::health::Thresholds;
use fleetdeck::domain::rollout::{Progress, RolloutState};
use fleetdeck::service::rollouts;
use fleetdeck::service::{Actor, Error, Services};
use fleetdeck::testing::TestDb;
use uuid::Uuid;

use crate::fixtures;

fn services(db: &TestDb) -> Services {
    Services::new(db.pool.clone(), Actor { label: "tester".into(), user_id: None })
}

async fn exec(pool: &Db, sql: &str, id: Uuid) {
    sqlx::query(sql).bind(id).execute(pool).await.unwrap();
}

/// An agent that is ACTIVE and heard from just now.
async fn live_agent(pool: &Db, name: &str) -> Uuid {
    let id = fixtures::cluster_agent(pool, name, "prod-eu").await;
    exec(pool, "UPDATE broker.agents SET status = 'ACTIVE', last_heartbeat = now() WHERE id = $1", id).await;
    id
}

async fn report(pool: &Db, agent: Uuid, object: Uuid, status: &str, message: Option<&str>) {
    sqlx::query(
        "INSERT INTO broker.agent_events (agent_id, deployment_object_id, event_type, status, message) \
         VALUES ($1, $2, 'DEPLOY', $3, $4)",
    )
    .bind(agent)
    .bind(object)
    .bind(status)
    .bind(message)
    .execute(pool)
    .await
    .unwrap();
}

/// A stack reaching one agent by each route, plus a deleted agent and an inactive one; three
/// objects of which the newest is soft-deleted.
struct Scene {
    stack: Uuid,
    generator: Uuid,
    target: Uuid,
    labelled: Uuid,
    annotated: Uuid,
    inactive: Uuid,
    old: Uuid,
    desired: Uuid,
}

async fn scene(pool: &Db) -> Scene {
    let generator = fixtures::generator(pool, "gen").await;
    let stack = fixtures::stack(pool, "web", generator).await;
    sqlx::query("INSERT INTO broker.stack_labels (stack_id, label) VALUES ($1, 'env:prod')")
        .bind(stack)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO broker.stack_annotations (stack_id, key, value) VALUES ($1, 'tier', 'edge')")
        .bind(stack)
        .execute(pool)
        .await
        .unwrap();
    let target = live_agent(pool, "a-target").await;
    sqlx::query("INSERT INTO broker.agent_targets (agent_id, stack_id) VALUES ($1, $2)")
        .bind(target)
        .bind(stack)
        .execute(pool)
        .await
        .unwrap();
    let labelled = live_agent(pool, "b-label").await;
    let deleted = live_agent(pool, "c-deleted").await;
    let inactive = fixtures::cluster_agent(pool, "d-inactive", "prod-eu").await;
    let unrelated = live_agent(pool, "e-unrelated").await;
    for a in [labelled, deleted, inactive] {
        sqlx::query("INSERT INTO broker.agent_labels (agent_id, label) VALUES ($1, 'env:prod')")
            .bind(a)
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO broker.agent_labels (agent_id, label) VALUES ($1, 'env:dev')")
        .bind(unrelated)
        .execute(pool)
        .await
        .unwrap();
    let annotated = live_agent(pool, "f-annotation").await;
    sqlx::query("INSERT INTO broker.agent_annotations (agent_id, key, value) VALUES ($1, 'tier', 'edge')")
        .bind(annotated)
        .execute(pool)
        .await
        .unwrap();
    exec(pool, "UPDATE broker.agents SET deleted_at = now() WHERE id = $1", deleted).await;
    let old = fixtures::deployment_object(pool, stack, generator, "kind: A\n").await;
    let desired = fixtures::deployment_object(pool, stack, generator, "kind: B\n").await;
    let newest = fixtures::deployment_object(pool, stack, generator, "kind: C\n").await;
    exec(pool, "UPDATE broker.deployment_objects SET deleted_at = now() WHERE id = $1", newest).await;
    Scene { stack, generator, target, labelled, annotated, inactive, old, desired }
}

fn counts(p: &Progress) -> (i64, i64, i64, i64) {
    (p.success, p.failure, p.pending, p.offline)
}

#[tokio::test]
async fn a_rollout_follows_the_desired_object_and_the_latest_report_of_each_reached_agent() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let s = services(&db);
    let t = Thresholds::default();
    let sc = scene(pool).await;

    let st = rollouts::status(&s, "web", &t).await.unwrap();
    assert_eq!(st.desired.as_ref().unwrap().id, sc.desired, "the newest live object; the deleted newer one is not");
    let names: Vec<(&str, String)> = st.agents.iter().map(|a| (a.name.as_str(), a.routes())).collect();
    assert_eq!(
        names,
        [("a-target", "t".into()), ("b-label", "l".into()), ("d-inactive", "l".into()), ("f-annotation", "a".into())],
        "the deleted and the unrelated agents are not reached"
    );
    assert_eq!(counts(&st.progress), (0, 0, 3, 1), "nothing reported; the inactive agent is offline");
    assert_eq!(st.state, RolloutState::InProgress);

    // A report on an older object does not count for the desired one.
    report(pool, sc.target, sc.old, "SUCCESS", None).await;
    assert_eq!(counts(&rollouts::status(&s, "web", &t).await.unwrap().progress), (0, 0, 3, 1));
    report(pool, sc.target, sc.desired, "SUCCESS", None).await;
    report(pool, sc.labelled, sc.desired, "FAILURE", Some("ImagePullBackOff: registry.example.com/web:2 not found"))
        .await;
    let st = rollouts::status(&s, &sc.stack.to_string(), &t).await.unwrap();
    assert_eq!(counts(&st.progress), (1, 1, 1, 1));
    assert_eq!(st.state, RolloutState::Failing);
    let failed = st.agents.iter().find(|a| a.agent_id == sc.labelled).unwrap();
    assert_eq!(
        (failed.state(), failed.message.as_deref()),
        ("failure", Some("ImagePullBackOff: registry.example.com/web:2 not found"))
    );

    // The latest report wins; the inactive agent comes back and reports.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    report(pool, sc.labelled, sc.desired, "SUCCESS", None).await;
    report(pool, sc.annotated, sc.desired, "SUCCESS", None).await;
    assert_eq!(rollouts::status(&s, "web", &t).await.unwrap().state, RolloutState::InProgress);
    exec(pool, "UPDATE broker.agents SET status = 'ACTIVE', last_heartbeat = now() WHERE id = $1", sc.inactive).await;
    assert_eq!(counts(&rollouts::status(&s, "web", &t).await.unwrap().progress), (3, 0, 1, 0), "back online: pending");
    report(pool, sc.inactive, sc.desired, "SUCCESS", None).await;
    let st = rollouts::status(&s, "web", &t).await.unwrap();
    assert_eq!((counts(&st.progress), st.state), ((4, 0, 0, 0), RolloutState::Complete));

    let list = rollouts::list(&s, &t, 10, None).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].name.as_str(), list[0].agents, list[0].state), ("web", 4, RolloutState::Complete));

    // A deleted stack reaches nothing, is not found by name, and its timeline ends in a marker.
    exec(pool, "UPDATE broker.stacks SET deleted_at = now() WHERE id = $1", sc.stack).await;
    assert!(matches!(rollouts::status(&s, "web", &t).await, Err(Error::NotFound { .. })));
    let st = rollouts::status(&s, &sc.stack.to_string(), &t).await.unwrap();
    assert!(st.agents.is_empty());
    assert!(st.desired.unwrap().is_deletion_marker, "the deletion marker is the desired object");
    assert!(rollouts::list(&s, &t, 10, None).await.unwrap().is_empty());
    let _ = sc.generator;
}

#[tokio::test]
async fn submitting_checks_the_yaml_computes_the_checksum_and_is_audited() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let s = services(&db);
    let sc = scene(pool).await;
    let desired_seq: i64 = sqlx::query_scalar("SELECT sequence_id FROM broker.deployment_objects WHERE id = $1")
        .bind(sc.desired)
        .fetch_one(pool)
        .await
        .unwrap();

    for (yaml, reason) in [
        ("apiVersion: v1\nkind: Service\n", "line 1, column 1: document 1 has no metadata"),
        (
            "apiVersion: v1\nkind: [Service\nmetadata:\n  name: web\n",
            "line 2, column 7: this [ is never closed (did not find expected ',' or ']')",
        ),
        ("", "line 1, column 1: there is no YAML document"),
    ] {
        match rollouts::submit(&s, "web", yaml).await {
            Err(Error::Invalid { field, reason: r }) => {
                assert_eq!(field, "yaml");
                assert!(r.starts_with(reason), "{r}");
            }
            other => panic!("{yaml:?}: {other:?}"),
        }
    }
    let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n";
    let out = rollouts::submit(&s, "web", yaml).await.unwrap();
    assert_eq!(out.previous, Some(desired_seq));
    assert!(out.object.sequence_id > desired_seq);
    assert_eq!(out.object.yaml_checksum, fixtures::sha256_hex(yaml));
    assert_eq!(out.manifests.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(), ["Deployment", "Service"]);
    let st = rollouts::status(&s, "web", &Thresholds::default()).await.unwrap();
    assert_eq!(st.desired.unwrap().id, out.object.id, "the new object is desired at once");
    assert_eq!(st.progress.success, 0, "and nobody has reported on it yet");

    // The same YAML again: a new object (a reconcile), the same checksum.
    let again = rollouts::resubmit(&s, "web").await.unwrap();
    assert!(again.object.sequence_id > out.object.sequence_id);
    assert_eq!(
        (again.object.yaml_checksum.as_str(), again.previous),
        (out.object.yaml_checksum.as_str(), Some(out.object.sequence_id))
    );

    // Objects are immutable: the database's refusal comes back as a clear message.
    let err = sqlx::query("UPDATE broker.deployment_objects SET yaml_content = 'kind: X' WHERE id = $1")
        .bind(out.object.id)
        .execute(pool)
        .await
        .unwrap_err();
    let err = Error::from(err).to_string();
    assert!(
        err.starts_with("not allowed: a deployment object cannot be changed once submitted; submit a new version"),
        "{err}"
    );

    let audit: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT verb, from_state, to_state FROM fleetdeck.audit_log ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!((audit[0].0.as_str(), audit[0].1.clone()), ("submit", Some(format!("sequence {desired_seq}"))));
    assert!(audit[1].2.as_deref().unwrap().starts_with(&format!("sequence {} (", again.object.sequence_id)));
    assert_eq!(audit[1].0, "resubmit");

    // A deleted stack takes no new object; an unknown one is not found.
    exec(pool, "UPDATE broker.stacks SET deleted_at = now() WHERE id = $1", sc.stack).await;
    assert!(matches!(rollouts::submit(&s, &sc.stack.to_string(), yaml).await, Err(Error::Conflict { .. })));
    assert!(matches!(rollouts::submit(&s, "nope", yaml).await, Err(Error::NotFound { .. })));
}

/// The timeline lists every object newest first (deleted ones marked, the deletion marker after
/// a stack's soft delete), each with its reports; per-object reports and the diff to the
/// previous object.
#[tokio::test]
async fn the_timeline_per_object_reports_and_the_diff() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let s = services(&db);
    let t = Thresholds::default();
    let sc = scene(pool).await;
    report(pool, sc.target, sc.old, "SUCCESS", None).await;
    report(pool, sc.labelled, sc.old, "FAILURE", Some("boom")).await;
    report(pool, sc.target, sc.desired, "SUCCESS", None).await;

    let tl = rollouts::timeline(&s, sc.stack).await.unwrap();
    assert_eq!(tl.len(), 3);
    assert!(tl[0].deleted_at.is_some() && tl[0].sequence_id > tl[1].sequence_id, "newest first, deleted marked");
    assert_eq!((tl[1].id, tl[1].success, tl[1].failure), (sc.desired, 1, 0));
    assert_eq!((tl[2].id, tl[2].success, tl[2].failure), (sc.old, 1, 1));

    let on_old = rollouts::object_reports(&s, sc.stack, sc.old, &t, None).await.unwrap();
    let states: Vec<(&str, &str)> = on_old.iter().map(|a| (a.name.as_str(), a.state())).collect();
    assert_eq!(
        states,
        [("a-target", "success"), ("b-label", "failure"), ("d-inactive", "offline"), ("f-annotation", "pending")]
    );
    assert_eq!(on_old[1].message.as_deref(), Some("boom"));

    use fleetdeck::domain::rollout::DiffLine;
    assert_eq!(
        rollouts::object_diff(&s, sc.desired).await.unwrap(),
        [DiffLine::Removed("kind: A".into()), DiffLine::Added("kind: B".into())]
    );
    assert_eq!(rollouts::object_diff(&s, sc.old).await.unwrap(), [DiffLine::Added("kind: A".into())]);
    assert_eq!(rollouts::object_yaml(&s, sc.desired).await.unwrap(), "kind: B\n");

    // Soft-deleting the stack: its objects are marked deleted and a deletion marker heads the timeline.
    exec(pool, "UPDATE broker.stacks SET deleted_at = now() WHERE id = $1", sc.stack).await;
    let tl = rollouts::timeline(&s, sc.stack).await.unwrap();
    assert_eq!(tl.len(), 4);
    assert!(tl[0].is_deletion_marker && tl[0].deleted_at.is_none());
    assert!(tl[1..].iter().all(|o| o.deleted_at.is_some()));
}

/// Explicit targets change in one audited transaction: added agents are reached by target at
/// once, a deleted or unknown agent writes nothing (not even the other changes asked with it),
/// a target added by someone else first counts as already so, and a deleted stack refuses.
#[tokio::test]
async fn targets_are_added_and_removed_in_one_audited_transaction() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let s = services(&db);
    let sc = scene(pool).await;
    let a = live_agent(pool, "picked-a").await;
    let b = live_agent(pool, "picked-b").await;
    let gone = live_agent(pool, "gone").await;
    exec(pool, "UPDATE broker.agents SET deleted_at = now() WHERE id = $1", gone).await;
    let reach = |stack: Uuid| async move {
        let rows: Vec<(Uuid, bool)> =
            sqlx::query_as("SELECT agent_id, by_target FROM fleetdeck.stack_agents($1) ORDER BY agent_id")
                .bind(stack)
                .fetch_all(pool)
                .await
                .unwrap();
        rows
    };
    let before = reach(sc.stack).await;

    let choices = rollouts::target_choices(&s, Some(sc.stack), &Default::default(), chrono::Utc::now()).await.unwrap();
    assert!(choices.iter().any(|c| c.id == sc.target && c.targeted), "the scene's target is ticked");
    assert!(choices.iter().any(|c| c.id == a && !c.targeted));
    assert!(!choices.iter().any(|c| c.id == gone), "deleted agents cannot be picked");

    // A deleted agent among the additions: nothing at all is written, the field is named.
    match rollouts::set_targets(&s, "web", &[a, gone], &[sc.target]).await {
        Err(Error::Invalid { field, reason }) => {
            assert_eq!(field, "agent");
            assert!(reason.contains(&gone.to_string()) && reason.contains("deleted"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(reach(sc.stack).await, before, "the removal asked with it was not applied either");
    assert!(matches!(
        rollouts::set_targets(&s, "web", &[a], &[a]).await,
        Err(Error::Invalid { field, .. }) if field == "agent"
    ));

    // Someone else targets b first: ours adds a, removes the old target, and b counts as so.
    sqlx::query("INSERT INTO broker.agent_targets (agent_id, stack_id) VALUES ($1, $2)")
        .bind(b)
        .bind(sc.stack)
        .execute(pool)
        .await
        .unwrap();
    let updated_before: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT updated_at FROM broker.stacks WHERE id = $1")
            .bind(sc.stack)
            .fetch_one(pool)
            .await
            .unwrap();
    let change = rollouts::set_targets(&s, "web", &[a, b], &[sc.target]).await.unwrap();
    assert_eq!((change.added, change.removed, change.unchanged), (vec![a], vec![sc.target], 1));
    assert_eq!(targets_of(pool, sc.stack).await, 2, "two target rows for the stack now");
    let after = reach(sc.stack).await;
    assert!(after.contains(&(a, true)) && after.contains(&(b, true)));
    assert!(!after.iter().any(|(id, _)| *id == sc.target), "the old target is reached by no route now");
    let updated_after: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT updated_at FROM broker.stacks WHERE id = $1")
            .bind(sc.stack)
            .fetch_one(pool)
            .await
            .unwrap();
    assert!(updated_after > updated_before, "open dashboards see the stack change");
    let audit: Vec<(String, Option<String>, Option<String>, String)> =
        sqlx::query_as("SELECT verb, from_state, to_state, target_id FROM fleetdeck.audit_log ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0], ("add-target".into(), None, Some(format!("targets agent {a}")), sc.stack.to_string()));
    assert_eq!(
        audit[1],
        ("remove-target".into(), Some(format!("targets agent {}", sc.target)), None, sc.stack.to_string())
    );

    let nothing = rollouts::set_targets(&s, "web", &[a], &[]).await.unwrap();
    assert!(nothing.describe().starts_with("nothing changed"), "{}", nothing.describe());

    exec(pool, "UPDATE broker.stacks SET deleted_at = now() WHERE id = $1", sc.stack).await;
    assert!(matches!(rollouts::set_targets(&s, &sc.stack.to_string(), &[], &[a]).await, Err(Error::Conflict { .. })));
}

async fn targets_of(pool: &Db, stack: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM broker.agent_targets WHERE stack_id = $1")
        .bind(stack)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The editor's submission is guarded by the desired sequence it showed the diff against; a
/// stack's soft delete soft-deletes its objects and makes a deletion marker desired, audited
/// with its reason, once.
#[tokio::test]
async fn a_stale_submission_is_refused_and_a_deleted_stack_gets_its_marker() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let s = services(&db);
    let sc = scene(pool).await;
    let (_, desired) = rollouts::desired(&s, sc.stack).await.unwrap();
    let (seq, yaml) = desired.unwrap();
    assert!(yaml.contains("kind"), "{yaml}");
    let next = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-2\n";

    // Someone submitted in between: refused, nothing written, the conflict audited.
    rollouts::submit(&s, "web", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: theirs\n").await.unwrap();
    let objects: i64 = sqlx::query_scalar("SELECT count(*) FROM broker.deployment_objects WHERE stack_id = $1")
        .bind(sc.stack)
        .fetch_one(pool)
        .await
        .unwrap();
    match rollouts::submit_over(&s, sc.stack, next, Some(seq)).await {
        Err(Error::Conflict { message, current_state }) => {
            assert!(message.contains(&format!("sequence {seq}")), "{message}");
            assert_eq!(current_state, format!("sequence {}", seq_of(pool, sc.stack).await));
        }
        other => panic!("{other:?}"),
    }
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM broker.deployment_objects WHERE stack_id = $1")
        .bind(sc.stack)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(after, objects, "nothing written");
    let conflict: (String, String) =
        sqlx::query_as("SELECT verb, outcome FROM fleetdeck.audit_log ORDER BY id DESC LIMIT 1")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(conflict, ("submit".into(), "conflict".into()));
    // Over the sequence that is desired now, it goes in.
    let ok = rollouts::submit_over(&s, sc.stack, next, Some(seq_of(pool, sc.stack).await)).await.unwrap();
    assert_eq!(ok.object.yaml_checksum, fixtures::sha256_hex(next));
    // A bad YAML names line and column before anything else.
    assert!(matches!(
        rollouts::submit_over(&s, sc.stack, "kind: X\n", Some(ok.object.sequence_id)).await,
        Err(Error::Invalid { field, reason }) if field == "yaml" && reason.starts_with("line 1, column 1")
    ));

    let what = fleetdeck::service::fleet::Deletable::Stack;
    let out = fleetdeck::service::fleet::soft_delete(&s, what, &[sc.stack], Some("retired")).await.unwrap();
    assert!(matches!(out.rows[0].1, fleetdeck::service::executions::RowOutcome::Done { .. }), "{out:?}");
    let timeline = rollouts::timeline(&s, sc.stack).await.unwrap();
    assert!(timeline[0].is_deletion_marker && timeline[0].deleted_at.is_none(), "the marker is desired: {timeline:?}");
    assert!(timeline[1..].iter().all(|o| o.deleted_at.is_some()), "every other object is deleted");
    let st = rollouts::status(&s, &sc.stack.to_string(), &Thresholds::default()).await.unwrap();
    assert!(st.desired.unwrap().is_deletion_marker);
    let audit: (String, Option<String>, Option<String>, Option<String>) =
        sqlx::query_as("SELECT verb, from_state, to_state, reason FROM fleetdeck.audit_log ORDER BY id DESC LIMIT 1")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(audit, ("delete".into(), Some("live".into()), Some("deleted".into()), Some("retired".into())));
    let again = fleetdeck::service::fleet::soft_delete(&s, what, &[sc.stack], None).await.unwrap();
    assert!(matches!(again.rows[0].1, fleetdeck::service::executions::RowOutcome::Skipped { .. }), "{again:?}");
    assert!(
        matches!(rollouts::desired(&s, sc.stack).await, Err(Error::Conflict { .. })),
        "no editor on a deleted stack"
    );
}

async fn seq_of(pool: &Db, stack: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT sequence_id FROM broker.deployment_objects WHERE stack_id = $1 AND deleted_at IS NULL ORDER BY sequence_id DESC LIMIT 1",
    )
    .bind(stack)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Agents' reports, new objects and target changes wake open dashboards on the stacks channel.
#[tokio::test]
async fn reports_objects_and_targets_notify_the_rollouts_pane() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let sc = scene(pool).await;
    let sessions = db.session_pool().await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&sessions).await.unwrap();
    listener.listen("fleetdeck_changes").await.unwrap();
    // Each change after the gate (migration 32) has passed behind the one before.
    let gate = fleetdeck::ui::feed::NOTIFY_GATE * 2;
    for what in ["report", "object", "target"] {
        tokio::time::sleep(gate).await;
        match what {
            "report" => report(pool, sc.labelled, sc.old, "SUCCESS", None).await,
            "object" => {
                fixtures::deployment_object(
                    pool,
                    sc.stack,
                    sc.generator,
                    "apiVersion: v1\nkind: A\nmetadata:\n  name: a\n",
                )
                .await;
            }
            _ => {
                sqlx::query("DELETE FROM broker.agent_targets WHERE stack_id = $1")
                    .bind(sc.stack)
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
        let n = tokio::time::timeout(std::time::Duration::from_secs(60), listener.recv()).await;
        let n = n.unwrap_or_else(|_| panic!("no notification for the {what}")).unwrap();
        assert_eq!(n.payload(), "stacks", "{what}");
    }
}

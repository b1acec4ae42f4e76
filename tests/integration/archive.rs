//! Seed 001's phase 4 on the real database (migration 31): the executions partitioned by month
//! with every rule they had, and `fleetdeck archive` moving and deleting in batches without
//! losing a row, counting one twice, breaking a retry chain or the maintained counts, while a
//! dashboard pages through the list.

use std::collections::HashSet;
use std::time::Duration;

use fleetdeck::db::handle::Db;
use fleetdeck::service::archive::{self, Policy};
use fleetdeck::service::executions::{self, RowOutcome};
use fleetdeck::service::listing::{self, Entity, PageAt, Query};
use fleetdeck::service::{Actor, Services};
use fleetdeck::testing::TestDb;
use uuid::Uuid;

use crate::fixtures::{self, execution_counts_wrong};

/// An execution in `status`, started `days` ago and (when final) ended an hour later, and
/// created when it started; with a parent when given.
async fn old(pool: &Db, wf: Uuid, agent: Uuid, status: &str, days: i64, parent: Option<Uuid>) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO platform.workflow_executions \
             (workflow_id, agent_id, status, correlation_id, parent_execution_id, started_at, created_at, completed_at) \
         SELECT $1, $2, $3, gen_random_uuid(), $5, t, t, \
                CASE WHEN $3 IN ('completed', 'failed', 'cancelled', 'timeout') THEN t + interval '1 hour' END \
         FROM (SELECT now() - make_interval(days => $4::int) AS t) x RETURNING id",
    )
    .bind(wf)
    .bind(agent)
    .bind(status)
    .bind(days as i32)
    .bind(parent)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn scalar(pool: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn ids_of(pool: &Db, table: &str) -> HashSet<Uuid> {
    sqlx::query_scalar::<_, Uuid>(&format!("SELECT id FROM {table}"))
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// What must hold after any run: every execution in exactly one place, each registered once,
/// the maintained counts equal to the table's rows.
async fn consistent(pool: &Db) {
    let both = scalar(
        pool,
        "SELECT count(*) FROM platform.workflow_executions e JOIN platform.workflow_executions_archive a USING (id)",
    )
    .await;
    assert_eq!(both, 0, "no execution is in the table and the archive at once");
    let registered = scalar(pool, "SELECT count(*) FROM platform.execution_ids").await;
    let rows = scalar(
        pool,
        "SELECT (SELECT count(*) FROM platform.workflow_executions) + (SELECT count(*) FROM platform.workflow_executions_archive)",
    )
    .await;
    assert_eq!(registered, rows, "every execution's id registered once, and no id left over");
    assert_eq!(execution_counts_wrong(pool).await, Vec::<String>::new(), "the maintained counts are the table's");
    let broken = scalar(
        pool,
        "SELECT count(*) FROM (SELECT parent_execution_id p FROM platform.workflow_executions \
                              UNION ALL SELECT parent_execution_id FROM platform.workflow_executions_archive) c \
         WHERE p IS NOT NULL AND NOT EXISTS (SELECT 1 FROM platform.workflow_executions WHERE id = p) \
           AND NOT EXISTS (SELECT 1 FROM platform.workflow_executions_archive WHERE id = p)",
    )
    .await;
    assert_eq!(broken, 0, "every retry's parent is still somewhere");
}

fn policy(batch: i64) -> Policy {
    Policy { batch, pause: Duration::ZERO, ..Policy::default() }
}

#[tokio::test]
async fn the_partitioned_table_keeps_the_seeds_rules() {
    let db = TestDb::new().await;
    let p = &db.pool;
    let kind: String = sqlx::query_scalar(
        "SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'platform.workflow_executions'::regclass",
    )
    .fetch_one(p)
    .await
    .unwrap();
    assert_eq!(kind, "r", "partitioned by range (of created_at)");
    // This month and three ahead, and a default.
    let months = scalar(
        p,
        "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'platform.workflow_executions'::regclass \
           AND c.relname >= 'workflow_executions_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMM') \
           AND c.relname ~ '_p[0-9]{6}$'",
    )
    .await;
    assert!(months >= 4, "{months} partitions from this month on");
    assert_eq!(scalar(p, "SELECT count(*) FROM pg_class WHERE relname = 'workflow_executions_default'").await, 1);
    // The seed's indexes by name.
    for name in [
        "idx_workflow_executions_status",
        "idx_workflow_executions_agent_status",
        "idx_workflow_executions_correlation",
        "idx_workflow_executions_started",
    ] {
        assert_eq!(
            scalar(p, &format!("SELECT count(*) FROM pg_indexes WHERE indexname = '{name}'")).await,
            1,
            "{name}"
        );
    }
    let org = fixtures::organization(p, "acme").await;
    let agent = fixtures::agent(p, "a", "organization", org).await;
    let wf = fixtures::workflow(p, agent).await;
    // The state machine.
    let done = old(p, wf, agent, "completed", 1, None).await;
    let e = sqlx::query("UPDATE platform.workflow_executions SET status = 'running' WHERE id = $1")
        .bind(done)
        .execute(p)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot go from completed to running"), "{e}");
    // A row far in the past lands in the default partition and is served all the same.
    let ancient = old(p, wf, agent, "completed", 3_000, None).await;
    let place: String =
        sqlx::query_scalar("SELECT tableoid::regclass::text FROM platform.workflow_executions WHERE id = $1")
            .bind(ancient)
            .fetch_one(p)
            .await
            .unwrap();
    assert_eq!(place, "platform.workflow_executions_default");
    // Ids and correlation ids are unique across table and archive, and do not change.
    let corr: Uuid = sqlx::query_scalar("SELECT correlation_id FROM platform.workflow_executions WHERE id = $1")
        .bind(done)
        .fetch_one(p)
        .await
        .unwrap();
    let e = sqlx::query(
        "INSERT INTO platform.workflow_executions (workflow_id, agent_id, status, correlation_id) VALUES ($1, $2, 'queued', $3)",
    )
    .bind(wf)
    .bind(agent)
    .bind(corr)
    .execute(p)
    .await
    .unwrap_err();
    let constraint = match &e {
        sqlx::Error::Database(d) => d.constraint().map(str::to_string),
        _ => None,
    };
    assert_eq!(constraint.as_deref(), Some("workflow_executions_correlation_id_key"), "{e}");
    let e = sqlx::query("UPDATE platform.workflow_executions SET correlation_id = gen_random_uuid() WHERE id = $1")
        .bind(done)
        .execute(p)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("do not change"), "{e}");
    // A retry's parent must exist.
    let e = sqlx::query(
        "INSERT INTO platform.workflow_executions (workflow_id, agent_id, status, correlation_id, parent_execution_id) \
         VALUES ($1, $2, 'queued', gen_random_uuid(), gen_random_uuid())",
    )
    .bind(wf)
    .bind(agent)
    .execute(p)
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("workflow_executions_parent_execution_id_fkey"), "{e}");
    // Partitions ahead are made once.
    let made = scalar(p, "SELECT fleetdeck.ensure_execution_partitions(now(), 3)::bigint").await;
    assert_eq!(made, 0, "already there");
    consistent(p).await;
}

#[tokio::test]
async fn an_archive_run_moves_and_deletes_in_batches_and_loses_nothing() {
    let db = TestDb::new().await;
    let p = &db.pool;
    let org = fixtures::organization(p, "acme").await;
    let agent = fixtures::agent(p, "a", "organization", org).await;
    let wf = fixtures::workflow(p, agent).await;
    let mut to_move = HashSet::new();
    let mut to_delete = HashSet::new();
    let mut to_stay = HashSet::new();
    for i in 0..40 {
        to_move.insert(old(p, wf, agent, ["completed", "failed", "cancelled", "timeout"][i % 4], 40, None).await);
        to_delete.insert(old(p, wf, agent, "completed", 100, None).await);
        to_stay.insert(old(p, wf, agent, "completed", 5, None).await);
    }
    // Not final: stays however old.
    for status in ["running", "paused", "queued"] {
        to_stay.insert(old(p, wf, agent, status, 60, None).await);
    }
    // A retry chain across the thresholds: the failed parent ended 100 days ago, its retry 85
    // days ago (archived, not deleted), so the parent is kept while its retry is.
    let parent = old(p, wf, agent, "failed", 100, None).await;
    let child = old(p, wf, agent, "completed", 85, Some(parent)).await;
    // And a parent archived while its retry, made today, stays in the table.
    let archived_parent = old(p, wf, agent, "failed", 45, None).await;
    let live_child = old(p, wf, agent, "queued", 0, Some(archived_parent)).await;
    to_stay.insert(live_child);
    // Audit rows: one older than a year goes, a recent one stays.
    sqlx::query(
        "INSERT INTO fleetdeck.audit_log (at, actor, verb, target_table, outcome) VALUES \
         (now() - interval '400 days', 'os:old', 'pause', 'platform.workflow_executions', 'ok'), \
         (now() - interval '10 days', 'os:recent', 'pause', 'platform.workflow_executions', 'ok')",
    )
    .execute(p)
    .await
    .unwrap();
    let services = Services::new(p.clone(), Actor::operator());
    let mut batches_seen = 0;
    let report = archive::run(&services, &policy(7), Some("test run"), |_| batches_seen += 1).await.unwrap();
    assert_eq!(
        report.moved,
        40 + 40 + 2 + 1,
        "the 40-day, the 100-day (then deleted), the chain's two, the archived parent"
    );
    assert_eq!(report.deleted, 40, "the 100-day rows; the chain's parent waits for its retry");
    assert_eq!(report.audit_deleted, 1);
    assert!(report.batches > 10 && batches_seen as i64 == report.batches, "small batches: {}", report.batches);
    let live = ids_of(p, "platform.workflow_executions").await;
    let archived = ids_of(p, "platform.workflow_executions_archive").await;
    assert!(to_stay.iter().all(|id| live.contains(id)), "what is not due stays");
    assert!(to_move.iter().all(|id| archived.contains(id)), "what is due moved");
    assert!(to_delete.iter().all(|id| !live.contains(id) && !archived.contains(id)), "what is past 90 days is gone");
    assert!(archived.contains(&parent) && archived.contains(&child), "the chain is kept whole");
    assert!(archived.contains(&archived_parent));
    consistent(p).await;
    // The audit log: the old row gone, the recent one kept, and the run itself recorded.
    assert_eq!(scalar(p, "SELECT count(*) FROM fleetdeck.audit_log WHERE actor = 'os:old'").await, 0);
    assert_eq!(scalar(p, "SELECT count(*) FROM fleetdeck.audit_log WHERE actor = 'os:recent'").await, 1);
    let (verb, to, why, outcome): (String, String, String, String) =
        sqlx::query_as("SELECT verb, to_state, reason, outcome FROM fleetdeck.audit_log WHERE id = $1")
            .bind(report.audit_id)
            .fetch_one(p)
            .await
            .unwrap();
    assert_eq!((verb.as_str(), why.as_str(), outcome.as_str()), ("archive", "test run", "ok"));
    assert_eq!(to, "moved 83 executions to the archive, deleted 40 archived, deleted 1 audit row");
    // Nothing else may delete from the audit log.
    let e = sqlx::query("DELETE FROM fleetdeck.audit_log WHERE actor = 'os:recent'").execute(p).await.unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    // The retry chain reads across table and archive; an archived execution is read-only.
    let d = executions::detail(&services, live_child).await.unwrap();
    assert_eq!((d.parent_execution_id, d.parent_status.as_deref()), (Some(archived_parent), Some("failed")));
    let d = executions::detail(&services, archived_parent).await.unwrap();
    assert!(d.archived_at.is_some());
    assert_eq!(d.children.iter().map(|c| c.id).collect::<Vec<_>>(), vec![live_child]);
    let out = executions::act(&services, fleetdeck::domain::execution::Verb::Retry, &[child], None).await.unwrap();
    assert!(
        matches!(&out.rows[0].1, RowOutcome::Skipped { reason, .. } if reason.contains("archived")),
        "{:?}",
        out.rows
    );
    // A prefix of an archived id resolves.
    let typed = fleetdeck::service::ids::check(&[child.to_string()[..8].to_string()]).unwrap();
    let found = fleetdeck::service::ids::resolve(p, fleetdeck::service::ids::IdOf::Execution, &typed).await.unwrap();
    assert_eq!(found, vec![child]);
    // A second run finds nothing more to do.
    let again = archive::run(&services, &policy(7), None, |_| {}).await.unwrap();
    assert_eq!((again.moved, again.deleted, again.audit_deleted), (0, 0, 0));
    // Once the retry is past 90 days too, the chain goes, retry first, parent after.
    sqlx::query(
        "UPDATE platform.workflow_executions_archive SET completed_at = now() - interval '95 days' WHERE id = $1",
    )
    .bind(child)
    .execute(p)
    .await
    .unwrap();
    let last = archive::run(&services, &policy(7), None, |_| {}).await.unwrap();
    assert_eq!(last.deleted, 2);
    assert!(!ids_of(p, "platform.workflow_executions_archive").await.contains(&parent));
    consistent(p).await;
}

#[tokio::test]
async fn the_archive_is_listed_with_the_same_filters_and_only_the_operator_archives() {
    let db = TestDb::new().await;
    let p = &db.pool;
    let org = fixtures::organization(p, "acme").await;
    let agent = fixtures::agent(p, "a", "organization", org).await;
    let wf = fixtures::workflow(p, agent).await;
    for _ in 0..3 {
        old(p, wf, agent, "failed", 40, None).await;
        old(p, wf, agent, "completed", 40, None).await;
        old(p, wf, agent, "completed", 1, None).await;
    }
    let services = Services::new(p.clone(), Actor::operator());
    archive::run(&services, &policy(100), None, |_| {}).await.unwrap();
    let query = |fields: &[(&str, &str)]| Query {
        fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Query::new(Entity::Executions)
    };
    let page = |q: Query| async move { listing::page(p, Entity::Executions, &q, &PageAt::First, 50).await.unwrap() };
    assert_eq!(page(query(&[])).await.total, 3, "the table keeps the recent ones");
    assert_eq!(page(query(&[("archive", "no")])).await.total, 3);
    let archived = page(query(&[("archive", "yes")])).await;
    assert_eq!((archived.total, archived.rows.len()), (6, 6));
    let failed = page(query(&[("archive", "yes"), ("status", "failed")])).await;
    assert_eq!(failed.total, 3);
    assert_eq!(failed.facets.iter().find(|(s, _)| s == "completed").map(|f| f.1), Some(3), "{:?}", failed.facets);
    let e = listing::check_fields(Entity::Executions, &[("archive".into(), "maybe".into())]).unwrap_err().to_string();
    assert!(e.contains("archive") && e.contains("yes, no"), "{e}");
    // A platform user reads the archive under the seed's row-level security, and may not run it.
    let user = fixtures::user(p, "m@acme.test").await;
    let outsider = fixtures::user(p, "x@other.test").await;
    fixtures::member(p, org, user, "member").await;
    let as_member = db.pool_as(user).await;
    let total = listing::page(&as_member, Entity::Executions, &query(&[("archive", "yes")]), &PageAt::First, 50)
        .await
        .unwrap()
        .total;
    assert_eq!(total, 6);
    let as_outsider = db.pool_as(outsider).await;
    let total = listing::page(&as_outsider, Entity::Executions, &query(&[("archive", "yes")]), &PageAt::First, 50)
        .await
        .unwrap()
        .total;
    assert_eq!(total, 0);
    let member = Services::new(as_member, Actor::user("m@acme.test", user));
    let e = archive::run(&member, &policy(100), None, |_| {}).await.unwrap_err().to_string();
    assert!(e.contains("without --as"), "{e}");
}

#[tokio::test]
async fn a_dashboard_paging_through_a_move_sees_every_row_once() {
    let db = TestDb::new().await;
    let p = &db.pool;
    let org = fixtures::organization(p, "acme").await;
    let agent = fixtures::agent(p, "a", "organization", org).await;
    let wf = fixtures::workflow(p, agent).await;
    // 1,500 rows due to move, interleaved in the list's order with 500 that stay.
    sqlx::query(
        "INSERT INTO platform.workflow_executions (workflow_id, agent_id, status, correlation_id, started_at, created_at, completed_at) \
         SELECT $1, $2, CASE WHEN i % 4 = 0 THEN 'running' ELSE 'completed' END, gen_random_uuid(), t, t, \
                CASE WHEN i % 4 = 0 THEN NULL ELSE t + interval '1 minute' END \
         FROM generate_series(1, 2000) i, LATERAL (SELECT now() - interval '40 days' - make_interval(secs => i) AS t) x",
    )
    .bind(wf)
    .bind(agent)
    .execute(p)
    .await
    .unwrap();
    let all = ids_of(p, "platform.workflow_executions").await;
    let services = Services::new(p.clone(), Actor::operator());
    let mover = tokio::spawn({
        let services = services.clone();
        async move { archive::run(&services, &policy(40), None, |_| {}).await.unwrap() }
    });
    // The list, newest first, a page at a time, as the dashboard walks it, during the move.
    let query = Query::new(Entity::Executions);
    let mut seen = Vec::new();
    let mut at = PageAt::First;
    loop {
        let page = listing::page(p, Entity::Executions, &query, &at, 25).await.unwrap();
        let Some(last) = page.rows.last() else { break };
        at = PageAt::After(last.cursor.clone());
        seen.extend(page.rows.iter().map(|r| r.cursor.id.parse::<Uuid>().unwrap()));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let report = mover.await.unwrap();
    assert_eq!(report.moved, 1500);
    let unique: HashSet<Uuid> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no row shown twice");
    let live = ids_of(p, "platform.workflow_executions").await;
    let archived = ids_of(p, "platform.workflow_executions_archive").await;
    assert_eq!(live.len(), 500);
    assert!(live.iter().all(|id| unique.contains(id)), "every row that stays was shown: no gap");
    assert!(unique.iter().all(|id| all.contains(id)));
    assert_eq!(live.union(&archived).copied().collect::<HashSet<_>>(), all, "every row is in one of the two");
    consistent(p).await;
}

#[tokio::test]
async fn fleetdeck_archive_prints_typed_json_and_refuses_bad_settings_and_users() {
    let db = TestDb::new().await;
    let p = &db.pool;
    let org = fixtures::organization(p, "acme").await;
    let agent = fixtures::agent(p, "a", "organization", org).await;
    let wf = fixtures::workflow(p, agent).await;
    let gone = old(p, wf, agent, "cancelled", 31, None).await;
    let user = fixtures::user(p, "m@acme.test").await;
    fixtures::member(p, org, user, "member").await;
    let home = tempfile::tempdir().unwrap();
    let run = |args: Vec<&'static str>, env: Vec<(&'static str, String)>| {
        let mut cmd = crate::cli::fleetdeck(home.path());
        cmd.args(args).env("DATABASE_URL", db.url()).envs(env);
        async move { tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap() }
    };
    let out = run(vec!["archive", "--output", "json", "--reason", "nightly"], vec![]).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["moved"], 1, "{v}");
    assert_eq!(v["deleted"], 0);
    assert!(v["partitions_dropped"].is_array() && v["seconds"].is_f64() && v["audit_id"].is_i64(), "{v}");
    let reason: String =
        sqlx::query_scalar("SELECT reason FROM fleetdeck.audit_log WHERE verb = 'archive'").fetch_one(p).await.unwrap();
    assert_eq!(reason, "nightly");
    // `exec list --archive` and `exec show` of an archived id (by prefix).
    let out = run(vec!["exec", "list", "--archive", "--output", "json"], vec![]).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().map(|a| a.len()), Some(1), "{v}");
    let prefix: &'static str = Box::leak(gone.to_string()[..8].to_string().into_boxed_str());
    let out = run(vec!["exec", "show", prefix, "--output", "json"], vec![]).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["archived_at"].as_str().is_some_and(|t| t.contains('T')), "{v}");
    // A bad setting names itself; a platform user may not archive; read-only mode refuses it.
    let out = run(vec!["archive"], vec![("FLEETDECK_ARCHIVE__DELETE_AFTER", "7d".into())]).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("archive.delete_after") && stderr.contains("longer than move_after"), "{stderr}");
    let out = run(vec!["archive", "--as", "m@acme.test"], vec![]).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("without --as"), "{stderr}");
    let out = run(vec!["archive", "--readonly"], vec![]).await;
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

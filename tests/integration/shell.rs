//! The dashboard's service calls and workers on a real database: guarded, audited execution
//! verbs (including a lost race), stack creation, read-only sessions, pollers with generations,
//! and reconnecting after the database goes away.

use std::time::Duration;

use fleetdeck::db::pool::{self, PoolSettings};
use fleetdeck::domain::broker::NewStack;
use fleetdeck::domain::execution::Verb;
use fleetdeck::domain::filter::Filter;
use fleetdeck::service::executions::{self, RowOutcome};
use fleetdeck::service::listing::{self, Entity, PageAt, Query};
use fleetdeck::service::{stacks, Actor, Error, Services};
use fleetdeck::testing::TestDb;
use fleetdeck::ui::workers::{Command, Outcome, PageRequest, Reply, Request, Workers};
use sqlx::Connection;
use uuid::Uuid;

use crate::fixtures;

fn settings(read_only: bool) -> PoolSettings {
    PoolSettings {
        statement_timeout: Duration::from_secs(30),
        acquire_timeout: Duration::from_secs(3),
        max_connections: 4,
        read_only,
        pooled: fleetdeck::testing::pooled(),
    }
}

async fn executions_fixture(db: &TestDb) -> (Uuid, Uuid) {
    let user = fixtures::user(&db.pool, "sre@example.com").await;
    let agent = fixtures::agent(&db.pool, "a", "user", user).await;
    let workflow = fixtures::workflow(&db.pool, agent).await;
    (workflow, agent)
}

async fn status(db: &TestDb, id: Uuid) -> String {
    sqlx::query_scalar("SELECT status FROM platform.workflow_executions WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn verbs_are_guarded_audited_and_summarised() {
    let db = TestDb::new().await;
    let (w, a) = executions_fixture(&db).await;
    let running = fixtures::execution(&db.pool, w, a, "running").await;
    let other = fixtures::execution(&db.pool, w, a, "running").await;
    let done = fixtures::execution(&db.pool, w, a, "completed").await;
    let s = Services::new(db.pool.clone(), Actor { label: "tester".into(), user_id: None });

    let out = executions::act(&s, Verb::Pause, &[running], None).await.unwrap();
    assert_eq!(out.summary(Verb::Pause), "paused");
    assert_eq!(status(&db, running).await, "paused");
    let paused_at: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT paused_at FROM platform.workflow_executions WHERE id = $1")
            .bind(running)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(paused_at.is_some());

    let out = executions::act(&s, Verb::Pause, &[done], None).await.unwrap();
    assert_eq!(out.summary(Verb::Pause), "cannot pause a completed execution (only running)");

    let out = executions::act(&s, Verb::Cancel, &[running, other, done], Some("stuck")).await.unwrap();
    assert_eq!(out.summary(Verb::Cancel), "2 cancelled, 1 skipped: completed");
    assert_eq!(status(&db, other).await, "cancelled");

    let out = executions::act(&s, Verb::Resume, &[Uuid::new_v4()], None).await.unwrap();
    assert_eq!(out.rows[0].1, RowOutcome::Missing);

    type AuditRow = (String, String, Option<String>, Option<String>, Option<String>);
    let audit: Vec<AuditRow> = sqlx::query_as(
        "SELECT verb, outcome, from_state, to_state, reason FROM fleetdeck.audit_log \
         WHERE target_table = 'platform.workflow_executions' ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let rows: Vec<(&str, &str)> = audit.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    assert_eq!(
        rows,
        [("pause", "ok"), ("pause", "refused"), ("cancel", "ok"), ("cancel", "ok"), ("cancel", "refused")]
    );
    assert_eq!(
        (audit[2].2.as_deref(), audit[2].3.as_deref(), audit[2].4.as_deref()),
        (Some("paused"), Some("cancelled"), Some("stuck"))
    );
}

#[tokio::test]
async fn retry_queues_a_child_and_respects_the_retry_budget() {
    let db = TestDb::new().await;
    let (w, a) = executions_fixture(&db).await;
    let failed = fixtures::execution(&db.pool, w, a, "failed").await;
    let s = Services::new(db.pool.clone(), Actor { label: "tester".into(), user_id: None });
    let out = executions::act(&s, Verb::Retry, &[failed], None).await.unwrap();
    let RowOutcome::Done { to: child, .. } = &out.rows[0].1 else { panic!("{out:?}") };
    let (parent, retries, st): (Uuid, i32, String) = sqlx::query_as(
        "SELECT parent_execution_id, retry_count, status FROM platform.workflow_executions WHERE id = $1::uuid",
    )
    .bind(child)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((parent, retries, st.as_str()), (failed, 1, "queued"));
    assert_eq!(status(&db, failed).await, "failed", "the failed row stays as it is");
    sqlx::query("UPDATE platform.workflow_executions SET retry_count = 3 WHERE id = $1")
        .bind(failed)
        .execute(&db.pool)
        .await
        .unwrap();
    let out = executions::act(&s, Verb::Retry, &[failed], None).await.unwrap();
    assert_eq!(out.summary(Verb::Retry), "cannot retry: 3 of 3 retries used");
}

/// Someone else cancels the execution while our pause waits for the row: the pause reports who
/// won, changes nothing, and the attempt is audited as a conflict.
#[tokio::test]
async fn a_lost_race_is_reported_with_the_winning_state() {
    let db = TestDb::new().await;
    let (w, a) = executions_fixture(&db).await;
    let id = fixtures::execution(&db.pool, w, a, "running").await;
    let mut other = sqlx::PgConnection::connect_with(&db.direct_options()).await.unwrap();
    let mut tx = other.begin().await.unwrap();
    sqlx::query("UPDATE platform.workflow_executions SET status = 'cancelled' WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let s = Services::new(db.pool.clone(), Actor { label: "tester".into(), user_id: None });
    let pause = tokio::spawn(async move { executions::act(&s, Verb::Pause, &[id], None).await });
    // Let the pause read "running" and block on the row lock, then let the cancel win.
    crate::fixtures::until_waiting_on_a_lock(&db.pool).await;
    tx.commit().await.unwrap();
    let out = pause.await.unwrap().unwrap();
    assert_eq!(out.rows[0].1, RowOutcome::Lost { now: "cancelled".into() });
    assert_eq!(out.summary(Verb::Pause), "someone else changed it first (now cancelled)");
    let outcome: String = sqlx::query_scalar("SELECT outcome FROM fleetdeck.audit_log WHERE target_id = $1")
        .bind(id.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(outcome, "conflict");
}

#[tokio::test]
async fn read_only_sessions_refuse_every_write() {
    let db = TestDb::new().await;
    let (w, a) = executions_fixture(&db).await;
    let id = fixtures::execution(&db.pool, w, a, "running").await;
    let ro = pool::connect(db.options(), &settings(true), None, None).await.unwrap();
    let on: String = sqlx::query_scalar("SHOW transaction_read_only").fetch_one(&ro).await.unwrap();
    assert_eq!(on, "on");
    let s = Services::new(ro, Actor { label: "tester".into(), user_id: None });
    let err = executions::act(&s, Verb::Pause, &[id], None).await.unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert_eq!(status(&db, id).await, "running");
    let audit: i64 = sqlx::query_scalar("SELECT count(*) FROM fleetdeck.audit_log").fetch_one(&db.pool).await.unwrap();
    assert_eq!(audit, 0);
}

#[tokio::test]
async fn a_stack_is_created_whole_or_not_at_all() {
    let db = TestDb::new().await;
    let generator = fixtures::generator(&db.pool, "ci").await;
    let s = Services::new(db.pool.clone(), Actor { label: "tester".into(), user_id: None });
    assert_eq!(stacks::generators(&s).await.unwrap().len(), 1);
    let new = NewStack {
        name: "web".into(),
        description: Some("the web tier".into()),
        labels: vec!["edge".into()],
        annotations: vec![("env".into(), "prod".into())],
    };
    stacks::create(&s, &new, generator, true).await.unwrap();
    let count = |sql: &'static str| {
        let pool = db.pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    assert_eq!(count("SELECT count(*) FROM broker.stacks").await, 0, "a dry run writes nothing");

    let id = stacks::create(&s, &new, generator, false).await.unwrap();
    assert_eq!(count("SELECT count(*) FROM broker.stack_labels").await, 1);
    assert_eq!(count("SELECT count(*) FROM broker.stack_annotations").await, 1);
    let audit: String = sqlx::query_scalar("SELECT verb FROM fleetdeck.audit_log WHERE target_id = $1")
        .bind(id.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(audit, "create");

    let err = stacks::create(&s, &new, generator, false).await.unwrap_err();
    assert!(matches!(&err, Error::Invalid { field, .. } if field == "name"), "{err:?}");
    // A label the database refuses rolls the whole stack back.
    let bad = NewStack { name: "api".into(), labels: vec!["x".repeat(65)], ..new };
    assert!(stacks::create(&s, &bad, generator, false).await.is_err());
    assert_eq!(count("SELECT count(*) FROM broker.stacks").await, 1);
}

async fn next_reply(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Reply>) -> Reply {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("a reply in time")
        .expect("the channel is open")
}

#[tokio::test]
async fn pollers_answer_with_the_generation_asked_and_calls_come_back_as_events() {
    let db = TestDb::new().await;
    let generator = fixtures::generator(&db.pool, "ci").await;
    fixtures::stack(&db.pool, "web", generator).await;
    let s = Services::new(db.pool.clone(), Actor { label: "tester".into(), user_id: None });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut workers = Workers::start(s, None, None, tx);
    workers.send(Request::Page(PageRequest {
        entity: Entity::Stacks,
        generation: 7,
        query: Query::new(Entity::Stacks),
        at: PageAt::First,
        light_first: false,
    }));
    match next_reply(&mut rx).await {
        Reply::Page { entity, generation, result, .. } => {
            assert_eq!((entity, generation), (Entity::Stacks, 7));
            let page = result.unwrap();
            assert_eq!((page.total, page.rows[0].cells[0].as_str()), (1, "web"));
        }
        other => panic!("{other:?}"),
    }
    workers.send(Request::Call { id: 3, command: Command::Generators });
    match next_reply(&mut rx).await {
        Reply::Called { id: 3, outcome: Outcome::Generators(g) } => assert_eq!(g[0].name, "ci"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_new_querys_rows_come_light_first_then_in_full() {
    let db = TestDb::new().await;
    let generator = fixtures::generator(&db.pool, "ci").await;
    fixtures::stack(&db.pool, "web", generator).await;
    fixtures::stack(&db.pool, "api", generator).await;
    let s = Services::new(db.pool.clone(), Actor { label: "tester".into(), user_id: None });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut workers = Workers::start(s, None, None, tx);
    let columns = listing::columns(Entity::Stacks);
    let state = columns.iter().position(|c| *c == "STATE").expect("a STATE column");
    let query = Query { filter: Filter::Fuzzy("w".into()), ..Query::new(Entity::Stacks) };
    let ask = |generation, query: &Query| {
        Request::Page(PageRequest {
            entity: Entity::Stacks,
            generation,
            query: query.clone(),
            at: PageAt::First,
            light_first: true,
        })
    };
    workers.send(ask(1, &query));
    let mut pages = Vec::new();
    for _ in 0..2 {
        match next_reply(&mut rx).await {
            Reply::Page { generation: 1, result, .. } => pages.push(result.unwrap()),
            other => panic!("{other:?}"),
        }
    }
    // The same row and total twice: first without the rollout's state, then with it.
    assert!(pages[0].light && !pages[1].light);
    for p in &pages {
        assert_eq!((p.total, p.rows.len(), p.rows[0].cells[0].as_str()), (1, 1, "web"));
    }
    assert_eq!(pages[0].rows[0].cursor, pages[1].rows[0].cursor);
    assert_eq!(pages[0].rows[0].cells[state], "…");
    assert_eq!(pages[1].rows[0].cells[state], "unreached", "the stack reaches no agent");

    // Sorted by STATE the light page cannot order the rows: only the full page comes.
    workers.send(ask(2, &Query { sort: state, ..query.clone() }));
    match next_reply(&mut rx).await {
        Reply::Page { generation: 2, result, .. } => assert!(!result.unwrap().light),
        other => panic!("{other:?}"),
    }
    workers.send(Request::Call { id: 9, command: Command::Generators });
    assert!(matches!(next_reply(&mut rx).await, Reply::Called { id: 9, .. }), "nothing else came between");
}

/// The database refuses connections for a while: the poller reports it lost (with the backoff),
/// keeps trying by itself, and answers the request once the database is back.
#[tokio::test]
async fn a_lost_database_is_retried_with_backoff_until_it_answers_again() {
    let db = TestDb::new().await;
    let role = format!("fd_reconnect_{}", db.name.trim_start_matches("fleetdeck_test_"));
    for sql in [
        format!("CREATE ROLE {role} LOGIN"),
        format!("GRANT USAGE ON SCHEMA broker TO {role}"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA broker TO {role}"),
        // The stacks list reads each stack's rollup as the database keeps it (migration 26).
        format!("GRANT USAGE ON SCHEMA fleetdeck TO {role}"),
        format!("GRANT SELECT ON fleetdeck.stack_reach, fleetdeck.stack_reach_counts TO {role}"),
    ] {
        sqlx::query(&sql).execute(&db.pool).await.unwrap();
    }
    // On the server itself: the role's sessions end and are refused there (a pooler in front
    // would keep its own).
    let options = db.direct_options().username(&role);
    let pool = pool::connect(options, &PoolSettings { pooled: false, ..settings(false) }, None, None).await.unwrap();
    let s = Services::new(pool, Actor { label: "tester".into(), user_id: None });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut workers = Workers::start(s, None, None, tx);
    let ask = |generation| {
        Request::Page(PageRequest {
            entity: Entity::Stacks,
            generation,
            query: Query::new(Entity::Stacks),
            at: PageAt::First,
            light_first: false,
        })
    };
    workers.send(ask(1));
    assert!(matches!(next_reply(&mut rx).await, Reply::Page { generation: 1, result: Ok(_), .. }));

    // The database goes away for this role: its sessions end and new ones are refused.
    sqlx::query(&format!("ALTER ROLE {role} CONNECTION LIMIT 0")).execute(&db.pool).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1")
        .bind(&role)
        .execute(&db.pool)
        .await
        .unwrap();
    workers.send(ask(2));
    let mut waits = Vec::new();
    while waits.len() < 3 {
        match next_reply(&mut rx).await {
            Reply::Lost { retry_in, .. } => waits.push(retry_in.as_millis()),
            // The change listener lost its session too; when it listens again it reports every
            // notified list as changed (the notifications meanwhile are lost).
            Reply::Changed(_) => continue,
            Reply::Page { result: Err(e), .. } => panic!("a lost database is retried, not reported as a failure: {e}"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(waits, [250, 500, 500]);

    sqlx::query(&format!("ALTER ROLE {role} CONNECTION LIMIT -1")).execute(&db.pool).await.unwrap();
    loop {
        match next_reply(&mut rx).await {
            Reply::Lost { .. } | Reply::Changed(_) => continue,
            Reply::Connected => break,
            other => panic!("{other:?}"),
        }
    }
    loop {
        match next_reply(&mut rx).await {
            Reply::Changed(_) => continue,
            reply => {
                assert!(matches!(reply, Reply::Page { generation: 2, result: Ok(_), .. }), "{reply:?}");
                break;
            }
        }
    }
    drop(workers);
    sqlx::query(&format!("DROP OWNED BY {role}")).execute(&db.pool).await.unwrap();
    sqlx::query(&format!("DROP ROLE {role}")).execute(&db.pool).await.unwrap();
}

/// Acting as a platform user: only their executions are listed, and a viewer's verbs are refused
/// with the reason (and audited).
#[tokio::test]
async fn as_a_user_only_visible_executions_are_listed_and_viewers_may_not_act() {
    let db = TestDb::new().await;
    let member = fixtures::user(&db.pool, "member@acme.example").await;
    let viewer = fixtures::user(&db.pool, "viewer@acme.example").await;
    let stranger = fixtures::user(&db.pool, "other@globex.example").await;
    let org = fixtures::organization(&db.pool, "acme").await;
    fixtures::member(&db.pool, org, member, "member").await;
    fixtures::member(&db.pool, org, viewer, "viewer").await;
    let agent = fixtures::agent(&db.pool, "acme-agent", "organization", org).await;
    let workflow = fixtures::workflow(&db.pool, agent).await;
    let id = fixtures::execution(&db.pool, workflow, agent, "running").await;
    let theirs = fixtures::agent(&db.pool, "own-agent", "user", stranger).await;
    let w2 = fixtures::workflow(&db.pool, theirs).await;
    fixtures::execution(&db.pool, w2, theirs, "running").await;

    let viewer_s = Services::new(db.pool_as(viewer).await, Actor::user("viewer@acme.example", viewer));
    let page = fleetdeck::service::listing::page(
        &viewer_s.pool,
        Entity::Executions,
        &Query::new(Entity::Executions),
        &PageAt::First,
        10,
    )
    .await
    .unwrap();
    assert_eq!(page.total, 1, "only the organisation's execution");
    let out = executions::act(&viewer_s, Verb::Pause, &[id], None).await.unwrap();
    assert_eq!(out.summary(Verb::Pause), "not allowed: viewers of acme may only read executions");
    assert_eq!(status(&db, id).await, "running");
    let member_s = Services::new(db.pool_as(member).await, Actor::user("member@acme.example", member));
    let out = executions::act(&member_s, Verb::Pause, &[id], None).await.unwrap();
    assert_eq!(out.summary(Verb::Pause), "paused");
    let audit: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, outcome FROM fleetdeck.audit_log WHERE target_id = $1 ORDER BY id")
            .bind(id.to_string())
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        audit,
        [
            ("viewer@acme.example".to_string(), "refused".to_string()),
            ("member@acme.example".to_string(), "ok".to_string())
        ]
    );
}

/// Eight tasks fire random verbs at the same 1,000 executions while they race each other: every
/// execution ends in a state the machine allows, every audit row of an action that happened
/// matches a real change, and every verb that did not happen was reported as skipped or lost.
#[tokio::test]
async fn concurrent_verbs_leave_only_reachable_states_and_a_true_audit_log() {
    use rand::{Rng, SeedableRng};
    let db = TestDb::new().await;
    let (w, a) = executions_fixture(&db).await;
    let statuses = ["queued", "pending", "running", "paused", "failed", "timeout", "completed", "cancelled"];
    let mut ids = Vec::new();
    for i in 0..1000 {
        ids.push(fixtures::execution(&db.pool, w, a, statuses[i % statuses.len()]).await);
    }
    let before: std::collections::HashMap<Uuid, String> =
        sqlx::query_as("SELECT id, status FROM platform.workflow_executions")
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let s = Services::new(db.pool.clone(), Actor { label: format!("task{t}"), user_id: None });
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(t);
            let mut results = Vec::new();
            for _ in 0..150 {
                let verb = [Verb::Pause, Verb::Resume, Verb::Cancel, Verb::Retry][rng.random_range(0..4)];
                let id = ids[rng.random_range(0..ids.len())];
                let out = executions::act(&s, verb, &[id], None).await.unwrap();
                results.push((verb, out.rows[0].1.clone()));
            }
            results
        }));
    }
    let mut done = 0;
    let mut not_done = 0;
    for t in tasks {
        for (_, outcome) in t.await.unwrap() {
            match outcome {
                RowOutcome::Done { .. } => done += 1,
                RowOutcome::Skipped { .. } | RowOutcome::Lost { .. } => not_done += 1,
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(done + not_done, 1200);
    // Every execution's final status is reachable from where it started.
    let after: Vec<(Uuid, String, Option<Uuid>)> =
        sqlx::query_as("SELECT id, status, parent_execution_id FROM platform.workflow_executions")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    for (id, st, parent) in &after {
        match before.get(id) {
            Some(from) => {
                let from: fleetdeck::domain::execution::ExecutionStatus = from.parse().unwrap();
                let to: fleetdeck::domain::execution::ExecutionStatus = st.parse().unwrap();
                let reachable = reachable(from, to);
                assert!(reachable, "{id}: {from} → {to}");
            }
            None => assert!(st == "queued" && parent.is_some(), "a retry is a new queued child"),
        }
    }
    // The audit log: one "ok" row per change that happened, one refused/conflict row per verb that did not.
    let (ok, other): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE outcome = 'ok'), count(*) FILTER (WHERE outcome <> 'ok') FROM fleetdeck.audit_log",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((ok, other), (done, not_done));
    // Each ok row of a status change names a from → to the machine allows.
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT verb, from_state, to_state FROM fleetdeck.audit_log WHERE outcome = 'ok' AND verb <> 'retry'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for (verb, from, to) in rows {
        let from: fleetdeck::domain::execution::ExecutionStatus = from.parse().unwrap();
        let to: fleetdeck::domain::execution::ExecutionStatus = to.parse().unwrap();
        assert!(from.can_become(to), "{verb}: {from} → {to}");
    }
    let children: i64 =
        sqlx::query_scalar("SELECT count(*) FROM platform.workflow_executions WHERE parent_execution_id IS NOT NULL")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let retried: i64 =
        sqlx::query_scalar("SELECT count(*) FROM fleetdeck.audit_log WHERE verb = 'retry' AND outcome = 'ok'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(children, retried, "every retry audited created exactly one child");
    let twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT parent_execution_id FROM platform.workflow_executions \
         WHERE parent_execution_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1) x",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(twice, 0, "no execution was retried twice, even by racing tasks");
}

/// Can `to` be reached from `from` by the state machine's transitions (zero or more)?
fn reachable(
    from: fleetdeck::domain::execution::ExecutionStatus,
    to: fleetdeck::domain::execution::ExecutionStatus,
) -> bool {
    let mut seen = vec![from];
    let mut i = 0;
    while i < seen.len() {
        for next in seen[i].successors() {
            if !seen.contains(&next) {
                seen.push(next);
            }
        }
        i += 1;
    }
    seen.contains(&to)
}

/// A change by another client wakes the dashboard at once (LISTEN/NOTIFY), without waiting for
/// the next poll.
#[tokio::test]
async fn changes_by_another_client_are_notified() {
    let db = TestDb::new().await;
    let (w, a) = executions_fixture(&db).await;
    let id = fixtures::execution(&db.pool, w, a, "running").await;
    let s = Services::new(db.pool.clone(), Actor { label: "tester".into(), user_id: None });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _workers = Workers::start(s, None, None, tx);
    // The listener connects in the background: change until it hears.
    assert_eq!(fixtures::until_heard(&db.pool, id, &mut rx).await, Entity::Executions);
}

/// Every verb against every status: the four verbs do exactly what SEMANTICS.md allows and say
/// why for the rest.
#[tokio::test]
async fn every_verb_against_every_status() {
    use fleetdeck::domain::execution::ExecutionStatus;
    let db = TestDb::new().await;
    let (w, a) = executions_fixture(&db).await;
    let s = Services::new(db.pool.clone(), Actor { label: "tester".into(), user_id: None });
    let allowed: &[(Verb, &str, &str)] = &[
        (Verb::Pause, "running", "paused"),
        (Verb::Resume, "paused", "running"),
        (Verb::Cancel, "queued", "cancelled"),
        (Verb::Cancel, "pending", "cancelled"),
        (Verb::Cancel, "running", "cancelled"),
        (Verb::Cancel, "paused", "cancelled"),
        (Verb::Retry, "failed", "failed"),
        (Verb::Retry, "timeout", "timeout"),
    ];
    let mut checked = 0;
    for verb in [Verb::Pause, Verb::Resume, Verb::Cancel, Verb::Retry] {
        for from in ExecutionStatus::ALL {
            let id = fixtures::execution(&db.pool, w, a, from.as_str()).await;
            let out = executions::act(&s, verb, &[id], None).await.unwrap();
            let now = status(&db, id).await;
            match allowed.iter().find(|(v, f, _)| *v == verb && *f == from.as_str()) {
                Some((_, _, to)) => {
                    assert!(matches!(out.rows[0].1, RowOutcome::Done { .. }), "{verb:?} {from}: {out:?}");
                    assert_eq!(now, *to, "{verb:?} {from}");
                    if verb == Verb::Retry {
                        let children: i64 = sqlx::query_scalar(
                            "SELECT count(*) FROM platform.workflow_executions WHERE parent_execution_id = $1 AND status = 'queued'",
                        )
                        .bind(id)
                        .fetch_one(&db.pool)
                        .await
                        .unwrap();
                        assert_eq!(children, 1, "{verb:?} {from}: one queued retry");
                    }
                }
                None => {
                    assert!(matches!(out.rows[0].1, RowOutcome::Skipped { .. }), "{verb:?} {from}: {out:?}");
                    assert_eq!(now, from.as_str(), "{verb:?} {from}: unchanged");
                    assert!(
                        out.summary(verb).starts_with(&format!("cannot {} a {from} execution (only ", verb.as_str())),
                        "{}",
                        out.summary(verb)
                    );
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 32);
}

/// Agents and hosts: activate, deactivate, maintenance — guarded, audited, no-ops refused,
/// deleted rows gone, a lost race reported.
#[tokio::test]
async fn fleet_actions_are_guarded_and_audited() {
    use fleetdeck::service::fleet::{self, AgentStatus, HostStatus};
    let db = TestDb::new().await;
    let s = Services::new(db.pool.clone(), Actor { label: "tester".into(), user_id: None });
    let a = fixtures::cluster_agent(&db.pool, "a1", "prod-eu").await;
    let gone = fixtures::cluster_agent(&db.pool, "a2", "prod-eu").await;
    sqlx::query("UPDATE broker.agents SET deleted_at = now() WHERE id = $1")
        .bind(gone)
        .execute(&db.pool)
        .await
        .unwrap();

    let out = fleet::set_agent_status(&s, &[a], AgentStatus::Active).await.unwrap();
    assert_eq!(out.rows[0].1, RowOutcome::Done { from: "inactive".into(), to: "active".into() });
    let out = fleet::set_agent_status(&s, &[a, gone], AgentStatus::Active).await.unwrap();
    assert_eq!(out.summary_as("activated", "agent"), "0 activated, 1 skipped: active, 1 gone");
    assert_eq!(out.rows[0].1, RowOutcome::Skipped { status: "active".into(), reason: "already active".into() });

    // A race: someone deactivates while our deactivate waits on the row.
    let mut other = sqlx::PgConnection::connect_with(&db.direct_options()).await.unwrap();
    let mut tx = other.begin().await.unwrap();
    sqlx::query("UPDATE broker.agents SET status = 'INACTIVE' WHERE id = $1").bind(a).execute(&mut *tx).await.unwrap();
    let s2 = s.clone();
    let ours = tokio::spawn(async move { fleet::set_agent_status(&s2, &[a], AgentStatus::Inactive).await.unwrap() });
    crate::fixtures::until_waiting_on_a_lock(&db.pool).await;
    tx.commit().await.unwrap();
    let out = ours.await.unwrap();
    assert_eq!(out.rows[0].1, RowOutcome::Lost { now: "inactive".into() });

    // Hosts.
    let site: Uuid = sqlx::query_scalar("INSERT INTO edge.site (site_id) VALUES ('s1') RETURNING id")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let host: Uuid = sqlx::query_scalar(
        "INSERT INTO edge.host (host_id, site_id, hostname, status) VALUES ('h1', $1, 'h1', 'Active') RETURNING id",
    )
    .bind(site)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let out = fleet::set_host_status(&s, &[host], HostStatus::Inactive, None).await.unwrap();
    assert_eq!(out.summary_as("in maintenance", "host"), "in maintenance");
    let status: String =
        sqlx::query_scalar("SELECT status FROM edge.host WHERE id = $1").bind(host).fetch_one(&db.pool).await.unwrap();
    assert_eq!(status, "Inactive");

    let audit: Vec<(String, String, String)> =
        sqlx::query_as("SELECT target_table, verb, outcome FROM fleetdeck.audit_log ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let audit: Vec<(&str, &str, &str)> = audit.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    assert_eq!(
        audit,
        [
            ("broker.agents", "activate", "ok"),
            ("broker.agents", "activate", "refused"),
            ("broker.agents", "deactivate", "conflict"),
            ("edge.host", "maintenance", "ok"),
        ]
    );
}

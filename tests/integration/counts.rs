//! The executions' counts the database maintains (migration 23): exact after every kind of
//! change, after a bulk load without triggers, and under concurrent writers; the listing's
//! totals read from them agree with the rows.

use chrono::Utc;
use fleetdeck::domain::filter::Filter;
use fleetdeck::import::demo::{self, Scale};
use fleetdeck::service::listing::{self, Entity, PageAt, Query};
use fleetdeck::testing::TestDb;

use crate::fixtures::{self, execution_counts_wrong};

async fn exec(pool: &fleetdeck::db::handle::Db, sql: &str) -> u64 {
    sqlx::query(sql).execute(pool).await.unwrap().rows_affected()
}

/// These tests are about the counts, not the status rules: any move is let through.
async fn any_status_to_any(pool: &fleetdeck::db::handle::Db) {
    exec(pool, "ALTER TABLE platform.workflow_executions DISABLE TRIGGER workflow_executions_status_transition").await;
}

async fn count_rows(pool: &fleetdeck::db::handle::Db) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM fleetdeck.execution_counts").fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn the_counts_follow_every_insert_update_delete_and_truncate() {
    let db = TestDb::new().await;
    any_status_to_any(&db.pool).await;
    let org = fixtures::organization(&db.pool, "acme").await;
    let (a1, a2) = (
        fixtures::agent(&db.pool, "one", "organization", org).await,
        fixtures::agent(&db.pool, "two", "organization", org).await,
    );
    let (w1, w2) = (fixtures::workflow(&db.pool, a1).await, fixtures::workflow(&db.pool, a2).await);
    for status in ["queued", "running", "running", "failed"] {
        fixtures::execution(&db.pool, w1, a1, status).await;
    }
    fixtures::execution(&db.pool, w2, a2, "completed").await;
    assert_eq!(execution_counts_wrong(&db.pool).await, Vec::<String>::new(), "after single inserts");

    // Many rows in one statement, a status change of several at once, a move to another workflow.
    exec(
        &db.pool,
        &format!(
            "INSERT INTO platform.workflow_executions (workflow_id, agent_id, status, correlation_id) \
             SELECT '{w2}', '{a2}', (ARRAY['queued','running','completed'])[1 + i % 3], gen_random_uuid() \
             FROM generate_series(1, 300) i"
        ),
    )
    .await;
    exec(&db.pool, "UPDATE platform.workflow_executions SET status = 'running' WHERE status = 'queued'").await;
    exec(&db.pool, "UPDATE platform.workflow_executions SET status_message = 'no status change'").await;
    exec(&db.pool, &format!("UPDATE platform.workflow_executions SET workflow_id = '{w2}', agent_id = '{a2}' WHERE workflow_id = '{w1}' AND status = 'failed'")).await;
    assert_eq!(execution_counts_wrong(&db.pool).await, Vec::<String>::new(), "after updates");

    // Deletes, directly and by the workflow's cascade.
    exec(&db.pool, "DELETE FROM platform.workflow_executions WHERE status = 'completed'").await;
    exec(&db.pool, &format!("DELETE FROM platform.workflows WHERE id = '{w1}'")).await;
    assert_eq!(execution_counts_wrong(&db.pool).await, Vec::<String>::new(), "after deletes");
    // Each statement folded its keys: one row per key, none at zero.
    let keys: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT DISTINCT workflow_id, agent_id, status FROM platform.workflow_executions) k",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(count_rows(&db.pool).await, keys, "the deltas were folded");

    exec(&db.pool, "TRUNCATE platform.workflow_executions CASCADE").await;
    assert_eq!(count_rows(&db.pool).await, 0, "a truncate empties the counts");
}

#[tokio::test]
async fn a_bulk_load_without_triggers_is_counted_again() {
    let db = TestDb::new().await;
    // The demo loads its executions by COPY with triggers off (the test server's role is a
    // superuser), then asks the database to recount.
    let replica: bool = sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(replica, "the load under test is the one without triggers");
    demo::seed(&db.pool, Scale::Small, 3, Utc::now(), |_| {}).await.unwrap();
    let executions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM platform.workflow_executions").fetch_one(&db.pool).await.unwrap();
    assert!(executions > 100);
    assert_eq!(execution_counts_wrong(&db.pool).await, Vec::<String>::new());
}

/// Eight connections change statuses of the same workflows at once, in transactions of several
/// statements touching the keys in different orders: no deadlock (a writer would fail), and the
/// counts stay exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_neither_wait_nor_miscount() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 4, Utc::now(), |_| {}).await.unwrap();
    any_status_to_any(&db.pool).await;
    // Interleaved in workflow order: each writer has its own executions (no row waits on
    // another writer's row), of the same workflows as the others.
    let ids: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM platform.workflow_executions ORDER BY workflow_id, id LIMIT 400")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let statuses = ["queued", "pending", "running", "completed", "failed"];
    let writers: Vec<_> = (0..8)
        .map(|n| {
            let pool = db.pool.clone();
            let mine: Vec<uuid::Uuid> = ids.iter().skip(n).step_by(8).copied().collect();
            tokio::spawn(async move {
                for round in 0..40 {
                    let mut tx = pool.begin().await.unwrap();
                    for k in 0..3 {
                        let to = statuses[(n + round + k) % statuses.len()];
                        // Half the writers walk their rows backwards: the keys in the other order.
                        let at = if (n + k) % 2 == 0 {
                            (round * 3 + k) % mine.len()
                        } else {
                            mine.len() - 1 - (round * 3 + k) % mine.len()
                        };
                        let some: Vec<uuid::Uuid> = mine.iter().cycle().skip(at).take(5).copied().collect();
                        sqlx::query("UPDATE platform.workflow_executions SET status = $1 WHERE id = ANY($2)")
                            .bind(to)
                            .bind(some)
                            .execute(&mut *tx)
                            .await
                            .unwrap();
                    }
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(execution_counts_wrong(&db.pool).await, Vec::<String>::new());
}

#[tokio::test]
async fn the_listings_totals_from_the_counts_agree_with_the_rows() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 6, Utc::now(), |_| {}).await.unwrap();
    let e = Entity::Executions;
    let fresh = |condition: &'static str| {
        let pool = db.pool.clone();
        async move {
            let sql = format!(
                "SELECT e.status::text, count(*) FROM platform.workflow_executions e \
                 JOIN platform.workflows w ON w.id = e.workflow_id JOIN platform.agents a ON a.id = e.agent_id \
                 LEFT JOIN platform.organizations o ON a.owner_type = 'organization' AND o.id = a.owner_id \
                 WHERE {condition} GROUP BY 1 ORDER BY 1"
            );
            sqlx::query_as::<_, (String, i64)>(&sql).fetch_all(&pool).await.unwrap()
        }
    };
    let query = |filter: Filter, fields: &[(&str, &str)]| Query {
        filter,
        fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Query::new(e)
    };
    let cases: [(Query, &str); 7] = [
        (query(Filter::None, &[]), "true"),
        // Each set of joins the counts take: the workflows alone, the agents and
        // organisations alone, and all three.
        (query(Filter::Fuzzy("in".into()), &[]), "w.name ILIKE '%i%n%'"),
        (query(Filter::Invert("in".into()), &[]), "w.name NOT ILIKE '%i%n%'"),
        (query(Filter::None, &[("framework", "n8n"), ("status", "failed")]), "w.framework = 'n8n'"),
        (query(Filter::None, &[("org", "corp")]), "coalesce(o.name, '') ILIKE '%corp%'"),
        (
            query(Filter::Fuzzy("in".into()), &[("agent", "agent-1")]),
            "w.name ILIKE '%i%n%' AND a.name ILIKE '%agent-1%'",
        ),
        // `since` reads the executions' own start: counted from the rows, not the counts.
        (query(Filter::None, &[("since", "2h")]), "e.started_at >= now() - interval '2 hours'"),
    ];
    for (q, condition) in cases {
        let page = listing::page(&db.pool, e, &q, &PageAt::First, 20).await.unwrap();
        let expected = fresh(condition).await;
        assert_eq!(page.facets, expected, "the status header under {condition}");
        let total = match q.fields.iter().find(|(k, _)| k == "status") {
            Some((_, v)) => expected.iter().find(|(s, _)| s == v).map(|(_, n)| *n).unwrap_or(0),
            None => expected.iter().map(|(_, n)| n).sum(),
        };
        assert_eq!(page.total, total, "the total under {condition}");
    }
}

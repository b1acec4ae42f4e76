//! Rows the tests build on.

use fleetdeck::db::handle::Db;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub async fn user(pool: &Db, email: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO platform.users (email, password_hash, first_name, last_name, subscription_tier) \
         VALUES ($1, 'x', 'First', 'Last', 'pro') RETURNING id",
    )
    .bind(email)
    .fetch_one(pool)
    .await
    .unwrap()
}

pub async fn organization(pool: &Db, slug: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO platform.organizations (name, slug, subscription_tier) VALUES ($1, $1, 'enterprise') RETURNING id",
    )
    .bind(slug)
    .fetch_one(pool)
    .await
    .unwrap()
}

pub async fn member(pool: &Db, org: Uuid, user: Uuid, role: &str) {
    sqlx::query("INSERT INTO platform.organization_members (organization_id, user_id, role) VALUES ($1, $2, $3)")
        .bind(org)
        .bind(user)
        .bind(role)
        .execute(pool)
        .await
        .unwrap();
}

pub async fn agent(pool: &Db, name: &str, owner_type: &str, owner_id: Uuid) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO platform.agents (name, owner_type, owner_id, framework, agent_type) \
         VALUES ($1, $2, $3, 'langgraph', 'code') RETURNING id",
    )
    .bind(name)
    .bind(owner_type)
    .bind(owner_id)
    .fetch_one(pool)
    .await
    .unwrap()
}

pub async fn workflow(pool: &Db, agent: Uuid) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO platform.workflows (agent_id, name, workflow_data, workflow_type, framework) \
         VALUES ($1, 'wf', '{}', 'code', 'langgraph') RETURNING id",
    )
    .bind(agent)
    .fetch_one(pool)
    .await
    .unwrap()
}

pub async fn execution(pool: &Db, workflow: Uuid, agent: Uuid, status: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO platform.workflow_executions (workflow_id, agent_id, status, correlation_id) \
         VALUES ($1, $2, $3, gen_random_uuid()) RETURNING id",
    )
    .bind(workflow)
    .bind(agent)
    .bind(status)
    .fetch_one(pool)
    .await
    .unwrap()
}

pub async fn generator(pool: &Db, name: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO broker.generators (name) VALUES ($1) RETURNING id")
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

pub async fn stack(pool: &Db, name: &str, generator: Uuid) -> Uuid {
    sqlx::query_scalar("INSERT INTO broker.stacks (name, generator_id) VALUES ($1, $2) RETURNING id")
        .bind(name)
        .bind(generator)
        .fetch_one(pool)
        .await
        .unwrap()
}

pub async fn deployment_object(pool: &Db, stack: Uuid, generator: Uuid, yaml: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO broker.deployment_objects (stack_id, yaml_content, yaml_checksum, generator_id) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(stack)
    .bind(yaml)
    .bind(sha256_hex(yaml))
    .bind(generator)
    .fetch_one(pool)
    .await
    .unwrap()
}

pub async fn cluster_agent(pool: &Db, name: &str, cluster: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO broker.agents (name, cluster_name) VALUES ($1, $2) RETURNING id")
        .bind(name)
        .bind(cluster)
        .fetch_one(pool)
        .await
        .unwrap()
}

pub async fn event(pool: &Db, agent: Uuid, object: Uuid, status: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO broker.agent_events (agent_id, deployment_object_id, event_type, status) \
         VALUES ($1, $2, 'DEPLOY', $3) RETURNING id",
    )
    .bind(agent)
    .bind(object)
    .bind(status)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The database's message for a failed statement.
pub fn db_message(err: sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => panic!("expected a database error, got {other:?}"),
    }
}

/// Wait until a statement of this database waits on a row lock (a race set up by a test).
pub async fn until_waiting_on_a_lock(pool: &Db) {
    let waiting = async {
        loop {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            if n > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), waiting).await.expect("a statement waits on a lock");
}

/// The executions' maintained counts (migration 23) against a fresh `count(*)`: every
/// (workflow, agent, status) whose sum differs, as `workflow agent status: kept vs counted`.
pub async fn execution_counts_wrong(pool: &Db) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT format('%s %s %s: %s kept, %s counted', workflow_id, agent_id, status, coalesce(k.n, 0), coalesce(x.n, 0)) \
         FROM (SELECT workflow_id, agent_id, status, sum(n) AS n FROM fleetdeck.execution_counts GROUP BY 1, 2, 3 \
               HAVING sum(n) <> 0) k \
         FULL JOIN (SELECT workflow_id, agent_id, status::text AS status, count(*) AS n \
                    FROM platform.workflow_executions GROUP BY 1, 2, 3) x USING (workflow_id, agent_id, status) \
         WHERE k.n IS DISTINCT FROM x.n ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Where the reach the database keeps (migration 26) differs from reach reckoned afresh from the
/// base tables: each pair, each stack's and agent's counts and each agent's last event, one line
/// per difference.
pub async fn reach_wrong(pool: &Db) -> Vec<String> {
    sqlx::query_scalar(
        "WITH fresh AS (SELECT * FROM fleetdeck.reach_fresh(ARRAY(SELECT id FROM broker.stacks), '{}')) \
         SELECT format('pair %s %s: kept %s, fresh %s', coalesce(k.stack_id, f.stack_id), coalesce(k.agent_id, f.agent_id), \
                       CASE WHEN k.stack_id IS NULL THEN 'none' ELSE row(k.*)::text END, \
                       CASE WHEN f.stack_id IS NULL THEN 'none' ELSE row(f.*)::text END) \
           FROM fleetdeck.stack_reach k FULL JOIN fresh f ON f.stack_id = k.stack_id AND f.agent_id = k.agent_id \
          WHERE row(k.*) IS DISTINCT FROM row(f.*) \
         UNION ALL \
         SELECT format('stack %s: kept %s, counted %s', coalesce(k.stack_id, x.stack_id), k.n, x.n) \
           FROM (SELECT stack_id, array[sum(agents), sum(by_target), sum(by_label), sum(by_annotation), sum(success), \
                        sum(failure), sum(unreported)]::bigint[] AS n \
                   FROM fleetdeck.stack_reach_counts GROUP BY 1 HAVING sum(agents) <> 0) k \
           FULL JOIN (SELECT stack_id, array[count(*), count(*) FILTER (WHERE by_target), count(*) FILTER (WHERE by_label), \
                             count(*) FILTER (WHERE by_annotation), count(*) FILTER (WHERE status = 'SUCCESS'), \
                             count(*) FILTER (WHERE status = 'FAILURE'), count(*) FILTER (WHERE status IS NULL)] AS n \
                        FROM fresh GROUP BY 1) x ON x.stack_id = k.stack_id \
          WHERE k.n IS DISTINCT FROM x.n \
         UNION ALL \
         SELECT format('agent %s: kept %s, counted %s', coalesce(k.agent_id, x.agent_id), k.n, x.n) \
           FROM (SELECT agent_id, array[sum(stacks), sum(by_target), sum(by_label), sum(by_annotation), sum(pending)]::bigint[] AS n \
                   FROM fleetdeck.agent_reach_counts GROUP BY 1 HAVING sum(stacks) <> 0) k \
           FULL JOIN (SELECT agent_id, array[count(*), count(*) FILTER (WHERE by_target), count(*) FILTER (WHERE by_label), \
                             count(*) FILTER (WHERE by_annotation), \
                             count(*) FILTER (WHERE status IS NULL AND object_id IS NOT NULL)] AS n \
                        FROM fresh GROUP BY 1) x ON x.agent_id = k.agent_id \
          WHERE k.n IS DISTINCT FROM x.n \
         UNION ALL \
         SELECT format('last event %s: kept %s, fresh %s', coalesce(k.agent_id, x.agent_id), k.last_event, x.last_event) \
           FROM fleetdeck.agent_last_event k \
           FULL JOIN (SELECT agent_id, max(created_at) AS last_event FROM broker.agent_events \
                       WHERE deleted_at IS NULL GROUP BY 1) x ON x.agent_id = k.agent_id \
          WHERE k.last_event IS DISTINCT FROM x.last_event \
          ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Change execution `id` until the dashboard's workers, whose replies come on `replies`, hear of
/// it (their listener connects in the background), at most a minute; the list they said changed.
pub async fn until_heard(
    pool: &Db,
    id: Uuid,
    replies: &mut tokio::sync::mpsc::UnboundedReceiver<fleetdeck::ui::workers::Reply>,
) -> fleetdeck::service::listing::Entity {
    let start = std::time::Instant::now();
    loop {
        sqlx::query("UPDATE platform.workflow_executions SET status_message = now()::text WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
        match tokio::time::timeout(std::time::Duration::from_millis(300), replies.recv()).await {
            Ok(Some(fleetdeck::ui::workers::Reply::Changed(entity))) => return entity,
            Ok(other) => panic!("{other:?}"),
            Err(_) => assert!(start.elapsed() < std::time::Duration::from_secs(60), "no notification"),
        }
    }
}

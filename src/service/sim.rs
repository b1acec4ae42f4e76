//! The demo simulator's statements: what the platform's own workers would write. Every
//! execution change is a guarded transition the state machine allows (queued → pending →
//! running → completed | failed | timeout); users' verbs (pause, resume, cancel, retry) are not
//! simulated.

use crate::db::handle::Db;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Result;

/// Rates and fractions for one tick.
#[derive(Debug, Clone)]
pub struct Rates {
    /// Executions moved forward per status per tick.
    pub executions: i64,
    /// New queued executions per tick.
    pub new_executions: i64,
    /// Events reported per tick at most.
    pub events: i64,
    /// Share of failures among finished executions and deploy events.
    pub failure_share: f64,
}

/// What one tick changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickStats {
    pub host_heartbeats: u64,
    pub agent_heartbeats: u64,
    pub transitions: u64,
    pub new_executions: u64,
    pub events: u64,
    pub deployments: u64,
    /// Transitions the database refused (should stay 0).
    pub rejected: u64,
}

impl std::ops::AddAssign for TickStats {
    fn add_assign(&mut self, o: TickStats) {
        self.host_heartbeats += o.host_heartbeats;
        self.agent_heartbeats += o.agent_heartbeats;
        self.transitions += o.transitions;
        self.new_executions += o.new_executions;
        self.events += o.events;
        self.deployments += o.deployments;
        self.rejected += o.rejected;
    }
}

/// The most hosts, and the most agents, one tick heartbeats: a backlog (the simulator started
/// long after the seed, every host due at once) is caught up over a few ticks instead of in one
/// statement that outlasts the statement timeout, rolls back and leaves its rows dead, tick
/// after tick (the large demo's 100,000 hosts did).
pub const HEARTBEATS_PER_TICK: i64 = 10_000;

/// Heartbeat the active hosts and agents that are due (older than `interval_s`), at most
/// [`HEARTBEATS_PER_TICK`] of each, except the silent ones, which go stale and then offline until
/// they are let speak again. The silent ones are a hashed set (`NOT IN` a subquery): `<> ALL` of
/// the array compared each host with each of the 5,000 silent hosts of the large demo, seconds a
/// tick.
pub async fn heartbeats(
    pool: &Db,
    interval_s: f64,
    silent_hosts: &[Uuid],
    silent_agents: &[Uuid],
) -> Result<(u64, u64)> {
    let hosts = sqlx::query(
        "UPDATE edge.host SET last_heartbeat = now() \
         WHERE id IN (SELECT id FROM edge.host \
                       WHERE status = 'Active' \
                         AND (last_heartbeat IS NULL OR last_heartbeat < now() - make_interval(secs => $1)) \
                         AND id NOT IN (SELECT unnest($2::uuid[])) LIMIT $3)",
    )
    .bind(interval_s)
    .bind(silent_hosts)
    .bind(HEARTBEATS_PER_TICK)
    .execute(pool)
    .await?
    .rows_affected();
    let agents = sqlx::query(
        "UPDATE broker.agents SET last_heartbeat = now() \
         WHERE id IN (SELECT id FROM broker.agents \
                       WHERE status = 'ACTIVE' AND deleted_at IS NULL \
                         AND (last_heartbeat IS NULL OR last_heartbeat < now() - make_interval(secs => $1)) \
                         AND id NOT IN (SELECT unnest($2::uuid[])) LIMIT $3)",
    )
    .bind(interval_s)
    .bind(silent_agents)
    .bind(HEARTBEATS_PER_TICK)
    .execute(pool)
    .await?
    .rows_affected();
    Ok((hosts, agents))
}

/// Random active hosts and agents to fall silent.
pub async fn pick_silent(pool: &Db, hosts: i64, agents: i64) -> Result<(Vec<Uuid>, Vec<Uuid>)> {
    let h = sqlx::query_scalar("SELECT id FROM edge.host WHERE status = 'Active' ORDER BY random() LIMIT $1")
        .bind(hosts)
        .fetch_all(pool)
        .await?;
    let a = sqlx::query_scalar(
        "SELECT id FROM broker.agents WHERE status = 'ACTIVE' AND deleted_at IS NULL ORDER BY random() LIMIT $1",
    )
    .bind(agents)
    .fetch_all(pool)
    .await?;
    Ok((h, a))
}

/// How many active hosts and agents there are.
pub async fn active_counts(pool: &Db) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT (SELECT count(*) FROM edge.host WHERE status = 'Active'), \
                (SELECT count(*) FROM broker.agents WHERE status = 'ACTIVE' AND deleted_at IS NULL)",
    )
    .fetch_one(pool)
    .await?)
}

fn is_transition_refusal(e: &sqlx::Error) -> bool {
    e.as_database_error().and_then(|d| d.constraint()) == Some("workflow_executions_status_transition")
}

/// One guarded step of the worker state machine for up to `n` executions, oldest first (as a
/// queue's workers take them).
async fn advance(pool: &Db, from: &str, set: &str, n: i64, stats: &mut TickStats) -> Result<()> {
    let sql = format!(
        "UPDATE platform.workflow_executions e SET {set} \
         WHERE e.id IN (SELECT id FROM platform.workflow_executions WHERE status = $1 \
                        ORDER BY started_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
           AND e.status = $1"
    );
    match sqlx::query(&sql).bind(from).bind(n).execute(pool).await {
        Ok(r) => stats.transitions += r.rows_affected(),
        Err(e) if is_transition_refusal(&e) => stats.rejected += 1,
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Move executions forward along the workers' transitions and queue new ones.
pub async fn executions(pool: &Db, rates: &Rates, stats: &mut TickStats) -> Result<()> {
    let n = rates.executions;
    let log = |msg: &str| {
        format!(
            "execution_logs = coalesce(e.execution_logs, '[]'::jsonb) || jsonb_build_array(jsonb_build_object(\
             'ts', now(), 'level', 'info', 'message', '{msg}'))"
        )
    };
    advance(
        pool,
        "queued",
        &format!("status = 'pending', status_message = 'assigned to a worker', {}", log("assigned")),
        n,
        stats,
    )
    .await?;
    advance(pool, "pending", &format!("status = 'running', status_message = NULL, {}", log("running")), n, stats)
        .await?;
    let failed = ((n as f64) * rates.failure_share).ceil() as i64;
    advance(
        pool,
        "running",
        &format!(
            "status = 'completed', completed_at = now(), performance_metrics = jsonb_build_object('duration_ms', \
             (extract(epoch FROM now() - e.started_at) * 1000)::bigint), {}",
            log("completed")
        ),
        (n - failed).max(0),
        stats,
    )
    .await?;
    advance(
        pool,
        "running",
        "status = 'failed', completed_at = now(), error_code = 'UPSTREAM_5XX', \
         error_message = 'upstream service returned 503 Service Unavailable', \
         execution_logs = coalesce(e.execution_logs, '[]'::jsonb) || jsonb_build_array(jsonb_build_object(\
         'ts', now(), 'level', 'error', 'message', 'upstream service returned 503 Service Unavailable'))",
        failed,
        stats,
    )
    .await?;
    advance(
        pool,
        "running",
        "status = 'timeout', completed_at = now(), error_code = 'TIMEOUT', \
         error_message = 'execution exceeded its time limit'",
        (failed / 2).max(0),
        stats,
    )
    .await?;
    stats.new_executions += sqlx::query(
        "INSERT INTO platform.workflow_executions (workflow_id, agent_id, status, correlation_id, execution_logs) \
         SELECT w.id, w.agent_id, 'queued', gen_random_uuid(), \
                jsonb_build_array(jsonb_build_object('ts', now(), 'level', 'info', 'message', 'queued')) \
         FROM platform.workflows w WHERE w.is_active ORDER BY random() LIMIT $1",
    )
    .bind(rates.new_executions)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(())
}

/// Active agents report DEPLOY for the desired objects of the stacks that reach them and that
/// they have not reported yet: mostly SUCCESS, some FAILURE with the error.
pub async fn report_events(pool: &Db, rates: &Rates, stats: &mut TickStats) -> Result<()> {
    stats.events += sqlx::query(
        "WITH desired AS ( \
             SELECT DISTINCT ON (o.stack_id) o.id, o.stack_id FROM broker.deployment_objects o \
             JOIN broker.stacks s ON s.id = o.stack_id AND s.deleted_at IS NULL \
             WHERE o.deleted_at IS NULL AND o.submitted_at > now() - interval '1 day' \
             ORDER BY o.stack_id, o.sequence_id DESC), \
         reach AS ( \
             SELECT t.agent_id, d.id AS object_id FROM desired d JOIN broker.agent_targets t ON t.stack_id = d.stack_id \
             UNION SELECT al.agent_id, d.id FROM desired d JOIN broker.stack_labels sl ON sl.stack_id = d.stack_id \
                 JOIN broker.agent_labels al ON al.label = sl.label \
             UNION SELECT aa.agent_id, d.id FROM desired d JOIN broker.stack_annotations sa ON sa.stack_id = d.stack_id \
                 JOIN broker.agent_annotations aa ON aa.key = sa.key AND aa.value = sa.value) \
          INSERT INTO broker.agent_events (agent_id, deployment_object_id, event_type, status, message) \
         SELECT agent_id, object_id, 'DEPLOY', CASE WHEN failed THEN 'FAILURE' ELSE 'SUCCESS' END, \
                CASE WHEN failed THEN 'Apply failed: admission webhook \"policy.example.com\" denied the request: \
                     container image must come from registry.example.com' END \
         FROM (SELECT r.agent_id, r.object_id, random() < $2 AS failed \
               FROM reach r JOIN broker.agents a ON a.id = r.agent_id AND a.status = 'ACTIVE' AND a.deleted_at IS NULL \
               WHERE NOT EXISTS (SELECT 1 FROM broker.agent_events e \
                                 WHERE e.agent_id = r.agent_id AND e.deployment_object_id = r.object_id) \
               ORDER BY random() LIMIT $1) x",
    )
    .bind(rates.events)
    .bind(rates.failure_share)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(())
}

/// Submit the next version of a random live stack: its desired YAML with the image tag bumped.
pub async fn submit_deployment(pool: &Db, stats: &mut TickStats) -> Result<()> {
    let current: Option<(Uuid, Uuid, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (o.stack_id) o.stack_id, s.generator_id, o.yaml_content \
         FROM broker.deployment_objects o JOIN broker.stacks s ON s.id = o.stack_id AND s.deleted_at IS NULL \
         WHERE o.deleted_at IS NULL AND NOT o.is_deletion_marker \
           AND o.stack_id = (SELECT id FROM broker.stacks WHERE deleted_at IS NULL ORDER BY random() LIMIT 1) \
         ORDER BY o.stack_id, o.sequence_id DESC",
    )
    .fetch_optional(pool)
    .await?;
    let Some((stack, generator, yaml)) = current else { return Ok(()) };
    let next = bump_image_tag(&yaml);
    let checksum = hex::encode(Sha256::digest(next.as_bytes()));
    stats.deployments += sqlx::query(
        "INSERT INTO broker.deployment_objects (stack_id, yaml_content, yaml_checksum, generator_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(stack)
    .bind(&next)
    .bind(&checksum)
    .bind(generator)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(())
}

/// `image: repo:1.7.0` → `image: repo:1.8.0` (the second number of the first image tag).
pub fn bump_image_tag(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() + 2);
    let mut bumped = false;
    for line in yaml.split_inclusive('\n') {
        if !bumped && line.trim_start().starts_with("image:") {
            if let Some((head, tag)) = line.trim_end_matches('\n').rsplit_once(':') {
                let parts: Vec<&str> = tag.split('.').collect();
                if parts.len() == 3 {
                    if let Ok(minor) = parts[1].parse::<u64>() {
                        out.push_str(&format!("{head}:{}.{}.{}\n", parts[0], minor + 1, parts[2]));
                        bumped = true;
                        continue;
                    }
                }
            }
        }
        out.push_str(line);
    }
    if !bumped {
        out.push_str("# resubmitted by the simulator\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::bump_image_tag;

    #[test]
    fn bumps_the_first_image_tag() {
        let y = "spec:\n  image: registry.example.com/a/b:1.7.0\n  other: x\n";
        assert_eq!(bump_image_tag(y), "spec:\n  image: registry.example.com/a/b:1.8.0\n  other: x\n");
        assert!(bump_image_tag("kind: X\n").ends_with("# resubmitted by the simulator\n"));
    }
}

//! What the stack detail reads: the timeline of a stack's objects, what each reached agent
//! reported on one, an object's YAML and its diff against the one before, all in one view.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::*;

/// One deployment object in a stack's timeline, with how many reached agents reported on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TimelineEntry {
    pub id: Uuid,
    pub sequence_id: i64,
    pub submitted_at: DateTime<Utc>,
    pub yaml_checksum: String,
    pub is_deletion_marker: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    /// Live reports on it, by agents that are live.
    pub success: i64,
    pub failure: i64,
}

/// Every object of a stack, newest first, soft-deleted ones included (marked).
pub async fn timeline(services: &Services, stack: Uuid) -> Result<Vec<TimelineEntry>> {
    Ok(sqlx::query_as(
        "SELECT o.id, o.sequence_id, o.submitted_at, o.yaml_checksum, o.is_deletion_marker, o.deleted_at, \
                coalesce(e.success, 0) AS success, coalesce(e.failure, 0) AS failure \
           FROM broker.deployment_objects o \
           LEFT JOIN LATERAL ( \
                SELECT count(*) FILTER (WHERE l.status = 'SUCCESS') AS success, \
                       count(*) FILTER (WHERE l.status = 'FAILURE') AS failure \
                  FROM (SELECT DISTINCT ON (ev.agent_id) ev.status \
                          FROM broker.agent_events ev JOIN broker.agents ag ON ag.id = ev.agent_id \
                         WHERE ev.deployment_object_id = o.id AND ev.deleted_at IS NULL AND ag.deleted_at IS NULL \
                         ORDER BY ev.agent_id, ev.created_at DESC) l) e ON true \
          WHERE o.stack_id = $1 \
          ORDER BY o.sequence_id DESC",
    )
    .bind(stack)
    .fetch_all(&services.pool)
    .await?)
}

/// What each agent the stack reaches reported for one of its objects (the latest live report
/// each), by cluster and name.
pub async fn object_reports(
    services: &Services,
    stack: Uuid,
    object: Uuid,
    t: &Thresholds,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<AgentReport>> {
    Ok(sqlx::query_as(
        "SELECT r.agent_id, ag.name, ag.cluster_name AS cluster, r.by_target, r.by_label, r.by_annotation, \
                e.status, e.message, e.created_at AS reported_at, \
                coalesce(ag.status = 'ACTIVE' AND ag.last_heartbeat > coalesce($4, now()) - make_interval(secs => $3), false) AS online \
           FROM fleetdeck.stack_agents($1) r \
           JOIN broker.agents ag ON ag.id = r.agent_id \
           LEFT JOIN LATERAL (SELECT ev.status::text AS status, ev.message, ev.created_at \
                                FROM broker.agent_events ev \
                               WHERE ev.deployment_object_id = $2 AND ev.agent_id = r.agent_id AND ev.deleted_at IS NULL \
                               ORDER BY ev.created_at DESC LIMIT 1) e ON true \
          ORDER BY ag.cluster_name, ag.name, r.agent_id",
    )
    .bind(stack)
    .bind(object)
    .bind(t.offline_after.as_secs_f64())
    .bind(at)
    .fetch_all(&services.pool)
    .await?)
}

/// An object's YAML.
pub async fn object_yaml(services: &Services, object: Uuid) -> Result<String> {
    sqlx::query_scalar("SELECT yaml_content FROM broker.deployment_objects WHERE id = $1")
        .bind(object)
        .fetch_optional(&services.pool)
        .await?
        .ok_or_else(|| Error::NotFound { what: format!("deployment object {object}") })
}

/// The diff from the object before `object` in its stack's timeline (soft-deleted ones
/// included) to `object`; against nothing for the first.
pub async fn object_diff(services: &Services, object: Uuid) -> Result<Vec<crate::domain::rollout::DiffLine>> {
    let pair: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT o.yaml_content, \
                (SELECT p.yaml_content FROM broker.deployment_objects p \
                  WHERE p.stack_id = o.stack_id AND p.sequence_id < o.sequence_id \
                  ORDER BY p.sequence_id DESC LIMIT 1) \
           FROM broker.deployment_objects o WHERE o.id = $1",
    )
    .bind(object)
    .fetch_optional(&services.pool)
    .await?;
    let (new, old) = pair.ok_or_else(|| Error::NotFound { what: format!("deployment object {object}") })?;
    Ok(crate::domain::rollout::diff(old.as_deref().unwrap_or(""), &new))
}

/// Everything the stack detail shows: the stack, its timeline, and for one object (the desired
/// one unless another is asked for) each reached agent's report, its YAML and the diff from the
/// object before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackView {
    pub stack: StackRef,
    /// The name of the generator that owns the stack (its API key hash is never read).
    pub generator: String,
    pub labels: Vec<String>,
    pub timeline: Vec<TimelineEntry>,
    /// The object shown, if the stack has any.
    pub object: Option<Uuid>,
    pub desired: Option<Uuid>,
    pub reports: Vec<AgentReport>,
    pub yaml: String,
    pub diff: Vec<crate::domain::rollout::DiffLine>,
}

/// Read a stack's detail, showing `object` (or the desired object; or the newest one).
/// The stack detail; health is judged at `at` (the dashboard's clock, so that the detail and the
/// list agree) or the database's when None.
pub async fn stack_view(
    services: &Services,
    stack: Uuid,
    object: Option<Uuid>,
    t: &Thresholds,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<StackView> {
    let stack = find_stack(services, &stack.to_string()).await?;
    let generator: String = sqlx::query_scalar("SELECT name::text FROM broker.generators WHERE id = $1")
        .bind(stack.generator_id)
        .fetch_optional(&services.pool)
        .await?
        .unwrap_or_default();
    let labels: Vec<String> = sqlx::query_scalar(
        "SELECT x FROM (SELECT 0 AS k, label AS x FROM broker.stack_labels WHERE stack_id = $1 \
                        UNION ALL SELECT 1, key || '=' || value FROM broker.stack_annotations WHERE stack_id = $1) y \
          ORDER BY k, x",
    )
    .bind(stack.id)
    .fetch_all(&services.pool)
    .await?;
    let timeline = timeline(services, stack.id).await?;
    let desired = timeline.iter().find(|o| o.deleted_at.is_none()).map(|o| o.id);
    let object = object.filter(|o| timeline.iter().any(|e| e.id == *o)).or(desired).or(timeline.first().map(|o| o.id));
    let (reports, yaml, diff) = match object {
        Some(o) => (
            object_reports(services, stack.id, o, t, at).await?,
            object_yaml(services, o).await?,
            object_diff(services, o).await?,
        ),
        None => (Vec::new(), String::new(), Vec::new()),
    };
    Ok(StackView { stack, generator, labels, timeline, object, desired, reports, yaml, diff })
}

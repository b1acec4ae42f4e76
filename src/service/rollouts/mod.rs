//! Rollouts: where a stack's desired deployment object stands on each agent it reaches, and
//! submitting the next object (checked, checksummed, audited, in one transaction).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

mod view;

pub use self::view::{object_diff, object_reports, object_yaml, stack_view, timeline, StackView, TimelineEntry};
use super::audit::{self, Entry, Outcome};
use super::{Error, Result, Services};
use crate::domain::health::{Health, Thresholds};
use crate::domain::rollout::{check_yaml, Manifest, Progress, RolloutState};

/// A stack as a rollout names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StackRef {
    pub id: Uuid,
    pub name: String,
    pub generator_id: Uuid,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A deployment object without its YAML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ObjectInfo {
    pub id: Uuid,
    pub sequence_id: i64,
    pub yaml_checksum: String,
    pub submitted_at: DateTime<Utc>,
    pub is_deletion_marker: bool,
}

/// What one reached agent reported for the desired object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AgentReport {
    pub agent_id: Uuid,
    pub name: String,
    pub cluster: String,
    pub by_target: bool,
    pub by_label: bool,
    pub by_annotation: bool,
    /// SUCCESS or FAILURE; None while pending.
    pub status: Option<String>,
    pub message: Option<String>,
    pub reported_at: Option<DateTime<Utc>>,
    /// False when the agent is inactive or silent past the offline threshold.
    pub online: bool,
}

impl AgentReport {
    /// `success`, `failure`, `pending` or `offline`.
    pub fn state(&self) -> &'static str {
        match (self.status.as_deref(), self.online) {
            (Some("SUCCESS"), _) => "success",
            (Some(_), _) => "failure",
            (None, true) => "pending",
            (None, false) => "offline",
        }
    }

    /// `t`, `l`, `a` for each route that reaches it (`tl`: by target and by label).
    pub fn routes(&self) -> String {
        [(self.by_target, 't'), (self.by_label, 'l'), (self.by_annotation, 'a')]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, c)| *c)
            .collect()
    }
}

/// A stack's rollout: its desired object and every reached agent's report on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub stack: StackRef,
    pub desired: Option<ObjectInfo>,
    pub progress: Progress,
    pub state: RolloutState,
    pub agents: Vec<AgentReport>,
}

/// A stack by id, or by name among the live stacks.
pub async fn find_stack(services: &Services, stack: &str) -> Result<StackRef> {
    let found: Option<StackRef> =
        match stack.parse::<Uuid>() {
            Ok(id) => {
                sqlx::query_as("SELECT id, name, generator_id, deleted_at FROM broker.stacks WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&services.pool)
                    .await?
            }
            Err(_) => sqlx::query_as(
                "SELECT id, name, generator_id, deleted_at FROM broker.stacks WHERE name = $1 AND deleted_at IS NULL",
            )
            .bind(stack)
            .fetch_optional(&services.pool)
            .await?,
        };
    found.ok_or_else(|| Error::NotFound { what: format!("stack {stack:?}") })
}

/// The rollout of `stack` (its name or id) at the database's clock: health by `t`'s offline
/// threshold. A deleted stack reaches no agent.
pub async fn status(services: &Services, stack: &str, t: &Thresholds) -> Result<Status> {
    let stack = find_stack(services, stack).await?;
    let desired: Option<ObjectInfo> = sqlx::query_as(
        "SELECT id, sequence_id, yaml_checksum, submitted_at, is_deletion_marker FROM broker.deployment_objects \
         WHERE stack_id = $1 AND deleted_at IS NULL ORDER BY sequence_id DESC LIMIT 1",
    )
    .bind(stack.id)
    .fetch_optional(&services.pool)
    .await?;
    let agents: Vec<AgentReport> = sqlx::query_as(
        "SELECT r.agent_id, ag.name, ag.cluster_name AS cluster, r.by_target, r.by_label, r.by_annotation, \
                r.status, r.message, r.reported_at, r.online \
           FROM fleetdeck.stack_reports($1, make_interval(secs => $2), now()) r \
           JOIN broker.agents ag ON ag.id = r.agent_id \
          ORDER BY ag.cluster_name, ag.name, r.agent_id",
    )
    .bind(stack.id)
    .bind(t.offline_after.as_secs_f64())
    .fetch_all(&services.pool)
    .await?;
    let progress = progress(&agents);
    Ok(Status { stack, desired, progress, state: progress.state(), agents })
}

/// The reports added up.
pub fn progress(reports: &[AgentReport]) -> Progress {
    let mut p = Progress::default();
    for r in reports {
        match r.state() {
            "success" => p.success += 1,
            "failure" => p.failure += 1,
            "pending" => p.pending += 1,
            _ => p.offline += 1,
        }
    }
    p
}

/// A newly submitted object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submitted {
    pub object: ObjectInfo,
    /// The desired object it replaced.
    pub previous: Option<i64>,
    pub manifests: Vec<Manifest>,
}

/// The SHA-256 hex digest the broker keeps beside the YAML.
pub fn checksum(yaml: &str) -> String {
    hex::encode(Sha256::digest(yaml.as_bytes()))
}

/// Submit `yaml` as the next deployment object of `stack` (name or id): it must parse and every
/// document needs apiVersion, kind and metadata.name (errors name line and column, field
/// `yaml`). One transaction with its audit row; the stack is locked so that two submissions
/// queue instead of interleaving.
pub async fn submit(services: &Services, stack: &str, yaml: &str) -> Result<Submitted> {
    let manifests = check_yaml(yaml).map_err(|e| Error::Invalid { field: "yaml".into(), reason: e.to_string() })?;
    let stack = find_stack(services, stack).await?;
    insert_object(services, &stack, yaml, false, "submit", manifests, None).await
}

/// As [`submit`], only while the stack's desired object is still the one with sequence `over`
/// (None: the stack has none): the editor showed the diff against it. Someone else's submission
/// in between is a conflict naming the sequence that is desired now, and nothing is written.
pub async fn submit_over(services: &Services, stack: Uuid, yaml: &str, over: Option<i64>) -> Result<Submitted> {
    let manifests = check_yaml(yaml).map_err(|e| Error::Invalid { field: "yaml".into(), reason: e.to_string() })?;
    let stack = find_stack(services, &stack.to_string()).await?;
    insert_object(services, &stack, yaml, false, "submit", manifests, Some(over)).await
}

/// The desired object of a live stack, for the editor: its sequence and YAML (None while the
/// stack has none). A deleted stack is a conflict: it takes no new objects.
pub async fn desired(services: &Services, stack: Uuid) -> Result<(StackRef, Option<(i64, String)>)> {
    let stack = find_stack(services, &stack.to_string()).await?;
    if stack.deleted_at.is_some() {
        return Err(Error::Conflict {
            current_state: "deleted".into(),
            message: format!("stack {:?} was deleted; a deleted stack takes no new objects", stack.name),
        });
    }
    let object = desired_yaml(services, stack.id).await?.map(|(seq, yaml, _)| (seq, yaml));
    Ok((stack, object))
}

/// The desired object's sequence, YAML and whether it is a deletion marker.
async fn desired_yaml(services: &Services, stack: Uuid) -> Result<Option<(i64, String, bool)>> {
    Ok(sqlx::query_as(
        "SELECT sequence_id, yaml_content, is_deletion_marker FROM broker.deployment_objects \
         WHERE stack_id = $1 AND deleted_at IS NULL ORDER BY sequence_id DESC LIMIT 1",
    )
    .bind(stack)
    .fetch_optional(&services.pool)
    .await?)
}

/// Submit the desired object's YAML again: a new object, so every agent reconciles.
pub async fn resubmit(services: &Services, stack: &str) -> Result<Submitted> {
    let stack = find_stack(services, stack).await?;
    let Some((_, yaml, marker)) = desired_yaml(services, stack.id).await? else {
        return Err(Error::Invalid {
            field: "stack".into(),
            reason: format!("stack {:?} has no deployment object to submit again", stack.name),
        });
    };
    let manifests = if marker { Vec::new() } else { check_yaml(&yaml).unwrap_or_default() };
    insert_object(services, &stack, &yaml, marker, "resubmit", manifests, None).await
}

/// Lock a live stack's row for the transaction (two writers queue instead of interleaving); a
/// deleted stack is a conflict saying `why` it matters.
pub(crate) async fn lock_live(tx: &mut sqlx::PgConnection, stack: &StackRef, why: &str) -> Result<()> {
    let live: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM broker.stacks WHERE id = $1 AND deleted_at IS NULL FOR UPDATE")
            .bind(stack.id)
            .fetch_optional(&mut *tx)
            .await?;
    match live {
        Some(_) => Ok(()),
        None => Err(Error::Conflict {
            current_state: "deleted".into(),
            message: format!("stack {:?} was deleted; {why}", stack.name),
        }),
    }
}

async fn insert_object(
    services: &Services,
    stack: &StackRef,
    yaml: &str,
    marker: bool,
    verb: &str,
    manifests: Vec<Manifest>,
    expected: Option<Option<i64>>,
) -> Result<Submitted> {
    let mut tx = services.pool.begin().await?;
    lock_live(&mut tx, stack, "a deleted stack takes no new objects").await?;
    let previous = desired_sequence(&mut tx, stack.id).await?;
    if let Some(expected) = expected.filter(|e| *e != previous) {
        let seq = |s: Option<i64>| s.map_or_else(|| "none".to_string(), |s| format!("sequence {s}"));
        let message = format!(
            "stack {:?} changed since the editor opened on {}: review the diff against the new desired object",
            stack.name,
            seq(expected)
        );
        let entry = Entry {
            verb,
            target_table: "broker.stacks",
            target_id: Some(stack.id.to_string()),
            from_state: Some(seq(expected)),
            to_state: None,
            reason: None,
            outcome: Outcome::Conflict,
            error: Some(message.clone()),
        };
        audit::record(&mut tx, &services.actor, &entry).await?;
        tx.commit().await?;
        return Err(Error::Conflict { current_state: seq(previous), message });
    }
    let object = write_object(&mut tx, &services.actor, stack, yaml, marker, verb, previous).await?;
    tx.commit().await?;
    Ok(Submitted { object, previous, manifests })
}

/// The sequence of the stack's desired object (its newest live one), inside a transaction.
pub(crate) async fn desired_sequence(tx: &mut sqlx::PgConnection, stack: Uuid) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT sequence_id FROM broker.deployment_objects WHERE stack_id = $1 AND deleted_at IS NULL \
         ORDER BY sequence_id DESC LIMIT 1",
    )
    .bind(stack)
    .fetch_optional(&mut *tx)
    .await?)
}

/// Make `agents` explicit targets of `stack` inside the caller's transaction, with an audit row
/// (`add-target`, with `reason`) for each one that was not one already. Returns those added.
/// Every agent must be live (held so until the caller commits); a missing or deleted one is
/// refused under `field`, the name the caller's form or flag gives the agents.
pub(crate) async fn add_targets(
    tx: &mut sqlx::PgConnection,
    actor: &super::Actor,
    stack: Uuid,
    agents: &[Uuid],
    reason: Option<&str>,
    field: &str,
) -> Result<Vec<Uuid>> {
    let live: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM broker.agents WHERE id = ANY($1) AND deleted_at IS NULL FOR SHARE")
            .bind(agents)
            .fetch_all(&mut *tx)
            .await?;
    if let Some(missing) = agents.iter().find(|a| !live.contains(a)) {
        return Err(Error::Invalid {
            field: field.into(),
            reason: format!("agent {missing} does not exist or was deleted"),
        });
    }
    let added: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO broker.agent_targets (agent_id, stack_id) SELECT a, $2 FROM unnest($1::uuid[]) a \
         ON CONFLICT (agent_id, stack_id) DO NOTHING RETURNING agent_id",
    )
    .bind(agents)
    .bind(stack)
    .fetch_all(&mut *tx)
    .await?;
    for a in &added {
        let entry = Entry {
            verb: "add-target",
            target_table: "broker.stacks",
            target_id: Some(stack.to_string()),
            from_state: None,
            to_state: Some(format!("targets agent {a}")),
            reason: reason.map(str::to_string),
            outcome: Outcome::Ok,
            error: None,
        };
        audit::record(tx, actor, &entry).await?;
    }
    Ok(added)
}

/// Inside the caller's transaction, with the stack locked: insert the next object, touch the
/// stack (open dashboards see it) and audit it under `verb`. `previous` is the desired sequence
/// it replaces.
pub(crate) async fn write_object(
    tx: &mut sqlx::PgConnection,
    actor: &super::Actor,
    stack: &StackRef,
    yaml: &str,
    marker: bool,
    verb: &str,
    previous: Option<i64>,
) -> Result<ObjectInfo> {
    let object: ObjectInfo = sqlx::query_as(
        "INSERT INTO broker.deployment_objects (stack_id, yaml_content, yaml_checksum, is_deletion_marker, generator_id) \
         VALUES ($1, $2, $3, $4, $5) \
         RETURNING id, sequence_id, yaml_checksum, submitted_at, is_deletion_marker",
    )
    .bind(stack.id)
    .bind(yaml)
    .bind(checksum(yaml))
    .bind(marker)
    .bind(stack.generator_id)
    .fetch_one(&mut *tx)
    .await?;
    // The stack's row changes too, so that open dashboards see the new version.
    sqlx::query("UPDATE broker.stacks SET updated_at = now() WHERE id = $1").bind(stack.id).execute(&mut *tx).await?;
    let entry = Entry {
        verb,
        target_table: "broker.stacks",
        target_id: Some(stack.id.to_string()),
        from_state: previous.map(|s| format!("sequence {s}")),
        to_state: Some(format!("sequence {} ({})", object.sequence_id, &object.yaml_checksum[..12])),
        reason: None,
        outcome: Outcome::Ok,
        error: None,
    };
    audit::record(tx, actor, &entry).await?;
    Ok(object)
}

/// A live agent that can be made an explicit target of a stack, with its health now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentChoice {
    pub id: Uuid,
    pub name: String,
    pub cluster: String,
    /// The stack targets it explicitly now.
    pub targeted: bool,
    /// `healthy`, `stale` or `offline` by the dashboard's thresholds at its clock.
    pub health: Health,
}

/// Every live agent, by cluster and name, with its health by `thresholds` at `now`, and
/// whether `stack` targets it explicitly (none does when there is no stack yet).
pub async fn target_choices(
    services: &Services,
    stack: Option<Uuid>,
    thresholds: &Thresholds,
    now: DateTime<Utc>,
) -> Result<Vec<AgentChoice>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        name: String,
        cluster: String,
        targeted: bool,
        active: bool,
        last_heartbeat: Option<DateTime<Utc>>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT ag.id, ag.name, ag.cluster_name AS cluster, t.agent_id IS NOT NULL AS targeted, \
                ag.status = 'ACTIVE' AS active, ag.last_heartbeat \
           FROM broker.agents ag \
           LEFT JOIN broker.agent_targets t ON t.agent_id = ag.id AND t.stack_id = $1 \
          WHERE ag.deleted_at IS NULL \
          ORDER BY ag.cluster_name, ag.name, ag.id",
    )
    .bind(stack)
    .fetch_all(&services.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AgentChoice {
            health: thresholds.classify(r.active, r.last_heartbeat, now),
            id: r.id,
            name: r.name,
            cluster: r.cluster,
            targeted: r.targeted,
        })
        .collect())
}

/// What a change of explicit targets did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TargetChange {
    pub added: Vec<Uuid>,
    pub removed: Vec<Uuid>,
    /// Asked for but already so (added by someone else, or not a target any more).
    pub unchanged: usize,
}

impl TargetChange {
    /// `2 target(s) added, 1 removed` for a toast or the CLI.
    pub fn describe(&self) -> String {
        if self.added.is_empty() && self.removed.is_empty() {
            return "nothing changed (the targets were already so)".into();
        }
        let mut s = format!("{} target(s) added, {} removed", self.added.len(), self.removed.len());
        if self.unchanged > 0 {
            s.push_str(&format!(", {} already so", self.unchanged));
        }
        s
    }
}

/// Make `add` explicit targets of `stack` (name or id) and `remove` no longer targets, in one
/// transaction with an audit row per agent. Every agent to add must be live; an agent in both
/// lists, a deleted stack or a missing agent write nothing.
pub async fn set_targets(services: &Services, stack: &str, add: &[Uuid], remove: &[Uuid]) -> Result<TargetChange> {
    if let Some(both) = add.iter().find(|a| remove.contains(a)) {
        return Err(Error::Invalid {
            field: "agent".into(),
            reason: format!("agent {both} is both added and removed"),
        });
    }
    let stack = find_stack(services, stack).await?;
    let mut tx = services.pool.begin().await?;
    lock_live(&mut tx, &stack, "its targets cannot change").await?;
    let added = add_targets(&mut tx, &services.actor, stack.id, add, None, "agent").await?;
    let removed: Vec<Uuid> = sqlx::query_scalar(
        "DELETE FROM broker.agent_targets WHERE stack_id = $2 AND agent_id = ANY($1) RETURNING agent_id",
    )
    .bind(remove)
    .bind(stack.id)
    .fetch_all(&mut *tx)
    .await?;
    for agent in &removed {
        let entry = Entry {
            verb: "remove-target",
            target_table: "broker.stacks",
            target_id: Some(stack.id.to_string()),
            from_state: Some(format!("targets agent {agent}")),
            to_state: None,
            reason: None,
            outcome: Outcome::Ok,
            error: None,
        };
        audit::record(&mut tx, &services.actor, &entry).await?;
    }
    if !added.is_empty() || !removed.is_empty() {
        // Open dashboards see the stack's reach change.
        sqlx::query("UPDATE broker.stacks SET updated_at = now() WHERE id = $1")
            .bind(stack.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let unchanged = (add.len() + remove.len()).saturating_sub(added.len() + removed.len());
    Ok(TargetChange { added, removed, unchanged })
}

/// One line of `rollout list`: a live stack, its desired sequence and its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackRollout {
    pub id: Uuid,
    pub name: String,
    pub generator: String,
    pub sequence_id: Option<i64>,
    pub agents: i64,
    pub progress: Progress,
    pub state: RolloutState,
}

/// The live stacks by name (at most `limit`), each with its rollout's progress.
/// The live stacks' rollouts by name; health judged at `at`, or the database's clock when None.
pub async fn list(
    services: &Services,
    t: &Thresholds,
    limit: i64,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<StackRollout>> {
    type Row = (Uuid, String, String, Option<i64>, i64, i64, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT st.id, st.name, g.name, \
                (SELECT max(o.sequence_id) FROM broker.deployment_objects o \
                  WHERE o.stack_id = st.id AND o.deleted_at IS NULL), \
                p.success, p.failure, p.pending, p.offline \
           FROM broker.stacks st JOIN broker.generators g ON g.id = st.generator_id \
           CROSS JOIN LATERAL fleetdeck.stack_rollup(st.id, make_interval(secs => $1), coalesce($3, now())) p \
          WHERE st.deleted_at IS NULL \
          ORDER BY st.name, st.id \
          LIMIT $2",
    )
    .bind(t.offline_after.as_secs_f64())
    .bind(limit)
    .bind(at)
    .fetch_all(&services.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, generator, sequence_id, success, failure, pending, offline)| {
            let progress = Progress { success, failure, pending, offline };
            StackRollout {
                id,
                name,
                generator,
                sequence_id,
                agents: progress.total(),
                progress,
                state: progress.state(),
            }
        })
        .collect())
}

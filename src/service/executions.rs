//! What a user may do to workflow executions: pause, resume, cancel, retry (SEMANTICS.md, seed
//! 001). Each action on each row is one transaction: a guarded statement and its audit row.

use std::collections::BTreeMap;

use sqlx::Connection;
use uuid::Uuid;

use super::audit::{self, Entry, Outcome};
use super::{Error, Result, Services};
use crate::domain::execution::{ExecutionStatus, Verb};

/// What happened to one execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    /// It moved (`to` is the new status; for retry, the new execution's id).
    Done { from: String, to: String },
    /// The verb does not apply to it: why.
    Skipped { status: String, reason: String },
    /// Someone changed it first; its status now.
    Lost { now: String },
    /// It is gone, or not visible to the acting user.
    Missing,
    /// The acting user may not act on it: why.
    Refused { reason: String },
}

/// The outcome of a verb over several rows, and a one-line summary for a toast.
#[derive(Debug, Clone, Default)]
pub struct BulkOutcome {
    pub rows: Vec<(Uuid, RowOutcome)>,
}

impl BulkOutcome {
    /// "7 paused, 2 skipped: completed, 1 lost the race: now cancelled".
    pub fn summary(&self, verb: Verb) -> String {
        let past = match verb {
            Verb::Pause => "paused",
            Verb::Resume => "resumed",
            Verb::Cancel => "cancelled",
            Verb::Retry => "retried",
        };
        if verb == Verb::Retry && self.rows.len() == 1 {
            if let RowOutcome::Done { to, .. } = &self.rows[0].1 {
                return format!("retried as {}", short(to));
            }
        }
        self.summary_as(past, "execution")
    }

    /// The summary for any verb: `past` is what a done row became ("deactivated"), `what` names
    /// the rows ("agent").
    pub fn summary_as(&self, past: &str, what: &str) -> String {
        let done = self.rows.iter().filter(|(_, o)| matches!(o, RowOutcome::Done { .. })).count();
        let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
        let mut lost: BTreeMap<&str, usize> = BTreeMap::new();
        let mut missing = 0;
        let mut refused: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, o) in &self.rows {
            match o {
                RowOutcome::Refused { reason } => *refused.entry(reason).or_default() += 1,
                RowOutcome::Skipped { status, .. } => *skipped.entry(status).or_default() += 1,
                RowOutcome::Lost { now } => *lost.entry(now).or_default() += 1,
                RowOutcome::Missing => missing += 1,
                RowOutcome::Done { .. } => {}
            }
        }
        // One row: say exactly why.
        if self.rows.len() == 1 {
            return match &self.rows[0].1 {
                RowOutcome::Done { .. } => past.to_string(),
                RowOutcome::Skipped { reason, .. } => reason.clone(),
                RowOutcome::Lost { now } => format!("someone else changed it first (now {now})"),
                RowOutcome::Missing => format!("the {what} is gone or not visible to you"),
                RowOutcome::Refused { reason } => reason.clone(),
            };
        }
        let mut parts = vec![format!("{done} {past}")];
        let join = |m: &BTreeMap<&str, usize>| m.keys().copied().collect::<Vec<_>>().join(", ");
        if !skipped.is_empty() {
            parts.push(format!("{} skipped: {}", skipped.values().sum::<usize>(), join(&skipped)));
        }
        if !lost.is_empty() {
            parts.push(format!("{} changed by someone else first: now {}", lost.values().sum::<usize>(), join(&lost)));
        }
        if missing > 0 {
            parts.push(format!("{missing} gone"));
        }
        if !refused.is_empty() {
            parts.push(format!("{} refused: {}", refused.values().sum::<usize>(), join(&refused)));
        }
        parts.join(", ")
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// Apply `verb` to each execution in `ids`, each in its own transaction with its audit row.
pub async fn act(services: &Services, verb: Verb, ids: &[Uuid], reason: Option<&str>) -> Result<BulkOutcome> {
    let mut out = BulkOutcome::default();
    for id in ids {
        let outcome = act_one(services, verb, *id, reason).await?;
        out.rows.push((*id, outcome));
    }
    Ok(out)
}

/// The retry of an execution, if it has one.
async fn child_of(conn: &mut sqlx::PgConnection, id: Uuid) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id::text FROM (SELECT id, created_at FROM platform.workflow_executions WHERE parent_execution_id = $1 \
                               UNION ALL SELECT id, created_at FROM platform.workflow_executions_archive \
                               WHERE parent_execution_id = $1) c ORDER BY created_at LIMIT 1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

async fn act_one(services: &Services, verb: Verb, id: Uuid, reason: Option<&str>) -> Result<RowOutcome> {
    let entry = |from: &str, outcome, to: Option<String>, error: Option<String>| Entry {
        verb: verb.as_str(),
        target_table: "platform.workflow_executions",
        target_id: Some(id.to_string()),
        from_state: Some(from.to_string()),
        to_state: to,
        reason: reason.map(str::to_string),
        outcome,
        error,
    };
    let mut tx = services.pool.begin().await?;
    let row: Option<(String, i32, i32)> = sqlx::query_as(
        "SELECT status, coalesce(retry_count, 0), coalesce(max_retries, 3) \
         FROM platform.workflow_executions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((status_text, retry_count, max_retries)) = row else {
        // Moved to the archive: final, and no verb applies there.
        let archived: Option<(String, chrono::DateTime<chrono::Utc>)> =
            sqlx::query_as("SELECT status, archived_at FROM platform.workflow_executions_archive WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((status, at)) = archived else { return Ok(RowOutcome::Missing) };
        let why = format!("archived on {} (the archive is read-only)", at.format("%Y-%m-%d"));
        audit::record(&mut tx, &services.actor, &entry(&status, Outcome::Refused, None, Some(why.clone()))).await?;
        tx.commit().await?;
        return Ok(RowOutcome::Skipped { status, reason: why });
    };
    let status: ExecutionStatus =
        status_text.parse().map_err(|e| Error::Invalid { field: "status".into(), reason: format!("{e:?}") })?;
    if let Some(why) = verb.refusal(status, retry_count, max_retries) {
        audit::record(&mut tx, &services.actor, &entry(&status_text, Outcome::Refused, None, Some(why.clone())))
            .await?;
        tx.commit().await?;
        return Ok(RowOutcome::Skipped { status: status_text, reason: why });
    }
    // Guarded on the very state read (one the verb applies to, checked above), not on any it
    // applies to: a change in between (a pause committed before this cancel) is a lost race,
    // reported, and the audited `from` is always the state the write changed.
    let allowed: Vec<&str> = vec![status.as_str()];
    if verb == Verb::Retry {
        // One retry per execution: concurrent retries wait for each other on the row.
        sqlx::query("SELECT 1 FROM platform.workflow_executions WHERE id = $1 FOR UPDATE")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(child) = child_of(&mut tx, id).await? {
            let why = format!("already retried as {}", short(&child));
            audit::record(&mut tx, &services.actor, &entry(&status_text, Outcome::Refused, None, Some(why.clone())))
                .await?;
            tx.commit().await?;
            return Ok(RowOutcome::Skipped { status: status_text, reason: why });
        }
    }
    // The write runs in a savepoint: when the database refuses it (a viewer's change, see
    // migration 19), the refusal is still recorded in the audit log.
    let mut write = tx.begin().await?;
    let done: std::result::Result<Option<String>, sqlx::Error> = match verb {
        Verb::Retry => {
            sqlx::query_scalar(
                "INSERT INTO platform.workflow_executions \
                 (workflow_id, agent_id, status, correlation_id, parent_execution_id, retry_count, max_retries, \
                  execution_data) \
             SELECT workflow_id, agent_id, 'queued', gen_random_uuid(), id, coalesce(retry_count, 0) + 1, \
                    max_retries, execution_data \
             FROM platform.workflow_executions \
             WHERE id = $1 AND status = ANY($2) AND coalesce(retry_count, 0) < coalesce(max_retries, 3) \
             AND NOT EXISTS (SELECT 1 FROM platform.workflow_executions c WHERE c.parent_execution_id = $1) \
             AND NOT EXISTS (SELECT 1 FROM platform.workflow_executions_archive c WHERE c.parent_execution_id = $1) \
                 RETURNING id::text",
            )
            .bind(id)
            .bind(&allowed)
            .fetch_optional(&mut *write)
            .await
        }
        _ => {
            let set = match verb {
                Verb::Pause => "status = 'paused', paused_at = now()",
                Verb::Resume => "status = 'running', resumed_at = now(), paused_at = NULL",
                _ => "status = 'cancelled', completed_at = now()",
            };
            sqlx::query_scalar(&format!(
                "UPDATE platform.workflow_executions SET {set} WHERE id = $1 AND status = ANY($2) RETURNING status"
            ))
            .bind(id)
            .bind(&allowed)
            .fetch_optional(&mut *write)
            .await
        }
    };
    let done = match done {
        Ok(done) => {
            write.commit().await?;
            done
        }
        Err(e) => {
            let Some(why) = super::insufficient_privilege(&e) else { return Err(e.into()) };
            write.rollback().await?;
            let why = format!("not allowed: {why}");
            audit::record(&mut tx, &services.actor, &entry(&status_text, Outcome::Refused, None, Some(why.clone())))
                .await?;
            tx.commit().await?;
            return Ok(RowOutcome::Refused { reason: why });
        }
    };
    match done {
        Some(to) => {
            audit::record(&mut tx, &services.actor, &entry(&status_text, Outcome::Ok, Some(to.clone()), None)).await?;
            tx.commit().await?;
            Ok(RowOutcome::Done { from: status_text, to })
        }
        None => {
            let now: Option<String> =
                sqlx::query_scalar("SELECT status FROM platform.workflow_executions WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let now = now.unwrap_or_else(|| "deleted".into());
            audit::record(
                &mut tx,
                &services.actor,
                &entry(
                    &status_text,
                    Outcome::Conflict,
                    None,
                    Some(format!("changed first by someone else: now {now}")),
                ),
            )
            .await?;
            tx.commit().await?;
            Ok(RowOutcome::Lost { now })
        }
    }
}

/// Everything about one execution, for `exec show` and the detail view.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct Detail {
    pub id: Uuid,
    pub status: String,
    pub status_message: Option<String>,
    pub workflow_id: Uuid,
    pub workflow: String,
    pub agent_id: Uuid,
    pub agent: String,
    pub framework: String,
    pub organisation: Option<String>,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub paused_at: Option<chrono::DateTime<chrono::Utc>>,
    pub resumed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    pub retry_count: i32,
    pub max_retries: i32,
    pub correlation_id: Uuid,
    pub parent_execution_id: Option<Uuid>,
    pub error_message: Option<String>,
    pub error_code: Option<String>,
    pub execution_data: Option<serde_json::Value>,
    pub execution_logs: Option<serde_json::Value>,
    pub resource_usage: Option<serde_json::Value>,
    pub performance_metrics: Option<serde_json::Value>,
    /// When it moved to the archive (`fleetdeck archive`); None while it is in the table.
    pub archived_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The retries of this execution.
    #[sqlx(skip)]
    pub children: Vec<Child>,
    /// The parent's status, when there is a parent.
    #[sqlx(skip)]
    pub parent_status: Option<String>,
}

/// A retry of an execution.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Child {
    pub id: Uuid,
    pub status: String,
}

/// One execution, with its parent's status and its children (the retry chain).
pub async fn detail(services: &Services, id: Uuid) -> Result<Detail> {
    let mut d: Detail = sqlx::query_as(
        "SELECT e.id, e.status, e.status_message, e.workflow_id, w.name AS workflow, e.agent_id, a.name AS agent, \
                w.framework, o.name AS organisation, e.started_at, e.completed_at, e.paused_at, e.resumed_at, \
                e.created_at, e.updated_at, coalesce(e.retry_count, 0) AS retry_count, \
                coalesce(e.max_retries, 3) AS max_retries, e.correlation_id, e.parent_execution_id, \
                e.error_message, e.error_code, e.execution_data, e.execution_logs, e.resource_usage, \
                e.performance_metrics, e.archived_at \
         FROM (SELECT x.*, NULL::timestamptz AS archived_at FROM platform.workflow_executions x WHERE x.id = $1 \
               UNION ALL \
               SELECT x.* FROM platform.workflow_executions_archive x WHERE x.id = $1) e \
         JOIN platform.workflows w ON w.id = e.workflow_id \
         JOIN platform.agents a ON a.id = e.agent_id \
         LEFT JOIN platform.organizations o ON a.owner_type = 'organization' AND o.id = a.owner_id \
         LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&services.pool)
    .await?
    .ok_or_else(|| Error::NotFound { what: format!("execution {id}") })?;
    // The retry chain runs on into the archive (a parent is archived before its retries).
    d.children = sqlx::query_as(
        "SELECT id, status FROM (SELECT id, status, created_at FROM platform.workflow_executions \
                                  WHERE parent_execution_id = $1 \
                                  UNION ALL SELECT id, status, created_at FROM platform.workflow_executions_archive \
                                  WHERE parent_execution_id = $1) c \
         ORDER BY created_at, id",
    )
    .bind(id)
    .fetch_all(&services.pool)
    .await?;
    if let Some(parent) = d.parent_execution_id {
        d.parent_status = sqlx::query_scalar(
            "SELECT status FROM platform.workflow_executions WHERE id = $1 \
             UNION ALL SELECT status FROM platform.workflow_executions_archive WHERE id = $1 LIMIT 1",
        )
        .bind(parent)
        .fetch_optional(&services.pool)
        .await?;
    }
    Ok(d)
}

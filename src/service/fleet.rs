//! Acting on the fleet: activate or deactivate cluster agents, take hosts in and out of
//! maintenance. Each row is one guarded statement in one transaction with its audit row.

use sqlx::Connection;
use uuid::Uuid;

use super::audit::{self, Entry, Outcome};
use super::executions::{BulkOutcome, RowOutcome};
use super::{Result, Services};

/// A cluster agent's status (broker.agents.status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentStatus {
    Active,
    Inactive,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Active => "ACTIVE",
            AgentStatus::Inactive => "INACTIVE",
        }
    }

    /// The verb as the audit log and messages name it.
    pub fn verb(self) -> &'static str {
        match self {
            AgentStatus::Active => "activate",
            AgentStatus::Inactive => "deactivate",
        }
    }
}

/// A host's status as a person sets it: Active, or Inactive for maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostStatus {
    Active,
    Inactive,
}

impl HostStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HostStatus::Active => "Active",
            HostStatus::Inactive => "Inactive",
        }
    }
}

/// Set the status of each agent in `ids`.
pub async fn set_agent_status(services: &Services, ids: &[Uuid], to: AgentStatus) -> Result<BulkOutcome> {
    let mut out = BulkOutcome::default();
    for id in ids {
        let row = set_status(services, "broker.agents", "deleted_at IS NULL", *id, to.as_str(), to.verb()).await?;
        out.rows.push((*id, row));
    }
    Ok(out)
}

/// Set the status of each host in `ids` (Inactive: maintenance).
pub async fn set_host_status(services: &Services, ids: &[Uuid], to: HostStatus) -> Result<BulkOutcome> {
    let verb = match to {
        HostStatus::Active => "activate",
        HostStatus::Inactive => "maintenance",
    };
    let mut out = BulkOutcome::default();
    for id in ids {
        out.rows.push((*id, set_status(services, "edge.host", "true", *id, to.as_str(), verb).await?));
    }
    Ok(out)
}

/// Read the status, refuse a no-op, then move it with a statement guarded on the status read:
/// zero rows means someone else changed it first.
async fn set_status(
    services: &Services,
    table: &'static str,
    live: &'static str,
    id: Uuid,
    to: &str,
    verb: &str,
) -> Result<RowOutcome> {
    let mut conn = services.pool.acquire().await?;
    let mut tx = conn.begin().await?;
    let from: Option<Option<String>> =
        sqlx::query_scalar(&format!("SELECT status FROM {table} WHERE id = $1 AND {live}"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(from) = from else { return Ok(RowOutcome::Missing) };
    let from_text = from.clone().unwrap_or_default();
    let entry = |outcome, to_state: Option<String>, error: Option<String>| Entry {
        verb,
        target_table: table,
        target_id: Some(id.to_string()),
        from_state: from.clone(),
        to_state,
        reason: None,
        outcome,
        error,
    };
    if from.as_deref() == Some(to) {
        let why = format!("already {to}");
        audit::record(&mut tx, &services.actor, &entry(Outcome::Refused, None, Some(why.clone()))).await?;
        tx.commit().await?;
        return Ok(RowOutcome::Skipped { status: from_text, reason: why });
    }
    let moved: Option<String> = sqlx::query_scalar(&format!(
        "UPDATE {table} SET status = $2 WHERE id = $1 AND {live} AND status IS NOT DISTINCT FROM $3 RETURNING status"
    ))
    .bind(id)
    .bind(to)
    .bind(&from)
    .fetch_optional(&mut *tx)
    .await?;
    match moved {
        Some(now) => {
            audit::record(&mut tx, &services.actor, &entry(Outcome::Ok, Some(now.clone()), None)).await?;
            tx.commit().await?;
            Ok(RowOutcome::Done { from: from_text, to: now })
        }
        None => {
            let now: Option<Option<String>> =
                sqlx::query_scalar(&format!("SELECT status FROM {table} WHERE id = $1 AND {live}"))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let now = now.map(|s| s.unwrap_or_default()).unwrap_or_else(|| "deleted".into());
            audit::record(
                &mut tx,
                &services.actor,
                &entry(Outcome::Conflict, None, Some(format!("changed first by someone else: now {now}"))),
            )
            .await?;
            tx.commit().await?;
            Ok(RowOutcome::Lost { now })
        }
    }
}

//! The audit log: every state change fleetdeck makes, and every refused or lost attempt.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::db::handle::Db;

use super::{Actor, Result};

/// The outcome of an attempted action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It happened.
    Ok,
    /// Someone else changed the row first.
    Conflict,
    /// A rule or permission refused it.
    Refused,
    /// It failed for another reason.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Conflict => "conflict",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }
}

/// One attempted action.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub verb: &'a str,
    pub target_table: &'a str,
    pub target_id: Option<String>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub reason: Option<String>,
    pub outcome: Outcome,
    pub error: Option<String>,
}

/// A row of the audit log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Record {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub verb: String,
    pub target_table: String,
    pub target_id: Option<String>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub reason: Option<String>,
    pub outcome: String,
    pub error: Option<String>,
}

/// Record an entry on `conn`: inside the action's own transaction for a change that happened,
/// so that the change and its record commit together or not at all.
pub async fn record(conn: &mut PgConnection, actor: &Actor, entry: &Entry<'_>) -> Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO fleetdeck.audit_log \
             (actor, verb, target_table, target_id, from_state, to_state, reason, outcome, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&actor.label)
    .bind(entry.verb)
    .bind(entry.target_table)
    .bind(&entry.target_id)
    .bind(&entry.from_state)
    .bind(&entry.to_state)
    .bind(&entry.reason)
    .bind(entry.outcome.as_str())
    .bind(&entry.error)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// The newest entries about one target, newest first.
pub async fn for_target(pool: &Db, target_table: &str, target_id: &str, limit: i64) -> Result<Vec<Record>> {
    Ok(sqlx::query_as(
        "SELECT id, at, actor, verb, target_table, target_id, from_state, to_state, reason, outcome, error \
         FROM fleetdeck.audit_log WHERE target_table = $1 AND target_id = $2 \
         ORDER BY at DESC, id DESC LIMIT $3",
    )
    .bind(target_table)
    .bind(target_id)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

//! The fleet: health counts for the summary header, and acting on it — activate or deactivate
//! cluster agents, take hosts in and out of maintenance, edit an agent's labels and annotations,
//! soft-delete agents and hosts. Each row is one guarded statement in one transaction with its
//! audit row.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::audit::{self, Entry, Outcome};
use super::executions::{BulkOutcome, RowOutcome};
use super::{Error, Result, Services};
use crate::domain::health::{Health, Thresholds};

/// How many are healthy, stale and offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HealthCounts {
    pub healthy: i64,
    pub stale: i64,
    pub offline: i64,
    /// Hosts an operator took into maintenance (always 0 for agents).
    pub maintenance: i64,
}

impl HealthCounts {
    pub fn total(&self) -> i64 {
        self.healthy + self.stale + self.offline + self.maintenance
    }

    pub fn get(&self, h: Health) -> i64 {
        match h {
            Health::Healthy => self.healthy,
            Health::Stale => self.stale,
            Health::Offline => self.offline,
            Health::Maintenance => self.maintenance,
        }
    }
}

/// The whole fleet's health, at the database's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub hosts: HealthCounts,
    pub agents: HealthCounts,
    pub at: DateTime<Utc>,
}

impl Summary {
    /// The healthy share of hosts and agents together, in per cent (100 for an empty fleet);
    /// hosts in maintenance are out of service by choice and count on neither side.
    pub fn healthy_percent(&self) -> u64 {
        let total = self.hosts.total() - self.hosts.maintenance + self.agents.total();
        if total == 0 {
            return 100;
        }
        ((self.hosts.healthy + self.agents.healthy) * 100 / total) as u64
    }
}

/// Count live hosts and agents by health at `at` (the database's clock when None). Healthy and
/// stale are ranges of the heartbeat over the active rows (partial indexes), offline is the rest:
/// it reads indexes, not the tables.
pub async fn summary(services: &Services, t: &Thresholds, at: Option<DateTime<Utc>>) -> Result<Summary> {
    let stale = t.stale_after().as_secs_f64();
    let offline = t.offline_after.as_secs_f64();
    let (hosts, hosts_healthy, hosts_stale, agents, agents_healthy, agents_stale, at, maintenance): (
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        DateTime<Utc>,
        i64,
    ) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM edge.host WHERE deleted_at IS NULL), \
                (SELECT count(*) FROM edge.host WHERE status = 'Active' AND deleted_at IS NULL \
                    AND last_heartbeat > coalesce($3, now()) - make_interval(secs => $1)), \
                (SELECT count(*) FROM edge.host WHERE status = 'Active' AND deleted_at IS NULL \
                    AND last_heartbeat <= coalesce($3, now()) - make_interval(secs => $1) \
                    AND last_heartbeat > coalesce($3, now()) - make_interval(secs => $2)), \
                (SELECT count(*) FROM broker.agents WHERE deleted_at IS NULL), \
                (SELECT count(*) FROM broker.agents WHERE status = 'ACTIVE' AND deleted_at IS NULL \
                    AND last_heartbeat > coalesce($3, now()) - make_interval(secs => $1)), \
                (SELECT count(*) FROM broker.agents WHERE status = 'ACTIVE' AND deleted_at IS NULL \
                    AND last_heartbeat <= coalesce($3, now()) - make_interval(secs => $1) \
                    AND last_heartbeat > coalesce($3, now()) - make_interval(secs => $2)), \
                coalesce($3, now()), \
                (SELECT count(*) FROM fleetdeck.host_maintenance m JOIN edge.host h ON h.id = m.host_id \
                    WHERE h.deleted_at IS NULL AND h.status IS DISTINCT FROM 'Active')",
    )
    .bind(stale)
    .bind(offline)
    .bind(at)
    .fetch_one(&services.pool)
    .await?;
    let counts = |total: i64, healthy: i64, stale: i64, maintenance: i64| HealthCounts {
        healthy,
        stale,
        offline: (total - healthy - stale - maintenance).max(0),
        maintenance,
    };
    Ok(Summary {
        hosts: counts(hosts, hosts_healthy, hosts_stale, maintenance),
        agents: counts(agents, agents_healthy, agents_stale, 0),
        at,
    })
}

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
        let row =
            set_status(services, "broker.agents", "deleted_at IS NULL", *id, to.as_str(), to.verb(), None).await?;
        out.rows.push((*id, row));
    }
    Ok(out)
}

/// Set the status of each host in `ids`. Inactive is maintenance: who, when and `reason` are
/// recorded in the same transaction; activating ends the maintenance.
pub async fn set_host_status(
    services: &Services,
    ids: &[Uuid],
    to: HostStatus,
    reason: Option<&str>,
) -> Result<BulkOutcome> {
    let verb = match to {
        HostStatus::Active => "activate",
        HostStatus::Inactive => "maintenance",
    };
    let maintenance = Maintenance { on: to == HostStatus::Inactive, reason: reason.filter(|r| !r.trim().is_empty()) };
    let mut out = BulkOutcome::default();
    for id in ids {
        let row =
            set_status(services, "edge.host", "deleted_at IS NULL", *id, to.as_str(), verb, Some(maintenance)).await?;
        out.rows.push((*id, row));
    }
    Ok(out)
}

/// A host going into maintenance (with why) or out of it.
#[derive(Debug, Clone, Copy)]
struct Maintenance<'a> {
    on: bool,
    reason: Option<&'a str>,
}

/// What can be soft-deleted from the Fleet and Rollouts panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletable {
    Agent,
    Host,
    /// A stack: the database's rule soft-deletes its objects and adds a deletion marker.
    Stack,
}

impl Deletable {
    fn table(self) -> &'static str {
        match self {
            Deletable::Agent => "broker.agents",
            Deletable::Host => "edge.host",
            Deletable::Stack => "broker.stacks",
        }
    }

    /// The state the audit log records before the deletion (a stack has no status).
    fn state(self) -> &'static str {
        match self {
            Deletable::Agent | Deletable::Host => "status::text",
            Deletable::Stack => "'live'::text",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Deletable::Agent => "agent",
            Deletable::Host => "host",
            Deletable::Stack => "stack",
        }
    }
}

/// Soft-delete each of `ids` (deleted_at = now; an agent's events and a stack's objects follow by
/// the database's rules, and a deleted stack gets a deletion marker as its desired object),
/// with the reason in the audit log. One that is already deleted lost the race (or is missing).
pub async fn soft_delete(
    services: &Services,
    what: Deletable,
    ids: &[Uuid],
    reason: Option<&str>,
) -> Result<BulkOutcome> {
    let table = what.table();
    let mut out = BulkOutcome::default();
    for id in ids {
        let mut tx = services.pool.begin().await?;
        let state: Option<(Option<String>, Option<DateTime<Utc>>)> =
            sqlx::query_as(&format!("SELECT {}, deleted_at FROM {table} WHERE id = $1", what.state()))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((status, deleted)) = state else {
            out.rows.push((*id, RowOutcome::Missing));
            continue;
        };
        let entry = |outcome, to_state: Option<String>, error: Option<String>| Entry {
            verb: "delete",
            target_table: table,
            target_id: Some(id.to_string()),
            from_state: status.clone(),
            to_state,
            reason: reason.map(str::to_string),
            outcome,
            error,
        };
        if deleted.is_some() {
            let why = "already deleted".to_string();
            audit::record(&mut tx, &services.actor, &entry(Outcome::Refused, None, Some(why.clone()))).await?;
            tx.commit().await?;
            out.rows.push((*id, RowOutcome::Skipped { status: "deleted".into(), reason: why }));
            continue;
        }
        let done: Option<DateTime<Utc>> = sqlx::query_scalar(&format!(
            "UPDATE {table} SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING deleted_at"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        match done {
            Some(_) => {
                audit::record(&mut tx, &services.actor, &entry(Outcome::Ok, Some("deleted".into()), None)).await?;
                tx.commit().await?;
                out.rows.push((
                    *id,
                    RowOutcome::Done { from: status.clone().unwrap_or_default().to_lowercase(), to: "deleted".into() },
                ));
            }
            None => {
                audit::record(
                    &mut tx,
                    &services.actor,
                    &entry(Outcome::Conflict, None, Some("deleted first by someone else".into())),
                )
                .await?;
                tx.commit().await?;
                out.rows.push((*id, RowOutcome::Lost { now: "deleted".into() }));
            }
        }
    }
    Ok(out)
}

/// An agent's labels and annotations, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags {
    pub labels: Vec<String>,
    pub annotations: Vec<(String, String)>,
}

impl Tags {
    /// As the audit log records them: `label, label; key=value, key=value`.
    pub fn describe(&self) -> String {
        let annotations: Vec<String> = self.annotations.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("labels: {}; annotations: {}", self.labels.join(", "), annotations.join(", "))
    }

    fn sorted(mut self) -> Tags {
        self.labels.sort();
        self.annotations.sort();
        self
    }
}

async fn read_tags(conn: &mut sqlx::PgConnection, agent: Uuid) -> Result<Tags> {
    let labels: Vec<String> =
        sqlx::query_scalar("SELECT label FROM broker.agent_labels WHERE agent_id = $1 ORDER BY label")
            .bind(agent)
            .fetch_all(&mut *conn)
            .await?;
    let annotations: Vec<(String, String)> =
        sqlx::query_as("SELECT key, value FROM broker.agent_annotations WHERE agent_id = $1 ORDER BY key, value")
            .bind(agent)
            .fetch_all(&mut *conn)
            .await?;
    Ok(Tags { labels, annotations })
}

/// A live agent's name, cluster and tags (what the edit form starts from).
pub async fn agent_tags(services: &Services, agent: Uuid) -> Result<(String, Tags)> {
    let mut conn = services.pool.begin().await?;
    let name: Option<String> = sqlx::query_scalar(
        "SELECT name || ' (' || cluster_name || ')' FROM broker.agents WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(agent)
    .fetch_optional(&mut *conn)
    .await?;
    let name = name.ok_or_else(|| Error::NotFound { what: format!("agent {agent}") })?;
    Ok((name, read_tags(&mut conn, agent).await?))
}

/// Replace an agent's labels and annotations with `new`, in one transaction with its audit row,
/// if they are still `expected` (what the form was opened on): someone else's edit in between is
/// reported, not overwritten. The values are checked by the domain rules first.
pub async fn set_agent_tags(services: &Services, agent: Uuid, expected: &Tags, new: &Tags) -> Result<RowOutcome> {
    use crate::domain::broker::{check_annotation_part, check_label};
    for l in &new.labels {
        check_label(l).map_err(|reason| Error::Invalid { field: "labels".into(), reason })?;
    }
    for (k, v) in &new.annotations {
        check_annotation_part("key", k)
            .and_then(|_| check_annotation_part("value", v))
            .map_err(|reason| Error::Invalid { field: "annotations".into(), reason })?;
    }
    let mut tx = services.pool.begin().await?;
    // Lock the agent: two edits of one agent queue here instead of interleaving.
    let live: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM broker.agents WHERE id = $1 AND deleted_at IS NULL FOR UPDATE")
            .bind(agent)
            .fetch_optional(&mut *tx)
            .await?;
    if live.is_none() {
        return Ok(RowOutcome::Missing);
    }
    let now = read_tags(&mut tx, agent).await?;
    let expected = expected.clone().sorted();
    let new = new.clone().sorted();
    let entry = |outcome, to_state: Option<String>, error: Option<String>| Entry {
        verb: "edit labels",
        target_table: "broker.agents",
        target_id: Some(agent.to_string()),
        from_state: Some(now.describe()),
        to_state,
        reason: None,
        outcome,
        error,
    };
    if now != expected {
        audit::record(
            &mut tx,
            &services.actor,
            &entry(Outcome::Conflict, None, Some("changed by someone else since the form opened".into())),
        )
        .await?;
        tx.commit().await?;
        return Ok(RowOutcome::Lost { now: now.describe() });
    }
    if now == new {
        return Ok(RowOutcome::Skipped { status: now.describe(), reason: "nothing changed".into() });
    }
    sqlx::query("DELETE FROM broker.agent_labels WHERE agent_id = $1").bind(agent).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM broker.agent_annotations WHERE agent_id = $1").bind(agent).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO broker.agent_labels (agent_id, label) SELECT $1, unnest($2::text[])")
        .bind(agent)
        .bind(&new.labels)
        .execute(&mut *tx)
        .await?;
    let (keys, values): (Vec<String>, Vec<String>) = new.annotations.iter().cloned().unzip();
    sqlx::query(
        "INSERT INTO broker.agent_annotations (agent_id, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS x(k, v)",
    )
    .bind(agent)
    .bind(&keys)
    .bind(&values)
    .execute(&mut *tx)
    .await?;
    // The agent's row changes too, so that open dashboards see it (updated_at, NOTIFY).
    sqlx::query("UPDATE broker.agents SET updated_at = now() WHERE id = $1").bind(agent).execute(&mut *tx).await?;
    audit::record(&mut tx, &services.actor, &entry(Outcome::Ok, Some(new.describe()), None)).await?;
    tx.commit().await?;
    Ok(RowOutcome::Done { from: now.describe(), to: new.describe() })
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
    maintenance: Option<Maintenance<'_>>,
) -> Result<RowOutcome> {
    let mut tx = services.pool.begin().await?;
    let from: Option<Option<String>> =
        sqlx::query_scalar(&format!("SELECT status FROM {table} WHERE id = $1 AND {live}"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(from) = from else { return Ok(RowOutcome::Missing) };
    // Said in the one case every view uses (hosts store `Active`, agents `ACTIVE`); the audit log
    // keeps the stored values.
    let from_text = from.clone().unwrap_or_default().to_lowercase();
    let entry = |outcome, to_state: Option<String>, error: Option<String>| Entry {
        verb,
        target_table: table,
        target_id: Some(id.to_string()),
        from_state: from.clone(),
        to_state,
        reason: maintenance.and_then(|m| m.reason).map(str::to_string),
        outcome,
        error,
    };
    if from.as_deref() == Some(to) {
        let why = format!("already {}", to.to_lowercase());
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
            match maintenance {
                Some(Maintenance { on: true, reason }) => {
                    sqlx::query(
                        "INSERT INTO fleetdeck.host_maintenance (host_id, set_by, reason) VALUES ($1, $2, $3) \
                         ON CONFLICT (host_id) DO UPDATE SET since = now(), set_by = EXCLUDED.set_by, \
                         reason = EXCLUDED.reason",
                    )
                    .bind(id)
                    .bind(&services.actor.label)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?;
                }
                Some(Maintenance { on: false, .. }) => {
                    sqlx::query("DELETE FROM fleetdeck.host_maintenance WHERE host_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                None => {}
            }
            audit::record(&mut tx, &services.actor, &entry(Outcome::Ok, Some(now.clone()), None)).await?;
            tx.commit().await?;
            Ok(RowOutcome::Done { from: from_text, to: now.to_lowercase() })
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
            Ok(RowOutcome::Lost { now: now.to_lowercase() })
        }
    }
}

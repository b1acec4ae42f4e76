//! Facts about the server and the schema, for `fleetdeck doctor`.

use crate::db::handle::Db;

use super::Result;

/// The schemas fleetdeck's data model lives in, with the seed each comes from.
pub const SCHEMAS: &[(&str, &str)] = &[
    ("catalog", "seed 000: edge application catalog"),
    ("edge", "seed 000: orchestrators, sites, hosts"),
    ("platform", "seed 001: users, agents, workflows, executions"),
    ("broker", "seed 002: stacks, cluster agents, deployment objects"),
    ("cloud", "seed 003: compute prices, package marketplace"),
    ("public", "seed 003: users, conversations, messages"),
    ("ergon", "seed 004: reusable solutions"),
    ("auth", "auth.uid() for seed 001's row-level security"),
    ("fleetdeck", "fleetdeck's own: audit log"),
];

/// One table per schema that proves the schema holds fleetdeck's model, not just the name.
const MARKERS: &[(&str, &str)] = &[
    ("catalog", "catalog.application_desc"),
    ("edge", "edge.host"),
    ("platform", "platform.workflow_executions"),
    ("broker", "broker.deployment_objects"),
    ("cloud", "cloud.bitnami_packages"),
    ("public", "public.conversations"),
    ("ergon", "ergon.solutions"),
    ("auth", "auth.uid()"),
    ("fleetdeck", "fleetdeck.audit_log"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub version: String,
    pub database: String,
    pub role: String,
    pub superuser: bool,
    /// A hot standby (in recovery), not a primary.
    pub standby: bool,
}

/// What the primary sees of its standbys (`pg_stat_replication`): each one's name and state and
/// how far its replay lags, in seconds (None: not reported, e.g. an idle primary or a role
/// without pg_read_all_stats).
pub async fn replication(pool: &Db) -> Result<Vec<(String, String, Option<f64>)>> {
    Ok(sqlx::query_as(
        "SELECT coalesce(application_name, ''), coalesce(state, 'unknown'), \
                extract(epoch FROM replay_lag)::float8 \
         FROM pg_stat_replication ORDER BY application_name",
    )
    .fetch_all(pool)
    .await?)
}

pub async fn server_info(pool: &Db) -> Result<ServerInfo> {
    let (version, database, role, superuser, standby): (String, String, String, String, bool) = sqlx::query_as(
        "SELECT current_setting('server_version'), current_database(), current_user::text, \
                current_setting('is_superuser'), pg_is_in_recovery()",
    )
    .fetch_one(pool)
    .await?;
    Ok(ServerInfo { version, database, role, superuser: superuser == "on", standby })
}

/// For each schema of the model: present (with its marker table or function) or missing.
pub async fn schema_presence(pool: &Db) -> Result<Vec<(&'static str, &'static str, bool)>> {
    let mut out = Vec::with_capacity(SCHEMAS.len());
    for ((schema, what), (_, marker)) in SCHEMAS.iter().zip(MARKERS) {
        let present: bool = if let Some(func) = marker.strip_suffix("()") {
            sqlx::query_scalar("SELECT to_regprocedure($1) IS NOT NULL")
                .bind(format!("{func}()"))
                .fetch_one(pool)
                .await?
        } else {
            sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(*marker).fetch_one(pool).await?
        };
        out.push((*schema, *what, present));
    }
    Ok(out)
}

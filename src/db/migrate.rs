//! The schema: sqlx migrations embedded in the binary.

use std::collections::HashMap;

use crate::db::handle::Db;
use sqlx::migrate::Migrator;

/// Every migration in `migrations/`, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How the database's schema compares with the migrations this binary carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Versions applied and matching this binary.
    pub applied: Vec<i64>,
    /// Migrations this binary has that the database lacks: (version, description).
    pub pending: Vec<(i64, String)>,
    /// Applied, but the file's checksum differs from what was applied.
    pub modified: Vec<i64>,
    /// Applied versions this binary does not know (a newer fleetdeck migrated this database).
    pub unknown: Vec<i64>,
    /// Versions whose last attempt failed.
    pub failed: Vec<i64>,
}

impl SchemaStatus {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.modified.is_empty() && self.failed.is_empty()
    }

    /// The newest applied version.
    pub fn version(&self) -> Option<i64> {
        self.applied.iter().chain(self.unknown.iter()).max().copied()
    }
}

/// The newest version this binary carries.
pub fn latest_version() -> Option<i64> {
    MIGRATOR.iter().map(|m| m.version).max()
}

/// Compare the database with the embedded migrations, changing nothing.
pub async fn status(pool: &Db) -> Result<SchemaStatus, sqlx::Error> {
    let exists: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('public._sqlx_migrations')::text").fetch_one(pool).await?;
    let rows: Vec<(i64, Vec<u8>, bool)> = if exists.is_some() {
        sqlx::query_as("SELECT version, checksum, success FROM public._sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    let in_db: HashMap<i64, (Vec<u8>, bool)> = rows.into_iter().map(|(v, c, s)| (v, (c, s))).collect();
    let mut st = SchemaStatus::default();
    for m in MIGRATOR.iter() {
        match in_db.get(&m.version) {
            None => st.pending.push((m.version, m.description.to_string())),
            Some((_, false)) => st.failed.push(m.version),
            Some((checksum, true)) if checksum.as_slice() != &*m.checksum => st.modified.push(m.version),
            Some(_) => st.applied.push(m.version),
        }
    }
    let known: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    st.unknown = in_db.keys().filter(|v| !known.contains(v)).copied().collect();
    st.unknown.sort_unstable();
    Ok(st)
}

/// Apply what is pending; returns what was applied. Running it again applies nothing.
pub async fn apply(pool: &Db) -> Result<Vec<(i64, String)>, sqlx::migrate::MigrateError> {
    let before = status(pool).await?;
    if before.pending.is_empty() {
        return Ok(before.pending);
    }
    // A bulk command: migrations on a large database outlast the interactive statement timeout.
    // One connection of its own with the timeout off (a later `-c` option wins).
    let options = (*pool.pg().connect_options()).clone().options([("statement_timeout", "0")]);
    let bulk = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(sqlx::migrate::MigrateError::Execute)?;
    let ran = MIGRATOR.run(&bulk).await;
    bulk.close().await;
    ran?;
    Ok(before.pending)
}

//! `fleetdeck seed --demo`: a believable, consistent platform in every schema, deterministic for a
//! given seed, written with COPY in one transaction.

mod fleet;
mod gen;
mod market;
mod platform;

use std::time::{Duration, Instant};

use crate::db::handle::Db;
use chrono::{DateTime, Utc};

use crate::service::{Error, Result};
pub use platform::KNOWN_USERS;

/// How big the demo is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// A few hundred of each: seconds.
    Small,
    /// The large demo with a tenth of its executions (100,000): the low end of the benchmarks'
    /// cost curve.
    Medium,
    /// Seed 003's row counts and a large fleet: 100,000 hosts, 20,000 cluster agents, 1,000,000 executions.
    Large,
    /// The large demo with ten times its hosts (1,000,000 on 20,000 sites) and executions
    /// (10,000,000): the high end of the benchmarks' cost curve.
    Huge,
}

/// Row counts per scale.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub orchestrators: usize,
    pub sites: usize,
    pub hosts: usize,
    pub generators: usize,
    pub clusters: usize,
    pub cluster_agents: usize,
    pub stacks: usize,
    pub users: usize,
    pub orgs: usize,
    pub ai_agents: usize,
    pub workflows: usize,
    pub executions: usize,
    pub packages: usize,
    pub instances: usize,
    pub apps: usize,
    pub solutions: usize,
}

impl Sizes {
    pub fn of(scale: Scale) -> Sizes {
        match scale {
            Scale::Small => Sizes {
                orchestrators: 3,
                sites: 12,
                hosts: 300,
                generators: 4,
                clusters: 12,
                cluster_agents: 200,
                stacks: 40,
                users: 60,
                orgs: 8,
                ai_agents: 150,
                workflows: 300,
                executions: 600,
                packages: 300,
                instances: 1_000,
                apps: 30,
                solutions: 120,
            },
            Scale::Large => Sizes {
                orchestrators: 20,
                sites: 2_000,
                hosts: 100_000,
                generators: 20,
                clusters: 400,
                cluster_agents: 20_000,
                stacks: 2_000,
                users: 5_000,
                orgs: 500,
                ai_agents: 10_000,
                workflows: 30_000,
                executions: 1_000_000,
                packages: 13_435,
                instances: 16_695,
                apps: 500,
                solutions: 2_000,
            },
            Scale::Medium => Sizes { executions: 100_000, ..Sizes::of(Scale::Large) },
            Scale::Huge => Sizes { sites: 20_000, hosts: 1_000_000, executions: 10_000_000, ..Sizes::of(Scale::Large) },
        }
    }
}

/// Rows written per table, in order.
#[derive(Debug, Clone, Default)]
pub struct Tally(pub Vec<(String, u64)>);

impl Tally {
    pub fn add(&mut self, table: &str, rows: u64) {
        self.0.push((table.to_string(), rows));
    }
}

/// What seeding did.
#[derive(Debug, Clone)]
pub struct Report {
    pub tally: Tally,
    pub elapsed: Duration,
}

/// Is the database free of platform data (so the demo may fill it)?
pub async fn is_empty(pool: &Db) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT NOT (EXISTS (SELECT 1 FROM edge.host) OR EXISTS (SELECT 1 FROM broker.stacks) \
             OR EXISTS (SELECT 1 FROM platform.users) OR EXISTS (SELECT 1 FROM cloud.bitnami_packages) \
             OR EXISTS (SELECT 1 FROM catalog.application_desc) OR EXISTS (SELECT 1 FROM ergon.solutions))",
    )
    .fetch_one(pool)
    .await?)
}

/// Was this database filled by the demo generator? The simulator only runs on such databases.
pub async fn is_demo(pool: &Db) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM fleetdeck.demo_seed)").fetch_one(pool).await?)
}

/// Refuse to simulate on a database the demo generator did not fill.
pub async fn require_demo(pool: &Db) -> Result<()> {
    if is_demo(pool).await? {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "this database was not filled by `fleetdeck seed --demo`; the simulator writes heartbeats, \
             execution transitions and deployments, so it runs only on demo databases"
                .into(),
        ))
    }
}

/// Fill an empty database. One transaction: on any error nothing is left behind.
/// `progress` is told the name of each step as it starts.
pub async fn seed(
    pool: &Db,
    scale: Scale,
    seed: u64,
    now: DateTime<Utc>,
    mut progress: impl FnMut(&str),
) -> Result<Report> {
    if !is_empty(pool).await? {
        return Err(Error::Conflict {
            current_state: "not empty".into(),
            message: "the database already holds platform data; seed --demo only fills an empty database".into(),
        });
    }
    let started = Instant::now();
    let sizes = Sizes::of(scale);
    let mut g = gen::Gen::new(seed, now);
    let mut tally = Tally::default();
    let mut tx = pool.begin().await?;
    // Bulk load: no statement timeout for this transaction's long COPYs.
    sqlx::query("SET LOCAL statement_timeout = 0").execute(&mut *tx).await?;
    progress("edge fleet");
    fleet::edge(&mut g, &mut tx, &sizes, &mut tally).await?;
    progress("broker");
    fleet::broker(&mut g, &mut tx, &sizes, &mut tally).await?;
    progress("platform");
    platform::platform(&mut g, &mut tx, &sizes, &mut tally).await?;
    progress("packages");
    market::packages(&mut g, &mut tx, &sizes, &mut tally).await?;
    progress("compute");
    market::compute(&mut g, &mut tx, &sizes, &mut tally).await?;
    progress("edge apps");
    market::catalog(&mut g, &mut tx, &sizes, &mut tally).await?;
    progress("solutions");
    market::ergon(&mut g, &mut tx, &sizes, &mut tally).await?;
    sqlx::query("INSERT INTO fleetdeck.demo_seed (scale, seed) VALUES ($1, $2)")
        .bind(format!("{scale:?}").to_lowercase())
        .bind(i64::try_from(seed).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
    progress("committing");
    tx.commit().await?;
    // Statistics for the planner, and the visibility map set so that counts over large lists
    // (hosts by health, executions by status) are index-only from the first frame.
    progress("vacuuming");
    // VACUUM cannot run in a transaction, so SET LOCAL cannot lift the timeout: one connection,
    // its timeout off for this and back afterwards (it outlasted 5 s on the large demo). By the
    // simple protocol, which prepares nothing. Through a transaction pooler there is no session
    // to set: VACUUM runs alone, under the server's own timeout.
    let mut conn = pool.pg().acquire().await?;
    let pooled = pool.is_pooled();
    if !pooled {
        sqlx::Executor::execute(&mut *conn, "SET statement_timeout = 0").await?;
    }
    let vacuumed = sqlx::Executor::execute(&mut *conn, "VACUUM (ANALYZE)").await;
    if !pooled {
        sqlx::Executor::execute(&mut *conn, "RESET statement_timeout").await?;
    }
    vacuumed?;
    Ok(Report { tally, elapsed: started.elapsed() })
}

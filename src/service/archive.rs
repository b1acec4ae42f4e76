//! Seed 001's Data Archival Strategy (`fleetdeck archive`, and the demo's schedule): final
//! executions that ended more than `move_after` ago move to the archive; archived ones that
//! ended more than `delete_after` ago are deleted (a parent after its last retry); audit rows
//! older than `audit_after` are deleted. Each batch is one transaction of its own that skips the
//! rows others hold, so it never waits long for a lock nor holds one long; monthly partitions are
//! made ahead and the old empty ones dropped. Each run is one row in the audit log.

use std::time::{Duration, Instant};

use serde::Serialize;

pub use crate::domain::archive::Policy;

use super::audit::{self, Entry, Outcome};
use super::{Error, Result, Services};

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Executions moved to the archive.
    pub moved: i64,
    /// Archived executions deleted.
    pub deleted: i64,
    /// Audit rows deleted.
    pub audit_deleted: i64,
    /// Monthly partitions made ahead.
    pub partitions_made: i64,
    /// Empty old partitions dropped.
    pub partitions_dropped: Vec<String>,
    /// Transactions the run took.
    pub batches: i64,
    pub seconds: f64,
    /// The audit log's row for the run.
    pub audit_id: i64,
}

impl Report {
    pub fn summary(&self) -> String {
        format!(
            "moved {} execution{} to the archive, deleted {} archived, deleted {} audit row{}",
            self.moved,
            if self.moved == 1 { "" } else { "s" },
            self.deleted,
            self.audit_deleted,
            if self.audit_deleted == 1 { "" } else { "s" },
        )
    }
}

/// How long one batch may wait for a lock before it gives up (the run stops, and says so).
const LOCK_TIMEOUT: &str = "2s";

/// One batch: `sql` (its arguments: the age in seconds, the statuses when given, the batch
/// size) in a transaction of its own, waiting at most `LOCK_TIMEOUT` for locks. How many rows.
async fn one_batch(
    services: &Services,
    sql: &str,
    seconds: f64,
    statuses: Option<&[String]>,
    size: i32,
) -> Result<i64> {
    let mut tx = services.pool.begin().await?;
    sqlx::query(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")).execute(&mut *tx).await?;
    let mut q = sqlx::query_scalar::<_, i32>(sql).bind(seconds);
    if let Some(statuses) = statuses {
        q = q.bind(statuses);
    }
    let n = q.bind(size).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(i64::from(n))
}

/// Run the policy once, to the end: `progress` hears after each batch.
pub async fn run(
    services: &Services,
    policy: &Policy,
    reason: Option<&str>,
    mut progress: impl FnMut(&Report),
) -> Result<Report> {
    if services.actor.user_id.is_some() {
        return Err(Error::Forbidden(
            "archiving is the database owner's work; run it without --as (as the operator)".into(),
        ));
    }
    policy.check().map_err(|(field, reason)| Error::Invalid { field: format!("archive.{field}"), reason })?;
    let started = Instant::now();
    let mut report = Report::default();
    let done = steps(services, policy, &mut report, &mut progress).await;
    report.seconds = started.elapsed().as_secs_f64();
    let (outcome, error) = match &done {
        Ok(()) => (Outcome::Ok, None),
        Err(e) => (Outcome::Failed, Some(e.to_string())),
    };
    let mut tx = services.pool.begin().await?;
    report.audit_id = audit::record(
        &mut tx,
        &services.actor,
        &Entry {
            verb: "archive",
            target_table: "platform.workflow_executions",
            target_id: None,
            from_state: None,
            to_state: Some(report.summary()),
            reason: Some(reason.unwrap_or("scheduled archive run").to_string()),
            outcome,
            error,
        },
    )
    .await?;
    tx.commit().await?;
    done.map(|()| report)
}

async fn steps(
    services: &Services,
    policy: &Policy,
    report: &mut Report,
    progress: &mut impl FnMut(&Report),
) -> Result<()> {
    let made: i32 = sqlx::query_scalar("SELECT fleetdeck.ensure_execution_partitions(now(), $1)")
        .bind(policy.partitions_ahead)
        .fetch_one(&services.pool)
        .await?;
    report.partitions_made = i64::from(made);
    let size = policy.batch as i32;
    // Moves first, then the archive's deletions, then the audit log's; each adds to its own
    // figure of the report. A short batch ends a stage, but for the archive's deletions: a
    // retry chain's parent becomes due once its retry is gone, so they go on until none is.
    struct Stage {
        sql: &'static str,
        age: Duration,
        with_statuses: bool,
        until_none: bool,
        figure: fn(&mut Report) -> &mut i64,
    }
    let stages = [
        Stage {
            sql: "SELECT fleetdeck.archive_executions(now() - make_interval(secs => $1), $2, $3)",
            age: policy.move_after,
            with_statuses: true,
            until_none: false,
            figure: |r| &mut r.moved,
        },
        Stage {
            sql: "SELECT fleetdeck.purge_archived_executions(now() - make_interval(secs => $1), $2)",
            age: policy.delete_after,
            with_statuses: false,
            until_none: true,
            figure: |r| &mut r.deleted,
        },
        Stage {
            sql: "SELECT fleetdeck.purge_audit(now() - make_interval(secs => $1), $2)",
            age: policy.audit_after,
            with_statuses: false,
            until_none: false,
            figure: |r| &mut r.audit_deleted,
        },
    ];
    for stage in stages {
        loop {
            let statuses = stage.with_statuses.then_some(policy.statuses.as_slice());
            let n = one_batch(services, stage.sql, stage.age.as_secs_f64(), statuses, size).await?;
            report.batches += 1;
            *(stage.figure)(report) += n;
            progress(report);
            if n == 0 || (n < policy.batch && !stage.until_none) {
                break;
            }
            tokio::time::sleep(policy.pause).await;
        }
    }
    // Partitions wholly older than the move threshold that the moves emptied.
    let mut tx = services.pool.begin().await?;
    sqlx::query("SET LOCAL lock_timeout = '200ms'").execute(&mut *tx).await?;
    report.partitions_dropped =
        sqlx::query_scalar("SELECT fleetdeck.drop_empty_execution_partitions(now() - make_interval(secs => $1))")
            .bind(policy.move_after.as_secs_f64())
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(())
}

/// The demo's schedule: a run now and every `every` after, for as long as the task lives. A
/// run that fails is logged (and audited by `run`) and the next is tried at its time.
pub async fn schedule(services: Services, policy: Policy, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match run(&services, &policy, Some("the demo's archive schedule"), |_| {}).await {
            Ok(r) => {
                tracing::info!(moved = r.moved, deleted = r.deleted, audit_deleted = r.audit_deleted, "archive run")
            }
            Err(e) => tracing::warn!(error = %e, "archive run failed"),
        }
    }
}

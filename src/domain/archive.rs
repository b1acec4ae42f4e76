//! Seed 001's Data Archival Strategy as settings: when final executions move to the archive,
//! when archived ones and audit rows are deleted, and how a run goes (`service::archive` runs
//! it).

use std::time::Duration;

use super::execution::ExecutionStatus;

/// The final states (`ExecutionStatus::is_final`), the only ones archived.
fn final_states() -> Vec<&'static str> {
    ExecutionStatus::ALL.iter().filter(|s| s.is_final()).map(|s| s.as_str()).collect()
}

/// What a run does (the `[archive]` section).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Final executions that ended longer ago than this move to the archive.
    pub move_after: Duration,
    /// Archived executions that ended longer ago than this are deleted.
    pub delete_after: Duration,
    /// Audit rows older than this are deleted.
    pub audit_after: Duration,
    /// Which final states move.
    pub statuses: Vec<String>,
    /// Rows per batch (one transaction each).
    pub batch: i64,
    /// Rest between batches, so the run never hogs the server.
    pub pause: Duration,
    /// Monthly partitions made ahead of this month.
    pub partitions_ahead: i32,
}

impl Default for Policy {
    /// Seed 001's figures: archive after 30 days, delete after 90, audit rows after a year.
    fn default() -> Policy {
        Policy {
            move_after: Duration::from_secs(30 * 86_400),
            delete_after: Duration::from_secs(90 * 86_400),
            audit_after: Duration::from_secs(365 * 86_400),
            statuses: final_states().into_iter().map(str::to_string).collect(),
            batch: 5_000,
            pause: Duration::from_millis(20),
            partitions_ahead: 1,
        }
    }
}

impl Policy {
    /// The first thing wrong with the policy, naming its setting.
    pub fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        if self.move_after.is_zero() {
            return Err(("move_after", "must be more than zero".into()));
        }
        if self.delete_after <= self.move_after {
            return Err((
                "delete_after",
                "must be longer than move_after (rows are archived before they are deleted)".into(),
            ));
        }
        if self.audit_after < Duration::from_secs(30 * 86_400) {
            return Err(("audit_after", "must be 30 days at least".into()));
        }
        let finals = final_states();
        if self.statuses.is_empty() {
            return Err(("statuses", format!("name at least one of {}", finals.join(", "))));
        }
        if let Some(s) = self.statuses.iter().find(|s| !finals.contains(&s.as_str())) {
            return Err(("statuses", format!("{s:?} is not a final state (one of {})", finals.join(", "))));
        }
        if !(1..=100_000).contains(&self.batch) {
            return Err(("batch", "expected 1 to 100000 rows".into()));
        }
        if !(0..=24).contains(&self.partitions_ahead) {
            return Err(("partitions_ahead", "expected 0 to 24 months".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_names_the_setting_that_is_wrong() {
        assert_eq!(Policy::default().check(), Ok(()));
        let bad = |f: fn(&mut Policy)| {
            let mut p = Policy::default();
            f(&mut p);
            p.check().unwrap_err().0
        };
        assert_eq!(bad(|p| p.move_after = Duration::ZERO), "move_after");
        assert_eq!(bad(|p| p.delete_after = p.move_after), "delete_after");
        assert_eq!(bad(|p| p.audit_after = Duration::from_secs(86_400)), "audit_after");
        assert_eq!(bad(|p| p.statuses = vec!["running".into()]), "statuses");
        assert_eq!(bad(|p| p.statuses.clear()), "statuses");
        assert_eq!(bad(|p| p.batch = 0), "batch");
        assert_eq!(bad(|p| p.partitions_ahead = 99), "partitions_ahead");
    }
}

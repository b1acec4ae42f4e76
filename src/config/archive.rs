//! The `[archive]` section: seed 001's Data Archival Strategy, checked.

use std::time::Duration;

use config::Config;
use serde::Deserialize;

use super::{duration, invalid, ConfigError};
use crate::domain::archive::Policy;

#[derive(Debug, Clone)]
pub struct ArchiveSettings {
    pub policy: Policy,
    /// How often the demo runs the archive.
    pub every: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArchive {
    move_after: String,
    delete_after: String,
    audit_after: String,
    statuses: Vec<String>,
    batch: i64,
    pause: String,
    partitions_ahead: i64,
    every: String,
}

/// Check the `[archive]` section.
pub(super) fn validate(raw: RawArchive, cfg: &Config) -> Result<ArchiveSettings, ConfigError> {
    let policy = Policy {
        move_after: duration(cfg, "archive.move_after", &raw.move_after)?,
        delete_after: duration(cfg, "archive.delete_after", &raw.delete_after)?,
        audit_after: duration(cfg, "archive.audit_after", &raw.audit_after)?,
        statuses: raw.statuses.iter().map(|s| s.trim().to_ascii_lowercase()).collect(),
        batch: raw.batch,
        pause: duration(cfg, "archive.pause", &raw.pause)?,
        partitions_ahead: i32::try_from(raw.partitions_ahead).unwrap_or(i32::MAX),
    };
    if let Err((key, why)) = policy.check() {
        let shown = match key {
            "move_after" => raw.move_after.clone(),
            "delete_after" => raw.delete_after.clone(),
            "audit_after" => raw.audit_after.clone(),
            "statuses" => raw.statuses.join(", "),
            "batch" => raw.batch.to_string(),
            _ => raw.partitions_ahead.to_string(),
        };
        return Err(invalid(cfg, &format!("archive.{key}"), &shown, &why));
    }
    let every = duration(cfg, "archive.every", &raw.every)?;
    if every < Duration::from_secs(10) {
        return Err(invalid(cfg, "archive.every", &raw.every, "must be 10s at least"));
    }
    Ok(ArchiveSettings { policy, every })
}

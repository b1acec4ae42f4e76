//! The `[database]` section: where the data lives (the primary, a pooler in front of it, a
//! direct session, a hot standby), the pool's limits and fleetdeck's own server, checked.

use std::path::PathBuf;
use std::time::Duration;

use config::Config;
use serde::Deserialize;

use super::{duration, invalid, optional, project_dirs, ConfigError};

/// The longest acquire timeout the pool may use.
pub const MAX_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How dashboards learn that lists changed (`database.change_feed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeFeed {
    /// LISTEN when a session of its own on the primary can be had, else the clock.
    Auto,
    /// LISTEN on a session of its own on the primary.
    Listen,
    /// The change clock, where reads go.
    Clock,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: Option<String>,
    /// `url` goes through a pooler in transaction pooling mode.
    pub pooled: bool,
    /// A direct session on the primary for LISTEN and migrations, when `url` is pooled.
    pub direct_url: Option<String>,
    /// A hot standby for reads.
    pub replica_url: Option<String>,
    /// Past this lag, reads go to the primary.
    pub replica_max_lag: Duration,
    /// How dashboards learn of changes.
    pub change_feed: ChangeFeed,
    pub statement_timeout: Duration,
    pub acquire_timeout: Duration,
    pub max_connections: u32,
    pub data_dir: PathBuf,
    pub server_user: String,
    pub postgres_bin: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    url: String,
    pooled: bool,
    direct_url: String,
    replica_url: String,
    replica_max_lag: String,
    change_feed: String,
    statement_timeout: String,
    acquire_timeout: String,
    max_connections: i64,
    data_dir: String,
    server_user: String,
    postgres_bin: String,
}

fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The embedded server's data directory when none is configured.
pub fn default_data_dir() -> PathBuf {
    if running_as_root() {
        // The server runs as an unprivileged user, who cannot reach into /root.
        PathBuf::from("/var/lib/fleetdeck/postgres")
    } else {
        project_dirs()
            .map(|d| d.data_dir().join("postgres"))
            .unwrap_or_else(|| std::env::temp_dir().join("fleetdeck-postgres"))
    }
}

/// Check the `[database]` section.
pub(super) fn validate(db: RawDatabase, cfg: &Config) -> Result<DatabaseSettings, ConfigError> {
    let statement_timeout = duration(cfg, "database.statement_timeout", &db.statement_timeout)?;
    if statement_timeout.is_zero() {
        return Err(invalid(cfg, "database.statement_timeout", &db.statement_timeout, "must be more than zero"));
    }
    let acquire_timeout = duration(cfg, "database.acquire_timeout", &db.acquire_timeout)?;
    if acquire_timeout.is_zero() || acquire_timeout > MAX_ACQUIRE_TIMEOUT {
        return Err(invalid(
            cfg,
            "database.acquire_timeout",
            &db.acquire_timeout,
            "must be more than zero and at most 3s",
        ));
    }
    let max_connections = u32::try_from(db.max_connections)
        .ok()
        .filter(|n| (1..=64).contains(n))
        .ok_or_else(|| invalid(cfg, "database.max_connections", &db.max_connections.to_string(), "expected 1 to 64"))?;
    if db.server_user.trim().is_empty() {
        return Err(invalid(cfg, "database.server_user", &db.server_user, "must name an OS user"));
    }
    for (key, value) in
        [("database.url", &db.url), ("database.direct_url", &db.direct_url), ("database.replica_url", &db.replica_url)]
    {
        if let Some(url) = optional(value.clone()) {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(invalid(
                    cfg,
                    key,
                    &redact_url(&url),
                    "expected a URL starting with postgres:// or postgresql://",
                ));
            }
        }
    }
    for (key, value) in [("database.direct_url", &db.direct_url), ("database.replica_url", &db.replica_url)] {
        if optional(value.clone()).is_some() && optional(db.url.clone()).is_none() {
            return Err(invalid(cfg, key, &redact_url(value), "needs database.url (the primary) set too"));
        }
    }
    let change_feed = match db.change_feed.trim() {
        "auto" => ChangeFeed::Auto,
        "listen" => ChangeFeed::Listen,
        "clock" => ChangeFeed::Clock,
        other => return Err(invalid(cfg, "database.change_feed", other, "allowed: auto, listen, clock")),
    };
    if change_feed == ChangeFeed::Listen && db.pooled && optional(db.direct_url.clone()).is_none() {
        return Err(invalid(
            cfg,
            "database.change_feed",
            "listen",
            "through a pooler LISTEN needs database.direct_url (a session on the primary itself)",
        ));
    }
    let replica_max_lag = duration(cfg, "database.replica_max_lag", &db.replica_max_lag)?;
    if replica_max_lag.is_zero() {
        return Err(invalid(cfg, "database.replica_max_lag", &db.replica_max_lag, "must be more than zero"));
    }
    Ok(DatabaseSettings {
        // fleetdeck's own server is reached directly, never through a pooler.
        pooled: db.pooled && optional(db.url.clone()).is_some(),
        url: optional(db.url),
        direct_url: optional(db.direct_url),
        replica_url: optional(db.replica_url),
        replica_max_lag,
        change_feed,
        statement_timeout,
        acquire_timeout,
        max_connections,
        data_dir: optional(db.data_dir).map(PathBuf::from).unwrap_or_else(default_data_dir),
        server_user: db.server_user.trim().to_string(),
        postgres_bin: optional(db.postgres_bin).map(PathBuf::from),
    })
}

/// A connection URL with its password replaced, fit to show or log.
pub fn redact_url(url: &str) -> String {
    // scheme://user:password@host/...
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

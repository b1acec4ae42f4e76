//! Health of hosts and cluster agents, derived from measured values (SEMANTICS.md, seed 002):
//! healthy while the last heartbeat is younger than two heartbeat intervals, stale after that,
//! offline after `offline_after` (300 s by default), without any heartbeat, or when the agent or
//! host is not active.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Healthy,
    Stale,
    Offline,
    /// A host an operator took out of service (SEMANTICS.md): not a fault, counted apart.
    Maintenance,
}

impl Health {
    pub const ALL: [Health; 4] = [Health::Healthy, Health::Stale, Health::Offline, Health::Maintenance];

    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Stale => "stale",
            Health::Offline => "offline",
            Health::Maintenance => "maintenance",
        }
    }

    /// The healths of `what` (cluster agents have no maintenance).
    pub fn of(hosts: bool) -> &'static [Health] {
        if hosts {
            &Health::ALL
        } else {
            &Health::ALL[..3]
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Health {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Health::ALL
            .into_iter()
            .find(|h| h.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a health (healthy, stale, offline, maintenance)"))
    }
}

/// The thresholds; `Default` is SEMANTICS.md's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// How often agents and hosts write their heartbeat.
    pub heartbeat_interval: Duration,
    /// Offline from this heartbeat age on.
    pub offline_after: Duration,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { heartbeat_interval: Duration::from_secs(30), offline_after: Duration::from_secs(300) }
    }
}

impl Thresholds {
    /// Stale from this heartbeat age on: two intervals.
    pub fn stale_after(&self) -> Duration {
        self.heartbeat_interval * 2
    }

    /// Check that stale comes before offline.
    pub fn check(&self) -> Result<(), String> {
        if self.heartbeat_interval.is_zero() {
            return Err("the heartbeat interval must be more than zero".into());
        }
        if self.offline_after <= self.stale_after() {
            return Err(format!(
                "offline_after ({}s) must be longer than two heartbeat intervals ({}s)",
                self.offline_after.as_secs_f64(),
                self.stale_after().as_secs_f64()
            ));
        }
        Ok(())
    }

    /// The health of something last heard from at `last_heartbeat`, at `now`.
    pub fn classify(&self, active: bool, last_heartbeat: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Health {
        let Some(last) = last_heartbeat else { return Health::Offline };
        if !active {
            return Health::Offline;
        }
        // A heartbeat from the future (clock skew) counts as fresh.
        let age = (now - last).to_std().unwrap_or(Duration::ZERO);
        if age >= self.offline_after {
            Health::Offline
        } else if age >= self.stale_after() {
            Health::Stale
        } else {
            Health::Healthy
        }
    }
}

/// A moment in Unix seconds (as lists carry it) as a time.
pub fn moment(secs: &str) -> Option<DateTime<Utc>> {
    let secs: f64 = secs.trim().parse().ok()?;
    if !secs.is_finite() {
        return None;
    }
    DateTime::<Utc>::from_timestamp_millis((secs * 1000.0) as i64)
}

/// A HEALTH cell (`active|heartbeat`: 1, 0 or m for maintenance, Unix seconds or empty) at `now`.
pub fn health_cell(cell: &str, now: DateTime<Utc>, t: &Thresholds) -> Option<Health> {
    let (active, heartbeat) = cell.split_once('|')?;
    if active == "m" {
        return Some(Health::Maintenance);
    }
    Some(t.classify(active == "1", moment(heartbeat), now))
}

/// An age cell (Unix seconds, or empty for never) at `now`: "12s", "4m05s", "never".
pub fn age_cell(cell: &str, now: DateTime<Utc>) -> String {
    match moment(cell) {
        None => "never".to_string(),
        Some(at) => {
            let secs = (now - at).num_milliseconds().max(0) as f64 / 1000.0;
            crate::domain::execution::format_duration(secs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_tick_with_the_clock() {
        let t = Thresholds::default();
        let now = now();
        let hb = (now.timestamp() - 59).to_string();
        assert_eq!(health_cell(&format!("1|{hb}"), now, &t), Some(Health::Healthy));
        assert_eq!(health_cell(&format!("1|{hb}"), now + chrono::Duration::seconds(1), &t), Some(Health::Stale));
        assert_eq!(health_cell(&format!("0|{hb}"), now, &t), Some(Health::Offline));
        assert_eq!(health_cell("1|", now, &t), Some(Health::Offline), "never heard from");
        assert_eq!(health_cell("garbage", now, &t), None);
        assert_eq!(health_cell(&format!("m|{hb}"), now, &t), Some(Health::Maintenance), "heartbeats, not sick");
        assert_eq!(age_cell(&hb, now), "59s");
        assert_eq!(age_cell(&hb, now + chrono::Duration::seconds(66)), "2m05s");
        assert_eq!(age_cell("", now), "never");
        assert_eq!(age_cell("1000000.5", now), "0s", "a fraction of a second");
    }

    fn at(secs: i64) -> Option<DateTime<Utc>> {
        Some(DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(1_000_000 - secs))
    }

    fn now() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(1_000_000)
    }

    #[test]
    fn the_thresholds_edges() {
        let t = Thresholds::default();
        assert_eq!(t.classify(true, at(0), now()), Health::Healthy);
        assert_eq!(t.classify(true, at(59), now()), Health::Healthy, "under two intervals");
        assert_eq!(t.classify(true, at(60), now()), Health::Stale, "two intervals");
        assert_eq!(t.classify(true, at(299), now()), Health::Stale);
        assert_eq!(t.classify(true, at(300), now()), Health::Offline, "300 s");
        assert_eq!(t.classify(true, at(-30), now()), Health::Healthy, "a clock ahead of ours");
    }

    #[test]
    fn inactive_or_silent_is_offline() {
        let t = Thresholds::default();
        assert_eq!(t.classify(false, at(1), now()), Health::Offline);
        assert_eq!(t.classify(true, None, now()), Health::Offline);
    }

    #[test]
    fn thresholds_are_configurable_and_checked() {
        let t = Thresholds { heartbeat_interval: Duration::from_secs(10), offline_after: Duration::from_secs(60) };
        assert_eq!(t.classify(true, at(19), now()), Health::Healthy);
        assert_eq!(t.classify(true, at(20), now()), Health::Stale);
        assert_eq!(t.classify(true, at(60), now()), Health::Offline);
        assert!(t.check().is_ok());
        let bad = Thresholds { heartbeat_interval: Duration::from_secs(60), offline_after: Duration::from_secs(100) };
        assert!(bad.check().unwrap_err().contains("longer than two heartbeat intervals"));
        assert_eq!("stale".parse::<Health>(), Ok(Health::Stale));
        assert!("sick".parse::<Health>().is_err());
    }
}

//! `fleetdeck doctor`: the configuration, the database and the schema, checked.

use std::fmt::Write as _;
use std::process::ExitCode;

use color_eyre::eyre::Result;

use super::services;
use crate::config::Settings;
use crate::db::replica::{lag_text, Standing};
use crate::db::{migrate, Database, MigratePolicy};
use crate::service::system;

/// One line of the doctor's report.
struct Check {
    ok: bool,
    label: &'static str,
    value: String,
}

pub(super) async fn run(settings: &Settings) -> Result<ExitCode> {
    let mut checks = vec![
        Check { ok: true, label: "config file", value: settings.file.describe() },
        Check { ok: true, label: "log file", value: settings.log_file.display().to_string() },
    ];
    match Database::open(settings, MigratePolicy::Leave).await {
        Err(e) => checks.push(Check { ok: false, label: "database", value: e.to_string() }),
        Ok(db) => {
            checks.push(Check { ok: true, label: "database", value: db.target.describe() });
            database(&db, settings, &mut checks).await;
            db.close().await?;
        }
    }
    let problems = checks.iter().filter(|c| !c.ok).count();
    let mut out = String::new();
    for c in &checks {
        let mark = if c.ok { "ok " } else { "!! " };
        let mut lines = c.value.lines();
        writeln!(out, "{mark} {:<15} {}", c.label, lines.next().unwrap_or(""))?;
        for line in lines {
            writeln!(out, "    {:<15} {line}", "")?;
        }
    }
    if problems == 0 {
        writeln!(out, "\nhealthy")?;
    } else {
        writeln!(out, "\n{problems} problem(s)")?;
    }
    crate::out!("{out}");
    Ok(if problems == 0 { ExitCode::SUCCESS } else { ExitCode::from(super::exit::PROBLEMS) })
}

fn describe(info: &system::ServerInfo) -> String {
    format!(
        "PostgreSQL {}, database {}, role {}{}, {}",
        info.version,
        info.database,
        info.role,
        if info.superuser { " (superuser)" } else { "" },
        if info.standby { "a standby (in recovery)" } else { "a primary" }
    )
}

async fn database(db: &Database, settings: &Settings, checks: &mut Vec<Check>) {
    match system::server_info(&db.pool).await {
        Ok(info) => {
            let mut value = describe(&info);
            if db.pool.is_pooled() {
                value.push_str("; through a transaction pooler (database.pooled)");
            }
            if info.standby {
                value.push_str("; database.url must name the primary: every write would be refused");
            }
            checks.push(Check { ok: !info.standby, label: "server", value });
        }
        Err(e) => checks.push(Check { ok: false, label: "server", value: e.to_string() }),
    }
    checks.push(Check {
        ok: true,
        label: "change feed",
        value: match (super::connector(db, settings, None).direct.is_some(), db.direct.is_some()) {
            (true, _) => "LISTEN on a session of its own on the primary".into(),
            (false, true) => format!(
                "the change clock every {} ms, where reads go (database.change_feed = \"clock\")",
                crate::ui::feed::CLOCK_INTERVAL.as_millis()
            ),
            (false, false) => format!(
                "the change clock every {} ms (pooled without database.direct_url: no session can LISTEN)",
                crate::ui::feed::CLOCK_INTERVAL.as_millis()
            ),
        },
    });
    standby(db, settings, checks).await;
    match migrate::status(&db.pool).await {
        Ok(st) => {
            let total = st.applied.len() + st.pending.len() + st.modified.len() + st.failed.len();
            let version = st.version().map(|v| v.to_string()).unwrap_or_else(|| "none".into());
            let mut value = format!("version {version} ({} of {total} migrations applied)", st.applied.len());
            if !st.pending.is_empty() {
                write!(value, "; pending: {}; run `fleetdeck migrate`", join(st.pending.iter().map(|p| p.0))).ok();
            }
            if !st.modified.is_empty() {
                write!(value, "; changed since applied: {}", join(st.modified.iter())).ok();
            }
            if !st.failed.is_empty() {
                write!(value, "; failed: {}", join(st.failed.iter())).ok();
            }
            if !st.unknown.is_empty() {
                write!(value, "; applied by a newer fleetdeck: {}", join(st.unknown.iter())).ok();
            }
            checks.push(Check { ok: st.is_current(), label: "schema", value });
        }
        Err(e) => checks.push(Check { ok: false, label: "schema", value: e.to_string() }),
    }
    match system::schema_presence(&db.pool).await {
        Ok(list) => {
            for (schema, what, present) in list {
                checks.push(Check {
                    ok: present,
                    label: "  schema",
                    value: format!("{schema:<10} {} — {what}", if present { "present" } else { "MISSING" }),
                });
            }
        }
        Err(e) => checks.push(Check { ok: false, label: "schemas", value: e.to_string() }),
    }
    match services(db, settings).await {
        Ok(s) => {
            let value = match s.actor.user_id {
                Some(id) => format!("{} (platform user {id}, role authenticated, row-level security)", s.actor.label),
                None => format!("operator {} (the connecting role; no row-level security)", s.actor.label),
            };
            checks.push(Check { ok: true, label: "acting as", value });
            s.pool.close().await;
        }
        Err(e) => checks.push(Check { ok: false, label: "acting as", value: e.to_string() }),
    }
}

/// The hot standby, when one is configured: reached, a standby, its lag against the limit, and
/// what the primary sees of its standbys.
async fn standby(db: &Database, settings: &Settings, checks: &mut Vec<Check>) {
    let Some(replica) = super::replica(db, settings, None) else { return };
    let limit = settings.database.replica_max_lag;
    let check = match system::server_info(&replica.pool).await {
        Err(e) => Check { ok: false, label: "standby", value: format!("{e}; reads go to the primary") },
        Ok(info) if !info.standby => Check {
            ok: false,
            label: "standby",
            value: format!("{}; database.replica_url must name a hot standby", describe(&info)),
        },
        Ok(info) => {
            let reads = match replica.check().await {
                Standing::Following { lag } if lag <= limit => {
                    Ok(format!("lag {} (limit {}): reads go to the standby", lag_text(lag), lag_text(limit)))
                }
                Standing::Following { lag } => Err(format!(
                    "lag {} is past the limit {}: reads go to the primary until it catches up",
                    lag_text(lag),
                    lag_text(limit)
                )),
                Standing::Down { error } => Err(error),
                Standing::Unknown => Err("not checked".into()),
            };
            match reads {
                Ok(r) => Check { ok: true, label: "standby", value: format!("{}; {r}", describe(&info)) },
                Err(r) => Check { ok: false, label: "standby", value: format!("{}; {r}", describe(&info)) },
            }
        }
    };
    checks.push(check);
    replica.pool.close().await;
    match system::replication(&db.pool).await {
        Ok(list) if list.is_empty() => checks.push(Check {
            ok: true,
            label: "replication",
            value: "the primary lists no standby (or this role may not see them)".into(),
        }),
        Ok(list) => {
            let value = list
                .iter()
                .map(|(name, state, lag)| {
                    let lag = lag.map_or("no lag reported".to_string(), |l| {
                        format!("replay lag {}", lag_text(std::time::Duration::from_secs_f64(l.max(0.0))))
                    });
                    format!("{} {state}, {lag}", if name.is_empty() { "(unnamed)" } else { name })
                })
                .collect::<Vec<_>>()
                .join("\n");
            checks.push(Check { ok: true, label: "replication", value })
        }
        Err(e) => checks.push(Check { ok: false, label: "replication", value: e.to_string() }),
    }
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

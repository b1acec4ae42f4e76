//! `fleetdeck exec …`: workflow executions for scripts, on the same service functions as the
//! Executions pane. Exit codes: 0 done, 2 invalid (unknown id, verb not allowed in this state,
//! bad filter), 3 changed concurrently, 4 database unavailable; messages on stderr.

use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use color_eyre::eyre::Result;
use uuid::Uuid;

use super::with_services;
use crate::config::Settings;
use crate::domain::execution::Verb;
use crate::domain::health::Thresholds;
use crate::service::executions::{self, RowOutcome};
use crate::service::ids::{self, IdOf, Typed};
use crate::service::listing::{self, Entity, PageAt, Query};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum ExecCommand {
    /// List executions, newest first
    List {
        /// Only this status (queued, pending, running, paused, completed, failed, cancelled, timeout)
        #[arg(long)]
        status: Option<String>,
        /// Only agents whose name contains this (any case)
        #[arg(long)]
        agent: Option<String>,
        /// Only workflows whose name contains this (any case)
        #[arg(long)]
        workflow: Option<String>,
        /// At most this many rows
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// List the archive (executions `fleetdeck archive` moved there) instead
        #[arg(long)]
        archive: bool,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Every field of one execution, its retry chain included
    Show {
        id: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Pause running executions
    Pause(VerbArgs),
    /// Resume paused executions
    Resume(VerbArgs),
    /// Cancel executions that are not final
    Cancel(VerbArgs),
    /// Retry failed or timed-out executions (each retry queues a new execution)
    Retry(VerbArgs),
}

impl ExecCommand {
    /// The command as typed, when it writes.
    pub fn writes(&self) -> Option<&'static str> {
        match self {
            ExecCommand::List { .. } | ExecCommand::Show { .. } => None,
            ExecCommand::Pause(_) => Some("exec pause"),
            ExecCommand::Resume(_) => Some("exec resume"),
            ExecCommand::Cancel(_) => Some("exec cancel"),
            ExecCommand::Retry(_) => Some("exec retry"),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct VerbArgs {
    /// Execution ids
    #[arg(required = true)]
    ids: Vec<String>,
    /// Why (recorded in the audit log)
    #[arg(long)]
    reason: Option<String>,
}

pub(super) use super::exit::{code_of, CONFLICT, INVALID, UNAVAILABLE};

/// Write to standard output; a reader that went away (`| head`) is not an error.
pub(super) fn emit(text: &str) {
    super::out::stdout(text.as_bytes());
}

pub(super) fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    crate::errln!("fleetdeck: {message}");
    ExitCode::from(code)
}

/// Ids as typed (whole or a unique prefix), checked before any database is opened.
pub(super) fn parse_ids(ids: &[String]) -> std::result::Result<Vec<Typed>, String> {
    crate::service::ids::check(ids)
}

pub async fn run(settings: &Settings, cmd: ExecCommand) -> Result<ExitCode> {
    // Check what needs no database first.
    let ids = match &cmd {
        ExecCommand::Pause(a) | ExecCommand::Resume(a) | ExecCommand::Cancel(a) | ExecCommand::Retry(a) => {
            match parse_ids(&a.ids) {
                Ok(ids) => ids,
                Err(e) => return Ok(fail(INVALID, e)),
            }
        }
        _ => Vec::new(),
    };
    with_services(settings, cmd.writes().is_none(), |services| async move {
        let ids = match ids::resolve(&services.pool, IdOf::Execution, &ids).await {
            Ok(ids) => ids,
            Err(e) => return Ok(fail(code_of(&e), e)),
        };
        let code = match cmd {
            ExecCommand::List { status, agent, workflow, limit, archive, output } => {
                let mut fields = Vec::new();
                if archive {
                    fields.push(("archive".to_string(), "yes".to_string()));
                }
                for (k, v) in [("status", status), ("agent", agent), ("workflow", workflow)] {
                    if let Some(v) = v {
                        fields.push((k.to_string(), v));
                    }
                }
                let query = Query { fields, ..Query::new(Entity::Executions) };
                match listing::page(&services.pool, Entity::Executions, &query, &PageAt::First, limit.max(0)).await {
                    Ok(page) => {
                        print_list(Entity::Executions, &page, output, chrono::Utc::now(), &settings.health);
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(code_of(&e), e),
                }
            }
            ExecCommand::Show { id, output } => match resolve_one(&services, IdOf::Execution, &id).await {
                Err(code) => code,
                Ok(id) => match executions::detail(&services, id).await {
                    Ok(d) => {
                        print_detail(&d, output)?;
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(code_of(&e), e),
                },
            },
            ExecCommand::Pause(a) => act(&services, Verb::Pause, &ids, a.reason).await,
            ExecCommand::Resume(a) => act(&services, Verb::Resume, &ids, a.reason).await,
            ExecCommand::Cancel(a) => act(&services, Verb::Cancel, &ids, a.reason).await,
            ExecCommand::Retry(a) => act(&services, Verb::Retry, &ids, a.reason).await,
        };
        Ok(code)
    })
    .await
}

/// One id as typed, resolved (the failure already said, as its exit code).
pub(super) async fn resolve_one(
    services: &crate::service::Services,
    of: IdOf,
    typed: &str,
) -> std::result::Result<Uuid, ExitCode> {
    let typed = parse_ids(&[typed.to_string()]).map_err(|e| fail(INVALID, e))?;
    match ids::resolve(&services.pool, of, &typed).await {
        Ok(ids) => ids.into_iter().next().ok_or_else(|| fail(INVALID, "no id given")),
        Err(e) => Err(fail(code_of(&e), e)),
    }
}

async fn act(services: &crate::service::Services, verb: Verb, ids: &[Uuid], reason: Option<String>) -> ExitCode {
    let out = match executions::act(services, verb, ids, reason.as_deref()).await {
        Ok(out) => out,
        Err(e) => return fail(code_of(&e), e),
    };
    report(&out, "execution", verb == Verb::Retry, &out.summary(verb))
}

/// Print each row's outcome (done on stdout, the rest on stderr) and a summary for several
/// rows; the exit code is the worst row's: 0 done, 2 not allowed or unknown, 3 lost race.
pub(super) fn report(out: &executions::BulkOutcome, what: &str, retry: bool, summary: &str) -> ExitCode {
    let mut code = 0;
    for (id, row) in &out.rows {
        let (line, c) = match row {
            RowOutcome::Done { from, to } if retry => (format!("{id}: retried as {to} (was {from})"), 0),
            RowOutcome::Done { from, to } => (format!("{id}: {from} → {to}"), 0),
            RowOutcome::Skipped { reason, .. } => (format!("{id}: {reason}"), INVALID),
            RowOutcome::Refused { reason } => (format!("{id}: {reason}"), INVALID),
            RowOutcome::Missing => (format!("{id}: no such {what} (or not visible to you)"), INVALID),
            RowOutcome::Lost { now } => (format!("{id}: changed by someone else first (now {now})"), CONFLICT),
        };
        if c == 0 {
            emit(&format!("{line}\n"));
        } else {
            crate::errln!("fleetdeck: {line}");
        }
        code = code.max(c);
    }
    if out.rows.len() > 1 {
        crate::errln!("{summary}");
    }
    ExitCode::from(code)
}

/// Print a page of a list: a table (cells as the dashboard draws them, health and ages at
/// `now`) with the count on stderr, or a JSON array of objects keyed by column (moments as
/// RFC 3339 times rather than ages, so that scripts can compute with them).
pub(super) fn print_list(
    entity: Entity,
    page: &listing::Page,
    output: Output,
    now: chrono::DateTime<chrono::Utc>,
    thresholds: &Thresholds,
) {
    let columns = listing::columns(entity);
    let kinds = listing::kinds(entity);
    let cell = |i: usize, text: &str| listing::shown(kinds.get(i), text, now, thresholds);
    match output {
        Output::Json => {
            let rows: Vec<serde_json::Value> =
                page.rows.iter().map(|r| json_row(entity, &r.cursor.id, &r.cells, now, thresholds)).collect();
            emit(&format!("{}\n", serde_json::Value::Array(rows)));
        }
        Output::Table => {
            let mut table: Vec<Vec<String>> =
                vec![std::iter::once("ID".to_string()).chain(columns.iter().map(|c| c.to_string())).collect()];
            for r in &page.rows {
                table.push(
                    std::iter::once(r.cursor.id.clone())
                        .chain(r.cells.iter().enumerate().map(|(i, v)| cell(i, v)))
                        .collect(),
                );
            }
            let widths: Vec<usize> = (0..table[0].len())
                .map(|i| table.iter().map(|row| row.get(i).map_or(0, |c| c.chars().count())).max().unwrap_or(0))
                .collect();
            let mut text = String::new();
            for row in table {
                let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
                text.push_str(line.join("  ").trim_end());
                text.push('\n');
            }
            emit(&text);
            crate::errln!("{} of {} {}", page.rows.len(), page.total, entity.title().to_lowercase());
        }
    }
}

fn print_detail(d: &executions::Detail, output: Output) -> Result<()> {
    if output == Output::Json {
        emit(&format!("{}\n", serde_json::to_string_pretty(d)?));
        return Ok(());
    }
    let value = serde_json::to_value(d)?;
    let Some(obj) = value.as_object() else { return Ok(()) };
    let width = obj.keys().map(|k| k.len()).max().unwrap_or(0);
    let mut result = String::new();
    for (k, v) in obj {
        let text = match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) if a.is_empty() => String::new(),
            other if other.is_object() || other.is_array() => {
                let pretty = serde_json::to_string_pretty(other)?;
                format!("\n{}", pretty.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"))
            }
            other => other.to_string(),
        };
        let text: Vec<String> = text.lines().map(|l| crate::domain::text::sanitize_cell(l, 10_000)).collect();
        result.push_str(&format!("{k:<width$}  {}\n", text.join("\n")));
    }
    emit(&result);
    Ok(())
}

/// One row of a list as typed JSON (README, "JSON for scripts"): times as RFC 3339 UTC, durations
/// in seconds, counts and sizes as numbers, lists as arrays, ids whole; a key per column, its
/// title in lower case with `_` for spaces (`fail_1h`, `last_event`).
pub(super) fn json_row(
    entity: Entity,
    id: &str,
    cells: &[String],
    now: chrono::DateTime<chrono::Utc>,
    thresholds: &Thresholds,
) -> serde_json::Value {
    use serde_json::{json, Value};
    let columns = listing::columns(entity);
    let kinds = listing::kinds(entity);
    let integral = listing::integral(entity);
    let fractional = listing::fractional(entity);
    let clean = |v: &str| crate::domain::text::sanitize_cell(v, 10_000);
    let mut obj = serde_json::Map::new();
    obj.insert("id".into(), id.into());
    for (i, (title, v)) in columns.iter().zip(cells).enumerate() {
        let key = title.to_lowercase().replace(' ', "_");
        let moment = |v: &str| {
            crate::domain::health::moment(v)
                .map_or(Value::Null, |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into())
        };
        match (kinds.get(i), *title) {
            (_, "RETRIES") => {
                let (used, max) = v.split_once('/').unwrap_or((v, ""));
                obj.insert("retries".into(), used.parse::<i64>().map_or(Value::Null, Into::into));
                obj.insert("max_retries".into(), max.parse::<i64>().map_or(Value::Null, Into::into));
            }
            (_, "ROUTES") => {
                let n = |suffix: char| {
                    v.split_whitespace()
                        .find_map(|p| p.strip_suffix(suffix).and_then(|n| n.parse::<i64>().ok()))
                        .map_or(Value::Null, Into::into)
                };
                obj.insert(key, json!({"target": n('t'), "label": n('l'), "annotation": n('a')}));
            }
            (Some(listing::CellKind::Age | listing::CellKind::Moment), _) => {
                obj.insert(key, moment(v));
            }
            (Some(listing::CellKind::Duration), _) => {
                let (start, end) = v.split_once('|').unwrap_or((v, ""));
                let secs = match (start.parse::<f64>(), end.parse::<f64>()) {
                    (Ok(a), Ok(b)) => Some(b - a),
                    (Ok(a), Err(_)) => Some(now.timestamp_millis() as f64 / 1000.0 - a),
                    _ => None,
                };
                let secs = secs.map(|s| (s.max(0.0) * 1000.0).round() / 1000.0);
                obj.insert("duration_seconds".into(), secs.map_or(Value::Null, Into::into));
            }
            (Some(listing::CellKind::Health), _) => {
                let h = listing::shown(kinds.get(i), v, now, thresholds);
                obj.insert(key, if h.is_empty() { Value::Null } else { h.into() });
            }
            (Some(listing::CellKind::List), _) => {
                let items = listing::list_items(v).unwrap_or_default();
                obj.insert(key, Value::Array(items.iter().map(|i| clean(i).into()).collect()));
            }
            _ if integral.get(i) == Some(&true) => {
                obj.insert(key, v.parse::<i64>().map_or(Value::Null, Into::into));
            }
            _ if fractional.get(i) == Some(&true) => {
                obj.insert(key, v.parse::<f64>().map_or(Value::Null, Into::into));
            }
            // No value (an agent owned by a user has no organisation): null, never "".
            _ if v.is_empty() => {
                obj.insert(key, Value::Null);
            }
            _ => {
                obj.insert(key, clean(v).into());
            }
        }
    }
    Value::Object(obj)
}

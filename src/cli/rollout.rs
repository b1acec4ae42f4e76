//! `fleetdeck rollout …`: stacks' rollouts for people and for scripts and CI, on the same service
//! functions as the Rollouts pane.
//!
//! `rollout status` exits 0 when every agent the stack reaches reported SUCCESS for its desired
//! object, 5 while reports are missing, 6 on any FAILURE, 7 when it reaches no live agent; every
//! verb exits by the one table of `super::exit` (2 invalid or not found, 3 changed concurrently,
//! 4 database unavailable).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use color_eyre::eyre::Result;

use super::exec::{code_of, emit, fail, Output, INVALID};
use super::with_services;
use crate::config::Settings;
use crate::domain::text::sanitize_cell;
use crate::service::ids::{self, IdOf, Typed};
use crate::service::rollouts::{self, StackRollout, Status};

#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// The live stacks by name, each with its desired sequence and rollout progress
    List {
        /// At most this many stacks
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// What every agent the stack reaches reported for its desired object; exit 0 complete, 5 in
    /// progress, 6 failing, 7 unreached (no live agent), 2 no such stack
    Status {
        /// The stack's name or id
        stack: String,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Submit FILE.yaml as the stack's next deployment object (checked first; `-` reads stdin)
    Submit {
        /// The stack's name or id
        stack: String,
        file: PathBuf,
    },
    /// Submit the stack's desired object again as a new object, so every agent reconciles
    Resubmit {
        /// The stack's name or id
        stack: String,
    },
    /// Add or remove explicit agent targets of the stack (agent ids), in one transaction
    Target {
        /// The stack's name or id
        stack: String,
        /// An agent to target (repeatable)
        #[arg(long, value_name = "AGENT_ID")]
        add: Vec<String>,
        /// An agent to target no more (repeatable)
        #[arg(long, value_name = "AGENT_ID")]
        remove: Vec<String>,
    },
    /// Soft-delete the stack: its objects are deleted and a deletion marker becomes desired
    Delete {
        /// The stack's name or id
        stack: String,
        /// Recorded in the audit log
        #[arg(long)]
        reason: Option<String>,
    },
}

impl RolloutCommand {
    /// The command as typed, when it writes.
    pub fn writes(&self) -> Option<&'static str> {
        match self {
            RolloutCommand::List { .. } | RolloutCommand::Status { .. } => None,
            RolloutCommand::Submit { .. } => Some("rollout submit"),
            RolloutCommand::Resubmit { .. } => Some("rollout resubmit"),
            RolloutCommand::Target { .. } => Some("rollout target"),
            RolloutCommand::Delete { .. } => Some("rollout delete"),
        }
    }
}

pub async fn run(settings: &Settings, cmd: RolloutCommand) -> Result<ExitCode> {
    // The file first: a missing file or bad YAML needs no database.
    let yaml = match &cmd {
        RolloutCommand::Submit { file, .. } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(file)
            };
            match text {
                Ok(t) => match crate::domain::rollout::check_yaml(&t) {
                    Ok(_) => Some(t),
                    Err(e) => return Ok(fail(INVALID, format!("{}: {e}", file.display()))),
                },
                Err(e) => return Ok(fail(INVALID, format!("{}: {e}", file.display()))),
            }
        }
        _ => None,
    };
    // Agent ids are checked before the database too.
    let targets = match &cmd {
        RolloutCommand::Target { add, remove, .. } => {
            let parse = |flag: &str, ids: &[String]| -> std::result::Result<Vec<Typed>, String> {
                crate::service::ids::check(ids).map_err(|e| format!("--{flag}: {e}"))
            };
            if add.is_empty() && remove.is_empty() {
                return Ok(fail(INVALID, "rollout target: give --add AGENT_ID or --remove AGENT_ID"));
            }
            match (parse("add", add), parse("remove", remove)) {
                (Ok(a), Ok(r)) => Some((a, r)),
                (Err(e), _) | (_, Err(e)) => return Ok(fail(INVALID, e)),
            }
        }
        _ => None,
    };
    with_services(settings, cmd.writes().is_none(), |services| async move {
        let code = match cmd {
            RolloutCommand::List { limit, output } => {
                match rollouts::list(&services, &settings.health, limit.max(0), None).await {
                    Ok(stacks) => {
                        print_list(&stacks, output)?;
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(code_of(&e), e),
                }
            }
            RolloutCommand::Status { stack, output } => {
                match rollouts::status(&services, &stack, &settings.health).await {
                    Ok(status) => {
                        print_status(&status, output)?;
                        ExitCode::from(status.state.exit_code())
                    }
                    Err(e) => fail(code_of(&e), e),
                }
            }
            RolloutCommand::Submit { stack, file } => {
                match rollouts::submit(&services, &stack, yaml.as_deref().unwrap_or_default()).await {
                    Ok(s) => {
                        let kinds: Vec<String> = s.manifests.iter().map(|m| format!("{}/{}", m.kind, m.name)).collect();
                        emit(&format!(
                            "{}: submitted {} as sequence {} (sha256 {}), replacing {}: {}\n",
                            sanitize_cell(&stack, 80),
                            file.display(),
                            s.object.sequence_id,
                            &s.object.yaml_checksum[..12],
                            s.previous.map_or("nothing".to_string(), |p| format!("sequence {p}")),
                            sanitize_cell(&kinds.join(", "), 400),
                        ));
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(code_of(&e), e),
                }
            }
            RolloutCommand::Resubmit { stack } => match rollouts::resubmit(&services, &stack).await {
                Ok(s) => {
                    emit(&format!(
                        "{}: submitted sequence {} again as sequence {} (sha256 {})\n",
                        sanitize_cell(&stack, 80),
                        s.previous.map_or("—".to_string(), |p| p.to_string()),
                        s.object.sequence_id,
                        &s.object.yaml_checksum[..12],
                    ));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(code_of(&e), e),
            },
            RolloutCommand::Target { stack, .. } => {
                let (add, remove) = targets.unwrap_or_default();
                let (add, remove) = match (
                    ids::resolve(&services.pool, IdOf::Agent, &add).await,
                    ids::resolve(&services.pool, IdOf::Agent, &remove).await,
                ) {
                    (Ok(a), Ok(r)) => (a, r),
                    (Err(e), _) | (_, Err(e)) => return Ok(fail(code_of(&e), e)),
                };
                match rollouts::set_targets(&services, &stack, &add, &remove).await {
                    Ok(change) => {
                        emit(&format!("{}: {}\n", sanitize_cell(&stack, 80), change.describe()));
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(code_of(&e), e),
                }
            }
            RolloutCommand::Delete { stack, reason } => match rollouts::find_stack(&services, &stack).await {
                Ok(found) => {
                    let what = crate::service::fleet::Deletable::Stack;
                    match crate::service::fleet::soft_delete(&services, what, &[found.id], reason.as_deref()).await {
                        Ok(out) => {
                            super::exec::report(&out, what.noun(), false, &out.summary_as("deleted", what.noun()))
                        }
                        Err(e) => fail(code_of(&e), e),
                    }
                }
                Err(e) => fail(code_of(&e), e),
            },
        };
        Ok(code)
    })
    .await
}

/// Columns padded to their widest cell, two spaces apart.
pub(super) fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|i| rows.iter().map(|r| r.get(i).map_or(0, |c| c.chars().count())).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in rows {
        let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        text.push_str(line.join("  ").trim_end());
        text.push('\n');
    }
    text
}

fn print_list(stacks: &[StackRollout], output: Output) -> Result<()> {
    if output == Output::Json {
        emit(&format!("{}\n", serde_json::to_string(stacks)?));
        return Ok(());
    }
    let mut rows = vec![["NAME", "GENERATOR", "SEQUENCE", "AGENTS", "STATE", "PROGRESS"].map(String::from).to_vec()];
    for s in stacks {
        rows.push(vec![
            sanitize_cell(&s.name, 80),
            sanitize_cell(&s.generator, 60),
            s.sequence_id.map_or("—".into(), |q| q.to_string()),
            s.agents.to_string(),
            s.state.as_str().to_string(),
            s.progress.describe(),
        ]);
    }
    emit(&table(&rows));
    crate::errln!("{} stacks", stacks.len());
    Ok(())
}

fn print_status(s: &Status, output: Output) -> Result<()> {
    if output == Output::Json {
        emit(&format!("{}\n", serde_json::to_string_pretty(s)?));
        return Ok(());
    }
    let mut text = format!(
        "stack     {}{}\n",
        sanitize_cell(&s.stack.name, 80),
        if s.stack.deleted_at.is_some() { " (deleted)" } else { "" }
    );
    match &s.desired {
        Some(o) => text.push_str(&format!(
            "desired   sequence {} (sha256 {}){}, submitted {}\n",
            o.sequence_id,
            &o.yaml_checksum[..12.min(o.yaml_checksum.len())],
            if o.is_deletion_marker { ", deletion marker" } else { "" },
            o.submitted_at.format("%Y-%m-%d %H:%M:%S UTC"),
        )),
        None => text.push_str("desired   no deployment object yet\n"),
    }
    text.push_str(&format!("state     {}: {}\n", s.state.as_str(), s.progress.describe()));
    if !s.agents.is_empty() {
        text.push('\n');
        let mut rows = vec![["AGENT", "CLUSTER", "ROUTES", "STATE", "REPORTED", "MESSAGE"].map(String::from).to_vec()];
        for a in &s.agents {
            rows.push(vec![
                sanitize_cell(&a.name, 80),
                sanitize_cell(&a.cluster, 80),
                a.routes(),
                a.state().to_string(),
                a.reported_at.map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
                a.message.as_deref().map_or(String::new(), |m| sanitize_cell(m, 500)),
            ]);
        }
        text.push_str(&table(&rows));
    }
    emit(&text);
    Ok(())
}

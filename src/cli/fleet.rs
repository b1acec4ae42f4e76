//! `fleetdeck fleet …`: act on cluster agents and hosts for scripts, on the same service functions
//! as the Fleet pane. Exit codes as `fleetdeck exec`: 0 done, 2 invalid, 3 changed concurrently,
//! 4 database unavailable.

use std::process::ExitCode;

use clap::Subcommand;
use color_eyre::eyre::Result;

use super::exec::{code_of, fail, parse_ids, print_list, report, Output, INVALID};
use super::with_services;
use crate::config::Settings;
use crate::domain::filter::Filter;
use crate::service::fleet::{self, AgentStatus, Deletable, HostStatus};
use crate::service::ids::{self, IdOf, Typed};
use crate::service::listing::{self, Entity, PageAt, Query};

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// List edge hosts, by hostname
    Hosts {
        #[command(flatten)]
        list: ListArgs,
        /// Only hosts of this site (its site_id)
        #[arg(long)]
        site: Option<String>,
        /// Only hosts under this orchestrator (its name)
        #[arg(long)]
        orchestrator: Option<String>,
    },
    /// List cluster agents, by name, with the stacks reaching each
    Agents {
        #[command(flatten)]
        list: ListArgs,
        /// Only agents of this cluster (its cluster_name)
        #[arg(long)]
        cluster: Option<String>,
        /// Only agents with this label or annotation: KEY or KEY=VALUE
        #[arg(long, value_name = "KEY[=VALUE]")]
        label: Option<String>,
    },
    /// Cluster agents (broker.agents)
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Edge hosts (edge.host)
    #[command(subcommand)]
    Host(HostCommand),
}

impl FleetCommand {
    /// The command as typed, when it writes.
    pub fn writes(&self) -> Option<&'static str> {
        match self {
            FleetCommand::Hosts { .. } | FleetCommand::Agents { .. } => None,
            FleetCommand::Agent(AgentCommand::Activate { .. }) => Some("fleet agent activate"),
            FleetCommand::Agent(AgentCommand::Deactivate { .. }) => Some("fleet agent deactivate"),
            FleetCommand::Agent(AgentCommand::Delete(_)) => Some("fleet agent delete"),
            FleetCommand::Host(HostCommand::Activate { .. }) => Some("fleet host activate"),
            FleetCommand::Host(HostCommand::Maintenance { .. }) => Some("fleet host maintenance"),
            FleetCommand::Host(HostCommand::Delete(_)) => Some("fleet host delete"),
        }
    }
}

/// What every fleet list takes.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Only this health: healthy, stale, offline (by the [health] thresholds) or, for hosts, maintenance
    #[arg(long)]
    health: Option<String>,
    /// Only this status, any case (hosts: active, inactive, unreachable; agents: active, inactive)
    #[arg(long)]
    status: Option<String>,
    /// Only names that match this fuzzily (as / in the dashboard)
    #[arg(long)]
    name: Option<String>,
    /// At most this many rows
    #[arg(long, default_value_t = 50)]
    limit: i64,
    #[arg(long, value_enum, default_value = "table")]
    output: Output,
}

impl ListArgs {
    /// The query for `entity`, checked before any database is opened.
    fn query(
        &self,
        entity: Entity,
        extra: &[(&str, &Option<String>)],
        label: Option<&str>,
        settings: &Settings,
    ) -> Result<Query, String> {
        let mut fields = Vec::new();
        for (k, v) in [("health", &self.health), ("status", &self.status)].into_iter().chain(extra.iter().copied()) {
            if let Some(v) = v {
                fields.push((k.to_string(), v.clone()));
            }
        }
        listing::check_fields(entity, &fields).map_err(|e| format!("--{e}"))?;
        let filter = match (label, &self.name) {
            (Some(_), Some(_)) => return Err("--label and --name cannot be used together".into()),
            (Some(l), None) => Filter::parse(&format!("-l {l}")).map_err(|e| format!("--label: {e}"))?,
            (None, Some(n)) => Filter::Fuzzy(n.clone()),
            (None, None) => Filter::None,
        };
        Ok(Query { fields, filter, health: settings.health, at: Some(chrono::Utc::now()), ..Query::new(entity) })
    }
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Set agents active: they fetch their deployment objects again
    Activate {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Set agents inactive: they fetch nothing
    Deactivate {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Soft-delete agents: they leave the lists and reach no stacks (the rows stay, marked deleted)
    Delete(DeleteArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct DeleteArgs {
    #[arg(required = true)]
    ids: Vec<String>,
    /// Why (recorded in the audit log)
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Set hosts active
    Activate {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Take hosts into maintenance (inactive; who, when and why are recorded and shown)
    Maintenance {
        #[arg(required = true)]
        ids: Vec<String>,
        /// Why (shown in the host's detail and recorded in the audit log)
        #[arg(long)]
        reason: Option<String>,
    },
    /// Soft-delete hosts: they leave the lists and the counts (the rows stay, marked deleted)
    Delete(DeleteArgs),
}

/// What to do, checked before any database is opened.
enum Job {
    List { entity: Entity, query: Query, limit: i64, output: Output },
    Agents(AgentStatus, Vec<Typed>),
    Hosts(HostStatus, Vec<Typed>, Option<String>),
    Delete(Deletable, Vec<Typed>, Option<String>),
}

pub async fn run(settings: &Settings, cmd: FleetCommand) -> Result<ExitCode> {
    let checked = match cmd {
        FleetCommand::Hosts { list, site, orchestrator } => list
            .query(Entity::Hosts, &[("site", &site), ("orchestrator", &orchestrator)], None, settings)
            .map(|query| Job::List { entity: Entity::Hosts, query, limit: list.limit, output: list.output }),
        FleetCommand::Agents { list, cluster, label } => list
            .query(Entity::Agents, &[("cluster", &cluster)], label.as_deref(), settings)
            .map(|query| Job::List { entity: Entity::Agents, query, limit: list.limit, output: list.output }),
        FleetCommand::Agent(AgentCommand::Activate { ids }) => {
            parse_ids(&ids).map(|ids| Job::Agents(AgentStatus::Active, ids))
        }
        FleetCommand::Agent(AgentCommand::Deactivate { ids }) => {
            parse_ids(&ids).map(|ids| Job::Agents(AgentStatus::Inactive, ids))
        }
        FleetCommand::Host(HostCommand::Activate { ids }) => {
            parse_ids(&ids).map(|ids| Job::Hosts(HostStatus::Active, ids, None))
        }
        FleetCommand::Host(HostCommand::Maintenance { ids, reason }) => {
            parse_ids(&ids).map(|ids| Job::Hosts(HostStatus::Inactive, ids, reason))
        }
        FleetCommand::Agent(AgentCommand::Delete(a)) => {
            parse_ids(&a.ids).map(|ids| Job::Delete(Deletable::Agent, ids, a.reason))
        }
        FleetCommand::Host(HostCommand::Delete(a)) => {
            parse_ids(&a.ids).map(|ids| Job::Delete(Deletable::Host, ids, a.reason))
        }
    };
    let job = match checked {
        Ok(job) => job,
        Err(e) => return Ok(fail(INVALID, e)),
    };
    let reads = matches!(job, Job::List { .. });
    with_services(settings, reads, |services| async move {
        let code = match job {
            Job::List { entity, query, limit, output } => {
                match listing::page(&services.pool, entity, &query, &PageAt::First, limit.max(0)).await {
                    Ok(page) => {
                        let now = query.at.unwrap_or_else(chrono::Utc::now);
                        print_list(entity, &page, output, now, &settings.health);
                        ExitCode::SUCCESS
                    }
                    Err(e) => fail(code_of(&e), e),
                }
            }
            Job::Agents(to, ids) => {
                let ids = match ids::resolve(&services.pool, IdOf::Agent, &ids).await {
                    Ok(ids) => ids,
                    Err(e) => return Ok(fail(code_of(&e), e)),
                };
                let past = if to == AgentStatus::Active { "activated" } else { "deactivated" };
                match fleet::set_agent_status(&services, &ids, to).await {
                    Ok(out) => report(&out, "agent", false, &out.summary_as(past, "agent")),
                    Err(e) => fail(code_of(&e), e),
                }
            }
            Job::Hosts(to, ids, reason) => {
                let ids = match ids::resolve(&services.pool, IdOf::Host, &ids).await {
                    Ok(ids) => ids,
                    Err(e) => return Ok(fail(code_of(&e), e)),
                };
                let past = if to == HostStatus::Active { "activated" } else { "in maintenance" };
                match fleet::set_host_status(&services, &ids, to, reason.as_deref()).await {
                    Ok(out) => report(&out, "host", false, &out.summary_as(past, "host")),
                    Err(e) => fail(code_of(&e), e),
                }
            }
            Job::Delete(what, ids, reason) => {
                let of = if what == Deletable::Agent { IdOf::Agent } else { IdOf::Host };
                let ids = match ids::resolve(&services.pool, of, &ids).await {
                    Ok(ids) => ids,
                    Err(e) => return Ok(fail(code_of(&e), e)),
                };
                let noun = what.noun();
                match fleet::soft_delete(&services, what, &ids, reason.as_deref()).await {
                    Ok(out) => report(&out, noun, false, &out.summary_as("deleted", noun)),
                    Err(e) => fail(code_of(&e), e),
                }
            }
        };
        Ok(code)
    })
    .await
}

//! `fleetdeck fleet …`: act on cluster agents and hosts for scripts, on the same service functions
//! as the Fleet pane. Exit codes as `fleetdeck exec`: 0 done, 2 invalid, 3 changed concurrently,
//! 4 database unavailable.

use std::process::ExitCode;

use clap::Subcommand;
use color_eyre::eyre::Result;

use super::exec::{code_of, fail, parse_ids, report, INVALID, UNAVAILABLE};
use super::{require_current_schema, services};
use crate::config::Settings;
use crate::db::{Database, DbError, MigratePolicy};
use crate::service::fleet::{self, AgentStatus, HostStatus};

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Cluster agents (broker.agents)
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Edge hosts (edge.host)
    #[command(subcommand)]
    Host(HostCommand),
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Set agents ACTIVE: they fetch their deployment objects again
    Activate {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Set agents INACTIVE: they fetch nothing
    Deactivate {
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Set hosts Active
    Activate {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Set hosts Inactive (maintenance)
    Maintenance {
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

pub async fn run(settings: &Settings, cmd: FleetCommand) -> Result<ExitCode> {
    let raw = match &cmd {
        FleetCommand::Agent(AgentCommand::Activate { ids } | AgentCommand::Deactivate { ids }) => ids,
        FleetCommand::Host(HostCommand::Activate { ids } | HostCommand::Maintenance { ids }) => ids,
    };
    let ids = match parse_ids(raw) {
        Ok(ids) => ids,
        Err(e) => return Ok(fail(INVALID, e)),
    };
    let db = match Database::open(settings, MigratePolicy::Require).await {
        Ok(db) => db,
        Err(e @ (DbError::Connect { .. } | DbError::Server(_))) => return Ok(fail(UNAVAILABLE, e)),
        Err(e) => return Err(e.into()),
    };
    let outcome = async {
        require_current_schema(&db).await?;
        let services = services(&db, settings).await?;
        let (result, past, what) = match cmd {
            FleetCommand::Agent(AgentCommand::Activate { .. }) => {
                (fleet::set_agent_status(&services, &ids, AgentStatus::Active).await, "activated", "agent")
            }
            FleetCommand::Agent(AgentCommand::Deactivate { .. }) => {
                (fleet::set_agent_status(&services, &ids, AgentStatus::Inactive).await, "deactivated", "agent")
            }
            FleetCommand::Host(HostCommand::Activate { .. }) => {
                (fleet::set_host_status(&services, &ids, HostStatus::Active).await, "activated", "host")
            }
            FleetCommand::Host(HostCommand::Maintenance { .. }) => {
                (fleet::set_host_status(&services, &ids, HostStatus::Inactive).await, "in maintenance", "host")
            }
        };
        let code = match result {
            Ok(out) => report(&out, what, false, &out.summary_as(past, what)),
            Err(e) => fail(code_of(&e), e),
        };
        services.pool.close().await;
        Ok::<_, color_eyre::eyre::Report>(code)
    }
    .await;
    db.close().await?;
    outcome
}

//! What the dashboard and its workers say to each other: the app asks (`Request`, with a
//! `Command` for a one-shot call), the workers answer (`Reply`, a call's `Outcome`). The app
//! never awaits; the workers never touch the terminal. Neither side imports the other's code,
//! only this.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::broker::NewStack;
use crate::domain::execution::Verb;
use crate::domain::health::Thresholds;
use crate::service::listing::{self, Entity, Page, PageAt, Query};
use crate::service::{executions, fleet, stacks};

/// A page the app wants.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub entity: Entity,
    pub generation: u64,
    pub query: Query,
    pub at: PageAt,
    /// The list shows no rows for this query yet (a new filter, a new sort): answer a light
    /// page first when the list has one (`listing::page_light`), then the full page.
    pub light_first: bool,
}

/// The rows that changed in the window a table holds, since the database's `since`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeltaRequest {
    pub entity: Entity,
    pub generation: u64,
    pub query: Query,
    pub window: listing::Window,
    pub since: DateTime<Utc>,
}

/// Which server a call needs (issue 26): a hot standby serves reads; the primary serves writes
/// and what must be current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Lists, counts, catalogues, searches, details: the standby may serve it.
    Read,
    /// A read that a guarded change is about to compare against: the primary's own state.
    Current,
    /// A change: the primary; afterwards this process's reads wait for the standby to replay it.
    Write,
}

impl Command {
    pub fn access(&self) -> Access {
        match self {
            Command::Generators
            | Command::ExecutionDetail(_)
            | Command::StackDetail { .. }
            | Command::FleetSummary(..)
            | Command::TargetChoices { .. }
            | Command::Catalogue(_)
            | Command::MarketSearch { .. }
            | Command::MarketDetail { .. } => Access::Read,
            Command::AgentTags(_) | Command::StackYaml(_) => Access::Current,
            // A dry run writes nothing, but checks what it would write against the primary.
            Command::CreateStack { dry_run: true, .. } => Access::Current,
            Command::Executions { .. }
            | Command::Fleet { .. }
            | Command::CreateStack { .. }
            | Command::SetAgentTags { .. }
            | Command::SubmitObject { .. }
            | Command::Resubmit(_)
            | Command::SetTargets { .. }
            | Command::Deploy(_)
            | Command::Delete { .. } => Access::Write,
        }
    }
}

/// A one-shot service call.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Executions {
        verb: Verb,
        ids: Vec<Uuid>,
        reason: Option<String>,
    },
    Generators,
    ExecutionDetail(Uuid),
    /// A stack's detail, showing this object (None: the desired one).
    StackDetail {
        stack: Uuid,
        object: Option<Uuid>,
        thresholds: Thresholds,
        /// The dashboard's clock, which health is judged by.
        at: DateTime<Utc>,
    },
    /// Activate (or deactivate) cluster agents or hosts.
    Fleet {
        entity: Entity,
        active: bool,
        ids: Vec<Uuid>,
        /// Why (hosts into maintenance: recorded with who and when).
        reason: Option<String>,
    },
    CreateStack {
        stack: NewStack,
        generator: Uuid,
        dry_run: bool,
    },
    /// The fleet's health counts by these thresholds, at this clock.
    FleetSummary(Thresholds, DateTime<Utc>),
    /// An agent's labels and annotations.
    AgentTags(Uuid),
    /// Replace an agent's labels and annotations if they are still `expected`.
    SetAgentTags {
        agent: Uuid,
        expected: fleet::Tags,
        new: fleet::Tags,
    },
    /// A stack's desired object, to open the YAML editor on it.
    StackYaml(Uuid),
    /// Submit the editor's YAML as the stack's next object, if the desired one is still `over`.
    SubmitObject {
        stack: Uuid,
        yaml: String,
        over: Option<i64>,
    },
    /// Submit the stack's desired object again.
    Resubmit(Uuid),
    /// The live agents and which the stack targets, to open the picker.
    /// The agents a stack (None: a stack still to be made) may target, with their health.
    TargetChoices {
        stack: Option<Uuid>,
        thresholds: Thresholds,
        at: DateTime<Utc>,
    },
    SetTargets {
        stack: Uuid,
        add: Vec<Uuid>,
        remove: Vec<Uuid>,
    },
    /// Read a marketplace catalogue whole.
    Catalogue(crate::service::marketplace::Kind),
    /// Search a marketplace kind on the server (every field).
    MarketSearch {
        kind: crate::service::marketplace::Kind,
        query: String,
    },
    /// One marketplace item in full.
    MarketDetail {
        kind: crate::service::marketplace::Kind,
        id: String,
    },
    /// Deploy from the Marketplace (one transaction).
    Deploy(Box<crate::service::deploy::DeployRequest>),
    /// Soft-delete agents, hosts or stacks.
    Delete {
        what: fleet::Deletable,
        ids: Vec<Uuid>,
        reason: Option<String>,
    },
}

/// What the app asks of the workers.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Page(PageRequest),
    /// What changed in the rows held (cheaper than a page; the page is read when rows arrive).
    Delta(DeltaRequest),
    /// A one-shot call; `id` comes back with its result.
    Call {
        id: u64,
        command: Command,
    },
    /// Switch every session to read-only (or back).
    ReadOnly(bool),
    /// Remember the theme for the next start.
    SaveTheme(String),
}

/// The result of a one-shot call.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done: a message for the toast.
    Done(String),
    Generators(Vec<stacks::Generator>),
    ExecutionDetail(Box<executions::Detail>),
    StackDetail(Box<crate::service::rollouts::StackView>),
    Created {
        id: Uuid,
        dry_run: bool,
    },
    FleetSummary(fleet::Summary),
    AgentTags {
        agent: Uuid,
        name: String,
        tags: fleet::Tags,
    },
    StackYaml {
        stack: Uuid,
        name: String,
        over: Option<i64>,
        yaml: String,
    },
    TargetChoices {
        stack: Option<Uuid>,
        name: String,
        agents: Vec<crate::service::rollouts::AgentChoice>,
    },
    Catalogue(Arc<crate::domain::catalogue::Catalogue>),
    MarketSearch {
        query: String,
        ids: Vec<String>,
    },
    MarketDetail(Box<crate::service::market_detail::Detail>),
    Deployed(Box<crate::service::deploy::Deployed>),
    /// The service refused or failed; `field` names the form field when it is about one.
    Failed {
        message: String,
        field: Option<String>,
    },
}

/// What comes back to the app's loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Page {
        entity: Entity,
        generation: u64,
        at: PageAt,
        result: Result<Page, String>,
        when: DateTime<Utc>,
    },
    Delta {
        entity: Entity,
        generation: u64,
        result: Result<listing::Delta, String>,
        when: DateTime<Utc>,
    },
    Called {
        id: u64,
        outcome: Outcome,
    },
    /// The database could not be reached: since when, and the next try.
    Lost {
        since: DateTime<Utc>,
        retry_in: Duration,
        error: String,
    },
    /// The database answers again.
    Connected,
    ReadOnly {
        on: bool,
        error: Option<String>,
    },
    /// Another client changed a list (a NOTIFY on `fleetdeck_changes`, or the change clock).
    Changed(Entity),
    /// Where reads go now, when a hot standby is configured: it changed.
    Reads(crate::db::replica::ReadsFrom),
}

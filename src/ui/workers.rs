//! Work the dashboard does off its loop: one poller per list (one query in flight; a newer
//! request replaces a waiting one; results tagged with the request's generation so the app drops
//! stale ones; reconnects with backoff 250 ms → 500 ms) and one-shot service calls whose results
//! come back as events. Nothing here touches the terminal.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

// The protocol's types stay reachable where they were first defined.
use super::feed::{change_clock, current, listener, watch_standby};
pub use super::feed::{changed_entity, next_backoff, BACKOFF_FIRST, BACKOFF_MAX, CHANGES_CHANNEL, NOTIFIED};
pub use super::protocol::{Access, Command, DeltaRequest, Outcome, PageRequest, Reply, Request};
use crate::db::pool::{Connector, PoolSettings};
use crate::domain::execution::Verb;
use crate::service::listing::{self, Entity, Page};
use crate::service::names::{Names, Narrowed};
use crate::service::{executions, fleet, rollouts, stacks, Error, Services};

/// Rows per page request.
pub const PAGE_ROWS: i64 = 200;

/// How far back a delta read looks before its `since`: changes committed late by long
/// transactions are not missed.
pub const DELTA_OVERLAP: Duration = Duration::from_secs(2);

/// A delta reads at most this many changed rows (and, where the change time is indexed, counts
/// at most this many in the table): past it, the page is read whole. About 5 ms of the
/// database's time at a million executions, a third of a whole read there (BENCHMARKS.md).
pub const DELTA_LIMIT: i64 = 5_000;

/// What a poller reads.
#[derive(Debug, Clone, PartialEq)]
enum Poll {
    Page(PageRequest),
    Delta(DeltaRequest),
}

impl Poll {
    fn entity(&self) -> Entity {
        match self {
            Poll::Page(p) => p.entity,
            Poll::Delta(d) => d.entity,
        }
    }
}

/// The running workers: send requests, receive replies on the channel given to [`Workers::start`].
pub struct Workers {
    services: Arc<RwLock<Services>>,
    connector: Option<Connector>,
    replies: mpsc::UnboundedSender<Reply>,
    pollers: HashMap<Entity, watch::Sender<Option<Poll>>>,
    state_file: Option<PathBuf>,
    /// The change feed (listener or clock) and the standby's watch.
    feed: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        for task in &self.feed {
            task.abort();
        }
    }
}

impl Workers {
    pub fn start(
        services: Services,
        connector: Option<Connector>,
        state_file: Option<PathBuf>,
        replies: mpsc::UnboundedSender<Reply>,
    ) -> Workers {
        let replica = services.replica.clone();
        let shared = Arc::new(RwLock::new(services));
        let mut feed = Vec::new();
        // LISTEN where a session of its own on the primary can be had; else the change clock.
        feed.push(match connector.as_ref().map(|c| (c.direct.clone(), &c.settings)) {
            None if current(&shared).pool.is_pooled() => tokio::spawn(change_clock(shared.clone(), replies.clone())),
            None => tokio::spawn(listener(current(&shared).pool, replies.clone())),
            Some((Some(direct), settings)) => {
                let session = PoolSettings { pooled: false, max_connections: 1, read_only: false, ..settings.clone() };
                tokio::spawn(listener(crate::db::pool::connect_lazy(direct, &session, None), replies.clone()))
            }
            Some((None, _)) => tokio::spawn(change_clock(shared.clone(), replies.clone())),
        });
        if let Some(replica) = replica {
            feed.push(tokio::spawn(watch_standby(replica, replies.clone())));
        }
        Workers { services: shared, connector, replies, pollers: HashMap::new(), state_file, feed }
    }

    fn services(&self) -> Services {
        current(&self.services)
    }

    fn poll(&mut self, poll: Poll) {
        let sender = self.pollers.entry(poll.entity()).or_insert_with(|| {
            let (tx, rx) = watch::channel(None);
            tokio::spawn(poller(self.services.clone(), rx, self.replies.clone()));
            tx
        });
        // The newest request replaces one that has not started yet.
        sender.send_replace(Some(poll));
    }

    /// Hand a request over. Never waits.
    pub fn send(&mut self, request: Request) {
        match request {
            Request::Page(page) => self.poll(Poll::Page(page)),
            Request::Delta(delta) => self.poll(Poll::Delta(delta)),
            Request::Call { id, command } => {
                let services = self.services();
                let replies = self.replies.clone();
                tokio::spawn(async move {
                    let outcome = call(&services, command).await;
                    let _ = replies.send(Reply::Called { id, outcome });
                });
            }
            Request::ReadOnly(on) => {
                let shared = self.services.clone();
                let connector = self.connector.clone();
                let replies = self.replies.clone();
                tokio::spawn(async move {
                    let error = match connector {
                        None => Some("this connection cannot be reopened read-only".to_string()),
                        Some(c) => match c.connect(on).await {
                            Ok(pool) => {
                                let old = match shared.write() {
                                    Ok(mut s) => Some(std::mem::replace(&mut s.pool, pool)),
                                    Err(_) => None,
                                };
                                if let Some(old) = old {
                                    old.close().await;
                                }
                                None
                            }
                            Err(e) => Some(format!("could not reconnect: {e}")),
                        },
                    };
                    if let Some(e) = &error {
                        tracing::warn!(error = %e, on, "switching read-only mode failed");
                    } else {
                        tracing::info!(on, "read-only mode switched");
                    }
                    let _ = replies.send(Reply::ReadOnly { on, error });
                });
            }
            Request::SaveTheme(name) => {
                if let Some(path) = &self.state_file {
                    if let Err(e) = crate::config::remember_theme(path, &name) {
                        tracing::warn!(error = %e, path = %path.display(), "could not remember the theme");
                    }
                }
            }
        }
    }
}

/// A verb's result for the toast: good news when every row moved, else a warning that says
/// what did not (skipped, refused, lost races with the winning state).
pub fn executions_outcome(verb: Verb, out: &executions::BulkOutcome) -> Outcome {
    let all_done = out.rows.iter().all(|(_, r)| matches!(r, executions::RowOutcome::Done { .. }));
    if all_done {
        Outcome::Done(out.summary(verb))
    } else {
        Outcome::Failed { message: out.summary(verb), field: None }
    }
}

/// Run one service call and say how it went (what a `Request::Call` does, without the channel):
/// a read on the standby when one serves, else on the primary; after a change, this process's
/// reads stay on the primary until the standby has replayed it.
pub async fn call(services: &Services, command: Command) -> Outcome {
    match command.access() {
        Access::Read => run_call(&services.reading(), command).await,
        Access::Current => run_call(services, command).await,
        Access::Write => {
            let outcome = run_call(services, command).await;
            services.wrote().await;
            outcome
        }
    }
}

async fn run_call(services: &Services, command: Command) -> Outcome {
    let failed = |e: Error| {
        tracing::warn!(error = %e, "service call failed");
        let field = match &e {
            Error::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        };
        Outcome::Failed { message: e.to_string(), field }
    };
    match command {
        Command::Executions { verb, ids, reason } => {
            match executions::act(services, verb, &ids, reason.as_deref()).await {
                Ok(out) => executions_outcome(verb, &out),
                Err(e) => failed(e),
            }
        }
        Command::FleetSummary(t, at) => {
            fleet::summary(services, &t, Some(at)).await.map(Outcome::FleetSummary).unwrap_or_else(failed)
        }
        Command::AgentTags(agent) => fleet::agent_tags(services, agent)
            .await
            .map(|(name, tags)| Outcome::AgentTags { agent, name, tags })
            .unwrap_or_else(failed),
        Command::SetAgentTags { agent, expected, new } => {
            match fleet::set_agent_tags(services, agent, &expected, &new).await {
                Ok(executions::RowOutcome::Done { .. }) => Outcome::Done("labels and annotations saved".into()),
                Ok(executions::RowOutcome::Skipped { .. }) => Outcome::Done("nothing changed".into()),
                Ok(executions::RowOutcome::Lost { now }) => Outcome::Failed {
                    message: format!(
                        "someone else changed them since the form opened; now {now} (esc, then e to start again)"
                    ),
                    field: None,
                },
                Ok(_) => Outcome::Failed { message: "the agent is gone (deleted)".into(), field: None },
                Err(e) => failed(e),
            }
        }
        Command::StackYaml(stack) => match rollouts::desired(services, stack).await {
            Ok((s, object)) => {
                let (over, yaml) = object.map_or((None, String::new()), |(seq, yaml)| (Some(seq), yaml));
                Outcome::StackYaml { stack, name: s.name, over, yaml }
            }
            Err(e) => failed(e),
        },
        Command::SubmitObject { stack, yaml, over } => {
            match rollouts::submit_over(services, stack, &yaml, over).await {
                Ok(s) => Outcome::Done(format!(
                    "sequence {} submitted (sha256 {}…), replacing {}",
                    s.object.sequence_id,
                    &s.object.yaml_checksum[..12],
                    s.previous.map_or("nothing".to_string(), |p| format!("#{p}"))
                )),
                Err(e) => failed(e),
            }
        }
        Command::Resubmit(stack) => match rollouts::resubmit(services, &stack.to_string()).await {
            Ok(s) => Outcome::Done(format!(
                "#{} submitted again as sequence {}: every agent reconciles",
                s.previous.unwrap_or_default(),
                s.object.sequence_id
            )),
            Err(e) => failed(e),
        },
        Command::TargetChoices { stack, thresholds, at } => {
            let name = match stack {
                Some(id) => rollouts::find_stack(services, &id.to_string()).await.map(|s| s.name),
                None => Ok(String::new()),
            };
            match (name, rollouts::target_choices(services, stack, &thresholds, at).await) {
                (Ok(name), Ok(agents)) => Outcome::TargetChoices { stack, name, agents },
                (Err(e), _) | (_, Err(e)) => failed(e),
            }
        }
        Command::SetTargets { stack, add, remove } => {
            match rollouts::set_targets(services, &stack.to_string(), &add, &remove).await {
                Ok(change) => Outcome::Done(change.describe()),
                Err(e) => failed(e),
            }
        }
        Command::Catalogue(kind) => match crate::service::marketplace::catalogue(services, kind).await {
            Ok(c) => Outcome::Catalogue(Arc::new(c)),
            Err(e) => failed(e),
        },
        Command::MarketSearch { kind, query } => {
            match crate::service::market_search::search(services, kind, &query).await {
                Ok(ids) => Outcome::MarketSearch { query, ids },
                Err(e) => failed(e),
            }
        }
        Command::MarketDetail { kind, id } => crate::service::market_detail::detail(services, kind, &id)
            .await
            .map(|d| Outcome::MarketDetail(Box::new(d)))
            .unwrap_or_else(failed),
        Command::Deploy(request) => {
            let result = match *request {
                crate::service::deploy::DeployRequest::Package(p) => {
                    crate::service::deploy::package(services, &p).await
                }
                crate::service::deploy::DeployRequest::App(a) => crate::service::deploy::app(services, &a).await,
            };
            result.map(|d| Outcome::Deployed(Box::new(d))).unwrap_or_else(failed)
        }
        Command::Delete { what, ids, reason } => {
            match fleet::soft_delete(services, what, &ids, reason.as_deref()).await {
                Ok(out) => {
                    let summary = out.summary_as("deleted", what.noun());
                    if out.rows.iter().all(|(_, r)| matches!(r, executions::RowOutcome::Done { .. })) {
                        Outcome::Done(summary)
                    } else {
                        Outcome::Failed { message: summary, field: None }
                    }
                }
                Err(e) => failed(e),
            }
        }
        Command::Fleet { entity, active, ids, reason } => {
            use crate::service::fleet::{AgentStatus, HostStatus};
            let (result, past, what) = match (entity, active) {
                (Entity::Hosts, true) => {
                    (fleet::set_host_status(services, &ids, HostStatus::Active, None).await, "activated", "host")
                }
                (Entity::Hosts, false) => {
                    let r = fleet::set_host_status(services, &ids, HostStatus::Inactive, reason.as_deref()).await;
                    (r, "in maintenance", "host")
                }
                (_, true) => (fleet::set_agent_status(services, &ids, AgentStatus::Active).await, "activated", "agent"),
                (_, false) => {
                    (fleet::set_agent_status(services, &ids, AgentStatus::Inactive).await, "deactivated", "agent")
                }
            };
            match result {
                Ok(out) => {
                    let summary = out.summary_as(past, what);
                    if out.rows.iter().all(|(_, r)| matches!(r, executions::RowOutcome::Done { .. })) {
                        Outcome::Done(summary)
                    } else {
                        Outcome::Failed { message: summary, field: None }
                    }
                }
                Err(e) => failed(e),
            }
        }
        Command::Generators => stacks::generators(services).await.map(Outcome::Generators).unwrap_or_else(failed),
        Command::StackDetail { stack, object, thresholds, at } => {
            crate::service::rollouts::stack_view(services, stack, object, &thresholds, Some(at))
                .await
                .map(|v| Outcome::StackDetail(Box::new(v)))
                .unwrap_or_else(failed)
        }
        Command::ExecutionDetail(id) => {
            executions::detail(services, id).await.map(|d| Outcome::ExecutionDetail(Box::new(d))).unwrap_or_else(failed)
        }
        Command::CreateStack { stack, generator, dry_run } => stacks::create(services, &stack, generator, dry_run)
            .await
            .map(|id| Outcome::Created { id, dry_run })
            .unwrap_or_else(failed),
    }
}

/// How a poller reads its list's pages: narrowed by the names in memory when the list keeps
/// them (`names::Names`) and the filter allows.
#[derive(Default)]
pub struct PageReader {
    names: Option<Names>,
}

impl PageReader {
    async fn narrowed(&mut self, pool: &crate::db::handle::Db, p: &PageRequest) -> Result<Option<Narrowed>, Error> {
        Ok(match &mut self.names {
            Some(n) if !p.query.filter.is_none() => {
                n.refresh(pool).await?;
                n.narrow(&p.query.filter)
            }
            _ => None,
        })
    }

    pub async fn read(&mut self, pool: &crate::db::handle::Db, p: &PageRequest) -> Result<Page, Error> {
        let narrowed = self.narrowed(pool, p).await?;
        listing::page_within(pool, p.entity, &p.query, &p.at, PAGE_ROWS, narrowed.as_ref()).await
    }

    /// The light page, when the request wants one first and the list has one.
    pub async fn read_light(&mut self, pool: &crate::db::handle::Db, p: &PageRequest) -> Result<Option<Page>, Error> {
        if !p.light_first || !listing::has_light(p.entity, &p.query) {
            return Ok(None);
        }
        let narrowed = self.narrowed(pool, p).await?;
        listing::page_light(pool, p.entity, &p.query, &p.at, PAGE_ROWS, narrowed.as_ref()).await
    }

    /// After a page is answered: read the list's names once, if it keeps them, so that the
    /// first filter keystroke finds them in memory.
    pub async fn answered(&mut self, pool: &crate::db::handle::Db, entity: Entity) {
        if self.names.is_some() || !Names::kept(entity) {
            return;
        }
        match Names::load(pool, entity).await {
            Ok(loaded) => self.names = loaded,
            Err(e) => tracing::warn!(error = %e, ?entity, "reading the names failed"),
        }
    }
}

/// What a poller read.
enum Answer {
    Page(Page),
    Delta(listing::Delta),
}

/// Wait `wait` before trying `request` again, or less when a newer request arrives (it then
/// replaces `request`). False when the requests' sender is gone: the poller ends.
async fn wait_or_newer(wait: Duration, requests: &mut watch::Receiver<Option<Poll>>, request: &mut Poll) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(wait) => true,
        changed = requests.changed() => {
            if changed.is_err() {
                return false;
            }
            if let Some(newer) = requests.borrow_and_update().clone() {
                *request = newer;
            }
            true
        }
    }
}

/// One list's poller: runs the newest request, one at a time; on a lost database it reports,
/// waits (250 ms, then 500 ms, or until a newer request) and tries again.
async fn poller(
    services: Arc<RwLock<Services>>,
    mut requests: watch::Receiver<Option<Poll>>,
    replies: mpsc::UnboundedSender<Reply>,
) {
    let mut backoff: Option<Duration> = None;
    let mut lost_since: Option<DateTime<Utc>> = None;
    let mut pages = PageReader::default();
    while requests.changed().await.is_ok() {
        let Some(mut request) = requests.borrow_and_update().clone() else { continue };
        loop {
            let now = current(&services);
            let read = now.read_pool();
            let standby = now.replica.clone().filter(|_| !std::ptr::eq(read, &now.pool));
            let pool = read.clone();
            // A delta on a standby sees what it has replayed, up to its lag limit behind the
            // time it says: look back that much further.
            let overlap = DELTA_OVERLAP + now.replica.as_ref().map_or(Duration::ZERO, |r| r.max_lag);
            // A new query's rows at once, without the costly cells; the full page follows
            // unless a newer request already waits (typing on).
            if let Poll::Page(p) = &request {
                if let Ok(Some(page)) = pages.read_light(&pool, p).await {
                    let (entity, generation, at) = (p.entity, p.generation, p.at.clone());
                    let _ = replies.send(Reply::Page { entity, generation, at, result: Ok(page), when: Utc::now() });
                    if requests.has_changed().unwrap_or(false) {
                        break;
                    }
                }
            }
            let result = match &request {
                Poll::Page(p) => pages.read(&pool, p).await.map(Answer::Page),
                Poll::Delta(d) => listing::delta(&pool, d.entity, &d.query, &d.window, d.since, overlap, DELTA_LIMIT)
                    .await
                    .map(Answer::Delta),
            };
            let when = Utc::now();
            match result {
                // The standby failed the read. Gone: the primary answers it now. Only busy (it
                // answers a connection of its own): the read waits and goes to it again, rather
                // than every dashboard of an overloaded standby loading the primary at once.
                Err(Error::Unavailable(error)) if standby.is_some() => {
                    if let Some(r) = &standby {
                        if r.failed_read(error.clone()).await {
                            tracing::warn!(%error, "the standby does not answer; reading the primary");
                        } else {
                            let wait = next_backoff(backoff);
                            backoff = Some(wait);
                            tracing::warn!(%error, retry_in = ?wait, "the standby is busy; reading it again");
                            if !wait_or_newer(wait, &mut requests, &mut request).await {
                                return;
                            }
                        }
                    }
                }
                Err(Error::Unavailable(error)) => {
                    let wait = next_backoff(backoff);
                    backoff = Some(wait);
                    let since = *lost_since.get_or_insert(when);
                    tracing::warn!(%error, retry_in = ?wait, "database unavailable");
                    let _ = replies.send(Reply::Lost { since, retry_in: wait, error });
                    if !wait_or_newer(wait, &mut requests, &mut request).await {
                        return;
                    }
                }
                result => {
                    // Answered: the next wait (a lost database, a busy standby) starts short.
                    backoff = None;
                    if let (Some(r), Ok(_)) = (&standby, &result) {
                        r.answered();
                    }
                    if lost_since.take().is_some() {
                        tracing::info!("database reachable again");
                        let _ = replies.send(Reply::Connected);
                    }
                    if let Err(e) = &result {
                        tracing::warn!(error = %e, entity = ?request.entity(), "list query failed");
                    }
                    let request_entity = request.entity();
                    let reply = match request {
                        Poll::Page(p) => Reply::Page {
                            entity: p.entity,
                            generation: p.generation,
                            at: p.at,
                            result: match result {
                                Ok(Answer::Page(page)) => Ok(page),
                                Ok(Answer::Delta(_)) => Err("a page was asked for".into()),
                                Err(e) => Err(e.to_string()),
                            },
                            when,
                        },
                        Poll::Delta(d) => Reply::Delta {
                            entity: d.entity,
                            generation: d.generation,
                            result: match result {
                                Ok(Answer::Delta(delta)) => Ok(delta),
                                Ok(Answer::Page(_)) => Err("a delta was asked for".into()),
                                Err(e) => Err(e.to_string()),
                            },
                            when,
                        },
                    };
                    let _ = replies.send(reply);
                    pages.answered(&pool, request_entity).await;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_250ms_to_500ms() {
        let mut d = None;
        let mut seen = Vec::new();
        for _ in 0..8 {
            let next = next_backoff(d);
            seen.push(next.as_millis());
            d = Some(next);
        }
        assert_eq!(seen, [250, 500, 500, 500, 500, 500, 500, 500]);
    }
}

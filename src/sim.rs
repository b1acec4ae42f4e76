//! `fleetdeck simulate`: keeps a demo database moving. Hosts and agents heartbeat on their
//! interval; a fraction falls silent (stale, then offline) and comes back; executions advance
//! along the workers' transitions; agents report deploy events; now and then a stack gets a new
//! deployment object.

use std::time::Duration;

use crate::db::handle::Db;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use crate::service::sim::{self, Rates, TickStats};
use crate::service::Result;

/// How the simulation behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Time between ticks.
    pub tick: Duration,
    /// The heartbeat interval of hosts and agents (the broker's default is 30 s).
    pub heartbeat_interval: Duration,
    /// Share of active hosts and agents that are silent at any time (stale or offline).
    pub silent_fraction: f64,
    /// Submit a new deployment object every this many ticks (0: never).
    pub deploy_every: u64,
    pub rates: Rates,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tick: Duration::from_secs(1),
            heartbeat_interval: Duration::from_secs(30),
            silent_fraction: 0.05,
            deploy_every: 10,
            rates: Rates { executions: 5, new_executions: 5, events: 200, failure_share: 0.1 },
        }
    }
}

/// The simulation's memory between ticks: who is silent until which tick.
pub struct State {
    pub tick: u64,
    silent_hosts: Vec<(Uuid, u64)>,
    silent_agents: Vec<(Uuid, u64)>,
    rng: ChaCha8Rng,
    /// Active hosts and agents, recounted now and then.
    active: (i64, i64),
    pub totals: TickStats,
}

impl State {
    pub fn new(seed: u64) -> State {
        State {
            tick: 0,
            silent_hosts: Vec::new(),
            silent_agents: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            active: (0, 0),
            totals: TickStats::default(),
        }
    }

    pub fn silent(&self) -> (usize, usize) {
        (self.silent_hosts.len(), self.silent_agents.len())
    }
}

/// One tick: every step is its own short transaction.
pub async fn tick(pool: &Db, state: &mut State, opts: &Options) -> Result<TickStats> {
    state.tick += 1;
    let now = state.tick;
    let mut stats = TickStats::default();
    let ticks_per_s = 1.0 / opts.tick.as_secs_f64().max(0.001);

    // Silence: let the expired speak again, and top the silent set up to its share.
    state.silent_hosts.retain(|(_, until)| *until > now);
    state.silent_agents.retain(|(_, until)| *until > now);
    if now % 60 == 1 {
        state.active = sim::active_counts(pool).await?;
    }
    let (hosts, agents) = state.active;
    let want_h = ((hosts as f64) * opts.silent_fraction) as i64 - state.silent_hosts.len() as i64;
    let want_a = ((agents as f64) * opts.silent_fraction) as i64 - state.silent_agents.len() as i64;
    if want_h > 0 || want_a > 0 {
        let (h, a) = sim::pick_silent(pool, want_h.max(0), want_a.max(0)).await?;
        let interval = opts.heartbeat_interval.as_secs_f64();
        for (ids, silent) in [(h, &mut state.silent_hosts), (a, &mut state.silent_agents)] {
            for id in ids {
                // Most go stale for a few intervals; some stay away past the offline threshold.
                let secs = if state.rng.random_bool(0.7) {
                    state.rng.random_range(2.0 * interval..9.0 * interval)
                } else {
                    state.rng.random_range(300.0..900.0)
                };
                silent.push((id, now + (secs * ticks_per_s).ceil() as u64));
            }
        }
    }
    let sh: Vec<Uuid> = state.silent_hosts.iter().map(|s| s.0).collect();
    let sa: Vec<Uuid> = state.silent_agents.iter().map(|s| s.0).collect();
    let (h, a) = sim::heartbeats(pool, opts.heartbeat_interval.as_secs_f64(), &sh, &sa).await?;
    stats.host_heartbeats = h;
    stats.agent_heartbeats = a;

    sim::executions(pool, &opts.rates, &mut stats).await?;
    sim::report_events(pool, &opts.rates, &mut stats).await?;
    if opts.deploy_every > 0 && now.is_multiple_of(opts.deploy_every) {
        sim::submit_deployment(pool, &mut stats).await?;
    }
    state.totals += stats;
    Ok(stats)
}

/// What the simulator is doing, for the status bar: the truth at all times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Starting,
    Running,
    /// The last tick failed (the database went away, say); it tries again every tick.
    Failing {
        error: String,
    },
    /// It will not tick again.
    Stopped {
        why: String,
    },
}

impl Status {
    /// `simulator running`, `simulator failing: … (retrying)`, `simulator stopped: …`.
    pub fn describe(&self) -> String {
        match self {
            Status::Starting => "simulator starting".into(),
            Status::Running => "simulator running".into(),
            Status::Failing { error } => {
                format!("simulator failing, retrying: {}", crate::domain::text::sanitize_cell(error, 60))
            }
            Status::Stopped { why } => format!("simulator stopped: {}", crate::domain::text::sanitize_cell(why, 60)),
        }
    }
}

/// Tick until `stop` resolves, saying how it goes on `status`. A failed tick (the database went
/// away) is logged and retried on the next one; a closed pool (nothing can bring it back) stops
/// the simulator and says so.
pub async fn run(
    pool: &Db,
    opts: &Options,
    seed: u64,
    status: tokio::sync::watch::Sender<Status>,
    stop: impl std::future::Future<Output = ()>,
) -> State {
    let mut state = State::new(seed);
    let mut interval = tokio::time::interval(opts.tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(stop);
    let why = loop {
        tokio::select! {
            _ = &mut stop => break "the dashboard quit".to_string(),
            _ = interval.tick() => match tick(pool, &mut state, opts).await {
                Ok(_) => {
                    status.send_if_modified(|s| std::mem::replace(s, Status::Running) != Status::Running);
                }
                Err(e) if pool.is_closed() => {
                    tracing::error!(error = %e, "simulator stopped: its pool was closed");
                    break format!("its connection pool was closed ({e})");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "simulator tick failed; trying again next tick");
                    status.send_replace(Status::Failing { error: e.to_string() });
                }
            },
        }
    };
    status.send_replace(Status::Stopped { why });
    state
}

//! Command-line interface: parse arguments, pick a command. Headless verbs call the same service
//! functions as the dashboard.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use color_eyre::eyre::{Report, Result};

mod archive;
mod doctor;
mod exec;
pub mod exit;
mod fleet;
mod import;
mod market;
pub mod out;
mod rollout;
mod wiring;

pub use wiring::{connector, replica, services};
use wiring::{dashboard_services, own_pool};
pub(crate) use wiring::{require_current_schema, with_services};

use crate::config::{ConfigError, Overrides, Settings};
use crate::db::embedded::ServerError;
use crate::db::{migrate, Database, DbError, MigratePolicy, Target};
use crate::service;
use crate::ui::app::Tab;
use crate::ui::keymap::{Keymap, KeymapError};
use crate::ui::theme::{Theme, ThemeError};

#[derive(Debug, Parser)]
#[command(
    name = "fleetdeck",
    version,
    about = "A terminal dashboard to watch and steer an orchestration platform whose state lives in PostgreSQL",
    long_about = "A terminal dashboard to watch and steer an orchestration platform whose state lives in PostgreSQL.\n\n\
        Without a command, opens the dashboard. Without DATABASE_URL (or database.url), fleetdeck starts \
        its own PostgreSQL server on a Unix socket and stops it when the last fleetdeck exits."
)]
pub struct Cli {
    /// Configuration file (default: $XDG_CONFIG_HOME/fleetdeck/config.toml)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// PostgreSQL URL; overrides DATABASE_URL and database.url
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Act as this platform user: every query runs under the seed's row-level security
    #[arg(long = "as", global = true, value_name = "EMAIL")]
    pub as_user: Option<String>,

    /// Log file (default: $XDG_STATE_HOME/fleetdeck/fleetdeck.log)
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,

    /// Log level or tracing filter (error, warn, info, debug, trace, or e.g. fleetdeck=debug)
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,

    /// Read-only: write verbs are disabled and database sessions are read-only
    #[arg(long, global = true)]
    pub readonly: bool,

    /// The pane the dashboard opens on
    #[arg(long, global = true, value_enum, value_name = "PANE", default_value = "marketplace")]
    pub tab: Tab,

    /// Panic after the first frame (tests that the terminal is restored on a crash)
    #[arg(long, global = true, hide = true)]
    pub debug_panic: bool,

    /// Run the dashboard for SECONDS without a terminal and without drawing: its pollers, change
    /// feed and standby watch only (the benchmark of a hundred dashboards)
    #[arg(long, hide = true, value_name = "SECONDS")]
    pub headless: Option<u64>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the schema's migrations (a second run changes nothing)
    Migrate,
    /// Check the configuration, the database and the schema; exit non-zero when something is wrong
    Doctor,
    /// Import published data: Helm repository indexes, cloud instance prices, Margo app descriptions
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Workflow executions: list, show, pause, resume, cancel, retry (exit 2 invalid, 3 conflict, 4 unavailable)
    #[command(subcommand)]
    Exec(exec::ExecCommand),
    /// Cluster agents and hosts: list them by health, activate, deactivate, maintenance (exit codes as exec)
    #[command(subcommand)]
    Fleet(fleet::FleetCommand),
    /// Stacks' rollouts: list, status (exit 0 complete, 5 in progress, 6 failing, 7 unreached), submit a new version
    #[command(subcommand)]
    Rollout(rollout::RolloutCommand),
    /// The marketplace: search packages, apps, solutions, agents and compute offers (exit 1 when nothing matches)
    #[command(subcommand)]
    Market(market::MarketCommand),
    /// Seed 001's archival, once: final executions older than archive.move_after to the archive,
    /// archived ones older than archive.delete_after and audit rows older than archive.audit_after deleted
    Archive(archive::ArchiveArgs),
    /// Fill an empty database with a believable demo platform (deterministic for a given seed)
    Seed {
        /// Generate the demo data set (the only kind there is)
        #[arg(long, required = true)]
        demo: bool,
        /// small: a few hundred of each; large: 100,000 hosts, 20,000 agents, 1,000,000 executions
        #[arg(long, value_enum, default_value = "small")]
        scale: crate::import::demo::Scale,
        /// The random seed: the same seed gives the same data
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Keep a demo database moving until Ctrl-C: heartbeats, executions, deploy events, new versions
    Simulate(SimulateArgs),
    /// The demo: start (or use) the database, migrate, seed the small demo if empty, run the simulator and open the dashboard
    Demo(SimulateArgs),
    /// Stop fleetdeck's own server once no fleetdeck uses it (started by fleetdeck itself)
    #[command(hide = true)]
    KeepServer {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        bin_dir: PathBuf,
        #[arg(long)]
        server_user: String,
    },
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

/// The simulator's rates.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Time between ticks
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub tick: std::time::Duration,
    /// Heartbeat interval of hosts and agents
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub heartbeat_interval: std::time::Duration,
    /// Share of active hosts and agents that are silent (stale or offline) at any time, 0 to 1
    #[arg(long, default_value_t = 0.05, value_parser = fraction)]
    pub silent_fraction: f64,
    /// Executions moved forward per status per tick
    #[arg(long, default_value_t = 5)]
    pub executions: i64,
    /// New queued executions per tick
    #[arg(long, default_value_t = 5)]
    pub new_executions: i64,
    /// Deploy events reported per tick at most
    #[arg(long, default_value_t = 200)]
    pub events: i64,
    /// Share of failures among finished executions and deploy events, 0 to 1
    #[arg(long, default_value_t = 0.1, value_parser = fraction)]
    pub failure_share: f64,
    /// Submit a new deployment object every N ticks (0: never)
    #[arg(long, default_value_t = 10)]
    pub deploy_every: u64,
    /// Random seed of the simulation
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("{s:?} is not a number from 0 to 1")),
    }
}

impl SimulateArgs {
    pub fn options(&self) -> crate::sim::Options {
        crate::sim::Options {
            tick: self.tick.max(std::time::Duration::from_millis(10)),
            heartbeat_interval: self.heartbeat_interval,
            silent_fraction: self.silent_fraction,
            deploy_every: self.deploy_every,
            rates: crate::service::sim::Rates {
                executions: self.executions.max(0),
                new_executions: self.new_executions.max(0),
                events: self.events.max(0),
                failure_share: self.failure_share,
            },
        }
    }
}

/// Errors whose message says all a person needs (printed without a backtrace).
pub fn is_user_facing(report: &Report) -> bool {
    report.downcast_ref::<ConfigError>().is_some()
        || report.downcast_ref::<DbError>().is_some()
        || report.downcast_ref::<ServerError>().is_some()
        || report.downcast_ref::<service::Error>().is_some()
        || report.downcast_ref::<ThemeError>().is_some()
        || report.downcast_ref::<crate::logging::LogError>().is_some()
        || report.downcast_ref::<SchemaError>().is_some()
        || report.downcast_ref::<crate::import::InputError>().is_some()
        || report.downcast_ref::<crate::ui::tui::NotATerminal>().is_some()
        || report.downcast_ref::<KeymapError>().is_some()
        || report.downcast_ref::<ReadOnlyRefusal>().is_some()
}

/// A command that writes was started in read-only mode.
#[derive(Debug, thiserror::Error)]
#[error("read-only mode (--readonly or readonly = true): `fleetdeck {0}` writes to the database; run it without read-only mode")]
pub struct ReadOnlyRefusal(&'static str);

/// The database's schema is not the one this fleetdeck needs.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SchemaError(String);

pub async fn run(cli: Cli) -> Result<ExitCode> {
    if let Some(Command::Completions { shell }) = cli.command {
        // Into memory first: clap_complete panics when its writer fails (`| head`).
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "fleetdeck", &mut script);
        out::stdout(&script);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(Command::KeepServer { data_dir, bin_dir, server_user }) = cli.command {
        // No configuration and no log of its own: it only watches a lock and stops a server.
        return Ok(
            match tokio::task::spawn_blocking(move || crate::db::keeper::keep(data_dir, bin_dir, &server_user)).await? {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => ExitCode::from(exit::of_report(&e.into())),
            },
        );
    }
    let overrides = Overrides {
        config_file: cli.config.clone(),
        database_url: cli.database_url.clone(),
        user: cli.as_user.clone(),
        log_file: cli.log_file.clone(),
        log_level: cli.log_level.clone(),
        readonly: cli.readonly,
    };
    let settings = Settings::load(&overrides)?;
    let _log_guard = crate::logging::init(&settings.log_file, &settings.log_level)?;
    tracing::info!(version = env!("CARGO_PKG_VERSION"), command = ?cli.command, "fleetdeck starting");

    if settings.readonly {
        let writer = match &cli.command {
            Some(Command::Migrate) => Some("migrate"),
            Some(Command::Import(_)) => Some("import"),
            Some(Command::Seed { .. }) => Some("seed"),
            Some(Command::Archive(_)) => Some("archive"),
            Some(Command::Simulate(_)) => Some("simulate"),
            Some(Command::Demo(_)) => Some("demo"),
            _ => None,
        };
        if let Some(verb) = writer {
            return Err(ReadOnlyRefusal(verb).into());
        }
        // Verbs for scripts exit as their kind says: 2, not allowed.
        let verb = match &cli.command {
            Some(Command::Exec(cmd)) => cmd.writes(),
            Some(Command::Fleet(cmd)) => cmd.writes(),
            Some(Command::Rollout(cmd)) => cmd.writes(),
            _ => None,
        };
        if let Some(verb) = verb {
            return Ok(exec::fail(exec::INVALID, ReadOnlyRefusal(verb)));
        }
    }
    match cli.command {
        None => {
            let debug = crate::ui::tui::Debug {
                panic_after_first_frame: cli.debug_panic,
                headless: cli.headless.map(std::time::Duration::from_secs),
            };
            dashboard(&settings, cli.tab, debug).await
        }
        Some(Command::Migrate) => migrate_cmd(&settings).await,
        Some(Command::Doctor) => doctor::run(&settings).await,
        Some(Command::Import(cmd)) => import::run(&settings, cmd).await,
        Some(Command::Exec(cmd)) => exec::run(&settings, cmd).await,
        Some(Command::Fleet(cmd)) => fleet::run(&settings, cmd).await,
        Some(Command::Rollout(cmd)) => rollout::run(&settings, cmd).await,
        Some(Command::Market(cmd)) => market::run(&settings, cmd).await,
        Some(Command::Archive(args)) => archive::run(&settings, args).await,
        Some(Command::Seed { demo: _, scale, seed }) => import::seed(&settings, scale, seed).await,
        Some(Command::Simulate(args)) => simulate(&settings, &args).await,
        Some(Command::Demo(args)) => demo(&settings, &args, cli.tab).await,
        Some(Command::Completions { .. } | Command::KeepServer { .. }) => Ok(ExitCode::SUCCESS),
    }
}

/// Every theme there is (the user's that fail to load are logged and left out), and the one to
/// start with: the last `:theme` choice, or else the configured one.
fn themes(settings: &Settings) -> Result<(String, Vec<(String, Theme)>)> {
    let dir = crate::ui::theme::user_dir();
    let mut all = Vec::new();
    for name in crate::ui::theme::available(dir.as_deref()) {
        match Theme::load(&name, dir.as_deref()) {
            Ok(t) => all.push((name, t)),
            Err(e) if name == settings.theme => return Err(e.into()),
            Err(e) => tracing::warn!(error = %e, "theme left out"),
        }
    }
    let remembered = crate::config::remembered_theme(crate::config::state_file().as_deref())
        .filter(|n| all.iter().any(|(name, _)| name == n));
    Ok((remembered.unwrap_or_else(|| settings.theme.clone()), all))
}

/// Open the dashboard over `db` until the user quits.
async fn run_dashboard(
    db: &Database,
    settings: &Settings,
    target: String,
    tab: Tab,
    debug: crate::ui::tui::Debug,
    simulator: Option<tokio::sync::watch::Receiver<crate::sim::Status>>,
) -> Result<crate::ui::tui::Ended> {
    let (theme_name, themes) = themes(settings)?;
    let keymap = Keymap::build(&settings.keys).map_err(KeymapError)?;
    let services = dashboard_services(db, settings).await?;
    let user_id = services.actor.user_id;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let workers = crate::ui::workers::Workers::start(
        services.clone(),
        Some(connector(db, settings, user_id)),
        crate::config::state_file(),
        tx,
    );
    let theme = themes
        .iter()
        .find(|(n, _)| *n == theme_name)
        .map(|(_, t)| t.clone())
        .ok_or_else(|| ThemeError { theme: theme_name.clone(), message: "no such theme".into() })?;
    let app = crate::ui::app::App::new(theme, keymap, target)
        .with_tab(tab)
        .with_themes(&theme_name, themes)
        .with_actor(&services.actor.label)
        .with_readonly(settings.readonly)
        .with_refresh(settings.refresh_interval)
        .with_thresholds(settings.health)
        .with_offset(*chrono::Local::now().offset())
        .with_simulator(simulator);
    let wiring = crate::ui::tui::Wiring { workers, replies: rx };
    let ui = crate::ui::tui::run_with(app, Some(wiring), debug).await;
    services.pool.close().await;
    Ok(ui?)
}

async fn dashboard(settings: &Settings, tab: Tab, debug: crate::ui::tui::Debug) -> Result<ExitCode> {
    // Configuration problems first, before any server starts.
    themes(settings)?;
    Keymap::build(&settings.keys).map_err(KeymapError)?;
    if debug.headless.is_none() {
        crate::ui::tui::require_terminal()?;
    }
    let db = Database::open(settings, MigratePolicy::Require).await?;
    let outcome = async {
        require_current_schema(&db).await?;
        run_dashboard(&db, settings, short_target(&db.target), tab, debug, None).await
    }
    .await;
    db.close().await?;
    Ok(ExitCode::from(outcome?.exit_code()))
}

async fn simulate(settings: &Settings, args: &SimulateArgs) -> Result<ExitCode> {
    let db = Database::open(settings, MigratePolicy::Require).await?;
    if let Err(e) = require_current_schema(&db).await {
        db.close().await?;
        return Err(e);
    }
    if let Err(e) = crate::import::demo::require_demo(&db.pool).await {
        db.close().await?;
        return Err(e.into());
    }
    let opts = args.options();
    crate::outln!("simulating on {} every {:?}; Ctrl-C stops", db.target.describe(), opts.tick);
    let mut state = crate::sim::State::new(args.seed);
    let mut interval = tokio::time::interval(opts.tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = interval.tick() => match crate::sim::tick(&db.pool, &mut state, &opts).await {
                Ok(t) if state.tick.is_multiple_of(10) => {
                    let (sh, sa) = state.silent();
                    crate::outln!(
                        "tick {}: {} host and {} agent heartbeats, {} transitions, {} new executions, {} events, \
                         {} deployments; silent: {sh} hosts, {sa} agents",
                        state.tick, t.host_heartbeats, t.agent_heartbeats, t.transitions, t.new_executions, t.events,
                        t.deployments
                    );
                }
                Ok(_) => {}
                Err(e) => crate::errln!("tick {}: {e} (trying again next tick)", state.tick),
            },
        }
    }
    let t = state.totals;
    crate::outln!(
        "stopped after {} ticks: {} transitions ({} refused), {} new executions, {} events, {} deployments",
        state.tick,
        t.transitions,
        t.rejected,
        t.new_executions,
        t.events,
        t.deployments
    );
    db.close().await?;
    Ok(ExitCode::SUCCESS)
}

/// The README's first command: a live demo in one step.
async fn demo(settings: &Settings, args: &SimulateArgs, tab: Tab) -> Result<ExitCode> {
    themes(settings)?;
    Keymap::build(&settings.keys).map_err(KeymapError)?;
    crate::ui::tui::require_terminal()?;
    let db = Database::open(settings, MigratePolicy::Apply).await?;
    let outcome = async {
        if crate::import::demo::is_empty(&db.pool).await? {
            crate::errln!("fleetdeck: seeding the small demo data set…");
            crate::import::demo::seed(
                &db.pool,
                crate::import::demo::Scale::Small,
                args.seed,
                chrono::Utc::now(),
                |_| {},
            )
            .await?;
        }
        crate::import::demo::require_demo(&db.pool).await?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        // The simulator's own pool: nothing the dashboard does to its pools reaches it.
        let pool = own_pool(&db, settings, None, false).await?;
        let opts = args.options();
        let seed = args.seed;
        // Seed 001's archival on a schedule, beside the simulator (an abort at the end drops an
        // unfinished batch's transaction: nothing is half-moved).
        let archiver = tokio::spawn(service::archive::schedule(
            service::Services::new(pool.clone(), service::Actor::operator()),
            settings.archive.policy.clone(),
            settings.archive.every,
        ));
        let (status_tx, status_rx) = tokio::sync::watch::channel(crate::sim::Status::Starting);
        let simulator = tokio::spawn(async move {
            let state = crate::sim::run(&pool, &opts, seed, status_tx, async {
                let _ = stop_rx.await;
            })
            .await;
            pool.close().await;
            state
        });
        let target = short_target(&db.target);
        let ui = run_dashboard(&db, settings, target, tab, crate::ui::tui::Debug::default(), Some(status_rx)).await;
        archiver.abort();
        let _ = stop_tx.send(());
        let state = simulator.await?;
        tracing::info!(ticks = state.tick, totals = ?state.totals, "simulator stopped");
        ui
    }
    .await;
    db.close().await?;
    Ok(ExitCode::from(outcome?.exit_code()))
}

fn short_target(target: &Target) -> String {
    match target {
        Target::Embedded(s) => format!("own server {}", s.data_dir.display()),
        Target::External { url } => crate::config::redact_url(url),
    }
}

async fn migrate_cmd(settings: &Settings) -> Result<ExitCode> {
    let db = Database::open(settings, MigratePolicy::Apply).await?;
    let status = migrate::status(&db.pool).await;
    let mut out = String::new();
    if db.applied.is_empty() {
        writeln!(out, "schema is up to date; nothing to apply")?;
    } else {
        writeln!(out, "applied {} migration(s):", db.applied.len())?;
        for (version, description) in &db.applied {
            writeln!(out, "  {version} {description}")?;
        }
    }
    if let Ok(status) = &status {
        if let Some(v) = status.version() {
            writeln!(out, "schema version {v} on {}", db.target.describe())?;
        }
    }
    db.close().await?;
    status?;
    crate::out!("{out}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_global_flags_after_the_command() {
        let cli =
            Cli::try_parse_from(["fleetdeck", "doctor", "--as", "a@b.c", "--database-url", "postgres://x"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Doctor)));
        assert_eq!(cli.as_user.as_deref(), Some("a@b.c"));
    }

    #[test]
    fn the_pane_to_open_is_taken_after_the_command_too() {
        let cli = Cli::try_parse_from(["fleetdeck", "demo", "--tab", "executions", "--readonly"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Demo(_))));
        assert_eq!(cli.tab, Tab::Executions);
        assert!(cli.readonly);
        let cli = Cli::try_parse_from(["fleetdeck", "--tab", "fleet", "demo"]).unwrap();
        assert_eq!(cli.tab, Tab::Fleet);
    }
}

//! Command-line interface: parse arguments, pick a command. Headless verbs call the same service
//! functions as the dashboard.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use color_eyre::eyre::{Report, Result};

mod doctor;
mod import;

use crate::config::{ConfigError, Overrides, Settings};
use crate::db::embedded::ServerError;
use crate::db::{migrate, pool, Database, DbError, MigratePolicy, Target};
use crate::service::{self, identity, Actor, Services};
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
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
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
}

/// The database's schema is not the one this fleetdeck needs.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SchemaError(String);

pub async fn run(cli: Cli) -> Result<ExitCode> {
    if let Some(Command::Completions { shell }) = cli.command {
        let mut out = std::io::stdout();
        clap_complete::generate(shell, &mut Cli::command(), "fleetdeck", &mut out);
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let overrides = Overrides {
        config_file: cli.config.clone(),
        database_url: cli.database_url.clone(),
        user: cli.as_user.clone(),
        log_file: cli.log_file.clone(),
    };
    let settings = Settings::load(&overrides)?;
    let _log_guard = crate::logging::init(&settings.log_file, &settings.log_level)?;
    tracing::info!(version = env!("CARGO_PKG_VERSION"), command = ?cli.command, "fleetdeck starting");

    match cli.command {
        None => dashboard(&settings).await,
        Some(Command::Migrate) => migrate_cmd(&settings).await,
        Some(Command::Doctor) => doctor::run(&settings).await,
        Some(Command::Import(cmd)) => import::run(&settings, cmd).await,
        Some(Command::Seed { demo: _, scale, seed }) => import::seed(&settings, scale, seed).await,
        Some(Command::Completions { .. }) => Ok(ExitCode::SUCCESS),
    }
}

/// Refuse to work on a database whose schema is behind (or ahead of) this binary.
pub(crate) async fn require_current_schema(db: &Database) -> Result<()> {
    let status = migrate::status(&db.pool).await?;
    if !status.is_current() {
        let what = if !status.pending.is_empty() {
            format!("{} of fleetdeck's migrations are not applied", status.pending.len())
        } else {
            "its schema differs from this fleetdeck's migrations".to_string()
        };
        return Err(SchemaError(format!(
            "the database at {} is not ready: {what}; run `fleetdeck migrate` (or `fleetdeck doctor` for details)",
            db.target.describe()
        ))
        .into());
    }
    Ok(())
}

/// The service layer as the configured identity: the operator, or a platform user under RLS.
pub async fn services(db: &Database, settings: &Settings) -> Result<Services> {
    let Some(email) = &settings.user else {
        return Ok(Services::new(db.pool.clone(), Actor::operator()));
    };
    let user = identity::find_by_email(&db.pool, email).await?;
    let acting = pool::connect(
        db.options.clone(),
        &pool::PoolSettings::from(&settings.database),
        Some(user.id),
        Some(db.own.clone()),
    )
    .await
    .map_err(|source| DbError::Connect { target: db.target.describe(), source })?;
    Ok(Services::new(acting, Actor::user(&user.email, user.id)))
}

async fn dashboard(settings: &Settings) -> Result<ExitCode> {
    let theme = Theme::built_in(&settings.theme)?;
    let db = Database::open(settings, MigratePolicy::Require).await?;
    let outcome = async {
        require_current_schema(&db).await?;
        let services = services(&db, settings).await?;
        let target = format!("{} as {}", short_target(&db.target), services.actor.label);
        let app = crate::ui::app::App::new(theme, target);
        crate::ui::tui::run(app).await?;
        services.pool.close().await;
        Ok::<_, Report>(())
    }
    .await;
    db.close().await?;
    outcome?;
    Ok(ExitCode::SUCCESS)
}

fn short_target(target: &Target) -> String {
    match target {
        Target::Embedded(s) => format!("own server {}", s.data_dir.display()),
        Target::External { url } => url.clone(),
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
    print!("{out}");
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
}

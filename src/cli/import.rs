//! `fleetdeck import …`: parse the file completely first (a bad file writes nothing), then write
//! it in one transaction.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use color_eyre::eyre::Result;

use super::require_current_schema;
use crate::config::Settings;
use crate::db::{Database, MigratePolicy};
use crate::import::{self, helm_index, InputError};
use crate::service::imports;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A Helm repository index (index.yaml) into the package marketplace; re-importing updates in place
    HelmIndex {
        /// The index.yaml
        file: PathBuf,
        /// The repository's name (packages are keyed by repository and chart)
        #[arg(long, value_name = "NAME")]
        repo: String,
        /// The repository's URL
        #[arg(long, value_name = "URL")]
        repo_url: Option<String>,
        /// READMEs: one {"chart", "version", "readme"} object per line
        #[arg(long, value_name = "FILE.jsonl")]
        readmes: Option<PathBuf>,
    },
    /// Cloud instance types and prices (one JSON object per line) with their providers and regions
    Instances {
        /// The .jsonl file
        file: PathBuf,
    },
    /// LF Edge Margo application descriptions (2024 and 2025 forms); each file is its own transaction
    Margo {
        /// One description per file
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn read(path: &PathBuf) -> Result<String, InputError> {
    std::fs::read_to_string(path).map_err(|e| InputError::new(path, e.to_string()))
}

async fn open(settings: &Settings) -> Result<Database> {
    let db = Database::open(settings, MigratePolicy::Require).await?;
    if let Err(e) = require_current_schema(&db).await {
        db.close().await?;
        return Err(e);
    }
    Ok(db)
}

pub(super) async fn run(settings: &Settings, cmd: ImportCommand) -> Result<ExitCode> {
    let started = Instant::now();
    match cmd {
        ImportCommand::HelmIndex { file, repo, repo_url, readmes } => {
            if repo.trim().is_empty() {
                return Err(InputError::new(&file, "--repo must name the repository").into());
            }
            let readmes = match &readmes {
                Some(path) => helm_index::read_readmes(path)?,
                None => Default::default(),
            };
            let spinner = indicatif::ProgressBar::new_spinner();
            spinner.set_message(format!("parsing {}", file.display()));
            let text = read(&file)?;
            let repository = helm_index::Repository { name: repo.trim().to_string(), url: repo_url };
            let parsed = tokio::task::spawn_blocking({
                let file = file.clone();
                move || helm_index::parse(&file, &text, &repository, &readmes)
            })
            .await??;
            spinner.finish_and_clear();
            let db = open(settings).await?;
            let bar = import::progress(parsed.packages.len() as u64, "charts");
            let result = imports::upsert_packages(&db.pool, &parsed.packages, || bar.inc(1)).await;
            bar.finish_and_clear();
            db.close().await?;
            let counts = result?;
            crate::outln!(
                "imported {} charts ({} versions) from {} into repository {}: {} new, {} updated, in {:.1}s",
                parsed.packages.len(),
                parsed.versions,
                file.display(),
                repo.trim(),
                counts.inserted,
                counts.updated,
                started.elapsed().as_secs_f64()
            );
        }
        ImportCommand::Instances { file } => {
            let text = read(&file)?;
            let rows = import::instances::parse(&file, &text)?;
            let db = open(settings).await?;
            let bar = import::progress(rows.len() as u64, "instances");
            let result = imports::upsert_instances(&db.pool, &rows, |n| bar.inc(n)).await;
            bar.finish_and_clear();
            db.close().await?;
            let counts = result?;
            crate::outln!(
                "imported {} instance types from {}: {} new, {} updated; {} new providers, {} regions; in {:.1}s",
                rows.len(),
                file.display(),
                counts.instances.inserted,
                counts.instances.updated,
                counts.providers,
                counts.regions,
                started.elapsed().as_secs_f64()
            );
        }
        ImportCommand::Margo { files } => return margo(settings, &files).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// Each file is checked and written on its own: a bad file writes nothing and the others go on.
/// The summary names every file; the exit code is 1 when any failed.
async fn margo(settings: &Settings, files: &[PathBuf]) -> Result<ExitCode> {
    let parsed: Vec<(PathBuf, Result<import::margo::AppDescription, InputError>)> =
        files.iter().map(|f| (f.clone(), read(f).and_then(|text| import::margo::parse(f, &text)))).collect();
    let mut lines = Vec::new();
    let mut failed = 0;
    let mut db: Option<Database> = None;
    for (file, result) in parsed {
        let line = match result {
            Err(e) => {
                failed += 1;
                format!("!!  {e}; nothing written")
            }
            Ok(app) => {
                let pool = match &db {
                    Some(db) => db.pool.clone(),
                    None => {
                        let opened = open(settings).await?;
                        let pool = opened.pool.clone();
                        db = Some(opened);
                        pool
                    }
                };
                match imports::upsert_app_description(&pool, &app).await {
                    Ok(new) => {
                        let components: usize = app.profiles.iter().map(|p| p.components.len()).sum();
                        format!(
                            "ok  {}: {} {} ({} profile(s), {components} component(s), {})",
                            file.display(),
                            app.app_id,
                            app.version,
                            app.profiles.len(),
                            if new { "new" } else { "updated" }
                        )
                    }
                    Err(e) => {
                        failed += 1;
                        format!("!!  {}: not written: {e}", file.display())
                    }
                }
            }
        };
        lines.push(line);
    }
    if let Some(db) = db {
        db.close().await?;
    }
    for l in &lines {
        crate::outln!("{l}");
    }
    crate::outln!("{} of {} description(s) imported", files.len() - failed, files.len());
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(super::exit::PROBLEMS) })
}

/// `fleetdeck seed --demo`.
pub(super) async fn seed(settings: &Settings, scale: crate::import::demo::Scale, seed: u64) -> Result<ExitCode> {
    let db = open(settings).await?;
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let result = crate::import::demo::seed(&db.pool, scale, seed, chrono::Utc::now(), |step| {
        spinner.set_message(format!("seeding: {step}"));
    })
    .await;
    spinner.finish_and_clear();
    db.close().await?;
    let report = result?;
    for (table, rows) in &report.tally.0 {
        crate::outln!("{rows:>10}  {table}");
    }
    crate::outln!("seeded the {scale:?} demo (seed {seed}) in {:.1}s", report.elapsed.as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

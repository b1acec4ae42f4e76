//! `fleetdeck archive`: seed 001's Data Archival Strategy, once (the demo runs it on a
//! schedule). Progress on stderr, what it did on stdout (`--output json`: one object).

use std::process::ExitCode;

use color_eyre::eyre::Result;

use super::exec::{code_of, emit, fail, Output};
use super::with_services;
use crate::config::Settings;
use crate::service::archive;

#[derive(Debug, Clone, clap::Args)]
pub struct ArchiveArgs {
    /// Why (recorded in the audit log with the run)
    #[arg(long)]
    pub reason: Option<String>,
    /// Say nothing while it runs
    #[arg(long)]
    pub quiet: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub output: Output,
}

pub async fn run(settings: &Settings, args: ArchiveArgs) -> Result<ExitCode> {
    let policy = settings.archive.policy.clone();
    with_services(settings, false, |services| async move {
        let quiet = args.quiet;
        let mut last = std::time::Instant::now();
        let done = archive::run(&services, &policy, args.reason.as_deref(), |r| {
            if !quiet && last.elapsed() >= std::time::Duration::from_secs(1) {
                last = std::time::Instant::now();
                crate::errln!("fleetdeck archive: {} so far", r.summary());
            }
        })
        .await;
        Ok(match done {
            Ok(report) => {
                match args.output {
                    Output::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&report)?)),
                    Output::Table => {
                        let mut text =
                            format!("{} in {:.1}s ({} batches)\n", report.summary(), report.seconds, report.batches);
                        if report.partitions_made > 0 {
                            text.push_str(&format!("made {} partition(s) ahead\n", report.partitions_made));
                        }
                        if !report.partitions_dropped.is_empty() {
                            text.push_str(&format!(
                                "dropped empty partitions: {}\n",
                                report.partitions_dropped.join(", ")
                            ));
                        }
                        emit(&text);
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(code_of(&e), e),
        })
    })
    .await
}

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Colours only for a person at a terminal, never into a file or a pipe.
    let theme = if std::io::stderr().is_terminal() {
        color_eyre::config::Theme::dark()
    } else {
        color_eyre::config::Theme::new()
    };
    if let Err(e) = color_eyre::config::HookBuilder::default().theme(theme).install() {
        say(&format!("fleetdeck: cannot install the error handler: {e}"));
    }
    fleetdeck::db::keeper::this_program_keeps_servers();
    let cli = fleetdeck::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            say(&format!("fleetdeck: cannot start the async runtime: {e}"));
            return ExitCode::from(fleetdeck::cli::exit::INTERNAL);
        }
    };
    match runtime.block_on(fleetdeck::cli::run(cli)) {
        Ok(code) => code,
        Err(report) => {
            if fleetdeck::cli::is_user_facing(&report) {
                say(&format!("fleetdeck: {report}"));
            } else {
                say(&format!("fleetdeck: {report:?}"));
            }
            ExitCode::from(fleetdeck::cli::exit::of_report(&report))
        }
    }
}

/// A line on standard error that cannot panic when standard error is gone.
fn say(line: &str) {
    fleetdeck::cli::out::stderr(format!("{line}\n").as_bytes());
}

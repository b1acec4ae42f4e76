use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    if let Err(e) = color_eyre::install() {
        eprintln!("fleetdeck: cannot install the error handler: {e}");
    }
    let cli = fleetdeck::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fleetdeck: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(fleetdeck::cli::run(cli)) {
        Ok(code) => code,
        Err(report) => {
            if fleetdeck::cli::is_user_facing(&report) {
                eprintln!("fleetdeck: {report}");
            } else {
                eprintln!("fleetdeck: {report:?}");
            }
            ExitCode::FAILURE
        }
    }
}

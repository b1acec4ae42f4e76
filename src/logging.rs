//! Logs go to a file (tracing), never to the screen.

use std::fs;
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

#[derive(Debug, thiserror::Error)]
#[error("cannot open the log file {path}: {source} (set log_file in the config or pass --log-file)")]
pub struct LogError {
    pub path: String,
    pub source: std::io::Error,
}

/// Start logging to `path` at `level`. Keep the guard alive until exit so the log is flushed.
pub fn init(path: &Path, level: &str) -> Result<WorkerGuard, LogError> {
    let err = |source| LogError { path: path.display().to_string(), source };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(err)?;
    }
    let file = fs::OpenOptions::new().create(true).append(true).open(path).map_err(err)?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (tests) keeps the first subscriber.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(false).try_init();
    Ok(guard)
}

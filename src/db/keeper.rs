//! Nothing left behind: fleetdeck's own server stops by itself once no fleetdeck uses it, even
//! when the last one was killed (`kill -9`) and could not stop it.
//!
//! Every fleetdeck that uses the server holds a shared lock on `<data dir>.clients` for as long as
//! it runs; the kernel drops a process's locks when it dies, however it dies. A keeper process
//! (`fleetdeck keep-server`, one per server, started by whichever fleetdeck finds none) tries for
//! the exclusive lock every second: once it gets it no fleetdeck is left, and it stops the server.
//! A fleetdeck starting meanwhile waits for its shared lock until the keeper is done, then starts
//! the server again, so the next start always finds a server it may use.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::embedded::{EmbeddedServer, ServerError};

/// How often the keeper looks.
const EVERY: Duration = Duration::from_secs(1);

fn lock_file(data_dir: &Path, what: &str) -> Result<File, ServerError> {
    let path = data_dir.with_extension(what);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| ServerError::Command { what: format!("opening {}", path.display()), detail: e.to_string() })
}

/// This process uses the server in `data_dir`: a shared lock held until it is dropped (or the
/// process ends). Blocks while a keeper is stopping the server.
#[derive(Debug)]
pub struct Using(#[allow(dead_code)] File);

pub fn using(data_dir: &Path) -> Result<Using, ServerError> {
    if let Some(parent) = data_dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| ServerError::Command {
            what: format!("creating {}", parent.display()),
            detail: e.to_string(),
        })?;
    }
    let file = lock_file(data_dir, "clients")?;
    file.lock_shared()
        .map_err(|e| ServerError::Command { what: "locking the clients file".into(), detail: e.to_string() })?;
    Ok(Using(file))
}

/// The program that answers `keep-server`: set by fleetdeck's own `main`. A program that only
/// links the library (a benchmark, a test binary) has none, and starts no keeper: started as
/// `keep-server` it would run its own `main` again, which would start another, without end.
static KEEPER_PROGRAM: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// This program is fleetdeck: its `keep-server` command keeps the servers it starts.
pub fn this_program_keeps_servers() {
    match std::env::current_exe() {
        Ok(exe) => drop(KEEPER_PROGRAM.set(exe)),
        Err(e) => tracing::warn!(error = %e, "no keeper for the server: cannot find this program"),
    }
}

/// Start a keeper for the server in `data_dir`, unless one runs already (it then exits at once)
/// or this program is not fleetdeck (see `KEEPER_PROGRAM`).
pub fn spawn(data_dir: &Path, bin_dir: &Path, server_user: &str) {
    let Some(exe) = KEEPER_PROGRAM.get() else {
        return tracing::debug!("no keeper for the server: this program is not fleetdeck's binary");
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("keep-server")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--bin-dir")
        .arg(bin_dir)
        .arg("--server-user")
        .arg(server_user)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // Its own process group: Ctrl-C and the terminal's hang-up are for the dashboard, not for it.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    match cmd.spawn() {
        // Reap it if it ends while we run (another keeper was there first).
        Ok(mut child) => drop(std::thread::spawn(move || child.wait())),
        Err(e) => tracing::warn!(error = %e, "could not start the server's keeper"),
    }
}

/// The keeper: wait until no fleetdeck holds the clients lock, then stop the server. Returns
/// when the server is stopped, or was stopped by a fleetdeck, or another keeper watches it.
pub fn keep(data_dir: PathBuf, bin_dir: PathBuf, server_user: &str) -> Result<(), ServerError> {
    let me = lock_file(&data_dir, "keeper")?;
    if me.try_lock().is_err() {
        return Ok(()); // another keeper watches this server
    }
    let server = EmbeddedServer::existing(&data_dir, Some(&bin_dir), server_user)?;
    let clients = lock_file(&data_dir, "clients")?;
    loop {
        std::thread::sleep(EVERY);
        if !data_dir.join("postmaster.pid").exists() {
            tracing::info!("the server was stopped; the keeper leaves");
            return Ok(());
        }
        if clients.try_lock().is_ok() {
            tracing::info!(data_dir = %data_dir.display(), "no fleetdeck uses the server any more; stopping it");
            let stopped = server.stop(false);
            drop(clients);
            return stopped;
        }
    }
}

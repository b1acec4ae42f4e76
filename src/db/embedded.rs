//! fleetdeck's own PostgreSQL server: found, initialised, started on a Unix socket only, and
//! stopped when the last fleetdeck using it leaves.
//!
//! PostgreSQL refuses to run as root. When fleetdeck runs as root, every server program
//! (initdb, pg_ctl, postgres) runs as an unprivileged OS user (`database.server_user`,
//! `postgres` by default) and the data directory belongs to that user.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqlx::postgres::PgConnectOptions;

/// The superuser role that fleetdeck's own clusters are initialised with.
pub const SUPERUSER: &str = "fleetdeck";
/// The port number only names the socket file (`.s.PGSQL.5432`); no TCP port is opened.
pub const SOCKET_PORT: u16 = 5432;
/// Unix socket paths are limited to 107 bytes on Linux.
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "fleetdeck could not find the PostgreSQL server programs (initdb, pg_ctl, postgres); looked in: {searched}.\n\
         Install them (Debian/Ubuntu: apt-get install postgresql; Fedora: dnf install postgresql-server; \
         macOS: brew install postgresql@16), point database.postgres_bin at their directory, \
         or set DATABASE_URL to use a server you already run."
    )]
    NoBinaries { searched: String },
    #[error(
        "PostgreSQL refuses to run as root, so fleetdeck (running as root) runs its own server as the \
         unprivileged OS user `{user}`, but there is no such user on this machine.\n\
         Create one (useradd --system --home-dir /var/lib/postgresql {user}), set database.server_user \
         to an existing unprivileged user, run fleetdeck as a normal user, or set DATABASE_URL."
    )]
    NoServerUser { user: String },
    #[error("PostgreSQL refuses to run as root and database.server_user is `root`: name an unprivileged user")]
    ServerUserIsRoot,
    #[error(
        "the data directory {path} is too long for a Unix socket path ({len} bytes with the socket name, \
         at most {MAX_SOCKET_PATH}); set database.data_dir to a shorter path"
    )]
    PathTooLong { path: PathBuf, len: usize },
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: PathBuf, source: std::io::Error },
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ServerError {
    let path = path.to_path_buf();
    move |source| ServerError::Io { what, path, source }
}

/// The unprivileged OS user the server runs as when fleetdeck runs as root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub data_dir: PathBuf,
    /// A configured directory holding initdb, pg_ctl and postgres; None: search.
    pub bin_dir: Option<PathBuf>,
    /// The OS user to run as when fleetdeck is root.
    pub server_user: String,
    /// A throwaway cluster for tests: no fsync, no durability.
    pub throwaway: bool,
}

/// A running server that fleetdeck started or found running in its data directory.
#[derive(Debug, Clone)]
pub struct EmbeddedServer {
    pub data_dir: PathBuf,
    pub bin_dir: PathBuf,
    pub run_as: Option<OsUser>,
    /// Did this call start it (rather than find it running)?
    pub started: bool,
    /// Did this call create the cluster?
    pub initialised: bool,
}

/// `<root>/<prefix><major>[.<minor>]/bin` for each installed major version, newest first.
fn versioned_bin_dirs(root: &str, prefix: &str) -> Vec<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let major = name.strip_prefix(prefix)?.split('.').next()?.parse::<u32>().ok()?;
            Some((major, e.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    versions.into_iter().map(|(_, p)| p).collect()
}

/// Directories to look in for the server programs, best first.
pub fn candidate_bin_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    // Debian/Ubuntu: /usr/lib/postgresql/<major>/bin. Fedora/RHEL (PGDG): /usr/pgsql-<major>/bin.
    dirs.extend(versioned_bin_dirs("/usr/lib/postgresql", ""));
    dirs.extend(versioned_bin_dirs("/usr", "pgsql-"));
    // macOS: Homebrew (Apple silicon and Intel) and Postgres.app.
    for root in ["/opt/homebrew/opt", "/usr/local/opt"] {
        dirs.extend(versioned_bin_dirs(root, "postgresql@"));
        dirs.push(PathBuf::from(root).join("postgresql/bin"));
    }
    dirs.push(PathBuf::from("/Applications/Postgres.app/Contents/Versions/latest/bin"));
    dirs
}

fn has_server_programs(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"].iter().all(|p| dir.join(p).is_file())
}

/// Find the directory holding initdb, pg_ctl and postgres.
pub fn find_bin_dir(configured: Option<&Path>) -> Result<PathBuf, ServerError> {
    if let Some(dir) = configured {
        return if has_server_programs(dir) {
            Ok(dir.to_path_buf())
        } else {
            Err(ServerError::NoBinaries { searched: format!("{} (database.postgres_bin)", dir.display()) })
        };
    }
    let candidates = candidate_bin_dirs();
    for dir in &candidates {
        if has_server_programs(dir) {
            // Resolve PATH symlinks (/usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin/pg_ctl)
            // so that the three programs come from one installation.
            let resolved = fs::canonicalize(dir.join("pg_ctl"))
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .filter(|p| has_server_programs(p))
                .unwrap_or_else(|| dir.clone());
            return Ok(resolved);
        }
    }
    Err(ServerError::NoBinaries {
        searched: "PATH, /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, Homebrew and Postgres.app".into(),
    })
}

/// The user the server must run as: None when fleetdeck is not root.
pub fn server_user(name: &str) -> Result<Option<OsUser>, ServerError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let user = nix::unistd::User::from_name(name)
        .ok()
        .flatten()
        .ok_or_else(|| ServerError::NoServerUser { user: name.to_string() })?;
    if user.uid.is_root() {
        return Err(ServerError::ServerUserIsRoot);
    }
    Ok(Some(OsUser { name: user.name, uid: user.uid.as_raw(), gid: user.gid.as_raw() }))
}

impl EmbeddedServer {
    /// Make sure a server runs in `opts.data_dir`: create the cluster if there is none, start it
    /// if it is not running. Blocking; call from a blocking context.
    pub fn ensure_running(opts: &ServerOptions) -> Result<EmbeddedServer, ServerError> {
        let bin_dir = find_bin_dir(opts.bin_dir.as_deref())?;
        let run_as = server_user(&opts.server_user)?;
        let data_dir = absolute(&opts.data_dir)?;
        let socket_len = data_dir.as_os_str().len() + format!("/.s.PGSQL.{SOCKET_PORT}").len();
        if socket_len > MAX_SOCKET_PATH {
            return Err(ServerError::PathTooLong { path: data_dir, len: socket_len });
        }
        let parent = data_dir.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("/"));
        fs::create_dir_all(&parent).map_err(io_err("cannot create", &parent))?;

        // Two fleetdecks starting at once must not both run initdb or pg_ctl start.
        let lock_path = data_dir.with_extension("lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("cannot open the lock file", &lock_path))?;
        lock.lock().map_err(io_err("cannot lock", &lock_path))?;

        let mut server = EmbeddedServer { data_dir, bin_dir, run_as, started: false, initialised: false };
        if !server.data_dir.join("PG_VERSION").is_file() {
            server.init(opts.throwaway)?;
            server.initialised = true;
        }
        if !server.is_running()? {
            server.start()?;
            server.started = true;
        }
        drop(lock);
        Ok(server)
    }

    /// A handle on an existing cluster, without creating or starting anything.
    pub fn existing(
        data_dir: &Path,
        bin_dir: Option<&Path>,
        server_user_name: &str,
    ) -> Result<EmbeddedServer, ServerError> {
        Ok(EmbeddedServer {
            data_dir: absolute(data_dir)?,
            bin_dir: find_bin_dir(bin_dir)?,
            run_as: server_user(server_user_name)?,
            started: false,
            initialised: false,
        })
    }

    /// A command for one of the server programs, run as the server user when we are root.
    fn program(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(name));
        // The server user may not be able to enter our working directory.
        cmd.current_dir("/");
        cmd.env("LC_ALL", "C");
        for var in ["PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGOPTIONS"] {
            cmd.env_remove(var);
        }
        if let Some(u) = &self.run_as {
            cmd.uid(u.uid).gid(u.gid);
        }
        cmd
    }

    fn run(&self, what: &str, mut cmd: Command) -> Result<Output, ServerError> {
        tracing::debug!(?cmd, "running");
        let out = cmd.output().map_err(|e| ServerError::Command { what: what.into(), detail: e.to_string() })?;
        Ok(out)
    }

    /// The data directory, made empty and private and given to the server user.
    fn make_data_dir(&self) -> Result<(), ServerError> {
        let dir = &self.data_dir;
        fs::create_dir_all(dir).map_err(io_err("cannot create", dir))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err("cannot set permissions on", dir))?;
        if let Some(u) = &self.run_as {
            nix::unistd::chown(dir, Some(u.uid.into()), Some(u.gid.into())).map_err(|e| ServerError::Io {
                what: "cannot give the data directory to the server user:",
                path: dir.clone(),
                source: e.into(),
            })?;
        }
        Ok(())
    }

    /// A hot standby of this (running) server in `data_dir`, streaming from it over its Unix
    /// socket: `pg_basebackup -R` (which writes `primary_conninfo` and `standby.signal`), its
    /// own socket in its own directory, started. Blocking, like `ensure_running`.
    pub fn start_standby(&self, data_dir: &Path) -> Result<EmbeddedServer, ServerError> {
        let standby = EmbeddedServer {
            data_dir: absolute(data_dir)?,
            bin_dir: self.bin_dir.clone(),
            run_as: self.run_as.clone(),
            started: false,
            initialised: false,
        };
        let dir = &standby.data_dir;
        let socket_len = dir.as_os_str().len() + format!("/.s.PGSQL.{SOCKET_PORT}").len();
        if socket_len > MAX_SOCKET_PATH {
            return Err(ServerError::PathTooLong { path: dir.clone(), len: socket_len });
        }
        standby.make_data_dir()?;
        let mut cmd = self.program("pg_basebackup");
        cmd.arg("-D").arg(dir).arg("-h").arg(&self.data_dir);
        cmd.args(["-p", &SOCKET_PORT.to_string(), "-U", SUPERUSER, "-R", "-X", "stream", "-c", "fast", "--no-sync"]);
        let out = self.run("pg_basebackup", cmd)?;
        if !out.status.success() {
            return Err(ServerError::Command {
                what: format!("pg_basebackup -D {}{}", dir.display(), self.as_user_note()),
                detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        // The primary's socket is in its data directory, so the copy holds its socket's lock
        // file (the socket itself is skipped), and the primary's log: neither is the standby's.
        for copied in [format!(".s.PGSQL.{SOCKET_PORT}.lock"), "fleetdeck-server.log".to_string()] {
            let path = dir.join(copied);
            if path.exists() {
                fs::remove_file(&path).map_err(io_err("cannot remove", &path))?;
            }
        }
        // The copied configuration names the primary's socket directory: a later line wins.
        let quoted = dir.display().to_string().replace('\'', "''");
        let conf_path = dir.join("postgresql.conf");
        let mut f = fs::OpenOptions::new().append(true).open(&conf_path).map_err(io_err("cannot open", &conf_path))?;
        f.write_all(format!("\n# --- the standby's own, written by fleetdeck ---\nunix_socket_directories = '{quoted}'\nhot_standby = on\n").as_bytes())
            .map_err(io_err("cannot write", &conf_path))?;
        standby.start()?;
        Ok(EmbeddedServer { started: true, initialised: true, ..standby })
    }

    /// Start this server (after `stop`), waiting until it accepts connections.
    pub fn restart(&self) -> Result<(), ServerError> {
        if !self.is_running()? {
            self.start()?;
        }
        Ok(())
    }

    fn init(&self, throwaway: bool) -> Result<(), ServerError> {
        let dir = &self.data_dir;
        self.make_data_dir()?;
        tracing::info!(data_dir = %dir.display(), run_as = ?self.run_as.as_ref().map(|u| &u.name), "initialising a PostgreSQL cluster");
        let mut cmd = self.program("initdb");
        cmd.arg("-D").arg(dir).args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C"]);
        if throwaway {
            cmd.arg("--no-sync");
        }
        let out = self.run("initdb", cmd)?;
        if !out.status.success() {
            return Err(ServerError::Command {
                what: format!("initdb -D {}{}", dir.display(), self.as_user_note()),
                detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        let quoted = dir.display().to_string().replace('\'', "''");
        let mut conf = format!(
            "\n# --- written by fleetdeck ---\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{quoted}'\n\
             unix_socket_permissions = 0700\n\
             max_connections = 200\n"
        );
        if throwaway {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let conf_path = dir.join("postgresql.conf");
        // Appending keeps the file's owner (the server user).
        let mut f = fs::OpenOptions::new().append(true).open(&conf_path).map_err(io_err("cannot open", &conf_path))?;
        f.write_all(conf.as_bytes()).map_err(io_err("cannot write", &conf_path))?;
        Ok(())
    }

    fn as_user_note(&self) -> String {
        self.run_as.as_ref().map(|u| format!(" (as OS user {})", u.name)).unwrap_or_default()
    }

    /// The server's log file.
    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join("fleetdeck-server.log")
    }

    /// Is a server running in this data directory?
    pub fn is_running(&self) -> Result<bool, ServerError> {
        let mut cmd = self.program("pg_ctl");
        cmd.arg("status").arg("-D").arg(&self.data_dir);
        let out = self.run("pg_ctl status", cmd)?;
        Ok(out.status.success())
    }

    fn start(&self) -> Result<(), ServerError> {
        tracing::info!(data_dir = %self.data_dir.display(), "starting PostgreSQL");
        let mut cmd = self.program("pg_ctl");
        cmd.arg("start").arg("-D").arg(&self.data_dir).arg("-l").arg(self.log_file()).args(["-w", "-t", "60"]);
        // Room for a bulk load's WAL between checkpoints: the large demo seed writes gigabytes,
        // and at the default 1 GB the server checkpointed every 25 s in the middle of it (a
        // constant, set at every start, so clusters made before this change get it too).
        cmd.args(["-o", "-c max_wal_size=4GB"]);
        let out = self.run("pg_ctl start", cmd)?;
        if !out.status.success() {
            let log = fs::read_to_string(self.log_file()).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(8).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(ServerError::Command {
                what: format!("starting PostgreSQL in {}{}", self.data_dir.display(), self.as_user_note()),
                detail: format!("{}\n{}", String::from_utf8_lossy(&out.stderr).trim(), tail.join("\n")),
            });
        }
        Ok(())
    }

    /// Stop the server. `immediate` skips the shutdown checkpoint (throwaway clusters).
    pub fn stop(&self, immediate: bool) -> Result<(), ServerError> {
        tracing::info!(data_dir = %self.data_dir.display(), "stopping PostgreSQL");
        let mut cmd = self.program("pg_ctl");
        cmd.arg("stop").arg("-D").arg(&self.data_dir).args([
            "-m",
            if immediate { "immediate" } else { "fast" },
            "-w",
            "-t",
            "60",
        ]);
        let out = self.run("pg_ctl stop", cmd)?;
        if !out.status.success() && self.is_running()? {
            return Err(ServerError::Command {
                what: "pg_ctl stop".into(),
                detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(())
    }

    /// Connection options for a database on this server (over the Unix socket).
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new().socket(&self.data_dir).port(SOCKET_PORT).username(SUPERUSER).database(database)
    }

    /// A URL that reaches a database on this server (for child processes and psql).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@localhost/{database}?host={}", self.data_dir.display())
    }
}

fn absolute(path: &Path) -> Result<PathBuf, ServerError> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        std::env::current_dir().map(|d| d.join(path)).map_err(io_err("cannot resolve", path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_debian_binaries_or_says_what_to_install() {
        match find_bin_dir(None) {
            Ok(dir) => assert!(has_server_programs(&dir), "{}", dir.display()),
            Err(e) => assert!(e.to_string().contains("DATABASE_URL"), "{e}"),
        }
    }

    #[test]
    fn a_configured_directory_without_programs_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = find_bin_dir(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("database.postgres_bin") && err.contains("DATABASE_URL"), "{err}");
    }

    #[test]
    fn a_missing_server_user_is_explained_when_root() {
        if nix::unistd::geteuid().is_root() {
            let err = server_user("no-such-user-fleetdeck").unwrap_err().to_string();
            assert!(err.contains("refuses to run as root") && err.contains("no-such-user-fleetdeck"), "{err}");
            assert!(matches!(server_user("root"), Err(ServerError::ServerUserIsRoot)));
        } else {
            assert_eq!(server_user("anything").unwrap(), None);
        }
    }

    #[test]
    fn too_long_a_data_directory_is_refused() {
        let opts = ServerOptions {
            data_dir: PathBuf::from(format!("/tmp/{}", "x".repeat(120))),
            bin_dir: None,
            server_user: "postgres".into(),
            throwaway: true,
        };
        match EmbeddedServer::ensure_running(&opts) {
            Err(ServerError::PathTooLong { .. }) | Err(ServerError::NoBinaries { .. }) => {}
            other => panic!("expected PathTooLong, got {other:?}"),
        }
    }
}

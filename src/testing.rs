//! Test support: one throwaway PostgreSQL server for the whole test run, and a freshly migrated
//! database for every test (a copy of a template migrated once), so tests run in parallel.
//!
//! Without DATABASE_URL, the server is started like fleetdeck's own (as an unprivileged user
//! when root) in a temporary directory with fsync off, and removed when the run ends. With
//! DATABASE_URL, databases are created and dropped on that server.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::db::handle::Db;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use uuid::Uuid;

use crate::db::embedded::{EmbeddedServer, ServerOptions};
use crate::db::{migrate, pool};

const TEMP_PREFIX: &str = "fleetdeck-test-";

#[derive(Clone)]
enum Server {
    Embedded { server: EmbeddedServer, root: PathBuf },
    External { url: String },
}

struct Shared {
    server: Server,
    admin: PgConnectOptions,
    template: String,
    /// The whole run goes through a pgbouncer in transaction mode (`TEST_THROUGH_PGBOUNCER=1`).
    pooler: Option<PoolerAddress>,
}

/// Where the run's pgbouncer listens.
#[derive(Clone)]
struct PoolerAddress {
    dir: PathBuf,
}

/// The environment variable that sends the whole test run through a pgbouncer in transaction
/// pooling mode in front of the throwaway server (issue 26, point 4): every test's pools and
/// every fleetdeck binary a test starts then connect through it, pooled.
pub const POOLER_ENV: &str = "TEST_THROUGH_PGBOUNCER";

/// The run goes through the pooler (see [`POOLER_ENV`]; only with the throwaway server).
pub fn pooled() -> bool {
    shared().pooler.is_some()
}

/// What a fleetdeck binary a test starts needs in its environment for the run's server: when the
/// run goes through the pooler, `database.pooled` on (its DATABASE_URL, [`TestDb::url`], names
/// the pooler).
pub fn child_env() -> Vec<(&'static str, &'static str)> {
    if pooled() {
        vec![("FLEETDECK_DATABASE__POOLED", "true")]
    } else {
        Vec::new()
    }
}

/// [`child_env`] for a binary whose DATABASE_URL is `url`: only when `url` goes through the
/// run's pooler (a test's private server is reached directly).
pub fn child_env_for(url: &str) -> Vec<(&'static str, &'static str)> {
    match &shared().pooler {
        Some(p) if url.contains(&p.dir.display().to_string()) => child_env(),
        _ => Vec::new(),
    }
}

/// The harness's pool settings: pooled when the run goes through the pooler.
pub fn pool_settings(read_only: bool) -> pool::PoolSettings {
    pool::PoolSettings { read_only, pooled: pooled(), ..test_pool_settings() }
}

static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();
static CLEANUP: Mutex<Option<(Server, PgConnectOptions, String)>> = Mutex::new(None);
static COUNTER: AtomicUsize = AtomicUsize::new(0);
/// The run's pgbouncer, stopped at exit.
static POOLER: Mutex<Option<Pooler>> = Mutex::new(None);

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Run an async block to completion on a fresh runtime in its own thread (safe to call from
/// inside another runtime, from Drop, or at exit).
fn block_on_thread<T: Send + 'static>(
    f: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>> + Send + 'static,
) -> Result<T, String> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        Ok(rt.block_on(f()))
    })
    .join()
    .map_err(|_| "test support thread panicked".to_string())?
}

fn shared() -> &'static Shared {
    match SHARED.get_or_init(setup) {
        Ok(s) => s,
        Err(e) => panic!("cannot set up the test database server: {e}"),
    }
}

/// Remove the servers and directories of earlier runs that did not end cleanly.
fn remove_stale_runs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) =
            name.strip_prefix(TEMP_PREFIX).and_then(|r| r.split('-').next()).and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        if alive {
            continue;
        }
        // The shared server, and the primary and standby of a `Replicated`.
        for dir in ["standby", "primary", "data"] {
            if let Ok(server) = EmbeddedServer::existing(&entry.path().join(dir), None, "postgres") {
                let _ = server.stop(true);
            }
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

fn setup() -> Result<Shared, String> {
    let template = format!("fleetdeck_tpl_{}", std::process::id());
    let (server, admin) = match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => {
            let admin = PgConnectOptions::from_str(&url).map_err(|e| format!("DATABASE_URL: {e}"))?;
            (Server::External { url }, admin)
        }
        None => {
            remove_stale_runs();
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
            let root = std::env::temp_dir().join(format!("{TEMP_PREFIX}{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
            let opts = ServerOptions {
                data_dir: root.join("data"),
                bin_dir: None,
                server_user: std::env::var("FLEETDECK_TEST_SERVER_USER").unwrap_or_else(|_| "postgres".into()),
                throwaway: true,
            };
            let server = EmbeddedServer::ensure_running(&opts).map_err(|e| e.to_string())?;
            let admin = server.connect_options("postgres");
            (Server::Embedded { server, root }, admin)
        }
    };
    // Clean up at exit whatever happens next.
    if let Ok(mut slot) = CLEANUP.lock() {
        *slot = Some((server.clone(), admin.clone(), template.clone()));
    }
    // SAFETY: registering a plain `extern "C" fn()` with atexit has no preconditions.
    unsafe {
        nix::libc::atexit(cleanup_at_exit);
    }

    let (admin2, tpl) = (admin.clone(), template.clone());
    block_on_thread(move || {
        Box::pin(async move {
            let mut conn = admin2.connect().await.map_err(|e| format!("connect: {e}"))?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {}", quote_ident(&tpl)))
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::query(&format!("CREATE DATABASE {}", quote_ident(&tpl)))
                .execute(&mut conn)
                .await
                .map_err(|e| format!("create template database: {e}"))?;
            conn.close().await.ok();
            let settings = test_pool_settings();
            let pool = pool::connect(admin2.clone().database(&tpl), &settings, None, None)
                .await
                .map_err(|e| format!("connect to template: {e}"))?;
            migrate::apply(&pool).await.map_err(|e| format!("migrate template: {e}"))?;
            pool.close().await;
            Ok::<(), String>(())
        })
    })??;
    let wants_pooler = std::env::var(POOLER_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
    let pooler = match (&server, wants_pooler) {
        (Server::Embedded { server, .. }, true) => {
            let started = Pooler::start(server);
            let address = PoolerAddress { dir: started.dir.clone() };
            if let Ok(mut slot) = POOLER.lock() {
                *slot = Some(started);
            }
            Some(address)
        }
        _ => None,
    };
    Ok(Shared { server, admin, template, pooler })
}

extern "C" fn cleanup_at_exit() {
    if let Some(pooler) = POOLER.lock().ok().and_then(|mut p| p.take()) {
        drop(pooler);
    }
    let Some((server, admin, template)) = CLEANUP.lock().ok().and_then(|mut s| s.take()) else { return };
    match server {
        Server::Embedded { server, root } => {
            let _ = server.stop(true);
            let _ = std::fs::remove_dir_all(root);
        }
        Server::External { .. } => {
            let _ = block_on_thread(move || {
                Box::pin(async move {
                    if let Ok(mut conn) = admin.connect().await {
                        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&template));
                        let _ = sqlx::query(&sql).execute(&mut conn).await;
                    }
                })
            });
        }
    }
}

fn test_pool_settings() -> pool::PoolSettings {
    pool::PoolSettings {
        statement_timeout: Duration::from_secs(30),
        acquire_timeout: Duration::from_secs(3),
        max_connections: 4,
        read_only: false,
        pooled: false,
    }
}

/// A freshly migrated database of its own for one test; dropped when the value is dropped.
pub struct TestDb {
    /// The operator pool (the connecting role, a superuser on the throwaway server).
    pub pool: Db,
    pub name: String,
    options: PgConnectOptions,
}

impl TestDb {
    /// A database with fleetdeck's schema.
    pub async fn new() -> TestDb {
        Self::create(Some(&shared().template)).await
    }

    /// An empty database: no schema at all (to test migrating and refusing).
    pub async fn empty() -> TestDb {
        Self::create(None).await
    }

    async fn create(template: Option<&str>) -> TestDb {
        let shared = shared();
        let name = format!("fleetdeck_test_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let mut conn: PgConnection = shared.admin.connect().await.expect("connect to the test server");
        let sql =
            format!("CREATE DATABASE {} TEMPLATE {}", quote_ident(&name), quote_ident(template.unwrap_or("template0")));
        let mut attempts = 0;
        while let Err(e) = sqlx::query(&sql).execute(&mut conn).await {
            // Two clones of one template at the same instant can collide; try again.
            attempts += 1;
            assert!(attempts < 20, "create test database {name}: {e}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        conn.close().await.ok();
        let options = match &shared.pooler {
            Some(p) => pooler_options(&p.dir).database(&name),
            None => shared.admin.clone().database(&name),
        };
        let pool =
            pool::connect(options.clone(), &pool_settings(false), None, None).await.expect("connect to test database");
        TestDb { pool, name, options }
    }

    /// Connection options for this database (as the operator): through the pooler when the run
    /// goes through it, so only for pools opened with [`pool_settings`]. A session of a test's
    /// own (a competing transaction, LISTEN) takes [`TestDb::direct_options`].
    pub fn options(&self) -> PgConnectOptions {
        self.options.clone()
    }

    /// A pool acting as a platform user: role `authenticated`, auth.uid() = `user_id`.
    pub async fn pool_as(&self, user_id: Uuid) -> Db {
        pool::connect(self.options(), &pool_settings(false), Some(user_id), None).await.expect("connect as user")
    }

    /// Connection options for this database on the server itself, never through the pooler
    /// (for what needs a session: LISTEN, advisory locks, migrations).
    pub fn direct_options(&self) -> PgConnectOptions {
        shared().admin.clone().database(&self.name)
    }

    /// A pool of sessions on the server itself (never through the pooler): for LISTEN.
    pub async fn session_pool(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_with(self.direct_options())
            .await
            .expect("a session on the test server")
    }

    /// A URL for child processes (DATABASE_URL for the fleetdeck binary): through the pooler
    /// when the run goes through it.
    pub fn url(&self) -> String {
        if let Some(p) = &shared().pooler {
            return format!(
                "postgres://{}@localhost/{}?host={}&port={POOLER_PORT}",
                crate::db::embedded::SUPERUSER,
                self.name,
                p.dir.display()
            );
        }
        self.direct_url()
    }

    /// A URL of this database on the server itself (never through the pooler).
    pub fn direct_url(&self) -> String {
        match &shared().server {
            Server::Embedded { server, .. } => server.url(&self.name),
            Server::External { url } => with_database(url, &self.name),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = shared().admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&self.name));
        let _ = block_on_thread(move || {
            Box::pin(async move {
                if let Ok(mut conn) = admin.connect().await {
                    let _ = sqlx::query(&sql).execute(&mut conn).await;
                }
            })
        });
    }
}

/// Replace the database name in a PostgreSQL URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = before_query.split('/').next().unwrap_or("");
    format!("{scheme}://{authority}/{database}{query}")
}

/// A primary and its hot standby, streaming (`pg_basebackup -R`), both with pg_stat_statements
/// loaded, for the tests that need a standby: a cluster pair of their own, not the shared test server, so that stopping the standby
/// or holding it back touches no other test. Unix sockets only. Both are stopped and removed on
/// drop. Panics when they cannot be started (test support).
pub struct Replicated {
    pub primary: EmbeddedServer,
    pub standby: EmbeddedServer,
    root: PathBuf,
}

impl Replicated {
    pub fn start() -> Replicated {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let root = std::env::temp_dir().join(format!("{TEMP_PREFIX}{}-r{n}", std::process::id()));
        if let Err(e) = std::fs::create_dir_all(&root) {
            panic!("{}: {e}", root.display());
        }
        let opts = ServerOptions {
            data_dir: root.join("primary"),
            bin_dir: None,
            server_user: std::env::var("FLEETDECK_TEST_SERVER_USER").unwrap_or_else(|_| "postgres".into()),
            throwaway: true,
        };
        let primary = match EmbeddedServer::ensure_running(&opts) {
            Ok(p) => p,
            Err(e) => panic!("cannot start the primary: {e}"),
        };
        // pg_stat_statements on both (the standby copies the configuration): what ran where.
        let conf = primary.data_dir.join("postgresql.conf");
        let appended = std::fs::OpenOptions::new().append(true).open(&conf).and_then(|mut f| {
            use std::io::Write as _;
            f.write_all(b"\nshared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n")
        });
        if let Err(e) = appended {
            panic!("{}: {e}", conf.display());
        }
        if let Err(e) = primary.stop(false).and_then(|_| primary.restart()) {
            panic!("cannot restart the primary with pg_stat_statements: {e}");
        }
        let standby = match primary.start_standby(&root.join("standby")) {
            Ok(s) => s,
            Err(e) => {
                let _ = primary.stop(true);
                panic!("cannot start the standby: {e}")
            }
        };
        Replicated { primary, standby, root }
    }

    /// Wait (at most `limit`) until the standby has replayed everything the primary had written
    /// when this was called (its insert position: the throwaway primary commits without waiting
    /// for its WAL to be written). False if it did not in time.
    pub async fn caught_up(&self, limit: Duration) -> bool {
        let Ok(mut primary) = self.primary.connect_options("postgres").connect().await else { return false };
        let Ok(lsn) =
            sqlx::query_scalar::<_, String>("SELECT pg_current_wal_insert_lsn()::text").fetch_one(&mut primary).await
        else {
            return false;
        };
        let Ok(mut standby) = self.standby.connect_options("postgres").connect().await else { return false };
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            let replayed: Option<bool> = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
                .bind(&lsn)
                .fetch_one(&mut standby)
                .await
                .ok()
                .flatten();
            if replayed == Some(true) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

impl Drop for Replicated {
    fn drop(&mut self) {
        let _ = self.standby.stop(true);
        let _ = self.primary.stop(true);
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A pgbouncer in transaction pooling mode in front of `server`, on a Unix socket in a
/// directory of its own (no TCP): Debian's `pgbouncer` package (`.ci/run` installs it when
/// missing). It lets pass the `extra_float_digits` that sqlx sends at start-up. Every database of the server is reachable through it. Run as the server's OS user
/// when root (pgbouncer refuses root); stopped and removed on drop. Panics when it cannot start
/// (test support).
pub struct Pooler {
    pub dir: PathBuf,
    child: std::process::Child,
}

/// Where pgbouncer listens, in `Pooler::dir`.
pub const POOLER_PORT: u16 = 6432;

impl Pooler {
    pub fn start(server: &EmbeddedServer) -> Pooler {
        Pooler::start_sized(server, 20)
    }

    /// With at most `pool_size` server connections per database and user: 1 makes every client
    /// share one.
    pub fn start_sized(server: &EmbeddedServer, pool_size: u32) -> Pooler {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("{TEMP_PREFIX}{}-b{n}", std::process::id()));
        let path = std::env::var_os("PATH").unwrap_or_default();
        let program = ["/usr/sbin", "/usr/bin"]
            .into_iter()
            .map(PathBuf::from)
            .chain(std::env::split_paths(&path))
            .map(|d| d.join("pgbouncer"))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("pgbouncer is not installed (Debian's pgbouncer package; .ci/run installs it)"));
        let write = |name: &str, text: String| {
            if let Err(e) = std::fs::write(dir.join(name), text) {
                panic!("{}: {e}", dir.join(name).display());
            }
        };
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("{}: {e}", dir.display());
        }
        write(
            "pgbouncer.ini",
            format!(
                "[databases]\n* = host={server} port={port}\n\n[pgbouncer]\n\
                 listen_addr =\nlisten_port = {POOLER_PORT}\nunix_socket_dir = {dir}\n\
                 auth_type = trust\nauth_file = {dir}/users.txt\npool_mode = transaction\n\
                 max_client_conn = 500\ndefault_pool_size = {pool_size}\nlogfile = {dir}/pgbouncer.log\n\
                 pidfile = {dir}/pgbouncer.pid\n\
                 ignore_startup_parameters = extra_float_digits\n",
                server = server.data_dir.display(),
                port = crate::db::embedded::SOCKET_PORT,
                dir = dir.display(),
            ),
        );
        write("users.txt", format!("\"{}\" \"\"\n", crate::db::embedded::SUPERUSER));
        let mut cmd = std::process::Command::new(&program);
        cmd.arg(dir.join("pgbouncer.ini")).current_dir("/");
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        if let Some(u) = &server.run_as {
            use std::os::unix::process::CommandExt;
            let _ = nix::unistd::chown(&dir, Some(u.uid.into()), Some(u.gid.into()));
            for f in ["pgbouncer.ini", "users.txt"] {
                let _ = nix::unistd::chown(&dir.join(f), Some(u.uid.into()), Some(u.gid.into()));
            }
            cmd.uid(u.uid).gid(u.gid);
        }
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => panic!("cannot start {} (Debian's pgbouncer package): {e}", program.display()),
        };
        let pooler = Pooler { dir, child };
        let socket = pooler.dir.join(format!(".s.PGSQL.{POOLER_PORT}"));
        let until = std::time::Instant::now() + Duration::from_secs(10);
        // Until it accepts (its socket file appears at bind, a moment before it listens).
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            if std::time::Instant::now() > until {
                let log = std::fs::read_to_string(pooler.dir.join("pgbouncer.log")).unwrap_or_default();
                panic!("pgbouncer did not listen within 10 s:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        pooler
    }

    /// Connection options for a database through the pooler.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        pooler_options(&self.dir).database(database)
    }
}

fn pooler_options(dir: &std::path::Path) -> PgConnectOptions {
    PgConnectOptions::new().socket(dir).port(POOLER_PORT).username(crate::db::embedded::SUPERUSER)
}

impl Drop for Pooler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_in_urls() {
        assert_eq!(with_database("postgres://u:p@h:5/db?sslmode=disable", "x"), "postgres://u:p@h:5/x?sslmode=disable");
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(with_database("postgresql://h/db", "x"), "postgresql://h/x");
    }
}

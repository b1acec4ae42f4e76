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

use sqlx::postgres::{PgConnectOptions, PgPool};
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
}

static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();
static CLEANUP: Mutex<Option<(Server, PgConnectOptions, String)>> = Mutex::new(None);
static COUNTER: AtomicUsize = AtomicUsize::new(0);

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
        let data_dir = entry.path().join("data");
        if let Ok(server) = EmbeddedServer::existing(&data_dir, None, "postgres") {
            let _ = server.stop(true);
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
    Ok(Shared { server, admin, template })
}

extern "C" fn cleanup_at_exit() {
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
    }
}

/// A freshly migrated database of its own for one test; dropped when the value is dropped.
pub struct TestDb {
    /// The operator pool (the connecting role, a superuser on the throwaway server).
    pub pool: PgPool,
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
        let options = shared.admin.clone().database(&name);
        let pool =
            pool::connect(options.clone(), &test_pool_settings(), None, None).await.expect("connect to test database");
        TestDb { pool, name, options }
    }

    /// Connection options for this database (as the operator).
    pub fn options(&self) -> PgConnectOptions {
        self.options.clone()
    }

    /// A pool acting as a platform user: role `authenticated`, auth.uid() = `user_id`.
    pub async fn pool_as(&self, user_id: Uuid) -> PgPool {
        pool::connect(self.options(), &test_pool_settings(), Some(user_id), None).await.expect("connect as user")
    }

    /// A URL for child processes (DATABASE_URL for the fleetdeck binary).
    pub fn url(&self) -> String {
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

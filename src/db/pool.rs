//! The connection pool: timeouts, application name, and the acting identity.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};
use uuid::Uuid;

/// Pool settings taken from the configuration.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub statement_timeout: Duration,
    pub acquire_timeout: Duration,
    pub max_connections: u32,
    /// Every session runs with `default_transaction_read_only = on`.
    pub read_only: bool,
}

impl From<&crate::config::DatabaseSettings> for PoolSettings {
    fn from(d: &crate::config::DatabaseSettings) -> Self {
        PoolSettings {
            statement_timeout: d.statement_timeout,
            acquire_timeout: d.acquire_timeout.min(crate::config::MAX_ACQUIRE_TIMEOUT),
            max_connections: d.max_connections,
            read_only: false,
        }
    }
}

/// The server process ids of this process's own connections, so that fleetdeck can tell its own
/// connections from other clients' when it decides whether to stop its server.
#[derive(Debug, Clone, Default)]
pub struct OwnBackends(Arc<Mutex<HashSet<i32>>>);

impl OwnBackends {
    pub fn insert(&self, pid: i32) {
        if let Ok(mut set) = self.0.lock() {
            set.insert(pid);
        }
    }

    pub fn pids(&self) -> Vec<i32> {
        self.0.lock().map(|s| s.iter().copied().collect()).unwrap_or_default()
    }
}

/// Options every fleetdeck connection carries.
pub fn with_session_defaults(options: PgConnectOptions, settings: &PoolSettings) -> PgConnectOptions {
    let timeout_ms = settings.statement_timeout.as_millis().max(1).to_string();
    let options = options
        .application_name("fleetdeck")
        // An explicit search_path: a role named like one of fleetdeck's schemas ("fleetdeck") would
        // otherwise put that schema first through "$user".
        // JIT compilation costs 15–100 ms on the first run of a large plan and pays off only for
        // long analytical queries; fleetdeck's reads are short.
        .options([("statement_timeout", timeout_ms.as_str()), ("search_path", "public"), ("jit", "off")]);
    if settings.read_only {
        options.options([("default_transaction_read_only", "on")])
    } else {
        options
    }
}

/// Open a pool. With `acting_user`, every connection switches to the role `authenticated` with
/// the user's id visible to `auth.uid()`, so the seed's row-level security applies to it.
pub async fn connect(
    options: PgConnectOptions,
    settings: &PoolSettings,
    acting_user: Option<Uuid>,
    own: Option<OwnBackends>,
) -> Result<PgPool, sqlx::Error> {
    let options = with_session_defaults(options, settings);
    let mut pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .min_connections(0)
        .acquire_timeout(settings.acquire_timeout.min(crate::config::MAX_ACQUIRE_TIMEOUT));
    if acting_user.is_some() || own.is_some() {
        pool = pool.after_connect(move |conn, _meta| {
            let own = own.clone();
            Box::pin(async move {
                if let Some(own) = own {
                    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut *conn).await?;
                    own.insert(pid);
                }
                if let Some(user_id) = acting_user {
                    sqlx::query("SELECT set_config('request.jwt.claim.sub', $1, false)")
                        .bind(user_id.to_string())
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("SET ROLE authenticated").execute(&mut *conn).await?;
                }
                Ok(())
            })
        });
    }
    // One direct attempt first: the pool retries a refused or unresolvable server until its
    // acquire timeout and then says only "pool timed out"; this says the cause at once.
    let probe = tokio::time::timeout(settings.acquire_timeout, options.connect()).await;
    match probe {
        Ok(Ok(conn)) => {
            conn.close().await.ok();
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(sqlx::Error::PoolTimedOut),
    }
    pool.connect_with(options).await
}

/// What went wrong connecting, in words a person acts on: the address refused, the host
/// unknown, the password wrong, the server's own message.
pub fn cause(e: &sqlx::Error) -> String {
    use std::io::ErrorKind;
    match e {
        sqlx::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => "connection refused (is a server listening there?)".to_string(),
            ErrorKind::NotFound => format!("no such socket or host ({io})"),
            ErrorKind::TimedOut => "the connection timed out".to_string(),
            ErrorKind::PermissionDenied => format!("permission denied ({io})"),
            _ if io.to_string().contains("failed to lookup address") => format!("the host name is unknown ({io})"),
            _ => io.to_string(),
        },
        sqlx::Error::Tls(t) => format!("TLS failed: {t}"),
        sqlx::Error::PoolTimedOut => {
            "no connection within the acquire timeout (the server does not answer)".to_string()
        }
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

/// Everything needed to open another pool like the dashboard's (for switching read-only mode
/// while it runs).
#[derive(Debug, Clone)]
pub struct Connector {
    pub options: PgConnectOptions,
    pub settings: PoolSettings,
    pub acting_user: Option<Uuid>,
    pub own: Option<OwnBackends>,
}

impl Connector {
    /// A new pool, read-only or not.
    pub async fn connect(&self, read_only: bool) -> Result<PgPool, sqlx::Error> {
        let settings = PoolSettings { read_only, ..self.settings.clone() };
        connect(self.options.clone(), &settings, self.acting_user, self.own.clone()).await
    }
}

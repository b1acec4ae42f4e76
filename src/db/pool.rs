//! The connection pool: timeouts, application name, and the acting identity.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

pub use super::handle::Db;
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
    /// The server is reached through a pooler in transaction pooling mode: see [`connect`].
    pub pooled: bool,
}

impl From<&crate::config::DatabaseSettings> for PoolSettings {
    fn from(d: &crate::config::DatabaseSettings) -> Self {
        PoolSettings {
            statement_timeout: d.statement_timeout,
            acquire_timeout: d.acquire_timeout.min(crate::config::MAX_ACQUIRE_TIMEOUT),
            max_connections: d.max_connections,
            read_only: false,
            pooled: d.pooled,
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

/// Options every fleetdeck connection carries. Through a transaction pooler the session
/// settings go in each transaction instead ([`transaction_prelude`]): a pooler passes no
/// start-up `options` on, and its server connections serve other clients in between.
pub fn with_session_defaults(options: PgConnectOptions, settings: &PoolSettings) -> PgConnectOptions {
    let options = options.application_name("fleetdeck");
    if settings.pooled {
        // sqlx names its statements per client connection; through the pooler the next
        // transaction may run on a server connection where that name means nothing, or another
        // client's statement. Uncached, each statement is prepared in the transaction that runs it.
        return options.statement_cache_capacity(0);
    }
    let timeout_ms = statement_timeout_ms(settings);
    // An explicit search_path: a role named like one of fleetdeck's schemas ("fleetdeck") would
    // otherwise put that schema first through "$user".
    // JIT compilation costs 15–100 ms on the first run of a large plan and pays off only for
    // long analytical queries; fleetdeck's reads are short.
    let options =
        options.options([("statement_timeout", timeout_ms.as_str()), ("search_path", "public"), ("jit", "off")]);
    if settings.read_only {
        options.options([("default_transaction_read_only", "on")])
    } else {
        options
    }
}

fn statement_timeout_ms(settings: &PoolSettings) -> String {
    settings.statement_timeout.as_millis().max(1).to_string()
}

/// What a pooled checkout runs first, as one simple query: a transaction that keeps one server
/// connection of the pooler until it ends, cleared of prepared statements a client left there
/// (sqlx's are named per client connection, so they would collide), with the settings a direct
/// session carries from its start-up and, acting as a platform user, the role and identity.
pub fn transaction_prelude(settings: &PoolSettings, acting_user: Option<Uuid>) -> String {
    let mut sql = String::from(if settings.read_only { "BEGIN READ ONLY; " } else { "BEGIN; " });
    sql.push_str("DEALLOCATE ALL; ");
    sql.push_str(&format!("SET LOCAL statement_timeout = {}; ", statement_timeout_ms(settings)));
    sql.push_str("SET LOCAL search_path = public; SET LOCAL jit = off; ");
    if let Some(user) = acting_user {
        // A Uuid's text is hex digits and dashes: nothing to quote.
        sql.push_str(&format!(
            "SET LOCAL ROLE authenticated; SELECT set_config('request.jwt.claim.sub', '{user}', true); "
        ));
    }
    sql
}

/// Open a pool. With `acting_user`, every connection switches to the role `authenticated` with
/// the user's id visible to `auth.uid()`, so the seed's row-level security applies to it.
///
/// Pooled (`settings.pooled`), the handle runs every statement and transaction in a transaction
/// that begins with [`transaction_prelude`] (see [`Db`]): nothing outlives a transaction on the
/// server, which is what transaction pooling allows.
pub async fn connect(
    options: PgConnectOptions,
    settings: &PoolSettings,
    acting_user: Option<Uuid>,
    own: Option<OwnBackends>,
) -> Result<Db, sqlx::Error> {
    let options = with_session_defaults(options, settings);
    let pool = pool_options(settings, acting_user, own);
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
    Ok(handle(pool.connect_with(options).await?, settings, acting_user))
}

fn handle(pool: PgPool, settings: &PoolSettings, acting_user: Option<Uuid>) -> Db {
    if settings.pooled {
        Db::pooled(pool, transaction_prelude(settings, acting_user))
    } else {
        Db::direct(pool)
    }
}

/// A pool like [`connect`]'s that connects only when first used: for a standby, which may be
/// down when fleetdeck starts without that stopping it.
pub fn connect_lazy(options: PgConnectOptions, settings: &PoolSettings, acting_user: Option<Uuid>) -> Db {
    let pool = pool_options(settings, acting_user, None).connect_lazy_with(with_session_defaults(options, settings));
    handle(pool, settings, acting_user)
}

fn pool_options(settings: &PoolSettings, acting_user: Option<Uuid>, own: Option<OwnBackends>) -> PgPoolOptions {
    let mut pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .min_connections(0)
        .acquire_timeout(settings.acquire_timeout.min(crate::config::MAX_ACQUIRE_TIMEOUT));
    // Pooled, the session's settings go in each transaction (the handle's prelude).
    if settings.pooled {
        return pool;
    }
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
    pool
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
    /// A session of its own on the primary for the change listener (None: the change clock,
    /// `database.change_feed`).
    pub direct: Option<PgConnectOptions>,
    pub settings: PoolSettings,
    pub acting_user: Option<Uuid>,
    pub own: Option<OwnBackends>,
}

impl Connector {
    /// A new pool, read-only or not.
    pub async fn connect(&self, read_only: bool) -> Result<Db, sqlx::Error> {
        let settings = PoolSettings { read_only, ..self.settings.clone() };
        connect(self.options.clone(), &settings, self.acting_user, self.own.clone()).await
    }
}

//! Where the data lives: fleetdeck's own server or the one DATABASE_URL names; the pool; the schema.

pub mod embedded;
pub mod handle;
pub mod keeper;
pub mod migrate;
pub mod pool;
pub mod replica;

use std::str::FromStr;

use crate::db::handle::Db;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::config::{redact_url, Settings};
use embedded::{EmbeddedServer, ServerError, ServerOptions};
use pool::PoolSettings;

/// The database fleetdeck creates on its own server.
pub const DATABASE_NAME: &str = "fleetdeck";

/// Which server fleetdeck talks to.
#[derive(Debug, Clone)]
pub enum Target {
    /// fleetdeck's own server.
    Embedded(EmbeddedServer),
    /// The server DATABASE_URL (or database.url) names; the URL without its password.
    External { url: String },
}

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::Embedded(s) => {
                let user =
                    s.run_as.as_ref().map(|u| format!(", server runs as OS user {}", u.name)).unwrap_or_default();
                format!(
                    "fleetdeck's own server: cluster {}, Unix socket only{user}; binaries {}",
                    s.data_dir.display(),
                    s.bin_dir.display()
                )
            }
            Target::External { url } => format!("DATABASE_URL {url}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("cannot connect to {target}: {}", pool::cause(source))]
    Connect { target: String, source: sqlx::Error },
    #[error("database.url is not a valid PostgreSQL URL ({url}): {source}")]
    BadUrl { url: String, source: sqlx::Error },
    #[error("migrating the schema failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Query(#[from] sqlx::Error),
    #[error("{0}")]
    NeedsSession(String),
}

/// What to do about pending migrations on a server fleetdeck does not own.
/// (On its own server fleetdeck always applies them: that database is its own.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigratePolicy {
    /// Apply them (`fleetdeck migrate`).
    Apply,
    /// Refuse to go on while any are pending (the dashboard and the other verbs).
    Require,
    /// Leave the schema alone (`fleetdeck doctor` reports it).
    Leave,
}

/// An open database: the operator pool and where it points.
pub struct Database {
    pub pool: Db,
    pub options: PgConnectOptions,
    /// A session of its own on the primary (the change listener, migrations): `database.direct_url`,
    /// or `url` itself when it is not pooled. None: pooled without a direct URL.
    pub direct: Option<PgConnectOptions>,
    /// The hot standby (`database.replica_url`).
    pub replica: Option<PgConnectOptions>,
    pub target: Target,
    /// Migrations applied while opening.
    pub applied: Vec<(i64, String)>,
    /// This process's own server connections (pass to every pool opened on this database).
    pub own: pool::OwnBackends,
    /// On fleetdeck's own server: this process uses it (its keeper stops it when none does).
    pub using: Option<keeper::Using>,
}

/// Find the server, starting fleetdeck's own when no URL is configured (and saying, with the
/// lock it returns, that this process uses it).
pub async fn resolve_target(settings: &Settings) -> Result<(Target, PgConnectOptions, Option<keeper::Using>), DbError> {
    if let Some(url) = &settings.database.url {
        let options =
            PgConnectOptions::from_str(url).map_err(|source| DbError::BadUrl { url: redact_url(url), source })?;
        return Ok((Target::External { url: redact_url(url) }, options, None));
    }
    let opts = ServerOptions {
        data_dir: settings.database.data_dir.clone(),
        bin_dir: settings.database.postgres_bin.clone(),
        server_user: settings.database.server_user.clone(),
        throwaway: false,
    };
    let server_user = settings.database.server_user.clone();
    let (server, using) = tokio::task::spawn_blocking(move || {
        // Before starting it: a keeper stopping it finishes first, then we start it again.
        let data_dir = std::path::absolute(&opts.data_dir).unwrap_or_else(|_| opts.data_dir.clone());
        let using = keeper::using(&data_dir)?;
        let server = EmbeddedServer::ensure_running(&opts)?;
        keeper::spawn(&server.data_dir, &server.bin_dir, &server_user);
        Ok::<_, ServerError>((server, using))
    })
    .await
    .map_err(|e| ServerError::Command { what: "starting PostgreSQL".into(), detail: e.to_string() })??;
    create_database_if_missing(&server, DATABASE_NAME).await?;
    let options = server.connect_options(DATABASE_NAME);
    Ok((Target::Embedded(server), options, Some(using)))
}

async fn create_database_if_missing(server: &EmbeddedServer, name: &str) -> Result<(), DbError> {
    let target = || Target::Embedded(server.clone()).describe();
    let mut conn = server
        .connect_options("postgres")
        .connect()
        .await
        .map_err(|source| DbError::Connect { target: target(), source })?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        if let Err(e) = sqlx::query(&sql).execute(&mut conn).await {
            // Another fleetdeck may have created it a moment ago.
            let raced = e.as_database_error().and_then(|d| d.code()).is_some_and(|c| c == "42P04");
            if !raced {
                return Err(e.into());
            }
        }
    }
    conn.close().await.ok();
    Ok(())
}

impl Database {
    /// Open the database as the operator (the connecting role), applying migrations per policy.
    pub async fn open(settings: &Settings, policy: MigratePolicy) -> Result<Database, DbError> {
        let (target, options, using) = resolve_target(settings).await?;
        let pool_settings = PoolSettings::from(&settings.database);
        let own = pool::OwnBackends::default();
        let pool = pool::connect(options.clone(), &pool_settings, None, Some(own.clone()))
            .await
            .map_err(|source| DbError::Connect { target: target.describe(), source })?;
        let parse = |url: &str| {
            PgConnectOptions::from_str(url).map_err(|source| DbError::BadUrl { url: redact_url(url), source })
        };
        let direct = match &settings.database.direct_url {
            Some(url) => Some(parse(url)?),
            None if !pool_settings.pooled => Some(options.clone()),
            None => None,
        };
        let replica = settings.database.replica_url.as_deref().map(parse).transpose()?;
        let apply = matches!(target, Target::Embedded(_)) || policy == MigratePolicy::Apply;
        let applied = if !apply {
            Vec::new()
        } else if !pool_settings.pooled {
            migrate::apply(&pool).await?
        } else {
            // The migrator holds a session-level advisory lock while it works: on the primary
            // itself, not through the pooler.
            let Some(direct) = &direct else {
                return Err(DbError::NeedsSession(
                    "migrating takes a session-level advisory lock, which a transaction pooler does not keep: \
                     set database.direct_url (FLEETDECK_DATABASE__DIRECT_URL) to the primary itself"
                        .into(),
                ));
            };
            let session = PoolSettings { pooled: false, max_connections: 1, ..pool_settings.clone() };
            let direct_pool = pool::connect(direct.clone(), &session, None, None)
                .await
                .map_err(|source| DbError::Connect { target: "database.direct_url".into(), source })?;
            let applied = migrate::apply(&direct_pool).await;
            direct_pool.close().await;
            applied?
        };
        Ok(Database { pool, options, direct, replica, target, applied, own, using })
    }

    /// Close the pool. On fleetdeck's own server, stop the server when no other client is
    /// connected (the last fleetdeck out turns it off).
    pub async fn close(self) -> Result<(), DbError> {
        self.pool.close().await;
        let Target::Embedded(server) = self.target else {
            return Ok(());
        };
        let mut conn = server.connect_options("postgres").connect().await?;
        // Other clients: any client backend that is not one of this process's connections
        // (those may take a moment to leave pg_stat_activity after the pool closed them).
        let others: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND pid <> ALL($1)",
        )
        .bind(self.own.pids())
        .fetch_one(&mut conn)
        .await?;
        if others == 0 {
            conn.close().await.ok();
            tokio::task::spawn_blocking(move || server.stop(false))
                .await
                .map_err(|e| ServerError::Command { what: "stopping PostgreSQL".into(), detail: e.to_string() })??;
        } else {
            tracing::info!(others, "other clients still use fleetdeck's server; leaving it running");
            conn.close().await.ok();
        }
        Ok(())
    }
}

//! How a command gets its services: the schema checked, who acts (the operator or a platform
//! user), the pools on the primary and the hot standby, and where the change feed listens.

use std::process::ExitCode;
use std::sync::Arc;

use color_eyre::eyre::Result;

use super::{exec, SchemaError};
use crate::config::Settings;
use crate::db::replica::Replica;
use crate::db::{migrate, pool, Database, DbError, MigratePolicy};
use crate::service::{identity, Actor, Services};

/// Refuse to work on a database whose schema is behind (or ahead of) this binary.
pub(crate) async fn require_current_schema(db: &Database) -> Result<()> {
    // A server that goes away here is unavailable (exit 4), like one that could not be reached.
    let status = migrate::status(&db.pool).await.map_err(crate::service::Error::from)?;
    if !status.is_current() {
        let what = if !status.pending.is_empty() {
            format!("{} of fleetdeck's migrations are not applied", status.pending.len())
        } else {
            "its schema differs from this fleetdeck's migrations".to_string()
        };
        return Err(SchemaError(format!(
            "the database at {} is not ready: {what}; run `fleetdeck migrate` (or `fleetdeck doctor` for details)",
            db.target.describe()
        ))
        .into());
    }
    Ok(())
}

/// Run a verb for scripts on the database: open it (exit 4 when it cannot be reached), check
/// the schema, act as the configured identity, and close the pool and the database afterwards.
/// A verb that only `reads` gets services reading from the standby when one is configured and
/// has replayed what was committed before the verb started.
pub(crate) async fn with_services<F, Fut>(settings: &Settings, reads: bool, verb: F) -> Result<ExitCode>
where
    F: FnOnce(Services) -> Fut,
    Fut: std::future::Future<Output = Result<ExitCode>>,
{
    let db = match Database::open(settings, MigratePolicy::Require).await {
        Ok(db) => db,
        Err(e @ (DbError::Connect { .. } | DbError::Server(_))) => return Ok(exec::fail(exec::UNAVAILABLE, e)),
        Err(e) => return Err(e.into()),
    };
    let outcome = async {
        require_current_schema(&db).await?;
        let services = services(&db, settings).await?;
        let pool = services.pool.clone();
        let replica = services.replica.clone();
        let services = if reads { services.fresh_reading().await } else { services };
        let code = verb(services).await;
        pool.close().await;
        if let Some(r) = replica {
            r.pool.close().await;
        }
        code
    }
    .await;
    db.close().await?;
    outcome
}

/// How to open pools like the dashboard's: as the configured identity, read-only or not.
pub fn connector(db: &Database, settings: &Settings, acting_user: Option<uuid::Uuid>) -> pool::Connector {
    pool::Connector {
        options: db.options.clone(),
        // `auto` listens wherever a session of its own on the primary can be had: at 100
        // dashboards on a standby, listening cost the primary 11 % of a core and the clock 58 %
        // (the clock's reads overloaded the standby: BENCHMARKS.md, "A hundred dashboards").
        direct: match settings.database.change_feed {
            crate::config::ChangeFeed::Clock => None,
            crate::config::ChangeFeed::Auto | crate::config::ChangeFeed::Listen => db.direct.clone(),
        },
        settings: pool::PoolSettings::from(&settings.database),
        acting_user,
        own: Some(db.own.clone()),
    }
}

/// Who acts: the operator, or the platform user `--as` names (looked up by email).
async fn acting(db: &Database, settings: &Settings) -> Result<(Actor, Option<uuid::Uuid>)> {
    Ok(match &settings.user {
        None => (Actor::operator(), None),
        Some(email) => {
            let user = identity::find_by_email(&db.pool, email).await?;
            (Actor::user(&user.email, user.id), Some(user.id))
        }
    })
}

/// A pool of its own on `db`, as `user_id` (or the operator), read-only or not.
pub(super) async fn own_pool(
    db: &Database,
    settings: &Settings,
    user_id: Option<uuid::Uuid>,
    read_only: bool,
) -> Result<crate::db::handle::Db> {
    Ok(connector(db, settings, user_id)
        .connect(read_only)
        .await
        .map_err(|source| DbError::Connect { target: db.target.describe(), source })?)
}

/// The dashboard's services: always a pool of its own, so that switching read-only mode (which
/// replaces and closes it) never closes the pool the simulator or the database's own checks use.
pub(super) async fn dashboard_services(db: &Database, settings: &Settings) -> Result<Services> {
    let (actor, user_id) = acting(db, settings).await?;
    Ok(Services::new(own_pool(db, settings, user_id, settings.readonly).await?, actor)
        .with_replica(replica(db, settings, user_id)))
}

/// The standby's pool (opened when first used: a standby down at start-up stops nothing), as
/// the same identity, read-only.
pub fn replica(db: &Database, settings: &Settings, user_id: Option<uuid::Uuid>) -> Option<Arc<Replica>> {
    let options = db.replica.clone()?;
    let pool_settings = pool::PoolSettings { read_only: true, ..pool::PoolSettings::from(&settings.database) };
    Some(Replica::new(pool::connect_lazy(options, &pool_settings, user_id), settings.database.replica_max_lag))
}

/// The service layer as the configured identity (the operator, or a platform user under RLS),
/// read-only when `readonly` is set.
pub async fn services(db: &Database, settings: &Settings) -> Result<Services> {
    let (actor, user_id) = acting(db, settings).await?;
    let replica = replica(db, settings, user_id);
    if user_id.is_none() && !settings.readonly {
        return Ok(Services::new(db.pool.clone(), actor).with_replica(replica));
    }
    Ok(Services::new(own_pool(db, settings, user_id, settings.readonly).await?, actor).with_replica(replica))
}

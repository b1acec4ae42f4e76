//! The shared service layer: typed async functions per area. Every SQL statement of fleetdeck's
//! features lives here; the CLI verbs and the dashboard call the same functions.

pub mod archive;
pub mod audit;
pub mod bulk;
pub mod deploy;
pub mod executions;
pub mod fleet;
pub mod identity;
pub mod ids;
pub mod imports;
pub mod listing;
pub mod market_detail;
pub mod market_search;
pub mod marketplace;
pub mod names;
pub mod rollouts;
pub mod sim;
pub mod stacks;
pub mod system;

use std::sync::Arc;

use crate::db::handle::Db;
use uuid::Uuid;

use crate::db::replica::{ReadsFrom, Replica};

/// Who is acting: recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The platform user's email, or the OS user's name for the operator.
    pub label: String,
    /// The platform user, when fleetdeck acts as one (`--as EMAIL`).
    pub user_id: Option<Uuid>,
}

impl Actor {
    /// The operator: the OS user running fleetdeck, connected as the configured role.
    pub fn operator() -> Actor {
        let name = std::env::var("USER")
            .ok()
            .filter(|s| !s.is_empty())
            .or_else(|| nix::unistd::User::from_uid(nix::unistd::geteuid()).ok().flatten().map(|u| u.name))
            .unwrap_or_else(|| format!("uid {}", nix::unistd::geteuid()));
        Actor { label: format!("os:{name}"), user_id: None }
    }

    pub fn user(email: &str, id: Uuid) -> Actor {
        Actor { label: email.to_string(), user_id: Some(id) }
    }
}

/// The service layer's handle: a pool and who acts through it, and the hot standby reads may
/// go to.
#[derive(Debug, Clone)]
pub struct Services {
    /// The primary: writes, the audit log, and what must be current.
    pub pool: Db,
    pub actor: Actor,
    /// A hot standby for lists, deltas, counts, catalogues, searches and details.
    pub replica: Option<Arc<Replica>>,
}

impl Services {
    pub fn new(pool: Db, actor: Actor) -> Services {
        Services { pool, actor, replica: None }
    }

    pub fn with_replica(self, replica: Option<Arc<Replica>>) -> Services {
        Services { replica, ..self }
    }

    /// The pool reads go to now: the standby while it is within its lag limit and has replayed
    /// this process's writes, else the primary.
    pub fn read_pool(&self) -> &Db {
        match &self.replica {
            Some(r) if matches!(r.reads_from(), ReadsFrom::Standby { .. }) => &r.pool,
            _ => &self.pool,
        }
    }

    /// The same services reading from [`Services::read_pool`]: for reads only (a write through
    /// them is refused by the standby as read-only, never lost).
    pub fn reading(&self) -> Services {
        Services { pool: self.read_pool().clone(), actor: self.actor.clone(), replica: None }
    }

    /// Reads for a process that starts now (a verb for scripts): whatever was committed before
    /// it (an earlier verb of the same script) is shown. The standby serves them once it has
    /// replayed the primary's position of this moment (read once, from the primary), waited for
    /// at most a second; else the primary does.
    pub async fn fresh_reading(&self) -> Services {
        if let Some(r) = &self.replica {
            if let Err(e) = r.catch_up_to(&self.pool).await {
                tracing::warn!(error = %e, "could not read the primary's WAL position; reading the primary");
                return self.clone();
            }
            r.settle(r.max_lag.min(std::time::Duration::from_secs(1))).await;
        }
        self.reading()
    }

    /// Where reads go now (None: no standby configured).
    pub fn reads_from(&self) -> Option<ReadsFrom> {
        self.replica.as_ref().map(|r| r.reads_from())
    }

    /// A write of this process committed: later reads show it (the standby serves them again
    /// once it has replayed it).
    pub async fn wrote(&self) {
        if let Some(r) = &self.replica {
            if let Err(e) = r.catch_up_to(&self.pool).await {
                tracing::warn!(error = %e, "could not read the primary's WAL position after a write");
            }
        }
    }
}

/// One error type whose variants a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} not found")]
    NotFound { what: String },
    /// Someone else changed it first, or it is in a state that does not allow the action.
    #[error("{message} (now {current_state})")]
    Conflict { current_state: String, message: String },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

/// The database's own refusal (insufficient_privilege: a grant, a row-level security policy, or
/// a viewer's write refused by migration 19's triggers): its message.
pub fn insufficient_privilege(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("42501") => Some(db.message().to_string()),
        _ => None,
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => Error::NotFound { what: "row".into() },
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Error::Unavailable(e.to_string())
            }
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.to_string()).unwrap_or_default();
                let message = db.message().to_string();
                let field = db.constraint().unwrap_or("value").to_string();
                if field == "deployment_objects_immutable" {
                    return Error::Forbidden(format!(
                        "a deployment object cannot be changed once submitted; submit a new version instead \
                         (the database says: {message})"
                    ));
                }
                match code.as_str() {
                    // insufficient_privilege, including row-level security refusals
                    "42501" => Error::Forbidden(message),
                    // read_only_sql_transaction: read-only mode
                    "25006" => Error::Forbidden("read-only mode: the database session is read-only".into()),
                    // check, foreign key, not null, integrity violations
                    "23514" | "23503" | "23502" | "23000" | "22001" | "22P02" => {
                        Error::Invalid { field, reason: message }
                    }
                    // unique violation
                    "23505" => Error::Conflict { current_state: "exists".into(), message },
                    // admin shutdown, cannot connect now, connection failures
                    c if c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") => {
                        Error::Unavailable(message)
                    }
                    _ => Error::Database(e),
                }
            }
            _ => Error::Database(e),
        }
    }
}

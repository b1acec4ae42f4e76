//! The shared service layer: typed async functions per area. Every SQL statement of fleetdeck's
//! features lives here; the CLI verbs and the dashboard call the same functions.

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

use sqlx::PgPool;
use uuid::Uuid;

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

/// The service layer's handle: a pool and who acts through it.
#[derive(Debug, Clone)]
pub struct Services {
    pub pool: PgPool,
    pub actor: Actor,
}

impl Services {
    pub fn new(pool: PgPool, actor: Actor) -> Services {
        Services { pool, actor }
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

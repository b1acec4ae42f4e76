//! Who fleetdeck acts as.

use crate::db::handle::Db;
use uuid::Uuid;

use super::{Error, Result};

/// A platform user (platform.users), without secrets.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PlatformUser {
    pub id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_active: Option<bool>,
}

/// Find a platform user by email (case-insensitive). Runs as the operator.
pub async fn find_by_email(pool: &Db, email: &str) -> Result<PlatformUser> {
    let user: Option<PlatformUser> = sqlx::query_as(
        "SELECT id, email, first_name, last_name, is_active FROM platform.users WHERE lower(email) = lower($1)",
    )
    .bind(email.trim())
    .fetch_optional(pool)
    .await?;
    match user {
        Some(u) if u.is_active == Some(false) => {
            Err(Error::Forbidden(format!("platform user {} is not active", u.email)))
        }
        Some(u) => Ok(u),
        None => Err(Error::NotFound { what: format!("platform user with email {email:?}") }),
    }
}

/// The user the current connection acts as, as the database sees it (auth.uid()).
pub async fn current_user_id(pool: &Db) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar("SELECT auth.uid()").fetch_one(pool).await?)
}

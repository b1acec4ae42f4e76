//! Stacks of the broker: create one (with its labels and annotations) in one transaction.

use uuid::Uuid;

use super::audit::{self, Entry, Outcome};
use super::{Error, Result, Services};
use crate::domain::broker::NewStack;

/// A generator a stack can belong to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Generator {
    pub id: Uuid,
    pub name: String,
}

/// The live generators, by name.
pub async fn generators(services: &Services) -> Result<Vec<Generator>> {
    Ok(sqlx::query_as("SELECT id, name FROM broker.generators WHERE deleted_at IS NULL ORDER BY name, id")
        .fetch_all(&services.pool)
        .await?)
}

/// Create a stack with its labels and annotations, audited, in one transaction. With `dry_run`
/// everything is checked by the database and then rolled back. Returns the new stack's id.
pub async fn create(services: &Services, stack: &NewStack, generator: Uuid, dry_run: bool) -> Result<Uuid> {
    let mut tx = services.pool.begin().await?;
    let id = create_in(&mut tx, &services.actor, stack, generator, !dry_run).await?;
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(id)
}

/// As [`create`], inside the caller's transaction (audited when `audited`).
pub(crate) async fn create_in(
    tx: &mut sqlx::PgConnection,
    actor: &super::Actor,
    stack: &NewStack,
    generator: Uuid,
    audited: bool,
) -> Result<Uuid> {
    let taken: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM broker.stacks WHERE name = $1 AND deleted_at IS NULL)")
            .bind(&stack.name)
            .fetch_one(&mut *tx)
            .await?;
    if taken {
        return Err(Error::Invalid { field: "name".into(), reason: format!("a stack named {:?} exists", stack.name) });
    }
    let live: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM broker.generators WHERE id = $1 AND deleted_at IS NULL)")
            .bind(generator)
            .fetch_one(&mut *tx)
            .await?;
    if !live {
        return Err(Error::Invalid { field: "generator".into(), reason: "the generator is gone".into() });
    }
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO broker.stacks (name, description, generator_id) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(&stack.name)
    .bind(&stack.description)
    .bind(generator)
    .fetch_one(&mut *tx)
    .await?;
    for label in &stack.labels {
        sqlx::query("INSERT INTO broker.stack_labels (stack_id, label) VALUES ($1, $2)")
            .bind(id)
            .bind(label)
            .execute(&mut *tx)
            .await?;
    }
    for (k, v) in &stack.annotations {
        sqlx::query("INSERT INTO broker.stack_annotations (stack_id, key, value) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(k)
            .bind(v)
            .execute(&mut *tx)
            .await?;
    }
    if audited {
        audit::record(
            tx,
            actor,
            &Entry {
                verb: "create",
                target_table: "broker.stacks",
                target_id: Some(id.to_string()),
                from_state: None,
                to_state: Some("live".into()),
                reason: None,
                outcome: Outcome::Ok,
                error: None,
            },
        )
        .await?;
    }
    Ok(id)
}

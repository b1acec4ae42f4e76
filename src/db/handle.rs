//! The handle every query goes through: a connection pool, directly on the server or through a
//! pooler in transaction pooling mode (issue 26, point 3).
//!
//! Through a transaction pooler a client owns a server connection only while a transaction is
//! open, and sqlx sends each statement in two parts (parse and describe, then bind and execute),
//! each ended by a Sync after which the pooler may give the server connection to another client.
//! So, pooled, every statement runs in a transaction of its own that also carries the session's
//! settings ([`crate::db::pool::transaction_prelude`]) — `BEGIN; …; statement; COMMIT` — and
//! every transaction a caller opens ([`Db::begin`]) starts with the same prelude. Directly on
//! the server, the handle is the pool and nothing more.

use std::borrow::Cow;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use sqlx::postgres::{PgQueryResult, PgRow, PgStatement, PgTypeInfo};
use sqlx::{Either, Execute, Executor, PgPool, Postgres, Transaction};

/// A pool and how it reaches the server.
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
    /// Pooled: what each transaction begins with.
    prelude: Option<Arc<str>>,
}

impl From<PgPool> for Db {
    fn from(pool: PgPool) -> Db {
        Db { pool, prelude: None }
    }
}

impl Db {
    /// Directly on the server: the pool's own sessions.
    pub fn direct(pool: PgPool) -> Db {
        Db::from(pool)
    }

    /// Through a transaction pooler: each statement and transaction begins with `prelude`.
    pub fn pooled(pool: PgPool, prelude: String) -> Db {
        Db { pool, prelude: Some(prelude.into()) }
    }

    /// Through a transaction pooler.
    pub fn is_pooled(&self) -> bool {
        self.prelude.is_some()
    }

    /// The pool itself, for what speaks its own protocol on a session (LISTEN, the migrator's
    /// advisory lock): only on a handle that is not pooled.
    pub fn pg(&self) -> &PgPool {
        &self.pool
    }

    /// Begin a transaction (pooled: with the session's settings in it).
    pub async fn begin(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        match &self.prelude {
            None => self.pool.begin().await,
            Some(prelude) => self.pool.begin_with(Cow::Owned(prelude.to_string())).await,
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }
}

impl<'c> Executor<'c> for &'c Db {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if self.prelude.is_none() {
            return self.pool.fetch_many(query);
        }
        let db = self.clone();
        let all = async move {
            let mut tx = db.begin().await?;
            let items: Vec<_> = (&mut *tx).fetch_many(query).try_collect().await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(futures::stream::iter(items.into_iter().map(Ok)))
        };
        futures::stream::once(all).try_flatten().boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        if self.prelude.is_none() {
            return self.pool.fetch_optional(query);
        }
        let db = self.clone();
        Box::pin(async move {
            let mut tx = db.begin().await?;
            let row = (&mut *tx).fetch_optional(query).await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        self.pool.prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<sqlx::Describe<Postgres>, sqlx::Error>>
    where
        'c: 'e,
    {
        self.pool.describe(sql)
    }
}

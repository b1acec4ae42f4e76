//! Bulk loading with COPY (text format), for the demo generator: rows are encoded into a buffer
//! and streamed in chunks, inside the caller's transaction.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use super::Result;

const CHUNK: usize = 4 << 20;

/// Rows for one COPY, encoded in PostgreSQL's text format.
pub struct Rows {
    buf: Vec<u8>,
    first: bool,
    count: u64,
}

impl Default for Rows {
    fn default() -> Self {
        Rows { buf: Vec::with_capacity(CHUNK + 4096), first: true, count: 0 }
    }
}

impl Rows {
    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
    }

    fn escaped(&mut self, s: &str) {
        for b in s.bytes() {
            match b {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                _ => self.buf.push(b),
            }
        }
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        self.escaped(s);
        self
    }

    pub fn opt(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(b"\\N");
        self
    }

    pub fn num(&mut self, n: impl std::fmt::Display) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(n.to_string().as_bytes());
        self
    }

    pub fn opt_num<T: std::fmt::Display>(&mut self, n: Option<T>) -> &mut Self {
        match n {
            Some(n) => self.num(n),
            None => self.null(),
        }
    }

    pub fn boolean(&mut self, b: bool) -> &mut Self {
        self.text(if b { "t" } else { "f" })
    }

    pub fn uuid(&mut self, u: uuid::Uuid) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(u.hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()).as_bytes());
        self
    }

    pub fn opt_uuid(&mut self, u: Option<uuid::Uuid>) -> &mut Self {
        match u {
            Some(u) => self.uuid(u),
            None => self.null(),
        }
    }

    pub fn json(&mut self, v: &Value) -> &mut Self {
        let s = v.to_string();
        self.text(&s)
    }

    pub fn ts(&mut self, t: DateTime<Utc>) -> &mut Self {
        let s = t.to_rfc3339();
        self.text(&s)
    }

    pub fn opt_ts(&mut self, t: Option<DateTime<Utc>>) -> &mut Self {
        match t {
            Some(t) => self.ts(t),
            None => self.null(),
        }
    }

    /// Finish the current row.
    pub fn end(&mut self) {
        self.buf.push(b'\n');
        self.first = true;
        self.count += 1;
    }

    pub fn count(&self) -> u64 {
        self.count
    }
}

/// A COPY in progress: rows are flushed to the server whenever the buffer fills.
pub struct Copy<'c> {
    copy: sqlx::postgres::PgCopyIn<&'c mut PgConnection>,
    pub rows: Rows,
    sent: u64,
}

impl<'c> Copy<'c> {
    /// Start `COPY table (columns) FROM STDIN`. `table` and `columns` are fleetdeck's own constants.
    pub async fn start(conn: &'c mut PgConnection, table: &str, columns: &[&str]) -> Result<Copy<'c>> {
        let sql = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
        let copy = conn.copy_in_raw(&sql).await?;
        Ok(Copy { copy, rows: Rows::default(), sent: 0 })
    }

    /// Send what is buffered when the buffer is full. Call after each row.
    pub async fn maybe_flush(&mut self) -> Result<()> {
        if self.rows.buf.len() >= CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if !self.rows.buf.is_empty() {
            let data = std::mem::replace(&mut self.rows.buf, Vec::with_capacity(CHUNK + 4096));
            self.copy.send(data).await?;
        }
        Ok(())
    }

    /// Send the rest and end the COPY; returns the rows the server took.
    pub async fn finish(mut self) -> Result<u64> {
        self.flush().await?;
        self.sent = self.copy.finish().await?;
        Ok(self.sent)
    }
}

/// A large load into one empty table, inside the caller's transaction, done the way PostgreSQL
/// loads fastest: its secondary indexes are dropped before and built again after (a sorted build
/// beats a million random inserts), and, when the session is a superuser's, its row triggers and
/// foreign-key checks are off during the load (`session_replication_role = replica`) and every
/// foreign key is checked afterwards in one statement per key, so nothing unchecked commits.
/// Without the rights for a step (not the table's owner, not a superuser) that step is skipped.
pub struct BulkLoad {
    table: &'static str,
    /// (name, definition) of each index dropped, to build again.
    indexes: Vec<(String, String)>,
    owner: bool,
    replica: bool,
}

impl BulkLoad {
    /// Prepare `table` (schema-qualified, fleetdeck's own constant) for a load.
    pub async fn begin(conn: &mut PgConnection, table: &'static str) -> Result<BulkLoad> {
        let (owner, superuser): (bool, bool) = sqlx::query_as(
            "SELECT pg_has_role(current_user, c.relowner, 'USAGE'), \
                    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) \
               FROM pg_class c WHERE c.oid = $1::regclass",
        )
        .bind(table)
        .fetch_one(&mut *conn)
        .await?;
        let mut indexes = Vec::new();
        if owner {
            // Not the ones behind a constraint (primary key, unique): those stay.
            indexes = sqlx::query_as(
                "SELECT quote_ident(n.nspname) || '.' || quote_ident(i.relname), pg_get_indexdef(x.indexrelid) \
                   FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace \
                  WHERE x.indrelid = $1::regclass \
                    AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) \
                  ORDER BY i.relname",
            )
            .bind(table)
            .fetch_all(&mut *conn)
            .await?;
            for (name, _) in &indexes {
                sqlx::query(&format!("DROP INDEX {name}")).execute(&mut *conn).await?;
            }
            // Room to sort each index's keys in memory when it is built again.
            sqlx::query("SET LOCAL maintenance_work_mem = '256MB'").execute(&mut *conn).await?;
        }
        if superuser {
            sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *conn).await?;
        }
        Ok(BulkLoad { table, indexes, owner, replica: superuser })
    }

    /// After the load: the indexes built again and the table analysed, then triggers back on and
    /// every foreign key checked (the indexes and statistics first: what the database reckons
    /// again after a load reads the table through them; without them, the large demo's reach was
    /// reckoned for over ten minutes).
    pub async fn finish(self, conn: &mut PgConnection) -> Result<()> {
        for (_, definition) in &self.indexes {
            // A partitioned table's index is defined `ON ONLY` the parent; built again, it
            // covers every partition.
            sqlx::query(&definition.replacen(" ON ONLY ", " ON ", 1)).execute(&mut *conn).await?;
        }
        if self.owner {
            sqlx::query(&format!("ANALYZE {}", self.table)).execute(&mut *conn).await?;
        }
        if self.replica {
            sqlx::query("SET LOCAL session_replication_role = origin").execute(&mut *conn).await?;
            // The load ran without triggers: what the database maintains from the table (the
            // executions' ids and counts, …) is reckoned again, before the foreign keys are
            // checked (a retry's parent is found among the executions' ids).
            sqlx::query("SELECT fleetdeck.after_bulk_load($1::regclass)").bind(self.table).execute(&mut *conn).await?;
            let keys: Vec<(String, String, Vec<String>, Vec<String>)> = sqlx::query_as(
                "SELECT k.conname, k.confrelid::regclass::text, \
                        ARRAY(SELECT quote_ident(attname) FROM unnest(k.conkey) WITH ORDINALITY u(n, o) \
                              JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY o), \
                        ARRAY(SELECT quote_ident(attname) FROM unnest(k.confkey) WITH ORDINALITY u(n, o) \
                              JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY o) \
                   FROM pg_constraint k WHERE k.conrelid = $1::regclass AND k.contype = 'f' ORDER BY k.conname",
            )
            .bind(self.table)
            .fetch_all(&mut *conn)
            .await?;
            for (name, parent, cols, parent_cols) in keys {
                let set = cols.iter().map(|c| format!("t.{c} IS NOT NULL")).collect::<Vec<_>>().join(" AND ");
                let joined = cols
                    .iter()
                    .zip(&parent_cols)
                    .map(|(c, p)| format!("p.{p} = t.{c}"))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                let orphans: i64 = sqlx::query_scalar(&format!(
                    "SELECT count(*) FROM {} t WHERE {set} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {joined})",
                    self.table
                ))
                .fetch_one(&mut *conn)
                .await?;
                if orphans > 0 {
                    return Err(super::Error::Invalid {
                        field: self.table.into(),
                        reason: match orphans {
                            1 => format!("1 row breaks the foreign key {name} (to {parent})"),
                            n => format!("{n} rows break the foreign key {name} (to {parent})"),
                        },
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_format_specials() {
        let mut r = Rows::default();
        r.text("a\tb\nc\\d").null().num(3).boolean(true).json(&serde_json::json!({"k": "v\n"}));
        r.end();
        assert_eq!(String::from_utf8(r.buf).unwrap(), "a\\tb\\nc\\\\d\t\\N\t3\tt\t{\"k\":\"v\\\\n\"}\n");
        assert_eq!(r.count, 1);
    }
}

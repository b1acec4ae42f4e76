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

//! A big list's search column held in memory by the list's poller, so that a `/` filter finds
//! its rows without the database evaluating the pattern on every row.
//!
//! `hostname ILIKE '%h%0%0%4%2%'` cannot use an index: over 100,000 hosts the page and its count
//! cost 70–190 ms a keystroke on this project's 2-core machine, while the same match over the
//! names in memory costs a few milliseconds (BENCHMARKS.md). The database still applies the
//! filter, so the rows shown are the database's; memory only narrows where it looks:
//!
//! - few matches (up to `BY_ID`): the page reads those rows by id, and when the list is sorted by
//!   the name under the C collation, only the page's own (`Narrowed::page`);
//! - many matches: the page walks the sort index and stops at its last row soon;
//! - either way, when the filter is the only condition the total and the marked count are
//!   memory's (plus the database's count of the unsure candidates, see below).
//!
//! The names follow the table by its change time (`updated_at`, kept by a trigger), read again
//! before a use at most once a second; a row matched only because its name changed meanwhile is
//! still checked by the database's filter. Under a C character type the database folds ASCII
//! letters only, as memory does, so every name is judged in memory. Under a language's, names
//! with characters outside ASCII are unsure candidates (its folding may differ from Rust's for
//! them) and the database judges those. Under Turkish or Azeri (`I` folds to a dotless `ı`)
//! memory does not narrow fuzzy filters.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::db::handle::Db;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use uuid::Uuid;

use super::listing::model::{Cursor, Entity, PageAt};
use super::Result;
use crate::domain::filter::Filter;

/// At most this many candidates are read by id; more are dense enough for the sort index.
pub const BY_ID: usize = 5_000;
/// Rows removed outright (not by `deleted_at`) leave no change time: reload whole after this.
const RELOAD: Duration = Duration::from_secs(300);
/// Commits that started before the last read but landed after it carry an older change time
/// (the delta reads' overlap).
const OVERLAP: Duration = Duration::from_secs(2);
/// Names are read again at most this often: heartbeats change thousands of rows a second
/// without changing a name, and typing asks for a page at every key.
const FOLLOW: Duration = Duration::from_secs(1);

/// Where a list's names live.
struct Source {
    table: &'static str,
    /// The column the name is made of, for its collation.
    column: &'static str,
    /// The search column's text, as the list's SQL computes it but without the table alias.
    name: &'static str,
    live: &'static str,
    changed: &'static str,
}

fn source(entity: Entity) -> Option<Source> {
    match entity {
        Entity::Hosts => Some(Source {
            table: "edge.host",
            column: "hostname",
            name: "coalesce(hostname, '')",
            live: "deleted_at IS NULL",
            changed: "updated_at",
        }),
        _ => None,
    }
}

/// Whether a name passes a filter: None when memory cannot tell.
type Judge = dyn Fn(&str) -> Option<bool>;

/// Which rows a filter can match, found in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowed {
    /// Every row the filter matches, and perhaps some of `unsure`.
    pub ids: Vec<Uuid>,
    /// The candidates in `ids` that memory cannot judge (names outside ASCII): the database
    /// checks them. The others match for sure.
    pub unsure: Vec<Uuid>,
    /// The names of `ids`, in the same order, when they are few enough to be read by id.
    pub names: Vec<Box<str>>,
    /// The database sorts the names byte by byte (the C collation), as Rust does: memory can
    /// find which candidates a page holds.
    pub bytewise: bool,
    /// The database's clock when the names were read.
    pub seen_at: DateTime<Utc>,
}

/// A list's live rows' names: id and search text, held compactly (a million hosts' names in
/// about 40 MB: 24 bytes a row and the name's own bytes).
pub struct Names {
    entity: Entity,
    /// Every row held: those of the last whole read sorted by id (`rows[..sorted]`, found by
    /// binary search), then those added since, in arrival order (found through `added`).
    rows: Vec<Held>,
    sorted: usize,
    added: HashMap<Uuid, usize>,
    /// The names back to back; a renamed row's new name is appended (the whole read every
    /// `RELOAD` starts afresh).
    text: String,
    live: usize,
    seen_at: DateTime<Utc>,
    loaded: Instant,
    followed: Instant,
    bytewise: bool,
    folding: Folding,
}

/// One row held: its id and where its name is in `Names::text`.
#[derive(Clone, Copy)]
struct Held {
    id: Uuid,
    start: u32,
    /// The name's length in bytes; `GONE` once the row was removed.
    len: u32,
}

const GONE: u32 = u32::MAX;

/// How the database's `ILIKE` folds case, by its character type (`datctype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Folding {
    /// C or POSIX: ASCII letters only, byte by byte; memory folds the same for every name.
    Ascii,
    /// A language's rules: the same as ASCII's for ASCII names; a name with other characters
    /// is left for the database to judge.
    Locale,
    /// Turkish and Azeri fold `I` to a dotless `ı`: memory cannot tell; the database filters.
    Turkic,
}

impl Folding {
    fn of(ctype: &str) -> Folding {
        match ctype {
            "C" | "POSIX" => Folding::Ascii,
            c if c.starts_with("tr_") || c.starts_with("az_") || c.starts_with("tr-") || c.starts_with("az-") => {
                Folding::Turkic
            }
            _ => Folding::Locale,
        }
    }
}

impl Names {
    /// Does this list keep its names in memory?
    pub fn kept(entity: Entity) -> bool {
        source(entity).is_some()
    }

    /// None held yet; judged as under a language's folding and not byte-wise until the
    /// database says otherwise.
    fn empty(entity: Entity) -> Names {
        Names {
            entity,
            rows: Vec::new(),
            sorted: 0,
            added: HashMap::new(),
            text: String::new(),
            live: 0,
            seen_at: DateTime::<Utc>::MIN_UTC,
            loaded: Instant::now(),
            followed: Instant::now(),
            bytewise: false,
            folding: Folding::Locale,
        }
    }

    /// Read every live row's name. None when the list does not keep them.
    pub async fn load(pool: &Db, entity: Entity) -> Result<Option<Names>> {
        let Some(s) = source(entity) else { return Ok(None) };
        let mut names = Names::empty(entity);
        let (bytewise, ctype): (bool, String) = sqlx::query_as(
            "SELECT d.datcollate IN ('C', 'POSIX') \
                    AND (SELECT coalesce(c.collname, 'default') FROM pg_attribute a \
                         LEFT JOIN pg_collation c ON c.oid = a.attcollation \
                         WHERE a.attrelid = $1::regclass AND a.attname = $2) IN ('default', 'C', 'POSIX'), \
                    d.datctype::text \
             FROM pg_database d WHERE d.datname = current_database()",
        )
        .bind(s.table)
        .bind(s.column)
        .fetch_one(pool)
        .await?;
        names.bytewise = bytewise;
        names.folding = Folding::of(&ctype);
        // Row by row as they arrive (a million rows read whole first would double the peak).
        let sql = format!("SELECT id, {}, now() FROM {} WHERE {}", s.name, s.table, s.live);
        let mut read = sqlx::query_as::<_, (Uuid, String, DateTime<Utc>)>(&sql).fetch(pool);
        while let Some((id, name, seen_at)) = read.try_next().await? {
            names.seen_at = seen_at;
            names.hold(id, &name);
        }
        drop(read);
        names.sort_held();
        if names.seen_at == DateTime::<Utc>::MIN_UTC {
            names.seen_at = sqlx::query_scalar("SELECT now()").fetch_one(pool).await?;
        }
        Ok(Some(names))
    }

    /// Bring the names up to date, unless they were within the last second: the rows changed
    /// since the last read (or all of them, now and then, for rows removed outright).
    pub async fn refresh(&mut self, pool: &Db) -> Result<()> {
        if self.followed.elapsed() < FOLLOW {
            return Ok(());
        }
        self.follow(pool).await
    }

    /// Read the rows changed since the last read, now.
    pub async fn follow(&mut self, pool: &Db) -> Result<()> {
        let Some(s) = source(self.entity) else { return Ok(()) };
        self.followed = Instant::now();
        if self.loaded.elapsed() >= RELOAD {
            if let Some(fresh) = Names::load(pool, self.entity).await? {
                *self = fresh;
            }
            return Ok(());
        }
        let sql = format!("SELECT id, {}, {}, now() FROM {} WHERE {} > $1", s.name, s.live, s.table, s.changed);
        let since = self.seen_at - chrono::Duration::from_std(OVERLAP).unwrap_or_default();
        let rows: Vec<(Uuid, String, bool, DateTime<Utc>)> = sqlx::query_as(&sql).bind(since).fetch_all(pool).await?;
        if rows.is_empty() {
            self.seen_at = sqlx::query_scalar("SELECT now()").fetch_one(pool).await?;
        }
        self.apply(rows);
        Ok(())
    }

    /// Take rows read from the table: live ones are added or renamed, the others removed.
    fn apply(&mut self, rows: Vec<(Uuid, String, bool, DateTime<Utc>)>) {
        for (id, name, live, seen_at) in rows {
            self.seen_at = seen_at;
            let at = self.rows[..self.sorted]
                .binary_search_by_key(&id, |h| h.id)
                .ok()
                .or_else(|| self.added.get(&id).copied());
            match (at, live) {
                (Some(i), true) => {
                    let held = self.rows[i];
                    if held.len == GONE {
                        self.live += 1;
                    } else if self.name_of(held) == Some(name.as_str()) {
                        continue;
                    }
                    let start = self.push_text(&name);
                    self.rows[i] = Held { id, start, len: name.len() as u32 };
                }
                (None, true) => {
                    let start = self.push_text(&name);
                    self.added.insert(id, self.rows.len());
                    self.rows.push(Held { id, start, len: name.len() as u32 });
                    self.live += 1;
                }
                (Some(i), false) => {
                    if self.rows[i].len != GONE {
                        self.rows[i].len = GONE;
                        self.live -= 1;
                    }
                }
                (None, false) => {}
            }
        }
    }

    /// A row of a whole read, before `sort_held`.
    fn hold(&mut self, id: Uuid, name: &str) {
        let start = self.push_text(name);
        self.rows.push(Held { id, start, len: name.len() as u32 });
    }

    /// The whole read is in: sort it by id for the changes to find their rows.
    fn sort_held(&mut self) {
        // Stable, and one row per id (the table's key) kept: the last one read.
        self.rows.reverse();
        self.rows.sort_by_key(|h| h.id);
        self.rows.dedup_by_key(|h| h.id);
        self.rows.shrink_to_fit();
        self.text.shrink_to_fit();
        self.added.clear();
        (self.sorted, self.live) = (self.rows.len(), self.rows.len());
    }

    /// Append a name to the text; where it starts.
    fn push_text(&mut self, name: &str) -> u32 {
        let start = self.text.len() as u32;
        self.text.push_str(name);
        start
    }

    /// A held row's name; None once it was removed.
    fn name_of(&self, held: Held) -> Option<&str> {
        if held.len == GONE {
            return None;
        }
        let start = held.start as usize;
        self.text.get(start..start + held.len as usize)
    }

    /// How many live rows are held.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The rows `filter` can match, or None when memory cannot narrow it (no text filter, a
    /// label filter, a pattern outside ASCII).
    pub fn narrow(&self, filter: &Filter) -> Option<Narrowed> {
        // Outside ASCII, UTF-8's bytes are all 0x80 or more: they never equal a pattern's ASCII
        // byte, so the byte-wise test is right for any name the database folds as ASCII.
        let ascii = self.folding == Folding::Ascii;
        let test: Box<Judge> = match filter {
            _ if self.folding == Folding::Turkic && matches!(filter, Filter::Fuzzy(_) | Filter::Invert(_)) => {
                return None
            }
            Filter::Fuzzy(q) if q.is_ascii() => {
                let q = q.to_ascii_lowercase();
                Box::new(move |name| (ascii || name.is_ascii()).then(|| subsequence(name.as_bytes(), q.as_bytes())))
            }
            Filter::Invert(q) if q.is_ascii() => {
                let q = q.to_ascii_lowercase();
                Box::new(move |name| (ascii || name.is_ascii()).then(|| !subsequence(name.as_bytes(), q.as_bytes())))
            }
            // strpos: a case-sensitive substring, the same on bytes as on characters.
            Filter::Exact(q) => {
                let q = q.clone();
                Box::new(move |name| Some(name.contains(q.as_str())))
            }
            _ => return None,
        };
        let (mut ids, mut unsure, mut names) = (Vec::new(), Vec::new(), Vec::new());
        for held in &self.rows {
            let Some(name) = self.name_of(*held) else { continue };
            match test(name) {
                Some(false) => continue,
                Some(true) => {}
                None => unsure.push(held.id),
            }
            ids.push(held.id);
            if ids.len() <= BY_ID {
                names.push(name.into());
            }
        }
        if ids.len() > BY_ID {
            names = Vec::new();
        }
        Some(Narrowed { ids, unsure, names, bytewise: self.bytewise, seen_at: self.seen_at })
    }
}

impl Narrowed {
    /// The candidates on the page `at` of a list sorted by the name (then the id), when memory
    /// can tell: few candidates, all sure, names sorted byte by byte. `at`'s cursor holds the
    /// name and the id as text.
    pub fn page(&self, at: &PageAt, descending: bool, limit: usize) -> Option<Vec<Uuid>> {
        if !self.bytewise || !self.unsure.is_empty() || self.names.len() != self.ids.len() {
            return None;
        }
        let mut sorted: Vec<(&str, Uuid)> = self.names.iter().map(|n| &**n).zip(self.ids.iter().copied()).collect();
        sorted.sort_unstable();
        if descending {
            sorted.reverse();
        }
        // Where a cursor stands in display order: the rows before it and the rows after it.
        let split = |c: &Cursor, include: bool| -> Option<usize> {
            let key = (c.sort.as_str(), c.id.parse::<Uuid>().ok()?);
            Some(sorted.partition_point(|row| {
                let before = if descending { *row > key } else { *row < key };
                before || (!include && *row == key)
            }))
        };
        let rows: &[(&str, Uuid)] = match at {
            PageAt::First => &sorted[..limit.min(sorted.len())],
            PageAt::Last => &sorted[sorted.len().saturating_sub(limit)..],
            PageAt::After(c) => {
                let from = split(c, false)?;
                &sorted[from..(from + limit).min(sorted.len())]
            }
            PageAt::From(c) => {
                let from = split(c, true)?;
                &sorted[from..(from + limit).min(sorted.len())]
            }
            PageAt::Before(c) => {
                let to = split(c, true)?;
                &sorted[to.saturating_sub(limit)..to]
            }
        };
        Some(rows.iter().map(|(_, id)| *id).collect())
    }
}

/// Is `query` (lower-case ASCII) a subsequence of `name` (ASCII), ignoring case? What
/// `ILIKE '%q%u%e%r%y%'` answers.
fn subsequence(name: &[u8], query: &[u8]) -> bool {
    let mut want = query.iter();
    let Some(mut next) = want.next() else { return true };
    for b in name {
        if b.to_ascii_lowercase() == *next {
            match want.next() {
                Some(n) => next = n,
                None => return true,
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(rows: &[(u128, &str)]) -> Names {
        let mut n = Names { bytewise: true, ..Names::empty(Entity::Hosts) };
        n.apply(rows.iter().map(|(id, name)| (Uuid::from_u128(*id), name.to_string(), true, Utc::now())).collect());
        n
    }

    fn ids(n: &Narrowed) -> Vec<u128> {
        let mut v: Vec<u128> = n.ids.iter().map(|u| u.as_u128()).collect();
        v.sort();
        v
    }

    #[test]
    fn a_fuzzy_filter_is_a_subsequence_ignoring_case_as_ilike_is() {
        let n = names(&[(1, "site-00042-h000421"), (2, "Site-00001-H000042"), (3, "edge-7"), (4, "")]);
        let found = n.narrow(&Filter::Fuzzy("h0042".into())).expect("narrowed");
        assert_eq!(ids(&found), vec![1, 2]);
        assert!(found.unsure.is_empty());
        assert_eq!(ids(&n.narrow(&Filter::Fuzzy("S1H".into())).expect("narrowed")), vec![2]);
        assert_eq!(ids(&n.narrow(&Filter::Invert("h0042".into())).expect("narrowed")), vec![3, 4]);
        // Exact is case-sensitive, as strpos is.
        assert_eq!(ids(&n.narrow(&Filter::Exact("Site".into())).expect("narrowed")), vec![2]);
        assert_eq!(n.narrow(&Filter::None), None);
        assert_eq!(n.narrow(&Filter::Label { key: "a".into(), value: None }), None);
    }

    #[test]
    fn names_outside_ascii_are_always_candidates_and_patterns_outside_it_are_left_to_the_database() {
        let mut n = names(&[(1, "edge-7"), (2, "\u{212A}-node"), (3, "Ωk")]);
        // Under C, ILIKE folds ASCII letters only: every name is judged in memory.
        n.folding = Folding::of("C");
        let found = n.narrow(&Filter::Fuzzy("k".into())).expect("narrowed");
        assert_eq!((ids(&found), found.unsure.len()), (vec![3], 0));
        n.folding = Folding::of("tr_TR.UTF-8");
        assert_eq!(n.narrow(&Filter::Fuzzy("k".into())), None);
        assert!(n.narrow(&Filter::Exact("k".into())).is_some(), "strpos does not fold");
        n.folding = Folding::of("en_US.UTF-8");
        // U+212A KELVIN SIGN may fold to k in the database's locale: kept, and the count is not exact.
        let found = n.narrow(&Filter::Fuzzy("k".into())).expect("narrowed");
        assert_eq!(ids(&found), vec![2, 3]);
        assert_eq!(found.unsure.len(), 2);
        assert_eq!(n.narrow(&Filter::Fuzzy("é".into())), None);
    }

    #[test]
    fn memory_finds_each_pages_rows_in_byte_order_both_ways() {
        let n = names(&[(5, "b"), (1, "a"), (9, "c"), (3, "a"), (7, "B"), (2, "d")]);
        let found = n.narrow(&Filter::Fuzzy("".into())).expect("narrowed");
        let page = |at: &PageAt, desc: bool| -> Vec<u128> {
            found.page(at, desc, 2).expect("few and sure").iter().map(|u| u.as_u128()).collect()
        };
        let at = |name: &str, id: u128| Cursor { sort: name.into(), id: Uuid::from_u128(id).to_string() };
        // Byte order: "B" < "a" < "b"; equal names by id.
        assert_eq!(page(&PageAt::First, false), [7, 1]);
        assert_eq!(page(&PageAt::After(at("a", 1)), false), [3, 5]);
        assert_eq!(page(&PageAt::From(at("a", 3)), false), [3, 5]);
        assert_eq!(page(&PageAt::Before(at("b", 5)), false), [1, 3]);
        assert_eq!(page(&PageAt::Last, false), [9, 2]);
        assert_eq!(page(&PageAt::First, true), [2, 9]);
        assert_eq!(page(&PageAt::After(at("b", 5)), true), [3, 1]);
        assert_eq!(page(&PageAt::Before(at("a", 3)), true), [9, 5]);
        assert_eq!(page(&PageAt::Last, true), [1, 7]);
        assert_eq!(page(&PageAt::After(at("d", 2)), false), Vec::<u128>::new());
        // A cursor whose id is not a uuid, or unsure candidates: memory cannot tell.
        assert_eq!(found.page(&PageAt::After(Cursor { sort: "a".into(), id: "x".into() }), false, 2), None);
        let unsure = Narrowed { unsure: vec![Uuid::from_u128(1)], ..found.clone() };
        assert_eq!(unsure.page(&PageAt::First, false, 2), None);
    }

    #[test]
    fn a_whole_read_is_found_by_id_and_follows_renames_removals_and_returns() {
        let mut n = Names { bytewise: true, ..Names::empty(Entity::Hosts) };
        for (id, name) in [(30, "c"), (10, "a"), (20, "b"), (10, "a2")] {
            n.hold(Uuid::from_u128(id), name);
        }
        n.sort_held();
        assert_eq!(n.len(), 3, "one row per id, the last read");
        assert_eq!(ids(&n.narrow(&Filter::Exact("a2".into())).expect("narrowed")), vec![10]);
        let now = Utc::now();
        let text = n.text.len();
        n.apply(vec![(Uuid::from_u128(20), "b".into(), true, now)]);
        assert_eq!(n.text.len(), text, "an unchanged name (a heartbeat) is not stored again");
        n.apply(vec![
            (Uuid::from_u128(20), "bee".into(), true, now),
            (Uuid::from_u128(30), "c".into(), false, now),
            (Uuid::from_u128(5), "new".into(), true, now),
        ]);
        assert_eq!(n.len(), 3);
        assert_eq!(ids(&n.narrow(&Filter::Fuzzy("".into())).expect("narrowed")), vec![5, 10, 20]);
        assert_eq!(ids(&n.narrow(&Filter::Exact("bee".into())).expect("narrowed")), vec![20]);
        // Removed twice counts once; a removed row that comes back is live again.
        n.apply(vec![(Uuid::from_u128(30), "c".into(), false, now)]);
        assert_eq!(n.len(), 3);
        n.apply(vec![(Uuid::from_u128(30), "c".into(), true, now), (Uuid::from_u128(5), "new".into(), false, now)]);
        assert_eq!(ids(&n.narrow(&Filter::Fuzzy("".into())).expect("narrowed")), vec![10, 20, 30]);
        assert_eq!(n.len(), 3);
    }

    #[test]
    fn changed_rows_rename_add_and_remove() {
        let mut n = names(&[(1, "a"), (2, "b"), (3, "c")]);
        let now = Utc::now();
        n.apply(vec![
            (Uuid::from_u128(1), "x".into(), false, now),
            (Uuid::from_u128(3), "cc".into(), true, now),
            (Uuid::from_u128(4), "d".into(), true, now),
            (Uuid::from_u128(9), "gone".into(), false, now),
        ]);
        assert_eq!(n.len(), 3);
        assert_eq!(ids(&n.narrow(&Filter::Fuzzy("".into())).expect("narrowed")), vec![2, 3, 4]);
        assert_eq!(ids(&n.narrow(&Filter::Exact("cc".into())).expect("narrowed")), vec![3]);
        assert_eq!(ids(&n.narrow(&Filter::Exact("a".into())).expect("narrowed")), Vec::<u128>::new());
        assert_eq!(n.seen_at, now);
    }
}

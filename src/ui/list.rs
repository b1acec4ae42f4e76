//! One owner of a list's paging, for every pane: the window of rows and the query, the request
//! in flight (its generation: replies with another are stale and dropped), delta or whole
//! re-reads, navigation, marks, sorting, filtering, and the status header's counts. Each method
//! changes the list and returns the request it needs; the pane passes it on in its effects.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::action::Action;
use super::pane::{Ctx, Detail, Effects};
use super::protocol::{DeltaRequest, PageRequest, Request};
use super::widgets::table::TableState;
use crate::domain::filter::Filter;
use crate::domain::text::sanitize_cell;
use crate::service::listing::{self, Delta, Entity, Page, PageAt, Query};

/// A whole read of the list on screen (page, total, counts) at least this often; delta reads
/// between.
pub const FULL_EVERY: Duration = Duration::from_secs(30);

/// How often a list read whole (no delta) is read again when nothing notified a change.
const WHOLE_READ_IDLE: Duration = Duration::from_secs(10);

/// Is a read last made `at` (never: None) `every` old at `now`? A clock that went back counts
/// as due.
pub fn due(now: DateTime<Utc>, at: Option<DateTime<Utc>>, every: Duration) -> bool {
    at.is_none_or(|at| (now - at).to_std().map(|d| d >= every).unwrap_or(true))
}

/// One list's state: the window of rows, the query, marks, and the request in flight.
#[derive(Debug, Clone)]
pub struct List {
    pub entity: Entity,
    pub table: TableState,
    pub query: Query,
    /// What was typed after `/`.
    pub filter_text: String,
    /// The newest request's generation; replies with another are stale and dropped.
    pub generation: u64,
    pub pending: bool,
    /// Another client changed the list while a read was in flight: read again when it lands.
    pub dirty: bool,
    /// For a list read whole: the hosts or agents it counts changed since it was last read.
    pub upstream_changed: bool,
    /// The database's clock at the last read: where the next delta read starts.
    pub seen_at: Option<DateTime<Utc>>,
    /// When the page, total and counts were last read whole.
    pub full_at: Option<DateTime<Utc>>,
    pub refreshed: Option<DateTime<Utc>>,
    pub marks: BTreeSet<String>,
    pub mark_anchor: Option<i64>,
    /// How many marked rows pass the current filter (from the last page).
    pub marked_visible: i64,
    /// The status header's counts, from the last page.
    pub facets: Vec<(String, i64)>,
    pub error: Option<String>,
}

/// What a page reply did to its list.
#[derive(Debug, PartialEq)]
pub enum Landed {
    /// For an older request: dropped.
    Stale,
    /// The rows at once, their costly cells `…`; the full page is still to come.
    Light,
    /// The page whole (for a delta: rows changed in place; `changed`: any did).
    Read {
        changed: bool,
    },
    /// A delta that cannot be applied: the page must be read whole.
    Unapplied,
    Failed(String),
}

impl List {
    pub fn new(entity: Entity) -> List {
        List {
            entity,
            table: TableState::new(listing::columns(entity)),
            query: Query::new(entity),
            filter_text: String::new(),
            generation: 0,
            pending: false,
            dirty: false,
            upstream_changed: false,
            seen_at: None,
            full_at: None,
            refreshed: None,
            marks: BTreeSet::new(),
            mark_anchor: None,
            marked_visible: 0,
            facets: Vec::new(),
            error: None,
        }
    }

    /// Marked rows the current filter hides: the last page's count, but a marked row on screen
    /// is visible whatever that count (it may predate the mark).
    pub fn marked_hidden(&self) -> i64 {
        let on_screen = self.table.rows.iter().filter(|r| self.marks.contains(&r.cursor.id)).count() as i64;
        (self.marks.len() as i64 - self.marked_visible.max(on_screen)).max(0)
    }

    // ----- reads -----

    /// Ask for a page.
    pub fn request(&mut self, at: PageAt, now: DateTime<Utc>) -> Request {
        // Health is judged by the clock the cells are drawn with.
        self.query.at = Some(now);
        self.generation += 1;
        self.pending = true;
        self.upstream_changed = false;
        self.query.marked = self.marks.iter().cloned().collect();
        Request::Page(PageRequest {
            entity: self.entity,
            generation: self.generation,
            query: self.query.clone(),
            at,
            light_first: self.table.rows.is_empty(),
        })
    }

    /// The first page, unless it is read or being read.
    pub fn ensure_loaded(&mut self, now: DateTime<Utc>) -> Option<Request> {
        (!self.table.loaded && !self.pending).then(|| self.request(PageAt::First, now))
    }

    /// The rows held, read again whole.
    pub fn refresh(&mut self, now: DateTime<Utc>) -> Request {
        let at = self.table.refresh_request();
        self.request(at, now)
    }

    /// Read what changed: a delta of the rows held when the list allows it and the last whole
    /// read is recent, else the page, total and counts again.
    pub fn poll(&mut self, now: DateTime<Utc>) -> Request {
        let recent = self.full_at.is_some_and(|t| (now - t).to_std().map(|d| d < FULL_EVERY).unwrap_or(false));
        let delta = match (listing::has_delta(self.entity) && recent, self.seen_at, self.table.window()) {
            (true, Some(since), Some(window)) => Some((since, window)),
            _ => None,
        };
        let Some((since, window)) = delta else { return self.refresh(now) };
        self.query.at = Some(now);
        self.generation += 1;
        self.pending = true;
        Request::Delta(DeltaRequest {
            entity: self.entity,
            generation: self.generation,
            query: self.query.clone(),
            window,
            since,
        })
    }

    /// The clock ticked on this list's pane: a list read by delta polls every refresh; one read
    /// whole (the fleet's sites, orchestrators and clusters, counted from their hosts and agents)
    /// every 10 s, or at the next refresh once hosts or agents notified a change.
    pub fn tick(&mut self, now: DateTime<Utc>, refresh_every: Duration) -> Option<Request> {
        let every = if listing::has_delta(self.entity) || self.upstream_changed {
            refresh_every
        } else {
            WHOLE_READ_IDLE.max(refresh_every)
        };
        let due = due(now, self.refreshed, every);
        if self.pending || (self.table.loaded && !due) {
            return None;
        }
        Some(if self.table.loaded { self.poll(now) } else { self.request(PageAt::First, now) })
    }

    /// The query changed: start again from the top.
    pub fn requery(&mut self, now: DateTime<Utc>) -> Request {
        self.table.selected = 0;
        self.table.first = 0;
        self.table.rows.clear();
        self.mark_anchor = None;
        self.request(PageAt::First, now)
    }

    /// A page arrived.
    pub fn page_landed(
        &mut self,
        generation: u64,
        at: PageAt,
        result: Result<Page, String>,
        when: DateTime<Utc>,
    ) -> Landed {
        if generation != self.generation {
            tracing::debug!(entity = ?self.entity, generation, current = self.generation, "stale page dropped");
            return Landed::Stale;
        }
        match result {
            // The rows at once, their costly cells `…`: the full page is still to come, so the
            // list stays pending; if that page is dropped (a newer request), the next poll reads
            // the page whole (no full read is recent).
            Ok(page) if page.light => {
                self.marked_visible = page.marked_visible;
                self.facets = page.facets.clone();
                self.table.apply(&at, page);
                self.refreshed = Some(when);
                self.full_at = None;
                Landed::Light
            }
            Ok(page) => {
                self.pending = false;
                self.marked_visible = page.marked_visible;
                self.facets = page.facets.clone();
                self.seen_at = page.seen_at;
                self.full_at = Some(when);
                self.table.apply(&at, page);
                self.refreshed = Some(when);
                self.error = None;
                Landed::Read { changed: true }
            }
            Err(e) => {
                self.pending = false;
                self.refreshed = Some(when);
                self.error = Some(e.clone());
                Landed::Failed(e)
            }
        }
    }

    /// A delta arrived. Unapplied (new rows, rows that moved, or more changes than a delta
    /// reads): the page must be read whole.
    pub fn delta_landed(&mut self, generation: u64, result: Result<Delta, String>, when: DateTime<Utc>) -> Landed {
        if generation != self.generation {
            return Landed::Stale;
        }
        self.pending = false;
        let delta = match result {
            Ok(delta) => delta,
            Err(e) => {
                self.refreshed = Some(when);
                self.error = Some(e.clone());
                return Landed::Failed(e);
            }
        };
        let applied = if delta.complete { self.table.apply_delta(delta.rows, delta.left) } else { None };
        let Some(updates) = applied else { return Landed::Unapplied };
        if listing::has_facet(self.entity) {
            // The status header follows the rows it can see change.
            for (old, new) in &updates {
                if let (Some(o), Some(n)) = (old.first(), new.first()) {
                    if o != n {
                        for (k, c) in self.facets.iter_mut() {
                            if k == o {
                                *c -= 1;
                            } else if k == n {
                                *c += 1;
                            }
                        }
                    }
                }
            }
        }
        self.seen_at = delta.seen_at.or(self.seen_at);
        self.refreshed = Some(when);
        self.error = None;
        Landed::Read { changed: !updates.is_empty() }
    }

    /// Another client changed the list (`shown`: it is on screen): read it again now, once the
    /// read in flight lands, or when it is shown.
    pub fn changed(&mut self, shown: bool, now: DateTime<Utc>) -> Option<Request> {
        if !self.table.loaded {
            return None;
        }
        if self.pending {
            self.dirty = true;
        } else if shown {
            return Some(self.poll(now));
        } else {
            self.refreshed = None;
        }
        None
    }

    /// A change noticed while a read was in flight: read again now.
    pub fn reread_if_dirty(&mut self, now: DateTime<Utc>) -> Option<Request> {
        if self.dirty && !self.pending {
            self.dirty = false;
            return Some(self.poll(now));
        }
        None
    }

    // ----- moving -----

    pub fn move_by(&mut self, delta: i64, now: DateTime<Utc>) -> Option<Request> {
        let at = self.table.move_by(delta);
        self.moved(at, now)
    }

    pub fn go(&mut self, row: i64, now: DateTime<Utc>) -> Option<Request> {
        let at = self.table.go(row);
        self.moved(at, now)
    }

    /// After a move: fetch the page it needs, or, when the rows held cover it, make the answer to
    /// an earlier request stale (it would move the window away from the selection).
    fn moved(&mut self, at: Option<PageAt>, now: DateTime<Utc>) -> Option<Request> {
        match at {
            Some(at) => Some(self.request(at, now)),
            None => {
                if self.pending {
                    self.generation += 1;
                    self.pending = false;
                }
                None
            }
        }
    }

    /// The selected row's id, as a UUID.
    pub fn selected_id(&self) -> Option<Uuid> {
        self.table.selected_row().and_then(|r| r.cursor.id.parse::<Uuid>().ok())
    }

    // ----- marks -----

    pub fn mark(&mut self, now: DateTime<Utc>) -> Option<Request> {
        let id = self.table.selected_row().map(|r| r.cursor.id.clone())?;
        if !self.marks.remove(&id) {
            self.marks.insert(id);
        }
        self.mark_anchor = Some(self.table.selected);
        self.move_by(1, now)
    }

    pub fn mark_range(&mut self) {
        let here = self.table.selected;
        let from = self.mark_anchor.unwrap_or(here);
        let (a, b) = (from.min(here), from.max(here));
        let first = self.table.first;
        for row in self.table.rows.iter().enumerate().filter_map(|(i, r)| {
            let abs = first + i as i64;
            (abs >= a && abs <= b).then_some(r)
        }) {
            self.marks.insert(row.cursor.id.clone());
        }
        self.mark_anchor = Some(here);
    }

    pub fn clear_marks(&mut self) {
        self.marks.clear();
        self.mark_anchor = None;
    }

    /// The ids a verb applies to: the marked rows, or else the selected one.
    pub fn targets(&self) -> Vec<Uuid> {
        if !self.marks.is_empty() {
            return self.marks.iter().filter_map(|s| s.parse().ok()).collect();
        }
        self.table.selected_row().and_then(|r| r.cursor.id.parse().ok()).into_iter().collect()
    }

    /// What a verb acts on, in words for its confirmation or toast: the row's name and short id,
    /// or the first few marked and "and N more", with how many of them the filter hides.
    pub fn acting_on(&self, noun: &str) -> String {
        const NAMED: usize = 3;
        let name_col = listing::search_column(self.entity);
        let named = |id: &str| {
            let short: String = id.chars().take(8).collect();
            match self.table.rows.iter().find(|r| r.cursor.id == id).and_then(|r| r.cells.get(name_col)) {
                Some(name) if !name.is_empty() => format!("{} {short}", sanitize_cell(name, 30)),
                _ => short,
            }
        };
        if self.marks.is_empty() {
            return match self.table.selected_row() {
                Some(r) => format!("{noun} {}", named(&r.cursor.id)),
                None => format!("no {noun}"),
            };
        }
        let n = self.marks.len();
        // The ones on screen first, in the list's order; then the others.
        let mut ids: Vec<&String> =
            self.table.rows.iter().map(|r| &r.cursor.id).filter(|id| self.marks.contains(*id)).collect();
        ids.extend(self.marks.iter().filter(|m| !ids.contains(m)).collect::<Vec<_>>());
        let first: Vec<String> = ids.iter().take(NAMED).map(|id| named(id)).collect();
        let mut text = format!("{n} marked {noun}s: {}", first.join(", "));
        if n > NAMED {
            text.push_str(&format!(" and {} more", n - NAMED));
        }
        let hidden = self.marked_hidden();
        if hidden > 0 {
            text.push_str(&format!(" ({hidden} of them hidden by the filter)"));
        }
        text
    }

    // ----- sorting and filtering -----

    /// A key no action is bound to. Shift+letter: sort by the column starting with that letter.
    pub fn unbound_key(&mut self, key: &crossterm::event::KeyEvent, now: DateTime<Utc>) -> Option<Request> {
        use crossterm::event::{KeyCode, KeyModifiers};
        match key.code {
            KeyCode::Char(c)
                if c.is_ascii_uppercase() && !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                self.sort_by_letter(c, now)
            }
            _ => None,
        }
    }

    /// Shift+letter: sort by the column starting with that letter (again: the other way).
    pub fn sort_by_letter(&mut self, c: char, now: DateTime<Utc>) -> Option<Request> {
        let columns = listing::columns(self.entity);
        let sortable = listing::sortable(self.entity);
        let i = columns.iter().zip(&sortable).position(|(t, ok)| *ok && t.starts_with(c))?;
        if self.query.sort == i {
            self.query.descending = !self.query.descending;
        } else {
            self.query.sort = i;
            self.query.descending = false;
        }
        Some(self.requery(now))
    }

    fn sort_next(&mut self, now: DateTime<Utc>) -> Request {
        let sortable = listing::sortable(self.entity);
        let n = sortable.len().max(1);
        let mut next = (self.query.sort + 1) % n;
        while !sortable.get(next).copied().unwrap_or(true) && next != self.query.sort {
            next = (next + 1) % n;
        }
        self.query.sort = next;
        self.query.descending = false;
        self.requery(now)
    }

    /// The `/` filter as typed (unchanged: no read).
    pub fn set_filter(&mut self, text: String, now: DateTime<Utc>) -> Option<Request> {
        let filter = Filter::parse(&text).unwrap_or_default();
        self.filter_text = text;
        if self.query.filter == filter {
            return None;
        }
        self.query.filter = filter;
        Some(self.requery(now))
    }

    /// The value of a field filter (`status=`, `health=`), if set.
    pub fn field(&self, name: &str) -> Option<String> {
        self.query.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    /// Filter by `name=value` first (or not by `name` at all), read from the top.
    pub fn set_field(&mut self, name: &str, value: Option<String>, now: DateTime<Utc>) -> Request {
        self.query.fields.retain(|(k, _)| k != name);
        if let Some(v) = value {
            self.query.fields.insert(0, (name.into(), v));
        }
        self.requery(now)
    }

    /// `f`/`F` on a header: the next (or previous) of `values` to filter `name` by, after "all".
    pub fn cycle_field(&mut self, name: &str, values: &[&str], forward: bool, now: DateTime<Utc>) -> Request {
        let all: Vec<Option<&str>> = std::iter::once(None).chain(values.iter().copied().map(Some)).collect();
        let current = self.field(name);
        let i = all.iter().position(|s| s.map(str::to_string) == current).unwrap_or(0);
        let n = all.len();
        let next = if forward { (i + 1) % n } else { (i + n - 1) % n };
        self.set_field(name, all[next].map(str::to_string), now)
    }

    /// The keys every list takes: moving, paging, sorting, marks, reading again, and the detail
    /// under it. False: not a list key.
    pub fn action<A>(&mut self, action: Action, cx: &Ctx, fx: &mut Effects<A>) -> bool {
        let now = cx.now;
        let page = cx.page_height();
        let request = match action {
            Action::Down => self.move_by(1, now),
            Action::Up => self.move_by(-1, now),
            Action::Top => self.go(0, now),
            Action::Bottom => self.go(i64::MAX, now),
            Action::HalfPageDown => self.move_by(page / 2, now),
            Action::HalfPageUp => self.move_by(-page / 2, now),
            Action::PageDown => self.move_by(page, now),
            Action::PageUp => self.move_by(-page, now),
            Action::Refresh => (!self.pending).then(|| self.refresh(now)),
            Action::SortNext => Some(self.sort_next(now)),
            Action::SortReverse => {
                self.query.descending = !self.query.descending;
                Some(self.requery(now))
            }
            Action::Mark => self.mark(now),
            Action::MarkRange => {
                self.mark_range();
                None
            }
            Action::Open => {
                fx.detail = Some(if cx.detail == Detail::Closed { Detail::Split } else { Detail::Closed });
                None
            }
            Action::Zoom => {
                fx.detail = Some(if cx.detail == Detail::Zoomed { Detail::Split } else { Detail::Zoomed });
                None
            }
            _ => return false,
        };
        fx.requests(request);
        true
    }

    /// Esc on the list: one level back — the detail (zoomed, then split), the filter, the field
    /// filters, the marks, in that order. True when it cleared the field filters (a drill-down
    /// goes back up then).
    pub fn back<A>(&mut self, cx: &Ctx, fx: &mut Effects<A>) -> bool {
        if cx.detail == Detail::Zoomed {
            fx.detail = Some(Detail::Split);
        } else if cx.detail == Detail::Split {
            fx.detail = Some(Detail::Closed);
        } else if !self.query.filter.is_none() {
            fx.requests(self.set_filter(String::new(), cx.now));
        } else if !self.query.fields.is_empty() {
            self.query.fields.clear();
            fx.request(self.requery(cx.now));
            return true;
        } else if !self.marks.is_empty() {
            self.clear_marks();
        }
        false
    }
}

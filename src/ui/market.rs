//! The Marketplace pane: five catalogues (packages, apps, solutions, agents, compute offers), each
//! held in memory once read, searched on every keystroke, narrowed by facets and sorted, drawn
//! a screenful at a time.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use nucleo_matcher::Matcher;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Tabs};
use ratatui::Frame;

use super::action::Action;
use super::theme::Theme;
use crate::domain::catalogue::{self, Catalogue, Hit, Results, Searcher, Selection, Sort};
pub use crate::service::deploy::{DeployFor, DeployRequest};
use crate::service::market_detail::{Block as DocBlock, Detail, SEVERITIES};
use crate::service::marketplace::{self, Kind};

/// How long a catalogue is shown before it is read again (catalogues change rarely; Ctrl-R reads
/// one now).
pub const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// What the pane asks the app to do (the app sends it to a worker).
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    Load(Kind),
    Search {
        kind: Kind,
        query: String,
    },
    /// Read one item in full for the detail view.
    Detail {
        kind: Kind,
        id: String,
    },
    /// Open the deploy form on the detail shown.
    Deploy,
}

/// One item in full, over the list (Enter/z opens it, Esc closes it).
#[derive(Debug, Clone)]
pub struct DetailView {
    pub kind: Kind,
    pub id: String,
    pub name: String,
    pub loading: bool,
    pub error: Option<String>,
    pub data: Option<Arc<Detail>>,
    /// First line shown.
    pub scroll: usize,
    /// Open the deploy form as soon as the item arrives (`d` pressed on the list).
    pub deploy_when_loaded: bool,
    height: Cell<usize>,
    total: Cell<usize>,
    /// The drawn lines, kept while the item, the width and the theme stay the same.
    cache: RefCell<Option<(u16, Theme, Vec<Line<'static>>)>>,
}

impl DetailView {
    fn new(kind: Kind, id: String, name: String) -> DetailView {
        DetailView {
            kind,
            id,
            name,
            loading: true,
            error: None,
            data: None,
            scroll: 0,
            deploy_when_loaded: false,
            height: Cell::new(20),
            total: Cell::new(0),
            cache: RefCell::new(None),
        }
    }

    /// The item arrived.
    pub fn loaded(&mut self, detail: Detail) {
        self.loading = false;
        self.error = None;
        self.name = detail.title.clone();
        self.data = Some(Arc::new(detail));
        self.cache.replace(None);
    }

    pub fn failed(&mut self, message: String) {
        self.loading = false;
        self.error = Some(message);
    }

    fn scroll_by(&mut self, delta: i64) {
        let max = self.total.get().saturating_sub(self.height.get().max(1));
        self.scroll = (self.scroll as i64 + delta).clamp(0, max as i64) as usize;
    }
}

/// A server-side search's answer, shown instead of the fuzzy matches until the next typing.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerResults {
    pub query: String,
    pub hits: Vec<Hit>,
}

/// Where the facet panel's cursor is: a facet and one of its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FacetCursor {
    pub facet: usize,
    pub value: usize,
}

/// A matcher for highlighting while drawing (drawing takes `&self`); a clone gets its own.
#[derive(Debug)]
struct Highlighter(RefCell<Matcher>);

impl Default for Highlighter {
    fn default() -> Highlighter {
        Highlighter(RefCell::new(Matcher::new(catalogue::config())))
    }
}

impl Clone for Highlighter {
    fn clone(&self) -> Highlighter {
        Highlighter::default()
    }
}

/// One catalogue's list.
#[derive(Debug, Clone)]
pub struct View {
    pub kind: Kind,
    pub catalogue: Option<Arc<Catalogue>>,
    pub loading: bool,
    pub error: Option<String>,
    pub loaded_at: Option<DateTime<Utc>>,
    /// What was typed after `/`.
    pub query: String,
    pub selection: Selection,
    pub sort: Sort,
    pub results: Results,
    pub server: Option<ServerResults>,
    pub searching: bool,
    /// When nothing matched: how many would with the default facets (deprecated=no) dropped.
    pub hidden: usize,
    pub selected: usize,
    /// The first row drawn (kept so the selection stays in view without jumping).
    first: Cell<usize>,
    /// Rows that fit, as of the last frame.
    height: Cell<usize>,
    /// The facet panel, when it has the keys.
    pub facets: Option<FacetCursor>,
    /// Facet picks asked for before the catalogue arrived.
    pending_picks: Vec<(String, String)>,
    searcher: Searcher,
    highlighter: Highlighter,
}

impl View {
    fn new(kind: Kind) -> View {
        View {
            kind,
            catalogue: None,
            loading: false,
            error: None,
            loaded_at: None,
            query: String::new(),
            selection: Selection::default(),
            sort: Sort::Relevance,
            results: Results::default(),
            server: None,
            hidden: 0,
            searching: false,
            selected: 0,
            first: Cell::new(0),
            height: Cell::new(20),
            facets: None,
            pending_picks: Vec::new(),
            searcher: Searcher::default(),
            highlighter: Highlighter::default(),
        }
    }

    /// The selected entry.
    pub fn current(&self) -> Option<&catalogue::Entry> {
        let hit = self.results.rows.get(self.selected)?;
        self.catalogue.as_ref()?.entries.get(hit.entry as usize)
    }

    /// Match, facet and sort again (after a keystroke, a pick or a new catalogue), keeping the
    /// selected entry selected when it is still shown.
    pub fn rerun(&mut self) {
        let Some(cat) = self.catalogue.clone() else { return };
        let keep = self.results.rows.get(self.selected).map(|h| h.entry);
        self.results = match &self.server {
            Some(s) => cat.arrange_in_order(&s.hits, &self.selection),
            None => self.searcher.run(&cat, &self.query, &self.selection, self.sort),
        };
        self.hidden = if self.results.rows.is_empty() && self.server.is_none() {
            marketplace::hidden_by_defaults(self.kind, &cat, &self.query, &self.selection)
        } else {
            0
        };
        self.selected = keep.and_then(|e| self.results.rows.iter().position(|h| h.entry == e)).unwrap_or(0);
        if keep.is_none() || self.selected == 0 {
            self.first.set(0);
        }
    }

    /// A catalogue arrived: search it as the list stands.
    pub fn loaded(&mut self, catalogue: Arc<Catalogue>, at: DateTime<Utc>) {
        let first_time = self.catalogue.is_none();
        let picks = (!first_time).then(|| self.selection.describe(self.catalogue.as_deref().unwrap_or(&catalogue)));
        let keep = self.current().map(|e| e.id.clone());
        self.searcher.reset();
        self.selection = match picks {
            // The same picks by name on the new catalogue.
            Some(picks) => {
                let mut s = Selection::none(&catalogue);
                for p in picks {
                    if let Some((f, v)) = p.split_once('=') {
                        s.pick(&catalogue, f, v);
                    }
                }
                s
            }
            None => marketplace::default_selection(self.kind, &catalogue),
        };
        if let Some(server) = &mut self.server {
            let ids: Vec<String> = server
                .hits
                .iter()
                .filter_map(|h| self.catalogue.as_ref()?.entries.get(h.entry as usize).map(|e| e.id.clone()))
                .collect();
            server.hits = marketplace::hits_of(&catalogue, &ids);
        }
        self.catalogue = Some(catalogue);
        self.loading = false;
        self.error = None;
        self.loaded_at = Some(at);
        self.results = Results::default();
        self.rerun();
        let pending = std::mem::take(&mut self.pending_picks);
        if !pending.is_empty() {
            if let Err(e) = self.pick(&pending) {
                self.error = Some(e);
            }
        }
        if let Some(id) = keep {
            if let Some(i) = self.position_of(&id) {
                self.selected = i;
            }
        }
    }

    fn position_of(&self, id: &str) -> Option<usize> {
        let cat = self.catalogue.as_ref()?;
        self.results.rows.iter().position(|h| cat.entries.get(h.entry as usize).is_some_and(|e| e.id == id))
    }

    /// Pick facet values by name over the kind's defaults (now, or when the catalogue arrives).
    pub fn pick(&mut self, picks: &[(String, String)]) -> Result<(), String> {
        let Some(cat) = self.catalogue.clone() else {
            self.pending_picks = picks.to_vec();
            return Ok(());
        };
        let selection = marketplace::selection_of(self.kind, &cat, picks, true)?;
        if !picks.is_empty() {
            self.selection = selection;
            self.rerun();
        }
        Ok(())
    }

    pub fn set_query(&mut self, text: &str) {
        if self.query == text && self.server.is_none() {
            return;
        }
        self.query = text.to_string();
        self.server = None;
        self.rerun();
    }

    pub fn server_results(&mut self, query: String, ids: &[String]) {
        self.searching = false;
        let Some(cat) = &self.catalogue else { return };
        let hits = marketplace::hits_of(cat, ids);
        self.server = Some(ServerResults { query, hits });
        self.selected = 0;
        self.first.set(0);
        self.rerun();
    }

    fn move_by(&mut self, delta: i64) {
        let n = self.results.rows.len();
        if n == 0 {
            return;
        }
        self.selected = (self.selected as i64 + delta).clamp(0, n as i64 - 1) as usize;
        // Rows further down are put in order when the list gets near them.
        if let Some(cat) = &self.catalogue {
            self.results.ensure_sorted(cat, self.selected + 2 * self.height.get().max(1));
        }
    }

    /// The facet panel's lines: (facet, None) for a facet's title, (facet, Some(value)) for a value.
    pub fn facet_lines(&self) -> Vec<(usize, Option<usize>)> {
        let Some(cat) = &self.catalogue else { return Vec::new() };
        let mut out = Vec::new();
        for (f, facet) in cat.facets.iter().enumerate() {
            out.push((f, None));
            out.extend((0..facet.values.len()).map(|v| (f, Some(v))));
        }
        out
    }

    fn facet_move(&mut self, delta: i64) {
        let lines: Vec<(usize, usize)> =
            self.facet_lines().into_iter().filter_map(|(f, v)| v.map(|v| (f, v))).collect();
        if lines.is_empty() {
            return;
        }
        let cur = self.facets.unwrap_or_default();
        let at = lines.iter().position(|(f, v)| *f == cur.facet && *v == cur.value).unwrap_or(0) as i64;
        let (facet, value) = lines[(at + delta).clamp(0, lines.len() as i64 - 1) as usize];
        self.facets = Some(FacetCursor { facet, value });
    }

    /// A key while the facet panel has the keys.
    fn facet_action(&mut self, action: Action) -> bool {
        let Some(cur) = self.facets else { return false };
        match action {
            Action::Down => self.facet_move(1),
            Action::Up => self.facet_move(-1),
            Action::PageDown | Action::HalfPageDown => self.facet_move(10),
            Action::PageUp | Action::HalfPageUp => self.facet_move(-10),
            Action::Top => self.facet_move(-100_000),
            Action::Bottom => self.facet_move(100_000),
            Action::Mark | Action::Open => {
                self.selection.toggle(cur.facet, cur.value);
                self.rerun();
            }
            Action::ClearFacet => {
                self.selection.clear(cur.facet);
                self.rerun();
            }
            Action::Facets | Action::Back => self.facets = None,
            _ => return false,
        }
        true
    }
}

/// The whole pane: the five lists and which one shows.
#[derive(Debug, Clone)]
pub struct Market {
    pub kind: Kind,
    pub views: BTreeMap<Kind, View>,
    /// The item open in full, if any.
    pub detail: Option<DetailView>,
}

impl Default for Market {
    fn default() -> Market {
        Market { kind: Kind::Packages, views: Kind::ALL.into_iter().map(|k| (k, View::new(k))).collect(), detail: None }
    }
}

impl Market {
    pub fn view(&self) -> &View {
        &self.views[&self.kind]
    }

    pub fn view_mut(&mut self) -> &mut View {
        let kind = self.kind;
        self.views.entry(kind).or_insert_with(|| View::new(kind))
    }

    pub fn show(&mut self, kind: Kind) {
        self.kind = kind;
    }

    /// The clock ticked: read the catalogue on screen when it has none or is due.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Option<Ask> {
        let view = self.view_mut();
        if view.loading {
            return None;
        }
        // After a failure, try again sooner.
        let every = if view.error.is_some() { std::time::Duration::from_secs(5) } else { RELOAD_EVERY };
        let due = match view.loaded_at {
            None => true,
            Some(at) => (now - at).to_std().map(|d| d >= every).unwrap_or(false),
        };
        due.then(|| {
            view.loading = true;
            Ask::Load(view.kind)
        })
    }

    /// Read the catalogue on screen again now.
    pub fn reload(&mut self) -> Option<Ask> {
        let view = self.view_mut();
        if view.loading {
            return None;
        }
        view.loading = true;
        Some(Ask::Load(view.kind))
    }

    pub fn load_failed(&mut self, kind: Kind, error: String, at: DateTime<Utc>) {
        if let Some(v) = self.views.get_mut(&kind) {
            v.loading = false;
            v.searching = false;
            v.error = Some(error);
            // Try again at the next reload, not on every tick.
            v.loaded_at = Some(at);
        }
    }

    fn cycle(&mut self, delta: i64) {
        let i = Kind::ALL.iter().position(|k| *k == self.kind).unwrap_or(0) as i64;
        self.kind = Kind::ALL[(i + delta).rem_euclid(Kind::ALL.len() as i64) as usize];
    }

    /// Open the selected item in full; with `deploy`, the deploy form once it is read.
    fn open(&mut self, deploy: bool) -> Option<Ask> {
        let view = self.view();
        let entry = view.current()?;
        let mut d = DetailView::new(view.kind, entry.id.clone(), entry.name.clone());
        d.deploy_when_loaded = deploy;
        let ask = Ask::Detail { kind: d.kind, id: d.id.clone() };
        self.detail = Some(d);
        Some(ask)
    }

    /// Esc: close the detail (true when one was open).
    pub fn close_detail(&mut self) -> bool {
        self.detail.take().is_some()
    }

    /// Read the open detail again (Ctrl-R).
    pub fn reload_detail(&mut self) -> Option<Ask> {
        let d = self.detail.as_mut()?;
        d.loading = true;
        Some(Ask::Detail { kind: d.kind, id: d.id.clone() })
    }

    fn detail_action(&mut self, action: Action) -> Option<(bool, Option<Ask>)> {
        let d = self.detail.as_mut()?;
        let page = d.height.get().max(1) as i64;
        match action {
            Action::Down => d.scroll_by(1),
            Action::Up => d.scroll_by(-1),
            Action::PageDown => d.scroll_by(page),
            Action::PageUp => d.scroll_by(-page),
            Action::HalfPageDown => d.scroll_by(page / 2),
            Action::HalfPageUp => d.scroll_by(-page / 2),
            Action::Top => d.scroll = 0,
            Action::Bottom => d.scroll_by(i64::MAX / 4),
            Action::Deploy => return Some((true, Some(Ask::Deploy))),
            // The list's keys do nothing while an item is open.
            Action::Open
            | Action::Zoom
            | Action::NextView
            | Action::PrevView
            | Action::Facets
            | Action::ClearFacet
            | Action::SortNext
            | Action::SortReverse => {}
            _ => return Some((false, None)),
        }
        Some((true, None))
    }

    /// An action of the pane; true when it was the pane's. `Some(ask)` for work to send.
    pub fn action(&mut self, action: Action) -> (bool, Option<Ask>) {
        if let Some(done) = self.detail_action(action) {
            return done;
        }
        if self.view().facets.is_none() {
            match action {
                Action::Open | Action::Zoom => return (true, self.open(false)),
                Action::Deploy => return (true, self.open(true)),
                _ => {}
            }
        }
        let view = self.view_mut();
        if view.facet_action(action) {
            return (true, None);
        }
        let page = view.height.get().max(1) as i64;
        match action {
            Action::Down => view.move_by(1),
            Action::Up => view.move_by(-1),
            Action::Top => view.move_by(-(view.results.rows.len() as i64)),
            Action::Bottom => view.move_by(view.results.rows.len() as i64),
            Action::PageDown => view.move_by(page),
            Action::PageUp => view.move_by(-page),
            Action::HalfPageDown => view.move_by(page / 2),
            Action::HalfPageUp => view.move_by(-page / 2),
            Action::SortNext | Action::SortReverse => {
                view.sort = if action == Action::SortNext {
                    view.sort.next()
                } else {
                    Sort::ALL[(Sort::ALL.iter().position(|s| *s == view.sort).unwrap_or(0) + 3) % 4]
                };
                view.rerun();
            }
            Action::Facets => {
                if view.catalogue.is_some() {
                    let (facet, value) =
                        view.facet_lines().into_iter().find_map(|(f, v)| v.map(|v| (f, v))).unwrap_or_default();
                    view.facets = Some(FacetCursor { facet, value });
                }
            }
            Action::NextView => self.cycle(1),
            Action::PrevView => self.cycle(-1),
            _ => return (false, None),
        }
        (true, None)
    }

    /// The typed search changed.
    pub fn set_query(&mut self, text: &str) {
        self.view_mut().set_query(text);
    }

    /// Enter in the search: ask the server (every field, READMEs too).
    pub fn search_server(&mut self, text: &str) -> Option<Ask> {
        let view = self.view_mut();
        if text.trim().is_empty() || view.catalogue.is_none() {
            return None;
        }
        view.searching = true;
        Some(Ask::Search { kind: view.kind, query: text.trim().to_string() })
    }

    // ----- drawing -----

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool, keys: Line<'static>) {
        let [tabs, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
        self.draw_kinds(frame, tabs, theme);
        if let Some(d) = &self.detail {
            return draw_detail(frame, body, d, theme, focused, keys);
        }
        let view = self.view();
        let body = match &view.catalogue {
            Some(cat) if body.width > 60 && view.facets.is_some() => {
                let [panel, rest] = Layout::horizontal([Constraint::Length(34), Constraint::Min(20)]).areas(body);
                draw_facets(frame, panel, view, cat, theme);
                rest
            }
            _ => body,
        };
        draw_list(frame, body, view, theme, focused && view.facets.is_none(), keys);
    }

    fn draw_kinds(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let titles: Vec<Line> = Kind::ALL
            .iter()
            .map(|k| {
                let v = &self.views[k];
                let count =
                    v.catalogue.as_ref().map(|c| format!(" {}", super::widgets::table::thousands(c.len() as i64)));
                Line::from(format!(" {}{} ", k.title(), count.unwrap_or_default()))
            })
            .collect();
        let i = Kind::ALL.iter().position(|k| *k == self.kind).unwrap_or(0);
        let tabs = Tabs::new(titles)
            .select(i)
            .style(theme.tab_inactive)
            .highlight_style(theme.tab_active)
            .divider(Span::styled("│", theme.border))
            .padding("", "");
        frame.render_widget(tabs, area);
    }
}

fn draw_facets(frame: &mut Frame, area: Rect, view: &View, cat: &Catalogue, theme: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if view.facets.is_some() { theme.border_focused } else { theme.border })
        .title(Span::styled(" Facets ", theme.title))
        .title_bottom(Line::styled(" space pick · x clear · esc close ", theme.muted));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = view.facet_lines();
    let cursor = view.facets.unwrap_or_default();
    let at = lines.iter().position(|(f, v)| *f == cursor.facet && *v == Some(cursor.value)).unwrap_or(0);
    let height = inner.height as usize;
    let first = at.saturating_sub(height.saturating_sub(1) / 2).min(lines.len().saturating_sub(height));
    let width = inner.width as usize;
    let mut out = Vec::new();
    for (f, v) in lines.iter().skip(first).take(height) {
        let facet = &cat.facets[*f];
        match v {
            None => out.push(Line::styled(facet.name.to_uppercase(), theme.table_header)),
            Some(v) => {
                let picked = view.selection.is_picked(*f, *v);
                let count = view.results.counts.get(*f).and_then(|c| c.get(*v)).copied().unwrap_or(0);
                let mark = if picked { "[x]" } else { "[ ]" };
                let count = super::widgets::table::thousands(count as i64);
                let name_width = width.saturating_sub(5 + count.len() + 1);
                let name = crate::domain::text::sanitize_cell(&facet.values[*v], name_width.max(1));
                let pad = width.saturating_sub(4 + name.chars().count() + count.len());
                let style = if *f == cursor.facet && *v == cursor.value && view.facets.is_some() {
                    theme.row_selected
                } else if picked {
                    theme.highlight
                } else {
                    theme.text
                };
                out.push(Line::from(vec![
                    Span::styled(format!("{mark} {name}{}", " ".repeat(pad)), style),
                    Span::styled(count, theme.muted.patch(style)),
                ]));
            }
        }
    }
    frame.render_widget(Paragraph::new(out), inner);
}

/// `text` with the characters at `indices` (char positions) and inside `ranges` (byte ranges)
/// styled as matches.
fn marked(
    text: &str,
    indices: &[usize],
    ranges: &[(usize, usize)],
    max: usize,
    base: Style,
    hit: Style,
) -> Line<'static> {
    let mut spans = Vec::new();
    let mut run = String::new();
    let mut run_hit = false;
    for (n, (i, c)) in text.char_indices().enumerate() {
        if n >= max {
            break;
        }
        let is_hit = indices.binary_search(&n).is_ok() || ranges.iter().any(|(a, b)| i >= *a && i < *b);
        if is_hit != run_hit && !run.is_empty() {
            spans.push(Span::styled(std::mem::take(&mut run), if run_hit { hit } else { base }));
        }
        run_hit = is_hit;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, if run_hit { hit } else { base }));
    }
    Line::from(spans)
}

fn draw_list(frame: &mut Frame, area: Rect, view: &View, theme: &Theme, focused: bool, keys: Line<'static>) {
    let title = match &view.server {
        Some(s) => {
            format!(" {} — server search “{}” ", view.kind.title(), crate::domain::text::sanitize_cell(&s.query, 40))
        }
        None if view.query.trim().is_empty() => format!(" {} ", view.kind.title()),
        None => format!(" {} /{} ", view.kind.title(), crate::domain::text::sanitize_cell(&view.query, 40)),
    };
    let count = match &view.catalogue {
        Some(cat) => format!(
            " {} of {} ",
            super::widgets::table::thousands(view.results.rows.len() as i64),
            super::widgets::table::thousands(cat.len() as i64)
        ),
        None => String::new(),
    };
    let mut bottom = vec![Span::styled(
        format!(" sort: {} ", if view.sort == Sort::Stars { view.kind.rank_title() } else { view.sort.title() }),
        theme.muted,
    )];
    if let Some(cat) = &view.catalogue {
        for p in view.selection.describe(cat) {
            bottom.push(Span::styled(format!("{p} "), theme.highlight));
        }
    }
    if view.searching {
        bottom.push(Span::styled(" searching every field… ", theme.warn));
    }
    bottom.extend(keys.spans);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { theme.border_focused } else { theme.border })
        .title(Span::styled(title, theme.title))
        .title_top(Line::styled(count, theme.muted).right_aligned())
        .title_bottom(Line::from(bottom));
    let Some(cat) = &view.catalogue else {
        let text = match &view.error {
            Some(e) => Line::styled(format!("could not read the catalogue: {e} (ctrl-r tries again)"), theme.error),
            None => Line::styled("loading the catalogue…", theme.muted),
        };
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    };
    if view.results.rows.is_empty() {
        let hidden = format!(
            "{} match but are hidden by deprecated=no: f and pick deprecated=yes, or :{} deprecated=yes",
            view.hidden,
            view.kind.command()
        );
        let text = if view.server.is_some() {
            "the server found nothing either (esc clears the search)"
        } else if view.hidden > 0 {
            hidden.as_str()
        } else if view.query.trim().is_empty() {
            "nothing here with these facets (f opens the facets)"
        } else {
            "nothing matches as you typed it; enter searches every field, READMEs too"
        };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.muted)).block(block), area);
        return;
    }
    let inner = block.inner(area);
    let height = inner.height.saturating_sub(1).max(1) as usize;
    view.height.set(height);
    let mut first = view.first.get();
    if view.selected < first {
        first = view.selected;
    } else if view.selected >= first + height {
        first = view.selected + 1 - height;
    }
    first = first.min(view.results.rows.len().saturating_sub(height));
    view.first.set(first);
    let shown = &view.results.rows[first..(first + height).min(view.results.rows.len())];
    let columns = view.kind.columns();
    let width = |i: usize| -> u16 {
        let title = columns[i].chars().count();
        let widest = shown
            .iter()
            .filter_map(|h| cat.entries.get(h.entry as usize)?.cells.get(i).map(|c| c.chars().count()))
            .max()
            .unwrap_or(0);
        title.max(widest).min(24) as u16
    };
    let name_width = shown
        .iter()
        .filter_map(|h| cat.entries.get(h.entry as usize).map(|e| e.name.chars().count()))
        .max()
        .unwrap_or(4)
        .clamp(4, 40) as u16;
    let mut widths = vec![Constraint::Length(name_width)];
    widths.extend((0..columns.len()).map(|i| Constraint::Length(width(i))));
    widths.push(Constraint::Min(10));
    let query = if view.server.is_some() { "" } else { view.query.as_str() };
    let mut matcher = view.highlighter.0.borrow_mut();
    let rows: Vec<Row> = shown
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let e = cat.entries.get(h.entry as usize)?;
            let (name_hits, desc_hits) = if query.trim().is_empty() {
                (Vec::new(), Vec::new())
            } else {
                cat.highlights(h.entry, query, &mut matcher)
            };
            let style = if first + i == view.selected { theme.row_selected } else { theme.text };
            let hit = theme.highlight.patch(Style::default().add_modifier(ratatui::style::Modifier::BOLD));
            let mut cells = vec![marked(&e.name, &name_hits, &[], 40, Style::default(), hit)];
            cells.extend(e.cells.iter().map(|c| Line::raw(c.clone())));
            cells.push(marked(&e.description, &[], &desc_hits, inner.width as usize, Style::default(), hit));
            Some(Row::new(cells).style(style))
        })
        .collect();
    let mut header = vec!["NAME"];
    header.extend(columns.iter().copied());
    header.push("DESCRIPTION");
    let table =
        Table::new(rows, widths).header(Row::new(header).style(theme.table_header)).column_spacing(2).block(block);
    frame.render_widget(table, area);
}

/// The detail's blocks as lines (text sanitised here; Markdown by its renderer).
pub fn detail_lines(detail: &Detail, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    use crate::domain::text::{sanitize_cell, sanitize_lines};
    let width = width.max(20) as usize;
    let mut out: Vec<Line<'static>> = Vec::new();
    for block in &detail.blocks {
        match block {
            DocBlock::Heading(h) => {
                if !out.is_empty() {
                    out.push(Line::default());
                }
                out.push(Line::styled(
                    sanitize_cell(h, width),
                    theme.title.add_modifier(ratatui::style::Modifier::BOLD),
                ));
            }
            DocBlock::Field(label, value) => {
                // Long values wrap under themselves, not under the label.
                let room = width.saturating_sub(18).max(20);
                let wrapped: Vec<String> =
                    sanitize_lines(value, 2_000).iter().flat_map(|l| wrap_words(l, room)).collect();
                for (i, line) in wrapped.into_iter().enumerate() {
                    let label = if i == 0 { format!("{:<18}", sanitize_cell(label, 17)) } else { " ".repeat(18) };
                    out.push(Line::from(vec![Span::styled(label, theme.muted), Span::styled(line, theme.text)]));
                }
            }
            DocBlock::Text(text) => {
                out.extend(sanitize_lines(text, 2_000).into_iter().map(|l| Line::styled(l, theme.text)))
            }
            DocBlock::Note(text) => out.push(Line::styled(
                sanitize_cell(text, width),
                theme.muted.add_modifier(ratatui::style::Modifier::ITALIC),
            )),
            DocBlock::Markdown(md) => out.extend(super::markdown::render(md, theme)),
            DocBlock::Counts(counts) => {
                let mut spans = Vec::new();
                for (label, n) in counts {
                    let style = match (label.as_str(), *n) {
                        (_, 0) => theme.muted,
                        ("critical" | "high", _) => theme.error,
                        ("medium", _) => theme.warn,
                        ("low", _) => theme.ok,
                        _ => theme.text,
                    };
                    let bold = if SEVERITIES[..2].contains(&label.as_str()) && *n > 0 {
                        style.add_modifier(ratatui::style::Modifier::BOLD)
                    } else {
                        style
                    };
                    spans.push(Span::styled(format!("{n} {}", sanitize_cell(label, 20)), bold));
                    spans.push(Span::raw("   "));
                }
                spans.pop();
                out.push(Line::from(spans));
            }
            DocBlock::Table { header, rows } => {
                let columns = header.len().max(rows.iter().map(Vec::len).max().unwrap_or(0));
                let cell = |r: &Vec<String>, c: usize, max: usize| {
                    sanitize_cell(r.get(c).map(String::as_str).unwrap_or(""), max)
                };
                // Whole when the table fits; otherwise every column but the last at most 60
                // wide, and the last (addresses, messages) whole, for the widget to wrap.
                let natural: usize = (0..columns)
                    .map(|c| {
                        std::iter::once(header)
                            .chain(rows.iter())
                            .map(|r| cell(r, c, 1_000).chars().count())
                            .max()
                            .unwrap_or(0)
                            + 2
                    })
                    .sum();
                let fits = natural + 2 <= width;
                let max = |c: usize| if fits || c + 1 == columns { 1_000 } else { 60 };
                let widths: Vec<usize> = (0..columns)
                    .map(|c| {
                        std::iter::once(header)
                            .chain(rows.iter())
                            .map(|r| cell(r, c, max(c)).chars().count())
                            .max()
                            .unwrap_or(0)
                    })
                    .collect();
                let line = |r: &Vec<String>, style: Style| {
                    let cells: Vec<String> = (0..columns)
                        .map(|c| {
                            let text = cell(r, c, widths[c].max(1));
                            if c + 1 == columns {
                                text
                            } else {
                                format!("{text:<w$}", w = widths[c])
                            }
                        })
                        .collect();
                    Line::styled(format!("  {}", cells.join("  ").trim_end()), style)
                };
                if header.iter().any(|h| !h.is_empty()) {
                    out.push(line(header, theme.table_header));
                }
                out.extend(rows.iter().map(|r| line(r, theme.text)));
            }
        }
    }
    out
}

/// `text` cut into lines of at most `width` characters at spaces (a longer word is cut).
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let (n, w) = (line.chars().count(), word.chars().count());
        if n > 0 && n + 1 + w > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.chars().count() > width {
            let head: String = line.chars().take(width).collect();
            line = line.chars().skip(width).collect();
            lines.push(head);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn draw_detail(frame: &mut Frame, area: Rect, d: &DetailView, theme: &Theme, focused: bool, keys: Line<'static>) {
    let title = format!(" {} › {} ", d.kind.title(), crate::domain::text::sanitize_cell(&d.name, 60));
    let mut bottom = Vec::new();
    if d.loading && d.data.is_some() {
        bottom.push(Span::styled(" reading… ", theme.warn));
    }
    bottom.extend(keys.spans);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { theme.border_focused } else { theme.border })
        .title(Span::styled(title, theme.title))
        .title_bottom(Line::from(bottom));
    let inner = block.inner(area);
    let Some(data) = &d.data else {
        let text = match &d.error {
            Some(e) => Line::styled(format!("could not read it: {e} (ctrl-r tries again, esc goes back)"), theme.error),
            None => Line::styled("reading…", theme.muted),
        };
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    };
    let mut cache = d.cache.borrow_mut();
    let fresh = matches!(&*cache, Some((w, t, _)) if *w == inner.width && t == theme);
    if !fresh {
        *cache = Some((inner.width, theme.clone(), detail_lines(data, inner.width, theme)));
    }
    let Some((_, _, lines)) = &*cache else { return };
    // Lines as the widget wraps them, to keep the scroll inside the text.
    let width = inner.width.max(1) as usize;
    let total: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    d.total.set(total);
    d.height.set(inner.height as usize);
    if total > inner.height as usize {
        let shown = format!(" {}–{} of {} ", d.scroll + 1, (d.scroll + inner.height as usize).min(total), total);
        let block = block.title_top(Line::styled(shown, theme.muted).right_aligned());
        let p = Paragraph::new(lines.clone())
            .wrap(ratatui::widgets::Wrap { trim: false })
            .scroll((d.scroll.min(u16::MAX as usize) as u16, 0));
        frame.render_widget(p.block(block), area);
    } else {
        let p = Paragraph::new(lines.clone()).wrap(ratatui::widgets::Wrap { trim: false });
        frame.render_widget(p.block(block), area);
    }
}

/// The deploy form for the item shown (None when it does not deploy).
pub fn deploy_form(
    detail: &Detail,
    generators: &[crate::service::stacks::Generator],
) -> Option<(DeployFor, super::widgets::form::Form)> {
    use super::widgets::form::{Field, Form};
    use crate::domain::deploy::to_name;
    use crate::domain::text::sanitize_cell;
    use crate::service::market_detail::Deployable;
    let gens: Vec<(String, String)> =
        generators.iter().map(|g| (g.id.to_string(), sanitize_cell(&g.name, 40))).collect();
    let target = || {
        Field::choice(
            "target",
            "Into",
            "←/→: a new stack, or an existing one",
            vec![("new".into(), "a new stack".into()), ("existing".into(), "an existing stack".into())],
        )
    };
    let generator = || Field::choice("generator", "Generator", "of a new stack (←/→)", gens.clone());
    // Whom it reaches besides what the stack reaches already; a new stack needs one or the other.
    let agents = || Field::pick("agents", "Agents", "made explicit targets (by cluster/name, with their health)");
    let labels = || Field::text("labels", "Labels", "of a new stack, one per line: agents carrying one are reached");
    match detail.deploy.as_ref()? {
        Deployable::Package { chart, versions, repository, .. } => {
            let package = uuid::Uuid::parse_str(&detail.id).ok()?;
            let options = versions.iter().map(|v| (v.clone(), sanitize_cell(v, 30))).collect();
            let form = Form::new(
                format!("Deploy {} from {}", sanitize_cell(chart, 40), sanitize_cell(repository, 30)),
                vec![
                    Field::choice("version", "Chart version", "←/→, newest first", options),
                    Field::line("release", "Release", "the HelmRelease's name").with_value(&to_name(chart, 53)),
                    Field::line("namespace", "Namespace", "where the release goes").with_value(&to_name(chart, 63)),
                    Field::text("values", "Values", "YAML, e.g. replicaCount: 2 (optional)"),
                    target(),
                    Field::line("stack", "Stack", "the new stack's name, or an existing stack's")
                        .with_value(&to_name(chart, 60)),
                    generator(),
                    agents(),
                    labels(),
                ],
            );
            Some((DeployFor::Package { package, chart: chart.clone() }, form))
        }
        Deployable::App { app_id, profiles } => {
            let options = profiles
                .iter()
                .map(|p| {
                    let short = p.id.strip_prefix(&format!("{app_id}/")).unwrap_or(&p.id);
                    (
                        p.id.clone(),
                        format!(
                            "{} ({}, {} sites)",
                            sanitize_cell(short, 30),
                            sanitize_cell(&p.kind, 20),
                            p.sites.len()
                        ),
                    )
                })
                .collect();
            // The form opens on the first profile, and on its best site (sites with agents
            // first, then the most fitting hosts).
            let best = profiles.first().and_then(|p| p.sites.first());
            let site = best.map(|s| s.site.clone()).unwrap_or_default();
            let hint = match best {
                Some(s) => format!(
                    "site id; best: {} ({} of {} hosts fit, {} agents)",
                    sanitize_cell(&s.site, 30),
                    s.fitting,
                    s.hosts,
                    s.agents
                ),
                None => "site id (no site has a host that fits)".into(),
            };
            let form = Form::new(
                format!("Deploy {}", sanitize_cell(&detail.title, 50)),
                vec![
                    Field::choice("profile", "Deployment profile", "←/→", options),
                    Field::line("site", "Site", "").with_hint(hint).with_value(&sanitize_cell(&site, 60)),
                    Field::line("namespace", "Namespace", "").with_value(&to_name(app_id, 63)),
                    Field::text("parameters", "Parameters", "pointer=value, one per line (optional)"),
                    target(),
                    Field::line("stack", "Stack", "the new stack's name, or an existing stack's")
                        .with_value(&to_name(&format!("{app_id}-{site}"), 60)),
                    generator(),
                    agents(),
                    labels(),
                ],
            );
            Some((DeployFor::App { app: app_id.clone() }, form))
        }
    }
}

/// The form checked here first (each problem under its field); the service checks again.
pub fn deploy_request(
    what: &DeployFor,
    form: &super::widgets::form::Form,
) -> Result<DeployRequest, Vec<(&'static str, String)>> {
    use crate::domain::deploy::{check_name, parse_values};
    use crate::service::deploy::{AppDeploy, PackageDeploy, Reach, StackChoice};
    let mut errors = Vec::new();
    let reach = Reach {
        agents: form
            .field("agents")
            .map(|f| f.picked().iter().filter_map(|c| c.0.parse::<uuid::Uuid>().ok()).collect())
            .unwrap_or_default(),
        labels: form.value("labels"),
    };
    if let Err(e) = crate::domain::broker::parse_labels(&reach.labels) {
        errors.push(("labels", e));
    }
    let stack_name = form.value("stack").trim().to_string();
    if stack_name.is_empty() {
        errors.push(("stack", "required".to_string()));
    }
    let stack = if form.value("target") == "existing" {
        StackChoice::Existing(stack_name)
    } else {
        match form.value("generator").parse::<uuid::Uuid>() {
            Ok(generator) => StackChoice::New { name: stack_name, generator },
            Err(_) => {
                errors.push(("generator", "a new stack needs a generator".to_string()));
                StackChoice::Existing(stack_name)
            }
        }
    };
    if let Err(e) = check_name("namespace", &form.value("namespace"), 63) {
        errors.push((e.field, e.message));
    }
    let request = match what {
        DeployFor::Package { package, .. } => {
            if let Err(e) = check_name("release", &form.value("release"), 53) {
                errors.push((e.field, e.message));
            }
            if let Err(e) = parse_values(&form.value("values")) {
                errors.push((e.field, e.message));
            }
            if form.value("version").is_empty() {
                errors.push(("version", "choose a chart version".to_string()));
            }
            DeployRequest::Package(PackageDeploy {
                package: *package,
                version: form.value("version"),
                release: form.value("release").trim().to_string(),
                namespace: form.value("namespace").trim().to_string(),
                values: form.value("values"),
                stack,
                reach,
            })
        }
        DeployFor::App { app } => {
            if form.value("site").trim().is_empty() {
                errors.push(("site", "choose the site to deploy to".to_string()));
            }
            if let Err(e) = crate::domain::deploy::parse_parameters(&form.value("parameters"), &[]) {
                errors.push((e.field, e.message));
            }
            DeployRequest::App(AppDeploy {
                app: app.clone(),
                profile: form.value("profile"),
                site: form.value("site").trim().to_string(),
                namespace: form.value("namespace").trim().to_string(),
                parameters: form.value("parameters"),
                stack,
                reach,
            })
        }
    };
    if errors.is_empty() {
        Ok(request)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::wrap_words;

    #[test]
    fn words_wrap_at_spaces_and_a_long_word_is_cut() {
        assert_eq!(wrap_words("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(wrap_words("abcdefghijkl xy", 5), ["abcde", "fghij", "kl xy"]);
        assert_eq!(wrap_words("", 5), [""]);
        assert_eq!(wrap_words("fits", 10), ["fits"]);
    }
}

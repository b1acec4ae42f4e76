//! The Marketplace pane's state per catalogue (`View`: the catalogue in memory, the search, the
//! facets, the selection) and the item open in full (`DetailView`).

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use nucleo_matcher::Matcher;

use crate::domain::catalogue::{self, Catalogue, Hit, Results, Searcher, Selection, Sort};
use crate::service::market_detail::Detail;
use crate::service::marketplace::{self, Kind};
use crate::ui::action::Action;
use crate::ui::theme::Theme;
use ratatui::text::Line;

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
    pub(super) height: Cell<usize>,
    pub(super) total: Cell<usize>,
    /// The drawn lines, kept while the item, the width and the theme stay the same.
    pub(super) cache: RefCell<Option<(u16, Theme, Vec<Line<'static>>)>>,
}

impl DetailView {
    pub(super) fn new(kind: Kind, id: String, name: String) -> DetailView {
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

    pub(super) fn scroll_by(&mut self, delta: i64) {
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
pub(super) struct Highlighter(pub(super) RefCell<Matcher>);

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
    pub(super) first: Cell<usize>,
    /// Rows that fit, as of the last frame.
    pub(super) height: Cell<usize>,
    /// The facet panel, when it has the keys.
    pub facets: Option<FacetCursor>,
    /// Facet picks asked for before the catalogue arrived.
    pub(super) pending_picks: Vec<(String, String)>,
    pub(super) searcher: Searcher,
    pub(super) highlighter: Highlighter,
}

impl View {
    pub(super) fn new(kind: Kind) -> View {
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

    pub(super) fn position_of(&self, id: &str) -> Option<usize> {
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

    pub(super) fn move_by(&mut self, delta: i64) {
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

    pub(super) fn facet_move(&mut self, delta: i64) {
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
    pub(super) fn facet_action(&mut self, action: Action) -> bool {
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

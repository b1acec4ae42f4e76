//! The Marketplace pane: five catalogues (packages, apps, solutions, agents, compute offers), each
//! held in memory once read, searched on every keystroke, narrowed by facets and sorted, drawn
//! a screenful at a time.

mod deploy;
mod draw;
pub mod markdown;
mod pane;
mod view;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

pub use self::deploy::{deploy_form, deploy_request};
pub use self::draw::detail_lines;
pub use self::pane::Awaiting;
pub use self::view::{DetailView, FacetCursor, ServerResults, View};
use crate::domain::catalogue::Sort;
pub use crate::service::deploy::{DeployFor, DeployRequest};
use crate::service::listing::Entity;
use crate::service::marketplace::Kind;
use crate::ui::action::Action;

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

#[derive(Debug, Clone)]
pub struct Market {
    pub kind: Kind,
    pub views: BTreeMap<Kind, View>,
    /// The item open in full, if any.
    pub detail: Option<DetailView>,
    /// The pane's lists of the database's kind, read when the pane is first shown and by the
    /// list keys while the dashboard's detail is open, never drawn (kept as they were).
    pub lists: crate::ui::lists::Lists,
}

impl Default for Market {
    fn default() -> Market {
        Market {
            kind: Kind::Packages,
            views: Kind::ALL.into_iter().map(|k| (k, View::new(k))).collect(),
            detail: None,
            lists: crate::ui::lists::Lists::new(&[
                Entity::Packages,
                Entity::Apps,
                Entity::Solutions,
                Entity::Instances,
            ]),
        }
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
    pub fn due_load(&mut self, now: DateTime<Utc>) -> Option<Ask> {
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
    pub fn catalogue_action(&mut self, action: Action) -> (bool, Option<Ask>) {
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
}

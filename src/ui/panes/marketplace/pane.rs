//! The Marketplace as a pane: its keys before the keymap's, the calls it makes and their
//! answers, the deploy form's submission, `:pkgs`-style commands, the search line, the footer.

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use super::{deploy_form, deploy_request, Ask, DeployFor, Market};
use crate::service::listing::Entity;
use crate::service::marketplace::Kind;
use crate::ui::action::Action;
use crate::ui::keymap::Section;
use crate::ui::modal::{FormFor, Mode};
use crate::ui::pane::{form_refused, form_to_submit, Ctx, Detail, Effects};
use crate::ui::protocol::{Command, Outcome};
use crate::ui::target_picker::TargetPicker;

/// A call the pane awaits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// A marketplace catalogue.
    Catalogue(Kind),
    /// A server-side marketplace search.
    MarketSearch(Kind),
    /// A marketplace item in full.
    MarketDetail(Kind),
    /// Generators, to open the deploy form.
    OpenDeployForm,
    /// The answer to the deploy form.
    DeployForm,
    /// The agents a deploy form may target, for its picker.
    PickAgents,
}

type Fx = Effects<Awaiting>;

impl Market {
    /// A key before the keymap's: the catalogue's own while the dashboard's detail is closed
    /// (Esc clears the search first). True when taken.
    pub fn key(&mut self, key: &KeyEvent, cx: &Ctx, fx: &mut Fx) -> bool {
        if cx.detail != Detail::Closed {
            return false;
        }
        let Some(action) = cx.keymap.action(Section::Marketplace, key, true) else { return false };
        if action == Action::Back && self.back_search() {
            return true;
        }
        // Read-only: refused at once, without opening the item to deploy it.
        if action == Action::Deploy && cx.readonly {
            self.start_deploy(cx, fx);
            return true;
        }
        let (handled, ask) = self.catalogue_action(action);
        if handled {
            self.ask(ask, cx, fx);
        }
        handled
    }

    /// An action of the pane the catalogue did not take (after the shell's global ones): the
    /// list keys go to the pane's database lists.
    pub fn action(&mut self, action: Action, cx: &Ctx, fx: &mut Fx) {
        match action {
            Action::Refresh => {
                let ask = if self.detail.is_some() { self.reload_detail() } else { self.reload() };
                self.ask(ask, cx, fx);
            }
            // The Marketplace's own, taken by `key` when they apply.
            Action::Facets | Action::ClearFacet | Action::Deploy => {}
            other => {
                self.lists.current_mut().action(other, cx, fx);
            }
        }
    }

    /// A key no action is bound to: the list's (Shift+letter sorts by that column).
    pub fn unbound(&mut self, key: &KeyEvent, cx: &Ctx, fx: &mut Fx) {
        fx.requests(self.lists.current_mut().unbound_key(key, cx.now));
    }

    pub fn back(&mut self, cx: &Ctx, fx: &mut Fx) {
        self.lists.current_mut().back(cx, fx);
    }

    /// Esc in the list: close the item, else clear the search (true when it did something).
    fn back_search(&mut self) -> bool {
        if self.close_detail() {
            return true;
        }
        let view = self.view_mut();
        if view.facets.is_some() {
            return false;
        }
        if !view.query.is_empty() || view.server.is_some() {
            // Clears the server's answer too.
            view.set_query("");
            return true;
        }
        false
    }

    /// The clock ticked: the catalogues are read whole and searched in memory; they are not
    /// polled.
    pub fn tick(&mut self, cx: &Ctx, fx: &mut Fx) {
        let ask = self.due_load(cx.now);
        self.ask(ask, cx, fx);
    }

    /// Send what the catalogue asked for to a worker.
    fn ask(&mut self, ask: Option<Ask>, cx: &Ctx, fx: &mut Fx) {
        match ask {
            None => {}
            Some(Ask::Load(kind)) => fx.call(Command::Catalogue(kind), Awaiting::Catalogue(kind)),
            Some(Ask::Search { kind, query }) => {
                fx.call(Command::MarketSearch { kind, query }, Awaiting::MarketSearch(kind))
            }
            Some(Ask::Detail { kind, id }) => fx.call(Command::MarketDetail { kind, id }, Awaiting::MarketDetail(kind)),
            Some(Ask::Deploy) => self.start_deploy(cx, fx),
        }
    }

    /// `d` on an item: the deploy form (generators first), unless read-only.
    fn start_deploy(&mut self, cx: &Ctx, fx: &mut Fx) {
        if cx.readonly {
            return fx.toast(cx.read_only_refusal("deploying"), true);
        }
        let Some(d) = &mut self.detail else { return };
        let Some(data) = &d.data else {
            d.deploy_when_loaded = true;
            return;
        };
        if data.deploy.is_none() {
            let kind = d.kind.title().to_lowercase();
            return fx.toast(format!("{kind} are not deployed from here; packages and apps are"), true);
        }
        fx.call(Command::Generators, Awaiting::OpenDeployForm);
    }

    /// Check the deploy form (each problem under its field), then deploy.
    pub fn submit_deploy(&mut self, what: DeployFor, mode: &mut Mode, cx: &Ctx, fx: &mut Fx) {
        let Some(form) = form_to_submit(mode, cx, "deploying") else { return };
        match deploy_request(&what, form) {
            Ok(request) => {
                form.busy = true;
                fx.call(Command::Deploy(Box::new(request)), Awaiting::DeployForm);
            }
            Err(errors) => {
                for (field, message) in errors {
                    form.set_error(field, message);
                }
            }
        }
    }

    /// The deploy form's Agents field: read the agents for its picker.
    pub fn pick_agents(&mut self, cx: &Ctx, fx: &mut Fx) {
        let (thresholds, at) = (cx.thresholds, cx.now);
        fx.call(Command::TargetChoices { stack: None, thresholds, at }, Awaiting::PickAgents);
    }

    /// A call's answer; the outcome back when it is not the pane's to take.
    pub fn called(
        &mut self,
        awaiting: Awaiting,
        outcome: Outcome,
        mode: &mut Mode,
        cx: &Ctx,
        fx: &mut Fx,
    ) -> Option<Outcome> {
        match (awaiting, outcome) {
            (Awaiting::Catalogue(kind), Outcome::Catalogue(catalogue)) => {
                if let Some(view) = self.views.get_mut(&kind) {
                    view.loaded(catalogue, cx.now);
                }
            }
            (Awaiting::Catalogue(kind), Outcome::Failed { message, .. }) => self.load_failed(kind, message, cx.now),
            (Awaiting::MarketSearch(kind), Outcome::MarketSearch { query, ids }) => {
                if let Some(view) = self.views.get_mut(&kind) {
                    view.server_results(query, &ids);
                }
            }
            (Awaiting::MarketSearch(kind), Outcome::Failed { message, .. }) => {
                if let Some(view) = self.views.get_mut(&kind) {
                    view.searching = false;
                }
                fx.toast(format!("search: {message}"), true);
            }
            (Awaiting::MarketDetail(kind), Outcome::MarketDetail(detail)) => {
                let deploy = match &mut self.detail {
                    Some(d) if d.kind == kind && d.id == detail.id => {
                        d.loaded(*detail);
                        std::mem::take(&mut d.deploy_when_loaded)
                    }
                    _ => false,
                };
                if deploy {
                    self.start_deploy(cx, fx);
                }
            }
            (Awaiting::MarketDetail(kind), Outcome::Failed { message, .. }) => {
                if let Some(d) = self.detail.as_mut().filter(|d| d.kind == kind && d.loading) {
                    d.failed(message);
                }
            }
            (Awaiting::OpenDeployForm, Outcome::Generators(gens)) => {
                let form = self.detail.as_ref().and_then(|d| d.data.as_ref()).and_then(|data| deploy_form(data, &gens));
                if let Some((what, form)) = form {
                    fx.open_form(form, FormFor::Deploy(what));
                }
            }
            (Awaiting::OpenDeployForm, Outcome::Failed { message, .. }) => fx.toast(message, true),
            (Awaiting::DeployForm, Outcome::Deployed(done)) => {
                fx.open(Mode::Normal);
                fx.toast(done.describe(), false);
                fx.reread.push(Entity::Stacks);
            }
            (Awaiting::DeployForm, Outcome::Failed { message, field }) => form_refused(mode, fx, message, field, None),
            (Awaiting::PickAgents, Outcome::TargetChoices { agents, .. }) => {
                // The form waits inside the picker; closed meanwhile, there is nothing to pick for.
                if let Mode::Form(form) = std::mem::replace(mode, Mode::Normal) {
                    *mode = Mode::Targets(Box::new(TargetPicker::for_form(agents, form, "agents")));
                }
            }
            (Awaiting::PickAgents, Outcome::Failed { message, .. }) => match mode {
                Mode::Form(form) => form.banner = Some(message),
                _ => fx.toast(message, true),
            },
            (_, other) => return Some(other),
        }
        None
    }

    /// `:pkgs category=Database official=yes`: the facet values to pick, or what is wrong.
    pub fn parse_picks(name: &str, arg: &str) -> Result<Vec<(String, String)>, String> {
        let mut picks = Vec::new();
        for word in arg.split_whitespace() {
            match word.split_once('=') {
                Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                    picks.push((k.replace('_', " "), v.replace('_', " ")))
                }
                _ => return Err(format!(":{name} {word}: expected facet=value")),
            }
        }
        Ok(picks)
    }

    /// Show a catalogue with those facet values picked (the kind's defaults otherwise).
    pub fn open_kind(&mut self, kind: Kind, name: &str, picks: &[(String, String)], cx: &Ctx, fx: &mut Fx) {
        self.detail = None;
        self.show(kind);
        // A new query for the view: an earlier search (typed or on the server) does not linger.
        let view = self.view_mut();
        view.server = None;
        view.query.clear();
        if let Err(e) = self.view_mut().pick(picks) {
            fx.toast(format!(":{name}: {e}"), true);
        }
        self.tick(cx, fx);
    }

    /// What `/` starts from.
    pub fn filter_text(&self) -> String {
        self.view().query.clone()
    }

    /// The search line: as typed (every keystroke matches the catalogue in memory), entered
    /// (the server searches every field), or cleared (None).
    pub fn search_typed(&mut self, text: Option<&str>) {
        self.set_query(text.unwrap_or(""));
    }

    pub fn search_entered(&mut self, text: &str, cx: &Ctx, fx: &mut Fx) {
        let ask = self.search_server(text);
        self.ask(ask, cx, fx);
    }

    /// Has the catalogue shown been read (or failed)?
    pub fn read_done(&self) -> bool {
        let view = self.view();
        view.loaded_at.is_some() || view.error.is_some()
    }

    /// For the status bar: when the catalogue shown was read, and whether a read is on its way.
    pub fn status(&self) -> (Option<chrono::DateTime<chrono::Utc>>, bool) {
        let view = self.view();
        (view.loaded_at, view.loading)
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, cx: &Ctx) {
        cx.table_area.set(area);
        self.draw_catalogue(frame, area, cx.theme, cx.detail == Detail::Closed, Line::default());
    }

    /// The footer's key hints, and the keymap section they are looked up in.
    pub fn hints(&self) -> (Vec<(Action, &'static str)>, Section) {
        let mut hints = vec![(Action::Help, "help"), (Action::Command, "command"), (Action::Filter, "search")];
        let deploys = matches!(self.kind, Kind::Packages | Kind::Apps);
        if self.detail.is_some() {
            hints.extend([(Action::Down, "scroll"), (Action::Back, "back")]);
        } else {
            hints.extend([(Action::NextView, "next list"), (Action::Facets, "facets"), (Action::Open, "detail")]);
        }
        if deploys {
            hints.push((Action::Deploy, "deploy"));
        }
        if self.detail.is_none() {
            hints.push((Action::SortNext, "sort"));
        }
        (hints, Section::Marketplace)
    }
}

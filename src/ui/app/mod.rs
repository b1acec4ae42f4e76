//! The dashboard's shell: the four panes as named fields, and what is global — tabs, the `:`
//! line, commands, modals, toasts, help, the status bar and footer, call bookkeeping. `update`
//! (an action, a key, a worker's reply) changes state and never awaits or does IO: what it
//! wants done goes to `outbox` for the workers. Drawing reads state and nothing else.
//!
//! Each event goes to the pane of the tab shown (`match tab`, no `dyn`: each pane's calls keep
//! their own typed `Awaiting`); the pane answers with effects, applied here in order.

/// What a pane may read, built from the app's fields (a macro, not a method, so that it
/// borrows only those fields and a pane can be borrowed beside it).
macro_rules! cx {
    ($app:ident, $shown:expr) => {
        $crate::ui::pane::Ctx {
            now: $app.now,
            readonly: $app.readonly,
            readonly_locked: $app.readonly_locked,
            detail: $app.detail,
            thresholds: $app.thresholds,
            keymap: &$app.keymap,
            theme: &$app.theme,
            refresh_every: $app.refresh_every,
            shown: $shown,
            table_area: &$app.table_area,
            header_spots: &$app.header_spots,
        }
    };
}

/// Call a pane's method with a context and effects, then apply the effects (its awaited calls
/// wrapped as the shell's `Awaiting`). `$pane` names the field, `$wrap` the `Awaiting` variant.
macro_rules! with_pane {
    ($app:ident, $pane:ident, $wrap:path, |$p:ident, $cx:ident, $fx:ident| $body:expr) => {{
        let shown = $app.entity();
        let mut $fx = $crate::ui::pane::Effects::default();
        #[allow(clippy::let_unit_value)]
        let out = {
            let $cx = cx!($app, shown);
            let $p = &mut $app.$pane;
            $body
        };
        $app.apply($fx.map($wrap));
        out
    }};
}

mod calls;
mod chrome;
mod commands;
mod modal;
mod mouse;
mod prompt;
mod replies;
mod tabs;
mod toasts;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use self::calls::{Awaiting, Calls};
pub use self::chrome::Connection;
pub use self::commands::COMMANDS;
pub use self::prompt::{candidates, complete};
pub use self::tabs::Tab;
pub use self::toasts::Toast;
use super::action::Action;
use super::keymap::Keymap;
use super::list::List;
use super::lists::Lists;
pub use super::modal::{FormFor, Mode, Pending, Prompt, PromptKind};
pub use super::pane::{read_only_refusal, Detail};
use super::pane::{Effects, Out, Spot};
use super::panes::executions::Executions;
use super::panes::fleet::Fleet;
use super::panes::marketplace::Market;
use super::panes::rollouts::Rollouts;
use super::protocol::{Command, Request};
use super::theme::Theme;
use crate::domain::health::Thresholds;
use crate::service::listing::Entity;

pub use super::list::FULL_EVERY;
pub use super::panes::fleet::health::SPARK_SAMPLES;

/// What `:readonly` says when it may not turn read-only mode off.
pub const READ_ONLY_LOCKED: &str = "read-only mode is locked: fleetdeck was started read-only (--readonly, \
     readonly = true or FLEETDECK_READONLY), so :readonly cannot turn it off; restart without it to write";

/// Everything the screen shows.
#[derive(Debug, Clone)]
pub struct App {
    pub tab: Tab,
    /// The Marketplace pane.
    pub market: Market,
    pub fleet: Fleet,
    pub rollouts: Rollouts,
    pub executions: Executions,
    pub quit: bool,
    pub help: super::help::Help,
    /// Where the data comes from, shown in the status bar.
    pub target: String,
    /// The demo's simulator, when it runs beside the dashboard: what it is doing now.
    pub simulator: Option<tokio::sync::watch::Receiver<crate::sim::Status>>,
    /// Who acts, shown in the status bar.
    pub actor: String,
    pub theme: Theme,
    pub theme_name: String,
    /// Every theme `:theme` can switch to.
    pub themes: Vec<(String, Theme)>,
    pub keymap: Keymap,
    pub mode: Mode,
    /// One detail mode for every pane: it survives tab switches.
    pub detail: Detail,
    pub readonly: bool,
    /// Started read-only (flag, config or environment): `:readonly` may not turn it off.
    pub readonly_locked: bool,
    pub connection: Connection,
    /// Where reads go, when a hot standby is configured (the standby's watch says).
    pub reads: Option<crate::db::replica::ReadsFrom>,
    pub toasts: VecDeque<Toast>,
    pub now: DateTime<Utc>,
    /// Times are shown in this offset (the local one; UTC in tests).
    pub offset: FixedOffset,
    pub refresh_every: Duration,
    /// Where healthy ends and stale and offline begin.
    pub thresholds: Thresholds,
    /// What the open form is for.
    pub form_for: FormFor,
    /// Requests for the workers, taken by the loop after each update.
    pub outbox: Vec<Request>,
    history: Vec<String>,
    calls: Calls,
    /// The area the current table was drawn in, for paging and mouse clicks.
    table_area: Cell<Rect>,
    /// Where each count of the status header was drawn: (row, first column, end, status).
    header_spots: RefCell<Vec<Spot>>,
}

impl App {
    pub fn new(theme: Theme, keymap: Keymap, target: String) -> App {
        App {
            tab: Tab::Marketplace,
            market: Market::default(),
            fleet: Fleet::default(),
            rollouts: Rollouts::default(),
            executions: Executions::default(),
            quit: false,
            help: super::help::Help::default(),
            target,
            simulator: None,
            actor: String::new(),
            themes: vec![("default".into(), theme.clone())],
            theme,
            theme_name: "default".into(),
            keymap,
            mode: Mode::Normal,
            detail: Detail::Closed,
            readonly: false,
            readonly_locked: false,
            connection: Connection::Connected,
            reads: None,
            toasts: VecDeque::new(),
            now: DateTime::<Utc>::UNIX_EPOCH,
            offset: Utc.fix(),
            refresh_every: Duration::from_secs(2),
            thresholds: Thresholds::default(),
            form_for: FormFor::NewStack,
            outbox: Vec::new(),
            history: Vec::new(),
            calls: Calls::default(),
            table_area: Cell::new(Rect::default()),
            header_spots: RefCell::new(Vec::new()),
        }
    }

    /// The theme in use is `name`; `themes` are the ones `:theme` offers.
    pub fn with_themes(mut self, name: &str, themes: Vec<(String, Theme)>) -> App {
        self.theme_name = name.to_string();
        if let Some((_, t)) = themes.iter().find(|(n, _)| n == name) {
            self.theme = t.clone();
        }
        self.themes = themes;
        self
    }

    /// Show what the demo's simulator is doing in the status bar.
    pub fn with_simulator(mut self, status: Option<tokio::sync::watch::Receiver<crate::sim::Status>>) -> App {
        self.simulator = status;
        self
    }

    pub fn with_actor(mut self, actor: &str) -> App {
        self.actor = actor.to_string();
        self
    }

    /// Open on this pane (`fleetdeck --tab executions`): only its data is read first.
    pub fn with_tab(mut self, tab: Tab) -> App {
        self.tab = tab;
        self
    }

    /// Started read-only: locked so (`:readonly` may turn it on from a writable start, and off
    /// again only then).
    pub fn with_readonly(mut self, on: bool) -> App {
        self.readonly = on;
        self.readonly_locked = on;
        self
    }

    pub fn with_refresh(mut self, every: Duration) -> App {
        self.refresh_every = every;
        self
    }

    /// Health by these thresholds (the `[health]` settings).
    pub fn with_thresholds(mut self, t: Thresholds) -> App {
        self.thresholds = t;
        for tab in Tab::ALL {
            for list in self.lists_mut(tab).iter_mut() {
                list.query.health = t;
            }
        }
        self
    }

    pub fn with_offset(mut self, offset: FixedOffset) -> App {
        self.offset = offset;
        self
    }

    // ----- the panes' lists -----

    fn lists(&self, tab: Tab) -> &Lists {
        match tab {
            Tab::Marketplace => &self.market.lists,
            Tab::Fleet => &self.fleet.lists,
            Tab::Rollouts => &self.rollouts.lists,
            Tab::Executions => &self.executions.lists,
        }
    }

    fn lists_mut(&mut self, tab: Tab) -> &mut Lists {
        match tab {
            Tab::Marketplace => &mut self.market.lists,
            Tab::Fleet => &mut self.fleet.lists,
            Tab::Rollouts => &mut self.rollouts.lists,
            Tab::Executions => &mut self.executions.lists,
        }
    }

    /// The list the pane shown shows (the Marketplace's is its database list of the kind, which
    /// it never draws).
    pub fn entity(&self) -> Entity {
        self.lists(self.tab).entity()
    }

    pub fn list(&self) -> &List {
        self.lists(self.tab).current()
    }

    fn list_mut(&mut self) -> &mut List {
        self.lists_mut(self.tab).current_mut()
    }

    /// The list of an entity (for tests and the CLI's snapshots).
    pub fn list_of(&self, entity: Entity) -> &List {
        match self.lists(Tab::of(entity)).get(entity) {
            Some(list) => list,
            // Every entity's list is in its pane from the start.
            None => self.list(),
        }
    }

    /// Show a list: its tab, the list in the tab, the detail closed; read it if it never was.
    fn show(&mut self, entity: Entity) {
        self.tab = Tab::of(entity);
        self.lists_mut(self.tab).show(entity);
        self.detail = Detail::Closed;
        self.ensure_loaded();
    }

    fn switch(&mut self, tab: Tab) {
        self.tab = tab;
        self.ensure_loaded();
    }

    fn ensure_loaded(&mut self) {
        let now = self.now;
        let request = self.list_mut().ensure_loaded(now);
        self.outbox.extend(request);
    }

    /// Read the list on screen again.
    fn refresh(&mut self) {
        let now = self.now;
        let request = self.list_mut().refresh(now);
        self.outbox.push(request);
    }

    /// Make a call: numbered, noted with what awaits its answer, sent with the next requests.
    fn call(&mut self, command: Command, awaiting: Awaiting) {
        self.calls.next += 1;
        self.calls.waiting.insert(self.calls.next, awaiting);
        self.outbox.push(Request::Call { id: self.calls.next, command });
    }

    /// Apply what a pane wants done, in order.
    fn apply(&mut self, fx: Effects<Awaiting>) {
        for out in fx.out {
            match out {
                Out::Request(r) => self.outbox.push(r),
                Out::Call(command, awaiting) => self.call(command, awaiting.unwrap_or(Awaiting::Toast)),
            }
        }
        for (text, error) in fx.toasts {
            self.toast(text, error);
        }
        if let Some(what) = fx.form_for {
            self.form_for = what;
        }
        if let Some(mode) = fx.mode {
            self.mode = mode;
        }
        if let Some(detail) = fx.detail {
            self.detail = detail;
        }
        for entity in fx.reread {
            if let Some(list) = self.lists_mut(Tab::of(entity)).get_mut(entity) {
                list.refreshed = None;
            }
        }
        if fx.refresh {
            self.refresh();
        }
        if let Some(action) = fx.pass {
            self.update(action);
        }
    }

    // ----- events -----

    /// The clock ticked: expire toasts, read the list on screen when it is due.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        self.now = now;
        self.toasts.retain(|t| t.until > now);
        if self.tab == Tab::Marketplace {
            with_pane!(self, market, Awaiting::Marketplace, |p, cx, fx| p.tick(&cx, &mut fx));
            self.poll_fleet();
            return;
        }
        let every = self.refresh_every;
        let request = self.list_mut().tick(now, every);
        self.outbox.extend(request);
        self.poll_fleet();
        self.sync();
    }

    /// Has what the pane shows been read (or failed)? Until then the fleet's counts, which no
    /// pane's rows need, wait: at start they would compete with the pane's first read.
    fn shown_read(&self) -> bool {
        if self.tab == Tab::Marketplace {
            self.market.read_done()
        } else {
            let list = self.list();
            list.table.loaded || list.error.is_some()
        }
    }

    /// The fleet's health counts, when due (see `Fleet::poll_counts`).
    fn poll_fleet(&mut self) {
        let (shown, ready) = (self.tab == Tab::Fleet, self.shown_read());
        with_pane!(self, fleet, Awaiting::Fleet, |p, cx, fx| p.poll_counts(shown, ready, &cx, &mut fx));
    }

    /// Keep the detail of the pane shown on what it should show, and read it when needed.
    fn sync(&mut self) {
        match self.tab {
            Tab::Executions => with_pane!(self, executions, Awaiting::Executions, |p, cx, fx| p.sync(&cx, &mut fx)),
            Tab::Rollouts => with_pane!(self, rollouts, Awaiting::Rollouts, |p, cx, fx| p.sync(&cx, &mut fx)),
            Tab::Marketplace | Tab::Fleet => {}
        }
    }

    /// A key: to the form, modal or prompt when one is open, else to the pane and through the
    /// keymap.
    pub fn on_key(&mut self, key: KeyEvent) {
        'handled: {
            match &self.mode {
                Mode::Form(_) => self.form_key(key),
                Mode::Confirm(..) => self.confirm_key(key),
                Mode::Editor(_) | Mode::Targets(_) => self.editor_key(key),
                Mode::Prompt(_) => self.prompt_key(key),
                Mode::Normal => break 'handled self.normal_key(key),
            }
        }
        self.sync();
    }

    /// A key with nothing open over the pane: help when it shows, the pane's own keys, then the
    /// keymap.
    fn normal_key(&mut self, key: KeyEvent) {
        let section = self.tab.section();
        if self.help.open {
            match self.help.key(key) {
                super::help::HelpKey::Handled => {}
                super::help::HelpKey::Close => self.help.open = false,
                super::help::HelpKey::Pass => {
                    if let Some(a @ (Action::Help | Action::Quit)) = self.keymap.action(section, &key, true) {
                        self.update(a);
                    }
                }
            }
            return;
        }
        let taken = match self.tab {
            Tab::Marketplace => with_pane!(self, market, Awaiting::Marketplace, |p, cx, fx| p.key(&key, &cx, &mut fx)),
            Tab::Rollouts => with_pane!(self, rollouts, Awaiting::Rollouts, |p, cx, fx| p.key(&key, &cx, &mut fx)),
            Tab::Executions => {
                with_pane!(self, executions, Awaiting::Executions, |p, cx, fx| p.key(&key, &cx, &mut fx))
            }
            Tab::Fleet => false,
        };
        if taken {
            return;
        }
        match self.keymap.action(section, &key, true) {
            Some(action) => self.update(action),
            // A key no action is bound to: the pane's.
            None => match self.tab {
                Tab::Marketplace => {
                    with_pane!(self, market, Awaiting::Marketplace, |p, cx, fx| p.unbound(&key, &cx, &mut fx))
                }
                Tab::Fleet => with_pane!(self, fleet, Awaiting::Fleet, |p, cx, fx| p.unbound(&key, &cx, &mut fx)),
                Tab::Rollouts => {
                    with_pane!(self, rollouts, Awaiting::Rollouts, |p, cx, fx| p.unbound(&key, &cx, &mut fx))
                }
                Tab::Executions => {
                    with_pane!(self, executions, Awaiting::Executions, |p, cx, fx| p.unbound(&key, &cx, &mut fx))
                }
            },
        }
    }

    /// Is this key the suspend action (which the terminal loop handles)?
    pub fn is_suspend(&self, key: &KeyEvent) -> bool {
        matches!(self.mode, Mode::Normal) && self.keymap.action(self.tab.section(), key, true) == Some(Action::Suspend)
    }

    /// Change state for an action: the global ones here, the rest to the pane shown. Never
    /// awaits.
    pub fn update(&mut self, action: Action) {
        let n = Tab::ALL.len();
        match action {
            Action::Quit => self.quit = true,
            // Handled by the terminal loop, which owns the terminal.
            Action::Suspend => {}
            Action::Help if self.help.open => self.help.open = false,
            Action::Help => self.help.show(),
            Action::Back if self.help.open => self.help.open = false,
            Action::Back => match self.tab {
                Tab::Marketplace => with_pane!(self, market, Awaiting::Marketplace, |p, cx, fx| p.back(&cx, &mut fx)),
                Tab::Fleet => with_pane!(self, fleet, Awaiting::Fleet, |p, cx, fx| p.back(&cx, &mut fx)),
                Tab::Rollouts => with_pane!(self, rollouts, Awaiting::Rollouts, |p, cx, fx| p.back(&cx, &mut fx)),
                Tab::Executions => {
                    with_pane!(self, executions, Awaiting::Executions, |p, cx, fx| p.back(&cx, &mut fx))
                }
            },
            Action::NextTab => self.switch(Tab::ALL[(self.tab.index() + 1) % n]),
            Action::PrevTab => self.switch(Tab::ALL[(self.tab.index() + n - 1) % n]),
            Action::GotoMarketplace => self.switch(Tab::Marketplace),
            Action::GotoFleet => self.switch(Tab::Fleet),
            Action::GotoRollouts => self.switch(Tab::Rollouts),
            Action::GotoExecutions => self.switch(Tab::Executions),
            Action::NextView | Action::PrevView => {
                self.lists_mut(self.tab).cycle(action == Action::NextView);
                self.detail = Detail::Closed;
                self.ensure_loaded();
            }
            Action::Command => self.mode = Mode::Prompt(Box::new(Prompt::new(PromptKind::Command, ""))),
            Action::Filter => {
                let text = if self.tab == Tab::Marketplace {
                    self.market.filter_text()
                } else {
                    self.list().filter_text.clone()
                };
                self.mode = Mode::Prompt(Box::new(Prompt::new(PromptKind::Filter, &text)));
            }
            // Bound anywhere by a user's keymap, it opens the Rollouts pane's form where it is.
            Action::NewStack => {
                with_pane!(self, rollouts, Awaiting::Rollouts, |p, cx, fx| p.action(action, &cx, &mut fx))
            }
            other => match self.tab {
                Tab::Marketplace => {
                    with_pane!(self, market, Awaiting::Marketplace, |p, cx, fx| p.action(other, &cx, &mut fx))
                }
                Tab::Fleet => with_pane!(self, fleet, Awaiting::Fleet, |p, cx, fx| p.action(other, &cx, &mut fx)),
                Tab::Rollouts => {
                    with_pane!(self, rollouts, Awaiting::Rollouts, |p, cx, fx| p.action(other, &cx, &mut fx))
                }
                Tab::Executions => {
                    with_pane!(self, executions, Awaiting::Executions, |p, cx, fx| p.action(other, &cx, &mut fx))
                }
            },
        }
    }
}

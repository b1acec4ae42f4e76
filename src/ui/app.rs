//! The dashboard's state, its `update` (an action or a worker's reply changes state; never
//! awaits, never does IO: what it wants done goes to `outbox` for the workers) and its drawing
//! (reads state and nothing else).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Tabs, Wrap};
use ratatui::Frame;
use tui_textarea::TextArea;
use uuid::Uuid;

use super::action::Action;
use super::exec_detail::ExecDetail;
use super::keymap::{Keymap, Section};
use super::rollout_forms::{EditorKey, YamlEditor};
use super::stack_detail::StackDetail;
use super::target_picker::TargetPicker;
use super::theme::Theme;
use super::widgets::form::{Confirm, ConfirmKey, Field, Form, FormKey};
use super::widgets::table::{self, Decor, TableState};
use super::workers::{Command, DeltaRequest, Outcome, PageRequest, Reply, Request};
use crate::domain::broker::{parse_annotations, parse_labels, StackDraft};
use crate::domain::execution::{ExecutionStatus, Verb};
use crate::domain::filter::Filter;
use crate::domain::health::{Health, Thresholds};
use crate::domain::text::sanitize_cell;
use crate::service::fleet::{Deletable, Summary, Tags};
use crate::service::listing::{self, Entity, PageAt, Query};
use crate::service::marketplace::Kind;

/// The four panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tab {
    Marketplace,
    Fleet,
    Rollouts,
    Executions,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Marketplace, Tab::Fleet, Tab::Rollouts, Tab::Executions];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Marketplace => "Marketplace",
            Tab::Fleet => "Fleet",
            Tab::Rollouts => "Rollouts",
            Tab::Executions => "Executions",
        }
    }

    /// The keymap section of the pane.
    pub fn section(self) -> Section {
        match self {
            Tab::Marketplace => Section::Marketplace,
            Tab::Fleet => Section::Fleet,
            Tab::Rollouts => Section::Rollouts,
            Tab::Executions => Section::Executions,
        }
    }

    /// The lists the pane shows, one at a time.
    pub fn views(self) -> &'static [Entity] {
        match self {
            Tab::Marketplace => &[Entity::Packages, Entity::Apps, Entity::Solutions, Entity::Instances],
            Tab::Fleet => &[Entity::Hosts, Entity::Agents, Entity::Orchestrators, Entity::Sites, Entity::Clusters],
            Tab::Rollouts => &[Entity::Stacks],
            Tab::Executions => &[Entity::Executions],
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    fn of(entity: Entity) -> Tab {
        Tab::ALL.into_iter().find(|t| t.views().contains(&entity)).unwrap_or(Tab::Marketplace)
    }
}

/// A whole read of the list on screen (page, total, counts) at least this often; delta reads
/// between.
pub const FULL_EVERY: Duration = Duration::from_secs(30);

/// The commands of `:` mode: name, argument hint, what it does.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("exec", "", "Executions"),
    ("hosts", "", "Fleet: hosts"),
    ("agents", "", "Fleet: cluster agents"),
    ("orchestrators", "", "Fleet: orchestrators (enter: their sites)"),
    ("sites", "", "Fleet: sites (enter: their hosts)"),
    ("clusters", "", "Fleet: clusters (enter: their agents)"),
    ("stacks", "", "Rollouts: stacks"),
    ("pkgs", "", "Marketplace: Helm charts"),
    ("apps", "", "Marketplace: edge apps"),
    ("solutions", "", "Marketplace: AI tools, agents, MCP servers"),
    ("instances", "", "Marketplace: compute offers"),
    ("theme", "NAME", "switch the colour theme (remembered)"),
    ("readonly", "", "turn read-only mode on or off"),
    ("help", "", "show the keys"),
    ("q", "", "quit"),
];

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

impl List {
    fn new(entity: Entity) -> List {
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
}

/// The detail split under the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Closed,
    Split,
    Zoomed,
}

/// A line being typed at the bottom: a command or a filter.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: TextArea<'static>,
    /// Where in the history Up/Down is (commands only).
    pub history_at: Option<usize>,
    /// What is wrong with the input, shown in place of the completions.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Command,
    Filter,
    /// Search the execution's log.
    Search,
}

impl Prompt {
    fn new(kind: PromptKind, text: &str) -> Prompt {
        let mut input = TextArea::from([text.to_string()]);
        input.move_cursor(tui_textarea::CursorMove::End);
        input.set_cursor_line_style(ratatui::style::Style::default());
        Prompt { kind, input, history_at: None, error: None }
    }

    pub fn text(&self) -> String {
        self.input.lines().first().cloned().unwrap_or_default()
    }

    fn set_text(&mut self, text: &str) {
        *self = Prompt { history_at: self.history_at, ..Prompt::new(self.kind, text) };
    }
}

/// What is on top of the list and takes the keys.
#[derive(Debug, Clone)]
pub enum Mode {
    Normal,
    Prompt(Box<Prompt>),
    Form(Box<Form>),
    Confirm(Box<Confirm>, Pending),
    /// The YAML editor of a stack's next deployment object.
    Editor(Box<YamlEditor>),
    /// The picker of a stack's explicit agent targets.
    Targets(Box<TargetPicker>),
}

/// What a confirmation will do.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    Executions { verb: Verb, ids: Vec<Uuid> },
    Fleet { entity: Entity, active: bool, ids: Vec<Uuid> },
    Delete { what: Deletable, ids: Vec<Uuid> },
    Resubmit { stack: Uuid },
}

/// One count of a header: the value it picks (None: all), its text, its style.
type HeaderItem = (Option<String>, String, ratatui::style::Style);

/// What the open form is for.
#[derive(Debug, Clone, PartialEq)]
pub enum FormFor {
    NewStack,
    /// A Marketplace deploy.
    Deploy(super::market::DeployFor),
    /// An agent's labels and annotations, as they were when the form opened.
    AgentTags {
        agent: Uuid,
        expected: Tags,
    },
}

/// What a write refused in read-only mode says: how to write again, if one may.
fn read_only_refusal(locked: bool, what: &str) -> String {
    tracing::info!(what, locked, "refused in read-only mode");
    if locked {
        format!("read-only mode: {what} is disabled (started read-only: restart without --readonly)")
    } else {
        format!("read-only mode: {what} is disabled (:readonly turns it off)")
    }
}

/// What `:readonly` says when it may not turn read-only mode off.
pub const READ_ONLY_LOCKED: &str = "read-only mode is locked: fleetdeck was started read-only (--readonly, \
     readonly = true or FLEETDECK_READONLY), so :readonly cannot turn it off; restart without it to write";

/// Is a read last made `at` (never: None) `every` old at `now`? A clock that went back counts
/// as due.
fn due(now: DateTime<Utc>, at: Option<DateTime<Utc>>, every: Duration) -> bool {
    at.is_none_or(|at| (now - at).to_std().map(|d| d >= every).unwrap_or(true))
}

/// How often a list read whole (no delta) is read again when nothing notified a change.
const WHOLE_READ_IDLE: Duration = Duration::from_secs(10);

/// How often the Fleet pane counts the fleet's health when nothing notified a change.
const FLEET_COUNTS_IDLE: Duration = Duration::from_secs(5);

/// Samples of the fleet's healthy share kept for the sparkline; when full, neighbours merge.
pub const SPARK_SAMPLES: usize = 240;

/// The Fleet pane's summary header: the last counts and the healthy share since the start.
#[derive(Debug, Clone, Default)]
pub struct FleetHealth {
    pub summary: Option<Summary>,
    pub pending: bool,
    pub asked: Option<DateTime<Utc>>,
    /// Hosts or agents changed (a notification) since the counts were last asked for.
    pub changed: bool,
    /// Healthy per cent of hosts and agents together, oldest first.
    pub samples: Vec<u64>,
    /// How many reads each sample stands for (doubles when the samples merge).
    pub per_sample: usize,
    /// Reads folded into the newest sample so far.
    folded: usize,
}

impl FleetHealth {
    /// Add a reading: a new sample, or folded into the newest one once samples stand for several
    /// reads; when the samples are full, each pair merges into one.
    pub fn record(&mut self, percent: u64) {
        let per = self.per_sample.max(1);
        if self.folded > 0 && self.folded < per {
            if let Some(last) = self.samples.last_mut() {
                let n = self.folded as u64;
                *last = (*last * n + percent) / (n + 1);
                self.folded += 1;
                return;
            }
        }
        if self.samples.len() >= SPARK_SAMPLES {
            self.samples = self.samples.chunks(2).map(|c| c.iter().sum::<u64>() / c.len() as u64).collect();
            self.per_sample = per * 2;
        }
        self.samples.push(percent);
        self.folded = 1;
    }

    /// The samples squeezed into `width` columns (averaged), for drawing.
    pub fn series(&self, width: usize) -> Vec<u64> {
        if width == 0 || self.samples.len() <= width {
            return self.samples.clone();
        }
        let n = self.samples.len();
        (0..width)
            .map(|i| {
                let (a, b) = (i * n / width, ((i + 1) * n / width).max(i * n / width + 1));
                let chunk = &self.samples[a..b.min(n)];
                chunk.iter().sum::<u64>() / chunk.len().max(1) as u64
            })
            .collect()
    }
}

/// The connection as the status bar shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connected,
    Lost { since: DateTime<Utc>, retry_in: Duration, error: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    pub until: DateTime<Utc>,
}

/// A one-shot call on its way, and what its answer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    Toast,
    /// Generators for the new-stack form.
    OpenStackForm,
    StackForm,
    /// The execution detail of this id.
    Detail(Uuid),
    /// The stack detail of this stack.
    StackDetail(Uuid),
    /// The fleet's health counts.
    FleetSummary,
    /// An agent's labels and annotations, to open the form.
    OpenTagsForm,
    /// The answer to the labels form.
    TagsForm,
    /// A stack's desired object, to open the YAML editor.
    OpenEditor,
    /// The answer to the editor's submission.
    EditorSubmit,
    /// The agents, to open the targets picker.
    OpenTargets,
    /// The agents a deploy form may target, for its picker.
    PickAgents,
    /// The answer to the picker's changes.
    TargetsApply,
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
}

/// A clickable spot of the status header: (row, first column, end column, the list it filters
/// (None: the one shown), status or health, or all).
type Spot = (u16, u16, u16, Option<Entity>, Option<String>);

/// Everything the screen shows.
#[derive(Debug, Clone)]
pub struct App {
    pub tab: Tab,
    /// The Marketplace pane's catalogues.
    pub market: super::market::Market,
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
    pub detail: Detail,
    /// The Executions pane's detail.
    pub exec_detail: ExecDetail,
    pub stack_detail: StackDetail,
    pub readonly: bool,
    /// Started read-only (flag, config or environment): `:readonly` may not turn it off.
    pub readonly_locked: bool,
    pub connection: Connection,
    pub toasts: VecDeque<Toast>,
    pub now: DateTime<Utc>,
    /// Times are shown in this offset (the local one; UTC in tests).
    pub offset: FixedOffset,
    pub refresh_every: Duration,
    /// Where healthy ends and stale and offline begin.
    pub thresholds: Thresholds,
    /// The Fleet pane's summary header.
    pub fleet: FleetHealth,
    /// What the open form is for.
    pub form_for: FormFor,
    /// The lists the Fleet pane drilled down from (orchestrators → sites → hosts), innermost last.
    pub drill: Vec<Entity>,
    /// Requests for the workers, taken by the loop after each update.
    pub outbox: Vec<Request>,
    lists: HashMap<Entity, List>,
    /// The list each pane shows.
    views: [usize; 4],
    history: Vec<String>,
    next_call: u64,
    calls: HashMap<u64, Awaiting>,
    /// The area the current table was drawn in, for mouse clicks.
    table_area: Cell<Rect>,
    /// Where each count of the status header was drawn: (row, first column, end, status).
    header_spots: RefCell<Vec<Spot>>,
}

impl App {
    pub fn new(theme: Theme, keymap: Keymap, target: String) -> App {
        App {
            tab: Tab::Marketplace,
            market: super::market::Market::default(),
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
            exec_detail: ExecDetail::new(),
            stack_detail: StackDetail::default(),
            readonly: false,
            readonly_locked: false,
            connection: Connection::Connected,
            toasts: VecDeque::new(),
            now: DateTime::<Utc>::UNIX_EPOCH,
            offset: Utc.fix(),
            refresh_every: Duration::from_secs(2),
            thresholds: Thresholds::default(),
            fleet: FleetHealth::default(),
            form_for: FormFor::NewStack,
            drill: Vec::new(),
            outbox: Vec::new(),
            lists: Entity::ALL.into_iter().map(|e| (e, List::new(e))).collect(),
            views: [0; 4],
            history: Vec::new(),
            next_call: 0,
            calls: HashMap::new(),
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
        for list in self.lists.values_mut() {
            list.query.health = t;
        }
        self
    }

    pub fn with_offset(mut self, offset: FixedOffset) -> App {
        self.offset = offset;
        self
    }

    // ----- lists -----

    pub fn entity(&self) -> Entity {
        let views = self.tab.views();
        views[self.views[self.tab.index()].min(views.len() - 1)]
    }

    pub fn list(&self) -> &List {
        let e = self.entity();
        // Every entity has a list from the start.
        &self.lists[&e]
    }

    fn list_mut(&mut self) -> &mut List {
        let e = self.entity();
        self.lists.entry(e).or_insert_with(|| List::new(e))
    }

    /// The list of an entity (for tests and the CLI's snapshots).
    pub fn list_of(&self, entity: Entity) -> &List {
        &self.lists[&entity]
    }

    fn show(&mut self, entity: Entity) {
        self.tab = Tab::of(entity);
        let i = self.tab.views().iter().position(|e| *e == entity).unwrap_or(0);
        self.views[self.tab.index()] = i;
        self.detail = Detail::Closed;
        self.ensure_loaded();
    }

    /// Ask for a page of the current list.
    fn request(&mut self, at: PageAt) {
        let now = self.now;
        let list = self.list_mut();
        // Health is judged by the clock the cells are drawn with.
        list.query.at = Some(now);
        list.generation += 1;
        list.pending = true;
        list.upstream_changed = false;
        list.query.marked = list.marks.iter().cloned().collect();
        let request = PageRequest {
            entity: list.entity,
            generation: list.generation,
            query: list.query.clone(),
            at,
            light_first: list.table.rows.is_empty(),
        };
        self.outbox.push(Request::Page(request));
    }

    fn ensure_loaded(&mut self) {
        let list = self.list();
        if !list.table.loaded && !list.pending {
            self.request(PageAt::First);
        }
    }

    fn refresh(&mut self) {
        let at = self.list().table.refresh_request();
        self.request(at);
    }

    /// Read what changed: a delta of the rows held when the list allows it and the last whole
    /// read is recent, else the page, total and counts again.
    fn poll(&mut self) {
        let now = self.now;
        let list = self.list();
        let recent = list.full_at.is_some_and(|t| (now - t).to_std().map(|d| d < FULL_EVERY).unwrap_or(false));
        let delta = match (listing::has_delta(list.entity) && recent, list.seen_at, list.table.window()) {
            (true, Some(since), Some(window)) => Some((since, window)),
            _ => None,
        };
        let Some((since, window)) = delta else { return self.refresh() };
        let list = self.list_mut();
        list.query.at = Some(now);
        list.generation += 1;
        list.pending = true;
        let request =
            DeltaRequest { entity: list.entity, generation: list.generation, query: list.query.clone(), window, since };
        self.outbox.push(Request::Delta(request));
    }

    /// The query changed: start again from the top.
    fn requery(&mut self) {
        let list = self.list_mut();
        list.table.selected = 0;
        list.table.first = 0;
        list.table.rows.clear();
        list.mark_anchor = None;
        self.request(PageAt::First);
    }

    fn move_by(&mut self, delta: i64) {
        let at = self.list_mut().table.move_by(delta);
        self.moved(at);
    }

    fn go(&mut self, row: i64) {
        let at = self.list_mut().table.go(row);
        self.moved(at);
    }

    /// After a move: fetch the page it needs, or, when the rows held cover it, make the answer to
    /// an earlier request stale (it would move the window away from the selection).
    fn moved(&mut self, at: Option<PageAt>) {
        match at {
            Some(at) => self.request(at),
            None => {
                let list = self.list_mut();
                if list.pending {
                    list.generation += 1;
                    list.pending = false;
                }
            }
        }
    }

    fn page_height(&self) -> i64 {
        (self.table_area.get().height.saturating_sub(3).max(1)) as i64
    }

    // ----- events -----

    /// The clock ticked: expire toasts, refresh the list on screen when it is due.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        self.now = now;
        self.toasts.retain(|t| t.until > now);
        if self.tab == Tab::Marketplace {
            // The marketplace searches catalogues in memory: it reads them, it does not poll.
            let ask = self.market.tick(now);
            self.market_ask(ask);
            self.poll_fleet();
            return;
        }
        // A list read by delta polls every refresh; one that is read whole (the fleet's sites,
        // orchestrators and clusters, counted from their hosts and agents) every 10 s, or at the
        // next refresh once hosts or agents notified a change.
        let list = self.list();
        let every = if listing::has_delta(list.entity) || list.upstream_changed {
            self.refresh_every
        } else {
            WHOLE_READ_IDLE.max(self.refresh_every)
        };
        let due = due(now, list.refreshed, every);
        if !list.pending && (!list.table.loaded || due) {
            if list.table.loaded {
                self.poll();
            } else {
                self.request(PageAt::First);
            }
        }
        self.poll_fleet();
        self.sync_detail();
    }

    /// Has what the pane shows been read (or failed)? Until then the fleet's counts, which no
    /// pane's rows need, wait: at start they would compete with the pane's first read.
    fn shown_read(&self) -> bool {
        if self.tab == Tab::Marketplace {
            let view = self.market.view();
            view.loaded_at.is_some() || view.error.is_some()
        } else {
            let list = self.list();
            list.table.loaded || list.error.is_some()
        }
    }

    /// Count the fleet's health while the Fleet pane shows: every refresh when hosts or agents
    /// changed, else every 5 s (health ages by the clock, in steps of a minute or more; counting
    /// 100,000 hosts every 2 s kept the database server at 2 % of a core on an idle fleet); every
    /// 15 s on the other panes (the sparkline covers the whole session). One read in flight,
    /// and none before the pane shown has what it reads (see `shown_read`).
    fn poll_fleet(&mut self) {
        if self.fleet.pending || !self.shown_read() {
            return;
        }
        let every = match self.tab {
            Tab::Fleet if self.fleet.changed => self.refresh_every,
            Tab::Fleet => FLEET_COUNTS_IDLE.max(self.refresh_every),
            _ => Duration::from_secs(15),
        };
        if due(self.now, self.fleet.asked, every) {
            self.fleet.pending = true;
            self.fleet.changed = false;
            self.fleet.asked = Some(self.now);
            self.call(Command::FleetSummary(self.thresholds, self.now), Awaiting::FleetSummary);
        }
    }

    /// A worker answered.
    pub fn on_reply(&mut self, reply: Reply) {
        self.reply(reply);
        // The fleet's first counts, as soon as the pane shown has what it waited for.
        if self.fleet.asked.is_none() {
            self.poll_fleet();
        }
        self.sync_detail();
    }

    fn reply(&mut self, reply: Reply) {
        match reply {
            Reply::Page { entity, generation, at, result, when } => {
                let Some(list) = self.lists.get_mut(&entity) else { return };
                if generation != list.generation {
                    tracing::debug!(?entity, generation, current = list.generation, "stale page dropped");
                    return;
                }
                match result {
                    // The rows at once, their costly cells `…`: the full page is still to come, so
                    // the list stays pending; if that page is dropped (a newer request), the next
                    // poll reads the page whole (no full read is recent).
                    Ok(page) if page.light => {
                        list.marked_visible = page.marked_visible;
                        list.facets = page.facets.clone();
                        list.table.apply(&at, page);
                        list.refreshed = Some(when);
                        list.full_at = None;
                    }
                    Ok(page) => {
                        list.pending = false;
                        list.marked_visible = page.marked_visible;
                        list.facets = page.facets.clone();
                        list.seen_at = page.seen_at;
                        list.full_at = Some(when);
                        list.table.apply(&at, page);
                        list.refreshed = Some(when);
                        list.error = None;
                        if entity == Entity::Executions {
                            self.exec_detail.stale = true;
                        }
                        if entity == Entity::Stacks {
                            self.stack_detail.stale = true;
                        }
                    }
                    Err(e) => {
                        list.pending = false;
                        list.refreshed = Some(when);
                        list.error = Some(e.clone());
                        self.toast(e, true);
                    }
                }
            }
            Reply::Delta { entity, generation, result, when } => {
                let current = self.entity();
                let Some(list) = self.lists.get_mut(&entity) else { return };
                if generation != list.generation {
                    return;
                }
                list.pending = false;
                match result {
                    Ok(delta) => {
                        let facet = listing::has_facet(entity);
                        let applied =
                            if delta.complete { list.table.apply_delta(delta.rows, delta.left) } else { None };
                        match applied {
                            Some(updates) => {
                                if facet {
                                    // The status header follows the rows it can see change.
                                    for (old, new) in &updates {
                                        if let (Some(o), Some(n)) = (old.first(), new.first()) {
                                            if o != n {
                                                for (k, c) in list.facets.iter_mut() {
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
                                list.seen_at = delta.seen_at.or(list.seen_at);
                                list.refreshed = Some(when);
                                list.error = None;
                                if entity == Entity::Executions && !updates.is_empty() {
                                    self.exec_detail.stale = true;
                                }
                                if entity == Entity::Stacks && !updates.is_empty() {
                                    self.stack_detail.stale = true;
                                }
                            }
                            // New rows, rows that moved, or more changes than a delta reads:
                            // read the page whole.
                            None => {
                                if entity == current {
                                    self.refresh();
                                } else {
                                    list.refreshed = None;
                                }
                            }
                        }
                    }
                    Err(e) => {
                        list.refreshed = Some(when);
                        list.error = Some(e.clone());
                        self.toast(e, true);
                    }
                }
            }
            Reply::Lost { since, retry_in, error } => {
                self.connection = Connection::Lost { since, retry_in, error };
            }
            Reply::Connected => {
                self.connection = Connection::Connected;
                self.toast("connected again".into(), false);
            }
            Reply::ReadOnly { on, error } => match error {
                None => {
                    self.readonly = on;
                    self.toast(format!("read-only mode {}", if on { "on" } else { "off" }), false);
                }
                Some(e) => self.toast(format!("read-only mode: {e}"), true),
            },
            Reply::Called { id, outcome } => self.on_called(id, outcome),
            Reply::Changed(entity) => {
                if matches!(entity, Entity::Hosts | Entity::Agents) {
                    self.fleet.changed = true;
                    for list in self.lists.values_mut().filter(|l| !listing::has_delta(l.entity)) {
                        list.upstream_changed = true;
                    }
                }
                // Events and new objects (the stacks' channel) change the agents' rollup too.
                if entity == Entity::Stacks {
                    self.on_reply(Reply::Changed(Entity::Agents));
                }
                let current = self.entity();
                let Some(list) = self.lists.get_mut(&entity) else { return };
                if !list.table.loaded {
                    return;
                }
                if list.pending {
                    list.dirty = true;
                } else if entity == current {
                    self.poll();
                } else {
                    // Read again when it is shown.
                    list.refreshed = None;
                }
            }
        }
        // A change noticed while a read was in flight: read again now.
        let current = self.entity();
        if let Some(list) = self.lists.get_mut(&current) {
            if list.dirty && !list.pending {
                list.dirty = false;
                self.poll();
            }
        }
    }

    fn on_called(&mut self, id: u64, outcome: Outcome) {
        let Some(awaiting) = self.calls.remove(&id) else { return };
        match (awaiting, outcome) {
            (Awaiting::Catalogue(kind), Outcome::Catalogue(catalogue)) => {
                let now = self.now;
                if let Some(view) = self.market.views.get_mut(&kind) {
                    view.loaded(catalogue, now);
                }
            }
            (Awaiting::Catalogue(kind), Outcome::Failed { message, .. }) => {
                self.market.load_failed(kind, message, self.now);
            }
            (Awaiting::MarketSearch(kind), Outcome::MarketSearch { query, ids }) => {
                if let Some(view) = self.market.views.get_mut(&kind) {
                    view.server_results(query, &ids);
                }
            }
            (Awaiting::MarketSearch(kind), Outcome::Failed { message, .. }) => {
                if let Some(view) = self.market.views.get_mut(&kind) {
                    view.searching = false;
                }
                self.toast(format!("search: {message}"), true);
            }
            (Awaiting::MarketDetail(kind), Outcome::MarketDetail(detail)) => {
                let deploy = match &mut self.market.detail {
                    Some(d) if d.kind == kind && d.id == detail.id => {
                        d.loaded(*detail);
                        std::mem::take(&mut d.deploy_when_loaded)
                    }
                    _ => false,
                };
                if deploy {
                    self.start_deploy();
                }
            }
            (Awaiting::MarketDetail(kind), Outcome::Failed { message, .. }) => {
                if let Some(d) = self.market.detail.as_mut().filter(|d| d.kind == kind && d.loading) {
                    d.failed(message);
                }
            }
            (Awaiting::OpenDeployForm, Outcome::Generators(gens)) => {
                let form = self
                    .market
                    .detail
                    .as_ref()
                    .and_then(|d| d.data.as_ref())
                    .and_then(|data| super::market::deploy_form(data, &gens));
                if let Some((what, form)) = form {
                    self.form_for = FormFor::Deploy(what);
                    self.mode = Mode::Form(Box::new(form));
                }
            }
            (Awaiting::OpenDeployForm, Outcome::Failed { message, .. }) => self.toast(message, true),
            (Awaiting::DeployForm, Outcome::Deployed(done)) => {
                self.mode = Mode::Normal;
                self.toast(done.describe(), false);
                if let Some(l) = self.lists.get_mut(&Entity::Stacks) {
                    l.refreshed = None;
                }
            }
            (Awaiting::DeployForm, Outcome::Failed { message, field }) => match &mut self.mode {
                Mode::Form(form) => {
                    form.busy = false;
                    match field {
                        Some(f) => form.set_error(&f, message),
                        None => form.banner = Some(message),
                    }
                }
                _ => self.toast(message, true),
            },
            (Awaiting::OpenStackForm, Outcome::Generators(gens)) => {
                if gens.is_empty() {
                    self.toast("a stack needs a generator, and there is none".into(), true);
                    return;
                }
                let options = gens.into_iter().map(|g| (g.id.to_string(), sanitize_cell(&g.name, 40))).collect();
                self.mode = Mode::Form(Box::new(Form::new(
                    "New stack",
                    vec![
                        Field::line("name", "Name", "unique among live stacks"),
                        Field::text("description", "Description", "optional"),
                        Field::choice("generator", "Generator", "←/→ to choose", options),
                        Field::text("labels", "Labels", "one per line, 1–64 characters"),
                        Field::text("annotations", "Annotations", "key=value, one per line, no spaces"),
                        Field::check("dry_run", "Check only", "space: validate in the database, write nothing", false),
                    ],
                )));
            }
            (Awaiting::StackForm, Outcome::Created { id, dry_run }) => {
                if dry_run {
                    if let Mode::Form(form) = &mut self.mode {
                        form.busy = false;
                        form.banner = Some("✓ the database accepts it; nothing was written".into());
                    }
                } else {
                    self.mode = Mode::Normal;
                    self.toast(format!("stack created ({})", &id.to_string()[..8]), false);
                    if let Some(l) = self.lists.get_mut(&Entity::Stacks) {
                        l.refreshed = None;
                    }
                    if self.entity() == Entity::Stacks {
                        self.refresh();
                    }
                }
            }
            (Awaiting::StackForm, Outcome::Failed { message, field }) => match &mut self.mode {
                Mode::Form(form) => {
                    form.busy = false;
                    match field.as_deref() {
                        Some(f @ ("name" | "generator" | "labels" | "annotations")) => form.set_error(f, message),
                        _ => form.banner = Some(message),
                    }
                }
                _ => self.toast(message, true),
            },
            (Awaiting::FleetSummary, Outcome::FleetSummary(summary)) => {
                self.fleet.pending = false;
                self.fleet.record(summary.healthy_percent());
                self.fleet.summary = Some(summary);
            }
            (Awaiting::FleetSummary, Outcome::Failed { message, .. }) => {
                // The lists say it when the database is gone; keep the last counts.
                self.fleet.pending = false;
                tracing::debug!(%message, "fleet summary failed");
            }
            (Awaiting::OpenTagsForm, Outcome::AgentTags { agent, name, tags }) => {
                let labels = tags.labels.join("\n");
                let annotations: Vec<String> = tags.annotations.iter().map(|(k, v)| format!("{k}={v}")).collect();
                self.form_for = FormFor::AgentTags { agent, expected: tags };
                self.mode = Mode::Form(Box::new(Form::new(
                    format!("Labels of {}", sanitize_cell(&name, 60)),
                    vec![
                        Field::text("labels", "Labels", "one per line, 1–64 characters").with_value(&labels),
                        Field::text("annotations", "Annotations", "key=value, one per line, no spaces")
                            .with_value(&annotations.join("\n")),
                    ],
                )));
            }
            (Awaiting::TagsForm, Outcome::Done(message)) => {
                self.mode = Mode::Normal;
                self.toast(message, false);
                self.refresh();
            }
            (Awaiting::TagsForm, Outcome::Failed { message, field }) => match &mut self.mode {
                Mode::Form(form) => {
                    form.busy = false;
                    match field.as_deref() {
                        Some(f @ ("labels" | "annotations")) => form.set_error(f, message),
                        _ => form.banner = Some(message),
                    }
                }
                _ => self.toast(message, true),
            },
            (Awaiting::OpenEditor, Outcome::StackYaml { stack, name, over, yaml }) => {
                if matches!(self.mode, Mode::Normal) {
                    self.mode = Mode::Editor(Box::new(YamlEditor::new(stack, &name, over, yaml)));
                }
            }
            (Awaiting::EditorSubmit, Outcome::Done(message)) => {
                let name = match &self.mode {
                    Mode::Editor(e) => e.name.clone(),
                    _ => String::new(),
                };
                self.mode = Mode::Normal;
                self.toast(format!("{}: {message}", sanitize_cell(&name, 40)), false);
                self.stack_detail.stale = true;
                self.refresh();
            }
            (Awaiting::EditorSubmit, Outcome::Failed { message, field }) => match &mut self.mode {
                Mode::Editor(e) => e.refused(message, field.as_deref() == Some("yaml")),
                _ => self.toast(message, true),
            },
            (Awaiting::OpenTargets, Outcome::TargetChoices { stack, name, agents }) => {
                if matches!(self.mode, Mode::Normal) {
                    self.mode = Mode::Targets(Box::new(TargetPicker::new(stack, &name, agents)));
                }
            }
            (Awaiting::PickAgents, Outcome::TargetChoices { agents, .. }) => {
                // The form waits inside the picker; closed meanwhile, there is nothing to pick for.
                if let Mode::Form(form) = std::mem::replace(&mut self.mode, Mode::Normal) {
                    self.mode = Mode::Targets(Box::new(TargetPicker::for_form(agents, form, "agents")));
                }
            }
            (Awaiting::PickAgents, Outcome::Failed { message, .. }) => match &mut self.mode {
                Mode::Form(form) => form.banner = Some(message),
                _ => self.toast(message, true),
            },
            (Awaiting::TargetsApply, Outcome::Done(message)) => {
                let name = match &self.mode {
                    Mode::Targets(p) => p.name.clone(),
                    _ => String::new(),
                };
                self.mode = Mode::Normal;
                self.toast(format!("{}: {message}", sanitize_cell(&name, 40)), false);
                self.stack_detail.stale = true;
                self.refresh();
            }
            (Awaiting::TargetsApply, Outcome::Failed { message, .. }) => match &mut self.mode {
                Mode::Targets(p) => {
                    p.busy = false;
                    p.banner = Some(message);
                }
                _ => self.toast(message, true),
            },
            (Awaiting::Detail(id), Outcome::ExecutionDetail(d)) => {
                if self.exec_detail.id() == Some(id) {
                    self.exec_detail.loading = false;
                    self.exec_detail.error = None;
                    self.exec_detail.data = Some(*d);
                }
            }
            (Awaiting::StackDetail(stack), Outcome::StackDetail(v)) => {
                let d = &mut self.stack_detail;
                if d.stack == Some(stack) {
                    d.loading = false;
                    d.error = None;
                    d.data = Some(*v);
                }
            }
            (Awaiting::StackDetail(stack), Outcome::Failed { message, .. }) => {
                let d = &mut self.stack_detail;
                if d.stack == Some(stack) {
                    d.loading = false;
                    d.error = Some(message);
                }
            }
            (Awaiting::Detail(id), Outcome::Failed { message, .. }) => {
                if self.exec_detail.id() == Some(id) {
                    self.exec_detail.loading = false;
                    self.exec_detail.error = Some(message);
                }
            }
            (_, Outcome::Done(message)) => {
                self.toast(message, false);
                self.refresh();
            }
            (Awaiting::Toast, Outcome::Failed { message, .. }) => {
                // A verb that did not apply everywhere, or lost a race: show the rows as they are.
                self.toast(message, true);
                self.refresh();
            }
            (_, Outcome::Failed { message, .. }) => self.toast(message, true),
            (_, other) => tracing::warn!(?other, "unexpected answer"),
        }
    }

    /// Say something for a few seconds (errors longer). The same words again refresh the one on
    /// screen instead of piling up; two at most.
    fn toast(&mut self, text: String, error: bool) {
        let secs = if error { 8 } else { 4 };
        let until = self.now + chrono::Duration::seconds(secs);
        self.toasts.retain(|t| t.text != text);
        self.toasts.push_back(Toast { text, error, until });
        while self.toasts.len() > 2 {
            self.toasts.pop_front();
        }
    }

    fn call(&mut self, command: Command, awaiting: Awaiting) {
        self.next_call += 1;
        self.calls.insert(self.next_call, awaiting);
        self.outbox.push(Request::Call { id: self.next_call, command });
    }

    /// Text pasted into the terminal goes to what takes typing.
    pub fn on_paste(&mut self, text: &str) {
        match &mut self.mode {
            Mode::Form(form) => form.paste(text),
            Mode::Prompt(p) => {
                p.input.insert_str(text.lines().next().unwrap_or(""));
                self.prompt_changed();
            }
            Mode::Confirm(c, _) => {
                c.reason.insert_str(text.lines().next().unwrap_or(""));
            }
            Mode::Editor(e) => e.paste(text),
            Mode::Targets(p) => p.paste(text),
            Mode::Normal => {}
        }
    }

    /// A key: to the form, modal or prompt when one is open, else through the keymap.
    pub fn on_key(&mut self, key: KeyEvent) {
        self.key(key);
        self.sync_detail();
    }

    fn key(&mut self, key: KeyEvent) {
        let section = self.tab.section();
        match &mut self.mode {
            Mode::Form(_) => return self.form_key(key),
            Mode::Confirm(..) => return self.confirm_key(key),
            Mode::Editor(_) | Mode::Targets(_) => return self.editor_key(key),
            Mode::Prompt(_) => return self.prompt_key(key),
            Mode::Normal => {}
        }
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
        if self.detail == Detail::Zoomed && self.entity() == Entity::Stacks {
            // The log's keys (follow, wrap, timestamps, search) are not the stack detail's: the
            // pane's own keys (t for targets) come through.
            let action = self.keymap.action(Section::Detail, &key, false).filter(|a| {
                !matches!(a, Action::Follow | Action::Wrap | Action::Timestamps | Action::Search | Action::OpenChain)
            });
            if let Some(action) = action {
                self.stack_detail_action(action);
                self.sync_detail();
                return;
            }
        }
        if self.detail == Detail::Zoomed && self.entity() == Entity::Executions {
            if let Some(action) = self.keymap.action(Section::Detail, &key, false) {
                self.detail_action(action);
                self.sync_detail();
                return;
            }
            if let Some(action) = self.keymap.action(section, &key, false) {
                self.update(action);
            }
            return;
        }
        if self.tab == Tab::Marketplace && self.detail == Detail::Closed {
            if let Some(action) = self.keymap.action(section, &key, true) {
                if action == Action::Back && self.market_back() {
                    return;
                }
                // Read-only: refused at once, without opening the item to deploy it.
                if action == Action::Deploy && self.readonly {
                    return self.start_deploy();
                }
                let (handled, ask) = self.market.action(action);
                if handled {
                    return self.market_ask(ask);
                }
            }
        }
        match self.keymap.action(section, &key, true) {
            Some(action) => self.update(action),
            None => {
                // Shift+letter: sort by the column starting with that letter.
                if let KeyCode::Char(c) = key.code {
                    if c.is_ascii_uppercase() && !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) {
                        self.sort_by_letter(c);
                    }
                }
            }
        }
    }

    /// A key of the zoomed execution detail.
    fn detail_action(&mut self, action: Action) {
        let page = i32::from(self.table_area.get().height.saturating_sub(2).max(1));
        let d = &mut self.exec_detail;
        match action {
            Action::Down => d.scroll_by(1),
            Action::Up => d.scroll_by(-1),
            Action::PageDown => d.scroll_by(page),
            Action::PageUp => d.scroll_by(-page),
            Action::Top => d.scroll_by(-i32::from(u16::MAX)),
            Action::Bottom => d.scroll_to_end(),
            Action::Follow => d.follow = !d.follow,
            Action::Wrap => d.wrap = !d.wrap,
            Action::Timestamps => d.timestamps = !d.timestamps,
            Action::Search => {
                let text = d.search.clone().unwrap_or_default();
                self.mode = Mode::Prompt(Box::new(Prompt::new(PromptKind::Search, &text)));
            }
            Action::ChainNext | Action::ChainPrev => {
                let n = d.chain_entries().len().max(1);
                d.chain = if action == Action::ChainNext { (d.chain + 1) % n } else { (d.chain + n - 1) % n };
            }
            Action::OpenChain => {
                d.open_chain();
            }
            other => self.update(other),
        }
    }

    /// A key of the zoomed stack detail.
    fn stack_detail_action(&mut self, action: Action) {
        let page = i32::from(self.table_area.get().height.saturating_sub(2).max(1));
        let d = &mut self.stack_detail;
        match action {
            Action::Down => d.scroll_by(1),
            Action::Up => d.scroll_by(-1),
            Action::PageDown => d.scroll_by(page),
            Action::PageUp => d.scroll_by(-page),
            Action::Top => d.scroll_by(-i32::from(u16::MAX)),
            Action::Bottom => d.scroll_to_end(),
            Action::ChainNext => {
                d.pick(true);
            }
            Action::ChainPrev => {
                d.pick(false);
            }
            Action::Diff => d.diff = !d.diff,
            other => self.update(other),
        }
    }

    /// Keep the execution detail on what it should show, and read it when needed.
    fn sync_detail(&mut self) {
        if self.entity() == Entity::Stacks && self.detail != Detail::Closed {
            return self.sync_stack_detail();
        }
        if self.entity() != Entity::Executions || self.detail == Detail::Closed {
            return;
        }
        if self.detail == Detail::Split {
            let selected = self.list().table.selected_row().and_then(|r| r.cursor.id.parse::<Uuid>().ok());
            if let Some(id) = selected {
                self.exec_detail.show(id);
            }
        }
        let Some(id) = self.exec_detail.id() else { return };
        let d = &self.exec_detail;
        let shown = d.data.as_ref().map(|x| x.id);
        if !d.loading && (shown != Some(id) || d.stale) {
            self.exec_detail.loading = true;
            self.exec_detail.stale = false;
            self.call(Command::ExecutionDetail(id), Awaiting::Detail(id));
        }
    }

    /// Keep the stack detail on the selected stack (and the picked object), and read it when
    /// needed.
    fn sync_stack_detail(&mut self) {
        if self.detail == Detail::Split {
            if let Some(id) = self.list().table.selected_row().and_then(|r| r.cursor.id.parse::<Uuid>().ok()) {
                self.stack_detail.show(id);
            }
        }
        let d = &self.stack_detail;
        let Some(stack) = d.stack else { return };
        if !d.loading && (!d.is_current() || d.stale) {
            let object = d.object;
            self.stack_detail.loading = true;
            self.stack_detail.stale = false;
            let thresholds = self.thresholds;
            let at = self.now;
            self.call(Command::StackDetail { stack, object, thresholds, at }, Awaiting::StackDetail(stack));
        }
    }

    /// Is this key the suspend action (which the terminal loop handles)?
    pub fn is_suspend(&self, key: &KeyEvent) -> bool {
        matches!(self.mode, Mode::Normal) && self.keymap.action(self.tab.section(), key, true) == Some(Action::Suspend)
    }

    fn form_key(&mut self, key: KeyEvent) {
        let action = self.keymap.action(Section::Form, &key, false);
        let back = self.keymap.action(Section::Global, &key, false) == Some(Action::Back);
        let Mode::Form(form) = &mut self.mode else { return };
        if back {
            self.mode = Mode::Normal;
            return;
        }
        let submit = match action {
            Some(Action::NextField) => {
                form.next();
                false
            }
            Some(Action::PrevField) => {
                form.prev();
                false
            }
            Some(Action::Submit) => true,
            _ => match form.key(key) {
                FormKey::Submit => true,
                FormKey::Handled => false,
                FormKey::Pick(_) => {
                    let (thresholds, at) = (self.thresholds, self.now);
                    return self.call(Command::TargetChoices { stack: None, thresholds, at }, Awaiting::PickAgents);
                }
            },
        };
        if submit {
            self.submit_form();
        }
    }

    fn submit_form(&mut self) {
        if let FormFor::AgentTags { agent, expected } = self.form_for.clone() {
            return self.submit_tags(agent, expected);
        }
        if let FormFor::Deploy(what) = self.form_for.clone() {
            return self.submit_deploy(what);
        }
        let Some(form) = self.form_to_submit("creating a stack") else { return };
        let draft = StackDraft {
            name: form.value("name"),
            description: form.value("description"),
            labels: form.value("labels"),
            annotations: form.value("annotations"),
        };
        let generator = form.value("generator").parse::<Uuid>();
        let dry_run = form.value("dry_run") == "true";
        let stack = match draft.check() {
            Ok(s) => s,
            Err(errors) => {
                for e in errors {
                    form.set_error(e.field, e.message);
                }
                return;
            }
        };
        let Ok(generator) = generator else {
            form.set_error("generator", "choose a generator".into());
            return;
        };
        form.busy = true;
        self.call(Command::CreateStack { stack, generator, dry_run }, Awaiting::StackForm);
    }

    /// The open form, ready to submit: not already on its way, old errors cleared. In read-only
    /// mode its banner says `what` is disabled, and None comes back.
    fn form_to_submit(&mut self, what: &str) -> Option<&mut Form> {
        let readonly = self.readonly;
        let Mode::Form(form) = &mut self.mode else { return None };
        if form.busy {
            return None;
        }
        form.clear_errors();
        if readonly {
            form.banner = Some(read_only_refusal(self.readonly_locked, what));
            return None;
        }
        Some(form)
    }

    /// Check the deploy form (each problem under its field), then deploy.
    fn submit_deploy(&mut self, what: super::market::DeployFor) {
        let Some(form) = self.form_to_submit("deploying") else { return };
        match super::market::deploy_request(&what, form) {
            Ok(request) => {
                form.busy = true;
                self.call(Command::Deploy(Box::new(request)), Awaiting::DeployForm);
            }
            Err(errors) => {
                for (field, message) in errors {
                    form.set_error(field, message);
                }
            }
        }
    }

    /// `d` on a Marketplace item: the deploy form (generators first), unless read-only.
    fn start_deploy(&mut self) {
        if self.readonly {
            return self.toast(read_only_refusal(self.readonly_locked, "deploying"), true);
        }
        let Some(d) = &mut self.market.detail else { return };
        let Some(data) = &d.data else {
            d.deploy_when_loaded = true;
            return;
        };
        if data.deploy.is_none() {
            let kind = d.kind.title().to_lowercase();
            return self.toast(format!("{kind} are not deployed from here; packages and apps are"), true);
        }
        self.call(Command::Generators, Awaiting::OpenDeployForm);
    }

    /// Check the labels form by the domain rules (each problem under its field), then save.
    fn submit_tags(&mut self, agent: Uuid, expected: Tags) {
        let Some(form) = self.form_to_submit("editing labels") else { return };
        let labels = parse_labels(&form.value("labels"));
        let annotations = parse_annotations(&form.value("annotations"));
        let (labels, annotations) = match (labels, annotations) {
            (Ok(l), Ok(a)) => (l, a),
            (l, a) => {
                if let Err(e) = l {
                    form.set_error("labels", e);
                }
                if let Err(e) = a {
                    form.set_error("annotations", e);
                }
                return;
            }
        };
        form.busy = true;
        self.call(Command::SetAgentTags { agent, expected, new: Tags { labels, annotations } }, Awaiting::TagsForm);
    }

    /// A key for the YAML editor or the targets picker.
    fn editor_key(&mut self, key: KeyEvent) {
        let submit = self.keymap.action(Section::Form, &key, false) == Some(Action::Submit);
        let back = self.keymap.action(Section::Global, &key, false) == Some(Action::Back);
        let readonly = self.readonly;
        // A deploy form's picker goes back to its form, with the agents chosen or as it was.
        if let Mode::Targets(p) = &mut self.mode {
            if p.form.is_some() {
                let answer = p.key(key, submit, back);
                if answer != EditorKey::Handled {
                    let chosen = p.chosen();
                    if let Some(mut form) = p.form.take() {
                        if answer == EditorKey::Send {
                            form.set_picked("agents", chosen);
                        }
                        self.mode = Mode::Form(form);
                    }
                }
                return;
            }
        }
        let command = match &mut self.mode {
            Mode::Editor(e) => match e.key(key, submit, back) {
                EditorKey::Handled => return,
                EditorKey::Close => None,
                EditorKey::Send if readonly => {
                    e.refused(read_only_refusal(self.readonly_locked, "submitting"), false);
                    return;
                }
                EditorKey::Send => Some((
                    Command::SubmitObject { stack: e.stack, yaml: e.yaml(), over: e.over },
                    Awaiting::EditorSubmit,
                )),
            },
            Mode::Targets(p) => match p.key(key, submit, back) {
                EditorKey::Handled => return,
                EditorKey::Close => None,
                EditorKey::Send if readonly => {
                    p.busy = false;
                    p.banner = Some(read_only_refusal(self.readonly_locked, "changing targets"));
                    return;
                }
                EditorKey::Send => {
                    let (add, remove) = p.changes();
                    p.stack.map(|stack| (Command::SetTargets { stack, add, remove }, Awaiting::TargetsApply))
                }
            },
            _ => return,
        };
        match command {
            Some((command, awaiting)) => self.call(command, awaiting),
            None => {
                self.mode = Mode::Normal;
                self.toast("nothing done".into(), false);
            }
        }
    }

    fn confirm_key(&mut self, key: KeyEvent) {
        let action = self.keymap.action(Section::Form, &key, false);
        let back = self.keymap.action(Section::Global, &key, false) == Some(Action::Back);
        let Mode::Confirm(confirm, pending) = &mut self.mode else { return };
        if back {
            self.mode = Mode::Normal;
            self.toast("nothing done".into(), false);
            return;
        }
        let result = match action {
            Some(Action::NextField) => {
                confirm.next();
                ConfirmKey::Handled
            }
            Some(Action::PrevField) => {
                confirm.prev();
                ConfirmKey::Handled
            }
            _ => confirm.key(key),
        };
        match result {
            ConfirmKey::Handled => {}
            ConfirmKey::Cancelled => {
                self.mode = Mode::Normal;
                self.toast("nothing done".into(), false);
            }
            ConfirmKey::Confirmed => {
                let reason = confirm.reason();
                let pending = pending.clone();
                self.mode = Mode::Normal;
                // The verb goes out: its marks have served (a later verb starts from the row).
                if !matches!(pending, Pending::Resubmit { .. }) {
                    self.clear_marks();
                }
                match pending {
                    Pending::Executions { verb, ids } => {
                        self.call(Command::Executions { verb, ids, reason }, Awaiting::Toast)
                    }
                    Pending::Fleet { entity, active, ids } => {
                        self.call(Command::Fleet { entity, active, ids, reason }, Awaiting::Toast)
                    }
                    Pending::Delete { what, ids } => self.call(Command::Delete { what, ids, reason }, Awaiting::Toast),
                    Pending::Resubmit { stack } => self.call(Command::Resubmit(stack), Awaiting::Toast),
                }
            }
        }
    }

    fn prompt_key(&mut self, key: KeyEvent) {
        let Mode::Prompt(prompt) = &mut self.mode else { return };
        match key.code {
            KeyCode::Esc => {
                let kind = prompt.kind;
                self.mode = Mode::Normal;
                match kind {
                    PromptKind::Filter if self.tab == Tab::Marketplace => self.market.set_query(""),
                    PromptKind::Filter => self.set_filter(String::new()),
                    PromptKind::Search => self.exec_detail.search = None,
                    PromptKind::Command => {}
                }
            }
            KeyCode::Enter => {
                let text = prompt.text();
                let kind = prompt.kind;
                if kind == PromptKind::Filter && prompt.error.is_some() {
                    return;
                }
                self.mode = Mode::Normal;
                match kind {
                    PromptKind::Command => self.run_command(text.trim()),
                    PromptKind::Search => self.exec_detail.find(&text),
                    PromptKind::Filter if self.tab == Tab::Marketplace => {
                        let ask = self.market.search_server(&text);
                        self.market_ask(ask);
                    }
                    PromptKind::Filter => {}
                }
            }
            KeyCode::Tab if prompt.kind == PromptKind::Command => {
                let text = prompt.text();
                if let Some(done) = complete(&text, &self.theme_names()) {
                    if let Mode::Prompt(p) = &mut self.mode {
                        p.set_text(&done);
                    }
                }
            }
            KeyCode::Up | KeyCode::Down if prompt.kind == PromptKind::Command => {
                if self.history.is_empty() {
                    return;
                }
                let last = self.history.len() - 1;
                let at = match (prompt.history_at, key.code) {
                    (None, KeyCode::Up) => Some(last),
                    (Some(i), KeyCode::Up) => Some(i.saturating_sub(1)),
                    (Some(i), KeyCode::Down) if i < last => Some(i + 1),
                    _ => None,
                };
                let text = at.map(|i| self.history[i].clone()).unwrap_or_default();
                if let Mode::Prompt(p) = &mut self.mode {
                    p.set_text(&text);
                    p.history_at = at;
                }
            }
            _ => {
                if key.code == KeyCode::Backspace && prompt.text().is_empty() {
                    // Backspace on an empty line leaves the prompt.
                    self.mode = Mode::Normal;
                    return;
                }
                if key.code != KeyCode::Enter {
                    prompt.input.input(key);
                }
                self.prompt_changed();
            }
        }
    }

    /// The filter applies as it is typed.
    fn prompt_changed(&mut self) {
        let entity = self.entity();
        let Mode::Prompt(prompt) = &mut self.mode else { return };
        if prompt.kind != PromptKind::Filter {
            return;
        }
        let text = prompt.text();
        if self.tab == Tab::Marketplace {
            // Search as you type: every keystroke matches the catalogue in memory.
            return self.market.set_query(&text);
        }
        match Filter::parse(&text) {
            Ok(Filter::Label { .. }) if !entity.has_labels() => {
                prompt.error = Some(format!("{} have no labels or annotations", entity.title()));
            }
            Ok(_) => {
                prompt.error = None;
                self.set_filter(text);
            }
            Err(e) => prompt.error = Some(e),
        }
    }

    fn set_filter(&mut self, text: String) {
        let filter = Filter::parse(&text).unwrap_or_default();
        let list = self.list_mut();
        if list.query.filter == filter {
            list.filter_text = text;
            return;
        }
        list.filter_text = text;
        list.query.filter = filter;
        self.requery();
    }

    /// `:pkgs category=Database official=yes`: show a marketplace list with those facet values
    /// picked (the kind's defaults otherwise).
    fn market_command(&mut self, kind: Kind, name: &str, arg: &str) {
        let mut picks = Vec::new();
        for word in arg.split_whitespace() {
            match word.split_once('=') {
                Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                    picks.push((k.replace('_', " "), v.replace('_', " ")))
                }
                _ => return self.toast(format!(":{name} {word}: expected facet=value"), true),
            }
        }
        self.switch(Tab::Marketplace);
        self.detail = Detail::Closed;
        self.market.detail = None;
        self.market.show(kind);
        // A new query for the view: an earlier search (typed or on the server) does not linger.
        let view = self.market.view_mut();
        view.server = None;
        view.query.clear();
        if let Err(e) = self.market.view_mut().pick(&picks) {
            self.toast(format!(":{name}: {e}"), true);
        }
        let ask = self.market.tick(self.now);
        self.market_ask(ask);
    }

    /// Esc in the Marketplace list: clear the search first (true when it did something).
    fn market_back(&mut self) -> bool {
        if self.market.close_detail() {
            return true;
        }
        let view = self.market.view_mut();
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

    /// Send what the Marketplace pane asked for to a worker.
    fn market_ask(&mut self, ask: Option<super::market::Ask>) {
        use super::market::Ask;
        match ask {
            None => {}
            Some(Ask::Load(kind)) => self.call(Command::Catalogue(kind), Awaiting::Catalogue(kind)),
            Some(Ask::Search { kind, query }) => {
                self.call(Command::MarketSearch { kind, query }, Awaiting::MarketSearch(kind))
            }
            Some(Ask::Detail { kind, id }) => {
                self.call(Command::MarketDetail { kind, id }, Awaiting::MarketDetail(kind))
            }
            Some(Ask::Deploy) => self.start_deploy(),
        }
    }

    fn theme_names(&self) -> Vec<String> {
        self.themes.iter().map(|(n, _)| n.clone()).collect()
    }

    fn run_command(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.history.retain(|h| h != text);
        self.history.push(text.to_string());
        let (name, arg) = text.split_once(' ').map(|(a, b)| (a, b.trim())).unwrap_or((text, ""));
        // `:agents` in the Marketplace means its published agents; elsewhere the cluster agents.
        let market = match name {
            "agents" if self.tab != Tab::Marketplace => None,
            "cluster-agents" => None,
            "market-agents" => Some(Kind::Agents),
            n => Kind::parse(n).filter(|_| n != "compute" && n != "packages"),
        };
        if let Some(kind) = market {
            return self.market_command(kind, name, arg);
        }
        let name = if name == "cluster-agents" { "agents" } else { name };
        let entity = match name {
            "exec" => Some(Entity::Executions),
            "hosts" => Some(Entity::Hosts),
            "agents" => Some(Entity::Agents),
            "orchestrators" => Some(Entity::Orchestrators),
            "sites" => Some(Entity::Sites),
            "clusters" => Some(Entity::Clusters),
            "stacks" => Some(Entity::Stacks),
            "pkgs" => Some(Entity::Packages),
            "apps" => Some(Entity::Apps),
            "solutions" => Some(Entity::Solutions),
            "instances" => Some(Entity::Instances),
            _ => None,
        };
        if let Some(e) = entity {
            // `:exec status=failed agent=x`: field filters; `:exec` alone shows everything.
            let mut fields = Vec::new();
            for word in arg.split_whitespace() {
                match word.split_once('=') {
                    Some((k, v)) => fields.push((k.to_string(), v.to_string())),
                    None => return self.toast(format!(":{name} {word}: expected key=value"), true),
                }
            }
            if let Err(e) = listing::check_fields(e, &fields) {
                return self.toast(format!(":{name}: {e}"), true);
            }
            self.drill.clear();
            self.show(e);
            if self.list().query.fields != fields {
                self.list_mut().query.fields = fields;
                self.requery();
            }
            return;
        }
        match name {
            "q" | "quit" => self.quit = true,
            "help" => self.help.show(),
            "readonly" if self.readonly_locked => self.toast(READ_ONLY_LOCKED.to_string(), true),
            "readonly" => {
                let on = !self.readonly;
                if on {
                    // Refuse writes at once; the sessions follow.
                    self.readonly = true;
                }
                self.outbox.push(Request::ReadOnly(on));
            }
            "theme" if arg.is_empty() => {
                self.toast(format!("theme {} (available: {})", self.theme_name, self.theme_names().join(", ")), false)
            }
            "theme" => match self.themes.iter().find(|(n, _)| n == arg) {
                Some((n, t)) => {
                    self.theme = t.clone();
                    self.theme_name = n.clone();
                    self.outbox.push(Request::SaveTheme(n.clone()));
                    self.toast(format!("theme {arg}"), false);
                }
                None => self.toast(format!("no theme {arg:?} (available: {})", self.theme_names().join(", ")), true),
            },
            _ => self.toast(format!("unknown command :{name} (tab completes, :help lists keys)"), true),
        }
    }

    fn sort_by_letter(&mut self, c: char) {
        let columns = listing::columns(self.entity());
        let sortable = listing::sortable(self.entity());
        let Some(i) = columns.iter().zip(&sortable).position(|(t, ok)| *ok && t.starts_with(c)) else { return };
        let list = self.list_mut();
        if list.query.sort == i {
            list.query.descending = !list.query.descending;
        } else {
            list.query.sort = i;
            list.query.descending = false;
        }
        self.requery();
    }

    /// The ids a verb applies to: the marked rows, or else the selected one.
    fn clear_marks(&mut self) {
        let list = self.list_mut();
        list.marks.clear();
        list.mark_anchor = None;
    }

    /// What a verb acts on, in words for its confirmation or toast: the row's name and short id,
    /// or the first few marked and "and N more", with how many of them the filter hides.
    fn acting_on(&self, noun: &str) -> String {
        const NAMED: usize = 3;
        let list = self.list();
        let name_col = listing::search_column(list.entity);
        let named = |id: &str| {
            let short: String = id.chars().take(8).collect();
            match list.table.rows.iter().find(|r| r.cursor.id == id).and_then(|r| r.cells.get(name_col)) {
                Some(name) if !name.is_empty() => format!("{} {short}", sanitize_cell(name, 30)),
                _ => short,
            }
        };
        if list.marks.is_empty() {
            return match list.table.selected_row() {
                Some(r) => format!("{noun} {}", named(&r.cursor.id)),
                None => format!("no {noun}"),
            };
        }
        let n = list.marks.len();
        // The ones on screen first, in the list's order; then the others.
        let mut ids: Vec<&String> =
            list.table.rows.iter().map(|r| &r.cursor.id).filter(|id| list.marks.contains(*id)).collect();
        ids.extend(list.marks.iter().filter(|m| !ids.contains(m)).collect::<Vec<_>>());
        let first: Vec<String> = ids.iter().take(NAMED).map(|id| named(id)).collect();
        let mut text = format!("{n} marked {noun}s: {}", first.join(", "));
        if n > NAMED {
            text.push_str(&format!(" and {} more", n - NAMED));
        }
        let hidden = list.marked_hidden();
        if hidden > 0 {
            text.push_str(&format!(" ({hidden} of them hidden by the filter)"));
        }
        text
    }

    fn targets(&self) -> Vec<String> {
        let list = self.list();
        if !list.marks.is_empty() {
            return list.marks.iter().cloned().collect();
        }
        list.table.selected_row().map(|r| vec![r.cursor.id.clone()]).unwrap_or_default()
    }

    fn execution_verb(&mut self, verb: Verb) {
        if self.entity() != Entity::Executions {
            return;
        }
        if self.readonly {
            return self.toast(read_only_refusal(self.readonly_locked, verb.as_str()), true);
        }
        let list = self.list();
        let ids: Vec<Uuid> = self.targets().iter().filter_map(|s| s.parse().ok()).collect();
        if ids.is_empty() {
            return self.toast("no execution selected".into(), true);
        }
        // One row: say at once why the verb does not apply.
        if list.marks.is_empty() {
            if let Some(row) = list.table.selected_row() {
                let status = row.cells.first().and_then(|s| s.parse::<ExecutionStatus>().ok());
                let retries = list.table.columns.iter().position(|c| *c == "RETRIES");
                let (used, max) = retries
                    .and_then(|i| row.cells.get(i))
                    .and_then(|r| r.split_once('/'))
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                    .unwrap_or((0, 3));
                if let Some(why) = status.and_then(|s| verb.refusal(s, used, max)) {
                    return self.toast(why, true);
                }
            }
        }
        let what = self.acting_on("execution");
        let hidden = self.list().marked_hidden();
        match verb {
            Verb::Cancel | Verb::Retry => {
                let (title, question, label) = if verb == Verb::Cancel {
                    (
                        "Cancel",
                        format!("Cancel {what}? Those already final are skipped. This cannot be undone."),
                        "Cancel execution",
                    )
                } else {
                    ("Retry", format!("Retry {what}? Each retry queues a new execution."), "Retry")
                };
                self.mode =
                    Mode::Confirm(Box::new(Confirm::new(title, question, label)), Pending::Executions { verb, ids });
            }
            // Never on rows the filter hides without saying so first.
            _ if hidden > 0 => {
                let title = if verb == Verb::Pause { "Pause" } else { "Resume" };
                let question = format!("{title} {what}?");
                self.mode =
                    Mode::Confirm(Box::new(Confirm::new(title, question, title)), Pending::Executions { verb, ids });
            }
            _ => {
                self.clear_marks();
                self.call(Command::Executions { verb, ids, reason: None }, Awaiting::Toast)
            }
        }
    }

    /// Activate or deactivate the selected or marked agents or hosts; deactivating asks first.
    fn fleet_verb(&mut self, active: bool) {
        let entity = self.entity();
        if !matches!(entity, Entity::Agents | Entity::Hosts) {
            return;
        }
        let verb = match (entity, active) {
            (_, true) => "activate",
            (Entity::Hosts, false) => "maintenance",
            _ => "deactivate",
        };
        if self.readonly {
            return self.toast(read_only_refusal(self.readonly_locked, verb), true);
        }
        let ids: Vec<Uuid> = self.targets().iter().filter_map(|s| s.parse().ok()).collect();
        if ids.is_empty() {
            return self.toast("nothing selected".into(), true);
        }
        let what = self.acting_on(if entity == Entity::Hosts { "host" } else { "agent" });
        if active && self.list().marked_hidden() == 0 {
            self.clear_marks();
            return self.call(Command::Fleet { entity, active, ids, reason: None }, Awaiting::Toast);
        }
        let (title, question, label) = if active {
            ("Activate", format!("Activate {what}?"), "Activate")
        } else if entity == Entity::Hosts {
            (
                "Maintenance",
                format!("Take {what} into maintenance (inactive)? Say why below: it is shown with who and when."),
                "Maintenance",
            )
        } else {
            ("Deactivate", format!("Deactivate {what}? An inactive agent fetches no deployment objects."), "Deactivate")
        };
        self.mode =
            Mode::Confirm(Box::new(Confirm::new(title, question, label)), Pending::Fleet { entity, active, ids });
    }

    fn mark(&mut self) {
        let list = self.list_mut();
        let Some(id) = list.table.selected_row().map(|r| r.cursor.id.clone()) else { return };
        if !list.marks.remove(&id) {
            list.marks.insert(id);
        }
        list.mark_anchor = Some(list.table.selected);
        self.move_by(1);
    }

    fn mark_range(&mut self) {
        let list = self.list_mut();
        let here = list.table.selected;
        let from = list.mark_anchor.unwrap_or(here);
        let (a, b) = (from.min(here), from.max(here));
        let first = list.table.first;
        for row in list.table.rows.iter().enumerate().filter_map(|(i, r)| {
            let abs = first + i as i64;
            (abs >= a && abs <= b).then_some(r)
        }) {
            list.marks.insert(row.cursor.id.clone());
        }
        list.mark_anchor = Some(here);
    }

    /// A click on a tab's title switches to it; a click on a row selects it; the wheel scrolls.
    pub fn on_mouse(&mut self, mouse: MouseEvent, area: Rect) {
        self.mouse(mouse, area);
        self.sync_detail();
    }

    fn mouse(&mut self, mouse: MouseEvent, area: Rect) {
        if !matches!(self.mode, Mode::Normal) {
            return;
        }
        match mouse.kind {
            MouseEventKind::ScrollDown => self.move_by(3),
            MouseEventKind::ScrollUp => self.move_by(-3),
            MouseEventKind::Down(MouseButton::Left) if mouse.row == area.y => {
                let mut start = area.x;
                for (tab, title) in Self::tab_titles() {
                    let width = title.chars().count() as u16;
                    if (start..start + width).contains(&mouse.column) {
                        self.tab = tab;
                        self.ensure_loaded();
                        return;
                    }
                    start += width + 1; // the divider
                }
            }
            MouseEventKind::Down(MouseButton::Left)
                if self
                    .header_spots
                    .borrow()
                    .iter()
                    .any(|(y, a, b, _, _)| *y == mouse.row && (*a..*b).contains(&mouse.column)) =>
            {
                let spot = self
                    .header_spots
                    .borrow()
                    .iter()
                    .find(|(y, a, b, _, _)| *y == mouse.row && (*a..*b).contains(&mouse.column))
                    .map(|(_, _, _, e, s)| (*e, s.clone()));
                if let Some((entity, status)) = spot {
                    self.header_pick(entity, status);
                }
            }
            MouseEventKind::Down(MouseButton::Left) => {
                let t = self.table_area.get();
                // Rows start below the border and the header.
                if mouse.column > t.x && mouse.column < t.right() && mouse.row >= t.y + 2 && mouse.row < t.bottom() - 1
                {
                    let list = self.list();
                    let (start, count) = table::window(&list.table, i64::from(t.height.saturating_sub(3).max(1)));
                    let offset = usize::from(mouse.row - t.y - 2);
                    if offset < count {
                        let row = list.table.first + (start + offset) as i64;
                        self.go(row);
                    }
                }
            }
            _ => {}
        }
    }

    /// Change state for an action. Never awaits.
    pub fn update(&mut self, action: Action) {
        let n = Tab::ALL.len();
        match action {
            // The Marketplace's own; nothing elsewhere.
            Action::Facets | Action::ClearFacet | Action::Deploy => {}
            Action::Quit => self.quit = true,
            // Handled by the terminal loop, which owns the terminal.
            Action::Suspend => {}
            Action::Help if self.help.open => self.help.open = false,
            Action::Help => self.help.show(),
            Action::Back => self.back(),
            Action::NextTab => self.switch(Tab::ALL[(self.tab.index() + 1) % n]),
            Action::PrevTab => self.switch(Tab::ALL[(self.tab.index() + n - 1) % n]),
            Action::GotoMarketplace => self.switch(Tab::Marketplace),
            Action::GotoFleet => self.switch(Tab::Fleet),
            Action::GotoRollouts => self.switch(Tab::Rollouts),
            Action::GotoExecutions => self.switch(Tab::Executions),
            Action::NextView | Action::PrevView => {
                let views = self.tab.views().len();
                let i = &mut self.views[self.tab.index()];
                *i = if action == Action::NextView { (*i + 1) % views } else { (*i + views - 1) % views };
                self.detail = Detail::Closed;
                self.ensure_loaded();
            }
            Action::Down => self.move_by(1),
            Action::Up => self.move_by(-1),
            Action::Top => self.go(0),
            Action::Bottom => self.go(i64::MAX),
            Action::HalfPageDown => self.move_by(self.page_height() / 2),
            Action::HalfPageUp => self.move_by(-self.page_height() / 2),
            Action::PageDown => self.move_by(self.page_height()),
            Action::PageUp => self.move_by(-self.page_height()),
            Action::Command => self.mode = Mode::Prompt(Box::new(Prompt::new(PromptKind::Command, ""))),
            Action::Filter if self.tab == Tab::Marketplace => {
                let text = self.market.view().query.clone();
                self.mode = Mode::Prompt(Box::new(Prompt::new(PromptKind::Filter, &text)));
            }
            Action::Refresh if self.tab == Tab::Marketplace => {
                let ask = if self.market.detail.is_some() { self.market.reload_detail() } else { self.market.reload() };
                self.market_ask(ask);
            }
            Action::Filter => {
                let text = self.list().filter_text.clone();
                self.mode = Mode::Prompt(Box::new(Prompt::new(PromptKind::Filter, &text)));
            }
            Action::Refresh => {
                if !self.list().pending {
                    self.refresh();
                }
            }
            Action::SortNext => {
                let sortable = listing::sortable(self.entity());
                let n = sortable.len().max(1);
                let list = self.list_mut();
                let mut next = (list.query.sort + 1) % n;
                while !sortable.get(next).copied().unwrap_or(true) && next != list.query.sort {
                    next = (next + 1) % n;
                }
                list.query.sort = next;
                list.query.descending = false;
                self.requery();
            }
            Action::SortReverse => {
                let list = self.list_mut();
                list.query.descending = !list.query.descending;
                self.requery();
            }
            Action::Mark => self.mark(),
            Action::MarkRange => self.mark_range(),
            Action::Open => {
                if !self.drill_down() {
                    self.detail = if self.detail == Detail::Closed { Detail::Split } else { Detail::Closed };
                }
            }
            Action::Zoom => {
                self.detail = if self.detail == Detail::Zoomed { Detail::Split } else { Detail::Zoomed };
            }
            Action::NewStack => {
                if self.readonly {
                    self.toast(read_only_refusal(self.readonly_locked, "creating a stack"), true);
                } else {
                    self.call(Command::Generators, Awaiting::OpenStackForm);
                }
            }
            Action::StatusNext | Action::StatusPrev => {
                let values: Vec<&str> = match self.header_field() {
                    Some("status") => ExecutionStatus::ALL.iter().map(|s| s.as_str()).collect(),
                    Some("state") => vec!["failing", "in-progress", "unreached", "complete", "deleted"],
                    Some(_) => Health::of(self.entity() == Entity::Hosts).iter().map(|h| h.as_str()).collect(),
                    None => return,
                };
                let all: Vec<Option<&str>> = std::iter::once(None).chain(values.into_iter().map(Some)).collect();
                let current = self.status_field();
                let i = all.iter().position(|s| s.map(str::to_string) == current).unwrap_or(0);
                let n = all.len();
                let next = if action == Action::StatusNext { (i + 1) % n } else { (i + n - 1) % n };
                self.set_status_field(all[next].map(str::to_string));
            }
            Action::EditLabels => self.edit_labels(),
            Action::EditObject => self.stack_verb(Action::EditObject),
            Action::Resubmit => self.stack_verb(Action::Resubmit),
            Action::Targets => self.stack_verb(Action::Targets),
            Action::Delete => self.delete(),
            Action::Activate => self.fleet_verb(true),
            Action::Deactivate => self.fleet_verb(false),
            Action::Pause => self.execution_verb(Verb::Pause),
            Action::Resume => self.execution_verb(Verb::Resume),
            Action::Cancel => self.execution_verb(Verb::Cancel),
            Action::Retry => self.execution_verb(Verb::Retry),
            // Form and detail keys do nothing elsewhere.
            Action::Submit
            | Action::NextField
            | Action::PrevField
            | Action::Follow
            | Action::Wrap
            | Action::Timestamps
            | Action::Search
            | Action::ChainNext
            | Action::ChainPrev
            | Action::Diff
            | Action::OpenChain => {}
        }
    }

    /// The field the header's counts filter the current list by: executions by status, hosts
    /// and agents by health.
    fn header_field(&self) -> Option<&'static str> {
        match self.entity() {
            Entity::Executions => Some("status"),
            Entity::Hosts | Entity::Agents => Some("health"),
            Entity::Stacks => Some("state"),
            _ => None,
        }
    }

    /// The header's filter of the current list (`status=` or `health=`), if any.
    fn status_field(&self) -> Option<String> {
        let field = self.header_field()?;
        self.list().query.fields.iter().find(|(k, _)| k == field).map(|(_, v)| v.clone())
    }

    fn set_status_field(&mut self, status: Option<String>) {
        let Some(field) = self.header_field() else { return };
        let list = self.list_mut();
        list.query.fields.retain(|(k, _)| k != field);
        if let Some(s) = status {
            list.query.fields.insert(0, (field.into(), s));
        }
        self.requery();
    }

    /// Enter on an orchestrator, a site or a cluster: show its sites, hosts or agents. False when
    /// the list does not drill down.
    fn drill_down(&mut self) -> bool {
        let (child, field) = match self.entity() {
            Entity::Orchestrators => (Entity::Sites, "orchestrator"),
            Entity::Sites => (Entity::Hosts, "site"),
            Entity::Clusters => (Entity::Agents, "cluster"),
            _ => return false,
        };
        let parent = self.entity();
        let Some(value) = self.list().table.selected_row().and_then(|r| r.cells.first().cloned()) else { return true };
        if value.is_empty() {
            self.toast(format!("this {} has no name to look its children up by", parent.title().to_lowercase()), true);
            return true;
        }
        self.drill.retain(|e| *e != parent && *e != child);
        self.drill.push(parent);
        self.show(child);
        let list = self.list_mut();
        list.query.fields = vec![(field.to_string(), value)];
        list.query.filter = Filter::None;
        list.filter_text.clear();
        self.requery();
        true
    }

    /// Open the labels form of the selected agent (after reading its labels).
    fn edit_labels(&mut self) {
        if self.entity() != Entity::Agents {
            return;
        }
        if self.readonly {
            return self.toast(read_only_refusal(self.readonly_locked, "editing labels"), true);
        }
        let Some(agent) = self.list().table.selected_row().and_then(|r| r.cursor.id.parse::<Uuid>().ok()) else {
            return self.toast("no agent selected".into(), true);
        };
        self.call(Command::AgentTags(agent), Awaiting::OpenTagsForm);
    }

    /// The stack the Rollouts pane's verbs act on: the zoomed detail's, else the selected row's.
    fn selected_stack(&self) -> Option<(Uuid, String)> {
        if self.entity() != Entity::Stacks {
            return None;
        }
        if self.detail == Detail::Zoomed {
            if let (Some(id), Some(v)) = (self.stack_detail.stack, &self.stack_detail.data) {
                if v.stack.id == id {
                    return Some((id, v.stack.name.clone()));
                }
            }
        }
        let row = self.list().table.selected_row()?;
        Some((row.cursor.id.parse().ok()?, row.cells.first().cloned().unwrap_or_default()))
    }

    /// Open the YAML editor, confirm a re-submission or open the targets picker for the
    /// selected stack.
    fn stack_verb(&mut self, action: Action) {
        if self.entity() != Entity::Stacks {
            return;
        }
        let what = match action {
            Action::EditObject => "submitting",
            Action::Resubmit => "re-submitting",
            _ => "changing targets",
        };
        if self.readonly {
            return self.toast(read_only_refusal(self.readonly_locked, what), true);
        }
        let Some((stack, name)) = self.selected_stack() else {
            return self.toast("no stack selected".into(), true);
        };
        match action {
            Action::EditObject => self.call(Command::StackYaml(stack), Awaiting::OpenEditor),
            Action::Targets => {
                let (thresholds, at) = (self.thresholds, self.now);
                self.call(Command::TargetChoices { stack: Some(stack), thresholds, at }, Awaiting::OpenTargets)
            }
            _ => {
                let question = format!(
                    "Submit the desired object of {} again? It becomes a new object with the next sequence, so every agent it reaches applies it again.",
                    sanitize_cell(&name, 40)
                );
                self.mode = Mode::Confirm(
                    Box::new(Confirm::new("Re-submit", question, "Re-submit")),
                    Pending::Resubmit { stack },
                );
            }
        }
    }

    /// Soft-delete the selected or marked agents or hosts (or the selected stack), after a
    /// confirmation with a reason.
    fn delete(&mut self) {
        let what = match self.entity() {
            Entity::Agents => Deletable::Agent,
            Entity::Hosts => Deletable::Host,
            Entity::Stacks => Deletable::Stack,
            _ => return,
        };
        if self.readonly {
            return self.toast(read_only_refusal(self.readonly_locked, "delete"), true);
        }
        if what == Deletable::Stack {
            let Some((stack, name)) = self.selected_stack() else {
                return self.toast("no stack selected".into(), true);
            };
            let question = format!(
                "Delete stack {}? A deletion marker becomes its desired object: its agents remove what it deployed.",
                sanitize_cell(&name, 40)
            );
            self.mode = Mode::Confirm(
                Box::new(Confirm::new("Delete stack", question, "Delete")),
                Pending::Delete { what, ids: vec![stack] },
            );
            return;
        }
        let ids: Vec<Uuid> = self.targets().iter().filter_map(|s| s.parse().ok()).collect();
        let noun = what.noun();
        let named = self.acting_on(noun);
        let question = match ids.len() {
            0 => return self.toast("nothing selected".into(), true),
            1 => format!("Delete {named}? It leaves every list; the row stays for the record. Give a reason below."),
            _ => format!("Delete {named}? They leave every list; the rows stay for the record."),
        };
        self.mode = Mode::Confirm(Box::new(Confirm::new("Delete", question, "Delete")), Pending::Delete { what, ids });
    }

    /// A count of a header was picked: show its list (the Fleet header counts hosts and agents)
    /// filtered by it, or unfiltered for "all".
    fn header_pick(&mut self, entity: Option<Entity>, status: Option<String>) {
        if let Some(e) = entity {
            if e != self.entity() {
                self.drill.clear();
                self.show(e);
            }
        }
        self.set_status_field(status);
    }

    fn switch(&mut self, tab: Tab) {
        self.tab = tab;
        self.ensure_loaded();
    }

    /// Esc: one level back — help, zoom, detail, filter, marks, in that order.
    fn back(&mut self) {
        if self.help.open {
            self.help.open = false;
        } else if self.detail == Detail::Zoomed && self.entity() == Entity::Executions && self.exec_detail.back() {
            // Back along the retry chain.
        } else if self.detail == Detail::Zoomed {
            self.detail = Detail::Split;
        } else if self.detail == Detail::Split {
            self.detail = Detail::Closed;
        } else if !self.list().query.filter.is_none() {
            self.set_filter(String::new());
        } else if !self.list().query.fields.is_empty() {
            self.list_mut().query.fields.clear();
            self.requery();
            // Back up the drill-down: the list it came from, as it was.
            if let Some(parent) = self.drill.pop() {
                self.show(parent);
            }
        } else if !self.list().marks.is_empty() {
            let list = self.list_mut();
            list.marks.clear();
            list.mark_anchor = None;
        }
    }

    // ----- drawing -----

    /// The tab titles as drawn.
    fn tab_titles() -> Vec<(Tab, String)> {
        Tab::ALL.iter().enumerate().map(|(i, t)| (*t, format!(" {} {} ", i + 1, t.title()))).collect()
    }

    pub fn draw(&self, frame: &mut Frame) {
        let [tabs_area, body, status, footer] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1), Constraint::Length(1)])
                .areas(frame.area());
        // The theme's own background everywhere (light paints white: readable on any terminal).
        frame.render_widget(Block::default().style(self.theme.text), frame.area());
        self.draw_tabs(frame, tabs_area);
        self.draw_body(frame, body);
        self.draw_status(frame, status);
        self.draw_footer(frame, footer);
        self.draw_toasts(frame, body);
        if self.help.open {
            self.draw_help(frame, body);
        }
        match &self.mode {
            Mode::Form(form) => form.draw(frame, body, &self.theme, self.form_keys(false)),
            Mode::Editor(e) => {
                e.draw(frame, body, &self.theme, self.editor_keys(e.stage == super::rollout_forms::Stage::Review))
            }
            Mode::Targets(p) => p.draw(frame, body, &self.theme, self.picker_keys()),
            Mode::Confirm(c, _) => c.draw(frame, body, &self.theme, self.form_keys(true)),
            Mode::Prompt(p) => self.draw_prompt(frame, p, body, footer),
            Mode::Normal => {}
        }
        super::widgets::neutralise(frame.buffer_mut());
    }

    fn draw_tabs(&self, frame: &mut Frame, area: Rect) {
        let tabs = Tabs::new(Self::tab_titles().into_iter().map(|(_, title)| title))
            .select(self.tab.index())
            .style(self.theme.tab_inactive)
            .highlight_style(self.theme.tab_active)
            .divider(Span::styled("│", self.theme.border))
            .padding("", "");
        frame.render_widget(tabs, area);
    }

    fn draw_body(&self, frame: &mut Frame, area: Rect) {
        if self.tab == Tab::Marketplace {
            self.table_area.set(area);
            return self.market.draw(frame, area, &self.theme, self.detail == Detail::Closed, Line::default());
        }
        let (table_area, detail_area) = match self.detail {
            Detail::Closed => (Some(area), None),
            Detail::Split => {
                let [t, d] = Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
                (Some(t), Some(d))
            }
            Detail::Zoomed => (None, Some(area)),
        };
        let list = self.list();
        self.header_spots.borrow_mut().clear();
        let table_area = match table_area {
            Some(t) if listing::has_facet(list.entity) && t.height > 4 => {
                let [h, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(t);
                self.draw_status_header(frame, h, list);
                Some(rest)
            }
            Some(t) if self.tab == Tab::Fleet && t.height > 4 => {
                let [h, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(t);
                self.draw_fleet_header(frame, h);
                Some(rest)
            }
            other => other,
        };
        if let Some(t) = table_area {
            self.table_area.set(t);
            let title = self.view_title();
            let footer = self.list_footer(list);
            let decor = Decor {
                title: &title,
                footer,
                focused: self.detail == Detail::Closed,
                sort: (list.query.sort, list.query.descending),
                marks: &list.marks,
                filter: &list.query.filter,
                search_column: listing::search_column(list.entity),
                kinds: &listing::kinds(list.entity),
                now: self.now.timestamp_millis() as f64 / 1000.0,
                clock: self.now,
                thresholds: &self.thresholds,
                priority: &listing::priority(list.entity),
                fields_filtered: !list.query.fields.is_empty(),
            };
            table::draw(frame, t, &list.table, &decor, &self.theme);
        }
        if let Some(d) = detail_area {
            if list.entity == Entity::Executions {
                let now = self.now.timestamp_millis() as f64 / 1000.0;
                self.exec_detail.draw(frame, d, &self.theme, now, self.detail == Detail::Zoomed);
            } else if list.entity == Entity::Stacks {
                self.stack_detail.draw(frame, d, &self.theme, self.detail == Detail::Zoomed);
            } else {
                self.draw_detail(frame, d, list);
            }
        }
    }

    /// The count per status under the other filters; the one shown is picked out. `f`/`F` or a
    /// click select one.
    fn draw_status_header(&self, frame: &mut Frame, area: Rect, list: &List) {
        let selected = list.query.fields.iter().find(|(k, _)| k == "status").map(|(_, v)| v.as_str());
        let count = |s: &str| list.facets.iter().find(|(k, _)| k == s).map(|(_, n)| *n).unwrap_or(0);
        let total: i64 = list.facets.iter().map(|(_, n)| n).sum();
        // Every count always shows: on a narrow screen the counts are abbreviated (1.2k), then
        // the names too (que, run, fail…).
        let line = |level: u8| {
            let n = |c: i64| if level == 0 { table::thousands(c) } else { table::abbreviated(c) };
            let pad = if level < 3 { " " } else { "" };
            let mut items: Vec<(Option<String>, String, ratatui::style::Style)> =
                vec![(None, format!("{pad}all {}{pad}", n(total)), self.theme.text)];
            for s in ExecutionStatus::ALL {
                let name = s.as_str();
                let label = if level < 2 { name } else { table::short_status(name) };
                items.push((
                    Some(name.to_string()),
                    format!("{pad}{label} {}{pad}", n(count(name))),
                    self.theme.status(name),
                ));
            }
            items
        };
        let width = |items: &[(Option<String>, String, ratatui::style::Style)]| {
            items.iter().map(|(_, t, _)| t.chars().count() + 1).sum::<usize>()
        };
        let items = (0..4).map(line).find(|i| width(i) <= usize::from(area.width)).unwrap_or_else(|| line(3));
        let mut spans = Vec::new();
        let mut x = area.x;
        let mut spots = self.header_spots.borrow_mut();
        for (status, text, style) in items {
            let width = text.chars().count() as u16;
            let on = status.as_deref() == selected;
            spots.push((area.y, x, x + width, None, status));
            spans.push(Span::styled(text, if on { self.theme.row_selected } else { style }));
            spans.push(Span::styled("│", self.theme.border));
            x += width + 1;
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    /// The Fleet pane's header: hosts and agents by health (each count picks that list and
    /// health; `f`/`F` cycle the health of the list shown) and the healthy share since the start.
    fn draw_fleet_header(&self, frame: &mut Frame, area: Rect) {
        let Some(summary) = &self.fleet.summary else {
            frame.render_widget(Paragraph::new(Line::styled(" counting the fleet…", self.theme.muted)), area);
            return;
        };
        let current = self.entity();
        let selected = self.status_field();
        let mut spans = Vec::new();
        let mut x = area.x;
        let mut spots = self.header_spots.borrow_mut();
        // Every count always shows: narrower, the counts are abbreviated, then the names.
        let line = |level: u8| {
            let n = |c: i64| if level == 0 { table::thousands(c) } else { table::abbreviated(c) };
            let mut all = Vec::new();
            for (entity, name, c) in
                [(Entity::Hosts, "hosts", summary.hosts), (Entity::Agents, "agents", summary.agents)]
            {
                let mut items: Vec<(Option<String>, String, ratatui::style::Style)> =
                    vec![(None, format!(" {name} {}:", n(c.total())), self.theme.text)];
                for &h in Health::of(entity == Entity::Hosts) {
                    let label = if level < 2 { h.as_str() } else { table::short_status(h.as_str()) };
                    items.push((
                        Some(h.as_str().to_string()),
                        format!(" {} {label}", n(c.get(h))),
                        self.theme.status(h.as_str()),
                    ));
                }
                all.push((entity, items));
            }
            all
        };
        let width = |all: &[(Entity, Vec<HeaderItem>)]| {
            all.iter()
                .map(|(_, items)| items.iter().map(|(_, t, _)| t.chars().count()).sum::<usize>() + 2)
                .sum::<usize>()
                + 12
        };
        let lines = (0..3).map(line).find(|l| width(l) <= usize::from(area.width)).unwrap_or_else(|| line(2));
        for (entity, items) in lines {
            for (health, text, style) in items {
                let width = text.chars().count() as u16;
                let on = entity == current && health.is_some() && health == selected;
                spots.push((area.y, x, x + width, Some(entity), health));
                spans.push(Span::styled(text, if on { self.theme.row_selected } else { style }));
                x += width;
            }
            spans.push(Span::styled(" │", self.theme.border));
            x += 2;
        }
        let label = format!(" {}% healthy ", summary.healthy_percent());
        spans.push(Span::styled(label.clone(), self.theme.muted));
        x += label.chars().count() as u16;
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        // The healthy share since the dashboard started, in what is left of the line.
        let spark = Rect { x, y: area.y, width: area.right().saturating_sub(x).min(60), height: 1 };
        if spark.width >= 4 {
            let series = self.fleet.series(usize::from(spark.width));
            frame.render_widget(
                ratatui::widgets::Sparkline::default().data(&series).max(100).style(self.theme.ok),
                spark,
            );
        }
    }

    /// "Helm charts · Edge apps · …" with the current one picked out, for panes with several.
    fn view_title(&self) -> String {
        let views = self.tab.views();
        if views.len() == 1 {
            return views[0].title().to_string();
        }
        let current = self.entity();
        views
            .iter()
            .map(|v| if *v == current { format!("[{}]", v.title()) } else { v.title().to_string() })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn list_footer(&self, list: &List) -> Line<'static> {
        let mut spans = Vec::new();
        let columns = &list.table.columns;
        if let Some(c) = columns.get(list.query.sort) {
            spans.push(Span::styled(
                format!(" sort {c} {} ", if list.query.descending { "↓" } else { "↑" }),
                self.theme.muted,
            ));
        }
        if !list.query.filter.is_none() {
            spans.push(Span::styled(
                format!(" filter /{} ", sanitize_cell(&list.filter_text, 60)),
                self.theme.highlight,
            ));
        }
        if !list.query.fields.is_empty() {
            let fields: Vec<String> = list.query.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            spans.push(Span::styled(format!(" where {} ", sanitize_cell(&fields.join(" "), 80)), self.theme.highlight));
        }
        if !list.marks.is_empty() {
            let hidden = list.marked_hidden();
            let text = if hidden > 0 {
                format!(" {} marked, {hidden} hidden by the filter ", list.marks.len())
            } else {
                format!(" {} marked ", list.marks.len())
            };
            spans.push(Span::styled(text, self.theme.marked));
        }
        if let Some(e) = &list.error {
            spans.push(Span::styled(format!(" {} ", sanitize_cell(e, 80)), self.theme.error));
        }
        Line::from(spans)
    }

    fn draw_detail(&self, frame: &mut Frame, area: Rect, list: &List) {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(self.theme.border_focused)
            .title(Span::styled(" Detail ", self.theme.title))
            .title_top(
                Line::styled(if self.detail == Detail::Zoomed { " z: split " } else { " z: zoom " }, self.theme.muted)
                    .right_aligned(),
            );
        let lines: Vec<Line> = match list.table.selected_row() {
            None => vec![Line::styled("no row selected", self.theme.muted)],
            Some(row) => {
                let width = list.table.columns.iter().map(|c| c.len()).max().unwrap_or(0);
                std::iter::once(Line::from(vec![
                    Span::styled(format!("{:<width$}  ", "ID"), self.theme.table_header),
                    Span::styled(sanitize_cell(&row.cursor.id, 80), self.theme.text),
                ]))
                .chain(list.table.columns.iter().zip(&row.cells).zip(listing::kinds(list.entity)).map(|((c, v), k)| {
                    let text = match k {
                        listing::CellKind::Text | listing::CellKind::Status => sanitize_cell(v, 2_000),
                        k => table::shown(Some(&k), v, self.now, &self.thresholds),
                    };
                    Line::from(vec![
                        Span::styled(format!("{c:<width$}  "), self.theme.table_header),
                        Span::styled(text, self.theme.text),
                    ])
                }))
                // A cluster agent's key: its hash is never read, let alone shown.
                .chain((list.entity == Entity::Agents).then(|| {
                    Line::from(vec![
                        Span::styled(format!("{:<width$}  ", "PAK"), self.theme.table_header),
                        Span::styled("hidden", self.theme.muted),
                    ])
                }))
                .collect()
            }
        };
        frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
    }

    fn clock(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.offset).format("%H:%M:%S").to_string()
    }

    /// The status bar. What is true now (read-only, the connection, when the list was read, the
    /// simulator) always shows; where the data comes from gets the room that is left, cut with …
    fn draw_status(&self, frame: &mut Frame, area: Rect) {
        let sep = || Span::styled(" │ ", self.theme.status_bar);
        let mut state: Vec<Span> = Vec::new();
        if self.readonly {
            state.push(Span::styled(" READONLY ", self.theme.badge));
            state.push(sep());
        }
        match &self.connection {
            Connection::Connected => state.push(Span::styled("● connected", self.theme.ok)),
            Connection::Lost { since, retry_in, .. } => state.push(Span::styled(
                format!("⟳ reconnecting, stale since {} (retry {:.1}s)", self.clock(*since), retry_in.as_secs_f64()),
                self.theme.warn,
            )),
        }
        state.push(sep());
        // The Marketplace's catalogue is read whole, not by the pane's lists.
        let (refreshed, pending) = if self.tab == Tab::Marketplace {
            let view = self.market.view();
            (view.loaded_at, view.loading)
        } else {
            let list = self.list();
            (list.refreshed, list.pending)
        };
        state.push(Span::styled(
            match refreshed {
                Some(t) => format!("refreshed {}", self.clock(t)),
                None if pending => "reading…".into(),
                None => "not read yet".into(),
            },
            self.theme.status_bar,
        ));
        if pending && refreshed.is_some() {
            state.push(Span::styled(" …", self.theme.muted));
        }
        if let Some(sim) = &self.simulator {
            let status = sim.borrow().clone();
            let style = match status {
                crate::sim::Status::Running | crate::sim::Status::Starting => self.theme.status_bar,
                crate::sim::Status::Failing { .. } => self.theme.warn,
                crate::sim::Status::Stopped { .. } => self.theme.error,
            };
            state.push(sep());
            state.push(Span::styled(format!("demo, {}", status.describe()), style));
        }
        let used: usize = state.iter().map(|s| s.content.chars().count()).sum();
        let mut place = format!(" {}", self.target);
        if !self.actor.is_empty() {
            place.push_str(&format!(" as {}", sanitize_cell(&self.actor, 80)));
        }
        let room = (area.width as usize).saturating_sub(used + 3);
        let mut spans = Vec::new();
        if room > 4 {
            let place = if place.chars().count() > room {
                format!("{}…", place.chars().take(room - 1).collect::<String>())
            } else {
                place
            };
            spans.push(Span::styled(place, self.theme.status_bar));
            spans.push(sep());
        } else {
            spans.push(Span::styled(" ", self.theme.status_bar));
        }
        spans.extend(state);
        frame.render_widget(Paragraph::new(Line::from(spans)).style(self.theme.status_bar), area);
    }

    /// The first key of the global back action, for the key hints of forms and editors.
    fn back_key(&self) -> String {
        self.keymap.keys(Section::Global, Action::Back).first().map(|k| k.to_string()).unwrap_or_default()
    }

    /// The first key of an action, as the footer and help show it.
    fn first_key(&self, section: Section, action: Action) -> Option<String> {
        [section, Section::Table, Section::Global]
            .iter()
            .find_map(|s| self.keymap.keys(*s, action).first())
            .map(|k| k.to_string())
    }

    /// The current pane's main keys, from the keymap.
    fn draw_footer(&self, frame: &mut Frame, area: Rect) {
        let section = self.tab.section();
        let filter = if self.tab == Tab::Marketplace { "search" } else { "filter" };
        let mut hints: Vec<(Action, &str)> =
            vec![(Action::Help, "help"), (Action::Command, "command"), (Action::Filter, filter)];
        hints.extend(match self.tab {
            Tab::Executions => {
                vec![
                    (Action::Pause, "pause"),
                    (Action::Resume, "resume"),
                    (Action::Cancel, "cancel"),
                    (Action::Retry, "retry"),
                    (Action::StatusNext, "status"),
                ]
            }
            Tab::Rollouts => vec![
                (Action::NewStack, "new stack"),
                (Action::EditObject, "edit"),
                (Action::Resubmit, "resubmit"),
                (Action::Targets, "targets"),
                (Action::Delete, "delete"),
                (Action::StatusNext, "state"),
            ],
            Tab::Fleet => match self.entity() {
                Entity::Hosts => vec![
                    (Action::NextView, "next list"),
                    (Action::Activate, "activate"),
                    (Action::Deactivate, "maintenance"),
                    (Action::Delete, "delete"),
                    (Action::StatusNext, "health"),
                ],
                Entity::Agents => vec![
                    (Action::NextView, "next list"),
                    (Action::Activate, "activate"),
                    (Action::Deactivate, "deactivate"),
                    (Action::EditLabels, "labels"),
                    (Action::Delete, "delete"),
                    (Action::StatusNext, "health"),
                ],
                _ => vec![(Action::NextView, "next list")],
            },
            Tab::Marketplace => {
                let deploys = matches!(self.market.kind, Kind::Packages | Kind::Apps);
                let mut hints = if self.market.detail.is_some() {
                    vec![(Action::Down, "scroll"), (Action::Back, "back")]
                } else {
                    vec![(Action::NextView, "next list"), (Action::Facets, "facets"), (Action::Open, "detail")]
                };
                if deploys {
                    hints.push((Action::Deploy, "deploy"));
                }
                hints
            }
        });
        let open = if matches!(self.entity(), Entity::Orchestrators | Entity::Sites | Entity::Clusters) {
            "drill down"
        } else {
            "detail"
        };
        if self.tab != Tab::Marketplace {
            hints.extend([(Action::Mark, "mark"), (Action::Open, open)]);
        }
        if !(self.tab == Tab::Marketplace && self.market.detail.is_some()) {
            hints.push((Action::SortNext, "sort"));
        }
        // Read-only: the write keys would only be refused, so they are not offered.
        if self.readonly {
            hints.retain(|(a, _)| {
                !matches!(
                    a,
                    Action::Pause
                        | Action::Resume
                        | Action::Cancel
                        | Action::Retry
                        | Action::NewStack
                        | Action::EditObject
                        | Action::Resubmit
                        | Action::Targets
                        | Action::Activate
                        | Action::Deactivate
                        | Action::EditLabels
                        | Action::Delete
                        | Action::Deploy
                )
            });
        }
        // A zoomed detail has keys of its own: those, and the way back.
        if self.detail == Detail::Zoomed && self.tab != Tab::Marketplace {
            hints = vec![(Action::Help, "help"), (Action::Back, "back"), (Action::Down, "scroll")];
            if self.entity() == Entity::Executions {
                hints.extend([
                    (Action::Follow, "follow"),
                    (Action::Wrap, "wrap"),
                    (Action::Search, "search"),
                    (Action::ChainNext, "retry chain"),
                ]);
            } else if self.entity() == Entity::Stacks {
                hints.extend([(Action::Diff, "diff"), (Action::ChainNext, "older object")]);
            }
        }
        let zoomed = self.detail == Detail::Zoomed && self.tab != Tab::Marketplace;
        let section = if zoomed { Section::Detail } else { section };
        // Whole hints only, as many as fit; quitting is always shown, last.
        let quit = self.first_key(section, Action::Quit).map(|k| (k, " quit  ".to_string()));
        let reserved = quit.as_ref().map_or(0, |(k, h)| k.chars().count() + h.chars().count());
        let mut spans = vec![Span::raw(" ")];
        let mut width = 1 + reserved;
        for (action, label) in hints {
            if let Some(key) = self.first_key(section, action) {
                let hint = format!(" {label}  ");
                let w = key.chars().count() + hint.chars().count();
                if width + w > usize::from(area.width) + 2 {
                    break;
                }
                width += w;
                spans.push(Span::styled(key, self.theme.key_hint));
                spans.push(Span::styled(hint, self.theme.muted));
            }
        }
        if let Some((key, hint)) = quit {
            spans.push(Span::styled(key, self.theme.key_hint));
            spans.push(Span::styled(hint, self.theme.muted));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn form_keys(&self, confirm: bool) -> Line<'static> {
        let k = |a: Action| self.first_key(Section::Form, a).unwrap_or_default();
        let back = self.back_key();
        let items: Vec<(String, &str)> = if confirm {
            vec![(k(Action::NextField), "next"), ("enter".into(), "choose"), (back, "cancel")]
        } else {
            vec![
                (k(Action::Submit), "submit"),
                (back, "cancel"),
                (k(Action::NextField), "next field"),
                (k(Action::PrevField), "previous"),
            ]
        };
        self.key_hints(items)
    }

    /// The YAML editor's key hints: while editing, submit checks; in review, it sends.
    fn editor_keys(&self, review: bool) -> Line<'static> {
        let submit = self.first_key(Section::Form, Action::Submit).unwrap_or_default();
        let back = self.back_key();
        let items: Vec<(String, &str)> = if review {
            vec![(format!("{submit}/enter"), "submit"), (back, "edit again"), ("j/k".into(), "scroll")]
        } else {
            vec![(submit, "check and review the diff"), (back, "cancel")]
        };
        self.key_hints(items)
    }

    fn picker_keys(&self) -> Line<'static> {
        let submit = self.first_key(Section::Form, Action::Submit).unwrap_or_default();
        let back = self.back_key();
        self.key_hints(vec![
            ("enter".into(), "toggle target"),
            ("↑/↓".into(), "move"),
            (submit, "apply"),
            (back, "cancel"),
        ])
    }

    fn key_hints(&self, items: Vec<(String, &str)>) -> Line<'static> {
        let mut spans = vec![Span::raw(" ")];
        for (key, label) in items {
            spans.push(Span::styled(key, self.theme.key_hint));
            spans.push(Span::styled(format!(" {label}  "), self.theme.muted));
        }
        Line::from(spans)
    }

    fn draw_prompt(&self, frame: &mut Frame, prompt: &Prompt, body: Rect, line: Rect) {
        let (sigil, hint) = match prompt.kind {
            PromptKind::Command => (":", "tab completes, ↑/↓ history, enter runs, esc cancels"),
            PromptKind::Filter => ("/", "fuzzy; !inverse =exact -l key=value; enter keeps, esc clears"),
            PromptKind::Search => ("/", "search the log; enter finds, esc clears"),
        };
        crate::ui::widgets::clear(frame, line, &self.theme);
        let [s, input, h] = Layout::horizontal([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(hint.chars().count() as u16 + 2),
        ])
        .areas(line);
        frame.render_widget(Paragraph::new(Span::styled(sigil, self.theme.key_hint)), s);
        let mut t = prompt.input.clone();
        t.set_style(self.theme.text);
        t.set_cursor_style(self.theme.row_selected);
        frame.render_widget(&t, input);
        frame.render_widget(Paragraph::new(Span::styled(hint, self.theme.muted)).right_aligned(), h);

        // Above the line: what is wrong, or the completions.
        let lines: Vec<Line> = if let Some(e) = &prompt.error {
            vec![Line::styled(format!(" {e}"), self.theme.error)]
        } else if prompt.kind == PromptKind::Command {
            candidates(&prompt.text(), &self.theme_names())
                .into_iter()
                .map(|(name, help)| {
                    Line::from(vec![
                        Span::styled(format!(" {name:<24}"), self.theme.key_hint),
                        Span::styled(help, self.theme.muted),
                    ])
                })
                .collect()
        } else {
            Vec::new()
        };
        if lines.is_empty() {
            return;
        }
        let height = (lines.len() as u16 + 2).min(body.height);
        let popup = Rect { x: body.x, y: body.bottom().saturating_sub(height), width: 64.min(body.width), height };
        crate::ui::widgets::clear(frame, popup, &self.theme);
        frame.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::ALL).border_style(self.theme.border_focused)),
            popup,
        );
    }

    fn draw_toasts(&self, frame: &mut Frame, body: Rect) {
        // Over the bottom of the body (the table's lower border), never over its header.
        for (i, t) in self.toasts.iter().rev().enumerate() {
            let text = sanitize_cell(&t.text, 100);
            let width = (text.chars().count() as u16 + 4).min(body.width);
            let Some(y) = body.bottom().checked_sub(1 + i as u16).filter(|y| *y > body.y + 1) else { break };
            let area = Rect { x: body.right().saturating_sub(width + 1), y, width, height: 1 };
            let style = if t.error { self.theme.error } else { self.theme.ok };
            crate::ui::widgets::clear(frame, area, &self.theme);
            frame.render_widget(
                Paragraph::new(Line::styled(format!(" {} {text} ", if t.error { "✗" } else { "✓" }), style))
                    .style(self.theme.status_bar),
                area,
            );
        }
    }

    /// Help, generated from the keymap: the global keys, the list keys and the current pane's.
    fn draw_help(&self, frame: &mut Frame, area: Rect) {
        let sections: &[Section] = if self.tab == Tab::Executions {
            &[Section::Global, Section::Table, Section::Executions, Section::Detail]
        } else {
            &[Section::Global, Section::Table, self.tab.section()]
        };
        self.help.draw(frame, area, &self.keymap, sections, &self.theme);
    }
}

/// The commands (or theme names) that complete `text`, with what they do.
pub fn candidates(text: &str, themes: &[String]) -> Vec<(String, String)> {
    if let Some(arg) = text.strip_prefix("theme ") {
        return themes
            .iter()
            .filter(|t| t.starts_with(arg.trim_start()))
            .map(|t| (format!("theme {t}"), "theme".to_string()))
            .collect();
    }
    COMMANDS
        .iter()
        .filter(|(name, _, _)| name.starts_with(text))
        .map(|(name, arg, help)| {
            (if arg.is_empty() { name.to_string() } else { format!("{name} {arg}") }, help.to_string())
        })
        .collect()
}

/// Tab completion: the one candidate, or the longest prefix all candidates share.
pub fn complete(text: &str, themes: &[String]) -> Option<String> {
    let names: Vec<String> = if let Some(arg) = text.strip_prefix("theme ") {
        themes.iter().filter(|t| t.starts_with(arg.trim_start())).map(|t| format!("theme {t}")).collect()
    } else {
        COMMANDS
            .iter()
            .filter(|(n, _, _)| n.starts_with(text))
            .map(|(n, arg, _)| if arg.is_empty() { n.to_string() } else { format!("{n} ") })
            .collect()
    };
    let first = names.first()?;
    let mut prefix = first.clone();
    for n in &names[1..] {
        while !n.starts_with(&prefix) {
            prefix.pop();
        }
    }
    (prefix.len() > text.len()).then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_extends_to_the_shared_prefix() {
        let themes = vec!["default".to_string(), "light".to_string(), "solarized-dark".to_string()];
        assert_eq!(complete("ex", &themes), Some("exec".into()));
        assert_eq!(complete("th", &themes), Some("theme ".into()));
        assert_eq!(complete("theme so", &themes), Some("theme solarized-dark".into()));
        assert_eq!(complete("s", &themes), None, "stacks, solutions and sites share only s");
        assert_eq!(complete("zz", &themes), None);
        assert_eq!(candidates("s", &themes).len(), 3);
    }
}

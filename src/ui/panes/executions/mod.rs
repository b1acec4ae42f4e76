//! The Executions pane: workflow executions with their status header, the detail (steps, log,
//! retry chain), and the verbs pause, resume, cancel and retry.

pub mod detail;

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use uuid::Uuid;

use self::detail::ExecDetail;
use crate::domain::execution::{ExecutionStatus, Verb};
use crate::service::listing::Entity;
use crate::ui::action::Action;
use crate::ui::keymap::Section;
use crate::ui::list::{Landed, List};
use crate::ui::lists::{body_areas, header_area, Lists};
use crate::ui::modal::{Mode, Pending, Prompt, PromptKind};
use crate::ui::pane::{Ctx, Detail, Effects};
use crate::ui::protocol::{Command, Outcome};
use crate::ui::widgets::form::Confirm;
use crate::ui::widgets::{scroll_key, table};

/// A call the pane awaits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// The execution detail of this id.
    Detail(Uuid),
}

type Fx = Effects<Awaiting>;

#[derive(Debug, Clone)]
pub struct Executions {
    pub lists: Lists,
    pub detail: ExecDetail,
}

impl Default for Executions {
    fn default() -> Self {
        Executions { lists: Lists::new(&[Entity::Executions]), detail: ExecDetail::new() }
    }
}

impl Executions {
    pub fn list(&self) -> &List {
        self.lists.current()
    }

    /// A key before the keymap's pane section: the zoomed detail's own (the log's follow, wrap,
    /// search, the retry chain). True when taken.
    pub fn key(&mut self, key: &KeyEvent, cx: &Ctx, fx: &mut Fx) -> bool {
        if cx.detail != Detail::Zoomed {
            return false;
        }
        if let Some(action) = cx.keymap.action(Section::Detail, key, false) {
            self.detail_action(action, cx, fx);
        } else if let Some(action) = cx.keymap.action(Section::Executions, key, false) {
            fx.pass = Some(action);
        }
        true
    }

    /// A key of the zoomed detail.
    fn detail_action(&mut self, action: Action, cx: &Ctx, fx: &mut Fx) {
        if scroll_key(&mut self.detail, action, cx.detail_page()) {
            return;
        }
        let d = &mut self.detail;
        match action {
            Action::Follow => d.follow = !d.follow,
            Action::Wrap => d.wrap = !d.wrap,
            Action::Timestamps => d.timestamps = !d.timestamps,
            Action::Search => {
                let text = d.search.clone().unwrap_or_default();
                fx.open(Mode::Prompt(Box::new(Prompt::new(PromptKind::Search, &text))));
            }
            Action::ChainNext | Action::ChainPrev => {
                let n = d.chain_entries().len().max(1);
                d.chain = if action == Action::ChainNext { (d.chain + 1) % n } else { (d.chain + n - 1) % n };
            }
            Action::OpenChain => {
                d.open_chain();
            }
            other => fx.pass = Some(other),
        }
    }

    /// An action of the pane (after the shell's global ones).
    pub fn action(&mut self, action: Action, cx: &Ctx, fx: &mut Fx) {
        match action {
            Action::Pause => self.verb(Verb::Pause, cx, fx),
            Action::Resume => self.verb(Verb::Resume, cx, fx),
            Action::Cancel => self.verb(Verb::Cancel, cx, fx),
            Action::Retry => self.verb(Verb::Retry, cx, fx),
            Action::StatusNext | Action::StatusPrev => {
                let values: Vec<&str> = ExecutionStatus::ALL.iter().map(|s| s.as_str()).collect();
                let forward = action == Action::StatusNext;
                fx.request(self.lists.current_mut().cycle_field("status", &values, forward, cx.now));
            }
            other => {
                self.lists.current_mut().action(other, cx, fx);
            }
        }
    }

    /// A key no action is bound to: the list's (Shift+letter sorts by that column).
    pub fn unbound(&mut self, key: &KeyEvent, cx: &Ctx, fx: &mut Fx) {
        fx.requests(self.lists.current_mut().unbound_key(key, cx.now));
    }

    /// Esc: back along the retry chain in the zoomed detail, else the list's way back.
    pub fn back(&mut self, cx: &Ctx, fx: &mut Fx) {
        if cx.detail == Detail::Zoomed && self.detail.back() {
            return;
        }
        self.lists.current_mut().back(cx, fx);
    }

    /// Pause, resume, cancel or retry the marked executions, or the selected one. Cancel and
    /// retry ask first; pause and resume ask only when marked rows are hidden by the filter.
    fn verb(&mut self, verb: Verb, cx: &Ctx, fx: &mut Fx) {
        if cx.readonly {
            return fx.toast(cx.read_only_refusal(verb.as_str()), true);
        }
        let list = self.lists.current();
        let ids = list.targets();
        if ids.is_empty() {
            return fx.toast("no execution selected", true);
        }
        // The archive (`:exec archive=yes`) is read-only: say so before asking anything (the
        // service refuses and audits it all the same).
        if list.query.fields.iter().any(|(k, v)| k == "archive" && v.eq_ignore_ascii_case("yes")) {
            return fx.toast(format!("archived executions are read-only: {} does not apply", verb.as_str()), true);
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
                    return fx.toast(why, true);
                }
            }
        }
        let what = list.acting_on("execution");
        let hidden = list.marked_hidden();
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
                fx.open(Mode::Confirm(
                    Box::new(Confirm::new(title, question, label)),
                    Pending::Executions { verb, ids },
                ));
            }
            // Never on rows the filter hides without saying so first.
            _ if hidden > 0 => {
                let title = if verb == Verb::Pause { "Pause" } else { "Resume" };
                let question = format!("{title} {what}?");
                fx.open(Mode::Confirm(
                    Box::new(Confirm::new(title, question, title)),
                    Pending::Executions { verb, ids },
                ));
            }
            _ => {
                self.lists.current_mut().clear_marks();
                fx.verb(Command::Executions { verb, ids, reason: None })
            }
        }
    }

    /// A page or delta of the list landed: the detail may be behind it.
    pub fn landed(&mut self, landed: &Landed) {
        if matches!(landed, Landed::Read { changed: true }) {
            self.detail.stale = true;
        }
    }

    /// Keep the detail on what it should show (the selected row when split), and read it when
    /// needed.
    pub fn sync(&mut self, cx: &Ctx, fx: &mut Fx) {
        if cx.detail == Detail::Closed {
            return;
        }
        if cx.detail == Detail::Split {
            if let Some(id) = self.lists.current().selected_id() {
                self.detail.show(id);
            }
        }
        let Some(id) = self.detail.id() else { return };
        let d = &self.detail;
        let shown = d.data.as_ref().map(|x| x.id);
        if !d.loading && (shown != Some(id) || d.stale) {
            self.detail.loading = true;
            self.detail.stale = false;
            fx.call(Command::ExecutionDetail(id), Awaiting::Detail(id));
        }
    }

    /// A call's answer; the outcome back when it is not the pane's to take.
    pub fn called(&mut self, awaiting: Awaiting, outcome: Outcome) -> Option<Outcome> {
        let Awaiting::Detail(id) = awaiting;
        match outcome {
            Outcome::ExecutionDetail(d) => {
                if self.detail.id() == Some(id) {
                    self.detail.loading = false;
                    self.detail.error = None;
                    self.detail.data = Some(*d);
                }
            }
            Outcome::Failed { message, .. } => {
                if self.detail.id() == Some(id) {
                    self.detail.loading = false;
                    self.detail.error = Some(message);
                }
            }
            other => return Some(other),
        }
        None
    }

    /// The log search: typed (Enter) or cleared (Esc, None).
    pub fn search(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.detail.find(text),
            None => self.detail.search = None,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, cx: &Ctx) {
        let (table_area, detail_area) = body_areas(area, cx.detail);
        let list = self.list();
        cx.header_spots.borrow_mut().clear();
        let table_area = match table_area {
            Some(t) => match header_area(t) {
                Some((h, rest)) => {
                    self.draw_status_header(frame, h, list, cx);
                    Some(rest)
                }
                None => Some(t),
            },
            None => None,
        };
        if let Some(t) = table_area {
            list.draw(frame, t, &self.lists.title(), cx);
        }
        if let Some(d) = detail_area {
            let now = cx.now.timestamp_millis() as f64 / 1000.0;
            self.detail.draw(frame, d, cx.theme, now, cx.detail == Detail::Zoomed);
        }
    }

    /// The count per status under the other filters; the one shown is picked out. `f`/`F` or a
    /// click select one.
    fn draw_status_header(&self, frame: &mut Frame, area: Rect, list: &List, cx: &Ctx) {
        let theme = cx.theme;
        let selected = list.query.fields.iter().find(|(k, _)| k == "status").map(|(_, v)| v.as_str());
        let count = |s: &str| list.facets.iter().find(|(k, _)| k == s).map(|(_, n)| *n).unwrap_or(0);
        let total: i64 = list.facets.iter().map(|(_, n)| n).sum();
        // Every count always shows: on a narrow screen the counts are abbreviated (1.2k), then
        // the names too (que, run, fail…).
        let line = |level: u8| {
            let n = |c: i64| if level == 0 { table::thousands(c) } else { table::abbreviated(c) };
            let pad = if level < 3 { " " } else { "" };
            let mut items: Vec<(Option<String>, String, ratatui::style::Style)> =
                vec![(None, format!("{pad}all {}{pad}", n(total)), theme.text)];
            for s in ExecutionStatus::ALL {
                let name = s.as_str();
                let label = if level < 2 { name } else { table::short_status(name) };
                items.push((
                    Some(name.to_string()),
                    format!("{pad}{label} {}{pad}", n(count(name))),
                    theme.status(name),
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
        let mut spots = cx.header_spots.borrow_mut();
        for (status, text, style) in items {
            let width = text.chars().count() as u16;
            let on = status.as_deref() == selected;
            spots.push((area.y, x, x + width, None, status));
            spans.push(Span::styled(text, if on { theme.row_selected } else { style }));
            spans.push(Span::styled("│", theme.border));
            x += width + 1;
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    /// The footer's key hints, and the keymap section they are looked up in.
    pub fn hints(&self, cx: &Ctx) -> (Vec<(Action, &'static str)>, Section) {
        if cx.detail == Detail::Zoomed {
            let mut hints = super::zoomed_hints();
            hints.extend([
                (Action::Follow, "follow"),
                (Action::Wrap, "wrap"),
                (Action::Search, "search"),
                (Action::ChainNext, "retry chain"),
            ]);
            return (hints, Section::Detail);
        }
        let own = vec![
            (Action::Pause, "pause"),
            (Action::Resume, "resume"),
            (Action::Cancel, "cancel"),
            (Action::Retry, "retry"),
            (Action::StatusNext, "status"),
        ];
        (super::list_hints(own, "detail"), Section::Executions)
    }
}

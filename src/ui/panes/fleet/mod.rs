//! The Fleet pane: hosts, cluster agents, orchestrators, sites and clusters (orchestrators →
//! sites → hosts and clusters → agents drill down), the health header with its sparkline, the
//! verbs activate, deactivate (maintenance for hosts) and delete, and an agent's labels form.

pub mod health;

use std::time::Duration;

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use uuid::Uuid;

use self::health::{FleetHealth, FLEET_COUNTS_IDLE};
use crate::domain::broker::{parse_annotations, parse_labels};
use crate::domain::filter::Filter;
use crate::domain::health::Health;
use crate::domain::text::sanitize_cell;
use crate::service::fleet::{Deletable, Tags};
use crate::service::listing::{self, Entity};
use crate::ui::action::Action;
use crate::ui::keymap::Section;
use crate::ui::list::{due, List};
use crate::ui::lists::{body_areas, header_area, Lists};
use crate::ui::modal::{FormFor, Mode, Pending};
use crate::ui::pane::{form_refused, form_to_submit, Ctx, Detail, Effects};
use crate::ui::protocol::{Command, Outcome};
use crate::ui::widgets::form::{Confirm, Field, Form};
use crate::ui::widgets::table;

/// A call the pane awaits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// The fleet's health counts.
    FleetSummary,
    /// An agent's labels and annotations, to open the form.
    OpenTagsForm,
    /// The answer to the labels form.
    TagsForm,
}

type Fx = Effects<Awaiting>;

#[derive(Debug, Clone)]
pub struct Fleet {
    pub lists: Lists,
    /// The lists drilled down from (orchestrators → sites → hosts), innermost last.
    pub drill: Vec<Entity>,
    /// The summary header.
    pub health: FleetHealth,
}

impl Default for Fleet {
    fn default() -> Self {
        Fleet {
            lists: Lists::new(&[Entity::Hosts, Entity::Agents, Entity::Orchestrators, Entity::Sites, Entity::Clusters]),
            drill: Vec::new(),
            health: FleetHealth::default(),
        }
    }
}

impl Fleet {
    pub fn list(&self) -> &List {
        self.lists.current()
    }

    fn list_mut(&mut self) -> &mut List {
        self.lists.current_mut()
    }

    /// Show one of the pane's lists: the detail closes, the list is read if it never was.
    fn show(&mut self, entity: Entity, cx: &Ctx, fx: &mut Fx) {
        self.lists.show(entity);
        fx.detail = Some(Detail::Closed);
        fx.requests(self.list_mut().ensure_loaded(cx.now));
    }

    /// An action of the pane (after the shell's global ones).
    pub fn action(&mut self, action: Action, cx: &Ctx, fx: &mut Fx) {
        match action {
            Action::Activate => self.verb(true, cx, fx),
            Action::Deactivate => self.verb(false, cx, fx),
            Action::EditLabels => self.edit_labels(cx, fx),
            Action::Delete => self.delete(cx, fx),
            Action::StatusNext | Action::StatusPrev => {
                let entity = self.lists.entity();
                if !matches!(entity, Entity::Hosts | Entity::Agents) {
                    return;
                }
                let values: Vec<&str> = Health::of(entity == Entity::Hosts).iter().map(|h| h.as_str()).collect();
                let forward = action == Action::StatusNext;
                fx.request(self.list_mut().cycle_field("health", &values, forward, cx.now));
            }
            Action::Open if self.drill_down(cx, fx) => {}
            other => {
                self.list_mut().action(other, cx, fx);
            }
        }
    }

    /// A key no action is bound to: the list's (Shift+letter sorts by that column).
    pub fn unbound(&mut self, key: &KeyEvent, cx: &Ctx, fx: &mut Fx) {
        fx.requests(self.lists.current_mut().unbound_key(key, cx.now));
    }

    /// Esc: the list's way back; clearing a drill-down's filter goes back up to the list it came
    /// from, as it was.
    pub fn back(&mut self, cx: &Ctx, fx: &mut Fx) {
        if self.list_mut().back(cx, fx) {
            if let Some(parent) = self.drill.pop() {
                self.show(parent, cx, fx);
            }
        }
    }

    /// Enter on an orchestrator, a site or a cluster: show its sites, hosts or agents. False when
    /// the list does not drill down.
    fn drill_down(&mut self, cx: &Ctx, fx: &mut Fx) -> bool {
        let parent = self.lists.entity();
        let (child, field) = match parent {
            Entity::Orchestrators => (Entity::Sites, "orchestrator"),
            Entity::Sites => (Entity::Hosts, "site"),
            Entity::Clusters => (Entity::Agents, "cluster"),
            _ => return false,
        };
        let Some(value) = self.list().table.selected_row().and_then(|r| r.cells.first().cloned()) else { return true };
        if value.is_empty() {
            fx.toast(format!("this {} has no name to look its children up by", parent.title().to_lowercase()), true);
            return true;
        }
        self.drill.retain(|e| *e != parent && *e != child);
        self.drill.push(parent);
        self.show(child, cx, fx);
        let list = self.list_mut();
        list.query.fields = vec![(field.to_string(), value)];
        list.query.filter = Filter::None;
        list.filter_text.clear();
        fx.request(list.requery(cx.now));
        true
    }

    /// Activate or deactivate the selected or marked agents or hosts; deactivating asks first.
    fn verb(&mut self, active: bool, cx: &Ctx, fx: &mut Fx) {
        let entity = self.lists.entity();
        if !matches!(entity, Entity::Agents | Entity::Hosts) {
            return;
        }
        let verb = match (entity, active) {
            (_, true) => "activate",
            (Entity::Hosts, false) => "maintenance",
            _ => "deactivate",
        };
        if cx.readonly {
            return fx.toast(cx.read_only_refusal(verb), true);
        }
        let ids = self.list().targets();
        if ids.is_empty() {
            return fx.toast("nothing selected", true);
        }
        let what = self.list().acting_on(if entity == Entity::Hosts { "host" } else { "agent" });
        if active && self.list().marked_hidden() == 0 {
            self.list_mut().clear_marks();
            return fx.verb(Command::Fleet { entity, active, ids, reason: None });
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
        fx.open(Mode::Confirm(Box::new(Confirm::new(title, question, label)), Pending::Fleet { entity, active, ids }));
    }

    /// Soft-delete the selected or marked agents or hosts, after a confirmation with a reason.
    fn delete(&mut self, cx: &Ctx, fx: &mut Fx) {
        let what = match self.lists.entity() {
            Entity::Agents => Deletable::Agent,
            Entity::Hosts => Deletable::Host,
            _ => return,
        };
        if cx.readonly {
            return fx.toast(cx.read_only_refusal("delete"), true);
        }
        let ids = self.list().targets();
        let named = self.list().acting_on(what.noun());
        let question = match ids.len() {
            0 => return fx.toast("nothing selected", true),
            1 => format!("Delete {named}? It leaves every list; the row stays for the record. Give a reason below."),
            _ => format!("Delete {named}? They leave every list; the rows stay for the record."),
        };
        fx.open(Mode::Confirm(Box::new(Confirm::new("Delete", question, "Delete")), Pending::Delete { what, ids }));
    }

    /// Open the labels form of the selected agent (after reading its labels).
    fn edit_labels(&mut self, cx: &Ctx, fx: &mut Fx) {
        if self.lists.entity() != Entity::Agents {
            return;
        }
        if cx.readonly {
            return fx.toast(cx.read_only_refusal("editing labels"), true);
        }
        let Some(agent) = self.list().selected_id() else {
            return fx.toast("no agent selected", true);
        };
        fx.call(Command::AgentTags(agent), Awaiting::OpenTagsForm);
    }

    /// Check the labels form by the domain rules (each problem under its field), then save.
    pub fn submit_tags(&mut self, agent: Uuid, expected: Tags, mode: &mut Mode, cx: &Ctx, fx: &mut Fx) {
        let Some(form) = form_to_submit(mode, cx, "editing labels") else { return };
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
        fx.call(Command::SetAgentTags { agent, expected, new: Tags { labels, annotations } }, Awaiting::TagsForm);
    }

    /// Hosts or agents changed (a notification): the counts are due sooner, and the lists
    /// counted from them (read whole) are read again at the next refresh.
    pub fn upstream_changed(&mut self) {
        self.health.changed = true;
    }

    /// Count the fleet's health while the pane shows (`shown`): every refresh when hosts or
    /// agents changed, else every 5 s (health ages by the clock, in steps of a minute or more;
    /// counting 100,000 hosts every 2 s kept the database server at 2 % of a core on an idle
    /// fleet); every 15 s on the other panes (the sparkline covers the whole session). One read
    /// in flight, and none before the pane shown has what it reads (`ready`).
    pub fn poll_counts(&mut self, shown: bool, ready: bool, cx: &Ctx, fx: &mut Fx) {
        let h = &mut self.health;
        if h.pending || !ready {
            return;
        }
        let every = match shown {
            true if h.changed => cx.refresh_every,
            true => FLEET_COUNTS_IDLE.max(cx.refresh_every),
            false => Duration::from_secs(15),
        };
        if due(cx.now, h.asked, every) {
            h.pending = true;
            h.changed = false;
            h.asked = Some(cx.now);
            fx.call(Command::FleetSummary(cx.thresholds, cx.now), Awaiting::FleetSummary);
        }
    }

    /// A call's answer; the outcome back when it is not the pane's to take.
    pub fn called(&mut self, awaiting: Awaiting, outcome: Outcome, mode: &mut Mode, fx: &mut Fx) -> Option<Outcome> {
        match (awaiting, outcome) {
            (Awaiting::FleetSummary, Outcome::FleetSummary(summary)) => {
                self.health.pending = false;
                self.health.record(summary.healthy_percent());
                self.health.summary = Some(summary);
            }
            (Awaiting::FleetSummary, Outcome::Failed { message, .. }) => {
                // The lists say it when the database is gone; keep the last counts.
                self.health.pending = false;
                tracing::debug!(%message, "fleet summary failed");
            }
            (Awaiting::OpenTagsForm, Outcome::AgentTags { agent, name, tags }) => {
                let labels = tags.labels.join("\n");
                let annotations: Vec<String> = tags.annotations.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let form = Form::new(
                    format!("Labels of {}", sanitize_cell(&name, 60)),
                    vec![
                        Field::text("labels", "Labels", "one per line, 1–64 characters").with_value(&labels),
                        Field::text("annotations", "Annotations", "key=value, one per line, no spaces")
                            .with_value(&annotations.join("\n")),
                    ],
                );
                fx.open_form(form, FormFor::AgentTags { agent, expected: tags });
            }
            (Awaiting::TagsForm, Outcome::Done(message)) => {
                fx.open(Mode::Normal);
                fx.toast(message, false);
                fx.refresh = true;
            }
            (Awaiting::TagsForm, Outcome::Failed { message, field }) => {
                form_refused(mode, fx, message, field, Some(&["labels", "annotations"]))
            }
            (_, other) => return Some(other),
        }
        None
    }

    /// The health filter of the list shown (hosts and agents only).
    fn health_field(&self) -> Option<String> {
        matches!(self.lists.entity(), Entity::Hosts | Entity::Agents).then(|| self.list().field("health")).flatten()
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, cx: &Ctx) {
        let (table_area, detail_area) = body_areas(area, cx.detail);
        let list = self.list();
        cx.header_spots.borrow_mut().clear();
        let table_area = match table_area.map(|t| (t, header_area(t))) {
            Some((_, Some((h, rest)))) => {
                self.health.draw(frame, h, list.entity, self.health_field(), cx);
                Some(rest)
            }
            Some((t, None)) => Some(t),
            None => None,
        };
        if let Some(t) = table_area {
            list.draw(frame, t, &self.lists.title(), cx);
        }
        if let Some(d) = detail_area {
            draw_detail(frame, d, list, cx);
        }
    }

    /// The footer's key hints, and the keymap section they are looked up in.
    pub fn hints(&self, cx: &Ctx) -> (Vec<(Action, &'static str)>, Section) {
        if cx.detail == Detail::Zoomed {
            return (super::zoomed_hints(), Section::Detail);
        }
        let own = match self.lists.entity() {
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
        };
        let open = if matches!(self.lists.entity(), Entity::Orchestrators | Entity::Sites | Entity::Clusters) {
            "drill down"
        } else {
            "detail"
        };
        (super::list_hints(own, open), Section::Fleet)
    }
}

/// The selected row, field by field.
fn draw_detail(frame: &mut Frame, area: Rect, list: &List, cx: &Ctx) {
    let theme = cx.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border_focused)
        .title(Span::styled(" Detail ", theme.title))
        .title_top(
            Line::styled(if cx.detail == Detail::Zoomed { " z: split " } else { " z: zoom " }, theme.muted)
                .right_aligned(),
        );
    let lines: Vec<Line> = match list.table.selected_row() {
        None => vec![Line::styled("no row selected", theme.muted)],
        Some(row) => {
            let width = list.table.columns.iter().map(|c| c.len()).max().unwrap_or(0);
            std::iter::once(Line::from(vec![
                Span::styled(format!("{:<width$}  ", "ID"), theme.table_header),
                Span::styled(sanitize_cell(&row.cursor.id, 80), theme.text),
            ]))
            .chain(list.table.columns.iter().zip(&row.cells).zip(listing::kinds(list.entity)).map(|((c, v), k)| {
                let text = match k {
                    listing::CellKind::Text | listing::CellKind::Status => sanitize_cell(v, 2_000),
                    k => table::shown(Some(&k), v, cx.now, &cx.thresholds),
                };
                Line::from(vec![
                    Span::styled(format!("{c:<width$}  "), theme.table_header),
                    Span::styled(text, theme.text),
                ])
            }))
            // A cluster agent's key: its hash is never read, let alone shown.
            .chain((list.entity == Entity::Agents).then(|| {
                Line::from(vec![
                    Span::styled(format!("{:<width$}  ", "PAK"), theme.table_header),
                    Span::styled("hidden", theme.muted),
                ])
            }))
            .collect()
        }
    };
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
}

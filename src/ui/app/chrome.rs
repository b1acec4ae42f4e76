//! The frame around the panes: the tabs, the status bar, the footer's key hints, the help
//! overlay, and the key hints of forms and editors.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Tabs};
use ratatui::Frame;

use super::{App, Mode, Tab};
use crate::domain::text::sanitize_cell;
use crate::ui::action::Action;
use crate::ui::keymap::Section;

/// The connection as the status bar shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connected,
    Lost { since: DateTime<Utc>, retry_in: Duration, error: String },
}

impl App {
    pub fn draw(&self, frame: &mut Frame) {
        let [tabs_area, body, status, footer] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1), Constraint::Length(1)])
                .areas(frame.area());
        // The theme's own background everywhere (light paints white: readable on any terminal).
        frame.render_widget(Block::default().style(self.theme.text), frame.area());
        self.draw_tabs(frame, tabs_area);
        let cx = cx!(self, self.entity());
        match self.tab {
            Tab::Marketplace => self.market.draw(frame, body, &cx),
            Tab::Fleet => self.fleet.draw(frame, body, &cx),
            Tab::Rollouts => self.rollouts.draw(frame, body, &cx),
            Tab::Executions => self.executions.draw(frame, body, &cx),
        }
        self.draw_status(frame, status);
        self.draw_footer(frame, footer);
        self.draw_toasts(frame, body);
        if self.help.open {
            self.draw_help(frame, body);
        }
        match &self.mode {
            Mode::Form(form) => form.draw(frame, body, &self.theme, self.form_keys(false)),
            Mode::Editor(e) => e.draw(
                frame,
                body,
                &self.theme,
                self.editor_keys(e.stage == crate::ui::panes::rollouts::editor::Stage::Review),
            ),
            Mode::Targets(p) => p.draw(frame, body, &self.theme, self.picker_keys()),
            Mode::Confirm(c, _) => c.draw(frame, body, &self.theme, self.form_keys(true)),
            Mode::Prompt(p) => self.draw_prompt(frame, p, body, footer),
            Mode::Normal => {}
        }
        crate::ui::widgets::neutralise(frame.buffer_mut());
    }

    fn draw_tabs(&self, frame: &mut Frame, area: Rect) {
        let tabs = Tabs::new(Tab::titles().into_iter().map(|(_, title)| title))
            .select(self.tab.index())
            .style(self.theme.tab_inactive)
            .highlight_style(self.theme.tab_active)
            .divider(Span::styled("│", self.theme.border))
            .padding("", "");
        frame.render_widget(tabs, area);
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
        match &self.reads {
            Some(reads @ crate::db::replica::ReadsFrom::Standby { .. }) => {
                state.push(sep());
                state.push(Span::styled(reads.describe(), self.theme.status_bar));
            }
            Some(reads @ crate::db::replica::ReadsFrom::Primary { .. }) => {
                state.push(sep());
                state.push(Span::styled(sanitize_cell(&reads.describe(), 60), self.theme.warn));
            }
            None => {}
        }
        state.push(sep());
        // The Marketplace's catalogue is read whole, not by the pane's lists.
        let (refreshed, pending) = match self.tab {
            Tab::Marketplace => self.market.status(),
            _ => (self.list().refreshed, self.list().pending),
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

    /// The pane's main keys (its own hints), from the keymap; as many as fit, quitting last.
    fn draw_footer(&self, frame: &mut Frame, area: Rect) {
        let cx = cx!(self, self.entity());
        let (mut hints, section) = match self.tab {
            Tab::Marketplace => self.market.hints(),
            Tab::Fleet => self.fleet.hints(&cx),
            Tab::Rollouts => self.rollouts.hints(&cx),
            Tab::Executions => self.executions.hints(&cx),
        };
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

    pub(super) fn form_keys(&self, confirm: bool) -> Line<'static> {
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

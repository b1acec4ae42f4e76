//! The picker of a stack's explicit agent targets, and of the agents a deploy form targets:
//! fuzzy search over the live agents by cluster/name with their health, Enter toggles, the
//! changes are applied together (or taken back to the form).

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent};
use fuzzy_matcher::skim::SkimMatcherV2;
use fuzzy_matcher::FuzzyMatcher;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use tui_textarea::TextArea;
use uuid::Uuid;

use super::widgets::{popup, EditorKey};
use crate::domain::text::sanitize_cell;
use crate::service::rollouts::AgentChoice;
use crate::ui::theme::Theme;

/// A stack's explicit targets, being changed; or the agents a deploy form will target (the form
/// waits inside the picker and comes back with them).
#[derive(Debug, Clone)]
pub struct TargetPicker {
    /// None: choosing for `form`, whose stack may not exist yet.
    pub stack: Option<Uuid>,
    pub name: String,
    /// The form the chosen agents go back to.
    pub form: Option<Box<crate::ui::widgets::form::Form>>,
    pub agents: Vec<AgentChoice>,
    pub query: TextArea<'static>,
    /// Indices into `agents` that match the query, best first, with the matched characters of
    /// `cluster/name`.
    pub matches: Vec<(usize, Vec<usize>)>,
    pub selected: usize,
    /// Agents whose target state will flip.
    pub toggled: BTreeSet<usize>,
    pub banner: Option<String>,
    pub busy: bool,
}

impl TargetPicker {
    pub fn new(stack: Option<Uuid>, name: &str, agents: Vec<AgentChoice>) -> TargetPicker {
        let mut query = TextArea::default();
        query.set_cursor_line_style(Style::default());
        let mut p = TargetPicker {
            stack,
            name: name.to_string(),
            form: None,
            agents,
            query,
            matches: Vec::new(),
            selected: 0,
            toggled: BTreeSet::new(),
            banner: None,
            busy: false,
        };
        p.refilter();
        p
    }

    pub fn query_text(&self) -> String {
        self.query.lines().first().cloned().unwrap_or_default()
    }

    /// Match the query against each agent's `cluster/name`: fuzzy, best first (targets first
    /// when there is no query).
    pub fn refilter(&mut self) {
        let q = self.query_text();
        self.selected = 0;
        if q.is_empty() {
            let mut all: Vec<usize> = (0..self.agents.len()).collect();
            all.sort_by_key(|i| !self.agents[*i].targeted);
            self.matches = all.into_iter().map(|i| (i, Vec::new())).collect();
            return;
        }
        let matcher = SkimMatcherV2::default().ignore_case();
        let mut scored: Vec<(i64, usize, Vec<usize>)> = self
            .agents
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                matcher.fuzzy_indices(&format!("{}/{}", a.cluster, a.name), &q).map(|(score, idx)| (score, i, idx))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        self.matches = scored.into_iter().map(|(_, i, idx)| (i, idx)).collect();
    }

    /// Would the agent be a target once the changes are applied?
    pub fn will_target(&self, i: usize) -> bool {
        self.agents.get(i).is_some_and(|a| a.targeted != self.toggled.contains(&i))
    }

    /// For a form: the agents it had chosen start ticked, and the picker goes back to it.
    pub fn for_form(
        mut agents: Vec<AgentChoice>,
        form: Box<crate::ui::widgets::form::Form>,
        field: &str,
    ) -> TargetPicker {
        let chosen: Vec<String> =
            form.field(field).map(|f| f.picked().iter().map(|c| c.0.clone()).collect()).unwrap_or_default();
        for a in &mut agents {
            a.targeted = chosen.contains(&a.id.to_string());
        }
        let mut p = TargetPicker::new(None, "", agents);
        p.form = Some(form);
        p
    }

    /// The agents that will be targets, as a picked field holds them: (id, `cluster/name`).
    pub fn chosen(&self) -> Vec<(String, String)> {
        (0..self.agents.len())
            .filter(|i| self.will_target(*i))
            .filter_map(|i| self.agents.get(i))
            .map(|a| (a.id.to_string(), format!("{}/{}", sanitize_cell(&a.cluster, 40), sanitize_cell(&a.name, 60))))
            .collect()
    }

    /// The agents to add and to remove.
    pub fn changes(&self) -> (Vec<Uuid>, Vec<Uuid>) {
        let mut add = Vec::new();
        let mut remove = Vec::new();
        for i in &self.toggled {
            if let Some(a) = self.agents.get(*i) {
                if a.targeted {
                    remove.push(a.id);
                } else {
                    add.push(a.id);
                }
            }
        }
        (add, remove)
    }

    pub fn key(&mut self, key: KeyEvent, submit: bool, back: bool) -> EditorKey {
        if self.busy {
            return EditorKey::Handled;
        }
        if back {
            return EditorKey::Close;
        }
        if submit && self.form.is_some() {
            return EditorKey::Send;
        }
        if submit {
            let (add, remove) = self.changes();
            if add.is_empty() && remove.is_empty() {
                self.banner = Some("nothing to apply: enter toggles the selected agent".into());
                return EditorKey::Handled;
            }
            self.busy = true;
            self.banner = None;
            return EditorKey::Send;
        }
        let n = self.matches.len();
        match key.code {
            KeyCode::Down => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::PageDown => self.selected = (self.selected + 10).min(n.saturating_sub(1)),
            KeyCode::PageUp => self.selected = self.selected.saturating_sub(10),
            KeyCode::Enter => {
                if let Some((i, _)) = self.matches.get(self.selected) {
                    if !self.toggled.remove(i) {
                        self.toggled.insert(*i);
                    }
                }
            }
            _ => {
                let before = self.query_text();
                self.query.input(key);
                if self.query_text() != before {
                    self.refilter();
                }
            }
        }
        EditorKey::Handled
    }

    pub fn paste(&mut self, text: &str) {
        self.query.insert_str(text.lines().next().unwrap_or(""));
        self.refilter();
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, keys: Line<'static>) {
        let popup = popup(area, 80);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border_focused)
            .title(Span::styled(
                match self.form {
                    Some(_) => " Agents the deploy targets ".to_string(),
                    None => format!(" Targets of {} ", sanitize_cell(&self.name, 60)),
                },
                theme.title,
            ))
            .title_bottom(keys);
        let inner = block.inner(popup);
        crate::ui::widgets::clear(frame, popup, theme);
        frame.render_widget(block, popup);
        let [query, summary, list] =
            Layout::vertical([Constraint::Length(3), Constraint::Length(1), Constraint::Min(1)]).areas(inner);
        let mut q = self.query.clone();
        q.set_block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border_focused)
                .title(Span::styled(" find an agent (cluster/name, fuzzy) ", theme.muted)),
        );
        q.set_style(theme.text);
        q.set_cursor_style(theme.row_selected);
        frame.render_widget(&q, query);
        let (add, remove) = self.changes();
        let targets = (0..self.agents.len()).filter(|i| self.will_target(*i)).count();
        let line = match &self.banner {
            Some(b) => Line::styled(b.clone(), theme.error),
            None if self.busy => Line::styled("applying…", theme.muted),
            None if self.form.is_some() => Line::from(vec![
                Span::styled(format!("{} of {} agents", self.matches.len(), self.agents.len()), theme.muted),
                Span::styled(format!(" · {targets} chosen"), theme.text),
            ]),
            None => Line::from(vec![
                Span::styled(format!("{} of {} agents", self.matches.len(), self.agents.len()), theme.muted),
                Span::styled(format!(" · {targets} targeted"), theme.text),
                Span::styled(format!(" · {} to add, {} to remove", add.len(), remove.len()), theme.title),
            ]),
        };
        frame.render_widget(Paragraph::new(line), summary);
        let height = usize::from(list.height);
        let first = self.selected.saturating_sub(height.saturating_sub(1));
        let mut lines = Vec::new();
        for (row, (i, idx)) in self.matches.iter().enumerate().skip(first).take(height) {
            let Some(a) = self.agents.get(*i) else { continue };
            let on = self.will_target(*i);
            let mark = match (self.toggled.contains(i), on) {
                (true, true) => "+ [✓] ",
                (true, false) => "− [ ] ",
                (false, true) => "  [✓] ",
                (false, false) => "  [ ] ",
            };
            let base = if row == self.selected { theme.row_selected } else { theme.text };
            let mut spans = vec![Span::styled(mark, if self.toggled.contains(i) { theme.title } else { base })];
            // Health first, in a column of its own, so that a stale or offline agent is seen
            // before it is ticked.
            let health = a.health.as_str();
            spans.push(Span::styled(format!("{health:<8} "), theme.status(health)));
            let label = format!("{}/{}", sanitize_cell(&a.cluster, 40), sanitize_cell(&a.name, 60));
            for (k, c) in label.chars().enumerate() {
                let style = if idx.contains(&k) { base.patch(theme.highlight) } else { base };
                spans.push(Span::styled(c.to_string(), style));
            }
            lines.push(Line::from(spans));
        }
        if self.matches.is_empty() {
            lines.push(Line::styled("  no agent matches", theme.muted));
        }
        frame.render_widget(Paragraph::new(lines), list);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn k(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn agent(name: &str, cluster: &str, targeted: bool) -> AgentChoice {
        AgentChoice {
            id: Uuid::new_v4(),
            name: name.into(),
            cluster: cluster.into(),
            targeted,
            health: crate::domain::health::Health::Healthy,
        }
    }

    #[test]
    fn the_picker_finds_toggles_and_reports_changes() {
        let agents = vec![
            agent("edge-a", "eu-west", false),
            agent("edge-b", "us-east", true),
            agent("core-1", "eu-west", false),
        ];
        let ids: Vec<Uuid> = agents.iter().map(|a| a.id).collect();
        let mut p = TargetPicker::new(Some(Uuid::nil()), "web", agents);
        assert_eq!(p.matches.first().map(|m| m.0), Some(1), "targets first without a query");
        for c in "euedgea".chars() {
            p.key(k(KeyCode::Char(c)), false, false);
        }
        assert_eq!(p.matches.len(), 1);
        assert_eq!(p.matches[0].0, 0);
        assert_eq!(p.matches[0].1.len(), 7, "every typed character is highlighted");
        p.key(k(KeyCode::Enter), false, false);
        for _ in 0..7 {
            p.key(k(KeyCode::Backspace), false, false);
        }
        for c in "us".chars() {
            p.key(k(KeyCode::Char(c)), false, false);
        }
        p.key(k(KeyCode::Enter), false, false);
        assert_eq!(p.changes(), (vec![ids[0]], vec![ids[1]]));
        assert!(p.will_target(0) && !p.will_target(1));
        p.key(k(KeyCode::Enter), false, false);
        assert_eq!(p.changes(), (vec![ids[0]], vec![]), "enter again undoes the toggle");
        assert_eq!(p.key(k(KeyCode::Char('s')), true, false), EditorKey::Send);
        let mut empty = TargetPicker::new(Some(Uuid::nil()), "web", Vec::new());
        assert_eq!(empty.key(k(KeyCode::Char('s')), true, false), EditorKey::Handled);
        assert!(empty.banner.is_some(), "nothing to apply says so");
    }
}

//! The Rollouts pane's two editors: the YAML editor that submits a stack's next deployment
//! object (checked as typed is submitted, then the diff against the desired object is reviewed
//! before anything is sent), and the picker of a stack's explicit agent targets (fuzzy search
//! over the live agents, Enter toggles, the changes are applied together).

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent};
use fuzzy_matcher::skim::SkimMatcherV2;
use fuzzy_matcher::FuzzyMatcher;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use tui_textarea::{CursorMove, TextArea};
use uuid::Uuid;

use crate::domain::rollout::{check_yaml, diff, DiffLine};
use crate::domain::text::sanitize_cell;
use crate::service::rollouts::AgentChoice;
use crate::ui::stack_detail::diff_lines;
use crate::ui::theme::Theme;

/// Where the YAML editor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Typing; the submit key checks the YAML and shows the diff.
    Edit,
    /// The diff against the desired object; the submit key (or Enter) sends it.
    Review,
}

/// What a key did to an editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorKey {
    Handled,
    /// Send it to the service.
    Send,
    /// Close without sending.
    Close,
}

/// The next deployment object of a stack, being written.
#[derive(Debug, Clone)]
pub struct YamlEditor {
    pub stack: Uuid,
    pub name: String,
    /// The desired object's sequence when the editor opened: the service refuses the submission
    /// if another one arrived since (the diff reviewed would be wrong).
    pub over: Option<i64>,
    /// The desired object's YAML (the diff's left side; empty for a first object).
    pub current: String,
    pub text: TextArea<'static>,
    pub stage: Stage,
    /// What is wrong with the YAML (line and column), shown under the editor.
    pub error: Option<String>,
    /// The service's answer to the last submission.
    pub banner: Option<String>,
    pub busy: bool,
    pub diff: Vec<DiffLine>,
    /// The review's first line shown.
    pub scroll: u16,
    /// Esc was pressed once with changes: the next one discards them.
    pub discard_armed: bool,
    /// The text the editor opened with (leaving it untouched needs no second Esc).
    start: String,
}

impl YamlEditor {
    /// An editor starting from the desired object's YAML (or an example for a first object).
    pub fn new(stack: Uuid, name: &str, over: Option<i64>, current: String) -> YamlEditor {
        let start = if current.is_empty() {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n  namespace: default\ndata:\n  key: value\n",
                name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>().to_lowercase()
            )
        } else {
            current.clone()
        };
        let mut text = TextArea::from(start.lines().map(str::to_string).collect::<Vec<_>>());
        let start = start.trim_end().to_string();
        text.set_cursor_line_style(Style::default());
        YamlEditor {
            stack,
            name: name.to_string(),
            over,
            current,
            text,
            stage: Stage::Edit,
            error: None,
            banner: None,
            busy: false,
            diff: Vec::new(),
            scroll: 0,
            discard_armed: false,
            start,
        }
    }

    /// The YAML as typed (with a final newline, as files have).
    pub fn yaml(&self) -> String {
        let mut y = self.text.lines().join("\n");
        y.push('\n');
        y
    }

    fn changed(&self) -> bool {
        self.yaml().trim_end() != self.current.trim_end()
    }

    /// Check the YAML by the broker's rules; on success show the diff for review, else show the
    /// problem and put the cursor where it is.
    pub fn check(&mut self) {
        self.banner = None;
        let yaml = self.yaml();
        match check_yaml(&yaml) {
            Err(e) => {
                let row = u16::try_from(e.line.saturating_sub(1)).unwrap_or(u16::MAX);
                let col = u16::try_from(e.column.saturating_sub(1)).unwrap_or(u16::MAX);
                self.text.move_cursor(CursorMove::Jump(row, col));
                self.error = Some(e.to_string());
            }
            Ok(_) if !self.changed() => {
                self.error =
                    Some("nothing changed: this is the desired object (r on the list re-submits it as it is)".into());
            }
            Ok(_) => {
                self.error = None;
                self.diff = diff(&self.current, &yaml);
                self.scroll = 0;
                self.stage = Stage::Review;
            }
        }
    }

    /// A key: `submit` and `back` are the keymap's verdict on it (the form section's submit and
    /// the global back).
    pub fn key(&mut self, key: KeyEvent, submit: bool, back: bool) -> EditorKey {
        if self.busy {
            return EditorKey::Handled;
        }
        match self.stage {
            Stage::Edit => {
                if submit {
                    self.check();
                } else if back {
                    if self.yaml().trim_end() == self.start || self.discard_armed {
                        return EditorKey::Close;
                    }
                    self.discard_armed = true;
                    self.banner = Some("esc again discards your changes".into());
                } else {
                    self.discard_armed = false;
                    if self.banner.as_deref() == Some("esc again discards your changes") {
                        self.banner = None;
                    }
                    self.text.input(key);
                }
            }
            Stage::Review => {
                if submit || key.code == KeyCode::Enter {
                    self.busy = true;
                    self.banner = None;
                    return EditorKey::Send;
                }
                if back {
                    self.stage = Stage::Edit;
                    return EditorKey::Handled;
                }
                match key.code {
                    KeyCode::Down | KeyCode::Char('j') => self.scroll = self.scroll.saturating_add(1),
                    KeyCode::Up | KeyCode::Char('k') => self.scroll = self.scroll.saturating_sub(1),
                    KeyCode::PageDown => self.scroll = self.scroll.saturating_add(10),
                    KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(10),
                    _ => {}
                }
            }
        }
        EditorKey::Handled
    }

    /// The service refused it: back to editing, with its message (under the editor when it is
    /// about the YAML).
    pub fn refused(&mut self, message: String, about_yaml: bool) {
        self.busy = false;
        self.stage = Stage::Edit;
        if about_yaml {
            self.error = Some(message);
        } else {
            self.banner = Some(message);
        }
    }

    pub fn paste(&mut self, text: &str) {
        if self.stage == Stage::Edit && !self.busy {
            self.text.insert_str(text);
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, keys: Line<'static>) {
        let popup = popup(area, 110);
        let over = self.over.map_or("its first object".to_string(), |s| format!("after #{s}"));
        let title = match self.stage {
            Stage::Edit => format!(" Next version of {} ({over}) ", sanitize_cell(&self.name, 60)),
            Stage::Review => format!(" Review: {} ({over}) ", sanitize_cell(&self.name, 60)),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border_focused)
            .title(Span::styled(title, theme.title))
            .title_bottom(keys);
        let inner = block.inner(popup);
        crate::ui::widgets::clear(frame, popup, theme);
        frame.render_widget(block, popup);
        let banner = u16::from(self.banner.is_some() || self.busy);
        let [top, body, bottom] =
            Layout::vertical([Constraint::Length(banner), Constraint::Min(1), Constraint::Length(2)]).areas(inner);
        if banner > 0 {
            let (text, style) = match &self.banner {
                Some(b) => (sanitize_cell(b, 1_000), theme.error),
                None => ("submitting…".to_string(), theme.muted),
            };
            frame.render_widget(Paragraph::new(Line::styled(text, style)), top);
        }
        match self.stage {
            Stage::Edit => {
                let mut t = self.text.clone();
                t.set_block(Block::default().borders(Borders::ALL).border_style(theme.border));
                t.set_style(theme.text);
                t.set_cursor_style(theme.row_selected);
                t.set_line_number_style(theme.muted);
                frame.render_widget(&t, body);
                let line = match &self.error {
                    Some(e) => Line::styled(format!("✗ {e}"), theme.error),
                    None => Line::styled(
                        "every document needs apiVersion, kind and metadata.name; the submit key checks it and shows the diff",
                        theme.muted,
                    ),
                };
                frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), bottom);
            }
            Stage::Review => {
                let (added, removed) = self.diff.iter().fold((0, 0), |(a, r), l| match l {
                    DiffLine::Added(_) => (a + 1, r),
                    DiffLine::Removed(_) => (a, r + 1),
                    DiffLine::Same(_) => (a, r),
                });
                let mut lines = vec![Line::styled(
                    format!(
                        "diff {} → the new object: +{added} −{removed} lines",
                        self.over.map_or("nothing".into(), |s| format!("#{s}"))
                    ),
                    theme.title,
                )];
                lines.extend(diff_lines(&self.diff, theme));
                frame.render_widget(
                    Paragraph::new(lines)
                        .block(Block::default().borders(Borders::ALL).border_style(theme.border))
                        .scroll((self.scroll, 0)),
                    body,
                );
                frame.render_widget(
                    Paragraph::new(Line::styled(
                        "the submit key or enter sends it as the next object (the service computes its checksum); esc goes back to editing",
                        theme.muted,
                    ))
                    .wrap(Wrap { trim: true }),
                    bottom,
                );
            }
        }
    }
}

/// A centred popup `width` wide (at most the area) and as tall as the area less a margin.
fn popup(area: Rect, width: u16) -> Rect {
    let [p] =
        Layout::vertical([Constraint::Length(area.height.saturating_sub(2).max(3))]).flex(Flex::Center).areas(area);
    let [p] = Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(p);
    p
}

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
    fn the_editor_checks_then_reviews_then_sends() {
        let current = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n".to_string();
        let mut e = YamlEditor::new(Uuid::nil(), "web", Some(7), current);
        assert_eq!(e.key(k(KeyCode::Char('x')), true, false), EditorKey::Handled);
        assert_eq!(e.error.as_deref().map(|m| m.starts_with("nothing changed")), Some(true), "{:?}", e.error);
        assert_eq!(e.stage, Stage::Edit);
        // Break the second line: the error names it and the cursor goes there.
        e.text.move_cursor(CursorMove::Jump(1, 0));
        e.text.delete_line_by_end();
        e.key(k(KeyCode::Char('x')), true, false);
        let error = e.error.clone().unwrap_or_default();
        assert!(error.contains("line 1") && error.contains("kind"), "{error}");
        // Fix it differently: the diff shows the change.
        e.text.move_cursor(CursorMove::Jump(1, 0));
        e.text.insert_str("kind: Secret");
        e.key(k(KeyCode::Char('x')), true, false);
        assert_eq!(e.stage, Stage::Review, "{:?}", e.error);
        assert!(e.diff.contains(&DiffLine::Removed("kind: ConfigMap".into())));
        assert!(e.diff.contains(&DiffLine::Added("kind: Secret".into())));
        assert_eq!(e.key(k(KeyCode::Esc), false, true), EditorKey::Handled);
        assert_eq!(e.stage, Stage::Edit, "esc goes back to editing");
        e.key(k(KeyCode::Char('x')), true, false);
        assert_eq!(e.key(k(KeyCode::Enter), false, false), EditorKey::Send);
        assert!(e.busy);
        assert_eq!(e.key(k(KeyCode::Enter), false, false), EditorKey::Handled, "one submission at a time");
        e.refused("changed since".into(), false);
        assert_eq!((e.stage, e.busy, e.banner.as_deref()), (Stage::Edit, false, Some("changed since")));
    }

    #[test]
    fn esc_with_changes_asks_again() {
        let mut e = YamlEditor::new(Uuid::nil(), "web", None, String::new());
        assert_eq!(e.key(k(KeyCode::Esc), false, true), EditorKey::Close, "an untouched first object closes");
        let mut e = YamlEditor::new(Uuid::nil(), "web", Some(1), "a: 1\n".into());
        e.key(k(KeyCode::Char('b')), false, false);
        assert_eq!(e.key(k(KeyCode::Esc), false, true), EditorKey::Handled);
        assert!(e.banner.is_some());
        assert_eq!(e.key(k(KeyCode::Esc), false, true), EditorKey::Close);
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

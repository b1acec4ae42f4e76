//! The line typed at the bottom: a `:` command (with history and tab completion), a `/` filter
//! of the list shown (applied as it is typed), or a search of an execution's log.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::calls::Awaiting;
use super::commands::COMMANDS;
use super::{App, Mode, Prompt, PromptKind, Tab};
use crate::domain::filter::Filter;

impl App {
    pub(super) fn prompt_key(&mut self, key: KeyEvent) {
        let Mode::Prompt(prompt) = &mut self.mode else { return };
        match key.code {
            KeyCode::Esc => {
                let kind = prompt.kind;
                self.mode = Mode::Normal;
                match kind {
                    PromptKind::Filter if self.tab == Tab::Marketplace => self.market.search_typed(None),
                    PromptKind::Filter => self.set_filter(String::new()),
                    PromptKind::Search => self.executions.search(None),
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
                    PromptKind::Search => self.executions.search(Some(&text)),
                    PromptKind::Filter if self.tab == Tab::Marketplace => {
                        with_pane!(self, market, Awaiting::Marketplace, |p, cx, fx| p
                            .search_entered(&text, &cx, &mut fx))
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
    pub(super) fn prompt_changed(&mut self) {
        let entity = self.entity();
        let Mode::Prompt(prompt) = &mut self.mode else { return };
        if prompt.kind != PromptKind::Filter {
            return;
        }
        let text = prompt.text();
        if self.tab == Tab::Marketplace {
            // Search as you type: every keystroke matches the catalogue in memory.
            return self.market.search_typed(Some(&text));
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
        let now = self.now;
        let request = self.list_mut().set_filter(text, now);
        self.outbox.extend(request);
    }

    pub(super) fn draw_prompt(&self, frame: &mut Frame, prompt: &Prompt, body: Rect, line: Rect) {
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

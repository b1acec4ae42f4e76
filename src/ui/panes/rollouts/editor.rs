//! The Rollouts pane's YAML editor, which submits a stack's next deployment object (checked as
//! typed is submitted, then the diff against the desired object is reviewed before anything is
//! sent); the agent picker beside it is `ui::target_picker`.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use tui_textarea::{CursorMove, TextArea};
use uuid::Uuid;

use super::detail::diff_lines;
use crate::domain::rollout::{check_yaml, diff, DiffLine};
use crate::domain::text::sanitize_cell;
use crate::ui::theme::Theme;
pub use crate::ui::widgets::{popup, EditorKey};

/// Where the YAML editor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Typing; the submit key checks the YAML and shows the diff.
    Edit,
    /// The diff against the desired object; the submit key (or Enter) sends it.
    Review,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn k(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
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
}

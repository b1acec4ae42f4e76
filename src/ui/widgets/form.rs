//! A generic form: single-line and multi-line text fields (tui-textarea), choices and checkboxes;
//! Tab/Shift-Tab move the focus, the message of a field's problem shows under it, a banner shows
//! the service's answer, and the submit and cancel keys are shown at the bottom.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use tui_textarea::TextArea;

use crate::ui::theme::Theme;

#[derive(Debug, Clone)]
pub enum Input {
    /// One line; Enter moves to the next field.
    Line(TextArea<'static>),
    /// Several lines; Enter starts a new line.
    Text(TextArea<'static>),
    /// One of several options: (value, label); left/right or space change it.
    Choice { options: Vec<(String, String)>, selected: usize },
    /// On or off; space toggles it.
    Check(bool),
    /// Things chosen in a picker of their own: (value, label); Enter or space opens the picker.
    Pick(Vec<(String, String)>),
}

#[derive(Debug, Clone)]
pub struct Field {
    /// The name the service's errors use for this field.
    pub key: &'static str,
    pub label: &'static str,
    pub hint: std::borrow::Cow<'static, str>,
    pub input: Input,
    pub error: Option<String>,
}

fn textarea(initial: &str) -> TextArea<'static> {
    let mut t = TextArea::from(initial.lines().map(str::to_string).collect::<Vec<_>>());
    t.set_cursor_line_style(Style::default());
    t
}

impl Field {
    pub fn line(key: &'static str, label: &'static str, hint: &'static str) -> Field {
        Field { key, label, hint: hint.into(), input: Input::Line(textarea("")), error: None }
    }

    pub fn text(key: &'static str, label: &'static str, hint: &'static str) -> Field {
        Field { key, label, hint: hint.into(), input: Input::Text(textarea("")), error: None }
    }

    pub fn choice(key: &'static str, label: &'static str, hint: &'static str, options: Vec<(String, String)>) -> Field {
        Field { key, label, hint: hint.into(), input: Input::Choice { options, selected: 0 }, error: None }
    }

    pub fn check(key: &'static str, label: &'static str, hint: &'static str, on: bool) -> Field {
        Field { key, label, hint: hint.into(), input: Input::Check(on), error: None }
    }

    /// A field whose values are chosen in a picker the form's owner opens (`FormKey::Pick`).
    pub fn pick(key: &'static str, label: &'static str, hint: &'static str) -> Field {
        Field { key, label, hint: hint.into(), input: Input::Pick(Vec::new()), error: None }
    }

    /// The same field, holding `text` to start with.
    pub fn with_value(mut self, text: &str) -> Field {
        match &mut self.input {
            Input::Line(t) | Input::Text(t) => {
                *t = textarea(text);
                t.move_cursor(tui_textarea::CursorMove::Bottom);
                t.move_cursor(tui_textarea::CursorMove::End);
            }
            _ => {}
        }
        self
    }

    /// The same field with another hint (one made at run time).
    pub fn with_hint(mut self, hint: String) -> Field {
        self.hint = hint.into();
        self
    }

    /// A choice field starting on the option whose value is `value` (the first when none is).
    pub fn choosing(mut self, value: &str) -> Field {
        if let Input::Choice { options, selected } = &mut self.input {
            *selected = options.iter().position(|o| o.0 == value).unwrap_or(0);
        }
        self
    }

    /// The field's value as text (a choice's value, "true"/"false" for a checkbox).
    pub fn value(&self) -> String {
        match &self.input {
            Input::Line(t) | Input::Text(t) => t.lines().join("\n"),
            Input::Choice { options, selected } => options.get(*selected).map(|o| o.0.clone()).unwrap_or_default(),
            Input::Check(on) => on.to_string(),
            Input::Pick(chosen) => chosen.iter().map(|c| c.0.as_str()).collect::<Vec<_>>().join(","),
        }
    }

    /// A picked field's values, one by one.
    pub fn picked(&self) -> &[(String, String)] {
        match &self.input {
            Input::Pick(chosen) => chosen,
            _ => &[],
        }
    }

    /// Rows the field's input takes.
    fn height(&self) -> u16 {
        match &self.input {
            Input::Text(_) => 4,
            Input::Line(_) => 3,
            _ => 1,
        }
    }
}

/// What a key did to the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKey {
    Handled,
    /// Enter on the last single-line field, or the submit key.
    Submit,
    /// Enter or space on a picked field: its owner opens the picker.
    Pick(&'static str),
}

#[derive(Debug, Clone)]
pub struct Form {
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// The service's answer to the last submit (an error), shown on top.
    pub banner: Option<String>,
    /// A submit is on its way.
    pub busy: bool,
}

impl Form {
    pub fn new(title: impl Into<String>, fields: Vec<Field>) -> Form {
        Form { title: title.into(), fields, focus: 0, banner: None, busy: false }
    }

    pub fn next(&mut self) {
        self.focus = (self.focus + 1) % self.fields.len().max(1);
    }

    pub fn prev(&mut self) {
        let n = self.fields.len().max(1);
        self.focus = (self.focus + n - 1) % n;
    }

    pub fn value(&self, key: &str) -> String {
        self.fields.iter().find(|f| f.key == key).map(Field::value).unwrap_or_default()
    }

    /// The field named `key`.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Put what the picker chose into the picked field `key`.
    pub fn set_picked(&mut self, key: &str, chosen: Vec<(String, String)>) {
        if let Some(f) = self.fields.iter_mut().find(|f| f.key == key) {
            f.input = Input::Pick(chosen);
            f.error = None;
        }
    }

    /// Show `message` under the field `key` (or in the banner when no field has that name).
    pub fn set_error(&mut self, key: &str, message: String) {
        match self.fields.iter_mut().find(|f| f.key == key) {
            Some(f) => f.error = Some(message),
            None => self.banner = Some(message),
        }
    }

    pub fn clear_errors(&mut self) {
        self.banner = None;
        for f in &mut self.fields {
            f.error = None;
        }
    }

    /// A key that is not one of the form's bound keys goes to the focused field.
    pub fn key(&mut self, key: KeyEvent) -> FormKey {
        let last = self.focus + 1 == self.fields.len();
        let Some(field) = self.fields.get_mut(self.focus) else { return FormKey::Handled };
        match &mut field.input {
            Input::Line(t) => {
                if key.code == KeyCode::Enter {
                    if last {
                        return FormKey::Submit;
                    }
                    self.next();
                } else {
                    t.input(key);
                }
            }
            Input::Text(t) => {
                t.input(key);
            }
            Input::Choice { options, selected } => {
                let n = options.len().max(1);
                match key.code {
                    KeyCode::Right | KeyCode::Char(' ') | KeyCode::Char('l') => *selected = (*selected + 1) % n,
                    KeyCode::Left | KeyCode::Char('h') => *selected = (*selected + n - 1) % n,
                    KeyCode::Enter if last => return FormKey::Submit,
                    KeyCode::Enter => self.next(),
                    _ => {}
                }
            }
            Input::Check(on) => match key.code {
                KeyCode::Char(' ') => *on = !*on,
                KeyCode::Enter if last => return FormKey::Submit,
                KeyCode::Enter => self.next(),
                _ => {}
            },
            Input::Pick(_) => {
                if matches!(key.code, KeyCode::Enter | KeyCode::Char(' ')) {
                    return FormKey::Pick(field.key);
                }
            }
        }
        FormKey::Handled
    }

    /// Pasted text goes into the focused text field (a single-line field keeps one line).
    pub fn paste(&mut self, text: &str) {
        if let Some(field) = self.fields.get_mut(self.focus) {
            match &mut field.input {
                Input::Line(t) => {
                    t.insert_str(text.lines().next().unwrap_or(""));
                }
                Input::Text(t) => {
                    t.insert_str(text);
                }
                _ => {}
            }
        }
    }

    /// The fields drawn in `rows` rows: from the first that keeps the focused one in view.
    fn window(&self, rows: u16) -> std::ops::Range<usize> {
        let h = |f: &Field| 1 + f.height() + 1;
        let mut first = 0;
        while first < self.focus && self.fields[first..=self.focus].iter().map(h).sum::<u16>() > rows {
            first += 1;
        }
        let mut end = first;
        let mut used = 0;
        while end < self.fields.len() && used + h(&self.fields[end]) <= rows {
            used += h(&self.fields[end]);
            end += 1;
        }
        first..end.max((first + 1).min(self.fields.len()))
    }

    /// Draw the form centred in `area`; `keys` is the line of key hints for the bottom. A form
    /// taller than the screen scrolls with the focus and says how many fields are above and below.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, keys: Line<'static>) {
        let banner_height = u16::from(self.banner.is_some() || self.busy) * 2;
        let fields_height: u16 = self.fields.iter().map(|f| 1 + f.height() + 1).sum();
        let height = (fields_height + banner_height + 3).min(area.height);
        let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
        let [popup] = Layout::horizontal([Constraint::Length(76.min(area.width))]).flex(Flex::Center).areas(popup);
        let shown = self.window(height.saturating_sub(2 + banner_height));
        let mut block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border_focused)
            .title(Span::styled(format!(" {} ", self.title), theme.title))
            .title_bottom(keys);
        if shown.start > 0 {
            block = block.title(Line::styled(format!(" ↑ {} more ", shown.start), theme.key_hint).right_aligned());
        }
        if shown.end < self.fields.len() {
            let below = self.fields.len() - shown.end;
            block = block.title_bottom(Line::styled(format!(" ↓ {below} more "), theme.key_hint).right_aligned());
        }
        let inner = block.inner(popup);
        crate::ui::widgets::clear(frame, popup, theme);
        frame.render_widget(block, popup);

        let mut constraints = Vec::new();
        if banner_height > 0 {
            constraints.push(Constraint::Length(banner_height));
        }
        for f in &self.fields[shown.clone()] {
            constraints.push(Constraint::Length(1));
            constraints.push(Constraint::Length(f.height()));
            constraints.push(Constraint::Length(1));
        }
        constraints.push(Constraint::Min(0));
        let rows = Layout::vertical(constraints).split(inner);
        let mut i = 0;
        if banner_height > 0 {
            let (text, style) = match &self.banner {
                Some(b) => (crate::domain::text::sanitize_cell(b, 1_000), theme.error),
                None => ("working…".to_string(), theme.muted),
            };
            frame.render_widget(Paragraph::new(Line::styled(text, style)).wrap(Wrap { trim: true }), rows[0]);
            i = 1;
        }
        for (n, f) in self.fields.iter().enumerate().skip(shown.start).take(shown.len()) {
            let focused = n == self.focus;
            let label_style = if focused { theme.title } else { theme.text };
            let label = Line::from(vec![
                Span::styled(f.label, label_style),
                Span::styled(if f.hint.is_empty() { String::new() } else { format!("  {}", f.hint) }, theme.muted),
            ]);
            frame.render_widget(Paragraph::new(label), rows[i]);
            let input_area = rows[i + 1];
            match &f.input {
                Input::Line(t) | Input::Text(t) => {
                    let mut t = t.clone();
                    let border = if focused { theme.border_focused } else { theme.border };
                    let mut block = Block::default().borders(Borders::ALL).border_style(border);
                    // More lines than the box shows: say where the cursor is among how many.
                    let lines = t.lines().len();
                    if lines > usize::from(input_area.height.saturating_sub(2)) {
                        let at = t.cursor().0 + 1;
                        block = block.title_bottom(
                            Line::styled(format!(" line {at} of {lines} "), theme.key_hint).right_aligned(),
                        );
                    }
                    t.set_block(block);
                    t.set_style(theme.text);
                    t.set_cursor_style(if focused { theme.row_selected } else { theme.text });
                    frame.render_widget(&t, input_area);
                }
                Input::Choice { options, selected } => {
                    let mut spans = vec![Span::styled(if focused { "◂ " } else { "  " }, theme.key_hint)];
                    let all: usize = options.iter().map(|o| o.1.chars().count() + 2).sum::<usize>() + 4;
                    // Too many to show side by side: the chosen one and where it is among them.
                    let window: Vec<(usize, &(String, String))> = if all > input_area.width as usize {
                        options.get(*selected).map(|o| (*selected, o)).into_iter().collect()
                    } else {
                        options.iter().enumerate().collect()
                    };
                    for (k, (_, label)) in window {
                        let style = if k == *selected {
                            if focused {
                                theme.row_selected
                            } else {
                                theme.title
                            }
                        } else {
                            theme.muted
                        };
                        spans.push(Span::styled(format!(" {label} "), style));
                    }
                    if options.is_empty() {
                        spans.push(Span::styled("(none to choose from)", theme.error));
                    } else if all > input_area.width as usize {
                        spans.push(Span::styled(format!(" {} of {}", selected + 1, options.len()), theme.muted));
                    }
                    spans.push(Span::styled(if focused { " ▸" } else { "" }, theme.key_hint));
                    frame.render_widget(Paragraph::new(Line::from(spans)), input_area);
                }
                Input::Check(on) => {
                    let style = if focused { theme.row_selected } else { theme.text };
                    let text = if *on { "[x]" } else { "[ ]" };
                    frame.render_widget(Paragraph::new(Line::styled(format!("  {text}"), style)), input_area);
                }
                Input::Pick(chosen) => {
                    let style = if focused { theme.row_selected } else { theme.text };
                    let labels: Vec<&str> = chosen.iter().map(|c| c.1.as_str()).collect();
                    let text =
                        if chosen.is_empty() { "none".to_string() } else { crate::domain::text::first_few(&labels, 3) };
                    let line = Line::from(vec![
                        Span::styled(format!("  {text} "), style),
                        Span::styled(if focused { "  enter: choose" } else { "" }, theme.key_hint),
                    ]);
                    frame.render_widget(Paragraph::new(line), input_area);
                }
            }
            if let Some(e) = &f.error {
                frame.render_widget(
                    Paragraph::new(Line::styled(
                        format!("  ✗ {}", crate::domain::text::sanitize_cell(e, 1_000)),
                        theme.error,
                    )),
                    rows[i + 2],
                );
            }
            i += 3;
        }
    }
}

/// A confirmation for a destructive verb: an optional reason, Cancel (the default) and Confirm.
#[derive(Debug, Clone)]
pub struct Confirm {
    pub title: String,
    pub question: String,
    pub confirm_label: String,
    pub reason: TextArea<'static>,
    pub focus: ConfirmFocus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmFocus {
    Cancel,
    Confirm,
    Reason,
}

/// What a key did to the confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmKey {
    Handled,
    Cancelled,
    Confirmed,
}

impl Confirm {
    pub fn new(title: impl Into<String>, question: impl Into<String>, confirm_label: impl Into<String>) -> Confirm {
        Confirm {
            title: title.into(),
            question: question.into(),
            confirm_label: confirm_label.into(),
            reason: textarea(""),
            focus: ConfirmFocus::Cancel,
        }
    }

    pub fn next(&mut self) {
        self.focus = match self.focus {
            ConfirmFocus::Cancel => ConfirmFocus::Confirm,
            ConfirmFocus::Confirm => ConfirmFocus::Reason,
            ConfirmFocus::Reason => ConfirmFocus::Cancel,
        };
    }

    pub fn prev(&mut self) {
        self.focus = match self.focus {
            ConfirmFocus::Cancel => ConfirmFocus::Reason,
            ConfirmFocus::Confirm => ConfirmFocus::Cancel,
            ConfirmFocus::Reason => ConfirmFocus::Confirm,
        };
    }

    /// The reason typed, if any.
    pub fn reason(&self) -> Option<String> {
        let r = self.reason.lines().join(" ").trim().to_string();
        (!r.is_empty()).then_some(r)
    }

    pub fn key(&mut self, key: KeyEvent) -> ConfirmKey {
        match (self.focus, key.code) {
            (ConfirmFocus::Cancel, KeyCode::Enter) => ConfirmKey::Cancelled,
            (ConfirmFocus::Confirm, KeyCode::Enter) => ConfirmKey::Confirmed,
            (ConfirmFocus::Reason, KeyCode::Enter) => {
                self.focus = ConfirmFocus::Confirm;
                ConfirmKey::Handled
            }
            (ConfirmFocus::Reason, _) => {
                self.reason.input(key);
                ConfirmKey::Handled
            }
            (_, KeyCode::Left | KeyCode::Right) => {
                self.focus =
                    if self.focus == ConfirmFocus::Cancel { ConfirmFocus::Confirm } else { ConfirmFocus::Cancel };
                ConfirmKey::Handled
            }
            _ => ConfirmKey::Handled,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, keys: Line<'static>) {
        let [popup] = Layout::vertical([Constraint::Length(11)]).flex(Flex::Center).areas(area);
        let [popup] = Layout::horizontal([Constraint::Length(64.min(area.width))]).flex(Flex::Center).areas(popup);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.error)
            .title(Span::styled(format!(" {} ", self.title), theme.error))
            .title_bottom(keys);
        let inner = block.inner(popup);
        crate::ui::widgets::clear(frame, popup, theme);
        frame.render_widget(block, popup);
        let [question, _, label, reason, buttons] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(3),
            Constraint::Length(1),
        ])
        .areas(inner);
        frame.render_widget(
            Paragraph::new(Line::styled(self.question.clone(), theme.text)).wrap(Wrap { trim: true }),
            question,
        );
        frame.render_widget(
            Paragraph::new(Line::styled("Reason (optional, recorded in the audit log)", theme.muted)),
            label,
        );
        let mut r = self.reason.clone();
        let focused = self.focus == ConfirmFocus::Reason;
        r.set_block(Block::default().borders(Borders::ALL).border_style(if focused {
            theme.border_focused
        } else {
            theme.border
        }));
        r.set_style(theme.text);
        r.set_cursor_style(if focused { theme.row_selected } else { theme.text });
        frame.render_widget(&r, reason);
        let button = |label: &str, on: bool| {
            Span::styled(format!("[ {label} ]"), if on { theme.row_selected } else { theme.text })
        };
        let line = Line::from(vec![
            // "Back", not "Cancel": the cancel dialog read "[ Cancel ] [ Cancel execution ]".
            button("Back", self.focus == ConfirmFocus::Cancel),
            Span::raw("   "),
            button(&self.confirm_label, self.focus == ConfirmFocus::Confirm),
        ])
        .centered();
        frame.render_widget(Paragraph::new(line), buttons);
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
    fn fields_take_typing_and_report_their_values() {
        let mut f = Form::new(
            "t",
            vec![
                Field::line("name", "Name", ""),
                Field::choice("g", "G", "", vec![("a".into(), "A".into()), ("b".into(), "B".into())]),
                Field::check("dry", "Dry", "", false),
            ],
        );
        for c in "web".chars() {
            f.key(k(KeyCode::Char(c)));
        }
        assert_eq!(f.key(k(KeyCode::Enter)), FormKey::Handled, "enter moves on");
        assert_eq!(f.focus, 1);
        f.key(k(KeyCode::Right));
        f.next();
        f.key(k(KeyCode::Char(' ')));
        assert_eq!((f.value("name"), f.value("g"), f.value("dry")), ("web".into(), "b".into(), "true".into()));
        assert_eq!(f.key(k(KeyCode::Enter)), FormKey::Submit, "enter on the last field submits");
        f.set_error("name", "taken".into());
        f.set_error("nothing", "banner".into());
        assert_eq!(f.fields[0].error.as_deref(), Some("taken"));
        assert_eq!(f.banner.as_deref(), Some("banner"));
        f.clear_errors();
        assert!(f.banner.is_none() && f.fields[0].error.is_none());
    }

    #[test]
    fn a_confirmation_defaults_to_cancel() {
        let mut c = Confirm::new("Cancel", "Cancel 1 execution?", "Cancel execution");
        assert_eq!(c.key(k(KeyCode::Enter)), ConfirmKey::Cancelled);
        c.next();
        c.next();
        for ch in "stuck".chars() {
            c.key(k(KeyCode::Char(ch)));
        }
        assert_eq!(c.reason().as_deref(), Some("stuck"));
        assert_eq!(c.key(k(KeyCode::Enter)), ConfirmKey::Handled, "enter in the reason moves to confirm");
        assert_eq!(c.key(k(KeyCode::Enter)), ConfirmKey::Confirmed);
    }

    #[test]
    fn a_tall_form_scrolls_with_the_focus_and_a_pick_opens_its_picker() {
        let mut fields: Vec<Field> = ["a", "b", "c", "d", "e", "f"]
            .into_iter()
            .map(|k| Field::line(k, k, "").with_value(&format!("value of {k}")))
            .collect();
        fields.push(Field::pick("agents", "Agents", ""));
        let mut f = Form::new("tall", fields);
        assert_eq!(f.window(20), 0..4, "five rows a line field: four fit in twenty");
        f.focus = 6;
        assert_eq!(f.window(20), 3..7, "the focused field is in view");
        let theme = crate::ui::theme::Theme::built_in("default").unwrap_or_else(|e| panic!("{e:?}"));
        let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        terminal.draw(|frame| f.draw(frame, frame.area(), &theme, Line::from("keys"))).unwrap();
        let text = format!("{:?}", terminal.backend().buffer());
        assert!(text.contains("↑ 3 more") && text.contains("Agents") && !text.contains("value of a"), "{text}");
        assert_eq!(f.key(k(KeyCode::Enter)), FormKey::Pick("agents"));
        f.set_picked("agents", vec![("1".into(), "c/one".into()), ("2".into(), "c/two".into())]);
        assert_eq!(f.value("agents"), "1,2");
        assert_eq!(f.field("agents").map(|x| x.picked().len()), Some(2));
    }
}

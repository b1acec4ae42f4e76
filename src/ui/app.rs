//! The dashboard's state, its `update` (an action changes state; never awaits) and its drawing
//! (reads state and nothing else).

use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Tabs, Wrap};
use ratatui::Frame;

use super::action::Action;
use super::keymap::{Keymap, Section};
use super::theme::Theme;

/// The four panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// Everything the screen shows.
#[derive(Debug, Clone)]
pub struct App {
    pub tab: Tab,
    pub quit: bool,
    pub help: bool,
    /// Where the data comes from, shown in the status bar.
    pub target: String,
    pub theme: Theme,
    pub keymap: Keymap,
}

impl App {
    pub fn new(theme: Theme, keymap: Keymap, target: String) -> App {
        App { tab: Tab::Marketplace, quit: false, help: false, target, theme, keymap }
    }

    /// A key becomes an action through the keymap.
    pub fn on_key(&mut self, key: KeyEvent) {
        if let Some(action) = self.keymap.action(self.tab.section(), &key, false) {
            self.update(action);
        }
    }

    /// Is this key the suspend action (which the terminal loop handles)?
    pub fn is_suspend(&self, key: &KeyEvent) -> bool {
        self.keymap.action(self.tab.section(), key, false) == Some(Action::Suspend)
    }

    /// The tab titles as drawn, and the columns each covers on the tab bar.
    fn tab_titles() -> Vec<(Tab, String)> {
        Tab::ALL.iter().enumerate().map(|(i, t)| (*t, format!(" {} {} ", i + 1, t.title()))).collect()
    }

    /// A click on a tab's title switches to it.
    pub fn on_mouse(&mut self, mouse: MouseEvent, area: Rect) {
        if mouse.kind != MouseEventKind::Down(MouseButton::Left) || mouse.row != area.y {
            return;
        }
        let mut start = area.x;
        for (tab, title) in Self::tab_titles() {
            let width = title.chars().count() as u16;
            if (start..start + width).contains(&mouse.column) {
                self.tab = tab;
                return;
            }
            start += width + 1; // the divider
        }
    }

    /// Change state for an action. Never awaits.
    pub fn update(&mut self, action: Action) {
        let n = Tab::ALL.len();
        match action {
            Action::Quit => self.quit = true,
            // Handled by the terminal loop, which owns the terminal.
            Action::Suspend => {}
            Action::Help => self.help = !self.help,
            Action::Back => self.help = false,
            Action::NextTab => self.tab = Tab::ALL[(self.tab.index() + 1) % n],
            Action::PrevTab => self.tab = Tab::ALL[(self.tab.index() + n - 1) % n],
            Action::GotoMarketplace => self.tab = Tab::Marketplace,
            Action::GotoFleet => self.tab = Tab::Fleet,
            Action::GotoRollouts => self.tab = Tab::Rollouts,
            Action::GotoExecutions => self.tab = Tab::Executions,
            // List movement: the panes' tables are not built yet.
            Action::Down
            | Action::Up
            | Action::Top
            | Action::Bottom
            | Action::HalfPageDown
            | Action::HalfPageUp
            | Action::PageDown
            | Action::PageUp => {}
        }
    }

    pub fn draw(&self, frame: &mut Frame) {
        let [tabs_area, body, status] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(frame.area());
        self.draw_tabs(frame, tabs_area);
        self.draw_body(frame, body);
        self.draw_status(frame, status);
        if self.help {
            self.draw_help(frame, body);
        }
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
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(self.theme.border_focused)
            .title(Span::styled(format!(" {} ", self.tab.title()), self.theme.title));
        let text = vec![Line::styled(format!("The {} pane is not built yet.", self.tab.title()), self.theme.muted)];
        frame.render_widget(Paragraph::new(text).block(block).wrap(Wrap { trim: true }), area);
    }

    /// The first key of an action, as the footer and help show it.
    fn first_key(&self, action: Action) -> Option<String> {
        [self.tab.section(), Section::Global]
            .iter()
            .find_map(|s| self.keymap.keys(*s, action).first())
            .map(|k| k.to_string())
    }

    fn draw_status(&self, frame: &mut Frame, area: Rect) {
        let mut spans = vec![Span::styled(" ", self.theme.status_bar)];
        for (action, label) in [(Action::Help, "help"), (Action::Quit, "quit"), (Action::NextTab, "next tab")] {
            if let Some(key) = self.first_key(action) {
                spans.push(Span::styled(key, self.theme.key_hint));
                spans.push(Span::styled(format!(" {label}  "), self.theme.status_bar));
            }
        }
        spans.push(Span::styled(format!("│ {}", self.target), self.theme.status_bar));
        frame.render_widget(Paragraph::new(Line::from(spans)).style(self.theme.status_bar), area);
    }

    /// Help, generated from the keymap: the global keys and the current pane's.
    fn draw_help(&self, frame: &mut Frame, area: Rect) {
        let mut lines = Vec::new();
        for section in [Section::Global, self.tab.section()] {
            let bindings = self.keymap.section(section);
            if bindings.is_empty() {
                continue;
            }
            lines.push(Line::styled(format!("{} keys", section.name()), self.theme.title));
            for (action, keys) in bindings {
                let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                lines.push(Line::from(vec![
                    Span::styled(format!("  {:<18}", keys.join(", ")), self.theme.key_hint),
                    Span::styled(action.help(), self.theme.text),
                ]));
            }
        }
        let height = (lines.len() as u16 + 2).min(area.height);
        let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
        let [popup] = Layout::horizontal([Constraint::Length(56.min(area.width))]).flex(Flex::Center).areas(popup);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(self.theme.border_focused)
            .title(Span::styled(" Help — ? or esc closes ", self.theme.title));
        frame.render_widget(Clear, popup);
        frame.render_widget(Paragraph::new(lines).block(block), popup);
    }
}

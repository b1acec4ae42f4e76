//! The dashboard's state and drawing. For now: the four tabs, switchable, and quitting.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Tabs, Wrap};
use ratatui::Frame;

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

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// Everything the screen shows.
#[derive(Debug, Clone)]
pub struct App {
    pub tab: Tab,
    pub quit: bool,
    /// Where the data comes from, shown in the status bar.
    pub target: String,
    pub theme: Theme,
}

impl App {
    pub fn new(theme: Theme, target: String) -> App {
        App { tab: Tab::Marketplace, quit: false, target, theme }
    }

    pub fn on_key(&mut self, key: KeyEvent) {
        match (key.code, key.modifiers) {
            (KeyCode::Char('q'), _) | (KeyCode::Char('c'), KeyModifiers::CONTROL) => self.quit = true,
            (KeyCode::Char(c @ '1'..='4'), _) => {
                let i = (c as usize) - ('1' as usize);
                self.tab = Tab::ALL[i];
            }
            (KeyCode::Tab, _) => self.tab = Tab::ALL[(self.tab.index() + 1) % Tab::ALL.len()],
            (KeyCode::BackTab, _) => self.tab = Tab::ALL[(self.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()],
            _ => {}
        }
    }

    pub fn draw(&self, frame: &mut Frame) {
        let [tabs_area, body, status] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(frame.area());
        self.draw_tabs(frame, tabs_area);
        self.draw_body(frame, body);
        self.draw_status(frame, status);
    }

    fn draw_tabs(&self, frame: &mut Frame, area: Rect) {
        let titles = Tab::ALL.iter().enumerate().map(|(i, t)| format!(" {} {} ", i + 1, t.title()));
        let tabs = Tabs::new(titles)
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

    fn draw_status(&self, frame: &mut Frame, area: Rect) {
        let line = Line::from(vec![
            Span::styled(" q", self.theme.key_hint),
            Span::styled(" quit  ", self.theme.status_bar),
            Span::styled("1-4/Tab", self.theme.key_hint),
            Span::styled(" switch  ", self.theme.status_bar),
            Span::styled(format!("│ {}", self.target), self.theme.status_bar),
        ]);
        frame.render_widget(Paragraph::new(line).style(self.theme.status_bar), area);
    }
}

//! The help screen: every key of the keymap for the pane in view, in one column that wraps
//! instead of cutting lines, scrolls (j/k, PageUp/PageDown, g/G) and searches (`/`), so that at
//! 80×24 every key is reachable.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::keymap::{Keymap, Section};
use super::theme::Theme;

/// Where the help screen is: how far down, and what it is narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Help {
    pub open: bool,
    pub scroll: u16,
    /// Only lines holding this (any case).
    pub search: String,
    /// Typing the search.
    pub typing: bool,
    /// The last drawn page's height and the most it can scroll (for the keys).
    page: std::cell::Cell<(u16, u16)>,
}

/// What a key did to the help screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpKey {
    Handled,
    Close,
    /// Not the help screen's: the app's keymap decides (quit, ? to close).
    Pass,
}

impl Help {
    pub fn show(&mut self) {
        *self = Help { open: true, ..Help::default() };
    }

    pub fn key(&mut self, key: KeyEvent) -> HelpKey {
        let (page, max) = self.page.get();
        if self.typing {
            match key.code {
                KeyCode::Enter => self.typing = false,
                KeyCode::Esc => {
                    self.typing = false;
                    self.search.clear();
                }
                KeyCode::Backspace => {
                    self.search.pop();
                }
                KeyCode::Char(c) => self.search.push(c),
                _ => {}
            }
            self.scroll = 0;
            return HelpKey::Handled;
        }
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => self.scroll = (self.scroll + 1).min(max),
            KeyCode::Char('k') | KeyCode::Up => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll = (self.scroll + page.max(1)).min(max),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(page.max(1)),
            KeyCode::Char('g') | KeyCode::Home => self.scroll = 0,
            KeyCode::Char('G') | KeyCode::End => self.scroll = max,
            KeyCode::Char('/') => {
                self.typing = true;
                self.search.clear();
            }
            KeyCode::Esc if !self.search.is_empty() => {
                self.search.clear();
                self.scroll = 0;
            }
            KeyCode::Esc => return HelpKey::Close,
            _ => return HelpKey::Pass,
        }
        HelpKey::Handled
    }

    /// The keys of `sections`, each section a heading, narrowed to the search.
    fn lines<'a>(&self, keymap: &Keymap, sections: &[Section], theme: &Theme) -> Vec<Line<'a>> {
        let needle = self.search.to_lowercase();
        let mut lines = Vec::new();
        for section in sections {
            let mut rows = Vec::new();
            for (action, keys) in keymap.section(*section) {
                let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
                let keys = keys.join(", ");
                if !needle.is_empty()
                    && !keys.to_lowercase().contains(&needle)
                    && !action.help().to_lowercase().contains(&needle)
                    && !action.name().contains(&needle)
                {
                    continue;
                }
                rows.push(Line::from(vec![
                    Span::styled(format!("  {keys:<14} "), theme.key_hint),
                    Span::styled(action.help(), theme.text),
                ]));
            }
            if rows.is_empty() {
                continue;
            }
            lines.push(Line::styled(format!("{} keys", section.name()), theme.title));
            lines.extend(rows);
            lines.push(Line::raw(""));
        }
        if lines.is_empty() {
            lines.push(Line::styled(format!("no key matches {:?} (esc clears the search)", self.search), theme.muted));
        }
        lines
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, keymap: &Keymap, sections: &[Section], theme: &Theme) {
        let lines = self.lines(keymap, sections, theme);
        let width = area.width.min(100);
        let inner_width = usize::from(width.saturating_sub(2)).max(1);
        // Lines once wrapped (the help's lines are short words: a character count is close).
        let wrapped: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner_width)).sum();
        let height = (wrapped as u16 + 2).min(area.height);
        let [popup] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
        let [popup] = Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(popup);
        let page = height.saturating_sub(2);
        let max = (wrapped as u16).saturating_sub(page);
        self.page.set((page, max));
        let scroll = self.scroll.min(max);
        let search = if self.typing || !self.search.is_empty() {
            format!(" /{}{} ", self.search, if self.typing { "▏" } else { "" })
        } else {
            " / searches ".to_string()
        };
        let position = if max > 0 {
            format!(" {}–{} of {wrapped} ", scroll + 1, (scroll + page).min(wrapped as u16))
        } else {
            String::new()
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border_focused)
            .title(Span::styled(" Help — ? or esc closes, j/k scroll ", theme.title))
            .title_bottom(Line::styled(search, theme.key_hint))
            .title_bottom(Line::styled(position, theme.muted).right_aligned());
        crate::ui::widgets::clear(frame, popup, theme);
        frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).scroll((scroll, 0)), popup);
    }
}

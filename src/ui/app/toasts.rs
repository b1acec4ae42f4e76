//! Toasts: a few words for a few seconds over the bottom of the body.

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::App;
use crate::domain::text::sanitize_cell;

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    pub until: DateTime<Utc>,
}

impl App {
    /// Say something for a few seconds (errors longer). The same words again refresh the one on
    /// screen instead of piling up; two at most.
    pub(super) fn toast(&mut self, text: String, error: bool) {
        let secs = if error { 8 } else { 4 };
        let until = self.now + chrono::Duration::seconds(secs);
        self.toasts.retain(|t| t.text != text);
        self.toasts.push_back(Toast { text, error, until });
        while self.toasts.len() > 2 {
            self.toasts.pop_front();
        }
    }

    pub(super) fn draw_toasts(&self, frame: &mut Frame, body: Rect) {
        // Over the bottom of the body (the table's lower border), never over its header.
        for (i, t) in self.toasts.iter().rev().enumerate() {
            let text = sanitize_cell(&t.text, 100);
            let width = (text.chars().count() as u16 + 4).min(body.width);
            let Some(y) = body.bottom().checked_sub(1 + i as u16).filter(|y| *y > body.y + 1) else { break };
            let area = Rect { x: body.right().saturating_sub(width + 1), y, width, height: 1 };
            let style = if t.error { self.theme.error } else { self.theme.ok };
            crate::ui::widgets::clear(frame, area, &self.theme);
            frame.render_widget(
                Paragraph::new(Line::styled(format!(" {} {text} ", if t.error { "✗" } else { "✓" }), style))
                    .style(self.theme.status_bar),
                area,
            );
        }
    }
}

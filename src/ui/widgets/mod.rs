//! Widgets the panes share.

pub mod columns;
pub mod form;
pub mod table;

/// The last guard before the terminal: a cell that holds a character the sanitiser would have
/// neutralised (a path that forgot [`crate::domain::text::sanitize_cell`]) is drawn as `�`.
/// Every string from the database is sanitised where it is read or drawn; this makes a forgotten
/// one visible instead of executed.
pub fn neutralise(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        if cell.symbol().chars().any(crate::domain::text::is_neutralised) {
            cell.set_symbol("\u{fffd}");
        }
    }
}

/// Clear `area` for a popup and paint the theme's own background there (a theme such as
/// `light` sets one, so that it reads on a dark terminal too).
pub fn clear(frame: &mut ratatui::Frame, area: ratatui::layout::Rect, theme: &crate::ui::theme::Theme) {
    frame.render_widget(ratatui::widgets::Clear, area);
    frame.render_widget(ratatui::widgets::Block::default().style(theme.text), area);
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

/// A centred popup `width` wide (at most the area) and as tall as the area less a margin.
pub fn popup(area: ratatui::layout::Rect, width: u16) -> ratatui::layout::Rect {
    use ratatui::layout::{Constraint, Flex, Layout};
    let [p] =
        Layout::vertical([Constraint::Length(area.height.saturating_sub(2).max(3))]).flex(Flex::Center).areas(area);
    let [p] = Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center).areas(p);
    p
}

/// A detail that scrolls by lines (the zoomed execution and stack details).
pub trait Scroll {
    fn scroll_by(&mut self, delta: i32);
    fn scroll_to_end(&mut self);
}

/// The keys every zoomed detail scrolls by: a line, a page of `page` lines, the top, the end.
/// False: not a scrolling key.
pub fn scroll_key(d: &mut impl Scroll, action: crate::ui::action::Action, page: i32) -> bool {
    use crate::ui::action::Action;
    match action {
        Action::Down => d.scroll_by(1),
        Action::Up => d.scroll_by(-1),
        Action::PageDown => d.scroll_by(page),
        Action::PageUp => d.scroll_by(-page),
        Action::Top => d.scroll_by(-i32::from(u16::MAX)),
        Action::Bottom => d.scroll_to_end(),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    #[test]
    fn a_control_character_in_a_cell_is_drawn_as_a_replacement() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 1));
        buf[(0, 0)].set_symbol("a");
        buf[(1, 0)].set_symbol("\u{1b}");
        buf[(2, 0)].set_symbol("\u{202e}");
        buf[(3, 0)].set_symbol("e\u{200b}");
        buf[(4, 0)].set_symbol("日");
        super::neutralise(&mut buf);
        let symbols: Vec<&str> = buf.content.iter().map(|c| c.symbol()).collect();
        assert_eq!(symbols, ["a", "\u{fffd}", "\u{fffd}", "\u{fffd}", "日", " "]);
    }
}

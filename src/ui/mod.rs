//! The terminal app. ratatui lives here only.

pub mod app;
pub mod theme;
pub mod tui;

//! The terminal app. ratatui lives here only.

pub mod action;
pub mod app;
pub mod exec_detail;
pub mod help;
pub mod keymap;
pub mod markdown;
pub mod market;
pub mod protocol;
pub mod rollout_forms;
pub mod stack_detail;
pub mod target_picker;
pub mod theme;
pub mod tui;
pub mod widgets;
pub mod workers;

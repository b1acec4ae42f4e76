//! The terminal app. ratatui lives here only.
//!
//! Layers, each importing only those below it: `protocol` (what the app and the workers say),
//! `workers` (IO; imports no pane), `list`, `modal` and `pane` (what every pane shares), the
//! `panes` (one folder each), and `app` (the shell, which holds the panes). See ARCHITECTURE.md.

pub mod action;
pub mod app;
pub mod feed;
pub mod help;
pub mod keymap;
pub mod list;
pub mod lists;
pub mod modal;
pub mod pane;
pub mod panes;
pub mod protocol;
pub mod target_picker;
pub mod theme;
pub mod tui;
pub mod widgets;
pub mod workers;

// The paths the panes' parts had before they moved into their panes' folders.
pub use panes::executions::detail as exec_detail;
pub use panes::marketplace as market;
pub use panes::marketplace::markdown;
pub use panes::rollouts::detail as stack_detail;
pub use panes::rollouts::editor as rollout_forms;

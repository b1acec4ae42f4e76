//! The four panes, one folder each. A pane owns its lists, its detail and forms, its keys, the
//! answers to its calls, its drawing and its footer; it reads the world through `pane::Ctx`
//! and acts on it through `pane::Effects`. No pane imports another, or the shell.

pub mod executions;
pub mod fleet;
pub mod marketplace;
pub mod rollouts;

use super::action::Action;

/// A list pane's footer hints: help, command, filter, the pane's own, mark, open, sort.
pub(crate) fn list_hints(own: Vec<(Action, &'static str)>, open: &'static str) -> Vec<(Action, &'static str)> {
    let mut hints = vec![(Action::Help, "help"), (Action::Command, "command"), (Action::Filter, "filter")];
    hints.extend(own);
    hints.extend([(Action::Mark, "mark"), (Action::Open, open), (Action::SortNext, "sort")]);
    hints
}

/// A zoomed detail's hints start with these: its keys follow.
pub(crate) fn zoomed_hints() -> Vec<(Action, &'static str)> {
    vec![(Action::Help, "help"), (Action::Back, "back"), (Action::Down, "scroll")]
}

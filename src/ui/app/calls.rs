//! Call bookkeeping: every one-shot call gets an id, and its answer is taken back to what
//! awaits it (a pane, or the shell for a verb whose answer is a toast).

use std::collections::HashMap;

use crate::ui::panes::{executions, fleet, marketplace, rollouts};

/// A one-shot call on its way, and what its answer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// A verb: its answer is a toast, and the list shown is read again.
    Toast,
    Marketplace(marketplace::Awaiting),
    Fleet(fleet::Awaiting),
    Rollouts(rollouts::Awaiting),
    Executions(executions::Awaiting),
}

/// The calls on their way: the last id given (the app numbers each call as it makes it) and
/// what awaits each answer.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    pub(super) next: u64,
    pub(super) waiting: HashMap<u64, Awaiting>,
}

impl Calls {
    /// What awaits the answer to call `id` (once: a second answer finds nothing).
    pub fn answered(&mut self, id: u64) -> Option<Awaiting> {
        self.waiting.remove(&id)
    }
}

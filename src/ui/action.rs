//! Named actions: what a key does. The keymap binds keys to these names, so a user's config can
//! rebind any of them; help and the footer are generated from the keymap.

use std::fmt;
use std::str::FromStr;

macro_rules! actions {
    ($($variant:ident = $name:literal : $help:literal,)*) => {
        /// Everything a key can ask for.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The name used in keymaps and configs.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// One line for the help screen.
            pub fn help(self) -> &'static str {
                match self {
                    $(Action::$variant => $help,)*
                }
            }
        }
    };
}

actions! {
    Quit = "quit": "quit fleetdeck",
    NextTab = "next_tab": "next tab",
    PrevTab = "prev_tab": "previous tab",
    GotoMarketplace = "goto_marketplace": "Marketplace tab",
    GotoFleet = "goto_fleet": "Fleet tab",
    GotoRollouts = "goto_rollouts": "Rollouts tab",
    GotoExecutions = "goto_executions": "Executions tab",
    Help = "help": "show or hide this help",
    Back = "back": "go back one level",
    Suspend = "suspend": "suspend to the shell (fg resumes)",
    Down = "down": "next row",
    Up = "up": "previous row",
    Top = "top": "first row",
    Bottom = "bottom": "last row",
    HalfPageDown = "half_page_down": "half a page down",
    HalfPageUp = "half_page_up": "half a page up",
    PageDown = "page_down": "a page down",
    PageUp = "page_up": "a page up",
    Command = "command": "command mode; tab completes",
    Filter = "filter": "filter (/!x inverse, /=x exact, /-l k=v)",
    Refresh = "refresh": "read the list again now",
    NextView = "next_view": "next list of this pane",
    PrevView = "prev_view": "previous list of this pane",
    SortNext = "sort_next": "sort by the next column (shift+letter: that one)",
    SortReverse = "sort_reverse": "reverse the sort",
    Mark = "mark": "mark or unmark the row",
    MarkRange = "mark_range": "mark from the last mark to here",
    Open = "open": "open the detail split",
    Zoom = "zoom": "zoom the detail",
    Facets = "facets": "open or close the facets panel (space picks a value)",
    ClearFacet = "clear_facet": "facets panel: clear the facet under the cursor",
    Deploy = "deploy": "deploy the package or app (form: new or existing stack)",
    NewStack = "new_stack": "new stack (form)",
    EditObject = "edit_object": "write the stack's next version in the YAML editor (diff before submit)",
    Resubmit = "resubmit": "submit the stack's desired object again (confirm; agents reconcile)",
    Targets = "targets": "add or remove the stack's explicit agent targets (fuzzy picker)",
    Activate = "activate": "activate the agent(s) or host(s)",
    Deactivate = "deactivate": "deactivate the agent(s); hosts: maintenance (confirm)",
    EditLabels = "edit_labels": "edit the agent's labels and annotations (form)",
    Delete = "delete": "soft-delete the agent(s), host(s) or stack (confirm, reason)",
    Pause = "pause": "pause the execution(s)",
    Resume = "resume": "resume the execution(s)",
    Cancel = "cancel": "cancel the execution(s) (confirm)",
    Retry = "retry": "retry the execution(s) (confirm)",
    StatusNext = "status_next": "show only the next status (health) of the header",
    StatusPrev = "status_prev": "show only the previous status (health) of the header",
    Follow = "follow": "logs: follow the end",
    Wrap = "wrap": "logs: wrap long lines",
    Timestamps = "timestamps": "logs: show or hide timestamps",
    Search = "search": "logs: search",
    ChainNext = "chain_next": "retry chain: next entry; stack timeline: older object",
    ChainPrev = "chain_prev": "retry chain: previous entry; stack timeline: newer object",
    Diff = "diff": "stack detail: the diff from the previous object, or the YAML",
    OpenChain = "open_chain": "retry chain: open the entry",
    Submit = "submit": "submit the form",
    NextField = "next_field": "next field",
    PrevField = "prev_field": "previous field",
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL.iter().copied().find(|a| a.name() == s).ok_or_else(|| format!("unknown action {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for a in Action::ALL {
            assert_eq!(a.name().parse::<Action>(), Ok(*a));
            assert!(seen.insert(a.name()), "{a}");
            assert!(!a.help().is_empty());
        }
        assert!("fly".parse::<Action>().is_err());
    }
}

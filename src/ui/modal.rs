//! What can lie on top of a pane and take the keys: the `:`/`/` line, a form, a confirmation,
//! the YAML editor, the agent picker. The types live here, below both the shell (which routes
//! keys to them and draws them) and the panes (which open them and say what they are for).

use tui_textarea::TextArea;
use uuid::Uuid;

use super::panes::rollouts::editor::YamlEditor;
use super::target_picker::TargetPicker;
use super::widgets::form::{Confirm, Form};
use crate::domain::execution::Verb;
use crate::service::deploy::DeployFor;
use crate::service::fleet::{Deletable, Tags};
use crate::service::listing::Entity;

/// A line being typed at the bottom: a command or a filter.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: TextArea<'static>,
    /// Where in the history Up/Down is (commands only).
    pub history_at: Option<usize>,
    /// What is wrong with the input, shown in place of the completions.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Command,
    Filter,
    /// Search the execution's log.
    Search,
}

impl Prompt {
    pub fn new(kind: PromptKind, text: &str) -> Prompt {
        let mut input = TextArea::from([text.to_string()]);
        input.move_cursor(tui_textarea::CursorMove::End);
        input.set_cursor_line_style(ratatui::style::Style::default());
        Prompt { kind, input, history_at: None, error: None }
    }

    pub fn text(&self) -> String {
        self.input.lines().first().cloned().unwrap_or_default()
    }

    pub fn set_text(&mut self, text: &str) {
        *self = Prompt { history_at: self.history_at, ..Prompt::new(self.kind, text) };
    }
}

/// What is on top of the list and takes the keys.
#[derive(Debug, Clone)]
pub enum Mode {
    Normal,
    Prompt(Box<Prompt>),
    Form(Box<Form>),
    Confirm(Box<Confirm>, Pending),
    /// The YAML editor of a stack's next deployment object.
    Editor(Box<YamlEditor>),
    /// The picker of a stack's explicit agent targets.
    Targets(Box<TargetPicker>),
}

/// What a confirmation will do.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    Executions { verb: Verb, ids: Vec<Uuid> },
    Fleet { entity: Entity, active: bool, ids: Vec<Uuid> },
    Delete { what: Deletable, ids: Vec<Uuid> },
    Resubmit { stack: Uuid },
}

/// What the open form is for (and so which pane it answers to).
#[derive(Debug, Clone, PartialEq)]
pub enum FormFor {
    /// The Rollouts pane's new stack.
    NewStack,
    /// A Marketplace deploy.
    Deploy(DeployFor),
    /// The Fleet pane's agent labels and annotations, as they were when the form opened.
    AgentTags { agent: Uuid, expected: Tags },
}

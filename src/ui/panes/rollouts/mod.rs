//! The Rollouts pane: stacks, the detail of one (its objects, what each targeted agent
//! reported, the diff between objects), the new-stack form, the YAML editor of the next object,
//! the targets picker, re-submission and deletion.

pub mod detail;
pub mod editor;

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::Frame;
use uuid::Uuid;

use self::detail::StackDetail;
use self::editor::{EditorKey, YamlEditor};
use crate::domain::broker::StackDraft;
use crate::domain::text::sanitize_cell;
use crate::service::fleet::Deletable;
use crate::service::listing::Entity;
use crate::ui::action::Action;
use crate::ui::keymap::Section;
use crate::ui::list::{Landed, List};
use crate::ui::lists::{body_areas, Lists};
use crate::ui::modal::{FormFor, Mode, Pending};
use crate::ui::pane::{form_refused, form_to_submit, Ctx, Detail, Effects};
use crate::ui::protocol::{Command, Outcome};
use crate::ui::target_picker::TargetPicker;
use crate::ui::widgets::form::{Confirm, Field, Form};
use crate::ui::widgets::scroll_key;

/// A call the pane awaits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// Generators for the new-stack form.
    OpenStackForm,
    StackForm,
    /// The stack detail of this stack.
    StackDetail(Uuid),
    /// A stack's desired object, to open the YAML editor.
    OpenEditor,
    /// The answer to the editor's submission.
    EditorSubmit,
    /// The agents, to open the targets picker.
    OpenTargets,
    /// The answer to the picker's changes.
    TargetsApply,
}

type Fx = Effects<Awaiting>;

/// The states the `f` key cycles through.
const STATES: [&str; 5] = ["failing", "in-progress", "unreached", "complete", "deleted"];

#[derive(Debug, Clone)]
pub struct Rollouts {
    pub lists: Lists,
    pub detail: StackDetail,
}

impl Default for Rollouts {
    fn default() -> Self {
        Rollouts { lists: Lists::new(&[Entity::Stacks]), detail: StackDetail::default() }
    }
}

impl Rollouts {
    pub fn list(&self) -> &List {
        self.lists.current()
    }

    /// A key before the keymap's pane section: the zoomed detail's own (the log's keys are not
    /// the stack detail's: the pane's own keys, t for targets, come through). True when taken.
    pub fn key(&mut self, key: &KeyEvent, cx: &Ctx, fx: &mut Fx) -> bool {
        if cx.detail != Detail::Zoomed {
            return false;
        }
        let action = cx.keymap.action(Section::Detail, key, false).filter(|a| {
            !matches!(a, Action::Follow | Action::Wrap | Action::Timestamps | Action::Search | Action::OpenChain)
        });
        let Some(action) = action else { return false };
        if scroll_key(&mut self.detail, action, cx.detail_page()) {
            return true;
        }
        let d = &mut self.detail;
        match action {
            Action::ChainNext => {
                d.pick(true);
            }
            Action::ChainPrev => {
                d.pick(false);
            }
            Action::Diff => d.diff = !d.diff,
            other => fx.pass = Some(other),
        }
        true
    }

    /// An action of the pane (after the shell's global ones).
    pub fn action(&mut self, action: Action, cx: &Ctx, fx: &mut Fx) {
        match action {
            Action::NewStack => {
                if cx.readonly {
                    fx.toast(cx.read_only_refusal("creating a stack"), true);
                } else {
                    fx.call(Command::Generators, Awaiting::OpenStackForm);
                }
            }
            Action::EditObject | Action::Resubmit | Action::Targets => self.stack_verb(action, cx, fx),
            Action::Delete => self.delete(cx, fx),
            Action::StatusNext | Action::StatusPrev => {
                let forward = action == Action::StatusNext;
                fx.request(self.lists.current_mut().cycle_field("state", &STATES, forward, cx.now));
            }
            other => {
                self.lists.current_mut().action(other, cx, fx);
            }
        }
    }

    /// A key no action is bound to: the list's (Shift+letter sorts by that column).
    pub fn unbound(&mut self, key: &KeyEvent, cx: &Ctx, fx: &mut Fx) {
        fx.requests(self.lists.current_mut().unbound_key(key, cx.now));
    }

    pub fn back(&mut self, cx: &Ctx, fx: &mut Fx) {
        self.lists.current_mut().back(cx, fx);
    }

    /// The stack the verbs act on: the zoomed detail's, else the selected row's.
    fn selected_stack(&self, cx: &Ctx) -> Option<(Uuid, String)> {
        if cx.detail == Detail::Zoomed {
            if let (Some(id), Some(v)) = (self.detail.stack, &self.detail.data) {
                if v.stack.id == id {
                    return Some((id, v.stack.name.clone()));
                }
            }
        }
        let row = self.list().table.selected_row()?;
        Some((row.cursor.id.parse().ok()?, row.cells.first().cloned().unwrap_or_default()))
    }

    /// Open the YAML editor, confirm a re-submission or open the targets picker for the
    /// selected stack.
    fn stack_verb(&mut self, action: Action, cx: &Ctx, fx: &mut Fx) {
        let what = match action {
            Action::EditObject => "submitting",
            Action::Resubmit => "re-submitting",
            _ => "changing targets",
        };
        if cx.readonly {
            return fx.toast(cx.read_only_refusal(what), true);
        }
        let Some((stack, name)) = self.selected_stack(cx) else {
            return fx.toast("no stack selected", true);
        };
        match action {
            Action::EditObject => fx.call(Command::StackYaml(stack), Awaiting::OpenEditor),
            Action::Targets => {
                let (thresholds, at) = (cx.thresholds, cx.now);
                fx.call(Command::TargetChoices { stack: Some(stack), thresholds, at }, Awaiting::OpenTargets)
            }
            _ => {
                let question = format!(
                    "Submit the desired object of {} again? It becomes a new object with the next sequence, so every agent it reaches applies it again.",
                    sanitize_cell(&name, 40)
                );
                fx.open(Mode::Confirm(
                    Box::new(Confirm::new("Re-submit", question, "Re-submit")),
                    Pending::Resubmit { stack },
                ));
            }
        }
    }

    /// Delete the selected stack, after a confirmation with a reason.
    fn delete(&mut self, cx: &Ctx, fx: &mut Fx) {
        if cx.readonly {
            return fx.toast(cx.read_only_refusal("delete"), true);
        }
        let Some((stack, name)) = self.selected_stack(cx) else {
            return fx.toast("no stack selected", true);
        };
        let question = format!(
            "Delete stack {}? A deletion marker becomes its desired object: its agents remove what it deployed.",
            sanitize_cell(&name, 40)
        );
        fx.open(Mode::Confirm(
            Box::new(Confirm::new("Delete stack", question, "Delete")),
            Pending::Delete { what: Deletable::Stack, ids: vec![stack] },
        ));
    }

    /// The new-stack form, checked by the domain rules (each problem under its field), then
    /// created (or only checked in the database).
    pub fn submit_stack(&mut self, mode: &mut Mode, cx: &Ctx, fx: &mut Fx) {
        let Some(form) = form_to_submit(mode, cx, "creating a stack") else { return };
        let draft = StackDraft {
            name: form.value("name"),
            description: form.value("description"),
            labels: form.value("labels"),
            annotations: form.value("annotations"),
        };
        let generator = form.value("generator").parse::<Uuid>();
        let dry_run = form.value("dry_run") == "true";
        let stack = match draft.check() {
            Ok(s) => s,
            Err(errors) => {
                for e in errors {
                    form.set_error(e.field, e.message);
                }
                return;
            }
        };
        let Ok(generator) = generator else {
            form.set_error("generator", "choose a generator".into());
            return;
        };
        form.busy = true;
        fx.call(Command::CreateStack { stack, generator, dry_run }, Awaiting::StackForm);
    }

    /// A key for the YAML editor or the stack's targets picker.
    pub fn editor_key(&mut self, key: KeyEvent, submit: bool, back: bool, mode: &mut Mode, cx: &Ctx, fx: &mut Fx) {
        let command = match mode {
            Mode::Editor(e) => match e.key(key, submit, back) {
                EditorKey::Handled => return,
                EditorKey::Close => None,
                EditorKey::Send if cx.readonly => {
                    e.refused(cx.read_only_refusal("submitting"), false);
                    return;
                }
                EditorKey::Send => Some((
                    Command::SubmitObject { stack: e.stack, yaml: e.yaml(), over: e.over },
                    Awaiting::EditorSubmit,
                )),
            },
            Mode::Targets(p) => match p.key(key, submit, back) {
                EditorKey::Handled => return,
                EditorKey::Close => None,
                EditorKey::Send if cx.readonly => {
                    p.busy = false;
                    p.banner = Some(cx.read_only_refusal("changing targets"));
                    return;
                }
                EditorKey::Send => {
                    let (add, remove) = p.changes();
                    p.stack.map(|stack| (Command::SetTargets { stack, add, remove }, Awaiting::TargetsApply))
                }
            },
            _ => return,
        };
        match command {
            Some((command, awaiting)) => fx.call(command, awaiting),
            None => {
                fx.open(Mode::Normal);
                fx.toast("nothing done", false);
            }
        }
    }

    /// A page or delta of the list landed: the detail may be behind it.
    pub fn landed(&mut self, landed: &Landed) {
        if matches!(landed, Landed::Read { changed: true }) {
            self.detail.stale = true;
        }
    }

    /// Keep the stack detail on the selected stack (and the picked object), and read it when
    /// needed.
    pub fn sync(&mut self, cx: &Ctx, fx: &mut Fx) {
        if cx.detail == Detail::Closed {
            return;
        }
        if cx.detail == Detail::Split {
            if let Some(id) = self.list().selected_id() {
                self.detail.show(id);
            }
        }
        let d = &self.detail;
        let Some(stack) = d.stack else { return };
        if !d.loading && (!d.is_current() || d.stale) {
            let object = d.object;
            self.detail.loading = true;
            self.detail.stale = false;
            let (thresholds, at) = (cx.thresholds, cx.now);
            fx.call(Command::StackDetail { stack, object, thresholds, at }, Awaiting::StackDetail(stack));
        }
    }

    /// The editor's object or the picker's targets were applied to the stack `name`: close it,
    /// say so, read the stack and the list again.
    fn applied(&mut self, name: &str, message: String, fx: &mut Fx) {
        fx.open(Mode::Normal);
        fx.toast(format!("{}: {message}", sanitize_cell(name, 40)), false);
        self.detail.stale = true;
        fx.refresh = true;
    }

    /// A call's answer; the outcome back when it is not the pane's to take.
    pub fn called(
        &mut self,
        awaiting: Awaiting,
        outcome: Outcome,
        mode: &mut Mode,
        cx: &Ctx,
        fx: &mut Fx,
    ) -> Option<Outcome> {
        match (awaiting, outcome) {
            (Awaiting::OpenStackForm, Outcome::Generators(gens)) => {
                if gens.is_empty() {
                    fx.toast("a stack needs a generator, and there is none", true);
                    return None;
                }
                let options = gens.into_iter().map(|g| (g.id.to_string(), sanitize_cell(&g.name, 40))).collect();
                let form = Form::new(
                    "New stack",
                    vec![
                        Field::line("name", "Name", "unique among live stacks"),
                        Field::text("description", "Description", "optional"),
                        Field::choice("generator", "Generator", "←/→ to choose", options),
                        Field::text("labels", "Labels", "one per line, 1–64 characters"),
                        Field::text("annotations", "Annotations", "key=value, one per line, no spaces"),
                        Field::check("dry_run", "Check only", "space: validate in the database, write nothing", false),
                    ],
                );
                fx.open_form(form, FormFor::NewStack);
            }
            (Awaiting::StackForm, Outcome::Created { id, dry_run }) => {
                if dry_run {
                    if let Mode::Form(form) = mode {
                        form.busy = false;
                        form.banner = Some("✓ the database accepts it; nothing was written".into());
                    }
                } else {
                    fx.open(Mode::Normal);
                    fx.toast(format!("stack created ({})", &id.to_string()[..8]), false);
                    let list = self.lists.current_mut();
                    list.refreshed = None;
                    if cx.shown == Entity::Stacks {
                        fx.request(list.refresh(cx.now));
                    }
                }
            }
            (Awaiting::StackForm, Outcome::Failed { message, field }) => {
                form_refused(mode, fx, message, field, Some(&["name", "generator", "labels", "annotations"]))
            }
            (Awaiting::OpenEditor, Outcome::StackYaml { stack, name, over, yaml }) => {
                if matches!(mode, Mode::Normal) {
                    fx.open(Mode::Editor(Box::new(YamlEditor::new(stack, &name, over, yaml))));
                }
            }
            (Awaiting::EditorSubmit, Outcome::Done(message)) => {
                let name = match mode {
                    Mode::Editor(e) => e.name.clone(),
                    _ => String::new(),
                };
                self.applied(&name, message, fx);
            }
            (Awaiting::TargetsApply, Outcome::Done(message)) => {
                let name = match mode {
                    Mode::Targets(p) => p.name.clone(),
                    _ => String::new(),
                };
                self.applied(&name, message, fx);
            }
            (Awaiting::EditorSubmit, Outcome::Failed { message, field }) => match mode {
                Mode::Editor(e) => e.refused(message, field.as_deref() == Some("yaml")),
                _ => fx.toast(message, true),
            },
            (Awaiting::OpenTargets, Outcome::TargetChoices { stack, name, agents }) => {
                if matches!(mode, Mode::Normal) {
                    fx.open(Mode::Targets(Box::new(TargetPicker::new(stack, &name, agents))));
                }
            }
            (Awaiting::TargetsApply, Outcome::Failed { message, .. }) => match mode {
                Mode::Targets(p) => {
                    p.busy = false;
                    p.banner = Some(message);
                }
                _ => fx.toast(message, true),
            },
            (Awaiting::StackDetail(stack), Outcome::StackDetail(v)) => {
                let d = &mut self.detail;
                if d.stack == Some(stack) {
                    d.loading = false;
                    d.error = None;
                    d.data = Some(*v);
                }
            }
            (Awaiting::StackDetail(stack), Outcome::Failed { message, .. }) => {
                let d = &mut self.detail;
                if d.stack == Some(stack) {
                    d.loading = false;
                    d.error = Some(message);
                }
            }
            (_, other) => return Some(other),
        }
        None
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, cx: &Ctx) {
        let (table_area, detail_area) = body_areas(area, cx.detail);
        cx.header_spots.borrow_mut().clear();
        if let Some(t) = table_area {
            self.list().draw(frame, t, &self.lists.title(), cx);
        }
        if let Some(d) = detail_area {
            self.detail.draw(frame, d, cx.theme, cx.detail == Detail::Zoomed);
        }
    }

    /// The footer's key hints, and the keymap section they are looked up in.
    pub fn hints(&self, cx: &Ctx) -> (Vec<(Action, &'static str)>, Section) {
        if cx.detail == Detail::Zoomed {
            let mut hints = super::zoomed_hints();
            hints.extend([(Action::Diff, "diff"), (Action::ChainNext, "older object")]);
            return (hints, Section::Detail);
        }
        let own = vec![
            (Action::NewStack, "new stack"),
            (Action::EditObject, "edit"),
            (Action::Resubmit, "resubmit"),
            (Action::Targets, "targets"),
            (Action::Delete, "delete"),
            (Action::StatusNext, "state"),
        ];
        (super::list_hints(own, "detail"), Section::Rollouts)
    }
}

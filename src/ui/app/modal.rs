//! Modal forms and confirmations: keys go to the one open, its submission to the pane it is
//! for; a confirmed verb goes out as a call whose answer is a toast.

use crossterm::event::KeyEvent;

use super::calls::Awaiting;
use super::{App, FormFor, Mode, Pending};
use crate::ui::action::Action;
use crate::ui::keymap::Section;
use crate::ui::protocol::Command;
use crate::ui::widgets::form::{ConfirmKey, FormKey};
use crate::ui::widgets::EditorKey;

impl App {
    pub(super) fn form_key(&mut self, key: KeyEvent) {
        let action = self.keymap.action(Section::Form, &key, false);
        let back = self.keymap.action(Section::Global, &key, false) == Some(Action::Back);
        let Mode::Form(form) = &mut self.mode else { return };
        if back {
            self.mode = Mode::Normal;
            return;
        }
        let submit = match action {
            Some(Action::NextField) => {
                form.next();
                false
            }
            Some(Action::PrevField) => {
                form.prev();
                false
            }
            Some(Action::Submit) => true,
            _ => match form.key(key) {
                FormKey::Submit => true,
                FormKey::Handled => false,
                FormKey::Pick(_) => {
                    // Only the deploy form picks (its agents).
                    return with_pane!(self, market, Awaiting::Marketplace, |p, cx, fx| p.pick_agents(&cx, &mut fx));
                }
            },
        };
        if submit {
            self.submit_form();
        }
    }

    /// The open form goes to the pane it is for.
    fn submit_form(&mut self) {
        match self.form_for.clone() {
            FormFor::AgentTags { agent, expected } => with_pane!(self, fleet, Awaiting::Fleet, |p, cx, fx| p
                .submit_tags(agent, expected, &mut self.mode, &cx, &mut fx)),
            FormFor::Deploy(what) => with_pane!(self, market, Awaiting::Marketplace, |p, cx, fx| p.submit_deploy(
                what,
                &mut self.mode,
                &cx,
                &mut fx
            )),
            FormFor::NewStack => {
                with_pane!(self, rollouts, Awaiting::Rollouts, |p, cx, fx| p.submit_stack(&mut self.mode, &cx, &mut fx))
            }
        }
    }

    /// A key for the YAML editor or a targets picker.
    pub(super) fn editor_key(&mut self, key: KeyEvent) {
        let submit = self.keymap.action(Section::Form, &key, false) == Some(Action::Submit);
        let back = self.keymap.action(Section::Global, &key, false) == Some(Action::Back);
        // A deploy form's picker goes back to its form, with the agents chosen or as it was.
        if let Mode::Targets(p) = &mut self.mode {
            if p.form.is_some() {
                let answer = p.key(key, submit, back);
                if answer != EditorKey::Handled {
                    let chosen = p.chosen();
                    if let Some(mut form) = p.form.take() {
                        if answer == EditorKey::Send {
                            form.set_picked("agents", chosen);
                        }
                        self.mode = Mode::Form(form);
                    }
                }
                return;
            }
        }
        with_pane!(self, rollouts, Awaiting::Rollouts, |p, cx, fx| p.editor_key(
            key,
            submit,
            back,
            &mut self.mode,
            &cx,
            &mut fx
        ));
    }

    pub(super) fn confirm_key(&mut self, key: KeyEvent) {
        let action = self.keymap.action(Section::Form, &key, false);
        let back = self.keymap.action(Section::Global, &key, false) == Some(Action::Back);
        let Mode::Confirm(confirm, pending) = &mut self.mode else { return };
        if back {
            self.mode = Mode::Normal;
            self.toast("nothing done".into(), false);
            return;
        }
        let result = match action {
            Some(Action::NextField) => {
                confirm.next();
                ConfirmKey::Handled
            }
            Some(Action::PrevField) => {
                confirm.prev();
                ConfirmKey::Handled
            }
            _ => confirm.key(key),
        };
        match result {
            ConfirmKey::Handled => {}
            ConfirmKey::Cancelled => {
                self.mode = Mode::Normal;
                self.toast("nothing done".into(), false);
            }
            ConfirmKey::Confirmed => {
                let reason = confirm.reason();
                let pending = pending.clone();
                self.mode = Mode::Normal;
                // The verb goes out: its marks have served (a later verb starts from the row).
                if !matches!(pending, Pending::Resubmit { .. }) {
                    self.list_mut().clear_marks();
                }
                let command = match pending {
                    Pending::Executions { verb, ids } => Command::Executions { verb, ids, reason },
                    Pending::Fleet { entity, active, ids } => Command::Fleet { entity, active, ids, reason },
                    Pending::Delete { what, ids } => Command::Delete { what, ids, reason },
                    Pending::Resubmit { stack } => Command::Resubmit(stack),
                };
                self.call(command, Awaiting::Toast);
            }
        }
    }

    /// Text pasted into the terminal goes to what takes typing.
    pub fn on_paste(&mut self, text: &str) {
        match &mut self.mode {
            Mode::Form(form) => form.paste(text),
            Mode::Prompt(p) => {
                p.input.insert_str(text.lines().next().unwrap_or(""));
                self.prompt_changed();
            }
            Mode::Confirm(c, _) => {
                c.reason.insert_str(text.lines().next().unwrap_or(""));
            }
            Mode::Editor(e) => e.paste(text),
            Mode::Targets(p) => p.paste(text),
            Mode::Normal => {}
        }
    }
}

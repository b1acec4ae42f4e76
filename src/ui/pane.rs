//! What a pane is given and what it gives back. A pane reads the world through [`Ctx`] (the
//! clock, read-only mode, the detail mode, thresholds, the keymap and theme) and acts on it only
//! through [`Effects`] (requests and calls for the workers, toasts, a modal to open, a list to
//! show); the shell applies the effects in the order they were made. No pane awaits.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;

use super::action::Action;
use super::keymap::Keymap;
use super::modal::{FormFor, Mode};
use super::protocol::{Command, Request};
use super::theme::Theme;
use super::widgets::form::Form;
use crate::domain::health::Thresholds;
use crate::service::listing::Entity;

/// The detail under (or instead of) the list. One for the whole dashboard: it survives tab
/// switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Closed,
    Split,
    Zoomed,
}

/// A clickable spot of a status header: (row, first column, end column, the list it filters
/// (None: the one shown), status or health, or all).
pub type Spot = (u16, u16, u16, Option<Entity>, Option<String>);

/// What a pane may read of the world, for one update or one frame.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub now: DateTime<Utc>,
    pub readonly: bool,
    /// Started read-only: `:readonly` may not turn it off.
    pub readonly_locked: bool,
    pub detail: Detail,
    pub thresholds: Thresholds,
    pub keymap: &'a Keymap,
    pub theme: &'a Theme,
    pub refresh_every: Duration,
    /// The list on screen (whatever pane shows it).
    pub shown: Entity,
    /// Where the current table was drawn (set while drawing, read for paging and clicks).
    pub table_area: &'a Cell<Rect>,
    /// Where each count of a status header was drawn, for clicks.
    pub header_spots: &'a RefCell<Vec<Spot>>,
}

impl Ctx<'_> {
    /// Rows in a page of the table.
    pub fn page_height(&self) -> i64 {
        (self.table_area.get().height.saturating_sub(3).max(1)) as i64
    }

    /// Lines in a page of a zoomed detail.
    pub fn detail_page(&self) -> i32 {
        i32::from(self.table_area.get().height.saturating_sub(2).max(1))
    }

    /// What a write refused in read-only mode says: how to write again, if one may.
    pub fn read_only_refusal(&self, what: &str) -> String {
        read_only_refusal(self.readonly_locked, what)
    }
}

/// What a write refused in read-only mode says: how to write again, if one may.
pub fn read_only_refusal(locked: bool, what: &str) -> String {
    tracing::info!(what, locked, "refused in read-only mode");
    if locked {
        format!("read-only mode: {what} is disabled (started read-only: restart without --readonly)")
    } else {
        format!("read-only mode: {what} is disabled (:readonly turns it off)")
    }
}

/// A request for the workers, or a call whose answer the pane awaits as `A` (None: a verb whose
/// answer is a toast, and a fresh read of the list shown).
#[derive(Debug)]
pub enum Out<A> {
    Request(Request),
    Call(Command, Option<A>),
}

/// What a pane wants done, in the order it wanted it.
#[derive(Debug)]
pub struct Effects<A> {
    pub out: Vec<Out<A>>,
    /// (text, is an error).
    pub toasts: Vec<(String, bool)>,
    /// A modal to open (or, Normal, to close the one open), and what a form is for.
    pub mode: Option<Mode>,
    pub form_for: Option<FormFor>,
    pub detail: Option<Detail>,
    /// Read the list on screen again now.
    pub refresh: bool,
    /// Lists to read again when next shown (another pane's, changed by this one).
    pub reread: Vec<Entity>,
    /// An action the pane leaves to the shell (a global key pressed in a detail).
    pub pass: Option<Action>,
}

impl<A> Default for Effects<A> {
    fn default() -> Self {
        Effects {
            out: Vec::new(),
            toasts: Vec::new(),
            mode: None,
            form_for: None,
            detail: None,
            refresh: false,
            reread: Vec::new(),
            pass: None,
        }
    }
}

impl<A> Effects<A> {
    pub fn request(&mut self, request: Request) {
        self.out.push(Out::Request(request));
    }

    pub fn requests(&mut self, request: Option<Request>) {
        self.out.extend(request.map(Out::Request));
    }

    /// A call whose answer comes back to the pane as `awaiting`.
    pub fn call(&mut self, command: Command, awaiting: A) {
        self.out.push(Out::Call(command, Some(awaiting)));
    }

    /// A verb: its answer is a toast, and the list shown is read again.
    pub fn verb(&mut self, command: Command) {
        self.out.push(Out::Call(command, None));
    }

    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        self.toasts.push((text.into(), error));
    }

    pub fn open(&mut self, mode: Mode) {
        self.mode = Some(mode);
    }

    pub fn open_form(&mut self, form: Form, what: FormFor) {
        self.form_for = Some(what);
        self.mode = Some(Mode::Form(Box::new(form)));
    }

    /// The same effects, awaiting in the shell's terms.
    pub fn map<B>(self, f: impl Fn(A) -> B) -> Effects<B> {
        Effects {
            out: self
                .out
                .into_iter()
                .map(|o| match o {
                    Out::Request(r) => Out::Request(r),
                    Out::Call(c, a) => Out::Call(c, a.map(&f)),
                })
                .collect(),
            toasts: self.toasts,
            mode: self.mode,
            form_for: self.form_for,
            detail: self.detail,
            refresh: self.refresh,
            reread: self.reread,
            pass: self.pass,
        }
    }
}

/// The open form, ready to submit: not already on its way, old errors cleared. In read-only mode
/// its banner says `what` is disabled, and None comes back.
pub fn form_to_submit<'m>(mode: &'m mut Mode, cx: &Ctx, what: &str) -> Option<&'m mut Form> {
    let Mode::Form(form) = mode else { return None };
    if form.busy {
        return None;
    }
    form.clear_errors();
    if cx.readonly {
        form.banner = Some(cx.read_only_refusal(what));
        return None;
    }
    Some(form)
}

/// A form's submission refused by the service: the message under its field when the field is
/// one of `fields` (all, when None), else in the banner; a toast when the form has gone.
pub fn form_refused<A>(
    mode: &mut Mode,
    fx: &mut Effects<A>,
    message: String,
    field: Option<String>,
    fields: Option<&[&str]>,
) {
    match mode {
        Mode::Form(form) => {
            form.busy = false;
            match field {
                Some(f) if fields.is_none_or(|fs| fs.contains(&f.as_str())) => form.set_error(&f, message),
                _ => form.banner = Some(message),
            }
        }
        _ => fx.toast(message, true),
    }
}

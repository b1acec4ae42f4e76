//! The workers' answers: pages and deltas to the list they are for (stale ones dropped),
//! notifications of changes elsewhere, the connection and read-only mode, and a call's outcome
//! to what awaits it.

use super::calls::Awaiting;
use super::{App, Connection, Tab};
use crate::service::listing::{self, Entity};
use crate::ui::list::Landed;
use crate::ui::protocol::{Outcome, Reply};

impl App {
    /// A worker answered.
    pub fn on_reply(&mut self, reply: Reply) {
        let recheck = match reply {
            Reply::Page { entity, generation, at, result, when } => {
                let Some(list) = self.lists_mut(Tab::of(entity)).get_mut(entity) else {
                    return self.after_reply(false);
                };
                let landed = list.page_landed(generation, at, result, when);
                self.landed(entity, landed)
            }
            Reply::Delta { entity, generation, result, when } => {
                let shown = self.entity() == entity;
                let Some(list) = self.lists_mut(Tab::of(entity)).get_mut(entity) else {
                    return self.after_reply(false);
                };
                let landed = list.delta_landed(generation, result, when);
                if landed == Landed::Unapplied {
                    // New rows, rows that moved, or more changes than a delta reads: read the
                    // page whole.
                    if shown {
                        self.refresh();
                    } else {
                        list.refreshed = None;
                    }
                }
                self.landed(entity, landed)
            }
            Reply::Lost { since, retry_in, error } => {
                self.connection = Connection::Lost { since, retry_in, error };
                true
            }
            Reply::Connected => {
                self.connection = Connection::Connected;
                self.toast("connected again".into(), false);
                true
            }
            Reply::ReadOnly { on, error } => {
                match error {
                    None => {
                        self.readonly = on;
                        self.toast(format!("read-only mode {}", if on { "on" } else { "off" }), false);
                    }
                    Some(e) => self.toast(format!("read-only mode: {e}"), true),
                }
                true
            }
            Reply::Called { id, outcome } => {
                self.called(id, outcome);
                true
            }
            Reply::Changed(entity) => self.changed(entity),
            Reply::Reads(reads) => {
                self.reads = Some(reads);
                false
            }
        };
        self.after_reply(recheck);
    }

    /// After any answer: a change noticed while a read was in flight is read now (`recheck`:
    /// unless the answer was dropped as stale); the fleet's first counts once the pane shown has
    /// what it waited for; the detail kept on what it shows.
    fn after_reply(&mut self, recheck: bool) {
        if recheck {
            let now = self.now;
            let request = self.list_mut().reread_if_dirty(now);
            self.outbox.extend(request);
        }
        // The fleet's first counts, as soon as the pane shown has what it waited for.
        if self.fleet.health.asked.is_none() {
            self.poll_fleet();
        }
        self.sync();
    }

    /// A page or delta landed on a list: the pane's detail may be behind it; a failure is said.
    /// False for a stale one (nothing else to do).
    fn landed(&mut self, entity: Entity, landed: Landed) -> bool {
        match &landed {
            Landed::Stale => return false,
            Landed::Failed(e) => self.toast(e.clone(), true),
            _ => {}
        }
        match entity {
            Entity::Executions => self.executions.landed(&landed),
            Entity::Stacks => self.rollouts.landed(&landed),
            _ => {}
        }
        true
    }

    /// Another client changed a list. False when the list was never read (nothing to do).
    fn changed(&mut self, entity: Entity) -> bool {
        if matches!(entity, Entity::Hosts | Entity::Agents) {
            self.fleet.upstream_changed();
            for tab in Tab::ALL {
                for list in self.lists_mut(tab).iter_mut().filter(|l| !listing::has_delta(l.entity)) {
                    list.upstream_changed = true;
                }
            }
        }
        // Events and new objects (the stacks' channel) change the agents' rollup too.
        if entity == Entity::Stacks {
            self.on_reply(Reply::Changed(Entity::Agents));
        }
        let (shown, now) = (self.entity() == entity, self.now);
        let Some(list) = self.lists_mut(Tab::of(entity)).get_mut(entity) else { return false };
        if !list.table.loaded {
            return false;
        }
        let request = list.changed(shown, now);
        self.outbox.extend(request);
        true
    }

    /// A call answered: to what awaits it. What the pane leaves (a verb's answer, a failure it
    /// has no place for) becomes a toast, and a done verb reads the list shown again.
    fn called(&mut self, id: u64, outcome: Outcome) {
        let Some(awaiting) = self.calls.answered(id) else { return };
        let left = match awaiting {
            Awaiting::Toast => Some(outcome),
            Awaiting::Marketplace(a) => with_pane!(self, market, Awaiting::Marketplace, |p, cx, fx| p.called(
                a,
                outcome,
                &mut self.mode,
                &cx,
                &mut fx
            )),
            Awaiting::Fleet(a) => {
                with_pane!(self, fleet, Awaiting::Fleet, |p, _cx, fx| p.called(a, outcome, &mut self.mode, &mut fx))
            }
            Awaiting::Rollouts(a) => with_pane!(self, rollouts, Awaiting::Rollouts, |p, cx, fx| p.called(
                a,
                outcome,
                &mut self.mode,
                &cx,
                &mut fx
            )),
            Awaiting::Executions(a) => {
                with_pane!(self, executions, Awaiting::Executions, |p, _cx, _fx| p.called(a, outcome))
            }
        };
        match left {
            None => {}
            Some(Outcome::Done(message)) => {
                self.toast(message, false);
                self.refresh();
            }
            Some(Outcome::Failed { message, .. }) => {
                self.toast(message, true);
                // A verb that did not apply everywhere, or lost a race: show the rows as they are.
                if awaiting == Awaiting::Toast {
                    self.refresh();
                }
            }
            Some(other) => tracing::warn!(?other, "unexpected answer"),
        }
    }
}

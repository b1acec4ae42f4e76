//! The `:` commands: show a list (with field filters), a Marketplace catalogue (with facet
//! picks), switch the theme or read-only mode, help, quit.

use super::calls::Awaiting;
use super::{App, Detail, Tab, READ_ONLY_LOCKED};
use crate::service::listing::{self, Entity};
use crate::service::marketplace::Kind;
use crate::ui::panes::marketplace::Market;
use crate::ui::protocol::Request;

/// The commands of `:` mode: name, argument hint, what it does.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("exec", "", "Executions"),
    ("hosts", "", "Fleet: hosts"),
    ("agents", "", "Fleet: cluster agents"),
    ("orchestrators", "", "Fleet: orchestrators (enter: their sites)"),
    ("sites", "", "Fleet: sites (enter: their hosts)"),
    ("clusters", "", "Fleet: clusters (enter: their agents)"),
    ("stacks", "", "Rollouts: stacks"),
    ("pkgs", "", "Marketplace: Helm charts"),
    ("apps", "", "Marketplace: edge apps"),
    ("solutions", "", "Marketplace: AI tools, agents, MCP servers"),
    ("instances", "", "Marketplace: compute offers"),
    ("theme", "NAME", "switch the colour theme (remembered)"),
    ("readonly", "", "turn read-only mode on or off"),
    ("help", "", "show the keys"),
    ("q", "", "quit"),
];

impl App {
    pub(super) fn theme_names(&self) -> Vec<String> {
        self.themes.iter().map(|(n, _)| n.clone()).collect()
    }

    pub(super) fn run_command(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.history.retain(|h| h != text);
        self.history.push(text.to_string());
        let (name, arg) = text.split_once(' ').map(|(a, b)| (a, b.trim())).unwrap_or((text, ""));
        // `:agents` in the Marketplace means its published agents; elsewhere the cluster agents.
        let market = match name {
            "agents" if self.tab != Tab::Marketplace => None,
            "cluster-agents" => None,
            "market-agents" => Some(Kind::Agents),
            n => Kind::parse(n).filter(|_| n != "compute" && n != "packages"),
        };
        if let Some(kind) = market {
            let picks = match Market::parse_picks(name, arg) {
                Ok(picks) => picks,
                Err(e) => return self.toast(e, true),
            };
            self.switch(Tab::Marketplace);
            self.detail = Detail::Closed;
            return with_pane!(self, market, Awaiting::Marketplace, |p, cx, fx| p
                .open_kind(kind, name, &picks, &cx, &mut fx));
        }
        let name = if name == "cluster-agents" { "agents" } else { name };
        let entity = match name {
            "exec" => Some(Entity::Executions),
            "hosts" => Some(Entity::Hosts),
            "agents" => Some(Entity::Agents),
            "orchestrators" => Some(Entity::Orchestrators),
            "sites" => Some(Entity::Sites),
            "clusters" => Some(Entity::Clusters),
            "stacks" => Some(Entity::Stacks),
            "pkgs" => Some(Entity::Packages),
            "apps" => Some(Entity::Apps),
            "solutions" => Some(Entity::Solutions),
            "instances" => Some(Entity::Instances),
            _ => None,
        };
        if let Some(e) = entity {
            // `:exec status=failed agent=x`: field filters; `:exec` alone shows everything.
            let mut fields = Vec::new();
            for word in arg.split_whitespace() {
                match word.split_once('=') {
                    Some((k, v)) => fields.push((k.to_string(), v.to_string())),
                    None => return self.toast(format!(":{name} {word}: expected key=value"), true),
                }
            }
            if let Err(e) = listing::check_fields(e, &fields) {
                return self.toast(format!(":{name}: {e}"), true);
            }
            self.fleet.drill.clear();
            self.show(e);
            if self.list().query.fields != fields {
                let now = self.now;
                let list = self.list_mut();
                list.query.fields = fields;
                let request = list.requery(now);
                self.outbox.push(request);
            }
            return;
        }
        match name {
            "q" | "quit" => self.quit = true,
            "help" => self.help.show(),
            "readonly" if self.readonly_locked => self.toast(READ_ONLY_LOCKED.to_string(), true),
            "readonly" => {
                let on = !self.readonly;
                if on {
                    // Refuse writes at once; the sessions follow.
                    self.readonly = true;
                }
                self.outbox.push(Request::ReadOnly(on));
            }
            "theme" if arg.is_empty() => {
                self.toast(format!("theme {} (available: {})", self.theme_name, self.theme_names().join(", ")), false)
            }
            "theme" => match self.themes.iter().find(|(n, _)| n == arg) {
                Some((n, t)) => {
                    self.theme = t.clone();
                    self.theme_name = n.clone();
                    self.outbox.push(Request::SaveTheme(n.clone()));
                    self.toast(format!("theme {arg}"), false);
                }
                None => self.toast(format!("no theme {arg:?} (available: {})", self.theme_names().join(", ")), true),
            },
            _ => self.toast(format!("unknown command :{name} (tab completes, :help lists keys)"), true),
        }
    }
}

//! The four tabs, in order, and what each shows.

use crate::service::listing::Entity;
use crate::ui::keymap::Section;

/// The four panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tab {
    Marketplace,
    Fleet,
    Rollouts,
    Executions,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Marketplace, Tab::Fleet, Tab::Rollouts, Tab::Executions];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Marketplace => "Marketplace",
            Tab::Fleet => "Fleet",
            Tab::Rollouts => "Rollouts",
            Tab::Executions => "Executions",
        }
    }

    /// The keymap section of the pane.
    pub fn section(self) -> Section {
        match self {
            Tab::Marketplace => Section::Marketplace,
            Tab::Fleet => Section::Fleet,
            Tab::Rollouts => Section::Rollouts,
            Tab::Executions => Section::Executions,
        }
    }

    /// The database lists the pane holds, one shown at a time.
    pub fn views(self) -> &'static [Entity] {
        match self {
            Tab::Marketplace => &[Entity::Packages, Entity::Apps, Entity::Solutions, Entity::Instances],
            Tab::Fleet => &[Entity::Hosts, Entity::Agents, Entity::Orchestrators, Entity::Sites, Entity::Clusters],
            Tab::Rollouts => &[Entity::Stacks],
            Tab::Executions => &[Entity::Executions],
        }
    }

    pub(super) fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// The pane that holds a list.
    pub fn of(entity: Entity) -> Tab {
        Tab::ALL.into_iter().find(|t| t.views().contains(&entity)).unwrap_or(Tab::Marketplace)
    }

    /// The tab titles as drawn.
    pub(super) fn titles() -> Vec<(Tab, String)> {
        Tab::ALL.iter().enumerate().map(|(i, t)| (*t, format!(" {} {} ", i + 1, t.title()))).collect()
    }
}

//! Each list's SQL: a function per list, in a file per pane; `spec` picks one.

use super::model::Entity;
use super::specs::*;

/// A count column: the cell is the count as text, sorted as a number.
macro_rules! count {
    ($title:literal, $expr:literal) => {
        col($title, concat!($expr, "::text"), $expr, "bigint")
    };
}

/// `healthy`, `stale` and `offline` counts of the rows in scope, for a list's SQL: `$active`
/// says the row is active, `$heartbeat` is its last heartbeat (the same edges as
/// `health_condition` and `domain::health::Thresholds::classify`).
macro_rules! health_counts {
    ($active:literal, $heartbeat:literal) => {
        concat!(
            "count(*) FILTER (WHERE ",
            $active,
            " AND ",
            $heartbeat,
            " > {now} - interval '{stale} seconds') AS healthy, ",
            "count(*) FILTER (WHERE ",
            $active,
            " AND ",
            $heartbeat,
            " <= {now} - interval '{stale} seconds' AND ",
            $heartbeat,
            " > {now} - interval '{offline} seconds') AS stale, ",
            "count(*) FILTER (WHERE NOT coalesce(",
            $active,
            " AND ",
            $heartbeat,
            " > {now} - interval '{offline} seconds', false)) AS offline"
        )
    };
}

mod executions;
mod fleet;
mod market;
mod rollouts;

pub(super) fn spec(entity: Entity) -> Spec {
    match entity {
        Entity::Packages => market::packages(),
        Entity::Apps => market::apps(),
        Entity::Solutions => market::solutions(),
        Entity::Instances => market::instances(),
        Entity::Hosts => fleet::hosts(),
        Entity::Agents => fleet::agents(),
        Entity::Orchestrators => fleet::orchestrators(),
        Entity::Sites => fleet::sites(),
        Entity::Clusters => fleet::clusters(),
        Entity::Stacks => rollouts::stacks(),
        Entity::Executions => executions::executions(),
    }
}

/// The spec `query` reads: the list's own, or for the executions with `archive=yes` their
/// archive (the same columns, filters and order).
pub(super) fn spec_for(entity: Entity, query: &super::model::Query) -> Spec {
    let archived = |(k, v): &(String, String)| k == "archive" && v.eq_ignore_ascii_case("yes");
    match entity {
        Entity::Executions if query.fields.iter().any(archived) => executions::archived(),
        _ => spec(entity),
    }
}

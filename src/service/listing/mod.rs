//! Keyset-paginated lists of what the panes show (packages, edge apps, solutions, instances,
//! hosts, agents, stacks, executions): a page before or after a row, the first or last page, the
//! total, under a filter and a sort. OFFSET is never used.
//!
//! `model` is what a list is (shared with `names` and the panes), `specs` what a list's SQL is made of, `tables` each list's, `info` what the panes read of them,
//! `build` the statements made from a query, `read` the reads. The public paths are the ones
//! before the split (`listing::Entity`, `listing::page`, …).

mod build;
pub mod clock;
mod info;
pub mod model;
mod read;
mod specs;
mod tables;

pub use build::{check_fields, since_seconds};
pub use info::{
    columns, field_names, fractional, has_facet, integral, kinds, list_cell, list_items, moment_cell, priority,
    search_column, shown, sortable, CELL_MAX,
};
pub use model::*;
pub use read::{delta, has_delta, has_light, page, page_light, page_within};

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::tables::*;
    use super::*;
    use crate::domain::filter::Filter;

    #[test]
    fn aliases_are_found_only_as_table_prefixes() {
        assert!(uses_alias("w.name", &["w", "a"]));
        assert!(uses_alias("coalesce(o.name, '')", &["o"]));
        assert!(!uses_alias("e.status", &["w", "a", "o"]));
        assert!(!uses_alias("e.data.x", &["a"]), "data. is not the alias a");
        assert!(!uses_alias("e.started_at", &["a"]));
    }

    #[test]
    fn counting_joins_only_when_a_condition_needs_it() {
        let s = spec(Entity::Executions);
        let q = |fields: &[(&str, &str)], filter: Filter| Query {
            filter,
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Query::new(Entity::Executions)
        };
        assert_eq!(count_from(&s, &q(&[], Filter::None)), "platform.workflow_executions e");
        assert_eq!(
            count_from(&s, &q(&[("status", "failed"), ("since", "1h")], Filter::None)),
            "platform.workflow_executions e"
        );
        assert_eq!(count_from(&s, &q(&[("agent", "x")], Filter::None)), s.from);
        assert_eq!(
            count_from(&s, &q(&[], Filter::Fuzzy("web".into()))),
            s.from,
            "the filter searches the workflow name"
        );
    }

    #[test]
    fn the_executions_are_counted_from_the_maintained_counts_unless_a_condition_reads_a_row() {
        let s = spec(Entity::Executions);
        let q = |fields: &[(&str, &str)], filter: Filter| Query {
            filter,
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Query::new(Entity::Executions)
        };
        let from = |q: &Query| counted_from(&s, q).map(|(_, from)| from);
        assert_eq!(from(&q(&[], Filter::None)), Some("fleetdeck.execution_counts e"), "the counts alone");
        assert_eq!(from(&q(&[("status", "failed")], Filter::None)), Some("fleetdeck.execution_counts e"));
        let joined =
            |aliases: &[&str]| s.counted.as_ref().and_then(|c| c.joined.iter().find(|j| j.0 == aliases)).map(|j| j.1);
        let workflows = joined(&["w"]);
        assert!(workflows.is_some_and(|f| !f.contains("agents")), "{workflows:?}");
        assert_eq!(from(&q(&[], Filter::Fuzzy("ingest".into()))), workflows, "the workflows' names alone");
        assert_eq!(from(&q(&[], Filter::Invert("ingest".into()))), workflows);
        assert_eq!(from(&q(&[("framework", "n8n")], Filter::None)), workflows);
        assert_eq!(from(&q(&[("org", "acme")], Filter::None)), joined(&["a", "o"]), "the agents and organisations");
        let all = joined(&["w", "a", "o"]);
        assert_eq!(from(&q(&[("agent", "x"), ("org", "acme"), ("framework", "n8n")], Filter::None)), all);
        assert_eq!(from(&q(&[("agent", "x")], Filter::Fuzzy("ingest".into()))), all);
        // The executions' own start is not kept by the counts: those are counted from the rows.
        assert_eq!(from(&q(&[("since", "1h")], Filter::None)), None);
        assert_eq!(from(&q(&[("status", "failed"), ("since", "1h")], Filter::Fuzzy("x".into()))), None);
        // A list without maintained counts.
        assert!(counted_from(&spec(Entity::Hosts), &Query::new(Entity::Hosts)).is_none());
    }
}

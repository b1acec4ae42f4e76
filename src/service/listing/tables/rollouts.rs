//! The Rollouts pane's list: stacks, with their rollup as the database keeps it.

use super::super::model::CellKind;
use super::super::specs::*;

pub(super) fn stacks() -> Spec {
    Spec {
        columns: const {
            &[
                text("NAME", "st.name"),
                text("GENERATOR", "g.name"),
                col("SEQ", "coalesce(d.seq::text, '')", "coalesce(d.seq, -1)", "bigint"),
                count!("AGENTS", "coalesce(p.agents, 0)"),
                col(
                    "ROUTES",
                    "coalesce(p.by_target, 0) || 't ' || coalesce(p.by_label, 0) || 'l ' || coalesce(p.by_annotation, 0) || 'a'",
                    "",
                    "text",
                ),
                Column {
                    title: "STATE",
                    kind: CellKind::Status,
                    cell: STACK_STATE,
                    sort: STACK_STATE,
                    sort_type: "text",
                },
                // Sorted by the share of reached agents done, and by how many are not done
                // yet: zero-padded text keys, as the cells are text (`integral` reads a
                // column's sort type as its JSON type).
                col("DONE", STACK_GAUGE, STACK_DONE_KEY, "text"),
                col("PROGRESS", STACK_PROGRESS, STACK_PROGRESS_KEY, "text"),
                Column { title: "LABELS", kind: CellKind::List, cell: STACK_LABELS, sort: "", sort_type: "text" },
                Column {
                    title: "AGE",
                    kind: CellKind::Age,
                    cell: "extract(epoch FROM st.created_at)::text",
                    sort: "st.created_at",
                    sort_type: "timestamptz",
                },
                text("DELETED", "CASE WHEN st.deleted_at IS NULL THEN '' ELSE 'deleted' END"),
            ]
        },
        // Per stack: the desired sequence, the agents reached (by route) and what they
        // reported for the desired object, kept by the database (fleetdeck.stack_counts,
        // migration 26); which unreported agents are offline is read in PROGRESS.
        from: "broker.stacks st JOIN broker.generators g ON g.id = st.generator_id \
               LEFT JOIN LATERAL (SELECT max(o.sequence_id) AS seq FROM broker.deployment_objects o \
                   WHERE o.stack_id = st.id AND o.deleted_at IS NULL) d ON true \
               LEFT JOIN LATERAL fleetdeck.stack_counts(st.id) p ON true",
        live: "",
        id: "st.id",
        id_type: "uuid",
        default_sort: 0,
        default_descending: false,
        search: 0,
        labels: Some(Labels {
            labels: ("broker.stack_labels", "stack_id"),
            annotations: ("broker.stack_annotations", "stack_id"),
        }),
        fields: const {
            &[
                field("generator", "g.name", Match::Exact),
                FieldSpec {
                    name: "state",
                    expr: STACK_STATE,
                    how: Match::Exact,
                    values: &["complete", "failing", "in-progress", "unreached", "deleted"],
                },
            ]
        },
        facet: None,
        changed: Some(Changed::Reckoned("fleetdeck.stack_changed_at(st.id, st.updated_at)")),
        base: Some(("broker.stacks st", &["g", "d", "p"])),
        counted: None,
        light: Some((
            "broker.stacks st JOIN broker.generators g ON g.id = st.generator_id \
             LEFT JOIN LATERAL (SELECT max(o.sequence_id) AS seq FROM broker.deployment_objects o \
                 WHERE o.stack_id = st.id AND o.deleted_at IS NULL) d ON true",
            &["p"],
        )),
    }
}

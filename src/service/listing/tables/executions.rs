//! The Executions pane's list, and the joins its maintained counts share.

use super::super::model::CellKind;
use super::super::specs::*;

/// The executions' joins, as the list reads them and as its maintained counts are joined to
/// them (under the same aliases, so the same conditions apply to both).
macro_rules! executions_workflows {
    () => {
        "JOIN platform.workflows w ON w.id = e.workflow_id"
    };
}
macro_rules! executions_agents_orgs {
    () => {
        "JOIN platform.agents a ON a.id = e.agent_id \
         LEFT JOIN platform.organizations o ON a.owner_type = 'organization' AND o.id = a.owner_id"
    };
}

pub(super) fn executions() -> Spec {
    Spec {
        columns: const {
            &[
                Column {
                    title: "STATUS",
                    kind: CellKind::Status,
                    cell: "e.status",
                    sort: "e.status",
                    sort_type: "text",
                },
                text("WORKFLOW", "w.name"),
                text("AGENT", "a.name"),
                text("FRAMEWORK", "w.framework"),
                text("ORGANISATION", "coalesce(o.name, '')"),
                Column {
                    title: "STARTED",
                    kind: CellKind::Moment,
                    cell: "coalesce(extract(epoch FROM e.started_at)::text, '')",
                    sort: "coalesce(e.started_at, '-infinity'::timestamptz)",
                    sort_type: "timestamptz",
                },
                Column {
                    title: "DURATION",
                    kind: CellKind::Duration,
                    cell: "coalesce(extract(epoch FROM e.started_at)::text, '') || '|' || \
                           coalesce(extract(epoch FROM coalesce(e.completed_at, \
                               CASE WHEN e.status = 'paused' THEN e.paused_at END))::text, '')",
                    // In flight: the duration so far (paused: until the pause), as the cell shows.
                    sort: "coalesce(extract(epoch FROM coalesce(e.completed_at, \
                           CASE WHEN e.status = 'paused' THEN e.paused_at END, {now}) - e.started_at), -1)",
                    sort_type: "double precision",
                },
                col(
                    "RETRIES",
                    "coalesce(e.retry_count, 0) || '/' || coalesce(e.max_retries, 0)",
                    "coalesce(e.retry_count, 0)",
                    "integer",
                ),
                Column {
                    title: "CORRELATION",
                    kind: CellKind::ShortId,
                    cell: "coalesce(e.correlation_id::text, '')",
                    sort: "coalesce(e.correlation_id::text, '')",
                    sort_type: "text",
                },
            ]
        },
        from: concat!("platform.workflow_executions e ", executions_workflows!(), " ", executions_agents_orgs!()),
        live: "",
        id: "e.id",
        id_type: "uuid",
        default_sort: 5,
        default_descending: true,
        search: 1,
        labels: None,
        fields: const {
            &[
                FieldSpec {
                    name: "status",
                    expr: "e.status",
                    how: Match::Exact,
                    values: &["queued", "pending", "running", "paused", "completed", "failed", "cancelled", "timeout"],
                },
                field("agent", "a.name", Match::Contains),
                field("workflow", "w.name", Match::Contains),
                field("framework", "w.framework", Match::Exact),
                field("org", "coalesce(o.name, '')", Match::Contains),
                field("since", "e.started_at", Match::Since),
                FieldSpec { name: "archive", expr: "", how: Match::Source, values: &["yes", "no"] },
            ]
        },
        facet: Some("e.status"),
        changed: Some(Changed::Indexed("e.updated_at")),
        base: Some(("platform.workflow_executions e", &["w", "a", "o"])),
        // Per (workflow, agent, status), by the executions' triggers (migration 23).
        counted: Some(Counted {
            table: "fleetdeck.execution_counts e",
            joined: &[
                (&["w"], concat!("fleetdeck.execution_counts e ", executions_workflows!())),
                (&["a", "o"], concat!("fleetdeck.execution_counts e ", executions_agents_orgs!())),
                (
                    &["w", "a", "o"],
                    concat!("fleetdeck.execution_counts e ", executions_workflows!(), " ", executions_agents_orgs!()),
                ),
            ],
            alias: "e",
            columns: &["status", "workflow_id", "agent_id"],
            n: "e.n",
        }),
        light: None,
    }
}

/// The executions' archive (`:exec archive=yes`): the same list over
/// `platform.workflow_executions_archive` (migration 31), whose rows change only when
/// `fleetdeck archive` adds or deletes them. Counted from the rows.
pub(super) fn archived() -> Spec {
    Spec {
        from: concat!(
            "platform.workflow_executions_archive e ",
            executions_workflows!(),
            " ",
            executions_agents_orgs!()
        ),
        changed: Some(Changed::Indexed("e.archived_at")),
        base: Some(("platform.workflow_executions_archive e", &["w", "a", "o"])),
        counted: None,
        ..executions()
    }
}

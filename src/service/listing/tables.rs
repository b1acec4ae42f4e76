//! Each list's SQL, one arm of `spec` per list.

use super::model::{CellKind, Entity};
use super::specs::*;

/// A count column: the cell is the count as text, sorted as a number.
macro_rules! count {
    ($title:literal, $expr:literal) => {
        col($title, concat!($expr, "::text"), $expr, "bigint")
    };
}

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

pub(super) fn spec(entity: Entity) -> Spec {
    match entity {
        Entity::Packages => Spec {
            columns: const {
                &[
                    text("NAME", "coalesce(p.name, '')"),
                    text("VERSION", "coalesce(p.version, '')"),
                    text("REPOSITORY", "coalesce(p.repository_name, '')"),
                    text("CATEGORY", "coalesce(c.name, '')"),
                    text("DESCRIPTION", "coalesce(p.description, '')"),
                ]
            },
            from: "cloud.bitnami_packages p LEFT JOIN cloud.bitnami_categories c ON c.category_id = p.category",
            live: "",
            id: "p.package_id",
            id_type: "uuid",
            default_sort: 0,
            default_descending: false,
            search: 0,
            labels: None,
            fields: &[],
            facet: None,
            changed: None,
            base: None,
            counted: None,
            light: None,
        },
        Entity::Apps => Spec {
            columns: const {
                &[
                    text("NAME", "coalesce(a.name, '')"),
                    text("VENDOR", "coalesce(a.vendor, '')"),
                    text("VERSION", "coalesce(a.version, '')"),
                    text("CATEGORY", "coalesce(a.category, '')"),
                    text("DESCRIPTION", "coalesce(a.description, '')"),
                ]
            },
            from: "catalog.application_desc a",
            live: "",
            id: "a.app_id",
            id_type: "text",
            default_sort: 0,
            default_descending: false,
            search: 0,
            labels: None,
            fields: &[],
            facet: None,
            changed: None,
            base: None,
            counted: None,
            light: None,
        },
        Entity::Solutions => Spec {
            columns: const {
                &[
                    text("NAME", "s.name"),
                    text("TYPE", "s.type::text"),
                    text("VERSION", "s.version"),
                    text("STATUS", "coalesce(s.status::text, '')"),
                    col("USES", "coalesce(s.usage_count, 0)::text", "coalesce(s.usage_count, 0)", "integer"),
                    text("DESCRIPTION", "coalesce(s.description, '')"),
                ]
            },
            from: "ergon.solutions s",
            live: "",
            id: "s.id",
            id_type: "uuid",
            default_sort: 0,
            default_descending: false,
            search: 0,
            labels: None,
            fields: &[],
            facet: None,
            changed: None,
            base: None,
            counted: None,
            light: None,
        },
        Entity::Instances => Spec {
            columns: const {
                &[
                    text("NAME", "coalesce(i.name, '')"),
                    text("PROVIDER", "coalesce(i.provider, '')"),
                    text("TYPE", "coalesce(i.instance_type, '')"),
                    // The source's share of a shared core (0.25), not the seed column's integer.
                    col(
                        "VCPU",
                        "coalesce(CASE WHEN jsonb_typeof(i.raw_data->'cpu_cores') = 'number' \
                         THEN (i.raw_data->>'cpu_cores')::numeric::text END, i.cpu_cores::text, '')",
                        "coalesce(CASE WHEN jsonb_typeof(i.raw_data->'cpu_cores') = 'number' \
                         THEN (i.raw_data->>'cpu_cores')::numeric END, i.cpu_cores, -1)",
                        "numeric",
                    ),
                    col("MEMORY GB", "coalesce(i.memory_gb::text, '')", "coalesce(i.memory_gb, -1)", "numeric"),
                    col("GPU", "coalesce(i.gpu_count::text, '')", "coalesce(i.gpu_count, -1)", "integer"),
                    col(
                        "PRICE/HOUR",
                        "coalesce(i.price_hourly::text || ' ' || coalesce(i.price_currency, ''), '')",
                        "coalesce(i.price_hourly, -1)",
                        "numeric",
                    ),
                ]
            },
            from: "cloud.instances i",
            live: "",
            id: "i.id",
            id_type: "uuid",
            default_sort: 0,
            default_descending: false,
            search: 0,
            labels: None,
            fields: &[],
            facet: None,
            changed: None,
            base: None,
            counted: None,
            light: None,
        },
        Entity::Hosts => Spec {
            columns: const {
                &[
                    text("HOSTNAME", "coalesce(h.hostname, '')"),
                    text("IP", "coalesce(h.ip_address, '')"),
                    text("SITE", "s.site_id"),
                    text("STATUS", "lower(coalesce(h.status, ''))"),
                    Column {
                        title: "HEALTH",
                        kind: CellKind::Health,
                        cell: HOST_HEALTH_CELL,
                        sort: "CASE WHEN h.status = 'Active' THEN coalesce(h.last_heartbeat, '-infinity') \
                               ELSE '-infinity' END",
                        sort_type: "timestamptz",
                    },
                    Column {
                        title: "HEARTBEAT",
                        kind: CellKind::Age,
                        cell: "coalesce(extract(epoch FROM h.last_heartbeat)::text, '')",
                        sort: "coalesce(h.last_heartbeat, '-infinity'::timestamptz)",
                        sort_type: "timestamptz",
                    },
                    text("ARCH", "coalesce(h.metadata->>'architecture', '')"),
                    col(
                        "CORES",
                        "coalesce(h.metadata->>'cores', '')",
                        "CASE WHEN h.metadata->>'cores' ~ '^[0-9]+(\\.[0-9]+)?$' THEN (h.metadata->>'cores')::numeric ELSE -1 END",
                        "numeric",
                    ),
                    text("MEMORY", "coalesce(h.metadata->>'memory', '')"),
                    text("STORAGE", "coalesce(h.metadata->>'storage', '')"),
                    Column { title: "PERIPHERALS", kind: CellKind::List, cell: HOST_PERIPHERALS, sort: "", sort_type: "text" },
                    Column { title: "INTERFACES", kind: CellKind::List, cell: HOST_INTERFACES, sort: "", sort_type: "text" },
                    col("MAINTENANCE", HOST_MAINTENANCE, "", "text"),
                ]
            },
            from: "edge.host h JOIN edge.site s ON s.id = h.site_id \
                   LEFT JOIN edge.orchestrator o ON o.id = s.orchestrator_id",
            live: "h.deleted_at IS NULL",
            id: "h.id",
            id_type: "uuid",
            default_sort: 0,
            default_descending: false,
            search: 0,
            labels: None,
            fields: const {
                &[
                    FieldSpec {
                        name: "health",
                        expr: "",
                        how: Match::Health {
                            active: "h.status = 'Active'",
                            heartbeat: "h.last_heartbeat",
                            maintenance: HOST_IN_MAINTENANCE,
                        },
                        values: HOST_HEALTH_VALUES,
                    },
                    FieldSpec {
                        name: "status",
                        // One case in every view (hosts store `Active`, agents `ACTIVE`).
                        expr: "lower(h.status)",
                        how: Match::Exact,
                        values: &["active", "inactive", "unreachable"],
                    },
                    field("site", "s.site_id", Match::Exact),
                    field("orchestrator", "o.name", Match::Exact),
                ]
            },
            facet: None,
            changed: Some("h.updated_at"),
            base: Some(("edge.host h", &["s", "o"])),
            counted: None,
            light: None,
        },
        Entity::Agents => Spec {
            columns: const {
                &[
                    text("NAME", "ag.name"),
                    text("CLUSTER", "ag.cluster_name"),
                    text("STATUS", "lower(ag.status)"),
                    Column {
                        title: "HEALTH",
                        kind: CellKind::Health,
                        cell: AGENT_HEALTH_CELL,
                        sort: "CASE WHEN ag.status = 'ACTIVE' THEN coalesce(ag.last_heartbeat, '-infinity') \
                               ELSE '-infinity' END",
                        sort_type: "timestamptz",
                    },
                    Column {
                        title: "HEARTBEAT",
                        kind: CellKind::Age,
                        cell: "coalesce(extract(epoch FROM ag.last_heartbeat)::text, '')",
                        sort: "coalesce(ag.last_heartbeat, '-infinity'::timestamptz)",
                        sort_type: "timestamptz",
                    },
                    col("STACKS", "r.stacks::text", "r.stacks", "integer"),
                    col("ROUTES", "r.by_target || 't ' || r.by_label || 'l ' || r.by_annotation || 'a'", "", "text"),
                    col("PENDING", "r.pending::text", "r.pending", "integer"),
                    Column {
                        title: "LAST EVENT",
                        kind: CellKind::Age,
                        cell: "coalesce(extract(epoch FROM le.last_event)::text, '')",
                        sort: "coalesce(le.last_event, '-infinity'::timestamptz)",
                        sort_type: "timestamptz",
                    },
                    col("FAIL 1H", "coalesce(f1.failures, 0)::text", "coalesce(f1.failures, 0)", "integer"),
                    Column { title: "LABELS", kind: CellKind::List, cell: AGENT_LABELS, sort: "", sort_type: "text" },
                ]
            },
            // Each agent's counts and last event, kept by the database (migration 26), and its
            // failures in the hour before `{now}`, all agents' at once from the failures' index.
            // (Summing every agent's counts in one pass and hashing the joins read all 20,000
            // rows for every page: 73 ms; the sum per agent is 9 ms for a page by name, and
            // about 46 ms when a sort by STACKS or PENDING needs every agent's.)
            from: "broker.agents ag LEFT JOIN LATERAL fleetdeck.agent_counts(ag.id) r ON true \
                   LEFT JOIN fleetdeck.agent_last_event le ON le.agent_id = ag.id \
                   LEFT JOIN (SELECT e.agent_id, count(*) AS failures FROM broker.agent_events e \
                               WHERE e.status = 'FAILURE' AND e.deleted_at IS NULL \
                                 AND e.created_at > {now} - interval '1 hour' AND e.created_at <= {now} \
                               GROUP BY e.agent_id) f1 ON f1.agent_id = ag.id",
            live: "ag.deleted_at IS NULL",
            id: "ag.id",
            id_type: "uuid",
            default_sort: 0,
            default_descending: false,
            search: 0,
            labels: Some(Labels {
                labels: ("broker.agent_labels", "agent_id"),
                annotations: ("broker.agent_annotations", "agent_id"),
            }),
            fields: const {
                &[
                    health("ag.status = 'ACTIVE'", "ag.last_heartbeat"),
                    FieldSpec {
                        name: "status",
                        expr: "lower(ag.status)",
                        how: Match::Exact,
                        values: &["active", "inactive"],
                    },
                    field("cluster", "ag.cluster_name", Match::Exact),
                ]
            },
            facet: None,
            // Events and new objects of the stacks reaching it change the row too (migration 21).
            changed: Some("fleetdeck.agent_changed_at(ag.id, ag.updated_at)"),
            base: Some(("broker.agents ag", &["r", "le", "f1"])),
            // Without each agent's rollup (its stacks, routes, pending objects, last event and
            // failures).
            counted: None,
            light: Some(("broker.agents ag", &["r", "le", "f1"])),
        },
        Entity::Orchestrators => Spec {
            columns: const {
                &[
                    text("NAME", "coalesce(o.name, '')"),
                    text("TYPE", "coalesce(o.type, '')"),
                    text("REGION", "coalesce(o.region, '')"),
                    count!("SITES", "coalesce(hc.sites, 0)"),
                    count!("HOSTS", "coalesce(hc.hosts, 0)"),
                    count!("HEALTHY", "coalesce(hc.healthy, 0)"),
                    count!("STALE", "coalesce(hc.stale, 0)"),
                    count!("OFFLINE", "coalesce(hc.offline, 0)"),
                    text("ENDPOINT", "coalesce(o.api_endpoint, '')"),
                ]
            },
            // One pass over the hosts, counted per site and summed per orchestrator: a lateral
            // count per orchestrator read the hosts table once for each (0.5–1 s at 100,000).
            from: concat!(
                "edge.orchestrator o LEFT JOIN (\
                 SELECT s.orchestrator_id, count(*) AS sites, coalesce(sum(hs.hosts), 0)::bigint AS hosts, \
                 coalesce(sum(hs.healthy), 0)::bigint AS healthy, coalesce(sum(hs.stale), 0)::bigint AS stale, \
                 coalesce(sum(hs.offline), 0)::bigint AS offline \
                 FROM edge.site s LEFT JOIN (SELECT h.site_id, count(*) AS hosts, ",
                health_counts!("h.status = 'Active'", "h.last_heartbeat"),
                " FROM edge.host h WHERE h.deleted_at IS NULL GROUP BY h.site_id) hs ON hs.site_id = s.id \
                 GROUP BY s.orchestrator_id) hc ON hc.orchestrator_id = o.id"
            ),
            live: "",
            id: "o.id",
            id_type: "uuid",
            default_sort: 0,
            default_descending: false,
            search: 0,
            labels: None,
            fields: &[],
            facet: None,
            changed: None,
            base: Some(("edge.orchestrator o", &["hc"])),
            counted: None,
            light: None,
        },
        Entity::Sites => Spec {
            columns: const {
                &[
                    text("SITE", "s.site_id"),
                    text("NAME", "coalesce(s.name, '')"),
                    text("LOCATION", "coalesce(s.location, '')"),
                    text("ORCHESTRATOR", "coalesce(o.name, '')"),
                    count!("HOSTS", "hc.hosts"),
                    count!("HEALTHY", "hc.healthy"),
                    count!("STALE", "hc.stale"),
                    count!("OFFLINE", "hc.offline"),
                ]
            },
            from: concat!(
                "edge.site s LEFT JOIN edge.orchestrator o ON o.id = s.orchestrator_id LEFT JOIN LATERAL (\
                 SELECT count(*) AS hosts, ",
                health_counts!("h.status = 'Active'", "h.last_heartbeat"),
                " FROM edge.host h WHERE h.site_id = s.id AND h.deleted_at IS NULL) hc ON true"
            ),
            live: "",
            id: "s.id",
            id_type: "uuid",
            default_sort: 0,
            default_descending: false,
            search: 0,
            labels: None,
            fields: const { &[field("orchestrator", "o.name", Match::Exact)] },
            facet: None,
            changed: None,
            base: Some(("edge.site s", &["o", "hc"])),
            counted: None,
            light: None,
        },
        Entity::Clusters => Spec {
            columns: const {
                &[
                    text("CLUSTER", "c.cluster_name"),
                    count!("AGENTS", "c.agents"),
                    count!("ACTIVE", "c.active"),
                    count!("HEALTHY", "c.healthy"),
                    count!("STALE", "c.stale"),
                    count!("OFFLINE", "c.offline"),
                    Column {
                        title: "LAST HEARTBEAT",
                        kind: CellKind::Age,
                        cell: "coalesce(extract(epoch FROM c.last_heartbeat)::text, '')",
                        sort: "coalesce(c.last_heartbeat, '-infinity'::timestamptz)",
                        sort_type: "timestamptz",
                    },
                ]
            },
            from: concat!(
                "(SELECT ag.cluster_name, count(*) AS agents, \
                 count(*) FILTER (WHERE ag.status = 'ACTIVE') AS active, ",
                health_counts!("ag.status = 'ACTIVE'", "ag.last_heartbeat"),
                ", max(ag.last_heartbeat) AS last_heartbeat \
                 FROM broker.agents ag WHERE ag.deleted_at IS NULL GROUP BY ag.cluster_name) c"
            ),
            live: "",
            id: "c.cluster_name",
            id_type: "text",
            default_sort: 0,
            default_descending: false,
            search: 0,
            labels: None,
            fields: &[],
            facet: None,
            changed: None,
            base: None,
            counted: None,
            light: None,
        },
        Entity::Stacks => Spec {
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
            changed: Some("fleetdeck.stack_changed_at(st.id, st.updated_at)"),
            base: Some(("broker.stacks st", &["g", "d", "p"])),
            counted: None,
            light: Some((
                "broker.stacks st JOIN broker.generators g ON g.id = st.generator_id \
                 LEFT JOIN LATERAL (SELECT max(o.sequence_id) AS seq FROM broker.deployment_objects o \
                     WHERE o.stack_id = st.id AND o.deleted_at IS NULL) d ON true",
                &["p"],
            )),
        },
        Entity::Executions => Spec {
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
                        values: &[
                            "queued",
                            "pending",
                            "running",
                            "paused",
                            "completed",
                            "failed",
                            "cancelled",
                            "timeout",
                        ],
                    },
                    field("agent", "a.name", Match::Contains),
                    field("workflow", "w.name", Match::Contains),
                    field("framework", "w.framework", Match::Exact),
                    field("org", "coalesce(o.name, '')", Match::Contains),
                    field("since", "e.started_at", Match::Since),
                ]
            },
            facet: Some("e.status"),
            changed: Some("e.updated_at"),
            base: Some(("platform.workflow_executions e", &["w", "a", "o"])),
            // Per (workflow, agent, status), by the executions' triggers (migration 23).
            counted: Some(Counted {
                table: "fleetdeck.execution_counts e",
                joined: &[
                    (&["w"], concat!("fleetdeck.execution_counts e ", executions_workflows!())),
                    (&["a", "o"], concat!("fleetdeck.execution_counts e ", executions_agents_orgs!())),
                    (
                        &["w", "a", "o"],
                        concat!(
                            "fleetdeck.execution_counts e ",
                            executions_workflows!(),
                            " ",
                            executions_agents_orgs!()
                        ),
                    ),
                ],
                alias: "e",
                columns: &["status", "workflow_id", "agent_id"],
                n: "e.n",
            }),
            light: None,
        },
    }
}

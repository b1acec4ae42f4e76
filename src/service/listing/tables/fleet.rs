//! The Fleet pane's lists: hosts, cluster agents, orchestrators, sites and clusters.

use super::super::model::CellKind;
use super::super::specs::*;

pub(super) fn hosts() -> Spec {
    Spec {
        columns: const {
            &[
                text("HOSTNAME", "coalesce(h.hostname, '')"),
                // IP and STATUS sort on the keys kept beside the host (migration 30), by
                // indexes that heartbeats do not write.
                col("IP", "coalesce(h.ip_address, '')", "ho.ip", "text"),
                text("SITE", "s.site_id"),
                col("STATUS", "lower(coalesce(h.status, ''))", "ho.status", "text"),
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
                    // The expression of migration 27's index, which this sort walks.
                    sort: "coalesce(h.last_heartbeat, '-infinity'::timestamptz)",
                    sort_type: "timestamptz",
                },
                // The hardware sorts on its typed values (migration 24: memory and storage in
                // bytes), by the indexes of migration 29, which heartbeats do not write.
                col("ARCH", "coalesce(h.metadata->>'architecture', '')", "coalesce(hw.architecture, '')", "text"),
                col("CORES", "coalesce(h.metadata->>'cores', '')", "coalesce(hw.cores, -1)", "double precision"),
                col("MEMORY", "coalesce(h.metadata->>'memory', '')", "coalesce(hw.memory, -1)", "double precision"),
                col("STORAGE", "coalesce(h.metadata->>'storage', '')", "coalesce(hw.storage, -1)", "double precision"),
                Column {
                    title: "PERIPHERALS",
                    kind: CellKind::List,
                    cell: HOST_PERIPHERALS,
                    sort: "",
                    sort_type: "text",
                },
                Column {
                    title: "INTERFACES",
                    kind: CellKind::List,
                    cell: HOST_INTERFACES,
                    sort: "",
                    sort_type: "text",
                },
                col("MAINTENANCE", HOST_MAINTENANCE, "", "text"),
            ]
        },
        // Every host has its row of host_hardware and of host_order (kept by triggers, and read
        // again after a bulk load): inner joins, so that a sort on them can walk an index and stop.
        from: "edge.host h JOIN fleetdeck.host_hardware hw ON hw.host_id = h.id \
               JOIN fleetdeck.host_order ho ON ho.host_id = h.id \
               JOIN edge.site s ON s.id = h.site_id \
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
        changed: Some(Changed::Indexed("h.updated_at")),
        base: Some(("edge.host h", &["hw", "ho", "s", "o"])),
        counted: None,
        light: None,
    }
}

pub(super) fn agents() -> Spec {
    Spec {
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
                col("STACKS", "coalesce(r.stacks, 0)::text", "coalesce(r.stacks, 0)", "bigint"),
                col(
                    "ROUTES",
                    "coalesce(r.by_target, 0) || 't ' || coalesce(r.by_label, 0) || 'l ' || coalesce(r.by_annotation, 0) || 'a'",
                    "",
                    "text",
                ),
                col("PENDING", "coalesce(r.pending, 0)::text", "coalesce(r.pending, 0)", "bigint"),
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
        // Each agent's counts (one row, kept in place: migration 28) and last event, kept by
        // the database, and its failures in the hour before `{now}`, all agents' at once from
        // the failures' index. A sort on any of them joins every agent's by hash (a sum of
        // delta rows per agent, before migration 28, took 49-54 ms for those sorts).
        from: "broker.agents ag LEFT JOIN fleetdeck.agent_reach_counts r ON r.agent_id = ag.id \
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
        changed: Some(Changed::Reckoned("fleetdeck.agent_changed_at(ag.id, ag.updated_at)")),
        base: Some(("broker.agents ag", &["r", "le", "f1"])),
        // Without each agent's rollup (its stacks, routes, pending objects, last event and
        // failures).
        counted: None,
        light: Some(("broker.agents ag", &["r", "le", "f1"])),
    }
}

pub(super) fn orchestrators() -> Spec {
    Spec {
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
    }
}

pub(super) fn sites() -> Spec {
    Spec {
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
    }
}

pub(super) fn clusters() -> Spec {
    Spec {
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
    }
}

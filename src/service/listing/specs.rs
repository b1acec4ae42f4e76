//! What a list's SQL is made of: columns (cell and sort expressions), the fields it filters by,
//! its search column, labels and change time, and the clock its health is judged by. Each list's
//! own is in `tables`; what the panes and the CLI read of it, in `info`.

use super::model::{CellKind, Query};

pub(super) struct Column {
    pub(super) title: &'static str,
    pub(super) kind: CellKind,
    /// The cell, as text.
    pub(super) cell: &'static str,
    /// The sort key: never NULL, so that row comparisons work; empty when the column cannot be
    /// sorted on.
    pub(super) sort: &'static str,
    pub(super) sort_type: &'static str,
}

pub(super) const fn col(
    title: &'static str,
    cell: &'static str,
    sort: &'static str,
    sort_type: &'static str,
) -> Column {
    Column { title, kind: CellKind::Text, cell, sort, sort_type }
}

/// A text column whose cell is also its sort key.
pub(super) const fn text(title: &'static str, cell: &'static str) -> Column {
    Column { title, kind: CellKind::Text, cell, sort: cell, sort_type: "text" }
}

/// How a `key=value` field filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Match {
    /// Equal to the value.
    Exact,
    /// Contains the value, any case.
    Contains,
    /// The value is a duration: rows since that long ago.
    Since,
    /// healthy, stale, offline or maintenance, from an "is active" condition, a heartbeat column
    /// and an "in maintenance" condition ("false" where there is none).
    Health { active: &'static str, heartbeat: &'static str, maintenance: &'static str },
    /// Not a condition on the rows: which table the list reads (`archive=yes`, `tables::spec_for`).
    Source,
}

/// A field filter a list accepts (`:exec status=failed`): name, SQL expression, comparison.
pub(super) struct FieldSpec {
    pub(super) name: &'static str,
    pub(super) expr: &'static str,
    pub(super) how: Match,
    /// The values it accepts (any case; the canonical spelling is used), or any when empty.
    pub(super) values: &'static [&'static str],
}

pub(super) const fn field(name: &'static str, expr: &'static str, how: Match) -> FieldSpec {
    FieldSpec { name, expr, how, values: &[] }
}

pub(super) const HEALTH_VALUES: &[&str] = &["healthy", "stale", "offline"];
pub(super) const HOST_HEALTH_VALUES: &[&str] = &["healthy", "stale", "offline", "maintenance"];

pub(super) const fn health(active: &'static str, heartbeat: &'static str) -> FieldSpec {
    FieldSpec {
        name: "health",
        expr: "",
        how: Match::Health { active, heartbeat, maintenance: "false" },
        values: HEALTH_VALUES,
    }
}

/// A host in maintenance: taken out of service (Inactive) with a maintenance record.
pub(super) const HOST_IN_MAINTENANCE: &str = "(h.status IS DISTINCT FROM 'Active' AND EXISTS \
     (SELECT 1 FROM fleetdeck.host_maintenance hm WHERE hm.host_id = h.id))";

/// `{stale}` and `{offline}` in a list's SQL are the query's thresholds in seconds, `{now}` its
/// clock (numbers and a timestamp the program formats: nothing a user typed).
pub(super) fn clocked(sql: &str, q: &Query) -> String {
    if !sql.contains('{') {
        return sql.to_string();
    }
    let now = match q.at {
        Some(at) => format!("'{}'::timestamptz", at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        None => "now()".to_string(),
    };
    sql.replace("{stale}", &q.health.stale_after().as_secs().to_string())
        .replace("{offline}", &q.health.offline_after.as_secs().to_string())
        .replace("{now}", &now)
}

/// The condition for one health value (index-friendly ranges of the heartbeat).
pub(super) fn health_condition(active: &str, heartbeat: &str, maintenance: &str, value: &str) -> String {
    match value {
        "maintenance" => maintenance.to_string(),
        "healthy" => format!("({active} AND {heartbeat} > {{now}} - interval '{{stale}} seconds')"),
        "stale" => format!(
            "({active} AND {heartbeat} <= {{now}} - interval '{{stale}} seconds' \
             AND {heartbeat} > {{now}} - interval '{{offline}} seconds')"
        ),
        _ => format!(
            "(NOT coalesce({active} AND {heartbeat} > {{now}} - interval '{{offline}} seconds', false) \
             AND NOT {maintenance})"
        ),
    }
}

/// When a list's row last changed.
#[derive(Clone, Copy)]
pub(super) enum Changed {
    /// A column of the main table (`base`) with an index on it: a delta first counts through
    /// that index, up to a bound, how many rows changed, and past the bound the page is read
    /// whole instead (a delta's cost is what changed; a whole read's is the page's).
    Indexed(&'static str),
    /// Reckoned row by row (from other tables too): a delta reads every row of the list.
    Reckoned(&'static str),
}

impl Changed {
    pub(super) fn expr(self) -> &'static str {
        match self {
            Changed::Indexed(e) | Changed::Reckoned(e) => e,
        }
    }
}

pub(super) struct Labels {
    /// (table, foreign key) holding `label`.
    pub(super) labels: (&'static str, &'static str),
    /// (table, foreign key) holding `key` and `value`.
    pub(super) annotations: (&'static str, &'static str),
}

pub(super) struct Spec {
    pub(super) columns: &'static [Column],
    pub(super) from: &'static str,
    /// Extra condition every row meets (live rows only), or "".
    pub(super) live: &'static str,
    pub(super) id: &'static str,
    pub(super) id_type: &'static str,
    pub(super) default_sort: usize,
    pub(super) default_descending: bool,
    /// The column the `/` filter searches.
    pub(super) search: usize,
    pub(super) labels: Option<Labels>,
    /// `key=value` filters this list accepts.
    pub(super) fields: &'static [FieldSpec],
    /// Counted per value in every page (the executions' status header), ignoring a filter on
    /// that same field.
    pub(super) facet: Option<&'static str>,
    /// When a row last changed (for delta reads), if the list has it.
    pub(super) changed: Option<Changed>,
    /// The main table alone and the aliases of the joined ones: counting needs the joins only
    /// when a condition uses a joined table.
    pub(super) base: Option<(&'static str, &'static [&'static str])>,
    /// The list's tables without its costly joins, and those joins' aliases: a light page has
    /// the rows (and their order) at once, with `…` for the joined cells, before the full one.
    pub(super) light: Option<(&'static str, &'static [&'static str])>,
    /// Counts the database maintains for the list, to count from instead of the rows.
    pub(super) counted: Option<Counted>,
}

/// A table of counts the database maintains (`n` rows per key), standing in for the list's
/// main table when counting: `joined` joins it under the main table's alias, in place of that
/// table, so the list's conditions read the same; those may use only `columns` of that alias.
pub(super) struct Counted {
    /// The counts alone, when no condition needs the joins (`base`'s aliases).
    pub(super) table: &'static str,
    /// The counts joined to the tables of these aliases, fewest first: counting takes the first
    /// that has every alias the conditions read (a join nobody reads still costs a probe per
    /// count row).
    pub(super) joined: &'static [(&'static [&'static str], &'static str)],
    pub(super) alias: &'static str,
    pub(super) columns: &'static [&'static str],
    /// The count of one of its rows (`e.n`).
    pub(super) n: &'static str,
}

// ----- the longer cell expressions of the lists (named here so that the table stays readable) -----

/// A host's health cell: `active|heartbeat seconds`.
pub(super) const HOST_HEALTH_CELL: &str = "(CASE WHEN h.status = 'Active' THEN '1' WHEN EXISTS (SELECT 1 FROM \
     fleetdeck.host_maintenance hm WHERE hm.host_id = h.id) THEN 'm' ELSE '0' END) || '|' || \
     coalesce(extract(epoch FROM h.last_heartbeat)::text, '')";
/// Who took the host into maintenance, when and why (empty when it is not in maintenance).
pub(super) const HOST_MAINTENANCE: &str = "coalesce((SELECT 'since ' || to_char(hm.since AT TIME ZONE 'UTC', \
     'YYYY-MM-DD HH24:MI') || ' UTC by ' || hm.set_by || coalesce(': ' || hm.reason, '') \
     FROM fleetdeck.host_maintenance hm WHERE hm.host_id = h.id AND h.status IS DISTINCT FROM 'Active'), '')";
pub(super) const AGENT_HEALTH_CELL: &str = "(CASE WHEN ag.status = 'ACTIVE' THEN '1' ELSE '0' END) || '|' || \
     coalesce(extract(epoch FROM ag.last_heartbeat)::text, '')";
/// The `type` of each peripheral or interface in a host's metadata, comma-separated.
pub(super) const HOST_PERIPHERALS: &str = "coalesce((SELECT jsonb_agg(coalesce(p->>'type', '?') \
     || coalesce(' ' || (p->>'model'), ''))::text FROM jsonb_array_elements(CASE WHEN \
     jsonb_typeof(h.metadata->'peripherals') = 'array' THEN h.metadata->'peripherals' ELSE '[]' END) p), '[]')";
pub(super) const HOST_INTERFACES: &str = "coalesce((SELECT jsonb_agg(coalesce(i->>'type', '?'))::text \
     FROM jsonb_array_elements(CASE WHEN jsonb_typeof(h.metadata->'interfaces') = 'array' \
     THEN h.metadata->'interfaces' ELSE '[]' END) i), '[]')";
/// A stack's labels, then its annotations as key=value.
pub(super) const STACK_LABELS: &str = "coalesce((SELECT jsonb_agg(x ORDER BY k, x)::text FROM (\
     SELECT 0 AS k, l.label AS x FROM broker.stack_labels l WHERE l.stack_id = st.id \
     UNION ALL SELECT 1, a.key || '=' || a.value FROM broker.stack_annotations a WHERE a.stack_id = st.id) y), '[]')";
/// Where a stack's rollout stands (domain::rollout::Progress::state, in SQL).
pub(super) const STACK_STATE: &str = "CASE WHEN st.deleted_at IS NOT NULL THEN 'deleted' \
     WHEN coalesce(p.agents, 0) = 0 THEN 'unreached' \
     WHEN coalesce(p.failure, 0) > 0 THEN 'failing' \
     WHEN coalesce(p.unreported, 0) > 0 THEN 'in-progress' ELSE 'complete' END";
/// `12 ✓  2 ✗  1 pending  1 offline` (domain::rollout::Progress::describe, in SQL).
/// Which unreported agents are offline is read here at `{now}` (fleetdeck.stack_rollup): a
/// subquery of the cells, so a sorted page reckons it only for its own rows, after the sort.
pub(super) const STACK_PROGRESS: &str = "CASE WHEN coalesce(p.agents, 0) = 0 THEN 'no agent reached' \
     ELSE (SELECT concat_ws('  ', \
     CASE WHEN x.success > 0 THEN x.success || ' ✓' END, \
     CASE WHEN x.failure > 0 THEN x.failure || ' ✗' END, \
     CASE WHEN x.pending > 0 THEN x.pending || ' pending' END, \
     CASE WHEN x.offline > 0 THEN x.offline || ' offline' END) \
     FROM fleetdeck.stack_rollup(st.id, interval '{offline} seconds', {now}) x) END";
/// A gauge of the reached agents that reported SUCCESS for the desired object: `██████░░  75%`
/// (full only when every one did; empty when the stack reaches none).
pub(super) const STACK_GAUGE: &str = "CASE WHEN coalesce(p.agents, 0) = 0 THEN '' ELSE \
     repeat('█', (8 * p.success / p.agents)::int) || repeat('░', 8 - (8 * p.success / p.agents)::int) \
     || lpad((100 * p.success / p.agents)::text, 4) || '%' END";
/// DONE's sort key: the percentage done, zero-padded ('' for a stack that reaches none).
pub(super) const STACK_DONE_KEY: &str =
    "CASE WHEN coalesce(p.agents, 0) = 0 THEN '' ELSE lpad((100 * p.success / p.agents)::text, 3, '0') END";
/// PROGRESS's sort key: how many reached agents have not reported success, zero-padded.
pub(super) const STACK_PROGRESS_KEY: &str = "lpad((coalesce(p.agents, 0) - coalesce(p.success, 0))::text, 10, '0')";
/// An agent's labels, then its annotations as key=value.
pub(super) const AGENT_LABELS: &str = "coalesce((SELECT jsonb_agg(x ORDER BY k, x)::text FROM (\
     SELECT 0 AS k, l.label AS x FROM broker.agent_labels l WHERE l.agent_id = ag.id \
     UNION ALL SELECT 1, a.key || '=' || a.value FROM broker.agent_annotations a WHERE a.agent_id = ag.id) y), '[]')";

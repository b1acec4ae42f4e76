//! Keyset-paginated lists of what the panes show (packages, edge apps, solutions, instances,
//! hosts, agents, stacks, executions): a page before or after a row, the first or last page, the
//! total, under a filter and a sort. OFFSET is never used.

use sqlx::{PgPool, Postgres, QueryBuilder};

use super::names::{self, Narrowed};
use super::{Error, Result};
use crate::domain::filter::{subsequence_pattern, Filter};
use crate::domain::health::Thresholds;

/// What a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    Packages,
    Apps,
    Solutions,
    Instances,
    Hosts,
    Agents,
    Orchestrators,
    Sites,
    Clusters,
    Stacks,
    Executions,
}

impl Entity {
    pub const ALL: [Entity; 11] = [
        Entity::Packages,
        Entity::Apps,
        Entity::Solutions,
        Entity::Instances,
        Entity::Hosts,
        Entity::Agents,
        Entity::Orchestrators,
        Entity::Sites,
        Entity::Clusters,
        Entity::Stacks,
        Entity::Executions,
    ];

    /// The list's title.
    pub fn title(self) -> &'static str {
        match self {
            Entity::Packages => "Helm charts",
            Entity::Apps => "Edge apps",
            Entity::Solutions => "AI solutions",
            Entity::Instances => "Compute offers",
            Entity::Hosts => "Hosts",
            Entity::Agents => "Cluster agents",
            Entity::Orchestrators => "Orchestrators",
            Entity::Sites => "Sites",
            Entity::Clusters => "Clusters",
            Entity::Stacks => "Stacks",
            Entity::Executions => "Executions",
        }
    }

    /// Does the list have labels and annotations (`/-l`)?
    pub fn has_labels(self) -> bool {
        spec(self).labels.is_some()
    }
}

/// A row's place in the list's order: its sort value and id, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub sort: String,
    pub id: String,
}

/// Which page to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAt {
    First,
    Last,
    /// The rows after this one.
    After(Cursor),
    /// The rows before this one.
    Before(Cursor),
    /// This row and the ones after it (to refresh a window in place).
    From(Cursor),
}

/// One row: its cursor and its cells, already text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub cursor: Cursor,
    pub cells: Vec<String>,
}

/// A page, the list's total under the filter, and how many of the marked rows pass the filter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    pub rows: Vec<Row>,
    pub total: i64,
    pub marked_visible: i64,
    /// Per value of the list's facet (status), the count under the other filters.
    pub facets: Vec<(String, i64)>,
    /// The database's clock when the total was counted: where the next delta read starts.
    pub seen_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Read without the list's costly joins (`page_light`): their cells hold `…`, and the full
    /// page follows.
    pub light: bool,
}

/// How to read a list: filter, sort column and direction, and the marked rows' ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub filter: Filter,
    pub sort: usize,
    pub descending: bool,
    pub marked: Vec<String>,
    /// `key=value` filters (`status=failed`), checked against the list's fields.
    pub fields: Vec<(String, String)>,
    /// Where healthy ends and stale and offline begin (the `health=` filter and health counts).
    pub health: Thresholds,
    /// The clock health is judged by: the dashboard's (so that counts, filters and the cells it
    /// draws agree), or the database's when None.
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Query {
    /// The list's natural order, unfiltered.
    pub fn new(entity: Entity) -> Query {
        let s = spec(entity);
        Query {
            filter: Filter::None,
            sort: s.default_sort,
            descending: s.default_descending,
            marked: Vec::new(),
            fields: Vec::new(),
            health: Thresholds::default(),
            at: None,
        }
    }
}

/// How a column's cells are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// An execution status: coloured by the theme.
    Status,
    /// `start|end` as Unix seconds (end empty while running): drawn as a duration that ticks.
    Duration,
    /// `active|heartbeat` (1 or 0, Unix seconds or empty): drawn as healthy, stale or offline by
    /// the thresholds, as the clock ticks.
    Health,
    /// A moment as Unix seconds (or empty): drawn as its age, ticking ("12s", "5m", "never").
    Age,
    /// A moment as Unix seconds (or empty): drawn as a UTC date and time; JSON: RFC 3339.
    Moment,
    /// A JSON array of strings: drawn as its items, `, ` between them, an item with a space, a
    /// comma or a quote in quotes (so `bad label` is one label); JSON: the array.
    List,
    /// A whole id: drawn as its first 8 characters, as the dashboard shows ids; JSON: whole.
    ShortId,
}

struct Column {
    title: &'static str,
    kind: Kind,
    /// The cell, as text.
    cell: &'static str,
    /// The sort key: never NULL, so that row comparisons work; empty when the column cannot be
    /// sorted on.
    sort: &'static str,
    sort_type: &'static str,
}

const fn col(title: &'static str, cell: &'static str, sort: &'static str, sort_type: &'static str) -> Column {
    Column { title, kind: Kind::Text, cell, sort, sort_type }
}

/// A count column: the cell is the count as text, sorted as a number.
macro_rules! count {
    ($title:literal, $expr:literal) => {
        col($title, concat!($expr, "::text"), $expr, "bigint")
    };
}

/// A text column whose cell is also its sort key.
const fn text(title: &'static str, cell: &'static str) -> Column {
    Column { title, kind: Kind::Text, cell, sort: cell, sort_type: "text" }
}

/// How a `key=value` field filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    /// Equal to the value.
    Exact,
    /// Contains the value, any case.
    Contains,
    /// The value is a duration: rows since that long ago.
    Since,
    /// healthy, stale, offline or maintenance, from an "is active" condition, a heartbeat column
    /// and an "in maintenance" condition ("false" where there is none).
    Health { active: &'static str, heartbeat: &'static str, maintenance: &'static str },
}

/// A field filter a list accepts (`:exec status=failed`): name, SQL expression, comparison.
struct FieldSpec {
    name: &'static str,
    expr: &'static str,
    how: Match,
    /// The values it accepts (any case; the canonical spelling is used), or any when empty.
    values: &'static [&'static str],
}

const fn field(name: &'static str, expr: &'static str, how: Match) -> FieldSpec {
    FieldSpec { name, expr, how, values: &[] }
}

const HEALTH_VALUES: &[&str] = &["healthy", "stale", "offline"];
const HOST_HEALTH_VALUES: &[&str] = &["healthy", "stale", "offline", "maintenance"];

const fn health(active: &'static str, heartbeat: &'static str) -> FieldSpec {
    FieldSpec {
        name: "health",
        expr: "",
        how: Match::Health { active, heartbeat, maintenance: "false" },
        values: HEALTH_VALUES,
    }
}

/// A host in maintenance: taken out of service (Inactive) with a maintenance record.
const HOST_IN_MAINTENANCE: &str = "(h.status IS DISTINCT FROM 'Active' AND EXISTS \
     (SELECT 1 FROM fleetdeck.host_maintenance hm WHERE hm.host_id = h.id))";

/// `{stale}` and `{offline}` in a list's SQL are the query's thresholds in seconds, `{now}` its
/// clock (numbers and a timestamp the program formats: nothing a user typed).
fn clocked(sql: &str, q: &Query) -> String {
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

/// The condition for one health value (index-friendly ranges of the heartbeat).
fn health_condition(active: &str, heartbeat: &str, maintenance: &str, value: &str) -> String {
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

struct Labels {
    /// (table, foreign key) holding `label`.
    labels: (&'static str, &'static str),
    /// (table, foreign key) holding `key` and `value`.
    annotations: (&'static str, &'static str),
}

struct Spec {
    columns: &'static [Column],
    from: &'static str,
    /// Extra condition every row meets (live rows only), or "".
    live: &'static str,
    id: &'static str,
    id_type: &'static str,
    default_sort: usize,
    default_descending: bool,
    /// The column the `/` filter searches.
    search: usize,
    labels: Option<Labels>,
    /// `key=value` filters this list accepts.
    fields: &'static [FieldSpec],
    /// Counted per value in every page (the executions' status header), ignoring a filter on
    /// that same field.
    facet: Option<&'static str>,
    /// When a row last changed (for delta reads), if the list has it.
    changed: Option<&'static str>,
    /// The main table alone and the aliases of the joined ones: counting needs the joins only
    /// when a condition uses a joined table.
    base: Option<(&'static str, &'static [&'static str])>,
    /// The list's tables without its costly joins, and those joins' aliases: a light page has
    /// the rows (and their order) at once, with `…` for the joined cells, before the full one.
    light: Option<(&'static str, &'static [&'static str])>,
}

/// A host's health cell: `active|heartbeat seconds`.
const HOST_HEALTH_CELL: &str = "(CASE WHEN h.status = 'Active' THEN '1' WHEN EXISTS (SELECT 1 FROM \
     fleetdeck.host_maintenance hm WHERE hm.host_id = h.id) THEN 'm' ELSE '0' END) || '|' || \
     coalesce(extract(epoch FROM h.last_heartbeat)::text, '')";
/// Who took the host into maintenance, when and why (empty when it is not in maintenance).
const HOST_MAINTENANCE: &str = "coalesce((SELECT 'since ' || to_char(hm.since AT TIME ZONE 'UTC', \
     'YYYY-MM-DD HH24:MI') || ' UTC by ' || hm.set_by || coalesce(': ' || hm.reason, '') \
     FROM fleetdeck.host_maintenance hm WHERE hm.host_id = h.id AND h.status IS DISTINCT FROM 'Active'), '')";
const AGENT_HEALTH_CELL: &str = "(CASE WHEN ag.status = 'ACTIVE' THEN '1' ELSE '0' END) || '|' || \
     coalesce(extract(epoch FROM ag.last_heartbeat)::text, '')";
/// The `type` of each peripheral or interface in a host's metadata, comma-separated.
const HOST_PERIPHERALS: &str = "coalesce((SELECT jsonb_agg(coalesce(p->>'type', '?') \
     || coalesce(' ' || (p->>'model'), ''))::text FROM jsonb_array_elements(CASE WHEN \
     jsonb_typeof(h.metadata->'peripherals') = 'array' THEN h.metadata->'peripherals' ELSE '[]' END) p), '[]')";
const HOST_INTERFACES: &str = "coalesce((SELECT jsonb_agg(coalesce(i->>'type', '?'))::text \
     FROM jsonb_array_elements(CASE WHEN jsonb_typeof(h.metadata->'interfaces') = 'array' \
     THEN h.metadata->'interfaces' ELSE '[]' END) i), '[]')";
/// A stack's labels, then its annotations as key=value.
const STACK_LABELS: &str = "coalesce((SELECT jsonb_agg(x ORDER BY k, x)::text FROM (\
     SELECT 0 AS k, l.label AS x FROM broker.stack_labels l WHERE l.stack_id = st.id \
     UNION ALL SELECT 1, a.key || '=' || a.value FROM broker.stack_annotations a WHERE a.stack_id = st.id) y), '[]')";
/// Where a stack's rollout stands (domain::rollout::Progress::state, in SQL).
const STACK_STATE: &str = "CASE WHEN st.deleted_at IS NOT NULL THEN 'deleted' \
     WHEN coalesce(p.agents, 0) = 0 THEN 'unreached' \
     WHEN coalesce(p.failure, 0) > 0 THEN 'failing' \
     WHEN coalesce(p.pending, 0) + coalesce(p.offline, 0) > 0 THEN 'in-progress' ELSE 'complete' END";
/// `12 ✓  2 ✗  1 pending  1 offline` (domain::rollout::Progress::describe, in SQL).
const STACK_PROGRESS: &str = "concat_ws('  ', \
     CASE WHEN coalesce(p.agents, 0) = 0 THEN 'no agent reached' END, \
     CASE WHEN p.success > 0 THEN p.success || ' ✓' END, \
     CASE WHEN p.failure > 0 THEN p.failure || ' ✗' END, \
     CASE WHEN p.pending > 0 THEN p.pending || ' pending' END, \
     CASE WHEN p.offline > 0 THEN p.offline || ' offline' END)";
/// A gauge of the reached agents that reported SUCCESS for the desired object: `██████░░  75%`
/// (full only when every one did; empty when the stack reaches none).
const STACK_GAUGE: &str = "CASE WHEN coalesce(p.agents, 0) = 0 THEN '' ELSE \
     repeat('█', (8 * p.success / p.agents)::int) || repeat('░', 8 - (8 * p.success / p.agents)::int) \
     || lpad((100 * p.success / p.agents)::text, 4) || '%' END";
/// An agent's labels, then its annotations as key=value.
const AGENT_LABELS: &str = "coalesce((SELECT jsonb_agg(x ORDER BY k, x)::text FROM (\
     SELECT 0 AS k, l.label AS x FROM broker.agent_labels l WHERE l.agent_id = ag.id \
     UNION ALL SELECT 1, a.key || '=' || a.value FROM broker.agent_annotations a WHERE a.agent_id = ag.id) y), '[]')";

fn spec(entity: Entity) -> Spec {
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
                        kind: Kind::Health,
                        cell: HOST_HEALTH_CELL,
                        sort: "CASE WHEN h.status = 'Active' THEN coalesce(h.last_heartbeat, '-infinity') \
                               ELSE '-infinity' END",
                        sort_type: "timestamptz",
                    },
                    Column {
                        title: "HEARTBEAT",
                        kind: Kind::Age,
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
                    Column { title: "PERIPHERALS", kind: Kind::List, cell: HOST_PERIPHERALS, sort: "", sort_type: "text" },
                    Column { title: "INTERFACES", kind: Kind::List, cell: HOST_INTERFACES, sort: "", sort_type: "text" },
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
                        kind: Kind::Health,
                        cell: AGENT_HEALTH_CELL,
                        sort: "CASE WHEN ag.status = 'ACTIVE' THEN coalesce(ag.last_heartbeat, '-infinity') \
                               ELSE '-infinity' END",
                        sort_type: "timestamptz",
                    },
                    Column {
                        title: "HEARTBEAT",
                        kind: Kind::Age,
                        cell: "coalesce(extract(epoch FROM ag.last_heartbeat)::text, '')",
                        sort: "coalesce(ag.last_heartbeat, '-infinity'::timestamptz)",
                        sort_type: "timestamptz",
                    },
                    col("STACKS", "r.stacks::text", "r.stacks", "integer"),
                    col("ROUTES", "r.by_target || 't ' || r.by_label || 'l ' || r.by_annotation || 'a'", "", "text"),
                    col("PENDING", "r.pending::text", "r.pending", "integer"),
                    Column {
                        title: "LAST EVENT",
                        kind: Kind::Age,
                        cell: "coalesce(extract(epoch FROM r.last_event)::text, '')",
                        sort: "coalesce(r.last_event, '-infinity'::timestamptz)",
                        sort_type: "timestamptz",
                    },
                    col("FAIL 1H", "r.failures_1h::text", "r.failures_1h", "integer"),
                    Column { title: "LABELS", kind: Kind::List, cell: AGENT_LABELS, sort: "", sort_type: "text" },
                ]
            },
            from: "broker.agents ag LEFT JOIN LATERAL fleetdeck.agent_rollup(ag.id, {now}) r ON true",
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
            base: Some(("broker.agents ag", &["r"])),
            // Without each agent's rollup (its stacks, routes, pending objects, last event and
            // failures: about 0.3 ms an agent, 200 on a page).
            light: Some(("broker.agents ag", &["r"])),
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
                        kind: Kind::Age,
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
                        kind: Kind::Status,
                        cell: STACK_STATE,
                        sort: STACK_STATE,
                        sort_type: "text",
                    },
                    col("DONE", STACK_GAUGE, "", "text"),
                    col("PROGRESS", STACK_PROGRESS, "", "text"),
                    Column { title: "LABELS", kind: Kind::List, cell: STACK_LABELS, sort: "", sort_type: "text" },
                    Column {
                        title: "AGE",
                        kind: Kind::Age,
                        cell: "extract(epoch FROM st.created_at)::text",
                        sort: "st.created_at",
                        sort_type: "timestamptz",
                    },
                    text("DELETED", "CASE WHEN st.deleted_at IS NULL THEN '' ELSE 'deleted' END"),
                ]
            },
            // Per stack: the desired sequence, the agents reached (by route) and what they
            // reported for the desired object (fleetdeck.stack_progress, migration 14).
            from: "broker.stacks st JOIN broker.generators g ON g.id = st.generator_id \
                   LEFT JOIN LATERAL (SELECT max(o.sequence_id) AS seq FROM broker.deployment_objects o \
                       WHERE o.stack_id = st.id AND o.deleted_at IS NULL) d ON true \
                   LEFT JOIN LATERAL fleetdeck.stack_progress(st.id, interval '{offline} seconds', {now}) p ON true",
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
                        kind: Kind::Status,
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
                        kind: Kind::Moment,
                        cell: "coalesce(extract(epoch FROM e.started_at)::text, '')",
                        sort: "coalesce(e.started_at, '-infinity'::timestamptz)",
                        sort_type: "timestamptz",
                    },
                    Column {
                        title: "DURATION",
                        kind: Kind::Duration,
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
                        kind: Kind::ShortId,
                        cell: "coalesce(e.correlation_id::text, '')",
                        sort: "coalesce(e.correlation_id::text, '')",
                        sort_type: "text",
                    },
                ]
            },
            from: "platform.workflow_executions e JOIN platform.workflows w ON w.id = e.workflow_id \
                   JOIN platform.agents a ON a.id = e.agent_id \
                   LEFT JOIN platform.organizations o ON a.owner_type = 'organization' AND o.id = a.owner_id",
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
            light: None,
        },
    }
}

/// The column titles of an entity's list.
pub fn columns(entity: Entity) -> Vec<&'static str> {
    spec(entity).columns.iter().map(|c| c.title).collect()
}

/// How each column is drawn.
pub fn kinds(entity: Entity) -> Vec<Kind> {
    spec(entity).columns.iter().map(|c| c.kind).collect()
}

/// Which columns hold whole numbers (JSON output gives them as numbers).
pub fn integral(entity: Entity) -> Vec<bool> {
    spec(entity).columns.iter().map(|c| matches!(c.sort_type, "integer" | "bigint")).collect()
}

/// Which columns hold numbers with fractions (JSON output gives them as numbers).
pub fn fractional(entity: Entity) -> Vec<bool> {
    spec(entity).columns.iter().map(|c| matches!(c.sort_type, "numeric" | "double precision")).collect()
}

/// The columns from the most to the least important, by title, for a narrow screen: the name
/// and the state first (a list not named here keeps its left-to-right order).
pub fn priority(entity: Entity) -> Vec<usize> {
    let titles: &[&str] = match entity {
        Entity::Executions => &["STATUS", "WORKFLOW", "DURATION", "STARTED", "AGENT", "RETRIES", "ORGANISATION"],
        Entity::Stacks => &["NAME", "STATE", "DONE", "PROGRESS", "AGENTS", "SEQ", "ROUTES", "GENERATOR"],
        Entity::Hosts => &["HOSTNAME", "HEALTH", "HEARTBEAT", "STATUS", "SITE", "IP"],
        Entity::Agents => &["NAME", "HEALTH", "CLUSTER", "STATUS", "PENDING", "FAIL 1H", "STACKS", "HEARTBEAT"],
        _ => &[],
    };
    let columns = columns(entity);
    titles.iter().filter_map(|t| columns.iter().position(|c| c == t)).collect()
}

/// Which columns can be sorted on.
pub fn sortable(entity: Entity) -> Vec<bool> {
    spec(entity).columns.iter().map(|c| !c.sort.is_empty()).collect()
}

/// A cell as shown: durations, health and ages computed at `now`, text sanitised (the
/// dashboard's tables and the CLI's lists alike).
pub fn shown(kind: Option<&Kind>, text: &str, now: chrono::DateTime<chrono::Utc>, t: &Thresholds) -> String {
    use crate::domain::health::{age_cell, health_cell};
    match kind {
        Some(Kind::Duration) => crate::domain::execution::duration_cell(text, now.timestamp_millis() as f64 / 1000.0),
        Some(Kind::Health) => health_cell(text, now, t).map(|h| h.as_str().to_string()).unwrap_or_default(),
        Some(Kind::Age) => age_cell(text, now),
        Some(Kind::Moment) => moment_cell(text),
        Some(Kind::List) => match list_items(text) {
            Some(items) => crate::domain::text::sanitize_cell(&list_cell(&items), CELL_MAX),
            None => crate::domain::text::sanitize_cell(text, CELL_MAX),
        },
        Some(Kind::ShortId) => crate::domain::text::sanitize_cell(&text.chars().take(8).collect::<String>(), 8),
        _ => crate::domain::text::sanitize_cell(text, CELL_MAX),
    }
}

/// A moment cell (Unix seconds) as `YYYY-MM-DD HH:MM:SS` in UTC; empty stays empty.
pub fn moment_cell(text: &str) -> String {
    crate::domain::health::moment(text).map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
}

/// A list cell's items (a JSON array of strings), or None when it is not one (a light page's …).
pub fn list_items(text: &str) -> Option<Vec<String>> {
    serde_json::from_str::<Vec<String>>(text).ok()
}

/// Items as one cell: `, ` between them; an item holding a space, comma or quote is quoted.
pub fn list_cell(items: &[String]) -> String {
    items
        .iter()
        .map(|i| {
            if i.is_empty() || i.chars().any(|c| c.is_whitespace() || c == ',' || c == '"') {
                format!("{i:?}")
            } else {
                i.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Cells are cut to this many characters before drawing.
pub const CELL_MAX: usize = 200;

/// The `key=value` filters a list accepts.
pub fn field_names(entity: Entity) -> Vec<&'static str> {
    spec(entity).fields.iter().map(|f| f.name).collect()
}

/// The values the status header counts, when the list has one.
pub fn has_facet(entity: Entity) -> bool {
    spec(entity).facet.is_some()
}

/// The column the `/` filter searches (and highlights).
pub fn search_column(entity: Entity) -> usize {
    spec(entity).search
}

/// `WHERE …` for the live rows under the filter (always starts a WHERE clause).
fn push_conditions(
    qb: &mut QueryBuilder<'_, Postgres>,
    s: &Spec,
    query: &Query,
    skip_field: Option<&str>,
) -> Result<()> {
    qb.push(" WHERE true");
    push_terms(qb, s, query, skip_field)
}

/// The list's conditions, each as ` AND …` (after `WHERE true`, or inside `(true … )`).
fn push_terms(qb: &mut QueryBuilder<'_, Postgres>, s: &Spec, query: &Query, skip_field: Option<&str>) -> Result<()> {
    let filter = &query.filter;
    let t = |sql: &str| clocked(sql, query);
    for (name, value) in &query.fields {
        if Some(name.as_str()) == skip_field {
            continue;
        }
        let (field, value) = check_field(s, name, value)?;
        match field.how {
            Match::Exact => {
                qb.push(format!(" AND {} = ", field.expr)).push_bind(value);
            }
            Match::Contains => {
                qb.push(format!(" AND strpos(lower({}), lower(", field.expr)).push_bind(value).push(")) > 0");
            }
            Match::Since => {
                let secs = since_seconds(&value).map_err(|reason| Error::Invalid { field: name.clone(), reason })?;
                qb.push(format!(" AND {} >= now() - make_interval(secs => ", field.expr)).push_bind(secs).push(")");
            }
            Match::Health { active, heartbeat, maintenance } => {
                qb.push(" AND ").push(t(&health_condition(active, heartbeat, maintenance, &value)));
            }
        }
    }
    if !s.live.is_empty() {
        qb.push(" AND ").push(s.live);
    }
    let search = t(s.columns[s.search].cell);
    match filter {
        Filter::None => {}
        Filter::Fuzzy(q) => {
            qb.push(format!(" AND {search} ILIKE ")).push_bind(subsequence_pattern(q));
        }
        Filter::Invert(q) => {
            qb.push(format!(" AND {search} NOT ILIKE ")).push_bind(subsequence_pattern(q));
        }
        Filter::Exact(q) => {
            qb.push(format!(" AND strpos({search}, ")).push_bind(q.clone()).push(") > 0");
        }
        Filter::Label { key, value } => {
            let Some(labels) = &s.labels else {
                return Err(Error::Invalid {
                    field: "filter".into(),
                    reason: "-l: this list has no labels or annotations".into(),
                });
            };
            match value {
                Some(v) => {
                    let (table, fk) = labels.annotations;
                    qb.push(format!(" AND EXISTS (SELECT 1 FROM {table} x WHERE x.{fk} = {} AND x.key = ", s.id))
                        .push_bind(key.clone())
                        .push(" AND x.value = ")
                        .push_bind(v.clone())
                        .push(")");
                }
                None => {
                    let (table, fk) = labels.labels;
                    qb.push(format!(" AND EXISTS (SELECT 1 FROM {table} x WHERE x.{fk} = {} AND x.label = ", s.id))
                        .push_bind(key.clone())
                        .push(")");
                }
            }
        }
    }
    Ok(())
}

/// The field filter `name` and its value in canonical spelling, or what is wrong with them.
fn check_field<'a>(s: &'a Spec, name: &str, value: &str) -> Result<(&'a FieldSpec, String)> {
    let field = s.fields.iter().find(|f| f.name == name).ok_or_else(|| Error::Invalid {
        field: name.to_string(),
        reason: if s.fields.is_empty() {
            "this list has no field filters".into()
        } else {
            format!("unknown filter (known: {})", s.fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", "))
        },
    })?;
    if value.is_empty() {
        return Err(Error::Invalid { field: name.to_string(), reason: "the value is empty".into() });
    }
    if field.values.is_empty() {
        return Ok((field, value.to_string()));
    }
    match field.values.iter().find(|v| v.eq_ignore_ascii_case(value)) {
        Some(v) => Ok((field, v.to_string())),
        None => Err(Error::Invalid {
            field: name.to_string(),
            reason: format!("{value:?} is not a {name} (one of {})", field.values.join(", ")),
        }),
    }
}

/// `90s`, `15m`, `2h`, `7d` → seconds.
pub fn since_seconds(text: &str) -> std::result::Result<f64, String> {
    humantime::parse_duration(text)
        .map(|d| d.as_secs_f64())
        .map_err(|_| format!("{text:?} is not a duration such as 15m, 2h or 7d"))
}

/// Check `key=value` filters for a list without running them: the first problem, naming the key.
pub fn check_fields(entity: Entity, fields: &[(String, String)]) -> Result<()> {
    let s = spec(entity);
    for (name, value) in fields {
        let (f, _) = check_field(&s, name, value)?;
        if f.how == Match::Since {
            since_seconds(value).map_err(|reason| Error::Invalid { field: name.clone(), reason })?;
        }
    }
    Ok(())
}

/// Does `expr` use one of these table aliases (`w.name` uses `w`)?
fn uses_alias(expr: &str, aliases: &[&str]) -> bool {
    aliases.iter().any(|a| {
        expr.match_indices(&format!("{a}.")).any(|(i, _)| {
            i == 0 || !expr[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

/// What to count over for `query`: the main table alone when no condition needs a join.
fn count_from(s: &Spec, query: &Query) -> &'static str {
    let Some((base, aliases)) = s.base else { return s.from };
    let filter_joins = !query.filter.is_none() && uses_alias(s.columns[s.search].cell, aliases);
    let field_joins =
        query.fields.iter().any(|(name, _)| s.fields.iter().any(|f| f.name == name && uses_alias(f.expr, aliases)));
    if filter_joins || field_joins {
        s.from
    } else {
        base
    }
}

/// The column a query sorts on, if it exists and can be sorted on.
fn sort_column<'a>(s: &'a Spec, query: &Query) -> Result<&'a Column> {
    let column = s.columns.get(query.sort).ok_or_else(|| Error::Invalid {
        field: "sort".into(),
        reason: format!("no column {} (the list has {})", query.sort, s.columns.len()),
    })?;
    if column.sort.is_empty() {
        return Err(Error::Invalid { field: "sort".into(), reason: format!("{} cannot be sorted on", column.title) });
    }
    Ok(column)
}

/// The SELECT list of a page or delta: sort key, id and cells as text, from the list's tables.
fn select(s: &Spec, column: &Column, query: &Query, extra: &str, light: bool) -> String {
    let (select, from) = match (light, s.light) {
        (true, Some((from, dropped))) => {
            let cells: Vec<&str> =
                s.columns.iter().map(|c| if uses_alias(c.cell, dropped) { "'…'" } else { c.cell }).collect();
            (select_cells(s, column, query, extra, &cells), from)
        }
        _ => (select_list(s, column, query, extra), s.from),
    };
    format!("{select} FROM {}", clocked(from, query))
}

/// `SELECT` sort key, id and cells, then `extra`; no `FROM`.
fn select_list(s: &Spec, column: &Column, query: &Query, extra: &str) -> String {
    let cells: Vec<&str> = s.columns.iter().map(|c| c.cell).collect();
    select_cells(s, column, query, extra, &cells)
}

fn select_cells(s: &Spec, column: &Column, query: &Query, extra: &str, cells: &[&str]) -> String {
    clocked(
        &format!(
            "SELECT ({sort})::text, ({id})::text, ARRAY[{cells}]::text[]{extra}",
            sort = column.sort,
            id = s.id,
            cells = cells.join(", "),
        ),
        query,
    )
}

/// Read one page (at most `limit` rows, in display order), the total under the filter, and how
/// many of `query.marked` pass the filter.
pub async fn page(pool: &PgPool, entity: Entity, query: &Query, at: &PageAt, limit: i64) -> Result<Page> {
    page_within(pool, entity, query, at, limit, None).await
}

/// `page`, with the rows the filter can match already found in memory (`names::Names`): few
/// of them are read by id, and when nothing else filters the counts are memory's (the database
/// counts only the candidates memory cannot judge).
pub async fn page_within(
    pool: &PgPool,
    entity: Entity,
    query: &Query,
    at: &PageAt,
    limit: i64,
    narrowed: Option<&Narrowed>,
) -> Result<Page> {
    read_page(pool, entity, query, at, limit, narrowed, false).await
}

/// Can `query`'s page be read light first (`page_light`)? When the list has costly joins and
/// neither its sort nor its filters need them.
pub fn has_light(entity: Entity, query: &Query) -> bool {
    let s = spec(entity);
    let Some((_, dropped)) = s.light else { return false };
    let Some(column) = s.columns.get(query.sort) else { return false };
    let filter_needs = !query.filter.is_none() && uses_alias(s.columns[s.search].cell, dropped);
    let field_needs =
        query.fields.iter().any(|(name, _)| s.fields.iter().any(|f| f.name == name && uses_alias(f.expr, dropped)));
    !uses_alias(column.sort, dropped) && !filter_needs && !field_needs
}

/// `page` without the list's costly joins: the same rows in the same order, the same total,
/// with `…` in the cells those joins make (a stack's reach and progress). What a keystroke shows
/// at once while the full page is read. None when the query needs those joins (`has_light`).
pub async fn page_light(
    pool: &PgPool,
    entity: Entity,
    query: &Query,
    at: &PageAt,
    limit: i64,
    narrowed: Option<&Narrowed>,
) -> Result<Option<Page>> {
    if !has_light(entity, query) {
        return Ok(None);
    }
    read_page(pool, entity, query, at, limit, narrowed, true).await.map(Some)
}

async fn read_page(
    pool: &PgPool,
    entity: Entity,
    query: &Query,
    at: &PageAt,
    limit: i64,
    narrowed: Option<&Narrowed>,
    light: bool,
) -> Result<Page> {
    let s = spec(entity);
    // Few candidates are read by id: when memory can tell which of them the page holds (sorted
    // by the name, nothing else filtering), only those.
    let by_id = narrowed.filter(|n| n.ids.len() <= names::BY_ID).map(|n| {
        let sorted_by_name = query.sort == s.search && query.fields.is_empty() && s.facet.is_none();
        let page = sorted_by_name.then(|| n.page(at, query.descending, limit.max(0) as usize)).flatten();
        page.unwrap_or_else(|| n.ids.clone())
    });
    // The filter is the only condition: memory has the counts, but for its unsure candidates.
    let counted_in_memory = narrowed.filter(|_| query.fields.is_empty() && s.facet.is_none() && s.id_type == "uuid");
    // How many of `ids` pass the list's conditions, by the database.
    let spec_ref = &s;
    let count_among = |ids: Vec<uuid::Uuid>| async move {
        let s = spec_ref;
        let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT count(*) FROM {}", clocked(s.from, query)));
        push_conditions(&mut qb, s, query, None)?;
        qb.push(format!(" AND {} = ANY(", s.id)).push_bind(ids).push(")");
        Ok::<i64, Error>(qb.build_query_scalar().fetch_one(pool).await?)
    };
    let push_ids = |qb: &mut QueryBuilder<'_, Postgres>| {
        if let Some(ids) = &by_id {
            qb.push(format!(" AND {} = ANY(", s.id)).push_bind(ids.clone()).push(")");
        }
    };
    let column = sort_column(&s, query)?;
    // Display order and its reverse; "forward" walks the display order.
    let (fwd, back, after, before, from) =
        if query.descending { ("DESC", "ASC", "<", ">", "<=") } else { ("ASC", "DESC", ">", "<", ">=") };
    let (condition, direction, reversed) = match at {
        PageAt::First => ("", fwd, false),
        PageAt::Last => ("", back, true),
        PageAt::After(_) => (after, fwd, false),
        PageAt::From(_) => (from, fwd, false),
        PageAt::Before(_) => (before, back, true),
    };
    let mut qb = QueryBuilder::<Postgres>::new(select(&s, column, query, "", light));
    push_conditions(&mut qb, &s, query, None)?;
    push_ids(&mut qb);
    if let PageAt::After(c) | PageAt::Before(c) | PageAt::From(c) = at {
        qb.push(format!(" AND ({}, {}) {condition} (", clocked(column.sort, query), s.id))
            .push_bind(c.sort.clone())
            .push(format!("::{}, ", column.sort_type))
            .push_bind(c.id.clone())
            .push(format!("::{})", s.id_type));
    }
    qb.push(format!(" ORDER BY {} {direction}, {} {direction} LIMIT ", clocked(column.sort, query), s.id))
        .push_bind(limit);
    let rows = async {
        qb.build_query_as::<(Option<String>, String, Vec<String>)>().fetch_all(pool).await.map_err(Error::from)
    };
    let counted = clocked(count_from(&s, query), query);
    // The total and the status counts run beside the page, each on its own connection. With a
    // status header the total is its sum (or the count of the status shown).
    let totals = async {
        if let Some(n) = counted_in_memory {
            let unsure = match n.unsure.is_empty() {
                true => 0,
                false => count_among(n.unsure.clone()).await?,
            };
            return Ok::<_, Error>(((n.ids.len() - n.unsure.len()) as i64 + unsure, Vec::new(), n.seen_at));
        }
        match s.facet {
            None => {
                let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT count(*), now() FROM {counted}"));
                push_conditions(&mut qb, &s, query, None)?;
                push_ids(&mut qb);
                let (total, seen_at): (i64, chrono::DateTime<chrono::Utc>) =
                    qb.build_query_as().fetch_one(pool).await?;
                Ok::<_, Error>((total, Vec::new(), seen_at))
            }
            Some(expr) => {
                let mut qb =
                    QueryBuilder::<Postgres>::new(format!("SELECT ({expr})::text, count(*), now() FROM {counted}"));
                let skip = s.fields.iter().find(|f| f.expr == expr).map(|f| f.name);
                push_conditions(&mut qb, &s, query, skip)?;
                push_ids(&mut qb);
                qb.push(" GROUP BY 1 ORDER BY 1");
                let found = qb.build_query_as::<(String, i64, chrono::DateTime<chrono::Utc>)>().fetch_all(pool).await?;
                let seen_at = match found.first() {
                    Some((_, _, t)) => *t,
                    None => sqlx::query_scalar("SELECT now()").fetch_one(pool).await?,
                };
                let facets: Vec<(String, i64)> = found.into_iter().map(|(k, n, _)| (k, n)).collect();
                let shown = skip
                    .and_then(|name| query.fields.iter().find(|(k, _)| k == name))
                    .and_then(|(k, v)| check_field(&s, k, v).ok())
                    .map(|(_, v)| v);
                let total = match shown {
                    Some(v) => facets.iter().find(|(k, _)| *k == v).map(|(_, n)| *n).unwrap_or(0),
                    None => facets.iter().map(|(_, n)| n).sum(),
                };
                Ok((total, facets, seen_at))
            }
        }
    };
    let marked = async {
        if query.marked.is_empty() {
            return Ok(0);
        }
        if let Some(n) = counted_in_memory {
            let marked: std::collections::HashSet<uuid::Uuid> =
                query.marked.iter().filter_map(|id| id.parse().ok()).collect();
            let unsure: Vec<uuid::Uuid> = n.unsure.iter().filter(|id| marked.contains(id)).copied().collect();
            let sure = n.ids.iter().filter(|id| marked.contains(id)).count() - unsure.len();
            let unsure = match unsure.is_empty() {
                true => 0,
                false => count_among(unsure).await?,
            };
            return Ok(sure as i64 + unsure);
        }
        let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT count(*) FROM {counted}"));
        push_conditions(&mut qb, &s, query, None)?;
        push_ids(&mut qb);
        qb.push(format!(" AND ({})::text = ANY(", s.id)).push_bind(query.marked.clone()).push(")");
        Ok::<i64, Error>(qb.build_query_scalar().fetch_one(pool).await?)
    };
    let (found, (total, facets, seen_at), marked_visible) = tokio::try_join!(rows, totals, marked)?;
    let mut rows: Vec<Row> = found
        .into_iter()
        .map(|(sort, id, cells)| Row { cursor: Cursor { sort: sort.unwrap_or_default(), id }, cells })
        .collect();
    if reversed {
        rows.reverse();
    }
    Ok(Page { rows, total, marked_visible, facets, seen_at: Some(seen_at), light })
}

/// The rows a table holds, for a delta read: its first and last row, and whether it starts at
/// the top of the list (then new rows before it count too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub first: Cursor,
    pub last: Cursor,
    pub at_top: bool,
}

/// What changed in a window of a list since a moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delta {
    /// Rows of the window (or above it, when it is at the top) changed since then and passing
    /// the query's filters, in no order.
    pub rows: Vec<Row>,
    /// Rows of the window changed since then that no longer pass the filters (a paused row
    /// under `status=running`, a deleted one): they leave the list.
    pub left: Vec<Row>,
    /// False when more rows changed than one delta reads: read the page instead.
    pub complete: bool,
    /// The database's clock when it was read: the next delta's `since`.
    pub seen_at: Option<chrono::DateTime<chrono::Utc>>,
    /// False when the list cannot be read by delta (no change time): read the page instead.
    pub supported: bool,
}

/// Can the list be read by delta?
pub fn has_delta(entity: Entity) -> bool {
    spec(entity).changed.is_some()
}

/// The rows of the window `first ..= last` (cursors, in display order) that changed after
/// `since - overlap`, each with whether it still passes the query's filters; with `at_top`,
/// also the rows before `first` (new rows arriving on top). At most `limit` rows. Uses the
/// index on the change time, so it costs what changed, not what the list holds. The filters
/// are not a condition of the read: a row that changed out of them must still be seen, to
/// leave the list.
pub async fn delta(
    pool: &PgPool,
    entity: Entity,
    query: &Query,
    window: &Window,
    since: chrono::DateTime<chrono::Utc>,
    overlap: std::time::Duration,
    limit: i64,
) -> Result<Delta> {
    let s = spec(entity);
    let Some(changed) = s.changed else { return Ok(Delta::default()) };
    let column = sort_column(&s, query)?;
    let (from_op, to_op) = if query.descending { ("<=", ">=") } else { (">=", "<=") };
    let mut qb = QueryBuilder::<Postgres>::new(select_list(&s, column, query, ", now(), coalesce(true"));
    push_terms(&mut qb, &s, query, None)?;
    qb.push(format!(", false) FROM {} WHERE true", clocked(s.from, query)));
    let since = since - chrono::Duration::from_std(overlap).unwrap_or_default();
    qb.push(format!(" AND {changed} > ")).push_bind(since);
    // Inside the window (or anywhere before its end, when it is at the top).
    if !window.at_top {
        qb.push(format!(" AND ({}, {}) {from_op} (", clocked(column.sort, query), s.id))
            .push_bind(window.first.sort.clone())
            .push(format!("::{}, ", column.sort_type))
            .push_bind(window.first.id.clone())
            .push(format!("::{})", s.id_type));
    }
    qb.push(format!(" AND ({}, {}) {to_op} (", clocked(column.sort, query), s.id))
        .push_bind(window.last.sort.clone())
        .push(format!("::{}, ", column.sort_type))
        .push_bind(window.last.id.clone())
        .push(format!("::{})", s.id_type));
    qb.push(" LIMIT ").push_bind(limit);
    let found = qb
        .build_query_as::<(Option<String>, String, Vec<String>, chrono::DateTime<chrono::Utc>, bool)>()
        .fetch_all(pool)
        .await?;
    let seen_at = match found.first() {
        Some((_, _, _, t, _)) => Some(*t),
        None => Some(sqlx::query_scalar("SELECT now()").fetch_one(pool).await?),
    };
    let complete = (found.len() as i64) < limit;
    let (mut rows, mut left) = (Vec::new(), Vec::new());
    for (sort, id, cells, _, passes) in found {
        let row = Row { cursor: Cursor { sort: sort.unwrap_or_default(), id }, cells };
        if passes {
            rows.push(row);
        } else {
            left.push(row);
        }
    }
    Ok(Delta { rows, left, complete, seen_at, supported: true })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

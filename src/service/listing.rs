//! Keyset-paginated lists of what the panes show (packages, edge apps, solutions, instances,
//! hosts, agents, stacks, executions): a page before or after a row, the first or last page, the
//! total, under a filter and a sort. OFFSET is never used.

use sqlx::{PgPool, Postgres, QueryBuilder};

use super::{Error, Result};
use crate::domain::filter::{subsequence_pattern, Filter};

/// What a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    Packages,
    Apps,
    Solutions,
    Instances,
    Hosts,
    Agents,
    Stacks,
    Executions,
}

impl Entity {
    pub const ALL: [Entity; 8] = [
        Entity::Packages,
        Entity::Apps,
        Entity::Solutions,
        Entity::Instances,
        Entity::Hosts,
        Entity::Agents,
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
}

struct Column {
    title: &'static str,
    kind: Kind,
    /// The cell, as text.
    cell: &'static str,
    /// The sort key: never NULL, so that row comparisons work.
    sort: &'static str,
    sort_type: &'static str,
}

const fn col(title: &'static str, cell: &'static str, sort: &'static str, sort_type: &'static str) -> Column {
    Column { title, kind: Kind::Text, cell, sort, sort_type }
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
}

/// A field filter a list accepts (`:exec status=failed`): name, SQL expression, comparison.
struct FieldSpec {
    name: &'static str,
    expr: &'static str,
    how: Match,
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
}

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
        },
        Entity::Instances => Spec {
            columns: const {
                &[
                    text("NAME", "coalesce(i.name, '')"),
                    text("PROVIDER", "coalesce(i.provider, '')"),
                    text("TYPE", "coalesce(i.instance_type, '')"),
                    col("VCPU", "coalesce(i.cpu_cores::text, '')", "coalesce(i.cpu_cores, -1)", "integer"),
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
        },
        Entity::Hosts => Spec {
            columns: const {
                &[
                    text("HOSTNAME", "coalesce(h.hostname, '')"),
                    text("IP", "coalesce(h.ip_address, '')"),
                    text("SITE", "s.site_id"),
                    text("STATUS", "coalesce(h.status, '')"),
                    col(
                        "LAST HEARTBEAT",
                        "coalesce(to_char(h.last_heartbeat AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), 'never')",
                        "coalesce(h.last_heartbeat, '-infinity'::timestamptz)",
                        "timestamptz",
                    ),
                ]
            },
            from: "edge.host h JOIN edge.site s ON s.id = h.site_id",
            live: "",
            id: "h.id",
            id_type: "uuid",
            default_sort: 0,
            default_descending: false,
            search: 0,
            labels: None,
            fields: &[],
            facet: None,
            changed: Some("h.updated_at"),
            base: None,
        },
        Entity::Agents => Spec {
            columns: const {
                &[
                    text("NAME", "ag.name"),
                    text("CLUSTER", "ag.cluster_name"),
                    text("STATUS", "ag.status"),
                    col(
                        "LAST HEARTBEAT",
                        "coalesce(to_char(ag.last_heartbeat AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), 'never')",
                        "coalesce(ag.last_heartbeat, '-infinity'::timestamptz)",
                        "timestamptz",
                    ),
                ]
            },
            from: "broker.agents ag",
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
            fields: &[],
            facet: None,
            changed: Some("ag.updated_at"),
            base: None,
        },
        Entity::Stacks => Spec {
            columns: const {
                &[
                    text("NAME", "st.name"),
                    text("GENERATOR", "g.name"),
                    col(
                        "CREATED",
                        "to_char(st.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')",
                        "st.created_at",
                        "timestamptz",
                    ),
                    text("DELETED", "CASE WHEN st.deleted_at IS NULL THEN '' ELSE 'deleted' END"),
                ]
            },
            from: "broker.stacks st JOIN broker.generators g ON g.id = st.generator_id",
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
            fields: &[],
            facet: None,
            changed: Some("st.updated_at"),
            base: None,
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
                    col(
                        "STARTED",
                        "coalesce(to_char(e.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '')",
                        "coalesce(e.started_at, '-infinity'::timestamptz)",
                        "timestamptz",
                    ),
                    Column {
                        title: "DURATION",
                        kind: Kind::Duration,
                        cell: "coalesce(extract(epoch FROM e.started_at)::text, '') || '|' || \
                               coalesce(extract(epoch FROM coalesce(e.completed_at, \
                                   CASE WHEN e.status = 'paused' THEN e.paused_at END))::text, '')",
                        sort: "coalesce(extract(epoch FROM e.completed_at - e.started_at), -1)",
                        sort_type: "double precision",
                    },
                    col(
                        "RETRIES",
                        "coalesce(e.retry_count, 0) || '/' || coalesce(e.max_retries, 0)",
                        "coalesce(e.retry_count, 0)",
                        "integer",
                    ),
                    text("CORRELATION", "left(e.correlation_id::text, 8)"),
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
            fields: &[
                FieldSpec { name: "status", expr: "e.status", how: Match::Exact },
                FieldSpec { name: "agent", expr: "a.name", how: Match::Contains },
                FieldSpec { name: "workflow", expr: "w.name", how: Match::Contains },
                FieldSpec { name: "framework", expr: "w.framework", how: Match::Exact },
                FieldSpec { name: "org", expr: "coalesce(o.name, '')", how: Match::Contains },
                FieldSpec { name: "since", expr: "e.started_at", how: Match::Since },
            ],
            facet: Some("e.status"),
            changed: Some("e.updated_at"),
            base: Some(("platform.workflow_executions e", &["w", "a", "o"])),
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
    let filter = &query.filter;
    qb.push(" WHERE true");
    for (name, value) in &query.fields {
        if Some(name.as_str()) == skip_field {
            continue;
        }
        let field = check_field(s, name, value)?;
        match field.how {
            Match::Exact => {
                qb.push(format!(" AND {} = ", field.expr)).push_bind(value.clone());
            }
            Match::Contains => {
                qb.push(format!(" AND strpos(lower({}), lower(", field.expr)).push_bind(value.clone()).push(")) > 0");
            }
            Match::Since => {
                let secs = since_seconds(value).map_err(|reason| Error::Invalid { field: name.clone(), reason })?;
                qb.push(format!(" AND {} >= now() - make_interval(secs => ", field.expr)).push_bind(secs).push(")");
            }
        }
    }
    if !s.live.is_empty() {
        qb.push(" AND ").push(s.live);
    }
    let search = s.columns[s.search].cell;
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

fn check_field<'a>(s: &'a Spec, name: &str, value: &str) -> Result<&'a FieldSpec> {
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
    if field.name == "status" && value.parse::<crate::domain::execution::ExecutionStatus>().is_err() {
        let all: Vec<&str> = crate::domain::execution::ExecutionStatus::ALL.iter().map(|s| s.as_str()).collect();
        return Err(Error::Invalid {
            field: name.to_string(),
            reason: format!("{value:?} is not a status (one of {})", all.join(", ")),
        });
    }
    Ok(field)
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
        let f = check_field(&s, name, value)?;
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

/// Read one page (at most `limit` rows, in display order), the total under the filter, and how
/// many of `query.marked` pass the filter.
pub async fn page(pool: &PgPool, entity: Entity, query: &Query, at: &PageAt, limit: i64) -> Result<Page> {
    let s = spec(entity);
    let column = s.columns.get(query.sort).ok_or_else(|| Error::Invalid {
        field: "sort".into(),
        reason: format!("no column {} (the list has {})", query.sort, s.columns.len()),
    })?;
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
    let cells: Vec<&str> = s.columns.iter().map(|c| c.cell).collect();
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "SELECT ({sort})::text, ({id})::text, ARRAY[{cells}]::text[] FROM {from}",
        sort = column.sort,
        id = s.id,
        cells = cells.join(", "),
        from = s.from,
    ));
    push_conditions(&mut qb, &s, query, None)?;
    if let PageAt::After(c) | PageAt::Before(c) | PageAt::From(c) = at {
        qb.push(format!(" AND ({}, {}) {condition} (", column.sort, s.id))
            .push_bind(c.sort.clone())
            .push(format!("::{}, ", column.sort_type))
            .push_bind(c.id.clone())
            .push(format!("::{})", s.id_type));
    }
    qb.push(format!(" ORDER BY {} {direction}, {} {direction} LIMIT ", column.sort, s.id)).push_bind(limit);
    let rows = async {
        qb.build_query_as::<(Option<String>, String, Vec<String>)>().fetch_all(pool).await.map_err(Error::from)
    };
    let counted = count_from(&s, query);
    // The total and the status counts run beside the page, each on its own connection. With a
    // status header the total is its sum (or the count of the status shown).
    let totals = async {
        match s.facet {
            None => {
                let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT count(*), now() FROM {counted}"));
                push_conditions(&mut qb, &s, query, None)?;
                let (total, seen_at): (i64, chrono::DateTime<chrono::Utc>) =
                    qb.build_query_as().fetch_one(pool).await?;
                Ok::<_, Error>((total, Vec::new(), seen_at))
            }
            Some(expr) => {
                let mut qb =
                    QueryBuilder::<Postgres>::new(format!("SELECT ({expr})::text, count(*), now() FROM {counted}"));
                let skip = s.fields.iter().find(|f| f.expr == expr).map(|f| f.name);
                push_conditions(&mut qb, &s, query, skip)?;
                qb.push(" GROUP BY 1 ORDER BY 1");
                let found = qb.build_query_as::<(String, i64, chrono::DateTime<chrono::Utc>)>().fetch_all(pool).await?;
                let seen_at = match found.first() {
                    Some((_, _, t)) => *t,
                    None => sqlx::query_scalar("SELECT now()").fetch_one(pool).await?,
                };
                let facets: Vec<(String, i64)> = found.into_iter().map(|(k, n, _)| (k, n)).collect();
                let shown = skip.and_then(|name| query.fields.iter().find(|(k, _)| k == name)).map(|(_, v)| v);
                let total = match shown {
                    Some(v) => facets.iter().find(|(k, _)| k == v).map(|(_, n)| *n).unwrap_or(0),
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
        let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT count(*) FROM {}", s.from));
        push_conditions(&mut qb, &s, query, None)?;
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
    Ok(Page { rows, total, marked_visible, facets, seen_at: Some(seen_at) })
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
    /// Rows of the window (or above it, when it is at the top) changed since then, in no order.
    pub rows: Vec<Row>,
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
/// `since - overlap`, under the query's filters; with `at_top`, also the rows before `first`
/// (new rows arriving on top). At most `limit` rows. Uses the index on the change time, so it
/// costs what changed, not what the list holds.
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
    let column = s.columns.get(query.sort).ok_or_else(|| Error::Invalid {
        field: "sort".into(),
        reason: format!("no column {} (the list has {})", query.sort, s.columns.len()),
    })?;
    let (from_op, to_op) = if query.descending { ("<=", ">=") } else { (">=", "<=") };
    let cells: Vec<&str> = s.columns.iter().map(|c| c.cell).collect();
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "SELECT ({sort})::text, ({id})::text, ARRAY[{cells}]::text[], now() FROM {from}",
        sort = column.sort,
        id = s.id,
        cells = cells.join(", "),
        from = s.from,
    ));
    push_conditions(&mut qb, &s, query, None)?;
    let since = since - chrono::Duration::from_std(overlap).unwrap_or_default();
    qb.push(format!(" AND {changed} > ")).push_bind(since);
    // Inside the window (or anywhere before its end, when it is at the top).
    if !window.at_top {
        qb.push(format!(" AND ({}, {}) {from_op} (", column.sort, s.id))
            .push_bind(window.first.sort.clone())
            .push(format!("::{}, ", column.sort_type))
            .push_bind(window.first.id.clone())
            .push(format!("::{})", s.id_type));
    }
    qb.push(format!(" AND ({}, {}) {to_op} (", column.sort, s.id))
        .push_bind(window.last.sort.clone())
        .push(format!("::{}, ", column.sort_type))
        .push_bind(window.last.id.clone())
        .push(format!("::{})", s.id_type));
    qb.push(" LIMIT ").push_bind(limit);
    let found = qb
        .build_query_as::<(Option<String>, String, Vec<String>, chrono::DateTime<chrono::Utc>)>()
        .fetch_all(pool)
        .await?;
    let seen_at = match found.first() {
        Some((_, _, _, t)) => Some(*t),
        None => Some(sqlx::query_scalar("SELECT now()").fetch_one(pool).await?),
    };
    let rows = found
        .into_iter()
        .map(|(sort, id, cells, _)| Row { cursor: Cursor { sort: sort.unwrap_or_default(), id }, cells })
        .collect();
    Ok(Delta { rows, seen_at, supported: true })
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

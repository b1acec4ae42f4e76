//! Keyset-paginated lists of each pane's main entity (packages, hosts, stacks, executions): a page
//! before or after a row, the first or last page, and the total. OFFSET is never used.

use sqlx::PgPool;

use super::Result;

/// The entity a pane lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Packages,
    Hosts,
    Stacks,
    Executions,
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

/// A page and the list's total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub rows: Vec<Row>,
    pub total: i64,
}

struct Spec {
    /// Column titles, in cell order.
    columns: &'static [&'static str],
    from: &'static str,
    sort: &'static str,
    sort_type: &'static str,
    id: &'static str,
    id_type: &'static str,
    /// Newest first (descending) or alphabetical (ascending).
    descending: bool,
    cells: &'static str,
    count: &'static str,
}

fn spec(entity: Entity) -> Spec {
    match entity {
        Entity::Packages => Spec {
            columns: &["NAME", "VERSION", "REPOSITORY", "CATEGORY", "DESCRIPTION"],
            from: "cloud.bitnami_packages p LEFT JOIN cloud.bitnami_categories c ON c.category_id = p.category",
            sort: "coalesce(p.name, '')",
            sort_type: "text",
            id: "p.package_id",
            id_type: "uuid",
            descending: false,
            cells: "ARRAY[p.name, coalesce(p.version, ''), coalesce(p.repository_name, ''), coalesce(c.name, ''), \
                    coalesce(p.description, '')]",
            count: "SELECT count(*) FROM cloud.bitnami_packages",
        },
        Entity::Hosts => Spec {
            columns: &["HOSTNAME", "IP", "SITE", "STATUS", "LAST HEARTBEAT"],
            from: "edge.host h JOIN edge.site s ON s.id = h.site_id",
            sort: "coalesce(h.hostname, '')",
            sort_type: "text",
            id: "h.id",
            id_type: "uuid",
            descending: false,
            cells: "ARRAY[coalesce(h.hostname, ''), coalesce(h.ip_address, ''), s.site_id, coalesce(h.status, ''), \
                    coalesce(to_char(h.last_heartbeat AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), 'never')]",
            count: "SELECT count(*) FROM edge.host",
        },
        Entity::Stacks => Spec {
            columns: &["NAME", "GENERATOR", "CREATED", "DELETED"],
            from: "broker.stacks st JOIN broker.generators g ON g.id = st.generator_id",
            sort: "st.name",
            sort_type: "text",
            id: "st.id",
            id_type: "uuid",
            descending: false,
            cells: "ARRAY[st.name, g.name, to_char(st.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), \
                    CASE WHEN st.deleted_at IS NULL THEN '' ELSE 'deleted' END]",
            count: "SELECT count(*) FROM broker.stacks",
        },
        Entity::Executions => Spec {
            columns: &["STATUS", "WORKFLOW", "AGENT", "STARTED", "RETRIES", "CORRELATION"],
            from: "platform.workflow_executions e JOIN platform.workflows w ON w.id = e.workflow_id \
                   JOIN platform.agents a ON a.id = e.agent_id",
            sort: "coalesce(e.started_at, '-infinity'::timestamptz)",
            sort_type: "timestamptz",
            id: "e.id",
            id_type: "uuid",
            descending: true,
            cells: "ARRAY[e.status, w.name, a.name, \
                    coalesce(to_char(e.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ''), \
                    coalesce(e.retry_count, 0) || '/' || coalesce(e.max_retries, 0), left(e.correlation_id::text, 8)]",
            count: "SELECT count(*) FROM platform.workflow_executions",
        },
    }
}

/// The column titles of an entity's list.
pub fn columns(entity: Entity) -> &'static [&'static str] {
    spec(entity).columns
}

/// Read one page (at most `limit` rows, in display order) and the total.
pub async fn page(pool: &PgPool, entity: Entity, at: &PageAt, limit: i64) -> Result<Page> {
    let s = spec(entity);
    // Display order and its reverse; "forward" walks the display order.
    let (fwd, back, after, before) = if s.descending { ("DESC", "ASC", "<", ">") } else { ("ASC", "DESC", ">", "<") };
    let (condition, direction, reversed) = match at {
        PageAt::First => ("", fwd, false),
        PageAt::Last => ("", back, true),
        PageAt::After(_) => (after, fwd, false),
        PageAt::From(_) => (if s.descending { "<=" } else { ">=" }, fwd, false),
        PageAt::Before(_) => (before, back, true),
    };
    let filter = if condition.is_empty() {
        String::new()
    } else {
        format!("WHERE ({}, {}) {condition} ($1::{}, $2::{})", s.sort, s.id, s.sort_type, s.id_type)
    };
    let limit_param = if condition.is_empty() { "$1" } else { "$3" };
    let sql = format!(
        "SELECT {sort}::text, {id}::text, {cells} FROM {from} {filter} \
         ORDER BY {sort} {direction}, {id} {direction} LIMIT {limit_param}",
        sort = s.sort,
        id = s.id,
        cells = s.cells,
        from = s.from,
    );
    let mut query = sqlx::query_as::<_, (Option<String>, String, Vec<String>)>(&sql);
    if let PageAt::After(c) | PageAt::Before(c) | PageAt::From(c) = at {
        query = query.bind(c.sort.clone()).bind(c.id.clone());
    }
    let query = query.bind(limit);
    let mut rows: Vec<Row> = query
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|(sort, id, cells)| Row { cursor: Cursor { sort: sort.unwrap_or_default(), id }, cells })
        .collect();
    if reversed {
        rows.reverse();
    }
    let total: i64 = sqlx::query_scalar(s.count).fetch_one(pool).await?;
    Ok(Page { rows, total })
}

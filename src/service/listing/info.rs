//! What the panes and the CLI read of a list's specs: titles, cell kinds, widths, priorities,
//! sortable columns, fields, and how a cell is shown.

use super::model::{CellKind, Entity, Query};
use super::tables::spec;
use crate::domain::filter::Filter;
use crate::domain::health::Thresholds;

/// The column titles of an entity's list.
pub fn columns(entity: Entity) -> Vec<&'static str> {
    spec(entity).columns.iter().map(|c| c.title).collect()
}

/// How each column is drawn.
pub fn kinds(entity: Entity) -> Vec<CellKind> {
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
pub fn shown(kind: Option<&CellKind>, text: &str, now: chrono::DateTime<chrono::Utc>, t: &Thresholds) -> String {
    use crate::domain::health::{age_cell, health_cell};
    match kind {
        Some(CellKind::Duration) => {
            crate::domain::execution::duration_cell(text, now.timestamp_millis() as f64 / 1000.0)
        }
        Some(CellKind::Health) => health_cell(text, now, t).map(|h| h.as_str().to_string()).unwrap_or_default(),
        Some(CellKind::Age) => age_cell(text, now),
        Some(CellKind::Moment) => moment_cell(text),
        Some(CellKind::List) => match list_items(text) {
            Some(items) => crate::domain::text::sanitize_cell(&list_cell(&items), CELL_MAX),
            None => crate::domain::text::sanitize_cell(text, CELL_MAX),
        },
        Some(CellKind::ShortId) => crate::domain::text::sanitize_cell(&text.chars().take(8).collect::<String>(), 8),
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

// Of the model, but read from the specs: `model` stays free of SQL.
impl Entity {
    /// Does the list have labels and annotations (`/-l`)?
    pub fn has_labels(self) -> bool {
        spec(self).labels.is_some()
    }
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

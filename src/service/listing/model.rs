//! What a list is, as the panes and the service share it: the entities, rows and their cursors,
//! pages, queries, and how each column's cells are drawn. No SQL here: `names` imports only this.

use crate::domain::filter::Filter;
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

/// How a column's cells are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
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

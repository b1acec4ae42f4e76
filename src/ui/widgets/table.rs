//! The windowed table every list uses: it holds one page of rows around the selection, knows the
//! total from the service, draws only the rows that fit, and asks for the next page (keyset)
//! when the selection leaves what it holds.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row as TableRow, Table};
use ratatui::Frame;

use std::collections::BTreeSet;

use crate::domain::execution::duration_cell;
use crate::domain::filter::Filter;
use crate::domain::health::Thresholds;
use crate::domain::text::sanitize_cell;
use crate::service::listing::{CellKind, Page, PageAt, Row, CELL_MAX};
use crate::ui::theme::Theme;

/// Rows fetched per page.
pub const PAGE: i64 = 200;

/// What the table holds and where the selection is, all in absolute row numbers.
#[derive(Debug, Clone, Default)]
pub struct TableState {
    pub columns: Vec<&'static str>,
    /// The rows held: the absolute rows `first .. first + rows.len()`.
    pub rows: Vec<Row>,
    pub first: i64,
    pub total: i64,
    /// The selected row (absolute); meaningless when total is 0.
    pub selected: i64,
    /// Where the selection wants to be once the page asked for arrives.
    target: Option<i64>,
    /// Has any page arrived yet?
    pub loaded: bool,
    /// The first row on screen (absolute), kept from frame to frame so that the view only
    /// scrolls when the selection leaves it, and rows arriving above keep their place.
    pub top: std::cell::Cell<i64>,
}

/// Format a count with thousands separators: 1,000,000.
pub fn thousands(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

impl TableState {
    pub fn new(columns: Vec<&'static str>) -> TableState {
        TableState { columns, ..Default::default() }
    }

    fn end(&self) -> i64 {
        self.first + self.rows.len() as i64
    }

    /// Move the selection by `delta` rows (clamped to the list). Returns the page to fetch when
    /// the selection leaves the rows held.
    pub fn move_by(&mut self, delta: i64) -> Option<PageAt> {
        if self.total == 0 {
            return None;
        }
        let want = (self.selected + delta).clamp(0, self.total - 1);
        self.go(want)
    }

    /// Select absolute row `want`, fetching what is needed.
    pub fn go(&mut self, want: i64) -> Option<PageAt> {
        if self.total == 0 {
            return None;
        }
        let want = want.clamp(0, self.total - 1);
        if want >= self.first && want < self.end() {
            self.selected = want;
            self.target = None;
            return None;
        }
        self.target = Some(want);
        if want == 0 {
            Some(PageAt::First)
        } else if want == self.total - 1 || self.rows.is_empty() {
            Some(PageAt::Last)
        } else if want >= self.end() {
            if want - self.end() < PAGE {
                self.rows.last().map(|r| PageAt::After(r.cursor.clone()))
            } else {
                Some(PageAt::Last)
            }
        } else if self.first - want <= PAGE {
            self.rows.first().map(|r| PageAt::Before(r.cursor.clone()))
        } else {
            Some(PageAt::First)
        }
    }

    /// The page that refreshes what is held, in place.
    pub fn refresh_request(&self) -> PageAt {
        match self.rows.first() {
            Some(r) if self.first > 0 => PageAt::From(r.cursor.clone()),
            _ => PageAt::First,
        }
    }

    /// A page arrived for request `at`: place it, and the selection where it wanted to go.
    pub fn apply(&mut self, at: &PageAt, page: Page) {
        let n = page.rows.len() as i64;
        // A refresh keeps the selection on the same row when it is still there.
        let keep = if self.target.is_none() { self.selected_row().map(|r| r.cursor.id.clone()) } else { None };
        let was = self.selected;
        self.total = page.total;
        self.first = match at {
            PageAt::First => 0,
            PageAt::Last => (page.total - n).max(0),
            PageAt::After(_) => self.end(),
            PageAt::Before(_) => (self.first - n).max(0),
            PageAt::From(_) => self.first.min((page.total - n).max(0)),
        };
        self.rows = page.rows;
        self.loaded = true;
        let kept = keep.and_then(|id| self.rows.iter().position(|r| r.cursor.id == id)).map(|i| self.first + i as i64);
        if let Some(k) = kept {
            // Rows that arrived above the selection push the view down with it.
            self.top.set(self.top.get() + (k - was));
        }
        let want = self.target.take().or(kept).unwrap_or(self.selected);
        self.selected = self.within(want);
    }

    /// Row `want` moved onto the rows held and the list (0 when the list is empty).
    fn within(&self, want: i64) -> i64 {
        if self.total == 0 {
            0
        } else {
            want.clamp(self.first, (self.end() - 1).max(self.first)).min(self.total - 1)
        }
    }

    /// The rows held as a window for a delta read.
    pub fn window(&self) -> Option<crate::service::listing::Window> {
        Some(crate::service::listing::Window {
            first: self.rows.first()?.cursor.clone(),
            last: self.rows.last()?.cursor.clone(),
            at_top: self.first == 0,
        })
    }

    /// Changed rows from a delta read: each held row with the same id and sort key takes the new
    /// cells, in place, and each held row in `left` (it no longer passes the filters) leaves the
    /// list, the selection staying on the row it was on (or the one after a row that left).
    /// Returns the rows whose cells changed, those that left included, as (old, new) — or None
    /// when a row is new or moved (its sort key changed), or every row held left, and the page
    /// must be read again.
    pub fn apply_delta(&mut self, changed: Vec<Row>, left: Vec<Row>) -> Option<Vec<(Vec<String>, Vec<String>)>> {
        let mut updates = Vec::new();
        for row in &changed {
            match self.rows.iter().find(|r| r.cursor.id == row.cursor.id) {
                Some(held) if held.cursor.sort == row.cursor.sort => {}
                _ => return None,
            }
        }
        let leaving = self.rows.iter().filter(|r| left.iter().any(|l| l.cursor.id == r.cursor.id)).count();
        if leaving > 0 && leaving == self.rows.len() {
            return None;
        }
        for row in changed {
            if let Some(held) = self.rows.iter_mut().find(|r| r.cursor.id == row.cursor.id) {
                if held.cells != row.cells {
                    updates.push((std::mem::replace(&mut held.cells, row.cells), held.cells.clone()));
                }
            }
        }
        for row in left {
            let Some(i) = self.rows.iter().position(|r| r.cursor.id == row.cursor.id) else { continue };
            let at = self.first + i as i64;
            let held = self.rows.remove(i);
            updates.push((held.cells, row.cells));
            self.total -= 1;
            if at < self.selected {
                self.selected -= 1;
            }
            if at < self.top.get() {
                self.top.set(self.top.get() - 1);
            }
        }
        self.selected = self.within(self.selected);
        Some(updates)
    }

    /// "1,234 / 1,000,000" (1-based), or "0 / 0".
    pub fn position(&self) -> String {
        if self.total == 0 {
            "0 / 0".into()
        } else {
            format!("{} / {}", thousands(self.selected + 1), thousands(self.total))
        }
    }

    /// The selected row, when held.
    pub fn selected_row(&self) -> Option<&Row> {
        usize::try_from(self.selected - self.first).ok().and_then(|i| self.rows.get(i))
    }
}

/// What the table draws besides its rows.
pub struct Decor<'a> {
    pub title: &'a str,
    /// Below the table: sort, filter, marks.
    pub footer: Line<'a>,
    pub focused: bool,
    /// The sort column and direction, shown in the header.
    pub sort: (usize, bool),
    /// Marked row ids.
    pub marks: &'a BTreeSet<String>,
    /// Highlight what the filter matched in this column.
    pub filter: &'a Filter,
    pub search_column: usize,
    /// How each column is drawn.
    pub kinds: &'a [CellKind],
    /// For durations that tick, in Unix seconds.
    pub now: f64,
    /// For health and ages that tick.
    pub clock: chrono::DateTime<chrono::Utc>,
    pub thresholds: &'a Thresholds,
    /// Columns from the most to the least important: a narrow screen drops from the end (the
    /// sorted column is kept next after the first). Empty: left to right.
    pub priority: &'a [usize],
    /// A field filter (`status=running`) narrows the list too.
    pub fields_filtered: bool,
}

use super::columns::shown_widths;
pub use super::columns::{abbreviated, choose_columns, fit_columns, short_status};
pub use crate::service::listing::shown;

/// The cell with the characters the filter matched highlighted.
fn highlighted<'a>(text: String, filter: &Filter, theme: &Theme) -> Line<'a> {
    let hits = filter.matches(&text);
    if hits.is_empty() {
        return Line::raw(text);
    }
    let mut spans = Vec::new();
    let mut run = String::new();
    let mut run_hit = false;
    for (i, c) in text.chars().enumerate() {
        let hit = hits.binary_search(&i).is_ok();
        if hit != run_hit && !run.is_empty() {
            spans.push(if run_hit {
                Span::styled(std::mem::take(&mut run), theme.highlight)
            } else {
                Span::raw(std::mem::take(&mut run))
            });
        }
        run_hit = hit;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(if run_hit { Span::styled(run, theme.highlight) } else { Span::raw(run) });
    }
    Line::from(spans)
}

/// The rows of the held page that fit in `height` lines with the selection in view:
/// (first index into `rows`, count).
pub fn window(state: &TableState, height: i64) -> (usize, usize) {
    let height = height.max(1);
    let sel = state.selected;
    let mut top = state.top.get();
    if sel < top {
        top = sel;
    }
    if sel >= top + height {
        top = sel - height + 1;
    }
    let end_held = state.first + state.rows.len() as i64;
    top = top.min((end_held - height).max(state.first)).max(state.first);
    state.top.set(top);
    let start = top - state.first;
    let end = (top + height).min(end_held) - state.first;
    (start as usize, (end - start).max(0) as usize)
}

/// Draw the table in `area`: only the rows that fit, the selection kept in view.
pub fn draw(frame: &mut Frame, area: Rect, state: &TableState, decor: &Decor<'_>, theme: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if decor.focused { theme.border_focused } else { theme.border })
        .title(Span::styled(format!(" {} ", decor.title), theme.title))
        .title_top(Line::styled(format!(" {} ", state.position()), theme.muted).right_aligned())
        .title_bottom(decor.footer.clone());
    if !state.loaded || state.total == 0 {
        let text = if !state.loaded {
            "loading…"
        } else if decor.filter.is_none() && !decor.fields_filtered {
            "nothing here yet"
        } else {
            "no rows match the filter (esc clears it)"
        };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.muted)).block(block), area);
        return;
    }
    let inner = block.inner(area);
    let visible = inner.height.saturating_sub(1).max(1) as i64; // one line for the header
    let (start, count) = window(state, visible);
    // Each column as wide as its widest visible cell (at most 40), the last one shown takes the
    // rest; see fit_columns for a narrow screen.
    let n = state.columns.len();
    let shown_rows = &state.rows[start..start + count];
    let natural: Vec<u16> = (0..n)
        .map(|i| {
            let widest = if matches!(decor.kinds.get(i), Some(CellKind::Duration | CellKind::Age)) {
                7
            } else if matches!(decor.kinds.get(i), Some(CellKind::Health)) {
                "maintenance".len()
            } else if let Some(k @ (CellKind::Moment | CellKind::List | CellKind::ShortId)) = decor.kinds.get(i) {
                shown_rows
                    .iter()
                    .map(|r| {
                        r.cells.get(i).map_or(0, |c| shown(Some(k), c, decor.clock, decor.thresholds).chars().count())
                    })
                    .max()
                    .unwrap_or(0)
            } else {
                shown_rows.iter().map(|r| r.cells.get(i).map_or(0, |c| c.chars().count())).max().unwrap_or(0)
            };
            (widest.max(state.columns[i].chars().count() + 2)).min(40) as u16
        })
        .collect();
    let room = inner.width.saturating_sub(2); // the mark column and its spacing
    let shown_cols = choose_columns(&natural, room, decor.priority, decor.sort.0);
    let fit = shown_cols.len();
    let block = if fit < n {
        let more = n - fit;
        block.title_top(
            Line::styled(format!(" +{more} column{} in the detail ", if more == 1 { "" } else { "s" }), theme.muted)
                .right_aligned(),
        )
    } else {
        block
    };
    let sized = shown_widths(&natural, &shown_cols, room, decor.priority, decor.sort.0);
    let widths: Vec<Constraint> = std::iter::once(Constraint::Length(1))
        .chain(
            sized
                .iter()
                .enumerate()
                .map(|(k, &w)| if k + 1 == fit { Constraint::Fill(1) } else { Constraint::Length(w) }),
        )
        .collect();
    let sel = (state.selected - state.first) as usize;
    let rows = state.rows[start..start + count].iter().enumerate().map(|(i, r)| {
        let marked = decor.marks.contains(&r.cursor.id);
        let style = if start + i == sel {
            theme.row_selected
        } else if marked {
            theme.marked
        } else {
            theme.text
        };
        let mark = Cell::from(if marked { "●" } else { " " });
        let cells = shown_cols.iter().map(|&c| (c, r.cells.get(c).map_or("", String::as_str))).map(|(c, text)| {
            match decor.kinds.get(c) {
                Some(CellKind::Duration) => Cell::from(duration_cell(text, decor.now)),
                Some(k @ CellKind::Health) => {
                    let h = shown(Some(k), text, decor.clock, decor.thresholds);
                    if start + i == sel {
                        Cell::from(h)
                    } else {
                        let style = theme.status(&h);
                        Cell::from(Span::styled(h, style))
                    }
                }
                Some(k @ (CellKind::Age | CellKind::Moment | CellKind::List | CellKind::ShortId)) => {
                    Cell::from(shown(Some(k), text, decor.clock, decor.thresholds))
                }
                Some(CellKind::Status) if start + i != sel => {
                    Cell::from(Span::styled(sanitize_cell(text, CELL_MAX), theme.status(text)))
                }
                _ => {
                    let text = sanitize_cell(text, CELL_MAX);
                    if c == decor.search_column {
                        Cell::from(highlighted(text, decor.filter, theme))
                    } else {
                        Cell::from(text)
                    }
                }
            }
        });
        TableRow::new(std::iter::once(mark).chain(cells)).style(style)
    });
    let header = TableRow::new(std::iter::once(Cell::from(" ")).chain(
        shown_cols.iter().map(|&i| (i, &state.columns[i])).map(|(i, c)| {
            if i == decor.sort.0 {
                Cell::from(format!("{c} {}", if decor.sort.1 { "↓" } else { "↑" }))
            } else {
                Cell::from(*c)
            }
        }),
    ))
    .style(theme.table_header);
    frame.render_widget(Table::new(rows, widths).header(header).block(block).column_spacing(1), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::listing::Cursor;

    fn rows(from: i64, n: i64) -> Vec<Row> {
        (from..from + n)
            .map(|i| Row { cursor: Cursor { sort: format!("{i:07}"), id: i.to_string() }, cells: vec![i.to_string()] })
            .collect()
    }

    fn loaded(total: i64) -> TableState {
        let mut t = TableState::new(vec!["N"]);
        t.apply(&PageAt::First, Page { rows: rows(0, PAGE.min(total)), total, ..Default::default() });
        t
    }

    #[test]
    fn the_leftmost_columns_show_and_the_next_one_cut_short() {
        assert_eq!(fit_columns(&[10, 20, 30], 100), 3, "room enough");
        assert_eq!(fit_columns(&[10, 20, 30], 62), 3, "exactly");
        assert_eq!(fit_columns(&[10, 20, 30], 50), 3, "the last one cut to 18 of 30");
        assert_eq!(fit_columns(&[10, 20, 30], 40), 2, "8 of 30 is too little");
        assert_eq!(fit_columns(&[10, 20, 30], 45), 3, "13 characters of it are enough");
        assert_eq!(fit_columns(&[10, 20, 8], 38), 2, "a narrow column shows whole or not at all");
        assert_eq!(fit_columns(&[50, 10], 10), 1, "one column always shows");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234), "1,234");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn moving_inside_the_page_fetches_nothing() {
        let mut t = loaded(1_000_000);
        assert_eq!(t.move_by(10), None);
        assert_eq!(t.position(), "11 / 1,000,000");
        assert_eq!(t.move_by(-100), None, "clamped at the top");
        assert_eq!(t.selected, 0);
    }

    #[test]
    fn leaving_the_page_asks_for_the_next_one_after_the_last_row() {
        let mut t = loaded(1_000_000);
        t.go(PAGE - 1);
        let at = t.move_by(5).unwrap();
        assert_eq!(at, PageAt::After(Cursor { sort: format!("{:07}", PAGE - 1), id: (PAGE - 1).to_string() }));
        t.apply(&at, Page { rows: rows(PAGE, PAGE), total: 1_000_000, ..Default::default() });
        assert_eq!((t.first, t.selected), (PAGE, PAGE + 4));
        assert_eq!(t.selected_row().unwrap().cells[0], (PAGE + 4).to_string());
        // And back.
        let at = t.go(PAGE - 3).unwrap();
        assert!(matches!(at, PageAt::Before(_)));
        t.apply(&at, Page { rows: rows(0, PAGE), total: 1_000_000, ..Default::default() });
        assert_eq!((t.first, t.selected), (0, PAGE - 3));
    }

    #[test]
    fn the_end_and_the_start_are_one_page_away() {
        let mut t = loaded(1_000_000);
        let at = t.go(i64::MAX).unwrap();
        assert_eq!(at, PageAt::Last);
        t.apply(&at, Page { rows: rows(1_000_000 - PAGE, PAGE), total: 1_000_000, ..Default::default() });
        assert_eq!(t.position(), "1,000,000 / 1,000,000");
        assert_eq!(t.first, 1_000_000 - PAGE);
        assert_eq!(t.go(0), Some(PageAt::First));
    }

    #[test]
    fn a_delta_changes_rows_in_place_or_asks_for_the_page() {
        let mut t = loaded(1_000);
        let mut changed = rows(5, 1);
        changed[0].cells = vec!["new".into()];
        let updates = t.apply_delta(changed, vec![]).unwrap();
        assert_eq!(updates, vec![(vec!["5".to_string()], vec!["new".to_string()])]);
        assert_eq!(t.rows[5].cells, vec!["new".to_string()]);
        assert_eq!(t.apply_delta(rows(5, 1), vec![]).map(|u| u.len()), Some(1), "back to the old cells");
        assert_eq!(t.apply_delta(rows(999, 1), vec![]), None, "a row not held: read the page");
        let mut moved = rows(7, 1);
        moved[0].cursor.sort = "later".into();
        assert_eq!(t.apply_delta(moved, vec![]), None, "a row whose sort key changed: read the page");
        assert_eq!(t.apply_delta(Vec::new(), vec![]), Some(Vec::new()));
    }

    #[test]
    fn rows_that_left_the_filter_leave_the_list_and_the_selection_stays_put() {
        let mut t = loaded(1_000);
        t.go(10);
        let mut gone = rows(3, 1);
        gone[0].cells = vec!["paused".into()];
        let updates = t.apply_delta(vec![], gone).unwrap();
        assert_eq!(updates, vec![(vec!["3".to_string()], vec!["paused".to_string()])], "the old and new cells");
        assert_eq!((t.total, t.rows.len() as i64), (999, PAGE - 1));
        assert_eq!(t.rows[3].cursor.id, "4", "the rows below moved up");
        assert_eq!(t.selected_row().map(|r| r.cursor.id.as_str()), Some("10"), "still on the same row");
        // The selected row itself leaves: the selection is on the row that followed it.
        let updates = t.apply_delta(vec![], rows(10, 1)).unwrap();
        assert_eq!(updates.len(), 1);
        assert_eq!(t.selected_row().map(|r| r.cursor.id.as_str()), Some("11"));
        assert_eq!(t.apply_delta(vec![], rows(5_000, 1)), Some(vec![]), "a row not held that left: nothing to do");
        // The last row held leaves.
        let last = t.rows.last().cloned().unwrap();
        t.go(t.first + t.rows.len() as i64 - 1);
        t.apply_delta(vec![], vec![last]).unwrap();
        assert!(t.selected_row().is_some(), "the selection stays on a held row");
        // Every row held leaves: read the page.
        let all = t.rows.clone();
        assert_eq!(t.apply_delta(vec![], all), None);
    }

    #[test]
    fn a_shrinking_list_keeps_the_selection_inside() {
        let mut t = loaded(50);
        t.go(49);
        t.apply(&PageAt::First, Page { rows: rows(0, 10), total: 10, ..Default::default() });
        assert_eq!(t.selected, 9);
        t.apply(&PageAt::First, Page { rows: vec![], total: 0, ..Default::default() });
        assert_eq!((t.selected, t.position().as_str()), (0, "0 / 0"));
        assert_eq!(t.move_by(1), None);
    }
}

//! A pane's lists, one shown at a time, and how a list pane lays out and draws one: the table
//! and the detail by the detail mode, the status header's line, the table's footer.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::list::List;
use super::pane::{Ctx, Detail};
use super::theme::Theme;
use super::widgets::table::{self, Decor};
use crate::domain::text::sanitize_cell;
use crate::service::listing::{self, Entity};

/// A pane's lists, one shown at a time.
#[derive(Debug, Clone)]
pub struct Lists {
    lists: Vec<List>,
    shown: usize,
}

impl Lists {
    pub fn new(entities: &[Entity]) -> Lists {
        Lists { lists: entities.iter().map(|e| List::new(*e)).collect(), shown: 0 }
    }

    /// The list shown.
    pub fn current(&self) -> &List {
        &self.lists[self.shown.min(self.lists.len() - 1)]
    }

    pub fn current_mut(&mut self) -> &mut List {
        let i = self.shown.min(self.lists.len() - 1);
        &mut self.lists[i]
    }

    pub fn entity(&self) -> Entity {
        self.current().entity
    }

    pub fn get(&self, entity: Entity) -> Option<&List> {
        self.lists.iter().find(|l| l.entity == entity)
    }

    pub fn get_mut(&mut self, entity: Entity) -> Option<&mut List> {
        self.lists.iter_mut().find(|l| l.entity == entity)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut List> {
        self.lists.iter_mut()
    }

    /// Show this list (one of the pane's).
    pub fn show(&mut self, entity: Entity) {
        self.shown = self.lists.iter().position(|l| l.entity == entity).unwrap_or(0);
    }

    /// The next (or previous) list.
    pub fn cycle(&mut self, forward: bool) {
        let n = self.lists.len();
        let i = self.shown;
        self.shown = if forward { (i + 1) % n } else { (i + n - 1) % n };
    }

    /// "Hosts · [Agents] · …" with the current one picked out, for panes with several.
    pub fn title(&self) -> String {
        if self.lists.len() == 1 {
            return self.lists[0].entity.title().to_string();
        }
        let current = self.entity();
        self.lists
            .iter()
            .map(|l| l.entity)
            .map(|v| if v == current { format!("[{}]", v.title()) } else { v.title().to_string() })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Where the table and the detail go in a pane's body, by the detail mode.
pub fn body_areas(
    area: ratatui::layout::Rect,
    detail: Detail,
) -> (Option<ratatui::layout::Rect>, Option<ratatui::layout::Rect>) {
    use ratatui::layout::{Constraint, Layout};
    match detail {
        Detail::Closed => (Some(area), None),
        Detail::Split => {
            let [t, d] = Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
            (Some(t), Some(d))
        }
        Detail::Zoomed => (None, Some(area)),
    }
}

/// A status header's line above a table of more than four rows: (header, table).
pub fn header_area(t: Rect) -> Option<(Rect, Rect)> {
    (t.height > 4).then(|| {
        let [h, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(t);
        (h, rest)
    })
}

impl List {
    /// Under the table: the sort, the filter, the field filters, the marks, the last error.
    pub fn footer(&self, theme: &Theme) -> Line<'static> {
        let mut spans = Vec::new();
        if let Some(c) = self.table.columns.get(self.query.sort) {
            spans.push(Span::styled(
                format!(" sort {c} {} ", if self.query.descending { "↓" } else { "↑" }),
                theme.muted,
            ));
        }
        if !self.query.filter.is_none() {
            spans.push(Span::styled(format!(" filter /{} ", sanitize_cell(&self.filter_text, 60)), theme.highlight));
        }
        if !self.query.fields.is_empty() {
            let fields: Vec<String> = self.query.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            spans.push(Span::styled(format!(" where {} ", sanitize_cell(&fields.join(" "), 80)), theme.highlight));
        }
        if !self.marks.is_empty() {
            let hidden = self.marked_hidden();
            let text = if hidden > 0 {
                format!(" {} marked, {hidden} hidden by the filter ", self.marks.len())
            } else {
                format!(" {} marked ", self.marks.len())
            };
            spans.push(Span::styled(text, theme.marked));
        }
        if let Some(e) = &self.error {
            spans.push(Span::styled(format!(" {} ", sanitize_cell(e, 80)), theme.error));
        }
        Line::from(spans)
    }

    /// The table, a screenful of rows; where it was drawn is kept for paging and clicks.
    pub fn draw(&self, frame: &mut Frame, area: Rect, title: &str, cx: &Ctx) {
        cx.table_area.set(area);
        let decor = Decor {
            title,
            footer: self.footer(cx.theme),
            focused: cx.detail == Detail::Closed,
            sort: (self.query.sort, self.query.descending),
            marks: &self.marks,
            filter: &self.query.filter,
            search_column: listing::search_column(self.entity),
            kinds: &listing::kinds(self.entity),
            now: cx.now.timestamp_millis() as f64 / 1000.0,
            clock: cx.now,
            thresholds: &cx.thresholds,
            priority: &listing::priority(self.entity),
            fields_filtered: !self.query.fields.is_empty(),
        };
        table::draw(frame, area, &self.table, &decor, cx.theme);
    }
}

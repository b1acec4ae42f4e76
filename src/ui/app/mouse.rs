//! The mouse: tabs, a header's counts and rows are clicked; the wheel scrolls.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::{App, Mode, Tab};
use crate::service::listing::Entity;

impl App {
    /// A click on a tab's title switches to it; on a header's count, filters by it; on a row,
    /// selects it; the wheel scrolls.
    pub fn on_mouse(&mut self, mouse: MouseEvent, area: Rect) {
        'handled: {
            if !matches!(self.mode, Mode::Normal) {
                break 'handled;
            }
            let now = self.now;
            let spot = self
                .header_spots
                .borrow()
                .iter()
                .find(|(y, a, b, _, _)| *y == mouse.row && (*a..*b).contains(&mouse.column))
                .map(|(_, _, _, e, s)| (*e, s.clone()));
            match mouse.kind {
                MouseEventKind::ScrollDown => {
                    let request = self.list_mut().move_by(3, now);
                    self.outbox.extend(request);
                }
                MouseEventKind::ScrollUp => {
                    let request = self.list_mut().move_by(-3, now);
                    self.outbox.extend(request);
                }
                MouseEventKind::Down(MouseButton::Left) if mouse.row == area.y => {
                    let mut start = area.x;
                    for (tab, title) in Tab::titles() {
                        let width = title.chars().count() as u16;
                        if (start..start + width).contains(&mouse.column) {
                            self.switch(tab);
                            break 'handled;
                        }
                        start += width + 1; // the divider
                    }
                }
                MouseEventKind::Down(MouseButton::Left) if spot.is_some() => {
                    if let Some((entity, status)) = spot {
                        self.header_pick(entity, status);
                    }
                }
                MouseEventKind::Down(MouseButton::Left) => {
                    let t = self.table_area.get();
                    // Rows start below the border and the header.
                    if mouse.column > t.x
                        && mouse.column < t.right()
                        && mouse.row >= t.y + 2
                        && mouse.row < t.bottom() - 1
                    {
                        let list = self.list();
                        let height = i64::from(t.height.saturating_sub(3).max(1));
                        let (start, count) = crate::ui::widgets::table::window(&list.table, height);
                        let offset = usize::from(mouse.row - t.y - 2);
                        if offset < count {
                            let row = list.table.first + (start + offset) as i64;
                            let request = self.list_mut().go(row, now);
                            self.outbox.extend(request);
                        }
                    }
                }
                _ => {}
            }
        }
        self.sync();
    }

    /// A count of a header was picked: show its list (the Fleet header counts hosts and agents)
    /// filtered by it, or unfiltered for "all".
    fn header_pick(&mut self, entity: Option<Entity>, status: Option<String>) {
        if let Some(e) = entity {
            if e != self.entity() {
                self.fleet.drill.clear();
                self.show(e);
            }
        }
        let field = match self.entity() {
            Entity::Executions => "status",
            Entity::Hosts | Entity::Agents => "health",
            Entity::Stacks => "state",
            _ => return,
        };
        let now = self.now;
        let request = self.list_mut().set_field(field, status, now);
        self.outbox.push(request);
    }
}

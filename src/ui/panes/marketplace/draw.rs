//! Drawing the Marketplace pane: the kinds, the facets panel, the list with its matches
//! highlighted, and the item in full.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Tabs};
use ratatui::Frame;

use super::view::{DetailView, View};
use super::Market;
use crate::domain::catalogue::{Catalogue, Sort};
use crate::service::market_detail::{Block as DocBlock, Detail, SEVERITIES};
use crate::service::marketplace::Kind;
use crate::ui::theme::Theme;

impl Market {
    // ----- drawing -----

    pub fn draw_catalogue(&self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool, keys: Line<'static>) {
        let [tabs, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
        self.draw_kinds(frame, tabs, theme);
        if let Some(d) = &self.detail {
            return draw_detail(frame, body, d, theme, focused, keys);
        }
        let view = self.view();
        let body = match &view.catalogue {
            Some(cat) if body.width > 60 && view.facets.is_some() => {
                let [panel, rest] = Layout::horizontal([Constraint::Length(34), Constraint::Min(20)]).areas(body);
                draw_facets(frame, panel, view, cat, theme);
                rest
            }
            _ => body,
        };
        draw_list(frame, body, view, theme, focused && view.facets.is_none(), keys);
    }

    fn draw_kinds(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let titles: Vec<Line> = Kind::ALL
            .iter()
            .map(|k| {
                let v = &self.views[k];
                let count =
                    v.catalogue.as_ref().map(|c| format!(" {}", crate::ui::widgets::table::thousands(c.len() as i64)));
                Line::from(format!(" {}{} ", k.title(), count.unwrap_or_default()))
            })
            .collect();
        let i = Kind::ALL.iter().position(|k| *k == self.kind).unwrap_or(0);
        let tabs = Tabs::new(titles)
            .select(i)
            .style(theme.tab_inactive)
            .highlight_style(theme.tab_active)
            .divider(Span::styled("│", theme.border))
            .padding("", "");
        frame.render_widget(tabs, area);
    }
}

fn draw_facets(frame: &mut Frame, area: Rect, view: &View, cat: &Catalogue, theme: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if view.facets.is_some() { theme.border_focused } else { theme.border })
        .title(Span::styled(" Facets ", theme.title))
        .title_bottom(Line::styled(" space pick · x clear · esc close ", theme.muted));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = view.facet_lines();
    let cursor = view.facets.unwrap_or_default();
    let at = lines.iter().position(|(f, v)| *f == cursor.facet && *v == Some(cursor.value)).unwrap_or(0);
    let height = inner.height as usize;
    let first = at.saturating_sub(height.saturating_sub(1) / 2).min(lines.len().saturating_sub(height));
    let width = inner.width as usize;
    let mut out = Vec::new();
    for (f, v) in lines.iter().skip(first).take(height) {
        let facet = &cat.facets[*f];
        match v {
            None => out.push(Line::styled(facet.name.to_uppercase(), theme.table_header)),
            Some(v) => {
                let picked = view.selection.is_picked(*f, *v);
                let count = view.results.counts.get(*f).and_then(|c| c.get(*v)).copied().unwrap_or(0);
                let mark = if picked { "[x]" } else { "[ ]" };
                let count = crate::ui::widgets::table::thousands(count as i64);
                let name_width = width.saturating_sub(5 + count.len() + 1);
                let name = crate::domain::text::sanitize_cell(&facet.values[*v], name_width.max(1));
                let pad = width.saturating_sub(4 + name.chars().count() + count.len());
                let style = if *f == cursor.facet && *v == cursor.value && view.facets.is_some() {
                    theme.row_selected
                } else if picked {
                    theme.highlight
                } else {
                    theme.text
                };
                out.push(Line::from(vec![
                    Span::styled(format!("{mark} {name}{}", " ".repeat(pad)), style),
                    Span::styled(count, theme.muted.patch(style)),
                ]));
            }
        }
    }
    frame.render_widget(Paragraph::new(out), inner);
}

/// `text` with the characters at `indices` (char positions) and inside `ranges` (byte ranges)
/// styled as matches.
fn marked(
    text: &str,
    indices: &[usize],
    ranges: &[(usize, usize)],
    max: usize,
    base: Style,
    hit: Style,
) -> Line<'static> {
    let mut spans = Vec::new();
    let mut run = String::new();
    let mut run_hit = false;
    for (n, (i, c)) in text.char_indices().enumerate() {
        if n >= max {
            break;
        }
        let is_hit = indices.binary_search(&n).is_ok() || ranges.iter().any(|(a, b)| i >= *a && i < *b);
        if is_hit != run_hit && !run.is_empty() {
            spans.push(Span::styled(std::mem::take(&mut run), if run_hit { hit } else { base }));
        }
        run_hit = is_hit;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, if run_hit { hit } else { base }));
    }
    Line::from(spans)
}

fn draw_list(frame: &mut Frame, area: Rect, view: &View, theme: &Theme, focused: bool, keys: Line<'static>) {
    let title = match &view.server {
        Some(s) => {
            format!(" {} — server search “{}” ", view.kind.title(), crate::domain::text::sanitize_cell(&s.query, 40))
        }
        None if view.query.trim().is_empty() => format!(" {} ", view.kind.title()),
        None => format!(" {} /{} ", view.kind.title(), crate::domain::text::sanitize_cell(&view.query, 40)),
    };
    let count = match &view.catalogue {
        Some(cat) => format!(
            " {} of {} ",
            crate::ui::widgets::table::thousands(view.results.rows.len() as i64),
            crate::ui::widgets::table::thousands(cat.len() as i64)
        ),
        None => String::new(),
    };
    let mut bottom = vec![Span::styled(
        format!(" sort: {} ", if view.sort == Sort::Stars { view.kind.rank_title() } else { view.sort.title() }),
        theme.muted,
    )];
    if let Some(cat) = &view.catalogue {
        for p in view.selection.describe(cat) {
            bottom.push(Span::styled(format!("{p} "), theme.highlight));
        }
    }
    if view.searching {
        bottom.push(Span::styled(" searching every field… ", theme.warn));
    }
    bottom.extend(keys.spans);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { theme.border_focused } else { theme.border })
        .title(Span::styled(title, theme.title))
        .title_top(Line::styled(count, theme.muted).right_aligned())
        .title_bottom(Line::from(bottom));
    let Some(cat) = &view.catalogue else {
        let text = match &view.error {
            Some(e) => Line::styled(format!("could not read the catalogue: {e} (ctrl-r tries again)"), theme.error),
            None => Line::styled("loading the catalogue…", theme.muted),
        };
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    };
    if view.results.rows.is_empty() {
        let hidden = format!(
            "{} match but are hidden by deprecated=no: f and pick deprecated=yes, or :{} deprecated=yes",
            view.hidden,
            view.kind.command()
        );
        let text = if view.server.is_some() {
            "the server found nothing either (esc clears the search)"
        } else if view.hidden > 0 {
            hidden.as_str()
        } else if view.query.trim().is_empty() {
            "nothing here with these facets (f opens the facets)"
        } else {
            "nothing matches as you typed it; enter searches every field, READMEs too"
        };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.muted)).block(block), area);
        return;
    }
    let inner = block.inner(area);
    let height = inner.height.saturating_sub(1).max(1) as usize;
    view.height.set(height);
    let mut first = view.first.get();
    if view.selected < first {
        first = view.selected;
    } else if view.selected >= first + height {
        first = view.selected + 1 - height;
    }
    first = first.min(view.results.rows.len().saturating_sub(height));
    view.first.set(first);
    let shown = &view.results.rows[first..(first + height).min(view.results.rows.len())];
    let columns = view.kind.columns();
    let width = |i: usize| -> u16 {
        let title = columns[i].chars().count();
        let widest = shown
            .iter()
            .filter_map(|h| cat.entries.get(h.entry as usize)?.cells.get(i).map(|c| c.chars().count()))
            .max()
            .unwrap_or(0);
        title.max(widest).min(24) as u16
    };
    let name_width = shown
        .iter()
        .filter_map(|h| cat.entries.get(h.entry as usize).map(|e| e.name.chars().count()))
        .max()
        .unwrap_or(4)
        .clamp(4, 40) as u16;
    let mut widths = vec![Constraint::Length(name_width)];
    widths.extend((0..columns.len()).map(|i| Constraint::Length(width(i))));
    widths.push(Constraint::Min(10));
    let query = if view.server.is_some() { "" } else { view.query.as_str() };
    let mut matcher = view.highlighter.0.borrow_mut();
    let rows: Vec<Row> = shown
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let e = cat.entries.get(h.entry as usize)?;
            let (name_hits, desc_hits) = if query.trim().is_empty() {
                (Vec::new(), Vec::new())
            } else {
                cat.highlights(h.entry, query, &mut matcher)
            };
            let style = if first + i == view.selected { theme.row_selected } else { theme.text };
            let hit = theme.highlight.patch(Style::default().add_modifier(ratatui::style::Modifier::BOLD));
            let mut cells = vec![marked(&e.name, &name_hits, &[], 40, Style::default(), hit)];
            cells.extend(e.cells.iter().map(|c| Line::raw(c.clone())));
            cells.push(marked(&e.description, &[], &desc_hits, inner.width as usize, Style::default(), hit));
            Some(Row::new(cells).style(style))
        })
        .collect();
    let mut header = vec!["NAME"];
    header.extend(columns.iter().copied());
    header.push("DESCRIPTION");
    let table =
        Table::new(rows, widths).header(Row::new(header).style(theme.table_header)).column_spacing(2).block(block);
    frame.render_widget(table, area);
}

/// The detail's blocks as lines (text sanitised here; Markdown by its renderer).
pub fn detail_lines(detail: &Detail, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    use crate::domain::text::{sanitize_cell, sanitize_lines};
    let width = width.max(20) as usize;
    let mut out: Vec<Line<'static>> = Vec::new();
    for block in &detail.blocks {
        match block {
            DocBlock::Heading(h) => {
                if !out.is_empty() {
                    out.push(Line::default());
                }
                out.push(Line::styled(
                    sanitize_cell(h, width),
                    theme.title.add_modifier(ratatui::style::Modifier::BOLD),
                ));
            }
            DocBlock::Field(label, value) => {
                // Long values wrap under themselves, not under the label.
                let room = width.saturating_sub(18).max(20);
                let wrapped: Vec<String> =
                    sanitize_lines(value, 2_000).iter().flat_map(|l| wrap_words(l, room)).collect();
                for (i, line) in wrapped.into_iter().enumerate() {
                    let label = if i == 0 { format!("{:<18}", sanitize_cell(label, 17)) } else { " ".repeat(18) };
                    out.push(Line::from(vec![Span::styled(label, theme.muted), Span::styled(line, theme.text)]));
                }
            }
            DocBlock::Text(text) => {
                out.extend(sanitize_lines(text, 2_000).into_iter().map(|l| Line::styled(l, theme.text)))
            }
            DocBlock::Note(text) => out.push(Line::styled(
                sanitize_cell(text, width),
                theme.muted.add_modifier(ratatui::style::Modifier::ITALIC),
            )),
            DocBlock::Markdown(md) => out.extend(super::markdown::render(md, theme)),
            DocBlock::Counts(counts) => {
                let mut spans = Vec::new();
                for (label, n) in counts {
                    let style = match (label.as_str(), *n) {
                        (_, 0) => theme.muted,
                        ("critical" | "high", _) => theme.error,
                        ("medium", _) => theme.warn,
                        ("low", _) => theme.ok,
                        _ => theme.text,
                    };
                    let bold = if SEVERITIES[..2].contains(&label.as_str()) && *n > 0 {
                        style.add_modifier(ratatui::style::Modifier::BOLD)
                    } else {
                        style
                    };
                    spans.push(Span::styled(format!("{n} {}", sanitize_cell(label, 20)), bold));
                    spans.push(Span::raw("   "));
                }
                spans.pop();
                out.push(Line::from(spans));
            }
            DocBlock::Table { header, rows } => {
                let columns = header.len().max(rows.iter().map(Vec::len).max().unwrap_or(0));
                let cell = |r: &Vec<String>, c: usize, max: usize| {
                    sanitize_cell(r.get(c).map(String::as_str).unwrap_or(""), max)
                };
                // Whole when the table fits; otherwise every column but the last at most 60
                // wide, and the last (addresses, messages) whole, for the widget to wrap.
                let natural: usize = (0..columns)
                    .map(|c| {
                        std::iter::once(header)
                            .chain(rows.iter())
                            .map(|r| cell(r, c, 1_000).chars().count())
                            .max()
                            .unwrap_or(0)
                            + 2
                    })
                    .sum();
                let fits = natural + 2 <= width;
                let max = |c: usize| if fits || c + 1 == columns { 1_000 } else { 60 };
                let widths: Vec<usize> = (0..columns)
                    .map(|c| {
                        std::iter::once(header)
                            .chain(rows.iter())
                            .map(|r| cell(r, c, max(c)).chars().count())
                            .max()
                            .unwrap_or(0)
                    })
                    .collect();
                let line = |r: &Vec<String>, style: Style| {
                    let cells: Vec<String> = (0..columns)
                        .map(|c| {
                            let text = cell(r, c, widths[c].max(1));
                            if c + 1 == columns {
                                text
                            } else {
                                format!("{text:<w$}", w = widths[c])
                            }
                        })
                        .collect();
                    Line::styled(format!("  {}", cells.join("  ").trim_end()), style)
                };
                if header.iter().any(|h| !h.is_empty()) {
                    out.push(line(header, theme.table_header));
                }
                out.extend(rows.iter().map(|r| line(r, theme.text)));
            }
        }
    }
    out
}

/// `text` cut into lines of at most `width` characters at spaces (a longer word is cut).
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let (n, w) = (line.chars().count(), word.chars().count());
        if n > 0 && n + 1 + w > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.chars().count() > width {
            let head: String = line.chars().take(width).collect();
            line = line.chars().skip(width).collect();
            lines.push(head);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn draw_detail(frame: &mut Frame, area: Rect, d: &DetailView, theme: &Theme, focused: bool, keys: Line<'static>) {
    let title = format!(" {} › {} ", d.kind.title(), crate::domain::text::sanitize_cell(&d.name, 60));
    let mut bottom = Vec::new();
    if d.loading && d.data.is_some() {
        bottom.push(Span::styled(" reading… ", theme.warn));
    }
    bottom.extend(keys.spans);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { theme.border_focused } else { theme.border })
        .title(Span::styled(title, theme.title))
        .title_bottom(Line::from(bottom));
    let inner = block.inner(area);
    let Some(data) = &d.data else {
        let text = match &d.error {
            Some(e) => Line::styled(format!("could not read it: {e} (ctrl-r tries again, esc goes back)"), theme.error),
            None => Line::styled("reading…", theme.muted),
        };
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    };
    let mut cache = d.cache.borrow_mut();
    let fresh = matches!(&*cache, Some((w, t, _)) if *w == inner.width && t == theme);
    if !fresh {
        *cache = Some((inner.width, theme.clone(), detail_lines(data, inner.width, theme)));
    }
    let Some((_, _, lines)) = &*cache else { return };
    // Lines as the widget wraps them, to keep the scroll inside the text.
    let width = inner.width.max(1) as usize;
    let total: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    d.total.set(total);
    d.height.set(inner.height as usize);
    if total > inner.height as usize {
        let shown = format!(" {}–{} of {} ", d.scroll + 1, (d.scroll + inner.height as usize).min(total), total);
        let block = block.title_top(Line::styled(shown, theme.muted).right_aligned());
        let p = Paragraph::new(lines.clone())
            .wrap(ratatui::widgets::Wrap { trim: false })
            .scroll((d.scroll.min(u16::MAX as usize) as u16, 0));
        frame.render_widget(p.block(block), area);
    } else {
        let p = Paragraph::new(lines.clone()).wrap(ratatui::widgets::Wrap { trim: false });
        frame.render_widget(p.block(block), area);
    }
}

#[cfg(test)]
mod tests {
    use super::wrap_words;

    #[test]
    fn words_wrap_at_spaces_and_a_long_word_is_cut() {
        assert_eq!(wrap_words("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(wrap_words("abcdefghijkl xy", 5), ["abcde", "fghij", "kl xy"]);
        assert_eq!(wrap_words("", 5), [""]);
        assert_eq!(wrap_words("fits", 10), ["fits"]);
    }
}

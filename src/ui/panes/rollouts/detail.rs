//! The stack detail: the timeline of deployment objects (`[` `]` pick one), what each reached
//! agent reported for the picked object (failure messages in full), and its YAML highlighted, or
//! with `d` the diff from the object before it.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use uuid::Uuid;

use crate::domain::rollout::DiffLine;
use crate::domain::text::sanitize_cell;
use crate::service::rollouts::{self, StackView};
use crate::ui::theme::Theme;

/// Unchanged lines shown around each change of a diff.
const DIFF_CONTEXT: usize = 2;

#[derive(Debug, Clone, Default)]
pub struct StackDetail {
    /// The stack shown (or to be shown).
    pub stack: Option<Uuid>,
    /// The object asked for; None: the desired one.
    pub object: Option<Uuid>,
    pub data: Option<StackView>,
    pub loading: bool,
    /// Read again (the list changed).
    pub stale: bool,
    pub error: Option<String>,
    /// The diff instead of the YAML.
    pub diff: bool,
    pub scroll: u16,
    pub last_lines: std::cell::Cell<(u16, u16)>,
}

impl StackDetail {
    /// Show `stack` from the list (its desired object first).
    pub fn show(&mut self, stack: Uuid) {
        if self.stack != Some(stack) {
            self.stack = Some(stack);
            self.object = None;
            self.data = None;
            self.error = None;
            self.scroll = 0;
        }
    }

    /// Does the data shown answer what is asked?
    pub fn is_current(&self) -> bool {
        self.data
            .as_ref()
            .is_some_and(|d| Some(d.stack.id) == self.stack && (self.object.is_none() || d.object == self.object))
    }

    /// `]` (older, down the timeline) or `[` (newer): pick the next object; true when the pick
    /// changed (and needs reading).
    pub fn pick(&mut self, older: bool) -> bool {
        let Some(d) = &self.data else { return false };
        let Some(at) = d.timeline.iter().position(|o| Some(o.id) == d.object) else { return false };
        let next = if older { at + 1 } else { at.wrapping_sub(1) };
        match d.timeline.get(next) {
            Some(o) => {
                self.object = Some(o.id);
                self.scroll = 0;
                true
            }
            None => false,
        }
    }

    /// Everything as lines.
    pub fn lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let Some(d) = &self.data else {
            let (text, style) = match &self.error {
                Some(e) => (sanitize_cell(e, 200), theme.error),
                None if self.stack.is_some() => ("loading…".to_string(), theme.muted),
                None => ("no stack selected".to_string(), theme.muted),
            };
            return vec![Line::styled(text, style)];
        };
        let mut out: Vec<Line<'static>> = Vec::new();
        let field = |k: &str, v: String, style| {
            Line::from(vec![Span::styled(format!("{k:<10}"), theme.table_header), Span::styled(v, style)])
        };
        let deleted = if d.stack.deleted_at.is_some() { "  (deleted)" } else { "" };
        out.push(field("stack", format!("{}{deleted}", sanitize_cell(&d.stack.name, 120)), theme.text));
        out.push(field("generator", format!("{}  (API key hidden)", sanitize_cell(&d.generator, 120)), theme.text));
        if !d.labels.is_empty() {
            out.push(field("labels", sanitize_cell(&d.labels.join(" "), 500), theme.text));
        }
        let progress = rollouts::progress(&d.reports);
        out.push(Line::raw(""));
        out.push(Line::styled("timeline  ([ newer  ] older  d diff)", theme.title));
        if d.timeline.is_empty() {
            out.push(Line::styled("  no deployment object yet", theme.muted));
        }
        for o in &d.timeline {
            let picked = Some(o.id) == d.object;
            let mut marks = Vec::new();
            if Some(o.id) == d.desired {
                marks.push("desired".to_string());
            }
            if o.is_deletion_marker {
                marks.push("deletion marker".into());
            }
            if o.deleted_at.is_some() {
                marks.push("deleted".into());
            }
            let text = format!(
                "{} #{:<7} {}  {}  {:>4} ✓ {:>4} ✗  {}",
                if picked { "▶" } else { " " },
                o.sequence_id,
                o.submitted_at.format("%Y-%m-%d %H:%M"),
                &o.yaml_checksum[..12.min(o.yaml_checksum.len())],
                o.success,
                o.failure,
                marks.join(", "),
            );
            let style = if picked {
                theme.row_selected
            } else if o.deleted_at.is_some() {
                theme.muted
            } else {
                theme.text
            };
            out.push(Line::styled(text, style));
        }
        if let Some(seq) = d.timeline.iter().find(|o| Some(o.id) == d.object).map(|o| o.sequence_id) {
            out.push(Line::raw(""));
            out.push(Line::styled(
                format!("agents on #{seq}: {} ({} reached)", progress.describe(), d.reports.len()),
                theme.title,
            ));
            for r in &d.reports {
                let state = r.state();
                let when = r.reported_at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default();
                out.push(Line::from(vec![
                    Span::styled(
                        format!(
                            "  {:<20} {:<24} {:<3} ",
                            sanitize_cell(&r.name, 20),
                            sanitize_cell(&r.cluster, 24),
                            r.routes()
                        ),
                        theme.text,
                    ),
                    Span::styled(format!("{state:<8}"), theme.status(state_style(state))),
                    Span::styled(format!(" {when}"), theme.muted),
                ]));
                if let Some(m) = &r.message {
                    out.push(Line::styled(format!("      {}", sanitize_cell(m, 4_000)), theme.error));
                }
            }
            out.push(Line::raw(""));
            if self.diff {
                let before = d
                    .timeline
                    .iter()
                    .skip_while(|o| Some(o.id) != d.object)
                    .nth(1)
                    .map_or("nothing".to_string(), |o| format!("#{}", o.sequence_id));
                out.push(Line::styled(format!("diff {before} → #{seq}  (d: YAML)"), theme.title));
                out.extend(diff_lines(&d.diff, theme));
            } else {
                out.push(Line::styled(format!("YAML #{seq}  (d: diff)"), theme.title));
                if d.yaml.is_empty() {
                    out.push(Line::styled("  (empty)", theme.muted));
                }
                out.extend(d.yaml.lines().map(|l| highlight_yaml(&sanitize_cell(l, 1_000), theme)));
            }
        }
        out
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, zoomed: bool) {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border_focused)
            .title(Span::styled(" Stack ", theme.title))
            .title_top(Line::styled(if zoomed { " z: split " } else { " z: zoom " }, theme.muted).right_aligned());
        let lines = self.lines(theme);
        let inner = block.inner(area);
        self.last_lines.set((lines.len() as u16, inner.height));
        frame.render_widget(
            Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).scroll((self.scroll, 0)),
            area,
        );
    }
}

/// The theme's status style for a report's state.
/// A diff's changed lines with DIFF_CONTEXT lines around each, the rest folded into a count.
pub fn diff_lines(diff: &[DiffLine], theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let changed: Vec<usize> =
        diff.iter().enumerate().filter(|(_, l)| !matches!(l, DiffLine::Same(_))).map(|(i, _)| i).collect();
    if changed.is_empty() {
        out.push(Line::styled("  no change (the same YAML submitted again)", theme.muted));
    }
    let near = |i: usize| changed.iter().any(|c| c.abs_diff(i) <= DIFF_CONTEXT);
    let mut folded = 0;
    for (i, l) in diff.iter().enumerate() {
        if !near(i) {
            folded += 1;
            continue;
        }
        if folded > 0 {
            out.push(Line::styled(format!("  ⋯ {folded} unchanged lines"), theme.muted));
            folded = 0;
        }
        out.push(match l {
            DiffLine::Same(t) => Line::styled(format!("  {}", sanitize_cell(t, 1_000)), theme.muted),
            DiffLine::Added(t) => Line::styled(format!("+ {}", sanitize_cell(t, 1_000)), theme.ok),
            DiffLine::Removed(t) => Line::styled(format!("- {}", sanitize_cell(t, 1_000)), theme.error),
        });
    }
    if folded > 0 && !changed.is_empty() {
        out.push(Line::styled(format!("  ⋯ {folded} unchanged lines"), theme.muted));
    }
    out
}

fn state_style(state: &str) -> &'static str {
    match state {
        "success" => "completed",
        "failure" => "failed",
        "pending" => "running",
        _ => "offline",
    }
}

/// A YAML line with its comment, keys, list dashes and document markers picked out.
pub fn highlight_yaml(line: &str, theme: &Theme) -> Line<'static> {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    if trimmed.starts_with('#') {
        return Line::styled(line.to_string(), theme.muted);
    }
    if trimmed == "---" || trimmed == "..." {
        return Line::styled(line.to_string(), theme.title);
    }
    let mut spans = vec![Span::raw(indent.to_string())];
    let mut rest = trimmed;
    while let Some(r) = rest.strip_prefix("- ") {
        spans.push(Span::styled("- ", theme.highlight));
        rest = r;
    }
    // `key: value` (a key never starts with a quote here: keep it simple and safe).
    let colon = rest.find(": ").or_else(|| rest.strip_suffix(':').map(|k| k.len()));
    match colon {
        Some(i) if !rest.starts_with(['"', '\'', '{', '[']) => {
            spans.push(Span::styled(rest[..i].to_string(), theme.table_header));
            spans.push(Span::styled(":".to_string(), theme.muted));
            let value = &rest[(i + 1).min(rest.len())..];
            spans.push(value_span(value, theme));
        }
        _ => spans.push(value_span(rest, theme)),
    }
    Line::from(spans)
}

fn value_span(value: &str, theme: &Theme) -> Span<'static> {
    let v = value.trim();
    if v.starts_with(['"', '\'']) {
        Span::styled(value.to_string(), theme.ok)
    } else if v.parse::<f64>().is_ok() || matches!(v, "true" | "false" | "null" | "~") {
        Span::styled(value.to_string(), theme.warn)
    } else {
        Span::styled(value.to_string(), theme.text)
    }
}

impl crate::ui::widgets::Scroll for StackDetail {
    fn scroll_by(&mut self, delta: i32) {
        let (lines, height) = self.last_lines.get();
        let max = lines.saturating_sub(height);
        self.scroll = (i32::from(self.scroll) + delta).clamp(0, i32::from(max)) as u16;
    }

    fn scroll_to_end(&mut self) {
        let (lines, height) = self.last_lines.get();
        self.scroll = lines.saturating_sub(height);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_lines_are_split_into_key_and_value() {
        let theme = Theme::plain();
        let text = |l: &str| highlight_yaml(l, &theme).spans.iter().map(|s| s.content.to_string()).collect::<Vec<_>>();
        assert_eq!(text("  replicas: 3"), ["  ", "replicas", ":", " 3"]);
        assert_eq!(text("- name: web"), ["", "- ", "name", ":", " web"]);
        assert_eq!(text("metadata:"), ["", "metadata", ":", ""]);
        assert_eq!(text("  - \"a: b\""), ["  ", "- ", "\"a: b\""]);
        assert_eq!(text("# a comment: yes"), ["# a comment: yes"]);
    }
}

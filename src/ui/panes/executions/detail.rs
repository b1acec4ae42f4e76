//! The execution detail: every field, the JSON documents pretty-printed, the log with follow,
//! search, wrap and timestamp toggles, and the retry chain (parent and children) to walk with
//! `[` `]` and Enter.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use uuid::Uuid;

use crate::domain::execution::{format_duration, parse_logs};
use crate::domain::text::{sanitize_cell, sanitize_lines};
use crate::service::executions::Detail;
use crate::ui::theme::Theme;

/// What the detail shows and how.
#[derive(Debug, Clone, Default)]
pub struct ExecDetail {
    /// The executions walked to through the retry chain; the last one is shown.
    pub stack: Vec<Uuid>,
    pub data: Option<Detail>,
    /// A read of `stack.last()` is on its way.
    pub loading: bool,
    /// Read again (the list changed).
    pub stale: bool,
    pub error: Option<String>,
    pub scroll: u16,
    pub follow: bool,
    pub wrap: bool,
    pub timestamps: bool,
    pub search: Option<String>,
    /// The selected entry of the retry chain (parent first, then children).
    pub chain: usize,
    /// Lines drawn last time and the height they had, for scrolling limits and follow.
    pub last_lines: std::cell::Cell<(u16, u16)>,
}

impl ExecDetail {
    pub fn new() -> ExecDetail {
        ExecDetail { timestamps: true, wrap: true, ..ExecDetail::default() }
    }

    /// The execution shown (or to be shown).
    pub fn id(&self) -> Option<Uuid> {
        self.stack.last().copied()
    }

    /// Show `id` from the list (the chain walked so far is dropped).
    pub fn show(&mut self, id: Uuid) {
        if self.stack != [id] {
            self.stack = vec![id];
            self.reset_view();
        }
    }

    fn reset_view(&mut self) {
        self.data = None;
        self.error = None;
        self.scroll = 0;
        self.chain = 0;
    }

    /// The retry chain's entries: (id, status, "parent"/"retry").
    pub fn chain_entries(&self) -> Vec<(Uuid, String, &'static str)> {
        let Some(d) = &self.data else { return Vec::new() };
        let mut out = Vec::new();
        if let Some(p) = d.parent_execution_id {
            out.push((p, d.parent_status.clone().unwrap_or_else(|| "?".into()), "parent"));
        }
        out.extend(d.children.iter().map(|c| (c.id, c.status.clone(), "retry")));
        out
    }

    /// Enter on a chain entry: walk to it.
    pub fn open_chain(&mut self) -> Option<Uuid> {
        let (id, _, _) = self.chain_entries().get(self.chain).cloned()?;
        self.stack.push(id);
        self.reset_view();
        Some(id)
    }

    /// Back along the walked chain; false when there is nothing to go back to.
    pub fn back(&mut self) -> bool {
        if self.stack.len() > 1 {
            self.stack.pop();
            self.reset_view();
            true
        } else {
            false
        }
    }

    /// The first log line containing the search text: scroll to it.
    pub fn find(&mut self, text: &str) {
        self.search = (!text.is_empty()).then(|| text.to_string());
        self.follow = false;
        if let Some(i) = self.lines_for_search().iter().position(|l| l.contains(text)) {
            self.scroll = i as u16;
        }
    }

    fn lines_for_search(&self) -> Vec<String> {
        // The same lines the drawing produces, as plain text.
        self.lines(&Theme::plain(), 0.0).into_iter().map(|l| l.to_string()).collect()
    }

    /// Everything as lines (before wrapping).
    pub fn lines(&self, theme: &Theme, now: f64) -> Vec<Line<'static>> {
        let Some(d) = &self.data else {
            let text = match (&self.error, self.loading || self.id().is_some()) {
                (Some(e), _) => (sanitize_cell(e, 200), theme.error),
                (None, true) => ("loading…".to_string(), theme.muted),
                (None, false) => ("no execution selected".to_string(), theme.muted),
            };
            return vec![Line::styled(text.0, text.1)];
        };
        let mut out: Vec<Line<'static>> = Vec::new();
        let field = |k: &str, v: String, style: Style| {
            Line::from(vec![Span::styled(format!("{k:<14}"), theme.table_header), Span::styled(v, style)])
        };
        let ts = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_else(|| "—".into())
        };
        out.push(field("status", d.status.clone(), theme.status(&d.status)));
        if d.archived_at.is_some() {
            out.push(field("archived", format!("{} (read-only)", ts(d.archived_at)), theme.warn));
        }
        if let Some(m) = &d.status_message {
            out.push(field("message", sanitize_cell(m, 500), theme.text));
        }
        out.push(field("workflow", sanitize_cell(&d.workflow, 200), theme.text));
        out.push(field("agent", format!("{} ({})", sanitize_cell(&d.agent, 200), d.framework), theme.text));
        out.push(field(
            "organisation",
            d.organisation.as_deref().map(|o| sanitize_cell(o, 200)).unwrap_or("—".into()),
            theme.text,
        ));
        out.push(field("started", ts(d.started_at), theme.text));
        let end = d.completed_at.or(if d.status == "paused" { d.paused_at } else { None });
        if let Some(start) = d.started_at {
            let end_secs = end.map(|e| e.timestamp_millis() as f64 / 1000.0).unwrap_or(now);
            out.push(field(
                "duration",
                format_duration(end_secs - start.timestamp_millis() as f64 / 1000.0),
                theme.text,
            ));
        }
        out.push(field("completed", ts(d.completed_at), theme.text));
        out.push(field("paused", ts(d.paused_at), theme.text));
        out.push(field("resumed", ts(d.resumed_at), theme.text));
        out.push(field("retries", format!("{}/{}", d.retry_count, d.max_retries), theme.text));
        out.push(field("correlation", d.correlation_id.to_string(), theme.text));
        out.push(field("id", d.id.to_string(), theme.muted));
        out.push(field("created", ts(d.created_at), theme.muted));
        out.push(field("updated", ts(d.updated_at), theme.muted));
        if d.error_message.is_some() || d.error_code.is_some() {
            out.push(field(
                "error",
                format!(
                    "{} {}",
                    d.error_code.as_deref().map(|c| sanitize_cell(c, 50)).unwrap_or_default(),
                    d.error_message.as_deref().map(|m| sanitize_cell(m, 2_000)).unwrap_or_default()
                )
                .trim()
                .to_string(),
                theme.error,
            ));
        }
        let chain = self.chain_entries();
        if chain.is_empty() {
            out.push(field("retry chain", "—".into(), theme.muted));
        } else {
            for (i, (id, status, what)) in chain.iter().enumerate() {
                let label = if i == 0 { "retry chain" } else { "" };
                let style = if i == self.chain { theme.row_selected } else { theme.status(status) };
                out.push(Line::from(vec![
                    Span::styled(format!("{label:<14}"), theme.table_header),
                    Span::styled(
                        format!(
                            "{} {} {status}",
                            if *what == "parent" { "↑ parent" } else { "↓ retry " },
                            &id.to_string()[..8]
                        ),
                        style,
                    ),
                ]));
            }
        }
        for (title, value) in [
            ("execution_data", &d.execution_data),
            ("resource_usage", &d.resource_usage),
            ("performance_metrics", &d.performance_metrics),
        ] {
            out.push(Line::raw(""));
            out.push(Line::styled(format!("── {title} "), theme.title));
            match value {
                None | Some(serde_json::Value::Null) => out.push(Line::styled("—", theme.muted)),
                Some(v) => {
                    let pretty = serde_json::to_string_pretty(v).unwrap_or_default();
                    out.extend(sanitize_lines(&pretty, 2_000).into_iter().map(|l| Line::styled(l, theme.text)));
                }
            }
        }
        out.push(Line::raw(""));
        let logs = parse_logs(d.execution_logs.as_ref());
        out.push(Line::styled(
            format!(
                "── log: {} lines · follow {} · wrap {} · timestamps {}{} ",
                logs.len(),
                on(self.follow),
                on(self.wrap),
                on(self.timestamps),
                self.search.as_deref().map(|s| format!(" · search {:?}", sanitize_cell(s, 40))).unwrap_or_default()
            ),
            theme.title,
        ));
        for l in logs {
            let mut spans = Vec::new();
            if self.timestamps {
                spans
                    .push(Span::styled(format!("{} ", sanitize_cell(l.ts.as_deref().unwrap_or("-"), 40)), theme.muted));
            }
            if let Some(level) = &l.level {
                let style = match level.as_str() {
                    "error" | "fatal" => theme.error,
                    "warn" | "warning" => theme.warn,
                    _ => theme.muted,
                };
                spans.push(Span::styled(format!("{:<5} ", sanitize_cell(level, 8)), style));
            }
            let message = sanitize_cell(&l.message, 4_000);
            let hit = self.search.as_deref().is_some_and(|s| message.contains(s));
            spans.push(Span::styled(message, if hit { theme.highlight } else { theme.text }));
            out.push(Line::from(spans));
        }
        out
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, now: f64, zoomed: bool) {
        let hint =
            if zoomed { " esc: split · [ ] enter: retry chain " } else { " z: zoom · keys for logs when zoomed " };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border_focused)
            .title(Span::styled(" Execution ", theme.title))
            .title_top(Line::styled(hint, theme.muted).right_aligned());
        let inner = block.inner(area);
        let lines = self.lines(theme, now);
        let width = inner.width.max(1) as usize;
        let count: usize =
            if self.wrap { lines.iter().map(|l| l.width().max(1).div_ceil(width)).sum() } else { lines.len() };
        let count = count.min(u16::MAX as usize) as u16;
        self.last_lines.set((count, inner.height));
        let scroll = if self.follow { count.saturating_sub(inner.height) } else { self.scroll };
        let mut p = Paragraph::new(lines).block(block).scroll((scroll, 0));
        if self.wrap {
            p = p.wrap(Wrap { trim: false });
        }
        frame.render_widget(p, area);
    }
}

fn on(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

impl crate::ui::widgets::Scroll for ExecDetail {
    fn scroll_by(&mut self, delta: i32) {
        let (lines, height) = self.last_lines.get();
        let max = lines.saturating_sub(height);
        self.follow = false;
        self.scroll = (i32::from(self.scroll) + delta).clamp(0, i32::from(max)) as u16;
    }

    fn scroll_to_end(&mut self) {
        let (lines, height) = self.last_lines.get();
        self.scroll = lines.saturating_sub(height);
    }
}

//! Markdown (package READMEs, solutions' long descriptions) as styled terminal lines: headings,
//! emphasis, lists (nested, numbered, tasks), block quotes, code blocks, tables, links with their
//! address. Every piece of text is sanitised; raw HTML is left out (it cannot be shown).

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::domain::text::{sanitize_cell, sanitize_lines};
use crate::ui::theme::Theme;

/// The longest line of a code block or table kept (longer ones are cut with an ellipsis).
const MAX_LINE: usize = 400;

struct Renderer<'t> {
    theme: &'t Theme,
    lines: Vec<Line<'static>>,
    spans: Vec<Span<'static>>,
    styles: Vec<Style>,
    /// Each open list: the next number (None: bullets).
    lists: Vec<Option<u64>>,
    /// The bullet of an item whose first line is not out yet.
    bullet: Option<String>,
    quotes: usize,
    code: bool,
    link: Option<String>,
    link_text: String,
    table: Option<Vec<Vec<String>>>,
    cell: String,
}

impl<'t> Renderer<'t> {
    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn push_style(&mut self, f: impl Fn(Style) -> Style) {
        let s = f(self.style());
        self.styles.push(s);
    }

    fn pop_style(&mut self) {
        self.styles.pop();
    }

    fn prefix(&mut self) -> Vec<Span<'static>> {
        let mut out = Vec::new();
        if self.quotes > 0 {
            out.push(Span::styled("│ ".repeat(self.quotes), self.theme.muted));
        }
        if !self.lists.is_empty() {
            let indent = "  ".repeat(self.lists.len() - 1);
            match self.bullet.take() {
                Some(b) => out.push(Span::styled(format!("{indent}{b}"), self.theme.muted)),
                None => out.push(Span::raw(format!("{indent}  "))),
            }
        }
        out
    }

    /// End the current line (if it has anything).
    fn flush(&mut self) {
        if self.spans.is_empty() {
            return;
        }
        let mut spans = self.prefix();
        spans.append(&mut self.spans);
        self.lines.push(Line::from(spans));
    }

    /// A blank line between blocks (never two, never first).
    fn gap(&mut self) {
        self.flush();
        if self.lists.is_empty() && self.lines.last().is_some_and(|l| !l.spans.is_empty()) {
            self.lines.push(Line::default());
        }
    }

    fn text(&mut self, text: &str) {
        if let Some(cell) = self.table.as_ref().map(|_| &mut self.cell) {
            cell.push_str(&sanitize_cell(text, MAX_LINE));
            return;
        }
        if self.code {
            for line in sanitize_lines(text, MAX_LINE) {
                let mut spans = self.prefix();
                spans.push(Span::styled(format!("    {line}"), self.theme.key_hint));
                self.lines.push(Line::from(spans));
            }
            return;
        }
        if self.link.is_some() {
            self.link_text.push_str(text);
        }
        let clean = sanitize_cell(text, 10_000);
        self.spans.push(Span::styled(clean, self.style()));
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => {}
            Tag::Heading { level, .. } => {
                self.gap();
                let mut style = self.theme.title.add_modifier(Modifier::BOLD);
                if level == HeadingLevel::H1 {
                    style = style.add_modifier(Modifier::UNDERLINED);
                }
                self.styles.push(style);
                let marks = match level {
                    HeadingLevel::H1 => "",
                    HeadingLevel::H2 => "▌ ",
                    _ => "· ",
                };
                if !marks.is_empty() {
                    self.spans.push(Span::styled(marks, self.theme.title));
                }
            }
            Tag::BlockQuote(_) => {
                self.gap();
                self.quotes += 1;
            }
            Tag::CodeBlock(_) => {
                self.gap();
                self.code = true;
            }
            Tag::List(start) => {
                if self.lists.is_empty() {
                    self.gap();
                } else {
                    self.flush();
                }
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush();
                let bullet = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "• ".to_string(),
                };
                self.bullet = Some(bullet);
            }
            Tag::Emphasis => self.push_style(|s| s.add_modifier(Modifier::ITALIC)),
            Tag::Strong => self.push_style(|s| s.add_modifier(Modifier::BOLD)),
            Tag::Strikethrough => self.push_style(|s| s.add_modifier(Modifier::CROSSED_OUT)),
            Tag::Link { dest_url, .. } => {
                self.link = Some(dest_url.to_string());
                self.link_text.clear();
                let style = self.theme.title.add_modifier(Modifier::UNDERLINED);
                self.styles.push(style);
            }
            Tag::Image { .. } => {
                self.spans.push(Span::styled("[image: ", self.theme.muted));
                self.styles.push(self.theme.muted);
            }
            Tag::Table(_) => {
                self.gap();
                self.table = Some(Vec::new());
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.push(Vec::new());
                }
            }
            Tag::TableCell => self.cell.clear(),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                if self.lists.is_empty() {
                    self.gap();
                } else {
                    self.flush();
                }
            }
            TagEnd::Heading(_) => {
                self.pop_style();
                self.gap();
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.quotes = self.quotes.saturating_sub(1);
                self.gap();
            }
            TagEnd::CodeBlock => {
                self.code = false;
                self.gap();
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.gap();
                }
            }
            TagEnd::Item => self.flush(),
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => self.pop_style(),
            TagEnd::Link => {
                self.pop_style();
                if let Some(url) = self.link.take() {
                    // The address, unless the text already is it (so it can be copied).
                    if !url.is_empty() && self.link_text.trim() != url && !url.starts_with('#') {
                        self.spans.push(Span::styled(format!(" <{}>", sanitize_cell(&url, 200)), self.theme.muted));
                    }
                }
            }
            TagEnd::Image => {
                self.pop_style();
                self.spans.push(Span::styled("]", self.theme.muted));
            }
            TagEnd::TableCell => {
                let cell = std::mem::take(&mut self.cell);
                if let Some(row) = self.table.as_mut().and_then(|t| t.last_mut()) {
                    row.push(cell);
                }
            }
            TagEnd::Table => {
                if let Some(rows) = self.table.take() {
                    self.draw_table(rows);
                }
                self.gap();
            }
            _ => {}
        }
    }

    fn draw_table(&mut self, rows: Vec<Vec<String>>) {
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0).min(40))
            .collect();
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<String> = (0..columns)
                .map(|c| {
                    let text = sanitize_cell(row.get(c).map(String::as_str).unwrap_or(""), widths[c]);
                    format!("{text:<w$}", w = widths[c])
                })
                .collect();
            let style = if i == 0 { self.theme.table_header } else { self.theme.text };
            let mut spans = self.prefix();
            spans.push(Span::styled(cells.join(" │ "), style));
            self.lines.push(Line::from(spans));
        }
    }
}

/// `markdown` as lines to draw (wrapping is the widget's).
pub fn render(markdown: &str, theme: &Theme) -> Vec<Line<'static>> {
    let mut r = Renderer {
        theme,
        lines: Vec::new(),
        spans: Vec::new(),
        styles: vec![theme.text],
        lists: Vec::new(),
        bullet: None,
        quotes: 0,
        code: false,
        link: None,
        link_text: String::new(),
        table: None,
        cell: String::new(),
    };
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    // Sanitised before parsing too: the parser splits text at `]` and the like, which would
    // leave an escape sequence's body visible once its ESC is dropped.
    let clean = sanitize_lines(markdown, 100_000).join("\n");
    for event in Parser::new_ext(&clean, options) {
        match event {
            Event::Start(tag) => r.start(tag),
            Event::End(tag) => r.end(tag),
            Event::Text(t) => r.text(&t),
            Event::Code(t) => {
                if r.table.is_some() {
                    r.text(&t);
                } else {
                    let clean = sanitize_cell(&t, MAX_LINE);
                    r.spans.push(Span::styled(clean, theme.key_hint));
                }
            }
            Event::SoftBreak => r.text(" "),
            Event::HardBreak => r.flush(),
            Event::Rule => {
                r.gap();
                r.lines.push(Line::styled("─".repeat(40), theme.muted));
                r.gap();
            }
            Event::TaskListMarker(done) => {
                r.spans.push(Span::styled(if done { "[x] " } else { "[ ] " }, theme.muted));
            }
            // Raw HTML (badges, <img>, alignment wrappers) cannot be shown in a terminal.
            _ => {}
        }
    }
    r.flush();
    while r.lines.last().is_some_and(|l| l.spans.is_empty()) {
        r.lines.pop();
    }
    r.lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    #[test]
    fn headings_lists_code_and_links() {
        let theme = Theme::plain();
        let md = "# Redis\n\nA *fast* store. See [the docs](https://redis.io/docs).\n\n## Install\n\n1. add the repo\n2. install:\n   - `helm install`\n   - wait\n\n```console\nhelm repo add bitnami https://charts.bitnami.com\nhelm install my-redis bitnami/redis\n```\n\n> careful\n\n- [x] done\n\n| Name | Value |\n|---|---|\n| `replicas` | 3 |\n\n<p align=\"center\"><img src=\"x.png\"></p>\n";
        let lines = render(md, &theme);
        assert_eq!(
            plain(&lines),
            [
                "Redis",
                "",
                "A fast store. See the docs <https://redis.io/docs>.",
                "",
                "▌ Install",
                "",
                "1. add the repo",
                "2. install:",
                "  • helm install",
                "  • wait",
                "",
                "    helm repo add bitnami https://charts.bitnami.com",
                "    helm install my-redis bitnami/redis",
                "",
                "│ careful",
                "",
                "• [x] done",
                "",
                "Name     │ Value",
                "replicas │ 3    ",
            ]
            .map(String::from)
        );
        // Styles: the heading bold, emphasis italic, the link underlined.
        let theme = Theme::load("default", None).unwrap_or_else(|_| Theme::plain());
        let lines = render(md, &theme);
        assert!(lines[0].spans[0].style.add_modifier.contains(Modifier::BOLD));
        assert!(lines[2].spans.iter().any(|s| s.content == "fast" && s.style.add_modifier.contains(Modifier::ITALIC)));
        assert!(lines[2]
            .spans
            .iter()
            .any(|s| s.content == "the docs" && s.style.add_modifier.contains(Modifier::UNDERLINED)));
    }

    #[test]
    fn hostile_text_is_neutralised_and_a_bare_link_is_not_repeated() {
        let theme = Theme::plain();
        let lines = render(
            "evil \u{1b}]0;pwned\u{7} title \u{202e}rev\n\n```\n\u{1b}[2Jclear\n```\n\n<https://x.example>\n",
            &theme,
        );
        let text = plain(&lines).join("\n");
        assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}') && !text.contains('\u{7}'), "{text:?}");
        assert!(text.contains("evil ␛]0;pwned␇ title <U+202E>rev"), "{text:?}");
        assert!(text.contains("    ␛[2Jclear"));
        assert_eq!(text.matches("https://x.example").count(), 1);
    }
}

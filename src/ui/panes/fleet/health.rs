//! The Fleet pane's summary header: hosts and agents by health, and the healthy share since the
//! dashboard started, as a sparkline.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::domain::health::Health;
use crate::service::fleet::Summary;
use crate::service::listing::Entity;
use crate::ui::pane::Ctx;
use crate::ui::widgets::table;

/// How often the Fleet pane counts the fleet's health when nothing notified a change.
pub const FLEET_COUNTS_IDLE: Duration = Duration::from_secs(5);

/// Samples of the fleet's healthy share kept for the sparkline; when full, neighbours merge.
pub const SPARK_SAMPLES: usize = 240;

/// One count of a header: the value it picks (None: all), its text, its style.
type HeaderItem = (Option<String>, String, ratatui::style::Style);

/// The last counts and the healthy share since the start.
#[derive(Debug, Clone, Default)]
pub struct FleetHealth {
    pub summary: Option<Summary>,
    pub pending: bool,
    pub asked: Option<DateTime<Utc>>,
    /// Hosts or agents changed (a notification) since the counts were last asked for.
    pub changed: bool,
    /// Healthy per cent of hosts and agents together, oldest first.
    pub samples: Vec<u64>,
    /// How many reads each sample stands for (doubles when the samples merge).
    pub per_sample: usize,
    /// Reads folded into the newest sample so far.
    folded: usize,
}

impl FleetHealth {
    /// Add a reading: a new sample, or folded into the newest one once samples stand for several
    /// reads; when the samples are full, each pair merges into one.
    pub fn record(&mut self, percent: u64) {
        let per = self.per_sample.max(1);
        if self.folded > 0 && self.folded < per {
            if let Some(last) = self.samples.last_mut() {
                let n = self.folded as u64;
                *last = (*last * n + percent) / (n + 1);
                self.folded += 1;
                return;
            }
        }
        if self.samples.len() >= SPARK_SAMPLES {
            self.samples = self.samples.chunks(2).map(|c| c.iter().sum::<u64>() / c.len() as u64).collect();
            self.per_sample = per * 2;
        }
        self.samples.push(percent);
        self.folded = 1;
    }

    /// The samples squeezed into `width` columns (averaged), for drawing.
    pub fn series(&self, width: usize) -> Vec<u64> {
        if width == 0 || self.samples.len() <= width {
            return self.samples.clone();
        }
        let n = self.samples.len();
        (0..width)
            .map(|i| {
                let (a, b) = (i * n / width, ((i + 1) * n / width).max(i * n / width + 1));
                let chunk = &self.samples[a..b.min(n)];
                chunk.iter().sum::<u64>() / chunk.len().max(1) as u64
            })
            .collect()
    }

    /// Hosts and agents by health (each count picks that list and health; `f`/`F` cycle the
    /// health of the list shown) and the healthy share since the start. `current` is the list
    /// shown, `selected` its health filter.
    pub fn draw(&self, frame: &mut Frame, area: Rect, current: Entity, selected: Option<String>, cx: &Ctx) {
        let theme = cx.theme;
        let Some(summary) = &self.summary else {
            frame.render_widget(Paragraph::new(Line::styled(" counting the fleet…", theme.muted)), area);
            return;
        };
        let mut spans = Vec::new();
        let mut x = area.x;
        let mut spots = cx.header_spots.borrow_mut();
        // Every count always shows: narrower, the counts are abbreviated, then the names.
        let line = |level: u8| {
            let n = |c: i64| if level == 0 { table::thousands(c) } else { table::abbreviated(c) };
            let mut all = Vec::new();
            for (entity, name, c) in
                [(Entity::Hosts, "hosts", summary.hosts), (Entity::Agents, "agents", summary.agents)]
            {
                let mut items: Vec<HeaderItem> = vec![(None, format!(" {name} {}:", n(c.total())), theme.text)];
                for &h in Health::of(entity == Entity::Hosts) {
                    let label = if level < 2 { h.as_str() } else { table::short_status(h.as_str()) };
                    items.push((
                        Some(h.as_str().to_string()),
                        format!(" {} {label}", n(c.get(h))),
                        theme.status(h.as_str()),
                    ));
                }
                all.push((entity, items));
            }
            all
        };
        let width = |all: &[(Entity, Vec<HeaderItem>)]| {
            all.iter()
                .map(|(_, items)| items.iter().map(|(_, t, _)| t.chars().count()).sum::<usize>() + 2)
                .sum::<usize>()
                + 12
        };
        let lines = (0..3).map(line).find(|l| width(l) <= usize::from(area.width)).unwrap_or_else(|| line(2));
        for (entity, items) in lines {
            for (health, text, style) in items {
                let width = text.chars().count() as u16;
                let on = entity == current && health.is_some() && health == selected;
                spots.push((area.y, x, x + width, Some(entity), health));
                spans.push(Span::styled(text, if on { theme.row_selected } else { style }));
                x += width;
            }
            spans.push(Span::styled(" │", theme.border));
            x += 2;
        }
        let label = format!(" {}% healthy ", summary.healthy_percent());
        spans.push(Span::styled(label.clone(), theme.muted));
        x += label.chars().count() as u16;
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        // The healthy share since the dashboard started, in what is left of the line.
        let spark = Rect { x, y: area.y, width: area.right().saturating_sub(x).min(60), height: 1 };
        if spark.width >= 4 {
            let series = self.series(usize::from(spark.width));
            frame.render_widget(ratatui::widgets::Sparkline::default().data(&series).max(100).style(theme.ok), spark);
        }
    }
}

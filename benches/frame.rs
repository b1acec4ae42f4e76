//! Frame time: one full draw of the dashboard into a 160×48 TestBackend buffer — the empty tab
//! screen, and the Executions list with 1,000,000 rows behind it (a 200-row page held, as the
//! poller delivers it), plain and with a fuzzy filter highlighting every visible row.
//!
//! Run: cargo bench --bench frame

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fleetdeck::service::listing::{Cursor, Page, Row};
use fleetdeck::ui::app::App;
use fleetdeck::ui::theme::Theme;
use fleetdeck::ui::workers::{Reply, Request};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn app() -> App {
    let theme = Theme::built_in("default").expect("built-in theme");
    App::new(theme, fleetdeck::ui::keymap::Keymap::defaults(), "own server /var/lib/fleetdeck/postgres".into())
        .with_actor("os:bench")
}

/// Answer the app's page requests with a page of 200 execution-like rows out of 1,000,000.
fn feed(app: &mut App) {
    for request in std::mem::take(&mut app.outbox) {
        if let Request::Page(p) = request {
            let rows = (0..200)
                .map(|i| Row {
                    cursor: Cursor { sort: format!("2026-11-23 12:{:02}:00+00", i % 60), id: format!("{i:08}") },
                    cells: vec![
                        ["running", "completed", "failed", "queued"][i % 4].to_string(),
                        format!("ingest flow {i}"),
                        format!("catalog-observability-agent-{i}"),
                        format!("2026-11-23 12:{:02}:00", i % 60),
                        "0/3".to_string(),
                        format!("{:08x}", i * 7919),
                    ],
                })
                .collect();
            let page = Page { rows, total: 1_000_000, ..Default::default() };
            app.on_reply(Reply::Page {
                entity: p.entity,
                generation: p.generation,
                at: p.at,
                result: Ok(page),
                when: Utc::now(),
            });
        }
    }
}

fn frame(c: &mut Criterion) {
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test backend");
    let empty = app();
    c.bench_function("tab screen frame 160x48", |b| {
        b.iter(|| {
            terminal.draw(|f| empty.draw(f)).expect("draw");
        })
    });

    let mut list = app();
    list.on_key(KeyEvent::new(KeyCode::Char('4'), KeyModifiers::NONE));
    list.tick(Utc::now());
    feed(&mut list);
    assert_eq!(list.list().table.total, 1_000_000);
    c.bench_function("executions frame 160x48, 1,000,000 rows behind", |b| {
        b.iter(|| {
            terminal.draw(|f| list.draw(f)).expect("draw");
        })
    });

    list.on_key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE));
    for ch in "ingst".chars() {
        list.on_key(KeyEvent::new(KeyCode::Char(ch), KeyModifiers::NONE));
    }
    list.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    feed(&mut list);
    c.bench_function("executions frame 160x48, 1,000,000 rows, fuzzy highlights", |b| {
        b.iter(|| {
            terminal.draw(|f| list.draw(f)).expect("draw");
        })
    });
}

criterion_group!(benches, frame);
criterion_main!(benches);

//! Each pane on the large demo database: the frame time of every pane with its data loaded (one
//! full draw into a 160×48 TestBackend buffer), and keystroke-to-frame for the filters:
//!
//! - "keystroke → frame": the key handled and the next frame drawn (what the UI loop does before
//!   it waits again; a list's rows are still the previous ones, the filter line shows the key);
//! - "keystroke → filtered rows": the key, the list's query on the database as the pane's poller
//!   runs it (page and total), the reply handled and the frame drawn. The Marketplace filters in
//!   memory, so for it the two are the same. The stacks and the cluster agents come light first
//!   (`listing::page_light`: the rows, with `…` for their rollup): "filtered rows" is that frame,
//!   and "filtered rows in full" the frame once the full page has come too.
//!
//! Run: cargo bench --bench panes (the large demo database: see benches/common/mod.rs).
//! The replies are produced by the same service calls the workers make (pages by each list's
//! `PageReader`, which holds the hosts' names in memory), in the benchmark's thread instead of
//! the workers' tasks.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fleetdeck::service::listing;
use fleetdeck::service::{Actor, Services};
use fleetdeck::ui::app::App;
use fleetdeck::ui::theme::Theme;
use fleetdeck::ui::workers::{self, PageReader, PageRequest, Reply, Request, DELTA_OVERLAP};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

mod common;

struct Bench {
    rt: tokio::runtime::Runtime,
    services: Services,
    /// The dashboard's clock: the demo's newest heartbeat, so that its health mix shows.
    at: DateTime<Utc>,
    /// Each list's page reader, as each list's poller holds one.
    readers: std::cell::RefCell<std::collections::HashMap<listing::Entity, PageReader>>,
}

impl Bench {
    /// Answer what the app asked for as the workers would, until it asks for nothing more.
    fn serve(&self, app: &mut App) {
        self.serve_until(app, false);
    }

    /// `serve`; with `light_only`, a page that comes light first is answered light, and its full
    /// page is left in the outbox for the next `serve`.
    fn serve_until(&self, app: &mut App, light_only: bool) {
        let pool = &self.services.pool;
        let mut deferred = Vec::new();
        for _ in 0..10 {
            let requests = std::mem::take(&mut app.outbox);
            if requests.is_empty() {
                break;
            }
            for request in requests {
                let reply = match request {
                    Request::Page(p) => Reply::Page {
                        result: {
                            let mut readers = self.readers.borrow_mut();
                            let reader = readers.entry(p.entity).or_default();
                            let light = self.rt.block_on(reader.read_light(pool, &p)).expect("light page");
                            if let Some(page) = light {
                                let (entity, generation, at) = (p.entity, p.generation, p.at.clone());
                                app.on_reply(Reply::Page { entity, generation, at, result: Ok(page), when: self.at });
                                if light_only {
                                    deferred.push(Request::Page(PageRequest { light_first: false, ..p }));
                                    continue;
                                }
                            }
                            let page = self.rt.block_on(reader.read(pool, &p)).map_err(|e| e.to_string());
                            self.rt.block_on(reader.answered(pool, p.entity));
                            page
                        },
                        entity: p.entity,
                        generation: p.generation,
                        at: p.at,
                        when: self.at,
                    },
                    Request::Delta(d) => Reply::Delta {
                        result: self
                            .rt
                            .block_on(listing::delta(
                                pool,
                                d.entity,
                                &d.query,
                                &d.window,
                                d.since,
                                DELTA_OVERLAP,
                                1_000,
                            ))
                            .map_err(|e| e.to_string()),
                        entity: d.entity,
                        generation: d.generation,
                        when: self.at,
                    },
                    Request::Call { id, command } => {
                        Reply::Called { id, outcome: self.rt.block_on(workers::call(&self.services, command)) }
                    }
                    _ => continue,
                };
                app.on_reply(reply);
            }
        }
        app.outbox.extend(deferred);
    }
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) });
    }
}

/// How far a measured keystroke goes: the frame only, the first rows (a light page where the
/// list has one), or the full rows.
#[derive(Clone, Copy)]
enum Rows {
    None,
    Light,
    Full,
}

/// A pane of the dashboard opened by `keys` (after the start screen) and loaded.
struct Pane {
    name: &'static str,
    keys: &'static str,
    /// What to type after `/`, and which keystrokes of it to measure (1-based).
    filter: &'static str,
    measure: &'static [usize],
}

const PANES: &[Pane] = &[
    Pane { name: "marketplace packages", keys: "", filter: "postgres", measure: &[1, 2, 8] },
    Pane { name: "fleet hosts", keys: "2", filter: "h0042", measure: &[1, 2, 5] },
    Pane { name: "fleet cluster agents", keys: "2:cluster-agents\r", filter: "edge", measure: &[1, 4] },
    Pane { name: "rollouts stacks", keys: "3", filter: "cache", measure: &[1, 5] },
    Pane { name: "executions", keys: "4", filter: "ingest", measure: &[1, 6] },
];

fn panes(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt.block_on(common::large_demo());
    let services = Services::new(db.pool.clone(), Actor::operator());
    let at: DateTime<Utc> = rt
        .block_on(sqlx::query_scalar("SELECT max(last_heartbeat) FROM edge.host").fetch_one(&services.pool))
        .expect("newest heartbeat");
    let bench = Bench { rt, services, at, readers: Default::default() };
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("test backend");

    let mut g = c.benchmark_group("panes 160x48");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    for pane in PANES {
        let mut app = App::new(
            Theme::built_in("default").expect("theme"),
            fleetdeck::ui::keymap::Keymap::defaults(),
            "bench".into(),
        )
        .with_actor("os:bench");
        // Draw once so the app knows its table's height, as the first frame does.
        terminal.draw(|f| app.draw(f)).expect("draw");
        app.tick(bench.at);
        bench.serve(&mut app);
        typed(&mut app, pane.keys);
        app.tick(bench.at);
        bench.serve(&mut app);
        terminal.draw(|f| app.draw(f)).expect("draw");
        bench.serve(&mut app);
        let total = if pane.keys.is_empty() {
            let view = &app.market.views[&app.market.kind];
            view.catalogue.as_ref().map(|c| c.len()).unwrap_or(0)
        } else {
            app.list().table.total as usize
        };
        eprintln!("{}: {} rows behind the frame", pane.name, total);
        g.bench_function(format!("frame: {} ({total} rows)", pane.name), |b| {
            b.iter(|| {
                terminal.draw(|f| app.draw(f)).expect("draw");
            })
        });

        key(&mut app, KeyCode::Char('/'));
        let chars: Vec<char> = pane.filter.chars().collect();
        for &k in pane.measure {
            let before: String = chars[..k - 1].iter().collect();
            let ch = chars[k - 1];
            typed(&mut app, &before);
            bench.serve(&mut app);
            let label = format!("{}: /{before}[{ch}]", pane.name);
            // The Marketplace filters in memory: its keystroke already brings the rows. The
            // stacks come light first (reach and progress `…`), then in full.
            let kinds: &[(&str, Rows)] = match pane.keys {
                "" => &[("filtered rows", Rows::Full)],
                "3" | "2:cluster-agents\r" => {
                    &[("frame", Rows::None), ("filtered rows", Rows::Light), ("filtered rows in full", Rows::Full)]
                }
                _ => &[("frame", Rows::None), ("filtered rows", Rows::Full)],
            };
            for &(what, rows) in kinds {
                g.bench_function(format!("keystroke → {what}: {label}"), |b| {
                    b.iter_custom(|iters| {
                        let mut spent = Duration::ZERO;
                        for _ in 0..iters {
                            let t = Instant::now();
                            key(&mut app, KeyCode::Char(ch));
                            match rows {
                                Rows::None => {}
                                Rows::Light => bench.serve_until(&mut app, true),
                                Rows::Full => bench.serve(&mut app),
                            }
                            terminal.draw(|f| app.draw(f)).expect("draw");
                            spent += t.elapsed();
                            bench.serve(&mut app);
                            key(&mut app, KeyCode::Backspace);
                            bench.serve(&mut app);
                        }
                        spent
                    })
                });
            }
            for _ in 0..before.len() {
                key(&mut app, KeyCode::Backspace);
            }
            bench.serve(&mut app);
        }
        key(&mut app, KeyCode::Esc);
    }
    g.finish();
}

criterion_group!(benches, panes);
criterion_main!(benches);

//! The dashboard drawn on a TestBackend, as insta snapshots (120×40), fed with real pages from a
//! test database through the same replies the workers send.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fleetdeck::import::demo::{self, Scale};
use fleetdeck::service::listing::{self, Entity};
use fleetdeck::service::marketplace::Kind;
use fleetdeck::testing::TestDb;
use fleetdeck::ui::app::{App, Detail, Mode, Tab};
use fleetdeck::ui::keymap::Keymap;
use fleetdeck::ui::theme::Theme;
use fleetdeck::ui::workers::{Command, Outcome, Reply, Request, DELTA_LIMIT};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn render(app: &App) -> TestBackend {
    render_at(app, 80, 10)
}

fn render_at(app: &App, w: u16, h: u16) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| app.draw(f)).unwrap();
    terminal.backend().clone()
}

fn big(app: &App) -> TestBackend {
    render_at(app, 120, 40)
}

fn app() -> App {
    App::new(Theme::built_in("default").unwrap(), Keymap::defaults(), "own server /var/lib/fleetdeck/postgres".into())
        .with_actor("os:tester")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

fn press(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// A key with Ctrl held.
fn ctrl(app: &mut App, c: char) {
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// A database with the small demo (fixed seed and clock; package ids made stable too).
async fn demo_db() -> TestDb {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 11, now(), |_| {}).await.unwrap();
    sqlx::query(
        "UPDATE cloud.bitnami_packages \
         SET package_id = md5(coalesce(name, '') || coalesce(repository_name, '') || coalesce(version, ''))::uuid",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    db
}

/// Do what the workers would: answer every page request from the database. Other requests are
/// returned.
async fn pump(app: &mut App, db: &TestDb) -> Vec<Request> {
    let mut other = Vec::new();
    while !app.outbox.is_empty() {
        for request in std::mem::take(&mut app.outbox) {
            match request {
                Request::Page(p) => {
                    let result = listing::page(&db.pool, p.entity, &p.query, &p.at, fleetdeck::ui::workers::PAGE_ROWS)
                        .await
                        .map_err(|e| e.to_string());
                    app.on_reply(Reply::Page {
                        entity: p.entity,
                        generation: p.generation,
                        at: p.at,
                        result,
                        when: now(),
                    });
                }
                Request::Delta(d) => {
                    let result = listing::delta(
                        &db.pool,
                        d.entity,
                        &d.query,
                        &d.window,
                        d.since,
                        fleetdeck::ui::workers::DELTA_OVERLAP,
                        DELTA_LIMIT,
                    )
                    .await
                    .map_err(|e| e.to_string());
                    app.on_reply(Reply::Delta { entity: d.entity, generation: d.generation, result, when: now() });
                }
                // The Fleet header's counts and the marketplace's catalogues are read in the
                // background, as the workers would.
                Request::Call {
                    id,
                    command:
                        command @ (Command::FleetSummary(..) | Command::Catalogue(_) | Command::MarketSearch { .. }),
                } => {
                    let s = fleetdeck::service::Services::new(db.pool.clone(), fleetdeck::service::Actor::operator());
                    let outcome = fleetdeck::ui::workers::call(&s, command).await;
                    app.on_reply(Reply::Called { id, outcome });
                }
                r => other.push(r),
            }
        }
    }
    other
}

async fn loaded(db: &TestDb) -> App {
    let mut app = app();
    app.tick(now());
    pump(&mut app, db).await;
    app
}

#[tokio::test]
async fn each_tab_lists_its_entity_from_the_database() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    insta::assert_snapshot!("tab_marketplace", big(&app));
    for (key, tab, name) in
        [('2', Tab::Fleet, "tab_fleet"), ('3', Tab::Rollouts, "tab_rollouts"), ('4', Tab::Executions, "tab_executions")]
    {
        press(&mut app, KeyCode::Char(key));
        pump(&mut app, &db).await;
        assert_eq!(app.tab, tab);
        insta::assert_snapshot!(name, big(&app));
    }
}

/// At 80×24 nothing important disappears: every status count (abbreviated), the connection and
/// read-only state, the state columns and the sorted column.
#[tokio::test]
async fn at_80_by_24_every_pane_keeps_what_matters() {
    let db = demo_db().await;
    let mut app = loaded(&db).await.with_readonly(true);
    let small = |app: &App| format!("{}", render_at(app, 80, 24));
    insta::assert_snapshot!("small_marketplace", render_at(&app, 80, 24));
    for (key, name) in [('2', "small_fleet"), ('3', "small_rollouts"), ('4', "small_executions")] {
        press(&mut app, KeyCode::Char(key));
        pump(&mut app, &db).await;
        let screen = small(&app);
        assert!(screen.contains("● connected") && screen.contains("READONLY"), "{name}: {screen}");
        insta::assert_snapshot!(name, render_at(&app, 80, 24));
    }
    let screen = small(&app);
    for s in ["que", "run", "paus", "done", "fail", "canc", "tout"] {
        assert!(screen.lines().nth(1).unwrap().contains(s), "the {s} count: {screen}");
    }
    assert!(screen.contains("STARTED ↓"), "the sorted column: {screen}");
    // Sorted by another column, that one shows.
    press(&mut app, KeyCode::Char('C'));
    pump(&mut app, &db).await;
    assert!(small(&app).contains("CORRELATION"), "{}", small(&app));
    press(&mut app, KeyCode::Char('3'));
    pump(&mut app, &db).await;
    let screen = small(&app);
    assert!(screen.contains("STATE") && screen.contains("DONE"), "{screen}");
    press(&mut app, KeyCode::Char('2'));
    pump(&mut app, &db).await;
    let screen = small(&app);
    assert!(screen.contains("HEALTH") && screen.lines().nth(1).unwrap().contains("maint"), "{screen}");
}

#[tokio::test]
async fn moving_far_fetches_pages_by_keyset_and_shows_the_position() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    let total = app.list().table.total;
    assert!(total > 250, "{total}");
    press(&mut app, KeyCode::Char('G'));
    pump(&mut app, &db).await;
    let screen = format!("{}", big(&app));
    assert!(screen.contains(&format!("{0} / {0}", fleetdeck::ui::widgets::table::thousands(total))), "{screen}");
    ctrl(&mut app, 'u');
    press(&mut app, KeyCode::PageUp);
    pump(&mut app, &db).await;
    assert!(app.list().table.selected < total - 1);
    assert!(app.list().table.selected_row().is_some());
    press(&mut app, KeyCode::Char('g'));
    pump(&mut app, &db).await;
    assert_eq!(app.list().table.position(), format!("1 / {}", fleetdeck::ui::widgets::table::thousands(total)));
}

#[tokio::test]
async fn a_stale_page_is_dropped() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    // Ask twice; answer the first request last.
    press(&mut app, KeyCode::Char('G'));
    let first = std::mem::take(&mut app.outbox);
    press(&mut app, KeyCode::Char('g'));
    pump(&mut app, &db).await;
    let position = app.list().table.position();
    for r in first {
        if let Request::Page(p) = r {
            let page = listing::page(&db.pool, p.entity, &p.query, &p.at, 200).await.unwrap();
            app.on_reply(Reply::Page {
                entity: p.entity,
                generation: p.generation,
                at: p.at,
                result: Ok(page),
                when: now(),
            });
        }
    }
    assert_eq!(app.list().table.position(), position, "the older answer changed nothing");
}

#[tokio::test]
async fn command_mode_completes_and_switches() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "s");
    insta::assert_snapshot!("command_completion", big(&app));
    typed(&mut app, "o");
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    assert_eq!((app.tab, app.market.kind), (Tab::Marketplace, Kind::Solutions));
    // History: the last command comes back with Up.
    press(&mut app, KeyCode::Char(':'));
    press(&mut app, KeyCode::Up);
    let Mode::Prompt(p) = &app.mode else { panic!() };
    assert_eq!(p.text(), "solutions");
    press(&mut app, KeyCode::Esc);
    // `:agents` in the Marketplace: its published agents; elsewhere the cluster agents.
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "agents");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    assert_eq!((app.tab, app.market.kind), (Tab::Marketplace, Kind::Agents));
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "agents");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    assert_eq!((app.tab, app.list().entity), (Tab::Fleet, Entity::Agents));
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "cluster-agents");
    press(&mut app, KeyCode::Enter);
    assert_eq!((app.tab, app.list().entity), (Tab::Fleet, Entity::Agents));
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "fly");
    press(&mut app, KeyCode::Enter);
    assert!(format!("{}", big(&app)).contains("unknown command :fly"));
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "q");
    press(&mut app, KeyCode::Enter);
    assert!(app.quit);
}

#[tokio::test]
async fn a_filter_narrows_highlights_and_esc_clears_it() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('3'));
    pump(&mut app, &db).await;
    let all = app.list().table.total;
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "lgca");
    pump(&mut app, &db).await;
    let backend = big(&app);
    insta::assert_snapshot!("filter_fuzzy", backend);
    // The matched characters carry the highlight style.
    let theme = Theme::built_in("default").unwrap();
    let hl = format!("[{:?} Reset {:?}]l", theme.highlight.fg.unwrap(), theme.highlight.add_modifier);
    assert!((3..8).any(|y| styled_row(&backend, y).contains(&hl)), "{}", styled_row(&backend, 4));
    press(&mut app, KeyCode::Enter);
    assert!(app.list().table.total < all);
    press(&mut app, KeyCode::Esc);
    pump(&mut app, &db).await;
    assert_eq!(app.list().table.total, all);
    // Inverse and exact.
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "!lgca");
    pump(&mut app, &db).await;
    let inverse = app.list().table.total;
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "=logistics-");
    pump(&mut app, &db).await;
    assert!(inverse < all && app.list().table.total > 0);
    // A label filter where there are no labels says so instead of querying.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "-l");
    app.outbox.clear();
    typed(&mut app, " env=prod");
    assert!(app.outbox.is_empty());
    assert!(format!("{}", big(&app)).contains("Executions have no labels"));
}

#[tokio::test]
async fn marks_count_rows_hidden_by_the_filter_and_sort_keys_reorder() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('3'));
    pump(&mut app, &db).await;
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('j'));
    ctrl(&mut app, ' ');
    assert_eq!(app.list().marks.len(), 3, "one, then a range of two");
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "=logistics-");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    let screen = format!("{}", big(&app));
    assert!(screen.contains("3 marked, 3 hidden by the filter"), "{screen}");
    press(&mut app, KeyCode::Esc);
    pump(&mut app, &db).await;
    assert!(format!("{}", big(&app)).contains(" 3 marked "));
    press(&mut app, KeyCode::Esc);
    assert!(app.list().marks.is_empty(), "esc clears marks last");

    // Shift+letter sorts by the column starting with that letter; again reverses.
    press(&mut app, KeyCode::Char('A'));
    pump(&mut app, &db).await;
    let agents = app.list().query.sort;
    assert_eq!(agents, column(&app, "AGENTS"));
    assert!(!app.list().query.descending);
    press(&mut app, KeyCode::Char('A'));
    pump(&mut app, &db).await;
    assert!(app.list().query.descending);
    assert!(format!("{}", big(&app)).contains("AGENTS ↓"));
    press(&mut app, KeyCode::Char('s'));
    pump(&mut app, &db).await;
    assert!(app.list().query.sort > agents && !app.list().query.descending, "s: the next sortable column");
}

#[tokio::test]
async fn enter_opens_the_detail_split_and_z_zooms_it() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "hosts");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.detail, Detail::Split);
    insta::assert_snapshot!("detail_split", big(&app));
    press(&mut app, KeyCode::Char('z'));
    assert_eq!(app.detail, Detail::Zoomed);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.detail, Detail::Split);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.detail, Detail::Closed);
}

#[tokio::test]
async fn destructive_verbs_ask_first_and_default_to_cancel() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "=");
    press(&mut app, KeyCode::Esc);
    pump(&mut app, &db).await;
    // Find a running execution.
    let running: i64 = {
        let rows = &app.list().table.rows;
        rows.iter().position(|r| r.cells[0] == "running").expect("a running execution") as i64
    };
    for _ in 0..running {
        press(&mut app, KeyCode::Char('j'));
    }
    press(&mut app, KeyCode::Char('c'));
    insta::assert_snapshot!("confirm_cancel", big(&app));
    press(&mut app, KeyCode::Enter);
    assert!(matches!(app.mode, Mode::Normal));
    assert!(app.outbox.is_empty(), "enter on the default button cancels");
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Esc);
    assert!(app.outbox.is_empty(), "esc cancels");
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    typed(&mut app, "stuck");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    let id = app.list().table.selected_row().unwrap().cursor.id.parse().unwrap();
    let [Request::Call { id: call, command }] = &app.outbox[..] else { panic!("{:?}", app.outbox) };
    assert_eq!(
        command,
        &Command::Executions {
            verb: fleetdeck::domain::execution::Verb::Cancel,
            ids: vec![id],
            reason: Some("stuck".into())
        }
    );
    let call = *call;
    app.outbox.clear();
    app.on_reply(Reply::Called { id: call, outcome: Outcome::Done("cancelled".into()) });
    assert!(format!("{}", big(&app)).contains("✓ cancelled"));

    // A verb that does not apply says why, without asking.
    let completed = app.list().table.rows.iter().position(|r| r.cells[0] == "completed").unwrap() as i64;
    app.outbox.clear();
    let here = app.list().table.selected;
    for _ in here..completed {
        press(&mut app, KeyCode::Char('j'));
    }
    pump(&mut app, &db).await;
    press(&mut app, KeyCode::Char('p'));
    assert!(matches!(app.mode, Mode::Normal));
    assert!(format!("{}", big(&app)).contains("cannot pause a completed execution"));
}

#[tokio::test]
async fn read_only_mode_disables_write_verbs() {
    let db = demo_db().await;
    let mut app = loaded(&db).await.with_readonly(true);
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    for key in ['p', 'r', 'c', 'R'] {
        press(&mut app, KeyCode::Char(key));
        assert!(matches!(app.mode, Mode::Normal));
        assert!(app.outbox.is_empty(), "{key}");
    }
    let screen = format!("{}", big(&app));
    assert!(screen.contains("read-only mode: retry is disabled"), "{screen}");
    assert!(screen.contains("READONLY"), "{screen}");
    press(&mut app, KeyCode::Char('3'));
    pump(&mut app, &db).await;
    press(&mut app, KeyCode::Char('n'));
    assert!(app.outbox.is_empty());
    // Started read-only, it is a lock: :readonly refuses to turn it off, and says why.
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "readonly");
    press(&mut app, KeyCode::Enter);
    assert!(app.outbox.is_empty(), "no session is reopened writable");
    assert!(app.readonly);
    assert!(format!("{}", big(&app)).contains("read-only mode is locked"));
    assert!(format!("{}", big(&app)).contains("restart without --readonly"), "the refusals say how to write: restart");
}

/// From a writable start `:readonly` turns it on, and off again.
#[tokio::test]
async fn read_only_mode_switched_on_here_can_be_switched_off() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "readonly");
    press(&mut app, KeyCode::Enter);
    assert!(app.readonly, "writes are refused at once");
    assert_eq!(app.outbox, [Request::ReadOnly(true)]);
    app.outbox.clear();
    app.on_reply(Reply::ReadOnly { on: true, error: None });
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('p'));
    assert!(format!("{}", big(&app)).contains("(:readonly turns it off)"));
    app.outbox.clear();
    // :readonly asks the workers to reopen the sessions; the badge goes when they have.
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "readonly");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.outbox, [Request::ReadOnly(false)]);
    assert!(app.readonly, "still read-only until the sessions are");
    app.on_reply(Reply::ReadOnly { on: false, error: None });
    assert!(!app.readonly);
}

#[tokio::test]
async fn the_new_stack_form_validates_under_each_field() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('3'));
    pump(&mut app, &db).await;
    press(&mut app, KeyCode::Char('n'));
    let [Request::Call { id, command: Command::Generators }] = app.outbox.as_slice() else {
        panic!("{:?}", app.outbox)
    };
    let id = *id;
    app.outbox.clear();
    let s = fleetdeck::service::Services::new(db.pool.clone(), fleetdeck::service::Actor::operator());
    let gens = fleetdeck::service::stacks::generators(&s).await.unwrap();
    app.on_reply(Reply::Called { id, outcome: Outcome::Generators(gens) });
    assert!(matches!(app.mode, Mode::Form(_)));
    // A name, then labels and annotations with mistakes.
    typed(&mut app, "web");
    for _ in 0..3 {
        press(&mut app, KeyCode::Tab);
    }
    typed(&mut app, &"x".repeat(70));
    press(&mut app, KeyCode::Tab);
    typed(&mut app, "env prod");
    ctrl(&mut app, 's');
    assert!(app.outbox.is_empty(), "nothing is sent while a field is wrong");
    insta::assert_snapshot!("form_validation", big(&app));
    press(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode, Mode::Normal));
}

#[tokio::test]
async fn the_status_bar_shows_a_lost_database_and_recovery() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    app.on_reply(Reply::Lost {
        since: now() - chrono::Duration::seconds(42),
        retry_in: Duration::from_secs(2),
        error: "connection refused".into(),
    });
    // The rows stay, and moving still works.
    press(&mut app, KeyCode::Char('j'));
    insta::assert_snapshot!("stale_status_bar", big(&app));
    app.on_reply(Reply::Connected);
    assert!(format!("{}", big(&app)).contains("● connected"));
}

/// Issue 26: with a hot standby, the status bar says where reads go, and why when it is the
/// primary; at 80 columns too.
#[test]
fn the_status_bar_says_where_reads_go() {
    use fleetdeck::db::replica::ReadsFrom;
    let mut app = app();
    app.on_reply(Reply::Reads(ReadsFrom::Standby { lag: Duration::from_millis(240) }));
    insta::assert_snapshot!("reads_on_the_standby", render(&app));
    app.on_reply(Reply::Reads(ReadsFrom::Primary { why: "standby lags 7.2s".into() }));
    let shown = format!("{}", render(&app));
    assert!(shown.contains("reads on primary: standby lags 7.2s"), "{shown}");
    insta::assert_snapshot!("reads_on_the_primary_80x24", render_at(&app, 80, 24));
}

#[test]
fn the_tab_screen() {
    insta::assert_snapshot!(render(&app()));
}

#[test]
fn switching_tabs_by_number_and_tab_keys() {
    let mut app = app();
    app.on_key(KeyEvent::new(KeyCode::Char('4'), KeyModifiers::NONE));
    assert_eq!(app.tab, Tab::Executions);
    app.on_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    assert_eq!(app.tab, Tab::Marketplace);
    app.on_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(app.tab, Tab::Executions);
    app.on_key(KeyEvent::new(KeyCode::Char('3'), KeyModifiers::NONE));
    insta::assert_snapshot!(render(&app));
    assert!(!app.quit);
    app.on_key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE));
    assert!(app.quit);
}

#[test]
fn help_is_generated_from_the_keymap() {
    let mut app = app();
    app.on_key(KeyEvent::new(KeyCode::Char('4'), KeyModifiers::NONE));
    app.on_key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE));
    assert!(app.help.open);
    insta::assert_snapshot!(render_at(&app, 120, 40));
    app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(!app.help.open);
}

/// `:theme light` paints its own background: readable on a dark terminal, every cell of every
/// pane (and the help over it) has the theme's colour behind it, none the terminal's.
#[tokio::test]
async fn the_light_theme_paints_its_own_background_everywhere() {
    let db = demo_db().await;
    let light = Theme::built_in("light").unwrap();
    let mut app = loaded(&db).await.with_themes("light", vec![("light".into(), light)]);
    let unpainted = |app: &App| {
        let b = render_at(app, 80, 24);
        b.buffer().content().iter().filter(|c| c.bg == ratatui::style::Color::Reset).count()
    };
    for key in ['1', '2', '3', '4'] {
        press(&mut app, KeyCode::Char(key));
        pump(&mut app, &db).await;
        assert_eq!(unpainted(&app), 0, "tab {key}");
    }
    press(&mut app, KeyCode::Char('?'));
    assert_eq!(unpainted(&app), 0, "the help");
}

/// Toasts sit at the bottom of the pane (never over the table's header), the same words refresh
/// the one shown instead of piling up, and they go after a few seconds.
#[tokio::test]
async fn toasts_do_not_pile_up_or_cover_the_header() {
    let db = demo_db().await;
    let mut app = loaded(&db).await.with_readonly(true);
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    for _ in 0..5 {
        press(&mut app, KeyCode::Char('p'));
    }
    assert_eq!(app.toasts.len(), 1, "the same refusal five times is one toast");
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Char('R'));
    assert_eq!(app.toasts.len(), 2, "two at most");
    let screen = format!("{}", render_at(&app, 80, 24));
    let lines: Vec<&str> = screen.lines().collect();
    let header = lines.iter().position(|l| l.contains("STATUS")).unwrap();
    assert!(!lines[header].contains('✗') && !lines[header - 1].contains('✗'), "{screen}");
    assert!(lines[lines.len() - 4].contains('✗'), "at the bottom of the pane: {screen}");
    app.tick(now() + chrono::Duration::seconds(9));
    assert!(app.toasts.is_empty(), "gone after a few seconds");
}

/// A search whose matches the default facet hides says how many and how to show them; a `:pkgs`
/// view drops an earlier server search instead of combining with it.
#[tokio::test]
async fn hidden_matches_are_counted_and_a_new_view_drops_the_server_search() {
    let db = demo_db().await;
    sqlx::query(
        "UPDATE cloud.bitnami_packages SET name = 'zzqq-legacy', deprecated = true \
         WHERE package_id = (SELECT package_id FROM cloud.bitnami_packages ORDER BY name LIMIT 1)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "zzqq");
    let screen = format!("{}", big(&app));
    assert!(screen.contains("1 match but are hidden by deprecated=no"), "{screen}");
    assert!(screen.contains(":pkgs deprecated=yes"), "{screen}");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    assert!(app.market.view().server.is_some(), "enter searched the server");
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "pkgs deprecated=yes");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    let view = app.market.view();
    assert!(view.server.is_none() && view.query.is_empty(), "the new view's query replaces the old search");
    assert!(!format!("{}", big(&app)).contains("server search"));
}

/// The footer follows the screen: read-only offers no write keys, a zoomed detail its own keys.
#[tokio::test]
async fn the_footer_follows_read_only_mode_and_a_zoomed_detail() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    let footer = |app: &App| format!("{}", render_at(app, 120, 40)).lines().last().unwrap_or("").to_string();
    assert!(footer(&app).contains("p pause"), "{}", footer(&app));
    press(&mut app, KeyCode::Char('z'));
    pump(&mut app, &db).await;
    let zoomed = footer(&app);
    assert!(zoomed.contains("f follow") && zoomed.contains("w wrap") && !zoomed.contains("p pause"), "{zoomed}");
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);
    let app = app.with_readonly(true);
    let ro = footer(&app);
    assert!(!ro.contains("pause") && !ro.contains("cancel") && ro.contains("q quit"), "{ro}");
}

/// At 80×24 the help wraps (no line cut short), scrolls to every key of the pane, and searches.
#[test]
fn help_scrolls_wraps_and_searches_at_80_by_24() {
    let mut app = app();
    press(&mut app, KeyCode::Char('4'));
    press(&mut app, KeyCode::Char('?'));
    let screen = format!("{}", render_at(&app, 80, 24));
    assert!(screen.contains("quit fleetdeck"), "{screen}");
    assert!(!screen.contains("open_chain") && !screen.contains("retry chain: open the entry"), "below the page");
    insta::assert_snapshot!("help_80x24_top", render_at(&app, 80, 24));
    press(&mut app, KeyCode::Char('G'));
    let screen = format!("{}", render_at(&app, 80, 24));
    assert!(screen.contains("retry chain: open the entry"), "the last key is reachable: {screen}");
    // The sort key's help is whole, wrapped rather than cut ("shift+letter: tha…").
    press(&mut app, KeyCode::Char('g'));
    for _ in 0..40 {
        if format!("{}", render_at(&app, 80, 24)).contains("shift+letter") {
            break;
        }
        press(&mut app, KeyCode::Char('j'));
    }
    let screen = format!("{}", render_at(&app, 80, 24));
    assert!(screen.contains("that one)"), "{screen}");
    // Search.
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "pause");
    press(&mut app, KeyCode::Enter);
    let screen = format!("{}", render_at(&app, 80, 24));
    assert!(screen.contains("pause the execution(s)") && !screen.contains("quit fleetdeck"), "{screen}");
    press(&mut app, KeyCode::Esc);
    assert!(app.help.open, "esc clears the search first");
    assert!(format!("{}", render_at(&app, 80, 24)).contains("quit fleetdeck"));
    press(&mut app, KeyCode::Esc);
    assert!(!app.help.open);
}

#[test]
fn rebound_keys_show_in_the_footer_and_work() {
    let user = fleetdeck::ui::keymap::UserBinding {
        section: "global".into(),
        action: "quit".into(),
        keys: vec!["ctrl-q".into()],
        origin: "test".into(),
    };
    let keymap = Keymap::build(&[user]).unwrap();
    let mut app = App::new(Theme::built_in("default").unwrap(), keymap, "t".into());
    app.on_key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE));
    assert!(!app.quit, "q no longer quits");
    let screen = format!("{}", render_at(&app, 120, 10));
    assert!(screen.contains("ctrl-q quit"), "{screen}");
    ctrl(&mut app, 'q');
    assert!(app.quit);
}

/// A pane's verb bound globally acts only in its pane, but "new stack" opens its form from any
/// pane (as before the panes were split).
#[test]
fn a_globally_bound_new_stack_works_from_any_pane_and_other_verbs_only_in_theirs() {
    let bind = |action: &str, key: &str| fleetdeck::ui::keymap::UserBinding {
        section: "global".into(),
        action: action.into(),
        keys: vec![key.into()],
        origin: "test".into(),
    };
    let keymap = Keymap::build(&[bind("new_stack", "ctrl-n"), bind("pause", "ctrl-p")]).unwrap();
    let mut app = App::new(Theme::built_in("default").unwrap(), keymap, "t".into());
    app.on_key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::NONE));
    app.outbox.clear();
    ctrl(&mut app, 'p');
    assert!(app.outbox.is_empty(), "pause is the Executions pane's: {:?}", app.outbox);
    ctrl(&mut app, 'n');
    assert!(matches!(app.outbox.as_slice(), [Request::Call { command: Command::Generators, .. }]), "{:?}", app.outbox);
}

/// A row of the screen with its styles, run-length: `[fg bg +MODS]text`.
fn styled_row(backend: &TestBackend, y: u16) -> String {
    let buf = backend.buffer();
    let mut out = String::new();
    let mut last = None;
    for x in 0..buf.area.width {
        let cell = &buf[(x, y)];
        let style = (cell.fg, cell.bg, cell.modifier);
        if last != Some(style) {
            out.push_str(&format!("[{:?} {:?} {:?}]", style.0, style.1, style.2));
            last = Some(style);
        }
        out.push_str(cell.symbol());
    }
    out
}

#[test]
fn the_tab_bar_in_every_built_in_theme() {
    for (name, _) in fleetdeck::ui::theme::BUILT_IN {
        let theme = Theme::built_in(name).unwrap();
        let app = App::new(theme, Keymap::defaults(), "t".into());
        let backend = render_at(&app, 120, 40);
        insta::assert_snapshot!(format!("tab_bar_{name}"), styled_row(&backend, 0));
    }
    let app = App::new(Theme::built_in("default").unwrap().without_colour(), Keymap::defaults(), "t".into());
    insta::assert_snapshot!("tab_bar_no_color", styled_row(&render_at(&app, 120, 40), 0));
}

#[tokio::test]
async fn the_status_header_and_exec_filters_narrow_the_executions() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "exec status=failed framework=crewai");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    assert_eq!(app.tab, Tab::Executions);
    assert!(app.list().table.rows.iter().all(|r| r.cells[0] == "failed" && r.cells[3] == "crewai"));
    insta::assert_snapshot!("exec_fields", big(&app));
    // f walks the header: all → queued → …; the framework filter stays.
    press(&mut app, KeyCode::Esc);
    pump(&mut app, &db).await;
    assert!(app.list().query.fields.is_empty(), "esc clears the field filters");
    press(&mut app, KeyCode::Char('f'));
    pump(&mut app, &db).await;
    assert!(app.list().table.rows.iter().all(|r| r.cells[0] == "queued"));
    press(&mut app, KeyCode::Char('F'));
    press(&mut app, KeyCode::Char('F'));
    pump(&mut app, &db).await;
    assert!(app.list().table.rows.iter().all(|r| r.cells[0] == "timeout"));
    // A bad filter names the field and changes nothing.
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "exec status=broken");
    press(&mut app, KeyCode::Enter);
    assert!(app.outbox.is_empty());
    assert!(format!("{}", big(&app)).contains("status: \"broken\" is not a status"));
}

/// `:exec archive=yes` lists the archive (the demo keeps older history there) with the same
/// columns, filters and status counts, and its detail says the execution is archived.
#[tokio::test]
async fn the_archive_lists_like_the_executions_and_says_so() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "exec archive=yes status=failed");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    assert_eq!(app.tab, Tab::Executions);
    assert!(!app.list().table.rows.is_empty());
    assert!(app.list().table.rows.iter().all(|r| r.cells[0] == "failed"));
    insta::assert_snapshot!("exec_archive", big(&app));
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    let screen = format!("{}", big(&app));
    assert!(screen.contains("archived") && screen.contains("(read-only)"), "{screen}");
    // A verb there is refused at once, without a confirmation.
    press(&mut app, KeyCode::Char('R'));
    assert!(app.outbox.is_empty());
    let screen = format!("{}", big(&app));
    assert!(screen.contains("archived executions are read-only: retry does not apply"), "{screen}");
}

/// Another client queues an execution: it appears at the top, and the selected row stays
/// selected on the same line of the screen.
#[tokio::test]
async fn a_change_by_another_client_keeps_the_selection_and_the_view() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    for _ in 0..3 {
        press(&mut app, KeyCode::Char('j'));
    }
    let selected = app.list().table.selected_row().unwrap().cursor.id.clone();
    let line_of = |app: &App, id: &str| {
        let screen = format!("{}", render_at(app, 200, 40));
        let correlation = &app.list().table.rows.iter().find(|r| r.cursor.id == id).unwrap().cells[8];
        screen.lines().position(|l| l.contains(&correlation[..8])).unwrap()
    };
    let before = line_of(&app, &selected);
    let total = app.list().table.total;
    sqlx::query(
        "INSERT INTO platform.workflow_executions (workflow_id, agent_id, status, correlation_id, started_at) \
         SELECT workflow_id, agent_id, 'queued', gen_random_uuid(), now() + interval '1 day' \
         FROM platform.workflow_executions LIMIT 1",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    app.on_reply(Reply::Changed(Entity::Executions));
    pump(&mut app, &db).await;
    assert_eq!(app.list().table.total, total + 1);
    assert_eq!(app.list().table.rows[0].cells[0], "queued", "the new execution is on top");
    assert_eq!(app.list().table.selected_row().unwrap().cursor.id, selected, "the selection stays on its row");
    assert_eq!(line_of(&app, &selected), before, "on the same line of the screen");
}

/// The execution detail: every field, the log with its toggles and search, and the retry chain
/// walked with ] and Enter, Esc back.
#[tokio::test]
async fn the_execution_detail_shows_everything_and_walks_the_retry_chain() {
    let db = demo_db().await;
    // A failed execution with a log, data and a retry.
    let (parent, child): (uuid::Uuid, uuid::Uuid) = {
        let parent: uuid::Uuid = sqlx::query_scalar(
            "UPDATE platform.workflow_executions SET \
                 execution_logs = '[{\"ts\": \"2026-11-23T11:00:00Z\", \"level\": \"info\", \"message\": \"started\"}, \
                                    {\"ts\": \"2026-11-23T11:00:05Z\", \"level\": \"error\", \"message\": \"upstream 503\"}]', \
                 execution_data = '{\"input\": {\"batch\": 42}}', error_code = 'UPSTREAM_5XX', \
                 error_message = 'upstream returned 503', started_at = '2026-11-23 13:00:00+00', \
                 completed_at = '2026-11-23 13:00:05+00' \
             WHERE id = (SELECT id FROM platform.workflow_executions e WHERE status = 'failed' \
                 AND coalesce(retry_count, 0) < coalesce(max_retries, 3) AND NOT EXISTS \
                 (SELECT 1 FROM platform.workflow_executions c WHERE c.parent_execution_id = e.id) ORDER BY id LIMIT 1) \
             RETURNING id",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        let s = fleetdeck::service::Services::new(db.pool.clone(), fleetdeck::service::Actor::operator());
        let out = fleetdeck::service::executions::act(&s, fleetdeck::domain::execution::Verb::Retry, &[parent], None)
            .await
            .unwrap();
        let fleetdeck::service::executions::RowOutcome::Done { to, .. } = &out.rows[0].1 else { panic!() };
        // Fixed ids and times for the snapshot (updated_at is kept by a trigger, off for this).
        let child: uuid::Uuid = "00000000-0000-4000-8000-00000000c41d".parse().unwrap();
        for sql in [
            "ALTER TABLE platform.workflow_executions DISABLE TRIGGER workflow_executions_updated_at",
            // An execution's id never changes (migration 31) but here, and its registered id with it.
            "ALTER TABLE platform.workflow_executions DISABLE TRIGGER workflow_executions_ids_fixed",
            "UPDATE platform.execution_ids SET id = $2 WHERE id = $1::uuid",
            "UPDATE platform.workflow_executions SET id = $2, started_at = '2026-11-23 12:30:00+00', \
             updated_at = '2026-11-23 12:30:00+00' WHERE id = $1::uuid",
            "ALTER TABLE platform.workflow_executions ENABLE TRIGGER workflow_executions_ids_fixed",
            "UPDATE platform.workflow_executions SET updated_at = '2026-11-23 13:00:05+00' WHERE id = $3",
            "ALTER TABLE platform.workflow_executions ENABLE TRIGGER workflow_executions_updated_at",
        ] {
            sqlx::query(sql).bind(to).bind(child).bind(parent).execute(&db.pool).await.unwrap();
        }
        (parent, child)
    };
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    assert_eq!(app.list().table.selected_row().unwrap().cursor.id, parent.to_string(), "newest first");
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    press(&mut app, KeyCode::Char('z'));
    answer_calls(&mut app, &db).await;
    insta::assert_snapshot!("exec_detail_zoomed", big(&app));
    let screen = format!("{}", big(&app));
    for text in ["UPSTREAM_5XX upstream returned 503", "\"batch\": 42", "↓ retry", "duration      5s"] {
        assert!(screen.contains(text), "{text}: {screen}");
    }
    // The log is at the end.
    press(&mut app, KeyCode::Char('G'));
    let screen = format!("{}", big(&app));
    for text in ["2026-11-23 11:00:05 error upstream 503", "log: 2 lines"] {
        assert!(screen.contains(text), "{text}: {screen}");
    }
    // Timestamps off, then a search highlights the line.
    press(&mut app, KeyCode::Char('t'));
    assert!(!format!("{}", big(&app)).contains("2026-11-23T11:00:05Z"));
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "503");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.executions.detail.search.as_deref(), Some("503"));
    // The retry chain: Enter opens the retry, Esc comes back.
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    assert_eq!(app.executions.detail.data.as_ref().unwrap().id, child);
    assert!(format!("{}", big(&app)).contains("↑ parent"));
    press(&mut app, KeyCode::Esc);
    answer_calls(&mut app, &db).await;
    assert_eq!(app.executions.detail.data.as_ref().unwrap().id, parent);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.detail, Detail::Split);
}

/// Answer one-shot calls the way the workers would (the execution detail).
async fn answer_calls(app: &mut App, db: &TestDb) {
    let s = fleetdeck::service::Services::new(db.pool.clone(), fleetdeck::service::Actor::operator());
    for _ in 0..5 {
        let requests = pump(app, db).await;
        if requests.is_empty() {
            return;
        }
        for r in requests {
            match r {
                Request::Call { id, command } => {
                    let outcome = fleetdeck::ui::workers::call(&s, command).await;
                    app.on_reply(Reply::Called { id, outcome });
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

/// A status change by another client on a row on screen arrives by delta: the row and the status
/// header change in place, without reading the page.
#[tokio::test]
async fn a_status_change_on_screen_arrives_by_delta() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    let row = app.list().table.rows.iter().position(|r| r.cells[0] == "running").unwrap();
    let id: uuid::Uuid = app.list().table.rows[row].cursor.id.parse().unwrap();
    let count = |app: &App, s: &str| app.list().facets.iter().find(|(k, _)| k == s).map(|(_, n)| *n).unwrap_or(0);
    let (running, paused) = (count(&app, "running"), count(&app, "paused"));
    let s = fleetdeck::service::Services::new(db.pool.clone(), fleetdeck::service::Actor::operator());
    fleetdeck::service::executions::act(&s, fleetdeck::domain::execution::Verb::Pause, &[id], None).await.unwrap();
    app.on_reply(Reply::Changed(Entity::Executions));
    assert!(matches!(app.outbox.as_slice(), [Request::Delta(_)]), "{:?}", app.outbox);
    pump(&mut app, &db).await;
    assert_eq!(app.list().table.rows[row].cells[0], "paused");
    assert_eq!((count(&app, "running"), count(&app, "paused")), (running - 1, paused + 1));
}

/// `fleetdeck --tab executions`: the first tick reads the Executions page alone (no catalogue),
/// and the fleet's counts wait until that page is drawn.
#[tokio::test]
async fn opening_on_a_pane_reads_that_pane_first() {
    let db = demo_db().await;
    let mut app = app().with_tab(Tab::Executions);
    app.tick(now());
    let asked = |app: &App| {
        app.outbox
            .iter()
            .map(|r| match r {
                Request::Page(p) => format!("page {:?}", p.entity),
                Request::Call { command: Command::FleetSummary(..), .. } => "fleet counts".into(),
                Request::Call { command: Command::Catalogue(k), .. } => format!("catalogue {k:?}"),
                other => format!("{other:?}"),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(asked(&app), ["page Executions"]);
    let Some(Request::Page(p)) = app.outbox.pop() else { unreachable!() };
    let result = listing::page(&db.pool, p.entity, &p.query, &p.at, fleetdeck::ui::workers::PAGE_ROWS).await;
    app.on_reply(Reply::Page {
        entity: p.entity,
        generation: p.generation,
        at: p.at,
        result: Ok(result.unwrap()),
        when: now(),
    });
    assert_eq!(app.tab, Tab::Executions);
    assert!(app.list().table.loaded);
    assert_eq!(asked(&app), ["fleet counts"], "the fleet's counts once the pane has its rows");
}

/// On the Fleet pane the fleet's health is counted every 5 s on an idle fleet, and at the next
/// refresh once hosts or agents notify a change.
#[tokio::test]
async fn the_fleet_is_counted_every_5s_when_idle_and_at_the_next_refresh_after_a_change() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('2'));
    app.tick(now());
    pump(&mut app, &db).await;
    let counts_asked = |app: &App| {
        app.outbox.iter().filter(|r| matches!(r, Request::Call { command: Command::FleetSummary(..), .. })).count()
    };
    let start = now() + chrono::Duration::seconds(60);
    app.tick(start);
    assert_eq!(counts_asked(&app), 1);
    pump(&mut app, &db).await;
    for (after, asked) in [(2, 0), (4, 0), (5, 1)] {
        app.tick(start + chrono::Duration::seconds(after));
        assert_eq!(counts_asked(&app), asked, "{after} s after the last count");
        pump(&mut app, &db).await;
    }
    app.on_reply(Reply::Changed(Entity::Hosts));
    pump(&mut app, &db).await;
    app.tick(start + chrono::Duration::seconds(7));
    assert_eq!(counts_asked(&app), 1, "a refresh (2 s) after a change");
}

/// The fleet's sites (counted from their hosts, read whole) are read again every 10 s while
/// nothing changes, and at the next refresh once hosts notify a change.
#[tokio::test]
async fn lists_read_whole_poll_every_10s_until_hosts_change() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('2'));
    typed(&mut app, ":sites");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    let reads = |app: &App| app.outbox.iter().filter(|r| matches!(r, Request::Page(_) | Request::Delta(_))).count();
    let start = now() + chrono::Duration::seconds(60);
    app.tick(start);
    assert_eq!(reads(&app), 1, "due: the list was read at the test clock's start");
    answer_page(&mut app, &db, start).await;
    for (after, read) in [(2, 0), (9, 0), (10, 1)] {
        app.tick(start + chrono::Duration::seconds(after));
        assert_eq!(reads(&app), read, "{after} s after the last read");
    }
    let start = start + chrono::Duration::seconds(10);
    answer_page(&mut app, &db, start).await;
    app.on_reply(Reply::Changed(Entity::Hosts));
    app.outbox.clear();
    app.tick(start + chrono::Duration::seconds(2));
    assert_eq!(reads(&app), 1, "a refresh (2 s) after hosts changed");
}

/// Answer the page request in the outbox as read at `when`; drop the other requests.
async fn answer_page(app: &mut App, db: &TestDb, when: DateTime<Utc>) {
    let Some(Request::Page(p)) = app.outbox.iter().find(|r| matches!(r, Request::Page(_))).cloned() else {
        panic!("a whole read: {:?}", app.outbox)
    };
    app.outbox.clear();
    let result = listing::page(&db.pool, p.entity, &p.query, &p.at, fleetdeck::ui::workers::PAGE_ROWS).await;
    app.on_reply(Reply::Page {
        entity: p.entity,
        generation: p.generation,
        at: p.at,
        result: Ok(result.unwrap()),
        when,
    });
    app.outbox.clear();
}

/// Under `:exec status=running`, rows another client pauses leave the list by delta, one after
/// another (each delta also reads the rows that left before, within its overlap): the total and
/// the status header follow, and the page is not read again.
#[tokio::test]
async fn rows_paused_elsewhere_leave_a_filtered_list_by_delta() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('4'));
    typed(&mut app, ":exec status=running");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    assert!(app.list().table.rows.iter().all(|r| r.cells[0] == "running"), "the filter applies");
    let count = |app: &App, s: &str| app.list().facets.iter().find(|(k, _)| k == s).map(|(_, n)| *n).unwrap_or(0);
    let s = fleetdeck::service::Services::new(db.pool.clone(), fleetdeck::service::Actor::operator());
    for row in [1, 0, 0, 2] {
        let total = app.list().table.total;
        let (running, paused) = (count(&app, "running"), count(&app, "paused"));
        let id: uuid::Uuid = app.list().table.rows[row].cursor.id.parse().unwrap();
        fleetdeck::service::executions::act(&s, fleetdeck::domain::execution::Verb::Pause, &[id], None).await.unwrap();
        app.on_reply(Reply::Changed(Entity::Executions));
        let Some(Request::Delta(d)) = app.outbox.pop() else { panic!("a delta read: {:?}", app.outbox) };
        let overlap = fleetdeck::ui::workers::DELTA_OVERLAP;
        let delta =
            listing::delta(&db.pool, d.entity, &d.query, &d.window, d.since, overlap, DELTA_LIMIT).await.unwrap();
        app.on_reply(Reply::Delta { entity: d.entity, generation: d.generation, result: Ok(delta), when: now() });
        assert!(app.outbox.is_empty(), "no page read: {:?}", app.outbox);
        let t = &app.list().table;
        let left = t.rows.iter().all(|r| r.cursor.id != id.to_string() && r.cells[0] == "running");
        assert!(left, "the paused row (row {row}) left");
        assert_eq!(t.total, total - 1);
        assert_eq!((count(&app, "running"), count(&app, "paused")), (running - 1, paused + 1));
    }
}

/// Select the first row with this status on the Executions list (reading pages as needed).
async fn select_status(app: &mut App, db: &TestDb, status: &str) -> String {
    let row = app.list().table.rows.iter().position(|r| r.cells[0] == status).expect("a row with the status");
    press(app, KeyCode::Char('g'));
    pump(app, db).await;
    for _ in 0..row {
        press(app, KeyCode::Char('j'));
    }
    pump(app, db).await;
    app.list().table.selected_row().unwrap().cursor.id.clone()
}

/// The verbs by key on the real database: pause and resume at once, cancel and retry after
/// confirming; the row shows the new state (snapshots before and after a pause).
#[tokio::test]
async fn verbs_by_key_change_the_rows() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    let id = select_status(&mut app, &db, "running").await;
    insta::assert_snapshot!("verb_pause_before", big(&app));
    press(&mut app, KeyCode::Char('p'));
    answer_calls(&mut app, &db).await;
    pump(&mut app, &db).await;
    assert_eq!(app.list().table.selected_row().unwrap().cursor.id, id);
    assert_eq!(app.list().table.selected_row().unwrap().cells[0], "paused");
    // Durations (`0s`, `5m28s`, `1h12m`, `6d19h`) and their padding are redacted: the pause is
    // stamped by the database's clock, not the test's.
    insta::with_settings!({filters => vec![(r"\b(\d+[dhms])+ *", "[dur] ")]}, {
        insta::assert_snapshot!("verb_pause_after", big(&app));
    });
    press(&mut app, KeyCode::Char('r'));
    answer_calls(&mut app, &db).await;
    assert_eq!(app.list().table.selected_row().unwrap().cells[0], "running");
    // Cancel: confirm (tab to the button, enter).
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    assert_eq!(app.list().table.selected_row().unwrap().cells[0], "cancelled");
    // Retry a failed one: a queued retry appears.
    let total = app.list().table.total;
    let failed = select_status(&mut app, &db, "failed").await;
    press(&mut app, KeyCode::Char('R'));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    pump(&mut app, &db).await;
    let children: i64 =
        sqlx::query_scalar("SELECT count(*) FROM platform.workflow_executions WHERE parent_execution_id = $1::uuid")
            .bind(&failed)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(children, 1);
    assert!(format!("{}", big(&app)).contains("retried as"));
    app.on_reply(Reply::Changed(Entity::Executions));
    pump(&mut app, &db).await;
    assert_eq!(app.list().table.total, total + 1);
}

/// Another client cancels the execution while our pause waits: the toast says who won and the
/// row shows it.
#[tokio::test]
async fn a_lost_race_is_shown_in_the_ui() {
    use sqlx::Connection;
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    let id = select_status(&mut app, &db, "running").await;
    let mut other = sqlx::PgConnection::connect_with(&db.direct_options()).await.unwrap();
    let mut tx = other.begin().await.unwrap();
    sqlx::query(
        "UPDATE platform.workflow_executions SET status = 'cancelled', completed_at = now() WHERE id = $1::uuid",
    )
    .bind(&id)
    .execute(&mut *tx)
    .await
    .unwrap();
    press(&mut app, KeyCode::Char('p'));
    let [Request::Call { id: call, command: Command::Executions { verb, ids, .. } }] = app.outbox.as_slice() else {
        panic!("{:?}", app.outbox)
    };
    let (call, verb, ids) = (*call, *verb, ids.clone());
    app.outbox.clear();
    let pool = db.pool.clone();
    let pause = tokio::spawn(async move {
        let s = fleetdeck::service::Services::new(pool, fleetdeck::service::Actor::operator());
        let out = fleetdeck::service::executions::act(&s, verb, &ids, None).await.unwrap();
        fleetdeck::ui::workers::executions_outcome(verb, &out)
    });
    crate::fixtures::until_waiting_on_a_lock(&db.pool).await;
    tx.commit().await.unwrap();
    let outcome = pause.await.unwrap();
    app.on_reply(Reply::Called { id: call, outcome });
    pump(&mut app, &db).await;
    let screen = format!("{}", big(&app));
    assert!(screen.contains("✗ someone else changed it first (now cancelled)"), "{screen}");
    assert_eq!(app.list().table.selected_row().unwrap().cells[0], "cancelled");
}

/// Marked rows: the verb goes to each, applies where it may and the toast counts the rest.
#[tokio::test]
async fn a_verb_over_marked_rows_reports_partial_results() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    let mut wanted = vec!["running", "completed", "completed"];
    let rows: Vec<(usize, String)> =
        app.list().table.rows.iter().enumerate().map(|(i, r)| (i, r.cells[0].clone())).collect();
    let mut marked = 0;
    for (i, status) in rows {
        if let Some(k) = wanted.iter().position(|w| *w == status) {
            wanted.remove(k);
            press(&mut app, KeyCode::Char('g'));
            for _ in 0..i {
                press(&mut app, KeyCode::Char('j'));
            }
            press(&mut app, KeyCode::Char(' '));
            marked += 1;
        }
    }
    pump(&mut app, &db).await;
    assert_eq!((marked, app.list().marks.len()), (3, 3));
    press(&mut app, KeyCode::Char('p'));
    let Some(Request::Call { command: Command::Executions { ids, .. }, .. }) = app.outbox.first() else {
        panic!("{:?}", app.outbox)
    };
    assert_eq!(ids.len(), 3, "the verb goes to the marked rows");
    answer_calls(&mut app, &db).await;
    let screen = format!("{}", big(&app));
    assert!(screen.contains("1 paused, 2 skipped: completed"), "{screen}");
    assert!(app.list().marks.is_empty(), "the verb applied: its marks are cleared");
    // The next verb is for the selected row, and says which.
    let queued = app.list().table.rows.iter().position(|r| r.cells[0] == "queued").expect("a queued row");
    press(&mut app, KeyCode::Char('g'));
    for _ in 0..queued {
        press(&mut app, KeyCode::Char('j'));
    }
    press(&mut app, KeyCode::Char('c'));
    let Mode::Confirm(confirm, _) = &app.mode else { panic!("a confirmation") };
    let question = format!("{confirm:?}");
    let selected = app.list().table.selected_row().unwrap().cursor.id[..8].to_string();
    assert!(question.contains("Cancel execution ") && question.contains(&selected), "{question}");
    assert!(!question.contains("marked"), "{question}");
}

/// Marked rows the filter hides are never acted on without the confirmation naming them.
#[tokio::test]
async fn a_verb_names_the_marked_rows_the_filter_hides() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('4'));
    pump(&mut app, &db).await;
    for _ in 0..5 {
        press(&mut app, KeyCode::Char(' '));
    }
    pump(&mut app, &db).await;
    assert_eq!(app.list().marks.len(), 5);
    // A filter that hides every marked row.
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "exec status=queued");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    let hidden = app.list().marked_hidden();
    assert!(hidden > 0, "some marked rows are hidden");
    // Pause, which asks nothing for visible rows, asks when marked rows are hidden.
    press(&mut app, KeyCode::Char('p'));
    let Mode::Confirm(confirm, _) = &app.mode else { panic!("pause over hidden marks asks first") };
    let question = format!("{confirm:?}");
    assert!(question.contains("5 marked executions: "), "{question}");
    assert!(question.contains("and 2 more"), "the first few and how many more: {question}");
    assert!(question.contains(&format!("({hidden} of them hidden by the filter)")), "{question}");
    assert!(app.outbox.is_empty(), "nothing sent before the answer");
    let screen = format!("{}", big(&app));
    assert!(screen.contains("hidden by the filter"), "{screen}");
    assert!(screen.contains("[ Back ]") && !screen.contains("[ Cancel ]"), "{screen}");
}

/// Fleet: `a` activates the selected agent at once, `d` asks first; read-only refuses both.
#[tokio::test]
async fn agents_are_activated_and_deactivated_by_key() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "cluster-agents");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    let row = app.list().table.rows.iter().position(|r| r.cells[2] == "inactive").expect("an inactive agent");
    for _ in 0..row {
        press(&mut app, KeyCode::Char('j'));
    }
    let id = app.list().table.selected_row().unwrap().cursor.id.clone();
    press(&mut app, KeyCode::Char('a'));
    answer_calls(&mut app, &db).await;
    let status = |db: &TestDb, id: String| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT status FROM broker.agents WHERE id = $1::uuid")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(status(&db, id.clone()).await, "ACTIVE");
    press(&mut app, KeyCode::Char('d'));
    assert!(matches!(app.mode, Mode::Confirm(..)), "deactivating asks first");
    press(&mut app, KeyCode::Esc);
    assert_eq!(status(&db, id.clone()).await, "ACTIVE");
    press(&mut app, KeyCode::Char('d'));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    assert_eq!(status(&db, id.clone()).await, "INACTIVE");
    let mut app = app.with_readonly(true);
    press(&mut app, KeyCode::Char('a'));
    assert!(app.outbox.is_empty());
    assert!(format!("{}", big(&app)).contains("read-only mode: activate is disabled"));
}

/// Open a Fleet list by its command (`:agents`, `:sites`, …) and read its first page.
async fn fleet_list(app: &mut App, db: &TestDb, command: &str) {
    press(app, KeyCode::Char(':'));
    typed(app, command);
    press(app, KeyCode::Enter);
    pump(app, db).await;
}

fn column(app: &App, title: &str) -> usize {
    app.list().table.columns.iter().position(|c| *c == title).unwrap()
}

/// Orchestrators → sites → hosts and clusters → agents by Enter, back up by Esc, each level
/// drawn with its health counts.
#[tokio::test]
async fn the_fleet_pane_drills_down_and_back_up() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('2'));
    pump(&mut app, &db).await;
    fleet_list(&mut app, &db, "orchestrators").await;
    assert_eq!(app.list().entity, Entity::Orchestrators);
    insta::assert_snapshot!("fleet_orchestrators", big(&app));
    // The demo's central orchestrator has no sites of its own; the next one has.
    press(&mut app, KeyCode::Char('j'));
    let orchestrator = app.list().table.rows[1].cells[0].clone();

    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    assert_eq!(app.list().entity, Entity::Sites);
    assert_eq!(app.list().query.fields, [("orchestrator".to_string(), orchestrator.clone())]);
    let at = column(&app, "ORCHESTRATOR");
    assert!(app.list().table.rows.iter().all(|r| r.cells[at] == orchestrator));
    insta::assert_snapshot!("fleet_sites_of_an_orchestrator", big(&app));
    let site = app.list().table.rows[0].cells[0].clone();
    let hosts_of_site: i64 = app.list().table.rows[0].cells[column(&app, "HOSTS")].parse().unwrap();

    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    assert_eq!(app.list().entity, Entity::Hosts);
    assert_eq!(app.list().table.total, hosts_of_site, "the site's count is its hosts");
    let at = column(&app, "SITE");
    assert!(app.list().table.rows.iter().all(|r| r.cells[at] == site));

    press(&mut app, KeyCode::Esc);
    pump(&mut app, &db).await;
    assert_eq!(app.list().entity, Entity::Sites, "Esc goes back up");
    assert!(app.list().table.rows.iter().all(|r| r.cells[column(&app, "ORCHESTRATOR")] == orchestrator));
    press(&mut app, KeyCode::Esc);
    pump(&mut app, &db).await;
    assert_eq!(app.list().entity, Entity::Orchestrators);

    fleet_list(&mut app, &db, "clusters").await;
    insta::assert_snapshot!("fleet_clusters", big(&app));
    let cluster = app.list().table.rows[0].cells[0].clone();
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    assert_eq!(app.list().entity, Entity::Agents);
    assert!(app.list().table.rows.iter().all(|r| r.cells[1] == cluster));
    insta::assert_snapshot!("fleet_agents_of_a_cluster", big(&app));
}

/// The header's counts filter: `f` steps through the health values on the list shown, a click
/// on a count shows that list filtered by it; the cells agree with the filter.
#[tokio::test]
async fn the_fleet_header_filters_by_health() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('2'));
    pump(&mut app, &db).await;
    let header = format!("{}", big(&app));
    let header = header.lines().nth(1).unwrap().to_string();
    assert!(header.contains("hosts 300:") && header.contains("agents 200:"), "{header}");

    press(&mut app, KeyCode::Char('f'));
    pump(&mut app, &db).await;
    assert_eq!(app.list().query.fields, [("health".to_string(), "healthy".to_string())]);
    let health = column(&app, "HEALTH");
    let t = fleetdeck::domain::health::Thresholds::default();
    let drawn = |app: &App| -> Vec<String> {
        app.list()
            .table
            .rows
            .iter()
            .map(|r| listing::shown(Some(&listing::CellKind::Health), &r.cells[health], now(), &t))
            .collect()
    };
    assert!(drawn(&app).iter().all(|h| h == "healthy"));

    // Click "stale" among the agents' counts.
    let line: Vec<char> = header.trim_matches('"').chars().collect();
    let agents = line.iter().collect::<String>().find("agents").unwrap();
    let agents_col = line.iter().collect::<String>()[..agents].chars().count();
    let text: String = line[agents_col..].iter().collect();
    let stale_col = (agents_col + text[..text.find("stale").unwrap()].chars().count()) as u16;
    let click = crossterm::event::MouseEvent {
        kind: crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
        column: stale_col,
        row: 1,
        modifiers: KeyModifiers::NONE,
    };
    app.on_mouse(click, ratatui::layout::Rect::new(0, 0, 120, 40));
    pump(&mut app, &db).await;
    assert_eq!(app.list().entity, Entity::Agents);
    assert_eq!(app.list().query.fields, [("health".to_string(), "stale".to_string())]);
    let health = column(&app, "HEALTH");
    assert!(!app.list().table.rows.is_empty());
    assert!(app.list().table.rows.iter().all(|r| listing::shown(
        Some(&listing::CellKind::Health),
        &r.cells[health],
        now(),
        &t
    ) == "stale"));
    insta::assert_snapshot!("fleet_agents_stale", big(&app));
    press(&mut app, KeyCode::Esc);
    pump(&mut app, &db).await;
    assert!(app.list().query.fields.is_empty(), "Esc clears the filter");
}

/// `e` on an agent: a form with its labels and annotations; mistakes are shown under their
/// field and nothing is sent; a good edit is saved and audited.
#[tokio::test]
async fn agent_labels_are_edited_in_a_form_checked_under_each_field() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('2'));
    fleet_list(&mut app, &db, "agents").await;
    let id: uuid::Uuid = app.list().table.rows[0].cursor.id.parse().unwrap();
    press(&mut app, KeyCode::Char('e'));
    answer_calls(&mut app, &db).await;
    assert!(matches!(app.mode, Mode::Form(_)), "the form opens once the labels are read");
    // Three lines in a box of two: the box says it holds more (issue 23, point 19).
    let labels = {
        let Mode::Form(form) = &app.mode else { unreachable!() };
        form.value("annotations").split('\n').count()
    };
    assert!(labels > 2, "the first agent's annotations and a line to type a new one: {labels} lines");
    assert!(screen(&app).contains(&format!("line {labels} of {labels}")), "{}", screen(&app));
    insta::assert_snapshot!("fleet_labels_form", big(&app));

    // A label too long, an annotation with a space.
    press(&mut app, KeyCode::Enter);
    typed(&mut app, &"x".repeat(65));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "owner=site reliability");
    ctrl(&mut app, 's');
    assert!(app.outbox.is_empty(), "nothing is sent while a field is wrong");
    let screen = format!("{}", big(&app));
    assert!(screen.contains("a label has at most 64 characters; this one has 65"), "{screen}");
    assert!(screen.contains("value \"site reliability\" contains white space"), "{screen}");
    insta::assert_snapshot!("fleet_labels_form_errors", big(&app));

    // Fix both: drop the long label, join the words.
    press(&mut app, KeyCode::BackTab);
    for _ in 0..66 {
        press(&mut app, KeyCode::Backspace);
    }
    press(&mut app, KeyCode::Tab);
    for _ in 0.."reliability".len() + 1 {
        press(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "-reliability");
    ctrl(&mut app, 's');
    answer_calls(&mut app, &db).await;
    assert!(matches!(app.mode, Mode::Normal), "saved and closed");
    let value: String =
        sqlx::query_scalar("SELECT value FROM broker.agent_annotations WHERE agent_id = $1 AND key = 'owner'")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(value, "site-reliability");
    let audit: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM fleetdeck.audit_log WHERE verb = 'edit labels' AND outcome = 'ok' AND target_id = $1",
    )
    .bind(id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(audit, 1);
}

/// `D` on a host asks first with room for a reason; confirmed, the host leaves the list and the
/// reason is in the audit log. Read-only mode refuses `D` and `e` with a message.
#[tokio::test]
async fn hosts_are_deleted_after_confirming_and_read_only_refuses() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('2'));
    pump(&mut app, &db).await;
    let total = app.list().table.total;
    let id = app.list().table.rows[0].cursor.id.clone();
    press(&mut app, KeyCode::Char('D'));
    assert!(matches!(app.mode, Mode::Confirm(..)));
    insta::assert_snapshot!("fleet_delete_confirm", big(&app));
    press(&mut app, KeyCode::Enter);
    assert!(app.outbox.is_empty(), "the default button cancels");
    press(&mut app, KeyCode::Char('D'));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    typed(&mut app, "rack moved");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    assert_eq!(app.list().table.total, total - 1);
    assert!(app.list().table.rows.iter().all(|r| r.cursor.id != id));
    let reason: String = sqlx::query_scalar(
        "SELECT reason FROM fleetdeck.audit_log WHERE verb = 'delete' AND target_id = $1 AND outcome = 'ok'",
    )
    .bind(&id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(reason, "rack moved");

    let mut app = app.with_readonly(true);
    press(&mut app, KeyCode::Char('D'));
    assert!(matches!(app.mode, Mode::Normal) && app.outbox.is_empty());
    assert!(format!("{}", big(&app)).contains("read-only mode: delete is disabled"));
    fleet_list(&mut app, &db, "agents").await;
    press(&mut app, KeyCode::Char('e'));
    assert!(matches!(app.mode, Mode::Normal) && app.outbox.is_empty());
    assert!(format!("{}", big(&app)).contains("read-only mode: editing labels is disabled"));
}

/// Rollouts: each stack with its desired sequence, agents reached by route and progress; `f`
/// steps through the states and the rows agree with `rollout list`'s reckoning.
#[tokio::test]
async fn stacks_show_their_rollout_and_f_filters_by_state() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('3'));
    pump(&mut app, &db).await;
    press(&mut app, KeyCode::Char('f'));
    pump(&mut app, &db).await;
    assert_eq!(app.list().query.fields, [("state".to_string(), "failing".to_string())]);
    let state = column(&app, "STATE");
    assert!(!app.list().table.rows.is_empty());
    assert!(app.list().table.rows.iter().all(|r| r.cells[state] == "failing"));
    insta::assert_snapshot!("stacks_failing", big(&app));

    // The same stacks as the service's rollout reckoning, at the same clock.
    let s = fleetdeck::service::Services::new(db.pool.clone(), fleetdeck::service::Actor::operator());
    let all =
        fleetdeck::service::rollouts::list(&s, &fleetdeck::domain::health::Thresholds::default(), 1000, Some(now()))
            .await
            .unwrap();
    let failing = all.iter().filter(|r| r.state == fleetdeck::domain::rollout::RolloutState::Failing).count();
    assert_eq!(app.list().table.total, failing as i64);
    let progress = column(&app, "PROGRESS");
    for row in &app.list().table.rows {
        let r = all.iter().find(|r| r.name == row.cells[0]).unwrap();
        assert_eq!(row.cells[progress], r.progress.describe(), "{}", r.name);
        // The gauge: eighths of the reached agents that reported SUCCESS, and the percentage.
        let (ok, n) = (r.progress.success, r.progress.total());
        let full = usize::try_from(8 * ok / n).unwrap();
        let gauge = format!("{}{}{:>4}%", "█".repeat(full), "░".repeat(8 - full), 100 * ok / n);
        assert_eq!(row.cells[column(&app, "DONE")], gauge, "{}", r.name);
    }
    press(&mut app, KeyCode::Char('f'));
    pump(&mut app, &db).await;
    assert_eq!(app.list().query.fields, [("state".to_string(), "in-progress".to_string())]);
}

/// Enter on a stack: its timeline, each reached agent's report on the desired object (failure
/// messages in full) and the YAML; `d` shows the diff from the object before, `]` picks the
/// older object and reads its reports.
#[tokio::test]
async fn the_stack_detail_shows_the_timeline_reports_yaml_and_diff() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('3'));
    pump(&mut app, &db).await;
    let stack: uuid::Uuid = app.list().table.rows[0].cursor.id.parse().unwrap();
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    press(&mut app, KeyCode::Char('z'));
    answer_calls(&mut app, &db).await;
    let view = app.rollouts.detail.data.clone().expect("the detail was read");
    assert_eq!(view.stack.id, stack);
    assert_eq!(view.object, view.desired, "the desired object first");
    let screen = format!("{}", big(&app));
    assert!(screen.contains("timeline") && screen.contains("desired") && screen.contains("agents on #"), "{screen}");
    let failure = view.reports.iter().find(|r| r.state() == "failure").expect("the demo's first stack has a failure");
    assert!(screen.contains(&failure.message.clone().unwrap()[..20]), "the failure message is shown: {screen}");
    insta::assert_snapshot!("stack_detail", big(&app));

    press(&mut app, KeyCode::Char('d'));
    let screen = format!("{}", big(&app));
    assert!(screen.contains("diff #"), "{screen}");
    insta::assert_snapshot!("stack_detail_diff", big(&app));

    press(&mut app, KeyCode::Char(']'));
    answer_calls(&mut app, &db).await;
    let older = app.rollouts.detail.data.clone().unwrap();
    assert_eq!(older.object, Some(view.timeline[1].id), "] picks the next older object");
    press(&mut app, KeyCode::Char('['));
    answer_calls(&mut app, &db).await;
    assert_eq!(app.rollouts.detail.data.as_ref().unwrap().object, view.desired);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.detail, Detail::Closed);
}

fn toasts(app: &App) -> String {
    app.toasts.iter().map(|t| t.text.clone()).collect::<Vec<_>>().join(" | ")
}

/// `e` on a stack opens the YAML editor on its desired object; the submit key checks it (an
/// error names line and column under the editor), then shows the diff against the desired
/// object; Enter sends it and the service stores it with its checksum. Read-only refuses.
#[tokio::test]
async fn the_yaml_editor_checks_shows_the_diff_and_submits() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('3'));
    pump(&mut app, &db).await;
    let stack: uuid::Uuid = app.list().table.rows[0].cursor.id.parse().unwrap();
    press(&mut app, KeyCode::Char('e'));
    answer_calls(&mut app, &db).await;
    let Mode::Editor(editor) = &app.mode else { panic!("the editor is open: {:?}", app.mode) };
    let desired: String = sqlx::query_scalar(
        "SELECT yaml_content FROM broker.deployment_objects WHERE stack_id = $1 AND deleted_at IS NULL ORDER BY sequence_id DESC LIMIT 1",
    )
    .bind(stack)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(editor.yaml().trim_end(), desired.trim_end(), "it starts from the desired object");

    // An unclosed flow sequence on top: the error names where the parser gave up.
    typed(&mut app, "oops: [");
    press(&mut app, KeyCode::Enter);
    ctrl(&mut app, 's');
    let Mode::Editor(editor) = &app.mode else { panic!() };
    let error = editor.error.clone().expect("an error under the editor");
    assert!(error.starts_with("line ") && error.contains(", column "), "{error}");
    assert_eq!(editor.stage, fleetdeck::ui::rollout_forms::Stage::Edit);
    let screen = format!("{}", big(&app));
    assert!(screen.contains(&format!("✗ {}", &error[..20])), "{screen}");
    insta::assert_snapshot!("rollout_editor_error", big(&app));
    assert!(app.outbox.is_empty(), "nothing sent");

    // The cursor went to the error. Undo the typing, add a comment line on top: valid, and the
    // diff shows just that line.
    let Mode::Editor(editor) = &app.mode else { panic!() };
    assert_eq!(editor.text.cursor().0 + 1, error["line ".len()..].split(',').next().unwrap().parse::<usize>().unwrap());
    for _ in 0..editor.text.cursor().0 {
        press(&mut app, KeyCode::Up);
    }
    press(&mut app, KeyCode::End);
    for _ in 0.."oops: [".len() {
        press(&mut app, KeyCode::Backspace);
    }
    press(&mut app, KeyCode::Delete);
    typed(&mut app, "# next version");
    press(&mut app, KeyCode::Enter);
    ctrl(&mut app, 's');
    let Mode::Editor(editor) = &app.mode else { panic!() };
    assert_eq!(editor.stage, fleetdeck::ui::rollout_forms::Stage::Review, "{:?}", editor.error);
    let screen = format!("{}", big(&app));
    assert!(screen.contains("+ # next version") && screen.contains("+1 −0 lines"), "{screen}");
    insta::assert_snapshot!("rollout_editor_review", big(&app));
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    assert!(matches!(app.mode, Mode::Normal), "{:?}", app.mode);
    assert!(toasts(&app).contains("submitted"), "{}", toasts(&app));
    let (yaml, checksum): (String, String) = sqlx::query_as(
        "SELECT yaml_content, yaml_checksum FROM broker.deployment_objects WHERE stack_id = $1 ORDER BY sequence_id DESC LIMIT 1",
    )
    .bind(stack)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(yaml, format!("# next version\n{}\n", desired.trim_end()));
    assert_eq!(checksum, crate::fixtures::sha256_hex(&yaml));

    // Read-only: the editor does not open.
    let mut ro = loaded(&db).await.with_readonly(true);
    press(&mut ro, KeyCode::Char('3'));
    pump(&mut ro, &db).await;
    press(&mut ro, KeyCode::Char('e'));
    assert!(ro.outbox.is_empty() && matches!(ro.mode, Mode::Normal));
    assert!(toasts(&ro).contains("read-only mode: submitting is disabled"), "{}", toasts(&ro));
}

/// `t` opens the targets picker: typing finds agents fuzzily (matches highlighted), Enter
/// toggles, the submit key applies; `D` deletes the stack after confirming and its timeline
/// shows the deletion marker.
#[tokio::test]
async fn targets_are_picked_fuzzily_and_a_stack_is_deleted_after_confirming() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('3'));
    pump(&mut app, &db).await;
    let stack: uuid::Uuid = app.list().table.rows[0].cursor.id.parse().unwrap();
    press(&mut app, KeyCode::Char('t'));
    answer_calls(&mut app, &db).await;
    let Mode::Targets(picker) = &app.mode else { panic!("the picker is open: {:?}", app.mode) };
    let pick = picker.agents.iter().find(|a| !a.targeted).expect("an agent that is not a target").clone();
    typed(&mut app, &pick.name);
    let Mode::Targets(picker) = &app.mode else { panic!() };
    let at = picker.matches.iter().position(|(i, _)| picker.agents[*i].id == pick.id).expect("found by its name");
    assert!(picker.matches.len() < picker.agents.len(), "the query narrows the list");
    for _ in 0..at {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("rollout_targets", big(&app));
    let Mode::Targets(picker) = &app.mode else { panic!() };
    assert_eq!(picker.changes(), (vec![pick.id], vec![]));
    ctrl(&mut app, 's');
    answer_calls(&mut app, &db).await;
    assert!(matches!(app.mode, Mode::Normal), "{:?}", app.mode);
    assert!(toasts(&app).contains("1 target(s) added"), "{}", toasts(&app));
    let targeted: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM broker.agent_targets WHERE agent_id = $1 AND stack_id = $2)")
            .bind(pick.id)
            .bind(stack)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(targeted);

    // Delete: the confirmation defaults to Cancel; Tab, Enter deletes.
    press(&mut app, KeyCode::Char('D'));
    assert!(matches!(app.mode, Mode::Confirm(..)));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    assert!(toasts(&app).contains("deleted"), "{}", toasts(&app));
    let gone: bool = sqlx::query_scalar("SELECT deleted_at IS NOT NULL FROM broker.stacks WHERE id = $1")
        .bind(stack)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(gone);
    let row = app
        .list()
        .table
        .rows
        .iter()
        .position(|r| r.cursor.id == stack.to_string())
        .expect("deleted stacks stay listed");
    for _ in 0..row {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    let view = app.rollouts.detail.data.clone().expect("the detail was read");
    assert_eq!(view.stack.id, stack);
    assert!(view.timeline[0].is_deletion_marker, "{:?}", view.timeline[0]);
    let screen = format!("{}", big(&app));
    assert!(screen.contains("deletion marker"), "{screen}");
}

/// A report arriving while the stack detail is open: the change notification's delta poll
/// moves the list's progress and the detail reads the report.
#[tokio::test]
async fn a_report_arrives_live_in_the_list_and_the_detail() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('3'));
    pump(&mut app, &db).await;
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    let view = app.rollouts.detail.data.clone().expect("the detail was read");
    let agent = view.reports.iter().find(|r| r.state() != "failure").expect("an agent without a failure").clone();
    let progress = column(&app, "PROGRESS");
    let before = app.list().table.rows[0].cells[progress].clone();
    sqlx::query(
        "INSERT INTO broker.agent_events (agent_id, deployment_object_id, event_type, status, message) \
         VALUES ($1, $2, 'DEPLOY', 'FAILURE', 'ImagePullBackOff: live report')",
    )
    .bind(agent.agent_id)
    .bind(view.desired.unwrap())
    .execute(&db.pool)
    .await
    .unwrap();
    app.on_reply(Reply::Changed(Entity::Stacks));
    let requests: Vec<bool> = app.outbox.iter().map(|r| matches!(r, Request::Delta(_))).collect();
    assert_eq!(requests, [true], "a delta of the rows on screen, not the page");
    answer_calls(&mut app, &db).await;
    let after = app.list().table.rows[0].cells[progress].clone();
    assert_ne!(before, after, "the progress moved");
    let view = app.rollouts.detail.data.clone().unwrap();
    let report = view.reports.iter().find(|r| r.agent_id == agent.agent_id).unwrap();
    assert_eq!(report.message.as_deref(), Some("ImagePullBackOff: live report"));
    assert!(format!("{}", big(&app)).contains("ImagePullBackOff: live report"));
}

/// The Marketplace: each sub-view's catalogue read whole; typing narrows, ranks and highlights
/// on every keystroke without asking the database; the facets panel picks values; `s` sorts;
/// Enter asks the server (README included); Esc clears.
#[tokio::test]
async fn the_marketplace_searches_as_you_type_with_facets_and_a_server_search() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    for (kind, name) in [
        (Kind::Apps, "market_apps"),
        (Kind::Solutions, "market_solutions"),
        (Kind::Agents, "market_agents"),
        (Kind::Instances, "market_instances"),
        (Kind::Packages, "market_packages"),
    ] {
        press(&mut app, KeyCode::Char(':'));
        typed(&mut app, kind.command());
        press(&mut app, KeyCode::Enter);
        pump(&mut app, &db).await;
        assert_eq!(app.market.kind, kind);
        assert!(app.market.view().catalogue.is_some(), "{kind:?} loaded");
        insta::assert_snapshot!(name, big(&app));
    }
    // Deprecated packages are hidden until asked.
    let view = app.market.view();
    let cat = view.catalogue.clone().unwrap();
    assert!(view.results.rows.len() < cat.len());
    // Typing: no database work, the best match first, its characters highlighted.
    press(&mut app, KeyCode::Char('/'));
    app.outbox.clear();
    typed(&mut app, "argo");
    assert!(app.outbox.is_empty(), "search as you type reads nothing");
    let first = app.market.view().current().unwrap().name.clone();
    assert!(first.starts_with("argo"), "a name starting with the query first: {first}");
    let backend = big(&app);
    insta::assert_snapshot!("market_search_argo", backend);
    let theme = Theme::built_in("default").unwrap();
    let row = styled_row(&backend, 4);
    assert!(row.contains(&format!("{:?}", theme.highlight.fg.unwrap())), "{row}");
    // Enter: the server searches every field, the READMEs too.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "kubectl");
    let typed_hits = app.market.view().results.rows.len();
    press(&mut app, KeyCode::Enter);
    let calls = pump(&mut app, &db).await;
    assert!(calls.is_empty());
    let view = app.market.view();
    assert!(view.server.is_some());
    assert!(view.results.rows.len() > typed_hits, "README matches: {} vs {typed_hits}", view.results.rows.len());
    press(&mut app, KeyCode::Esc);
    assert!(app.market.view().server.is_none() && app.market.view().query.is_empty());
    // Facets: pick a category; the counts are what each value would show.
    press(&mut app, KeyCode::Char('f'));
    assert!(app.market.view().facets.is_some());
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char(' '));
    let picked = app.market.view().selection.describe(&cat);
    assert_eq!(picked.len(), 2, "{picked:?}");
    let shown = app.market.view().results.rows.len();
    let (f, v) = cat.value_index("category", picked[0].trim_start_matches("category=")).unwrap();
    assert!(app
        .market
        .view()
        .results
        .rows
        .iter()
        .all(|h| cat.values_of(h.entry, f).any(|x| x == cat.facets[f].values[v])));
    insta::assert_snapshot!("market_facets", big(&app));
    press(&mut app, KeyCode::Esc);
    assert!(app.market.view().facets.is_none());
    assert_eq!(app.market.view().results.rows.len(), shown, "closing the panel keeps the picks");
    // Sort: relevance → stars → name.
    press(&mut app, KeyCode::Char('s'));
    press(&mut app, KeyCode::Char('s'));
    let names: Vec<String> = app
        .market
        .view()
        .results
        .rows
        .iter()
        .take(20)
        .map(|h| cat.entries[h.entry as usize].name.to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    // `:pkgs deprecated=yes` shows only the deprecated ones.
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "pkgs deprecated=yes");
    press(&mut app, KeyCode::Enter);
    let view = app.market.view();
    assert!(!view.results.rows.is_empty());
    let d = cat.facet_index("deprecated").unwrap();
    assert!(view.results.rows.iter().all(|h| cat.values_of(h.entry, d).any(|x| x == "yes")));
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "pkgs flavour=mint");
    press(&mut app, KeyCode::Enter);
    assert!(toasts(&app).contains("have no facet \"flavour\""), "{}", toasts(&app));
}

/// The screen's text.
fn screen(app: &App) -> String {
    big(app).to_string()
}

/// Open the item the server search for `query` finds first, in `kind`'s list.
async fn open_item(app: &mut App, db: &TestDb, kind: Kind, query: &str) {
    press(app, KeyCode::Char(':'));
    typed(app, kind.command());
    press(app, KeyCode::Enter);
    pump(app, db).await;
    if !app.market.view().query.is_empty() || app.market.view().server.is_some() {
        press(app, KeyCode::Esc);
    }
    if !query.is_empty() {
        press(app, KeyCode::Char('/'));
        typed(app, query);
        press(app, KeyCode::Enter);
        pump(app, db).await;
    }
    press(app, KeyCode::Enter);
    answer_calls(app, db).await;
    let d = app.market.detail.as_ref().expect("the detail is open");
    assert!(d.data.is_some(), "{kind:?} {query}: {:?}", d.error);
}

#[tokio::test]
async fn the_marketplace_detail_shows_each_kind_in_full() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    // A package: fields, coloured security counts, versions, images, links, the README.
    // One with a security report with critical findings (a generated one; the real charts'
    // indexes carry none).
    let scanned: String = sqlx::query_scalar(
        "SELECT name FROM cloud.bitnami_packages WHERE (security_report_summary->>'critical')::int > 0 \
         AND NOT deprecated ORDER BY name LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    open_item(&mut app, &db, Kind::Packages, &scanned).await;
    let text = screen(&app);
    for part in [
        &format!("Packages › {scanned}") as &str,
        "Security report",
        "critical",
        "Versions (",
        "APP VERSION",
        "Container images",
        "Licence",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    insta::assert_snapshot!("market_detail_package", big(&app));
    let theme = Theme::built_in("default").unwrap();
    let data = app.market.detail.as_ref().unwrap().data.clone().unwrap();
    let lines = fleetdeck::ui::market::detail_lines(&data, 118, &theme);
    let counts = lines.iter().find(|l| l.spans.iter().any(|s| s.content.ends_with(" critical"))).unwrap();
    for s in &counts.spans {
        let n: i64 = s.content.split(' ').next().unwrap_or("").parse().unwrap_or(-1);
        if s.content.ends_with(" critical") || s.content.ends_with(" high") {
            assert_eq!(s.style.fg, if n > 0 { theme.error.fg } else { theme.muted.fg }, "{}", s.content);
        }
    }
    press(&mut app, KeyCode::Esc);
    // A real chart: its README, rendered Markdown, not its source.
    open_item(&mut app, &db, Kind::Packages, "argo-cd").await;
    let data = app.market.detail.as_ref().unwrap().data.clone().unwrap();
    let lines = fleetdeck::ui::market::detail_lines(&data, 118, &theme);
    let readme = lines.iter().position(|l| l.spans.iter().any(|s| s.content == "README")).unwrap();
    big(&app); // a frame first: scrolling keeps within what was drawn
    for _ in 0..readme {
        press(&mut app, KeyCode::Char('j'));
    }
    let text = screen(&app);
    assert!(!text.contains("```") && !text.contains("## "), "{text}");
    insta::assert_snapshot!("market_detail_package_readme", big(&app));
    // The data holds only its first 2,000 characters: the README's end says so (point 27).
    let all: Vec<String> = lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
    let last = all.iter().rposition(|l| !l.trim().is_empty()).unwrap();
    assert!(
        all[last].contains("✂ cut short: the data holds only the start of this README; the whole one: https://"),
        "{}",
        all[last]
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.market.detail.is_none(), "esc closes the detail");

    // An app: each profile's requirements, the fleet it fits (by the rule), its components.
    open_item(&mut app, &db, Kind::Apps, "vision").await;
    insta::assert_snapshot!("market_detail_app", big(&app));
    let services = fleetdeck::service::Services::new(db.pool.clone(), fleetdeck::service::Actor::operator());
    let app_id = app.market.detail.as_ref().unwrap().id.clone();
    let profiles = fleetdeck::service::market_detail::profiles(&services, &app_id, None).await.unwrap();
    let need = fleetdeck::domain::fit::Requirements::from_json(&profiles[0]).unwrap();
    let hosts: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT metadata FROM edge.host").fetch_all(&db.pool).await.unwrap();
    let fitting = hosts
        .iter()
        .filter(|h| fleetdeck::domain::fit::fits(&need, &fleetdeck::domain::fit::Host::from_metadata(h)))
        .count();
    assert!(fitting > 0 && fitting < hosts.len(), "the demo has hosts that fit and hosts that do not: {fitting}");
    assert!(screen(&app).contains(&format!("{fitting} of {} hosts", hosts.len())), "{}", screen(&app));
    press(&mut app, KeyCode::Esc);

    // A solution, a published agent, a compute offer.
    for (kind, name) in [
        (Kind::Solutions, "market_detail_solution"),
        (Kind::Agents, "market_detail_agent"),
        (Kind::Instances, "market_detail_instance"),
    ] {
        open_item(&mut app, &db, kind, "").await;
        let text = screen(&app);
        let wanted: &[&str] = match kind {
            Kind::Solutions => &["Capabilities (", "Parameters", "Dependencies", "Integrations"],
            Kind::Agents => &["Framework", "Publication", "MARKETPLACE", "Container resources", "Tier"],
            _ => &["Specification", "Price per region", "REGION"],
        };
        for part in wanted {
            assert!(text.contains(part), "{kind:?} {part}: {text}");
        }
        insta::assert_snapshot!(name, big(&app));
        press(&mut app, KeyCode::Esc);
    }
}

#[tokio::test]
async fn deploying_a_package_and_an_app_from_the_marketplace() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    // Read-only: refused before anything is read or written.
    let mut readonly = loaded(&db).await.with_readonly(true);
    open_item(&mut readonly, &db, Kind::Packages, "argo-cd").await;
    press(&mut readonly, KeyCode::Char('d'));
    assert!(toasts(&readonly).contains("read-only mode: deploying is disabled"), "{}", toasts(&readonly));
    assert!(readonly.outbox.is_empty(), "{:?}", readonly.outbox);

    // A package: `d` in its detail opens the form (chart versions, release, namespace, values).
    open_item(&mut app, &db, Kind::Packages, "argo-cd").await;
    press(&mut app, KeyCode::Char('d'));
    answer_calls(&mut app, &db).await;
    assert!(matches!(app.mode, Mode::Form(_)), "the deploy form is open");
    insta::assert_snapshot!("market_deploy_package_form", big(&app));
    // A bad namespace is named under its field, and nothing is sent.
    for _ in 0..2 {
        press(&mut app, KeyCode::Tab);
    }
    typed(&mut app, "_X");
    press(&mut app, KeyCode::Tab);
    typed(&mut app, "server:\n  replicas: 2\n");
    ctrl(&mut app, 's');
    assert!(app.outbox.is_empty(), "{:?}", app.outbox);
    let Mode::Form(form) = &app.mode else { panic!("form") };
    let error = form.fields.iter().find(|f| f.key == "namespace").and_then(|f| f.error.clone()).unwrap_or_default();
    assert!(error.contains("'_' is not allowed"), "{error}");
    insta::assert_snapshot!("market_deploy_package_error", big(&app));
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    // Into a new stack with no agents and no labels: refused, it would reach nobody (point 5).
    ctrl(&mut app, 's');
    answer_calls(&mut app, &db).await;
    let Mode::Form(form) = &app.mode else { panic!("the form stays: {}", toasts(&app)) };
    let error = form.field("agents").and_then(|f| f.error.clone()).unwrap_or_default();
    assert!(error.contains("reaches nobody"), "{error}");
    // Enter on Agents opens the picker: agents by cluster/name with their health.
    for _ in 0..5 {
        press(&mut app, KeyCode::Tab);
    }
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    assert!(matches!(app.mode, Mode::Targets(_)), "the picker is open");
    let picker = screen(&app);
    assert!(picker.contains("Agents the deploy targets") && picker.contains("offline"), "{picker}");
    insta::assert_snapshot!("market_deploy_agent_picker", big(&app));
    let (first, second) = {
        let Mode::Targets(p) = &app.mode else { unreachable!() };
        let name = |k: usize| p.matches.get(k).and_then(|m| p.agents.get(m.0)).map(|a| a.id).unwrap();
        (name(0), name(1))
    };
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    ctrl(&mut app, 's');
    let Mode::Form(form) = &app.mode else { panic!("back in the form") };
    assert_eq!(form.value("agents"), format!("{first},{second}"));
    assert_eq!(form.focus, 7, "the focus stays on Agents");
    // Esc in the picker goes back to the form unchanged.
    press(&mut app, KeyCode::Enter);
    answer_calls(&mut app, &db).await;
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Esc);
    let Mode::Form(form) = &app.mode else { panic!("back in the form") };
    assert_eq!(form.value("agents"), format!("{first},{second}"));
    // Labels, one per line; more lines than the box shows say so.
    press(&mut app, KeyCode::Tab);
    typed(&mut app, "argo here\nedge\nlab");
    insta::assert_snapshot!("market_deploy_package_reach", big(&app));
    insta::assert_snapshot!("small_market_deploy_package_reach", render_at(&app, 80, 24));
    ctrl(&mut app, 's');
    answer_calls(&mut app, &db).await;
    assert!(matches!(app.mode, Mode::Normal), "{:?}", toasts(&app));
    let said = toasts(&app);
    assert!(said.contains("of new stack argo-cd") && said.contains("targeting 2 more agents"), "{said}");
    let reach: (Vec<uuid::Uuid>, Vec<String>) = sqlx::query_as(
        "SELECT (SELECT array_agg(agent_id ORDER BY agent_id) FROM broker.agent_targets WHERE stack_id = s.id), \
                (SELECT array_agg(label ORDER BY label) FROM broker.stack_labels WHERE stack_id = s.id) \
           FROM broker.stacks s WHERE s.name = 'argo-cd' AND s.deleted_at IS NULL",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let mut chosen = vec![first, second];
    chosen.sort();
    assert_eq!(reach, (chosen, vec!["argo here".to_string(), "edge".into(), "lab".into()]));
    // The stack's desired object: a HelmRepository and a HelmRelease of the newest version.
    let (yaml, checksum): (String, String) = sqlx::query_as(
        "SELECT o.yaml_content, o.yaml_checksum FROM broker.deployment_objects o JOIN broker.stacks s ON s.id = o.stack_id \
         WHERE s.name = 'argo-cd' AND s.deleted_at IS NULL ORDER BY o.sequence_id DESC LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(checksum, fleetdeck::service::rollouts::checksum(&yaml));
    let docs: Vec<serde_yaml_ng::Value> = yaml.split("---\n").map(|d| serde_yaml_ng::from_str(d).unwrap()).collect();
    assert_eq!(docs[0]["kind"], "HelmRepository");
    assert_eq!(docs[0]["spec"]["url"], "https://argoproj.github.io/argo-helm");
    assert_eq!(docs[1]["kind"], "HelmRelease");
    assert_eq!(docs[1]["metadata"]["namespace"], "argo-cd");
    assert_eq!(docs[1]["spec"]["chart"]["spec"]["version"], "10.1.1");
    assert_eq!(docs[1]["spec"]["values"]["server"]["replicas"], 2);
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT verb FROM fleetdeck.audit_log WHERE target_table = 'broker.stacks' AND target_id = \
         (SELECT id::text FROM broker.stacks WHERE name = 'argo-cd' AND deleted_at IS NULL) ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(audited, ["create", "deploy", "add-target", "add-target"]);

    // An app: its profile to the best site; the stack targets that site's agents.
    press(&mut app, KeyCode::Esc);
    open_item(&mut app, &db, Kind::Apps, "vision").await;
    press(&mut app, KeyCode::Esc);
    // `d` on the list reads the item and opens the form.
    press(&mut app, KeyCode::Char('d'));
    answer_calls(&mut app, &db).await;
    let Mode::Form(form) = &app.mode else { panic!("form: {}", toasts(&app)) };
    let site = form.value("site");
    let stack = form.value("stack");
    assert_eq!(site, "site-00002", "the site with the most fitting hosts and agents");
    insta::assert_snapshot!("market_deploy_app_form", big(&app));
    for _ in 0..3 {
        press(&mut app, KeyCode::Tab);
    }
    typed(&mut app, "inspection.threshold=0.8");
    ctrl(&mut app, 's');
    answer_calls(&mut app, &db).await;
    assert!(matches!(app.mode, Mode::Normal), "{}", toasts(&app));
    assert!(toasts(&app).contains("targeting 17 more agents"), "{}", toasts(&app));
    let (stack_id, yaml): (uuid::Uuid, String) = sqlx::query_as(
        "SELECT s.id, o.yaml_content FROM broker.deployment_objects o JOIN broker.stacks s ON s.id = o.stack_id \
         WHERE s.name = $1 AND s.deleted_at IS NULL",
    )
    .bind(&stack)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).unwrap();
    assert_eq!(doc["kind"], "ApplicationDeployment");
    assert_eq!(doc["metadata"]["annotations"]["fleetdeck.io/site"], "site-00002");
    assert_eq!(doc["spec"]["deploymentProfile"]["type"], "compose");
    assert_eq!(doc["spec"]["parameters"]["inspection.threshold"]["value"], 0.8);
    let targets: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT agent_id FROM broker.agent_targets WHERE stack_id = $1 ORDER BY agent_id")
            .bind(stack_id)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let mut agents = fleetdeck::service::deploy::site_agents(
        &fleetdeck::service::Services::new(db.pool.clone(), fleetdeck::service::Actor::operator()),
        "site-00002",
    )
    .await
    .unwrap();
    agents.sort();
    assert_eq!(targets, agents);

    // Both show in Rollouts.
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "stacks");
    press(&mut app, KeyCode::Enter);
    pump(&mut app, &db).await;
    let text = screen(&app);
    assert!(text.contains("argo-cd") && text.contains(&stack), "{text}");
}

/// A new filter on the stacks: the rows come at once with `…` for their reach and progress (the
/// light page), the list stays pending, and the full page fills them in place.
#[tokio::test]
async fn a_new_filter_shows_the_stacks_at_once_and_their_progress_when_it_comes() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('3'));
    pump(&mut app, &db).await;
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "e");
    let requests = std::mem::take(&mut app.outbox);
    let [Request::Page(p)] = requests.as_slice() else { panic!("{requests:?}") };
    assert!(p.light_first, "a new filter asks for the light page first");
    let light = listing::page_light(&db.pool, p.entity, &p.query, &p.at, fleetdeck::ui::workers::PAGE_ROWS, None)
        .await
        .unwrap()
        .expect("the stacks have a light page");
    let full = listing::page(&db.pool, p.entity, &p.query, &p.at, fleetdeck::ui::workers::PAGE_ROWS).await.unwrap();
    let reply =
        |result| Reply::Page { entity: p.entity, generation: p.generation, at: p.at.clone(), result, when: now() };
    app.on_reply(reply(Ok(light)));
    insta::assert_snapshot!("rollouts_filter_light_rows", big(&app));
    // Still waiting for the full page: no other read is asked for meanwhile.
    app.tick(now() + chrono::Duration::seconds(5));
    assert!(app.outbox.is_empty(), "{:?}", app.outbox);
    app.on_reply(reply(Ok(full)));
    insta::assert_snapshot!("rollouts_filter_full_rows", big(&app));
    // The list is no longer pending: the next refresh polls.
    app.tick(now() + chrono::Duration::seconds(10));
    assert_eq!(app.outbox.len(), 1, "{:?}", app.outbox);
}

/// A form answers to what it was opened for: the new-stack form opened after an agent's labels
/// form creates a stack (it once kept the labels form's purpose, and its labels went to the
/// agent).
#[tokio::test]
async fn the_new_stack_form_after_an_agents_labels_form_creates_a_stack() {
    let db = demo_db().await;
    let mut app = loaded(&db).await;
    press(&mut app, KeyCode::Char('2'));
    fleet_list(&mut app, &db, "agents").await;
    press(&mut app, KeyCode::Char('e'));
    answer_calls(&mut app, &db).await;
    assert!(matches!(app.mode, Mode::Form(_)), "the labels form is open");
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('3'));
    pump(&mut app, &db).await;
    press(&mut app, KeyCode::Char('n'));
    answer_calls(&mut app, &db).await;
    assert!(matches!(app.mode, Mode::Form(_)), "the new-stack form is open");
    typed(&mut app, "from-the-labels-form");
    for _ in 0..3 {
        press(&mut app, KeyCode::Tab);
    }
    typed(&mut app, "team-web");
    ctrl(&mut app, 's');
    let sent: Vec<&Command> = app
        .outbox
        .iter()
        .filter_map(|r| match r {
            Request::Call { command, .. } => Some(command),
            _ => None,
        })
        .collect();
    assert!(
        matches!(sent.as_slice(), [Command::CreateStack { stack, .. }] if stack.name == "from-the-labels-form"),
        "{sent:?}"
    );
}

//! The dashboard drawn on a TestBackend, as insta snapshots.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fleetdeck::ui::app::{App, Tab};
use fleetdeck::ui::keymap::Keymap;
use fleetdeck::ui::theme::Theme;
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

fn app() -> App {
    App::new(
        Theme::built_in("default").unwrap(),
        Keymap::defaults(),
        "own server /var/lib/fleetdeck/postgres as os:tester".into(),
    )
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
    app.on_key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE));
    assert!(app.help);
    insta::assert_snapshot!(render_at(&app, 120, 40));
    app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(!app.help);
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
    let screen = format!("{}", render(&app));
    assert!(screen.contains("ctrl-q quit"), "{screen}");
    app.on_key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL));
    assert!(app.quit);
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

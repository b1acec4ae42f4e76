//! The dashboard drawn on a TestBackend, as insta snapshots.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fleetdeck::ui::app::{App, Tab};
use fleetdeck::ui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn render(app: &App) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(80, 10)).unwrap();
    terminal.draw(|f| app.draw(f)).unwrap();
    terminal.backend().clone()
}

fn app() -> App {
    App::new(Theme::built_in("default").unwrap(), "own server /var/lib/fleetdeck/postgres as os:tester".into())
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

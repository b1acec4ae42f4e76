//! The terminal: entered on start, restored on exit and on panic (ratatui installs a panic hook
//! that restores the terminal before the report is printed).

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use ratatui::DefaultTerminal;

use super::app::App;

/// Run the app until it quits. The terminal is restored whatever happens.
pub async fn run(mut app: App) -> std::io::Result<()> {
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut app).await;
    ratatui::restore();
    result
}

async fn event_loop(terminal: &mut DefaultTerminal, app: &mut App) -> std::io::Result<()> {
    let mut events = EventStream::new();
    while !app.quit {
        terminal.draw(|f| app.draw(f))?;
        match events.next().await {
            Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => app.on_key(key),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e),
            None => break,
        }
    }
    Ok(())
}

//! The terminal: entered on start, restored on exit and on panic (ratatui installs a panic hook
//! that restores the terminal before the report is printed).

use std::io::IsTerminal;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use ratatui::DefaultTerminal;

use super::app::App;

/// The dashboard was started where there is no terminal to draw on.
#[derive(Debug, thiserror::Error)]
#[error("the dashboard needs a terminal, and {0} is not one; for scripts use the commands (fleetdeck --help)")]
pub struct NotATerminal(&'static str);

/// Refuse early, with a clear message, when standard input or output is not a terminal.
pub fn require_terminal() -> Result<(), NotATerminal> {
    if !std::io::stdout().is_terminal() {
        return Err(NotATerminal("standard output"));
    }
    if !std::io::stdin().is_terminal() {
        return Err(NotATerminal("standard input"));
    }
    Ok(())
}

/// Run the app until it quits. The terminal is restored whatever happens.
pub async fn run(mut app: App) -> std::io::Result<()> {
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            return Err(e);
        }
    };
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

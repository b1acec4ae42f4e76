//! The terminal: alternate screen, raw mode, mouse and bracketed paste on start; restored on a
//! normal exit, on SIGTERM/SIGHUP, around Ctrl-Z, and on panic (ratatui's hook restores the
//! terminal before the report is printed).

use std::io::{stdout, IsTerminal};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event, EventStream,
    KeyEventKind,
};
use crossterm::execute;
use futures::StreamExt;
use ratatui::DefaultTerminal;
use tokio::signal::unix::{signal, SignalKind};

use tokio::sync::mpsc;

use super::app::App;
use super::workers::{Reply, Workers};

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

fn enter() -> std::io::Result<DefaultTerminal> {
    let terminal = ratatui::try_init()?;
    execute!(stdout(), EnableMouseCapture, EnableBracketedPaste)?;
    Ok(terminal)
}

fn leave() {
    let _ = execute!(stdout(), DisableBracketedPaste, DisableMouseCapture);
    ratatui::restore();
}

/// Options of the event loop that only tests and debugging use.
#[derive(Debug, Clone, Copy, Default)]
pub struct Debug {
    /// Panic right after the first frame (to prove the terminal is restored on a crash).
    pub panic_after_first_frame: bool,
    /// Run the dashboard's app and workers for this long without a terminal and without
    /// drawing (the benchmark of many dashboards on one machine).
    pub headless: Option<std::time::Duration>,
}

/// The workers and the channel their replies come back on.
pub struct Wiring {
    pub workers: Workers,
    pub replies: mpsc::UnboundedReceiver<Reply>,
}

/// How often the clock ticks: toasts expire, heartbeat ages move, due refreshes go out.
const TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// How the dashboard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The user quit.
    Quit,
    /// SIGTERM or SIGHUP (its number): the process exits 128 + it, as a shell expects.
    Signal(i32),
}

impl Ended {
    pub fn exit_code(self) -> u8 {
        match self {
            Ended::Quit => 0,
            Ended::Signal(n) => u8::try_from(128 + n).unwrap_or(u8::MAX),
        }
    }
}

/// Run the app until it quits or is told to stop. The terminal is restored whatever happens.
pub async fn run(app: App, wiring: Option<Wiring>) -> std::io::Result<Ended> {
    run_with(app, wiring, Debug::default()).await
}

pub async fn run_with(mut app: App, wiring: Option<Wiring>, debug: Debug) -> std::io::Result<Ended> {
    if let Some(length) = debug.headless {
        return headless(app, wiring, length).await;
    }
    // Mouse and paste are turned off again by the panic hook too.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(stdout(), DisableBracketedPaste, DisableMouseCapture);
        hook(info);
    }));
    let mut terminal = match enter() {
        Ok(t) => t,
        Err(e) => {
            leave();
            return Err(e);
        }
    };
    let result = event_loop(&mut terminal, &mut app, wiring, debug).await;
    leave();
    result
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    wiring: Option<Wiring>,
    debug: Debug,
) -> std::io::Result<Ended> {
    let mut events = EventStream::new();
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let (mut workers, mut replies, mut ticks) = parts(wiring);
    let mut first = true;
    app.tick(chrono::Utc::now());
    while !app.quit {
        // What the last update asked for goes to the workers (never awaited here).
        for request in app.outbox.drain(..) {
            if let Some(w) = workers.as_mut() {
                w.send(request);
            }
        }
        let area = terminal.draw(|f| app.draw(f))?.area;
        if first && debug.panic_after_first_frame {
            panic!("forced panic (--debug-panic) after the first frame");
        }
        first = false;
        tokio::select! {
            _ = term.recv() => return Ok(Ended::Signal(nix::sys::signal::Signal::SIGTERM as i32)),
            _ = hup.recv() => return Ok(Ended::Signal(nix::sys::signal::Signal::SIGHUP as i32)),
            _ = ticks.tick() => app.tick(chrono::Utc::now()),
            Some(reply) = replies.recv() => app.on_reply(reply),
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => {
                    if app.is_suspend(&key) {
                        suspend(terminal)?;
                        // The terminal may have changed while we were stopped.
                        events = EventStream::new();
                    } else {
                        app.on_key(key);
                    }
                }
                Some(Ok(Event::Mouse(mouse))) => app.on_mouse(mouse, area),
                Some(Ok(Event::Paste(text))) => app.on_paste(&text),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => break,
            },
        }
    }
    Ok(Ended::Quit)
}

/// The workers, their replies (a channel that stays empty without them) and the clock.
fn parts(wiring: Option<Wiring>) -> (Option<Workers>, mpsc::UnboundedReceiver<Reply>, tokio::time::Interval) {
    let (workers, replies) = match wiring {
        Some(w) => (Some(w.workers), w.replies),
        None => (None, mpsc::unbounded_channel().1),
    };
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    (workers, replies, ticks)
}

/// The event loop without a terminal: the app's requests go to the workers and their replies
/// and the clock's ticks come back, as in the dashboard, for `length` or until SIGTERM.
async fn headless(mut app: App, wiring: Option<Wiring>, length: std::time::Duration) -> std::io::Result<Ended> {
    let mut term = signal(SignalKind::terminate())?;
    let (mut workers, mut replies, mut ticks) = parts(wiring);
    let end = tokio::time::sleep(length);
    tokio::pin!(end);
    app.tick(chrono::Utc::now());
    loop {
        for request in app.outbox.drain(..) {
            if let Some(w) = workers.as_mut() {
                w.send(request);
            }
        }
        tokio::select! {
            _ = &mut end => return Ok(Ended::Quit),
            _ = term.recv() => return Ok(Ended::Signal(nix::sys::signal::Signal::SIGTERM as i32)),
            _ = ticks.tick() => app.tick(chrono::Utc::now()),
            Some(reply) = replies.recv() => app.on_reply(reply),
        }
    }
}

/// Ctrl-Z: give the terminal back, stop as the shell expects, and take it again on `fg`.
fn suspend(terminal: &mut DefaultTerminal) -> std::io::Result<()> {
    leave();
    nix::sys::signal::raise(nix::sys::signal::Signal::SIGTSTP).map_err(std::io::Error::other)?;
    // Continued (SIGCONT): back to full screen.
    *terminal = enter()?;
    terminal.clear()?;
    Ok(())
}

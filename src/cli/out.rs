//! Standard output and standard error for the verbs: a reader that went away (`| head`, a closed
//! pipe, a terminal that hung up) ends the output quietly instead of panicking as `println!`
//! does. After the first broken pipe nothing more is written to that stream.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

/// Write `bytes` to standard output. A broken pipe is not an error: the reader has what it wanted.
pub fn stdout(bytes: &[u8]) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            stderr(format!("fleetdeck: writing the output failed: {e}\n").as_bytes());
        }
    }
}

/// Write `bytes` to standard error; if that is gone too, there is no one left to tell.
pub fn stderr(bytes: &[u8]) {
    if STDERR_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut err = std::io::stderr().lock();
    if err.write_all(bytes).and_then(|()| err.flush()).is_err() {
        STDERR_GONE.store(true, Ordering::Relaxed);
    }
}

/// `println!` that survives a closed pipe.
#[macro_export]
macro_rules! outln {
    () => { $crate::cli::out::stdout(b"\n") };
    ($($arg:tt)*) => { $crate::cli::out::stdout(format!("{}\n", format_args!($($arg)*)).as_bytes()) };
}

/// `print!` that survives a closed pipe.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::out::stdout(format!($($arg)*).as_bytes()) };
}

/// `eprintln!` that survives a closed pipe.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::out::stderr(format!("{}\n", format_args!($($arg)*)).as_bytes()) };
}

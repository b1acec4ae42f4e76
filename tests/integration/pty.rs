//! Drive the real binary in a pseudo-terminal and read its screen.
//!
//! How these tests wait (issue 23, point 14: CI machines are shared and noisy): every wait is on
//! a condition with a deadline ([`Pty::wait_for`], [`Pty::wait_all`], [`Pty::wait_exit`], or a
//! database condition polled), never a fixed sleep. The program takes keys in order, so a key
//! needs a wait only when its meaning depends on something still being read (Enter on a row:
//! wait for that row, or the list's `1 / 1`). Deadlines only bound a failure, so they are long
//! (60 s) enough for a loaded 2-core machine running the suite in parallel.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

pub const ROWS: u16 = 24;
pub const COLS: u16 = 100;

pub struct Pty {
    size: (u16, u16),
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    bytes: Arc<Mutex<Vec<u8>>>,
    _master: Box<dyn MasterPty + Send>,
}

impl Pty {
    /// Start fleetdeck with `args`, a private config/state home, and `env`.
    pub fn spawn(args: &[&str], home: &Path, env: &[(&str, String)]) -> Pty {
        Pty::spawn_sized(args, home, env, (ROWS, COLS))
    }

    /// As [`Pty::spawn`], in a terminal of (rows, columns).
    pub fn spawn_sized(args: &[&str], home: &Path, env: &[(&str, String)], size: (u16, u16)) -> Pty {
        let (rows, cols) = size;
        let pair = native_pty_system().openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_fleetdeck"));
        cmd.args(args);
        cmd.env_remove("DATABASE_URL");
        for (k, _) in std::env::vars() {
            if k.starts_with("FLEETDECK_") {
                cmd.env_remove(k);
            }
        }
        let url = env.iter().find(|(k, _)| *k == "DATABASE_URL").map(|(_, v)| v.as_str()).unwrap_or("");
        for (k, v) in fleetdeck::testing::child_env_for(url) {
            cmd.env(k, v);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env("XDG_CONFIG_HOME", home.join("config"));
        cmd.env("XDG_STATE_HOME", home.join("state"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = bytes.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty { size, child, writer, bytes, _master: pair.master }
    }

    pub fn screen(&self) -> String {
        let mut parser = vt100::Parser::new(self.size.0, self.size.1, 0);
        parser.process(&self.bytes.lock().unwrap());
        parser.screen().contents()
    }

    /// Every byte the program wrote to the terminal so far.
    pub fn raw_bytes(&self) -> Vec<u8> {
        self.bytes.lock().unwrap().clone()
    }

    pub fn raw(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    pub fn wait_for(&self, what: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            assert!(start.elapsed() < timeout, "waited for {what:?}; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until the screen shows every one of `what` at once (a condition, never a fixed
    /// sleep: the deadline only bounds a failure, so it is generous for a loaded machine).
    pub fn wait_all(&self, what: &[&str], timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if what.iter().all(|w| s.contains(w)) {
                return s;
            }
            assert!(start.elapsed() < timeout, "waited for all of {what:?}; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until the screen no longer shows `what` (a view closed). After Esc this is also what
    /// keeps the next key apart: Esc and a key in one read are Alt+key to the terminal's parser.
    pub fn wait_gone(&self, what: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if !s.contains(what) {
                return s;
            }
            assert!(start.elapsed() < timeout, "waited for {what:?} to go; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn send(&mut self, keys: &[u8]) {
        self.writer.write_all(keys).unwrap();
        self.writer.flush().unwrap();
    }

    /// Send a signal to the program.
    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = self.child.process_id().expect("a running child") as i32;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).unwrap();
    }

    /// Wait for the process to end; its exit status.
    pub fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            assert!(start.elapsed() < timeout, "did not exit; screen:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Did the program leave the alternate screen and show the cursor after entering?
    pub fn restored_terminal(&self) -> bool {
        let raw = self.raw();
        match (raw.find("\u{1b}[?1049h"), raw.rfind("\u{1b}[?1049l"), raw.rfind("\u{1b}[?25h")) {
            (Some(entered), Some(left), Some(shown)) => left > entered && shown > entered,
            _ => false,
        }
    }
}

/// Run the dashboard (or another command) in a terminal until it exits: (exit code, screen).
pub async fn run_in_pty(args: &[&str], home: &Path, env: Vec<(&'static str, String)>) -> (u32, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let home = home.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut pty = Pty::spawn(&args, &home, &env);
        let status = pty.wait_exit(Duration::from_secs(30));
        (status.exit_code(), pty.screen())
    })
    .await
    .unwrap()
}

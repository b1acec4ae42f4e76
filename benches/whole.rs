//! The whole program on the large demo database, driven in pseudo-terminals as a person would:
//!
//! 1. start to the first full frame of each pane (`fleetdeck --tab PANE`; the time until the
//!    pane's rows and total are on screen), 5 runs each;
//! 2. hotkey-to-visible: `p` on the top execution of `:exec status=running` in one dashboard,
//!    until a second dashboard on the same list no longer shows it (known by its correlation
//!    id), 10 samples;
//! 3. peak resident memory after opening every pane and view, and a detail in each tab;
//! 4. CPU while idle for a minute, on the Executions, on the Fleet pane's hosts and on its
//!    orchestrators (and the database server's CPU over the same minute, all its processes);
//! 5. recovery: the database stopped at once (as a crash), started 5 s later; the time from the
//!    server accepting connections again to the dashboard saying "● connected", 3 samples.
//!
//! Run: cargo bench --bench whole (the large demo database: see benches/common/mod.rs). Not a
//! criterion benchmark: each figure is a wall-clock time of the real binary in a terminal
//! (160×48), read off the screen as the terminal shows it. FLEETDECK_BENCH_IDLE_SECONDS
//! shortens the idle minute; FLEETDECK_BENCH_FIRST_RUNS sets the runs of part 1 (0 skips it).

use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use fleetdeck::db::embedded::{EmbeddedServer, ServerOptions};
use fleetdeck::db::Target;
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

mod common;

const ROWS: u16 = 48;
const COLS: u16 = 160;

struct Screen {
    parser: vt100::Parser,
    /// When the last bytes arrived.
    at: Instant,
}

/// The real binary in a pseudo-terminal; its screen kept up to date as bytes arrive.
struct Term {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<(Mutex<Screen>, Condvar)>,
    _master: Box<dyn MasterPty + Send>,
    _home: tempfile::TempDir,
}

impl Term {
    fn spawn(url: &str, args: &[&str]) -> Term {
        let home = tempfile::tempdir().expect("temp dir");
        let pair = native_pty_system()
            .openpty(PtySize { rows: ROWS, cols: COLS, pixel_width: 0, pixel_height: 0 })
            .expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_fleetdeck"));
        cmd.args(args);
        // The benchmark's own settings (FLEETDECK_BENCH_…) are not the program's.
        for (k, _) in std::env::vars() {
            if k.starts_with("FLEETDECK_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env("DATABASE_URL", url);
        cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
        cmd.env("XDG_STATE_HOME", home.path().join("state"));
        let child = pair.slave.spawn_command(cmd).expect("spawn fleetdeck");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let screen = Arc::new((
            Mutex::new(Screen { parser: vt100::Parser::new(ROWS, COLS, 0), at: Instant::now() }),
            Condvar::new(),
        ));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let at = Instant::now();
                let (lock, changed) = &*sink;
                if let Ok(mut s) = lock.lock() {
                    s.parser.process(&buf[..n]);
                    s.at = at;
                }
                changed.notify_all();
            }
        });
        Term { child, writer, screen, _master: pair.master, _home: home }
    }

    fn pid(&self) -> i32 {
        self.child.process_id().expect("a running child") as i32
    }

    fn send(&mut self, keys: &[u8]) {
        self.writer.write_all(keys).expect("write");
        self.writer.flush().expect("flush");
    }

    /// Wait until the screen satisfies `ok`; when the bytes that made it so arrived.
    fn until(&self, what: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> Instant {
        self.try_until(timeout, ok).unwrap_or_else(|screen| panic!("waited {timeout:?} for {what}; screen:\n{screen}"))
    }

    /// Wait until the screen satisfies `ok`: when the bytes that made it so arrived, or the
    /// screen at the timeout.
    fn try_until(&self, timeout: Duration, ok: impl Fn(&str) -> bool) -> Result<Instant, String> {
        let start = Instant::now();
        let (lock, changed) = &*self.screen;
        let mut s = lock.lock().expect("screen");
        loop {
            if ok(&s.parser.screen().contents()) {
                return Ok(s.at);
            }
            let Some(left) = timeout.checked_sub(start.elapsed()) else {
                return Err(s.parser.screen().contents());
            };
            s = changed.wait_timeout(s, left.min(Duration::from_millis(100))).expect("screen").0;
        }
    }

    /// Esc alone: followed at once by a key, the terminal reads the two as Alt and the key.
    fn escape(&mut self) {
        self.send(b"\x1b");
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Read the screen as it is now.
    fn with_screen<T>(&self, f: impl FnOnce(&str) -> T) -> T {
        let (lock, _) = &*self.screen;
        let s = lock.lock().expect("screen");
        f(&s.parser.screen().contents())
    }

    fn quit(mut self) {
        self.send(b"q");
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
    }
}

/// The first data row under the header row that has `STATUS` in it.
fn top_row(screen: &str) -> Option<&str> {
    let mut lines = screen.lines().skip_while(|l| !l.contains("STATUS"));
    lines.next()?;
    lines.next()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median, min and max of a sample in ms.
fn summary(name: &str, sample: &mut [Duration]) {
    sample.sort();
    let median = sample[sample.len() / 2];
    println!(
        "{name}: median {:.0} ms (min {:.0}, max {:.0}, n = {})",
        ms(median),
        ms(sample[0]),
        ms(sample[sample.len() - 1]),
        sample.len()
    );
}

/// (user + system) CPU seconds of a process so far.
fn cpu_seconds(pid: i32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the command.
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100) as f64;
    (ticks(11) + ticks(12)) / hz
}

/// CPU seconds of every process named `postgres` (the database server and its backends).
fn postgres_cpu_seconds() -> f64 {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "postgres" {
            total += cpu_seconds(pid);
        }
    }
    total
}

fn status_kb(pid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A pane: its name for `--tab`, and what its first full frame shows.
struct Pane {
    name: &'static str,
    tab: &'static str,
    loaded: fn(&str) -> bool,
}

/// The list's rows and its total are drawn: the title says `1 / N` and a row is under the header.
fn counted(screen: &str, header: &str) -> bool {
    screen.contains("● connected")
        && screen.contains(" 1 / ")
        && !screen.contains("loading")
        && screen.lines().skip_while(|l| !l.contains(header)).nth(1).is_some_and(|r| {
            r.starts_with("│  ") && !r.trim_matches(|c: char| c == '│' || c.is_whitespace()).is_empty()
        })
}

const PANES: &[Pane] = &[
    Pane {
        name: "Marketplace (packages)",
        tab: "marketplace",
        loaded: |s| s.contains("● connected") && s.contains("Packages") && s.contains(" of 13,"),
    },
    Pane { name: "Fleet (hosts)", tab: "fleet", loaded: |s| counted(s, "HOSTNAME") },
    Pane {
        name: "Rollouts (stacks)",
        tab: "rollouts",
        loaded: |s| {
            counted(s, "GENERATOR")
                && s.lines().skip_while(|l| !l.contains("GENERATOR")).nth(1).is_some_and(|r| !r.contains('…'))
        },
    },
    Pane { name: "Executions", tab: "executions", loaded: |s| counted(s, "STATUS") },
    // The stacks' light page: rows and total, reach and progress still `…`.
    Pane {
        name: "Rollouts (stacks' rows, before their progress)",
        tab: "rollouts",
        loaded: |s| counted(s, "GENERATOR"),
    },
];

fn main() {
    // `cargo bench` passes --bench; a filter argument is not supported here.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt.block_on(common::large_demo());
    let Target::Embedded(server) = db.target.clone() else {
        panic!("this benchmark stops and starts the database: use fleetdeck's own server (no DATABASE_URL)")
    };
    let url = server.url("fleetdeck");
    println!("fleetdeck {} on {}", env!("CARGO_BIN_EXE_fleetdeck"), server.data_dir.display());

    // 1. Start to the first full frame of each pane.
    let runs: usize = std::env::var("FLEETDECK_BENCH_FIRST_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    for pane in PANES.iter().filter(|_| runs > 0) {
        let mut sample = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            let t = Term::spawn(&url, &["--tab", pane.tab]);
            let at = t.until(pane.name, Duration::from_secs(30), pane.loaded);
            sample.push(at - start);
            t.quit();
        }
        summary(&format!("first full frame: {}", pane.name), &mut sample);
    }

    // 2. Hotkey-to-visible across two dashboards.
    let mut a = Term::spawn(&url, &[]);
    let mut b = Term::spawn(&url, &[]);
    for t in [&mut a, &mut b] {
        t.until("connected", Duration::from_secs(30), |s| s.contains("● connected"));
        t.send(b"4");
        t.until("executions", Duration::from_secs(30), PANES[3].loaded);
        t.send(b":exec status=running\r");
        t.until("running executions", Duration::from_secs(30), |s| {
            s.contains("status=running") && top_row(s).is_some_and(|r| r.starts_with("│  running"))
        });
    }
    std::thread::sleep(Duration::from_secs(1));
    let mut sample = Vec::new();
    for _ in 0..10 {
        // The top running row, known by its correlation id (the last column): once paused it
        // leaves both lists of running executions.
        let correlation = |s: &str| {
            // The 8 characters under CORRELATION (a toast may cover the row's end).
            let header: Vec<char> = s.lines().find(|l| l.contains("STATUS"))?.chars().collect();
            let at = (0..header.len()).find(|&i| header[i..].starts_with(&['C', 'O', 'R', 'R']))?;
            let id: String = top_row(s)?.chars().skip(at).take(8).collect();
            (id.len() == 8 && id.chars().all(|c| c.is_ascii_hexdigit())).then_some(id)
        };
        a.until("a running row", Duration::from_secs(10), |s| correlation(s).is_some());
        let id = a.with_screen(|s| correlation(s)).expect("a running row");
        let gone = |s: &str| top_row(s).is_some() && !s.contains(&format!(" {id} "));
        b.until("the same row in the second dashboard", Duration::from_secs(10), |s| s.contains(&format!(" {id} ")));
        let sent = Instant::now();
        a.send(b"p");
        let seen = b.try_until(Duration::from_secs(10), gone).unwrap_or_else(|screen| {
            let first = a.with_screen(str::to_string);
            panic!("the second dashboard did not show the pause of {id} in 10 s:\n{screen}\nthe first:\n{first}")
        });
        sample.push(seen - sent);
        a.until("the pause in the first dashboard", Duration::from_secs(10), gone);
        std::thread::sleep(Duration::from_millis(500));
    }
    summary("hotkey-to-visible (a pause in one dashboard, seen in another)", &mut sample);
    b.quit();
    a.quit();

    // 3. Peak resident memory with every pane and view opened.
    let mut t = Term::spawn(&url, &[]);
    let step = |t: &mut Term, keys: &[u8], what: &str, ok: fn(&str) -> bool| {
        t.send(keys);
        t.until(what, Duration::from_secs(30), ok);
        std::thread::sleep(Duration::from_millis(300));
    };
    step(&mut t, b"", "packages", PANES[0].loaded);
    for view in ["Apps", "Solutions", "Agents", "Compute"] {
        t.send(b"]");
        t.until(view, Duration::from_secs(30), |s| s.contains(" of ") && !s.contains("reading"));
        std::thread::sleep(Duration::from_millis(500));
    }
    step(&mut t, b"[[[[\r", "a package's detail", |s| s.contains("Packages ›") && !s.contains("reading"));
    t.escape();
    step(&mut t, b"2", "hosts", PANES[1].loaded);
    for view in [":cluster-agents\r", ":sites\r", ":orchestrators\r", ":clusters\r"] {
        t.send(view.as_bytes());
        std::thread::sleep(Duration::from_secs(2));
    }
    step(&mut t, b"3", "stacks", PANES[2].loaded);
    t.send(b"\r");
    std::thread::sleep(Duration::from_secs(2));
    t.escape();
    step(&mut t, b"4", "executions", PANES[3].loaded);
    t.send(b"\r");
    std::thread::sleep(Duration::from_secs(2));
    t.escape();
    std::thread::sleep(Duration::from_secs(1));
    let pid = t.pid();
    println!(
        "memory with every pane opened: peak resident {} MB (VmHWM), resident now {} MB",
        status_kb(pid, "VmHWM:") / 1024,
        status_kb(pid, "VmRSS:") / 1024
    );

    // 4. CPU while idle.
    let idle: u64 = std::env::var("FLEETDECK_BENCH_IDLE_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let panes: [(&str, &[u8]); 3] = [
        ("Executions", b"4"),
        ("Fleet (hosts)", b"2:hosts\r"),
        ("Fleet (orchestrators, read whole)", b":orchestrators\r"),
    ];
    for (name, keys) in panes {
        t.send(keys);
        std::thread::sleep(Duration::from_secs(5));
        let (ours, theirs, start) = (cpu_seconds(pid), postgres_cpu_seconds(), Instant::now());
        std::thread::sleep(Duration::from_secs(idle));
        let wall = start.elapsed().as_secs_f64();
        println!(
            "idle {idle} s on {name}: fleetdeck {:.2}% of one core, the database server {:.2}%",
            (cpu_seconds(pid) - ours) / wall * 100.0,
            (postgres_cpu_seconds() - theirs) / wall * 100.0
        );
    }

    // 5. Recovery after the database returns.
    let opts = ServerOptions {
        data_dir: server.data_dir.clone(),
        bin_dir: Some(server.bin_dir.clone()),
        server_user: server.run_as.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        throwaway: false,
    };
    t.send(b"4");
    t.until("executions", Duration::from_secs(30), PANES[3].loaded);
    let mut sample = Vec::new();
    for _ in 0..3 {
        server.stop(true).expect("stop the server");
        t.until("reconnecting", Duration::from_secs(15), |s| s.contains("reconnecting"));
        std::thread::sleep(Duration::from_secs(5));
        EmbeddedServer::ensure_running(&opts).expect("start the server again");
        let up = Instant::now();
        let back = t.until("connected", Duration::from_secs(30), |s| s.contains("● connected"));
        sample.push(back.saturating_duration_since(up));
        std::thread::sleep(Duration::from_secs(2));
    }
    summary("back after the database returned (from the server accepting connections)", &mut sample);
    t.quit();
    rt.block_on(db.close()).expect("close");
}

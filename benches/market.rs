//! The Marketplace's search as you type, on the large demo's 13,435 packages and on 100,000
//! (the same packages copied under new names), side by side with `fzf --filter` on the same
//! lines in the same run; and the server-side search (search_tsv and the README's trigrams).
//!
//! Run: cargo bench --bench market (the large demo database: see benches/common/mod.rs; fzf
//! must be installed for its figures: `apt-get install fzf`, otherwise they are skipped with a
//! message).
//!
//! A keystroke is what the pane does when a character is typed: match the catalogue (narrowing
//! the previous matches when the query only grew), apply the facets, count them, and sort.
//! fzf's figure is one `fzf --filter QUERY` process over the same list, as a script would run
//! it: it reads the list and matches it whole each time.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use fleetdeck::domain::catalogue::{Catalogue, Input, Searcher, Sort};
use fleetdeck::service::marketplace::{self, Kind};
use fleetdeck::service::{Actor, Services};
use fuzzy_matcher::FuzzyMatcher;

mod common;

/// Copies of the packages under new names and ids until there are `n`.
fn grown(inputs: &[Input], n: usize) -> Vec<Input> {
    (0..n)
        .map(|i| {
            let mut x = inputs[i % inputs.len()].clone();
            let copy = i / inputs.len();
            if copy > 0 {
                x.id = format!("{}-{copy}", x.id);
                x.name = format!("{}-{copy}", x.name);
            }
            x
        })
        .collect()
}

fn fzf_lines(inputs: &[Input]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    for i in inputs {
        writeln!(f, "{} {} {}", i.name, i.description.replace('\n', " "), i.keywords.join(" ")).expect("write");
    }
    f
}

fn fzf(lines: &std::path::Path, query: &str) -> usize {
    let out = Command::new("fzf")
        .args(["--filter", query])
        .stdin(Stdio::from(std::fs::File::open(lines).expect("open")))
        .output()
        .expect("fzf");
    out.stdout.iter().filter(|b| **b == b'\n').count()
}

/// Typing `query` one character at a time, as the pane does: a keystroke each.
fn type_query(searcher: &mut Searcher, catalogue: &Catalogue, query: &str) -> usize {
    let selection = marketplace::default_selection(Kind::Packages, catalogue);
    let mut shown = 0;
    for end in 1..=query.len() {
        shown = searcher.run(catalogue, &query[..end], &selection, Sort::Relevance).rows.len();
    }
    shown
}

fn market(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt.block_on(common::large_demo());
    let services = Services::new(db.pool.clone(), Actor::operator());
    let inputs = rt.block_on(marketplace::inputs(&services, Kind::Packages)).expect("packages");
    let has_fzf = Command::new("fzf").arg("--version").output().is_ok();
    if !has_fzf {
        eprintln!("fzf is not installed: its figures are skipped (apt-get install fzf)");
    }
    let mut group = c.benchmark_group("market");
    group.sample_size(30).measurement_time(Duration::from_secs(4));
    for n in [inputs.len(), 100_000] {
        let list = grown(&inputs, n);
        let lines = fzf_lines(&list);
        let catalogue = marketplace::build(Kind::Packages, list);
        let selection = marketplace::default_selection(Kind::Packages, &catalogue);
        // The first keystroke matches everything: the worst one.
        group.bench_with_input(BenchmarkId::new("first keystroke 'p'", n), &n, |b, _| {
            b.iter(|| {
                let mut s = Searcher::default();
                s.run(&catalogue, "p", &selection, Sort::Relevance).rows.len()
            })
        });
        // The second keystroke narrows the first one's matches.
        group.bench_with_input(BenchmarkId::new("second keystroke 'po' (after 'p')", n), &n, |b, _| {
            b.iter_batched(
                || {
                    let mut s = Searcher::default();
                    s.run(&catalogue, "p", &selection, Sort::Relevance);
                    s
                },
                |mut s| s.run(&catalogue, "po", &selection, Sort::Relevance).rows.len(),
                criterion::BatchSize::PerIteration,
            )
        });
        // Its parts: matching alone, then facets and sort alone.
        let within = {
            let mut s = Searcher::default();
            s.matches(&catalogue, "p").to_vec()
        };
        let po = {
            let mut m = nucleo_matcher::Matcher::new(fleetdeck::domain::catalogue::config());
            catalogue.matches("po", Some(&within), &mut m)
        };
        group.bench_with_input(BenchmarkId::new("  of which matching 'po' within 'p'", n), &n, |b, _| {
            let mut m = nucleo_matcher::Matcher::new(fleetdeck::domain::catalogue::config());
            b.iter(|| catalogue.matches("po", Some(&within), &mut m).len())
        });
        group.bench_with_input(BenchmarkId::new("  of which facets and sort of 'po'", n), &n, |b, _| {
            b.iter(|| catalogue.arrange(&po, &selection, Sort::Relevance, false).rows.len())
        });
        for query in ["postgres", "kafka operator"] {
            group.bench_with_input(BenchmarkId::new(format!("type '{query}', all keystrokes"), n), &n, |b, _| {
                b.iter(|| type_query(&mut Searcher::default(), &catalogue, query))
            });
            group.bench_with_input(BenchmarkId::new(format!("'{query}' pasted at once"), n), &n, |b, _| {
                b.iter(|| Searcher::default().run(&catalogue, query, &selection, Sort::Relevance).rows.len())
            });
        }
        // The named crate, for comparison: fuzzy-matcher's SkimMatcherV2 scoring every name for
        // the first keystroke (the match alone, no facets or sort).
        group.bench_with_input(BenchmarkId::new("fuzzy-matcher skim: 'p' over the names", n), &n, |b, _| {
            let skim = fuzzy_matcher::skim::SkimMatcherV2::default();
            b.iter(|| catalogue.entries.iter().filter(|e| skim.fuzzy_match(&e.name, "p").is_some()).count())
        });
        if has_fzf {
            for query in ["p", "postgres", "kafka operator"] {
                group.bench_with_input(BenchmarkId::new(format!("fzf --filter '{query}'"), n), &n, |b, _| {
                    b.iter(|| fzf(lines.path(), query))
                });
            }
        }
    }
    for query in ["pgpool", "postgresql replication", "helm install"] {
        group.bench_function(BenchmarkId::new("server-side search (tsv + README trigrams)", query), |b| {
            b.iter(|| {
                rt.block_on(fleetdeck::service::market_search::search(&services, Kind::Packages, query))
                    .expect("search")
                    .len()
            })
        });
    }
    // An app's detail judges every host of the fleet against each profile (the fit rule).
    let app: String = rt
        .block_on(
            sqlx::query_scalar("SELECT app_id FROM catalog.application_desc ORDER BY app_id LIMIT 1")
                .fetch_one(&db.pool),
        )
        .expect("an app");
    group.bench_function("an app's detail (fit over every host)", |b| {
        b.iter(|| {
            rt.block_on(fleetdeck::service::market_detail::detail(&services, Kind::Apps, &app))
                .expect("detail")
                .blocks
                .len()
        })
    });
    group.bench_function("load the packages catalogue from the database", |b| {
        b.iter(|| rt.block_on(marketplace::catalogue(&services, Kind::Packages)).expect("catalogue").len())
    });
    group.bench_function("  of which reading the rows", |b| {
        b.iter(|| rt.block_on(marketplace::inputs(&services, Kind::Packages)).expect("rows").len())
    });
    let rows = rt.block_on(marketplace::inputs(&services, Kind::Packages)).expect("rows");
    group.bench_function("  of which building the catalogue from them", |b| {
        b.iter(|| marketplace::build(Kind::Packages, rows.clone()).len())
    });
    group.finish();
    rt.block_on(db.close()).expect("close");
}

criterion_group!(benches, market);
criterion_main!(benches);

//! The Executions list at 1,000,000 rows: the first page (with the total and the status
//! counts, what opening the pane reads), the last page (G), the next page (scrolling), a poll
//! when nothing changed, and one poll after 1% of all executions changed as the poller reads it
//! (by delta, or whole when more rows changed than a delta reads; also under `status=running`)
//! and re-reading the page, total and counts.
//!
//! Run: cargo bench --bench executions
//! The first run creates fleetdeck's own server in a separate data directory (as root
//! /var/lib/fleetdeck/bench-large, else $TMPDIR/fleetdeck-bench-large; FLEETDECK_BENCH_DATA_DIR
//! overrides) and seeds the large demo into it (about 70 s); later runs reuse it.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use fleetdeck::service::listing::{self, Entity, PageAt, Query, Window};
use fleetdeck::ui::workers::{DELTA_LIMIT, DELTA_OVERLAP, PAGE_ROWS};

mod common;

fn executions(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt.block_on(common::large_demo());
    let pool = db.pool.clone();
    let total: i64 = rt
        .block_on(sqlx::query_scalar("SELECT count(*) FROM platform.workflow_executions").fetch_one(&pool))
        .expect("count");
    eprintln!("{total} executions");

    let e = Entity::Executions;
    let q = Query::new(e);
    let first = rt.block_on(listing::page(&pool, e, &q, &PageAt::First, PAGE_ROWS)).expect("page");
    let mut g = c.benchmark_group(format!("executions at {}", fleetdeck::ui::widgets::table::thousands(total)));
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    g.bench_function("open: first page + total + status counts", |b| {
        b.iter(|| rt.block_on(listing::page(&pool, e, &q, &PageAt::First, PAGE_ROWS)).expect("page"))
    });
    g.bench_function("G: last page + total + status counts", |b| {
        b.iter(|| rt.block_on(listing::page(&pool, e, &q, &PageAt::Last, PAGE_ROWS)).expect("page"))
    });
    let last = first.rows.last().expect("rows").cursor.clone();
    g.bench_function("scroll: next page + total + status counts", |b| {
        b.iter(|| rt.block_on(listing::page(&pool, e, &q, &PageAt::After(last.clone()), PAGE_ROWS)).expect("page"))
    });

    // A poll when nothing changed.
    let since = first.seen_at.expect("clock");
    let window = Window {
        first: first.rows[0].cursor.clone(),
        last: first.rows.last().expect("rows").cursor.clone(),
        at_top: true,
    };
    g.bench_function("poll when nothing changed: delta of the window", |b| {
        b.iter(|| rt.block_on(listing::delta(&pool, e, &q, &window, since, DELTA_OVERLAP, DELTA_LIMIT)).expect("delta"))
    });
    let mut running = Query::new(e);
    running.fields = vec![("status".into(), "running".into())];
    let running_first = rt.block_on(listing::page(&pool, e, &running, &PageAt::First, PAGE_ROWS)).expect("page");
    let running_window = Window {
        first: running_first.rows[0].cursor.clone(),
        last: running_first.rows.last().expect("rows").cursor.clone(),
        at_top: true,
    };

    // 1% of all executions change (their message), some of them on screen. The sessions'
    // statement timeout is for the dashboard's reads; this setup may take longer on a database
    // that earlier runs have left with dead rows.
    rt.block_on(async {
        let mut tx = pool.begin().await?;
        sqlx::query("SET LOCAL statement_timeout = 0").execute(&mut *tx).await?;
        sqlx::query(
            "UPDATE platform.workflow_executions SET status_message = 'bench ' || now()::text \
             WHERE id IN (SELECT id FROM platform.workflow_executions TABLESAMPLE BERNOULLI (1))",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    })
    .expect("update 1%");
    // What the poller does: the delta, and when more rows changed than a delta reads, the
    // page (from the window's first row), total and counts again.
    let poll = |query: &Query, window: &Window, from: &PageAt| {
        let delta =
            rt.block_on(listing::delta(&pool, e, query, window, since, DELTA_OVERLAP, DELTA_LIMIT)).expect("delta");
        if delta.complete {
            (delta.rows.len() + delta.left.len(), false)
        } else {
            (rt.block_on(listing::page(&pool, e, query, from, PAGE_ROWS)).expect("page").rows.len(), true)
        }
    };
    let from = PageAt::From(first.rows[0].cursor.clone());
    let running_from = PageAt::From(running_first.rows[0].cursor.clone());
    let (rows, whole) = poll(&q, &window, &from);
    eprintln!("poll after 1% changed: {rows} rows, read {}", if whole { "whole" } else { "by delta" });
    g.bench_function("poll after 1% changed: delta of the window, or the page past its bound", |b| {
        b.iter(|| poll(&q, &window, &from))
    });
    let (rows, whole) = poll(&running, &running_window, &running_from);
    eprintln!("status=running, poll after 1% changed: {rows} rows, read {}", if whole { "whole" } else { "by delta" });
    g.bench_function("poll after 1% changed under status=running: delta, or the page past its bound", |b| {
        b.iter(|| poll(&running, &running_window, &running_from))
    });
    g.bench_function("poll after 1% changed: page + total + status counts again", |b| {
        b.iter(|| rt.block_on(listing::page(&pool, e, &q, &from, PAGE_ROWS)).expect("page"))
    });
    g.finish();
    rt.block_on(db.close()).expect("close");
}

criterion_group!(benches, executions);
criterion_main!(benches);

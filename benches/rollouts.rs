//! The Rollouts pane on the large demo (2,000 stacks, 20,000 agents, about 160,000 stack–agent
//! pairs reached): what opening it reads (the stacks' first page with each stack's reach and
//! progress, and the total), the next page, the `state=failing` filter (which reckons every
//! stack), a poll of the rows on screen by delta when nothing changed versus re-reading the page,
//! the stack detail of the widest stack, and `fleetdeck rollout list --limit 2000`.
//!
//! Run: cargo bench --bench rollouts (the large demo database: see benches/common/mod.rs)
//!
//! Health is judged at the newest agent heartbeat, so that the mix of pending and offline agents
//! is the demo's however long ago it was seeded.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use fleetdeck::domain::health::Thresholds;
use fleetdeck::service::listing::{self, Entity, PageAt, Query, Window};
use fleetdeck::service::{rollouts, Actor, Services};
use fleetdeck::ui::workers::{DELTA_LIMIT, DELTA_OVERLAP, PAGE_ROWS};

mod common;

fn rollouts_pane(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt.block_on(common::large_demo());
    let pool = db.pool.clone();
    let services = Services::new(pool.clone(), Actor::operator());
    rt.block_on(
        sqlx::query(
            "VACUUM (ANALYZE) broker.stacks, broker.agents, broker.agent_events, broker.deployment_objects, \
             broker.agent_targets, broker.stack_labels, broker.agent_labels, broker.stack_annotations, \
             broker.agent_annotations",
        )
        .execute(&pool),
    )
    .expect("vacuum");
    let (stacks, pairs, at, widest): (i64, i64, chrono::DateTime<chrono::Utc>, uuid::Uuid) = rt
        .block_on(
            sqlx::query_as(
                "SELECT (SELECT count(*) FROM broker.stacks WHERE deleted_at IS NULL), \
                        (SELECT count(*) FROM broker.stacks st, fleetdeck.stack_agents(st.id)), \
                        (SELECT max(last_heartbeat) FROM broker.agents), \
                        (SELECT st.id FROM broker.stacks st WHERE st.deleted_at IS NULL \
                          ORDER BY (SELECT count(*) FROM fleetdeck.stack_agents(st.id)) DESC LIMIT 1)",
            )
            .fetch_one(&pool),
        )
        .expect("counts");
    let t = Thresholds::default();
    eprintln!("{stacks} stacks reaching {pairs} stack–agent pairs, judged at {at}");

    let query = Query { health: t, at: Some(at), ..Query::new(Entity::Stacks) };
    let page =
        |q: &Query, from: PageAt| rt.block_on(listing::page(&pool, Entity::Stacks, q, &from, PAGE_ROWS)).expect("page");
    let mut g = c.benchmark_group(format!("rollouts at {stacks} stacks, {pairs} reached pairs"));
    g.sample_size(10).measurement_time(Duration::from_secs(10));

    g.bench_function("open: stacks first page (reach, progress) + total", |b| b.iter(|| page(&query, PageAt::First)));
    let first = page(&query, PageAt::First);
    let last = first.rows.last().expect("rows").cursor.clone();
    g.bench_function("scroll: stacks next page + total", |b| b.iter(|| page(&query, PageAt::After(last.clone()))));
    let failing = Query { fields: vec![("state".into(), "failing".into())], ..query.clone() };
    let n = page(&failing, PageAt::First).total;
    g.bench_function(format!("filter state=failing: first page + total ({n})"), |b| {
        b.iter(|| page(&failing, PageAt::First))
    });

    // Sorted by what the rollup says: every stack's rollup read to order them.
    let titles = listing::columns(Entity::Stacks);
    for title in ["STATE", "DONE", "PROGRESS"] {
        let sort = titles.iter().position(|t| *t == title).expect("column");
        let sorted = Query { sort, descending: true, ..query.clone() };
        g.bench_function(format!("sort by {title} (descending): first page + total"), |b| {
            b.iter(|| page(&sorted, PageAt::First))
        });
    }

    // A poll of the 200 rows held when nothing changed since the page was read.
    let window = Window {
        first: first.rows.first().expect("rows").cursor.clone(),
        last: first.rows.last().expect("rows").cursor.clone(),
        at_top: true,
    };
    let since = first.seen_at.expect("seen_at");
    g.bench_function("poll: delta of the 200 rows held (idle)", |b| {
        b.iter(|| {
            rt.block_on(listing::delta(&pool, Entity::Stacks, &query, &window, since, DELTA_OVERLAP, DELTA_LIMIT))
                .expect("delta")
        })
    });
    g.bench_function("poll: re-read the page naively", |b| b.iter(|| page(&query, PageAt::First)));

    // 1% of the stacks change (every hundredth by name, so two of the rows held).
    let changed = rt
        .block_on(
            sqlx::query(
                "UPDATE broker.stacks SET updated_at = now() WHERE id IN (\
                   SELECT id FROM (SELECT id, row_number() OVER (ORDER BY name, id) AS n FROM broker.stacks) x \
                   WHERE n % 100 = 1)",
            )
            .execute(&pool),
        )
        .expect("update 1%")
        .rows_affected();
    let delta = rt
        .block_on(listing::delta(&pool, Entity::Stacks, &query, &window, since, DELTA_OVERLAP, DELTA_LIMIT))
        .expect("delta");
    eprintln!("{changed} stacks changed; the delta read {} of the {} rows held", delta.rows.len(), first.rows.len());
    g.bench_function("poll after 1% changed: delta of the 200 rows held", |b| {
        b.iter(|| {
            rt.block_on(listing::delta(&pool, Entity::Stacks, &query, &window, since, DELTA_OVERLAP, DELTA_LIMIT))
                .expect("delta")
        })
    });

    let reached = rt.block_on(rollouts::status(&services, &widest.to_string(), &t)).expect("status").agents.len();
    g.bench_function(format!("detail: the widest stack ({reached} agents)"), |b| {
        b.iter(|| rt.block_on(rollouts::stack_view(&services, widest, None, &t, None)).expect("view"))
    });
    g.bench_function("rollout list --limit 2000", |b| {
        b.iter(|| rt.block_on(rollouts::list(&services, &t, 2_000, None)).expect("list"))
    });
    g.finish();
}

criterion_group!(benches, rollouts_pane);
criterion_main!(benches);

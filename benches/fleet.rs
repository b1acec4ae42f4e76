//! The Fleet pane at 100,000 hosts and 20,000 agents: what opening it reads (the hosts' first
//! page with its total, and the health counts of the header), the other lists (agents with the
//! stacks reaching each, sites, orchestrators, clusters), a health filter, a fuzzy filter, the
//! next page, and one poll after 1% of all hosts sent a heartbeat — read by delta versus
//! re-reading the page and total.
//!
//! Run: cargo bench --bench fleet (the large demo database: see benches/common/mod.rs)
//!
//! Health is judged at the moment the demo's heartbeats were fresh (the newest heartbeat), so
//! that the mix of healthy, stale and offline is the demo's however long ago it was seeded.
//!
//! The tables are vacuumed first, as `seed --demo` leaves them. A live fleet rewrites every
//! host's row each heartbeat interval, which clears the visibility map until autovacuum comes
//! by; the second group measures opening the pane in that worst case, right after every host
//! sent one heartbeat and before any vacuum.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use fleetdeck::domain::filter::Filter;
use fleetdeck::domain::health::Thresholds;
use fleetdeck::service::listing::{self, Entity, PageAt, Query, Window};
use fleetdeck::service::{fleet, Actor, Services};
use fleetdeck::ui::workers::{PageReader, PageRequest, DELTA_LIMIT, DELTA_OVERLAP, PAGE_ROWS};

mod common;

fn fleet_pane(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt.block_on(common::large_demo());
    let pool = db.pool.clone();
    let services = Services::new(pool.clone(), Actor::operator());
    rt.block_on(
        sqlx::query("VACUUM (ANALYZE) edge.host, edge.site, edge.orchestrator, broker.agents, broker.agent_events")
            .execute(&pool),
    )
    .expect("vacuum");
    let (hosts, agents, at): (i64, i64, chrono::DateTime<chrono::Utc>) = rt
        .block_on(
            sqlx::query_as(
                "SELECT (SELECT count(*) FROM edge.host WHERE deleted_at IS NULL), \
                        (SELECT count(*) FROM broker.agents WHERE deleted_at IS NULL), \
                        (SELECT max(last_heartbeat) FROM edge.host)",
            )
            .fetch_one(&pool),
        )
        .expect("counts");
    let t = Thresholds::default();
    let summary = rt.block_on(fleet::summary(&services, &t, Some(at))).expect("summary");
    eprintln!("{hosts} hosts {:?}, {agents} agents {:?}, judged at {at}", summary.hosts, summary.agents);

    let query = |entity: Entity| Query { health: t, at: Some(at), ..Query::new(entity) };
    let page = |q: &Query, entity: Entity, from: PageAt| {
        rt.block_on(listing::page(&pool, entity, q, &from, PAGE_ROWS)).expect("page")
    };
    let mut g = c.benchmark_group(format!("fleet at {hosts} hosts, {agents} agents"));
    g.sample_size(20).measurement_time(Duration::from_secs(8));

    let hosts_q = query(Entity::Hosts);
    g.bench_function("open: hosts first page + total", |b| b.iter(|| page(&hosts_q, Entity::Hosts, PageAt::First)));
    g.bench_function("open: header health counts (hosts and agents)", |b| {
        b.iter(|| rt.block_on(fleet::summary(&services, &t, Some(at))).expect("summary"))
    });
    let first = page(&hosts_q, Entity::Hosts, PageAt::First);
    let last = first.rows.last().expect("rows").cursor.clone();
    g.bench_function("scroll: hosts next page + total", |b| {
        b.iter(|| page(&hosts_q, Entity::Hosts, PageAt::After(last.clone())))
    });
    let stale = Query { fields: vec![("health".into(), "stale".into())], ..query(Entity::Hosts) };
    let n = page(&stale, Entity::Hosts, PageAt::First).total;
    g.bench_function(format!("filter health=stale: hosts first page + total ({n})"), |b| {
        b.iter(|| page(&stale, Entity::Hosts, PageAt::First))
    });
    let fuzzy = Query { filter: Filter::Fuzzy("h0042".into()), ..query(Entity::Hosts) };
    let n = page(&fuzzy, Entity::Hosts, PageAt::First).total;
    g.bench_function(format!("filter /h0042: hosts first page + total ({n})"), |b| {
        b.iter(|| page(&fuzzy, Entity::Hosts, PageAt::First))
    });
    // A pattern matching more than 5,000 hosts, through the poller's page reader (which holds
    // the hosts' names in memory), sorted by name and by a column other than the name.
    let mut reader = PageReader::default();
    rt.block_on(reader.answered(&pool, Entity::Hosts));
    let titles = listing::columns(Entity::Hosts);
    // Every column the hosts can be sorted on (FLEETDECK_BENCH_HOST_SORTS=HOSTNAME,IP narrows).
    let sorts = std::env::var("FLEETDECK_BENCH_HOST_SORTS")
        .unwrap_or_else(|_| "HOSTNAME,IP,SITE,STATUS,HEALTH,HEARTBEAT,ARCH,CORES,MEMORY,STORAGE".into());
    for title in sorts.split(',') {
        let by = titles.iter().position(|t| *t == title).expect("column");
        let wide = Query { filter: Filter::Fuzzy("h9".into()), sort: by, descending: true, ..query(Entity::Hosts) };
        let request =
            PageRequest { entity: Entity::Hosts, generation: 0, query: wide, at: PageAt::First, light_first: false };
        let n = rt.block_on(reader.read(&pool, &request)).expect("page").total;
        g.bench_function(
            format!("filter /h9 sorted by {title}, names in memory: hosts first page + total ({n})"),
            |b| b.iter(|| rt.block_on(reader.read(&pool, &request)).expect("page")),
        );
    }
    for entity in [Entity::Agents, Entity::Sites, Entity::Orchestrators, Entity::Clusters] {
        let q = query(entity);
        g.bench_function(format!("{}: first page + total", entity.title().to_lowercase()), |b| {
            b.iter(|| page(&q, entity, PageAt::First))
        });
    }
    // The agents sorted by their rollup: every agent's read to order them.
    let titles = listing::columns(Entity::Agents);
    for title in ["STACKS", "PENDING", "LAST EVENT", "FAIL 1H"] {
        let sort = titles.iter().position(|t| *t == title).expect("column");
        let sorted = Query { sort, descending: true, ..query(Entity::Agents) };
        g.bench_function(format!("sort by {title} (descending): agents first page + total"), |b| {
            b.iter(|| page(&sorted, Entity::Agents, PageAt::First))
        });
    }
    let offline = Query { fields: vec![("health".into(), "offline".into())], ..query(Entity::Agents) };
    g.bench_function("filter health=offline: agents first page + total", |b| {
        b.iter(|| page(&offline, Entity::Agents, PageAt::First))
    });

    let since = first.seen_at.expect("clock");
    let window = Window {
        first: first.rows[0].cursor.clone(),
        last: first.rows.last().expect("rows").cursor.clone(),
        at_top: true,
    };
    // A poll when nothing changed since the page was read.
    g.bench_function("poll when nothing changed: delta of the window", |b| {
        b.iter(|| {
            rt.block_on(listing::delta(&pool, Entity::Hosts, &hosts_q, &window, since, DELTA_OVERLAP, DELTA_LIMIT))
                .expect("delta")
        })
    });

    // 1% of all hosts send a heartbeat: every hundredth by hostname, so two of them on screen.
    let changed = rt
        .block_on(
            sqlx::query(
                "UPDATE edge.host SET last_heartbeat = $1 WHERE id IN (\
                   SELECT id FROM (SELECT id, row_number() OVER (ORDER BY coalesce(hostname, ''), id) AS n \
                                     FROM edge.host WHERE deleted_at IS NULL) x WHERE n % 100 = 1)",
            )
            .bind(at)
            .execute(&pool),
        )
        .expect("update 1%")
        .rows_affected();
    let delta = rt
        .block_on(listing::delta(&pool, Entity::Hosts, &hosts_q, &window, since, DELTA_OVERLAP, DELTA_LIMIT))
        .expect("delta");
    eprintln!(
        "{changed} hosts changed; the delta read {} rows of the {}-row window",
        delta.rows.len(),
        first.rows.len()
    );
    g.bench_function("poll after 1% changed: delta of the window", |b| {
        b.iter(|| {
            rt.block_on(listing::delta(&pool, Entity::Hosts, &hosts_q, &window, since, DELTA_OVERLAP, DELTA_LIMIT))
                .expect("delta")
        })
    });
    let from = PageAt::From(first.rows[0].cursor.clone());
    g.bench_function("poll after 1% changed: page + total again", |b| {
        b.iter(|| page(&hosts_q, Entity::Hosts, from.clone()))
    });
    g.finish();

    // Every host sends one heartbeat (a microsecond later, so the health mix stays the demo's),
    // without the sessions' statement timeout, which 100,000 rows and their triggers can exceed.
    rt.block_on(async {
        let mut conn = pool.pg().acquire().await?;
        sqlx::query("SET statement_timeout = 0").execute(&mut *conn).await?;
        sqlx::query(
            "UPDATE edge.host SET last_heartbeat = last_heartbeat + interval '1 microsecond' \
             WHERE last_heartbeat IS NOT NULL",
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query("RESET statement_timeout").execute(&mut *conn).await
    })
    .expect("heartbeats");
    let mut g = c.benchmark_group(format!("fleet at {hosts} hosts, every host rewritten since the last vacuum"));
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.bench_function("open: hosts first page + total", |b| b.iter(|| page(&hosts_q, Entity::Hosts, PageAt::First)));
    g.bench_function("open: header health counts (hosts and agents)", |b| {
        b.iter(|| rt.block_on(fleet::summary(&services, &t, Some(at))).expect("summary"))
    });
    g.bench_function("filter health=stale: hosts first page + total", |b| {
        b.iter(|| page(&stale, Entity::Hosts, PageAt::First))
    });
    g.finish();
    rt.block_on(db.close()).expect("close");
}

criterion_group!(benches, fleet_pane);
criterion_main!(benches);

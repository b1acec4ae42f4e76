//! What acting as a platform user (`--as EMAIL`) costs: the same verb and the same read through
//! the service layer, once as the operator and once as a member of the organisation that owns
//! the execution, whose sessions run as the role `authenticated` under the seed's row-level
//! security and fleetdeck's viewer triggers (`refuse_viewer_row` on every changed row).
//!
//! - a verb: pause and then resume one running execution (two guarded transactions, each with
//!   its audit row and the maintained counts' statement triggers), as `exec pause` and
//!   `exec resume` do it;
//! - a read: the Executions list's first page with its total and status counts, as the pane
//!   and `exec list` read it.
//!
//! Run: cargo bench --bench verbs (the large demo database: see benches/common/mod.rs). The
//! pair leaves the execution running, as it found it.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use fleetdeck::db::pool;
use fleetdeck::domain::execution::Verb;
use fleetdeck::service::listing::{self, Entity, PageAt, Query};
use fleetdeck::service::{executions, Actor, Services};
use fleetdeck::ui::workers::PAGE_ROWS;
use uuid::Uuid;

mod common;

fn verbs(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt.block_on(common::large_demo());
    // A running execution of an organisation's agent, and a member of that organisation who
    // may act (not a viewer).
    let (execution, user, email): (Uuid, Uuid, String) = rt
        .block_on(
            sqlx::query_as(
                "SELECT e.id, u.id, u.email FROM platform.workflow_executions e \
                 JOIN platform.workflows w ON w.id = e.workflow_id \
                 JOIN platform.agents a ON a.id = w.agent_id AND a.owner_type = 'organization' \
                 JOIN platform.organization_members m ON m.organization_id = a.owner_id AND m.role <> 'viewer' \
                 JOIN platform.users u ON u.id = m.user_id \
                 WHERE e.status = 'running' ORDER BY e.id LIMIT 1",
            )
            .fetch_one(&db.pool),
        )
        .expect("a running execution a member may act on");
    let settings = pool::PoolSettings {
        statement_timeout: Duration::from_secs(30),
        acquire_timeout: Duration::from_secs(5),
        max_connections: 2,
        read_only: false,
        pooled: false,
    };
    let as_user =
        rt.block_on(pool::connect(db.options.clone(), &settings, Some(user), None)).expect("a pool as the member");
    let operator = Services::new(db.pool.clone(), Actor::operator());
    let member = Services::new(as_user, Actor::user(&email, user));
    let visible = |s: &Services| {
        rt.block_on(listing::page(&s.pool, Entity::Executions, &Query::new(Entity::Executions), &PageAt::First, 1))
            .expect("page")
            .total
    };
    eprintln!(
        "execution {execution}; the operator sees {} executions, {email} sees {}",
        visible(&operator),
        visible(&member)
    );

    let mut g = c.benchmark_group("a verb and a read, as the operator and with --as");
    g.sample_size(30).measurement_time(Duration::from_secs(8));
    for (who, s) in [("operator", &operator), ("--as member", &member)] {
        g.bench_function(format!("{who}: pause + resume one execution"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    for verb in [Verb::Pause, Verb::Resume] {
                        let out = executions::act(s, verb, &[execution], None).await.expect("verb");
                        let done = matches!(out.rows.first(), Some((_, executions::RowOutcome::Done { .. })));
                        assert!(done, "{who}: {}", out.summary(verb));
                    }
                })
            })
        });
        let q = Query::new(Entity::Executions);
        g.bench_function(format!("{who}: executions first page + total + status counts"), |b| {
            b.iter(|| {
                rt.block_on(listing::page(&s.pool, Entity::Executions, &q, &PageAt::First, PAGE_ROWS)).expect("page")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, verbs);
criterion_main!(benches);

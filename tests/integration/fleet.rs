//! The Fleet pane's service layer on a real database: what reaches an agent and by which route,
//! health counts and the health filter at the thresholds' edges, soft deletes and label edits with
//! their audit rows.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use fleetdeck::db::handle::Db;
use fleetdeck::domain::health::{Health, Thresholds};
use fleetdeck::service::executions::RowOutcome;
use fleetdeck::service::fleet::{self, Deletable, Tags};
use fleetdeck::service::listing::{self, Entity, PageAt, Query};
use fleetdeck::service::{Actor, Error, Services};
use fleetdeck::testing::TestDb;
use sqlx::Connection;
use uuid::Uuid;

use crate::fixtures;

fn services(db: &TestDb) -> Services {
    Services::new(db.pool.clone(), Actor { label: "tester".into(), user_id: None })
}

async fn exec(pool: &Db, sql: &str, id: Uuid) {
    sqlx::query(sql).bind(id).execute(pool).await.unwrap();
}

async fn label_stack(pool: &Db, stack: Uuid, label: &str) {
    sqlx::query("INSERT INTO broker.stack_labels (stack_id, label) VALUES ($1, $2)")
        .bind(stack)
        .bind(label)
        .execute(pool)
        .await
        .unwrap();
}

async fn annotate_stack(pool: &Db, stack: Uuid, key: &str, value: &str) {
    sqlx::query("INSERT INTO broker.stack_annotations (stack_id, key, value) VALUES ($1, $2, $3)")
        .bind(stack)
        .bind(key)
        .bind(value)
        .execute(pool)
        .await
        .unwrap();
}

async fn target(pool: &Db, agent: Uuid, stack: Uuid) {
    sqlx::query("INSERT INTO broker.agent_targets (agent_id, stack_id) VALUES ($1, $2)")
        .bind(agent)
        .bind(stack)
        .execute(pool)
        .await
        .unwrap();
}

/// (stacks, by_target, by_label, by_annotation, pending, failures_1h) of an agent.
async fn rollup(pool: &Db, agent: Uuid) -> (i32, i32, i32, i32, i32, i32) {
    sqlx::query_as(
        "SELECT stacks, by_target, by_label, by_annotation, pending, failures_1h FROM fleetdeck.agent_rollup($1)",
    )
    .bind(agent)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The agents list's row for an agent, as cells by column title.
async fn agent_row(pool: &Db, name: &str) -> Option<Vec<(&'static str, String)>> {
    let query = Query { filter: fleetdeck::domain::filter::Filter::Exact(name.into()), ..Query::new(Entity::Agents) };
    let page = listing::page(pool, Entity::Agents, &query, &PageAt::First, 10).await.unwrap();
    page.rows.into_iter().next().map(|r| listing::columns(Entity::Agents).into_iter().zip(r.cells).collect())
}

fn cell<'a>(row: &'a [(&'static str, String)], title: &str) -> &'a str {
    row.iter().find(|(t, _)| *t == title).map(|(_, v)| v.as_str()).unwrap()
}

/// SEMANTICS.md: a stack reaches an agent by an explicit target, a label both carry (exact
/// string) or an annotation both carry (exact key and value); soft-deleted stacks and agents
/// reach nothing. The desired object of each reached stack is pending until the agent reports.
#[tokio::test]
async fn stacks_reach_an_agent_by_each_route_and_deleted_ones_do_not() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let g = fixtures::generator(pool, "gen").await;
    let agent = fixtures::cluster_agent(pool, "edge-1", "prod-eu").await;
    let other = fixtures::cluster_agent(pool, "edge-2", "prod-eu").await;
    sqlx::query("INSERT INTO broker.agent_labels (agent_id, label) VALUES ($1, 'env:prod'), ($2, 'env:dev')")
        .bind(agent)
        .bind(other)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO broker.agent_annotations (agent_id, key, value) VALUES ($1, 'region', 'eu')")
        .bind(agent)
        .execute(pool)
        .await
        .unwrap();

    let by_target = fixtures::stack(pool, "by-target", g).await;
    target(pool, agent, by_target).await;
    let by_label = fixtures::stack(pool, "by-label", g).await;
    label_stack(pool, by_label, "env:prod").await;
    let by_annotation = fixtures::stack(pool, "by-annotation", g).await;
    annotate_stack(pool, by_annotation, "region", "eu").await;
    // Reaches by two routes: counted once in all, once under each route.
    let both = fixtures::stack(pool, "both", g).await;
    target(pool, agent, both).await;
    label_stack(pool, both, "env:prod").await;
    // Near misses: another label, the same key with another value, a label that is only a prefix.
    let miss = fixtures::stack(pool, "miss", g).await;
    label_stack(pool, miss, "env:dev").await;
    label_stack(pool, miss, "env").await;
    annotate_stack(pool, miss, "region", "us").await;
    // Deleted stacks reach nothing, whatever the route.
    let deleted = fixtures::stack(pool, "deleted", g).await;
    target(pool, agent, deleted).await;
    label_stack(pool, deleted, "env:prod").await;
    annotate_stack(pool, deleted, "region", "eu").await;
    exec(pool, "UPDATE broker.stacks SET deleted_at = now() WHERE id = $1", deleted).await;

    assert_eq!(rollup(pool, agent).await, (4, 2, 2, 1, 0, 0), "no objects yet: nothing pending");
    let routes: Vec<(Uuid, bool, bool, bool)> = sqlx::query_as(
        "SELECT stack_id, by_target, by_label, by_annotation FROM fleetdeck.agent_stacks($1) ORDER BY stack_id",
    )
    .bind(agent)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut expected = vec![
        (by_target, true, false, false),
        (by_label, false, true, false),
        (by_annotation, false, false, true),
        (both, true, true, false),
    ];
    expected.sort();
    assert_eq!(routes, expected);
    assert_eq!(rollup(pool, other).await, (1, 0, 1, 0, 0, 0), "edge-2 carries env:dev only");

    // Desired objects: the newest live one per stack; an agent's report on it ends pending.
    let old = fixtures::deployment_object(pool, by_target, g, "kind: A\nv: 1\n").await;
    let desired = fixtures::deployment_object(pool, by_target, g, "kind: A\nv: 2\n").await;
    fixtures::deployment_object(pool, by_label, g, "kind: B\n").await;
    fixtures::deployment_object(pool, by_annotation, g, "kind: C\n").await;
    fixtures::event(pool, agent, old, "SUCCESS").await;
    assert_eq!(rollup(pool, agent).await.4, 3, "a report on an older object leaves the desired one pending");
    fixtures::event(pool, agent, desired, "FAILURE").await;
    assert_eq!(rollup(pool, agent).await, (4, 2, 2, 1, 2, 1), "reported (even a failure) is not pending");

    // The list shows the same, by route.
    let row = agent_row(pool, "edge-1").await.unwrap();
    assert_eq!(
        (cell(&row, "STACKS"), cell(&row, "ROUTES"), cell(&row, "PENDING"), cell(&row, "FAIL 1H")),
        ("4", "2t 2l 1a", "2", "1")
    );
    assert_eq!(cell(&row, "LABELS"), r#"["env:prod", "region=eu"]"#, "a JSON array: a label may hold a space");

    // A deleted agent reaches nothing and leaves the list.
    exec(pool, "UPDATE broker.agents SET deleted_at = now() WHERE id = $1", agent).await;
    assert_eq!(rollup(pool, agent).await.0, 0);
    assert!(agent_row(pool, "edge-1").await.is_none());
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

/// Hosts and agents on both sides of each threshold (stale from 60 s, offline from 300 s by
/// default): the summary's counts, the health filter and the drawn cells agree.
#[tokio::test]
async fn health_counts_and_the_health_filter_agree_at_the_thresholds_edges() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let site: Uuid =
        sqlx::query_scalar("INSERT INTO edge.site (site_id) VALUES ('s1') RETURNING id").fetch_one(pool).await.unwrap();
    // (name, status, heartbeat age in seconds (None: never), deleted, expected health)
    type Case = (&'static str, &'static str, Option<i64>, bool, Option<Health>);
    let cases: [Case; 9] = [
        ("h-fresh", "Active", Some(0), false, Some(Health::Healthy)),
        ("h-59s", "Active", Some(59), false, Some(Health::Healthy)),
        ("h-60s", "Active", Some(60), false, Some(Health::Stale)),
        ("h-299s", "Active", Some(299), false, Some(Health::Stale)),
        ("h-300s", "Active", Some(300), false, Some(Health::Offline)),
        ("h-never", "Active", None, false, Some(Health::Offline)),
        ("h-maint", "Inactive", Some(1), false, Some(Health::Offline)),
        ("h-unreach", "Unreachable", Some(1), false, Some(Health::Offline)),
        ("h-deleted", "Active", Some(1), true, None),
    ];
    for (name, status, age, deleted, _) in cases {
        sqlx::query(
            "INSERT INTO edge.host (host_id, site_id, hostname, status, last_heartbeat, deleted_at) \
             VALUES ($1, $2, $1, $3, $4 - make_interval(secs => $5), CASE WHEN $6 THEN $4 END)",
        )
        .bind(name)
        .bind(site)
        .bind(status)
        .bind(age.map(|_| at()))
        .bind(age.unwrap_or(0) as f64)
        .bind(deleted)
        .execute(pool)
        .await
        .unwrap();
    }
    for (name, status, age) in
        [("a-59s", "ACTIVE", Some(59)), ("a-60s", "ACTIVE", Some(60)), ("a-off", "INACTIVE", Some(1))]
    {
        sqlx::query(
            "INSERT INTO broker.agents (name, cluster_name, status, last_heartbeat) \
             VALUES ($1, 'c', $2, $3 - make_interval(secs => $4))",
        )
        .bind(name)
        .bind(status)
        .bind(age.map(|_| at()))
        .bind(age.unwrap_or(0) as f64)
        .execute(pool)
        .await
        .unwrap();
    }
    let t = Thresholds::default();
    let s = fleet::summary(&services(&db), &t, Some(at())).await.unwrap();
    assert_eq!((s.hosts.healthy, s.hosts.stale, s.hosts.offline), (2, 2, 4));
    assert_eq!((s.agents.healthy, s.agents.stale, s.agents.offline), (1, 1, 1));
    assert_eq!(s.at, at());
    assert_eq!(s.healthy_percent(), 3 * 100 / 11);

    let health_col = listing::columns(Entity::Hosts).iter().position(|c| *c == "HEALTH").unwrap();
    for h in Health::ALL {
        let query = Query {
            fields: vec![("health".into(), h.as_str().into())],
            health: t,
            at: Some(at()),
            ..Query::new(Entity::Hosts)
        };
        let page = listing::page(pool, Entity::Hosts, &query, &PageAt::First, 50).await.unwrap();
        let mut names: Vec<&str> = page.rows.iter().map(|r| r.cells[0].as_str()).collect();
        names.sort();
        let mut expected: Vec<&str> = cases.iter().filter(|c| c.4 == Some(h)).map(|c| c.0).collect();
        expected.sort();
        assert_eq!(names, expected, "{h}");
        assert_eq!(page.total, expected.len() as i64, "{h}");
        assert_eq!(s.hosts.get(h), expected.len() as i64, "{h}");
        for r in &page.rows {
            let drawn = listing::shown(Some(&listing::CellKind::Health), &r.cells[health_col], at(), &t);
            assert_eq!(drawn, h.as_str(), "{}: the cell agrees with the filter", r.cells[0]);
        }
    }

    // Other thresholds move the edges: with a 10 s interval, 20 s is already stale.
    let quick = Thresholds { heartbeat_interval: Duration::from_secs(10), offline_after: Duration::from_secs(100) };
    let s = fleet::summary(&services(&db), &quick, Some(at())).await.unwrap();
    assert_eq!((s.hosts.healthy, s.hosts.stale, s.hosts.offline), (1, 2, 5));

    // A bad value names the field and the values there are.
    let query = Query { fields: vec![("health".into(), "sick".into())], ..Query::new(Entity::Hosts) };
    let err = listing::page(pool, Entity::Hosts, &query, &PageAt::First, 50).await.unwrap_err();
    assert_eq!(err.to_string(), "health: \"sick\" is not a health (one of healthy, stale, offline, maintenance)");
}

/// Soft-deleting agents and hosts: audited with the reason, gone from lists and counts, a second
/// delete skipped, a missing id reported, a race lost to another client reported as such.
#[tokio::test]
async fn soft_deletes_are_audited_and_races_reported() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let s = services(&db);
    let agent = fixtures::cluster_agent(pool, "edge-1", "prod-eu").await;
    let site: Uuid =
        sqlx::query_scalar("INSERT INTO edge.site (site_id) VALUES ('s1') RETURNING id").fetch_one(pool).await.unwrap();
    let host: Uuid = sqlx::query_scalar(
        "INSERT INTO edge.host (host_id, site_id, hostname, status) VALUES ('h1', $1, 'h1', 'Active') RETURNING id",
    )
    .bind(site)
    .fetch_one(pool)
    .await
    .unwrap();
    let before = fleet::summary(&s, &Thresholds::default(), None).await.unwrap();
    assert_eq!((before.hosts.total(), before.agents.total()), (1, 1));

    let out = fleet::soft_delete(&s, Deletable::Agent, &[agent], Some("decommissioned")).await.unwrap();
    assert_eq!(out.rows[0].1, RowOutcome::Done { from: "inactive".into(), to: "deleted".into() });
    let out = fleet::soft_delete(&s, Deletable::Host, &[host, Uuid::nil()], Some("rack moved")).await.unwrap();
    assert_eq!(out.rows[0].1, RowOutcome::Done { from: "active".into(), to: "deleted".into() });
    assert_eq!(out.rows[1].1, RowOutcome::Missing);
    let again = fleet::soft_delete(&s, Deletable::Host, &[host], None).await.unwrap();
    assert_eq!(again.rows[0].1, RowOutcome::Skipped { status: "deleted".into(), reason: "already deleted".into() });

    let after = fleet::summary(&s, &Thresholds::default(), None).await.unwrap();
    assert_eq!((after.hosts.total(), after.agents.total()), (0, 0));
    for entity in [Entity::Hosts, Entity::Agents] {
        let page = listing::page(pool, entity, &Query::new(entity), &PageAt::First, 10).await.unwrap();
        assert_eq!(page.total, 0, "{entity:?}");
    }
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM edge.host WHERE deleted_at IS NOT NULL")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(kept, 1, "the row stays, marked deleted");

    // A race: another client deletes the agent while our delete waits on the row.
    let racer = fixtures::cluster_agent(pool, "edge-3", "prod-eu").await;
    let mut other = sqlx::PgConnection::connect_with(&db.direct_options()).await.unwrap();
    let mut tx = other.begin().await.unwrap();
    exec_on(&mut tx, "UPDATE broker.agents SET deleted_at = now() WHERE id = $1", racer).await;
    let s2 = s.clone();
    let ours = tokio::spawn(async move { fleet::soft_delete(&s2, Deletable::Agent, &[racer], None).await.unwrap() });
    fixtures::until_waiting_on_a_lock(pool).await;
    tx.commit().await.unwrap();
    let out = ours.await.unwrap();
    assert_eq!(out.rows[0].1, RowOutcome::Lost { now: "deleted".into() });

    type AuditRow = (String, String, String, Option<String>, Option<String>, Option<String>);
    let audit: Vec<AuditRow> = sqlx::query_as(
        "SELECT target_table, verb, outcome, from_state, to_state, reason FROM fleetdeck.audit_log ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        audit,
        [
            ("broker.agents".into(), "delete".into(), "ok".into(), s("INACTIVE"), s("deleted"), s("decommissioned")),
            ("edge.host".into(), "delete".into(), "ok".into(), s("Active"), s("deleted"), s("rack moved")),
            ("edge.host".into(), "delete".into(), "refused".into(), s("Active"), None, None),
            ("broker.agents".into(), "delete".into(), "conflict".into(), s("INACTIVE"), None, None),
        ]
    );
}

async fn exec_on(conn: &mut sqlx::PgConnection, sql: &str, id: Uuid) {
    sqlx::query(sql).bind(id).execute(conn).await.unwrap();
}

fn tags(labels: &[&str], annotations: &[(&str, &str)]) -> Tags {
    Tags {
        labels: labels.iter().map(|l| l.to_string()).collect(),
        annotations: annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

/// Labels and annotations of an agent: checked by SEMANTICS.md's rules (naming the field),
/// replaced in one transaction with an audit row, an edit by someone else since the form opened
/// reported rather than overwritten, an unchanged form not written.
#[tokio::test]
async fn agent_labels_and_annotations_are_validated_replaced_and_audited() {
    let db = TestDb::new().await;
    let pool = &db.pool;
    let s = services(&db);
    let agent = fixtures::cluster_agent(pool, "edge-1", "prod-eu").await;
    let (name, start) = fleet::agent_tags(&s, agent).await.unwrap();
    assert_eq!((name.as_str(), start.clone()), ("edge-1 (prod-eu)", Tags::default()));

    let long = "x".repeat(65);
    for (bad, field, reason) in [
        (tags(&[long.as_str()], &[]), "labels", "a label has at most 64 characters; this one has 65"),
        (tags(&[""], &[]), "labels", "a label cannot be empty"),
        (tags(&[], &[("team name", "a")]), "annotations", "key \"team name\" contains white space"),
        (tags(&[], &[("team", "")]), "annotations", "the value is empty"),
        (tags(&[], &[("k", long.as_str())]), "annotations", "has 65 characters; at most 64"),
    ] {
        match fleet::set_agent_tags(&s, agent, &start, &bad).await {
            Err(Error::Invalid { field: f, reason: r }) => {
                assert_eq!(f, field);
                assert!(r.contains(reason), "{r}");
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }

    let new = tags(&["env:prod", "tier-1"], &[("region", "eu"), ("team", "edge")]);
    let out = fleet::set_agent_tags(&s, agent, &start, &new).await.unwrap();
    assert_eq!(
        out,
        RowOutcome::Done {
            from: "labels: ; annotations: ".into(),
            to: "labels: env:prod, tier-1; annotations: region=eu, team=edge".into()
        }
    );
    assert_eq!(fleet::agent_tags(&s, agent).await.unwrap().1, new);
    let out = fleet::set_agent_tags(&s, agent, &new, &new).await.unwrap();
    assert!(matches!(out, RowOutcome::Skipped { ref reason, .. } if reason == "nothing changed"), "{out:?}");

    // Someone else removes a label while our form is open: ours is refused, theirs stays.
    sqlx::query("DELETE FROM broker.agent_labels WHERE agent_id = $1 AND label = 'tier-1'")
        .bind(agent)
        .execute(pool)
        .await
        .unwrap();
    let out = fleet::set_agent_tags(&s, agent, &new, &tags(&["env:dev"], &[])).await.unwrap();
    assert_eq!(out, RowOutcome::Lost { now: "labels: env:prod; annotations: region=eu, team=edge".into() });
    assert_eq!(fleet::agent_tags(&s, agent).await.unwrap().1.labels, ["env:prod"]);

    // The agents list filters by the new label and annotation.
    for (filter, expected) in [("-l env:prod", 1), ("-l region=eu", 1), ("-l region=us", 0), ("-l tier-1", 0)] {
        let query =
            Query { filter: fleetdeck::domain::filter::Filter::parse(filter).unwrap(), ..Query::new(Entity::Agents) };
        let page = listing::page(pool, Entity::Agents, &query, &PageAt::First, 10).await.unwrap();
        assert_eq!(page.total, expected, "{filter}");
    }

    let audit: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT verb, outcome, to_state FROM fleetdeck.audit_log ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        audit,
        [
            (
                "edit labels".into(),
                "ok".into(),
                Some("labels: env:prod, tier-1; annotations: region=eu, team=edge".into())
            ),
            ("edit labels".into(), "conflict".into(), None),
        ]
    );

    // A deleted agent cannot be edited.
    exec(pool, "UPDATE broker.agents SET deleted_at = now() WHERE id = $1", agent).await;
    assert!(matches!(fleet::agent_tags(&s, agent).await, Err(Error::NotFound { .. })));
    assert_eq!(fleet::set_agent_tags(&s, agent, &new, &new).await.unwrap(), RowOutcome::Missing);
}

/// Columns built from several rows (labels, peripherals) cannot be sorted on; asking says so.
#[tokio::test]
async fn an_unsortable_column_is_refused_by_name() {
    let db = TestDb::new().await;
    let labels = listing::columns(Entity::Agents).iter().position(|c| *c == "LABELS").unwrap();
    assert!(!listing::sortable(Entity::Agents)[labels]);
    let query = Query { sort: labels, ..Query::new(Entity::Agents) };
    let err = listing::page(&db.pool, Entity::Agents, &query, &PageAt::First, 10).await.unwrap_err();
    assert_eq!(err.to_string(), "sort: LABELS cannot be sorted on");
}

/// The hosts whose name holds `prefix`, sorted by the column `title`.
fn hosts_sorted(prefix: &str, title: &str, descending: bool) -> Query {
    let e = Entity::Hosts;
    Query {
        filter: fleetdeck::domain::filter::Filter::Exact(prefix.into()),
        sort: listing::columns(e).iter().position(|c| *c == title).unwrap(),
        descending,
        ..Query::new(e)
    }
}

/// Every page of `q`'s hosts, two rows a page (each after the last row's cursor): their names.
async fn host_names_page_by_page(pool: &Db, q: &Query) -> Vec<String> {
    let e = Entity::Hosts;
    let mut names = Vec::new();
    let mut page = listing::page(pool, e, q, &PageAt::First, 2).await.unwrap();
    loop {
        names.extend(page.rows.iter().map(|r| r.cells[0].clone()));
        let Some(last) = page.rows.last() else { break };
        page = listing::page(pool, e, q, &PageAt::After(last.cursor.clone()), 2).await.unwrap();
    }
    names
}

/// The hardware columns sort on the typed values (memory in bytes, not as text), page by page
/// with the keyset, and the join to them keeps every host in the list.
#[tokio::test]
async fn hosts_sort_by_memory_in_bytes_and_every_host_stays_listed() {
    let db = TestDb::new().await;
    fleetdeck::import::demo::seed(&db.pool, fleetdeck::import::demo::Scale::Small, 4, Utc::now(), |_| {})
        .await
        .unwrap();
    let site: Uuid =
        sqlx::query_scalar("SELECT id FROM edge.site ORDER BY site_id LIMIT 1").fetch_one(&db.pool).await.unwrap();
    for (name, memory) in
        [("memsort-a", "512Mi"), ("memsort-b", "2Gi"), ("memsort-c", "3G"), ("memsort-d", ""), ("memsort-e", "abc")]
    {
        sqlx::query(
            "INSERT INTO edge.host (host_id, site_id, hostname, status, metadata) \
             VALUES ($1, $2, $1, 'Active', jsonb_build_object('memory', $3::text, 'cores', 2))",
        )
        .bind(name)
        .bind(site)
        .bind(memory)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    let e = Entity::Hosts;
    let live: i64 = sqlx::query_scalar("SELECT count(*) FROM edge.host WHERE deleted_at IS NULL")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    // The rows themselves (the total counts edge.host alone): the joins drop no host.
    let all = listing::page(&db.pool, e, &Query::new(e), &PageAt::First, 100_000).await.unwrap();
    assert_eq!((all.rows.len() as i64, all.total), (live, live), "every live host is listed");
    let q = hosts_sorted("memsort-", "MEMORY", true);
    assert_eq!(listing::page(&db.pool, e, &q, &PageAt::First, 2).await.unwrap().total, 5);
    let names = host_names_page_by_page(&db.pool, &q).await;
    // 3G (3e9 bytes) > 2Gi (2.1e9) > 512Mi; then the two that say no size, by id descending.
    assert_eq!(&names[..3], ["memsort-c", "memsort-b", "memsort-a"], "{names:?}");
    let mut rest = names[3..].to_vec();
    rest.sort();
    assert_eq!(rest, ["memsort-d", "memsort-e"], "{names:?}");
}

/// The hosts' IP and STATUS sort keys (migration 30) follow a bulk load, inserts and updates of
/// the address or status, and the list sorts on them page by page.
#[tokio::test]
async fn hosts_sort_keys_follow_every_write_and_sort_the_list() {
    let db = TestDb::new().await;
    fleetdeck::import::demo::seed(&db.pool, fleetdeck::import::demo::Scale::Small, 4, Utc::now(), |_| {})
        .await
        .unwrap();
    let wrong = |pool: Db| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM edge.host h FULL JOIN fleetdeck.host_order o ON o.host_id = h.id \
             WHERE o.host_id IS NULL OR h.id IS NULL \
                OR o.ip <> coalesce(h.ip_address, '') OR o.status <> lower(coalesce(h.status, ''))",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    assert_eq!(wrong(db.pool.clone()).await, 0, "after the demo's bulk load");
    let site: Uuid =
        sqlx::query_scalar("SELECT id FROM edge.site ORDER BY site_id LIMIT 1").fetch_one(&db.pool).await.unwrap();
    for (name, ip, status) in
        [("ipsort-a", "10.0.0.9", "Active"), ("ipsort-b", "10.0.0.10", "Inactive"), ("ipsort-c", "", "Active")]
    {
        sqlx::query(
            "INSERT INTO edge.host (host_id, site_id, hostname, ip_address, status) VALUES ($1, $2, $1, $3, $4)",
        )
        .bind(name)
        .bind(site)
        .bind(ip)
        .bind(status)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    sqlx::query("UPDATE edge.host SET ip_address = '10.0.0.99', status = 'Unreachable' WHERE hostname = 'ipsort-c'")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE edge.host SET last_heartbeat = now() WHERE hostname LIKE 'ipsort-%'")
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(wrong(db.pool.clone()).await, 0, "after inserts, updates and heartbeats");
    // As text, as the column always sorted: "10.0.0.99" > "10.0.0.9" > "10.0.0.10".
    let by = |title: &str, descending: bool| hosts_sorted("ipsort-", title, descending);
    assert_eq!(host_names_page_by_page(&db.pool, &by("IP", true)).await, ["ipsort-c", "ipsort-a", "ipsort-b"]);
    assert_eq!(host_names_page_by_page(&db.pool, &by("STATUS", false)).await, ["ipsort-a", "ipsort-b", "ipsort-c"]);
    sqlx::query("DELETE FROM edge.host WHERE hostname = 'ipsort-a'").execute(&db.pool).await.unwrap();
    assert_eq!(wrong(db.pool.clone()).await, 0, "after a delete");
}

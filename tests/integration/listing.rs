//! Keyset pages: walking forward and backward gives the whole list in one order, no row twice.

use chrono::Utc;
use fleetdeck::domain::filter::Filter;
use fleetdeck::import::demo::{self, Scale};
use fleetdeck::service::listing::{self, Entity, PageAt, Query};
use fleetdeck::testing::TestDb;

#[tokio::test]
async fn pages_walk_the_whole_list_both_ways_for_every_pane() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 5, Utc::now(), |_| {}).await.unwrap();
    // Health is judged at one fixed moment, so that counts do not move between the reads.
    let at = Some(Utc::now());
    for entity in Entity::ALL {
        let q = Query { at, ..Query::new(entity) };
        let all = listing::page(&db.pool, entity, &q, &PageAt::First, 100_000).await.unwrap();
        assert!(all.total > 0, "{entity:?}");
        // Small lists (the demo's few edge apps) are walked two rows at a time.
        let (fwd, back) = if all.total > 100 { (37, 41) } else { (2, 3) };
        assert_eq!(all.rows.len() as i64, all.total, "{entity:?}");
        assert_eq!(all.rows[0].cells.len(), listing::columns(entity).len());

        let mut forward = Vec::new();
        let mut page = listing::page(&db.pool, entity, &q, &PageAt::First, fwd).await.unwrap();
        while !page.rows.is_empty() {
            let last = page.rows.last().unwrap().cursor.clone();
            forward.extend(page.rows);
            page = listing::page(&db.pool, entity, &q, &PageAt::After(last), fwd).await.unwrap();
        }
        assert_eq!(forward, all.rows, "{entity:?} forward");

        let mut backward = Vec::new();
        let mut page = listing::page(&db.pool, entity, &q, &PageAt::Last, back).await.unwrap();
        while !page.rows.is_empty() {
            let first = page.rows[0].cursor.clone();
            backward.splice(0..0, page.rows);
            page = listing::page(&db.pool, entity, &q, &PageAt::Before(first), back).await.unwrap();
        }
        assert_eq!(backward, all.rows, "{entity:?} backward");

        let middle = all.rows[all.rows.len() / 2].clone();
        let from = listing::page(&db.pool, entity, &q, &PageAt::From(middle.cursor.clone()), 3).await.unwrap();
        assert_eq!(from.rows[0], middle, "{entity:?} from");
    }
    // Executions are newest first.
    let page =
        listing::page(&db.pool, Entity::Executions, &Query::new(Entity::Executions), &PageAt::First, 50).await.unwrap();
    let started: Vec<&String> = page.rows.iter().map(|r| &r.cells[5]).collect();
    let mut sorted = started.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(started, sorted);
}

#[tokio::test]
async fn an_empty_list_has_no_rows_and_a_zero_total() {
    let db = TestDb::new().await;
    let page = listing::page(&db.pool, Entity::Hosts, &Query::new(Entity::Hosts), &PageAt::Last, 10).await.unwrap();
    assert!(page.rows.is_empty());
    assert_eq!(page.total, 0);
}

/// Every sort column, both ways, pages through the same rows in the same order as one big read.
#[tokio::test]
async fn every_sort_column_pages_consistently_both_ways() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 6, Utc::now(), |_| {}).await.unwrap();
    // Health is judged at one fixed moment, so that counts do not move while the pages are read.
    let at = Some(Utc::now());
    for entity in [
        Entity::Executions,
        Entity::Instances,
        Entity::Hosts,
        Entity::Agents,
        Entity::Orchestrators,
        Entity::Sites,
        Entity::Clusters,
    ] {
        let sortable = listing::sortable(entity);
        for sort in (0..listing::columns(entity).len()).filter(|i| sortable[*i]) {
            for descending in [false, true] {
                let q = Query { sort, descending, at, ..Query::new(entity) };
                let all = listing::page(&db.pool, entity, &q, &PageAt::First, 100_000).await.unwrap();
                let mut walked = Vec::new();
                let mut page = listing::page(&db.pool, entity, &q, &PageAt::First, 97).await.unwrap();
                while !page.rows.is_empty() {
                    let last = page.rows.last().unwrap().cursor.clone();
                    walked.extend(page.rows);
                    page = listing::page(&db.pool, entity, &q, &PageAt::After(last), 97).await.unwrap();
                }
                assert_eq!(walked, all.rows, "{entity:?} sort {sort} descending {descending}");
                let mut back = Vec::new();
                let mut page = listing::page(&db.pool, entity, &q, &PageAt::Last, 89).await.unwrap();
                while !page.rows.is_empty() {
                    let first = page.rows[0].cursor.clone();
                    back.splice(0..0, page.rows);
                    page = listing::page(&db.pool, entity, &q, &PageAt::Before(first), 89).await.unwrap();
                }
                assert_eq!(back, all.rows, "{entity:?} sort {sort} descending {descending} backwards");
            }
        }
    }
}

#[tokio::test]
async fn filters_narrow_the_list_and_its_total() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 7, Utc::now(), |_| {}).await.unwrap();
    let e = Entity::Packages;
    let all = listing::page(&db.pool, e, &Query::new(e), &PageAt::First, 100_000).await.unwrap();
    let names: Vec<&String> = all.rows.iter().map(|r| &r.cells[0]).collect();
    let with = |f: Filter| Query { filter: f, ..Query::new(e) };

    // Fuzzy: the characters in order, any case.
    let fuzzy = listing::page(&db.pool, e, &with(Filter::Fuzzy("RGCD".into())), &PageAt::First, 1000).await.unwrap();
    let expect = names.iter().filter(|n| !fleetdeck::domain::filter::fuzzy_indices(n, "rgcd").is_empty()).count();
    assert!(fuzzy.total > 0);
    assert_eq!(fuzzy.total as usize, expect);
    assert!(fuzzy.rows.iter().any(|r| r.cells[0] == "argo-cd"), "{fuzzy:?}");

    // Inverse: the rest.
    let inv = listing::page(&db.pool, e, &with(Filter::Invert("RGCD".into())), &PageAt::First, 1).await.unwrap();
    assert_eq!(inv.total + fuzzy.total, all.total);

    // Exact: case-sensitive substring; LIKE metacharacters are plain text.
    let exact = listing::page(&db.pool, e, &with(Filter::Exact("argo-".into())), &PageAt::First, 1000).await.unwrap();
    assert_eq!(exact.total as usize, names.iter().filter(|n| n.contains("argo-")).count());
    let none = listing::page(&db.pool, e, &with(Filter::Exact("ARGO-".into())), &PageAt::First, 10).await.unwrap();
    assert_eq!(none.total, 0);
    let pct = listing::page(&db.pool, e, &with(Filter::Fuzzy("%".into())), &PageAt::First, 10).await.unwrap();
    assert_eq!(pct.total, 0, "% is not a wildcard");

    // Labels: only lists that have them.
    let err = listing::page(&db.pool, e, &with(Filter::Label { key: "a".into(), value: None }), &PageAt::First, 1)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no labels"), "{err}");
}

#[tokio::test]
async fn label_and_annotation_filters_and_marked_rows_hidden_by_a_filter() {
    let db = TestDb::new().await;
    let generator = crate::fixtures::generator(&db.pool, "ci").await;
    let web = crate::fixtures::stack(&db.pool, "web", generator).await;
    let api = crate::fixtures::stack(&db.pool, "api", generator).await;
    sqlx::query("INSERT INTO broker.stack_labels (stack_id, label) VALUES ($1, 'edge')")
        .bind(web)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO broker.stack_annotations (stack_id, key, value) VALUES ($1, 'env', 'prod'), ($2, 'env', 'dev')",
    )
    .bind(web)
    .bind(api)
    .execute(&db.pool)
    .await
    .unwrap();
    let e = Entity::Stacks;
    let names = |p: &listing::Page| p.rows.iter().map(|r| r.cells[0].clone()).collect::<Vec<_>>();
    let q = |f: Filter| Query { filter: f, marked: vec![web.to_string(), api.to_string()], ..Query::new(e) };

    let label = listing::page(&db.pool, e, &q(Filter::Label { key: "edge".into(), value: None }), &PageAt::First, 10)
        .await
        .unwrap();
    assert_eq!(names(&label), ["web"]);
    assert_eq!(label.marked_visible, 1, "one of the two marked rows passes the filter");

    let prod = Filter::Label { key: "env".into(), value: Some("prod".into()) };
    assert_eq!(names(&listing::page(&db.pool, e, &q(prod), &PageAt::First, 10).await.unwrap()), ["web"]);
    let dev = Filter::Label { key: "env".into(), value: Some("dev".into()) };
    assert_eq!(names(&listing::page(&db.pool, e, &q(dev), &PageAt::First, 10).await.unwrap()), ["api"]);
    let all = listing::page(&db.pool, e, &q(Filter::None), &PageAt::First, 10).await.unwrap();
    assert_eq!((all.total, all.marked_visible), (2, 2));
}

#[tokio::test]
async fn execution_field_filters_and_the_status_counts() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 8, Utc::now(), |_| {}).await.unwrap();
    let e = Entity::Executions;
    let q = |fields: &[(&str, &str)]| Query {
        fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..Query::new(e)
    };
    let all = listing::page(&db.pool, e, &q(&[]), &PageAt::First, 10).await.unwrap();
    assert_eq!(all.facets.iter().map(|(_, n)| n).sum::<i64>(), all.total);
    let failed_count = all.facets.iter().find(|(s, _)| s == "failed").map(|(_, n)| *n).unwrap();

    let failed = listing::page(&db.pool, e, &q(&[("status", "failed")]), &PageAt::First, 1000).await.unwrap();
    assert_eq!(failed.total, failed_count);
    assert!(failed.rows.iter().all(|r| r.cells[0] == "failed"));
    assert_eq!(failed.facets, all.facets, "the header counts ignore the status filter itself");

    let agent = all.rows[0].cells[2].clone();
    let by_agent =
        listing::page(&db.pool, e, &q(&[("agent", &agent.to_uppercase())]), &PageAt::First, 1000).await.unwrap();
    assert!(
        by_agent.total > 0 && by_agent.rows.iter().all(|r| r.cells[2].contains(&agent)),
        "case-insensitive contains"
    );
    let framework = listing::page(&db.pool, e, &q(&[("framework", "n8n")]), &PageAt::First, 1000).await.unwrap();
    assert!(framework.rows.iter().all(|r| r.cells[3] == "n8n"));
    let recent = listing::page(&db.pool, e, &q(&[("since", "1h")]), &PageAt::First, 10).await.unwrap();
    assert!(recent.total < all.total);

    for (k, v, says) in [
        ("status", "broken", "not a status"),
        ("colour", "red", "unknown filter (known: status, agent, workflow, framework, org, since, archive)"),
        ("since", "soon", "not a duration"),
        ("agent", "", "the value is empty"),
    ] {
        let err = listing::page(&db.pool, e, &q(&[(k, v)]), &PageAt::First, 10).await.unwrap_err().to_string();
        assert!(err.starts_with(k) && err.contains(says), "{err}");
    }
}

#[tokio::test]
async fn a_delta_reads_only_what_changed_in_the_window() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 9, Utc::now(), |_| {}).await.unwrap();
    let e = Entity::Executions;
    let q = Query::new(e);
    let page = listing::page(&db.pool, e, &q, &PageAt::First, 50).await.unwrap();
    let since = page.seen_at.unwrap();
    let window =
        listing::Window { first: page.rows[0].cursor.clone(), last: page.rows[49].cursor.clone(), at_top: true };
    // Nothing changed yet (the overlap is zero here).
    let d = listing::delta(&db.pool, e, &q, &window, since, std::time::Duration::ZERO, 100).await.unwrap();
    assert!(d.rows.is_empty() && d.supported);
    // A row inside the window and one far outside it change.
    let inside = &page.rows[10].cursor.id;
    let outside: String = sqlx::query_scalar(
        "SELECT id::text FROM platform.workflow_executions ORDER BY coalesce(started_at, '-infinity') LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    for id in [inside, &outside] {
        sqlx::query("UPDATE platform.workflow_executions SET status_message = 'changed' WHERE id = $1::uuid")
            .bind(id)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    let d = listing::delta(&db.pool, e, &q, &window, since, std::time::Duration::ZERO, 100).await.unwrap();
    let ids: Vec<&String> = d.rows.iter().map(|r| &r.cursor.id).collect();
    assert_eq!(ids, [inside], "only the change inside the window");
    assert!(d.left.is_empty() && d.complete);
    assert!(d.seen_at.unwrap() >= since);
    // As many changes in the table as the delta may read, the one outside the window included:
    // it reads none of them and says it is not complete (the page is read whole instead).
    let d = listing::delta(&db.pool, e, &q, &window, since, std::time::Duration::ZERO, 2).await.unwrap();
    assert_eq!((d.rows.len(), d.complete), (0, false));
    let d = listing::delta(&db.pool, e, &q, &window, since, std::time::Duration::ZERO, 3).await.unwrap();
    assert_eq!((d.rows.len(), d.complete), (1, true));
    // The stacks' change time is reckoned per row: the bound is on the rows read.
    let s = Entity::Stacks;
    let sq = Query::new(s);
    let stacks = listing::page(&db.pool, s, &sq, &PageAt::First, 50).await.unwrap();
    let n = stacks.rows.len();
    assert!(n >= 2, "the demo has stacks");
    let sw =
        listing::Window { first: stacks.rows[0].cursor.clone(), last: stacks.rows[n - 1].cursor.clone(), at_top: true };
    let since = stacks.seen_at.unwrap();
    sqlx::query("UPDATE broker.stacks SET updated_at = now() WHERE id = ANY($1::uuid[])")
        .bind(stacks.rows[..2].iter().map(|r| r.cursor.id.clone()).collect::<Vec<_>>())
        .execute(&db.pool)
        .await
        .unwrap();
    let d = listing::delta(&db.pool, s, &sq, &sw, since, std::time::Duration::ZERO, 100).await.unwrap();
    assert_eq!((d.rows.len(), d.complete), (2, true));
    let d = listing::delta(&db.pool, s, &sq, &sw, since, std::time::Duration::ZERO, 1).await.unwrap();
    assert_eq!((d.rows.len(), d.complete), (1, false));
}

/// Under a filter, a row of the window that changed out of it is read too, as one that left.
#[tokio::test]
async fn a_delta_sees_rows_leave_the_filter() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 9, Utc::now(), |_| {}).await.unwrap();
    let e = Entity::Executions;
    let mut q = Query::new(e);
    q.fields = vec![("status".into(), "running".into())];
    let page = listing::page(&db.pool, e, &q, &PageAt::First, 20).await.unwrap();
    assert!(page.rows.len() >= 3, "the demo has running executions");
    let last = page.rows.len() - 1;
    let since = page.seen_at.unwrap();
    let window =
        listing::Window { first: page.rows[0].cursor.clone(), last: page.rows[last].cursor.clone(), at_top: true };
    let (paused, touched) = (&page.rows[1].cursor.id, &page.rows[2].cursor.id);
    sqlx::query("UPDATE platform.workflow_executions SET status = 'paused' WHERE id = $1::uuid")
        .bind(paused)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE platform.workflow_executions SET status_message = 'still running' WHERE id = $1::uuid")
        .bind(touched)
        .execute(&db.pool)
        .await
        .unwrap();
    let d = listing::delta(&db.pool, e, &q, &window, since, std::time::Duration::ZERO, 100).await.unwrap();
    let ids = |rows: &[listing::Row]| rows.iter().map(|r| r.cursor.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&d.rows), [touched.as_str()], "the row still running is a change in place");
    assert_eq!(ids(&d.left), [paused.as_str()], "the paused row left the filter");
    assert_eq!(d.left[0].cells[0], "paused", "with its new cells");
    // Lists without a change time say so.
    let p = Query::new(Entity::Packages);
    let pkgs = listing::page(&db.pool, Entity::Packages, &p, &PageAt::First, 5).await.unwrap();
    let w = listing::Window { first: pkgs.rows[0].cursor.clone(), last: pkgs.rows[4].cursor.clone(), at_top: true };
    assert!(
        !listing::delta(&db.pool, Entity::Packages, &p, &w, since, std::time::Duration::ZERO, 10)
            .await
            .unwrap()
            .supported
    );
}

#[tokio::test]
async fn names_in_memory_find_the_rows_the_database_filter_finds() {
    use fleetdeck::service::names::{self, Names};
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 9, Utc::now(), |_| {}).await.unwrap();
    // Enough hosts that a common pattern matches more than are read by id.
    sqlx::query(
        "INSERT INTO edge.host (host_id, site_id, hostname, status, last_heartbeat) \
         SELECT 'bulk-' || n, (SELECT id FROM edge.site ORDER BY id LIMIT 1), 'bulk-' || lpad(n::text, 5, '0'), \
                CASE WHEN n % 3 = 0 THEN 'Inactive' ELSE 'Active' END, now() \
         FROM generate_series(1, 6000) n",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let e = Entity::Hosts;
    let mut memory = Names::load(&db.pool, e).await.unwrap().expect("hosts keep their names");
    let held = memory.len();

    // Changed after the names were read: a rename, a new host, a soft-deleted one, a name
    // outside ASCII. The next refresh follows them.
    sqlx::query("UPDATE edge.host SET hostname = 'renamed-q7x' WHERE hostname = 'bulk-00007'")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE edge.host SET deleted_at = now() WHERE hostname = 'bulk-00008'")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO edge.host (host_id, site_id, hostname, status) \
         SELECT x, (SELECT id FROM edge.site ORDER BY id LIMIT 1), x, 'Active' FROM unnest(ARRAY['new-q7x', 'Ωmega-q7x']) x",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    memory.follow(&db.pool).await.unwrap();
    assert_eq!(memory.len(), held + 1, "one host came, one left, two came");

    let marked: Vec<String> = sqlx::query_scalar(
        "SELECT id::text FROM edge.host WHERE hostname IN ('bulk-00010', 'renamed-q7x', 'bulk-04321')",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let (mut by_id, mut counted_in_memory) = (0, 0);
    let active = ("status".to_string(), "Active".to_string());
    for filter in [
        Filter::Fuzzy("q7x".into()),
        Filter::Fuzzy("BULK".into()),
        Filter::Fuzzy("b0043".into()),
        Filter::Fuzzy("nothing-like-it".into()),
        Filter::Invert("bulk".into()),
        Filter::Exact("renamed".into()),
        Filter::Exact("bulk-0".into()),
    ] {
        let orders = [(0, false, vec![]), (0, true, vec![]), (5, false, vec![]), (0, false, vec![active.clone()])];
        for (sort, descending, fields) in orders {
            let q = Query { filter: filter.clone(), fields, sort, descending, marked: marked.clone(), ..Query::new(e) };
            let narrowed = memory.narrow(&filter).expect("a text filter narrows");
            if narrowed.ids.len() <= names::BY_ID && !q.fields.is_empty() {
                by_id += 1;
            } else if q.fields.is_empty() {
                counted_in_memory += 1;
            }
            // Two pages forward, then two back from the end, and one from a row.
            for (start, forward) in [(PageAt::First, true), (PageAt::Last, false)] {
                let mut at = start;
                for _ in 0..2 {
                    let plain = listing::page(&db.pool, e, &q, &at, 150).await.unwrap();
                    let within = listing::page_within(&db.pool, e, &q, &at, 150, Some(&narrowed)).await.unwrap();
                    let what = format!("{filter:?} sort {sort} desc {descending} {:?} at {at:?}", q.fields);
                    assert_eq!(within.rows, plain.rows, "{what}");
                    assert_eq!(within.total, plain.total, "{what}");
                    assert_eq!(within.marked_visible, plain.marked_visible, "{what}");
                    let (Some(first), Some(last)) = (plain.rows.first(), plain.rows.last()) else { break };
                    let from = PageAt::From(plain.rows[plain.rows.len() / 2].cursor.clone());
                    let plain = listing::page(&db.pool, e, &q, &from, 20).await.unwrap();
                    let within = listing::page_within(&db.pool, e, &q, &from, 20, Some(&narrowed)).await.unwrap();
                    assert_eq!(within.rows, plain.rows, "{what} from");
                    at =
                        if forward { PageAt::After(last.cursor.clone()) } else { PageAt::Before(first.cursor.clone()) };
                }
            }
        }
    }
    assert!(
        by_id >= 4 && counted_in_memory == 21,
        "both ways were taken: {by_id} counted by the database by id, {counted_in_memory} counted in memory"
    );
    // The rename, the new host and the name outside ASCII are found; the deleted one is not.
    let q7 = Query { filter: Filter::Fuzzy("q7x".into()), ..Query::new(e) };
    let ctype: String = sqlx::query_scalar("SELECT datctype::text FROM pg_database WHERE datname = current_database()")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let narrowed = memory.narrow(&q7.filter).unwrap();
    // Under C, ILIKE folds ASCII only and memory judges Ωmega itself; otherwise the database does.
    let c = ctype == "C" || ctype == "POSIX";
    assert_eq!(narrowed.unsure.len(), if c { 0 } else { 1 }, "{ctype}");
    let found = listing::page_within(&db.pool, e, &q7, &PageAt::First, 10, Some(&narrowed)).await.unwrap();
    let found: Vec<&str> = found.rows.iter().map(|r| r.cells[0].as_str()).collect();
    assert_eq!(found, ["new-q7x", "renamed-q7x", "Ωmega-q7x"]);
    // Memory picks the page's rows itself when the database sorts byte by byte (its own server
    // runs with the C collation) and every candidate is sure.
    let c: String = sqlx::query_scalar("SELECT datcollate::text FROM pg_database WHERE datname = current_database()")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let bulk = memory.narrow(&Filter::Fuzzy("b0043".into())).unwrap();
    assert_eq!(bulk.bytewise, c == "C" || c == "POSIX", "{c}");
    if bulk.bytewise {
        let page = bulk.page(&PageAt::First, false, 3).expect("memory knows the page");
        let names: Vec<String> =
            sqlx::query_scalar("SELECT hostname FROM edge.host WHERE id = ANY($1) ORDER BY hostname")
                .bind(&page)
                .fetch_all(&db.pool)
                .await
                .unwrap();
        assert_eq!(names, ["bulk-00043", "bulk-00143", "bulk-00243"]);
    }
    let gone = Query { filter: Filter::Exact("bulk-00008".into()), ..Query::new(e) };
    assert_eq!(memory.narrow(&gone.filter).unwrap().ids, Vec::<uuid::Uuid>::new());
}

#[tokio::test]
async fn a_light_page_has_the_full_pages_rows_order_and_total() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 13, Utc::now(), |_| {}).await.unwrap();
    for (entity, filter, costly) in [
        (Entity::Stacks, "e", &["AGENTS", "ROUTES", "STATE", "DONE", "PROGRESS"][..]),
        (Entity::Agents, "a", &["STACKS", "ROUTES", "PENDING", "LAST EVENT", "FAIL 1H"][..]),
    ] {
        let columns = listing::columns(entity);
        for descending in [false, true] {
            let q = Query { filter: Filter::Fuzzy(filter.into()), descending, ..Query::new(entity) };
            let full = listing::page(&db.pool, entity, &q, &PageAt::First, 25).await.unwrap();
            let light = listing::page_light(&db.pool, entity, &q, &PageAt::First, 25, None).await.unwrap().unwrap();
            assert!(light.light && !full.light && full.total > 25, "{entity:?}");
            assert_eq!((light.total, light.rows.len()), (full.total, full.rows.len()), "{entity:?}");
            for (l, f) in light.rows.iter().zip(&full.rows) {
                assert_eq!(l.cursor, f.cursor, "{entity:?}: same rows, same order");
                for (i, title) in columns.iter().enumerate() {
                    let expected = if costly.contains(title) { "…" } else { f.cells[i].as_str() };
                    assert_eq!(l.cells[i], expected, "{entity:?} {title}");
                }
            }
        }
        // Sorted by a rollup column, only the full page can order the rows.
        let by_rollup = columns.iter().position(|c| *c == costly[0]).unwrap();
        let q = Query { sort: by_rollup, ..Query::new(entity) };
        assert!(!listing::has_light(entity, &q));
        assert_eq!(listing::page_light(&db.pool, entity, &q, &PageAt::First, 5, None).await.unwrap(), None);
    }
}

//! Keyset pages: walking forward and backward gives the whole list in one order, no row twice.

use chrono::Utc;
use fleetdeck::import::demo::{self, Scale};
use fleetdeck::service::listing::{self, Entity, PageAt};
use fleetdeck::testing::TestDb;

#[tokio::test]
async fn pages_walk_the_whole_list_both_ways_for_every_pane() {
    let db = TestDb::new().await;
    demo::seed(&db.pool, Scale::Small, 5, Utc::now(), |_| {}).await.unwrap();
    for entity in [Entity::Packages, Entity::Hosts, Entity::Stacks, Entity::Executions] {
        let all = listing::page(&db.pool, entity, &PageAt::First, 100_000).await.unwrap();
        assert!(all.total > 30, "{entity:?}");
        assert_eq!(all.rows.len() as i64, all.total, "{entity:?}");
        assert_eq!(all.rows[0].cells.len(), listing::columns(entity).len());

        let mut forward = Vec::new();
        let mut page = listing::page(&db.pool, entity, &PageAt::First, 37).await.unwrap();
        while !page.rows.is_empty() {
            let last = page.rows.last().unwrap().cursor.clone();
            forward.extend(page.rows);
            page = listing::page(&db.pool, entity, &PageAt::After(last), 37).await.unwrap();
        }
        assert_eq!(forward, all.rows, "{entity:?} forward");

        let mut backward = Vec::new();
        let mut page = listing::page(&db.pool, entity, &PageAt::Last, 41).await.unwrap();
        while !page.rows.is_empty() {
            let first = page.rows[0].cursor.clone();
            backward.splice(0..0, page.rows);
            page = listing::page(&db.pool, entity, &PageAt::Before(first), 41).await.unwrap();
        }
        assert_eq!(backward, all.rows, "{entity:?} backward");

        let middle = all.rows[all.rows.len() / 2].clone();
        let from = listing::page(&db.pool, entity, &PageAt::From(middle.cursor.clone()), 3).await.unwrap();
        assert_eq!(from.rows[0], middle, "{entity:?} from");
    }
    // Executions are newest first.
    let page = listing::page(&db.pool, Entity::Executions, &PageAt::First, 50).await.unwrap();
    let started: Vec<&String> = page.rows.iter().map(|r| &r.cells[3]).collect();
    let mut sorted = started.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(started, sorted);
}

#[tokio::test]
async fn an_empty_list_has_no_rows_and_a_zero_total() {
    let db = TestDb::new().await;
    let page = listing::page(&db.pool, Entity::Hosts, &PageAt::Last, 10).await.unwrap();
    assert!(page.rows.is_empty());
    assert_eq!(page.total, 0);
}

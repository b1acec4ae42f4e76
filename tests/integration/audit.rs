//! fleetdeck.audit_log through the service layer.

use fleetdeck::service::audit::{self, Entry, Outcome};
use fleetdeck::service::Actor;
use fleetdeck::testing::TestDb;

use crate::fixtures::*;

#[tokio::test]
async fn records_who_did_what_and_is_append_only() {
    let db = TestDb::new().await;
    let actor = Actor { label: "os:tester".into(), user_id: None };
    let mut tx = db.pool.begin().await.unwrap();
    let entry = Entry {
        verb: "pause_execution",
        target_table: "platform.workflow_executions",
        target_id: Some("e-1".into()),
        from_state: Some("running".into()),
        to_state: Some("paused".into()),
        reason: Some("maintenance".into()),
        outcome: Outcome::Ok,
        error: None,
    };
    let id = audit::record(&mut tx, &actor, &entry).await.unwrap();
    tx.commit().await.unwrap();
    let conflict = Entry { outcome: Outcome::Conflict, error: Some("now cancelled".into()), ..entry.clone() };
    let mut tx = db.pool.begin().await.unwrap();
    audit::record(&mut tx, &actor, &conflict).await.unwrap();
    tx.commit().await.unwrap();

    let rows = audit::for_target(&db.pool, "platform.workflow_executions", "e-1", 10).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].outcome, "conflict", "newest first");
    assert_eq!(rows[1].id, id);
    assert_eq!(rows[1].actor, "os:tester");
    assert_eq!(rows[1].from_state.as_deref(), Some("running"));
    assert_eq!(rows[1].reason.as_deref(), Some("maintenance"));

    let err = sqlx::query("UPDATE fleetdeck.audit_log SET outcome = 'ok'").execute(&db.pool).await.unwrap_err();
    assert!(db_message(err).contains("append-only"));
    let err = sqlx::query("DELETE FROM fleetdeck.audit_log").execute(&db.pool).await.unwrap_err();
    assert!(db_message(err).contains("append-only"));
}

#[tokio::test]
async fn a_user_acting_through_rls_is_recorded_with_their_id() {
    let db = TestDb::new().await;
    let alice = user(&db.pool, "alice@example.com").await;
    let as_alice = db.pool_as(alice).await;
    let actor = Actor::user("alice@example.com", alice);
    let mut conn = as_alice.begin().await.unwrap();
    let entry = Entry {
        verb: "cancel_execution",
        target_table: "platform.workflow_executions",
        target_id: Some("e-2".into()),
        from_state: None,
        to_state: None,
        reason: None,
        outcome: Outcome::Refused,
        error: Some("viewer".into()),
    };
    audit::record(&mut conn, &actor, &entry).await.unwrap();
    conn.commit().await.unwrap();
    let (label, uid): (String, Option<uuid::Uuid>) =
        sqlx::query_as("SELECT actor, actor_user_id FROM fleetdeck.audit_log").fetch_one(&db.pool).await.unwrap();
    assert_eq!(label, "alice@example.com");
    assert_eq!(uid, Some(alice));
}

//! Seed 001: constraints, the owner rule, the execution state machine and row-level security.

use fleetdeck::domain::execution::ExecutionStatus;
use fleetdeck::testing::TestDb;

use crate::fixtures::*;

#[tokio::test]
async fn container_resources_must_match_the_tier() {
    let db = TestDb::new().await;
    let u = user(&db.pool, "a@example.com").await;
    let a = agent(&db.pool, "bot", "user", u).await;
    let insert = |tier: &'static str, cpu: i32, mem: i32, net: &'static str| {
        let pool = db.pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO platform.container_resources (agent_id, subscription_tier, cpu_limit, memory_limit_mb, network_isolation) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(a)
            .bind(tier)
            .bind(cpu)
            .bind(mem)
            .bind(net)
            .execute(&pool)
            .await
        }
    };
    insert("basic", 1, 2048, "shared").await.unwrap();
    insert("pro", 4, 8192, "shared").await.unwrap();
    insert("enterprise", 16, 32768, "isolated").await.unwrap();
    let err = insert("basic", 2, 2048, "shared").await.unwrap_err();
    assert!(db_message(err).contains("check_resource_limits"));
    let err = insert("pro", 4, 8192, "isolated").await.unwrap_err();
    assert!(db_message(err).contains("check_network_isolation"));
    let err = insert("enterprise", 16, 32768, "shared").await.unwrap_err();
    assert!(db_message(err).contains("check_network_isolation"));
}

#[tokio::test]
async fn an_agent_whose_owner_does_not_exist_is_rejected_naming_the_owner() {
    let db = TestDb::new().await;
    let ghost = uuid::Uuid::new_v4();
    let err = sqlx::query(
        "INSERT INTO platform.agents (name, owner_type, owner_id, framework, agent_type) VALUES ('x', 'user', $1, 'n8n', 'visual')",
    )
    .bind(ghost)
    .execute(&db.pool)
    .await
    .unwrap_err();
    let msg = db_message(err);
    assert!(msg.contains(&ghost.to_string()) && msg.contains("no user has that id"), "{msg}");

    // A user id is not an organization.
    let u = user(&db.pool, "a@example.com").await;
    let err = sqlx::query(
        "INSERT INTO platform.agents (name, owner_type, owner_id, framework, agent_type) VALUES ('x', 'organization', $1, 'n8n', 'visual')",
    )
    .bind(u)
    .execute(&db.pool)
    .await
    .unwrap_err();
    assert!(db_message(err).contains("no organization has that id"));

    // Moving an existing agent to a missing owner is refused as well.
    let a = agent(&db.pool, "bot", "user", u).await;
    let err = sqlx::query("UPDATE platform.agents SET owner_id = $2 WHERE id = $1")
        .bind(a)
        .bind(ghost)
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert!(db_message(err).contains(&ghost.to_string()));

    let o = organization(&db.pool, "acme").await;
    agent(&db.pool, "org-bot", "organization", o).await;
}

#[tokio::test]
async fn the_seeds_check_lists_and_defaults_hold() {
    let db = TestDb::new().await;
    let u = user(&db.pool, "a@example.com").await;
    let a = agent(&db.pool, "bot", "user", u).await;
    let (status, version): (String, String) =
        sqlx::query_as("SELECT status, version FROM platform.agents WHERE id = $1")
            .bind(a)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), version.as_str()), ("draft", "1.0.0"));
    for sql in [
        "UPDATE platform.agents SET framework = 'autogen' WHERE id = $1",
        "UPDATE platform.agents SET agent_type = 'hybrid' WHERE id = $1",
        "UPDATE platform.agents SET status = 'running' WHERE id = $1",
    ] {
        assert!(sqlx::query(sql).bind(a).execute(&db.pool).await.is_err(), "{sql}");
    }
    let mi: (String, String) = sqlx::query_as(
        "INSERT INTO platform.marketplace_integrations (agent_id) VALUES ($1) RETURNING marketplace_name, status",
    )
    .bind(a)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(mi, ("hyphrki".to_string(), "pending".to_string()));
    let wf = workflow(&db.pool, a).await;
    let e: (String, i32, i32) = sqlx::query_as(
        "INSERT INTO platform.workflow_executions (workflow_id, agent_id, correlation_id) VALUES ($1, $2, gen_random_uuid()) \
         RETURNING status, retry_count, max_retries",
    )
    .bind(wf)
    .bind(a)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(e, ("queued".to_string(), 0, 3));
    let o = organization(&db.pool, "acme").await;
    let err = sqlx::query(
        "INSERT INTO platform.organization_members (organization_id, user_id, role) VALUES ($1, $2, 'guest')",
    )
    .bind(o)
    .bind(u)
    .execute(&db.pool)
    .await
    .unwrap_err();
    assert!(db_message(err).contains("organization_members_role_check"));
}

#[tokio::test]
async fn every_execution_gets_its_own_correlation_id() {
    let db = TestDb::new().await;
    let u = user(&db.pool, "a@example.com").await;
    let a = agent(&db.pool, "bot", "user", u).await;
    let wf = workflow(&db.pool, a).await;
    let c = uuid::Uuid::new_v4();
    let insert = "INSERT INTO platform.workflow_executions (workflow_id, agent_id, correlation_id) VALUES ($1, $2, $3)";
    sqlx::query(insert).bind(wf).bind(a).bind(c).execute(&db.pool).await.unwrap();
    let err = sqlx::query(insert).bind(wf).bind(a).bind(c).execute(&db.pool).await.unwrap_err();
    assert!(db_message(err).contains("workflow_executions_correlation_id_key"));
}

#[tokio::test]
async fn the_database_enforces_exactly_the_domain_state_machine() {
    let db = TestDb::new().await;
    let u = user(&db.pool, "a@example.com").await;
    let a = agent(&db.pool, "bot", "user", u).await;
    let wf = workflow(&db.pool, a).await;
    for from in ExecutionStatus::ALL {
        for to in ExecutionStatus::ALL {
            if from == to {
                continue;
            }
            let e = execution(&db.pool, wf, a, from.as_str()).await;
            let result = sqlx::query("UPDATE platform.workflow_executions SET status = $2 WHERE id = $1")
                .bind(e)
                .bind(to.as_str())
                .execute(&db.pool)
                .await;
            assert_eq!(result.is_ok(), from.can_become(to), "{from} -> {to}: {result:?}");
            if let Err(err) = result {
                let msg = db_message(err);
                assert!(msg.contains(&format!("cannot go from {from} to {to}")), "{msg}");
            }
        }
    }
}

#[tokio::test]
async fn running_to_completed_is_accepted_and_completed_to_running_rejected() {
    let db = TestDb::new().await;
    let u = user(&db.pool, "a@example.com").await;
    let a = agent(&db.pool, "bot", "user", u).await;
    let wf = workflow(&db.pool, a).await;
    let e = execution(&db.pool, wf, a, "running").await;
    sqlx::query("UPDATE platform.workflow_executions SET status = 'completed', completed_at = now() WHERE id = $1")
        .bind(e)
        .execute(&db.pool)
        .await
        .unwrap();
    let err = sqlx::query("UPDATE platform.workflow_executions SET status = 'running' WHERE id = $1")
        .bind(e)
        .execute(&db.pool)
        .await
        .unwrap_err();
    let sqlx::Error::Database(d) = err else { panic!("expected a database error") };
    assert_eq!(d.code().as_deref(), Some("23514"));
    assert_eq!(d.constraint(), Some("workflow_executions_status_transition"));
    assert!(d.message().contains("cannot go from completed to running"));
    // Other columns of a final execution may still change (e.g. logs arriving late).
    sqlx::query("UPDATE platform.workflow_executions SET status_message = 'done' WHERE id = $1")
        .bind(e)
        .execute(&db.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn row_level_security_shows_a_user_their_own_and_their_organizations_rows() {
    let db = TestDb::new().await;
    let alice = user(&db.pool, "alice@example.com").await;
    let bob = user(&db.pool, "bob@example.com").await;
    let acme = organization(&db.pool, "acme").await;
    let globex = organization(&db.pool, "globex").await;
    member(&db.pool, acme, alice, "member").await;
    member(&db.pool, globex, bob, "owner").await;
    let alice_agent = agent(&db.pool, "alice-bot", "user", alice).await;
    let acme_agent = agent(&db.pool, "acme-bot", "organization", acme).await;
    let bob_agent = agent(&db.pool, "bob-bot", "user", bob).await;
    let globex_agent = agent(&db.pool, "globex-bot", "organization", globex).await;
    for a in [alice_agent, acme_agent, bob_agent, globex_agent] {
        let wf = workflow(&db.pool, a).await;
        execution(&db.pool, wf, a, "running").await;
    }

    let as_alice = db.pool_as(alice).await;
    let uid: Option<uuid::Uuid> = sqlx::query_scalar("SELECT auth.uid()").fetch_one(&as_alice).await.unwrap();
    assert_eq!(uid, Some(alice));
    let role: String = sqlx::query_scalar("SELECT current_user::text").fetch_one(&as_alice).await.unwrap();
    assert_eq!(role, "authenticated");
    // The role owns none of the tables and cannot bypass row-level security, so the policies
    // bind it even though the connecting role (a superuser here) could bypass them.
    let (owns, bypass, superuser): (i64, bool, bool) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = 'platform' AND pg_get_userbyid(c.relowner) = current_user), \
                r.rolbypassrls, r.rolsuper FROM pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(&as_alice)
    .await
    .unwrap();
    assert_eq!((owns, bypass, superuser), (0, false, false));

    let mut agents: Vec<String> =
        sqlx::query_scalar("SELECT name FROM platform.agents").fetch_all(&as_alice).await.unwrap();
    agents.sort();
    assert_eq!(agents, vec!["acme-bot", "alice-bot"]);
    let workflows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM platform.workflows").fetch_one(&as_alice).await.unwrap();
    assert_eq!(workflows, 2);
    let executions: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT agent_id FROM platform.workflow_executions").fetch_all(&as_alice).await.unwrap();
    assert_eq!(executions.len(), 2);
    assert!(executions.iter().all(|a| *a == alice_agent || *a == acme_agent));
    let users: Vec<String> = sqlx::query_scalar("SELECT email FROM platform.users").fetch_all(&as_alice).await.unwrap();
    assert_eq!(users, vec!["alice@example.com"]);
    let orgs: Vec<String> =
        sqlx::query_scalar("SELECT slug FROM platform.organizations").fetch_all(&as_alice).await.unwrap();
    assert_eq!(orgs, vec!["acme"]);

    // Writes are filtered the same way: bob's executions cannot be touched by alice.
    let touched = sqlx::query("UPDATE platform.workflow_executions SET status = 'paused' WHERE agent_id = $1")
        .bind(bob_agent)
        .execute(&as_alice)
        .await
        .unwrap();
    assert_eq!(touched.rows_affected(), 0);

    // Secrets of the cloud schema are not readable by the role.
    let err = sqlx::query("SELECT provider_credentials FROM cloud.providers").fetch_all(&as_alice).await.unwrap_err();
    assert!(db_message(err).contains("permission denied"));
    sqlx::query("SELECT id, provider FROM cloud.providers").fetch_all(&as_alice).await.unwrap();
    assert!(sqlx::query("SELECT * FROM cloud.cred").fetch_all(&as_alice).await.is_err());

    // The operator (connecting role) sees everything.
    let all: i64 = sqlx::query_scalar("SELECT count(*) FROM platform.agents").fetch_one(&db.pool).await.unwrap();
    assert_eq!(all, 4);
}

/// The database itself refuses a viewer's writes (migration 19): an organisation's executions,
/// workflows and agents for a viewer of it, and the shared fleet for a user who is nobody's
/// owner, admin or member; a member's writes go through. Key hashes cannot be read at all.
#[tokio::test]
async fn the_database_refuses_a_viewers_writes_and_hides_key_hashes() {
    let db = TestDb::new().await;
    let viewer = user(&db.pool, "viewer@acme.example").await;
    let member_id = user(&db.pool, "member@acme.example").await;
    let acme = organization(&db.pool, "acme").await;
    member(&db.pool, acme, viewer, "viewer").await;
    member(&db.pool, acme, member_id, "member").await;
    let agent_id = agent(&db.pool, "acme-bot", "organization", acme).await;
    let wf = workflow(&db.pool, agent_id).await;
    let exec = execution(&db.pool, wf, agent_id, "running").await;
    let generator_id = generator(&db.pool, "ci").await;
    let cluster = cluster_agent(&db.pool, "edge-1", "lab").await;
    sqlx::query("UPDATE broker.agents SET pak_hash = $1").bind(sha256_hex("pak")).execute(&db.pool).await.unwrap();

    let as_viewer = db.pool_as(viewer).await;
    let refused = [
        ("UPDATE platform.workflow_executions SET status = 'paused' WHERE id = $1", "viewers of acme may only read executions"),
        (
            "INSERT INTO platform.workflow_executions (workflow_id, agent_id, status) \
             SELECT workflow_id, agent_id, 'queued' FROM platform.workflow_executions WHERE id = $1",
            "viewers of acme may only read executions",
        ),
        ("DELETE FROM platform.workflow_executions WHERE id = $1", "viewers of acme may only read executions"),
        ("UPDATE platform.workflows SET name = 'x' WHERE id <> $1", "viewers of acme may only read workflows"),
        ("UPDATE platform.agents SET name = 'x' WHERE id <> $1", "viewers of acme may only read agents"),
        // The shared fleet: refused even when no row would change.
        ("UPDATE broker.agents SET status = 'ACTIVE' WHERE id <> $1", "viewers may only read broker.agents"),
        ("UPDATE edge.host SET status = 'Active' WHERE id::text = $1::text", "viewers may only read edge.host"),
        ("DELETE FROM broker.stacks WHERE id = $1", "viewers may only read broker.stacks"),
        // Memberships are not the role's to change at all.
        (
            "INSERT INTO platform.organization_members (organization_id, user_id, role) \
             SELECT organization_id, user_id, 'owner' FROM platform.organization_members WHERE user_id::text <> $1::text",
            "permission denied for table organization_members",
        ),
    ];
    for (sql, message) in refused {
        let err = sqlx::query(sql).bind(exec).execute(&as_viewer).await.unwrap_err();
        let got = db_message(err);
        assert!(got.contains(message), "{sql}: {got}");
    }
    let status: String = sqlx::query_scalar("SELECT status FROM platform.workflow_executions WHERE id = $1")
        .bind(exec)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(status, "running");

    // A member of the organisation may act, on its executions and on the shared fleet.
    let as_member = db.pool_as(member_id).await;
    let paused = sqlx::query("UPDATE platform.workflow_executions SET status = 'paused' WHERE id = $1")
        .bind(exec)
        .execute(&as_member)
        .await
        .unwrap();
    assert_eq!(paused.rows_affected(), 1);
    let activated = sqlx::query("UPDATE broker.agents SET status = 'ACTIVE' WHERE id = $1")
        .bind(cluster)
        .execute(&as_member)
        .await
        .unwrap();
    assert_eq!(activated.rows_affected(), 1);

    // Key hashes: no platform user can read them; every other column can be read.
    for pool in [&as_viewer, &as_member] {
        for sql in [
            "SELECT pak_hash FROM broker.agents",
            "SELECT * FROM broker.agents",
            "SELECT api_key_hash FROM broker.generators",
        ] {
            let got = db_message(sqlx::query(sql).fetch_all(pool).await.unwrap_err());
            assert!(got.contains("permission denied"), "{sql}: {got}");
        }
        let name: String = sqlx::query_scalar("SELECT name FROM broker.agents WHERE id = $1")
            .bind(cluster)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(name, "edge-1");
        let name: String = sqlx::query_scalar("SELECT name FROM broker.generators WHERE id = $1")
            .bind(generator_id)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(name, "ci");
    }
}

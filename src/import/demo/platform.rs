//! The demo's AI-agent platform (seed 001): users, organisations and members in every role,
//! agents with their container resources and marketplace listings, workflows, and executions in
//! every status with logs, errors, metrics and retry chains.

use chrono::Duration;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::gen::*;
use super::{Sizes, Tally};
use crate::domain::execution::ExecutionStatus;
use crate::service::bulk::Copy;
use crate::service::Result;

const TIERS: [&str; 3] = ["basic", "pro", "enterprise"];
const FRAMEWORKS: [&str; 4] = ["langgraph", "agno", "crewai", "n8n"];

/// Users whose names the README and tests can rely on: (email, first, last).
pub const KNOWN_USERS: [(&str, &str, &str); 3] = [
    ("alice@acme.example", "Alice", "Owner"),
    ("bob@globex.example", "Bob", "Member"),
    ("vera@acme.example", "Vera", "Viewer"),
];

fn resources(tier: &str) -> (i32, i32, &'static str) {
    match tier {
        "basic" => (1, 2048, "shared"),
        "pro" => (4, 8192, "shared"),
        _ => (16, 32768, "isolated"),
    }
}

struct Agent {
    id: Uuid,
    framework: &'static str,
    kind: &'static str,
}

pub async fn platform(g: &mut Gen, conn: &mut PgConnection, sizes: &Sizes, tally: &mut Tally) -> Result<()> {
    // Users.
    let mut users: Vec<(Uuid, &'static str)> = Vec::with_capacity(sizes.users);
    let mut copy = Copy::start(
        conn,
        "platform.users",
        &[
            "id",
            "email",
            "password_hash",
            "first_name",
            "last_name",
            "subscription_tier",
            "created_at",
            "last_login_at",
            "is_active",
            "email_verified",
        ],
    )
    .await?;
    for i in 0..sizes.users {
        let id = g.uuid();
        let (email, first, last) = match KNOWN_USERS.get(i) {
            Some((e, f, l)) => (e.to_string(), f.to_string(), l.to_string()),
            None => {
                let (f, l) = (*g.pick(FIRST), *g.pick(LAST));
                (
                    format!("{}.{}.{i}@{}.example", f.to_lowercase(), l.to_lowercase(), g.pick(COMPANIES)),
                    f.into(),
                    l.into(),
                )
            }
        };
        let tier = TIERS[g.weighted(&[50, 35, 15])];
        copy.rows
            .uuid(id)
            .text(&email)
            .text(&format!("$demo$not-a-real-hash${}", g.hex(8)))
            .text(&first)
            .text(&last)
            .text(tier)
            .ts(g.ago(2_592_000..63_072_000))
            .ts(g.ago(0..2_592_000))
            .boolean(i < KNOWN_USERS.len() || !g.chance(0.03))
            .boolean(i < KNOWN_USERS.len() || g.chance(0.9));
        copy.rows.end();
        copy.maybe_flush().await?;
        users.push((id, tier));
    }
    tally.add("platform.users", copy.finish().await?);

    // Organisations.
    let mut orgs: Vec<(Uuid, &'static str)> = Vec::with_capacity(sizes.orgs);
    let mut copy =
        Copy::start(conn, "platform.organizations", &["id", "name", "slug", "subscription_tier", "is_active"]).await?;
    for i in 0..sizes.orgs {
        let id = g.uuid();
        let company = COMPANIES[i % COMPANIES.len()];
        let (name, slug) = if i < COMPANIES.len() {
            let mut n = company.to_string();
            n[..1].make_ascii_uppercase();
            (format!("{n} Corp"), company.to_string())
        } else {
            (format!("{} {}", company, i), format!("{company}-{i}"))
        };
        let tier = TIERS[g.weighted(&[20, 45, 35])];
        copy.rows.uuid(id).text(&name).text(&slug).text(tier).boolean(!g.chance(0.02));
        copy.rows.end();
        orgs.push((id, tier));
    }
    tally.add("platform.organizations", copy.finish().await?);

    // Members: every role; the known users in fixed places (acme = orgs[0], globex = orgs[1]).
    let mut copy =
        Copy::start(conn, "platform.organization_members", &["id", "organization_id", "user_id", "role"]).await?;
    let mut pairs = std::collections::HashSet::new();
    let fixed = [(0usize, 0usize, "owner"), (1, 1, "member"), (2, 0, "viewer")];
    for (u, o, role) in fixed {
        if u < users.len() && o < orgs.len() && pairs.insert((o, u)) {
            copy.rows.uuid(g.uuid()).uuid(orgs[o].0).uuid(users[u].0).text(role);
            copy.rows.end();
        }
    }
    for (o, _) in orgs.iter().enumerate() {
        let owner = g.index(users.len());
        if pairs.insert((o, owner)) {
            copy.rows.uuid(g.uuid()).uuid(orgs[o].0).uuid(users[owner].0).text("owner");
            copy.rows.end();
        }
    }
    for (u, user) in users.iter().enumerate().skip(KNOWN_USERS.len()) {
        for _ in 0..g.int(0..3) {
            let o = g.index(orgs.len());
            if pairs.insert((o, u)) {
                let role = ["owner", "admin", "member", "viewer"][g.weighted(&[5, 15, 60, 20])];
                copy.rows.uuid(g.uuid()).uuid(orgs[o].0).uuid(user.0).text(role);
                copy.rows.end();
            }
        }
        copy.maybe_flush().await?;
    }
    tally.add("platform.organization_members", copy.finish().await?);

    // AI agents, one container_resources row each (matching the owner's tier), and listings.
    let mut agents: Vec<Agent> = Vec::with_capacity(sizes.ai_agents);
    let mut tiers: Vec<&'static str> = Vec::with_capacity(sizes.ai_agents);
    let mut copy = Copy::start(
        conn,
        "platform.agents",
        &[
            "id",
            "name",
            "description",
            "owner_type",
            "owner_id",
            "framework",
            "agent_type",
            "status",
            "version",
            "created_at",
            "deployed_at",
            "container_id",
            "resource_limits",
            "metadata",
        ],
    )
    .await?;
    for i in 0..sizes.ai_agents {
        let id = g.uuid();
        // The known users own a few agents each, so --as shows something.
        let (owner_type, owner, tier) = if i < 6 {
            ("user", users[i % KNOWN_USERS.len().min(users.len())].0, users[i % KNOWN_USERS.len().min(users.len())].1)
        } else if g.chance(0.4) {
            let u = users[g.index(users.len())];
            ("user", u.0, u.1)
        } else {
            let o = orgs[if i < 12 { i % 2 } else { g.index(orgs.len()) }];
            ("organization", o.0, o.1)
        };
        let framework = *g.pick(&FRAMEWORKS);
        let kind = if framework == "n8n" || g.chance(0.2) { "visual" } else { "code" };
        let status = ["active", "draft", "inactive", "error"][g.weighted(&[60, 15, 15, 10])];
        let app = *g.pick(APPS);
        let name = format!("{app}-{}-agent-{i}", g.pick(TEAMS));
        copy.rows
            .uuid(id)
            .text(&name)
            .text(&format!("{framework} agent that handles {app} tasks"))
            .text(owner_type)
            .uuid(owner)
            .text(framework)
            .text(kind)
            .text(status)
            .text(&format!("{}.{}.{}", g.int(1..4), g.int(0..12), g.int(0..20)))
            .ts(g.ago(2_592_000..31_536_000))
            .opt_ts((status == "active").then(|| g.ago(0..2_592_000)))
            .opt((status == "active").then(|| format!("ctr-{}", g.hex(6))).as_deref())
            .json(&json!({"max_tokens": *g.pick(&[4096, 8192, 32768]), "timeout_s": *g.pick(&[60, 300, 900])}))
            .json(&json!({"model": *g.pick(&["gpt-4o", "claude-3-5-sonnet", "llama-3.1-70b", "mistral-large"]), "tags": [app]}));
        copy.rows.end();
        copy.maybe_flush().await?;
        agents.push(Agent { id, framework, kind });
        tiers.push(tier);
    }
    tally.add("platform.agents", copy.finish().await?);

    let mut copy = Copy::start(
        conn,
        "platform.container_resources",
        &["id", "agent_id", "subscription_tier", "cpu_limit", "memory_limit_mb", "network_isolation"],
    )
    .await?;
    for (a, tier) in agents.iter().zip(&tiers) {
        let (cpu, mem, net) = resources(tier);
        copy.rows.uuid(g.uuid()).uuid(a.id).text(tier).num(cpu).num(mem).text(net);
        copy.rows.end();
        copy.maybe_flush().await?;
    }
    tally.add("platform.container_resources", copy.finish().await?);

    let mut copy = Copy::start(
        conn,
        "platform.marketplace_integrations",
        &[
            "id",
            "agent_id",
            "marketplace_name",
            "marketplace_agent_id",
            "status",
            "published_at",
            "unpublished_at",
            "usage_metrics",
        ],
    )
    .await?;
    for a in &agents {
        if !g.chance(0.3) {
            continue;
        }
        let status = ["published", "pending", "unpublished", "error"][g.weighted(&[60, 20, 10, 10])];
        let published = matches!(status, "published" | "unpublished").then(|| g.ago(86_400..15_552_000));
        copy.rows
            .uuid(g.uuid())
            .uuid(a.id)
            .text(if g.chance(0.8) { "hyphrki" } else { "agentverse" })
            .text(&format!("mkt-{}", g.hex(5)))
            .text(status)
            .opt_ts(published)
            .opt_ts((status == "unpublished").then(|| g.ago(0..86_400)))
            .json(&json!({"installs": g.int(0..5000), "rating": (g.float(3.0..5.0) * 10.0).round() / 10.0}));
        copy.rows.end();
    }
    tally.add("platform.marketplace_integrations", copy.finish().await?);

    // Workflows.
    let mut workflows: Vec<(Uuid, usize)> = Vec::with_capacity(sizes.workflows);
    let mut copy = Copy::start(
        conn,
        "platform.workflows",
        &[
            "id",
            "agent_id",
            "name",
            "description",
            "workflow_data",
            "workflow_type",
            "framework",
            "version",
            "is_active",
        ],
    )
    .await?;
    for i in 0..sizes.workflows {
        let a = if i < agents.len() { i } else { g.index(agents.len()) };
        let agent = &agents[a];
        let id = g.uuid();
        let steps = g.int(2..7);
        let nodes: Vec<_> = (0..steps)
            .map(|n| json!({"id": format!("n{n}"), "kind": *g.pick(&["llm", "tool", "branch", "http"])}))
            .collect();
        copy.rows
            .uuid(id)
            .uuid(agent.id)
            .text(&format!("{} flow {i}", g.pick(APPS)))
            .text("Generated demo workflow")
            .json(&json!({"nodes": nodes, "edges": steps - 1}))
            .text(agent.kind)
            .text(agent.framework)
            .text(&format!("1.{}.0", g.int(0..9)))
            .boolean(!g.chance(0.1));
        copy.rows.end();
        copy.maybe_flush().await?;
        workflows.push((id, a));
    }
    tally.add("platform.workflows", copy.finish().await?);

    executions(g, conn, sizes, &agents, &workflows, tally).await
}

const ERRORS: &[(&str, &str)] = &[
    ("TOOL_TIMEOUT", "tool http_get did not answer within 30s"),
    ("LLM_RATE_LIMIT", "model provider returned 429 Too Many Requests"),
    ("VALIDATION", "output did not match the schema: missing field 'summary'"),
    ("OOM", "container exceeded its memory limit (OOMKilled)"),
    ("UPSTREAM_5XX", "upstream service returned 503 Service Unavailable"),
];

/// The columns `execution_row` writes, in its order.
const EXECUTION_COLUMNS: &[&str] = &[
    "id",
    "workflow_id",
    "agent_id",
    "status",
    "status_message",
    "started_at",
    "completed_at",
    "paused_at",
    "resumed_at",
    "execution_data",
    "execution_logs",
    "error_message",
    "error_code",
    "retry_count",
    "max_retries",
    "resource_usage",
    "performance_metrics",
    "correlation_id",
    "parent_execution_id",
    "created_at",
];

async fn executions(
    g: &mut Gen,
    conn: &mut PgConnection,
    sizes: &Sizes,
    agents: &[Agent],
    workflows: &[(Uuid, usize)],
    tally: &mut Tally,
) -> Result<()> {
    use ExecutionStatus::*;
    let statuses = [Completed, Failed, Running, Queued, Pending, Paused, Cancelled, Timeout];
    let weights = [70, 8, 5, 4, 3, 2, 5, 3];
    // A million rows at the large scale: loaded as PostgreSQL loads fastest (BulkLoad).
    // A partition for every month the rows fall in (migration 31), and three ahead.
    sqlx::query("SELECT fleetdeck.ensure_execution_partitions($1::timestamptz - interval '31 days', 3)")
        .bind(g.now)
        .execute(&mut *conn)
        .await?;
    let load = crate::service::bulk::BulkLoad::begin(conn, "platform.workflow_executions").await?;
    let mut copy = Copy::start(conn, "platform.workflow_executions", EXECUTION_COLUMNS).await?;
    let mut written = 0usize;
    while written < sizes.executions {
        let (workflow, a) = workflows[g.index(workflows.len())];
        let agent = agents[a].id;
        let status = statuses[g.weighted(&weights)];
        // A failed or timed-out execution sometimes has a retry chain behind it.
        let chain = if matches!(status, Failed | Timeout) && g.chance(0.3) { g.int(1..4) as usize } else { 0 };
        let mut parent: Option<Uuid> = None;
        let mut started = g.ago(3_600..2_592_000);
        for link in 0..=chain {
            if written >= sizes.executions {
                break;
            }
            let last = link == chain;
            let st = if !last {
                if g.chance(0.5) {
                    Failed
                } else {
                    Timeout
                }
            } else if link > 0 {
                [Completed, Failed, Running, Queued][g.weighted(&[60, 20, 10, 10])]
            } else {
                status
            };
            let started_at = if matches!(st, Running | Paused) && last { g.ago(30..3_600) } else { started };
            let (id, completed_at) = execution_row(&mut copy.rows, g, workflow, agent, st, started_at, link, parent);
            copy.rows.end();
            written += 1;
            parent = Some(id);
            started = completed_at.unwrap_or(started_at) + Duration::seconds(g.int(5..600));
        }
        copy.maybe_flush().await?;
    }
    tally.add("platform.workflow_executions", copy.finish().await?);
    load.finish(conn).await?;
    archived_history(conn, g.now, sizes, agents, workflows, tally).await
}

/// Older history, already in the archive (as `fleetdeck archive` leaves it): executions that
/// ended 31 to 120 days ago, a twentieth as many as in the table, some failures with their
/// retry. The demo's archive schedule deletes those past 90 days. From a generator of its own,
/// so that the rest of the demo is the same with or without it.
async fn archived_history(
    conn: &mut PgConnection,
    now: chrono::DateTime<chrono::Utc>,
    sizes: &Sizes,
    agents: &[Agent],
    workflows: &[(Uuid, usize)],
    tally: &mut Tally,
) -> Result<()> {
    use ExecutionStatus::*;
    let mut h = Gen::new(0x0a5c_41fe, now);
    let columns = [EXECUTION_COLUMNS, &["archived_at"]].concat();
    let mut copy = Copy::start(conn, "platform.workflow_executions_archive", &columns).await?;
    let mut written = 0;
    while written < sizes.executions / 20 {
        let (workflow, a) = workflows[h.index(workflows.len())];
        let st = [Completed, Failed, Cancelled, Timeout][h.weighted(&[80, 10, 5, 5])];
        let started_at = h.ago(31 * 86_400..120 * 86_400);
        let (id, ended) = execution_row(&mut copy.rows, &mut h, workflow, agents[a].id, st, started_at, 0, None);
        copy.rows.ts(ended.unwrap_or(started_at) + Duration::days(30));
        copy.rows.end();
        written += 1;
        // Some failures were retried a few minutes later, and the retry completed.
        if st == Failed && h.chance(0.3) {
            let at = ended.unwrap_or(started_at) + Duration::seconds(h.int(60..900));
            let (_, done) = execution_row(&mut copy.rows, &mut h, workflow, agents[a].id, Completed, at, 1, Some(id));
            copy.rows.ts(done.unwrap_or(at) + Duration::days(30));
            copy.rows.end();
            written += 1;
        }
        copy.maybe_flush().await?;
    }
    tally.add("platform.workflow_executions_archive", copy.finish().await?);
    // Their ids, which the archive's rows (and a retry's parent) are known by (migration 31).
    sqlx::query(
        "INSERT INTO platform.execution_ids (id, correlation_id) \
         SELECT id, correlation_id FROM platform.workflow_executions_archive ON CONFLICT (id) DO NOTHING",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One execution's row, as the demo writes it: its id and when it ended.
#[allow(clippy::too_many_arguments)]
fn execution_row(
    rows: &mut crate::service::bulk::Rows,
    g: &mut Gen,
    workflow: Uuid,
    agent: Uuid,
    st: ExecutionStatus,
    started_at: chrono::DateTime<chrono::Utc>,
    link: usize,
    parent: Option<Uuid>,
) -> (Uuid, Option<chrono::DateTime<chrono::Utc>>) {
    use ExecutionStatus::*;
    let duration = Duration::seconds(g.int(2..1_800));
    let completed_at = st.is_final().then(|| started_at + duration);
    let paused_at = (st == Paused).then(|| started_at + Duration::seconds(g.int(1..30)));
    let id = g.uuid();
    let mut logs = vec![json!({"ts": started_at.to_rfc3339(), "level": "info", "message": "execution started"})];
    if st != Queued && st != Pending {
        logs.push(json!({"ts": (started_at + Duration::seconds(1)).to_rfc3339(), "level": "info", "message": format!("step {} done", g.pick(&["plan", "fetch", "summarise", "classify"]))}));
    }
    let (err_code, err_msg) = if matches!(st, Failed | Timeout) {
        let (c, m) =
            if st == Timeout { ("TIMEOUT", "execution exceeded its 30 minute limit") } else { *g.pick(ERRORS) };
        logs.push(json!({"ts": completed_at.unwrap_or(started_at).to_rfc3339(), "level": "error", "message": m}));
        (Some(c), Some(m))
    } else {
        (None, None)
    };
    rows
        .uuid(id)
        .uuid(workflow)
        .uuid(agent)
        .text(st.as_str())
        .opt(match st {
            Paused => Some("paused by operator"),
            Cancelled => Some("cancelled by user"),
            Queued => Some("waiting for a worker"),
            _ => None,
        })
        .ts(started_at)
        .opt_ts(completed_at)
        .opt_ts(paused_at)
        .null()
        .json(&json!({"input": {"ticket": g.int(1000..99999)}}))
        .json(&serde_json::Value::Array(logs))
        .opt(err_msg)
        .opt(err_code)
        .num(link)
        .num(3)
        .json(&json!({"cpu_seconds": g.int(1..900), "memory_mb": g.int(64..4096)}))
        .json(&json!({"duration_ms": duration.num_milliseconds(), "llm_calls": g.int(0..40), "tokens": g.int(0..200_000)}))
        .uuid(g.uuid())
        .opt_uuid(parent)
        .ts(started_at);
    (id, completed_at)
}

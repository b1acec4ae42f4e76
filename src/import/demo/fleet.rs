//! The demo's edge fleet (seed 000: orchestrators, sites, hosts) and broker (seed 002: generators,
//! cluster agents, stacks, deployment objects, events).

use std::collections::HashMap;

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use super::gen::*;
use super::{Sizes, Tally};
use crate::service::bulk::Copy;
use crate::service::Result;

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub async fn edge(g: &mut Gen, conn: &mut PgConnection, sizes: &Sizes, tally: &mut Tally) -> Result<()> {
    let mut orchestrators = Vec::with_capacity(sizes.orchestrators);
    let mut copy = Copy::start(conn, "edge.orchestrator", &["id", "name", "type", "region", "api_endpoint"]).await?;
    for i in 0..sizes.orchestrators {
        let id = g.uuid();
        let region = *g.pick(REGIONS);
        let kind = if i == 0 { "central" } else { "local" };
        let name = if i == 0 { "central".to_string() } else { format!("{region}-local-{i}") };
        copy.rows
            .uuid(id)
            .text(&name)
            .text(kind)
            .text(region)
            .text(&format!("https://{name}.orchestrators.fleet.example:8443"));
        copy.rows.end();
        orchestrators.push(id);
    }
    tally.add("edge.orchestrator", copy.finish().await?);

    let mut sites = Vec::with_capacity(sizes.sites);
    let mut copy =
        Copy::start(conn, "edge.site", &["id", "site_id", "name", "description", "location", "orchestrator_id"])
            .await?;
    for i in 0..sizes.sites {
        let id = g.uuid();
        let city = *g.pick(CITIES);
        let kind = *g.pick(SITE_KINDS);
        let orchestrator =
            if orchestrators.len() > 1 { orchestrators[1 + i % (orchestrators.len() - 1)] } else { orchestrators[0] };
        copy.rows
            .uuid(id)
            .text(&format!("site-{i:05}"))
            .text(&format!("{city} {kind} {i}"))
            .text(&format!("Edge {kind} in {city}"))
            .text(city)
            .uuid(orchestrator);
        copy.rows.end();
        sites.push(id);
    }
    tally.add("edge.site", copy.finish().await?);

    let load = crate::service::bulk::BulkLoad::begin(conn, "edge.host").await?;
    let mut copy = Copy::start(
        conn,
        "edge.host",
        &["id", "host_id", "site_id", "hostname", "ip_address", "edge_url", "status", "last_heartbeat", "metadata"],
    )
    .await?;
    for i in 0..sizes.hosts {
        let site_index = g.index(sites.len());
        let hostname = format!("site-{site_index:05}-h{i:06}");
        let status = ["Active", "Inactive", "Unreachable"][g.weighted(&[90, 4, 6])];
        let heartbeat = match status {
            "Active" if g.chance(0.05) => g.ago(60..600),
            "Active" => g.ago(0..25),
            "Inactive" => g.ago(3_600..259_200),
            _ => g.ago(600..86_400),
        };
        let arch = ["amd64", "arm64", "riscv64"][g.weighted(&[70, 25, 5])];
        let mut peripherals = Vec::new();
        if g.chance(0.15) {
            peripherals.push(
                json!({"type": "gpu", "manufacturer": "NVIDIA", "model": *g.pick(&["T4", "A2", "L4", "Jetson Orin"])}),
            );
        }
        if g.chance(0.3) {
            peripherals.push(json!({"type": "camera"}));
        }
        if g.chance(0.1) {
            peripherals.push(json!({"type": "display"}));
        }
        let mut interfaces = vec![json!({"type": "ethernet"})];
        for (kind, p) in [("wifi", 0.4), ("cellular", 0.15), ("usb", 0.5), ("canbus", 0.05), ("bluetooth", 0.2)] {
            if g.chance(p) {
                interfaces.push(json!({"type": kind}));
            }
        }
        let metadata = json!({
            "architecture": arch,
            "cores": *g.pick(&[2, 4, 8, 16, 32]),
            "memory": format!("{}Gi", g.pick(&[4, 8, 16, 32, 64])),
            "storage": format!("{}Gi", g.pick(&[64, 128, 256, 512, 1024])),
            "os": *g.pick(&["Ubuntu 24.04", "Debian 12", "RHEL 9", "Flatcar"]),
            "peripherals": peripherals,
            "interfaces": interfaces,
        });
        let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        copy.rows
            .uuid(g.uuid())
            .uuid(g.uuid())
            .uuid(sites[site_index])
            .text(&hostname)
            .text(&ip)
            .text(&format!("https://{hostname}.edge.example:9443"))
            .text(status)
            .ts(heartbeat)
            .json(&metadata);
        copy.rows.end();
        copy.maybe_flush().await?;
    }
    tally.add("edge.host", copy.finish().await?);
    load.finish(conn).await?;
    Ok(())
}

struct Agent {
    id: Uuid,
    cluster: usize,
    team: usize,
    active: bool,
}

fn manifest(stack: &str, team: &str, app: &str, version: usize, replicas: i64) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {stack}\n  namespace: {team}\n  labels:\n    app: {stack}\n\
         spec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {stack}\n  template:\n    metadata:\n      \
         labels:\n        app: {stack}\n    spec:\n      containers:\n        - name: {app}\n          \
         image: registry.example.com/{team}/{app}:1.{version}.0\n          ports:\n            - containerPort: 8080\n          \
         resources:\n            requests:\n              cpu: 100m\n              memory: 128Mi\n---\napiVersion: v1\n\
         kind: Service\nmetadata:\n  name: {stack}\n  namespace: {team}\nspec:\n  selector:\n    app: {stack}\n  ports:\n    \
         - port: 80\n      targetPort: 8080\n"
    )
}

const FAILURES: &[&str] = &[
    "error validating data: ValidationError(Deployment.spec.template.spec.containers[0].resources): unknown field \"request\"",
    "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas",
    "admission webhook \"validate.kyverno.svc\" denied the request: image tag must not be latest",
    "namespaces \"payments\" not found",
    "Internal error occurred: failed calling webhook \"mservice.elbv2.k8s.aws\": context deadline exceeded",
    "the server could not find the requested resource (post deployments.apps)",
];

pub async fn broker(g: &mut Gen, conn: &mut PgConnection, sizes: &Sizes, tally: &mut Tally) -> Result<()> {
    // Generators.
    let mut generators = Vec::with_capacity(sizes.generators);
    let mut copy = Copy::start(
        conn,
        "broker.generators",
        &["id", "name", "description", "api_key_hash", "last_active_at", "is_active"],
    )
    .await?;
    for i in 0..sizes.generators {
        let id = g.uuid();
        let team = TEAMS[i % TEAMS.len()];
        let name = if i < TEAMS.len() { format!("{team}-ci") } else { format!("{team}-ci-{i}") };
        let secret = g.hex(16);
        copy.rows
            .uuid(id)
            .text(&name)
            .text(&format!("CI pipeline of the {team} team"))
            .text(&sha256_hex(&secret))
            .ts(g.ago(0..86_400))
            .boolean(!g.chance(0.05));
        copy.rows.end();
        generators.push(id);
    }
    tally.add("broker.generators", copy.finish().await?);

    // Cluster agents, with labels and annotations.
    let clusters: Vec<String> = (0..sizes.clusters)
        .map(|i| format!("{}-{}-{}", ENVS[i % ENVS.len()], REGIONS[(i / ENVS.len()) % REGIONS.len()], i))
        .collect();
    let mut agents = Vec::with_capacity(sizes.cluster_agents);
    let mut copy = Copy::start(
        conn,
        "broker.agents",
        &["id", "created_at", "name", "cluster_name", "last_heartbeat", "status", "pak_hash"],
    )
    .await?;
    for i in 0..sizes.cluster_agents {
        let id = g.uuid();
        let cluster = i % clusters.len();
        let active = !g.chance(0.06);
        let heartbeat = if !active {
            Some(g.ago(7_200..604_800))
        } else {
            match g.weighted(&[92, 5, 3]) {
                0 => Some(g.ago(0..55)),
                1 => Some(g.ago(61..290)),
                _ => Some(g.ago(301..86_400)),
            }
        };
        let secret = g.hex(16);
        copy.rows
            .uuid(id)
            .ts(g.ago(86_400..31_536_000))
            .text(&format!("agent-{i:05}"))
            .text(&clusters[cluster])
            .opt_ts(heartbeat)
            .text(if active { "ACTIVE" } else { "INACTIVE" })
            .text(&sha256_hex(&secret));
        copy.rows.end();
        copy.maybe_flush().await?;
        agents.push(Agent { id, cluster, team: g.index(TEAMS.len()), active });
    }
    tally.add("broker.agents", copy.finish().await?);

    let mut copy = Copy::start(conn, "broker.agent_labels", &["id", "agent_id", "label"]).await?;
    for a in &agents {
        let env = ENVS[a.cluster % ENVS.len()];
        let mut labels = vec![format!("env:{env}"), format!("cluster:{}", clusters[a.cluster])];
        if g.chance(0.1) {
            labels.push("gpu".to_string());
        }
        for l in labels {
            copy.rows.uuid(g.uuid()).uuid(a.id).text(&l);
            copy.rows.end();
        }
        copy.maybe_flush().await?;
    }
    tally.add("broker.agent_labels", copy.finish().await?);
    let mut copy = Copy::start(conn, "broker.agent_annotations", &["id", "agent_id", "key", "value"]).await?;
    for a in &agents {
        let region = REGIONS[(a.cluster / ENVS.len()) % REGIONS.len()];
        for (k, v) in [("team", TEAMS[a.team]), ("region", region)] {
            copy.rows.uuid(g.uuid()).uuid(a.id).text(k).text(v);
            copy.rows.end();
        }
        copy.maybe_flush().await?;
    }
    let mut written = copy.finish().await?;
    // Which edge site each cluster serves (the Marketplace deploys an app to a site's agents):
    // cluster i serves site i, wrapping round. No random draws, so the rest of the demo is as
    // it was.
    let mut copy = Copy::start(conn, "broker.agent_annotations", &["agent_id", "key", "value"]).await?;
    for a in &agents {
        copy.rows.uuid(a.id).text("site").text(&format!("site-{:05}", a.cluster % sizes.sites.max(1)));
        copy.rows.end();
        copy.maybe_flush().await?;
    }
    written += copy.finish().await?;
    tally.add("broker.agent_annotations", written);

    let mut by_cluster: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut by_team: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, a) in agents.iter().enumerate() {
        by_cluster.entry(a.cluster).or_default().push(i);
        by_team.entry(a.team).or_default().push(i);
    }

    // Stacks and how they reach agents.
    struct Stack {
        id: Uuid,
        name: String,
        team: usize,
        app: &'static str,
        generator: Uuid,
        reach: Vec<usize>,
    }
    let mut stacks = Vec::with_capacity(sizes.stacks);
    let mut labels =
        Copy::start(conn, "broker.stacks", &["id", "created_at", "name", "description", "generator_id"]).await?;
    let mut stack_labels: Vec<(Uuid, String)> = Vec::new();
    let mut stack_annotations: Vec<(Uuid, &str, String)> = Vec::new();
    let mut targets: Vec<(Uuid, Uuid)> = Vec::new();
    for i in 0..sizes.stacks {
        let id = g.uuid();
        let team = g.index(TEAMS.len());
        let app = *g.pick(APPS);
        let name = format!("{}-{app}-{i}", TEAMS[team]);
        let generator = generators[g.index(generators.len())];
        labels
            .rows
            .uuid(id)
            .ts(g.ago(864_000..31_536_000))
            .text(&name)
            .text(&format!("{app} of the {} team", TEAMS[team]))
            .uuid(generator);
        labels.rows.end();
        let mut reach: Vec<usize> = Vec::new();
        if g.chance(0.3) {
            let c = g.index(clusters.len());
            stack_labels.push((id, format!("cluster:{}", clusters[c])));
            reach.extend(by_cluster.get(&c).into_iter().flatten().copied());
        }
        if g.chance(0.05) {
            stack_annotations.push((id, "team", TEAMS[team].to_string()));
            reach.extend(by_team.get(&team).into_iter().flatten().copied());
        }
        if reach.is_empty() || g.chance(0.5) {
            for _ in 0..g.int(1..10) {
                let a = g.index(agents.len());
                if !targets.contains(&(agents[a].id, id)) {
                    targets.push((agents[a].id, id));
                    reach.push(a);
                }
            }
        }
        reach.sort_unstable();
        reach.dedup();
        stacks.push(Stack { id, name, team, app, generator, reach });
    }
    tally.add("broker.stacks", labels.finish().await?);
    let mut copy = Copy::start(conn, "broker.stack_labels", &["id", "stack_id", "label"]).await?;
    for (s, l) in &stack_labels {
        copy.rows.uuid(g.uuid()).uuid(*s).text(l);
        copy.rows.end();
    }
    tally.add("broker.stack_labels", copy.finish().await?);
    let mut copy = Copy::start(conn, "broker.stack_annotations", &["id", "stack_id", "key", "value"]).await?;
    for (s, k, v) in &stack_annotations {
        copy.rows.uuid(g.uuid()).uuid(*s).text(k).text(v);
        copy.rows.end();
    }
    tally.add("broker.stack_annotations", copy.finish().await?);
    let mut copy = Copy::start(conn, "broker.agent_targets", &["id", "agent_id", "stack_id"]).await?;
    for (a, s) in &targets {
        copy.rows.uuid(g.uuid()).uuid(*a).uuid(*s);
        copy.rows.end();
        copy.maybe_flush().await?;
    }
    tally.add("broker.agent_targets", copy.finish().await?);

    // Deployment objects: versions of each stack, oldest first so sequence_id follows.
    let mut desired: Vec<(Uuid, Option<Uuid>)> = Vec::with_capacity(stacks.len());
    let mut copy = Copy::start(
        conn,
        "broker.deployment_objects",
        &["id", "created_at", "stack_id", "yaml_content", "yaml_checksum", "submitted_at", "generator_id"],
    )
    .await?;
    for s in &stacks {
        let versions = g.int(1..7) as usize;
        let mut previous = None;
        let mut last = Uuid::nil();
        for v in 0..versions {
            let id = g.uuid();
            let yaml = manifest(&s.name, TEAMS[s.team], s.app, v, g.int(1..6));
            let at = g.now - chrono::Duration::hours(((versions - v) as i64) * 24 + g.int(0..20));
            copy.rows.uuid(id).ts(at).uuid(s.id).text(&yaml).text(&sha256_hex(&yaml)).ts(at).uuid(s.generator);
            copy.rows.end();
            previous = if v > 0 { Some(last) } else { None };
            last = id;
        }
        desired.push((last, previous));
        copy.maybe_flush().await?;
    }
    tally.add("broker.deployment_objects", copy.finish().await?);

    // What each reached agent reported for the desired object (and, for some, the one before).
    let load = crate::service::bulk::BulkLoad::begin(conn, "broker.agent_events").await?;
    let mut copy = Copy::start(
        conn,
        "broker.agent_events",
        &["id", "created_at", "agent_id", "deployment_object_id", "event_type", "status", "message"],
    )
    .await?;
    let event = |g: &mut Gen,
                 rows: &mut crate::service::bulk::Rows,
                 agent: Uuid,
                 object: Uuid,
                 failure: Option<&str>,
                 ago: std::ops::Range<i64>| {
        rows.uuid(g.uuid()).ts(g.ago(ago)).uuid(agent).uuid(object).text("DEPLOY");
        rows.text(if failure.is_some() { "FAILURE" } else { "SUCCESS" }).opt(failure);
        rows.end();
    };
    for (s, (object, previous)) in stacks.iter().zip(&desired) {
        for &a in &s.reach {
            let agent = &agents[a];
            if !agent.active {
                continue;
            }
            if let Some(prev) = previous {
                if g.chance(0.5) {
                    event(g, &mut copy.rows, agent.id, *prev, None, 86_400..172_800);
                }
            }
            match g.weighted(&[85, 5, 10]) {
                0 => event(g, &mut copy.rows, agent.id, *object, None, 0..86_400),
                1 => {
                    let msg = g.word(FAILURES);
                    event(g, &mut copy.rows, agent.id, *object, Some(msg), 0..86_400);
                }
                _ => {} // not reported yet: pending
            }
        }
        copy.maybe_flush().await?;
    }
    tally.add("broker.agent_events", copy.finish().await?);
    load.finish(conn).await?;

    // A few stacks were deleted: the database's own rule soft-deletes their objects and adds the
    // deletion marker.
    let deleted: Vec<Uuid> = stacks.iter().enumerate().filter(|(i, _)| i % 50 == 7).map(|(_, s)| s.id).collect();
    let n = sqlx::query("UPDATE broker.stacks SET deleted_at = now() - interval '1 hour' WHERE id = ANY($1)")
        .bind(&deleted)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    tally.add("broker.stacks (soft-deleted)", n);
    Ok(())
}

//! The demo's marketplace: real packages and instance prices from assets/ topped up to the scale,
//! Margo applications, Ergon solutions, providers with obviously fake credentials, and the
//! public chat tables.

use std::path::Path;

use serde_json::json;
use sqlx::PgConnection;

use super::gen::*;
use super::{Sizes, Tally};
use crate::import::{helm_index, instances, margo};
use crate::service::bulk::Copy;
use crate::service::{imports, Result};

/// The real data that ships in assets/, compiled in so the binary needs no files.
const HELM: &[(&str, &str, &str, &str)] = &[
    (
        "argoproj",
        "https://argoproj.github.io/argo-helm",
        include_str!("../../../assets/helm/argoproj.index.yaml"),
        include_str!("../../../assets/helm/argoproj.readmes.jsonl"),
    ),
    (
        "bitnami",
        "https://charts.bitnami.com/bitnami",
        include_str!("../../../assets/helm/bitnami.index.yaml"),
        include_str!("../../../assets/helm/bitnami.readmes.jsonl"),
    ),
    (
        "grafana",
        "https://grafana.github.io/helm-charts",
        include_str!("../../../assets/helm/grafana.index.yaml"),
        include_str!("../../../assets/helm/grafana.readmes.jsonl"),
    ),
    (
        "open-telemetry",
        "https://open-telemetry.github.io/opentelemetry-helm-charts",
        include_str!("../../../assets/helm/open-telemetry.index.yaml"),
        include_str!("../../../assets/helm/open-telemetry.readmes.jsonl"),
    ),
    (
        "prometheus-community",
        "https://prometheus-community.github.io/helm-charts",
        include_str!("../../../assets/helm/prometheus-community.index.yaml"),
        include_str!("../../../assets/helm/prometheus-community.readmes.jsonl"),
    ),
];
const INSTANCES: &str = include_str!("../../../assets/cloud/instances.jsonl");
const MARGO: &[(&str, &str)] = &[
    (
        "northstar-digitron-orchestrator.yaml",
        include_str!("../../../assets/margo/northstar-digitron-orchestrator.yaml"),
    ),
    ("acme-vision-inspector.yaml", include_str!("../../../assets/margo/acme-vision-inspector.yaml")),
];

pub async fn packages(g: &mut Gen, conn: &mut PgConnection, sizes: &Sizes, tally: &mut Tally) -> Result<()> {
    let mut real = 0u64;
    for (repo, url, index, readme) in HELM {
        let path = Path::new("assets/helm").join(format!("{repo}.index.yaml"));
        let repository = helm_index::Repository { name: repo.to_string(), url: Some(url.to_string()) };
        let invalid = |e: crate::import::InputError| crate::service::Error::Invalid {
            field: path.display().to_string(),
            reason: e.to_string(),
        };
        let readmes =
            helm_index::parse_readmes(&Path::new("assets/helm").join(format!("{repo}.readmes.jsonl")), readme)
                .map_err(invalid)?;
        let parsed = helm_index::parse(&path, index, &repository, &readmes).map_err(invalid)?;
        real += imports::upsert_packages_on(conn, &parsed.packages, || {}).await?.inserted;
    }
    tally.add("cloud.bitnami_packages (real, assets/helm)", real);

    let topup = sizes.packages.saturating_sub(real as usize);
    let mut copy = Copy::start(
        conn,
        "cloud.bitnami_packages",
        &[
            "name",
            "normalized_name",
            "category",
            "is_operator",
            "capabilities",
            "official",
            "cncf",
            "description",
            "home_url",
            "readme",
            "version",
            "app_version",
            "deprecated",
            "contains_security_updates",
            "prerelease",
            "signed",
            "stars",
            "license",
            "security_report_summary",
            "security_report_created_at",
            "ts",
            "repository_name",
            "repository_display_name",
            "repository_url",
            "repository_verified_publisher",
            "repository_official",
            "repository_kind",
            "keywords",
            "links",
            "available_versions",
            "dependencies",
            "container_images",
        ],
    )
    .await?;
    for i in 0..topup {
        let name = format!("{}-{}-{i}", g.pick(TECH_PREFIX), g.pick(TECH_NOUN));
        let company = *g.pick(COMPANIES);
        let repo = format!("{company}-charts");
        let category = g.int(0..9);
        let operator = g.chance(0.1);
        let (major, minor) = (g.int(0..15), g.int(0..30));
        let versions: Vec<_> = (0..g.int(1..8))
            .map(|k| json!({"version": format!("{major}.{}.{}", (minor - k).max(0), k), "app_version": format!("{}.{}", g.int(1..9), g.int(0..20)),
                "contains_security_updates": g.chance(0.1), "prerelease": false, "ts": (g.now.timestamp() - k * 2_592_000)}))
            .collect();
        let version = versions[0]["version"].as_str().unwrap_or("0.1.0").to_string();
        let app_version = versions[0]["app_version"].as_str().map(str::to_string);
        let description = format!("{} for Kubernetes, packaged by {company}", name.replace('-', " "));
        copy.rows
            .text(&name)
            .text(&name)
            .num(category)
            .boolean(operator)
            .opt(operator.then(|| *g.pick(&crate::domain::marketplace::CAPABILITY_LEVELS)))
            .boolean(g.chance(0.05))
            .boolean(g.chance(0.05))
            .text(&description)
            .text(&format!("https://{name}.{company}.example"))
            .text(&format!("# {name}\n\n{description}.\n\n## Installing\n\n```console\nhelm install my-{name} {repo}/{name}\n```\n"))
            .text(&version)
            .opt(app_version.as_deref())
            .boolean(g.chance(0.03))
            .boolean(g.chance(0.1))
            .boolean(false)
            .boolean(g.chance(0.2))
            .num(g.int(0..2000))
            .text(g.word(&["Apache-2.0", "MIT", "BSD-3-Clause", "MPL-2.0"]))
            .json(&json!({"critical": g.int(0..3), "high": g.int(0..8), "medium": g.int(0..20), "low": g.int(0..40), "unknown": g.int(0..5)}))
            .num(g.now.timestamp() - g.int(0..2_592_000))
            .num(g.now.timestamp() - g.int(0..31_536_000))
            .text(&repo)
            .text(&format!("{company} charts"))
            .text(&format!("https://charts.{company}.example"))
            .boolean(g.chance(0.3))
            .boolean(false)
            .num(0)
            .json(&json!([g.pick(TECH_NOUN), g.pick(TECH_PREFIX), "kubernetes"]))
            .json(&json!([{"name": "source", "url": format!("https://git.{company}.example/{name}")}]))
            .json(&serde_json::Value::Array(versions))
            .json(&json!([]))
            .json(&json!([{"name": name, "image": format!("registry.{company}.example/{name}:{version}"), "whitelisted": false, "platforms": ["linux/amd64"]}]));
        copy.rows.end();
        copy.maybe_flush().await?;
    }
    tally.add("cloud.bitnami_packages (generated)", copy.finish().await?);
    imports::refresh_package_totals(conn).await?;
    Ok(())
}

const SYNTHETIC_PROVIDERS: &[(&str, &[&str])] = &[
    ("digitalocean", &["nyc1", "nyc3", "sfo3", "ams3", "fra1", "lon1", "sgp1", "blr1", "tor1", "syd1"]),
    ("hetzner", &["fsn1", "nbg1", "hel1", "ash", "hil", "sin"]),
    ("oracle", &["us-ashburn-1", "us-phoenix-1", "eu-frankfurt-1", "uk-london-1", "ap-tokyo-1", "sa-saopaulo-1"]),
    ("linode", &["us-east", "us-central", "eu-west", "eu-central", "ap-south", "ap-northeast"]),
    ("vultr", &["ewr", "ord", "dfw", "lax", "ams", "fra", "nrt", "sgp"]),
];

pub async fn compute(g: &mut Gen, conn: &mut PgConnection, sizes: &Sizes, tally: &mut Tally) -> Result<()> {
    let rows = instances::parse(Path::new("assets/cloud/instances.jsonl"), INSTANCES).map_err(|e| {
        crate::service::Error::Invalid { field: "assets/cloud/instances.jsonl".into(), reason: e.to_string() }
    })?;
    let counts = imports::upsert_instances_on(conn, &rows, |_| {}).await?;
    tally.add("cloud.instances (real, assets/cloud)", counts.instances.inserted);

    for (provider, regions) in SYNTHETIC_PROVIDERS {
        sqlx::query("INSERT INTO cloud.providers (provider) VALUES ($1) ON CONFLICT (provider) DO NOTHING")
            .bind(provider)
            .execute(&mut *conn)
            .await?;
        for r in *regions {
            let city = *g.pick(CITIES);
            sqlx::query(
                "INSERT INTO cloud.regions (provider, region_id, city, status) VALUES ($1, $2, $3, 'available') \
                 ON CONFLICT (provider, region_id) DO NOTHING",
            )
            .bind(provider)
            .bind(r)
            .bind(city)
            .execute(&mut *conn)
            .await?;
        }
    }
    // Credentials are obviously fake: these tables hold secrets in real deployments.
    sqlx::query(
        "UPDATE cloud.providers SET provider_credentials = jsonb_build_object('api_key', 'DEMO-NOT-A-SECRET-' || provider, \
             'note', 'fleetdeck demo data: not a real credential')",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO cloud.cred (provider, provider_credentials) SELECT provider, \
             jsonb_build_object('token', 'DEMO-NOT-A-SECRET', 'note', 'fleetdeck demo data') FROM cloud.providers",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO cloud.data (provider, key, value) SELECT provider, 'sync', \
             jsonb_build_object('last_sync', now(), 'source', 'demo') FROM cloud.providers",
    )
    .execute(&mut *conn)
    .await?;

    let topup = sizes.instances.saturating_sub(rows.len());
    let mut copy = Copy::start(
        conn,
        "cloud.instances",
        &[
            "provider",
            "instance_id",
            "name",
            "instance_type",
            "cpu_cores",
            "cpu_threads",
            "cpu_manufacturer",
            "memory_mb",
            "memory_gb",
            "disk_gb",
            "disk_type",
            "bandwidth_mbps",
            "price_monthly",
            "price_hourly",
            "price_currency",
            "gpu_count",
            "gpu_model",
            "gpu_memory_gb",
            "gpu_manufacturer",
            "regions",
            "available",
            "stock_status",
            "description",
            "os_type",
        ],
    )
    .await?;
    for i in 0..topup {
        let (provider, regions) = SYNTHETIC_PROVIDERS[i % SYNTHETIC_PROVIDERS.len()];
        let family = *g.pick(&["s", "c", "m", "r", "g", "x"]);
        let cores = *g.pick(&[1i64, 2, 4, 8, 16, 32, 48, 64, 96]);
        let mem_gb = cores * *g.pick(&[1i64, 2, 4, 8]);
        let gpu = family == "g" && g.chance(0.8);
        let gpus = if gpu { *g.pick(&[1i64, 2, 4, 8]) } else { 0 };
        let hourly =
            (cores as f64 * 0.021 + mem_gb as f64 * 0.004 + gpus as f64 * g.float(0.4..2.6)) * g.float(0.8..1.3);
        let hourly = (hourly * 10_000.0).round() / 10_000.0;
        let name = format!("{family}{}-{cores}c-{mem_gb}g-{i}", g.int(1..5));
        let picked: Vec<&str> = regions.iter().copied().filter(|_| g.chance(0.6)).collect();
        let gpu_model = gpu.then(|| *g.pick(&["L4", "A10", "A100", "H100", "RTX 4000 Ada"]));
        copy.rows
            .text(provider)
            .text(&name)
            .text(&name)
            .text(family)
            .num(cores)
            .num(cores * 2)
            .text(g.word(&["AMD", "Intel", "Ampere"]))
            .num(mem_gb * 1024)
            .num(mem_gb)
            .num(g.int(1..20) * 25)
            .text("SSD")
            .num(*g.pick(&[1000, 2000, 5000, 10000]))
            .num(((hourly * 730.0) * 100.0).round() / 100.0)
            .num(hourly)
            .text("USD")
            .num(gpus)
            .opt(gpu_model)
            .opt_num(gpu.then(|| *g.pick(&[16, 24, 40, 80])))
            .opt(gpu.then_some("NVIDIA"))
            .json(&json!(if picked.is_empty() { vec![regions[0]] } else { picked }))
            .boolean(!g.chance(0.05))
            .text(g.word(&["in_stock", "in_stock", "in_stock", "limited"]))
            .text(&format!("{cores} vCPU, {mem_gb} GiB{}", if gpu { format!(", {gpus} × GPU") } else { String::new() }))
            .text("linux");
        copy.rows.end();
        copy.maybe_flush().await?;
    }
    tally.add("cloud.instances (generated)", copy.finish().await?);
    Ok(())
}

pub async fn catalog(g: &mut Gen, conn: &mut PgConnection, sizes: &Sizes, tally: &mut Tally) -> Result<()> {
    let mut apps = 0;
    for (file, text) in MARGO {
        let path = Path::new("assets/margo").join(file);
        let app = margo::parse(&path, text)
            .map_err(|e| crate::service::Error::Invalid { field: path.display().to_string(), reason: e.to_string() })?;
        imports::upsert_app_description_on(conn, &app).await?;
        apps += 1;
    }
    let real_apps = apps;
    for i in real_apps..sizes.apps {
        let company = *g.pick(COMPANIES);
        let app_name = *g.pick(APPS);
        let app = margo::AppDescription {
            app_id: format!("com-{company}-{app_name}-{i}"),
            name: format!("{} {app_name} {i}", company.to_uppercase()),
            vendor: Some(format!("{company} industrial")),
            version: format!("{}.{}.{}", g.int(0..4), g.int(0..10), g.int(0..10)),
            description: Some(format!("Edge {app_name} service for shop-floor devices")),
            icon: Some(format!("./resources/{app_name}.png")),
            site: Some(format!("https://{company}.example")),
            tag_line: Some(format!("{app_name} at the edge")),
            tags: json!([app_name, "edge"]),
            profiles: (0..g.int(1..3))
                .map(|p| {
                    let helm = p == 0;
                    let arch: Vec<&str> = if g.chance(0.5) { vec!["amd64", "arm64"] } else { vec!["amd64"] };
                    margo::Profile {
                        id: format!("com-{company}-{app_name}-{i}/{}", if helm { "cluster" } else { "device" }),
                        profile_type: if helm { "helm.v3".into() } else { "compose".into() },
                        description: Some(if helm { "Kubernetes cluster".into() } else { "Single device".into() }),
                        cpu_cores: Some(*g.pick(&[0.5, 1.0, 2.0, 4.0])),
                        memory: Some(format!("{}Mi", g.pick(&[256, 512, 1024, 2048, 4096]))),
                        storage: Some(format!("{}Gi", g.pick(&[1, 4, 10, 50]))),
                        cpu_architectures: Some(json!(arch)),
                        peripherals: Some(if g.chance(0.2) { json!([{"type": "gpu", "manufacturer": "NVIDIA"}]) } else { json!([]) }),
                        interfaces: Some(json!([{"type": "ethernet"}])),
                        components: vec![margo::Component {
                            name: format!("{app_name}-{i}"),
                            properties: if helm {
                                json!({"repository": format!("oci://registry.{company}.example/charts/{app_name}"), "revision": "1.0.0", "wait": true, "timeout": "5m"})
                            } else {
                                json!({"packageLocation": format!("https://downloads.{company}.example/{app_name}.tar.gz")})
                            },
                        }],
                    }
                })
                .collect(),
        };
        imports::upsert_app_description_on(conn, &app).await?;
        apps += 1;
    }
    // The demo's clock, not the machine's: the demo reads the same on any day.
    sqlx::query("UPDATE catalog.application_desc SET published = $1")
        .bind(g.now.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .execute(&mut *conn)
        .await?;
    tally.add("catalog.application_desc", apps as u64);
    Ok(())
}

const EXTRA_CAPABILITIES: &[(&str, &str, &str, Option<&str>, &str)] = &[
    ("http.request.send", "Send HTTP request", "http", Some("request"), "send"),
    ("text.summarize", "Summarize text", "text", None, "summarize"),
    ("text.translate", "Translate text", "text", None, "translate"),
    ("image.classify", "Classify image", "image", None, "classify"),
    ("db.sql.query", "Query SQL database", "db", Some("sql"), "query"),
    ("vector.search", "Vector search", "vector", None, "search"),
    ("email.send", "Send e-mail", "email", None, "send"),
    ("pdf.parse", "Parse PDF", "pdf", None, "parse"),
    ("code.python.run", "Run Python", "code", Some("python"), "run"),
    ("k8s.deploy.apply", "Apply Kubernetes manifest", "k8s", Some("deploy"), "apply"),
];

pub async fn ergon(g: &mut Gen, conn: &mut PgConnection, sizes: &Sizes, tally: &mut Tally) -> Result<()> {
    for (name, display, category, sub, action) in EXTRA_CAPABILITIES {
        sqlx::query(
            "INSERT INTO ergon.capabilities (name, display_name, category, subcategory, action, description) \
             VALUES ($1, $2, $3, $4, $5, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(display)
        .bind(category)
        .bind(sub)
        .bind(action)
        .execute(&mut *conn)
        .await?;
    }
    let caps: Vec<String> =
        sqlx::query_scalar("SELECT name FROM ergon.capabilities ORDER BY name").fetch_all(&mut *conn).await?;
    for (name, display) in
        [("docker_deploy", "Docker deployment"), ("helm_chart", "Helm chart"), ("langgraph_node", "LangGraph node")]
    {
        sqlx::query(
            "INSERT INTO ergon.templates (name, display_name, type, language, template_content, description) \
             VALUES ($1, $2, 'deployment', 'yaml', '# generated by fleetdeck demo', $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(display)
        .execute(&mut *conn)
        .await?;
    }

    let mut ids = Vec::with_capacity(sizes.solutions);
    let mut copy = Copy::start(
        conn,
        "ergon.solutions",
        &[
            "id",
            "name",
            "display_name",
            "type",
            "version",
            "source",
            "description",
            "long_description",
            "capabilities",
            "parameters",
            "dependencies",
            "usage_count",
            "success_count",
            "failure_count",
            "author",
            "license",
            "status",
            "tags",
        ],
    )
    .await?;
    for i in 0..sizes.solutions {
        let id = g.uuid();
        let kind = ["tool", "agent", "mcp_server", "workflow"][g.weighted(&[45, 25, 20, 10])];
        let noun = *g.pick(TECH_NOUN);
        let name = format!("{}-{noun}-{kind}-{i}", g.pick(TECH_PREFIX));
        let mine: Vec<&String> = (0..g.int(1..4)).map(|_| &caps[g.index(caps.len())]).collect();
        let used = g.int(0..5000);
        let ok = (used as f64 * g.float(0.6..0.99)) as i64;
        let source = match g.weighted(&[3, 4, 2, 2]) {
            0 => "builtin".to_string(),
            1 => format!("github:{}/{name}", g.pick(COMPANIES)),
            2 => format!("pypi:{name}"),
            _ => "custom".to_string(),
        };
        copy.rows
            .uuid(id)
            .text(&name)
            .text(&name.replace('-', " "))
            .text(kind)
            .text(&format!("{}.{}.{}", g.int(0..3), g.int(0..10), g.int(0..10)))
            .text(&source)
            .text(&format!("A {kind} that provides {}", mine.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")))
            .text(&format!("## {name}\n\nUse it to {noun}.\n"))
            .json(&json!(mine))
            .json(&json!({"timeout": {"type": "integer", "default": 30}}))
            .json(&json!({"python": ["requests>=2.31"]}))
            .num(used)
            .num(ok)
            .num(used - ok)
            .text(&format!("{} {}", g.pick(FIRST), g.pick(LAST)))
            .text(g.word(&["MIT", "Apache-2.0"]))
            .text(["active", "experimental", "deprecated", "archived"][g.weighted(&[70, 15, 10, 5])])
            .json(&json!([noun, kind]));
        copy.rows.end();
        ids.push(id);
    }
    tally.add("ergon.solutions", copy.finish().await?);

    let mut copy = Copy::start(
        conn,
        "ergon.integrations",
        &[
            "solution_id",
            "project_name",
            "project_type",
            "configuration",
            "wrapper_type",
            "success",
            "error_message",
            "performance_metrics",
            "created_by",
            "environment",
        ],
    )
    .await?;
    for id in &ids {
        for _ in 0..g.int(0..5) {
            let success = g.chance(0.85);
            copy.rows
                .uuid(*id)
                .text(&format!("{}-{}", g.pick(COMPANIES), g.pick(APPS)))
                .text(g.word(&["tekton_component", "external", "test"]))
                .json(&json!({"replicas": g.int(1..4)}))
                .text(g.word(&["fastapi", "mcp", "direct"]))
                .boolean(success)
                .opt((!success).then_some("wrapper failed its health check"))
                .json(
                    &json!({"startup_time": (g.float(0.2..5.0) * 10.0).round() / 10.0, "memory_usage": g.int(40..900)}),
                )
                .text("demo")
                .json(&json!({"os": "linux", "python": "3.11"}));
            copy.rows.end();
        }
    }
    tally.add("ergon.integrations", copy.finish().await?);

    sqlx::query(
        "INSERT INTO ergon.configurations (name, solution_id, template_used, configuration, status) \
         SELECT s.name || '-config', s.id, 'fastapi_wrapper', '{}'::jsonb, 'validated' \
         FROM ergon.solutions s WHERE s.usage_count % 5 = 0",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO ergon.analyses (repository_url, status, integration_complexity, primary_language) \
         SELECT 'https://github.com/example/' || s.name, 'completed', 1 + s.usage_count % 10, 'Python' \
         FROM ergon.solutions s WHERE s.usage_count % 7 = 0",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO ergon.chat_sessions (session_type, messages, user_satisfaction) \
         SELECT 'tool_chat', jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'find a csv parser')), 1 + n % 5 \
         FROM generate_series(1, 25) n",
    )
    .execute(&mut *conn)
    .await?;

    // The public schema's chat tables, at about the seed's row counts.
    sqlx::query(
        "INSERT INTO public.users (email, first_name, last_name) VALUES \
         ('ops@acme.example', 'Olga', 'Ops'), ('dev@acme.example', 'Dev', 'Eloper'), \
         ('sre@globex.example', 'Sam', 'Reliability'), (NULL, 'Guest', NULL)",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO public.conversations (user_id, title) \
         SELECT u.id, t FROM public.users u, unnest(ARRAY['cheapest GPU in eu', 'deploy grafana']) t \
         WHERE u.email IS NOT NULL",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO public.messages (conversation_id, role, content) \
         SELECT c.id, r, 'demo message' FROM public.conversations c, unnest(ARRAY['user', 'assistant', 'user', 'assistant']) r",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

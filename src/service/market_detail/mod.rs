//! One marketplace item in full, for the detail view: a document of blocks (fields, Markdown,
//! coloured counts, tables) the pane draws, plus what the deploy form needs. The text is raw;
//! the pane sanitises every string it draws.

use serde_json::Value;
use uuid::Uuid;

mod app;
mod fit;

pub use self::app::{components_of, profiles};
pub use self::fit::{fleet_fit, peripheral_token, FleetFit};
use super::marketplace::Kind;
use super::{Error, Result, Services};
use crate::domain::deploy::Component;

/// A piece of the detail view.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(String),
    /// A label and its value on one line.
    Field(String, String),
    /// Plain text (may hold line breaks).
    Text(String),
    /// Markdown, rendered by the pane.
    Markdown(String),
    /// Counts with a severity each (`critical` … `unknown`), coloured by the pane.
    Counts(Vec<(String, i64)>),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// Muted remark.
    Note(String),
}

/// A site an app profile can go to: its hosts that fit, and its agents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFit {
    pub site: String,
    pub name: String,
    pub fitting: usize,
    pub hosts: usize,
    pub agents: usize,
}

/// A deployment profile, for the deploy form.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: String,
    pub kind: String,
    pub components: Vec<Component>,
    /// Sites with at least one fitting host, the best first.
    pub sites: Vec<SiteFit>,
}

/// What deploying this item needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Deployable {
    Package { chart: String, repository: String, repository_url: String, versions: Vec<String> },
    App { app_id: String, profiles: Vec<Profile> },
}

/// One item in full.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub kind: Kind,
    pub id: String,
    pub title: String,
    pub blocks: Vec<Block>,
    pub deploy: Option<Deployable>,
}

fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn field(label: &str, value: impl Into<String>) -> Option<Block> {
    let value = value.into();
    (!value.trim().is_empty()).then(|| Block::Field(label.to_string(), value))
}

/// Fields that show a JSON key each as it is (the empty ones left out): (label, key).
fn fields(v: &Value, pairs: &[(&str, &str)]) -> Vec<Block> {
    pairs.iter().filter_map(|(label, key)| field(label, s(v, key))).collect()
}

/// A table, or a note saying there is nothing to tabulate.
fn table_or(header: &[&str], rows: Vec<Vec<String>>, none: &str) -> Block {
    if rows.is_empty() {
        Block::Note(none.into())
    } else {
        Block::Table { header: header.iter().map(|h| h.to_string()).collect(), rows }
    }
}

fn yes(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn date(epoch: Option<i64>) -> String {
    epoch
        .filter(|t| *t > 0)
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A timestamp as the database writes it in JSON, shown to the minute in UTC.
fn stamp(v: &Value, key: &str) -> String {
    let text = s(v, key);
    chrono::DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M UTC").to_string())
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        })
        .unwrap_or(text)
}

/// A JSON value as one short line (strings bare).
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The item `id` of `kind` in full. Not found when it is gone (or not visible to the actor).
pub async fn detail(services: &Services, kind: Kind, id: &str) -> Result<Detail> {
    let gone = || Error::NotFound { what: format!("{} {id}", kind.title().trim_end_matches('s').to_lowercase()) };
    match kind {
        Kind::Packages => package(services, Uuid::parse_str(id).map_err(|_| gone())?).await?.ok_or_else(gone),
        Kind::Apps => app::app(services, id).await?.ok_or_else(gone),
        Kind::Solutions => solution(services, Uuid::parse_str(id).map_err(|_| gone())?).await?.ok_or_else(gone),
        Kind::Agents => agent(services, Uuid::parse_str(id).map_err(|_| gone())?).await?.ok_or_else(gone),
        Kind::Instances => instance(services, Uuid::parse_str(id).map_err(|_| gone())?).await?.ok_or_else(gone),
    }
}

async fn json_row(services: &Services, sql: &str, id: &str) -> Result<Option<Value>> {
    Ok(sqlx::query_scalar(sql).bind(id).fetch_optional(&services.pool).await?)
}

/// The severities of a security report, worst first.
pub const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "unknown"];

async fn package(services: &Services, id: Uuid) -> Result<Option<Detail>> {
    let Some(p) = json_row(
        services,
        "SELECT to_jsonb(p) - 'description_embedding' - 'readme_embedding' - 'keywords_embedding' - 'search_tsv' \
             || jsonb_build_object('category_name', c.name) \
         FROM cloud.bitnami_packages p LEFT JOIN cloud.bitnami_categories c ON c.category_id = p.category \
         WHERE p.package_id = $1::uuid",
        &id.to_string(),
    )
    .await?
    else {
        return Ok(None);
    };
    let name = s(&p, "name");
    let mut b: Vec<Block> = Vec::new();
    b.extend(field("Description", s(&p, "description")));
    b.extend(field("Version", format!("{}  (app {})", s(&p, "version"), s(&p, "app_version"))));
    b.extend(field(
        "Repository",
        format!("{}  {}", s(&p, "repository_display_name").max(s(&p, "repository_name")), s(&p, "repository_url")),
    ));
    b.extend(fields(&p, &[("Category", "category_name"), ("Licence", "license"), ("Stars", "stars")]));
    b.extend(field("Updated", date(p.get("ts").and_then(Value::as_i64))));
    let flags: Vec<&str> = [
        ("official", yes(&p, "official") || yes(&p, "repository_official")),
        ("verified publisher", yes(&p, "repository_verified_publisher")),
        ("CNCF", yes(&p, "cncf")),
        ("operator", yes(&p, "is_operator")),
        ("signed", yes(&p, "signed")),
        ("DEPRECATED", yes(&p, "deprecated")),
    ]
    .into_iter()
    .filter_map(|(n, on)| on.then_some(n))
    .collect();
    b.extend(field("Flags", flags.join(", ")));
    b.extend(field("Capability level", s(&p, "capabilities")));
    let keywords: Vec<String> = array(&p, "keywords").iter().map(show).collect();
    b.extend(field("Keywords", keywords.join(", ")));

    b.push(Block::Heading("Security report".into()));
    match p.get("security_report_summary").filter(|v| v.is_object()) {
        Some(summary) => {
            b.push(Block::Counts(
                SEVERITIES
                    .iter()
                    .map(|k| (k.to_string(), summary.get(*k).and_then(Value::as_i64).unwrap_or(0)))
                    .collect(),
            ));
            b.extend(field("Scanned", date(p.get("security_report_created_at").and_then(Value::as_i64))));
        }
        None => b.push(Block::Note("no security report".into())),
    }

    let versions = array(&p, "available_versions");
    b.push(Block::Heading(format!("Versions ({})", versions.len())));
    b.push(table_or(
        &["VERSION", "APP VERSION", "RELEASED", "NOTES"],
        versions
            .iter()
            .map(|v| {
                let mut notes = Vec::new();
                if yes(v, "contains_security_updates") {
                    notes.push("security updates");
                }
                if yes(v, "prerelease") {
                    notes.push("prerelease");
                }
                vec![s(v, "version"), s(v, "app_version"), date(v.get("ts").and_then(Value::as_i64)), notes.join(", ")]
            })
            .collect(),
        "no versions listed",
    ));

    let deps = array(&p, "dependencies");
    b.push(Block::Heading(format!("Dependencies ({})", deps.len())));
    b.push(table_or(
        &["NAME", "VERSION", "REPOSITORY"],
        deps.iter().map(|d| vec![s(d, "name"), s(d, "version"), s(d, "repository_url")]).collect(),
        "none",
    ));

    let images = array(&p, "container_images");
    b.push(Block::Heading(format!("Container images ({})", images.len())));
    b.push(table_or(
        &["NAME", "IMAGE", "PLATFORMS", "WHITELISTED"],
        images
            .iter()
            .map(|i| {
                let platforms: Vec<String> = array(i, "platforms").iter().map(show).collect();
                vec![
                    s(i, "name"),
                    s(i, "image"),
                    platforms.join(", "),
                    if yes(i, "whitelisted") { "yes" } else { "no" }.into(),
                ]
            })
            .collect(),
        "none listed",
    ));

    let mut links: Vec<Vec<String>> = Vec::new();
    if !s(&p, "home_url").is_empty() {
        links.push(vec!["home".into(), s(&p, "home_url")]);
    }
    links.extend(array(&p, "links").iter().map(|l| vec![s(l, "name"), s(l, "url")]));
    if !s(&p, "content_url").is_empty() {
        links.push(vec!["chart archive".into(), s(&p, "content_url")]);
    }
    b.push(Block::Heading("Links".into()));
    b.push(table_or(&["NAME", "URL"], links, "none"));

    b.push(Block::Heading("README".into()));
    match s(&p, "readme") {
        r if r.trim().is_empty() => b.push(Block::Note("no README".into())),
        r => {
            b.push(Block::Markdown(r));
            if p.get("readme_cut").and_then(Value::as_bool) == Some(true) {
                let whole = [s(&p, "home_url"), array(&p, "links").first().map(|l| s(l, "url")).unwrap_or_default()]
                    .into_iter()
                    .find(|u| !u.is_empty());
                b.push(Block::Note(match whole {
                    Some(url) => {
                        format!("✂ cut short: the data holds only the start of this README; the whole one: {url}")
                    }
                    None => "✂ cut short: the data holds only the start of this README".into(),
                }));
            }
        }
    }
    let mut version_list: Vec<String> = versions.iter().map(|v| s(v, "version")).filter(|v| !v.is_empty()).collect();
    if version_list.is_empty() && !s(&p, "version").is_empty() {
        version_list.push(s(&p, "version"));
    }
    Ok(Some(Detail {
        kind: Kind::Packages,
        id: id.to_string(),
        title: name.clone(),
        blocks: b,
        deploy: Some(Deployable::Package {
            chart: name,
            repository: s(&p, "repository_name"),
            repository_url: s(&p, "repository_url"),
            versions: version_list,
        }),
    }))
}

async fn solution(services: &Services, id: Uuid) -> Result<Option<Detail>> {
    let Some(v) = json_row(
        services,
        "SELECT to_jsonb(s) || jsonb_build_object( \
             'integrations', (SELECT count(*) FROM ergon.integrations i WHERE i.solution_id = s.id), \
             'integrations_ok', (SELECT count(*) FROM ergon.integrations i WHERE i.solution_id = s.id AND i.success), \
             'recent_errors', coalesce((SELECT jsonb_agg(e) FROM (SELECT i.project_name || ': ' || i.error_message AS e \
                 FROM ergon.integrations i WHERE i.solution_id = s.id AND NOT i.success AND i.error_message IS NOT NULL \
                 ORDER BY i.created_at DESC LIMIT 3) x), '[]')) \
         FROM ergon.solutions s WHERE s.id = $1::uuid",
        &id.to_string(),
    )
    .await?
    else {
        return Ok(None);
    };
    let mut b: Vec<Block> = Vec::new();
    b.extend(fields(
        &v,
        &[
            ("Description", "description"),
            ("Type", "type"),
            ("Version", "version"),
            ("Status", "status"),
            ("Source", "source"),
            ("Author", "author"),
            ("Licence", "license"),
        ],
    ));
    let tags: Vec<String> = array(&v, "tags").iter().map(show).collect();
    b.extend(field("Tags", tags.join(", ")));
    b.push(Block::Heading("Success".into()));
    let total = v.get("integrations").and_then(Value::as_i64).unwrap_or(0);
    let ok = v.get("integrations_ok").and_then(Value::as_i64).unwrap_or(0);
    b.push(Block::Field(
        "Integrations".into(),
        if total == 0 {
            "none recorded".into()
        } else {
            format!("{ok} of {total} succeeded ({:.0}%)", ok as f64 * 100.0 / total as f64)
        },
    ));
    let used = v.get("usage_count").and_then(Value::as_i64).unwrap_or(0);
    let used_ok = v.get("success_count").and_then(Value::as_i64).unwrap_or(0);
    let used_bad = v.get("failure_count").and_then(Value::as_i64).unwrap_or(0);
    if used > 0 {
        b.push(Block::Field(
            "Uses".into(),
            format!("{used}: {used_ok} succeeded, {used_bad} failed ({:.0}%)", used_ok as f64 * 100.0 / used as f64),
        ));
    }
    b.extend(field("Last used", stamp(&v, "last_used_at")));
    for e in array(&v, "recent_errors") {
        b.push(Block::Field("Recent failure".into(), show(e)));
    }
    let caps = array(&v, "capabilities");
    b.push(Block::Heading(format!("Capabilities ({})", caps.len())));
    if caps.is_empty() {
        b.push(Block::Note("none".into()));
    }
    for c in caps {
        let name = if c.is_string() { show(c) } else { s(c, "name") };
        b.push(Block::Text(format!("• {name}")));
    }
    for (key, title) in [("parameters", "Parameters"), ("dependencies", "Dependencies")] {
        b.push(Block::Heading(title.into()));
        let rows = match v.get(key).and_then(Value::as_object) {
            Some(m) => m.iter().map(|(k, x)| vec![k.clone(), show(x)]).collect(),
            None => Vec::new(),
        };
        b.push(table_or(&["NAME", "VALUE"], rows, "none"));
    }
    let mut links = Vec::new();
    for (k, n) in [("homepage_url", "home"), ("repository_url", "repository"), ("documentation_url", "documentation")] {
        if !s(&v, k).is_empty() {
            links.push(vec![n.to_string(), s(&v, k)]);
        }
    }
    if !links.is_empty() {
        b.push(Block::Heading("Links".into()));
        b.push(Block::Table { header: vec!["NAME".into(), "URL".into()], rows: links });
    }
    if !s(&v, "long_description").trim().is_empty() {
        b.push(Block::Heading("About".into()));
        b.push(Block::Markdown(s(&v, "long_description")));
    }
    Ok(Some(Detail {
        kind: Kind::Solutions,
        id: id.to_string(),
        title: s(&v, "display_name"),
        blocks: b,
        deploy: None,
    }))
}

async fn agent(services: &Services, id: Uuid) -> Result<Option<Detail>> {
    let Some(v) = json_row(
        services,
        "SELECT to_jsonb(a) || jsonb_build_object( \
             'owner_name', CASE WHEN a.owner_type = 'organization' \
                 THEN (SELECT o.name FROM platform.organizations o WHERE o.id = a.owner_id) \
                 ELSE (SELECT u.email FROM platform.users u WHERE u.id = a.owner_id) END, \
             'resources', (SELECT to_jsonb(r) FROM platform.container_resources r WHERE r.agent_id = a.id LIMIT 1), \
             'listings', coalesce((SELECT jsonb_agg(to_jsonb(m) ORDER BY m.created_at) \
                 FROM platform.marketplace_integrations m WHERE m.agent_id = a.id), '[]')) \
         FROM platform.agents a WHERE a.id = $1::uuid",
        &id.to_string(),
    )
    .await?
    else {
        return Ok(None);
    };
    let mut b: Vec<Block> = Vec::new();
    b.extend(fields(
        &v,
        &[
            ("Description", "description"),
            ("Framework", "framework"),
            ("Type", "agent_type"),
            ("Status", "status"),
            ("Version", "version"),
        ],
    ));
    // The organisation's name (or the user's email), not its id; the id when neither is visible.
    let owner = match s(&v, "owner_name") {
        name if name.is_empty() => s(&v, "owner_id"),
        name => name,
    };
    b.extend(field("Owner", format!("{owner} ({})", s(&v, "owner_type"))));
    b.extend(field("Deployed", stamp(&v, "deployed_at")));
    b.extend(field("Container", s(&v, "container_id")));
    b.push(Block::Heading("Publication".into()));
    let listings = array(&v, "listings");
    b.push(table_or(
        &["MARKETPLACE", "STATUS", "PUBLISHED", "LISTING", "USAGE"],
        listings
            .iter()
            .map(|m| {
                vec![
                    s(m, "marketplace_name"),
                    s(m, "status"),
                    s(m, "published_at").chars().take(10).collect(),
                    s(m, "marketplace_agent_id"),
                    m.get("usage_metrics").filter(|u| !u.is_null()).map(show).unwrap_or_default(),
                ]
            })
            .collect(),
        "not listed in any marketplace",
    ));
    b.push(Block::Heading("Container resources".into()));
    match v.get("resources").filter(|r| r.is_object()) {
        Some(r) => {
            b.extend(field("Tier", s(r, "subscription_tier")));
            b.extend(field("CPU limit", s(r, "cpu_limit")));
            b.extend(field("Memory limit", format!("{} MB", s(r, "memory_limit_mb"))));
            b.extend(field("Network", s(r, "network_isolation")));
        }
        None => b.push(Block::Note("none assigned".into())),
    }
    if let Some(m) = v.get("resource_limits").and_then(Value::as_object).filter(|m| !m.is_empty()) {
        b.push(Block::Table {
            header: vec!["LIMIT".into(), "VALUE".into()],
            rows: m.iter().map(|(k, x)| vec![k.clone(), show(x)]).collect(),
        });
    }
    Ok(Some(Detail { kind: Kind::Agents, id: id.to_string(), title: s(&v, "name"), blocks: b, deploy: None }))
}

async fn instance(services: &Services, id: Uuid) -> Result<Option<Detail>> {
    let Some(v) = json_row(
        services,
        "SELECT to_jsonb(i) - 'embedding' FROM cloud.instances i WHERE i.id = $1::uuid",
        &id.to_string(),
    )
    .await?
    else {
        return Ok(None);
    };
    let mut b: Vec<Block> = Vec::new();
    b.extend(fields(&v, &[("Description", "description"), ("Provider", "provider"), ("Type", "instance_type")]));
    // The provider's credentials (cloud.cred, providers.provider_credentials) are never read.
    b.extend(field("Credentials", "hidden".to_string()));
    b.push(Block::Heading("Specification".into()));
    b.extend(field(
        "CPU",
        format!(
            "{} cores, {} threads  {} {}",
            // The source's share of a shared core (0.25), where the seed's integer column says 0.
            v.get("raw_data")
                .and_then(|r| r.get("cpu_cores"))
                .and_then(Value::as_f64)
                .map_or_else(|| s(&v, "cpu_cores"), crate::domain::cloud::vcpus),
            s(&v, "cpu_threads"),
            s(&v, "cpu_manufacturer"),
            s(&v, "cpu_model")
        )
        .replace(",  threads", "")
        .trim()
        .to_string(),
    ));
    b.extend(field(
        "Memory",
        if s(&v, "memory_gb").is_empty() { String::new() } else { format!("{} GB", s(&v, "memory_gb")) },
    ));
    if v.get("gpu_count").and_then(Value::as_i64).unwrap_or(0) > 0 {
        b.extend(field(
            "GPU",
            format!(
                "{} × {} {} ({} GB)",
                s(&v, "gpu_count"),
                s(&v, "gpu_manufacturer"),
                s(&v, "gpu_model"),
                s(&v, "gpu_memory_gb")
            ),
        ));
    }
    if !s(&v, "disk_gb").is_empty() {
        b.extend(field("Disk", format!("{} GB {}", s(&v, "disk_gb"), s(&v, "disk_type"))));
    }
    if !s(&v, "bandwidth_mbps").is_empty() {
        b.extend(field("Bandwidth", format!("{} Mbps", s(&v, "bandwidth_mbps"))));
    }
    b.extend(fields(&v, &[("OS", "os_type"), ("Available", "available"), ("Stock", "stock_status")]));
    b.push(Block::Heading("Price".into()));
    let currency = [s(&v, "price_currency"), "USD".into()].into_iter().find(|c| !c.is_empty()).unwrap_or_default();
    b.extend(field(
        "Hourly",
        if s(&v, "price_hourly").is_empty() { String::new() } else { format!("{} {currency}", s(&v, "price_hourly")) },
    ));
    b.extend(field(
        "Monthly",
        if s(&v, "price_monthly").is_empty() {
            String::new()
        } else {
            format!("{} {currency}", s(&v, "price_monthly"))
        },
    ));
    let regions: Vec<String> = array(&v, "regions").iter().map(show).collect();
    let prices_of = |key: &str| {
        v.pointer(&format!("/capabilities/{key}"))
            .or_else(|| v.pointer(&format!("/raw_data/{key}")))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let (now, old) = (prices_of("region_prices"), prices_of("region_prices_2024"));
    let mut names: Vec<String> = regions.clone();
    for r in now.keys().chain(old.keys()) {
        if !names.contains(r) {
            names.push(r.clone());
        }
    }
    let rows: Vec<Vec<String>> = names
        .iter()
        .map(|r| {
            let price = match (now.get(r).and_then(Value::as_f64), old.get(r).and_then(Value::as_f64)) {
                (Some(p), _) => format!("{p}"),
                (None, Some(p)) => format!("{p} (2024)"),
                _ => "—".into(),
            };
            vec![r.clone(), price]
        })
        .collect();
    b.push(Block::Heading(format!("Price per region ({})", rows.len())));
    let hourly = format!("{currency}/HOUR");
    b.push(table_or(&["REGION", &hourly], rows, "no regions listed"));
    Ok(Some(Detail {
        kind: Kind::Instances,
        id: id.to_string(),
        title: [s(&v, "name"), s(&v, "instance_type")].into_iter().find(|n| !n.is_empty()).unwrap_or_default(),
        blocks: b,
        deploy: None,
    }))
}

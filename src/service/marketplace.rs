//! The marketplace's catalogues: each kind read whole into a `domain::catalogue::Catalogue` that
//! the pane searches as the user types, and the server-side search (every field, the README
//! too) for what the in-memory match does not find.

use futures::TryStreamExt;
use sqlx::Row;

use super::{Result, Services};
use crate::domain::catalogue::{Builder, Catalogue, Hit, Input, Selection};
use crate::domain::text::sanitize_cell;

/// What the marketplace lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Packages,
    Apps,
    Solutions,
    Agents,
    Instances,
}

/// The longest description kept for the list (the detail reads the whole one).
const DESCRIPTION_MAX: usize = 240;
const NAME_MAX: usize = 120;

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::Packages, Kind::Apps, Kind::Solutions, Kind::Agents, Kind::Instances];

    /// One of this kind, in a sentence: "no package has category …".
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Packages => "package",
            Kind::Apps => "edge app",
            Kind::Solutions => "solution",
            Kind::Agents => "agent",
            Kind::Instances => "compute offer",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Packages => "Packages",
            Kind::Apps => "Apps",
            Kind::Solutions => "Solutions",
            Kind::Agents => "Agents",
            Kind::Instances => "Compute",
        }
    }

    /// The `:` command and the CLI's `--kind`.
    pub fn command(self) -> &'static str {
        match self {
            Kind::Packages => "pkgs",
            Kind::Apps => "apps",
            Kind::Solutions => "solutions",
            Kind::Agents => "agents",
            Kind::Instances => "instances",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        match text.to_ascii_lowercase().as_str() {
            "pkgs" | "packages" | "package" | "charts" => Some(Kind::Packages),
            "apps" | "app" => Some(Kind::Apps),
            "solutions" | "solution" => Some(Kind::Solutions),
            "agents" | "agent" => Some(Kind::Agents),
            "instances" | "instance" | "compute" => Some(Kind::Instances),
            _ => None,
        }
    }

    /// The facets, in the order the panel shows them.
    pub fn facets(self) -> &'static [&'static str] {
        match self {
            Kind::Packages => &[
                "category",
                "repository",
                "official",
                "verified publisher",
                "cncf",
                "operator",
                "capability level",
                "signed",
                "security report",
                "deprecated",
            ],
            Kind::Apps => &["vendor", "profile type", "category"],
            Kind::Solutions => &["type", "status"],
            Kind::Agents => &["framework", "status", "publication", "agent type"],
            Kind::Instances => &["provider", "region", "gpu model", "cores", "memory", "price/hour"],
        }
    }

    /// Facets whose values keep the order they come in (buckets) instead of alphabetical.
    fn ordered_facets(self) -> &'static [&'static str] {
        match self {
            Kind::Instances => &["cores", "memory", "price/hour"],
            _ => &[],
        }
    }

    /// The list's columns between the name and the description.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Packages => &["VERSION", "REPOSITORY", "CATEGORY", "STARS", "UPDATED"],
            Kind::Apps => &["VENDOR", "VERSION", "PROFILES"],
            Kind::Solutions => &["TYPE", "VERSION", "STATUS", "USES"],
            Kind::Agents => &["FRAMEWORK", "STATUS", "PUBLICATION", "VERSION"],
            Kind::Instances => &["PROVIDER", "VCPU", "MEMORY", "GPU", "$/HOUR"],
        }
    }

    /// What the rank sort orders by (`stars` for packages).
    pub fn rank_title(self) -> &'static str {
        match self {
            Kind::Packages => "stars",
            Kind::Apps => "profiles",
            Kind::Solutions => "uses",
            Kind::Agents => "integrations",
            Kind::Instances => "cheapest",
        }
    }

    /// Facet values picked when the list opens: deprecated packages are hidden unless asked.
    pub fn default_picks(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Packages => &[("deprecated", "no")],
            _ => &[],
        }
    }
}

fn yes_no(b: bool) -> Vec<String> {
    vec![if b { "yes" } else { "no" }.to_string()]
}

fn one(s: String) -> Vec<String> {
    if s.is_empty() {
        vec!["(none)".to_string()]
    } else {
        vec![s]
    }
}

fn clean(s: &str, max: usize) -> String {
    sanitize_cell(s, max)
}

/// Powers of two as bucket names: `≤ 4`, …, `> 64`.
fn bucket(value: Option<f64>, bounds: &[f64], unit: &str) -> Vec<String> {
    let Some(v) = value else { return vec!["unknown".into()] };
    for b in bounds {
        if v <= *b {
            return vec![format!("≤ {b}{unit}")];
        }
    }
    vec![format!("> {}{unit}", bounds.last().copied().unwrap_or_default())]
}

const CORES: &[f64] = &[2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
const MEMORY: &[f64] = &[4.0, 16.0, 64.0, 256.0];

fn price_bucket(price: Option<f64>) -> Vec<String> {
    let Some(p) = price else { return vec!["no price".into()] };
    let label = match p {
        p if p < 0.05 => "< $0.05",
        p if p < 0.25 => "< $0.25",
        p if p < 1.0 => "< $1",
        p if p < 5.0 => "< $5",
        _ => "≥ $5",
    };
    vec![label.into()]
}

/// The bucket labels in their natural order, so that the panel lists them that way even when a
/// catalogue lacks some.
pub fn bucket_order(kind: Kind, facet: &str) -> Vec<String> {
    match (kind, facet) {
        (Kind::Instances, "cores") => bucket_labels(CORES, ""),
        (Kind::Instances, "memory") => bucket_labels(MEMORY, " GB"),
        (Kind::Instances, "price/hour") => {
            ["< $0.05", "< $0.25", "< $1", "< $5", "≥ $5", "no price"].iter().map(|s| s.to_string()).collect()
        }
        _ => Vec::new(),
    }
}

fn bucket_labels(bounds: &[f64], unit: &str) -> Vec<String> {
    let mut v: Vec<String> = bounds.iter().map(|b| format!("≤ {b}{unit}")).collect();
    v.push(format!("> {}{unit}", bounds.last().copied().unwrap_or_default()));
    v.push("unknown".into());
    v
}

fn age_cell(ts: i64) -> String {
    if ts <= 0 {
        return String::new();
    }
    chrono::DateTime::from_timestamp(ts, 0).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

const PACKAGES: &str = "SELECT p.package_id::text, coalesce(p.name, ''), coalesce(p.description, ''), \
    ARRAY(SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(p.keywords) = 'array' THEN p.keywords ELSE '[]' END)), \
    coalesce(p.version, ''), coalesce(p.repository_name, ''), coalesce(c.name, ''), coalesce(p.stars, 0)::bigint, \
    coalesce(p.ts, 0), coalesce(p.official, false) OR coalesce(p.repository_official, false), \
    coalesce(p.repository_verified_publisher, false), coalesce(p.cncf, false), coalesce(p.is_operator, false), \
    coalesce(p.capabilities, ''), coalesce(p.signed, false), p.security_report_summary IS NOT NULL, \
    coalesce(p.deprecated, false) \
    FROM cloud.bitnami_packages p LEFT JOIN cloud.bitnami_categories c ON c.category_id = p.category";

const APPS: &str = "SELECT a.app_id, coalesce(a.name, a.app_id), coalesce(a.description, '') || \
    CASE WHEN a.tag_line IS NULL THEN '' ELSE ' — ' || a.tag_line END, \
    ARRAY(SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(a.tags) = 'array' THEN a.tags ELSE '[]' END)), \
    coalesce(a.vendor, ''), coalesce(a.version, ''), coalesce(a.category, ''), \
    ARRAY(SELECT DISTINCT coalesce(p.type, '') FROM catalog.deployment_profile p WHERE p.app_id = a.app_id ORDER BY 1), \
    (SELECT count(*) FROM catalog.deployment_profile p WHERE p.app_id = a.app_id) \
    FROM catalog.application_desc a";

const SOLUTIONS: &str = "SELECT s.id::text, s.name::text, coalesce(s.description, ''), \
    ARRAY(SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(s.tags) = 'array' THEN s.tags ELSE '[]' END)) || \
    ARRAY(SELECT coalesce(c->>'name', '') FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.capabilities) = 'array' THEN s.capabilities ELSE '[]' END) c), \
    s.type::text, s.version::text, coalesce(s.status::text, ''), coalesce(s.usage_count, 0)::bigint, \
    extract(epoch FROM s.updated_at)::bigint \
    FROM ergon.solutions s";

const AGENTS: &str = "SELECT a.id::text, a.name::text, coalesce(a.description, ''), \
    a.framework::text, a.status::text, a.agent_type::text, a.version::text, \
    ARRAY(SELECT DISTINCT m.status::text FROM platform.marketplace_integrations m WHERE m.agent_id = a.id ORDER BY 1), \
    (SELECT count(*) FROM platform.marketplace_integrations m WHERE m.agent_id = a.id), \
    coalesce(extract(epoch FROM a.updated_at)::bigint, 0) \
    FROM platform.agents a WHERE EXISTS (SELECT 1 FROM platform.marketplace_integrations m WHERE m.agent_id = a.id)";

const INSTANCES: &str = "SELECT i.id::text, coalesce(i.name, i.instance_type, ''), \
    coalesce(i.description, '') || ' ' || coalesce(i.instance_type, '') || ' ' || coalesce(i.cpu_model, ''), \
    coalesce(i.provider, ''), \
    coalesce(CASE WHEN jsonb_typeof(i.raw_data->'cpu_cores') = 'number' THEN (i.raw_data->>'cpu_cores')::float8 END, \
    i.cpu_cores::float8), i.memory_gb::float8, coalesce(i.gpu_count, 0), coalesce(i.gpu_model, ''), \
    i.price_hourly::float8, coalesce(i.price_currency, 'USD'), \
    ARRAY(SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(i.regions) = 'array' THEN i.regions ELSE '[]' END)), \
    coalesce(extract(epoch FROM i.updated_at)::bigint, 0) \
    FROM cloud.instances i";

fn entry(kind: Kind, row: &sqlx::postgres::PgRow) -> std::result::Result<Input, sqlx::Error> {
    let id: String = row.try_get(0)?;
    let name = clean(&row.try_get::<String, _>(1)?, NAME_MAX);
    let description = clean(&row.try_get::<String, _>(2)?, DESCRIPTION_MAX);
    Ok(match kind {
        Kind::Packages => {
            let stars: i64 = row.try_get(7)?;
            let ts: i64 = row.try_get(8)?;
            let repository = clean(&row.try_get::<String, _>(5)?, NAME_MAX);
            let category = clean(&row.try_get::<String, _>(6)?, NAME_MAX);
            let operator: bool = row.try_get(12)?;
            let capability = clean(&row.try_get::<String, _>(13)?, NAME_MAX);
            Input {
                id,
                name,
                description,
                keywords: row.try_get(3)?,
                cells: vec![
                    clean(&row.try_get::<String, _>(4)?, 40),
                    repository.clone(),
                    category.clone(),
                    stars.to_string(),
                    age_cell(ts),
                ],
                facets: vec![
                    one(category),
                    one(repository),
                    yes_no(row.try_get(9)?),
                    yes_no(row.try_get(10)?),
                    yes_no(row.try_get(11)?),
                    yes_no(operator),
                    if operator { one(capability) } else { vec![] },
                    yes_no(row.try_get(14)?),
                    yes_no(row.try_get(15)?),
                    yes_no(row.try_get(16)?),
                ],
                stars,
                updated: ts,
            }
        }
        Kind::Apps => {
            let vendor = clean(&row.try_get::<String, _>(4)?, NAME_MAX);
            let types: Vec<String> = row.try_get(7)?;
            let profiles: i64 = row.try_get(8)?;
            Input {
                id,
                name,
                description,
                keywords: row.try_get(3)?,
                cells: vec![vendor.clone(), clean(&row.try_get::<String, _>(5)?, 40), profiles.to_string()],
                facets: vec![
                    one(vendor),
                    types.iter().map(|t| clean(t, 40)).collect(),
                    one(clean(&row.try_get::<String, _>(6)?, NAME_MAX)),
                ],
                stars: profiles,
                updated: 0,
            }
        }
        Kind::Solutions => {
            let kind_: String = row.try_get(4)?;
            let status: String = row.try_get(6)?;
            let uses: i64 = row.try_get(7)?;
            Input {
                id,
                name,
                description,
                keywords: row.try_get(3)?,
                cells: vec![kind_.clone(), clean(&row.try_get::<String, _>(5)?, 40), status.clone(), uses.to_string()],
                facets: vec![one(kind_), one(status)],
                stars: uses,
                updated: row.try_get(8)?,
            }
        }
        Kind::Agents => {
            let framework = clean(&row.try_get::<String, _>(3)?, 40);
            let status = clean(&row.try_get::<String, _>(4)?, 40);
            let agent_type = clean(&row.try_get::<String, _>(5)?, 40);
            let publication: Vec<String> = row.try_get::<Vec<String>, _>(7)?.iter().map(|s| clean(s, 40)).collect();
            let integrations: i64 = row.try_get(8)?;
            Input {
                id,
                name,
                description,
                keywords: vec![framework.clone(), agent_type.clone()],
                cells: vec![
                    framework.clone(),
                    status.clone(),
                    publication.join(","),
                    clean(&row.try_get::<String, _>(6)?, 20),
                ],
                facets: vec![one(framework), one(status), publication, one(agent_type)],
                stars: integrations,
                updated: row.try_get(9)?,
            }
        }
        Kind::Instances => {
            let provider = clean(&row.try_get::<String, _>(3)?, 40);
            // The source's share of a core (gcp e2-micro: 0.25), not the seed column's integer.
            let cores: Option<f64> = row.try_get(4)?;
            let memory: Option<f64> = row.try_get(5)?;
            let gpus: i32 = row.try_get(6)?;
            let gpu_model = clean(&row.try_get::<String, _>(7)?, 60);
            let price: Option<f64> = row.try_get(8)?;
            let regions: Vec<String> = row.try_get(10)?;
            Input {
                id,
                name,
                description,
                keywords: vec![provider.clone(), gpu_model.clone()],
                cells: vec![
                    provider.clone(),
                    cores.map(crate::domain::cloud::vcpus).unwrap_or_default(),
                    memory.map(|m| format!("{m} GB")).unwrap_or_default(),
                    if gpus > 0 { format!("{gpus}× {gpu_model}") } else { String::new() },
                    price.map(|p| format!("{p:.4}")).unwrap_or_default(),
                ],
                facets: vec![
                    one(provider),
                    regions.iter().map(|r| clean(r, 40)).collect(),
                    if gpus > 0 { one(gpu_model) } else { vec!["no GPU".into()] },
                    bucket(cores, CORES, ""),
                    bucket(memory, MEMORY, " GB"),
                    price_bucket(price),
                ],
                // Cheapest first when ranked: a lower price ranks higher.
                stars: price.map_or(i64::MIN, |p| -(p * 1e6) as i64),
                updated: row.try_get(11)?,
            }
        }
    })
}

fn query(kind: Kind) -> &'static str {
    match kind {
        Kind::Packages => PACKAGES,
        Kind::Apps => APPS,
        Kind::Solutions => SOLUTIONS,
        Kind::Agents => AGENTS,
        Kind::Instances => INSTANCES,
    }
}

/// Read a whole catalogue into the searchable form.
pub async fn catalogue(services: &Services, kind: Kind) -> Result<Catalogue> {
    // Each row goes into the catalogue as it arrives, while the server sends the next ones.
    let mut builder = Builder::new(kind.facets());
    let mut rows = sqlx::query(query(kind)).fetch(&services.pool);
    while let Some(row) = rows.try_next().await? {
        builder.add(entry(kind, &row)?);
    }
    Ok(finish(kind, builder))
}

/// Every entry of a kind as read from the database (sanitised, ready to build).
pub async fn inputs(services: &Services, kind: Kind) -> Result<Vec<Input>> {
    let mut out = Vec::new();
    let mut rows = sqlx::query(query(kind)).fetch(&services.pool);
    while let Some(row) = rows.try_next().await? {
        out.push(entry(kind, &row)?);
    }
    Ok(out)
}

/// Build a kind's catalogue from its entries: facets in the kind's order, buckets in theirs.
pub fn build(kind: Kind, inputs: Vec<Input>) -> Catalogue {
    let mut builder = Builder::new(kind.facets());
    for input in inputs {
        builder.add(input);
    }
    finish(kind, builder)
}

/// The catalogue of the entries added: facets in the kind's order, buckets in theirs.
fn finish(kind: Kind, builder: Builder) -> Catalogue {
    let mut catalogue = builder.finish(kind.ordered_facets());
    for facet in kind.ordered_facets() {
        let order = bucket_order(kind, facet);
        if let Some(f) = catalogue.facet_index(facet) {
            catalogue.reorder_values(f, &order);
        }
    }
    catalogue
}

/// The selection a list opens with: the kind's default picks (deprecated packages hidden).
pub fn default_selection(kind: Kind, catalogue: &Catalogue) -> Selection {
    let mut selection = Selection::none(catalogue);
    for (facet, value) in kind.default_picks() {
        selection.pick(catalogue, facet, value);
    }
    selection
}

/// How many entries match `query` under `selection` but with the kind's default picks
/// (`deprecated=no`) dropped: what a search that found nothing hides. 0 when nothing is hidden.
pub fn hidden_by_defaults(kind: Kind, catalogue: &Catalogue, query: &str, selection: &Selection) -> usize {
    let defaults = default_selection(kind, catalogue).describe(catalogue);
    let picks = selection.describe(catalogue);
    if !picks.iter().any(|p| defaults.contains(p)) {
        return 0;
    }
    let mut wider = Selection::none(catalogue);
    for p in picks.iter().filter(|p| !defaults.contains(p)) {
        if let Some((f, v)) = p.split_once('=') {
            wider.pick(catalogue, f, v);
        }
    }
    crate::domain::catalogue::Searcher::default()
        .run(catalogue, query, &wider, crate::domain::catalogue::Sort::Relevance)
        .rows
        .len()
}

/// A selection from facet values named as `(facet, value)`: over the kind's defaults (or over
/// nothing), a facet named replaces its default (`deprecated=yes` drops `deprecated=no`), several
/// values of one facet add up. The error names the facet or value that is not there.
pub fn selection_of(
    kind: Kind,
    catalogue: &Catalogue,
    picks: &[(String, String)],
    defaults: bool,
) -> std::result::Result<Selection, String> {
    let mut selection = if defaults { default_selection(kind, catalogue) } else { Selection::none(catalogue) };
    for (facet, _) in picks {
        match catalogue.facet_index(facet) {
            Some(f) => selection.clear(f),
            None => {
                return Err(format!(
                    "{} have no facet {facet:?} (they have: {})",
                    kind.title(),
                    kind.facets().join(", ")
                ))
            }
        }
    }
    for (facet, value) in picks {
        if !selection.pick(catalogue, facet, value) {
            return Err(format!("no {} has {facet} {value:?}", kind.noun()));
        }
    }
    Ok(selection)
}

/// One found entry, as the CLI prints it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Found {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The list's columns by name (lower case), typed: counts and prices as numbers, `updated`
    /// as an RFC 3339 time, `memory` as `memory_gb`, `$/hour` as `price_hourly` (docs/json.md).
    pub columns: std::collections::BTreeMap<String, serde_json::Value>,
    /// The fuzzy score (0 for a server-side search or an empty query).
    pub score: u32,
    /// The columns as the table shows them.
    #[serde(skip)]
    pub cells: Vec<String>,
}

/// A column of a found entry as a key and a typed value (an empty cell is null).
fn typed_column(title: &str, cell: &str, e: &crate::domain::catalogue::Entry) -> (String, serde_json::Value) {
    use serde_json::Value;
    let number = |text: &str| {
        text.trim().parse::<f64>().ok().map_or(Value::Null, |n| {
            if n.fract() == 0.0 && n.abs() < 9e15 {
                Value::from(n as i64)
            } else {
                Value::from(n)
            }
        })
    };
    match title {
        "STARS" | "PROFILES" | "USES" | "VCPU" => (title.to_lowercase(), number(cell)),
        "$/HOUR" => ("price_hourly".into(), number(cell)),
        "MEMORY" => ("memory_gb".into(), number(cell.trim_end_matches("GB"))),
        "UPDATED" => (
            "updated".into(),
            chrono::DateTime::from_timestamp(e.updated, 0)
                .filter(|_| e.updated > 0)
                .map_or(Value::Null, |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into()),
        ),
        _ if cell.is_empty() => (title.to_lowercase(), Value::Null),
        _ => (title.to_lowercase(), cell.into()),
    }
}

/// Entries of the catalogue as `Found`, in the given order.
pub fn found(kind: Kind, catalogue: &Catalogue, hits: impl IntoIterator<Item = Hit>) -> Vec<Found> {
    hits.into_iter()
        .filter_map(|h| {
            let e = catalogue.entries.get(h.entry as usize)?;
            Some(Found {
                id: e.id.clone(),
                name: e.name.clone(),
                description: e.description.clone(),
                columns: kind.columns().iter().zip(&e.cells).map(|(c, cell)| typed_column(c, cell, e)).collect(),
                score: h.score,
                cells: e.cells.clone(),
            })
        })
        .collect()
}

/// The server-side search's ids as hits of the catalogue, in the server's order (ids the
/// catalogue does not hold, added since it was read, are left out).
pub fn hits_of(catalogue: &Catalogue, ids: &[String]) -> Vec<Hit> {
    let index: std::collections::HashMap<&str, u32> =
        catalogue.entries.iter().enumerate().map(|(i, e)| (e.id.as_str(), i as u32)).collect();
    ids.iter().filter_map(|id| index.get(id.as_str()).map(|&entry| Hit { entry, score: 0 })).collect()
}

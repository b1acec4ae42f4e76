//! A Helm repository index (index.yaml) as marketplace packages, by SEMANTICS.md's mapping:
//! one package per chart; the newest version's fields; every version in available_versions.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;
use serde_json::{json, Value};

use super::InputError;
use crate::domain::marketplace::{capability_level, category_id, Package};

#[derive(Debug, Deserialize)]
struct Index {
    #[serde(default)]
    entries: BTreeMap<String, Vec<ChartVersion>>,
}

#[derive(Debug, Deserialize)]
struct ChartVersion {
    #[serde(deserialize_with = "scalar_string")]
    version: String,
    #[serde(rename = "appVersion", default, deserialize_with = "opt_scalar_string")]
    app_version: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    home: Option<String>,
    #[serde(default)]
    icon: Option<String>,
    #[serde(default)]
    keywords: Option<Vec<Option<String>>>,
    #[serde(default)]
    sources: Option<Vec<Option<String>>>,
    #[serde(default)]
    dependencies: Option<Vec<Value>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, serde_yaml_ng::Value>>,
    #[serde(default)]
    deprecated: Option<bool>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    urls: Option<Vec<String>>,
    #[serde(default)]
    digest: Option<String>,
}

fn yaml_scalar(v: serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn scalar_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    yaml_scalar(serde_yaml_ng::Value::deserialize(d)?)
        .ok_or_else(|| serde::de::Error::custom("expected a string or a number"))
}

fn opt_scalar_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(yaml_scalar(serde_yaml_ng::Value::deserialize(d)?))
}

/// A chart's README as a readmes file holds it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Readme {
    #[serde(rename = "readme")]
    pub text: String,
    /// Only the start of the real README: said by the line (`"cut": true`), or known from the
    /// source's rule (it keeps the first [`README_KEPT`] characters).
    #[serde(default)]
    pub cut: Option<bool>,
}

/// The readmes files of `assets/helm` (and of ../shared/data) keep this many characters of each
/// README (SOURCES.md): one that long was cut there.
pub const README_KEPT: usize = 2_000;

impl Readme {
    pub fn is_cut(&self) -> bool {
        self.cut.unwrap_or_else(|| self.text.chars().count() >= README_KEPT)
    }
}

/// The readmes file: one {chart, version, readme} object per line (`cut` optional).
pub fn read_readmes(path: &Path) -> Result<HashMap<String, Readme>, InputError> {
    let text = std::fs::read_to_string(path).map_err(|e| InputError::new(path, e.to_string()))?;
    parse_readmes(path, &text)
}

/// [`read_readmes`] of text already read; errors name `path` and the line.
pub fn parse_readmes(path: &Path, text: &str) -> Result<HashMap<String, Readme>, InputError> {
    #[derive(Deserialize)]
    struct Line {
        chart: String,
        #[serde(flatten)]
        readme: Readme,
    }
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = super::json_line(path, i + 1, line)?;
        out.insert(parsed.chart, parsed.readme);
    }
    Ok(out)
}

/// What the importer needs to know about the repository.
#[derive(Debug, Clone)]
pub struct Repository {
    pub name: String,
    pub url: Option<String>,
}

/// The result of parsing an index: packages, and how many versions they hold.
#[derive(Debug)]
pub struct Parsed {
    pub packages: Vec<Package>,
    pub versions: usize,
}

/// Parse an index.yaml's text. Nothing is written.
pub fn parse(
    path: &Path,
    text: &str,
    repo: &Repository,
    readmes: &HashMap<String, Readme>,
) -> Result<Parsed, InputError> {
    let index: Index = serde_yaml_ng::from_str(text).map_err(|e| super::yaml_error(path, e))?;
    let mut packages = Vec::with_capacity(index.entries.len());
    let mut versions = 0;
    for (chart, entries) in index.entries {
        if entries.is_empty() {
            continue;
        }
        let entries = one_per_version(entries);
        versions += entries.len();
        packages.push(package(chart, entries, repo, readmes));
    }
    Ok(Parsed { packages, versions })
}

fn annotation(v: &ChartVersion, keys: &[&str]) -> Option<String> {
    let annotations = v.annotations.as_ref()?;
    keys.iter().find_map(|k| annotations.get(*k).cloned().and_then(yaml_scalar)).filter(|s| !s.trim().is_empty())
}

fn is_true(v: &ChartVersion, key: &str) -> bool {
    annotation(v, &[key]).is_some_and(|s| s.trim().eq_ignore_ascii_case("true"))
}

fn epoch(created: &Option<String>) -> Option<i64> {
    created.as_deref().and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok()).map(|t| t.timestamp())
}

fn is_prerelease(v: &ChartVersion) -> bool {
    is_true(v, "artifacthub.io/prerelease")
        || semver::Version::parse(v.version.trim_start_matches('v')).is_ok_and(|s| !s.pre.is_empty())
}

/// A chart version re-published is listed twice: Artifact Hub keeps one entry per version, the
/// newest (by `created`; among equals, the later in the file).
fn one_per_version(entries: Vec<ChartVersion>) -> Vec<ChartVersion> {
    let mut kept: Vec<ChartVersion> = Vec::with_capacity(entries.len());
    for e in entries {
        match kept.iter_mut().find(|k| k.version == e.version) {
            Some(k) if epoch(&e.created) >= epoch(&k.created) => *k = e,
            Some(_) => {}
            None => kept.push(e),
        }
    }
    kept
}

/// Newest first: by semantic version where both parse, else by release time.
fn newest_first(entries: &mut [ChartVersion]) {
    entries.sort_by(|a, b| {
        let sa = semver::Version::parse(a.version.trim_start_matches('v'));
        let sb = semver::Version::parse(b.version.trim_start_matches('v'));
        match (sa, sb) {
            (Ok(x), Ok(y)) => y.cmp(&x),
            _ => epoch(&b.created).cmp(&epoch(&a.created)),
        }
    });
}

/// `images` / `artifacthub.io/images`: a YAML list of {name, image, whitelisted?, platforms?}.
fn container_images(v: &ChartVersion) -> Value {
    #[derive(Deserialize)]
    struct Image {
        #[serde(default)]
        name: Option<String>,
        image: String,
        #[serde(default)]
        whitelisted: Option<bool>,
        #[serde(default)]
        platforms: Option<Vec<String>>,
    }
    let Some(text) = annotation(v, &["artifacthub.io/images", "images"]) else { return json!([]) };
    let images: Vec<Image> = serde_yaml_ng::from_str(&text).unwrap_or_default();
    Value::Array(
        images
            .into_iter()
            .map(|i| {
                json!({
                    "name": i.name.unwrap_or_else(|| i.image.rsplit('/').next().unwrap_or(&i.image).to_string()),
                    "image": i.image,
                    "whitelisted": i.whitelisted.unwrap_or(false),
                    "platforms": i.platforms.unwrap_or_default(),
                })
            })
            .collect(),
    )
}

fn package(
    chart: String,
    mut entries: Vec<ChartVersion>,
    repo: &Repository,
    readmes: &HashMap<String, Readme>,
) -> Package {
    newest_first(&mut entries);
    // The latest version is the newest stable one; a chart with only pre-releases uses its newest.
    let latest = entries.iter().position(|e| !is_prerelease(e)).unwrap_or(0);
    let category = entries
        .iter()
        .find_map(|e| annotation(e, &["artifacthub.io/category", "category"]))
        .map(|c| category_id(&c))
        .unwrap_or(0);
    let available_versions = Value::Array(
        entries
            .iter()
            .map(|e| {
                json!({
                    "version": e.version,
                    "app_version": e.app_version,
                    "contains_security_updates": is_true(e, "artifacthub.io/containsSecurityUpdates"),
                    "prerelease": is_prerelease(e),
                    "ts": epoch(&e.created),
                })
            })
            .collect(),
    );
    let e = &entries[latest];
    let strings = |v: &Option<Vec<Option<String>>>| -> Vec<String> {
        v.iter().flatten().flatten().filter(|s| !s.trim().is_empty()).cloned().collect()
    };
    let links: Vec<Value> = strings(&e.sources).into_iter().map(|url| json!({"name": "source", "url": url})).collect();
    Package {
        name: chart.clone(),
        category,
        is_operator: is_true(e, "artifacthub.io/operator"),
        capabilities: annotation(e, &["artifacthub.io/operatorCapabilities"])
            .and_then(|c| capability_level(&c))
            .map(str::to_string),
        description: e.description.clone(),
        home_url: e.home.clone(),
        readme: readmes.get(&chart).map(|r| r.text.clone()),
        readme_cut: readmes.get(&chart).is_some_and(Readme::is_cut),
        version: e.version.clone(),
        app_version: e.app_version.clone(),
        digest: e.digest.clone(),
        deprecated: e.deprecated.unwrap_or(false),
        contains_security_updates: is_true(e, "artifacthub.io/containsSecurityUpdates"),
        prerelease: is_prerelease(e),
        signed: annotation(e, &["artifacthub.io/signKey"]).is_some(),
        content_url: e.urls.as_ref().and_then(|u| u.first().cloned()),
        license: annotation(e, &["artifacthub.io/license", "licenses"]),
        logo_url: e.icon.clone(),
        ts: epoch(&e.created),
        keywords: json!(strings(&e.keywords)),
        links: Value::Array(links),
        available_versions,
        dependencies: json!(e.dependencies.clone().unwrap_or_default()),
        container_images: container_images(e),
        repository_name: repo.name.clone(),
        repository_url: repo.url.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_readme_as_long_as_the_source_keeps_is_cut_unless_the_line_says() {
        let full = "x".repeat(README_KEPT);
        let text = format!(
            "{{\"chart\":\"a\",\"readme\":\"{full}\"}}\n{{\"chart\":\"b\",\"readme\":\"# b\"}}\n\
             {{\"chart\":\"c\",\"readme\":\"{full}\",\"cut\":false}}\n{{\"chart\":\"d\",\"readme\":\"# d\",\"cut\":true}}\n"
        );
        let r = parse_readmes(Path::new("r.jsonl"), &text).unwrap_or_default();
        let cut = |c: &str| r.get(c).map(Readme::is_cut);
        assert_eq!((cut("a"), cut("b"), cut("c"), cut("d")), (Some(true), Some(false), Some(false), Some(true)));
        let e = parse_readmes(Path::new("r.jsonl"), "{\"chart\":\"a\"}\n").unwrap_err().to_string();
        assert!(e.contains("r.jsonl") && e.contains("line 1") && e.contains("readme"), "{e}");
    }

    fn repo() -> Repository {
        Repository { name: "test".into(), url: Some("https://charts.example.com".into()) }
    }

    const INDEX: &str = r#"apiVersion: v1
entries:
  db:
  - name: db
    version: 2.0.0-rc.1
    appVersion: "16.1"
    created: '2026-03-01T00:00:00Z'
  - name: db
    version: 1.10.0
    appVersion: 15.4
    description: A database
    home: https://db.example.com
    keywords: [sql, database]
    sources: [https://github.com/example/db]
    deprecated: false
    annotations:
      licenses: Apache-2.0
      images: |
        - name: db
          image: docker.io/example/db:15.4
        - image: docker.io/example/exporter:1.0
      artifacthub.io/containsSecurityUpdates: "true"
    created: '2026-02-01T00:00:00Z'
  - name: db
    version: 1.9.0
    annotations:
      category: Database
    created: '2026-01-01T00:00:00Z'
  op:
  - name: op
    version: 0.1.0
    annotations:
      artifacthub.io/operator: "true"
      artifacthub.io/operatorCapabilities: Full Lifecycle
"#;

    #[test]
    fn a_version_published_twice_is_one_version_and_the_newest_entry_wins() {
        let index = r#"apiVersion: v1
entries:
  web:
  - {name: web, version: 1.0.0, description: first, created: '2026-01-01T00:00:00Z'}
  - {name: web, version: 1.1.0, description: other, created: '2026-01-05T00:00:00Z'}
  - {name: web, version: 1.0.0, description: again, created: '2026-02-01T00:00:00Z'}
"#;
        let parsed = parse(Path::new("index.yaml"), index, &repo(), &HashMap::new()).unwrap();
        assert_eq!(parsed.versions, 2, "counted once");
        let web = &parsed.packages[0];
        let versions: Vec<&str> =
            web.available_versions.as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap()).collect();
        assert_eq!(versions, ["1.1.0", "1.0.0"]);
        let v100 = web.available_versions.as_array().unwrap().iter().find(|v| v["version"] == "1.0.0").unwrap();
        assert_eq!(v100["ts"], 1_769_904_000, "the re-published entry: {v100}");
    }

    #[test]
    fn maps_the_newest_stable_version_and_keeps_every_version() {
        let parsed = parse(Path::new("index.yaml"), INDEX, &repo(), &HashMap::new()).unwrap();
        assert_eq!(parsed.versions, 4);
        let db = parsed.packages.iter().find(|p| p.name == "db").unwrap();
        assert_eq!(db.version, "1.10.0", "the pre-release is not the latest");
        assert_eq!(db.app_version.as_deref(), Some("15.4"), "numbers become strings");
        assert_eq!(db.category, 2, "from the newest version that has one");
        assert_eq!(db.license.as_deref(), Some("Apache-2.0"));
        assert!(db.contains_security_updates);
        assert_eq!(db.keywords, json!(["sql", "database"]));
        assert_eq!(db.links, json!([{"name": "source", "url": "https://github.com/example/db"}]));
        assert_eq!(db.container_images[1]["name"], "exporter:1.0");
        assert_eq!(db.container_images[0]["whitelisted"], false);
        let versions: Vec<&str> =
            db.available_versions.as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap()).collect();
        assert_eq!(versions, ["2.0.0-rc.1", "1.10.0", "1.9.0"]);
        assert_eq!(db.available_versions[0]["prerelease"], true);
        assert_eq!(db.ts, Some(1_769_904_000));
        assert_eq!(db.repository_url.as_deref(), Some("https://charts.example.com"));

        let op = parsed.packages.iter().find(|p| p.name == "op").unwrap();
        assert!(op.is_operator);
        assert_eq!(op.capabilities.as_deref(), Some("full lifecycle"));
        assert_eq!(op.category, 0);
        assert_eq!(op.content_url, None, "urls and digest are optional");
    }

    #[test]
    fn malformed_yaml_names_line_and_column() {
        let err =
            parse(Path::new("bad.yaml"), "apiVersion: v1\nentries:\n  x:\n  - version: [1\n", &repo(), &HashMap::new())
                .unwrap_err();
        assert_eq!(err.line, Some(5), "{err}");
        assert!(err.to_string().starts_with("bad.yaml: line 5, column"), "{err}");
    }

    #[test]
    fn a_version_without_its_version_field_is_refused() {
        let err = parse(Path::new("i.yaml"), "entries:\n  x:\n  - name: x\n", &repo(), &HashMap::new()).unwrap_err();
        assert!(err.message.contains("missing field `version`"), "{err}");
        assert!(err.line.is_some());
    }
}

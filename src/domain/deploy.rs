//! What deploying from the Marketplace submits: a Flux HelmRepository plus HelmRelease for a
//! package, a Margo ApplicationDeployment for an edge app's deployment profile. Each form's
//! fields are checked here, and every problem names its field.

use serde::Serialize;
use serde_json::Value as Json;
use serde_yaml_ng::{Mapping, Value};

/// A problem with one field of a deploy form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn err(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError { field, message: message.into() }
}

/// A Kubernetes object name (RFC 1123 label): lowercase letters, digits and `-`, starting and
/// ending with a letter or digit, at most `max` characters.
pub fn check_name(field: &'static str, text: &str, max: usize) -> Result<String, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(err(field, "required"));
    }
    if t.chars().count() > max {
        return Err(err(field, format!("at most {max} characters ({} given)", t.chars().count())));
    }
    if let Some(c) = t.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(err(field, format!("{c:?} is not allowed: lowercase letters, digits and '-' only")));
    }
    if t.starts_with('-') || t.ends_with('-') {
        return Err(err(field, "must start and end with a letter or digit"));
    }
    Ok(t.to_string())
}

/// `text` made into an object name: lowercase, other characters as `-`, trimmed to `max`.
pub fn to_name(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '-' };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    let mut out: String = out.chars().take(max).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "app".into()
    } else {
        out
    }
}

/// Helm values typed in the form: empty, or a YAML mapping. A syntax error names its line.
pub fn parse_values(text: &str) -> Result<Mapping, FieldError> {
    if text.trim().is_empty() {
        return Ok(Mapping::new());
    }
    match serde_yaml_ng::from_str::<Value>(text) {
        Ok(Value::Mapping(m)) => Ok(m),
        Ok(Value::Null) => Ok(Mapping::new()),
        Ok(_) => Err(err("values", "must be a mapping of keys to values, e.g. replicaCount: 2")),
        Err(e) => {
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_string();
            Err(err(
                "values",
                match e.location() {
                    Some(l) => format!("line {}, column {}: {message}", l.line(), l.column()),
                    None => message,
                },
            ))
        }
    }
}

/// A package to deploy through Flux.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmDeploy {
    pub chart: String,
    pub repository: String,
    pub repository_url: String,
    pub version: String,
    pub release: String,
    pub namespace: String,
    pub values: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<S: Serialize> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: S,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Mapping>,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<Mapping>,
}

#[derive(Serialize)]
struct HelmRepositorySpec {
    interval: &'static str,
    url: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
}

#[derive(Serialize)]
struct HelmReleaseSpec {
    interval: &'static str,
    chart: ChartTemplate,
    #[serde(skip_serializing_if = "Mapping::is_empty")]
    values: Mapping,
}

#[derive(Serialize)]
struct ChartTemplate {
    spec: ChartSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChartSpec {
    chart: String,
    version: String,
    source_ref: SourceRef,
}

#[derive(Serialize)]
struct SourceRef {
    kind: &'static str,
    name: String,
    namespace: String,
}

/// Where Flux keeps its sources.
pub const FLUX_NAMESPACE: &str = "flux-system";

fn labels(pairs: &[(&str, &str)]) -> Option<Mapping> {
    Some(pairs.iter().map(|(k, v)| (Value::from(*k), Value::from(*v))).collect())
}

fn yaml_of<T: Serialize>(docs: &[T]) -> String {
    docs.iter().map(|d| serde_yaml_ng::to_string(d).unwrap_or_default()).collect::<Vec<_>>().join("---\n")
}

impl HelmDeploy {
    /// The two documents, after checking every field (errors name the field).
    pub fn yaml(&self) -> Result<String, FieldError> {
        let release = check_name("release", &self.release, 53)?;
        let namespace = check_name("namespace", &self.namespace, 63)?;
        if self.version.trim().is_empty() {
            return Err(err("version", "choose a chart version"));
        }
        let url = self.repository_url.trim();
        let oci = url.starts_with("oci://");
        if !(oci || url.starts_with("https://") || url.starts_with("http://")) {
            return Err(err(
                "repository",
                format!("the repository {:?} has no chart URL Flux can read (http, https or oci)", self.repository),
            ));
        }
        let values = parse_values(&self.values)?;
        let source = to_name(&self.repository, 63);
        let managed = [("app.kubernetes.io/managed-by", "fleetdeck")];
        let repository = Object {
            api_version: "source.toolkit.fluxcd.io/v1",
            kind: "HelmRepository",
            metadata: Metadata {
                name: source.clone(),
                namespace: FLUX_NAMESPACE.into(),
                labels: labels(&managed),
                annotations: None,
            },
            spec: HelmRepositorySpec { interval: "1h", url: url.to_string(), kind: oci.then_some("oci") },
        };
        let helm_release = Object {
            api_version: "helm.toolkit.fluxcd.io/v2",
            kind: "HelmRelease",
            metadata: Metadata { name: release, namespace, labels: labels(&managed), annotations: None },
            spec: HelmReleaseSpec {
                interval: "10m",
                chart: ChartTemplate {
                    spec: ChartSpec {
                        chart: self.chart.clone(),
                        version: self.version.trim().to_string(),
                        source_ref: SourceRef {
                            kind: "HelmRepository",
                            name: source,
                            namespace: FLUX_NAMESPACE.into(),
                        },
                    },
                },
                values,
            },
        };
        Ok(format!("{}---\n{}", yaml_of(&[repository]), yaml_of(&[helm_release])))
    }
}

/// One component of a deployment profile, as the catalogue holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: String,
    /// {repository, revision, wait, timeout, packageLocation, keyLocation}
    pub properties: Json,
}

/// An edge app's deployment profile to deploy to a site.
#[derive(Debug, Clone, PartialEq)]
pub struct MargoDeploy {
    pub app_id: String,
    /// The profile's stored id (`<app_id>/<profile id>`).
    pub profile_id: String,
    pub profile_type: String,
    pub components: Vec<Component>,
    pub site: String,
    pub namespace: String,
    /// `pointer=value`, one per line.
    pub parameters: String,
    /// The deployment's id (metadata.annotations.id).
    pub id: uuid::Uuid,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MargoSpec {
    deployment_profile: MargoProfile,
    #[serde(skip_serializing_if = "Mapping::is_empty")]
    parameters: Mapping,
}

#[derive(Serialize)]
struct MargoProfile {
    #[serde(rename = "type")]
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    components: Vec<MargoComponent>,
}

#[derive(Serialize)]
struct MargoComponent {
    name: String,
    properties: Json,
}

/// `pointer=value` lines into Margo parameters, each targeting every component. A value is read
/// as YAML (`3`, `true`, `"text"`), so types survive.
pub fn parse_parameters(text: &str, components: &[String]) -> Result<Mapping, FieldError> {
    let mut out = Mapping::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((pointer, value)) = line.split_once('=') else {
            return Err(err("parameters", format!("line {}: write pointer=value, e.g. global.replicas=2", n + 1)));
        };
        let pointer = pointer.trim();
        if pointer.is_empty() || pointer.chars().any(char::is_whitespace) {
            return Err(err("parameters", format!("line {}: {pointer:?} is not a parameter pointer", n + 1)));
        }
        let key = Value::from(pointer);
        if out.contains_key(&key) {
            return Err(err("parameters", format!("line {}: {pointer} is set twice", n + 1)));
        }
        let value = match serde_yaml_ng::from_str::<Value>(value.trim()) {
            Ok(v @ (Value::Bool(_) | Value::Number(_) | Value::String(_))) => v,
            _ => Value::from(value.trim()),
        };
        let mut target = Mapping::new();
        target.insert("pointer".into(), pointer.into());
        target
            .insert("components".into(), Value::Sequence(components.iter().map(|c| Value::from(c.as_str())).collect()));
        let mut p = Mapping::new();
        p.insert("value".into(), value);
        p.insert("targets".into(), Value::Sequence(vec![Value::Mapping(target)]));
        out.insert(key, Value::Mapping(p));
    }
    Ok(out)
}

impl MargoDeploy {
    /// The deployment's object name: the app id and the site.
    pub fn name(&self) -> String {
        to_name(&format!("{}-{}", self.app_id, self.site), 63)
    }

    pub fn yaml(&self) -> Result<String, FieldError> {
        let namespace = check_name("namespace", &self.namespace, 63)?;
        if self.site.trim().is_empty() {
            return Err(err("site", "choose the site to deploy to"));
        }
        if self.components.is_empty() {
            return Err(err("profile", format!("profile {} has no components to deploy", self.profile_id)));
        }
        let names: Vec<String> = self.components.iter().map(|c| c.name.clone()).collect();
        let parameters = parse_parameters(&self.parameters, &names)?;
        let mut annotations = Mapping::new();
        annotations.insert("id".into(), self.id.to_string().into());
        annotations.insert("applicationId".into(), self.app_id.clone().into());
        annotations.insert("fleetdeck.io/site".into(), self.site.trim().into());
        let profile_id = self.profile_id.strip_prefix(&format!("{}/", self.app_id)).map(str::to_string);
        let doc = Object {
            api_version: "application.margo.org/v1alpha1",
            kind: "ApplicationDeployment",
            metadata: Metadata { name: self.name(), namespace, labels: None, annotations: Some(annotations) },
            spec: MargoSpec {
                deployment_profile: MargoProfile {
                    kind: self.profile_type.clone(),
                    id: profile_id,
                    components: self
                        .components
                        .iter()
                        .map(|c| MargoComponent { name: c.name.clone(), properties: c.properties.clone() })
                        .collect(),
                },
                parameters,
            },
        };
        Ok(yaml_of(&[doc]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rollout::check_yaml;

    fn helm() -> HelmDeploy {
        HelmDeploy {
            chart: "postgresql".into(),
            repository: "Bitnami".into(),
            repository_url: "https://charts.bitnami.com/bitnami".into(),
            version: "16.4.2".into(),
            release: "orders-db".into(),
            namespace: "orders".into(),
            values: "auth:\n  database: orders\nprimary:\n  persistence:\n    size: 20Gi\n".into(),
        }
    }

    fn docs(yaml: &str) -> Vec<Value> {
        yaml.split("---\n").map(|d| serde_yaml_ng::from_str(d).unwrap_or(Value::Null)).collect()
    }

    #[test]
    fn a_package_becomes_a_helm_repository_and_a_release_of_that_version() {
        let yaml = helm().yaml().unwrap_or_default();
        let manifests = check_yaml(&yaml).unwrap_or_default();
        let kinds: Vec<&str> = manifests.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(kinds, ["HelmRepository", "HelmRelease"]);
        let d = docs(&yaml);
        assert_eq!(d[0]["metadata"]["name"], "bitnami");
        assert_eq!(d[0]["metadata"]["namespace"], "flux-system");
        assert_eq!(d[0]["spec"]["url"], "https://charts.bitnami.com/bitnami");
        assert!(d[0]["spec"].get("type").is_none());
        assert_eq!(d[1]["apiVersion"], "helm.toolkit.fluxcd.io/v2");
        assert_eq!(d[1]["metadata"]["name"], "orders-db");
        assert_eq!(d[1]["metadata"]["namespace"], "orders");
        let chart = &d[1]["spec"]["chart"]["spec"];
        assert_eq!(chart["chart"], "postgresql");
        assert_eq!(chart["version"], "16.4.2");
        assert_eq!(chart["sourceRef"]["kind"], "HelmRepository");
        assert_eq!(chart["sourceRef"]["name"], "bitnami");
        assert_eq!(d[1]["spec"]["values"]["primary"]["persistence"]["size"], "20Gi");
        // An OCI registry is a HelmRepository of type oci.
        let oci = HelmDeploy { repository_url: "oci://registry-1.docker.io/bitnamicharts".into(), ..helm() };
        assert_eq!(docs(&oci.yaml().unwrap_or_default())[0]["spec"]["type"], "oci");
    }

    #[test]
    fn each_bad_field_is_named() {
        let bad = |h: HelmDeploy| h.yaml().unwrap_err();
        assert_eq!(bad(HelmDeploy { namespace: "Orders".into(), ..helm() }).field, "namespace");
        assert_eq!(bad(HelmDeploy { release: "".into(), ..helm() }).message, "required");
        assert_eq!(bad(HelmDeploy { release: "-x".into(), ..helm() }).field, "release");
        assert_eq!(bad(HelmDeploy { version: " ".into(), ..helm() }).field, "version");
        assert_eq!(bad(HelmDeploy { repository_url: "".into(), ..helm() }).field, "repository");
        let e = bad(HelmDeploy { values: "a: 1\n b: [\n".into(), ..helm() });
        assert_eq!(e.field, "values");
        assert!(e.message.starts_with("line 2"), "{}", e.message);
        assert_eq!(bad(HelmDeploy { values: "- 1\n".into(), ..helm() }).field, "values");
        // Injected YAML stays a string value.
        let tricky = HelmDeploy { chart: "x\nkind: Secret".into(), ..helm() };
        assert_eq!(docs(&tricky.yaml().unwrap_or_default())[1]["spec"]["chart"]["spec"]["chart"], "x\nkind: Secret");
    }

    fn margo() -> MargoDeploy {
        MargoDeploy {
            app_id: "com-example-vision".into(),
            profile_id: "com-example-vision/arm-helm".into(),
            profile_type: "helm.v3".into(),
            components: vec![
                Component {
                    name: "vision".into(),
                    properties: serde_json::json!({"repository": "oci://r.example/vision", "revision": "1.2.0", "wait": true}),
                },
                Component {
                    name: "broker".into(),
                    properties: serde_json::json!({"repository": "oci://r.example/mq"}),
                },
            ],
            site: "site-00003".into(),
            namespace: "margo".into(),
            parameters: "# comment\nglobal.replicas=2\ncamera.url = rtsp://cam-1/stream\ndebug=true\n".into(),
            id: uuid::Uuid::nil(),
        }
    }

    #[test]
    fn an_app_profile_becomes_a_margo_application_deployment() {
        let yaml = margo().yaml().unwrap_or_default();
        let manifests = check_yaml(&yaml).unwrap_or_default();
        assert_eq!(manifests.len(), 1);
        let d = &docs(&yaml)[0];
        assert_eq!(d["apiVersion"], "application.margo.org/v1alpha1");
        assert_eq!(d["kind"], "ApplicationDeployment");
        assert_eq!(d["metadata"]["name"], "com-example-vision-site-00003");
        assert_eq!(d["metadata"]["annotations"]["applicationId"], "com-example-vision");
        assert_eq!(d["metadata"]["annotations"]["id"], uuid::Uuid::nil().to_string());
        let p = &d["spec"]["deploymentProfile"];
        assert_eq!(p["type"], "helm.v3");
        assert_eq!(p["id"], "arm-helm");
        assert_eq!(p["components"][0]["name"], "vision");
        assert_eq!(p["components"][0]["properties"]["revision"], "1.2.0");
        assert_eq!(p["components"][1]["properties"]["repository"], "oci://r.example/mq");
        let params = &d["spec"]["parameters"];
        assert_eq!(params["global.replicas"]["value"], 2);
        assert_eq!(params["debug"]["value"], true);
        assert_eq!(params["camera.url"]["value"], "rtsp://cam-1/stream");
        assert_eq!(params["global.replicas"]["targets"][0]["pointer"], "global.replicas");
        assert_eq!(params["global.replicas"]["targets"][0]["components"][1], "broker");
    }

    #[test]
    fn bad_parameters_name_their_line() {
        let bad = |p: &str| MargoDeploy { parameters: p.into(), ..margo() }.yaml().unwrap_err();
        assert_eq!(bad("replicas 2").message, "line 1: write pointer=value, e.g. global.replicas=2");
        assert_eq!(bad("a=1\na=2").message, "line 2: a is set twice");
        assert_eq!(bad("=3").field, "parameters");
        assert_eq!(MargoDeploy { site: "".into(), ..margo() }.yaml().unwrap_err().field, "site");
        assert_eq!(MargoDeploy { components: vec![], ..margo() }.yaml().unwrap_err().field, "profile");
        assert_eq!(to_name("Com.Example/Vision App", 63), "com-example-vision-app");
    }
}

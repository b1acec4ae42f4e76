//! LF Edge Margo application descriptions as catalog rows (SEMANTICS.md, seed 000).
//!
//! Two published forms are accepted: the 2024 form (`apiVersion: margo.org/v1-alpha1`,
//! `kind: application`, profile types `helm.v3` / `docker-compose`) and the 2025 form
//! (`kind: ApplicationDescription`, types `helm` / `compose`). Any of the four types is accepted
//! in either form. Every problem names its field, e.g. `deploymentProfiles[1].components[0].name`.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::InputError;

pub const PROFILE_TYPES: [&str; 4] = ["helm.v3", "docker-compose", "helm", "compose"];
pub const ARCHITECTURES: [&str; 5] = ["amd64", "arm64", "arm", "riscv64", "other"];
pub const PERIPHERALS: [&str; 6] = ["gpu", "display", "camera", "microphone", "speaker", "other"];
pub const INTERFACES: [&str; 8] = ["ethernet", "wifi", "cellular", "bluetooth", "usb", "canbus", "rs232", "other"];

/// One application description: a catalog.application_desc row and its profiles.
#[derive(Debug, Clone, PartialEq)]
pub struct AppDescription {
    pub app_id: String,
    pub name: String,
    pub vendor: Option<String>,
    pub version: String,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub site: Option<String>,
    pub tag_line: Option<String>,
    pub tags: Value,
    pub profiles: Vec<Profile>,
}

/// A catalog.deployment_profile row with its components.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// `<app_id>/<profile id>`, or `<app_id>/<index>` when the profile has no id.
    pub id: String,
    pub profile_type: String,
    pub description: Option<String>,
    pub cpu_cores: Option<f64>,
    pub memory: Option<String>,
    pub storage: Option<String>,
    pub cpu_architectures: Option<Value>,
    pub peripherals: Option<Value>,
    pub interfaces: Option<Value>,
    pub components: Vec<Component>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub name: String,
    pub properties: Value,
}

struct Ctx<'a> {
    file: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> InputError {
        InputError::new(self.file, message).field(field)
    }
}

fn get<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    v.get(key).filter(|x| !x.is_null())
}

fn string(ctx: &Ctx, v: &Value, key: &str, path: &str) -> Result<Option<String>, InputError> {
    match get(v, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(ctx.err(&join(path, key), "expected a string")),
    }
}

fn required(ctx: &Ctx, v: &Value, key: &str, path: &str) -> Result<String, InputError> {
    match string(ctx, v, key, path)? {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(_) => Err(ctx.err(&join(path, key), "must not be empty")),
        None => Err(ctx.err(&join(path, key), "is required")),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn list<'v>(ctx: &Ctx, v: &'v Value, key: &str, path: &str) -> Result<Option<&'v Vec<Value>>, InputError> {
    match get(v, key) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(ctx.err(&join(path, key), "expected a list")),
    }
}

/// A Kubernetes-style quantity with one of the allowed binary suffixes, e.g. `512Mi`.
pub fn valid_quantity(q: &str, suffixes: &[&str]) -> bool {
    let Some(suffix) = suffixes.iter().find(|s| q.ends_with(*s)) else { return false };
    let number = &q[..q.len() - suffix.len()];
    !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.parse::<f64>().is_ok_and(|n| n > 0.0)
}

/// A Go-style duration as Margo's component timeout uses it, e.g. `10m30s`.
pub fn valid_timeout(t: &str) -> bool {
    let mut rest = t;
    let mut seen = false;
    for unit in ["h", "m", "s"] {
        if let Some(i) = rest.find(unit) {
            let (n, tail) = rest.split_at(i);
            if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
                return false;
            }
            rest = &tail[1..];
            seen = true;
        }
    }
    seen && rest.is_empty()
}

fn typed_items(ctx: &Ctx, v: &Value, key: &str, path: &str, allowed: &[&str]) -> Result<Option<Value>, InputError> {
    let Some(items) = list(ctx, v, key, path)? else { return Ok(None) };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{}[{i}]", join(path, key));
        let kind = required(ctx, item, "type", &at)?;
        if !allowed.contains(&kind.as_str()) {
            return Err(ctx.err(&format!("{at}.type"), format!("{kind:?} is not one of {}", allowed.join(", "))));
        }
        let mut obj = Map::new();
        obj.insert("type".into(), json!(kind));
        for extra in ["manufacturer", "model"] {
            if let Some(s) = string(ctx, item, extra, &at)? {
                obj.insert(extra.into(), json!(s));
            }
        }
        out.push(Value::Object(obj));
    }
    Ok(Some(Value::Array(out)))
}

/// Parse and check one description. Nothing is written.
pub fn parse(file: &Path, text: &str) -> Result<AppDescription, InputError> {
    let ctx = Ctx { file };
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| super::yaml_error(file, e))?;
    if !doc.is_object() {
        return Err(InputError::new(file, "not a Margo application description (expected a YAML mapping)"));
    }
    let api = required(&ctx, &doc, "apiVersion", "")?;
    if !api.starts_with("margo.org/") {
        return Err(ctx.err("apiVersion", format!("{api:?} is not a margo.org API version")));
    }
    let kind = required(&ctx, &doc, "kind", "")?;
    if kind != "application" && kind != "ApplicationDescription" {
        return Err(
            ctx.err("kind", format!("{kind:?} is neither application (2024) nor ApplicationDescription (2025)"))
        );
    }
    let meta = get(&doc, "metadata").ok_or_else(|| ctx.err("metadata", "is required"))?;
    let app_id = required(&ctx, meta, "id", "metadata")?;
    if !app_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_') {
        return Err(ctx.err("metadata.id", "may hold only letters, digits, '-', '.' and '_'"));
    }
    let name = required(&ctx, meta, "name", "metadata")?;
    let version = required(&ctx, meta, "version", "metadata")?;
    let description = string(&ctx, meta, "description", "metadata")?;
    let empty = Value::Null;
    let catalog = get(meta, "catalog").unwrap_or(&empty);
    let application = get(catalog, "application").unwrap_or(&empty);
    let path = "metadata.catalog.application";
    let tags = match list(&ctx, application, "tags", path)? {
        Some(t) => {
            let mut out = Vec::new();
            for (i, tag) in t.iter().enumerate() {
                match tag {
                    Value::String(s) => out.push(json!(s)),
                    _ => return Err(ctx.err(&format!("{path}.tags[{i}]"), "expected a string")),
                }
            }
            Value::Array(out)
        }
        None => json!([]),
    };
    let vendor = match list(&ctx, catalog, "organization", "metadata.catalog")? {
        Some(orgs) => match orgs.first() {
            Some(first) => string(&ctx, first, "name", "metadata.catalog.organization[0]")?,
            None => None,
        },
        None => None,
    };

    let profiles_v =
        list(&ctx, &doc, "deploymentProfiles", "")?.ok_or_else(|| ctx.err("deploymentProfiles", "is required"))?;
    if profiles_v.is_empty() {
        return Err(ctx.err("deploymentProfiles", "needs at least one profile"));
    }
    let mut profiles = Vec::with_capacity(profiles_v.len());
    let mut ids = std::collections::HashSet::new();
    for (i, p) in profiles_v.iter().enumerate() {
        let at = format!("deploymentProfiles[{i}]");
        if !p.is_object() {
            return Err(ctx.err(&at, "expected a mapping"));
        }
        let profile_type = required(&ctx, p, "type", &at)?;
        if !PROFILE_TYPES.contains(&profile_type.as_str()) {
            return Err(
                ctx.err(&format!("{at}.type"), format!("{profile_type:?} is not one of {}", PROFILE_TYPES.join(", ")))
            );
        }
        let local_id = string(&ctx, p, "id", &at)?.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| i.to_string());
        let id = format!("{app_id}/{}", local_id.trim());
        if !ids.insert(id.clone()) {
            return Err(ctx.err(&format!("{at}.id"), format!("{local_id:?} is used by another profile")));
        }
        let comps =
            list(&ctx, p, "components", &at)?.ok_or_else(|| ctx.err(&format!("{at}.components"), "is required"))?;
        if comps.is_empty() {
            return Err(ctx.err(&format!("{at}.components"), "needs at least one component"));
        }
        let mut components = Vec::with_capacity(comps.len());
        for (j, c) in comps.iter().enumerate() {
            let cat = format!("{at}.components[{j}]");
            let cname = required(&ctx, c, "name", &cat)?;
            let props = get(c, "properties").cloned().unwrap_or_else(|| json!({}));
            if !props.is_object() {
                return Err(ctx.err(&format!("{cat}.properties"), "expected a mapping"));
            }
            if let Some(t) = string(&ctx, &props, "timeout", &format!("{cat}.properties"))? {
                if !valid_timeout(&t) {
                    return Err(
                        ctx.err(&format!("{cat}.properties.timeout"), format!("{t:?} is not a duration like 10m30s"))
                    );
                }
            }
            if let Some(w) = get(&props, "wait") {
                if !w.is_boolean() {
                    return Err(ctx.err(&format!("{cat}.properties.wait"), "expected true or false"));
                }
            }
            components.push(Component { name: cname, properties: props });
        }

        let rat = format!("{at}.requiredResources");
        let res = get(p, "requiredResources").unwrap_or(&empty);
        let cpu = get(res, "cpu").unwrap_or(&empty);
        // Two published forms (SEMANTICS.md): `cores` or `coreCountMinimum`; `architectures` (a
        // list) or `architecture` (one); sizes as quantities or `{sizeMinimum}` (a quantity or MB).
        let (cores_key, cores) = match (get(cpu, "cores"), get(cpu, "coreCountMinimum")) {
            (Some(_), Some(_)) => {
                return Err(ctx.err(&format!("{rat}.cpu"), "give cores or coreCountMinimum, not both"));
            }
            (Some(c), None) => ("cores", Some(c)),
            (None, Some(c)) => ("coreCountMinimum", Some(c)),
            (None, None) => ("cores", None),
        };
        let cpu_cores = match cores {
            None => None,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(c) if c > 0.0 => Some(c),
                _ => return Err(ctx.err(&format!("{rat}.cpu.{cores_key}"), "must be a number above zero")),
            },
            Some(_) => return Err(ctx.err(&format!("{rat}.cpu.{cores_key}"), "must be a number (0.5 allowed)")),
        };
        let archs: Option<(String, Vec<Value>)> = match (get(cpu, "architectures"), get(cpu, "architecture")) {
            (Some(_), Some(_)) => {
                return Err(ctx.err(&format!("{rat}.cpu"), "give architectures or architecture, not both"));
            }
            (Some(_), None) => list(&ctx, cpu, "architectures", &format!("{rat}.cpu"))?
                .map(|a| ("architectures".to_string(), a.clone())),
            (None, Some(one)) => Some(("architecture".to_string(), vec![one.clone()])),
            (None, None) => None,
        };
        let cpu_architectures = match archs {
            None => None,
            Some((key, archs)) => {
                let mut canonical: Vec<Value> = Vec::new();
                for (k, a) in archs.iter().enumerate() {
                    let field = if key == "architecture" {
                        format!("{rat}.cpu.architecture")
                    } else {
                        format!("{rat}.cpu.architectures[{k}]")
                    };
                    match a.as_str().and_then(canonical_architecture) {
                        Some(name) => {
                            if !canonical.iter().any(|c| c == name) {
                                canonical.push(json!(name));
                            }
                        }
                        None => {
                            return Err(ctx.err(
                                &field,
                                format!("{a} is not one of {} (x86_64 and aarch64 also)", ARCHITECTURES.join(", ")),
                            ))
                        }
                    }
                }
                Some(Value::Array(canonical))
            }
        };
        let memory = size(&ctx, res, "memory", &rat, &["Ki", "Mi", "Gi"], "512Mi or 2Gi")?;
        let storage = size(&ctx, res, "storage", &rat, &["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"], "10Gi or 1Ti")?;
        profiles.push(Profile {
            id,
            profile_type,
            description: string(&ctx, p, "description", &at)?,
            cpu_cores,
            memory,
            storage,
            cpu_architectures,
            peripherals: typed_items(&ctx, res, "peripherals", &rat, &PERIPHERALS)?,
            interfaces: typed_items(&ctx, res, "interfaces", &rat, &INTERFACES)?,
            components,
        });
    }
    Ok(AppDescription {
        app_id,
        name,
        vendor,
        version,
        description,
        icon: string(&ctx, application, "icon", path)?,
        site: string(&ctx, application, "site", path)?,
        tag_line: string(&ctx, application, "tagline", path)?,
        tags,
        profiles,
    })
}

/// An architecture by its canonical name (x86_64 → amd64, aarch64 → arm64), if it is one.
fn canonical_architecture(a: &str) -> Option<&'static str> {
    match a {
        "x86_64" | "x86-64" => Some("amd64"),
        "aarch64" => Some("arm64"),
        _ => ARCHITECTURES.iter().copied().find(|c| *c == a),
    }
}

/// A size of `res`: a quantity (`512Mi`), or `{sizeMinimum: quantity or MB}`, stored as a
/// quantity (1024 → `1024Mi`).
fn size(
    ctx: &Ctx,
    res: &Value,
    key: &str,
    at: &str,
    units: &[&str],
    example: &str,
) -> Result<Option<String>, InputError> {
    let Some(v) = get(res, key) else { return Ok(None) };
    let (field, value, minimum) = match v {
        Value::Object(_) => match get(v, "sizeMinimum") {
            Some(m) => (format!("{at}.{key}.sizeMinimum"), m, true),
            None => return Err(ctx.err(&format!("{at}.{key}"), "needs sizeMinimum (a quantity or a number of MB)")),
        },
        other => (format!("{at}.{key}"), other, false),
    };
    let quantity = match value {
        Value::String(q) if valid_quantity(q, units) => q.clone(),
        // A plain number of MB only as a minimum: the quantity form is a string.
        Value::Number(n) if minimum && n.as_f64().is_some_and(|mb| mb > 0.0 && mb.is_finite()) => {
            let mb = n.as_f64().unwrap_or_default();
            if mb.fract() == 0.0 {
                format!("{}Mi", mb as u64)
            } else {
                format!("{mb}Mi")
            }
        }
        Value::Null => return Ok(None),
        other => return Err(ctx.err(&field, format!("{other} is not a quantity like {example} (or a number of MB)"))),
    };
    Ok(Some(quantity))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile_of(text: &str) -> Result<Profile, String> {
        parse(std::path::Path::new("m.yaml"), text).map(|a| a.profiles[0].clone()).map_err(|e| e.to_string())
    }

    fn with_resources(resources: &str) -> String {
        format!(
            "apiVersion: margo.org/v1-alpha1\nkind: ApplicationDescription\nmetadata:\n  id: a\n  name: A\n  \
             version: '1'\ndeploymentProfiles:\n  - type: helm\n    components:\n      - name: c\n    \
             requiredResources:\n{resources}"
        )
    }

    #[test]
    fn the_minimums_form_is_read_and_stored_as_the_quantity_form() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/margo/minimums-form.yaml"))
                .unwrap();
        let app = parse(std::path::Path::new("minimums-form.yaml"), &text).unwrap();
        let (a, b) = (&app.profiles[0], &app.profiles[1]);
        assert_eq!((a.cpu_cores, a.memory.as_deref(), a.storage.as_deref()), (Some(2.0), Some("1024Mi"), Some("10Gi")));
        assert_eq!(a.cpu_architectures, Some(json!(["amd64", "arm64"])), "canonical names, once each");
        assert_eq!(
            (b.cpu_cores, b.memory.as_deref(), b.storage.as_deref()),
            (Some(0.5), Some("512Mi"), Some("2048Mi"))
        );
        assert_eq!(b.cpu_architectures, Some(json!(["arm64"])));
    }

    #[test]
    fn what_the_specification_does_not_allow_is_refused_naming_the_field() {
        let bad = |r: &str| profile_of(&with_resources(r)).unwrap_err();
        assert!(bad("      cpu:\n        coreCountMinimum: -1\n").contains("requiredResources.cpu.coreCountMinimum"));
        assert!(bad("      cpu:\n        cores: 1\n        coreCountMinimum: 1\n").contains("not both"));
        assert!(bad("      cpu:\n        architecture: sparc\n").contains("requiredResources.cpu.architecture"));
        assert!(bad("      cpu:\n        architectures: [amd64, mips]\n").contains("architectures[1]"));
        assert!(bad("      memory:\n        sizeMinimum: 2Ti\n").contains("requiredResources.memory.sizeMinimum"));
        assert!(bad("      memory:\n        sizeMinimum: lots\n").contains("requiredResources.memory.sizeMinimum"));
        assert!(bad("      storage:\n        sizeMaximum: 10\n").contains("requiredResources.storage"));
        assert!(bad("      memory: 12\n").contains("requiredResources.memory: 12 is not a quantity"));
        let ok = profile_of(&with_resources(
            "      cpu:\n        cores: 1.5\n        architectures: [amd64]\n      memory: 2Gi\n",
        ))
        .unwrap();
        assert_eq!((ok.cpu_cores, ok.memory.as_deref()), (Some(1.5), Some("2Gi")), "the quantity form stays as it was");
    }

    #[test]
    fn quantities_and_timeouts() {
        assert!(valid_quantity("512Mi", &["Ki", "Mi", "Gi"]));
        assert!(valid_quantity("1.5Gi", &["Ki", "Mi", "Gi"]));
        assert!(!valid_quantity("2Ti", &["Ki", "Mi", "Gi"]));
        assert!(!valid_quantity("Mi", &["Mi"]));
        assert!(!valid_quantity("0Mi", &["Mi"]));
        assert!(!valid_quantity("-1Mi", &["Mi"]));
        assert!(valid_timeout("10m30s") && valid_timeout("8m") && valid_timeout("1h") && valid_timeout("45s"));
        assert!(!valid_timeout("") && !valid_timeout("10") && !valid_timeout("m30s") && !valid_timeout("10m30"));
    }
}

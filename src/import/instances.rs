//! Cloud instance types and prices (one JSON object per line) as cloud.instances rows.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{json, Value};

use super::InputError;

/// One line of the file. Unknown fields are ignored (they stay in raw_data).
#[derive(Debug, Deserialize)]
struct Line {
    provider: String,
    name: String,
    #[serde(default)]
    cpu_cores: Option<f64>,
    #[serde(default)]
    memory_gb: Option<f64>,
    #[serde(default)]
    gpu_count: Option<f64>,
    #[serde(default)]
    gpu_model: Option<String>,
    #[serde(default)]
    gpu_memory_gb: Option<f64>,
    #[serde(default)]
    gpu_manufacturer: Option<String>,
    #[serde(default)]
    price_hourly: Option<f64>,
    #[serde(default)]
    price_hourly_spot: Option<f64>,
    #[serde(default)]
    regions: Option<Vec<String>>,
    #[serde(default)]
    region_prices: Option<BTreeMap<String, Option<f64>>>,
    #[serde(default)]
    arch: Option<String>,
    #[serde(default)]
    family: Option<String>,
    #[serde(default)]
    cpu_manufacturer: Option<String>,
    #[serde(default)]
    network_bandwidth_mbps: Option<f64>,
    #[serde(default)]
    local_nvme_gb: Option<f64>,
    #[serde(default)]
    local_ssd_gb: Option<f64>,
    #[serde(default)]
    price_as_of: Option<String>,
}

/// A cloud.instances row.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub provider: String,
    pub name: String,
    pub instance_type: Option<String>,
    pub cpu_cores: Option<i32>,
    pub cpu_manufacturer: Option<String>,
    pub memory_gb: Option<f64>,
    pub memory_mb: Option<i32>,
    pub disk_gb: Option<i32>,
    pub disk_type: Option<String>,
    pub bandwidth_mbps: Option<i32>,
    pub price_hourly: Option<f64>,
    pub price_monthly: Option<f64>,
    /// Whole GPUs (fractional shares round up; the exact share stays in raw_data).
    pub gpu_count: i32,
    pub gpu_model: Option<String>,
    pub gpu_memory_gb: Option<i32>,
    pub gpu_manufacturer: Option<String>,
    pub regions: Vec<String>,
    pub capabilities: Value,
    pub description: String,
    pub data_source_date: Option<chrono::NaiveDate>,
    pub raw_data: Value,
}

/// Hours in a month, for monthly prices (the cloud providers' convention).
pub const HOURS_PER_MONTH: f64 = 730.0;

fn whole(v: Option<f64>, path: &Path, line: usize, field: &str) -> Result<Option<i32>, InputError> {
    match v {
        None => Ok(None),
        Some(x) if x.is_finite() && (0.0..=i32::MAX as f64).contains(&x) => Ok(Some(x.round() as i32)),
        Some(x) => Err(InputError::new(path, format!("{x} is not a count")).at(line, None).field(field)),
    }
}

/// Parse the whole file. The first bad line stops it with its line number and field.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Instance>, InputError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let raw_data: Value =
            serde_json::from_str(raw).map_err(|e| InputError::new(path, e.to_string()).at(n, Some(e.column())))?;
        let l: Line = super::json_line(path, n, raw)?;
        if l.provider.trim().is_empty() {
            return Err(InputError::new(path, "must not be empty").at(n, None).field("provider"));
        }
        if l.name.trim().is_empty() {
            return Err(InputError::new(path, "must not be empty").at(n, None).field("name"));
        }
        for (field, v) in [("price_hourly", l.price_hourly), ("memory_gb", l.memory_gb), ("gpu_count", l.gpu_count)] {
            if v.is_some_and(|x| x < 0.0 || !x.is_finite()) {
                return Err(InputError::new(path, "must not be negative").at(n, None).field(field));
            }
        }
        let cpu_cores = whole(l.cpu_cores, path, n, "cpu_cores")?;
        let gpu_count = l.gpu_count.map(|g| g.ceil() as i32).unwrap_or(0);
        let (disk_gb, disk_type) = match (l.local_nvme_gb, l.local_ssd_gb) {
            (Some(g), _) => (whole(Some(g), path, n, "local_nvme_gb")?, Some("NVMe".to_string())),
            (None, Some(g)) => (whole(Some(g), path, n, "local_ssd_gb")?, Some("SSD".to_string())),
            _ => (None, None),
        };
        let mut description =
            format!("{} vCPU", l.cpu_cores.map(crate::domain::cloud::vcpus).unwrap_or_else(|| "?".into()));
        if l.cpu_cores.is_some_and(|c| c.fract() != 0.0) {
            description.push_str(" (shared core)");
        }
        if let Some(m) = l.memory_gb {
            description.push_str(&format!(", {m} GiB"));
        }
        if let Some(a) = &l.arch {
            description.push_str(&format!(", {a}"));
        }
        if gpu_count > 0 {
            let share = l.gpu_count.unwrap_or(0.0);
            description.push_str(&format!(", {share} × {}", l.gpu_model.as_deref().unwrap_or("GPU")));
        }
        out.push(Instance {
            provider: l.provider.trim().to_string(),
            name: l.name.trim().to_string(),
            instance_type: l.family,
            cpu_cores,
            cpu_manufacturer: l.cpu_manufacturer,
            memory_gb: l.memory_gb,
            memory_mb: whole(l.memory_gb.map(|g| g * 1024.0), path, n, "memory_gb")?,
            disk_gb,
            disk_type,
            bandwidth_mbps: whole(l.network_bandwidth_mbps, path, n, "network_bandwidth_mbps")?,
            price_hourly: l.price_hourly,
            price_monthly: l.price_hourly.map(|p| (p * HOURS_PER_MONTH * 10_000.0).round() / 10_000.0),
            gpu_count,
            gpu_model: l.gpu_model,
            gpu_memory_gb: whole(l.gpu_memory_gb, path, n, "gpu_memory_gb")?,
            gpu_manufacturer: l.gpu_manufacturer,
            regions: l.regions.unwrap_or_default(),
            capabilities: json!({
                "arch": l.arch,
                "price_hourly_spot": l.price_hourly_spot,
                "region_prices": l.region_prices.unwrap_or_default(),
            }),
            description,
            data_source_date: l
                .price_as_of
                .as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            raw_data,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_a_line_and_ignores_unknown_fields() {
        let text = r#"{"provider": "aws", "name": "g5.xlarge", "cpu_cores": 4, "memory_gb": 16.0, "gpu_count": 1, "gpu_model": "A10G", "gpu_memory_gb": 24, "price_hourly": 1.006, "regions": ["us-east-1"], "arch": "amd64", "family": "g5", "brand_new_field": {"x": 1}, "local_nvme_gb": 250}"#;
        let rows = parse(Path::new("i.jsonl"), text).unwrap();
        let r = &rows[0];
        assert_eq!((r.provider.as_str(), r.name.as_str()), ("aws", "g5.xlarge"));
        assert_eq!(r.cpu_cores, Some(4));
        assert_eq!(r.memory_mb, Some(16384));
        assert_eq!(r.price_monthly, Some(734.38));
        assert_eq!(r.disk_gb, Some(250));
        assert_eq!(r.description, "4 vCPU, 16 GiB, amd64, 1 × A10G");
        assert_eq!(r.raw_data["brand_new_field"]["x"], 1, "kept in raw_data");
    }

    #[test]
    fn fractional_gpus_round_up() {
        let rows = parse(Path::new("i.jsonl"), r#"{"provider": "azure", "name": "nv6", "gpu_count": 0.25}"#).unwrap();
        assert_eq!(rows[0].gpu_count, 1);
        assert_eq!(rows[0].raw_data["gpu_count"], 0.25);
    }

    #[test]
    fn a_bad_line_names_its_number_and_field() {
        let text = "{\"provider\": \"aws\", \"name\": \"a\"}\n\n{\"provider\": \"aws\", \"name\": \"b\", \"price_hourly\": \"cheap\"}\n";
        let err = parse(Path::new("i.jsonl"), text).unwrap_err();
        assert_eq!(err.line, Some(3));
        assert_eq!(err.field.as_deref(), Some("price_hourly"));
        assert!(err.to_string().starts_with("i.jsonl: line 3"), "{err}");
        assert!(err.message.contains("invalid type: string \"cheap\""), "{err}");

        let err = parse(Path::new("i.jsonl"), "{\"provider\": \"aws\"}\n").unwrap_err();
        assert!(err.message.contains("missing field `name`"), "{err}");
        let err = parse(Path::new("i.jsonl"), "{\"provider\": \"aws\", \"name\": \"x\",\n").unwrap_err();
        assert_eq!(err.line, Some(1));
        let err = parse(Path::new("i.jsonl"), r#"{"provider": "aws", "name": "x", "price_hourly": -1}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("price_hourly"));
    }
}

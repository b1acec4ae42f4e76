//! Does a Margo deployment profile fit an edge host? (SEMANTICS, seed 000: the host's
//! architecture is listed, its cores, memory and storage are at least the profile's, and it has
//! every required peripheral and interface.)

use serde_json::Value;

/// A Kubernetes-style quantity in bytes: `512Mi`, `2Gi`, `1.5Ti`, `500M`, `1024`.
pub fn quantity(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let units: [(&str, f64); 12] = [
        ("Ki", 1024f64),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("Pi", 1024f64.powi(5)),
        ("Ei", 1024f64.powi(6)),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let (number, factor) = units.iter().find_map(|(u, f)| t.strip_suffix(u).map(|n| (n, *f))).unwrap_or((t, 1.0));
    match number.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(n * factor),
        _ => Err(format!("{text:?} is not a quantity like 512Mi or 2Gi")),
    }
}

/// A peripheral a profile needs: its type, and a manufacturer and model when it names them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Peripheral {
    pub kind: String,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
}

impl Peripheral {
    fn from_json(v: &Value) -> Option<Peripheral> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string).filter(|s| !s.is_empty());
        Some(Peripheral { kind: text("type")?, manufacturer: text("manufacturer"), model: text("model") })
    }

    /// `gpu (NVIDIA Jetson)`.
    pub fn describe(&self) -> String {
        let extra: Vec<&str> = [&self.manufacturer, &self.model].into_iter().flatten().map(String::as_str).collect();
        if extra.is_empty() {
            self.kind.clone()
        } else {
            format!("{} ({})", self.kind, extra.join(" "))
        }
    }

    /// Does the host's `have` satisfy this need? Same type; the manufacturer and model, where
    /// the profile names them, equal ignoring case.
    fn met_by(&self, have: &Peripheral) -> bool {
        let same = |want: &Option<String>, got: &Option<String>| match (want, got) {
            (None, _) => true,
            (Some(w), Some(g)) => w.eq_ignore_ascii_case(g),
            (Some(_), None) => false,
        };
        self.kind.eq_ignore_ascii_case(&have.kind)
            && same(&self.manufacturer, &have.manufacturer)
            && same(&self.model, &have.model)
    }
}

fn list_of<T>(v: Option<&Value>, each: impl Fn(&Value) -> Option<T>) -> Vec<T> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(each).collect()).unwrap_or_default()
}

fn type_of(v: &Value) -> Option<String> {
    v.get("type").and_then(Value::as_str).or_else(|| v.as_str()).map(str::to_string)
}

/// What a deployment profile requires (catalog.deployment_profile).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Requirements {
    pub cores: Option<f64>,
    /// Bytes.
    pub memory: Option<f64>,
    pub storage: Option<f64>,
    /// Empty: any architecture.
    pub architectures: Vec<String>,
    pub peripherals: Vec<Peripheral>,
    pub interfaces: Vec<String>,
}

impl Requirements {
    /// From a deployment profile's row as JSON (`catalog.deployment_profile`'s columns); a
    /// quantity the catalogue holds that does not parse is an error naming it (the import checks
    /// them, so this is a damaged row).
    pub fn from_json(p: &Value) -> Result<Requirements, String> {
        let amount =
            |key: &str| p.get(key).and_then(Value::as_str).map(quantity).transpose().map_err(|e| format!("{key}: {e}"));
        Ok(Requirements {
            cores: p.get("cpu_cores").and_then(Value::as_f64),
            memory: amount("memory")?,
            storage: amount("storage")?,
            architectures: list_of(p.get("cpu_architectures"), |v| v.as_str().map(str::to_string)),
            peripherals: list_of(p.get("peripherals"), Peripheral::from_json),
            interfaces: list_of(p.get("interfaces"), type_of),
        })
    }
}

/// What a host offers (edge.host.metadata).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Host {
    pub architecture: Option<String>,
    pub cores: Option<f64>,
    pub memory: Option<f64>,
    pub storage: Option<f64>,
    pub peripherals: Vec<Peripheral>,
    pub interfaces: Vec<String>,
}

impl Host {
    /// From `edge.host.metadata`; what is missing or unreadable counts as not offered.
    pub fn from_metadata(m: &Value) -> Host {
        let q = |k: &str| match m.get(k) {
            Some(Value::String(s)) => quantity(s).ok(),
            Some(Value::Number(n)) => n.as_f64(),
            _ => None,
        };
        Host {
            architecture: m.get("architecture").and_then(Value::as_str).map(str::to_string),
            cores: m.get("cores").and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok())),
            memory: q("memory"),
            storage: q("storage"),
            peripherals: list_of(m.get("peripherals"), Peripheral::from_json),
            interfaces: list_of(m.get("interfaces"), type_of),
        }
    }
}

/// One requirement a host does not meet.
#[derive(Debug, Clone, PartialEq)]
pub enum Misfit {
    /// The host's architecture (None: it does not say) is not among those wanted.
    Architecture {
        have: Option<String>,
        want: Vec<String>,
    },
    /// Fewer cores, or less memory or storage (bytes), than wanted (None: it does not say).
    Short {
        what: &'static str,
        have: Option<f64>,
        want: f64,
    },
    Peripheral(Peripheral),
    Interface(String),
}

impl Misfit {
    /// What kind of requirement it is, for counting misfits: `architecture`, `memory`, `no
    /// camera`, `no usb interface`, …
    pub fn kind(&self) -> String {
        match self {
            Misfit::Architecture { have: None, .. } => "architecture unknown".into(),
            Misfit::Architecture { .. } => "architecture".into(),
            Misfit::Short { what, .. } => what.to_string(),
            Misfit::Peripheral(p) => format!("no {}", p.describe()),
            Misfit::Interface(i) => format!("no {i} interface"),
        }
    }
}

impl std::fmt::Display for Misfit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |what: &str, n: f64| if what == "cores" { format!("{n}") } else { bytes(n) };
        match self {
            Misfit::Architecture { have: Some(a), want } => {
                write!(f, "architecture {a} is not one of {}", want.join(", "))
            }
            Misfit::Architecture { have: None, .. } => f.write_str("the host does not say its architecture"),
            Misfit::Short { what, have: Some(h), want } => {
                write!(f, "{what} {} < {}", show(what, *h), show(what, *want))
            }
            Misfit::Short { what, have: None, want } => write!(f, "{what} unknown (needs {})", show(what, *want)),
            Misfit::Peripheral(_) | Misfit::Interface(_) => f.write_str(&self.kind()),
        }
    }
}

/// Why a profile does not fit a host, one reason per unmet requirement.
pub fn misfits(need: &Requirements, host: &Host) -> Vec<Misfit> {
    let mut why = Vec::new();
    if !need.architectures.is_empty() {
        let listed =
            host.architecture.as_ref().is_some_and(|a| need.architectures.iter().any(|n| n.eq_ignore_ascii_case(a)));
        if !listed {
            why.push(Misfit::Architecture { have: host.architecture.clone(), want: need.architectures.clone() });
        }
    }
    for (what, want, have) in [
        ("cores", need.cores, host.cores),
        ("memory", need.memory, host.memory),
        ("storage", need.storage, host.storage),
    ] {
        match (want, have) {
            (Some(w), Some(h)) if h + 1e-9 < w => why.push(Misfit::Short { what, have: Some(h), want: w }),
            (Some(w), None) => why.push(Misfit::Short { what, have: None, want: w }),
            _ => {}
        }
    }
    for p in &need.peripherals {
        if !host.peripherals.iter().any(|h| p.met_by(h)) {
            why.push(Misfit::Peripheral(p.clone()));
        }
    }
    for i in &need.interfaces {
        if !host.interfaces.iter().any(|h| h.eq_ignore_ascii_case(i)) {
            why.push(Misfit::Interface(i.clone()));
        }
    }
    why
}

/// Does the profile fit the host?
pub fn fits(need: &Requirements, host: &Host) -> bool {
    misfits(need, host).is_empty()
}

/// Bytes as a binary quantity: `512Mi`, `2Gi`, `1.5Ti`.
pub fn bytes(b: f64) -> String {
    let units = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    let mut v = b;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if (v - v.round()).abs() < 0.05 {
        format!("{}{}", v.round(), units[u])
    } else {
        format!("{v:.1}{}", units[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn host() -> Host {
        Host::from_metadata(&json!({
            "architecture": "arm64", "cores": 4, "memory": "8Gi", "storage": "128Gi",
            "peripherals": [{"type": "gpu", "manufacturer": "NVIDIA", "model": "Jetson Orin"}, {"type": "camera"}],
            "interfaces": [{"type": "ethernet"}, {"type": "wifi"}],
        }))
    }

    /// The reasons as they read.
    fn misfits(need: &Requirements, host: &Host) -> Vec<String> {
        super::misfits(need, host).iter().map(ToString::to_string).collect()
    }

    fn need(v: Value) -> Requirements {
        Requirements::from_json(&v).unwrap_or_default()
    }

    #[test]
    fn quantities_read_binary_and_decimal_units() {
        assert_eq!(quantity("512Mi"), Ok(512.0 * 1024.0 * 1024.0));
        assert_eq!(quantity("1.5Gi"), Ok(1.5 * 1024f64.powi(3)));
        assert_eq!(quantity("2G"), Ok(2e9));
        assert_eq!(quantity("1024"), Ok(1024.0));
        assert!(quantity("lots").unwrap_err().contains("\"lots\""));
        assert!(quantity("-1Gi").is_err());
        assert_eq!(bytes(512.0 * 1024.0 * 1024.0), "512Mi");
        assert_eq!(bytes(1.5 * 1024f64.powi(4)), "1.5Ti");
    }

    #[test]
    fn a_profile_fits_when_every_requirement_is_met_and_at_the_edges() {
        let h = host();
        // Exactly the host's figures fit (at least, not more than).
        let exact = need(
            json!({"cpu_cores": 4.0, "memory": "8Gi", "storage": "128Gi", "cpu_architectures": ["amd64", "arm64"]}),
        );
        assert!(fits(&exact, &h), "{:?}", misfits(&exact, &h));
        // An empty profile fits anything; fractional cores too.
        assert!(fits(&Requirements::default(), &h));
        assert!(fits(&need(json!({"cpu_cores": 0.5, "memory": "8192Mi"})), &h));
        // One over on each quantity does not.
        assert_eq!(misfits(&need(json!({"cpu_cores": 4.5})), &h), ["cores 4 < 4.5"]);
        assert_eq!(misfits(&need(json!({"memory": "9Gi"})), &h), ["memory 8Gi < 9Gi"]);
        assert_eq!(misfits(&need(json!({"storage": "1Ti"})), &h), ["storage 128Gi < 1Ti"]);
        assert_eq!(
            misfits(&need(json!({"cpu_architectures": ["amd64"]})), &h),
            ["architecture arm64 is not one of amd64"]
        );
    }

    #[test]
    fn peripherals_and_interfaces_must_all_be_present() {
        let h = host();
        let gpu =
            need(json!({"peripherals": [{"type": "gpu", "manufacturer": "nvidia"}], "interfaces": [{"type": "wifi"}]}));
        assert!(fits(&gpu, &h));
        let other_model = need(json!({"peripherals": [{"type": "gpu", "manufacturer": "NVIDIA", "model": "A100"}]}));
        assert_eq!(misfits(&other_model, &h), ["no gpu (NVIDIA A100)"]);
        let two = need(
            json!({"peripherals": [{"type": "camera"}, {"type": "display"}], "interfaces": [{"type": "canbus"}, {"type": "ethernet"}]}),
        );
        assert_eq!(misfits(&two, &h), ["no display", "no canbus interface"]);
    }

    #[test]
    fn a_host_that_does_not_say_is_not_assumed_to_fit() {
        let bare = Host::from_metadata(&json!({}));
        let n = need(json!({"cpu_cores": 1.0, "cpu_architectures": ["arm64"]}));
        assert_eq!(misfits(&n, &bare), ["the host does not say its architecture", "cores unknown (needs 1)"]);
        // Nothing asked, nothing missing.
        assert!(fits(&Requirements::default(), &bare));
        // A damaged profile quantity names its field.
        let bad = Requirements::from_json(&json!({"memory": "8 gigs"}));
        assert!(bad.unwrap_err().starts_with("memory:"));
    }
}

//! Marketplace rules: Artifact Hub categories, operator capability levels, and the package record
//! that importers produce and the service stores.

use serde_json::Value;

/// Artifact Hub's categories (SEMANTICS.md): 1..=8; 0 means unknown.
pub const CATEGORIES: [(i32, &str); 8] = [
    (1, "AI / Machine learning"),
    (2, "Database"),
    (3, "Integration and delivery"),
    (4, "Monitoring and logging"),
    (5, "Networking"),
    (6, "Security"),
    (7, "Storage"),
    (8, "Streaming and messaging"),
];

/// The category id for a chart's `category` / `artifacthub.io/category` annotation.
///
/// Artifact Hub's own keys (`monitoring-logging`) and names map directly. Bitnami's older
/// `category` values use its own catalogue names: those that fall inside one Artifact Hub
/// category map to it; broad ones (Infrastructure, CMS, E-Commerce, …) are unknown (0).
pub fn category_id(annotation: &str) -> i32 {
    let key: String = annotation.trim().to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    match key.as_str() {
        "aimachinelearning" | "machinelearning" | "ai" => 1,
        "database" => 2,
        "integrationdelivery" | "integrationanddelivery" | "developertools" | "workflow" => 3,
        "monitoringlogging" | "monitoringandlogging" | "logmanagement" | "analytics" | "monitoring" => 4,
        "networking" => 5,
        "security" | "certificateauthority" => 6,
        "storage" => 7,
        "streamingmessaging" | "streamingandmessaging" => 8,
        _ => 0,
    }
}

/// Operator capability levels, as Artifact Hub spells their ids.
pub const CAPABILITY_LEVELS: [&str; 5] =
    ["basic install", "seamless upgrades", "full lifecycle", "deep insights", "auto pilot"];

/// The capability id for an `artifacthub.io/operatorCapabilities` annotation, if it is one.
pub fn capability_level(annotation: &str) -> Option<&'static str> {
    let wanted = annotation.trim().to_ascii_lowercase();
    CAPABILITY_LEVELS.into_iter().find(|c| *c == wanted)
}

/// One marketplace package (a row of cloud.bitnami_packages) as an importer builds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    pub name: String,
    pub category: i32,
    pub is_operator: bool,
    pub capabilities: Option<String>,
    pub description: Option<String>,
    pub home_url: Option<String>,
    pub readme: Option<String>,
    /// The readme is only the start of the chart's README (the source cut it).
    pub readme_cut: bool,
    pub version: String,
    pub app_version: Option<String>,
    pub digest: Option<String>,
    pub deprecated: bool,
    pub contains_security_updates: bool,
    pub prerelease: bool,
    pub signed: bool,
    pub content_url: Option<String>,
    pub license: Option<String>,
    pub logo_url: Option<String>,
    /// Release time of the newest version, epoch seconds.
    pub ts: Option<i64>,
    pub keywords: Value,
    pub links: Value,
    pub available_versions: Value,
    pub dependencies: Value,
    pub container_images: Value,
    pub repository_name: String,
    pub repository_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_hub_keys_and_names_map_to_their_ids() {
        assert_eq!(category_id("monitoring-logging"), 4);
        assert_eq!(category_id("Monitoring and logging"), 4);
        assert_eq!(category_id("ai-machine-learning"), 1);
        assert_eq!(category_id("streaming-messaging"), 8);
        assert_eq!(category_id("integration-delivery"), 3);
        for (id, name) in CATEGORIES {
            assert_eq!(category_id(name), id, "{name}");
        }
    }

    #[test]
    fn bitnami_names_map_where_they_fit_and_are_unknown_otherwise() {
        assert_eq!(category_id("Database"), 2);
        assert_eq!(category_id("MachineLearning"), 1);
        assert_eq!(category_id("LogManagement"), 4);
        assert_eq!(category_id("CertificateAuthority"), 6);
        assert_eq!(category_id("DeveloperTools"), 3);
        assert_eq!(category_id("Infrastructure"), 0);
        assert_eq!(category_id("CMS"), 0);
        assert_eq!(category_id(""), 0);
    }

    #[test]
    fn capability_levels_are_normalised() {
        assert_eq!(capability_level("Basic Install"), Some("basic install"));
        assert_eq!(capability_level(" auto pilot "), Some("auto pilot"));
        assert_eq!(capability_level("Level 6"), None);
    }
}

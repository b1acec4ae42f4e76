//! An edge app in full: its description, its deployment profiles with their components, and
//! how each profile fits the fleet (which hosts and sites meet its requirements, and why the
//! others do not).

use serde_json::Value;

use super::*;
use crate::domain::deploy::Component;
use crate::domain::fit::{self, Requirements};

pub(super) async fn app(services: &Services, id: &str) -> Result<Option<Detail>> {
    let Some(a) =
        json_row(services, "SELECT to_jsonb(a) FROM catalog.application_desc a WHERE a.app_id = $1", id).await?
    else {
        return Ok(None);
    };
    let profiles = profiles(services, id, None).await?;
    let mut b: Vec<Block> = Vec::new();
    b.extend(fields(
        &a,
        &[
            ("Tagline", "tag_line"),
            ("Description", "description"),
            ("Vendor", "vendor"),
            ("Version", "version"),
            ("Category", "category"),
            ("Site", "site"),
        ],
    ));
    let tags: Vec<String> = array(&a, "tags").iter().map(show).collect();
    b.extend(field("Tags", tags.join(", ")));
    b.extend(field("Published", stamp(&a, "published")));

    let needs: Vec<std::result::Result<Requirements, String>> = profiles.iter().map(Requirements::from_json).collect();
    let fits = super::fit::fleet_fit(services, &needs).await?;
    let mut deploy_profiles = Vec::new();
    for ((p, need), fit) in profiles.iter().zip(&needs).zip(fits) {
        let pid = s(p, "id");
        let short = pid.strip_prefix(&format!("{id}/")).unwrap_or(&pid).to_string();
        b.push(Block::Heading(format!("Profile {short} ({})", s(p, "type"))));
        b.extend(field("Description", s(p, "description")));
        let need = match need {
            Ok(n) => n,
            Err(e) => {
                b.push(Block::Note(format!("this profile's requirements cannot be read: {e}")));
                continue;
            }
        };
        let mut rows = vec![
            vec![
                "architectures".into(),
                if need.architectures.is_empty() { "any".into() } else { need.architectures.join(", ") },
            ],
            vec!["cpu cores".into(), need.cores.map(|c| format!("≥ {c}")).unwrap_or_else(|| "any".into())],
            vec!["memory".into(), need.memory.map(|m| format!("≥ {}", fit::bytes(m))).unwrap_or_else(|| "any".into())],
            vec![
                "storage".into(),
                need.storage.map(|m| format!("≥ {}", fit::bytes(m))).unwrap_or_else(|| "any".into()),
            ],
        ];
        if !need.peripherals.is_empty() {
            rows.push(vec![
                "peripherals".into(),
                need.peripherals.iter().map(|p| p.describe()).collect::<Vec<_>>().join(", "),
            ]);
        }
        if !need.interfaces.is_empty() {
            rows.push(vec!["interfaces".into(), need.interfaces.join(", ")]);
        }
        b.push(Block::Table { header: vec!["REQUIRES".into(), "".into()], rows });
        let components = components_of(p);
        b.push(table_or(
            &["COMPONENT", "REPOSITORY", "REVISION", "TIMEOUT"],
            components
                .iter()
                .map(|c| {
                    let pr = &c.properties;
                    vec![
                        c.name.clone(),
                        [s(pr, "repository"), s(pr, "packageLocation")]
                            .into_iter()
                            .find(|x| !x.is_empty())
                            .unwrap_or_default(),
                        s(pr, "revision"),
                        s(pr, "timeout"),
                    ]
                })
                .collect(),
            "no components",
        ));
        b.push(Block::Field(
            "Fits".into(),
            format!("{} of {} hosts, on {} of {} sites", fit.fitting, fit.hosts, fit.sites.len(), fit.all_sites),
        ));
        if !fit.reasons.is_empty() {
            b.push(Block::Field(
                "Why not".into(),
                fit.reasons.iter().take(4).map(|(r, n)| format!("{r} ({n})")).collect::<Vec<_>>().join("; "),
            ));
        }
        if !fit.sites.is_empty() {
            b.push(Block::Table {
                header: vec!["SITE".into(), "NAME".into(), "FITTING HOSTS".into(), "AGENTS".into()],
                rows: fit
                    .sites
                    .iter()
                    .take(10)
                    .map(|f| {
                        vec![
                            f.site.clone(),
                            f.name.clone(),
                            format!("{} of {}", f.fitting, f.hosts),
                            f.agents.to_string(),
                        ]
                    })
                    .collect(),
            });
            if fit.sites.len() > 10 {
                b.push(Block::Note(format!("and {} more sites", fit.sites.len() - 10)));
            }
        }
        deploy_profiles.push(Profile { id: pid, kind: s(p, "type"), components, sites: fit.sites });
    }
    if profiles.is_empty() {
        b.push(Block::Note("no deployment profiles".into()));
    }
    Ok(Some(Detail {
        kind: Kind::Apps,
        id: id.to_string(),
        title: [s(&a, "name"), id.to_string()].into_iter().find(|n| !n.is_empty()).unwrap_or_default(),
        blocks: b,
        deploy: Some(Deployable::App { app_id: id.to_string(), profiles: deploy_profiles }),
    }))
}

/// An app's deployment profiles (or the one `only`), each as JSON with its components.
pub async fn profiles(services: &Services, app: &str, only: Option<&str>) -> Result<Vec<Value>> {
    Ok(sqlx::query_scalar(
        "SELECT to_jsonb(p) || jsonb_build_object('components', coalesce((SELECT jsonb_agg(jsonb_build_object( \
             'name', c.name, 'properties', coalesce(c.properties, '{}')) ORDER BY c.id) \
             FROM catalog.component c WHERE c.deployment_profile_id = p.id), '[]')) \
         FROM catalog.deployment_profile p WHERE p.app_id = $1 AND ($2::text IS NULL OR p.id = $2) ORDER BY p.id",
    )
    .bind(app)
    .bind(only)
    .fetch_all(&services.pool)
    .await?)
}

/// A profile's components (as [`profiles`] reads it), in order.
pub fn components_of(profile: &Value) -> Vec<Component> {
    array(profile, "components")
        .iter()
        .map(|c| Component { name: s(c, "name"), properties: c.get("properties").cloned().unwrap_or(Value::Null) })
        .collect()
}

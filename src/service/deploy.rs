//! Deploy from the Marketplace: a package as a Flux HelmRepository + HelmRelease, an edge app's
//! profile as a Margo ApplicationDeployment targeting a site's agents. Each deploy is one
//! transaction (the new stack, the object, the targets, their audit rows) or nothing.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::rollouts::{self, ObjectInfo, StackRef};
use super::{Error, Result, Services};
use crate::domain::broker::{NewStack, StackDraft};
use crate::domain::deploy::{FieldError, HelmDeploy, MargoDeploy};
use crate::domain::fit::{self, Host};

/// What a deploy form deploys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployFor {
    Package { package: Uuid, chart: String },
    App { app: String },
}

/// A checked deploy form, for the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployRequest {
    Package(PackageDeploy),
    App(AppDeploy),
}

/// Where the deployment object goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackChoice {
    /// A live stack, by name or id.
    Existing(String),
    /// A new stack of this generator.
    New { name: String, generator: Uuid },
}

/// Whom the deployed object reaches besides what the stack reaches already: agents made
/// explicit targets, and the labels of a new stack (agents carrying one are reached).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    pub agents: Vec<Uuid>,
    /// One label per line, as the stack form takes them; only for a new stack.
    pub labels: String,
}

/// What a deploy wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployed {
    pub stack: Uuid,
    pub stack_name: String,
    pub created: bool,
    pub object: ObjectInfo,
    /// Agents made explicit targets by this deploy.
    pub targets_added: usize,
    pub yaml: String,
}

impl Deployed {
    pub fn describe(&self) -> String {
        let mut s = format!(
            "deployed as sequence {} of {}stack {} (sha256 {})",
            self.object.sequence_id,
            if self.created { "new " } else { "" },
            self.stack_name,
            &self.object.yaml_checksum[..12]
        );
        if self.targets_added > 0 {
            let n = self.targets_added;
            s.push_str(&format!(", targeting {n} more agent{}", if n == 1 { "" } else { "s" }));
        }
        s
    }
}

fn invalid(e: FieldError) -> Error {
    Error::Invalid { field: e.field.into(), reason: e.message }
}

/// A package deploy as the form asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageDeploy {
    pub package: Uuid,
    pub version: String,
    pub release: String,
    pub namespace: String,
    pub values: String,
    pub stack: StackChoice,
    pub reach: Reach,
}

/// Deploy a package: the chart and its repository are read here (not taken from the form), the
/// version must be one the package lists.
pub async fn package(services: &Services, d: &PackageDeploy) -> Result<Deployed> {
    let row: Option<(String, String, String, String, Value)> = sqlx::query_as(
        "SELECT coalesce(name, ''), coalesce(repository_name, ''), coalesce(repository_url, ''), coalesce(version, ''), \
             coalesce(available_versions, '[]') FROM cloud.bitnami_packages WHERE package_id = $1",
    )
    .bind(d.package)
    .fetch_optional(&services.pool)
    .await?;
    let Some((chart, repository, repository_url, latest, versions)) = row else {
        return Err(Error::NotFound { what: format!("package {}", d.package) });
    };
    let mut known: Vec<String> = versions
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("version").and_then(Value::as_str).map(str::to_string))
        .collect();
    known.push(latest);
    let version = d.version.trim();
    if !known.iter().any(|v| v == version) {
        return Err(Error::Invalid { field: "version".into(), reason: format!("{chart} has no version {version:?}") });
    }
    let helm = HelmDeploy {
        chart,
        repository,
        repository_url,
        version: version.to_string(),
        release: d.release.clone(),
        namespace: d.namespace.clone(),
        values: d.values.clone(),
    };
    let yaml = helm.yaml().map_err(invalid)?;
    write(services, &d.stack, &yaml, &d.reach, &[], &format!("deploy of chart {}", helm.chart)).await
}

/// An app deploy as the form asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDeploy {
    pub app: String,
    /// The stored profile id (`<app>/<profile>`).
    pub profile: String,
    /// The site's logical id (`site-00003`).
    pub site: String,
    pub namespace: String,
    pub parameters: String,
    pub stack: StackChoice,
    /// Agents and labels beside the site's own agents.
    pub reach: Reach,
}

/// The live agents serving a site (annotated `site=<site id>`).
pub async fn site_agents(services: &Services, site: &str) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT ag.id FROM broker.agents ag JOIN broker.agent_annotations an ON an.agent_id = ag.id \
         WHERE an.key = 'site' AND an.value = $1 AND ag.deleted_at IS NULL ORDER BY ag.cluster_name, ag.name",
    )
    .bind(site)
    .fetch_all(&services.pool)
    .await?)
}

/// Deploy an app's profile to a site: the profile must fit at least one of the site's hosts,
/// and the site must have agents; they become the stack's explicit targets.
pub async fn app(services: &Services, d: &AppDeploy) -> Result<Deployed> {
    let profile = super::market_detail::profiles(services, &d.app, Some(&d.profile)).await?.into_iter().next();
    let Some(p) = profile else {
        return Err(Error::Invalid {
            field: "profile".into(),
            reason: format!("app {} has no deployment profile {}", d.app, d.profile),
        });
    };
    let site = d.site.trim();
    let hosts: Vec<Value> = sqlx::query_scalar(
        "SELECT coalesce(h.metadata, '{}') FROM edge.host h JOIN edge.site s ON s.id = h.site_id WHERE s.site_id = $1",
    )
    .bind(site)
    .fetch_all(&services.pool)
    .await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM edge.site WHERE site_id = $1)")
        .bind(site)
        .fetch_one(&services.pool)
        .await?;
    if !exists {
        return Err(Error::Invalid { field: "site".into(), reason: format!("there is no site {site:?}") });
    }
    let text = |k: &str| p.get(k).and_then(Value::as_str);
    let need = crate::domain::fit::Requirements::from_json(&p)
        .map_err(|e| Error::Invalid { field: "profile".into(), reason: e })?;
    if !hosts.iter().any(|h| fit::fits(&need, &Host::from_metadata(h))) {
        let why: Vec<String> = hosts
            .first()
            .map(|h| fit::misfits(&need, &Host::from_metadata(h)).iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        let why = why.join(", ");
        return Err(Error::Invalid {
            field: "site".into(),
            reason: if hosts.is_empty() {
                format!("site {site} has no hosts")
            } else {
                format!("no host of site {site} fits the profile (the first: {why})")
            },
        });
    }
    let agents = site_agents(services, site).await?;
    if agents.is_empty() {
        return Err(Error::Invalid {
            field: "site".into(),
            reason: format!(
                "site {site} has no live agents to deploy to (agents say theirs with the annotation site={site})"
            ),
        });
    }
    let margo = MargoDeploy {
        app_id: d.app.clone(),
        profile_id: d.profile.clone(),
        profile_type: text("type").unwrap_or("helm.v3").to_string(),
        components: super::market_detail::components_of(&p),
        site: site.to_string(),
        namespace: d.namespace.clone(),
        parameters: d.parameters.clone(),
        id: Uuid::new_v4(),
    };
    let yaml = margo.yaml().map_err(invalid)?;
    write(services, &d.stack, &yaml, &d.reach, &agents, &format!("deploy of app {} to site {site}", d.app)).await
}

/// One transaction: the stack (new or locked), the object, the targets (the reach's agents and
/// `site_agents`), every audit row. A new stack must reach someone: a rollout that goes nowhere
/// is refused here rather than shown as unreached later.
async fn write(
    services: &Services,
    choice: &StackChoice,
    yaml: &str,
    reach: &Reach,
    site_agents: &[Uuid],
    what: &str,
) -> Result<Deployed> {
    crate::domain::rollout::check_yaml(yaml)
        .map_err(|e| Error::Invalid { field: "yaml".into(), reason: e.to_string() })?;
    let labels = crate::domain::broker::parse_labels(&reach.labels)
        .map_err(|reason| Error::Invalid { field: "labels".into(), reason })?;
    let mut targets: Vec<Uuid> = site_agents.to_vec();
    for a in &reach.agents {
        if !targets.contains(a) {
            targets.push(*a);
        }
    }
    if matches!(choice, StackChoice::New { .. }) && targets.is_empty() && labels.is_empty() {
        return Err(Error::Invalid {
            field: "agents".into(),
            reason: "a new stack with no agents and no labels reaches nobody: choose agents or give labels".into(),
        });
    }
    let mut tx = services.pool.begin().await?;
    let (stack, created) = match choice {
        StackChoice::Existing(name) => {
            let name = name.trim();
            if name.is_empty() {
                return Err(Error::Invalid {
                    field: "stack".into(),
                    reason: "name a stack, or choose a new one".into(),
                });
            }
            let stack = rollouts::find_stack(services, name).await.map_err(|e| match e {
                Error::NotFound { .. } => {
                    Error::Invalid { field: "stack".into(), reason: format!("there is no live stack {name:?}") }
                }
                e => e,
            })?;
            if !labels.is_empty() {
                return Err(Error::Invalid {
                    field: "labels".into(),
                    reason: "labels are given to a new stack; an existing stack keeps its own (choose agents instead)"
                        .into(),
                });
            }
            rollouts::lock_live(&mut tx, &stack, "a deleted stack takes no new objects").await?;
            (stack, false)
        }
        StackChoice::New { name, generator } => {
            let draft = StackDraft {
                name: name.clone(),
                description: format!("created by a Marketplace {what}"),
                labels: reach.labels.clone(),
                annotations: String::new(),
            };
            let new: NewStack = draft.check().map_err(|errors| match errors.into_iter().next() {
                Some(e) if e.field == "labels" => Error::Invalid { field: "labels".into(), reason: e.message },
                Some(e) => Error::Invalid { field: "stack".into(), reason: e.message },
                None => Error::Invalid { field: "stack".into(), reason: "not a stack name".into() },
            })?;
            let id =
                super::stacks::create_in(&mut tx, &services.actor, &new, *generator, true).await.map_err(
                    |e| match e {
                        Error::Invalid { field, reason } if field == "name" => {
                            Error::Invalid { field: "stack".into(), reason }
                        }
                        e => e,
                    },
                )?;
            (StackRef { id, name: new.name, generator_id: *generator, deleted_at: None }, true)
        }
    };
    let previous = rollouts::desired_sequence(&mut tx, stack.id).await?;
    let object = rollouts::write_object(&mut tx, &services.actor, &stack, yaml, false, "deploy", previous).await?;
    // The stack's reach changes with its targets; `write_object` touched the stack already.
    let added = rollouts::add_targets(&mut tx, &services.actor, stack.id, &targets, Some(what), "agents").await?;
    tx.commit().await?;
    Ok(Deployed {
        stack: stack.id,
        stack_name: stack.name,
        created,
        object,
        targets_added: added.len(),
        yaml: yaml.to_string(),
    })
}

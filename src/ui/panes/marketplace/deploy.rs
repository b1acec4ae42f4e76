//! The Marketplace's deploy form: built for the item shown, checked into a deploy request.

use crate::service::deploy::{DeployFor, DeployRequest};
use crate::service::market_detail::Detail;

pub fn deploy_form(
    detail: &Detail,
    generators: &[crate::service::stacks::Generator],
) -> Option<(DeployFor, crate::ui::widgets::form::Form)> {
    use crate::domain::deploy::to_name;
    use crate::domain::text::sanitize_cell;
    use crate::service::market_detail::Deployable;
    use crate::ui::widgets::form::{Field, Form};
    let gens: Vec<(String, String)> =
        generators.iter().map(|g| (g.id.to_string(), sanitize_cell(&g.name, 40))).collect();
    let target = || {
        Field::choice(
            "target",
            "Into",
            "←/→: a new stack, or an existing one",
            vec![("new".into(), "a new stack".into()), ("existing".into(), "an existing stack".into())],
        )
    };
    let generator = || Field::choice("generator", "Generator", "of a new stack (←/→)", gens.clone());
    // Whom it reaches besides what the stack reaches already; a new stack needs one or the other.
    let agents = || Field::pick("agents", "Agents", "made explicit targets (by cluster/name, with their health)");
    let labels = || Field::text("labels", "Labels", "of a new stack, one per line: agents carrying one are reached");
    match detail.deploy.as_ref()? {
        Deployable::Package { chart, versions, repository, .. } => {
            let package = uuid::Uuid::parse_str(&detail.id).ok()?;
            let options = versions.iter().map(|v| (v.clone(), sanitize_cell(v, 30))).collect();
            let form = Form::new(
                format!("Deploy {} from {}", sanitize_cell(chart, 40), sanitize_cell(repository, 30)),
                vec![
                    Field::choice("version", "Chart version", "←/→, newest first", options),
                    Field::line("release", "Release", "the HelmRelease's name").with_value(&to_name(chart, 53)),
                    Field::line("namespace", "Namespace", "where the release goes").with_value(&to_name(chart, 63)),
                    Field::text("values", "Values", "YAML, e.g. replicaCount: 2 (optional)"),
                    target(),
                    Field::line("stack", "Stack", "the new stack's name, or an existing stack's")
                        .with_value(&to_name(chart, 60)),
                    generator(),
                    agents(),
                    labels(),
                ],
            );
            Some((DeployFor::Package { package, chart: chart.clone() }, form))
        }
        Deployable::App { app_id, profiles } => {
            let options = profiles
                .iter()
                .map(|p| {
                    let short = p.id.strip_prefix(&format!("{app_id}/")).unwrap_or(&p.id);
                    (
                        p.id.clone(),
                        format!(
                            "{} ({}, {} sites)",
                            sanitize_cell(short, 30),
                            sanitize_cell(&p.kind, 20),
                            p.sites.len()
                        ),
                    )
                })
                .collect();
            // The form opens on the first profile, and on its best site (sites with agents
            // first, then the most fitting hosts).
            let best = profiles.first().and_then(|p| p.sites.first());
            let site = best.map(|s| s.site.clone()).unwrap_or_default();
            let hint = match best {
                Some(s) => format!(
                    "site id; best: {} ({} of {} hosts fit, {} agents)",
                    sanitize_cell(&s.site, 30),
                    s.fitting,
                    s.hosts,
                    s.agents
                ),
                None => "site id (no site has a host that fits)".into(),
            };
            let form = Form::new(
                format!("Deploy {}", sanitize_cell(&detail.title, 50)),
                vec![
                    Field::choice("profile", "Deployment profile", "←/→", options),
                    Field::line("site", "Site", "").with_hint(hint).with_value(&sanitize_cell(&site, 60)),
                    Field::line("namespace", "Namespace", "").with_value(&to_name(app_id, 63)),
                    Field::text("parameters", "Parameters", "pointer=value, one per line (optional)"),
                    target(),
                    Field::line("stack", "Stack", "the new stack's name, or an existing stack's")
                        .with_value(&to_name(&format!("{app_id}-{site}"), 60)),
                    generator(),
                    agents(),
                    labels(),
                ],
            );
            Some((DeployFor::App { app: app_id.clone() }, form))
        }
    }
}

/// The form checked here first (each problem under its field); the service checks again.
pub fn deploy_request(
    what: &DeployFor,
    form: &crate::ui::widgets::form::Form,
) -> Result<DeployRequest, Vec<(&'static str, String)>> {
    use crate::domain::deploy::{check_name, parse_values};
    use crate::service::deploy::{AppDeploy, PackageDeploy, Reach, StackChoice};
    let mut errors = Vec::new();
    let reach = Reach {
        agents: form
            .field("agents")
            .map(|f| f.picked().iter().filter_map(|c| c.0.parse::<uuid::Uuid>().ok()).collect())
            .unwrap_or_default(),
        labels: form.value("labels"),
    };
    if let Err(e) = crate::domain::broker::parse_labels(&reach.labels) {
        errors.push(("labels", e));
    }
    let stack_name = form.value("stack").trim().to_string();
    if stack_name.is_empty() {
        errors.push(("stack", "required".to_string()));
    }
    let stack = if form.value("target") == "existing" {
        StackChoice::Existing(stack_name)
    } else {
        match form.value("generator").parse::<uuid::Uuid>() {
            Ok(generator) => StackChoice::New { name: stack_name, generator },
            Err(_) => {
                errors.push(("generator", "a new stack needs a generator".to_string()));
                StackChoice::Existing(stack_name)
            }
        }
    };
    if let Err(e) = check_name("namespace", &form.value("namespace"), 63) {
        errors.push((e.field, e.message));
    }
    let request = match what {
        DeployFor::Package { package, .. } => {
            if let Err(e) = check_name("release", &form.value("release"), 53) {
                errors.push((e.field, e.message));
            }
            if let Err(e) = parse_values(&form.value("values")) {
                errors.push((e.field, e.message));
            }
            if form.value("version").is_empty() {
                errors.push(("version", "choose a chart version".to_string()));
            }
            DeployRequest::Package(PackageDeploy {
                package: *package,
                version: form.value("version"),
                release: form.value("release").trim().to_string(),
                namespace: form.value("namespace").trim().to_string(),
                values: form.value("values"),
                stack,
                reach,
            })
        }
        DeployFor::App { app } => {
            if form.value("site").trim().is_empty() {
                errors.push(("site", "choose the site to deploy to".to_string()));
            }
            if let Err(e) = crate::domain::deploy::parse_parameters(&form.value("parameters"), &[]) {
                errors.push((e.field, e.message));
            }
            DeployRequest::App(AppDeploy {
                app: app.clone(),
                profile: form.value("profile"),
                site: form.value("site").trim().to_string(),
                namespace: form.value("namespace").trim().to_string(),
                parameters: form.value("parameters"),
                stack,
                reach,
            })
        }
    };
    if errors.is_empty() {
        Ok(request)
    } else {
        Err(errors)
    }
}

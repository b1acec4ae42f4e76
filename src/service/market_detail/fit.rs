//! How each deployment profile of an edge app fits the fleet, from the hosts' hardware the
//! database keeps typed and indexed (`fleetdeck.host_hardware`, migration 24): one query per
//! profile, whatever the number of hosts' JSON documents. The rule is `domain::fit`'s; a test
//! holds the two to the same answers host by host.

use std::collections::HashMap;

use sqlx::{Postgres, QueryBuilder, Row};
use uuid::Uuid;

use super::{Result, Services, SiteFit};
use crate::domain::fit::{Peripheral, Requirements};

/// How one profile fits the fleet.
#[derive(Debug, Default, PartialEq)]
pub struct FleetFit {
    pub fitting: usize,
    pub hosts: usize,
    pub all_sites: usize,
    /// The sites with hosts that fit: those with agents first, then by fitting hosts.
    pub sites: Vec<SiteFit>,
    /// Why hosts do not fit, the most common first (the reason's kind, then how many).
    pub reasons: Vec<(String, usize)>,
}

/// The parts of a peripheral's token are joined by this (migration 24's `chr(31)`).
const SEP: char = '\u{1f}';

/// ASCII case folding, as the rule compares.
fn fold(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// The token a host holds in `host_hardware.peripherals` when it meets this need.
pub fn peripheral_token(p: &Peripheral) -> String {
    let k = fold(&p.kind);
    match (&p.manufacturer, &p.model) {
        (Some(m), Some(x)) => format!("tmx:{k}{SEP}{}{SEP}{}", fold(m), fold(x)),
        (Some(m), None) => format!("tm:{k}{SEP}{}", fold(m)),
        (None, Some(x)) => format!("tx:{k}{SEP}{}", fold(x)),
        (None, None) => format!("t:{k}"),
    }
}

/// The profile's requirements as conditions on `host_hardware`, each with the reason's kind a
/// host that fails it is counted under (`Misfit::kind`).
fn conditions(need: &Requirements) -> Vec<(String, Condition)> {
    let mut c = Vec::new();
    if !need.architectures.is_empty() {
        let listed: Vec<String> = need.architectures.iter().map(|a| fold(a)).collect();
        c.push(("architecture".to_string(), Condition::Listed(listed)));
    }
    for (what, want) in [("cores", need.cores), ("memory", need.memory), ("storage", need.storage)] {
        if let Some(w) = want {
            c.push((what.to_string(), Condition::AtLeast(what, w)));
        }
    }
    for p in &need.peripherals {
        c.push((format!("no {}", p.describe()), Condition::Has("peripherals", peripheral_token(p))));
    }
    for i in &need.interfaces {
        c.push((format!("no {i} interface"), Condition::Has("interfaces", fold(i))));
    }
    c
}

enum Condition {
    /// The architecture is one of these (folded).
    Listed(Vec<String>),
    /// The column is at least this (the rule's tolerance of 1e-9 included).
    AtLeast(&'static str, f64),
    /// The array column holds this token.
    Has(&'static str, String),
}

impl Condition {
    /// `… IS TRUE` when the host meets it (NULL, unknown, does not).
    fn push(&self, qb: &mut QueryBuilder<'_, Postgres>) {
        match self {
            Condition::Listed(listed) => {
                qb.push("(architecture = ANY(").push_bind(listed.clone()).push("::text[]))");
            }
            Condition::AtLeast(column, want) => {
                qb.push(format!("({column} >= ")).push_bind(want - 1e-9).push(")");
            }
            Condition::Has(column, token) => {
                qb.push(format!("({column} @> ARRAY[")).push_bind(token.clone()).push("::text])");
            }
        }
    }
}

/// Judge every host against each profile, counted by site. A site's agents are the live cluster
/// agents annotated `site=<site id>`.
pub async fn fleet_fit(
    services: &Services,
    needs: &[std::result::Result<Requirements, String>],
) -> Result<Vec<FleetFit>> {
    // The sites with their agents counted in one pass over the site annotations (a count per
    // site as a subquery probed the annotations 2,000 times: 53 ms of the detail's 180), and
    // beside it, on another connection, every site's hosts.
    let sites = sqlx::query_as::<_, (Uuid, String, String, i64)>(
        "SELECT s.id, s.site_id::text, coalesce(s.name, '')::text, coalesce(a.n, 0) \
         FROM edge.site s LEFT JOIN ( \
             SELECT an.value, count(*) AS n FROM broker.agent_annotations an \
             JOIN broker.agents ag ON ag.id = an.agent_id \
             WHERE an.key = 'site' AND ag.deleted_at IS NULL GROUP BY 1 \
         ) a ON a.value = s.site_id",
    )
    .fetch_all(&services.pool);
    let hosts = sqlx::query_as::<_, (Uuid, i64)>("SELECT site_id, count(*) FROM fleetdeck.host_hardware GROUP BY 1")
        .fetch_all(&services.pool);
    let (sites, hosts) = tokio::try_join!(sites, hosts)?;
    let index: HashMap<Uuid, usize> = sites.iter().enumerate().map(|(i, s)| (s.0, i)).collect();
    let per_site = |rows: Vec<(Uuid, i64)>| {
        let mut counts = vec![0usize; sites.len()];
        for (site, n) in rows {
            if let Some(&i) = index.get(&site) {
                counts[i] = n.max(0) as usize;
            }
        }
        counts
    };
    let hosts = per_site(hosts);
    let mut out = Vec::with_capacity(needs.len());
    for need in needs {
        let Ok(need) = need else {
            out.push(FleetFit { all_sites: sites.len(), ..FleetFit::default() });
            continue;
        };
        let conditions = conditions(need);
        // Which hosts fit, by site: one query the indexes serve.
        let mut qb = QueryBuilder::<Postgres>::new("SELECT site_id, count(*) FROM fleetdeck.host_hardware WHERE true");
        for (_, c) in &conditions {
            qb.push(" AND ");
            c.push(&mut qb);
        }
        qb.push(" GROUP BY 1");
        // Planned for this profile's values (an unnamed statement): a plan made once for any
        // values guessed that 18 hosts fit where 70,107 did, and sorted them on disk.
        let fitting = qb.build_query_as::<(Uuid, i64)>().persistent(false).fetch_all(&services.pool);
        // Why the others do not, beside it: how many hosts fail each requirement (a host may
        // fail several).
        let mut why = QueryBuilder::<Postgres>::new("SELECT ARRAY[");
        for (i, (_, c)) in conditions.iter().enumerate() {
            if i > 0 {
                why.push(", ");
            }
            why.push("count(*) FILTER (WHERE ");
            c.push(&mut why);
            why.push(" IS NOT TRUE)");
        }
        if !need.architectures.is_empty() {
            why.push(", count(*) FILTER (WHERE architecture IS NULL)");
        }
        why.push("]::bigint[] FROM fleetdeck.host_hardware");
        let failed = async {
            if conditions.is_empty() {
                return Ok(Vec::new());
            }
            why.build().persistent(false).fetch_one(&services.pool).await?.try_get::<Vec<i64>, _>(0)
        };
        let (fitting, failed) = tokio::try_join!(fitting, failed)?;
        let fitting = per_site(fitting);
        let mut reasons: HashMap<String, usize> = HashMap::new();
        if !conditions.is_empty() {
            let mut failed = failed.into_iter();
            for (kind, _) in &conditions {
                let n = failed.next().unwrap_or(0).max(0) as usize;
                *reasons.entry(kind.clone()).or_default() += n;
            }
            // A host that does not say its architecture is counted apart.
            if let Some(unknown) = failed.next().filter(|n| *n > 0) {
                let unknown = unknown as usize;
                if let Some(n) = reasons.get_mut("architecture") {
                    *n = n.saturating_sub(unknown);
                }
                reasons.insert("architecture unknown".into(), unknown);
            }
        }
        reasons.retain(|_, n| *n > 0);
        let mut fits: Vec<SiteFit> = sites
            .iter()
            .enumerate()
            .filter(|(i, _)| fitting[*i] > 0)
            .map(|(i, s)| SiteFit {
                site: s.1.clone(),
                name: s.2.clone(),
                fitting: fitting[i],
                hosts: hosts[i],
                agents: s.3.max(0) as usize,
            })
            .collect();
        // Sites with agents first (a deployment needs them), then by fitting hosts.
        fits.sort_by(|a, b| {
            (b.agents > 0).cmp(&(a.agents > 0)).then(b.fitting.cmp(&a.fitting)).then(a.site.cmp(&b.site))
        });
        let mut reasons: Vec<(String, usize)> = reasons.into_iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out.push(FleetFit {
            fitting: fitting.iter().sum(),
            hosts: hosts.iter().sum(),
            all_sites: sites.len(),
            sites: fits,
            reasons,
        });
    }
    Ok(out)
}

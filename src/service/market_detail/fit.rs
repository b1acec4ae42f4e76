//! How each deployment profile of an edge app fits the fleet, from the hosts' hardware the
//! database keeps typed and indexed (`fleetdeck.host_hardware`, migration 24): one pass over it
//! for all of an app's profiles, whatever the number of hosts' JSON documents. The rule is
//! `domain::fit`'s; a test holds the two to the same answers host by host.

use std::collections::HashMap;

use sqlx::{Postgres, QueryBuilder};
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

#[derive(Debug, PartialEq)]
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
            // `token = ANY(column)`, not `column @> ARRAY[token]`: the same answer on these
            // NOT NULL arrays, and cheaper row by row in the one pass (30 against 35 ms for a
            // two-profile app at 100,000 hosts); the GIN indexes serve `@>` for a selective
            // reader, which this pass over every host is not.
            Condition::Has(column, token) => {
                qb.push("(").push_bind(token.clone()).push(format!("::text = ANY({column}))"));
            }
        }
    }
}

/// Judge every host against each profile, counted by site. A site's agents are the live cluster
/// agents annotated `site=<site id>`.
///
/// One pass over `host_hardware` for every profile at once: for each site its hosts, each
/// profile's fitting hosts and each distinct requirement's failures (two profiles that both
/// need ethernet share one failure count). A query per profile and a second for its reasons
/// read the table four times for a two-profile app (88 ms at 100,000 hosts; the interface test
/// alone is 30 ms of a pass); a profile that matches most of the fleet gains nothing from the
/// indexes, which serve other readers' selective queries.
pub async fn fleet_fit(
    services: &Services,
    needs: &[std::result::Result<Requirements, String>],
) -> Result<Vec<FleetFit>> {
    // The sites with their agents counted in one grouped pass over the site annotations (a
    // count per site as a subquery probed the annotations 2,000 times: 53 ms).
    let sites = sqlx::query_as::<_, (Uuid, String, String, i64)>(
        "SELECT s.id, s.site_id::text, coalesce(s.name, '')::text, coalesce(a.n, 0) \
         FROM edge.site s LEFT JOIN ( \
             SELECT an.value, count(*) AS n FROM broker.agent_annotations an \
             JOIN broker.agents ag ON ag.id = an.agent_id \
             WHERE an.key = 'site' AND ag.deleted_at IS NULL GROUP BY 1 \
         ) a ON a.value = s.site_id",
    )
    .fetch_all(&services.pool);

    // Every profile's requirements, as indexes into the distinct conditions.
    let mut distinct: Vec<Condition> = Vec::new();
    let profiles: Vec<Option<Vec<(String, usize)>>> = needs
        .iter()
        .map(|need| {
            let need = need.as_ref().ok()?;
            let judged = conditions(need)
                .into_iter()
                .map(|(kind, c)| {
                    let i = distinct.iter().position(|d| *d == c).unwrap_or_else(|| {
                        distinct.push(c);
                        distinct.len() - 1
                    });
                    (kind, i)
                })
                .collect();
            Some(judged)
        })
        .collect();
    let mut qb = QueryBuilder::<Postgres>::new("SELECT site_id, count(*), ARRAY[");
    let mut first = true;
    for judged in profiles.iter().flatten() {
        if !std::mem::take(&mut first) {
            qb.push(", ");
        }
        qb.push("count(*) FILTER (WHERE true");
        for (_, i) in judged {
            qb.push(format!(" AND c{i}"));
        }
        qb.push(")");
    }
    qb.push("]::bigint[], ARRAY[count(*) FILTER (WHERE architecture IS NULL)");
    for i in 0..distinct.len() {
        qb.push(format!(", count(*) FILTER (WHERE NOT c{i})"));
    }
    // The inner query is pulled up, so each reference judges again, but the pass runs in
    // parallel: kept apart by OFFSET 0 (each condition judged once, one process) it took twice
    // as long (89 against 42 ms at 100,000 hosts).
    qb.push("]::bigint[] FROM (SELECT site_id, architecture");
    for (i, c) in distinct.iter().enumerate() {
        qb.push(", ");
        c.push(&mut qb);
        qb.push(format!(" IS TRUE AS c{i}"));
    }
    qb.push(" FROM fleetdeck.host_hardware) h GROUP BY 1");
    // Planned for these values (an unnamed statement), not once for any.
    let judged = qb.build_query_as::<(Uuid, i64, Vec<i64>, Vec<i64>)>().persistent(false).fetch_all(&services.pool);
    let (sites, judged) = tokio::try_join!(sites, judged)?;

    let index: HashMap<Uuid, usize> = sites.iter().enumerate().map(|(i, s)| (s.0, i)).collect();
    let mut hosts = vec![0usize; sites.len()];
    // Per profile that could be judged, per site: its fitting hosts.
    let judged_profiles = profiles.iter().flatten().count();
    let mut fitting = vec![vec![0usize; sites.len()]; judged_profiles];
    // Over the whole fleet: hosts without an architecture, then each condition's failures.
    let mut failed = vec![0usize; distinct.len() + 1];
    let count = |n: i64| n.max(0) as usize;
    for (site, n, fits, fails) in judged {
        for (total, n) in failed.iter_mut().zip(&fails) {
            *total += count(*n);
        }
        let Some(&i) = index.get(&site) else { continue };
        hosts[i] = count(n);
        for (p, n) in fits.iter().enumerate().take(judged_profiles) {
            fitting[p][i] = count(*n);
        }
    }

    let mut out = Vec::with_capacity(needs.len());
    let mut fitting = fitting.into_iter();
    for (need, judged) in needs.iter().zip(&profiles) {
        let (Ok(need), Some(judged)) = (need, judged) else {
            out.push(FleetFit { all_sites: sites.len(), ..FleetFit::default() });
            continue;
        };
        let fitting = fitting.next().unwrap_or_default();
        // Why the others do not: how many hosts fail each requirement (a host may fail several).
        let mut reasons: HashMap<String, usize> = HashMap::new();
        for (kind, i) in judged {
            *reasons.entry(kind.clone()).or_default() += failed.get(i + 1).copied().unwrap_or(0);
        }
        // A host that does not say its architecture is counted apart.
        let unknown = failed[0];
        if !need.architectures.is_empty() && unknown > 0 {
            if let Some(n) = reasons.get_mut("architecture") {
                *n = n.saturating_sub(unknown);
            }
            reasons.insert("architecture unknown".into(), unknown);
        }
        reasons.retain(|_, n| *n > 0);
        let mut fits: Vec<SiteFit> = sites
            .iter()
            .enumerate()
            .filter(|(i, _)| fitting.get(*i).is_some_and(|n| *n > 0))
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

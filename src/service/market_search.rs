//! The Marketplace's server-side search: every field, READMEs and long descriptions included,
//! for what the in-memory match of the catalogue does not find.

use super::marketplace::Kind;
use super::{Error, Result, Services};

/// The most rows a server-side search returns.
pub const SEARCH_LIMIT: i64 = 500;

/// `text` as a LIKE pattern that matches it literally anywhere (`%`, `_` and `\` escaped).
pub fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Search every field on the server, README and long descriptions included: the ids of the
/// matching entries, best first (packages by full-text rank, then trigram similarity of the
/// name; the others by name similarity).
pub async fn search(services: &Services, kind: Kind, text: &str) -> Result<Vec<String>> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Invalid { field: "query".into(), reason: "type something to search for".into() });
    }
    let like = like_pattern(text);
    let sql = match kind {
        Kind::Packages => {
            "SELECT p.package_id::text FROM cloud.bitnami_packages p, websearch_to_tsquery('english', $1) q \
             WHERE p.search_tsv @@ q OR p.readme ILIKE $2 OR p.name ILIKE $2 \
             ORDER BY ts_rank(p.search_tsv, q) DESC, similarity(coalesce(p.name, ''), $1) DESC, p.name, p.package_id LIMIT $3"
        }
        Kind::Apps => {
            "SELECT a.app_id FROM catalog.application_desc a \
             WHERE concat_ws(' ', a.name, a.vendor, a.description, a.tag_line, a.category, a.tags::text, a.site) ILIKE $2 \
                OR EXISTS (SELECT 1 FROM catalog.deployment_profile p WHERE p.app_id = a.app_id \
                           AND concat_ws(' ', p.description, p.type, p.peripherals::text, p.interfaces::text) ILIKE $2) \
             ORDER BY similarity(coalesce(a.name, ''), $1) DESC, a.name, a.app_id LIMIT $3"
        }
        Kind::Solutions => {
            "SELECT s.id::text FROM ergon.solutions s \
             WHERE concat_ws(' ', s.name, s.display_name, s.description, s.long_description, s.capabilities::text, \
                             s.tags::text, s.parameters::text, s.author, s.source) ILIKE $2 \
             ORDER BY similarity(s.name::text, $1) DESC, s.name, s.id LIMIT $3"
        }
        Kind::Agents => {
            "SELECT a.id::text FROM platform.agents a \
             WHERE EXISTS (SELECT 1 FROM platform.marketplace_integrations m WHERE m.agent_id = a.id) \
               AND concat_ws(' ', a.name, a.description, a.framework, a.agent_type, a.status, a.version) ILIKE $2 \
             ORDER BY similarity(a.name::text, $1) DESC, a.name, a.id LIMIT $3"
        }
        Kind::Instances => {
            "SELECT i.id::text FROM cloud.instances i \
             WHERE concat_ws(' ', i.name, i.instance_type, i.provider, i.description, i.cpu_model, i.gpu_model, \
                             i.regions::text, i.os_type) ILIKE $2 \
             ORDER BY similarity(coalesce(i.name, ''), $1) DESC, i.price_hourly NULLS LAST, i.id LIMIT $3"
        }
    };
    Ok(sqlx::query_scalar(sql).bind(text).bind(&like).bind(SEARCH_LIMIT).fetch_all(&services.pool).await?)
}

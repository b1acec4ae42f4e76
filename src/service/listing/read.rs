//! The reads: a page (whole or light first), and the delta of the rows a table holds.

use sqlx::{Postgres, QueryBuilder};

use crate::db::handle::Db;

use super::build::*;
use super::model::*;
use super::specs::{clocked, Changed};
use super::tables::{spec, spec_for};
use crate::service::names::{self, Narrowed};
use crate::service::{Error, Result};

/// Read one page (at most `limit` rows, in display order), the total under the filter, and how
/// many of `query.marked` pass the filter.
pub async fn page(pool: &Db, entity: Entity, query: &Query, at: &PageAt, limit: i64) -> Result<Page> {
    page_within(pool, entity, query, at, limit, None).await
}

/// `page`, with the rows the filter can match already found in memory (`names::Names`): few
/// of them are read by id, and when nothing else filters the counts are memory's (the database
/// counts only the candidates memory cannot judge).
pub async fn page_within(
    pool: &Db,
    entity: Entity,
    query: &Query,
    at: &PageAt,
    limit: i64,
    narrowed: Option<&Narrowed>,
) -> Result<Page> {
    read_page(pool, entity, query, at, limit, narrowed, false).await
}

/// Can `query`'s page be read light first (`page_light`)? When the list has costly joins and
/// neither its sort nor its filters need them.
pub fn has_light(entity: Entity, query: &Query) -> bool {
    let s = spec_for(entity, query);
    let Some((_, dropped)) = s.light else { return false };
    let Some(column) = s.columns.get(query.sort) else { return false };
    let filter_needs = !query.filter.is_none() && uses_alias(s.columns[s.search].cell, dropped);
    let field_needs =
        query.fields.iter().any(|(name, _)| s.fields.iter().any(|f| f.name == name && uses_alias(f.expr, dropped)));
    !uses_alias(column.sort, dropped) && !filter_needs && !field_needs
}

/// `page` without the list's costly joins: the same rows in the same order, the same total,
/// with `…` in the cells those joins make (a stack's reach and progress). What a keystroke shows
/// at once while the full page is read. None when the query needs those joins (`has_light`).
pub async fn page_light(
    pool: &Db,
    entity: Entity,
    query: &Query,
    at: &PageAt,
    limit: i64,
    narrowed: Option<&Narrowed>,
) -> Result<Option<Page>> {
    if !has_light(entity, query) {
        return Ok(None);
    }
    read_page(pool, entity, query, at, limit, narrowed, true).await.map(Some)
}

pub(super) async fn read_page(
    pool: &Db,
    entity: Entity,
    query: &Query,
    at: &PageAt,
    limit: i64,
    narrowed: Option<&Narrowed>,
    light: bool,
) -> Result<Page> {
    let s = spec_for(entity, query);
    // Few candidates are read by id: when memory can tell which of them the page holds (sorted
    // by the name, nothing else filtering), only those.
    let by_id = narrowed.filter(|n| n.ids.len() <= names::BY_ID).map(|n| {
        let sorted_by_name = query.sort == s.search && query.fields.is_empty() && s.facet.is_none();
        let page = sorted_by_name.then(|| n.page(at, query.descending, limit.max(0) as usize)).flatten();
        page.unwrap_or_else(|| n.ids.clone())
    });
    // The filter is the only condition: memory has the counts, but for its unsure candidates.
    let counted_in_memory = narrowed.filter(|_| query.fields.is_empty() && s.facet.is_none() && s.id_type == "uuid");
    // How many of `ids` pass the list's conditions, by the database.
    let spec_ref = &s;
    let count_among = |ids: Vec<uuid::Uuid>| async move {
        let s = spec_ref;
        let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT count(*) FROM {}", clocked(s.from, query)));
        push_conditions(&mut qb, s, query, None)?;
        qb.push(format!(" AND {} = ANY(", s.id)).push_bind(ids).push(")");
        Ok::<i64, Error>(qb.build_query_scalar().fetch_one(pool).await?)
    };
    let push_ids = |qb: &mut QueryBuilder<'_, Postgres>| {
        if let Some(ids) = &by_id {
            qb.push(format!(" AND {} = ANY(", s.id)).push_bind(ids.clone()).push(")");
        }
    };
    let column = sort_column(&s, query)?;
    // Display order and its reverse; "forward" walks the display order.
    let (fwd, back, after, before, from) =
        if query.descending { ("DESC", "ASC", "<", ">", "<=") } else { ("ASC", "DESC", ">", "<", ">=") };
    let (condition, direction, reversed) = match at {
        PageAt::First => ("", fwd, false),
        PageAt::Last => ("", back, true),
        PageAt::After(_) => (after, fwd, false),
        PageAt::From(_) => (from, fwd, false),
        PageAt::Before(_) => (before, back, true),
    };
    let mut qb = QueryBuilder::<Postgres>::new(select(&s, column, query, "", light));
    push_conditions(&mut qb, &s, query, None)?;
    push_ids(&mut qb);
    if let PageAt::After(c) | PageAt::Before(c) | PageAt::From(c) = at {
        qb.push(format!(" AND ({}, {}) {condition} (", clocked(column.sort, query), s.id))
            .push_bind(c.sort.clone())
            .push(format!("::{}, ", column.sort_type))
            .push_bind(c.id.clone())
            .push(format!("::{})", s.id_type));
    }
    qb.push(format!(" ORDER BY {} {direction}, {} {direction} LIMIT ", clocked(column.sort, query), s.id))
        .push_bind(limit);
    let rows = async {
        qb.build_query_as::<(Option<String>, String, Vec<String>)>().fetch_all(pool).await.map_err(Error::from)
    };
    let counted = clocked(count_from(&s, query), query);
    // The total and the status counts from the counts the database maintains, when the
    // conditions allow (and no ids narrow the rows): a sum over workflows, not over executions.
    let (count, totals_from, nonzero) = match counted_from(&s, query).filter(|_| by_id.is_none()) {
        Some((c, from)) => {
            (format!("coalesce(sum({}), 0)::bigint", c.n), clocked(from, query), format!(" HAVING sum({}) <> 0", c.n))
        }
        None => ("count(*)".to_string(), counted.clone(), String::new()),
    };
    // A filtered total is planned for the pattern at hand, not once for any: a generic plan
    // guesses that `ILIKE $1` matches a few names and joins by a probe per name (81 ms at `/i`
    // over a third of 30,000 workflows, against 38 ms hashed).
    let persistent = query.filter.is_none();
    // The total and the status counts run beside the page, each on its own connection. With a
    // status header the total is its sum (or the count of the status shown).
    let totals = async {
        if let Some(n) = counted_in_memory {
            let unsure = match n.unsure.is_empty() {
                true => 0,
                false => count_among(n.unsure.clone()).await?,
            };
            return Ok::<_, Error>(((n.ids.len() - n.unsure.len()) as i64 + unsure, Vec::new(), n.seen_at));
        }
        match s.facet {
            None => {
                let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {count}, now() FROM {totals_from}"));
                push_conditions(&mut qb, &s, query, None)?;
                push_ids(&mut qb);
                let (total, seen_at): (i64, chrono::DateTime<chrono::Utc>) =
                    qb.build_query_as().persistent(persistent).fetch_one(pool).await?;
                Ok::<_, Error>((total, Vec::new(), seen_at))
            }
            Some(expr) => {
                let mut qb =
                    QueryBuilder::<Postgres>::new(format!("SELECT ({expr})::text, {count}, now() FROM {totals_from}"));
                let skip = s.fields.iter().find(|f| f.expr == expr).map(|f| f.name);
                push_conditions(&mut qb, &s, query, skip)?;
                push_ids(&mut qb);
                qb.push(format!(" GROUP BY 1{nonzero} ORDER BY 1"));
                let found = qb
                    .build_query_as::<(String, i64, chrono::DateTime<chrono::Utc>)>()
                    .persistent(persistent)
                    .fetch_all(pool)
                    .await?;
                let seen_at = match found.first() {
                    Some((_, _, t)) => *t,
                    None => sqlx::query_scalar("SELECT now()").fetch_one(pool).await?,
                };
                let facets: Vec<(String, i64)> = found.into_iter().map(|(k, n, _)| (k, n)).collect();
                let shown = skip
                    .and_then(|name| query.fields.iter().find(|(k, _)| k == name))
                    .and_then(|(k, v)| check_field(&s, k, v).ok())
                    .map(|(_, v)| v);
                let total = match shown {
                    Some(v) => facets.iter().find(|(k, _)| *k == v).map(|(_, n)| *n).unwrap_or(0),
                    None => facets.iter().map(|(_, n)| n).sum(),
                };
                Ok((total, facets, seen_at))
            }
        }
    };
    let marked = async {
        if query.marked.is_empty() {
            return Ok(0);
        }
        if let Some(n) = counted_in_memory {
            let marked: std::collections::HashSet<uuid::Uuid> =
                query.marked.iter().filter_map(|id| id.parse().ok()).collect();
            let unsure: Vec<uuid::Uuid> = n.unsure.iter().filter(|id| marked.contains(id)).copied().collect();
            let sure = n.ids.iter().filter(|id| marked.contains(id)).count() - unsure.len();
            let unsure = match unsure.is_empty() {
                true => 0,
                false => count_among(unsure).await?,
            };
            return Ok(sure as i64 + unsure);
        }
        let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT count(*) FROM {counted}"));
        push_conditions(&mut qb, &s, query, None)?;
        push_ids(&mut qb);
        qb.push(format!(" AND ({})::text = ANY(", s.id)).push_bind(query.marked.clone()).push(")");
        Ok::<i64, Error>(qb.build_query_scalar().fetch_one(pool).await?)
    };
    let (found, (total, facets, seen_at), marked_visible) = tokio::try_join!(rows, totals, marked)?;
    let mut rows: Vec<Row> = found
        .into_iter()
        .map(|(sort, id, cells)| Row { cursor: Cursor { sort: sort.unwrap_or_default(), id }, cells })
        .collect();
    if reversed {
        rows.reverse();
    }
    Ok(Page { rows, total, marked_visible, facets, seen_at: Some(seen_at), light })
}

/// Can the list be read by delta?
pub fn has_delta(entity: Entity) -> bool {
    spec(entity).changed.is_some()
}

/// The rows of the window `first ..= last` (cursors, in display order) that changed after
/// `since - overlap`, each with whether it still passes the query's filters; with `at_top`,
/// also the rows before `first` (new rows arriving on top). At most `limit` rows, and, where the
/// change time is an indexed column, at most `limit` rows changed in the whole table (else it
/// is not `complete`). Uses the index on the change time, so it costs what changed (up to that
/// bound), not what the list holds. The filters
/// are not a condition of the read: a row that changed out of them must still be seen, to
/// leave the list.
pub async fn delta(
    pool: &Db,
    entity: Entity,
    query: &Query,
    window: &Window,
    since: chrono::DateTime<chrono::Utc>,
    overlap: std::time::Duration,
    limit: i64,
) -> Result<Delta> {
    let s = spec_for(entity, query);
    let Some(changed) = s.changed else { return Ok(Delta::default()) };
    let since = since - chrono::Duration::from_std(overlap).unwrap_or_default();
    // Through the change time's index, how many rows changed (up to `limit`): none, and there
    // is nothing to read; `limit` or more (a mass update, a restore), and a delta would read
    // each of them wherever it is in the table, so the page is read whole instead.
    if let (Changed::Indexed(changed), Some((base, _))) = (changed, s.base) {
        let (seen_at, n): (chrono::DateTime<chrono::Utc>, i64) = sqlx::query_as(&format!(
            "SELECT now(), count(*) FROM (SELECT 1 FROM {base} WHERE {changed} > $1 ORDER BY {changed} LIMIT $2) x"
        ))
        .bind(since)
        .bind(limit)
        .fetch_one(pool)
        .await?;
        if n == 0 || n >= limit {
            let complete = n == 0;
            return Ok(Delta { rows: Vec::new(), left: Vec::new(), complete, seen_at: Some(seen_at), supported: true });
        }
    }
    let changed = changed.expr();
    let column = sort_column(&s, query)?;
    let (from_op, to_op) = if query.descending { ("<=", ">=") } else { (">=", "<=") };
    let mut qb = QueryBuilder::<Postgres>::new(select_list(&s, column, query, ", now(), coalesce(true"));
    push_terms(&mut qb, &s, query, None)?;
    qb.push(format!(", false) FROM {} WHERE true", clocked(s.from, query)));
    qb.push(format!(" AND {changed} > ")).push_bind(since);
    // Inside the window (or anywhere before its end, when it is at the top).
    if !window.at_top {
        qb.push(format!(" AND ({}, {}) {from_op} (", clocked(column.sort, query), s.id))
            .push_bind(window.first.sort.clone())
            .push(format!("::{}, ", column.sort_type))
            .push_bind(window.first.id.clone())
            .push(format!("::{})", s.id_type));
    }
    qb.push(format!(" AND ({}, {}) {to_op} (", clocked(column.sort, query), s.id))
        .push_bind(window.last.sort.clone())
        .push(format!("::{}, ", column.sort_type))
        .push_bind(window.last.id.clone())
        .push(format!("::{})", s.id_type));
    qb.push(" LIMIT ").push_bind(limit);
    let found = qb
        .build_query_as::<(Option<String>, String, Vec<String>, chrono::DateTime<chrono::Utc>, bool)>()
        .fetch_all(pool)
        .await?;
    let seen_at = match found.first() {
        Some((_, _, _, t, _)) => Some(*t),
        None => Some(sqlx::query_scalar("SELECT now()").fetch_one(pool).await?),
    };
    let complete = (found.len() as i64) < limit;
    let (mut rows, mut left) = (Vec::new(), Vec::new());
    for (sort, id, cells, _, passes) in found {
        let row = Row { cursor: Cursor { sort: sort.unwrap_or_default(), id }, cells };
        if passes {
            rows.push(row);
        } else {
            left.push(row);
        }
    }
    Ok(Delta { rows, left, complete, seen_at, supported: true })
}

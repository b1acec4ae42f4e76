//! The SQL a read is built from: the query's conditions, its sort column and the select lists.

use sqlx::{Postgres, QueryBuilder};

use super::model::{Entity, Query};
use super::specs::{clocked, health_condition, Column, Counted, FieldSpec, Match, Spec};
use super::tables::spec;
use crate::domain::filter::{subsequence_pattern, Filter};
use crate::service::{Error, Result};

/// `WHERE …` for the live rows under the filter (always starts a WHERE clause).
pub(super) fn push_conditions(
    qb: &mut QueryBuilder<'_, Postgres>,
    s: &Spec,
    query: &Query,
    skip_field: Option<&str>,
) -> Result<()> {
    qb.push(" WHERE true");
    push_terms(qb, s, query, skip_field)
}

/// The list's conditions, each as ` AND …` (after `WHERE true`, or inside `(true … )`).
pub(super) fn push_terms(
    qb: &mut QueryBuilder<'_, Postgres>,
    s: &Spec,
    query: &Query,
    skip_field: Option<&str>,
) -> Result<()> {
    let filter = &query.filter;
    let t = |sql: &str| clocked(sql, query);
    for (name, value) in &query.fields {
        if Some(name.as_str()) == skip_field {
            continue;
        }
        let (field, value) = check_field(s, name, value)?;
        match field.how {
            Match::Exact => {
                qb.push(format!(" AND {} = ", field.expr)).push_bind(value);
            }
            Match::Contains => {
                qb.push(format!(" AND strpos(lower({}), lower(", field.expr)).push_bind(value).push(")) > 0");
            }
            Match::Since => {
                let secs = since_seconds(&value).map_err(|reason| Error::Invalid { field: name.clone(), reason })?;
                qb.push(format!(" AND {} >= now() - make_interval(secs => ", field.expr)).push_bind(secs).push(")");
            }
            Match::Health { active, heartbeat, maintenance } => {
                qb.push(" AND ").push(t(&health_condition(active, heartbeat, maintenance, &value)));
            }
            Match::Source => {}
        }
    }
    if !s.live.is_empty() {
        qb.push(" AND ").push(s.live);
    }
    let search = t(s.columns[s.search].cell);
    match filter {
        Filter::None => {}
        Filter::Fuzzy(q) => {
            qb.push(format!(" AND {search} ILIKE ")).push_bind(subsequence_pattern(q));
        }
        Filter::Invert(q) => {
            qb.push(format!(" AND {search} NOT ILIKE ")).push_bind(subsequence_pattern(q));
        }
        Filter::Exact(q) => {
            qb.push(format!(" AND strpos({search}, ")).push_bind(q.clone()).push(") > 0");
        }
        Filter::Label { key, value } => {
            let Some(labels) = &s.labels else {
                return Err(Error::Invalid {
                    field: "filter".into(),
                    reason: "-l: this list has no labels or annotations".into(),
                });
            };
            match value {
                Some(v) => {
                    let (table, fk) = labels.annotations;
                    qb.push(format!(" AND EXISTS (SELECT 1 FROM {table} x WHERE x.{fk} = {} AND x.key = ", s.id))
                        .push_bind(key.clone())
                        .push(" AND x.value = ")
                        .push_bind(v.clone())
                        .push(")");
                }
                None => {
                    let (table, fk) = labels.labels;
                    qb.push(format!(" AND EXISTS (SELECT 1 FROM {table} x WHERE x.{fk} = {} AND x.label = ", s.id))
                        .push_bind(key.clone())
                        .push(")");
                }
            }
        }
    }
    Ok(())
}

/// The field filter `name` and its value in canonical spelling, or what is wrong with them.
pub(super) fn check_field<'a>(s: &'a Spec, name: &str, value: &str) -> Result<(&'a FieldSpec, String)> {
    let field = s.fields.iter().find(|f| f.name == name).ok_or_else(|| Error::Invalid {
        field: name.to_string(),
        reason: if s.fields.is_empty() {
            "this list has no field filters".into()
        } else {
            format!("unknown filter (known: {})", s.fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", "))
        },
    })?;
    if value.is_empty() {
        return Err(Error::Invalid { field: name.to_string(), reason: "the value is empty".into() });
    }
    if field.values.is_empty() {
        return Ok((field, value.to_string()));
    }
    match field.values.iter().find(|v| v.eq_ignore_ascii_case(value)) {
        Some(v) => Ok((field, v.to_string())),
        None => Err(Error::Invalid {
            field: name.to_string(),
            reason: format!("{value:?} is not a {name} (one of {})", field.values.join(", ")),
        }),
    }
}

/// `90s`, `15m`, `2h`, `7d` → seconds.
pub fn since_seconds(text: &str) -> std::result::Result<f64, String> {
    humantime::parse_duration(text)
        .map(|d| d.as_secs_f64())
        .map_err(|_| format!("{text:?} is not a duration such as 15m, 2h or 7d"))
}

/// Check `key=value` filters for a list without running them: the first problem, naming the key.
pub fn check_fields(entity: Entity, fields: &[(String, String)]) -> Result<()> {
    let s = spec(entity);
    for (name, value) in fields {
        let (f, _) = check_field(&s, name, value)?;
        if f.how == Match::Since {
            since_seconds(value).map_err(|reason| Error::Invalid { field: name.clone(), reason })?;
        }
    }
    Ok(())
}

/// Does `expr` use one of these table aliases (`w.name` uses `w`)?
pub(super) fn uses_alias(expr: &str, aliases: &[&str]) -> bool {
    aliases.iter().any(|a| {
        expr.match_indices(&format!("{a}.")).any(|(i, _)| {
            i == 0 || !expr[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

/// Which of `aliases` the conditions of `query` read.
fn aliases_read<'a>(s: &Spec, query: &Query, aliases: &[&'a str]) -> Vec<&'a str> {
    let mut exprs: Vec<&str> =
        query.fields.iter().filter_map(|(name, _)| s.fields.iter().find(|f| f.name == name).map(|f| f.expr)).collect();
    if !query.filter.is_none() {
        exprs.push(s.columns[s.search].cell);
    }
    aliases.iter().copied().filter(|a| exprs.iter().any(|e| uses_alias(e, &[a]))).collect()
}

/// What to count over for `query`: the main table alone when no condition needs a join.
pub(super) fn count_from(s: &Spec, query: &Query) -> &'static str {
    let Some((base, aliases)) = s.base else { return s.from };
    if aliases_read(s, query, aliases).is_empty() {
        base
    } else {
        s.from
    }
}

/// The maintained counts `query` can be counted from, and the tables to count over: when every
/// condition reads only what the counts are kept by; joined to only the tables the conditions
/// read.
pub(super) fn counted_from<'a>(s: &'a Spec, query: &Query) -> Option<(&'a Counted, &'static str)> {
    let counted = s.counted.as_ref()?;
    let fits = |expr: &str| alias_columns(expr, counted.alias).all(|c| counted.columns.contains(&c));
    let filter_fits = match &query.filter {
        Filter::None => true,
        Filter::Label { .. } => false,
        _ => fits(s.columns[s.search].cell),
    };
    let fields_fit = query.fields.iter().all(|(name, _)| {
        s.fields.iter().find(|f| f.name == name).is_some_and(|f| !matches!(f.how, Match::Health { .. }) && fits(f.expr))
    });
    if !(filter_fits && fields_fit && fits(s.live)) {
        return None;
    }
    let read = aliases_read(s, query, s.base.map_or(&[], |(_, aliases)| aliases));
    if read.is_empty() {
        return Some((counted, counted.table));
    }
    let from = counted.joined.iter().find(|(has, _)| read.iter().all(|a| has.contains(a)))?;
    Some((counted, from.1))
}

/// The columns of `alias` that `expr` reads (`e.status` → `status`).
fn alias_columns<'a>(expr: &'a str, alias: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let prefix = format!("{alias}.");
    let starts: Vec<usize> = expr
        .match_indices(&prefix)
        .filter(|(i, _)| {
            *i == 0 || !expr[..*i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .map(|(i, _)| i + prefix.len())
        .collect();
    starts.into_iter().map(move |start| {
        let rest = &expr[start..];
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        &rest[..end]
    })
}

/// The column a query sorts on, if it exists and can be sorted on.
pub(super) fn sort_column<'a>(s: &'a Spec, query: &Query) -> Result<&'a Column> {
    let column = s.columns.get(query.sort).ok_or_else(|| Error::Invalid {
        field: "sort".into(),
        reason: format!("no column {} (the list has {})", query.sort, s.columns.len()),
    })?;
    if column.sort.is_empty() {
        return Err(Error::Invalid { field: "sort".into(), reason: format!("{} cannot be sorted on", column.title) });
    }
    Ok(column)
}

/// The SELECT list of a page or delta: sort key, id and cells as text, from the list's tables.
pub(super) fn select(s: &Spec, column: &Column, query: &Query, extra: &str, light: bool) -> String {
    let (select, from) = match (light, s.light) {
        (true, Some((from, dropped))) => {
            let cells: Vec<&str> =
                s.columns.iter().map(|c| if uses_alias(c.cell, dropped) { "'…'" } else { c.cell }).collect();
            (select_cells(s, column, query, extra, &cells), from)
        }
        _ => (select_list(s, column, query, extra), s.from),
    };
    format!("{select} FROM {}", clocked(from, query))
}

/// `SELECT` sort key, id and cells, then `extra`; no `FROM`.
pub(super) fn select_list(s: &Spec, column: &Column, query: &Query, extra: &str) -> String {
    let cells: Vec<&str> = s.columns.iter().map(|c| c.cell).collect();
    select_cells(s, column, query, extra, &cells)
}

pub(super) fn select_cells(s: &Spec, column: &Column, query: &Query, extra: &str, cells: &[&str]) -> String {
    clocked(
        &format!(
            "SELECT ({sort})::text, ({id})::text, ARRAY[{cells}]::text[]{extra}",
            sort = column.sort,
            id = s.id,
            cells = cells.join(", "),
        ),
        query,
    )
}

//! Ids as people type them: a full UUID, or a unique prefix of one (the dashboard shows the first
//! 8 characters), as git and docker accept. The prefix becomes a range of UUIDs, so the lookup is
//! an index range scan however large the table.

use crate::db::handle::Db;
use uuid::Uuid;

use super::{Error, Result};

/// The tables whose ids the verbs take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdOf {
    Execution,
    Agent,
    Host,
}

impl IdOf {
    fn table(self) -> &'static str {
        match self {
            IdOf::Execution => "platform.workflow_executions",
            IdOf::Agent => "broker.agents",
            IdOf::Host => "edge.host",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            IdOf::Execution => "execution",
            IdOf::Agent => "agent",
            IdOf::Host => "host",
        }
    }
}

/// The fewest hex digits a prefix may have.
pub const MIN_PREFIX: usize = 4;
/// How many candidates an ambiguous prefix names.
const CANDIDATES: i64 = 5;

/// What was typed: a whole id, or the range of ids a prefix stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    Whole(Uuid),
    Prefix { text: String, low: Uuid, high: Uuid },
}

/// Read one typed id, before any database: a UUID, or at least `MIN_PREFIX` hex digits (dashes
/// where a UUID has them are ignored).
pub fn typed(s: &str) -> std::result::Result<Typed, String> {
    let shown = crate::domain::text::sanitize_cell(s, 60);
    if let Ok(id) = s.parse::<Uuid>() {
        return Ok(Typed::Whole(id));
    }
    let hex: String = s.chars().filter(|c| *c != '-').collect::<String>().to_ascii_lowercase();
    if hex.is_empty() || hex.len() > 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{shown:?} is not an id (a UUID or the first {MIN_PREFIX} or more of its hex digits)"));
    }
    if hex.len() < MIN_PREFIX {
        return Err(format!("{shown:?} is too short: give at least {MIN_PREFIX} characters of the id"));
    }
    let pad = |c: char| format!("{hex}{}", c.to_string().repeat(32 - hex.len()));
    let (Ok(low), Ok(high)) = (Uuid::parse_str(&pad('0')), Uuid::parse_str(&pad('f'))) else {
        return Err(format!("{shown:?} is not an id"));
    };
    Ok(Typed::Prefix { text: shown, low, high })
}

/// Check every typed id before any database (the first bad one's message).
pub fn check(inputs: &[String]) -> std::result::Result<Vec<Typed>, String> {
    inputs.iter().map(|s| typed(s)).collect()
}

/// The ids the typed ones stand for, in order: a prefix that matches no row is not found, one
/// that matches several is refused naming them. Rows hidden by row-level security do not count.
pub async fn resolve(pool: &Db, of: IdOf, typed: &[Typed]) -> Result<Vec<Uuid>> {
    let mut ids = Vec::with_capacity(typed.len());
    for t in typed {
        match t {
            Typed::Whole(id) => ids.push(*id),
            Typed::Prefix { text, low, high } => {
                let range = |table: &str| format!("SELECT id FROM {table} WHERE id BETWEEN $1 AND $2");
                // An execution may have moved to the archive (`exec show` still finds it).
                let from = match of {
                    IdOf::Execution => {
                        format!("{} UNION ALL {}", range(of.table()), range("platform.workflow_executions_archive"))
                    }
                    _ => range(of.table()),
                };
                let sql = format!("SELECT id FROM ({from}) x ORDER BY id LIMIT $3");
                let found: Vec<Uuid> =
                    sqlx::query_scalar(&sql).bind(low).bind(high).bind(CANDIDATES + 1).fetch_all(pool).await?;
                match found.as_slice() {
                    [] => return Err(Error::NotFound { what: format!("{} {text:?}", of.noun()) }),
                    [one] => ids.push(*one),
                    many => {
                        let mut names: Vec<String> =
                            many.iter().take(CANDIDATES as usize).map(Uuid::to_string).collect();
                        if many.len() as i64 > CANDIDATES {
                            names.push("…".into());
                        }
                        return Err(Error::Invalid {
                            field: "id".into(),
                            reason: format!(
                                "{text:?} is ambiguous: it begins the ids of several {}s ({}); give more of it",
                                of.noun(),
                                names.join(", ")
                            ),
                        });
                    }
                }
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_the_range_of_ids_it_begins() {
        let Typed::Prefix { low, high, .. } = typed("6EE1e844").unwrap() else { panic!("a prefix") };
        assert_eq!(low.to_string(), "6ee1e844-0000-0000-0000-000000000000");
        assert_eq!(high.to_string(), "6ee1e844-ffff-ffff-ffff-ffffffffffff");
        let Typed::Prefix { low, .. } = typed("6ee1e844-12").unwrap() else { panic!("a prefix") };
        assert_eq!(low.to_string(), "6ee1e844-1200-0000-0000-000000000000");
    }

    #[test]
    fn a_whole_id_is_taken_as_it_is_and_bad_ones_are_refused() {
        let id = Uuid::new_v4();
        assert_eq!(typed(&id.to_string()).unwrap(), Typed::Whole(id));
        assert!(typed("6ee").unwrap_err().contains("too short"));
        assert!(typed("nothex!").unwrap_err().contains("is not an id"));
        assert!(typed("").unwrap_err().contains("is not an id"));
        assert!(typed(&"a".repeat(33)).unwrap_err().contains("is not an id"));
    }
}

//! The change clock (issue 26, point 2): where no session can LISTEN (through a transaction
//! pooler, or on a hot standby), a dashboard reads the newest change time of each notified list
//! instead, through each table's index on its change time: four index probes in one statement.

use crate::db::handle::Db;
use chrono::{DateTime, Utc};

use super::Entity;
use crate::service::Result;

/// The lists the clock watches, in the order [`read`] answers: the tables migration 11's
/// triggers notify for, by their indexed change time.
pub const CLOCKED: [Entity; 4] = [Entity::Executions, Entity::Hosts, Entity::Agents, Entity::Stacks];

const CLOCK_SQL: &str = "SELECT (SELECT max(updated_at) FROM platform.workflow_executions), \
     (SELECT max(updated_at) FROM edge.host), \
     (SELECT max(updated_at) FROM broker.agents), \
     (SELECT max(updated_at) FROM broker.stacks)";

/// Each clocked list's newest change time (None: an empty table).
pub async fn read(pool: &Db) -> Result<[Option<DateTime<Utc>>; 4]> {
    type Times = (Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let (a, b, c, d): Times = sqlx::query_as(CLOCK_SQL).fetch_one(pool).await?;
    Ok([a, b, c, d])
}

/// The lists whose clock moved from `before` to `now`.
pub fn moved(before: &[Option<DateTime<Utc>>; 4], now: &[Option<DateTime<Utc>>; 4]) -> Vec<Entity> {
    CLOCKED.iter().zip(before.iter().zip(now.iter())).filter(|(_, (b, n))| b != n).map(|(e, _)| *e).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_lists_whose_clock_moved_are_told() {
        let t = |s: i64| DateTime::<Utc>::from_timestamp(s, 0);
        let before = [t(1), t(2), None, t(4)];
        assert_eq!(moved(&before, &before), Vec::<Entity>::new());
        assert_eq!(moved(&before, &[t(1), t(3), t(9), t(4)]), vec![Entity::Hosts, Entity::Agents]);
    }
}

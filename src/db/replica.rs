//! A hot standby for reads (issue 26): how far behind it is, whether reads may go there, and the
//! position a user's own writes must have reached on it before it serves them.
//!
//! Every check runs on the standby alone (its replay position and the time of the last
//! transaction it replayed), so watching it costs the primary nothing. After a verb, the
//! primary's WAL insert position is taken once ([`Replica::catch_up_to`]); reads go to the primary
//! until the standby has replayed past it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::handle::Db;

/// What the last check of the standby found.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    /// Not checked yet.
    Unknown,
    /// It replays, this far behind the primary's last transaction.
    Following { lag: Duration },
    /// It cannot be reached, or it is not a standby.
    Down { error: String },
}

/// Where reads go, as the status bar says it.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadsFrom {
    Standby {
        lag: Duration,
    },
    /// On the primary: the standby lags past the limit, is down, or has not replayed a write of
    /// this process yet.
    Primary {
        why: String,
    },
}

impl ReadsFrom {
    /// Short words for the status bar.
    pub fn describe(&self) -> String {
        match self {
            ReadsFrom::Standby { lag } => format!("standby, lag {}", lag_text(*lag)),
            ReadsFrom::Primary { why } => format!("reads on primary: {why}"),
        }
    }
}

/// A lag as people read it: 0.2s, 12s, 3m.
pub fn lag_text(lag: Duration) -> String {
    let s = lag.as_secs_f64();
    if s < 10.0 {
        format!("{s:.1}s")
    } else if s < 120.0 {
        format!("{s:.0}s")
    } else {
        format!("{:.0}m", s / 60.0)
    }
}

/// The standby's pool and what is known of it. Shared by every clone of the services.
#[derive(Debug)]
pub struct Replica {
    pub pool: Db,
    pub max_lag: Duration,
    standing: Mutex<Standing>,
    /// The WAL position the standby has replayed (bytes from 0/0), at the last check.
    replayed: AtomicU64,
    /// The primary's WAL position after this process's last write: reads wait for it.
    wait_for: AtomicU64,
    /// When the standby last answered (a check, a probe or a read).
    last_answer: Mutex<Option<Instant>>,
}

/// The standby's own view: in recovery, replayed position, lag in seconds.
const CHECK_SQL: &str = "SELECT pg_is_in_recovery(), \
     COALESCE((pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, 0), \
     (CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 \
      ELSE COALESCE(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END)::float8";

/// How long a standby that failed a read has to answer on a connection of its own before it is
/// taken for down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a standby that answers nothing in time is taken for busy, counted from its last
/// answer; after that it is down.
const BUSY_LIMIT: Duration = Duration::from_secs(10);

/// Why a probe of the standby failed.
enum Probe {
    /// Nothing listens there, or it refuses us: down.
    Refused(String),
    /// No answer in time: busy, for a while.
    Slow(String),
}

impl Probe {
    fn of(e: &sqlx::Error) -> Probe {
        use std::io::ErrorKind;
        let why = crate::db::pool::cause(e);
        match e {
            sqlx::Error::Io(io) if matches!(io.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => Probe::Slow(why),
            sqlx::Error::PoolTimedOut => Probe::Slow(why),
            // "too many clients already": there, and full.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("53300") => Probe::Slow(why),
            _ => Probe::Refused(why),
        }
    }
}

/// The primary's position: everything committed so far is at or before it.
const POSITION_SQL: &str = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint";

impl Replica {
    pub fn new(pool: Db, max_lag: Duration) -> Arc<Replica> {
        Arc::new(Replica {
            pool,
            max_lag,
            standing: Mutex::new(Standing::Unknown),
            replayed: AtomicU64::new(0),
            wait_for: AtomicU64::new(0),
            last_answer: Mutex::new(None),
        })
    }

    pub fn standing(&self) -> Standing {
        self.standing.lock().map(|s| s.clone()).unwrap_or(Standing::Unknown)
    }

    fn set(&self, standing: Standing) {
        if let Ok(mut s) = self.standing.lock() {
            *s = standing;
        }
    }

    /// Ask the standby how far it is. Never fails: a standby that does not answer is `Down`;
    /// one that is only busy (see [`Replica::failed_read`]) keeps its standing.
    pub async fn check(&self) -> Standing {
        let standing = match sqlx::query_as::<_, (bool, i64, f64)>(CHECK_SQL).fetch_one(&self.pool).await {
            Ok(found) => self.standing_of(found),
            Err(e) => match self.judge(crate::db::pool::cause(&e)).await {
                Some(standing) => standing,
                None => return self.standing(),
            },
        };
        self.set(standing.clone());
        standing
    }

    /// A read on the standby failed for want of it (`error`): is it down (`true`: reads go to
    /// the primary), or only busy (`false`: the read waits and goes to the standby again)? So
    /// that an overloaded standby does not send its readers, all at once, to load the primary.
    pub async fn failed_read(&self, error: String) -> bool {
        match self.judge(error).await {
            None => false,
            Some(standing) => {
                let down = matches!(standing, Standing::Down { .. });
                self.set(standing);
                down
            }
        }
    }

    /// A read on the standby was answered.
    pub fn answered(&self) {
        if let Ok(mut at) = self.last_answer.lock() {
            *at = Some(Instant::now());
        }
    }

    fn answered_within(&self, limit: Duration) -> bool {
        self.last_answer.lock().ok().and_then(|at| *at).is_some_and(|at| at.elapsed() <= limit)
    }

    /// After a failure (`error`): None while the standby is busy, else what it is.
    /// - Busy while this process's own reads hold every connection of its pool (they are being
    ///   answered, slowly), or while it answers no connection of its own in time but did answer
    ///   within `BUSY_LIMIT` (through a pooler, a connection of its own queues behind the others).
    /// - Down when nothing listens there (refused, no such socket, it refuses the login or is
    ///   shutting down), when it is no longer a standby, or when it has not answered for
    ///   `BUSY_LIMIT`.
    async fn judge(&self, error: String) -> Option<Standing> {
        let pool = self.pool.pg();
        if pool.size() >= pool.options().get_max_connections() && pool.num_idle() == 0 {
            return None;
        }
        match self.probe().await {
            Ok(found) => Some(self.standing_of(found)),
            Err(Probe::Refused(why)) => Some(Standing::Down { error: why }),
            Err(Probe::Slow(_)) if self.answered_within(BUSY_LIMIT) => None,
            Err(Probe::Slow(why)) => Some(Standing::Down { error: format!("{error}; {why}") }),
        }
    }

    fn standing_of(&self, (in_recovery, replayed, lag): (bool, i64, f64)) -> Standing {
        if !in_recovery {
            return Standing::Down { error: "it is not a standby (promoted?)".into() };
        }
        self.answered();
        self.replayed.store(replayed.max(0) as u64, Ordering::SeqCst);
        Standing::Following { lag: Duration::from_secs_f64(lag.max(0.0)) }
    }

    /// The check on a connection of its own, outside the pool, within `PROBE_TIMEOUT`.
    async fn probe(&self) -> Result<(bool, i64, f64), Probe> {
        use sqlx::Connection;
        let options = self.pool.pg().connect_options();
        let probe = async {
            let mut conn = sqlx::PgConnection::connect_with(&options).await?;
            // Unnamed: nothing is left prepared on a pooler's server connection.
            let found = sqlx::query_as::<_, (bool, i64, f64)>(CHECK_SQL).persistent(false).fetch_one(&mut conn).await;
            let _ = conn.close().await;
            found
        };
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(found)) => Ok(found),
            Ok(Err(e)) => Err(Probe::of(&e)),
            Err(_) => Err(Probe::Slow(format!("no answer within {}s", PROBE_TIMEOUT.as_secs()))),
        }
    }

    /// Reads wait for the standby to replay what `primary` has committed so far (after a write
    /// of this process, or before a verb for scripts reads): its WAL insert position, read once.
    pub async fn catch_up_to(&self, primary: &Db) -> Result<(), sqlx::Error> {
        let position: i64 = sqlx::query_scalar(POSITION_SQL).fetch_one(primary).await?;
        self.wait_for(position.max(0) as u64);
        Ok(())
    }

    /// Reads wait until the standby has replayed `position` (the primary's, bytes from 0/0).
    fn wait_for(&self, position: u64) {
        self.wait_for.fetch_max(position, Ordering::SeqCst);
    }

    /// A write of this process is not replayed on the standby yet (as of the last check).
    pub fn behind_own_writes(&self) -> bool {
        self.replayed.load(Ordering::SeqCst) < self.wait_for.load(Ordering::SeqCst)
    }

    /// Where reads go now.
    pub fn reads_from(&self) -> ReadsFrom {
        match self.standing() {
            Standing::Unknown => ReadsFrom::Primary { why: "standby not checked yet".into() },
            Standing::Down { error } => ReadsFrom::Primary { why: format!("standby down ({error})") },
            Standing::Following { lag } if lag > self.max_lag => {
                ReadsFrom::Primary { why: format!("standby lags {}", lag_text(lag)) }
            }
            Standing::Following { .. } if self.behind_own_writes() => {
                ReadsFrom::Primary { why: "your change is not on the standby yet".into() }
            }
            Standing::Following { lag } => ReadsFrom::Standby { lag },
        }
    }

    /// Check until the standby has replayed this process's writes, at most `limit`.
    pub async fn settle(&self, limit: Duration) -> Standing {
        let until = tokio::time::Instant::now() + limit;
        loop {
            let standing = self.check().await;
            let done = !matches!(standing, Standing::Following { .. }) || !self.behind_own_writes();
            if done || tokio::time::Instant::now() >= until {
                return standing;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(max_lag: Duration) -> Arc<Replica> {
        let pool = sqlx::postgres::PgPoolOptions::new().connect_lazy("postgres://nobody@localhost/none");
        Replica::new(crate::db::handle::Db::direct(pool.expect("a lazy pool")), max_lag)
    }

    #[tokio::test]
    async fn reads_go_to_the_standby_only_while_it_is_current_enough_and_has_our_writes() {
        let r = replica(Duration::from_secs(5));
        assert_eq!(r.reads_from(), ReadsFrom::Primary { why: "standby not checked yet".into() });
        r.set(Standing::Following { lag: Duration::from_millis(300) });
        assert_eq!(r.reads_from(), ReadsFrom::Standby { lag: Duration::from_millis(300) });
        r.set(Standing::Following { lag: Duration::from_secs(6) });
        assert_eq!(r.reads_from(), ReadsFrom::Primary { why: "standby lags 6.0s".into() });
        r.set(Standing::Following { lag: Duration::ZERO });
        // A write of ours at position 100: the standby serves again once it has replayed 100.
        r.replayed.store(90, Ordering::SeqCst);
        r.wait_for(100);
        assert!(r.behind_own_writes());
        assert_eq!(r.reads_from(), ReadsFrom::Primary { why: "your change is not on the standby yet".into() });
        r.replayed.store(100, Ordering::SeqCst);
        assert_eq!(r.reads_from(), ReadsFrom::Standby { lag: Duration::ZERO });
        // An older position does not move the mark back.
        r.wait_for(50);
        assert!(!r.behind_own_writes());
        r.set(Standing::Down { error: "connection refused".into() });
        assert_eq!(r.reads_from(), ReadsFrom::Primary { why: "standby down (connection refused)".into() });
        assert_eq!(r.reads_from().describe(), "reads on primary: standby down (connection refused)");
        assert_eq!(ReadsFrom::Standby { lag: Duration::from_millis(40) }.describe(), "standby, lag 0.0s");
    }

    #[tokio::test]
    async fn a_standby_that_refuses_is_down_and_one_that_is_slow_is_busy_for_a_while() {
        use std::io::{Error as Io, ErrorKind};
        let kind = |e: sqlx::Error| matches!(Probe::of(&e), Probe::Slow(_));
        assert!(!kind(sqlx::Error::Io(Io::from(ErrorKind::ConnectionRefused))), "refused: down");
        assert!(!kind(sqlx::Error::Io(Io::from(ErrorKind::NotFound))), "no socket: down");
        assert!(kind(sqlx::Error::Io(Io::from(ErrorKind::TimedOut))), "timed out: busy");
        assert!(kind(sqlx::Error::PoolTimedOut), "no connection in time: busy");
        let r = replica(Duration::from_secs(5));
        assert!(!r.answered_within(BUSY_LIMIT), "never answered");
        r.answered();
        assert!(r.answered_within(BUSY_LIMIT));
    }

    #[test]
    fn lags_read_as_people_say_them() {
        assert_eq!(lag_text(Duration::from_millis(240)), "0.2s");
        assert_eq!(lag_text(Duration::from_secs(42)), "42s");
        assert_eq!(lag_text(Duration::from_secs(600)), "10m");
    }
}

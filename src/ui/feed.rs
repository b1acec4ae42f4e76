//! How the dashboard learns that lists changed, and where its reads go: the change listener
//! (LISTEN on a session of its own on the primary), the change clock that replaces it where no
//! session can listen (through a transaction pooler; on a hot standby), and the watch on the
//! standby's lag. Nothing here touches the terminal.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::mpsc;

use super::protocol::Reply;
use crate::db::replica::{ReadsFrom, Replica};
use crate::service::listing::{clock, Entity};
use crate::service::Services;

/// First and longest wait before trying a lost database again. At most half a second, so that
/// the dashboard is back within a second of the database, connecting included (a failed attempt
/// costs next to nothing; with a 1 s wait `bench whole` once measured 1.09 s).
pub const BACKOFF_FIRST: Duration = Duration::from_millis(250);
pub const BACKOFF_MAX: Duration = Duration::from_millis(500);

/// The next wait after `previous`: doubled, at most [`BACKOFF_MAX`].
pub fn next_backoff(previous: Option<Duration>) -> Duration {
    previous.map(|d| (d * 2).min(BACKOFF_MAX)).unwrap_or(BACKOFF_FIRST)
}

/// How often the change clock reads the newest change times: a change shows in a dashboard
/// within this (plus the delta read that follows).
pub const CLOCK_INTERVAL: Duration = Duration::from_millis(200);

/// How often the standby's lag is checked; while a write of this process is not replayed there
/// yet, every [`SETTLE_INTERVAL`] instead, so that reads come back to it soon after.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(1);
pub const SETTLE_INTERVAL: Duration = Duration::from_millis(50);

/// The channel migration 11's triggers notify.
pub const CHANGES_CHANNEL: &str = "fleetdeck_changes";

/// Migration 32's gate: a statement notifies only when nothing was notified in this long before
/// it (`fleetdeck.change_gate_ms()`), so a burst of commits wakes the listeners once.
pub const NOTIFY_GATE: Duration = Duration::from_millis(100);

/// After a notification, every notified list is read once more this long after it was heard:
/// the gate behind it has closed by then, and what it skipped has committed (and, on a standby,
/// been replayed) with a margin of 50 ms.
pub const TRAILING_READ: Duration = Duration::from_millis(150);

/// When the trailing reads are due: every notification heard is followed by one at least
/// [`TRAILING_READ`] after it; notifications heard before a read is due share it, so there are
/// never more reads than notifications (which the gate spaces), and a steady stream of them does
/// not put the reads off.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Trailing {
    pub due: Option<tokio::time::Instant>,
    last: Option<tokio::time::Instant>,
}

impl Trailing {
    /// A notification was heard at `at`.
    pub fn heard(&mut self, at: tokio::time::Instant) {
        self.last = Some(at);
        self.due.get_or_insert(at + TRAILING_READ);
    }

    /// The reads that were due are sent: the next is due for what was heard since.
    pub fn fired(&mut self) {
        let (Some(due), Some(last)) = (self.due.take(), self.last) else { return };
        if last + TRAILING_READ > due {
            self.due = Some(last + TRAILING_READ);
        }
    }
}

/// Tell the app that every notified list changed, [`TRAILING_READ`] after notifications heard
/// (a unit on `heard` each), as [`Trailing`] schedules. Ends with the listener (`heard` closed)
/// or the app.
async fn trailing_reads(mut heard: mpsc::UnboundedReceiver<()>, replies: mpsc::UnboundedSender<Reply>) {
    let mut trailing = Trailing::default();
    loop {
        let due = trailing.due;
        tokio::select! {
            got = heard.recv() => match got {
                Some(()) => trailing.heard(tokio::time::Instant::now()),
                None => return,
            },
            _ = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if due.is_some() => {
                trailing.fired();
                for (_, entity) in NOTIFIED {
                    if replies.send(Reply::Changed(entity)).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// The lists whose changes are notified, by the payload migration 11's triggers send.
pub const NOTIFIED: [(&str, Entity); 4] = [
    ("executions", Entity::Executions),
    ("hosts", Entity::Hosts),
    ("agents", Entity::Agents),
    ("stacks", Entity::Stacks),
];

/// The list a notification's payload names.
pub fn changed_entity(payload: &str) -> Option<Entity> {
    NOTIFIED.iter().find(|(name, _)| *name == payload).map(|(_, entity)| *entity)
}

/// Listen for change notifications and pass them on; reconnect with backoff when the database
/// goes away. Notifications sent while no connection listened are lost, so after listening again
/// every notified list is told it changed: the app reads their deltas at once instead of at the
/// next poll. The notifications are gated (see [`NOTIFY_GATE`]): each one heard is followed by
/// a read of every notified list ([`TRAILING_READ`]). Ends when the app stops listening.
pub async fn listener(pool: crate::db::handle::Db, replies: mpsc::UnboundedSender<Reply>) {
    let (heard, trailing) = mpsc::unbounded_channel();
    tokio::spawn(trailing_reads(trailing, replies.clone()));
    let mut backoff = None;
    let mut resync = false;
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect_with(pool.pg()).await {
            Ok(l) => l,
            Err(e) => {
                let wait = next_backoff(backoff);
                backoff = Some(wait);
                tracing::debug!(error = %e, ?wait, "change listener cannot connect");
                tokio::time::sleep(wait).await;
                if replies.is_closed() {
                    return;
                }
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANGES_CHANNEL).await {
            let wait = next_backoff(backoff);
            backoff = Some(wait);
            tracing::warn!(error = %e, "cannot LISTEN for changes");
            tokio::time::sleep(wait).await;
            continue;
        }
        backoff = None;
        if std::mem::take(&mut resync) {
            tracing::info!("listening for changes again; reading every notified list");
            for (_, entity) in NOTIFIED {
                if replies.send(Reply::Changed(entity)).is_err() {
                    return;
                }
            }
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    let _ = heard.send(());
                    if let Some(entity) = changed_entity(n.payload()) {
                        if replies.send(Reply::Changed(entity)).is_err() {
                            return;
                        }
                    }
                }
                // The connection was lost: listen again on a new one.
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "change listener lost its connection");
                    break;
                }
            }
        }
        resync = true;
        if replies.is_closed() {
            return;
        }
    }
}

/// The change clock: every [`CLOCK_INTERVAL`], on the pool reads go to, the newest change time
/// of each notified list; a list whose time moved is told it changed. One statement in flight;
/// a lost database is retried at the next tick. Ends when the app stops listening.
pub async fn change_clock(services: Arc<RwLock<Services>>, replies: mpsc::UnboundedSender<Reply>) {
    let mut last: Option<[Option<chrono::DateTime<chrono::Utc>>; 4]> = None;
    let mut tick = tokio::time::interval(CLOCK_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if replies.is_closed() {
            return;
        }
        let pool = current(&services).read_pool().clone();
        match clock::read(&pool).await {
            Ok(now) => {
                if let Some(before) = &last {
                    for entity in clock::moved(before, &now) {
                        if replies.send(Reply::Changed(entity)).is_err() {
                            return;
                        }
                    }
                }
                last = Some(now);
            }
            Err(e) => tracing::debug!(error = %e, "the change clock could not be read"),
        }
    }
}

/// Watch the standby: check it every [`WATCH_INTERVAL`] (every [`SETTLE_INTERVAL`] while a write
/// of this process waits to be replayed there) and tell the app when where reads go changes.
pub async fn watch_standby(replica: Arc<Replica>, replies: mpsc::UnboundedSender<Reply>) {
    let mut told: Option<ReadsFrom> = None;
    loop {
        replica.check().await;
        let now = replica.reads_from();
        // The lag itself moves all the time: tell the app when the server changes, or the lag
        // by a tenth of a second or more.
        let tell = match (&told, &now) {
            (Some(ReadsFrom::Standby { lag: a }), ReadsFrom::Standby { lag: b }) => {
                a.abs_diff(*b) >= Duration::from_millis(100)
            }
            (Some(before), now) => before != now,
            (None, _) => true,
        };
        if tell {
            if replies.send(Reply::Reads(now.clone())).is_err() {
                return;
            }
            told = Some(now);
        }
        let wait = if replica.behind_own_writes() { SETTLE_INTERVAL } else { WATCH_INTERVAL };
        tokio::time::sleep(wait).await;
        if replies.is_closed() {
            return;
        }
    }
}

/// The services as they are now (read-only mode may have replaced their pool).
pub fn current(shared: &RwLock<Services>) -> Services {
    match shared.read() {
        Ok(s) => s.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn every_notification_heard_is_followed_by_a_read_and_the_reads_do_not_pile_up() {
        let t0 = Instant::now();
        let mut t = Trailing::default();
        assert_eq!(t.due, None);
        // A burst: one read, due after the first; the later ones in the burst move nothing yet.
        t.heard(t0);
        t.heard(t0 + 40 * MS);
        assert_eq!(t.due, Some(t0 + TRAILING_READ));
        // The read at t0 + 150 ms did not cover what was heard at 40 ms: one more, after it.
        t.fired();
        assert_eq!(t.due, Some(t0 + 40 * MS + TRAILING_READ));
        t.fired();
        assert_eq!(t.due, None);
        // A lone notification: one read, then nothing.
        let t1 = t0 + 1000 * MS;
        t.heard(t1);
        t.fired();
        assert_eq!(t.due, None);
        // A steady stream, one every 100 ms (the gate) for a second: the reads keep coming, not
        // once at the end, and no more often than the notifications.
        let mut reads = Vec::new();
        let mut now = t0 + 2000 * MS;
        for _ in 0..10 {
            t.heard(now);
            now += 100 * MS;
            while let Some(due) = t.due.filter(|d| *d <= now) {
                reads.push(due);
                t.fired();
            }
        }
        while let Some(due) = t.due {
            reads.push(due);
            t.fired();
        }
        assert!(reads.windows(2).all(|w| w[1] - w[0] >= 100 * MS), "{reads:?}");
        assert!((6..=10).contains(&reads.len()), "{reads:?}");
        assert_eq!(*reads.last().unwrap(), now - 100 * MS + TRAILING_READ);
    }

    #[test]
    fn the_trailing_read_waits_for_the_gate_and_a_margin() {
        assert!(TRAILING_READ >= NOTIFY_GATE + 50 * MS);
    }
}

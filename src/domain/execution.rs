//! The workflow execution state machine (SEMANTICS.md, seed 001).
//!
//! The database enforces the same transitions with a trigger; a test checks that the two agree.

use std::fmt;
use std::str::FromStr;

/// An execution's status: the seed's CHECK list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExecutionStatus {
    Queued,
    Pending,
    Running,
    Paused,
    Completed,
    Failed,
    Cancelled,
    Timeout,
}

use ExecutionStatus::*;

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 8] = [Queued, Pending, Running, Paused, Completed, Failed, Cancelled, Timeout];

    pub fn as_str(self) -> &'static str {
        match self {
            Queued => "queued",
            Pending => "pending",
            Running => "running",
            Paused => "paused",
            Completed => "completed",
            Failed => "failed",
            Cancelled => "cancelled",
            Timeout => "timeout",
        }
    }

    /// completed, failed, cancelled and timeout are final.
    pub fn is_final(self) -> bool {
        matches!(self, Completed | Failed | Cancelled | Timeout)
    }

    /// May an execution go from `self` to `to`? (Staying put is not a transition.)
    pub fn can_become(self, to: ExecutionStatus) -> bool {
        match self {
            Queued => matches!(to, Pending | Cancelled),
            Pending => matches!(to, Running | Cancelled),
            Running => matches!(to, Completed | Failed | Timeout | Paused | Cancelled),
            Paused => matches!(to, Running | Cancelled),
            Completed | Failed | Cancelled | Timeout => false,
        }
    }

    /// Where an execution may go from here.
    pub fn successors(self) -> Vec<ExecutionStatus> {
        Self::ALL.into_iter().filter(|&to| self.can_become(to)).collect()
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown execution status {0:?} (expected one of queued, pending, running, paused, completed, failed, cancelled, timeout)")]
pub struct UnknownStatus(pub String);

impl FromStr for ExecutionStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// A duration for a table cell: `45s`, `2m05s`, `1h02m`, `3d04h`.
pub fn format_duration(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// The DURATION cell (`start|end` in Unix seconds, end empty while running) at `now`.
pub fn duration_cell(cell: &str, now: f64) -> String {
    let Some((start, end)) = cell.split_once('|') else { return String::new() };
    let Ok(start) = start.parse::<f64>() else { return String::new() };
    let end = end.parse::<f64>().unwrap_or(now);
    format_duration(end - start)
}

/// One line of an execution's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub ts: Option<String>,
    pub level: Option<String>,
    pub message: String,
}

/// A log line's time to the second, in UTC (`2026-12-01T21:58:20.656252520+00:00` →
/// `2026-12-01 21:58:20`); text that is not an RFC 3339 time stays as it is.
pub fn log_time(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|_| t.to_string())
}

/// execution_logs as lines: an array of `{ts, level, message}` objects (other keys shown as
/// JSON after the message) or of plain strings; anything else is shown as its JSON text.
pub fn parse_logs(value: Option<&serde_json::Value>) -> Vec<LogLine> {
    use serde_json::Value;
    let Some(value) = value else { return Vec::new() };
    let items: Vec<&Value> = match value {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(s) => LogLine { ts: None, level: None, message: s.clone() },
            Value::Object(o) => {
                let text = |k: &str| o.get(k).and_then(|v| v.as_str()).map(str::to_string);
                let message = text("message").or_else(|| text("msg")).unwrap_or_default();
                let rest: serde_json::Map<String, Value> = o
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "ts" | "timestamp" | "level" | "message" | "msg"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let message = if rest.is_empty() {
                    message
                } else {
                    format!("{message} {}", Value::Object(rest)).trim().to_string()
                };
                let ts = text("ts").or_else(|| text("timestamp")).map(|t| log_time(&t));
                LogLine { ts, level: text("level"), message }
            }
            other => LogLine { ts: None, level: None, message: other.to_string() },
        })
        .collect()
}

/// The four things a user may do to an execution. The other transitions belong to the
/// platform's workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Pause,
    Resume,
    Cancel,
    Retry,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Pause => "pause",
            Verb::Resume => "resume",
            Verb::Cancel => "cancel",
            Verb::Retry => "retry",
        }
    }

    /// The statuses this verb applies to.
    pub fn applies_to(self) -> &'static [ExecutionStatus] {
        match self {
            Verb::Pause => &[Running],
            Verb::Resume => &[Paused],
            Verb::Cancel => &[Queued, Pending, Running, Paused],
            Verb::Retry => &[Failed, Timeout],
        }
    }

    /// The status the row moves to. Retry leaves the row as it is (it creates a new execution).
    pub fn target(self) -> Option<ExecutionStatus> {
        match self {
            Verb::Pause => Some(Paused),
            Verb::Resume => Some(Running),
            Verb::Cancel => Some(Cancelled),
            Verb::Retry => None,
        }
    }

    /// Why the verb does not apply to an execution, or None when it does.
    pub fn refusal(self, status: ExecutionStatus, retry_count: i32, max_retries: i32) -> Option<String> {
        if !self.applies_to().contains(&status) {
            let allowed: Vec<&str> = self.applies_to().iter().map(|s| s.as_str()).collect();
            return Some(format!("cannot {} a {status} execution (only {})", self.as_str(), allowed.join(", ")));
        }
        if self == Verb::Retry && retry_count >= max_retries {
            return Some(format!("cannot retry: {retry_count} of {max_retries} retries used"));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_read_from_objects_strings_or_anything() {
        let v = serde_json::json!([
            {"ts": "2026-11-23T12:00:00.123456789+00:00", "level": "info", "message": "assigned"},
            {"level": "error", "msg": "boom", "code": 7},
            "plain"
        ]);
        let lines = parse_logs(Some(&v));
        assert_eq!(
            lines[0],
            LogLine { ts: Some("2026-11-23 12:00:00".into()), level: Some("info".into()), message: "assigned".into() } // to the second, not the nanosecond
        );
        assert_eq!(lines[1].message, "boom {\"code\":7}");
        assert_eq!(lines[2].message, "plain");
        assert_eq!(parse_logs(Some(&serde_json::json!({"a": 1})))[0].message, "{\"a\":1}");
        assert!(parse_logs(None).is_empty());
    }

    #[test]
    fn durations_read_at_a_glance_and_tick_while_running() {
        assert_eq!(format_duration(0.4), "0s");
        assert_eq!(format_duration(125.0), "2m05s");
        assert_eq!(format_duration(3720.0), "1h02m");
        assert_eq!(format_duration(273_600.0), "3d04h");
        assert_eq!(duration_cell("100|160", 1000.0), "1m00s");
        assert_eq!(duration_cell("100|", 1000.0), "15m00s", "running: up to now");
        assert_eq!(duration_cell("|", 1000.0), "");
    }

    #[test]
    fn the_documented_paths_are_allowed() {
        for (a, b) in [
            (Queued, Pending),
            (Pending, Running),
            (Running, Completed),
            (Running, Failed),
            (Running, Timeout),
            (Running, Paused),
            (Paused, Running),
            (Queued, Cancelled),
            (Pending, Cancelled),
            (Running, Cancelled),
            (Paused, Cancelled),
        ] {
            assert!(a.can_become(b), "{a} -> {b}");
        }
    }

    #[test]
    fn final_states_go_nowhere() {
        for s in ExecutionStatus::ALL.into_iter().filter(|s| s.is_final()) {
            assert!(s.successors().is_empty(), "{s}");
        }
        assert_eq!(ExecutionStatus::ALL.iter().filter(|s| s.is_final()).count(), 4);
    }

    #[test]
    fn shortcuts_and_backwards_moves_are_refused() {
        assert!(!Queued.can_become(Running));
        assert!(!Pending.can_become(Completed));
        assert!(!Paused.can_become(Completed));
        assert!(!Completed.can_become(Running));
        assert!(!Running.can_become(Queued));
        assert!(!Running.can_become(Running));
    }

    #[test]
    fn exactly_eleven_transitions() {
        let n: usize = ExecutionStatus::ALL.iter().map(|s| s.successors().len()).sum();
        assert_eq!(n, 11);
    }

    #[test]
    fn parses_every_status_and_rejects_others() {
        for s in ExecutionStatus::ALL {
            assert_eq!(s.as_str().parse::<ExecutionStatus>(), Ok(s));
        }
        let err = "Running".parse::<ExecutionStatus>().unwrap_err();
        assert!(err.to_string().contains("\"Running\""));
    }

    #[test]
    fn verbs_match_transitions() {
        for verb in [Verb::Pause, Verb::Resume, Verb::Cancel] {
            let to = verb.target().unwrap();
            for &from in verb.applies_to() {
                assert!(from.can_become(to), "{} from {from}", verb.as_str());
            }
        }
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(Verb::Pause.refusal(Running, 0, 3), None);
        let why = Verb::Pause.refusal(Completed, 0, 3).unwrap();
        assert!(why.contains("cannot pause a completed execution"), "{why}");
        assert_eq!(Verb::Retry.refusal(Failed, 2, 3), None);
        assert!(Verb::Retry.refusal(Failed, 3, 3).unwrap().contains("3 of 3 retries"));
        assert!(Verb::Retry.refusal(Running, 0, 3).unwrap().contains("only failed, timeout"));
    }
}

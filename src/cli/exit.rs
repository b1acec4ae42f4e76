//! One table of exit codes for every verb (README.md, "Exit codes"): no code means two things.

use color_eyre::eyre::Report;

/// The verb did what was asked; `rollout status`: complete; `doctor`: healthy.
pub const OK: u8 = 0;
/// Nothing matched (`market search`), as grep says it.
pub const NO_MATCH: u8 = 1;
/// Invalid: a bad argument, file or configuration, an unknown id or name, or not allowed (the
/// row's state, read-only mode, the database's permissions). Also clap's own usage errors.
pub const INVALID: u8 = 2;
/// Changed by someone else first: a lost race, reported, never retried blindly.
pub const CONFLICT: u8 = 3;
/// The database cannot be reached, or is not ready (its schema is not this fleetdeck's).
pub const UNAVAILABLE: u8 = 4;
/// `rollout status`: reports are still missing.
pub const IN_PROGRESS: u8 = 5;
/// `rollout status`: some agent reported FAILURE.
pub const FAILING: u8 = 6;
/// `rollout status`: the desired object reaches no live agent: it went nowhere.
pub const UNREACHED: u8 = 7;
/// `doctor` found problems; `import margo`: some files were refused (the others imported).
pub const PROBLEMS: u8 = 8;
/// Something fleetdeck did not expect (a bug, or a database error it has no words for).
pub const INTERNAL: u8 = 70;

/// The exit code of a service error.
pub fn code_of(e: &crate::service::Error) -> u8 {
    use crate::service::Error;
    match e {
        Error::Unavailable(_) => UNAVAILABLE,
        Error::Conflict { .. } => CONFLICT,
        Error::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => UNAVAILABLE,
        Error::Database(_) => INTERNAL,
        _ => INVALID,
    }
}

/// The exit code of an error that ended a command.
pub fn of_report(report: &Report) -> u8 {
    use crate::config::ConfigError;
    use crate::db::DbError;
    if let Some(e) = report.downcast_ref::<DbError>() {
        return match e {
            DbError::Connect { .. } | DbError::Server(_) => UNAVAILABLE,
            DbError::BadUrl { .. } | DbError::NeedsSession(_) => INVALID,
            DbError::Migrate(_) | DbError::Query(_) => INTERNAL,
        };
    }
    if let Some(e) = report.downcast_ref::<crate::service::Error>() {
        return code_of(e);
    }
    if report.downcast_ref::<super::SchemaError>().is_some() {
        return UNAVAILABLE;
    }
    if report.downcast_ref::<ConfigError>().is_some()
        || report.downcast_ref::<crate::ui::theme::ThemeError>().is_some()
        || report.downcast_ref::<crate::ui::keymap::KeymapError>().is_some()
        || report.downcast_ref::<crate::import::InputError>().is_some()
        || report.downcast_ref::<super::ReadOnlyRefusal>().is_some()
        || report.downcast_ref::<crate::ui::tui::NotATerminal>().is_some()
        || report.downcast_ref::<crate::logging::LogError>().is_some()
    {
        return INVALID;
    }
    INTERNAL
}

/// Every code with what it means, for the README and `--help` (kept in step by a test).
pub const TABLE: &[(u8, &str)] = &[
    (OK, "done; `rollout status`: complete; `doctor`: healthy"),
    (NO_MATCH, "nothing matched (`market search`)"),
    (
        INVALID,
        "invalid: bad argument, file or configuration, unknown id or name, not allowed (state, read-only, permissions)",
    ),
    (CONFLICT, "changed by someone else first (a lost race)"),
    (UNAVAILABLE, "database unavailable or not ready"),
    (IN_PROGRESS, "`rollout status`: in progress (reports missing)"),
    (FAILING, "`rollout status`: failing (an agent reported FAILURE)"),
    (UNREACHED, "`rollout status`: unreached (the desired object reaches no live agent)"),
    (PROBLEMS, "`doctor` found problems; `import margo` refused some files"),
    (INTERNAL, "internal error (a bug, or a database error fleetdeck has no words for)"),
];

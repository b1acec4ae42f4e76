//! Layered configuration: built-in defaults < file < environment < flags.
//!
//! The built-in defaults are `config.example.toml` itself, so the documented defaults and the
//! real ones cannot drift apart, and the set of known keys is exactly the set it documents.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use config::{Config, Environment, File, FileFormat, Map, Source, Value, ValueKind};
use serde::Deserialize;

/// The documented defaults, embedded in the binary.
pub const DEFAULTS_TOML: &str = include_str!("../../config.example.toml");

mod archive;
mod database;

pub use archive::ArchiveSettings;
pub use database::{default_data_dir, redact_url, ChangeFeed, DatabaseSettings, MAX_ACQUIRE_TIMEOUT};

/// A configuration problem, worded for the person who has to fix it.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// What the command line says about configuration.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub database_url: Option<String>,
    pub user: Option<String>,
    pub log_file: Option<PathBuf>,
    pub log_level: Option<String>,
    /// `--readonly`.
    pub readonly: bool,
}

/// Where the configuration file came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSource {
    /// `--config FILE`.
    Explicit(PathBuf),
    /// The XDG path, which exists.
    Default(PathBuf),
    /// The XDG path, which does not exist: defaults are in use.
    Absent(PathBuf),
    /// No config directory could be determined.
    None,
}

impl FileSource {
    pub fn describe(&self) -> String {
        match self {
            FileSource::Explicit(p) => format!("{} (--config)", p.display()),
            FileSource::Default(p) => p.display().to_string(),
            FileSource::Absent(p) => format!("none ({} does not exist; built-in defaults)", p.display()),
            FileSource::None => "none (no config directory; built-in defaults)".to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Email of the platform user to act as; None: the connecting role (operator view).
    pub user: Option<String>,
    pub theme: String,
    pub log_file: PathBuf,
    pub log_level: String,
    /// Write verbs disabled; sessions read-only.
    pub readonly: bool,
    /// How often the dashboard re-reads the list on screen.
    pub refresh_interval: Duration,
    /// Where healthy ends and stale and offline begin.
    pub health: crate::domain::health::Thresholds,
    pub database: DatabaseSettings,
    /// Seed 001's archival: when executions move to the archive and what is deleted when.
    pub archive: archive::ArchiveSettings,
    pub file: FileSource,
    /// The user's key bindings (`[keys.SECTION] action = ["key", …]`), checked by the keymap.
    pub keys: Vec<UserBinding>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    user: String,
    theme: String,
    log_file: String,
    log_level: String,
    readonly: bool,
    refresh_interval: String,
    health: RawHealth,
    database: database::RawDatabase,
    archive: archive::RawArchive,
    #[serde(default)]
    keys: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHealth {
    heartbeat_interval: String,
    offline_after: String,
}

/// A user's binding from the config: `[keys.SECTION] ACTION = ["KEY", …]`, and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserBinding {
    pub section: String,
    pub action: String,
    pub keys: Vec<String>,
    /// The file (or "the environment") it came from.
    pub origin: String,
}

pub use crate::paths::project_dirs;
pub use crate::state::{remember_theme, remembered_theme, state_file};

/// `$XDG_CONFIG_HOME/fleetdeck/config.toml`.
pub fn default_config_path() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("config.toml"))
}

fn default_log_file() -> PathBuf {
    project_dirs()
        .map(|d| d.state_dir().unwrap_or_else(|| d.data_dir()).join("fleetdeck.log"))
        .unwrap_or_else(|| std::env::temp_dir().join("fleetdeck.log"))
}

impl Settings {
    /// Load from the real environment and the default config path.
    pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
        let env: Map<String, String> = std::env::vars().collect();
        Self::load_with(overrides, &env, default_config_path())
    }

    /// Load with an explicit environment and default file path (for tests).
    pub fn load_with(
        overrides: &Overrides,
        env: &Map<String, String>,
        default_path: Option<PathBuf>,
    ) -> Result<Settings, ConfigError> {
        let file = match (&overrides.config_file, default_path) {
            (Some(p), _) => {
                if !p.is_file() {
                    return Err(ConfigError(format!("config file {} does not exist", p.display())));
                }
                FileSource::Explicit(p.clone())
            }
            (None, Some(p)) if p.is_file() => FileSource::Default(p),
            (None, Some(p)) => FileSource::Absent(p),
            (None, None) => FileSource::None,
        };

        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS_TOML, FileFormat::Toml));
        if let FileSource::Explicit(p) | FileSource::Default(p) = &file {
            builder = builder.add_source(File::from(p.as_path()).format(FileFormat::Toml).required(true));
        }
        let fleetdeck_env: Map<String, String> =
            env.iter().filter(|(k, _)| k.starts_with("FLEETDECK_")).map(|(k, v)| (k.clone(), v.clone())).collect();
        builder = builder.add_source(
            Environment::with_prefix("FLEETDECK")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .source(Some(fleetdeck_env)),
        );
        let database_url = env.get("DATABASE_URL").filter(|v| !v.is_empty()).cloned();
        let set = |b: config::ConfigBuilder<config::builder::DefaultState>, key: &str, v: Option<String>| {
            b.set_override_option(key, v).map_err(|e| ConfigError(e.to_string()))
        };
        builder = set(builder, "database.url", database_url)?;
        builder = set(builder, "database.url", overrides.database_url.clone())?;
        builder = set(builder, "user", overrides.user.clone())?;
        builder = set(builder, "log_file", overrides.log_file.as_ref().map(|p| p.display().to_string()))?;
        builder = set(builder, "log_level", overrides.log_level.clone())?;
        if overrides.readonly {
            builder = builder.set_override("readonly", true).map_err(|e| ConfigError(e.to_string()))?;
        }

        let cfg = builder.build().map_err(|e| ConfigError(e.to_string()))?;
        check_unknown_keys(&cfg)?;
        let raw: RawSettings = cfg.clone().try_deserialize().map_err(|e| ConfigError(e.to_string()))?;
        validate(raw, &cfg, file)
    }
}

/// Every key path the defaults define.
fn known_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    if let Ok(defaults) = Config::builder().add_source(File::from_str(DEFAULTS_TOML, FileFormat::Toml)).build() {
        if let Ok(table) = defaults.collect() {
            walk(&table, "", &mut |k, _| {
                keys.insert(k.to_string());
            });
        }
    }
    keys
}

fn walk(table: &Map<String, Value>, prefix: &str, f: &mut dyn FnMut(&str, &Value)) {
    for (k, v) in table {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match &v.kind {
            ValueKind::Table(t) => {
                f(&path, v);
                walk(t, &path, f);
            }
            _ => f(&path, v),
        }
    }
}

/// Where a value came from. A file is named by its absolute path (the config crate names it
/// relative to the working directory, `../bad.toml`, even when it was given absolute).
fn origin_of(v: &Value) -> String {
    match v.origin() {
        Some(o) if std::path::Path::new(o).is_relative() && std::path::Path::new(o).is_file() => {
            std::fs::canonicalize(o).map_or_else(|_| o.to_string(), |p| p.display().to_string())
        }
        Some(o) => o.to_string(),
        None => "a command-line flag".to_string(),
    }
}

fn check_unknown_keys(cfg: &Config) -> Result<(), ConfigError> {
    let known = known_keys();
    let table = cfg.collect().map_err(|e| ConfigError(e.to_string()))?;
    let mut problems = Vec::new();
    walk(&table, "", &mut |key, value| {
        // Key bindings are checked by the keymap, which knows the sections and actions.
        if key == "keys" || key.starts_with("keys.") {
            return;
        }
        if !known.contains(key) {
            let section = key.rsplit_once('.').map(|(s, _)| s).unwrap_or("");
            let siblings: Vec<&str> = known
                .iter()
                .filter_map(|k| {
                    let (s, name) = k.rsplit_once('.').unwrap_or(("", k.as_str()));
                    (s == section).then_some(name)
                })
                .collect();
            let mut siblings = siblings;
            if section.is_empty() {
                // `[keys.*]` is checked by the keymap but is a top-level key all the same.
                siblings.push("keys");
                siblings.sort_unstable();
            }
            let place = if section.is_empty() { "at the top level".to_string() } else { format!("in [{section}]") };
            let env_hint = if value.origin() == Some("the environment") {
                format!(" (environment variable FLEETDECK_{})", key.replace('.', "__").to_uppercase())
            } else {
                String::new()
            };
            problems.push(format!(
                "unknown key `{key}`{env_hint} in {}; allowed {place}: {}",
                origin_of(value),
                siblings.join(", ")
            ));
        }
    });
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError(problems.join("\n")))
    }
}

fn invalid(cfg: &Config, key: &str, shown: &str, allowed: &str) -> ConfigError {
    // Config::get would rebuild the value and lose where it came from: look it up in place.
    let mut origin = "the defaults".to_string();
    if let Ok(table) = cfg.collect() {
        walk(&table, "", &mut |k, v| {
            if k == key {
                origin = origin_of(v);
            }
        });
    }
    ConfigError(format!("`{key}` = {shown:?} in {origin} is not valid: {allowed}"))
}

fn duration(cfg: &Config, key: &str, text: &str) -> Result<Duration, ConfigError> {
    humantime::parse_duration(text.trim())
        .map_err(|_| invalid(cfg, key, text, "expected a duration such as 500ms, 5s or 2m"))
}

fn optional(text: String) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn validate(raw: RawSettings, cfg: &Config, file: FileSource) -> Result<Settings, ConfigError> {
    let themes = crate::paths::available_themes(crate::paths::user_theme_dir().as_deref());
    if !themes.contains(&raw.theme) {
        return Err(invalid(cfg, "theme", &raw.theme, &format!("allowed: {}", themes.join(", "))));
    }
    if tracing_subscriber::EnvFilter::try_new(&raw.log_level).is_err() {
        return Err(invalid(
            cfg,
            "log_level",
            &raw.log_level,
            "expected error, warn, info, debug, trace or a filter such as fleetdeck=debug",
        ));
    }
    let refresh_interval = duration(cfg, "refresh_interval", &raw.refresh_interval)?;
    if refresh_interval < Duration::from_millis(100) {
        return Err(invalid(cfg, "refresh_interval", &raw.refresh_interval, "must be at least 100ms"));
    }
    let health = crate::domain::health::Thresholds {
        heartbeat_interval: duration(cfg, "health.heartbeat_interval", &raw.health.heartbeat_interval)?,
        offline_after: duration(cfg, "health.offline_after", &raw.health.offline_after)?,
    };
    if let Err(e) = health.check() {
        let key =
            if health.heartbeat_interval.is_zero() { "health.heartbeat_interval" } else { "health.offline_after" };
        let shown =
            if key == "health.heartbeat_interval" { &raw.health.heartbeat_interval } else { &raw.health.offline_after };
        return Err(invalid(cfg, key, shown, &e));
    }
    let database = database::validate(raw.database, cfg)?;
    let archive = archive::validate(raw.archive, cfg)?;
    let mut keys = Vec::new();
    for (section, actions) in raw.keys {
        for (action, list) in actions {
            let path = format!("keys.{section}.{action}");
            let mut origin = "the environment or a flag".to_string();
            if let Ok(table) = cfg.collect() {
                walk(&table, "", &mut |k, v| {
                    if k == path {
                        origin = origin_of(v);
                    }
                });
            }
            keys.push(UserBinding { section: section.clone(), action, keys: list, origin });
        }
    }
    Ok(Settings {
        keys,
        user: optional(raw.user),
        theme: raw.theme,
        log_file: optional(raw.log_file).map(PathBuf::from).unwrap_or_else(default_log_file),
        log_level: raw.log_level,
        readonly: raw.readonly,
        refresh_interval,
        health,
        database,
        archive,
        file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)], file: Option<&str>, overrides: Overrides) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).unwrap();
        }
        let env: Map<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::load_with(&overrides, &env, Some(path))
    }

    #[test]
    fn defaults_are_the_example_file() {
        let s = load(&[], None, Overrides::default()).unwrap();
        assert_eq!(s.database.statement_timeout, Duration::from_secs(5));
        assert_eq!(s.database.acquire_timeout, Duration::from_secs(3));
        assert_eq!(s.database.max_connections, 8);
        assert_eq!(s.database.url, None);
        assert_eq!(s.user, None);
        assert_eq!(s.theme, "default");
        assert!(matches!(s.file, FileSource::Absent(_)));
    }

    #[test]
    fn layers_override_in_order() {
        let file = "user = \"file@example.com\"\n[database]\nstatement_timeout = \"7s\"\nmax_connections = 4\n";
        let s = load(&[], Some(file), Overrides::default()).unwrap();
        assert_eq!(s.user.as_deref(), Some("file@example.com"));
        assert_eq!(s.database.statement_timeout, Duration::from_secs(7));
        assert!(matches!(s.file, FileSource::Default(_)));

        let env = [("FLEETDECK_DATABASE__STATEMENT_TIMEOUT", "9s"), ("FLEETDECK_USER", "env@example.com")];
        let s = load(&env, Some(file), Overrides::default()).unwrap();
        assert_eq!(s.database.statement_timeout, Duration::from_secs(9));
        assert_eq!(s.user.as_deref(), Some("env@example.com"));
        assert_eq!(s.database.max_connections, 4);

        let flags = Overrides { user: Some("flag@example.com".into()), ..Default::default() };
        let s = load(&env, Some(file), flags).unwrap();
        assert_eq!(s.user.as_deref(), Some("flag@example.com"));
    }

    #[test]
    fn health_thresholds_are_configurable_and_checked() {
        let s = load(&[], None, Overrides::default()).unwrap();
        assert_eq!(s.health, crate::domain::health::Thresholds::default());
        let s = load(
            &[("FLEETDECK_HEALTH__HEARTBEAT_INTERVAL", "10s")],
            Some("[health]\noffline_after = \"2m\"\n"),
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(s.health.heartbeat_interval, Duration::from_secs(10));
        assert_eq!(s.health.offline_after, Duration::from_secs(120));
        let msg = load(&[], Some("[health]\noffline_after = \"45s\"\n"), Overrides::default()).unwrap_err().to_string();
        assert!(msg.contains("`health.offline_after` = \"45s\""), "{msg}");
        assert!(msg.contains("longer than two heartbeat intervals"), "{msg}");
        let msg =
            load(&[], Some("[health]\nheartbeat_interval = \"0s\"\n"), Overrides::default()).unwrap_err().to_string();
        assert!(msg.contains("`health.heartbeat_interval`"), "{msg}");
    }

    #[test]
    fn database_url_from_environment_and_flag() {
        let env = [("DATABASE_URL", "postgres://a@h/db")];
        let s = load(&env, None, Overrides::default()).unwrap();
        assert_eq!(s.database.url.as_deref(), Some("postgres://a@h/db"));
        let flags = Overrides { database_url: Some("postgres://b@h/db".into()), ..Default::default() };
        let s = load(&env, None, flags).unwrap();
        assert_eq!(s.database.url.as_deref(), Some("postgres://b@h/db"));
    }

    #[test]
    fn unknown_key_names_key_file_and_allowed() {
        let err = load(&[], Some("[database]\nurll = \"x\"\n"), Overrides::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown key `database.urll`"), "{msg}");
        assert!(msg.contains("config.toml"), "{msg}");
        assert!(msg.contains("allowed in [database]:") && msg.contains("statement_timeout"), "{msg}");
    }

    #[test]
    fn unknown_environment_variable_is_named() {
        let err = load(&[("FLEETDECK_THEMES", "x")], None, Overrides::default()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown key `themes`"), "{msg}");
        assert!(msg.contains("keys"), "the allowed top-level keys include keys: {msg}");
        assert!(msg.contains("FLEETDECK_THEMES") && msg.contains("the environment"), "{msg}");
    }

    #[test]
    fn wrong_values_name_key_origin_and_allowed() {
        let msg = load(&[], Some("[database]\nstatement_timeout = \"soon\"\n"), Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`database.statement_timeout`") && msg.contains("config.toml"), "{msg}");
        assert!(msg.contains("duration"), "{msg}");

        let msg = load(&[], Some("theme = \"neon\"\n"), Overrides::default()).unwrap_err().to_string();
        assert!(
            msg.contains("`theme`") && msg.contains("allowed: default, light, high-contrast, solarized-dark"),
            "{msg}"
        );

        let msg =
            load(&[], Some("[database]\nacquire_timeout = \"10s\"\n"), Overrides::default()).unwrap_err().to_string();
        assert!(msg.contains("at most 3s"), "{msg}");

        let msg =
            load(&[], Some("[database]\nmax_connections = \"many\"\n"), Overrides::default()).unwrap_err().to_string();
        assert!(msg.contains("database.max_connections"), "{msg}");

        let msg =
            load(&[("FLEETDECK_DATABASE__MAX_CONNECTIONS", "0")], None, Overrides::default()).unwrap_err().to_string();
        assert!(msg.contains("database.max_connections") && msg.contains("the environment"), "{msg}");
    }

    #[test]
    fn explicit_missing_file_is_an_error() {
        let o = Overrides { config_file: Some("/nonexistent/fleetdeck.toml".into()), ..Default::default() };
        let msg = load(&[], None, o).unwrap_err().to_string();
        assert!(msg.contains("/nonexistent/fleetdeck.toml") && msg.contains("does not exist"), "{msg}");
    }

    #[test]
    fn malformed_toml_names_the_file() {
        let msg = load(&[], Some("[database\n"), Overrides::default()).unwrap_err().to_string();
        assert!(msg.contains("config.toml"), "{msg}");
    }

    #[test]
    fn key_bindings_are_read_with_their_origin() {
        let s = load(&[], Some("[keys.executions]\nhelp = [\"h\"]\n"), Overrides::default()).unwrap();
        assert_eq!(s.keys.len(), 1);
        assert_eq!((s.keys[0].section.as_str(), s.keys[0].action.as_str()), ("executions", "help"));
        assert_eq!(s.keys[0].keys, vec!["h".to_string()]);
        assert!(s.keys[0].origin.ends_with("config.toml"), "{}", s.keys[0].origin);
        let err = load(&[], Some("[keys.executions]\nhelp = \"h\"\n"), Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("keys"), "{err}");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres:///db?host=/tmp"), "postgres:///db?host=/tmp");
    }
}

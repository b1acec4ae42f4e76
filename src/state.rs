//! What the dashboard remembers between runs (the theme chosen with `:theme`): state, not
//! configuration, kept in `$XDG_STATE_HOME/fleetdeck/state.toml`.

use std::path::PathBuf;

use serde::Deserialize;

use crate::paths::project_dirs;

/// `$XDG_STATE_HOME/fleetdeck/state.toml`: what the dashboard remembers between runs.
pub fn state_file() -> Option<PathBuf> {
    project_dirs().map(|d| d.state_dir().unwrap_or_else(|| d.data_dir()).join("state.toml"))
}

#[derive(Debug, Default, serde::Serialize, Deserialize)]
struct State {
    theme: Option<String>,
}

/// The theme last chosen with `:theme`, if any.
pub fn remembered_theme(path: Option<&std::path::Path>) -> Option<String> {
    let text = std::fs::read_to_string(path?).ok()?;
    toml::from_str::<State>(&text).ok()?.theme
}

/// Remember the theme chosen with `:theme` for the next start.
pub fn remember_theme(path: &std::path::Path, theme: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = toml::to_string(&State { theme: Some(theme.to_string()) }).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

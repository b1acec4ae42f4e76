//! Where fleetdeck keeps its files, and the names of the themes it knows. Both the settings
//! (`config`) and the dashboard (`ui`) need them, so they live below both and import neither.

use std::path::{Path, PathBuf};

/// The directories fleetdeck uses by default (XDG on Linux).
pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "fleetdeck")
}

/// The built-in themes' names, in the order `:theme` lists them (their files are embedded by
/// `ui::theme::BUILT_IN`, which a test holds to this list).
pub const BUILT_IN_THEMES: [&str; 4] = ["default", "light", "high-contrast", "solarized-dark"];

/// Where a user's own themes live: `$XDG_CONFIG_HOME/fleetdeck/themes/NAME.toml`.
pub fn user_theme_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("themes"))
}

/// Every theme name there is: built in, then the user's.
pub fn available_themes(user_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = BUILT_IN_THEMES.iter().map(|n| n.to_string()).collect();
    if let Some(dir) = user_dir {
        let mut user: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".toml").map(str::to_string))
            .filter(|n| !names.contains(n))
            .collect();
        user.sort();
        names.extend(user);
    }
    names
}

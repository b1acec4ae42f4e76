//! Themes: named semantic slots. No colour literal lives outside this file and `themes/`.

use std::collections::BTreeMap;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The built-in themes, embedded in the binary.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("high-contrast", include_str!("../../themes/high-contrast.toml")),
    ("solarized-dark", include_str!("../../themes/solarized-dark.toml")),
];

pub use crate::paths::{available_themes as available, user_theme_dir as user_dir};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    #[allow(dead_code)]
    name: String,
    slots: BTreeMap<String, SlotSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

macro_rules! slots {
    ($($slot:ident: $doc:literal,)*) => {
        /// Resolved styles for every slot the UI uses.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            $(#[doc = $doc] pub $slot: Style,)*
        }

        /// Every slot's name, as theme files spell it.
        pub const SLOTS: &[&str] = &[$(stringify!($slot),)*];

        impl Theme {
            fn from_slots(mut slot: impl FnMut(&str) -> Result<Style, ThemeError>) -> Result<Theme, ThemeError> {
                Ok(Theme { $($slot: slot(stringify!($slot))?,)* })
            }

            /// Every slot unstyled (for text whose styles do not matter).
            pub fn plain() -> Theme {
                Theme { $($slot: Style::default(),)* }
            }

            fn map(&self, f: impl Fn(&str, Style) -> Style) -> Theme {
                Theme { $($slot: f(stringify!($slot), self.$slot),)* }
            }
        }
    };
}

slots! {
    text: "Ordinary text.",
    muted: "Secondary text: hints, empty states.",
    title: "Block titles.",
    border: "Borders of unfocused blocks.",
    border_focused: "Borders of the focused block.",
    tab_active: "The current tab.",
    tab_inactive: "The other tabs.",
    status_bar: "The status bar.",
    key_hint: "Keys in the footer and help.",
    row_selected: "The selected row of a table.",
    table_header: "Column titles.",
    highlight: "The characters a filter matched.",
    marked: "Marked rows.",
    ok: "Good news: success toasts, connected.",
    warn: "Attention: stale data, reconnecting.",
    error: "Errors: failed actions, validation messages.",
    badge: "Badges such as READONLY.",
}

#[derive(Debug, thiserror::Error)]
#[error("theme {theme}: {message}")]
pub struct ThemeError {
    pub theme: String,
    pub message: String,
}

fn color(theme: &str, slot: &str, text: &str) -> Result<Color, ThemeError> {
    Color::from_str(text).map_err(|_| ThemeError {
        theme: theme.into(),
        message: format!("slot {slot}: {text:?} is not a colour (a name, #rrggbb or 0-255)"),
    })
}

fn modifier(theme: &str, slot: &str, text: &str) -> Result<Modifier, ThemeError> {
    Ok(match text {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" => Modifier::UNDERLINED,
        "reversed" => Modifier::REVERSED,
        _ => {
            return Err(ThemeError {
                theme: theme.into(),
                message: format!("slot {slot}: unknown modifier {text:?} (bold, dim, italic, underlined, reversed)"),
            })
        }
    })
}

impl Theme {
    /// Load a theme by name: a built-in one, or `NAME.toml` in the user's theme directory.
    /// With `NO_COLOR` set, colours are dropped and only modifiers remain.
    pub fn load(name: &str, user_dir: Option<&std::path::Path>) -> Result<Theme, ThemeError> {
        let theme = match BUILT_IN.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => Self::parse(name, text)?,
            None => {
                let path = user_dir.map(|d| d.join(format!("{name}.toml")));
                match path.as_ref().and_then(|p| std::fs::read_to_string(p).ok()) {
                    Some(text) => Self::parse(&path.map(|p| p.display().to_string()).unwrap_or_default(), &text)?,
                    None => {
                        return Err(ThemeError {
                            theme: name.into(),
                            message: format!("no such theme (available: {})", available(user_dir).join(", ")),
                        })
                    }
                }
            }
        };
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Ok(if no_color { theme.without_colour() } else { theme })
    }

    /// The same theme with every colour removed (NO_COLOR): modifiers keep things apart, and the
    /// active tab and the status bar are shown reversed.
    pub fn without_colour(&self) -> Theme {
        self.map(|slot, s| {
            let s = Style { fg: None, bg: None, underline_color: None, ..s };
            match slot {
                "tab_active" | "status_bar" | "row_selected" | "badge" => s.add_modifier(Modifier::REVERSED),
                _ => s,
            }
        })
    }

    /// The style of an execution status: running stands out, paused and waiting ones warn,
    /// completed is good news, failed and timed out are errors, cancelled is muted.
    pub fn status(&self, status: &str) -> Style {
        match status {
            "running" | "in-progress" => self.title,
            "paused" | "unreached" | "maintenance" => self.warn,
            "completed" | "healthy" | "complete" => self.ok,
            "stale" => self.warn,
            "failed" | "timeout" | "offline" | "failing" => self.error,
            "cancelled" | "deleted" => self.muted,
            _ => self.text,
        }
    }

    /// Load a built-in theme by name.
    pub fn built_in(name: &str) -> Result<Theme, ThemeError> {
        let text = BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).ok_or_else(|| ThemeError {
            theme: name.into(),
            message: format!(
                "no such theme (built in: {})",
                BUILT_IN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ),
        })?;
        Self::parse(name, text)
    }

    pub fn parse(name: &str, text: &str) -> Result<Theme, ThemeError> {
        let file: ThemeFile =
            toml::from_str(text).map_err(|e| ThemeError { theme: name.into(), message: e.to_string() })?;
        let slot = |slot: &str| -> Result<Style, ThemeError> {
            let spec = file
                .slots
                .get(slot)
                .ok_or_else(|| ThemeError { theme: name.into(), message: format!("slot {slot} is missing") })?;
            let mut style = Style::default();
            if let Some(fg) = &spec.fg {
                style = style.fg(color(name, slot, fg)?);
            }
            if let Some(bg) = &spec.bg {
                style = style.bg(color(name, slot, bg)?);
            }
            for m in &spec.modifiers {
                style = style.add_modifier(modifier(name, slot, m)?);
            }
            Ok(style)
        };
        Theme::from_slots(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_loads() {
        let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, crate::paths::BUILT_IN_THEMES, "the embedded files are the themes `:theme` lists");
        for (name, _) in BUILT_IN {
            Theme::built_in(name).unwrap();
        }
    }

    #[test]
    fn user_themes_load_from_their_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (_, text) = BUILT_IN[0];
        std::fs::write(dir.path().join("mine.toml"), text.replace("name = \"default\"", "name = \"mine\"")).unwrap();
        assert!(available(Some(dir.path())).contains(&"mine".to_string()));
        Theme::load("mine", Some(dir.path())).unwrap();
        let err = Theme::load("nope", Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("available: default, light, high-contrast, solarized-dark, mine"), "{err}");
    }

    #[test]
    fn without_colour_keeps_only_modifiers() {
        let t = Theme::built_in("solarized-dark").unwrap().without_colour();
        for s in [t.text, t.title, t.tab_active, t.status_bar, t.key_hint] {
            assert_eq!((s.fg, s.bg), (None, None));
        }
        assert!(t.tab_active.add_modifier.contains(Modifier::REVERSED));
        assert!(t.title.add_modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn bad_colours_and_missing_slots_are_named() {
        let err = Theme::parse("t", "name = \"t\"\n[slots]\ntext = { fg = \"purplish\" }\n").unwrap_err();
        assert!(err.to_string().contains("slot text") && err.to_string().contains("purplish"), "{err}");
        let err = Theme::parse("t", "name = \"t\"\n[slots]\ntext = { fg = \"red\" }\n").unwrap_err();
        assert!(err.to_string().contains("slot muted is missing"), "{err}");
    }
}

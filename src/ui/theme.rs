//! Themes: named semantic slots. No colour literal lives outside this file and `themes/`.

use std::collections::BTreeMap;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The built-in themes, embedded in the binary.
const BUILT_IN: &[(&str, &str)] = &[("default", include_str!("../../themes/default.toml"))];

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

/// Resolved styles for every slot the UI uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub text: Style,
    pub muted: Style,
    pub title: Style,
    pub border: Style,
    pub border_focused: Style,
    pub tab_active: Style,
    pub tab_inactive: Style,
    pub status_bar: Style,
    pub key_hint: Style,
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
        Ok(Theme {
            text: slot("text")?,
            muted: slot("muted")?,
            title: slot("title")?,
            border: slot("border")?,
            border_focused: slot("border_focused")?,
            tab_active: slot("tab_active")?,
            tab_inactive: slot("tab_inactive")?,
            status_bar: slot("status_bar")?,
            key_hint: slot("key_hint")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_theme_loads() {
        for name in crate::config::THEMES {
            Theme::built_in(name).unwrap();
        }
    }

    #[test]
    fn bad_colours_and_missing_slots_are_named() {
        let err = Theme::parse("t", "name = \"t\"\n[slots]\ntext = { fg = \"purplish\" }\n").unwrap_err();
        assert!(err.to_string().contains("slot text") && err.to_string().contains("purplish"), "{err}");
        let err = Theme::parse("t", "name = \"t\"\n[slots]\ntext = { fg = \"red\" }\n").unwrap_err();
        assert!(err.to_string().contains("slot muted is missing"), "{err}");
    }
}

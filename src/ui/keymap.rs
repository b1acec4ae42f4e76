//! Keys as data: the defaults (keymap.toml, embedded) merged with the user's `[keys.*]` config,
//! checked for unknown actions, bad keys and conflicts at start-up.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;

const DEFAULTS: &str = include_str!("keymap.toml");

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Global,
    Table,
    Marketplace,
    Fleet,
    Rollouts,
    Executions,
    /// Forms and confirmations (instead of the other sections while one is open).
    Form,
    /// A zoomed execution detail (before the global keys while it is open).
    Detail,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::Global,
        Section::Table,
        Section::Marketplace,
        Section::Fleet,
        Section::Rollouts,
        Section::Executions,
        Section::Form,
        Section::Detail,
    ];
    pub const PANES: [Section; 4] = [Section::Marketplace, Section::Fleet, Section::Rollouts, Section::Executions];

    pub fn name(self) -> &'static str {
        match self {
            Section::Global => "global",
            Section::Table => "table",
            Section::Marketplace => "marketplace",
            Section::Fleet => "fleet",
            Section::Rollouts => "rollouts",
            Section::Executions => "executions",
            Section::Form => "form",
            Section::Detail => "detail",
        }
    }
}

impl FromStr for Section {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Section::ALL.into_iter().find(|x| x.name() == s).ok_or_else(|| {
            format!(
                "unknown section {s:?} (allowed: {})",
                Section::ALL.iter().map(|x| x.name()).collect::<Vec<_>>().join(", ")
            )
        })
    }
}

/// A key with its modifiers, normalised: a character carries its own case (no SHIFT), and
/// Shift-Tab is BackTab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c)
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    pub fn from_event(e: &KeyEvent) -> Key {
        Key::new(e.code, e.modifiers)
    }
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("space", KeyCode::Char(' ')),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
];

impl FromStr for Key {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut rest = text;
        let mut mods = KeyModifiers::NONE;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            if rest.len() == len {
                break;
            }
            mods |= m;
            rest = &rest[len..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if mods.contains(KeyModifiers::SHIFT) && c.is_ascii_alphabetic() {
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            (None, _) => return Err(format!("{text:?} names no key")),
            _ => {
                let lower = rest.to_ascii_lowercase();
                if let Some((_, code)) = NAMED.iter().find(|(n, _)| *n == lower) {
                    *code
                } else if let Some(n) =
                    lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()).filter(|n| (1..=12).contains(n))
                {
                    KeyCode::F(n)
                } else {
                    return Err(format!(
                        "{text:?} is not a key (a character, or one of enter, esc, tab, space, pageup, up, f1, …)"
                    ));
                }
            }
        };
        Ok(Key::new(code, mods))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::F(n) => write!(f, "f{n}"),
            code => match NAMED.iter().find(|(_, c)| *c == code) {
                Some((name, _)) => f.write_str(name),
                None => write!(f, "{code:?}"),
            },
        }
    }
}

pub use crate::config::UserBinding;

/// Everything wrong with the configured keys, one line each.
#[derive(Debug, thiserror::Error)]
#[error("key bindings:\n  {}", .0.join("\n  "))]
pub struct KeymapError(pub Vec<String>);

/// The merged keymap.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: BTreeMap<(Section, Action), Vec<Key>>,
}

fn parse_toml(text: &str) -> Result<Vec<UserBinding>, String> {
    let table: BTreeMap<String, BTreeMap<String, Vec<String>>> = toml::from_str(text).map_err(|e| e.to_string())?;
    Ok(table
        .into_iter()
        .flat_map(|(section, actions)| {
            actions.into_iter().map(move |(action, keys)| UserBinding {
                section: section.clone(),
                action,
                keys,
                origin: "the built-in keymap".into(),
            })
        })
        .collect())
}

impl Keymap {
    /// The built-in keys.
    pub fn defaults() -> Keymap {
        // The embedded defaults are checked by a test; an error here cannot reach a user.
        Keymap::build(&[]).unwrap_or(Keymap { bindings: BTreeMap::new() })
    }

    /// The built-in keys with the user's bindings over them. Every problem is reported, each with
    /// its origin, the config key and what is wrong.
    pub fn build(user: &[UserBinding]) -> Result<Keymap, Vec<String>> {
        let mut errors = Vec::new();
        let defaults = parse_toml(DEFAULTS).map_err(|e| vec![format!("built-in keymap: {e}")])?;
        let mut bindings: BTreeMap<(Section, Action), Vec<Key>> = BTreeMap::new();
        for b in defaults.iter().chain(user) {
            let at = format!("`keys.{}.{}` in {}", b.section, b.action, b.origin);
            let section = match b.section.parse::<Section>() {
                Ok(s) => s,
                Err(e) => {
                    errors.push(format!("{at}: {e}"));
                    continue;
                }
            };
            let action = match b.action.parse::<Action>() {
                Ok(a) => a,
                Err(e) => {
                    errors.push(format!("{at}: {e}"));
                    continue;
                }
            };
            let mut keys = Vec::new();
            for k in &b.keys {
                match k.parse::<Key>() {
                    Ok(key) => keys.push(key),
                    Err(e) => errors.push(format!("{at}: {e}")),
                }
            }
            // A user's binding replaces the default keys of that action in that section.
            bindings.insert((section, action), keys);
        }
        // In every pane the global, table and pane keys are live together: no key may mean two things.
        // In a form only the form's keys are live.
        let groups = Section::PANES.map(|pane| vec![Section::Global, Section::Table, pane]);
        for group in groups.iter().cloned().chain([vec![Section::Form], vec![Section::Detail]]) {
            let mut seen: std::collections::HashMap<Key, (Section, Action)> = std::collections::HashMap::new();
            for ((section, action), keys) in &bindings {
                if !group.contains(section) {
                    continue;
                }
                for key in keys {
                    if let Some((s2, a2)) = seen.insert(*key, (*section, *action)) {
                        if (s2, a2) != (*section, *action) {
                            let msg = format!(
                                "key `{key}` is bound to both {a2} ([keys.{}]) and {action} ([keys.{}])",
                                s2.name(),
                                section.name()
                            );
                            if !errors.contains(&msg) {
                                errors.push(msg);
                            }
                        }
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(Keymap { bindings })
        } else {
            Err(errors)
        }
    }

    /// What a key does in a pane: the pane's own keys first, then the table's (when a list has
    /// focus), then the global ones.
    pub fn action(&self, pane: Section, key: &KeyEvent, in_table: bool) -> Option<Action> {
        let key = Key::from_event(key);
        let sections: &[Section] =
            if in_table { &[pane, Section::Table, Section::Global] } else { &[pane, Section::Global] };
        sections.iter().find_map(|s| {
            self.bindings.iter().find(|((sec, _), keys)| sec == s && keys.contains(&key)).map(|((_, a), _)| *a)
        })
    }

    /// The keys bound to an action in a section.
    pub fn keys(&self, section: Section, action: Action) -> &[Key] {
        self.bindings.get(&(section, action)).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every binding of a section, in action order (for help).
    pub fn section(&self, section: Section) -> Vec<(Action, &[Key])> {
        self.bindings.iter().filter(|((s, _), _)| *s == section).map(|((_, a), k)| (*a, k.as_slice())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        s.parse().unwrap()
    }

    #[test]
    fn parses_characters_names_and_modifiers() {
        assert_eq!(key("q"), Key::new(KeyCode::Char('q'), KeyModifiers::NONE));
        assert_eq!(key("G"), Key::new(KeyCode::Char('G'), KeyModifiers::NONE));
        assert_eq!(key("shift-g"), key("G"));
        assert_eq!(key("ctrl-d"), Key::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
        assert_eq!(key("Ctrl-Alt-x"), Key::new(KeyCode::Char('x'), KeyModifiers::CONTROL | KeyModifiers::ALT));
        assert_eq!(key("shift-tab"), Key::new(KeyCode::BackTab, KeyModifiers::NONE));
        assert_eq!(key("ctrl-space"), Key::new(KeyCode::Char(' '), KeyModifiers::CONTROL));
        assert_eq!(key("pagedown"), Key::new(KeyCode::PageDown, KeyModifiers::NONE));
        assert_eq!(key("f5"), Key::new(KeyCode::F(5), KeyModifiers::NONE));
        assert_eq!(key("-"), Key::new(KeyCode::Char('-'), KeyModifiers::NONE));
        assert_eq!(key("ctrl--"), Key::new(KeyCode::Char('-'), KeyModifiers::CONTROL));
        for bad in ["", "ctrl-", "pgdown", "f13", "hyper-x"] {
            assert!(bad.parse::<Key>().is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_print_as_they_are_written() {
        for s in ["q", "G", "ctrl-d", "shift-tab", "space", "pagedown", "f5", "esc"] {
            assert_eq!(key(s).to_string(), s);
        }
    }

    #[test]
    fn events_match_whatever_the_terminal_reports_for_shift() {
        let map = Keymap::defaults();
        let shifted_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(map.action(Section::Fleet, &shifted_g, true), Some(Action::Bottom));
        let backtab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(map.action(Section::Fleet, &backtab, true), Some(Action::PrevTab));
        let j = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(map.action(Section::Fleet, &j, true), Some(Action::Down));
        assert_eq!(map.action(Section::Fleet, &j, false), None, "table keys only where a list has focus");
    }

    #[test]
    fn the_defaults_are_valid() {
        assert!(Keymap::build(&[]).is_ok());
        assert_eq!(Keymap::defaults().keys(Section::Global, Action::Quit), &[key("q"), key("ctrl-c")]);
    }

    fn user(section: &str, action: &str, keys: &[&str]) -> UserBinding {
        UserBinding {
            section: section.into(),
            action: action.into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            origin: "/home/u/.config/fleetdeck/config.toml".into(),
        }
    }

    #[test]
    fn a_user_binding_replaces_the_default_keys_of_that_action() {
        let map = Keymap::build(&[user("table", "down", &["ctrl-n"])]).unwrap();
        assert_eq!(map.keys(Section::Table, Action::Down), &[key("ctrl-n")]);
        let j = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(map.action(Section::Executions, &j, true), None);
        let map = Keymap::build(&[user("executions", "help", &["x"])]).unwrap();
        let r = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(map.action(Section::Executions, &r, true), Some(Action::Help));
        assert_eq!(map.action(Section::Fleet, &r, true), None, "only in that pane");
    }

    #[test]
    fn unknown_actions_sections_bad_keys_and_conflicts_are_reported_with_where() {
        let errors = Keymap::build(&[
            user("executions", "pauze", &["p"]),
            user("exec", "quit", &["q"]),
            user("table", "down", &["pgdown"]),
            user("table", "up", &["q"]),
        ])
        .unwrap_err();
        let all = errors.join("\n");
        assert!(
            all.contains("`keys.executions.pauze` in /home/u/.config/fleetdeck/config.toml: unknown action \"pauze\""),
            "{all}"
        );
        assert!(all.contains("`keys.exec.quit`") && all.contains("unknown section \"exec\""), "{all}");
        assert!(all.contains("`keys.table.down`") && all.contains("\"pgdown\" is not a key"), "{all}");
        assert!(all.contains("key `q` is bound to both quit ([keys.global]) and up ([keys.table])"), "{all}");
    }
}

//! Rollouts (SEMANTICS.md, seed 002): what a deployment object's YAML must hold, and how the
//! reports of the agents a stack reaches add up to its progress.

use std::fmt;

use serde::Serialize;

/// A problem in submitted YAML, at a line and column (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

/// One document of a deployment object: what it is and what it is called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

/// Check a deployment object's YAML: it parses, has at least one document, and every document
/// is a mapping with `apiVersion`, `kind` and `metadata.name` (non-empty strings). The first
/// problem is returned with its line and column.
pub fn check_yaml(text: &str) -> Result<Vec<Manifest>, YamlError> {
    let mut manifests = Vec::new();
    for (start, doc) in documents(text) {
        let at = |line: usize, column: usize, message: String| YamlError { line: start + line + 1, column, message };
        let value: serde_yaml_ng::Value = match serde_yaml_ng::from_str(doc) {
            Ok(v) => v,
            Err(e) => {
                let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
                // The location is 1-based within the document; the message repeats it.
                let message = e.to_string();
                let message = message.split(" at line ").next().unwrap_or(&message).to_string();
                // The parser notices an unclosed [ or { where the document ends: name the line
                // that opened it instead.
                if message.contains("expected ',' or ']'") || message.contains("expected ',' or '}'") {
                    if let Some((l, c, bracket)) = unclosed(doc) {
                        return Err(at(l, c + 1, format!("this {bracket} is never closed ({message})")));
                    }
                }
                return Err(at(line - 1, column, message));
            }
        };
        if value.is_null() {
            continue; // an empty document (a stray `---`, or only comments)
        }
        let n = manifests.len() + 1;
        let first = first_content_line(doc);
        let Some(map) = value.as_mapping() else {
            return Err(at(first, 1, format!("document {n} is not a mapping (apiVersion, kind, metadata)")));
        };
        let field = |key: &str| -> Result<String, YamlError> {
            let line = key_line(doc, key, 0).unwrap_or(first);
            match map.get(key) {
                None => Err(at(first, 1, format!("document {n} has no {key}"))),
                Some(serde_yaml_ng::Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
                Some(_) => Err(at(line, 1, format!("{key} of document {n} must be a non-empty string"))),
            }
        };
        let api_version = field("apiVersion")?;
        let kind = field("kind")?;
        let name = match map.get("metadata") {
            None => return Err(at(first, 1, format!("document {n} has no metadata"))),
            Some(m) => {
                let meta_line = key_line(doc, "metadata", 0).unwrap_or(first);
                match m.get("name") {
                    Some(serde_yaml_ng::Value::String(s)) if !s.trim().is_empty() => s.clone(),
                    None => return Err(at(meta_line, 1, format!("document {n} has no metadata.name"))),
                    Some(_) => {
                        let line = key_line(doc, "name", meta_line).unwrap_or(meta_line);
                        let column = doc.lines().nth(line).map_or(1, |l| l.len() - l.trim_start().len() + 1);
                        return Err(at(
                            line,
                            column,
                            format!("metadata.name of document {n} must be a non-empty string"),
                        ));
                    }
                }
            }
        };
        manifests.push(Manifest { api_version, kind, name });
    }
    if manifests.is_empty() {
        return Err(YamlError { line: 1, column: 1, message: "there is no YAML document".into() });
    }
    Ok(manifests)
}

/// The documents of a YAML stream with the number of lines before each (`---` lines split them).
fn documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0; // byte offset of the current document
    let mut start_line = 0;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") || bare == "..." {
            out.push((start_line, &text[start..offset]));
            start = offset + line.len();
            start_line = i + 1;
        }
        offset += line.len();
    }
    out.push((start_line, &text[start..]));
    out
}

/// The last `[` or `{` of a flow collection left open (0-based line and column), outside quotes
/// and comments.
fn unclosed(doc: &str) -> Option<(usize, usize, char)> {
    let mut open: Vec<(usize, usize, char)> = Vec::new();
    for (l, line) in doc.lines().enumerate() {
        let mut quote: Option<char> = None;
        for (c, ch) in line.chars().enumerate() {
            match (quote, ch) {
                (Some(q), ch) if ch == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(ch),
                (None, '#') => break,
                (None, '[' | '{') => open.push((l, c, ch)),
                (None, ']' | '}') => {
                    open.pop();
                }
                _ => {}
            }
        }
    }
    open.pop()
}

/// The first line (0-based) that is neither blank nor a comment.
fn first_content_line(doc: &str) -> usize {
    doc.lines().position(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).unwrap_or(0)
}

/// The line (0-based) where `key:` appears, from line `from` on.
fn key_line(doc: &str, key: &str, from: usize) -> Option<usize> {
    doc.lines()
        .enumerate()
        .skip(from)
        .find(|(_, l)| l.trim_start().strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(':')))
        .map(|(i, _)| i)
}

/// What the agents a stack reaches reported for its desired object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Progress {
    pub success: i64,
    pub failure: i64,
    /// No report yet from an agent that is online.
    pub pending: i64,
    /// No report yet from an agent that is inactive or silent past the offline threshold.
    pub offline: i64,
}

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RolloutState {
    /// Every reached agent reported SUCCESS (and it reaches at least one).
    Complete,
    /// Some agent reported FAILURE.
    Failing,
    /// Reports are missing.
    InProgress,
    /// The desired object reaches no live agent: the rollout went nowhere (never complete, so
    /// that a CI gate does not pass it).
    Unreached,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::Complete => "complete",
            RolloutState::Failing => "failing",
            RolloutState::InProgress => "in-progress",
            RolloutState::Unreached => "unreached",
        }
    }

    /// `fleetdeck rollout status`'s exit code (README, "Exit codes"): 0 complete, 5 in
    /// progress, 6 failing, 7 unreached.
    pub fn exit_code(self) -> u8 {
        match self {
            RolloutState::Complete => 0,
            RolloutState::InProgress => 5,
            RolloutState::Failing => 6,
            RolloutState::Unreached => 7,
        }
    }
}

impl Progress {
    pub fn total(&self) -> i64 {
        self.success + self.failure + self.pending + self.offline
    }

    /// A failure anywhere is failing, whatever else is missing; all SUCCESS is complete; no
    /// agent at all is unreached.
    pub fn state(&self) -> RolloutState {
        if self.total() == 0 {
            RolloutState::Unreached
        } else if self.failure > 0 {
            RolloutState::Failing
        } else if self.pending + self.offline > 0 {
            RolloutState::InProgress
        } else {
            RolloutState::Complete
        }
    }

    /// `12 ✓  2 ✗  1 pending  1 offline` (parts that are zero left out), or `no agent reached`.
    pub fn describe(&self) -> String {
        if self.total() == 0 {
            return "no agent reached".to_string();
        }
        let mut parts = Vec::new();
        if self.success > 0 {
            parts.push(format!("{} ✓", self.success));
        }
        if self.failure > 0 {
            parts.push(format!("{} ✗", self.failure));
        }
        if self.pending > 0 {
            parts.push(format!("{} pending", self.pending));
        }
        if self.offline > 0 {
            parts.push(format!("{} offline", self.offline));
        }
        parts.join("  ")
    }
}

/// One line of a diff between two objects' YAML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DiffLine {
    Same(String),
    Added(String),
    Removed(String),
}

/// The line diff from `old` to `new` (what `d` shows and the submit form confirms).
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    similar::TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|c| {
            let text = c.value().trim_end_matches(['\n', '\r']).to_string();
            match c.tag() {
                similar::ChangeTag::Equal => DiffLine::Same(text),
                similar::ChangeTag::Insert => DiffLine::Added(text),
                similar::ChangeTag::Delete => DiffLine::Removed(text),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        check_yaml(text).unwrap_err().to_string()
    }

    #[test]
    fn good_yaml_gives_its_manifests() {
        let text = "# web\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n---\n\
                    apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\n";
        let m = check_yaml(text).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[1], Manifest { api_version: "v1".into(), kind: "Service".into(), name: "web".into() });
    }

    #[test]
    fn problems_name_their_line_and_column() {
        assert_eq!(err(""), "line 1, column 1: there is no YAML document");
        assert_eq!(err("# only a comment\n---\n"), "line 1, column 1: there is no YAML document");
        let bad = "apiVersion: v1\nkind: Service\nmetadata:\n  name: [web\n";
        let e = check_yaml(bad).unwrap_err();
        assert_eq!(e.to_string(), "line 4, column 9: this [ is never closed (did not find expected ',' or ']')");
        let e = check_yaml("apiVersion: v1\nkind: A\nmetadata: {name: a\n\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 11), "an unclosed {{ likewise: {e}");
        assert_eq!(
            err("apiVersion: v1\nkind: A\nmetadata:\n  name: a\n---\n\nkind: B\nmetadata:\n  name: b\n"),
            "line 7, column 1: document 2 has no apiVersion"
        );
        assert_eq!(
            err("apiVersion: v1\nkind: A\nmetadata:\n  labels: {}\n"),
            "line 3, column 1: document 1 has no metadata.name"
        );
        assert_eq!(err("apiVersion: v1\nkind: A\n"), "line 1, column 1: document 1 has no metadata");
        assert_eq!(
            err("apiVersion: v1\nkind: 3\nmetadata:\n  name: a\n"),
            "line 2, column 1: kind of document 1 must be a non-empty string"
        );
        assert_eq!(
            err("apiVersion: v1\nkind: A\nmetadata:\n  name: ''\n"),
            "line 4, column 3: metadata.name of document 1 must be a non-empty string"
        );
        assert_eq!(err("- a\n- b\n"), "line 1, column 1: document 1 is not a mapping (apiVersion, kind, metadata)");
        // A syntax error in the second document counts lines from the top of the file.
        let e = check_yaml("apiVersion: v1\nkind: A\nmetadata:\n  name: a\n---\nkind: B\n  bad: indent\n").unwrap_err();
        assert_eq!(e.line, 7, "{e}");
    }

    #[test]
    fn a_diff_marks_added_and_removed_lines() {
        let d = diff("kind: A\nreplicas: 1\n", "kind: A\nreplicas: 2\nimage: web\n");
        assert_eq!(
            d,
            [
                DiffLine::Same("kind: A".into()),
                DiffLine::Removed("replicas: 1".into()),
                DiffLine::Added("replicas: 2".into()),
                DiffLine::Added("image: web".into()),
            ]
        );
        assert!(diff("a\n", "a\n").iter().all(|l| matches!(l, DiffLine::Same(_))));
        assert_eq!(diff("", "a"), [DiffLine::Added("a".into())]);
    }

    #[test]
    fn progress_states_and_exit_codes() {
        let p = |success, failure, pending, offline| Progress { success, failure, pending, offline };
        assert_eq!(p(12, 2, 1, 1).describe(), "12 ✓  2 ✗  1 pending  1 offline");
        assert_eq!(p(0, 0, 0, 0).describe(), "no agent reached");
        assert_eq!(p(0, 0, 3, 0).describe(), "3 pending");
        assert_eq!(p(12, 2, 1, 1).state(), RolloutState::Failing);
        assert_eq!(p(12, 0, 1, 0).state(), RolloutState::InProgress);
        assert_eq!(p(12, 0, 0, 1).state(), RolloutState::InProgress, "an offline agent has not applied it");
        assert_eq!(p(12, 0, 0, 0).state(), RolloutState::Complete);
        assert_eq!(p(0, 0, 0, 0).state(), RolloutState::Unreached, "a rollout that went nowhere is not complete");
        assert_eq!(p(0, 1, 0, 0).state(), RolloutState::Failing);
        assert_eq!(
            [RolloutState::Complete, RolloutState::InProgress, RolloutState::Failing, RolloutState::Unreached]
                .map(RolloutState::exit_code),
            [0, 5, 6, 7]
        );
        assert_eq!(RolloutState::InProgress.as_str(), "in-progress", "the list's filter value, spelt once");
    }
}

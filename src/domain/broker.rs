//! Rules of the broker's stacks, labels and annotations (SEMANTICS.md, seed 002).

/// A field's problem, named so a form can show it under the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// A new stack as a person typed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackDraft {
    pub name: String,
    pub description: String,
    pub labels: String,
    pub annotations: String,
}

/// A new stack, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStack {
    pub name: String,
    pub description: Option<String>,
    pub labels: Vec<String>,
    pub annotations: Vec<(String, String)>,
}

/// A label: 1 to 64 characters.
pub fn check_label(label: &str) -> Result<(), String> {
    match label.chars().count() {
        0 => Err("a label cannot be empty".into()),
        n if n > 64 => Err(format!("a label has at most 64 characters; this one has {n}")),
        _ => Ok(()),
    }
}

/// An annotation key or value: 1 to 64 characters, no white space.
pub fn check_annotation_part(what: &str, text: &str) -> Result<(), String> {
    let n = text.chars().count();
    if n == 0 {
        return Err(format!("the {what} is empty"));
    }
    if n > 64 {
        return Err(format!("{what} {text:?} has {n} characters; at most 64"));
    }
    if text.chars().any(char::is_whitespace) {
        return Err(format!("{what} {text:?} contains white space"));
    }
    Ok(())
}

/// Labels, one per line (blank lines ignored). Errors name the line.
pub fn parse_labels(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let label = line.trim();
        if label.is_empty() {
            continue;
        }
        check_label(label).map_err(|e| format!("line {}: {e}", i + 1))?;
        if out.iter().any(|l| l == label) {
            return Err(format!("line {}: label {label:?} is given twice", i + 1));
        }
        out.push(label.to_string());
    }
    Ok(out)
}

/// Annotations, one `key=value` per line (blank lines ignored). Errors name the line.
pub fn parse_annotations(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let at = |e: String| format!("line {}: {e}", i + 1);
        let (k, v) = line.split_once('=').ok_or_else(|| at(format!("{line:?} is not key=value")))?;
        check_annotation_part("key", k).map_err(at)?;
        check_annotation_part("value", v).map_err(at)?;
        if out.iter().any(|(ok, _)| ok == k) {
            return Err(at(format!("key {k:?} is given twice")));
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

impl StackDraft {
    /// Check every field; all problems at once, each under its field.
    pub fn check(&self) -> Result<NewStack, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(FieldError { field: "name", message: "a stack needs a name".into() });
        } else if name.chars().count() > 255 {
            errors.push(FieldError { field: "name", message: "at most 255 characters".into() });
        }
        let labels = parse_labels(&self.labels).unwrap_or_else(|e| {
            errors.push(FieldError { field: "labels", message: e });
            Vec::new()
        });
        let annotations = parse_annotations(&self.annotations).unwrap_or_else(|e| {
            errors.push(FieldError { field: "annotations", message: e });
            Vec::new()
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        let description = self.description.trim();
        Ok(NewStack {
            name: name.to_string(),
            description: (!description.is_empty()).then(|| description.to_string()),
            labels,
            annotations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_one_to_sixty_four_characters_one_per_line() {
        assert_eq!(parse_labels("edge\n\n prod eu \n"), Ok(vec!["edge".to_string(), "prod eu".to_string()]));
        assert_eq!(
            parse_labels(&"x".repeat(65)).unwrap_err(),
            "line 1: a label has at most 64 characters; this one has 65"
        );
        assert!(parse_labels("a\na").unwrap_err().contains("line 2"));
        assert!(check_label(&"é".repeat(64)).is_ok());
    }

    #[test]
    fn annotations_are_key_value_without_white_space() {
        assert_eq!(
            parse_annotations("env=prod\nteam=sre"),
            Ok(vec![("env".into(), "prod".into()), ("team".into(), "sre".into())])
        );
        assert_eq!(parse_annotations("env prod").unwrap_err(), "line 1: \"env prod\" is not key=value");
        assert!(parse_annotations("env=pr od").unwrap_err().contains("contains white space"));
        assert!(parse_annotations("ok=1\n=x").unwrap_err().starts_with("line 2: the key is empty"));
        assert!(parse_annotations("k=").unwrap_err().contains("the value is empty"));
        assert!(parse_annotations("k=1\nk=2").unwrap_err().contains("given twice"));
    }

    #[test]
    fn a_draft_reports_every_field_at_once() {
        let draft =
            StackDraft { name: " ".into(), labels: "x".repeat(70), annotations: "bad".into(), ..Default::default() };
        let errors = draft.check().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "labels", "annotations"]);
        let ok =
            StackDraft { name: " web ".into(), description: "".into(), labels: "edge".into(), annotations: "".into() };
        assert_eq!(
            ok.check(),
            Ok(NewStack { name: "web".into(), description: None, labels: vec!["edge".into()], annotations: vec![] })
        );
    }
}

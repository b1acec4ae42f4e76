//! Importers: the formats platforms publish, parsed and checked here; written by the service layer
//! in one transaction each.

pub mod demo;
pub mod helm_index;
pub mod instances;
pub mod margo;

use std::path::{Path, PathBuf};

/// A problem with an input file, naming where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{}: {message}", file.display(), location(*line, *column), field.as_ref().map(|f| format!(", field {f}")).unwrap_or_default())]
pub struct InputError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(": line {l}, column {c}"),
        (Some(l), None) => format!(": line {l}"),
        _ => String::new(),
    }
}

impl InputError {
    pub fn new(file: &Path, message: impl Into<String>) -> InputError {
        InputError { file: file.to_path_buf(), line: None, column: None, field: None, message: message.into() }
    }

    pub fn at(mut self, line: usize, column: Option<usize>) -> InputError {
        self.line = Some(line);
        self.column = column;
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> InputError {
        self.field = Some(field.into());
        self
    }
}

/// Parse one line of a JSON-lines file; an error names the line number and the field.
pub fn json_line<T: serde::de::DeserializeOwned>(path: &Path, line_no: usize, text: &str) -> Result<T, InputError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // serde_json appends its own "at line 1 column N": the line is ours to tell.
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        let err = InputError::new(path, message).at(line_no, Some(inner.column()));
        if field == "." {
            err
        } else {
            err.field(field)
        }
    })
}

/// A YAML parse error with its line and column.
pub fn yaml_error(path: &Path, e: serde_yaml_ng::Error) -> InputError {
    let err = InputError::new(path, e.to_string());
    match e.location() {
        Some(loc) => err.at(loc.line(), Some(loc.column())),
        None => err,
    }
}

/// A progress bar on stderr when it is a terminal, nothing otherwise.
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(len), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

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

/// A progress bar on stderr when it is a terminal, nothing otherwise.
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(len), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

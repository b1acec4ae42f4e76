//! The `/` filter language every list shares:
//!
//! - `text`: fuzzy — the characters of `text` in order, anything between (case-insensitive);
//! - `!text`: the rows the fuzzy filter would hide;
//! - `=text`: rows containing `text` exactly (case-sensitive substring);
//! - `-l key=value`: rows with that annotation; `-l label`: rows with that label.

use fuzzy_matcher::skim::SkimMatcherV2;
use fuzzy_matcher::FuzzyMatcher;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    None,
    Fuzzy(String),
    Invert(String),
    Exact(String),
    Label {
        key: String,
        value: Option<String>,
    },
}

impl Filter {
    /// Parse what was typed after `/`. An error says what is wrong with it.
    pub fn parse(input: &str) -> Result<Filter, String> {
        if input.is_empty() {
            return Ok(Filter::None);
        }
        if let Some(rest) = input.strip_prefix("-l") {
            let rest = rest.trim();
            if rest.is_empty() {
                return Err("-l needs a label or key=value".into());
            }
            if rest.contains(char::is_whitespace) {
                return Err(format!("-l {rest}: labels and annotations have no spaces"));
            }
            return Ok(match rest.split_once('=') {
                Some(("", _)) => return Err(format!("-l {rest}: the key before = is empty")),
                Some((k, v)) => Filter::Label { key: k.into(), value: Some(v.into()) },
                None => Filter::Label { key: rest.into(), value: None },
            });
        }
        Ok(if let Some(rest) = input.strip_prefix('!') {
            if rest.is_empty() {
                Filter::None
            } else {
                Filter::Invert(rest.into())
            }
        } else if let Some(rest) = input.strip_prefix('=') {
            if rest.is_empty() {
                Filter::None
            } else {
                Filter::Exact(rest.into())
            }
        } else {
            Filter::Fuzzy(input.into())
        })
    }

    pub fn is_none(&self) -> bool {
        *self == Filter::None
    }

    /// Where in `text` the filter matched (character indices), for highlighting.
    pub fn matches(&self, text: &str) -> Vec<usize> {
        match self {
            Filter::Fuzzy(q) => fuzzy_indices(text, q),
            Filter::Exact(q) => match text.find(q.as_str()) {
                Some(byte) => {
                    let start = text[..byte].chars().count();
                    (start..start + q.chars().count()).collect()
                }
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

/// A LIKE pattern matching the characters of `query` in order with anything between:
/// `%n%g%x%` for "ngx", `%`, `_` and `\` escaped.
pub fn subsequence_pattern(query: &str) -> String {
    let mut p = String::with_capacity(query.len() * 3 + 1);
    p.push('%');
    for c in query.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
        p.push('%');
    }
    p
}

/// The character indices of the best fuzzy match of `query` in `text` (empty when none).
pub fn fuzzy_indices(text: &str, query: &str) -> Vec<usize> {
    let matcher = SkimMatcherV2::default().ignore_case();
    matcher.fuzzy_indices(text, query).map(|(_, idx)| idx).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_forms_parse() {
        assert_eq!(Filter::parse(""), Ok(Filter::None));
        assert_eq!(Filter::parse("ngx"), Ok(Filter::Fuzzy("ngx".into())));
        assert_eq!(Filter::parse("!ngx"), Ok(Filter::Invert("ngx".into())));
        assert_eq!(Filter::parse("=nginx-"), Ok(Filter::Exact("nginx-".into())));
        assert_eq!(Filter::parse("-l env=prod"), Ok(Filter::Label { key: "env".into(), value: Some("prod".into()) }));
        assert_eq!(Filter::parse("-l edge"), Ok(Filter::Label { key: "edge".into(), value: None }));
        assert_eq!(Filter::parse("!"), Ok(Filter::None));
    }

    #[test]
    fn bad_label_filters_say_why() {
        assert!(Filter::parse("-l").unwrap_err().contains("needs a label"));
        assert!(Filter::parse("-l =x").unwrap_err().contains("key before ="));
        assert!(Filter::parse("-l a b").unwrap_err().contains("no spaces"));
    }

    #[test]
    fn patterns_escape_like_metacharacters() {
        assert_eq!(subsequence_pattern("ngx"), "%n%g%x%");
        assert_eq!(subsequence_pattern("a_%\\"), "%a%\\_%\\%%\\\\%");
    }

    #[test]
    fn highlights_point_at_the_matched_characters() {
        assert_eq!(Filter::Fuzzy("ngx".into()).matches("nginx"), vec![0, 1, 4]);
        assert_eq!(Filter::Fuzzy("NGX".into()).matches("nginx"), vec![0, 1, 4]);
        assert_eq!(Filter::Exact("gin".into()).matches("ünginx"), vec![2, 3, 4]);
        assert!(Filter::Exact("Gin".into()).matches("nginx").is_empty());
        assert!(Filter::Invert("x".into()).matches("x").is_empty());
    }
}

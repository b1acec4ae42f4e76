//! Lines laid out for fuzzy matching, and fzf's search over them.
//!
//! ASCII lines (nearly all) sit back to back in one buffer, so that a keystroke's scan reads
//! them in order instead of chasing a pointer per line. Each line also keeps which of 64
//! character classes it holds: a term whose classes are not all in a line cannot match it, and
//! one AND rejects most lines before the matcher looks at them. The Marketplace's names are held
//! this way; [`Lines::rank`] is fzf's own search over such lines (`fzf --filter`), which is what
//! the benchmark against fzf measures (`benches/fzf.rs`).

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use rayon::prelude::*;

/// Below this many lines one thread scores them all: splitting costs more than it saves.
pub const PARALLEL_FROM: usize = 8192;

/// Lines a core scores at a time when both do.
const CHUNK: usize = 1024;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lines {
    ascii: Vec<u8>,
    /// Per line: (start, length) in `ascii`, or (index in `unicode`, `u32::MAX`).
    at: Vec<(u32, u32)>,
    unicode: Vec<Box<[char]>>,
    masks: Vec<u64>,
    lengths: Vec<u32>,
}

/// A line that matched, with its score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranked {
    pub line: u32,
    pub score: u32,
}

impl Lines {
    pub fn push(&mut self, line: &str) {
        if line.is_ascii() {
            self.at.push((self.ascii.len() as u32, line.len() as u32));
            self.ascii.extend_from_slice(line.as_bytes());
            self.masks.push(char_mask(line));
            self.lengths.push(line.len() as u32);
        } else {
            self.at.push((self.unicode.len() as u32, u32::MAX));
            let chars: Box<[char]> = line.chars().collect();
            self.lengths.push(chars.len() as u32);
            self.unicode.push(chars);
            // Normalisation matches "é" to "e": a non-ASCII line is never rejected by its mask.
            self.masks.push(u64::MAX);
        }
    }

    pub fn len(&self) -> usize {
        self.at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    pub fn view(&self, i: usize) -> Utf32Str<'_> {
        match self.at.get(i) {
            Some(&(k, u32::MAX)) => Utf32Str::Unicode(self.unicode.get(k as usize).map_or(&[], |c| &c[..])),
            Some(&(start, len)) => {
                Utf32Str::Ascii(self.ascii.get(start as usize..(start + len) as usize).unwrap_or_default())
            }
            None => Utf32Str::Ascii(&[]),
        }
    }

    /// Could a term with these character classes match line `i`?
    pub fn may_hold(&self, i: usize, mask: u64) -> bool {
        self.masks.get(i).is_some_and(|m| m & mask == mask)
    }

    /// fzf's search (`fzf --filter QUERY`): its extended syntax (space-separated terms, each
    /// fuzzy unless `'`, `^`, `$` or `!` say otherwise), smart case, every term must match;
    /// ranked as fzf ranks: by score, then the shorter line, then the earlier one. Both cores
    /// score when the lines are many.
    pub fn rank(&self, query: &str, config: &Config) -> Vec<Ranked> {
        let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
        let mask = pattern.atoms.iter().filter(|a| !a.negative).fold(0, |m, a| m | mask_of(a.needle_text().chars()));
        // Each hit with its sort key: the best score first, then the shorter line.
        let score = |range: std::ops::Range<usize>| {
            with_matcher(config, |matcher| {
                range
                    .filter(|&i| self.masks[i] & mask == mask)
                    .filter_map(|i| {
                        let score = pattern.score(self.view(i), matcher)?;
                        Some(((u64::from(u32::MAX - score) << 32) | u64::from(self.lengths[i]), i as u32))
                    })
                    .collect::<Vec<_>>()
            })
        };
        let n = self.len();
        let mut hits = if n < PARALLEL_FROM {
            score(0..n)
        } else {
            // Small chunks, taken by whichever core is free: long lines cluster, and halves
            // of equal counts would leave one core waiting on the other.
            let chunks = n.div_ceil(CHUNK);
            (0..chunks).into_par_iter().map(|c| score(c * CHUNK..((c + 1) * CHUNK).min(n))).flatten_iter().collect()
        };
        if hits.len() < PARALLEL_FROM {
            hits.sort_unstable();
        } else {
            hits.par_sort_unstable();
        }
        hits.into_iter().map(|(key, line)| Ranked { line, score: u32::MAX - (key >> 32) as u32 }).collect()
    }
}

thread_local! {
    /// Each thread's matcher and the settings it was made with: a matcher holds a 135 KB
    /// scratch area, which costs more to make than a short keystroke's whole scan.
    static MATCHER: std::cell::RefCell<Option<(Config, Matcher)>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` with this thread's matcher for `config`.
pub fn with_matcher<T>(config: &Config, f: impl FnOnce(&mut Matcher) -> T) -> T {
    MATCHER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            if slot.as_ref().is_some_and(|(made, _)| made != config) {
                *slot = None;
            }
            let (_, matcher) = slot.get_or_insert_with(|| (config.clone(), Matcher::new(config.clone())));
            f(matcher)
        }
        // Only when `f` itself asks for a matcher.
        Err(_) => f(&mut Matcher::new(config.clone())),
    })
}

/// Which of 64 character classes a text holds (lower-cased letters, digits, other).
pub fn char_mask(text: &str) -> u64 {
    mask_of(text.chars())
}

fn mask_of(chars: impl IntoIterator<Item = char>) -> u64 {
    chars.into_iter().fold(0, |m, c| m | 1 << class(c))
}

fn class(c: char) -> u32 {
    let c = c.to_ascii_lowercase();
    match c {
        'a'..='z' => c as u32 - 'a' as u32,
        '0'..='9' => 26 + c as u32 - '0' as u32,
        '-' | '_' | '.' | '/' => 36 + (c as u32 % 4),
        c => 40 + (c as u32 % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// nucleo alone, every line scored, ranked as fzf ranks: what `rank` must return.
    fn plain(lines: &[&str], query: &str) -> Vec<Ranked> {
        let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut hits: Vec<(u32, usize, u32)> = lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let text = nucleo_matcher::Utf32String::from(*l);
                Some((pattern.score(text.slice(..), &mut matcher)?, text.len(), i as u32))
            })
            .collect();
        hits.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        hits.into_iter().map(|(score, _, line)| Ranked { line, score }).collect()
    }

    fn held(lines: &[&str]) -> Lines {
        let mut held = Lines::default();
        for l in lines {
            held.push(l);
        }
        held
    }

    #[test]
    fn rank_is_fzf_search_on_few_and_many_lines() {
        let few = [
            "postgres-operator",
            "PostgreSQL HA",
            "café-exporter",
            "Crème brûlée cache",
            "redis",
            "kafka operator for strimzi",
            "pgbouncer",
            "",
        ];
        let many: Vec<String> = (0..PARALLEL_FROM + 1500).map(|i| format!("{}-{i}", few[i % few.len()])).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let queries =
            ["p", "po", "Pg", "postgres", "kafka op", "cafe", "creme", "é", "'redis", "^pg", "or$", "!redis o"];
        for lines in [&few[..], &many[..]] {
            let lines_held = held(lines);
            for q in queries {
                assert_eq!(
                    lines_held.rank(q, &Config::DEFAULT),
                    plain(lines, q),
                    "query {q:?} over {} lines",
                    lines.len()
                );
            }
        }
    }

    #[test]
    fn a_mask_never_rejects_what_the_matcher_would_take() {
        // Normalisation matches "e" to "é": the non-ASCII line has to pass its mask.
        let lines = held(&["crème", "plain"]);
        assert_eq!(lines.rank("creme", &Config::DEFAULT).iter().map(|r| r.line).collect::<Vec<_>>(), vec![0]);
        // Case is folded by the mask: an upper-case query still finds a lower-case line when the
        // line holds it in upper case.
        let lines = held(&["PGBOUNCER", "pgbouncer", "other"]);
        assert_eq!(lines.rank("PG", &Config::DEFAULT).iter().map(|r| r.line).collect::<Vec<_>>(), vec![0]);
        assert_eq!(lines.rank("pg", &Config::DEFAULT).len(), 2);
        assert!(lines.may_hold(1, char_mask("bounce")));
        assert!(!lines.may_hold(2, char_mask("bounce")));
        assert!(!lines.may_hold(7, 0), "a line past the end holds nothing");
    }
}

//! Matching as you type: a term matches a name fuzzily (nucleo) or a description or keyword word
//! by prefix; a longer query narrows the previous matches (`Searcher`).

use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Config, Matcher};
use rayon::prelude::*;

use super::lines::with_matcher;
use super::{char_mask, Catalogue, Hit, Results, Selection, Sort, PARALLEL_FROM, SINGLES};

/// One term of a query, ready to match.
struct Term {
    atom: Atom,
    mask: u64,
    /// Entries with a description or keyword word starting with the term, as a bit set.
    described: Vec<u64>,
}

/// A name match outranks any description match.
const NAME_BONUS: u32 = 1000;

impl Catalogue {
    fn term(&self, text: &str) -> Term {
        let lower = text.to_lowercase();
        let atom = Atom::new(&lower, CaseMatching::Ignore, Normalization::Smart, AtomKind::Fuzzy, false);
        let mut described = vec![0u64; self.entries.len().div_ceil(64)];
        let from = self.words.partition_point(|w| &**w < lower.as_str());
        for (word, posting) in self.words[from..].iter().zip(&self.postings[from..]) {
            if !word.starts_with(lower.as_str()) {
                break;
            }
            for &e in posting.iter() {
                described[e as usize / 64] |= 1 << (e % 64);
            }
        }
        Term { atom, mask: char_mask(&lower), described }
    }

    /// Score one entry against every term: None when a term matches neither its name nor a word.
    fn score(&self, e: u32, terms: &[Term], matcher: &mut Matcher) -> Option<u32> {
        let i = e as usize;
        let mut total = 0u32;
        for t in terms {
            let named = if self.names.may_hold(i, t.mask) { t.atom.score(self.names.view(i), matcher) } else { None };
            match named {
                Some(s) => total += NAME_BONUS + s as u32,
                None if t.described[i / 64] & (1 << (i % 64)) != 0 => total += 1,
                None => return None,
            }
        }
        Some(total)
    }

    /// The entries matching `query`, from `within` (a previous, wider match) or from all.
    pub fn matches(&self, query: &str, within: Option<&[Hit]>, matcher: &mut Matcher) -> Vec<Hit> {
        let trimmed = query.trim();
        let mut chars = trimmed.chars();
        if let (Some(c), None, None) = (chars.next(), chars.next(), within) {
            if let Some(i) = SINGLES.find(c.to_ascii_lowercase()) {
                if let Some(hits) = self.singles.get(i) {
                    return hits.clone();
                }
            }
        }
        self.scan(query, within, matcher)
    }

    /// [`Catalogue::matches`] by scoring every candidate.
    pub(super) fn scan(&self, query: &str, within: Option<&[Hit]>, matcher: &mut Matcher) -> Vec<Hit> {
        let terms: Vec<Term> = query.split_whitespace().map(|t| self.term(t)).collect();
        if terms.is_empty() {
            return (0..self.entries.len() as u32).map(|entry| Hit { entry, score: 0 }).collect();
        }
        let all: Vec<u32>;
        let candidates: &[u32] = match within {
            Some(hits) => {
                all = hits.iter().map(|h| h.entry).collect();
                &all
            }
            None => {
                all = (0..self.entries.len() as u32).collect();
                &all
            }
        };
        if candidates.len() < PARALLEL_FROM {
            return candidates
                .iter()
                .filter_map(|&e| Some(Hit { entry: e, score: self.score(e, &terms, matcher)? }))
                .collect();
        }
        let chunk = candidates.len().div_ceil(rayon::current_num_threads().max(1));
        candidates
            .par_chunks(chunk.max(1))
            .map(|part| {
                with_matcher(&config(), |m| {
                    part.iter()
                        .filter_map(|&e| Some(Hit { entry: e, score: self.score(e, &terms, m)? }))
                        .collect::<Vec<_>>()
                })
            })
            .flatten_iter()
            .collect()
    }

    /// Where the query's terms match the entry's name (char indices) and description (byte
    /// ranges of words starting with a term), for highlighting.
    pub fn highlights(&self, entry: u32, query: &str, matcher: &mut Matcher) -> (Vec<usize>, Vec<(usize, usize)>) {
        let Some(e) = self.entries.get(entry as usize) else { return (Vec::new(), Vec::new()) };
        let mut name = Vec::new();
        let mut description = Vec::new();
        for term in query.split_whitespace() {
            let lower = term.to_lowercase();
            let atom = Atom::new(&lower, CaseMatching::Ignore, Normalization::Smart, AtomKind::Fuzzy, false);
            let mut indices = Vec::new();
            if atom.indices(self.names.view(entry as usize), matcher, &mut indices).is_some() {
                name.extend(indices.iter().map(|i| *i as usize));
                continue;
            }
            let mut start = None;
            for (i, c) in e.description.char_indices().chain(std::iter::once((e.description.len(), ' '))) {
                match (start, c.is_alphanumeric()) {
                    (None, true) => start = Some(i),
                    (Some(s), false) => {
                        let word = &e.description[s..i];
                        if word.to_lowercase().starts_with(&lower) {
                            let end = word.char_indices().nth(lower.chars().count()).map_or(i, |(k, _)| s + k);
                            description.push((s, end));
                        }
                        start = None;
                    }
                    _ => {}
                }
            }
        }
        name.sort_unstable();
        name.dedup();
        description.sort_unstable();
        (name, description)
    }
}

/// The matcher's settings: names that start with the query rank first.
pub fn config() -> Config {
    let mut c = Config::DEFAULT;
    c.prefer_prefix = true;
    c
}

/// Search as you type over one catalogue: remembers the last query's matches so that a longer
/// query narrows them instead of matching everything again.
#[derive(Debug)]
pub struct Searcher {
    matcher: Matcher,
    last: Option<(String, Vec<Hit>)>,
}

impl Default for Searcher {
    fn default() -> Searcher {
        Searcher { matcher: Matcher::new(config()), last: None }
    }
}

impl Clone for Searcher {
    fn clone(&self) -> Searcher {
        Searcher { matcher: Matcher::new(config()), last: self.last.clone() }
    }
}

impl Searcher {
    /// The catalogue changed: forget the remembered matches.
    pub fn reset(&mut self) {
        self.last = None;
    }

    /// The matches of `query` (narrowed from the last query's when it extends it).
    pub fn matches(&mut self, catalogue: &Catalogue, query: &str) -> &[Hit] {
        let query = query.trim_start().to_string();
        let reuse = match &self.last {
            Some((q, _)) if *q == query => return self.last.as_ref().map_or(&[], |(_, h)| h.as_slice()),
            Some((q, _)) => !q.trim().is_empty() && extends(&query, q),
            None => false,
        };
        let hits = if reuse {
            let within = self.last.as_ref().map(|(_, h)| h.as_slice());
            catalogue.matches(&query, within, &mut self.matcher)
        } else {
            catalogue.matches(&query, None, &mut self.matcher)
        };
        self.last = Some((query, hits));
        self.last.as_ref().map_or(&[], |(_, h)| h.as_slice())
    }

    /// Match, facet and sort: what the list shows after a keystroke.
    pub fn run(&mut self, catalogue: &Catalogue, query: &str, selection: &Selection, sort: Sort) -> Results {
        let empty = query.trim().is_empty();
        let hits = self.matches(catalogue, query);
        catalogue.arrange(hits, selection, sort, empty)
    }

    pub fn highlights(&mut self, catalogue: &Catalogue, entry: u32, query: &str) -> (Vec<usize>, Vec<(usize, usize)>) {
        catalogue.highlights(entry, query, &mut self.matcher)
    }
}

/// Does `new` only narrow `old`? True when it is `old` with more typed at the end: the last term
/// grew, or terms were added (every term of `old` still has to match, each at least as strictly).
fn extends(new: &str, old: &str) -> bool {
    new.starts_with(old)
}

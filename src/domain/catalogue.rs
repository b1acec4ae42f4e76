//! The marketplace's search as you type. A catalogue (packages, apps, solutions, agents, compute
//! offers) is held in memory once; every keystroke matches it again, so the list follows the
//! typing with no database round trip.
//!
//! A query is terms separated by spaces; an entry matches when every term does. A term matches
//! the entry's name fuzzily (nucleo, fzf's algorithm: the characters in order, scored for
//! consecutive runs, word starts and a prefix) or a word of its description and keywords by
//! prefix (an inverted index). Name matches rank above description matches. A longer query can
//! only narrow the matches, so typing on narrows the previous result instead of starting over.
//!
//! Facets: each entry has zero or more values per facet; a selection keeps the entries that have
//! a selected value in every facet where something is selected. The counts beside each value are
//! those the entry list would have if that value were picked (the other facets' selections and
//! the query applied), as faceted search does.

use std::collections::HashMap;

use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use rayon::prelude::*;

/// One entry as a catalogue is built from it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Input {
    pub id: String,
    pub name: String,
    pub description: String,
    pub keywords: Vec<String>,
    /// The list's other columns, already text.
    pub cells: Vec<String>,
    /// Per facet (in the catalogue's order), the entry's values.
    pub facets: Vec<Vec<String>>,
    pub stars: i64,
    /// Last updated, epoch seconds.
    pub updated: i64,
}

/// One entry of a built catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    pub name: String,
    pub description: String,
    pub cells: Vec<String>,
    pub stars: i64,
    pub updated: i64,
}

/// A facet and its values, in the order they are shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Facet {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Relevance,
    Stars,
    Name,
    Updated,
}

impl Sort {
    pub const ALL: [Sort; 4] = [Sort::Relevance, Sort::Stars, Sort::Name, Sort::Updated];

    pub fn title(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Stars => "stars",
            Sort::Name => "name",
            Sort::Updated => "last updated",
        }
    }

    pub fn next(self) -> Sort {
        let i = Sort::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Sort::ALL[(i + 1) % Sort::ALL.len()]
    }
}

/// What is picked in each facet: none picked means the facet does not filter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    picked: Vec<Vec<bool>>,
}

impl Selection {
    /// Nothing picked in `facets` facets.
    pub fn none(catalogue: &Catalogue) -> Selection {
        Selection { picked: catalogue.facets.iter().map(|f| vec![false; f.values.len()]).collect() }
    }

    pub fn is_picked(&self, facet: usize, value: usize) -> bool {
        self.picked.get(facet).and_then(|v| v.get(value)).copied().unwrap_or(false)
    }

    pub fn toggle(&mut self, facet: usize, value: usize) {
        if let Some(v) = self.picked.get_mut(facet).and_then(|v| v.get_mut(value)) {
            *v = !*v;
        }
    }

    pub fn set(&mut self, facet: usize, value: usize, on: bool) {
        if let Some(v) = self.picked.get_mut(facet).and_then(|v| v.get_mut(value)) {
            *v = on;
        }
    }

    /// Pick this value by name (false when the catalogue has no such facet or value).
    pub fn pick(&mut self, catalogue: &Catalogue, facet: &str, value: &str) -> bool {
        match catalogue.value_index(facet, value) {
            Some((f, v)) => {
                self.set(f, v, true);
                true
            }
            None => false,
        }
    }

    pub fn clear(&mut self, facet: usize) {
        if let Some(v) = self.picked.get_mut(facet) {
            v.iter_mut().for_each(|x| *x = false);
        }
    }

    /// Facets with something picked.
    fn active(&self) -> Vec<usize> {
        (0..self.picked.len()).filter(|&f| self.picked[f].iter().any(|x| *x)).collect()
    }

    /// The picks as `facet=value` pairs, for a status line.
    pub fn describe(&self, catalogue: &Catalogue) -> Vec<String> {
        let mut out = Vec::new();
        for (f, values) in self.picked.iter().enumerate() {
            for (v, on) in values.iter().enumerate() {
                if *on {
                    if let (Some(facet), Some(value)) =
                        (catalogue.facets.get(f), catalogue.facets.get(f).and_then(|x| x.values.get(v)))
                    {
                        out.push(format!("{}={}", facet.name, value));
                    }
                }
            }
        }
        out
    }
}

/// Every name, laid out for matching: ASCII names (nearly all) back to back in one buffer, so
/// that a keystroke's scan reads them in order instead of chasing a pointer per name.
#[derive(Debug, Clone, Default, PartialEq)]
struct Names {
    ascii: Vec<u8>,
    /// Per entry: (start, length) in `ascii`, or (index in `unicode`, `u32::MAX`).
    at: Vec<(u32, u32)>,
    unicode: Vec<Box<[char]>>,
}

impl Names {
    fn push(&mut self, name: &str) {
        if name.is_ascii() {
            self.at.push((self.ascii.len() as u32, name.len() as u32));
            self.ascii.extend_from_slice(name.as_bytes());
        } else {
            self.at.push((self.unicode.len() as u32, u32::MAX));
            self.unicode.push(name.chars().collect());
        }
    }

    fn view(&self, i: usize) -> Utf32Str<'_> {
        match self.at.get(i) {
            Some(&(k, u32::MAX)) => Utf32Str::Unicode(self.unicode.get(k as usize).map_or(&[], |c| &c[..])),
            Some(&(start, len)) => {
                Utf32Str::Ascii(self.ascii.get(start as usize..(start + len) as usize).unwrap_or_default())
            }
            None => Utf32Str::Ascii(&[]),
        }
    }
}

/// Which of 64 character classes a text holds (lower-cased letters, digits, other): a term whose
/// classes are not all in a name cannot match it fuzzily.
fn char_mask(text: &str) -> u64 {
    text.chars().fold(0, |m, c| m | 1 << class(c))
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

/// A catalogue held in memory, with the index its search reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub facets: Vec<Facet>,
    pub entries: Vec<Entry>,
    names: Names,
    masks: Vec<u64>,
    /// Description and keyword words, lower case, sorted; their entries.
    words: Vec<Box<str>>,
    postings: Vec<Box<[u32]>>,
    /// Each entry's place in name order, in stars order (most first) and in update order (newest
    /// first), ties by name; and the entries in each order. Sorting compares these integers.
    ranks: [Vec<u32>; 3],
    by_rank: [Vec<u32>; 3],
    /// Every entry's (facet, value) pairs in one array, sorted per entry (entry i's are
    /// `flat[flat_at[i]..flat_at[i+1]]`), and names' lengths: the per-keystroke loops read these.
    flat: Vec<(u8, u16)>,
    flat_at: Vec<u32>,
    name_len: Vec<u16>,
    /// The matches of each one-character query (`SINGLES`), made at load: the first keystroke,
    /// which matches nearly everything, is then a copy.
    singles: Vec<Vec<Hit>>,
}

/// The one-character queries whose matches are kept at load.
const SINGLES: &str = "abcdefghijklmnopqrstuvwxyz0123456789";

/// Which of a catalogue's orders a sort key ends with.
const BY_NAME: usize = 0;
const BY_STARS: usize = 1;
const BY_UPDATED: usize = 2;

/// Rows put in order at once; the rest are ordered when the list scrolls that far.
pub const SORT_AHEAD: usize = 1000;

/// The entries in each of the three orders, and each entry's place in them.
fn orders(entries: &[Entry]) -> ([Vec<u32>; 3], [Vec<u32>; 3]) {
    let lower: Vec<String> = entries.iter().map(|e| e.name.to_lowercase()).collect();
    let mut by_name: Vec<u32> = (0..entries.len() as u32).collect();
    by_name.sort_by(|a, b| lower[*a as usize].cmp(&lower[*b as usize]).then(a.cmp(b)));
    let mut name_rank = vec![0u32; entries.len()];
    for (r, e) in by_name.iter().enumerate() {
        name_rank[*e as usize] = r as u32;
    }
    let by = |key: &dyn Fn(&Entry) -> i64| {
        let mut order: Vec<u32> = (0..entries.len() as u32).collect();
        order.sort_by(|a, b| {
            key(&entries[*b as usize])
                .cmp(&key(&entries[*a as usize]))
                .then(name_rank[*a as usize].cmp(&name_rank[*b as usize]))
        });
        let mut rank = vec![0u32; entries.len()];
        for (r, e) in order.iter().enumerate() {
            rank[*e as usize] = r as u32;
        }
        (rank, order)
    };
    let (stars_rank, by_stars) = by(&|e| e.stars);
    let (updated_rank, by_updated) = by(&|e| e.updated);
    ([name_rank, stars_rank, updated_rank], [by_name, by_stars, by_updated])
}

/// Builds a catalogue entry by entry.
#[derive(Debug, Default)]
pub struct Builder {
    facets: Vec<(String, HashMap<String, u16>, Vec<String>)>,
    entries: Vec<Entry>,
    names: Names,
    masks: Vec<u64>,
    words: HashMap<Box<str>, Vec<u32>>,
    flat: Vec<(u8, u16)>,
    flat_at: Vec<u32>,
}

/// Map each entry's (facet, value) pairs through `map`, keeping each entry's pairs sorted.
fn remap(flat: &mut [(u8, u16)], at: &[u32], map: impl Fn(u8, u16) -> u16) {
    for pair in flat.iter_mut() {
        pair.1 = map(pair.0, pair.1);
    }
    for w in at.windows(2) {
        flat[w[0] as usize..w[1] as usize].sort_unstable();
    }
}

/// Split text into the words the index holds: runs of letters and digits, lower case.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

impl Builder {
    pub fn new(facets: &[&str]) -> Builder {
        Builder {
            facets: facets.iter().map(|f| (f.to_string(), HashMap::new(), Vec::new())).collect(),
            flat_at: vec![0],
            ..Builder::default()
        }
    }

    pub fn add(&mut self, input: Input) {
        let index = self.entries.len() as u32;
        let mut values = Vec::new();
        for (f, vals) in input.facets.iter().enumerate().take(self.facets.len()) {
            let (_, ids, names) = &mut self.facets[f];
            for v in vals {
                let id = *ids.entry(v.clone()).or_insert_with(|| {
                    names.push(v.clone());
                    (names.len() - 1) as u16
                });
                values.push((f as u8, id));
            }
        }
        values.sort_unstable();
        values.dedup();
        self.flat.extend(values);
        self.flat_at.push(self.flat.len() as u32);
        let mut seen: Vec<String> =
            words(&input.description).chain(input.keywords.iter().flat_map(|k| words(k))).collect();
        seen.sort_unstable();
        seen.dedup();
        for w in seen {
            self.words.entry(w.into_boxed_str()).or_default().push(index);
        }
        self.names.push(&input.name);
        self.masks.push(char_mask(&input.name));
        self.entries.push(Entry {
            id: input.id,
            name: input.name,
            description: input.description,
            cells: input.cells,
            stars: input.stars,
            updated: input.updated,
        });
    }

    /// The catalogue; facet values in the order given by `order` (per facet: sort the values
    /// alphabetically unless the facet keeps the order they were first seen in).
    pub fn finish(self, keep_order: &[&str]) -> Catalogue {
        let mut facets = Vec::new();
        let mut maps: Vec<Vec<u16>> = Vec::new();
        for (name, _, values) in self.facets {
            let mut order: Vec<usize> = (0..values.len()).collect();
            if !keep_order.contains(&name.as_str()) {
                order.sort_by(|a, b| values[*a].to_lowercase().cmp(&values[*b].to_lowercase()));
            }
            let mut map = vec![0u16; values.len()];
            for (new, old) in order.iter().enumerate() {
                map[*old] = new as u16;
            }
            facets.push(Facet { name, values: order.iter().map(|i| values[*i].clone()).collect() });
            maps.push(map);
        }
        let (mut flat, flat_at) = (self.flat, self.flat_at);
        remap(&mut flat, &flat_at, |f, v| maps[f as usize][v as usize]);
        let entries = self.entries;
        let mut words: Vec<(Box<str>, Vec<u32>)> = self.words.into_iter().collect();
        words.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let (words, postings) = words.into_iter().map(|(w, p)| (w, p.into_boxed_slice())).unzip();
        let (ranks, by_rank) = orders(&entries);
        let name_len = entries.iter().map(|e| e.name.len().min(0xffff) as u16).collect();
        let mut catalogue = Catalogue {
            facets,
            entries,
            names: self.names,
            masks: self.masks,
            words,
            postings,
            ranks,
            by_rank,
            flat,
            flat_at,
            name_len,
            singles: Vec::new(),
        };
        let mut matcher = Matcher::new(config());
        catalogue.singles = SINGLES.chars().map(|c| catalogue.scan(&c.to_string(), None, &mut matcher)).collect();
        catalogue
    }
}

/// A matched entry and its score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub entry: u32,
    pub score: u32,
}

/// What a search shows: the entries in order and each facet value's count.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Results {
    /// The shown entries: the first `sorted` in order, the rest not yet (see `ensure_sorted`).
    pub rows: Vec<Hit>,
    /// Per facet, per value: how many entries that value would show.
    pub counts: Vec<Vec<u32>>,
    /// Entries the query matched before facets.
    pub matched: usize,
    sorted: usize,
    /// The sort keys of the rows after `sorted`, and the order their low half ranks in.
    tail: Vec<(u64, u32)>,
    rank: usize,
}

impl Results {
    /// Put every row up to `upto` in order (all of them, once the list scrolls past the first
    /// ones put in order).
    pub fn ensure_sorted(&mut self, catalogue: &Catalogue, upto: usize) {
        if upto < self.sorted || self.tail.is_empty() {
            return;
        }
        let mut tail = std::mem::take(&mut self.tail);
        if tail.len() >= PARALLEL_FROM {
            tail.par_sort_unstable();
        } else {
            tail.sort_unstable();
        }
        self.rows.truncate(self.sorted);
        self.rows.extend(tail.iter().map(|(k, score)| catalogue.hit_of(self.rank, *k, *score)));
        self.sorted = self.rows.len();
    }
}

/// One term of a query, ready to match.
struct Term {
    atom: Atom,
    mask: u64,
    /// Entries with a description or keyword word starting with the term, as a bit set.
    described: Vec<u64>,
}

/// Below this many candidates one thread scores them all.
const PARALLEL_FROM: usize = 8192;

/// A name match outranks any description match.
const NAME_BONUS: u32 = 1000;

impl Catalogue {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn facet_index(&self, name: &str) -> Option<usize> {
        self.facets.iter().position(|f| f.name.eq_ignore_ascii_case(name))
    }

    pub fn value_index(&self, facet: &str, value: &str) -> Option<(usize, usize)> {
        let f = self.facet_index(facet)?;
        let v = self.facets[f].values.iter().position(|x| x.eq_ignore_ascii_case(value))?;
        Some((f, v))
    }

    fn values_at(&self, entry: u32) -> &[(u8, u16)] {
        let i = entry as usize;
        &self.flat[self.flat_at[i] as usize..self.flat_at[i + 1] as usize]
    }

    /// Put a facet's values in this order (values not named keep their order, after these).
    pub fn reorder_values(&mut self, facet: usize, order: &[String]) {
        let Some(f) = self.facets.get_mut(facet) else { return };
        let mut new: Vec<usize> = order.iter().filter_map(|o| f.values.iter().position(|v| v == o)).collect();
        let rest: Vec<usize> = (0..f.values.len()).filter(|i| !new.contains(i)).collect();
        new.extend(rest);
        let mut map = vec![0u16; f.values.len()];
        for (to, from) in new.iter().enumerate() {
            map[*from] = to as u16;
        }
        f.values = new.iter().map(|i| f.values[*i].clone()).collect();
        remap(&mut self.flat, &self.flat_at, |ef, v| if ef as usize == facet { map[v as usize] } else { v });
    }

    /// The values of a facet that entry `entry` has.
    pub fn values_of(&self, entry: u32, facet: usize) -> impl Iterator<Item = &str> + '_ {
        self.values_at(entry).iter().filter(move |(f, _)| *f as usize == facet).filter_map(move |(_, v)| {
            self.facets.get(facet).and_then(|x| x.values.get(*v as usize)).map(String::as_str)
        })
    }

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
            let named = if self.masks[i] & t.mask == t.mask { t.atom.score(self.names.view(i), matcher) } else { None };
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
    fn scan(&self, query: &str, within: Option<&[Hit]>, matcher: &mut Matcher) -> Vec<Hit> {
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
            .map_init(
                || Matcher::new(config()),
                |m, part| {
                    part.iter()
                        .filter_map(|&e| Some(Hit { entry: e, score: self.score(e, &terms, m)? }))
                        .collect::<Vec<_>>()
                },
            )
            .flatten_iter()
            .collect()
    }

    /// Facets and sort over matched hits: the rows in order and the facet counts.
    pub fn arrange(&self, hits: &[Hit], selection: &Selection, sort: Sort, query_empty: bool) -> Results {
        let active = selection.active();
        let mut counts: Vec<Vec<u32>> = self.facets.iter().map(|f| vec![0; f.values.len()]).collect();
        let mut rows = Vec::with_capacity(hits.len());
        for h in hits {
            let values = self.values_at(h.entry);
            // How many picked facets the entry fails, and the last one.
            let (mut failing, mut failed) = (0, 0);
            for &f in &active {
                if !values.iter().any(|(ef, v)| *ef as usize == f && selection.is_picked(f, *v as usize)) {
                    failing += 1;
                    failed = f;
                }
            }
            match failing {
                0 => {
                    rows.push(*h);
                    for (f, v) in values {
                        counts[*f as usize][*v as usize] += 1;
                    }
                }
                1 => {
                    for (f, v) in values.iter().filter(|(f, _)| *f as usize == failed) {
                        counts[*f as usize][*v as usize] += 1;
                    }
                }
                _ => {}
            }
        }
        let (rows, sorted, tail, rank) = self.order(rows, sort, query_empty);
        Results { rows, counts, matched: hits.len(), sorted, tail, rank }
    }

    /// Facets over hits that keep the order they come in (a server-side search's ranking).
    pub fn arrange_in_order(&self, hits: &[Hit], selection: &Selection) -> Results {
        let mut r = self.arrange(hits, selection, Sort::Name, false);
        let shown: std::collections::HashSet<u32> = r.rows.iter().map(|h| h.entry).collect();
        r.rows = hits.iter().copied().filter(|h| shown.contains(&h.entry)).collect();
        r.sorted = r.rows.len();
        r.tail.clear();
        r
    }

    /// The entry a sort key ends with (its place in the `rank` order).
    fn hit_of(&self, rank: usize, key: u64, score: u32) -> Hit {
        Hit { entry: self.by_rank[rank][(key & 0xffff_ffff) as usize], score }
    }

    /// Order the rows by integer keys: relevance is the score (higher first), then the shorter
    /// name, then stars; the others are the catalogue's precomputed orders. Only the first
    /// `SORT_AHEAD` are put in order when there are many; the rest wait in `tail`.
    fn order(&self, rows: Vec<Hit>, sort: Sort, query_empty: bool) -> (Vec<Hit>, usize, Vec<(u64, u32)>, usize) {
        let rank = match sort {
            Sort::Name => BY_NAME,
            Sort::Updated => BY_UPDATED,
            Sort::Relevance | Sort::Stars => BY_STARS,
        };
        let relevance = sort == Sort::Relevance && !query_empty;
        let key = |h: &Hit| -> (u64, u32) {
            let place = self.ranks[rank][h.entry as usize] as u64;
            if relevance {
                let score = u64::from(u16::MAX) - u64::from(h.score.min(u32::from(u16::MAX)));
                let len = u64::from(self.name_len[h.entry as usize]);
                ((score << 48) | (len << 32) | place, h.score)
            } else {
                (place, h.score)
            }
        };
        let mut keys: Vec<(u64, u32)> = rows.iter().map(key).collect();
        let ahead = if keys.len() > 2 * SORT_AHEAD {
            keys.select_nth_unstable(SORT_AHEAD);
            keys[..SORT_AHEAD].sort_unstable();
            SORT_AHEAD
        } else {
            keys.sort_unstable();
            keys.len()
        };
        let tail = keys.split_off(ahead);
        let mut out: Vec<Hit> = keys.iter().map(|(k, s)| self.hit_of(rank, *k, *s)).collect();
        out.extend(tail.iter().map(|(k, s)| self.hit_of(rank, *k, *s)));
        (out, ahead, tail, rank)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, description: &str, keywords: &[&str], facets: &[&[&str]], stars: i64) -> Input {
        Input {
            id: name.into(),
            name: name.into(),
            description: description.into(),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            cells: vec![],
            facets: facets.iter().map(|f| f.iter().map(|v| v.to_string()).collect()).collect(),
            stars,
            updated: stars,
        }
    }

    fn catalogue() -> Catalogue {
        let mut b = Builder::new(&["category", "repository", "deprecated"]);
        b.add(input(
            "postgresql",
            "PostgreSQL is an object-relational database",
            &["database", "sql"],
            &[&["Database"], &["bitnami"], &["no"]],
            50,
        ));
        b.add(input(
            "postgresql-ha",
            "PostgreSQL with replication and Pgpool",
            &["database"],
            &[&["Database"], &["bitnami"], &["no"]],
            80,
        ));
        b.add(input(
            "redis",
            "In-memory data store",
            &["cache", "database"],
            &[&["Database"], &["bitnami"], &["no"]],
            99,
        ));
        b.add(input(
            "prometheus",
            "Monitoring system and time series database",
            &["monitoring"],
            &[&["Monitoring"], &["prometheus-community"], &["no"]],
            70,
        ));
        b.add(input(
            "kube-prometheus-stack",
            "Prometheus Operator, Grafana and rules",
            &["operator"],
            &[&["Monitoring"], &["prometheus-community"], &["no"]],
            60,
        ));
        b.add(input("old-postgres", "A deprecated chart", &[], &[&["Database"], &["legacy"], &["yes"]], 1));
        b.finish(&[])
    }

    fn names(c: &Catalogue, r: &Results) -> Vec<String> {
        r.rows.iter().map(|h| c.entries[h.entry as usize].name.clone()).collect()
    }

    #[test]
    fn the_exact_name_ranks_first_then_longer_names_then_description_matches() {
        let c = catalogue();
        let mut s = Searcher::default();
        let r = s.run(&c, "postgresql", &Selection::none(&c), Sort::Relevance);
        assert_eq!(names(&c, &r), ["postgresql", "postgresql-ha"]);
        let r = s.run(&c, "database", &Selection::none(&c), Sort::Relevance);
        // No name holds "database" in order; these match by a description or keyword word and
        // tie: the shorter name first, then the more starred.
        assert_eq!(names(&c, &r), ["redis", "prometheus", "postgresql", "postgresql-ha"]);
        let r = s.run(&c, "prom", &Selection::none(&c), Sort::Relevance);
        assert_eq!(names(&c, &r)[0], "prometheus", "a prefix outranks a match inside the name");
        assert_eq!(names(&c, &r)[1], "kube-prometheus-stack");
    }

    #[test]
    fn every_term_must_match_and_a_term_matches_fuzzily_or_by_word_prefix() {
        let c = catalogue();
        let mut s = Searcher::default();
        let r = s.run(&c, "pghq", &Selection::none(&c), Sort::Relevance);
        assert!(names(&c, &r).is_empty());
        let r = s.run(&c, "pgsqlha", &Selection::none(&c), Sort::Relevance);
        assert_eq!(names(&c, &r), ["postgresql-ha"], "fuzzy: the characters in order");
        let r = s.run(&c, "prom oper", &Selection::none(&c), Sort::Relevance);
        assert_eq!(names(&c, &r), ["kube-prometheus-stack"]);
        let r = s.run(&c, "PROM Grafana", &Selection::none(&c), Sort::Relevance);
        assert_eq!(names(&c, &r), ["kube-prometheus-stack"], "any case");
        let r = s.run(&c, "relat", &Selection::none(&c), Sort::Relevance);
        assert_eq!(names(&c, &r), ["postgresql"], "object-relational: words split at punctuation");
    }

    #[test]
    fn typing_on_narrows_and_deleting_widens_again() {
        let c = catalogue();
        let mut s = Searcher::default();
        let none = Selection::none(&c);
        let mut fresh = Searcher::default();
        for q in ["p", "po", "pos", "post", "postgresql", "postgres", "post", "p", "", "r", "re", "red"] {
            let mut typed = s.run(&c, q, &none, Sort::Relevance);
            let mut whole = fresh.run(&c, q, &none, Sort::Relevance);
            typed.ensure_sorted(&c, usize::MAX);
            whole.ensure_sorted(&c, usize::MAX);
            fresh.reset();
            assert_eq!(typed, whole, "query {q:?}");
        }
    }

    #[test]
    fn a_single_character_kept_at_load_matches_as_a_scan_does() {
        let c = catalogue();
        let mut m = Matcher::new(config());
        for ch in SINGLES.chars().chain("PQ".chars()) {
            let q = ch.to_string();
            let kept = c.matches(&q, None, &mut m);
            let scanned = c.scan(&q, None, &mut m);
            assert_eq!(kept, scanned, "{q:?}");
        }
        assert!(!c.matches("p", None, &mut m).is_empty());
        // Other characters and longer queries are scanned.
        assert_eq!(c.matches(" r ", None, &mut m), c.scan("r", None, &mut m));
        assert_eq!(c.matches("-", None, &mut m), c.scan("-", None, &mut m));
    }

    #[test]
    fn facets_combine_and_count_what_each_value_would_show() {
        let c = catalogue();
        let mut s = Searcher::default();
        let mut sel = Selection::none(&c);
        let r = s.run(&c, "", &sel, Sort::Name);
        assert_eq!(r.rows.len(), 6);
        let (cat, db) = c.value_index("category", "Database").unwrap_or_default();
        assert_eq!(r.counts[cat][db], 4);
        assert!(sel.pick(&c, "deprecated", "no"));
        let r = s.run(&c, "", &sel, Sort::Name);
        assert_eq!(names(&c, &r), ["kube-prometheus-stack", "postgresql", "postgresql-ha", "prometheus", "redis"]);
        let (dep, yes) = c.value_index("deprecated", "yes").unwrap_or_default();
        assert_eq!(r.counts[dep][yes], 1, "picking yes too would show the deprecated one");
        assert_eq!(r.counts[cat][db], 3, "the deprecated database is hidden");
        assert!(sel.pick(&c, "category", "Database"));
        assert!(sel.pick(&c, "category", "Monitoring"));
        assert!(sel.pick(&c, "repository", "prometheus-community"));
        let r = s.run(&c, "", &sel, Sort::Name);
        assert_eq!(names(&c, &r), ["kube-prometheus-stack", "prometheus"], "OR inside a facet, AND across facets");
        let (repo, bitnami) = c.value_index("repository", "bitnami").unwrap_or_default();
        assert_eq!(r.counts[repo][bitnami], 3);
        let r = s.run(&c, "prom oper", &sel, Sort::Name);
        assert_eq!(names(&c, &r), ["kube-prometheus-stack"]);
        assert_eq!(r.matched, 1);
        assert!(!sel.pick(&c, "category", "Cooking"));
        assert_eq!(
            sel.describe(&c),
            ["category=Database", "category=Monitoring", "repository=prometheus-community", "deprecated=no"]
        );
    }

    #[test]
    fn sorts_by_stars_name_and_update() {
        let c = catalogue();
        let mut s = Searcher::default();
        let none = Selection::none(&c);
        assert_eq!(names(&c, &s.run(&c, "", &none, Sort::Relevance))[0], "redis", "no query: most stars first");
        // kube-prometheus-stack holds p, o, s, t in order.
        assert_eq!(
            names(&c, &s.run(&c, "post", &none, Sort::Stars)),
            ["postgresql-ha", "kube-prometheus-stack", "postgresql", "old-postgres"]
        );
        assert_eq!(
            names(&c, &s.run(&c, "post", &none, Sort::Name)),
            ["kube-prometheus-stack", "old-postgres", "postgresql", "postgresql-ha"]
        );
        assert_eq!(names(&c, &s.run(&c, "post", &none, Sort::Updated))[3], "old-postgres");
        assert_eq!(Sort::Updated.next(), Sort::Relevance);
    }

    #[test]
    fn highlights_mark_the_matched_name_characters_and_description_words() {
        let c = catalogue();
        let mut s = Searcher::default();
        let (name, desc) = s.highlights(&c, 1, "pgha");
        assert_eq!(name, [0, 4, 11, 12], "p, g of postgresql, h, a");
        assert!(desc.is_empty());
        let (name, desc) = s.highlights(&c, 3, "series");
        assert!(name.is_empty());
        let d = &c.entries[3].description;
        assert_eq!(desc.iter().map(|(a, b)| &d[*a..*b]).collect::<Vec<_>>(), ["series"]);
        let (_, desc) = s.highlights(&c, 4, "prom GRAF");
        assert_eq!(desc.iter().map(|(a, b)| &c.entries[4].description[*a..*b]).collect::<Vec<_>>(), ["Graf"]);
    }

    #[test]
    fn unicode_names_and_empty_catalogues_are_fine() {
        let mut b = Builder::new(&[]);
        b.add(input("Überwachung", "Prüfung", &[], &[], 0));
        let c = b.finish(&[]);
        let mut s = Searcher::default();
        assert_eq!(s.run(&c, "uber", &Selection::none(&c), Sort::Relevance).rows.len(), 1);
        assert_eq!(s.run(&c, "prüf", &Selection::none(&c), Sort::Relevance).rows.len(), 1);
        let empty = Builder::new(&["x"]).finish(&[]);
        assert!(s.run(&empty, "a", &Selection::none(&empty), Sort::Name).rows.is_empty());
    }
}

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

mod arrange;
mod build;
mod lines;
mod search;
#[cfg(test)]
mod tests;

pub use self::arrange::{Results, Selection, Sort};
use self::build::remap;
pub use self::build::{words, Builder};
pub use self::lines::{char_mask, Lines, Ranked, PARALLEL_FROM};
pub use self::search::{config, Searcher};

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

/// A catalogue held in memory, with the index its search reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    pub facets: Vec<Facet>,
    pub entries: Vec<Entry>,
    /// The names, with the character classes each holds.
    names: Lines,
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

/// A matched entry and its score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub entry: u32,
    pub score: u32,
}

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
}

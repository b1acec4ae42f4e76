//! Building a catalogue entry by entry: its names laid out for matching, the inverted index of
//! description and keyword words, the facet values and the three orders.

use std::collections::HashMap;

use nucleo_matcher::Matcher;

use super::search::config;
use super::{Catalogue, Entry, Facet, Input, Lines, SINGLES};

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
    names: Lines,
    words: HashMap<Box<str>, Vec<u32>>,
    flat: Vec<(u8, u16)>,
    flat_at: Vec<u32>,
}

/// Map each entry's (facet, value) pairs through `map`, keeping each entry's pairs sorted.
pub(super) fn remap(flat: &mut [(u8, u16)], at: &[u32], map: impl Fn(u8, u16) -> u16) {
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

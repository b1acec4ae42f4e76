//! Facets and sort over a search's matches: what is picked, the counts beside each value, and
//! the rows in order (only the first `SORT_AHEAD` at once).

use rayon::prelude::*;

use super::{Catalogue, Hit, BY_NAME, BY_STARS, BY_UPDATED, PARALLEL_FROM, SORT_AHEAD};

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

impl Catalogue {
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
}

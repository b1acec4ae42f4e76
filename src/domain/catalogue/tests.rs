//! The catalogue's search, facets and sort on a small hand-made catalogue.

use nucleo_matcher::Matcher;

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
    b.add(input("redis", "In-memory data store", &["cache", "database"], &[&["Database"], &["bitnami"], &["no"]], 99));
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
    // Normalisation matches "u" to "û" and "e" to "é": a name whose only u and e are accented
    // must not be skipped by the character-class test before the matcher sees it.
    let mut b = Builder::new(&[]);
    b.add(input("Brûlé", "dessert", &[], &[], 0));
    let c = b.finish(&[]);
    assert_eq!(s.run(&c, "brule", &Selection::none(&c), Sort::Relevance).rows.len(), 1);
    let empty = Builder::new(&["x"]).finish(&[]);
    assert!(s.run(&empty, "a", &Selection::none(&empty), Sort::Name).rows.is_empty());
}

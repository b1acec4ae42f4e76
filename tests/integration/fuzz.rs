//! Input (issue 10): every form validator, the YAML, Margo, Helm index and instance parsers, the
//! filter and the `:` command parser take any input without panicking; and what is typed to
//! filter or search is plain text to the database: quotes, `%`, `_`, backslashes and SQL words
//! match themselves and nothing else.

use std::collections::HashMap;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fleetdeck::domain::filter::{self, Filter};
use fleetdeck::domain::{broker, deploy, execution, fit, rollout, text};
use fleetdeck::import::{helm_index, instances, margo};
use fleetdeck::service::listing::{self, Entity, PageAt, Query};
use fleetdeck::service::marketplace;
use fleetdeck::testing::TestDb;
use fleetdeck::ui::app::App;
use fleetdeck::ui::keymap::Keymap;
use fleetdeck::ui::theme::Theme;
use proptest::prelude::*;

/// Pieces of YAML (and of the things people paste), so that generated text gets past the first
/// character of a parser: keys, lists, flow collections, anchors and aliases, tags, block
/// scalars, documents, odd numbers, controls.
fn yamlish() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "a",
        "b: ",
        "key: value\n",
        "- ",
        "  ",
        "\n",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "'",
        "\"",
        "&x ",
        "*x",
        "!!str ",
        "!!binary ",
        "!tag ",
        "---\n",
        "...\n",
        "# c\n",
        "|\n",
        ">-\n",
        "-1",
        "0x1F",
        "1e999",
        ".nan",
        "~",
        "null",
        "true",
        "apiVersion: v1\n",
        "kind: Deployment\n",
        "metadata:\n",
        "  name: x\n",
        "spec:\n",
        "entries:\n",
        "  nginx:\n",
        "  - version: 1.0.0\n",
        "    urls: [http://x]\n",
        "deploymentProfiles:\n",
        "components:\n",
        "\t",
        "\u{0}",
        "é",
        "\u{202e}",
        "? ",
        "<<: *x\n",
        "%YAML 1.2\n",
        "\r\n",
        "\\",
        "%",
        "_",
    ]);
    prop::collection::vec(tokens, 0..80).prop_map(|v| v.concat())
}

/// What a hostile or clumsy person types into a filter, a search or a form.
fn typed() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "%",
        "_",
        "\\",
        "'",
        "\"",
        ";",
        "--",
        "/*",
        "*/",
        " DROP TABLE edge.host",
        "SELECT",
        " OR 1=1",
        "=",
        "!",
        "-l ",
        " ",
        "a",
        "B",
        "é",
        "ß",
        "İ",
        "\u{1b}[2J",
        "k=v",
        "status=",
        "agent=%",
        "since=",
        "health=",
        "x",
        "$1",
        "::text",
        "\u{0}",
        "\u{202e}",
        "日本",
        "\t",
    ]);
    prop::collection::vec(tokens, 0..16).prop_map(|v| v.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), yamlish(), typed()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The validators behind every form: the deploy forms (Helm and Margo), the new stack form
    /// (name, description, labels, annotations), the label and annotation editors, the
    /// quantities of the fit check, the field filters and the `since=` durations.
    #[test]
    fn form_validators_take_any_input(s in any_text(), t in any_text()) {
        let _ = deploy::check_name("release", &s, 53);
        let name = deploy::to_name(&s, 53);
        prop_assert!(name.chars().count() <= 53);
        let _ = deploy::parse_values(&s);
        let _ = deploy::parse_parameters(&s, &["app".to_string(), t.clone()]);
        let helm = deploy::HelmDeploy {
            chart: s.clone(),
            repository: t.clone(),
            repository_url: s.clone(),
            version: t.clone(),
            release: s.clone(),
            namespace: t.clone(),
            values: s.clone(),
        };
        let _ = helm.yaml();
        let margo = deploy::MargoDeploy {
            app_id: s.clone(),
            profile_id: t.clone(),
            profile_type: s.clone(),
            components: vec![deploy::Component { name: t.clone(), properties: serde_json::json!({ "repository": s }) }],
            site: t.clone(),
            namespace: s.clone(),
            parameters: t.clone(),
            id: uuid::Uuid::nil(),
        };
        let _ = margo.name();
        let _ = margo.yaml();
        let _ = broker::check_label(&s);
        let _ = broker::check_annotation_part("key", &s);
        let _ = broker::parse_labels(&s);
        let _ = broker::parse_annotations(&s);
        let _ = broker::StackDraft { name: s.clone(), description: t.clone(), labels: s.clone(), annotations: t.clone() }.check();
        let _ = fit::quantity(&s);
        let _ = listing::since_seconds(&s);
        for entity in Entity::ALL {
            let _ = listing::check_fields(entity, &[(s.clone(), t.clone())]);
        }
    }

    /// The YAML of a deployment object, a Margo description, a Helm repository index, an
    /// instance price list, execution logs: errors, never a panic.
    #[test]
    fn parsers_take_any_input(s in any_text()) {
        let _ = rollout::check_yaml(&s);
        let _ = rollout::diff(&s, "apiVersion: v1\n");
        let _ = margo::parse(Path::new("app.yaml"), &s);
        let repo = helm_index::Repository { name: "repo".into(), url: Some("https://charts.example".into()) };
        let _ = helm_index::parse(Path::new("index.yaml"), &s, &repo, &HashMap::new());
        let _ = instances::parse(Path::new("instances.jsonl"), &s);
        let _ = execution::parse_logs(Some(&serde_json::Value::String(s.clone())));
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&s) {
            let _ = execution::parse_logs(Some(&v));
        }
        let _ = Theme::parse("fuzzed", &s);
    }

    /// The `/` filter and the server search's pattern; the sanitiser keeps its promise.
    #[test]
    fn the_filter_and_the_sanitiser_take_any_input(s in any_text(), t in any_text(), max in 1usize..120) {
        if let Ok(f) = Filter::parse(&s) {
            let _ = f.matches(&t);
        }
        let _ = filter::fuzzy_indices(&t, &s);
        let pattern = filter::subsequence_pattern(&s);
        prop_assert!(pattern.starts_with('%') && pattern.ends_with('%'));
        let like = fleetdeck::service::market_search::like_pattern(&s);
        prop_assert_eq!(like.matches('%').count() - 2, s.matches('%').count());
        let _ = marketplace::Kind::parse(&s);
        let clean = text::sanitize_cell(&s, max);
        prop_assert!(clean.chars().count() <= max);
        prop_assert!(!clean.chars().any(text::is_neutralised), "{:?}", clean);
        for line in text::sanitize_lines(&s, max) {
            prop_assert!(!line.chars().any(text::is_neutralised));
        }
    }
}

fn app() -> App {
    App::new(Theme::built_in("default").unwrap(), Keymap::defaults(), "fuzz".into())
}

fn keys(app: &mut App, text: &str) {
    for c in text.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\u{1b}' => KeyCode::Esc,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The `:` command line and the `/` prompt on every tab, as typed, then drawn.
    #[test]
    fn the_command_line_and_the_filter_prompt_take_any_input(s in any_text(), tab in 1u8..5) {
        let mut app = app();
        keys(&mut app, &format!("{tab}"));
        keys(&mut app, &format!(":{}\n", s.replace('\n', " ")));
        keys(&mut app, &format!("/{}\n", s.replace('\n', " ")));
        let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
        terminal.draw(|f| app.draw(f)).unwrap();
        keys(&mut app, "\u{1b}:exec ");
        keys(&mut app, &s.replace('\n', " "));
        keys(&mut app, "\n");
        terminal.draw(|f| app.draw(f)).unwrap();
    }
}

/// YAML whose aliases expand a billion times: refused or bounded, not a hang or an exhausted
/// memory.
#[test]
fn an_alias_bomb_is_refused() {
    let mut bomb = String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
        let prev = if i == 0 { "a".to_string() } else { ["b", "c", "d", "e", "f", "g", "h"][i - 1].to_string() };
        bomb.push_str(&format!(
            "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    assert!(rollout::check_yaml(&bomb).is_err());
    assert!(margo::parse(Path::new("bomb.yaml"), &bomb).is_err());
    assert!(deploy::parse_values(&bomb).is_err());
    let repo = helm_index::Repository { name: "repo".into(), url: None };
    let index = format!("apiVersion: v1\n{bomb}entries:\n  nginx: *i\n");
    assert!(helm_index::parse(Path::new("index.yaml"), &index, &repo, &HashMap::new()).is_err());
}

/// Does `name` hold the characters of `query` in order, ignoring case (the `/` filter)?
fn subsequence(name: &str, query: &str) -> bool {
    let mut chars = name.to_lowercase().chars().collect::<Vec<_>>().into_iter();
    query.to_lowercase().chars().all(|q| chars.any(|c| c == q))
}

/// Hosts named with every string of up to three of `a % _ \ ' "` (and two SQL sentences): a
/// filter typed from the same characters finds exactly the hosts whose names hold it as text,
/// read by the database alone and narrowed by the names held in memory. Field filters and the
/// server search take such text literally too.
#[test]
fn filters_and_searches_treat_quotes_wildcards_and_sql_as_plain_text() {
    use fleetdeck::service::names::Names;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let db = rt.block_on(TestDb::new());
    let alphabet = ['a', '%', '_', '\\', '\'', '"'];
    let mut names: Vec<String> =
        vec!["x'; DROP TABLE edge.host; --".into(), "SELECT * FROM platform.users WHERE '1'='1'".into()];
    for a in alphabet {
        names.push(a.to_string());
        for b in alphabet {
            names.push(format!("{a}{b}"));
            for c in alphabet {
                names.push(format!("{a}{b}{c}"));
            }
        }
    }
    rt.block_on(async {
        let site: uuid::Uuid = sqlx::query_scalar("INSERT INTO edge.site (site_id) VALUES ('s1') RETURNING id")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO edge.host (host_id, site_id, hostname, status) \
             SELECT 'h' || n, $1, name, 'Active' FROM unnest($2::text[]) WITH ORDINALITY AS t(name, n)",
        )
        .bind(site)
        .bind(&names)
        .execute(&db.pool)
        .await
        .unwrap();
    });
    let memory = rt.block_on(Names::load(&db.pool, Entity::Hosts)).unwrap().expect("hosts keep their names");

    let query = (
        prop::sample::select(vec!["", "=", "!"]),
        prop::collection::vec(prop::sample::select(alphabet.to_vec()), 1..4),
    )
        .prop_map(|(prefix, chars)| format!("{prefix}{}", chars.into_iter().collect::<String>()));
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 96, ..ProptestConfig::default() });
    runner
        .run(&query, |typed| {
            let filter = Filter::parse(&typed).unwrap();
            let expected: Vec<&String> = names
                .iter()
                .filter(|n| match &filter {
                    Filter::Fuzzy(q) => subsequence(n, q),
                    Filter::Invert(q) => !subsequence(n, q),
                    Filter::Exact(q) => n.contains(q.as_str()),
                    other => panic!("{other:?}"),
                })
                .collect();
            let q = Query { filter: filter.clone(), ..Query::new(Entity::Hosts) };
            let narrowed = memory.narrow(&filter);
            let (plain, within) = rt.block_on(async {
                let plain = listing::page(&db.pool, Entity::Hosts, &q, &PageAt::First, 1_000).await.unwrap();
                let within =
                    listing::page_within(&db.pool, Entity::Hosts, &q, &PageAt::First, 1_000, narrowed.as_ref())
                        .await
                        .unwrap();
                (plain, within)
            });
            let mut got: Vec<&String> = plain.rows.iter().map(|r| &r.cells[0]).collect();
            let mut want = expected.clone();
            got.sort();
            want.sort();
            prop_assert_eq!(&got, &want, "{:?}", typed);
            prop_assert_eq!(plain.total as usize, want.len());
            prop_assert_eq!(&within.rows, &plain.rows, "{:?} in memory", typed);
            Ok(())
        })
        .unwrap();

    rt.block_on(async {
        // The table the hostile name names is still there, with every host.
        let hosts: i64 = sqlx::query_scalar("SELECT count(*) FROM edge.host").fetch_one(&db.pool).await.unwrap();
        assert_eq!(hosts as usize, names.len());
        // A field filter: `:exec agent=%` is the text %, not "anything"; `agent=_` likewise.
        let owner = crate::fixtures::user(&db.pool, "owner@fuzz.example").await;
        for name in ["fdx-a%b", "fdx-a_b", "fdx-axb"] {
            let agent = crate::fixtures::agent(&db.pool, name, "user", owner).await;
            let wf = crate::fixtures::workflow(&db.pool, agent).await;
            crate::fixtures::execution(&db.pool, wf, agent, "running").await;
        }
        for (value, total) in [("%", 1), ("_", 1), ("a%b", 1), ("\\", 0), ("'", 0), ("fdx", 3)] {
            let fields = vec![("agent".to_string(), value.to_string())];
            listing::check_fields(Entity::Executions, &fields).unwrap();
            let q = Query { fields, ..Query::new(Entity::Executions) };
            let page = listing::page(&db.pool, Entity::Executions, &q, &PageAt::First, 10).await.unwrap();
            assert_eq!(page.total, total, "agent={value}");
        }
        // The server search: an instance named a_b is found by `a_b`, axb is not; and the same
        // for %, \ and quotes.
        for (name, decoy) in [("fdx a_b", "fdx axb"), ("fdx 100%", "fdx 1000"), ("fdx back\\slash", "fdx backslash"), ("fdx o'brien \"x\"", "fdx obrien x")] {
            sqlx::query("INSERT INTO cloud.instances (name, instance_type, provider, cpu_cores, memory_gb, price_hourly) VALUES ($1, 't', 'p', 1, 1, 1), ($2, 't', 'p', 1, 1, 1)")
                .bind(name)
                .bind(decoy)
                .execute(&db.pool)
                .await
                .unwrap();
            let s = fleetdeck::service::Services::new(db.pool.clone(), fleetdeck::service::Actor::operator());
            let text = name.trim_start_matches("fdx ");
            let found = fleetdeck::service::market_search::search(&s, marketplace::Kind::Instances, text).await.unwrap();
            let ids: Vec<String> = sqlx::query_scalar("SELECT id::text FROM cloud.instances WHERE name = $1").bind(name).fetch_all(&db.pool).await.unwrap();
            assert_eq!(found, ids, "{text}");
        }
    });
}

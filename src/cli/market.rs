//! `fleetdeck market …`: the marketplace's search for scripts, on the same catalogue and ranking
//! as the Marketplace pane.

use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use color_eyre::eyre::Result;

use super::exec::{code_of, emit, fail, Output};
use super::with_services;
use crate::config::Settings;
use crate::domain::catalogue::{Searcher, Sort};
use crate::service::marketplace::{self, Kind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Packages,
    Apps,
    Solutions,
    Agents,
    Instances,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Kind {
        match k {
            KindArg::Packages => Kind::Packages,
            KindArg::Apps => Kind::Apps,
            KindArg::Solutions => Kind::Solutions,
            KindArg::Agents => Kind::Agents,
            KindArg::Instances => Kind::Instances,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    Relevance,
    Stars,
    Name,
    Updated,
}

#[derive(Debug, Subcommand)]
pub enum MarketCommand {
    /// Find entries as the pane does: every word of QUERY must match a name fuzzily or a word of
    /// the description or keywords; best first. Deprecated packages are left out unless asked.
    Search {
        query: String,
        #[arg(long, value_enum, default_value = "packages")]
        kind: KindArg,
        /// Search every field on the server instead, READMEs and long descriptions included
        #[arg(long)]
        everywhere: bool,
        /// A facet value to keep, as FACET=VALUE (repeatable; several values of one facet: any)
        #[arg(long, value_name = "FACET=VALUE")]
        facet: Vec<String>,
        /// Include deprecated packages
        #[arg(long)]
        deprecated: bool,
        #[arg(long, value_enum, default_value = "relevance")]
        sort: SortArg,
        /// At most this many entries
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, value_enum, default_value = "table")]
        output: Output,
    },
}

pub async fn run(settings: &Settings, cmd: MarketCommand) -> Result<ExitCode> {
    let MarketCommand::Search { query, kind, everywhere, facet, deprecated, sort, limit, output } = cmd;
    let kind = Kind::from(kind);
    let mut picks = Vec::new();
    for f in &facet {
        match f.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                picks.push((k.trim().to_string(), v.trim().to_string()))
            }
            _ => {
                return Ok(fail(
                    super::exec::INVALID,
                    format!("--facet {f:?}: write it as FACET=VALUE, e.g. category=Database"),
                ))
            }
        }
    }
    if everywhere && query.trim().is_empty() {
        return Ok(fail(super::exec::INVALID, "QUERY: --everywhere needs something to search for"));
    }
    let sort = match sort {
        SortArg::Relevance => Sort::Relevance,
        SortArg::Stars => Sort::Stars,
        SortArg::Name => Sort::Name,
        SortArg::Updated => Sort::Updated,
    };
    with_services(settings, true, |services| async move {
        let catalogue = match marketplace::catalogue(&services, kind).await {
            Ok(c) => c,
            Err(e) => return Ok(fail(code_of(&e), e)),
        };
        let selection = match marketplace::selection_of(kind, &catalogue, &picks, !deprecated) {
            Ok(s) => s,
            Err(e) => return Ok(fail(super::exec::INVALID, format!("--facet: {e}"))),
        };
        let hits = if everywhere {
            let ids = match crate::service::market_search::search(&services, kind, &query).await {
                Ok(ids) => ids,
                Err(e) => return Ok(fail(code_of(&e), e)),
            };
            // The server's order, facets applied.
            catalogue.arrange_in_order(&marketplace::hits_of(&catalogue, &ids), &selection).rows
        } else {
            let mut results = Searcher::default().run(&catalogue, &query, &selection, sort);
            results.ensure_sorted(&catalogue, limit);
            results.rows
        };
        let total = hits.len();
        let found = marketplace::found(kind, &catalogue, hits.into_iter().take(limit));
        if output == Output::Json {
            emit(&format!("{}\n", serde_json::to_string_pretty(&found)?));
        } else {
            let mut rows = vec![std::iter::once("NAME")
                .chain(kind.columns().iter().copied())
                .chain(std::iter::once("DESCRIPTION"))
                .map(String::from)
                .collect::<Vec<_>>()];
            for f in &found {
                let mut row = vec![f.name.clone()];
                row.extend(f.cells.iter().cloned());
                row.push(crate::domain::text::sanitize_cell(&f.description, 80));
                rows.push(row);
            }
            emit(&super::rollout::table(&rows));
            crate::errln!("{} of {total} {}", found.len(), kind.title().to_lowercase());
        }
        if total == 0 && !everywhere {
            let hidden = marketplace::hidden_by_defaults(kind, &catalogue, &query, &selection);
            if hidden > 0 {
                crate::errln!(
                    "{hidden} match but are hidden because they are deprecated: add --deprecated to see them"
                );
            }
        }
        Ok(if total == 0 { ExitCode::from(super::exit::NO_MATCH) } else { ExitCode::SUCCESS })
    })
    .await
}

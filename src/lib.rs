//! fleetdeck: a terminal dashboard to watch and steer an orchestration platform whose state
//! lives in PostgreSQL.
//!
//! Layers, arrows pointing down only: `cli` → `ui` → `service` → `domain`; `db` below `service`.

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod import;
pub mod logging;
pub mod paths;
pub mod service;
pub mod sim;
pub mod state;
#[doc(hidden)]
pub mod testing;
pub mod ui;

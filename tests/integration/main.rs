//! Integration tests on a real PostgreSQL. One binary, so one throwaway server serves the whole
//! run; every test gets its own freshly migrated database (see fleetdeck::testing).

mod archive;
mod audit;
mod broker;
mod chaos;
mod cli;
mod cloud_ergon;
mod counts;
mod demo;
mod deploy;
mod embedded;
mod first_hour;
mod fixtures;
mod fleet;
mod fuzz;
mod hardware;
mod house;
mod imports;
mod json;
mod listing;
mod load;
mod migrations;
mod notify;
mod platform;
mod pooler;
mod pty;
mod reach;
mod replica;
mod rollouts;
mod security;
mod shell;
mod sim;
mod ui;

//! Plain types and rules. No IO: no SQL, no terminal.

pub mod archive;
pub mod broker;
pub mod catalogue;
pub mod cloud;
pub mod deploy;
pub mod execution;
pub mod filter;
pub mod fit;
pub mod health;
pub mod marketplace;
pub mod rollout;
pub mod text;

//! Plain types and rules. No IO: no SQL, no terminal.

pub mod cloud;
pub mod execution;
pub mod marketplace;

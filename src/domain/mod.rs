//! Plain types and rules. No IO: no SQL, no terminal.

pub mod execution;

//! Widgets the panes share.

pub mod form;
pub mod table;

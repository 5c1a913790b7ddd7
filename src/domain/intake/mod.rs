//! Lead intake rules: the CSV contract's columns, reading a file safely, turning one raw
//! row into a valid lead or the list of *every* problem in it, and the pseudo-lead
//! checks. Everything here is pure; the pipeline in `services::intake` adds the database.

pub mod csv_file;
pub mod header;
pub mod pseudo;
pub mod row;

pub use header::{Column, Header};
pub use row::{IntakeContext, Problem, ValidLead, parse_row};

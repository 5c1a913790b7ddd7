//! Lead intake rules: a batch's terms, the CSV contract's columns, reading a file safely,
//! turning one raw row into a valid lead or the list of *every* problem in it, the
//! pseudo-lead checks and the decision over looked-up dedup keys. Everything here is
//! pure; the pipeline in `services::intake` adds the database.

pub mod csv_file;
pub mod decision;
pub mod header;
pub mod pseudo;
pub mod row;
pub mod terms;

pub use header::{Column, Header};
pub use row::{IntakeContext, Problem, ValidLead, parse_row};

/// Intake tuning, from configuration.
#[derive(Debug, Clone)]
pub struct IntakeSettings {
    pub dedup_days: i64,
    pub max_capture_age_days: i64,
    pub thresholds: pseudo::Thresholds,
    /// More leads than this from one IP address within `ip_burst_minutes` are flagged.
    pub ip_burst_max: usize,
    pub ip_burst_minutes: i64,
    pub chunk_rows: usize,
    /// Rows per write transaction of a file (a whole number of chunks): each commit
    /// rewrites every index page the transaction touched, and the hash-keyed indexes
    /// are touched all over, so fewer, larger commits write far less.
    pub commit_rows: usize,
    /// SQLite page cache of the intake writer's connection, in KiB, while a file runs:
    /// a large transaction's dirty pages must fit, or SQLite spills them to the WAL
    /// early and writes them again.
    pub sqlite_cache_kib: i64,
}

impl Default for IntakeSettings {
    fn default() -> Self {
        Self {
            dedup_days: 30,
            max_capture_age_days: 90,
            thresholds: pseudo::Thresholds::default(),
            ip_burst_max: 5,
            ip_burst_minutes: 10,
            chunk_rows: 5000,
            commit_rows: 20_000,
            sqlite_cache_kib: 65_536,
        }
    }
}

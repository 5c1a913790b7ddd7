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
    /// The platform's share of a targeted lead's sale to its order's buyer, which intake
    /// makes as it accepts the row (basis points, as `Config::commission_bp`).
    pub commission_bp: i64,
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
            commission_bp: 2000,
        }
    }
}

// The stored statuses below; `text_enum!` needs these names in scope.
use super::org::text_enum;
use std::fmt;
use std::str::FromStr;

/// Where a batch's run stands (`batches.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchStatus {
    Processing,
    Done,
    Failed,
}
text_enum!(BatchStatus { Processing => "processing", Done => "done", Failed => "failed" });

/// Why a row of a batch did not become a lead (`batch_rejects.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectOutcome {
    /// The row had problems (listed in the reject's reasons).
    Rejected,
    /// The person is already in the marketplace.
    Duplicate,
    /// The person asked not to be contacted.
    Suppressed,
}
text_enum!(RejectOutcome {
    Rejected => "rejected",
    Duplicate => "duplicate",
    Suppressed => "suppressed",
});

/// Which contact key a suppression blocks (`suppressions.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuppressionKind {
    Phone,
    Email,
}
text_enum!(SuppressionKind { Phone => "phone", Email => "email" });

#[cfg(test)]
mod status_tests {
    use super::*;
    use crate::domain::org::assert_text_enum;

    #[test]
    fn batch_statuses_reject_outcomes_and_suppression_kinds_are_their_stored_text() {
        assert_text_enum(BatchStatus::ALL, BatchStatus::as_str);
        assert_text_enum(RejectOutcome::ALL, RejectOutcome::as_str);
        assert_text_enum(SuppressionKind::ALL, SuppressionKind::as_str);
    }
}

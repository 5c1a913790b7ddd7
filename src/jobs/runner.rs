//! One batch run, shared by the intake worker and `leadmarket import`: the lease, the
//! file through intake with the lease renewed after each chunk, and the batch marked
//! failed when the run cannot go on.

use std::io::Read;

use diesel::QueryResult;

use super::LEASE;
use crate::db::AnyConnection;
use crate::error::AppError;
use crate::services::intake::{self, IntakeSettings, RunError};
use crate::store;
use crate::store::batches::{BatchRow, ChunkCounts};

/// A batch this worker holds the lease of.
pub struct Lease<'a> {
    batch: &'a BatchRow,
    worker: &'a str,
    /// Offer each commit's accepted leads to standing orders at this commission.
    allocate_bp: Option<i64>,
}

impl<'a> Lease<'a> {
    /// A lease taken already (the intake worker's come from `claim_next`).
    pub fn held(batch: &'a BatchRow, worker: &'a str) -> Self {
        Self {
            batch,
            worker,
            allocate_bp: None,
        }
    }

    /// Each committed chunk's accepted leads go to the standing orders.
    pub fn allocating(mut self, commission_bp: i64) -> Self {
        self.allocate_bp = Some(commission_bp);
        self
    }

    /// Takes the lease of a batch this process has just stored (an import).
    pub fn take(
        conn: &mut AnyConnection,
        batch: &'a BatchRow,
        worker: &'a str,
    ) -> QueryResult<Self> {
        store::batches::hold(conn, &batch.id, worker, LEASE)?;
        Ok(Self::held(batch, worker))
    }

    /// Runs (or resumes) the batch's file to its end, renewing the lease after each
    /// commit; `on_chunk` sees each commit's counts first. Stops with
    /// [`RunError::LeaseLost`] once another worker holds the batch.
    pub fn run<R: Read + Send>(
        &self,
        conn: &mut AnyConnection,
        settings: &IntakeSettings,
        source: R,
        mut on_chunk: impl FnMut(ChunkCounts),
    ) -> Result<ChunkCounts, RunError> {
        intake::run_file_allocating(
            conn,
            settings,
            self.batch,
            source,
            self.allocate_bp,
            |conn, counts| {
                on_chunk(counts);
                Ok(store::batches::renew_lease(
                    conn,
                    &self.batch.id,
                    self.worker,
                    LEASE,
                )?)
            },
        )
    }
}

/// What a batch is marked failed with after `error`: the file's own reason, or `ours`
/// for a failure on our side; `None` when another worker took over (it carries on).
pub fn failure_reason<'e>(error: &'e RunError, ours: &'e str) -> Option<&'e str> {
    match error {
        RunError::Unusable(reason) => Some(reason),
        RunError::App(_) => Some(ours),
        RunError::LeaseLost => None,
    }
}

/// Marks a batch failed with `reason` and drops its stored file (if it has one).
pub fn fail(conn: &mut AnyConnection, batch_id: &str, reason: &str) -> Result<(), AppError> {
    store::batches::fail(conn, batch_id, reason)?;
    store::intake::delete_file(conn, batch_id)?;
    Ok(())
}

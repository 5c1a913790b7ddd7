//! Background work run by every `serve` process: batch intake, mail, deliveries, the
//! funnel's rollup. Work is claimed through the database with a lease, so several
//! processes share it and a batch whose process
//! died is resumed by another once its lease runs out.

use std::io::Read;
use std::time::Duration;

use chrono::TimeDelta;

use crate::app::AppState;
use crate::db::Pool;
use crate::error::AppError;
use crate::services::intake::{IntakeSettings, RunError};
use crate::store;
use crate::store::batches::BatchRow;

pub mod deliveries;
pub mod runner;

/// How long a claim lasts without renewal; renewed after every chunk.
pub const LEASE: TimeDelta = TimeDelta::seconds(120);

/// The background tasks of one process, stopped together.
#[derive(Clone)]
pub struct JobsHandle(Vec<tokio::task::AbortHandle>);

impl JobsHandle {
    pub fn abort(&self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

/// Starts the intake worker (with daily repricing and maintenance) and the mail worker.
pub fn spawn(state: AppState) -> JobsHandle {
    let mail = tokio::spawn(mail_worker(state.clone())).abort_handle();
    let deliveries = tokio::spawn(deliveries::worker(state.clone())).abort_handle();
    let settings = tokio::spawn(settings_watcher(state.clone())).abort_handle();
    let funnel = tokio::spawn(funnel_worker(state.clone())).abort_handle();
    let intake = tokio::spawn(intake_worker(state)).abort_handle();
    JobsHandle(vec![mail, deliveries, settings, funnel, intake])
}

/// Keeps the funnel's rollup up to date; on its own task so a long import never holds
/// it up. One process at a time does the work (a lease); the others find it taken.
async fn funnel_worker(state: AppState) {
    let worker = format!("funnel-{}", uuid::Uuid::new_v4().simple());
    let every = Duration::from_millis(state.config().funnel_refresh_ms);
    loop {
        let w = worker.clone();
        match state
            .db(move |conn| crate::services::funnel::refresh(conn, &w))
            .await
        {
            Ok(Some(n)) if n > 0 => tracing::debug!(batches = n, "funnel rollup refreshed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "funnel rollup refresh failed"),
        }
        tokio::time::sleep(every).await;
    }
}

/// Picks up platform settings another process saved: one small read per poll.
async fn settings_watcher(state: AppState) {
    loop {
        tokio::time::sleep(crate::services::settings::POLL).await;
        let live = state.live.clone();
        match state.db(move |conn| live.refresh(conn)).await {
            Ok(true) => tracing::info!("platform settings changed"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the platform settings"),
        }
    }
}

/// Sends the outbox after commit; separate from intake so a long import never holds up
/// an invoice mail.
async fn mail_worker(state: AppState) {
    let poll = Duration::from_millis(state.config().job_poll_ms);
    loop {
        let (pool, mailer) = (state.pool.clone(), state.mailer.clone());
        match tokio::task::spawn_blocking(move || {
            crate::services::mail::send_due(&pool, &mailer, 50)
        })
        .await
        {
            Ok(Ok((sent, _))) if sent > 0 => continue,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "mail worker could not work"),
            Err(e) => tracing::error!(error = %e, "mail worker panicked"),
        }
        tokio::time::sleep(poll).await;
    }
}

async fn intake_worker(state: AppState) {
    let worker = format!("serve-{}", uuid::Uuid::new_v4().simple());
    {
        let poll = Duration::from_millis(state.config().job_poll_ms);
        let mut last_maintenance: Option<std::time::Instant> = None;
        // Freshness lowers prices by the day: checked every few minutes, done once a day.
        let mut last_pricing: Option<std::time::Instant> = None;
        let mut last_escalation: Option<std::time::Instant> = None;
        // Retention erases old leads once a day, a chunk per transaction.
        let mut last_retention: Option<std::time::Instant> = None;
        loop {
            if last_retention.is_none_or(|t| t.elapsed() > Duration::from_secs(24 * 3600)) {
                last_retention = Some(std::time::Instant::now());
                let settings = crate::services::rights::Settings::from(&*state.config());
                match state
                    .db(move |conn| {
                        crate::services::rights::erase_past_retention(conn, &settings, store::now())
                    })
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(erased = n, "leads past retention erased"),
                    Err(e) => tracing::warn!(error = %e, "retention failed"),
                }
            }
            if last_maintenance.is_none_or(|t| t.elapsed() > Duration::from_secs(1800)) {
                last_maintenance = Some(std::time::Instant::now());
                if let Err(e) = state.db(|conn| Ok(crate::db::maintain(conn)?)).await {
                    tracing::warn!(error = %e, "database maintenance failed");
                }
            }
            if last_escalation.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                last_escalation = Some(std::time::Instant::now());
                let config = state.config().clone();
                match state
                    .db(move |conn| {
                        crate::services::disputes::escalate_overdue(
                            conn,
                            &crate::services::disputes::Settings::from(&*config),
                            store::now(),
                        )
                    })
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(
                        escalated = n,
                        "disputes past their deadline went to finance"
                    ),
                    Err(e) => tracing::warn!(error = %e, "dispute escalation failed"),
                }
            }
            if last_pricing.is_none_or(|t| t.elapsed() > Duration::from_secs(300)) {
                last_pricing = Some(std::time::Instant::now());
                match state
                    .db(|conn| crate::services::market::reprice_if_due(conn, store::now()))
                    .await
                {
                    Ok(Some(changed)) => tracing::info!(changed, "list prices brought to today"),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "repricing failed"),
                }
            }
            let w = worker.clone();
            match state
                .db(move |conn| Ok(store::batches::claim_next(conn, &w, LEASE)?))
                .await
            {
                Ok(Some(batch)) => {
                    let (pool, settings, w) = (
                        state.pool.clone(),
                        state.config().intake.clone(),
                        worker.clone(),
                    );
                    let bp = state.config().commission_bp;
                    if let Err(e) = tokio::task::spawn_blocking(move || {
                        run_claimed(&pool, &settings, bp, &batch, &w)
                    })
                    .await
                    {
                        tracing::error!(error = %e, "intake worker panicked");
                    }
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "intake worker could not look for work"),
            }
            tokio::time::sleep(poll).await;
        }
    }
}

/// Reads an uploaded file back from the database one stored piece at a time.
pub struct StoredFile {
    pool: Pool,
    batch_id: String,
    next_seq: i32,
    buf: Vec<u8>,
    pos: usize,
}

impl StoredFile {
    pub fn new(pool: Pool, batch_id: &str) -> Self {
        Self {
            pool,
            batch_id: batch_id.to_string(),
            next_seq: 0,
            buf: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for StoredFile {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.buf.len() {
            let mut conn = self.pool.get().map_err(std::io::Error::other)?;
            match store::intake::file_chunk(&mut conn, &self.batch_id, self.next_seq)
                .map_err(std::io::Error::other)?
            {
                Some(data) => {
                    self.buf = data;
                    self.pos = 0;
                    self.next_seq += 1;
                }
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Processes (or resumes) one claimed batch to its end.
pub fn run_claimed(
    pool: &Pool,
    settings: &IntakeSettings,
    commission_bp: i64,
    batch: &BatchRow,
    worker: &str,
) {
    let lease = runner::Lease::held(batch, worker).allocating(commission_bp);
    let result = (|| -> Result<(), RunError> {
        let mut conn = pool.get().map_err(AppError::from)?;
        if !store::intake::has_file(&mut conn, &batch.id).map_err(AppError::from)? {
            return Err(RunError::Unusable(format!(
                "the {} stopped before the end; {} rows were counted. Send the remaining rows again.",
                if batch.source == "import" {
                    "import"
                } else {
                    "upload"
                },
                batch.rows_done
            )));
        }
        let file = StoredFile::new(pool.clone(), &batch.id);
        lease.run(&mut conn, settings, file, |_| {})?;
        store::intake::delete_file(&mut conn, &batch.id).map_err(AppError::from)?;
        // The batch is done and its file gone: buyers come now, so plans must fit it now.
        crate::services::planner_stats::after_batch(&mut conn);
        Ok(())
    })();
    let Err(error) = result else {
        tracing::info!(batch = %batch.id, "batch processed");
        return;
    };
    match &error {
        RunError::LeaseLost => {
            tracing::warn!(batch = %batch.id, "batch lease lost; another worker continues")
        }
        RunError::Unusable(_) => {}
        RunError::App(e) => {
            tracing::error!(batch = %batch.id, error = ?e, "batch processing failed")
        }
    }
    let ours = "processing failed on our side; the rows counted so far are kept. Please upload the rest again.";
    if let Some(reason) = runner::failure_reason(&error, ours) {
        // A fresh connection: the run's may be what failed.
        let marked = pool
            .get()
            .map_err(AppError::from)
            .and_then(|mut c| runner::fail(&mut c, &batch.id, reason));
        if let Err(e) = marked {
            tracing::error!(batch = %batch.id, error = %e, "could not mark the batch failed");
        }
    }
}

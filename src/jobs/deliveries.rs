//! The delivery worker of one process: claims a few due deliveries, makes their
//! callbacks concurrently with no pooled connection held across the network, and
//! records each answer. It wakes at once when a sale in this process made deliveries
//! (`AppState::wake_deliveries`) and polls briefly for those other processes made.

use std::time::Duration;

use chrono::TimeDelta;

use crate::app::AppState;
use crate::services::deliveries::{self, Callbacks, Settings};
use crate::store;

/// How long a claim lasts: well past the callback timeout, so a live worker always
/// records its answer first, and short enough that a dead worker's deliveries are
/// soon tried again.
pub const LEASE: TimeDelta = TimeDelta::seconds(60);

/// Deliveries claimed at a time, made concurrently.
pub const BATCH: i64 = 16;

/// The longest idle wait between looks for work other processes committed.
const MAX_POLL_MS: u64 = 200;

pub async fn worker(state: AppState) {
    let callbacks = match Callbacks::new(&state.config()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "delivery worker cannot start: no HTTP client");
            return;
        }
    };
    let settings = Settings::from(&*state.config());
    let poll = Duration::from_millis(state.config().job_poll_ms.min(MAX_POLL_MS));
    loop {
        let s = settings.clone();
        let claimed = state
            .db(move |conn| deliveries::claim(conn, &s, store::now(), LEASE, BATCH))
            .await;
        match claimed {
            Ok(jobs) if !jobs.is_empty() => {
                let mut sends = tokio::task::JoinSet::new();
                for job in jobs {
                    let (state, callbacks) = (state.clone(), callbacks.clone());
                    sends.spawn(async move {
                        let attempt = callbacks.send(&job, chrono::Utc::now().timestamp()).await;
                        let recorded = state
                            .db(move |conn| {
                                deliveries::record(conn, &job.delivery, &attempt, store::now())
                            })
                            .await;
                        if let Err(e) = recorded {
                            // The lease runs out and the delivery is tried again.
                            tracing::warn!(error = %e, "could not record a delivery's answer");
                        }
                    });
                }
                while let Some(done) = sends.join_next().await {
                    if let Err(e) = done {
                        tracing::error!(error = %e, "a delivery panicked");
                    }
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "delivery worker could not look for work"),
        }
        tokio::select! {
            () = state.deliveries_wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

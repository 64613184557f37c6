//! The sweeper: every `sweep_interval_secs`, deletes what expired, in bounded batches read from
//! the expiry index, so that its cost grows with what expired and not with what is stored. Each
//! pass ends with a flush, then a compaction of the store's files (`Store::compact`), so that
//! what was deleted also leaves the disk on a schedule. Tallies are not swept: after each pass
//! the statistics retention ([`expire_statistics`]) drops those whose keep-until year is over.

use std::time::Duration;

use actix_web::web;
use candor_protocol::{Day, Quarter};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;
use crate::store::{StoreError, Swept};

/// Starts the sweeper task; it stops when `stop` turns true.
pub fn spawn(state: web::Data<AppState>, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    let interval = Duration::from_secs(state.settings.sweep_interval_secs);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
            if let Err(e) = sweep(&state, Some(&stop)).await {
                tracing::error!(error = %e, "sweeping failed");
            }
            if let Err(e) = expire_statistics(&state).await {
                tracing::error!(error = %e, "the statistics retention failed");
            }
        }
    })
}

/// One full pass: batches until nothing more has expired, then a flush.
pub async fn sweep_once(state: &AppState) -> Result<Swept, StoreError> {
    sweep(state, None).await
}

/// A pass that also ends early, between batches, when `stop` turns true (shutdown).
async fn sweep(
    state: &AppState,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<Swept, StoreError> {
    let now = state.clock.now();
    let batch = state.settings.sweep_batch;
    let mut total = Swept::default();
    loop {
        let store = state.store.clone();
        let swept = tokio::task::spawn_blocking(move || store.sweep(now, batch))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))??;
        total.mailboxes += swept.mailboxes;
        total.packages += swept.packages;
        total.tokens += swept.tokens;
        if !swept.more || stop.is_some_and(|s| *s.borrow()) {
            break;
        }
        // Let other traffic through between batches.
        tokio::task::yield_now().await;
    }
    let deleted = total.mailboxes > 0 || total.packages > 0 || total.tokens > 0;
    if deleted {
        state.durability.wait().await?;
    }
    let store = state.store.clone();
    let compacted = tokio::task::spawn_blocking(move || store.compact(now))
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))??;
    if compacted.files_removed > 0 || compacted.envelopes_moved > 0 {
        tracing::info!(
            moved = compacted.envelopes_moved,
            removed = compacted.files_removed,
            "store files compacted"
        );
    }
    state.metrics.record_sweep(&total);
    if deleted {
        tracing::info!(
            mailboxes = total.mailboxes,
            packages = total.packages,
            tokens = total.tokens,
            "sweep done"
        );
    }
    Ok(total)
}

/// The statistics retention, apart from the sweep of cases: drops the tallies whose
/// keep-until year is over, in batches, and waits for them to be durable. Returns how many.
pub async fn expire_statistics(state: &AppState) -> Result<usize, StoreError> {
    let year = Quarter::of_day(Day::from_unix(state.clock.now())).year();
    let batch = state.settings.sweep_batch;
    let mut total = 0;
    loop {
        let store = state.store.clone();
        let n = tokio::task::spawn_blocking(move || store.expire_tallies(year, batch))
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))??;
        total += n;
        if n < batch {
            break;
        }
        tokio::task::yield_now().await;
    }
    if total > 0 {
        state.durability.wait().await?;
        tracing::info!(
            tallies = total,
            "tallies past the statistics retention dropped"
        );
    }
    Ok(total)
}

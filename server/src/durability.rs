//! Durable acknowledgement by group commit: a write's 2xx means it is on disk.
//!
//! One flusher thread waits until at least one writer is waiting, calls the store's blocking
//! flush (an fsync) once, taking every waiting writer at the point the store names
//! (`Store::flush_covering`), and wakes them all. A writer registers only after its write
//! returned, so the flush that answers it covers its write. Under load, one fsync serves every
//! writer that queued while the previous one ran.
//!
//! Under load the flusher also waits a little (`commit_delay_us`) for more writers before it
//! syncs, as PostgreSQL's `commit_delay` does: a sync costs the same CPU whether it serves 4
//! writers or 15, and with many connections the CPU is busy with other requests meanwhile.
//! It waits only when its last sync served more than one writer, so a lone writer never does.
//!
//! sled's `flush_async` per request is deliberately not used: it stalls under concurrent
//! callers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::store::{Store, StoreError};

type Waiter = oneshot::Sender<Result<(), StoreError>>;

#[derive(Default)]
struct State {
    waiters: Vec<Waiter>,
    stopping: bool,
    flusher: Flusher,
}

/// What the flusher is doing, so that a writer wakes it only when that changes what it does.
/// A wake costs the writer a syscall and the flusher two context switches; waking it for
/// every writer during the delay, only for it to sleep again, cost more than the delay saved.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Flusher {
    /// Waiting for a first writer: any writer wakes it.
    #[default]
    Idle,
    /// Waiting out the delay: only the writer that fills the group wakes it.
    Delaying,
    /// Syncing: it looks for writers when it is done.
    Busy,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    flushes: AtomicU64,
    acknowledged: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a list and a flag; a panic elsewhere cannot leave it inconsistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The group-commit flusher.
pub struct Durability {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Durability {
    /// Starts the flusher thread for `store`; under load it waits up to `delay` for more
    /// writers before each sync.
    pub fn start(store: Arc<dyn Store>, delay: Duration) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let flusher = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("candor-flusher".into())
            .spawn(move || run(&flusher, store.as_ref(), delay))?;
        Ok(Self {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Waits until every write that returned before this call is on disk.
    pub async fn wait(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        let wake = {
            let mut state = self.shared.lock();
            if state.stopping {
                return Err(StoreError::Backend("the relay is shutting down".into()));
            }
            state.waiters.push(tx);
            match state.flusher {
                Flusher::Idle => true,
                Flusher::Delaying => state.waiters.len() >= FULL_GROUP,
                Flusher::Busy => false,
            }
        };
        if wake {
            self.shared.wake.notify_one();
        }
        rx.await
            .unwrap_or_else(|_| Err(StoreError::Backend("the flusher stopped".into())))
    }

    /// How many fsyncs ran, and how many writes they acknowledged.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.shared.flushes.load(Ordering::Relaxed),
            self.shared.acknowledged.load(Ordering::Relaxed),
        )
    }

    /// Flushes what is pending, then stops the thread. Later waiters get an error.
    pub fn stop(&self) {
        self.shared.lock().stopping = true;
        self.shared.wake.notify_one();
        let handle = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle
            && handle.join().is_err()
        {
            tracing::error!("the flusher thread panicked");
        }
    }
}

impl Drop for Durability {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A group this large is synced without waiting out the delay.
const FULL_GROUP: usize = 64;

fn run(shared: &Shared, store: &dyn Store, delay: Duration) {
    let mut last_group = 0;
    loop {
        {
            let mut state = shared.lock();
            while state.waiters.is_empty() && !state.stopping {
                state.flusher = Flusher::Idle;
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if state.waiters.is_empty() {
                break;
            }
            if last_group > 1 && !delay.is_zero() {
                state.flusher = Flusher::Delaying;
                state = shared
                    .wake
                    .wait_timeout_while(state, delay, |s| {
                        s.waiters.len() < FULL_GROUP && !s.stopping
                    })
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            state.flusher = Flusher::Busy;
        }
        // The waiters are taken when the store says which writes the flush covers, not
        // before: writers that committed while it let queued writes through are answered by
        // this flush too.
        let mut batch = Vec::new();
        let result =
            store.flush_covering(&mut || batch = std::mem::take(&mut shared.lock().waiters));
        if let Err(e) = &result {
            tracing::error!(error = %e, "flushing the store failed");
        }
        last_group = batch.len();
        shared.flushes.fetch_add(1, Ordering::Relaxed);
        shared
            .acknowledged
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        for waiter in batch {
            // A writer whose request was dropped no longer listens; that is fine.
            let _ = waiter.send(result.clone());
        }
    }
    if let Err(e) = store.flush() {
        tracing::error!(error = %e, "the final flush failed");
    }
}

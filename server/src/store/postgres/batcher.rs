//! Batches of one instance's concurrent store calls, which HTTP workers wait for without a
//! thread of their own: a caller queues its job and awaits the answer (or blocks on it, from a
//! blocking thread), and one thread per batcher takes every job queued so far and runs them
//! together: a batch of appends in one transaction with one WAL flush (group commit,
//! `append.rs`), a batch of reads as one statement (`reads.rs`). Nobody waits for a batch to
//! fill: a job that arrives while the thread is idle runs at once, alone, and the jobs that
//! arrive while a batch runs form the next one.
//!
//! A request costs no hop to the blocking pool and back, and no wake of a thread that waits
//! for its turn to lead: when a caller on the blocking pool led each batch, those threads took
//! about a fifth of the machine's CPU during a fetch load (`docs/benchmarks.md`).

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::store::StoreError;

/// What a job answers: the value its call returned, or why it did not happen.
pub(super) type Answer<A> = Result<A, StoreError>;

/// What a batcher's thread runs: a batch of jobs, in the order they were queued, answered one
/// answer per job, in that order.
type Run<J, A> = Box<dyn Fn(Vec<J>) -> Vec<Answer<A>> + Send>;

/// A queue of jobs and the thread that runs them in batches.
pub(super) struct Batcher<J, A> {
    shared: Arc<Shared<J, A>>,
}

struct Shared<J, A> {
    queue: Mutex<Queue<J, A>>,
    /// Woken when a job is queued while the thread waits, or when the batcher is dropped.
    queued: Condvar,
}

struct Queue<J, A> {
    jobs: Vec<(J, oneshot::Sender<Answer<A>>)>,
    /// Whether the thread waits on `queued` (so that a caller wakes it only then).
    idle: bool,
    closed: bool,
    /// How many batches of more than one job have run: for tests, which must see that
    /// concurrent calls share batches.
    #[cfg(test)]
    shared: u64,
}

/// An answer that has not come yet.
pub(super) struct Pending<A>(oneshot::Receiver<Answer<A>>);

impl<A> Pending<A> {
    /// Waits for the answer, on an async task.
    pub(super) async fn answer(self) -> Answer<A> {
        self.0.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Waits for the answer, blocking this thread (never an async runtime's own).
    pub(super) fn wait(self) -> Answer<A> {
        self.0.blocking_recv().unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> StoreError {
    StoreError::Backend("the batch this call was in stopped before it answered".into())
}

impl<J: Send + 'static, A: Send + 'static> Batcher<J, A> {
    /// Starts the thread `name`, which runs at most `most` jobs at a time with `run`.
    pub(super) fn start(
        name: &str,
        most: usize,
        run: impl Fn(Vec<J>) -> Vec<Answer<A>> + Send + 'static,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                jobs: Vec::new(),
                idle: false,
                closed: false,
                #[cfg(test)]
                shared: 0,
            }),
            queued: Condvar::new(),
        });
        let thread = shared.clone();
        let run: Run<J, A> = Box::new(run);
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || thread.serve(most.max(1), &run))?;
        Ok(Self { shared })
    }

    /// Queues `job`.
    pub(super) fn submit(&self, job: J) -> Pending<A> {
        let (tx, rx) = oneshot::channel();
        let mut queue = self.shared.lock();
        if queue.closed {
            let _ = tx.send(Err(stopped()));
        } else {
            queue.jobs.push((job, tx));
            if queue.idle {
                queue.idle = false;
                self.shared.queued.notify_one();
            }
        }
        Pending(rx)
    }

    /// How many batches of more than one job have run.
    #[cfg(test)]
    pub(super) fn shared(&self) -> u64 {
        self.shared.lock().shared
    }
}

impl<J, A> Drop for Batcher<J, A> {
    fn drop(&mut self) {
        let mut queue = self.shared.lock();
        queue.closed = true;
        self.shared.queued.notify_one();
    }
}

impl<J, A> Shared<J, A> {
    fn lock(&self) -> MutexGuard<'_, Queue<J, A>> {
        // Every change to the queue is a push, a drain or a flag: a panic cannot leave it
        // halfway.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The thread: runs batches until the batcher is dropped and its queue is empty.
    fn serve(&self, most: usize, run: &Run<J, A>) {
        loop {
            let mut queue = self.lock();
            while queue.jobs.is_empty() && !queue.closed {
                queue.idle = true;
                queue = self.queued.wait(queue).unwrap_or_else(|e| e.into_inner());
            }
            if queue.jobs.is_empty() {
                return;
            }
            let take = queue.jobs.len().min(most);
            let (jobs, callers): (Vec<J>, Vec<_>) = queue.jobs.drain(..take).unzip();
            #[cfg(test)]
            if take > 1 {
                queue.shared += 1;
            }
            drop(queue);
            // A batch that panicked answers its callers and the thread goes on.
            let answers = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(jobs)))
                .unwrap_or_default();
            let mut answers = answers.into_iter();
            for caller in callers {
                // A caller that stopped waiting (its request was dropped) needs no answer.
                let _ = caller.send(answers.next().unwrap_or_else(|| Err(stopped())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_caller_gets_its_own_answer_and_concurrent_jobs_share_batches() {
        let batcher = Arc::new(
            Batcher::<u64, u64>::start("test-batcher", 8, |jobs| {
                assert!(jobs.len() <= 8);
                std::thread::sleep(std::time::Duration::from_millis(5));
                jobs.into_iter().map(|j| Ok(j * 10)).collect()
            })
            .unwrap(),
        );
        let threads: Vec<_> = (0..32u64)
            .map(|i| {
                let batcher = batcher.clone();
                std::thread::spawn(move || batcher.submit(i).wait())
            })
            .collect();
        for (i, t) in threads.into_iter().enumerate() {
            assert_eq!(t.join().unwrap().unwrap(), i as u64 * 10);
        }
        assert!(batcher.shared() > 0, "no two jobs ever shared a batch");
    }

    #[test]
    fn a_batch_that_panics_or_answers_too_few_refuses_its_callers_and_the_next_still_runs() {
        let batcher = Batcher::<u64, u64>::start("test-batcher", 4, |jobs| match jobs[0] {
            1 => panic!("the database client panicked"),
            2 => Vec::new(),
            _ => jobs.into_iter().map(Ok).collect(),
        })
        .unwrap();
        assert!(matches!(
            batcher.submit(1).wait(),
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            batcher.submit(2).wait(),
            Err(StoreError::Backend(_))
        ));
        assert_eq!(batcher.submit(3).wait().unwrap(), 3);
    }

    #[test]
    fn a_dropped_batcher_still_answers_what_it_had_queued() {
        let batcher = Batcher::<u64, u64>::start("test-batcher", 4, |jobs| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            jobs.into_iter().map(Ok).collect()
        })
        .unwrap();
        let queued: Vec<_> = (0..10).map(|i| batcher.submit(i)).collect();
        drop(batcher);
        for (i, pending) in queued.into_iter().enumerate() {
            assert_eq!(pending.wait().unwrap(), i as u64);
        }
    }
}

//! Group commit of one instance's concurrent writes: callers queue their jobs, and one of them
//! at a time (the leader) takes every job queued so far and runs them together, so that a
//! batch shares one transaction and one WAL flush. Nobody waits for a batch to fill: a job
//! that arrives while the database is idle runs at once, alone, and the jobs that arrive while
//! a batch runs form the next one.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::store::StoreError;

/// What a job answers: the value its write returned, or why it did not happen.
pub(super) type Answer = Result<u64, StoreError>;

/// A queue of jobs and the answers of those that ran.
pub(super) struct Group<J> {
    state: Mutex<State<J>>,
    /// Woken when a batch has ended: its callers take their answers, and one waiter leads next.
    ended: Condvar,
    /// The most jobs one batch takes.
    most: usize,
    /// How many batches of more than one job have run: for tests, which must see that
    /// concurrent jobs share batches.
    shared: AtomicU64,
}

struct State<J> {
    queue: VecDeque<(u64, J)>,
    answers: HashMap<u64, Answer>,
    next: u64,
    leading: bool,
}

impl<J> Group<J> {
    pub(super) fn new(most: usize) -> Self {
        Self {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                answers: HashMap::new(),
                next: 0,
                leading: false,
            }),
            ended: Condvar::new(),
            most: most.max(1),
            shared: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<J>> {
        // A leader that panicked gave its batch's callers an answer on the way out (`Batch`),
        // so the state is whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many batches of more than one job have run.
    #[cfg(test)]
    pub(super) fn shared(&self) -> u64 {
        self.shared.load(Ordering::Relaxed)
    }

    /// Queues `job` and returns its answer once a batch has run it. `run` is given a batch of
    /// jobs, in the order they were queued, and returns one answer per job, in that order.
    pub(super) fn submit(&self, job: J, run: impl Fn(Vec<J>) -> Vec<Answer>) -> Answer {
        let mut state = self.lock();
        let ticket = state.next;
        state.next += 1;
        state.queue.push_back((ticket, job));
        loop {
            if let Some(answer) = state.answers.remove(&ticket) {
                return answer;
            }
            if !state.leading {
                state.leading = true;
                let take = state.queue.len().min(self.most);
                let (tickets, jobs): (Vec<u64>, Vec<J>) = state.queue.drain(..take).unzip();
                drop(state);
                if take > 1 {
                    self.shared.fetch_add(1, Ordering::Relaxed);
                }
                let mut batch = Batch {
                    group: self,
                    tickets,
                    leader: ticket,
                    answers: None,
                };
                batch.answers = Some(run(jobs));
                drop(batch);
                state = self.lock();
                continue;
            }
            state = self.ended.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A batch being run: on drop (at its end, or if `run` panicked) it hands every caller its
/// answer, gives up the lead and wakes the waiters.
struct Batch<'a, J> {
    group: &'a Group<J>,
    tickets: Vec<u64>,
    /// The leader's own ticket: if `run` panicked, nobody is left to take its answer.
    leader: u64,
    answers: Option<Vec<Answer>>,
}

impl<J> Drop for Batch<'_, J> {
    fn drop(&mut self) {
        let mut answers = self.answers.take().unwrap_or_default().into_iter();
        let mut state = self.group.lock();
        for ticket in self.tickets.drain(..) {
            let answer = answers.next().unwrap_or_else(|| {
                Err(StoreError::Backend(
                    "the batch this write was in stopped before it answered".into(),
                ))
            });
            if !(ticket == self.leader && std::thread::panicking()) {
                state.answers.insert(ticket, answer);
            }
        }
        state.leading = false;
        drop(state);
        self.group.ended.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn every_caller_gets_its_own_answer_and_concurrent_jobs_share_batches() {
        let group = Arc::new(Group::<u64>::new(8));
        let batches = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..32u64)
            .map(|i| {
                let (group, batches) = (group.clone(), batches.clone());
                std::thread::spawn(move || {
                    group.submit(i, |jobs| {
                        batches.fetch_add(1, Ordering::SeqCst);
                        assert!(jobs.len() <= 8);
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        jobs.into_iter().map(|j| Ok(j * 10)).collect()
                    })
                })
            })
            .collect();
        for (i, t) in threads.into_iter().enumerate() {
            assert_eq!(t.join().unwrap().unwrap(), i as u64 * 10);
        }
        let batches = batches.load(Ordering::SeqCst);
        assert!(batches >= 4, "at most 8 a batch: {batches}");
        assert!(group.shared() > 0, "no two jobs ever shared a batch");
    }

    #[test]
    fn a_batch_that_panics_answers_its_callers_and_the_next_job_still_runs() {
        let group = Group::<u64>::new(4);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            group.submit(1, |_| panic!("the database client panicked"))
        }));
        assert!(panicked.is_err());
        let state = group.lock();
        assert!(state.answers.is_empty() && !state.leading);
        drop(state);
        assert_eq!(
            group
                .submit(2, |jobs| jobs.into_iter().map(Ok).collect())
                .unwrap(),
            2
        );
    }

    #[test]
    fn a_batch_that_answers_too_few_refuses_the_rest() {
        let group = Group::<u64>::new(4);
        let answer = group.submit(1, |_| Vec::new());
        assert!(matches!(answer, Err(StoreError::Backend(_))));
    }
}

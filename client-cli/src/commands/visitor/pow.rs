//! The proof of work that opening a case costs, solved on every core with a spinner.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use candor_protocol::MailboxId;
use candor_protocol::pow::{Challenge, Solution};
use indicatif::{ProgressBar, ProgressStyle};

/// Difficulties above this would take hours; a relay asking for them is misconfigured.
pub(super) const MAX_REASONABLE_DIFFICULTY: u8 = 30;

/// Solves the proof of work on every core, with a spinner on stderr.
pub(super) fn solve(challenge: &Challenge, mailbox: &MailboxId) -> Solution {
    const SLICE: u64 = 1 << 14;
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.set_message("Solving the proof of work that protects the office from spam");
    spinner.enable_steady_tick(Duration::from_millis(100));

    let next = AtomicU64::new(0);
    let found = AtomicBool::new(false);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let context = mailbox.as_bytes();
    let nonce = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    while !found.load(Ordering::Relaxed) {
                        let start = next.fetch_add(SLICE, Ordering::Relaxed);
                        if let Some(n) = challenge.solve_range(context, start, SLICE) {
                            found.store(true, Ordering::Relaxed);
                            return Some(n);
                        }
                    }
                    None
                })
            })
            .collect();
        workers
            .into_iter()
            .filter_map(|w| w.join().ok().flatten())
            .min()
    });
    spinner.finish_and_clear();
    match nonce {
        Some(nonce) => Solution {
            challenge: challenge.clone(),
            nonce,
        },
        // Only if every worker panicked; solve on this thread instead.
        None => challenge.solve(context),
    }
}

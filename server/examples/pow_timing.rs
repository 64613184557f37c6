//! Measures how long one proof of work takes on this machine, single-threaded, to help an
//! operator choose `pow_difficulty`.
//!
//! `cargo run --release -p candor-server --example pow_timing -- [DIFFICULTY] [RUNS]`

use std::time::Instant;

use candor_protocol::MailboxId;
use candor_protocol::pow::{Challenge, PowKey};

fn main() {
    let mut args = std::env::args().skip(1);
    let difficulty: u8 = args.next().and_then(|a| a.parse().ok()).unwrap_or(22);
    let runs: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let rng = &mut rand::rng();
    let key = PowKey::generate(rng);

    // Raw hash rate: one slice of 2^20 nonces at an impossible difficulty.
    let impossible = Challenge::issue(&key, 40, 0, 600, rng);
    let start = Instant::now();
    let _ = impossible.solve_range(b"0123456789abcdef", 0, 1 << 20);
    let rate = f64::from(1u32 << 20) / start.elapsed().as_secs_f64();
    println!("SHA-256 rate: {:.2} M hashes/s", rate / 1e6);
    println!(
        "expected solve at difficulty {difficulty}: {:.2} s",
        2f64.powi(i32::from(difficulty)) / rate
    );

    let mut total = 0.0;
    for _ in 0..runs {
        let c = Challenge::issue(&key, difficulty, 0, 600, rng);
        let mailbox = MailboxId::random(rng);
        let start = Instant::now();
        let _ = c.solve(mailbox.as_bytes());
        total += start.elapsed().as_secs_f64();
    }
    println!(
        "measured mean over {runs} solves at difficulty {difficulty}: {:.2} s",
        total / f64::from(runs)
    );
}

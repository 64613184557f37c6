//! `candor-bench`: a load generator for the relay.
//!
//! It starts the real `candor-server` binary on loopback with a temporary store, registers an
//! office, opens mailboxes with real proofs of work, and then measures, at a fixed number of
//! concurrent connections and for a fixed time each:
//!
//! 1. `GET /v1/health`: the ceiling of the HTTP stack on this machine;
//! 2. durable append of sealed envelopes (signed `POST /v1/mailboxes/{id}/envelopes`);
//! 3. fetch of the newest envelope (signed `GET …/envelopes?after=N&limit=1`).
//!
//! With `--scale N --expired E` it instead measures the relay with N stored mailboxes and a sweep
//! of E expired ones (see `scale.rs`).
//!
//! With `--fill-tallies N --office-home HOME --data-dir DIR` it instead stores N tallies of a
//! real office in a stopped relay's store, for measuring `candor report` (see `tallies.rs`), and
//! with `--fill-cases N` it opens N genuine cases of that office, for measuring `candor inbox`
//! (see `cases.rs`).
//!
//! Envelopes are sealed before the clock starts (sealing is the client's cost, not the relay's);
//! every request is signed as it is sent. Results go to stdout as a table, or as JSON; with
//! `--rounds N`, the medians of N rounds of the three phases (see `report.rs`).

mod cases;
mod probe;
mod relay;
mod report;
mod scale;
mod spawn;
mod tallies;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;

use relay::{Bench, Phase, Prepared};

#[derive(Parser, Debug)]
#[command(about = "Drives a real candor-server over HTTP and reports requests/s and latency")]
struct Args {
    /// Path to the candor-server binary (build it with `cargo build --release -p candor-server`).
    #[arg(long, default_value = "target/release/candor-server")]
    server_bin: PathBuf,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Message text size in bytes. The default, 2900, pads to the 3072-byte bucket, which makes
    /// each append's JSON body about 4 KiB.
    #[arg(long, default_value_t = 2900)]
    body_bytes: usize,
    /// Mailboxes to open and spread the appends over.
    #[arg(long, default_value_t = 64)]
    mailboxes: usize,
    /// Instead of the load phases, compare the timing of "unknown mailbox" and "wrong key"
    /// answers over this many interleaved pairs.
    #[arg(long)]
    timing_probe: Option<usize>,
    /// Instead of the load phases: fill a store with this many mailboxes through the relay's
    /// own storage code, then measure the relay's memory and the latency of a mixed
    /// append/fetch load with and without a sweep of `--expired` of them.
    #[arg(long)]
    scale: Option<usize>,
    /// With `--scale`: how many of the mailboxes have expired.
    #[arg(long, default_value_t = 0)]
    expired: usize,
    /// Requests per second to build and sign for each phase before its clock starts, so that
    /// the load generator's own signing does not take CPU from the relay while it is
    /// measured. A worker that runs out signs the rest as it sends them (the run reports how
    /// many).
    #[arg(long, default_value_t = 20_000)]
    presign: usize,
    /// Instead of the load phases: store this many tallies of the office in `--office-home`,
    /// sealed under its records key (opened with CANDOR_PASSPHRASE), in the store of the
    /// stopped relay whose data directory is `--data-dir`, then exit.
    #[arg(long, requires_all = ["office_home", "data_dir"])]
    fill_tallies: Option<usize>,
    /// Instead of the load phases: open this many cases of the office in `--office-home`, each
    /// with a genuine first message from its visitor, in the store of the stopped relay whose
    /// data directory is `--data-dir`, then exit.
    #[arg(long, requires_all = ["office_home", "data_dir"], conflicts_with = "fill_tallies")]
    fill_cases: Option<usize>,
    /// With `--fill-tallies` or `--fill-cases`: the office's home, made by `candor office init`
    /// and published to the relay with `candor office publish`.
    #[arg(long)]
    office_home: Option<PathBuf>,
    /// With `--fill-tallies` or `--fill-cases`: the relay's data directory
    /// (`candor-server --data-dir`).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// The relay's store: a `postgres://USER@HOST[:PORT]/DB` URL (an empty database: it is
    /// migrated, then filled). Without it, sled in a temporary directory.
    #[arg(long)]
    store: Option<String>,
    /// Relay instances on that store, sharing `relay.key`; connections are spread over them
    /// in turn. More than one needs `--store`.
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// Run the three phases this many times in turn, each append and fetch taken as a share
    /// of its own round's health ceiling, and report the medians (with the range of the
    /// shares): on a machine whose ceiling moves between runs, one round's share says little.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=99))]
    rounds: u32,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let (Some(count), Some(home), Some(dir)) =
        (args.fill_tallies, &args.office_home, &args.data_dir)
    {
        return tallies::fill(dir, home, count);
    }
    if let (Some(count), Some(home), Some(dir)) =
        (args.fill_cases, &args.office_home, &args.data_dir)
    {
        return cases::fill(dir, home, count);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> Result<()> {
    if let Some(total) = args.scale {
        return scale::run(
            &args.server_bin,
            total,
            args.expired,
            args.connections,
            args.mailboxes,
            args.body_bytes,
            args.seconds,
        )
        .await;
    }
    let bench = Arc::new(
        Bench::start(
            &args.server_bin,
            args.connections,
            args.mailboxes,
            args.body_bytes,
            args.store.as_deref(),
            args.instances.max(1),
        )
        .await?,
    );
    if let Some(rounds) = args.timing_probe {
        let samples = probe::unknown_vs_unauthorized(&bench, rounds).await?;
        println!("{rounds} interleaved pairs on one connection; microseconds");
        println!(
            "{:<16} {:>8} {:>8} {:>8} {:>8}",
            "answer", "mean", "p50", "p90", "p99"
        );
        for s in &samples {
            println!(
                "{:<16} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
                s.name,
                s.mean(),
                s.percentile(0.5),
                s.percentile(0.9),
                s.percentile(0.99)
            );
        }
        bench.stop().await;
        return Ok(());
    }
    let duration = Duration::from_secs(args.seconds);
    let mut rounds = Vec::new();
    for round in 1..=args.rounds.max(1) {
        let mut results = Vec::new();
        for phase in [Phase::Health, Phase::Append, Phase::Fetch] {
            let r = drive(
                bench.clone(),
                phase,
                args.connections,
                duration,
                args.presign,
            )
            .await?;
            eprintln!(
                "{:<8} {:>10.0} req/s  p99 {:.2} ms  ({} signed during the run; round {round})",
                r.phase.name(),
                r.rps,
                r.p99_ms,
                r.signed_late
            );
            results.push(r);
        }
        rounds.push(results);
    }
    let store = if args.store.is_some() {
        "postgres"
    } else {
        "sled"
    };
    let summary = report::Summary::of(&rounds);
    if args.json {
        println!("{}", summary.json(store, bench.instances())?);
    } else {
        println!(
            "{} on {}: {} connections, {} s per phase, {}, {}-byte bodies ({} bytes sealed)",
            match bench.instances() {
                1 => "1 instance".to_owned(),
                n => format!("{n} instances"),
            },
            if args.store.is_some() {
                "PostgreSQL"
            } else {
                "sled"
            },
            args.connections,
            args.seconds,
            match rounds.len() {
                1 => "1 round".to_owned(),
                n => format!("{n} rounds (medians; each share against its own round's health)"),
            },
            args.body_bytes,
            bench.sealed_len()
        );
        print!("{}", summary.table());
    }
    bench.stop().await;
    Ok(())
}

pub(crate) struct PhaseResult {
    pub(crate) phase: Phase,
    pub(crate) requests: usize,
    pub(crate) errors: usize,
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// Requests signed during the measured run because the pre-signed ones ran out.
    pub(crate) signed_late: usize,
}

async fn drive(
    bench: Arc<Bench>,
    phase: Phase,
    connections: usize,
    duration: Duration,
    presign: usize,
) -> Result<PhaseResult> {
    // A short warm-up so connections exist before the clock starts.
    let warm_up = Duration::from_millis(500);
    let per_worker =
        (presign as f64 * (duration + warm_up).as_secs_f64() / connections as f64).ceil() as usize;
    let ready = Arc::new(tokio::sync::Barrier::new(connections));
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let bench = bench.clone();
        let ready = ready.clone();
        tasks.push(tokio::spawn(async move {
            let client = bench.client()?;
            let prepared: Vec<Prepared> = (0..per_worker)
                .map(|i| bench.prepare(phase, worker, i))
                .collect();
            if ready.wait().await.is_leader() {
                eprintln!("{}: signed in advance, measuring", phase.name());
            }
            let mut next = prepared.iter();
            let mut signed_late = 0usize;
            let mut i = per_worker;
            let mut one = async |next: &mut std::slice::Iter<'_, Prepared>| match next.next() {
                Some(p) => bench.send(&client, p).await,
                None => {
                    signed_late += 1;
                    i += 1;
                    bench.request(&client, phase, worker, i).await
                }
            };
            let warm = Instant::now() + warm_up;
            while Instant::now() < warm {
                one(&mut next).await?;
            }
            let end = Instant::now() + duration;
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < end {
                let t = Instant::now();
                match one(&mut next).await {
                    Ok(()) => latencies.push(t.elapsed()),
                    Err(e) => {
                        // Counted in the table; the first of each worker also said, so that a
                        // failure can be looked into.
                        if errors == 0 {
                            eprintln!("{}: worker {worker}: {e:#}", phase.name());
                        }
                        errors += 1;
                    }
                }
            }
            anyhow::Ok((latencies, errors, signed_late))
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    let mut signed_late = 0;
    for t in tasks {
        let (l, e, late) = t.await.context("worker panicked")??;
        all.extend(l);
        errors += e;
        signed_late += late;
    }
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(PhaseResult {
        phase,
        requests: all.len(),
        errors,
        rps: all.len() as f64 / duration.as_secs_f64(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        signed_late,
    })
}

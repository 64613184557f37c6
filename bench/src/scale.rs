//! `--scale N --expired E`: the relay's memory with N stored mailboxes, and the latency of other
//! traffic while its sweeper deletes E expired ones.
//!
//! The store is filled by the relay's own storage code (`candor_server::store::Store`, the
//! sled backend the binary opens), not over HTTP: a million proofs of work and signed requests
//! would take longer than the measurement. Each mailbox is created by `Store::open_mailbox`, the
//! call the `POST /v1/mailboxes` route makes, with a random ID and random key bytes, spread over
//! offices of at most `PER_OFFICE` mailboxes registered by `Store::register_office` with real
//! signed cards. E of them get an expiry two days in the past, the rest one 30 to 31 days ahead.
//! Their proof-of-work tokens are given an expiry before that and removed by the relay's own
//! `Store::sweep` before the store is closed, so the relay starts as it would be long after
//! those mailboxes were opened: holding mailboxes, not their spent tokens.
//!
//! Then the real `candor-server` binary runs on that store twice:
//!
//! 1. with the sweeper idle: the benchmark office and its mailboxes are set up over HTTP, the
//!    relay's idle RSS is read, and a mixed load (half the connections append, half fetch) runs
//!    for the phase time: p50/p99 without a sweep;
//! 2. restarted with `CANDOR_SWEEP_INTERVAL_SECS=1`: the same load starts at once, the sweeper
//!    begins its pass one second after start, and `/metrics` (on the metrics listener) is polled until
//!    `candor_swept_mailboxes_total` reaches E: p50/p99 of the requests sent during the sweep.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use candor_protocol::{Identity, MailboxId};
use candor_server::startup::{STORE_DIR, open_store};
use candor_server::store::{NewMailbox, OfficeRecord, Quotas, Store, TokenKind, UsedToken};
use rand::RngExt;

use crate::relay::{Bench, Phase, office_card};

/// Mailboxes per office when filling.
const PER_OFFICE: usize = 10_000;
const DAY: u64 = 86_400;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Fills the store of the relay data directory `dir` with `total` mailboxes, `expired` of them expired. Blocking.
pub fn populate(dir: &Path, total: usize, expired: usize) -> Result<()> {
    let started = Instant::now();
    let store = open_store(&dir.join(STORE_DIR), 64 * 1024 * 1024)?;
    let rng = &mut rand::rng();
    let t = now();
    let hour = t - t % 3600;
    let past = hour - 2 * DAY;
    let spent = hour - 3 * DAY;
    let quotas = Quotas {
        mailboxes_per_office: u64::MAX,
        envelopes_per_mailbox: u64::MAX,
        bytes_per_mailbox: u64::MAX,
        packages_per_mailbox: u64::MAX,
        channels_per_office: u64::MAX,
        notes_per_mailbox: u64::MAX,
        bytes_per_office: u64::MAX,
    };
    let offices = total.div_ceil(PER_OFFICE).max(1);
    let mut ids = Vec::with_capacity(offices);
    for i in 0..offices {
        let identity = Identity::generate(rng);
        let card = office_card(
            &identity,
            &format!("scale-{i}"),
            &format!("Scale Office {i}"),
            "http://127.0.0.1:1",
        )?;
        let signed = card.sign(&identity)?;
        let parsed = signed.verify_office()?;
        let invite = UsedToken {
            kind: TokenKind::Invite,
            random: rng.random(),
            expires: spent,
        };
        store.register_office(&OfficeRecord::from_verified(signed, &parsed), &invite)?;
        ids.push(parsed.id);
    }
    for i in 0..total {
        let signing_key: [u8; 32] = rng.random();
        let kem_key: [u8; 32] = rng.random();
        let expiry = if i < expired {
            past
        } else {
            hour + 30 * DAY + 3600 * (i % 24) as u64
        };
        let id = MailboxId::from_bytes(rng.random());
        let mailbox = NewMailbox {
            id,
            office: ids[i % offices].clone(),
            signing_key,
            kem_key,
            expiry,
            first: first_envelope(id, rng),
        };
        let pow = UsedToken {
            kind: TokenKind::Pow,
            random: rng.random(),
            expires: spent,
        };
        store.open_mailbox(&mailbox, &pow, &quotas)?;
        // Commit in groups, as the relay's flusher does while requests wait.
        if (i + 1) % 1_000 == 0 {
            store.flush_covering(&mut || {})?;
        }
        if (i + 1) % 100_000 == 0 {
            eprintln!(
                "  {} mailboxes in {:.1} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    // The spent tokens go, as the relay's sweeper would have removed them long ago; nothing
    // else has expired at `spent + 1`.
    let mut tokens = 0;
    loop {
        let swept = store.sweep(spent + 1, 10_000)?;
        if swept.mailboxes != 0 {
            bail!("the token sweep removed mailboxes");
        }
        tokens += swept.tokens;
        if !swept.more {
            break;
        }
    }
    store.flush()?;
    let check = store.check()?;
    if !check.problems.is_empty() || check.mailboxes != total as u64 {
        bail!("the filled store does not check: {check:?}");
    }
    eprintln!(
        "filled {total} mailboxes ({expired} expired) in {offices} offices in {:.1} s; \
         removed {tokens} spent tokens; {:.0} MB on disk",
        started.elapsed().as_secs_f64(),
        store.size_on_disk()? as f64 / 1e6
    );
    Ok(())
}

/// `VmRSS` and `VmHWM` of `pid`, in MB.
async fn memory(pid: Option<u32>) -> Result<(f64, f64)> {
    let pid = pid.ok_or_else(|| anyhow!("the relay has exited"))?;
    let status = tokio::fs::read_to_string(format!("/proc/{pid}/status")).await?;
    let field = |name: &str| -> Result<f64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or_else(|| anyhow!("no {name} in /proc/{pid}/status"))?;
        let kb: f64 = line
            .split_whitespace()
            .nth(1)
            .ok_or_else(|| anyhow!("bad {name} line"))?
            .parse()?;
        Ok(kb * 1024.0 / 1e6)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

async fn swept_mailboxes(client: &reqwest::Client, base: &str) -> Result<u64> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|l| l.strip_prefix("candor_swept_mailboxes_total "))
        .ok_or_else(|| anyhow!("no candor_swept_mailboxes_total in /metrics"))?
        .trim()
        .parse()
        .context("parsing candor_swept_mailboxes_total")
}

/// One request's start (since the load began) and its latency.
type Sample = (Duration, Duration);

/// Half the connections append, half fetch, until `stop`; returns every sample and the errors.
async fn mixed_load(
    bench: Arc<Bench>,
    connections: usize,
    stop: Arc<AtomicBool>,
) -> Result<(Vec<Sample>, usize)> {
    let origin = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let bench = bench.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let client = bench.client()?;
            let phase = if worker % 2 == 0 {
                Phase::Append
            } else {
                Phase::Fetch
            };
            let mut samples = Vec::new();
            let mut errors = 0usize;
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match bench.request(&client, phase, worker, i).await {
                    Ok(()) => samples.push((t - origin, t.elapsed())),
                    Err(_) => errors += 1,
                }
                i += 1;
            }
            anyhow::Ok((samples, errors))
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (s, e) = t.await.context("worker panicked")??;
        all.extend(s);
        errors += e;
    }
    Ok((all, errors))
}

struct Stats {
    requests: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// Statistics of the samples that started in `from..to` (offsets from the load's start).
fn stats(samples: &[Sample], from: Duration, to: Duration) -> Stats {
    let mut l: Vec<Duration> = samples
        .iter()
        .filter(|(s, _)| *s >= from && *s < to)
        .map(|(_, l)| *l)
        .collect();
    l.sort_unstable();
    let pct = |p: f64| {
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    Stats {
        requests: l.len(),
        rps: l.len() as f64 / (to - from).as_secs_f64(),
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        max_ms: l.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
    }
}

fn print_stats(label: &str, s: &Stats, errors: usize) {
    println!(
        "{label:<34} {:>8} {:>8.0} {:>8.2} {:>8.2} {:>8.2} {:>6}",
        s.requests, s.rps, s.p50_ms, s.p99_ms, s.max_ms, errors
    );
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The whole `--scale` run.
pub async fn run(
    server_bin: &Path,
    total: usize,
    expired: usize,
    connections: usize,
    live: usize,
    body_bytes: usize,
    seconds: u64,
) -> Result<()> {
    if expired > total {
        bail!("--expired must not exceed --scale");
    }
    println!("load average before: {}", load_average());
    let dir = tempfile::tempdir().context("creating a temporary data directory")?;
    let path = dir.path().to_owned();
    let fill = Instant::now();
    tokio::task::spawn_blocking(move || populate(&path, total, expired))
        .await
        .context("the filler panicked")??;
    let fill = fill.elapsed();

    // Run 1: the sweeper idle.
    let idle = [("CANDOR_SWEEP_INTERVAL_SECS", "86400")];
    let bench = Bench::start_in(server_bin, dir, &idle, connections, live, body_bytes).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_idle, hwm_idle) = memory(bench.pid().await).await?;
    let bench = Arc::new(bench);
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(mixed_load(bench.clone(), connections, stop.clone()));
    let warm = Duration::from_millis(500);
    let window = Duration::from_secs(seconds);
    tokio::time::sleep(warm + window).await;
    stop.store(true, Ordering::Relaxed);
    let (samples, errors_base) = load.await.context("load panicked")??;
    let base = stats(&samples, warm, warm + window);
    let (rss_loaded, hwm_loaded) = memory(bench.pid().await).await?;
    let load_base = load_average();

    // Run 2: restarted with a sweep one second after start.
    let bench = Arc::try_unwrap(bench).map_err(|_| anyhow!("the bench is still shared"))?;
    // `/metrics` is on its own loopback listener, not the API's: give it a port we know.
    let metrics_addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let metrics_listen = metrics_addr.to_string();
    let metrics_base = format!("http://{metrics_addr}");
    let sweeping = [
        ("CANDOR_SWEEP_INTERVAL_SECS", "1"),
        ("CANDOR_METRICS_LISTEN", metrics_listen.as_str()),
    ];
    let bench = Arc::new(bench.restart(server_bin, &sweeping).await?);
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(mixed_load(bench.clone(), connections, stop.clone()));
    let client = reqwest::Client::new();
    let deadline = started + Duration::from_secs(600);
    let done = loop {
        if swept_mailboxes(&client, &metrics_base).await? >= expired as u64 {
            break started.elapsed();
        }
        if Instant::now() > deadline {
            stop.store(true, Ordering::Relaxed);
            bail!("the sweep did not finish within 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (rss_swept, hwm_swept) = memory(bench.pid().await).await?;
    // Keep loading for a while after the sweep, as a reference within the same run.
    tokio::time::sleep(window).await;
    stop.store(true, Ordering::Relaxed);
    let (samples, errors_sweep) = load.await.context("load panicked")??;
    let (rss_end, hwm_end) = memory(bench.pid().await).await?;
    let sweep_start = Duration::from_secs(1);
    let during = stats(
        &samples,
        sweep_start,
        done.max(sweep_start + Duration::from_millis(1)),
    );
    let after = stats(&samples, done, done + window);
    let load_sweep = load_average();
    bench.stop().await;

    println!(
        "{total} mailboxes ({expired} expired), filled through the relay's Store in {:.1} s",
        fill.as_secs_f64()
    );
    println!(
        "relay RSS, idle after start and setup: VmRSS {rss_idle:.1} MB, VmHWM {hwm_idle:.1} MB"
    );
    println!(
        "relay RSS after {seconds} s of load:        VmRSS {rss_loaded:.1} MB, VmHWM {hwm_loaded:.1} MB"
    );
    println!(
        "relay RSS after the sweep (2nd start):  VmRSS {rss_swept:.1} MB, VmHWM {hwm_swept:.1} MB"
    );
    println!(
        "relay RSS {seconds} s after the sweep:     VmRSS {rss_end:.1} MB, VmHWM {hwm_end:.1} MB"
    );
    println!(
        "sweep of {expired} mailboxes: done {:.2} s after start, i.e. about {:.2} s \
         (the pass starts 1 s after start)",
        done.as_secs_f64(),
        (done.saturating_sub(sweep_start)).as_secs_f64()
    );
    println!(
        "{connections} connections, half append ({} bytes sealed), half fetch; latency in ms",
        bench.sealed_len()
    );
    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}",
        "window", "requests", "req/s", "p50", "p99", "max", "errors"
    );
    print_stats(
        &format!("no sweep ({seconds} s, load {load_base})"),
        &base,
        errors_base,
    );
    print_stats(
        &format!("during the sweep (load {load_sweep})"),
        &during,
        errors_sweep,
    );
    print_stats(&format!("after the sweep ({seconds} s)"), &after, 0);
    Ok(())
}

/// A case's first envelope, of the smallest size a sealed message has: the store never opens
/// it, so random bytes of the right shape stand in for one.
pub(crate) fn first_envelope(
    mailbox: MailboxId,
    rng: &mut impl rand::Rng,
) -> candor_protocol::Envelope {
    use candor_protocol::envelope::{Stanza, WRAPPED_KEY_LEN};
    let stanza = || Stanza {
        enc: [1; 32],
        key: [2; WRAPPED_KEY_LEN],
    };
    candor_protocol::Envelope {
        mailbox,
        direction: candor_protocol::Direction::ToOffice,
        stanzas: [stanza(), stanza()],
        commit: rng.random(),
        ct: vec![3; candor_protocol::padding::MIN_BUCKET + 16],
    }
}

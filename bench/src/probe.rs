//! Timing of the relay's two "no" answers: an unknown mailbox, and a real mailbox asked with a
//! key not registered for it. The answers are byte-identical (tested in server/tests); this
//! measures whether their timing differs by a usable amount.
//!
//! One connection, the two kinds interleaved request by request so that drift in the machine's
//! load affects both alike.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use candor_protocol::{Codename, Identity, MailboxId};

use crate::relay::{Bench, signed_request};

/// Latencies of one kind of answer.
pub struct Sample {
    pub name: &'static str,
    pub latencies: Vec<Duration>,
}

impl Sample {
    pub fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
        sorted.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1e6)
    }
    pub fn mean(&self) -> f64 {
        let total: f64 = self.latencies.iter().map(Duration::as_secs_f64).sum();
        total / self.latencies.len().max(1) as f64 * 1e6
    }
}

/// Sends `rounds` pairs of requests and returns the two samples.
pub async fn unknown_vs_unauthorized(bench: &Bench, rounds: usize) -> Result<[Sample; 2]> {
    let client = bench.client()?;
    let rng = &mut rand::rng();
    // A stranger's keys: valid format, registered nowhere. The requests are signed validly
    // under the key they name, so each counts against that key's signed requests per window
    // (10 000): a new stranger every 1 000 pairs stays below it.
    let office = Identity::generate(rng).fingerprint();
    let mut stranger = Codename::generate(rng).derive(&office);
    let mut unknown = Sample {
        name: "unknown mailbox",
        latencies: Vec::with_capacity(rounds),
    };
    let mut unauthorized = Sample {
        name: "wrong key",
        latencies: Vec::with_capacity(rounds),
    };
    let mut bodies = Vec::new();
    for i in 0..rounds {
        if i % 1000 == 999 {
            stranger = Codename::generate(rng).derive(&office);
        }
        let real = bench.cases[i % bench.cases.len()].keys.mailbox;
        let ghost = MailboxId::random(rng);
        for (target, sample) in [(ghost, &mut unknown), (real, &mut unauthorized)] {
            let path = format!("/v1/mailboxes/{target}/envelopes?after=0&limit=1");
            let t = Instant::now();
            let resp = signed_request(
                &client,
                &bench.base,
                &stranger,
                reqwest::Method::GET,
                &path,
                Vec::new(),
            )
            .await?;
            let status = resp.status();
            let body = resp.bytes().await?;
            sample.latencies.push(t.elapsed());
            if status != reqwest::StatusCode::NOT_FOUND {
                bail!("{} answered {status}, expected 404", sample.name);
            }
            if i == 0 {
                bodies.push(body);
            }
        }
    }
    if bodies.len() == 2 && bodies[0] != bodies[1] {
        bail!("the two answers differ in their bodies");
    }
    Ok([unknown, unauthorized])
}

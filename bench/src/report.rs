//! What a load run reports: each phase over its rounds, as the median of its requests per
//! second and latencies, and its share of the health ceiling taken round by round (each
//! append and fetch against the health phase of its own round), with the median and range of
//! those shares.

use anyhow::Result;

use crate::PhaseResult;
use crate::relay::Phase;

/// One phase over every round.
pub struct Row {
    phase: Phase,
    requests: usize,
    errors: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Each round's share of its own health ceiling, in round order.
    shares: Vec<f64>,
}

/// Every phase of a run, in the order they ran.
pub struct Summary {
    rows: Vec<Row>,
}

/// The middle value (the mean of the two middle ones for an even count); NaN for none.
fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_unstable_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl Row {
    fn share(&self) -> f64 {
        median(&self.shares)
    }

    fn range(&self) -> (f64, f64) {
        let min = self.shares.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self
            .shares
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        (min, max)
    }
}

impl Summary {
    /// `rounds`: each round's phases, health first, in the same order every round.
    pub fn of(rounds: &[Vec<PhaseResult>]) -> Self {
        let Some(first) = rounds.first() else {
            return Self { rows: Vec::new() };
        };
        let rows = (0..first.len())
            .map(|i| {
                let runs: Vec<&PhaseResult> = rounds.iter().filter_map(|r| r.get(i)).collect();
                let of = |f: fn(&PhaseResult) -> f64| {
                    median(&runs.iter().map(|r| f(r)).collect::<Vec<_>>())
                };
                Row {
                    phase: first[i].phase,
                    requests: runs.iter().map(|r| r.requests).sum(),
                    errors: runs.iter().map(|r| r.errors).sum(),
                    rps: of(|r| r.rps),
                    p50_ms: of(|r| r.p50_ms),
                    p99_ms: of(|r| r.p99_ms),
                    shares: rounds
                        .iter()
                        .filter_map(|r| Some(r.get(i)?.rps / r.first()?.rps))
                        .collect(),
                }
            })
            .collect();
        Self { rows }
    }

    /// The table: one line a phase.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<8} {:>9} {:>10} {:>8} {:>8} {:>10} {:>15} {:>7}\n",
            "phase", "requests", "req/s", "p50 ms", "p99 ms", "ceiling", "range", "errors"
        );
        for r in &self.rows {
            let (min, max) = r.range();
            out += &format!(
                "{:<8} {:>9} {:>10.0} {:>8.2} {:>8.2} {:>9.1}% {:>15} {:>7}\n",
                r.phase.name(),
                r.requests,
                r.rps,
                r.p50_ms,
                r.p99_ms,
                100.0 * r.share(),
                format!("{:.1}–{:.1}%", 100.0 * min, 100.0 * max),
                r.errors
            );
        }
        out
    }

    /// The JSON: an array of one object a phase. `rps`, the latencies and `of_ceiling` are
    /// medians over the rounds; `of_ceiling_each` gives every round's share.
    pub fn json(&self, store: &str, instances: usize) -> Result<String> {
        let rows: Vec<_> = self
            .rows
            .iter()
            .map(|r| {
                let (min, max) = r.range();
                serde_json::json!({
                    "phase": r.phase.name(), "requests": r.requests, "rps": r.rps,
                    "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "of_ceiling": r.share(),
                    "of_ceiling_min": min, "of_ceiling_max": max,
                    "of_ceiling_each": r.shares, "rounds": r.shares.len(),
                    "errors": r.errors, "instances": instances, "store": store,
                })
            })
            .collect();
        Ok(serde_json::to_string_pretty(&rows)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(phase: Phase, rps: f64) -> PhaseResult {
        PhaseResult {
            phase,
            requests: rps as usize,
            errors: 0,
            rps,
            p50_ms: 1.0,
            p99_ms: 2.0,
            signed_late: 0,
        }
    }

    #[test]
    fn each_share_is_against_its_own_rounds_ceiling_and_the_median_is_reported() {
        let rounds = vec![
            vec![run(Phase::Health, 1000.0), run(Phase::Fetch, 300.0)],
            vec![run(Phase::Health, 2000.0), run(Phase::Fetch, 400.0)],
            vec![run(Phase::Health, 1000.0), run(Phase::Fetch, 250.0)],
        ];
        let summary = Summary::of(&rounds);
        let fetch = &summary.rows[1];
        assert_eq!(fetch.shares, vec![0.3, 0.2, 0.25]);
        assert_eq!(fetch.share(), 0.25);
        assert_eq!(fetch.range(), (0.2, 0.3));
        // The median of the rates (300), not the rate of the median share.
        assert_eq!(fetch.rps, 300.0);
        assert_eq!(fetch.requests, 950);
        assert_eq!(summary.rows[0].share(), 1.0);
    }

    #[test]
    fn an_even_count_takes_the_mean_of_the_middle_two() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}

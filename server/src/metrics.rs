//! Prometheus text exposition, written by hand: request counts by route pattern, method and
//! status; a latency histogram per route; store size; fsyncs; sweeps. Routes are patterns such
//! as `/v1/mailboxes/{mailbox}/envelopes`, so nothing here is about a single mailbox.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::store::Swept;

/// Histogram bucket upper bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Requests {
    counts: BTreeMap<(&'static str, String, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
}

/// The relay's counters.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<Requests>,
    sweeps: AtomicU64,
    swept_mailboxes: AtomicU64,
    swept_packages: AtomicU64,
    swept_tokens: AtomicU64,
}

/// Values read at scrape time from elsewhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gauges {
    /// Bytes the store takes on disk.
    pub store_bytes: u64,
    /// fsyncs run by the group-commit flusher.
    pub fsyncs: u64,
    /// Writes those fsyncs acknowledged.
    pub fsync_waiters: u64,
}

impl Metrics {
    /// Records one answered request. `route` is the matched pattern (or `unmatched`).
    pub fn record_request(&self, route: &'static str, method: &str, status: u16, took: Duration) {
        let mut r = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        *r.counts
            .entry((route, method.to_owned(), status))
            .or_default() += 1;
        let h = r.latency.entry(route).or_default();
        let secs = took.as_secs_f64();
        for (bound, n) in BUCKETS.iter().zip(h.buckets.iter_mut()) {
            if secs <= *bound {
                *n += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// Records one sweep pass.
    pub fn record_sweep(&self, swept: &Swept) {
        self.sweeps.fetch_add(1, Ordering::Relaxed);
        self.swept_mailboxes
            .fetch_add(swept.mailboxes, Ordering::Relaxed);
        self.swept_packages
            .fetch_add(swept.packages, Ordering::Relaxed);
        self.swept_tokens.fetch_add(swept.tokens, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self, gauges: Gauges) -> String {
        let mut out = String::with_capacity(4096);
        {
            let r = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
            out.push_str("# HELP candor_http_requests_total HTTP requests answered, by route pattern, method and status.\n");
            out.push_str("# TYPE candor_http_requests_total counter\n");
            for ((route, method, status), n) in &r.counts {
                let _ = writeln!(
                    out,
                    "candor_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
            out.push_str(
                "# HELP candor_http_request_duration_seconds Time to answer, by route pattern.\n",
            );
            out.push_str("# TYPE candor_http_request_duration_seconds histogram\n");
            for (route, h) in &r.latency {
                for (bound, n) in BUCKETS.iter().zip(h.buckets.iter()) {
                    let _ = writeln!(
                        out,
                        "candor_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                    );
                }
                let _ = writeln!(
                    out,
                    "candor_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "candor_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "candor_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        let mut gauge = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        gauge(
            "candor_store_size_bytes",
            "gauge",
            "Bytes the store takes on disk.",
            gauges.store_bytes,
        );
        gauge(
            "candor_fsyncs_total",
            "counter",
            "fsyncs run by the group-commit flusher.",
            gauges.fsyncs,
        );
        gauge(
            "candor_fsync_acknowledged_writes_total",
            "counter",
            "Writes acknowledged by those fsyncs.",
            gauges.fsync_waiters,
        );
        gauge(
            "candor_sweeps_total",
            "counter",
            "Sweeper passes.",
            self.sweeps.load(Ordering::Relaxed),
        );
        gauge(
            "candor_swept_mailboxes_total",
            "counter",
            "Expired mailboxes deleted by the sweeper.",
            self.swept_mailboxes.load(Ordering::Relaxed),
        );
        gauge(
            "candor_swept_packages_total",
            "counter",
            "Expired handoff packages deleted by the sweeper (not counting those deleted with their mailbox).",
            self.swept_packages.load(Ordering::Relaxed),
        );
        gauge(
            "candor_swept_tokens_total",
            "counter",
            "Expired used-token entries removed by the sweeper.",
            self.swept_tokens.load(Ordering::Relaxed),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_buckets() {
        let m = Metrics::default();
        m.record_request("/v1/health", "GET", 200, Duration::from_micros(700));
        m.record_sweep(&Swept {
            mailboxes: 3,
            packages: 2,
            channels: 0,
            tokens: 1,
            more: false,
        });
        let text = m.render(Gauges::default());
        assert!(text.contains(
            "candor_http_requests_total{route=\"/v1/health\",method=\"GET\",status=\"200\"} 1"
        ));
        assert!(text.contains(
            "candor_http_request_duration_seconds_bucket{route=\"/v1/health\",le=\"0.0005\"} 0"
        ));
        assert!(text.contains(
            "candor_http_request_duration_seconds_bucket{route=\"/v1/health\",le=\"0.001\"} 1"
        ));
        assert!(text.contains("candor_swept_mailboxes_total 3"));
        assert!(text.contains("candor_swept_packages_total 2"));
        assert!(text.contains("candor_swept_tokens_total 1"));
    }
}

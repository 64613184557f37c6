//! The relay's clock, injectable so that tests can move time (retention, expiry, windows).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix seconds now.
pub trait Clock: Send + Sync + 'static {
    /// The current time in Unix seconds.
    fn now(&self) -> u64;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        // A clock before 1970 is a broken machine; treat it as the epoch.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        now.saturating_add(test_offset().unwrap_or(0))
    }
}

/// Debug builds only: whole days added to the system clock, so that the end-to-end tests can
/// run the real binaries past an expiry (`candor` reads the same variable). A release build
/// has no such hook and ignores it.
pub const TEST_DAYS_ENV: &str = "CANDOR_TEST_CLOCK_DAYS";

/// The test offset in seconds ([`TEST_DAYS_ENV`]), read once; an error names a bad value.
pub fn test_offset() -> Result<u64, String> {
    static OFFSET: std::sync::OnceLock<Result<u64, String>> = std::sync::OnceLock::new();
    OFFSET
        .get_or_init(|| {
            if !cfg!(debug_assertions) {
                return Ok(0);
            }
            match std::env::var(TEST_DAYS_ENV) {
                Ok(v) => v
                    .parse::<u16>()
                    .map(|d| u64::from(d) * 86_400)
                    .map_err(|_| {
                        format!("{TEST_DAYS_ENV} must be a whole number of days, 0 to 65535")
                    }),
                Err(_) => Ok(0),
            }
        })
        .clone()
}

/// A clock that only moves when told to, for tests.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock stopped at `now`.
    pub fn new(now: u64) -> Self {
        Self(Arc::new(AtomicU64::new(now)))
    }
    /// Moves the clock forward.
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    /// Sets the clock.
    pub fn set(&self, now: u64) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

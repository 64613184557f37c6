//! The calendar day: the only time Candor's messages and cards carry, never the time of day.

use core::fmt;

use serde::{Deserialize, Serialize};

/// A calendar day: days since 1970-01-01 (UTC). Messages carry only the day, never the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Day(pub u32);

impl Day {
    /// The day that contains `unix_seconds`.
    pub fn from_unix(unix_seconds: u64) -> Self {
        Day(u32::try_from(unix_seconds / 86_400).unwrap_or(u32::MAX))
    }

    /// The day `days` later (saturating).
    pub fn plus(self, days: u32) -> Self {
        Day(self.0.saturating_add(days))
    }

    /// The civil date `(year, month, day)` (proleptic Gregorian; Howard Hinnant's algorithm).
    pub fn civil(self) -> (i64, u32, u32) {
        let z = i64::from(self.0) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        (y, m, d)
    }

    /// The calendar quarter, for example `2026-Q4`.
    pub fn quarter(self) -> String {
        let (y, m, _) = self.civil();
        format!("{y}-Q{}", (m - 1) / 3 + 1)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_format_as_dates() {
        assert_eq!(Day(0).to_string(), "1970-01-01");
        assert_eq!(
            Day::from_unix(1_795_305_600 + 3600).to_string(),
            "2026-11-22"
        );
        assert_eq!(Day::from_unix(1_795_305_600 + 3600).quarter(), "2026-Q4");
        assert_eq!(Day(11_016).to_string(), "2000-02-29");
    }
}

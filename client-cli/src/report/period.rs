//! The report's periods: calendar quarters, or years that start in January, April, July or
//! October (`--year-starts`, for academic and fiscal years). Tallies hold quarters, so every
//! period is a whole run of quarters with fixed boundaries, the same in every report.

use anyhow::{Result, bail};
use candor_protocol::Quarter;

/// How a report groups quarters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Periods {
    /// Quarters per period: 1 or 4.
    len: u32,
    /// The quarter of the year (0 to 3) a year starts at.
    offset: u32,
}

impl Periods {
    /// Calendar quarters.
    pub fn quarters() -> Self {
        Self { len: 1, offset: 0 }
    }

    /// Years starting in `month` (1 to 12), which must start a quarter.
    pub fn years(month: u8) -> Result<Self> {
        if !matches!(month, 1 | 4 | 7 | 10) {
            bail!(
                "a year can start only in month 1, 4, 7 or 10 (tallies hold quarters, not months); \
                 pass --year-starts with one of them"
            );
        }
        Ok(Self {
            len: 4,
            offset: u32::from(month - 1) / 3,
        })
    }

    /// The index of the first quarter of the period that holds `q`.
    pub fn start_of(&self, q: Quarter) -> u32 {
        let i = q.index();
        if self.len == 1 {
            return i;
        }
        // A year starting at `offset` begins where (i - offset) is a multiple of 4; the year
        // that would begin before 1970Q1 is cut there.
        i.saturating_sub((i + 4 - self.offset) % 4)
    }

    /// The start of the period after the one starting at `start`.
    pub fn next(&self, start: u32) -> u32 {
        start + self.len
    }

    /// Whether `q` is the first quarter of its period.
    pub fn starts_at(&self, q: Quarter) -> bool {
        self.start_of(q) == q.index()
    }

    /// Whether `q` is the last quarter of its period.
    pub fn ends_at(&self, q: Quarter) -> bool {
        self.start_of(q) + self.len - 1 == q.index()
    }

    /// The period's name: `2026Q3`, `2026` (a calendar year) or `2026/27` (a year starting
    /// in July 2026, say).
    pub fn label(&self, start: u32) -> String {
        let Some(q) = Quarter::from_index(start) else {
            return start.to_string();
        };
        match (self.len, self.offset) {
            (1, _) => q.to_string(),
            (_, 0) => q.year().to_string(),
            _ => format!("{}/{:02}", q.year(), (q.year() + 1) % 100),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quarter {
        s.parse().unwrap()
    }

    #[test]
    fn fiscal_years_start_at_their_quarter_and_are_named_for_both_years() {
        // Arrange
        let july = Periods::years(7).unwrap();
        let calendar = Periods::years(1).unwrap();

        // Act
        let start = july.start_of(q("2027Q2"));

        // Assert
        assert_eq!(start, q("2026Q3").index());
        assert_eq!(july.label(start), "2026/27");
        assert!(july.starts_at(q("2026Q3")) && july.ends_at(q("2027Q2")));
        assert!(!july.starts_at(q("2027Q1")));
        assert_eq!(calendar.label(calendar.start_of(q("2026Q4"))), "2026");
        assert_eq!(july.start_of(q("1970Q1")), 0);
        assert_eq!(Periods::quarters().label(q("2026Q4").index()), "2026Q4");
        assert!(Periods::years(2).is_err());
    }
}

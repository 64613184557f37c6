//! Calendar quarters, the only time a tally holds: `2026Q1` is January to March 2026.

use core::fmt;
use core::str::FromStr;

use crate::{Day, Error};

/// A calendar quarter of a year from 1970 to 9999.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: u16,
    number: u8,
}

impl Quarter {
    /// Quarter `number` (1 to 4) of `year` (1970 to 9999).
    pub fn new(year: u16, number: u8) -> Result<Self, Error> {
        if !(1970..=9999).contains(&year) || !(1..=4).contains(&number) {
            return Err(Error::malformed(
                "quarter",
                "a quarter is 1 to 4 of a year from 1970 to 9999".to_owned(),
            ));
        }
        Ok(Self { year, number })
    }

    /// The quarter that holds `day`.
    pub fn of_day(day: Day) -> Self {
        let (y, m, _) = day.civil();
        Self {
            // Days this crate makes are after 1970; the clamp keeps a far date valid.
            year: y.clamp(1970, 9999) as u16,
            number: ((m - 1) / 3 + 1) as u8,
        }
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The quarter's number in its year, 1 to 4.
    pub fn number(self) -> u8 {
        self.number
    }

    /// The quarter's first month, 1 to 12.
    pub fn first_month(self) -> u8 {
        3 * (self.number - 1) + 1
    }

    /// Quarters since 1970Q1: consecutive quarters have consecutive indices.
    pub fn index(self) -> u32 {
        (u32::from(self.year) - 1970) * 4 + u32::from(self.number) - 1
    }

    /// The quarter with [`Quarter::index`] `index`, if its year is at most 9999.
    pub fn from_index(index: u32) -> Option<Self> {
        let year = 1970 + index / 4;
        Self::new(u16::try_from(year).ok()?, (index % 4 + 1) as u8).ok()
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Q{}", self.year, self.number)
    }
}

impl FromStr for Quarter {
    type Err = Error;

    /// `2026Q1`, also written `2026-Q1` or `2026q1`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || {
            Error::malformed(
                "quarter",
                format!("{s:?} is not a quarter; write it like 2026Q1"),
            )
        };
        let (year, number) = s.split_once(['Q', 'q']).ok_or_else(bad)?;
        let year = year.strip_suffix('-').unwrap_or(year);
        if year.len() != 4 || number.len() != 1 {
            return Err(bad());
        }
        let year: u16 = year.parse().map_err(|_| bad())?;
        let number: u8 = number.parse().map_err(|_| bad())?;
        Self::new(year, number).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_parse_print_and_count() {
        // Arrange
        let q: Quarter = "2026Q4".parse().unwrap();

        // Act
        let next = Quarter::from_index(q.index() + 1).unwrap();

        // Assert
        assert_eq!(q.to_string(), "2026Q4");
        assert_eq!("2026-q4".parse::<Quarter>().unwrap(), q);
        assert_eq!(next.to_string(), "2027Q1");
        assert_eq!(q.first_month(), 10);
        assert_eq!(Quarter::of_day(Day::from_unix(1_795_305_600)), q);
        for bad in [
            "2026Q5", "2026Q0", "26Q1", "2026", "Q1", "2026Q1x", "1969Q4", "+026Q1",
        ] {
            assert!(bad.parse::<Quarter>().is_err(), "{bad}");
        }
    }
}

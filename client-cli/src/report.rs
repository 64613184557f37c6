//! `candor report`: the office's trends, from its tallies.
//!
//! The tallies are streamed from the relay a page at a time (or read from an export), opened
//! under the records key and counted per period and per column of the chosen dimension; no
//! more than a page is held at once. Counts then pass through [`suppression`] before any
//! format sees them: [`table`] (80 columns), [`csv`] (RFC 4180), [`json`] and [`svg`].
//!
//! `--export FILE` writes the tallies, still sealed under the records key, to a file that
//! `--import FILE` reports from: the office's own copy of its only permanent records.

pub mod csv;
pub mod export;
pub mod json;
pub mod period;
pub mod suppression;
pub mod svg;
pub mod table;

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context as _, Result, bail};
use candor_protocol::{OfficeCard, Quarter, Tally};

use self::period::Periods;
use self::suppression::{MIN_COUNT_FLOOR, suppress_row};

/// What the columns of a report are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    /// The case's categories: a case in two categories counts in both.
    Category,
    /// The constituency the visitor chose.
    Constituency,
    /// How the case ended.
    Outcome,
}

/// One column: an ID from the card (or one the card no longer lists) and its label.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Column {
    /// The ID, or `none` for cases without one.
    pub id: String,
    /// The label the card gives it.
    pub label: String,
}

/// A shown count, or one suppressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Shown.
    Count(u64),
    /// Suppressed.
    Hidden,
}

impl Cell {
    /// The count, if shown.
    pub fn count(self) -> Option<u64> {
        match self {
            Cell::Count(n) => Some(n),
            Cell::Hidden => None,
        }
    }
}

/// One period's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The period's name.
    pub period: String,
    /// One cell per column.
    pub cells: Vec<Cell>,
    /// The sum of the row's cells.
    pub total: Cell,
}

/// A suppressed report, ready for any format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// What it counts.
    pub title: String,
    /// The columns' dimension.
    pub by: Dimension,
    /// The minimum count.
    pub min_count: u64,
    /// The columns.
    pub columns: Vec<Column>,
    /// The periods, oldest first, each one.
    pub rows: Vec<Row>,
}

/// Counts tallies as they stream in.
pub struct Counter {
    periods: Periods,
    by: Dimension,
    from: Option<Quarter>,
    to: Option<Quarter>,
    columns: Vec<Column>,
    index: HashMap<String, usize>,
    counts: BTreeMap<u32, Vec<u64>>,
}

impl Counter {
    /// A counter of tallies from `from` to `to` (whole periods: checked here), with the
    /// card's items as columns.
    pub fn new(
        card: &OfficeCard,
        by: Dimension,
        periods: Periods,
        from: Option<Quarter>,
        to: Option<Quarter>,
    ) -> Result<Self> {
        if let Some(q) = from.filter(|q| !periods.starts_at(*q)) {
            bail!(
                "--from {q} is not the first quarter of a period: a report covers whole periods, so that two reports cannot be subtracted; pass the quarter its period starts with"
            );
        }
        if let Some(q) = to.filter(|q| !periods.ends_at(*q)) {
            bail!(
                "--to {q} is not the last quarter of a period: a report covers whole periods, so that two reports cannot be subtracted; pass the quarter its period ends with"
            );
        }
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            bail!("--from {f} is after --to {t}; swap them");
        }
        let items: Vec<(String, String)> = match by {
            Dimension::Category => card
                .categories
                .iter()
                .map(|c| (c.id.to_string(), c.label.clone()))
                .chain([("none".to_owned(), "No category".to_owned())])
                .collect(),
            Dimension::Constituency => card
                .constituencies
                .iter()
                .map(|c| (c.id.to_string(), c.label.clone()))
                .chain([("none".to_owned(), "Not given".to_owned())])
                .collect(),
            Dimension::Outcome => card
                .outcomes
                .iter()
                .map(|o| (o.id.to_string(), o.label.clone()))
                .collect(),
        };
        let mut counter = Self {
            periods,
            by,
            from,
            to,
            columns: Vec::new(),
            index: HashMap::new(),
            counts: BTreeMap::new(),
        };
        for (id, label) in items {
            counter.column(&id, label);
        }
        Ok(counter)
    }

    fn column(&mut self, id: &str, label: String) -> usize {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        self.columns.push(Column {
            id: id.to_owned(),
            label,
        });
        self.index.insert(id.to_owned(), self.columns.len() - 1);
        self.columns.len() - 1
    }

    /// Counts one tally, if it is in the range.
    pub fn add(&mut self, tally: &Tally) {
        let q = tally.quarter();
        if self.from.is_some_and(|f| q < f) || self.to.is_some_and(|t| q > t) {
            return;
        }
        let ids: Vec<String> = match self.by {
            Dimension::Category if tally.categories().is_empty() => vec!["none".to_owned()],
            Dimension::Category => tally.categories().iter().map(|c| c.to_string()).collect(),
            Dimension::Constituency => {
                vec![
                    tally
                        .constituency()
                        .map_or("none".to_owned(), |c| c.to_string()),
                ]
            }
            Dimension::Outcome => vec![tally.outcome().to_string()],
        };
        let start = self.periods.start_of(q);
        for id in ids {
            // An ID the card no longer lists keeps its own column, named by its ID.
            let i = self.column(&id, id.clone());
            let row = self.counts.entry(start).or_default();
            if row.len() <= i {
                row.resize(i + 1, 0);
            }
            row[i] += 1;
        }
    }

    /// The suppressed report, with every period from the first to the last (zeros where none
    /// closed).
    pub fn finish(self, min_count: u64) -> Report {
        let first = self
            .from
            .map(|q| self.periods.start_of(q))
            .or_else(|| self.counts.keys().next().copied());
        let last = self
            .to
            .map(|q| self.periods.start_of(q))
            .or_else(|| self.counts.keys().next_back().copied());
        let mut rows = Vec::new();
        if let (Some(first), Some(last)) = (first, last) {
            let mut start = first;
            while start <= last {
                let mut cells = self.counts.get(&start).cloned().unwrap_or_default();
                cells.resize(self.columns.len(), 0);
                let shown = suppress_row(&cells, min_count);
                let total: u64 = cells.iter().sum();
                rows.push(Row {
                    period: self.periods.label(start),
                    cells: cells
                        .iter()
                        .zip(&shown.cells)
                        .map(|(&v, &h)| if h { Cell::Hidden } else { Cell::Count(v) })
                        .collect(),
                    total: if shown.total {
                        Cell::Hidden
                    } else {
                        Cell::Count(total)
                    },
                });
                start = self.periods.next(start);
            }
        }
        let title = match self.by {
            Dimension::Category => {
                "Closed cases by category (a case counts in each of its categories)"
            }
            Dimension::Constituency => "Closed cases by constituency",
            Dimension::Outcome => "Closed cases by outcome",
        };
        Report {
            title: title.to_owned(),
            by: self.by,
            min_count,
            columns: self.columns,
            rows,
        }
    }
}

/// Checks `--min-count`.
pub fn check_min_count(m: u64) -> Result<u64> {
    if m < MIN_COUNT_FLOOR {
        bail!(
            "--min-count {m} is below {MIN_COUNT_FLOOR}: counts that small point at people; pass \
             --min-count {MIN_COUNT_FLOOR} or more"
        );
    }
    Ok(m)
}

/// Writes `bytes` to `out`, or to stdout.
pub fn emit(out: Option<&std::path::Path>, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    match out {
        Some(path) => crate::home::write_private(path, bytes)
            .with_context(|| format!("the report was not written to {}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;

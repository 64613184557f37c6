//! The report as RFC 4180 CSV (CRLF line ends, quoted where needed): a header of `period`,
//! each column's label and `total`, then one record per period. A suppressed count is the
//! field `suppressed`.

use anyhow::Result;

use super::{Cell, Report};

fn field(c: Cell) -> String {
    c.count()
        .map_or_else(|| "suppressed".to_owned(), |n| n.to_string())
}

/// The CSV bytes.
pub fn render(report: &Report) -> Result<Vec<u8>> {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let header = std::iter::once("period".to_owned())
        .chain(report.columns.iter().map(|c| c.label.clone()))
        .chain(["total".to_owned()]);
    w.write_record(header)?;
    for row in &report.rows {
        let record = std::iter::once(row.period.clone())
            .chain(row.cells.iter().map(|&c| field(c)))
            .chain([field(row.total)]);
        w.write_record(record)?;
    }
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("could not write the CSV: {e}"))
}

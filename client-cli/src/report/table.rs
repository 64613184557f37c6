//! The report as a text table that reads at 80 columns: one line per category (or
//! constituency, or outcome) and a total line, one column per period, in blocks of as many
//! periods as fit.

use super::{Cell, Report};

/// The widest line.
const WIDTH: usize = 80;
/// The longest label kept whole.
const LABEL: usize = 34;

fn cell(c: Cell) -> String {
    c.count().map_or_else(|| "*".to_owned(), |n| n.to_string())
}

fn clip(label: &str, width: usize) -> String {
    if label.chars().count() <= width {
        return label.to_owned();
    }
    let mut s: String = label.chars().take(width - 1).collect();
    s.push('…');
    s
}

/// The table, ending with a newline.
pub fn render(report: &Report) -> String {
    let mut out = format!("{}\n", report.title);
    if report.rows.is_empty() {
        out.push_str("No tallies in this range.\n");
        return out;
    }
    let labels: Vec<String> = report
        .columns
        .iter()
        .map(|c| clip(&crate::output::escape_remote(&c.label), LABEL))
        .chain(["Total".to_owned()])
        .collect();
    let label_w = labels.iter().map(|l| l.chars().count()).max().unwrap_or(5);
    let cell_w = report
        .rows
        .iter()
        .flat_map(|r| {
            std::iter::once(r.period.len())
                .chain(r.cells.iter().map(|&c| cell(c).len()))
                .chain([cell(r.total).len()])
        })
        .max()
        .unwrap_or(1)
        + 2;
    let per_block = ((WIDTH - label_w) / cell_w).max(1);
    for block in report.rows.chunks(per_block) {
        out.push('\n');
        out.push_str(&format!("{:label_w$}", ""));
        for row in block {
            out.push_str(&format!("{:>cell_w$}", row.period));
        }
        out.push('\n');
        for (i, label) in labels.iter().enumerate() {
            let pad = label_w - label.chars().count();
            out.push_str(label);
            out.push_str(&" ".repeat(pad));
            for row in block {
                let c = row.cells.get(i).copied().unwrap_or(row.total);
                out.push_str(&format!("{:>cell_w$}", cell(c)));
            }
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "\n* suppressed: fewer than {m}, or hidden with them so that no suppressed count\n  \
         can be worked out from the others. Zeros are shown.\n",
        m = report.min_count
    ));
    out
}

//! The report as JSON: the columns, then one object per period whose counts are numbers, or
//! `null` where suppressed.

use serde_json::{Value, json};

use super::Report;

/// The JSON value.
pub fn render(report: &Report) -> Value {
    let rows: Vec<Value> = report
        .rows
        .iter()
        .map(|r| {
            let cells: serde_json::Map<String, Value> = report
                .columns
                .iter()
                .zip(&r.cells)
                .map(|(c, v)| (c.id.clone(), json!(v.count())))
                .collect();
            json!({ "period": r.period, "counts": cells, "total": r.total.count() })
        })
        .collect();
    json!({
        "title": report.title,
        "by": report.by,
        "min_count": report.min_count,
        "suppressed": "null",
        "columns": report.columns,
        "periods": rows,
    })
}

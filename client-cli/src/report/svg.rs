//! The report as an SVG chart for an annual report, drawn with plotters' SVG backend: one
//! stacked bar per period, a colour per column, suppressed counts drawn as a grey part of the
//! bar (its height is the shown total less the shown cells, itself a shown number) or, where
//! the period's total is suppressed too, as an outlined box of no meaning, marked `*`. A title,
//! both axes and a legend.

use anyhow::{Result, anyhow};
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::{Cell, Report};

/// The chart's size in pixels.
const SIZE: (u32, u32) = (960, 540);
const GREY: RGBColor = RGBColor(170, 170, 170);

/// The SVG document.
pub fn render(report: &Report) -> Result<String> {
    let mut svg = String::new();
    draw(report, &mut svg).map_err(|e| anyhow!("could not draw the chart: {e}"))?;
    Ok(svg)
}

fn draw(report: &Report, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let n = report.rows.len().max(1) as i32;
    let m = report.min_count;
    let shown_sum = |cells: &[Cell]| cells.iter().filter_map(|c| c.count()).sum::<u64>();
    let top = report
        .rows
        .iter()
        .map(|r| r.total.count().unwrap_or(shown_sum(&r.cells) + m))
        .max()
        .unwrap_or(1)
        .max(1);
    let labels: Vec<String> = report.rows.iter().map(|r| r.period.clone()).collect();
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&report.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(56)
        .build_cartesian_2d((0..n).into_segmented(), 0u64..top + top / 10 + 1)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("Period")
        .y_desc("Cases")
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .draw()?;
    let bar = |i: usize, from: u64, to: u64| {
        [
            (SegmentValue::Exact(i as i32), from),
            (SegmentValue::Exact(i as i32 + 1), to),
        ]
    };
    // One series per column that shows a count somewhere, stacked in column order.
    let mut base: Vec<u64> = vec![0; report.rows.len()];
    for (k, column) in report.columns.iter().enumerate() {
        let shown = report.rows.iter().any(|r| {
            r.cells
                .get(k)
                .and_then(|c| c.count())
                .is_some_and(|v| v > 0)
        });
        if !shown {
            continue;
        }
        let colour = Palette99::pick(k).to_rgba();
        let mut rects = Vec::new();
        for (i, row) in report.rows.iter().enumerate() {
            if let Some(v) = row.cells.get(k).and_then(|c| c.count()).filter(|&v| v > 0) {
                let mut r = Rectangle::new(bar(i, base[i], base[i] + v), colour.filled());
                r.set_margin(0, 0, 8, 8);
                rects.push(r);
                base[i] += v;
            }
        }
        chart
            .draw_series(rects)?
            .label(column.label.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    // What is suppressed.
    let mut hidden = Vec::new();
    let mut unknown = Vec::new();
    for (i, row) in report.rows.iter().enumerate() {
        match row.total {
            Cell::Count(total) if total > base[i] => {
                let mut r = Rectangle::new(bar(i, base[i], total), GREY.filled());
                r.set_margin(0, 0, 8, 8);
                hidden.push(r);
            }
            Cell::Hidden => {
                let mut r = Rectangle::new(bar(i, base[i], base[i] + m), GREY.stroke_width(2));
                r.set_margin(0, 0, 8, 8);
                unknown.push(r);
            }
            Cell::Count(_) => {}
        }
    }
    chart
        .draw_series(hidden)?
        .label(format!("Suppressed (fewer than {m}, or hidden with them)"))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], GREY.filled()));
    chart
        .draw_series(unknown)?
        .label(format!(
            "Period total below {m}: suppressed, height means nothing"
        ))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], GREY.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

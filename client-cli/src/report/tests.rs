//! The report's counting and every format, over tallies made here.

use candor_protocol::{Identity, Quarter, Tally};

use super::*;
use crate::policy::tests::card_for;

fn tally(categories: &[&str], quarter: &str, constituency: Option<&str>, outcome: &str) -> Tally {
    Tally::new(
        categories.iter().map(|c| c.parse().unwrap()).collect(),
        quarter.parse().unwrap(),
        constituency.map(|c| c.parse().unwrap()),
        outcome.parse().unwrap(),
    )
    .unwrap()
}

/// 2026Q1: 6 peer, 2 career, 7 safety; 2026Q2: 1 peer; 2026Q3 nothing; 2026Q4: 5 peer.
pub(crate) fn sample() -> Vec<Tally> {
    let mut out = Vec::new();
    for (n, cat, q) in [
        (6, "peer", "2026Q1"),
        (2, "career", "2026Q1"),
        (7, "safety", "2026Q1"),
        (1, "peer", "2026Q2"),
        (5, "peer", "2026Q4"),
    ] {
        for _ in 0..n {
            out.push(tally(&[cat], q, None, "resolved"));
        }
    }
    out
}

fn report_of(tallies: &[Tally], by: Dimension, periods: Periods) -> Report {
    let card = card_for(&Identity::generate(&mut candor_protocol::rand::rng()));
    let mut counter = Counter::new(&card, by, periods, None, None).unwrap();
    for t in tallies {
        counter.add(t);
    }
    counter.finish(5)
}

fn column(report: &Report, id: &str) -> usize {
    report.columns.iter().position(|c| c.id == id).unwrap()
}

#[test]
fn counts_are_per_period_with_empty_periods_and_small_cells_suppressed() {
    // Arrange / Act
    let report = report_of(&sample(), Dimension::Category, Periods::quarters());

    // Assert: four quarters, 2026Q3 all zeros; 2 career hides, and 6 peer (the smallest other)
    // with it; 2026Q2's total of 1 hides.
    let periods: Vec<&str> = report.rows.iter().map(|r| r.period.as_str()).collect();
    assert_eq!(periods, ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]);
    let (peer, career, safety) = (
        column(&report, "peer"),
        column(&report, "career"),
        column(&report, "safety"),
    );
    let q1 = &report.rows[0];
    assert_eq!(q1.cells[career], Cell::Hidden);
    assert_eq!(q1.cells[peer], Cell::Hidden);
    assert_eq!(q1.cells[safety], Cell::Count(7));
    assert_eq!(q1.total, Cell::Count(15));
    assert_eq!(report.rows[1].total, Cell::Hidden);
    assert!(report.rows[2].cells.iter().all(|&c| c == Cell::Count(0)));
    assert_eq!(report.rows[3].cells[peer], Cell::Count(5));
}

#[test]
fn a_fiscal_year_report_covers_whole_years_only() {
    // Arrange
    let card = card_for(&Identity::generate(&mut candor_protocol::rand::rng()));
    let july = Periods::years(7).unwrap();
    let q = |s: &str| Some(s.parse::<Quarter>().unwrap());

    // Act
    let refused = Counter::new(&card, Dimension::Outcome, july, q("2026Q1"), None);
    let whole = Counter::new(&card, Dimension::Outcome, july, q("2025Q3"), q("2026Q2"));

    // Assert
    assert!(
        refused
            .err()
            .unwrap()
            .to_string()
            .contains("first quarter of a period")
    );
    let mut whole = whole.unwrap();
    for t in sample() {
        whole.add(&t);
    }
    let report = whole.finish(5);
    assert_eq!(report.rows.len(), 1);
    assert_eq!(report.rows[0].period, "2025/26");
    // Only 2026Q1 and 2026Q2 fall in it: 16 cases, all resolved.
    assert_eq!(report.rows[0].total, Cell::Count(16));
}

#[test]
fn the_min_count_is_never_below_three() {
    assert!(check_min_count(2).is_err());
    assert_eq!(check_min_count(3).unwrap(), 3);
}

#[test]
fn the_table_fits_in_80_columns_and_marks_what_is_suppressed() {
    // Arrange: twelve quarters, so the table needs blocks.
    let mut tallies = sample();
    for y in 2027..2029 {
        for n in 1..=4 {
            tallies.push(tally(&["peer"], &format!("{y}Q{n}"), None, "resolved"));
        }
    }
    let report = report_of(&tallies, Dimension::Category, Periods::quarters());

    // Act
    let text = table::render(&report);

    // Assert
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    assert!(text.contains("2026Q1") && text.contains("2028Q4"));
    assert!(text.contains("Peer and colleague relationships"));
    assert!(text.contains("* suppressed"));
}

#[test]
fn the_csv_is_rfc_4180_with_suppressed_fields() {
    // Arrange
    let report = report_of(&sample(), Dimension::Category, Periods::quarters());

    // Act
    let bytes = csv::render(&report).unwrap();

    // Assert: CRLF records of one width, read back by a strict reader.
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.ends_with("\r\n"));
    assert!(!text.replace("\r\n", "").contains('\n'));
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(&bytes[..]);
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "period");
    let records: Vec<_> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 4);
    let total = header.len() - 1;
    assert_eq!(&records[0][total], "15");
    assert_eq!(&records[1][total], "suppressed");
}

#[test]
fn the_json_shows_null_where_suppressed() {
    let report = report_of(&sample(), Dimension::Category, Periods::quarters());
    let json = json::render(&report);
    assert_eq!(
        json["periods"][0]["counts"]["career"],
        serde_json::Value::Null
    );
    assert_eq!(json["periods"][0]["counts"]["safety"], 7);
    assert_eq!(json["periods"][1]["total"], serde_json::Value::Null);
    assert_eq!(json["periods"][3]["counts"]["peer"], 5);
}

#[test]
fn the_chart_is_valid_svg_naming_every_shown_category() {
    // Arrange
    let report = report_of(&sample(), Dimension::Category, Periods::quarters());

    // Act
    let svg = svg::render(&report).unwrap();

    // Assert: it parses; its text names the title, the periods, each category with a shown
    // count and the suppressed parts.
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let text: Vec<&str> = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    let all = text.join("\n");
    for want in [
        "Closed cases by category",
        "2026Q1",
        "2026Q4",
        "Safety, health and physical environment",
        "Peer and colleague relationships",
        "Suppressed",
    ] {
        assert!(all.contains(want), "{want} missing from {all}");
    }
    // Career is shown nowhere (its only count is suppressed), so it has no legend entry.
    assert!(!all.contains("Career progression"));
}

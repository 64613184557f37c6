//! The office's records: fifteen cases across categories and constituencies, closed with
//! outcomes and gone from the relay, leave fifteen tallies that survive a relay restart;
//! `candor report` counts them in every format with the right cells suppressed; an export
//! reads back the same; and the relay's files hold only sealed tallies, all of one size.

use std::time::{SystemTime, UNIX_EPOCH};

use candor_protocol::{Day, Quarter, Tally};
use candor_tests::{Party, Relay, files_containing};

use crate::Office;

/// (category, constituency, outcome) of each case: by constituency 7 student, 6 staff and
/// 2 faculty; by category 8 peer, 5 career, 2 safety; by outcome 9 resolved, 4 referred and
/// 2 withdrawn.
fn cases() -> Vec<(&'static str, &'static str, &'static str)> {
    let mut out = Vec::new();
    let constituencies = [&["student"; 7][..], &["staff"; 6], &["faculty"; 2]].concat();
    let categories = [&["peer"; 8][..], &["career"; 5], &["safety"; 2]].concat();
    let outcomes = [&["resolved"; 9][..], &["referred"; 4], &["withdrawn"; 2]].concat();
    for i in 0..15 {
        out.push((categories[i], constituencies[i], outcomes[i]));
    }
    out
}

fn this_quarter() -> Quarter {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Quarter::of_day(Day::from_unix(now))
}

#[test]
fn fifteen_closed_cases_leave_tallies_that_report_with_small_cells_suppressed() {
    // Arrange: fifteen cases, each raised and then closed; two closed first and deleted after.
    let mut relay = Relay::start();
    let office = Office::register(&relay, "Example University Ombuds Office", "ombuds");
    for (i, (category, constituency, outcome)) in cases().into_iter().enumerate() {
        Party::new()
            .candor(&[
                "raise",
                &office.address,
                "--yes",
                "--category",
                category,
                "--constituency",
                constituency,
                "--json",
            ])
            .stdin("MARKER-RECORDS-5b1e: a concern")
            .ok();
        let label = office.labels().pop().unwrap();
        let close = |extra: &[&str]| {
            let mut args = vec!["close", &label, "--outcome", outcome, "--yes", "--json"];
            args.extend_from_slice(extra);
            office.staff.candor(&args).ok().json()
        };
        if i < 13 {
            let closed = close(&["--delete"]);
            assert_eq!(closed["tally_recorded"], true);
        } else {
            assert_eq!(close(&["--no-message"])["tally_recorded"], true);
            // Deleting a closed case records nothing more.
            assert_eq!(close(&["--delete"])["tally_recorded"], false);
        }
    }

    // Act: every case is gone; the relay restarts; then the reports.
    assert!(office.labels().is_empty());
    relay.restart_on_same_port();
    let report = |args: &[&str]| {
        let mut all = vec!["report"];
        all.extend_from_slice(args);
        office.staff.candor(&all).ok().stdout
    };
    let by_constituency: serde_json::Value =
        serde_json::from_str(&report(&["--by", "constituency", "--format", "json"])).unwrap();
    let by_category: serde_json::Value =
        serde_json::from_str(&report(&["--by", "category", "--format", "json"])).unwrap();
    let by_outcome = report(&["--by", "outcome", "--format", "json"]);
    let table = report(&["--by", "constituency"]);
    let csv = report(&["--by", "constituency", "--format", "csv"]);
    let chart = office.staff.home().join("trends.svg");
    report(&["--format", "svg", "--out", chart.to_str().unwrap()]);
    let export = office.staff.home().join("tallies.jsonl");
    let exported = office
        .staff
        .candor(&["report", "--export", export.to_str().unwrap(), "--json"])
        .ok()
        .json();
    let imported = report(&[
        "--import",
        export.to_str().unwrap(),
        "--by",
        "outcome",
        "--format",
        "json",
    ]);

    // Assert: one period, this quarter. Faculty's 2 is suppressed, and staff's 6 with it, so
    // that neither can be worked out from the total of 15; zeros are shown.
    let q = this_quarter().to_string();
    let period = &by_constituency["periods"][0];
    assert_eq!(by_constituency["periods"].as_array().unwrap().len(), 1);
    assert_eq!(period["period"], q);
    assert_eq!(period["total"], 15);
    let counts = &period["counts"];
    assert_eq!(counts["student"], 7);
    assert!(
        counts["faculty"].is_null() && counts["staff"].is_null(),
        "{counts}"
    );
    assert_eq!(
        (counts["postdoc"].clone(), counts["none"].clone()),
        (0.into(), 0.into())
    );
    // By category: safety's 2 takes career's 5 with it.
    let counts = &by_category["periods"][0]["counts"];
    assert_eq!(counts["peer"], 8);
    assert!(
        counts["career"].is_null() && counts["safety"].is_null(),
        "{counts}"
    );
    // By outcome: 4 and 2 hide each other, summing to 6.
    let outcome: serde_json::Value = serde_json::from_str(&by_outcome).unwrap();
    let counts = &outcome["periods"][0]["counts"];
    assert_eq!(counts["resolved"], 9);
    assert!(
        counts["referred"].is_null() && counts["withdrawn"].is_null(),
        "{counts}"
    );
    // The table and the CSV say the same.
    let student = table.lines().find(|l| l.starts_with("Student")).unwrap();
    assert!(student.trim_end().ends_with(" 7"), "{table}");
    let staff = table.lines().find(|l| l.starts_with("Staff")).unwrap();
    assert!(staff.trim_end().ends_with('*'), "{table}");
    assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
    let row = csv.split("\r\n").nth(1).unwrap();
    assert_eq!(row, format!("{q},7,suppressed,suppressed,0,0,0,15"));
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("Peer and colleague relationships") && svg.contains("Suppressed"));
    // The export holds fifteen tallies, every one the same size, and reports the same.
    assert_eq!(exported["exported"], 15);
    let lines: Vec<String> = std::fs::read_to_string(&export)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 15);
    assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{lines:?}");
    assert_eq!(imported, by_outcome);
    // No tally's plaintext is in any of the relay's files.
    let plain = Tally::new(
        vec!["peer".parse().unwrap()],
        this_quarter(),
        Some("student".parse().unwrap()),
        "resolved".parse().unwrap(),
    )
    .unwrap()
    .encode();
    let used = plain.iter().rposition(|&b| b != 0).unwrap() + 1;
    assert_eq!(
        files_containing(relay.data_dir(), &plain[..used]),
        Vec::<std::path::PathBuf>::new()
    );
    assert!(files_containing(relay.data_dir(), b"MARKER-RECORDS-5b1e").is_empty());
}

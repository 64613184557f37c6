//! `candor resources ADDRESS`: the verified referral directory, filtered by audience and
//! confidentiality, without a case and without a proof of work.

use candor_tests::{Party, Relay};

use crate::Office;

#[test]
fn a_visitor_reads_the_referral_directory_without_opening_a_case() {
    // Arrange: an office whose card lists one confidential resource for students and staff.
    let relay = Relay::start();
    let office = Office::register(&relay, "Example University Ombuds Office", "ombuds");
    let visitor = Party::new();
    let resources = |extra: &[&str]| {
        let mut args = vec!["resources", office.address.as_str(), "--json"];
        args.extend_from_slice(extra);
        visitor.candor(&args)
    };

    // Act
    let all = resources(&[]).ok().json();
    let for_staff = resources(&["--audience", "staff", "--confidential"])
        .ok()
        .json();
    let for_faculty = resources(&["--audience", "faculty"]).ok().json();
    let text = visitor.candor(&["resources", &office.address]).ok().stdout;
    let unknown = resources(&["--audience", "alumni"]).run().expect_code(1);

    // Assert: the directory as the card lists it, filtered; nothing was opened at the office.
    assert_eq!(all["office"], "ombuds");
    assert_eq!(all["resources"][0]["id"], "counseling");
    assert_eq!(for_staff["resources"].as_array().unwrap().len(), 1);
    assert_eq!(for_faculty["resources"].as_array().unwrap().len(), 0);
    assert!(text.contains("Counseling and Crisis Support") && text.contains("confidential"));
    assert!(
        unknown.stdout.contains("no constituency alumni")
            || unknown.stderr.contains("no constituency alumni")
    );
    assert!(office.labels().is_empty());
}

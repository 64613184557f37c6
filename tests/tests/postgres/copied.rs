//! `candor-server copy` on a store the real binaries filled: a sled relay with an office and
//! cases with replies, one closed, is stopped, copied into PostgreSQL, and served from there on
//! the same port; the office and the visitors go on with `candor` as if nothing had moved.

use std::time::Duration;

use candor_tests::{Party, Relay, binaries};
use tokio::task::block_in_place;

use crate::cli::{Office, check, raise, send};
use crate::{Schema, database};

const FIRST: &str = "MARKER-COPY-1: the schedule changed without notice.";
const REPLY: &str = "MARKER-COPY-2: thank you; can we talk on Tuesday?";
const FOLLOW: &str = "MARKER-COPY-3: Tuesday works.";
const OTHER: &str = "MARKER-COPY-4: a second concern, later closed.";
const AFTER: &str = "MARKER-COPY-5: written after the move.";

/// `candor-server ARGS`, which must succeed; its stdout.
fn server(args: &[&str]) -> String {
    let out = assert_cmd::Command::new(&binaries().server)
        .env_clear()
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run candor-server");
    assert!(
        out.status.success(),
        "candor-server {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sled_relay_filled_by_the_binaries_is_copied_and_its_cases_read_from_postgres() {
    let Some(database) = database() else {
        return;
    };
    block_in_place(|| {
        // Arrange: a sled relay with two cases: one with a reply and a follow-up, one closed.
        let schema = Schema::new(&database);
        let mut relay = Relay::start();
        let office = Office::register(&relay, &relay.url, "ombuds");
        let (visitor, other) = (Party::new(), Party::new());
        let codename = raise(&visitor, &office.address, FIRST);
        let label = office.labels().pop().unwrap();
        assert_eq!(office.reply(&label, REPLY), 2);
        assert_eq!(send(&visitor, &office.address, &codename, FOLLOW), 3);
        raise(&other, &office.address, OTHER);
        let closed = office.labels().into_iter().find(|l| *l != label).unwrap();
        office
            .staff
            .candor(&[
                "close",
                &closed,
                "--outcome",
                "resolved",
                "--yes",
                "--no-message",
            ])
            .ok();
        relay.stop();
        let before = relay.check_store();

        // Act: copy, then the same relay (same port, same relay.key) on PostgreSQL.
        let data = relay.data_dir().to_str().unwrap().to_owned();
        let copied = server(&["copy", "--from", &data, "--to", &schema.url()]);
        relay.restart_on_same_port_with("CANDOR_STORE", &schema.url());
        let read = office.read(&label);
        let seen = check(&visitor, &office.address, &codename);
        let after = send(&visitor, &office.address, &codename, AFTER);
        let inbox = office.staff.candor(&["inbox", "--json"]).ok().json();
        let export = office.staff.home().join("tallies.jsonl");
        let exported = office
            .staff
            .candor(&["report", "--export", export.to_str().unwrap(), "--json"])
            .ok()
            .json();
        relay.stop();
        let checked = server(&["check", "--data-dir", &data, "--store", &schema.url()]);

        // Assert: the thread as written, both ways; new writes follow on; the closed case and
        // its tally came along; `check` agreed before and after (and counts the new envelope).
        assert!(
            copied.contains("copied 1 offices, 2 mailboxes, 4 envelopes"),
            "{copied}"
        );
        assert_eq!(read, [FIRST, REPLY, FOLLOW]);
        assert_eq!(seen, [FIRST, REPLY, FOLLOW]);
        assert_eq!(after, 4);
        let cases = inbox["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 2, "{inbox}");
        let closed_case = cases.iter().find(|c| c["case"] == closed.as_str()).unwrap();
        assert_eq!(closed_case["closed"], true, "{closed_case}");
        assert_eq!(exported["exported"], 1, "{exported}");
        assert!(
            before.starts_with("1 offices, 2 mailboxes, 4 envelopes"),
            "{before}"
        );
        assert!(
            checked.starts_with("1 offices, 2 mailboxes, 5 envelopes"),
            "{checked}"
        );
        assert!(checked.contains("ok: every invariant holds"), "{checked}");
    });
}

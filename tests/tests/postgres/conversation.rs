//! A whole conversation through the real `candor` binaries, behind a round-robin forwarder over
//! two instances on one database: the office's card names the forwarder, so each command of
//! the office and the visitor lands on whichever instance its connection is given.

use candor_tests::Party;
use candor_tests::balancer::Balancer;
use tokio::task::block_in_place;

use crate::cli::{Office, check, raise, send};
use crate::{Schema, database, two_instances};

const FIRST: &str = "MARKER-LB-1: my hours were cut after I complained.";
const REPLY: &str = "MARKER-LB-2: I am sorry to hear it; here is what we can do.";
const FOLLOW: &str = "MARKER-LB-3: thank you, that helps.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_conversation_with_candor_behind_a_round_robin_balancer_over_two_instances() {
    let Some(database) = database() else {
        return;
    };
    block_in_place(|| {
        // Arrange: two instances behind one forwarder, which the office's card names.
        let schema = Schema::new(&database);
        let (a, b) = two_instances(&schema.url());
        let backend = |url: &str| url.trim_start_matches("http://").to_owned();
        let balancer = Balancer::start(vec![backend(&a.url), backend(&b.url)]);
        let office = Office::register(&a, &balancer.url, "ombuds");
        let visitor = Party::new();

        // Act: raise, inbox, read, reply, check, follow-up, read, close.
        let codename = raise(&visitor, &office.address, FIRST);
        let labels = office.labels();
        let label = labels.first().unwrap().clone();
        let first_read = office.read(&label);
        let replied = office.reply(&label, REPLY);
        let seen = check(&visitor, &office.address, &codename);
        let followed = send(&visitor, &office.address, &codename, FOLLOW);
        let second_read = office.read(&label);
        let closed = office
            .staff
            .candor(&[
                "close",
                &label,
                "--outcome",
                "resolved",
                "--delete",
                "--yes",
                "--json",
            ])
            .ok()
            .json();
        let gone = visitor
            .candor(&["check", &office.address])
            .env("CANDOR_CODENAME", &codename)
            .run()
            .expect_code(2);

        // Assert: one relay as both parties saw it, and both instances took connections.
        assert_eq!(labels.len(), 1);
        assert_eq!(first_read, [FIRST]);
        assert_eq!(replied, 2);
        assert_eq!(seen, [FIRST, REPLY]);
        assert_eq!(followed, 3);
        assert_eq!(second_read, [FIRST, REPLY, FOLLOW]);
        assert_eq!(closed["closed"], true, "{closed}");
        assert_eq!(closed["deleted"], true, "{closed}");
        assert!(office.labels().is_empty());
        assert!(
            gone.stderr.contains("no case for this codename"),
            "{}",
            gone.stderr
        );
        let served = balancer.served();
        assert!(
            served.iter().all(|n| *n > 0),
            "connections per instance: {served:?}"
        );
    });
}

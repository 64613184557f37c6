//! A handoff through the real `candor` binaries, behind a round-robin forwarder over two
//! instances on one database: each step of the office, the visitor and the third party lands on
//! whichever instance its connection is given, and the handoff behaves as on one relay.

use candor_tests::balancer::Balancer;
use candor_tests::{Party, message_file};
use tokio::task::block_in_place;

use crate::cli::{Office, raise};
use crate::{Schema, database, two_instances};

const CONCERN: &str = "MARKER-LB-HO-1: the lab rota leaves me out.";
const ANSWER: &str = "MARKER-LB-HO-2: the rota is fixed from Monday.";
const IDENTITY: &str = "MARKER-LB-HO-3: Jane Roe";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handoff_from_proposal_to_answer_behind_a_round_robin_balancer_over_two_instances() {
    let Some(database) = database() else {
        return;
    };
    block_in_place(|| {
        // Arrange: two instances behind one forwarder; an office, a case and a third party whose
        // card names the forwarder.
        let schema = Schema::new(&database);
        let (a, b) = two_instances(&schema.url());
        let backend = |url: &str| url.trim_start_matches("http://").to_owned();
        let balancer = Balancer::start(vec![backend(&a.url), backend(&b.url)]);
        let office = Office::register(&a, &balancer.url, "ombuds");
        let third = Party::new();
        let init = ["third-party", "init", "--name", "Head of Chemistry"];
        let mut args = init.to_vec();
        args.extend(["--relay", balancer.url.as_str()]);
        third.candor(&args).ok();
        let card = third.candor(&["third-party", "card"]).ok().stdout;
        let card_file = message_file(office.staff.home(), "card.json", &card);
        let add = ["office", "third-party", "add", card_file.to_str().unwrap()];
        let mut args = add.to_vec();
        args.extend(["--as", "chem", "--yes"]);
        office.staff.candor(&args).ok();
        let visitor = Party::new();
        let codename = raise(&visitor, &office.address, CONCERN);
        let label = office.labels().remove(0);
        let as_visitor = |args: &[&str]| {
            visitor
                .candor(args)
                .env("CANDOR_CODENAME", &codename)
                .ok()
                .json()
        };

        // Act: propose, show, consent with the identity, agree; the third party reads and
        // answers; the ombuds reads the answer.
        let proposed = office
            .staff
            .candor(&[
                "--json",
                "handoff",
                "propose",
                &label,
                "--to",
                "chem",
                "--purpose",
                "fix the rota",
                "--message",
                "1",
                "--ask-identity",
                "--yes",
            ])
            .ok()
            .json();
        let handoff = proposed["handoff"].as_str().unwrap().to_owned();
        let shown = as_visitor(&["--json", "handoff", "show", &office.address]);
        as_visitor(&[
            "--json",
            "handoff",
            "consent",
            &office.address,
            &handoff,
            "--identity",
            IDENTITY,
            "--yes",
        ]);
        office
            .staff
            .candor(&["--json", "handoff", "agree", &label, &handoff, "--yes"])
            .ok();
        let read = third
            .candor(&["--json", "third-party", "read", &handoff])
            .ok()
            .json();
        let answer = message_file(third.home(), "answer.txt", ANSWER);
        third
            .candor(&[
                "third-party",
                "reply",
                &handoff,
                "--message-file",
                answer.to_str().unwrap(),
            ])
            .ok();
        let case = office.staff.candor(&["--json", "read", &label]).ok().json();
        let states = as_visitor(&["--json", "handoff", "status", &office.address]);

        // Assert: the same handoff at every step, whichever instance served it.
        assert_eq!(shown[0]["proposal"]["items"][0]["text"], CONCERN);
        assert_eq!(read["items"][0]["text"], CONCERN);
        assert_eq!(read["identity"], IDENTITY);
        assert_eq!(case["third_parties"][0]["messages"][0]["text"], ANSWER);
        assert_eq!(states[0]["state"], "fetched");
        assert!(!case.to_string().contains("MARKER-LB-HO-3"));
        let served = balancer.served();
        assert!(
            served.iter().all(|n| *n > 0),
            "connections per instance: {served:?}"
        );
    });
}

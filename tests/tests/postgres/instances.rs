//! Two instances on one database are one relay: a case, a single-use token and a signed
//! request move between them as on one instance; one instance's death or the database's restart
//! loses nothing acknowledged.

use std::time::Duration;

use candor_tests::Relay;
use candor_tests::api::{Api, TestCase};
use candor_tests::balancer::Balancer;
use tokio::task::block_in_place;

use crate::{Cluster, Schema, assert_problem, database, two_instances};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_opened_at_one_instance_is_listed_and_read_at_the_other() {
    let Some(database) = database() else {
        return;
    };
    // Arrange: an office registered at A.
    let schema = block_in_place(|| Schema::new(&database));
    let (a, b) = block_in_place(|| two_instances(&schema.url()));
    let (at_a, at_b) = (Api::new(&a.url), Api::new(&b.url));
    let invite = block_in_place(|| a.invite());
    let office = at_a.register(&invite, "ombuds", 90).await;

    // Act: the visitor opens the case and writes again at A.
    let case = at_a.open_case(&office).await;
    let seq = at_a
        .append(&case, &case.envelope(&office, "second"))
        .await
        .unwrap()
        .expect("an append at A");

    // Assert: B lists the case and serves both envelopes.
    assert_eq!(seq, 2);
    assert_eq!(at_b.inbox(&office).await, [case.mailbox()]);
    let envelopes = at_b.envelopes(&case).await.expect("the case at B");
    assert_eq!(
        envelopes.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(at_a.envelopes(&case).await, Some(envelopes));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_of_work_or_invite_used_at_one_instance_is_refused_at_the_other() {
    let Some(database) = database() else {
        return;
    };
    // Arrange
    let schema = block_in_place(|| Schema::new(&database));
    let (a, b) = block_in_place(|| two_instances(&schema.url()));
    let (at_a, at_b) = (Api::new(&a.url), Api::new(&b.url));
    let invite = block_in_place(|| b.invite());
    let office = at_a.register(&invite, "ombuds", 90).await;
    let challenge = at_b.challenge().await;
    let first = TestCase::new(&office);
    let opened = at_a
        .open_with(
            &first,
            &Api::open_body(
                &office,
                &first,
                challenge.solve(first.keys.mailbox.as_bytes()),
            ),
        )
        .await
        .unwrap();

    // Act: the same challenge, solved for another case, and the same invite, at B.
    let second = TestCase::new(&office);
    let reused = at_b
        .open_with(
            &second,
            &Api::open_body(
                &office,
                &second,
                challenge.solve(second.keys.mailbox.as_bytes()),
            ),
        )
        .await
        .unwrap();
    let other = candor_tests::api::TestOffice::new("other", 90);
    let reinvited = at_b.register_with(&other, &invite).await.unwrap();

    // Assert: a challenge minted at B was accepted at A once, and refused after.
    assert_eq!(opened.status, 201);
    assert_problem(&reused, 403, "pow-used");
    assert_problem(&reinvited, 403, "invite-used");
    assert_eq!(at_b.inbox(&office).await, [first.mailbox()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_accepted_at_one_instance_is_refused_as_a_replay_at_the_other() {
    let Some(database) = database() else {
        return;
    };
    // Arrange: a case at A, and one signed read of its envelopes.
    let schema = block_in_place(|| Schema::new(&database));
    let (a, b) = block_in_place(|| two_instances(&schema.url()));
    let (at_a, at_b) = (Api::new(&a.url), Api::new(&b.url));
    let invite = block_in_place(|| a.invite());
    let office = at_a.register(&invite, "ombuds", 90).await;
    let case = at_a.open_case(&office).await;
    let path = format!("/v1/mailboxes/{}/envelopes", case.mailbox());
    let auth = at_a.sign(
        &case.keys.signing,
        candor_protocol::request::Signer::Case,
        "GET",
        &path,
        b"",
    );

    // Act: sent to A, then the same bytes to B.
    let first = at_a.send("GET", &path, b"", &auth).await.unwrap();
    let replayed = at_b.send("GET", &path, b"", &auth).await.unwrap();

    // Assert: and a freshly signed read at B still works.
    assert_eq!(
        first.status,
        200,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    assert_problem(&replayed, 401, "replayed-request");
    assert!(at_b.envelopes(&case).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_database_is_down_requests_get_503_and_then_work_again() {
    if database().is_none() {
        return;
    }
    // Arrange: a relay on a cluster of its own, with a case.
    let cluster = block_in_place(Cluster::start);
    let schema = block_in_place(|| Schema::new(&cluster.url()));
    let relay = block_in_place(|| Relay::start_with(&[("CANDOR_STORE", &schema.url())]));
    let api = Api::new(&relay.url);
    let invite = block_in_place(|| relay.invite());
    let office = api.register(&invite, "ombuds", 90).await;
    let case = api.open_case(&office).await;
    let healthy = api.get("/v1/health").await.unwrap();
    assert_eq!(healthy.status, 200, "health before the stop");

    // Act: the database stops, then starts again.
    block_in_place(|| cluster.run("stop"));
    let down = api
        .append(&case, &case.envelope(&office, "while down"))
        .await
        .unwrap()
        .expect_err("an append while the database is down");
    assert_problem(&down, 503, "unavailable");
    // Health follows: the append that failed marked the store down (and the ping, once a
    // second, keeps it so), so a balancer routes around this instance.
    let sick = health_until(&api, 503).await;
    assert_problem(&sick, 503, "unavailable");
    block_in_place(|| cluster.run("start"));
    // The pool reconnects on its own schedule (backing off up to its connect timeout): until
    // it has, requests still get 503, never anything else.
    let mut up = Err(down.clone());
    for _ in 0..60 {
        up = api
            .append(&case, &case.envelope(&office, "after"))
            .await
            .unwrap();
        match &up {
            Ok(_) => break,
            Err(answer) => assert_problem(answer, 503, "unavailable"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Assert: 503 (never 500) while down, nothing half-written, and served again after.
    assert_eq!(up.expect("an append after the restart"), 2);
    let seqs: Vec<u64> = api
        .envelopes(&case)
        .await
        .unwrap()
        .iter()
        .map(|(seq, _)| *seq)
        .collect();
    assert_eq!(seqs, [1, 2]);
    assert_eq!(health_until(&api, 200).await.status, 200, "health after");
    drop(schema);
}

/// `GET /v1/health` until it answers `status`, for at most 10 s (its flag follows the
/// database within a ping, once a second); the last answer.
async fn health_until(api: &Api, status: u16) -> candor_tests::api::Answer {
    let mut answer = api.get("/v1/health").await.unwrap();
    for _ in 0..40 {
        if answer.status == status {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        answer = api.get("/v1/health").await.unwrap();
    }
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_round_robin_balancer_the_visitor_and_the_office_land_on_both_instances() {
    let Some(database) = database() else {
        return;
    };
    // Arrange: two instances behind one forwarder; the visitor and the office each hold their
    // own connection, which the forwarder sends to an instance in turn.
    let schema = block_in_place(|| Schema::new(&database));
    let (a, b) = block_in_place(|| two_instances(&schema.url()));
    let backend = |url: &str| {
        url.trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned()
    };
    let balancer = Balancer::start(vec![backend(&a.url), backend(&b.url)]);
    let (ombuds, visitor) = (Api::new(&balancer.url), Api::new(&balancer.url));
    let invite = block_in_place(|| a.invite());
    let office = ombuds.register(&invite, "ombuds", 90).await;

    // Act
    let case = visitor.open_case(&office).await;
    let seq = visitor
        .append(&case, &case.envelope(&office, "second"))
        .await
        .unwrap()
        .expect("an append through the balancer");
    let listed = ombuds.inbox(&office).await;
    let envelopes = ombuds.envelopes(&case).await.expect("the case");

    // Assert: each instance served a party, and the office sees what the visitor wrote.
    let served = balancer.served();
    assert!(
        served.iter().all(|n| *n > 0),
        "connections per instance: {served:?}"
    );
    assert_eq!(seq, 2);
    assert_eq!(listed, [case.mailbox()]);
    assert_eq!(
        envelopes.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        [1, 2]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_one_instance_under_appends_loses_no_acknowledged_envelope() {
    let Some(database) = database() else {
        return;
    };
    // Arrange: four cases, each written to at A by a writer of its own.
    let schema = block_in_place(|| Schema::new(&database));
    let (mut a, b) = block_in_place(|| two_instances(&schema.url()));
    let (at_a, at_b) = (Api::new(&a.url), Api::new(&b.url));
    let invite = block_in_place(|| a.invite());
    let office = at_a.register(&invite, "ombuds", 90).await;
    let (acks, mut acked) = tokio::sync::mpsc::unbounded_channel();
    let mut writers = Vec::new();
    for _ in 0..4 {
        let case = at_a.open_case(&office).await;
        let bodies: Vec<_> = (0..40)
            .map(|i| case.envelope(&office, &format!("line {i}")))
            .collect();
        let (api, acks) = (Api::new(&a.url), acks.clone());
        writers.push(tokio::spawn(async move {
            for body in &bodies {
                match api.append(&case, body).await {
                    Ok(Ok(seq)) => acks.send((case.mailbox(), seq)).unwrap(),
                    _ => break,
                }
            }
            case
        }));
    }
    drop(acks);

    // Act: kill -9 A once twelve appends were acknowledged, while the writers go on.
    let mut seen = Vec::new();
    while seen.len() < 12 {
        seen.push(
            acked
                .recv()
                .await
                .expect("appends acknowledged before the kill"),
        );
    }
    block_in_place(|| a.stop());
    let mut cases = Vec::new();
    for writer in writers {
        cases.push(writer.await.unwrap());
    }
    while let Some(ack) = acked.recv().await {
        seen.push(ack);
    }

    // Assert: B serves every acknowledged envelope, and takes new ones.
    assert!(!block_in_place(|| a.is_running()));
    assert!(
        seen.len() < 4 * 40,
        "the kill came after every append: nothing was in flight"
    );
    for case in &cases {
        let stored: Vec<u64> = at_b
            .envelopes(case)
            .await
            .expect("the case at B")
            .iter()
            .map(|(seq, _)| *seq)
            .collect();
        for (_, seq) in seen.iter().filter(|(m, _)| *m == case.mailbox()) {
            assert!(stored.contains(seq), "acknowledged {seq} lost: {stored:?}");
        }
        let next = at_b
            .append(case, &case.envelope(&office, "after the kill"))
            .await
            .unwrap()
            .expect("B takes an append");
        assert_eq!(next, stored.last().unwrap() + 1);
    }
}

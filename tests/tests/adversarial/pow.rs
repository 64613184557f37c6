//! Opening a mailbox without paying: reusing a solution, keeping a challenge past its expiry,
//! and lowering the difficulty written in the challenge.

use std::time::Duration;

use candor_tests::api::{Api, TestCase};

use crate::{assert_problem, relay_with_office};

/// The shortest challenge lifetime the relay accepts, so that expiry can be waited for.
const POW_TTL_SECS: u64 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_of_work_is_not_reusable_forgeable_or_kept_past_its_expiry() {
    let (_relay, api, office) = relay_with_office(&[("CANDOR_POW_TTL_SECS", "10")], "pow").await;

    // A challenge is fetched now and solved honestly, to be used after it expires.
    let late = TestCase::new(&office);
    let kept = api.challenge().await.solve(late.keys.mailbox.as_bytes());

    // Reuse: a solution opens one mailbox; the same challenge solved for another is refused.
    let first = TestCase::new(&office);
    let challenge = api.challenge().await;
    let body = Api::open_body(
        &office,
        &first,
        challenge.solve(first.keys.mailbox.as_bytes()),
    );
    assert_eq!(api.open_with(&first, &body).await.unwrap().status, 201);
    let second = TestCase::new(&office);
    let reused = Api::open_body(
        &office,
        &second,
        challenge.solve(second.keys.mailbox.as_bytes()),
    );
    assert_problem(
        &api.open_with(&second, &reused).await.unwrap(),
        403,
        "pow-used",
    );

    // Lower difficulty: the relay's MAC covers the difficulty, so an edited one is refused.
    for difficulty in [0, 1, 7] {
        let mut forged = api.challenge().await;
        forged.difficulty = difficulty;
        let body = Api::open_body(
            &office,
            &second,
            forged.solve(second.keys.mailbox.as_bytes()),
        );
        assert_problem(
            &api.open_with(&second, &body).await.unwrap(),
            403,
            "pow-invalid",
        );
    }
    // A later expiry is refused the same way.
    let mut extended = api.challenge().await;
    extended.expires += 86_400;
    let body = Api::open_body(
        &office,
        &second,
        extended.solve(second.keys.mailbox.as_bytes()),
    );
    assert_problem(
        &api.open_with(&second, &body).await.unwrap(),
        403,
        "pow-invalid",
    );

    // Expired: a genuine solution presented after the challenge's lifetime.
    tokio::time::sleep(Duration::from_secs(POW_TTL_SECS + 2)).await;
    let body = Api::open_body(&office, &late, kept);
    assert_problem(
        &api.open_with(&late, &body).await.unwrap(),
        403,
        "pow-invalid",
    );

    // None of the refused attempts opened a mailbox; a fresh, honest solution still does.
    assert_eq!(api.inbox(&office).await, vec![first.mailbox()]);
    let honest = api.challenge().await.solve(second.keys.mailbox.as_bytes());
    let body = Api::open_body(&office, &second, honest);
    assert_eq!(api.open_with(&second, &body).await.unwrap().status, 201);
}

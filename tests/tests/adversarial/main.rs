//! Adversarial tests against the real `candor-server` binary on loopback: each tries an attack
//! (replay, someone else's key, mailbox enumeration, proof-of-work bypass, oversize and deeply
//! nested bodies, slow connections, reading the logs) and asserts that it fails.
//!
//! Several of these attacks are also tried in-process in `server/tests/api/`; here they go
//! through the binary an operator runs, with its default configuration.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod keys;
mod limits;
mod logs;
mod pow;
mod replay;
mod slowloris;

use candor_tests::Relay;
use candor_tests::api::{Answer, Api, TestOffice};

/// A relay with `env`, and a registered office with id `id`.
async fn relay_with_office(env: &[(&str, &str)], id: &str) -> (Relay, Api, TestOffice) {
    let relay = tokio::task::block_in_place(|| Relay::start_with(env));
    let invite = tokio::task::block_in_place(|| relay.invite());
    let api = Api::new(&relay.url);
    let office = api.register(&invite, id, 90).await;
    (relay, api, office)
}

/// Asserts a problem+json answer with this status and type suffix.
#[track_caller]
fn assert_problem(answer: &Answer, status: u16, kind: &str) {
    assert_eq!(
        (answer.status, answer.problem()),
        (status, format!("urn:candor:problem:{kind}")),
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
}

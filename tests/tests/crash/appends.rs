//! Concurrent appends, with the relay killed at random moments: nothing acknowledged is lost.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use candor_tests::api::{Api, TestCase, TestOffice};

use crate::{
    Ledger, State, kill_check_restart, open_cases, random_pause, relay_with_office, verify,
};

/// Kills per run.
const KILLS: usize = 5;
/// Client tasks appending at once.
const WORKERS: usize = 6;
/// Mailboxes the workers share (fewer than workers, so that some append to the same one).
const MAILBOXES: usize = 4;
/// Appends one worker makes at most per round (a bound; the kill comes first).
const PER_ROUND: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_appends_survive_repeated_kill_9() {
    // Arrange: an office and a few mailboxes.
    let (mut relay, invite) = relay_with_office(&[("CANDOR_MAX_ENVELOPES_PER_MAILBOX", "100000")]);
    let api = Api::new(&relay.url);
    let office = Arc::new(api.register(&invite, "crash", 90).await);
    let cases = Arc::new(open_cases(&api, &office, MAILBOXES).await);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    // Every envelope ever sent, acknowledged or not: nothing else may appear in the store.
    let sent = Arc::new(Mutex::new(HashSet::<String>::new()));
    // Each case's first envelope came with its opening, acknowledged as seq 1.
    for case in cases.iter() {
        let first: serde_json::Value = serde_json::from_slice(&case.first).unwrap();
        sent.lock().unwrap().insert(canonical(&first));
        ledger
            .lock()
            .unwrap()
            .ack(&case.mailbox(), 1, case.first.clone());
    }

    for round in 0..KILLS {
        // Act: workers append until the relay dies under them.
        let api = Api::new(&relay.url);
        let mut workers = tokio::task::JoinSet::new();
        for worker in 0..WORKERS {
            let (api, office, cases) = (api.clone(), office.clone(), cases.clone());
            let (ledger, sent) = (ledger.clone(), sent.clone());
            workers.spawn(async move {
                append_until_refused(&api, &office, &cases, worker, round, &ledger, &sent).await
            });
        }
        random_pause(150..1200).await;
        let report = kill_check_restart(&mut relay);
        let appended: usize = workers.join_all().await.into_iter().sum();
        eprintln!("round {round}: {appended} acknowledged appends, then kill; check: {report}");

        // Assert: every acknowledged envelope is there, byte for byte.
        let api = Api::new(&relay.url);
        let inbox = api.inbox(&office).await;
        // A snapshot: nothing appends while we look.
        let ledger = ledger.lock().unwrap().clone();
        for case in cases.iter() {
            assert_eq!(
                verify(&api, case, &ledger, &inbox, false).await,
                State::Whole
            );
            let stored = api.envelopes(case).await.unwrap();
            let sent = sent.lock().unwrap();
            for (seq, envelope) in stored {
                assert!(
                    sent.contains(&canonical(&envelope)),
                    "seq {seq} holds an envelope nobody sent"
                );
            }
        }
    }
    let total = ledger.lock().unwrap().count();
    assert!(
        total > KILLS,
        "only {total} appends were acknowledged; the test proved little"
    );
}

/// Appends to the shared mailboxes until the relay stops answering; returns how many were
/// acknowledged.
async fn append_until_refused(
    api: &Api,
    office: &TestOffice,
    cases: &[TestCase],
    worker: usize,
    round: usize,
    ledger: &Mutex<Ledger>,
    sent: &Mutex<HashSet<String>>,
) -> usize {
    let mut acked = 0;
    for i in 0..PER_ROUND {
        let case = &cases[(worker + i) % cases.len()];
        let envelope = case.envelope(office, &format!("round {round} worker {worker} #{i}"));
        let json: serde_json::Value = serde_json::from_slice(&envelope).unwrap();
        sent.lock().unwrap().insert(canonical(&json));
        match api.append(case, &envelope).await {
            Ok(Ok(seq)) => {
                ledger.lock().unwrap().ack(&case.mailbox(), seq, envelope);
                acked += 1;
            }
            Ok(Err(answer)) => panic!(
                "an append was refused: {} {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ),
            // The relay died mid-request: this one was never acknowledged.
            Err(_) => break,
        }
    }
    acked
}

/// One spelling of an envelope's JSON (serde_json's maps are sorted).
fn canonical(envelope: &serde_json::Value) -> String {
    envelope.to_string()
}

//! Many deletions in flight (racing appends), with the relay killed among them: each mailbox is
//! afterwards whole or wholly gone, and an acknowledged deletion stays done.

use std::sync::{Arc, Mutex};

use candor_tests::api::Api;

use crate::{
    Ledger, State, kill_check_restart, open_cases, random_pause, relay_with_office, verify,
};

/// Kills per run.
const ROUNDS: usize = 5;
/// Mailboxes deleted at once in each round.
const MAILBOXES: usize = 24;
/// Envelopes in each mailbox before the deletions start.
const ENVELOPES: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_during_deletions_leaves_each_mailbox_whole_or_gone() {
    let (mut relay, invite) = relay_with_office(&[]);
    let office = Arc::new(Api::new(&relay.url).register(&invite, "deletes", 90).await);
    let (mut whole, mut gone) = (0, 0);

    for round in 0..ROUNDS {
        // Arrange: mailboxes with acknowledged envelopes.
        let api = Api::new(&relay.url);
        let cases = open_cases(&api, &office, MAILBOXES).await;
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        for case in &cases {
            for i in 0..ENVELOPES {
                let envelope = case.envelope(&office, &format!("before delete #{i}"));
                let seq = api.append(case, &envelope).await.unwrap().unwrap();
                ledger.lock().unwrap().ack(&case.mailbox(), seq, envelope);
            }
        }

        // Act: delete every mailbox at once, each racing one more append, and kill the relay
        // among them.
        let cases = Arc::new(cases);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..cases.len() {
            let (api, cases, office, ledger) =
                (api.clone(), cases.clone(), office.clone(), ledger.clone());
            tasks.spawn(async move {
                let case = &cases[i];
                let envelope = case.envelope(&office, "racing the delete");
                let (appended, deleted) =
                    tokio::join!(api.append(case, &envelope), api.delete(case));
                if let Ok(Ok(seq)) = appended {
                    ledger.lock().unwrap().ack(&case.mailbox(), seq, envelope);
                }
                // 204 means on disk: the deletion must survive the kill.
                (i, deleted.is_ok_and(|a| a.status == 204))
            });
        }
        random_pause(20..300).await;
        let report = kill_check_restart(&mut relay);
        let acked_deletes = tasks.join_all().await;

        // Assert
        let api = Api::new(&relay.url);
        let inbox = api.inbox(&office).await;
        // A snapshot: nothing appends while we look.
        let ledger = ledger.lock().unwrap().clone();
        let mut deleted_here = 0;
        for (i, acked) in acked_deletes {
            let state = verify(&api, &cases[i], &ledger, &inbox, true).await;
            if acked {
                assert_eq!(state, State::Gone, "an acknowledged deletion was undone");
            }
            match state {
                State::Whole => whole += 1,
                State::Gone => {
                    gone += 1;
                    deleted_here += 1;
                }
            }
        }
        eprintln!(
            "round {round}: {deleted_here} of {MAILBOXES} mailboxes gone after the kill; check: \
             {report}"
        );
    }
    eprintln!("in all: {whole} whole, {gone} gone");
}

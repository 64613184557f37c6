//! Crash safety: the real `candor-server` is killed with SIGKILL at random moments while clients
//! append, while the sweeper deletes expired mailboxes, and while cases are being deleted. After
//! each kill, `candor-server check` must pass on the stopped store, and after each restart every
//! acknowledged envelope must be there byte for byte, and every mailbox must be either whole or
//! wholly gone.
//!
//! A SIGKILL loses the process's memory but not the kernel's page cache, so these tests prove
//! the relay's transactions and sled's recovery, not the fsync itself (that would take a power
//! cut, which a test on a shared machine cannot make).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod appends;
mod deletion;
mod sweep;

use std::collections::HashMap;
use std::time::Duration;

use candor_protocol::rand::RngExt as _;
use candor_tests::Relay;
use candor_tests::api::{Api, TestCase, TestOffice};

/// What the clients were told is on disk: per mailbox, seq → the envelope JSON sent.
#[derive(Default, Clone)]
struct Ledger {
    acked: HashMap<String, HashMap<u64, Vec<u8>>>,
}

impl Ledger {
    /// Records a 2xx append; two acknowledgements of one seq would be a lost write.
    fn ack(&mut self, mailbox: &str, seq: u64, envelope: Vec<u8>) {
        let old = self
            .acked
            .entry(mailbox.to_owned())
            .or_default()
            .insert(seq, envelope);
        assert!(
            old.is_none(),
            "mailbox {mailbox}: seq {seq} was acknowledged twice, so one write is lost"
        );
    }

    fn count(&self) -> usize {
        self.acked.values().map(HashMap::len).sum()
    }
}

/// What a mailbox looks like after a restart.
#[derive(Debug, PartialEq, Eq)]
enum State {
    /// Every acknowledged envelope is there, byte for byte.
    Whole,
    /// 404, and absent from the office's inbox.
    Gone,
}

/// Checks one mailbox against the ledger: whole, or (if `may_be_gone`) wholly gone. Panics on
/// anything in between.
async fn verify(
    api: &Api,
    case: &TestCase,
    ledger: &Ledger,
    inbox: &[String],
    may_be_gone: bool,
) -> State {
    let mailbox = case.mailbox();
    let acked = ledger.acked.get(&mailbox).cloned().unwrap_or_default();
    let Some(stored) = api.envelopes(case).await else {
        assert!(
            may_be_gone,
            "mailbox {mailbox} is gone, with {} acknowledged envelopes",
            acked.len()
        );
        assert!(
            !inbox.contains(&mailbox),
            "mailbox {mailbox} answers 404 but is still in the office's inbox"
        );
        return State::Gone;
    };
    assert!(
        inbox.contains(&mailbox),
        "mailbox {mailbox} answers but is missing from the office's inbox"
    );
    let stored: HashMap<u64, serde_json::Value> = stored.into_iter().collect();
    for (seq, sent) in &acked {
        let sent: serde_json::Value = serde_json::from_slice(sent).unwrap();
        match stored.get(seq) {
            Some(found) => assert_eq!(
                found, &sent,
                "mailbox {mailbox}: the envelope at acknowledged seq {seq} differs from what was sent"
            ),
            None => panic!(
                "mailbox {mailbox}: acknowledged seq {seq} is lost ({} of {} acknowledged \
                 envelopes are there)",
                acked.keys().filter(|s| stored.contains_key(s)).count(),
                acked.len()
            ),
        }
    }
    State::Whole
}

/// Kills the relay (SIGKILL), runs `candor-server check` on the stopped store, and starts it
/// again on the same directory. Returns the check's report.
fn kill_check_restart(relay: &mut Relay) -> String {
    tokio::task::block_in_place(|| {
        relay.stop();
        let report = relay.check_store();
        assert!(report.contains("ok: every invariant holds"), "{report}");
        relay.restart();
        report
    })
}

/// A random pause in `range` milliseconds.
async fn random_pause(range: std::ops::Range<u64>) {
    let ms = candor_protocol::rand::rng().random_range(range);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// A relay with `env`, and an invite for it.
fn relay_with_office(env: &[(&str, &str)]) -> (Relay, String) {
    let relay = tokio::task::block_in_place(|| Relay::start_with(env));
    let invite = tokio::task::block_in_place(|| relay.invite());
    (relay, invite)
}

/// Opens `n` mailboxes concurrently, each with a real proof of work.
async fn open_cases(api: &Api, office: &std::sync::Arc<TestOffice>, n: usize) -> Vec<TestCase> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let api = api.clone();
        let office = office.clone();
        tasks.spawn(async move { api.open_case(&office).await });
    }
    tasks.join_all().await
}

//! A kill during a retention sweep: each expired mailbox is afterwards whole or wholly gone, the
//! fresh ones are whole, and the sweep finishes after the restarts.
//!
//! The relay binary has no clock to move, and a retention period is at least a day. So the
//! expired mailboxes are made by the relay's own library (`Application::build_with_clock`, the
//! same code the binary runs) with its clock three days in the past; then the real binary opens
//! that store and its sweeper deletes them, once a second, in small batches.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use candor_server::clock::ManualClock;
use candor_server::config::Settings;
use candor_server::startup::Application;
use candor_tests::Relay;
use candor_tests::api::{Api, TestCase, TestOffice, now};

use crate::{Ledger, State, open_cases, random_pause, verify};

/// Kills per run.
const KILLS: usize = 5;
/// Mailboxes that expired two days ago.
const EXPIRED: usize = 100;
/// Mailboxes that expire tomorrow.
const FRESH: usize = 12;
/// Envelopes in each mailbox.
const ENVELOPES: usize = 2;
/// How far back the relay's clock is when the expired mailboxes are written.
const PAST: i64 = 3 * 86_400;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_during_a_retention_sweep_leaves_each_mailbox_whole_or_gone() {
    // Arrange: a store with expired and fresh mailboxes, written by the relay's own code.
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let (data, office, expired, fresh) = expired_store(&ledger).await;
    let sweeping = [
        ("CANDOR_SWEEP_INTERVAL_SECS", "1"),
        ("CANDOR_SWEEP_BATCH", "1"),
        ("CANDOR_RETENTION_JITTER_HOURS", "0"),
    ];
    let mut relay = tokio::task::block_in_place(|| Relay::start_in(data, &sweeping));

    let mut swept = vec![false; expired.len()];
    for round in 0..KILLS {
        // Act: the sweeper deletes in expiry-index order (expiry, then mailbox ID bytes). Watch
        // the first mailbox it will take, and kill the relay the moment it is gone, so that the
        // kill lands inside the sweep rather than before or after it.
        let api = Api::new(&relay.url);
        let next = (0..expired.len())
            .filter(|i| !swept[*i])
            .min_by_key(|i| *expired[*i].keys.mailbox.as_bytes());
        let deadline = Instant::now() + Duration::from_secs(10);
        match next {
            Some(i) => {
                while api.envelopes(&expired[i]).await.is_some() && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
            None => random_pause(500..1500).await,
        }
        let report = tokio::task::block_in_place(|| {
            relay.stop();
            let report = relay.check_store();
            // Look with the sweeper idle, so that nothing moves while we look.
            relay.restart_with("CANDOR_SWEEP_INTERVAL_SECS", "3600");
            report
        });
        assert!(report.contains("ok: every invariant holds"), "{report}");

        // Assert: whole or gone, and the fresh ones whole.
        let api = Api::new(&relay.url);
        let inbox = api.inbox(&office).await;
        // A snapshot: nothing appends while we look.
        let ledger = ledger.lock().unwrap().clone();
        for (i, case) in expired.iter().enumerate() {
            let gone = verify(&api, case, &ledger, &inbox, true).await == State::Gone;
            assert!(gone || !swept[i], "a swept mailbox came back");
            swept[i] = gone;
        }
        let gone = swept.iter().filter(|g| **g).count();
        for case in &fresh {
            assert_eq!(
                verify(&api, case, &ledger, &inbox, false).await,
                State::Whole
            );
        }
        drop(ledger);
        eprintln!("round {round}: {gone} of {EXPIRED} expired mailboxes swept; check: {report}");
        tokio::task::block_in_place(|| relay.restart_with("CANDOR_SWEEP_INTERVAL_SECS", "1"));
    }

    // Assert: left alone, the sweep finishes, and only the fresh mailboxes remain.
    let api = Api::new(&relay.url);
    let deadline = Instant::now() + Duration::from_secs(60);
    while api.inbox(&office).await.len() > FRESH {
        assert!(
            Instant::now() < deadline,
            "the sweep did not finish after the restarts"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let inbox = api.inbox(&office).await;
    // A snapshot: nothing appends while we look.
    let ledger = ledger.lock().unwrap().clone();
    for case in &expired {
        assert_eq!(verify(&api, case, &ledger, &inbox, true).await, State::Gone);
    }
    for case in &fresh {
        assert_eq!(
            verify(&api, case, &ledger, &inbox, false).await,
            State::Whole
        );
    }
    tokio::task::block_in_place(|| {
        relay.stop();
        let report = relay.check_store();
        assert!(
            report.starts_with(&format!("1 offices, {FRESH} mailboxes")),
            "{report}"
        );
    });
}

/// A data directory holding an office with `EXPIRED` mailboxes whose expiry passed two days ago
/// and `FRESH` ones that expire tomorrow, each with `ENVELOPES` acknowledged envelopes.
async fn expired_store(
    ledger: &Arc<Mutex<Ledger>>,
) -> (
    tempfile::TempDir,
    Arc<TestOffice>,
    Vec<TestCase>,
    Vec<TestCase>,
) {
    let data = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(now().saturating_add_signed(-PAST));
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.path().to_owned(),
        pow_difficulty: 8,
        retention_jitter_hours: 0,
        sweep_interval_secs: 86_400,
        workers: 1,
        ..Settings::default()
    };
    let app = Application::build_with_clock(settings, Arc::new(clock.clone()))
        .await
        .unwrap();
    let (url, handle, state) = (app.url(), app.handle(), app.state());
    let served = tokio::spawn(app.run_until_stopped());

    let mut api = Api::new(&url);
    api.skew = -PAST;
    // The relay's clock follows the client's, PAST behind the system's, however long writing
    // the expired cases takes on a loaded machine: a fixed clock would fall outside the
    // request window of the client's signatures.
    let ticking = {
        let clock = clock.clone();
        tokio::spawn(async move {
            loop {
                clock.set(now().saturating_add_signed(-PAST));
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
    };
    let invite = state.invite_key.mint(api.now() + 86_400);
    let office = Arc::new(api.register(&invite, "sweep", 1).await);
    let expired = open_cases(&api, &office, EXPIRED).await;
    fill(&api, &office, &expired, ledger).await;
    ticking.abort();
    clock.set(now());
    api.skew = 0;
    let fresh = open_cases(&api, &office, FRESH).await;
    fill(&api, &office, &fresh, ledger).await;

    handle.stop(true).await;
    served.await.unwrap().unwrap();
    drop(state);
    (data, office, expired, fresh)
}

/// Appends `ENVELOPES` envelopes to each case.
async fn fill(api: &Api, office: &TestOffice, cases: &[TestCase], ledger: &Mutex<Ledger>) {
    for case in cases {
        for i in 0..ENVELOPES {
            let envelope = case.envelope(office, &format!("expires #{i}"));
            let seq = api.append(case, &envelope).await.unwrap().unwrap();
            ledger.lock().unwrap().ack(&case.mailbox(), seq, envelope);
        }
    }
}

//! Two instances sweeping one database at once: every expired mailbox goes, each exactly once,
//! nothing live is touched, and neither sweeper reports an error.
//!
//! The expired mailboxes are written by the relay's own library with its clock three days in
//! the past (as `tests/crash/sweep.rs` does for sled), into the test's schema; then two real
//! binaries on that schema sweep it every second, one mailbox per batch. A sweeper's batch locks
//! the mailbox's office (its counters change), and the other sweeper skips what is locked, so
//! the mailboxes are spread over several offices for both to have work at once. So that both
//! start on the same work, the test holds the offices' rows locked until both run: the sweepers
//! take rows with `FOR UPDATE SKIP LOCKED` and find nothing until it lets go.

use std::sync::Arc;
use std::time::{Duration, Instant};

use candor_server::clock::ManualClock;
use candor_server::config::Settings;
use candor_server::startup::Application;
use candor_tests::Relay;
use candor_tests::api::{Api, TestCase, TestOffice, now};
use tokio::task::block_in_place;

use crate::{Schema, database};

/// The offices, each with its own mailboxes.
const OFFICES: [&str; 3] = ["sweepa", "sweepb", "sweepc"];
/// Mailboxes per office whose expiry passed two days ago.
const EXPIRED: usize = 50;
/// Mailboxes per office that expire tomorrow.
const FRESH: usize = 2;
/// Envelopes in each mailbox.
const ENVELOPES: usize = 2;
/// Cases opened concurrently while the store is written.
const OPENING_AT_ONCE: usize = 8;
/// How far back the relay's clock is when the expired mailboxes are written.
const PAST: i64 = 3 * 86_400;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_sweeping_at_once_delete_every_expired_mailbox_once_and_nothing_live() {
    let Some(database) = database() else {
        return;
    };
    // Arrange: expired and fresh mailboxes, and the offices' rows held locked.
    let schema = block_in_place(|| Schema::new(&database));
    let (data, stored) = expired_store(&schema.url()).await;
    let hold = Hold::offices(&database, &schema);
    let sweeping = [
        ("CANDOR_STORE", schema.url()),
        ("CANDOR_SWEEP_INTERVAL_SECS", "1".into()),
        ("CANDOR_SWEEP_BATCH", "1".into()),
        ("CANDOR_RETENTION_JITTER_HOURS", "0".into()),
    ];
    let env: Vec<(&str, &str)> = sweeping.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let b_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        data.path().join("relay.key"),
        b_dir.path().join("relay.key"),
    )
    .unwrap();
    let a = block_in_place(|| Relay::start_in(data, &env));
    let b = block_in_place(|| Relay::start_in(b_dir, &env));

    // Act: both sweepers are running; let go of the offices, and wait for the sweep to end.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    block_in_place(|| hold.release());
    let api = Api::new(&a.url);
    let deadline = Instant::now() + Duration::from_secs(120);
    for (office, _, _) in &stored {
        while api.inbox(office).await.len() > FRESH {
            assert!(Instant::now() < deadline, "the sweep did not finish");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // A sweep logs its count once its pass ends: give the last pass time to say so.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Assert: every expired mailbox gone, each counted by exactly one sweeper; every fresh one
    // whole at both instances; no error logged.
    let at_b = Api::new(&b.url);
    for (office, expired, fresh) in &stored {
        for case in expired {
            assert_eq!(
                at_b.envelopes(case).await,
                None,
                "an expired case is still served"
            );
        }
        let mut listed = api.inbox(office).await;
        listed.sort();
        let mut want: Vec<String> = fresh.iter().map(TestCase::mailbox).collect();
        want.sort();
        assert_eq!(listed, want);
    }
    for case in stored.iter().flat_map(|(_, _, fresh)| fresh) {
        for at in [&api, &at_b] {
            let seqs: Vec<u64> = at
                .envelopes(case)
                .await
                .unwrap()
                .iter()
                .map(|(s, _)| *s)
                .collect();
            // The opening carries envelope 1.
            assert_eq!(seqs, (1..=1 + ENVELOPES as u64).collect::<Vec<_>>());
        }
    }
    let (log_a, log_b) = (a.log(), b.log());
    let (by_a, by_b) = (swept(&log_a), swept(&log_b));
    let all = (OFFICES.len() * EXPIRED) as u64;
    eprintln!("swept: {by_a} by A, {by_b} by B, of {all}");
    assert_eq!(by_a + by_b, all, "A:\n{log_a}\nB:\n{log_b}");
    for log in [&log_a, &log_b] {
        assert!(!log.contains("ERROR") && !log.contains("failed"), "{log}");
    }
}

/// The mailboxes a relay's log says it swept.
fn swept(log: &str) -> u64 {
    log.lines()
        .filter(|line| line.contains("sweep done"))
        .filter_map(|line| {
            let at = line.find("mailboxes")? + "mailboxes".len();
            let digits: String = line[at..]
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<u64>().ok()
        })
        .sum()
}

/// A transaction that holds every office's row locked until released.
struct Hold {
    release: std::sync::mpsc::Sender<()>,
    done: std::thread::JoinHandle<()>,
}

impl Hold {
    fn offices(database: &str, schema: &Schema) -> Self {
        let (database, schema) = (database.to_owned(), schema.name.clone());
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (locked, is_locked) = std::sync::mpsc::channel::<()>();
        let done = std::thread::spawn(move || {
            let config: postgres::Config = database.parse().unwrap();
            let mut client = config.connect(postgres::NoTls).unwrap();
            let mut tx = client.transaction().unwrap();
            let sql = format!("SELECT 1 FROM {schema}.offices FOR UPDATE");
            assert_eq!(tx.query(&sql, &[]).unwrap().len(), OFFICES.len());
            locked.send(()).unwrap();
            let _ = wait.recv();
            tx.commit().unwrap();
        });
        is_locked.recv().expect("the offices' rows locked");
        Self { release, done }
    }

    fn release(self) {
        self.release.send(()).unwrap();
        self.done.join().expect("the lock released");
    }
}

/// Each office with its expired and its fresh cases.
type Stored = Vec<(TestOffice, Vec<TestCase>, Vec<TestCase>)>;

/// A data directory (with `relay.key`) whose relay wrote, into `url`, the `OFFICES`, each with
/// `EXPIRED` mailboxes that expired two days ago and `FRESH` ones that expire tomorrow.
async fn expired_store(url: &str) -> (tempfile::TempDir, Stored) {
    let data = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(now().saturating_add_signed(-PAST));
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.path().to_owned(),
        store: url.to_owned(),
        pow_difficulty: 8,
        retention_jitter_hours: 0,
        sweep_interval_secs: 86_400,
        ..Settings::default()
    };
    let app = Application::build_with_clock(settings, Arc::new(clock.clone()))
        .await
        .unwrap();
    let (base, handle, state) = (app.url(), app.handle(), app.state());
    let served = tokio::spawn(app.run_until_stopped());
    let mut api = Api::new(&base);
    api.skew = -PAST;
    // The relay's clock follows the client's, PAST behind, however long the writing takes.
    let ticking = {
        let clock = clock.clone();
        tokio::spawn(async move {
            loop {
                clock.set(now().saturating_add_signed(-PAST));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let mut offices = Vec::new();
    for id in OFFICES {
        let invite = state.invite_key.mint(api.now() + 86_400);
        let office = Arc::new(api.register(&invite, id, 1).await);
        let expired = cases(&api, &office, EXPIRED).await;
        offices.push((office, expired));
    }
    ticking.abort();
    clock.set(now());
    api.skew = 0;
    let mut stored = Vec::new();
    for (office, expired) in offices {
        let fresh = cases(&api, &office, FRESH).await;
        let office = Arc::try_unwrap(office).unwrap_or_else(|_| panic!("the office is shared"));
        stored.push((office, expired, fresh));
    }
    handle.stop(true).await;
    served.await.unwrap().unwrap();
    drop(state);
    (data, stored)
}

/// `n` cases, each with `ENVELOPES` envelopes.
async fn cases(api: &Api, office: &Arc<TestOffice>, n: usize) -> Vec<TestCase> {
    // A few at a time: 150 connections at once from one address were reset now and then
    // while the rest of the suite ran.
    let mut all = Vec::with_capacity(n);
    while all.len() < n {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..(n - all.len()).min(OPENING_AT_ONCE) {
            let (api, office) = (api.clone(), office.clone());
            tasks.spawn(async move {
                let case = api.open_case(&office).await;
                for i in 0..ENVELOPES {
                    let body = case.envelope(&office, &format!("line {i}"));
                    api.append(&case, &body).await.unwrap().unwrap();
                }
                case
            });
        }
        all.extend(tasks.join_all().await);
    }
    all
}

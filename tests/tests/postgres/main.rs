//! Two real `candor-server` instances on one PostgreSQL database behave as one relay: what one
//! stores the other serves, and a single-use token spent at one is refused at the other.
//!
//! The database comes from `CANDOR_TEST_POSTGRES` (`postgres://USER@HOST[:PORT]/DB`); each test
//! gets a schema of its own, dropped at the end. Without the variable each test says on the
//! terminal that it was skipped and passes; with `CANDOR_REQUIRE_POSTGRES=1` (as `.ci/run`
//! sets) it fails instead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::time::Duration;

use candor_tests::api::{Answer, Api, TestCase};
use candor_tests::balancer::Balancer;
use candor_tests::{Relay, binaries};
use tokio::task::block_in_place;

/// The variable that names the test database.
const URL_VAR: &str = "CANDOR_TEST_POSTGRES";
/// The variable that turns a skip into a failure.
const REQUIRE_VAR: &str = "CANDOR_REQUIRE_POSTGRES";

/// The test database's URL, or `None` after saying loudly that the test is skipped.
fn database() -> Option<String> {
    if let Ok(url) = std::env::var(URL_VAR) {
        return Some(url);
    }
    assert!(
        std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
        "{REQUIRE_VAR}=1 but {URL_VAR} is unset: the PostgreSQL tests cannot run"
    );
    // Past the test harness's capture, so that a passing run still shows it.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: a PostgreSQL end-to-end test ({URL_VAR} is unset) ***\n"
    );
    None
}

/// A schema of its own for one test, dropped with it.
struct Schema {
    database: String,
    name: String,
}

impl Schema {
    fn new(database: &str) -> Self {
        let name = format!("candor_e2e_{:016x}", rand_u64());
        admin(database, &format!("CREATE SCHEMA {name}"));
        let schema = Self {
            database: database.to_owned(),
            name,
        };
        let migrated = assert_cmd::Command::new(&binaries().server)
            .args(["migrate", "--store", &schema.url()])
            .timeout(Duration::from_secs(60))
            .output()
            .expect("run candor-server migrate");
        assert!(
            migrated.status.success(),
            "{}",
            String::from_utf8_lossy(&migrated.stderr)
        );
        schema
    }

    /// The store URL that puts the relay's tables in this schema.
    fn url(&self) -> String {
        let sep = if self.database.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{sep}options=-csearch_path%3D{}",
            self.database, self.name
        )
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        admin(
            &self.database,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id()) ^ candor_tests::api::now()
}

/// Runs `sql` on the test database, on a thread of its own: the client blocks on a runtime of
/// its own, which Tokio forbids on a thread that drives one (a schema drops at a test's end).
fn admin(database: &str, sql: &str) {
    let (database, sql) = (database.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut config: postgres::Config = database.parse().expect("a valid test database URL");
        if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        }
        let mut client = config
            .connect(postgres::NoTls)
            .expect("connect to the test database");
        client
            .batch_execute(&sql)
            .expect("an administrative statement");
    })
    .join()
    .expect("the administrative statement ran");
}

/// Two instances on one store, sharing `relay.key` as the operator's docs say.
fn two_instances(url: &str) -> (Relay, Relay) {
    let a = Relay::start_with(&[("CANDOR_STORE", url)]);
    let dir = tempfile::tempdir().expect("a temporary data directory");
    std::fs::copy(a.data_dir().join("relay.key"), dir.path().join("relay.key"))
        .expect("copy relay.key");
    let b = Relay::start_in(dir, &[("CANDOR_STORE", url)]);
    (a, b)
}

/// Asserts a problem+json answer with this status and type suffix.
#[track_caller]
fn assert_problem(answer: &Answer, status: u16, kind: &str) {
    assert_eq!(
        answer.status,
        status,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let problem = answer.problem();
    assert!(problem.ends_with(kind), "{problem}");
}

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

/// A PostgreSQL cluster of this test's own (`scripts/pg-test-cluster.sh`), so that stopping it
/// disturbs no other test. Stopped on drop.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("a directory for the cluster");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self { dir, port };
        cluster.run("start");
        cluster
    }

    fn run(&self, action: &str) -> String {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pg-test-cluster.sh");
        let out = assert_cmd::Command::new(script)
            .args([
                action,
                self.dir.path().to_str().unwrap(),
                &self.port.to_string(),
            ])
            .timeout(Duration::from_secs(120))
            .output()
            .expect("run pg-test-cluster.sh");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn url(&self) -> String {
        format!("postgres://candor@127.0.0.1:{}/candor", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run("stop")));
    }
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

    // Act: the database stops, then starts again.
    block_in_place(|| cluster.run("stop"));
    let down = api
        .append(&case, &case.envelope(&office, "while down"))
        .await
        .unwrap()
        .expect_err("an append while the database is down");
    assert_problem(&down, 503, "unavailable");
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
    drop(schema);
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

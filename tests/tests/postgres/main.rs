//! Two real `candor-server` instances on one PostgreSQL database behave as one relay: what one
//! stores the other serves, and a single-use token spent at one is refused at the other.
//!
//! The database comes from `CANDOR_TEST_POSTGRES` (`postgres://USER@HOST[:PORT]/DB`), and for
//! the TLS tests its certificates from `CANDOR_TEST_POSTGRES_TLS`; each test gets a schema of its
//! own, dropped at the end. Without the variable each test says on the
//! terminal that it was skipped and passes; with `CANDOR_REQUIRE_POSTGRES=1` (as `.ci/run`
//! sets) it fails instead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod conversation;
mod copied;
mod handoff;
mod instances;
mod sweepers;
mod tls;

use std::io::Write as _;
use std::time::Duration;

use candor_tests::api::Answer;
use candor_tests::{Relay, binaries};

/// The variable that names the test database.
const URL_VAR: &str = "CANDOR_TEST_POSTGRES";
/// The variable that turns a skip into a failure.
const REQUIRE_VAR: &str = "CANDOR_REQUIRE_POSTGRES";
/// The variable that names the test cluster's TLS directory (`pg-test-cluster.sh --tls`).
const TLS_VAR: &str = "CANDOR_TEST_POSTGRES_TLS";

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

/// The test cluster's TLS directory (`ca.crt`, `other-ca.crt`), or `None` after saying loudly
/// that the test is skipped; with `CANDOR_REQUIRE_POSTGRES=1` a missing one fails instead.
fn tls_dir() -> Option<std::path::PathBuf> {
    if let Ok(dir) = std::env::var(TLS_VAR) {
        return Some(dir.into());
    }
    assert!(
        std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
        "{REQUIRE_VAR}=1 but {TLS_VAR} is unset: the PostgreSQL TLS tests cannot run \
         (start the cluster with `scripts/pg-test-cluster.sh start DIR PORT --tls`)"
    );
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: a PostgreSQL TLS test ({TLS_VAR} is unset) ***\n"
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

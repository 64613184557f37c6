//! The conformance suite (`crate::store::conformance`) against a real PostgreSQL, and what
//! only this backend promises: the schema check at start, refused URLs, and two stores (two
//! relay instances) on one database behaving as one.
//!
//! The database comes from `CANDOR_TEST_POSTGRES` (`postgres://USER@HOST[:PORT]/DB`, password
//! in `PGPASSWORD` if one is needed). Each test gets a schema of its own, dropped at the end.
//! Without the variable every PostgreSQL test says on the terminal that it was skipped and
//! passes; with `CANDOR_REQUIRE_POSTGRES=1` (as `.ci/run` sets) it fails instead.

use std::io::Write as _;
use std::sync::Once;

use super::{OpenError, PostgresOptions, PostgresStore, SchemaState};
use crate::store::Store;
use crate::store::conformance::{self, Harness, store_conformance};

/// The variable that names the test database.
pub(crate) const URL_VAR: &str = "CANDOR_TEST_POSTGRES";
/// The variable that turns a skip into a failure.
pub(crate) const REQUIRE_VAR: &str = "CANDOR_REQUIRE_POSTGRES";

/// Whether to skip: no database named. Says so on the terminal (past the test harness's
/// capture), once; fails instead if [`REQUIRE_VAR`] is `1`.
pub(crate) fn skipped() -> bool {
    if std::env::var_os(URL_VAR).is_some() {
        return false;
    }
    assert!(
        std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
        "{REQUIRE_VAR}=1 but {URL_VAR} is unset: the PostgreSQL tests cannot run"
    );
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: the PostgreSQL store tests ({URL_VAR} is unset; set it to \
             postgres://USER@HOST/DB to run them, see docs/operating.md) ***\n"
        );
    });
    true
}

/// Options for the test database, in schema `schema`.
fn options(schema: &str) -> PostgresOptions {
    let url = std::env::var(URL_VAR).expect("checked by `skipped`");
    let password = std::env::var("PGPASSWORD").ok();
    PostgresOptions::from_url(&url, password.as_deref().map(str::as_bytes))
        .expect("a valid test database URL")
        .with_schema(schema)
}

/// A schema of its own for one test, dropped with it.
pub(crate) struct Schema {
    name: String,
}

impl Schema {
    /// Creates an empty schema.
    pub(crate) fn new() -> Self {
        let name = format!("candor_test_{:016x}", rand::random::<u64>());
        admin(&format!("CREATE SCHEMA {name}"));
        Self { name }
    }

    /// Creates a schema holding this relay's tables.
    pub(crate) fn migrated() -> Self {
        let schema = Self::new();
        PostgresStore::migrate(&schema.options()).expect("migrate");
        schema
    }

    pub(crate) fn options(&self) -> PostgresOptions {
        options(&self.name)
    }

    /// Opens a store on it, as one relay instance does.
    pub(crate) fn open(&self) -> PostgresStore {
        PostgresStore::open(&self.options()).expect("open the test schema")
    }

    /// Opens a store on it whatever its schema's version, as no relay does: to fill a
    /// database of an older version before migrating it.
    pub(crate) fn open_unchecked(&self) -> PostgresStore {
        PostgresStore::on(super::session::Pool::connect(&self.options()).expect("connect"))
            .expect("start the store")
    }

    /// Runs `sql` in the schema, as an operator at `psql` would.
    pub(crate) fn sql(&self, sql: &str) {
        admin(&format!("SET search_path = {}; {sql}", self.name));
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        admin(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

/// A connection to the test database, as an operator's at `psql`.
fn client() -> postgres::Client {
    let url = std::env::var(URL_VAR).expect("checked by `skipped`");
    let mut config: postgres::Config = url.parse().expect("a valid test database URL");
    if let Ok(password) = std::env::var("PGPASSWORD") {
        config.password(password);
    }
    config
        .connect(postgres::NoTls)
        .expect("connect to the test database")
}

/// Runs `sql` on the test database.
fn admin(sql: &str) {
    client()
        .batch_execute(sql)
        .expect("an administrative statement");
}

/// The one `BIGINT` that `sql` answers in `schema`.
pub(crate) fn scalar(schema: &Schema, sql: &str) -> i64 {
    let mut client = client();
    client
        .batch_execute(&format!("SET search_path = {}", schema.name))
        .expect("set the schema");
    client.query_one(sql, &[]).expect("a query").get(0)
}

/// A PostgreSQL store in a schema of its own.
struct Postgres {
    store: Option<PostgresStore>,
    // Dropped last: the schema goes once no connection uses it.
    schema: Schema,
}

impl Harness for Postgres {
    fn store(&self) -> &dyn Store {
        self.store.as_ref().expect("the store is open")
    }

    fn restart(&mut self) {
        drop(self.store.take());
        self.store = Some(self.schema.open());
    }
}

fn harness() -> Box<dyn Harness> {
    let schema = Schema::migrated();
    let store = Some(schema.open());
    Box::new(Postgres { store, schema })
}

store_conformance!(harness, unless skipped);

#[test]
fn a_database_without_the_schema_is_refused_until_migrated() {
    if skipped() {
        return;
    }
    // Arrange
    let schema = Schema::new();

    // Act
    let before = PostgresStore::open(&schema.options()).err();
    let found = PostgresStore::migrate(&schema.options()).unwrap();
    let again = PostgresStore::migrate(&schema.options()).unwrap();

    // Assert
    assert!(
        matches!(before, Some(OpenError::Schema(SchemaState::Empty))),
        "{before:?}"
    );
    assert_eq!((found, again), (SchemaState::Empty, SchemaState::Current));
    assert!(PostgresStore::open(&schema.options()).is_ok());
}

#[test]
fn a_schema_of_a_newer_relay_is_refused_and_left_alone() {
    if skipped() {
        return;
    }
    // Arrange
    let schema = Schema::migrated();
    schema.sql("UPDATE candor_schema SET version = 99");

    // Act
    let opened = PostgresStore::open(&schema.options()).err();
    let migrated = PostgresStore::migrate(&schema.options()).err();

    // Assert
    assert!(
        matches!(opened, Some(OpenError::Schema(SchemaState::Newer(99)))),
        "{opened:?}"
    );
    assert!(matches!(
        migrated,
        Some(OpenError::Schema(SchemaState::Newer(99)))
    ));
    assert_eq!(
        PostgresStore::schema_state(&schema.options()).unwrap(),
        SchemaState::Newer(99)
    );
}

#[test]
fn a_server_that_does_not_answer_is_reported_as_such() {
    // Arrange: a port nothing listens on (bound, then closed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://candor@127.0.0.1:{port}/candor");

    // Act
    let opened = PostgresStore::open(&PostgresOptions::from_url(&url, None).unwrap()).err();

    // Assert
    assert!(
        matches!(opened, Some(OpenError::Unreachable(_))),
        "{opened:?}"
    );
}

#[test]
fn urls_that_are_not_a_database_or_carry_a_password_are_refused() {
    for (url, says) in [
        ("postgres://candor:hunter2@db/candor", "password"),
        ("postgres://db/candor", "no user"),
        ("postgres://candor@db", "no database"),
        ("mysql://candor@db/candor", "postgres://"),
        (
            "postgres://candor@db/candor?connect_timeout=soon",
            "invalid connection string",
        ),
    ] {
        // Act
        let refused = PostgresOptions::from_url(url, None).unwrap_err();

        // Assert
        let message = refused.to_string();
        assert!(matches!(refused, OpenError::Url(_)), "{url}: {message}");
        assert!(message.contains(says), "{url}: {message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
    // An sslmode libpq does not know is a TLS error, by name.
    let refused = PostgresOptions::from_url("postgres://candor@db/candor?sslmode=sometimes", None)
        .unwrap_err();
    assert!(matches!(refused, OpenError::Tls(_)), "{refused}");
    assert!(
        refused
            .to_string()
            .contains("sslmode=sometimes is not one of"),
        "{refused}"
    );
}

#[test]
fn a_token_spent_at_one_instance_is_refused_at_another() {
    if skipped() {
        return;
    }
    // Arrange: two instances on one database.
    let schema = Schema::migrated();
    let (a, b) = (schema.open(), schema.open());
    let office = conformance::TestOffice::new("ombuds");
    let invite = conformance::invite();
    a.register_office(&office.record, &invite).unwrap();
    let pow = conformance::pow();
    let first = conformance::TestCase::new(&office);
    a.open_mailbox(
        &first.new_mailbox(&office, conformance::RETAINED),
        &pow,
        &conformance::quotas(),
    )
    .unwrap();

    // Act
    let second = conformance::TestCase::new(&office);
    let replayed_pow = b.open_mailbox(
        &second.new_mailbox(&office, conformance::RETAINED),
        &pow,
        &conformance::quotas(),
    );
    let other = conformance::TestOffice::new("other");
    let replayed_invite = b.register_office(&other.record, &invite);

    // Assert
    assert_eq!(replayed_pow, Err(crate::store::StoreError::PowUsed));
    assert_eq!(replayed_invite, Err(crate::store::StoreError::InviteUsed));
    assert_eq!(b.check().unwrap().mailboxes, 1);
}

#[test]
fn channels_opened_at_two_instances_at_once_get_one_board_cursor_each() {
    if skipped() {
        return;
    }
    // Arrange: two instances on one database, an office of each.
    let schema = Schema::migrated();
    let (a, b) = (schema.open(), schema.open());
    let offices = [
        conformance::registered(&a, "office-a"),
        conformance::registered(&b, "office-b"),
    ];

    // Act: each instance opens twenty channels, both at once.
    let cursors: Vec<u64> = std::thread::scope(|scope| {
        let opening: Vec<_> = [&a, &b]
            .into_iter()
            .zip(&offices)
            .map(|(store, office)| {
                scope.spawn(move || {
                    (0..20)
                        .map(|i| {
                            let channel = crate::store::NewChannel {
                                id: candor_protocol::MailboxId::random(&mut rand::rng()),
                                office: office.id(),
                                expiry: conformance::RETAINED,
                                notice: format!("{} {i}", office.id()).into_bytes(),
                                body: Vec::new(),
                            };
                            store
                                .open_channel(&channel, &conformance::quotas())
                                .unwrap()
                        })
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        opening
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });

    // Assert: forty distinct cursors, increasing within each instance, and the board of
    // either instance lists all of them, in order, with no gap.
    let mut sorted = cursors.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=40).collect::<Vec<u64>>());
    for own in cursors.chunks(20) {
        assert!(own.windows(2).all(|w| w[0] < w[1]), "{own:?}");
    }
    for store in [&a, &b] {
        let board: Vec<u64> = store
            .notices(0, 100)
            .unwrap()
            .into_iter()
            .map(|(cursor, _)| cursor)
            .collect();
        assert_eq!(board, sorted);
    }
    conformance::assert_clean(&a);
}

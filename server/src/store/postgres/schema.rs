//! The schema and its migrations, embedded in the binary. `candor-server migrate` applies them;
//! the relay refuses at start a database whose schema is missing or of another version.

use super::connect::OpenError;
use super::session::{Fail, Pool};
pub use super::version::{SCHEMA_VERSION, SchemaState};
use crate::store::StoreError;

/// Each migration, by the version it brings the schema to, in order. Migration 1 creates
/// `candor_schema`; every later one ends by setting its version there.
const MIGRATIONS: [(u32, &str); 2] = [
    (1, include_str!("migrations/0001_initial.sql")),
    (2, include_str!("migrations/0002_channels_notes.sql")),
];

/// The schema's state.
pub(super) fn state(pool: &Pool) -> Result<SchemaState, OpenError> {
    pool.read(|s| {
        let exists = s.query_opt(
            "SELECT 1 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = 'candor_schema'",
            &[],
        )?;
        if exists.is_none() {
            return Ok(SchemaState::Empty);
        }
        let row = s
            .query_opt("SELECT version FROM candor_schema", &[])?
            .ok_or(Fail::Store(StoreError::Corrupt("candor_schema is empty")))?;
        let version: i32 = row.try_get("version")?;
        let version = u32::try_from(version)
            .map_err(|_| Fail::Store(StoreError::Corrupt("schema version")))?;
        Ok(match version {
            v if v < SCHEMA_VERSION => SchemaState::Older(v),
            SCHEMA_VERSION => SchemaState::Current,
            v => SchemaState::Newer(v),
        })
    })
    .map_err(|e| OpenError::Database(e.to_string()))
}

/// Applies every migration past the schema's version, each in a transaction of its own, and
/// then the storage setting of [`tune`]. Returns the state it found.
pub(super) fn migrate(pool: &Pool) -> Result<SchemaState, OpenError> {
    let found = state(pool)?;
    let from = match found {
        SchemaState::Empty => 0,
        SchemaState::Older(v) => v,
        SchemaState::Current => {
            tune(pool);
            return Ok(found);
        }
        SchemaState::Newer(_) => return Err(OpenError::Schema(found)),
    };
    for (version, sql) in MIGRATIONS {
        if version > from {
            pool.transact(|s| s.batch(sql))
                .map_err(|e| OpenError::Database(format!("migration {version}: {e}")))?;
        }
    }
    tune(pool);
    Ok(found)
}

/// Keeps an envelope of up to about 8 kB in its table's own row, where PostgreSQL would move
/// any row past 2 kB to its TOAST table after trying to compress it: ciphertext does not
/// compress, so that try is wasted, and the move costs an append another heap insert, an
/// index insert and their WAL, and a fetch a lookup in the TOAST table's index. Larger
/// envelopes are still moved. Only a storage setting, not part of the schema's version, so it
/// is applied each time `migrate` runs; a database that does not take PostgreSQL's storage
/// parameters (CockroachDB) keeps its own storage, with a warning.
const TUNING: &str = "ALTER TABLE envelopes SET (toast_tuple_target = 8160)";

fn tune(pool: &Pool) {
    if let Err(e) = pool.transact(|s| s.batch(TUNING)) {
        tracing::warn!(error = %e, "the envelopes' storage setting was refused; the database's default is kept");
    }
}

#[cfg(test)]
mod tests {
    use super::super::PostgresStore;
    use super::super::tests::{Schema, skipped};
    use super::{MIGRATIONS, SchemaState};
    use crate::store::Store as _;
    use crate::store::conformance::{opened, quotas, registered};

    #[test]
    fn migrate_keeps_an_envelope_of_a_few_kilobytes_in_its_row() {
        if skipped() {
            return;
        }
        // Arrange: a migrated schema, and a case whose first envelope is about 4.7 kB.
        let schema = Schema::migrated();
        let store = schema.open();
        let office = registered(&store, "ombuds");
        let case = opened(&store, &office);
        let envelope = case.envelope(&"x".repeat(2900));
        store
            .append(
                &case.id(),
                &envelope,
                &crate::store::conformance::keeping(),
                &quotas(),
            )
            .unwrap();

        // Act
        let stored = super::super::tests::scalar(
            &schema,
            "SELECT CAST(pg_column_size(json) AS BIGINT) FROM envelopes WHERE seq = 2",
        );
        let toasted = super::super::tests::scalar(
            &schema,
            "SELECT CAST(pg_relation_size(reltoastrelid) AS BIGINT) FROM pg_class \
             WHERE oid = 'envelopes'::regclass",
        );

        // Assert: stored whole and uncompressed in its row; nothing in the TOAST table.
        assert!(envelope.to_json().len() > 4000);
        assert_eq!(stored, envelope.to_json().len() as i64 + 4);
        assert_eq!(toasted, 0);
    }

    #[test]
    fn a_version_1_database_is_migrated_to_channels_and_notes_keeping_its_data() {
        if skipped() {
            return;
        }
        // Arrange: a database as the first relay left it, holding a case.
        let schema = Schema::new();
        schema.sql(MIGRATIONS[0].1);
        let old = schema.open_unchecked();
        let office = registered(&old, "ombuds");
        let case = opened(&old, &office);
        drop(old);

        // Act
        let before = PostgresStore::schema_state(&schema.options()).unwrap();
        let refused = PostgresStore::open(&schema.options()).err();
        let found = PostgresStore::migrate(&schema.options()).unwrap();
        let store = schema.open();

        // Assert: reported as older, then brought up to date; the case is still there and
        // takes notes; the board starts at 1.
        assert_eq!(before, SchemaState::Older(1));
        assert!(refused.is_some());
        assert_eq!(found, SchemaState::Older(1));
        assert_eq!(
            PostgresStore::schema_state(&schema.options()).unwrap(),
            SchemaState::Current
        );
        assert!(store.mailbox(&case.id()).unwrap().is_some());
        assert_eq!(store.put_note(&case.id(), b"note", &quotas()), Ok(1));
        let channel = crate::store::NewChannel {
            id: candor_protocol::MailboxId::random(&mut rand::rng()),
            office: office.id(),
            expiry: crate::store::conformance::RETAINED,
            notice: b"notice".to_vec(),
            body: Vec::new(),
        };
        assert_eq!(store.open_channel(&channel, &quotas()), Ok(1));
    }
}

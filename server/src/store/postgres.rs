//! The PostgreSQL backend: several relay instances on one database.
//!
//! **Driver.** The [`Store`] trait is blocking and the relay already calls it from its blocking
//! pool, so this backend runs the synchronous `postgres` client there, pooled by `r2d2`. Making
//! the trait async would have changed every caller and the sled backend for no gain: a store
//! call holds a connection for the whole of its transaction either way.
//!
//! **Tables** (`postgres/migrations/`): `offices`, `mailboxes` (with the inbox index on
//! `(office, activity)` and the expiry index), `envelopes`, `packages`, `notes`, `channels`
//! with the board's counter `channel_board`, `used_tokens`, and the unlogged `replay_ids` of
//! the replay cache.
//!
//! **Isolation.** Transactions run at the database's default level (READ COMMITTED on
//! PostgreSQL, SERIALIZABLE on CockroachDB), and every write that touches an office's counters,
//! inbox or mailboxes locks the office's row (`SELECT … FOR UPDATE`, or the append's `UPDATE`),
//! as sled takes an office's stripe of `office_locks`; a write to a mailbox locks the
//! mailbox's row first, then the office's, so that no two writers wait on each other. So an office's activity numbers commit in the order they
//! are handed out, on every instance: an inbox reader that polls from its cursor never skips a
//! write that committed late. Every write moves its mailbox to the office's next activity
//! number, so nothing like sled's in-memory "listed" mark is needed across instances.
//! Opening a channel locks the board's counter row likewise (`channels.rs`), so board cursors
//! commit in the order they are handed out. Serialization failures and deadlocks are retried
//! (`session.rs`).
//!
//! **Durability.** Every write commits before it returns, with `synchronous_commit` on, so
//! [`Store::flush`] has nothing left to do.
//!
//! **Health.** [`Store::reachable`] reads a flag that a thread pings the database to keep
//! (once a second, on a connection of its own) and that a request which could not reach it
//! clears (`reach.rs`): `GET /v1/health` answers from it without a query.
//!
//! The backend's files, by concept: `connect.rs` (options, connections, why opening failed),
//! `session.rs` (pool, transactions, retries), `reach.rs` (whether the database answers),
//! `version.rs` and `schema.rs` (the schema's version, migrations), `pgpass.rs` (the password,
//! as libpq finds it), `tls.rs` (`sslmode` and `sslrootcert`, as libpq reads them), `rows.rs`
//! (typed columns), `batcher.rs` (batches of concurrent calls: group commit, batched reads),
//! `reads.rs` (the reads every signed request makes), `offices.rs`, `mailboxes.rs`, `append.rs` (with
//! `append/together.rs`, a batch of appends), `packages.rs`, `channels.rs`, `notes.rs`,
//! `tallies.rs`, `maintenance.rs` (sweep and check), `import.rs` (`candor-server copy`).

use std::sync::Arc;

use candor_protocol::api::{InboxEntry, StoredTally};
use candor_protocol::{Envelope, HandoffId, MailboxId, OfficeId, Signer, TallyId};

use super::{
    ChannelRecord, CheckReport, Compacted, Expiry, Found, KeyedPage, Later, MailboxRecord,
    NewChannel, NewMailbox, NewPackage, NewTally, OfficeRecord, PackageRecord, Quotas, RawEnvelope,
    Remembered, Store, StoreError, Swept, UsedToken,
};
use batcher::Batcher;
pub use connect::{OpenError, PostgresOptions};
use reads::{PageJob, unkeyed};
use session::Pool;
pub use tls::{RootCert, SslMode, TlsError, TlsSettings};
pub use version::{SCHEMA_VERSION, SchemaState};

mod append;
mod batcher;
mod channels;
mod connect;
mod import;
mod mailboxes;
mod maintenance;
mod notes;
mod offices;
mod packages;
mod pgpass;
mod reach;
mod reads;
mod rows;
mod schema;
mod session;
mod tallies;
mod tls;
mod version;

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: Arc<Pool>,
    /// This instance's appends, committed in groups.
    appends: Batcher<append::Job, u64>,
    /// This instance's key lookups, replay entries and pages, read in batches.
    reads: reads::Reads,
}

impl PostgresStore {
    /// Connects, and refuses a database whose schema is not this relay's version.
    pub fn open(options: &PostgresOptions) -> Result<Self, OpenError> {
        let pool = Pool::connect(options)?;
        match schema::state(&pool)? {
            SchemaState::Current => {
                pool.watch(options)?;
                Self::on(pool)
            }
            other => Err(OpenError::Schema(other)),
        }
    }

    /// The store on a pool that is connected and whose schema was checked.
    fn on(pool: Pool) -> Result<Self, OpenError> {
        let pool = Arc::new(pool);
        let thread = |e: std::io::Error| OpenError::Thread(format!("batches: {e}"));
        let reads = reads::Reads::start(&pool).map_err(thread)?;
        let writer = pool.clone();
        let appends = Batcher::start("candor-pg-append", append::BATCH, move |jobs| {
            append::batch(&writer, jobs)
        })
        .map_err(thread)?;
        Ok(Self {
            pool,
            appends,
            reads,
        })
    }

    /// Connects and applies every migration the database lacks. Returns the state before.
    pub fn migrate(options: &PostgresOptions) -> Result<SchemaState, OpenError> {
        let pool = Pool::connect(options)?;
        schema::migrate(&pool)
    }

    /// Connects and reports the schema's state, changing nothing.
    pub fn schema_state(options: &PostgresOptions) -> Result<SchemaState, OpenError> {
        let pool = Pool::connect(options)?;
        schema::state(&pool)
    }
}

impl Store for PostgresStore {
    fn office(&self, id: &OfficeId) -> Result<Option<OfficeRecord>, StoreError> {
        offices::office(&self.pool, id)
    }

    fn register_office(&self, office: &OfficeRecord, invite: &UsedToken) -> Result<(), StoreError> {
        offices::register_office(&self.pool, office, invite)
    }

    fn update_office(&self, office: &OfficeRecord) -> Result<(), StoreError> {
        offices::update_office(&self.pool, office)
    }

    fn open_mailbox(
        &self,
        mailbox: &NewMailbox,
        pow: &UsedToken,
        quotas: &Quotas,
    ) -> Result<(), StoreError> {
        mailboxes::open_mailbox(&self.pool, mailbox, pow, quotas)
    }

    fn mailbox(&self, id: &MailboxId) -> Result<Option<MailboxRecord>, StoreError> {
        mailboxes::mailbox(&self.pool, id)
    }

    fn mailbox_with_office(&self, id: &MailboxId) -> Result<Found, StoreError> {
        self.reads.lookup(id).wait()
    }

    fn lookup(&self, id: MailboxId) -> Later<Found> {
        let pending = self.reads.lookup(&id);
        Box::pin(pending.answer())
    }

    fn remember(&self, entry: Remembered) -> Later<bool> {
        let pending = self.reads.remember(entry);
        Box::pin(pending.answer())
    }

    fn page(
        &self,
        entry: Option<Remembered>,
        id: MailboxId,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Later<Option<Vec<RawEnvelope>>> {
        let pending = self
            .reads
            .page(PageJob::new(entry, &id, after, limit, max_bytes));
        Box::pin(async move { unkeyed(pending.answer().await?) })
    }

    fn page_for_key(
        &self,
        entry: Option<Remembered>,
        id: MailboxId,
        signer: Signer,
        key: [u8; 32],
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Later<KeyedPage> {
        let job = PageJob::new(entry, &id, after, limit, max_bytes).for_key(signer, key);
        Box::pin(self.reads.page(job).answer())
    }

    fn append(
        &self,
        id: &MailboxId,
        envelope: &Envelope,
        expiry: &Expiry,
        quotas: &Quotas,
    ) -> Result<u64, StoreError> {
        let job = append::Job::new(id, envelope, expiry, quotas)?;
        self.appends.submit(job).wait()
    }

    fn append_later(
        &self,
        entry: Option<Remembered>,
        id: MailboxId,
        envelope: Envelope,
        expiry: Expiry,
        quotas: Quotas,
    ) -> Later<u64> {
        match append::Job::new(&id, &envelope, &expiry, &quotas) {
            Ok(job) => Box::pin(self.appends.submit(job.remembering(entry)).answer()),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    fn close_recording(
        &self,
        id: &MailboxId,
        last: Option<&Envelope>,
        tally: Option<&NewTally>,
        expiry: u64,
        quotas: &Quotas,
    ) -> Result<Option<u64>, StoreError> {
        mailboxes::close_mailbox(&self.pool, id, last, tally, expiry, quotas)
    }

    fn tallies(
        &self,
        office: &OfficeId,
        after: Option<&TallyId>,
        limit: usize,
    ) -> Result<Vec<StoredTally>, StoreError> {
        tallies::tallies(&self.pool, office, after, limit)
    }

    fn expire_tallies(&self, year: u16, batch: usize) -> Result<usize, StoreError> {
        tallies::expire(&self.pool, year, batch)
    }

    fn set_marker(&self, id: &MailboxId, marker: &[u8]) -> Result<(), StoreError> {
        mailboxes::set_marker(&self.pool, id, marker)
    }

    fn envelopes_within(
        &self,
        id: &MailboxId,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<RawEnvelope>, StoreError> {
        // No entry to remember, so never `None`.
        let job = PageJob::new(None, id, after, limit, max_bytes);
        Ok(unkeyed(self.reads.page(job).wait()?)?.unwrap_or_default())
    }

    fn delete_mailbox(&self, id: &MailboxId) -> Result<bool, StoreError> {
        mailboxes::delete_mailbox(&self.pool, id)
    }

    fn inbox(
        &self,
        office: &OfficeId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<InboxEntry>, StoreError> {
        offices::inbox(&self.pool, office, after, limit)
    }

    fn put_package(&self, package: &NewPackage, quotas: &Quotas) -> Result<(), StoreError> {
        packages::put_package(&self.pool, package, quotas)
    }

    fn package(&self, id: &HandoffId) -> Result<Option<PackageRecord>, StoreError> {
        packages::package(&self.pool, id)
    }

    fn packages(&self, mailbox: &MailboxId) -> Result<Vec<HandoffId>, StoreError> {
        packages::packages(&self.pool, mailbox)
    }

    fn update_package(
        &self,
        id: &HandoffId,
        expiry: &Expiry,
        update: &mut dyn FnMut(&PackageRecord) -> Result<Vec<u8>, StoreError>,
    ) -> Result<PackageRecord, StoreError> {
        packages::update_package(&self.pool, id, expiry, update)
    }

    fn delete_package(&self, id: &HandoffId) -> Result<bool, StoreError> {
        packages::delete_package(&self.pool, id)
    }

    fn put_note(
        &self,
        mailbox: &MailboxId,
        note: &[u8],
        quotas: &Quotas,
    ) -> Result<u64, StoreError> {
        notes::put_note(&self.pool, mailbox, note, quotas)
    }

    fn notes(
        &self,
        mailbox: &MailboxId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        notes::notes(&self.pool, mailbox, after, limit)
    }

    fn open_channel(&self, channel: &NewChannel, quotas: &Quotas) -> Result<u64, StoreError> {
        channels::open_channel(&self.pool, channel, quotas)
    }

    fn channel(&self, id: &MailboxId) -> Result<Option<ChannelRecord>, StoreError> {
        channels::channel(&self.pool, id)
    }

    fn update_channel(
        &self,
        id: &MailboxId,
        update: &mut dyn FnMut(&ChannelRecord) -> Result<Vec<u8>, StoreError>,
    ) -> Result<ChannelRecord, StoreError> {
        channels::update_channel(&self.pool, id, update)
    }

    fn notices(&self, after: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        channels::notices(&self.pool, after, limit)
    }

    fn delete_channel(&self, id: &MailboxId) -> Result<bool, StoreError> {
        channels::delete_channel(&self.pool, id)
    }

    fn sweep(&self, now: u64, batch: usize) -> Result<Swept, StoreError> {
        maintenance::sweep(&self.pool, now, batch)
    }

    fn compact(&self, _now: u64) -> Result<Compacted, StoreError> {
        // PostgreSQL's autovacuum reclaims deleted rows; `docs/threat-model.md` says how long
        // deleted ciphertext can linger and which settings shorten it.
        Ok(Compacted::default())
    }

    fn flush_covering(&self, covered: &mut dyn FnMut()) -> Result<(), StoreError> {
        // Every write committed, synchronously, before it returned.
        covered();
        Ok(())
    }

    fn durable_on_return(&self) -> bool {
        // `synchronous_commit = on`: each write's commit waited for its WAL flush.
        true
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        maintenance::size_on_disk(&self.pool)
    }

    fn check(&self) -> Result<CheckReport, StoreError> {
        maintenance::check(&self.pool)
    }

    fn remember_request(&self, id: &[u8; 32], expires: u64) -> Result<bool, StoreError> {
        self.reads.remember(Remembered { id: *id, expires }).wait()
    }

    fn reachable(&self) -> bool {
        self.pool.reachable()
    }

    fn runs_inline(&self) -> bool {
        // The client blocks on its own Tokio runtime, which Tokio forbids inside another.
        false
    }
}

#[cfg(test)]
mod append_tests;
#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod copy_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tls_tests;

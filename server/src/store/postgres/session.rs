//! Transactions: the pool, prepared statements kept per connection, and the retry of
//! transactions the database aborted to keep them serializable.

use std::collections::HashMap;

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, Row, Statement};

use super::connect::{Conn, Manager, OpenError, PostgresOptions};
use super::reach::Reach;
use crate::store::StoreError;

/// How many times a transaction the database aborted as a serialization failure or a deadlock
/// is tried in all.
const ATTEMPTS: u32 = 8;

/// The connection pool.
pub(super) struct Pool {
    /// Always `Some` until dropped (see the `Drop` impl).
    pool: Option<r2d2::Pool<Manager>>,
    /// Whether the database answered when last tried.
    reach: Reach,
    /// The pool's size.
    max_size: u32,
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing a connection blocks on the client's own runtime, which Tokio forbids on a
        // thread that drives a runtime (the relay drops its store there at shutdown): close
        // them on a thread of their own.
        if let Some(pool) = self.pool.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

impl Pool {
    /// Connects once, so that a database that does not answer is reported at start.
    pub(super) fn connect(options: &PostgresOptions) -> Result<Self, OpenError> {
        let manager = Manager::new(options);
        // Tried here, so that the error says why rather than that the pool timed out.
        let first = r2d2::ManageConnection::connect(&manager).map_err(|e| {
            if e.as_db_error().is_some() {
                // It answered, and refused: a wrong password, role or database.
                return OpenError::Database(words(&e));
            }
            if let Some(refused) = options.tls.refusal(&e) {
                return OpenError::Tls(refused);
            }
            OpenError::Unreachable(format!(
                "{}; check the host and port, and that PostgreSQL runs and accepts connections there",
                std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string)
            ))
        })?;
        let pool = r2d2::Pool::builder()
            .max_size(options.max_connections.max(1))
            .min_idle(Some(1))
            .connection_timeout(options.connect_timeout)
            // A broken connection shows when it is used; a check per checkout costs a round trip.
            .test_on_check_out(false)
            .build_unchecked(manager);
        drop(first);
        Ok(Self {
            pool: Some(pool),
            reach: Reach::new(),
            max_size: options.max_connections.max(1),
        })
    }

    /// Starts pinging the database once a second, on a connection of its own, so that
    /// [`Pool::reachable`] follows it (`reach.rs`).
    pub(super) fn watch(&self, options: &PostgresOptions) -> Result<(), OpenError> {
        self.reach
            .watch(Manager::new(options))
            .map_err(|e| OpenError::Thread(format!("health ping: {e}")))
    }

    /// Whether the database answered when last tried: the last ping, unless a request has
    /// failed to reach it since.
    pub(super) fn reachable(&self) -> bool {
        self.reach.up()
    }

    fn get(&self) -> Result<r2d2::PooledConnection<Manager>, Fail> {
        let pool = self.pool.as_ref().ok_or(Fail::Store(StoreError::Backend(
            "the store is closed".into(),
        )))?;
        // A connection the database closed (a restart) is known closed without a round trip:
        // dropped here (the pool discards it), so that a one-statement write never fails on it.
        for _ in 0..=self.max_size {
            let conn = pool.get().map_err(|e| {
                self.reach.down();
                Fail::Store(StoreError::Backend(format!("no database connection: {e}")))
            })?;
            if !conn.client.is_closed() {
                return Ok(conn);
            }
        }
        self.reach.down();
        Err(Fail::Store(StoreError::Backend(
            "no database connection: every one the pool held had closed".into(),
        )))
    }

    /// Notes in [`Pool::reachable`] a failure that says the database could not be reached.
    fn observe<T>(&self, result: Result<T, Fail>) -> Result<T, Fail> {
        if let Err(Fail::Db(e) | Fail::Commit(e)) = &result {
            self.reach.saw(e);
        }
        result
    }

    /// Runs `work` in a transaction and commits it, trying again when the database aborted it
    /// to keep transactions serializable (or broke a deadlock), or when the connection had
    /// broken before the commit was sent. A failed commit is never retried: whether it
    /// committed is unknown.
    pub(super) fn transact<T>(
        &self,
        mut work: impl FnMut(&mut Session<'_, postgres::Transaction<'_>>) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        let mut attempt = 1;
        loop {
            let result = (|| {
                let mut conn = self.get()?;
                let Conn { client, statements } = &mut *conn;
                let mut tx = client.transaction()?;
                let value = work(&mut Session {
                    client: &mut tx,
                    statements,
                })?;
                tx.commit().map_err(Fail::Commit)?;
                Ok(value)
            })();
            let result = self.observe(result);
            match result {
                Ok(value) => return Ok(value),
                Err(Fail::Db(e)) if attempt < ATTEMPTS && retryable(&e) => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Runs `work`, one statement that writes, committed on its own: one round trip, and no
    /// lock it takes is held while the relay sends another statement. (The client returns
    /// only at the server's ReadyForQuery, which follows the commit and its WAL flush.) Tried
    /// again only when the database says it did not commit it (a serialization failure or a
    /// deadlock), never on a connection that broke: whether it committed is then unknown.
    /// Statements after the writing one, if any, only read.
    pub(super) fn write<T>(
        &self,
        work: impl FnMut(&mut Session<'_, Client>) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        self.autocommit(work, aborted).map_err(Into::into)
    }

    /// As [`Pool::write`], saying how it failed: [`Fail::Commit`] when the database did not
    /// answer once the statement was on its way (it may have committed), [`Fail::Db`] when it
    /// refused it (rolled back).
    pub(super) fn write_failing<T>(
        &self,
        work: impl FnMut(&mut Session<'_, Client>) -> Result<T, Fail>,
    ) -> Result<T, Fail> {
        self.autocommit(work, aborted).map_err(|e| match e {
            Fail::Db(e) if e.as_db_error().is_none() => Fail::Commit(e),
            e => e,
        })
    }

    /// Runs `work`, a read, outside an explicit transaction (each statement sees what had
    /// committed when it started), trying again on a connection that broke.
    pub(super) fn read<T>(
        &self,
        work: impl FnMut(&mut Session<'_, Client>) -> Result<T, Fail>,
    ) -> Result<T, StoreError> {
        self.autocommit(work, retryable).map_err(Into::into)
    }

    /// Runs `work` outside an explicit transaction, again while it fails with an error that
    /// `again` accepts, up to [`ATTEMPTS`] in all.
    fn autocommit<T>(
        &self,
        mut work: impl FnMut(&mut Session<'_, Client>) -> Result<T, Fail>,
        again: fn(&postgres::Error) -> bool,
    ) -> Result<T, Fail> {
        let mut attempt = 1;
        loop {
            let result = (|| {
                let mut conn = self.get()?;
                let Conn { client, statements } = &mut *conn;
                work(&mut Session { client, statements })
            })();
            let result = self.observe(result);
            match result {
                Ok(value) => return Ok(value),
                Err(Fail::Db(e)) if attempt < ATTEMPTS && again(&e) => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Whether a transaction that failed with `e` may be run again from the start.
fn retryable(e: &postgres::Error) -> bool {
    e.is_closed() || aborted(e)
}

/// Whether the database aborted the transaction to keep transactions serializable or to break
/// a deadlock: nothing of it committed.
fn aborted(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
        || e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED)
}

/// One connection's statements, in a transaction or not.
pub(super) struct Session<'a, C> {
    client: &'a mut C,
    statements: &'a mut HashMap<&'static str, Statement>,
}

impl<C: GenericClient> Session<'_, C> {
    fn statement(&mut self, sql: &'static str) -> Result<Statement, Fail> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Every row `sql` returns.
    pub(super) fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Fail> {
        let statement = self.statement(sql)?;
        Ok(self.client.query(&statement, params)?)
    }

    /// The one row `sql` returns, if any.
    pub(super) fn query_opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Fail> {
        let statement = self.statement(sql)?;
        Ok(self.client.query_opt(&statement, params)?)
    }

    /// How many rows `sql` changed.
    pub(super) fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Fail> {
        let statement = self.statement(sql)?;
        Ok(self.client.execute(&statement, params)?)
    }

    /// Runs statements that take no parameters (migrations).
    pub(super) fn batch(&mut self, sql: &str) -> Result<(), Fail> {
        Ok(self.client.batch_execute(sql)?)
    }
}

/// Why a transaction stopped.
#[derive(Debug)]
pub(super) enum Fail {
    /// The store's answer (not found, a quota, …): the transaction rolls back.
    Store(StoreError),
    /// A statement failed; retried if [`retryable`].
    Db(postgres::Error),
    /// The commit failed, or a statement committed on its own went unanswered
    /// ([`Pool::write_failing`]): whether it committed is unknown, so it is never retried.
    Commit(postgres::Error),
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

impl From<Fail> for StoreError {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Store(e) => e,
            Fail::Db(e) | Fail::Commit(e) => StoreError::Backend(words(&e)),
        }
    }
}

/// A database error in words, without the detail PostgreSQL adds (which can quote key values,
/// mailbox IDs among them).
pub(super) fn words(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

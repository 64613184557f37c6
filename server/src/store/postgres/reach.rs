//! Whether the database can be reached, as last observed, for `GET /v1/health`.
//!
//! Health must stay as cheap as a request can be (it is the throughput benchmark's ceiling, and
//! a balancer probes it often), so it never queries: it reads a flag. A thread of the store's
//! own pings the database once a second over a connection of its own (outside the pool, so that
//! a pool busy with requests never looks like a database that is down) and sets the flag; a
//! request that meets a broken connection or cannot get one clears it at once
//! ([`Reach::saw`]). The thread stops within a second of the store being dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use postgres::error::SqlState;

use super::connect::{Conn, Manager};

/// How often the database is pinged.
const EVERY: Duration = Duration::from_secs(1);

/// The shared flag: `true` while the database answered the last ping and no request has
/// failed to reach it since.
#[derive(Clone)]
pub(super) struct Reach {
    up: Arc<AtomicBool>,
}

impl Reach {
    /// Up: the pool has just connected.
    pub(super) fn new() -> Self {
        Self {
            up: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Whether the database answered when last tried.
    pub(super) fn up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Marks the database down.
    pub(super) fn down(&self) {
        if self.up() {
            tracing::warn!("the database cannot be reached; health answers 503 until it can");
            self.up.store(false, Ordering::Relaxed);
        }
    }

    /// Marks the database down if `e` says it could not be reached (a broken or refused
    /// connection, or a server shutting down), rather than that a statement failed.
    pub(super) fn saw(&self, e: &postgres::Error) {
        if unreachable(e) {
            self.down();
        }
    }

    /// Starts the thread that pings the database every second over a connection of its own.
    pub(super) fn watch(&self, manager: Manager) -> std::io::Result<()> {
        let flag = Arc::downgrade(&self.up);
        std::thread::Builder::new()
            .name("candor-pg-ping".into())
            .spawn(move || ping_loop(&flag, &manager))
            .map(drop)
    }
}

/// Whether `e` means the database could not be reached: a closed connection, an I/O error on
/// it, or a server shutting down or not yet accepting connections. Not a statement that failed
/// or a column that did not convert.
fn unreachable(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
        }
        None => std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
    }
}

fn ping_loop(flag: &Weak<AtomicBool>, manager: &Manager) {
    let mut conn: Option<Conn> = None;
    loop {
        std::thread::sleep(EVERY);
        // The store is gone: so is this thread (and its connection with it).
        let Some(up) = flag.upgrade() else {
            return;
        };
        let answered = ping(&mut conn, manager);
        if answered != up.load(Ordering::Relaxed) {
            if answered {
                tracing::info!("the database answers again; health answers 200");
            } else {
                tracing::warn!("the database does not answer; health answers 503 until it does");
            }
            up.store(answered, Ordering::Relaxed);
        }
    }
}

/// One round trip on the ping connection, connecting first if it has none; a connection that
/// failed is dropped, to be made anew at the next ping.
fn ping(conn: &mut Option<Conn>, manager: &Manager) -> bool {
    if conn.is_none() {
        *conn = r2d2::ManageConnection::connect(manager).ok();
    }
    let answered = conn.as_mut().is_some_and(Conn::ping);
    if !answered {
        *conn = None;
    }
    answered
}

//! Bounded envelope fetches (issue 20, finding 2). A page of envelopes is built in memory and
//! held until the client has read it, so a client that asks and never reads holds a page's
//! memory for as long as it keeps the connection. Three bounds keep that in check:
//!
//! - a page is capped by bytes (`fetch_page_bytes`, continued with `next`), in the store;
//! - one mailbox may have only `fetches_per_mailbox` pages in flight at once (429 beyond);
//! - all pages in flight together may hold at most `fetch_bytes_in_flight` (503 beyond);
//!
//! and a page not sent within `fetch_send_timeout_secs` is dropped, with its share of both
//! bounds, and its connection closed at the next write. actix-web has no write timeout of its
//! own: its `client_request_timeout` covers reading the request head, and
//! `client_disconnect_timeout` only the shutdown of a connection.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use candor_protocol::MailboxId;

use crate::error::ApiError;

/// The largest piece of a page handed to actix at once; actix copies it into its write buffer,
/// so little more than this is held outside the page itself.
const CHUNK: usize = 16 * 1024;

#[derive(Default)]
struct Counts {
    per_mailbox: HashMap<MailboxId, u32>,
    bytes: usize,
}

/// The fetches in flight.
pub struct Fetches {
    counts: Mutex<Counts>,
    per_mailbox: u32,
    budget: usize,
    send_timeout: Duration,
}

impl Fetches {
    /// At most `per_mailbox` pages of one mailbox in flight, `budget` bytes in all, each sent
    /// within `send_timeout`.
    pub fn new(per_mailbox: u32, budget: usize, send_timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            counts: Mutex::default(),
            per_mailbox: per_mailbox.max(1),
            budget,
            send_timeout,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        // Two counters changed in whole steps that cannot panic halfway.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes one of `mailbox`'s fetch slots, before its page is read.
    pub fn begin(self: &Arc<Self>, mailbox: MailboxId) -> Result<Slot, ApiError> {
        let mut counts = self.lock();
        let n = counts.per_mailbox.entry(mailbox).or_insert(0);
        if *n >= self.per_mailbox {
            return Err(ApiError::QuotaExceeded(
                "this mailbox has as many fetches in flight as the relay allows; read them, then retry",
            ));
        }
        *n += 1;
        Ok(Slot {
            fetches: self.clone(),
            mailbox,
            bytes: 0,
        })
    }

    /// Bytes held by pages in flight.
    pub fn bytes_in_flight(&self) -> usize {
        self.lock().bytes
    }
}

/// One fetch in flight: a slot of its mailbox and the bytes of its page, given back on drop.
pub struct Slot {
    fetches: Arc<Fetches>,
    mailbox: MailboxId,
    bytes: usize,
}

impl Slot {
    /// Counts a page of `len` bytes against the relay's budget, then makes it the body that
    /// holds this slot until it is sent, dropped or timed out.
    pub fn body(mut self, page: Vec<u8>) -> Result<TimedBody, ApiError> {
        {
            let mut counts = self.fetches.lock();
            if counts.bytes.saturating_add(page.len()) > self.fetches.budget {
                tracing::warn!("fetches in flight hold the whole budget; refusing fetches");
                return Err(ApiError::Unavailable);
            }
            counts.bytes += page.len();
        }
        self.bytes = page.len();
        let size = page.len() as u64;
        let timeout = self.fetches.send_timeout;
        let held = Arc::new(Mutex::new(Some(Held {
            page: Bytes::from(page),
            _slot: self,
        })));
        let expire = held.clone();
        let timer = actix_web::rt::spawn(async move {
            actix_web::rt::time::sleep(timeout).await;
            // The page, and its share of the bounds, go now; the body errs at its next poll.
            drop(lock_held(&expire).take());
        });
        Ok(TimedBody {
            held,
            size,
            done: false,
            timer,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.fetches.lock();
        counts.bytes = counts.bytes.saturating_sub(self.bytes);
        if let Some(n) = counts.per_mailbox.get_mut(&self.mailbox) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_mailbox.remove(&self.mailbox);
            }
        }
    }
}

struct Held {
    /// What is left to send.
    page: Bytes,
    _slot: Slot,
}

fn lock_held(held: &Mutex<Option<Held>>) -> MutexGuard<'_, Option<Held>> {
    // An `Option` replaced in whole steps.
    held.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A page's body: handed out in chunks, and an error once its send deadline has passed.
pub struct TimedBody {
    held: Arc<Mutex<Option<Held>>>,
    size: u64,
    done: bool,
    timer: tokio::task::JoinHandle<()>,
}

impl MessageBody for TimedBody {
    type Error = std::io::Error;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.size)
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let mut held = lock_held(&self.held);
        let Some(h) = held.as_mut() else {
            drop(held);
            self.done = true;
            return Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the page was not read in time",
            ))));
        };
        let chunk = h.page.split_to(h.page.len().min(CHUNK));
        if h.page.is_empty() {
            // Sent: the slot and the budget are free again.
            *held = None;
            drop(held);
            self.done = true;
        }
        Poll::Ready(Some(Ok(chunk)))
    }
}

impl Drop for TimedBody {
    fn drop(&mut self) {
        self.timer.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(n: u8) -> MailboxId {
        MailboxId::from_bytes([n; 16])
    }

    #[test]
    fn a_mailbox_has_only_so_many_fetches_in_flight_and_gets_them_back() {
        // Arrange
        let fetches = Fetches::new(2, 1 << 20, Duration::from_secs(60));

        // Act
        let a = fetches.begin(mailbox(1)).unwrap();
        let b = fetches.begin(mailbox(1)).unwrap();
        let third = fetches.begin(mailbox(1));
        let other = fetches.begin(mailbox(2));
        drop(a);
        let again = fetches.begin(mailbox(1));

        // Assert
        assert!(matches!(third, Err(ApiError::QuotaExceeded(_))));
        assert!(other.is_ok());
        assert!(again.is_ok());
        drop(b);
    }

    #[actix_web::test]
    async fn pages_in_flight_stay_within_the_budget_and_free_it_when_sent() {
        // Arrange
        let fetches = Fetches::new(8, 100_000, Duration::from_secs(60));
        let first = fetches.begin(mailbox(1)).unwrap().body(vec![b'x'; 60_000]);

        // Act
        let over = fetches.begin(mailbox(2)).unwrap().body(vec![b'y'; 60_000]);
        let held = fetches.bytes_in_flight();
        let sent = actix_web::body::to_bytes(first.unwrap()).await.unwrap();

        // Assert
        assert!(matches!(over, Err(ApiError::Unavailable)));
        assert_eq!(held, 60_000);
        assert_eq!(sent.len(), 60_000);
        assert_eq!(fetches.bytes_in_flight(), 0);
        assert!(
            fetches
                .begin(mailbox(2))
                .unwrap()
                .body(vec![0; 60_000])
                .is_ok()
        );
    }
}

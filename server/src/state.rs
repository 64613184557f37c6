//! What every handler shares: the relay's state, built once by [`crate::startup`] and handed
//! to each request. It holds no route and no document of its own, so that the routes, the
//! sweeper and the OpenAPI document can all depend on it without depending on each other.

use std::sync::Arc;

use candor_protocol::pow::PowKey;

use crate::auth::ReplayCache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::durability::Durability;
use crate::fetch::Fetches;
use crate::invite::InviteKey;
use crate::metrics::Metrics;
use crate::store::Store;

/// What every handler shares.
pub struct AppState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The group-commit flusher.
    pub durability: Durability,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// MACs proof-of-work challenges.
    pub pow_key: PowKey,
    /// MACs registration invites.
    pub invite_key: InviteKey,
    /// Request IDs seen within the window.
    pub replay: ReplayCache,
    /// The settings.
    pub settings: Settings,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Envelope pages in flight, bounded.
    pub fetches: Arc<Fetches>,
    /// When the store's size was last measured (Unix seconds), and the size then plus what
    /// was accepted since (`routes::storage_room`).
    pub store_size: std::sync::Mutex<(u64, u64)>,
    /// Unix seconds when the relay started; older signed requests are refused.
    pub started: u64,
    /// The OpenAPI document, rendered once at startup (`crate::openapi`), which
    /// `GET /v1/openapi.json` serves as it is.
    pub openapi: String,
}

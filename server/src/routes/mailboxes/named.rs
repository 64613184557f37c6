//! A fetch signed by the key it names (`Candor-Key`, `docs/protocol.md` §8). The signature is
//! checked under that key before the store is read, so the store can check the key, keep the
//! replay entry and read the page in one step (on PostgreSQL, one batched statement) where a
//! request that names no key needs two: its key looked up, then its page read.
//!
//! What the answer shows does not change: a key that is not the mailbox's, for this signer,
//! is `not-found`, byte for byte as an unknown mailbox, and nothing is remembered or read for
//! it. The mailbox's fetch slot is taken once the page is read, since only then is the request
//! known to be the mailbox's own: a slot taken before would let anyone's key hold it.

use actix_web::HttpResponse;
use candor_protocol::MailboxId;

use super::authorize::Named;
use super::envelope_page;
use crate::error::ApiError;
use crate::routes::store_error;
use crate::state::AppState;
use crate::store::KeyedPage;

/// `GET /v1/mailboxes/{mailbox}/envelopes` for a request that named its key.
pub(super) async fn list(
    state: &AppState,
    named: Named,
    id: MailboxId,
    after: u64,
    limit: usize,
) -> Result<HttpResponse, ApiError> {
    let max_bytes = state.settings.fetch_page_bytes;
    let page = state
        .store
        .page_for_key(
            named.entry,
            id,
            named.signer,
            named.key,
            after,
            limit,
            max_bytes,
        )
        .await
        .map_err(store_error)?;
    let (envelopes, closed) = match page {
        KeyedPage::NotFound => return Err(ApiError::NotFound),
        KeyedPage::Replayed => return Err(ApiError::ReplayedRequest),
        KeyedPage::Page { envelopes, closed } => (envelopes, closed),
    };
    // The request is remembered by now, so a refusal here is refused as a replay if sent again.
    let slot = state.fetches.begin(id)?;
    let body = slot.body(envelope_page(&envelopes, after, closed))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

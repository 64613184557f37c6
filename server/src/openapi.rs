//! The OpenAPI 3.1 document served at `GET /v1/openapi.json` (utoipa): it only collects the
//! routes' annotations (`crate::routes`) and the schemas (`crate::schema`: the protocol's
//! derived body schemas and the relay's parameters). The relay renders it once at startup into
//! its state, so that no route depends on it.

use utoipa::OpenApi;

#[allow(clippy::wildcard_imports)]
use crate::schema::*;

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Candor relay",
        version = "1",
        description = "The relay of Candor, an anonymous end-to-end encrypted channel between visitors and an ombuds office. It stores only ciphertext. See docs/protocol.md §8 for request signatures, §9 for the proof of work and §11 for this API."
    ),
    paths(
        crate::routes::service::health,
        crate::routes::service::limits,
        crate::routes::service::openapi,
        crate::routes::pow::challenge,
        crate::routes::offices::register,
        crate::routes::offices::fetch,
        crate::routes::offices::update,
        crate::routes::offices::inbox,
        crate::routes::batch::envelopes,
        crate::routes::batch::markers,
        crate::routes::tallies::list,
        crate::routes::mailboxes::open,
        crate::routes::mailboxes::append,
        crate::routes::mailboxes::list,
        crate::routes::mailboxes::delete,
        crate::routes::cases::close,
        crate::routes::cases::marker,
        crate::routes::notes::put,
        crate::routes::notes::list,
        crate::routes::handoffs::consent,
        crate::routes::handoffs::agree,
        crate::routes::handoffs::fetch,
        crate::routes::handoffs::status,
        crate::routes::handoffs::revoke,
        crate::routes::channels::open,
        crate::routes::channels::notices,
        crate::routes::channels::append,
        crate::routes::channels::list,
    ),
    components(schemas(
        Problem, Health, SignedCard, RegisterOffice, OfficeSaved, Challenge, Solution,
        OpenMailbox, MailboxOpened, Direction, Envelope, Appended, StoredEnvelope, EnvelopePage,
        InboxEntry, InboxPage, Stanza, Limits, Versions, CloseMailbox, Closed, Marker, PutHandoff,
        Package, KeyShare, Agreement, Fetch, Fetched, HandoffStatus, Revocation, StoredTally,
        TallyPage, Notice, OpenChannel, ChannelOpened, PostedNotice, NoticePage, ChannelPage,
        PutNote, NoteStored, StoredNote, NotePage, HandoffState, Party, BatchFetch, CaseCursor,
        BatchPage, CasePage, BatchMarkers, CaseMarker, MarkersSet
    )),
    tags(
        (name = "service", description = "Health and this document. Metrics are served on a separate listener, not here."),
        (name = "offices", description = "Office cards, the office's inbox and its sealed tallies."),
        (name = "mailboxes", description = "Proof of work and the cases' mailboxes."),
        (name = "handoffs", description = "Handoff for informal resolution: consent, agreement, the third party's fetch, state and revocation; each handoff's channel and the notice board."),
    )
)]
pub struct ApiDoc;

/// The document as JSON, as `GET /v1/openapi.json` serves it.
pub fn document() -> String {
    ApiDoc::openapi().to_json().unwrap_or_default()
}

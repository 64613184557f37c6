//! The schemas of the office's tallies: the page `GET /v1/offices/{office}/tallies` answers
//! and its query.

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// The query of a tally listing.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct TallyQuery {
    /// Return tallies with an ID above this one (default: from the first).
    #[param(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    after: Option<String>,
    /// At most this many tallies, 1 to 1000 (default 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// One stored tally.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct StoredTally {
    /// The tally's random ID: 16 bytes, base64url.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    id: String,
    /// The sealed tally: 232 bytes, base64url.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{309}[AQgw]$",
        min_length = 310,
        max_length = 310
    )]
    sealed: String,
}

/// A page of an office's tallies, in ID order.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct TallyPage {
    /// Tallies with an ID above the cursor.
    tallies: Vec<StoredTally>,
    /// The cursor for the next page, or null when this page is the last.
    #[schema(
        nullable,
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    next: Option<String>,
}

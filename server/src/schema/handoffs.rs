//! Schemas of the handoff endpoints (`docs/protocol.md` §11, "Handoffs"), with the exact
//! pattern and length of every field.

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// A handoff in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct HandoffPath {
    /// The handoff ID: 16 bytes as 22 base64url characters.
    #[param(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    handoff: String,
}

/// The sealed package.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Package {
    /// Format version: 2.
    #[schema(minimum = 2, maximum = 2)]
    v: u64,
    /// HPKE encapsulated key of the office's half, 32 bytes.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    office_enc: String,
    /// ChaCha20-Poly1305 ciphertext of the padded disclosure, base64url.
    #[schema(pattern = "^[A-Za-z0-9_-]+$", min_length = 22)]
    ct: String,
}

/// One party's key half, sealed to the third party.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct KeyShare {
    /// `visitor` or `office`.
    #[schema(pattern = "^(visitor|office)$")]
    party: String,
    /// HPKE encapsulated key, 32 bytes.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    enc: String,
    /// HPKE ciphertext of the 32-byte half (48 bytes).
    #[schema(pattern = "^[A-Za-z0-9_-]{64}$", min_length = 64, max_length = 64)]
    ct: String,
}

/// `PUT /v1/handoffs/{handoff}`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PutHandoff {
    /// Format version: 2.
    #[schema(minimum = 2, maximum = 2)]
    v: u64,
    /// The case's mailbox ID.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    mailbox: String,
    /// SHA-256 of the consented proposal's bytes.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    proposal_sha256: String,
    /// The case key's consent, 64 bytes.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{85}[AQgw]$",
        min_length = 86,
        max_length = 86
    )]
    consent: String,
    /// The proposal's last day (days since 1970-01-01), today to 365 days ahead.
    #[schema(minimum = 0)]
    expires: u32,
    /// The sealed package.
    package: Package,
    /// The visitor's share.
    share: KeyShare,
}

/// `POST /v1/handoffs/{handoff}/agreement`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Agreement {
    /// Format version: 2.
    #[schema(minimum = 2, maximum = 2)]
    v: u64,
    /// The office key's agreement, 64 bytes.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{85}[AQgw]$",
        min_length = 86,
        max_length = 86
    )]
    agreement: String,
    /// The office's share.
    share: KeyShare,
    /// The third party's Ed25519 fetch key for this handoff, 32 bytes.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$",
        min_length = 43,
        max_length = 43
    )]
    fetch_key: String,
}

/// `POST /v1/handoffs/{handoff}/fetch`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Fetch {
    /// Format version: 2.
    #[schema(minimum = 2, maximum = 2)]
    v: u64,
}

/// The answer to a fetch.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Fetched {
    /// The case's mailbox ID.
    mailbox: String,
    /// The sealed package.
    package: Package,
    /// The visitor's share.
    visitor_share: KeyShare,
    /// The office's share.
    office_share: KeyShare,
    /// The visitor's consent, 64 bytes.
    consent: String,
    /// The office's agreement, 64 bytes.
    agreement: String,
}

/// Where a handoff stands.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct HandoffStatus {
    /// `consented`, `agreed`, `fetched` or `revoked`.
    #[schema(pattern = "^(consented|agreed|fetched|revoked)$")]
    state: String,
    /// The day of the last change.
    day: u32,
    /// The proposal's last day.
    expires: u32,
}

/// `POST /v1/handoffs/{handoff}/revocation`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Revocation {
    /// The handoff revoked.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
        min_length = 22,
        max_length = 22
    )]
    id: String,
    /// `visitor` (signed with the case key) or `office`.
    #[schema(pattern = "^(visitor|office)$")]
    by: String,
    /// Ed25519 over `HANDOFF_REVOCATION || id || party`, 64 bytes.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{85}[AQgw]$",
        min_length = 86,
        max_length = 86
    )]
    signature: String,
}

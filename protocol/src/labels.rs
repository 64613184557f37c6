//! Every domain-separation label used by Candor, in one place. `docs/protocol.md` lists the same
//! strings; a label never changes meaning within a protocol version.

/// Fingerprint of an Ed25519 identity key: `SHA-256(FINGERPRINT || public key)`.
pub const FINGERPRINT: &[u8] = b"candor/v1/fingerprint";
/// HKDF info for the case's X25519 KEM key seed.
pub const CASE_KEM: &[u8] = b"candor/v1/case-kem";
/// HKDF info for the case's Ed25519 signing key seed.
pub const CASE_SIGN: &[u8] = b"candor/v1/case-sign";
/// The case's mailbox ID: the first 16 bytes of `SHA-256(MAILBOX_ID || signing key || KEM
/// key)`, so that the ID certifies the case's public keys (v1 drew it from HKDF instead).
pub const MAILBOX_ID: &[u8] = b"candor/v2/mailbox-id";
/// HPKE `info` prefix for an envelope's key stanza; followed by the direction byte, the mailbox
/// ID and the stanza's role byte.
pub const SEAL_INFO: &[u8] = b"candor/v2/seal";
/// Prefix of a stanza's HPKE AAD: the header, the role, the commitment and the payload's hash.
pub const STANZA_AAD: &[u8] = b"candor/v2/stanza";
/// Prefix of the envelope header that is the payload's AEAD AAD.
pub const ENVELOPE_AAD: &[u8] = b"candor/v2/envelope";
/// HKDF info turning an envelope's content key into its payload's ChaCha20-Poly1305 key.
pub const PAYLOAD_KEY: &[u8] = b"candor/v2/payload-key";
/// HKDF info turning an envelope's content key into the commitment its header carries.
pub const PAYLOAD_COMMIT: &[u8] = b"candor/v2/payload-commit";
/// Ed25519 signature on every message, by its author (the case key, the office or a third
/// party).
pub const MESSAGE_SIGNATURE: &[u8] = b"candor/v2/message-signature";
/// Ed25519 signature on an office card.
pub const OFFICE_CARD: &[u8] = b"candor/v1/office-card";
/// Ed25519 signature on a third-party card.
pub const THIRD_PARTY_CARD: &[u8] = b"candor/v1/third-party-card";
/// Ed25519 signature on a relay request.
pub const REQUEST: &[u8] = b"candor/v1/request";
/// HMAC-SHA256 over a proof-of-work challenge.
pub const POW_MAC: &[u8] = b"candor/v1/pow-challenge";
/// Prefix hashed with a proof-of-work solution.
pub const POW_SOLUTION: &[u8] = b"candor/v1/pow-solution";
/// Visitor's consent signature on a handoff proposal.
pub const HANDOFF_CONSENT: &[u8] = b"candor/v1/handoff-consent";
/// Office's agreement signature on a handoff proposal.
pub const HANDOFF_AGREEMENT: &[u8] = b"candor/v1/handoff-agreement";
/// Revocation of a handoff by either side.
pub const HANDOFF_REVOCATION: &[u8] = b"candor/v1/handoff-revocation";
/// HPKE `info` for a sealed handoff key share.
pub const HANDOFF_SHARE: &[u8] = b"candor/v1/handoff-share";
/// HKDF info turning the combined shares into the package key.
pub const HANDOFF_PACKAGE_KEY: &[u8] = b"candor/v1/handoff-package-key";
/// HMAC-SHA256 over a relay registration invite.
pub const INVITE: &[u8] = b"candor/v1/invite";
/// HKDF info deriving the relay's PoW MAC key from its secret file.
pub const RELAY_POW_KEY: &[u8] = b"candor/v1/relay-pow-key";
/// HKDF info deriving the relay's invite MAC key from its secret file.
pub const RELAY_INVITE_KEY: &[u8] = b"candor/v1/relay-invite-key";
/// HPKE `info` prefix for the office's read marker of a case; followed by the mailbox ID.
pub const READ_MARKER: &[u8] = b"candor/v2/read-marker";
/// HKDF info deriving the office's read-marker key (`crate::marker`, form 3) from its identity.
pub const READ_MARKER_KEY: &[u8] = b"candor/v3/read-marker-key";
/// AAD prefix of a read marker of form 3; followed by the mailbox ID.
pub const READ_MARKER_AAD: &[u8] = b"candor/v3/read-marker";
/// Salted commitment to the visitor's identity in a handoff proposal: `SHA-256(HANDOFF_IDENTITY
/// || handoff id || salt || identity)`.
pub const HANDOFF_IDENTITY: &[u8] = b"candor/v2/handoff-identity";
/// HPKE `info` prefix (base mode, to the office's KEM key) from which the office's half of a
/// package key is exported; followed by the handoff ID.
pub const HANDOFF_OFFICE_KEY: &[u8] = b"candor/v2/handoff-office-key";
/// HPKE `info` of a handoff notice (base mode, to the third party's KEM key).
pub const HANDOFF_NOTICE: &[u8] = b"candor/v2/handoff-notice";
/// HKDF info deriving the office's notice seed of a handoff from its KEM secret.
pub const HANDOFF_SEED: &[u8] = b"candor/v2/handoff-seed";
/// HKDF info deriving the third party's fetch key of a handoff from the notice seed.
pub const HANDOFF_FETCH_KEY: &[u8] = b"candor/v2/handoff-fetch-key";
/// HKDF info deriving a handoff's channel ID from the notice seed.
pub const HANDOFF_CHANNEL_ID: &[u8] = b"candor/v2/handoff-channel-id";
/// HKDF info deriving the third party's channel key of a handoff from the notice seed.
pub const HANDOFF_CHANNEL_KEY: &[u8] = b"candor/v2/handoff-channel-key";
/// AAD prefix of a sealed handoff package; followed by the handoff ID.
pub const HANDOFF_PACKAGE: &[u8] = b"candor/v2/handoff-package";
/// HKDF info turning the office's records key into the XChaCha20-Poly1305 key of its tallies.
pub const TALLY_KEY: &[u8] = b"candor/v1/tally-key";
/// Prefix of a sealed tally's AAD; followed by the office ID.
pub const TALLY_AAD: &[u8] = b"candor/v1/tally";
/// HPKE `info` prefix for an ombuds' note on a case, sealed by the office to itself (auth
/// mode); followed by the mailbox ID.
pub const CASE_NOTE: &[u8] = b"candor/v2/case-note";

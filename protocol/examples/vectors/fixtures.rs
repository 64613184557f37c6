//! The fixed inputs every vector file draws from: keys, a codename, a card and a clock, each
//! derived from a name so that no value is a pattern and none is random.

use candor_protocol::card::{OFFICE_CARD_VERSION, OfficeCard, Policy, Resource};
use candor_protocol::{Choice, Codename, Day, Identity};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The verifier's clock in every vector: 2026-12-01T00:00:00Z, in Unix seconds.
pub const NOW: u64 = 1_796_083_200;

/// The relay every genuine card names; it has a path, as a relay behind a reverse proxy does.
pub const RELAY: &str = "https://relay.example.edu/candor";

/// 32 bytes named `name`: `SHA-256("candor/vectors/" || name)`.
pub fn bytes32(name: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"candor/vectors/");
    h.update(name.as_bytes());
    h.finalize().into()
}

/// The first 16 bytes of [`bytes32`].
pub fn bytes16(name: &str) -> [u8; 16] {
    let mut out = [0; 16];
    out.copy_from_slice(&bytes32(name)[..16]);
    out
}

/// The identity named `name`: its Ed25519 seed is `bytes32(name/signing)`, its X25519 secret
/// `bytes32(name/kem)`.
pub fn identity(name: &str) -> Identity {
    let mut secret = [0; 64];
    secret[..32].copy_from_slice(&bytes32(&format!("{name}/signing")));
    secret[32..].copy_from_slice(&bytes32(&format!("{name}/kem")));
    Identity::from_secret_bytes(&secret)
}

/// The office of every vector.
pub fn office() -> Identity {
    identity("office")
}

/// Another office, or anyone who is not the office.
pub fn impostor() -> Identity {
    identity("impostor")
}

/// The codename of every case in the vectors.
pub fn codename() -> Codename {
    Codename::from_entropy(bytes16("codename"))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> Value {
    Value::from(hex::encode(bytes))
}

/// Unpadded base64url.
pub fn b64(bytes: &[u8]) -> Value {
    Value::from(candor_protocol::encoding::b64(bytes))
}

/// The identity's secret and public keys, as a group lists them.
pub fn keys_of(identity: &Identity) -> Value {
    serde_json::json!({
        "signingSeed": hex(identity.signing().to_seed().as_ref()),
        "signingPublicKey": hex(&identity.signing().public_key().to_bytes()),
        "kemSecretKey": hex(identity.kem().to_bytes().as_ref()),
        "kemPublicKey": hex(&identity.kem().public_key().to_bytes()),
        "fingerprint": identity.fingerprint().to_string(),
    })
}

/// The office card of `identity`, valid for a year from [`NOW`], naming [`RELAY`].
pub fn card(identity: &Identity) -> OfficeCard {
    OfficeCard {
        v: OFFICE_CARD_VERSION.into(),
        serial: 7,
        expires: Day::from_unix(NOW).plus(365),
        id: "ombuds".parse().unwrap(),
        name: "Example University Ombuds Office".into(),
        relay: RELAY.parse().unwrap(),
        signing_key: identity.signing().public_key().to_bytes(),
        kem_key: identity.kem().public_key().to_bytes(),
        policy: Policy {
            confidentiality: "We do not disclose who you are or what you tell us without your \
                              permission."
                .into(),
            exception: "Unless there is an imminent risk of serious harm.".into(),
            not_notice: "Talking to us is not notice to the university.".into(),
            retention: "Cases are deleted 90 days after their last message.".into(),
        },
        retention_days: 90,
        reply_within_days: 3,
        close_grace_days: 14,
        categories: vec![
            Choice::new("career", "Career progression").unwrap(),
            Choice::new("peer", "Peer and colleague relationships").unwrap(),
        ],
        constituencies: vec![
            Choice::new("student", "Student").unwrap(),
            Choice::new("staff", "Staff").unwrap(),
        ],
        outcomes: vec![Choice::new("resolved", "Resolved").unwrap()],
        resources: vec![Resource {
            id: "counseling".parse().unwrap(),
            name: "Counseling and Crisis Support".into(),
            description: "Free, confidential counseling.".into(),
            contact: Some("Health Center, room 2".into()),
            url: None,
            confidential: true,
            audience: vec!["student".parse().unwrap()],
            urgent: true,
        }],
    }
}

//! Handoff object decoding: proposals, key shares, revocations and package layers.
#![no_main]

use candor_protocol::HandoffId;
use candor_protocol::handoff::{KeyShare, Party, Proposal, Revocation, open_layer};
use candor_protocol::{KemSecretKey, SigningSecretKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Proposal::from_json(data) {
        let again = Proposal::from_json(&p.to_json()).expect("re-encoded proposal decodes");
        assert_eq!(again, p);
    }
    let id = HandoffId::from_bytes([1; 16]);
    if let Ok(share) = serde_json::from_slice::<KeyShare>(data) {
        let me = KemSecretKey::from_bytes(&[2; 32]);
        let them = KemSecretKey::from_bytes(&[4; 32]).public_key();
        let _ = share.open(&id, &me, &them);
    }
    if let Ok(r) = serde_json::from_slice::<Revocation>(data) {
        let key = SigningSecretKey::from_seed(&[5; 32]).public_key();
        assert!(r.verify(&key).is_err(), "a forged revocation verified");
    }
    let _ = open_layer(&[6; 32], &id, Party::Office, data);
});

//! Handoff object decoding: proposals, key shares, revocations, packages, disclosures,
//! notices, and the channel and notice-board bodies.
#![no_main]

use candor_protocol::HandoffId;
use candor_protocol::api::channels::{ChannelPage, NoticePage, OpenChannel};
use candor_protocol::handoff::{Disclosure, KeyShare, Notice, Package, Proposal, Revocation};
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
    if let Ok(package) = serde_json::from_slice::<Package>(data) {
        assert!(package.open(&id, &[6; 32], &[7; 32]).is_err(), "a forged package opened");
        let _ = package.office_key(&id, &KemSecretKey::from_bytes(&[8; 32]));
    }
    if let Ok(d) = serde_json::from_slice::<Disclosure>(data) {
        assert!(d.verify(&id, &[9; 32], &[0; 64]).is_err(), "a forged disclosure verified");
    }
    if let Ok(n) = serde_json::from_slice::<Notice>(data) {
        let _ = n.open(&KemSecretKey::from_bytes(&[2; 32]));
    }
    if let Ok(open) = serde_json::from_slice::<OpenChannel>(data) {
        let again: OpenChannel =
            serde_json::from_slice(&serde_json::to_vec(&open).unwrap()).expect("re-encodes");
        assert_eq!(again, open);
    }
    let _ = serde_json::from_slice::<NoticePage>(data);
    let _ = serde_json::from_slice::<ChannelPage>(data);
});
